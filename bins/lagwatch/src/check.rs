//! `lagwatch check`: a one-shot look at a cluster's consumer groups, like
//! `kafka-consumer-groups --describe --all-groups`, with lag, time lag and (given several
//! samples) Burrow's status; and at its share groups, like `kafka-share-groups --describe`
//! (the offset column shows a share group's start offset).

use crate::cli::{CheckArgs, CheckOutput};
use lagwatch_lib::component::FromConfig;
use lagwatch_lib::config::KafkaSourceConfig;
use lagwatch_lib::config::kafka::KafkaMode;
use lagwatch_lib::core::filter::NameFilter;
use lagwatch_lib::core::report::GroupType;
use lagwatch_lib::core::trend::TrendFields;
use lagwatch_lib::core::{
    EvaluatorSettings, GroupReport, LagModel, ModelSettings, PartitionStatus,
};
use lagwatch_lib::sources::kafka::{KafkaSource, KafkaSourceStats};
use serde::Serialize;
use std::io::{IsTerminal, Write};
use std::process::ExitCode;
use std::time::{Duration, Instant};

/// Exit code when every partition is OK (or no status was computed).
const EXIT_OK: u8 = 0;
/// Exit code when the worst status is WARN.
const EXIT_WARN: u8 = 1;
/// Exit code when some group is ERR (STOP, STALL or REWIND).
const EXIT_ERR: u8 = 2;
/// Exit code when the cluster could not be read.
const EXIT_UNREADABLE: u8 = 3;

/// One output row: a partition of a group.
#[derive(Debug, Serialize)]
struct Row {
    cluster: String,
    group: String,
    /// `consumer` or `share`.
    group_type: &'static str,
    topic: String,
    partition: i32,
    /// A consumer group's newest committed offset (`null` for a share group).
    committed_offset: Option<i64>,
    /// A share group's share-partition start offset: every record below it is done (left
    /// out for a consumer group).
    #[serde(skip_serializing_if = "Option::is_none")]
    start_offset: Option<i64>,
    log_end_offset: Option<i64>,
    log_start_offset: Option<i64>,
    lag: u64,
    time_lag_seconds: Option<f64>,
    /// Rates, time to catch up and retention deadline (from two samples on; each left out
    /// when unknown).
    #[serde(flatten)]
    trend: TrendFields,
    owner: String,
    client_id: String,
    /// Burrow's partition status; `null` with a single sample (one sample cannot tell).
    status: Option<&'static str>,
    /// `true` when the status cannot be trusted yet: a single sample, or a window filled to
    /// less than `minimum_complete`.
    warming_up: bool,
}

use lagwatch_lib::component::clock::wall_clock_ms as now_ms;

fn source_config(args: &CheckArgs) -> anyhow::Result<KafkaSourceConfig> {
    let mut c = KafkaSourceConfig::new(args.cluster.clone(), args.bootstrap.clone());
    c.mode = KafkaMode::Admin;
    c.group_allowlist = args.group.clone().unwrap_or_default();
    // Like the Java tool with --all-groups: every group unless --group narrows it.
    c.group_denylist = String::new();
    c.request_timeout = args.timeout;
    c.concurrency = args.concurrency;
    c.batched_offsets = !args.no_batched_offsets;
    if let Some(protocol) = args.security_protocol {
        c.security_protocol = protocol;
    }
    if let Some(mechanism) = args.sasl_mechanism {
        c.sasl_mechanism = mechanism;
    }
    if let Some(user) = &args.sasl_username {
        c.sasl_username = user.clone();
        c.sasl_password = std::env::var("LAGWATCH_SASL_PASSWORD")
            .unwrap_or_default()
            .into();
    }
    if let Some(ca) = &args.tls_ca {
        c.tls_ca = ca.clone();
    }
    for property in &args.property {
        let Some((key, value)) = property.split_once('=') else {
            anyhow::bail!("-X {property:?}: expected KEY=VALUE");
        };
        c.librdkafka
            .insert(key.trim().to_owned(), value.to_owned().into());
    }
    // The source section is checked as `lagwatch validate` would check it in a file (the
    // stdout sink only completes the configuration).
    let mut config = lagwatch_lib::config::Config::default();
    config.sinks.insert(
        "out".into(),
        lagwatch_lib::config::SinkConfig::Stdout(Default::default()),
    );
    config.sources.insert(
        "check".into(),
        lagwatch_lib::config::SourceConfig::Kafka(Box::new(c.clone())),
    );
    config
        .validate()
        .map_err(|e| anyhow::anyhow!("{}", e.to_string().replace("sources.check.", "")))?;
    Ok(c)
}

