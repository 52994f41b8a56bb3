//! Command-line arguments.

use clap::{Args, Parser, Subcommand, ValueEnum};
use lagwatch_lib::config::kafka::{SaslMechanism, SecurityProtocol};
use std::path::PathBuf;
use std::time::Duration;

/// Kafka consumer-lag monitoring in one process: reads committed and broker offsets, judges every
/// consumer group the way Burrow does, writes Telegraf-compatible records and raises alerts.
#[derive(Debug, Parser)]
#[command(
    name = "lagwatch",
    version,
    propagate_version = true,
    arg_required_else_help = true
)]
pub struct Cli {
    /// More log output (-v debug, -vv trace). RUST_LOG, when set, takes precedence.
    #[arg(short, long, action = clap::ArgAction::Count, global = true)]
    pub verbose: u8,

    /// Less log output (-q warnings and errors only).
    #[arg(short, long, global = true, conflicts_with = "verbose")]
    pub quiet: bool,

    /// What to do.
    #[command(subcommand)]
    pub command: Command,
}

/// Subcommands.
#[derive(Debug, Subcommand)]
pub enum Command {
    /// Runs the whole pipeline on a simulated cluster, with no external service.
    Demo(DemoArgs),
    /// Runs the collector with a configuration file.
    Run(RunArgs),
    /// Checks a configuration file and prints "ok" or every problem with its key path.
    Validate(ConfigArgs),
    /// Evaluates offset windows given as JSON, exactly as Burrow would, and prints Burrow's
    /// status objects as JSON.
    Eval(EvalArgs),
    /// Reads a Kafka cluster's consumer groups once (or a few times) and prints every
    /// partition's committed offset, log end, lag, owner and — with --samples 2 or more —
    /// Burrow's status. Exit code: 0 all OK, 1 WARN, 2 ERR, 3 the cluster could not be read.
    Check(CheckArgs),
    /// Configuration helpers.
    #[command(subcommand)]
    Config(ConfigCommand),
    /// Elasticsearch / OpenSearch helpers.
    #[command(subcommand)]
    Es(EsCommand),
}

/// `lagwatch demo`.
#[derive(Debug, Args)]
pub struct DemoArgs {
    /// Stop after this long (e.g. "20s"); without it the demo runs until Ctrl-C.
    #[arg(long, value_parser = parse_duration)]
    pub duration: Option<Duration>,

    /// Output format: a refreshing table on a terminal and JSON lines otherwise (auto), or
    /// force one.
    #[arg(long, value_enum, default_value_t = Format::Auto)]
    pub format: Format,

    /// Seed of the simulation (the same seed gives the same run).
    #[arg(long)]
    pub seed: Option<u64>,

    /// Time between evaluations.
    #[arg(long, value_parser = parse_duration, default_value = "1s")]
    pub interval: Duration,

    /// Also deliver the demo's alerts to this webhook URL (JSON body, POST).
    #[arg(long, value_name = "URL")]
    pub webhook: Option<String>,

    /// Also deliver the demo's alerts to this Slack incoming-webhook URL.
    #[arg(long, value_name = "URL")]
    pub slack_webhook: Option<String>,

    /// Also write the demo's documents to this Elasticsearch / OpenSearch (index
    /// `burrow-%Y.%m.%d`, as Telegraf did).
    #[arg(long, value_name = "URL")]
    pub elasticsearch: Option<String>,

    /// Keep the demo's state (windows, open alerts, outbox) in this directory across runs
    /// (without it the demo keeps everything in memory).
    #[arg(long, value_name = "DIR")]
    pub state_dir: Option<PathBuf>,

    #[command(flatten)]
    pub http: HttpArgs,
}

/// Output formats of `lagwatch demo`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum Format {
    /// Table on a terminal, JSON lines otherwise.
    Auto,
    /// Human table.
    Table,
    /// JSON lines (Telegraf's Elasticsearch document shape).
    Json,
}

/// `lagwatch run`.
#[derive(Debug, Args)]
pub struct RunArgs {
    #[command(flatten)]
    pub config: ConfigArgs,

    /// State directory (overrides `general.state_dir`): the model's windows, open alerts and
    /// the alert outbox survive restarts there.
    #[arg(long, value_name = "DIR")]
    pub state_dir: Option<PathBuf>,

    #[command(flatten)]
    pub http: HttpArgs,
}

/// Where the HTTP API listens.
#[derive(Debug, Args, Default, Clone)]
pub struct HttpArgs {
    /// Serve the HTTP API (Burrow's v3 API, /metrics, /healthz, /readyz, JSON API) on this
    /// address instead of `http.listen` (e.g. 127.0.0.1:8001; port 0 picks a free port).
    #[arg(long = "http", value_name = "ADDR")]
    pub listen: Option<std::net::SocketAddr>,

