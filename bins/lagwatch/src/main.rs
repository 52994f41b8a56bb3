//! The `lagwatch` collector binary: parses arguments, loads configuration, wires lagwatch's
//! crates together and runs them. All the work happens in the library crates.

mod async_runtime;
mod check;
mod cli;
mod commands;
mod logging;
mod memory;
mod serve;

use clap::{CommandFactory, FromArgMatches};
use std::process::ExitCode;

/// `lagwatch --version`: version, git commit, librdkafka and the features built in.
fn long_version() -> String {
    format!(
        "{}\ncommit: {}\nlibrdkafka: {}\nfeatures: {}",
        env!("CARGO_PKG_VERSION"),
        env!("LAGWATCH_GIT_COMMIT"),
        lagwatch_lib::librdkafka_version().unwrap_or_else(|| "not built in".to_owned()),
        lagwatch_lib::features().join(", ")
    )
}

fn main() -> ExitCode {
    let matches = cli::Cli::command()
        .long_version(long_version())
        .get_matches();
    let cli = match cli::Cli::from_arg_matches(&matches) {
        Ok(cli) => cli,
        Err(e) => e.exit(),
    };
    let logs = logging::init(&cli);
    match commands::dispatch(cli, logs) {
        Ok(code) => code,
        Err(e) => {
            // `{:#}` prints the whole chain of causes on one line.
            eprintln!("lagwatch: error: {e:#}");
            ExitCode::from(1)
        }
    }
}
