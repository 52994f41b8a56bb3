//! Telegraf-compatible measurements: `burrow_group`, `burrow_partition` and `burrow_topic`.
//!
//! The seed pipeline ran Telegraf's `inputs.burrow` against Burrow and wrote every metric into
//! Elasticsearch with `outputs.elasticsearch`. Dashboards and alert queries built on that data
//! expect a precise shape: the measurement names, the tag set (every tag a string, so
//! `tag.partition` is `"0"`), the integer fields and Telegraf's own `status_code` numbering.
//! [`from_snapshot`] turns one evaluation [`Snapshot`] into those records, and
//! [`Measurement::to_document`] renders one record exactly as Telegraf's Elasticsearch output
//! does, so every sink writes the same bytes.
//!
//! lagwatch may add fields of its own ([`MeasurementOptions::native_fields`]); it never renames,
//! retypes or drops a Telegraf field.
//!
//! The UTC calendar helpers the document timestamp and day-based file rotation need live in
//! [`crate::calendar`]; they are re-exported here for the sinks that used this path.
//!
//! ```
//! use lagwatch_core::measurement::{from_snapshot, MeasurementOptions};
//! use lagwatch_core::report::GroupReport;
//! use lagwatch_core::snapshot::SnapshotData;
//! use lagwatch_core::Snapshot;
//!
//! let snapshot = Snapshot::new(SnapshotData {
//!     at_ms: 1_566_203_530_250,
//!     cycle: 1,
//!     groups: vec![GroupReport::not_found("live", "ghost", 1_566_203_530_250)],
//!     topics: Vec::new(),
//! });
//! let records = from_snapshot(&snapshot, &MeasurementOptions::default());
//! assert_eq!(
//!     records[0].to_document(),
//!     concat!(
//!         r#"{"@timestamp":"2019-08-19T08:32:10Z","#,
//!         r#""burrow_group":{"lag":0,"offset":0,"partition_count":0,"status":"NOTFOUND","#,
//!         r#""status_code":0,"timestamp":0,"total_lag":0},"#,
//!         r#""measurement_name":"burrow_group","tag":{"cluster":"live","group":"ghost"}}"#,
//!     )
//! );
//! ```

use crate::TimestampMs;
pub use crate::calendar::{
    MS_PER_DAY, UtcDateTime, civil_from_days, day_of, days_from_civil, rfc3339_utc,
};
use crate::report::{GroupReport, PartitionReport};
use crate::snapshot::{Snapshot, TopicOffsets};
use crate::time_lag::Confidence;
use crate::trend::TrendFields;
use std::collections::BTreeMap;
use std::fmt;

/// The three measurement names Telegraf's `inputs.burrow` produces.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum MeasurementName {
    /// `burrow_partition`: one per partition of a consumer group.
    BurrowPartition,
    /// `burrow_group`: one per consumer group.
    BurrowGroup,
    /// `burrow_topic`: one per partition of a topic (broker high-water mark).
    BurrowTopic,
}

impl MeasurementName {
    /// The measurement name as written into documents (`"burrow_group"`, …).
    pub fn as_str(self) -> &'static str {
        match self {
            MeasurementName::BurrowPartition => "burrow_partition",
            MeasurementName::BurrowGroup => "burrow_group",
            MeasurementName::BurrowTopic => "burrow_topic",
        }
    }
}

impl fmt::Display for MeasurementName {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// The value of one field of a [`Measurement`].
#[derive(Debug, Clone, PartialEq)]
pub enum FieldValue {
    /// A 64-bit signed integer, written as a JSON integer (all of Telegraf's Burrow fields except
    /// `status`).
    Int(i64),
    /// A float. Written with a decimal point or an exponent (`12.0`, never `12`) so that
    /// Elasticsearch's dynamic mapping types the field as a float from the first document on.
    /// Non-finite values cannot be written in JSON; the field is then left out of the document.
    Float(f64),
    /// A string.
    Str(String),
    /// A boolean.
    Bool(bool),
}

impl From<i64> for FieldValue {
    fn from(v: i64) -> Self {
        FieldValue::Int(v)
    }
}

impl From<f64> for FieldValue {
    fn from(v: f64) -> Self {
        FieldValue::Float(v)
    }
}

impl From<bool> for FieldValue {
    fn from(v: bool) -> Self {
        FieldValue::Bool(v)
    }
}

impl From<String> for FieldValue {
    fn from(v: String) -> Self {
        FieldValue::Str(v)
    }
}

impl From<&str> for FieldValue {
    fn from(v: &str) -> Self {
        FieldValue::Str(v.to_owned())
    }
}

/// One record in Telegraf's model: a name, a time, string tags and typed fields.
#[derive(Debug, Clone, PartialEq)]
pub struct Measurement {
    /// Which measurement this is.
    pub name: MeasurementName,
    /// Metric time (ms since the epoch). [`from_snapshot`] rounds it down to whole seconds,
    /// as Telegraf's default precision does.
    pub timestamp_ms: TimestampMs,
    /// Tags; always strings. Sorted by key (bytewise), as in the document.
    pub tags: BTreeMap<String, String>,
    /// Fields. Sorted by key (bytewise), as in the document.
    pub fields: BTreeMap<String, FieldValue>,
}

impl Measurement {
    /// An empty record of `name` at `timestamp_ms`.
    pub fn new(name: MeasurementName, timestamp_ms: TimestampMs) -> Measurement {
        Measurement {
            name,
            timestamp_ms,
            tags: BTreeMap::new(),
            fields: BTreeMap::new(),
        }
    }

