//! The bodies of Burrow's v3 answers this source reads (only the fields it uses).

use lagwatch_core::GroupReport;
use serde::{Deserialize, Deserializer};

/// Most partitions one topic's `offsets` answer may list (no real topic comes near it): the
/// list's length becomes the topic's partition count, which the model allocates for.
pub(crate) const MAX_PARTITIONS: usize = 100_000;

/// `GET <prefix>`.
#[derive(Debug, Deserialize)]
pub(crate) struct ClusterList {
    pub(crate) clusters: Vec<String>,
}

/// `GET <prefix>/<cluster>/topic`.
#[derive(Debug, Deserialize)]
pub(crate) struct TopicList {
    pub(crate) topics: Vec<String>,
}

/// `GET <prefix>/<cluster>/topic/<topic>`.
#[derive(Debug, Deserialize)]
pub(crate) struct TopicOffsets {
    #[serde(deserialize_with = "bounded_offsets")]
    pub(crate) offsets: Vec<i64>,
}

/// Reads the `offsets` list, refusing it past [`MAX_PARTITIONS`] entries (while reading, so
/// an oversized list is never held).
fn bounded_offsets<'de, D: Deserializer<'de>>(d: D) -> Result<Vec<i64>, D::Error> {
    struct Bounded;
    impl<'de> serde::de::Visitor<'de> for Bounded {
        type Value = Vec<i64>;
        fn expecting(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
            write!(f, "a list of at most {MAX_PARTITIONS} offsets")
        }
        fn visit_seq<A: serde::de::SeqAccess<'de>>(self, mut seq: A) -> Result<Vec<i64>, A::Error> {
            let mut out = Vec::new();
            while let Some(offset) = seq.next_element::<i64>()? {
                if out.len() == MAX_PARTITIONS {
                    return Err(serde::de::Error::custom(format!(
                        "offsets lists more than {MAX_PARTITIONS} partitions"
                    )));
                }
                out.push(offset);
            }
            Ok(out)
        }
    }
    d.deserialize_seq(Bounded)
}

/// `GET <prefix>/<cluster>/consumer`.
#[derive(Debug, Deserialize)]
pub(crate) struct ConsumerList {
    pub(crate) consumers: Vec<String>,
}

/// `GET <prefix>/<cluster>/consumer/<group>/lag` (also the body of its 404 NOTFOUND answer).
#[derive(Debug, Deserialize)]
pub(crate) struct LagAnswer {
    pub(crate) status: GroupReport,
}

#[cfg(test)]
mod tests {
    use super::*;
    use lagwatch_core::{GroupStatus, PartitionStatus};

    #[test]
    fn reads_burrows_lag_body() {
        let body = r#"{"error":false,"message":"consumer status returned","status":{
            "cluster":"live","group":"orders-app","status":"WARN","complete":1,
            "partitions":[{"topic":"orders","partition":1,"owner":"/10.0.4.18","client_id":"c2",
              "status":"WARN",
              "start":{"offset":40100,"timestamp":1717000005000,"observedAt":1717000006000,"lag":120},
              "end":{"offset":40900,"timestamp":1717000455000,"observedAt":1717000456000,"lag":null},
              "current_lag":340,"complete":0.5}],
            "partition_count":2,"maxlag":null,"totallag":340},
            "request":{"url":"/v3/kafka/live/consumer/orders-app/lag","host":"b"}}"#;
        let answer: LagAnswer = serde_json::from_str(body).unwrap();
        let report = answer.status;
        assert_eq!(report.status, GroupStatus::Warn);
        assert_eq!(report.totallag, 340);
        assert_eq!(report.partition_count, 2);
        let p = &report.partitions[0];
        assert_eq!((p.partition, p.current_lag), (1, 340));
        assert_eq!(p.status, PartitionStatus::Warn);
        assert_eq!(p.complete, 0.5);
        let end = p.end.unwrap();
        assert_eq!(
            (end.offset, end.timestamp, end.lag),
            (40900, 1717000455000, None)
        );
        assert_eq!(p.start.unwrap().observed_at, 1717000006000);
    }

    #[test]
    fn reads_the_notfound_body() {
        let body = r#"{"error":false,"message":"consumer status returned","status":{
            "cluster":"live","group":"nope","status":"NOTFOUND","complete":1,"partitions":[],
            "partition_count":0,"maxlag":null,"totallag":0},"request":{"url":"/x","host":"b"}}"#;
        let answer: LagAnswer = serde_json::from_str(body).unwrap();
        assert_eq!(answer.status.status, GroupStatus::NotFound);
    }
}
