//! lagwatch-test-support (being written).
