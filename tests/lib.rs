//! Cross-crate integration tests live beside this file; see each `[[test]]` in Cargo.toml.
//!
//! The unit test below keeps the line between hermetic and service-backed test binaries
//! exact (docs/testing.md): a test binary that takes a service address from
//! `lagwatch_test_support::services::env` must be declared with
//! `required-features = ["services"]`, and no other test binary may be.

#[cfg(test)]
mod service_split {
    use std::collections::BTreeSet;
    use std::fs;
    use std::path::{Path, PathBuf};

    fn root() -> PathBuf {
        let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("..");
        fs::canonicalize(&root).unwrap_or(root)
    }

    /// The packages that can hold test binaries: every crate, binary and this crate.
    fn packages() -> Vec<PathBuf> {
        let mut out = vec![root().join("tests")];
        for group in ["crates", "bins"] {
            let mut dirs: Vec<PathBuf> = fs::read_dir(root().join(group))
                .unwrap_or_else(|e| panic!("reading {group}/: {e}"))
                .filter_map(|entry| entry.ok().map(|e| e.path()))
                .filter(|p| p.join("Cargo.toml").is_file())
                .collect();
            dirs.sort();
            out.extend(dirs);
        }
        out
    }

    /// Test binaries of a package: `tests/*.rs` (for this crate: its own `*.rs` but `lib.rs`).
    fn test_files(package: &Path) -> Vec<PathBuf> {
        let dir = if package.ends_with("tests") {
            package.to_path_buf()
        } else {
            package.join("tests")
        };
        let Ok(entries) = fs::read_dir(&dir) else {
            return Vec::new();
        };
        let mut files: Vec<PathBuf> = entries
            .filter_map(|entry| entry.ok().map(|e| e.path()))
            .filter(|p| p.extension().is_some_and(|x| x == "rs"))
            .filter(|p| !p.ends_with("lib.rs"))
            .collect();
        files.sort();
        files
    }

    /// Whether a `use lagwatch_test_support::services...;` item of `source` brings in `env`.
    fn uses_service_env(source: &str) -> bool {
        source
            .split("use lagwatch_test_support::services")
            .skip(1)
            .filter_map(|rest| rest.split(';').next())
            .any(|item| {
                item.split(|c: char| !(c.is_alphanumeric() || c == '_'))
                    .any(|word| word == "env")
            })
    }

    /// Names of the `[[test]]` targets of `manifest` that require the `services` feature.
    fn service_targets(manifest: &str) -> BTreeSet<String> {
        manifest
            .split("[[")
            .skip(1)
            .filter(|block| block.starts_with("test]]"))
            .filter(|block| {
                block
                    .lines()
                    .take_while(|l| !l.starts_with('['))
                    .any(|l| l.starts_with("required-features") && l.contains("\"services\""))
            })
            .filter_map(|block| {
                block.lines().find_map(|l| {
                    let value = l.strip_prefix("name")?.trim_start().strip_prefix('=')?;
                    Some(value.trim().trim_matches('"').to_owned())
                })
            })
            .collect()
    }

    #[test]
    fn service_backed_test_binaries_are_exactly_those_behind_the_services_feature() {
        let mut wrong = Vec::new();
        let mut service_binaries = 0;
        for package in packages() {
            let manifest_path = package.join("Cargo.toml");
            let manifest = fs::read_to_string(&manifest_path)
                .unwrap_or_else(|e| panic!("{}: {e}", manifest_path.display()));
            let declared = service_targets(&manifest);
            if !declared.is_empty() && !manifest.contains("\nservices = []") {
                wrong.push(format!(
                    "{}: [[test]] targets require `services` but [features] has no `services = []`",
                    manifest_path.display()
                ));
            }
            for file in test_files(&package) {
                let source =
                    fs::read_to_string(&file).unwrap_or_else(|e| panic!("{}: {e}", file.display()));
                let name = file
                    .file_stem()
                    .and_then(|s| s.to_str())
                    .unwrap_or_default()
                    .to_owned();
                let needs = uses_service_env(&source);
                service_binaries += usize::from(needs);
                match (needs, declared.contains(&name)) {
                    (true, false) => wrong.push(format!(
                        "{}: uses services::env but {} has no [[test]] name = \"{name}\" with \
                         required-features = [\"services\"]",
                        file.display(),
                        manifest_path.display()
                    )),
                    (false, true) => wrong.push(format!(
                        "{}: needs no service but {} puts it behind the `services` feature, \
                         so `cargo test` would skip it",
                        file.display(),
                        manifest_path.display()
                    )),
                    _ => {}
                }
            }
        }
        assert!(wrong.is_empty(), "{}", wrong.join("\n"));
        assert!(service_binaries > 0, "no service-backed test binary found");
    }

    #[test]
    fn the_detectors_read_what_they_should() {
        assert!(uses_service_env(
            "use lagwatch_test_support::services::{burrow, env, es};"
        ));
        assert!(uses_service_env(
            "use lagwatch_test_support::services::env::{self, KafkaEndpoint};"
        ));
        assert!(!uses_service_env(
            "use lagwatch_test_support::services::http::{Receiver, environment};\nlet env = 1;"
        ));
        let manifest = "[features]\nservices = []\n\n[[test]]\nname = \"a\"\n\
                        required-features = [\"services\"]\n\n[[test]]\nname = \"b\"\n\n\
                        [[bench]]\nname = \"c\"\nrequired-features = [\"services\"]\n";
        assert_eq!(service_targets(manifest), BTreeSet::from(["a".to_owned()]));
    }
}
