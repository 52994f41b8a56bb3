//! Helpers for benchmarks that record their results in `docs/benchmarks.md`.

use std::path::{Path, PathBuf};

/// `docs/benchmarks.md` of the workspace.
pub fn benchmarks_md() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../../docs/benchmarks.md")
}

/// Replaces the section between `<!-- bench:NAME:start -->` and `<!-- bench:NAME:end -->` in
/// `docs/benchmarks.md` with `body`, or appends the section when the markers are missing.
///
/// # Panics
/// When the file cannot be written (a benchmark run, not a library call).
#[allow(clippy::expect_used)]
pub fn write_section(name: &str, body: &str) {
    let path = benchmarks_md();
    let start = format!("<!-- bench:{name}:start -->");
    let end = format!("<!-- bench:{name}:end -->");
    let section = format!("{start}\n{body}{end}\n");
    let current = std::fs::read_to_string(&path).unwrap_or_else(|_| "# Benchmarks\n\n".to_owned());
    let updated = match (current.find(&start), current.find(&end)) {
        (Some(s), Some(e)) if e > s => format!(
            "{}{}{}",
            &current[..s],
            section,
            current[e + end.len()..].trim_start_matches('\n')
        ),
        _ => format!("{}\n\n{}", current.trim_end_matches('\n'), section),
    };
    std::fs::write(&path, updated).expect("write docs/benchmarks.md");
    println!("wrote {}", path.display());
}
