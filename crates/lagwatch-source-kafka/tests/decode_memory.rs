#![allow(clippy::unwrap_used, clippy::expect_used)]
//! The memory bound of the `__consumer_offsets` decoder (docs/offsets-topic.md, "Memory
//! bound"): whatever the assignment bytes of a classic group-metadata record claim, decoding
//! the record and building its owner event never holds more than
//! `MAX_DECODED_BYTES` plus twice the record's own size on the heap.
//!
//! Measured with a counting global allocator, per thread, so only this test's own
//! allocations count.

use lagwatch_core::Event;
use lagwatch_core::filter::NameFilter;
use lagwatch_source_kafka::offsets_topic::decode;
use lagwatch_source_kafka::offsets_topic::decode::{DecodeErrorKind, MAX_DECODED_BYTES};
use lagwatch_source_kafka::offsets_topic::mapper::RecordMapper;
use proptest::prelude::*;
use std::alloc::{GlobalAlloc, Layout, System};
use std::cell::Cell;

thread_local! {
    static LIVE: Cell<usize> = const { Cell::new(0) };
    static PEAK: Cell<usize> = const { Cell::new(0) };
}

fn grew(by: usize) {
    // `try_with`: a thread being torn down has no counters any more.
    let _ = LIVE.try_with(|live| {
        let now = live.get().saturating_add(by);
        live.set(now);
        let _ = PEAK.try_with(|peak| peak.set(peak.get().max(now)));
    });
}

fn shrank(by: usize) {
    let _ = LIVE.try_with(|live| live.set(live.get().saturating_sub(by)));
}

/// The system allocator, counting the bytes each thread holds and its peak.
struct Counting;

// The one `unsafe` outside `admin::ffi`: a global allocator can only be written as an
// `unsafe impl`. Every call is passed to `System` unchanged; only counters are added.
#[allow(unsafe_code)]
unsafe impl GlobalAlloc for Counting {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        // SAFETY: the caller's contract for `alloc` is passed on unchanged.
        let p = unsafe { System.alloc(layout) };
        if !p.is_null() {
            grew(layout.size());
        }
        p
    }

    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        // SAFETY: `ptr` was allocated by `System` with `layout` (every allocation goes there).
        unsafe { System.dealloc(ptr, layout) };
        shrank(layout.size());
    }

    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        // SAFETY: as for `alloc` and `dealloc`: passed on unchanged.
        let p = unsafe { System.realloc(ptr, layout, new_size) };
        if !p.is_null() {
            // Counted as held twice for a moment, as a moving reallocation does.
            grew(new_size);
            shrank(layout.size());
        }
        p
    }
}

#[global_allocator]
static ALLOCATOR: Counting = Counting;

/// Heap peak above what was held before, while `f` runs.
fn peak_of<T>(f: impl FnOnce() -> T) -> (T, usize) {
    let base = LIVE.with(Cell::get);
    PEAK.with(|p| p.set(base));
    let out = f();
    (out, PEAK.with(Cell::get) - base)
}

fn i16b(v: usize) -> [u8; 2] {
    i16::try_from(v).unwrap().to_be_bytes()
}

fn i32b(v: usize) -> [u8; 4] {
    i32::try_from(v).unwrap().to_be_bytes()
}

fn string(out: &mut Vec<u8>, s: &str) {
    out.extend(i16b(s.len()));
    out.extend(s.as_bytes());
}

/// One member: client id length, and its assignment as (topic name length, partitions).
#[derive(Debug, Clone)]
struct HostileMember {
    client_id: usize,
    topics: Vec<(usize, usize)>,
}

/// A group-metadata record (key version 2, value version 3, protocol type `consumer`).
fn record(members: &[HostileMember]) -> (Vec<u8>, Vec<u8>) {
    let mut key = vec![0, 2];
    string(&mut key, "hostile-group");
    let mut v = vec![0, 3];
    string(&mut v, "consumer");
    v.extend(1i32.to_be_bytes());
    string(&mut v, "range");
    v.extend((-1i16).to_be_bytes());
    v.extend(5i64.to_be_bytes());
    v.extend(i32b(members.len()));
    for (i, m) in members.iter().enumerate() {
        string(&mut v, &format!("member-{i}"));
        v.extend((-1i16).to_be_bytes());
        string(&mut v, &"c".repeat(m.client_id));
        string(&mut v, "/127.0.0.1");
        v.extend(300_000i32.to_be_bytes());
        v.extend(45_000i32.to_be_bytes());
        v.extend(0i32.to_be_bytes());
        let mut a = vec![0, 0];
        a.extend(i32b(m.topics.len()));
        for (t, (name, partitions)) in m.topics.iter().enumerate() {
            let mut topic = format!("{t}-");
            topic.push_str(&"t".repeat(name.saturating_sub(topic.len()).max(1)));
            string(&mut a, &topic);
            a.extend(i32b(*partitions));
            for p in 0..*partitions {
                a.extend(i32b(p));
            }
        }
        a.extend((-1i32).to_be_bytes());
        v.extend(i32b(a.len()));
        v.extend(a);
    }
    (key, v)
}

fn hostile_member() -> impl Strategy<Value = HostileMember> {
    (
        prop_oneof![0usize..64, 1_000usize..32_767],
        prop::collection::vec(
            (
                prop_oneof![1usize..64, 1_000usize..32_767],
                prop_oneof![0usize..100, 1_000usize..60_000],
            ),
            1..4,
        ),
    )
        .prop_map(|(client_id, topics)| HostileMember { client_id, topics })
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 48, ..ProptestConfig::default() })]

    #[test]
    fn decoding_a_hostile_assignment_stays_under_the_bound(
        members in prop::collection::vec(hostile_member(), 1..5)
    ) {
        let (key, value) = record(&members);
        let mapper = RecordMapper::new(
            "live",
            NameFilter::new(None, None).unwrap(),
            NameFilter::new(None, None).unwrap(),
        );
        let (outcome, peak) = peak_of(|| {
            let mut events: Vec<Event> = Vec::new();
            match decode::decode(&key, Some(&value)) {
                Ok(record) => {
                    mapper.apply(record, 1, &mut events);
                    Ok(events.len())
                }
                Err(e) => Err(e),
            }
        });
        let bound = MAX_DECODED_BYTES + 2 * (key.len() + value.len());
        prop_assert!(
            peak <= bound,
            "peak {peak} bytes over the bound {bound} ({} bytes of input)",
            key.len() + value.len()
        );
        match outcome {
            Ok(events) => prop_assert_eq!(events, 1),
            Err(e) => prop_assert!(
                matches!(e.kind(), DecodeErrorKind::TooLarge { .. }),
                "a well-formed record is refused only for size: {e}"
            ),
        }
    }
}

/// The largest expansion one record allowed before the caps: one topic name of 32 kB copied
/// for each of 60 000 partitions (2 GB from 300 kB). Now refused, having held almost nothing.
#[test]
fn the_worst_expansion_is_refused_early() {
    let members = [HostileMember {
        client_id: 32_000,
        topics: vec![(32_000, 60_000)],
    }];
    let (key, value) = record(&members);
    let (result, peak) = peak_of(|| decode::decode(&key, Some(&value)).map(|_| ()));
    let err = result.unwrap_err();
    assert!(
        matches!(
            err.kind(),
            DecodeErrorKind::TooLarge {
                what: "decoded bytes",
                ..
            }
        ),
        "{err}"
    );
    assert!(err.to_string().contains("\"hostile-group\""), "{err}");
    assert!(peak < 1 << 20, "refusing held {peak} bytes");
}
