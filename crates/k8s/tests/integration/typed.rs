//! Typed rendering (`decode_typed`) against objects of many kinds.
//!
//! The objects are written as the apiserver shows them (JSON names), encoded here into the
//! protobuf envelope the apiserver writes to etcd (gogo's rules: every non-pointer field is
//! written, even when zero; Time as seconds; Quantity, IntOrString, RawExtension as their
//! messages), and decoded back. The encoder finds each field by the JSON name the object
//! uses, so a wrong name in the schema fails here; the expected Go quirks (zero values that
//! `encoding/json` writes) come from kubectl's own output in `tests/data/typed/kubectl-*.json`.

use std::fs;

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;
use etcdsnap_k8s::schema::{FieldDef, Message, Scalar, Schema, Special, Type};
use etcdsnap_k8s::time::Time;
use etcdsnap_k8s::{decode_typed, gojson};
use serde_json::{Map, Value};

use crate::pb::{Msg, envelope};

fn data_dir() -> std::path::PathBuf {
    std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/data/typed")
}

/// Encodes a JSON object of message `m` as gogo-protobuf would marshal the Go struct.
fn encode(schema: &Schema, m: &Message, obj: &Map<String, Value>, path: &str) -> Msg {
    encode_checked(schema, m, obj, path, true)
}

fn encode_checked(
    schema: &Schema,
    m: &Message,
    obj: &Map<String, Value>,
    path: &str,
    check: bool,
) -> Msg {
    let mut out = Msg::new();
    for fd in &m.fields {
        if fd.hidden {
            continue;
        }
        if fd.inline {
            let Type::Message(i) = fd.ty else {
                panic!("{path}: inline scalar")
            };
            let inner = &schema.messages[i];
            let sub = encode_checked(schema, inner, obj, path, false);
            if !fd.pointer || !sub.0.is_empty() {
                out = out.msg(fd.number, sub);
            }
            continue;
        }
        let v = obj.get(fd.json);
        out = encode_field(schema, fd, v, out, &format!("{path}.{}", fd.json));
    }
    // Every member of the object must be a field of the message (or TypeMeta at the top).
    for k in obj.keys().filter(|_| check) {
        let known = m
            .fields
            .iter()
            .any(|f| f.json == k.as_str() || inline_has(schema, f, k));
        assert!(
            known || path.is_empty() && (k == "apiVersion" || k == "kind"),
            "{path}: {k} is not a field of {}",
            m.name
        );
    }
    out
}

fn inline_has(schema: &Schema, f: &FieldDef, k: &str) -> bool {
    match (f.inline, f.ty) {
        (true, Type::Message(i)) => schema.messages[i]
            .fields
            .iter()
            .any(|g| g.json == k || inline_has(schema, g, k)),
        _ => false,
    }
}

fn encode_field(
    schema: &Schema,
    fd: &FieldDef,
    v: Option<&Value>,
    mut out: Msg,
    path: &str,
) -> Msg {
    let v = v.filter(|v| !v.is_null());
    if fd.map {
        if let Some(Value::Object(entries)) = v {
            for (k, val) in entries {
                let entry = Msg::new().str(1, k);
                let entry = encode_single(schema, fd.ty, Some(val), entry, 2, path);
                out = out.msg(fd.number, entry);
            }
        }
        return out;
    }
    if fd.repeated {
        if let Some(Value::Array(items)) = v {
            for item in items {
                out = encode_single(schema, fd.ty, Some(item), out, fd.number, path);
            }
        }
        return out;
    }
    if v.is_none() && fd.pointer {
        return out;
    }
    encode_single(schema, fd.ty, v, out, fd.number, path)
}

fn encode_single(
    schema: &Schema,
    ty: Type,
    v: Option<&Value>,
    out: Msg,
    number: u32,
    path: &str,
) -> Msg {
    match ty {
        Type::Scalar(s) => match s {
            Scalar::String => out.str(number, v.and_then(Value::as_str).unwrap_or("")),
            Scalar::Bytes => match v {
                Some(v) => out.bytes(number, &STANDARD.decode(v.as_str().unwrap()).unwrap()),
                None => out,
            },
            Scalar::Bool => out.bool(number, v.and_then(Value::as_bool).unwrap_or(false)),
            Scalar::Double => {
                let f = v.and_then(Value::as_f64).unwrap_or(0.0);
                let mut m = out;
                m.0.push(((number << 3) | 1) as u8);
                m.0.extend_from_slice(&f.to_le_bytes());
                m
            }
            _ => out.int(number, v.and_then(Value::as_i64).unwrap_or(0)),
        },
        Type::Message(i) => {
            let m = &schema.messages[i];
            out.msg(number, encode_message(schema, m, v, path))
        }
        Type::Unresolved => panic!("{path}: unresolved type"),
    }
}

