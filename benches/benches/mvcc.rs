//! Hot paths of the MVCC layer: the head keyspace (what `get "" --from-key` builds), the
//! count-only scan, the full revision index, and hashkv.
//!
//! Runs on the corpus's h1.db and on the large snapshot when it was built; `ETCDSNAP_BENCH_DB`
//! names another file instead. Whole-command timings: `benches/mvcc-commands.sh`.
// criterion_group! generates an undocumented function.
#![allow(missing_docs)]

use std::path::PathBuf;

use criterion::{Criterion, criterion_group, criterion_main};
use etcdsnap_mvcc::hashkv::hash_kv;
use etcdsnap_mvcc::keyspace::{ScanOptions, keyspace_at};
use etcdsnap_mvcc::{KeyRange, RevIndex, Snapshot};

fn inputs() -> Vec<PathBuf> {
    if let Some(p) = std::env::var_os("ETCDSNAP_BENCH_DB") {
        return vec![PathBuf::from(p)];
    }
    let mut v = vec![etcdsnap_testkit::corpus_db("h1.db")];
    v.extend(etcdsnap_benches::large_snapshot());
    v
}

fn bench(c: &mut Criterion) {
    for path in inputs() {
        bench_one(c, &path);
    }
}

fn bench_one(c: &mut Criterion, path: &std::path::Path) {
    let snap = Snapshot::open(path).expect("open bench db");
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

criterion_group!(benches, bench);
criterion_main!(benches);
