//! Where the bytes of a store go: the accounting behind `etcdsnap stats` and the space
//! sections of `etcdsnap report`.
//!
//! Two questions, answered together. What do the bytes belong to: per resource (or namespace,
//! kind, key prefix), the live objects and their key + value bytes, the older revisions still
//! stored (what a compaction would drop) and the tombstones; the largest objects; the keys with
//! the most stored revisions (a controller rewriting an object in a loop shows here). And how
//! much of the file is in use: pages by type from the structural walk of
//! [`etcdsnap_bbolt::check`], free pages (listed by the freelist, or unreachable when etcd did
//! not persist one), and so what a defragmentation would give back: the total size minus the
//! in-use size, since etcd's quota counts the whole file.
//!
//! Cost: one pass over the `key` bucket ([`RevIndex::build`], every revision of every key),
//! which runs beside the page walks on a second thread; then the per-key accounting, split
//! across threads into [`Stats`] builders that are merged. Values are read only for the live
//! revision of each key (its size, and its kind when grouping by kind); older revisions are
//! sized from the value length the index kept ([`etcdsnap_mvcc::Rev::value_len`]), without a
//! read of their distant records. The report asks for more from the same pass (subgroups, the
//! Secrets' encryption, the keys attached to each lease), so nothing is read twice.

use std::collections::BTreeMap;

use etcdsnap_bbolt::check::{self, Check, CheckOptions, PageStats};
use etcdsnap_k8s::{Audit, AuditReport, GroupBy, KeyBytes, Stats, StatsReport};
use etcdsnap_mvcc::info::{self, BucketInfo};
use etcdsnap_mvcc::keyspace::resolve_read;
use etcdsnap_mvcc::snapshot::StoreRevisions;
use etcdsnap_mvcc::{KeyHistory, KeyRange, RevIndex, Snapshot};
use serde::Serialize;

use crate::Error;

/// What to account.
#[derive(Debug, Clone)]
pub struct Options {
    /// Revision to account at (0 = the newest).
    pub rev: i64,
    /// The keys accounted.
    pub range: KeyRange,
    /// How to group.
    pub group_by: GroupBy,
    /// Also split each group by this grouping (the report: resources by namespace).
    pub subgroups: Option<GroupBy>,
    /// Length of the top lists.
    pub top: usize,
    /// The API server's `--etcd-prefix`.
    pub etcd_prefix: String,
    /// Threads in all.
    pub threads: usize,
    /// Audit the encryption of these resources' live values (empty: no audit).
    pub audit_resources: Vec<String>,
    /// Keep, per lease, the live keys attached (this many sample keys each; 0: not at all).
    pub lease_samples: usize,
    /// Options of the structural walk (its findings cap).
    pub check: CheckOptions,
}

impl Options {
    /// What `etcdsnap stats` asks by default: by resource, top 10, `/registry`.
    pub fn new(rev: i64, threads: usize) -> Options {
        Options {
            rev,
            range: KeyRange::all(),
            group_by: GroupBy::Resource,
            subgroups: None,
            top: 10,
            etcd_prefix: "/registry".into(),
            threads,
            audit_resources: Vec::new(),
            lease_samples: 0,
            check: CheckOptions::default(),
        }
    }
}

/// The whole `stats` report; its JSON is the `-w json` schema (docs/kubernetes.md).
#[derive(Debug, Serialize)]
pub struct Report {
    /// The file and its pages.
    pub file: FileReport,
    /// The MVCC store.
    pub store: StoreReport,
    /// Groups, totals and top lists.
    #[serde(flatten)]
    pub stats: StatsReport,
}

/// The file: sizes and pages.
#[derive(Debug, Serialize)]
pub struct FileReport {
    /// The path read.
    pub path: String,
    /// Bytes on disk (with the sha256 trailer when there is one).
    pub file_size: u64,
    /// Page size.
    pub page_size: u32,
    /// Pages of the database (the high-water mark).
    pub pages: u64,
    /// pages × page size: the size etcd's quota (`--quota-backend-bytes`) is compared with.
    pub total_size: u64,
    /// Pages in use: metas, branch and leaf pages with their overflow, freelist pages.
    pub in_use_pages: u64,
    /// in_use_pages × page size.
    pub in_use_size: u64,
    /// Free pages: listed by the freelist, plus those no bucket reaches (all of them when the
    /// freelist is not persisted).
    pub free_pages: u64,
    /// free_pages × page size.
    pub free_size: u64,
    /// What a defragmentation would give back, roughly: total_size − in_use_size (it also
    /// repacks half-empty pages, so it may give back a little more).
    pub defrag_reclaimable: u64,
    /// Whether the file has a freelist (etcd on Linux writes none: `NoFreelistSync`).
    pub freelist_persisted: bool,
    /// Pages by type.
    pub page_types: PageTypes,
    /// Buckets, the root excluded, nested ones included.
    pub bucket_count: u64,
    /// Of those, the inline ones.
    pub inline_buckets: u64,
    /// Top-level buckets: entries and pages.
    pub buckets: Vec<BucketInfo>,
    /// Errors the structural walk found (0 for a sound file; else run `etcdsnap verify`).
    pub structure_errors: u64,
}

