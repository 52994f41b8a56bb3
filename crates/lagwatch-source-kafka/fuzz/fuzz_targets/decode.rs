//! Fuzzes the `__consumer_offsets` record decoder with arbitrary key/value splits.
//!
//! Input layout: one header byte, then key and value. The low 7 bits of the header are the
//! key length (clamped to the input), the high bit makes the value null (a tombstone).
//! The decoder must return `Ok` or `Err` for every input: never panic, never overflow.

#![no_main]

use libfuzzer_sys::fuzz_target;

#[allow(dead_code)]
#[path = "../../src/records.rs"]
mod decode;

fuzz_target!(|data: &[u8]| {
    let Some((&header, rest)) = data.split_first() else {
        return;
    };
    let split = usize::from(header & 0x7f).min(rest.len());
    let (key, value) = rest.split_at(split);
    let value = (header & 0x80 == 0).then_some(value);
    match decode::decode(key, value) {
        Ok(record) => {
            let _ = record.group();
        }
        Err(err) => {
            let _ = err.to_string();
            let _ = (err.key_version(), err.section(), err.kind());
        }
    }
});
