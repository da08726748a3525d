//! `etcdsnap diff`: what changed between two snapshots (or one snapshot at two revisions).
//!
//! Both keyspaces are built at their revisions (in parallel, one per thread), then merged in
//! key order by [`etcdsnap_mvcc::diff::diff_keyspaces`] (key ranges compared on the worker
//! threads, the changes handed back in order), and every change is written as soon as its
//! range is done: memory is bounded by the two keyspace indexes and the changes of a few
//! ranges, never by the number of changes. The
//! per-group summary (per Kubernetes resource for `/registry/` keys, per leading path segment
//! otherwise) is kept in a small map of group names.

use std::collections::BTreeMap;
use std::io::Write;
use std::path::PathBuf;

use etcdsnap_k8s::{KeyInfo, group_prefix, parse_key};
use etcdsnap_mvcc::diff::{Change, ChangeKind, DiffSummary, KEYS_PER_TASK, diff_keyspaces};
use etcdsnap_mvcc::keyspace::{Keyspace, ScanOptions, keyspace_at};
use etcdsnap_mvcc::proto::KeyValueRef;
use etcdsnap_mvcc::{KeyRange, Snapshot};
use serde_json::Value;

use crate::args::DiffFormat;
use crate::decoded::{Decoded, decode_value};
use crate::fail::{CmdResult, Failure, Outcome};
use crate::format::b64;
use crate::style::{Paint, paint};

/// What `diff` was asked to do.
#[derive(Debug, Clone)]
pub struct DiffConfig {
    /// The "before" snapshot.
    pub a: PathBuf,
    /// The "after" snapshot.
    pub b: PathBuf,
    /// Revision of A to read (0 = newest).
    pub rev_a: i64,
    /// Revision of B to read (0 = newest).
    pub rev_b: i64,
    /// Keys compared.
    pub range: KeyRange,
    /// Show values (JSON: base64; text: a readable diff).
    pub values: bool,
    /// Show Secret payloads in value diffs.
    pub show_secrets: bool,
    /// Objects decoded: a unified diff of their kubectl YAML.
    pub decode: bool,
    /// With `decode`: fields that change on every write are left out of the comparison.
    pub ignore_server_fields: bool,
    /// Only the summary, no per-key lines.
    pub summary_only: bool,
    /// Output format.
    pub format: DiffFormat,
    /// Threads in all.
    pub threads: usize,
}

/// Counts of one group of keys.
#[derive(Debug, Clone, Copy, Default, serde::Serialize)]
struct GroupCounts {
    added: u64,
    deleted: u64,
    modified: u64,
    value_changed: u64,
}

/// The group a key is counted in: its Kubernetes resource, or its first path segment.
pub fn group_of(key: &[u8]) -> String {
    match parse_key(key) {
        KeyInfo::Object(o) => o.resource_id.into_owned(),
        KeyInfo::CompactRevKey => "compact_rev_key".to_string(),
        KeyInfo::Other => {
            let g = group_prefix(key, 1);
            if g.is_empty() {
                "(empty key)".to_string()
            } else {
                g.into_owned()
            }
        }
    }
}

pub fn run(cfg: &DiffConfig, out: &mut dyn Write, err: &mut dyn Write) -> CmdResult {
    let a = super::open(&cfg.a, err)?;
    let b = super::open(&cfg.b, err)?;
    let per_side = (cfg.threads / 2).max(1);
    let opts = ScanOptions {
        threads: per_side,
        sort: true,
    };
    let (ka, kb) = std::thread::scope(|s| {
        let ta = s.spawn(|| keyspace_at(&a, cfg.rev_a, &cfg.range, opts));
        let kb = keyspace_at(&b, cfg.rev_b, &cfg.range, opts);
        (
            ta.join().unwrap_or_else(|p| std::panic::resume_unwind(p)),
            kb,
        )
    });
    let ka = ka.map_err(|e| Failure::at(a.path(), e))?;
    let kb = kb.map_err(|e| Failure::at(b.path(), e))?;
    if cfg.range.is_single() && ka.kvs.is_empty() && kb.kvs.is_empty() {
        super::note_single_key_absent(&cfg.range, "in neither snapshot", err);
    }

    let mut w = Writer {
        cfg,
        out,
        groups: BTreeMap::new(),
        sides: serde_json::Value::Null,
        ignored: 0,
    };
    w.header(&a, &ka, &b, &kb)?;
    // The merge runs in key ranges on the worker threads; the changes come back in order.
    let mut summary = diff_keyspaces(
        &ka,
        &kb,
        cfg.threads,
        KEYS_PER_TASK,
        |e| Failure::at(a.path(), e),
        |e| Failure::at(b.path(), e),
        |c| w.change(c),
    )?;
    // Objects that differ only in server fields count as unchanged.
    summary.modified -= w.ignored;
    summary.unchanged += w.ignored;
    w.footer(&summary)?;
    Ok(if summary.is_empty() {
        Outcome::Clean
    } else {
        Outcome::Found
    })
}

