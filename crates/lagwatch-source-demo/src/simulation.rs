//! The pure simulation: topics, producers and consumer groups, stepped by the caller.
//!
//! [`Simulation::step`] advances the simulated cluster to `now_ms` and returns what a real
//! source would have observed during that step. It never reads a clock, so the same seed and
//! the same sequence of step times always give the same events.
//!
//! # Timeline
//!
//! Phases are counted in steps (one step per `tick`), because Burrow's window is counted in
//! commits: with the default tick of 500 ms and a window of 10 commits, a window covers 4.5 s.
//! Times below are for that default, measured from the first step (step 0 at 0.0 s).
//!
//! | step (time) | what happens |
//! |---|---|
//! | 0 (0.0 s) | warm-up: broker offsets and group members only, no commits |
//! | 1 (0.5 s) | every group starts committing; `search-catchup` starts far behind |
//! | 4 (2.0 s) | `etl-stalled` commits its last new offset, then repeats it forever |
//! | 8 (4.0 s) | `audit-stopped` commits for the last time; its members leave at step 9 |
//! | 11 (5.5 s) | `analytics-slow` has a full window of growing lag: WARN |
//! | 14 (7.0 s) | `etl-stalled` has a full window of the same offset: STALL |
//! | 18 (9.0 s) | `audit-stopped`: silent longer than its window spans, no recent zero lag: STOP |
//! | 18 (9.0 s) | `replay-rewind` resets its offsets about two minutes back: REWIND |
//! | 27 (13.5 s) | the rewind has left `replay-rewind`'s window: OK again (lag still shrinking) |
//! | 27 (13.5 s) | `search-catchup` has caught up (lag 0) |
//!
//! From 9 s to 13 s all five partition statuses are visible at the same time. Afterwards
//! `analytics-slow` stays WARN, `etl-stalled` stays STALL, `audit-stopped` stays STOP, and
//! the other groups are OK.
//!
//! Retention: `analytics-slow`'s lag keeps growing until, after about two minutes, it exceeds
//! what `clicks` retains. From then on the consumer loses data: every time retention deletes
//! a segment it jumps forward to the new log start, its lag shrinks, and Burrow's rules call
//! it OK although messages are being skipped — the case retention alerts exist for.

use crate::rng::SplitMix64;
use lagwatch_config::DemoSourceConfig;
use lagwatch_core::{BrokerOffset, Event, MemberAssignment, PartitionStatus, TimestampMs};

/// A simulated topic.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct DemoTopic {
    /// Topic name.
    pub name: &'static str,
    /// Average production rate per partition (messages per second).
    pub rate_per_sec: i64,
    /// Size-based retention: messages kept per partition before whole segments are deleted
    /// (moving the log start forward). `None`: the log start never moves.
    pub retained_messages: Option<i64>,
    /// What the topic stands for.
    pub story: &'static str,
}

/// A simulated consumer group.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct DemoGroup {
    /// Group name.
    pub name: &'static str,
    /// Topics the group consumes (every partition of each).
    pub topics: &'static [&'static str],
    /// The partition status the group is there to demonstrate.
    pub demonstrates: PartitionStatus,
    /// What the group does.
    pub story: &'static str,
}

/// The simulated topics, in the order their broker offsets are emitted.
pub const TOPICS: [DemoTopic; 3] = [
    DemoTopic {
        name: "orders",
        rate_per_sec: 40,
        retained_messages: None,
        story: "orders placed in a web shop; moderate, varying traffic",
    },
    DemoTopic {
        name: "payments",
        rate_per_sec: 12,
        retained_messages: None,
        story: "payment events; low traffic",
    },
    DemoTopic {
        name: "clicks",
        rate_per_sec: 400,
        retained_messages: Some(CLICKS_RETAINED),
        story: "click stream; high traffic and short size-based retention, so its log start \
                moves forward",
    },
];

