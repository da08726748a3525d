//! Fuzz target: open a database from arbitrary bytes (meta validation, page size probing,
//! trailer detection) and read the root page and both metas.
#![no_main]

use etcdsnap_bbolt::check::{CheckOptions, check_metas};
use etcdsnap_bbolt::{Db, OpenOptions};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let _ = check_metas(data, &CheckOptions::default());
    for allow_truncated in [false, true] {
        if let Ok(db) = Db::from_bytes(data.to_vec(), OpenOptions { allow_truncated }) {
            let _ = db.page(db.meta().root);
            let _ = db.metas();
            let _ = db.trailer();
            let _ = db.is_truncated();
        }
    }
});