/// Pages by type, from the structural walk.
#[derive(Debug, Serialize)]
pub struct PageTypes {
    /// The two meta pages.
    pub meta: u64,
    /// Branch pages.
    pub branch: u64,
    /// Overflow pages of branch pages.
    pub branch_overflow: u64,
    /// Leaf pages.
    pub leaf: u64,
    /// Overflow pages of leaf pages (large values).
    pub leaf_overflow: u64,
    /// Freelist pages.
    pub freelist: u64,
    /// Pages the freelist lists.
    pub free: u64,
    /// Pages neither reachable nor listed (the free pages without a persisted freelist).
    pub unreachable: u64,
    /// Pages below the high-water mark missing from a truncated file.
    pub missing: u64,
}

/// The MVCC store at the revision accounted.
#[derive(Debug, Serialize)]
pub struct StoreReport {
    /// The revision accounted.
    pub revision: i64,
    /// The store's newest revision.
    pub current_revision: i64,
    /// The compaction revision.
    pub compact_revision: i64,
    /// Entries of the `key` bucket (every stored revision, at any revision).
    pub revisions_stored: u64,
    /// Distinct keys in the `key` bucket (live or deleted).
    pub keys: u64,
    /// Of those, the keys selected (KEY, --prefix, ...; all of them by default).
    pub keys_selected: u64,
}

/// The live keys attached to one lease, at the revision accounted.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct LeaseKeys {
    /// How many.
    pub count: u64,
    /// The first few, in key order.
    pub sample: Vec<KeyBytes>,
}

/// [`Report`] and what else the same pass gathered.
#[derive(Debug)]
pub struct Analysis {
    /// What `stats` prints.
    pub report: Report,
    /// The encryption audit of [`Options::audit_resources`], when asked.
    pub audit: Option<AuditReport>,
    /// Lease id -> live keys attached, when [`Options::lease_samples`] > 0 (lease 0, no lease,
    /// is not listed).
    pub lease_keys: BTreeMap<i64, LeaseKeys>,
    /// Live keys at the revision accounted.
    pub live_keys: u64,
    /// The store's revisions (current, compaction), as the index derived them.
    pub store: StoreRevisions,
    /// The structural walk ([`check::check_with`] with [`Options::check`]), whole: `verify`
    /// can take it instead of walking again.
    pub walk: Check,
}

/// What `etcdsnap stats` prints.
pub fn report(snap: &Snapshot, opts: &Options) -> Result<Report, Error> {
    analyze(snap, opts).map(|a| a.report)
}

/// The per-thread accumulators.
struct Part {
    stats: Stats,
    audit: Option<Audit>,
    leases: BTreeMap<i64, LeaseKeys>,
    live: u64,
}

