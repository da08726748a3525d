//! `salvage`: a sound new snapshot from a damaged one, and an exact account of what was lost.
//!
//! Why a walker of its own: the reader (`bbolt::Bucket`) stops at the first damaged page,
//! which is right for every other command; salvage must step over a damaged page, keep
//! everything else, and say what the skipped page covered. It reads the raw bytes with the
//! same checked accessors (`bbolt::Page`), never trusts a number it did not check, and is
//! bounded by depth and by a visited-page set.
//!
//! The rules (docs/salvage.md):
//! - A page is taken whole or not at all: its header must name it, its type must be what the
//!   parent expects, every element must lie inside it, its keys must be strictly increasing
//!   and inside the range the parent's separators give it; in the `key` bucket every entry
//!   must be a revision key with a decodable `mvccpb.KeyValue` whose `mod_revision` is that
//!   revision. Otherwise the page (and the subtree under a branch) is lost, and its range is
//!   reported: from its separator to the next one (the revision range, in the `key` bucket).
//! - The tree of the newer valid meta is read first; a range lost there is filled from the
//!   other meta's tree when that tree holds intact pages for it (a member's db has an older
//!   transaction there; a saved snapshot has the same tree twice).
//! - Free or unreachable pages are never read unless `deep`: old pages hold compacted
//!   history, and bringing it back could resurrect deleted keys. With `deep`, a leaf page
//!   found anywhere in the file contributes `key` bucket entries only inside a range still
//!   lost, only above the compaction revision (etcd never deletes a revision above it: a
//!   delete is a new tombstone revision), and only when every such entry of the page is
//!   consistent: its `mod_revision` is its revision, it was created at or before it, and
//!   within its generation (same `create_revision`) its version orders like its revision
//!   against the puts of that key already recovered.
//! - `key` keeps what was recovered. Another bucket with a lost page is not recovered
//!   (dropped, reported; etcd recreates empty buckets at start), except `meta`, which is
//!   rebuilt from what is readable. The compaction marks are raised to just below the oldest
//!   recovered revision when the oldest part of the history was lost, so that etcd refuses
//!   reads of revisions whose history is incomplete instead of answering them wrong.

use std::collections::BTreeMap;
use std::sync::Arc;

use etcdsnap_bbolt::bytes::{Bytes, mul_offset};
use etcdsnap_bbolt::db::read_metas;
use etcdsnap_bbolt::error::escape_bytes;
use etcdsnap_bbolt::raw::{self, page_flags};
use etcdsnap_bbolt::write::Writer;
use etcdsnap_bbolt::{Meta, Page, Source};

use crate::error::{Error, Result};
use crate::proto::KeyValueRef;
use crate::revision::{RevKey, Revision};
use crate::rewrite::{FINISHED_COMPACT, Output, SCHEDULED_COMPACT, Sizes};
use crate::snapshot::buckets;

const MAX_DEPTH: usize = 64;

/// Options of `salvage`.
#[derive(Debug, Clone, Copy, Default)]
pub struct SalvageOptions {
    /// Also read free and unreachable pages for revisions still lost.
    pub deep: bool,
}

/// One page whose content could not be recovered from the tree it belongs to.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct LostPage {
    /// Which meta's tree (0 or 1).
    pub meta: u8,
    /// The page id.
    pub page: u64,
    /// The bucket it belongs to (`/`-joined, escaped; empty for the root bucket).
    pub bucket: String,
    /// Why it was not taken.
    pub reason: String,
    /// First key it covered (its separator in the parent), escaped; `None` = from the start.
    pub key_from: Option<String>,
    /// First key after it (the next separator), escaped; `None` = to the end.
    pub key_to: Option<String>,
    /// In the `key` bucket: the revision range `[from, to)` it covered.
    pub rev_from: Option<Revision>,
    /// End of the revision range (exclusive).
    pub rev_to: Option<Revision>,
    /// Entries of the range recovered anyway (from the other meta's tree, or `--deep`).
    pub refilled: u64,
}

