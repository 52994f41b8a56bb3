//! Burrow API latency under concurrent clients: `cargo bench -p lagwatch-http --bench api_latency`.
//!
//! A server on loopback answers from a synthetic snapshot (1,000 groups of 10 partitions by
//! default); 100 clients, each with its own keep-alive connection, ask for `/lag` of random
//! groups (what Telegraf's `inputs.burrow` asks for, once per group per gather) as fast as they
//! get answers. Prints latency percentiles and throughput per endpoint.
//! `LAGWATCH_BENCH_GROUPS`, `LAGWATCH_BENCH_CLIENTS` and `LAGWATCH_BENCH_REQUESTS` (per client)
//! change the sizes.
#![allow(clippy::unwrap_used, clippy::expect_used)] // a benchmark may panic

use lagwatch_core::snapshot::{SnapshotData, TopicOffsets};
use lagwatch_core::{PartitionStatus, Snapshot};
use lagwatch_http::{HttpServer, HttpSettings};
use lagwatch_runtime::PipelineHandle;
use lagwatch_test_support::sample::{group, partition};
use std::time::{Duration, Instant};
use tokio_util::sync::CancellationToken;

fn env_or(name: &str, default: usize) -> usize {
    std::env::var(name)
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(default)
}

/// A column name and the path asked for group number `n`.
type Endpoint = (&'static str, fn(usize) -> String);

fn snapshot(groups: usize, partitions: i32) -> Snapshot {
    let at = 1_700_000_000_000;
    let mut reports: Vec<_> = (0..groups)
        .map(|g| {
            let parts = (0..partitions)
                .map(|p| {
                    let status = if g % 10 == 0 {
                        PartitionStatus::Warn
                    } else {
                        PartitionStatus::Ok
                    };
                    partition(
                        "events",
                        p,
                        status,
                        (g as u64 * 7 + p as u64) % 500,
                        Some(1_000 + i64::from(p)),
                        "/10.0.0.1",
                        at,
                    )
                })
                .collect();
            group("bench", &format!("group-{g:05}"), parts, at)
        })
        .collect();
    reports.sort_by(|a, b| a.group.cmp(&b.group));
    Snapshot::new(SnapshotData {
        at_ms: at,
        cycle: 1,
        groups: reports,
        topics: vec![TopicOffsets {
            cluster: "bench".into(),
            topic: "events".into(),
            high_water: (0..partitions)
                .map(|p| Some(2_000 + i64::from(p)))
                .collect(),
            log_start: vec![Some(0); partitions as usize],
        }],
    })
}

fn percentile(sorted: &[Duration], q: f64) -> Duration {
    let i = ((sorted.len() as f64 - 1.0) * q).round() as usize;
    sorted[i.min(sorted.len() - 1)]
}

/// Latencies of kept-alive requests (sorted), of each client's first request (which opens its
/// connection; sorted), and the wall time.
async fn run(
    url: &str,
    groups: usize,
    clients: usize,
    per_client: usize,
    path: fn(usize) -> String,
) -> (Vec<Duration>, Vec<Duration>, Duration) {
    let started = Instant::now();
    let mut tasks = Vec::new();
    for c in 0..clients {
        let url = url.to_owned();
        tasks.push(tokio::spawn(async move {
            let client = reqwest::Client::builder()
                .pool_max_idle_per_host(1)
                .build()
                .unwrap();
            let mut times = Vec::with_capacity(per_client);
            let mut state = (c as u64 + 1).wrapping_mul(0x9e37_79b9_7f4a_7c15);
            for _ in 0..per_client {
                state ^= state << 13;
                state ^= state >> 7;
                state ^= state << 17;
                let g = (state % groups as u64) as usize;
                let t = Instant::now();
                let response = client
                    .get(format!("{url}{}", path(g)))
                    .send()
                    .await
                    .unwrap();
                assert!(response.status().is_success());
                let _ = response.bytes().await.unwrap();
                times.push(t.elapsed());
            }
            times
        }));
    }
    let mut all = Vec::new();
    let mut first = Vec::new();
    for t in tasks {
        let mut times = t.await.unwrap();
        if !times.is_empty() {
            first.push(times.remove(0));
        }
        all.extend(times);
    }
    let wall = started.elapsed();
    all.sort();
    first.sort();
    (all, first, wall)
}

fn main() {
    let groups = env_or("LAGWATCH_BENCH_GROUPS", 1_000);
    let clients = env_or("LAGWATCH_BENCH_CLIENTS", 100);
    let per_client = env_or("LAGWATCH_BENCH_REQUESTS", 200);
    let rt = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .unwrap();
    rt.block_on(async {
        let settings = HttpSettings {
            listen: "127.0.0.1:0".parse().unwrap(),
            ..HttpSettings::default()
        };
        let server = HttpServer::new(settings, PipelineHandle::detached(snapshot(groups, 10)))
            .bind()
            .await
            .unwrap();
        let url = server.url();
        let stop = CancellationToken::new();
        let serving = tokio::spawn(server.serve(stop.clone()));
        println!(
            "Burrow API on loopback: {groups} groups x 10 partitions, {clients} concurrent clients, {per_client} requests each"
        );
        println!("| endpoint | requests | p50 | p90 | p99 | max | first request p50 / max | requests/s |");
        println!("|---|---|---|---|---|---|---|---|");
        let endpoints: [Endpoint; 3] = [
            ("`/v3/kafka/<c>/consumer/<g>/lag`", |g| format!("/v3/kafka/bench/consumer/group-{g:05}/lag")),
            ("`/v3/kafka/<c>/consumer/<g>/status`", |g| format!("/v3/kafka/bench/consumer/group-{g:05}/status")),
            ("`/v3/kafka/<c>/consumer`", |_| "/v3/kafka/bench/consumer".to_owned()),
        ];
        for (name, path) in endpoints {
            let (times, first, wall) = run(&url, groups, clients, per_client, path).await;
            let ms = |d: Duration| format!("{:.2} ms", d.as_secs_f64() * 1000.0);
            println!(
                "| {name} | {} | {} | {} | {} | {} | {} / {} | {:.0} |",
                times.len() + first.len(),
                ms(percentile(&times, 0.5)),
                ms(percentile(&times, 0.9)),
                ms(percentile(&times, 0.99)),
                ms(*times.last().unwrap()),
                ms(percentile(&first, 0.5)),
                ms(*first.last().unwrap()),
                (times.len() + first.len()) as f64 / wall.as_secs_f64()
            );
        }
        stop.cancel();
        let _ = serving.await;
    });
}
