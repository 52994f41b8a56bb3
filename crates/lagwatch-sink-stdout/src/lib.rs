//! # lagwatch-sink-stdout
//!
//! A [`LagSink`] that prints every evaluation to standard output (or to any [`Write`]).
//!
//! Formats ([`StdoutFormat`]):
//!
//! * **`json`** — one document per line, exactly the JSON that Telegraf's Elasticsearch output
//!   writes for `burrow_group`, `burrow_partition` (and, with `topics = true`,
//!   `burrow_topic`) records (see [`lagwatch_core::measurement`]). Suitable for piping into
//!   `jq`, a log shipper or a file.
//! * **`table`** — a human table: a title line with the evaluation time and cycle, one line
//!   per group (cluster, group, status, total lag, max lag, partitions) and under it the
//!   partitions that are not OK plus the OK ones with the highest lag, with the estimated
//!   time lag when known. A table never exceeds 40 lines; what does not fit is summarised as
//!   "… N more". On a terminal the table redraws in place; elsewhere tables are printed one
//!   after another, separated by a blank line, without escape sequences.
//! * **`auto`** (the default) — `table` when standard output is a terminal, `json` otherwise.
//!
//! A write acknowledges the number of documents (JSON) or data rows (table: group and
//! partition lines) it printed. A closed standard output (broken pipe) is reported as a
//! permanent [`ComponentError`] from `sink.stdout`; the sink never panics on it.
//!
//! ```
//! use lagwatch_component::{FromConfig, LagSink};
//! use lagwatch_config::types::{StdoutFormat, StdoutSinkConfig};
//! use lagwatch_core::report::GroupReport;
//! use lagwatch_core::snapshot::SnapshotData;
//! use lagwatch_core::Snapshot;
//! use lagwatch_sink_stdout::StdoutSink;
//! use std::io::Write;
//! use std::sync::{Arc, Mutex};
//!
//! /// Collects what the sink prints.
//! #[derive(Clone, Default)]
//! struct Captured(Arc<Mutex<Vec<u8>>>);
//! impl Write for Captured {
//!     fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
//!         self.0.lock().unwrap().extend_from_slice(buf);
//!         Ok(buf.len())
//!     }
//!     fn flush(&mut self) -> std::io::Result<()> {
//!         Ok(())
//!     }
//! }
//!
//! let out = Captured::default();
//! let config = StdoutSinkConfig { format: StdoutFormat::Json, topics: false };
//! let sink = StdoutSink::from_config("stdout", &config).unwrap().writing_to(Box::new(out.clone()));
//!
//! let snapshot = Snapshot::new(SnapshotData {
//!     at_ms: 1_566_203_530_000,
//!     cycle: 1,
//!     groups: vec![GroupReport::not_found("live", "ghost", 1_566_203_530_000)],
//!     topics: Vec::new(),
//! });
//! # tokio::runtime::Builder::new_current_thread().build().unwrap().block_on(async {
//! let ack = sink.write(&snapshot).await.unwrap();
//! assert_eq!(ack.records, 1);
//! # });
//! let text = String::from_utf8(out.0.lock().unwrap().clone()).unwrap();
//! assert!(text.starts_with(r#"{"@timestamp":"2019-08-19T08:32:10Z","burrow_group":{"#));
//! assert!(text.ends_with("}\n"));
//! ```

/// The README's example, compiled and run as a doctest so that it stays true.
#[cfg(doctest)]
#[doc = include_str!("../README.md")]
struct ReadmeDoctests;

mod alert_feed;
mod table;

pub use alert_feed::{AlertFeed, FeedAlerter};

use lagwatch_component::{Ack, ComponentError, FromConfig, LagSink, async_trait};
use lagwatch_config::types::{StdoutFormat, StdoutSinkConfig};
use lagwatch_core::Snapshot;
use lagwatch_core::measurement::{MeasurementOptions, measurements};
use std::io::{self, IsTerminal, Write};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex, PoisonError};

/// Component name used in errors.
const COMPONENT: &str = "sink.stdout";

