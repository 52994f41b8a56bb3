//! Conformance checks for sinks (being written).
