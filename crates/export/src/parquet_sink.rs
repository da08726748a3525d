//! The Parquet writer: rows into Arrow arrays a batch at a time ([`BatchBuilder`]), batches
//! into row groups whose columns are encoded on two threads ([`ParquetSink`]).
//!
//! Why it is built this way (measured on a 1.5 GB snapshot of 4 KB values, docs/export.md):
//!
//! - **Two stages, two cores.** The batch builder (records decoded, Kubernetes metadata read,
//!   value bytes copied and hashed) runs on the thread that makes rows; the encoder receives
//!   finished batches. Its columns are encoded with the parquet crate's low-level
//!   [`ArrowColumnWriter`]s: the `value` column (most of the bytes: plain encoding, Snappy) on
//!   a worker thread of its own, every other column on the calling thread, so the encoding of
//!   one row group runs on both cores. The chunks are joined in schema order when the row
//!   group closes; the file does not depend on the number of threads.
//! - **Small value pages.** The value column is handed to its writer in slices of
//!   [`VALUE_SLICE_BYTES`] and its pages close at [`VALUE_PAGE_BYTES`]: every buffer a page
//!   passes through (encoding, Snappy) stays small enough to be reused by the allocator and to
//!   stay in cache, where pages of thousands of values (the crate's default of 1,024 values per
//!   check) cost fresh, zeroed memory from the kernel for every page.
//! - **Bounded memory.** A row group closes once the bytes of its rows (keys, values, labels,
//!   decoded documents, before encoding: at least what the encoded chunks hold) reach
//!   [`Limits::row_group_bytes`], or at [`Limits::row_group_rows`] rows; it is decided from
//!   the rows alone, so the boundaries are the same on one thread or two. What is held at once:
//!   the encoded chunks of one row group, and up to a dozen batches of [`Limits::batch_bytes`] in
//!   flight between the stages.
//! - Snappy (pure Rust, read by DuckDB, Spark, Trino, pandas/pyarrow) compresses every column;
//!   dictionary encoding is on for the columns that repeat (snapshot facts, resources,
//!   namespaces, kinds, label keys, revisions) and off for those nearly always distinct (keys,
//!   values, their hashes, uids, the decoded documents). Min/max statistics are kept per
//!   column chunk (row-group pruning on `revision`, `mod_revision`, keys), not for the values.

use std::io::Write;
use std::sync::mpsc::{Receiver, SyncSender, sync_channel};
use std::sync::{Arc, Mutex};
use std::thread::JoinHandle;

use arrow_array::builder::{
    ArrayBuilder, BinaryBuilder, BooleanBuilder, Int64Builder, MapBuilder, MapFieldNames,
    StringBuilder, TimestampMicrosecondBuilder,
};
use arrow_array::{Array, ArrayRef, Int64Array, StringArray};
use arrow_schema::{FieldRef, SchemaRef};
use bytes::Bytes;
use parquet::arrow::ArrowWriter;
use parquet::arrow::arrow_writer::{
    ArrowColumnChunk, ArrowColumnWriter, ArrowRowGroupWriterFactory, compute_leaves,
};
use parquet::basic::Compression;
use parquet::column::page_store::{
    InMemoryPageStoreFactory, PageKey, PageStore, PageStoreArgs, PageStoreFactory,
};
use parquet::errors::ParquetError;
use parquet::file::metadata::KeyValue;
use parquet::file::properties::{EnabledStatistics, WriterProperties};
use parquet::file::writer::SerializedFileWriter;
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
    /// Bytes of the rows of a row group (keys, values, labels, decoded text) at most (about):
    /// the row group is closed past it. The encoded chunks held until then are at most this.
    pub row_group_bytes: usize,
    /// Rows of a row group at most.
    pub row_group_rows: usize,
}

impl Default for Limits {
    fn default() -> Limits {
        Limits {
            batch_rows: 8192,
            batch_bytes: 1 << 20,
            row_group_bytes: 32 << 20,
            row_group_rows: 1 << 20,
        }
    }
}