/// What `salvage` found and wrote.
#[derive(Debug, Clone, Default, serde::Serialize)]
pub struct SalvageReport {
    /// The meta whose tree was read first, and whether each meta was valid.
    pub meta_used: Option<u8>,
    /// Why a meta is not valid (index, reason).
    pub bad_metas: Vec<(u8, String)>,
    /// Pages lost in the primary tree (and, for ranges filled from it, the other tree).
    pub lost_pages: Vec<LostPage>,
    /// Ranges still lost after every source was tried (the entries of these are gone).
    pub unrecovered_ranges: u64,
    /// Top-level buckets recovered whole (names, escaped).
    pub buckets_recovered: Vec<String>,
    /// Top-level buckets not recovered (names, escaped), and why.
    pub buckets_lost: Vec<(String, String)>,
    /// `key` bucket entries written.
    pub revisions: u64,
    /// Of those, taken from the other meta's tree.
    pub revisions_from_other_meta: u64,
    /// Of those, taken from free or unreachable pages (`deep`).
    pub revisions_from_deep: u64,
    /// Newest and oldest revision written.
    pub revision_range: Option<(Revision, Revision)>,
    /// The compaction revision written (raised when the oldest history was lost).
    pub compact_revision: Option<i64>,
    /// `deep`: pages whose revisions disagree with the recovered index (not taken).
    pub deep_pages_rejected: Vec<u64>,
    /// `deep` read free pages without knowing the compaction revision (the meta bucket was
    /// lost): revisions compacted away before the damage may have come back.
    pub compaction_unknown: bool,
    /// Sizes (when a file was written).
    pub sizes: Option<Sizes>,
}

impl SalvageReport {
    /// True when everything the chosen meta's tree references was recovered.
    pub fn nothing_lost(&self) -> bool {
        self.unrecovered_ranges == 0 && self.buckets_lost.is_empty()
    }
}

/// A recovered bucket: its entries in key order (values and sub-buckets), borrowed.
#[derive(Debug, Default)]
struct Tree<'a> {
    items: Vec<Item<'a>>,
    lost: Vec<Lost<'a>>,
}

#[derive(Debug)]
enum Item<'a> {
    Value(&'a [u8], &'a [u8]),
    Bucket(&'a [u8], u64, Tree<'a>),
}

#[derive(Debug, Clone)]
struct Lost<'a> {
    page: u64,
    reason: String,
    lo: Option<&'a [u8]>,
    hi: Option<&'a [u8]>,
}

/// A tolerant reader of one meta's tree.
struct Walker<'a> {
    data: &'a [u8],
    ps: u64,
    hwm: u64,
    visited: Vec<u64>,
}

impl<'a> Walker<'a> {
    fn new(data: &'a [u8], meta: &Meta) -> Walker<'a> {
        let ps = u64::from(meta.page_size);
        let pages = data.len() as u64 / ps;
        Walker {
            data,
            ps,
            hwm: meta.pgid.min(pages),
            visited: vec![0; (meta.pgid.min(pages) as usize).div_ceil(64)],
        }
    }

    /// Page `id` with its overflow, checked; `Err(reason)` otherwise.
    fn page(&self, id: u64) -> std::result::Result<Page<'a>, String> {
        if id < 2 || id >= self.hwm {
            return Err(format!(
                "page id {id} is outside the pages the file holds ({})",
                self.hwm
            ));
        }
        let start = mul_offset(id, self.ps).ok_or("offset overflow")?;
        let h = Bytes(self.data);
        let found = h.u64_le(start).ok_or("header outside the file")?;
        if found != id {
            return Err(format!("header names page {found}"));
        }
        let overflow = u64::from(h.u32_le(start + raw::page_header::OVERFLOW).unwrap_or(0));
        if id + overflow >= self.hwm {
            return Err(format!("overflow of {overflow} pages runs past the end"));
        }
        let len = mul_offset(overflow + 1, self.ps).ok_or("length overflow")?;
        let span = h.slice(start, len).ok_or("span outside the file")?;
        Ok(Page::new(Some(id), span))
    }

