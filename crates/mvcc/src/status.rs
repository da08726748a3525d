//! `etcdutl snapshot status`: hash, revision, total keys and total size, computed as etcd
//! computes them (see `docs/format.md`).
//!
//! The hash is one CRC-32C over every bucket name, key and value in order. CRC-32C values
//! combine (`crc(A||B)` from `crc(A)`, `crc(B)` and `len(B)`), so the `key` bucket, which is
//! nearly the whole file, is split by its root's children and hashed on several threads; the
//! pieces are combined in order, which keeps the result exactly etcd's.

use etcdsnap_bbolt::{Bucket, Entry, Iter, error::escape_bytes};

use crate::crc::Crc32c;
use crate::error::{Error, Result};
use crate::revision::main_of;
use crate::scan;
use crate::snapshot::{Snapshot, buckets};

/// What `snapshot status` reports.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
pub struct Status {
    /// CRC-32C over all buckets.
    pub hash: u32,
    /// `main` of the last key of the `key` bucket (0 when empty).
    pub revision: i64,
    /// Entries over all buckets.
    #[serde(rename = "totalKey")]
    pub total_key: u64,
    /// `pgid * page_size`.
    #[serde(rename = "totalSize")]
    pub total_size: u64,
}

/// A CRC over a run of entries, with what is needed to combine it and to check order at the
/// seams between runs.
struct Piece<'a> {
    crc: Crc32c,
    entries: u64,
    first_key: Option<(&'a [u8], u64)>,
    last_key: Option<&'a [u8]>,
}

impl Piece<'_> {
    fn new() -> Self {
        Piece {
            crc: Crc32c::new(),
            entries: 0,
            first_key: None,
            last_key: None,
        }
    }
}

fn hash_entries<'a>(bucket: &[u8], it: Iter<'a>) -> Result<Piece<'a>> {
    let mut p = Piece::new();
    for e in it {
        let e: Entry<'a> = e?;
        let page = e.page.unwrap_or(0);
        match p.last_key {
            Some(prev) if e.key <= prev => {
                return Err(Error::KeyOrder {
                    bucket: escape_bytes(bucket),
                    key: escape_bytes(e.key),
                    page,
                });
            }
            Some(_) => {}
            None => p.first_key = Some((e.key, page)),
        }
        p.last_key = Some(e.key);
        // Key then value, which the page stores side by side: one update. A sub-bucket entry
        // contributes its key only (Go hands etcd a nil value for it).
        p.crc
            .update(if e.is_bucket() { e.key } else { e.key_value });
        p.entries += 1;
    }
    Ok(p)
}

/// Hashes one bucket's entries on up to `threads` threads.
fn hash_bucket<'a>(name: &[u8], bucket: &Bucket<'a>, threads: usize) -> Result<Piece<'a>> {
    let pieces = scan::run_parts(scan::parts(bucket, threads), threads, |_, it| {
        hash_entries(name, it)
    });
    let mut total = Piece::new();
    for piece in pieces {
        let piece = piece?;
        if let (Some(prev), Some((first, page))) = (total.last_key, piece.first_key)
            && first <= prev
        {
            return Err(Error::KeyOrder {
                bucket: escape_bytes(name),
                key: escape_bytes(first),
                page,
            });
        }
        total.crc.append(&piece.crc);
        total.entries += piece.entries;
        total.first_key = total.first_key.or(piece.first_key);
        total.last_key = piece.last_key.or(total.last_key);
    }
    Ok(total)
}

/// Computes the status of `snap`, hashing on up to `threads` threads.
pub fn status(snap: &Snapshot, threads: usize) -> Result<Status> {
    let db = snap.db();
    let mut crc = Crc32c::new();
    let mut total_key = 0u64;
    let mut revision = 0i64;
    for (name, bucket) in db.buckets()? {
        crc.update(name);
        let piece = hash_bucket(name, &bucket, threads)?;
        crc.append(&piece.crc);
        total_key += piece.entries;
        if name == buckets::KEY
            && let Some(last) = piece.last_key
        {
            revision = main_of(last).map_or(0, |m| m as i64);
        }
    }
    Ok(Status {
        hash: crc.value(),
        revision,
        total_key,
        total_size: db.size(),
    })
}
