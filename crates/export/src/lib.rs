//! etcd snapshots as tables: Parquet, JSON Lines and CSV that DuckDB, pandas, Spark and Trino
//! read directly.
//!
//! Every report of etcdsnap answers a question someone foresaw; an export lets its users ask
//! the others in the engine they already run, over one snapshot or a fleet of them. This crate
//! turns the keyspace at a revision (or every stored revision, with `history`) into rows of
//! one documented, versioned schema ([`schema`]), with the Kubernetes object each value holds
//! described in columns ([`row`]), and streams them to a writer ([`parquet_sink`],
//! [`text_sink`]). It holds the project's heavy dependencies (arrow, parquet, csv) so the core
//! crates stay lean; it never prints and never sees the command line. [`output`] writes files
//! the safe way (a temporary name renamed when complete, existing files refused unless
//! forced) and lays out Hive-style datasets.
//!
//! Memory: rows are produced in key order from the keyspace or the revision index (both small
//! per key: a key's entries borrow the mapped file) and leave through a writer whose buffers are
//! bounded by a row group ([`parquet_sink::Limits`]), whatever the snapshot's size.

pub mod output;
pub mod parquet_sink;
pub mod row;
pub mod schema;
pub mod text_sink;

use std::io::Write;

use etcdsnap_mvcc::index::Rev;
use etcdsnap_mvcc::keyspace::{self, ScanOptions, resolve_read};
use etcdsnap_mvcc::snapshot::buckets;
use etcdsnap_mvcc::{KeyRange, RevIndex, Snapshot};
use sha2::{Digest, Sha256};

use crate::parquet_sink::{BatchBuilder, Limits, ParquetSink};
use crate::row::{Row, RowOptions};
use crate::text_sink::{CsvSink, JsonlSink};

