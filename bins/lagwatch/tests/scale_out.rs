//! Issue #21 with real processes: three `lagwatch run` instances share the harness Kafka 4.4
//! through `coordination_group`, a local webhook receiver gets their alerts, and one of them
//! is killed with SIGKILL.
//!
//! Checked:
//! * every group is served by exactly one instance's API (`/v3/kafka/<cluster>/consumer`),
//!   before and after the kill, and every group's and topic's records are written by exactly
//!   one instance: in the harness Elasticsearch (each instance writes its own index, so the
//!   writer of every document is known) and in file sinks with the same renderer;
//! * any instance's API answers for any group: a question about a group another instance
//!   owns is forwarded to the owner (named in `x-lagwatch-answered-by`), and Burrow's list
//!   of groups from any instance holds every group, before and after the kill;
//! * after the kill the survivors serve the dead instance's groups (the time it took is
//!   printed), with no STOP or STALL for a healthy group;
//! * every alert is announced once: the groups that lag fire once, the new owner does not
//!   announce them again, and when they catch up exactly one resolution each arrives, with
//!   the start of the original announcement.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use lagwatch_test_support::services::http::Receiver;
use lagwatch_test_support::services::{env, es, kafka, names};
use serde_json::Value;
use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

/// Consumer groups in the test (`LAGWATCH_TEST_SCALE_OUT_GROUPS` sets another number, e.g.
/// the issue's 3,000 when run by hand); the first [`LAGGING`] of them lag.
const GROUPS: usize = 300;
const LAGGING: usize = 3;
/// Partitions of the test topic, and messages in each.
const PARTITIONS: i32 = 4;
const MESSAGES: u64 = 100;
/// The lag of a lagging group's partitions (the rule fires above 10).
const LAG: i64 = 50;
const INSTANCES: usize = 3;
/// Longest wait for any step.
const STEP: Duration = Duration::from_secs(90);

/// A `lagwatch run` child process, killed with SIGKILL when dropped.
struct Instance {
    child: Child,
    port: u16,
    records: PathBuf,
    log: PathBuf,
    /// The Elasticsearch index this instance writes (its own, to tell writers apart).
    index: String,
}

/// Where the instances write: the harness Elasticsearch, and the webhook receiver.
struct Outputs<'a> {
    elasticsearch: &'a str,
    hook: &'a str,
}

impl Instance {
    fn start(
        dir: &Path,
        bootstrap: &str,
        prefix: &str,
        coordination: &str,
        outputs: &Outputs<'_>,
    ) -> Self {
        let hook = outputs.hook;
        let elasticsearch = outputs.elasticsearch;
        std::fs::create_dir_all(dir).unwrap();
        let port = std::net::TcpListener::bind("127.0.0.1:0")
            .unwrap()
            .local_addr()
            .unwrap()
            .port();
        let records = dir.join("lag.ndjson");
        let index = format!(
            "{prefix}-{}",
            dir.file_name().unwrap_or_default().to_string_lossy()
        );
        let config = format!(
            r#"[general]
evaluation_interval = "1s"
state_dir = {state:?}

[http]
listen = "127.0.0.1:{port}"

[sources.live]
type = "kafka"
servers = "{bootstrap}"
mode = "auto"
offset_refresh = "1s"
topic_refresh = "5s"
group_allowlist = "^{prefix}-g"
topic_allowlist = "^{prefix}-t$"
coordination_group = "{coordination}"
coordination_session_timeout = "6s"

[sinks.file]
type = "file"
path = {records:?}
rotate_bytes = 0
rotate_daily = false

[sinks.es]
type = "elasticsearch"
url = "{elasticsearch}"
index_name = "{index}"
batch_max_wait = "1s"

[rules.lag]
type = "threshold"
aggregate = "last"
value = 10.0
interval = "1s"

[alerters.hook]
type = "webhook"
url = "{hook}"
"#,
            state = dir.join("state").display().to_string(),
            records = records.display().to_string(),
        );
        let path = dir.join("lagwatch.toml");
        std::fs::write(&path, config).unwrap();
        let log = dir.join("lagwatch.log");
        let child = Command::new(env!("CARGO_BIN_EXE_lagwatch"))
            .args(["run", "--config"])
            .arg(&path)
            .env("RUST_LOG", "info")
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(std::fs::File::create(&log).unwrap())
            .spawn()
            .expect("start lagwatch run");
        Instance {
            child,
            port,
            records,
            log,
            index,
        }
    }

