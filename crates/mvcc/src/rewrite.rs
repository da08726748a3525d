//! Writing a new etcd store from an existing one: `compact` (etcd's compaction at R followed
//! by a defrag) and the shared machinery the other rewriting commands use.
//!
//! Why here and not in the binary: what a compaction keeps is etcd's rule (`Keep(R)`), and it
//! must be the same rule `hashkv` applies; both live in this crate. The bbolt writer
//! (`etcdsnap_bbolt::write`) does the pages; this module decides the entries.
//!
//! Every bucket is streamed in key order from the source into the writer: the `key` bucket
//! through a per-entry decision, the `meta` bucket with the keys that change replaced, every
//! other bucket (and any bucket etcd may add later) copied as is. Memory: the writer's pages
//! under construction, plus, for `compact`, one map entry per user key (borrowed from the map
//! of the input) for the newest revision at or below R.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use etcdsnap_bbolt::Bucket;
use etcdsnap_bbolt::write::{self, WriteOptions, WriteSummary, Writer};

use crate::error::{Error, Result};
use crate::revision::{Revision, main_of};
use crate::scan::{self, KeyMap};
use crate::snapshot::{Snapshot, buckets};

/// The `meta` bucket key of the compaction etcd scheduled.
pub const SCHEDULED_COMPACT: &[u8] = b"scheduledCompactRev";
/// The `meta` bucket key of the compaction etcd finished.
pub const FINISHED_COMPACT: &[u8] = b"finishedCompactRev";

/// Where and how to write.
#[derive(Debug, Clone)]
pub struct Output {
    /// The output path (written under a temporary name, renamed when complete).
    pub path: PathBuf,
    /// Replace an existing output.
    pub force: bool,
    /// Append etcd's sha256 trailer (default: yes, as `etcdctl snapshot save`).
    pub sha256_trailer: bool,
    /// bbolt fill percent (default: etcd's defrag, 0.9).
    pub fill_percent: f64,
}

impl Output {
    /// Defaults for `path`: trailer, defrag fill, no overwrite.
    pub fn new(path: &Path) -> Output {
        Output {
            path: path.to_path_buf(),
            force: false,
            sha256_trailer: true,
            fill_percent: write::DEFRAG_FILL_PERCENT,
        }
    }

    /// Writer options for a copy of `snap`: its page size, its txid.
    pub fn options(&self, snap: &Snapshot) -> WriteOptions {
        WriteOptions {
            force: self.force,
            sha256_trailer: self.sha256_trailer,
            fill_percent: self.fill_percent,
            ..write::options_like(snap.db())
        }
    }
}

/// Sizes before and after, as etcd counts them (`pgid * page_size`) and on disk.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct Sizes {
    /// Database size of the input (etcd's `dbSize`).
    pub db_size_before: u64,
    /// File size of the input.
    pub file_size_before: u64,
    /// Database size of the output.
    pub db_size_after: u64,
    /// File size of the output.
    pub file_size_after: u64,
}

impl Sizes {
    fn of(snap: &Snapshot, w: &WriteSummary) -> Sizes {
        Sizes {
            db_size_before: snap.db().size(),
            file_size_before: snap.db().file_size(),
            db_size_after: w.db_size,
            file_size_after: w.file_size,
        }
    }
}

/// What `compact` did.
#[derive(Debug, Clone, serde::Serialize)]
pub struct CompactReport {
    /// The compaction revision asked for (and set in the meta bucket).
    pub rev: i64,
    /// The input's compaction revision (-1 when never compacted).
    pub previous_compact: i64,
    /// The store's current revision (unchanged by a compaction).
    pub current: i64,
    /// Entries of the `key` bucket in the input.
    pub revisions_before: u64,
    /// Entries of the `key` bucket written.
    pub revisions_after: u64,
    /// Distinct keys with an entry at or below R.
    pub keys_at_or_below: u64,
    /// Sizes before and after.
    pub sizes: Sizes,
    /// What the writer wrote.
    pub write: WriteSummary,
}

