#![allow(clippy::unwrap_used, clippy::expect_used)]
//! Time lag against a known truth (issue #18): a producer writing at a constant rate, an
//! assign-only group committing `log end - lag` on a fixed schedule, the Kafka source feeding
//! the real model, and the model's time-lag estimate compared with the lag the schedule gives.
//!
//! The truth in closed form: a commit made at `t` leaves the group `lag` messages behind,
//! which the producer wrote in `lag / rate` seconds, so the true time lag is `lag / rate`
//! right after each commit and grows by one second per second until the next one,
//! `commit_every` later: it runs from `lag / rate` to `lag / rate + commit_every`, mean
//! `lag / rate + commit_every / 2` (5 s to 9 s, mean 7 s, in [`MIXED`]).

use lagwatch_component::FromConfig;
use lagwatch_component::{EventSender, OffsetSource, SourceContext};
use lagwatch_config::KafkaSourceConfig;
use lagwatch_config::kafka::KafkaMode;
use lagwatch_core::time_lag::Confidence;
use lagwatch_core::{EvaluatorSettings, LagModel, ModelSettings};
use lagwatch_source_kafka::KafkaSource;
use lagwatch_test_support::services::steady::{CommitPlan, LagCommitter, SteadyProducer};
use lagwatch_test_support::services::{env, kafka, names};
use std::time::{Duration, Instant};
use tokio_util::sync::CancellationToken;

/// One workload and how it is watched.
struct Schedule {
    /// Messages per second the producer writes into the partition.
    rate: u32,
    /// Messages behind the log end every commit leaves.
    lag: i64,
    /// Time between two commits.
    commit_every: Duration,
    /// The source's poll interval (`offset_refresh`; jittered by ±25 % while polling).
    offset_refresh: Duration,
    /// The evaluator's interval.
    evaluate_every: Duration,
    /// Time before the first value is kept: the broker history needs a few polls.
    warm_up: Duration,
    /// Time over which values are kept.
    measure: Duration,
}

/// Polls (1.3 s) that are not a multiple of the commit interval (4 s), so they fall at every
/// phase of the commit cycle even without jitter; truth 5 s to 9 s, mean 7 s. Each read gives
/// one value of that uniform spread, so the median is only as good as the number of reads:
/// about 45 in the minute measured put 10 % of the mean more than three standard errors away
/// (16 reads at 3 s polls gave medians from 6.15 s to 7.30 s over four runs).
const MIXED: Schedule = Schedule {
    rate: 20,
    lag: 100,
    commit_every: Duration::from_secs(4),
    offset_refresh: Duration::from_millis(1300),
    evaluate_every: Duration::from_millis(700),
    warm_up: Duration::from_secs(12),
    measure: Duration::from_secs(60),
};

/// The issue's shape, faster: polls at twice the commit interval (2 s against 1 s), so that
/// without jitter every poll would land at the same point of the commit cycle and report one
/// value for the whole run; truth 1 s to 2 s.
const LOCKED: Schedule = Schedule {
    rate: 40,
    lag: 40,
    commit_every: Duration::from_secs(1),
    offset_refresh: Duration::from_secs(2),
    evaluate_every: Duration::from_millis(300),
    warm_up: Duration::from_secs(8),
    measure: Duration::from_secs(50),
};

/// The issue's workload at lagwatch's default intervals (10 s polls and evaluations, commits
/// every 5 s that leave 6 s of messages behind); truth 6 s to 11 s, mean 8.5 s. Polls only
/// every 10 s make a five-minute run hold about 30 distinct reads, too few for a 10 % bound
/// to hold on every run, so this one is a measurement run by hand (docs/benchmarks.md):
/// `cargo test -p lagwatch-source-kafka --test time_lag -- --ignored --nocapture`.
const ISSUE: Schedule = Schedule {
    rate: 20,
    lag: 120,
    commit_every: Duration::from_secs(5),
    offset_refresh: Duration::from_secs(10),
    evaluate_every: Duration::from_secs(10),
    warm_up: Duration::from_secs(35),
    measure: Duration::from_secs(300),
};

impl Schedule {
    /// The true time lag: (min, max, mean) in seconds.
    fn truth(&self) -> (f64, f64, f64) {
        let fresh = self.lag as f64 / f64::from(self.rate);
        let every = self.commit_every.as_secs_f64();
        (fresh, fresh + every, fresh + every / 2.0)
    }
}

use lagwatch_component::clock::wall_clock_ms as now_ms;

/// Summary of the time lags the model reported.
#[derive(Debug)]
struct Measured {
    median: f64,
    min: f64,
    max: f64,
    values: usize,
    not_interpolated: Vec<(f64, Confidence)>,
}

