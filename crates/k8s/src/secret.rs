//! Secrets: shown by key name and size unless the operator asks for the values.
//!
//! A snapshot holds every Secret of a cluster; a decoder that prints them by default turns a
//! routine `get --decode` into a credential leak in a terminal log. Secret `data` (core/v1
//! field 2, `map<string,bytes>`) and `stringData` (field 4, `map<string,string>`) are decoded
//! with their schema, since their values are arbitrary bytes that a schema-less guess could
//! mangle, and [`redact_secret`] replaces each value with `{"redacted": true, "size": N}`.
//! `kubectl apply` also copies the whole manifest into the last-applied annotation, so that is
//! redacted the same way.

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;
use serde_json::{Map, Value, json};

use crate::meta::LAST_APPLIED_ANNOTATION;
use crate::object::{Encoding, Object};
use crate::schemaless::{BYTES_KEY, bytes_value, printable_text};
use crate::wire::{Fields, WireError, WireValue, lossy};

/// core/v1 Secret `data` (map<string, bytes>).
pub const DATA_FIELD: u32 = 2;
/// core/v1 Secret `type` (string).
pub const TYPE_FIELD: u32 = 3;
/// core/v1 Secret `stringData` (map<string, string>; write-only, rarely stored).
pub const STRING_DATA_FIELD: u32 = 4;
/// core/v1 Secret `immutable` (bool).
pub const IMMUTABLE_FIELD: u32 = 5;

/// Whether `apiVersion`/`kind` name a core/v1 Secret.
pub fn is_secret(api_version: &str, kind: &str) -> bool {
    kind == "Secret" && api_version == "v1"
}

/// Adds one `data`/`stringData` map entry (key = 1, value = 2) to `body[field]`, a JSON object
/// keyed by data key. Values are text when printable, else `{"bytes_b64": ...}`.
pub(crate) fn insert_data_entry(
    body: &mut Map<String, Value>,
    field: u32,
    entry: &[u8],
) -> Result<(), WireError> {
    let (mut key, mut value): (String, &[u8]) = (String::new(), &[]);
    for f in Fields::new(entry) {
        let f = f?;
        match (f.number, f.value) {
            (1, WireValue::Bytes(b)) => key = lossy(b),
            (2, WireValue::Bytes(b)) => value = b,
            _ => {}
        }
    }
    let shown = match printable_text(value) {
        Some(s) => Value::String(s.to_owned()),
        None => bytes_value(value),
    };
    let slot = body
        .entry(field.to_string())
        .or_insert_with(|| Value::Object(Map::new()));
    if let Value::Object(map) = slot {
        map.insert(key, shown);
    }
    Ok(())
}

/// The marker a redacted value is replaced with.
fn redacted(size: usize) -> Value {
    json!({"redacted": true, "size": size})
}

fn is_redacted(v: &Value) -> bool {
    v.get("redacted") == Some(&Value::Bool(true))
}

/// How a data value's size is measured.
#[derive(Clone, Copy)]
enum Payload {
    /// Decoded from protobuf: text, or `{"bytes_b64": ...}`.
    Protobuf,
    /// JSON `data`: base64 text.
    Base64,
    /// JSON `stringData`: plain text.
    Text,
}

fn size_of(v: &Value, how: Payload) -> usize {
    match (v, how) {
        (Value::String(s), Payload::Base64) => STANDARD.decode(s).map_or(s.len(), |b| b.len()),
        (Value::String(s), _) => s.len(),
        (Value::Object(o), Payload::Protobuf) => match o.get(BYTES_KEY) {
            Some(Value::String(b64)) => STANDARD.decode(b64).map_or(0, |b| b.len()),
            _ => v.to_string().len(),
        },
        (Value::Null, _) => 0,
        _ => v.to_string().len(),
    }
}

fn redact_map(map: Option<&mut Value>, how: Payload) {
    if let Some(Value::Object(entries)) = map {
        for v in entries.values_mut() {
            if !is_redacted(v) {
                *v = redacted(size_of(v, how));
            }
        }
    }
}

/// Redacts a JSON manifest's `data` (base64) and `stringData` values.
fn redact_manifest(doc: &mut Value) {
    redact_map(doc.get_mut("data"), Payload::Base64);
    redact_map(doc.get_mut("stringData"), Payload::Text);
}

/// Replaces every `data`/`stringData` value of a decoded Secret with its size, and redacts the
/// same in the last-applied-configuration annotation (an annotation that is not JSON is
/// replaced whole). Idempotent; objects other than Secrets are left alone.
pub fn redact_secret(object: &mut Object) {
    if !object.is_secret() {
        return;
    }
    match object.encoding {
        Encoding::Protobuf => {
            for field in [DATA_FIELD, STRING_DATA_FIELD] {
                redact_map(object.body.get_mut(&field.to_string()), Payload::Protobuf);
            }
        }
        Encoding::Json => {
            redact_map(object.body.get_mut("data"), Payload::Base64);
            redact_map(object.body.get_mut("stringData"), Payload::Text);
        }
    }
    let meta = &mut object.metadata;
    if let Some(applied) = meta.annotations.get_mut(LAST_APPLIED_ANNOTATION) {
        match meta.last_applied.as_mut() {
            Some(doc) => {
                redact_manifest(doc);
                *applied = doc.to_string();
            }
            None if applied.starts_with("(redacted") => {}
            None => *applied = format!("(redacted: {} bytes)", applied.len()),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::object::DecodeOptions;

    #[test]
    fn json_secret_is_redacted() {
        let applied = r#"{"apiVersion":"v1","kind":"Secret","data":{"k":"c2VjcmV0"}}"#;
        let doc = json!({
            "apiVersion": "v1", "kind": "Secret",
            "metadata": {"name": "s", "annotations": {LAST_APPLIED_ANNOTATION: applied}},
            "data": {"k": "c2VjcmV0", "bin": "//8="}, "stringData": {"p": "pass"}, "type": "Opaque"
        });
        let bytes = doc.to_string().into_bytes();
        let mut obj = crate::decode(&bytes, &DecodeOptions::default()).unwrap();
        assert_eq!(
            obj.body["data"],
            json!({"k": redacted(6), "bin": redacted(2)})
        );
        assert_eq!(obj.body["stringData"], json!({"p": redacted(4)}));
        assert_eq!(obj.body["type"], json!("Opaque"));
        let ann = &obj.metadata.annotations[LAST_APPLIED_ANNOTATION];
        assert!(!ann.contains("c2VjcmV0"), "{ann}");
        assert_eq!(
            obj.metadata.last_applied.as_ref().unwrap()["data"]["k"],
            redacted(6)
        );
        let before = obj.clone();
        redact_secret(&mut obj);
        assert_eq!(obj, before, "idempotent");

        let shown = crate::decode(&bytes, &DecodeOptions { show_secrets: true }).unwrap();
        assert_eq!(shown.body["data"]["k"], json!("c2VjcmV0"));
        assert_eq!(shown.metadata.annotations[LAST_APPLIED_ANNOTATION], applied);
    }

    #[test]
    fn unparsable_applied_annotation_is_replaced() {
        let doc = json!({"apiVersion": "v1", "kind": "Secret",
            "metadata": {"annotations": {LAST_APPLIED_ANNOTATION: "{password: hunter2"}}});
        let obj = crate::decode(doc.to_string().as_bytes(), &DecodeOptions::default()).unwrap();
        assert_eq!(
            obj.metadata.annotations[LAST_APPLIED_ANNOTATION],
            "(redacted: 18 bytes)"
        );
    }
}
