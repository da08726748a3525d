//! A zero-copy, read-only reader of bbolt database files, the storage engine under etcd.
//!
//! Why our own: the tool must open damaged, truncated or hostile files and answer with a
//! typed error instead of a panic, a hang or a `SIGBUS`, and it must never write, lock or
//! change its input. Existing Go and Rust readers trust the file; this one checks every page
//! id, offset, length and count it takes from the file before using it (see [`bytes`]) and
//! bounds every walk by a visited-page set (no fixed depth: bbolt has none).
//!
//! Layers, bottom up: [`raw`] (on-disk layouts and constants), [`bytes`] (the one bounds-checked
//! accessor), [`db`] (map the file, validate and choose a meta page), [`page`] (page headers and
//! elements), [`bucket`] (buckets, ordered iteration, lookups), [`freelist`], [`check`]
//! (the exhaustive structural check behind `etcdsnap verify`) and [`ledger`] (page accounting
//! beside a reading walk, which proves the check would pass). Beside the reader, [`write`] is
//! a bulk-load writer that produces fresh files bbolt and etcd accept; it never touches the
//! file being read.
//!
//! Nothing here knows about etcd.

pub mod bucket;
pub mod bytes;
pub mod check;
pub mod db;
pub mod error;
pub mod freelist;
pub mod ledger;
pub mod page;
pub mod raw;
pub mod write;

pub use bucket::{Bucket, Entry, Iter, PagesSeen};
pub use db::{Db, Meta, MetaChoice, OpenOptions, Source, Trailer};
pub use error::{Error, MetaError, Result};
pub use freelist::Freelist;
pub use page::{Page, PageKind};
pub use write::{WriteError, WriteOptions, WriteSummary, Writer};
