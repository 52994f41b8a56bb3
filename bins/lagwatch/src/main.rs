//! The `lagwatch` collector binary: parses arguments, loads configuration, wires lagwatch's
//! crates together and runs them. All the work happens in the library crates.

mod async_runtime;
mod check;
mod cli;
mod commands;
mod logging;
mod serve;

use clap::Parser;
use std::process::ExitCode;

fn main() -> ExitCode {
    let cli = cli::Cli::parse();
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
