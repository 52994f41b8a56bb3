//! Finding the examples' executables from a test.

use std::path::PathBuf;

/// The newest build of example `name`: `cargo test` builds every example (to check it
/// compiles) as `target/<profile>/examples/<name>-<hash>`, beside `target/<profile>/deps/`
/// where this test runs from; `cargo build --examples` writes `<name>` itself.
pub fn example(name: &str) -> PathBuf {
    let exe = std::env::current_exe().unwrap();
    let dir = exe
        .parent()
        .and_then(|deps| deps.parent())
        .unwrap()
        .join("examples");
    let is_build_of = |file: &str| {
        file == name
            || file
                .strip_prefix(name)
                .and_then(|rest| rest.strip_prefix('-'))
                .is_some_and(|hash| hash.len() == 16 && hash.bytes().all(|b| b.is_ascii_hexdigit()))
    };
    let newest = std::fs::read_dir(&dir)
        .into_iter()
        .flatten()
        .flatten()
        .filter(|entry| entry.file_name().to_str().is_some_and(is_build_of))
        .filter_map(|entry| Some((entry.metadata().ok()?.modified().ok()?, entry.path())))
        .max();
    match newest {
        Some((_, path)) => path,
        None => panic!(
            "example {name} is not built in {} (`cargo test` builds the examples; alone: \
             cargo build -p lagwatch-lib --examples --all-features)",
            dir.display()
        ),
    }
}
