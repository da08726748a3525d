//! One row of the export: a stored entry of the `key` bucket, with what its key and value say
//! about a Kubernetes object.
//!
//! The Kubernetes columns need only the key layout ([`etcdsnap_k8s::parse_key_with_prefix`]),
//! the value's class ([`etcdsnap_k8s::classify`]) and the object's `ObjectMeta`. Decoding the
//! whole object (the schema-less body) for every row would cost more than the rest of the
//! export, so [`object_meta`] reads only the metadata: for a protobuf envelope it walks to
//! field 1 of the raw object and decodes that message alone; for a JSON object it parses the
//! document skipping everything but `metadata`. The full document is built only for
//! `--decode`, by the same function `get --decode` uses.

use std::borrow::Cow;

use etcdsnap_k8s::decoded::decode_value;
use etcdsnap_k8s::wire::{Fields, WireValue};
use etcdsnap_k8s::{KeyInfo, ObjectMeta, ValueKind, classify, parse_key_with_prefix};
use serde_json::{Map, Value};

/// What a key and its value say about a Kubernetes object; every field null when unknown.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Kube<'a> {
    /// API group from the key.
    pub group: Option<Cow<'a, str>>,
    /// Resource from the key.
    pub resource: Option<Cow<'a, str>>,
    /// Namespace from the key.
    pub namespace: Option<Cow<'a, str>>,
    /// Name from the key.
    pub name: Option<Cow<'a, str>>,
    /// apiVersion of the value.
    pub api_version: Option<Cow<'a, str>>,
    /// kind of the value.
    pub kind: Option<Cow<'a, str>>,
    /// Class of the value (`protobuf`, `json`, `encrypted`, `text`, `binary`, `empty`).
    pub encoding: Option<&'static str>,
    /// Encryption provider.
    pub encryption_provider: Option<&'a str>,
    /// Encryption format version.
    pub encryption_version: Option<&'a str>,
    /// Encryption key name.
    pub encryption_key_name: Option<&'a str>,
    /// metadata.uid.
    pub uid: Option<String>,
    /// metadata.creationTimestamp, microseconds since the epoch (UTC).
    pub creation_micros: Option<i64>,
    /// metadata.labels (None when the value is not a decodable object).
    pub labels: Option<Vec<(String, String)>>,
    /// Controlling (else first) owner's kind.
    pub owner_kind: Option<String>,
    /// Its name.
    pub owner_name: Option<String>,
}

/// One row.
#[derive(Debug, Clone)]
pub struct Row<'a> {
    /// The key.
    pub key: &'a [u8],
    /// Main revision of the entry.
    pub revision: i64,
    /// Sub revision.
    pub sub_revision: i64,
    /// A deletion.
    pub tombstone: bool,
    /// etcd's create_revision.
    pub create_revision: i64,
    /// etcd's mod_revision.
    pub mod_revision: i64,
    /// etcd's version.
    pub version: i64,
    /// Lease id.
    pub lease: i64,
    /// The value (empty on a tombstone).
    pub value: &'a [u8],
    /// [`value_hash`] of the value (`None` on a tombstone), computed where the row is made.
    pub value_xxh3: Option<i64>,
    /// The Kubernetes columns.
    pub kube: Kube<'a>,
    /// With `--decode`: the kv fields of `get -w json --decode`.
    pub decoded: Option<Map<String, Value>>,
}

/// How rows are derived.
#[derive(Debug, Clone)]
pub struct RowOptions {
    /// The API server's `--etcd-prefix`.
    pub etcd_prefix: String,
    /// Fill the `decoded` column.
    pub decode: bool,
    /// Show Secret payloads in `decoded`.
    pub show_secrets: bool,
}

/// The Kubernetes columns of `key` holding `value` (`None` for a tombstone: only the key part).
pub fn kube<'a>(key: &'a [u8], value: Option<&'a [u8]>, etcd_prefix: &str) -> Kube<'a> {
    let mut k = Kube::default();
    if let KeyInfo::Object(o) = parse_key_with_prefix(key, etcd_prefix) {
        k.group = o.group;
        k.resource = Some(o.resource);
        k.namespace = o.namespace;
        k.name = Some(o.name);
    }
    let Some(value) = value else {
        return k;
    };
    let class = classify(value);
    k.encoding = Some(class.class());
    match &class {
        ValueKind::Encrypted(e) => {
            k.encryption_provider = Some(e.provider);
            k.encryption_version = Some(e.version);
            k.encryption_key_name = Some(e.key_name);
        }
        ValueKind::Protobuf { type_meta, .. } | ValueKind::Json { type_meta } => {
            let nonempty = |s: &Cow<'a, str>| (!s.is_empty()).then(|| s.clone());
            k.api_version = nonempty(&type_meta.api_version);
            k.kind = nonempty(&type_meta.kind);
            if let Some(m) = object_meta(value) {
                k.uid = (!m.uid.is_empty()).then(|| m.uid.clone());
                k.creation_micros = m.creation_timestamp.and_then(|t| {
                    t.seconds
                        .checked_mul(1_000_000)?
                        .checked_add(i64::from(t.nanos) / 1000)
                });
                if let Some(o) = m.owner() {
                    k.owner_kind = Some(o.kind.clone());
                    k.owner_name = Some(o.name.clone());
                }
                k.labels = Some(m.labels.into_iter().collect());
            }
        }
        _ => {}
    }
    k
}

