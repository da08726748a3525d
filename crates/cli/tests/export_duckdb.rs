//! `etcdsnap export` read back by a real engine, DuckDB (PyPI `duckdb`, in the virtual
//! environment `.ci/export-duckdb.sh` makes), and compared with what `etcdsnap get -w json`
//! and `etcdsnap history -w json` say at the same revision, on every fixture snapshot.
//!
//! The engine is found through `ETCDSNAP_DUCKDB_PYTHON` (a Python with `duckdb`). When it is
//! not set these tests print why and pass without checking anything (a plain `cargo test` on a
//! machine without the venv); the CI script sets it, and then a missing or broken engine is a
//! failure.

use std::collections::BTreeMap;
use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::sync::atomic::{AtomicUsize, Ordering};

use base64::Engine as _;
use serde_json::{Value, json};
use sha2::{Digest, Sha256};

fn python() -> Option<PathBuf> {
    match std::env::var_os("ETCDSNAP_DUCKDB_PYTHON") {
        Some(p) if !p.is_empty() => Some(PathBuf::from(p)),
        _ => {
            eprintln!(
                "SKIPPED: ETCDSNAP_DUCKDB_PYTHON is not set (run .ci/export-duckdb.sh, which makes \
                 the DuckDB venv and runs these tests with it)"
            );
            None
        }
    }
}