/// JSON lines are written in pieces of about this many bytes (see `write_json_lines`).
const CHUNK_BYTES: usize = 1 << 20;

/// ANSI: clear the whole screen.
const CLEAR_SCREEN: &str = "\x1b[2J";

/// The output stream, shared with the blocking writer task.
type SharedWriter = Arc<Mutex<Box<dyn Write + Send>>>;

/// Prints evaluations to standard output as a table or as Telegraf-shaped JSON lines.
///
/// Writing happens on Tokio's blocking thread pool, so a slow reader of the pipe never stalls
/// the async runtime. Must be used from within a Tokio runtime.
pub struct StdoutSink {
    config: StdoutSinkConfig,
    terminal: bool,
    options: MeasurementOptions,
    writer: SharedWriter,
    /// Whether a table was printed already (the first clears a terminal; later non-terminal
    /// tables are separated by a blank line).
    printed_table: Arc<AtomicBool>,
    /// Alert lines printed under each table, if any.
    alerts: Option<AlertFeed>,
}

impl std::fmt::Debug for StdoutSink {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("StdoutSink")
            .field("config", &self.config)
            .field("terminal", &self.terminal)
            .field("options", &self.options)
            .finish_non_exhaustive()
    }
}

impl FromConfig for StdoutSink {
    type Config = StdoutSinkConfig;

    /// A sink printing to the process's standard output. `auto` resolves to a table when
    /// standard output is a terminal. Never fails.
    fn from_config(_name: &str, config: &StdoutSinkConfig) -> Result<StdoutSink, ComponentError> {
        let terminal = io::stdout().is_terminal();
        Ok(StdoutSink::build(
            config.clone(),
            Box::new(io::stdout()),
            terminal,
        ))
    }
}

impl StdoutSink {
    /// Prints to `writer` instead of standard output. The writer is treated as not being a
    /// terminal (so `auto` means JSON and tables carry no escape sequences); see
    /// [`terminal`](Self::terminal).
    pub fn writing_to(mut self, writer: Box<dyn Write + Send>) -> StdoutSink {
        self.writer = Arc::new(Mutex::new(writer));
        self.terminal = false;
        self
    }

    fn build(
        config: StdoutSinkConfig,
        writer: Box<dyn Write + Send>,
        terminal: bool,
    ) -> StdoutSink {
        let options = MeasurementOptions {
            host: None,
            include_topics: config.topics,
            native_fields: true,
        };
        StdoutSink {
            config,
            terminal,
            options,
            writer: Arc::new(Mutex::new(writer)),
            printed_table: Arc::new(AtomicBool::new(false)),
            alerts: None,
        }
    }

    /// Prints the newest lines of `feed` under every table, so alert state changes stay in
    /// view while the table redraws in place (JSON output is unchanged).
    pub fn with_alert_feed(mut self, feed: AlertFeed) -> StdoutSink {
        self.alerts = Some(feed);
        self
    }

    /// Declares whether the output is a terminal: decides what `auto` means and whether a
    /// table redraws in place (ANSI escape sequences) or is appended.
    pub fn terminal(mut self, terminal: bool) -> StdoutSink {
        self.terminal = terminal;
        self
    }

    /// Replaces the options of the JSON documents. The default has no `host` tag, lagwatch's
    /// native fields on, and `burrow_topic` records when the configuration's `topics` is set.
    pub fn with_measurement_options(mut self, options: MeasurementOptions) -> StdoutSink {
        self.options = options;
        self
    }

    /// The options used for JSON documents.
    pub fn measurement_options(&self) -> &MeasurementOptions {
        &self.options
    }

    /// The format actually used: [`StdoutFormat::Table`] or [`StdoutFormat::Json`] (never
    /// `Auto`).
    pub fn effective_format(&self) -> StdoutFormat {
        match self.config.format {
            StdoutFormat::Auto if self.terminal => StdoutFormat::Table,
            StdoutFormat::Auto => StdoutFormat::Json,
            other => other,
        }
    }

