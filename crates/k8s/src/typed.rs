//! A stored object rendered by field name, as the apiserver shows it.
//!
//! `kubectl get -o json` shows what Go's `encoding/json` writes for the typed struct the
//! apiserver decoded from etcd; operators compare against that, and feed it back to kubectl.
//! So this renders a protobuf object with the embedded [`Schema`] and Go's rules, not
//! protobuf's: JSON names from the `json` tags; `inline` structs merged into their parent;
//! `omitempty` drops `false`, `0`, `""`, nil pointers and empty slices and maps but never a
//! struct (so `"status": {}` and `"creationTimestamp": null` appear, as Go writes them); a
//! field absent from the wire is Go's zero value (gogo-protobuf, which Kubernetes uses,
//! writes every non-pointer field, so absence means zero); types with their own `MarshalJSON`
//! (Time, MicroTime, Duration, Quantity, IntOrString, RawExtension, FieldsV1, JSON and the
//! apiextensions `JSONSchemaPropsOr*`) as Go writes them; `[]byte` and `map<string,bytes>`
//! base64.
//!
//! Nothing is dropped silently: a field number the schema does not know, a value whose wire
//! type does not match the schema, or a message type the schema lacks is shown schema-less
//! under its field number (see [`crate::schemaless`]) and named in [`Rendered::notes`].
//! Everything is bounded: nesting beyond [`MAX_DEPTH`] is shown schema-less too.

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;
use serde_json::{Map, Number, Value};

use crate::classify::{PROTOBUF_MAGIC, TypeMeta, read_type_meta};
use crate::error::DecodeError;
use crate::meta::LAST_APPLIED_ANNOTATION;
use crate::schema::{FieldDef, Message, Scalar, Schema, Special, Type};
use crate::schemaless::{decode_protobuf, insert_field, render, render_payload};
use crate::time::Time;
use crate::wire::{Fields, WireValue, read_varint};

/// Messages nested deeper than this are shown schema-less.
pub const MAX_DEPTH: usize = 100;

/// An object rendered by field name.
#[derive(Debug, Clone, PartialEq)]
pub struct Rendered {
    /// The object as `kubectl get -o json` shows it (keys sort when written).
    pub value: Value,
    /// What was shown by field number instead, and why: one line each.
    pub notes: Vec<String>,
}

struct Ctx<'s> {
    schema: &'s Schema,
    notes: Vec<String>,
}

impl Ctx<'_> {
    fn note(&mut self, s: String) {
        if !self.notes.contains(&s) {
            self.notes.push(s);
        }
    }
}

/// Renders `raw` (the object inside the envelope, `runtime.Unknown.raw`) as the kind
/// `api_version`/`kind`. `None` when the schema does not have the kind, or `raw` is not a
/// protobuf message: the caller falls back to the schema-less view.
pub fn render_object(api_version: &str, kind: &str, raw: &[u8]) -> Option<Rendered> {
    let schema = Schema::get();
    let message = schema.kind(api_version, kind)?;
    // The whole object must at least be a well-formed message.
    if Fields::new(raw).any(|f| f.is_err()) {
        return None;
    }
    let mut ctx = Ctx {
        schema,
        notes: Vec::new(),
    };
    let mut map = render_struct(&mut ctx, message, raw, 0);
    // TypeMeta is inline in every kind and omitempty; the envelope carries it.
    if !kind.is_empty() {
        map.insert("kind".into(), Value::String(kind.into()));
    }
    if !api_version.is_empty() {
        map.insert("apiVersion".into(), Value::String(api_version.into()));
    }
    Some(Rendered {
        value: Value::Object(map),
        notes: ctx.notes,
    })
}

/// A message's wire fields ordered by number (stably: wire order within a number), so each
/// field's values are one slice. Encoders write fields in number order, so this rarely sorts.
struct Wire<'a> {
    nums: Vec<u32>,
    vals: Vec<WireValue<'a>>,
}

impl<'a> Wire<'a> {
    fn new(bytes: &'a [u8]) -> Self {
        // Callers check well-formedness before rendering; a bad tail is simply not read.
        let mut v: Vec<(u32, WireValue<'a>)> = Fields::new(bytes)
            .map_while(Result::ok)
            .map(|f| (f.number, f.value))
            .collect();
        if !v.is_sorted_by_key(|x| x.0) {
            v.sort_by_key(|x| x.0);
        }
        let (nums, vals) = v.into_iter().unzip();
        Self { nums, vals }
    }

    /// The values of field `n`, in wire order.
    fn get(&self, n: u32) -> &[WireValue<'a>] {
        let lo = self.nums.partition_point(|&x| x < n);
        let hi = lo + self.nums[lo..].partition_point(|&x| x <= n);
        &self.vals[lo..hi]
    }

    /// The last value of field `n`.
    fn last(&self, n: u32) -> Option<WireValue<'a>> {
        self.get(n).last().copied()
    }

