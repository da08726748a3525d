//! `etcdsnap kube get`: Kubernetes objects out of a snapshot the way `kubectl get` shows them.
//!
//! A user who has a backup and a question ("what did Deployment prod/web look like") should
//! not need to know etcd's key layout: the resource is named as kubectl names it (`deploy`,
//! `po`, `svc`, `widgets.example.com`), resolved to the apiserver's keys
//! ([`etcdsnap_k8s::resources`]), read at any revision, filtered by namespace, name and label
//! selector, and printed as kubectl prints it: a table, `-o name`, `-o json` (kubectl's JSON
//! bytes, a `v1 List` for several objects), `-o yaml`, or restore-ready manifests
//! (`--manifest` / `-o manifest`). `metadata.resourceVersion` is the key's mod revision, as
//! the apiserver reports it.
//!
//! Objects are decoded and written one at a time; only the table (which needs its column
//! widths) keeps its rows. A value that is not an object (encrypted at rest, undecodable) is
//! named on stderr and makes the exit status 1: nothing is skipped silently.

use std::collections::BTreeMap;
use std::io::Write;
use std::path::PathBuf;

use clap::{Args, Subcommand};
use etcdsnap_k8s::decoded::{Form, Shown, render_value};
use etcdsnap_k8s::render::View;
use etcdsnap_k8s::resources::{Resolved, Resource, resolve};
use etcdsnap_k8s::selector::Selector;
use etcdsnap_k8s::{KeyInfo, gojson, parse_key_with_prefix};
use etcdsnap_mvcc::keyspace::{self, RangeRequest};
use etcdsnap_mvcc::{KeyRange, Snapshot};
use serde_json::{Map, Value};

use crate::args::{Format, RevArg};
use crate::decoded::{Decoded, Notes, decode_value};
use crate::fail::{CmdResult, Failure, Outcome};
use crate::yaml::to_yaml;

/// `etcdsnap kube ...`: kubectl-style access to the objects of a snapshot.
#[derive(Debug, Args)]
pub struct KubeArgs {
    /// The kube subcommand.
    #[command(subcommand)]
    pub command: KubeCommand,
}

/// The kube subcommands.
#[derive(Debug, Subcommand)]
pub enum KubeCommand {
    /// Objects as `kubectl get` shows them: `kube get FILE deployments -n prod web -o yaml`.
    ///
    /// RESOURCE is what kubectl takes: plural, singular or short name (`pods`, `pod`, `po`),
    /// optionally with its group (`deployments.apps`, `widgets.example.com`). Without -n or
    /// -A the namespace is `default`, as kubectl's. Exit 0, 1 when an object could not be
    /// shown (encrypted at rest, undecodable: named on stderr), 2 on error.
    #[command(after_help = "Examples:
  etcdsnap kube get backup.db deployments -n prod web -o yaml
  etcdsnap kube get backup.db pods -A -l 'app in (web,api)' -o wide
  etcdsnap kube get backup.db widgets.example.com -A -o name
  etcdsnap kube get backup.db svc -n prod --rev 4711 --manifest > services.yaml
Formats (-o): table (default), wide, name, json, yaml, jsonl, manifest.")]
    Get(KubeGetArgs),
}

/// Output formats of `kube get` (kubectl's `-o`, taken by the global `-w/-o`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum KubeOutput {
    /// kubectl's table for the kind (NAME, ..., AGE).
    Table,
    /// The table with kubectl's extra wide columns.
    Wide,
    /// `kind.group/name`, one a line.
    Name,
    /// kubectl's JSON: the object, or a `v1 List` of them.
    Json,
    /// kubectl's YAML.
    Yaml,
    /// Restore-ready manifests as a YAML stream (same as --manifest -o yaml).
    Manifest,
    /// One compact JSON object per line, streamed.
    Jsonl,
}

/// Arguments of `kube get`.
#[derive(Debug, Args)]
pub struct KubeGetArgs {
    /// A snapshot file, or an etcd data directory.
    pub file: PathBuf,
    /// The resource type, as kubectl names it.
    pub resource: String,
    /// Object names (none: all in the namespace).
    pub names: Vec<String>,
    /// The namespace (default: `default`).
    #[arg(short = 'n', long)]
    pub namespace: Option<String>,
    /// Every namespace.
    #[arg(short = 'A', long, conflicts_with = "namespace")]
    pub all_namespaces: bool,
    /// Label selector, as kubectl's (`app=web,tier!=db,env in (a,b),!legacy`).
    #[arg(short = 'l', long)]
    pub selector: Option<String>,
    /// The revision to read (0 or negative = the newest).
    #[command(flatten)]
    pub rev: RevArg,
    /// Restore-ready manifests: server-populated fields and status removed, several objects
    /// as a YAML stream (`---`) or, with -o json, a `v1 List`. Refused for Secrets without
    /// --show-secrets (a hidden Secret must not become a manifest).
    #[arg(long)]
    pub manifest: bool,
    /// Show Secret payloads (data, stringData, their last-applied annotation).
    #[arg(long)]
    pub show_secrets: bool,
    /// Keep metadata.managedFields in -o json/yaml (kubectl hides them too).
    #[arg(long)]
    pub show_managed_fields: bool,
    /// The apiserver's --etcd-prefix.
    #[arg(long, default_value = etcdsnap_k8s::key::DEFAULT_PREFIX)]
    pub etcd_prefix: String,
    /// Threads for the scan (default: all cores).
    #[arg(long)]
    pub threads: Option<usize>,
}

