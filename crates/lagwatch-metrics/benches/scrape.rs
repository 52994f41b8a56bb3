//! `/metrics` scrape cost: time, bytes and peak extra heap of one encoding at 10k and 100k
//! group partitions, for the native set and for all three sets, in both formats. Heap is
//! counted by a global allocator wrapper; "peak extra heap" is the highest heap use during
//! the scrape above the heap in use before it, output string included. Prints a Markdown
//! table and writes it into docs/benchmarks.md ("/metrics scrape").
//! Run: `cargo bench -p lagwatch-metrics --bench scrape`.
#![allow(unsafe_code, clippy::unwrap_used, clippy::expect_used, missing_docs)]

use lagwatch_core::report::{GroupReport, OffsetPoint, PartitionExtras, PartitionReport};
use lagwatch_core::snapshot::{SnapshotData, TopicOffsets};
use lagwatch_core::time_lag::{Confidence, TimeLag};
use lagwatch_core::trend::{CatchUp, Trend};
use lagwatch_core::{GroupStatus, PartitionStatus, Snapshot};
use lagwatch_metrics::{Format, MetricsSettings, NameSet, encode};
use std::alloc::{GlobalAlloc, Layout, System};
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Instant;

/// The system allocator, counting bytes in use and the peak.
struct Counting;

static IN_USE: AtomicUsize = AtomicUsize::new(0);
static PEAK: AtomicUsize = AtomicUsize::new(0);
static ALLOCATIONS: AtomicUsize = AtomicUsize::new(0);

fn grew(by: usize) {
    ALLOCATIONS.fetch_add(1, Ordering::Relaxed);
    let now = IN_USE.fetch_add(by, Ordering::Relaxed) + by;
    PEAK.fetch_max(now, Ordering::Relaxed);
}

// SAFETY: every call is forwarded to the system allocator unchanged; only counters are
// updated besides.
unsafe impl GlobalAlloc for Counting {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        // SAFETY: forwarded with the caller's guarantees.
        let p = unsafe { System.alloc(layout) };
        if !p.is_null() {
            grew(layout.size());
        }
        p
    }
    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        // SAFETY: forwarded with the caller's guarantees.
        unsafe { System.dealloc(ptr, layout) };
        IN_USE.fetch_sub(layout.size(), Ordering::Relaxed);
    }
    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        // SAFETY: forwarded with the caller's guarantees.
        let p = unsafe { System.realloc(ptr, layout, new_size) };
        if !p.is_null() {
            // Count the moment both blocks may exist, as a copy would need.
            grew(new_size);
            IN_USE.fetch_sub(layout.size(), Ordering::Relaxed);
        }
        p
    }
}

#[global_allocator]
static ALLOCATOR: Counting = Counting;

/// `partitions` group partitions: groups of 100 partitions, each reading its own topic of
/// 100 partitions (so as many topic partitions), realistic name lengths.
fn snapshot(partitions: usize) -> Snapshot {
    let at_ms = 1_767_225_600_000;
    let groups_n = partitions / 100;
    let mut groups = Vec::with_capacity(groups_n);
    let mut topics = Vec::with_capacity(groups_n);
    for g in 0..groups_n {
        let topic = format!("payments.events.v2-{g:05}");
        let parts = (0..100)
            .map(|p| {
                let offset = 1_000_000 + i64::from(p) * 17;
                PartitionReport {
                    topic: topic.clone(),
                    partition: p,
                    owner: format!("/10.1.{}.{}", g % 250, p % 25),
                    client_id: format!("consumer-app-{g}-{}", p % 25),
                    status: PartitionStatus::Ok,
                    start: None,
                    end: Some(OffsetPoint {
                        offset,
                        timestamp: at_ms - 5_000,
                        observed_at: at_ms - 5_000,
                        lag: Some(42),
                    }),
                    current_lag: 42,
                    complete: 1.0,
                    extras: PartitionExtras {
                        log_end_offset: Some(offset + 42),
                        log_start_offset: Some(1_000),
                        time_lag: Some(TimeLag {
                            seconds: 1.25,
                            confidence: Confidence::Interpolated,
                        }),
                        broker_sample_age_ms: Some(1_000),
                        stale: false,
                        warming_up: false,
                        trend: Some(Trend {
                            production_rate: Some(10.0),
                            consumption_rate: Some(12.0),
                            lag_rate: Some(-2.0),
                            catch_up: CatchUp::In { seconds: 21.0 },
                            retention_deadline_seconds: Some(3_600.0),
                            ..Trend::UNKNOWN
                        }),
                    },
                }
            })
            .collect::<Vec<_>>();
        topics.push(TopicOffsets {
            cluster: "production-eu".into(),
            topic: topic.clone(),
            high_water: parts.iter().map(|p| p.end.map(|e| e.offset + 42)).collect(),
            log_start: vec![Some(1_000); 100],
        });
        groups.push(GroupReport {
            group_type: lagwatch_core::report::GroupType::Consumer,
            cluster: "production-eu".into(),
            group: format!("billing-service-consumer-{g:05}"),
            status: GroupStatus::Ok,
            complete: 1.0,
            partition_count: 100,
            maxlag: None,
            totallag: 4_200,
            partitions: parts,
            evaluated_at: at_ms,
            worst_partition: Some(PartitionStatus::Ok),
            stale: false,
            warming_up: false,
        });
    }
    groups.sort_by(|a, b| a.group.cmp(&b.group));
    topics.sort_by(|a, b| a.topic.cmp(&b.topic));
    Snapshot::new(SnapshotData {
        at_ms,
        cycle: 1,
        groups,
        topics,
    })
}

