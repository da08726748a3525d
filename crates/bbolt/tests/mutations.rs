//! Damaged files built from a real etcd snapshot (h5-k8s.db, 50 pages, a 2-level `key`
//! bucket): every kind of damage is a finding of the check, and nothing panics or hangs.

use std::path::Path;

use etcdsnap_bbolt::check::{self, Check, CheckOptions, MetaCheck, Problem, Severity};
use etcdsnap_bbolt::raw::{self, fnv1a64};
use etcdsnap_bbolt::{Db, OpenOptions};

const PS: usize = 4096;

fn fixture(name: &str) -> Vec<u8> {
    std::fs::read(
        Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("tests/data")
            .join(name),
    )
    .unwrap()
}

/// Meta and structure checks of `bytes`, as `verify` runs them.
fn run(bytes: &[u8]) -> (MetaCheck, Option<Check>) {
    let metas = check::check_metas(bytes, &CheckOptions::default());
    let st = Db::from_bytes(
        bytes.to_vec(),
        OpenOptions {
            allow_truncated: true,
        },
    )
    .ok()
    .map(|db| {
        // Reading must not panic either.
        for (_, b) in db.buckets().unwrap_or_default() {
            for e in b.iter().take(10_000) {
                if e.is_err() {
                    break;
                }
            }
        }
        check::check(&db)
    });
    (metas, st)
}

fn errors(r: &(MetaCheck, Option<Check>)) -> u64 {
    r.0.findings.errors + r.1.as_ref().map_or(0, |c| c.findings.errors)
}

fn has(r: &(MetaCheck, Option<Check>), pred: impl Fn(&Problem) -> bool) -> bool {
    r.0.findings
        .list
        .iter()
        .chain(r.1.iter().flat_map(|c| c.findings.list.iter()))
        .any(|f| f.severity == Severity::Error && pred(&f.problem))
}

fn u32_at(b: &[u8], at: usize) -> u32 {
    u32::from_le_bytes(b[at..at + 4].try_into().unwrap())
}

fn put_u32(b: &mut [u8], at: usize, v: u32) {
    b[at..at + 4].copy_from_slice(&v.to_le_bytes());
}

fn put_u64(b: &mut [u8], at: usize, v: u64) {
    b[at..at + 8].copy_from_slice(&v.to_le_bytes());
}

/// The `key` bucket's root (a branch page) and its first child (a leaf).
fn key_pages(bytes: &[u8]) -> (u64, u64) {
    let db = Db::from_bytes(bytes.to_vec(), OpenOptions::default()).unwrap();
    let root = db.bucket(b"key").unwrap().unwrap().root_page().unwrap();
    let page = db.page(root).unwrap();
    assert_eq!(page.kind(), etcdsnap_bbolt::PageKind::Branch);
    (root, page.branch(0).unwrap().child)
}

/// Rewrites both metas' checksums after an edit.
fn reseal_metas(b: &mut [u8]) {
    for start in [0, PS] {
        let m = start + raw::PAGE_HEADER_SIZE;
        let sum = fnv1a64(&b[m..m + raw::META_CHECKSUM_END]);
        put_u64(b, m + raw::meta::CHECKSUM, sum);
    }
}

#[test]
fn pristine_fixture_is_clean() {
    let b = fixture("h5-k8s.db");
    let r = run(&b);
    assert_eq!(errors(&r), 0);
    assert_eq!(r.0.active, Some(0));
}

#[test]
fn truncation_at_every_page_boundary_and_odd_lengths() {
    let b = fixture("h5-k8s.db");
    let db_len = 50 * PS;
    let mut lengths: Vec<usize> = (0..50).map(|p| p * PS).collect();
    lengths.extend([
        1,
        15,
        80,
        1023,
        1024,
        4095,
        4097,
        8191,
        100_000,
        150_001,
        db_len - 1,
    ]);
    lengths.extend((1..50).map(|p| p * PS + 32)); // looks like it has a trailer
    for len in lengths {
        let r = run(&b[..len]);
        assert!(errors(&r) > 0, "truncated at {len}: no error");
        if len >= PS + 80 {
            assert!(
                has(&r, |p| matches!(p, Problem::Truncated { .. })),
                "truncated at {len}: no truncation finding"
            );
        }
    }
    // Without only its trailer the database is whole.
    assert_eq!(errors(&run(&b[..db_len])), 0);
}

