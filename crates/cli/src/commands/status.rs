//! `etcdsnap status`: byte-identical to `etcdutl snapshot status` (3.5) in every format.

use std::io::Write;

use etcdsnap_mvcc::{Snapshot, status};

use crate::args::StatusFormat;
use crate::fail::{CmdResult, Failure, Outcome};
use crate::format::{Table, humanize_bytes};

pub fn run(
    snap: &Snapshot,
    format: StatusFormat,
    threads: usize,
    out: &mut dyn Write,
) -> CmdResult {
    let st = status::status(snap, threads).map_err(|e| Failure::at(snap.path(), e))?;
    write_status(&st, format, out)?;
    Ok(Outcome::Clean)
}

/// Writes `st` the way etcdutl 3.5 does.
pub fn write_status(
    st: &status::Status,
    format: StatusFormat,
    out: &mut dyn Write,
) -> std::io::Result<()> {
    match format {
        StatusFormat::Json => writeln!(
            out,
            r#"{{"hash":{},"revision":{},"totalKey":{},"totalSize":{}}}"#,
            st.hash, st.revision, st.total_key, st.total_size
        ),
        StatusFormat::Simple => writeln!(
            out,
            "{:x}, {}, {}, {}",
            st.hash,
            st.revision,
            st.total_key,
            humanize_bytes(st.total_size)
        ),
        StatusFormat::Fields => {
            writeln!(out, "\"Hash\" : {}", st.hash)?;
            writeln!(out, "\"Revision\" : {}", st.revision)?;
            writeln!(out, "\"Keys\" : {}", st.total_key)?;
            writeln!(out, "\"Size\" : {}", st.total_size)
        }
        StatusFormat::Table => {
            let mut t = Table::new(&["hash", "revision", "total keys", "total size"]);
            t.row(vec![
                format!("{:x}", st.hash),
                st.revision.to_string(),
                st.total_key.to_string(),
                humanize_bytes(st.total_size),
            ]);
            out.write_all(t.render_etcd().as_bytes())
        }
    }
}
