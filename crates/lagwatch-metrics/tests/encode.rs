//! Exact output of every name set for a small hand-built snapshot, label sets against the
//! peer exporters' references, cardinality controls, format negotiation, and a property test
//! that the output always parses.
#![allow(missing_docs, clippy::unwrap_used, clippy::expect_used)]

mod common;

use lagwatch_core::Snapshot;
use lagwatch_core::filter::NameFilter;
use lagwatch_core::report::PartitionReport;
use lagwatch_core::snapshot::{SnapshotData, TopicOffsets};
use lagwatch_metrics::{
    Family, Format, MetricVisitor, MetricsSettings, NameSet, SampleSink, Samples, content_type,
    encode, negotiate, visit,
};
use proptest::prelude::*;
use std::collections::{BTreeMap, BTreeSet};
use std::fmt;
use std::sync::Arc;

fn text(snapshot: &Snapshot, settings: MetricsSettings, stats: bool, format: Format) -> String {
    let stats = stats.then(common::stats);
    encode(snapshot, stats, Arc::new(settings), format).unwrap()
}

fn only(set: NameSet) -> MetricsSettings {
    MetricsSettings::with_sets(&[set])
}

#[test]
fn native_set_openmetrics_exact_text() {
    let got = text(
        &common::small_snapshot(),
        only(NameSet::Native),
        false,
        Format::OpenMetrics,
    );
    assert_eq!(got, NATIVE_OPENMETRICS);
}

#[test]
fn kafka_exporter_set_exact_text() {
    let got = text(
        &common::small_snapshot(),
        only(NameSet::KafkaExporter),
        false,
        Format::PrometheusText,
    );
    assert_eq!(got, KAFKA_EXPORTER);
}

#[test]
fn kafka_lag_exporter_set_exact_text() {
    let got = text(
        &common::small_snapshot(),
        only(NameSet::KafkaLagExporter),
        true,
        Format::PrometheusText,
    );
    assert_eq!(got, KAFKA_LAG_EXPORTER);
}

/// Sample lines only.
fn samples(text: &str) -> Vec<&str> {
    text.lines().filter(|l| !l.starts_with('#')).collect()
}

#[test]
fn operational_metrics_come_from_the_runtime_figures() {
    let got = text(
        &common::small_snapshot(),
        only(NameSet::Native),
        true,
        Format::PrometheusText,
    );
    for line in [
        "# TYPE lagwatch_reads_total counter",
        "lagwatch_reads_total{source=\"kafka[live]\",cluster=\"live\"} 5",
        "lagwatch_read_failures_total{source=\"kafka[live]\",cluster=\"live\"} 1",
        "lagwatch_read_duration_seconds{source=\"kafka[live]\",cluster=\"live\"} 0.25",
        "lagwatch_up{source=\"kafka[live]\",cluster=\"live\"} 1",
        "lagwatch_last_success_timestamp_seconds{source=\"kafka[live]\",cluster=\"live\"} 1767225598",
        "lagwatch_evaluations_total 3",
        "lagwatch_evaluation_duration_seconds 0.012",
        "lagwatch_events_total 420",
        "lagwatch_event_queue_depth 1",
        "lagwatch_event_queue_capacity 1024",
        "lagwatch_sink_queue_depth{sink=\"archive\"} 0",
        "lagwatch_sink_queue_capacity{sink=\"archive\"} 16",
        "lagwatch_sink_records_total{sink=\"archive\"} 30",
        "lagwatch_sink_failures_total{sink=\"archive\"} 0",
        "lagwatch_sink_dropped_snapshots_total{sink=\"archive\"} 2",
        "lagwatch_alerter_deliveries_total{alerter=\"slack\"} 1",
        "lagwatch_alerter_failures_total{alerter=\"slack\"} 4",
        "lagwatch_alerter_queue_depth{alerter=\"slack\"} 1",
        "lagwatch_alerter_coalesced_total{alerter=\"slack\"} 6",
        "lagwatch_state_save_failures_total 0",
        "lagwatch_coordination_owned_partitions{cluster=\"live\"} 2",
        "lagwatch_coordination_partitions{cluster=\"live\"} 4",
        "# TYPE lagwatch_build_info gauge",
        "lagwatch_ready 1",
    ] {
        assert!(got.lines().any(|l| l == line), "missing {line:?} in\n{got}");
    }
    // Prometheus text 0.0.4 has no UNIT lines and no EOF marker.
    assert!(!got.contains("# UNIT") && !got.contains("# EOF"));
    // Without runtime figures only build info and the snapshot time are operational.
    let bare = text(
        &common::small_snapshot(),
        only(NameSet::Native),
        false,
        Format::PrometheusText,
    );
    assert!(!bare.contains("lagwatch_reads_total") && !bare.contains("lagwatch_ready"));
}

