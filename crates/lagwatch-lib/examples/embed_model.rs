//! Embed lagwatch's lag model and Burrow-compatible evaluator in your own service and feed it
//! offsets you already have: no Kafka client, no async runtime, no I/O.
//!
//! ```text
//! cargo run -p lagwatch-lib --example embed_model
//! ```
//!
//! Two groups read one topic that grows by 100 messages a second: `keeps-up` commits the log
//! end every second; `falls-behind` starts 100 behind and gets only 60 further each second, so
//! its lag grows at every commit (Burrow's WARN; a window with a commit at zero lag would be
//! OK).

use lagwatch_lib::core::evaluator::EvaluatorSettings;
use lagwatch_lib::core::explain::explain;
use lagwatch_lib::core::{BrokerOffset, Event, LagModel, ModelSettings};

fn main() {
    let mut model = LagModel::new(ModelSettings::default());
    let settings = EvaluatorSettings::default();
    let start_ms = 1_700_000_000_000;

    for second in 0..10 {
        let now_ms = start_ms + second * 1_000;
        let log_end = 1_000 + second * 100;
        // What the brokers say: the topic's log end offset per partition.
        model.apply(
            &Event::BrokerOffsets {
                cluster: "local".into(),
                topic: "orders".into(),
                partition_count: 1,
                offsets: vec![BrokerOffset {
                    partition: 0,
                    high_water: log_end,
                    log_start: Some(0),
                }],
                observed_ms: now_ms,
            },
            now_ms,
        );
        // What the consumers committed.
        for (group, offset) in [("keeps-up", log_end), ("falls-behind", 900 + second * 60)] {
            model.apply(
                &Event::Commit {
                    cluster: "local".into(),
                    group: group.into(),
                    topic: "orders".into(),
                    partition: 0,
                    offset,
                    timestamp_ms: now_ms,
                    order: None,
                },
                now_ms,
            );
        }
    }

    let now_ms = start_ms + 9_500;
    for group in ["keeps-up", "falls-behind"] {
        let report = model.evaluate_group("local", group, now_ms, &settings);
        println!(
            "{group}: {} (total lag {})",
            report.status.as_str(),
            report.totallag
        );
        for p in &report.partitions {
            let why = explain(p, now_ms);
            println!(
                "  {}/{}: {} lag {} {why}",
                p.topic,
                p.partition,
                p.status.as_str(),
                p.current_lag
            );
        }
    }
}
