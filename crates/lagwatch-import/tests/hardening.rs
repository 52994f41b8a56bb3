//! Hardening of the importers: bounds on imported durations, credentials kept out of the
//! converted configuration and the warnings.

use lagwatch_config::Config;
use lagwatch_import::ConfigImport;

fn assert_hidden(what: &str, text: &str) {
    for secret in ["burrowpw", "espw", "burrowuser", "esuser"] {
        assert!(!text.contains(secret), "{what} shows {secret}: {text}");
    }
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

#[test]
fn url_credentials_never_show_in_config_convert() {
    let telegraf = r#"
[[inputs.burrow]]
servers = ["http://burrowuser:burrowpw@127.0.0.1:8000"]

[[outputs.elasticsearch]]
urls = ["http://esuser:espw@127.0.0.1:9200"]
"#;
    let import = match Config::from_telegraf_toml(telegraf) {
        Ok(i) => i,
        Err(e) => panic!("{e}"),
    };
    let shown = import.config.to_toml_redacted().unwrap_or_default();
    assert_hidden("config convert", &shown);
    assert_hidden("import warnings", &import.warnings.join("\n"));
    assert!(
        shown.contains("http://<redacted>@127.0.0.1:9200"),
        "{shown}"
    );
}
