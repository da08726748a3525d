//! Rewrites a bbolt file with the bulk-load writer (a defragmented copy with the sha256
//! trailer): `cargo run -p etcdsnap-bbolt --example rewrite IN OUT`. Used by the real-etcd
//! round-trip script (`.ci/writer-etcd.sh`).

use std::path::Path;

fn main() {
    let args: Vec<String> = std::env::args().collect();
    if args.len() != 3 {
        eprintln!("usage: rewrite IN OUT");
        std::process::exit(2);
    }
    let db = match etcdsnap_bbolt::Db::open(Path::new(&args[1])) {
        Ok(db) => db,
        Err(e) => {
            eprintln!("rewrite: {}: {e}", args[1]);
            std::process::exit(2);
        }
    };
    let opts = etcdsnap_bbolt::write::options_like(&db);
    match etcdsnap_bbolt::write::copy_db(&db, Path::new(&args[2]), opts) {
        Ok(s) => println!(
            "{} pages, {} bytes ({} leaf, {} branch, {} overflow, {} inline buckets)",
            s.pages, s.file_size, s.leaf_pages, s.branch_pages, s.overflow_pages, s.inline_buckets
        ),
        Err(e) => {
            eprintln!("rewrite: {e}");
            std::process::exit(1);
        }
    }
}
