//! The full-keyspace structures (the sharded newest-per-key pass behind `keyspace_at` and
//! hashkv's Keep(R), the interned revision index with its bucket sort and value lengths) give
//! the answers of the plain algorithms they replaced, on random stores: random puts and
//! deletes over a small key pool (so keys repeat far apart, the shape they are built for),
//! transactions of several changes (sub revisions), the empty key, and compactions, some
//! applied to the file as etcd applies them. The reference side is the straightforward one:
//! ordered maps of owned keys, filled in revision order.

mod common;

use std::collections::{BTreeMap, BTreeSet};

use common::bolt::{self, Change, del, entry, put};
use etcdsnap_mvcc::diff::{self, ChangeKind, KEYS_PER_TASK, diff_keyspaces};
use etcdsnap_mvcc::hashkv::{hash_kv, resolve_hash};
use etcdsnap_mvcc::keyspace::{ScanOptions, keyspace_at};
use etcdsnap_mvcc::{KeyRange, RevIndex};
use etcdsnap_testkit::rng::Rng;

/// A stored revision as compared: (main, sub, tombstone, value length).
type Stored = (i64, i64, bool, usize);

/// A live key as compared: (key, (main, sub, value)).
type Live = (Vec<u8>, (i64, i64, Vec<u8>));

/// One stored change, owned.
#[derive(Clone, Debug)]
struct Rec {
    main: i64,
    sub: i64,
    key: Vec<u8>,
    /// (create, version, value); `None` for a tombstone.
    put: Option<(i64, i64, Vec<u8>)>,
}

fn random_history(rng: &mut Rng) -> Vec<Rec> {
    let pool: Vec<Vec<u8>> = (0..2 + rng.below(30))
        .map(|i| match i {
            0 => b"/registry/pods/default/a".to_vec(),
            1 => b"b".to_vec(),
            // Keys that share long prefixes, and one that is a prefix of another.
            n => format!("/registry/configmaps/ns-{}/object-{}", n % 3, n).into_bytes(),
        })
        .collect();
    let mut live: BTreeMap<Vec<u8>, (i64, i64)> = BTreeMap::new();
    let mut out = Vec::new();
    let mut main = 2;
    for _ in 0..1 + rng.below(250) {
        let changes = 1 + rng.below(3);
        let mut touched = BTreeSet::new();
        let mut sub = 0;
        for _ in 0..changes {
            let key = pool[rng.below(pool.len() as u64) as usize].clone();
            if !touched.insert(key.clone()) {
                continue;
            }
            if live.contains_key(&key) && rng.below(4) == 0 {
                live.remove(&key);
                out.push(Rec {
                    main,
                    sub,
                    key,
                    put: None,
                });
            } else {
                let (create, version) = live.get(&key).map_or((main, 1), |&(c, v)| (c, v + 1));
                live.insert(key.clone(), (create, version));
                let value = vec![b'v'; rng.below(40) as usize];
                out.push(Rec {
                    main,
                    sub,
                    key,
                    put: Some((create, version, value)),
                });
            }
            sub += 1;
        }
        main += 1;
    }
    out
}

/// What etcd's compaction at `c` leaves: every record above `c`, and at or below it the
/// newest put of each key (a tombstone at exactly `c` kept, as etcd >= 3.5.16 keeps it).
fn compacted(recs: &[Rec], c: i64) -> Vec<Rec> {
    let mut newest: BTreeMap<&[u8], (i64, i64)> = BTreeMap::new();
    for r in recs.iter().filter(|r| r.main <= c) {
        newest.insert(&r.key, (r.main, r.sub));
    }
    recs.iter()
        .filter(|r| {
            r.main > c
                || newest.get(r.key.as_slice()) == Some(&(r.main, r.sub))
                    && (r.put.is_some() || r.main == c)
        })
        .cloned()
        .collect()
}