struct Writer<'c, 'o> {
    cfg: &'c DiffConfig,
    out: &'o mut dyn Write,
    groups: BTreeMap<String, GroupCounts>,
    /// `{"a":..,"b":..}`, for the last line of jsonl.
    sides: serde_json::Value,
    /// Modified keys whose objects differ only in server fields (--ignore-server-fields).
    ignored: u64,
}

fn side_json(kv: &KeyValueRef<'_>, values: bool) -> serde_json::Value {
    let mut m = serde_json::json!({
        "create_revision": kv.create_revision,
        "mod_revision": kv.mod_revision,
        "version": kv.version,
        // Ids are hex strings in our JSON (past 2^53 JSON readers round numbers).
        "lease": format!("{:x}", kv.lease),
        "value_size": kv.value.len(),
    });
    if values {
        m["value"] = serde_json::Value::String(b64(kv.value));
    }
    m
}

impl Writer<'_, '_> {
    fn header(
        &mut self,
        a: &Snapshot,
        ka: &Keyspace<'_>,
        b: &Snapshot,
        kb: &Keyspace<'_>,
    ) -> Result<(), Failure> {
        match self.cfg.format {
            DiffFormat::Json => {
                let side = |s: &Snapshot, k: &Keyspace<'_>| serde_json::json!({"file": s.path().display().to_string(), "revision": k.revision, "keys": k.kvs.len()});
                write!(self.out, "{{\"a\":{},\"b\":{}", side(a, ka), side(b, kb))?;
                if !self.cfg.summary_only {
                    write!(self.out, ",\"changes\":[")?;
                }
            }
            DiffFormat::Jsonl => {
                let side = |s: &Snapshot, k: &Keyspace<'_>| serde_json::json!({"file": s.path().display().to_string(), "revision": k.revision, "keys": k.kvs.len()});
                self.sides = serde_json::json!({"a": side(a, ka), "b": side(b, kb)});
            }
            DiffFormat::Text => {}
        }
        Ok(())
    }

    fn change(&mut self, c: &Change<'_, '_>) -> Result<(), Failure> {
        let key = c.key_bytes();
        if self.cfg.ignore_server_fields
            && c.kind == ChangeKind::Modified
            && let (Some(a), Some(b)) = (&c.a, &c.b)
        {
            let norm = |v: &[u8]| match decode_value(key, v, true) {
                Decoded::Object { object, .. } => {
                    let mut o = *object;
                    strip_server_fields(&mut o);
                    Some(o)
                }
                _ => None,
            };
            if let (Some(x), Some(y)) = (norm(a.value), norm(b.value))
                && x == y
            {
                self.ignored += 1;
                return Ok(());
            }
        }
        let g = self.groups.entry(group_of(key)).or_default();
        match c.kind {
            ChangeKind::Added => g.added += 1,
            ChangeKind::Deleted => g.deleted += 1,
            ChangeKind::Modified => {
                g.modified += 1;
                g.value_changed += u64::from(c.value_changed);
            }
        }
        if self.cfg.summary_only {
            return Ok(());
        }
        match self.cfg.format {
            DiffFormat::Json | DiffFormat::Jsonl => self.change_json(c),
            DiffFormat::Text => self.change_text(c),
        }
    }

