//! Sample data for tests (being written).
