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
    assert!(
        found.iter().all(|p| p.contains("at most 365 days")),
        "{found:?}"
    );
}

const WITH_CREDENTIALS: &str = r#"
[sources.old]
type = "burrow"
servers = ["http://burrowuser:burrowpw@127.0.0.1:8000/v3/kafka", "http://127.0.0.1:8001"]

[sinks.es]
type = "elasticsearch"
url = "https://esuser:espw@127.0.0.1:9200"
"#;

fn assert_hidden(what: &str, text: &str) {
    for secret in ["burrowpw", "espw", "burrowuser", "esuser"] {
        assert!(!text.contains(secret), "{what} shows {secret}: {text}");
    }
}

#[test]
fn url_credentials_never_show_in_config_show_debug_or_problems() {
    let config = match Config::from_str(WITH_CREDENTIALS, Format::Toml) {
        Ok(c) => c,
        Err(e) => panic!("{e}"),
    };
    let shown = config.to_toml_redacted().unwrap_or_default();
    assert_hidden("config show", &shown);
    assert!(
        shown.contains("\"https://<redacted>@127.0.0.1:9200\"")
            && shown.contains("\"http://<redacted>@127.0.0.1:8000/v3/kafka\"")
            && shown.contains("\"http://127.0.0.1:8001\""),
        "{shown}"
    );
    assert_hidden("Debug", &format!("{config:?} {config:#?}"));
    // The real URL is still there for requests.
    let Some(lagwatch_config::SinkConfig::Elasticsearch(es)) = config.sinks.get("es") else {
        panic!("no es sink");
    };
    assert_eq!(es.url.expose(), "https://esuser:espw@127.0.0.1:9200");
    // A bad URL is named without its credentials.
    let bad = WITH_CREDENTIALS.replace("http://burrowuser", "ftp://burrowuser");
    let err = match Config::from_str(&bad, Format::Toml) {
        Ok(_) => panic!("ftp accepted"),
        Err(e) => e.to_string(),
    };
    assert!(err.contains("sources.old.servers.0"), "{err}");
    assert_hidden("problems", &err);
}

#[test]
fn retention_defaults_are_bounded_and_checked() {
    let config = match Config::from_str(
        "[sources.a]\ntype = \"demo\"\n[sinks.f]\ntype = \"file\"\npath = \"x.ndjson\"\n\
         [sinks.es]\ntype = \"elasticsearch\"\nurl = \"http://127.0.0.1:9200\"\n",
        Format::Toml,
    ) {
        Ok(c) => c,
        Err(e) => panic!("{e}"),
    };
    match (config.sinks.get("f"), config.sinks.get("es")) {
        (
            Some(lagwatch_config::SinkConfig::File(f)),
            Some(lagwatch_config::SinkConfig::Elasticsearch(es)),
        ) => {
            assert_eq!(f.max_files, 14);
            assert_eq!(es.dead_letter_max_bytes, 64 * 1024 * 1024);
        }
        other => panic!("{other:?}"),
    }
    let found = problems(
        "[sources.a]\ntype = \"demo\"\n[sinks.es]\ntype = \"elasticsearch\"\n\
         url = \"http://127.0.0.1:9200\"\ndead_letter_max_bytes = 10\n",
    );
    assert_eq!(
        found,
        ["sinks.es.dead_letter_max_bytes: must be at least 1048576 (1 MiB)"]
    );
}

#[test]
fn elasticsearch_requests_in_flight_are_bounded() {
    for bad in ["0", "65"] {
        let found = problems(&format!(
            "[sources.a]\ntype = \"demo\"\n[sinks.es]\ntype = \"elasticsearch\"\n\
             url = \"http://127.0.0.1:9200\"\nconcurrency = {bad}\n"
        ));
        assert_eq!(found, ["sinks.es.concurrency: must be between 1 and 64"]);
    }
    let text = "[sources.a]\ntype = \"demo\"\n[sinks.es]\ntype = \"elasticsearch\"\n\
                url = \"http://127.0.0.1:9200\"\nconcurrency = 4\n";
    match Config::from_str(text, Format::Toml).map(|c| c.sinks.get("es").cloned()) {
        Ok(Some(lagwatch_config::SinkConfig::Elasticsearch(es))) => {
            assert_eq!(es.concurrency, 4);
        }
        other => panic!("{other:?}"),
    }
}