/// Runs the queries in DuckDB; returns id -> rows.
fn duckdb(py: &Path, queries: &[(String, String)]) -> BTreeMap<String, Vec<Vec<Value>>> {
    let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/duckdb_query.py");
    let mut child = Command::new(py)
        .arg(&script)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap_or_else(|e| panic!("ETCDSNAP_DUCKDB_PYTHON={}: {e}", py.display()));
    let input: Vec<Value> = queries
        .iter()
        .map(|(id, sql)| json!({"id": id, "sql": sql}))
        .collect();
    child
        .stdin
        .take()
        .unwrap()
        .write_all(Value::Array(input).to_string().as_bytes())
        .unwrap();
    let out = child.wait_with_output().unwrap();
    assert!(
        out.status.success(),
        "duckdb failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    serde_json::from_slice(&out.stdout).unwrap()
}

fn scratch() -> PathBuf {
    static N: AtomicUsize = AtomicUsize::new(0);
    let d = std::env::temp_dir().join(format!(
        "etcdsnap-export-duckdb-{}-{}",
        std::process::id(),
        N.fetch_add(1, Ordering::Relaxed)
    ));
    let _ = std::fs::remove_dir_all(&d);
    std::fs::create_dir_all(&d).unwrap();
    d
}

fn etcdsnap(args: &[&str]) -> Vec<u8> {
    let out = Command::new(env!("CARGO_BIN_EXE_etcdsnap"))
        .args(args)
        .stdin(Stdio::null())
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "etcdsnap {args:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    out.stdout
}

/// Every fixture snapshot: the corpus (etcd 3.4 and 3.5), our own, the get cases' store.
fn fixtures() -> Vec<PathBuf> {
    let dir = etcdsnap_testkit::fixtures_dir();
    let mut v: Vec<PathBuf> = etcdsnap_testkit::corpus_db_names()
        .iter()
        .map(|n| etcdsnap_testkit::corpus_db(n))
        .collect();
    for f in [
        "own/own-34.db",
        "own/own-35.db",
        "own/own-35-member.db",
        "mvcc-get/store.db",
    ] {
        v.push(dir.join(f));
    }
    v
}

fn b64d(v: &Value) -> Vec<u8> {
    base64::engine::general_purpose::STANDARD
        .decode(v.as_str().unwrap_or(""))
        .unwrap()
}

fn hex(b: &[u8]) -> String {
    b.iter().map(|x| format!("{x:02x}")).collect()
}

fn int(v: &Value) -> i64 {
    v.as_i64().unwrap_or(0)
}

/// `get "" --prefix -w json --rev R` as rows (key hex, create, mod, version, lease, sha256,
/// xxh3 as i64).
fn get_rows(file: &str, rev: i64) -> Vec<Vec<Value>> {
    let out = etcdsnap(&[
        "get",
        file,
        "",
        "--prefix",
        "-w",
        "json",
        "--rev",
        &rev.to_string(),
    ]);
    let v: Value = serde_json::from_slice(&out).unwrap();
    let mut rows: Vec<Vec<Value>> = v["kvs"]
        .as_array()
        .map(|a| a.as_slice())
        .unwrap_or_default()
        .iter()
        .map(|kv| {
            let value = b64d(&kv["value"]);
            vec![
                hex(&b64d(&kv["key"])).into(),
                int(&kv["create_revision"]).into(),
                int(&kv["mod_revision"]).into(),
                int(&kv["version"]).into(),
                int(&kv["lease"]).into(),
                hex(&Sha256::digest(&value)).into(),
                (xxhash_rust::xxh3::xxh3_64(&value) as i64).into(),
            ]
        })
        .collect();
    rows.sort_by_key(|r| r[0].as_str().unwrap().to_string());
    rows
}

/// `history "" --prefix -w json` as rows (key hex, main, sub, tombstone, create, mod,
/// version, lease, value_size).
fn history_rows(file: &str) -> Vec<Vec<Value>> {
    let out = etcdsnap(&["history", file, "", "--prefix", "-w", "json"]);
    let v: Value = serde_json::from_slice(&out).unwrap();
    let mut rows = Vec::new();
    for k in v["keys"].as_array().unwrap() {
        let key = hex(&b64d(&k["key"]));
        for r in k["revisions"].as_array().unwrap() {
            rows.push(vec![
                key.clone().into(),
                r["main"].clone(),
                r["sub"].clone(),
                r["tombstone"].clone(),
                r["create_revision"].clone(),
                r["mod_revision"].clone(),
                r["version"].clone(),
                // history -w json shows lease ids in hex (docs/cli.md); the column is etcd's
                // int64, as get -w json prints it.
                json!(r["lease"].as_str().map_or_else(
                    || int(&r["lease"]),
                    |s| u64::from_str_radix(s, 16).unwrap() as i64
                )),
                r["value_size"].clone(),
            ]);
        }
    }
    rows
}

/// The table of an exported file, as DuckDB reads each format. Keys and values come back as
/// bytes (base64 decoded by DuckDB for the text formats).
fn relation(format: &str, path: &Path) -> String {
    let p = path.display();
    match format {
        "parquet" => format!(
            "(select key as k, value as v, * exclude (key, value) from read_parquet('{p}'))"
        ),
        "jsonl" => format!(
            "(select from_base64(key) as k, from_base64(value) as v, * exclude (key, value) \
             from read_json('{p}', format = 'newline_delimited'))"
        ),
        "csv" => format!(
            "(select from_base64(key) as k, case when tombstone::boolean then null \
             else from_base64(coalesce(value, '')) end as v, * exclude (key, value) \
             from read_csv('{p}', header = true, all_varchar = true))"
        ),
        _ => unreachable!(),
    }
}

fn live_sql(format: &str, path: &Path) -> String {
    format!(
        "select k, create_revision::bigint, mod_revision::bigint, version::bigint, \
         lease::bigint, v as sha256_of_v, value_xxh3::bigint, \
         revision::bigint = mod_revision::bigint, \
         tombstone::boolean, value_size::bigint = octet_length(v) \
         from {} order by k",
        relation(format, path)
    )
}

fn history_sql(format: &str, path: &Path) -> String {
    format!(
        "select k, revision::bigint, sub_revision::bigint, tombstone::boolean, \
         create_revision::bigint, mod_revision::bigint, version::bigint, lease::bigint, \
         value_size::bigint from {} order by k, revision::bigint, sub_revision::bigint",
        relation(format, path)
    )
}

/// Row counts, keys, revisions, versions, leases, value hashes (SHA-256 of the bytes read back,
/// and the `value_xxh3` column) equal `get -w json` at the
/// head, the compaction revision and a revision between, in every format, on every fixture.
#[test]
fn export_equals_get_at_every_revision() {
    let Some(py) = python() else { return };
    let dir = scratch();
    let mut checked = 0;
    for file in fixtures() {
        let f = file.to_str().unwrap();
        let snap = etcdsnap_mvcc::Snapshot::open(&file).unwrap();
        let store = snap.revisions().unwrap();
        let mut revs = vec![store.current];
        if store.compact > 0 {
            revs.push(store.compact);
            revs.push((store.compact + store.current) / 2);
        } else if store.current > 2 {
            revs.push(store.current / 2);
        }
        let mut queries = Vec::new();
        let mut expected = BTreeMap::new();
        for (i, rev) in revs.iter().enumerate() {
            let formats: &[&str] = if i == 0 {
                &["parquet", "jsonl", "csv"]
            } else {
                &["parquet"]
            };
            let want = get_rows(f, *rev);
            for fmt in formats {
                let out = dir.join(format!(
                    "{}-{rev}.{fmt}",
                    file.file_stem().unwrap().to_str().unwrap()
                ));
                etcdsnap(&[
                    "export",
                    f,
                    "--rev",
                    &rev.to_string(),
                    "-o",
                    out.to_str().unwrap(),
                ]);
                let id = format!("{fmt}@{rev}");
                if *fmt == "jsonl" && want.is_empty() {
                    // No line, so no column for an engine to infer: the file is empty.
                    assert_eq!(std::fs::metadata(&out).unwrap().len(), 0, "{f}");
                    continue;
                }
                queries.push((id.clone(), live_sql(fmt, &out)));
                expected.insert(id, want.clone());
            }
        }
        let got = duckdb(&py, &queries);
        for (id, want) in &expected {
            let rows = &got[id];
            assert_eq!(rows.len(), want.len(), "{f} {id}: row count");
            for (g, w) in rows.iter().zip(want) {
                assert_eq!(&g[..7], &w[..], "{f} {id}");
                assert_eq!(
                    &g[7..],
                    &[json!(true), json!(false), json!(true)],
                    "{f} {id}"
                );
            }
            checked += rows.len();
        }
    }
    assert!(checked > 10_000, "{checked}");
}

/// `--history` rows equal `history -w json`, in every format, on every fixture.
#[test]
fn export_history_equals_history() {
    let Some(py) = python() else { return };
    let dir = scratch();
    let mut checked = 0;
    for file in fixtures() {
        let f = file.to_str().unwrap();
        let want = history_rows(f);
        let stem = file.file_stem().unwrap().to_str().unwrap().to_string();
        let mut queries = Vec::new();
        for fmt in ["parquet", "jsonl", "csv"] {
            let out = dir.join(format!("{stem}-history.{fmt}"));
            etcdsnap(&["export", f, "--history", "-o", out.to_str().unwrap()]);
            if fmt == "jsonl" && want.is_empty() {
                assert_eq!(std::fs::metadata(&out).unwrap().len(), 0, "{f}");
                continue;
            }
            queries.push((fmt.to_string(), history_sql(fmt, &out)));
        }
        let got = duckdb(&py, &queries);
        for (fmt, rows) in &got {
            assert_eq!(rows.len(), want.len(), "{f} {fmt}: row count");
            assert_eq!(rows, &want, "{f} {fmt}");
            checked += rows.len();
        }
    }
    assert!(checked > 10_000, "{checked}");
}

/// The Kubernetes columns of h5-k8s.db equal what its generator wrote (h5-k8s.expect.json),
/// and `decoded` equals `get -w json --decode`.
#[test]
fn kubernetes_columns_and_decoded() {
    let Some(py) = python() else { return };
    let dir = scratch();
    let file = etcdsnap_testkit::corpus_db("h5-k8s.db");
    let f = file.to_str().unwrap();
    let out = dir.join("k8s.parquet");
    etcdsnap(&["export", f, "--decode", "-o", out.to_str().unwrap()]);
    let p = out.display();
    let got = duckdb(
        &py,
        &[
            (
                "objects".into(),
                format!(
                    "select key_text, kind, k8s_name, coalesce(k8s_namespace, ''), uid, \
                     creation_timestamp, labels, coalesce(owner_name, ''), k8s_resource \
                     from read_parquet('{p}') where uid is not null order by key_text"
                ),
            ),
            (
                "encrypted".into(),
                format!(
                    "select k8s_namespace || '/' || k8s_name, encryption_provider || ':' || \
                     encryption_version || ':' || encryption_key_name \
                     from read_parquet('{p}') where encoding = 'encrypted' order by 1"
                ),
            ),
            (
                "live".into(),
                format!(
                    "select coalesce(k8s_group || '/', '') || k8s_resource, count(*) \
                     from read_parquet('{p}') where k8s_resource is not null group by 1 order by 1"
                ),
            ),
            (
                "decoded".into(),
                format!("select key_text, decoded from read_parquet('{p}') order by key"),
            ),
        ],
    );
    let expect: Value =
        serde_json::from_str(&etcdsnap_testkit::corpus_text("h5-k8s.expect.json")).unwrap();
    let objects = expect["objects"].as_object().unwrap();
    let mut compared = 0;
    for row in &got["objects"] {
        let key = row[0].as_str().unwrap();
        let Some(e) = objects.get(key) else {
            continue;
        };
        assert_eq!(row[1], e["kind"], "{key}");
        assert_eq!(row[2], e["name"], "{key}");
        assert_eq!(row[3], e["namespace"], "{key}");
        assert_eq!(row[4], e["uid"], "{key}");
        assert_eq!(row[5], e["created"], "{key}");
        assert_eq!(row[6], e["labels"], "{key}");
        assert_eq!(row[7], e["owner"], "{key}");
        compared += 1;
    }
    assert!(compared >= 60, "{compared}");
    let enc: BTreeMap<String, Value> = got["encrypted"]
        .iter()
        .map(|r| (r[0].as_str().unwrap().to_string(), r[1].clone()))
        .collect();
    let want: BTreeMap<String, Value> = expect["encrypted_secrets"]
        .as_object()
        .unwrap()
        .iter()
        .map(|(k, v)| (k.clone(), v.clone()))
        .collect();
    assert_eq!(enc, want);
    let live: BTreeMap<String, Value> = got["live"]
        .iter()
        .map(|r| (r[0].as_str().unwrap().to_string(), r[1].clone()))
        .collect();
    let want: BTreeMap<String, Value> = expect["live"]
        .as_object()
        .unwrap()
        .iter()
        .map(|(k, v)| (k.clone(), v.clone()))
        .collect();
    assert_eq!(live, want);

    // decoded = the kv of `get -w json --decode` without the columns the row has anyway.
    let g: Value = serde_json::from_slice(&etcdsnap(&[
        "get", f, "", "--prefix", "-w", "json", "--decode",
    ]))
    .unwrap();
    let kvs = g["kvs"].as_array().unwrap();
    assert_eq!(kvs.len(), got["decoded"].len());
    for (kv, row) in kvs.iter().zip(&got["decoded"]) {
        let mut want = kv.as_object().unwrap().clone();
        for k in [
            "key",
            "create_revision",
            "mod_revision",
            "version",
            "lease",
            "value_size",
        ] {
            want.remove(k);
        }
        let have: Value = serde_json::from_str(row[1].as_str().unwrap()).unwrap();
        assert_eq!(have, Value::Object(want), "{}", row[0]);
    }
}

/// `--dataset`: two snapshots under one directory read back as one table with `cluster` and
/// `taken` from the Hive partitions.
#[test]
fn dataset_reads_as_one_table() {
    let Some(py) = python() else { return };
    let dir = scratch();
    let ds = dir.join("ds");
    let a = etcdsnap_testkit::corpus_db("h2a.db");
    let b = etcdsnap_testkit::corpus_db("h2b.db");
    let k = etcdsnap_testkit::corpus_db("h5-k8s.db");
    for (f, cluster) in [(&a, "prod"), (&b, "prod"), (&k, "kube")] {
        etcdsnap(&[
            "export",
            f.to_str().unwrap(),
            "--dataset",
            ds.to_str().unwrap(),
            "--cluster",
            cluster,
            "--no-values",
        ]);
    }
    let got = duckdb(
        &py,
        &[(
            "t".into(),
            format!(
                "select cluster, taken, source_file, count(*), min(head_revision) \
                 from read_parquet('{}/**/*.parquet', hive_partitioning = true) \
                 group by all order by cluster, taken",
                ds.display()
            ),
        )],
    );
    let mut want = Vec::new();
    for (f, cluster) in [(&k, "kube"), (&a, "prod"), (&b, "prod")] {
        let snap = etcdsnap_mvcc::Snapshot::open(f).unwrap();
        let head = snap.revisions().unwrap().current;
        let n = get_rows(f.to_str().unwrap(), 0).len();
        want.push(vec![
            json!(cluster),
            json!(head),
            json!(f.file_name().unwrap().to_str().unwrap()),
            json!(n),
            json!(head),
        ]);
    }
    assert_eq!(got["t"], want);
}
