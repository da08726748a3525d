//! Values made readable for `get --decode` and the `decoded` column of `export --decode`: a Kubernetes object as a document, or a marker
//! that says plainly what the bytes are when they are not an object.
//!
//! `etcdsnap get` without `--decode` is etcdctl byte for byte; with it, every value goes
//! through [`decode_value`], which never fails: whatever the bytes, the result is a document
//! (protobuf envelope or JSON object), text, or a marker (encrypted at rest, empty, opaque
//! bytes with an excerpt, an object that did not decode and why). Secrets are decided here
//! once, by key (`/registry/secrets/`, or any key with a `secrets` segment when the API server
//! used another `--etcd-prefix`) and by kind (a v1 Secret anywhere): unless the user asked for
//! them, their payloads never reach the output, whatever form the value has. The k8s crate
//! already redacts a decoded Secret's `data`/`stringData`; this module also hides text and
//! opaque values under a secrets key, the excerpt of an undecodable Secret, and the body of an
//! object of another kind stored under a secrets key.

use std::io::{self, Write};

use crate::classify::PROTOBUF_MAGIC;
use crate::render::{View, render_object};
use crate::sink::{Compact, GoJson, Sink, append_serde_string, emit_value};
use crate::wire::{Fields, WireValue};
use crate::yaml::Yaml;
use crate::{KeyInfo, ValueKind, classify, decode_typed, gojson, parse_key};
use serde_json::{Map, Value, json};

/// Bytes of an opaque value shown in the hexdump excerpt.
pub const EXCERPT: usize = 64;

/// A value, made readable.
#[derive(Debug, Clone, PartialEq)]
pub enum Decoded {
    /// A Kubernetes object (protobuf envelope or JSON document), as `kubectl get -o json`
    /// shows it (see [`etcdsnap_k8s::typed`]).
    Object {
        /// `protobuf` or `json`.
        class: &'static str,
        /// The object (Secrets redacted).
        object: Box<Value>,
        /// What the schema did not cover and was shown by field number instead.
        notes: Vec<String>,
    },
    /// Encrypted at rest: who encrypted it, and nothing of the ciphertext.
    Encrypted {
        /// `aescbc`, `aesgcm`, `secretbox`, `kms`, ...
        provider: String,
        /// `v1`, `v2` (KMS v2).
        version: String,
        /// The key name (KMS v2: the provider name).
        key_name: String,
        /// KMS v2: the key ID inside the `EncryptedObject`, when it can be read.
        kms_key_id: Option<String>,
        /// Bytes of the whole value.
        size: usize,
    },
    /// Printable UTF-8 text that is not an object (e.g. `compact_rev_key`'s revision).
    Text(String),
    /// Zero bytes.
    Empty,
    /// Bytes that are none of the above; or an object that did not decode (`error` says why).
    Opaque {
        /// `binary`, or `protobuf`/`json` when the value looked like one but did not decode.
        class: &'static str,
        /// Why an object did not decode.
        error: Option<String>,
        /// Bytes of the whole value.
        size: usize,
        /// The first [`EXCERPT`] bytes.
        excerpt: Vec<u8>,
    },
    /// A secret payload that is not shown (text or opaque bytes under a secrets key, or an
    /// undecodable Secret).
    Hidden {
        /// What the value is: `text`, `binary`, `protobuf`, `json`.
        class: &'static str,
        /// Bytes of the whole value.
        size: usize,
    },
}

/// Whether `key` holds a Secret: `/registry/secrets/...`, or, for keys outside `/registry`
/// (API servers with another `--etcd-prefix`), any key with a `secrets` path segment followed
/// by more. Errs on the side of hiding.
pub fn is_secret_key(key: &[u8]) -> bool {
    match parse_key(key) {
        // Under /registry the layout says it (a namespace named `secrets` is not a Secret).
        KeyInfo::Object(o) => o.resource_id == "secrets",
        _ => key.windows(b"/secrets/".len()).any(|w| w == b"/secrets/"),
    }
}

