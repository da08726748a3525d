//! Values made readable for `get --decode`: the rendering lives in [`etcdsnap_k8s::decoded`]
//! (moved there unchanged so that `export --decode` writes the very same document); this module
//! keeps the binary's name for it and the test that runs it over every stored value of the
//! fixtures.

pub use etcdsnap_k8s::decoded::{Decoded, Notes, decode_value};

#[cfg(test)]
mod tests {
    use etcdsnap_k8s::decoded::{decode_value, is_secret_key};
    use serde_json::{Map, Value};

    fn text(d: &etcdsnap_k8s::decoded::Decoded) -> String {
        let mut v = Vec::new();
        d.write_text(&mut v).unwrap();
        String::from_utf8(v).unwrap()
    }

    /// Every stored revision (history included) of every fixture snapshot (corpus, own,
    /// mvcc-get) goes through the decoder and all three renderings without a panic; secrets' payloads never show.
    #[test]
    fn every_stored_value_of_the_corpus() {
        use etcdsnap_mvcc::{RevIndex, Snapshot};
        let fixtures = etcdsnap_testkit::fixtures_dir();
        let mut files: Vec<std::path::PathBuf> = etcdsnap_testkit::corpus_db_names()
            .iter()
            .map(|n| etcdsnap_testkit::corpus_db(n))
            .collect();
        files.extend(
            [
                "own/own-34.db",
                "own/own-35.db",
                "own/own-35-member.db",
                "mvcc-get/store.db",
            ]
            .map(|f| fixtures.join(f)),
        );
        let mut values = 0;
        for file in files {
            let name = file.display().to_string();
            let snap = Snapshot::open(&file).unwrap();
            let index = RevIndex::build(&snap).unwrap();
            for h in index.keys() {
                for r in h.revisions().iter().filter(|r| !r.is_tombstone()) {
                    let kv = r.decode().unwrap();
                    for show in [false, true] {
                        let d = decode_value(kv.key, kv.value, show);
                        let t = text(&d);
                        assert!(t.ends_with('\n'));
                        let mut m = Map::new();
                        d.json_fields(kv.value, &mut m);
                        assert!(m.contains_key("class"));
                        if !show && is_secret_key(kv.key) {
                            assert!(!t.contains("s3cr3t"), "{name}: {t}");
                            assert!(!Value::Object(m).to_string().contains("s3cr3t"));
                        }
                    }
                    values += 1;
                }
            }
        }
        assert!(values > 10_000, "{values}");
    }
}