    /// Renders `snapshot` as the table that is printed, and the number of rows it holds.
    fn render_table(&self, snapshot: &Snapshot) -> (String, usize) {
        let mut rendered = table::render(snapshot, self.terminal);
        if let Some(feed) = &self.alerts {
            table::append(
                &mut rendered,
                "Alerts (newest last):",
                &feed.lines(),
                self.terminal,
            );
        }
        let first = !self.printed_table.swap(true, Ordering::SeqCst);
        let text = match (self.terminal, first) {
            // The first table on a terminal clears the screen once; later ones overwrite it
            // line by line, which does not flicker.
            (true, true) => format!("{CLEAR_SCREEN}{}", rendered.text),
            (true, false) | (false, true) => rendered.text,
            // Tables appended to a file or pipe are separated by a blank line.
            (false, false) => format!("\n{}", rendered.text),
        };
        (text, rendered.rows)
    }

    /// Prints `snapshot` as JSON lines in pieces of about [`CHUNK_BYTES`], each written as it
    /// is rendered: memory stays at one piece however large the snapshot (100,000
    /// partitions are about 35 MB of JSON). Returns the number of records.
    async fn write_json_lines(&self, snapshot: &Snapshot) -> Result<usize, ComponentError> {
        let mut records = measurements(snapshot, &self.options);
        let mut written = 0;
        loop {
            let mut chunk = String::with_capacity(CHUNK_BYTES + CHUNK_BYTES / 4);
            for record in records.by_ref() {
                record.write_document(&mut chunk);
                chunk.push('\n');
                written += 1;
                if chunk.len() >= CHUNK_BYTES {
                    break;
                }
            }
            if chunk.is_empty() {
                break;
            }
            self.with_writer_blocking("writing to standard output", move |w| {
                w.write_all(chunk.as_bytes())
            })
            .await?;
        }
        if written > 0 {
            self.with_writer_blocking("writing to standard output", |w| w.flush())
                .await?;
        }
        Ok(written)
    }

    /// Runs `op` on the writer on the blocking pool.
    async fn with_writer_blocking<F>(&self, what: &'static str, op: F) -> Result<(), ComponentError>
    where
        F: FnOnce(&mut (dyn Write + Send)) -> io::Result<()> + Send + 'static,
    {
        let writer = Arc::clone(&self.writer);
        let joined = tokio::task::spawn_blocking(move || {
            let mut guard = writer.lock().unwrap_or_else(PoisonError::into_inner);
            op(guard.as_mut())
        })
        .await;
        match joined {
            Ok(Ok(())) => Ok(()),
            Ok(Err(e)) => Err(io_error(what, e)),
            Err(join) => Err(ComponentError::permanent(
                COMPONENT,
                format!("{what}: the writer task did not finish: {join}"),
            )),
        }
    }
}

/// Maps an I/O error: a closed pipe is permanent (nobody reads any more), anything else
/// transient.
fn io_error(what: &str, e: io::Error) -> ComponentError {
    let error = if e.kind() == io::ErrorKind::BrokenPipe {
        ComponentError::permanent(
            COMPONENT,
            format!("{what}: standard output is closed (broken pipe); nothing more can be printed"),
        )
    } else {
        ComponentError::transient(COMPONENT, format!("{what}: {e}"))
    };
    error.with_source(e)
}

#[async_trait]
impl LagSink for StdoutSink {
    fn name(&self) -> &str {
        "stdout"
    }

    /// Always succeeds: standard output cannot be probed without printing.
    async fn healthcheck(&self) -> Result<(), ComponentError> {
        Ok(())
    }

    async fn write(&self, snapshot: &Snapshot) -> Result<Ack, ComponentError> {
        if self.effective_format() != StdoutFormat::Table {
            let records = self.write_json_lines(snapshot).await?;
            return Ok(Ack { records });
        }
        let (text, records) = self.render_table(snapshot);
        if !text.is_empty() {
            self.with_writer_blocking("writing to standard output", move |w| {
                w.write_all(text.as_bytes())?;
                w.flush()
            })
            .await?;
        }
        Ok(Ack { records })
    }

