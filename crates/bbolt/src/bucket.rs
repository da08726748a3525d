//! Buckets: B+trees of key/value entries, iterated in key order without copying.
//!
//! A bucket's root is a page id, or (inline bucket) a leaf page stored inside the bucket's
//! value. Iteration is depth-first with an explicit stack, so a hostile file cannot overflow
//! the call stack; a visited-page bit set turns a cycle or a shared subtree into
//! [`Error::PageRevisited`]. Every descent (iteration, lookups, [`Bucket::last`]) is bounded by
//! the pages it has visited, never by a fixed depth: bbolt itself has no depth limit, so an
//! acyclic chain of any depth reads as bbolt reads it, and a cycle ends at its first repeat.

use crate::bytes::Bytes;
use crate::db::{Db, expect_flags};
use crate::error::{Error, Result, escape_bytes};
use crate::page::{LeafElem, Page, PageKind};
use crate::raw::{self, page_flags};

/// Where a bucket's tree starts.
#[derive(Clone, Copy, Debug)]
enum Root<'a> {
    Page(u64),
    Inline(Page<'a>),
}

/// A bucket, borrowed from the database.
#[derive(Clone, Copy, Debug)]
pub struct Bucket<'a> {
    db: &'a Db,
    name: &'a [u8],
    root: Root<'a>,
    sequence: u64,
}

/// One entry of a bucket.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Entry<'a> {
    /// The key.
    pub key: &'a [u8],
    /// The value; for a sub-bucket entry, the bucket header (and inline page).
    pub value: &'a [u8],
    /// The key immediately followed by the value, as stored (one slice, for hashing).
    pub key_value: &'a [u8],
    /// Leaf element flags.
    pub flags: u32,
    /// The leaf page the entry sits on (`None` inside an inline bucket).
    pub page: Option<u64>,
}

impl<'a> Entry<'a> {
    fn from_leaf(e: LeafElem<'a>, page: Option<u64>) -> Entry<'a> {
        Entry {
            key: e.key,
            value: e.value,
            key_value: e.key_value,
            flags: e.flags,
            page,
        }
    }

    /// True when the entry is a sub-bucket.
    pub fn is_bucket(&self) -> bool {
        self.flags & raw::BUCKET_LEAF_FLAG != 0
    }
}

impl<'a> Bucket<'a> {
    pub(crate) fn from_root(db: &'a Db, root: u64, name: &'a [u8]) -> Bucket<'a> {
        Bucket {
            db,
            name,
            root: Root::Page(root),
            sequence: 0,
        }
    }

    /// The bucket whose header is `value` (the value of a bucket entry named `name`).
    pub fn from_value(db: &'a Db, name: &'a [u8], value: &'a [u8]) -> Result<Bucket<'a>> {
        let v = Bytes(value);
        let bad = |what: String| Error::BadBucket {
            bucket: escape_bytes(name),
            what,
        };
        let root = v.u64_le(raw::bucket_header::ROOT).ok_or_else(|| {
            bad(format!(
                "value of {} bytes is shorter than a bucket header",
                value.len()
            ))
        })?;
        let sequence = v.u64_le(raw::bucket_header::SEQUENCE).unwrap_or(0);
        let root = if root == 0 {
            let span = v.tail(raw::BUCKET_HEADER_SIZE).unwrap_or_default();
            if span.len() < raw::PAGE_HEADER_SIZE {
                return Err(bad("inline bucket is shorter than a page header".into()));
            }
            let page = Page::new(None, span);
            if page.flags() != page_flags::LEAF {
                return Err(bad(format!(
                    "inline page has type {} (expected leaf)",
                    page.kind().name()
                )));
            }
            page.check_elements_fit()?;
            Root::Inline(page)
        } else {
            if root >= db.hwm() || root < 2 {
                return Err(Error::PageOutOfRange {
                    page: root,
                    hwm: db.hwm(),
                    from: None,
                });
            }
            Root::Page(root)
        };
        Ok(Bucket {
            db,
            name,
            root,
            sequence,
        })
    }

    /// The bucket's name (empty for the root bucket).
    pub fn name(&self) -> &'a [u8] {
        self.name
    }

    /// The bucket's sequence counter.
    pub fn sequence(&self) -> u64 {
        self.sequence
    }

    /// True when the bucket is stored inline in its parent's leaf.
    pub fn is_inline(&self) -> bool {
        matches!(self.root, Root::Inline(_))
    }

    /// The root page id (`None` for an inline bucket).
    pub fn root_page(&self) -> Option<u64> {
        match self.root {
            Root::Page(id) => Some(id),
            Root::Inline(_) => None,
        }
    }

