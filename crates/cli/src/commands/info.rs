//! `etcdsnap info`: what the file says about its cluster, as readable sections or one JSON
//! document (the schema is `etcdsnap_mvcc::info::Info` serialized field for field).

use std::io::Write;

use etcdsnap_mvcc::Snapshot;
use etcdsnap_mvcc::info::{self, Info};

use crate::args::InfoFormat;
use crate::commands::get::failure;
use crate::fail::{CmdResult, Outcome};
use crate::format::{Table, compaction, humanize_bytes, readable};
use crate::style::{Paint, paint};

/// Runs `info`.
pub fn run(snap: &Snapshot, format: InfoFormat, threads: usize, out: &mut dyn Write) -> CmdResult {
    let info = info::info(snap, threads).map_err(|e| failure(snap, e))?;
    match format {
        InfoFormat::Json => {
            serde_json::to_writer(&mut *out, &info).map_err(std::io::Error::from)?;
            out.write_all(b"\n")?;
        }
        InfoFormat::Table => write_text(&info, snap, out)?,
    }
    Ok(Outcome::Clean)
}

fn opt<T: ToString>(v: &Option<T>) -> String {
    v.as_ref()
        .map_or_else(|| "-".to_string(), |v| v.to_string())
}

fn ids(v: &[u64]) -> String {
    let s: Vec<String> = v.iter().map(|id| format!("{id:x}")).collect();
    format!("[{}]", s.join(" "))
}