/// The simulated consumer groups, in the order their commits are emitted.
pub const GROUPS: [DemoGroup; 6] = [
    DemoGroup {
        name: "billing-healthy",
        topics: &["orders", "payments"],
        demonstrates: PartitionStatus::Ok,
        story: "keeps up: commits every tick, usually fully caught up, never more than a few \
                messages behind",
    },
    DemoGroup {
        name: "analytics-slow",
        topics: &["clicks"],
        demonstrates: PartitionStatus::Warn,
        story: "reads about two thirds of what is produced: commits every tick but its lag \
                grows at every commit (WARN from about 5.5 s)",
    },
    DemoGroup {
        name: "etl-stalled",
        topics: &["payments"],
        demonstrates: PartitionStatus::Stall,
        story: "stuck on a poison message after 2 s: keeps committing the same offset while \
                data arrives (STALL from about 7 s)",
    },
    DemoGroup {
        name: "audit-stopped",
        topics: &["payments"],
        demonstrates: PartitionStatus::Stop,
        story: "works for 4 s, then its consumers die: no more commits, members leave \
                (STOP from about 9 s)",
    },
    DemoGroup {
        name: "replay-rewind",
        topics: &["orders"],
        demonstrates: PartitionStatus::Rewind,
        story: "keeps up, then at 9 s an operator resets its offsets two minutes back; \
                REWIND while the jump is inside the window (about 9 s to 13 s), then OK \
                while it replays and catches up",
    },
    DemoGroup {
        name: "search-catchup",
        topics: &["orders"],
        demonstrates: PartitionStatus::Ok,
        story: "starts five minutes behind and reads faster than production: lag shrinks at \
                every commit and reaches 0 at about 13.5 s",
    },
];

/// How each entry of [`GROUPS`] behaves (same index).
const BEHAVIOURS: [Behaviour; 6] = [
    Behaviour::Healthy,
    Behaviour::Slow,
    Behaviour::Stalled,
    Behaviour::Stopped,
    Behaviour::Rewind,
    Behaviour::Catchup,
];

/// Step of the first commits (step 0 only publishes broker offsets and members).
const FIRST_COMMIT_STEP: u64 = 1;
/// Last step at which `etl-stalled` commits a new offset.
const STALL_STEP: u64 = 4;
/// Last step at which `audit-stopped` commits.
const STOP_STEP: u64 = 8;
/// Step at which `replay-rewind` resets its offsets.
const REWIND_STEP: u64 = 18;
/// How far back `replay-rewind` resets, in seconds of average production.
const REWIND_BACK_SECS: i64 = 120;
/// Steps `replay-rewind` needs to catch up again after the reset.
const REWIND_CATCHUP_STEPS: i64 = 40;
/// How far behind `search-catchup` starts, in seconds of average production.
const CATCHUP_BACKLOG_SECS: i64 = 300;
/// Commits `search-catchup` needs to reach lag 0.
const CATCHUP_STEPS: i64 = 26;
/// `billing-healthy` is never behind at more than this many consecutive commits.
const HEALTHY_MAX_BEHIND: u32 = 2;
/// Messages per partition `clicks` keeps.
const CLICKS_RETAINED: i64 = 20_000;
/// Messages per log segment (retention deletes whole segments).
const SEGMENT_MESSAGES: i64 = 1_000;
/// Period of the slow rise and fall of production rates.
const WAVE_PERIOD_MS: i64 = 30_000;
/// Longest step used for production: after a pause (a suspended laptop) the producers do not
/// dump hours of messages at once.
const MAX_STEP_MS: i64 = 60_000;
/// Consumers per group (or fewer when topics have fewer partitions).
const MEMBERS_PER_GROUP: usize = 2;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Behaviour {
    Healthy,
    Slow,
    Stalled,
    Stopped,
    Rewind,
    Catchup,
}

#[derive(Debug, Clone)]
struct TopicState {
    spec: DemoTopic,
    partitions: Vec<PartitionState>,
}

#[derive(Debug, Clone)]
struct PartitionState {
    high_water: i64,
    log_start: i64,
    /// Rate multiplier of this partition, per mille.
    skew_pm: i64,
    /// Offset of this partition in the production wave.
    phase_ms: i64,
    /// Messages produced during the current step.
    produced: i64,
}

#[derive(Debug, Clone)]
struct GroupState {
    spec: DemoGroup,
    behaviour: Behaviour,
    lanes: Vec<Lane>,
}

/// One (topic, partition) a group consumes.
#[derive(Debug, Clone)]
struct Lane {
    topic: usize,
    partition: usize,
    /// Committed offset; meaningful once `started`.
    offset: i64,
    started: bool,
    /// Extra messages per step a catching-up consumer reads beyond production.
    speedup: i64,
    /// Consecutive commits that were behind (healthy consumer).
    behind_streak: u32,
}

/// The simulated cluster. See the [module documentation](self) for the timeline.
#[derive(Debug, Clone)]
pub struct Simulation {
    cluster: String,
    rng: SplitMix64,
    topics: Vec<TopicState>,
    groups: Vec<GroupState>,
    steps: u64,
    last_ms: Option<TimestampMs>,
    start_ms: Option<TimestampMs>,
}

