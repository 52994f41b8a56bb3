//! `DescribeShareGroupOffsets` at versions 0 and 1. kafka-protocol 0.18 generates version 0
//! only; version 1 (KIP-1226, Kafka 4.2+) sends the same request body and adds the broker's
//! lag of every share partition to the response, which is what `kafka-share-groups
//! --describe` shows. Records acknowledged out of order above the start offset are not
//! counted in it, so it can be lower than "log end minus start offset".
//!
//! The request wraps the crate's own message (its body is unchanged at v1). The response is
//! read here field by field as Kafka's schema `DescribeShareGroupOffsetsResponse.json` lays
//! it out (flexible at every version: compact strings and arrays, tagged fields after every
//! structure); the crate's primitive codecs are private, so the few used are written out
//! below, with element counts bounded by the bytes left as in `vendor/kafka-protocol`.
//! Self-contained, so the fuzz target compiles it with `codec.rs`.

use bytes::{Buf, Bytes};
use kafka_protocol::messages::DescribeShareGroupOffsetsRequest;
use kafka_protocol::protocol::buf::{ByteBuf, ByteBufMut};
use kafka_protocol::protocol::{
    Decodable, Encodable, HeaderVersion, Message, Request, StrBytes, VersionRange,
};

/// Versions this module frames.
const VERSIONS: VersionRange = VersionRange { min: 0, max: 1 };

/// A `DescribeShareGroupOffsets` request at version 0 or 1 (the body is the same).
#[derive(Debug, Clone, Default, PartialEq)]
pub struct ShareOffsetsRequest(pub DescribeShareGroupOffsetsRequest);

impl Message for ShareOffsetsRequest {
    const VERSIONS: VersionRange = VERSIONS;
    const DEPRECATED_VERSIONS: Option<VersionRange> = None;
}

impl Encodable for ShareOffsetsRequest {
    fn encode<B: ByteBufMut>(&self, buf: &mut B, _version: i16) -> anyhow::Result<()> {
        self.0.encode(buf, 0)
    }
    fn compute_size(&self, _version: i16) -> anyhow::Result<usize> {
        self.0.compute_size(0)
    }
}

impl Decodable for ShareOffsetsRequest {
    fn decode<B: ByteBuf>(buf: &mut B, _version: i16) -> anyhow::Result<Self> {
        Ok(Self(DescribeShareGroupOffsetsRequest::decode(buf, 0)?))
    }
}

impl HeaderVersion for ShareOffsetsRequest {
    fn header_version(version: i16) -> i16 {
        <DescribeShareGroupOffsetsRequest as HeaderVersion>::header_version(version.min(0))
    }
}

impl Request for ShareOffsetsRequest {
    const KEY: i16 = <DescribeShareGroupOffsetsRequest as Request>::KEY;
    type Response = ShareOffsetsResponse;
}

/// The response: every group asked for.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ShareOffsetsResponse {
    /// Throttle time the broker asked for, ms.
    pub throttle_time_ms: i32,
    /// One entry per group.
    pub groups: Vec<ShareOffsetsGroup>,
}

/// One group of the response.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ShareOffsetsGroup {
    /// The group id.
    pub group_id: StrBytes,
    /// The topics the group has share partitions on.
    pub topics: Vec<ShareOffsetsTopic>,
    /// Group-level error code (0: none).
    pub error_code: i16,
    /// Group-level error message.
    pub error_message: Option<StrBytes>,
}

/// One topic of a group.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ShareOffsetsTopic {
    /// Topic name.
    pub topic_name: StrBytes,
    /// Topic id (a UUID's 16 bytes).
    pub topic_id: [u8; 16],
    /// Its share partitions.
    pub partitions: Vec<ShareOffsetsPartition>,
}

/// One share partition.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ShareOffsetsPartition {
    /// Partition number.
    pub partition_index: i32,
    /// The share-partition start offset (-1: not started).
    pub start_offset: i64,
    /// Leader epoch of the partition.
    pub leader_epoch: i32,
    /// The broker's lag (v1+); `None` at v0 or when the broker sends -1 (unknown).
    pub lag: Option<i64>,
    /// Partition-level error code (0: none).
    pub error_code: i16,
    /// Partition-level error message.
    pub error_message: Option<StrBytes>,
}

impl Message for ShareOffsetsResponse {
    const VERSIONS: VersionRange = VERSIONS;
    const DEPRECATED_VERSIONS: Option<VersionRange> = None;
}

impl HeaderVersion for ShareOffsetsResponse {
    fn header_version(_version: i16) -> i16 {
        // Flexible at every version: the response header carries tagged fields.
        1
    }
}

