//! What each subcommand does.

use crate::async_runtime::runtime;
use crate::cli::{
    Cli, Command, ConfigArgs, ConfigCommand, DemoArgs, EsCommand, EsSetupArgs, EvalArgs, Format,
    RunArgs,
};
use crate::logging::LogControl;
use crate::serve::{self, Busy};
use anyhow::Context;
use lagwatch_lib::component::FromConfig;
use lagwatch_lib::config::{Config, SinkConfig, SourceConfig, StdoutFormat};
use lagwatch_lib::core::eval_input::{self, EvalInput};
use lagwatch_lib::import::{ConfigImport, TelegrafImportError};
use lagwatch_lib::runtime::{CancellationToken, PipelineBuilder, RunSummary};
use std::io::Read;
use std::path::{Path, PathBuf};
use std::process::ExitCode;

/// Runs the chosen subcommand.
pub fn dispatch(cli: Cli, logs: LogControl) -> anyhow::Result<ExitCode> {
    match cli.command {
        Command::Demo(args) => demo(args, logs),
        Command::Run(args) => run(&args, logs),
        Command::Validate(args) => Ok(validate(&args)),
        Command::Eval(args) => eval(args),
        Command::Check(args) => crate::check::check(args),
        Command::Config(ConfigCommand::Show(args)) => {
            let config = load_args(&args)?;
            print!("{}", config.to_toml_redacted()?);
            Ok(ExitCode::SUCCESS)
        }
        Command::Config(ConfigCommand::Convert(args)) => convert(&args),
        Command::Es(EsCommand::Setup(args)) => es_setup(args),
    }
}

/// `lagwatch es setup`: installs the template and retention policy, prints what was done.
fn es_setup(args: EsSetupArgs) -> anyhow::Result<ExitCode> {
    use lagwatch_lib::sinks::elasticsearch::{client::EsClient, index::IndexPattern, setup};
    let mode: setup::TemplateMode = args.template_mode.parse().map_err(anyhow::Error::msg)?;
    let mut cfg = lagwatch_lib::config::ElasticsearchSinkConfig::new(args.url);
    if let Some(user) = args.username {
        cfg.username = user;
        cfg.password = std::env::var("LAGWATCH_ES_PASSWORD")
            .unwrap_or_default()
            .into();
    }
    let client = EsClient::new(&cfg)?;
    let report = if args.data_stream {
        runtime()?.block_on(setup::setup_data_stream(
            &client,
            &args.name,
            mode,
            &args.index_name,
            args.retention,
        ))?
    } else {
        let pattern = IndexPattern::parse(&args.index_name, "")?;
        runtime()?.block_on(setup::setup(
            &client,
            &args.name,
            mode,
            pattern.prefix(),
            args.retention,
        ))?
    };
    println!(
        "{} {:?} {}",
        client.shown_url(),
        report.server.flavor,
        report.server.version
    );
    for line in &report.installed {
        println!("{line}");
    }
    if report.installed.is_empty() {
        if args.data_stream {
            println!("the data stream exists already");
        } else {
            println!("nothing to install (template mode none: dynamic mapping)");
        }
    }
    Ok(ExitCode::SUCCESS)
}

/// An imported configuration (`--burrow-config` and/or `--telegraf-config`) with its
/// warnings, each with the file it is about.
struct Imported {
    config: Config,
    /// The imported files, in the order given on the command line.
    files: Vec<PathBuf>,
    warnings: Vec<(PathBuf, String)>,
}

impl Imported {
    /// The imported files' names, joined with "and".
    fn file_names(&self) -> String {
        let names: Vec<String> = self.files.iter().map(|f| f.display().to_string()).collect();
        names.join(" and ")
    }

    /// A warning line: with the file name first when two files were imported.
    fn warning(&self, (file, warning): &(PathBuf, String)) -> String {
        if self.files.len() > 1 {
            format!("{}: {warning}", file.display())
        } else {
            warning.clone()
        }
    }
}

/// Imports the Burrow and/or Telegraf file the arguments name (`None` when they name
/// neither), with `LAGWATCH_*` environment overrides applied as to a lagwatch file. Errors
/// start with the name of the file at fault.
fn import(args: &ConfigArgs) -> anyhow::Result<Option<Imported>> {
    let Some(imported) = import_files(args)? else {
        return Ok(None);
    };
    let files = imported.file_names();
    let config = imported
        .config
        .with_env(lagwatch_lib::config::process_env())
        .map_err(|e| anyhow::anyhow!("{files} with environment overrides: {e}"))?;
    Ok(Some(Imported { config, ..imported }))
}

