//! The writer: every real etcd file read, rewritten and read back equal; the result passes the
//! structural check with every page accounted for; random bucket trees (nested, inline, empty,
//! overflow values, page sizes, fill percents) round-trip; the page layout follows bbolt's
//! split rules; the temporary-file and refusal rules hold.

use std::path::{Path, PathBuf};

use etcdsnap_bbolt::check::{self, Severity};
use etcdsnap_bbolt::write::{self, WriteError, WriteOptions, Writer};
use etcdsnap_bbolt::{Bucket, Db, OpenOptions, PageKind};
use proptest::prelude::*;

/// One entry of a recursive listing: the bucket path, the key, and the value or, for a
/// sub-bucket, its sequence.
#[derive(Debug, Clone, PartialEq, Eq)]
enum Item {
    Value(Vec<Vec<u8>>, Vec<u8>, Vec<u8>),
    Bucket(Vec<Vec<u8>>, Vec<u8>, u64),
}

fn dump(b: &Bucket<'_>, path: &mut Vec<Vec<u8>>, out: &mut Vec<Item>) {
    for e in b.iter() {
        let e = e.unwrap();
        if e.is_bucket() {
            let sub = Bucket::from_value(b.db(), e.key, e.value).unwrap();
            out.push(Item::Bucket(path.clone(), e.key.to_vec(), sub.sequence()));
            path.push(e.key.to_vec());
            dump(&sub, path, out);
            path.pop();
        } else {
            out.push(Item::Value(path.clone(), e.key.to_vec(), e.value.to_vec()));
        }
    }
}

fn listing(db: &Db) -> Vec<Item> {
    let mut out = Vec::new();
    dump(&db.root(), &mut Vec::new(), &mut out);
    out
}

