//! A stored object rendered straight from the protobuf wire into the output, without a tree.
//!
//! [`crate::typed`] says what the apiserver shows (Go's `encoding/json` of the typed struct)
//! by building a `serde_json::Value` per object; listing a hundred thousand Pods that way
//! spends its time building and dropping maps. This module writes the same bytes into a
//! [`Sink`] (kubectl's JSON, serde_json's compact JSON, kubectl's YAML) in one walk:
//!
//! - Per message, a [`Layout`] computed once from the schema: the fields in the order of
//!   their JSON names (bytewise, as Go sorts a map's keys), `inline` structs flattened into
//!   their parent's order, each entry saying through which inline field(s) it is reached.
//! - Per struct on the wire, an index of its fields by number (in one arena per object, no
//!   allocation per message); each entry of the layout is then looked up and written:
//!   `omitempty` and Go's zero values as [`crate::typed`] decides them, special types
//!   (Time, MicroTime, Duration, Quantity, IntOrString) formatted in place, maps sorted by
//!   key.
//!
//! The tree renderer stays the reference: anything this path does not do in place it either
//! hands to the tree for that one value (RawExtension/FieldsV1/JSON, the apiextensions
//! `JSONSchemaPropsOr*` and Go slice types, a malformed nested message shown schema-less, a
//! Time out of range, nesting beyond [`MAX_DEPTH`]), or it declines the whole object
//! ([`Declined`]) and the caller renders it with the tree: a field the schema does not know or
//! whose wire type does not fit (shown by number, in a key order of its own), duplicate map
//! keys, a kind the schema lacks, or more than one distinct note (whose order the tree's walk
//! decides). Declining costs time, never bytes: a property test compares both paths over
//! generated objects of every kind.

use std::borrow::Cow;
use std::sync::OnceLock;

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;
use serde_json::{Number, Value};

use crate::meta::LAST_APPLIED_ANNOTATION;
use crate::schema::{FieldDef, Message, Scalar, Schema, Special, Type};
use crate::schemaless::{decode_protobuf, emit_payload, render_payload};
use crate::sink::{Sink, emit_value};
use crate::time::{MAX_SECONDS, MIN_SECONDS, civil_from_days};
use crate::typed::{MAX_DEPTH, go_duration, scalar_value, tree_message};
use crate::wire::{Fields, WireValue, read_varint, utf8};

/// The fast path does not render this object; render it with [`crate::typed`] instead.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Declined;

type R<T = ()> = Result<T, Declined>;

/// How an object is shown beyond what is stored: what `kube get` and `history --decode` do
/// to the apiserver's view. The default shows the object as stored.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct View {
    /// `metadata.resourceVersion` as the apiserver reports it (the key's mod revision).
    pub resource_version: Option<i64>,
    /// Leave out `metadata.managedFields`, as kubectl does.
    pub hide_managed_fields: bool,
    /// A restore-ready manifest: `status`, server-populated metadata and the
    /// last-applied annotation left out (see [`crate::typed::to_manifest`]).
    pub manifest: bool,
}

impl View {
    /// Whether this view changes anything.
    pub fn is_identity(&self) -> bool {
        *self == View::default()
    }

    /// The same view applied to a rendered tree (the tree path).
    pub fn apply(&self, v: &mut Value) {
        if let Some(Value::Object(meta)) = v.get_mut("metadata") {
            if let Some(rv) = self.resource_version {
                meta.insert("resourceVersion".into(), Value::String(rv.to_string()));
            }
            if self.hide_managed_fields {
                meta.remove("managedFields");
            }
        }
        if self.manifest {
            crate::typed::to_manifest(v);
        }
    }
}

/// Server-populated metadata a manifest leaves out (as [`crate::typed::to_manifest`]).
const SERVER_METADATA: &[&str] = &[
    "uid",
    "resourceVersion",
    "creationTimestamp",
    "generation",
    "managedFields",
    "selfLink",
    "deletionTimestamp",
    "deletionGracePeriodSeconds",
];

/// One struct reached through inline fields: group 0 is the message itself.
#[derive(Debug, Clone, Copy)]
struct Group {
    /// The group holding the inline field.
    parent: u8,
    /// The inline field's number in the parent group's message.
    number: u32,
    /// The inline struct's message.
    message: usize,
    /// Inline levels below the message (its depth offset).
    level: u8,
    /// Field numbers below 64 the message has.
    known: u64,
}

fn known_mask(m: &Message) -> u64 {
    m.fields
        .iter()
        .filter(|f| f.number < 64)
        .fold(0, |acc, f| acc | 1 << f.number)
}

/// What a view may do with a field, by its JSON name (decided once, not per object).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Role {
    Other,
    Metadata,
    Status,
    Annotations,
    ManagedFields,
    /// Server-populated metadata a manifest leaves out (other than managedFields).
    ServerMeta,
}

fn role(json: &str) -> Role {
    match json {
        "metadata" => Role::Metadata,
        "status" => Role::Status,
        "annotations" => Role::Annotations,
        "managedFields" => Role::ManagedFields,
        j if SERVER_METADATA.contains(&j) => Role::ServerMeta,
        _ => Role::Other,
    }
}

