//! The floor under `status` on a large file: one CRC-32C over the whole mapped file, read in
//! file order on N threads (pieces combined), with nothing else: no tree walk, no page checks.
//!
//! `status` must hash every key and value of every bucket in key order and run bbolt's page
//! check beside it; this measures what reading the mapped file alone costs on this machine
//! (page-table set-up on first touch, the kernel tearing the mapping down at exit, memory
//! bandwidth), so that `status`'s own cost can be told from the machine's (docs/performance.md).
//! The file is mapped by the bbolt crate, as every command maps it. Prints the CRC (of the
//! file, not etcd's hash) and the time spent inside the process; time the whole process with
//! `/usr/bin/time` or `benches/compare.py` to include the unmapping at exit.
//!
//! Usage: crc-floor FILE [THREADS]

use std::path::Path;
use std::time::Instant;

use etcdsnap_bbolt::db::Source;
use etcdsnap_mvcc::crc::Crc32c;

fn main() -> std::process::ExitCode {
    let args: Vec<String> = std::env::args().collect();
    let Some(path) = args.get(1) else {
        eprintln!("usage: crc-floor FILE [THREADS]");
        return std::process::ExitCode::from(2);
    };
    let threads: usize = args.get(2).and_then(|t| t.parse().ok()).unwrap_or(2).max(1);
    let t0 = Instant::now();
    let source = match Source::open(Path::new(path)) {
        Ok(s) => s,
        Err(e) => {
            eprintln!("crc-floor: {path}: {e}");
            return std::process::ExitCode::from(2);
        }
    };
    let data = source.bytes();
    let per = data.len().div_ceil(threads).max(1);
    let pieces: Vec<Crc32c> = std::thread::scope(|s| {
        let handles: Vec<_> = data
            .chunks(per)
            .map(|part| {
                s.spawn(move || {
                    let mut c = Crc32c::new();
                    for page in part.chunks(4096) {
                        c.update(page);
                    }
                    c
                })
            })
            .collect();
        handles
            .into_iter()
            .map(|h| h.join().unwrap_or_default())
            .collect()
    });
    let mut crc = Crc32c::new();
    for p in &pieces {
        crc.append(p);
    }
    println!(
        "crc32c {:08x} of {} bytes on {} threads in {:.3} s (inside the process)",
        crc.value(),
        data.len(),
        threads,
        t0.elapsed().as_secs_f64()
    );
    std::process::ExitCode::SUCCESS
}