/// Label names of every family, collected through the visitor.
#[derive(Default)]
struct LabelSets(BTreeMap<String, BTreeSet<Vec<String>>>);

struct Collect<'a>(&'a mut BTreeSet<Vec<String>>);

impl SampleSink for Collect<'_> {
    fn sample(&mut self, labels: &[(&str, &str)], _value: f64) -> fmt::Result {
        self.0
            .insert(labels.iter().map(|(k, _)| (*k).to_owned()).collect());
        Ok(())
    }
}

impl MetricVisitor for LabelSets {
    fn family(&mut self, family: &Family, samples: &mut Samples<'_>) -> fmt::Result {
        let entry = self.0.entry(family.exposed_name()).or_default();
        samples(&mut Collect(entry))
    }
}

fn label_sets(
    snapshot: &Snapshot,
    settings: &MetricsSettings,
) -> BTreeMap<String, BTreeSet<Vec<String>>> {
    let mut sets = LabelSets::default();
    visit(snapshot, Some(&common::stats()), settings, &mut sets).unwrap();
    sets.0
}

fn names(labels: &[&str]) -> BTreeSet<Vec<String>> {
    BTreeSet::from([labels.iter().map(|l| (*l).to_owned()).collect()])
}

/// The reference tables (shared/reference/pipeline.md 7.1, 7.2, 7.6): metric name and label
/// names, in the reference's order.
const KAFKA_EXPORTER_REFERENCE: &[(&str, &[&str])] = &[
    (
        "kafka_consumergroup_current_offset",
        &["consumergroup", "topic", "partition"],
    ),
    (
        "kafka_consumergroup_current_offset_sum",
        &["consumergroup", "topic"],
    ),
    (
        "kafka_consumergroup_lag",
        &["consumergroup", "topic", "partition"],
    ),
    ("kafka_consumergroup_lag_sum", &["consumergroup", "topic"]),
    ("kafka_consumergroup_members", &["consumergroup"]),
    ("kafka_topic_partitions", &["topic"]),
    (
        "kafka_topic_partition_current_offset",
        &["topic", "partition"],
    ),
    (
        "kafka_topic_partition_oldest_offset",
        &["topic", "partition"],
    ),
];

const SEVEN: &[&str] = &[
    "cluster_name",
    "group",
    "topic",
    "partition",
    "member_host",
    "consumer_id",
    "client_id",
];

const KAFKA_LAG_EXPORTER_REFERENCE: &[(&str, &[&str])] = &[
    ("kafka_consumergroup_group_offset", SEVEN),
    ("kafka_consumergroup_group_lag", SEVEN),
    ("kafka_consumergroup_group_lag_seconds", SEVEN),
    (
        "kafka_consumergroup_group_max_lag",
        &["cluster_name", "group"],
    ),
    (
        "kafka_consumergroup_group_max_lag_seconds",
        &["cluster_name", "group"],
    ),
    (
        "kafka_consumergroup_group_sum_lag",
        &["cluster_name", "group"],
    ),
    (
        "kafka_consumergroup_group_topic_sum_lag",
        &["cluster_name", "group", "topic"],
    ),
    (
        "kafka_partition_latest_offset",
        &["cluster_name", "topic", "partition"],
    ),
    (
        "kafka_partition_earliest_offset",
        &["cluster_name", "topic", "partition"],
    ),
    ("kafka_consumergroup_poll_time_ms", &["cluster_name"]),
];

#[test]
fn compatibility_sets_carry_exactly_the_reference_names_and_label_sets() {
    for (set, reference) in [
        (NameSet::KafkaExporter, KAFKA_EXPORTER_REFERENCE),
        (NameSet::KafkaLagExporter, KAFKA_LAG_EXPORTER_REFERENCE),
    ] {
        let got = label_sets(&common::small_snapshot(), &only(set));
        let want: BTreeMap<String, BTreeSet<Vec<String>>> = reference
            .iter()
            .map(|(name, labels)| ((*name).to_owned(), names(labels)))
            .collect();
        assert_eq!(got, want, "{set}");
    }
}

