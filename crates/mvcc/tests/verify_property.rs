//! Property (issue 17): no mutant that changes data etcd reads is called sound.
//!
//! Each case damages a real snapshot (random bit flips and byte writes in the pages in use,
//! lowered element counts, redirected branch children), reseals the sha256 trailer so that
//! only the structure and etcd checks can see the damage, and reads the mutant through our own
//! reader. Whenever what the reader yields differs from what it yields for the original, in
//! the projection below, `verify` must not say OK. The projection is what etcd reads and what
//! the file keeps a redundant trace of:
//!
//! - whether every bucket can be read to its end (a read error is a difference);
//! - the names of the top-level buckets;
//! - every entry of the `key` bucket: its main revision, its sub-revision above the
//!   compaction, tombstone or put, and the KeyValue's `create_revision`, `mod_revision` and
//!   `version`.
//!
//! Left out, because nothing else in a file records them, so no check can tell a changed one
//! from the original (only the trailer can, and the mutants reseal it): value bytes and user
//! key bytes (opaque data), lease ids (a live key on a missing lease is a warning: etcd logs it
//! and starts), sub-revisions at or below the compaction (compaction leaves any subset), and
//! `create_revision`/`version` of the entry that begins a key's surviving history at or below
//! the compaction (its earlier versions were compacted away; verify checks the bounds that
//! remain: `1 <= create < main`, `main - create >= version - 1`). The test also requires that
//! a third or more of the mutants change the projection, so it cannot pass by damaging nothing.

#[path = "common/fixtures.rs"]
mod fixtures;
#[path = "common/surgery.rs"]
mod surgery;

use std::collections::HashSet;

use etcdsnap_bbolt::{Db, OpenOptions, PageKind};
use etcdsnap_mvcc::proto::KeyValueRef;
use etcdsnap_mvcc::verify::{VerifyOptions, verify_bytes};
use surgery::*;

/// What the reader yields, projected (see the module doc).
type Projection = (Vec<Vec<u8>>, Vec<String>);

/// Facts of the original that decide the projection.
struct Base {
    bytes: Vec<u8>,
    /// `max(scheduled, finished)` compaction revision.
    compact: i64,
    /// Entries that begin their key's surviving history at or below the compaction.
    heads: HashSet<(i64, usize)>,
    /// Branch and leaf pages in use (where mutations are aimed).
    pages: Vec<u64>,
    projection: Projection,
}

fn project(
    b: &[u8],
    base_compact: i64,
    heads: &HashSet<(i64, usize)>,
) -> Result<Projection, String> {
    let db = Db::from_bytes(b.to_vec(), OpenOptions::default()).map_err(|e| e.to_string())?;
    let mut names = Vec::new();
    let mut keys = Vec::new();
    for (name, bk) in db.buckets().map_err(|e| e.to_string())? {
        names.push(name.to_vec());
        for e in bk.iter() {
            let e = e.map_err(|e| e.to_string())?;
            if name != b"key" {
                continue;
            }
            if e.key.len() < 17 {
                keys.push(format!("raw {:?}", e.key));
                continue;
            }
            let main = main_of(e.key);
            let sub = if main > base_compact {
                sub_of(e.key).to_string()
            } else {
                "-".into()
            };
            let tomb = if e.key.len() == 18 { "t" } else { "" };
            let kv = KeyValueRef::decode(e.value).map_err(|e| e.to_string())?;
            let (create, version) = if heads.contains(&head_id(e.key)) {
                ("-".to_string(), "-".to_string())
            } else {
                (kv.create_revision.to_string(), kv.version.to_string())
            };
            keys.push(format!(
                "{main}_{sub}{tomb} c{create} m{} v{version}",
                kv.mod_revision
            ));
        }
    }
    Ok((names, keys))
}

/// A head entry's identity: its main revision and kind (its sub-revision is not part of the
/// projection at or below the compaction).
fn head_id(key: &[u8]) -> (i64, usize) {
    (main_of(key), key.len())
}

