//! lagwatch-source-demo (being written).
