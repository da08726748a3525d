//! `status_with` per etcd release on every corpus snapshot: 3.5 rules equal `status`; 3.6/3.7
//! count the keys etcd's own keyspace scan finds live at the head; the count and the hash do
//! not depend on how the `key` bucket is split across threads.

use etcdsnap_mvcc::Snapshot;
use etcdsnap_mvcc::keyspace::{ScanOptions, keyspace_at};
use etcdsnap_mvcc::range::KeyRange;
use etcdsnap_mvcc::status::{self, Rules};
use etcdsnap_testkit::{corpus_db, corpus_db_names};

#[test]
fn live_keys_and_hash_on_any_number_of_threads() {
    for name in corpus_db_names() {
        let snap = Snapshot::open(&corpus_db(&name)).unwrap();
        let v35 = status::status(&snap, 1).unwrap();
        let live = keyspace_at(
            &snap,
            0,
            &KeyRange::all(),
            ScanOptions {
                threads: 1,
                sort: false,
            },
        )
        .unwrap()
        .len() as u64;
        for threads in [1, 2, 3, 8] {
            let a = status::status_with(&snap, threads, Rules::Etcd35).unwrap();
            assert_eq!(a.status, v35, "{name} {threads}");
            assert_eq!(a.version, None);
            for rules in [Rules::Etcd36, Rules::Etcd37] {
                let b = status::status_with(&snap, threads, rules).unwrap();
                assert_eq!(b.status.hash, v35.hash, "{name} {threads}");
                assert_eq!(b.status.revision, v35.revision, "{name}");
                assert_eq!(b.status.total_size, v35.total_size, "{name}");
                assert_eq!(b.status.total_key, live, "{name} {threads} {rules:?}");
                assert_eq!(b.version.as_deref(), Some(""), "{name}");
            }
        }
    }
}
