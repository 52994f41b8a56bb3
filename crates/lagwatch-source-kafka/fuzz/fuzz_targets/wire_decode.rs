//! Fuzzes the wire path's response decoding (`src/wire/codec.rs`): arbitrary bytes as the
//! body of every response lagwatch's own Kafka connections read, at every version they ask
//! for. Decoding must return `Ok` or `Err`: never panic, never abort on a claimed length.
//!
//! Input layout: the first byte picks the response (and version), the rest is the body.

#![no_main]

use bytes::Bytes;
use kafka_protocol::messages::{
    ApiVersionsRequest, DescribeShareGroupOffsetsRequest, FindCoordinatorRequest,
    ListGroupsRequest, MetadataRequest, OffsetFetchRequest, SaslAuthenticateRequest,
    SaslHandshakeRequest, ShareGroupDescribeRequest,
};
use libfuzzer_sys::fuzz_target;

#[allow(dead_code)]
#[path = "../../src/wire/codec.rs"]
mod codec;

#[allow(dead_code)]
#[path = "../../src/wire/share_offsets.rs"]
mod share_offsets;

fuzz_target!(|data: &[u8]| {
    let Some((&pick, rest)) = data.split_first() else {
        return;
    };
    let body = Bytes::copy_from_slice(rest);
    let failed = match pick % 16 {
        0 => codec::decode_response::<ApiVersionsRequest>(body, 3, 1).is_err(),
        1 => codec::decode_response::<FindCoordinatorRequest>(body, 4, 1).is_err(),
        2 => codec::decode_response::<FindCoordinatorRequest>(body, 6, 1).is_err(),
        3 => codec::decode_response::<OffsetFetchRequest>(body, 8, 1).is_err(),
        4 => codec::decode_response::<OffsetFetchRequest>(body, 9, 1).is_err(),
        5 => codec::decode_response::<ListGroupsRequest>(body, 5, 1).is_err(),
        6 => codec::decode_response::<ShareGroupDescribeRequest>(body, 1, 1).is_err(),
        7 => codec::decode_response::<DescribeShareGroupOffsetsRequest>(body, 0, 1).is_err(),
        8 => codec::decode_response::<MetadataRequest>(body, 1, 1).is_err(),
        9 => codec::decode_response::<MetadataRequest>(body, 12, 1).is_err(),
        10 => codec::decode_response::<MetadataRequest>(body, 4, 1).is_err(),
        11 => codec::decode_response::<SaslHandshakeRequest>(body, 1, 1).is_err(),
        12 => codec::decode_response::<SaslAuthenticateRequest>(body, 2, 1).is_err(),
        13 => codec::decode_response::<share_offsets::ShareOffsetsRequest>(body, 0, 1).is_err(),
        14 => codec::decode_response::<share_offsets::ShareOffsetsRequest>(body, 1, 1).is_err(),
        _ => match rest.first_chunk::<4>() {
            Some(size) => codec::response_size(i32::from_be_bytes(*size)).is_err(),
            None => true,
        },
    };
    std::hint::black_box(failed);
});
