#![allow(clippy::unwrap_used, clippy::expect_used)]
//! The Kafka source against the harness Kafka 4.4: lag per partition equal to the Java
//! consumer-groups tool for classic, KIP-848 and assign-only groups; owners and client ids;
//! streaming commits, group and topic deletion (and on Kafka 3.9, a member-less group's
//! deletion); SASL and TLS listeners and a wrong password.

use lagwatch_component::FromConfig;
use lagwatch_component::{EventSender, OffsetSource, SourceContext};
use lagwatch_config::KafkaSourceConfig;
use lagwatch_config::kafka::{KafkaMode, OffsetsTopicStart, SaslMechanism, SecurityProtocol};
use lagwatch_core::{EvaluatorSettings, Event, LagModel, ModelSettings};
use lagwatch_source_kafka::KafkaSource;
use lagwatch_test_support::services::kafka::{self, Protocol, RunningConsumer};
use lagwatch_test_support::services::{env, names, tools, wait};
use std::collections::BTreeMap;
use std::time::{Duration, Instant};
use tokio::sync::mpsc;
use tokio_util::sync::CancellationToken;

const WAIT: Duration = Duration::from_secs(60);

/// What lagwatch reports for one partition of a group.
#[derive(Debug, Clone, PartialEq, Eq)]
struct Seen {
    committed: Option<i64>,
    log_end: Option<i64>,
    lag: u64,
    owner: String,
    client_id: String,
}

type View = BTreeMap<(String, String, i32), Seen>;

fn config(servers: &str) -> KafkaSourceConfig {
    let mut c = KafkaSourceConfig::new("live", servers);
    c.mode = KafkaMode::Admin;
    c.offset_refresh = Duration::from_secs(1);
    c.topic_refresh = Duration::from_secs(1);
    c.group_refresh = Duration::from_secs(1);
    c
}

/// Applies events to a model and returns every partition of `groups`.
fn view(model: &mut LagModel, groups: &[&str]) -> View {
    let now = now_ms();
    let snapshot = model.snapshot(now, &EvaluatorSettings::default(), 0);
    let mut out = View::new();
    for g in snapshot.groups {
        if !groups.contains(&g.group.as_str()) {
            continue;
        }
        for p in g.partitions {
            out.insert(
                (g.group.clone(), p.topic.clone(), p.partition),
                Seen {
                    committed: p.end.as_ref().map(|e| e.offset),
                    log_end: p.extras.log_end_offset,
                    lag: p.current_lag,
                    owner: p.owner.clone(),
                    client_id: p.client_id.clone(),
                },
            );
        }
    }
    out
}

use lagwatch_component::clock::wall_clock_ms as now_ms;

fn model() -> LagModel {
    LagModel::new(ModelSettings::default())
}

/// The Java tool's view of `group`: committed offset, log end and lag per partition, and
/// host / client id of the owner.
async fn java_view(
    group: &str,
) -> BTreeMap<
    (String, i32),
    (
        Option<i64>,
        Option<i64>,
        Option<i64>,
        Option<String>,
        Option<String>,
    ),
> {
    let rows = tools::consumer_groups_describe(&env::kafka_tools(), &env::kafka().bootstrap, group)
        .await
        .unwrap();
    rows.into_iter()
        .filter_map(|r| {
            Some((
                (r.topic, r.partition?),
                (
                    r.current_offset,
                    r.log_end_offset,
                    r.lag,
                    r.host,
                    r.client_id,
                ),
            ))
        })
        .collect()
}

#[tokio::test(flavor = "multi_thread")]
async fn admin_mode_lag_owners_and_client_ids_match_the_java_tool() {
    let kafka_env = env::kafka();
    let bootstrap = kafka_env.bootstrap.as_str();
    let topic = names::unique("lw-src-admin");
    kafka::create_topic(bootstrap, &topic, 4).await.unwrap();
    kafka::produce_spread(bootstrap, &topic, 50).await.unwrap();

    let classic = names::unique("lw-classic");
    let modern = names::unique("lw-kip848");
    let simple = names::unique("lw-simple");
    // Two classic members share the topic; one KIP-848 member reads it alone.
    let c1 = RunningConsumer::start(
        bootstrap,
        &classic,
        &[&topic],
        Protocol::Classic,
        "classic-a",
    )
    .unwrap();
    let c2 = RunningConsumer::start(
        bootstrap,
        &classic,
        &[&topic],
        Protocol::Classic,
        "classic-b",
    )
    .unwrap();
    let k1 = RunningConsumer::start(
        bootstrap,
        &modern,
        &[&topic],
        Protocol::Consumer,
        "kip848-a",
    )
    .unwrap();
    kafka::commit_offsets(
        bootstrap,
        &simple,
        &[(&topic, 0, 10), (&topic, 1, 20), (&topic, 3, 49)],
    )
    .await
    .unwrap();
    k1.wait_for_consumed(200, WAIT).await.unwrap();
    // The classic pair: both assigned, everything consumed between them.
    c1.wait_for_assignment(WAIT).await.unwrap();
    c2.wait_for_assignment(WAIT).await.unwrap();
    wait::until(
        "classic members consumed everything",
        WAIT,
        Duration::from_millis(100),
        || {
            let n = c1.consumed() + c2.consumed();
            async move { Ok((n >= 200).then_some(())) }
        },
    )
    .await
    .unwrap();
    // Freeze every group: paused members commit what they consumed and stop.
    for c in [&c1, &c2, &k1] {
        c.pause().await.unwrap();
    }
    // More data after the commits, so that every group has lag.
    kafka::produce_spread(bootstrap, &topic, 7).await.unwrap();

    let source = KafkaSource::from_config("live", &config(bootstrap)).unwrap();
    let mut snapshots = source.snapshots().unwrap();
    let mut model = model();
    for event in snapshots.next().await.unwrap() {
        model.apply(&event, now_ms());
    }
    let ours = view(&mut model, &[&classic, &modern, &simple]);

    for group in [&classic, &modern, &simple] {
        let java = java_view(group).await;
        assert!(!java.is_empty(), "the Java tool shows nothing for {group}");
        for ((t, p), (current, log_end, lag, host, client_id)) in &java {
            let Some(current) = current else { continue };
            let seen = ours
                .get(&(group.to_string(), t.clone(), *p))
                .unwrap_or_else(|| panic!("lagwatch has no {group} {t}/{p}; it has {ours:#?}"));
            assert_eq!(seen.committed, Some(*current), "{group} {t}/{p} committed");
            assert_eq!(seen.log_end, *log_end, "{group} {t}/{p} log end");
            assert_eq!(Some(seen.lag as i64), *lag, "{group} {t}/{p} lag");
            // Owners: paused members are still members of their group.
            match (host, client_id) {
                (Some(host), Some(client_id)) => {
                    assert_eq!(&seen.owner, host, "{group} {t}/{p} owner");
                    assert_eq!(&seen.client_id, client_id, "{group} {t}/{p} client id");
                }
                _ => assert_eq!(seen.owner, "", "{group} {t}/{p} has no member"),
            }
        }
    }
    // Owners are exactly the members the test started.
    for (member, group) in [(&c1, &classic), (&c2, &classic), (&k1, &modern)] {
        for (t, p) in member.assignment() {
            let seen = &ours[&(group.to_string(), t.clone(), p)];
            assert_eq!(seen.client_id, member.client_id(), "{group} {t}/{p}");
            assert_eq!(seen.owner, "/127.0.0.1", "{group} {t}/{p}");
        }
    }
    // The assign-only group: exact lags from what was committed (50 + 7 per partition).
    let simple_lags: Vec<(i32, u64)> = ours
        .iter()
        .filter(|((g, _, _), s)| g == &simple && s.committed.is_some())
        .map(|((_, _, p), s)| (*p, s.lag))
        .collect();
    assert_eq!(simple_lags, vec![(0, 47), (1, 37), (3, 8)]);

    for c in [c1, c2, k1] {
        c.stop().await.unwrap();
    }
}

