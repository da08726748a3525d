//! `etcdutl snapshot status`: hash, revision, total keys and total size, computed as etcd
//! computes them (see `docs/format.md`).
//!
//! The hash is one CRC-32C over every bucket name, key and value in order. CRC-32C values
//! combine (`crc(A||B)` from `crc(A)`, `crc(B)` and `len(B)`), so the `key` bucket, which is
//! nearly the whole file, is split by its root's children and hashed on several threads; the
//! pieces are combined in order, which keeps the result exactly etcd's.
//!
//! [`status_with`] follows a given etcd's rules: 3.5 counts every entry of every bucket and
//! reads only the first 17 bytes of each revision key (etcdutl 3.5 panics on shorter ones);
//! 3.6 and 3.7 count the distinct live user keys (a put adds its key, a tombstone removes it),
//! refuse revision keys etcd's `BytesToBucketKey` refuses and values that do not decode as
//! `mvccpb.KeyValue` (gogo rules in 3.6, protobuf-go rules in 3.7), and report the storage
//! version. Live keys are tracked per part (the last operation on each key wins) and merged in
//! part order, so the count is exact on any number of threads.

use etcdsnap_bbolt::ledger::Ledger;
use etcdsnap_bbolt::{Bucket, Entry, Iter, PagesSeen, error::escape_bytes};

use crate::crc::Crc32c;
use crate::error::{Error, Result};
use crate::revision::{main_of, not_after};
use crate::scan;
use crate::snapshot::{Snapshot, buckets};
use crate::versions::{self, EtcdVersion, GoSemver};

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
    /// Entries that are nested buckets (etcd has none; bbolt's check walks into them).
    nested: u64,
    first_key: Option<(&'a [u8], u64)>,
    last_key: Option<&'a [u8]>,
    /// The file's bytes, and the run of them (offsets) not yet fed to the CRC: bbolt packs a
    /// page's keys and values side by side in entry order, so the entries of a page are
    /// hashed in one update instead of one per entry. The bytes fed are the same.
    data: &'a [u8],
    run: (usize, usize),
}

impl<'a> Piece<'a> {
    /// A piece whose entries borrow from `data` (the file's bytes; empty for a piece that is
    /// only combined into).
    fn new(data: &'a [u8]) -> Self {
        Piece {
            crc: Crc32c::new(),
            entries: 0,
            nested: 0,
            first_key: None,
            last_key: None,
            data,
            run: (0, 0),
        }
    }

    /// Feeds `bytes` to the CRC: appended to the pending run when they follow it in the file.
    #[inline]
    fn feed(&mut self, bytes: &'a [u8]) {
        let at = (bytes.as_ptr() as usize).wrapping_sub(self.data.as_ptr() as usize);
        let end = at
            .checked_add(bytes.len())
            .filter(|&e| e <= self.data.len());
        if let (true, Some(end)) = (at == self.run.1, end) {
            self.run.1 = end;
            return;
        }
        self.flush();
        match end {
            Some(end) => self.run = (at, end),
            None => self.crc.update(bytes),
        }
    }

    /// Feeds the pending run (always inside `data`: `feed` keeps it so); the CRC is then
    /// complete.
    fn flush(&mut self) {
        let (start, end) = std::mem::take(&mut self.run);
        self.crc.update(&self.data[start..end]);
    }

    /// Takes the next entry of the walk: the order check (strictly ascending keys, the first
    /// one remembered for the seam between parts), then the CRC over key and value, which the
    /// page stores side by side: one update. A sub-bucket entry contributes its key only (Go
    /// hands etcd a nil value for it).
    #[inline]
    fn add(&mut self, bucket: &[u8], e: &Entry<'a>, page: u64) -> Result<()> {
        match self.last_key {
            Some(prev) if not_after(e.key, prev) => {
                return Err(Error::KeyOrder {
                    bucket: escape_bytes(bucket),
                    key: escape_bytes(e.key),
                    page,
                });
            }
            Some(_) => {}
            None => self.first_key = Some((e.key, page)),
        }
        self.last_key = Some(e.key);
        self.feed(if e.is_bucket() { e.key } else { e.key_value });
        self.entries += 1;
        self.nested += u64::from(e.is_bucket());
        Ok(())
    }
}

