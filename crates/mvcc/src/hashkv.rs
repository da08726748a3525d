//! `endpoint hashkv --rev R`: the hash etcd computes over the MVCC history at R.
//!
//! etcd hashes, with CRC-32C, the bucket name `key` and then every `key` bucket entry with
//! `main <= R`, except entries at or below the compaction revision that a compaction at R
//! would remove (those not in `Keep(R)`, when `Keep(R)` is not empty) and a tombstone sitting
//! exactly at the compaction revision (etcd 3.4.34+/3.5.16+, harmless for older files, which
//! had already deleted it). `Keep(R)` is, per user key, the newest revision `<= R` if it is a
//! put.
//!
//! Only the entries at or below the compaction need the user key (to decide `Keep`); entries
//! above it are hashed as they come. So the pass hashes the part above the compaction directly
//! (on several threads, CRC-32C values combine) and counts the entries below it; those are
//! hashed last, in a second walk over the start of the bucket (no copy of them is kept: on a
//! store compacted half way they are half the bucket), and the two CRCs are combined in file
//! order. When nothing lies at or
//! below the compaction (never compacted, or compacted away) no protobuf is decoded at all.
//!
//! [`HashRules`] selects the etcd release: the tombstone skip can be turned off (etcd before
//! 3.4.34/3.5.16, e.g. 3.5.1), and 3.6 accepts R equal to the compaction revision.

use crate::crc::Crc32c;
use crate::error::{Error, Result};
use crate::keyspace::newest_per_key;
use crate::revision::{RevKey, Revision, main_of};
use crate::scan;
use crate::snapshot::{Snapshot, StoreRevisions, buckets};

/// What `etcdctl endpoint hashkv` reports for a member holding this store.
#[derive(Clone, Copy, Debug, PartialEq, Eq, serde::Serialize)]
pub struct HashKv {
    /// The CRC-32C.
    pub hash: u32,
    /// The store's compaction revision (-1 when never compacted).
    pub compact_revision: i64,
    /// The revision hashed (the request's, or the current one for 0).
    pub hash_revision: i64,
    /// The store's current revision (the response header's revision).
    pub revision: i64,
}

/// Resolves the revision of a hashkv request as etcd 3.4/3.5 do: 0 means current; at or
/// below the compaction is [`Error::Compacted`] (etcd 3.6 allows the compaction revision
/// itself); past the store is [`Error::FutureRevision`].
pub fn resolve_hash(store: &StoreRevisions, rev: i64) -> Result<i64> {
    resolve_hash_with(store, rev, HashRules::default())
}

/// Which etcd's hashkv rules to follow.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct HashRules {
    /// Skip a tombstone whose main revision is the compaction revision (etcd 3.4.34+,
    /// 3.5.16+, 3.6+; older releases hash it).
    pub skip_compacted_tombstone: bool,
    /// Accept the compaction revision itself as R (etcd 3.6+: `rev < compactRev` is refused;
    /// 3.4/3.5 refuse `rev <= compactRev`).
    pub allow_compact_revision: bool,
}

impl Default for HashRules {
    /// The newest etcd 3.5's rules.
    fn default() -> HashRules {
        HashRules {
            skip_compacted_tombstone: true,
            allow_compact_revision: false,
        }
    }
}

impl HashRules {
    /// The rules of etcd `v`.
    pub fn of(v: crate::versions::EtcdVersion) -> HashRules {
        HashRules {
            skip_compacted_tombstone: v.skips_compacted_tombstone(),
            allow_compact_revision: v.at_least(3, 6),
        }
    }
}

/// [`resolve_hash`] under `rules`.
pub fn resolve_hash_with(store: &StoreRevisions, rev: i64, rules: HashRules) -> Result<i64> {
    let compacted = if rules.allow_compact_revision {
        rev < store.compact
    } else {
        rev <= store.compact
    };
    if rev > 0 && compacted {
        return Err(Error::Compacted {
            requested: rev,
            compacted: store.compact,
        });
    }
    if rev > 0 && rev > store.current {
        return Err(Error::FutureRevision {
            requested: rev,
            current: store.current,
        });
    }
    Ok(if rev <= 0 { store.current } else { rev })
}

/// One part's contribution: CRC and length of what it hashed above the compaction, the
/// number of entries it saw at or below it, and its first and last keys for the seam checks.
struct Part<'a> {
    crc: Crc32c,
    low: u64,
    first: Option<(&'a [u8], u64)>,
    last: Option<&'a [u8]>,
}

