//! A stored value decoded into a Kubernetes object: envelope, metadata, body.
//!
//! This is what `get --decode` shows. Protobuf objects are unwrapped from their envelope
//! (`k8s\0` + `runtime.Unknown`), field 1 of the object is decoded as [`ObjectMeta`] and the
//! remaining fields are shown schema-less (see [`crate::schemaless`]); JSON objects (custom
//! resources) are split the same way, so both produce one document shape:
//! `{"apiVersion", "kind", "metadata", "body"}`. Secrets are redacted unless asked otherwise.

use serde::Serialize;
use serde_json::{Map, Value};

use crate::classify::{PROTOBUF_MAGIC, classify, read_type_meta};
use crate::error::DecodeError;
use crate::meta::ObjectMeta;
use crate::schemaless::{insert_field, render};
use crate::secret;
use crate::wire::{Fields, WireValue, lossy};

/// How the object was stored.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Encoding {
    /// `k8s\0` + `runtime.Unknown` (built-in types).
    Protobuf,
    /// A JSON document (custom resources, some aggregated APIs).
    Json,
}

/// Options for [`decode`].
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct DecodeOptions {
    /// Show Secret `data`/`stringData` values (and the applied manifest of a Secret) instead of
    /// their key names and sizes.
    pub show_secrets: bool,
}

/// A decoded object. Serializes as `{"apiVersion", "kind", "encoding", "metadata", "body"}`
/// plus the envelope's `contentType`/`contentEncoding` when they are set.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Object {
    /// `apiVersion`.
    #[serde(rename = "apiVersion")]
    pub api_version: String,
    /// `kind`.
    pub kind: String,
    /// How it was stored.
    pub encoding: Encoding,
    /// `metadata`, decoded with its schema.
    pub metadata: ObjectMeta,
    /// Everything else. Protobuf: fields 2.. of the object keyed by field number, schema-less
    /// (a Secret's `data` = 2 and `stringData` = 4 are maps keyed by data key). JSON: the
    /// top-level members other than `apiVersion`, `kind` and `metadata`.
    pub body: Map<String, Value>,
    /// `runtime.Unknown.contentType` (empty as the API server writes it).
    #[serde(rename = "contentType", skip_serializing_if = "String::is_empty")]
    pub content_type: String,
    /// `runtime.Unknown.contentEncoding` (empty as the API server writes it).
    #[serde(rename = "contentEncoding", skip_serializing_if = "String::is_empty")]
    pub content_encoding: String,
}

impl Object {
    /// The document as JSON.
    pub fn to_document(&self) -> Value {
        // Serializing plain maps, strings and numbers cannot fail.
        serde_json::to_value(self).unwrap_or(Value::Null)
    }

    /// Whether this is a core/v1 Secret.
    pub fn is_secret(&self) -> bool {
        secret::is_secret(&self.api_version, &self.kind)
    }
}

/// Decodes a stored value into an [`Object`].
///
/// Encrypted, empty, text and binary values are reported as errors saying which they are;
/// use [`classify`] first to avoid them.
pub fn decode(value: &[u8], options: &DecodeOptions) -> Result<Object, DecodeError> {
    let mut object = if let Some(unknown) = value.strip_prefix(PROTOBUF_MAGIC) {
        decode_envelope(unknown)?
    } else if value.iter().find(|c| !c.is_ascii_whitespace()) == Some(&b'{') {
        decode_json(value)?
    } else {
        return Err(match classify(value) {
            crate::ValueKind::Encrypted(e) => DecodeError::Encrypted(e.label()),
            other => DecodeError::NotAnObject(other.class()),
        });
    };
    if object.is_secret() && !options.show_secrets {
        secret::redact_secret(&mut object);
    }
    Ok(object)
}

/// `runtime.Unknown`: typeMeta = 1, raw = 2, contentEncoding = 3, contentType = 4.
fn decode_envelope(unknown: &[u8]) -> Result<Object, DecodeError> {
    let mut object = Object {
        api_version: String::new(),
        kind: String::new(),
        encoding: Encoding::Protobuf,
        metadata: ObjectMeta::default(),
        body: Map::new(),
        content_type: String::new(),
        content_encoding: String::new(),
    };
    let mut raw: &[u8] = &[];
    for field in Fields::new(unknown) {
        let field = field.map_err(DecodeError::Envelope)?;
        match (field.number, field.value) {
            (1, WireValue::Bytes(b)) => {
                let tm = read_type_meta(b).map_err(DecodeError::Envelope)?;
                object.api_version = tm.api_version.into_owned();
                object.kind = tm.kind.into_owned();
            }
            (2, WireValue::Bytes(b)) => raw = b,
            (3, WireValue::Bytes(b)) => object.content_encoding = lossy(b),
            (4, WireValue::Bytes(b)) => object.content_type = lossy(b),
            _ => {}
        }
    }
    let secret = object.is_secret();
    let mut have_meta = false;
    for field in Fields::new(raw) {
        let field = field.map_err(DecodeError::Object)?;
        match (field.number, field.value) {
            (1, WireValue::Bytes(b)) if !have_meta => {
                object.metadata = ObjectMeta::decode(b)?;
                have_meta = true;
            }
            (n @ (secret::DATA_FIELD | secret::STRING_DATA_FIELD), WireValue::Bytes(b))
                if secret =>
            {
                secret::insert_data_entry(&mut object.body, n, b).map_err(DecodeError::Object)?;
            }
            (n, value) => insert_field(&mut object.body, n, render(value, 1)),
        }
    }
    Ok(object)
}

fn decode_json(value: &[u8]) -> Result<Object, DecodeError> {
    let doc: Value = serde_json::from_slice(value)?;
    let Value::Object(mut body) = doc else {
        return Err(DecodeError::NotAnObject("json"));
    };
    // apiVersion/kind that are not strings stay in the body, where they can be seen.
    let mut take_str = |key: &str| match body.remove(key) {
        Some(Value::String(s)) => s,
        Some(other) => {
            body.insert(key.to_owned(), other);
            String::new()
        }
        None => String::new(),
    };
    let api_version = take_str("apiVersion");
    let kind = take_str("kind");
    let metadata = match body.get("metadata") {
        Some(Value::Object(m)) => {
            let meta = ObjectMeta::from_json(m);
            body.remove("metadata");
            meta
        }
        _ => ObjectMeta::default(),
    };
    Ok(Object {
        api_version,
        kind,
        encoding: Encoding::Json,
        metadata,
        body,
        content_type: String::new(),
        content_encoding: String::new(),
    })
}
