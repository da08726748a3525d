//! `etcdsnap hashkv`: the hash `etcdctl endpoint hashkv --rev R` returns for this store.
//!
//! There is no endpoint to name, so the shapes are etcdctl's without it: simple is
//! `HASH, COMPACT REVISION, REVISION`, the table has those three columns, and JSON is the
//! HashKV response's own fields. REVISION is the store's current revision (the header
//! revision of etcd's answer), not the revision hashed; JSON also gives that as
//! `hash_revision` (the field etcd 3.6 added).

use std::io::Write;

use etcdsnap_mvcc::Snapshot;
use etcdsnap_mvcc::hashkv::{self, HashKv};

use crate::args::HashKvFormat;
use crate::commands::get::failure;
use crate::fail::{CmdResult, Outcome};
use crate::format::Table;

/// Runs `hashkv`.
pub fn run(
    snap: &Snapshot,
    rev: i64,
    format: HashKvFormat,
    threads: usize,
    out: &mut dyn Write,
) -> CmdResult {
    let h = hashkv::hash_kv(snap, rev, threads).map_err(|e| failure(snap, e))?;
    write(&h, format, out)?;
    Ok(Outcome::Clean)
}

/// Writes `h` in `format`.
pub fn write(h: &HashKv, format: HashKvFormat, out: &mut dyn Write) -> std::io::Result<()> {
    match format {
        HashKvFormat::Json => writeln!(
            out,
            r#"{{"hash":{},"compact_revision":{},"revision":{},"hash_revision":{}}}"#,
            h.hash, h.compact_revision, h.revision, h.hash_revision
        ),
        HashKvFormat::Simple => writeln!(out, "{}, {}, {}", h.hash, h.compact_revision, h.revision),
        HashKvFormat::Table => {
            let mut t = Table::new(&["hash", "compact revision", "revision"]);
            t.row(vec![
                h.hash.to_string(),
                h.compact_revision.to_string(),
                h.revision.to_string(),
            ]);
            out.write_all(t.render_etcd().as_bytes())
        }
    }
}
