//! Conformance checks for sources (being written).
