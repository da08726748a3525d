//! The revision index: every stored revision of every user key, grouped by key, rebuilt in one
//! pass over the `key` bucket.
//!
//! etcd keeps this index in memory (`treeIndex`: per key, generations of revisions split at
//! tombstones) and rebuilds it from the `key` bucket when it starts; the file alone cannot
//! answer "which revisions does key K have" without it, because the bucket is ordered by
//! revision and the user key lives inside each value. [`RevIndex::build`] walks the bucket
//! once, in revision order, and keeps per revision only a [`Rev`]: the revision, the tombstone
//! flag, the value's length and the record borrowed from the map (32 bytes, no copy of keys or
//! values). Keys are numbered as they first appear (`KeyTable`), sorted
//! once, and the revisions grouped by key with an in-place bucket sort on the key's rank (no
//! comparison sort of every revision), so range queries are binary searches over a flat
//! vector rather than walks of a tree of owned keys. On several cores each thread walks the
//! bucket keeping the keys of its hash shard and groups them; the shards' keys, disjoint and
//! each in key order, are merged, and each key's slot names the shard whose vector holds its
//! revisions (no revision is copied: on a million small revisions `audit --history` went from
//! 4.6x to 3.5x the read floor).
//!
//! Use it when history matters (`history`, a diff between two revisions, per-key statistics).
//! When only the keyspace at one revision is wanted, [`crate::keyspace::keyspace_at`] is
//! cheaper: it keeps one entry per key and stops at the requested revision.

use crate::error::{Error, Result};
use crate::keyspace::{KeyRev, Keyspace, merge_runs, resolve_read};
use crate::keytable::KeyTable;
use crate::proto::KeyValueRef;
use crate::range::KeyRange;
use crate::revision::{RevKey, Revision};
use crate::scan::{self, KeyEntry};
use crate::snapshot::{Snapshot, StoreRevisions, buckets};

/// The tombstone flag, stored in the top bit of the sub revision.
const TOMBSTONE: u32 = 1 << 31;

/// One stored revision of a user key: its place in history and its record, borrowed from the
/// file. 32 bytes.
#[derive(Clone, Copy)]
pub struct Rev<'a> {
    record: &'a [u8],
    main: i64,
    /// Sub revision, [`TOMBSTONE`] in the top bit.
    sub: u32,
    /// The length of the value (0 for a tombstone); the builder borrows it for the key's
    /// number while it groups revisions, and puts the length back.
    aux: u32,
}

impl PartialEq for Rev<'_> {
    fn eq(&self, other: &Self) -> bool {
        // `aux` is derived from `record`.
        self.main == other.main && self.sub == other.sub && self.record == other.record
    }
}

impl Eq for Rev<'_> {}

impl std::fmt::Debug for Rev<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Rev")
            .field("main", &self.main)
            .field("sub", &self.sub())
            .field("tombstone", &self.is_tombstone())
            .field("record_len", &self.record.len())
            .finish()
    }
}

impl<'a> Rev<'a> {
    /// The revision of a checked bucket entry. Sub revisions above 2^31 (a single transaction
    /// with two billion changes) and values of 4 GiB or more are refused rather than
    /// truncated.
    #[inline]
    pub(crate) fn from_entry(e: &KeyEntry<'a>) -> Result<Rev<'a>> {
        let sub = u32::try_from(e.rev.rev.sub)
            .ok()
            .filter(|s| s & TOMBSTONE == 0)
            .ok_or(Error::TooLarge {
                what: "sub revision",
                value: e.rev.rev.sub as u64,
            })?;
        Ok(Rev {
            record: e.record,
            main: e.rev.rev.main,
            sub: if e.rev.tombstone {
                sub | TOMBSTONE
            } else {
                sub
            },
            aux: u32::try_from(e.kv.value.len()).map_err(|_| Error::TooLarge {
                what: "value length",
                value: e.kv.value.len() as u64,
            })?,
        })
    }

    /// The length of the value (0 for a tombstone), known without decoding the record again:
    /// what per-revision accounting (`stats`) needs of an older revision, which would
    /// otherwise cost a read of a distant part of the file per revision.
    #[inline]
    pub fn value_len(&self) -> usize {
        self.aux as usize
    }

    /// The store revision of the change.
    #[inline]
    pub fn main(&self) -> i64 {
        self.main
    }

    /// The index of the change inside its transaction.
    #[inline]
    pub fn sub(&self) -> i64 {
        i64::from(self.sub & !TOMBSTONE)
    }

    /// `(main, sub)`.
    #[inline]
    pub fn revision(&self) -> Revision {
        Revision {
            main: self.main,
            sub: self.sub(),
        }
    }

    /// True for a deletion.
    #[inline]
    pub fn is_tombstone(&self) -> bool {
        self.sub & TOMBSTONE != 0
    }

    /// The raw `mvccpb.KeyValue` record, borrowed from the file.
    #[inline]
    pub fn record(&self) -> &'a [u8] {
        self.record
    }