    /// The value of tag `key`, if present.
    pub fn tag(&self, key: &str) -> Option<&str> {
        self.tags.get(key).map(String::as_str)
    }

    /// The value of field `key`, if present.
    pub fn field(&self, key: &str) -> Option<&FieldValue> {
        self.fields.get(key)
    }

    /// The integer field `key`, if present and an integer.
    pub fn int_field(&self, key: &str) -> Option<i64> {
        match self.fields.get(key) {
            Some(FieldValue::Int(v)) => Some(*v),
            _ => None,
        }
    }

    /// The string field `key`, if present and a string.
    pub fn str_field(&self, key: &str) -> Option<&str> {
        match self.fields.get(key) {
            Some(FieldValue::Str(v)) => Some(v),
            _ => None,
        }
    }

    fn set_tag(&mut self, key: &str, value: impl Into<String>) {
        self.tags.insert(key.to_owned(), value.into());
    }

    fn set_field(&mut self, key: &str, value: impl Into<FieldValue>) {
        self.fields.insert(key.to_owned(), value.into());
    }

    /// The JSON document Telegraf's `outputs.elasticsearch` writes for this record.
    ///
    /// Exactly four top-level keys: `@timestamp` (RFC 3339 in UTC, see [`rfc3339_utc`]),
    /// `measurement_name`, `tag` (every tag, as strings) and the measurement name itself
    /// (every field). Keys are sorted bytewise at every level, as Go's encoder sorts map keys,
    /// and strings are escaped the way Go escapes them (`<`, `>` and `&` as `\u003c`, `\u003e`,
    /// `\u0026`). One line, no trailing newline.
    pub fn to_document(&self) -> String {
        let mut out = String::with_capacity(96 + 32 * (self.tags.len() + self.fields.len()));
        self.write_document(&mut out);
        out
    }

    /// Appends [`to_document`](Measurement::to_document)'s output to `out` (no newline).
    pub fn write_document(&self, out: &mut String) {
        let name = self.name.as_str();
        // The four top-level keys, in bytewise order. `@` sorts before every letter, and the
        // measurement name is placed by comparison so the order holds for any name.
        let mut keys: [TopKey<'_>; 4] = [
            TopKey::Timestamp,
            TopKey::Fields(name),
            TopKey::MeasurementName,
            TopKey::Tags,
        ];
        keys.sort_by(|a, b| a.key().as_bytes().cmp(b.key().as_bytes()));

        out.push('{');
        for (i, key) in keys.iter().enumerate() {
            if i > 0 {
                out.push(',');
            }
            push_json_string(out, key.key());
            out.push(':');
            match key {
                TopKey::Timestamp => push_json_string(out, &rfc3339_utc(self.timestamp_ms)),
                TopKey::MeasurementName => push_json_string(out, name),
                TopKey::Tags => {
                    out.push('{');
                    for (j, (k, v)) in self.tags.iter().enumerate() {
                        if j > 0 {
                            out.push(',');
                        }
                        push_json_string(out, k);
                        out.push(':');
                        push_json_string(out, v);
                    }
                    out.push('}');
                }
                TopKey::Fields(_) => {
                    out.push('{');
                    let mut first = true;
                    for (k, v) in &self.fields {
                        let Some(value) = json_value(v) else {
                            continue;
                        };
                        if !first {
                            out.push(',');
                        }
                        first = false;
                        push_json_string(out, k);
                        out.push(':');
                        out.push_str(&value);
                    }
                    out.push('}');
                }
            }
        }
        out.push('}');
    }
}

/// A top-level key of a document.
enum TopKey<'a> {
    Timestamp,
    Fields(&'a str),
    MeasurementName,
    Tags,
}

impl TopKey<'_> {
    fn key(&self) -> &str {
        match self {
            TopKey::Timestamp => "@timestamp",
            TopKey::Fields(name) => name,
            TopKey::MeasurementName => "measurement_name",
            TopKey::Tags => "tag",
        }
    }
}

/// The JSON text of a field value, `None` for a non-finite float.
fn json_value(value: &FieldValue) -> Option<String> {
    match value {
        FieldValue::Int(v) => Some(v.to_string()),
        FieldValue::Float(v) => serde_json::Number::from_f64(*v).map(|n| n.to_string()),
        FieldValue::Str(s) => {
            let mut out = String::with_capacity(s.len() + 2);
            push_json_string(&mut out, s);
            Some(out)
        }
        FieldValue::Bool(b) => Some(b.to_string()),
    }
}

/// Appends `s` as a JSON string literal, escaped like Go's `encoding/json` with HTML escaping
/// (its default, and what Telegraf's Elasticsearch client uses).
fn push_json_string(out: &mut String, s: &str) {
    const HEX: &[u8; 16] = b"0123456789abcdef";
    out.push('"');
    for c in s.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '\t' => out.push_str("\\t"),
            '\u{8}' => out.push_str("\\b"),
            '\u{c}' => out.push_str("\\f"),
            '<' | '>' | '&' | '\u{2028}' | '\u{2029}' | '\u{0}'..='\u{1f}' => {
                let code = c as u32;
                out.push_str("\\u");
                for shift in [12u32, 8, 4, 0] {
                    out.push(char::from(HEX[((code >> shift) & 0xf) as usize]));
                }
            }
            _ => out.push(c),
        }
    }
    out.push('"');
}