    fn visit(&mut self, id: u64) -> bool {
        let (w, b) = ((id / 64) as usize, id % 64);
        match self.visited.get_mut(w) {
            Some(word) => {
                let seen = *word & (1 << b) != 0;
                *word |= 1 << b;
                !seen
            }
            None => false,
        }
    }

    /// Walks the bucket whose root is page `root` (or the inline page) into a tree.
    fn bucket(&mut self, root: Root<'a>, path: &[&'a [u8]], depth: usize) -> Tree<'a> {
        let mut t = Tree::default();
        if depth > MAX_DEPTH {
            t.lost.push(Lost {
                page: 0,
                reason: format!("buckets nested deeper than {MAX_DEPTH} levels"),
                lo: None,
                hi: None,
            });
            return t;
        }
        match root {
            Root::Page(id) => self.node(id, None, None, path, depth, &mut t),
            Root::Inline(p) => {
                if let Err(reason) = self.leaf(p, None, None, path, depth, &mut t) {
                    t.lost.push(Lost {
                        page: 0,
                        reason: format!("inline bucket: {reason}"),
                        lo: None,
                        hi: None,
                    });
                }
            }
        }
        t
    }

    fn node(
        &mut self,
        id: u64,
        lo: Option<&'a [u8]>,
        hi: Option<&'a [u8]>,
        path: &[&'a [u8]],
        depth: usize,
        t: &mut Tree<'a>,
    ) {
        let lost = |reason: String, t: &mut Tree<'a>| {
            t.lost.push(Lost {
                page: id,
                reason,
                lo,
                hi,
            })
        };
        if depth > MAX_DEPTH {
            return lost(format!("deeper than {MAX_DEPTH} levels (a cycle)"), t);
        }
        let page = match self.page(id) {
            Ok(p) => p,
            Err(r) => return lost(r, t),
        };
        if !self.visit(id) {
            return lost("referenced twice (a cycle or a shared page)".into(), t);
        }
        match page.flags() {
            page_flags::BRANCH => {
                let children = match branch_children(&page, lo, hi) {
                    Ok(c) => c,
                    Err(r) => return lost(r, t),
                };
                let n = children.len();
                for i in 0..n {
                    let (key, child) = children[i];
                    let clo = if i == 0 { lo.or(Some(key)) } else { Some(key) };
                    let chi = if i + 1 < n {
                        Some(children[i + 1].0)
                    } else {
                        hi
                    };
                    self.node(child, clo, chi, path, depth + 1, t);
                }
            }
            page_flags::LEAF => {
                let before = t.items.len();
                if let Err(r) = self.leaf(page, lo, hi, path, depth, t) {
                    t.items.truncate(before);
                    lost(r, t);
                }
            }
            f => lost(
                format!(
                    "type {} where a branch or leaf page belongs",
                    etcdsnap_bbolt::PageKind::from_flags(f).name()
                ),
                t,
            ),
        }
    }

    /// Takes every element of a leaf page, or none (`Err`).
    fn leaf(
        &mut self,
        page: Page<'a>,
        lo: Option<&'a [u8]>,
        hi: Option<&'a [u8]>,
        path: &[&'a [u8]],
        depth: usize,
        t: &mut Tree<'a>,
    ) -> std::result::Result<(), String> {
        if page.flags() != page_flags::LEAF {
            return Err(format!("type {} (expected leaf)", page.kind().name()));
        }
        page.check_elements_fit().map_err(|e| e.to_string())?;
        let is_key = path.len() == 1 && path[0] == buckets::KEY;
        let mut prev: Option<&[u8]> = None;
        let mut subs = Vec::new();
        for i in 0..page.count() {
            let e = page.leaf(i).map_err(|e| e.to_string())?;
            check_order(e.key, prev, lo, hi)?;
            prev = Some(e.key);
            if e.flags & raw::BUCKET_LEAF_FLAG != 0 {
                subs.push((t.items.len(), e.key, e.value));
                t.items.push(Item::Value(e.key, e.value));
                continue;
            }
            if e.flags != 0 {
                return Err(format!("element {i} has flags {:#x}", e.flags));
            }
            if is_key {
                check_revision(e.key, e.value).map_err(|r| format!("element {i}: {r}"))?;
            }
            t.items.push(Item::Value(e.key, e.value));
        }
        // Sub-buckets: the page itself is sound; their own damage is theirs.
        for (at, key, value) in subs {
            let v = Bytes(value);
            let Some(root) = v.u64_le(raw::bucket_header::ROOT) else {
                return Err(format!("bucket {} has a short header", escape_bytes(key)));
            };
            let seq = v.u64_le(raw::bucket_header::SEQUENCE).unwrap_or(0);
            let r = if root == 0 {
                let span = v.tail(raw::BUCKET_HEADER_SIZE).unwrap_or_default();
                if span.len() < raw::PAGE_HEADER_SIZE {
                    return Err(format!("inline bucket {} is too short", escape_bytes(key)));
                }
                Root::Inline(Page::new(None, span))
            } else {
                Root::Page(root)
            };
            let mut sub_path = path.to_vec();
            sub_path.push(key);
            let sub = self.bucket(r, &sub_path, depth + 1);
            t.items[at] = Item::Bucket(key, seq, sub);
        }
        Ok(())
    }
}

