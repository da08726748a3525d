//! Test support shared by the crates' tests: where the fixtures live, and the corpus snapshots
//! written by real etcd, unpacked on first use.
//!
//! The corpus `.db` files are committed as one solid `fixtures/corpus/dbs.tar.zst` (about a
//! third of their raw size) so the repository stays small. Tests call [`corpus_db`], which
//! unpacks the archive once into a cache directory keyed by the archive's SHA-256, checks every
//! file against `MANIFEST.sha256` (the digests of etcd's originals), and returns the path. The
//! unpacking is atomic (a temporary directory renamed into place), so test binaries that run
//! concurrently never see a half-written file.

use std::fs;
use std::io::Read;
use std::path::{Path, PathBuf};
use std::sync::OnceLock;

use sha2::{Digest, Sha256};

pub mod mutate;
pub mod rewrite;
pub mod rng;

/// The repository's `fixtures/` directory.
pub fn fixtures_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../../fixtures")
}

/// `fixtures/corpus/NAME`: a ground-truth file recorded from real etcd.
pub fn corpus_file(name: &str) -> PathBuf {
    fixtures_dir().join("corpus").join(name)
}

/// The text of `fixtures/corpus/NAME`.
pub fn corpus_text(name: &str) -> String {
    let p = corpus_file(name);
    fs::read_to_string(&p).unwrap_or_else(|e| panic!("{}: {e}", p.display()))
}

/// Names of the corpus snapshots (`h1.db`, ...), from the manifest.
pub fn corpus_db_names() -> Vec<String> {
    manifest()
        .into_iter()
        .map(|(name, _)| name)
        .filter(|n| n.ends_with(".db"))
        .collect()
}

/// The path of corpus snapshot `name` (e.g. `h1.db`), unpacked on first use.
pub fn corpus_db(name: &str) -> PathBuf {
    let dir = unpacked_dir();
    let p = dir.join(name);
    assert!(p.is_file(), "{name} is not in fixtures/corpus/dbs.tar.zst");
    p
}

/// SHA-256 of `bytes`, lower-case hex.
pub fn sha256_hex(bytes: &[u8]) -> String {
    Sha256::digest(bytes)
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

fn manifest() -> Vec<(String, String)> {
    corpus_text("MANIFEST.sha256")
        .lines()
        .filter_map(|l| {
            let (hash, name) = l.split_once(char::is_whitespace)?;
            Some((
                name.trim().trim_start_matches('*').to_string(),
                hash.to_string(),
            ))
        })
        .collect()
}

fn unpacked_dir() -> PathBuf {
    static DIR: OnceLock<PathBuf> = OnceLock::new();
    DIR.get_or_init(|| {
        let archive = corpus_file("dbs.tar.zst");
        let bytes = fs::read(&archive).unwrap_or_else(|e| panic!("{}: {e}", archive.display()));
        let key = &sha256_hex(&bytes)[..16];
        let dir = std::env::temp_dir().join(format!("etcdsnap-corpus-{key}"));
        if !dir.join(".complete").is_file() {
            unpack(&bytes, &dir);
        }
        dir
    })
    .clone()
}

fn unpack(archive: &[u8], dir: &Path) {
    let tmp = dir.with_extension(format!("tmp-{}", std::process::id()));
    let _ = fs::remove_dir_all(&tmp);
    fs::create_dir_all(&tmp).expect("create fixture cache dir");
    let mut tar_bytes = Vec::new();
    ruzstd::decoding::StreamingDecoder::new(archive)
        .expect("zstd header")
        .read_to_end(&mut tar_bytes)
        .expect("decompress dbs.tar.zst");
    tar::Archive::new(&tar_bytes[..])
        .unpack(&tmp)
        .expect("unpack dbs.tar.zst");
    for (name, hash) in manifest().iter().filter(|(n, _)| n.ends_with(".db")) {
        let got = sha256_hex(&fs::read(tmp.join(name)).expect("unpacked db"));
        assert_eq!(&got, hash, "{name} differs from etcd's original");
    }
    fs::write(tmp.join(".complete"), b"").expect("mark complete");
    // Another process may have won the race: then keep its copy.
    if fs::rename(&tmp, dir).is_err() {
        let _ = fs::remove_dir_all(&tmp);
    }
}
