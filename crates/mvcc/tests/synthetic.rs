//! MVCC corner cases that no corpus file has, on databases built in memory: hashkv's rules
//! for a tombstone at the compaction revision (kept by etcd >= 3.4.34/3.5.16, deleted by older
//! servers: both files must hash alike) and for an empty Keep set, reads at the compaction
//! boundary, sub-revisions, generations, and hostile records.

mod common;

use common::bolt::{self, del, entry, put};
use etcdsnap_mvcc::hashkv::hash_kv;
use etcdsnap_mvcc::keyspace::{self, RangeRequest};
use etcdsnap_mvcc::{Error, KeyRange, RevIndex};

fn crc_of(entries: &[(Vec<u8>, Vec<u8>)]) -> u32 {
    let mut crc = crc32c::crc32c(b"key");
    for (k, v) in entries {
        crc = crc32c::crc32c_append(crc, k);
        crc = crc32c::crc32c_append(crc, v);
    }
    crc
}

#[test]
fn tombstone_at_compaction_hashes_like_older_servers() {
    // k1 deleted at 3, compaction at 3. A newer etcd keeps the tombstone 3_0t; an older one
    // deleted it. Both files are the same store and must hash alike.
    let newer = [
        put(2, 0, b"k2", 2, 1, b"v"),
        del(3, 0, b"k1"),
        put(4, 0, b"k2", 2, 2, b"w"),
    ];
    let older = [put(2, 0, b"k2", 2, 1, b"v"), put(4, 0, b"k2", 2, 2, b"w")];
    let a = bolt::store(&newer, Some(3));
    let b = bolt::store(&older, Some(3));
    for rev in [0, 4] {
        let ha = hash_kv(&a, rev, 1).unwrap();
        let hb = hash_kv(&b, rev, 2).unwrap();
        assert_eq!(ha.hash, hb.hash);
        // Keep(4) = {4_0}: 2_0 is at/below the compaction and not kept; 3_0t is skipped.
        assert_eq!(ha.hash, crc_of(&[entry(&newer[2])]));
        assert_eq!((ha.compact_revision, ha.revision), (3, 4));
    }
    // At the compaction revision itself etcd 3.4/3.5 refuse hashkv, but reads are allowed.
    assert!(matches!(hash_kv(&a, 3, 1), Err(Error::Compacted { .. })));
    let mut req = RangeRequest::new(KeyRange::all());
    req.revision = 3;
    let resp = keyspace::range(&a, &req, 1).unwrap();
    assert_eq!(resp.kvs.len(), 1);
    assert_eq!(
        (resp.kvs[0].key, resp.kvs[0].value),
        (&b"k2"[..], &b"v"[..])
    );
    req.revision = 2;
    assert!(matches!(
        keyspace::range(&a, &req, 1),
        Err(Error::Compacted {
            requested: 2,
            compacted: 3
        })
    ));
}

#[test]
fn empty_keep_hashes_everything_below_the_compaction() {
    // a lives at 2 (compaction at 2), deleted at 3: nothing is live at 3, so Keep(3) is
    // empty and etcd's rule (b) is off: 2_0 is hashed although it is "below" the compaction.
    let changes = [put(2, 0, b"a", 2, 1, b"x"), del(3, 0, b"a")];
    let s = bolt::store(&changes, Some(2));
    let h = hash_kv(&s, 3, 1).unwrap();
    assert_eq!(h.hash, crc_of(&[entry(&changes[0]), entry(&changes[1])]));
    // With a live key elsewhere Keep is not empty and 2_0 (not kept) drops out.
    let changes = [
        put(2, 0, b"a", 2, 1, b"x"),
        del(3, 0, b"a"),
        put(4, 0, b"b", 4, 1, b"y"),
    ];
    let s = bolt::store(&changes, Some(2));
    let h = hash_kv(&s, 4, 2).unwrap();
    assert_eq!(h.hash, crc_of(&[entry(&changes[1]), entry(&changes[2])]));
    // Never compacted: every entry <= R, nothing decoded.
    let s = bolt::store(&changes, None);
    assert_eq!(
        hash_kv(&s, 3, 1).unwrap().hash,
        crc_of(&[entry(&changes[0]), entry(&changes[1])])
    );
    assert_eq!(hash_kv(&s, 0, 1).unwrap().compact_revision, -1);
}

