//! Where the test fixtures are: `fixtures/corpus` (real etcd snapshots packed as
//! `dbs.tar.zst`, unpacked once by `etcdsnap-testkit`, with digests of what etcdctl printed for
//! them) and `fixtures/own` (small snapshots made by `fixtures/make-fixtures.sh`, kept
//! unpacked). Tests never need `/work/shared` or any network.

#![allow(dead_code)]

use std::path::PathBuf;

/// The repository's `fixtures/` directory.
pub fn fixtures() -> PathBuf {
    etcdsnap_testkit::fixtures_dir()
}

/// `fixtures/corpus`.
pub fn corpus() -> PathBuf {
    fixtures().join("corpus")
}

/// `fixtures/own`.
pub fn own() -> PathBuf {
    fixtures().join("own")
}

/// The directory holding the corpus `.db` files (unpacked once by the testkit).
pub fn corpus_dbs() -> PathBuf {
    etcdsnap_testkit::corpus_db("h1.db")
        .parent()
        .expect("unpacked corpus dir")
        .to_path_buf()
}

/// The snapshot file of a fixture store: `own-*` files live in `fixtures/own`, the others in
/// the unpacked corpus.
pub fn db(name: &str) -> PathBuf {
    if name.starts_with("own-") {
        own().join(name)
    } else {
        corpus_dbs().join(name)
    }
}

/// Every corpus and own `.db` file name.
pub fn all_dbs() -> Vec<String> {
    let mut out = Vec::new();
    for dir in [corpus_dbs(), own()] {
        for e in std::fs::read_dir(&dir).expect("fixture dir") {
            let name = e.expect("entry").file_name().to_string_lossy().into_owned();
            if name.ends_with(".db") {
                out.push(name);
            }
        }
    }
    out.sort();
    out
}

/// A recorded etcd output: `STORE.KIND.REV[.extra].EXT` -> (store, rev or 0 for head, path).
pub struct Record {
    /// The store name (the db is `STORE.db`).
    pub store: String,
    /// The revision asked (0 = head).
    pub rev: i64,
    /// The file.
    pub path: PathBuf,
}

/// The recorded outputs named `*.{kind}.*.{ext}` in corpus and own (e.g. kind `get`, ext
/// `tsv`), skipping variants with an extra part such as `.keys-only`.
pub fn records(kind: &str, ext: &str) -> Vec<Record> {
    let mut out = Vec::new();
    for dir in [corpus(), own()] {
        for e in std::fs::read_dir(&dir).expect("fixture dir") {
            let path = e.expect("entry").path();
            let name = path.file_name().unwrap().to_string_lossy().into_owned();
            let Some(stem) = name.strip_suffix(&format!(".{ext}")) else {
                continue;
            };
            let parts: Vec<&str> = stem.split('.').collect();
            if parts.len() != 3 || parts[1] != kind {
                continue;
            }
            let rev = match parts[2] {
                "head" => 0,
                r => match r.strip_prefix("rev").and_then(|n| n.parse().ok()) {
                    Some(n) => n,
                    None => continue,
                },
            };
            out.push(Record {
                store: parts[0].to_string(),
                rev,
                path,
            });
        }
    }
    out.sort_by(|a, b| a.path.cmp(&b.path));
    out
}