/// Accounts the store at [`Options::rev`]: one pass over the `key` bucket and one page walk.
pub fn analyze(snap: &Snapshot, opts: &Options) -> Result<Analysis, Error> {
    let db = snap.db();
    let threads = opts.threads.max(1);
    let pages = || (check::check_with(db, &opts.check), info::bucket_sizes(db));
    let (index, (chk, buckets)) = if threads > 1 {
        std::thread::scope(|s| {
            let walker = s.spawn(pages);
            let index = RevIndex::build(snap);
            walker.join().map(|p| (index, p))
        })
        .map_err(|_| Error::Worker("the page walk"))?
    } else {
        (RevIndex::build(snap), pages())
    };
    let index = index?;
    let buckets = buckets?;
    let store = index.store();
    let at = resolve_read(&store, opts.rev)?;

    let keys: Vec<KeyHistory<'_, '_>> = index.range(&opts.range).collect();
    let chunk = keys.len().div_ceil(threads).max(1);
    let new_part = || {
        let mut stats = Stats::new(opts.group_by, opts.top).with_prefix(&opts.etcd_prefix);
        if let Some(sub) = opts.subgroups {
            stats = stats.with_subgroups(sub);
        }
        Part {
            stats,
            audit: (!opts.audit_resources.is_empty()).then(|| {
                Audit::for_resources(opts.audit_resources.iter().cloned())
                    .with_prefix(&opts.etcd_prefix)
            }),
            leases: BTreeMap::new(),
            live: 0,
        }
    };
    let samples = opts.lease_samples;
    let parts: Vec<Result<Part, Error>> = if threads > 1 && keys.len() > chunk {
        std::thread::scope(|s| {
            let workers: Vec<_> = keys
                .chunks(chunk)
                .map(|part| s.spawn(move || account(part, at, samples, new_part())))
                .collect();
            workers
                .into_iter()
                .map(|w| w.join().unwrap_or(Err(Error::Worker("a worker"))))
                .collect()
        })
    } else {
        vec![account(&keys, at, samples, new_part())]
    };
    let mut all = new_part();
    // Parts cover consecutive key ranges in order, so lease samples stay in key order.
    for part in parts {
        let p = part?;
        all.stats.merge(p.stats);
        if let (Some(a), Some(b)) = (all.audit.as_mut(), p.audit) {
            a.merge(b);
        }
        for (id, lk) in p.leases {
            let e = all.leases.entry(id).or_default();
            e.count = e.count.saturating_add(lk.count);
            let room = samples.saturating_sub(e.sample.len());
            e.sample.extend(lk.sample.into_iter().take(room));
        }
        all.live = all.live.saturating_add(p.live);
    }

    Ok(Analysis {
        report: Report {
            file: file_report(snap, &chk.stats, buckets, chk.findings.errors),
            store: StoreReport {
                revision: at,
                current_revision: store.current,
                compact_revision: store.compact,
                revisions_stored: index.revision_count() as u64,
                keys: index.key_count() as u64,
                keys_selected: keys.len() as u64,
            },
            stats: all.stats.finish(),
        },
        audit: all.audit.map(Audit::finish),
        lease_keys: all.leases,
        live_keys: all.live,
        store,
        walk: chk,
    })
}

/// Feeds the revisions `<= at` of `keys` into `part`: the newest as live (or a tombstone),
/// the older puts as history, every deletion as a tombstone.
fn account(
    keys: &[KeyHistory<'_, '_>],
    at: i64,
    samples: usize,
    mut part: Part,
) -> Result<Part, Error> {
    let stats = &mut part.stats;
    for h in keys {
        let all = h.revisions();
        let revs = all
            .get(..all.partition_point(|r| r.main() <= at))
            .unwrap_or_default();
        let Some((newest, older)) = revs.split_last() else {
            continue;
        };
        let key = h.key();
        stats.add_key_revisions(key, revs.len() as u64);
        for r in older {
            if r.is_tombstone() {
                stats.add_tombstone(key);
            } else {
                // The length the index kept: no read of the (distant) older record.
                stats.add_history(key, r.value_len());
            }
        }
        if newest.is_tombstone() {
            stats.add_tombstone(key);
        } else {
            let kv = newest.decode()?;
            stats.add_live(key, kv.value);
            part.live += 1;
            if let Some(a) = part.audit.as_mut() {
                a.add(key, kv.value);
            }
            if samples > 0 && kv.lease != 0 {
                let e = part.leases.entry(kv.lease).or_default();
                e.count += 1;
                if e.sample.len() < samples {
                    e.sample.push(KeyBytes(key.to_vec()));
                }
            }
        }
    }
    Ok(part)
}

fn file_report(
    snap: &Snapshot,
    p: &PageStats,
    buckets: Vec<BucketInfo>,
    structure_errors: u64,
) -> FileReport {
    let db = snap.db();
    let ps = u64::from(p.page_size);
    let free_pages = p.free.saturating_add(p.unreachable);
    let in_use_pages = p.pages_in_use();
    let total_size = db.size();
    let in_use_size = in_use_pages.saturating_mul(ps);
    FileReport {
        path: snap.path().display().to_string(),
        file_size: db.file_size(),
        page_size: p.page_size,
        pages: p.hwm,
        total_size,
        in_use_pages,
        in_use_size,
        free_pages,
        free_size: free_pages.saturating_mul(ps),
        defrag_reclaimable: total_size.saturating_sub(in_use_size),
        freelist_persisted: db.meta().freelist_persisted(),
        page_types: PageTypes {
            meta: p.meta,
            branch: p.branch,
            branch_overflow: p.branch_overflow,
            leaf: p.leaf,
            leaf_overflow: p.leaf_overflow,
            freelist: p.freelist,
            free: p.free,
            unreachable: p.unreachable,
            missing: p.missing,
        },
        bucket_count: p.buckets,
        inline_buckets: p.inline_buckets,
        buckets,
        structure_errors,
    }
}
