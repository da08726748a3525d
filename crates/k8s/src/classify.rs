//! What a stored value is, decided cheaply.
//!
//! `stats` and `audit` look at every value in a snapshot, so this must not decode objects: a
//! protobuf envelope is recognised by its magic and its `runtime.Unknown` fields are walked
//! without touching the object bytes (only `typeMeta` is read, which is all Kind grouping
//! needs); a JSON value is validated by serde without building a tree; an encrypted value is
//! recognised by its `k8s:enc:` prefix and never looked into.

use std::borrow::Cow;

use serde::{Deserialize, Serialize};

use crate::schemaless::printable_text;
use crate::wire::{Field, Fields, WireError, WireValue};

/// The 4 bytes before every protobuf-encoded Kubernetes object.
pub const PROTOBUF_MAGIC: &[u8] = b"k8s\0";

/// The prefix of every value written by an encryption-at-rest provider other than `identity`.
pub const ENCRYPTED_PREFIX: &[u8] = b"k8s:enc:";

/// Encryption-at-rest providers Kubernetes ships.
pub const KNOWN_PROVIDERS: &[&str] = &["aescbc", "aesgcm", "secretbox", "kms"];

/// An object's `apiVersion` and `kind`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Default)]
pub struct TypeMeta<'a> {
    /// `apiVersion`, e.g. `v1` or `apps/v1`.
    #[serde(rename = "apiVersion")]
    pub api_version: Cow<'a, str>,
    /// `kind`, e.g. `Pod`.
    pub kind: Cow<'a, str>,
}

impl TypeMeta<'_> {
    /// Copies the borrowed strings, detaching from the value.
    pub fn into_owned(self) -> TypeMeta<'static> {
        TypeMeta {
            api_version: Cow::Owned(self.api_version.into_owned()),
            kind: Cow::Owned(self.kind.into_owned()),
        }
    }
}

/// How an encrypted-at-rest value was written: `k8s:enc:<provider>:<version>:<name>:`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Encryption<'a> {
    /// `aescbc`, `aesgcm`, `secretbox`, `kms`, or whatever else the prefix names.
    pub provider: &'a str,
    /// `v1`, or `v2` for KMS v2.
    pub version: &'a str,
    /// The key name (aescbc, aesgcm, secretbox, KMS v1) or the KMS v2 provider name.
    pub key_name: &'a str,
    /// Bytes after the prefix.
    pub ciphertext_len: usize,
    /// The bytes after the prefix.
    #[serde(skip)]
    pub ciphertext: &'a [u8],
}

impl<'a> Encryption<'a> {
    /// The KMS key ID a KMS v2 value names: KMS v2 stores a protobuf `EncryptedObject`
    /// (encryptedData = 1, keyID = 2, …) after the prefix, and the key ID tells which key
    /// encryption key was current when the object was written. `None` for other providers, or
    /// when the bytes are not such a message (field 1 bytes and field 2 printable text).
    pub fn kms_v2_key_id(&self) -> Option<&'a str> {
        if (self.provider, self.version) != ("kms", "v2") {
            return None;
        }
        let (mut data, mut key_id) = (false, None);
        for field in Fields::new(self.ciphertext) {
            match field.ok()? {
                Field {
                    number: 1,
                    value: WireValue::Bytes(_),
                    ..
                } => data = true,
                Field {
                    number: 2,
                    value: WireValue::Bytes(id),
                    ..
                } => key_id = Some(printable_text(id).filter(|t| !t.is_empty())?),
                _ => {}
            }
        }
        key_id.filter(|_| data)
    }

    /// Whether the provider is one Kubernetes ships (see [`KNOWN_PROVIDERS`]).
    pub fn known_provider(&self) -> bool {
        KNOWN_PROVIDERS.contains(&self.provider)
    }

    /// `provider:version:key_name`, e.g. `aescbc:v1:key1`.
    pub fn label(&self) -> String {
        format!("{}:{}:{}", self.provider, self.version, self.key_name)
    }
}

/// What a stored value is.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum ValueKind<'a> {
    /// Zero bytes.
    Empty,
    /// A protobuf envelope: `k8s\0` then a well-formed `runtime.Unknown`.
    Protobuf {
        /// The envelope's `typeMeta`.
        #[serde(flatten)]
        type_meta: TypeMeta<'a>,
        /// Length of the encoded object (`raw`).
        raw_len: usize,
    },
    /// A JSON object (custom resources and a few built-ins are stored so).
    Json {
        /// `apiVersion` and `kind` when the document has them (empty strings otherwise).
        #[serde(flatten)]
        type_meta: TypeMeta<'a>,
    },
    /// Encrypted at rest; the plaintext is out of reach without the key.
    Encrypted(Encryption<'a>),
    /// Printable UTF-8 text that is none of the above (e.g. `compact_rev_key`'s revision).
    Text,
    /// Anything else, including a `k8s\0` value whose envelope does not parse.
    Binary,
}