// The primitive types of the flexible versions.

fn get_i16<B: ByteBuf>(buf: &mut B) -> anyhow::Result<i16> {
    Ok(buf.try_get_i16()?)
}

fn get_i32<B: ByteBuf>(buf: &mut B) -> anyhow::Result<i32> {
    Ok(buf.try_get_i32()?)
}

fn get_i64<B: ByteBuf>(buf: &mut B) -> anyhow::Result<i64> {
    Ok(buf.try_get_i64()?)
}

/// An unsigned varint of at most 5 bytes (32 bits).
fn get_uvarint<B: ByteBuf>(buf: &mut B) -> anyhow::Result<u32> {
    let mut value: u32 = 0;
    for i in 0..5 {
        let byte = buf.try_get_u8()?;
        value |= u32::from(byte & 0x7f) << (7 * i);
        if byte & 0x80 == 0 {
            return Ok(value);
        }
    }
    anyhow::bail!("varint longer than 5 bytes")
}

fn put_uvarint<B: ByteBufMut>(buf: &mut B, mut value: u32) {
    while value >= 0x80 {
        buf.put_u8((value as u8) | 0x80);
        value >>= 7;
    }
    buf.put_u8(value as u8);
}

/// A compact length: `None` for null (0), else the varint minus one.
fn get_compact_len<B: ByteBuf>(buf: &mut B) -> anyhow::Result<Option<usize>> {
    Ok(match get_uvarint(buf)? {
        0 => None,
        n => Some(n as usize - 1),
    })
}

fn get_nullable_string<B: ByteBuf>(buf: &mut B) -> anyhow::Result<Option<StrBytes>> {
    match get_compact_len(buf)? {
        None => Ok(None),
        Some(len) => Ok(Some(StrBytes::from_utf8(buf.try_get_bytes(len)?)?)),
    }
}

fn get_string<B: ByteBuf>(buf: &mut B) -> anyhow::Result<StrBytes> {
    get_nullable_string(buf)?.ok_or_else(|| anyhow::anyhow!("null where a string is required"))
}

fn put_string<B: ByteBufMut>(buf: &mut B, value: Option<&StrBytes>) {
    match value {
        None => put_uvarint(buf, 0),
        Some(s) => {
            put_uvarint(buf, s.len() as u32 + 1);
            buf.put_slice(s.as_bytes());
        }
    }
}

/// A non-null compact array of `T`. The claimed count only reserves as many elements as
/// the bytes left could hold (every element takes at least one byte).
fn get_array<B: ByteBuf, T: Decodable>(buf: &mut B, version: i16) -> anyhow::Result<Vec<T>> {
    let len = get_compact_len(buf)?.ok_or_else(|| anyhow::anyhow!("null array"))?;
    let mut items = Vec::with_capacity(len.min(buf.remaining()));
    for _ in 0..len {
        items.push(T::decode(buf, version)?);
    }
    Ok(items)
}

fn put_array<B: ByteBufMut, T: Encodable>(
    buf: &mut B,
    items: &[T],
    version: i16,
) -> anyhow::Result<()> {
    put_uvarint(buf, u32::try_from(items.len() + 1)?);
    items.iter().try_for_each(|item| item.encode(buf, version))
}

/// Skips the tagged fields that end every flexible structure (none are defined for this
/// message; a newer broker's are ignored).
fn skip_tagged_fields<B: ByteBuf>(buf: &mut B) -> anyhow::Result<()> {
    for _ in 0..get_uvarint(buf)? {
        let _tag = get_uvarint(buf)?;
        let size = get_uvarint(buf)?;
        let _skipped: Bytes = buf.try_get_bytes(size as usize)?;
    }
    Ok(())
}

/// Writes an empty tagged-field section.
fn no_tagged_fields<B: ByteBufMut>(buf: &mut B) -> anyhow::Result<()> {
    put_uvarint(buf, 0);
    Ok(())
}

/// The size of `item` encoded, by encoding it (only tests encode responses).
fn encoded_size<T: Encodable>(item: &T, version: i16) -> anyhow::Result<usize> {
    let mut buf = bytes::BytesMut::new();
    item.encode(&mut buf, version)?;
    Ok(buf.len())
}

fn check_version(version: i16) -> anyhow::Result<()> {
    if (VERSIONS.min..=VERSIONS.max).contains(&version) {
        Ok(())
    } else {
        anyhow::bail!("DescribeShareGroupOffsets v{version} is not framed here (0 to 1)")
    }
}