fn changes(recs: &[Rec]) -> Vec<Change<'_>> {
    recs.iter()
        .map(|r| match &r.put {
            Some((create, version, value)) => put(r.main, r.sub, &r.key, *create, *version, value),
            None => del(r.main, r.sub, &r.key),
        })
        .collect()
}

/// The reference keyspace at `at`: key -> (main, sub, value) of the live put.
fn naive_keyspace(recs: &[Rec], at: i64) -> BTreeMap<Vec<u8>, (i64, i64, Vec<u8>)> {
    let mut m = BTreeMap::new();
    for r in recs.iter().filter(|r| r.main <= at) {
        match &r.put {
            Some((_, _, v)) => m.insert(r.key.clone(), (r.main, r.sub, v.clone())),
            None => m.remove(&r.key),
        };
    }
    m.remove(&b""[..]);
    m
}

/// The reference hashkv (etcd 3.5.16's rules): Keep(R) from a map of owned keys.
fn naive_hash(recs: &[Rec], compact: i64, at: i64) -> u32 {
    let mut newest: BTreeMap<&[u8], (i64, i64, bool)> = BTreeMap::new();
    for r in recs.iter().filter(|r| r.main <= at) {
        newest.insert(&r.key, (r.main, r.sub, r.put.is_none()));
    }
    let keep_nonempty = newest.values().any(|&(_, _, tomb)| !tomb);
    let mut crc = crc32c::crc32c(b"key");
    for (r, c) in recs.iter().zip(changes(recs)) {
        if r.main > at {
            break;
        }
        let tomb = r.put.is_none();
        if r.main <= compact {
            if keep_nonempty && newest.get(r.key.as_slice()) != Some(&(r.main, r.sub, false)) {
                continue;
            }
            if tomb && r.main == compact {
                continue;
            }
        }
        let (k, v) = entry(&c);
        crc = crc32c::crc32c_append(crc, &k);
        crc = crc32c::crc32c_append(crc, &v);
    }
    crc
}