    /// The distinct field numbers present.
    fn numbers(&self) -> impl Iterator<Item = u32> + '_ {
        self.nums
            .iter()
            .enumerate()
            .filter(|(i, n)| *i == 0 || self.nums[i - 1] != **n)
            .map(|(_, n)| *n)
    }
}

/// Renders a struct message into a JSON object (Go's encoding/json of the struct).
fn render_struct(
    ctx: &mut Ctx<'_>,
    msg: &Message,
    bytes: &[u8],
    depth: usize,
) -> Map<String, Value> {
    // Named fields are collected, then the map is built in one bulk pass (sorted once);
    // the rare fields shown by number merge in after.
    let mut pairs: Vec<(String, Value)> = Vec::with_capacity(msg.fields.len());
    let mut out = Map::new();
    let wire = Wire::new(bytes);
    for number in wire.numbers() {
        if msg.field(number).is_none() {
            ctx.note(format!(
                "field {number} of {} is not in the schema; shown by number",
                msg.name
            ));
            for v in wire.get(number) {
                insert_field(&mut out, number, render(*v, depth + 1));
            }
        }
    }
    for fd in &msg.fields {
        if fd.hidden {
            continue;
        }
        let values = wire.get(fd.number);
        let Some((value, empty)) = field_value(ctx, msg, fd, values, depth) else {
            // Shown by number (wire type mismatch).
            for v in values {
                insert_field(&mut out, fd.number, render(*v, depth + 1));
            }
            continue;
        };
        if fd.inline {
            match value {
                Value::Object(inner) => pairs.extend(inner),
                Value::Null => {}
                other => {
                    pairs.push((fd.json.to_owned(), other));
                }
            }
            continue;
        }
        if fd.omitempty && empty {
            continue;
        }
        pairs.push((fd.json.to_owned(), value));
    }
    let mut map: Map<String, Value> = pairs.into_iter().collect();
    for (k, v) in out {
        map.insert(k, v);
    }
    map
}

/// One field's JSON value and whether Go's omitempty counts it empty; `None` when a value's
/// wire type does not fit the schema (the caller shows the field by number).
fn field_value(
    ctx: &mut Ctx<'_>,
    msg: &Message,
    fd: &FieldDef,
    values: &[WireValue<'_>],
    depth: usize,
) -> Option<(Value, bool)> {
    let mismatch = |ctx: &mut Ctx<'_>| {
        ctx.note(format!(
            "field {} ({}) of {} does not have the schema's wire type; shown by number",
            fd.number, fd.json, msg.name
        ));
    };
    if fd.map {
        if values.is_empty() {
            return Some((Value::Null, true));
        }
        let mut map = Map::new();
        for v in values {
            let WireValue::Bytes(entry) = v else {
                mismatch(ctx);
                return None;
            };
            let (mut key, mut val) = (None, None);
            for f in Fields::new(entry) {
                let Ok(f) = f else {
                    mismatch(ctx);
                    return None;
                };
                match f.number {
                    1 => key = Some(f.value),
                    2 => val = Some(f.value),
                    _ => {}
                }
            }
            let key = match (fd.key, key) {
                (_, None) => String::new(),
                (Some(Type::Scalar(s)), Some(k)) => match scalar(s, k) {
                    Some(Value::String(s)) => s,
                    Some(other) => other.to_string(),
                    None => {
                        mismatch(ctx);
                        return None;
                    }
                },
                (_, Some(_)) => {
                    mismatch(ctx);
                    return None;
                }
            };
            let value = match val {
                Some(v) => single(ctx, msg, fd, v, depth)?,
                None => zero(ctx, fd.ty, depth).0,
            };
            map.insert(key, value);
        }
        return Some((Value::Object(map), false));
    }
    if fd.repeated {
        if values.is_empty() {
            return Some((Value::Null, true));
        }
        let mut items = Vec::new();
        for v in values {
            match (fd.ty, v) {
                // Packed repeated numbers.
                (Type::Scalar(s), WireValue::Bytes(b))
                    if !matches!(s, Scalar::String | Scalar::Bytes) =>
                {
                    items.extend(unpack(s, b).or_else(|| {
                        mismatch(ctx);
                        None
                    })?);
                }
                _ => items.push(single(ctx, msg, fd, *v, depth)?),
            }
        }
        return Some((Value::Array(items), false));
    }
    match values.last() {
        None if fd.pointer => Some((Value::Null, true)),
        None => Some(zero(ctx, fd.ty, depth)),
        Some(v) => {
            let value = single(ctx, msg, fd, *v, depth)?;
            let empty = !fd.pointer && is_go_empty(ctx, fd.ty, &value);
            Some((value, empty))
        }
    }
}