/// The revisions `Keep(R)` keeps: per user key, its newest revision at or below `rev` when that
/// is a put (etcd's `keyIndex.compact`). Also counts the entries at or below `rev`.
fn keep_map<'a>(key: &Bucket<'a>, rev: i64) -> Result<KeyMap<'a, (Revision, bool)>> {
    let mut newest: KeyMap<'a, (Revision, bool)> = KeyMap::default();
    scan::walk(key.iter(), |e| {
        if e.rev.rev.main > rev {
            return Ok(false);
        }
        newest.insert(e.kv.key, (e.rev.rev, e.rev.tombstone));
        Ok(true)
    })?;
    Ok(newest)
}

/// Writes the `meta` bucket of `src` with `set` applied (a value replaces or adds the key).
pub fn write_meta(
    src: Option<&Bucket<'_>>,
    w: &mut Writer,
    set: &[(&[u8], Vec<u8>)],
) -> Result<()> {
    let mut entries: BTreeMap<Vec<u8>, Vec<u8>> = BTreeMap::new();
    let mut sub: Vec<Vec<u8>> = Vec::new();
    if let Some(b) = src {
        for e in b.iter() {
            let e = e?;
            if e.is_bucket() {
                sub.push(e.key.to_vec());
            } else {
                entries.insert(e.key.to_vec(), e.value.to_vec());
            }
        }
    }
    for (k, v) in set {
        entries.insert(k.to_vec(), v.clone());
    }
    let seq = src.map_or(0, |b| b.sequence());
    w.begin_bucket(buckets::META, seq)?;
    if sub.is_empty() {
        for (k, v) in &entries {
            w.put(k, v)?;
        }
    } else {
        // A nested bucket inside meta (no etcd writes one): copy in key order with the rest.
        let b = src.expect("sub-buckets come from a source");
        let mut it = entries.iter().peekable();
        for e in b.iter() {
            let e = e?;
            while let Some((k, v)) = it.peek() {
                if k.as_slice() < e.key {
                    w.put(k, v)?;
                    it.next();
                } else {
                    break;
                }
            }
            if e.is_bucket() {
                let s = Bucket::from_value(b.db(), e.key, e.value)?;
                w.begin_bucket(e.key, s.sequence())?;
                write::copy_bucket(&s, w)?;
                w.end_bucket()?;
            }
        }
        for (k, v) in it {
            w.put(k, v)?;
        }
    }
    w.end_bucket()?;
    Ok(())
}