    /// The database this bucket belongs to.
    pub fn db(&self) -> &'a Db {
        self.db
    }

    fn load(&self, id: u64, from: Option<u64>) -> Result<Page<'a>> {
        let page = self.db.page_from(id, from)?;
        if page.kind() != PageKind::Branch && page.kind() != PageKind::Leaf {
            expect_flags(&page, page_flags::LEAF, from)?;
        }
        page.check_elements_fit()?;
        Ok(page)
    }

    fn root_page_loaded(&self) -> Result<Page<'a>> {
        match self.root {
            Root::Page(id) => self.load(id, None),
            Root::Inline(p) => Ok(p),
        }
    }

    /// All entries in key order.
    pub fn iter(&self) -> Iter<'a> {
        let mut it = Iter::empty(*self);
        match self.root_page_loaded() {
            Ok(p) => it.push(p, 0, None),
            Err(e) => it.pending = Some(e),
        }
        it
    }

    /// Entries in key order, split into at most `n` independent iterators over consecutive key
    /// ranges (by the root's children), so a scan can run on several threads.
    pub fn split(&self, n: usize) -> Vec<Iter<'a>> {
        let root = match self.root_page_loaded() {
            Ok(p) => p,
            Err(_) => return vec![self.iter()],
        };
        if root.kind() != PageKind::Branch || n <= 1 || root.count() < 2 {
            return vec![self.iter()];
        }
        let count = root.count();
        let parts = n.min(count);
        (0..parts)
            .map(|k| {
                let lo = count * k / parts;
                let hi = count * (k + 1) / parts;
                let mut it = Iter::empty(*self);
                it.push(root, lo, Some(hi));
                it
            })
            .collect()
    }

    /// The value stored under `key` (not a sub-bucket), if any.
    pub fn get(&self, key: &[u8]) -> Result<Option<&'a [u8]>> {
        Ok(self
            .get_entry(key)?
            .filter(|e| !e.is_bucket())
            .map(|e| e.value))
    }

    /// The entry stored under exactly `key`, if any.
    pub fn get_entry(&self, key: &[u8]) -> Result<Option<Entry<'a>>> {
        let mut it = self.seek(key);
        match it.next() {
            Some(Ok(e)) if e.key == key => Ok(Some(e)),
            Some(Err(e)) => Err(e),
            _ => Ok(None),
        }
    }

    /// The sub-bucket `name`, if present.
    pub fn sub_bucket(&self, name: &[u8]) -> Result<Option<Bucket<'a>>> {
        match self.get_entry(name)? {
            Some(e) if e.is_bucket() => Ok(Some(Bucket::from_value(self.db, e.key, e.value)?)),
            _ => Ok(None),
        }
    }

    /// The last entry in key order, if any.
    pub fn last(&self) -> Result<Option<Entry<'a>>> {
        let mut page = self.root_page_loaded()?;
        let mut visited = Visited::default();
        if let Some(id) = page.id() {
            visited.insert(id);
        }
        loop {
            let n = page.count();
            if n == 0 {
                break;
            }
            if page.kind() != PageKind::Branch {
                let e = page.leaf(n - 1)?;
                return Ok(Some(Entry::from_leaf(e, page.id())));
            }
            let child = page.branch(n - 1)?.child;
            let from = page.id();
            page = self.load(child, from)?;
            if !visited.insert(child) {
                return Err(Error::PageRevisited {
                    page: child,
                    from,
                    bucket: escape_bytes(self.name),
                });
            }
        }
        // An empty rightmost page: rare, take the slow path.
        let mut last = None;
        for e in self.iter() {
            last = Some(e?);
        }
        Ok(last)
    }

    /// An iterator positioned at the first entry whose key is `>= key`.
    pub fn seek(&self, key: &[u8]) -> Iter<'a> {
        let mut it = Iter::empty(*self);
        if let Err(e) = it.seek_from(self.root_page_loaded(), key) {
            it.stack.clear();
            it.pending = Some(e);
        }
        it
    }
}

/// The pages one iterator entered: what [`crate::ledger::Ledger`] accounts for.
#[derive(Debug, Default)]
pub struct PagesSeen {
    /// Bit set of the branch and leaf page ids entered.
    pub(crate) words: Vec<u64>,
    /// Pages with continuation pages: (id, overflow count).
    pub(crate) runs: Vec<(u64, u32)>,
    /// A branch page with no elements was entered (bbolt's check refuses it; a reader skips it).
    pub(crate) empty_branch: bool,
}

/// One level of the descent.
#[derive(Clone, Copy, Debug)]
struct Frame<'a> {
    page: Page<'a>,
    index: usize,
    end: usize,
}

/// A bit set of page ids seen by one walk.
#[derive(Debug, Default)]
struct Visited(Vec<u64>);

impl Visited {
    /// Marks `id`; false if it was already marked.
    fn insert(&mut self, id: u64) -> bool {
        let (w, b) = ((id / 64) as usize, id % 64);
        if w >= self.0.len() {
            self.0.resize(w + 1, 0);
        }
        let seen = self.0[w] & (1 << b) != 0;
        self.0[w] |= 1 << b;
        !seen
    }
}

/// Ordered iteration over a bucket's entries (including sub-bucket entries).
#[derive(Debug)]
pub struct Iter<'a> {
    bucket: Bucket<'a>,
    stack: Vec<Frame<'a>>,
    visited: Visited,
    pending: Option<Error>,
    done: bool,
    /// Record what [`PagesSeen`] needs beyond the visited set (see [`Iter::track_pages`]).
    track: bool,
    runs: Vec<(u64, u32)>,
    empty_branch: bool,
}