/// Makes `value` (stored under `key`) readable. Never fails.
pub fn decode_value(key: &[u8], value: &[u8], show_secrets: bool) -> Decoded {
    let kind = classify(value);
    let secret = !show_secrets
        && (is_secret_key(key)
            || kind
                .type_meta()
                .is_some_and(|tm| tm.kind == "Secret" && tm.api_version == "v1"));
    match kind {
        ValueKind::Empty => Decoded::Empty,
        ValueKind::Encrypted(e) => Decoded::Encrypted {
            provider: e.provider.to_owned(),
            version: e.version.to_owned(),
            key_name: e.key_name.to_owned(),
            kms_key_id: e.kms_v2_key_id().map(str::to_owned),
            size: value.len(),
        },
        ValueKind::Protobuf { .. } | ValueKind::Json { .. } => {
            match decode_typed(value, show_secrets) {
                Ok(mut rendered) => {
                    if secret && !is_v1_secret(&rendered.value) {
                        hide_body(&mut rendered.value);
                    }
                    Decoded::Object {
                        class: kind.class(),
                        object: Box::new(rendered.value),
                        notes: rendered.notes,
                    }
                }
                Err(_) if secret => Decoded::Hidden {
                    class: kind.class(),
                    size: value.len(),
                },
                Err(e) => Decoded::Opaque {
                    class: kind.class(),
                    error: Some(e.to_string()),
                    size: value.len(),
                    excerpt: excerpt(value),
                },
            }
        }
        ValueKind::Text | ValueKind::Binary if secret => Decoded::Hidden {
            class: kind.class(),
            size: value.len(),
        },
        ValueKind::Text => Decoded::Text(String::from_utf8_lossy(value).into_owned()),
        ValueKind::Binary => Decoded::Opaque {
            class: "binary",
            error: None,
            size: value.len(),
            excerpt: excerpt(value),
        },
    }
}

fn excerpt(value: &[u8]) -> Vec<u8> {
    value.get(..EXCERPT).unwrap_or(value).to_vec()
}

fn is_v1_secret(v: &Value) -> bool {
    v.get("kind").and_then(Value::as_str) == Some("Secret")
        && v.get("apiVersion").and_then(Value::as_str) == Some("v1")
}

/// An object of another kind under a secrets key: everything but its type and metadata could
/// hold the payload, and so could its annotations, so only their sizes remain.
fn hide_body(object: &mut Value) {
    let Value::Object(map) = object else { return };
    let keep = ["apiVersion", "kind", "metadata"];
    let hidden: Map<String, Value> = map
        .iter()
        .filter(|(k, _)| !keep.contains(&k.as_str()))
        .map(|(k, v)| (k.clone(), v.clone()))
        .collect();
    map.retain(|k, _| keep.contains(&k.as_str()));
    map.insert("redacted".into(), Value::Bool(true));
    map.insert(
        "size".into(),
        Value::Object(hidden).to_string().len().into(),
    );
    if let Some(Value::Object(a)) = map
        .get_mut("metadata")
        .and_then(|m| m.get_mut("annotations"))
    {
        for v in a.values_mut() {
            let len = v.as_str().map_or(0, str::len);
            *v = Value::String(format!("(redacted: {len} bytes)"));
        }
    }
}

impl Decoded {
    /// What the schema did not cover in this value (shown by field number instead).
    pub fn notes(&self) -> &[String] {
        match self {
            Decoded::Object { notes, .. } => notes,
            _ => &[],
        }
    }

