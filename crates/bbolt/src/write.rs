//! A bulk-loading bbolt writer: sorted buckets and key/values in, a fresh database file out.
//!
//! Why our own: `salvage`, `redact` and `compact` must produce files that etcd (bbolt
//! underneath) opens, restores and serves, and they stream a history that can be larger than
//! memory. A bulk load in key order needs none of bbolt's transaction machinery: pages are
//! filled left to right and written as soon as their content is decided, so memory holds only
//! the pages under construction (one per tree level per open bucket), never the file.
//!
//! The layout follows bbolt (`node.go`, `bucket.go`, `freelist.go`, `db.go` at v1.3.6), facts
//! only:
//! - A node is split into pages as `node.split` does: a page takes elements while it holds
//!   fewer than 2 (minKeysPerPage) or stays within `page_size * fill_percent`, the rest must
//!   keep at least 2, and a remainder smaller than a page (or of at most 4 elements) stays one
//!   page (with overflow pages when it is larger). etcd's defrag writes with fill percent 0.9
//!   (`backend.defragdb`: `tmpb.FillPercent = 0.9`), which is our default.
//! - A branch element's key is its child's first key.
//! - A bucket is inline (its leaf page stored inside the parent's value, page id 0) when it has
//!   no sub-bucket and its leaf fits in a quarter page (`Bucket.inlineable`); the root bucket
//!   never is.
//! - Pages are allocated in write order from page 2; the freelist page (empty: nothing is
//!   freed in a fresh file) is the last page; both metas describe the same tree, the one with
//!   txid T on page T % 2 and the other with T - 1, checksummed with FNV-1a.
//! - Optionally etcd's snapshot trailer: the SHA-256 of the whole database appended
//!   (`etcdctl snapshot save`), so `etcdutl snapshot restore` accepts the file without
//!   `--skip-hash-check`.
//!
//! The output is written under a temporary name beside the target and renamed only when
//! complete and synced; an existing target is refused unless [`WriteOptions::force`].

use std::fs::{File, OpenOptions};
use std::io::{BufWriter, Read, Seek, SeekFrom, Write};
use std::path::{Path, PathBuf};

use sha2::{Digest, Sha256};

use crate::bucket::Bucket;
use crate::db::Db;
use crate::error::escape_bytes;
use crate::raw::{self, page_flags};

/// bbolt's minimum number of keys per page.
const MIN_KEYS_PER_PAGE: usize = 2;
/// Deepest bucket nesting accepted (the reader bounds page depth the same way).
pub const MAX_BUCKET_DEPTH: usize = 64;
/// The fill percent etcd's defrag uses.
pub const DEFRAG_FILL_PERCENT: f64 = 0.9;