#[test]
fn branch_child_past_the_end() {
    let mut b = fixture("h5-k8s.db");
    let (branch, _) = key_pages(&b);
    put_u64(&mut b, branch as usize * PS + 16 + 8, 1_000_000);
    let r = run(&b);
    assert!(has(&r, |p| matches!(p, Problem::PageOutOfRange { .. })));
    // The child it no longer reaches is now unaccounted for (information: no freelist).
    assert!(r.1.unwrap().stats.unreachable > 15);
}

#[test]
fn branch_child_pointing_at_its_own_page() {
    let mut b = fixture("h5-k8s.db");
    let (branch, _) = key_pages(&b);
    put_u64(&mut b, branch as usize * PS + 16 + 16 + 8, branch);
    let r = run(&b);
    assert!(has(
        &r,
        |p| matches!(p, Problem::Cycle { from } if *from == branch)
    ));
}

#[test]
fn two_keys_swapped_in_a_leaf() {
    let mut b = fixture("h5-k8s.db");
    let (_, leaf) = key_pages(&b);
    let e0 = leaf as usize * PS + 16;
    let e1 = e0 + 16;
    let (p0, p1) = (u32_at(&b, e0 + 4), u32_at(&b, e1 + 4));
    let (k0, v0, k1, v1) = (
        u32_at(&b, e0 + 8),
        u32_at(&b, e0 + 12),
        u32_at(&b, e1 + 8),
        u32_at(&b, e1 + 12),
    );
    // Element 0 takes element 1's key and value and the other way round; `pos` is relative
    // to each element, which sit 16 bytes apart.
    put_u32(&mut b, e0 + 4, p1 + 16);
    put_u32(&mut b, e0 + 8, k1);
    put_u32(&mut b, e0 + 12, v1);
    put_u32(&mut b, e1 + 4, p0 - 16);
    put_u32(&mut b, e1 + 8, k0);
    put_u32(&mut b, e1 + 12, v0);
    let r = run(&b);
    assert!(has(&r, |p| matches!(p, Problem::KeyOrder { index: 1, .. })));
    let f = r.1.unwrap();
    let found = f
        .findings
        .list
        .iter()
        .find(|f| matches!(f.problem, Problem::KeyOrder { .. }))
        .unwrap();
    assert_eq!(found.page, Some(leaf));
    assert_eq!(found.bucket.as_deref(), Some("key"));
    assert!(found.key.is_some() && found.offset.is_some());
}

#[test]
fn page_header_damage() {
    let base = fixture("h5-k8s.db");
    let (branch, leaf) = key_pages(&base);
    // Wrong id in a leaf's header.
    let mut b = base.clone();
    put_u64(&mut b, leaf as usize * PS, leaf + 1);
    assert!(has(&run(&b), |p| matches!(
        p,
        Problem::PageIdMismatch { .. }
    )));
    // A leaf typed as a freelist page.
    let mut b = base.clone();
    b[leaf as usize * PS + 8] = 0x10;
    assert!(has(&run(&b), |p| matches!(
        p,
        Problem::UnexpectedType { .. }
    )));
    // An overflow run past the end.
    let mut b = base.clone();
    put_u32(&mut b, leaf as usize * PS + 12, 1000);
    assert!(has(&run(&b), |p| matches!(
        p,
        Problem::OverflowOutOfRange { .. }
    )));
    // An overflow run over a page that another branch element references.
    let db = Db::from_bytes(base.clone(), OpenOptions::default()).unwrap();
    let bp = db.page(branch).unwrap();
    let children: Vec<u64> = (0..bp.count())
        .map(|i| bp.branch(i).unwrap().child)
        .collect();
    let c = *children
        .iter()
        .find(|c| children.contains(&(*c + 1)))
        .unwrap();
    let mut b = base.clone();
    put_u32(&mut b, c as usize * PS + 12, 1);
    assert!(has(&run(&b), |p| matches!(
        p,
        Problem::MultipleReferences { .. }
    )));
    // An element count whose array does not fit.
    let mut b = base.clone();
    b[leaf as usize * PS + 10..leaf as usize * PS + 12].copy_from_slice(&0xfffeu16.to_le_bytes());
    assert!(has(&run(&b), |p| matches!(
        p,
        Problem::ElementOutOfBounds { .. }
    )));
    // A key running past the page.
    let mut b = base;
    put_u32(&mut b, leaf as usize * PS + 16 + 8, 1 << 20);
    assert!(has(&run(&b), |p| matches!(
        p,
        Problem::ElementOutOfBounds { .. }
    )));
}

