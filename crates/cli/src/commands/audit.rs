//! `etcdsnap audit`: is every Secret in this snapshot encrypted at rest, and with which key?
//!
//! A gate for backup pipelines: exit 0 when every audited object is encrypted, 1 when any is
//! not (plaintext, or an empty or opaque value without an encryption prefix), 2 when the file
//! cannot be read. Only names are reported, never values: the verdict comes from the value's
//! prefix alone ([`etcdsnap_k8s::Audit`]), nothing is decoded or decrypted. The objects are the
//! live ones at the revision read; one scan of the `key` bucket that keeps only keys under the
//! audited resources.
//!
//! Encryption at rest protects what is written after it is enabled: the older revisions of a
//! Secret written before stay in the file, in plaintext, until a compaction drops them. With
//! `--history` every stored older revision of the audited keys is checked too (from the full
//! revision index), and any that is not encrypted also makes the verdict 1.

use std::io::Write;

use etcdsnap_k8s::{Audit, AuditItem, AuditReport, ValueKind, classify, parse_key_with_prefix};
use etcdsnap_mvcc::keyspace::{ScanOptions, keyspace_at, resolve_read};
use etcdsnap_mvcc::{KeyRange, RevIndex, Snapshot};
use serde::Serialize;

use crate::args::AuditFormat;
use crate::commands::get::failure;
use crate::fail::{CmdResult, Failure, Outcome};
use crate::format::{Table, readable};

/// What `audit` was asked.
#[derive(Debug, Clone)]
pub struct AuditConfig {
    /// Revision to read (0 = the newest).
    pub rev: i64,
    /// Only keys in this range are audited (with the resources).
    pub range: KeyRange,
    /// Resources as written in keys (`secrets`, `example.com/widgets`).
    pub resources: Vec<String>,
    /// The API server's `--etcd-prefix`.
    pub etcd_prefix: String,
    /// Output format.
    pub format: AuditFormat,
    /// Threads for the scan.
    pub threads: usize,
    /// Also audit the older revisions still stored.
    pub history: bool,
}

/// `--history`: the older revisions (at or before the revision read) of audited keys.
#[derive(Debug, Default, Serialize)]
pub struct HistoryAudit {
    /// Older revisions audited (puts; deletions hold no value).
    pub revisions: u64,
    /// Of those, encrypted.
    pub encrypted: u64,
    /// The ones not encrypted, by key then revision.
    pub not_encrypted: Vec<HistoryItem>,
}

/// An older revision that is not encrypted.
#[derive(Debug, Serialize)]
pub struct HistoryItem {
    /// The resource.
    pub resource: String,
    /// The namespace (empty when cluster-scoped).
    pub namespace: String,
    /// The object name.
    pub name: String,
    /// The revision (main) of that put.
    pub revision: i64,
    /// `protobuf`, `json`, `text`, `empty`, `binary`.
    pub class: &'static str,
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
    /// With `--history`: the older revisions.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub history: Option<HistoryAudit>,
}

/// The audit's findings.
#[derive(Debug)]
pub struct Findings {
    /// The live objects.
    pub report: AuditReport,
    /// The revision read.
    pub revision: i64,
    /// The older revisions, with `--history`.
    pub history: Option<HistoryAudit>,
}

impl Findings {
    /// True when every audited value is encrypted.
    pub fn all_encrypted(&self) -> bool {
        self.report.plaintext.is_empty()
            && self.report.other.is_empty()
            && self
                .history
                .as_ref()
                .is_none_or(|h| h.not_encrypted.is_empty())
    }
}

/// The key range holding the audited resources: one resource's prefix, or the whole registry.
fn audited_range(cfg: &AuditConfig) -> KeyRange {
    let prefix = cfg.etcd_prefix.trim_end_matches('/');
    match cfg.resources.as_slice() {
        [one] => KeyRange::prefix(format!("{prefix}/{one}/").as_bytes()),
        _ => KeyRange::prefix(format!("{prefix}/").as_bytes()),
    }
}

/// Runs the audit.
pub fn report(snap: &Snapshot, cfg: &AuditConfig) -> Result<Findings, Failure> {
    let range = audited_range(cfg);
    let mut audit =
        Audit::for_resources(cfg.resources.iter().cloned()).with_prefix(&cfg.etcd_prefix);
    if cfg.history {
        return report_with_history(snap, cfg, &range, audit);
    }
    let ks = keyspace_at(
        snap,
        cfg.rev,
        &range,
        ScanOptions {
            threads: cfg.threads,
            sort: false,
        },
    )
    .map_err(|e| failure(snap, e))?;
    for kr in ks.kvs.iter().filter(|kr| cfg.range.contains(kr.key)) {
        let kv = kr.rev.decode().map_err(|e| failure(snap, e))?;
        audit.add(kr.key, kv.value);
    }
    Ok(Findings {
        report: audit.finish(),
        revision: ks.revision,
        history: None,
    })
}

