//! Benchmark of the lag model: how fast it stores events, how long one evaluation of every
//! group takes, and how much memory each group partition costs.
//!
//! Run with `cargo bench -p lagwatch-core --bench model` (add `-- --write` to record the table
//! in docs/benchmarks.md, `-- --quick` for the small sizes only). The figures are wall-clock
//! times of one process on whatever machine runs it: compare them on the same machine.

#![allow(clippy::unwrap_used, clippy::expect_used)] // benchmark code may panic

use lagwatch_core::evaluator::EvaluatorSettings;
use lagwatch_core::model::{LagModel, ModelSettings};
use lagwatch_core::{BrokerOffset, Event};
use std::hint::black_box;
use std::time::Instant;

const PARTITIONS_PER_TOPIC: u32 = 10;
const COMMITS_PER_PARTITION: usize = 10;
const TICK_MS: i64 = 10_000;

struct Row {
    groups: usize,
    partitions: usize,
    events: usize,
    apply_ns_per_event: f64,
    snapshot_ms: f64,
    snapshot_ns_per_partition: f64,
    rss_bytes_per_partition: Option<f64>,
}

/// Resident set size of this process, from /proc (Linux only).
fn rss_bytes() -> Option<u64> {
    let statm = std::fs::read_to_string("/proc/self/statm").ok()?;
    let pages: u64 = statm.split_whitespace().nth(1)?.parse().ok()?;
    Some(pages * 4096)
}

fn run(groups: usize) -> Row {
    let topics = groups.div_ceil(10).max(1);
    let start_ms: i64 = 1_700_000_000_000;
    let rss_before = rss_bytes();
    let mut model = LagModel::new(ModelSettings::default());
    let mut events = 0usize;
    let mut apply_ns = 0u128;

    for round in 0..COMMITS_PER_PARTITION as i64 {
        let now = start_ms + round * TICK_MS;
        let mut batch = Vec::with_capacity(topics + groups * PARTITIONS_PER_TOPIC as usize);
        for t in 0..topics {
            batch.push(Event::BrokerOffsets {
                cluster: "bench".into(),
                topic: format!("topic-{t}"),
                partition_count: PARTITIONS_PER_TOPIC,
                offsets: (0..PARTITIONS_PER_TOPIC as i32)
                    .map(|p| BrokerOffset {
                        partition: p,
                        high_water: 1_000 * (round + 1) + i64::from(p),
                        log_start: Some(0),
                    })
                    .collect(),
                observed_ms: now,
            });
        }
        for g in 0..groups {
            for p in 0..PARTITIONS_PER_TOPIC as i32 {
                batch.push(Event::Commit {
                    cluster: "bench".into(),
                    group: format!("group-{g}"),
                    topic: format!("topic-{}", g % topics),
                    partition: p,
                    offset: 1_000 * round + (g as i64 % 500),
                    timestamp_ms: now,
                    order: None,
                });
            }
        }
        let started = Instant::now();
        for e in &batch {
            black_box(model.apply(e, now));
        }
        apply_ns += started.elapsed().as_nanos();
        events += batch.len();
    }
    let rss_after = rss_bytes();

    let partitions = groups * PARTITIONS_PER_TOPIC as usize;
    let now = start_ms + COMMITS_PER_PARTITION as i64 * TICK_MS;
    let settings = EvaluatorSettings::default();
    // Best of three evaluations of everything.
    let mut best = f64::MAX;
    for cycle in 1..=3 {
        let started = Instant::now();
        let snapshot = model.snapshot(now, &settings, cycle);
        let took = started.elapsed().as_secs_f64() * 1000.0;
        assert_eq!(snapshot.groups.len(), groups);
        black_box(snapshot);
        best = best.min(took);
    }
    Row {
        groups,
        partitions,
        events,
        apply_ns_per_event: apply_ns as f64 / events as f64,
        snapshot_ms: best,
        snapshot_ns_per_partition: best * 1e6 / partitions as f64,
        rss_bytes_per_partition: match (rss_before, rss_after) {
            (Some(b), Some(a)) if a > b => Some((a - b) as f64 / partitions as f64),
            _ => None,
        },
    }
}

fn table(rows: &[Row]) -> String {
    let mut out = String::from(
        "| groups | group partitions | events applied | apply (ns/event) | evaluate all (ms) | evaluate (ns/partition) | RSS growth (bytes/partition) |\n|---:|---:|---:|---:|---:|---:|---:|\n",
    );
    for r in rows {
        out.push_str(&format!(
            "| {} | {} | {} | {:.0} | {:.1} | {:.0} | {} |\n",
            r.groups,
            r.partitions,
            r.events,
            r.apply_ns_per_event,
            r.snapshot_ms,
            r.snapshot_ns_per_partition,
            r.rss_bytes_per_partition
                .map_or("n/a".to_string(), |b| format!("{b:.0}")),
        ));
    }
    out
}

/// Replaces the section between `<!-- bench:model:start -->` and `<!-- bench:model:end -->` in
/// docs/benchmarks.md (appending it when missing), so several benchmarks share the file.
fn write_section(body: &str) {
    let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../../docs/benchmarks.md");
    let (start, end) = ("<!-- bench:model:start -->", "<!-- bench:model:end -->");
    let section = format!("{start}\n{body}{end}\n");
    let current = std::fs::read_to_string(&path)
        .unwrap_or_else(|_| "# Benchmarks\n\nFigures measured with the project's own benchmarks; each section says how to reproduce it.\n\n".to_string());
    let updated = match (current.find(start), current.find(end)) {
        (Some(s), Some(e)) if e > s => {
            format!(
                "{}{}{}",
                &current[..s],
                section,
                &current[e + end.len()..].trim_start_matches('\n')
            )
        }
        _ => format!(
            "{}\n{}",
            current.trim_end_matches('\n').to_string() + "\n",
            section
        ),
    };
    std::fs::write(&path, updated).expect("write docs/benchmarks.md");
    println!("wrote {}", path.display());
}

fn main() {
    let args: Vec<String> = std::env::args().collect();
    let quick = args.iter().any(|a| a == "--quick");
    let write = args.iter().any(|a| a == "--write");
    let sizes: &[usize] = if quick {
        &[100, 1_000]
    } else {
        &[100, 1_000, 10_000]
    };
    let rows: Vec<Row> = sizes.iter().map(|&g| run(g)).collect();
    let table = table(&rows);
    print!("{table}");
    if write {
        let body = format!(
            "## Lag model (`lagwatch-core`)\n\n\
             `cargo bench -p lagwatch-core --bench model -- --write`: groups of {PARTITIONS_PER_TOPIC} partitions, \
             {COMMITS_PER_PARTITION} commits per partition (a full Burrow window), one broker sample per topic \
             partition per round. \"evaluate all\" is the best of three full evaluations (what the runtime does \
             every `evaluation_interval`). RSS growth is the process's resident memory after loading, \
             divided by group partitions (it includes the broker history and allocator overhead).\n\n{table}\n"
        );
        write_section(&body);
    }
}