/// What `kube get` reads and how it prints, resolved from the arguments.
#[derive(Debug, Clone)]
pub struct KubeGetConfig {
    /// The resource argument as typed.
    pub resource: String,
    /// Names asked for.
    pub names: Vec<String>,
    /// Namespace filter: `None` for all.
    pub namespace: Option<String>,
    /// Label selector.
    pub selector: Selector,
    /// Revision.
    pub rev: i64,
    /// Output.
    pub output: KubeOutput,
    /// Manifests.
    pub manifest: bool,
    /// Secrets shown.
    pub show_secrets: bool,
    /// managedFields kept.
    pub show_managed_fields: bool,
    /// The etcd prefix, without a trailing `/`.
    pub prefix: String,
    /// Threads.
    pub threads: usize,
}

impl KubeGetConfig {
    /// Builds the configuration from the arguments.
    pub fn from_args(
        a: &KubeGetArgs,
        write_out: Option<Format>,
        threads: usize,
    ) -> Result<Self, Failure> {
        let requested = match write_out {
            None | Some(Format::Table | Format::Simple) => KubeOutput::Table,
            Some(Format::Wide) => KubeOutput::Wide,
            Some(Format::Name) => KubeOutput::Name,
            Some(Format::Json) => KubeOutput::Json,
            Some(Format::Yaml) => KubeOutput::Yaml,
            Some(Format::Jsonl) => KubeOutput::Jsonl,
            Some(Format::Manifest) => KubeOutput::Manifest,
            Some(f @ (Format::Fields | Format::Parquet | Format::Csv)) => {
                return Err(Failure::usage(format!(
                    "kube get: output format {} is not offered; use -o table, wide, name, json, yaml, jsonl, manifest",
                    clap::ValueEnum::to_possible_value(&f)
                        .map_or_else(String::new, |v| v.get_name().to_string())
                )));
            }
        };
        let selector = match &a.selector {
            Some(s) => Selector::parse(s).map_err(Failure::usage)?,
            None => Selector::default(),
        };
        let namespace = if a.all_namespaces {
            None
        } else {
            Some(a.namespace.clone().unwrap_or_else(|| "default".into()))
        };
        let output = if requested == KubeOutput::Manifest {
            KubeOutput::Yaml
        } else {
            requested
        };
        let manifest = a.manifest || requested == KubeOutput::Manifest;
        if manifest
            && !matches!(
                output,
                KubeOutput::Json | KubeOutput::Yaml | KubeOutput::Table
            )
        {
            return Err(Failure::usage(
                "--manifest prints JSON or YAML (-o json|yaml)",
            ));
        }
        Ok(Self {
            resource: a.resource.clone(),
            names: a.names.clone(),
            namespace,
            selector,
            rev: a.rev.rev,
            // --manifest alone: YAML, as `kubectl apply -f` files usually are.
            output: if manifest && output == KubeOutput::Table {
                KubeOutput::Yaml
            } else {
                output
            },
            manifest,
            show_secrets: a.show_secrets,
            show_managed_fields: a.show_managed_fields,
            prefix: a.etcd_prefix.trim_end_matches('/').to_owned(),
            threads,
        })
    }
}

/// Where a resource's objects are: the key prefix under which `<ns>/<name>` or `<name>`
/// follow, and whether the resource is known to be namespaced.
struct Target {
    base: String,
    namespaced: Option<bool>,
    /// `kubectl get -o name` prefix when known from the table.
    builtin: Option<Resource>,
}

fn target(snap: &Snapshot, cfg: &KubeGetConfig) -> Result<Target, Failure> {
    let resolved = resolve(&cfg.resource);
    if !matches!(resolved, Resolved::Builtin(_))
        && let Some(t) = from_crds(snap, cfg)?
    {
        return Ok(t);
    }
    match resolved {
        Resolved::Builtin(r) => Ok(Target {
            base: format!("{}/{}/", cfg.prefix, r.etcd),
            namespaced: Some(r.namespaced),
            builtin: Some(r),
        }),
        Resolved::Custom { plural, group } => Ok(Target {
            base: format!("{}/{group}/{plural}/", cfg.prefix),
            namespaced: None,
            builtin: None,
        }),
        Resolved::Unknown(name) => {
            // A custom resource named without its group: look for `<group>/<name>/` keys.
            let mut req =
                RangeRequest::new(KeyRange::prefix(format!("{}/", cfg.prefix).as_bytes()));
            req.keys_only = true;
            req.revision = cfg.rev;
            let resp = keyspace::range(snap, &req, cfg.threads)
                .map_err(|e| super::get::failure(snap, e))?;
            let mut groups: Vec<String> = resp
                .kvs
                .iter()
                .filter_map(|kv| match parse_key_with_prefix(kv.key, &cfg.prefix) {
                    KeyInfo::Object(o) if o.resource == name.as_str() => {
                        o.group.map(|g| g.into_owned())
                    }
                    _ => None,
                })
                .collect();
            groups.dedup();
            match groups.as_slice() {
                [g] => Ok(Target {
                    base: format!("{}/{g}/{name}/", cfg.prefix),
                    namespaced: None,
                    builtin: None,
                }),
                [] => Err(Failure::usage(format!(
                    "the snapshot has no resource type \"{name}\" (at revision {}): name a built-in resource or a custom resource as <plural>.<group>",
                    resp.read_revision
                ))),
                several => Err(Failure::usage(format!(
                    "\"{name}\" is stored in several groups ({}): name it as <plural>.<group>",
                    several.join(", ")
                ))),
            }
        }
    }
}

