//! Several inputs in one command (`status *.db`, `verify *.db`): each is read in turn, a
//! failure on one is said on stderr and the others still run, and the exit status is the
//! worst (2 if any could not be read, else 1 if any found something).

use std::io::Write;
use std::path::{Path, PathBuf};

use etcdsnap_mvcc::versions::EtcdVersion;

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
/// (simple), one JSON object per line with `file` first, or fields with a `"File"` line. Each
/// file follows the etcdutl of `etcd_version` (default: its writer's): a 3.6+ row carries the
/// version (the table gets a VERSION column when any row does), and a file that etcdutl
/// refuses is said on stderr (each line led by the file) and makes the exit status 1.
pub fn status(
    files: &[PathBuf],
    format: StatusFormat,
    etcd_version: Option<EtcdVersion>,
    threads: usize,
    out: &mut dyn Write,
    err: &mut dyn Write,
) -> CmdResult {
    let mut rows: Vec<Vec<String>> = Vec::new();
    let mut with_version = false;
    let outcome = each(files, err, |path, err, _| {
        let snap = super::open_etcd(path, err)?;
        let progress =
            crate::style::Progress::start(format!("status: hashing {}", snap.path().display()));
        let name = snap.path().display().to_string();
        let computed =
            super::status::compute(&snap, etcd_version, threads, &format!("{name}: "), err)?;
        drop(progress);
        let Some((vs, version)) = computed else {
            return Ok(Outcome::Found);
        };
        let st = vs.status;
        let ver = version
            .at_least(3, 6)
            .then(|| vs.version.clone().unwrap_or_default());
        match format {
            StatusFormat::Table => {
                with_version |= ver.is_some();
                rows.push(vec![
                    name,
                    format!("{:x}", st.hash),
                    st.revision.to_string(),
                    st.total_key.to_string(),
                    humanize_bytes(st.total_size),
                    ver.unwrap_or_default(),
                ]);
            }
            StatusFormat::Simple => {
                write!(
                    out,
                    "{name}: {:x}, {}, {}, {}",
                    st.hash,
                    st.revision,
                    st.total_key,
                    humanize_bytes(st.total_size)
                )?;
                match ver {
                    Some(v) => writeln!(out, ", {v}")?,
                    None => writeln!(out)?,
                }
            }
            StatusFormat::Json => {
                write!(
                    out,
                    r#"{{"file":{},"hash":{},"revision":{},"totalKey":{},"totalSize":{}"#,
                    serde_json::Value::String(name),
                    st.hash,
                    st.revision,
                    st.total_key,
                    st.total_size
                )?;
                match ver {
                    Some(v) => writeln!(out, r#","version":{}}}"#, serde_json::Value::String(v))?,
                    None => writeln!(out, "}}")?,
                }
            }
            StatusFormat::Fields => {
                writeln!(
                    out,
                    "\"File\" : {}",
                    crate::format::go_quote(name.as_bytes())
                )?;
                super::status::write_versioned(&vs, format, version, out)?;
            }
        }
        Ok(Outcome::Clean)
    });
    if format == StatusFormat::Table {
        let mut headers = vec!["file", "hash", "revision", "total keys", "total size"];
        if with_version {
            headers.push("version");
        }
        let mut table = Table::new(&headers).left_columns(1);
        for mut r in rows {
            r.truncate(headers.len());
            table.row(r);
        }
        let text = if etcd_version.is_some_and(|v| v.at_least(3, 7)) {
            table.render_etcd37()
        } else {
            table.render_etcd()
        };
        out.write_all(text.as_bytes())?;
    }
    outcome
}
