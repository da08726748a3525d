//! `ObjectMeta`, the one message every stored object shares, decoded with its schema.
//!
//! The body of an object is shown schema-less, but its metadata is what operators search by
//! (name, namespace, uid, owners, finalizers, managedFields), so it is decoded field by field
//! with Kubernetes' published field numbers (`k8s.io/apimachinery/pkg/apis/meta/v1/
//! generated.proto`). Protobuf and JSON objects produce the same [`ObjectMeta`]. Decoding is
//! lenient the way a forensic reader should be: a field with an unexpected wire type or JSON
//! type is kept, schema-less, in [`ObjectMeta::extra`] rather than failing the whole object.

use std::collections::BTreeMap;

use serde::Serialize;
use serde::ser::{SerializeStruct, Serializer};
use serde_json::{Map, Value};

use crate::error::DecodeError;
use crate::schemaless::{insert_field, render};
use crate::time::Time;
use crate::wire::{Fields, WireError, WireValue, lossy};

/// The annotation `kubectl apply` stores the applied manifest in.
pub const LAST_APPLIED_ANNOTATION: &str = "kubectl.kubernetes.io/last-applied-configuration";

/// An object's metadata (`meta/v1.ObjectMeta`).
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct ObjectMeta {
    /// `name` (1).
    #[serde(skip_serializing_if = "String::is_empty")]
    pub name: String,
    /// `generateName` (2).
    #[serde(skip_serializing_if = "String::is_empty")]
    pub generate_name: String,
    /// `namespace` (3); empty for cluster-scoped objects.
    #[serde(skip_serializing_if = "String::is_empty")]
    pub namespace: String,
    /// `selfLink` (4), no longer set by current API servers.
    #[serde(skip_serializing_if = "String::is_empty")]
    pub self_link: String,
    /// `uid` (5).
    #[serde(skip_serializing_if = "String::is_empty")]
    pub uid: String,
    /// `resourceVersion` (6); the API server does not store it, etcd's mod revision is it.
    #[serde(skip_serializing_if = "String::is_empty")]
    pub resource_version: String,
    /// `generation` (7).
    #[serde(skip_serializing_if = "is_zero")]
    pub generation: i64,
    /// `creationTimestamp` (8); `None` when absent or the zero time (shown as `null`).
    pub creation_timestamp: Option<Time>,
    /// `deletionTimestamp` (9): set once graceful deletion was requested.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub deletion_timestamp: Option<Time>,
    /// `deletionGracePeriodSeconds` (10).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub deletion_grace_period_seconds: Option<i64>,
    /// `labels` (11).
    #[serde(skip_serializing_if = "BTreeMap::is_empty")]
    pub labels: BTreeMap<String, String>,
    /// `annotations` (12), verbatim.
    #[serde(skip_serializing_if = "BTreeMap::is_empty")]
    pub annotations: BTreeMap<String, String>,
    /// `ownerReferences` (13).
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub owner_references: Vec<OwnerReference>,
    /// `finalizers` (14).
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub finalizers: Vec<String>,
    /// `managedFields` (17), summarised.
    #[serde(skip_serializing_if = "ManagedFields::is_empty")]
    pub managed_fields: ManagedFields,
    /// The [`LAST_APPLIED_ANNOTATION`] parsed, when it is valid JSON.
    #[serde(
        rename = "lastAppliedConfiguration",
        skip_serializing_if = "Option::is_none"
    )]
    pub last_applied: Option<Value>,
    /// Fields this decoder does not know (e.g. the retired `clusterName` = 15), keyed by field
    /// number (protobuf, rendered schema-less) or name (JSON).
    #[serde(skip_serializing_if = "Map::is_empty")]
    pub extra: Map<String, Value>,
}

/// The ObjectMeta members [`ObjectMeta::from_json`] knows.
const JSON_FIELDS: &[&str] = &[
    "name",
    "generateName",
    "namespace",
    "selfLink",
    "uid",
    "resourceVersion",
    "generation",
    "creationTimestamp",
    "deletionTimestamp",
    "deletionGracePeriodSeconds",
    "labels",
    "annotations",
    "finalizers",
    "ownerReferences",
    "managedFields",
];