/// One shown field, in JSON-name order.
#[derive(Debug, Clone, Copy)]
struct Entry {
    json: &'static str,
    role: Role,
    /// The field number (below 64: its bit in a struct's presence mask).
    number: u32,
    /// Whether an absent value writes nothing (omitempty and a nil or empty zero), so the
    /// entry can be passed over when the presence mask says it is absent.
    absent_is_nothing: bool,
    group: u8,
    /// The message that declares the field, and the field's index in it.
    message: usize,
    field: usize,
}

/// A message's fields in output order (see the module docs).
#[derive(Debug)]
pub struct Layout {
    groups: Vec<Group>,
    entries: Vec<Entry>,
    /// The same in go-yaml's key order (kubectl's YAML).
    yaml_entries: Vec<Entry>,
    /// False when the flattening is not what this path does (an inline field that is not a
    /// plain struct, two fields with one JSON name, too many inline structs).
    supported: bool,
}

/// Inline structs per message the renderer keeps on its stack.
const MAX_GROUPS: usize = 8;

fn layouts() -> &'static [Layout] {
    static LAYOUTS: OnceLock<Vec<Layout>> = OnceLock::new();
    LAYOUTS.get_or_init(|| {
        let schema = Schema::get();
        (0..schema.messages.len())
            .map(|i| layout(schema, i))
            .collect()
    })
}

fn layout(schema: &Schema, mi: usize) -> Layout {
    let mut l = Layout {
        groups: vec![Group {
            parent: 0,
            number: 0,
            message: mi,
            level: 0,
            known: schema.messages.get(mi).map_or(0, known_mask),
        }],
        entries: Vec::new(),
        yaml_entries: Vec::new(),
        supported: true,
    };
    flatten(schema, &mut l, 0, 0);
    let mut names: Vec<&str> = l.entries.iter().map(|e| e.json).collect();
    names.sort_unstable();
    if names.windows(2).any(|w| w[0] == w[1]) || l.groups.len() > MAX_GROUPS {
        l.supported = false;
    }
    l.entries
        .sort_by(|a, b| a.json.as_bytes().cmp(b.json.as_bytes()));
    l.yaml_entries = l.entries.clone();
    l.yaml_entries
        .sort_by(|a, b| crate::yaml::go_yaml_key_order(a.json, b.json));
    l
}

fn flatten(schema: &Schema, l: &mut Layout, group: usize, depth: usize) {
    let mi = l.groups[group].message;
    let Some(m) = schema.messages.get(mi) else {
        l.supported = false;
        return;
    };
    for (i, fd) in m.fields.iter().enumerate() {
        if fd.hidden {
            continue;
        }
        if fd.inline {
            match fd.ty {
                Type::Message(j)
                    if !fd.repeated
                        && !fd.map
                        && depth < 8
                        && schema.messages.get(j).map(|x| x.special) == Some(Special::None) =>
                {
                    l.groups.push(Group {
                        parent: group as u8,
                        number: fd.number,
                        message: j,
                        level: l.groups[group].level + 1,
                        known: schema.messages.get(j).map_or(0, known_mask),
                    });
                    let g = l.groups.len() - 1;
                    flatten(schema, l, g, depth + 1);
                }
                _ => l.supported = false,
            }
            continue;
        }
        let absent_is_nothing = fd.omitempty
            && (fd.pointer
                || fd.map
                || fd.repeated
                || match fd.ty {
                    Type::Message(j) => {
                        schema.messages.get(j).map(|x| x.special) == Some(Special::Array)
                    }
                    _ => true,
                });
        l.entries.push(Entry {
            json: fd.json,
            role: role(fd.json),
            number: fd.number,
            absent_is_nothing,
            group: group as u8,
            message: mi,
            field: i,
        });
    }
}

/// A value written in place of a field's (the top level's `apiVersion`/`kind`, the view's
/// `resourceVersion`).
#[derive(Debug, Clone, Copy)]
struct Extra<'x> {
    key: &'static str,
    value: &'x str,
}

/// What the struct being written does beyond its layout.
#[derive(Debug, Clone, Copy, Default)]
struct Edits<'x> {
    /// Written in place of (or beside) the layout's fields, sorted by key.
    extras: [Option<Extra<'x>>; 2],
    /// `managedFields` left out.
    skip_managed_fields: bool,
    /// The other server-populated metadata left out (a manifest's).
    skip_server_meta: bool,
    /// `status` left out (the top level of a manifest).
    skip_status: bool,
    /// The `metadata` field's own edits.
    meta: Option<&'x Edits<'x>>,
    /// `annotations` without the last-applied one (and left out when that was all).
    drop_last_applied: bool,
}