fn hash_entries<'a>(bucket: &[u8], data: &'a [u8], it: &mut Iter<'a>) -> Result<Piece<'a>> {
    let mut p = Piece::new(data);
    for e in it {
        let e: Entry<'a> = e?;
        let page = e.page.unwrap_or(0);
        if bucket == buckets::KEY && e.key.len() < 17 {
            // etcdutl 3.5's bytesToRev reads bytes [0:8] and [9:17] of every key of the
            // `key` bucket: a shorter key is a Go panic (index out of range), not a status.
            return Err(Error::Refused {
                message: format!(
                    "etcdutl 3.5 panics on this file: key {} of bucket \"key\" (page {page}) is {} bytes, shorter than a revision (17)",
                    escape_bytes(e.key),
                    e.key.len()
                ),
                key: escape_bytes(e.key),
            });
        }
        p.add(bucket, &e, page)?;
    }
    p.flush();
    Ok(p)
}

/// Hashes one bucket's entries on up to `threads` threads; with `track`, also returns the
/// pages each part entered (see `etcdsnap_bbolt::ledger`).
fn hash_bucket<'a>(
    name: &[u8],
    bucket: &Bucket<'a>,
    threads: usize,
    track: bool,
) -> Result<(Piece<'a>, Vec<PagesSeen>)> {
    let parts = scan::parts(bucket, threads)
        .into_iter()
        .map(|it| if track { it.track_pages() } else { it })
        .collect();
    let pieces = scan::run_parts(parts, threads, |_, mut it| {
        let piece = hash_entries(name, bucket.db().data(), &mut it);
        (piece, if track { Some(it.into_pages()) } else { None })
    });
    let mut total = Piece::new(&[]);
    let mut seen = Vec::new();
    for (piece, pages) in pieces {
        let piece = piece?;
        seen.extend(pages);
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
        total.nested += piece.nested;
        total.first_key = total.first_key.or(piece.first_key);
        total.last_key = piece.last_key.or(total.last_key);
    }
    Ok((total, seen))
}

/// Computes the status of `snap`, hashing on up to `threads` threads.
pub fn status(snap: &Snapshot, threads: usize) -> Result<Status> {
    let db = snap.db();
    let mut crc = Crc32c::new();
    let mut total_key = 0u64;
    let mut revision = 0i64;
    for (name, bucket) in db.buckets()? {
        crc.update(name);
        let (piece, _) = hash_bucket(name, &bucket, threads, false)?;
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

/// [`status`] together with the proof that bbolt's check, which etcdutl 3.5 runs first (and
/// which `etcdsnap_bbolt::check::check_pages` reproduces), would pass: one walk of the tree
/// instead of two. The hash walk enters every page and reads every entry; the
/// `etcdsnap_bbolt::ledger` adds up the pages it entered with the freelist's. `None` when
/// that proof fails or anything on the way does not read cleanly (a damaged page, a nested
/// bucket, a short revision key): the caller then runs the check and [`status`], which say
/// what is wrong in etcdutl's words. Never a different answer, only a faster one.
pub fn status_if_sound(snap: &Snapshot, threads: usize) -> Option<Status> {
    let db = snap.db();
    let mut ledger = Ledger::new(db);
    if !ledger.is_sound() {
        return None;
    }
    // The root bucket's entries, as `Db::buckets` reads them, with its pages recorded.
    let mut root = db.root().iter().track_pages();
    let mut list = Vec::new();
    let mut inline = 0u64;
    for e in root.by_ref() {
        let e = e.ok()?;
        if !e.is_bucket() {
            return None;
        }
        let bucket = Bucket::from_value(db, e.key, e.value).ok()?;
        inline += u64::from(bucket.is_inline());
        list.push((e.key, bucket));
    }
    // bbolt's check stops at more inline buckets than the file could hold (crafted files).
    if inline > db.data().len() as u64 / 32 {
        return None;
    }
    ledger.add(vec![root.into_pages()], None);
    let mut crc = Crc32c::new();
    let mut total_key = 0u64;
    let mut revision = 0i64;
    for (name, bucket) in list {
        crc.update(name);
        let (piece, seen) = hash_bucket(name, &bucket, threads, true).ok()?;
        if piece.nested > 0 {
            return None;
        }
        ledger.add(seen, bucket.root_page());
        crc.append(&piece.crc);
        total_key += piece.entries;
        if name == buckets::KEY
            && let Some(last) = piece.last_key
        {
            revision = main_of(last).map_or(0, |m| m as i64);
        }
    }
    ledger.passes_check(db).then(|| Status {
        hash: crc.value(),
        revision,
        total_key,
        total_size: db.size(),
    })
}

/// Whose `snapshot status` to compute.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Rules {
    /// etcdutl 3.5 (and etcdctl 3.4): every entry counts; revision keys need 17 bytes.
    Etcd35,
    /// etcdutl 3.6: live keys; strict revision keys; gogo `KeyValue.Unmarshal`.
    Etcd36,
    /// etcdutl 3.7: as 3.6, values decoded by protobuf-go's `proto.Unmarshal`.
    Etcd37,
}

impl Rules {
    /// The rules of etcd `v`'s etcdutl (3.4 and 3.5 share them).
    pub fn of(v: EtcdVersion) -> Rules {
        if v.at_least(3, 7) {
            Rules::Etcd37
        } else if v.at_least(3, 6) {
            Rules::Etcd36
        } else {
            Rules::Etcd35
        }
    }
}

/// `snapshot status` under a given etcd's rules.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct VersionedStatus {
    /// Hash, revision, total keys (per the rules), total size.
    pub status: Status,
    /// 3.6+: `meta/storageVersion` parsed and printed as etcd does; empty when absent or
    /// unparsable. `None` under 3.5 rules (no such field).
    pub version: Option<String>,
}

