//! The corpus archive unpacks to etcd's original files.

#[test]
fn every_corpus_db_unpacks_and_matches_the_manifest() {
    let names = etcdsnap_testkit::corpus_db_names();
    assert!(names.len() >= 7, "{names:?}");
    for n in names {
        let p = etcdsnap_testkit::corpus_db(&n);
        assert!(std::fs::metadata(&p).unwrap().len() > 0);
    }
}
