//! Surgery on real snapshots for damage tests: locate pages and elements through the reader,
//! rewrite leaf and branch pages with other elements, reseal the sha256 trailer so that only
//! the structure and etcd checks can find the damage.

#![allow(dead_code)]

use etcdsnap_bbolt::{Db, OpenOptions};
use sha2::{Digest, Sha256};

/// The page size of every fixture.
pub const PS: usize = 4096;

/// Opens a copy of `bytes`.
pub fn open(bytes: &[u8]) -> Db {
    Db::from_bytes(bytes.to_vec(), OpenOptions::default()).expect("fixture opens")
}

/// The file offset of `s`, a slice of `db`'s bytes.
pub fn off(db: &Db, s: &[u8]) -> usize {
    s.as_ptr() as usize - db.file_bytes().as_ptr() as usize
}

/// Rewrites the sha256 trailer of a saved snapshot (`len % 512 == 32`) to match its bytes.
pub fn reseal(b: &mut [u8]) {
    if b.len() % 512 == 32 {
        let n = b.len() - 32;
        let d = Sha256::digest(&b[..n]);
        b[n..].copy_from_slice(&d);
    }
}

pub fn u16_at(b: &[u8], at: usize) -> u16 {
    u16::from_le_bytes(b[at..at + 2].try_into().unwrap())
}

pub fn u32_at(b: &[u8], at: usize) -> u32 {
    u32::from_le_bytes(b[at..at + 4].try_into().unwrap())
}

pub fn u64_at(b: &[u8], at: usize) -> u64 {
    u64::from_le_bytes(b[at..at + 8].try_into().unwrap())
}

pub fn put_u16(b: &mut [u8], at: usize, v: u16) {
    b[at..at + 2].copy_from_slice(&v.to_le_bytes());
}

pub fn put_u32(b: &mut [u8], at: usize, v: u32) {
    b[at..at + 4].copy_from_slice(&v.to_le_bytes());
}

pub fn put_u64(b: &mut [u8], at: usize, v: u64) {
    b[at..at + 8].copy_from_slice(&v.to_le_bytes());
}

/// A leaf element: flags, key, value.
pub type LeafElem = (u32, Vec<u8>, Vec<u8>);

/// The elements of the leaf page (or inline page) starting at `base`.
pub fn leaf_elems(b: &[u8], base: usize) -> Vec<LeafElem> {
    let n = u16_at(b, base + 10) as usize;
    (0..n)
        .map(|i| {
            let e = base + 16 + 16 * i;
            let (flags, pos, ks, vs) = (
                u32_at(b, e),
                u32_at(b, e + 4) as usize,
                u32_at(b, e + 8) as usize,
                u32_at(b, e + 12) as usize,
            );
            let k = e + pos;
            (
                flags,
                b[k..k + ks].to_vec(),
                b[k + ks..k + ks + vs].to_vec(),
            )
        })
        .collect()
}

/// Rewrites the leaf page at `base` (span `span` bytes) to hold `elems`, header id, flags and
/// overflow kept. Panics when they do not fit.
pub fn write_leaf(b: &mut [u8], base: usize, span: usize, elems: &[LeafElem]) {
    let data: usize = elems.iter().map(|(_, k, v)| k.len() + v.len()).sum();
    assert!(16 + 16 * elems.len() + data <= span, "elements do not fit");
    b[base + 16..base + span].fill(0);
    put_u16(b, base + 10, elems.len() as u16);
    let mut at = base + 16 + 16 * elems.len();
    for (i, (flags, k, v)) in elems.iter().enumerate() {
        let e = base + 16 + 16 * i;
        put_u32(b, e, *flags);
        put_u32(b, e + 4, (at - e) as u32);
        put_u32(b, e + 8, k.len() as u32);
        put_u32(b, e + 12, v.len() as u32);
        b[at..at + k.len()].copy_from_slice(k);
        b[at + k.len()..at + k.len() + v.len()].copy_from_slice(v);
        at += k.len() + v.len();
    }
}

