//! Kafka's own Java command-line tools, as an independent reference for what lagwatch reports.
//!
//! Each call starts a JVM (about a second of CPU), so use these for checks, not in loops.

use std::path::Path;
use std::process::Stdio;
use std::time::Duration;

use anyhow::{Context as _, anyhow, bail};
use tokio::io::AsyncWriteExt as _;

use super::env::KafkaTools;

/// Upper bound of one tool run.
pub const TOOL_TIMEOUT: Duration = Duration::from_secs(90);

/// What a tool printed.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ToolOutput {
    /// Standard output.
    pub stdout: String,
    /// Standard error.
    pub stderr: String,
}

/// Runs `<tools_dir>/<tool> <args...>`, feeding `stdin` if given; fails when the tool exits
/// non-zero or runs longer than [`TOOL_TIMEOUT`].
pub async fn run(
    tools: &KafkaTools,
    tool: &str,
    args: &[&str],
    stdin: Option<&[u8]>,
) -> anyhow::Result<ToolOutput> {
    run_in(&tools.dir, tool, args, stdin).await
}

async fn run_in(
    dir: &Path,
    tool: &str,
    args: &[&str],
    stdin: Option<&[u8]>,
) -> anyhow::Result<ToolOutput> {
    let path = dir.join(tool);
    let mut command = tokio::process::Command::new(&path);
    command
        .args(args)
        .stdin(if stdin.is_some() {
            Stdio::piped()
        } else {
            Stdio::null()
        })
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .kill_on_drop(true);
    let shown = format!("{tool} {}", args.join(" "));
    let mut child = command
        .spawn()
        .with_context(|| format!("cannot start {}", path.display()))?;
    if let (Some(data), Some(mut pipe)) = (stdin, child.stdin.take()) {
        pipe.write_all(data)
            .await
            .with_context(|| format!("writing to {shown}"))?;
        drop(pipe);
    }
    let output = tokio::time::timeout(TOOL_TIMEOUT, child.wait_with_output())
        .await
        .map_err(|_| anyhow!("{shown} took longer than {TOOL_TIMEOUT:?}"))?
        .with_context(|| format!("waiting for {shown}"))?;
    let result = ToolOutput {
        stdout: String::from_utf8_lossy(&output.stdout).into_owned(),
        stderr: String::from_utf8_lossy(&output.stderr).into_owned(),
    };
    if !output.status.success() {
        bail!(
            "{shown} failed ({}):\n{}\n{}",
            output.status,
            result.stdout.trim(),
            result.stderr.trim()
        );
    }
    Ok(result)
}

/// One row of `kafka-consumer-groups --describe`.
///
/// `-` in the tool's output becomes `None`. A member without partitions has a row with
/// topic `-` (kept as `"-"`) and no partition.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct DescribeRow {
    /// Group id.
    pub group: String,
    /// Topic, or `-` for a member without partitions.
    pub topic: String,
    /// Partition number.
    pub partition: Option<i32>,
    /// Committed offset.
    pub current_offset: Option<i64>,
    /// Log end offset (high watermark).
    pub log_end_offset: Option<i64>,
    /// Lag as the tool computes it.
    pub lag: Option<i64>,
    /// Member id of the owning member, if any.
    pub consumer_id: Option<String>,
    /// Host of the owning member, if any.
    pub host: Option<String>,
    /// `client.id` of the owning member, if any.
    pub client_id: Option<String>,
}

/// `kafka-consumer-groups --bootstrap-server <bootstrap> --describe --group <group>`, parsed.
pub async fn consumer_groups_describe(
    tools: &KafkaTools,
    bootstrap: &str,
    group: &str,
) -> anyhow::Result<Vec<DescribeRow>> {
    describe(
        tools,
        "kafka-consumer-groups",
        bootstrap,
        group,
        parse_describe,
    )
    .await
}

/// `<tool> --bootstrap-server <bootstrap> --describe --group <group>`, its output parsed by
/// `parse` (the output is quoted in the error when it cannot be).
async fn describe<T>(
    tools: &KafkaTools,
    tool: &str,
    bootstrap: &str,
    group: &str,
    parse: fn(&str) -> anyhow::Result<Vec<T>>,
) -> anyhow::Result<Vec<T>> {
    let args = [
        "--bootstrap-server",
        bootstrap,
        "--describe",
        "--group",
        group,
    ];
    let output = run(tools, tool, &args, None).await?;
    parse(&output.stdout)
        .with_context(|| format!("parsing the output of {tool}:\n{}", output.stdout))
}

