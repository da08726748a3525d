//! Property: whatever bytes of a real snapshot are truncated or flipped, opening, iterating
//! every bucket, looking keys up and checking the structure end with a value or an error:
//! never a panic, never a hang.

use std::path::Path;
use std::sync::OnceLock;

use etcdsnap_bbolt::{Bucket, Db, OpenOptions, check};
use proptest::prelude::*;

fn fixture() -> &'static [u8] {
    static F: OnceLock<Vec<u8>> = OnceLock::new();
    F.get_or_init(|| {
        std::fs::read(Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/data/h5-k8s.db")).unwrap()
    })
}

fn walk(b: &Bucket<'_>, depth: usize) -> usize {
    let mut n = 0;
    for e in b.iter() {
        let Ok(e) = e else { break };
        n += 1;
        if e.is_bucket()
            && depth < 4
            && let Ok(sub) = Bucket::from_value(b.db(), e.key, e.value)
        {
            n += walk(&sub, depth + 1);
        }
        let _ = b.get(e.key);
    }
    let _ = b.last();
    n
}

fn exercise(bytes: Vec<u8>) {
    for allow_truncated in [false, true] {
        if let Ok(db) = Db::from_bytes(bytes.clone(), OpenOptions { allow_truncated }) {
            walk(&db.root(), 0);
            let _ = db.buckets();
            let c = check::check(&db);
            assert!(c.findings.total >= c.findings.list.len() as u64);
        }
    }
    let _ = check::check_metas(&bytes, &Default::default());
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 96, .. ProptestConfig::default() })]

    #[test]
    fn truncated_anywhere(len in 0usize..204_832) {
        exercise(fixture()[..len].to_vec());
    }

    #[test]
    fn flipped_anywhere(flips in prop::collection::vec((0usize..204_800, 0u8..8), 1..16)) {
        let mut b = fixture().to_vec();
        for (at, bit) in flips {
            b[at] ^= 1 << bit;
        }
        exercise(b);
    }

    #[test]
    fn flipped_in_headers(flips in prop::collection::vec((0usize..50, 0usize..64, 0u8..8), 1..8)) {
        // Page headers and the first element headers, where the structure lives.
        let mut b = fixture().to_vec();
        for (page, off, bit) in flips {
            b[page * 4096 + off] ^= 1 << bit;
        }
        exercise(b);
    }
}