/// Runs `source` until `token` is cancelled, its events on the returned receiver.
fn spawn(
    source: KafkaSource,
) -> (
    mpsc::Receiver<Vec<Event>>,
    CancellationToken,
    tokio::task::JoinHandle<()>,
) {
    let (events, rx) = EventSender::channel("test", 1024);
    let token = CancellationToken::new();
    let ctx = SourceContext {
        events,
        shutdown: token.clone(),
    };
    let task = tokio::spawn(async move {
        source.run(ctx).await.unwrap();
    });
    (rx, token, task)
}

/// Receives events until `found` returns something or `timeout` passes.
async fn wait_for<T>(
    rx: &mut mpsc::Receiver<Vec<Event>>,
    what: &str,
    timeout: Duration,
    mut found: impl FnMut(&Event) -> Option<T>,
) -> T {
    let deadline = Instant::now() + timeout;
    loop {
        let left = deadline.saturating_duration_since(Instant::now());
        let batch = tokio::time::timeout(left, rx.recv())
            .await
            .unwrap_or_else(|_| panic!("no {what} within {timeout:?}"))
            .unwrap_or_else(|| panic!("source stopped before {what}"));
        if let Some(t) = batch.iter().find_map(&mut found) {
            return t;
        }
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn streaming_sees_commits_group_deletion_and_topic_deletion() {
    let kafka_env = env::kafka();
    let bootstrap = kafka_env.bootstrap.as_str();
    let topic = names::unique("lw-src-stream");
    let group = names::unique("lw-stream");
    kafka::create_topic(bootstrap, &topic, 2).await.unwrap();
    kafka::produce_spread(bootstrap, &topic, 10).await.unwrap();

    let mut c = config(bootstrap);
    c.mode = KafkaMode::OffsetsTopic;
    c.offsets_topic_start = OffsetsTopicStart::Latest;
    let (mut rx, token, task) = spawn(KafkaSource::from_config("live", &c).unwrap());
    // Broker offsets first: the stream is open once the first read succeeded.
    wait_for(&mut rx, "broker offsets of the topic", WAIT, |e| match e {
        Event::BrokerOffsets { topic: t, .. } if *t == topic => Some(()),
        _ => None,
    })
    .await;
    // Give the stream's assignment a moment to reach the end of every partition.
    tokio::time::sleep(Duration::from_secs(2)).await;

    kafka::commit_offsets(bootstrap, &group, &[(&topic, 1, 7)])
        .await
        .unwrap();
    let committed_at = Instant::now();
    let (offset, order) = wait_for(&mut rx, "the streamed commit", WAIT, |e| match e {
        Event::Commit {
            group: g,
            topic: t,
            partition: 1,
            offset,
            order,
            ..
        } if *g == group && *t == topic => Some((*offset, *order)),
        _ => None,
    })
    .await;
    eprintln!("commit visible after {:?}", committed_at.elapsed());
    assert_eq!(offset, 7);
    assert!(
        order.is_some(),
        "a streamed commit carries its offsets-topic position"
    );

    kafka::delete_group(bootstrap, &group).await.unwrap();
    wait_for(&mut rx, "the group deletion", WAIT, |e| match e {
        Event::GroupDeleted { group: g, .. } if *g == group => Some(()),
        _ => None,
    })
    .await;

    kafka::delete_topic(bootstrap, &topic).await.unwrap();
    wait_for(&mut rx, "the topic deletion", WAIT, |e| match e {
        Event::TopicDeleted { topic: t, .. } if *t == topic => Some(()),
        _ => None,
    })
    .await;
    token.cancel();
    task.await.unwrap();
}

/// Applies the source's events to `m` until exactly `want` partitions of `groups` have a
/// committed offset; returns them.
async fn committed_partitions(
    m: &mut LagModel,
    rx: &mut mpsc::Receiver<Vec<Event>>,
    groups: &[&str],
    want: usize,
) -> View {
    let deadline = Instant::now() + WAIT;
    loop {
        while let Ok(batch) = rx.try_recv() {
            for e in &batch {
                m.apply(e, now_ms());
            }
        }
        let seen = view(m, groups);
        if seen.values().filter(|s| s.committed.is_some()).count() == want {
            return seen;
        }
        assert!(
            Instant::now() < deadline,
            "never {want} committed partitions: {seen:?}"
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

/// Kafka 3.9 deletes a group that never had members with offset tombstones alone (no group
/// tombstone): in `auto` mode the model still loses the group at once, long before the
/// group listings (`group_refresh`, set to an hour here) could notice it is gone, while a
/// second group's deleted offset leaves its other partition in place.
#[tokio::test(flavor = "multi_thread")]
async fn a_member_less_group_deleted_on_kafka_3_9_leaves_the_model_at_once() {
    let kafka_env = env::kafka_legacy();
    let bootstrap = kafka_env.bootstrap.as_str();
    let topic = names::unique("lw-src-del39");
    let gone = names::unique("lw-del39-gone");
    let kept = names::unique("lw-del39-kept");
    kafka::create_topic(bootstrap, &topic, 2).await.unwrap();
    kafka::produce_spread(bootstrap, &topic, 10).await.unwrap();
    for group in [&gone, &kept] {
        kafka::commit_offsets(bootstrap, group, &[(&topic, 0, 2), (&topic, 1, 3)])
            .await
            .unwrap();
    }

    let mut c = config(bootstrap);
    c.mode = KafkaMode::Auto;
    c.group_refresh = Duration::from_secs(3600);
    // The commits come from the start's snapshot; the stream brings what follows.
    c.history = Duration::ZERO;
    let (mut rx, token, task) = spawn(KafkaSource::from_config("live", &c).unwrap());
    let mut m = model();
    let groups = [gone.as_str(), kept.as_str()];
    committed_partitions(&mut m, &mut rx, &groups, 4).await;
    // Give the stream a moment to reach the end of every partition of the offsets topic.
    tokio::time::sleep(Duration::from_secs(2)).await;

    let deleted_at = Instant::now();
    kafka::delete_group(bootstrap, &gone).await.unwrap();
    let partition_1 = format!("{topic}:1");
    tools::run(
        &env::kafka_legacy_tools(),
        "kafka-consumer-groups",
        &[
            "--bootstrap-server",
            bootstrap,
            "--delete-offsets",
            "--group",
            &kept,
            "--topic",
            &partition_1,
        ],
        None,
    )
    .await
    .unwrap();
    let seen = committed_partitions(&mut m, &mut rx, &groups, 1).await;
    eprintln!("deletions applied after {:?}", deleted_at.elapsed());
    let listed = m.groups("live");
    assert!(
        !listed.contains(&gone) && listed.contains(&kept),
        "{seen:?}"
    );
    assert_eq!(
        seen.get(&(kept.clone(), topic.clone(), 0))
            .and_then(|s| s.committed),
        Some(2),
        "{seen:?}"
    );
    token.cancel();
    task.await.unwrap();
}

#[tokio::test(flavor = "multi_thread")]
async fn auto_mode_snapshots_then_streams() {
    let kafka_env = env::kafka();
    let bootstrap = kafka_env.bootstrap.as_str();
    let topic = names::unique("lw-src-auto");
    let group = names::unique("lw-auto");
    kafka::create_topic(bootstrap, &topic, 1).await.unwrap();
    kafka::produce(bootstrap, &topic, Some(0), 5).await.unwrap();
    kafka::commit_offsets(bootstrap, &group, &[(&topic, 0, 2)])
        .await
        .unwrap();

    let mut c = config(bootstrap);
    c.mode = KafkaMode::Auto;
    // Without the history read at start (see the next test), the commit made before the start
    // comes from the snapshot.
    c.history = Duration::ZERO;
    let source = KafkaSource::from_config("live", &c).unwrap();
    let (mut rx, token, task) = spawn(source);
    // The snapshot brings the commit made before the start (no order: polled).
    let order = wait_for(&mut rx, "the snapshot commit", WAIT, |e| match e {
        Event::Commit {
            group: g,
            offset: 2,
            order,
            ..
        } if *g == group => Some(*order),
        _ => None,
    })
    .await;
    assert_eq!(order, None);
    tokio::time::sleep(Duration::from_secs(2)).await;
    // A later commit arrives through the stream (with its offsets-topic position).
    kafka::commit_offsets(bootstrap, &group, &[(&topic, 0, 4)])
        .await
        .unwrap();
    let order = wait_for(&mut rx, "the streamed commit", WAIT, |e| match e {
        Event::Commit {
            group: g,
            offset: 4,
            order,
            ..
        } if *g == group => Some(*order),
        _ => None,
    })
    .await;
    assert!(
        order.is_some(),
        "the commit after the snapshot came from the stream"
    );
    token.cancel();
    task.await.unwrap();
}

/// Issue #14: a group that committed five times before lagwatch started has all five commits,
/// with their own commit times, in its windows after the first read (auto mode reads the
/// recent history of `__consumer_offsets`), and is OK, not STOP.
#[tokio::test(flavor = "multi_thread")]
async fn auto_mode_refills_windows_from_the_offsets_topic_history() {
    let kafka_env = env::kafka();
    let bootstrap = kafka_env.bootstrap.as_str();
    let topic = names::unique("lw-src-history");
    let group = names::unique("lw-history");
    kafka::create_topic(bootstrap, &topic, 2).await.unwrap();
    kafka::produce_spread(bootstrap, &topic, 60).await.unwrap();
    // Five commits two seconds apart, lag 50, 40, ... 10 against today's log end of 60.
    let mut times = Vec::new();
    for step in 1..=5i64 {
        if step > 1 {
            tokio::time::sleep(Duration::from_secs(2)).await;
        }
        let before = now_ms();
        kafka::commit_offsets(
            bootstrap,
            &group,
            &[(&topic, 0, step * 10), (&topic, 1, step * 10)],
        )
        .await
        .unwrap();
        times.push((before, now_ms()));
    }

    let mut c = config(bootstrap);
    c.mode = KafkaMode::Auto;
    c.history = Duration::from_secs(15 * 60);
    let (mut rx, token, task) = spawn(KafkaSource::from_config("live", &c).unwrap());
    let mut model = model();
    let mut stored: BTreeMap<i32, Vec<(i64, i64)>> = BTreeMap::new();
    let started = Instant::now();
    let deadline = started + Duration::from_secs(30);
    while stored.values().map(Vec::len).sum::<usize>() < 10 {
        let left = deadline.saturating_duration_since(Instant::now());
        let Ok(Some(batch)) = tokio::time::timeout(left, rx.recv()).await else {
            break;
        };
        for event in &batch {
            let applied = model.apply(event, now_ms());
            if let Event::Commit {
                group: g,
                partition,
                offset,
                timestamp_ms,
                ..
            } = event
            {
                if *g == group && matches!(applied, lagwatch_core::model::Applied::Stored) {
                    stored
                        .entry(*partition)
                        .or_default()
                        .push((*offset, *timestamp_ms));
                }
            }
        }
    }
    eprintln!(
        "history in the model {:?} after the start",
        started.elapsed()
    );
    token.cancel();
    task.await.unwrap();

    for partition in [0, 1] {
        let commits = stored.get(&partition).cloned().unwrap_or_default();
        let offsets: Vec<i64> = commits.iter().map(|(o, _)| *o).collect();
        assert_eq!(offsets, vec![10, 20, 30, 40, 50], "partition {partition}");
        for ((_, at), (before, after)) in commits.iter().zip(&times) {
            assert!(
                (*before..=*after).contains(at),
                "partition {partition}: commit time {at} is the commit's own ({before}..{after})"
            );
        }
    }
    // Judged just after the last commit, as right after a restart.
    let (_, last) = times[4];
    let report = model.evaluate_group("live", &group, last + 1_000, &EvaluatorSettings::default());
    assert_eq!(
        report.status,
        lagwatch_core::status::GroupStatus::Ok,
        "{report:#?}"
    );
    for p in &report.partitions {
        assert!((p.complete - 0.5).abs() < f32::EPSILON, "{p:#?}");
        let (start, end) = (p.start.as_ref().unwrap(), p.end.as_ref().unwrap());
        // Lag at a historical commit is measured against the log end read at start.
        assert_eq!((start.offset, start.lag), (10, Some(50)), "{p:#?}");
        assert_eq!((end.offset, end.lag), (50, Some(10)), "{p:#?}");
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn sasl_plain_scram_and_tls_listeners_work() {
    let plain = env::kafka();
    let topic = names::unique("lw-src-secure");
    let group = names::unique("lw-secure");
    kafka::create_topic(plain.bootstrap.as_str(), &topic, 1)
        .await
        .unwrap();
    kafka::produce(plain.bootstrap.as_str(), &topic, Some(0), 9)
        .await
        .unwrap();
    kafka::commit_offsets(plain.bootstrap.as_str(), &group, &[(&topic, 0, 4)])
        .await
        .unwrap();

    // The harness's SASL listener takes PLAIN, SCRAM-SHA-256 and SCRAM-SHA-512 for one user.
    let sasl = env::kafka_sasl();
    let mut configs = Vec::new();
    for mechanism in [
        SaslMechanism::Plain,
        SaslMechanism::ScramSha256,
        SaslMechanism::ScramSha512,
    ] {
        let mut c = config(&sasl.bootstrap);
        c.security_protocol = SecurityProtocol::SaslPlaintext;
        c.sasl_mechanism = mechanism;
        c.sasl_username = sasl.user.clone();
        c.sasl_password = sasl.password.clone().into();
        configs.push(c);
    }
    let tls = env::kafka_tls();
    let mut t = config(&tls.bootstrap);
    t.security_protocol = SecurityProtocol::Ssl;
    t.tls_ca = tls.ca_path.clone();
    configs.push(t);
    // The harness certificate names 127.0.0.1 / localhost.
    for c in configs {
        let source = KafkaSource::from_config("live", &c).unwrap();
        source.healthcheck().await.unwrap();
        let events = source.read_once().await.unwrap();
        let lag_inputs: Vec<_> = events
            .iter()
            .filter(|e| matches!(e, Event::Commit { group: g, offset: 4, .. } if *g == group))
            .collect();
        assert_eq!(lag_inputs.len(), 1, "{events:#?}");
        assert!(events.iter().any(|e| matches!(
            e,
            Event::BrokerOffsets { topic: t, offsets, .. } if *t == topic && offsets[0].high_water == 9
        )));
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn a_wrong_password_is_one_clear_error_naming_the_cluster() {
    let sasl = env::kafka_sasl();
    let mut c = config(&sasl.bootstrap);
    c.cluster = "payments".into();
    c.security_protocol = SecurityProtocol::SaslPlaintext;
    c.sasl_username = sasl.user.clone();
    c.sasl_password = "not-the-password".to_owned().into();
    c.request_timeout = Duration::from_secs(3);
    let source = KafkaSource::from_config("ignored", &c).unwrap();
    let error = source.healthcheck().await.unwrap_err().to_string();
    assert!(error.contains("\"payments\""), "{error}");
    assert!(
        error.to_lowercase().contains("authentication"),
        "the error says what is wrong: {error}"
    );
    assert!(!error.contains("not-the-password"), "{error}");

    // Running: the cluster is reported stale once, with that reason, however many reads fail.
    let (mut rx, token, task) = spawn(source);
    let deadline = Instant::now() + Duration::from_secs(12);
    let mut unhealthy = Vec::new();
    while let Ok(Some(batch)) = tokio::time::timeout(
        deadline.saturating_duration_since(Instant::now()),
        rx.recv(),
    )
    .await
    {
        for e in batch {
            match e {
                Event::SourceHealth {
                    healthy: false,
                    reason,
                    ..
                } => unhealthy.push(reason),
                other => panic!("nothing but health is expected: {other:?}"),
            }
        }
    }
    token.cancel();
    task.await.unwrap();
    assert_eq!(unhealthy.len(), 1, "{unhealthy:#?}");
    let reason = unhealthy[0].clone().unwrap();
    assert!(
        reason.contains("\"payments\"") && reason.to_lowercase().contains("authentication"),
        "{reason}"
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn auto_mode_falls_back_to_polling_when_the_offsets_topic_cannot_be_read() {
    let kafka_env = env::kafka();
    let bootstrap = kafka_env.bootstrap.as_str();
    let topic = names::unique("lw-src-fallback");
    let group = names::unique("lw-fallback");
    kafka::create_topic(bootstrap, &topic, 1).await.unwrap();
    kafka::produce(bootstrap, &topic, Some(0), 5).await.unwrap();
    kafka::commit_offsets(bootstrap, &group, &[(&topic, 0, 1)])
        .await
        .unwrap();

    let mut c = config(bootstrap);
    c.mode = KafkaMode::Auto;
    // Stands in for an ACL that denies reading __consumer_offsets: the topic cannot be read.
    c.offsets_topic = names::unique("lw-no-such-offsets-topic");
    let source = std::sync::Arc::new(KafkaSource::from_config("live", &c).unwrap());
    let (events, mut rx) = EventSender::channel("test", 1024);
    let token = CancellationToken::new();
    let task = {
        let source = std::sync::Arc::clone(&source);
        let ctx = SourceContext {
            events,
            shutdown: token.clone(),
        };
        tokio::spawn(async move { source.run(ctx).await.unwrap() })
    };
    wait_for(&mut rx, "the snapshot commit", WAIT, |e| match e {
        Event::Commit {
            group: g,
            offset: 1,
            ..
        } if *g == group => Some(()),
        _ => None,
    })
    .await;
    // Commits keep coming, now by polling.
    kafka::commit_offsets(bootstrap, &group, &[(&topic, 0, 3)])
        .await
        .unwrap();
    let order = wait_for(&mut rx, "the polled commit", WAIT, |e| match e {
        Event::Commit {
            group: g,
            offset: 3,
            order,
            ..
        } if *g == group => Some(*order),
        _ => None,
    })
    .await;
    assert_eq!(order, None, "polled commits carry no offsets-topic order");
    assert_eq!(source.stats().mode, "admin");
    token.cancel();
    task.await.unwrap();
}

#[tokio::test(flavor = "multi_thread")]
async fn two_clusters_in_one_process_and_new_partitions() {
    let new = env::kafka();
    let old = env::kafka_legacy();
    let topic = names::unique("lw-src-two");
    let group = names::unique("lw-two");
    for (bootstrap, offset) in [(new.bootstrap.as_str(), 2), (old.bootstrap.as_str(), 3)] {
        kafka::create_topic(bootstrap, &topic, 1).await.unwrap();
        kafka::produce(bootstrap, &topic, Some(0), 10)
            .await
            .unwrap();
        kafka::commit_offsets(bootstrap, &group, &[(&topic, 0, offset)])
            .await
            .unwrap();
    }
    let mut a = config(&new.bootstrap);
    a.cluster = "kafka-4".into();
    let mut b = config(&old.bootstrap);
    b.cluster = "kafka-3".into();
    let (a, b) = (
        KafkaSource::from_config("a", &a).unwrap(),
        KafkaSource::from_config("b", &b).unwrap(),
    );
    let (ea, eb) = tokio::join!(a.read_once(), b.read_once());
    let committed = |events: Vec<Event>| -> Vec<(String, i64)> {
        events
            .into_iter()
            .filter_map(|e| match e {
                Event::Commit {
                    cluster,
                    group: g,
                    offset,
                    ..
                } if g == group => Some((cluster, offset)),
                _ => None,
            })
            .collect()
    };
    assert_eq!(committed(ea.unwrap()), vec![("kafka-4".to_owned(), 2)]);
    assert_eq!(committed(eb.unwrap()), vec![("kafka-3".to_owned(), 3)]);

    // The topic grows to 3 partitions: the next metadata read (topic_refresh = 1 s) shows it.
    let mut snapshots = a.snapshots().unwrap();
    snapshots.next().await.unwrap();
    let admin = kafka::admin(new.bootstrap.as_str()).unwrap();
    let grown = admin
        .create_partitions(
            &[kafka::rdkafka::admin::NewPartitions::new(&topic, 3)],
            &kafka::rdkafka::admin::AdminOptions::new(),
        )
        .await
        .unwrap();
    assert!(grown.iter().all(Result::is_ok), "{grown:?}");
    let deadline = Instant::now() + WAIT;
    loop {
        tokio::time::sleep(Duration::from_millis(1200)).await;
        let events = snapshots.next().await.unwrap();
        let count = events.iter().find_map(|e| match e {
            Event::BrokerOffsets {
                topic: t,
                partition_count,
                offsets,
                ..
            } if *t == topic => Some((*partition_count, offsets.len())),
            _ => None,
        });
        if count == Some((3, 3)) {
            break;
        }
        assert!(Instant::now() < deadline, "still {count:?}");
    }
}

/// Admin mode: every poll round of the cluster is one successful read in the read log.
#[tokio::test(flavor = "multi_thread")]
async fn admin_mode_records_every_poll_round_as_a_read() {
    let kafka_env = env::kafka();
    let source = KafkaSource::from_config("live", &config(&kafka_env.bootstrap)).unwrap();
    let rows = lagwatch_test_support::conformance::source::run_until_reads(
        &source,
        |rows| rows.first().is_some_and(|r| r.reads.reads >= 2),
        WAIT,
    )
    .await
    .unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(rows.len(), 1, "{rows:?}");
    assert_eq!(rows[0].cluster, "live");
    assert_eq!(rows[0].reads.failures, 0, "{rows:?}");
    assert!(rows[0].reads.last_success_ms.is_some(), "{rows:?}");
    assert!(rows[0].reads.last_duration.is_some(), "{rows:?}");
}

/// Auto mode: the first successful read is recorded only once the history of the offsets
/// topic has been read to its end, so the commits of that history are already sent; then
/// every broker-offsets round is a read.
#[tokio::test(flavor = "multi_thread")]
async fn auto_mode_records_its_first_read_once_the_history_is_read() {
    let kafka_env = env::kafka();
    let bootstrap = kafka_env.bootstrap.as_str();
    let topic = names::unique("lw-src-reads");
    let group = names::unique("lw-reads");
    kafka::create_topic(bootstrap, &topic, 1).await.unwrap();
    kafka::produce(bootstrap, &topic, Some(0), 5).await.unwrap();
    kafka::commit_offsets(bootstrap, &group, &[(&topic, 0, 3)])
        .await
        .unwrap();

    let mut c = config(bootstrap);
    c.mode = KafkaMode::Auto;
    c.history = Duration::from_secs(15 * 60);
    // Broker-offsets rounds much faster than the history read: a round that recorded a
    // success before the history is read would be seen.
    c.offset_refresh = Duration::from_millis(20);
    let source = KafkaSource::from_config("live", &c).unwrap();
    let (events, mut rx) = EventSender::channel("test", 1024);
    let log = events.read_log().clone();
    let token = CancellationToken::new();
    let ctx = SourceContext {
        events,
        shutdown: token.clone(),
    };
    let task = tokio::spawn(async move { source.run(ctx).await.unwrap() });
    let mut history_commit_seen = false;
    let mut note = |batch: &[Event]| {
        history_commit_seen |= batch.iter().any(|e| {
            matches!(e, Event::Commit { group: g, offset: 3, order: Some(_), .. } if *g == group)
        });
    };
    let deadline = Instant::now() + WAIT;
    while !log.has_read("test") {
        assert!(
            Instant::now() < deadline,
            "no successful read within {WAIT:?}: {:?}",
            log.rows()
        );
        if let Ok(Some(batch)) = tokio::time::timeout(Duration::from_millis(50), rx.recv()).await {
            note(&batch);
        }
    }
    while let Ok(batch) = rx.try_recv() {
        note(&batch);
    }
    assert!(
        history_commit_seen,
        "the first read was recorded before the history's commit was sent"
    );
    let first = log.rows();
    assert_eq!(first.len(), 1, "{first:?}");
    assert_eq!(first[0].reads.failures, 0, "{first:?}");
    // Later broker-offsets rounds are reads too.
    wait::until("a second read", WAIT, Duration::from_millis(100), || {
        let rows = log.rows();
        async move {
            Ok(rows
                .first()
                .is_some_and(|r| r.reads.reads >= 2)
                .then_some(()))
        }
    })
    .await
    .unwrap();
    token.cancel();
    task.await.unwrap();
}

/// `lagwatch_core::sharding::offsets_partition` names the partition of `__consumer_offsets`
/// where the broker really stores a group's commits: the division of groups that instances
/// sharing the offsets topic rely on.
#[tokio::test(flavor = "multi_thread")]
async fn groups_commit_into_the_offsets_partition_their_hash_names() {
    use kafka::KafkaTarget;
    use lagwatch_core::sharding::offsets_partition;
    use rdkafka::consumer::{BaseConsumer, Consumer};
    use rdkafka::{Message, Offset, TopicPartitionList};

    let kafka_env = env::kafka();
    let bootstrap = kafka_env.bootstrap.as_str();
    let topic = names::unique("lw-shard");
    kafka::create_topic(bootstrap, &topic, 1).await.unwrap();
    kafka::produce_spread(bootstrap, &topic, 4).await.unwrap();
    let mut groups: Vec<String> = (0..16)
        .map(|i| names::unique(&format!("lw-shard-{i}")))
        .collect();
    groups.push(names::unique("lw-shard-grüße-группа"));
    for group in &groups {
        kafka::commit_offsets(bootstrap, group, &[(&topic, 0, 2)])
            .await
            .unwrap();
    }
    let partitions = kafka::partition_count(bootstrap, "__consumer_offsets")
        .await
        .unwrap();
    assert!(
        partitions > 1,
        "the harness broker's offsets topic has {partitions} partition"
    );
    let ends = kafka::high_watermarks(bootstrap, "__consumer_offsets")
        .await
        .unwrap();

    // Every partition of the offsets topic read from its start to its end.
    let consumer: BaseConsumer = bootstrap
        .client_config()
        .set("group.id", "lw-shard-reader")
        .set("enable.auto.commit", "false")
        .create()
        .unwrap();
    let wanted: std::collections::BTreeSet<String> = groups.iter().cloned().collect();
    let found = tokio::task::spawn_blocking(move || {
        let mut list = TopicPartitionList::new();
        for p in 0..partitions {
            list.add_partition_offset("__consumer_offsets", p, Offset::Beginning)
                .unwrap();
        }
        consumer.assign(&list).unwrap();
        let mut found: BTreeMap<String, std::collections::BTreeSet<i32>> = BTreeMap::new();
        let mut done: BTreeMap<i32, bool> = (0..partitions)
            .map(|p| (p, ends.get(&p).copied().unwrap_or(0) == 0))
            .collect();
        let deadline = Instant::now() + WAIT;
        while done.values().any(|d| !d) && Instant::now() < deadline {
            let Some(message) = consumer.poll(Duration::from_millis(200)) else {
                continue;
            };
            let message = message.unwrap();
            let p = message.partition();
            let record = message.key().and_then(|key| {
                lagwatch_source_kafka::records::decode(key, message.payload()).ok()
            });
            if let Some(group) = record.as_ref().and_then(|r| r.group()) {
                if wanted.contains(group) {
                    found.entry(group.to_owned()).or_default().insert(p);
                }
            }
            if message.offset() + 1 >= ends.get(&p).copied().unwrap_or(0) {
                done.insert(p, true);
            }
        }
        found
    })
    .await
    .unwrap();

    let spread: std::collections::BTreeSet<u32> = groups
        .iter()
        .map(|g| offsets_partition(g, partitions as u32))
        .collect();
    assert!(
        spread.len() > 1,
        "the groups all hash to one partition: {spread:?}"
    );
    for group in &groups {
        let expected = offsets_partition(group, partitions as u32) as i32;
        assert_eq!(
            found
                .get(group)
                .map(|p| p.iter().copied().collect::<Vec<_>>()),
            Some(vec![expected]),
            "partition of {group}"
        );
    }
}

/// Two members of one coordination group divide the offsets topic's partitions between
/// them, and when one leaves the other is given its partitions (cooperative rebalancing:
/// nothing the staying member owned is revoked on the way); with the classic protocol.
#[tokio::test(flavor = "multi_thread")]
async fn members_of_a_coordination_group_divide_the_offsets_topic() {
    use lagwatch_source_kafka::membership::Protocol;
    members_divide_the_offsets_topic(Protocol::Classic {
        session_timeout: Duration::from_secs(6),
    })
    .await;
}

/// The same with KIP-848's consumer protocol (Kafka 4.4 has it on by default).
#[tokio::test(flavor = "multi_thread")]
async fn members_of_a_kip_848_coordination_group_divide_the_offsets_topic() {
    members_divide_the_offsets_topic(lagwatch_source_kafka::membership::Protocol::Consumer).await;
}

async fn members_divide_the_offsets_topic(protocol: lagwatch_source_kafka::membership::Protocol) {
    use kafka::KafkaTarget;
    use lagwatch_source_kafka::membership::{Change, Membership};

    let kafka_env = env::kafka();
    let bootstrap = kafka_env.bootstrap.as_str();
    let partitions = kafka::partition_count(bootstrap, "__consumer_offsets")
        .await
        .unwrap() as u32;
    assert!(
        partitions > 1,
        "the harness broker's offsets topic has {partitions} partition"
    );
    let group = names::unique("lw-coord");
    let join = || {
        Membership::join(
            bootstrap.client_config(),
            "live",
            &group,
            "__consumer_offsets",
            partitions,
            protocol,
        )
        .unwrap()
    };
    let mut first = join();
    let second = join();
    let all: Vec<u32> = (0..partitions).collect();
    let deadline = Instant::now() + WAIT;
    let split = loop {
        let (a, b) = (first.ownership().assigned(), second.ownership().assigned());
        let mut union: Vec<u32> = a.iter().chain(&b).copied().collect();
        union.sort_unstable();
        if !a.is_empty() && !b.is_empty() && union == all {
            break (a, b);
        }
        assert!(Instant::now() < deadline, "not divided: {a:?} and {b:?}");
        tokio::time::sleep(Duration::from_millis(100)).await;
    };
    assert!(split.0.iter().all(|p| !split.1.contains(p)), "{split:?}");
    for group_name in ["abc", "orders-consumer", "grüße-gruppe"] {
        assert_ne!(
            first.ownership().owns(group_name),
            second.ownership().owns(group_name),
            "{group_name} belongs to exactly one member"
        );
    }
    // Drain what the first member was told so far.
    while let Ok(Some(_)) =
        tokio::time::timeout(Duration::from_millis(100), first.next_change()).await
    {}
    tokio::task::spawn_blocking(move || second.leave())
        .await
        .unwrap();
    let deadline = Instant::now() + WAIT;
    while first.ownership().assigned() != all {
        assert!(
            Instant::now() < deadline,
            "the staying member owns {:?}",
            first.ownership().assigned()
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    let mut told = Vec::new();
    while let Ok(Some(change)) =
        tokio::time::timeout(Duration::from_millis(200), first.next_change()).await
    {
        told.push(change);
    }
    let mut given: Vec<u32> = told
        .iter()
        .flat_map(|c| match c {
            Change::Assigned(p) => p.clone(),
            Change::Revoked(_) => Vec::new(),
        })
        .collect();
    given.sort_unstable();
    assert_eq!(
        given, split.1,
        "the leaving member's partitions, told once: {told:?}"
    );
    assert!(
        told.iter().all(|c| matches!(c, Change::Assigned(_))),
        "nothing revoked from the staying member: {told:?}"
    );
    tokio::task::spawn_blocking(move || first.leave())
        .await
        .unwrap();
}

/// Applies every batch waiting in `rx` to `m`.
fn drain(m: &mut LagModel, rx: &mut mpsc::Receiver<Vec<Event>>) {
    while let Ok(batch) = rx.try_recv() {
        for e in &batch {
            m.apply(e, now_ms());
        }
    }
}

/// Two instances with one `coordination_group` each keep a disjoint share of the cluster's
/// groups that together cover them all, in `auto` mode (classic protocol) and in `admin`
/// mode (KIP-848's consumer protocol); when one stops, the other takes its groups over.
#[tokio::test(flavor = "multi_thread")]
async fn instances_sharing_a_cluster_divide_its_groups_and_take_over() {
    let kafka_env = env::kafka();
    let bootstrap = kafka_env.bootstrap.as_str();
    for mode in [KafkaMode::Auto, KafkaMode::Admin] {
        let prefix = names::unique("lw-share");
        let topic = format!("{prefix}-t");
        kafka::create_topic(bootstrap, &topic, 1).await.unwrap();
        kafka::produce_spread(bootstrap, &topic, 10).await.unwrap();
        let groups: Vec<String> = (0..12).map(|i| format!("{prefix}-g{i}")).collect();
        for group in &groups {
            kafka::commit_offsets(bootstrap, group, &[(&topic, 0, 4)])
                .await
                .unwrap();
        }
        let mut c = config(bootstrap);
        c.mode = mode;
        c.group_allowlist = format!("^{prefix}-");
        c.coordination_group = format!("{prefix}-coord");
        c.coordination_session_timeout = Duration::from_secs(6);
        if mode == KafkaMode::Admin {
            c.coordination_protocol = lagwatch_config::kafka::CoordinationProtocol::Consumer;
        }
        let (mut rx_a, stop_a, task_a) = spawn(KafkaSource::from_config("live", &c).unwrap());
        let (mut rx_b, stop_b, task_b) = spawn(KafkaSource::from_config("live", &c).unwrap());
        let (mut a, mut b) = (model(), model());
        let all: std::collections::BTreeSet<String> = groups.iter().cloned().collect();
        let deadline = Instant::now() + WAIT;
        loop {
            drain(&mut a, &mut rx_a);
            drain(&mut b, &mut rx_b);
            let (in_a, in_b) = (a.groups("live"), b.groups("live"));
            let both: Vec<&String> = in_a.iter().filter(|g| in_b.contains(g)).collect();
            let union: std::collections::BTreeSet<String> =
                in_a.iter().chain(&in_b).cloned().collect();
            if union == all && both.is_empty() && !in_a.is_empty() && !in_b.is_empty() {
                break;
            }
            assert!(
                Instant::now() < deadline,
                "{mode:?}: not divided: {in_a:?} and {in_b:?}"
            );
            tokio::time::sleep(Duration::from_millis(200)).await;
        }

        stop_b.cancel();
        task_b.await.unwrap();
        let deadline = Instant::now() + WAIT;
        loop {
            drain(&mut a, &mut rx_a);
            let in_a: std::collections::BTreeSet<String> = a.groups("live").into_iter().collect();
            if in_a == all {
                break;
            }
            assert!(
                Instant::now() < deadline,
                "{mode:?}: the staying instance has {in_a:?}"
            );
            tokio::time::sleep(Duration::from_millis(200)).await;
        }
        stop_a.cancel();
        task_a.await.unwrap();
    }
}

/// Sharing a cluster, an instance reads the end offsets only of the topics its own groups
/// consume and of the topics it reports (those whose name hashes to one of its offsets-topic
/// partitions), not of every topic; after a takeover it reads the topics of the groups it
/// gained, so their lag is served.
#[tokio::test(flavor = "multi_thread")]
async fn instances_sharing_a_cluster_read_only_their_groups_topics() {
    use lagwatch_core::sharding::offsets_partition;
    use std::collections::BTreeSet;
    let kafka_env = env::kafka();
    let bootstrap = kafka_env.bootstrap.as_str();
    for mode in [KafkaMode::Auto, KafkaMode::Admin] {
        let prefix = names::unique("lw-topics");
        // Twelve groups, each consuming its own topic, and six topics nobody consumes.
        let groups: Vec<(String, String)> = (0..12)
            .map(|i| (format!("{prefix}-g{i}"), format!("{prefix}-t{i}")))
            .collect();
        let idle: Vec<String> = (0..6).map(|i| format!("{prefix}-idle{i}")).collect();
        for (group, topic) in &groups {
            kafka::create_topic(bootstrap, topic, 1).await.unwrap();
            kafka::produce_spread(bootstrap, topic, 10).await.unwrap();
            kafka::commit_offsets(bootstrap, group, &[(topic, 0, 4)])
                .await
                .unwrap();
        }
        for topic in &idle {
            kafka::create_topic(bootstrap, topic, 1).await.unwrap();
        }
        let mut c = config(bootstrap);
        c.mode = mode;
        c.group_allowlist = format!("^{prefix}-");
        c.topic_allowlist = format!("^{prefix}-");
        c.coordination_group = format!("{prefix}-coord");
        c.coordination_session_timeout = Duration::from_secs(6);
        let (mut rx_a, stop_a, task_a) = spawn(KafkaSource::from_config("live", &c).unwrap());
        let (mut rx_b, stop_b, task_b) = spawn(KafkaSource::from_config("live", &c).unwrap());

        /// What one instance was sent: its model, the offsets-topic partitions it was given
        /// (and not taken back), and every topic it was sent broker offsets for.
        struct Seen {
            model: LagModel,
            owned: BTreeSet<u32>,
            count: u32,
            offsets_for: BTreeSet<String>,
        }
        fn follow(seen: &mut Seen, rx: &mut mpsc::Receiver<Vec<Event>>) {
            while let Ok(batch) = rx.try_recv() {
                for e in &batch {
                    match e {
                        Event::GroupsAcquired {
                            offsets_partitions,
                            partition_count,
                            ..
                        } => {
                            seen.owned.extend(offsets_partitions);
                            seen.count = *partition_count;
                        }
                        Event::GroupsReleased {
                            offsets_partitions, ..
                        } => {
                            for p in offsets_partitions {
                                seen.owned.remove(p);
                            }
                        }
                        Event::BrokerOffsets { topic, .. } => {
                            seen.offsets_for.insert(topic.clone());
                        }
                        _ => {}
                    }
                    seen.model.apply(e, now_ms());
                }
            }
        }
        let fresh = || Seen {
            model: model(),
            owned: BTreeSet::new(),
            count: 0,
            offsets_for: BTreeSet::new(),
        };
        // The groups whose lag `seen` serves (a committed offset and a log end).
        let served = |seen: &mut Seen| -> BTreeSet<String> {
            let names: Vec<&str> = groups.iter().map(|(g, _)| g.as_str()).collect();
            view(&mut seen.model, &names)
                .into_iter()
                .filter(|(_, s)| s.committed == Some(4) && s.log_end == Some(10))
                .map(|((g, _, _), _)| g)
                .collect()
        };
        let (mut a, mut b) = (fresh(), fresh());
        let deadline = Instant::now() + WAIT;
        loop {
            follow(&mut a, &mut rx_a);
            follow(&mut b, &mut rx_b);
            let (in_a, in_b) = (served(&mut a), served(&mut b));
            if in_a.len() + in_b.len() == groups.len()
                && in_a.is_disjoint(&in_b)
                && !in_a.is_empty()
                && !in_b.is_empty()
            {
                break;
            }
            assert!(
                Instant::now() < deadline,
                "{mode:?}: lag not served once by the two: {in_a:?} and {in_b:?}"
            );
            tokio::time::sleep(Duration::from_millis(200)).await;
        }
        // From here on (the division settled: a member that first had every partition has
        // given half away), a few more reads, then what each was sent.
        a.offsets_for.clear();
        b.offsets_for.clear();
        tokio::time::sleep(Duration::from_secs(3)).await;
        follow(&mut a, &mut rx_a);
        follow(&mut b, &mut rx_b);
        for (label, seen) in [("a", &a), ("b", &b)] {
            assert!(seen.count > 0, "{mode:?}: {label} was never given a share");
            let owns = |name: &str| seen.owned.contains(&offsets_partition(name, seen.count));
            let wanted: BTreeSet<String> = groups
                .iter()
                .filter(|(g, _)| owns(g))
                .map(|(_, t)| t.clone())
                .chain(
                    groups
                        .iter()
                        .map(|(_, t)| t)
                        .chain(&idle)
                        .filter(|t| owns(t))
                        .cloned(),
                )
                .collect();
            let extra: Vec<&String> = seen.offsets_for.difference(&wanted).collect();
            assert!(
                extra.is_empty(),
                "{mode:?}: {label} (partitions {:?} of {}) read the end offsets of topics \
                 neither its groups consume nor it reports: {extra:?}",
                seen.owned,
                seen.count
            );
            let missing: Vec<&String> = wanted.difference(&seen.offsets_for).collect();
            assert!(
                missing.is_empty(),
                "{mode:?}: {label} did not read its own topics: {missing:?}"
            );
        }

        // B leaves: A reads B's groups' topics and serves every group's lag.
        stop_b.cancel();
        task_b.await.unwrap();
        let deadline = Instant::now() + WAIT;
        loop {
            follow(&mut a, &mut rx_a);
            let in_a = served(&mut a);
            if in_a.len() == groups.len() {
                break;
            }
            assert!(
                Instant::now() < deadline,
                "{mode:?}: after the takeover the staying instance serves {in_a:?}"
            );
            tokio::time::sleep(Duration::from_millis(200)).await;
        }
        stop_a.cancel();
        task_a.await.unwrap();
    }
}
