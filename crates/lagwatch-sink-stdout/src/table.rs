//! The human table: one line per group, and under it the partitions worth a look.

use lagwatch_core::Snapshot;
use lagwatch_core::measurement::UtcDateTime;
use lagwatch_core::report::{GroupReport, PartitionReport};
use lagwatch_core::status::{GroupStatus, PartitionStatus};
use lagwatch_core::text::escape_for_terminal as shown;
use lagwatch_core::time_lag::{Confidence, TimeLag};
use std::fmt::Write as _;

/// Lines one table may take, header included, so it fits a usual terminal.
pub(crate) const MAX_LINES: usize = 40;
/// OK partitions listed per group, highest lag first (non-OK partitions are always candidates).
pub(crate) const TOP_LAGGING: usize = 3;

/// ANSI: cursor home.
const HOME: &str = "\x1b[H";
/// ANSI: clear to the end of the line.
const CLEAR_LINE: &str = "\x1b[K";
/// ANSI: clear from the cursor to the end of the screen.
const CLEAR_BELOW: &str = "\x1b[J";
const RESET: &str = "\x1b[0m";

/// A rendered table.
pub(crate) struct Rendered {
    /// The text to write, ending with a newline.
    pub text: String,
    /// Data rows: group lines plus partition lines (headers and "more" lines not counted).
    pub rows: usize,
}

/// Renders `snapshot`. With `ansi`, the table redraws the screen in place (cursor home, each
/// line cleared to its end, the rest of the screen cleared) and statuses are coloured.
pub(crate) fn render(snapshot: &Snapshot, ansi: bool) -> Rendered {
    let groups = snapshot.groups();
    let mut lines: Vec<String> = Vec::new();
    lines.push(title(snapshot));

    if groups.is_empty() {
        lines.push("(no consumer groups evaluated yet)".to_owned());
        return finish(lines, 0, ansi);
    }

    let widths = Widths::of(groups);
    lines.push(widths.header());

    let budget = MAX_LINES.saturating_sub(lines.len());
    let shown = choose_groups(groups, budget);
    let hidden_groups = groups.len() - shown.len();
    let mut detail_budget = budget.saturating_sub(shown.len() + usize::from(hidden_groups > 0));

    let candidates: Vec<Vec<&PartitionReport>> = shown
        .iter()
        .map(|&i| detail_candidates(&groups[i]))
        .collect();
    let allocation = allocate(&candidates, &mut detail_budget);

    let mut rows = 0;
    for ((&index, cands), &alloc) in shown.iter().zip(&candidates).zip(&allocation) {
        let group = &groups[index];
        lines.push(widths.group_line(group, ansi));
        rows += 1;
        let (listed, more) = if alloc >= cands.len() {
            (cands.len(), 0)
        } else if alloc == 0 {
            (0, 0)
        } else {
            (alloc - 1, cands.len() - (alloc - 1))
        };
        let label_width = cands[..listed]
            .iter()
            .map(|p| partition_label(p).chars().count())
            .max()
            .unwrap_or(0);
        let lag_width = cands[..listed]
            .iter()
            .map(|p| p.current_lag.to_string().len())
            .max()
            .unwrap_or(0);
        for p in &cands[..listed] {
            lines.push(partition_line(p, label_width, lag_width, ansi));
            rows += 1;
        }
        if more > 0 {
            lines.push(format!("    … {more} more partition{}", plural(more)));
        }
    }
    if hidden_groups > 0 {
        lines.push(format!(
            "… {hidden_groups} more group{}",
            plural(hidden_groups)
        ));
    }
    finish(lines, rows, ansi)
}

fn finish(lines: Vec<String>, rows: usize, ansi: bool) -> Rendered {
    let mut text = String::new();
    if ansi {
        text.push_str(HOME);
    }
    for line in lines {
        text.push_str(&line);
        if ansi {
            text.push_str(CLEAR_LINE);
        }
        text.push('\n');
    }
    if ansi {
        text.push_str(CLEAR_BELOW);
    }
    Rendered { text, rows }
}

/// Appends a titled block of `lines` under a rendered table (before the final "clear the
/// rest of the screen" of a terminal table). Nothing is added without lines.
pub(crate) fn append(rendered: &mut Rendered, title: &str, lines: &[String], ansi: bool) {
    if lines.is_empty() {
        return;
    }
    let cleared = ansi && rendered.text.ends_with(CLEAR_BELOW);
    if cleared {
        rendered
            .text
            .truncate(rendered.text.len() - CLEAR_BELOW.len());
    }
    let end = if ansi { CLEAR_LINE } else { "" };
    rendered.text.push_str(&format!("{end}\n{title}{end}\n"));
    for line in lines {
        rendered.text.push_str(&format!("  {line}{end}\n"));
    }
    if cleared {
        rendered.text.push_str(CLEAR_BELOW);
    }
}

