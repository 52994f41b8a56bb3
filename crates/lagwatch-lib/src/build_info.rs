//! What this build contains, for `lagwatch --version` and bug reports.

/// The cargo features of `lagwatch-lib` this build was compiled with, in a fixed order.
pub fn features() -> Vec<&'static str> {
    let all = [
        ("demo", cfg!(feature = "demo")),
        ("kafka", cfg!(feature = "kafka")),
        ("burrow", cfg!(feature = "burrow")),
        ("zookeeper", cfg!(feature = "zookeeper")),
        ("stdout", cfg!(feature = "stdout")),
        ("file", cfg!(feature = "file")),
        ("elasticsearch", cfg!(feature = "elasticsearch")),
        ("otlp", cfg!(feature = "otlp")),
        ("alert", cfg!(feature = "alert")),
        ("http", cfg!(feature = "http")),
    ];
    all.iter()
        .filter(|(_, on)| *on)
        .map(|(name, _)| *name)
        .collect()
}

/// The linked librdkafka's version, when the Kafka source is part of this build.
pub fn librdkafka_version() -> Option<String> {
    #[cfg(feature = "kafka")]
    return Some(lagwatch_source_kafka::librdkafka_version());
    #[cfg(not(feature = "kafka"))]
    return None;
}

#[cfg(test)]
mod tests {
    #[test]
    fn the_default_build_lists_its_features_and_librdkafka() {
        let features = super::features();
        assert!(
            features.contains(&"kafka") && features.contains(&"http"),
            "{features:?}"
        );
        let version = super::librdkafka_version().unwrap_or_default();
        assert!(version.starts_with("2."), "{version}");
    }
}