/// A custom resource named as its CustomResourceDefinition in the snapshot names it (plural,
/// singular, short name or kind, optionally `.group`): as kubectl resolves it through
/// discovery, which the apiserver builds from these CRDs.
fn from_crds(snap: &Snapshot, cfg: &KubeGetConfig) -> Result<Option<Target>, Failure> {
    let lower = cfg.resource.to_ascii_lowercase();
    let (name, group) = match lower.split_once('.') {
        Some((n, g)) => (n, Some(g)),
        None => (lower.as_str(), None),
    };
    let crds = format!(
        "{}/apiextensions.k8s.io/customresourcedefinitions/",
        cfg.prefix
    );
    let mut req = RangeRequest::new(KeyRange::prefix(crds.as_bytes()));
    req.revision = cfg.rev;
    let resp =
        keyspace::range(snap, &req, cfg.threads).map_err(|e| super::get::failure(snap, e))?;
    for kv in &resp.kvs {
        let Ok(r) = etcdsnap_k8s::decode_typed(kv.value, false) else {
            continue;
        };
        let spec = &r.value["spec"];
        let g = spec["group"].as_str().unwrap_or("");
        let names = &spec["names"];
        let s = |k: &str| names[k].as_str().unwrap_or("").to_ascii_lowercase();
        let plural = s("plural");
        let short: Vec<String> = names["shortNames"]
            .as_array()
            .into_iter()
            .flatten()
            .filter_map(|v| v.as_str().map(str::to_ascii_lowercase))
            .collect();
        let named = !plural.is_empty()
            && (plural == name
                || s("singular") == name
                || s("kind") == name
                || short.iter().any(|x| x == name));
        let grouped = group.is_none_or(|want| g == want || g.starts_with(&format!("{want}.")));
        if named && grouped {
            return Ok(Some(Target {
                base: format!("{}/{g}/{plural}/", cfg.prefix),
                namespaced: Some(spec["scope"] == "Namespaced"),
                builtin: None,
            }));
        }
    }
    Ok(None)
}

/// One object to print.
struct Item {
    key: String,
    namespace: Option<String>,
    name: String,
    object: Value,
    /// The item as the writer prints it in a list or stream (see [`PreRender`]).
    rendered: Option<Vec<u8>>,
}

/// Runs `kube get`.
pub fn run(
    snap: &Snapshot,
    cfg: &KubeGetConfig,
    out: &mut dyn Write,
    err: &mut dyn Write,
) -> CmdResult {
    let t = target(snap, cfg)?;
    if cfg.manifest && !cfg.show_secrets && t.builtin.is_some_and(|r| r.kind == "Secret") {
        return Err(Failure::usage(
            "--manifest refuses Secrets without --show-secrets: a manifest with hidden values would re-create them empty",
        ));
    }
    // The ranges to read: each named object, or the namespace's (or every) object.
    let mut ranges = Vec::new();
    if cfg.names.is_empty() {
        match (&cfg.namespace, t.namespaced) {
            (Some(ns), Some(true)) => {
                ranges.push(KeyRange::prefix(format!("{}{ns}/", t.base).as_bytes()))
            }
            _ => ranges.push(KeyRange::prefix(t.base.as_bytes())),
        }
    } else {
        for n in &cfg.names {
            match (&cfg.namespace, t.namespaced) {
                (Some(ns), Some(true)) => {
                    ranges.push(KeyRange::single(format!("{}{ns}/{n}", t.base).as_bytes()))
                }
                (_, Some(false)) => {
                    ranges.push(KeyRange::single(format!("{}{n}", t.base).as_bytes()))
                }
                // All namespaces, or scope unknown: any key ending in /<name>.
                _ => ranges.push(KeyRange::prefix(t.base.as_bytes())),
            }
        }
    }
    let mut notes = Notes::default();
    let mut problems = 0usize;
    // Several ranges (named objects) may overlap; one range has each key once.
    let dedupe = ranges.len() > 1;
    let mut seen = std::collections::BTreeSet::new();
    let mut found = std::collections::BTreeSet::new();
    let mut writer = Writer::new(cfg, t.builtin, out);
    let pre = writer.pre_rendered();
    for range in ranges {
        let mut req = RangeRequest::new(range);
        req.revision = cfg.rev;
        let resp =
            keyspace::range(snap, &req, cfg.threads).map_err(|e| super::get::failure(snap, e))?;
        let kvs: Vec<_> = resp
            .kvs
            .iter()
            .filter(|kv| !dedupe || seen.insert(kv.key.to_vec()))
            .collect();
        // Decoding and rendering is the cost: done in bounded batches on the worker threads
        // while this thread writes, in key order.
        for_each_prepared(&kvs, cfg, &t, pre, |p| {
            match p {
                Prepared::Skip => {}
                Prepared::Problem { key, why, notes: n } => {
                    notes.add(key.as_bytes(), &n);
                    problems += 1;
                    let _ = writeln!(err, "etcdsnap: {key}: not shown: {why}");
                }
                Prepared::Item(item, n) => {
                    notes.add(item.key.as_bytes(), &n);
                    if !cfg.names.is_empty() {
                        found.insert(item.name.clone());
                    }
                    writer.item(&item)?;
                }
            }
            Ok(())
        })?;
    }
    for n in &cfg.names {
        if !found.contains(n) {
            let _ = writeln!(err, "etcdsnap: {} \"{n}\" not found", cfg.resource);
            problems += 1;
        }
    }
    writer.finish()?;
    if !writer.any && cfg.names.is_empty() && writer.table() {
        let _ = match &cfg.namespace {
            Some(ns) if t.namespaced != Some(false) => {
                writeln!(err, "No resources found in {ns} namespace.")
            }
            _ => writeln!(err, "No resources found"),
        };
    }
    notes.write(err)?;
    Ok(if problems > 0 {
        Outcome::Found
    } else {
        Outcome::Clean
    })
}