#[test]
fn kafka_exporter_adds_a_cluster_label_only_with_several_clusters() {
    let got = label_sets(
        &common::two_cluster_snapshot(),
        &only(NameSet::KafkaExporter),
    );
    for (name, labels) in KAFKA_EXPORTER_REFERENCE {
        let mut with_cluster = vec!["cluster"];
        with_cluster.extend_from_slice(labels);
        assert_eq!(got[*name], names(&with_cluster), "{name}");
    }
    let text = text(
        &common::two_cluster_snapshot(),
        only(NameSet::KafkaExporter),
        false,
        Format::PrometheusText,
    );
    assert!(text.contains(
        "kafka_consumergroup_lag{cluster=\"backup\",consumergroup=\"app\",topic=\"orders\",partition=\"0\"} 10"
    ));
    assert!(text.contains(
        "kafka_consumergroup_lag{cluster=\"live\",consumergroup=\"app\",topic=\"orders\",partition=\"0\"} 10"
    ));
    assert_no_duplicate_series(&text);
}

#[test]
fn member_labels_off_write_unknown_and_keep_the_label_set() {
    let settings = MetricsSettings {
        member_labels: false,
        ..only(NameSet::KafkaLagExporter)
    };
    let got = label_sets(&common::small_snapshot(), &settings);
    assert_eq!(got["kafka_consumergroup_group_lag"], names(SEVEN));
    let text = text(
        &common::small_snapshot(),
        settings,
        false,
        Format::PrometheusText,
    );
    assert!(text.contains(
        "kafka_consumergroup_group_lag{cluster_name=\"live\",group=\"app\",topic=\"orders\",partition=\"0\",member_host=\"unknown\",consumer_id=\"unknown\",client_id=\"unknown\"} 10"
    ), "{text}");
}

#[test]
fn partition_series_can_be_switched_off_in_every_set() {
    let settings = MetricsSettings {
        partition_series: false,
        ..MetricsSettings::with_sets(&NameSet::ALL)
    };
    let got = label_sets(&common::small_snapshot(), &settings);
    for (name, labels) in &got {
        assert!(
            labels.iter().all(|l| !l.iter().any(|n| n == "partition")),
            "{name} still has partition series"
        );
    }
    // The aggregates stay.
    assert!(got.contains_key("lagwatch_group_total_lag_messages"));
    assert!(got.contains_key("kafka_consumergroup_lag_sum"));
    assert!(got.contains_key("kafka_consumergroup_group_topic_sum_lag"));
}

#[test]
fn group_and_topic_filters_apply_to_every_series_and_aggregate() {
    let settings = MetricsSettings {
        topics: NameFilter::new(None, Some("^orders$")).unwrap(),
        ..MetricsSettings::with_sets(&NameSet::ALL)
    };
    let got = text(
        &common::small_snapshot(),
        settings,
        false,
        Format::PrometheusText,
    );
    assert!(!got.contains("topic=\"orders\""), "{got}");
    assert!(got.contains("topic=\"payments\""));
    // orders' lag of 10 no longer counts in the group's totals.
    assert!(got.contains("lagwatch_group_total_lag_messages{cluster=\"live\",group=\"app\"} 0"));
    assert!(
        got.contains("kafka_consumergroup_group_max_lag{cluster_name=\"live\",group=\"app\"} 0")
    );

    let settings = MetricsSettings {
        groups: NameFilter::new(Some("^other"), None).unwrap(),
        ..MetricsSettings::with_sets(&NameSet::ALL)
    };
    let got = text(
        &common::small_snapshot(),
        settings,
        false,
        Format::PrometheusText,
    );
    assert!(!got.contains("group=\"app\"") && !got.contains("consumergroup=\"app\""));
    // Topic series do not belong to a group and stay.
    assert!(got.contains(
        "lagwatch_partition_end_offset{cluster=\"live\",topic=\"orders\",partition=\"0\"} 100"
    ));
}

#[test]
fn partitions_out_of_topic_order_still_give_one_series_per_group_and_topic() {
    let mut data = common::small_snapshot().data().clone();
    // orders 0, payments 0, orders 1: the two orders partitions are not adjacent.
    data.groups[0].partitions.swap(1, 2);
    let snapshot = Snapshot::new(data);
    let got = text(
        &snapshot,
        MetricsSettings::with_sets(&NameSet::ALL),
        false,
        Format::PrometheusText,
    );
    assert_no_duplicate_series(&got);
    assert!(got.contains("kafka_consumergroup_lag_sum{consumergroup=\"app\",topic=\"orders\"} 10"));
}