struct Renderer<'a, 's, S: Sink> {
    schema: &'static Schema,
    layouts: &'static [Layout],
    sink: &'s mut S,
    notes: Vec<String>,
    /// Every struct's fields by number, stacked: a struct's index is a range of this.
    arena: Vec<(u32, WireValue<'a>)>,
    scratch: String,
}

/// Renders `raw` (the object inside the envelope) as the kind `api_version`/`kind` into
/// `sink`, with `view`'s changes. Returns the schema's notes, or [`Declined`] (the sink then
/// holds a partial object: the caller discards it and uses the tree).
pub fn render_object<S: Sink>(
    sink: &mut S,
    api_version: &str,
    kind: &str,
    raw: &[u8],
    view: &View,
) -> Result<Vec<String>, Declined> {
    let schema = Schema::get();
    let mi = schema.kind_index(api_version, kind).ok_or(Declined)?;
    let rv;
    let mut meta = Edits::default();
    if let Some(r) = view.resource_version
        && !view.manifest
    {
        rv = r.to_string();
        meta.extras[0] = Some(Extra {
            key: "resourceVersion",
            value: &rv,
        });
    }
    meta.skip_managed_fields = view.manifest || view.hide_managed_fields;
    meta.skip_server_meta = view.manifest;
    meta.drop_last_applied = view.manifest;
    let mut top = Edits {
        skip_status: view.manifest,
        ..Edits::default()
    };
    if !view.is_identity() {
        top.meta = Some(&meta);
    }
    let mut extras = [None, None];
    let mut n = 0;
    if !api_version.is_empty() {
        extras[n] = Some(Extra {
            key: "apiVersion",
            value: api_version,
        });
        n += 1;
    }
    if !kind.is_empty() {
        extras[n] = Some(Extra {
            key: "kind",
            value: kind,
        });
    }
    top.extras = extras;
    let mut r = Renderer {
        schema,
        layouts: layouts(),
        sink,
        notes: Vec::new(),
        arena: Vec::with_capacity(256),
        scratch: String::new(),
    };
    let range = r.index(raw).ok_or(Declined)?;
    r.structure(mi, range, 0, &top)?;
    if r.notes.len() > 1 {
        return Err(Declined);
    }
    Ok(r.notes)
}

/// The labels of a stored protobuf object (the envelope's), read from the wire: what
/// `metadata.labels` of the rendered object holds, without rendering it. `None` when the
/// value is not a plain envelope of a kind whose metadata is an ObjectMeta, or anything on the
/// way does not read as the schema says (the caller then asks the tree).
pub fn object_labels(value: &[u8]) -> Option<std::collections::BTreeMap<String, String>> {
    let unknown = value.strip_prefix(crate::classify::PROTOBUF_MAGIC)?;
    let (mut tm, mut raw) = (None, None);
    for f in Fields::new(unknown) {
        match f.ok()? {
            f if f.number == 1 => tm = Some(f.value),
            f if f.number == 2 => raw = Some(f.value),
            _ => {}
        }
    }
    let (Some(WireValue::Bytes(tm)), Some(WireValue::Bytes(raw))) = (tm, raw) else {
        return None;
    };
    let tm = crate::classify::read_type_meta(tm).ok()?;
    let schema = Schema::get();
    let m = schema.kind(&tm.api_version, &tm.kind)?;
    let meta_fd = m
        .fields
        .iter()
        .find(|f| f.json == "metadata" && !f.inline)?;
    let meta_m = match meta_fd.ty {
        Type::Message(i) => schema.messages.get(i)?,
        _ => return None,
    };
    if meta_m.name != "m.meta.v1.ObjectMeta" || meta_fd.repeated || meta_fd.map {
        return None;
    }
    let labels_fd = meta_m.fields.iter().find(|f| f.json == "labels")?;
    let mut meta = None;
    for f in Fields::new(raw) {
        let f = f.ok()?;
        if f.number == meta_fd.number {
            meta = Some(f.value);
        }
    }
    let mut labels = std::collections::BTreeMap::new();
    let Some(meta) = meta else {
        return Some(labels);
    };
    let WireValue::Bytes(meta) = meta else {
        return None;
    };
    for f in Fields::new(meta) {
        let f = f.ok()?;
        if f.number != labels_fd.number {
            continue;
        }
        let WireValue::Bytes(entry) = f.value else {
            return None;
        };
        let (mut k, mut v) = (&[][..], &[][..]);
        for e in Fields::new(entry) {
            match e.ok()? {
                e if e.number == 1 => match e.value {
                    WireValue::Bytes(b) => k = b,
                    _ => return None,
                },
                e if e.number == 2 => match e.value {
                    WireValue::Bytes(b) => v = b,
                    _ => return None,
                },
                _ => {}
            }
        }
        labels.insert(
            String::from_utf8_lossy(k).into_owned(),
            String::from_utf8_lossy(v).into_owned(),
        );
    }
    Some(labels)
}

/// Go's zero for omitempty, of a present scalar.
fn scalar_is_zero(s: Scalar, v: WireValue<'_>) -> bool {
    match (s, v) {
        (Scalar::String | Scalar::Bytes, WireValue::Bytes(b)) => b.is_empty(),
        (Scalar::Bool | Scalar::Int64 | Scalar::Uint64, WireValue::Varint(x)) => x == 0,
        (Scalar::Int32, WireValue::Varint(x)) => x as i64 as i32 == 0,
        (Scalar::Uint32, WireValue::Varint(x)) => x as u32 == 0,
        (Scalar::Sint32 | Scalar::Sint64, WireValue::Varint(x)) => x == 0,
        (Scalar::Fixed32 | Scalar::Sfixed32, WireValue::Fixed32(x)) => x == 0,
        (Scalar::Fixed64 | Scalar::Sfixed64, WireValue::Fixed64(x)) => x == 0,
        (Scalar::Float, WireValue::Fixed32(x)) => f32::from_bits(x) == 0.0,
        (Scalar::Double, WireValue::Fixed64(x)) => f64::from_bits(x) == 0.0,
        _ => false,
    }
}

fn fits(s: Scalar, v: WireValue<'_>) -> bool {
    matches!(
        (s, v),
        (Scalar::String | Scalar::Bytes, WireValue::Bytes(_))
            | (
                Scalar::Bool
                    | Scalar::Int32
                    | Scalar::Int64
                    | Scalar::Uint32
                    | Scalar::Uint64
                    | Scalar::Sint32
                    | Scalar::Sint64,
                WireValue::Varint(_)
            )
            | (
                Scalar::Fixed32 | Scalar::Sfixed32 | Scalar::Float,
                WireValue::Fixed32(_)
            )
            | (
                Scalar::Fixed64 | Scalar::Sfixed64 | Scalar::Double,
                WireValue::Fixed64(_)
            )
    )
}

impl<'a, S: Sink> Renderer<'a, '_, S> {
    fn note(&mut self, s: String) {
        if !self.notes.contains(&s) {
            self.notes.push(s);
        }
    }