/// Computes hashkv at `rev` (0 = current) on up to `threads` threads.
pub fn hash_kv(snap: &Snapshot, rev: i64, threads: usize) -> Result<HashKv> {
    hash_kv_with(snap, rev, threads, HashRules::default())
}

/// Computes hashkv at `rev` (0 = current) under `rules` on up to `threads` threads.
pub fn hash_kv_with(snap: &Snapshot, rev: i64, threads: usize, rules: HashRules) -> Result<HashKv> {
    let bucket = snap.required(buckets::KEY)?;
    let store = snap.revisions()?;
    let at = resolve_hash_with(&store, rev, rules)?;
    let compact = store.compact;
    let mut crc = Crc32c::new();
    crc.update(buckets::KEY);
    let result = |hash| HashKv {
        hash,
        compact_revision: compact,
        hash_revision: at,
        revision: store.current,
    };

    // Pass 1: check every key, hash what lies above the compaction, keep the rest aside.
    let parts = scan::parts(&bucket, threads);
    let results = scan::run_parts(parts, threads, |_, it| -> Result<Part<'_>> {
        let mut p = Part {
            crc: Crc32c::new(),
            low: 0,
            first: None,
            last: None,
        };
        for e in it {
            let e = e?;
            let page = e.page.unwrap_or(0);
            if let Some(prev) = p.last {
                if crate::revision::not_after(e.key, prev) {
                    return Err(Error::KeyOrder {
                        bucket: "\"key\"".into(),
                        key: etcdsnap_bbolt::error::escape_bytes(e.key),
                        page,
                    });
                }
            } else {
                p.first = Some((e.key, page));
            }
            p.last = Some(e.key);
            let main = main_of(e.key)
                .map(|m| m as i64)
                .ok_or_else(|| Error::BadRevisionKey {
                    key: etcdsnap_bbolt::error::escape_bytes(e.key),
                    page,
                })?;
            if main > at {
                break;
            }
            if main <= compact {
                p.low += 1;
            } else {
                // Key then value, side by side in the page: one update.
                p.crc.update(e.key_value);
            }
        }
        Ok(p)
    });
    let mut high = Crc32c::new();
    let mut low = 0u64;
    let mut prev_last: Option<&[u8]> = None;
    for r in results {
        let p = r?;
        scan::check_seam(prev_last, p.first)?;
        if p.last.is_some() {
            prev_last = p.last;
        }
        high.append(&p.crc);
        low += p.low;
    }

    if low > 0 {
        // Keep(R): the newest revision <= R of every key, when it is a put. The pass that
        // finds it decodes every entry <= R (sharded by key hash on every thread); the
        // entries at or below the compaction are then kept when their revision is one of
        // those newest puts (revisions are unique, so no key lookup is needed: a merge of two
        // revision-ordered lists).
        let shards = newest_per_key(&bucket, at, None, threads)?;
        let mut kept: Vec<Revision> = Vec::new();
        let mut keep_nonempty = false;
        for s in &shards {
            for r in &s.newest {
                if !r.is_tombstone() {
                    keep_nonempty = true;
                    if r.main() <= compact {
                        kept.push(r.revision());
                    }
                }
            }
        }
        drop(shards);
        kept.sort_unstable();
        let mut next = kept.iter().peekable();
        // The entries at or below the compaction open the bucket (it is in revision order),
        // and their keys were checked by the first pass.
        for e in bucket.iter() {
            let e = e?;
            if main_of(e.key).is_none_or(|m| m as i64 > compact) {
                break;
            }
            let RevKey { rev: r, tombstone } =
                RevKey::parse(e.key).ok_or_else(|| Error::BadRevisionKey {
                    key: etcdsnap_bbolt::error::escape_bytes(e.key),
                    page: e.page.unwrap_or(0),
                })?;
            if keep_nonempty {
                while next.next_if(|k| **k < r).is_some() {}
                if tombstone || next.peek() != Some(&&r) {
                    continue;
                }
            }
            if rules.skip_compacted_tombstone && r.main == compact && tombstone {
                continue;
            }
            crc.update(e.key);
            crc.update(e.value);
        }
    }
    crc.append(&high);
    Ok(result(crc.value()))
}