/// Shows progress on standard error while a read runs: a line rewritten in place on a
/// terminal, nothing otherwise (one line per sample is printed instead).
async fn progress(
    stats: impl Fn() -> KafkaSourceStats,
    label: String,
    started: Instant,
) -> std::convert::Infallible {
    if !std::io::stderr().is_terminal() {
        return std::future::pending().await;
    }
    loop {
        tokio::time::sleep(Duration::from_millis(250)).await;
        let s = stats();
        eprint!(
            "\r{label}: {} groups listed, {} requests, {:.1} s   ",
            s.groups,
            s.requests,
            started.elapsed().as_secs_f64()
        );
        let _ = std::io::stderr().flush();
    }
}

/// Runs `lagwatch check`.
pub fn check(args: CheckArgs) -> anyhow::Result<ExitCode> {
    let config = source_config(&args)?;
    let source = KafkaSource::from_config(&args.cluster, &config)?;
    let runtime = crate::async_runtime::runtime()?;
    let samples = args.samples.max(1);
    let rows = runtime.block_on(async {
        let mut snapshots = source.snapshots()?;
        let mut model = LagModel::new(ModelSettings {
            groups: NameFilter::allow_all(),
            topics: NameFilter::allow_all(),
            ..ModelSettings::default()
        });
        for sample in 1..=samples {
            if sample > 1 {
                tokio::time::sleep(args.interval).await;
            }
            let started = Instant::now();
            let label = format!("reading {} (sample {sample}/{samples})", args.bootstrap);
            let events = tokio::select! {
                events = snapshots.next() => events,
                never = progress(|| source.stats(), label.clone(), started) => match never {},
            };
            let events = events?;
            let now = now_ms();
            for event in &events {
                model.apply(event, now);
            }
            let s = source.stats();
            eprintln!(
                "\r{label}: {} groups, {} requests, {:.2} s   ",
                s.groups,
                s.requests,
                started.elapsed().as_secs_f64()
            );
        }
        // A single look is all `check` gets: its samples are judged as they are (no time-based
        // warm-up), and a one-sample answer is flagged instead.
        let settings = EvaluatorSettings {
            warm_up_ms: 0,
            ..EvaluatorSettings::default()
        };
        let snapshot = model.snapshot(now_ms(), &settings, 0);
        Ok::<_, anyhow::Error>(rows(&args.cluster, &snapshot.groups, samples > 1))
    });
    let rows = match rows {
        Ok(rows) => rows,
        Err(e) => {
            eprintln!(
                "lagwatch: error: cannot read the cluster at {}: {e:#}",
                args.bootstrap
            );
            return Ok(ExitCode::from(EXIT_UNREADABLE));
        }
    };
    match args.output {
        CheckOutput::Json => {
            // Buffered: standard output is line-buffered even into a pipe, which would cost
            // one write per row.
            let mut out = std::io::BufWriter::new(std::io::stdout().lock());
            for row in &rows {
                serde_json::to_writer(&mut out, row)?;
                writeln!(out)?;
            }
            out.flush()?;
        }
        CheckOutput::Table => print_table(&rows)?,
    }
    let worst = rows
        .iter()
        .filter_map(|r| r.status)
        .map(|s| match s {
            "OK" => EXIT_OK,
            "WARN" => EXIT_WARN,
            _ => EXIT_ERR,
        })
        .max()
        .unwrap_or(EXIT_OK);
    Ok(ExitCode::from(worst))
}

fn rows(cluster: &str, groups: &[GroupReport], with_status: bool) -> Vec<Row> {
    let mut rows = Vec::new();
    for g in groups {
        let share = g.group_type == GroupType::Share;
        for p in &g.partitions {
            let offset = p.end.as_ref().map(|e| e.offset);
            rows.push(Row {
                cluster: cluster.to_owned(),
                group: g.group.clone(),
                group_type: g.group_type.as_str(),
                topic: p.topic.clone(),
                partition: p.partition,
                committed_offset: offset.filter(|_| !share),
                start_offset: offset.filter(|_| share),
                log_end_offset: p.extras.log_end_offset,
                log_start_offset: p.extras.log_start_offset,
                lag: p.current_lag,
                time_lag_seconds: p.extras.time_lag.map(|t| t.seconds),
                trend: p
                    .extras
                    .trend
                    .as_ref()
                    .map(TrendFields::from)
                    .unwrap_or_default(),
                owner: p.owner.clone(),
                client_id: p.client_id.clone(),
                status: with_status.then(|| status_name(p.status)),
                warming_up: !with_status || p.extras.warming_up,
            });
        }
    }
    rows
}