/// Objects decoded per batch (bounds memory to a batch of rendered objects).
const BATCH: usize = 256;

/// One key-value made ready for the writer.
enum Prepared {
    /// Not selected (another namespace, name, label selector, or not under the resource).
    Skip,
    /// Not an object: said on stderr.
    Problem {
        key: String,
        why: String,
        notes: Vec<String>,
    },
    /// An object, with the schema's notes.
    Item(Box<Item>, Vec<String>),
}

/// [`prepare`] over every key-value, handed to `sink` in key order: batches of [`BATCH`]
/// prepared on `cfg.threads` worker threads while this thread writes (etcdsnap_mvcc::pipeline).
fn for_each_prepared<F>(
    kvs: &[&etcdsnap_mvcc::proto::KeyValueRef<'_>],
    cfg: &KubeGetConfig,
    t: &Target,
    pre: Option<PreRender>,
    mut sink: F,
) -> std::io::Result<()>
where
    F: FnMut(Prepared) -> std::io::Result<()>,
{
    etcdsnap_mvcc::pipeline::ordered(
        kvs,
        BATCH,
        cfg.threads,
        |batch| {
            batch
                .iter()
                .map(|kv| prepare(kv, cfg, t, pre))
                .collect::<Vec<_>>()
        },
        |out| out.into_iter().try_for_each(&mut sink),
    )
}

/// Selects, decodes and (for the streaming formats) renders one key-value.
fn prepare(
    kv: &etcdsnap_mvcc::proto::KeyValueRef<'_>,
    cfg: &KubeGetConfig,
    t: &Target,
    pre: Option<PreRender>,
) -> Prepared {
    let ns_scoped = t.namespaced != Some(false);
    let key = match std::str::from_utf8(kv.key) {
        Ok(k) => k.to_owned(),
        Err(_) => String::from_utf8_lossy(kv.key).into_owned(),
    };
    let Some(rest) = key.strip_prefix(&t.base) else {
        return Prepared::Skip;
    };
    let (namespace, name) = match rest.split_once('/') {
        Some((ns, name)) if ns_scoped && !name.contains('/') => {
            (Some(ns.to_owned()), name.to_owned())
        }
        Some(_) => return Prepared::Skip,
        None => (None, rest.to_owned()),
    };
    if let (Some(want), Some(ns)) = (&cfg.namespace, &namespace)
        && want != ns
    {
        return Prepared::Skip;
    }
    if !cfg.names.is_empty() && !cfg.names.contains(&name) {
        return Prepared::Skip;
    }
    if let Some(p) = pre {
        return prepare_rendered(kv, cfg, key, namespace, name, p);
    }
    let d = decode_value(kv.key, kv.value, cfg.show_secrets);
    let notes = d.notes().to_vec();
    let Decoded::Object { object, .. } = d else {
        let why = d
            .marker()
            .unwrap_or_else(|| format!("a {} value, not an object", d.class()));
        return Prepared::Problem { key, why, notes };
    };
    let mut object = *object;
    if !cfg.selector.matches(&tree_labels(&object)) {
        return Prepared::Skip;
    }
    view(kv, cfg).apply(&mut object);
    Prepared::Item(
        Box::new(Item {
            key,
            namespace,
            name,
            object,
            rendered: None,
        }),
        notes,
    )
}

/// The labels of a rendered object (a selector needs them).
fn tree_labels(object: &Value) -> BTreeMap<String, String> {
    object
        .pointer("/metadata/labels")
        .and_then(|l| serde_json::from_value(l.clone()).ok())
        .unwrap_or_default()
}

/// How `kube get` shows an object beyond what is stored: the key's mod revision as
/// resourceVersion (as the apiserver reports it), managedFields hidden (as kubectl does),
/// manifests.
fn view(kv: &etcdsnap_mvcc::proto::KeyValueRef<'_>, cfg: &KubeGetConfig) -> View {
    View {
        resource_version: Some(kv.mod_revision),
        hide_managed_fields: !cfg.show_managed_fields,
        manifest: cfg.manifest,
    }
}

/// A list item or stream document rendered on the worker thread straight from the stored
/// bytes into its output form (no tree for protobuf objects; see etcdsnap_k8s::render).
fn prepare_rendered(
    kv: &etcdsnap_mvcc::proto::KeyValueRef<'_>,
    cfg: &KubeGetConfig,
    key: String,
    namespace: Option<String>,
    name: String,
    pre: PreRender,
) -> Prepared {
    let form = match pre {
        PreRender::JsonItem => Form::Json { indent: 2 },
        PreRender::YamlItem | PreRender::YamlDoc => Form::Yaml,
        PreRender::Jsonl => Form::Compact,
    };
    let mut buf = Vec::with_capacity(kv.value.len() * 4);
    let shown = render_value(
        kv.key,
        kv.value,
        cfg.show_secrets,
        &view(kv, cfg),
        form,
        &mut buf,
    );
    let notes = match shown {
        Shown::Object { notes, .. } => notes,
        Shown::Other(d) => {
            let why = d
                .marker()
                .unwrap_or_else(|| format!("a {} value, not an object", d.class()));
            return Prepared::Problem {
                key,
                why,
                notes: d.notes().to_vec(),
            };
        }
    };
    if !cfg.selector.is_empty() {
        let labels = match etcdsnap_k8s::render::object_labels(kv.value) {
            Some(l) => l,
            None => match decode_value(kv.key, kv.value, cfg.show_secrets) {
                Decoded::Object { object, .. } => tree_labels(&object),
                _ => BTreeMap::new(),
            },
        };
        if !cfg.selector.matches(&labels) {
            return Prepared::Skip;
        }
    }
    let rendered = match pre {
        PreRender::YamlItem => {
            let mut item = Vec::with_capacity(buf.len() + buf.len() / 8);
            yaml_list_item(&buf, &mut item);
            item
        }
        PreRender::Jsonl => {
            buf.push(b'\n');
            buf
        }
        PreRender::JsonItem | PreRender::YamlDoc => buf,
    };
    Prepared::Item(
        Box::new(Item {
            key,
            namespace,
            name,
            object: Value::Null,
            rendered: Some(rendered),
        }),
        notes,
    )
}

/// A YAML document as an item of a `v1 List`'s `items:`: `- ` before its first line, two
/// spaces before the others (empty lines stay empty).
fn yaml_list_item(doc: &[u8], out: &mut Vec<u8>) {
    let body = doc.strip_suffix(b"\n").unwrap_or(doc);
    if doc.is_empty() {
        return;
    }
    for (i, line) in body.split(|&b| b == b'\n').enumerate() {
        if i == 0 {
            out.extend_from_slice(b"- ");
        } else if !line.is_empty() {
            out.extend_from_slice(b"  ");
        }
        out.extend_from_slice(line);
        out.push(b'\n');
    }
}

/// How a list item is rendered ahead, on the worker threads.
#[derive(Debug, Clone, Copy)]
enum PreRender {
    /// A `v1 List` item: kubectl JSON at two levels of indent.
    JsonItem,
    /// A `v1 List` item in YAML: `- ` then the object indented by two.
    YamlItem,
    /// A document of a YAML stream.
    YamlDoc,
    /// One compact line.
    Jsonl,
}

/// Writes items as they come (name, json, yaml; a table's rows at the end).
struct Writer<'a> {
    cfg: &'a KubeGetConfig,
    builtin: Option<Resource>,
    out: &'a mut dyn Write,
    any: bool,
    /// The first JSON/YAML item is held back: a single named object is printed alone.
    held: Option<Value>,
    /// Table: the kind of the first object, and the rows (namespace, cells) so far; objects
    /// are reduced to their cells as they come.
    kind: Option<String>,
    rows: Vec<(Option<String>, Vec<String>)>,
    now: i64,
}