fn is_zero(v: &i64) -> bool {
    *v == 0
}

/// A reference to an owning object (`meta/v1.OwnerReference`).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct OwnerReference {
    /// `apiVersion` (5).
    pub api_version: String,
    /// `kind` (1).
    pub kind: String,
    /// `name` (3).
    pub name: String,
    /// `uid` (4).
    pub uid: String,
    /// `controller` (6), when set.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub controller: Option<bool>,
    /// `blockOwnerDeletion` (7), when set.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub block_owner_deletion: Option<bool>,
}

/// `managedFields`: who manages which fields. The field sets themselves (often the bulk of an
/// object's metadata) are only measured.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct ManagedFields {
    /// The entries, in stored order.
    pub entries: Vec<ManagedFieldsEntry>,
    /// Encoded size of all entries (protobuf: the entries' message bytes; JSON: the entries
    /// re-serialized compactly).
    pub bytes: usize,
}

impl ManagedFields {
    /// Number of entries.
    pub fn count(&self) -> usize {
        self.entries.len()
    }

    /// Whether there are no entries.
    pub fn is_empty(&self) -> bool {
        self.entries.is_empty()
    }
}

impl Serialize for ManagedFields {
    /// `{"count": n, "bytes": b, "entries": [...]}`.
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        let mut st = s.serialize_struct("ManagedFields", 3)?;
        st.serialize_field("count", &self.count())?;
        st.serialize_field("bytes", &self.bytes)?;
        st.serialize_field("entries", &self.entries)?;
        st.end()
    }
}

/// One `managedFields` entry (`meta/v1.ManagedFieldsEntry`).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct ManagedFieldsEntry {
    /// `manager` (1), e.g. `kubectl-client-side-apply`.
    pub manager: String,
    /// `operation` (2): `Apply` or `Update`.
    pub operation: String,
    /// `apiVersion` (3).
    #[serde(skip_serializing_if = "String::is_empty")]
    pub api_version: String,
    /// `time` (4).
    pub time: Option<Time>,
    /// `fieldsType` (6), `FieldsV1`.
    #[serde(skip_serializing_if = "String::is_empty")]
    pub fields_type: String,
    /// Size of `fieldsV1` (7), the JSON field set.
    pub fields_v1_bytes: usize,
    /// `subresource` (8), e.g. `status`.
    #[serde(skip_serializing_if = "String::is_empty")]
    pub subresource: String,
}

type MetaResult<T> = Result<T, DecodeError>;

fn meta_err(field: &'static str) -> impl Fn(WireError) -> DecodeError {
    move |source| DecodeError::Metadata { field, source }
}

impl ObjectMeta {
    /// Decodes a protobuf `ObjectMeta` message.
    pub fn decode(bytes: &[u8]) -> MetaResult<Self> {
        let mut m = Self::default();
        for field in Fields::new(bytes) {
            let field = field.map_err(meta_err("metadata"))?;
            let string = |b: &[u8]| lossy(b);
            match (field.number, field.value) {
                (1, WireValue::Bytes(b)) => m.name = string(b),
                (2, WireValue::Bytes(b)) => m.generate_name = string(b),
                (3, WireValue::Bytes(b)) => m.namespace = string(b),
                (4, WireValue::Bytes(b)) => m.self_link = string(b),
                (5, WireValue::Bytes(b)) => m.uid = string(b),
                (6, WireValue::Bytes(b)) => m.resource_version = string(b),
                (7, WireValue::Varint(v)) => m.generation = v as i64, // int64, two's complement
                (8, WireValue::Bytes(b)) => {
                    m.creation_timestamp = Time::decode(b).map_err(meta_err("creationTimestamp"))?
                }
                (9, WireValue::Bytes(b)) => {
                    m.deletion_timestamp = Time::decode(b).map_err(meta_err("deletionTimestamp"))?
                }
                (10, WireValue::Varint(v)) => m.deletion_grace_period_seconds = Some(v as i64),
                (11, WireValue::Bytes(b)) => {
                    let (k, v) = map_entry(b).map_err(meta_err("labels"))?;
                    m.labels.insert(k, v);
                }
                (12, WireValue::Bytes(b)) => {
                    let (k, v) = map_entry(b).map_err(meta_err("annotations"))?;
                    m.annotations.insert(k, v);
                }
                (13, WireValue::Bytes(b)) => m
                    .owner_references
                    .push(owner_reference(b).map_err(meta_err("ownerReferences"))?),
                (14, WireValue::Bytes(b)) => m.finalizers.push(string(b)),
                (17, WireValue::Bytes(b)) => {
                    let entry = managed_fields_entry(b).map_err(meta_err("managedFields"))?;
                    m.managed_fields.entries.push(entry);
                    m.managed_fields.bytes = m.managed_fields.bytes.saturating_add(b.len());
                }
                (n, value) => insert_field(&mut m.extra, n, render(value, 2)),
            }
        }
        m.parse_last_applied();
        Ok(m)
    }

