//! The keyspace at one revision, and etcd's Range RPC over it.
//!
//! "The keyspace at R" is, for each user key, its newest stored revision with `main <= R`,
//! absent when that revision is a tombstone (compaction never removes that revision for a live
//! key, so this is exact for every `R >= compact`). Because the `key` bucket is in revision
//! order, one pass that remembers the newest entry per key and stops at the first revision
//! past R answers it without building the full history ([`keyspace_at`]); keys outside the
//! requested range are dropped as soon as their user key is decoded, so a narrow query keeps
//! almost nothing in memory. [`range`] then applies etcd's request semantics (count over the
//! whole range, sort, limit and `more`, keys-only, count-only) on top.

use crate::error::{Error, Result};
use crate::index::Rev;
use crate::keytable::KeyTable;
use crate::proto::KeyValueRef;
use crate::range::KeyRange;
use crate::scan::{self, KeyMap};
use crate::snapshot::{Snapshot, StoreRevisions, buckets};

/// A live key at some revision: the key and the put that holds its value then.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct KeyRev<'a> {
    /// The user key, borrowed from the file.
    pub key: &'a [u8],
    /// Its newest revision at the requested revision (never a tombstone).
    pub rev: Rev<'a>,
}

/// The live keys of a range at one revision.
#[derive(Clone, Debug)]
pub struct Keyspace<'a> {
    /// The revision read (the request's, or the current one for 0).
    pub revision: i64,
    /// The store's compaction and current revisions.
    pub store: StoreRevisions,
    /// The live keys, in key order unless the scan was asked not to sort.
    pub kvs: Vec<KeyRev<'a>>,
}

impl<'a> Keyspace<'a> {
    /// The live key-values, decoded lazily, in the order of `kvs` (key order when sorted):
    /// the input [`crate::diff::diff`] takes.
    pub fn key_values(&self) -> impl Iterator<Item = Result<KeyValueRef<'a>>> + '_ {
        self.kvs.iter().map(|kr| kr.rev.decode())
    }

    /// Number of live keys.
    pub fn len(&self) -> usize {
        self.kvs.len()
    }

    /// True when no key is live.
    pub fn is_empty(&self) -> bool {
        self.kvs.is_empty()
    }
}

/// How [`keyspace_at`] scans.
#[derive(Clone, Copy, Debug)]
pub struct ScanOptions {
    /// Threads for the scan of the `key` bucket.
    pub threads: usize,
    /// Sort the result by key (skip it when only the count is wanted).
    pub sort: bool,
}

impl Default for ScanOptions {
    fn default() -> ScanOptions {
        ScanOptions {
            threads: 1,
            sort: true,
        }
    }
}

/// Resolves the revision of a read (Range) the way etcd does: 0 or less means current, past
/// the store is [`Error::FutureRevision`], below the compaction is [`Error::Compacted`]; the
/// compaction revision itself is readable.
pub fn resolve_read(store: &StoreRevisions, rev: i64) -> Result<i64> {
    if rev > store.current {
        return Err(Error::FutureRevision {
            requested: rev,
            current: store.current,
        });
    }
    let at = if rev <= 0 { store.current } else { rev };
    if at < store.compact {
        return Err(Error::Compacted {
            requested: at,
            compacted: store.compact,
        });
    }
    Ok(at)
}

