//! The Parquet writer: rows into Arrow builders, a record batch every few MiB, a row group
//! every [`Limits::row_group_bytes`] of encoded data.
//!
//! Memory stays bounded whatever the snapshot's size: the builders hold at most one batch
//! ([`Limits::batch_bytes`]), and the `ArrowWriter` holds the encoded pages of the row group
//! in progress until it is flushed to the file. Snappy (pure Rust, read by DuckDB, Spark,
//! Trino, pandas/pyarrow) compresses every column; dictionary encoding is on for the columns
//! that repeat (snapshot facts, resources, namespaces, kinds, label keys) and off for keys,
//! values and the decoded documents, which are nearly all distinct. Min/max statistics are
//! kept for the revision columns (row-group pruning on `revision`, `mod_revision`) and off for
//! the values.

use std::io::Write;
use std::sync::Arc;

use arrow_array::builder::{
    BinaryBuilder, BooleanBuilder, Int64Builder, MapBuilder, MapFieldNames, StringBuilder,
    TimestampMicrosecondBuilder,
};
use arrow_array::{ArrayRef, Int64Array, RecordBatch, StringArray};
use arrow_schema::SchemaRef;
use parquet::arrow::ArrowWriter;
use parquet::basic::Compression;
use parquet::file::metadata::KeyValue;
use parquet::file::properties::{EnabledStatistics, WriterProperties};
use parquet::schema::types::ColumnPath;

use crate::row::Row;
use crate::schema::{self, COLUMNS, Presence};
use crate::{Error, SnapshotFacts};

/// Size bounds of the writer.
#[derive(Debug, Clone, Copy)]
pub struct Limits {
    /// Rows per record batch at most.
    pub batch_rows: usize,
    /// Bytes of keys, values and decoded text per record batch at most (about).
    pub batch_bytes: usize,
    /// Encoded bytes of a row group at most (about): the row group is closed past it.
    pub row_group_bytes: usize,
    /// Rows of a row group at most.
    pub row_group_rows: usize,
}

impl Default for Limits {
    fn default() -> Limits {
        Limits {
            batch_rows: 8192,
            batch_bytes: 8 << 20,
            row_group_bytes: 64 << 20,
            row_group_rows: 1 << 20,
        }
    }
}

/// Writes rows as Parquet.
pub struct ParquetSink<W: Write + Send> {
    writer: ArrowWriter<W>,
    schema: SchemaRef,
    b: Builders,
    values: bool,
    decode: bool,
    facts: SnapshotFacts,
    limits: Limits,
    batch_rows: usize,
    batch_bytes: usize,
}

struct Builders {
    key: BinaryBuilder,
    key_text: StringBuilder,
    ints: [Int64Builder; 7],
    hash: Int64Builder,
    tombstone: BooleanBuilder,
    value: BinaryBuilder,
    texts: [StringBuilder; 13],
    creation: TimestampMicrosecondBuilder,
    labels: MapBuilder<StringBuilder, StringBuilder>,
    decoded: StringBuilder,
}

impl Builders {
    fn new() -> Builders {
        Builders {
            key: BinaryBuilder::new(),
            key_text: StringBuilder::new(),
            ints: std::array::from_fn(|_| Int64Builder::new()),
            hash: Int64Builder::new(),
            tombstone: BooleanBuilder::new(),
            value: BinaryBuilder::new(),
            texts: std::array::from_fn(|_| StringBuilder::new()),
            creation: TimestampMicrosecondBuilder::new().with_timezone("UTC"),
            labels: MapBuilder::new(
                Some(MapFieldNames {
                    entry: "key_value".into(),
                    key: "key".into(),
                    value: "value".into(),
                }),
                StringBuilder::new(),
                StringBuilder::new(),
            ),
            decoded: StringBuilder::new(),
        }
    }
}

/// Columns whose values are nearly all distinct: no dictionary, no statistics for the large
/// ones.
const DISTINCT: &[&str] = &["key", "key_text", "value", "uid", "decoded"];

