//! Checks of the `elasticsearch` sink's keys, seen from outside the crate.

use lagwatch_config::{Config, Error, Format, Problem, SinkConfig};

fn load(sink: &str) -> Result<Config, Error> {
    let text = format!(
        "[sources.live]\ntype = \"demo\"\n\n[sinks.es]\ntype = \"elasticsearch\"\n\
         url = \"http://127.0.0.1:9200\"\n{sink}"
    );
    Config::from_str(&text, Format::Toml)
}

/// The problems as `path: message` lines.
fn problems(sink: &str) -> Vec<String> {
    match load(sink) {
        Ok(c) => panic!("expected problems, the configuration loaded: {c:?}"),
        Err(Error::Invalid(e)) => e.problems.iter().map(Problem::to_string).collect(),
        Err(other) => panic!("expected Error::Invalid, got: {other}"),
    }
}

#[test]
fn data_stream_is_off_by_default_and_takes_a_plain_name() {
    let Ok(config) = load("") else {
        panic!("the default elasticsearch sink does not load");
    };
    let Some(SinkConfig::Elasticsearch(es)) = config.sinks.get("es") else {
        panic!("no elasticsearch sink: {config:?}");
    };
    assert!(!es.data_stream);
    assert_eq!(es.index_name, "burrow-%Y.%m.%d");

    let Ok(config) = load("data_stream = true\nindex_name = \"lagwatch-burrow\"\n") else {
        panic!("a data stream with a plain name does not load");
    };
    let Some(SinkConfig::Elasticsearch(es)) = config.sinks.get("es") else {
        panic!("no elasticsearch sink: {config:?}");
    };
    assert!(es.data_stream);
    assert_eq!(es.index_name, "lagwatch-burrow");
    // A dot-prefixed (hidden) data stream is allowed.
    assert!(load("data_stream = true\nindex_name = \".lagwatch\"\n").is_ok());
}

#[test]
fn data_stream_names_refuse_placeholders() {
    // The default index name has date placeholders: turning data streams on alone fails.
    assert_eq!(
        problems("data_stream = true\n"),
        [
            "sinks.es.index_name: must not contain the date placeholder %Y when \
             data_stream = true (it is then the data stream's name; the stream rolls over \
             its own backing indices, set data_stream = false for date-named indices)"
        ]
    );
    assert_eq!(
        problems("data_stream = true\nindex_name = \"lag-{{ cluster }}\"\n"),
        [
            "sinks.es.index_name: must not contain the tag placeholder {{ cluster }} when \
             data_stream = true (it is then the data stream's name; every document goes to \
             that one stream)"
        ]
    );
    assert_eq!(
        problems("data_stream = true\nindex_name = \".ds-lag\"\n"),
        [
            "sinks.es.index_name: must not start with .ds- when data_stream = true (it is \
             then the data stream's name; .ds- starts the names of its backing indices)"
        ]
    );
    let long = "a".repeat(256);
    let found = problems(&format!("data_stream = true\nindex_name = \"{long}\"\n"));
    assert_eq!(found.len(), 1, "{found:?}");
    assert!(
        found[0].starts_with("sinks.es.index_name: must be at most 255 bytes")
            && found[0].ends_with("not 256"),
        "{found:?}"
    );
    // A name that is no valid index name is reported once, by the general check.
    assert_eq!(
        problems("data_stream = true\nindex_name = \"Lag-%j\"\n"),
        ["sinks.es.index_name: unknown placeholder %j (known: %Y %y %m %d %H %V)"]
    );
    // Without data streams the same placeholders are fine.
    assert!(load("data_stream = false\nindex_name = \"lag-{{cluster}}-%Y.%m\"\n").is_ok());
}

#[test]
fn data_stream_comes_from_the_environment() {
    let text = "[sources.live]\ntype = \"demo\"\n\n[sinks.es]\ntype = \"elasticsearch\"\n\
                url = \"http://127.0.0.1:9200\"\n";
    let env = |pairs: &[(&str, &str)]| {
        pairs
            .iter()
            .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
            .collect::<Vec<_>>()
    };
    let loaded = Config::from_str_with_env(
        text,
        Format::Toml,
        env(&[
            ("LAGWATCH_SINKS__ES__DATA_STREAM", "true"),
            ("LAGWATCH_SINKS__ES__INDEX_NAME", "lag"),
        ]),
    );
    let Ok(config) = loaded else {
        panic!("{loaded:?}");
    };
    let Some(SinkConfig::Elasticsearch(es)) = config.sinks.get("es") else {
        panic!("no elasticsearch sink: {config:?}");
    };
    assert!(es.data_stream);
    let Err(Error::Invalid(e)) = Config::from_str_with_env(
        text,
        Format::Toml,
        env(&[("LAGWATCH_SINKS__ES__DATA_STREAM", "true")]),
    ) else {
        panic!("data_stream = true with the default index name loaded");
    };
    assert_eq!(e.problems.len(), 1);
    assert_eq!(e.problems[0].path, "sinks.es.index_name");
}
