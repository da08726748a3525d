//! `check_pages` (bbolt's Tx.Check, what `status` runs) against the exhaustive `check_with`:
//! the same page accounting on real and damaged files, no key comparison.

use etcdsnap_bbolt::check::{self, CheckOptions, Problem, Severity};
use etcdsnap_bbolt::{Db, OpenOptions};
use etcdsnap_testkit::{corpus_db, corpus_db_names, mutate};

fn db(bytes: Vec<u8>) -> Db {
    Db::from_bytes(bytes, OpenOptions::default()).unwrap()
}

fn errors(c: &check::Check) -> Vec<Problem> {
    c.findings
        .list
        .iter()
        .filter(|f| f.severity == Severity::Error)
        .map(|f| f.problem.clone())
        .collect()
}

#[test]
fn same_accounting_as_the_full_check() {
    let opts = CheckOptions::default();
    for name in corpus_db_names() {
        let d = db(std::fs::read(corpus_db(&name)).unwrap());
        let (a, b) = (check::check_pages(&d, &opts), check::check_with(&d, &opts));
        assert!(a.is_ok() && b.is_ok(), "{name}");
        assert_eq!(a.stats, b.stats, "{name}");
    }
    for (name, bytes) in mutate::etcdutl_cases() {
        let Ok(d) = Db::from_bytes(bytes, OpenOptions::default()) else {
            continue;
        };
        let (a, b) = (check::check_pages(&d, &opts), check::check_with(&d, &opts));
        assert_eq!(a.stats, b.stats, "{name}");
        // The full check may add key findings; every page finding is in both.
        let full = errors(&b);
        for p in errors(&a) {
            assert!(full.contains(&p), "{name}: {p:?}");
        }
    }
}

#[test]
fn keys_out_of_order_are_left_to_the_full_check() {
    let h5 = std::fs::read(corpus_db("h5-k8s.db")).unwrap();
    let d = db(mutate::swap_first_two_keys(&h5));
    let opts = CheckOptions::default();
    assert!(check::check_pages(&d, &opts).is_ok());
    assert!(
        errors(&check::check_with(&d, &opts))
            .iter()
            .any(|p| matches!(p, Problem::KeyOrder { .. }))
    );
}