/// The keyspace of `range` at `rev` (0 = current), in one pass that stops at `rev`.
pub fn keyspace_at<'a>(
    snap: &'a Snapshot,
    rev: i64,
    range: &KeyRange,
    opts: ScanOptions,
) -> Result<Keyspace<'a>> {
    let bucket = snap.required(buckets::KEY)?;
    let store = snap.revisions()?;
    let at = resolve_read(&store, rev)?;
    let results = if range.is_single() {
        // One key: the map stays tiny, so consecutive parts of the bucket (each read once)
        // on every thread, the newest entry of a later part winning.
        let parts = scan::parts(&bucket, opts.threads);
        let found = scan::run_parts(parts, opts.threads, |_, it| {
            let mut newest: Option<(&'a [u8], Rev<'a>)> = None;
            scan::walk_in(it, range, at, |e| {
                if range.contains(e.kv.key) {
                    newest = Some((e.kv.key, Rev::from_entry(&e)?));
                }
                Ok(())
            })
            .map(|seam| (newest, seam))
        });
        let mut newest: KeyMap<'a, Rev<'a>> = KeyMap::default();
        let mut prev_last: Option<&[u8]> = None;
        for part in found {
            let (found, (first, last)) = part?;
            scan::check_seam(prev_last, first)?;
            prev_last = last.or(prev_last);
            newest.extend(found);
        }
        newest
    } else {
        // Many keys: newest_per_key's shards hold disjoint keys; their live entries are
        // joined (and sorted, when asked).
        let shards = newest_per_key(&bucket, at, Some(range), opts.threads)?;
        let live = |s: Newest<'a>| -> Vec<KeyRev<'a>> {
            s.keys
                .into_iter()
                .zip(s.newest)
                .filter(|(_, r)| !r.is_tombstone())
                .map(|(key, rev)| KeyRev { key, rev })
                .collect()
        };
        if !opts.sort || shards.len() < 2 {
            let kvs = shards.into_iter().flat_map(live).collect();
            return Ok(finish(at, store, kvs, opts.sort));
        }
        // Each shard's keys are sorted on its own thread, then the sorted runs are merged:
        // on a million-key store the sort was a tenth of `get`, on one core.
        let runs: Vec<Vec<KeyRev<'a>>> = std::thread::scope(|sc| {
            let handles: Vec<_> = shards
                .into_iter()
                .map(|s| {
                    sc.spawn(move || {
                        let mut v = live(s);
                        v.sort_unstable_by(|a, b| a.key.cmp(b.key));
                        v
                    })
                })
                .collect();
            handles
                .into_iter()
                .map(|h| h.join().unwrap_or_else(|p| std::panic::resume_unwind(p)))
                .collect()
        });
        return Ok(finish(at, store, merge_runs(runs, |kr| kr.key), false));
    };
    let kvs = results
        .into_iter()
        .filter(|(_, r)| !r.is_tombstone())
        .map(|(key, rev)| KeyRev { key, rev })
        .collect();
    Ok(finish(at, store, kvs, opts.sort))
}

fn finish<'a>(
    at: i64,
    store: StoreRevisions,
    mut kvs: Vec<KeyRev<'a>>,
    sort: bool,
) -> Keyspace<'a> {
    if sort {
        kvs.sort_unstable_by(|a, b| a.key.cmp(b.key));
    }
    Keyspace {
        revision: at,
        store,
        kvs,
    }
}

/// Key-values decoded per thread's part in [`decode_all`], at least.
const DECODE_PART: usize = 1 << 14;

/// Decodes the records of `kvs` in order, on up to `threads` threads for a large range: the
/// decode is the first touch of each value's page, a stall per record. The error is the
/// first one in key order, as a single thread would find it.
fn decode_all<'a>(kvs: &[KeyRev<'a>], threads: usize) -> Result<Vec<KeyValueRef<'a>>> {
    let parts = threads.clamp(1, 16).min(kvs.len() / DECODE_PART).max(1);
    if parts == 1 {
        return kvs.iter().map(|kr| kr.rev.decode()).collect();
    }
    let per = kvs.len().div_ceil(parts);
    let mut out = vec![KeyValueRef::default(); kvs.len()];
    let results: Vec<Result<()>> = std::thread::scope(|sc| {
        let handles: Vec<_> = kvs
            .chunks(per)
            .zip(out.chunks_mut(per))
            .map(|(src, dst)| {
                sc.spawn(move || {
                    for (kr, slot) in src.iter().zip(dst) {
                        *slot = kr.rev.decode()?;
                    }
                    Ok(())
                })
            })
            .collect();
        handles
            .into_iter()
            .map(|h| h.join().unwrap_or_else(|p| std::panic::resume_unwind(p)))
            .collect()
    });
    results.into_iter().collect::<Result<()>>()?;
    Ok(out)
}

