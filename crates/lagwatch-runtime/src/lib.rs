//! lagwatch-runtime (being written).
