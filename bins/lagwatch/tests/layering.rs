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
    ("lagwatch-metrics", 2),
    ("lagwatch-sink-otlp", 3),
    ("lagwatch-http", 3),
    ("lagwatch-lib", 4),
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

/// The top-level module a source file belongs to (`src/model.rs` and `src/model/state.rs` are
/// both `model`); `None` for the crate root (`lib.rs`, `main.rs`).
fn top_module(src: &Path, file: &Path) -> Option<String> {
    let relative = file.strip_prefix(src).ok()?;
    let first = relative.components().next()?.as_os_str().to_string_lossy();
    let name = first.trim_end_matches(".rs").to_owned();
    (name != "lib" && name != "main").then_some(name)
}

/// Top-level modules a file refers to through `crate::<module>`.
fn referenced_modules(text: &str) -> BTreeSet<String> {
    let mut out = BTreeSet::new();
    let mut rest = text;
    while let Some(at) = rest.find("crate::") {
        rest = &rest[at + "crate::".len()..];
        let name: String = rest
            .chars()
            .take_while(|c| c.is_ascii_alphanumeric() || *c == '_')
            .collect();
        if !name.is_empty() {
            out.insert(name);
        }
    }
    // `use crate::{a, b::c}` groups.
    let mut rest = text;
    while let Some(at) = rest.find("crate::{") {
        rest = &rest[at + "crate::{".len()..];
        let group = rest.split('}').next().unwrap_or("");
        for item in group.split(',') {
            let name: String = item
                .trim()
                .chars()
                .take_while(|c| c.is_ascii_alphanumeric() || *c == '_')
                .collect();
            if !name.is_empty() {
                out.insert(name);
            }
        }
    }
    out
}

/// A cycle in `graph`, as the list of modules on it, if there is one.
fn find_cycle(graph: &std::collections::BTreeMap<String, BTreeSet<String>>) -> Option<Vec<String>> {
    fn visit(
        node: &str,
        graph: &std::collections::BTreeMap<String, BTreeSet<String>>,
        path: &mut Vec<String>,
        done: &mut BTreeSet<String>,
    ) -> Option<Vec<String>> {
        if let Some(at) = path.iter().position(|n| n == node) {
            let mut cycle = path[at..].to_vec();
            cycle.push(node.to_owned());
            return Some(cycle);
        }
        if done.contains(node) {
            return None;
        }
        path.push(node.to_owned());
        for next in graph.get(node).into_iter().flatten() {
            if let Some(cycle) = visit(next, graph, path, done) {
                return Some(cycle);
            }
        }
        path.pop();
        done.insert(node.to_owned());
        None
    }
    let mut done = BTreeSet::new();
    for node in graph.keys() {
        if let Some(cycle) = visit(node, graph, &mut Vec::new(), &mut done) {
            return Some(cycle);
        }
    }
    None
}

#[test]
fn no_crate_has_a_cycle_between_its_modules() {
    let mut packages: Vec<PathBuf> = LEVELS
        .iter()
        .map(|(name, _)| root().join("crates").join(name))
        .collect();
    packages.push(root().join("crates/lagwatch-test-support"));
    packages.push(root().join("bins/lagwatch"));
    packages.push(root().join("bins/lag-to-slack"));
    let mut cycles = Vec::new();
    for package in packages {
        let src = package.join("src");
        if !src.exists() {
            continue;
        }
        let mut graph: std::collections::BTreeMap<String, BTreeSet<String>> =
            std::collections::BTreeMap::new();
        for file in walk(&src) {
            let Some(module) = top_module(&src, &file) else {
                continue;
            };
            let text = std::fs::read_to_string(&file).expect("read source");
            let edges = graph.entry(module.clone()).or_default();
            for target in referenced_modules(&text) {
                if target != module {
                    edges.insert(target);
                }
            }
        }
        // Keep only edges to modules of this crate.
        let modules: BTreeSet<String> = graph.keys().cloned().collect();
        for edges in graph.values_mut() {
            edges.retain(|m| modules.contains(m));
        }
        if let Some(cycle) = find_cycle(&graph) {
            cycles.push(format!("{}: {}", package.display(), cycle.join(" -> ")));
        }
    }
    assert!(cycles.is_empty(), "module cycles:\n{}", cycles.join("\n"));
}

#[test]
fn the_cycle_finder_finds_cycles() {
    let graph = std::collections::BTreeMap::from([
        ("a".to_owned(), BTreeSet::from(["b".to_owned()])),
        ("b".to_owned(), BTreeSet::from(["c".to_owned()])),
        ("c".to_owned(), BTreeSet::from(["a".to_owned()])),
    ]);
    assert_eq!(
        find_cycle(&graph),
        Some(vec!["a".into(), "b".into(), "c".into(), "a".into()])
    );
    assert_eq!(
        referenced_modules("use crate::{x::Y, z};\nlet a = crate::w::f();"),
        BTreeSet::from(["w".to_owned(), "x".to_owned(), "z".to_owned()])
    );
}

/// The crate table of docs/architecture.md: every library crate has a row, and the row's
/// "depends on" cell names each of the crate's lagwatch dependencies (`core`, `component`, …),
/// so the page cannot drift from the manifests unnoticed.
#[test]
fn the_architecture_page_lists_every_crate_with_its_dependencies() {
    let page = std::fs::read_to_string(root().join("docs/architecture.md")).expect("read page");
    let mut problems = Vec::new();
    for (name, _) in LEVELS {
        let manifest = crate_manifest(name);
        if !manifest.exists() || *name == "lagwatch-lib" {
            continue;
        }
        let prefix = format!("| `{name}`");
        let Some(row) = page.lines().find(|l| l.starts_with(prefix.as_str())) else {
            problems.push(format!("{name}: no row in the crate table"));
            continue;
        };
        let depends_on = row.rsplit('|').nth(1).unwrap_or("");
        let words: BTreeSet<&str> = depends_on
            .split(|c: char| !(c.is_alphanumeric() || c == '-'))
            .collect();
        let unnamed = dependencies(&manifest).into_iter().filter(|dep| {
            dep.strip_prefix("lagwatch-")
                .is_some_and(|short| !words.contains(short) && !words.contains(dep.as_str()))
        });
        for dep in unnamed {
            problems.push(format!(
                "{name}: the table does not name its dependency {dep}"
            ));
        }
    }
    assert!(problems.is_empty(), "{}", problems.join("\n"));
}