    /// Reads the `metadata` object of a JSON-stored object.
    pub fn from_json(metadata: &Map<String, Value>) -> Self {
        let mut m = Self::default();
        for (key, value) in metadata {
            if !m.set_json_field(key, value) {
                m.extra.insert(key.clone(), value.clone());
            }
        }
        m.parse_last_applied();
        m
    }

    /// Sets one JSON field; false when the name or the value's type is unexpected. A `null`
    /// known field is absent, as Go's decoder treats it.
    fn set_json_field(&mut self, key: &str, value: &Value) -> bool {
        if value.is_null() && JSON_FIELDS.contains(&key) {
            return true;
        }
        let text = || value.as_str().map(str::to_owned);
        let set = |slot: &mut String| text().map(|s| *slot = s).is_some();
        match key {
            "name" => set(&mut self.name),
            "generateName" => set(&mut self.generate_name),
            "namespace" => set(&mut self.namespace),
            "selfLink" => set(&mut self.self_link),
            "uid" => set(&mut self.uid),
            "resourceVersion" => set(&mut self.resource_version),
            "generation" => value.as_i64().map(|g| self.generation = g).is_some(),
            "creationTimestamp" => json_time(value)
                .map(|t| self.creation_timestamp = t)
                .is_some(),
            "deletionTimestamp" => json_time(value)
                .map(|t| self.deletion_timestamp = t)
                .is_some(),
            "deletionGracePeriodSeconds" => value
                .as_i64()
                .map(|s| self.deletion_grace_period_seconds = Some(s))
                .is_some(),
            "labels" => json_string_map(value).map(|l| self.labels = l).is_some(),
            "annotations" => json_string_map(value)
                .map(|a| self.annotations = a)
                .is_some(),
            "finalizers" => json_strings(value).map(|f| self.finalizers = f).is_some(),
            "ownerReferences" => {
                let refs = value
                    .as_array()
                    .and_then(|a| a.iter().map(json_owner).collect());
                refs.map(|r| self.owner_references = r).is_some()
            }
            "managedFields" => {
                let Some(items) = value.as_array() else {
                    return false;
                };
                let Some(entries) = items.iter().map(json_managed_entry).collect() else {
                    return false;
                };
                let bytes = items.iter().map(|i| i.to_string().len()).sum();
                self.managed_fields = ManagedFields { entries, bytes };
                true
            }
            _ => false,
        }
    }

    fn parse_last_applied(&mut self) {
        self.last_applied = self
            .annotations
            .get(LAST_APPLIED_ANNOTATION)
            .and_then(|s| serde_json::from_str(s).ok());
    }

    /// The controlling owner (`controller: true`), else the first owner.
    pub fn owner(&self) -> Option<&OwnerReference> {
        let refs = &self.owner_references;
        refs.iter()
            .find(|r| r.controller == Some(true))
            .or_else(|| refs.first())
    }
}

/// A `map<string,string>` entry: key = 1, value = 2.
fn map_entry(bytes: &[u8]) -> Result<(String, String), WireError> {
    let (mut k, mut v) = (String::new(), String::new());
    for field in Fields::new(bytes) {
        let field = field?;
        match (field.number, field.value) {
            (1, WireValue::Bytes(b)) => k = lossy(b),
            (2, WireValue::Bytes(b)) => v = lossy(b),
            _ => {}
        }
    }
    Ok((k, v))
}

