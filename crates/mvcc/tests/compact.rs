//! `compact`: the rule checked against etcd's own compactions (the corpus files etcd compacted
//! hold exactly Keep(C) at or below C), and our output checked against an expectation computed
//! another way (the revision index), our `verify`, and the keyspace at every revision it
//! keeps. The real-etcd round trip (etcd compacting the same source at R) is
//! `.ci/writer-etcd.sh`.

use std::collections::BTreeMap;
use std::path::PathBuf;

#[path = "common/fixtures.rs"]
mod fixtures;

use etcdsnap_mvcc::revision::RevKey;
use etcdsnap_mvcc::rewrite::{self, Output};
use etcdsnap_mvcc::snapshot::buckets;
use etcdsnap_mvcc::verify::{Status, VerifyOptions, verify};
use etcdsnap_mvcc::{Error, KeyRange, RevIndex, Revision, Snapshot};

fn tmpdir(tag: &str) -> PathBuf {
    let d = std::env::temp_dir().join(format!("etcdsnap-compact-{tag}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&d);
    std::fs::create_dir_all(&d).unwrap();
    d
}

/// Every (revision, tombstone) of every key that Keep(R) plus "everything above R" leaves,
/// from the revision index (per key history), as raw bucket keys -> records.
fn expected_key_bucket(snap: &Snapshot, r: i64) -> BTreeMap<Vec<u8>, Vec<u8>> {
    let idx = RevIndex::build(snap).unwrap();
    let mut out = BTreeMap::new();
    for h in idx.keys() {
        let revs = h.revisions();
        let newest_le = revs.iter().rposition(|x| x.main() <= r);
        for (i, x) in revs.iter().enumerate() {
            let keep = x.main() > r || (Some(i) == newest_le && !x.is_tombstone());
            if keep {
                let mut k = x.revision().to_bytes().to_vec();
                if x.is_tombstone() {
                    k.push(b't');
                }
                out.insert(k, x.record().to_vec());
            }
        }
    }
    out
}

fn bucket_entries(snap: &Snapshot, name: &[u8]) -> BTreeMap<Vec<u8>, Vec<u8>> {
    let mut out = BTreeMap::new();
    if let Some(b) = snap.optional(name).unwrap() {
        for e in b.iter() {
            let e = e.unwrap();
            out.insert(e.key.to_vec(), e.value.to_vec());
        }
    }
    out
}

fn dbs() -> Vec<String> {
    fixtures::all_dbs()
        .into_iter()
        .filter(|n| n != "h4-empty.db")
        .collect()
}

/// Ground truth from etcd: a file etcd compacted at C holds, at or below C, exactly Keep(C)
/// (plus, on etcd < 3.4.34/3.5.16, nothing else: tombstones at C were deleted then too).
#[test]
fn etcd_compacted_files_hold_exactly_keep() {
    let mut checked = 0;
    for name in dbs() {
        let snap = Snapshot::open(&fixtures::db(&name)).unwrap();
        let store = snap.revisions().unwrap();
        if store.compact <= 0 {
            continue;
        }
        let expect = expected_key_bucket(&snap, store.compact);
        let actual = bucket_entries(&snap, buckets::KEY);
        assert_eq!(
            actual.keys().collect::<Vec<_>>(),
            expect.keys().collect::<Vec<_>>(),
            "{name}: etcd's compaction at {} left other revisions than Keep",
            store.compact
        );
        checked += 1;
    }
    assert!(checked >= 4, "only {checked} compacted fixtures");
}

#[test]
fn compact_matches_keep_and_keyspaces() {
    let dir = tmpdir("rule");
    for name in dbs() {
        let src = fixtures::db(&name);
        let before = std::fs::read(&src).unwrap();
        let snap = Snapshot::open(&src).unwrap();
        let store = snap.revisions().unwrap();
        let low = store.compact.max(1);
        let mut revs = vec![low + 1, (low + store.current) / 2, store.current];
        revs.retain(|&r| r > store.compact && r <= store.current);
        revs.dedup();
        for r in revs {
            let out = dir.join(format!("{name}.{r}.db"));
            let rep = rewrite::compact(&snap, r, &Output::new(&out)).unwrap();
            let got = Snapshot::open(&out).unwrap();
            // The key bucket is exactly the expectation; the other buckets are the source's,
            // except the compaction marks.
            let expect = expected_key_bucket(&snap, r);
            assert!(
                bucket_entries(&got, buckets::KEY) == expect,
                "{name}@{r}: key bucket"
            );
            assert_eq!(rep.revisions_after, expect.len() as u64);
            for (b, _) in snap.db().buckets().unwrap() {
                if b == buckets::KEY {
                    continue;
                }
                let mut want = bucket_entries(&snap, b);
                if b == buckets::META {
                    let mark = Revision { main: r, sub: 0 }.to_bytes().to_vec();
                    want.insert(rewrite::SCHEDULED_COMPACT.to_vec(), mark.clone());
                    want.insert(rewrite::FINISHED_COMPACT.to_vec(), mark);
                }
                assert!(bucket_entries(&got, b) == want, "{name}@{r}: bucket {b:?}");
            }
            let gs = got.revisions().unwrap();
            assert_eq!((gs.compact, gs.current), (r, store.current), "{name}@{r}");
            // Every revision still readable reads the same.
            let (si, gi) = (
                RevIndex::build(&snap).unwrap(),
                RevIndex::build(&got).unwrap(),
            );
            for at in [r, (r + store.current) / 2, store.current] {
                let a = si.keyspace_at(at, &KeyRange::all()).unwrap();
                let b = gi.keyspace_at(at, &KeyRange::all()).unwrap();
                let pairs = |k: &etcdsnap_mvcc::Keyspace<'_>| -> Vec<(Vec<u8>, Vec<u8>)> {
                    k.kvs
                        .iter()
                        .map(|kv| (kv.key.to_vec(), kv.rev.record().to_vec()))
                        .collect()
                };
                assert!(pairs(&a) == pairs(&b), "{name}@{r}: keyspace at {at}");
            }
            // Below R is gone, as etcd says it.
            if r > 1 {
                assert!(matches!(
                    gi.keyspace_at(r - 1, &KeyRange::all()),
                    Err(Error::Compacted { .. })
                ));
            }
            // Our verify passes on the output.
            let src_bytes = etcdsnap_bbolt::Source::open(&out).unwrap();
            let v = verify(std::sync::Arc::new(src_bytes), &VerifyOptions::default());
            for c in &v.checks {
                // Compacting at a revision whose newest entries are tombstones drops them, so
                // the marks pass the newest key revision: etcd does the same (the CI script
                // compacts h1 at its newest revision with etcd and compares), verify warns.
                let marks_past_newest = c.status == Status::Warn
                    && c.findings.iter().all(|f| {
                        f.to_string()
                            .contains("is newer than the newest key revision")
                    });
                assert!(
                    matches!(c.status, Status::Ok | Status::Note) || marks_past_newest,
                    "{name}@{r}: verify {} {:?}",
                    c.name,
                    c.status
                );
            }
            assert!(rep.sizes.db_size_after <= rep.sizes.db_size_before + 4096);
            let _ = std::fs::remove_file(&out);
        }
        assert!(
            std::fs::read(&src).unwrap() == before,
            "{name}: input changed"
        );
    }
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn compact_refuses_what_etcd_refuses() {
    let dir = tmpdir("refuse");
    let snap = Snapshot::open(&fixtures::db("h1.db")).unwrap();
    let store = snap.revisions().unwrap();
    let out = Output::new(&dir.join("x.db"));
    assert!(matches!(
        rewrite::compact(&snap, store.compact, &out),
        Err(Error::Compacted { .. })
    ));
    assert!(matches!(
        rewrite::compact(&snap, store.current + 1, &out),
        Err(Error::FutureRevision { .. })
    ));
    assert!(!out.path.exists());
    std::fs::write(&out.path, b"x").unwrap();
    assert!(matches!(
        rewrite::compact(&snap, store.current, &out),
        Err(Error::Write(etcdsnap_bbolt::WriteError::Exists(_)))
    ));
    // Compacting at the current revision keeps one revision per live key, nothing else.
    let mut o = out.clone();
    o.force = true;
    let rep = rewrite::compact(&snap, store.current, &o).unwrap();
    let got = Snapshot::open(&o.path).unwrap();
    let live = etcdsnap_mvcc::keyspace::keyspace_at(&snap, 0, &KeyRange::all(), Default::default())
        .unwrap()
        .kvs
        .len();
    assert_eq!(rep.revisions_after as usize, live);
    for e in got.required(buckets::KEY).unwrap().iter() {
        assert!(!RevKey::parse(e.unwrap().key).unwrap().tombstone);
    }
    let _ = std::fs::remove_dir_all(&dir);
}
