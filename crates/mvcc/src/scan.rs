//! One checked walk over the `key` bucket, shared by the index, the keyspace and hashkv.
//!
//! Every consumer needs the same three things from an entry: its revision (parsed and checked),
//! its user key (decoded in place from the protobuf), and the record itself (borrowed). Doing
//! the checks here means a damaged key bucket yields the same typed error, naming the page and
//! revision, whatever command hit it. The walk can be split by the bucket root's children and
//! run on several threads; results come back in key (= revision) order.

use std::hash::{BuildHasherDefault, Hasher};

use etcdsnap_bbolt::{Bucket, Entry, Iter, error::escape_bytes};

use crate::error::{Error, Result};
use crate::proto::KeyValueRef;
use crate::revision::RevKey;

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
    /// The leaf page the entry sits on (0 inside an inline bucket).
    pub page: u64,
}

/// Parses and decodes one bucket entry. `prev` is the previous raw key of the same walk, for
/// the order check.
#[inline]
pub(crate) fn check_entry<'a>(e: Entry<'a>, prev: Option<&[u8]>) -> Result<KeyEntry<'a>> {
    let page = e.page.unwrap_or(0);
    if let Some(p) = prev
        && e.key <= p
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
        page,
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