fn owner_reference(bytes: &[u8]) -> Result<OwnerReference, WireError> {
    let mut r = OwnerReference::default();
    for field in Fields::new(bytes) {
        let field = field?;
        match (field.number, field.value) {
            (1, WireValue::Bytes(b)) => r.kind = lossy(b),
            (3, WireValue::Bytes(b)) => r.name = lossy(b),
            (4, WireValue::Bytes(b)) => r.uid = lossy(b),
            (5, WireValue::Bytes(b)) => r.api_version = lossy(b),
            (6, WireValue::Varint(v)) => r.controller = Some(v != 0),
            (7, WireValue::Varint(v)) => r.block_owner_deletion = Some(v != 0),
            _ => {}
        }
    }
    Ok(r)
}

fn managed_fields_entry(bytes: &[u8]) -> Result<ManagedFieldsEntry, WireError> {
    let mut e = ManagedFieldsEntry::default();
    for field in Fields::new(bytes) {
        let field = field?;
        match (field.number, field.value) {
            (1, WireValue::Bytes(b)) => e.manager = lossy(b),
            (2, WireValue::Bytes(b)) => e.operation = lossy(b),
            (3, WireValue::Bytes(b)) => e.api_version = lossy(b),
            (4, WireValue::Bytes(b)) => e.time = Time::decode(b)?,
            (6, WireValue::Bytes(b)) => e.fields_type = lossy(b),
            // FieldsV1 { Raw = 1 }: measure the raw JSON inside.
            (7, WireValue::Bytes(b)) => {
                for inner in Fields::new(b) {
                    let inner = inner?;
                    if let (1, WireValue::Bytes(raw)) = (inner.number, inner.value) {
                        e.fields_v1_bytes = e.fields_v1_bytes.saturating_add(raw.len());
                    }
                }
            }
            (8, WireValue::Bytes(b)) => e.subresource = lossy(b),
            _ => {}
        }
    }
    Ok(e)
}

/// A JSON time: a string in RFC 3339, or `null` (the zero time).
fn json_time(value: &Value) -> Option<Option<Time>> {
    match value {
        Value::Null => Some(None),
        Value::String(s) => Time::parse_rfc3339(s).map(Some),
        _ => None,
    }
}

fn json_string_map(value: &Value) -> Option<BTreeMap<String, String>> {
    value
        .as_object()?
        .iter()
        .map(|(k, v)| Some((k.clone(), v.as_str()?.to_owned())))
        .collect()
}

fn json_strings(value: &Value) -> Option<Vec<String>> {
    value
        .as_array()?
        .iter()
        .map(|v| v.as_str().map(str::to_owned))
        .collect()
}

fn json_str(obj: &Map<String, Value>, key: &str) -> String {
    obj.get(key)
        .and_then(Value::as_str)
        .unwrap_or_default()
        .to_owned()
}

fn json_owner(value: &Value) -> Option<OwnerReference> {
    let o = value.as_object()?;
    Some(OwnerReference {
        api_version: json_str(o, "apiVersion"),
        kind: json_str(o, "kind"),
        name: json_str(o, "name"),
        uid: json_str(o, "uid"),
        controller: o.get("controller").and_then(Value::as_bool),
        block_owner_deletion: o.get("blockOwnerDeletion").and_then(Value::as_bool),
    })
}

fn json_managed_entry(value: &Value) -> Option<ManagedFieldsEntry> {
    let o = value.as_object()?;
    Some(ManagedFieldsEntry {
        manager: json_str(o, "manager"),
        operation: json_str(o, "operation"),
        api_version: json_str(o, "apiVersion"),
        time: o.get("time").and_then(json_time).flatten(),
        fields_type: json_str(o, "fieldsType"),
        fields_v1_bytes: o.get("fieldsV1").map_or(0, |f| f.to_string().len()),
        subresource: json_str(o, "subresource"),
    })
}
