//! Opening a bbolt file: map it read-only, find the page size, validate both metas and choose
//! the one in use.
//!
//! `open` is cheap on purpose (the model is `fst::Fst::new`): it checks what every later read
//! relies on (a valid meta, a page size, a high-water mark that fits the file) and nothing
//! more. The exhaustive walk is [`crate::check`].

use std::fs::File;
use std::path::Path;
use std::sync::Arc;

use crate::bucket::Bucket;
use crate::bytes::{Bytes, mul_offset};
use crate::error::{Error, MetaError, Result};
use crate::page::Page;
use crate::raw::{self, page_flags};

/// Where the bytes live: a read-only map of the file, or an owned buffer (tests, fuzzing).
enum Backing {
    Map(memmap2::Mmap),
    Owned(Vec<u8>),
    Empty,
}

/// The bytes of a file, mapped read-only (or owned), before any of them is interpreted.
///
/// Separate from [`Db`] so that `verify` can hash and inspect a file that does not open as a
/// database (empty, both metas damaged) and can share the bytes between threads: a [`Db`] built
/// with [`Db::from_source`] holds an `Arc` of it.
pub struct Source {
    backing: Backing,
    /// The file behind a map, kept open for [`Source::for_each_piece`].
    file: Option<File>,
}

impl std::fmt::Debug for Source {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Source")
            .field("len", &self.bytes().len())
            .finish()
    }
}

impl Source {
    /// Maps the file at `path` read-only (no lock, no write). An empty file gives an empty
    /// source (a zero-length map is not possible). Fails only when the path cannot be opened,
    /// inspected or mapped, or is not a regular file.
    pub fn open(path: &Path) -> Result<Source> {
        // The type first, from the path: opening a named pipe for reading blocks until a
        // writer comes, and a device may have side effects. `stat` neither opens nor blocks.
        let pre = std::fs::metadata(path).map_err(|source| Error::Io {
            op: "cannot open",
            source,
        })?;
        if !pre.is_file() {
            return Err(Error::NotAFile(path.to_path_buf()));
        }
        let file = File::open(path).map_err(|source| Error::Io {
            op: "cannot open",
            source,
        })?;
        let md = file.metadata().map_err(|source| Error::Io {
            op: "cannot stat",
            source,
        })?;
        if !md.is_file() {
            return Err(Error::NotAFile(path.to_path_buf()));
        }
        if md.len() == 0 {
            return Ok(Source {
                backing: Backing::Empty,
                file: None,
            });
        }
        // SAFETY: the map is read-only and private to this process. Rust's aliasing rules
        // assume the bytes do not change while borrowed; if another process truncates or
        // rewrites the file while we read it, reads may see changing bytes or fault (SIGBUS).
        // Every read is bounds-checked against the length at open, so changing content can
        // only yield wrong answers or errors, never out-of-bounds access; truncation by
        // another process is the residual risk, the same one every mmap reader (bbolt
        // included) accepts. Snapshots are not written in place, and the docs tell users not
        // to point the tool at a live member's db while it runs.
        #[allow(unsafe_code)]
        let map =
            unsafe { memmap2::MmapOptions::new().map(&file) }.map_err(|source| Error::Io {
                op: "cannot map",
                source,
            })?;
        #[cfg(unix)]
        {
            // Advice only; a failure changes nothing but speed.
            let _ = map.advise(memmap2::Advice::WillNeed);
        }
        Ok(Source {
            backing: Backing::Map(map),
            file: Some(file),
        })
    }

    /// Bytes held in memory (tests, fuzzing).
    pub fn from_vec(bytes: Vec<u8>) -> Source {
        Source {
            backing: Backing::Owned(bytes),
            file: None,
        }
    }

    /// Hands the first `len` bytes of the source (at most all of them) to `f` in order, in
    /// pieces. A mapped file is read with `pread` into one reused buffer rather than through
    /// the map: a hash over the map pays a TLB miss and a page-table entry for every 4 KiB
    /// page, while the kernel copies from its page cache through its own large-page mapping
    /// into a buffer that stays in cache (SHA-256 of a 7.4 GB file: 6.5 s through the map,
    /// 5.3 s so, as `openssl dgst`). A read that fails or comes up short leaves the rest to
    /// the map; owned bytes are handed over as they are.
    pub fn for_each_piece(&self, len: usize, mut f: impl FnMut(&[u8])) {
        const PIECE: usize = 256 << 10;
        let all = self.bytes();
        let len = len.min(all.len());
        let mut at = 0;
        #[cfg(unix)]
        if let Some(file) = &self.file {
            use std::os::unix::fs::FileExt;
            let mut buf = vec![0u8; PIECE.min(len)];
            while at < len {
                let want = PIECE.min(len - at);
                match file.read_at(&mut buf[..want], at as u64) {
                    Ok(n) if n > 0 => {
                        f(&buf[..n]);
                        at += n;
                    }
                    Err(e) if e.kind() == std::io::ErrorKind::Interrupted => {}
                    _ => break,
                }
            }
        }
        if at < len {
            f(&all[at..len]);
        }
    }