fn fixtures() -> Vec<PathBuf> {
    let mut v: Vec<PathBuf> = etcdsnap_testkit::corpus_db_names()
        .iter()
        .map(|n| etcdsnap_testkit::corpus_db(n))
        .collect();
    let own = etcdsnap_testkit::fixtures_dir().join("own");
    for n in ["own-34.db", "own-35.db", "own-35-member.db"] {
        v.push(own.join(n));
    }
    v.push(Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/data/h5-k8s.db"));
    v
}

fn tmpdir(tag: &str) -> PathBuf {
    let d = std::env::temp_dir().join(format!("etcdsnap-write-{tag}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&d);
    std::fs::create_dir_all(&d).unwrap();
    d
}

/// The structural check finds nothing, and every page is reachable (no free, no unreachable).
fn assert_clean(db: &Db, what: &str) {
    let metas = check::check_metas(db.file_bytes(), &Default::default());
    let c = check::check(db);
    for f in metas.findings.list.iter().chain(&c.findings.list) {
        assert!(
            f.severity != Severity::Error && f.severity != Severity::Warning,
            "{what}: {f}"
        );
    }
    assert!(metas.findings.is_ok() && c.is_ok(), "{what}");
    assert_eq!(c.stats.unreachable, 0, "{what}: unreachable pages");
    assert_eq!(c.stats.free, 0, "{what}: free pages");
    assert_eq!(c.stats.hwm, db.hwm(), "{what}");
}

#[test]
fn every_fixture_round_trips() {
    let dir = tmpdir("fixtures");
    for (i, src) in fixtures().into_iter().enumerate() {
        let db = Db::open_with(&src, OpenOptions::default()).unwrap();
        let name = src.file_name().unwrap().to_string_lossy().into_owned();
        let out = dir.join(format!("{i}-{name}"));
        let opts = write::options_like(&db);
        let summary = write::copy_db(&db, &out, opts).unwrap();
        let back = Db::open(&out).unwrap();
        assert_eq!(listing(&db), listing(&back), "{name}: content differs");
        assert_eq!(back.page_size(), db.page_size(), "{name}");
        assert_eq!(back.meta().sequence, db.meta().sequence, "{name}");
        assert_clean(&back, &name);
        // Trailer: the SHA-256 of the database, as etcdctl snapshot save appends it.
        let t = back.trailer().expect("trailer written");
        let bytes = std::fs::read(&out).unwrap();
        assert_eq!(bytes.len() as u64, summary.file_size);
        assert_eq!(t.offset, summary.db_size);
        assert_eq!(
            etcdsnap_testkit::sha256_hex(&bytes[..t.offset as usize]),
            t.digest
                .iter()
                .map(|b| format!("{b:02x}"))
                .collect::<String>()
        );
        // Both metas valid, same tree, txids T and T - 1 with T on page T % 2.
        let m = back.metas();
        let (m0, m1) = (m.meta0.clone().unwrap(), m.meta1.clone().unwrap());
        assert_eq!(
            (m0.root, m0.pgid, m0.freelist),
            (m1.root, m1.pgid, m1.freelist)
        );
        assert_eq!(m0.txid.abs_diff(m1.txid), 1);
        assert_eq!(back.meta().txid % 2, u64::from(back.meta().index));
        assert_eq!(back.meta().txid, db.meta().txid.max(1));
        // Never larger than the source's pages in use, and the counts add up.
        assert!(
            summary.pages <= db.hwm() + 1,
            "{name}: {} pages written for {} in the source",
            summary.pages,
            db.hwm()
        );
        let c = check::check(&back);
        assert_eq!(c.stats.leaf, summary.leaf_pages, "{name}");
        assert_eq!(c.stats.branch, summary.branch_pages, "{name}");
        assert_eq!(
            c.stats.leaf_overflow + c.stats.branch_overflow,
            summary.overflow_pages,
            "{name}"
        );
        // Idempotent: writing the copy again gives the same bytes.
        let again = dir.join(format!("{i}-{name}.again"));
        write::copy_db(&back, &again, write::options_like(&back)).unwrap();
        assert!(
            std::fs::read(&again).unwrap() == bytes,
            "{name}: not idempotent"
        );
    }
    let _ = std::fs::remove_dir_all(&dir);
}

/// bbolt's split rules, checked on a written key bucket: every page but the last of a level
/// holds at least two elements and, when it holds more, stays within the fill threshold;
/// adding the next element would have crossed it.
#[test]
fn pages_are_filled_like_bbolt() {
    let dir = tmpdir("fill");
    for fill in [0.5, 0.9, 1.0] {
        let out = dir.join(format!("f{fill}.db"));
        let mut w = Writer::create(
            &out,
            WriteOptions {
                fill_percent: fill,
                ..WriteOptions::default()
            },
        )
        .unwrap();
        w.begin_bucket(b"key", 0).unwrap();
        let mut sizes = Vec::new();
        for i in 0u64..5000 {
            let k = i.to_be_bytes();
            let v = vec![b'v'; (i as usize * 37) % 300];
            sizes.push(16 + k.len() + v.len());
            w.put(&k, &v).unwrap();
        }
        w.end_bucket().unwrap();
        w.finish().unwrap();
        let db = Db::open(&out).unwrap();
        let key = db.bucket(b"key").unwrap().unwrap();
        // Collect leaf pages in key order with their element counts.
        let mut leaves: Vec<(u64, usize)> = Vec::new();
        for e in key.iter() {
            let e = e.unwrap();
            let p = e.page.unwrap();
            match leaves.last_mut() {
                Some((id, n)) if *id == p => *n += 1,
                _ => leaves.push((p, 1)),
            }
        }
        let threshold = (4096.0 * fill) as usize;
        let mut at = 0;
        for (i, &(id, n)) in leaves.iter().enumerate() {
            let page = db.page(id).unwrap();
            assert_eq!(page.kind(), PageKind::Leaf);
            let used: usize = 16 + sizes[at..at + n].iter().sum::<usize>();
            if i + 1 < leaves.len() {
                assert!(n >= 2);
                if n > 2 {
                    assert!(used <= threshold, "fill {fill}: page {id} uses {used}");
                }
                // The last split of a node may stop early (bbolt splits at the last index
                // visited when no element crosses the threshold); all others may not.
                if i + 2 < leaves.len() {
                    assert!(
                        used + sizes[at + n] > threshold,
                        "fill {fill}: page {id} stopped early"
                    );
                }
            }
            at += n;
        }
        assert_eq!(at, 5000);
        assert_clean(&db, "fill");
    }
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn refuses_existing_output_and_cleans_up() {
    let dir = tmpdir("refuse");
    let out = dir.join("x.db");
    std::fs::write(&out, b"keep me").unwrap();
    let err = Writer::create(&out, WriteOptions::default()).unwrap_err();
    assert!(matches!(err, WriteError::Exists(_)), "{err}");
    assert_eq!(std::fs::read(&out).unwrap(), b"keep me");
    // With force it is replaced; an abandoned writer leaves nothing behind.
    {
        let mut w = Writer::create(
            &out,
            WriteOptions {
                force: true,
                ..WriteOptions::default()
            },
        )
        .unwrap();
        w.begin_bucket(b"a", 0).unwrap();
        w.put(b"k", b"v").unwrap();
        // Out of order: refused, then the writer is dropped.
        assert!(matches!(
            w.put(b"a", b"v"),
            Err(WriteError::KeyOrder { .. })
        ));
    }
    assert_eq!(std::fs::read(&out).unwrap(), b"keep me");
    let names: Vec<_> = std::fs::read_dir(&dir)
        .unwrap()
        .map(|e| e.unwrap().file_name())
        .collect();
    assert_eq!(names.len(), 1, "temporary file left: {names:?}");
    let mut w = Writer::create(
        &out,
        WriteOptions {
            force: true,
            sha256_trailer: false,
            ..WriteOptions::default()
        },
    )
    .unwrap();
    assert!(w.put(b"k", b"v").is_err(), "a value in the root bucket");
    assert!(w.end_bucket().is_err());
    w.begin_bucket(b"b", 7).unwrap();
    let Err(WriteError::Nesting(_)) = w.finish() else {
        panic!("finish with an open bucket must fail")
    };
    let _ = std::fs::remove_dir_all(&dir);
}

/// A random bucket tree: values (some large enough to overflow) and sub-buckets.
#[derive(Debug, Clone)]
enum Node {
    Value(Vec<u8>),
    Bucket(u64, Vec<(Vec<u8>, Node)>),
}

fn node(depth: u32) -> impl Strategy<Value = Node> {
    let value = prop_oneof![
        8 => proptest::collection::vec(any::<u8>(), 0..64),
        2 => proptest::collection::vec(any::<u8>(), 200..1500),
        1 => (5000usize..20000).prop_map(|n| vec![0xAB; n]),
    ]
    .prop_map(Node::Value);
    value.prop_recursive(depth, 200, 40, |inner| {
        (
            any::<u64>(),
            proptest::collection::btree_map(
                proptest::collection::vec(any::<u8>(), 1..24),
                inner,
                0..40,
            ),
        )
            .prop_map(|(seq, m)| Node::Bucket(seq, m.into_iter().collect()))
    })
}

fn feed(w: &mut Writer, entries: &[(Vec<u8>, Node)], path: &mut Vec<Vec<u8>>, out: &mut Vec<Item>) {
    for (k, n) in entries {
        match n {
            Node::Value(v) => {
                w.put(k, v).unwrap();
                out.push(Item::Value(path.clone(), k.clone(), v.clone()));
            }
            Node::Bucket(seq, sub) => {
                w.begin_bucket(k, *seq).unwrap();
                out.push(Item::Bucket(path.clone(), k.clone(), *seq));
                path.push(k.clone());
                feed(w, sub, path, out);
                path.pop();
                w.end_bucket().unwrap();
            }
        }
    }
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 24, ..ProptestConfig::default() })]

    #[test]
    fn random_trees_round_trip(
        top in proptest::collection::btree_map(
            proptest::collection::vec(any::<u8>(), 1..12),
            (any::<u64>(), proptest::collection::btree_map(
                proptest::collection::vec(any::<u8>(), 1..24), node(2), 0..200)),
            0..4),
        page_size in prop_oneof![Just(1024u32), Just(4096), Just(16384)],
        fill in prop_oneof![Just(0.1f64), Just(0.5), Just(0.9), Just(1.0)],
        txid in 1u64..1000,
        trailer in any::<bool>(),
    ) {
        let dir = tmpdir("prop");
        let out = dir.join("p.db");
        let mut w = Writer::create(&out, WriteOptions {
            page_size, fill_percent: fill, txid, sha256_trailer: trailer, force: false,
        }).unwrap();
        let mut expect = Vec::new();
        let top: Vec<(Vec<u8>, Node)> = top
            .into_iter()
            .map(|(k, (seq, m))| (k, Node::Bucket(seq, m.into_iter().collect())))
            .collect();
        feed(&mut w, &top, &mut Vec::new(), &mut expect);
        let summary = w.finish().unwrap();
        let db = Db::open(&out).unwrap();
        prop_assert_eq!(db.page_size(), page_size);
        prop_assert_eq!(db.trailer().is_some(), trailer);
        prop_assert_eq!(db.meta().txid, txid);
        prop_assert_eq!(summary.pages, db.hwm());
        prop_assert!(listing(&db) == expect, "content differs");
        assert_clean(&db, "random tree");
        let _ = std::fs::remove_dir_all(&dir);
    }
}
