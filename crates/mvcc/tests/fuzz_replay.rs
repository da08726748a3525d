//! Replays the fuzz corpus (`fuzz/corpus/<target>`) and every input a fuzzer ever crashed on
//! (`fuzz/regressions/<target>`) through the same calls as the fuzz targets, so `cargo test`
//! keeps what fuzzing found fixed without needing a nightly compiler.

use std::path::{Path, PathBuf};

use etcdsnap_bbolt::check::{CheckOptions, check_metas};
use etcdsnap_bbolt::{Bucket, Db, OpenOptions};
use etcdsnap_mvcc::proto::{KeyValue, KeyValueRef, WireError};
use etcdsnap_mvcc::verify::{VerifyOptions, verify_bytes};
use etcdsnap_mvcc::{Snapshot, status};
use prost::Message;

fn inputs(target: &str) -> Vec<(PathBuf, Vec<u8>)> {
    let fuzz = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../fuzz");
    let mut out = Vec::new();
    for dir in ["corpus", "regressions"] {
        let Ok(rd) = std::fs::read_dir(fuzz.join(dir).join(target)) else {
            continue;
        };
        for e in rd.flatten() {
            if let Ok(b) = std::fs::read(e.path()) {
                out.push((e.path(), b));
            }
        }
    }
    out.sort();
    // The corpus is committed with the project: an empty list means a broken path.
    assert!(
        !out.is_empty(),
        "no fuzz inputs found for {target} under {fuzz:?}"
    );
    out
}

fn walk(b: &Bucket<'_>, depth: usize, budget: &mut usize) {
    if depth > 8 {
        return;
    }
    for e in b.iter() {
        let Ok(e) = e else { break };
        if *budget == 0 {
            return;
        }
        *budget -= 1;
        if e.is_bucket()
            && let Ok(sub) = Bucket::from_value(b.db(), e.key, e.value)
        {
            walk(&sub, depth + 1, budget);
        }
        let _ = b.get(e.key);
    }
    let _ = b.last();
    for it in b.split(3) {
        let _ = it.take(64).count();
    }
}

#[test]
fn replay_open_and_walk() {
    for target in ["open", "walk"] {
        for (_, data) in inputs(target) {
            let _ = check_metas(&data, &CheckOptions::default());
            for allow_truncated in [false, true] {
                if let Ok(db) = Db::from_bytes(data.clone(), OpenOptions { allow_truncated }) {
                    let mut budget = 100_000;
                    walk(&db.root(), 0, &mut budget);
                    let _ = db.buckets();
                }
            }
        }
    }
}

#[test]
fn replay_status() {
    for (path, data) in inputs("status") {
        if let Ok(db) = Db::from_bytes(data, OpenOptions::default()) {
            let snap = Snapshot::from_db(db);
            let one = status::status(&snap, 1);
            let two = status::status(&snap, 2);
            if let (Ok(a), Ok(b)) = (&one, &two) {
                assert_eq!(a, b, "{path:?}");
            }
            // etcd 3.6/3.7 rules, and bbolt's check as status runs it (issue 11).
            for rules in [status::Rules::Etcd36, status::Rules::Etcd37] {
                let one = status::status_with(&snap, 1, rules);
                let two = status::status_with(&snap, 3, rules);
                if let (Ok(a), Ok(b)) = (&one, &two) {
                    assert_eq!(a, b, "{path:?}");
                }
            }
            let check = etcdsnap_bbolt::check::check_pages(
                snap.db(),
                &CheckOptions {
                    max_findings: 1_000_000,
                },
            );
            // The one-walk status answers only where the check passes, with status's figures.
            if let Some(fast) = status::status_if_sound(&snap, 2) {
                assert!(
                    !check.findings.list.iter().any(|f| f.refused_by_etcdutl()),
                    "{path:?}"
                );
                assert_eq!(status::status(&snap, 1).ok(), Some(fast), "{path:?}");
            }
            let _ = etcdsnap_mvcc::versions::writer(&snap);
        }
    }
}

#[test]
fn replay_verify() {
    for (path, data) in inputs("verify") {
        let len = data.len() as u64;
        let r = verify_bytes(
            data,
            &VerifyOptions {
                max_findings: 1000,
                parallel: false,
            },
        );
        assert_eq!(r.checks.len(), 4, "{path:?}");
        assert_eq!(r.file_size, len);
    }
}

#[test]
fn replay_kv() {
    for (path, data) in inputs("kv") {
        match (KeyValueRef::decode(&data), KeyValue::decode(&data[..])) {
            (Ok(a), Ok(b)) => {
                assert_eq!(
                    (
                        a.key,
                        a.value,
                        a.create_revision,
                        a.mod_revision,
                        a.version,
                        a.lease
                    ),
                    (
                        &b.key[..],
                        &b.value[..],
                        b.create_revision,
                        b.mod_revision,
                        b.version,
                        b.lease
                    ),
                    "{path:?}"
                );
            }
            (Err(_), Err(_)) | (Err(WireError::BadWireType(3 | 4)), Ok(_)) => {}
            (a, b) => panic!("{path:?}: decoders disagree: {a:?} vs {b:?}"),
        }
    }
}