fn status_name(status: PartitionStatus) -> &'static str {
    status.as_str()
}

/// A name for the terminal: control characters shown as escapes, `-` when empty.
fn text_or_dash(text: &str) -> String {
    if text.is_empty() {
        "-".to_owned()
    } else {
        lagwatch_lib::core::text::escape_for_terminal(text).into_owned()
    }
}

fn print_table(rows: &[Row]) -> std::io::Result<()> {
    let mut out = std::io::BufWriter::new(std::io::stdout().lock());
    let dash = |v: Option<i64>| v.map_or_else(|| "-".to_owned(), |v| v.to_string());
    let cells: Vec<[String; 10]> = rows
        .iter()
        .map(|r| {
            [
                text_or_dash(&r.group),
                text_or_dash(&r.topic),
                r.partition.to_string(),
                dash(r.committed_offset.or(r.start_offset)),
                dash(r.log_end_offset),
                r.lag.to_string(),
                text_or_dash(&r.owner),
                text_or_dash(&r.client_id),
                r.status.unwrap_or("-").to_owned(),
                r.group_type.to_owned(),
            ]
        })
        .collect();
    let header = [
        "GROUP",
        "TOPIC",
        "PARTITION",
        "CURRENT-OFFSET",
        "LOG-END-OFFSET",
        "LAG",
        "OWNER",
        "CLIENT-ID",
        "STATUS",
        "TYPE",
    ];
    let mut widths: Vec<usize> = header.iter().map(|h| h.len()).collect();
    for row in &cells {
        for (w, cell) in widths.iter_mut().zip(row) {
            *w = (*w).max(cell.len());
        }
    }
    let line = |cells: &[&str]| {
        cells
            .iter()
            .zip(&widths)
            .map(|(c, w)| format!("{c:<w$}"))
            .collect::<Vec<_>>()
            .join("  ")
            .trim_end()
            .to_owned()
    };
    writeln!(out, "{}", line(&header))?;
    for row in &cells {
        let refs: Vec<&str> = row.iter().map(String::as_str).collect();
        writeln!(out, "{}", line(&refs))?;
    }
    if rows.is_empty() {
        writeln!(
            out,
            "(no consumer group with committed offsets, no share group)"
        )?;
    }
    out.flush()
}

#[cfg(test)]
mod tests {
    use super::{rows, text_or_dash};
    use lagwatch_lib::core::PartitionStatus;
    use lagwatch_lib::core::trend::{CatchUp, Trend};
    use lagwatch_test_support::sample;

    #[test]
    fn json_rows_carry_the_trend_and_leave_out_what_is_unknown() {
        let at = sample::SAMPLE_AT_MS;
        let mut p0 = sample::partition("orders", 0, PartitionStatus::Ok, 800, Some(1_200), "", at);
        p0.extras.trend = Some(Trend {
            production_rate: Some(100.0),
            consumption_rate: Some(150.0),
            lag_rate: Some(-50.0),
            catch_up: CatchUp::In { seconds: 16.0 },
            ..Trend::UNKNOWN
        });
        let p1 = sample::partition("orders", 1, PartitionStatus::Ok, 5, Some(10), "", at);
        let group = sample::group("live", "search", vec![p0, p1], at);
        let rows = rows("live", &[group], true);
        let json: Vec<serde_json::Value> = rows
            .iter()
            .map(|r| serde_json::to_value(r).unwrap_or_default())
            .collect();
        assert_eq!(json[0]["production_rate"], 100.0);
        assert_eq!(json[0]["consumption_rate"], 150.0);
        assert_eq!(json[0]["lag_rate"], -50.0);
        assert_eq!(json[0]["time_to_catch_up_seconds"], 16.0);
        assert_eq!(json[0]["catching_up"], true);
        assert_eq!(json[0].get("retention_deadline_seconds"), None);
        assert_eq!(json[0].get("data_loss_before_catch_up"), None);
        assert_eq!(json[0]["lag"], 800);
        for key in ["production_rate", "catching_up", "time_to_catch_up_seconds"] {
            assert_eq!(json[1].get(key), None, "{key} without a trend");
        }
    }

    #[test]
    fn names_reach_the_terminal_escaped() {
        assert_eq!(text_or_dash(""), "-");
        assert_eq!(text_or_dash("orders"), "orders");
        let hostile = text_or_dash("g\u{1b}[2J\u{7}\u{202e}x");
        assert!(
            !hostile
                .chars()
                .any(lagwatch_lib::core::text::is_unsafe_for_terminal),
            "{hostile:?}"
        );
    }
}
