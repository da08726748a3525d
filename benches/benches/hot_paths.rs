//! Hot paths of etcdsnap, on a corpus snapshot (always) and the large one (when built).
// criterion_group! generates an undocumented function.
#![allow(missing_docs)]

use criterion::{Criterion, Throughput, criterion_group, criterion_main};
use etcdsnap_mvcc::{Snapshot, proto::KeyValueRef, status};
use prost::Message;

fn inputs() -> Vec<(String, std::path::PathBuf)> {
    let mut v = vec![("h1".to_string(), etcdsnap_testkit::corpus_db("h1.db"))];
    if let Some(p) = etcdsnap_benches::large_snapshot() {
        v.push(("large".to_string(), p));
    }
    v
}

fn bench_status(c: &mut Criterion) {
    for (name, path) in inputs() {
        let snap = Snapshot::open(&path).unwrap();
        let mut g = c.benchmark_group(format!("status/{name}"));
        g.throughput(Throughput::Bytes(snap.db().size()));
        if name == "large" {
            g.sample_size(10);
        }
        for threads in [1, 2] {
            g.bench_function(format!("threads={threads}"), |b| {
                b.iter(|| status::status(&snap, threads).unwrap())
            });
        }
        g.finish();
    }
}

fn bench_decode(c: &mut Criterion) {
    let snap = Snapshot::open(&etcdsnap_testkit::corpus_db("h1.db")).unwrap();
    let kb = snap.db().bucket(b"key").unwrap().unwrap();
    let values: Vec<&[u8]> = kb.iter().map(|e| e.unwrap().value).collect();
    let bytes: usize = values.iter().map(|v| v.len()).sum();
    let mut g = c.benchmark_group("decode KeyValue (h1 key bucket)");
    g.throughput(Throughput::Bytes(bytes as u64));
    g.bench_function("borrowed KeyValueRef", |b| {
        b.iter(|| {
            values
                .iter()
                .map(|v| KeyValueRef::decode(v).unwrap().mod_revision)
                .sum::<i64>()
        })
    });
    g.bench_function("prost KeyValue", |b| {
        b.iter(|| {
            values
                .iter()
                .map(|v| {
                    etcdsnap_mvcc::proto::KeyValue::decode(*v)
                        .unwrap()
                        .mod_revision
                })
                .sum::<i64>()
        })
    });
    g.finish();
}

fn bench_iterate(c: &mut Criterion) {
    for (name, path) in inputs() {
        let snap = Snapshot::open(&path).unwrap();
        let kb = snap.db().bucket(b"key").unwrap().unwrap();
        let mut g = c.benchmark_group(format!("iterate key bucket/{name}"));
        g.throughput(Throughput::Bytes(snap.db().size()));
        if name == "large" {
            g.sample_size(10);
        }
        g.bench_function("entries", |b| {
            b.iter(|| kb.iter().map(|e| e.unwrap().value.len()).sum::<usize>())
        });
        g.finish();
    }
}

criterion_group!(benches, bench_status, bench_decode, bench_iterate);
criterion_main!(benches);