/// [`import`] without the environment overrides.
fn import_files(args: &ConfigArgs) -> anyhow::Result<Option<Imported>> {
    let with = |file: &Path, warnings: Vec<String>| {
        warnings
            .into_iter()
            .map(|w| (file.to_path_buf(), w))
            .collect::<Vec<_>>()
    };
    let at = |file: &Path, e: &dyn std::fmt::Display| anyhow::anyhow!("{}: {e}", file.display());
    Ok(Some(match (&args.burrow_config, &args.telegraf_config) {
        (Some(burrow), None) => {
            let import = Config::from_burrow_file(burrow).map_err(|e| at(burrow, &e))?;
            Imported {
                config: import.config,
                files: vec![burrow.clone()],
                warnings: with(burrow, import.warnings),
            }
        }
        (None, Some(telegraf)) => {
            let import = Config::from_telegraf_file(telegraf).map_err(|e| at(telegraf, &e))?;
            Imported {
                config: import.config,
                files: vec![telegraf.clone()],
                warnings: with(telegraf, import.warnings),
            }
        }
        (Some(burrow), Some(telegraf)) => {
            let import =
                Config::from_burrow_and_telegraf_files(burrow, telegraf).map_err(|e| match e {
                    TelegrafImportError::Burrow(e) => at(burrow, &e),
                    other => at(telegraf, &other),
                })?;
            let mut warnings = with(burrow, import.burrow_warnings);
            warnings.extend(with(telegraf, import.telegraf_warnings));
            Imported {
                config: import.config,
                files: vec![burrow.clone(), telegraf.clone()],
                warnings,
            }
        }
        (None, None) => return Ok(None),
    }))
}

/// Loads the configuration the arguments name: a lagwatch file, or a Burrow and/or Telegraf
/// file imported (its warnings logged).
fn load_args(args: &ConfigArgs) -> anyhow::Result<Config> {
    if let Some(imported) = import(args)? {
        for entry in &imported.warnings {
            tracing::warn!("{}: {}", entry.0.display(), entry.1);
        }
        return Ok(imported.config);
    }
    match &args.config {
        Some(path) => load(path),
        None => anyhow::bail!("{NO_FILE}"),
    }
}

const NO_FILE: &str = "give --config FILE, --burrow-config FILE or --telegraf-config FILE";

/// `lagwatch config convert --burrow-config FILE` and/or `--telegraf-config FILE`: the
/// imported configuration as TOML, the keys not carried over as comments at the top.
fn convert(args: &ConfigArgs) -> anyhow::Result<ExitCode> {
    let Some(imported) = import(args)? else {
        anyhow::bail!("config convert needs --burrow-config FILE and/or --telegraf-config FILE");
    };
    println!("# Imported from {}", imported.file_names());
    for entry in &imported.warnings {
        println!("# {}", imported.warning(entry));
    }
    print!("{}", imported.config.to_toml_redacted()?);
    Ok(ExitCode::SUCCESS)
}

/// Loads a configuration file with `LAGWATCH_<SECTION>__<KEY>` environment overrides.
fn load(path: &Path) -> anyhow::Result<Config> {
    Config::load(path).map_err(|e| match e {
        // Validation problems name key paths, not the file: add it.
        lagwatch_lib::config::Error::Invalid(_) => anyhow::anyhow!("{}: {e}", path.display()),
        other => anyhow::Error::new(other),
    })
}