/// `--history`: the live objects as without it, and every older put of the audited keys.
fn report_with_history(
    snap: &Snapshot,
    cfg: &AuditConfig,
    range: &KeyRange,
    mut audit: Audit,
) -> Result<Findings, Failure> {
    let index = RevIndex::build(snap).map_err(|e| failure(snap, e))?;
    let at = resolve_read(&index.store(), cfg.rev).map_err(|e| failure(snap, e))?;
    let mut history = HistoryAudit::default();
    for h in index.range(range) {
        let key = h.key();
        if !cfg.range.contains(key) {
            continue;
        }
        let Some(object) = parse_key_with_prefix(key, &cfg.etcd_prefix).into_object() else {
            continue;
        };
        if !cfg.resources.iter().any(|r| *r == object.resource_id) {
            continue;
        }
        let all = h.revisions();
        let revs = all
            .get(..all.partition_point(|r| r.main() <= at))
            .unwrap_or_default();
        let Some((newest, older)) = revs.split_last() else {
            continue;
        };
        if !newest.is_tombstone() {
            let kv = newest.decode().map_err(|e| failure(snap, e))?;
            audit.add(key, kv.value);
        }
        for r in older.iter().filter(|r| !r.is_tombstone()) {
            let kv = r.decode().map_err(|e| failure(snap, e))?;
            history.revisions += 1;
            match classify(kv.value) {
                ValueKind::Encrypted(_) => history.encrypted += 1,
                kind => history.not_encrypted.push(HistoryItem {
                    resource: object.resource_id.to_string(),
                    namespace: object.namespace.as_deref().unwrap_or_default().to_string(),
                    name: object.name.to_string(),
                    revision: r.main(),
                    class: kind.class(),
                }),
            }
        }
    }
    Ok(Findings {
        report: audit.finish(),
        revision: at,
        history: Some(history),
    })
}

/// kubectl's names of built-in resources (singular, plural, short) and the resource as the
/// API server writes it in keys. Anything else is taken as written (`example.com/widgets`).
const RESOURCE_NAMES: &[(&[&str], &str)] = &[
    (&["secret", "secrets"], "secrets"),
    (&["configmap", "configmaps", "cm"], "configmaps"),
    (&["pod", "pods", "po"], "pods"),
    (&["service", "services", "svc"], "services/specs"),
    (&["endpoints", "ep"], "services/endpoints"),
    (&["node", "nodes", "no", "minions"], "minions"),
    (&["namespace", "namespaces", "ns"], "namespaces"),
    (
        &["serviceaccount", "serviceaccounts", "sa"],
        "serviceaccounts",
    ),
    (&["event", "events", "ev"], "events"),
    (
        &["persistentvolume", "persistentvolumes", "pv"],
        "persistentvolumes",
    ),
    (
        &["persistentvolumeclaim", "persistentvolumeclaims", "pvc"],
        "persistentvolumeclaims",
    ),
    (&["deployment", "deployments", "deploy"], "deployments"),
    (&["replicaset", "replicasets", "rs"], "replicasets"),
    (&["statefulset", "statefulsets", "sts"], "statefulsets"),
    (&["daemonset", "daemonsets", "ds"], "daemonsets"),
    (&["job", "jobs"], "jobs"),
    (&["cronjob", "cronjobs", "cj"], "cronjobs"),
    (&["ingress", "ingresses", "ing"], "ingress"),
    (
        &[
            "replicationcontroller",
            "replicationcontrollers",
            "rc",
            "controllers",
        ],
        "controllers",
    ),
    (&["role", "roles"], "roles"),
    (&["rolebinding", "rolebindings"], "rolebindings"),
    (&["clusterrole", "clusterroles"], "clusterroles"),
    (
        &["clusterrolebinding", "clusterrolebindings"],
        "clusterrolebindings",
    ),
    (&["lease", "leases"], "leases"),
    (&["storageclass", "storageclasses", "sc"], "storageclasses"),
    (
        &["priorityclass", "priorityclasses", "pc"],
        "priorityclasses",
    ),
    (
        &[
            "customresourcedefinition",
            "customresourcedefinitions",
            "crd",
            "crds",
        ],
        "apiextensions.k8s.io/customresourcedefinitions",
    ),
];

/// The resource as written in keys for a name a user typed (kubectl's singular, plural or
/// short name, any case; a `/`-qualified name as is).
pub fn resource_in_keys(name: &str) -> String {
    let lower = name.trim().trim_matches('/').to_ascii_lowercase();
    RESOURCE_NAMES
        .iter()
        .find(|(names, _)| names.contains(&lower.as_str()))
        .map_or(lower.clone(), |(_, r)| (*r).to_string())
}

