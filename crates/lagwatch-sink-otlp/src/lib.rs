//! OTLP metrics sink for lagwatch (see the next commits).