fn plural(n: usize) -> &'static str {
    if n == 1 { "" } else { "s" }
}

fn title(snapshot: &Snapshot) -> String {
    let t = UtcDateTime::from_unix_ms(snapshot.at_ms());
    let mut text = format!(
        "lagwatch  {} {:02}:{:02}:{:02} UTC  cycle {}  groups {}",
        t.date_string(),
        t.hour,
        t.minute,
        t.second,
        snapshot.cycle(),
        snapshot.groups().len()
    );
    let counts: Vec<String> = [
        GroupStatus::Err,
        GroupStatus::Warn,
        GroupStatus::NotFound,
        GroupStatus::Ok,
    ]
    .iter()
    .filter_map(|status| {
        let n = snapshot
            .groups()
            .iter()
            .filter(|g| g.status == *status)
            .count();
        (n > 0).then(|| format!("{status} {n}"))
    })
    .collect();
    if !counts.is_empty() {
        let _ = write!(text, " ({})", counts.join(", "));
    }
    let stale = snapshot.groups().iter().filter(|g| g.stale).count();
    if stale > 0 {
        let _ = write!(text, "  stale {stale}");
    }
    let warming = snapshot.groups().iter().filter(|g| g.warming_up).count();
    if warming > 0 {
        let _ = write!(text, "  warming up {warming}");
    }
    text
}

/// Severity for ordering groups: ERR > WARN > NOTFOUND > OK.
fn group_rank(status: GroupStatus) -> u8 {
    match status {
        GroupStatus::Err => 3,
        GroupStatus::Warn => 2,
        GroupStatus::NotFound => 1,
        GroupStatus::Ok => 0,
    }
}

/// Indices of the groups to show, in snapshot order. When there are more groups than lines,
/// the worst ones are kept (status, then total lag) and one line is left for "N more".
fn choose_groups(groups: &[GroupReport], budget: usize) -> Vec<usize> {
    if groups.len() <= budget {
        return (0..groups.len()).collect();
    }
    let keep = budget.saturating_sub(1);
    let mut by_priority: Vec<usize> = (0..groups.len()).collect();
    by_priority.sort_by(|&a, &b| {
        let (ga, gb) = (&groups[a], &groups[b]);
        group_rank(gb.status)
            .cmp(&group_rank(ga.status))
            .then(gb.totallag.cmp(&ga.totallag))
            .then(a.cmp(&b))
    });
    by_priority.truncate(keep);
    by_priority.sort_unstable();
    by_priority
}

/// The partitions of a group worth a line: every non-OK partition (worst first, then by lag),
/// then the [`TOP_LAGGING`] OK partitions with the highest non-zero lag.
fn detail_candidates(group: &GroupReport) -> Vec<&PartitionReport> {
    let mut bad: Vec<&PartitionReport> = group
        .partitions
        .iter()
        .filter(|p| p.status != PartitionStatus::Ok)
        .collect();
    bad.sort_by(|a, b| {
        b.status
            .cmp(&a.status)
            .then(b.current_lag.cmp(&a.current_lag))
            .then((&a.topic, a.partition).cmp(&(&b.topic, b.partition)))
    });
    let mut lagging: Vec<&PartitionReport> = group
        .partitions
        .iter()
        .filter(|p| p.status == PartitionStatus::Ok && p.current_lag > 0)
        .collect();
    lagging.sort_by(|a, b| {
        b.current_lag
            .cmp(&a.current_lag)
            .then((&a.topic, a.partition).cmp(&(&b.topic, b.partition)))
    });
    lagging.truncate(TOP_LAGGING);
    bad.extend(lagging);
    bad
}

/// Shares `budget` detail lines between groups one line at a time, so every group with
/// something to show gets a line before any group gets a second one.
fn allocate(candidates: &[Vec<&PartitionReport>], budget: &mut usize) -> Vec<usize> {
    let mut alloc = vec![0usize; candidates.len()];
    loop {
        let mut progressed = false;
        for (a, c) in alloc.iter_mut().zip(candidates) {
            if *budget == 0 {
                return alloc;
            }
            if *a < c.len() {
                *a += 1;
                *budget -= 1;
                progressed = true;
            }
        }
        if !progressed {
            return alloc;
        }
    }
}

fn colour_of(status: &str) -> &'static str {
    match status {
        "OK" => "\x1b[32m",
        "WARN" => "\x1b[33m",
        "NOTFOUND" => "\x1b[2m",
        _ => "\x1b[31m",
    }
}

/// `status` padded to `width`, coloured when `ansi`.
fn status_cell(status: &str, width: usize, ansi: bool) -> String {
    let padded = format!("{status:<width$}");
    if ansi {
        format!("{}{padded}{RESET}", colour_of(status))
    } else {
        padded
    }
}

