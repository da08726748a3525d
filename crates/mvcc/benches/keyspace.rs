//! Hot paths of the MVCC layer: the head keyspace (what `get "" --from-key` builds), the
//! count-only scan, the full revision index, and hashkv.
//!
//! Runs on `ETCDSNAP_BENCH_DB` when set (e.g. the 1.5 GB `large-a.db`), else on the corpus's
//! h1.db. Whole-command comparisons live in the workspace's `benches/` scripts.

use std::path::PathBuf;

use criterion::{Criterion, criterion_main};
use etcdsnap_mvcc::hashkv::hash_kv;
use etcdsnap_mvcc::keyspace::{ScanOptions, keyspace_at};
use etcdsnap_mvcc::{KeyRange, RevIndex, Snapshot};

#[path = "../tests/common/fixtures.rs"]
mod fixtures;

fn db() -> PathBuf {
    match std::env::var_os("ETCDSNAP_BENCH_DB") {
        Some(p) => PathBuf::from(p),
        None => fixtures::db("h1.db"),
    }
}

fn bench(c: &mut Criterion) {
    let path = db();
    let snap = Snapshot::open(&path).expect("open bench db");
    let threads = std::thread::available_parallelism().map_or(1, |n| n.get());
    let mut g = c.benchmark_group(format!(
        "mvcc/{}",
        path.file_name().unwrap_or_default().to_string_lossy()
    ));
    g.sample_size(10);
    for t in [1, threads] {
        g.bench_function(format!("head keyspace sorted, {t} thread(s)"), |b| {
            b.iter(|| {
                keyspace_at(
                    &snap,
                    0,
                    &KeyRange::all(),
                    ScanOptions {
                        threads: t,
                        sort: true,
                    },
                )
                .unwrap()
                .kvs
                .len()
            })
        });
        g.bench_function(format!("head count only, {t} thread(s)"), |b| {
            b.iter(|| {
                keyspace_at(
                    &snap,
                    0,
                    &KeyRange::all(),
                    ScanOptions {
                        threads: t,
                        sort: false,
                    },
                )
                .unwrap()
                .kvs
                .len()
            })
        });
        g.bench_function(format!("hashkv head, {t} thread(s)"), |b| {
            b.iter(|| hash_kv(&snap, 0, t).unwrap().hash)
        });
    }
    g.bench_function("revision index build", |b| {
        b.iter(|| RevIndex::build(&snap).unwrap().revision_count())
    });
    g.finish();
}

// The macro generates an undocumented function.
#[allow(missing_docs)]
mod group {
    criterion::criterion_group!(benches, super::bench);
}
use group::benches;
criterion_main!(benches);