#[test]
fn meta_damage() {
    let base = fixture("h5-k8s.db");
    // One meta's checksum: an error, the other meta is used.
    let mut b = base.clone();
    b[16 + 56] ^= 1;
    let r = run(&b);
    assert!(has(&r, |p| matches!(
        p,
        Problem::MetaInvalid { meta: 0, .. }
    )));
    assert_eq!(r.0.active, Some(1));
    assert!(r.1.is_some());
    // Both metas: nothing else can be checked.
    let mut b = base.clone();
    b[16] ^= 1;
    b[PS + 16] ^= 1;
    let r = run(&b);
    assert!(has(&r, |p| matches!(
        p,
        Problem::MetaInvalid { meta: 1, .. }
    )));
    assert!(r.1.is_none());
    // A root pointer past the high-water mark, checksum resealed.
    let mut b = base;
    put_u64(&mut b, 16 + raw::meta::ROOT, 5000);
    put_u64(&mut b, PS + 16 + raw::meta::ROOT, 5000);
    reseal_metas(&mut b);
    assert!(has(&run(&b), |p| matches!(
        p,
        Problem::MetaPointer { field: "root", .. }
    )));
}

/// h4-empty.db (pages: 0, 1 metas, 3 the root leaf, 2 and 4 free) with a persisted freelist
/// on page 4 listing `ids`.
fn with_freelist(ids: &[u64]) -> Vec<u8> {
    let mut b = fixture("h4-empty.db");
    let fl = 4 * PS;
    b[fl..fl + PS].fill(0);
    put_u64(&mut b, fl, 4);
    b[fl + 8..fl + 10].copy_from_slice(&0x10u16.to_le_bytes());
    b[fl + 10..fl + 12].copy_from_slice(&(ids.len() as u16).to_le_bytes());
    for (i, id) in ids.iter().enumerate() {
        put_u64(&mut b, fl + 16 + 8 * i, *id);
    }
    put_u64(&mut b, 16 + raw::meta::FREELIST, 4);
    put_u64(&mut b, PS + 16 + raw::meta::FREELIST, 4);
    reseal_metas(&mut b);
    b
}

#[test]
fn persisted_freelist() {
    let r = run(&with_freelist(&[2]));
    assert_eq!(errors(&r), 0, "{:?}", r.1.unwrap().findings);
    let s = r.1.unwrap().stats;
    assert_eq!((s.free, s.freelist, s.unreachable), (1, 1, 0));
    // Page 2 neither reachable nor free.
    assert!(has(&run(&with_freelist(&[])), |p| matches!(
        p,
        Problem::UnreachableUnfreed
    )));
    // Listed twice.
    assert!(has(&run(&with_freelist(&[2, 2])), |p| matches!(
        p,
        Problem::FreedTwice
    )));
    // The root page listed free.
    assert!(has(&run(&with_freelist(&[2, 3])), |p| matches!(
        p,
        Problem::ReachableFreed
    )));
    // A meta page, and a page past the high-water mark.
    assert!(has(&run(&with_freelist(&[1, 2])), |p| matches!(
        p,
        Problem::FreelistIdOutOfRange { id: 1, .. }
    )));
    assert!(has(&run(&with_freelist(&[2, 9])), |p| matches!(
        p,
        Problem::FreelistIdOutOfRange { id: 9, .. }
    )));
    // A count that does not fit the page.
    let mut b = with_freelist(&[2]);
    b[4 * PS + 10..4 * PS + 12].copy_from_slice(&0xfffeu16.to_le_bytes());
    assert!(has(&run(&b), |p| matches!(p, Problem::Freelist { .. })));
}