    /// The class of the value: `protobuf`, `json`, `encrypted`, `text`, `empty`, `binary`.
    pub fn class(&self) -> &'static str {
        match self {
            Decoded::Object { class, .. }
            | Decoded::Opaque { class, .. }
            | Decoded::Hidden { class, .. } => class,
            Decoded::Encrypted { .. } => "encrypted",
            Decoded::Text(_) => "text",
            Decoded::Empty => "empty",
        }
    }

    /// The one-line marker shown instead of a value that is not a document or text.
    pub fn marker(&self) -> Option<String> {
        Some(match self {
            Decoded::Object { .. } | Decoded::Text(_) => return None,
            Decoded::Empty => "(empty value)".to_string(),
            Decoded::Encrypted {
                provider,
                version,
                key_name,
                kms_key_id,
                size,
            } => match (version.as_str(), kms_key_id) {
                ("v1", _) => {
                    format!("(encrypted at rest: {provider}, key {key_name}, {size} bytes)")
                }
                (_, Some(id)) => format!(
                    "(encrypted at rest: {provider} {version}, provider {key_name}, key id {id}, {size} bytes)"
                ),
                (_, None) => format!(
                    "(encrypted at rest: {provider} {version}, provider {key_name}, {size} bytes)"
                ),
            },
            Decoded::Opaque {
                class,
                error: None,
                size,
                ..
            } => format!("(opaque {class} value, {size} bytes)"),
            Decoded::Opaque {
                class,
                error: Some(e),
                size,
                ..
            } => format!("(undecodable {class} value, {size} bytes: {e})"),
            Decoded::Hidden { class, size } => {
                format!("(secret {class} value hidden, {size} bytes; --show-secrets shows it)")
            }
        })
    }

    /// The readable form for the simple output: the document as indented JSON, the text as
    /// is, or the marker (with a hexdump excerpt for opaque bytes). Ends with a newline.
    pub fn write_text(&self, out: &mut dyn Write) -> io::Result<()> {
        match self {
            Decoded::Object { object, .. } => out.write_all(&gojson::to_kubectl_json(object)),
            Decoded::Text(t) => {
                out.write_all(t.as_bytes())?;
                out.write_all(b"\n")
            }
            Decoded::Opaque { excerpt, size, .. } => {
                writeln!(out, "{}", self.marker().unwrap_or_default())?;
                hexdump(excerpt, out)?;
                if *size > excerpt.len() {
                    writeln!(out, "  ... ({} more bytes)", size - excerpt.len())?;
                }
                Ok(())
            }
            _ => writeln!(out, "{}", self.marker().unwrap_or_default()),
        }
    }

    /// The fields added to a kv of `-w json --decode` (see docs/kubernetes.md): `class`
    /// always, then `object`, `encryption`, `text`, `marker` as they apply; `value` (base64,
    /// etcdctl's field) only for opaque values that are not secrets.
    pub fn json_fields(&self, raw: &[u8], fields: &mut Map<String, Value>) {
        fields.insert("class".into(), Value::String(self.class().into()));
        match self {
            Decoded::Object { object, .. } => {
                fields.insert("object".into(), (**object).clone());
            }
            Decoded::Encrypted {
                provider,
                version,
                key_name,
                kms_key_id,
                ..
            } => {
                let mut e = json!({"provider": provider, "version": version, "key_name": key_name});
                if let (Some(id), Some(m)) = (kms_key_id, e.as_object_mut()) {
                    m.insert("kms_key_id".into(), Value::String(id.clone()));
                }
                fields.insert("encryption".into(), e);
            }
            Decoded::Text(t) => {
                fields.insert("text".into(), Value::String(t.clone()));
            }
            Decoded::Empty => {}
            Decoded::Opaque { error, .. } => {
                if let Some(e) = error {
                    fields.insert("error".into(), Value::String(e.clone()));
                }
                fields.insert("value".into(), Value::String(b64(raw)));
            }
            Decoded::Hidden { .. } => {
                fields.insert("hidden".into(), Value::Bool(true));
            }
        }
        if let Some(m) = self.marker() {
            fields.insert("marker".into(), Value::String(m));
        }
    }
}

/// How [`render_value`] writes an object.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Form {
    /// kubectl's JSON (`json.MarshalIndent`, four spaces) starting at `indent` levels, no
    /// trailing newline.
    Json {
        /// Levels of indent the object starts at (2 inside a `v1 List`).
        indent: usize,
    },
    /// serde_json's compact JSON (`get --decode -w json`, `-o jsonl`).
    Compact,
    /// kubectl's YAML document (ends with a newline).
    Yaml,
}

/// What [`render_value`] did with a value.
#[derive(Debug)]
pub enum Shown {
    /// An object, now written into the buffer.
    Object {
        /// `protobuf` or `json`.
        class: &'static str,
        /// What the schema did not cover and was shown by field number instead.
        notes: Vec<String>,
    },
    /// Not an object (marker, text, hidden Secret payload...): nothing written; the caller
    /// shows it.
    Other(Decoded),
}

