//! Inputs for the criterion benches: a corpus snapshot made by real etcd, and the large
//! snapshot built by `benches/data/make-large-snapshot.sh` when it exists.

use std::path::PathBuf;

/// The large snapshot, if it was built (`$ETCDSNAP_BENCH_DIR` or `~/.cache/etcdsnap-bench`).
pub fn large_snapshot() -> Option<PathBuf> {
    let dir = std::env::var_os("ETCDSNAP_BENCH_DIR")
        .map(PathBuf::from)
        .or_else(|| {
            std::env::var_os("HOME").map(|h| PathBuf::from(h).join(".cache/etcdsnap-bench"))
        })?;
    let p = dir.join("large-a.db");
    p.is_file().then_some(p)
}