/// Bytes of values handed to the value column's writer at once (its page-size check runs
/// after each hand-over).
pub const VALUE_SLICE_BYTES: usize = 128 << 10;
/// Page size of the value column (and of the decoded documents).
pub const VALUE_PAGE_BYTES: usize = 192 << 10;

/// Columns whose values are nearly all distinct: no dictionary (a dictionary of distinct
/// values is built, overflows and is thrown away: work for nothing).
const DISTINCT: &[&str] = &["key", "key_text", "value", "value_xxh3", "uid", "decoded"];
/// Columns without min/max statistics (large and never filtered by range).
const NO_STATS: &[&str] = &["value", "decoded"];

/// The per-row columns of some rows as Arrow arrays, in schema order (the snapshot columns
/// included, as slices of constant arrays).
#[derive(Debug)]
pub struct Batch {
    columns: Vec<Col>,
    rows: usize,
    bytes: usize,
}

impl Batch {
    /// Rows in the batch.
    pub fn rows(&self) -> usize {
        self.rows
    }

    /// Rows `offset..offset + len` (zero-copy).
    fn slice(&self, offset: usize, len: usize, bytes: usize) -> Batch {
        Batch {
            columns: self.columns.iter().map(|c| c.slice(offset, len)).collect(),
            rows: len,
            bytes,
        }
    }
}

/// A column of a batch: one array, or (the values) consecutive arrays of about
/// [`VALUE_SLICE_BYTES`] each, built that size so that no buffer of the batch is large.
#[derive(Debug)]
enum Col {
    One(ArrayRef),
    Parts(Vec<ArrayRef>),
}

impl Col {
    fn slice(&self, offset: usize, len: usize) -> Col {
        match self {
            Col::One(a) => Col::One(a.slice(offset, len)),
            Col::Parts(parts) => {
                let mut out = Vec::new();
                let mut at = 0;
                for p in parts {
                    let (lo, hi) = (at, at + p.len());
                    at = hi;
                    let (from, to) = (lo.max(offset), hi.min(offset + len));
                    if from < to {
                        out.push(p.slice(from - lo, to - from));
                    }
                }
                Col::Parts(out)
            }
        }
    }
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

/// Rows into [`Batch`]es of at most [`Limits::batch_rows`] rows / about
/// [`Limits::batch_bytes`] bytes.
pub struct BatchBuilder {
    b: Builders,
    /// Finished parts of the value column, and the bytes in the part being built.
    value_parts: Vec<ArrayRef>,
    value_open: usize,
    values: bool,
    decode: bool,
    limits: Limits,
    rows: usize,
    bytes: usize,
    /// The snapshot columns, `batch_rows` long, sliced for each batch (built once).
    facts: Vec<(&'static str, ArrayRef)>,
}

impl BatchBuilder {
    /// A builder for the schema of `values`/`decode`.
    pub fn new(facts: &SnapshotFacts, values: bool, decode: bool, limits: Limits) -> BatchBuilder {
        let n = limits.batch_rows.max(1);
        let text = |s: Option<&str>| -> ArrayRef {
            Arc::new(StringArray::from_iter(std::iter::repeat_n(s, n)))
        };
        let int = |v: Option<i64>| -> ArrayRef {
            Arc::new(Int64Array::from_iter(std::iter::repeat_n(v, n)))
        };
        let f = facts;
        let facts = vec![
            ("source_file", text(Some(&f.source_file))),
            ("source_size", int(Some(f.source_size as i64))),
            ("sha256_trailer", text(f.sha256_trailer.as_deref())),
            ("sha256_trailer_status", text(Some(f.sha256_trailer_status))),
            ("head_revision", int(Some(f.head_revision))),
            ("compact_revision", int(f.compact_revision)),
            ("read_revision", int(Some(f.read_revision))),
            ("storage_version", text(f.storage_version.as_deref())),
            ("cluster_version", text(f.cluster_version.as_deref())),
        ];
        let mut b = Builders::new();
        if values {
            b.value = value_builder();
        }
        BatchBuilder {
            b,
            value_parts: Vec::new(),
            value_open: 0,
            values,
            decode,
            limits: Limits {
                batch_rows: n,
                ..limits
            },
            rows: 0,
            bytes: 0,
            facts,
        }
    }

