//! One checked walk over the `key` bucket, shared by the index, the keyspace and hashkv.
//!
//! Every consumer needs the same three things from an entry: its revision (parsed and checked),
//! its user key (decoded in place from the protobuf), and the record itself (borrowed). Doing
//! the checks here means a damaged key bucket yields the same typed error, naming the page and
//! revision, whatever command hit it. The walk can be split by the bucket root's children and
//! run on several threads; results come back in key (= revision) order.

use std::cell::Cell;
use std::hash::{BuildHasherDefault, Hasher};

use etcdsnap_bbolt::{Bucket, Entry, Iter, error::escape_bytes};

use crate::error::{Error, Result};
use crate::keytable::KeyTable;
use crate::proto::KeyValueRef;
use crate::range::KeyRange;
use crate::revision::{RevKey, not_after};

/// One entry of the `key` bucket, checked.
#[derive(Debug, Clone, Copy)]
pub struct KeyEntry<'a> {
    /// The revision and tombstone flag from the bucket key.
    pub rev: RevKey,
    /// The raw bucket key (17 or 18 bytes).
    pub raw_key: &'a [u8],
    /// The raw record (an `mvccpb.KeyValue`).
    pub record: &'a [u8],
    /// The decoded record.
    pub kv: KeyValueRef<'a>,
}

/// Parses and decodes one bucket entry. `prev` is the previous raw key of the same walk, for
/// the order check.
#[inline]
pub(crate) fn check_entry<'a>(e: Entry<'a>, prev: Option<&[u8]>) -> Result<KeyEntry<'a>> {
    let (rev, page) = check_key(&e, prev)?;
    decode_entry(e, rev, page)
}

/// The cheap half of [`check_entry`]: the bucket key's order and form, no protobuf decoding.
#[inline]
fn check_key(e: &Entry<'_>, prev: Option<&[u8]>) -> Result<(RevKey, u64)> {
    let page = e.page.unwrap_or(0);
    if let Some(p) = prev
        && not_after(e.key, p)
    {
        return Err(Error::KeyOrder {
            bucket: "\"key\"".into(),
            key: escape_bytes(e.key),
            page,
        });
    }
    let rev = RevKey::parse(e.key).ok_or_else(|| Error::BadRevisionKey {
        key: escape_bytes(e.key),
        page,
    })?;
    if e.is_bucket() {
        return Err(Error::BadKeyValue {
            rev: rev.rev,
            page,
            reason: "the entry is a nested bucket, not a value".into(),
        });
    }
    Ok((rev, page))
}

/// The expensive half of [`check_entry`]: the record decoded.
#[inline]
fn decode_entry(e: Entry<'_>, rev: RevKey, page: u64) -> Result<KeyEntry<'_>> {
    let kv = KeyValueRef::decode(e.value).map_err(|w| Error::BadKeyValue {
        rev: rev.rev,
        page,
        reason: w.to_string(),
    })?;
    Ok(KeyEntry {
        rev,
        raw_key: e.key,
        record: e.value,
        kv,
    })
}

/// Walks `it`, checking every entry, until `f` returns false or the entries end. Returns the
/// last raw key seen.
pub(crate) fn walk<'a>(
    it: Iter<'a>,
    mut f: impl FnMut(KeyEntry<'a>) -> Result<bool>,
) -> Result<Option<&'a [u8]>> {
    let mut prev: Option<&'a [u8]> = None;
    for e in it {
        let e = check_entry(e?, prev)?;
        prev = Some(e.raw_key);
        if !f(e)? {
            break;
        }
    }
    Ok(prev)
}

/// The user key of a record written the way etcd writes every `KeyValue` (field 1 first), read
/// without decoding the rest; `None` for any other shape, which the caller then decodes in
/// full (and so reports if it is damaged).
#[inline]
pub(crate) fn peek_key(record: &[u8]) -> Option<&[u8]> {
    if record.first() != Some(&0x0a) {
        return None;
    }
    let mut len: u64 = 0;
    let mut pos = 1usize;
    for shift in (0..35).step_by(7) {
        let b = *record.get(pos)?;
        pos += 1;
        len |= u64::from(b & 0x7f) << shift;
        if b & 0x80 == 0 {
            let end = pos.checked_add(usize::try_from(len).ok()?)?;
            return record.get(pos..end);
        }
    }
    None
}

/// Where a walk began and ended: the first raw key (and its page) and the last, for the
/// order check across the seams of a split walk.
pub(crate) type Seam<'a> = (Option<(&'a [u8], u64)>, Option<&'a [u8]>);

/// [`walk`] restricted to the user keys in `range` and to main revisions up to `until`: every
/// bucket key is still checked for order and form, but a record whose user key (peeked with
/// [`peek_key`]) is outside the range is never decoded and never reaches `f`, and the walk
/// ends at the first revision past `until`. This is what makes one key's history or a narrow
/// prefix cost a pass over the bucket's bytes rather than a decode of every revision.
pub(crate) fn walk_in<'a>(
    it: Iter<'a>,
    range: &KeyRange,
    until: i64,
    f: impl FnMut(KeyEntry<'a>) -> Result<()>,
) -> Result<Seam<'a>> {
    if range.is_everything() {
        walk_where(it, until, None::<fn(&[u8]) -> bool>, f)
    } else {
        walk_where(it, until, Some(|k: &[u8]| range.contains(k)), f)
    }
}

