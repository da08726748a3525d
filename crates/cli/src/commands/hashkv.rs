//! `etcdsnap hashkv`: the hash etcd computes over the MVCC history at R, in the shape of the
//! etcd tool that prints it.
//!
//! - etcd 3.5 (the default for files without a storage version): etcd 3.5 has no offline
//!   hashkv, so the shape is etcdctl's without the endpoint: simple is
//!   `HASH, COMPACT REVISION, REVISION`, the table has those three columns, and JSON is the
//!   HashKV response's own fields. REVISION is the store's current revision (the header
//!   revision of etcd's answer), not the revision hashed; JSON also gives that as
//!   `hash_revision` (the field etcd 3.6 added).
//! - etcd 3.6 and 3.7: `etcdutl hashkv` (`etcdutl/etcdutl/printer*.go`): simple
//!   `HASH, HASH REVISION, COMPACT REVISION`, JSON `{"hash","hashRevision","compactRevision"}`,
//!   table `HASH | HASH REVISION | COMPACT REVISION` (3.7: box-drawing borders), fields.
//! - `--endpoint EP`: `etcdctl endpoint hashkv` of that version for a member at EP.
//!
//! The rules (tombstone at the compaction revision, R equal to the compaction) follow
//! `--etcd-version` too; see `docs/etcd-versions.md`.

use std::io::Write;

use etcdsnap_mvcc::Snapshot;
use etcdsnap_mvcc::hashkv::{self, HashKv, HashRules};
use etcdsnap_mvcc::versions::{self, EtcdVersion};

use crate::args::HashKvFormat;
use crate::commands::get::failure;
use crate::fail::{CmdResult, Outcome};
use crate::format::Table;

/// What `hashkv` was asked.
#[derive(Debug, Clone)]
pub struct HashKvConfig {
    /// The revision to hash (0 = the newest).
    pub rev: i64,
    /// Output format.
    pub format: HashKvFormat,
    /// Whose rules and shape (`None`: the writer's).
    pub etcd_version: Option<EtcdVersion>,
    /// Print etcdctl's `endpoint hashkv` for this endpoint.
    pub endpoint: Option<String>,
    /// Threads for hashing.
    pub threads: usize,
}

/// Runs `hashkv`.
pub fn run(snap: &Snapshot, cfg: &HashKvConfig, out: &mut dyn Write) -> CmdResult {
    let version = match cfg.etcd_version {
        Some(v) => v,
        None => versions::default_version(snap).map_err(|e| failure(snap, e))?,
    };
    let h = hashkv::hash_kv_with(snap, cfg.rev, cfg.threads, HashRules::of(version))
        .map_err(|e| failure(snap, e))?;
    match &cfg.endpoint {
        Some(ep) => {
            let term = snap
                .meta_info()
                .map_err(|e| failure(snap, e))?
                .term
                .unwrap_or(0);
            write_endpoint(&h, ep, term, cfg.format, version, out)?
        }
        None if version.at_least(3, 6) => write_etcdutl(&h, cfg.format, version, out)?,
        None => write(&h, cfg.format, out)?,
    }
    Ok(Outcome::Clean)
}

/// Writes `h` in `format` (the etcd 3.5 shape).
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
        HashKvFormat::Fields => write_etcdutl(h, format, EtcdVersion::line(3, 6), out),
    }
}

/// etcdutl 3.6/3.7 `hashkv` (`etcdutl/etcdutl/printer.go` `makeDBHashKVTable`, and the
/// simple, JSON, fields and table printers beside it).
pub fn write_etcdutl(
    h: &HashKv,
    format: HashKvFormat,
    version: EtcdVersion,
    out: &mut dyn Write,
) -> std::io::Result<()> {
    match format {
        HashKvFormat::Json => writeln!(
            out,
            r#"{{"hash":{},"hashRevision":{},"compactRevision":{}}}"#,
            h.hash, h.hash_revision, h.compact_revision
        ),
        HashKvFormat::Simple => writeln!(
            out,
            "{}, {}, {}",
            h.hash, h.hash_revision, h.compact_revision
        ),
        HashKvFormat::Fields => {
            writeln!(out, "\"Hash\" : {}", h.hash)?;
            writeln!(out, "\"Hash revision\" : {}", h.hash_revision)?;
            writeln!(out, "\"Compact revision\" : {}", h.compact_revision)
        }
        HashKvFormat::Table => {
            let mut t = Table::new(&["hash", "hash revision", "compact revision"]);
            t.row(vec![
                h.hash.to_string(),
                h.hash_revision.to_string(),
                h.compact_revision.to_string(),
            ]);
            out.write_all(table_of(&t, version).as_bytes())
        }
    }
}

fn table_of(t: &Table, version: EtcdVersion) -> String {
    if version.at_least(3, 7) {
        t.render_etcd37()
    } else {
        t.render_etcd()
    }
}

/// etcdctl `endpoint hashkv` (`etcdctl/ctlv3/command/printer*.go`: 3.5 prints endpoint and
/// hash, 3.6+ adds the hash revision). The response header holds what a file knows: the
/// store's revision and, for 3.5+ files, the raft term; cluster and member ids are unknown,
/// so they are left out (as `get` does).
pub fn write_endpoint(
    h: &HashKv,
    ep: &str,
    term: u64,
    format: HashKvFormat,
    version: EtcdVersion,
    out: &mut dyn Write,
) -> std::io::Result<()> {
    let v36 = version.at_least(3, 6);
    match format {
        HashKvFormat::Simple => {
            write!(out, "{ep}, {}", h.hash)?;
            if v36 {
                write!(out, ", {}", h.hash_revision)?;
            }
            writeln!(out)
        }
        HashKvFormat::Table => {
            let mut headers = vec!["endpoint", "hash"];
            let mut row = vec![ep.to_string(), h.hash.to_string()];
            if v36 {
                headers.push("hash_revision");
                row.push(h.hash_revision.to_string());
            }
            let mut t = Table::new(&headers);
            t.row(row);
            out.write_all(table_of(&t, version).as_bytes())
        }
        HashKvFormat::Json => {
            // encoding/json of etcdserverpb.HashKVResponse: fields in declaration order,
            // every one omitempty.
            let mut header = Vec::new();
            if h.revision != 0 {
                header.push(format!("\"revision\":{}", h.revision));
            }
            if term != 0 {
                header.push(format!("\"raft_term\":{term}"));
            }
            let mut resp = vec![format!("\"header\":{{{}}}", header.join(","))];
            if h.hash != 0 {
                resp.push(format!("\"hash\":{}", h.hash));
            }
            if h.compact_revision != 0 {
                resp.push(format!("\"compact_revision\":{}", h.compact_revision));
            }
            if v36 && h.hash_revision != 0 {
                resp.push(format!("\"hash_revision\":{}", h.hash_revision));
            }
            writeln!(
                out,
                "[{{\"Endpoint\":{},\"HashKV\":{{{}}}}}]",
                serde_json::Value::from(ep),
                resp.join(",")
            )
        }
        HashKvFormat::Fields => {
            if h.revision > 0 {
                writeln!(out, "\"Revision\" : {}", h.revision)?;
            }
            writeln!(out, "\"RaftTerm\" : {term}")?;
            writeln!(out, "\"Endpoint\" : {}", versions::go_quote(ep.as_bytes()))?;
            writeln!(out, "\"Hash\" : {}", h.hash)?;
            if v36 {
                writeln!(out, "\"HashRevision\" : {}", h.hash_revision)?;
            }
            writeln!(out)
        }
    }
}