    /// Do not serve the HTTP API.
    #[arg(long, conflicts_with = "listen")]
    pub no_http: bool,
}

/// A configuration file, or a Burrow and/or Telegraf file to import.
#[derive(Debug, Args)]
pub struct ConfigArgs {
    /// Configuration file (TOML or YAML). LAGWATCH_SECTION__KEY environment variables
    /// override its values.
    #[arg(
        short,
        long,
        value_name = "FILE",
        required_unless_present_any = ["burrow_config", "telegraf_config"]
    )]
    pub config: Option<PathBuf>,

    /// A Burrow configuration file (burrow.toml) to import instead; every key that has no
    /// lagwatch counterpart is listed as a warning.
    #[arg(long, value_name = "FILE", conflicts_with = "config")]
    pub burrow_config: Option<PathBuf>,

    /// A Telegraf configuration file (telegraf.conf) to import instead: its
    /// [[inputs.burrow]] and [[outputs.elasticsearch]] sections ($VAR and ${VAR} taken from
    /// the environment); everything else is listed as a warning. With --burrow-config too,
    /// the sources come from burrow.toml and the sinks from telegraf.conf.
    #[arg(long, value_name = "FILE", conflicts_with = "config")]
    pub telegraf_config: Option<PathBuf>,
}

/// `lagwatch check`.
#[derive(Debug, Args)]
pub struct CheckArgs {
    /// Bootstrap broker(s), HOST:PORT[,HOST:PORT...].
    #[arg(long, value_name = "HOST:PORT")]
    pub bootstrap: String,

    /// Only groups matching this regular expression (default: every group).
    #[arg(long, value_name = "REGEX")]
    pub group: Option<String>,

    /// table (like kafka-consumer-groups) or json (one object per partition per line).
    #[arg(long, value_enum, default_value_t = CheckOutput::Table)]
    pub output: CheckOutput,

    /// Snapshots to take. One shows offsets and lag; from two on, each partition also gets
    /// Burrow's status, judged over the snapshots.
    #[arg(long, default_value_t = 1)]
    pub samples: u32,

    /// Time between two snapshots. Choose it longer than the consumers' commit interval
    /// (5 s by default for Java and librdkafka consumers), or a consumer that simply has not
    /// committed yet looks stopped.
    #[arg(long, value_parser = parse_duration, default_value = "10s")]
    pub interval: Duration,

    /// Cluster name shown in the output.
    #[arg(long, default_value = "kafka")]
    pub cluster: String,

    /// Time limit of one request.
    #[arg(long, value_parser = parse_duration, default_value = "10s")]
    pub timeout: Duration,

    /// Committed-offset requests in flight at once (librdkafka's path).
    #[arg(long, default_value_t = 16)]
    pub concurrency: usize,

    /// Read committed offsets one group per call through librdkafka instead of lagwatch's
    /// batched OffsetFetch requests (the source's `batched_offsets = false`).
    #[arg(long)]
    pub no_batched_offsets: bool,

    /// plaintext, ssl, sasl_plaintext or sasl_ssl (the `security_protocol` values of a
    /// kafka source).
    #[arg(long, value_name = "PROTOCOL", value_parser = config_value::<SecurityProtocol>)]
    pub security_protocol: Option<SecurityProtocol>,

    /// PLAIN, SCRAM-SHA-256 or SCRAM-SHA-512 (the `sasl_mechanism` values of a kafka
    /// source).
    #[arg(long, value_name = "MECHANISM", value_parser = config_value::<SaslMechanism>)]
    pub sasl_mechanism: Option<SaslMechanism>,

    /// SASL user; the password is read from LAGWATCH_SASL_PASSWORD.
    #[arg(long, value_name = "USER")]
    pub sasl_username: Option<String>,

    /// PEM file of the authority that signed the brokers' certificates.
    #[arg(long, value_name = "FILE")]
    pub tls_ca: Option<PathBuf>,

    /// Further librdkafka property, KEY=VALUE (repeatable).
    #[arg(short = 'X', long = "property", value_name = "KEY=VALUE")]
    pub property: Vec<String>,
}

/// Output formats of `lagwatch check`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum CheckOutput {
    /// Aligned columns.
    Table,
    /// One JSON object per partition per line.
    Json,
}

/// `lagwatch eval`.
#[derive(Debug, Args)]
pub struct EvalArgs {
    /// Input JSON file, or "-" (the default) for standard input.
    #[arg(default_value = "-")]
    pub input: String,

