//! lagwatch-sink-file (being written).