/// What [`from_snapshot`] produces besides Telegraf's fixed shape.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MeasurementOptions {
    /// Value of Telegraf's `host` tag on every record; `None` leaves the tag out (Telegraf's
    /// `omit_hostname = true`).
    pub host: Option<String>,
    /// Emit `burrow_topic` records (broker high-water marks).
    pub include_topics: bool,
    /// Add lagwatch's own fields (time lag, log offsets, retention margin, staleness) next to
    /// Telegraf's. Telegraf's fields are unchanged either way.
    pub native_fields: bool,
}

impl Default for MeasurementOptions {
    /// No `host` tag, topics included, Telegraf's fields only.
    fn default() -> Self {
        MeasurementOptions {
            host: None,
            include_topics: true,
            native_fields: false,
        }
    }
}

/// Converts one evaluation into Telegraf-shaped records.
///
/// For each group, in snapshot order: one `burrow_group` record followed by one
/// `burrow_partition` record per listed partition. Then, when
/// [`include_topics`](MeasurementOptions::include_topics) is set, one `burrow_topic` record per
/// topic partition that has a broker sample. Every record carries the evaluation time rounded
/// down to a whole second.
///
/// `burrow_group` tags: `cluster`, `group` (+`host`; +`group_type` = `share` on every record
/// of a share group, see [`crate::share`]; consumer groups have no such tag). Fields: `status`, `status_code`
/// (Telegraf's table, so NOTFOUND is 0), `partition_count` (the number of listed partitions
/// when the report says 0), `total_lag`, `lag` (the lag of the most lagging partition, 0 when
/// none), `offset` (sum of the newest committed offsets) and `timestamp` (newest commit time,
/// ms). A NOTFOUND group still gets its record, as Telegraf writes one.
///
/// `burrow_partition` tags: `cluster`, `group`, `topic`, `partition` (decimal), `owner` (empty
/// when unknown) (+`host`). Fields: `status`, `status_code` (REWIND is 0), `lag`, `offset` and
/// `timestamp` of the newest commit (0 without one).
///
/// `burrow_topic` tags: `cluster`, `topic`, `partition` (+`host`). Field: `offset` (high-water
/// mark).
///
/// With [`native_fields`](MeasurementOptions::native_fields), partitions also get
/// `time_lag_seconds` (float) and `time_lag_confidence` (when estimated), `log_end_offset`,
/// `log_start_offset`, `retention_margin` (newest committed offset minus log-start offset,
/// when both are known; negative means the committed position was deleted by retention) and
/// `stale`; groups get `max_time_lag_seconds` (the largest interpolated or extrapolated
/// estimate, left out when there is none), `worst_status` (the worst partition status before
/// Burrow caps it to ERR, left out without partitions) and `stale`; both get `warming_up` and
/// the [trend](crate::trend) fields `production_rate`, `consumption_rate`, `lag_rate`
/// (messages/s), `time_to_catch_up_seconds` (0 when caught up), `catching_up` (bool),
/// `retention_deadline_seconds` and `data_loss_before_catch_up`, each left out when unknown
/// (a group's are [`GroupReport::trend`]).
///
/// Without native fields, a warming-up partition or group still gets `warming_up: true` (and
/// nothing is added otherwise), so a dashboard can leave out verdicts that are not yet
/// meaningful while Telegraf's document shape stays unchanged for everything else.
pub fn from_snapshot(snapshot: &Snapshot, opts: &MeasurementOptions) -> Vec<Measurement> {
    let mut out = Vec::with_capacity(record_count(snapshot, opts));
    out.extend(measurements(snapshot, opts));
    out
}

/// The records of [`from_snapshot`], in the same order, made one at a time as the iterator
/// is advanced instead of collected: a sink that turns each into bytes at once never holds
/// more than one. (At 100,000 partitions the collected records take a few hundred MB, their
/// JSON documents a tenth of that.)
pub fn measurements<'a>(
    snapshot: &'a Snapshot,
    opts: &'a MeasurementOptions,
) -> impl Iterator<Item = Measurement> + Send + 'a {
    let at = snapshot.at_ms().div_euclid(1000) * 1000;
    let groups = snapshot.groups().iter().flat_map(move |group| {
        std::iter::once(group_measurement(group, at, opts)).chain(
            group
                .partitions
                .iter()
                .map(move |partition| partition_measurement(group, partition, at, opts)),
        )
    });
    let topics = snapshot
        .topics()
        .iter()
        .filter(move |_| opts.include_topics)
        .flat_map(move |topic| {
            topic
                .high_water
                .iter()
                .enumerate()
                .filter_map(move |(partition, high_water)| {
                    high_water.map(|offset| topic_measurement(topic, partition, offset, at, opts))
                })
        });
    groups.chain(topics)
}

/// The number of records [`from_snapshot`] makes of `snapshot` (to size buffers).
pub fn record_count(snapshot: &Snapshot, opts: &MeasurementOptions) -> usize {
    let groups: usize = snapshot
        .groups()
        .iter()
        .map(|g| 1 + g.partitions.len())
        .sum();
    let topics: usize = if opts.include_topics {
        snapshot.topics().iter().map(|t| t.high_water.len()).sum()
    } else {
        0
    };
    groups + topics
}

