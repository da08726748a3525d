//! `etcdsnap audit`: is every Secret in this snapshot encrypted at rest, and with which key?
//!
//! A gate for backup pipelines: exit 0 when every audited object is encrypted, 1 when any is
//! not (plaintext, or an empty or opaque value without an encryption prefix), 2 when the file
//! cannot be read. Only names are reported, never values: the verdict comes from the value's
//! prefix alone ([`etcdsnap_k8s::Audit`]), nothing is decoded or decrypted. The objects are the
//! live ones at the revision read; one scan of the `key` bucket that keeps only keys under the
//! audited resources.

use std::io::Write;

use etcdsnap_k8s::{Audit, AuditReport};
use etcdsnap_mvcc::keyspace::{ScanOptions, keyspace_at};
use etcdsnap_mvcc::{KeyRange, Snapshot};
use serde::Serialize;

use crate::args::AuditFormat;
use crate::commands::get::failure;
use crate::fail::{CmdResult, Failure, Outcome};
use crate::format::Table;

/// What `audit` was asked.
#[derive(Debug, Clone)]
pub struct AuditConfig {
    /// Revision to read (0 = the newest).
    pub rev: i64,
    /// Resources as written in keys (`secrets`, `example.com/widgets`).
    pub resources: Vec<String>,
    /// The API server's `--etcd-prefix`.
    pub etcd_prefix: String,
    /// Output format.
    pub format: AuditFormat,
    /// Threads for the scan.
    pub threads: usize,
}

/// The `-w json` document (docs/kubernetes.md).
#[derive(Debug, Serialize)]
pub struct AuditJson {
    /// The revision read.
    pub revision: i64,
    /// `true` when every audited object is encrypted (exit 0).
    pub all_encrypted: bool,
    /// Counts and the lists of unencrypted objects.
    #[serde(flatten)]
    pub report: AuditReport,
}

/// The key range holding the audited resources: one resource's prefix, or the whole registry.
fn audited_range(cfg: &AuditConfig) -> KeyRange {
    let prefix = cfg.etcd_prefix.trim_end_matches('/');
    match cfg.resources.as_slice() {
        [one] => KeyRange::prefix(format!("{prefix}/{one}/").as_bytes()),
        _ => KeyRange::prefix(format!("{prefix}/").as_bytes()),
    }
}

/// Runs the audit: the report and the revision read.
pub fn report(snap: &Snapshot, cfg: &AuditConfig) -> Result<(AuditReport, i64), Failure> {
    let ks = keyspace_at(
        snap,
        cfg.rev,
        &audited_range(cfg),
        ScanOptions {
            threads: cfg.threads,
            sort: false,
        },
    )
    .map_err(|e| failure(snap, e))?;
    let mut audit =
        Audit::for_resources(cfg.resources.iter().cloned()).with_prefix(&cfg.etcd_prefix);
    for kr in &ks.kvs {
        let kv = kr.rev.decode().map_err(|e| failure(snap, e))?;
        audit.add(kr.key, kv.value);
    }
    Ok((audit.finish(), ks.revision))
}

/// Runs `audit`.
pub fn run(snap: &Snapshot, cfg: &AuditConfig, out: &mut dyn Write) -> CmdResult {
    let (report, revision) = report(snap, cfg)?;
    let clean = report.plaintext.is_empty() && report.other.is_empty();
    match cfg.format {
        AuditFormat::Json => {
            let doc = AuditJson {
                revision,
                all_encrypted: clean,
                report,
            };
            serde_json::to_writer(&mut *out, &doc)
                .map_err(|e| Failure::Message(format!("write error: {e}")))?;
            out.write_all(b"\n")?;
        }
        AuditFormat::Text => write_text(&report, revision, out)?,
    }
    Ok(if clean {
        Outcome::Clean
    } else {
        Outcome::Found
    })
}

/// The readable form: a verdict line, the encryption keys in use, then every object that is
/// not encrypted, by namespace/name.
pub fn write_text(r: &AuditReport, revision: i64, out: &mut dyn Write) -> std::io::Result<()> {
    let n_plain = r.plaintext.len();
    let n_other = r.other.len();
    let verdict = if n_plain + n_other == 0 {
        "all encrypted".to_string()
    } else {
        format!("NOT ALL ENCRYPTED: {n_plain} plaintext, {n_other} other")
    };
    writeln!(
        out,
        "AUDIT of {} at revision {}: {} objects, {}",
        r.resources.join(", "),
        revision,
        r.total,
        verdict
    )?;
    if r.total == 0 {
        writeln!(
            out,
            "  no object of these resources at this revision (check --resource and --etcd-prefix)"
        )?;
    }
    writeln!(out)?;
    writeln!(out, "ENCRYPTED ({})", r.encrypted_count())?;
    if !r.encrypted.is_empty() {
        let mut t = Table::new(&["provider", "version", "key name", "objects"]).left_columns(3);
        for e in &r.encrypted {
            t.row(vec![
                e.provider.clone(),
                e.version.clone(),
                e.key_name.clone(),
                e.count.to_string(),
            ]);
        }
        out.write_all(t.render_etcd().as_bytes())?;
    }
    writeln!(out)?;
    writeln!(out, "PLAINTEXT ({n_plain})")?;
    for item in &r.plaintext {
        writeln!(
            out,
            "  {:<16} {}  ({})",
            item.resource,
            item.namespaced_name(),
            item.class
        )?;
    }
    if n_other > 0 {
        writeln!(out)?;
        writeln!(
            out,
            "NOT ENCRYPTED, NOT READABLE ({n_other}): empty or opaque values"
        )?;
        for item in &r.other {
            writeln!(
                out,
                "  {:<16} {}  ({})",
                item.resource,
                item.namespaced_name(),
                item.class
            )?;
        }
    }
    Ok(())
}