    /// All the bytes of the file.
    pub fn bytes(&self) -> &[u8] {
        match &self.backing {
            Backing::Map(m) => m,
            Backing::Owned(v) => v,
            Backing::Empty => &[],
        }
    }
}

/// A decoded meta page.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Meta {
    /// Which meta page this is (0 or 1).
    pub index: u8,
    /// Page size in bytes.
    pub page_size: u32,
    /// Unused meta flags.
    pub flags: u32,
    /// Root bucket's root page.
    pub root: u64,
    /// Root bucket's sequence.
    pub sequence: u64,
    /// Freelist page id, or [`raw::NO_FREELIST`].
    pub freelist: u64,
    /// High-water mark: one past the last page id in use.
    pub pgid: u64,
    /// Transaction id that wrote this meta.
    pub txid: u64,
    /// Stored checksum.
    pub checksum: u64,
}

impl Meta {
    /// True when the freelist was not written (etcd on Linux, `NoFreelistSync`).
    pub fn freelist_persisted(&self) -> bool {
        self.freelist != raw::NO_FREELIST
    }
}

/// What opening found about the two meta pages.
#[derive(Debug, Clone)]
pub struct MetaChoice {
    /// Meta page 0, decoded or the reason it is invalid.
    pub meta0: std::result::Result<Meta, MetaError>,
    /// Meta page 1, decoded or the reason it is invalid.
    pub meta1: std::result::Result<Meta, MetaError>,
    /// Index (0 or 1) of the meta in use.
    pub active: u8,
}

/// The sha256 trailer that `etcdctl snapshot save` appends.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Trailer {
    /// The digest stored in the file.
    pub digest: [u8; 32],
    /// Offset of the trailer: the digest covers bytes `[0, offset)`.
    pub offset: u64,
}

/// How strict [`Db::open_with`] is.
#[derive(Debug, Clone, Copy, Default)]
pub struct OpenOptions {
    /// Open a file whose high-water mark lies past its end (pages beyond the end then fail
    /// individually). `verify` uses this to report damage instead of stopping at it.
    pub allow_truncated: bool,
}

/// An open, read-only bbolt database.
pub struct Db {
    source: Arc<Source>,
    file_size: u64,
    trailer: Option<Trailer>,
    /// Bytes that belong to the database (the file without its trailer).
    data_len: usize,
    metas: MetaChoice,
    meta: Meta,
}

impl std::fmt::Debug for Db {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Db")
            .field("file_size", &self.file_size)
            .field("meta", &self.meta)
            .finish()
    }
}

impl Db {
    /// Opens the file at `path` read-only (no lock, no write) with default options.
    pub fn open(path: &Path) -> Result<Db> {
        Db::open_with(path, OpenOptions::default())
    }

    /// Opens the file at `path` read-only with `opts`.
    pub fn open_with(path: &Path, opts: OpenOptions) -> Result<Db> {
        Db::from_source(Arc::new(Source::open(path)?), opts)
    }

    /// Opens a database held in memory (tests, fuzzing).
    pub fn from_bytes(bytes: Vec<u8>, opts: OpenOptions) -> Result<Db> {
        Db::from_source(Arc::new(Source::from_vec(bytes)), opts)
    }

    /// Opens the database in `source` (shared, so a caller can keep reading the raw bytes).
    pub fn from_source(source: Arc<Source>, opts: OpenOptions) -> Result<Db> {
        let bytes = source.bytes();
        if bytes.is_empty() {
            return Err(Error::Empty);
        }
        let file_size = bytes.len() as u64;
        if bytes.len() < 1024 {
            return Err(Error::TooSmall(bytes.len()));
        }
        let trailer = trailer_of(bytes);
        let data_len = trailer.map_or(bytes.len(), |t| t.offset as usize);
        let (meta0, meta1) = read_metas(bytes);
        let active = match (&meta0, &meta1) {
            (Ok(a), Ok(b)) => {
                if b.txid > a.txid {
                    1
                } else {
                    0
                }
            }
            (Ok(_), Err(_)) => 0,
            (Err(_), Ok(_)) => 1,
            (Err(e0), Err(e1)) => {
                return Err(Error::NoValidMeta {
                    meta0: e0.clone(),
                    meta1: e1.clone(),
                });
            }
        };
        let meta = if active == 0 {
            meta0.clone()
        } else {
            meta1.clone()
        }
        .map_err(|_| Error::TooSmall(data_len))?;
        let needed = u64::from(meta.page_size).saturating_mul(meta.pgid);
        if needed > data_len as u64 && !opts.allow_truncated {
            return Err(Error::Truncated {
                needed,
                available: data_len as u64,
                pages: meta.pgid,
                page_size: meta.page_size,
            });
        }
        if meta.root < 2 || meta.root >= meta.pgid {
            return Err(Error::MetaPointerOutOfRange {
                meta: active,
                field: "root",
                page: meta.root,
                hwm: meta.pgid,
            });
        }
        if meta.freelist_persisted() && (meta.freelist < 2 || meta.freelist >= meta.pgid) {
            return Err(Error::MetaPointerOutOfRange {
                meta: active,
                field: "freelist",
                page: meta.freelist,
                hwm: meta.pgid,
            });
        }
        let metas = MetaChoice {
            meta0,
            meta1,
            active,
        };
        Ok(Db {
            source,
            file_size,
            trailer,
            data_len,
            metas,
            meta,
        })
    }