/// Whether a present non-pointer value is Go's zero for omitempty.
fn is_go_empty(ctx: &Ctx<'_>, ty: Type, v: &Value) -> bool {
    match ty {
        Type::Scalar(Scalar::Bytes) => v.as_str().is_some_and(str::is_empty),
        Type::Scalar(_) => match v {
            Value::Bool(b) => !b,
            Value::String(s) => s.is_empty(),
            Value::Number(n) => n.as_f64() == Some(0.0),
            _ => false,
        },
        Type::Message(i) => {
            ctx.schema.messages.get(i).map(|m| m.special) == Some(Special::Array)
                && v.as_array().is_none_or(Vec::is_empty)
        }
        Type::Unresolved => false,
    }
}

/// Go's zero value of a non-pointer field of this type, and whether omitempty drops it.
fn zero(ctx: &mut Ctx<'_>, ty: Type, depth: usize) -> (Value, bool) {
    match ty {
        Type::Scalar(Scalar::String) => (Value::String(String::new()), true),
        Type::Scalar(Scalar::Bytes) => (Value::Null, true),
        Type::Scalar(Scalar::Bool) => (Value::Bool(false), true),
        Type::Scalar(_) => (Value::from(0), true),
        Type::Message(i) => match ctx.schema.messages.get(i) {
            Some(m) if m.special == Special::Array => (Value::Null, true),
            Some(m) => (message(ctx, m, &[], depth + 1), false),
            None => (Value::Null, true),
        },
        Type::Unresolved => (Value::Null, true),
    }
}

/// One value (not repeated) of a field.
fn single(
    ctx: &mut Ctx<'_>,
    msg: &Message,
    fd: &FieldDef,
    v: WireValue<'_>,
    depth: usize,
) -> Option<Value> {
    match fd.ty {
        Type::Scalar(s) => scalar(s, v).or_else(|| {
            ctx.note(format!(
                "field {} ({}) of {} does not have the schema's wire type; shown by number",
                fd.number, fd.json, msg.name
            ));
            None
        }),
        Type::Message(i) => {
            let WireValue::Bytes(b) = v else {
                ctx.note(format!(
                    "field {} ({}) of {} does not have the schema's wire type; shown by number",
                    fd.number, fd.json, msg.name
                ));
                return None;
            };
            let m = ctx.schema.messages.get(i)?;
            if Fields::new(b).any(|f| f.is_err()) {
                ctx.note(format!(
                    "field {} ({}) of {} is not a well-formed {}; shown schema-less",
                    fd.number, fd.json, msg.name, m.name
                ));
                return Some(render_payload(b, depth + 1));
            }
            Some(message(ctx, m, b, depth + 1))
        }
        Type::Unresolved => {
            ctx.note(format!(
                "field {} ({}) of {} has a type the schema lacks; shown schema-less",
                fd.number, fd.json, msg.name
            ));
            Some(render(v, depth + 1))
        }
    }
}