impl Simulation {
    /// A fresh cluster built from the demo source's configuration (`cluster`, `seed`,
    /// `partitions`; a `partitions` of 0 is treated as 1). `tick` is not used here: the caller
    /// decides when to step.
    pub fn new(config: &DemoSourceConfig) -> Simulation {
        let mut rng = SplitMix64::new(config.seed);
        let partitions = usize::try_from(config.partitions.max(1)).unwrap_or(1);
        let topics: Vec<TopicState> = TOPICS
            .iter()
            .map(|spec| {
                let parts = (0..partitions)
                    .map(|_| {
                        let high_water = rng.range(200_000, 900_000);
                        let log_start = match spec.retained_messages {
                            Some(kept) => round_down(high_water - kept, SEGMENT_MESSAGES),
                            None => round_down(rng.range(0, high_water / 2), SEGMENT_MESSAGES),
                        }
                        .max(0);
                        PartitionState {
                            high_water,
                            log_start,
                            skew_pm: rng.range(800, 1200),
                            phase_ms: rng.range(0, WAVE_PERIOD_MS - 1),
                            produced: 0,
                        }
                    })
                    .collect();
                TopicState {
                    spec: *spec,
                    partitions: parts,
                }
            })
            .collect();
        let groups = GROUPS
            .iter()
            .zip(BEHAVIOURS)
            .map(|(spec, behaviour)| {
                let mut lanes = Vec::new();
                for name in spec.topics {
                    if let Some(topic) = topics.iter().position(|t| t.spec.name == *name) {
                        for partition in 0..partitions {
                            lanes.push(Lane {
                                topic,
                                partition,
                                offset: 0,
                                started: false,
                                speedup: 0,
                                behind_streak: 0,
                            });
                        }
                    }
                }
                GroupState {
                    spec: *spec,
                    behaviour,
                    lanes,
                }
            })
            .collect();
        Simulation {
            cluster: config.cluster.clone(),
            rng,
            topics,
            groups,
            steps: 0,
            last_ms: None,
            start_ms: None,
        }
    }

    /// The cluster name the events carry.
    pub fn cluster(&self) -> &str {
        &self.cluster
    }

    /// Number of steps taken so far.
    pub fn steps(&self) -> u64 {
        self.steps
    }

    /// Advances the cluster to `now_ms` and returns what happened, in this order: broker
    /// offsets of every topic (taken after this step's production), membership changes, then
    /// the commits of this step (timestamped `now_ms`).
    ///
    /// Production is proportional to the time since the previous step (at least one message
    /// per partition per step, at most one minute's worth after a long pause); the scenario's
    /// phases count steps. Time going backwards is treated as no time passing.
    pub fn step(&mut self, now_ms: TimestampMs) -> Vec<Event> {
        let step = self.steps;
        self.steps += 1;
        let start_ms = *self.start_ms.get_or_insert(now_ms);
        let elapsed_ms = now_ms.saturating_sub(start_ms).max(0);
        let dt_ms = match self.last_ms {
            Some(last) => now_ms.saturating_sub(last).clamp(0, MAX_STEP_MS),
            None => 0,
        };
        self.last_ms = Some(now_ms);

        let mut events = Vec::new();
        self.produce(step, elapsed_ms, dt_ms);
        for topic in &self.topics {
            events.push(Event::BrokerOffsets {
                cluster: self.cluster.clone(),
                topic: topic.spec.name.to_owned(),
                partition_count: u32::try_from(topic.partitions.len()).unwrap_or(u32::MAX),
                offsets: topic
                    .partitions
                    .iter()
                    .enumerate()
                    .map(|(i, p)| BrokerOffset {
                        partition: i32::try_from(i).unwrap_or(i32::MAX),
                        high_water: p.high_water,
                        log_start: Some(p.log_start),
                    })
                    .collect(),
                observed_ms: now_ms,
            });
        }
        self.members(step, &mut events);
        self.commits(step, now_ms, &mut events);
        events
    }

    /// Producers write; retention trims `clicks`.
    fn produce(&mut self, step: u64, elapsed_ms: i64, dt_ms: i64) {
        for topic in &mut self.topics {
            for part in &mut topic.partitions {
                part.produced = if step == 0 {
                    0
                } else {
                    let x = (elapsed_ms + part.phase_ms) % WAVE_PERIOD_MS;
                    // Triangle wave between 0 and 1000 per mille.
                    let triangle = (2_000 * x / WAVE_PERIOD_MS - 1_000).abs();
                    let wave_pm = 700 + 600 * triangle / 1_000;
                    let jitter_pm = self.rng.range(850, 1150);
                    let scaled = topic.spec.rate_per_sec * dt_ms / 1_000 * part.skew_pm / 1_000
                        * wave_pm
                        / 1_000
                        * jitter_pm
                        / 1_000;
                    scaled.max(1)
                };
                part.high_water += part.produced;
                if let Some(kept) = topic.spec.retained_messages {
                    let trimmed = round_down(part.high_water - kept, SEGMENT_MESSAGES);
                    part.log_start = part.log_start.max(trimmed).min(part.high_water);
                }
            }
        }
    }

