//! Framing of the wire path: a request becomes one size-prefixed frame, a response body
//! becomes the `kafka-protocol` message it answers. Pure functions over bytes, so the decoding
//! of whatever a broker (or anything pretending to be one) sends is tested and fuzzed without a
//! socket (`fuzz/fuzz_targets/wire_decode.rs` compiles this file on its own).
//!
//! Decoding never panics: a truncated, oversized or garbled body is an error string naming
//! what was wrong. The element counts a peer claims only bound memory as far as the bytes
//! received could hold (see `vendor/kafka-protocol/VENDORED.md`).

use bytes::{Buf, BufMut, Bytes, BytesMut};
use kafka_protocol::messages::{RequestHeader, ResponseHeader};
use kafka_protocol::protocol::{Decodable, Encodable, HeaderVersion, Request, StrBytes};

/// The largest response body accepted, like the broker's own default limit on requests
/// (`socket.request.max.bytes`, 100 MiB); a larger size field is refused before reading.
pub const MAX_RESPONSE_BYTES: usize = 100 * 1024 * 1024;

/// One request as a frame: a 4-byte size, the request header (API key, `version`,
/// `correlation`, client id) and the body.
pub fn encode_request<R: Request>(
    request: &R,
    version: i16,
    correlation: i32,
    client_id: &'static str,
) -> Result<BytesMut, String> {
    let header = RequestHeader::default()
        .with_request_api_key(R::KEY)
        .with_request_api_version(version)
        .with_correlation_id(correlation)
        .with_client_id(Some(StrBytes::from_static_str(client_id)));
    let mut frame = BytesMut::new();
    frame.put_i32(0);
    header
        .encode(&mut frame, R::header_version(version))
        .map_err(|e| format!("encoding the request header: {e}"))?;
    request
        .encode(&mut frame, version)
        .map_err(|e| format!("encoding v{version}: {e}"))?;
    let size = i32::try_from(frame.len() - 4)
        .map_err(|_| format!("request of {} bytes is too large", frame.len()))?;
    frame[..4].copy_from_slice(&size.to_be_bytes());
    Ok(frame)
}

/// Checks a response's size field before its body is read.
pub fn response_size(size: i32) -> Result<usize, String> {
    usize::try_from(size)
        .ok()
        .filter(|s| *s <= MAX_RESPONSE_BYTES)
        .ok_or_else(|| format!("response size {size} out of range (0..={MAX_RESPONSE_BYTES})"))
}

/// Decodes a response body (after the size field) to `R`'s response at `version`, checking
/// that it answers `correlation`. Returns the response and the count of trailing bytes the
/// decoder left (a newer broker's extra fields; not an error).
pub fn decode_response<R: Request>(
    mut body: Bytes,
    version: i16,
    correlation: i32,
) -> Result<(R::Response, usize), String> {
    let header = ResponseHeader::decode(
        &mut body,
        <R::Response as HeaderVersion>::header_version(version),
    )
    .map_err(|e| format!("decoding the response header: {e}"))?;
    if header.correlation_id != correlation {
        return Err(format!(
            "correlation id {} answered, {correlation} expected",
            header.correlation_id
        ));
    }
    let response =
        R::Response::decode(&mut body, version).map_err(|e| format!("decoding v{version}: {e}"))?;
    Ok((response, body.remaining()))
}

#[cfg(test)]
mod tests {
    use super::*;
    use kafka_protocol::messages::{
        ApiVersionsRequest, DescribeShareGroupOffsetsRequest, FindCoordinatorRequest,
        ListGroupsRequest, MetadataRequest, OffsetFetchRequest, OffsetFetchResponse,
        SaslAuthenticateRequest, SaslHandshakeRequest, ShareGroupDescribeRequest,
        offset_fetch_response::{
            OffsetFetchResponseGroup, OffsetFetchResponsePartitions, OffsetFetchResponseTopics,
        },
    };
    use kafka_protocol::messages::{GroupId, TopicName};
    use proptest::prelude::*;

    /// A response frame body as a broker would send it: header, then `response` at `version`.
    fn body<R: Request>(response: &R::Response, version: i16, correlation: i32) -> Bytes {
        let mut buf = BytesMut::new();
        ResponseHeader::default()
            .with_correlation_id(correlation)
            .encode(
                &mut buf,
                <R::Response as HeaderVersion>::header_version(version),
            )
            .unwrap();
        response.encode(&mut buf, version).unwrap();
        buf.freeze()
    }

