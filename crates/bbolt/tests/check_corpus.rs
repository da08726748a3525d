//! The structural check on real etcd files: every one is clean (errors and warnings), the
//! free pages are reported as information, and the page accounting adds up.

use std::path::{Path, PathBuf};

use etcdsnap_bbolt::check::{self, Severity};
use etcdsnap_bbolt::{Db, OpenOptions};

fn fixtures() -> Vec<PathBuf> {
    let mut v: Vec<PathBuf> = ["h4-empty.db", "h5-k8s.db"]
        .iter()
        .map(|f| {
            Path::new(env!("CARGO_MANIFEST_DIR"))
                .join("tests/data")
                .join(f)
        })
        .collect();
    // The shared corpus, when this machine has it (the tests pass without it).
    if let Ok(rd) = std::fs::read_dir("/work/shared/corpus") {
        let mut more: Vec<PathBuf> = rd
            .filter_map(|e| e.ok().map(|e| e.path()))
            .filter(|p| p.extension().is_some_and(|x| x == "db"))
            .collect();
        more.sort();
        v.extend(more);
    }
    v
}

#[test]
fn real_files_check_clean() {
    for path in fixtures() {
        let db = Db::open_with(&path, OpenOptions::default()).unwrap();
        let metas = check::check_metas(db.file_bytes(), &Default::default());
        let c = check::check(&db);
        for f in metas.findings.list.iter().chain(&c.findings.list) {
            eprintln!("{}: {:?}: {f}", path.display(), f.severity);
        }
        assert_eq!(
            metas.findings.errors + metas.findings.warnings,
            0,
            "{path:?}"
        );
        assert_eq!(c.findings.errors + c.findings.warnings, 0, "{path:?}");
        let s = c.stats;
        eprintln!("{}: {s:?}", path.display());
        // Every page below the high-water mark is in use, free, or unreachable (= free).
        assert_eq!(s.pages_in_use() + s.free + s.unreachable, s.hwm, "{path:?}");
        assert!(c.findings.list.iter().any(|f| f.severity == Severity::Info));
        assert!(s.leaf > 0 && s.buckets >= 10, "{path:?}");
    }
}