#[derive(Debug, Clone, Copy)]
enum Root<'a> {
    Page(u64),
    Inline(Page<'a>),
}

fn check_order(
    key: &[u8],
    prev: Option<&[u8]>,
    lo: Option<&[u8]>,
    hi: Option<&[u8]>,
) -> std::result::Result<(), String> {
    if prev.is_some_and(|p| key <= p) {
        return Err(format!("key {} is out of order", escape_bytes(key)));
    }
    if lo.is_some_and(|l| key < l) || hi.is_some_and(|h| key >= h) {
        return Err(format!(
            "key {} lies outside the range its parent gives the page",
            escape_bytes(key)
        ));
    }
    Ok(())
}

fn branch_children<'a>(
    page: &Page<'a>,
    lo: Option<&'a [u8]>,
    hi: Option<&'a [u8]>,
) -> std::result::Result<Vec<(&'a [u8], u64)>, String> {
    page.check_elements_fit().map_err(|e| e.to_string())?;
    if page.count() == 0 {
        return Err("empty branch page".into());
    }
    let mut out = Vec::with_capacity(page.count());
    let mut prev: Option<&[u8]> = None;
    for i in 0..page.count() {
        let e = page.branch(i).map_err(|e| e.to_string())?;
        // The first separator may be below the range (bbolt keeps stale first keys).
        let l = if i == 0 { None } else { lo };
        check_order(e.key, prev, l, hi)?;
        prev = Some(e.key);
        out.push((e.key, e.child));
    }
    Ok(out)
}

/// A `key` bucket entry as etcd writes it: a revision key and a KeyValue of that revision.
fn check_revision(key: &[u8], value: &[u8]) -> std::result::Result<(), String> {
    let rk =
        RevKey::parse(key).ok_or_else(|| format!("key {} is not a revision", escape_bytes(key)))?;
    let kv = KeyValueRef::decode(value).map_err(|e| format!("revision {}: {e}", rk.rev))?;
    if kv.key.is_empty() {
        return Err(format!("revision {}: record without a key", rk.rev));
    }
    if !rk.tombstone && kv.mod_revision != rk.rev.main {
        return Err(format!(
            "revision {}: record says mod_revision {}",
            rk.rev, kv.mod_revision
        ));
    }
    Ok(())
}

fn in_range(k: &[u8], l: &Lost<'_>) -> bool {
    l.lo.is_none_or(|lo| k >= lo) && l.hi.is_none_or(|hi| k < hi)
}

