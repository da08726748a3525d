//! Times the phases of `verify` one by one on a file: the SHA-256, the meta check, the
//! structural check and the whole (parallel) verify. For docs/performance.md.
//!
//! usage: cargo run --release -p etcdsnap-mvcc --example verify_phases -- FILE

use std::sync::Arc;
use std::time::Instant;

use etcdsnap_bbolt::check::{self, CheckOptions};
use etcdsnap_bbolt::{Db, OpenOptions, Source};
use etcdsnap_mvcc::verify::{VerifyOptions, verify};
use sha2::{Digest, Sha256};

fn main() {
    let path = std::env::args().nth(1).expect("usage: verify_phases FILE");
    let t = Instant::now();
    let src = Arc::new(Source::open(path.as_ref()).expect("open"));
    println!("map            {:>8.3} s", t.elapsed().as_secs_f64());
    let buf = src.bytes()[..src.bytes().len().min(256 << 20)].to_vec();
    let t = Instant::now();
    let d = Sha256::digest(&buf);
    println!(
        "sha256 256 MiB in memory {:>8.3} s ({:02x})",
        t.elapsed().as_secs_f64(),
        d[0]
    );
    drop(buf);
    // As verify hashes: the file through pread in pieces (Source::for_each_piece).
    let t = Instant::now();
    let mut h = Sha256::new();
    src.for_each_piece(src.bytes().len(), |p| h.update(p));
    let d = h.finalize();
    println!(
        "sha256 (pread) {:>8.3} s  ({:02x}{:02x}..)",
        t.elapsed().as_secs_f64(),
        d[0],
        d[1]
    );
    let t = Instant::now();
    let m = check::check_metas(src.bytes(), &CheckOptions::default());
    println!(
        "metas          {:>8.3} s  ({} findings)",
        t.elapsed().as_secs_f64(),
        m.findings.total
    );
    let db = Db::from_source(
        src.clone(),
        OpenOptions {
            allow_truncated: true,
        },
    )
    .expect("db");
    let t = Instant::now();
    let c = check::check(&db);
    println!(
        "structure      {:>8.3} s  ({} findings)",
        t.elapsed().as_secs_f64(),
        c.findings.total
    );
    for parallel in [false, true] {
        let t = Instant::now();
        let r = verify(
            src.clone(),
            &VerifyOptions {
                parallel,
                ..Default::default()
            },
        );
        println!(
            "verify {}  {:>8.3} s  (ok: {})",
            if parallel { "2 thr" } else { "1 thr" },
            t.elapsed().as_secs_f64(),
            r.ok
        );
    }
}
