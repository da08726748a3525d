//! Analyses that need all three layers at once: the bbolt pages, etcd's revisions and the
//! Kubernetes values.
//!
//! `etcdsnap stats` and `etcdsnap report` must never disagree, so the accounting they share
//! lives here, in a library, rather than in the binary: [`stats::analyze`] builds the revision
//! index and walks the pages once, then feeds every key's revisions into the Kubernetes
//! aggregators of `etcdsnap-k8s`. The binary only formats the result; the report renders it.

pub mod stats;

pub use stats::{Analysis, LeaseKeys, Options, Report, analyze};

/// Why an analysis could not be made.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// The snapshot could not be read (a damaged page, a bad record, a revision compacted
    /// away, ...): etcd's layer says what and where.
    #[error(transparent)]
    Mvcc(#[from] etcdsnap_mvcc::Error),
    /// A worker thread stopped without a result (a bug: the readers never panic on input).
    #[error("{0} failed")]
    Worker(&'static str),
}
