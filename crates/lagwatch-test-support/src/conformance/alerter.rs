//! Conformance checks for alerters (being written).