impl<W: Write + Send> ParquetSink<W> {
    /// Starts a file on `out`.
    pub fn new(
        out: W,
        facts: SnapshotFacts,
        values: bool,
        decode: bool,
        export_meta: String,
        limits: Limits,
    ) -> Result<ParquetSink<W>, Error> {
        let schema = Arc::new(schema::arrow_schema(values, decode));
        let mut props = WriterProperties::builder()
            .set_compression(Compression::SNAPPY)
            .set_dictionary_enabled(true)
            .set_statistics_enabled(EnabledStatistics::Chunk)
            .set_max_row_group_row_count(Some(limits.row_group_rows))
            .set_created_by(format!("etcdsnap {}", env!("CARGO_PKG_VERSION")))
            .set_key_value_metadata(Some(vec![
                KeyValue::new(
                    schema::META_SCHEMA_VERSION.into(),
                    schema::SCHEMA_VERSION.to_string(),
                ),
                KeyValue::new(
                    schema::META_COLUMNS.into(),
                    schema::columns_json(values, decode),
                ),
                KeyValue::new(schema::META_EXPORT.into(), export_meta),
            ]));
        for name in DISTINCT {
            let path = ColumnPath::from(*name);
            props = props.set_column_dictionary_enabled(path.clone(), false);
            if matches!(*name, "value" | "decoded") {
                props = props.set_column_statistics_enabled(path, EnabledStatistics::None);
            }
        }
        let writer = ArrowWriter::try_new(out, schema.clone(), Some(props.build()))?;
        Ok(ParquetSink {
            writer,
            schema,
            b: Builders::new(),
            values,
            decode,
            facts,
            limits,
            batch_rows: 0,
            batch_bytes: 0,
        })
    }

    /// Adds a row.
    pub fn push(&mut self, r: &Row<'_>) -> Result<(), Error> {
        let b = &mut self.b;
        b.key.append_value(r.key);
        b.key_text.append_option(std::str::from_utf8(r.key).ok());
        for (i, v) in [
            r.revision,
            r.sub_revision,
            r.create_revision,
            r.mod_revision,
            r.version,
            r.lease,
            r.value.len() as i64,
        ]
        .into_iter()
        .enumerate()
        {
            b.ints[i].append_value(v);
        }
        b.tombstone.append_value(r.tombstone);
        let mut bytes = r.key.len() * 2;
        if self.values {
            if r.tombstone {
                b.value.append_null();
            } else {
                b.value.append_value(r.value);
                bytes += r.value.len();
            }
        }
        b.hash
            .append_option((!r.tombstone).then(|| crate::row::value_hash(r.value)));
        let k = &r.kube;
        let texts: [Option<&str>; 13] = [
            k.group.as_deref(),
            k.resource.as_deref(),
            k.namespace.as_deref(),
            k.name.as_deref(),
            k.api_version.as_deref(),
            k.kind.as_deref(),
            k.encoding,
            k.encryption_provider,
            k.encryption_version,
            k.encryption_key_name,
            k.uid.as_deref(),
            k.owner_kind.as_deref(),
            k.owner_name.as_deref(),
        ];
        for (i, t) in texts.into_iter().enumerate() {
            b.texts[i].append_option(t);
        }
        b.creation.append_option(k.creation_micros);
        match &k.labels {
            Some(labels) => {
                for (lk, lv) in labels {
                    b.labels.keys().append_value(lk);
                    b.labels.values().append_value(lv);
                    bytes += lk.len() + lv.len();
                }
                b.labels.append(true)?;
            }
            None => b.labels.append(false)?,
        }
        if self.decode {
            match &r.decoded {
                Some(m) => {
                    let s = serde_json::to_string(m)?;
                    bytes += s.len();
                    b.decoded.append_value(s);
                }
                None => b.decoded.append_null(),
            }
        }
        self.batch_rows += 1;
        self.batch_bytes += bytes;
        if self.batch_rows >= self.limits.batch_rows || self.batch_bytes >= self.limits.batch_bytes
        {
            self.write_batch()?;
        }
        Ok(())
    }

