//! lagwatch (being written).
