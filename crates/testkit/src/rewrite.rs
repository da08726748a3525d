//! Snapshots as etcd 3.6/3.7 write them, made from real etcd 3.5.1 snapshots with our bbolt
//! writer (`etcdsnap_bbolt::write`): no etcd 3.6 binary can be had here, but the differences
//! of a 3.6 file are a few keys etcd's sources name, and everything else is the real file.
//!
//! - `meta/storageVersion` = `3.6.0`: what 3.6 writes once it runs a cluster at 3.6 (v3.6.0
//!   `server/storage/schema/version.go` `UnsafeSetStorageVersion`: `X.Y.0`); `cluster/
//!   clusterVersion` = `3.6.0` likewise.
//! - A tombstone kept at the compaction revision: 3.5.16+/3.6 compaction keeps it (v3.6.0
//!   `server/storage/mvcc/key_index.go` `compact`); 3.5.1 deleted it.
//!
//! `fixtures/versions/etcd36/` records what real etcdutl 3.5.1 and etcd 3.5.1 say about these
//! files (their hash, size and revision are computed the same way by 3.6) with their sha256.

use std::collections::BTreeMap;
use std::path::Path;

use etcdsnap_bbolt::write::{WriteOptions, WriteSummary, Writer, copy_bucket, options_like};
use etcdsnap_bbolt::{Bucket, Db};

/// One bucket's changes: keys to set (`Some`) or remove (`None`).
type BucketEdits = BTreeMap<Vec<u8>, Option<Vec<u8>>>;

/// Changes to a copy, per top-level bucket.
#[derive(Debug, Clone, Default)]
pub struct Edits {
    buckets: BTreeMap<Vec<u8>, BucketEdits>,
}

impl Edits {
    /// No change.
    pub fn new() -> Edits {
        Edits::default()
    }

    /// Sets `bucket/key = value` (the bucket must exist).
    pub fn set(mut self, bucket: &[u8], key: &[u8], value: &[u8]) -> Edits {
        self.buckets
            .entry(bucket.to_vec())
            .or_default()
            .insert(key.to_vec(), Some(value.to_vec()));
        self
    }

    /// Removes `bucket/key`.
    pub fn remove(mut self, bucket: &[u8], key: &[u8]) -> Edits {
        self.buckets
            .entry(bucket.to_vec())
            .or_default()
            .insert(key.to_vec(), None);
        self
    }
}

/// Writes a copy of `src` with `edits` to `out` (the writer's layout: fill 0.9, an empty
/// persisted freelist, etcd's sha256 trailer when `trailer`), keeping every other bucket, key,
/// value and sequence.
pub fn rewrite(src: &Path, out: &Path, edits: &Edits, trailer: bool) -> WriteSummary {
    let db = Db::open(src).expect("open the source");
    let opts = WriteOptions {
        sha256_trailer: trailer,
        force: true,
        ..options_like(&db)
    };
    let mut w = Writer::create(out, opts).expect("create the output");
    w.set_root_sequence(db.meta().sequence);
    for (name, bucket) in db.buckets().expect("buckets") {
        w.begin_bucket(name, bucket.sequence()).expect("bucket");
        match edits.buckets.get(name) {
            None => copy_bucket(&bucket, &mut w).expect("copy"),
            Some(ed) => merge(&bucket, ed, &mut w),
        }
        w.end_bucket().expect("end bucket");
    }
    w.finish().expect("finish")
}

/// The entries of `bucket` (no sub-buckets: etcd nests none) merged with `ed` in key order.
fn merge(bucket: &Bucket<'_>, ed: &BucketEdits, w: &mut Writer) {
    let mut pending = ed.iter().peekable();
    for e in bucket.iter() {
        let e = e.expect("entry");
        assert!(!e.is_bucket(), "nested buckets are not edited");
        while let Some((k, v)) = pending.next_if(|(k, _)| k.as_slice() < e.key) {
            if let Some(v) = v {
                w.put(k, v).expect("put");
            }
        }
        match pending.next_if(|(k, _)| k.as_slice() == e.key) {
            Some((_, Some(v))) => w.put(e.key, v).expect("put"),
            Some((_, None)) => {}
            None => w.put(e.key, e.value).expect("put"),
        }
    }
    for (k, v) in pending {
        if let Some(v) = v {
            w.put(k, v).expect("put");
        }
    }
}

/// A 17- or 18-byte revision key.
pub fn rev_key(main: u64, sub: u64, tombstone: bool) -> Vec<u8> {
    let mut k = main.to_be_bytes().to_vec();
    k.push(b'_');
    k.extend_from_slice(&sub.to_be_bytes());
    if tombstone {
        k.push(b't');
    }
    k
}

/// The value stored under `bucket/key` in the file at `path`.
pub fn value_of(path: &Path, bucket: &[u8], key: &[u8]) -> Option<Vec<u8>> {
    let db = Db::open(path).expect("open");
    let b = db.bucket(bucket).expect("bucket")?;
    b.get(key).expect("get").map(<[u8]>::to_vec)
}

/// The 3.6-style files `fixtures/versions/etcd36/` records, by name, written into `dir`:
///
/// - `h2a-3.6`: corpus h2a.db (etcd 3.5.1: 5,170 revisions of 2,700 live keys, compacted,
///   auth) after an upgrade to 3.6: `storageVersion` and `clusterVersion` 3.6.0.
/// - `tombstone-3.6`: `fixtures/versions/tombstone/after.db` (compacted at 6 by etcd 3.5.1,
///   which deleted every entry) as 3.6 writes it: the tombstone of `b` at revision 6 kept
///   (its record taken from `before.db`), and the 3.6 version keys.
pub fn etcd36_cases(dir: &Path) -> Vec<(&'static str, std::path::PathBuf)> {
    std::fs::create_dir_all(dir).expect("dir");
    let v36 = Edits::new().set(b"meta", b"storageVersion", b"3.6.0").set(
        b"cluster",
        b"clusterVersion",
        b"3.6.0",
    );
    let mut out = Vec::new();
    let p = dir.join("h2a-3.6.db");
    rewrite(&crate::corpus_db("h2a.db"), &p, &v36, true);
    out.push(("h2a-3.6", p));
    let tomb = crate::fixtures_dir().join("versions/tombstone");
    let key = rev_key(6, 0, true);
    let record = value_of(&tomb.join("before.db"), b"key", &key).expect("b's tombstone");
    let p = dir.join("tombstone-3.6.db");
    rewrite(
        &tomb.join("after.db"),
        &p,
        &v36.clone().set(b"key", &key, &record),
        true,
    );
    out.push(("tombstone-3.6", p));
    out
}