/// A message value: special types as their MarshalJSON writes them, structs as objects.
fn message(ctx: &mut Ctx<'_>, m: &Message, b: &[u8], depth: usize) -> Value {
    if depth > MAX_DEPTH {
        ctx.note(format!(
            "{} nested deeper than {MAX_DEPTH} levels; shown schema-less",
            m.name
        ));
        return decode_protobuf(b).unwrap_or_else(|_| render_payload(b, 1));
    }
    let wire = Wire::new(if m.special == Special::None { &[] } else { b });
    let last = |n: u32| wire.last(n);
    let varint = |n: u32| match last(n) {
        Some(WireValue::Varint(v)) => v,
        _ => 0,
    };
    let bytes = |n: u32| match last(n) {
        Some(WireValue::Bytes(v)) => Some(v),
        _ => None,
    };
    match m.special {
        Special::None => Value::Object(render_struct(ctx, m, b, depth)),
        Special::Time | Special::MicroTime => {
            let seconds = varint(1) as i64;
            let nanos = varint(2) as i64 as i32;
            if b.is_empty() || seconds == -62_135_596_800 && nanos == 0 {
                return Value::Null;
            }
            let micro = m.special == Special::MicroTime;
            let t = Time {
                seconds,
                nanos: if micro { nanos / 1000 * 1000 } else { 0 },
            };
            match t.to_rfc3339() {
                Some(s) if micro => {
                    // RFC3339Micro: always six digits.
                    let (head, _) = s.split_at(19);
                    Value::String(format!("{head}.{:06}Z", t.nanos / 1000))
                }
                Some(s) => Value::String(s),
                None => {
                    ctx.note(format!(
                        "{} out of range ({seconds} s); shown by number",
                        m.name
                    ));
                    decode_protobuf(b).unwrap_or(Value::Null)
                }
            }
        }
        Special::Duration => Value::String(go_duration(varint(1) as i64)),
        Special::Quantity => match bytes(1) {
            Some(s) => Value::String(String::from_utf8_lossy(s).into_owned()),
            None => Value::String("0".into()),
        },
        Special::IntOrString => {
            if varint(1) == 1 {
                Value::String(
                    bytes(3)
                        .map(|s| String::from_utf8_lossy(s).into_owned())
                        .unwrap_or_default(),
                )
            } else {
                Value::from(varint(2) as i64 as i32)
            }
        }
        Special::RawJson => match bytes(1) {
            None | Some([]) => Value::Null,
            Some(raw) => match serde_json::from_slice::<Value>(raw) {
                Ok(v) => v,
                Err(_) => {
                    ctx.note(format!(
                        "{} holds bytes that are not JSON; shown as text or base64",
                        m.name
                    ));
                    render_payload(raw, depth)
                }
            },
        },
        Special::OrBool | Special::OrArray | Special::OrStringArray | Special::Array => {
            // Render the struct by its fields, then pick as the MarshalJSON does.
            let inner = render_struct(ctx, m, b, depth);
            let field_json = |n: u32| m.field(n).map(|f| f.json).unwrap_or_default();
            let get = |n: u32| inner.get(field_json(n)).cloned().unwrap_or(Value::Null);
            let non_empty_array = |v: &Value| v.as_array().is_some_and(|a| !a.is_empty());
            match m.special {
                Special::OrBool => match get(2) {
                    Value::Null => Value::Bool(get(1).as_bool().unwrap_or(false)),
                    schema => schema,
                },
                Special::OrArray => {
                    let arr = get(2);
                    if non_empty_array(&arr) { arr } else { get(1) }
                }
                Special::OrStringArray => {
                    let arr = get(2);
                    if non_empty_array(&arr) { arr } else { get(1) }
                }
                _ => get(1),
            }
        }
    }
}

/// A message value as the tree renders it (special types, for the fast renderer), with the
/// notes it gave.
pub(crate) fn tree_message(m: &Message, b: &[u8], depth: usize) -> (Value, Vec<String>) {
    let mut ctx = Ctx {
        schema: Schema::get(),
        notes: Vec::new(),
    };
    let v = message(&mut ctx, m, b, depth);
    (v, ctx.notes)
}

/// A scalar's JSON value (for map keys of the fast renderer).
pub(crate) fn scalar_value(s: Scalar, v: WireValue<'_>) -> Option<Value> {
    scalar(s, v)
}

/// A scalar from its wire value; `None` when the wire type does not fit.
fn scalar(s: Scalar, v: WireValue<'_>) -> Option<Value> {
    Some(match (s, v) {
        (Scalar::String, WireValue::Bytes(b)) => {
            Value::String(String::from_utf8_lossy(b).into_owned())
        }
        (Scalar::Bytes, WireValue::Bytes(b)) => Value::String(STANDARD.encode(b)),
        (Scalar::Bool, WireValue::Varint(x)) => Value::Bool(x != 0),
        (Scalar::Int32, WireValue::Varint(x)) => Value::from(x as i64 as i32),
        (Scalar::Int64, WireValue::Varint(x)) => Value::from(x as i64),
        (Scalar::Uint32, WireValue::Varint(x)) => Value::from(x as u32),
        (Scalar::Uint64, WireValue::Varint(x)) => Value::from(x),
        (Scalar::Sint32 | Scalar::Sint64, WireValue::Varint(x)) => {
            Value::from((x >> 1) as i64 ^ -((x & 1) as i64))
        }
        (Scalar::Fixed32, WireValue::Fixed32(x)) => Value::from(x),
        (Scalar::Sfixed32, WireValue::Fixed32(x)) => Value::from(x as i32),
        (Scalar::Float, WireValue::Fixed32(x)) => float(f64::from(f32::from_bits(x))),
        (Scalar::Fixed64, WireValue::Fixed64(x)) => Value::from(x),
        (Scalar::Sfixed64, WireValue::Fixed64(x)) => Value::from(x as i64),
        (Scalar::Double, WireValue::Fixed64(x)) => float(f64::from_bits(x)),
        _ => return None,
    })
}

