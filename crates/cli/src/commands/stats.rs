//! `etcdsnap stats`: what fills a store, for the operator whose cluster stopped with
//! "mvcc: database space exceeded".
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
//! sized from their record.

use std::io::Write;

use etcdsnap_bbolt::check::{self, PageStats};
use etcdsnap_k8s::{GroupBy, GroupCounts, Stats, StatsReport};
use etcdsnap_mvcc::info::{self, BucketInfo};
use etcdsnap_mvcc::keyspace::resolve_read;
use etcdsnap_mvcc::{KeyHistory, KeyRange, RevIndex, Snapshot};
use serde::Serialize;

use crate::args::StatsFormat;
use crate::commands::get::failure;
use crate::fail::{CmdResult, Failure, Outcome};
use crate::format::{Table, compaction, humanize_bytes, readable};
use crate::style::{Paint, paint};

/// What `stats` was asked.
#[derive(Debug, Clone)]
pub struct StatsConfig {
    /// Revision to account at (0 = the newest).
    pub rev: i64,
    /// The keys accounted.
    pub range: KeyRange,
    /// How to group.
    pub group_by: GroupBy,
    /// Length of the top lists.
    pub top: usize,
    /// The API server's `--etcd-prefix`.
    pub etcd_prefix: String,
    /// Output format.
    pub format: StatsFormat,
    /// Threads in all.
    pub threads: usize,
}

/// The whole report; its JSON is the `-w json` schema (docs/kubernetes.md).
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

/// Builds the report.
pub fn report(snap: &Snapshot, cfg: &StatsConfig) -> Result<Report, Failure> {
    let db = snap.db();
    let pages = || (check::check(db), info::bucket_sizes(db));
    let (index, (chk, buckets)) = if cfg.threads > 1 {
        std::thread::scope(|s| {
            let walker = s.spawn(pages);
            let index = RevIndex::build(snap);
            walker.join().map(|p| (index, p))
        })
        .map_err(|_| Failure::at(snap.path(), "the page walk failed"))?
    } else {
        (RevIndex::build(snap), pages())
    };
    let index = index.map_err(|e| failure(snap, e))?;
    let buckets = buckets.map_err(|e| failure(snap, e))?;
    let store = index.store();
    let at = resolve_read(&store, cfg.rev).map_err(|e| failure(snap, e))?;

    let keys: Vec<KeyHistory<'_, '_>> = index.range(&cfg.range).collect();
    let chunk = keys.len().div_ceil(cfg.threads.max(1)).max(1);
    let new_stats = || Stats::new(cfg.group_by, cfg.top).with_prefix(&cfg.etcd_prefix);
    let parts: Vec<Result<Stats, Failure>> = if cfg.threads > 1 && keys.len() > chunk {
        std::thread::scope(|s| {
            let workers: Vec<_> = keys
                .chunks(chunk)
                .map(|part| s.spawn(move || account(snap, part, at, new_stats())))
                .collect();
            workers
                .into_iter()
                .map(|w| {
                    w.join()
                        .unwrap_or_else(|_| Err(Failure::at(snap.path(), "a worker failed")))
                })
                .collect()
        })
    } else {
        vec![account(snap, &keys, at, new_stats())]
    };
    let mut stats = new_stats();
    for part in parts {
        stats.merge(part?);
    }

    Ok(Report {
        file: file_report(snap, &chk.stats, buckets, chk.findings.errors),
        store: StoreReport {
            revision: at,
            current_revision: store.current,
            compact_revision: store.compact,
            revisions_stored: index.revision_count() as u64,
            keys: index.key_count() as u64,
            keys_selected: keys.len() as u64,
        },
        stats: stats.finish(),
    })
}

/// Feeds the revisions `<= at` of `keys` into `stats`: the newest as live (or a tombstone),
/// the older puts as history, every deletion as a tombstone.
fn account(
    snap: &Snapshot,
    keys: &[KeyHistory<'_, '_>],
    at: i64,
    mut stats: Stats,
) -> Result<Stats, Failure> {
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
                let kv = r.decode().map_err(|e| failure(snap, e))?;
                stats.add_history(key, kv.value.len());
            }
        }
        if newest.is_tombstone() {
            stats.add_tombstone(key);
        } else {
            let kv = newest.decode().map_err(|e| failure(snap, e))?;
            stats.add_live(key, kv.value);
        }
    }
    Ok(stats)
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

/// Runs `stats`.
pub fn run(
    snap: &Snapshot,
    cfg: &StatsConfig,
    out: &mut dyn Write,
    err: &mut dyn Write,
) -> CmdResult {
    let report = report(snap, cfg)?;
    if cfg.range.is_single() && report.store.keys_selected == 0 {
        super::note_single_key_absent(&cfg.range, "not in the file", err);
    }
    match cfg.format {
        StatsFormat::Json => {
            serde_json::to_writer(&mut *out, &report).map_err(std::io::Error::from)?;
            out.write_all(b"\n")?;
        }
        StatsFormat::Table => write_table(&report, out)?,
    }
    Ok(Outcome::Clean)
}

/// `4.3 MB (4329472)`: humanized with the exact count, for the summary lines.
fn size(n: u64) -> String {
    format!("{} ({n} bytes)", humanize_bytes(n))
}

fn pct(part: u64, whole: u64) -> String {
    if whole == 0 {
        "-".into()
    } else {
        format!("{:.1}%", part as f64 * 100.0 / whole as f64)
    }
}