    /// Decodes the record (checked once already when the entry was scanned).
    pub fn decode(&self) -> Result<KeyValueRef<'a>> {
        KeyValueRef::decode(self.record).map_err(|w| Error::BadKeyValue {
            rev: self.revision(),
            page: 0,
            reason: w.to_string(),
        })
    }
}

/// Where one key's revisions sit in [`RevIndex`]: which shard's flat vector, and where in it.
#[derive(Clone, Copy, Debug)]
struct KeySlot<'a> {
    key: &'a [u8],
    part: u32,
    start: u32,
    len: u32,
}

/// Every stored revision of every user key, grouped by key (keys in byte order, revisions in
/// revision order).
#[derive(Debug)]
pub struct RevIndex<'a> {
    keys: Vec<KeySlot<'a>>,
    /// The revisions of each shard of the keys, grouped by key (one vector per shard: the
    /// shards' keys are merged, their revisions stay where they were grouped).
    revs: Vec<Vec<Rev<'a>>>,
    store: StoreRevisions,
}

/// One key's stored revisions, oldest first.
#[derive(Clone, Copy, Debug)]
pub struct KeyHistory<'i, 'a> {
    key: &'a [u8],
    revs: &'i [Rev<'a>],
}

impl<'i, 'a> KeyHistory<'i, 'a> {
    /// The user key.
    pub fn key(&self) -> &'a [u8] {
        self.key
    }

    /// Every stored revision, oldest first.
    pub fn revisions(&self) -> &'i [Rev<'a>] {
        self.revs
    }

    /// The newest revision with `main <= rev` (a put or a tombstone), if any.
    pub fn at(&self, rev: i64) -> Option<Rev<'a>> {
        let n = self.revs.partition_point(|r| r.main <= rev);
        n.checked_sub(1).and_then(|i| self.revs.get(i)).copied()
    }

    /// The put that is the key's value at `rev`; `None` when the key does not exist then.
    pub fn live_at(&self, rev: i64) -> Option<Rev<'a>> {
        self.at(rev).filter(|r| !r.is_tombstone())
    }

    /// The key's generations: runs of revisions each closed by a tombstone, except possibly
    /// the last (the key's current life).
    pub fn generations(&self) -> impl Iterator<Item = &'i [Rev<'a>]> + use<'i, 'a> {
        self.revs.split_inclusive(|r| r.is_tombstone())
    }
}

/// The revisions of a walk as they come, before grouping: keys numbered in order of first
/// sight, per key id its number of revisions, per revision (walk order) its value length,
/// while `aux` holds the key id.
#[derive(Default)]
struct Collector<'a> {
    table: KeyTable<'a>,
    counts: Vec<u32>,
    lens: Vec<u32>,
    revs: Vec<Rev<'a>>,
}

impl<'a> Collector<'a> {
    /// Takes the next revision (walk order) of `key`, whose [`KeyTable::hash`] is `hash`.
    fn push(&mut self, hash: u64, key: &'a [u8], mut rev: Rev<'a>) -> Result<()> {
        if self.revs.len() >= u32::MAX as usize {
            return Err(Error::TooLarge {
                what: "key bucket entries",
                value: self.revs.len() as u64,
            });
        }
        let (id, new) = self.table.intern(hash, key)?;
        if new {
            self.counts.push(1);
        } else if let Some(c) = self.counts.get_mut(id as usize) {
            *c += 1;
        }
        self.lens.push(rev.aux);
        rev.aux = id;
        self.revs.push(rev);
        Ok(())
    }

