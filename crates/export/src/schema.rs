//! The export schema: one table, one row per key (or per stored revision with `--history`),
//! its columns named, typed and documented here once.
//!
//! Every writer (Parquet, JSON Lines, CSV) takes its column names from [`COLUMNS`], the
//! Parquet file carries each column's description in its Arrow field metadata and the whole
//! list in its key-value metadata, and `docs/export.md` is checked against this table by a
//! test, so the documentation cannot drift from the files. [`SCHEMA_VERSION`] changes when a
//! column is renamed, retyped or removed (adding a column at the end is not a change of
//! version: readers select by name).

use std::collections::HashMap;
use std::sync::Arc;

use arrow_schema::{DataType, Field, Fields, Schema, TimeUnit};

/// Version of the schema below, written to the `etcdsnap.schema_version` key of the Parquet
/// metadata (and documented in docs/export.md).
pub const SCHEMA_VERSION: &str = "1";

/// Parquet key-value metadata key holding [`SCHEMA_VERSION`].
pub const META_SCHEMA_VERSION: &str = "etcdsnap.schema_version";
/// Parquet key-value metadata key holding the column docs as a JSON object (name -> text).
pub const META_COLUMNS: &str = "etcdsnap.columns";
/// Parquet key-value metadata key holding the export's parameters as JSON.
pub const META_EXPORT: &str = "etcdsnap.export";
/// Arrow field metadata key holding a column's description.
pub const FIELD_DOC: &str = "description";

/// The logical type of a column (each writer maps it to its own).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    /// Bytes (Parquet BYTE_ARRAY; JSON Lines and CSV: base64).
    Binary,
    /// UTF-8 text.
    Text,
    /// 64-bit signed integer.
    Int,
    /// true/false.
    Bool,
    /// An instant, microseconds, UTC (JSON Lines and CSV: RFC 3339 text).
    Timestamp,
    /// A map of text to text (JSON Lines: an object; CSV: a JSON object as text).
    TextMap,
}

/// Which rows and options a column belongs to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Presence {
    /// Always present.
    Always,
    /// Absent with `--no-values`.
    Values,
    /// Present only with `--decode`.
    Decode,
}

/// One column.
#[derive(Debug, Clone, Copy)]
pub struct Column {
    /// Its name.
    pub name: &'static str,
    /// Its type.
    pub kind: Kind,
    /// Whether it can be null.
    pub nullable: bool,
    /// When it is written.
    pub presence: Presence,
    /// What it holds.
    pub doc: &'static str,
}

const fn col(
    name: &'static str,
    kind: Kind,
    nullable: bool,
    presence: Presence,
    doc: &'static str,
) -> Column {
    Column {
        name,
        kind,
        nullable,
        presence,
        doc,
    }
}

use Kind::*;
use Presence::*;