    /// List only the partitions that are not OK, like Burrow's /status endpoint (default: all
    /// partitions, like /lag).
    #[arg(long)]
    pub problems_only: bool,

    /// Print compact JSON on one line.
    #[arg(long)]
    pub compact: bool,
}

/// `lagwatch config …`.
#[derive(Debug, Subcommand)]
pub enum ConfigCommand {
    /// Prints the effective configuration (defaults and environment applied, secrets redacted).
    Show(ConfigArgs),
    /// Prints the lagwatch configuration a Burrow file (--burrow-config) and/or a Telegraf
    /// file (--telegraf-config) imports to, with every key that is not carried over listed
    /// as a comment.
    Convert(ConfigArgs),
}

/// `lagwatch es …`.
#[derive(Debug, Subcommand)]
pub enum EsCommand {
    /// Installs the index template (and, with --retention, a lifecycle policy: ILM on
    /// Elasticsearch, ISM on OpenSearch) for lagwatch's indices.
    Setup(EsSetupArgs),
}

/// `lagwatch es setup`.
#[derive(Debug, Args)]
pub struct EsSetupArgs {
    /// Base URL of the cluster.
    #[arg(long, value_name = "URL")]
    pub url: String,

    /// none: dynamic mapping, as the seed pipeline had; telegraf: Telegraf's legacy
    /// template; lagwatch: composable template with tags as text + .keyword and exact types.
    #[arg(long, value_name = "MODE", default_value = "lagwatch")]
    pub template_mode: String,

    /// Index name pattern the sink writes; the template matches its fixed start + "*".
    #[arg(long, value_name = "PATTERN", default_value = "burrow-%Y.%m.%d")]
    pub index_name: String,

    /// Name of the template and of the lifecycle policy.
    #[arg(long, value_name = "NAME", default_value = "lagwatch-burrow")]
    pub name: String,

    /// Delete indices this long after their creation (e.g. "30d"; rounded up to days).
    #[arg(long, value_parser = parse_duration)]
    pub retention: Option<Duration>,

    /// User for basic authentication (password from LAGWATCH_ES_PASSWORD).
    #[arg(long)]
    pub username: Option<String>,

    /// Set up a data stream named --index-name (no placeholders) instead of daily indices:
    /// the template gets "data_stream": {} and the stream is created (template mode telegraf
    /// is refused; none installs no template and needs a matching one of your own).
    #[arg(long)]
    pub data_stream: bool,
}

fn parse_duration(text: &str) -> Result<Duration, String> {
    lagwatch_lib::core::duration::parse(text)
}

/// A value of one of the configuration's enums, spelled as in a configuration file: the list
/// of names is the configuration's, never repeated here.
fn config_value<T: serde::de::DeserializeOwned>(text: &str) -> Result<T, String> {
    use serde::de::IntoDeserializer;
    let text: serde::de::value::StrDeserializer<'_, serde::de::value::Error> =
        text.into_deserializer();
    T::deserialize(text).map_err(|e| e.to_string())
}

#[cfg(test)]
mod tests {
    use super::*;
    use clap::CommandFactory;

    #[test]
    fn arguments_are_consistent() {
        Cli::command().debug_assert();
    }

    fn check(extra: &[&str]) -> Result<CheckArgs, String> {
        let args = ["lagwatch", "check", "--bootstrap", "127.0.0.1:9092"];
        match Cli::try_parse_from(args.iter().chain(extra)) {
            Ok(Cli {
                command: Command::Check(args),
                ..
            }) => Ok(args),
            Ok(other) => Err(format!("parsed as {other:?}")),
            Err(e) => Err(e.to_string()),
        }
    }

    #[test]
    fn check_reads_protocol_and_mechanism_with_the_configuration_spelling() {
        let args = check(&[
            "--security-protocol",
            "sasl_ssl",
            "--sasl-mechanism",
            "SCRAM-SHA-512",
        ]);
        let args = args.unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(args.security_protocol, Some(SecurityProtocol::SaslSsl));
        assert_eq!(args.sasl_mechanism, Some(SaslMechanism::ScramSha512));
        let err = check(&["--security-protocol", "tls"])
            .err()
            .unwrap_or_default();
        assert!(
            err.contains("--security-protocol") && err.contains("`sasl_ssl`"),
            "{err}"
        );
        let err = check(&["--sasl-mechanism", "plain"])
            .err()
            .unwrap_or_default();
        assert!(
            err.contains("--sasl-mechanism") && err.contains("`SCRAM-SHA-256`"),
            "{err}"
        );
    }
}
