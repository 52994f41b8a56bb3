//! The `lagwatch eval` input: defaults, window shaping and errors that name the record.

use lagwatch_core::eval_input::{EvalInput, EvalInputError, evaluate};
use lagwatch_core::{GroupStatus, PartitionStatus};

fn parse(json: &str) -> EvalInput {
    match serde_json::from_str(json) {
        Ok(input) => input,
        Err(e) => panic!("{e}: {json}"),
    }
}

fn error_of(json: &str) -> EvalInputError {
    match evaluate(&parse(json)) {
        Err(e) => e,
        Ok(r) => panic!("expected an error, got {r:?}"),
    }
}

#[test]
fn defaults_apply() {
    let input = parse(r#"{"now_ms": 5, "groups": []}"#);
    assert_eq!(
        (input.intervals, input.allowed_lag, input.minimum_complete),
        (10, 0, 0.0)
    );
    assert_eq!(evaluate(&input), Ok(Vec::new()));
}

#[test]
fn unknown_fields_are_rejected_with_their_name() {
    for json in [
        r#"{"now_ms": 5, "groups": [], "interval": 3}"#,
        r#"{"now_ms": 5, "groups": [{"cluster": "c", "group": "g", "partitions": [], "x": 1}]}"#,
        r#"{"now_ms": 5, "groups": [{"cluster": "c", "group": "g", "partitions": [
            {"topic": "t", "partition": 0, "offsets": [], "lagg": 1}]}]}"#,
        r#"{"now_ms": 5, "groups": [{"cluster": "c", "group": "g", "partitions": [
            {"topic": "t", "partition": 0, "offsets": [{"offset": 1, "timestamp": 2, "ts": 3}]}]}]}"#,
    ] {
        let err = serde_json::from_str::<EvalInput>(json)
            .err()
            .map(|e| e.to_string());
        assert!(
            err.as_deref().is_some_and(|e| e.contains("unknown field")),
            "{err:?}"
        );
    }
}

#[test]
fn short_windows_are_incomplete_and_long_ones_keep_the_newest() {
    let reports = evaluate(&parse(
        r#"{"now_ms": 100000, "intervals": 4, "groups": [{"cluster": "c", "group": "g", "partitions": [
            {"topic": "t", "partition": 0, "broker_offset": 20, "offsets": [
                {"offset": 10, "timestamp": 100000, "lag": 10, "observed_at": 101000}]},
            {"topic": "t", "partition": 1, "broker_offset": 50, "offsets": [
                {"offset": 1, "timestamp": 10000}, {"offset": 2, "timestamp": 20000},
                {"offset": 3, "timestamp": 30000}, {"offset": 4, "timestamp": 40000},
                {"offset": 5, "timestamp": 50000, "lag": null}]}
        ]}]}"#,
    ))
    .unwrap();
    let g = &reports[0];
    let p0 = &g.partitions[0];
    assert_eq!(p0.complete, 0.25);
    assert_eq!(p0.current_lag, 10, "broker_offset - newest offset");
    assert_eq!(p0.end.map(|e| e.observed_at), Some(101_000));
    let p1 = &g.partitions[1];
    assert_eq!(p1.complete, 1.0);
    assert_eq!(
        p1.start.map(|s| (s.offset, s.lag, s.observed_at)),
        Some((2, None, 0))
    );
    assert_eq!(p1.current_lag, 45);
    assert_eq!(g.totallag, 55);
}

#[test]
fn current_lag_is_floored_and_can_be_given() {
    let reports = evaluate(&parse(
        r#"{"now_ms": 0, "groups": [{"cluster": "c", "group": "g", "partitions": [
            {"topic": "t", "partition": 0, "broker_offsets": [5, 8], "offsets": [{"offset": 9, "timestamp": 0}]},
            {"topic": "t", "partition": 1, "current_lag": 7, "offsets": [{"offset": 9, "timestamp": 0}]},
            {"topic": "t", "partition": 2, "offsets": []}
        ]}]}"#,
    ))
    .unwrap();
    let lags: Vec<u64> = reports[0]
        .partitions
        .iter()
        .map(|p| p.current_lag)
        .collect();
    assert_eq!(lags, vec![0, 7, 0]);
    assert_eq!(reports[0].partitions[0].extras.log_end_offset, Some(8));
    assert_eq!(reports[0].partitions[1].status, PartitionStatus::Stall);
    assert_eq!(reports[0].status, GroupStatus::Err);
}