    /// Adds a row; returns a batch when one is full.
    pub fn push(&mut self, r: &Row<'_>) -> Result<Option<Batch>, Error> {
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
        b.hash.append_option(r.value_xxh3);
        if self.values && r.tombstone {
            b.value.append_null();
        } else if self.values {
            b.value.append_value(r.value);
            bytes += r.value.len();
            self.value_open += r.value.len();
            if self.value_open >= VALUE_SLICE_BYTES {
                let mut full = std::mem::replace(&mut b.value, value_builder());
                self.value_parts.push(Arc::new(full.finish()));
                self.value_open = 0;
            }
        }
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
        self.rows += 1;
        self.bytes += bytes;
        if self.rows >= self.limits.batch_rows || self.bytes >= self.limits.batch_bytes {
            return self.take().map(Some);
        }
        Ok(None)
    }

    /// The rows added since the last batch, if any.
    pub fn flush(&mut self) -> Result<Option<Batch>, Error> {
        if self.rows == 0 {
            return Ok(None);
        }
        self.take().map(Some)
    }

    fn take(&mut self) -> Result<Batch, Error> {
        let n = self.rows;
        let b = &mut self.b;
        let mut ints = b.ints.iter_mut().map(|i| Arc::new(i.finish()) as ArrayRef);
        let mut texts = b.texts.iter_mut().map(|t| Arc::new(t.finish()) as ArrayRef);
        let mut facts = self.facts.iter();
        let mut columns: Vec<Col> = Vec::with_capacity(COLUMNS.len());
        for c in COLUMNS {
            let a: ArrayRef = match c.name {
                "key" => Arc::new(b.key.finish()),
                "key_text" => Arc::new(b.key_text.finish()),
                "revision" | "sub_revision" | "create_revision" | "mod_revision" | "version"
                | "lease" | "value_size" => ints.next().ok_or(Error::Internal("ints"))?,
                "tombstone" => Arc::new(b.tombstone.finish()),
                "value" if self.values => {
                    let mut parts = std::mem::take(&mut self.value_parts);
                    if !b.value.is_empty() {
                        let mut open = std::mem::replace(&mut b.value, value_builder());
                        parts.push(Arc::new(open.finish()));
                        self.value_open = 0;
                    }
                    columns.push(Col::Parts(parts));
                    continue;
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
                name => match facts.next() {
                    Some((fname, a)) if *fname == name => a.slice(0, n),
                    _ => return Err(Error::Internal("a column without a builder")),
                },
            };
            debug_assert!(c.presence != Presence::Decode || self.decode);
            columns.push(Col::One(a));
        }
        let batch = Batch {
            columns,
            rows: n,
            bytes: self.bytes,
        };
        self.rows = 0;
        self.bytes = 0;
        Ok(batch)
    }
}

/// A builder for one part of the value column: [`VALUE_SLICE_BYTES`] and the value that
/// crosses it, in one allocation small enough to be reused at once by the allocator (a
/// buffer of megabytes is returned to the kernel, then zeroed again by it, and counts as
/// heap until then).
fn value_builder() -> BinaryBuilder {
    BinaryBuilder::with_capacity(256, VALUE_SLICE_BYTES + (32 << 10))
}

/// Writes batches (or rows) as Parquet.
pub struct ParquetSink<W: Write + Send> {
    file: SerializedFileWriter<W>,
    factory: ArrowRowGroupWriterFactory,
    schema: SchemaRef,
    builder: BatchBuilder,
    limits: Limits,
    /// The writers of the row group in progress (every leaf but the value column's), in
    /// schema order; empty between row groups.
    local: Vec<ArrowColumnWriter>,
    /// The value column: its field, its leaf position, and who encodes it.
    value: Option<(FieldRef, usize, ValueEncoder)>,
    row_groups: usize,
    rg_rows: usize,
    rg_bytes: usize,
}

/// Who encodes the value column.
enum ValueEncoder {
    /// This thread.
    Inline(Option<Box<ArrowColumnWriter>>),
    /// A worker thread.
    Worker(Worker),
}

impl<W: Write + Send> ParquetSink<W> {
    /// Starts a file on `out`; with `parallel`, the value column is encoded on a thread of
    /// its own.
    pub fn new(
        out: W,
        facts: SnapshotFacts,
        values: bool,
        decode: bool,
        export_meta: String,
        limits: Limits,
        parallel: bool,
    ) -> Result<ParquetSink<W>, Error> {
        let schema = Arc::new(schema::arrow_schema(values, decode));
        let mut props = WriterProperties::builder()
            .set_compression(Compression::SNAPPY)
            .set_dictionary_enabled(true)
            .set_statistics_enabled(EnabledStatistics::Chunk)
            .set_max_row_group_row_count(Some(limits.row_group_rows.max(1)))
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
            props = props.set_column_dictionary_enabled(ColumnPath::from(*name), false);
        }
        for name in NO_STATS {
            props = props
                .set_column_statistics_enabled(ColumnPath::from(*name), EnabledStatistics::None);
            props =
                props.set_column_data_page_size_limit(ColumnPath::from(*name), VALUE_PAGE_BYTES);
        }
        // The Arrow writer converts the schema and embeds it (ARROW:schema) as it always
        // does; its lower-level parts then write the row groups.
        let (file, factory) = ArrowWriter::try_new(out, schema.clone(), Some(props.build()))?
            .into_serialized_writer()?;
        let factory = factory.with_page_store_factory(Arc::new(PooledPages::default()));
        let value = match schema.fields().iter().position(|f| f.name() == "value") {
            Some(i) => {
                let field = schema.fields()[i].clone();
                // Leaves before it: one per column, two for the labels map.
                let leaf = schema.fields()[..i]
                    .iter()
                    .map(|f| leaf_count(f.data_type()))
                    .sum();
                let enc = if parallel {
                    ValueEncoder::Worker(Worker::spawn(field.clone())?)
                } else {
                    ValueEncoder::Inline(None)
                };
                Some((field, leaf, enc))
            }
            None => None,
        };
        Ok(ParquetSink {
            file,
            factory,
            builder: BatchBuilder::new(&facts, values, decode, limits),
            schema,
            limits,
            local: Vec::new(),
            value,
            row_groups: 0,
            rg_rows: 0,
            rg_bytes: 0,
        })
    }

