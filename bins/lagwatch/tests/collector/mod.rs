#![allow(dead_code)] // each test binary uses part of it
//! A `lagwatch run` started by a test, with its HTTP API on a free port.

use std::io::{BufRead, BufReader};
use std::process::{Child, Command, Stdio};
use std::time::Duration;

/// The running collector; killed on drop.
pub struct Collector {
    child: Child,
    /// `http://127.0.0.1:<port>`.
    pub url: String,
    /// `127.0.0.1:<port>`.
    pub addr: String,
    _dir: tempfile::TempDir,
}

impl Drop for Collector {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

impl Collector {
    /// Starts `lagwatch run` with `config` (TOML) and `extra` arguments; waits until it logs
    /// its HTTP address.
    pub fn start(config: &str, extra: &[&str]) -> Collector {
        let dir = tempfile::tempdir().expect("tempdir");
        let path = dir.path().join("lagwatch.toml");
        std::fs::write(&path, config).expect("write config");
        let mut child = Command::new(env!("CARGO_BIN_EXE_lagwatch"))
            .args(["run", "--http", "127.0.0.1:0", "--config"])
            .arg(&path)
            .args(extra)
            .env("RUST_LOG", "info")
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::piped())
            .spawn()
            .expect("start lagwatch run");
        let stderr = child.stderr.take().expect("stderr");
        let (tx, rx) = std::sync::mpsc::channel();
        // Keeps reading, so the collector never blocks on a full pipe.
        std::thread::spawn(move || {
            let mut sent = false;
            for line in BufReader::new(stderr).lines().map_while(Result::ok) {
                if sent {
                    continue;
                }
                if let Some(url) = line
                    .split("url=")
                    .nth(1)
                    .and_then(|rest| rest.split_whitespace().next())
                {
                    let _ = tx.send(Ok(url.to_owned()));
                    sent = true;
                } else if line.contains("error") {
                    let _ = tx.send(Err(line));
                    sent = true;
                }
            }
        });
        let url = match rx.recv_timeout(Duration::from_secs(60)) {
            Ok(Ok(url)) => url,
            Ok(Err(line)) => panic!("lagwatch run failed to start: {line}"),
            Err(e) => panic!("lagwatch run did not log its HTTP address: {e}"),
        };
        let addr = url
            .trim_start_matches("http://")
            .trim_start_matches("https://")
            .to_owned();
        Collector {
            child,
            url,
            addr,
            _dir: dir,
        }
    }
}