    fn change_json(&mut self, c: &Change<'_, '_>) -> Result<(), Failure> {
        let first = self
            .groups
            .values()
            .map(|g| g.added + g.deleted + g.modified)
            .sum::<u64>()
            == 1;
        let secret_hidden = is_secret(c.key_bytes()) && !self.cfg.show_secrets;
        let values = self.cfg.values && !secret_hidden;
        let v = serde_json::json!({
            "key": b64(c.key_bytes()),
            "change": c.kind,
            "value_changed": c.value_changed,
            "a": c.a.as_ref().map(|kv| side_json(kv, values)),
            "b": c.b.as_ref().map(|kv| side_json(kv, values)),
        });
        let jsonl = self.cfg.format == DiffFormat::Jsonl;
        if !first && !jsonl {
            self.out.write_all(b",")?;
        }
        serde_json::to_writer(&mut *self.out, &v).map_err(std::io::Error::from)?;
        if jsonl {
            self.out.write_all(b"\n")?;
        }
        Ok(())
    }

    fn change_text(&mut self, c: &Change<'_, '_>) -> Result<(), Failure> {
        let key = crate::style::key(c.key_bytes());
        match (c.kind, &c.a, &c.b) {
            (ChangeKind::Added, _, Some(b)) => {
                writeln!(self.out, "{}", paint(Paint::Green, &format!("+ {key}")))?;
                if self.cfg.values {
                    self.value_text(c.key_bytes(), None, Some(b.value))?;
                }
            }
            (ChangeKind::Deleted, Some(a), _) => {
                writeln!(self.out, "{}", paint(Paint::Red, &format!("- {key}")))?;
                if self.cfg.values {
                    self.value_text(c.key_bytes(), Some(a.value), None)?;
                }
            }
            (ChangeKind::Modified, Some(a), Some(b)) => {
                let what = if c.value_changed {
                    "value changed"
                } else {
                    "same value"
                };
                let mut moved = format!("mod_revision {} -> {}", a.mod_revision, b.mod_revision);
                if a.create_revision != b.create_revision {
                    moved.push_str(&format!(
                        ", create_revision {} -> {}",
                        a.create_revision, b.create_revision
                    ));
                }
                if a.lease != b.lease {
                    moved.push_str(&format!(", lease {:x} -> {:x}", a.lease, b.lease));
                }
                writeln!(
                    self.out,
                    "{}",
                    paint(Paint::Yellow, &format!("~ {key} ({what}, {moved})"))
                )?;
                if self.cfg.values && c.value_changed {
                    self.value_text(c.key_bytes(), Some(a.value), Some(b.value))?;
                }
            }
            _ => {}
        }
        Ok(())
    }

    /// A readable rendering of a value change: a line diff of text (Kubernetes objects decoded
    /// to indented JSON first), else sizes and fingerprints.
    fn value_text(
        &mut self,
        key: &[u8],
        a: Option<&[u8]>,
        b: Option<&[u8]>,
    ) -> Result<(), Failure> {
        let show = self.cfg.show_secrets;
        if self.cfg.decode {
            return self.object_diff(key, a, b);
        }
        let (ta, tb) = (
            a.map(|v| render_value(key, v, show)),
            b.map(|v| render_value(key, v, show)),
        );
        // An absent side diffs as empty text; an opaque side cannot be diffed by lines.
        let text = |r: &Option<Rendered>| match r {
            None => Some(String::new()),
            Some(Rendered::Text(t)) => Some(t.clone()),
            Some(Rendered::Opaque { .. }) => None,
        };
        match text(&ta).zip(text(&tb)) {
            Some((x, y)) => {
                let d = similar::TextDiff::from_lines(x.as_str(), y.as_str());
                for op in d.ops() {
                    for change in d.iter_changes(op) {
                        let (sign, colour) = match change.tag() {
                            similar::ChangeTag::Delete => ("-", Paint::Red),
                            similar::ChangeTag::Insert => ("+", Paint::Green),
                            similar::ChangeTag::Equal => continue,
                        };
                        let line = change.value();
                        let line = line.strip_suffix('\n').unwrap_or(line);
                        writeln!(self.out, "{}", paint(colour, &format!("    {sign} {line}")))?;
                    }
                }
            }
            None => {
                let one = |r: &Option<Rendered>| match r {
                    None => "(absent)".to_string(),
                    Some(Rendered::Text(t)) if t.len() <= 200 && !t.contains('\n') => {
                        format!("{t:?}")
                    }
                    Some(r) => r.summary(),
                };
                writeln!(self.out, "    {} -> {}", one(&ta), one(&tb))?;
            }
        }
        Ok(())
    }