struct Row {
    partitions: usize,
    sets: &'static str,
    format: &'static str,
    millis: f64,
    bytes: usize,
    peak_extra: usize,
    allocations: usize,
}

fn measure(snapshot: &Snapshot, sets: &[NameSet], format: Format) -> (f64, usize, usize, usize) {
    let settings = Arc::new(MetricsSettings::with_sets(sets));
    // Warm up once, then keep the fastest of five.
    let _ = encode(snapshot, None, settings.clone(), format).unwrap();
    let mut best = f64::MAX;
    let mut bytes = 0;
    let mut peak_extra = 0;
    let mut allocations = 0;
    for _ in 0..5 {
        let before = IN_USE.load(Ordering::Relaxed);
        PEAK.store(before, Ordering::Relaxed);
        let allocs_before = ALLOCATIONS.load(Ordering::Relaxed);
        let start = Instant::now();
        let text = encode(snapshot, None, settings.clone(), format).unwrap();
        let took = start.elapsed().as_secs_f64() * 1_000.0;
        let peak = PEAK.load(Ordering::Relaxed);
        allocations = ALLOCATIONS.load(Ordering::Relaxed) - allocs_before;
        best = best.min(took);
        bytes = text.len();
        peak_extra = peak_extra.max(peak - before);
        drop(text);
    }
    (best, bytes, peak_extra, allocations)
}

fn mib(bytes: usize) -> String {
    #[allow(clippy::cast_precision_loss)]
    let m = bytes as f64 / (1024.0 * 1024.0);
    format!("{m:.1} MiB")
}

fn main() {
    let mut rows = Vec::new();
    for partitions in [10_000, 100_000] {
        let snap = snapshot(partitions);
        for (sets, label) in [
            (&[NameSet::Native][..], "native"),
            (&NameSet::ALL[..], "all three"),
        ] {
            for (format, fname) in [
                (Format::PrometheusText, "Prometheus 0.0.4"),
                (Format::OpenMetrics, "OpenMetrics"),
            ] {
                let (millis, bytes, peak_extra, allocations) = measure(&snap, sets, format);
                rows.push(Row {
                    partitions,
                    sets: label,
                    format: fname,
                    millis,
                    bytes,
                    peak_extra,
                    allocations,
                });
            }
        }
    }
    let mut table = String::from(
        "| group partitions (+ as many topic partitions) | sets | format | scrape ms | bytes | peak extra heap | heap / bytes | allocations per scrape |\n|---|---|---|---|---|---|---|---|\n",
    );
    for r in &rows {
        #[allow(clippy::cast_precision_loss)]
        let ratio = r.peak_extra as f64 / r.bytes as f64;
        table.push_str(&format!(
            "| {} | {} | {} | {:.1} | {} | {} | {:.2} | {} |\n",
            r.partitions,
            r.sets,
            r.format,
            r.millis,
            mib(r.bytes),
            mib(r.peak_extra),
            ratio,
            r.allocations
        ));
    }
    println!("{table}");
    write_section(&table);
}

/// Replaces the "/metrics scrape" measurements in docs/benchmarks.md.
fn write_section(table: &str) {
    let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../../docs/benchmarks.md");
    let start = "<!-- bench:metrics-scrape:start -->";
    let end = "<!-- bench:metrics-scrape:end -->";
    let current = std::fs::read_to_string(&path).expect("read docs/benchmarks.md");
    let section = format!(
        "{start}\n## /metrics scrape (`lagwatch-metrics`)\n\n`cargo bench -p lagwatch-metrics --bench scrape`: one encoding of a snapshot whose groups have 100 partitions each, every group reading its own 100-partition topic (so as many topic partitions as group partitions), all partitions committed with a time lag and a trend (so every trend series is written; before trends the native set at 100000 took about 166 ms and 92.9 MiB); best of five after a warm-up, single thread. \"Peak extra heap\" is the highest heap in use during the scrape minus the heap in use before it, counted by a global allocator wrapper; it includes the output string (sized up front from the snapshot), so \"heap / bytes\" near 1 means nothing else of note is allocated; \"allocations per scrape\" counts every heap allocation (the per-group scratch lists grow a few times, nothing is allocated per series, so it does not grow with the partition count).\n\n{table}\n{end}"
    );
    let updated = match (current.find(start), current.find(end)) {
        (Some(s), Some(e)) if e > s => {
            format!("{}{}{}", &current[..s], section, &current[e + end.len()..])
        }
        _ => format!("{}\n\n{section}\n", current.trim_end_matches('\n')),
    };
    std::fs::write(&path, updated).expect("write docs/benchmarks.md");
    println!("wrote {}", path.display());
}