/// Errors of the writer.
#[derive(Debug, thiserror::Error)]
pub enum WriteError {
    /// An I/O operation on the output failed.
    #[error("{op} {path}: {source}")]
    Io {
        /// What was being done.
        op: &'static str,
        /// The file concerned.
        path: PathBuf,
        /// The OS error.
        source: std::io::Error,
    },
    /// The output exists and `force` was not given.
    #[error("{0} exists (use --force to replace it)")]
    Exists(PathBuf),
    /// Keys of one bucket were not given in strictly increasing order.
    #[error("bucket {bucket}: key {key} does not follow {prev} (keys must be strictly increasing)")]
    KeyOrder {
        /// The bucket.
        bucket: String,
        /// The key given.
        key: String,
        /// The key before it.
        prev: String,
    },
    /// `end_bucket` without an open bucket, `finish` with buckets open, or nesting too deep.
    #[error("bucket nesting: {0}")]
    Nesting(String),
    /// The options are unusable.
    #[error("invalid write options: {0}")]
    Options(String),
    /// Reading the source failed (copying).
    #[error(transparent)]
    Read(#[from] crate::error::Error),
}

/// Result of the writer.
pub type WriteResult<T> = std::result::Result<T, WriteError>;

/// How to write.
#[derive(Debug, Clone, Copy)]
pub struct WriteOptions {
    /// Page size (a power of two, 1 KiB to 16 MiB); use the source's.
    pub page_size: u32,
    /// How full split pages are made, 0.1 to 1.0 (bbolt's `FillPercent`).
    pub fill_percent: f64,
    /// Transaction id of the newer meta (the other gets `txid - 1`); at least 1.
    pub txid: u64,
    /// Append etcd's SHA-256 trailer (as `etcdctl snapshot save` does).
    pub sha256_trailer: bool,
    /// Replace an existing output.
    pub force: bool,
}

impl Default for WriteOptions {
    fn default() -> Self {
        WriteOptions {
            page_size: 4096,
            fill_percent: DEFRAG_FILL_PERCENT,
            txid: 2,
            sha256_trailer: true,
            force: false,
        }
    }
}

/// What was written.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct WriteSummary {
    /// The final path.
    pub path: PathBuf,
    /// Pages in the database (the high-water mark).
    pub pages: u64,
    /// Database size (`pages * page_size`), etcd's total size.
    pub db_size: u64,
    /// File size (with the trailer when written).
    pub file_size: u64,
    /// Leaf pages written (overflow continuation pages not counted).
    pub leaf_pages: u64,
    /// Branch pages written.
    pub branch_pages: u64,
    /// Overflow continuation pages.
    pub overflow_pages: u64,
    /// Key/value entries written (sub-bucket entries included), all buckets.
    pub entries: u64,
    /// Buckets written (the root bucket not counted).
    pub buckets: u64,
    /// Buckets stored inline.
    pub inline_buckets: u64,
}

/// One element under construction: a leaf key/value (flags) or a branch key and child.
struct Inode {
    flags: u32,
    key: Vec<u8>,
    value: Vec<u8>,
    child: u64,
}

/// One level of a bucket's tree: elements not yet written to a page.
struct Level {
    leaf: bool,
    elems: Vec<Inode>,
    /// Header plus every element's size (`node.size`).
    size: usize,
    /// Pages written from this level so far.
    emitted: u64,
}

impl Level {
    fn new(leaf: bool) -> Level {
        Level {
            leaf,
            elems: Vec::new(),
            size: raw::PAGE_HEADER_SIZE,
            emitted: 0,
        }
    }

    fn elem_size(&self, i: &Inode) -> usize {
        let hdr = if self.leaf {
            raw::LEAF_ELEM_SIZE
        } else {
            raw::BRANCH_ELEM_SIZE
        };
        hdr + i.key.len() + i.value.len()
    }

    fn push(&mut self, i: Inode) {
        self.size += self.elem_size(&i);
        self.elems.push(i);
    }

    /// bbolt's `splitIndex` over the current elements: `Some(k)` when the first page is
    /// `elems[..k]` and more elements could not change that, given `complete` (no more
    /// elements will come) or not.
    fn split_index(&self, threshold: usize, complete: bool) -> Option<usize> {
        let n = self.elems.len();
        let mut sz = raw::PAGE_HEADER_SIZE;
        let mut index = 0;
        let bound = n.saturating_sub(MIN_KEYS_PER_PAGE);
        for (i, e) in self.elems.iter().enumerate().take(bound) {
            index = i;
            let el = self.elem_size(e);
            if i >= MIN_KEYS_PER_PAGE && sz + el > threshold {
                return Some(i);
            }
            sz += el;
        }
        // No break: bbolt splits at the last index visited; only final once complete.
        complete.then_some(index)
    }
}

/// A bucket under construction.
struct Builder {
    name: Vec<u8>,
    sequence: u64,
    may_inline: bool,
    has_sub: bool,
    last_key: Option<Vec<u8>>,
    /// `levels[0]` holds leaf elements, `levels[i]` branch elements pointing at level i - 1.
    levels: Vec<Level>,
}