fn encode_message(schema: &Schema, m: &Message, v: Option<&Value>, path: &str) -> Msg {
    match m.special {
        Special::None => match v {
            Some(Value::Object(o)) => encode(schema, m, o, path),
            None => encode(schema, m, &Map::new(), path),
            Some(other) => panic!("{path}: {other} for {}", m.name),
        },
        Special::Time | Special::MicroTime => match v.and_then(Value::as_str) {
            None => Msg::new(),
            Some(s) => {
                let t = Time::parse_rfc3339(s).unwrap_or_else(|| panic!("{path}: time {s}"));
                let mut msg = Msg::new().int(1, t.seconds);
                if t.nanos != 0 {
                    msg = msg.int(2, i64::from(t.nanos));
                }
                msg
            }
        },
        Special::Duration => {
            Msg::new().int(1, parse_duration(v.and_then(Value::as_str).unwrap_or("0s")))
        }
        Special::Quantity => Msg::new().str(1, v.and_then(Value::as_str).unwrap_or("0")),
        Special::IntOrString => match v {
            Some(Value::String(s)) => Msg::new().int(1, 1).int(2, 0).str(3, s),
            Some(n) => Msg::new().int(1, 0).int(2, n.as_i64().unwrap()).str(3, ""),
            None => Msg::new().int(1, 0).int(2, 0).str(3, ""),
        },
        Special::RawJson => match v {
            None => Msg::new(),
            Some(j) => Msg::new().bytes(1, j.to_string().as_bytes()),
        },
        Special::OrBool => match v {
            Some(Value::Bool(b)) => Msg::new().bool(1, *b),
            Some(s) => {
                let schema_msg = field_msg(schema, m, 2);
                Msg::new()
                    .bool(1, true)
                    .msg(2, encode_message(schema, schema_msg, Some(s), path))
            }
            None => Msg::new().bool(1, false),
        },
        Special::OrArray | Special::OrStringArray => {
            let item_ty = m.field(2).unwrap().ty;
            match v {
                Some(Value::Array(items)) => {
                    let mut out = Msg::new();
                    for it in items {
                        out = encode_single(schema, item_ty, Some(it), out, 2, path);
                    }
                    out
                }
                Some(s) => {
                    let schema_msg = field_msg(schema, m, 1);
                    Msg::new().msg(1, encode_message(schema, schema_msg, Some(s), path))
                }
                None => Msg::new(),
            }
        }
        Special::Array => {
            let item_ty = m.field(1).unwrap().ty;
            let mut out = Msg::new();
            for it in v.and_then(Value::as_array).into_iter().flatten() {
                out = encode_single(schema, item_ty, Some(it), out, 1, path);
            }
            out
        }
    }
}

fn field_msg<'s>(schema: &'s Schema, m: &Message, n: u32) -> &'s Message {
    match m.field(n).unwrap().ty {
        Type::Message(i) => &schema.messages[i],
        _ => panic!("not a message"),
    }
}

/// Go durations as the tests write them: `1h2m3s`, `500ms`, `10s`.
fn parse_duration(s: &str) -> i64 {
    let mut total = 0i64;
    let mut num = String::new();
    let mut chars = s.chars().peekable();
    while let Some(c) = chars.next() {
        if c.is_ascii_digit() || c == '.' {
            num.push(c);
            continue;
        }
        let unit = match (c, chars.peek()) {
            ('m', Some('s')) => {
                chars.next();
                1_000_000i64
            }
            ('h', _) => 3_600_000_000_000,
            ('m', _) => 60_000_000_000,
            ('s', _) => 1_000_000_000,
            _ => panic!("duration {s}"),
        };
        total += (num.parse::<f64>().unwrap() * unit as f64) as i64;
        num.clear();
    }
    total
}

/// Encodes a whole object (apiVersion/kind from the document) into the storage envelope.
pub fn to_storage(obj: &Value) -> Vec<u8> {
    let schema = Schema::get();
    let av = obj["apiVersion"].as_str().unwrap();
    let kind = obj["kind"].as_str().unwrap();
    let m = schema
        .kind(av, kind)
        .unwrap_or_else(|| panic!("{av} {kind} not in the schema"));
    let raw = encode(schema, m, obj.as_object().unwrap(), "");
    envelope(av, kind, raw, "")
}