    fn footer(&mut self, s: &DiffSummary) -> Result<(), Failure> {
        let summary = serde_json::json!({
            "added": s.added, "deleted": s.deleted, "modified": s.modified, "unchanged": s.unchanged,
        });
        match self.cfg.format {
            DiffFormat::Json => {
                if !self.cfg.summary_only {
                    write!(self.out, "]")?;
                }
                let groups: serde_json::Map<String, serde_json::Value> = self
                    .groups
                    .iter()
                    .map(|(k, v)| (k.clone(), serde_json::to_value(v).unwrap_or_default()))
                    .collect();
                writeln!(
                    self.out,
                    ",\"summary\":{summary},\"groups\":{}}}",
                    serde_json::Value::Object(groups)
                )?;
            }
            DiffFormat::Jsonl => {
                let mut last = std::mem::take(&mut self.sides);
                last["summary"] = summary;
                last["groups"] = serde_json::Value::Object(
                    self.groups
                        .iter()
                        .map(|(k, v)| (k.clone(), serde_json::to_value(v).unwrap_or_default()))
                        .collect(),
                );
                serde_json::to_writer(&mut *self.out, &last).map_err(std::io::Error::from)?;
                self.out.write_all(b"\n")?;
            }
            DiffFormat::Text => {
                let value_changed: u64 = self.groups.values().map(|g| g.value_changed).sum();
                if !self.cfg.summary_only && !s.is_empty() {
                    writeln!(self.out)?;
                }
                writeln!(
                    self.out,
                    "{} added, {} deleted, {} modified ({} value changed, {} same value), {} unchanged",
                    s.added,
                    s.deleted,
                    s.modified,
                    value_changed,
                    s.modified - value_changed,
                    s.unchanged
                )?;
                if !self.groups.is_empty() {
                    let width = self
                        .groups
                        .keys()
                        .map(|k| k.chars().count())
                        .max()
                        .unwrap_or(5)
                        .max(5);
                    writeln!(
                        self.out,
                        "{:<width$}  {:>8}  {:>8}  {:>8}  {:>13}",
                        "GROUP", "ADDED", "DELETED", "MODIFIED", "VALUE CHANGED"
                    )?;
                    for (name, g) in &self.groups {
                        writeln!(
                            self.out,
                            "{name:<width$}  {:>8}  {:>8}  {:>8}  {:>13}",
                            g.added, g.deleted, g.modified, g.value_changed
                        )?;
                    }
                }
            }
        }
        Ok(())
    }
}

impl Writer<'_, '_> {
    /// `--decode`: a unified diff of the two objects' YAML (kubectl's), or the markers of
    /// values that are not objects.
    fn object_diff(
        &mut self,
        key: &[u8],
        a: Option<&[u8]>,
        b: Option<&[u8]>,
    ) -> Result<(), Failure> {
        let text = |v: Option<&[u8]>| -> String {
            let Some(v) = v else { return String::new() };
            match decode_value(key, v, self.cfg.show_secrets) {
                Decoded::Object { object, .. } => {
                    let mut o = *object;
                    if self.cfg.ignore_server_fields {
                        strip_server_fields(&mut o);
                    } else if let Some(Value::Object(m)) = o.get_mut("metadata") {
                        // kubectl hides managedFields in its YAML, so does this.
                        m.remove("managedFields");
                    }
                    crate::yaml::to_yaml(&o)
                }
                Decoded::Text(t) => t + "\n",
                other => other.marker().unwrap_or_default() + "\n",
            }
        };
        let (x, y) = (text(a), text(b));
        let name = crate::style::key(key);
        let d = similar::TextDiff::from_lines(x.as_str(), y.as_str());
        let mut u = d.unified_diff();
        u.context_radius(3)
            .header(&format!("a{name}"), &format!("b{name}"));
        write!(self.out, "{u}")?;
        Ok(())
    }
}

