//! Fuzz target: `etcdutl snapshot status` as `etcdsnap status` computes it, single- and
//! multi-threaded (the two must agree), and the one-walk status, which may answer only where
//! bbolt's check passes, and then with the same figures.
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
        let all = etcdsnap_bbolt::check::CheckOptions {
            max_findings: usize::MAX,
        };
        let check = etcdsnap_bbolt::check::check_pages(snap.db(), &all);
        // The one-walk status answers only where the check passes, with status's figures.
        if let Some(fast) = status::status_if_sound(&snap, 2) {
            assert!(!check.findings.list.iter().any(|f| f.refused_by_etcdutl()));
            assert_eq!(status::status(&snap, 1).ok(), Some(fast));
        }
        let _ = etcdsnap_mvcc::versions::writer(&snap);
        let _ = snap.meta_info();
        let _ = snap.revisions();
    }
});