/// Every column, in file order: per-row columns, the Kubernetes columns, then the columns
/// that describe the snapshot (the same on every row of a file).
pub const COLUMNS: &[Column] = &[
    col(
        "key",
        Binary,
        false,
        Always,
        "The etcd key, its bytes as stored.",
    ),
    col(
        "key_text",
        Text,
        true,
        Always,
        "The key as text when it is valid UTF-8, else null.",
    ),
    col(
        "revision",
        Int,
        false,
        Always,
        "Main revision of this stored entry (a put, or a deletion with --history).",
    ),
    col(
        "sub_revision",
        Int,
        false,
        Always,
        "Index of the change within its transaction (the sub revision).",
    ),
    col(
        "tombstone",
        Bool,
        false,
        Always,
        "True for a deletion (rows of --history only; the other columns of the value are then 0 or null).",
    ),
    col(
        "create_revision",
        Int,
        false,
        Always,
        "Revision that created this generation of the key (etcd's create_revision; 0 on a tombstone).",
    ),
    col(
        "mod_revision",
        Int,
        false,
        Always,
        "Revision of the last change (etcd's mod_revision).",
    ),
    col(
        "version",
        Int,
        false,
        Always,
        "Puts since the key's creation (etcd's version; 0 on a tombstone).",
    ),
    col(
        "lease",
        Int,
        false,
        Always,
        "Lease ID attached to the key, 0 for none: etcd's int64, as get -w json prints it (info and history show it in hex: printf('%x', lease) in DuckDB).",
    ),
    col("value_size", Int, false, Always, "Bytes of the value."),
    col(
        "value",
        Binary,
        true,
        Values,
        "The value's bytes; null on a tombstone. Absent with --no-values.",
    ),
    col(
        "value_xxh3",
        Int,
        true,
        Always,
        "XXH3-64 (seed 0) of the value bytes as a signed 64-bit integer; null on a tombstone. Equal values have equal hashes: compares snapshots exported with --no-values.",
    ),
    col(
        "k8s_group",
        Text,
        true,
        Always,
        "Kubernetes: the API group written in the key (e.g. example.com), null for core groups or keys outside the registry.",
    ),
    col(
        "k8s_resource",
        Text,
        true,
        Always,
        "Kubernetes: the resource as written in the key (pods, services/specs, minions, ...).",
    ),
    col(
        "k8s_namespace",
        Text,
        true,
        Always,
        "Kubernetes: the namespace from the key; null for cluster-scoped objects.",
    ),
    col(
        "k8s_name",
        Text,
        true,
        Always,
        "Kubernetes: the object name from the key.",
    ),
    col(
        "api_version",
        Text,
        true,
        Always,
        "apiVersion of the stored object (protobuf envelope or JSON), when it is one.",
    ),
    col(
        "kind",
        Text,
        true,
        Always,
        "kind of the stored object, when it is one.",
    ),
    col(
        "encoding",
        Text,
        true,
        Always,
        "What the value is: protobuf, json, encrypted, text, binary or empty; null on a tombstone.",
    ),
    col(
        "encryption_provider",
        Text,
        true,
        Always,
        "Encrypted at rest: the provider (aescbc, aesgcm, secretbox, kms, ...).",
    ),
    col(
        "encryption_version",
        Text,
        true,
        Always,
        "Encrypted at rest: the provider's format version (v1, v2).",
    ),
    col(
        "encryption_key_name",
        Text,
        true,
        Always,
        "Encrypted at rest: the key name (KMS v2: the provider name).",
    ),
    col("uid", Text, true, Always, "metadata.uid of the object."),
    col(
        "creation_timestamp",
        Timestamp,
        true,
        Always,
        "metadata.creationTimestamp of the object (UTC).",
    ),
    col(
        "labels",
        TextMap,
        true,
        Always,
        "metadata.labels of the object (null when the value is not a decodable object).",
    ),
    col(
        "owner_kind",
        Text,
        true,
        Always,
        "Kind of the controlling owner reference (else the first owner).",
    ),
    col("owner_name", Text, true, Always, "Name of that owner."),
    col(
        "decoded",
        Text,
        true,
        Decode,
        "With --decode: the value made readable, as JSON text, exactly the fields etcdsnap get -w json --decode gives a kv (class, object, encryption, text, marker, ...); Secret payloads hidden unless --show-secrets. Null on a tombstone.",
    ),
    col(
        "source_file",
        Text,
        false,
        Always,
        "Snapshot: the file name the export read.",
    ),
    col(
        "source_size",
        Int,
        false,
        Always,
        "Snapshot: size of that file in bytes.",
    ),
    col(
        "sha256_trailer",
        Text,
        true,
        Always,
        "Snapshot: the SHA-256 digest etcdctl snapshot save appended to the file (hex), null when it has none (a member's db). Equal digests: the same backup.",
    ),
    col(
        "sha256_trailer_status",
        Text,
        false,
        Always,
        "Snapshot: absent, unchecked (present, not verified: the default), ok or mismatch (with --verify-trailer, which reads the whole file once more).",
    ),
    col(
        "head_revision",
        Int,
        false,
        Always,
        "Snapshot: the store's current revision.",
    ),
    col(
        "compact_revision",
        Int,
        true,
        Always,
        "Snapshot: the compaction revision; null when the store was never compacted.",
    ),
    col(
        "read_revision",
        Int,
        false,
        Always,
        "Snapshot: the revision the rows were read at (--rev, else the head; with --history the newest revision included).",
    ),
    col(
        "storage_version",
        Text,
        true,
        Always,
        "Snapshot: meta/storageVersion (etcd 3.6+), else null.",
    ),
    col(
        "cluster_version",
        Text,
        true,
        Always,
        "Snapshot: cluster/clusterVersion (the cluster's etcd version, e.g. 3.5.0), else null.",
    ),
];

/// The columns written with these options.
pub fn columns(values: bool, decode: bool) -> impl Iterator<Item = &'static Column> {
    COLUMNS.iter().filter(move |c| match c.presence {
        Always => true,
        Values => values,
        Decode => decode,
    })
}

/// The Arrow type of a kind.
pub fn arrow_type(kind: Kind) -> DataType {
    match kind {
        Binary => DataType::Binary,
        Text => DataType::Utf8,
        Int => DataType::Int64,
        Bool => DataType::Boolean,
        Timestamp => DataType::Timestamp(TimeUnit::Microsecond, Some("UTC".into())),
        TextMap => DataType::Map(Arc::new(map_entries()), false),
    }
}

/// The entries field of a labels map, named as Parquet's MAP convention names them.
pub fn map_entries() -> Field {
    Field::new(
        "key_value",
        DataType::Struct(Fields::from(vec![
            Field::new("key", DataType::Utf8, false),
            Field::new("value", DataType::Utf8, true),
        ])),
        false,
    )
}

/// The Arrow schema of an export, each field carrying its description.
pub fn arrow_schema(values: bool, decode: bool) -> Schema {
    let fields: Vec<Field> = columns(values, decode)
        .map(|c| {
            Field::new(c.name, arrow_type(c.kind), c.nullable)
                .with_metadata(HashMap::from([(FIELD_DOC.to_string(), c.doc.to_string())]))
        })
        .collect();
    Schema::new(fields)
}

/// The column docs as one JSON object (name -> description), for the file's metadata.
pub fn columns_json(values: bool, decode: bool) -> String {
    let m: serde_json::Map<String, serde_json::Value> = columns(values, decode)
        .map(|c| (c.name.to_string(), c.doc.into()))
        .collect();
    serde_json::Value::Object(m).to_string()
}
