//! The crate graph keeps data flowing one way: no crate depends on a crate above it, and the
//! core stays free of async runtimes and I/O.
#![allow(clippy::unwrap_used, clippy::expect_used)] // test helpers may panic

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};

fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../..")
}

/// Normal (non-dev) dependencies of a package, by name.
fn dependencies(manifest: &Path) -> BTreeSet<String> {
    let text = std::fs::read_to_string(manifest)
        .unwrap_or_else(|e| panic!("read {}: {e}", manifest.display()));
    let doc: toml::Table = text
        .parse()
        .unwrap_or_else(|e| panic!("{}: {e}", manifest.display()));
    doc.get("dependencies")
        .and_then(|d| d.as_table())
        .map(|t| t.keys().cloned().collect())
        .unwrap_or_default()
}

fn crate_manifest(name: &str) -> PathBuf {
    root().join("crates").join(name).join("Cargo.toml")
}

/// Every library crate with its level; a crate may only depend on crates of a lower level.
const LEVELS: &[(&str, u8)] = &[
    ("lagwatch-core", 0),
    ("lagwatch-component", 1),
    ("lagwatch-config", 1),
    ("lagwatch-runtime", 2),
    ("lagwatch-source-demo", 2),
    ("lagwatch-sink-stdout", 2),
    ("lagwatch-sink-file", 2),
    ("lagwatch-sink-elasticsearch", 2),
    ("lagwatch-source-kafka", 2),
    ("lagwatch-source-burrow", 2),
    ("lagwatch-source-zookeeper", 2),
    ("lagwatch-alert", 2),
    ("lagwatch-import", 2),
    ("lagwatch-lib", 3),
];

#[test]
fn no_crate_depends_on_a_crate_above_it() {
    let level = |name: &str| LEVELS.iter().find(|(n, _)| *n == name).map(|(_, l)| *l);
    for (name, own) in LEVELS {
        let manifest = crate_manifest(name);
        if !manifest.exists() {
            // A crate planned in the layering but not written yet.
            continue;
        }
        for dep in dependencies(&manifest) {
            if let Some(dep_level) = level(&dep) {
                assert!(
                    dep_level < *own,
                    "{name} (level {own}) depends on {dep} (level {dep_level})"
                );
            }
            assert_ne!(dep, "lagwatch", "{name} depends on the binary package");
            assert_ne!(
                dep, "lagwatch-test-support",
                "{name} depends on test support"
            );
        }
    }
}

#[test]
fn every_library_crate_has_a_level() {
    let mut missing = Vec::new();
    for entry in std::fs::read_dir(root().join("crates")).expect("read crates/") {
        let name = entry
            .expect("dir entry")
            .file_name()
            .to_string_lossy()
            .to_string();
        let is_test_support = name == "lagwatch-test-support";
        if !is_test_support && !LEVELS.iter().any(|(n, _)| *n == name) {
            missing.push(name);
        }
    }
    // New crates must be placed in the layering above (and in docs/architecture.md).
    assert!(missing.is_empty(), "crates without a level: {missing:?}");
}

/// The packages allowed to use the importers crate: the binary (`config convert`,
/// `--burrow-config`, `--telegraf-config`) and the facade that re-exports it.
const IMPORT_USERS: &[&str] = &["lagwatch-lib", "lagwatch"];

#[test]
fn only_the_binary_and_the_facade_use_the_importers() {
    let mut manifests: Vec<(String, PathBuf)> = LEVELS
        .iter()
        .map(|(name, _)| (name.to_string(), crate_manifest(name)))
        .collect();
    manifests.push((
        "lagwatch-test-support".into(),
        crate_manifest("lagwatch-test-support"),
    ));
    for dir in ["bins"] {
        for entry in std::fs::read_dir(root().join(dir)).expect("read package dir") {
            let path = entry.expect("dir entry").path();
            let manifest = if path.is_dir() {
                path.join("Cargo.toml")
            } else {
                continue;
            };
            if manifest.exists() {
                let name = package_name(&manifest);
                manifests.push((name, manifest));
            }
        }
    }
    manifests.push(("lagwatch-tests".into(), root().join("tests/Cargo.toml")));
    for (name, manifest) in manifests {
        if !manifest.exists() || IMPORT_USERS.contains(&name.as_str()) {
            continue;
        }
        let text = std::fs::read_to_string(&manifest).expect("read manifest");
        let doc: toml::Table = text.parse().expect("manifest is TOML");
        for section in ["dependencies", "dev-dependencies", "build-dependencies"] {
            let uses = doc
                .get(section)
                .and_then(|d| d.as_table())
                .is_some_and(|t| t.contains_key("lagwatch-import"));
            assert!(
                !uses,
                "{name} has lagwatch-import in [{section}]; only {IMPORT_USERS:?} may use it"
            );
        }
    }
}

fn package_name(manifest: &Path) -> String {
    let text = std::fs::read_to_string(manifest).expect("read manifest");
    let doc: toml::Table = text.parse().expect("manifest is TOML");
    doc.get("package")
        .and_then(|p| p.get("name"))
        .and_then(|n| n.as_str())
        .unwrap_or_default()
        .to_owned()
}

#[test]
fn core_has_no_async_runtime_or_io_dependency() {
    let allowed: BTreeSet<&str> = ["serde", "serde_json", "regex", "thiserror", "humantime"]
        .into_iter()
        .collect();
    for dep in dependencies(&crate_manifest("lagwatch-core")) {
        assert!(
            allowed.contains(dep.as_str()),
            "lagwatch-core must stay pure, but depends on {dep}"
        );
    }
    // And its sources do not reach for the file system, the network, threads or the clock.
    for entry in walk(&root().join("crates/lagwatch-core/src")) {
        let text = std::fs::read_to_string(&entry).expect("read source");
        for forbidden in [
            "std::fs",
            "std::net",
            "std::thread",
            "SystemTime::now",
            "Instant::now",
            "tokio",
        ] {
            assert!(
                !text.contains(forbidden),
                "{} uses {forbidden}",
                entry.display()
            );
        }
    }
}

fn walk(dir: &Path) -> Vec<PathBuf> {
    let mut out = Vec::new();
    for entry in std::fs::read_dir(dir).expect("read dir") {
        let path = entry.expect("entry").path();
        if path.is_dir() {
            out.extend(walk(&path));
        } else if path.extension().is_some_and(|e| e == "rs") {
            out.push(path);
        }
    }
    out
}
