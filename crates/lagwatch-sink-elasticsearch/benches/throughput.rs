//! Throughput of the Elasticsearch sink: documents per second into the harness's
//! Elasticsearch (`LAGWATCH_TEST_ELASTICSEARCH`) through `_bulk`, plain and gzipped, and the
//! disk spool's append rate (synced per snapshot-sized batch). Prints a Markdown table for
//! docs/benchmarks.md. Run: `cargo bench -p lagwatch-sink-elasticsearch`.
#![allow(clippy::unwrap_used, clippy::expect_used, missing_docs)]

use lagwatch_component::FromConfig;
use lagwatch_config::ElasticsearchSinkConfig;
use lagwatch_sink_elasticsearch::ElasticsearchSink;
use lagwatch_sink_elasticsearch::bulk::Doc;
use lagwatch_sink_elasticsearch::spool::{FullPolicy, Spool};
use lagwatch_test_support::sample;
use lagwatch_test_support::services::{env, es};
use std::time::{Duration, Instant};

/// `n` distinct documents of the sample's shape (one evaluation every 10 s).
fn docs(sink: &ElasticsearchSink, n: usize) -> Vec<Vec<Doc>> {
    let mut out = Vec::new();
    let mut total = 0;
    let mut i = 0;
    while total < n {
        let snapshot = sample::snapshot_at(sample::SAMPLE_AT_MS + i * 10_000, i as u64 + 1);
        let d = sink.documents(&snapshot);
        total += d.len();
        out.push(d);
        i += 1;
    }
    out
}

fn main() {
    let url = env::elasticsearch();
    let rt = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .unwrap();
    const N: usize = 60_000;
    println!("| measurement | documents | seconds | documents/s |");
    println!("|---|---|---|---|");
    for gzip in [false, true] {
        let index = if gzip {
            "lagwatch-bench-gzip"
        } else {
            "lagwatch-bench"
        };
        rt.block_on(es::delete_index(&url, index)).unwrap();
        let mut cfg = ElasticsearchSinkConfig::new(&url);
        cfg.index_name = index.into();
        cfg.gzip = gzip;
        cfg.batch_max_wait = Duration::from_millis(5);
        cfg.timeout = Duration::from_secs(30);
        let sink = ElasticsearchSink::from_config("bench", &cfg).unwrap();
        let batches = docs(&sink, N);
        // Bulk requests of 1000 documents (the default batch_max_docs).
        let flat: Vec<Doc> = batches.into_iter().flatten().collect();
        let count = flat.len();
        let start = Instant::now();
        rt.block_on(async {
            for chunk in flat.chunks(1000) {
                sink.write_docs(chunk.to_vec()).await.unwrap();
            }
        });
        let secs = start.elapsed().as_secs_f64();
        println!(
            "| `_bulk` into Elasticsearch 9{} | {count} | {secs:.2} | {:.0} |",
            if gzip { ", gzip" } else { "" },
            count as f64 / secs
        );
        rt.block_on(es::delete_index(&url, index)).unwrap();
    }

    let dir = tempfile::tempdir().unwrap();
    let spool = Spool::open(dir.path(), 1 << 32, FullPolicy::DropNewest).unwrap();
    let sink =
        ElasticsearchSink::from_config("bench", &ElasticsearchSinkConfig::new(&url)).unwrap();
    let batches = docs(&sink, N);
    let count: usize = batches.iter().map(Vec::len).sum();
    let start = Instant::now();
    for batch in &batches {
        spool.append(batch).unwrap();
    }
    let secs = start.elapsed().as_secs_f64();
    println!(
        "| spool append, fsync per snapshot ({} documents each) | {count} | {secs:.2} | {:.0} |",
        batches[0].len(),
        count as f64 / secs
    );
    let start = Instant::now();
    let mut read = 0;
    loop {
        let (docs, cursor) = spool.peek(1000, 5 << 20).unwrap();
        if docs.is_empty() {
            break;
        }
        read += docs.len();
        spool.commit(cursor).unwrap();
    }
    let secs = start.elapsed().as_secs_f64();
    println!(
        "| spool read + commit (1000 per batch) | {read} | {secs:.2} | {:.0} |",
        read as f64 / secs
    );
}