    /// Adds a row (batches are built here; see [`BatchBuilder`] to build them elsewhere).
    pub fn push(&mut self, r: &Row<'_>) -> Result<(), Error> {
        if let Some(batch) = self.builder.push(r)? {
            self.write(batch)?;
        }
        Ok(())
    }

    /// Writes a batch (of a [`BatchBuilder`] for the same schema and facts).
    pub fn write(&mut self, batch: Batch) -> Result<(), Error> {
        let mut batch = batch;
        loop {
            let room = self.limits.row_group_rows.max(1) - self.rg_rows;
            if batch.rows <= room {
                return self.write_part(batch);
            }
            // Split at the row group's row bound (zero-copy slices).
            let share = batch.bytes * room / batch.rows;
            let head = batch.slice(0, room, share);
            let rest = batch.slice(room, batch.rows - room, batch.bytes - share);
            self.write_part(head)?;
            batch = rest;
        }
    }

    fn write_part(&mut self, batch: Batch) -> Result<(), Error> {
        if batch.rows == 0 {
            return Ok(());
        }
        if self.local.is_empty() {
            self.start_row_group()?;
        }
        let mut local = self.local.iter_mut();
        for (field, col) in self.schema.fields().iter().zip(batch.columns) {
            match (&mut self.value, col) {
                (Some((vf, _, enc)), Col::Parts(parts)) if vf.name() == field.name() => match enc {
                    ValueEncoder::Inline(Some(w)) => write_values(w, vf, &parts)?,
                    ValueEncoder::Inline(None) => return Err(Error::Internal("value writer")),
                    ValueEncoder::Worker(worker) => worker.send(Job::Write(parts))?,
                },
                (_, Col::One(array)) => {
                    for leaf in compute_leaves(field, &array)? {
                        local
                            .next()
                            .ok_or(Error::Internal("a leaf without a writer"))?
                            .write(&leaf)?;
                    }
                }
                (_, Col::Parts(_)) => return Err(Error::Internal("value parts")),
            }
        }
        self.rg_rows += batch.rows;
        self.rg_bytes += batch.bytes;
        if self.rg_rows >= self.limits.row_group_rows
            || self.rg_bytes >= self.limits.row_group_bytes
        {
            self.close_row_group()?;
        }
        Ok(())
    }