#[test]
fn every_set_together_has_no_name_in_common() {
    let all = text(
        &common::small_snapshot(),
        MetricsSettings::with_sets(&NameSet::ALL),
        true,
        Format::OpenMetrics,
    );
    assert_no_duplicate_series(&all);
    let mut seen = BTreeSet::new();
    for line in all.lines().filter(|l| l.starts_with("# TYPE ")) {
        let name = line.split(' ').nth(2).unwrap();
        assert!(seen.insert(name.to_owned()), "family {name} written twice");
    }
    assert!(all.ends_with("# EOF\n"));
}

#[test]
fn format_negotiation_follows_the_accept_header() {
    assert_eq!(negotiate(None), Format::PrometheusText);
    assert_eq!(negotiate(Some("text/plain")), Format::PrometheusText);
    assert_eq!(negotiate(Some("*/*")), Format::PrometheusText);
    // What Prometheus sends.
    let prometheus = "application/openmetrics-text;version=1.0.0;q=0.5,application/openmetrics-text;version=0.0.1;q=0.4,text/plain;version=0.0.4;q=0.3,*/*;q=0.2";
    assert_eq!(negotiate(Some(prometheus)), Format::OpenMetrics);
    assert_eq!(
        negotiate(Some("application/openmetrics-text")),
        Format::OpenMetrics
    );
    assert_eq!(
        negotiate(Some("Application/OpenMetrics-Text; q=0")),
        Format::PrometheusText
    );
    assert_eq!(
        negotiate(Some("text/plain;q=1, application/openmetrics-text;q=0.5")),
        Format::PrometheusText
    );
    assert_eq!(
        negotiate(Some("application/openmetrics-text;q=nonsense")),
        Format::PrometheusText
    );
    assert!(
        content_type(Format::OpenMetrics)
            .starts_with("application/openmetrics-text; version=1.0.0")
    );
    assert_eq!(
        content_type(Format::PrometheusText),
        "text/plain; version=0.0.4; charset=utf-8"
    );
}

fn assert_no_duplicate_series(text: &str) {
    let mut seen = BTreeSet::new();
    for line in samples(text) {
        let series = line.rsplit_once(' ').map_or(line, |(s, _)| s);
        assert!(seen.insert(series), "duplicate series {series}");
    }
}

/// Parses one exposition line; returns what was wrong.
fn check_line(line: &str) -> Result<(), String> {
    fn valid_name(name: &str) -> bool {
        let mut chars = name.chars();
        chars
            .next()
            .is_some_and(|c| c.is_ascii_alphabetic() || c == '_' || c == ':')
            && chars.all(|c| c.is_ascii_alphanumeric() || c == '_' || c == ':')
    }
    if line == "# EOF" {
        return Ok(());
    }
    if let Some(rest) = line.strip_prefix("# ") {
        let mut parts = rest.splitn(3, ' ');
        let (kind, name) = (parts.next(), parts.next());
        return match (kind, name) {
            (Some("HELP" | "TYPE" | "UNIT"), Some(name)) if valid_name(name) => Ok(()),
            _ => Err(format!("bad comment line {line:?}")),
        };
    }
    let name_end = line
        .find(['{', ' '])
        .ok_or(format!("no value in {line:?}"))?;
    if !valid_name(&line[..name_end]) {
        return Err(format!("bad metric name in {line:?}"));
    }
    let mut rest = &line[name_end..];
    if let Some(labels) = rest.strip_prefix('{') {
        let mut s = labels;
        loop {
            let eq = s.find('=').ok_or(format!("label without = in {line:?}"))?;
            if !valid_name(&s[..eq]) {
                return Err(format!("bad label name in {line:?}"));
            }
            s = s[eq + 1..]
                .strip_prefix('"')
                .ok_or(format!("unquoted value in {line:?}"))?;
            // The value: until an unescaped quote; only \\, \" and \n escapes.
            let mut chars = s.char_indices();
            let end = loop {
                match chars.next() {
                    None => return Err(format!("unterminated value in {line:?}")),
                    Some((i, '"')) => break i,
                    Some((_, '\\')) => match chars.next() {
                        Some((_, '\\' | '"' | 'n')) => {}
                        _ => return Err(format!("bad escape in {line:?}")),
                    },
                    Some((_, '\n')) => return Err(format!("raw newline in {line:?}")),
                    Some(_) => {}
                }
            };
            s = &s[end + 1..];
            if let Some(next) = s.strip_prefix(',') {
                s = next;
            } else if let Some(after) = s.strip_prefix('}') {
                rest = after;
                break;
            } else {
                return Err(format!("bad label list in {line:?}"));
            }
        }
    }
    let value = rest
        .strip_prefix(' ')
        .ok_or(format!("no space before value in {line:?}"))?;
    match value {
        "NaN" | "+Inf" | "-Inf" => Ok(()),
        v if v.parse::<f64>().is_ok() => Ok(()),
        v => Err(format!("bad value {v:?} in {line:?}")),
    }
}