impl<'a> Writer<'a> {
    fn new(cfg: &'a KubeGetConfig, builtin: Option<Resource>, out: &'a mut dyn Write) -> Self {
        Self {
            cfg,
            builtin,
            out,
            any: false,
            held: None,
            kind: None,
            rows: Vec::new(),
            now: now_seconds(),
        }
    }

    fn table(&self) -> bool {
        matches!(self.cfg.output, KubeOutput::Table | KubeOutput::Wide)
    }

    fn single(&self) -> bool {
        self.cfg.names.len() == 1
    }

    /// What the workers render ahead for this output (nothing for one named object, whose
    /// layout is decided at the end, or for tables and names).
    fn pre_rendered(&self) -> Option<PreRender> {
        if self.single() {
            return None;
        }
        match (self.cfg.output, self.cfg.manifest) {
            (KubeOutput::Json, _) => Some(PreRender::JsonItem),
            (KubeOutput::Yaml | KubeOutput::Manifest, true) => Some(PreRender::YamlDoc),
            (KubeOutput::Yaml | KubeOutput::Manifest, false) => Some(PreRender::YamlItem),
            (KubeOutput::Jsonl, _) => Some(PreRender::Jsonl),
            _ => None,
        }
    }

    fn item(&mut self, item: &Item) -> std::io::Result<()> {
        match self.cfg.output {
            KubeOutput::Name => {
                let prefix = match self.builtin {
                    Some(r) => r.name_prefix(),
                    None => kind_group(&item.object),
                };
                writeln!(self.out, "{prefix}/{}", item.name)?;
            }
            KubeOutput::Jsonl => match &item.rendered {
                Some(b) => self.out.write_all(b)?,
                None => {
                    serde_json::to_writer(&mut *self.out, &item.object)?;
                    self.out.write_all(b"\n")?;
                }
            },
            KubeOutput::Json | KubeOutput::Yaml | KubeOutput::Manifest => {
                if self.single() && !self.any && self.held.is_none() {
                    self.held = Some(item.object.clone());
                    return Ok(());
                }
                if let Some(first) = self.held.take() {
                    self.list_item(&first, None)?;
                }
                self.list_item(&item.object, item.rendered.as_deref())?;
            }
            KubeOutput::Table | KubeOutput::Wide => {
                let kind = self
                    .kind
                    .get_or_insert_with(|| {
                        item.object["kind"].as_str().unwrap_or_default().to_owned()
                    })
                    .clone();
                let wide = self.cfg.output == KubeOutput::Wide;
                let (_, mut row) = columns(&kind, &item.object, wide, self.now);
                if row.first().is_some_and(String::is_empty) {
                    row[0] = item.name.clone();
                }
                self.rows.push((item.namespace.clone(), row));
            }
        }
        self.any = true;
        Ok(())
    }