    fn start_row_group(&mut self) -> Result<(), Error> {
        let mut writers = self.factory.create_column_writers(self.row_groups)?;
        if let Some((_, leaf, enc)) = &mut self.value {
            let w = writers.remove(*leaf);
            match enc {
                ValueEncoder::Inline(slot) => *slot = Some(Box::new(w)),
                ValueEncoder::Worker(worker) => worker.send(Job::Start(Box::new(w)))?,
            }
        }
        self.local = writers;
        Ok(())
    }

    fn close_row_group(&mut self) -> Result<(), Error> {
        if self.local.is_empty() {
            return Ok(());
        }
        let mut chunks = std::mem::take(&mut self.local)
            .into_iter()
            .map(|w| w.close())
            .collect::<Result<Vec<ArrowColumnChunk>, ParquetError>>()?;
        if let Some((_, leaf, enc)) = &mut self.value {
            let chunk = match enc {
                ValueEncoder::Inline(slot) => slot
                    .take()
                    .ok_or(Error::Internal("value writer"))?
                    .close()?,
                ValueEncoder::Worker(worker) => worker.close()?,
            };
            chunks.insert(*leaf, chunk);
        }
        let mut rg = self.file.next_row_group()?;
        for c in chunks {
            c.append_to_row_group(&mut rg)?;
        }
        rg.close()?;
        self.row_groups += 1;
        self.rg_rows = 0;
        self.rg_bytes = 0;
        Ok(())
    }