#[test]
fn keyspace_and_generations_with_sub_revisions() {
    // One transaction at 5 writes x and y (subs 0, 1) and deletes z (sub 2); x is recreated.
    let changes = [
        put(2, 0, b"z", 2, 1, b"z1"),
        put(3, 0, b"x", 3, 1, b"x1"),
        put(5, 0, b"x", 3, 2, b"x2"),
        put(5, 1, b"y", 5, 1, b"y1"),
        del(5, 2, b"z"),
        del(6, 0, b"x"),
        put(7, 0, b"x", 7, 1, b"x3"),
    ];
    let s = bolt::store(&changes, None);
    let index = RevIndex::build(&s).unwrap();
    assert_eq!((index.key_count(), index.revision_count()), (3, 7));
    let x = index.get(b"x").unwrap();
    let gens: Vec<usize> = x.generations().map(|g| g.len()).collect();
    assert_eq!(gens, vec![3, 1]);
    assert!(x.live_at(6).is_none());
    assert_eq!(x.live_at(5).unwrap().revision().main, 5);
    assert_eq!(index.get(b"y").unwrap().revisions()[0].sub(), 1);
    for (rev, keys) in [
        (2, vec![&b"z"[..]]),
        (4, vec![b"x", b"z"]),
        (5, vec![b"x", b"y"]),
        (6, vec![b"y"]),
        (7, vec![b"x", b"y"]),
    ] {
        let a = index.keyspace_at(rev, &KeyRange::all()).unwrap();
        let got: Vec<&[u8]> = a.kvs.iter().map(|k| k.key).collect();
        assert_eq!(got, keys, "at {rev}");
        let b = keyspace::keyspace_at(&s, rev, &KeyRange::all(), Default::default()).unwrap();
        assert_eq!(a.kvs, b.kvs, "at {rev}");
    }
    assert!(matches!(
        index.keyspace_at(8, &KeyRange::all()),
        Err(Error::FutureRevision {
            requested: 8,
            current: 7
        })
    ));
}

#[test]
fn hostile_records_are_errors_not_panics() {
    // A key that is not a revision, and a value that is not a KeyValue.
    let db = bolt::database(vec![
        (b"key", vec![(b"short".to_vec(), b"\x0a\x01k".to_vec())]),
        (b"meta", vec![]),
    ]);
    let s = etcdsnap_mvcc::Snapshot::from_db(db);
    let e = RevIndex::build(&s).unwrap_err();
    assert!(matches!(e, Error::BadRevisionKey { .. }), "{e}");
    let mut k = bolt::rev_bytes(2);
    k.push(b't');
    let db = bolt::database(vec![
        (
            b"key",
            vec![(bolt::rev_bytes(1), b"\x0a\xff".to_vec()), (k, vec![])],
        ),
        (b"meta", vec![]),
    ]);
    let s = etcdsnap_mvcc::Snapshot::from_db(db);
    let e = RevIndex::build(&s).unwrap_err();
    assert!(
        e.to_string()
            .contains("revision 1_0: cannot decode mvccpb.KeyValue"),
        "{e}"
    );
    assert!(keyspace::keyspace_at(&s, 0, &KeyRange::all(), Default::default()).is_err());
    // A restore's bump marker: an empty value (user key ""), never listed by get.
    let db = bolt::database(vec![
        (
            b"key",
            vec![
                entry(&put(2, 0, b"a", 2, 1, b"v")),
                (bolt::rev_bytes(9), vec![]),
            ],
        ),
        (b"meta", vec![]),
    ]);
    let s = etcdsnap_mvcc::Snapshot::from_db(db);
    let resp = keyspace::range(&s, &RangeRequest::new(KeyRange::all()), 1).unwrap();
    assert_eq!((resp.count, resp.header_revision), (1, 9));
    assert_eq!(RevIndex::build(&s).unwrap().key_count(), 2);
}

#[test]
fn a_bolt_file_without_a_key_bucket_is_not_etcd() {
    let s = etcdsnap_mvcc::Snapshot::from_db(bolt::database(vec![(b"other", vec![])]));
    for e in [
        keyspace::range(&s, &RangeRequest::new(KeyRange::all()), 1).unwrap_err(),
        hash_kv(&s, 0, 1).unwrap_err(),
        RevIndex::build(&s).unwrap_err(),
    ] {
        assert!(matches!(e, Error::MissingBucket("key")), "{e}");
    }
}

#[test]
fn keyspaces_feed_diff() {
    let changes = [
        put(2, 0, b"a", 2, 1, b"x"),
        put(3, 0, b"b", 3, 1, b"y"),
        put(4, 0, b"a", 2, 2, b"x2"),
        del(5, 0, b"b"),
        put(6, 0, b"c", 6, 1, b"z"),
    ];
    let s = bolt::store(&changes, None);
    let index = RevIndex::build(&s).unwrap();
    let at3 = index.keyspace_at(3, &KeyRange::all()).unwrap();
    let at6 = index.keyspace_at(6, &KeyRange::all()).unwrap();
    assert_eq!((at3.len(), at6.len()), (2, 2));
    let mut seen = Vec::new();
    let summary = etcdsnap_mvcc::diff::diff(at3.key_values(), at6.key_values(), |c| {
        seen.push((c.kind, c.a.or(c.b).unwrap().key.to_vec()));
        Ok::<_, Error>(())
    })
    .unwrap();
    use etcdsnap_mvcc::diff::ChangeKind::*;
    assert_eq!(
        seen,
        vec![
            (Modified, b"a".to_vec()),
            (Deleted, b"b".to_vec()),
            (Added, b"c".to_vec())
        ]
    );
    assert_eq!(
        (summary.added, summary.deleted, summary.modified),
        (1, 1, 1)
    );
}
