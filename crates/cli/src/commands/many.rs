//! Several inputs in one command (`status *.db`, `verify *.db`): each is read in turn, a
//! failure on one is said on stderr and the others still run, and the exit status is the
//! worst (2 if any could not be read, else 1 if any found something).

use std::io::Write;
use std::path::{Path, PathBuf};

use etcdsnap_mvcc::status;

use crate::args::StatusFormat;
use crate::fail::{CmdResult, Failure, Outcome};
use crate::format::{Table, humanize_bytes};

/// Runs `one` on each path (`first` tells the first), combining the outcomes.
pub fn each(
    paths: &[PathBuf],
    err: &mut dyn Write,
    mut one: impl FnMut(&Path, &mut dyn Write, bool) -> CmdResult,
) -> CmdResult {
    let (mut found, mut failed) = (false, false);
    for (i, p) in paths.iter().enumerate() {
        match one(p, err, i == 0) {
            Ok(Outcome::Clean) => {}
            Ok(Outcome::Found) => found = true,
            Err(Failure::BrokenPipe) => return Err(Failure::BrokenPipe),
            Err(Failure::Reported) => failed = true,
            Err(f) => {
                let _ = writeln!(err, "etcdsnap: {f}");
                failed = true;
            }
        }
    }
    if failed {
        Err(Failure::Reported)
    } else if found {
        Ok(Outcome::Found)
    } else {
        Ok(Outcome::Clean)
    }
}

/// `status` of several files: one table with a FILE column, one `FILE: ...` line each
/// (simple), one JSON object per line with `file` first, or fields with a `"File"` line.
pub fn status(
    files: &[PathBuf],
    format: StatusFormat,
    threads: usize,
    out: &mut dyn Write,
    err: &mut dyn Write,
) -> CmdResult {
    let mut table =
        Table::new(&["file", "hash", "revision", "total keys", "total size"]).left_columns(1);
    let outcome = each(files, err, |path, err, _| {
        let snap = super::open_etcd(path, err)?;
        let progress =
            crate::style::Progress::start(format!("status: hashing {}", snap.path().display()));
        let st = status::status(&snap, threads).map_err(|e| Failure::at(snap.path(), e))?;
        drop(progress);
        let name = snap.path().display().to_string();
        match format {
            StatusFormat::Table => table.row(vec![
                name,
                format!("{:x}", st.hash),
                st.revision.to_string(),
                st.total_key.to_string(),
                humanize_bytes(st.total_size),
            ]),
            StatusFormat::Simple => writeln!(
                out,
                "{name}: {:x}, {}, {}, {}",
                st.hash,
                st.revision,
                st.total_key,
                humanize_bytes(st.total_size)
            )?,
            StatusFormat::Json => writeln!(
                out,
                r#"{{"file":{},"hash":{},"revision":{},"totalKey":{},"totalSize":{}}}"#,
                serde_json::Value::String(name),
                st.hash,
                st.revision,
                st.total_key,
                st.total_size
            )?,
            StatusFormat::Fields => {
                writeln!(
                    out,
                    "\"File\" : {}",
                    crate::format::go_quote(name.as_bytes())
                )?;
                super::status::write_status(&st, format, out)?;
            }
        }
        Ok(Outcome::Clean)
    });
    if format == StatusFormat::Table {
        out.write_all(table.render_etcd().as_bytes())?;
    }
    outcome
}
