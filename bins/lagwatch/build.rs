//! Records the git commit the binary is built from, for `lagwatch --version`.
//!
//! In order: `LAGWATCH_GIT_COMMIT` when set (a build from an unpacked source tarball), the
//! commit cargo recorded in `.cargo_vcs_info.json` when this is a packaged crate (crates.io,
//! `cargo install`; asking git there could answer for an unrelated enclosing repository), and
//! otherwise `git rev-parse` in the repository.

use std::path::Path;
use std::process::Command;

fn main() {
    println!("cargo:rerun-if-env-changed=LAGWATCH_GIT_COMMIT");
    println!("cargo:rerun-if-changed=build.rs");
    let manifest_dir = std::env::var("CARGO_MANIFEST_DIR").unwrap_or_else(|_| ".".to_owned());
    let manifest_dir = Path::new(&manifest_dir);
    let commit = std::env::var("LAGWATCH_GIT_COMMIT")
        .ok()
        .filter(|s| !s.trim().is_empty())
        .or_else(|| packaged_commit(manifest_dir))
        .or_else(|| {
            if manifest_dir.join(".cargo_vcs_info.json").exists() {
                None
            } else {
                repository_commit(manifest_dir)
            }
        })
        .unwrap_or_else(|| "unknown".to_owned());
    println!("cargo:rustc-env=LAGWATCH_GIT_COMMIT={}", commit.trim());
}

/// The `git.sha1` of `.cargo_vcs_info.json`, shortened like `git rev-parse --short=12`.
fn packaged_commit(dir: &Path) -> Option<String> {
    let text = std::fs::read_to_string(dir.join(".cargo_vcs_info.json")).ok()?;
    let start = text.find("\"sha1\"")?;
    let rest = &text[start + 6..];
    let open = rest.find('"')?;
    let sha: String = rest[open + 1..]
        .chars()
        .take_while(|c| c.is_ascii_hexdigit())
        .take(12)
        .collect();
    (!sha.is_empty()).then_some(sha)
}

fn repository_commit(dir: &Path) -> Option<String> {
    // A new commit changes HEAD or the branch it points to.
    for path in ["../../.git/HEAD", "../../.git/refs/heads"] {
        if dir.join(path).exists() {
            println!("cargo:rerun-if-changed={path}");
        }
    }
    Command::new("git")
        .arg("-C")
        .arg(dir)
        .args(["rev-parse", "--short=12", "HEAD"])
        .output()
        .ok()
        .filter(|o| o.status.success())
        .and_then(|o| String::from_utf8(o.stdout).ok())
        .map(|s| s.trim().to_owned())
        .filter(|s| !s.is_empty())
}