    fn write_batch(&mut self) -> Result<(), Error> {
        if self.batch_rows == 0 {
            return Ok(());
        }
        let n = self.batch_rows;
        let b = &mut self.b;
        let f = &self.facts;
        let mut ints = b.ints.iter_mut().map(|i| Arc::new(i.finish()) as ArrayRef);
        let mut texts = b.texts.iter_mut().map(|t| Arc::new(t.finish()) as ArrayRef);
        let text_const = |s: Option<&str>| -> ArrayRef {
            Arc::new(StringArray::from_iter(std::iter::repeat_n(s, n)))
        };
        let int_const = |v: Option<i64>| -> ArrayRef {
            Arc::new(Int64Array::from_iter(std::iter::repeat_n(v, n)))
        };
        let mut arrays: Vec<ArrayRef> = Vec::with_capacity(COLUMNS.len());
        for c in COLUMNS {
            let a: ArrayRef = match c.name {
                "key" => Arc::new(b.key.finish()),
                "key_text" => Arc::new(b.key_text.finish()),
                "revision" | "sub_revision" | "create_revision" | "mod_revision" | "version"
                | "lease" | "value_size" => ints.next().ok_or(Error::Internal("ints"))?,
                "tombstone" => Arc::new(b.tombstone.finish()),
                "value" if self.values => {
                    // The next batch's values in one allocation of the batch's size, rather
                    // than a buffer doubled (and copied) a dozen times.
                    let cap = (self.limits.batch_bytes + (1 << 20)).max(self.batch_bytes);
                    let mut full = std::mem::replace(
                        &mut b.value,
                        BinaryBuilder::with_capacity(self.limits.batch_rows, cap),
                    );
                    Arc::new(full.finish())
                }
                "value" => continue,
                "value_xxh3" => Arc::new(b.hash.finish()),
                "k8s_group"
                | "k8s_resource"
                | "k8s_namespace"
                | "k8s_name"
                | "api_version"
                | "kind"
                | "encoding"
                | "encryption_provider"
                | "encryption_version"
                | "encryption_key_name"
                | "uid"
                | "owner_kind"
                | "owner_name" => texts.next().ok_or(Error::Internal("texts"))?,
                "creation_timestamp" => Arc::new(b.creation.finish()),
                "labels" => Arc::new(b.labels.finish()),
                "decoded" if self.decode => Arc::new(b.decoded.finish()),
                "decoded" => continue,
                "source_file" => text_const(Some(&f.source_file)),
                "source_size" => int_const(Some(f.source_size as i64)),
                "sha256_trailer" => text_const(f.sha256_trailer.as_deref()),
                "sha256_trailer_status" => text_const(Some(f.sha256_trailer_status)),
                "head_revision" => int_const(Some(f.head_revision)),
                "compact_revision" => int_const(f.compact_revision),
                "read_revision" => int_const(Some(f.read_revision)),
                "storage_version" => text_const(f.storage_version.as_deref()),
                "cluster_version" => text_const(f.cluster_version.as_deref()),
                _ => return Err(Error::Internal("a column without a builder")),
            };
            debug_assert!(c.presence != Presence::Decode || self.decode);
            arrays.push(a);
        }
        let batch = RecordBatch::try_new(self.schema.clone(), arrays)?;
        self.writer.write(&batch)?;
        self.batch_rows = 0;
        self.batch_bytes = 0;
        if self.writer.in_progress_size() >= self.limits.row_group_bytes {
            self.writer.flush()?;
        }
        Ok(())
    }

    /// Writes what is buffered and the footer; returns the output.
    pub fn finish(mut self) -> Result<W, Error> {
        self.write_batch()?;
        Ok(self.writer.into_inner()?)
    }
}
