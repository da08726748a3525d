//! The text writers: JSON Lines (serde_json) and CSV (the `csv` crate), one row at a time.
//!
//! Both use the column names of [`crate::schema::COLUMNS`] in its order. Bytes (`key`,
//! `value`) are base64 (standard, padded: what etcdctl's JSON prints), timestamps RFC 3339 in
//! UTC, nulls are JSON `null` and empty CSV fields. In JSON Lines `labels` and `decoded` are
//! nested objects; in CSV they are JSON text in one field. Nothing is buffered beyond one row
//! and the writer's own buffer.

use std::io::Write;

use base64::Engine as _;
use serde_json::{Map, Value};

use crate::row::Row;
use crate::schema::{self, Kind};
use crate::{Error, SnapshotFacts};

fn b64(b: &[u8]) -> String {
    base64::engine::general_purpose::STANDARD.encode(b)
}

/// RFC 3339 (UTC) of microseconds since the epoch.
fn rfc3339(micros: i64) -> Option<String> {
    etcdsnap_k8s::Time {
        seconds: micros.div_euclid(1_000_000),
        nanos: (micros.rem_euclid(1_000_000) * 1000) as i32,
    }
    .to_rfc3339()
}

/// A row's cells in column order, as JSON values (the common form of both text writers).
fn cells(
    r: &Row<'_>,
    facts: &SnapshotFacts,
    values: bool,
    decode: bool,
) -> Vec<(&'static str, Kind, Value)> {
    let k = &r.kube;
    let text = |s: Option<&str>| s.map_or(Value::Null, |s| Value::String(s.to_owned()));
    let mut out = Vec::with_capacity(schema::COLUMNS.len());
    for c in schema::columns(values, decode) {
        let v = match c.name {
            "key" => Value::String(b64(r.key)),
            "key_text" => text(std::str::from_utf8(r.key).ok()),
            "revision" => r.revision.into(),
            "sub_revision" => r.sub_revision.into(),
            "tombstone" => r.tombstone.into(),
            "create_revision" => r.create_revision.into(),
            "mod_revision" => r.mod_revision.into(),
            "version" => r.version.into(),
            "lease" => r.lease.into(),
            "value_size" => (r.value.len() as i64).into(),
            "value" if r.tombstone => Value::Null,
            "value" => Value::String(b64(r.value)),
            "value_xxh3" => r.value_xxh3.map_or(Value::Null, Value::from),
            "k8s_group" => text(k.group.as_deref()),
            "k8s_resource" => text(k.resource.as_deref()),
            "k8s_namespace" => text(k.namespace.as_deref()),
            "k8s_name" => text(k.name.as_deref()),
            "api_version" => text(k.api_version.as_deref()),
            "kind" => text(k.kind.as_deref()),
            "encoding" => text(k.encoding),
            "encryption_provider" => text(k.encryption_provider),
            "encryption_version" => text(k.encryption_version),
            "encryption_key_name" => text(k.encryption_key_name),
            "uid" => text(k.uid.as_deref()),
            "creation_timestamp" => text(k.creation_micros.and_then(rfc3339).as_deref()),
            "labels" => k.labels.as_ref().map_or(Value::Null, |l| {
                Value::Object(
                    l.iter()
                        .map(|(a, b)| (a.clone(), Value::String(b.clone())))
                        .collect::<Map<_, _>>(),
                )
            }),
            "owner_kind" => text(k.owner_kind.as_deref()),
            "owner_name" => text(k.owner_name.as_deref()),
            "decoded" => r.decoded.clone().map_or(Value::Null, Value::Object),
            "source_file" => text(Some(&facts.source_file)),
            "source_size" => facts.source_size.into(),
            "sha256_trailer" => text(facts.sha256_trailer.as_deref()),
            "sha256_trailer_status" => text(Some(facts.sha256_trailer_status)),
            "head_revision" => facts.head_revision.into(),
            "compact_revision" => facts.compact_revision.map_or(Value::Null, Value::from),
            "read_revision" => facts.read_revision.into(),
            "storage_version" => text(facts.storage_version.as_deref()),
            "cluster_version" => text(facts.cluster_version.as_deref()),
            _ => Value::Null,
        };
        out.push((c.name, c.kind, v));
    }
    out
}

/// JSON Lines: one object per row.
pub struct JsonlSink<W: Write> {
    out: W,
    facts: SnapshotFacts,
    values: bool,
    decode: bool,
}

impl<W: Write> JsonlSink<W> {
    /// Starts writing to `out`.
    pub fn new(out: W, facts: SnapshotFacts, values: bool, decode: bool) -> JsonlSink<W> {
        JsonlSink {
            out,
            facts,
            values,
            decode,
        }
    }

    /// Writes a row.
    pub fn push(&mut self, r: &Row<'_>) -> Result<(), Error> {
        // Written member by member so the members keep the schema's column order.
        for (i, (name, _, v)) in cells(r, &self.facts, self.values, self.decode)
            .into_iter()
            .enumerate()
        {
            self.out.write_all(if i == 0 { b"{\"" } else { b",\"" })?;
            self.out.write_all(name.as_bytes())?;
            self.out.write_all(b"\":")?;
            serde_json::to_writer(&mut self.out, &v)?;
        }
        self.out.write_all(b"}\n")?;
        Ok(())
    }

    /// Flushes; returns the output.
    pub fn finish(mut self) -> Result<W, Error> {
        self.out.flush()?;
        Ok(self.out)
    }
}

/// CSV with a header line.
pub struct CsvSink<W: Write> {
    out: csv::Writer<W>,
    facts: SnapshotFacts,
    values: bool,
    decode: bool,
}

impl<W: Write> CsvSink<W> {
    /// Starts writing to `out` (the header first).
    pub fn new(
        out: W,
        facts: SnapshotFacts,
        values: bool,
        decode: bool,
    ) -> Result<CsvSink<W>, Error> {
        let mut out = csv::Writer::from_writer(out);
        out.write_record(schema::columns(values, decode).map(|c| c.name))?;
        Ok(CsvSink {
            out,
            facts,
            values,
            decode,
        })
    }

    /// Writes a row.
    pub fn push(&mut self, r: &Row<'_>) -> Result<(), Error> {
        let fields = cells(r, &self.facts, self.values, self.decode)
            .into_iter()
            .map(|(_, kind, v)| match v {
                Value::Null => String::new(),
                Value::String(s) => s,
                Value::Bool(b) => b.to_string(),
                Value::Number(n) => n.to_string(),
                other => {
                    debug_assert!(matches!(kind, Kind::TextMap | Kind::Text));
                    other.to_string()
                }
            });
        self.out.write_record(fields)?;
        Ok(())
    }

    /// Flushes; returns the output.
    pub fn finish(self) -> Result<W, Error> {
        self.out
            .into_inner()
            .map_err(|e| Error::Io(std::io::Error::other(e.to_string())))
    }
}