fn optional_text(value: &str) -> Option<String> {
    (value != "-").then(|| value.to_owned())
}

fn optional_number<T: std::str::FromStr>(column: &str, value: &str) -> anyhow::Result<Option<T>> {
    if value == "-" {
        return Ok(None);
    }
    value
        .parse()
        .map(Some)
        .map_err(|_| anyhow!("column {column}: {value:?} is not a number"))
}

/// Parses the table `kafka-consumer-groups --describe` prints (Kafka 3.x and 4.x layouts).
///
/// Lines before the header (e.g. "Consumer group 'g' has no active members.") and blank
/// lines are skipped; columns are found by their header names.
pub fn parse_describe(text: &str) -> anyhow::Result<Vec<DescribeRow>> {
    parse_table(text, "TOPIC", |row| {
        Ok(DescribeRow {
            group: row.get("GROUP")?.to_owned(),
            topic: row.get("TOPIC")?.to_owned(),
            partition: row.number("PARTITION")?,
            current_offset: row.number("CURRENT-OFFSET")?,
            log_end_offset: row.number("LOG-END-OFFSET")?,
            lag: row.number("LAG")?,
            consumer_id: optional_text(row.get("CONSUMER-ID")?),
            host: optional_text(row.get("HOST")?),
            client_id: optional_text(row.get("CLIENT-ID")?),
        })
    })
}

/// One data line of a tool's table, its cells found by the header's column names.
struct TableRow<'a> {
    line: &'a str,
    columns: &'a [&'a str],
    fields: Vec<&'a str>,
}

impl<'a> TableRow<'a> {
    /// The cell under `name`.
    fn get(&self, name: &str) -> anyhow::Result<&'a str> {
        self.columns
            .iter()
            .position(|c| *c == name)
            .map(|i| self.fields[i])
            .ok_or_else(|| anyhow!("no {name} column"))
    }

    /// The cell under `name` as a number, `None` for `-`.
    fn number<T: std::str::FromStr>(&self, name: &str) -> anyhow::Result<Option<T>> {
        optional_number(name, self.get(name)?)
    }
}

/// Parses the whitespace-separated table a Kafka tool prints: the header is the line that
/// starts with `GROUP` and names the column `marker`; lines before it and blank lines are
/// skipped; every later line must have as many cells as the header and becomes one `row`.
fn parse_table<T>(
    text: &str,
    marker: &str,
    row: impl Fn(&TableRow<'_>) -> anyhow::Result<T>,
) -> anyhow::Result<Vec<T>> {
    let mut header: Option<Vec<&str>> = None;
    let mut rows = Vec::new();
    for line in text.lines() {
        let fields: Vec<&str> = line.split_whitespace().collect();
        if fields.is_empty() {
            continue;
        }
        if fields[0] == "GROUP" && fields.contains(&marker) {
            header = Some(fields);
            continue;
        }
        let Some(columns) = &header else { continue };
        if fields.len() != columns.len() {
            bail!(
                "row {line:?} has {} columns, the header {}",
                fields.len(),
                columns.len()
            );
        }
        rows.push(row(&TableRow {
            line,
            columns,
            fields,
        })?);
    }
    Ok(rows)
}

/// One row of `kafka-share-groups --describe` (Kafka 4.2+): `-` becomes `None`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ShareDescribeRow {
    /// Share group id.
    pub group: String,
    /// Topic.
    pub topic: String,
    /// Partition number.
    pub partition: i32,
    /// The share-partition start offset (`None` before the group started on the partition).
    pub start_offset: Option<i64>,
    /// Lag as the tool reports it.
    pub lag: Option<i64>,
}

/// `kafka-share-groups --bootstrap-server <bootstrap> --describe --group <group>`, parsed
/// (columns found by their header names).
pub async fn share_groups_describe(
    tools: &KafkaTools,
    bootstrap: &str,
    group: &str,
) -> anyhow::Result<Vec<ShareDescribeRow>> {
    describe(
        tools,
        "kafka-share-groups",
        bootstrap,
        group,
        parse_share_describe,
    )
    .await
}