/// A small deterministic generator (no dependency, same cases on every run).
struct XorShift(u64);

impl XorShift {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0
    }

    fn below(&mut self, n: usize) -> usize {
        (self.next() % n as u64) as usize
    }
}

#[test]
fn random_flips_in_meta_branch_leaf_pages() {
    let base = fixture("h5-k8s.db");
    let (branch, leaf) = key_pages(&base);
    let root = 22; // the root bucket's leaf page (inline buckets)
    let mut rng = XorShift(0x5eed_e7cd);
    let start = std::time::Instant::now();
    let mut damaged = 0;
    for case in 0..400 {
        let page = match case % 5 {
            0 => 0,
            1 => 1,
            2 => branch,
            3 => leaf,
            _ => root,
        } as usize;
        let mut b = base.clone();
        // Header and element arrays are where structure lives: aim there most of the time.
        let span = if case % 2 == 0 { 256 } else { PS };
        for _ in 0..1 + rng.below(4) {
            let at = page * PS + rng.below(span);
            b[at] ^= 1 << rng.below(8);
        }
        let r = run(&b);
        if errors(&r) > 0 {
            damaged += 1;
        }
        // A flip in a meta's checked bytes is always caught.
        if page < 2 && b[page * PS + 16..page * PS + 80] != base[page * PS + 16..page * PS + 80] {
            assert!(r.0.findings.errors > 0, "case {case}: meta flip not caught");
        }
    }
    assert!(damaged > 100, "only {damaged} of 400 flips found");
    assert!(start.elapsed().as_secs() < 20);
}

/// An inline page with two bucket entries whose values are the same bytes: an inline
/// bucket holding the same structure one level down, `depth` times.
fn self_similar(depth: usize) -> Vec<u8> {
    let mut page = vec![0u8; 16];
    page[8] = 0x02; // leaf, count 0
    for _ in 0..depth {
        let mut value = vec![0u8; 16]; // bucket header: root 0 = inline
        value.extend_from_slice(&page);
        let mut p = vec![0u8; 16];
        p[8] = 0x02;
        p[10] = 2; // two elements
        for pos in [32u32, 16] {
            let mut e = [0u8; 16];
            e[0..4].copy_from_slice(&1u32.to_le_bytes()); // bucket entry
            e[4..8].copy_from_slice(&pos.to_le_bytes()); // both keys at the same byte
            e[8..12].copy_from_slice(&1u32.to_le_bytes());
            e[12..16].copy_from_slice(&(value.len() as u32).to_le_bytes());
            p.extend_from_slice(&e);
        }
        p.push(b'k');
        p.extend_from_slice(&value);
        page = p;
    }
    page
}

#[test]
fn overlapping_inline_buckets_do_not_explode() {
    // h4-empty's root leaf (page 3) replaced by one bucket `x` whose inline page nests two
    // buckets sharing their bytes, 40 levels deep: 2^40 buckets if followed naively.
    let mut b = fixture("h4-empty.db");
    let inner = self_similar(40);
    let mut value = vec![0u8; 16];
    value.extend_from_slice(&inner);
    let root = 3 * PS;
    assert!(33 + value.len() <= PS);
    b[root..root + PS].fill(0);
    put_u64(&mut b, root, 3);
    b[root + 8] = 0x02;
    b[root + 10] = 1;
    put_u32(&mut b, root + 16, 1);
    put_u32(&mut b, root + 20, 16);
    put_u32(&mut b, root + 24, 1);
    put_u32(&mut b, root + 28, value.len() as u32);
    b[root + 32] = b'x';
    b[root + 33..root + 33 + value.len()].copy_from_slice(&value);
    let start = std::time::Instant::now();
    let r = run(&b);
    assert!(start.elapsed().as_secs() < 5, "took {:?}", start.elapsed());
    assert!(has(&r, |p| matches!(
        p,
        Problem::TooManyInlineBuckets { .. }
    )));
}
