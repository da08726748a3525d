//! Helpers shared by the integration tests.

pub mod bolt;
pub mod fixtures;