/// Reads the root bucket of `meta`'s tree.
fn root_tree<'a>(data: &'a [u8], meta: &Meta) -> Tree<'a> {
    let mut w = Walker::new(data, meta);
    w.bucket(Root::Page(meta.root), &[], 0)
}

fn top<'t, 'a>(t: &'t Tree<'a>, name: &[u8]) -> Option<(&'t Tree<'a>, u64)> {
    t.items.iter().find_map(|i| match i {
        Item::Bucket(k, seq, sub) if *k == name => Some((sub, *seq)),
        _ => None,
    })
}

fn write_tree(w: &mut Writer, t: &Tree<'_>) -> Result<()> {
    for i in &t.items {
        match i {
            Item::Value(k, v) => w.put(k, v)?,
            Item::Bucket(k, seq, sub) => {
                w.begin_bucket(k, *seq)?;
                write_tree(w, sub)?;
                w.end_bucket()?;
            }
        }
    }
    Ok(())
}

fn lost_page(meta: u8, bucket: &str, l: &Lost<'_>, is_key: bool, refilled: u64) -> LostPage {
    let rev = |k: Option<&[u8]>| {
        if is_key {
            k.and_then(Revision::parse)
        } else {
            None
        }
    };
    LostPage {
        meta,
        page: l.page,
        bucket: bucket.to_string(),
        reason: l.reason.clone(),
        key_from: l.lo.map(escape_bytes),
        key_to: l.hi.map(escape_bytes),
        rev_from: rev(l.lo),
        rev_to: rev(l.hi),
        refilled,
    }
}

/// Any sub-bucket (at any depth) with a loss.
fn has_loss(t: &Tree<'_>) -> bool {
    !t.lost.is_empty()
        || t.items
            .iter()
            .any(|i| matches!(i, Item::Bucket(_, _, s) if has_loss(s)))
}

/// Every leaf page of the file (reachable or not) read as `key` bucket entries, for `deep`.
/// A leaf page found by `deep`: its id and its well-formed `key` entries.
type DeepPage<'a> = (u64, Vec<(&'a [u8], &'a [u8])>);

fn deep_entries(data: &[u8], ps: u64) -> Vec<DeepPage<'_>> {
    let mut out = Vec::new();
    let pages = data.len() as u64 / ps;
    for id in 2..pages {
        let Some(start) = mul_offset(id, ps) else {
            break;
        };
        let Some(span) = Bytes(data).slice(start, ps as usize) else {
            break;
        };
        let p = Page::new(Some(id), span);
        if p.flags() != page_flags::LEAF || Bytes(span).u64_le(0) != Some(id) {
            continue;
        }
        // Its own overflow span, when it fits the file.
        let over = u64::from(p.overflow());
        let span = mul_offset(over + 1, ps)
            .and_then(|len| Bytes(data).slice(start, len))
            .unwrap_or(span);
        let p = Page::new(Some(id), span);
        if p.check_elements_fit().is_err() {
            continue;
        }
        let mut entries = Vec::new();
        for i in 0..p.count() {
            if let Ok(e) = p.leaf(i)
                && e.flags == 0
                && check_revision(e.key, e.value).is_ok()
            {
                entries.push((e.key, e.value));
            }
        }
        if !entries.is_empty() {
            out.push((id, entries));
        }
    }
    out
}

/// What the recovered index says about one put: (revision, create_revision, version).
type Known = (Revision, i64, i64);

/// A `--deep` put agrees with the recovered index of its key: within one generation (same
/// create_revision) versions grow with revisions, and it was created at or before itself.
fn consistent(rev: Revision, kv: &KeyValueRef<'_>, known: Option<&Vec<Known>>) -> bool {
    if kv.create_revision > rev.main || kv.version < 1 {
        return false;
    }
    known.is_none_or(|ks| {
        ks.iter()
            .filter(|(_, create, _)| *create == kv.create_revision)
            .all(|(r, _, v)| (*r < rev) == (*v < kv.version) && *r != rev)
    })
}

