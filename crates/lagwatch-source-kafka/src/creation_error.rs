//! The text of librdkafka's client-creation errors, without property values.

/// The text of an error rdkafka returned while creating a client, without the value of any
/// property: rdkafka's configuration error quotes it, so only the key and librdkafka's verdict
/// are kept.
pub(crate) fn creation_error_text(e: &rdkafka::error::KafkaError) -> String {
    match e {
        rdkafka::error::KafkaError::ClientConfig(verdict, _, key, _) => {
            format!("librdkafka refuses property {key:?} ({verdict:?}; the value is not shown)")
        }
        other => other.to_string(),
    }
}