/// Runs sorted by `key` (their keys disjoint) merged pairwise into one sorted vector.
pub(crate) fn merge_runs<T>(mut runs: Vec<Vec<T>>, key: impl Fn(&T) -> &[u8]) -> Vec<T> {
    while runs.len() > 1 {
        let mut next = Vec::with_capacity(runs.len().div_ceil(2));
        let mut it = runs.into_iter();
        while let Some(a) = it.next() {
            let Some(b) = it.next() else {
                next.push(a);
                break;
            };
            let mut out = Vec::with_capacity(a.len() + b.len());
            let (mut a, mut b) = (a.into_iter().peekable(), b.into_iter().peekable());
            loop {
                let take_a = match (a.peek(), b.peek()) {
                    (Some(x), Some(y)) => key(x) <= key(y),
                    (Some(_), None) => true,
                    (None, Some(_)) => false,
                    (None, None) => break,
                };
                out.extend(if take_a { a.next() } else { b.next() });
            }
            next.push(out);
        }
        runs = next;
    }
    runs.pop().unwrap_or_default()
}

/// One shard of [`newest_per_key`]: distinct keys by id and, at the same index, each key's
/// newest entry (a put or a tombstone).
pub(crate) struct Newest<'a> {
    pub(crate) keys: Vec<&'a [u8]>,
    pub(crate) newest: Vec<Rev<'a>>,
}

/// The newest entry with `main <= at` of every user key in `range` (`None`: every record,
/// even the empty-key marker of a restore's `--bump-revision` that no range holds), in one
/// pass per shard.
///
/// Each of up to `threads` shards (never more than the cores) walks the whole bucket but keeps
/// only the keys whose hash falls in its shard, so the shards hold disjoint keys and need no
/// merge. Splitting by revision ranges instead made every part hold most keys of a store whose
/// objects are rewritten over time (the Kubernetes shape), and merging those maps cost more
/// than the parallel walk saved: the walk is cheap (a peek at each record's key and a hash),
/// the per-key lookups are the cost. The key bucket is in revision order, so the newest entry
/// is simply the last one seen: a key's slot is overwritten, never compared. Keys are
/// interned in a [`KeyTable`] (one hash per record, serving both the shard and the lookup).
pub(crate) fn newest_per_key<'a>(
    bucket: &etcdsnap_bbolt::Bucket<'a>,
    at: i64,
    range: Option<&KeyRange>,
    threads: usize,
) -> Result<Vec<Newest<'a>>> {
    let cores = std::thread::available_parallelism().map_or(1, |n| n.get());
    let shards = threads.clamp(1, cores);
    let results = scan::run_parts(
        (0..shards).map(|_| bucket.iter()).collect(),
        shards,
        |shard, it| -> Result<Newest<'a>> {
            let mut table = KeyTable::new();
            let mut newest: Vec<Rev<'a>> = Vec::new();
            scan::walk_shard(it, at, range, (shard, shards), |e, h| {
                let rev = Rev::from_entry(&e)?;
                let (id, new) = table.intern(h, e.kv.key)?;
                if new {
                    newest.push(rev);
                } else if let Some(slot) = newest.get_mut(id as usize) {
                    *slot = rev;
                }
                Ok(())
            })?;
            Ok(Newest {
                keys: table.into_keys(),
                newest,
            })
        },
    );
    results.into_iter().collect()
}
/// etcd's `RangeRequest.SortTarget`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Default)]
pub enum SortTarget {
    /// By key (the order results come in anyway).
    #[default]
    Key,
    /// By version.
    Version,
    /// By create revision.
    Create,
    /// By mod revision.
    Modify,
    /// By value bytes.
    Value,
}

/// etcd's `RangeRequest.SortOrder`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Default)]
pub enum SortOrder {
    /// No sorting requested (key order; ascending when the target is not the key).
    #[default]
    None,
    /// Ascending.
    Ascend,
    /// Descending.
    Descend,
}

/// A Range request, as etcdctl builds it.
#[derive(Clone, Debug)]
pub struct RangeRequest {
    /// The keys.
    pub range: KeyRange,
    /// The revision to read, 0 for current.
    pub revision: i64,
    /// At most this many kvs; 0 or less for no limit.
    pub limit: i64,
    /// Return keys without values.
    pub keys_only: bool,
    /// Return only the count.
    pub count_only: bool,
    /// What to sort by.
    pub sort_target: SortTarget,
    /// Sort direction.
    pub sort_order: SortOrder,
}