impl ValueKind<'_> {
    /// A short name for the class: `empty`, `protobuf`, `json`, `encrypted`, `text`, `binary`.
    pub fn class(&self) -> &'static str {
        match self {
            Self::Empty => "empty",
            Self::Protobuf { .. } => "protobuf",
            Self::Json { .. } => "json",
            Self::Encrypted(_) => "encrypted",
            Self::Text => "text",
            Self::Binary => "binary",
        }
    }

    /// The object's `typeMeta`, for protobuf and JSON values.
    pub fn type_meta(&self) -> Option<&TypeMeta<'_>> {
        match self {
            Self::Protobuf { type_meta, .. } | Self::Json { type_meta } => Some(type_meta),
            _ => None,
        }
    }

    /// A label for grouping by kind: the object's kind when known, else `(class)`, e.g.
    /// `(encrypted)`.
    pub fn kind_label(&self) -> &str {
        match self.type_meta() {
            Some(tm) if !tm.kind.is_empty() => &tm.kind,
            _ => match self {
                Self::Empty => "(empty)",
                Self::Protobuf { .. } => "(protobuf)",
                Self::Json { .. } => "(json)",
                Self::Encrypted(_) => "(encrypted)",
                Self::Text => "(text)",
                Self::Binary => "(binary)",
            },
        }
    }
}

/// Classifies a stored value. Never fails; never decodes the object itself.
pub fn classify(value: &[u8]) -> ValueKind<'_> {
    if value.is_empty() {
        return ValueKind::Empty;
    }
    if let Some(enc) = parse_encryption_prefix(value) {
        return ValueKind::Encrypted(enc);
    }
    if let Some(rest) = value.strip_prefix(PROTOBUF_MAGIC) {
        return match peek_envelope(rest) {
            Ok((type_meta, raw_len)) => ValueKind::Protobuf { type_meta, raw_len },
            Err(_) => ValueKind::Binary,
        };
    }
    if let Some(type_meta) = peek_json(value) {
        return ValueKind::Json { type_meta };
    }
    if printable_text(value).is_some() {
        return ValueKind::Text;
    }
    ValueKind::Binary
}

/// Reads `k8s:enc:<provider>:<version>:<name>:`. Provider and version must be short
/// lowercase-alphanumeric words, the version `v` and digits, the name non-empty printable
/// ASCII without `:` (Kubernetes forbids it there); otherwise this is not an encryption prefix.
pub fn parse_encryption_prefix(value: &[u8]) -> Option<Encryption<'_>> {
    let rest = value.strip_prefix(ENCRYPTED_PREFIX)?;
    let (provider, rest) = split_colon(rest, 32)?;
    let (version, rest) = split_colon(rest, 8)?;
    let (key_name, rest) = split_colon(rest, 256)?;
    let word = |s: &str| {
        s.bytes()
            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit())
    };
    let version_ok = version.len() > 1
        && version.starts_with('v')
        && version.bytes().skip(1).all(|c| c.is_ascii_digit());
    let name_ok = key_name.bytes().all(|c| c.is_ascii_graphic());
    (word(provider) && version_ok && name_ok).then_some(Encryption {
        provider,
        version,
        key_name,
        ciphertext_len: rest.len(),
        ciphertext: rest,
    })
}

/// Splits at the first `:` within `max` bytes; the part before must be non-empty ASCII.
fn split_colon(bytes: &[u8], max: usize) -> Option<(&str, &[u8])> {
    let at = bytes.iter().take(max + 1).position(|&c| c == b':')?;
    let head = bytes.get(..at).filter(|h| !h.is_empty() && h.is_ascii())?;
    let tail = bytes.get(at + 1..)?;
    Some((std::str::from_utf8(head).ok()?, tail))
}

/// Walks a `runtime.Unknown` (after the magic) without decoding `raw`: returns its typeMeta
/// and the length of `raw`.
pub(crate) fn peek_envelope(unknown: &[u8]) -> Result<(TypeMeta<'_>, usize), WireError> {
    let mut type_meta = TypeMeta::default();
    let mut raw_len = 0;
    for field in Fields::new(unknown) {
        let field = field?;
        match (field.number, field.value) {
            (1, WireValue::Bytes(tm)) => type_meta = read_type_meta(tm)?,
            (2, WireValue::Bytes(raw)) => raw_len = raw.len(),
            _ => {}
        }
    }
    Ok((type_meta, raw_len))
}

/// `runtime.TypeMeta`: apiVersion = 1, kind = 2 (note: the reverse of meta/v1's TypeMeta).
pub(crate) fn read_type_meta(bytes: &[u8]) -> Result<TypeMeta<'_>, WireError> {
    let mut tm = TypeMeta::default();
    for field in Fields::new(bytes) {
        let field = field?;
        match (field.number, field.value) {
            (1, WireValue::Bytes(v)) => tm.api_version = crate::wire::utf8(v),
            (2, WireValue::Bytes(k)) => tm.kind = crate::wire::utf8(k),
            _ => {}
        }
    }
    Ok(tm)
}