    /// Indexes a message's fields (sorted by number, wire order within one); `None` when it is
    /// not a well-formed message (nothing is left on the arena).
    fn index(&mut self, bytes: &'a [u8]) -> Option<(usize, usize)> {
        let start = self.arena.len();
        let mut sorted = true;
        let mut last = 0;
        for f in Fields::new(bytes) {
            let Ok(f) = f else {
                self.arena.truncate(start);
                return None;
            };
            sorted &= f.number >= last;
            last = f.number;
            self.arena.push((f.number, f.value));
        }
        if !sorted {
            self.arena[start..].sort_by_key(|x| x.0);
        }
        Some((start, self.arena.len()))
    }

    /// The field numbers below 64 present in a range, and whether any is 64 or above.
    fn presence(&self, (lo, hi): (usize, usize)) -> (u64, bool) {
        let mut mask = 0u64;
        let mut high = false;
        for &(n, _) in &self.arena[lo..hi] {
            if n < 64 {
                mask |= 1 << n;
            } else {
                high = true;
            }
        }
        (mask, high)
    }

    /// The values of field `n` in an indexed range: indexes into the arena.
    fn find(&self, (lo, hi): (usize, usize), n: u32) -> (usize, usize) {
        let s = &self.arena[lo..hi];
        let a = s.partition_point(|x| x.0 < n);
        let b = a + s[a..].partition_point(|x| x.0 <= n);
        (lo + a, lo + b)
    }

    /// Every field number of the range is in the message (else it would be shown by number).
    fn all_known(&self, m: &Message, known: u64, range: (usize, usize)) -> R<u64> {
        let (mask, high) = self.presence(range);
        if mask & !known != 0 {
            return Err(Declined);
        }
        if high {
            for &(n, _) in &self.arena[range.0..range.1] {
                if n >= 64 {
                    m.field(n).ok_or(Declined)?;
                }
            }
        }
        Ok(mask)
    }

