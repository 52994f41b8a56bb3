//! Runs every case of `fixtures/burrow_vectors.json` through `eval_input::evaluate`.
//!
//! The same file is fed to the `lagwatch eval` command by the CLI tests, so the library and the
//! binary are checked against one set of vectors.

use lagwatch_core::eval_input::{self, EvalInput};
use serde::Deserialize;

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct Fixture {
    cases: Vec<Case>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct Case {
    name: String,
    input: EvalInput,
    expect: Expect,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct Expect {
    status: String,
    partitions: Vec<String>,
    totallag: u64,
}

fn fixture() -> Fixture {
    let text = include_str!("fixtures/burrow_vectors.json");
    match serde_json::from_str(text) {
        Ok(f) => f,
        Err(e) => panic!("fixtures/burrow_vectors.json does not parse: {e}"),
    }
}

#[test]
fn every_fixture_case_matches() {
    let fixture = fixture();
    let mut failures = Vec::new();
    for case in &fixture.cases {
        let reports = match eval_input::evaluate(&case.input) {
            Ok(r) => r,
            Err(e) => {
                failures.push(format!("{}: {e}", case.name));
                continue;
            }
        };
        assert_eq!(reports.len(), 1, "{}: one group per case", case.name);
        let report = &reports[0];
        if report.status.as_str() != case.expect.status {
            failures.push(format!(
                "{}: group status {} != expected {}",
                case.name, report.status, case.expect.status
            ));
        }
        if report.totallag != case.expect.totallag {
            failures.push(format!(
                "{}: totallag {} != expected {}",
                case.name, report.totallag, case.expect.totallag
            ));
        }
        // Expected statuses are in input order; reports are sorted by topic and partition.
        let input_partitions = &case.input.groups[0].partitions;
        assert_eq!(
            input_partitions.len(),
            case.expect.partitions.len(),
            "{}: one expected status per input partition",
            case.name
        );
        for (p, expected) in input_partitions.iter().zip(&case.expect.partitions) {
            let found = report
                .partitions
                .iter()
                .find(|r| r.topic == p.topic && r.partition == p.partition);
            match found {
                Some(r) if r.status.as_str() == expected => {}
                Some(r) => failures.push(format!(
                    "{}: {}/{} status {} != expected {expected}",
                    case.name, p.topic, p.partition, r.status
                )),
                None => failures.push(format!(
                    "{}: {}/{} missing",
                    case.name, p.topic, p.partition
                )),
            }
        }
    }
    assert!(
        failures.is_empty(),
        "failing cases:\n{}",
        failures.join("\n")
    );
}

#[test]
fn fixture_covers_every_burrow_vector() {
    let fixture = fixture();
    let names: Vec<&str> = fixture.cases.iter().map(|c| c.name.as_str()).collect();
    for i in 0..16 {
        let prefix = format!("burrow-rule-{i:02}-");
        assert!(
            names.iter().any(|n| n.starts_with(&prefix)),
            "rule vector {i} is missing from the fixture"
        );
    }
    for name in [
        "burrow-group-testgroup-ok",
        "burrow-group-testgroup2-incomplete-stop",
        "burrow-group-topic-deleted-no-partitions",
        "example-a-warn-slow-consumer",
        "example-b-stop",
        "example-c-incomplete-zero-lag-and-stall",
    ] {
        assert!(names.contains(&name), "{name} is missing from the fixture");
    }
}