#[test]
fn groups_come_back_in_input_order() {
    let reports = evaluate(&parse(
        r#"{"now_ms": 0, "groups": [
            {"cluster": "z", "group": "b", "partitions": []},
            {"cluster": "a", "group": "a", "partitions": []}]}"#,
    ))
    .unwrap();
    let names: Vec<&str> = reports.iter().map(|r| r.cluster.as_str()).collect();
    assert_eq!(names, vec!["z", "a"]);
}

#[test]
fn errors_name_the_record() {
    let err = error_of(
        r#"{"now_ms": 0, "groups": [{"cluster": "c", "group": "g", "partitions": []},
            {"cluster": "c", "group": "h", "partitions": [
            {"topic": "t", "partition": 0, "current_lag": 1, "offsets": []},
            {"topic": "t", "partition": 1, "offsets": [{"offset": 1, "timestamp": 0}]}]}]}"#,
    );
    assert!(matches!(err, EvalInputError::MissingLag { .. }));
    assert!(
        err.to_string()
            .starts_with("groups[1].partitions[1] (topic \"t\" partition 1)"),
        "{err}"
    );

    let err = error_of(
        r#"{"now_ms": 0, "groups": [{"cluster": "c", "group": "g", "partitions": [
            {"topic": "t", "partition": 0, "broker_offsets": [], "offsets": [{"offset": 1, "timestamp": 0}]}]}]}"#,
    );
    assert!(
        matches!(err, EvalInputError::EmptyBrokerOffsets { .. }),
        "{err}"
    );
    assert!(err.to_string().contains("groups[0].partitions[0]"), "{err}");

    let err = error_of(
        r#"{"now_ms": 0, "groups": [{"cluster": "c", "group": "g", "partitions": [
            {"topic": "t", "partition": 0, "broker_offset": 3, "broker_offsets": [4, 5], "offsets": []}]}]}"#,
    );
    assert!(
        err.to_string()
            .contains("broker_offset 3 is not the newest of broker_offsets (Some(5))"),
        "{err}"
    );

    let err = error_of(
        r#"{"now_ms": 0, "groups": [{"cluster": "c", "group": "g", "partitions": [
            {"topic": "t", "partition": -2, "offsets": []}]}]}"#,
    );
    assert_eq!(
        err.to_string(),
        "groups[0].partitions[0] (topic \"t\"): partition -2 is negative"
    );

    let err = error_of(
        r#"{"now_ms": 0, "groups": [{"cluster": "c", "group": "g", "partitions": [
            {"topic": "t", "partition": 3, "offsets": []}, {"topic": "u", "partition": 3, "offsets": []},
            {"topic": "t", "partition": 3, "offsets": []}]}]}"#,
    );
    assert_eq!(
        err.to_string(),
        "groups[0].partitions[2]: topic \"t\" partition 3 is already given at groups[0].partitions[0]"
    );

    let err = error_of(r#"{"now_ms": 0, "intervals": 0, "groups": []}"#);
    assert_eq!(err, EvalInputError::ZeroIntervals);
}

#[test]
fn huge_intervals_are_refused_without_allocating() {
    let input: EvalInput = serde_json::from_str(
        r#"{"now_ms": 1000, "intervals": 1000000000000,
            "groups": [{"cluster": "c", "group": "g", "partitions": [
              {"topic": "t", "partition": 0, "current_lag": 0,
               "offsets": [{"offset": 1, "timestamp": 1}]}]}]}"#,
    )
    .unwrap();
    let err = evaluate(&input).unwrap_err().to_string();
    assert!(
        err.contains("intervals") && err.contains("at most"),
        "{err}"
    );
}

#[test]
fn too_many_window_slots_are_refused() {
    let partitions: Vec<String> = (0..2_000)
        .map(|p| {
            format!(
                r#"{{"topic": "t", "partition": {p}, "current_lag": 0, "offsets": [{{"offset": 1, "timestamp": 1}}]}}"#
            )
        })
        .collect();
    let text = format!(
        r#"{{"now_ms": 1000, "intervals": 10000, "groups": [{{"cluster": "c", "group": "g", "partitions": [{}]}}]}}"#,
        partitions.join(",")
    );
    let input: EvalInput = serde_json::from_str(&text).unwrap();
    let err = evaluate(&input).unwrap_err().to_string();
    assert!(err.contains("groups[0]") && err.contains("window"), "{err}");
}
