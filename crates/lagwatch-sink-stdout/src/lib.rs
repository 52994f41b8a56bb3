//! lagwatch-sink-stdout (being written).
