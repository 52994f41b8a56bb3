//! Hardening: bounds on durations, credentials kept out of everything shown, bounded
//! retention defaults.

use lagwatch_config::{Config, Error, Format, Problem};

fn problems(text: &str) -> Vec<String> {
    match Config::from_str(text, Format::Toml) {
        Ok(c) => panic!("expected problems, the configuration loaded: {c:?}"),
        Err(Error::Invalid(e)) => e.problems.iter().map(Problem::to_string).collect(),
        Err(other) => panic!("expected Error::Invalid, got: {other}"),
    }
}

#[test]
fn durations_past_a_year_are_refused_with_their_key_path() {
    let found = problems(
        r#"
[general]
evaluation_interval = "400d"

[sources.live]
type = "demo"
tick = "100000000000000d"

[sinks.out]
type = "stdout"
"#,
    );
    assert_eq!(found.len(), 2, "{found:?}");
    assert!(
        found[0].starts_with("general.evaluation_interval: duration \"400d\" is too long"),
        "{found:?}"
    );
    assert!(found[1].starts_with("sources.live.tick: "), "{found:?}");
    assert!(found.iter().all(|p| p.contains("at most 365 days")), "{found:?}");
}

#[test]
fn burrow_import_refuses_huge_second_counts_instead_of_panicking() {
    for value in ["1e300", "99999999999999", "31622400"] {
        let text = format!(
            "[storage.default]\nclass-name=\"inmemory\"\nexpire-group={value}\n\
             [cluster.c]\nclass-name=\"kafka\"\nservers=\"127.0.0.1:9092\"\n"
        );
        let err = match Config::from_burrow_toml(&text) {
            Ok(_) => panic!("{value} was accepted"),
            Err(e) => e.to_string(),
        };
        assert!(
            err.contains("expire-group") && err.contains("too long"),
            "{value}: {err}"
        );
    }
}
