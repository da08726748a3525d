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
//! (`etcdutl snapshot status`), [`range`] (etcd's key ranges), [`keyspace`] (the live keys at
//! a revision and the Range RPC), [`index`] (every revision of every key), [`hashkv`]
//! (`endpoint hashkv`), [`info`] (what the file says about the cluster), [`verify`] (the
//! integrity checks of `etcdsnap verify`), [`rewrite`] (new stores written from this one:
//! `compact`, `redact`), [`salvage`] (a sound store from a damaged one), [`versions`] (which
//! etcd wrote the file, whose tools a report imitates).

pub mod crc;
pub mod diff;
pub mod error;
pub mod hashkv;
pub mod index;
pub mod info;
pub mod keyspace;
mod keytable;
pub mod pipeline;
pub mod proto;
pub mod range;
pub mod revision;
pub mod rewrite;
pub mod salvage;
mod scan;
pub mod snapshot;
pub mod status;
pub mod verify;
pub mod versions;

pub use error::{Error, Result};
pub use index::{KeyHistory, Rev, RevIndex};
pub use keyspace::{KeyRev, Keyspace, RangeRequest, RangeResponse};
pub use range::KeyRange;
pub use revision::Revision;
pub use scan::{KeyHasher, KeyMap};
pub use snapshot::Snapshot;
