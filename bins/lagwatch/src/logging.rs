//! Log setup: structured `tracing` output on standard error.

use crate::cli::{Cli, Command, Format};
use lagwatch_lib::config::{Config, LogFormat};
use std::io::IsTerminal;
use tracing_subscriber::EnvFilter;

/// Installs the global subscriber. `RUST_LOG` wins over `-v`/`-q`; `lagwatch run` takes the
/// line format from the configuration's `general.log_format`.
pub fn init(cli: &Cli) {
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
    let filter = EnvFilter::try_from_default_env().unwrap_or_else(|_| EnvFilter::new(default));
    let builder = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr)
        .with_target(false);
    if json {
        builder.json().with_current_span(false).init();
    } else {
        builder.with_ansi(std::io::stderr().is_terminal()).init();
    }
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
