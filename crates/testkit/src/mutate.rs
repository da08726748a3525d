//! Edited copies of real etcd snapshots: the damage and the odd-but-readable shapes on which
//! `fixtures/versions/etcdutl-3.5.1/` records what real etcdutl 3.5.1 printed.
//!
//! Each function here builds the same bytes as its namesake in `fixtures/versions/mutate.py`
//! (the script the recordings were made with); the tests compare the sha256 with the one
//! recorded, so a recording always belongs to the file a test builds.

const PS: usize = 4096;

fn u16_at(b: &[u8], at: usize) -> u16 {
    u16::from_le_bytes([b[at], b[at + 1]])
}

fn u32_at(b: &[u8], at: usize) -> u32 {
    u32::from_le_bytes(b[at..at + 4].try_into().expect("4 bytes"))
}

fn u64_at(b: &[u8], at: usize) -> u64 {
    u64::from_le_bytes(b[at..at + 8].try_into().expect("8 bytes"))
}

fn put_u16(b: &mut [u8], at: usize, v: u16) {
    b[at..at + 2].copy_from_slice(&v.to_le_bytes());
}

fn put_u32(b: &mut [u8], at: usize, v: u32) {
    b[at..at + 4].copy_from_slice(&v.to_le_bytes());
}

fn put_u64(b: &mut [u8], at: usize, v: u64) {
    b[at..at + 8].copy_from_slice(&v.to_le_bytes());
}

fn fnv1a64(data: &[u8]) -> u64 {
    let mut h: u64 = 0xcbf2_9ce4_8422_2325;
    for &x in data {
        h ^= u64::from(x);
        h = h.wrapping_mul(0x0000_0100_0000_01b3);
    }
    h
}

/// Recomputes both metas' checksums (page size 4096).
pub fn reseal_metas(b: &mut [u8]) {
    for s in [0, PS] {
        let m = s + 16;
        let sum = fnv1a64(&b[m..m + 56]);
        put_u64(b, m + 56, sum);
    }
}

/// `h4-empty.db` (metas 0-1, root leaf 3, free pages 2 and 4) with a persisted freelist on
/// page 4 listing `ids` (header count `count`, or the number of ids).
pub fn with_freelist(h4_empty: &[u8], ids: &[u64], count: Option<u16>) -> Vec<u8> {
    let mut b = h4_empty.to_vec();
    let fl = 4 * PS;
    b[fl..fl + PS].fill(0);
    put_u64(&mut b, fl, 4);
    put_u16(&mut b, fl + 8, 0x10);
    put_u16(&mut b, fl + 10, count.unwrap_or(ids.len() as u16));
    for (i, id) in ids.iter().enumerate() {
        put_u64(&mut b, fl + 16 + 8 * i, *id);
    }
    for s in [0, PS] {
        put_u64(&mut b, s + 16 + 32, 4);
    }
    reseal_metas(&mut b);
    b
}

/// Leaf elements of page `pg`: (element offset, flags, pos, ksize, vsize).
fn leaf_elems(b: &[u8], pg: u64) -> Vec<(usize, u32, u32, u32, u32)> {
    let o = pg as usize * PS;
    (0..usize::from(u16_at(b, o + 10)))
        .map(|i| {
            let e = o + 16 + 16 * i;
            (
                e,
                u32_at(b, e),
                u32_at(b, e + 4),
                u32_at(b, e + 8),
                u32_at(b, e + 12),
            )
        })
        .collect()
}

/// The offset of top-level bucket `name`'s header and its root page.
pub fn bucket_root(b: &[u8], name: &[u8]) -> (usize, u64) {
    let root = u64_at(b, 16 + 16);
    for (e, _, pos, ks, _) in leaf_elems(b, root) {
        let k = e + pos as usize;
        if &b[k..k + ks as usize] == name {
            let at = k + ks as usize;
            return (at, u64_at(b, at));
        }
    }
    panic!("no bucket {:?}", String::from_utf8_lossy(name));
}

fn last_leaf(b: &[u8], mut pg: u64) -> u64 {
    loop {
        let o = pg as usize * PS;
        if u16_at(b, o + 8) == 2 {
            return pg;
        }
        let count = usize::from(u16_at(b, o + 10));
        pg = u64_at(b, o + 16 + 16 * (count - 1) + 8);
    }
}

/// The last entry of the `key` bucket with its key `delta` bytes longer (its value as much
/// shorter: key + value stay the same bytes), and byte 8 of the key set to `sep` if given.
pub fn last_key_edit(src: &[u8], delta: i32, sep: Option<u8>) -> Vec<u8> {
    let mut b = src.to_vec();
    let lf = last_leaf(&b, bucket_root(&b, b"key").1);
    let (e, _, pos, ks, vs) = *leaf_elems(&b, lf).last().expect("a key");
    put_u32(&mut b, e + 8, ks.wrapping_add_signed(delta));
    put_u32(&mut b, e + 12, vs.wrapping_add_signed(-delta));
    if let Some(s) = sep {
        b[e + pos as usize + 8] = s;
    }
    b
}