/// The readable form.
pub fn write_text(info: &Info, snap: &Snapshot, out: &mut dyn Write) -> std::io::Result<()> {
    let f = &info.file;
    let s = &info.store;
    let c = &info.cluster;
    writeln!(out, "{}", paint(Paint::Bold, "FILE"))?;
    writeln!(out, "  path                 {}", snap.path().display())?;
    writeln!(
        out,
        "  file size            {} ({} bytes), sha256 trailer: {}",
        humanize_bytes(f.file_size),
        f.file_size,
        if f.sha256_trailer { "yes" } else { "no" }
    )?;
    writeln!(out, "  page size            {}", f.page_size)?;
    writeln!(
        out,
        "  pages                {} (total size {}), meta {} in use, txid {}",
        f.pages,
        humanize_bytes(f.total_size),
        f.active_meta,
        f.txid
    )?;
    match f.freelist.listed_free_pages {
        Some(n) => writeln!(
            out,
            "  free pages           {n} listed by the freelist; {} unreachable from any bucket",
            f.freelist.unreachable_pages
        )?,
        None => writeln!(
            out,
            "  free pages           freelist not persisted; {} pages unreachable from any bucket",
            f.freelist.unreachable_pages
        )?,
    }
    writeln!(out)?;
    writeln!(out, "{}", paint(Paint::Bold, "STORE"))?;
    writeln!(out, "  consistent index     {}", opt(&s.consistent_index))?;
    writeln!(out, "  term                 {}", opt(&s.term))?;
    match &s.conf_state {
        Some(cs) => writeln!(
            out,
            "  conf state           voters={} learners={} voters_outgoing={} learners_next={} auto_leave={}",
            ids(&cs.voters),
            ids(&cs.learners),
            ids(&cs.voters_outgoing),
            ids(&cs.learners_next),
            cs.auto_leave
        )?,
        None => writeln!(out, "  conf state           -")?,
    }
    writeln!(out, "  storage version      {}", opt(&s.storage_version))?;
    writeln!(out, "  current revision     {}", s.current_revision)?;
    writeln!(
        out,
        "  compaction           {} (scheduled {}, finished {}){}",
        compaction(s.compact_revision),
        opt(&s.scheduled_compact_revision),
        opt(&s.finished_compact_revision),
        if s.compaction_interrupted {
            ": INTERRUPTED, etcd finishes it when it next opens the file"
        } else {
            ""
        }
    )?;
    writeln!(out, "  revisions stored     {}", s.revisions_stored)?;
    writeln!(out, "  live keys            {}", s.live_keys)?;
    writeln!(out)?;
    writeln!(out, "{}", paint(Paint::Bold, "CLUSTER"))?;
    writeln!(out, "  version              {}", opt(&c.version))?;
    match &c.downgrade {
        Some(d) => writeln!(
            out,
            "  downgrade            target {} enabled {}",
            d.target_version, d.enabled
        )?,
        None => writeln!(out, "  downgrade            -")?,
    }
    if c.removed_members.is_empty() {
        writeln!(out, "  removed members      -")?;
    } else {
        writeln!(
            out,
            "  removed members      {}",
            c.removed_members.join(" ")
        )?;
    }
    let mut t =
        Table::new(&["id", "name", "peer addrs", "client addrs", "is learner"]).left_aligned();
    for m in &c.members {
        t.row(vec![
            m.id.clone(),
            m.name.clone(),
            m.peer_urls.join(","),
            m.client_urls.join(","),
            m.is_learner.to_string(),
        ]);
    }
    out.write_all(t.render_etcd().as_bytes())?;
    writeln!(out)?;
    writeln!(
        out,
        "{}",
        paint(Paint::Bold, &format!("LEASES ({})", info.leases.len()))
    )?;
    if !info.leases.is_empty() {
        let mut t = Table::new(&[
            "id",
            "id (decimal)",
            "ttl",
            "remaining ttl",
            "attached keys",
        ]);
        for l in &info.leases {
            t.row(vec![
                l.id_hex.clone(),
                l.id.to_string(),
                l.ttl.to_string(),
                l.remaining_ttl.to_string(),
                l.attached_keys.to_string(),
            ]);
        }
        out.write_all(t.render_etcd().as_bytes())?;
    }
    for m in &info.missing_leases {
        writeln!(
            out,
            "  lease {} ({}) is not in the lease bucket but {} live key(s) carry it",
            m.id_hex, m.id, m.attached_keys
        )?;
    }
    writeln!(out)?;
    let a = &info.auth;
    writeln!(
        out,
        "AUTH  enabled: {}, revision: {}",
        a.enabled,
        opt(&a.revision)
    )?;
    if !a.users.is_empty() {
        let mut t = Table::new(&["user", "roles", "password"]).left_aligned();
        for u in &a.users {
            t.row(vec![
                u.name.clone(),
                u.roles.join(","),
                if u.no_password {
                    "none (no-password user)".into()
                } else if u.has_password {
                    "set (hash not shown)".into()
                } else {
                    "empty".into()
                },
            ]);
        }
        out.write_all(t.render_etcd().as_bytes())?;
    }
    if !a.roles.is_empty() {
        let mut t = Table::new(&["role", "permission", "key", "range end"]).left_aligned();
        for r in &a.roles {
            if r.permissions.is_empty() {
                t.row(vec![
                    r.name.clone(),
                    "-".into(),
                    String::new(),
                    String::new(),
                ]);
            }
            for p in &r.permissions {
                let end = match p.range_end_text.as_str() {
                    "" => "(single key)".to_string(),
                    "\0" => "(every key from key)".to_string(),
                    e => e.to_string(),
                };
                t.row(vec![
                    r.name.clone(),
                    p.perm_type.clone(),
                    p.key_text.clone(),
                    end,
                ]);
            }
        }
        out.write_all(t.render_etcd().as_bytes())?;
    }
    writeln!(out)?;
    writeln!(
        out,
        "{}",
        paint(Paint::Bold, &format!("ALARMS ({})", info.alarms.len()))
    )?;
    for al in &info.alarms {
        writeln!(out, "  member {}: {}", al.member_id, al.alarm)?;
    }
    writeln!(out)?;
    writeln!(
        out,
        "{}",
        paint(Paint::Bold, &format!("BUCKETS ({})", f.buckets.len()))
    )?;
    // The same layout as stats' bucket table: names left-aligned and quoted when not
    // printable, numbers right-aligned.
    let mut t = Table::new(&["bucket", "entries", "pages"]).left_columns(1);
    for b in &f.buckets {
        t.row(vec![
            readable(b.name.as_bytes()),
            b.entries.to_string(),
            b.pages.to_string(),
        ]);
    }
    out.write_all(t.render_etcd().as_bytes())
}
