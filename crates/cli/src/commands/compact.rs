//! `etcdsnap compact IN --rev R -o OUT.db`: an offline compaction followed by a defrag.
//!
//! The decisions are etcd's and live in `mvcc::rewrite::compact`; this module maps the
//! arguments and writes the report: what was kept, and the sizes before and after (etcd's
//! database size, `pgid * page_size`, and the file sizes).

use std::io::Write;

use etcdsnap_mvcc::Snapshot;
use etcdsnap_mvcc::rewrite::{self, CompactReport, Output};

use crate::args::{Format, OutputFileArgs};
use crate::commands::get::failure;
use crate::fail::{CmdResult, Failure, Outcome};
use crate::format::humanize_bytes;
use crate::output::{Chosen, choose};

/// Report formats of the commands that write a snapshot.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ReportFormat {
    /// Lines for a person.
    Text,
    /// One JSON document.
    Json,
}

/// The formats offered (simple by default, json, yaml).
pub fn formats(requested: Option<Format>, command: &str) -> Result<Chosen<ReportFormat>, Failure> {
    choose(
        requested,
        command,
        &[
            (Format::Simple, ReportFormat::Text),
            (Format::Json, ReportFormat::Json),
            (Format::Yaml, ReportFormat::Json),
        ],
    )
}

/// The writer's settings from the command line.
pub fn output(a: &OutputFileArgs) -> Output {
    let mut o = Output::new(&a.output);
    o.force = a.force;
    o.sha256_trailer = !a.no_trailer;
    o
}

/// Refuses an output that is the input itself (even with --force: the input is never
/// changed), whatever path names it (hard links, symlinks, `./x` vs `x`).
pub fn refuse_input_as_output(
    input: &std::path::Path,
    output: &std::path::Path,
) -> Result<(), Failure> {
    let (Ok(a), Ok(b)) = (std::fs::metadata(input), std::fs::metadata(output)) else {
        return Ok(());
    };
    #[cfg(unix)]
    let same = {
        use std::os::unix::fs::MetadataExt;
        a.dev() == b.dev() && a.ino() == b.ino()
    };
    #[cfg(not(unix))]
    let same = {
        let _ = (a, b);
        std::fs::canonicalize(input).ok() == std::fs::canonicalize(output).ok()
    };
    if same {
        return Err(Failure::usage(format!(
            "{}: the output is the input file; write the new snapshot elsewhere (the input is never changed)",
            output.display()
        )));
    }
    Ok(())
}

/// What `compact` does.
#[derive(Debug, Clone)]
pub struct Config {
    /// The compaction revision.
    pub rev: i64,
    /// Where to write.
    pub output: Output,
}

/// Runs `compact`.
pub fn run(snap: &Snapshot, cfg: &Config, format: ReportFormat, out: &mut dyn Write) -> CmdResult {
    refuse_input_as_output(snap.path(), &cfg.output.path)?;
    let r = rewrite::compact(snap, cfg.rev, &cfg.output).map_err(|e| write_failure(snap, e))?;
    write(&r, format, out)?;
    Ok(Outcome::Clean)
}

/// A failure of a command that writes: errors about the output name the output (the writer's
/// errors do), the others the input.
pub fn write_failure(snap: &Snapshot, e: etcdsnap_mvcc::Error) -> Failure {
    match e {
        etcdsnap_mvcc::Error::Write(w) => Failure::Message(w.to_string()),
        e => failure(snap, e),
    }
}

/// A size as etcd prints it, with the exact byte count.
fn size(n: u64) -> String {
    format!("{} ({n} bytes)", humanize_bytes(n))
}

fn percent(before: u64, after: u64) -> String {
    if before == 0 {
        return "-".into();
    }
    format!(
        "{:+.1}%",
        (after as f64 - before as f64) * 100.0 / before as f64
    )
}

fn write(r: &CompactReport, format: ReportFormat, out: &mut dyn Write) -> std::io::Result<()> {
    match format {
        ReportFormat::Json => {
            serde_json::to_writer(&mut *out, r)?;
            writeln!(out)
        }
        ReportFormat::Text => {
            let s = &r.sizes;
            let prev = if r.previous_compact < 0 {
                "never compacted".to_string()
            } else {
                format!("was compacted at {}", r.previous_compact)
            };
            writeln!(
                out,
                "compacted at revision {} ({prev}; current revision {})",
                r.rev, r.current
            )?;
            writeln!(
                out,
                "revisions: {} before, {} after ({} removed)",
                r.revisions_before,
                r.revisions_after,
                r.revisions_before - r.revisions_after
            )?;
            writeln!(
                out,
                "db size:   {} -> {} ({})",
                size(s.db_size_before),
                size(s.db_size_after),
                percent(s.db_size_before, s.db_size_after)
            )?;
            writeln!(
                out,
                "file size: {} -> {} ({})",
                size(s.file_size_before),
                size(s.file_size_after),
                percent(s.file_size_before, s.file_size_after)
            )?;
            writeln!(out, "wrote {}", r.write.path.display())
        }
    }
}
