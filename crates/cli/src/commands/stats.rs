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
//! The accounting (one pass over the `key` bucket beside the page walks, split across threads)
//! is [`etcdsnap_analyze::stats`], shared with `etcdsnap report` so the two never disagree;
//! this module maps the arguments to it and writes the result.

use std::io::Write;

use etcdsnap_analyze as analyze;
use etcdsnap_k8s::{GroupBy, GroupCounts};
use etcdsnap_mvcc::{KeyRange, Snapshot};

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

pub use etcdsnap_analyze::stats::Report;

/// Builds the report (the accounting is [`etcdsnap_analyze::stats`], shared with `report`).
pub fn report(snap: &Snapshot, cfg: &StatsConfig) -> Result<Report, Failure> {
    let opts = analyze::Options {
        range: cfg.range.clone(),
        group_by: cfg.group_by,
        top: cfg.top,
        etcd_prefix: cfg.etcd_prefix.clone(),
        ..analyze::Options::new(cfg.rev, cfg.threads)
    };
    analyze::stats::report(snap, &opts).map_err(|e| analyze_failure(snap, e))
}

/// An analysis error in the words the commands use.
pub fn analyze_failure(snap: &Snapshot, e: analyze::Error) -> Failure {
    match e {
        analyze::Error::Mvcc(e) => failure(snap, e),
        e @ analyze::Error::Worker(_) => Failure::at(snap.path(), e),
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