/// `topic/partition`, the topic with control characters made visible.
fn partition_label(p: &PartitionReport) -> String {
    format!("{}/{}", shown(&p.topic), p.partition)
}

fn partition_line(p: &PartitionReport, label_width: usize, lag_width: usize, ansi: bool) -> String {
    let mut text = format!(
        "    {:<label_width$}  {}  lag {:>lag_width$}",
        partition_label(p),
        status_cell(p.status.as_str(), 6, ansi),
        p.current_lag,
    );
    if let Some(t) = p
        .extras
        .time_lag
        .filter(|t| t.confidence != Confidence::Unknown)
    {
        let _ = write!(text, "  time lag {}", time_lag_text(&t));
    }
    if !p.owner.is_empty() {
        let _ = write!(text, "  owner {}", shown(&p.owner));
    }
    if p.extras.stale {
        text.push_str("  stale");
    }
    if p.extras.warming_up {
        text.push_str("  warming up");
    }
    text.trim_end().to_owned()
}

/// `42.3s`, `10m05s`, `2h03m`; `~` in front of an extrapolated estimate.
pub(crate) fn time_lag_text(t: &TimeLag) -> String {
    let prefix = if t.confidence == Confidence::Extrapolated {
        "~"
    } else {
        ""
    };
    let s = t.seconds.max(0.0);
    let body = if s < 60.0 {
        format!("{s:.1}s")
    } else if s < 3600.0 {
        let whole = s as u64;
        format!("{}m{:02}s", whole / 60, whole % 60)
    } else {
        let whole = s as u64;
        format!("{}h{:02}m", whole / 3600, whole / 60 % 60)
    };
    format!("{prefix}{body}")
}

/// Column widths of the group lines.
struct Widths {
    cluster: usize,
    group: usize,
    status: usize,
    total: usize,
    max: usize,
    partitions: usize,
}

const H_CLUSTER: &str = "CLUSTER";
const H_GROUP: &str = "GROUP";
const H_STATUS: &str = "STATUS";
const H_TOTAL: &str = "TOTAL LAG";
const H_MAX: &str = "MAX LAG";
const H_PARTITIONS: &str = "PARTITIONS";

fn max_lag(g: &GroupReport) -> u64 {
    g.maxlag.as_ref().map_or(0, |p| p.current_lag)
}

fn partition_count(g: &GroupReport) -> usize {
    if g.partition_count == 0 {
        g.partitions.len()
    } else {
        g.partition_count as usize
    }
}

impl Widths {
    fn of(groups: &[GroupReport]) -> Widths {
        let width = |header: &str, f: &dyn Fn(&GroupReport) -> usize| {
            groups
                .iter()
                .map(f)
                .max()
                .unwrap_or(0)
                .max(header.chars().count())
        };
        Widths {
            cluster: width(H_CLUSTER, &|g| shown(&g.cluster).chars().count()),
            group: width(H_GROUP, &|g| shown(&g.group).chars().count()),
            status: width(H_STATUS, &|g| g.status.as_str().len()),
            total: width(H_TOTAL, &|g| g.totallag.to_string().len()),
            max: width(H_MAX, &|g| max_lag(g).to_string().len()),
            partitions: width(H_PARTITIONS, &|g| partition_count(g).to_string().len()),
        }
    }

    fn header(&self) -> String {
        format!(
            "{:<cw$}  {:<gw$}  {:<sw$}  {:>tw$}  {:>mw$}  {:>pw$}",
            H_CLUSTER,
            H_GROUP,
            H_STATUS,
            H_TOTAL,
            H_MAX,
            H_PARTITIONS,
            cw = self.cluster,
            gw = self.group,
            sw = self.status,
            tw = self.total,
            mw = self.max,
            pw = self.partitions,
        )
    }

    fn group_line(&self, g: &GroupReport, ansi: bool) -> String {
        let mut text = format!(
            "{:<cw$}  {:<gw$}  {}  {:>tw$}  {:>mw$}  {:>pw$}",
            shown(&g.cluster),
            shown(&g.group),
            status_cell(g.status.as_str(), self.status, ansi),
            g.totallag,
            max_lag(g),
            partition_count(g),
            cw = self.cluster,
            gw = self.group,
            tw = self.total,
            mw = self.max,
            pw = self.partitions,
        );
        let worst_time_lag = g
            .partitions
            .iter()
            .filter_map(|p| p.extras.time_lag)
            .filter(|t| t.confidence != Confidence::Unknown)
            .max_by(|a, b| a.seconds.total_cmp(&b.seconds));
        if let Some(t) = worst_time_lag {
            let _ = write!(text, "  time lag {}", time_lag_text(&t));
        }
        if g.stale {
            text.push_str("  stale");
        }
        if g.warming_up {
            text.push_str("  warming up");
        }
        text
    }
}