    fn list_item(&mut self, v: &Value, rendered: Option<&[u8]>) -> std::io::Result<()> {
        let yaml = self.cfg.output != KubeOutput::Json;
        let first = !self.any;
        self.any = true;
        match (yaml, self.cfg.manifest) {
            (true, true) => {
                if !first {
                    self.out.write_all(b"---\n")?;
                }
                match rendered {
                    Some(b) => self.out.write_all(b),
                    None => self.out.write_all(to_yaml(v).as_bytes()),
                }
            }
            (true, false) => {
                if first {
                    self.out.write_all(b"apiVersion: v1\nitems:\n")?;
                }
                if let Some(b) = rendered {
                    return self.out.write_all(b);
                }
                for (i, line) in to_yaml(v).lines().enumerate() {
                    let lead = if i == 0 {
                        "- "
                    } else if line.is_empty() {
                        ""
                    } else {
                        "  "
                    };
                    writeln!(self.out, "{lead}{line}")?;
                }
                Ok(())
            }
            (false, _) => {
                self.out.write_all(if first {
                    b"{\n    \"apiVersion\": \"v1\",\n    \"items\": [\n        ".as_slice()
                } else {
                    b",\n        ".as_slice()
                })?;
                match rendered {
                    Some(b) => self.out.write_all(b),
                    None => gojson::write_indented(self.out, v, 2),
                }
            }
        }
    }

    fn finish(&mut self) -> std::io::Result<()> {
        let yaml = self.cfg.output != KubeOutput::Json;
        match self.cfg.output {
            KubeOutput::Table | KubeOutput::Wide => return self.table_out(),
            KubeOutput::Name | KubeOutput::Jsonl => return Ok(()),
            _ => {}
        }
        if let Some(only) = self.held.take() {
            self.any = true;
            return if yaml {
                self.out.write_all(to_yaml(&only).as_bytes())
            } else {
                self.out.write_all(&gojson::to_kubectl_json(&only))
            };
        }
        match (yaml, self.cfg.manifest, self.any) {
            (true, true, _) => Ok(()),
            (true, false, false) => self
                .out
                .write_all(b"apiVersion: v1\nitems: []\nkind: List\nmetadata:\n  resourceVersion: \"\"\n"),
            (true, false, true) => self
                .out
                .write_all(b"kind: List\nmetadata:\n  resourceVersion: \"\"\n"),
            (false, _, false) => self.out.write_all(
                b"{\n    \"apiVersion\": \"v1\",\n    \"items\": [],\n    \"kind\": \"List\",\n    \"metadata\": {\n        \"resourceVersion\": \"\"\n    }\n}\n",
            ),
            (false, _, true) => self.out.write_all(
                b"\n    ],\n    \"kind\": \"List\",\n    \"metadata\": {\n        \"resourceVersion\": \"\"\n    }\n}\n",
            ),
        }
    }

    fn table_out(&mut self) -> std::io::Result<()> {
        if self.rows.is_empty() {
            return Ok(());
        }
        let wide = self.cfg.output == KubeOutput::Wide;
        let kind = self.kind.clone().unwrap_or_default();
        let all_ns = self.cfg.namespace.is_none() && self.rows.iter().any(|(ns, _)| ns.is_some());
        let (mut header, _) = columns(&kind, &Value::Null, wide, self.now);
        if all_ns {
            header.insert(0, "NAMESPACE".into());
        }
        let mut rows = vec![header];
        for (ns, mut row) in std::mem::take(&mut self.rows) {
            if all_ns {
                row.insert(0, ns.unwrap_or_default());
            }
            rows.push(row);
        }
        write_table(self.out, &rows)
    }
}

/// `kind.group` lowercase from an object (custom resources' `-o name`).
fn kind_group(v: &Value) -> String {
    let kind = v
        .get("kind")
        .and_then(Value::as_str)
        .unwrap_or("")
        .to_ascii_lowercase();
    let av = v.get("apiVersion").and_then(Value::as_str).unwrap_or("");
    match av.rsplit_once('/') {
        Some((g, _)) => format!("{kind}.{g}"),
        None => kind,
    }
}

/// kubectl's tabwriter: columns padded to the widest cell plus three spaces.
fn write_table(out: &mut dyn Write, rows: &[Vec<String>]) -> std::io::Result<()> {
    let n = rows.iter().map(Vec::len).max().unwrap_or(0);
    let widths: Vec<usize> = (0..n)
        .map(|c| {
            rows.iter()
                .map(|r| r.get(c).map_or(0, |s| s.chars().count()))
                .max()
                .unwrap_or(0)
        })
        .collect();
    for row in rows {
        let mut line = String::new();
        for (c, cell) in row.iter().enumerate() {
            line.push_str(cell);
            if c + 1 < row.len() {
                let pad = widths[c] - cell.chars().count() + 3;
                line.push_str(&" ".repeat(pad));
            }
        }
        writeln!(out, "{}", line.trim_end())?;
    }
    Ok(())
}

fn now_seconds() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_secs() as i64)
}

/// kubectl's `HumanDuration` of the time since `created` (RFC 3339).
pub fn age(created: Option<&str>, now: i64) -> String {
    let Some(t) = created.and_then(etcdsnap_k8s::Time::parse_rfc3339) else {
        return "<unknown>".into();
    };
    human_duration(now - t.seconds)
}