/// Every leaf of `want` is in `got` at the same path with the same value.
fn contains(got: &Value, want: &Value, path: &str, misses: &mut Vec<String>) {
    match (got, want) {
        (Value::Object(g), Value::Object(w)) => {
            for (k, wv) in w {
                match g.get(k) {
                    Some(gv) => contains(gv, wv, &format!("{path}.{k}"), misses),
                    None => misses.push(format!("{path}.{k} missing")),
                }
            }
        }
        (Value::Array(g), Value::Array(w)) => {
            if g.len() != w.len() {
                misses.push(format!("{path}: {} items, want {}", g.len(), w.len()));
            }
            for (i, (gv, wv)) in g.iter().zip(w).enumerate() {
                contains(gv, wv, &format!("{path}[{i}]"), misses);
            }
        }
        _ if got == want => {}
        _ => misses.push(format!("{path}: {got} != {want}")),
    }
}

#[test]
fn objects_of_many_kinds_round_trip_field_by_field() {
    let text = fs::read_to_string(data_dir().join("kinds.json")).unwrap();
    let objects: Vec<Value> = serde_json::from_str(&text).unwrap();
    let mut kinds = std::collections::BTreeSet::new();
    let mut groups = std::collections::BTreeSet::new();
    for obj in &objects {
        let av = obj["apiVersion"].as_str().unwrap();
        kinds.insert(format!("{av}/{}", obj["kind"].as_str().unwrap()));
        groups.insert(av.rsplit_once('/').map_or("", |(g, _)| g).to_owned());
        let stored = to_storage(obj);
        let r = decode_typed(&stored, true).unwrap();
        assert!(r.notes.is_empty(), "{av} {}: {:?}", obj["kind"], r.notes);
        let mut misses = Vec::new();
        contains(&r.value, obj, "", &mut misses);
        assert!(misses.is_empty(), "{av} {}: {misses:#?}", obj["kind"]);
    }
    assert!(kinds.len() >= 50, "{} kinds", kinds.len());
    assert!(groups.len() >= 20, "{} groups: {groups:?}", groups.len());
}

/// kubectl's own typed output (`kubectl create ... --dry-run=client -o json`, Go's
/// encoding/json of the typed struct) stored and decoded: the same object, zero values and
/// all (`creationTimestamp: null`, `status: {}`, `resources: {}`).
#[test]
fn kubectl_typed_output_is_reproduced_exactly() {
    let mut n = 0;
    for entry in fs::read_dir(data_dir()).unwrap() {
        let path = entry.unwrap().path();
        let name = path.file_name().unwrap().to_string_lossy().into_owned();
        if !name.starts_with("kubectl-") || !name.ends_with(".json") {
            continue;
        }
        let want: Value = serde_json::from_str(&fs::read_to_string(&path).unwrap()).unwrap();
        let r = decode_typed(&to_storage(&want), true).unwrap();
        assert!(r.notes.is_empty(), "{name}: {:?}", r.notes);
        assert_eq!(r.value, want, "{name}: got\n{}", r.value);
        // And written as kubectl writes it (sorted keys, four spaces).
        let text = String::from_utf8(gojson::to_kubectl_json(&r.value)).unwrap();
        assert!(text.starts_with("{\n    \"a"), "{name}");
        n += 1;
    }
    assert!(n >= 10, "{n} kubectl goldens");
}

/// h5-k8s: objects encoded by Kubernetes' own generated protobuf classes (pip `k8s-proto`,
/// core/v1 and meta/v1 of Kubernetes 1.14). Every one decodes by name with nothing shown by
/// number, and what was written is there under its JSON name.
#[test]
fn h5_objects_by_name_nothing_numbered() {
    let expect: Value = serde_json::from_str(&crate::pb::data("h5-k8s.expect.json")).unwrap();
    let objects = expect["objects"].as_object().unwrap();
    let mut decoded = 0;
    for kv in crate::pb::listing("h5-k8s.get.head.json") {
        let key = String::from_utf8(kv.key.clone()).unwrap();
        let r = match decode_typed(&kv.value, true) {
            Ok(r) => r,
            Err(_) => continue, // encrypted, compact_rev_key
        };
        decoded += 1;
        assert!(r.notes.is_empty(), "{key}: {:?}", r.notes);
        // No numbered key anywhere.
        let mut stack = vec![&r.value];
        while let Some(v) = stack.pop() {
            match v {
                Value::Object(o) => {
                    if !key.contains("/secrets/") && !key.contains("/configmaps/") {
                        assert!(
                            o.keys().all(|k| k.parse::<u32>().is_err()),
                            "{key}: numbered key in {v}"
                        );
                    }
                    stack.extend(o.values());
                }
                Value::Array(a) => stack.extend(a),
                _ => {}
            }
        }
        let Some(want) = objects.get(&key) else {
            continue;
        };
        let m = &r.value["metadata"];
        assert_eq!(r.value["kind"], want["kind"], "{key}");
        assert_eq!(m["name"], want["name"], "{key}");
        assert_eq!(m["uid"], want["uid"], "{key}");
        assert_eq!(m["creationTimestamp"], want["created"], "{key}");
        if want["namespace"] != "" {
            assert_eq!(m["namespace"], want["namespace"], "{key}");
        }
        let labels = m
            .get("labels")
            .cloned()
            .unwrap_or(Value::Object(Map::new()));
        assert_eq!(labels, want["labels"], "{key}");
        let finalizers = m.get("finalizers").cloned().unwrap_or(Value::Array(vec![]));
        assert_eq!(finalizers, want["finalizers"], "{key}");
        let managed = m["managedFields"].as_array().map_or(0, Vec::len);
        assert_eq!(
            managed as u64,
            want["managed_fields"].as_u64().unwrap(),
            "{key}"
        );
        if let Some(owner) = want["owner"].as_str().filter(|o| !o.is_empty()) {
            assert_eq!(m["ownerReferences"][0]["name"], owner, "{key}");
        }
        let text = r.value.to_string();
        for s in want["strings"].as_array().unwrap() {
            let s = serde_json::to_string(s).unwrap();
            assert!(
                text.contains(&s[1..s.len() - 1]),
                "{key}: {s} not in {text}"
            );
        }
    }
    assert_eq!(decoded, 110);
}