/// Runs `audit`.
pub fn run(snap: &Snapshot, cfg: &AuditConfig, out: &mut dyn Write) -> CmdResult {
    let findings = report(snap, cfg)?;
    if findings.report.total == 0 {
        // A gate that looked at nothing must not pass.
        let prefix = cfg.etcd_prefix.trim_end_matches('/');
        let looked: Vec<String> = cfg
            .resources
            .iter()
            .map(|r| format!("{prefix}/{r}/"))
            .collect();
        return Err(Failure::at(
            snap.path(),
            format!(
                "nothing to audit: no object under {} at revision {}{}; a gate that audited nothing does not pass (check --resource, --etcd-prefix and the keys selected)",
                looked.join(", "),
                findings.revision,
                if cfg.range == KeyRange::all() {
                    ""
                } else {
                    " in the keys selected"
                }
            ),
        ));
    }
    let clean = findings.all_encrypted();
    match cfg.format {
        AuditFormat::Json => {
            let doc = AuditJson {
                revision: findings.revision,
                all_encrypted: clean,
                report: findings.report,
                history: findings.history,
            };
            serde_json::to_writer(&mut *out, &doc).map_err(std::io::Error::from)?;
            out.write_all(b"\n")?;
        }
        AuditFormat::Jsonl => {
            // One line per finding (`"finding"`: plaintext, not_readable, older_revision),
            // then the counts: the -w json document without its lists.
            let mut line = |finding: &str, item: serde_json::Value| -> std::io::Result<()> {
                let mut v = item;
                v["finding"] = serde_json::Value::String(finding.into());
                serde_json::to_writer(&mut *out, &v).map_err(std::io::Error::from)?;
                out.write_all(b"\n")
            };
            let r = &findings.report;
            for (finding, items) in [("plaintext", &r.plaintext), ("not_readable", &r.other)] {
                for item in items {
                    line(
                        finding,
                        serde_json::to_value(item).map_err(std::io::Error::from)?,
                    )?;
                }
            }
            if let Some(h) = &findings.history {
                for item in &h.not_encrypted {
                    line(
                        "older_revision",
                        serde_json::to_value(item).map_err(std::io::Error::from)?,
                    )?;
                }
            }
            let summary = serde_json::json!({
                "revision": findings.revision,
                "all_encrypted": clean,
                "resources": r.resources,
                "total": r.total,
                "encrypted": r.encrypted,
                "plaintext": r.plaintext.len(),
                "not_readable": r.other.len(),
                "older_revisions_not_encrypted": findings.history.as_ref().map(|h| h.not_encrypted.len()),
            });
            serde_json::to_writer(&mut *out, &summary).map_err(std::io::Error::from)?;
            out.write_all(b"\n")?;
        }
        AuditFormat::Text => write_text(&findings, out)?,
    }
    Ok(if clean {
        Outcome::Clean
    } else {
        Outcome::Found
    })
}

/// The readable form: a verdict line, the encryption keys in use, then every object that is
/// not encrypted, by namespace/name.
pub fn write_text(f: &Findings, out: &mut dyn Write) -> std::io::Result<()> {
    let (r, revision) = (&f.report, f.revision);
    let n_plain = r.plaintext.len();
    let n_other = r.other.len();
    let n_hist = f.history.as_ref().map_or(0, |h| h.not_encrypted.len());
    let verdict = if f.all_encrypted() {
        "all encrypted".to_string()
    } else if n_hist == 0 {
        format!("NOT ALL ENCRYPTED: {n_plain} plaintext, {n_other} other")
    } else {
        format!("NOT ALL ENCRYPTED: {n_plain} plaintext, {n_other} other, {n_hist} older revisions")
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
        write_item(out, item)?;
    }
    if n_other > 0 {
        writeln!(out)?;
        writeln!(
            out,
            "NOT ENCRYPTED, NOT READABLE ({n_other}): empty or opaque values"
        )?;
        for item in &r.other {
            write_item(out, item)?;
        }
    }
    if let Some(h) = &f.history {
        writeln!(out)?;
        writeln!(
            out,
            "OLDER REVISIONS: {} stored, {} encrypted, {} not",
            h.revisions,
            h.encrypted,
            h.not_encrypted.len()
        )?;
        for item in &h.not_encrypted {
            let name = if item.namespace.is_empty() {
                item.name.clone()
            } else {
                format!("{}/{}", item.namespace, item.name)
            };
            writeln!(
                out,
                "  {:<16} {} @ {}  ({})",
                readable(item.resource.as_bytes()),
                readable(name.as_bytes()),
                item.revision,
                item.class
            )?;
        }
    }
    Ok(())
}

/// One audited object that is not encrypted: resource, namespace/name and what it holds.
fn write_item(out: &mut dyn Write, item: &AuditItem) -> std::io::Result<()> {
    writeln!(
        out,
        "  {:<16} {}  ({})",
        readable(item.resource.as_bytes()),
        readable(item.namespaced_name().as_bytes()),
        item.class
    )
}