/// The bulk loader. Create with [`Writer::create`], add buckets and keys in order, then
/// [`Writer::finish`]. Dropping an unfinished writer removes its temporary file.
pub struct Writer {
    out: Option<BufWriter<File>>,
    tmp: PathBuf,
    path: PathBuf,
    opts: WriteOptions,
    page_size: usize,
    threshold: usize,
    next_pgid: u64,
    stack: Vec<Builder>,
    summary: WriteSummary,
    page_buf: Vec<u8>,
}

impl std::fmt::Debug for Writer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Writer")
            .field("path", &self.path)
            .field("next_pgid", &self.next_pgid)
            .finish()
    }
}

fn io<'a>(op: &'static str, path: &'a Path) -> impl FnOnce(std::io::Error) -> WriteError + 'a {
    move |source| WriteError::Io {
        op,
        path: path.to_path_buf(),
        source,
    }
}

/// The temporary name used while `path` is written.
pub fn temp_path(path: &Path) -> PathBuf {
    let name = path
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_else(|| "out".into());
    path.with_file_name(format!(".{name}.tmp-{}", std::process::id()))
}

impl Writer {
    /// Starts writing the database that will be `path`.
    pub fn create(path: &Path, opts: WriteOptions) -> WriteResult<Writer> {
        if !opts.page_size.is_power_of_two() || !(1024..=16 << 20).contains(&opts.page_size) {
            return Err(WriteError::Options(format!(
                "page size {} is not a power of two between 1 KiB and 16 MiB",
                opts.page_size
            )));
        }
        if !(0.1..=1.0).contains(&opts.fill_percent) {
            return Err(WriteError::Options(format!(
                "fill percent {} is not between 0.1 and 1.0",
                opts.fill_percent
            )));
        }
        if opts.txid == 0 {
            return Err(WriteError::Options("txid must be at least 1".into()));
        }
        if path.exists() && !opts.force {
            return Err(WriteError::Exists(path.to_path_buf()));
        }
        if path.is_dir() {
            return Err(WriteError::Options(format!(
                "{} is a directory",
                path.display()
            )));
        }
        let tmp = temp_path(path);
        let file = OpenOptions::new()
            .write(true)
            .read(true)
            .create(true)
            .truncate(true)
            .open(&tmp)
            .map_err(io("cannot create", &tmp))?;
        let page_size = opts.page_size as usize;
        let mut w = Writer {
            out: Some(BufWriter::with_capacity(1 << 20, file)),
            tmp,
            path: path.to_path_buf(),
            opts,
            page_size,
            threshold: (page_size as f64 * opts.fill_percent) as usize,
            next_pgid: 2,
            stack: vec![Builder {
                name: Vec::new(),
                sequence: 0,
                may_inline: false,
                has_sub: false,
                last_key: None,
                levels: vec![Level::new(true)],
            }],
            summary: WriteSummary {
                path: path.to_path_buf(),
                pages: 0,
                db_size: 0,
                file_size: 0,
                leaf_pages: 0,
                branch_pages: 0,
                overflow_pages: 0,
                entries: 0,
                buckets: 0,
                inline_buckets: 0,
            },
            page_buf: Vec::new(),
        };
        // Room for the two metas, written last.
        let zeros = vec![0u8; 2 * page_size];
        w.write_raw(&zeros)?;
        Ok(w)
    }

    /// The page size being written.
    pub fn page_size(&self) -> u32 {
        self.opts.page_size
    }

    /// Bucket nesting depth (0 = inside the root bucket, where top-level buckets go).
    pub fn depth(&self) -> usize {
        self.stack.len() - 1
    }

    fn write_raw(&mut self, b: &[u8]) -> WriteResult<()> {
        let tmp = &self.tmp;
        self.out
            .as_mut()
            .ok_or_else(|| WriteError::Nesting("writer already finished".into()))?
            .write_all(b)
            .map_err(io("cannot write", tmp))
    }

    fn check_order(b: &mut Builder, key: &[u8]) -> WriteResult<()> {
        if let Some(prev) = &b.last_key
            && key <= prev.as_slice()
        {
            return Err(WriteError::KeyOrder {
                bucket: escape_bytes(&b.name),
                key: escape_bytes(key),
                prev: escape_bytes(prev),
            });
        }
        b.last_key = Some(key.to_vec());
        Ok(())
    }