    /// A struct: its layout's entries in order.
    fn structure(&mut self, mi: usize, range: (usize, usize), depth: usize, ed: &Edits<'_>) -> R {
        let (schema, layouts) = (self.schema, self.layouts);
        let layout = &layouts[mi];
        if !layout.supported {
            return Err(Declined);
        }
        let mark = self.arena.len();
        let mut ranges = [(0usize, 0usize); MAX_GROUPS];
        let mut masks = [0u64; MAX_GROUPS];
        ranges[0] = range;
        masks[0] = self.all_known(&schema.messages[mi], layout.groups[0].known, range)?;
        for (g, group) in layout.groups.iter().enumerate().skip(1) {
            if depth + usize::from(group.level) > MAX_DEPTH {
                return Err(Declined);
            }
            let parent = ranges[usize::from(group.parent)];
            let (lo, hi) = self.find(parent, group.number);
            ranges[g] = if lo == hi {
                (0, 0)
            } else {
                match self.arena[hi - 1].1 {
                    WireValue::Bytes(b) => {
                        let r = self.index(b).ok_or(Declined)?;
                        masks[g] =
                            self.all_known(&schema.messages[group.message], group.known, r)?;
                        r
                    }
                    _ => return Err(Declined),
                }
            };
        }
        self.sink.begin_object();
        let yaml = self.sink.go_yaml_key_order();
        let before = |a: &str, b: &str| {
            if yaml {
                crate::yaml::go_yaml_key_order(a, b) == std::cmp::Ordering::Less
            } else {
                a < b
            }
        };
        let mut extras = ed.extras.iter().flatten().peekable();
        let any_extras = ed.extras.iter().any(Option::is_some);
        let entries = if yaml {
            &layout.yaml_entries
        } else {
            &layout.entries
        };
        for e in entries {
            let g = usize::from(e.group);
            if e.absent_is_nothing
                && e.number < 64
                && masks[g] & (1 << e.number) == 0
                && !any_extras
            {
                continue;
            }
            while let Some(x) = extras.next_if(|x| before(x.key, e.json)) {
                self.sink.key(x.key);
                self.sink.string(x.value);
            }
            let m = &schema.messages[e.message];
            let fd = &m.fields[e.field];
            let values = self.find(ranges[g], fd.number);
            if let Some(x) = extras.next_if(|x| x.key == e.json) {
                // Written in place of the stored value, which must still be one the tree
                // would show under this name.
                match fd.ty {
                    Type::Scalar(s) if !fd.repeated && !fd.map => {
                        if !self.arena[values.0..values.1].iter().all(|v| fits(s, v.1)) {
                            return Err(Declined);
                        }
                    }
                    _ => return Err(Declined),
                }
                self.sink.key(x.key);
                self.sink.string(x.value);
                continue;
            }
            let skip = match e.role {
                Role::Status => ed.skip_status,
                Role::ManagedFields => ed.skip_managed_fields,
                Role::ServerMeta => ed.skip_server_meta,
                _ => false,
            };
            if skip {
                // Not shown; but a value the tree would show by number (under another key)
                // must not vanish with it.
                if !self.shallow_fits(fd, values) {
                    return Err(Declined);
                }
                continue;
            }
            let level = depth + usize::from(layout.groups[usize::from(e.group)].level);
            let sub = if e.role == Role::Metadata {
                ed.meta
            } else {
                None
            };
            let last_applied = ed.drop_last_applied && e.role == Role::Annotations;
            self.field(m, fd, values, level, sub, last_applied)?;
        }
        for x in extras {
            self.sink.key(x.key);
            self.sink.string(x.value);
        }
        self.sink.end_object();
        self.arena.truncate(mark);
        Ok(())
    }

