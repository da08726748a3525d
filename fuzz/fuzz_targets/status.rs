//! Fuzz target: `etcdutl snapshot status` as `etcdsnap status` computes it, single- and
//! multi-threaded (the two must agree).
#![no_main]

use etcdsnap_bbolt::{Db, OpenOptions};
use etcdsnap_mvcc::{Snapshot, status};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    if let Ok(db) = Db::from_bytes(data.to_vec(), OpenOptions::default()) {
        let snap = Snapshot::from_db(db);
        let one = status::status(&snap, 1);
        let two = status::status(&snap, 2);
        if let (Ok(a), Ok(b)) = (&one, &two) {
            assert_eq!(a, b);
        }
        for rules in [status::Rules::Etcd36, status::Rules::Etcd37] {
            let one = status::status_with(&snap, 1, rules);
            let two = status::status_with(&snap, 3, rules);
            if let (Ok(a), Ok(b)) = (&one, &two) {
                assert_eq!(a, b);
            }
        }
        let _ = etcdsnap_bbolt::check::check_pages(snap.db(), &Default::default());
        let _ = etcdsnap_mvcc::versions::writer(&snap);
        let _ = snap.meta_info();
        let _ = snap.revisions();
    }
});
