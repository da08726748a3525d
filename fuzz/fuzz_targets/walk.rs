//! Fuzz target: iterate every bucket recursively, and exercise the lookups (get, seek, last,
//! split) on what the iteration finds.
#![no_main]

use etcdsnap_bbolt::{Bucket, Db, OpenOptions};
use libfuzzer_sys::fuzz_target;

fn walk(b: &Bucket<'_>, depth: usize, budget: &mut usize) {
    if depth > 8 {
        return;
    }
    let mut first = None;
    for e in b.iter() {
        let Ok(e) = e else { break };
        if *budget == 0 {
            return;
        }
        *budget -= 1;
        first.get_or_insert(e.key);
        if e.is_bucket() {
            if let Ok(sub) = Bucket::from_value(b.db(), e.key, e.value) {
                walk(&sub, depth + 1, budget);
            }
        }
    }
    let _ = b.last();
    if let Some(k) = first {
        let _ = b.get(k);
        let _ = b.seek(k).take(4).count();
    }
    let _ = b.get(b"consistent_index");
    for it in b.split(3) {
        let _ = it.take(64).count();
    }
}

fuzz_target!(|data: &[u8]| {
    for allow_truncated in [false, true] {
        if let Ok(db) = Db::from_bytes(data.to_vec(), OpenOptions { allow_truncated }) {
            let mut budget = 100_000;
            walk(&db.root(), 0, &mut budget);
            let _ = db.buckets();
            let _ = db.bucket(b"key");
        }
    }
});