/// The `ObjectMeta` of a protobuf envelope or JSON object, without decoding the rest; `None`
/// when the value is neither or its metadata does not decode.
pub fn object_meta(value: &[u8]) -> Option<ObjectMeta> {
    if let Some(unknown) = value.strip_prefix(b"k8s\0") {
        // runtime.Unknown: raw = 2; the object: metadata = 1.
        let raw = Fields::new(unknown).find_map(|f| match f {
            Ok(f) if f.number == 2 => match f.value {
                WireValue::Bytes(b) => Some(Ok(b)),
                _ => None,
            },
            Ok(_) => None,
            Err(_) => Some(Err(())),
        })?;
        let raw = raw.ok()?;
        for f in Fields::new(raw) {
            match f {
                Ok(f) if f.number == 1 => {
                    return match f.value {
                        WireValue::Bytes(b) => ObjectMeta::decode(b).ok(),
                        _ => None,
                    };
                }
                Ok(_) => {}
                Err(_) => return None,
            }
        }
        return Some(ObjectMeta::default());
    }
    #[derive(serde::Deserialize)]
    struct MetaOnly {
        metadata: Option<Map<String, Value>>,
    }
    let doc: MetaOnly = serde_json::from_slice(value).ok()?;
    Some(
        doc.metadata
            .map_or_else(ObjectMeta::default, |m| ObjectMeta::from_json(&m)),
    )
}

/// The `value_xxh3` column: XXH3-64 (seed 0) of the value, its bits as an `i64` (Parquet and
/// most engines have no unsigned 64-bit integer).
pub fn value_hash(value: &[u8]) -> i64 {
    xxhash_rust::xxh3::xxh3_64(value) as i64
}

/// The `decoded` column of a put: the fields `get -w json --decode` adds to a kv.
pub fn decoded(key: &[u8], value: &[u8], show_secrets: bool) -> Map<String, Value> {
    let mut m = Map::new();
    decode_value(key, value, show_secrets).json_fields(value, &mut m);
    m
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keys_and_classes() {
        let k = kube(
            b"/registry/pods/ns1/p1",
            Some(b"k8s:enc:aescbc:v1:key1:xyz"),
            "/registry",
        );
        assert_eq!(k.resource.as_deref(), Some("pods"));
        assert_eq!(k.namespace.as_deref(), Some("ns1"));
        assert_eq!(k.name.as_deref(), Some("p1"));
        assert_eq!(k.encoding, Some("encrypted"));
        assert_eq!(k.encryption_provider, Some("aescbc"));
        assert_eq!(k.encryption_key_name, Some("key1"));
        assert!(k.uid.is_none() && k.labels.is_none());

        let v = br#"{"apiVersion":"example.com/v1","kind":"Widget","metadata":{"name":"w","uid":"u-1","labels":{"a":"b"},"creationTimestamp":"2024-01-02T03:04:05Z","ownerReferences":[{"kind":"Gadget","name":"g","uid":"x","apiVersion":"v1"}]},"spec":{"x":1}}"#;
        let k = kube(b"/registry/example.com/widgets/ns/w", Some(v), "/registry");
        assert_eq!(k.group.as_deref(), Some("example.com"));
        assert_eq!(k.kind.as_deref(), Some("Widget"));
        assert_eq!(k.api_version.as_deref(), Some("example.com/v1"));
        assert_eq!(k.encoding, Some("json"));
        assert_eq!(k.uid.as_deref(), Some("u-1"));
        assert_eq!(k.creation_micros, Some(1_704_164_645_000_000));
        assert_eq!(k.labels, Some(vec![("a".into(), "b".into())]));
        assert_eq!(k.owner_kind.as_deref(), Some("Gadget"));
        assert_eq!(k.owner_name.as_deref(), Some("g"));

        let k = kube(b"compact_rev_key", Some(b"123"), "/registry");
        assert_eq!(k.encoding, Some("text"));
        assert!(k.resource.is_none() && k.kind.is_none());
        let k = kube(b"/registry/pods/ns1/p1", None, "/registry");
        assert!(k.encoding.is_none());
        assert_eq!(k.name.as_deref(), Some("p1"));
    }

    /// The metadata read alone equals the metadata of the full decode, on every object of the
    /// Kubernetes fixture.
    #[test]
    fn metadata_alone_equals_full_decode() {
        use etcdsnap_mvcc::{RevIndex, Snapshot};
        let snap = Snapshot::open(&etcdsnap_testkit::corpus_db("h5-k8s.db")).unwrap();
        let index = RevIndex::build(&snap).unwrap();
        let mut objects = 0;
        for h in index.keys() {
            for r in h.revisions().iter().filter(|r| !r.is_tombstone()) {
                let kv = r.decode().unwrap();
                let Ok(full) = etcdsnap_k8s::decode(
                    kv.value,
                    &etcdsnap_k8s::DecodeOptions { show_secrets: true },
                ) else {
                    continue;
                };
                let meta = object_meta(kv.value).expect("metadata");
                assert_eq!(meta, full.metadata, "{}", String::from_utf8_lossy(kv.key));
                objects += 1;
            }
        }
        assert!(objects > 100, "{objects}");
    }
}