    /// The revisions grouped by key, keys in byte order, each key's in revision order.
    fn group(self) -> Shard<'a> {
        let Collector {
            table,
            counts,
            lens,
            mut revs,
        } = self;
        let keys = table.into_keys();
        // Number the keys in byte order (rank), then group the revisions by rank with an
        // in-place bucket sort (American flag sort: each revision is moved at most once,
        // its value length with it), instead of a comparison sort of every revision.
        let mut order: Vec<u32> = (0..keys.len() as u32).collect();
        order.sort_unstable_by(|&a, &b| keys[a as usize].cmp(keys[b as usize]));
        let mut rank = vec![0u32; keys.len()];
        for (r, &id) in order.iter().enumerate() {
            rank[id as usize] = r as u32;
        }
        // Where each rank's revisions start, and the next free place in each.
        let mut starts: Vec<u32> = Vec::with_capacity(keys.len() + 1);
        let mut total = 0u32;
        for &id in &order {
            starts.push(total);
            total += counts[id as usize];
        }
        starts.push(total);
        drop(counts);
        for r in &mut revs {
            r.aux = rank[r.aux as usize];
        }
        drop(rank);
        let mut lens = lens;
        let mut next: Vec<u32> = starts[..keys.len()].to_vec();
        for k in 0..keys.len() {
            let end = starts[k + 1] as usize;
            let mut i = next[k] as usize;
            while i < end {
                let t = revs[i].aux as usize;
                if t == k {
                    i += 1;
                    next[k] = i as u32;
                } else {
                    let j = next[t] as usize;
                    next[t] += 1;
                    revs.swap(i, j);
                    lens.swap(i, j);
                }
            }
        }
        drop(next);
        // The bucket sort does not keep walk order inside a key: each key's few revisions
        // are put back in revision order ((main, sub) is unique per revision), and `aux`
        // becomes the value length again.
        for (r, len) in revs.iter_mut().zip(&lens) {
            r.aux = *len;
        }
        drop(lens);
        let mut slots: Vec<KeySlot<'a>> = Vec::with_capacity(keys.len());
        for (k, &id) in order.iter().enumerate() {
            let (start, end) = (starts[k], starts[k + 1]);
            if let Some(group) = revs.get_mut(start as usize..end as usize)
                && !group.is_sorted_by_key(|r| (r.main, r.sub & !TOMBSTONE))
            {
                group.sort_unstable_by_key(|r| (r.main, r.sub & !TOMBSTONE));
            }
            slots.push(KeySlot {
                key: keys[id as usize],
                part: 0,
                start,
                len: end - start,
            });
        }
        (slots, revs)
    }
}

/// One shard's keys (in byte order, each slot's `start` in the shard's revisions) and its
/// revisions grouped by key.
type Shard<'a> = (Vec<KeySlot<'a>>, Vec<Rev<'a>>);

/// Revisions grouped by key (keys in byte order): a [`RevIndex`] without its store facts.
struct Grouped<'a> {
    keys: Vec<KeySlot<'a>>,
    revs: Vec<Vec<Rev<'a>>>,
}