fn demo(args: DemoArgs, logs: LogControl) -> anyhow::Result<ExitCode> {
    let mut config = Config::demo_with_env(lagwatch_lib::config::process_env())?;
    config.general.evaluation_interval = args.interval;
    serve::apply_args(&mut config, &args.http);
    if let Some(dir) = args.state_dir {
        config.general.state_dir = dir;
        config.general.persist_state = true;
    }
    for source in config.sources.values_mut() {
        if let (SourceConfig::Demo(demo), Some(seed)) = (source, args.seed) {
            demo.seed = seed;
        }
    }
    for sink in config.sinks.values_mut() {
        if let SinkConfig::Stdout(stdout) = sink {
            stdout.format = match args.format {
                Format::Auto => StdoutFormat::Auto,
                Format::Table => StdoutFormat::Table,
                Format::Json => StdoutFormat::Json,
            };
        }
    }
    if let Some(url) = args.webhook {
        let webhook = lagwatch_lib::config::WebhookAlerterConfig::new(url);
        config.alerters.insert(
            "webhook".to_owned(),
            lagwatch_lib::config::AlerterConfig::Webhook(webhook),
        );
    }
    if let Some(url) = args.elasticsearch {
        config.sinks.insert(
            "elasticsearch".to_owned(),
            SinkConfig::Elasticsearch(Box::new(
                lagwatch_lib::config::ElasticsearchSinkConfig::new(url),
            )),
        );
    }
    if let Some(url) = args.slack_webhook {
        let slack = lagwatch_lib::config::SlackAlerterConfig::new(url);
        config.alerters.insert(
            "slack".to_owned(),
            lagwatch_lib::config::AlerterConfig::Slack(slack),
        );
    }
    config.validate()?;
    tracing::info!(
        duration = ?args.duration,
        interval = ?args.interval,
        "demo: simulated cluster with healthy, slow, stalled, stopped, rewinding and catching-up groups"
    );
    // A table redrawn in place would overwrite the alert log lines: on a terminal the
    // table shows the newest alert state changes under it instead.
    let table_on_terminal = match args.format {
        Format::Table => true,
        Format::Auto => std::io::IsTerminal::is_terminal(&std::io::stdout()),
        Format::Json => false,
    };
    let mut extra: Option<Box<dyn FnOnce(PipelineBuilder) -> PipelineBuilder>> = None;
    if table_on_terminal {
        let stdout: Vec<(String, lagwatch_lib::config::StdoutSinkConfig)> = config
            .sinks
            .iter()
            .filter_map(|(name, sink)| match sink {
                SinkConfig::Stdout(c) => Some((name.clone(), c.clone())),
                _ => None,
            })
            .collect();
        for (name, _) in &stdout {
            config.sinks.remove(name);
        }
        let feed = lagwatch_lib::sinks::stdout::AlertFeed::new(6);
        let mut sinks = Vec::with_capacity(stdout.len());
        for (name, c) in &stdout {
            sinks.push(
                lagwatch_lib::sinks::stdout::StdoutSink::from_config(name, c)?
                    .with_alert_feed(feed.clone()),
            );
        }
        extra = Some(Box::new(move |mut builder: PipelineBuilder| {
            for sink in sinks {
                builder = builder.sink(Box::new(sink));
            }
            builder.alerter(Box::new(feed.alerter()))
        }));
    }
    let http = Http {
        logs,
        busy: Busy::AnyPort,
        announce: true,
    };
    let summary = execute(&config, args.duration, extra, http)?;
    tracing::info!(
        cycles = summary.cycles,
        events = summary.events,
        "demo finished"
    );
    Ok(ExitCode::SUCCESS)
}

fn run(args: &RunArgs, logs: LogControl) -> anyhow::Result<ExitCode> {
    let mut config = load_args(&args.config)?;
    if let Some(dir) = &args.state_dir {
        config.general.state_dir = dir.clone();
        config.general.persist_state = true;
    }
    serve::apply_args(&mut config, &args.http);
    config.validate()?;
    let http = Http {
        logs,
        busy: Busy::Fail,
        announce: false,
    };
    execute(&config, None, None, http)?;
    Ok(ExitCode::SUCCESS)
}

/// How `execute` serves the HTTP API.
struct Http {
    logs: LogControl,
    busy: Busy,
    /// Print the address on standard error (the demo).
    announce: bool,
}