/// Leaves out what changes on every write: metadata.resourceVersion, managedFields and
/// generation, status.observedGeneration, and every timestamp under status (fields named
/// `*Time` or `*Timestamp`, e.g. conditions' lastTransitionTime, lastHeartbeatTime).
pub fn strip_server_fields(o: &mut Value) {
    if let Some(Value::Object(m)) = o.get_mut("metadata") {
        for f in ["resourceVersion", "managedFields", "generation"] {
            m.remove(f);
        }
    }
    fn times(v: &mut Value) {
        match v {
            Value::Object(m) => {
                m.retain(|k, _| !(k.ends_with("Time") || k.ends_with("Timestamp")));
                m.values_mut().for_each(times);
            }
            Value::Array(a) => a.iter_mut().for_each(times),
            _ => {}
        }
    }
    if let Some(status) = o.get_mut("status") {
        if let Value::Object(m) = status {
            m.remove("observedGeneration");
        }
        times(status);
    }
}

fn is_secret(key: &[u8]) -> bool {
    matches!(parse_key(key), KeyInfo::Object(o) if o.resource_id == "secrets")
}

/// A value made readable for a diff.
enum Rendered {
    Text(String),
    Opaque {
        class: &'static str,
        len: usize,
        fingerprint: u64,
    },
}

impl Rendered {
    fn summary(&self) -> String {
        match self {
            Rendered::Text(t) => format!("text, {} bytes", t.len()),
            Rendered::Opaque {
                class,
                len,
                fingerprint,
            } => format!("{class}, {len} bytes, xxh3 {fingerprint:016x}"),
        }
    }
}

/// A value rendered the way `get --decode` shows it (the same document, field order and
/// Secret hiding, from [`crate::decoded`]), or, when it is not text, its class and fingerprint.
fn render_value(key: &[u8], v: &[u8], show_secrets: bool) -> Rendered {
    let d = decode_value(key, v, show_secrets);
    match d {
        Decoded::Object { .. } | Decoded::Text(_) => {
            let mut buf = Vec::new();
            match d.write_text(&mut buf) {
                Ok(()) => Rendered::Text(String::from_utf8_lossy(&buf).into_owned()),
                Err(_) => Rendered::Opaque {
                    class: d.class(),
                    len: v.len(),
                    fingerprint: xxhash_rust::xxh3::xxh3_64(v),
                },
            }
        }
        _ => Rendered::Opaque {
            class: d.class(),
            len: v.len(),
            fingerprint: xxhash_rust::xxh3::xxh3_64(v),
        },
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn server_fields_are_what_changes_on_every_write() {
        let a = json!({"kind": "Pod", "metadata": {"name": "p", "resourceVersion": "5", "generation": 1,
            "managedFields": [{"manager": "kubelet"}]},
            "spec": {"nodeName": "n"},
            "status": {"observedGeneration": 1, "conditions": [{"type": "Ready", "status": "True",
              "lastTransitionTime": "2025-01-01T00:00:00Z", "lastProbeTime": null}], "startTime": "x"}});
        let mut b = a.clone();
        b["metadata"]["resourceVersion"] = json!("9");
        b["metadata"]["generation"] = json!(2);
        b["metadata"]["managedFields"][0]["manager"] = json!("kubectl");
        b["status"]["observedGeneration"] = json!(2);
        b["status"]["conditions"][0]["lastTransitionTime"] = json!("2026-01-01T00:00:00Z");
        let (mut x, mut y) = (a.clone(), b.clone());
        strip_server_fields(&mut x);
        strip_server_fields(&mut y);
        assert_eq!(x, y);
        // A real change is kept.
        b["spec"]["nodeName"] = json!("m");
        let mut y = b.clone();
        strip_server_fields(&mut y);
        assert_ne!(x, y);
        assert_eq!(
            x["status"]["conditions"][0],
            json!({"type": "Ready", "status": "True"})
        );
    }
}