fn tricky_name() -> impl Strategy<Value = String> {
    proptest::collection::vec(
        prop_oneof![
            Just("\"".to_owned()),
            Just("\\".to_owned()),
            Just("\n".to_owned()),
            Just("} 1\n# EOF".to_owned()),
            Just("é".to_owned()),
            "[a-z0-9._-]{1,4}",
        ],
        1..6,
    )
    .prop_map(|parts| parts.concat())
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(64))]
    #[test]
    fn output_always_parses_line_by_line(
        cluster in tricky_name(),
        group in tricky_name(),
        topic in tricky_name(),
        owner in tricky_name(),
        lag in 0u64..1_000_000,
        committed in proptest::option::of(0i64..1_000_000),
        partitions in 1i32..4,
        openmetrics in any::<bool>(),
    ) {
        let parts: Vec<PartitionReport> = (0..partitions)
            .map(|p| common::partition(&topic, p, committed, lag, &owner, &owner))
            .collect();
        let snapshot = Snapshot::new(SnapshotData {
            at_ms: common::AT_MS,
            cycle: 1,
            groups: vec![common::group(&cluster, &group, parts)],
            topics: vec![TopicOffsets {
                cluster: cluster.clone(),
                topic: topic.clone(),
                high_water: vec![Some(5); usize::try_from(partitions).unwrap()],
                log_start: vec![Some(1)],
            }],
        });
        let format = if openmetrics { Format::OpenMetrics } else { Format::PrometheusText };
        let out = text(&snapshot, MetricsSettings::with_sets(&NameSet::ALL), true, format);
        for line in out.lines() {
            if let Err(e) = check_line(line) {
                prop_assert!(false, "{}", e);
            }
        }
        prop_assert_eq!(out.ends_with("# EOF\n"), openmetrics);
        assert_no_duplicate_series(&out);
    }
}