/// k8s.io/apimachinery/pkg/util/duration.HumanDuration, in seconds.
pub fn human_duration(seconds: i64) -> String {
    if seconds < -1 {
        return "<invalid>".into();
    }
    if seconds < 0 {
        return "0s".into();
    }
    if seconds < 60 * 2 {
        return format!("{seconds}s");
    }
    let minutes = seconds / 60;
    if minutes < 10 {
        let s = seconds % 60;
        return if s == 0 {
            format!("{minutes}m")
        } else {
            format!("{minutes}m{s}s")
        };
    }
    if minutes < 60 * 3 {
        return format!("{minutes}m");
    }
    let hours = minutes / 60;
    if hours < 8 {
        let m = minutes % 60;
        return if m == 0 {
            format!("{hours}h")
        } else {
            format!("{hours}h{m}m")
        };
    }
    if hours < 48 {
        return format!("{hours}h");
    }
    if hours < 24 * 8 {
        let h = hours % 24;
        return if h == 0 {
            format!("{}d", hours / 24)
        } else {
            format!("{}d{h}h", hours / 24)
        };
    }
    if hours < 24 * 365 * 2 {
        return format!("{}d", hours / 24);
    }
    if hours < 24 * 365 * 8 {
        let dy = (hours / 24) % 365;
        return if dy == 0 {
            format!("{}y", hours / 24 / 365)
        } else {
            format!("{}y{dy}d", hours / 24 / 365)
        };
    }
    format!("{}y", hours / 24 / 365)
}

fn s<'v>(v: &'v Value, ptr: &str) -> &'v str {
    v.pointer(ptr).and_then(Value::as_str).unwrap_or("")
}

fn n(v: &Value, ptr: &str) -> i64 {
    v.pointer(ptr).and_then(Value::as_i64).unwrap_or(0)
}

fn arr<'v>(v: &'v Value, ptr: &str) -> &'v [Value] {
    v.pointer(ptr)
        .and_then(Value::as_array)
        .map_or(&[], Vec::as_slice)
}

fn none_if_empty(s: String) -> String {
    if s.is_empty() { "<none>".into() } else { s }
}

