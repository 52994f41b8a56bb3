//! Temporary: a minimal reading of Burrow's rules, to tune the scenario before the model exists.
#![allow(clippy::unwrap_used, clippy::type_complexity)]
use lagwatch_config::DemoSourceConfig;
use lagwatch_core::Event;
use lagwatch_source_demo::Simulation;
use std::collections::{BTreeMap, VecDeque};

const N: usize = 10;

#[derive(Default)]
struct Model {
    broker: BTreeMap<(String, i32), VecDeque<i64>>,
    commits: BTreeMap<(String, String, i32), VecDeque<(i64, i64, i64)>>,
}

impl Model {
    fn apply(&mut self, e: &Event) {
        match e {
            Event::BrokerOffsets { topic, offsets, .. } => {
                for o in offsets {
                    let r = self.broker.entry((topic.clone(), o.partition)).or_default();
                    r.push_back(o.high_water);
                    if r.len() > N {
                        r.pop_front();
                    }
                }
            }
            Event::Commit {
                group,
                topic,
                partition,
                offset,
                timestamp_ms,
                ..
            } => {
                let hw = *self.broker[&(topic.clone(), *partition)].back().unwrap();
                let r = self
                    .commits
                    .entry((group.clone(), topic.clone(), *partition))
                    .or_default();
                r.push_back((*offset, *timestamp_ms, (hw - offset).max(0)));
                if r.len() > N {
                    r.pop_front();
                }
            }
            _ => {}
        }
    }
    fn eval(&self, now: i64) -> BTreeMap<(String, String, i32), &'static str> {
        let mut out = BTreeMap::new();
        for (k, w) in &self.commits {
            let b = &self.broker[&(k.1.clone(), k.2)];
            let end = *w.back().unwrap();
            let start = *w.front().unwrap();
            let cur = (b.back().unwrap() - end.0).max(0);
            let st = if cur <= 0 {
                "OK"
            } else {
                let rz = b.iter().any(|&x| x <= end.0);
                let stop = now - end.1 > end.1 - start.1 && !rz;
                let ws: Vec<_> = w.iter().collect();
                let rw = (1..ws.len())
                    .find(|&i| ws[i].0 < ws[i - 1].0)
                    .map(|i| !ws[i..].iter().any(|c| c.0 >= ws[i - 1].0))
                    .unwrap_or(false);
                if stop {
                    "STOP"
                } else if rw {
                    "REWIND"
                } else if ws.iter().any(|c| c.2 <= 0) {
                    "OK"
                } else if ws.iter().all(|c| c.0 == ws[0].0) {
                    "STALL"
                } else if !(1..ws.len()).any(|i| ws[i].2 < ws[i - 1].2) {
                    "WARN"
                } else {
                    "OK"
                }
            };
            out.insert(k.clone(), st);
        }
        out
    }
}

#[test]
fn sketch() {
    for seed in [1u64, 42, 7] {
        let cfg = DemoSourceConfig {
            seed,
            ..DemoSourceConfig::default()
        };
        let mut sim = Simulation::new(&cfg);
        let mut m = Model::default();
        let t0 = 1_700_000_000_000i64;
        for k in 0..40i64 {
            let now = t0 + k * 500;
            for e in sim.step(now) {
                m.apply(&e);
            }
            if k % 2 == 0 {
                let s = m.eval(now);
                let mut per_group: BTreeMap<String, Vec<&str>> = BTreeMap::new();
                for ((g, _, _), st) in &s {
                    per_group.entry(g.clone()).or_default().push(st);
                }
                let line: Vec<String> = per_group
                    .iter()
                    .map(|(g, v)| format!("{}={}", &g[..6], v.join(",")))
                    .collect();
                println!("seed {seed} t={:>4.1} {}", k as f64 / 2.0, line.join(" "));
            }
        }
    }
}

#[test]
fn sketch_midtick_and_long() {
    let expected = |g: &str| match g {
        "billing-healthy" | "search-catchup" => vec!["OK"],
        "analytics-slow" => vec!["OK", "WARN"],
        "etl-stalled" => vec!["OK", "STALL"],
        "audit-stopped" => vec!["OK", "STOP"],
        "replay-rewind" => vec!["OK", "REWIND"],
        _ => vec![],
    };
    for parts in [1u32, 3, 8] {
        for seed in [1u64, 42, 7, 99, 12345] {
            let cfg = DemoSourceConfig {
                seed,
                partitions: parts,
                ..DemoSourceConfig::default()
            };
            let mut sim = Simulation::new(&cfg);
            let mut m = Model::default();
            let t0 = 1_700_000_000_000i64;
            let mut last_line = String::new();
            for k in 0..600i64 {
                let now = t0 + k * 500;
                for e in sim.step(now) {
                    m.apply(&e);
                }
                for off in [0i64, 100, 250, 499] {
                    let s = m.eval(now + off);
                    let mut per: BTreeMap<String, Vec<&str>> = BTreeMap::new();
                    for ((g, _, _), st) in &s {
                        if !expected(g).contains(st) {
                            println!(
                                "parts {parts} seed {seed} t={} {g} {st}",
                                (k * 500 + off) as f64 / 1000.0
                            );
                        }
                        per.entry(g.clone()).or_default().push(st);
                    }
                    let line: Vec<String> = per
                        .iter()
                        .map(|(g, v)| {
                            let mut v = v.clone();
                            v.dedup();
                            format!("{}={}", &g[..6], v.join(","))
                        })
                        .collect();
                    let line = line.join(" ");
                    if line != last_line {
                        println!(
                            "parts {parts} seed {seed} t={:>6.2} {line}",
                            (k * 500 + off) as f64 / 1000.0
                        );
                        last_line = line;
                    }
                }
            }
        }
    }
}