/// A JSON object with optional `apiVersion`/`kind`; everything else is validated and skipped.
#[derive(Deserialize)]
struct JsonHead<'a> {
    #[serde(rename = "apiVersion", borrow, default)]
    api_version: Option<Cow<'a, str>>,
    #[serde(borrow, default)]
    kind: Option<Cow<'a, str>>,
}

fn peek_json(value: &[u8]) -> Option<TypeMeta<'_>> {
    let first = value.iter().find(|c| !c.is_ascii_whitespace())?;
    if *first != b'{' {
        return None;
    }
    match serde_json::from_slice::<JsonHead<'_>>(value) {
        Ok(head) => Some(TypeMeta {
            api_version: head.api_version.unwrap_or_default(),
            kind: head.kind.unwrap_or_default(),
        }),
        // Valid JSON whose apiVersion/kind are not plain strings (or are repeated).
        Err(_) => serde_json::from_slice::<serde::de::IgnoredAny>(value)
            .is_ok()
            .then(TypeMeta::default),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn kind(v: &[u8]) -> &'static str {
        classify(v).class()
    }

    #[test]
    fn classes() {
        assert_eq!(kind(b""), "empty");
        assert_eq!(kind(b"149"), "text");
        assert_eq!(kind(b"line\tone\r\n"), "text");
        assert_eq!(kind(b"\x00\x01\x02"), "binary");
        assert_eq!(kind(b"bell\x07"), "binary");
        assert_eq!(kind(b"{not json"), "text");
        assert_eq!(kind(b"  {\"a\": 1} \n"), "json");
        assert_eq!(kind(b"[1]"), "text");
        assert_eq!(kind(b"k8s\0"), "protobuf");
        assert_eq!(kind(b"k8s\0\x0a\x05"), "binary");
        let v = b"k8s\0\x0a\x09\x0a\x02v1\x12\x03Pod\x12\x02\x0a\x00\x1a\x00\x22\x00";
        assert_eq!(
            classify(v),
            ValueKind::Protobuf {
                type_meta: TypeMeta {
                    api_version: "v1".into(),
                    kind: "Pod".into()
                },
                raw_len: 2
            }
        );
        let j = classify(br#"{"apiVersion":"example.com/v1","kind":"Widget","spec":{}}"#);
        assert_eq!(j.kind_label(), "Widget");
        assert_eq!(classify(b"{}").kind_label(), "(json)");
        assert_eq!(classify(br#"{"kind": 7}"#).kind_label(), "(json)");
        assert_eq!(classify(b"149").kind_label(), "(text)");
    }

    #[test]
    fn encryption_prefixes() {
        let e = |v: &'static [u8]| match classify(v) {
            ValueKind::Encrypted(e) => Some((e.provider, e.version, e.key_name, e.ciphertext_len)),
            _ => None,
        };
        assert_eq!(
            e(b"k8s:enc:aescbc:v1:key1:\xff\x00ab"),
            Some(("aescbc", "v1", "key1", 4))
        );
        assert_eq!(
            e(b"k8s:enc:aesgcm:v1:k-2:"),
            Some(("aesgcm", "v1", "k-2", 0))
        );
        assert_eq!(
            e(b"k8s:enc:secretbox:v1:sb:x"),
            Some(("secretbox", "v1", "sb", 1))
        );
        assert_eq!(
            e(b"k8s:enc:kms:v1:my-kms:xyz"),
            Some(("kms", "v1", "my-kms", 3))
        );
        assert_eq!(
            e(b"k8s:enc:kms:v2:vault:\x0a\x01"),
            Some(("kms", "v2", "vault", 2))
        );
        for bad in [
            &b"k8s:enc:"[..],
            b"k8s:enc:aescbc:v1:key1",
            b"k8s:enc:aescbc:v1::x",
            b"k8s:enc:AES:v1:k:x",
            b"k8s:enc:aescbc:1:k:x",
            b"k8s:enc:aescbc:v:k:x",
            b"k8s:enc:aescbc:v1:k\xff:x",
        ] {
            assert_eq!(e(bad), None, "{}", String::from_utf8_lossy(bad));
        }
        let enc = parse_encryption_prefix(b"k8s:enc:kms:v2:vault:abc").unwrap();
        assert!(enc.known_provider());
        assert_eq!(enc.label(), "kms:v2:vault");
        assert_eq!(enc.kms_v2_key_id(), None);
        // EncryptedObject{encryptedData: "\x01\x02", keyID: "kek-2024"}
        let v2 = b"k8s:enc:kms:v2:vault:\x0a\x02\x01\x02\x12\x08kek-2024";
        assert_eq!(
            parse_encryption_prefix(v2).unwrap().kms_v2_key_id(),
            Some("kek-2024")
        );
        let v1 = b"k8s:enc:kms:v1:vault:\x0a\x02\x01\x02\x12\x08kek-2024";
        assert_eq!(parse_encryption_prefix(v1).unwrap().kms_v2_key_id(), None);
    }
}