    /// The meta in use.
    pub fn meta(&self) -> &Meta {
        &self.meta
    }

    /// The bytes the database was opened from (to read them again, e.g. to hash the file).
    pub fn source(&self) -> &Arc<Source> {
        &self.source
    }

    /// Both metas and which one is in use.
    pub fn metas(&self) -> &MetaChoice {
        &self.metas
    }

    /// Page size in bytes.
    pub fn page_size(&self) -> u32 {
        self.meta.page_size
    }

    /// High-water mark: the number of pages in the database.
    pub fn hwm(&self) -> u64 {
        self.meta.pgid
    }

    /// Size of the database as bbolt counts it (`pgid * page_size`): etcd's TOTAL SIZE.
    pub fn size(&self) -> u64 {
        self.meta
            .pgid
            .saturating_mul(u64::from(self.meta.page_size))
    }

    /// Size of the file on disk.
    pub fn file_size(&self) -> u64 {
        self.file_size
    }

    /// The sha256 trailer, when the file has one (`size % 512 == 32`).
    pub fn trailer(&self) -> Option<&Trailer> {
        self.trailer.as_ref()
    }

    /// The whole file's bytes (including any trailer).
    pub fn file_bytes(&self) -> &[u8] {
        self.source.bytes()
    }

    /// The database bytes: the file without the trailer.
    pub fn data(&self) -> &[u8] {
        &self.source.bytes()[..self.data_len]
    }

    /// True when the file is shorter than the meta's high-water mark requires.
    pub fn is_truncated(&self) -> bool {
        self.size() > self.data_len as u64
    }

    /// Page `id` with its overflow span, checked: in range, header id matching.
    pub fn page(&self, id: u64) -> Result<Page<'_>> {
        self.page_from(id, None)
    }

    /// Like [`Db::page`], naming the page that referenced `id` in errors.
    pub fn page_from(&self, id: u64, from: Option<u64>) -> Result<Page<'_>> {
        let hwm = self.meta.pgid;
        let ps = u64::from(self.meta.page_size);
        let data = self.data();
        let out_of_range = || Error::PageOutOfRange {
            page: id,
            hwm,
            from,
        };
        if id >= hwm {
            return Err(out_of_range());
        }
        let start = mul_offset(id, ps).ok_or_else(out_of_range)?;
        let header = Bytes(data)
            .slice(start, raw::PAGE_HEADER_SIZE)
            .ok_or_else(out_of_range)?;
        let h = Bytes(header);
        let found = h.u64_le(raw::page_header::ID).unwrap_or(u64::MAX);
        if found != id {
            return Err(Error::PageIdMismatch {
                page: id,
                found,
                from,
            });
        }
        let overflow = h.u32_le(raw::page_header::OVERFLOW).unwrap_or(0);
        let pages = u64::from(overflow) + 1;
        let over = || Error::OverflowOutOfRange {
            page: id,
            overflow,
            hwm,
        };
        let last = id.checked_add(u64::from(overflow)).ok_or_else(over)?;
        if last >= hwm {
            return Err(over());
        }
        let len = mul_offset(pages, ps).ok_or_else(over)?;
        let span = Bytes(data).slice(start, len).ok_or_else(over)?;
        Ok(Page::new(Some(id), span))
    }

    /// The root bucket (the list of top-level buckets).
    pub fn root(&self) -> Bucket<'_> {
        Bucket::from_root(self, self.meta.root, b"")
    }

    /// The top-level bucket `name`, if present.
    pub fn bucket(&self, name: &[u8]) -> Result<Option<Bucket<'_>>> {
        self.root().sub_bucket(name)
    }

    /// The top-level buckets in key order, as `(name, bucket)`.
    pub fn buckets(&self) -> Result<Vec<(&[u8], Bucket<'_>)>> {
        let mut out = Vec::new();
        for e in self.root().iter() {
            let e = e?;
            if !e.is_bucket() {
                return Err(Error::NotABucket(crate::error::escape_bytes(e.key)));
            }
            out.push((e.key, Bucket::from_value(self, e.key, e.value)?));
        }
        Ok(out)
    }

    /// Frees the map early; further use is impossible. Exists so tests can prove the input is
    /// released.
    pub fn close(mut self) {
        self.source = Arc::new(Source {
            backing: Backing::Empty,
            file: None,
        });
    }
}