    /// Adds `key = value` to the innermost open bucket (the root bucket holds only buckets:
    /// bbolt refuses plain values there, and so do we).
    pub fn put(&mut self, key: &[u8], value: &[u8]) -> WriteResult<()> {
        if self.stack.len() == 1 {
            return Err(WriteError::Nesting(format!(
                "key {} outside any bucket",
                escape_bytes(key)
            )));
        }
        let top = self.stack.len() - 1;
        Self::check_order(&mut self.stack[top], key)?;
        self.summary.entries += 1;
        self.push_elem(
            top,
            0,
            Inode {
                flags: 0,
                key: key.to_vec(),
                value: value.to_vec(),
                child: 0,
            },
        )
    }

    /// Opens the sub-bucket `name` (with its `sequence`) in the innermost open bucket; its
    /// keys follow, then [`Writer::end_bucket`].
    pub fn begin_bucket(&mut self, name: &[u8], sequence: u64) -> WriteResult<()> {
        if self.stack.len() > MAX_BUCKET_DEPTH {
            return Err(WriteError::Nesting(format!(
                "buckets nested deeper than {MAX_BUCKET_DEPTH}"
            )));
        }
        let top = self.stack.len() - 1;
        Self::check_order(&mut self.stack[top], name)?;
        self.stack[top].has_sub = true;
        self.stack.push(Builder {
            name: name.to_vec(),
            sequence,
            may_inline: true,
            has_sub: false,
            last_key: None,
            levels: vec![Level::new(true)],
        });
        Ok(())
    }

    /// Closes the innermost open bucket.
    pub fn end_bucket(&mut self) -> WriteResult<()> {
        if self.stack.len() <= 1 {
            return Err(WriteError::Nesting(
                "end_bucket without begin_bucket".into(),
            ));
        }
        let b = self.stack.pop().expect("checked above");
        let name = b.name.clone();
        let value = self.finish_bucket(b)?;
        self.summary.buckets += 1;
        self.summary.entries += 1;
        let top = self.stack.len() - 1;
        self.push_elem(
            top,
            0,
            Inode {
                flags: raw::BUCKET_LEAF_FLAG,
                key: name,
                value,
                child: 0,
            },
        )
    }

    fn push_elem(&mut self, b: usize, level: usize, e: Inode) -> WriteResult<()> {
        self.stack[b].levels[level].push(e);
        self.drain(b, level, false)
    }

    /// Writes every page of `level` that is already decided (all of them when `complete`).
    fn drain(&mut self, b: usize, level: usize, complete: bool) -> WriteResult<()> {
        loop {
            let lv = &self.stack[b].levels[level];
            let n = lv.elems.len();
            if n == 0 {
                return Ok(());
            }
            // `splitTwo`: no split when few elements or smaller than a page. Before the end,
            // more elements may come, so only a node already past both bounds splits.
            let small = n <= 2 * MIN_KEYS_PER_PAGE || lv.size < self.page_size;
            let k = if small {
                if !complete {
                    return Ok(());
                }
                n
            } else {
                match lv.split_index(self.threshold, complete) {
                    Some(k) => k,
                    None => return Ok(()),
                }
            };
            let lv = &mut self.stack[b].levels[level];
            let rest = lv.elems.split_off(k);
            let page: Vec<Inode> = std::mem::replace(&mut lv.elems, rest);
            let leaf = lv.leaf;
            let moved: usize = page.iter().map(|e| lv.elem_size(e)).sum();
            lv.size -= moved;
            lv.emitted += 1;
            let first = page[0].key.clone();
            let pgid = self.write_page(leaf, &page)?;
            let builder = &mut self.stack[b];
            if builder.levels.len() == level + 1 {
                builder.levels.push(Level::new(false));
            }
            self.push_elem(
                b,
                level + 1,
                Inode {
                    flags: 0,
                    key: first,
                    value: Vec::new(),
                    child: pgid,
                },
            )?;
        }
    }

