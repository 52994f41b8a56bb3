//! Log setup: structured `tracing` output on standard error.

use crate::cli::{Cli, Command, Format};
use lagwatch_lib::config::{Config, LogFormat};
use std::io::IsTerminal;
use std::sync::{Arc, Mutex, PoisonError};
use tracing_subscriber::EnvFilter;

type SetFilter = dyn Fn(EnvFilter) -> Result<(), String> + Send + Sync;

/// Changes the log level of the running process (Burrow's `/v3/admin/loglevel`).
#[derive(Clone)]
pub struct LogControl {
    current: Arc<Mutex<String>>,
    set: Arc<SetFilter>,
}

impl lagwatch_lib::http::LogLevelControl for LogControl {
    fn current(&self) -> String {
        self.current
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .clone()
    }

    fn set(&self, level: &str) -> Result<(), String> {
        let filter = EnvFilter::try_new(level).map_err(|e| e.to_string())?;
        (self.set)(filter)?;
        *self.current.lock().unwrap_or_else(PoisonError::into_inner) = level.to_owned();
        Ok(())
    }
}

/// Installs the global subscriber. `RUST_LOG` wins over `-v`/`-q`; `lagwatch run` takes the
/// line format from the configuration's `general.log_format`. Returns the control that
/// changes the level later.
pub fn init(cli: &Cli) -> LogControl {
    let json = match &cli.command {
        // A file that does not load is reported (with every problem) once the command runs.
        Command::Run(args) => args.config.config.as_deref().is_some_and(|path| {
            Config::load(path).is_ok_and(|c| c.general.log_format == LogFormat::Json)
        }),
        _ => false,
    };
    let default = if cli.quiet {
        "warn"
    } else {
        match cli.verbose {
            0 => default_level(&cli.command),
            1 => "debug",
            _ => "trace",
        }
    };
    let from_env = std::env::var("RUST_LOG").ok().filter(|v| !v.is_empty());
    let filter = EnvFilter::try_from_default_env().unwrap_or_else(|_| EnvFilter::new(default));
    let current = Arc::new(Mutex::new(from_env.unwrap_or_else(|| default.to_owned())));
    let builder = tracing_subscriber::fmt()
        .with_writer(std::io::stderr)
        .with_target(false);
    let set: Arc<SetFilter> = if json {
        let builder = builder
            .json()
            .with_current_span(false)
            .with_env_filter(filter)
            .with_filter_reloading();
        let handle = builder.reload_handle();
        builder.init();
        Arc::new(move |f| handle.reload(f).map_err(|e| e.to_string()))
    } else {
        let builder = builder
            .with_ansi(std::io::stderr().is_terminal())
            .with_env_filter(filter)
            .with_filter_reloading();
        let handle = builder.reload_handle();
        builder.init();
        Arc::new(move |f| handle.reload(f).map_err(|e| e.to_string()))
    };
    LogControl { current, set }
}

fn default_level(command: &Command) -> &'static str {
    match command {
        // The demo's refreshing table owns the terminal; log lines would scroll it away.
        Command::Demo(args)
            if args.format == Format::Table
                || (args.format == Format::Auto && std::io::stdout().is_terminal()) =>
        {
            "warn"
        }
        Command::Eval(_) | Command::Validate(_) | Command::Config(_) => "warn",
        _ => "info",
    }
}