impl<'a> Grouped<'a> {
    /// Shards with disjoint keys, each grouped by [`Collector::group`], merged: their keys in
    /// one list in byte order, each slot naming its shard; the revisions are not moved.
    fn merge(shards: Vec<Shard<'a>>) -> Grouped<'a> {
        let mut runs: Vec<Vec<KeySlot<'a>>> = Vec::with_capacity(shards.len());
        let mut revs = Vec::with_capacity(shards.len());
        for (part, (mut keys, r)) in shards.into_iter().enumerate() {
            for k in &mut keys {
                k.part = part as u32;
            }
            runs.push(keys);
            revs.push(r);
        }
        Grouped {
            keys: merge_runs(runs, |k| k.key),
            revs,
        }
    }
}

impl<'a> RevIndex<'a> {
    /// Builds the index of every key in one pass over the `key` bucket, on every core.
    pub fn build(snap: &'a Snapshot) -> Result<RevIndex<'a>> {
        let cores = std::thread::available_parallelism().map_or(1, |n| n.get());
        RevIndex::build_in(snap, &KeyRange::all(), cores)
    }

    /// Builds the index of the keys in `range` only, in one pass over the `key` bucket that
    /// decodes no record of another key: one key's history costs a walk over the bucket's
    /// bytes, not an index of the whole store. The store's revisions are still the whole
    /// store's. `threads` share the walk: for a narrow range over consecutive parts of the
    /// bucket; for every key as shards of the keys (each thread walks the whole bucket, keeps
    /// the keys whose hash falls in its shard, and groups them; the shards' sorted keys are
    /// merged at the end), as `keyspace::newest_per_key` does.
    pub fn build_in(snap: &'a Snapshot, range: &KeyRange, threads: usize) -> Result<RevIndex<'a>> {
        let meta = snap.meta_info()?;
        let bucket = snap.required(buckets::KEY)?;
        let cores = std::thread::available_parallelism().map_or(1, |n| n.get());
        let shards = threads.clamp(1, cores);
        let (grouped, last_raw) = if range.is_everything() && shards > 1 {
            let results = scan::run_parts(
                (0..shards).map(|_| bucket.iter()).collect(),
                shards,
                |shard, it| -> Result<(Shard<'a>, Option<&'a [u8]>)> {
                    let mut c = Collector::default();
                    let seam = scan::walk_shard(it, i64::MAX, None, (shard, shards), |e, h| {
                        c.push(h, e.kv.key, Rev::from_entry(&e)?)
                    })?;
                    Ok((c.group(), seam.1))
                },
            );
            let mut groups = Vec::with_capacity(shards);
            let mut last_raw = None;
            for r in results {
                let (g, last) = r?;
                groups.push(g);
                last_raw = last_raw.or(last);
            }
            (Grouped::merge(groups), last_raw)
        } else if range.is_everything() {
            // The full index keeps every record, even the empty-key marker of a restore's
            // --bump-revision, which no range holds.
            let mut c = Collector::default();
            let seam = scan::walk_in(bucket.iter(), range, i64::MAX, |e| {
                c.push(KeyTable::hash(e.kv.key), e.kv.key, Rev::from_entry(&e)?)
            })?;
            (Grouped::merge(vec![c.group()]), seam.1)
        } else {
            // A narrow range: the walk is the whole cost, so it runs on every thread over
            // consecutive parts of the bucket; the few records found are joined in order.
            let parts = scan::parts(&bucket, threads);
            let found = scan::run_parts(parts, threads, |_, it| {
                let mut found: Vec<(&'a [u8], Rev<'a>)> = Vec::new();
                let seam = scan::walk_in(it, range, i64::MAX, |e| {
                    if range.contains(e.kv.key) {
                        found.push((e.kv.key, Rev::from_entry(&e)?));
                    }
                    Ok(())
                });
                seam.map(|seam| (found, seam))
            });
            let mut c = Collector::default();
            let mut prev_last: Option<&'a [u8]> = None;
            for part in found {
                let (found, (first, last)) = part?;
                scan::check_seam(prev_last, first)?;
                prev_last = last.or(prev_last);
                for (key, rev) in found {
                    c.push(KeyTable::hash(key), key, rev)?;
                }
            }
            (Grouped::merge(vec![c.group()]), prev_last)
        };
        // The newest main revision of the store is the last bucket key's, whichever key it
        // belongs to (the walk checked every bucket key's form).
        let last_main = last_raw.and_then(RevKey::parse).map(|k| k.rev.main);
        Ok(RevIndex {
            keys: grouped.keys,
            revs: grouped.revs,
            store: StoreRevisions::compute(&meta, last_main),
        })
    }

    /// The store's compaction and current revisions.
    pub fn store(&self) -> StoreRevisions {
        self.store
    }

    /// Number of distinct user keys (live or deleted).
    pub fn key_count(&self) -> usize {
        self.keys.len()
    }

    /// Number of stored revisions (entries of the `key` bucket).
    pub fn revision_count(&self) -> usize {
        self.revs.iter().map(Vec::len).sum()
    }

    fn history(&self, slot: &KeySlot<'a>) -> KeyHistory<'_, 'a> {
        let start = slot.start as usize;
        let end = start.saturating_add(slot.len as usize);
        KeyHistory {
            key: slot.key,
            revs: self
                .revs
                .get(slot.part as usize)
                .and_then(|r| r.get(start..end))
                .unwrap_or_default(),
        }
    }

    /// Every key's history, keys in byte order.
    pub fn keys(&self) -> impl ExactSizeIterator<Item = KeyHistory<'_, 'a>> + '_ {
        self.keys.iter().map(|s| self.history(s))
    }

    /// The history of exactly `key`.
    pub fn get(&self, key: &[u8]) -> Option<KeyHistory<'_, 'a>> {
        let i = self.keys.binary_search_by(|s| s.key.cmp(key)).ok()?;
        self.keys.get(i).map(|s| self.history(s))
    }

    /// The histories of the keys in `range`, in byte order.
    pub fn range<'s>(
        &'s self,
        range: &'s KeyRange,
    ) -> impl Iterator<Item = KeyHistory<'s, 'a>> + 's {
        let first = self.keys.partition_point(|s| s.key < range.start());
        self.keys[first..]
            .iter()
            .take_while(move |s| !range.is_past(s.key))
            .filter(move |s| range.contains(s.key))
            .map(move |s| self.history(s))
    }

    /// The keyspace at `rev` (0 = current) restricted to `range`, with etcd's checks
    /// ([`Error::Compacted`] below the compaction, [`Error::FutureRevision`] past the store).
    pub fn keyspace_at(&self, rev: i64, range: &KeyRange) -> Result<Keyspace<'a>> {
        let at = resolve_read(&self.store, rev)?;
        let kvs = self
            .range(range)
            .filter_map(|h| h.live_at(at).map(|rev| KeyRev { key: h.key(), rev }))
            .collect();
        Ok(Keyspace {
            revision: at,
            store: self.store,
            kvs,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rev_is_compact() {
        assert_eq!(std::mem::size_of::<Rev<'static>>(), 32);
    }
}