/// [`walk_in`] with any predicate on the peeked user key (`None`: every record is decoded).
/// A record whose key cannot be peeked is decoded and handed to `f`, which must apply the
/// predicate itself to `e.kv.key` when it matters.
pub(crate) fn walk_where<'a>(
    it: Iter<'a>,
    until: i64,
    keep: Option<impl Fn(&[u8]) -> bool>,
    mut f: impl FnMut(KeyEntry<'a>) -> Result<()>,
) -> Result<Seam<'a>> {
    let mut first = None;
    let mut prev: Option<&'a [u8]> = None;
    for e in it {
        let e = e?;
        let (rev, page) = check_key(&e, prev)?;
        if first.is_none() {
            first = Some((e.key, page));
        }
        prev = Some(e.key);
        if rev.rev.main > until {
            break;
        }
        if let Some(keep) = &keep
            && !e.is_bucket()
            && let Some(k) = peek_key(e.value)
            && !keep(k)
        {
            continue;
        }
        f(decode_entry(e, rev, page)?)?;
    }
    Ok((first, prev))
}

/// [`walk_where`] over the records whose user key is in `range` (`None`: every key) and whose
/// hash ([`KeyTable::hash`]) falls in shard `shard` of `shards`, each handed to `f` with that
/// hash. Every shard walks the whole bucket and peeks at each record's key, so shards hold
/// disjoint keys and need no merge of per-key state; the hash of the key peeked serves both
/// the choice of shard and the caller's lookup, never computed twice for a record that passes.
pub(crate) fn walk_shard<'a>(
    it: Iter<'a>,
    until: i64,
    range: Option<&KeyRange>,
    (shard, shards): (usize, usize),
    mut f: impl FnMut(KeyEntry<'a>, u64) -> Result<()>,
) -> Result<Seam<'a>> {
    let outside = |k: &[u8]| range.is_some_and(|r| !r.contains(k));
    let peeked: Cell<(usize, u64)> = Cell::new((0, 0));
    let in_shard = |h: u64| shards <= 1 || ((h >> 32) % shards as u64) as usize == shard;
    let mine = |k: &[u8]| {
        if outside(k) {
            return false;
        }
        let h = KeyTable::hash(k);
        peeked.set((k.as_ptr() as usize, h));
        in_shard(h)
    };
    walk_where(it, until, Some(mine), |e| {
        let key = e.kv.key;
        let (p, h) = peeked.get();
        let h = if p == key.as_ptr() as usize {
            h
        } else {
            // A record whose key could not be peeked: checked here.
            if outside(key) {
                return Ok(());
            }
            let h = KeyTable::hash(key);
            if !in_shard(h) {
                return Ok(());
            }
            h
        };
        f(e, h)
    })
}

/// Splits `bucket` into consecutive parts for `threads` workers (a few parts per worker, so
/// uneven subtrees balance out).
pub(crate) fn parts<'a>(bucket: &Bucket<'a>, threads: usize) -> Vec<Iter<'a>> {
    if threads <= 1 {
        vec![bucket.iter()]
    } else {
        bucket.split(threads.saturating_mul(4))
    }
}

/// Runs `f` on every part, on up to `threads` threads, and returns the results in part order.
pub(crate) fn run_parts<'a, T: Send>(
    parts: Vec<Iter<'a>>,
    threads: usize,
    f: impl Fn(usize, Iter<'a>) -> T + Sync,
) -> Vec<T> {
    if threads <= 1 || parts.len() <= 1 {
        return parts
            .into_iter()
            .enumerate()
            .map(|(i, it)| f(i, it))
            .collect();
    }
    let n = parts.len();
    let queue = std::sync::Mutex::new(parts.into_iter().enumerate().rev().collect::<Vec<_>>());
    let mut done: Vec<(usize, T)> = std::thread::scope(|s| {
        let workers: Vec<_> = (0..threads.min(n))
            .map(|_| {
                s.spawn(|| {
                    let mut out = Vec::new();
                    loop {
                        let job = queue.lock().map(|mut q| q.pop()).unwrap_or(None);
                        let Some((i, it)) = job else { break };
                        out.push((i, f(i, it)));
                    }
                    out
                })
            })
            .collect();
        workers
            .into_iter()
            .flat_map(|w| w.join().unwrap_or_else(|p| std::panic::resume_unwind(p)))
            .collect()
    });
    done.sort_by_key(|(i, _)| *i);
    done.into_iter().map(|(_, t)| t).collect()
}

/// Checks the seam between two consecutive parts: the first key of a part must follow the last
/// key of the part before it.
pub(crate) fn check_seam(prev_last: Option<&[u8]>, first: Option<(&[u8], u64)>) -> Result<()> {
    if let (Some(p), Some((k, page))) = (prev_last, first)
        && k <= p
    {
        return Err(Error::KeyOrder {
            bucket: "\"key\"".into(),
            key: escape_bytes(k),
            page,
        });
    }
    Ok(())
}

/// A fast hasher for user keys (xxh3 over the bytes). The std default (SipHash) costs more
/// than the rest of a lookup on the hot path, and hash flooding is not a concern for a local
/// file read by its owner.
#[derive(Default, Clone, Copy)]
pub struct KeyHasher(u64);

impl Hasher for KeyHasher {
    #[inline]
    fn finish(&self) -> u64 {
        self.0
    }

    #[inline]
    fn write(&mut self, bytes: &[u8]) {
        self.0 = xxhash_rust::xxh3::xxh3_64_with_seed(bytes, self.0);
    }

    #[inline]
    fn write_usize(&mut self, n: usize) {
        self.0 = (self.0 ^ n as u64).wrapping_mul(0x9E37_79B9_7F4A_7C15);
    }
}

/// A `HashMap` keyed by borrowed user keys with [`KeyHasher`].
pub type KeyMap<'a, V> = std::collections::HashMap<&'a [u8], V, BuildHasherDefault<KeyHasher>>;