    /// Encodes `elems` as a page (header id `id`) into `buf`, returning the byte size used.
    fn encode(leaf: bool, id: u64, elems: &[Inode], buf: &mut Vec<u8>, page_size: usize) -> u32 {
        let esz = if leaf {
            raw::LEAF_ELEM_SIZE
        } else {
            raw::BRANCH_ELEM_SIZE
        };
        let size: usize = raw::PAGE_HEADER_SIZE
            + elems
                .iter()
                .map(|e| esz + e.key.len() + e.value.len())
                .sum::<usize>();
        let pages = if page_size == 0 {
            1
        } else {
            size.div_ceil(page_size)
        };
        let total = if page_size == 0 {
            size
        } else {
            pages * page_size
        };
        buf.clear();
        buf.resize(total, 0);
        let flags = if leaf {
            page_flags::LEAF
        } else {
            page_flags::BRANCH
        };
        buf[0..8].copy_from_slice(&id.to_le_bytes());
        buf[8..10].copy_from_slice(&flags.to_le_bytes());
        buf[10..12].copy_from_slice(&(elems.len() as u16).to_le_bytes());
        let overflow = pages.saturating_sub(1) as u32;
        buf[12..16].copy_from_slice(&overflow.to_le_bytes());
        let mut data = raw::PAGE_HEADER_SIZE + esz * elems.len();
        for (i, e) in elems.iter().enumerate() {
            let at = raw::PAGE_HEADER_SIZE + esz * i;
            let pos = (data - at) as u32;
            let el = &mut buf[at..at + esz];
            if leaf {
                el[0..4].copy_from_slice(&e.flags.to_le_bytes());
                el[4..8].copy_from_slice(&pos.to_le_bytes());
                el[8..12].copy_from_slice(&(e.key.len() as u32).to_le_bytes());
                el[12..16].copy_from_slice(&(e.value.len() as u32).to_le_bytes());
            } else {
                el[0..4].copy_from_slice(&pos.to_le_bytes());
                el[4..8].copy_from_slice(&(e.key.len() as u32).to_le_bytes());
                el[8..16].copy_from_slice(&e.child.to_le_bytes());
            }
            buf[data..data + e.key.len()].copy_from_slice(&e.key);
            data += e.key.len();
            buf[data..data + e.value.len()].copy_from_slice(&e.value);
            data += e.value.len();
        }
        overflow
    }

    /// Writes `elems` as the next page(s); returns its id.
    fn write_page(&mut self, leaf: bool, elems: &[Inode]) -> WriteResult<u64> {
        let id = self.next_pgid;
        let mut buf = std::mem::take(&mut self.page_buf);
        let overflow = Self::encode(leaf, id, elems, &mut buf, self.page_size);
        let r = self.write_raw(&buf);
        self.page_buf = buf;
        r?;
        self.next_pgid += 1 + u64::from(overflow);
        self.summary.overflow_pages += u64::from(overflow);
        if leaf {
            self.summary.leaf_pages += 1;
        } else {
            self.summary.branch_pages += 1;
        }
        Ok(id)
    }

    /// Writes what remains of `b` and returns its bucket value (header, and the inline page
    /// for an inline bucket). For the root bucket the header's root is the meta's root.
    fn finish_bucket(&mut self, b: Builder) -> WriteResult<Vec<u8>> {
        let seq = b.sequence;
        let lv0 = &b.levels[0];
        if b.may_inline && !b.has_sub && lv0.emitted == 0 && lv0.size <= self.page_size / 4 {
            let mut page = Vec::new();
            Self::encode(true, 0, &lv0.elems, &mut page, 0);
            let mut v = Vec::with_capacity(raw::BUCKET_HEADER_SIZE + page.len());
            v.extend_from_slice(&0u64.to_le_bytes());
            v.extend_from_slice(&seq.to_le_bytes());
            v.extend_from_slice(&page);
            self.summary.inline_buckets += 1;
            return Ok(v);
        }
        self.stack.push(b);
        let bi = self.stack.len() - 1;
        let mut level = 0;
        let root = loop {
            self.drain(bi, level, true)?;
            let levels = &self.stack[bi].levels;
            if levels.len() == level + 1 {
                // Nothing was ever written at this level: an empty (non-inline) bucket.
                break self.write_page(true, &[])?;
            }
            let next = &levels[level + 1];
            if levels.len() == level + 2 && next.emitted == 0 && next.elems.len() == 1 {
                // One page at this level: it is the root.
                break next.elems[0].child;
            }
            level += 1;
        };
        self.stack.pop();
        let mut v = Vec::with_capacity(raw::BUCKET_HEADER_SIZE);
        v.extend_from_slice(&root.to_le_bytes());
        v.extend_from_slice(&seq.to_le_bytes());
        Ok(v)
    }

