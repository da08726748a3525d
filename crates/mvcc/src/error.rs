//! Typed errors of the MVCC layer.

use etcdsnap_bbolt as bbolt;

use crate::revision::Revision;

/// Result alias of this crate.
pub type Result<T, E = Error> = std::result::Result<T, E>;

/// What can go wrong reading etcd's layer.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// The bbolt layer failed.
    #[error(transparent)]
    Bolt(#[from] bbolt::Error),
    /// Nothing could be recovered from a damaged file.
    #[error("{0}")]
    Salvage(String),
    /// Writing an output file failed.
    #[error(transparent)]
    Write(#[from] bbolt::WriteError),
    /// A directory that is not an etcd data directory.
    #[error(
        "is a directory but not an etcd data directory (no member/snap/db inside): name a snapshot file or a member's --data-dir"
    )]
    NotADataDir,
    /// A bucket etcd always writes is missing.
    #[error("bucket {0:?} is missing: this is not an etcd v3 database")]
    MissingBucket(&'static str),
    /// A key of the `key` bucket is not a revision.
    #[error(
        "bucket \"key\", page {page}: key {key} is not a revision (17 or 18 bytes: main, '_', sub[, 't'])"
    )]
    BadRevisionKey {
        /// The key, escaped.
        key: String,
        /// The leaf page.
        page: u64,
    },
    /// A value could not be decoded.
    #[error("bucket {bucket:?}, key {key}: cannot decode {what}: {reason}")]
    BadValue {
        /// The bucket.
        bucket: &'static str,
        /// The key, escaped.
        key: String,
        /// The message expected.
        what: &'static str,
        /// The decoder's reason.
        reason: String,
    },
    /// A record of the `key` bucket is not an `mvccpb.KeyValue`.
    #[error("bucket \"key\", page {page}: revision {rev}: cannot decode mvccpb.KeyValue: {reason}")]
    BadKeyValue {
        /// The revision of the entry.
        rev: Revision,
        /// The leaf page (0 inside an inline bucket).
        page: u64,
        /// The decoder's reason.
        reason: String,
    },
    /// A count or number from the file does not fit what this reader supports.
    #[error("{what}: too large for this reader ({value})")]
    TooLarge {
        /// What overflowed.
        what: &'static str,
        /// The value found.
        value: u64,
    },
    /// A range request named no key (etcd refuses it the same way).
    #[error("etcdserver: key is not provided")]
    EmptyKey,
    /// Keys of a bucket are not in strictly increasing order.
    #[error(
        "bucket {bucket}, page {page}: key {key} is not greater than the key before it (the B+tree is out of order)"
    )]
    KeyOrder {
        /// The bucket, escaped.
        bucket: String,
        /// The key, escaped.
        key: String,
        /// The leaf page.
        page: u64,
    },
    /// The requested revision was compacted away.
    #[error("etcdserver: mvcc: required revision has been compacted")]
    Compacted {
        /// The requested revision.
        requested: i64,
        /// The compaction revision.
        compacted: i64,
    },
    /// The requested revision is newer than the store.
    #[error("etcdserver: mvcc: required revision is a future revision")]
    FutureRevision {
        /// The requested revision.
        requested: i64,
        /// The newest revision.
        current: i64,
    },
}