    /// Writes what is buffered and the footer; returns the output.
    pub fn finish(mut self) -> Result<W, Error> {
        if let Some(batch) = self.builder.flush()? {
            self.write(batch)?;
        }
        self.close_row_group()?;
        if let Some((_, _, ValueEncoder::Worker(worker))) = self.value.take() {
            worker.stop()?;
        }
        Ok(self.file.into_inner()?)
    }
}

/// Parquet leaves of an Arrow type (the schema's types: a map has two).
fn leaf_count(t: &arrow_schema::DataType) -> usize {
    match t {
        arrow_schema::DataType::Map(entries, _) => match entries.data_type() {
            arrow_schema::DataType::Struct(fields) => {
                fields.iter().map(|f| leaf_count(f.data_type())).sum()
            }
            _ => 1,
        },
        _ => 1,
    }
}

/// Writes the parts of the value column; its page-size check runs after each, so pages
/// close near [`VALUE_PAGE_BYTES`] whatever the size of the values.
fn write_values(
    w: &mut ArrowColumnWriter,
    field: &FieldRef,
    parts: &[ArrayRef],
) -> Result<(), Error> {
    for part in parts {
        for leaf in compute_leaves(field, part)? {
            w.write(&leaf)?;
        }
    }
    Ok(())
}

/// What the value column's thread is asked to do.
enum Job {
    /// Start a row group with this writer.
    Start(Box<ArrowColumnWriter>),
    /// Encode these values.
    Write(Vec<ArrayRef>),
    /// Close the row group's chunk and send it back.
    Close,
}

/// The value column's thread: jobs in (a few at a time: the memory bound), chunks out.
struct Worker {
    jobs: Option<SyncSender<Job>>,
    chunks: Receiver<Result<ArrowColumnChunk, Error>>,
    handle: Option<JoinHandle<()>>,
}

impl Worker {
    fn spawn(field: FieldRef) -> Result<Worker, Error> {
        let (jobs, rx) = sync_channel::<Job>(6);
        let (tx, chunks) = sync_channel(1);
        let handle = std::thread::Builder::new()
            .name("export-values".into())
            .spawn(move || {
                let mut writer: Option<Box<ArrowColumnWriter>> = None;
                let mut failed: Option<Error> = None;
                for job in rx {
                    match job {
                        Job::Start(w) => {
                            writer = Some(w);
                            failed = None;
                        }
                        Job::Write(a) => {
                            if failed.is_none()
                                && let Some(w) = writer.as_mut()
                                && let Err(e) = write_values(w, &field, &a)
                            {
                                failed = Some(e);
                            }
                        }
                        Job::Close => {
                            let r = match (failed.take(), writer.take()) {
                                (Some(e), _) => Err(e),
                                (None, Some(w)) => w.close().map_err(Error::from),
                                (None, None) => Err(Error::Internal("value writer")),
                            };
                            if tx.send(r).is_err() {
                                return;
                            }
                        }
                    }
                }
            })?;
        Ok(Worker {
            jobs: Some(jobs),
            chunks,
            handle: Some(handle),
        })
    }

    fn send(&self, job: Job) -> Result<(), Error> {
        self.jobs
            .as_ref()
            .and_then(|j| j.send(job).ok())
            .ok_or(Error::Internal("the value column's thread ended"))
    }

    fn close(&self) -> Result<ArrowColumnChunk, Error> {
        self.send(Job::Close)?;
        self.chunks
            .recv()
            .map_err(|_| Error::Internal("the value column's thread ended"))?
    }