/// What can go wrong.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// Reading the snapshot failed (damaged file, revision compacted or in the future, ...).
    #[error(transparent)]
    Snapshot(#[from] etcdsnap_mvcc::Error),
    /// Writing failed.
    #[error("{0}")]
    Io(#[from] std::io::Error),
    /// The Parquet writer refused.
    #[error("parquet: {0}")]
    Parquet(#[from] parquet::errors::ParquetError),
    /// Arrow refused a batch.
    #[error("arrow: {0}")]
    Arrow(#[from] arrow_schema::ArrowError),
    /// The CSV writer refused.
    #[error("csv: {0}")]
    Csv(#[from] csv::Error),
    /// JSON serialization failed.
    #[error("json: {0}")]
    Json(#[from] serde_json::Error),
    /// A bug: the schema and the writer disagree.
    #[error("internal error: {0}")]
    Internal(&'static str),
}

/// Output formats.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Format {
    /// Apache Parquet (Snappy).
    Parquet,
    /// JSON Lines.
    Jsonl,
    /// CSV with a header.
    Csv,
}

impl Format {
    /// The format a file name implies: `.parquet`/`.pq`, `.jsonl`/`.ndjson`/`.json`, `.csv`.
    pub fn from_path(path: &std::path::Path) -> Option<Format> {
        let ext = path.extension()?.to_str()?.to_ascii_lowercase();
        match ext.as_str() {
            "parquet" | "pq" => Some(Format::Parquet),
            "jsonl" | "ndjson" | "json" => Some(Format::Jsonl),
            "csv" => Some(Format::Csv),
            _ => None,
        }
    }

    /// The usual extension.
    pub fn extension(self) -> &'static str {
        match self {
            Format::Parquet => "parquet",
            Format::Jsonl => "jsonl",
            Format::Csv => "csv",
        }
    }
}

/// What the rows are read from and how.
#[derive(Debug, Clone)]
pub struct ExportConfig {
    /// Output format.
    pub format: Format,
    /// Revision to read (0 = the newest); with `history`, the newest revision included.
    pub rev: i64,
    /// Every stored revision (puts and tombstones) instead of the live keys.
    pub history: bool,
    /// The keys.
    pub range: KeyRange,
    /// Write the `value` column.
    pub values: bool,
    /// Write the `decoded` column.
    pub decode: bool,
    /// Show Secret payloads in `decoded`.
    pub show_secrets: bool,
    /// The API server's `--etcd-prefix`, for the Kubernetes columns.
    pub etcd_prefix: String,
    /// Threads for the scan of the key bucket.
    pub threads: usize,
    /// The `source_file` column (the file name as the user knows it).
    pub source_name: String,
    /// Verify the sha256 trailer (a second read of the whole file, on its own thread).
    pub verify_trailer: bool,
    /// Parquet size bounds.
    pub limits: Limits,
}

impl ExportConfig {
    /// Every live key at the newest revision, with values, as Parquet.
    pub fn new(source_name: impl Into<String>) -> ExportConfig {
        ExportConfig {
            format: Format::Parquet,
            rev: 0,
            history: false,
            range: KeyRange::all(),
            values: true,
            decode: false,
            show_secrets: false,
            etcd_prefix: etcdsnap_k8s::key::DEFAULT_PREFIX.into(),
            threads: 1,
            source_name: source_name.into(),
            verify_trailer: false,
            limits: Limits::default(),
        }
    }
}

/// The columns that describe the snapshot (the same on every row).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SnapshotFacts {
    /// File name.
    pub source_file: String,
    /// File size.
    pub source_size: u64,
    /// The trailer's digest (hex), if the file has one.
    pub sha256_trailer: Option<String>,
    /// `absent`, `unchecked`, `ok` or `mismatch`.
    pub sha256_trailer_status: &'static str,
    /// Current revision.
    pub head_revision: i64,
    /// Compaction revision, if any.
    pub compact_revision: Option<i64>,
    /// The revision read.
    pub read_revision: i64,
    /// meta/storageVersion.
    pub storage_version: Option<String>,
    /// cluster/clusterVersion.
    pub cluster_version: Option<String>,
}

/// What an export wrote.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Summary {
    /// Rows written.
    pub rows: u64,
    /// Bytes of values in those rows.
    pub value_bytes: u64,
    /// The snapshot columns.
    pub facts: SnapshotFacts,
}

/// The sha256 trailer of `etcdctl snapshot save`: its digest (hex) when present, and
/// `absent`, `unchecked` (present; `verify` false), `ok` or `mismatch`. Verifying reads the
/// whole file: on a 1.5 GB snapshot it costs more than the rest of a `--no-values` export.
pub fn trailer_status(snap: &Snapshot, verify: bool) -> (Option<String>, &'static str) {
    let db = snap.db();
    let Some(t) = db.trailer() else {
        return (None, "absent");
    };
    let digest: String = t.digest.iter().map(|b| format!("{b:02x}")).collect();
    if !verify {
        return (Some(digest), "unchecked");
    }
    let mut hasher = Sha256::new();
    db.source()
        .for_each_piece(t.offset as usize, |p| hasher.update(p));
    let status = if hasher.finalize()[..] == t.digest[..] {
        "ok"
    } else {
        "mismatch"
    };
    (Some(digest), status)
}

/// Where the rows go.
enum Sink<W: Write + Send> {
    Parquet(Box<ParquetSink<W>>),
    Jsonl(JsonlSink<W>),
    Csv(Box<CsvSink<W>>),
}

impl<W: Write + Send> Sink<W> {
    fn take(&mut self, work: Work<'_>) -> Result<(), Error> {
        match (self, work) {
            (Sink::Parquet(s), Work::Batch(b)) => s.write(b),
            (Sink::Parquet(s), Work::Rows(rows)) => rows.iter().try_for_each(|r| s.push(r)),
            (Sink::Jsonl(s), Work::Rows(rows)) => rows.iter().try_for_each(|r| s.push(r)),
            (Sink::Csv(s), Work::Rows(rows)) => rows.iter().try_for_each(|r| s.push(r)),
            (_, Work::Batch(_)) => Err(Error::Internal("a batch for a text writer")),
        }
    }

    fn finish(self) -> Result<W, Error> {
        match self {
            Sink::Parquet(s) => s.finish(),
            Sink::Jsonl(s) => s.finish(),
            Sink::Csv(s) => s.finish(),
        }
    }
}

/// What the making stage hands to the writing one: rows (text formats), or Arrow batches
/// built from them (Parquet: the arrays are built beside the rows, on the making thread).
enum Work<'a> {
    Rows(Vec<Row<'a>>),
    Batch(parquet_sink::Batch),
}

/// Exports `snap` as `cfg` says to `out`, and returns `out` (flushed) with a summary. On an
/// error, what was written to `out` is incomplete: write to a temporary file
/// ([`output::AtomicFile`]) and drop it.
pub fn export<W: Write + Send>(
    snap: &Snapshot,
    cfg: &ExportConfig,
    out: W,
) -> Result<(W, Summary), Error> {
    let store = snap.revisions()?;
    let at = resolve_read(&store, cfg.rev)?;
    let meta = snap.meta_info()?;
    let text = |b: &[u8]| String::from_utf8_lossy(b).into_owned();
    let cluster_version = snap.get(buckets::CLUSTER, b"clusterVersion")?.map(text);
    let opts = RowOptions {
        etcd_prefix: cfg.etcd_prefix.clone(),
        decode: cfg.decode,
        show_secrets: cfg.show_secrets,
    };

    // With --verify-trailer the digest runs beside the scan that finds the rows.
    let ((digest, status), entries) = std::thread::scope(|s| {
        let h = s.spawn(|| trailer_status(snap, cfg.verify_trailer));
        let entries = collect(snap, cfg, at);
        let trailer = h.join().unwrap_or((None, "unchecked"));
        (trailer, entries)
    });
    let entries = entries?;
    let facts = SnapshotFacts {
        source_file: cfg.source_name.clone(),
        source_size: snap.db().file_size(),
        sha256_trailer: digest,
        sha256_trailer_status: status,
        head_revision: store.current,
        compact_revision: (store.compact >= 0).then_some(store.compact),
        read_revision: at,
        storage_version: meta.storage_version.clone(),
        cluster_version,
    };
    let export_meta = serde_json::json!({
        "revision": at,
        "history": cfg.history,
        "range_start": text(cfg.range.start()),
        "values": cfg.values,
        "decode": cfg.decode,
        "etcd_prefix": cfg.etcd_prefix,
        "source_file": cfg.source_name,
        "head_revision": store.current,
    })
    .to_string();
    let parallel = cfg.threads > 1;

    let mut sink = match cfg.format {
        Format::Parquet => Sink::Parquet(Box::new(ParquetSink::new(
            out,
            facts.clone(),
            cfg.values,
            cfg.decode,
            export_meta,
            cfg.limits,
            parallel,
        )?)),
        Format::Jsonl => Sink::Jsonl(JsonlSink::new(out, facts.clone(), cfg.values, cfg.decode)),
        Format::Csv => Sink::Csv(Box::new(CsvSink::new(
            out,
            facts.clone(),
            cfg.values,
            cfg.decode,
        )?)),
    };
    // Parquet: the making stage builds the Arrow batches too.
    let builder = (cfg.format == Format::Parquet)
        .then(|| BatchBuilder::new(&facts, cfg.values, cfg.decode, cfg.limits));
    let (rows, value_bytes) = if !parallel {
        produce(&entries, &opts, 1, builder, |w| sink.take(w))?
    } else {
        // Two stages on two threads: rows are made (records decoded, Kubernetes metadata
        // read, documents rendered for --decode, Parquet's arrays built) while the previous
        // ones are encoded and written. A few chunks in flight bound the memory; a failing
        // side ends the other (the channel closes). The rows themselves are made on worker
        // threads where making them is the cost (no values, no documents). With values the encoder is, and more threads only contend; documents
        // built on one thread and serialized on another ran slower (measured, docs/export.md).
        let row_threads = if cfg.values || cfg.decode {
            1
        } else {
            cfg.threads
        };
        std::thread::scope(|s| -> Result<(u64, u64), Error> {
            let (tx, rx) = std::sync::mpsc::sync_channel::<Work<'_>>(6);
            let (entries, opts) = (&entries, &opts);
            let maker = s.spawn(move || {
                produce(entries, opts, row_threads, builder, |w| {
                    tx.send(w)
                        .map_err(|_| Error::Internal("the writer stopped"))
                })
            });
            let mut written = Ok(());
            for work in rx {
                written = sink.take(work);
                if written.is_err() {
                    break;
                }
            }
            let made = maker
                .join()
                .map_err(|_| Error::Internal("the row thread panicked"))?;
            // The writer's own error first (the maker then only saw the channel close).
            written?;
            made
        })?
    };
    let out = sink.finish()?;
    Ok((
        out,
        Summary {
            rows,
            value_bytes,
            facts,
        },
    ))
}

/// Makes the rows of `entries` and hands them on (as batches with a builder, else as
/// chunks of rows); returns the rows made and their bytes of values.
///
/// With `threads` > 1 the rows themselves (record decoded, value hashed, Kubernetes metadata
/// read, document rendered for --decode) are made on worker threads, [`ROWS_PER_TASK`] at a
/// time, and come back in key order ([`etcdsnap_mvcc::pipeline::ordered_iter`]): this thread
/// only fills the batches, which are the same whatever the number of threads.
fn produce<'a>(
    entries: &Entries<'a>,
    opts: &RowOptions,
    threads: usize,
    mut builder: Option<BatchBuilder>,
    mut emit: impl FnMut(Work<'a>) -> Result<(), Error>,
) -> Result<(u64, u64), Error> {
    let (mut rows, mut value_bytes) = (0u64, 0u64);
    let mut chunk = Vec::new();
    let mut take = |r: Row<'a>| -> Result<(), Error> {
        rows += 1;
        value_bytes += r.value.len() as u64;
        match &mut builder {
            Some(b) => {
                if let Some(batch) = b.push(&r)? {
                    emit(Work::Batch(batch))?;
                }
            }
            None => {
                chunk.push(r);
                if chunk.len() == ROWS_PER_CHUNK {
                    emit(Work::Rows(std::mem::take(&mut chunk)))?;
                }
            }
        }
        Ok(())
    };
    if threads <= 1 {
        for (key, rev) in entries.iter() {
            take(make_row(key, rev, opts)?)?;
        }
    } else {
        etcdsnap_mvcc::pipeline::ordered_iter(
            entries.iter(),
            ROWS_PER_TASK,
            threads,
            |part| {
                part.into_iter()
                    .map(|(key, rev)| make_row(key, rev, opts))
                    .collect::<Result<Vec<_>, Error>>()
            },
            |made| made?.into_iter().try_for_each(&mut take),
        )?;
    }
    if let Some(b) = &mut builder
        && let Some(batch) = b.flush()?
    {
        emit(Work::Batch(batch))?;
    }
    if !chunk.is_empty() {
        emit(Work::Rows(chunk))?;
    }
    Ok((rows, value_bytes))
}

/// Rows one worker makes per task.
const ROWS_PER_TASK: usize = 256;

/// Rows handed from the making thread to the writing one at a time.
const ROWS_PER_CHUNK: usize = 256;

/// The entries to export, in key order (then revision order).
enum Entries<'a> {
    Live(Vec<(&'a [u8], Rev<'a>)>),
    History(RevIndex<'a>, KeyRange, i64),
}

impl<'a> Entries<'a> {
    fn iter(&self) -> Box<dyn Iterator<Item = (&'a [u8], Rev<'a>)> + Send + '_> {
        match self {
            Entries::Live(v) => Box::new(v.iter().copied()),
            Entries::History(index, range, at) => Box::new(index.range(range).flat_map(move |h| {
                let key = h.key();
                h.revisions()
                    .iter()
                    .take_while(move |r| r.main() <= *at)
                    .map(move |r| (key, *r))
            })),
        }
    }
}