/// Why etcdutl `BytesToBucketKey` (3.6, 3.7) panics on a revision key, in its words.
fn bucket_key_problem(k: &[u8]) -> Option<String> {
    if k.len() != 17 && k.len() != 18 {
        return Some(format!("invalid revision length: {}", k.len()));
    }
    if k[8] != b'_' {
        return Some(format!(
            "invalid separator in bucket key: {}",
            versions::go_quote_rune(k[8])
        ));
    }
    let main = i64::from_be_bytes(k[0..8].try_into().ok()?);
    let sub = i64::from_be_bytes(k[9..17].try_into().ok()?);
    if main < 0 || sub < 0 {
        return Some(format!("negative revision: main={main} sub={sub}"));
    }
    None
}

/// One part of the key bucket under 3.6+ rules: the CRC piece and each key's last operation,
/// keyed by the key's 128-bit xxh3 fingerprint. Comparing fingerprints instead of keys keeps
/// the map off the file's pages (a key compared in place is a cache miss on an old page: the
/// map took four times the CRC's time); two of 10^9 distinct keys share a fingerprint with a
/// probability below 10^-20.
struct LivePiece<'a> {
    piece: Piece<'a>,
    last_op: FingerprintMap<bool>,
}

/// A map keyed by 128-bit key fingerprints (already uniform: the hasher only folds them).
type FingerprintMap<V> =
    std::collections::HashMap<u128, V, std::hash::BuildHasherDefault<FoldHasher>>;

/// Folds a u128 fingerprint to 64 bits.
#[derive(Default)]
struct FoldHasher(u64);

impl std::hash::Hasher for FoldHasher {
    fn finish(&self) -> u64 {
        self.0
    }

    fn write(&mut self, bytes: &[u8]) {
        for c in bytes.chunks(8) {
            let mut w = [0u8; 8];
            w[..c.len()].copy_from_slice(c);
            self.0 ^= u64::from_le_bytes(w);
        }
    }

    fn write_u128(&mut self, n: u128) {
        self.0 = (n as u64) ^ ((n >> 64) as u64);
    }
}

fn refused(k: &[u8], what: String) -> Error {
    Error::Refused {
        message: format!("error during bucket key iteration, name: \"key\" err: {what}",),
        key: escape_bytes(k),
    }
}

fn hash_key_entries_36<'a>(data: &'a [u8], it: Iter<'a>, rules: Rules) -> Result<LivePiece<'a>> {
    let mut lp = LivePiece {
        piece: Piece::new(data),
        last_op: FingerprintMap::default(),
    };
    let p = &mut lp.piece;
    for e in it {
        let e: Entry<'a> = e?;
        let page = e.page.unwrap_or(0);
        p.add(buckets::KEY, &e, page)?;
        if let Some(why) = bucket_key_problem(e.key) {
            return Err(refused(
                e.key,
                format!(
                    "cannot parse revision key: {} err: {why}",
                    versions::go_quote(e.key)
                ),
            ));
        }
        // Go's ForEach hands a nested bucket's entry a nil value: an empty KeyValue.
        let value: &[u8] = if e.is_bucket() { &[] } else { e.value };
        let key = match rules {
            Rules::Etcd37 => versions::decode_key_protobuf_go(value),
            _ => crate::proto::KeyValueRef::decode_key(value),
        }
        .map_err(|w| {
            refused(
                e.key,
                format!(
                    "cannot unmarshal value, key: {} value: {} err: {w}",
                    versions::go_quote(e.key),
                    versions::go_quote(value)
                ),
            )
        })?;
        let tombstone = e.key.len() == 18 && e.key[17] == b't';
        lp.last_op
            .insert(xxhash_rust::xxh3::xxh3_128(key), !tombstone);
    }
    lp.piece.flush();
    Ok(lp)
}