/// The sha256 trailer of `file`, when its size says it has one (`size % 512 == 32`).
pub fn trailer_of(file: &[u8]) -> Option<Trailer> {
    if file.len() % 512 != raw::SHA256_TRAILER_LEN {
        return None;
    }
    let offset = file.len() - raw::SHA256_TRAILER_LEN;
    let digest: [u8; 32] = Bytes(file).array(offset)?;
    Some(Trailer {
        digest,
        offset: offset as u64,
    })
}

/// Decodes and validates both metas of `file` (a whole file, trailer included), as opening
/// does: meta 0 at offset 0, meta 1 one page (meta 0's page size) in, or probed at each
/// power-of-two offset when meta 0 is unusable.
pub fn read_metas(
    file: &[u8],
) -> (
    std::result::Result<Meta, MetaError>,
    std::result::Result<Meta, MetaError>,
) {
    let data_len = trailer_of(file).map_or(file.len(), |t| t.offset as usize);
    let data = file.get(..data_len).unwrap_or_default();
    let meta0 = parse_meta(data, 0, 0);
    let meta1 = match &meta0 {
        Ok(m) => parse_meta(data, m.page_size as usize, 1),
        Err(_) => probe_meta1(data),
    };
    (meta0, meta1)
}

/// Decodes and validates the meta of the page that starts at `offset`.
fn parse_meta(data: &[u8], offset: usize, index: u8) -> std::result::Result<Meta, MetaError> {
    let start = offset
        .checked_add(raw::PAGE_HEADER_SIZE)
        .ok_or(MetaError::Missing)?;
    let m = Bytes(data)
        .slice(start, raw::META_SIZE)
        .map(Bytes)
        .ok_or(MetaError::Missing)?;
    let get32 = |o| m.u32_le(o).unwrap_or(0);
    let get64 = |o| m.u64_le(o).unwrap_or(0);
    let magic = get32(raw::meta::MAGIC);
    if magic != raw::MAGIC {
        if magic.swap_bytes() == raw::MAGIC {
            return Err(MetaError::BigEndian);
        }
        return Err(MetaError::BadMagic(magic));
    }
    let version = get32(raw::meta::VERSION);
    if version != raw::VERSION {
        return Err(MetaError::BadVersion(version));
    }
    let stored = get64(raw::meta::CHECKSUM);
    let computed = raw::fnv1a64(m.slice(0, raw::META_CHECKSUM_END).unwrap_or_default());
    if stored != computed {
        return Err(MetaError::BadChecksum { stored, computed });
    }
    let page_size = get32(raw::meta::PAGE_SIZE);
    if !page_size.is_power_of_two() || !(512..=16 << 20).contains(&page_size) {
        return Err(MetaError::BadPageSize(page_size));
    }
    // A page-1 meta found by probing must sit exactly one page in.
    if index == 1 && offset != page_size as usize {
        return Err(MetaError::BadPageSize(page_size));
    }
    Ok(Meta {
        index,
        page_size,
        flags: get32(raw::meta::FLAGS),
        root: get64(raw::meta::ROOT),
        sequence: get64(raw::meta::SEQUENCE),
        freelist: get64(raw::meta::FREELIST),
        pgid: get64(raw::meta::PGID),
        txid: get64(raw::meta::TXID),
        checksum: stored,
    })
}

/// Meta 0 is unusable: look for meta 1 at each power-of-two page size, as bbolt does.
fn probe_meta1(data: &[u8]) -> std::result::Result<Meta, MetaError> {
    let mut first_err = MetaError::Missing;
    for i in 0..15 {
        let pos = 1024usize << i;
        if pos >= data.len() {
            break;
        }
        match parse_meta(data, pos, 1) {
            Ok(m) => return Ok(m),
            Err(e) => {
                if pos == 4096 || first_err == MetaError::Missing {
                    first_err = e;
                }
            }
        }
    }
    Err(first_err)
}

/// Checks that a page's flags are `expected` (exactly).
pub(crate) fn expect_flags(page: &Page<'_>, expected: u16, from: Option<u64>) -> Result<()> {
    if page.flags() != expected {
        return Err(Error::UnexpectedPageType {
            page: page.id().unwrap_or(0),
            flags: page.flags(),
            expected: match expected {
                page_flags::FREELIST => "freelist",
                page_flags::META => "meta",
                page_flags::LEAF => "leaf",
                _ => "branch",
            },
            from,
        });
    }
    Ok(())
}