fn collect<'a>(snap: &'a Snapshot, cfg: &ExportConfig, at: i64) -> Result<Entries<'a>, Error> {
    if cfg.history {
        let index = RevIndex::build(snap)?;
        Ok(Entries::History(index, cfg.range.clone(), at))
    } else {
        let ks = keyspace::keyspace_at(
            snap,
            at,
            &cfg.range,
            ScanOptions {
                threads: cfg.threads.max(1),
                sort: true,
            },
        )?;
        Ok(Entries::Live(
            ks.kvs.into_iter().map(|kr| (kr.key, kr.rev)).collect(),
        ))
    }
}

fn make_row<'a>(key: &'a [u8], rev: Rev<'a>, opts: &RowOptions) -> Result<Row<'a>, Error> {
    let kv = rev.decode()?;
    let tombstone = rev.is_tombstone();
    let value = if tombstone { None } else { Some(kv.value) };
    Ok(Row {
        key,
        revision: rev.main(),
        sub_revision: rev.sub(),
        tombstone,
        create_revision: kv.create_revision,
        mod_revision: kv.mod_revision,
        version: kv.version,
        lease: kv.lease,
        value: kv.value,
        value_xxh3: value.map(row::value_hash),
        kube: row::kube(key, value, &opts.etcd_prefix),
        decoded: match value {
            Some(v) if opts.decode => Some(row::decoded(key, v, opts.show_secrets)),
            _ => None,
        },
    })
}