    async fn flush(&self) -> Result<(), ComponentError> {
        self.with_writer_blocking("flushing standard output", |w| w.flush())
            .await
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use lagwatch_core::measurement::{MeasurementName, from_snapshot};
    use lagwatch_core::snapshot::SnapshotData;
    use lagwatch_core::status::PartitionStatus;
    use lagwatch_test_support::conformance::sink::check_sink;
    use lagwatch_test_support::sample;

    /// A `Write` whose bytes the test can read back.
    #[derive(Clone, Default)]
    struct Captured(Arc<Mutex<Vec<u8>>>);

    impl Write for Captured {
        fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
            self.0.lock().unwrap().extend_from_slice(buf);
            Ok(buf.len())
        }
        fn flush(&mut self) -> io::Result<()> {
            Ok(())
        }
    }

    impl Captured {
        fn text(&self) -> String {
            String::from_utf8(self.0.lock().unwrap().clone()).unwrap()
        }
    }

    /// A pipe whose reader went away.
    struct Closed;

    impl Write for Closed {
        fn write(&mut self, _: &[u8]) -> io::Result<usize> {
            Err(io::Error::from(io::ErrorKind::BrokenPipe))
        }
        fn flush(&mut self) -> io::Result<()> {
            Err(io::Error::from(io::ErrorKind::BrokenPipe))
        }
    }

    fn config(format: StdoutFormat, topics: bool) -> StdoutSinkConfig {
        StdoutSinkConfig { format, topics }
    }

    fn sink(format: StdoutFormat, topics: bool) -> (StdoutSink, Captured) {
        let out = Captured::default();
        (
            StdoutSink::from_config("stdout", &config(format, topics))
                .unwrap()
                .writing_to(Box::new(out.clone())),
            out,
        )
    }

    #[tokio::test]
    async fn json_sink_conforms() {
        for topics in [false, true] {
            let (sink, _) = sink(StdoutFormat::Json, topics);
            check_sink(&sink, |s| sample::record_count(s, topics))
                .await
                .unwrap_or_else(|e| panic!("{e}"));
        }
    }

    #[tokio::test]
    async fn table_sink_conforms() {
        for terminal in [false, true] {
            let (sink, _) = sink(StdoutFormat::Table, false);
            let sink = sink.terminal(terminal);
            check_sink(&sink, |s| table::render(s, terminal).rows)
                .await
                .unwrap_or_else(|e| panic!("{e}"));
        }
    }

