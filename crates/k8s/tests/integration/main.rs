//! Integration tests of etcdsnap-k8s, one binary (modules below).
//!
//! Test data lives in `tests/data/` (copied from the conformance corpus; see its README).

mod aggregate;
mod corpus;
mod handbuilt;
mod heldout_findings;
mod keys;
mod pb;
mod render_diff;
mod robustness;
mod typed;