    /// Whether a field's wire types are what the tree shows under its name (the top level
    /// only: nested trouble stays under the name).
    fn shallow_fits(&self, fd: &FieldDef, (lo, hi): (usize, usize)) -> bool {
        let values = &self.arena[lo..hi];
        let ok = |v: &WireValue<'_>| match fd.ty {
            Type::Scalar(s) => fits(s, *v),
            Type::Message(_) => matches!(v, WireValue::Bytes(_)),
            Type::Unresolved => false,
        };
        match (fd.map, fd.repeated) {
            (true, _) => values.is_empty(),
            (false, true) => values.iter().all(|v| ok(&v.1)),
            (false, false) => values.last().is_none_or(|v| ok(&v.1)),
        }
    }

    /// One field: its key and value, or nothing when omitempty drops it.
    fn field(
        &mut self,
        m: &Message,
        fd: &FieldDef,
        (lo, hi): (usize, usize),
        depth: usize,
        edits: Option<&Edits<'_>>,
        drop_last_applied: bool,
    ) -> R {
        if edits.is_some() && (fd.map || fd.repeated) {
            return Err(Declined);
        }
        if fd.map {
            if lo == hi {
                if !fd.omitempty {
                    self.sink.key(fd.json);
                    self.sink.null();
                }
                return Ok(());
            }
            return self.map(m, fd, (lo, hi), depth, drop_last_applied);
        }
        if fd.repeated {
            if lo == hi {
                if !fd.omitempty {
                    self.sink.key(fd.json);
                    self.sink.null();
                }
                return Ok(());
            }
            self.sink.key(fd.json);
            self.sink.begin_array();
            for i in lo..hi {
                let v = self.arena[i].1;
                match (fd.ty, v) {
                    (Type::Scalar(s), WireValue::Bytes(b))
                        if !matches!(s, Scalar::String | Scalar::Bytes) =>
                    {
                        self.packed(s, b)?
                    }
                    _ => self.single(m, fd, v, depth, None)?,
                }
            }
            self.sink.end_array();
            return Ok(());
        }
        if lo == hi {
            // Absent: nil pointer, or Go's zero value.
            if fd.pointer {
                if !fd.omitempty {
                    self.sink.key(fd.json);
                    self.sink.null();
                }
                return Ok(());
            }
            return self.zero(fd, depth, edits);
        }
        let v = self.arena[hi - 1].1;
        match fd.ty {
            Type::Scalar(s) => {
                if !fits(s, v) {
                    return Err(Declined);
                }
                if fd.omitempty && !fd.pointer && scalar_is_zero(s, v) {
                    return Ok(());
                }
                self.sink.key(fd.json);
                self.scalar(s, v)
            }
            Type::Message(i) => {
                let special = self.schema.messages.get(i).ok_or(Declined)?.special;
                if special == Special::Array && fd.omitempty && !fd.pointer {
                    // Omitted when the array turns out empty: decide before the key.
                    let WireValue::Bytes(b) = v else {
                        return Err(Declined);
                    };
                    if array_is_empty(&self.schema.messages[i], b).ok_or(Declined)? {
                        return Ok(());
                    }
                }
                self.sink.key(fd.json);
                self.single(m, fd, v, depth, edits)
            }
            Type::Unresolved => Err(Declined),
        }
    }

    /// An absent non-pointer field: Go's zero value (omitempty drops all but structs).
    fn zero(&mut self, fd: &FieldDef, depth: usize, edits: Option<&Edits<'_>>) -> R {
        match fd.ty {
            Type::Message(i) => {
                let m = self.schema.messages.get(i).ok_or(Declined)?;
                if m.special == Special::Array {
                    if !fd.omitempty {
                        self.sink.key(fd.json);
                        self.sink.null();
                    }
                    return Ok(());
                }
                self.sink.key(fd.json);
                self.message(i, &[], depth + 1, edits)
            }
            _ if fd.omitempty => Ok(()),
            Type::Scalar(s) => {
                self.sink.key(fd.json);
                self.zero_scalar(s);
                Ok(())
            }
            Type::Unresolved => {
                self.sink.key(fd.json);
                self.sink.null();
                Ok(())
            }
        }
    }

    fn zero_scalar(&mut self, s: Scalar) {
        match s {
            Scalar::String => self.sink.string(""),
            Scalar::Bytes => self.sink.null(),
            Scalar::Bool => self.sink.bool(false),
            _ => self.sink.i64(0),
        }
    }

    /// A map: entries sorted by key, as Go writes a map.
    fn map(
        &mut self,
        m: &Message,
        fd: &FieldDef,
        (lo, hi): (usize, usize),
        depth: usize,
        drop_last_applied: bool,
    ) -> R {
        let mut entries: Vec<(Cow<'a, str>, Option<WireValue<'a>>)> = Vec::with_capacity(hi - lo);
        for i in lo..hi {
            let WireValue::Bytes(entry) = self.arena[i].1 else {
                return Err(Declined);
            };
            let (mut key, mut val) = (None, None);
            for f in Fields::new(entry) {
                let f = f.map_err(|_| Declined)?;
                match f.number {
                    1 => key = Some(f.value),
                    2 => val = Some(f.value),
                    _ => {}
                }
            }
            let key: Cow<'a, str> = match (fd.key, key) {
                (_, None) => Cow::Borrowed(""),
                (Some(Type::Scalar(Scalar::String)), Some(WireValue::Bytes(b))) => utf8(b),
                (Some(Type::Scalar(s)), Some(k)) => match scalar_value(s, k).ok_or(Declined)? {
                    Value::String(s) => Cow::Owned(s),
                    other => Cow::Owned(other.to_string()),
                },
                (_, Some(_)) => return Err(Declined),
            };
            entries.push((key, val));
        }
        entries.sort_by(|a, b| a.0.as_bytes().cmp(b.0.as_bytes()));
        if entries.windows(2).any(|w| w[0].0 == w[1].0) {
            return Err(Declined);
        }
        if self.sink.go_yaml_key_order() {
            entries.sort_by(|a, b| crate::yaml::go_yaml_key_order(&a.0, &b.0));
        }
        if drop_last_applied {
            // Still checked like the tree would render it.
            if let Some(pos) = entries.iter().position(|e| e.0 == LAST_APPLIED_ANNOTATION) {
                let (_, v) = entries.remove(pos);
                if let (Type::Scalar(s), Some(v)) = (fd.ty, v)
                    && !fits(s, v)
                {
                    return Err(Declined);
                }
            }
            if entries.is_empty() {
                return Ok(());
            }
        }
        self.sink.key(fd.json);
        self.sink.begin_object();
        for (k, v) in &entries {
            self.sink.key(k);
            match v {
                Some(v) => self.single(m, fd, *v, depth, None)?,
                None => match fd.ty {
                    Type::Scalar(s) => self.zero_scalar(s),
                    Type::Message(i)
                        if self.schema.messages.get(i).map(|x| x.special)
                            != Some(Special::Array) =>
                    {
                        self.message(i, &[], depth + 1, None)?
                    }
                    _ => self.sink.null(),
                },
            }
        }
        self.sink.end_object();
        Ok(())
    }

    /// Packed repeated numbers.
    fn packed(&mut self, s: Scalar, b: &[u8]) -> R {
        let mut pos = 0;
        while pos < b.len() {
            let v = match s {
                Scalar::Fixed32 | Scalar::Sfixed32 | Scalar::Float => {
                    let w = b.get(pos..pos + 4).ok_or(Declined)?;
                    pos += 4;
                    WireValue::Fixed32(u32::from_le_bytes(w.try_into().map_err(|_| Declined)?))
                }
                Scalar::Fixed64 | Scalar::Sfixed64 | Scalar::Double => {
                    let w = b.get(pos..pos + 8).ok_or(Declined)?;
                    pos += 8;
                    WireValue::Fixed64(u64::from_le_bytes(w.try_into().map_err(|_| Declined)?))
                }
                _ => {
                    let (v, n) = read_varint(b, pos).map_err(|_| Declined)?;
                    pos += n;
                    WireValue::Varint(v)
                }
            };
            self.scalar(s, v)?;
        }
        Ok(())
    }

    /// One value (not repeated) of a field.
    fn single(
        &mut self,
        m: &Message,
        fd: &FieldDef,
        v: WireValue<'a>,
        depth: usize,
        edits: Option<&Edits<'_>>,
    ) -> R {
        match fd.ty {
            Type::Scalar(s) => self.scalar(s, v),
            Type::Message(i) => {
                let WireValue::Bytes(b) = v else {
                    return Err(Declined);
                };
                let mm = self.schema.messages.get(i).ok_or(Declined)?;
                if mm.special != Special::None && Fields::new(b).any(|f| f.is_err()) {
                    // (A struct's own index finds this without a second pass, below.)
                    return self.malformed(m, fd, mm, b, depth, edits);
                }
                if mm.special == Special::None && depth < MAX_DEPTH {
                    let Some(range) = self.index(b) else {
                        return self.malformed(m, fd, mm, b, depth, edits);
                    };
                    let mark = range.0;
                    let r = self.structure(i, range, depth + 1, edits.unwrap_or(&Edits::default()));
                    self.arena.truncate(mark);
                    return r;
                }
                if mm.special == Special::None && Fields::new(b).any(|f| f.is_err()) {
                    return self.malformed(m, fd, mm, b, depth, edits);
                }
                self.message(i, b, depth + 1, edits)
            }
            Type::Unresolved => Err(Declined),
        }
    }

    /// A nested message that does not parse: shown schema-less, with a note.
    fn malformed(
        &mut self,
        m: &Message,
        fd: &FieldDef,
        mm: &Message,
        b: &[u8],
        depth: usize,
        edits: Option<&Edits<'_>>,
    ) -> R {
        if edits.is_some() {
            return Err(Declined);
        }
        self.note(format!(
            "field {} ({}) of {} is not a well-formed {}; shown schema-less",
            fd.number, fd.json, m.name, mm.name
        ));
        emit_payload(self.sink, b, depth + 1);
        Ok(())
    }

    /// A message value (well-formed) at `depth`: special types as their MarshalJSON writes
    /// them, structs by their layout.
    fn message(&mut self, mi: usize, b: &'a [u8], depth: usize, edits: Option<&Edits<'_>>) -> R {
        let m = &self.schema.messages[mi];
        if depth > MAX_DEPTH {
            if edits.is_some() {
                return Err(Declined);
            }
            self.note(format!(
                "{} nested deeper than {MAX_DEPTH} levels; shown schema-less",
                m.name
            ));
            let v = decode_protobuf(b).unwrap_or_else(|_| render_payload(b, 1));
            emit_value(self.sink, &v);
            return Ok(());
        }
        if m.special != Special::None && edits.is_some() {
            return Err(Declined);
        }
        match m.special {
            Special::None => {
                let range = self.index(b).ok_or(Declined)?;
                let mark = range.0;
                let r = self.structure(mi, range, depth, edits.unwrap_or(&Edits::default()));
                self.arena.truncate(mark);
                r
            }
            Special::Time | Special::MicroTime => {
                let (f1, f2, _) = last3(b);
                let seconds = varint(f1) as i64;
                let nanos = varint(f2) as i64 as i32;
                if b.is_empty() || seconds == -62_135_596_800 && nanos == 0 {
                    self.sink.null();
                    return Ok(());
                }
                let micro = m.special == Special::MicroTime;
                // As Time::to_rfc3339 (RFC 3339 in UTC), written in place; MicroTime with
                // exactly six digits of its microseconds.
                let nanos = if micro { nanos / 1000 * 1000 } else { 0 };
                if !(MIN_SECONDS..=MAX_SECONDS).contains(&seconds)
                    || !(0..1_000_000_000).contains(&nanos)
                {
                    self.note(format!(
                        "{} out of range ({seconds} s); shown by number",
                        m.name
                    ));
                    emit_value(self.sink, &decode_protobuf(b).unwrap_or(Value::Null));
                    return Ok(());
                }
                let (y, mo, d) = civil_from_days(seconds.div_euclid(86_400));
                let secs = seconds.rem_euclid(86_400);
                self.scratch.clear();
                let digits = |n: i64, width: usize, out: &mut String| {
                    let mut buf = itoa::Buffer::new();
                    let t = buf.format(n);
                    for _ in t.len()..width {
                        out.push('0');
                    }
                    out.push_str(t);
                };
                let out = &mut self.scratch;
                digits(y, 4, out);
                out.push('-');
                digits(mo, 2, out);
                out.push('-');
                digits(d, 2, out);
                out.push('T');
                digits(secs / 3600, 2, out);
                out.push(':');
                digits(secs / 60 % 60, 2, out);
                out.push(':');
                digits(secs % 60, 2, out);
                if micro {
                    out.push('.');
                    digits(i64::from(nanos / 1000), 6, out);
                }
                out.push('Z');
                self.sink.string(&self.scratch);
                Ok(())
            }
            Special::Duration => {
                let (f1, _, _) = last3(b);
                self.sink.string(&go_duration(varint(f1) as i64));
                Ok(())
            }
            Special::Quantity => {
                match last3(b).0 {
                    Some(WireValue::Bytes(s)) => self.sink.string(&utf8(s)),
                    _ => self.sink.string("0"),
                }
                Ok(())
            }
            Special::IntOrString => {
                let (f1, f2, f3) = last3(b);
                if varint(f1) == 1 {
                    match f3 {
                        Some(WireValue::Bytes(s)) => self.sink.string(&utf8(s)),
                        _ => self.sink.string(""),
                    }
                } else {
                    self.sink.i64(i64::from(varint(f2) as i64 as i32));
                }
                Ok(())
            }
            Special::RawJson
            | Special::OrBool
            | Special::OrArray
            | Special::OrStringArray
            | Special::Array => {
                // Embedded JSON (re-sorted and re-indented as Go's encoder does) and the
                // apiextensions types: the tree's value, written here.
                let (v, notes) = tree_message(m, b, depth);
                for n in notes {
                    self.note(n);
                }
                emit_value(self.sink, &v);
                Ok(())
            }
        }
    }

    fn scalar(&mut self, s: Scalar, v: WireValue<'_>) -> R {
        match (s, v) {
            (Scalar::String, WireValue::Bytes(b)) => self.sink.string(&utf8(b)),
            (Scalar::Bytes, WireValue::Bytes(b)) => {
                self.scratch.clear();
                STANDARD.encode_string(b, &mut self.scratch);
                self.sink.string(&self.scratch);
            }
            (Scalar::Bool, WireValue::Varint(x)) => self.sink.bool(x != 0),
            (Scalar::Int32, WireValue::Varint(x)) => self.sink.i64(i64::from(x as i64 as i32)),
            (Scalar::Int64, WireValue::Varint(x)) => self.sink.i64(x as i64),
            (Scalar::Uint32, WireValue::Varint(x)) => self.sink.u64(u64::from(x as u32)),
            (Scalar::Uint64, WireValue::Varint(x)) => self.sink.u64(x),
            (Scalar::Sint32 | Scalar::Sint64, WireValue::Varint(x)) => {
                self.sink.i64((x >> 1) as i64 ^ -((x & 1) as i64))
            }
            (Scalar::Fixed32, WireValue::Fixed32(x)) => self.sink.u64(u64::from(x)),
            (Scalar::Sfixed32, WireValue::Fixed32(x)) => self.sink.i64(i64::from(x as i32)),
            (Scalar::Float, WireValue::Fixed32(x)) => self.float(f64::from(f32::from_bits(x))),
            (Scalar::Fixed64, WireValue::Fixed64(x)) => self.sink.u64(x),
            (Scalar::Sfixed64, WireValue::Fixed64(x)) => self.sink.i64(x as i64),
            (Scalar::Double, WireValue::Fixed64(x)) => self.float(f64::from_bits(x)),
            _ => return Err(Declined),
        }
        Ok(())
    }

    /// A float as Go writes it (see [`crate::typed`]).
    fn float(&mut self, f: f64) {
        if f.fract() == 0.0 && f.abs() < 1e15 {
            self.sink.i64(f as i64)
        } else {
            match Number::from_f64(f) {
                Some(n) => self.sink.number(&n),
                None => self.sink.null(),
            }
        }
    }
}