/// The elements (key, child) of branch page `id`.
pub fn branch_elems(b: &[u8], id: u64) -> Vec<(Vec<u8>, u64)> {
    let base = id as usize * PS;
    let n = u16_at(b, base + 10) as usize;
    (0..n)
        .map(|i| {
            let e = base + 16 + 16 * i;
            let (pos, ks, child) = (
                u32_at(b, e) as usize,
                u32_at(b, e + 4) as usize,
                u64_at(b, e + 8),
            );
            (b[e + pos..e + pos + ks].to_vec(), child)
        })
        .collect()
}

/// Rewrites branch page `id` (one page) to hold `elems`.
pub fn write_branch(b: &mut [u8], id: u64, elems: &[(Vec<u8>, u64)]) {
    let base = id as usize * PS;
    b[base + 16..base + PS].fill(0);
    put_u16(b, base + 10, elems.len() as u16);
    let mut at = base + 16 + 16 * elems.len();
    for (i, (k, child)) in elems.iter().enumerate() {
        let e = base + 16 + 16 * i;
        put_u32(b, e, (at - e) as u32);
        put_u32(b, e + 4, k.len() as u32);
        put_u64(b, e + 8, *child);
        b[at..at + k.len()].copy_from_slice(k);
        at += k.len();
    }
}

/// Where an entry of a bucket lives: the base of its page (a page, or an inline bucket's
/// page inside its parent's value), that page's span, and its element index.
#[derive(Debug, Clone, Copy)]
pub struct Loc {
    pub base: usize,
    pub span: usize,
    pub index: usize,
}

/// Locates the entry `key` of top-level bucket `bucket`.
pub fn locate(bytes: &[u8], bucket: &[u8], key: &[u8]) -> Loc {
    let db = open(bytes);
    let bk = db.bucket(bucket).unwrap().unwrap();
    let e = bk.get_entry(key).unwrap().expect("entry present");
    let (base, span) = match e.page {
        Some(p) => (p as usize * PS, PS),
        None => {
            let be = db.root().get_entry(bucket).unwrap().unwrap();
            (off(&db, be.value) + 16, be.value.len() - 16)
        }
    };
    let key_off = off(&db, e.key);
    let n = u16_at(bytes, base + 10) as usize;
    let index = (0..n)
        .find(|i| {
            let el = base + 16 + 16 * i;
            el + u32_at(bytes, el + 4) as usize == key_off
        })
        .expect("element found");
    Loc { base, span, index }
}

/// Replaces the value of `key` in `bucket` by `f(old)` (the page re-laid out; it must fit),
/// and reseals the trailer.
pub fn set_value(bytes: &[u8], bucket: &[u8], key: &[u8], f: impl Fn(&[u8]) -> Vec<u8>) -> Vec<u8> {
    let loc = locate(bytes, bucket, key);
    let mut b = bytes.to_vec();
    let mut elems = leaf_elems(&b, loc.base);
    elems[loc.index].2 = f(&elems[loc.index].2);
    write_leaf(&mut b, loc.base, loc.span, &elems);
    reseal(&mut b);
    b
}

/// The `key` bucket's root branch page and its children, in order.
pub fn key_tree(bytes: &[u8]) -> (u64, Vec<u64>) {
    let db = open(bytes);
    let root = db.bucket(b"key").unwrap().unwrap().root_page().unwrap();
    let children = branch_elems(bytes, root)
        .into_iter()
        .map(|(_, c)| c)
        .collect();
    (root, children)
}

/// `main` of a revision key.
pub fn main_of(k: &[u8]) -> i64 {
    i64::from_be_bytes(k[..8].try_into().unwrap())
}

/// `sub` of a revision key.
pub fn sub_of(k: &[u8]) -> i64 {
    i64::from_be_bytes(k[9..17].try_into().unwrap())
}