impl RangeRequest {
    /// A plain request for `range` at the current revision.
    pub fn new(range: KeyRange) -> RangeRequest {
        RangeRequest {
            range,
            revision: 0,
            limit: 0,
            keys_only: false,
            count_only: false,
            sort_target: SortTarget::Key,
            sort_order: SortOrder::None,
        }
    }
}

/// What etcd's Range RPC would answer, minus what a file cannot know (cluster and member id).
#[derive(Clone, Debug)]
pub struct RangeResponse<'a> {
    /// `header.revision`: the store's current revision (not the revision read).
    pub header_revision: i64,
    /// `header.raft_term`: the `term` of the meta bucket (etcd 3.5+), the raft term of the
    /// last applied entry when the file was written.
    pub raft_term: Option<u64>,
    /// The revision read.
    pub read_revision: i64,
    /// The kvs returned (after sort and limit; values empty when keys-only).
    pub kvs: Vec<KeyValueRef<'a>>,
    /// True when the limit cut the result.
    pub more: bool,
    /// Number of keys in the whole range.
    pub count: i64,
}

/// Answers `req` from `snap` as etcd 3.5 would (one pass over the `key` bucket).
pub fn range<'a>(
    snap: &'a Snapshot,
    req: &RangeRequest,
    threads: usize,
) -> Result<RangeResponse<'a>> {
    if req.range.start().is_empty() {
        return Err(Error::EmptyKey);
    }
    let ks = keyspace_at(
        snap,
        req.revision,
        &req.range,
        ScanOptions {
            threads,
            sort: !req.count_only,
        },
    )?;
    let term = snap.meta_info()?.term;
    respond(&ks, req, term, threads)
}

/// Applies `req`'s count, sort, limit, keys-only and count-only to a keyspace already read,
/// decoding the values on up to `threads` threads.
pub fn respond<'a>(
    ks: &Keyspace<'a>,
    req: &RangeRequest,
    raft_term: Option<u64>,
    threads: usize,
) -> Result<RangeResponse<'a>> {
    let count = ks.kvs.len() as i64;
    let mut resp = RangeResponse {
        header_revision: ks.store.current,
        raft_term,
        read_revision: ks.revision,
        kvs: Vec::new(),
        more: false,
        count,
    };
    if req.count_only {
        return Ok(resp);
    }
    let limit = usize::try_from(req.limit).ok().filter(|&l| l > 0);
    let mut order = req.sort_order;
    if req.sort_target != SortTarget::Key && order == SortOrder::None {
        order = SortOrder::Ascend;
    }
    let sorted = order != SortOrder::None;
    // Without a sort, only the first `limit` kvs are decoded.
    let take = if sorted {
        ks.kvs.len()
    } else {
        limit.unwrap_or(ks.kvs.len()).min(ks.kvs.len())
    };
    let mut kvs = decode_all(&ks.kvs[..take], threads)?;
    if sorted {
        // Stable sorts over key order: ties keep key order. etcd uses Go's unstable
        // sort.Sort, whose order among ties is unspecified.
        let cmp = |a: &KeyValueRef<'_>, b: &KeyValueRef<'_>| match req.sort_target {
            SortTarget::Key => a.key.cmp(b.key),
            SortTarget::Version => a.version.cmp(&b.version),
            SortTarget::Create => a.create_revision.cmp(&b.create_revision),
            SortTarget::Modify => a.mod_revision.cmp(&b.mod_revision),
            SortTarget::Value => a.value.cmp(b.value),
        };
        match order {
            SortOrder::Descend => kvs.sort_by(|a, b| cmp(b, a)),
            _ => kvs.sort_by(cmp),
        }
    }
    if let Some(l) = limit
        && (kvs.len() > l || (!sorted && ks.kvs.len() > l))
    {
        kvs.truncate(l);
        resp.more = true;
    }
    if req.keys_only {
        for kv in &mut kvs {
            kv.value = &[];
        }
    }
    resp.kvs = kvs;
    Ok(resp)
}