/// Computes the status of `snap` under `rules`, hashing on up to `threads` threads.
pub fn status_with(snap: &Snapshot, threads: usize, rules: Rules) -> Result<VersionedStatus> {
    if rules == Rules::Etcd35 {
        return Ok(VersionedStatus {
            status: status(snap, threads)?,
            version: None,
        });
    }
    let db = snap.db();
    // ReadStorageVersionFromSnapshot: tx.Bucket(meta).Get(...) (a nil bucket panics).
    let meta = snap.optional(buckets::META)?.ok_or(Error::Refused {
        message: "etcdutl 3.6+ panics on this file: it has no \"meta\" bucket to read the storage version from".into(),
        key: String::new(),
    })?;
    let version = meta
        .get(b"storageVersion")?
        .and_then(GoSemver::parse)
        .map_or_else(String::new, |v| v.to_string());
    let mut crc = Crc32c::new();
    let mut revision = 0i64;
    let mut live = 0u64;
    for (name, bucket) in db.buckets()? {
        crc.update(name);
        if name != buckets::KEY {
            let (piece, _) = hash_bucket(name, &bucket, threads, false)?;
            crc.append(&piece.crc);
            continue;
        }
        let parts = scan::run_parts(scan::parts(&bucket, threads), threads, |_, it| {
            hash_key_entries_36(bucket.db().data(), it, rules)
        });
        let mut total = Piece::new(&[]);
        let mut state: FingerprintMap<bool> = FingerprintMap::default();
        for lp in parts {
            let lp = lp?;
            let piece = lp.piece;
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
            total.last_key = piece.last_key.or(total.last_key);
            if state.is_empty() {
                state = lp.last_op;
            } else {
                state.extend(lp.last_op);
            }
        }
        crc.append(&total.crc);
        if let Some(last) = total.last_key {
            revision = main_of(last).map_or(0, |m| m as i64);
        }
        live = state.values().filter(|&&put| put).count() as u64;
    }
    Ok(VersionedStatus {
        status: Status {
            hash: crc.value(),
            revision,
            total_key: live,
            total_size: db.size(),
        },
        version: Some(version),
    })
}

/// go-humanize `Bytes` (SI units), as etcd prints sizes: `4.3 MB`, `20 kB`, `9 B`.
pub fn humanize_bytes(n: u64) -> String {
    const UNITS: [&str; 7] = ["B", "kB", "MB", "GB", "TB", "PB", "EB"];
    if n < 10 {
        return format!("{n} B");
    }
    let e = ((n as f64).ln() / 1000f64.ln()).floor() as i32;
    let unit = UNITS[e.clamp(0, 6) as usize];
    let k = ((n as f64 / 1000f64.powi(e)) * 10.0 + 0.5).floor() as u64;
    if k < 100 {
        format!("{}.{} {unit}", k / 10, k % 10)
    } else {
        // Go's %.0f of k/10: round half to even.
        let (q, r) = (k / 10, k % 10);
        let v = if r > 5 || (r == 5 && q % 2 == 1) {
            q + 1
        } else {
            q
        };
        format!("{v} {unit}")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_piece_hashes_what_it_is_fed_in_order_whether_side_by_side_or_not() {
        let data: Vec<u8> = (0..4096u32).map(|i| (i * 31 % 251) as u8).collect();
        let outside = b"not in the file".to_vec();
        // Side by side (pieces of 0 to 40 bytes), a gap, back to an earlier spot, bytes from
        // elsewhere, empty slices.
        let mut feeds: Vec<&[u8]> = Vec::new();
        let mut at = 0;
        for step in (0..).map(|i| i % 41) {
            if at + step > 3000 {
                break;
            }
            feeds.push(&data[at..at + step]);
            at += step;
        }
        feeds.extend([
            &data[3100..3200],
            &data[50..60],
            &outside[..],
            &data[60..4096],
        ]);
        feeds.push(&data[4096..]);
        let mut piece = Piece::new(&data);
        let mut plain = Crc32c::new();
        for f in &feeds {
            piece.feed(f);
            plain.update(f);
        }
        piece.flush();
        assert_eq!(piece.crc.value(), plain.value());
        assert_eq!(piece.crc.len(), plain.len());
    }
}