fn saturating_i64(v: u64) -> i64 {
    i64::try_from(v).unwrap_or(i64::MAX)
}

fn add_host(m: &mut Measurement, opts: &MeasurementOptions) {
    if let Some(host) = &opts.host {
        m.set_tag("host", host.clone());
    }
}

/// The `group_type` tag, on a share group's records only: a consumer group's keep Telegraf's
/// tags (and so their document ids), with or without native fields.
fn add_group_type(m: &mut Measurement, group: &GroupReport) {
    if !group.group_type.is_consumer() {
        m.set_tag("group_type", group.group_type.as_str().to_owned());
    }
}

/// The confidence's lowercase name, exactly as it serialises.
fn confidence_name(c: Confidence) -> String {
    match serde_json::to_value(c) {
        Ok(serde_json::Value::String(s)) => s,
        _ => format!("{c:?}").to_ascii_lowercase(),
    }
}

fn group_measurement(
    group: &GroupReport,
    at: TimestampMs,
    opts: &MeasurementOptions,
) -> Measurement {
    let mut m = Measurement::new(MeasurementName::BurrowGroup, at);
    m.set_tag("cluster", group.cluster.clone());
    m.set_tag("group", group.group.clone());
    add_host(&mut m, opts);
    add_group_type(&mut m, group);

    let partition_count = if group.partition_count == 0 {
        i64::try_from(group.partitions.len()).unwrap_or(i64::MAX)
    } else {
        i64::from(group.partition_count)
    };
    m.set_field("status", group.status.as_str());
    m.set_field("status_code", group.status.telegraf_code());
    m.set_field("partition_count", partition_count);
    m.set_field("total_lag", saturating_i64(group.totallag));
    m.set_field(
        "lag",
        group
            .maxlag
            .as_ref()
            .map_or(0, |p| saturating_i64(p.current_lag)),
    );
    m.set_field("offset", group.offset_sum());
    m.set_field("timestamp", group.newest_commit_ms());

    if opts.native_fields {
        if let Some(seconds) = group.max_time_lag_seconds() {
            m.set_field("max_time_lag_seconds", seconds);
        }
        if let Some(worst) = group.worst_partition {
            m.set_field("worst_status", worst.as_str());
        }
        if group.partitions.iter().any(|p| p.extras.trend.is_some()) {
            set_trend_fields(&mut m, &TrendFields::from(&group.trend()));
        }
        m.set_field("stale", group.stale);
        m.set_field("warming_up", group.warming_up);
    } else if group.warming_up {
        m.set_field("warming_up", true);
    }
    m
}

fn partition_measurement(
    group: &GroupReport,
    p: &PartitionReport,
    at: TimestampMs,
    opts: &MeasurementOptions,
) -> Measurement {
    let mut m = Measurement::new(MeasurementName::BurrowPartition, at);
    m.set_tag("cluster", group.cluster.clone());
    m.set_tag("group", group.group.clone());
    m.set_tag("topic", p.topic.clone());
    m.set_tag("partition", p.partition.to_string());
    m.set_tag("owner", p.owner.clone());
    add_host(&mut m, opts);
    add_group_type(&mut m, group);

    m.set_field("status", p.status.as_str());
    m.set_field("status_code", p.status.telegraf_code());
    m.set_field("lag", saturating_i64(p.current_lag));
    m.set_field("offset", p.end.map_or(0, |e| e.offset));
    m.set_field("timestamp", p.end.map_or(0, |e| e.timestamp));

    if opts.native_fields {
        let extras = &p.extras;
        if let Some(t) = extras.time_lag {
            m.set_field("time_lag_seconds", t.seconds);
            m.set_field("time_lag_confidence", confidence_name(t.confidence));
        }
        if let Some(end) = extras.log_end_offset {
            m.set_field("log_end_offset", end);
        }
        if let Some(start) = extras.log_start_offset {
            m.set_field("log_start_offset", start);
            if let Some(committed) = p.end {
                m.set_field("retention_margin", committed.offset.saturating_sub(start));
            }
        }
        if let Some(t) = &extras.trend {
            set_trend_fields(&mut m, &TrendFields::from(t));
        }
        m.set_field("stale", extras.stale);
        m.set_field("warming_up", extras.warming_up);
    } else if p.extras.warming_up {
        m.set_field("warming_up", true);
    }
    m
}

/// Native trend fields; each is left out when unknown (see [`TrendFields`]).
fn set_trend_fields(m: &mut Measurement, t: &TrendFields) {
    for (name, value) in [
        ("production_rate", t.production_rate),
        ("consumption_rate", t.consumption_rate),
        ("lag_rate", t.lag_rate),
        ("time_to_catch_up_seconds", t.time_to_catch_up_seconds),
        ("retention_deadline_seconds", t.retention_deadline_seconds),
    ] {
        if let Some(v) = value {
            m.set_field(name, v);
        }
    }
    for (name, value) in [
        ("catching_up", t.catching_up),
        ("data_loss_before_catch_up", t.data_loss_before_catch_up),
    ] {
        if let Some(v) = value {
            m.set_field(name, v);
        }
    }
}