impl Decodable for ShareOffsetsResponse {
    fn decode<B: ByteBuf>(buf: &mut B, version: i16) -> anyhow::Result<Self> {
        check_version(version)?;
        let throttle_time_ms = get_i32(buf)?;
        let groups = get_array(buf, version)?;
        skip_tagged_fields(buf)?;
        Ok(Self {
            throttle_time_ms,
            groups,
        })
    }
}

impl Decodable for ShareOffsetsGroup {
    fn decode<B: ByteBuf>(buf: &mut B, version: i16) -> anyhow::Result<Self> {
        let group_id = get_string(buf)?;
        let topics = get_array(buf, version)?;
        let error_code = get_i16(buf)?;
        let error_message = get_nullable_string(buf)?;
        skip_tagged_fields(buf)?;
        Ok(Self {
            group_id,
            topics,
            error_code,
            error_message,
        })
    }
}

impl Decodable for ShareOffsetsTopic {
    fn decode<B: ByteBuf>(buf: &mut B, version: i16) -> anyhow::Result<Self> {
        let topic_name = get_string(buf)?;
        let mut topic_id = [0; 16];
        buf.try_copy_to_slice(&mut topic_id)?;
        let partitions = get_array(buf, version)?;
        skip_tagged_fields(buf)?;
        Ok(Self {
            topic_name,
            topic_id,
            partitions,
        })
    }
}

impl Decodable for ShareOffsetsPartition {
    fn decode<B: ByteBuf>(buf: &mut B, version: i16) -> anyhow::Result<Self> {
        let partition_index = get_i32(buf)?;
        let start_offset = get_i64(buf)?;
        let leader_epoch = get_i32(buf)?;
        let lag = if version >= 1 {
            Some(get_i64(buf)?).filter(|lag| *lag >= 0)
        } else {
            None
        };
        let error_code = get_i16(buf)?;
        let error_message = get_nullable_string(buf)?;
        skip_tagged_fields(buf)?;
        Ok(Self {
            partition_index,
            start_offset,
            leader_epoch,
            lag,
            error_code,
            error_message,
        })
    }
}

// Encoding: what a broker would send, for tests and for the `Request` trait's bounds.

impl Encodable for ShareOffsetsResponse {
    fn encode<B: ByteBufMut>(&self, buf: &mut B, version: i16) -> anyhow::Result<()> {
        check_version(version)?;
        buf.put_i32(self.throttle_time_ms);
        put_array(buf, &self.groups, version)?;
        no_tagged_fields(buf)
    }
    fn compute_size(&self, version: i16) -> anyhow::Result<usize> {
        encoded_size(self, version)
    }
}

impl Encodable for ShareOffsetsGroup {
    fn encode<B: ByteBufMut>(&self, buf: &mut B, version: i16) -> anyhow::Result<()> {
        put_string(buf, Some(&self.group_id));
        put_array(buf, &self.topics, version)?;
        buf.put_i16(self.error_code);
        put_string(buf, self.error_message.as_ref());
        no_tagged_fields(buf)
    }
    fn compute_size(&self, version: i16) -> anyhow::Result<usize> {
        encoded_size(self, version)
    }
}

impl Encodable for ShareOffsetsTopic {
    fn encode<B: ByteBufMut>(&self, buf: &mut B, version: i16) -> anyhow::Result<()> {
        put_string(buf, Some(&self.topic_name));
        buf.put_slice(&self.topic_id);
        put_array(buf, &self.partitions, version)?;
        no_tagged_fields(buf)
    }
    fn compute_size(&self, version: i16) -> anyhow::Result<usize> {
        encoded_size(self, version)
    }
}