fn counts_row(name: String, c: &GroupCounts) -> Vec<String> {
    vec![
        name,
        c.live_objects.to_string(),
        humanize_bytes(c.live_bytes),
        c.history_revisions.to_string(),
        humanize_bytes(c.history_bytes),
        c.tombstones.to_string(),
    ]
}

/// The readable form.
pub fn write_table(r: &Report, out: &mut dyn Write) -> std::io::Result<()> {
    let f = &r.file;
    let t = &f.page_types;
    writeln!(out, "{}", paint(Paint::Bold, "FILE"))?;
    writeln!(out, "  path                 {}", f.path)?;
    writeln!(
        out,
        "  total size           {}, {} pages of {} bytes",
        size(f.total_size),
        f.pages,
        f.page_size
    )?;
    writeln!(
        out,
        "  in use               {} ({} of the total), {} pages",
        size(f.in_use_size),
        pct(f.in_use_size, f.total_size),
        f.in_use_pages
    )?;
    writeln!(
        out,
        "  free                 {}, {} pages ({})",
        size(f.free_size),
        f.free_pages,
        if f.freelist_persisted {
            format!(
                "{} listed by the freelist, {} unreachable",
                t.free, t.unreachable
            )
        } else {
            "freelist not persisted: the pages no bucket reaches".to_string()
        }
    )?;
    writeln!(
        out,
        "  defrag would free    ~{} (total size - in-use size; etcd's quota counts the total)",
        size(f.defrag_reclaimable)
    )?;
    if f.structure_errors > 0 {
        writeln!(
            out,
            "  WARNING              the page walk found {} structural error(s): run `etcdsnap verify`",
            f.structure_errors
        )?;
    }
    let mut pages = Table::new(&["page type", "pages", "size"]).left_columns(1);
    for (name, n) in [
        ("meta", t.meta),
        ("branch", t.branch),
        ("branch overflow", t.branch_overflow),
        ("leaf", t.leaf),
        ("leaf overflow", t.leaf_overflow),
        ("freelist", t.freelist),
        ("free (listed)", t.free),
        ("free (unreachable)", t.unreachable),
    ] {
        pages.row(vec![
            name.into(),
            n.to_string(),
            humanize_bytes(n.saturating_mul(u64::from(f.page_size))),
        ]);
    }
    if t.missing > 0 {
        pages.row(vec![
            "missing (truncated)".into(),
            t.missing.to_string(),
            String::new(),
        ]);
    }
    out.write_all(pages.render_etcd().as_bytes())?;
    let mut b = Table::new(&["bucket", "entries", "pages"]).left_columns(1);
    for bk in &f.buckets {
        b.row(vec![
            readable(bk.name.as_bytes()),
            bk.entries.to_string(),
            bk.pages.to_string(),
        ]);
    }
    out.write_all(b.render_etcd().as_bytes())?;
    writeln!(out)?;

    let s = &r.store;
    let st = &r.stats;
    writeln!(
        out,
        "STORE at revision {} (current {}, {}): {} keys, {} revisions stored",
        s.revision,
        s.current_revision,
        match compaction(s.compact_revision).as_str() {
            "none" => "never compacted".to_string(),
            c => format!("compacted at {c}"),
        },
        s.keys,
        s.revisions_stored
    )?;
    writeln!(
        out,
        "  live                 {} objects, {} (key + value)",
        st.total.live_objects,
        size(st.total.live_bytes)
    )?;
    writeln!(
        out,
        "  history              {} older revisions, {}: what a compaction at revision {} would drop",
        st.total.history_revisions,
        size(st.total.history_bytes),
        s.revision
    )?;
    writeln!(out, "  tombstones           {}", st.total.tombstones)?;
    writeln!(out)?;
    writeln!(
        out,
        "{}",
        paint(Paint::Bold, &format!("BY {}", st.group_by.to_uppercase()))
    )?;
    let mut g = Table::new(&[
        st.group_by.split(':').next().unwrap_or("group"),
        "live objects",
        "live bytes",
        "history revs",
        "history bytes",
        "tombstones",
    ])
    .left_columns(1);
    for grp in &st.groups {
        // Labels come from keys: control characters are quoted, not sent to the terminal.
        g.row(counts_row(readable(grp.name.as_bytes()), &grp.counts));
    }
    g.row(counts_row("(total)".into(), &st.total));
    out.write_all(g.render_etcd().as_bytes())?;
    if !st.largest_live.is_empty() {
        writeln!(out)?;
        writeln!(
            out,
            "{}",
            paint(Paint::Bold, "LARGEST LIVE OBJECTS (key + value)")
        )?;
        let mut t = Table::new(&["key", "size"]).left_columns(1);
        for k in &st.largest_live {
            t.row(vec![crate::style::key(&k.key.0), humanize_bytes(k.value)]);
        }
        out.write_all(t.render_etcd().as_bytes())?;
    }
    if !st.most_revisions.is_empty() {
        writeln!(out)?;
        writeln!(out, "{}", paint(Paint::Bold, "MOST STORED REVISIONS"))?;
        let mut t = Table::new(&["key", "revisions"]).left_columns(1);
        for k in &st.most_revisions {
            t.row(vec![crate::style::key(&k.key.0), k.value.to_string()]);
        }
        out.write_all(t.render_etcd().as_bytes())?;
    }
    Ok(())
}