    /// Sets the root bucket's sequence (the meta's `sequence`; 0 in every etcd file).
    pub fn set_root_sequence(&mut self, sequence: u64) {
        if let Some(b) = self.stack.first_mut() {
            b.sequence = sequence;
        }
    }

    /// Writes the remaining pages, the freelist and both metas, the trailer if asked, syncs,
    /// and renames the temporary file to the output path.
    pub fn finish(mut self) -> WriteResult<WriteSummary> {
        if self.stack.len() != 1 {
            return Err(WriteError::Nesting(format!(
                "{} bucket(s) still open at finish",
                self.stack.len() - 1
            )));
        }
        let root_builder = self.stack.pop().expect("root builder");
        let root_seq = root_builder.sequence;
        let header = self.finish_bucket(root_builder)?;
        let root = u64::from_le_bytes(header[0..8].try_into().expect("8 bytes"));
        // The freelist: empty, as nothing was ever freed.
        let freelist = self.next_pgid;
        let mut page = vec![0u8; self.page_size];
        page[0..8].copy_from_slice(&freelist.to_le_bytes());
        page[8..10].copy_from_slice(&page_flags::FREELIST.to_le_bytes());
        self.write_raw(&page)?;
        self.next_pgid += 1;
        let hwm = self.next_pgid;

        let mut out = self.out.take().expect("writer open");
        out.flush().map_err(io("cannot write", &self.tmp))?;
        let mut file = out.into_inner().map_err(|e| WriteError::Io {
            op: "cannot write",
            path: self.tmp.clone(),
            source: e.into_error(),
        })?;
        let txid = self.opts.txid;
        for t in [txid - 1, txid] {
            let slot = t % 2;
            let m = meta_page(self.opts.page_size, slot, root, root_seq, freelist, hwm, t);
            file.seek(SeekFrom::Start(slot * self.page_size as u64))
                .and_then(|_| file.write_all(&m))
                .map_err(io("cannot write", &self.tmp))?;
        }
        let db_size = hwm * self.page_size as u64;
        let mut file_size = db_size;
        if self.opts.sha256_trailer {
            file.seek(SeekFrom::Start(0))
                .map_err(io("cannot read", &self.tmp))?;
            let mut h = Sha256::new();
            let mut buf = vec![0u8; 1 << 20];
            let mut left = db_size;
            while left > 0 {
                let n = (left.min(buf.len() as u64)) as usize;
                file.read_exact(&mut buf[..n])
                    .map_err(io("cannot read", &self.tmp))?;
                h.update(&buf[..n]);
                left -= n as u64;
            }
            let digest = h.finalize();
            file.seek(SeekFrom::Start(db_size))
                .and_then(|_| file.write_all(&digest))
                .map_err(io("cannot write", &self.tmp))?;
            file_size += raw::SHA256_TRAILER_LEN as u64;
        }
        file.set_len(file_size)
            .map_err(io("cannot write", &self.tmp))?;
        file.sync_all().map_err(io("cannot sync", &self.tmp))?;
        drop(file);
        if self.path.exists() && !self.opts.force {
            return Err(WriteError::Exists(self.path.clone()));
        }
        std::fs::rename(&self.tmp, &self.path).map_err(io("cannot rename to", &self.path))?;
        if let Some(dir) = self.path.parent()
            && let Ok(d) = File::open(if dir.as_os_str().is_empty() {
                Path::new(".")
            } else {
                dir
            })
        {
            // Best effort: make the rename durable.
            let _ = d.sync_all();
        }
        self.summary.pages = hwm;
        self.summary.db_size = db_size;
        self.summary.file_size = file_size;
        // Renamed: nothing left to clean up.
        self.tmp = PathBuf::new();
        Ok(self.summary.clone())
    }
}