/// Streams every top-level bucket of `snap` into `w`: `meta` through [`write_meta`] with
/// `meta_set`, `key` through `key_bucket`, all others copied.
pub fn write_buckets(
    snap: &Snapshot,
    w: &mut Writer,
    meta_set: &[(&[u8], Vec<u8>)],
    mut key_bucket: impl FnMut(&Bucket<'_>, &mut Writer) -> Result<()>,
) -> Result<()> {
    let db = snap.db();
    w.set_root_sequence(db.meta().sequence);
    let mut wrote_meta = false;
    for (name, b) in db.buckets()? {
        if name > buckets::META && !wrote_meta && !meta_set.is_empty() {
            write_meta(None, w, meta_set)?;
            wrote_meta = true;
        }
        if name == buckets::META {
            write_meta(Some(&b), w, meta_set)?;
            wrote_meta = true;
        } else if name == buckets::KEY {
            w.begin_bucket(name, b.sequence())?;
            key_bucket(&b, w)?;
            w.end_bucket()?;
        } else {
            w.begin_bucket(name, b.sequence())?;
            write::copy_bucket(&b, w)?;
            w.end_bucket()?;
        }
    }
    if !wrote_meta && !meta_set.is_empty() {
        write_meta(None, w, meta_set)?;
    }
    Ok(())
}

/// `compact --rev R`: what etcd's compaction at R followed by a defrag leaves. Revisions above
/// R are kept; at or below R only `Keep(R)` (per key the newest revision `<= R` when it is not
/// a tombstone); `scheduledCompactRev` and `finishedCompactRev` set to R; everything else as
/// in the input. R must be above the input's compaction and at most its current revision
/// (etcd's own errors otherwise).
pub fn compact(snap: &Snapshot, rev: i64, out: &Output) -> Result<CompactReport> {
    let store = snap.revisions()?;
    if rev <= store.compact {
        return Err(Error::Compacted {
            requested: rev,
            compacted: store.compact,
        });
    }
    if rev > store.current {
        return Err(Error::FutureRevision {
            requested: rev,
            current: store.current,
        });
    }
    let key = snap.required(buckets::KEY)?;
    let newest = keep_map(&key, rev)?;
    let mark = Revision { main: rev, sub: 0 }.to_bytes().to_vec();
    let meta_set: [(&[u8], Vec<u8>); 2] =
        [(SCHEDULED_COMPACT, mark.clone()), (FINISHED_COMPACT, mark)];
    let mut before = 0u64;
    let mut after = 0u64;
    let mut w = Writer::create(&out.path, out.options(snap))?;
    write_buckets(snap, &mut w, &meta_set, |b, w| {
        let mut prev: Option<&[u8]> = None;
        for e in b.iter() {
            let e = e?;
            before += 1;
            let main = main_of(e.key).map(|m| m as i64);
            if main.is_some_and(|m| m > rev) {
                // Above R: kept without decoding (order still checked).
                if let Some(p) = prev
                    && e.key <= p
                {
                    return Err(Error::KeyOrder {
                        bucket: "\"key\"".into(),
                        key: etcdsnap_bbolt::error::escape_bytes(e.key),
                        page: e.page.unwrap_or(0),
                    });
                }
                prev = Some(e.key);
                w.put(e.key, e.value)?;
                after += 1;
                continue;
            }
            let ke = scan::check_entry(e, prev)?;
            prev = Some(ke.raw_key);
            if newest.get(ke.kv.key) == Some(&(ke.rev.rev, false)) {
                w.put(ke.raw_key, ke.record)?;
                after += 1;
            }
        }
        Ok(())
    })?;
    let summary = w.finish()?;
    Ok(CompactReport {
        rev,
        previous_compact: store.compact,
        current: store.current,
        revisions_before: before,
        revisions_after: after,
        keys_at_or_below: newest.len() as u64,
        sizes: Sizes::of(snap, &summary),
        write: summary,
    })
}

/// Decides what a redacted copy holds (the policy lives with the caller: which values are
/// secret is Kubernetes' business, not this crate's).
pub trait Redactor {
    /// Overwrites `value`, the value of user key `key` at one revision; true when changed.
    /// Keep the length to keep every size (and `stats`) as it was.
    fn value(&mut self, key: &[u8], value: &mut Vec<u8>) -> bool;
    /// A new name for `key`, or `None` to keep it. Must be stable (same key, same name).
    fn rename(&mut self, key: &[u8]) -> Option<Vec<u8>>;
}

/// What `redact` did.
#[derive(Debug, Clone, Default, serde::Serialize)]
pub struct RedactReport {
    /// Entries of the `key` bucket (all kept).
    pub revisions: u64,
    /// Revisions whose value was overwritten.
    pub values_redacted: u64,
    /// Revisions whose key was renamed.
    pub keys_renamed: u64,
    /// Revisions re-encoded because the value length or the key changed.
    pub reencoded: u64,
    /// Users whose password hash was removed.
    pub passwords_removed: u64,
    /// Auth was enabled and the copy has it disabled (`disable_auth`).
    pub auth_disabled: bool,
    /// Sizes before and after.
    pub sizes: Option<Sizes>,
    /// What the writer wrote.
    pub write: Option<WriteSummary>,
}

/// `redact`: every bucket copied, every revision of the `key` bucket kept with its value and
/// key passed through `r`, and the password hash of every user removed (`authpb.User.password`
/// emptied). Revisions, leases, members, compaction marks are unchanged.
///
/// With `disable_auth`, `auth/authEnabled` is written as 0: without password hashes nobody
/// can log in to a restored copy that has auth enabled, so whoever receives it could not read
/// it through etcd at all.
pub fn redact(
    snap: &Snapshot,
    out: &Output,
    r: &mut dyn Redactor,
    disable_auth: bool,
) -> Result<RedactReport> {
    use prost::Message;
    let mut rep = RedactReport::default();
    let mut w = Writer::create(&out.path, out.options(snap))?;
    let db = snap.db();
    w.set_root_sequence(db.meta().sequence);
    for (name, b) in db.buckets()? {
        w.begin_bucket(name, b.sequence())?;
        if name == buckets::KEY {
            let mut prev: Option<&[u8]> = None;
            let mut buf: Vec<u8> = Vec::new();
            for e in b.iter() {
                let e = e?;
                let page = e.page.unwrap_or(0);
                let e = scan::check_entry(e, prev)?;
                prev = Some(e.raw_key);
                rep.revisions += 1;
                let new_key = r.rename(e.kv.key);
                buf.clear();
                buf.extend_from_slice(e.kv.value);
                let changed = !e.rev.tombstone && r.value(e.kv.key, &mut buf);
                if changed {
                    rep.values_redacted += 1;
                }
                if new_key.is_some() {
                    rep.keys_renamed += 1;
                }
                if new_key.is_none() && (!changed || buf.len() == e.kv.value.len()) {
                    if changed {
                        // Same length: patch the value in place, every other byte as etcd wrote it.
                        let at = e.kv.value.as_ptr() as usize - e.record.as_ptr() as usize;
                        let mut rec = e.record.to_vec();
                        rec[at..at + buf.len()].copy_from_slice(&buf);
                        w.put(e.raw_key, &rec)?;
                    } else {
                        w.put(e.raw_key, e.record)?;
                    }
                    continue;
                }
                let mut kv =
                    crate::proto::KeyValue::decode(e.record).map_err(|err| Error::BadKeyValue {
                        rev: e.rev.rev,
                        page,
                        reason: err.to_string(),
                    })?;
                if let Some(k) = new_key {
                    kv.key = k;
                }
                if changed {
                    kv.value = buf.clone();
                }
                rep.reencoded += 1;
                w.put(e.raw_key, &kv.encode_to_vec())?;
            }
        } else if name == buckets::AUTH_USERS {
            for e in b.iter() {
                let e = e?;
                if e.is_bucket() {
                    let s = Bucket::from_value(db, e.key, e.value)?;
                    w.begin_bucket(e.key, s.sequence())?;
                    write::copy_bucket(&s, &mut w)?;
                    w.end_bucket()?;
                    continue;
                }
                match crate::proto::User::decode(e.value) {
                    Ok(mut u) if !u.password.is_empty() => {
                        u.password.clear();
                        rep.passwords_removed += 1;
                        w.put(e.key, &u.encode_to_vec())?;
                    }
                    Ok(_) => w.put(e.key, e.value)?,
                    Err(err) => {
                        return Err(Error::BadValue {
                            bucket: "authUsers",
                            key: etcdsnap_bbolt::error::escape_bytes(e.key),
                            what: "authpb.User",
                            reason: err.to_string(),
                        });
                    }
                }
            }
        } else if name == buckets::AUTH && disable_auth {
            for e in b.iter() {
                let e = e?;
                if e.is_bucket() {
                    let s = Bucket::from_value(db, e.key, e.value)?;
                    w.begin_bucket(e.key, s.sequence())?;
                    write::copy_bucket(&s, &mut w)?;
                    w.end_bucket()?;
                } else if e.key == b"authEnabled" && e.value != [0] {
                    rep.auth_disabled = true;
                    w.put(e.key, &[0])?;
                } else {
                    w.put(e.key, e.value)?;
                }
            }
        } else {
            write::copy_bucket(&b, &mut w)?;
        }
        w.end_bucket()?;
    }
    let summary = w.finish()?;
    rep.sizes = Some(Sizes::of(snap, &summary));
    rep.write = Some(summary);
    Ok(rep)
}
