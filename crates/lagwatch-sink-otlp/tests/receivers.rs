//! Real-receiver acceptance tests (written in a later commit).