    fn stop(mut self) -> Result<(), Error> {
        self.jobs = None;
        match self.handle.take().map(JoinHandle::join) {
            Some(Err(_)) => Err(Error::Internal("the value column's thread panicked")),
            _ => Ok(()),
        }
    }
}

impl Drop for Worker {
    fn drop(&mut self) {
        // Closing the job channel ends the thread's loop.
        self.jobs = None;
        if let Some(h) = self.handle.take() {
            let _ = h.join();
        }
    }
}

/// Where the encoded pages of a row group wait until it is written: the value column's (and
/// the decoded documents') in large chunks reused from one row group to the next, every
/// other column's as the parquet crate keeps them.
///
/// Pages are made in many short-lived buffers (encoding, compression); kept as they come, the
/// ones of a row group stay scattered among those buffers' freed memory until the row group
/// is written, and the heap grows far beyond the row group. Copied into a chunk as each is
/// made (a copy of a few hundred KiB that is still in cache), the buffers are freed at once
/// and reused for the next page, and the chunks are the row group's only memory.
#[derive(Debug, Default)]
struct PooledPages {
    free: Arc<Mutex<Vec<Vec<u8>>>>,
}

/// Bytes of a pooled chunk.
const CHUNK_BYTES: usize = 4 << 20;

impl PageStoreFactory for PooledPages {
    fn create(&self, args: &PageStoreArgs<'_>) -> parquet::errors::Result<Box<dyn PageStore>> {
        let name = args.column_descriptor().path().string();
        if NO_STATS.contains(&name.as_str()) {
            Ok(Box::new(PooledStore {
                pool: self.free.clone(),
                filling: Vec::new(),
                shared: Vec::new(),
                pages: Vec::new(),
            }))
        } else {
            InMemoryPageStoreFactory.create(args)
        }
    }
}

/// One column chunk's pages in pooled chunks (see [`PooledPages`]).
struct PooledStore {
    pool: Arc<Mutex<Vec<Vec<u8>>>>,
    /// Chunks being filled (while pages are put).
    filling: Vec<Vec<u8>>,
    /// The same chunks once pages are taken (shared with the page bytes handed out).
    shared: Vec<Arc<Vec<u8>>>,
    pages: Vec<Stored>,
}

enum Stored {
    /// In chunk `.0`, bytes `.1`.
    Pooled(usize, std::ops::Range<usize>),
    /// Larger than a chunk's half: kept as it came.
    Own(Bytes),
    Taken,
}

/// A page handed out of a pooled chunk.
struct PoolSlice(Arc<Vec<u8>>, std::ops::Range<usize>);

impl AsRef<[u8]> for PoolSlice {
    fn as_ref(&self) -> &[u8] {
        &self.0[self.1.clone()]
    }
}

impl PageStore for PooledStore {
    fn put(&mut self, value: Bytes) -> parquet::errors::Result<PageKey> {
        let key = PageKey::new(self.pages.len() as u64);
        if value.len() > CHUNK_BYTES / 2 || !self.shared.is_empty() {
            self.pages.push(Stored::Own(value));
            return Ok(key);
        }
        let room = self
            .filling
            .last()
            .is_some_and(|c| c.capacity() - c.len() >= value.len());
        if !room {
            let chunk = self
                .pool
                .lock()
                .ok()
                .and_then(|mut p| p.pop())
                .unwrap_or_else(|| Vec::with_capacity(CHUNK_BYTES));
            self.filling.push(chunk);
        }
        let idx = self.filling.len() - 1;
        let chunk = &mut self.filling[idx];
        let start = chunk.len();
        chunk.extend_from_slice(&value);
        self.pages.push(Stored::Pooled(idx, start..chunk.len()));
        Ok(key)
    }

    fn take(&mut self, key: PageKey) -> parquet::errors::Result<Bytes> {
        if !self.filling.is_empty() {
            self.shared = std::mem::take(&mut self.filling)
                .into_iter()
                .map(Arc::new)
                .collect();
        }
        let slot = self
            .pages
            .get_mut(key.get() as usize)
            .ok_or_else(|| ParquetError::General(format!("invalid page key {}", key.get())))?;
        match std::mem::replace(slot, Stored::Taken) {
            Stored::Pooled(idx, range) => {
                let chunk = self.shared[idx].clone();
                Ok(Bytes::from_owner(PoolSlice(chunk, range)))
            }
            Stored::Own(b) => Ok(b),
            Stored::Taken => Err(ParquetError::General(format!(
                "page {} taken twice",
                key.get()
            ))),
        }
    }

    fn memory_size(&self) -> usize {
        let chunks: usize = self.filling.iter().map(Vec::len).sum::<usize>()
            + self.shared.iter().map(|c| c.len()).sum::<usize>();
        chunks
            + self
                .pages
                .iter()
                .map(|p| match p {
                    Stored::Own(b) => b.len(),
                    _ => 0,
                })
                .sum::<usize>()
    }
}

impl Drop for PooledStore {
    fn drop(&mut self) {
        // Back to the pool: the chunks whose pages have all been written (and dropped).
        let chunks = std::mem::take(&mut self.filling).into_iter().chain(
            std::mem::take(&mut self.shared)
                .into_iter()
                .filter_map(|c| Arc::try_unwrap(c).ok()),
        );
        if let Ok(mut pool) = self.pool.lock() {
            for mut c in chunks {
                c.clear();
                pool.push(c);
            }
        }
    }
}