/// Runs the steady workload with the source in `mode` feeding a model, evaluates the group
/// every `evaluate_every` and summarises the time lag of its partition after warm-up.
async fn measure(mode: KafkaMode, s: &Schedule) -> Measured {
    let kafka_env = env::kafka();
    let bootstrap = kafka_env.bootstrap.as_str();
    let topic = names::unique("lw-time-lag");
    let group = names::unique("lw-time-lag");
    kafka::create_topic(bootstrap, &topic, 1).await.unwrap();
    let producer = SteadyProducer::start(bootstrap, &topic, 1, s.rate).unwrap();
    // Enough messages that the first commit is a full `lag` behind.
    let deadline = Instant::now() + Duration::from_secs(30);
    loop {
        let ends = kafka::high_watermarks(bootstrap, &topic).await.unwrap();
        if ends.get(&0).copied().unwrap_or(0) > s.lag + i64::from(s.rate) {
            break;
        }
        assert!(Instant::now() < deadline, "the producer wrote too little");
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    let committer = LagCommitter::start(
        bootstrap,
        &group,
        &topic,
        1,
        CommitPlan::every(s.commit_every).lags(&[s.lag]),
    )
    .unwrap();
    committer
        .wait_for_commits(1, Duration::from_secs(30))
        .await
        .unwrap();

    let mut config = KafkaSourceConfig::new("live", bootstrap);
    config.mode = mode;
    config.offset_refresh = s.offset_refresh;
    config.topic_refresh = Duration::from_secs(30);
    config.group_refresh = s.offset_refresh;
    let source = KafkaSource::from_config("live", &config).unwrap();
    let (events, mut rx) = EventSender::channel("test", 1024);
    let token = CancellationToken::new();
    let ctx = SourceContext {
        events,
        shutdown: token.clone(),
    };
    let task = tokio::spawn(async move { source.run(ctx).await.unwrap() });

    let mut model = LagModel::new(ModelSettings::default());
    let settings = EvaluatorSettings::default();
    let started = Instant::now();
    // Values are kept from the first estimate after warm-up on (in auto mode the group
    // appears once the offsets topic's history is read, which takes longer on a busy broker).
    let mut measuring_since: Option<Instant> = None;
    let give_up = s.warm_up + Duration::from_secs(60);
    let mut ticker = tokio::time::interval(s.evaluate_every);
    let mut seconds = Vec::new();
    let mut not_interpolated = Vec::new();
    while measuring_since.is_none_or(|since| since.elapsed() < s.measure) {
        tokio::select! {
            batch = rx.recv() => {
                let batch = batch.expect("the source stopped");
                for event in &batch {
                    model.apply(event, now_ms());
                }
            }
            _ = ticker.tick() => {
                if started.elapsed() < s.warm_up {
                    continue;
                }
                let report = model.evaluate_group("live", &group, now_ms(), &settings);
                let estimate = report
                    .partitions
                    .iter()
                    .find(|p| p.topic == topic && p.partition == 0)
                    .and_then(|p| p.extras.time_lag);
                let Some(estimate) = estimate else {
                    assert!(
                        measuring_since.is_none() && started.elapsed() < give_up,
                        "no time lag for {group}: {report:?}"
                    );
                    continue;
                };
                measuring_since.get_or_insert_with(Instant::now);
                if estimate.confidence != Confidence::Interpolated {
                    not_interpolated.push((estimate.seconds, estimate.confidence));
                }
                seconds.push(estimate.seconds);
            }
        }
    }
    token.cancel();
    task.await.unwrap();
    committer.stop().await.unwrap();
    producer.stop().await.unwrap();

    assert!(!seconds.is_empty());
    seconds.sort_by(f64::total_cmp);
    Measured {
        median: seconds[seconds.len() / 2],
        min: seconds[0],
        max: seconds[seconds.len() - 1],
        values: seconds.len(),
        not_interpolated,
    }
}

/// Checks a measurement against the truth: median within 10 % of the true mean, nothing
/// extrapolated or unknown after warm-up.
fn check(mode: &str, s: &Schedule, m: &Measured) {
    let (low, high, mean) = s.truth();
    eprintln!(
        "{mode}: median {:.2} s, min {:.2} s, max {:.2} s over {} values (truth {low:.1} s to {high:.1} s, mean {mean:.1} s)",
        m.median, m.min, m.max, m.values
    );
    assert!(
        m.not_interpolated.is_empty(),
        "{mode}: estimates not interpolated after warm-up: {:?}",
        m.not_interpolated
    );
    assert!(
        (m.median - mean).abs() <= 0.1 * mean,
        "{mode}: median time lag {:.2} s is not within 10 % of the true mean {mean:.1} s",
        m.median
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn admin_mode_time_lag_matches_the_known_truth() {
    let m = measure(KafkaMode::Admin, &MIXED).await;
    check("admin", &MIXED, &m);
}

/// With polls locked to the commit cycle, jittered polls still sample all of it: the values
/// lie within the truth (each is the lag at its read) and spread over at least half of its
/// range, where unjittered polls would report one point of the cycle all run long.
#[tokio::test(flavor = "multi_thread")]
async fn admin_mode_polls_do_not_lock_onto_the_commit_cycle() {
    let m = measure(KafkaMode::Admin, &LOCKED).await;
    let (low, high, _) = LOCKED.truth();
    eprintln!(
        "admin, locked: median {:.2} s, min {:.2} s, max {:.2} s over {} values (truth {low:.1} s to {high:.1} s)",
        m.median, m.min, m.max, m.values
    );
    assert!(m.not_interpolated.is_empty(), "{:?}", m.not_interpolated);
    // Reading, committing and producing each take some milliseconds.
    let slack = 0.25;
    assert!(
        m.min >= low - slack && m.max <= high + slack,
        "values {:.2} s to {:.2} s outside the truth {low} s to {high} s",
        m.min,
        m.max
    );
    assert!(
        m.max - m.min >= 0.5 * (high - low),
        "values {:.2} s to {:.2} s cover less than half of the commit cycle",
        m.min,
        m.max
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn auto_mode_time_lag_matches_the_known_truth() {
    let m = measure(KafkaMode::Auto, &MIXED).await;
    check("auto", &MIXED, &m);
}

#[tokio::test(flavor = "multi_thread")]
#[ignore = "a five-minute measurement run by hand; MIXED and LOCKED guard the same code in CI"]
async fn admin_mode_time_lag_on_the_issue_schedule() {
    let m = measure(KafkaMode::Admin, &ISSUE).await;
    check("admin, issue schedule", &ISSUE, &m);
}