/// A float as Go writes it: integral values without a fraction.
fn float(f: f64) -> Value {
    if f.fract() == 0.0 && f.abs() < 1e15 {
        Value::from(f as i64)
    } else {
        Number::from_f64(f).map_or(Value::Null, Value::Number)
    }
}

/// Packed repeated numbers.
fn unpack(s: Scalar, b: &[u8]) -> Option<Vec<Value>> {
    let mut out = Vec::new();
    let mut pos = 0;
    while pos < b.len() {
        let v = match s {
            Scalar::Fixed32 | Scalar::Sfixed32 | Scalar::Float => {
                let w = b.get(pos..pos + 4)?;
                pos += 4;
                WireValue::Fixed32(u32::from_le_bytes(w.try_into().ok()?))
            }
            Scalar::Fixed64 | Scalar::Sfixed64 | Scalar::Double => {
                let w = b.get(pos..pos + 8)?;
                pos += 8;
                WireValue::Fixed64(u64::from_le_bytes(w.try_into().ok()?))
            }
            _ => {
                let (v, n) = read_varint(b, pos).ok()?;
                pos += n;
                WireValue::Varint(v)
            }
        };
        out.push(scalar(s, v)?);
    }
    Some(out)
}

/// Go's `time.Duration.String()`: `1h2m3.5s`, `100ms`, `1.5µs`, `0s`.
pub fn go_duration(d: i64) -> String {
    if d == 0 {
        return "0s".into();
    }
    let neg = d < 0;
    let u = d.unsigned_abs();
    // fmt a fraction of `prec` digits, trailing zeros (and the dot) trimmed.
    let frac = |v: u64, prec: u32| -> (String, u64) {
        let p = 10u64.pow(prec);
        let (int, f) = (v / p, v % p);
        if f == 0 {
            return (String::new(), int);
        }
        let mut digits = format!("{f:0width$}", width = prec as usize);
        while digits.ends_with('0') {
            digits.pop();
        }
        (format!(".{digits}"), int)
    };
    let mut s = String::new();
    if u < 1_000_000_000 {
        let (prec, unit) = match u {
            0..1_000 => (0, "ns"),
            1_000..1_000_000 => (3, "µs"),
            _ => (6, "ms"),
        };
        let (f, int) = frac(u, prec);
        s.push_str(&format!("{int}{f}{unit}"));
    } else {
        let (f, secs) = frac(u, 9);
        let (h, m, sec) = (secs / 3600, secs / 60 % 60, secs % 60);
        if h > 0 {
            s.push_str(&format!("{h}h{m}m"));
        } else if m > 0 {
            s.push_str(&format!("{m}m"));
        }
        s.push_str(&format!("{sec}{f}s"));
    }
    if neg {
        s.insert(0, '-');
    }
    s
}

/// Decodes a stored value into the object `kubectl get -o json` would show: a protobuf
/// envelope rendered with the schema (a kind the schema lacks: metadata by name, the rest by
/// field number, with a note), a JSON object (custom resources) as stored. Secrets' `data`
/// and `stringData` values (and their last-applied annotation) are replaced by a marker unless
/// `show_secrets`: the marker is not base64, so such a manifest cannot silently re-create an
/// empty Secret.
pub fn decode_typed(value: &[u8], show_secrets: bool) -> Result<Rendered, DecodeError> {
    let mut rendered = if let Some(unknown) = value.strip_prefix(PROTOBUF_MAGIC) {
        let (mut tm, mut raw) = (TypeMeta::default(), &[][..]);
        for field in Fields::new(unknown) {
            let field = field.map_err(DecodeError::Envelope)?;
            match (field.number, field.value) {
                (1, WireValue::Bytes(b)) => {
                    tm = read_type_meta(b).map_err(DecodeError::Envelope)?
                }
                (2, WireValue::Bytes(b)) => raw = b,
                _ => {}
            }
        }
        if let Some(e) = Fields::new(raw).find_map(Result::err) {
            return Err(DecodeError::Object(e));
        }
        match render_object(&tm.api_version, &tm.kind, raw) {
            Some(r) => r,
            None => fallback(&tm.api_version, &tm.kind, raw),
        }
    } else if value.iter().find(|c| !c.is_ascii_whitespace()) == Some(&b'{') {
        Rendered {
            value: serde_json::from_slice(value)?,
            notes: Vec::new(),
        }
    } else {
        return Err(match crate::classify(value) {
            crate::ValueKind::Encrypted(e) => DecodeError::Encrypted(e.label()),
            other => DecodeError::NotAnObject(other.class()),
        });
    };
    let is_secret = rendered.value.get("kind").and_then(Value::as_str) == Some("Secret")
        && rendered.value.get("apiVersion").and_then(Value::as_str) == Some("v1");
    if is_secret && !show_secrets {
        redact_typed_secret(&mut rendered.value);
    }
    Ok(rendered)
}