fn base(name: &str) -> Base {
    let bytes = std::fs::read(fixtures::db(name)).unwrap();
    let db = open(&bytes);
    let meta = db.bucket(b"meta").unwrap().unwrap();
    let rev = |k: &[u8]| meta.get(k).unwrap().map_or(-1, main_of);
    let compact = rev(b"scheduledCompactRev").max(rev(b"finishedCompactRev"));
    let mut seen = HashSet::new();
    let mut heads = HashSet::new();
    let kb = db.bucket(b"key").unwrap().unwrap();
    for e in kb.iter() {
        let e = e.unwrap();
        let kv = KeyValueRef::decode(e.value).unwrap();
        if seen.insert(kv.key.to_vec()) && main_of(e.key) <= compact && kv.version > 1 {
            heads.insert(head_id(e.key));
        }
    }
    let ps = PS as u64;
    let n = (bytes.len() as u64 - if bytes.len() % 512 == 32 { 32 } else { 0 }) / ps;
    let pages = (2..n)
        .filter(|id| {
            db.page(*id)
                .is_ok_and(|p| matches!(p.kind(), PageKind::Branch | PageKind::Leaf))
        })
        .collect();
    let projection = project(&bytes, compact, &heads).unwrap();
    Base {
        bytes,
        compact,
        heads,
        pages,
        projection,
    }
}

/// A small deterministic generator: the same cases on every run.
struct XorShift(u64);

impl XorShift {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0
    }

    fn below(&mut self, n: usize) -> usize {
        (self.next() % n.max(1) as u64) as usize
    }
}

/// One to three mutations of the pages in use.
fn mutate(b: &mut [u8], pages: &[u64], rng: &mut XorShift) {
    for _ in 0..1 + rng.below(3) {
        let page = pages[rng.below(pages.len())] as usize * PS;
        match rng.below(10) {
            // Bit flips and byte writes, mostly where structure lives.
            0..=3 => {
                let at = page + rng.below(256);
                b[at] ^= 1 << rng.below(8);
            }
            4..=5 => {
                let at = page + rng.below(PS);
                b[at] ^= 1 << rng.below(8);
            }
            6 => {
                let at = page + rng.below(PS);
                b[at] = rng.next() as u8;
            }
            // A lowered element count (entries dropped).
            7 | 8 => {
                let n = u16_at(b, page + 10);
                if n > 0 {
                    put_u16(b, page + 10, n - 1 - rng.below(n.min(3) as usize) as u16);
                }
            }
            // A branch child redirected to another page in use.
            _ => {
                if u16_at(b, page + 8) == 0x01 {
                    let n = u16_at(b, page + 10) as usize;
                    let e = page + 16 + 16 * rng.below(n);
                    put_u64(b, e + 8, pages[rng.below(pages.len())]);
                }
            }
        }
    }
}

fn cases() -> usize {
    std::env::var("ETCDSNAP_PROPTEST_CASES")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(250)
}

fn run(name: &str, seed: u64) {
    let base = base(name);
    let mut rng = XorShift(seed);
    let (mut changed, mut caught_unchanged) = (0, 0);
    let n = cases();
    for case in 0..n {
        let mut b = base.bytes.clone();
        mutate(&mut b, &base.pages, &mut rng);
        reseal(&mut b);
        let p = project(&b, base.compact, &base.heads);
        let r = verify_bytes(
            b,
            &VerifyOptions {
                max_findings: 10,
                parallel: false,
            },
        );
        if p.as_ref().ok() == Some(&base.projection) {
            caught_unchanged += usize::from(!r.ok);
            continue;
        }
        changed += 1;
        let first_difference = match &p {
            Err(e) => format!("read error: {e}"),
            Ok((names, keys)) if *names != base.projection.0 => format!("bucket names {names:?}"),
            Ok((_, keys)) => base
                .projection
                .1
                .iter()
                .zip(keys)
                .find(|(a, b)| a != b)
                .map_or(
                    format!("{} entries, was {}", keys.len(), base.projection.1.len()),
                    |(a, b)| format!("{a} became {b}"),
                ),
        };
        assert!(
            !r.ok,
            "{name} case {case}: the mutant reads differently ({first_difference}) but verify says OK"
        );
    }
    // Not vacuous: a good share of the mutants change what etcd would read.
    assert!(
        changed * 3 > n,
        "{name}: only {changed} of {n} mutants changed the projection"
    );
    eprintln!(
        "{name}: {n} mutants, {changed} changed what the reader yields (all failed verify), \
         {caught_unchanged} more failed verify without changing it"
    );
}

#[test]
fn mutants_of_a_saved_k8s_snapshot() {
    run("h5-k8s.db", 0x9e37_79b9_7f4a_7c15);
}

#[test]
fn mutants_of_a_member_db_without_trailer() {
    run("own-35-member.db", 0xd1b5_4a32_d192_ed03);
}

#[test]
fn mutants_of_an_etcd_34_snapshot() {
    run("own-34.db", 0x2545_f491_4f6c_dd1d);
}