/// Salvages the file in `source` into `out`. `Err` only when nothing could be recovered or
/// the output cannot be written.
pub fn salvage(source: Arc<Source>, out: &Output, opts: SalvageOptions) -> Result<SalvageReport> {
    let file = source.bytes();
    let (m0, m1) = read_metas(file);
    let mut rep = SalvageReport::default();
    let data_len = etcdsnap_bbolt::db::trailer_of(file).map_or(file.len(), |t| t.offset as usize);
    let data = &file[..data_len];
    let mut metas: Vec<Meta> = Vec::new();
    for (i, m) in [(0u8, &m0), (1u8, &m1)] {
        match m {
            Ok(m) => metas.push(*m),
            Err(e) => rep.bad_metas.push((i, e.to_string())),
        }
    }
    metas.sort_by_key(|m| std::cmp::Reverse(m.txid));
    let Some(primary) = metas.first().copied() else {
        return Err(Error::Salvage(
            "no valid meta page: nothing can be recovered".into(),
        ));
    };
    rep.meta_used = Some(primary.index);
    let other = metas.get(1).copied();
    let main_tree = root_tree(data, &primary);
    let other_tree = other.map(|m| root_tree(data, &m));
    for l in &main_tree.lost {
        rep.lost_pages
            .push(lost_page(primary.index, "", l, false, 0));
    }
    // The root bucket's own damage: fall back to the other meta's list of buckets.
    let root = match other_tree.as_ref() {
        Some(t) if !main_tree.lost.is_empty() && t.lost.is_empty() => t,
        _ => &main_tree,
    };
    let root_lost = root.items.is_empty() && !root.lost.is_empty();
    if root_lost && !opts.deep {
        return Err(Error::Salvage(
            "the root bucket cannot be read from either meta page: nothing can be recovered \
             from the tree (--deep reads the key bucket's pages wherever they are)"
                .into(),
        ));
    }
    rep.unrecovered_ranges += root.lost.len() as u64;

    // The key bucket: primary entries, ranges filled from the other tree, then deep.
    let key_main = top(root, buckets::KEY);
    let key_other = other_tree.as_ref().and_then(|t| top(t, buckets::KEY));
    let mut key_entries: BTreeMap<&[u8], &[u8]> = BTreeMap::new();
    let mut lost_key: Vec<(Lost<'_>, u64)> = Vec::new();
    let key_seq = key_main.map_or(0, |(_, s)| s);
    if let Some((t, _)) = key_main {
        for i in &t.items {
            if let Item::Value(k, v) = i {
                key_entries.insert(k, v);
            }
        }
        for l in &t.lost {
            lost_key.push((l.clone(), 0));
        }
    } else if root_lost {
        // The whole key bucket is out of reach through the tree: everything is a lost range.
        lost_key.push((
            Lost {
                page: root.lost.first().map_or(0, |l| l.page),
                reason: "the root bucket is unreadable: the key bucket cannot be reached".into(),
                lo: None,
                hi: None,
            },
            0,
        ));
    }
    let mut filled_other = 0u64;
    if let Some((ot, _)) = key_other
        && !lost_key.is_empty()
    {
        for i in &ot.items {
            if let Item::Value(k, v) = i {
                for (l, n) in lost_key.iter_mut() {
                    if in_range(k, l) && !key_entries.contains_key(k) {
                        key_entries.insert(k, v);
                        *n += 1;
                        filled_other += 1;
                    }
                }
            }
        }
    }
    // The compaction revision the file states.
    let meta_main = top(root, buckets::META);
    let mut meta_entries: BTreeMap<&[u8], &[u8]> = BTreeMap::new();
    let meta_intact = meta_main.is_some_and(|(t, _)| !has_loss(t));
    if let Some((t, _)) = meta_main {
        for i in &t.items {
            if let Item::Value(k, v) = i {
                meta_entries.insert(k, v);
            }
        }
    }
    let compact_of = |m: &BTreeMap<&[u8], &[u8]>| {
        m.get(FINISHED_COMPACT)
            .and_then(|v| Revision::parse(v))
            .map(|r| r.main)
            .into_iter()
            .chain(
                m.get(SCHEDULED_COMPACT)
                    .and_then(|v| Revision::parse(v))
                    .map(|r| r.main),
            )
            .max()
    };
    let stated_compact = compact_of(&meta_entries);
    let mut filled_deep = 0u64;
    if opts.deep && !lost_key.is_empty() {
        let floor = stated_compact.unwrap_or(0);
        rep.compaction_unknown = stated_compact.is_none();
        // The recovered index: per user key, its puts (revision, create, version).
        let mut known: std::collections::HashMap<&[u8], Vec<Known>> = Default::default();
        for (k, v) in &key_entries {
            if let (Some(rk), Ok(kv)) = (RevKey::parse(k), KeyValueRef::decode(v))
                && !rk.tombstone
            {
                known
                    .entry(kv.key)
                    .or_default()
                    .push((rk.rev, kv.create_revision, kv.version));
            }
        }
        for (page, entries) in deep_entries(data, u64::from(primary.page_size)) {
            // The page's entries that would fill a lost range.
            let wanted: Vec<(&[u8], &[u8])> = entries
                .into_iter()
                .filter(|(k, _)| !key_entries.contains_key(k))
                .filter(|(k, _)| RevKey::parse(k).is_some_and(|rk| rk.rev.main > floor))
                .filter(|(k, _)| lost_key.iter().any(|(l, _)| in_range(k, l)))
                .collect();
            if wanted.is_empty() {
                continue;
            }
            // A page is taken only when all of them agree with the recovered index.
            let agrees = wanted.iter().all(|(k, v)| {
                let (Some(rk), Ok(kv)) = (RevKey::parse(k), KeyValueRef::decode(v)) else {
                    return false;
                };
                rk.tombstone || consistent(rk.rev, &kv, known.get(kv.key))
            });
            if !agrees {
                rep.deep_pages_rejected.push(page);
                continue;
            }
            for (k, v) in wanted {
                if let Some((_, n)) = lost_key.iter_mut().find(|(l, _)| in_range(k, l)) {
                    key_entries.insert(k, v);
                    *n += 1;
                    filled_deep += 1;
                }
            }
        }
    }
    for (l, n) in &lost_key {
        rep.lost_pages
            .push(lost_page(primary.index, "key", l, true, *n));
    }
    // A lost range is recovered only when a refill found entries for it; how many the lost
    // page held is unknown, so a range stays "unrecovered" unless the other meta's tree read
    // the same range from intact pages (then it is exactly what the other tree holds).
    for (l, n) in &lost_key {
        let exact_from_other =
            key_other.is_some_and(|(ot, _)| !ot.lost.iter().any(|ol| overlaps(ol, l)) && *n > 0);
        if !exact_from_other {
            rep.unrecovered_ranges += 1;
        }
    }

    // Compaction marks: when the oldest part of the history is lost (a range still lost
    // before the oldest recovered revision), etcd must refuse reads below what survived;
    // when the meta bucket is gone, the oldest recovered revision is all we know.
    let oldest = key_entries.keys().next().and_then(|k| Revision::parse(k));
    let newest = key_entries
        .keys()
        .next_back()
        .and_then(|k| Revision::parse(k));
    let lost_start = lost_key.iter().any(|(l, n)| {
        *n == 0
            && (l.lo.is_none()
                || oldest.is_some_and(|o| l.lo.and_then(Revision::parse).is_some_and(|lr| lr <= o)))
    });
    let mut compact = stated_compact;
    if let Some(o) = oldest
        && (lost_start || meta_main.is_none())
        && o.main - 1 > compact.unwrap_or(0)
    {
        compact = Some(o.main - 1);
    }
    rep.compact_revision = compact;

    // Write.
    let mut w = Writer::create(
        &out.path,
        etcdsnap_bbolt::WriteOptions {
            page_size: primary.page_size,
            fill_percent: out.fill_percent,
            txid: primary.txid.max(1),
            sha256_trailer: out.sha256_trailer,
            force: out.force,
        },
    )?;
    let mut names: Vec<&[u8]> = root
        .items
        .iter()
        .filter_map(|i| match i {
            Item::Bucket(k, _, _) => Some(*k),
            _ => None,
        })
        .collect();
    for must in [buckets::META, buckets::KEY] {
        if !names.contains(&must) && (must == buckets::META || !key_entries.is_empty()) {
            names.push(must);
        }
    }
    names.sort();
    for name in names {
        let label = escape_bytes(name);
        if name == buckets::KEY {
            w.begin_bucket(name, key_seq)?;
            for (k, v) in &key_entries {
                w.put(k, v)?;
            }
            w.end_bucket()?;
            if lost_key.is_empty() {
                rep.buckets_recovered.push(label);
            }
            continue;
        }
        if name == buckets::META {
            let mut m: BTreeMap<Vec<u8>, Vec<u8>> = meta_entries
                .iter()
                .map(|(k, v)| (k.to_vec(), v.to_vec()))
                .collect();
            if compact != stated_compact
                && let Some(c) = compact
            {
                let mark = Revision { main: c, sub: 0 }.to_bytes().to_vec();
                m.insert(SCHEDULED_COMPACT.to_vec(), mark.clone());
                m.insert(FINISHED_COMPACT.to_vec(), mark);
            }
            let seq = meta_main.map_or(0, |(_, s)| s);
            w.begin_bucket(name, seq)?;
            for (k, v) in &m {
                w.put(k, v)?;
            }
            w.end_bucket()?;
            if meta_intact {
                rep.buckets_recovered.push(label);
            } else {
                rep.buckets_lost.push((
                    label,
                    if meta_main.is_some() {
                        "damaged: rebuilt from its readable entries".into()
                    } else {
                        "missing: rebuilt".into()
                    },
                ));
            }
            continue;
        }
        let Some((t, seq)) = top(root, name) else {
            continue;
        };
        let (t, seq, from_other) = if has_loss(t) {
            match other_tree
                .as_ref()
                .and_then(|o| top(o, name))
                .filter(|(o, _)| !has_loss(o))
            {
                Some((o, s)) => (o, s, true),
                None => {
                    for l in &t.lost {
                        rep.lost_pages
                            .push(lost_page(primary.index, &label, l, false, 0));
                    }
                    rep.buckets_lost
                        .push((label, "damaged: not recovered".into()));
                    continue;
                }
            }
        } else {
            (t, seq, false)
        };
        if from_other {
            for l in &top(root, name)
                .map(|(t, _)| t.lost.clone())
                .unwrap_or_default()
            {
                rep.lost_pages
                    .push(lost_page(primary.index, &label, l, false, 0));
            }
        }
        w.begin_bucket(name, seq)?;
        write_tree(&mut w, t)?;
        w.end_bucket()?;
        rep.buckets_recovered.push(label);
    }
    rep.revisions = key_entries.len() as u64;
    rep.revisions_from_other_meta = filled_other;
    rep.revisions_from_deep = filled_deep;
    rep.revision_range = oldest.zip(newest);
    let summary = w.finish()?;
    rep.sizes = Some(Sizes {
        db_size_before: primary.pgid.saturating_mul(u64::from(primary.page_size)),
        file_size_before: file.len() as u64,
        db_size_after: summary.db_size,
        file_size_after: summary.file_size,
    });
    Ok(rep)
}

fn overlaps(a: &Lost<'_>, b: &Lost<'_>) -> bool {
    let a_before_b = a.hi.is_some_and(|ah| b.lo.is_some_and(|bl| ah <= bl));
    let b_before_a = b.hi.is_some_and(|bh| a.lo.is_some_and(|al| bh <= al));
    !(a_before_b || b_before_a)
}