#[test]
fn full_keyspace_structures_match_the_plain_algorithms() {
    let mut rng = Rng(0x9E37_79B9_7F4A_7C15);
    for case in 0..120 {
        let mut recs = random_history(&mut rng);
        if rng.below(5) == 0 {
            // A restore's --bump-revision marker: the empty key, an empty record.
            let main = recs.last().map_or(2, |r| r.main) + 1 + rng.below(5) as i64;
            recs.push(Rec {
                main,
                sub: 0,
                key: Vec::new(),
                put: Some((main, 1, Vec::new())),
            });
        }
        let current = recs.last().map_or(1, |r| r.main);
        let compact = match rng.below(3) {
            0 => None,
            _ => Some(1 + rng.below(current as u64) as i64),
        };
        let stored = match compact {
            Some(c) if rng.below(2) == 0 => compacted(&recs, c),
            _ => recs.clone(),
        };
        let snap = bolt::store(&changes(&stored), compact);
        let store = snap.revisions().unwrap();
        // The index: per key, every stored revision in order, with its value length; one
        // walk, or shards of the keys merged (2 and 3 threads, capped at the cores).
        for threads in [1, 2, 3] {
            let index = RevIndex::build_in(&snap, &KeyRange::all(), threads).unwrap();
            let mut groups: BTreeMap<&[u8], Vec<Stored>> = BTreeMap::new();
            for r in &stored {
                groups.entry(&r.key).or_default().push((
                    r.main,
                    r.sub,
                    r.put.is_none(),
                    r.put.as_ref().map_or(0, |p| p.2.len()),
                ));
            }
            let got: Vec<(&[u8], Vec<Stored>)> = index
                .keys()
                .map(|h| {
                    let revs = h
                        .revisions()
                        .iter()
                        .map(|r| (r.main(), r.sub(), r.is_tombstone(), r.value_len()))
                        .collect();
                    (h.key(), revs)
                })
                .collect();
            let want: Vec<(&[u8], Vec<Stored>)> = groups.into_iter().collect();
            assert_eq!(got, want, "case {case}: index, {threads} threads");
            assert_eq!(index.revision_count(), stored.len(), "case {case}");
        }

        let index = RevIndex::build(&snap).unwrap();

        // The keyspace at the compaction, the newest revision and a few between, on one and
        // two threads.
        let lo = store.compact.max(1);
        let mut revs = vec![lo, store.current];
        revs.extend((0..4).map(|_| lo + rng.below((store.current - lo + 1) as u64) as i64));
        for at in revs {
            let want = naive_keyspace(&stored, at);
            for threads in [1, 2] {
                for sort in [true, false] {
                    let ks =
                        keyspace_at(&snap, at, &KeyRange::all(), ScanOptions { threads, sort })
                            .unwrap();
                    let mut got: Vec<Live> = ks
                        .key_values()
                        .map(|kv| kv.unwrap())
                        .zip(&ks.kvs)
                        .map(|(kv, kr)| {
                            (
                                kv.key.to_vec(),
                                (kr.rev.main(), kr.rev.sub(), kv.value.to_vec()),
                            )
                        })
                        .collect();
                    if !sort {
                        got.sort();
                    }
                    let want: Vec<_> = want.clone().into_iter().collect();
                    assert_eq!(
                        got, want,
                        "case {case}: keyspace at {at}, {threads} threads"
                    );
                }
            }
            let from_index = index.keyspace_at(at, &KeyRange::all()).unwrap();
            assert_eq!(from_index.len(), want.len(), "case {case}: index at {at}");
        }

        // diff between two revisions: the merge in key ranges on several threads (runs of 1,
        // 2 and 5 keys, so that small stores are cut) hands over the plain merge's changes,
        // in its order, with its counts.
        let ks_at = |at| {
            keyspace_at(
                &snap,
                at,
                &KeyRange::all(),
                ScanOptions {
                    threads: 1,
                    sort: true,
                },
            )
            .unwrap()
        };
        type Sig = (ChangeKind, Vec<u8>, bool);
        let sig = |c: &diff::Change<'_, '_>| -> Sig {
            let key = c.a.or(c.b).map_or_else(Vec::new, |kv| kv.key.to_vec());
            (c.kind, key, c.value_changed)
        };
        for _ in 0..3 {
            let span = (store.current - lo + 1) as u64;
            let (ra, rb) = (lo + rng.below(span) as i64, lo + rng.below(span) as i64);
            let (a, b) = (ks_at(ra), ks_at(rb));
            let mut want: Vec<Sig> = Vec::new();
            let want_sum = diff::diff(a.key_values(), b.key_values(), |c| {
                want.push(sig(c));
                Ok::<(), etcdsnap_mvcc::Error>(())
            })
            .unwrap();
            for (threads, per_task) in [(1, KEYS_PER_TASK), (2, 1), (3, 2), (2, 5)] {
                let mut got: Vec<Sig> = Vec::new();
                let got_sum = diff_keyspaces(
                    &a,
                    &b,
                    threads,
                    per_task,
                    |e| e,
                    |e| e,
                    |c| {
                        got.push(sig(c));
                        Ok(())
                    },
                )
                .unwrap();
                assert_eq!(
                    (got_sum, &got),
                    (want_sum, &want),
                    "case {case}: diff {ra} -> {rb}, {threads} threads, runs of {per_task}"
                );
            }
        }

        // hashkv at every revision it accepts (a sample of them), on one and two threads.
        for at in (1..=store.current).filter(|_| rng.below(4) == 0) {
            if resolve_hash(&store, at).is_err() {
                continue;
            }
            let want = naive_hash(&stored, store.compact, at);
            for threads in [1, 2] {
                let got = hash_kv(&snap, at, threads).unwrap();
                assert_eq!(
                    got.hash, want,
                    "case {case}: hashkv at {at}, {threads} threads"
                );
            }
        }
    }
}