impl Encodable for ShareOffsetsPartition {
    fn encode<B: ByteBufMut>(&self, buf: &mut B, version: i16) -> anyhow::Result<()> {
        buf.put_i32(self.partition_index);
        buf.put_i64(self.start_offset);
        buf.put_i32(self.leader_epoch);
        if version >= 1 {
            buf.put_i64(self.lag.unwrap_or(-1));
        }
        buf.put_i16(self.error_code);
        put_string(buf, self.error_message.as_ref());
        no_tagged_fields(buf)
    }
    fn compute_size(&self, version: i16) -> anyhow::Result<usize> {
        encoded_size(self, version)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A v1 response as Kafka's schema lays it out, byte by byte: group `g`, topic `t`
    /// (nil id), partition 2 with start offset 5, leader epoch 0 and lag 7.
    fn v1_bytes() -> Vec<u8> {
        let mut b = vec![0, 0, 0, 0]; // throttle_time_ms
        b.push(2); // groups: 1 (compact: n + 1)
        b.extend([2, b'g']); // group_id "g"
        b.push(2); // topics: 1
        b.extend([2, b't']); // topic_name "t"
        b.extend([0; 16]); // topic_id
        b.push(2); // partitions: 1
        b.extend(2i32.to_be_bytes()); // partition_index
        b.extend(5i64.to_be_bytes()); // start_offset
        b.extend(0i32.to_be_bytes()); // leader_epoch
        b.extend(7i64.to_be_bytes()); // lag (v1+)
        b.extend([0, 0]); // error_code
        b.push(0); // error_message: null
        b.push(0); // partition's tagged fields
        b.push(0); // topic's tagged fields
        b.extend([0, 0]); // group error_code
        b.push(0); // group error_message: null
        b.push(0); // group's tagged fields
        b.push(0); // response's tagged fields
        b
    }

    fn expected(lag: Option<i64>) -> ShareOffsetsResponse {
        ShareOffsetsResponse {
            throttle_time_ms: 0,
            groups: vec![ShareOffsetsGroup {
                group_id: StrBytes::from_static_str("g"),
                topics: vec![ShareOffsetsTopic {
                    topic_name: StrBytes::from_static_str("t"),
                    topic_id: [0; 16],
                    partitions: vec![ShareOffsetsPartition {
                        partition_index: 2,
                        start_offset: 5,
                        leader_epoch: 0,
                        lag,
                        error_code: 0,
                        error_message: None,
                    }],
                }],
                error_code: 0,
                error_message: None,
            }],
        }
    }

    #[test]
    fn v1_lag_is_read_where_the_schema_puts_it() {
        let mut buf = Bytes::from(v1_bytes());
        let decoded = ShareOffsetsResponse::decode(&mut buf, 1).unwrap();
        assert_eq!(decoded, expected(Some(7)));
        assert!(buf.is_empty(), "{} bytes left", buf.len());
    }

    #[test]
    fn v0_has_no_lag_field() {
        let mut bytes = v1_bytes();
        // Without the 8 lag bytes after the leader epoch, it is the v0 layout.
        let lag_at = 4 + 1 + 2 + 1 + 2 + 16 + 1 + 4 + 8 + 4;
        bytes.drain(lag_at..lag_at + 8);
        let mut buf = Bytes::from(bytes);
        let decoded = ShareOffsetsResponse::decode(&mut buf, 0).unwrap();
        assert_eq!(decoded, expected(None));
        assert!(buf.is_empty());
    }

    #[test]
    fn an_unknown_lag_is_none_and_encoding_matches_the_layout() {
        let mut encoded = bytes::BytesMut::new();
        expected(Some(7)).encode(&mut encoded, 1).unwrap();
        assert_eq!(encoded.as_ref(), v1_bytes().as_slice());
        let mut unknown = bytes::BytesMut::new();
        expected(None).encode(&mut unknown, 1).unwrap();
        let decoded = ShareOffsetsResponse::decode(&mut unknown.freeze(), 1).unwrap();
        assert_eq!(decoded.groups[0].topics[0].partitions[0].lag, None);
    }

    #[test]
    fn truncated_responses_and_other_versions_are_errors() {
        let bytes = v1_bytes();
        for cut in 0..bytes.len() {
            let mut buf = Bytes::copy_from_slice(&bytes[..cut]);
            assert!(
                ShareOffsetsResponse::decode(&mut buf, 1).is_err(),
                "cut at {cut}"
            );
        }
        assert!(ShareOffsetsResponse::decode(&mut Bytes::from(v1_bytes()), 2).is_err());
    }

    #[test]
    fn the_request_body_is_the_crates_v0_body_at_both_versions() {
        use kafka_protocol::messages::GroupId;
        use kafka_protocol::messages::describe_share_group_offsets_request::DescribeShareGroupOffsetsRequestGroup;
        let inner = DescribeShareGroupOffsetsRequest::default().with_groups(vec![
            DescribeShareGroupOffsetsRequestGroup::default()
                .with_group_id(GroupId(StrBytes::from_static_str("g")))
                .with_topics(None),
        ]);
        let mut v0 = bytes::BytesMut::new();
        inner.encode(&mut v0, 0).unwrap();
        let mut v1 = bytes::BytesMut::new();
        ShareOffsetsRequest(inner).encode(&mut v1, 1).unwrap();
        assert_eq!(v0, v1);
        assert_eq!(ShareOffsetsRequest::header_version(1), 2);
    }
}
