//! The SHA-256 under `verify`, alone: the trailer check `verify` runs on its own thread
//! (`etcdsnap_mvcc::verify::check_trailer`), on the file mapped by the bbolt crate as every
//! command maps it, with nothing running beside it. `verify` must be within 1.2x of `openssl
//! dgst -sha256`; this tells the hash's own cost from the cost of sharing the machine with the
//! walks (docs/performance.md). Prints the check's summary and the time inside the process.
//!
//! Usage: sha-floor FILE

use std::path::Path;
use std::time::Instant;

use etcdsnap_bbolt::db::Source;
use etcdsnap_mvcc::verify::check_trailer;

fn main() -> std::process::ExitCode {
    let Some(path) = std::env::args().nth(1) else {
        eprintln!("usage: sha-floor FILE");
        return std::process::ExitCode::from(2);
    };
    let t0 = Instant::now();
    let source = match Source::open(Path::new(&path)) {
        Ok(s) => s,
        Err(e) => {
            eprintln!("sha-floor: {path}: {e}");
            return std::process::ExitCode::from(2);
        }
    };
    let r = check_trailer(&source);
    println!(
        "{:?}: {} ({:.3} s inside the process)",
        r.status,
        r.summary,
        t0.elapsed().as_secs_f64()
    );
    std::process::ExitCode::SUCCESS
}
