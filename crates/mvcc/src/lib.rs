//! etcd's MVCC layer, read offline from a bbolt snapshot.
//!
//! etcd stores every revision of every key in the `key` bucket, keyed by revision; the user
//! key lives inside the protobuf value. Answering "what did key K hold at revision R" therefore
//! means rebuilding the per-key index that a running etcd keeps in memory. This crate does that
//! and computes the figures etcd reports (snapshot status, hashkv) exactly as etcd computes
//! them.
//!
//! Modules: [`revision`] (the 17/18-byte revision keys), [`proto`] (etcd's protobuf messages,
//! declared by hand), [`snapshot`] (the open file and etcd's meta bucket), [`status`]
//! (`etcdutl snapshot status`).

pub mod crc;
pub mod diff;
pub mod error;
pub mod proto;
pub mod revision;
pub mod snapshot;
pub mod status;

pub use error::{Error, Result};
pub use revision::Revision;
pub use snapshot::Snapshot;
