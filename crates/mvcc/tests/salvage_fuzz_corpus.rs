//! `salvage` over every damaged file the fuzzers kept (`fuzz/corpus/{open,walk,status,verify}`
//! and `fuzz/regressions`): truncated, hostile and mutated bbolt files. It never panics; it
//! either says nothing can be recovered or writes a file that passes the structural check with
//! every page accounted for, whose `key` entries all come from the input's bytes.

use std::path::Path;
use std::sync::Arc;

use etcdsnap_bbolt::check;
use etcdsnap_bbolt::{Db, Source};
use etcdsnap_mvcc::rewrite::Output;
use etcdsnap_mvcc::salvage::{SalvageOptions, salvage};

fn contains(hay: &[u8], needle: &[u8]) -> bool {
    needle.is_empty() || hay.windows(needle.len()).any(|w| w == needle)
}

#[test]
fn salvage_replays_the_fuzz_corpus() {
    let fuzz = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../fuzz");
    let dir = std::env::temp_dir().join(format!("etcdsnap-salvage-fuzz-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    let (mut n, mut written) = (0, 0);
    for sub in ["corpus", "regressions"] {
        for target in ["open", "walk", "status", "verify"] {
            let Ok(rd) = std::fs::read_dir(fuzz.join(sub).join(target)) else {
                continue;
            };
            for e in rd.flatten() {
                let data = std::fs::read(e.path()).unwrap();
                for deep in [false, true] {
                    n += 1;
                    let out = dir.join("o.db");
                    let mut o = Output::new(&out);
                    o.force = true;
                    let r = salvage(
                        Arc::new(Source::from_vec(data.clone())),
                        &o,
                        SalvageOptions { deep },
                    );
                    match r {
                        Ok(_) => {
                            written += 1;
                            let db = Db::open(&out).unwrap();
                            let c = check::check(&db);
                            assert!(c.is_ok(), "{:?}", e.path());
                            assert_eq!(c.stats.free + c.stats.unreachable, 0, "{:?}", e.path());
                            if let Some(kb) = db.bucket(b"key").unwrap() {
                                for kv in kb.iter() {
                                    let kv = kv.unwrap();
                                    assert!(
                                        contains(&data, kv.key) && contains(&data, kv.value),
                                        "{:?}: an entry not in the input",
                                        e.path()
                                    );
                                }
                            }
                        }
                        Err(etcdsnap_mvcc::Error::Salvage(_)) => {}
                        Err(err) => panic!("{:?}: {err}", e.path()),
                    }
                }
            }
        }
    }
    assert!(n > 100, "only {n} inputs");
    assert!(written > 10, "salvage wrote only {written} of {n}");
    let _ = std::fs::remove_dir_all(&dir);
}