    fn offset_fetch_response() -> OffsetFetchResponse {
        OffsetFetchResponse::default().with_groups(vec![
            OffsetFetchResponseGroup::default()
                .with_group_id(GroupId(StrBytes::from_static_str("billing")))
                .with_topics(vec![
                    OffsetFetchResponseTopics::default()
                        .with_name(TopicName(StrBytes::from_static_str("orders")))
                        .with_partitions(vec![
                            OffsetFetchResponsePartitions::default()
                                .with_partition_index(3)
                                .with_committed_offset(1_234),
                        ]),
                ]),
        ])
    }

    /// Decodes `bytes` as every response the wire path reads, at every version it asks for.
    /// Only the absence of a panic (or abort) is checked.
    fn decode_everything(bytes: &[u8]) {
        let b = || Bytes::copy_from_slice(bytes);
        let _ = decode_response::<ApiVersionsRequest>(b(), 3, 1);
        for v in 4..=6 {
            let _ = decode_response::<FindCoordinatorRequest>(b(), v, 1);
        }
        for v in 8..=9 {
            let _ = decode_response::<OffsetFetchRequest>(b(), v, 1);
        }
        let _ = decode_response::<ListGroupsRequest>(b(), 5, 1);
        let _ = decode_response::<ShareGroupDescribeRequest>(b(), 1, 1);
        let _ = decode_response::<DescribeShareGroupOffsetsRequest>(b(), 0, 1);
        let _ = decode_response::<MetadataRequest>(b(), 12, 1);
        let _ = decode_response::<SaslHandshakeRequest>(b(), 1, 1);
        let _ = decode_response::<SaslAuthenticateRequest>(b(), 2, 1);
    }

    #[test]
    fn a_response_round_trips_and_names_a_wrong_correlation_id() {
        let expected = offset_fetch_response();
        let bytes = body::<OffsetFetchRequest>(&expected, 8, 7);
        let (decoded, left) = decode_response::<OffsetFetchRequest>(bytes.clone(), 8, 7).unwrap();
        assert_eq!((decoded, left), (expected, 0));
        let err = decode_response::<OffsetFetchRequest>(bytes, 8, 8).unwrap_err();
        assert_eq!(err, "correlation id 7 answered, 8 expected");
    }

    #[test]
    fn a_claimed_count_beyond_the_bytes_is_an_error_not_an_allocation() {
        // OffsetFetch v8: throttle time, then a compact array claiming 2^32 - 2 groups.
        let mut bytes = vec![0, 0, 0, 1, 0]; // correlation 1, no tagged fields
        bytes.extend([0, 0, 0, 0, 0xff, 0xff, 0xff, 0xff, 0x0f, 1, 2, 3]);
        let err = decode_response::<OffsetFetchRequest>(Bytes::from(bytes), 8, 1).unwrap_err();
        assert!(err.starts_with("decoding v8: "), "{err}");
        // MetadataRequest v0 is not flexible: an int32 count of 2^31 - 1 brokers.
        let bytes = vec![0, 0, 0, 1, 0x7f, 0xff, 0xff, 0xff, 1, 2, 3];
        assert!(decode_response::<MetadataRequest>(Bytes::from(bytes), 0, 1).is_err());
    }

    #[test]
    fn sizes_out_of_range_are_refused() {
        assert_eq!(response_size(12).unwrap(), 12);
        assert!(response_size(-1).unwrap_err().contains("-1"));
        assert!(response_size(i32::MAX).is_err());
    }

    proptest! {
        #![proptest_config(ProptestConfig { cases: 2_000, ..ProptestConfig::default() })]

        #[test]
        fn random_bytes_never_panic(bytes in proptest::collection::vec(any::<u8>(), 0..256)) {
            decode_everything(&bytes);
        }

        #[test]
        fn truncated_or_corrupted_responses_never_panic(
            cut in 0usize..200,
            flips in proptest::collection::vec((0usize..200, any::<u8>()), 0..4),
        ) {
            let mut bytes = body::<OffsetFetchRequest>(&offset_fetch_response(), 8, 1).to_vec();
            for (at, value) in flips {
                if let Some(b) = bytes.get_mut(at) {
                    *b = value;
                }
            }
            bytes.truncate(cut.min(bytes.len()));
            decode_everything(&bytes);
        }
    }
}