/// The envelope's apiVersion, kind and raw object, when it reads cleanly.
fn envelope(value: &[u8]) -> Option<(crate::TypeMeta<'_>, &[u8])> {
    let unknown = value.strip_prefix(PROTOBUF_MAGIC)?;
    let (mut tm, mut raw) = (None, &[][..]);
    for field in Fields::new(unknown) {
        match field.ok()? {
            f if f.number == 1 => {
                if let WireValue::Bytes(b) = f.value {
                    tm = Some(crate::classify::read_type_meta(b).ok()?);
                }
            }
            f if f.number == 2 => {
                if let WireValue::Bytes(b) = f.value {
                    raw = b;
                }
            }
            _ => {}
        }
    }
    Some((tm.unwrap_or_default(), raw))
}

fn fast<S: Sink>(
    s: &mut S,
    tm: &crate::TypeMeta<'_>,
    raw: &[u8],
    view: &View,
) -> Option<Vec<String>> {
    render_object(s, &tm.api_version, &tm.kind, raw, view).ok()
}

/// [`decode_value`] with `view` applied, an object written straight into `buf` in `form`.
///
/// A protobuf object is rendered from the wire without a tree ([`crate::render`]); Secrets
/// that are hidden, JSON-stored objects and what the fast path declines go through
/// [`decode_value`] and are written from its tree: the bytes are the same either way.
pub fn render_value(
    key: &[u8],
    value: &[u8],
    show_secrets: bool,
    view: &View,
    form: Form,
    buf: &mut Vec<u8>,
) -> Shown {
    // A protobuf envelope that reads cleanly is what classify() calls `protobuf`.
    if let Some((tm, raw)) = envelope(value) {
        let secret =
            !show_secrets && (is_secret_key(key) || tm.kind == "Secret" && tm.api_version == "v1");
        if !secret {
            let start = buf.len();
            let done = match form {
                Form::Json { indent } => fast(&mut GoJson::new(buf, indent), &tm, raw, view),
                Form::Compact => fast(&mut Compact::new(buf), &tm, raw, view),
                Form::Yaml => fast(&mut Yaml::new(buf), &tm, raw, view),
            };
            match done {
                Some(notes) => {
                    return Shown::Object {
                        class: "protobuf",
                        notes,
                    };
                }
                None => buf.truncate(start),
            }
        }
    }
    match decode_value(key, value, show_secrets) {
        Decoded::Object {
            class,
            object,
            notes,
        } => {
            let mut object = *object;
            view.apply(&mut object);
            match form {
                Form::Json { indent } => emit_value(&mut GoJson::new(buf, indent), &object),
                Form::Compact => emit_value(&mut Compact::new(buf), &object),
                Form::Yaml => emit_value(&mut Yaml::new(buf), &object),
            }
            Shown::Object { class, notes }
        }
        other => Shown::Other(other),
    }
}

/// The decoded fields of `-w json --decode` ([`Decoded::json_fields`]) added to `fields` (a
/// kv's etcd members) and written as one compact JSON object, keys sorted as serde_json
/// writes a map, the object rendered in place. Returns the schema's notes.
pub fn write_json_fields(
    key: &[u8],
    value: &[u8],
    show_secrets: bool,
    view: &View,
    mut fields: Map<String, Value>,
    out: &mut Vec<u8>,
) -> Vec<String> {
    let mut object = Vec::new();
    match render_value(key, value, show_secrets, view, Form::Compact, &mut object) {
        Shown::Object { class, notes } => {
            fields.insert("class".into(), Value::String(class.into()));
            out.push(b'{');
            let mut done = false;
            let mut first = true;
            let put_object = |out: &mut Vec<u8>, first: &mut bool| {
                if !*first {
                    out.push(b',');
                }
                *first = false;
                out.extend_from_slice(b"\"object\":");
                out.extend_from_slice(&object);
            };
            for (k, v) in &fields {
                if !done && k.as_str() > "object" {
                    put_object(out, &mut first);
                    done = true;
                }
                if !first {
                    out.push(b',');
                }
                first = false;
                append_serde_string(out, k);
                out.push(b':');
                emit_value(&mut Compact::new(out), v);
            }
            if !done {
                put_object(out, &mut first);
            }
            out.push(b'}');
            notes
        }
        Shown::Other(d) => {
            d.json_fields(value, &mut fields);
            emit_value(&mut Compact::new(out), &Value::Object(fields));
            Vec::new()
        }
    }
}

/// The schema's notes over a whole listing: each distinct note once, with the first key it
/// was seen at and how many values had it, so a thousand Pods with one unknown field make one
/// line on stderr.
#[derive(Debug, Default)]
pub struct Notes {
    seen: Vec<(String, String, usize)>,
}