/// One `burrow_topic` record: a topic partition's high-water mark.
fn topic_measurement(
    topic: &TopicOffsets,
    partition: usize,
    offset: i64,
    at: TimestampMs,
    opts: &MeasurementOptions,
) -> Measurement {
    let mut m = Measurement::new(MeasurementName::BurrowTopic, at);
    m.set_tag("cluster", topic.cluster.clone());
    m.set_tag("topic", topic.topic.clone());
    m.set_tag("partition", partition.to_string());
    add_host(&mut m, opts);
    m.set_field("offset", offset);
    m
}

// ---------------------------------------------------------------------------------------------
// UTC calendar
// ---------------------------------------------------------------------------------------------

#[cfg(test)]
mod tests {
    use super::*;
    use crate::report::{OffsetPoint, PartitionExtras};
    use crate::snapshot::SnapshotData;
    use crate::status::{GroupStatus, PartitionStatus};
    use crate::time_lag::TimeLag;

    /// 2019-08-19T08:32:10Z, the instant of the examples in the pipeline reference.
    const AT: i64 = 1_566_203_530_000;
    const COMMIT_TS: i64 = 1_566_203_529_000;

    fn partition(
        topic: &str,
        n: i32,
        status: PartitionStatus,
        lag: u64,
        end: i64,
    ) -> PartitionReport {
        PartitionReport {
            topic: topic.into(),
            partition: n,
            owner: String::new(),
            client_id: String::new(),
            status,
            start: None,
            end: Some(OffsetPoint {
                offset: end,
                timestamp: COMMIT_TS,
                observed_at: COMMIT_TS,
                lag: Some(lag),
            }),
            current_lag: lag,
            complete: 1.0,
            extras: PartitionExtras::default(),
        }
    }

    /// The group of the reference's examples: three partitions, lags 54 + 4 + 2, offsets summing
    /// to 3,702,000, one partition WARN.
    fn example_group() -> GroupReport {
        let mut p0 = partition("payment_log", 0, PartitionStatus::Ok, 54, 1_234_567);
        p0.owner = "/10.0.0.5".into();
        let p1 = partition("payment_log", 1, PartitionStatus::Warn, 4, 1_233_433);
        let p2 = partition("payment_log", 2, PartitionStatus::Ok, 2, 1_234_000);
        GroupReport {
            group_type: crate::report::GroupType::Consumer,
            cluster: "live".into(),
            group: "hdfs_consumer".into(),
            status: GroupStatus::Warn,
            complete: 1.0,
            maxlag: Some(p0.clone()),
            partitions: vec![p0, p1, p2],
            partition_count: 3,
            totallag: 60,
            evaluated_at: AT,
            worst_partition: Some(PartitionStatus::Warn),
            stale: false,
            warming_up: false,
        }
    }

    fn snapshot_of(at_ms: i64, groups: Vec<GroupReport>, topics: Vec<TopicOffsets>) -> Snapshot {
        Snapshot::new(SnapshotData {
            at_ms,
            cycle: 7,
            groups,
            topics,
        })
    }

    fn telegraf_opts() -> MeasurementOptions {
        MeasurementOptions {
            host: Some("telegraf01".into()),
            include_topics: true,
            native_fields: false,
        }
    }

    #[test]
    fn partition_example_matches_the_reference_document() {
        let snap = snapshot_of(AT + 431, vec![example_group()], Vec::new());
        let records = from_snapshot(&snap, &telegraf_opts());
        assert_eq!(records.len(), 4);
        assert_eq!(
            records[1].to_document(),
            concat!(
                r#"{"@timestamp":"2019-08-19T08:32:10Z","#,
                r#""burrow_partition":{"lag":54,"offset":1234567,"status":"OK","status_code":1,"timestamp":1566203529000},"#,
                r#""measurement_name":"burrow_partition","#,
                r#""tag":{"cluster":"live","group":"hdfs_consumer","host":"telegraf01","owner":"/10.0.0.5","partition":"0","topic":"payment_log"}}"#
            )
        );
    }

    #[test]
    fn group_example_matches_the_reference_document() {
        let snap = snapshot_of(AT + 999, vec![example_group()], Vec::new());
        let records = from_snapshot(&snap, &telegraf_opts());
        assert_eq!(
            records[0].to_document(),
            concat!(
                r#"{"@timestamp":"2019-08-19T08:32:10Z","#,
                r#""burrow_group":{"lag":54,"offset":3702000,"partition_count":3,"status":"WARN","status_code":3,"timestamp":1566203529000,"total_lag":60},"#,
                r#""measurement_name":"burrow_group","#,
                r#""tag":{"cluster":"live","group":"hdfs_consumer","host":"telegraf01"}}"#
            )
        );
    }