const NATIVE_OPENMETRICS: &str = r#"# HELP lagwatch_group_committed_offset Newest committed offset of the group on the partition (absent before the first commit).
# TYPE lagwatch_group_committed_offset gauge
lagwatch_group_committed_offset{cluster="live",group="app",topic="orders",partition="0"} 90
lagwatch_group_committed_offset{cluster="live",group="app",topic="payments",partition="0"} 7
# HELP lagwatch_group_lag_messages Log end offset minus committed offset, floored at 0 (absent before the first commit).
# TYPE lagwatch_group_lag_messages gauge
# UNIT lagwatch_group_lag_messages messages
lagwatch_group_lag_messages{cluster="live",group="app",topic="orders",partition="0"} 10
lagwatch_group_lag_messages{cluster="live",group="app",topic="payments",partition="0"} 0
# HELP lagwatch_group_lag_seconds Estimated time since the committed offset was the log end (absent without an estimate).
# TYPE lagwatch_group_lag_seconds gauge
# UNIT lagwatch_group_lag_seconds seconds
lagwatch_group_lag_seconds{cluster="live",group="app",topic="orders",partition="0"} 2.5
lagwatch_group_lag_seconds{cluster="live",group="app",topic="payments",partition="0"} 0
# HELP lagwatch_group_retention_margin_messages Committed offset minus log start offset: messages left before retention deletes unread data.
# TYPE lagwatch_group_retention_margin_messages gauge
# UNIT lagwatch_group_retention_margin_messages messages
lagwatch_group_retention_margin_messages{cluster="live",group="app",topic="orders",partition="0"} 50
# HELP lagwatch_group_partition_catch_up_seconds Estimated time until the partition's lag is within the allowed lag (0: caught up; absent when not catching up or unknown).
# TYPE lagwatch_group_partition_catch_up_seconds gauge
# UNIT lagwatch_group_partition_catch_up_seconds seconds
lagwatch_group_partition_catch_up_seconds{cluster="live",group="app",topic="orders",partition="0"} 4
lagwatch_group_partition_catch_up_seconds{cluster="live",group="app",topic="payments",partition="0"} 0
# HELP lagwatch_group_partition_lag_rate_messages_per_second Production rate minus consumption rate on the partition (negative: the lag shrinks; absent when unknown).
# TYPE lagwatch_group_partition_lag_rate_messages_per_second gauge
# UNIT lagwatch_group_partition_lag_rate_messages_per_second messages_per_second
lagwatch_group_partition_lag_rate_messages_per_second{cluster="live",group="app",topic="orders",partition="0"} -2.5
lagwatch_group_partition_lag_rate_messages_per_second{cluster="live",group="app",topic="payments",partition="0"} 0
# HELP lagwatch_group_partition_status Partition status code: 1 OK, 2 WARN, 4 STOP, 5 STALL, 6 REWIND (Burrow's numbering).
# TYPE lagwatch_group_partition_status gauge
lagwatch_group_partition_status{cluster="live",group="app",topic="orders",partition="0"} 2
lagwatch_group_partition_status{cluster="live",group="app",topic="orders",partition="1"} 1
lagwatch_group_partition_status{cluster="live",group="app",topic="payments",partition="0"} 1
# HELP lagwatch_group_topic_lag_messages Sum of the group's partition lags on the topic.
# TYPE lagwatch_group_topic_lag_messages gauge
# UNIT lagwatch_group_topic_lag_messages messages
lagwatch_group_topic_lag_messages{cluster="live",group="app",topic="orders"} 10
lagwatch_group_topic_lag_messages{cluster="live",group="app",topic="payments"} 0
# HELP lagwatch_group_total_lag_messages Sum of the group's partition lags.
# TYPE lagwatch_group_total_lag_messages gauge
# UNIT lagwatch_group_total_lag_messages messages
lagwatch_group_total_lag_messages{cluster="live",group="app"} 10
# HELP lagwatch_group_max_lag_messages Largest partition lag of the group.
# TYPE lagwatch_group_max_lag_messages gauge
# UNIT lagwatch_group_max_lag_messages messages
lagwatch_group_max_lag_messages{cluster="live",group="app"} 10
# HELP lagwatch_group_max_lag_seconds Largest estimated time lag of the group's partitions (absent without any estimate).
# TYPE lagwatch_group_max_lag_seconds gauge
# UNIT lagwatch_group_max_lag_seconds seconds
lagwatch_group_max_lag_seconds{cluster="live",group="app"} 2.5
# HELP lagwatch_group_catch_up_seconds Estimated time until the slowest partition of the group catches up (0: caught up; absent when not catching up or unknown).
# TYPE lagwatch_group_catch_up_seconds gauge
# UNIT lagwatch_group_catch_up_seconds seconds
lagwatch_group_catch_up_seconds{cluster="live",group="app"} 4
# HELP lagwatch_group_catching_up 1 when every lagging partition of the group is catching up, 0 when one is not (absent when unknown).
# TYPE lagwatch_group_catching_up gauge
lagwatch_group_catching_up{cluster="live",group="app"} 1
# HELP lagwatch_group_lag_rate_messages_per_second Sum of the partitions' production minus consumption rates (negative: the lag shrinks; absent when unknown).
# TYPE lagwatch_group_lag_rate_messages_per_second gauge
# UNIT lagwatch_group_lag_rate_messages_per_second messages_per_second
lagwatch_group_lag_rate_messages_per_second{cluster="live",group="app"} -2.5
# HELP lagwatch_group_consumption_rate_messages_per_second Sum of the partitions' consumption rates (absent when unknown).
# TYPE lagwatch_group_consumption_rate_messages_per_second gauge
# UNIT lagwatch_group_consumption_rate_messages_per_second messages_per_second
lagwatch_group_consumption_rate_messages_per_second{cluster="live",group="app"} 7.5
# HELP lagwatch_group_retention_deadline_seconds Soonest time until retention deletes messages the group has not read (0: already deleted; absent while no log start moves).
# TYPE lagwatch_group_retention_deadline_seconds gauge
# UNIT lagwatch_group_retention_deadline_seconds seconds
lagwatch_group_retention_deadline_seconds{cluster="live",group="app"} 125
# HELP lagwatch_group_status Group status code: 0 NOTFOUND, 1 OK, 2 WARN, 3 ERR (Burrow's numbering).
# TYPE lagwatch_group_status gauge
lagwatch_group_status{cluster="live",group="app"} 2
# HELP lagwatch_group_warming_up 1 while a partition of the group has too little history for a verdict, else 0.
# TYPE lagwatch_group_warming_up gauge
lagwatch_group_warming_up{cluster="live",group="app"} 1
# HELP lagwatch_group_stale 1 when the group's cluster could not be read recently (data may be old), else 0.
# TYPE lagwatch_group_stale gauge
lagwatch_group_stale{cluster="live",group="app"} 0
# HELP lagwatch_group_members Distinct consumers (owner host and client id) owning the group's partitions.
# TYPE lagwatch_group_members gauge
lagwatch_group_members{cluster="live",group="app"} 2
# HELP lagwatch_topic_partitions Number of partitions of the topic.
# TYPE lagwatch_topic_partitions gauge
lagwatch_topic_partitions{cluster="live",topic="orders"} 2
lagwatch_topic_partitions{cluster="live",topic="payments"} 1
# HELP lagwatch_partition_end_offset Newest log end offset (high-water mark) of the partition.
# TYPE lagwatch_partition_end_offset gauge
lagwatch_partition_end_offset{cluster="live",topic="orders",partition="0"} 100
lagwatch_partition_end_offset{cluster="live",topic="orders",partition="1"} 50
lagwatch_partition_end_offset{cluster="live",topic="payments",partition="0"} 7
# HELP lagwatch_partition_start_offset Newest log start offset of the partition.
# TYPE lagwatch_partition_start_offset gauge
lagwatch_partition_start_offset{cluster="live",topic="orders",partition="0"} 40
lagwatch_partition_start_offset{cluster="live",topic="payments",partition="0"} 0
# HELP lagwatch_build lagwatch's version (value 1).
# TYPE lagwatch_build info
lagwatch_build_info{version="0.1.0"} 1
# HELP lagwatch_snapshot_timestamp_seconds When the exposed evaluation ran (Unix time).
# TYPE lagwatch_snapshot_timestamp_seconds gauge
# UNIT lagwatch_snapshot_timestamp_seconds seconds
lagwatch_snapshot_timestamp_seconds 1767225600
# EOF
"#;

