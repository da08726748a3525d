//! Kubernetes values in etcd, decoded without a schema.
//!
//! The API server stores each object under a key that names it (`/registry/pods/ns/name`)
//! and a value that is a protobuf envelope, a JSON document, or ciphertext from an
//! encryption-at-rest provider. This crate turns those bytes into something an operator can
//! read and count, offline and without Kubernetes' generated code. It only ever sees byte
//! slices the caller hands it: it knows nothing of bbolt or etcd's MVCC, never prints, and
//! never panics on any input.
//!
//! - [`classify()`]: what a value is (envelope, JSON, encrypted, text, opaque), cheaply.
//! - [`decode()`]: a value as an [`Object`]: typeMeta, [`ObjectMeta`] (with its schema), and
//!   the rest of the object schema-less ([`schemaless`]); Secrets redacted ([`secret`]).
//! - [`decode_typed()`]: a value as `kubectl get -o json` shows it, with Kubernetes' own
//!   schema embedded ([`schema`], [`typed`]), written by [`gojson`].
//! - [`parse_key`]: what a key names (resource, namespace, name).
//! - [`decoded::decode_value`]: any value made readable (document, text or marker, Secrets
//!   hidden), the rendering of `get --decode` and `export --decode`.
//! - [`Stats`] and [`Audit`]: the aggregators behind `etcdsnap stats` and `etcdsnap audit`.

pub mod audit;
pub mod classify;
pub mod decoded;
pub mod error;
pub mod gojson;
pub mod key;
pub mod meta;
pub mod object;
pub mod redact;
pub mod render;
pub mod resources;
pub mod schema;
pub mod schemaless;
pub mod secret;
pub mod selector;
pub mod sink;
pub mod stats;
pub mod time;
pub mod typed;
pub mod wire;
pub mod yaml;

pub use audit::{Audit, AuditItem, AuditReport, EncryptedCount};
pub use classify::{Encryption, TypeMeta, ValueKind, classify};
pub use error::DecodeError;
pub use key::{KeyBytes, KeyInfo, ObjectKey, group_prefix, parse_key, parse_key_with_prefix};
pub use meta::{ManagedFields, ManagedFieldsEntry, ObjectMeta, OwnerReference};
pub use object::{DecodeOptions, Encoding, Object, decode};
pub use schemaless::decode_protobuf;
pub use secret::redact_secret;
pub use stats::{
    GroupBy, GroupCounts, GroupStats, RankedKey, Stats, StatsReport, group_label, resource_label,
};
pub use time::Time;
pub use typed::{Rendered, decode_typed};