    #[test]
    fn records_come_group_then_partitions_then_topics() {
        let topics = vec![TopicOffsets {
            cluster: "live".into(),
            topic: "payment_log".into(),
            high_water: vec![Some(1_234_621), None, Some(1_234_002)],
            log_start: vec![None; 3],
        }];
        let snap = snapshot_of(AT, vec![example_group()], topics.clone());
        let names: Vec<_> = from_snapshot(&snap, &telegraf_opts())
            .iter()
            .map(|m| m.name)
            .collect();
        use MeasurementName::*;
        assert_eq!(
            names,
            [
                BurrowGroup,
                BurrowPartition,
                BurrowPartition,
                BurrowPartition,
                BurrowTopic,
                BurrowTopic
            ]
        );

        let records = from_snapshot(&snap, &telegraf_opts());
        // The partition without a broker sample is skipped; partition numbers are the index.
        assert_eq!(
            records[5].to_document(),
            concat!(
                r#"{"@timestamp":"2019-08-19T08:32:10Z","burrow_topic":{"offset":1234002},"#,
                r#""measurement_name":"burrow_topic","#,
                r#""tag":{"cluster":"live","host":"telegraf01","partition":"2","topic":"payment_log"}}"#
            )
        );

        let no_topics = MeasurementOptions {
            include_topics: false,
            ..telegraf_opts()
        };
        assert_eq!(from_snapshot(&snap, &no_topics).len(), 4);
    }

    #[test]
    fn status_codes_follow_telegrafs_table() {
        let mut group = example_group();
        group.status = GroupStatus::Err;
        group.partitions = PartitionStatus::ALL
            .iter()
            .enumerate()
            .map(|(i, s)| partition("t", i as i32, *s, 1, 10))
            .collect();
        let snap = snapshot_of(AT, vec![group], Vec::new());
        let records = from_snapshot(&snap, &MeasurementOptions::default());
        let codes: Vec<_> = records
            .iter()
            .map(|m| {
                (
                    m.str_field("status").unwrap_or(""),
                    m.int_field("status_code"),
                )
            })
            .collect();
        assert_eq!(
            codes,
            [
                ("ERR", Some(4)),
                ("OK", Some(1)),
                ("WARN", Some(3)),
                ("STOP", Some(5)),
                ("STALL", Some(6)),
                ("REWIND", Some(0)),
            ]
        );
    }

    #[test]
    fn notfound_group_gets_a_group_record_with_code_zero() {
        let snap = snapshot_of(
            AT,
            vec![GroupReport::not_found("live", "ghost", AT)],
            Vec::new(),
        );
        let records = from_snapshot(&snap, &MeasurementOptions::default());
        assert_eq!(records.len(), 1);
        assert_eq!(records[0].name, MeasurementName::BurrowGroup);
        assert_eq!(records[0].str_field("status"), Some("NOTFOUND"));
        assert_eq!(records[0].int_field("status_code"), Some(0));
        assert_eq!(records[0].int_field("lag"), Some(0));
        assert_eq!(records[0].tag("host"), None);
    }

    #[test]
    fn partition_count_falls_back_to_the_listed_partitions() {
        let mut group = example_group();
        group.partition_count = 0;
        group.maxlag = None;
        let snap = snapshot_of(AT, vec![group], Vec::new());
        let records = from_snapshot(&snap, &MeasurementOptions::default());
        assert_eq!(records[0].int_field("partition_count"), Some(3));
        assert_eq!(records[0].int_field("lag"), Some(0));
    }