    /// Group membership: everyone joins at step 0, `audit-stopped` leaves after its last commit.
    fn members(&self, step: u64, events: &mut Vec<Event>) {
        for group in &self.groups {
            let assignments = if step == 0 {
                let consumers = MEMBERS_PER_GROUP
                    .min(self.topics.first().map(|t| t.partitions.len()).unwrap_or(1))
                    .max(1);
                group
                    .lanes
                    .iter()
                    .map(|lane| {
                        let member = lane.partition % consumers + 1;
                        MemberAssignment {
                            topic: self.topics[lane.topic].spec.name.to_owned(),
                            partition: i32::try_from(lane.partition).unwrap_or(i32::MAX),
                            owner: format!("/127.0.0.{member}"),
                            client_id: format!("{}-{member}", group.spec.name),
                        }
                    })
                    .collect()
            } else if group.behaviour == Behaviour::Stopped && step == STOP_STEP + 1 {
                Vec::new()
            } else {
                continue;
            };
            events.push(Event::Members {
                cluster: self.cluster.clone(),
                group: group.spec.name.to_owned(),
                assignments,
            });
        }
    }

    /// Every group decides what to commit for each of its partitions.
    fn commits(&mut self, step: u64, now_ms: i64, events: &mut Vec<Event>) {
        if step < FIRST_COMMIT_STEP {
            return;
        }
        for group in &mut self.groups {
            for lane in &mut group.lanes {
                let topic = &self.topics[lane.topic];
                let part = &topic.partitions[lane.partition];
                let first = !lane.started;
                lane.started = true;
                let offset = match group.behaviour {
                    Behaviour::Healthy => {
                        if first || lane.behind_streak >= HEALTHY_MAX_BEHIND || self.rng.chance(65)
                        {
                            lane.behind_streak = 0;
                            part.high_water
                        } else {
                            lane.behind_streak += 1;
                            let behind = self.rng.range(1, (part.produced / 2).max(1));
                            // Never below the previous commit: this consumer only moves forward.
                            (part.high_water - behind).max(lane.offset)
                        }
                    }
                    Behaviour::Slow => {
                        if first {
                            part.high_water
                        } else {
                            // Reads two thirds of what arrived: lag grows at every commit.
                            let read = part.produced * 2 / 3;
                            // Data deleted by retention is lost: the consumer resets to the
                            // log start (Kafka's auto.offset.reset = earliest).
                            (lane.offset + read).max(part.log_start)
                        }
                    }
                    Behaviour::Stalled => {
                        if first || step <= STALL_STEP {
                            part.high_water
                        } else {
                            lane.offset
                        }
                    }
                    Behaviour::Stopped => {
                        if step > STOP_STEP {
                            continue;
                        }
                        part.high_water
                    }
                    Behaviour::Rewind => {
                        if step < REWIND_STEP || first {
                            part.high_water
                        } else if step == REWIND_STEP {
                            let back = topic.spec.rate_per_sec
                                * REWIND_BACK_SECS
                                * self.rng.range(90, 110)
                                / 100;
                            let target = (lane.offset - back).max(part.log_start);
                            lane.speedup =
                                ((part.high_water - target) / REWIND_CATCHUP_STEPS + 1).max(1);
                            target
                        } else {
                            (lane.offset + part.produced + lane.speedup).min(part.high_water)
                        }
                    }
                    Behaviour::Catchup => {
                        if first {
                            let backlog = topic.spec.rate_per_sec
                                * CATCHUP_BACKLOG_SECS
                                * self.rng.range(80, 120)
                                / 100;
                            let target = (part.high_water - backlog).max(part.log_start);
                            lane.speedup = ((part.high_water - target) / CATCHUP_STEPS + 1).max(1);
                            target
                        } else {
                            (lane.offset + part.produced + lane.speedup).min(part.high_water)
                        }
                    }
                };
                lane.offset = offset;
                events.push(Event::Commit {
                    cluster: self.cluster.clone(),
                    group: group.spec.name.to_owned(),
                    topic: topic.spec.name.to_owned(),
                    partition: i32::try_from(lane.partition).unwrap_or(i32::MAX),
                    offset,
                    timestamp_ms: now_ms,
                    order: None,
                });
            }
        }
    }
}

/// `value` rounded down to a multiple of `unit` (towards minus infinity).
fn round_down(value: i64, unit: i64) -> i64 {
    value.div_euclid(unit) * unit
}

#[cfg(test)]
#[path = "simulation_tests.rs"]
mod tests;
