//! A tiny bbolt writer for tests: builds, in memory, a database whose top-level buckets are
//! all inline in one root leaf page. Enough to state MVCC corner cases that no corpus file
//! has (a tombstone kept at the compaction revision by etcd >= 3.5.16, an empty Keep set, a
//! restore's bump marker) and check them against the spec's rules.

#![allow(dead_code)]

use etcdsnap_bbolt::{Db, OpenOptions, raw};
use etcdsnap_mvcc::Snapshot;
use etcdsnap_mvcc::proto::KeyValue;
use prost::Message as _;

const PAGE: usize = 4096;

fn leaf_page(id: u64, entries: &[(Vec<u8>, Vec<u8>, u32)]) -> Vec<u8> {
    let mut p = Vec::new();
    p.extend_from_slice(&id.to_le_bytes());
    p.extend_from_slice(&raw::page_flags::LEAF.to_le_bytes());
    p.extend_from_slice(&(entries.len() as u16).to_le_bytes());
    p.extend_from_slice(&0u32.to_le_bytes());
    let elems = 16 + entries.len() * 16;
    let mut data = Vec::new();
    for (i, (k, v, flags)) in entries.iter().enumerate() {
        let elem_at = 16 + i * 16;
        let pos = (elems + data.len() - elem_at) as u32;
        p.extend_from_slice(&flags.to_le_bytes());
        p.extend_from_slice(&pos.to_le_bytes());
        p.extend_from_slice(&(k.len() as u32).to_le_bytes());
        p.extend_from_slice(&(v.len() as u32).to_le_bytes());
        data.extend_from_slice(k);
        data.extend_from_slice(v);
    }
    p.extend_from_slice(&data);
    p
}

fn meta(index: u64, pgid: u64, txid: u64) -> Vec<u8> {
    let mut p = vec![0u8; PAGE];
    p[0..8].copy_from_slice(&index.to_le_bytes());
    p[8..10].copy_from_slice(&raw::page_flags::META.to_le_bytes());
    let mut m = Vec::new();
    m.extend_from_slice(&raw::MAGIC.to_le_bytes());
    m.extend_from_slice(&raw::VERSION.to_le_bytes());
    m.extend_from_slice(&(PAGE as u32).to_le_bytes());
    m.extend_from_slice(&0u32.to_le_bytes());
    m.extend_from_slice(&2u64.to_le_bytes()); // root bucket page
    m.extend_from_slice(&0u64.to_le_bytes());
    m.extend_from_slice(&raw::NO_FREELIST.to_le_bytes());
    m.extend_from_slice(&pgid.to_le_bytes());
    m.extend_from_slice(&txid.to_le_bytes());
    let sum = raw::fnv1a64(&m);
    m.extend_from_slice(&sum.to_le_bytes());
    p[16..16 + m.len()].copy_from_slice(&m);
    p
}

/// A bucket's entries as (key, value).
pub type Entries = Vec<(Vec<u8>, Vec<u8>)>;

/// A database with these top-level buckets (name, entries), all inline.
pub fn database(mut buckets: Vec<(&[u8], Entries)>) -> Db {
    buckets.sort_by(|a, b| a.0.cmp(b.0));
    let root: Vec<(Vec<u8>, Vec<u8>, u32)> = buckets
        .into_iter()
        .map(|(name, mut entries)| {
            entries.sort();
            let inner: Vec<_> = entries.into_iter().map(|(k, v)| (k, v, 0)).collect();
            let mut value = vec![0u8; 16]; // root 0 (inline), sequence 0
            value.extend_from_slice(&leaf_page(0, &inner));
            (name.to_vec(), value, raw::BUCKET_LEAF_FLAG)
        })
        .collect();
    let mut page = leaf_page(2, &root);
    let pages = page.len().div_ceil(PAGE).max(1);
    page[12..16].copy_from_slice(&((pages - 1) as u32).to_le_bytes());
    page.resize(pages * PAGE, 0);
    let pgid = 2 + pages as u64;
    let mut file = meta(0, pgid, 2);
    file.extend_from_slice(&meta(1, pgid, 1));
    file.extend_from_slice(&page);
    Db::from_bytes(file, OpenOptions::default()).expect("synthetic db opens")
}

/// One change of the `key` bucket.
pub struct Change<'a> {
    /// Main revision.
    pub main: i64,
    /// Sub revision.
    pub sub: i64,
    /// User key.
    pub key: &'a [u8],
    /// `None` for a deletion.
    pub put: Option<(i64, i64, &'a [u8])>,
}

/// A put: (main, sub, key, create_revision, version, value).
pub fn put<'a>(
    main: i64,
    sub: i64,
    key: &'a [u8],
    create: i64,
    version: i64,
    value: &'a [u8],
) -> Change<'a> {
    Change {
        main,
        sub,
        key,
        put: Some((create, version, value)),
    }
}

/// A deletion.
pub fn del(main: i64, sub: i64, key: &[u8]) -> Change<'_> {
    Change {
        main,
        sub,
        key,
        put: None,
    }
}

/// The key-bucket entry of a change, as etcd writes it.
pub fn entry(c: &Change<'_>) -> (Vec<u8>, Vec<u8>) {
    let mut k = (c.main as u64).to_be_bytes().to_vec();
    k.push(b'_');
    k.extend_from_slice(&(c.sub as u64).to_be_bytes());
    let kv = match c.put {
        Some((create, version, value)) => KeyValue {
            key: c.key.to_vec(),
            create_revision: create,
            mod_revision: c.main,
            version,
            value: value.to_vec(),
            lease: 0,
        },
        None => {
            k.push(b't');
            KeyValue {
                key: c.key.to_vec(),
                ..Default::default()
            }
        }
    };
    (k, kv.encode_to_vec())
}

/// A 17-byte revision value for the meta bucket.
pub fn rev_bytes(main: i64) -> Vec<u8> {
    let mut k = (main as u64).to_be_bytes().to_vec();
    k.push(b'_');
    k.extend_from_slice(&0u64.to_be_bytes());
    k
}

/// An etcd store: these changes in the key bucket, compacted (finished) at `compact`.
pub fn store(changes: &[Change<'_>], compact: Option<i64>) -> Snapshot {
    let mut meta = vec![(b"consistent_index".to_vec(), 7u64.to_be_bytes().to_vec())];
    if let Some(c) = compact {
        meta.push((b"finishedCompactRev".to_vec(), rev_bytes(c)));
        meta.push((b"scheduledCompactRev".to_vec(), rev_bytes(c)));
    }
    Snapshot::from_db(database(vec![
        (b"key", changes.iter().map(entry).collect()),
        (b"meta", meta),
    ]))
}