/// Mutations of real storage values: every truncation and a byte flipped at every position of
/// each kinds.json object's envelope, plus the fuzz corpus of the `typed` target
/// (fuzz/corpus/typed): never a panic, and a decoded object always writes.
#[test]
fn mutated_values_never_panic() {
    let text = fs::read_to_string(data_dir().join("kinds.json")).unwrap();
    let objects: Vec<Value> = serde_json::from_str(&text).unwrap();
    let mut inputs: Vec<Vec<u8>> = objects.iter().map(to_storage).collect();
    let corpus = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../../fuzz/corpus/typed");
    let seeds: Vec<Vec<u8>> = fs::read_dir(&corpus)
        .unwrap()
        .map(|e| fs::read(e.unwrap().path()).unwrap())
        .collect();
    assert!(!seeds.is_empty());
    inputs.extend(seeds);
    let mut decoded = 0usize;
    for (n, v) in inputs.iter().enumerate() {
        let step = if n < 8 { 1 } else { 5 };
        for i in (0..v.len()).step_by(step) {
            for m in [v[..i].to_vec(), {
                let mut f = v.clone();
                f[i] ^= 0xa5;
                f
            }] {
                if let Ok(r) = decode_typed(&m, false) {
                    let _ = gojson::to_kubectl_json(&r.value);
                    decoded += 1;
                }
            }
        }
    }
    assert!(decoded > 1000, "{decoded}");
}

/// Apiservers before 1.25 wrote ObjectMeta's clusterName (field 15) into every object, empty:
/// the schema keeps removed fields from older releases, so such objects decode by name with no
/// note, and the empty string is omitted as Go's omitempty did.
#[test]
fn fields_removed_since_decode_by_name() {
    let meta = Msg::new().str(1, "cm").str(3, "ns").str(15, "");
    let raw = Msg::new().msg(1, meta).strs(2, &[("a", "b")]);
    let r = decode_typed(&envelope("v1", "ConfigMap", raw, ""), false).unwrap();
    assert!(r.notes.is_empty(), "{:?}", r.notes);
    assert_eq!(
        r.value,
        serde_json::json!({"apiVersion": "v1", "kind": "ConfigMap", "data": {"a": "b"},
            "metadata": {"name": "cm", "namespace": "ns", "creationTimestamp": null}})
    );
    // A field number no release has: shown by number, with a note naming it.
    let meta = Msg::new().str(1, "cm").str(99, "x");
    let r = decode_typed(
        &envelope("v1", "ConfigMap", Msg::new().msg(1, meta), ""),
        false,
    )
    .unwrap();
    assert_eq!(r.value["metadata"]["99"], "x");
    assert_eq!(r.notes.len(), 1);
    assert!(
        r.notes[0].contains("field 99 of m.meta.v1.ObjectMeta"),
        "{:?}",
        r.notes
    );
    // A kind the schema lacks: metadata by name, the rest by number, one note.
    let raw = Msg::new().msg(1, Msg::new().str(1, "w")).str(2, "spec?");
    let r = decode_typed(&envelope("example.com/v1", "Widget", raw, ""), false).unwrap();
    assert_eq!(r.value["metadata"]["name"], "w");
    assert_eq!(r.value["2"], "spec?");
    assert!(r.notes[0].starts_with("kind Widget (example.com/v1) is not in the schema"));
}
