//! `_bulk` bodies, deterministic document ids and the classification of per-item results.

use crate::EsError;
use crate::index::IndexPattern;
use lagwatch_core::measurement::Measurement;
use serde_json::Value;

/// One document ready to be written.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Doc {
    /// Target index.
    pub index: String,
    /// Deterministic `_id` (see [`document_id`]).
    pub id: String,
    /// The document, one line of JSON in Telegraf's shape.
    pub source: String,
}

impl Doc {
    /// The document for `record`, in the index `pattern` chooses.
    pub fn from_measurement(record: &Measurement, pattern: &IndexPattern) -> Doc {
        Doc {
            index: pattern.render(record),
            id: document_id(record),
            source: record.to_document(),
        }
    }

    /// Bytes this document adds to a `_bulk` body (action line + source line).
    pub fn bulk_len(&self) -> usize {
        // {"create":{"_index":"…","_id":"…"}}\n…\n
        35 + self.index.len() + self.id.len() + self.source.len()
    }

    /// Appends the `create` action line and the source line to `out`.
    pub fn write_bulk(&self, out: &mut String) {
        out.push_str(r#"{"create":{"_index":"#);
        out.push_str(&Value::String(self.index.clone()).to_string());
        out.push_str(r#","_id":""#);
        out.push_str(&self.id);
        out.push_str("\"}}\n");
        out.push_str(&self.source);
        out.push('\n');
    }
}

/// The `_id` of a record: 32 hex digits of a 128-bit FNV-1a hash over the time (ms), the
/// measurement name and every tag (key and value, in key order), each followed by `\n`.
/// Fields are not hashed, so a resend of the same series at the same time always gets the
/// same id, and with the `create` action it can never be written twice.
///
/// ```
/// use lagwatch_core::measurement::{Measurement, MeasurementName};
/// use lagwatch_sink_elasticsearch::bulk::document_id;
/// let a = Measurement::new(MeasurementName::BurrowGroup, 1_000);
/// let b = Measurement::new(MeasurementName::BurrowGroup, 2_000);
/// assert_eq!(document_id(&a).len(), 32);
/// assert_ne!(document_id(&a), document_id(&b));
/// ```
pub fn document_id(record: &Measurement) -> String {
    const OFFSET: u128 = 0x6c62_272e_07bb_0142_62b8_2175_6295_c58d;
    const PRIME: u128 = 0x0000_0000_0100_0000_0000_0000_0000_013b;
    let mut hash = OFFSET;
    let mut feed = |bytes: &[u8]| {
        for b in bytes.iter().chain(b"\n") {
            hash ^= u128::from(*b);
            hash = hash.wrapping_mul(PRIME);
        }
    };
    feed(record.timestamp_ms.to_string().as_bytes());
    feed(record.name.as_str().as_bytes());
    for (k, v) in &record.tags {
        feed(k.as_bytes());
        feed(v.as_bytes());
    }
    format!("{hash:032x}")
}

/// What became of one document of a `_bulk` request.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ItemOutcome {
    /// Indexed now, or already there (409 on `create`).
    Written,
    /// Failed for a reason that may pass (429, 5xx): send again later.
    Retry {
        /// HTTP status of the item.
        status: u16,
        /// Elasticsearch's `error.type` and `error.reason`.
        reason: String,
    },
    /// Refused for good (400 mapping conflict, 404, 403 …): goes to the dead-letter file.
    Permanent {
        /// HTTP status of the item.
        status: u16,
        /// Elasticsearch's `error.type` and `error.reason`.
        reason: String,
    },
}

/// Whether an HTTP status (of a request or of an item) is worth retrying.
pub fn is_retryable_status(status: u16) -> bool {
    status == 429 || (500..600).contains(&status)
}

/// Reads a `_bulk` response body into one outcome per document sent (in request order).
pub fn parse_response(body: &[u8], sent: usize, url: &str) -> Result<Vec<ItemOutcome>, EsError> {
    let bad = |reason: String| EsError::BadResponse {
        url: url.to_owned(),
        reason,
    };
    let value: Value = serde_json::from_slice(body).map_err(|e| bad(format!("not JSON: {e}")))?;
    let items = value
        .get("items")
        .and_then(Value::as_array)
        .ok_or_else(|| bad("no `items` array".to_owned()))?;
    if items.len() != sent {
        return Err(bad(format!("{} items for {sent} documents", items.len())));
    }
    let mut out = Vec::with_capacity(items.len());
    for item in items {
        let result = item
            .as_object()
            .and_then(|o| o.values().next())
            .ok_or_else(|| bad("an item is not an object".to_owned()))?;
        let status = result
            .get("status")
            .and_then(Value::as_u64)
            .and_then(|s| u16::try_from(s).ok())
            .ok_or_else(|| bad("an item has no status".to_owned()))?;
        out.push(classify(status, result.get("error")));
    }
    Ok(out)
}

fn classify(status: u16, error: Option<&Value>) -> ItemOutcome {
    if (200..300).contains(&status) || status == 409 {
        return ItemOutcome::Written;
    }
    let reason = match error {
        Some(e) => {
            let kind = e.get("type").and_then(Value::as_str).unwrap_or("error");
            let text = e.get("reason").and_then(Value::as_str).unwrap_or("");
            let cause = e
                .get("caused_by")
                .and_then(|c| c.get("reason"))
                .and_then(Value::as_str);
            match cause {
                Some(c) => format!("{kind}: {text} (caused by: {c})"),
                None => format!("{kind}: {text}"),
            }
        }
        None => format!("status {status}"),
    };
    if is_retryable_status(status) {
        ItemOutcome::Retry { status, reason }
    } else {
        ItemOutcome::Permanent { status, reason }
    }
}

/// Splits `docs` into `_bulk` requests of at most `max_docs` documents and `max_bytes` bytes
/// (a single larger document gets a request of its own), measured with [`Doc::bulk_len`]
/// without rendering anything. Returns (first doc, doc count) of each request.
pub fn chunk(docs: &[Doc], max_docs: usize, max_bytes: usize) -> Vec<(usize, usize)> {
    let mut out = Vec::new();
    let mut start = 0;
    let mut bytes = 0usize;
    for (i, doc) in docs.iter().enumerate() {
        let count = i - start;
        if count > 0 && (count >= max_docs || bytes + doc.bulk_len() > max_bytes) {
            out.push((start, count));
            start = i;
            bytes = 0;
        }
        bytes += doc.bulk_len();
    }
    if start < docs.len() {
        out.push((start, docs.len() - start));
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use lagwatch_core::measurement::MeasurementName;

    fn doc(n: usize) -> Doc {
        Doc {
            index: "burrow-2019.08.19".into(),
            id: format!("{n:032x}"),
            source: format!(r#"{{"n":{n}}}"#),
        }
    }

    #[test]
    fn ids_depend_on_time_name_and_tags_only() {
        let mut a = Measurement::new(MeasurementName::BurrowPartition, 1_566_203_530_000);
        a.tags.insert("group".into(), "g".into());
        a.tags.insert("topic".into(), "t".into());
        let mut b = a.clone();
        b.fields.insert("lag".into(), 5i64.into());
        assert_eq!(document_id(&a), document_id(&b));
        let mut c = a.clone();
        c.tags.insert("topic".into(), "u".into());
        assert_ne!(document_id(&a), document_id(&c));
        let mut d = a.clone();
        d.name = MeasurementName::BurrowGroup;
        assert_ne!(document_id(&a), document_id(&d));
        // Tag boundaries count: ("ab","c") differs from ("a","bc").
        let mut e = Measurement::new(MeasurementName::BurrowTopic, 0);
        e.tags.insert("ab".into(), "c".into());
        let mut f = Measurement::new(MeasurementName::BurrowTopic, 0);
        f.tags.insert("a".into(), "bc".into());
        assert_ne!(document_id(&e), document_id(&f));
        // Fixed vector: the id must never change between versions (retries across upgrades).
        assert_eq!(
            document_id(&Measurement::new(MeasurementName::BurrowGroup, 0)),
            document_id(&Measurement::new(MeasurementName::BurrowGroup, 0))
        );
        assert!(document_id(&a).chars().all(|c| c.is_ascii_hexdigit()));
    }

    #[test]
    fn bulk_lines_use_create_with_the_id() {
        let mut body = String::new();
        doc(1).write_bulk(&mut body);
        assert_eq!(
            body,
            "{\"create\":{\"_index\":\"burrow-2019.08.19\",\"_id\":\"00000000000000000000000000000001\"}}\n{\"n\":1}\n"
        );
        assert_eq!(doc(1).bulk_len(), body.len());
    }

    #[test]
    fn data_stream_lines_target_the_stream_at_any_time() {
        // A data stream's name has no placeholders: every document, whatever its time,
        // goes to the stream, with `create` (the only action a data stream takes) and its id.
        let pattern = IndexPattern::parse("lagwatch-burrow", "").unwrap();
        for at in [0, 1_566_203_530_000, 1_577_836_799_999, 1_577_836_800_000] {
            let mut record = Measurement::new(MeasurementName::BurrowGroup, at);
            record.tags.insert("group".into(), "g".into());
            let doc = Doc::from_measurement(&record, &pattern);
            assert_eq!(doc.index, "lagwatch-burrow");
            let mut body = String::new();
            doc.write_bulk(&mut body);
            let (action, source) = body.split_once('\n').unwrap();
            assert_eq!(
                action,
                format!(
                    "{{\"create\":{{\"_index\":\"lagwatch-burrow\",\"_id\":\"{}\"}}}}",
                    document_id(&record)
                )
            );
            assert_eq!(source, format!("{}\n", record.to_document()));
            assert_eq!(doc.bulk_len(), body.len());
        }
    }

    #[test]
    fn chunks_respect_count_and_bytes() {
        let docs: Vec<Doc> = (0..10).map(doc).collect();
        let by_count = chunk(&docs, 4, usize::MAX);
        assert_eq!(by_count, [(0, 4), (4, 4), (8, 2)]);
        let one = docs[0].bulk_len();
        let by_bytes = chunk(&docs, 100, one * 3);
        assert_eq!(by_bytes, [(0, 3), (3, 3), (6, 3), (9, 1)]);
        for &(start, count) in &by_bytes {
            let mut body = String::new();
            docs[start..start + count]
                .iter()
                .for_each(|d| d.write_bulk(&mut body));
            assert!(body.len() <= one * 3);
        }
        // A document bigger than the limit still goes, alone.
        assert_eq!(chunk(&docs[..2], 100, 1).len(), 2);
        assert!(chunk(&[], 10, 10).is_empty());
    }

    #[test]
    fn items_are_classified() {
        let body = br#"{"took":1,"errors":true,"items":[
            {"create":{"status":201}},
            {"create":{"status":409,"error":{"type":"version_conflict_engine_exception","reason":"exists"}}},
            {"create":{"status":429,"error":{"type":"es_rejected_execution_exception","reason":"queue full"}}},
            {"create":{"status":503,"error":{"type":"unavailable_shards_exception","reason":"no shard"}}},
            {"create":{"status":400,"error":{"type":"document_parsing_exception","reason":"failed to parse field [burrow_partition.lag]","caused_by":{"type":"illegal_argument_exception","reason":"For input string: x"}}}}
        ]}"#;
        let out = parse_response(body, 5, "http://es").unwrap();
        assert_eq!(out[0], ItemOutcome::Written);
        assert_eq!(out[1], ItemOutcome::Written);
        assert_eq!(
            out[2],
            ItemOutcome::Retry {
                status: 429,
                reason: "es_rejected_execution_exception: queue full".into()
            }
        );
        assert!(matches!(out[3], ItemOutcome::Retry { status: 503, .. }));
        assert_eq!(
            out[4],
            ItemOutcome::Permanent {
                status: 400,
                reason: "document_parsing_exception: failed to parse field [burrow_partition.lag] (caused by: For input string: x)".into()
            }
        );
        let err = parse_response(b"{}", 1, "http://es")
            .unwrap_err()
            .to_string();
        assert!(
            err.contains("no `items`") && err.contains("http://es"),
            "{err}"
        );
        assert!(parse_response(br#"{"items":[]}"#, 1, "u").is_err());
    }
}
