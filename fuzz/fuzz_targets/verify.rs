//! Fuzz target: the whole of `etcdsnap verify` (trailer, metas, structure, etcd layer) on
//! arbitrary bytes. It must end with a report, whatever the input.
#![no_main]

use etcdsnap_mvcc::verify::{VerifyOptions, verify_bytes};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let r = verify_bytes(
        data.to_vec(),
        &VerifyOptions {
            max_findings: 1000,
            parallel: false,
        },
    );
    assert_eq!(r.checks.len(), 4);
    assert_eq!(r.file_size, data.len() as u64);
});
