//! Golden tests of the MVCC layer against what real etcd (3.4.23, 3.5.1) answered for the same
//! stores: every `get` listing (as digests), every `endpoint hashkv` record, etcd's refusals,
//! and internal consistency of the revision index on every fixture file.

mod common;

use std::collections::BTreeMap;

use base64::Engine as _;
use etcdsnap_mvcc::hashkv::hash_kv;
use etcdsnap_mvcc::keyspace::{self, RangeRequest, ScanOptions, keyspace_at};
use etcdsnap_mvcc::proto::{KeyValue, KeyValueRef};
use etcdsnap_mvcc::revision::RevKey;
use etcdsnap_mvcc::snapshot::buckets;
use etcdsnap_mvcc::{Error, KeyRange, RangeResponse, RevIndex, Snapshot};
use prost::Message as _;
use sha2::Digest as _;

use common::fixtures;

fn open(store: &str) -> Snapshot {
    let path = fixtures::db(&format!("{store}.db"));
    Snapshot::open(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

fn hex(b: &[u8]) -> String {
    b.iter().map(|x| format!("{x:02x}")).collect()
}

/// The digest `fixtures/digest-listing.py` makes of an `etcdctl get -w json` listing.
fn digest(resp: &RangeResponse<'_>) -> String {
    let mut s = format!(
        "# revision={} count={} more={}\n",
        resp.header_revision, resp.count, resp.more
    );
    for kv in &resp.kvs {
        s.push_str(&format!(
            "{}\t{}\t{}\t{}\t{}\t{}\t{}\n",
            base64::engine::general_purpose::STANDARD.encode(kv.key),
            kv.create_revision,
            kv.mod_revision,
            kv.version,
            kv.lease,
            kv.value.len(),
            hex(&sha2::Sha256::digest(kv.value))
        ));
    }
    s
}

fn get_all(snap: &Snapshot, rev: i64, threads: usize) -> RangeResponse<'_> {
    let mut req = RangeRequest::new(KeyRange::all());
    req.revision = rev;
    keyspace::range(snap, &req, threads).expect("range")
}

/// Member db files hold the same logical store as the saved snapshot beside them.
fn stores_for(store: &str) -> Vec<String> {
    match store {
        "h2b" => vec!["h2b".into(), "h2-member".into()],
        "own-35" => vec!["own-35".into(), "own-35-member".into()],
        s => vec![s.to_string()],
    }
}

#[test]
fn get_listings_equal_etcdctl() {
    let records = fixtures::records("get", "tsv");
    assert!(records.len() >= 17, "found {} get listings", records.len());
    for r in &records {
        let want = std::fs::read_to_string(&r.path).unwrap();
        for store in stores_for(&r.store) {
            let snap = open(&store);
            for threads in [1, 2] {
                let got = digest(&get_all(&snap, r.rev, threads));
                assert!(
                    got == want,
                    "{} ({store}, {threads} threads): listing differs",
                    r.path.display()
                );
            }
            // The full index answers the same.
            let index = RevIndex::build(&snap).unwrap();
            let ks = index.keyspace_at(r.rev, &KeyRange::all()).unwrap();
            let mut req = RangeRequest::new(KeyRange::all());
            req.revision = r.rev;
            let term = snap.meta_info().unwrap().term;
            let got = digest(&keyspace::respond(&ks, &req, term, 2).unwrap());
            assert!(got == want, "{}: index listing differs", r.path.display());
        }
    }
}

#[test]
fn hashkv_equals_etcd() {
    let records = fixtures::records("hashkv", "json");
    assert!(
        records.len() >= 14,
        "found {} hashkv records",
        records.len()
    );
    for r in &records {
        let doc: serde_json::Value =
            serde_json::from_str(&std::fs::read_to_string(&r.path).unwrap()).unwrap();
        let hk = &doc[0]["HashKV"];
        let (hash, compact, current) = (
            hk["hash"].as_u64().unwrap(),
            hk["compact_revision"].as_i64().unwrap(),
            hk["header"]["revision"].as_i64().unwrap(),
        );
        for store in stores_for(&r.store) {
            let snap = open(&store);
            for threads in [1, 2] {
                let got = hash_kv(&snap, r.rev, threads).unwrap();
                assert_eq!(
                    (u64::from(got.hash), got.compact_revision, got.revision),
                    (hash, compact, current),
                    "{} ({store}, {threads} threads)",
                    r.path.display()
                );
            }
        }
    }
}

#[test]
fn refusals_use_etcds_words() {
    // etcd 3.5.1 refused hashkv at the compaction revision itself (own-*.hashkv.rev226.err).
    for store in ["own-34", "own-35"] {
        let err =
            std::fs::read_to_string(fixtures::own().join(format!("{store}.hashkv.rev226.err")))
                .unwrap();
        let snap = open(store);
        let e = hash_kv(&snap, 226, 1).unwrap_err();
        assert!(matches!(
            e,
            Error::Compacted {
                requested: 226,
                compacted: 226
            }
        ));
        assert!(err.contains(&format!("Error: {e}\n")), "{err}");
        // Reads at the compaction revision are allowed; below it they are not.
        assert!(keyspace::range(&snap, &req_at(226), 1).is_ok());
        let e = keyspace::range(&snap, &req_at(225), 1).unwrap_err();
        assert_eq!(
            e.to_string(),
            "etcdserver: mvcc: required revision has been compacted"
        );
        let e = keyspace::range(&snap, &req_at(257), 1).unwrap_err();
        assert_eq!(
            e.to_string(),
            "etcdserver: mvcc: required revision is a future revision"
        );
        let e = hash_kv(&snap, 257, 1).unwrap_err();
        assert!(matches!(
            e,
            Error::FutureRevision {
                requested: 257,
                current: 256
            }
        ));
        let e = keyspace::range(&snap, &RangeRequest::new(KeyRange::single(b"")), 1).unwrap_err();
        assert_eq!(e.to_string(), "etcdserver: key is not provided");
    }
}

fn req_at(rev: i64) -> RangeRequest {
    let mut r = RangeRequest::new(KeyRange::all());
    r.revision = rev;
    r
}

#[test]
fn range_semantics() {
    let snap = open("own-35");
    // --prefix, --limit with more and the whole range's count.
    let mut req = RangeRequest::new(KeyRange::prefix(b"/registry/pods/"));
    req.limit = 3;
    let resp = keyspace::range(&snap, &req, 1).unwrap();
    assert_eq!(resp.kvs.len(), 3);
    assert!(resp.more);
    let all = get_all(&snap, 0, 1);
    let expected = all
        .kvs
        .iter()
        .filter(|kv| kv.key.starts_with(b"/registry/pods/"))
        .count() as i64;
    assert_eq!(resp.count, expected);
    // count-only and keys-only.
    req.count_only = true;
    let resp = keyspace::range(&snap, &req, 2).unwrap();
    assert!(resp.kvs.is_empty() && !resp.more && resp.count == expected);
    let mut req = RangeRequest::new(KeyRange::single(b"foo"));
    req.keys_only = true;
    let resp = keyspace::range(&snap, &req, 1).unwrap();
    assert_eq!(resp.kvs.len(), 1);
    assert!(resp.kvs[0].value.is_empty() && resp.kvs[0].version == 2);
    // A missing key: nothing, count 0.
    let resp = keyspace::range(&snap, &RangeRequest::new(KeyRange::single(b"nope")), 1).unwrap();
    assert!(resp.kvs.is_empty() && resp.count == 0);
    // [a, b) and from-key.
    let resp = keyspace::range(
        &snap,
        &RangeRequest::new(KeyRange::between(b"/app/", b"/app0")),
        1,
    )
    .unwrap();
    assert!(resp.kvs.iter().all(|kv| kv.key.starts_with(b"/app/")));
    assert!(resp.count > 0);
    let resp = keyspace::range(&snap, &RangeRequest::new(KeyRange::from_key(b"foo")), 1).unwrap();
    assert!(resp.kvs.iter().all(|kv| kv.key >= &b"foo"[..]));
    // Sorting by version descending, ties in key order.
    let mut req = RangeRequest::new(KeyRange::all());
    req.sort_target = keyspace::SortTarget::Version;
    req.sort_order = keyspace::SortOrder::Descend;
    let resp = keyspace::range(&snap, &req, 1).unwrap();
    assert!(
        resp.kvs.windows(2).all(|w| w[0].version > w[1].version
            || (w[0].version == w[1].version && w[0].key < w[1].key))
    );
}

/// Versions, create revisions and generations in the index are what etcd wrote.
#[test]
fn history_is_consistent() {
    for name in fixtures::all_dbs() {
        let snap = Snapshot::open(&fixtures::db(&name)).unwrap();
        let index = RevIndex::build(&snap).unwrap();
        let store = index.store();
        let mut total = 0;
        for h in index.keys() {
            let revs = h.revisions();
            total += revs.len();
            assert!(
                revs.windows(2).all(|w| w[0].revision() < w[1].revision()),
                "{name}"
            );
            for g in h.generations() {
                let mut prev: Option<KeyValueRef<'_>> = None;
                for (i, r) in g.iter().enumerate() {
                    let kv = r.decode().unwrap();
                    assert_eq!(kv.key, h.key(), "{name}");
                    if r.is_tombstone() {
                        assert_eq!(i, g.len() - 1, "{name}: tombstone inside a generation");
                        assert_eq!((kv.create_revision, kv.version, kv.mod_revision), (0, 0, 0));
                        continue;
                    }
                    assert_eq!(kv.mod_revision, r.main(), "{name}");
                    assert!(kv.create_revision <= r.main() && kv.version >= 1, "{name}");
                    if kv.version == 1 {
                        assert_eq!(kv.create_revision, r.main(), "{name}");
                    }
                    if let Some(p) = prev {
                        assert_eq!(kv.create_revision, p.create_revision, "{name}");
                        assert_eq!(kv.version, p.version + 1, "{name}");
                    }
                    prev = Some(kv);
                }
            }
        }
        assert_eq!(total, index.revision_count());
        // The index's keyspace equals the scan's at interesting revisions.
        let mut revs = vec![0, store.current, store.compact, store.compact + 1];
        revs.push((store.compact.max(1) + store.current) / 2);
        for rev in revs {
            if rev < store.compact.max(0) || rev > store.current {
                continue;
            }
            let a = index.keyspace_at(rev, &KeyRange::all()).unwrap();
            let b = keyspace_at(&snap, rev, &KeyRange::all(), ScanOptions::default()).unwrap();
            assert_eq!(a.kvs, b.kvs, "{name} at {rev}");
        }
    }
}

/// The borrowed decoder reads every stored record exactly as prost does.
#[test]
fn keyvalue_ref_equals_prost() {
    let mut n = 0;
    for name in fixtures::all_dbs() {
        let snap = Snapshot::open(&fixtures::db(&name)).unwrap();
        let Some(b) = snap.optional(buckets::KEY).unwrap() else {
            continue;
        };
        for e in b.iter() {
            let e = e.unwrap();
            assert!(RevKey::parse(e.key).is_some(), "{name}");
            let owned = KeyValue::decode(e.value).unwrap();
            let r = KeyValueRef::decode(e.value).unwrap();
            assert_eq!(
                (
                    r.key,
                    r.create_revision,
                    r.mod_revision,
                    r.version,
                    r.value,
                    r.lease
                ),
                (
                    &owned.key[..],
                    owned.create_revision,
                    owned.mod_revision,
                    owned.version,
                    &owned.value[..],
                    owned.lease
                ),
                "{name}"
            );
            n += 1;
        }
    }
    assert!(n > 10_000, "only {n} records");
}

#[test]
fn info_reports_the_cluster() {
    let snap = open("h2a");
    let info = etcdsnap_mvcc::info::info(&snap, 1).unwrap();
    assert!(info.auth.enabled);
    let users: BTreeMap<_, _> = info
        .auth
        .users
        .iter()
        .map(|u| (u.name.clone(), u.roles.clone()))
        .collect();
    assert_eq!(users["alice"], vec!["reader".to_string()]);
    assert_eq!(users["root"], vec!["root".to_string()]);
    let reader = info.auth.roles.iter().find(|r| r.name == "reader").unwrap();
    assert_eq!(reader.permissions[0].key_text, "/registry/");
    assert_eq!(reader.permissions[0].perm_type, "READ");
    assert_eq!(info.leases.len(), 4);
    assert_eq!(info.cluster.members.len(), 1);
    assert_eq!(info.store.current_revision, 96);
    assert_eq!(info.store.compact_revision, 53);
    assert_eq!(info.store.live_keys, 2700);
    let key = info.file.buckets.iter().find(|b| b.name == "key").unwrap();
    assert_eq!(
        key.entries as usize,
        RevIndex::build(&snap).unwrap().revision_count()
    );
    // Never a password hash.
    let json = serde_json::to_string(&info).unwrap();
    assert!(!json.contains("$2a$") && !json.contains("$2b$"), "{json}");
    // own-35: lease EVENTS still carries 14 live keys (5 + 10 events, one rewritten without).
    let snap = open("own-35");
    let info = etcdsnap_mvcc::info::info(&snap, 2).unwrap();
    let attached: Vec<u64> = info.leases.iter().map(|l| l.attached_keys).collect();
    assert_eq!(attached.iter().sum::<u64>(), 14);
    assert!(info.missing_leases.is_empty());
    assert!(
        !etcdsnap_mvcc::info::info(&open("h2b"), 1)
            .unwrap()
            .auth
            .enabled
    );
}

/// The filtered walks (`RevIndex::build_in`, `keyspace_at` on a narrow range) skip decoding the
/// records of other keys; what they return must be exactly what the full index says about the
/// same keys, for single keys, prefixes and ranges, on every fixture.
#[test]
fn narrow_walks_equal_the_full_index() {
    for name in fixtures::all_dbs() {
        let snap = open(name.trim_end_matches(".db"));
        let full = RevIndex::build(&snap).unwrap();
        let keys: Vec<Vec<u8>> = full.keys().map(|h| h.key().to_vec()).collect();
        let mut ranges: Vec<KeyRange> = keys
            .iter()
            .step_by(37.max(keys.len() / 40).max(1))
            .map(|k| KeyRange::single(k))
            .collect();
        ranges.push(KeyRange::single(b"/no/such/key"));
        for k in keys.iter().step_by(97.max(keys.len() / 10).max(1)) {
            let cut = k.len().min(12);
            ranges.push(KeyRange::prefix(&k[..cut]));
            ranges.push(KeyRange::from_key(k));
            ranges.push(KeyRange::between(&k[..cut], k));
        }
        for range in &ranges {
            let narrow = RevIndex::build_in(&snap, range, 2).unwrap();
            assert_eq!(narrow.store(), full.store(), "{name}: {range:?}");
            let histories = |index: &RevIndex<'_>| {
                index
                    .range(range)
                    .map(|h| {
                        let revs: Vec<_> = h.revisions().iter().map(|r| r.revision()).collect();
                        (h.key().to_vec(), revs)
                    })
                    .collect::<Vec<_>>()
            };
            let (a, b) = (histories(&narrow), histories(&full));
            assert_eq!(a, b, "{name}: {range:?}");
            let store = full.store();
            for rev in [0, store.compact.max(1), (store.compact + store.current) / 2] {
                let Ok(expect) = full.keyspace_at(rev, range) else {
                    continue;
                };
                let got = keyspace_at(
                    &snap,
                    rev,
                    range,
                    ScanOptions {
                        threads: 2,
                        sort: true,
                    },
                )
                .unwrap();
                let keys = |ks: &etcdsnap_mvcc::Keyspace<'_>| {
                    ks.key_values()
                        .map(|kv| {
                            let kv = kv.unwrap();
                            (kv.key.to_vec(), kv.mod_revision)
                        })
                        .collect::<Vec<_>>()
                };
                assert_eq!(keys(&got), keys(&expect), "{name}: {range:?} at {rev}");
            }
        }
    }
}