const KAFKA_EXPORTER: &str = r#"# HELP kafka_consumergroup_current_offset Committed offset of the consumer group on the partition, -1 without a commit.
# TYPE kafka_consumergroup_current_offset gauge
kafka_consumergroup_current_offset{consumergroup="app",topic="orders",partition="0"} 90
kafka_consumergroup_current_offset{consumergroup="app",topic="orders",partition="1"} -1
kafka_consumergroup_current_offset{consumergroup="app",topic="payments",partition="0"} 7
# HELP kafka_consumergroup_lag Log end offset minus committed offset (floored at 0), -1 without a commit.
# TYPE kafka_consumergroup_lag gauge
kafka_consumergroup_lag{consumergroup="app",topic="orders",partition="0"} 10
kafka_consumergroup_lag{consumergroup="app",topic="orders",partition="1"} -1
kafka_consumergroup_lag{consumergroup="app",topic="payments",partition="0"} 0
# HELP kafka_consumergroup_current_offset_sum Sum of the consumer group's committed offsets on the topic (-1 entries included).
# TYPE kafka_consumergroup_current_offset_sum gauge
kafka_consumergroup_current_offset_sum{consumergroup="app",topic="orders"} 89
kafka_consumergroup_current_offset_sum{consumergroup="app",topic="payments"} 7
# HELP kafka_consumergroup_lag_sum Sum of the consumer group's partition lags on the topic (-1 entries skipped).
# TYPE kafka_consumergroup_lag_sum gauge
kafka_consumergroup_lag_sum{consumergroup="app",topic="orders"} 10
kafka_consumergroup_lag_sum{consumergroup="app",topic="payments"} 0
# HELP kafka_consumergroup_members Consumers owning partitions of the group.
# TYPE kafka_consumergroup_members gauge
kafka_consumergroup_members{consumergroup="app"} 2
# HELP kafka_topic_partitions Number of partitions of the topic.
# TYPE kafka_topic_partitions gauge
kafka_topic_partitions{topic="orders"} 2
kafka_topic_partitions{topic="payments"} 1
# HELP kafka_topic_partition_current_offset Log end offset (high-water mark) of the partition.
# TYPE kafka_topic_partition_current_offset gauge
kafka_topic_partition_current_offset{topic="orders",partition="0"} 100
kafka_topic_partition_current_offset{topic="orders",partition="1"} 50
kafka_topic_partition_current_offset{topic="payments",partition="0"} 7
# HELP kafka_topic_partition_oldest_offset Log start offset of the partition.
# TYPE kafka_topic_partition_oldest_offset gauge
kafka_topic_partition_oldest_offset{topic="orders",partition="0"} 40
kafka_topic_partition_oldest_offset{topic="payments",partition="0"} 0
"#;