/// The columns kubectl's printer shows for a kind (header, and the row of `v`; the NAME cell
/// is left empty for the caller).
fn columns(kind: &str, v: &Value, wide: bool, now: i64) -> (Vec<String>, Vec<String>) {
    let age = age(
        v.pointer("/metadata/creationTimestamp")
            .and_then(Value::as_str),
        now,
    );
    let mut h: Vec<&str> = vec!["NAME"];
    let mut r: Vec<String> = vec![String::new()];
    match kind {
        "Pod" => {
            let statuses = arr(v, "/status/containerStatuses");
            let ready = statuses.iter().filter(|c| c["ready"] == true).count();
            let total = arr(v, "/spec/containers").len();
            let restarts: i64 = statuses
                .iter()
                .map(|c| c["restartCount"].as_i64().unwrap_or(0))
                .sum();
            let mut status = s(v, "/status/phase").to_owned();
            if !s(v, "/status/reason").is_empty() {
                status = s(v, "/status/reason").to_owned();
            }
            for c in statuses {
                if let Some(reason) = c
                    .pointer("/state/waiting/reason")
                    .and_then(Value::as_str)
                    .or_else(|| {
                        c.pointer("/state/terminated/reason")
                            .and_then(Value::as_str)
                    })
                {
                    status = reason.to_owned();
                }
            }
            if v.pointer("/metadata/deletionTimestamp")
                .is_some_and(|d| !d.is_null())
            {
                status = "Terminating".into();
            }
            h.extend(["READY", "STATUS", "RESTARTS", "AGE"]);
            r.extend([
                format!("{ready}/{total}"),
                status,
                restarts.to_string(),
                age,
            ]);
            if wide {
                h.extend(["IP", "NODE", "NOMINATED NODE", "READINESS GATES"]);
                r.extend([
                    none_if_empty(s(v, "/status/podIP").into()),
                    none_if_empty(s(v, "/spec/nodeName").into()),
                    none_if_empty(s(v, "/status/nominatedNodeName").into()),
                    "<none>".into(),
                ]);
            }
        }
        "Deployment" => {
            h.extend(["READY", "UP-TO-DATE", "AVAILABLE", "AGE"]);
            r.extend([
                format!(
                    "{}/{}",
                    n(v, "/status/readyReplicas"),
                    n(v, "/spec/replicas")
                ),
                n(v, "/status/updatedReplicas").to_string(),
                n(v, "/status/availableReplicas").to_string(),
                age,
            ]);
            if wide {
                let cs = arr(v, "/spec/template/spec/containers");
                h.extend(["CONTAINERS", "IMAGES", "SELECTOR"]);
                r.extend([
                    cs.iter()
                        .map(|c| s(c, "/name"))
                        .collect::<Vec<_>>()
                        .join(","),
                    cs.iter()
                        .map(|c| s(c, "/image"))
                        .collect::<Vec<_>>()
                        .join(","),
                    selector_text(v.pointer("/spec/selector/matchLabels")),
                ]);
            }
        }
        "Service" => {
            let ports: Vec<String> = arr(v, "/spec/ports")
                .iter()
                .map(|p| {
                    let proto = p["protocol"].as_str().unwrap_or("TCP");
                    match p["nodePort"].as_i64() {
                        Some(np) if np != 0 => format!("{}:{np}/{proto}", p["port"]),
                        _ => format!("{}/{proto}", p["port"]),
                    }
                })
                .collect();
            let ty = s(v, "/spec/type");
            let lb: Vec<String> = arr(v, "/status/loadBalancer/ingress")
                .iter()
                .map(|i| {
                    i["ip"]
                        .as_str()
                        .or(i["hostname"].as_str())
                        .unwrap_or("")
                        .to_owned()
                })
                .chain(
                    arr(v, "/spec/externalIPs")
                        .iter()
                        .map(|i| i.as_str().unwrap_or("").to_owned()),
                )
                .collect();
            let external = match (ty, lb.is_empty()) {
                ("ExternalName", _) => s(v, "/spec/externalName").to_owned(),
                ("LoadBalancer", true) => "<pending>".into(),
                (_, true) => "<none>".into(),
                (_, false) => lb.join(","),
            };
            h.extend(["TYPE", "CLUSTER-IP", "EXTERNAL-IP", "PORT(S)", "AGE"]);
            r.extend([
                ty.to_owned(),
                none_if_empty(s(v, "/spec/clusterIP").into()),
                external,
                none_if_empty(ports.join(",")),
                age,
            ]);
            if wide {
                h.push("SELECTOR");
                r.push(selector_text(v.pointer("/spec/selector")));
            }
        }
        "Node" => {
            let ready = arr(v, "/status/conditions")
                .iter()
                .find(|c| c["type"] == "Ready")
                .map_or("Unknown", |c| {
                    if c["status"] == "True" {
                        "Ready"
                    } else {
                        "NotReady"
                    }
                });
            let mut status = ready.to_owned();
            if v.pointer("/spec/unschedulable") == Some(&Value::Bool(true)) {
                status.push_str(",SchedulingDisabled");
            }
            let roles: Vec<&str> = v
                .pointer("/metadata/labels")
                .and_then(Value::as_object)
                .into_iter()
                .flatten()
                .filter_map(|(k, _)| k.strip_prefix("node-role.kubernetes.io/"))
                .collect();
            h.extend(["STATUS", "ROLES", "AGE", "VERSION"]);
            r.extend([
                status,
                none_if_empty(roles.join(",")),
                age,
                s(v, "/status/nodeInfo/kubeletVersion").to_owned(),
            ]);
            if wide {
                let addr = |t: &str| {
                    arr(v, "/status/addresses")
                        .iter()
                        .find(|a| a["type"] == t)
                        .map_or("<none>".to_owned(), |a| {
                            a["address"].as_str().unwrap_or("").to_owned()
                        })
                };
                h.extend([
                    "INTERNAL-IP",
                    "EXTERNAL-IP",
                    "OS-IMAGE",
                    "KERNEL-VERSION",
                    "CONTAINER-RUNTIME",
                ]);
                r.extend([
                    addr("InternalIP"),
                    addr("ExternalIP"),
                    s(v, "/status/nodeInfo/osImage").to_owned(),
                    s(v, "/status/nodeInfo/kernelVersion").to_owned(),
                    s(v, "/status/nodeInfo/containerRuntimeVersion").to_owned(),
                ]);
            }
        }
        "Namespace" => {
            h.extend(["STATUS", "AGE"]);
            r.extend([s(v, "/status/phase").to_owned(), age]);
        }
        "ConfigMap" => {
            let count = |p: &str| v.pointer(p).and_then(Value::as_object).map_or(0, Map::len);
            h.extend(["DATA", "AGE"]);
            r.extend([(count("/data") + count("/binaryData")).to_string(), age]);
        }
        "Secret" => {
            let count = |p: &str| v.pointer(p).and_then(Value::as_object).map_or(0, Map::len);
            h.extend(["TYPE", "DATA", "AGE"]);
            r.extend([s(v, "/type").to_owned(), count("/data").to_string(), age]);
        }
        "ReplicaSet" | "StatefulSet" | "DaemonSet" => {
            if kind == "DaemonSet" {
                h.extend([
                    "DESIRED",
                    "CURRENT",
                    "READY",
                    "UP-TO-DATE",
                    "AVAILABLE",
                    "AGE",
                ]);
                r.extend([
                    n(v, "/status/desiredNumberScheduled").to_string(),
                    n(v, "/status/currentNumberScheduled").to_string(),
                    n(v, "/status/numberReady").to_string(),
                    n(v, "/status/updatedNumberScheduled").to_string(),
                    n(v, "/status/numberAvailable").to_string(),
                    age,
                ]);
            } else if kind == "StatefulSet" {
                h.extend(["READY", "AGE"]);
                r.extend([
                    format!(
                        "{}/{}",
                        n(v, "/status/readyReplicas"),
                        n(v, "/spec/replicas")
                    ),
                    age,
                ]);
            } else {
                h.extend(["DESIRED", "CURRENT", "READY", "AGE"]);
                r.extend([
                    n(v, "/spec/replicas").to_string(),
                    n(v, "/status/replicas").to_string(),
                    n(v, "/status/readyReplicas").to_string(),
                    age,
                ]);
            }
        }
        _ => {
            h.push("AGE");
            r.push(age);
        }
    }
    (h.into_iter().map(str::to_owned).collect(), r)
}

fn selector_text(v: Option<&Value>) -> String {
    let parts: Vec<String> = v
        .and_then(Value::as_object)
        .into_iter()
        .flatten()
        .map(|(k, v)| format!("{k}={}", v.as_str().unwrap_or("")))
        .collect();
    none_if_empty(parts.join(","))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn human_durations_as_kubectl() {
        for (s, want) in [
            (5, "5s"),
            (119, "119s"),
            (120, "2m"),
            (125, "2m5s"),
            (600, "10m"),
            (3 * 3600, "3h"),
            (3 * 3600 + 60, "3h1m"),
            (10 * 3600, "10h"),
            (50 * 3600, "2d2h"),
            (10 * 86400, "10d"),
            (800 * 86400, "2y70d"),
            (3000 * 86400, "8y"),
            (-5, "<invalid>"),
        ] {
            assert_eq!(human_duration(s), want, "{s}");
        }
    }
}