impl Drop for Writer {
    fn drop(&mut self) {
        if !self.tmp.as_os_str().is_empty() {
            self.out = None;
            let _ = std::fs::remove_file(&self.tmp);
        }
    }
}

/// A meta page: header (flags meta) and the meta with its checksum.
fn meta_page(
    page_size: u32,
    id: u64,
    root: u64,
    sequence: u64,
    freelist: u64,
    pgid: u64,
    txid: u64,
) -> Vec<u8> {
    let mut p = vec![0u8; page_size as usize];
    p[0..8].copy_from_slice(&id.to_le_bytes());
    p[8..10].copy_from_slice(&page_flags::META.to_le_bytes());
    let m = &mut p[raw::PAGE_HEADER_SIZE..raw::PAGE_HEADER_SIZE + raw::META_SIZE];
    m[raw::meta::MAGIC..raw::meta::MAGIC + 4].copy_from_slice(&raw::MAGIC.to_le_bytes());
    m[raw::meta::VERSION..raw::meta::VERSION + 4].copy_from_slice(&raw::VERSION.to_le_bytes());
    m[raw::meta::PAGE_SIZE..raw::meta::PAGE_SIZE + 4].copy_from_slice(&page_size.to_le_bytes());
    m[raw::meta::ROOT..raw::meta::ROOT + 8].copy_from_slice(&root.to_le_bytes());
    m[raw::meta::SEQUENCE..raw::meta::SEQUENCE + 8].copy_from_slice(&sequence.to_le_bytes());
    m[raw::meta::FREELIST..raw::meta::FREELIST + 8].copy_from_slice(&freelist.to_le_bytes());
    m[raw::meta::PGID..raw::meta::PGID + 8].copy_from_slice(&pgid.to_le_bytes());
    m[raw::meta::TXID..raw::meta::TXID + 8].copy_from_slice(&txid.to_le_bytes());
    let sum = raw::fnv1a64(&m[..raw::META_CHECKSUM_END]);
    m[raw::meta::CHECKSUM..raw::meta::CHECKSUM + 8].copy_from_slice(&sum.to_le_bytes());
    p
}

/// Write options that reproduce `db`'s page size and continue its transaction ids.
pub fn options_like(db: &Db) -> WriteOptions {
    WriteOptions {
        page_size: db.page_size(),
        txid: db.meta().txid.max(1),
        ..WriteOptions::default()
    }
}

/// Copies every entry of `bucket` (sub-buckets recursively, with their sequences) into the
/// innermost open bucket of `w`.
pub fn copy_bucket(bucket: &Bucket<'_>, w: &mut Writer) -> WriteResult<()> {
    for e in bucket.iter() {
        let e = e?;
        if e.is_bucket() {
            let sub = Bucket::from_value(bucket.db(), e.key, e.value)?;
            w.begin_bucket(e.key, sub.sequence())?;
            copy_bucket(&sub, w)?;
            w.end_bucket()?;
        } else {
            w.put(e.key, e.value)?;
        }
    }
    Ok(())
}

/// Copies the whole database `db` into a new file at `path` (a defragmented copy).
pub fn copy_db(db: &Db, path: &Path, opts: WriteOptions) -> WriteResult<WriteSummary> {
    let mut w = Writer::create(path, opts)?;
    w.set_root_sequence(db.meta().sequence);
    copy_bucket(&db.root(), &mut w)?;
    w.finish()
}