impl Notes {
    /// Records the notes of one value.
    pub fn add(&mut self, key: &[u8], notes: &[String]) {
        for n in notes {
            match self.seen.iter_mut().find(|(s, _, _)| s == n) {
                Some((_, _, count)) => *count += 1,
                None => self
                    .seen
                    .push((n.clone(), String::from_utf8_lossy(key).into_owned(), 1)),
            }
        }
    }

    /// Writes one `etcdsnap: note:` line per distinct note.
    pub fn write(&self, err: &mut dyn Write) -> io::Result<()> {
        for (note, key, count) in &self.seen {
            let more = if *count > 1 {
                format!(" and {} more", count - 1)
            } else {
                String::new()
            };
            writeln!(err, "etcdsnap: note: {note} (at {key}{more})")?;
        }
        Ok(())
    }
}

/// Standard base64 with padding, as Go's encoding/json prints `[]byte`.
fn b64(b: &[u8]) -> String {
    use base64::Engine as _;
    base64::engine::general_purpose::STANDARD.encode(b)
}

/// `xxd`-style lines: offset, 16 bytes in hex, the printable ASCII.
fn hexdump(bytes: &[u8], out: &mut dyn Write) -> io::Result<()> {
    for (i, chunk) in bytes.chunks(16).enumerate() {
        let hex: Vec<String> = chunk.iter().map(|b| format!("{b:02x}")).collect();
        let ascii: String = chunk
            .iter()
            .map(|&b| {
                if b.is_ascii_graphic() || b == b' ' {
                    b as char
                } else {
                    '.'
                }
            })
            .collect();
        writeln!(out, "  {:08x}  {:<47}  |{ascii}|", i * 16, hex.join(" "))?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn text(d: &Decoded) -> String {
        let mut v = Vec::new();
        d.write_text(&mut v).unwrap();
        String::from_utf8(v).unwrap()
    }

    #[test]
    fn markers() {
        let e = decode_value(
            b"/registry/secrets/a/b",
            b"k8s:enc:aescbc:v1:key1:\x01\x02",
            false,
        );
        assert_eq!(
            text(&e),
            "(encrypted at rest: aescbc, key key1, 25 bytes)\n"
        );
        assert_eq!(text(&decode_value(b"k", b"", false)), "(empty value)\n");
        assert_eq!(
            text(&decode_value(b"compact_rev_key", b"149", false)),
            "149\n"
        );
        let o = text(&decode_value(b"/x", &[0, 1, 2, 0xff], false));
        assert!(
            o.starts_with("(opaque binary value, 4 bytes)\n  00000000  00 01 02 ff"),
            "{o}"
        );
        let h = decode_value(b"/registry/secrets/ns/s", b"password=hunter2", false);
        assert_eq!(
            text(&h),
            "(secret text value hidden, 16 bytes; --show-secrets shows it)\n"
        );
        assert_eq!(
            text(&decode_value(
                b"/registry/secrets/ns/s",
                b"password=hunter2",
                true
            )),
            "password=hunter2\n"
        );
        let bad = decode_value(b"/registry/pods/a/b", b"{\"kind\": 1, \"a\": [}", false);
        assert_eq!(bad.class(), "text");
    }

    #[test]
    fn secret_keys() {
        assert!(is_secret_key(b"/registry/secrets/ns/s"));
        assert!(is_secret_key(b"/custom-prefix/secrets/ns/s"));
        assert!(!is_secret_key(b"/registry/configmaps/secrets/cm"));
        assert!(!is_secret_key(b"/registry/secretstore/ns/x"));
        assert!(!is_secret_key(b"compact_rev_key"));
    }

    #[test]
    fn json_secret_under_secret_key_of_other_kind_is_hidden() {
        let v = br#"{"apiVersion":"example.com/v1","kind":"Vault","spec":{"token":"hunter2"}}"#;
        let d = decode_value(b"/registry/secrets/ns/v", v, false);
        let mut m = Map::new();
        d.json_fields(v, &mut m);
        let s = Value::Object(m).to_string();
        assert!(!s.contains("hunter2"), "{s}");
        let d = decode_value(b"/registry/secrets/ns/v", v, true);
        assert!(text(&d).contains("hunter2"));
    }
}
