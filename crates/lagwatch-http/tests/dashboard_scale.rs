//! The dashboard's overview with 1,000 groups in headless Chromium (`chromium` service): it
//! shows one page of 100 rows worst first with the API's statuses, pages through the rest and
//! filters by name. Prints the size of the list it fetches, the time to first chart and the
//! time a filter takes to redraw (figures for docs/benchmarks.md, not assertions).
#![allow(clippy::unwrap_used, clippy::expect_used)]

use lagwatch_core::snapshot::{SnapshotData, TopicOffsets};
use lagwatch_core::{PartitionStatus, Snapshot};
use lagwatch_http::{HttpServer, HttpSettings};
use lagwatch_runtime::PipelineHandle;
use lagwatch_test_support::sample::{group, partition};
use lagwatch_test_support::services::browser::Browser;
use lagwatch_test_support::services::env;
use serde_json::Value;
use std::time::Duration;
use tokio_util::sync::CancellationToken;

const GROUPS: usize = 1_000;
const PARTITIONS: i32 = 10;
const TIMEOUT: Duration = Duration::from_secs(60);
const HOSTILE: &str = "group-<img src=x onerror=\"window.pwned=1\">&amp;'\"<b>x</b>";

fn snapshot(at: i64, cycle: u64) -> Snapshot {
    let step = cycle;
    let mut reports: Vec<_> = (0..GROUPS)
        .map(|g| {
            let status = match g % 50 {
                0 => PartitionStatus::Stop,
                1..=4 => PartitionStatus::Warn,
                _ => PartitionStatus::Ok,
            };
            let parts = (0..PARTITIONS)
                .map(|p| {
                    let lag = (g as u64 * 7 + p as u64 + step * (g as u64 % 5)) % 5_000;
                    partition(
                        "events",
                        p,
                        if p == 0 { status } else { PartitionStatus::Ok },
                        lag,
                        Some(1_000 + i64::from(p)),
                        "/10.0.0.1",
                        at,
                    )
                })
                .collect();
            // One name full of markup: the page must show it as text.
            let name = if g == 7 {
                HOSTILE.to_owned()
            } else {
                format!("group-{g:05}")
            };
            group("big", &name, parts, at)
        })
        .collect();
    reports.sort_by(|a, b| a.group.cmp(&b.group));
    Snapshot::new(SnapshotData {
        at_ms: at,
        cycle,
        groups: reports,
        topics: vec![TopicOffsets {
            cluster: "big".into(),
            topic: "events".into(),
            high_water: (0..PARTITIONS)
                .map(|p| Some(9_000 + i64::from(p)))
                .collect(),
            log_start: vec![Some(0); PARTITIONS as usize],
        }],
    })
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_thousand_groups_are_paged_and_filtered_in_chromium() {
    env::require("LAGWATCH_TEST_CHROMEDRIVER", "chromium");
    let now = 1_700_000_000_000;
    let settings = HttpSettings {
        listen: "127.0.0.1:0".parse().unwrap(),
        ..HttpSettings::default()
    };
    let server = HttpServer::new(settings, PipelineHandle::detached(snapshot(now, 60)));
    // An hour of history at one point a minute: full sparklines.
    for i in 1..=60u64 {
        server
            .history()
            .record(&snapshot(now - 3_600_000 + i as i64 * 60_000, i));
    }
    let server = server.bind().await.unwrap();
    let url = server.url();
    let stop = CancellationToken::new();
    let serving = tokio::spawn(server.serve(stop.clone()));

    let list = reqwest::get(format!("{url}/api/v1/groups?sparkline=true"))
        .await
        .unwrap()
        .bytes()
        .await
        .unwrap();
    let api: Value = serde_json::from_slice(&list).unwrap();
    let api_groups = api["groups"].as_array().unwrap();
    assert_eq!(api_groups.len(), GROUPS);

    let browser = Browser::start().await.unwrap();
    browser.goto(&format!("{url}/")).await.unwrap();
    let first = browser
        .wait_for_script(
            "return document.querySelectorAll('tr.group-row').length === 100 \
             && window.lagwatch.firstChartMs",
            TIMEOUT,
        )
        .await
        .unwrap_or_else(|e| panic!("{e:#}\n{}", browser.log_tail()));

    // The first page is the API's first 100 groups, worst first, with their statuses.
    let shown = browser
        .execute(
            "return [...document.querySelectorAll('tr.group-row')]\
             .map(r => [r.dataset.group, r.dataset.status])",
            Vec::new(),
        )
        .await
        .unwrap();
    let wanted: Vec<Value> = api_groups[..100]
        .iter()
        .map(|g| serde_json::json!([g["group"], g["status"]]))
        .collect();
    assert_eq!(shown.as_array().unwrap(), &wanted);
    assert_eq!(shown[0][1], "ERR");
    let pager = browser.find("#pager").await.unwrap();
    assert!(browser.text(&pager).await.unwrap().contains("page 1 of 10"));

    // The next page, then a filter by name.
    let next = browser.find("#next").await.unwrap();
    browser.click(&next).await.unwrap();
    let second = browser
        .execute(
            "return document.querySelector('tr.group-row').dataset.group",
            Vec::new(),
        )
        .await
        .unwrap();
    assert_eq!(second, api_groups[100]["group"]);
    let filtered = browser
        .execute(
            "const f = document.getElementById('filter'); const t0 = performance.now(); \
             f.value = 'GROUP-00123'; f.dispatchEvent(new Event('input')); \
             const ms = performance.now() - t0; \
             return [ms, [...document.querySelectorAll('tr.group-row')].map(r => r.dataset.group)];",
            Vec::new(),
        )
        .await
        .unwrap();
    assert_eq!(filtered[1], serde_json::json!(["group-00123"]));
    // A name made of markup is shown as text, found by the filter, and opens its page.
    let hostile = browser
        .execute(
            "const f = document.getElementById('filter'); f.value = '<img'; \
             f.dispatchEvent(new Event('input')); \
             const rows = [...document.querySelectorAll('tr.group-row')]; \
             return [rows.map(r => r.dataset.group), rows.map(r => r.querySelector('td.name a').textContent), \
                     document.querySelectorAll('#group-table img, #group-table b').length, \
                     window.pwned === undefined];",
            Vec::new(),
        )
        .await
        .unwrap();
    assert_eq!(hostile[0], serde_json::json!([HOSTILE]));
    assert_eq!(hostile[1], serde_json::json!([HOSTILE]));
    assert_eq!(hostile[2], 0);
    assert_eq!(hostile[3], true);
    let link = browser.find("tr.group-row td.name a").await.unwrap();
    browser.click(&link).await.unwrap();
    let title = browser
        .wait_for_script(
            "const t = document.querySelector('#title'); \
             return t && document.querySelector('tr.partition-row') && t.textContent",
            TIMEOUT,
        )
        .await
        .unwrap();
    assert!(title.as_str().unwrap().contains(HOSTILE), "{title}");
    browser.execute("history.back()", Vec::new()).await.unwrap();
    browser
        .wait_for_elements("#filter", 1, TIMEOUT)
        .await
        .unwrap();

    let unfiltered = browser
        .execute(
            "const f = document.getElementById('filter'); const t0 = performance.now(); \
             f.value = ''; f.dispatchEvent(new Event('input')); \
             return [performance.now() - t0, document.querySelectorAll('tr.group-row').length];",
            Vec::new(),
        )
        .await
        .unwrap();
    assert_eq!(unfiltered[1], 100);
    browser
        .screenshot(
            &std::path::PathBuf::from(env!("CARGO_TARGET_TMPDIR"))
                .join("dashboard")
                .join("thousand-groups.png"),
        )
        .await
        .unwrap();

    println!(
        "{GROUPS} groups: /api/v1/groups?sparkline=true is {} bytes",
        list.len()
    );
    println!("time to first chart: {first} ms after navigation start");
    println!(
        "filter to one group: {:.1} ms; back to a page of 100 rows: {:.1} ms",
        filtered[0].as_f64().unwrap(),
        unfiltered[0].as_f64().unwrap()
    );
    drop(browser);
    stop.cancel();
    serving.await.unwrap().unwrap();
}