/// The last values of fields 1, 2 and 3 of a small message (special types), as the tree
/// reads them: up to the first malformed field.
fn last3(
    b: &[u8],
) -> (
    Option<WireValue<'_>>,
    Option<WireValue<'_>>,
    Option<WireValue<'_>>,
) {
    let mut out = (None, None, None);
    for f in Fields::new(b).map_while(Result::ok) {
        match f.number {
            1 => out.0 = Some(f.value),
            2 => out.1 = Some(f.value),
            3 => out.2 = Some(f.value),
            _ => {}
        }
    }
    out
}

fn varint(v: Option<WireValue<'_>>) -> u64 {
    match v {
        Some(WireValue::Varint(x)) => x,
        _ => 0,
    }
}

/// Whether a Go slice type (`Special::Array`: its items are field 1) holds no items; `None`
/// when malformed. Only a packed number field can be present and still empty.
fn array_is_empty(m: &Message, b: &[u8]) -> Option<bool> {
    let packed = m.field(1).is_some_and(
        |f| matches!(f.ty, Type::Scalar(s) if !matches!(s, Scalar::String | Scalar::Bytes)),
    );
    for f in Fields::new(b) {
        let f = f.ok()?;
        if f.number == 1 {
            match f.value {
                WireValue::Bytes([]) if packed => {}
                _ => return Some(false),
            }
        }
    }
    Some(true)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn layouts_cover_the_schema() {
        let schema = Schema::get();
        let unsupported: Vec<&str> = layouts()
            .iter()
            .zip(&schema.messages)
            .filter(|(l, m)| !l.supported && m.special == Special::None)
            .map(|(_, m)| m.name)
            .collect();
        assert!(unsupported.is_empty(), "{unsupported:?}");
        // A Pod volume's configMap sits beside its name, in name order.
        let vol = schema.message("core.v1.Volume").unwrap();
        let i = schema
            .messages
            .iter()
            .position(|m| m.name == vol.name)
            .unwrap();
        let names: Vec<&str> = layouts()[i].entries.iter().map(|e| e.json).collect();
        assert!(names.contains(&"configMap") && names.contains(&"name"));
        assert!(names.is_sorted());
    }
}