    /// The groups of the `burrow_group` documents this instance wrote to Elasticsearch with
    /// a time at or after `since_ms`.
    async fn indexed_groups(&self, elasticsearch: &str, since_ms: i64) -> BTreeSet<String> {
        es::refresh(elasticsearch, &self.index).await.unwrap();
        let query = serde_json::json!({
            "size": 0,
            "query": {"bool": {"filter": [
                {"term": {"measurement_name.keyword": "burrow_group"}},
                {"range": {"@timestamp": {"gte": since_ms, "format": "epoch_millis"}}}
            ]}},
            "aggs": {"groups": {"terms": {"field": "tag.group.keyword", "size": 65536}}}
        });
        let answer = es::search(elasticsearch, &self.index, &query)
            .await
            .unwrap();
        answer["aggregations"]["groups"]["buckets"]
            .as_array()
            .map(|buckets| {
                buckets
                    .iter()
                    .filter_map(|b| b["key"].as_str().map(str::to_owned))
                    .collect()
            })
            .unwrap_or_default()
    }

    fn url(&self) -> String {
        format!("http://127.0.0.1:{}", self.port)
    }

    /// The groups this instance's API serves itself (empty while it cannot answer): its
    /// list asked as another instance would ask it, so without the other instances' shares.
    async fn groups(&mut self) -> BTreeSet<String> {
        self.listed(true).await
    }

    /// Burrow's list of the cluster's groups from this instance: its own share (`own`), or
    /// as a client sees it, every instance's share gathered.
    async fn listed(&mut self, own: bool) -> BTreeSet<String> {
        if let Ok(Some(status)) = self.child.try_wait() {
            panic!(
                "lagwatch on port {} exited ({status}):\n{}",
                self.port,
                std::fs::read_to_string(&self.log).unwrap_or_default()
            );
        }
        let body = self.get_json("/v3/kafka/live/consumer", own).await;
        names(&body["consumers"], Value::as_str)
            .into_iter()
            .collect()
    }

    /// The JSON API's group list of the cluster from this instance (the dashboard's), every
    /// instance's share gathered, in the order given; empty while it cannot answer.
    async fn json_listed(&self) -> Vec<String> {
        let body = self.get_json("/api/v1/groups?cluster=live", false).await;
        names(&body["groups"], |g| g["group"].as_str())
    }

    /// The groups consuming `topic`, from Burrow's list (`burrow`) or the JSON API's topic,
    /// every instance's share gathered, in the order given; empty while it cannot answer.
    async fn topic_consumers(&self, topic: &str, burrow: bool) -> Vec<String> {
        if burrow {
            let path = format!("/v3/kafka/live/topic/{topic}/consumers");
            let body = self.get_json(&path, false).await;
            return names(&body["consumers"], Value::as_str);
        }
        let body = self
            .get_json(&format!("/api/v1/topics/live/{topic}"), false)
            .await;
        names(&body["consumers"], |g| g["group"].as_str())
    }

    /// The JSON answer to `path` from this instance (`null` while it cannot answer); with
    /// `own`, asked as another instance asks for its share (`x-lagwatch-forwarded-by`).
    async fn get_json(&self, path: &str, own: bool) -> Value {
        let mut ask = reqwest::Client::new().get(format!("{}{path}", self.url()));
        if own {
            ask = ask.header("x-lagwatch-forwarded-by", "the scale-out test");
        }
        let Ok(reply) = ask.send().await else {
            return Value::Null;
        };
        reply.json::<Value>().await.unwrap_or(Value::Null)
    }