/// The `key` bucket's root branch page with its element count set to 0.
pub fn empty_key_root(src: &[u8]) -> Vec<u8> {
    let mut b = src.to_vec();
    let r = bucket_root(&b, b"key").1 as usize;
    put_u16(&mut b, r * PS + 10, 0);
    b
}

/// The `lease` bucket's root page replaced by the `key` bucket's (two buckets, one tree).
pub fn shared_subtree(src: &[u8]) -> Vec<u8> {
    let mut b = src.to_vec();
    let (at, _) = bucket_root(&b, b"lease");
    let key_root = bucket_root(&b, b"key").1;
    put_u64(&mut b, at, key_root);
    b
}

/// `meta/scheduledCompactRev` and `meta/finishedCompactRev` set to main revision `main` in
/// place (both must exist; the `meta` bucket is inline in the root leaf, as etcd writes it).
pub fn set_compaction(src: &[u8], main: u64) -> Vec<u8> {
    let mut b = src.to_vec();
    let (at, root) = bucket_root(&b, b"meta");
    assert_eq!(root, 0, "the meta bucket is inline");
    // The inline page follows the 16-byte bucket header.
    let page = at + 16;
    let count = usize::from(u16_at(&b, page + 10));
    let mut done = 0;
    for i in 0..count {
        let e = page + 16 + 16 * i;
        let (pos, ks) = (u32_at(&b, e + 4) as usize, u32_at(&b, e + 8) as usize);
        let k = e + pos;
        if matches!(
            &b[k..k + ks],
            b"scheduledCompactRev" | b"finishedCompactRev"
        ) {
            b[k + ks..k + ks + 8].copy_from_slice(&main.to_be_bytes());
            done += 1;
        }
    }
    assert_eq!(done, 2, "both compaction keys");
    b
}

/// The first two entries of the `key` bucket's first leaf swapped (element headers exchanged,
/// their key offsets adjusted): keys out of order on one page, every byte still in bounds.
pub fn swap_first_two_keys(src: &[u8]) -> Vec<u8> {
    let mut b = src.to_vec();
    let mut pg = bucket_root(&b, b"key").1;
    while u16_at(&b, pg as usize * PS + 8) != 2 {
        pg = u64_at(&b, pg as usize * PS + 16 + 8);
    }
    let els = leaf_elems(&b, pg);
    assert!(els.len() >= 2);
    let (e0, f0, p0, k0, v0) = els[0];
    let (e1, f1, p1, k1, v1) = els[1];
    for (e, f, pos, k, v) in [(e0, f1, p1 + 16, k1, v1), (e1, f0, p0 - 16, k0, v0)] {
        put_u32(&mut b, e, f);
        put_u32(&mut b, e + 4, pos);
        put_u32(&mut b, e + 8, k);
        put_u32(&mut b, e + 12, v);
    }
    b
}

/// The `key` bucket's first leaf with its element count lowered by one: its last entry is
/// dropped from the tree (its bytes stay after the last element).
pub fn lower_first_leaf_count(src: &[u8]) -> Vec<u8> {
    let mut b = src.to_vec();
    let mut pg = bucket_root(&b, b"key").1;
    while u16_at(&b, pg as usize * PS + 8) != 2 {
        pg = u64_at(&b, pg as usize * PS + 16 + 8);
    }
    let at = pg as usize * PS + 10;
    let count = u16_at(&b, at);
    put_u16(&mut b, at, count - 1);
    b
}

/// Every file `fixtures/versions/mutate.py` writes, by name, built from the corpus.
pub fn etcdutl_cases() -> Vec<(&'static str, Vec<u8>)> {
    let read = |n: &str| std::fs::read(crate::corpus_db(n)).expect("corpus db");
    let (h3, h4, h5) = (read("h3.db"), read("h4-empty.db"), read("h5-k8s.db"));
    vec![
        ("freelist-ok", with_freelist(&h4, &[2], None)),
        (
            "freelist-reachable-and-unreachable",
            with_freelist(&h4, &[3], None),
        ),
        ("freelist-twice", with_freelist(&h4, &[2, 2], None)),
        ("freelist-missing-page", with_freelist(&h4, &[], None)),
        (
            "freelist-count-overflow",
            with_freelist(&h4, &[2], Some(0xfffe)),
        ),
        ("revkey-16-bytes", last_key_edit(&h3, -2, None)),
        ("revkey-7-bytes", last_key_edit(&h3, -11, None)),
        (
            "revkey-17-bytes-tombstone-cut",
            last_key_edit(&h3, -1, None),
        ),
        ("revkey-19-bytes", last_key_edit(&h3, 1, None)),
        ("revkey-bad-separator", last_key_edit(&h3, 0, Some(b'x'))),
        ("branch-without-elements", empty_key_root(&h5)),
        ("buckets-sharing-a-subtree", shared_subtree(&h5)),
        ("leaf-count-lowered", lower_first_leaf_count(&h5)),
    ]
}