impl<'a> Iter<'a> {
    fn empty(bucket: Bucket<'a>) -> Iter<'a> {
        Iter {
            bucket,
            stack: Vec::with_capacity(8),
            visited: Visited::default(),
            pending: None,
            done: false,
            track: false,
            runs: Vec::new(),
            empty_branch: false,
        }
    }

    /// Makes the iterator record the pages it enters, for [`Iter::into_pages`]: a caller that
    /// reads every entry anyway can then account for the file's pages without a second walk
    /// (see [`crate::ledger`]).
    pub fn track_pages(mut self) -> Iter<'a> {
        self.track = true;
        // The pages already on the stack (a new iterator's root) were entered untracked.
        for f in std::mem::take(&mut self.stack) {
            self.note(&f.page);
            self.stack.push(f);
        }
        self
    }

    fn note(&mut self, page: &Page<'a>) {
        if let Some(id) = page.id() {
            if page.overflow() > 0 {
                self.runs.push((id, page.overflow()));
            }
            if page.kind() == PageKind::Branch && page.count() == 0 {
                self.empty_branch = true;
            }
        }
    }

    /// The pages this iterator entered (its branch and leaf pages, their overflow runs) and
    /// whether one of them was an empty branch. Complete once the iterator is exhausted;
    /// overflow runs and empty branches are recorded only after [`Iter::track_pages`].
    pub fn into_pages(self) -> PagesSeen {
        PagesSeen {
            words: self.visited.0,
            runs: self.runs,
            empty_branch: self.empty_branch,
        }
    }

    fn push(&mut self, page: Page<'a>, index: usize, end: Option<usize>) {
        if let Some(id) = page.id() {
            self.visited.insert(id);
            if self.track {
                self.note(&page);
            }
        }
        self.stack.push(Frame {
            page,
            index,
            end: end.unwrap_or(page.count()).min(page.count()),
        });
    }

    fn descend(&mut self, child: u64, from: Option<u64>) -> Result<Page<'a>> {
        // No depth limit: the visited set ends any cycle, and an acyclic descent is at most
        // as deep as the file has pages. Load first: it checks `child` against the high-water mark and the file, so the
        // visited set never grows past the pages the file really has.
        let page = self.bucket.load(child, from)?;
        if !self.visited.insert(child) {
            return Err(Error::PageRevisited {
                page: child,
                from,
                bucket: escape_bytes(self.bucket.name),
            });
        }
        Ok(page)
    }

    fn seek_from(&mut self, root: Result<Page<'a>>, key: &[u8]) -> Result<()> {
        let mut page = root?;
        if let Some(id) = page.id() {
            self.visited.insert(id);
        }
        loop {
            let n = page.count();
            match page.kind() {
                PageKind::Branch => {
                    // The last element whose key is <= target, else the first.
                    let (mut lo, mut hi) = (0usize, n);
                    while lo < hi {
                        let mid = (lo + hi) / 2;
                        if page.branch(mid)?.key <= key {
                            lo = mid + 1;
                        } else {
                            hi = mid;
                        }
                    }
                    let i = lo.saturating_sub(1);
                    if n == 0 {
                        self.stack.push(Frame {
                            page,
                            index: 0,
                            end: 0,
                        });
                        return Ok(());
                    }
                    self.stack.push(Frame {
                        page,
                        index: i + 1,
                        end: n,
                    });
                    let child = page.branch(i)?.child;
                    page = self.descend(child, page.id())?;
                }
                _ => {
                    let (mut lo, mut hi) = (0usize, n);
                    while lo < hi {
                        let mid = (lo + hi) / 2;
                        if page.leaf(mid)?.key < key {
                            lo = mid + 1;
                        } else {
                            hi = mid;
                        }
                    }
                    self.stack.push(Frame {
                        page,
                        index: lo,
                        end: n,
                    });
                    return Ok(());
                }
            }
        }
    }

    fn step(&mut self) -> Result<Option<Entry<'a>>> {
        loop {
            let Some(top) = self.stack.last_mut() else {
                return Ok(None);
            };
            if top.index >= top.end {
                self.stack.pop();
                continue;
            }
            let i = top.index;
            top.index += 1;
            let page = top.page;
            if page.kind() == PageKind::Branch {
                let child = page.branch(i)?.child;
                let p = self.descend(child, page.id())?;
                self.push(p, 0, None);
            } else {
                let e = page.leaf(i)?;
                return Ok(Some(Entry::from_leaf(e, page.id())));
            }
        }
    }
}

impl<'a> Iterator for Iter<'a> {
    type Item = Result<Entry<'a>>;

    #[inline]
    fn next(&mut self) -> Option<Self::Item> {
        if self.done {
            return None;
        }
        if let Some(e) = self.pending.take() {
            self.done = true;
            return Some(Err(e));
        }
        match self.step() {
            Ok(Some(e)) => Some(Ok(e)),
            Ok(None) => {
                self.done = true;
                None
            }
            Err(e) => {
                self.done = true;
                Some(Err(e))
            }
        }
    }
}
