//! `etcdsnap salvage DAMAGED -o OUT.db`: recover what can be read, say exactly what cannot.
//!
//! The input is opened as raw bytes (a damaged file may not open as a database at all; a
//! data directory, stdin or a compressed backup are prepared as for every command); the
//! recovery and its rules are `mvcc::salvage`. Exit 0 when nothing was lost, 1 when
//! something was, 2 when nothing could be recovered (no valid meta, no readable root).

use std::io::Write;
use std::path::PathBuf;
use std::sync::Arc;

use etcdsnap_bbolt::Source;
use etcdsnap_mvcc::rewrite::Output;
use etcdsnap_mvcc::salvage::{self, SalvageOptions, SalvageReport};

use crate::commands::compact::ReportFormat;
use crate::fail::{CmdResult, Failure, Outcome};
use crate::format::humanize_bytes;

/// What `salvage` does.
#[derive(Debug, Clone)]
pub struct Config {
    /// The damaged file (or data directory).
    pub input: PathBuf,
    /// Where to write.
    pub output: Output,
    /// Read free and unreachable pages too.
    pub deep: bool,
}

/// Runs `salvage`.
pub fn run(
    cfg: &Config,
    format: ReportFormat,
    out: &mut dyn Write,
    err: &mut dyn Write,
) -> CmdResult {
    // A file, a data directory, stdin or a compressed backup, as every command takes it.
    let input = crate::input::prepare(&cfg.input, err)?;
    if input.path != cfg.input && input.shown == input.path {
        let _ = writeln!(err, "etcdsnap: reading {}", input.path.display());
    }
    let file = input.shown.clone();
    crate::commands::compact::refuse_input_as_output(&input.path, &cfg.output.path)?;
    let source = Source::open(&input.path).map_err(|e| Failure::at(&file, e))?;
    let rep = salvage::salvage(
        Arc::new(source),
        &cfg.output,
        SalvageOptions { deep: cfg.deep },
    )
    .map_err(|e| match e {
        etcdsnap_mvcc::Error::Write(w) => Failure::Message(w.to_string()),
        e => Failure::at(&file, e),
    })?;
    write(&rep, cfg, format, out)?;
    Ok(if rep.nothing_lost() {
        Outcome::Clean
    } else {
        Outcome::Found
    })
}

fn write(
    r: &SalvageReport,
    cfg: &Config,
    format: ReportFormat,
    out: &mut dyn Write,
) -> std::io::Result<()> {
    if format == ReportFormat::Json {
        serde_json::to_writer(&mut *out, r)?;
        return writeln!(out);
    }
    if let Some(m) = r.meta_used {
        writeln!(out, "read the tree of meta page {m}")?;
    }
    for (i, why) in &r.bad_metas {
        writeln!(out, "meta page {i} is not valid: {why}")?;
    }
    for l in &r.lost_pages {
        let range = match (&l.rev_from, &l.rev_to) {
            (None, None) if l.key_from.is_none() && l.key_to.is_none() => "everything".to_string(),
            _ if l.bucket == "key" => format!(
                "revisions {} .. {}",
                l.rev_from.map_or("start".into(), |r| r.to_string()),
                l.rev_to.map_or("end".into(), |r| r.to_string())
            ),
            _ => format!(
                "keys {} .. {}",
                l.key_from.as_deref().unwrap_or("start"),
                l.key_to.as_deref().unwrap_or("end")
            ),
        };
        let page = if l.page == 0 {
            "inline page".to_string()
        } else {
            format!("page {}", l.page)
        };
        let bucket = if l.bucket.is_empty() {
            "the root bucket".to_string()
        } else {
            format!("bucket {}", l.bucket)
        };
        write!(
            out,
            "lost: {page} of {bucket} (meta {}): {}; {range}",
            l.meta, l.reason
        )?;
        if l.refilled > 0 {
            write!(
                out,
                "; {} entries of that range recovered elsewhere",
                l.refilled
            )?;
        }
        writeln!(out)?;
    }
    for (b, why) in &r.buckets_lost {
        writeln!(out, "bucket {b}: {why}")?;
    }
    writeln!(out, "buckets recovered: {}", r.buckets_recovered.join(", "))?;
    let range = r
        .revision_range
        .map_or("none".into(), |(a, b)| format!("{a} .. {b}"));
    writeln!(
        out,
        "revisions written: {} ({} from the other meta's tree, {} from free pages{}), range {range}",
        r.revisions,
        r.revisions_from_other_meta,
        r.revisions_from_deep,
        if cfg.deep { "" } else { ": --deep not given" }
    )?;
    if !r.deep_pages_rejected.is_empty() {
        writeln!(
            out,
            "--deep: pages not taken (their revisions disagree with the recovered history): {}",
            r.deep_pages_rejected
                .iter()
                .map(|p| p.to_string())
                .collect::<Vec<_>>()
                .join(", ")
        )?;
    }
    if let Some(c) = r.compact_revision {
        writeln!(out, "compaction revision: {c}")?;
    }
    if r.compaction_unknown {
        writeln!(
            out,
            "warning: the compaction revision was lost with the meta bucket; revisions taken \
             from free pages may include history compacted before the damage (check deleted keys)"
        )?;
    }
    if let Some(s) = &r.sizes {
        writeln!(
            out,
            "wrote {} ({})",
            cfg.output.path.display(),
            humanize_bytes(s.file_size_after)
        )?;
    }
    writeln!(
        out,
        "{}",
        if r.nothing_lost() {
            "nothing was lost"
        } else {
            "something was lost (see above)"
        }
    )
}