/// A kind the schema does not have: metadata by name, everything else by field number.
fn fallback(api_version: &str, kind: &str, raw: &[u8]) -> Rendered {
    let schema = Schema::get();
    let meta = schema
        .kind("v1", "ConfigMap")
        .and_then(|m| m.field(1))
        .cloned();
    let msg = Message {
        name: "(unknown kind)",
        special: Special::None,
        fields: meta.into_iter().collect(),
    };
    let mut ctx = Ctx {
        schema,
        notes: Vec::new(),
    };
    let mut map = render_struct(&mut ctx, &msg, raw, 0);
    map.insert("kind".into(), Value::String(kind.into()));
    map.insert("apiVersion".into(), Value::String(api_version.into()));
    let mut notes = vec![format!(
        "kind {kind} ({api_version}) is not in the schema: metadata shown by name, other fields by number"
    )];
    notes.extend(
        ctx.notes
            .into_iter()
            .filter(|n| !n.contains("(unknown kind)")),
    );
    Rendered {
        value: Value::Object(map),
        notes,
    }
}

/// The marker a hidden Secret value is replaced with.
pub fn secret_marker(size: usize) -> String {
    format!("(redacted: {size} bytes; --show-secrets shows it)")
}

/// Replaces a Secret's `data`/`stringData` values and its last-applied annotation by markers.
pub fn redact_typed_secret(v: &mut Value) {
    for (field, base64) in [("data", true), ("stringData", false)] {
        if let Some(Value::Object(m)) = v.get_mut(field) {
            for val in m.values_mut() {
                let size = match val.as_str() {
                    Some(s) if base64 => STANDARD.decode(s).map_or(s.len(), |b| b.len()),
                    Some(s) => s.len(),
                    None => val.to_string().len(),
                };
                *val = Value::String(secret_marker(size));
            }
        }
    }
    if let Some(Value::Object(a)) = v.pointer_mut("/metadata/annotations")
        && let Some(last) = a.get_mut(LAST_APPLIED_ANNOTATION)
    {
        let size = last.as_str().map_or(0, str::len);
        *last = Value::String(secret_marker(size));
    }
}

/// Server-populated metadata fields a manifest leaves out.
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

/// Turns an object into what `kubectl apply -f` / `kubectl create -f` take to re-create it:
/// `status` and the server-populated metadata removed ([`SERVER_METADATA`]), and the
/// `kubectl.kubernetes.io/last-applied-configuration` annotation (an `annotations` map left
/// empty goes too).
pub fn to_manifest(v: &mut Value) {
    let Value::Object(map) = v else { return };
    map.remove("status");
    if let Some(Value::Object(meta)) = map.get_mut("metadata") {
        for f in SERVER_METADATA {
            meta.remove(*f);
        }
        let empty = match meta.get_mut("annotations") {
            Some(Value::Object(a)) => {
                a.remove(LAST_APPLIED_ANNOTATION);
                a.is_empty()
            }
            _ => false,
        };
        if empty {
            meta.remove("annotations");
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn durations_as_go_prints_them() {
        for (ns, s) in [
            (0, "0s"),
            (1, "1ns"),
            (1_500, "1.5µs"),
            (100_000_000, "100ms"),
            (1_500_000_000, "1.5s"),
            (90_000_000_000, "1m30s"),
            (3_600_000_000_000, "1h0m0s"),
            (-5_000_000_000, "-5s"),
            (3_723_000_000_000, "1h2m3s"),
        ] {
            assert_eq!(go_duration(ns), s, "{ns}");
        }
    }
}