/// Builds the pipeline from `config` and runs it until a signal (or `duration`), with the
/// HTTP API beside it when configured. `extra` adds components built outside the
/// configuration (the demo's alert feed).
fn execute(
    config: &Config,
    duration: Option<std::time::Duration>,
    extra: Option<Box<dyn FnOnce(PipelineBuilder) -> PipelineBuilder>>,
    http: Http,
) -> anyhow::Result<RunSummary> {
    let rt = runtime()?;
    rt.block_on(async {
        let mut builder = lagwatch_lib::assemble(config)?;
        if let Some(extra) = extra {
            builder = extra(builder);
        }
        let pipeline = builder.build();
        let server = serve::bind(config, pipeline.handle(), Some(http.logs), http.busy).await?;
        let http_stop = CancellationToken::new();
        let mut http_task = None;
        if let Some(server) = server {
            if http.announce {
                eprintln!(
                    "lagwatch demo: HTTP API on {0} (Burrow API {0}/v3/kafka, metrics {0}/metrics, groups {0}/api/v1/groups)",
                    server.url()
                );
            }
            let stop = http_stop.clone();
            http_task = Some(tokio::spawn(async move { server.serve(stop).await }));
        }
        let shutdown = CancellationToken::new();
        lagwatch_lib::runtime::cancel_on_signals(shutdown.clone());
        crate::memory::spawn(pipeline.handle().subscribe(), shutdown.clone());
        if let Some(d) = duration {
            let token = shutdown.clone();
            tokio::spawn(async move {
                tokio::time::sleep(d).await;
                token.cancel();
            });
        }
        let summary = pipeline.run(shutdown).await;
        http_stop.cancel();
        if let Some(task) = http_task {
            match task.await {
                Ok(Ok(())) => {}
                Ok(Err(e)) => tracing::error!(error = %e, "HTTP API stopped with an error"),
                Err(e) => tracing::error!(error = %e, "HTTP API task failed"),
            }
        }
        let summary = summary?;
        for sink in &summary.sinks {
            if sink.failed > 0 || sink.dropped > 0 {
                tracing::warn!(sink = %sink.name, failed = sink.failed, dropped = sink.dropped, "sink did not accept every snapshot");
            }
        }
        Ok(summary)
    })
}

/// Prints "ok", or one line per problem (key path first), and returns 0 or 1.
fn validate(args: &ConfigArgs) -> ExitCode {
    if args.burrow_config.is_some() || args.telegraf_config.is_some() {
        return match import(args) {
            Ok(imported) => {
                if let Some(imported) = &imported {
                    for entry in &imported.warnings {
                        println!("warning: {}", imported.warning(entry));
                    }
                }
                println!("ok");
                ExitCode::SUCCESS
            }
            Err(e) => {
                println!("{e}");
                ExitCode::from(1)
            }
        };
    }
    let Some(path) = args.config.as_deref() else {
        println!("{NO_FILE}");
        return ExitCode::from(1);
    };
    match Config::load(path) {
        Ok(_) => {
            println!("ok");
            ExitCode::SUCCESS
        }
        Err(e) => {
            match e.problems() {
                Some(problems) => {
                    println!(
                        "{}: {} problem{}",
                        path.display(),
                        problems.len(),
                        if problems.len() == 1 { "" } else { "s" }
                    );
                    for p in problems {
                        println!("  {p}");
                    }
                }
                None => println!("{e}"),
            }
            ExitCode::from(1)
        }
    }
}

/// Reads at most [`eval_input::MAX_INPUT_BYTES`] of `reader` as text; longer input is an
/// error naming `name` and the limit.
fn read_bounded(reader: impl Read, name: &str) -> anyhow::Result<String> {
    let mut text = String::new();
    reader
        .take(eval_input::MAX_INPUT_BYTES + 1)
        .read_to_string(&mut text)
        .with_context(|| format!("cannot read {name}"))?;
    if text.len() as u64 > eval_input::MAX_INPUT_BYTES {
        anyhow::bail!(
            "{name} is longer than {} bytes (64 MiB), the most lagwatch eval reads",
            eval_input::MAX_INPUT_BYTES
        );
    }
    Ok(text)
}

fn eval(args: EvalArgs) -> anyhow::Result<ExitCode> {
    let name = if args.input == "-" {
        "standard input"
    } else {
        &args.input
    };
    let text = if args.input == "-" {
        read_bounded(std::io::stdin(), name)?
    } else {
        let file = std::fs::File::open(&args.input)
            .with_context(|| format!("cannot read {}", args.input))?;
        read_bounded(file, name)?
    };
    let input: EvalInput = serde_json::from_str(&text)
        .with_context(|| format!("{name} is not a valid evaluation input"))?;
    let mut reports = eval_input::evaluate(&input).with_context(|| name.to_string())?;
    if args.problems_only {
        reports = reports.iter().map(|r| r.only_problems()).collect();
    }
    let out = if args.compact {
        serde_json::to_string(&reports)?
    } else {
        serde_json::to_string_pretty(&reports)?
    };
    println!("{out}");
    Ok(ExitCode::SUCCESS)
}
