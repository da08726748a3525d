//! The Parquet file itself, read back with the parquet crate's own reader: its schema carries
//! every column's description and the schema version, row groups are bounded as configured,
//! the rows are the keyspace's, and docs/export.md documents every column of the schema.

use std::fs::File;

use arrow_array::{Array, BinaryArray, Int64Array, StringArray};
use etcdsnap_export::parquet_sink::Limits;
use etcdsnap_export::schema::{self, COLUMNS, FIELD_DOC, SCHEMA_VERSION};
use etcdsnap_export::{ExportConfig, Format, export};
use etcdsnap_mvcc::keyspace::{ScanOptions, keyspace_at};
use etcdsnap_mvcc::{KeyRange, Snapshot};
use parquet::arrow::arrow_reader::ParquetRecordBatchReaderBuilder;
use parquet::file::reader::FileReader;
use parquet::file::serialized_reader::SerializedFileReader;

fn tmp(name: &str) -> std::path::PathBuf {
    std::env::temp_dir().join(format!("etcdsnap-export-{}-{name}", std::process::id()))
}

#[test]
fn schema_docs_row_groups_and_rows() {
    let db = etcdsnap_testkit::corpus_db("h1.db");
    let snap = Snapshot::open(&db).unwrap();
    let mut cfg = ExportConfig::new("h1.db");
    cfg.format = Format::Parquet;
    cfg.decode = true;
    // Tiny bounds: many batches and row groups from a small file.
    cfg.limits = Limits {
        batch_rows: 100,
        batch_bytes: 1 << 20,
        row_group_bytes: 64 << 10,
        row_group_rows: 1 << 20,
    };
    let path = tmp("h1.parquet");
    let file = File::create(&path).unwrap();
    let (_, summary) = export(&snap, &cfg, file).unwrap();

    let live = keyspace_at(&snap, 0, &KeyRange::all(), ScanOptions::default()).unwrap();
    assert_eq!(summary.rows, live.len() as u64);

    let reader = SerializedFileReader::new(File::open(&path).unwrap()).unwrap();
    let md = reader.metadata();
    assert!(md.num_row_groups() > 3, "{}", md.num_row_groups());
    assert_eq!(md.file_metadata().num_rows() as u64, summary.rows);
    let kv = md.file_metadata().key_value_metadata().unwrap();
    let get = |k: &str| {
        kv.iter()
            .find(|e| e.key == k)
            .and_then(|e| e.value.clone())
            .unwrap()
    };
    assert_eq!(get(schema::META_SCHEMA_VERSION), SCHEMA_VERSION);
    let docs: serde_json::Value = serde_json::from_str(&get(schema::META_COLUMNS)).unwrap();
    for c in COLUMNS {
        assert_eq!(docs[c.name], c.doc, "{}", c.name);
    }
    // Snappy on every column chunk.
    for rg in md.row_groups() {
        for c in rg.columns() {
            assert_eq!(c.compression(), parquet::basic::Compression::SNAPPY);
        }
    }

    let builder = ParquetRecordBatchReaderBuilder::try_new(File::open(&path).unwrap()).unwrap();
    let schema = builder.schema().clone();
    assert_eq!(schema.fields().len(), COLUMNS.len());
    for (f, c) in schema.fields().iter().zip(COLUMNS) {
        assert_eq!(f.name(), c.name);
        assert_eq!(f.metadata().get(FIELD_DOC).map(String::as_str), Some(c.doc));
    }
    let mut n = 0;
    for batch in builder.build().unwrap() {
        let batch = batch.unwrap();
        let keys = batch
            .column_by_name("key")
            .unwrap()
            .as_any()
            .downcast_ref::<BinaryArray>()
            .unwrap();
        let mods = batch
            .column_by_name("mod_revision")
            .unwrap()
            .as_any()
            .downcast_ref::<Int64Array>()
            .unwrap();
        let values = batch
            .column_by_name("value")
            .unwrap()
            .as_any()
            .downcast_ref::<BinaryArray>()
            .unwrap();
        let source = batch
            .column_by_name("source_file")
            .unwrap()
            .as_any()
            .downcast_ref::<StringArray>()
            .unwrap();
        for i in 0..batch.num_rows() {
            let kv = live.kvs[n].rev.decode().unwrap();
            assert_eq!(keys.value(i), live.kvs[n].key);
            assert_eq!(mods.value(i), kv.mod_revision);
            assert_eq!(values.value(i), kv.value);
            assert_eq!(source.value(i), "h1.db");
            assert!(!values.is_null(i));
            n += 1;
        }
    }
    assert_eq!(n, live.len());
    std::fs::remove_file(&path).unwrap();
}

/// docs/export.md lists every column with its type, and the schema version.
#[test]
fn docs_describe_every_column() {
    let doc = std::fs::read_to_string(
        std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../../docs/export.md"),
    )
    .unwrap();
    for c in COLUMNS {
        assert!(
            doc.contains(&format!("| `{}` |", c.name)),
            "docs/export.md does not document column {}",
            c.name
        );
    }
    assert!(doc.contains(&format!("Schema version {SCHEMA_VERSION}")));
}

/// One thread or two (rows made while others are written): the same bytes, live and history.
#[test]
fn threads_do_not_change_the_output() {
    let db = etcdsnap_testkit::corpus_db("h1.db");
    let snap = Snapshot::open(&db).unwrap();
    for (format, history) in [
        (Format::Jsonl, false),
        (Format::Jsonl, true),
        (Format::Parquet, false),
        (Format::Csv, true),
    ] {
        {
            let run = |threads: usize| {
                let mut cfg = ExportConfig::new("h1.db");
                cfg.format = format;
                cfg.history = history;
                cfg.decode = format == Format::Jsonl && !history;
                cfg.threads = threads;
                export(&snap, &cfg, Vec::new()).unwrap()
            };
            let (one, s1) = run(1);
            let (two, s2) = run(2);
            assert_eq!(s1, s2);
            assert!(s1.rows > 1000, "{}", s1.rows);
            assert!(one == two, "{format:?} history={history}");
        }
    }
}