/// Parses the table `kafka-share-groups --describe` prints.
pub fn parse_share_describe(text: &str) -> anyhow::Result<Vec<ShareDescribeRow>> {
    parse_table(text, "START-OFFSET", |row| {
        Ok(ShareDescribeRow {
            group: row.get("GROUP")?.to_owned(),
            topic: row.get("TOPIC")?.to_owned(),
            partition: row
                .number("PARTITION")?
                .ok_or_else(|| anyhow!("row {:?} has no partition", row.line))?,
            start_offset: row.number("START-OFFSET")?,
            lag: row.number("LAG")?,
        })
    })
}

/// Makes `group` a share group that starts at the earliest offset, then consumes (and
/// acknowledges) exactly `n` records of `topic` with Kafka's console share consumer.
pub async fn share_consume(
    tools: &KafkaTools,
    bootstrap: &str,
    topic: &str,
    group: &str,
    n: u64,
) -> anyhow::Result<()> {
    run(
        tools,
        "kafka-configs",
        &[
            "--bootstrap-server",
            bootstrap,
            "--alter",
            "--entity-type",
            "groups",
            "--entity-name",
            group,
            "--add-config",
            "share.auto.offset.reset=earliest",
        ],
        None,
    )
    .await?;
    let n = n.to_string();
    run(
        tools,
        "kafka-console-share-consumer",
        &[
            "--bootstrap-server",
            bootstrap,
            "--topic",
            topic,
            "--group",
            group,
            "--max-messages",
            &n,
        ],
        None,
    )
    .await?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_the_share_group_table() {
        let text = "\nGROUP  TOPIC     PARTITION  START-OFFSET  LAG\n\
            gtry   sharetry  0          50            100\n\
            gtry   sharetry  1          -             -\n";
        let rows = parse_share_describe(text).unwrap();
        assert_eq!(rows.len(), 2);
        assert_eq!(
            (rows[0].partition, rows[0].start_offset, rows[0].lag),
            (0, Some(50), Some(100))
        );
        assert_eq!((rows[1].start_offset, rows[1].lag), (None, None));
    }

    #[test]
    fn parses_a_group_without_members() {
        let text = "\nConsumer group 'g1' has no active members.\n\n\
            GROUP  TOPIC    PARTITION  CURRENT-OFFSET  LOG-END-OFFSET  LAG  CONSUMER-ID  HOST  CLIENT-ID\n\
            g1     lagtest  0          100             300             200  -            -     -\n\
            g1     lagtest  1          -               0               -    -            -     -\n";
        let rows = parse_describe(text).unwrap();
        assert_eq!(rows.len(), 2);
        assert_eq!(rows[0].partition, Some(0));
        assert_eq!(rows[0].current_offset, Some(100));
        assert_eq!(rows[0].log_end_offset, Some(300));
        assert_eq!(rows[0].lag, Some(200));
        assert_eq!(rows[0].consumer_id, None);
        assert_eq!(rows[1].current_offset, None);
        assert_eq!(rows[1].lag, None);
    }

    #[test]
    fn parses_active_members_and_members_without_partitions() {
        let text = "GROUP TOPIC PARTITION CURRENT-OFFSET LOG-END-OFFSET LAG CONSUMER-ID HOST CLIENT-ID\n\
            g2 t 0 5 9 4 rdkafka-abc /127.0.0.1 c1\n\
            g2 - - - - - rdkafka-def /127.0.0.1 c2\n";
        let rows = parse_describe(text).unwrap();
        assert_eq!(rows[0].consumer_id.as_deref(), Some("rdkafka-abc"));
        assert_eq!(rows[0].host.as_deref(), Some("/127.0.0.1"));
        assert_eq!(rows[0].client_id.as_deref(), Some("c1"));
        assert_eq!(rows[1].topic, "-");
        assert_eq!(rows[1].partition, None);
    }

    #[test]
    fn columns_are_found_by_name() {
        let text = "GROUP TOPIC PARTITION LEADER-EPOCH CURRENT-OFFSET LOG-END-OFFSET LAG CONSUMER-ID HOST CLIENT-ID\n\
            g t 2 0 7 10 3 - - -\n";
        let rows = parse_describe(text).unwrap();
        assert_eq!(rows[0].partition, Some(2));
        assert_eq!(rows[0].lag, Some(3));
    }

    #[test]
    fn malformed_rows_are_errors() {
        let text = "GROUP TOPIC PARTITION CURRENT-OFFSET LOG-END-OFFSET LAG CONSUMER-ID HOST CLIENT-ID\ng t x 1 2 1 - - -\n";
        assert!(parse_describe(text).is_err());
        assert!(parse_describe("GROUP TOPIC PARTITION\ng t\n").is_err());
    }
}