    #[test]
    fn partition_without_commit_writes_zeros_and_string_partition_tag() {
        let mut group = example_group();
        group.partitions[2].end = None;
        group.partitions[2].partition = 12;
        let snap = snapshot_of(AT, vec![group], Vec::new());
        let records = from_snapshot(&snap, &MeasurementOptions::default());
        let p = &records[3];
        assert_eq!(p.tag("partition"), Some("12"));
        assert_eq!(p.tag("owner"), Some(""));
        assert_eq!(p.int_field("offset"), Some(0));
        assert_eq!(p.int_field("timestamp"), Some(0));
        assert!(p.to_document().contains(r#""partition":"12""#));
        // The group aggregates skip the partition without a commit.
        assert_eq!(records[0].int_field("offset"), Some(1_234_567 + 1_233_433));
    }

    #[test]
    fn timestamp_is_rounded_down_to_the_second() {
        let snap = snapshot_of(AT + 999, vec![example_group()], Vec::new());
        assert!(
            from_snapshot(&snap, &MeasurementOptions::default())
                .iter()
                .all(|m| m.timestamp_ms == AT)
        );
        let before_epoch = snapshot_of(-1, vec![example_group()], Vec::new());
        assert_eq!(
            from_snapshot(&before_epoch, &MeasurementOptions::default())[0].timestamp_ms,
            -1000
        );
    }

    #[test]
    fn native_trend_fields_are_written_and_left_out_when_unknown() {
        use crate::trend::{CatchUp, Trend};
        let mut group = example_group();
        group.partitions[0].extras.trend = Some(Trend {
            production_rate: Some(100.0),
            consumption_rate: Some(150.0),
            lag_rate: Some(-50.0),
            catch_up: CatchUp::In { seconds: 16.0 },
            retention_deadline_seconds: Some(28.5),
            unread_deleted: false,
            data_loss_before_catch_up: false,
        });
        group.partitions[1].extras.trend = Some(Trend {
            production_rate: Some(20.0),
            catch_up: CatchUp::NotCatchingUp,
            ..Trend::UNKNOWN
        });
        group.partitions[2].extras.trend = Some(Trend::UNKNOWN);
        let snap = snapshot_of(AT, vec![group], Vec::new());
        let plain = from_snapshot(&snap, &MeasurementOptions::default());
        let native = from_snapshot(
            &snap,
            &MeasurementOptions {
                native_fields: true,
                ..MeasurementOptions::default()
            },
        );
        let trend_keys = [
            "production_rate",
            "consumption_rate",
            "lag_rate",
            "time_to_catch_up_seconds",
            "catching_up",
            "retention_deadline_seconds",
            "data_loss_before_catch_up",
        ];
        for m in &plain {
            for k in trend_keys {
                assert_eq!(m.field(k), None, "{k} written without native fields");
            }
        }
        let f = |m: &Measurement, k: &str| m.field(k).cloned();
        // The group: sums, the slowest partition (not catching up), the soonest deadline.
        assert_eq!(
            f(&native[0], "production_rate"),
            Some(FieldValue::Float(120.0))
        );
        assert_eq!(
            f(&native[0], "consumption_rate"),
            Some(FieldValue::Float(150.0))
        );
        assert_eq!(f(&native[0], "lag_rate"), Some(FieldValue::Float(-50.0)));
        assert_eq!(f(&native[0], "catching_up"), Some(FieldValue::Bool(false)));
        assert_eq!(f(&native[0], "time_to_catch_up_seconds"), None);
        assert_eq!(
            f(&native[0], "retention_deadline_seconds"),
            Some(FieldValue::Float(28.5))
        );
        assert_eq!(
            f(&native[0], "data_loss_before_catch_up"),
            Some(FieldValue::Bool(false))
        );
        // Partition 0: everything known.
        assert_eq!(
            native[1].to_document(),
            concat!(
                r#"{"@timestamp":"2019-08-19T08:32:10Z","#,
                r#""burrow_partition":{"catching_up":true,"consumption_rate":150.0,"#,
                r#""data_loss_before_catch_up":false,"lag":54,"lag_rate":-50.0,"offset":1234567,"#,
                r#""production_rate":100.0,"retention_deadline_seconds":28.5,"stale":false,"#,
                r#""status":"OK","status_code":1,"time_to_catch_up_seconds":16.0,"#,
                r#""timestamp":1566203529000,"warming_up":false},"#,
                r#""measurement_name":"burrow_partition","#,
                r#""tag":{"cluster":"live","group":"hdfs_consumer","owner":"/10.0.0.5","partition":"0","topic":"payment_log"}}"#
            )
        );
        // Partition 1: not catching up, no deadline: neither the time nor the loss flag.
        assert_eq!(
            f(&native[2], "production_rate"),
            Some(FieldValue::Float(20.0))
        );
        assert_eq!(f(&native[2], "catching_up"), Some(FieldValue::Bool(false)));
        for k in [
            "consumption_rate",
            "lag_rate",
            "time_to_catch_up_seconds",
            "data_loss_before_catch_up",
        ] {
            assert_eq!(f(&native[2], k), None, "{k}");
        }
        // Partition 2: nothing known, nothing written.
        for k in trend_keys {
            assert_eq!(f(&native[3], k), None, "{k}");
        }
    }

    #[test]
    fn warming_up_is_marked_in_both_shapes() {
        let mut group = example_group();
        group.partitions[1].extras.warming_up = true;
        group.warming_up = true;
        let snap = snapshot_of(AT, vec![group], Vec::new());
        let plain = from_snapshot(&snap, &MeasurementOptions::default());
        assert_eq!(plain[0].field("warming_up"), Some(&FieldValue::Bool(true)));
        assert_eq!(plain[1].field("warming_up"), None);
        assert_eq!(plain[2].field("warming_up"), Some(&FieldValue::Bool(true)));
        let native = from_snapshot(
            &snap,
            &MeasurementOptions {
                native_fields: true,
                ..MeasurementOptions::default()
            },
        );
        assert_eq!(
            native[1].field("warming_up"),
            Some(&FieldValue::Bool(false))
        );
        assert_eq!(native[2].field("warming_up"), Some(&FieldValue::Bool(true)));
    }

    #[test]
    fn native_fields_are_added_without_touching_telegrafs() {
        let mut group = example_group();
        group.stale = true;
        group.partitions[0].extras = PartitionExtras {
            log_end_offset: Some(1_234_621),
            log_start_offset: Some(1_000_000),
            time_lag: Some(TimeLag {
                seconds: 12.5,
                confidence: Confidence::Interpolated,
            }),
            broker_sample_age_ms: Some(300),
            stale: true,
            warming_up: false,
            trend: None,
        };
        group.partitions[1].extras.time_lag = Some(TimeLag {
            seconds: 0.0,
            confidence: Confidence::Unknown,
        });
        group.partitions[2].extras.time_lag = Some(TimeLag {
            seconds: 30.0,
            confidence: Confidence::Extrapolated,
        });
        let snap = snapshot_of(AT, vec![group], Vec::new());
        let plain = from_snapshot(&snap, &MeasurementOptions::default());
        let native = from_snapshot(
            &snap,
            &MeasurementOptions {
                native_fields: true,
                ..MeasurementOptions::default()
            },
        );
        for (p, n) in plain.iter().zip(&native) {
            assert_eq!(p.tags, n.tags);
            for (k, v) in &p.fields {
                assert_eq!(n.fields.get(k), Some(v), "field {k} changed");
            }
        }
        assert_eq!(
            native[1].to_document(),
            concat!(
                r#"{"@timestamp":"2019-08-19T08:32:10Z","#,
                r#""burrow_partition":{"lag":54,"log_end_offset":1234621,"log_start_offset":1000000,"#,
                r#""offset":1234567,"retention_margin":234567,"stale":true,"status":"OK","status_code":1,"#,
                r#""time_lag_confidence":"interpolated","time_lag_seconds":12.5,"timestamp":1566203529000,"#,
                r#""warming_up":false},"#,
                r#""measurement_name":"burrow_partition","#,
                r#""tag":{"cluster":"live","group":"hdfs_consumer","owner":"/10.0.0.5","partition":"0","topic":"payment_log"}}"#
            )
        );
        assert_eq!(native[2].str_field("time_lag_confidence"), Some("unknown"));
        assert_eq!(native[2].field("log_end_offset"), None);
        assert_eq!(native[2].field("stale"), Some(&FieldValue::Bool(false)));
        // Whole-number floats keep their decimal point so Elasticsearch maps them as floats.
        assert!(
            native[3]
                .to_document()
                .contains(r#""time_lag_seconds":30.0"#)
        );
        assert_eq!(
            native[0].field("max_time_lag_seconds"),
            Some(&FieldValue::Float(30.0))
        );
        assert_eq!(native[0].str_field("worst_status"), Some("WARN"));
        assert_eq!(native[0].field("stale"), Some(&FieldValue::Bool(true)));

        let unknown_only = {
            let mut g = example_group();
            g.partitions[0].extras.time_lag = Some(TimeLag {
                seconds: 0.0,
                confidence: Confidence::Unknown,
            });
            g
        };
        let snap = snapshot_of(
            AT,
            vec![unknown_only, GroupReport::not_found("live", "x", AT)],
            Vec::new(),
        );
        let native = from_snapshot(
            &snap,
            &MeasurementOptions {
                native_fields: true,
                ..MeasurementOptions::default()
            },
        );
        assert_eq!(native[0].field("max_time_lag_seconds"), None);
        assert_eq!(native[4].str_field("status"), Some("NOTFOUND"));
        assert_eq!(native[4].field("worst_status"), None);
    }

    #[test]
    fn documents_sort_keys_bytewise_and_escape_like_go() {
        let mut m = Measurement::new(MeasurementName::BurrowGroup, 0);
        m.set_tag("b", "x");
        m.set_tag("B", "y");
        m.set_tag("a_b", "<&>");
        m.set_tag("ab", "quote\" back\\ nl\n tab\t bell\u{7} sep\u{2028} é");
        m.set_field("Z", 1i64);
        m.set_field("a", -2i64);
        m.set_field("n", f64::NAN);
        m.set_field("t", true);
        m.set_field("f", 0.25);
        assert_eq!(
            m.to_document(),
            concat!(
                r#"{"@timestamp":"1970-01-01T00:00:00Z","#,
                r#""burrow_group":{"Z":1,"a":-2,"f":0.25,"t":true},"#,
                r#""measurement_name":"burrow_group","#,
                r#""tag":{"B":"y","a_b":"\u003c\u0026\u003e","ab":"quote\" back\\ nl\n tab\t bell\u0007 sep\u2028 é","b":"x"}}"#
            )
        );
        // Every document parses as JSON and keeps the integers as integers.
        let parsed: serde_json::Value = serde_json::from_str(&m.to_document()).unwrap();
        assert_eq!(parsed["burrow_group"]["a"], serde_json::json!(-2));
        assert_eq!(
            parsed["tag"]["ab"].as_str().unwrap().chars().last(),
            Some('é')
        );
    }

    #[test]
    fn documents_are_single_lines_and_parse_back() {
        let snap = snapshot_of(AT, vec![example_group()], Vec::new());
        for m in from_snapshot(&snap, &telegraf_opts()) {
            let doc = m.to_document();
            assert!(!doc.contains('\n'));
            let v: serde_json::Value = serde_json::from_str(&doc).unwrap();
            let obj = v.as_object().unwrap();
            assert_eq!(obj.len(), 4);
            assert_eq!(v["measurement_name"], m.name.as_str());
            assert!(v["tag"]["partition"].is_string() || m.name == MeasurementName::BurrowGroup);
        }
    }

    #[test]
    fn rfc3339_formats_known_instants() {
        let cases: &[(i64, &str)] = &[
            (0, "1970-01-01T00:00:00Z"),
            (1, "1970-01-01T00:00:00.001Z"),
            (500, "1970-01-01T00:00:00.5Z"),
            (1_250, "1970-01-01T00:00:01.25Z"),
            (-1, "1969-12-31T23:59:59.999Z"),
            (-1_000, "1969-12-31T23:59:59Z"),
            (951_782_400_000, "2000-02-29T00:00:00Z"),
            (951_868_799_000, "2000-02-29T23:59:59Z"),
            (951_868_800_000, "2000-03-01T00:00:00Z"),
            (1_566_203_530_000, "2019-08-19T08:32:10Z"),
            (1_709_208_000_000, "2024-02-29T12:00:00Z"),
            (2_147_483_647_000, "2038-01-19T03:14:07Z"),
            (2_147_483_648_000, "2038-01-19T03:14:08Z"),
            (4_107_542_400_000, "2100-03-01T00:00:00Z"),
            (-2_203_891_200_000, "1900-03-01T00:00:00Z"),
            (253_402_300_799_000, "9999-12-31T23:59:59Z"),
        ];
        for (ms, text) in cases {
            assert_eq!(rfc3339_utc(*ms), *text, "ms = {ms}");
        }
    }
}