    /// Every record of the file sink: (measurement, group, topic, stamp, status).
    fn records(&self) -> Vec<(String, String, String, String, String)> {
        let text = std::fs::read_to_string(&self.records).unwrap_or_default();
        text.lines()
            .filter_map(|line| serde_json::from_str::<Value>(line).ok())
            .map(|r| {
                let s = |v: &Value| v.as_str().unwrap_or_default().to_owned();
                (
                    s(&r["measurement_name"]),
                    s(&r["tag"]["group"]),
                    s(&r["tag"]["topic"]),
                    s(&r["@timestamp"]),
                    s(&r["tag"]["status"]),
                )
            })
            .collect()
    }

    fn kill(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }

    async fn stop(&mut self) {
        let _ = Command::new("kill")
            .args(["-TERM", &self.child.id().to_string()])
            .status();
        let deadline = Instant::now() + Duration::from_secs(30);
        while matches!(self.child.try_wait(), Ok(None)) && Instant::now() < deadline {
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
        self.kill();
    }
}

impl Drop for Instance {
    fn drop(&mut self) {
        self.kill();
    }
}

/// (group, state, started_at_ms) of every notification received.
fn notes(receiver: &Receiver) -> Vec<(String, String, i64)> {
    receiver
        .requests()
        .iter()
        .filter_map(|r| r.body_json().ok())
        .map(|b| {
            (
                b["labels"]["group"].as_str().unwrap_or_default().to_owned(),
                b["state"].as_str().unwrap_or_default().to_owned(),
                b["started_at_ms"].as_i64().unwrap_or_default(),
            )
        })
        .collect()
}

/// Which instance serves each group, and the groups served by two. A group that moves is
/// still shown by its previous owner until that one's next evaluation (one second here).
async fn owners(instances: &mut [Option<Instance>]) -> (BTreeMap<String, usize>, BTreeSet<String>) {
    let mut out = BTreeMap::new();
    let mut twice = BTreeSet::new();
    for (i, instance) in instances.iter_mut().enumerate() {
        let Some(instance) = instance else { continue };
        for group in instance.groups().await {
            if out.insert(group.clone(), i).is_some() {
                twice.insert(group);
            }
        }
    }
    (out, twice)
}

/// Waits until every group is served by exactly one live instance, and the groups are
/// divided among every live instance (each has joined); returns the owners and when that
/// was first seen (it is then checked to stay so for two seconds).
async fn until_all_served(
    instances: &mut [Option<Instance>],
    groups: &BTreeSet<String>,
    what: &str,
) -> (BTreeMap<String, usize>, Instant) {
    let deadline = Instant::now() + STEP;
    let live = instances.iter().flatten().count();
    loop {
        let (served, twice) = owners(instances).await;
        let serving: BTreeSet<usize> = served.values().copied().collect();
        if served.keys().cloned().collect::<BTreeSet<_>>() == *groups
            && serving.len() == live
            && twice.is_empty()
        {
            let seen = Instant::now();
            // Settled: it stays so, each group served by one instance.
            for _ in 0..4 {
                tokio::time::sleep(Duration::from_millis(500)).await;
                let (again, twice) = owners(instances).await;
                assert!(twice.is_empty(), "{what}: served twice: {twice:?}");
                assert_eq!(again, served, "{what}: ownership changed while settled");
            }
            return (served, seen);
        }
        assert!(
            Instant::now() < deadline,
            "{what}: {} of {} groups served ({} twice) by {} of {live} instances",
            served.len(),
            groups.len(),
            twice.len(),
            serving.len()
        );
        tokio::time::sleep(Duration::from_millis(250)).await;
    }
}

async fn until(what: &str, check: impl Fn() -> bool) {
    let deadline = Instant::now() + STEP;
    while !check() {
        assert!(Instant::now() < deadline, "timed out waiting for {what}");
        tokio::time::sleep(Duration::from_millis(250)).await;
    }
}

/// Commits every group twice (so no window is warming up for want of a second commit): the
/// first [`LAGGING`] groups `LAG` behind the end, the others at the end.
async fn commit_all(bootstrap: &str, topic: &str, groups: &[String], ends: &BTreeMap<i32, i64>) {
    for round in [10, 0] {
        let plan: Vec<(String, i64)> = groups
            .iter()
            .enumerate()
            .map(|(i, g)| (g.clone(), if i < LAGGING { LAG + round } else { round }))
            .collect();
        for chunk in plan.chunks(32) {
            let tasks: Vec<_> = chunk
                .iter()
                .map(|(group, lag)| {
                    let (bootstrap, topic, group) =
                        (bootstrap.to_owned(), topic.to_owned(), group.clone());
                    let offsets: Vec<(i32, i64)> =
                        ends.iter().map(|(p, end)| (*p, end - lag)).collect();
                    tokio::spawn(async move {
                        let offsets: Vec<(&str, i32, i64)> = offsets
                            .iter()
                            .map(|(p, o)| (topic.as_str(), *p, *o))
                            .collect();
                        kafka::commit_offsets(bootstrap.as_str(), &group, &offsets).await
                    })
                })
                .collect();
            for task in tasks {
                task.await.unwrap().unwrap();
            }
        }
        tokio::time::sleep(Duration::from_secs(1)).await;
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn three_instances_divide_the_groups_and_a_killed_one_loses_nothing() {
    let bootstrap = env::kafka().bootstrap;
    let bootstrap = bootstrap.as_str();
    let prefix = names::unique("lw-scale");
    let topic = format!("{prefix}-t");
    kafka::create_topic(bootstrap, &topic, PARTITIONS)
        .await
        .unwrap();
    for p in 0..PARTITIONS {
        kafka::produce(bootstrap, &topic, Some(p), MESSAGES)
            .await
            .unwrap();
    }
    let ends = kafka::high_watermarks(bootstrap, &topic).await.unwrap();
    let count = std::env::var("LAGWATCH_TEST_SCALE_OUT_GROUPS")
        .ok()
        .and_then(|v| v.parse::<usize>().ok())
        .unwrap_or(GROUPS)
        .max(LAGGING + 1);
    let groups: Vec<String> = (0..count).map(|i| format!("{prefix}-g{i:05}")).collect();
    let all: BTreeSet<String> = groups.iter().cloned().collect();
    let lagging: BTreeSet<String> = groups[..LAGGING].iter().cloned().collect();
    commit_all(bootstrap, &topic, &groups, &ends).await;

    let receiver = Receiver::start().await.unwrap();
    let elasticsearch = env::elasticsearch();
    let outputs = Outputs {
        elasticsearch: &elasticsearch,
        hook: receiver.url(),
    };
    let dir = tempfile::tempdir().unwrap();
    let coordination = format!("{prefix}-lagwatch");
    let mut instances: Vec<Option<Instance>> = (0..INSTANCES)
        .map(|i| {
            Some(Instance::start(
                &dir.path().join(format!("instance-{i}")),
                bootstrap,
                &prefix,
                &coordination,
                &outputs,
            ))
        })
        .collect();

    // Every group served once; every lagging group announced once.
    let (before, _) = until_all_served(&mut instances, &all, "three instances").await;
    until("a firing alert per lagging group", || {
        notes(&receiver)
            .iter()
            .filter(|n| n.1 == "firing")
            .map(|n| n.0.clone())
            .collect::<BTreeSet<_>>()
            == lagging
    })
    .await;
    tokio::time::sleep(Duration::from_secs(3)).await;
    let fired = notes(&receiver);
    assert_eq!(
        fired.len(),
        LAGGING,
        "one notification per lagging group: {fired:?}"
    );

    // Every instance lists every group, and answers for every group, forwarding to the owner
    // what is not its own.
    lists_every_group(&mut instances, &all, &topic, "three instances").await;
    let sample: Vec<&String> = groups.iter().step_by(7).chain(&groups[..LAGGING]).collect();
    answers_for_every_group(&instances, &before, &sample, "three instances").await;

    // Kill the owner of the first lagging group.
    let victim = before[&groups[0]];
    let moved: BTreeSet<&String> = before
        .iter()
        .filter(|(_, owner)| **owner == victim)
        .map(|(g, _)| g)
        .collect();
    let killed_at = Instant::now();
    instances[victim].as_mut().unwrap().kill();
    let victim_records = instances[victim].take().unwrap();
    // Until the session timeout has passed the dead instance still owns its groups: a
    // survivor asked about one says which instance did not answer.
    let survivor = instances.iter().flatten().next().unwrap();
    let reply = reqwest::get(format!(
        "{}/api/v1/groups/live/{}",
        survivor.url(),
        groups[0]
    ))
    .await
    .unwrap();
    let status = reply.status().as_u16();
    let body = reply.text().await.unwrap_or_default();
    if killed_at.elapsed() < Duration::from_secs(5) {
        assert_eq!(status, 502, "{body}");
        assert!(body.contains(&victim_records.url()), "{body}");
    }
    let (after, served_at) = until_all_served(&mut instances, &all, "after the kill").await;
    println!(
        "takeover: {} groups served again {:.1} s after the SIGKILL (session timeout 6 s)",
        moved.len(),
        served_at.duration_since(killed_at).as_secs_f64()
    );
    assert!(after.values().all(|owner| *owner != victim));
    // The survivors answer for every group again, the moved ones included.
    let moved_sample: Vec<&String> = moved
        .iter()
        .copied()
        .chain(sample.iter().copied())
        .collect();
    answers_for_every_group(&instances, &after, &moved_sample, "after the kill").await;
    lists_every_group(&mut instances, &all, &topic, "after the kill").await;
    // From here on nothing changes hands: what each survivor writes from now is its share.
    let marks: Vec<usize> = instances
        .iter()
        .flatten()
        .map(|i| i.records().len())
        .collect();
    // Evaluations stamp documents with the second they ran in: from the next second on.
    let mark_ms = i64::try_from(
        std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .unwrap()
            .as_millis(),
    )
    .unwrap()
        / 1000
        * 1000
        + 1000;

    // No announcement again while the lagging groups still lag.
    tokio::time::sleep(Duration::from_secs(5)).await;
    assert_eq!(
        notes(&receiver),
        fired,
        "nothing announced again after the takeover"
    );

    // The survivor that got the first lagging group took its alert over from the store.
    let adopted = instances.iter().flatten().any(|i| {
        std::fs::read_to_string(&i.log)
            .unwrap_or_default()
            .lines()
            .any(|l| {
                l.contains("took over the open alerts of newly owned groups")
                    && !l.contains("taken=0")
            })
    });
    assert!(adopted, "no survivor logged taking an open alert over");

    // The lagging groups catch up: one resolution each, with the original start.
    for group in &lagging {
        let offsets: Vec<(&str, i32, i64)> = ends
            .iter()
            .map(|(p, end)| (topic.as_str(), *p, *end))
            .collect();
        kafka::commit_offsets(bootstrap, group, &offsets)
            .await
            .unwrap();
    }
    until("a resolution per lagging group", || {
        notes(&receiver)
            .iter()
            .filter(|n| n.1 == "resolved")
            .count()
            >= LAGGING
    })
    .await;
    tokio::time::sleep(Duration::from_secs(3)).await;
    let all_notes = notes(&receiver);
    assert_eq!(all_notes.len(), 2 * LAGGING, "{all_notes:?}");
    for group in &lagging {
        let of: Vec<_> = all_notes.iter().filter(|n| &n.0 == group).collect();
        assert_eq!(of.len(), 2, "{group}: {of:?}");
        assert_eq!((of[0].1.as_str(), of[1].1.as_str()), ("firing", "resolved"));
        assert_eq!(
            of[0].2, of[1].2,
            "{group}: the resolution names the original start"
        );
    }

    // Records (what Elasticsearch would get): no healthy group STOP or STALL anywhere; since
    // the takeover the survivors wrote no group in common (each group evaluated by one
    // instance) and together every group; the topic's records come from one of them.
    // Read before stopping any: a survivor that stops hands its groups to the other, which
    // then writes them too (correctly, as their new owner).
    let survivors: Vec<_> = instances
        .iter()
        .flatten()
        .zip(&marks)
        .map(|(instance, mark)| instance.records().split_off(*mark))
        .collect();
    // The same in Elasticsearch, once the sinks' last batches are in (at most a second).
    tokio::time::sleep(Duration::from_secs(3)).await;
    let mut indexed = Vec::new();
    for instance in instances.iter().flatten() {
        indexed.push(instance.indexed_groups(&elasticsearch, mark_ms).await);
    }
    for (i, a) in indexed.iter().enumerate() {
        for b in &indexed[i + 1..] {
            let common: Vec<_> = a.intersection(b).take(5).collect();
            assert!(
                common.is_empty(),
                "Elasticsearch: groups written by two instances since the takeover: {common:?}"
            );
        }
    }
    let union: BTreeSet<String> = indexed.iter().flatten().cloned().collect();
    assert_eq!(
        union.len(),
        all.len(),
        "Elasticsearch: every group written since the takeover, by one of the survivors"
    );
    assert_eq!(union, all);
    for instance in instances.iter_mut().flatten() {
        instance.stop().await;
    }
    let victim_records = victim_records.records();
    for records in survivors.iter().chain(std::iter::once(&victim_records)) {
        for (measurement, group, _, _, status) in records {
            if measurement == "burrow_group" && !lagging.contains(group) {
                assert!(
                    status != "STOP" && status != "STALL",
                    "healthy group {group} reported {status}"
                );
            }
        }
    }
    let written: Vec<BTreeSet<String>> = survivors
        .iter()
        .map(|records| {
            records
                .iter()
                .filter(|r| r.0 == "burrow_group")
                .map(|r| r.1.clone())
                .collect()
        })
        .collect();
    for (i, a) in written.iter().enumerate() {
        for b in &written[i + 1..] {
            let common: Vec<_> = a.intersection(b).take(5).collect();
            assert!(
                common.is_empty(),
                "groups written by two instances: {common:?}; owners before the kill: {:?}, \
                 after: {:?}",
                common.iter().map(|g| before.get(*g)).collect::<Vec<_>>(),
                common.iter().map(|g| after.get(*g)).collect::<Vec<_>>()
            );
        }
    }
    let union: BTreeSet<String> = written.iter().flatten().cloned().collect();
    assert_eq!(union, all, "every group written since the takeover");
    let topic_writers = survivors
        .iter()
        .filter(|records| {
            records
                .iter()
                .any(|(m, _, t, _, _)| m == "burrow_topic" && *t == topic)
        })
        .count();
    assert!(
        topic_writers <= 1,
        "burrow_topic written by {topic_writers} survivors"
    );
    let victim_wrote_topic = victim_records
        .iter()
        .any(|(m, _, t, _, _)| m == "burrow_topic" && *t == topic);
    assert!(
        topic_writers == 1 || victim_wrote_topic,
        "nobody wrote the topic's records"
    );
    let _ = kafka::delete_topic(bootstrap, &topic).await;
    for i in 0..INSTANCES {
        let _ = es::delete_index(&elasticsearch, &format!("{prefix}-instance-{i}")).await;
    }
}

/// The name `pick` reads from each entry of the JSON array `list` (nothing for anything else).
fn names(list: &Value, pick: impl Fn(&Value) -> Option<&str>) -> Vec<String> {
    list.as_array()
        .map(|a| {
            a.iter()
                .filter_map(|g| pick(g).map(str::to_owned))
                .collect()
        })
        .unwrap_or_default()
}

/// Waits until every live instance's lists hold exactly `all`, each group once (each
/// instance adds the others' shares to its own): Burrow's list of groups, the JSON API's, and
/// both APIs' consumers of `topic` (which every group consumes).
async fn lists_every_group(
    instances: &mut [Option<Instance>],
    all: &BTreeSet<String>,
    topic: &str,
    what: &str,
) {
    let deadline = Instant::now() + Duration::from_secs(20);
    for (i, instance) in instances.iter_mut().enumerate() {
        let Some(instance) = instance else { continue };
        loop {
            let listed = instance.listed(false).await;
            let others = [
                ("/api/v1/groups", instance.json_listed().await),
                (
                    "Burrow's topic consumers",
                    instance.topic_consumers(topic, true).await,
                ),
                (
                    "/api/v1/topics consumers",
                    instance.topic_consumers(topic, false).await,
                ),
            ];
            let exact = |list: &Vec<String>| {
                list.len() == all.len() && list.iter().cloned().collect::<BTreeSet<_>>() == *all
            };
            if listed == *all && others.iter().all(|(_, list)| exact(list)) {
                break;
            }
            let counts: Vec<String> = others
                .iter()
                .map(|(name, list)| {
                    let known = list.iter().filter(|g| all.contains(*g)).count();
                    format!("{name}: {} entries, {known} of the groups", list.len())
                })
                .collect();
            assert!(
                Instant::now() < deadline,
                "{what}: instance {i}'s Burrow list holds {} of {} groups ({} unknown); {}",
                listed.intersection(all).count(),
                all.len(),
                listed.difference(all).count(),
                counts.join("; "),
            );
            tokio::time::sleep(Duration::from_millis(250)).await;
        }
    }
}

/// Asks every live instance's JSON API about each of `groups`: each answers 200, either
/// itself (the group's owner in `owners`) or through the owner, named in
/// `x-lagwatch-answered-by`. Retries a group for a while: right after a takeover an
/// instance may still forward to the previous owner until the new one has announced itself.
async fn answers_for_every_group(
    instances: &[Option<Instance>],
    owners: &BTreeMap<String, usize>,
    groups: &[&String],
    what: &str,
) {
    let client = reqwest::Client::new();
    for (i, instance) in instances.iter().enumerate() {
        let Some(instance) = instance else { continue };
        for group in groups {
            let owner = owners[*group];
            let owner_url = instances[owner].as_ref().unwrap().url();
            let url = format!("{}/api/v1/groups/live/{group}", instance.url());
            let deadline = Instant::now() + Duration::from_secs(20);
            loop {
                let reply = client.get(&url).send().await.unwrap();
                let status = reply.status().as_u16();
                let answered_by = reply
                    .headers()
                    .get("x-lagwatch-answered-by")
                    .and_then(|v| v.to_str().ok())
                    .map(str::to_owned);
                let body: Value = reply.json().await.unwrap_or(Value::Null);
                let expected_by = (owner != i).then(|| owner_url.clone());
                let ok = status == 200
                    && answered_by == expected_by
                    && body["group"]["group"].as_str() == Some(group.as_str());
                if ok {
                    break;
                }
                assert!(
                    Instant::now() < deadline,
                    "{what}: instance {i} about {group} (owned by {owner}): {status}, answered \
                     by {answered_by:?}, {body}"
                );
                tokio::time::sleep(Duration::from_millis(250)).await;
            }
        }
    }
}