const KAFKA_LAG_EXPORTER: &str = r#"# HELP kafka_consumergroup_group_offset Committed offset of the group on the partition (NaN without a commit).
# TYPE kafka_consumergroup_group_offset gauge
kafka_consumergroup_group_offset{cluster_name="live",group="app",topic="orders",partition="0",member_host="/10.0.0.1",consumer_id="app-1",client_id="app-1"} 90
kafka_consumergroup_group_offset{cluster_name="live",group="app",topic="orders",partition="1",member_host="unknown",consumer_id="unknown",client_id="unknown"} NaN
kafka_consumergroup_group_offset{cluster_name="live",group="app",topic="payments",partition="0",member_host="/10.0.0.2",consumer_id="app-2",client_id="app-2"} 7
# HELP kafka_consumergroup_group_lag Log end offset minus committed offset, floored at 0 (NaN without a commit).
# TYPE kafka_consumergroup_group_lag gauge
kafka_consumergroup_group_lag{cluster_name="live",group="app",topic="orders",partition="0",member_host="/10.0.0.1",consumer_id="app-1",client_id="app-1"} 10
kafka_consumergroup_group_lag{cluster_name="live",group="app",topic="orders",partition="1",member_host="unknown",consumer_id="unknown",client_id="unknown"} NaN
kafka_consumergroup_group_lag{cluster_name="live",group="app",topic="payments",partition="0",member_host="/10.0.0.2",consumer_id="app-2",client_id="app-2"} 0
# HELP kafka_consumergroup_group_lag_seconds Estimated time lag of the group on the partition in seconds (NaN without an estimate).
# TYPE kafka_consumergroup_group_lag_seconds gauge
kafka_consumergroup_group_lag_seconds{cluster_name="live",group="app",topic="orders",partition="0",member_host="/10.0.0.1",consumer_id="app-1",client_id="app-1"} 2.5
kafka_consumergroup_group_lag_seconds{cluster_name="live",group="app",topic="orders",partition="1",member_host="unknown",consumer_id="unknown",client_id="unknown"} NaN
kafka_consumergroup_group_lag_seconds{cluster_name="live",group="app",topic="payments",partition="0",member_host="/10.0.0.2",consumer_id="app-2",client_id="app-2"} 0
# HELP kafka_consumergroup_group_max_lag Largest partition lag of the group.
# TYPE kafka_consumergroup_group_max_lag gauge
kafka_consumergroup_group_max_lag{cluster_name="live",group="app"} 10
# HELP kafka_consumergroup_group_max_lag_seconds Largest estimated partition time lag of the group in seconds (NaN without an estimate).
# TYPE kafka_consumergroup_group_max_lag_seconds gauge
kafka_consumergroup_group_max_lag_seconds{cluster_name="live",group="app"} 2.5
# HELP kafka_consumergroup_group_sum_lag Sum of the group's partition lags.
# TYPE kafka_consumergroup_group_sum_lag gauge
kafka_consumergroup_group_sum_lag{cluster_name="live",group="app"} 10
# HELP kafka_consumergroup_group_topic_sum_lag Sum of the group's partition lags on the topic.
# TYPE kafka_consumergroup_group_topic_sum_lag gauge
kafka_consumergroup_group_topic_sum_lag{cluster_name="live",group="app",topic="orders"} 10
kafka_consumergroup_group_topic_sum_lag{cluster_name="live",group="app",topic="payments"} 0
# HELP kafka_partition_latest_offset Log end offset (high-water mark) of the partition.
# TYPE kafka_partition_latest_offset gauge
kafka_partition_latest_offset{cluster_name="live",topic="orders",partition="0"} 100
kafka_partition_latest_offset{cluster_name="live",topic="orders",partition="1"} 50
kafka_partition_latest_offset{cluster_name="live",topic="payments",partition="0"} 7
# HELP kafka_partition_earliest_offset Log start offset of the partition.
# TYPE kafka_partition_earliest_offset gauge
kafka_partition_earliest_offset{cluster_name="live",topic="orders",partition="0"} 40
kafka_partition_earliest_offset{cluster_name="live",topic="payments",partition="0"} 0
# HELP kafka_consumergroup_poll_time_ms Duration of the newest read of the cluster in milliseconds (slowest source).
# TYPE kafka_consumergroup_poll_time_ms gauge
kafka_consumergroup_poll_time_ms{cluster_name="live"} 250
"#;