    #[tokio::test]
    async fn json_lines_are_the_documents_of_the_snapshot() {
        let (sink, out) = sink(StdoutFormat::Auto, true);
        assert_eq!(sink.effective_format(), StdoutFormat::Json);
        let snapshot = sample::snapshot();
        let ack = sink.write(&snapshot).await.unwrap();
        let expected: Vec<String> = from_snapshot(&snapshot, sink.measurement_options())
            .iter()
            .map(|m| m.to_document())
            .collect();
        let text = out.text();
        assert!(text.ends_with('\n'));
        let lines: Vec<&str> = text.lines().collect();
        assert_eq!(lines, expected);
        assert_eq!(ack.records, 24);
        let topic_lines = lines
            .iter()
            .filter(|l| l.contains(r#""measurement_name":"burrow_topic""#))
            .count();
        assert_eq!(topic_lines, 8);
        for line in lines {
            let doc: serde_json::Value = serde_json::from_str(line).unwrap();
            assert_eq!(doc["@timestamp"], "2019-08-19T08:32:10Z");
        }
    }

    #[tokio::test]
    async fn json_without_topics_leaves_out_burrow_topic() {
        let (sink, out) = sink(StdoutFormat::Json, false);
        let ack = sink.write(&sample::snapshot()).await.unwrap();
        assert_eq!(ack.records, 16);
        assert!(!out.text().contains(MeasurementName::BurrowTopic.as_str()));
    }

    #[tokio::test]
    async fn measurement_options_can_add_a_host_tag() {
        let (sink, out) = sink(StdoutFormat::Json, false);
        let sink = sink.with_measurement_options(MeasurementOptions {
            host: Some("collector-1".into()),
            include_topics: false,
            native_fields: false,
        });
        sink.write(&sample::snapshot()).await.unwrap();
        let text = out.text();
        assert!(text.lines().all(|l| l.contains(r#""host":"collector-1""#)));
        assert!(!text.contains("time_lag_seconds"));
    }

    #[tokio::test]
    async fn empty_snapshot_prints_nothing_in_json() {
        let (sink, out) = sink(StdoutFormat::Json, true);
        let ack = sink.write(&sample::empty_snapshot(0, 1)).await.unwrap();
        assert_eq!(ack.records, 0);
        assert_eq!(out.text(), "");
    }

    #[tokio::test]
    async fn forced_table_without_terminal_has_no_escapes_and_blank_separators() {
        let (sink, out) = sink(StdoutFormat::Table, false);
        assert_eq!(sink.effective_format(), StdoutFormat::Table);
        let first = sink.write(&sample::snapshot()).await.unwrap();
        sink.write(&sample::snapshot_at(sample::SAMPLE_AT_MS + 10_000, 2))
            .await
            .unwrap();
        let text = out.text();
        assert!(!text.contains('\x1b'));
        let tables: Vec<&str> = text.split("\n\n").collect();
        assert_eq!(tables.len(), 2, "{text}");
        assert!(tables[0].starts_with("lagwatch  2019-08-19 08:32:10 UTC  cycle 1  groups 5 (ERR 1, WARN 1, NOTFOUND 1, OK 2)  stale 1\n"));
        assert!(tables[1].starts_with("lagwatch  2019-08-19 08:32:20 UTC  cycle 2"));
        // 5 group rows; billing: 4 non-OK + 1 lagging OK; hdfs_consumer: 1 WARN + 2 lagging;
        // slow_reader: 1 lagging; archiver and ghost: nothing to detail.
        assert_eq!(first.records, 5 + 5 + 3 + 1);
    }

    #[tokio::test]
    async fn table_layout() {
        let (sink, out) = sink(StdoutFormat::Table, false);
        sink.write(&sample::snapshot()).await.unwrap();
        let expected = "\
lagwatch  2019-08-19 08:32:10 UTC  cycle 1  groups 5 (ERR 1, WARN 1, NOTFOUND 1, OK 2)  stale 1
CLUSTER  GROUP          STATUS    TOTAL LAG  MAX LAG  PARTITIONS
backup   archiver       OK                0        0           1
live     billing        ERR            5038     4000           5  time lag ~1h00m
    payments/4  REWIND  lag   15
    payments/3  STALL   lag  900  time lag 10m10s  owner /10.0.0.8
    payments/2  STOP    lag 4000  time lag ~1h00m  owner /10.0.0.8
    payments/1  WARN    lag  120  time lag 42.2s  owner /10.0.0.7
    payments/0  OK      lag    3  time lag 1.5s  owner /10.0.0.7
live     ghost          NOTFOUND          0        0           0
live     hdfs_consumer  WARN             60       54           3
    payment_log/0  WARN    lag 54  owner /10.0.0.5
    payment_log/1  OK      lag  4  owner /10.0.0.5
    payment_log/2  OK      lag  2
live     slow_reader    OK                1        1           2  stale
    payments/1  OK      lag 1  owner /10.0.0.9  stale
";
        assert_eq!(out.text(), expected);
    }

    #[tokio::test]
    async fn alert_lines_stay_under_the_table_and_json_is_unchanged() {
        use lagwatch_component::Alerter as _;
        let feed = AlertFeed::new(2);
        let alerter = feed.alerter();
        lagwatch_test_support::conformance::alerter::check_alerter(&alerter, 3_600_000)
            .await
            .unwrap_or_else(|e| panic!("{e}"));
        let [firing, resolved] =
            lagwatch_test_support::conformance::alerter::sample_notifications(3_600_000);
        for n in [&firing, &resolved, &firing] {
            alerter.deliver(n).await.unwrap();
        }
        let lines = feed.lines();
        assert_eq!(lines.len(), 2, "the capacity keeps the newest: {lines:?}");
        assert!(lines[0].starts_with("01:02:00 RESOLVED"), "{lines:?}");
        assert!(lines[1].starts_with("01:00:00 FIRING"), "{lines:?}");

        let (table, out) = sink(StdoutFormat::Table, false);
        let table = table.terminal(true).with_alert_feed(feed.clone());
        table.write(&sample::snapshot()).await.unwrap();
        let text = out.text();
        let table_end = text.find("Alerts (newest last):").unwrap();
        assert!(text[table_end..].contains(&lines[1]), "{text}");
        assert!(
            text.ends_with("\x1b[J"),
            "the rest of the screen is still cleared"
        );

        let (json, out) = sink(StdoutFormat::Json, false);
        json.with_alert_feed(feed)
            .write(&sample::snapshot())
            .await
            .unwrap();
        assert!(!out.text().contains("Alerts"));
    }

    /// Names from outside full of terminal controls: ESC sequences (clear screen, set title,
    /// colours), CR, BEL, a C1 CSI and a right-to-left override.
    const EVIL: &str = "ev\u{1b}[2J\u{1b}]0;pwned\u{7}il\r\u{9b}31m\u{202e}gnp.exe";

    /// Whether `text` holds a control or bidi character other than a newline.
    fn has_controls(text: &str) -> bool {
        text.chars()
            .any(|c| c != '\n' && lagwatch_core::text::is_unsafe_for_terminal(c))
    }

    #[tokio::test]
    async fn control_characters_in_names_are_shown_escaped() {
        let at = sample::SAMPLE_AT_MS;
        let partition = sample::partition(EVIL, 0, PartitionStatus::Stop, 10, None, EVIL, at);
        let snapshot = Snapshot::new(SnapshotData {
            at_ms: at,
            cycle: 1,
            groups: vec![sample::group(EVIL, EVIL, vec![partition], at)],
            topics: Vec::new(),
        });
        let (plain, out) = sink(StdoutFormat::Table, false);
        plain.write(&snapshot).await.unwrap();
        let text = out.text();
        assert!(!has_controls(&text), "{text:?}");
        assert!(
            text.contains("ev\\x1b[2J\\x1b]0;pwned\\x07il\\r\\x9b31m\\u{202e}gnp.exe"),
            "{text}"
        );

        // On a terminal only the table's own sequences remain.
        let feed = AlertFeed::new(2);
        let [mut firing, _] = lagwatch_test_support::conformance::alerter::sample_notifications(at);
        firing.rule = EVIL.to_owned();
        firing.summary = EVIL.to_owned();
        firing.labels.insert("cluster".to_owned(), EVIL.to_owned());
        firing.labels.insert("group".to_owned(), EVIL.to_owned());
        feed.push(AlertFeed::line(&firing));
        assert!(!has_controls(&feed.lines()[0]), "{:?}", feed.lines());
        let (terminal, out) = sink(StdoutFormat::Table, false);
        let terminal = terminal.terminal(true).with_alert_feed(feed);
        terminal.write(&snapshot).await.unwrap();
        let mut text = out.text();
        for own in [
            CLEAR_SCREEN,
            "\x1b[H",
            "\x1b[K",
            "\x1b[J",
            "\x1b[0m",
            "\x1b[31m",
        ] {
            text = text.replace(own, "");
        }
        assert!(!has_controls(&text), "{text:?}");
    }

    #[tokio::test]
    async fn terminal_table_redraws_in_place() {
        let (sink, out) = sink(StdoutFormat::Auto, false);
        let sink = sink.terminal(true);
        assert_eq!(sink.effective_format(), StdoutFormat::Table);
        sink.write(&sample::snapshot()).await.unwrap();
        sink.write(&sample::snapshot()).await.unwrap();
        let text = out.text();
        assert_eq!(text.matches("\x1b[H").count(), 2);
        assert_eq!(text.matches(CLEAR_SCREEN).count(), 1);
        assert!(text.starts_with("\x1b[2J\x1b[H"));
        assert!(text.ends_with("\x1b[J"));
        assert!(!text.contains("\n\n"));
        assert!(text.contains("\x1b[31mERR"));
    }

    #[tokio::test]
    async fn table_of_an_empty_snapshot_says_so() {
        let (sink, out) = sink(StdoutFormat::Table, false);
        let ack = sink.write(&sample::empty_snapshot(0, 3)).await.unwrap();
        assert_eq!(ack.records, 0);
        assert_eq!(
            out.text(),
            "lagwatch  1970-01-01 00:00:00 UTC  cycle 3  groups 0\n(no consumer groups evaluated yet)\n"
        );
    }

    fn big_group(name: &str, partitions: i32, at: i64) -> lagwatch_core::GroupReport {
        let parts = (0..partitions)
            .map(|i| {
                let status = if i % 2 == 0 {
                    PartitionStatus::Stop
                } else {
                    PartitionStatus::Ok
                };
                sample::partition("big", i, status, 100 + i as u64, Some(1_000), "", at)
            })
            .collect();
        sample::group("live", name, parts, at)
    }

    #[tokio::test]
    async fn table_is_capped_and_says_how_much_is_left_out() {
        let at = sample::SAMPLE_AT_MS;
        let snapshot = Snapshot::new(SnapshotData {
            at_ms: at,
            cycle: 1,
            groups: vec![big_group("a", 60, at), big_group("b", 60, at)],
            topics: Vec::new(),
        });
        let rendered = table::render(&snapshot, false);
        let lines: Vec<&str> = rendered.text.lines().collect();
        assert_eq!(lines.len(), table::MAX_LINES);
        // 36 detail lines shared fairly: 17 partitions + "more" per group.
        let more: Vec<&&str> = lines
            .iter()
            .filter(|l| l.contains("more partitions"))
            .collect();
        assert_eq!(more.len(), 2);
        // 30 STOP + 3 lagging OK candidates per group, 17 listed.
        assert_eq!(more[0].trim(), "… 16 more partitions");
        assert_eq!(rendered.rows, 2 + 2 * 17);

        let many_groups: Vec<_> = (0..50)
            .map(|i| {
                let mut g = big_group(&format!("g{i:02}"), 1, at);
                if i != 42 {
                    g.partitions[0].status = PartitionStatus::Ok;
                    g.status = lagwatch_core::GroupStatus::Ok;
                }
                g
            })
            .collect();
        let snapshot = Snapshot::new(SnapshotData {
            at_ms: at,
            cycle: 1,
            groups: many_groups,
            topics: Vec::new(),
        });
        let rendered = table::render(&snapshot, false);
        let lines: Vec<&str> = rendered.text.lines().collect();
        assert_eq!(lines.len(), table::MAX_LINES);
        assert_eq!(*lines.last().unwrap(), "… 13 more groups");
        // The one ERR group is kept even though it comes late.
        assert!(rendered.text.contains("g42"));
        assert_eq!(rendered.rows, 37);
    }

    #[tokio::test]
    async fn broken_pipe_is_a_permanent_error_naming_the_sink() {
        for format in [StdoutFormat::Json, StdoutFormat::Table] {
            let sink = StdoutSink::from_config("stdout", &config(format, true))
                .unwrap()
                .writing_to(Box::new(Closed));
            let err = sink.write(&sample::snapshot()).await.unwrap_err();
            assert_eq!(err.class, lagwatch_component::ErrorClass::Permanent);
            assert_eq!(err.component, "sink.stdout");
            assert!(err.to_string().contains("broken pipe"), "{err}");
            let err = sink.flush().await.unwrap_err();
            assert!(!err.is_retryable());
        }
    }

    #[test]
    fn time_lag_text_formats() {
        use lagwatch_core::time_lag::{Confidence, TimeLag};
        let t = |seconds, confidence| {
            table::time_lag_text(&TimeLag {
                seconds,
                confidence,
            })
        };
        assert_eq!(t(1.25, Confidence::Interpolated), "1.2s");
        assert_eq!(t(59.94, Confidence::Interpolated), "59.9s");
        assert_eq!(t(605.0, Confidence::Interpolated), "10m05s");
        assert_eq!(t(7_380.0, Confidence::Extrapolated), "~2h03m");
    }
}
