//! The exhaustive structural check behind `etcdsnap verify`: everything bbolt's own `Tx.Check`
//! verifies, and more, reported as a list of typed findings instead of stopping at the first.
//!
//! Why a separate walk: [`crate::bucket::Iter`] stops at the first damaged page because a reader
//! cannot go on; a verifier must go on and say everything that is wrong, naming the page, the
//! bucket, the key and the file offset, so that a user can judge the damage. The walk
//!
//! - marks every page reachable from the root bucket (branch and leaf pages with their overflow
//!   runs, sub-buckets recursed, inline buckets parsed and checked too, which bbolt skips), the
//!   two metas and the freelist pages in one bit set over the high-water mark, and the pages
//!   the freelist lists in another, so that a page reached twice, reached and free, listed twice
//!   or neither reached nor free is found with two bits per page of memory;
//! - checks every page header (id equal to its position, exact type flags, overflow run inside
//!   the database), every element array, key and value range inside the page span, keys
//!   strictly increasing within a page and bounded by the parent's separators across pages;
//! - is bounded by the pages it visits, not by a fixed depth (bbolt has none): an explicit
//!   stack, a page entered at most once (a child pointing at itself or at an ancestor is a
//!   [`Problem::Cycle`] finding, not a hang), so no descent is deeper than the file has pages, sub-bucket nesting bounded by [`MAX_BUCKET_DEPTH`], and the bit sets sized by the
//!   pages the file really holds, not by a high-water mark a damaged meta may inflate.
//!
//! When the freelist is not persisted (etcd on Linux: `NoFreelistSync`), free pages are by
//! definition the unreachable ones; their count is reported as information, not as an error.
//! [`check_metas`] is separate because it needs no open [`Db`]: it also runs on files that do
//! not open at all (empty, both metas damaged).

use std::collections::VecDeque;
use std::fmt;

use crate::bytes::{Bytes, mul_offset};
use crate::db::{Db, Meta, read_metas, trailer_of};
use crate::error::{Error, MetaError, escape_bytes, flags_name};
use crate::freelist::Freelist;
use crate::page::{Page, PageKind};
use crate::raw::{self, page_flags};

/// The deepest nesting of sub-buckets followed (etcd nests none).
pub const MAX_BUCKET_DEPTH: usize = 64;

/// How bad a finding is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Severity {
    /// Context worth knowing; the file is fine (e.g. the count of free pages).
    Info,
    /// Unusual but readable; bbolt would accept it.
    Warning,
    /// The file is damaged: bbolt's check would fail, or a reader would get wrong answers.
    Error,
}

impl Severity {
    /// Lower-case name.
    pub fn name(&self) -> &'static str {
        match self {
            Severity::Info => "info",
            Severity::Warning => "warning",
            Severity::Error => "error",
        }
    }
}

/// What is wrong. The location (page, bucket, key, offset) lives in [`Finding`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Problem {
    /// The file has no bytes.
    FileEmpty,
    /// The file is shorter than the smallest possible database.
    FileTooSmall {
        /// Its size.
        size: u64,
    },
    /// A meta page is not valid (magic, version, checksum, page size).
    MetaInvalid {
        /// Which meta (0 or 1).
        meta: u8,
        /// Why.
        error: MetaError,
    },
    /// A meta page's header is not that of meta page `meta`.
    MetaHeader {
        /// Which meta.
        meta: u8,
        /// The id in its header.
        id: u64,
        /// The flags in its header.
        flags: u16,
    },
    /// The two metas disagree on the page size.
    MetaPageSizeDiffers {
        /// Meta 0's page size.
        size0: u32,
        /// Meta 1's page size.
        size1: u32,
    },
    /// A meta field points outside the database.
    MetaPointer {
        /// Which meta.
        meta: u8,
        /// The field (root, freelist, pgid).
        field: &'static str,
        /// Its value.
        value: u64,
        /// The high-water mark.
        hwm: u64,
    },
    /// The metas' transaction ids are not consecutive (bbolt alternates the two pages).
    MetaTxids {
        /// Meta 0's txid.
        txid0: u64,
        /// Meta 1's txid.
        txid1: u64,
    },
    /// Which meta is in use (information).
    MetaInUse {
        /// Its index.
        meta: u8,
        /// Its txid.
        txid: u64,
        /// The other meta's txid, when valid.
        other_txid: Option<u64>,
    },
    /// The file is shorter than the meta's high-water mark requires.
    Truncated {
        /// Which meta.
        meta: u8,
        /// Bytes needed.
        needed: u64,
        /// Bytes present (without a trailer).
        available: u64,
    },
    /// The file holds bytes past the high-water mark (bbolt grows files ahead of need).
    Slack {
        /// Bytes past `pgid * page_size`.
        bytes: u64,
    },
    /// The file's length is neither whole pages nor whole pages and a 32-byte trailer.
    OddLength {
        /// The file's length.
        len: u64,
        /// The page size.
        page_size: u32,
    },
    /// A page id at or past the high-water mark.
    PageOutOfRange {
        /// The high-water mark.
        hwm: u64,
        /// The referring page.
        from: Option<u64>,
    },
    /// A page id of a meta page (0 or 1) used as a branch or leaf page.
    PointsAtMeta {
        /// The referring page.
        from: Option<u64>,
    },
    /// A page below the high-water mark that the (truncated) file does not hold.
    PageBeyondFile {
        /// The referring page.
        from: Option<u64>,
    },
    /// A page's header names another id.
    PageIdMismatch {
        /// The id in the header.
        found: u64,
        /// The referring page.
        from: Option<u64>,
    },
    /// A page has the wrong type for where it is referenced.
    UnexpectedType {
        /// Its flags.
        flags: u16,
        /// What was expected.
        expected: &'static str,
        /// The referring page.
        from: Option<u64>,
    },
    /// A page's overflow run goes past the high-water mark or the end of the file.
    OverflowOutOfRange {
        /// The overflow count.
        overflow: u32,
        /// The high-water mark.
        hwm: u64,
    },
    /// A page is referenced more than once (two parents, or a parent and the freelist).
    MultipleReferences {
        /// The referring page.
        from: Option<u64>,
    },
    /// A branch child is the branch itself or one of its ancestors.
    Cycle {
        /// The referring branch page.
        from: u64,
    },
    /// A page is both reachable and listed free.
    ReachableFreed,
    /// An element, key or value lies outside its page.
    ElementOutOfBounds {
        /// Element index.
        index: usize,
        /// Element count.
        count: usize,
        /// What part.
        what: &'static str,
    },
    /// A key is not greater than the one before it on the same page.
    KeyOrder {
        /// Element index.
        index: usize,
        /// True when equal (a duplicate), false when smaller.
        equal: bool,
    },
    /// A key is smaller than the parent branch element's key.
    KeyBelowParent {
        /// Element index.
        index: usize,
        /// The parent branch page.
        from: u64,
    },
    /// A key is not smaller than the parent's next separator.
    KeyNotBelowNext {
        /// Element index.
        index: usize,
        /// The parent branch page.
        from: u64,
    },
    /// A branch element's key is not its child's first key (bbolt keeps them equal).
    SeparatorNotFirstKey {
        /// The parent branch page.
        from: u64,
    },
    /// A leaf or branch key is empty (bbolt refuses empty keys).
    EmptyKey {
        /// Element index.
        index: usize,
    },
    /// A branch page without elements.
    EmptyBranch,
    /// A leaf element has flags other than the bucket flag.
    UnknownElementFlags {
        /// Element index.
        index: usize,
        /// The flags.
        flags: u32,
    },
    /// A bucket value is malformed.
    BadBucketValue {
        /// What is wrong.
        what: String,
    },
    /// The root bucket holds a plain key/value (the bbolt API cannot write one there).
    RootEntryNotBucket,
    /// A non-inline bucket's value is longer than its 16-byte header.
    BucketValueLength {
        /// Its length.
        len: usize,
    },
    /// An inline bucket holds a sub-bucket (bbolt never inlines such a bucket).
    InlineSubBucket,
    /// Sub-buckets nest deeper than [`MAX_BUCKET_DEPTH`].
    BucketsTooDeep {
        /// The limit.
        max: usize,
    },
    /// More inline buckets than the file has room for: their values overlap, and the walk
    /// stopped following them.
    TooManyInlineBuckets {
        /// The limit (one per 32 bytes of the file).
        max: u64,
    },
    /// The freelist page cannot be read.
    Freelist {
        /// Why.
        what: String,
    },
    /// The freelist lists a page id outside `[2, hwm)`.
    FreelistIdOutOfRange {
        /// The id.
        id: u64,
        /// The high-water mark.
        hwm: u64,
    },
    /// The freelist lists a page twice.
    FreedTwice,
    /// A page is neither reachable nor free (with a persisted freelist).
    UnreachableUnfreed,
    /// Pages no bucket reaches: the free pages when no freelist is persisted (information).
    Unreachable {
        /// How many.
        count: u64,
    },
    /// A leaf page without elements below a branch (bbolt removes such pages).
    EmptyLeaf {
        /// The referring branch page.
        from: Option<u64>,
    },
    /// Non-zero bytes after the last element's key and value (bbolt leaves zeros there).
    BytesAfterElements {
        /// Bytes the header, elements, keys and values use.
        used: u64,
        /// Offset in the page of the first non-zero byte past them.
        at: u64,
    },
    /// The meta's high-water mark times its page size does not fit in 64 bits.
    HwmOverflow {
        /// Which meta.
        meta: u8,
        /// Its high-water mark.
        pgid: u64,
        /// Its page size.
        page_size: u32,
    },
}

fn referrer(f: &mut fmt::Formatter<'_>, from: &Option<u64>) -> fmt::Result {
    match from {
        Some(p) => write!(f, " (referenced from page {p})"),
        None => Ok(()),
    }
}

impl fmt::Display for Problem {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        use Problem::*;
        match self {
            FileEmpty => write!(f, "file is empty: not a bbolt database"),
            FileTooSmall { size } => write!(
                f,
                "file is {size} bytes, shorter than two pages: not a bbolt database"
            ),
            MetaInvalid { meta, error } => write!(f, "meta page {meta}: {error}"),
            MetaHeader { meta, id, flags } => write!(
                f,
                "meta page {meta}: header says page {id}, type {} (want page {meta}, type meta)",
                flags_name(*flags)
            ),
            MetaPageSizeDiffers { size0, size1 } => write!(
                f,
                "the metas disagree on the page size: {size0} in meta 0, {size1} in meta 1"
            ),
            MetaPointer {
                meta,
                field,
                value,
                hwm,
            } => write!(
                f,
                "meta page {meta}: {field} {value} is out of range (high-water mark {hwm})"
            ),
            MetaTxids { txid0, txid1 } => write!(
                f,
                "meta txids {txid0} and {txid1} are not consecutive (bbolt alternates the two pages)"
            ),
            MetaInUse {
                meta,
                txid,
                other_txid,
            } => {
                write!(f, "meta page {meta} is in use (txid {txid})")?;
                match other_txid {
                    Some(t) => write!(f, "; meta page {} has txid {t}", 1 - meta),
                    None => write!(f, "; meta page {} is not valid", 1 - meta),
                }
            }
            Truncated {
                meta,
                needed,
                available,
            } => write!(
                f,
                "file is truncated: meta page {meta} needs {needed} bytes, the file holds {available}"
            ),
            Slack { bytes } => write!(
                f,
                "{bytes} bytes past the high-water mark (space bbolt allocated ahead of need)"
            ),
            OddLength { len, page_size } => {
                let ps = u64::from(*page_size);
                let extra = len % ps;
                write!(
                    f,
                    "file length {len} is neither a whole number of {page_size}-byte pages (a member's db) \
                     nor that plus the 32-byte sha256 trailer of a saved snapshot: "
                )?;
                if extra < 32 {
                    write!(
                        f,
                        "{extra} bytes follow the last whole page, a trailer cut short (or a page cut short)"
                    )?;
                } else {
                    write!(
                        f,
                        "{extra} bytes follow the last whole page, {} more than a trailer (bytes appended, \
                         or a page cut short)",
                        extra - 32
                    )?;
                }
                write!(
                    f,
                    "; the copy is damaged and etcdutl snapshot restore refuses it: take the backup again"
                )
            }
            PageOutOfRange { hwm, from } => {
                write!(f, "page id at or past the high-water mark {hwm}")?;
                referrer(f, from)
            }
            PointsAtMeta { from } => {
                write!(f, "a meta page is used as a branch or leaf page")?;
                referrer(f, from)
            }
            PageBeyondFile { from } => {
                write!(f, "page lies past the end of the (truncated) file")?;
                referrer(f, from)
            }
            PageIdMismatch { found, from } => {
                write!(f, "header says it is page {found}")?;
                referrer(f, from)
            }
            UnexpectedType {
                flags,
                expected,
                from,
            } => {
                write!(
                    f,
                    "unexpected page type {} (expected {expected})",
                    flags_name(*flags)
                )?;
                referrer(f, from)
            }
            OverflowOutOfRange { overflow, hwm } => write!(
                f,
                "overflow of {overflow} pages runs past the end of the database (high-water mark {hwm})"
            ),
            MultipleReferences { from } => {
                write!(f, "multiple references")?;
                referrer(f, from)
            }
            Cycle { from } => write!(
                f,
                "cycle: branch page {from} points back at this page, its own ancestor or itself"
            ),
            ReachableFreed => write!(f, "reachable and listed free"),
            ElementOutOfBounds { index, count, what } => write!(
                f,
                "element {index} of {count}: {what} out of bounds of the page"
            ),
            KeyOrder { index, equal } => write!(
                f,
                "element {index}: key {} the previous key (keys must strictly increase)",
                if *equal { "equals" } else { "is smaller than" }
            ),
            KeyBelowParent { index, from } => write!(
                f,
                "element {index}: key is smaller than its separator in parent branch page {from}"
            ),
            KeyNotBelowNext { index, from } => write!(
                f,
                "element {index}: key is not smaller than the next separator in parent branch page {from}"
            ),
            SeparatorNotFirstKey { from } => write!(
                f,
                "first key differs from its separator in parent branch page {from}"
            ),
            EmptyKey { index } => write!(f, "element {index}: empty key"),
            EmptyBranch => write!(
                f,
                "branch page without elements: bbolt never writes one; whatever it pointed at is lost"
            ),
            UnknownElementFlags { index, flags } => {
                write!(f, "element {index}: unknown element flags {flags:#x}")
            }
            BadBucketValue { what } => write!(f, "bad bucket value: {what}"),
            RootEntryNotBucket => write!(
                f,
                "the root bucket holds a plain key/value, not a bucket (etcd's status fails on it)"
            ),
            BucketValueLength { len } => write!(
                f,
                "bucket value is {len} bytes (a non-inline bucket's value is its 16-byte header)"
            ),
            InlineSubBucket => write!(
                f,
                "an inline bucket holds a sub-bucket (bbolt never writes that)"
            ),
            BucketsTooDeep { max } => write!(f, "buckets nested deeper than {max} levels"),
            TooManyInlineBuckets { max } => write!(
                f,
                "more than {max} inline buckets: their values overlap (the rest are not followed)"
            ),
            Freelist { what } => write!(f, "freelist: {what}"),
            FreelistIdOutOfRange { id, hwm } => write!(
                f,
                "freelist lists page {id}, outside [2, {hwm}) (high-water mark {hwm})"
            ),
            FreedTwice => write!(f, "listed free twice"),
            UnreachableUnfreed => write!(f, "unreachable and not free"),
            Unreachable { count } => write!(
                f,
                "{count} pages reachable from no bucket: the free pages (the freelist is not persisted)"
            ),
            EmptyLeaf { from } => {
                write!(
                    f,
                    "leaf page without elements below a branch: bbolt removes a page that loses its \
                     last key, so its entries were lost"
                )?;
                referrer(f, from)
            }
            BytesAfterElements { used, at } => write!(
                f,
                "data after the last element (its elements end at byte {used}, a non-zero byte at \
                 {at}): bbolt leaves the rest of a page zero, so elements were dropped (a lowered \
                 count or a shortened element) and their entries lost"
            ),
            HwmOverflow {
                meta,
                pgid,
                page_size,
            } => write!(
                f,
                "meta page {meta}: high-water mark pgid {pgid} times the page size {page_size} \
                 overflows a 64-bit size: the meta is damaged"
            ),
        }
    }
}

/// One thing the check found, with where it is.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Finding {
    /// How bad it is.
    pub severity: Severity,
    /// What it is.
    pub problem: Problem,
    /// The page it is about.
    pub page: Option<u64>,
    /// The bucket (path of names joined by `/`; `(root)` for the root bucket).
    pub bucket: Option<String>,
    /// The key, escaped for display (text in quotes, or hex).
    pub key: Option<String>,
    /// The byte offset in the file.
    pub offset: Option<u64>,
}

impl Finding {
    /// True when etcdutl refuses a file for this finding (`snapshot status` runs bbolt's
    /// `Tx.Check` first): every error but bytes left after a page's last element and an empty
    /// non-root leaf, which bbolt reads without complaint (entries may be lost: `verify` says
    /// so, but etcdutl computes its figures over what the tree holds), and an empty branch,
    /// on which etcdutl panics.
    pub fn refused_by_etcdutl(&self) -> bool {
        (self.severity == Severity::Error
            && !matches!(
                self.problem,
                Problem::BytesAfterElements { .. } | Problem::EmptyLeaf { .. }
            ))
            || matches!(self.problem, Problem::EmptyBranch)
    }

    /// A finding without a location.
    pub fn new(severity: Severity, problem: Problem) -> Finding {
        Finding {
            severity,
            problem,
            page: None,
            bucket: None,
            key: None,
            offset: None,
        }
    }

    fn page(mut self, page: u64) -> Finding {
        self.page = Some(page);
        self
    }

    fn offset(mut self, offset: Option<u64>) -> Finding {
        self.offset = offset;
        self
    }

    fn bucket(mut self, bucket: &str) -> Finding {
        self.bucket = Some(bucket.to_string());
        self
    }

    fn key(mut self, key: Option<&[u8]>) -> Finding {
        self.key = key.map(escape_bytes);
        self
    }
}

impl fmt::Display for Finding {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mut sep = "";
        if let Some(p) = self.page {
            write!(f, "page {p}")?;
            sep = ", ";
        }
        if let Some(b) = &self.bucket {
            write!(f, "{sep}bucket {b}")?;
            sep = ", ";
        }
        if let Some(k) = &self.key {
            write!(f, "{sep}key {k}")?;
            sep = ", ";
        }
        if let Some(o) = self.offset {
            write!(f, "{sep}offset {o}")?;
            sep = ", ";
        }
        if !sep.is_empty() {
            f.write_str(": ")?;
        }
        write!(f, "{}", self.problem)
    }
}

/// Findings kept up to a cap, all of them counted.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Findings {
    /// The findings kept, in the order found.
    pub list: Vec<Finding>,
    /// All findings, including those past the cap.
    pub total: u64,
    /// Findings of severity error.
    pub errors: u64,
    /// Findings of severity warning.
    pub warnings: u64,
    cap: usize,
}

impl Findings {
    /// An empty list keeping at most `cap` findings.
    pub fn with_cap(cap: usize) -> Findings {
        Findings {
            cap,
            ..Findings::default()
        }
    }

    /// Records a finding (built only while under the cap).
    pub fn push_with(&mut self, severity: Severity, make: impl FnOnce() -> Finding) {
        self.total += 1;
        match severity {
            Severity::Error => self.errors += 1,
            Severity::Warning => self.warnings += 1,
            Severity::Info => {}
        }
        if self.list.len() < self.cap {
            let mut f = make();
            f.severity = severity;
            self.list.push(f);
        }
    }

    /// Records a finding.
    pub fn push(&mut self, f: Finding) {
        let s = f.severity;
        self.push_with(s, || f);
    }

    /// True when no error was found.
    pub fn is_ok(&self) -> bool {
        self.errors == 0
    }
}

/// Limits of a check.
#[derive(Debug, Clone, Copy)]
pub struct CheckOptions {
    /// Findings kept (all are counted). A wrecked 1.5 GB file can yield millions.
    pub max_findings: usize,
}

impl Default for CheckOptions {
    fn default() -> CheckOptions {
        CheckOptions {
            max_findings: 100_000,
        }
    }
}

/// What the meta check found.
#[derive(Debug, Clone)]
pub struct MetaCheck {
    /// Meta page 0, decoded, or why it is invalid.
    pub meta0: Result<Meta, MetaError>,
    /// Meta page 1, decoded, or why it is invalid.
    pub meta1: Result<Meta, MetaError>,
    /// The meta a reader uses (the valid one with the larger txid), if any.
    pub active: Option<u8>,
    /// The findings.
    pub findings: Findings,
}

/// Checks both meta pages of `file` (the whole file, trailer included): magic, version,
/// checksum, page size, header, pointers against the high-water mark, txids, and the file
/// length against the high-water mark. Needs no open [`Db`], so it runs on any file.
pub fn check_metas(file: &[u8], opts: &CheckOptions) -> MetaCheck {
    let mut out = Findings::with_cap(opts.max_findings);
    if file.is_empty() {
        out.push(Finding::new(Severity::Error, Problem::FileEmpty));
    } else if file.len() < 1024 {
        out.push(Finding::new(
            Severity::Error,
            Problem::FileTooSmall {
                size: file.len() as u64,
            },
        ));
    }
    let (meta0, meta1) = read_metas(file);
    let data_len = trailer_of(file).map_or(file.len(), |t| t.offset as usize) as u64;
    for (i, m) in [(0u8, &meta0), (1u8, &meta1)] {
        match m {
            Err(error) => {
                // An empty or tiny file already has its finding.
                if file.len() >= 1024 {
                    out.push(
                        Finding::new(
                            Severity::Error,
                            Problem::MetaInvalid {
                                meta: i,
                                error: error.clone(),
                            },
                        )
                        .page(u64::from(i)),
                    );
                }
            }
            Ok(m) => check_one_meta(file, m, data_len, &mut out),
        }
    }
    let active = match (&meta0, &meta1) {
        (Ok(a), Ok(b)) => Some(if b.txid > a.txid { 1 } else { 0 }),
        (Ok(_), Err(_)) => Some(0),
        (Err(_), Ok(_)) => Some(1),
        (Err(_), Err(_)) => None,
    };
    if let (Ok(a), Ok(b)) = (&meta0, &meta1) {
        if a.page_size != b.page_size {
            out.push(Finding::new(
                Severity::Error,
                Problem::MetaPageSizeDiffers {
                    size0: a.page_size,
                    size1: b.page_size,
                },
            ));
        }
        if a.txid.abs_diff(b.txid) != 1 {
            out.push(Finding::new(
                Severity::Warning,
                Problem::MetaTxids {
                    txid0: a.txid,
                    txid1: b.txid,
                },
            ));
        }
    }
    if let Some(act) = active {
        let (m, other) = if act == 0 {
            (&meta0, &meta1)
        } else {
            (&meta1, &meta0)
        };
        if let Ok(m) = m {
            out.push(Finding::new(
                Severity::Info,
                Problem::MetaInUse {
                    meta: act,
                    txid: m.txid,
                    other_txid: other.as_ref().ok().map(|o| o.txid),
                },
            ));
            let needed = m.pgid.saturating_mul(u64::from(m.page_size));
            if m.pgid.checked_mul(u64::from(m.page_size)).is_none() {
                out.push(
                    Finding::new(
                        Severity::Error,
                        Problem::HwmOverflow {
                            meta: act,
                            pgid: m.pgid,
                            page_size: m.page_size,
                        },
                    )
                    .page(u64::from(act)),
                );
            } else if needed > data_len {
                out.push(Finding::new(
                    Severity::Error,
                    Problem::Truncated {
                        meta: act,
                        needed,
                        available: data_len,
                    },
                ));
            } else if data_len > needed {
                out.push(Finding::new(
                    Severity::Info,
                    Problem::Slack {
                        bytes: data_len - needed,
                    },
                ));
            }
            // A member's db is whole pages; a saved snapshot is whole pages and a 32-byte
            // trailer. Anything else lost or gained bytes (etcdutl restore refuses it).
            let ps = u64::from(m.page_size);
            let len = file.len() as u64;
            if !len.is_multiple_of(ps) && len % ps != raw::SHA256_TRAILER_LEN as u64 {
                out.push(Finding::new(
                    Severity::Error,
                    Problem::OddLength {
                        len,
                        page_size: m.page_size,
                    },
                ));
            }
        }
    }
    MetaCheck {
        meta0,
        meta1,
        active,
        findings: out,
    }
}

/// Header and pointer checks of one valid meta.
fn check_one_meta(file: &[u8], m: &Meta, data_len: u64, out: &mut Findings) {
    let i = m.index;
    let start = if i == 0 { 0 } else { m.page_size as usize };
    let b = Bytes(file);
    let id = b.u64_le(start + raw::page_header::ID).unwrap_or(u64::MAX);
    let flags = b.u16_le(start + raw::page_header::FLAGS).unwrap_or(0);
    if flags != page_flags::META {
        out.push(
            Finding::new(Severity::Error, Problem::MetaHeader { meta: i, id, flags })
                .page(u64::from(i)),
        );
    } else if id != u64::from(i) {
        out.push(
            Finding::new(
                Severity::Warning,
                Problem::MetaHeader { meta: i, id, flags },
            )
            .page(u64::from(i)),
        );
    }
    let ptr = |field, value| {
        Finding::new(
            Severity::Error,
            Problem::MetaPointer {
                meta: i,
                field,
                value,
                hwm: m.pgid,
            },
        )
        .page(u64::from(i))
    };
    if m.pgid < 4 {
        out.push(ptr("pgid", m.pgid));
    }
    if m.root < 2 || m.root >= m.pgid {
        out.push(ptr("root", m.root));
    }
    if m.freelist_persisted() && (m.freelist < 2 || m.freelist >= m.pgid) {
        out.push(ptr("freelist", m.freelist));
    }
    let _ = data_len;
}

/// Page accounting of a database, from the check's walk.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct PageStats {
    /// Page size in bytes.
    pub page_size: u32,
    /// High-water mark: pages the database has.
    pub hwm: u64,
    /// Whole pages the file holds (without a trailer).
    pub file_pages: u64,
    /// Meta pages (2).
    pub meta: u64,
    /// Branch pages (first pages of their runs).
    pub branch: u64,
    /// Overflow continuation pages of branch pages.
    pub branch_overflow: u64,
    /// Leaf pages (first pages of their runs).
    pub leaf: u64,
    /// Overflow continuation pages of leaf pages.
    pub leaf_overflow: u64,
    /// Freelist pages, overflow included.
    pub freelist: u64,
    /// Pages listed free by a persisted freelist.
    pub free: u64,
    /// Pages neither reachable nor listed free (the free pages when the freelist is not
    /// persisted).
    pub unreachable: u64,
    /// Pages below the high-water mark missing from a truncated file.
    pub missing: u64,
    /// Buckets, the root bucket excluded, nested ones included.
    pub buckets: u64,
    /// Of those, the ones stored inline.
    pub inline_buckets: u64,
    /// Leaf entries that are not buckets, over all buckets.
    pub keys: u64,
    /// Levels of the deepest B+tree (1 = a root leaf).
    pub max_depth: usize,
    /// Bytes used by branch elements and keys (bbolt's `BranchInuse`).
    pub branch_bytes: u64,
    /// Bytes used by leaf elements, keys and values (bbolt's `LeafInuse`).
    pub leaf_bytes: u64,
    /// Bytes used by inline bucket pages.
    pub inline_bytes: u64,
}

impl PageStats {
    /// Pages in use: metas, branch, leaf (with overflow) and freelist pages.
    pub fn pages_in_use(&self) -> u64 {
        self.meta
            + self.branch
            + self.branch_overflow
            + self.leaf
            + self.leaf_overflow
            + self.freelist
    }

    /// Bytes of the pages in use.
    pub fn bytes_in_use(&self) -> u64 {
        self.pages_in_use() * u64::from(self.page_size)
    }
}

/// What the structural check found.
#[derive(Debug, Clone)]
pub struct Check {
    /// The findings.
    pub findings: Findings,
    /// Page accounting.
    pub stats: PageStats,
}

impl Check {
    /// True when no error was found.
    pub fn is_ok(&self) -> bool {
        self.findings.is_ok()
    }
}

/// The index of the first non-zero byte, 64 bytes at a time (this runs over every page's
/// tail, about a quarter of a file).
fn first_nonzero(b: &[u8]) -> Option<usize> {
    let mut chunks = b.chunks_exact(64);
    let mut base = 0;
    for c in &mut chunks {
        let any = c.chunks_exact(8).fold(0u64, |acc, w| {
            acc | u64::from_ne_bytes(w.try_into().unwrap_or_default())
        });
        if any != 0 {
            return c.iter().position(|&x| x != 0).map(|i| base + i);
        }
        base += 64;
    }
    chunks
        .remainder()
        .iter()
        .position(|&x| x != 0)
        .map(|i| base + i)
}

/// A bit per page.
#[derive(Debug, Clone)]
struct PageSet {
    words: Vec<u64>,
    len: u64,
}

impl PageSet {
    fn new(len: u64) -> PageSet {
        PageSet {
            words: vec![0; len.div_ceil(64) as usize],
            len,
        }
    }

    fn contains(&self, id: u64) -> bool {
        id < self.len
            && self
                .words
                .get((id / 64) as usize)
                .is_some_and(|w| w & (1 << (id % 64)) != 0)
    }

    /// Sets `id`; false when it was already set or lies outside.
    fn insert(&mut self, id: u64) -> bool {
        if id >= self.len {
            return false;
        }
        match self.words.get_mut((id / 64) as usize) {
            Some(w) => {
                let bit = 1 << (id % 64);
                let was = *w & bit != 0;
                *w |= bit;
                !was
            }
            None => false,
        }
    }

    fn count(&self) -> u64 {
        self.words.iter().map(|w| u64::from(w.count_ones())).sum()
    }
}

/// Runs the structural check with default options.
pub fn check(db: &Db) -> Check {
    check_with(db, &CheckOptions::default())
}

/// Runs the structural check on the meta in use: freelist, every page reachable from the root
/// bucket, every bucket and sub-bucket, and the accounting of every page below the
/// high-water mark. Never panics and always ends, whatever the file holds.
pub fn check_with(db: &Db, opts: &CheckOptions) -> Check {
    run_check(db, opts, true)
}

/// bbolt's own `Tx.Check` (what `etcdutl snapshot status` runs first), with this module's
/// bounds: every page reachable once or free once, page ids, types and overflow runs, the
/// freelist, branch element arrays, sub-buckets. It does not compare keys nor look at the
/// bytes after a page's last element (bbolt 1.3.6 does neither), so it touches only page
/// headers and element arrays: cheap enough to run before every `status`. [`check_with`] is the exhaustive superset behind `verify`.
pub fn check_pages(db: &Db, opts: &CheckOptions) -> Check {
    run_check(db, opts, false)
}

fn run_check(db: &Db, opts: &CheckOptions, keys: bool) -> Check {
    let meta = *db.meta();
    let ps = u64::from(meta.page_size);
    let data = db.data();
    let file_pages = data.len() as u64 / ps;
    let limit = meta.pgid.min(file_pages);
    let mut w = Walker {
        data,
        ps,
        hwm: meta.pgid,
        limit,
        reachable: PageSet::new(limit),
        freed: PageSet::new(limit),
        out: Findings::with_cap(opts.max_findings),
        stats: PageStats {
            page_size: meta.page_size,
            hwm: meta.pgid,
            file_pages,
            missing: meta.pgid.saturating_sub(file_pages),
            ..PageStats::default()
        },
        pending: VecDeque::new(),
        inline_budget: data.len() as u64 / 32 + 1,
        keys,
    };
    for id in 0..2 {
        if w.reachable.insert(id) {
            w.stats.meta += 1;
        }
    }
    w.freelist(db);
    w.pending.push_back(PendingBucket {
        name: String::new(),
        root: BucketRoot::Page(meta.root),
        from: None,
        depth: 0,
    });
    while let Some(b) = w.pending.pop_front() {
        w.bucket(b);
    }
    w.unreachable(meta.freelist_persisted());
    Check {
        findings: w.out,
        stats: w.stats,
    }
}

/// Where a bucket's tree starts.
#[derive(Debug, Clone, Copy)]
enum BucketRoot<'a> {
    Page(u64),
    /// The inline page (the bucket value after its 16-byte header).
    Inline(&'a [u8]),
}

/// A bucket waiting to be walked.
#[derive(Debug)]
struct PendingBucket<'a> {
    /// Path of names joined by `/`; empty for the root bucket.
    name: String,
    root: BucketRoot<'a>,
    /// The leaf page holding the bucket's entry.
    from: Option<u64>,
    depth: usize,
}

/// One branch page being walked.
#[derive(Debug, Clone, Copy)]
struct Frame<'a> {
    id: u64,
    /// The parent branch page.
    from: Option<u64>,
    page: Page<'a>,
    next: usize,
    lower: Option<&'a [u8]>,
    upper: Option<&'a [u8]>,
    prev: Option<&'a [u8]>,
}

/// Bounds a page's keys must respect, from its parent.
#[derive(Debug, Clone, Copy, Default)]
struct Bounds<'a> {
    lower: Option<&'a [u8]>,
    upper: Option<&'a [u8]>,
    /// The parent's separator, which bbolt keeps equal to the page's first key.
    separator: Option<&'a [u8]>,
    /// The parent branch page.
    from: Option<u64>,
}

struct Walker<'a> {
    data: &'a [u8],
    ps: u64,
    hwm: u64,
    /// Pages that exist: `min(hwm, file_pages)`. The bit sets cover exactly these.
    limit: u64,
    reachable: PageSet,
    freed: PageSet,
    out: Findings,
    stats: PageStats,
    pending: VecDeque<PendingBucket<'a>>,
    /// Inline buckets still allowed. Values may overlap in a crafted file, so nested inline
    /// buckets could otherwise multiply without end; a real file holds at most one per 32
    /// bytes (an empty inline bucket's value is 32 bytes).
    inline_budget: u64,
    /// Compare keys (order, separators); false for [`check_pages`].
    keys: bool,
}

fn bucket_label(name: &str) -> &str {
    if name.is_empty() { "(root)" } else { name }
}

/// A bucket name for paths: text when printable, else hex.
fn name_part(key: &[u8]) -> String {
    match std::str::from_utf8(key) {
        Ok(t) if !t.chars().any(char::is_control) && !t.contains('/') => t.to_string(),
        _ => escape_bytes(key),
    }
}

impl<'a> Walker<'a> {
    /// File offset of a slice borrowed from the data.
    fn offset_of(&self, s: &[u8]) -> Option<u64> {
        let base = self.data.as_ptr() as usize;
        let at = s.as_ptr() as usize;
        (at >= base && at <= base + self.data.len()).then(|| (at - base) as u64)
    }

    fn page_offset(&self, id: u64) -> Option<u64> {
        id.checked_mul(self.ps)
    }

    fn freelist(&mut self, db: &Db) {
        let meta = db.meta();
        if !meta.freelist_persisted() {
            return;
        }
        let id = meta.freelist;
        match Freelist::read(db) {
            Ok(Freelist::Persisted {
                page,
                overflow,
                ids,
            }) => {
                for fid in ids {
                    if fid < 2 || fid >= self.hwm {
                        self.out.push(
                            Finding::new(
                                Severity::Error,
                                Problem::FreelistIdOutOfRange {
                                    id: fid,
                                    hwm: self.hwm,
                                },
                            )
                            .page(page),
                        );
                    } else if fid < self.limit && !self.freed.insert(fid) {
                        let off = self.page_offset(fid);
                        self.out.push(
                            Finding::new(Severity::Error, Problem::FreedTwice)
                                .page(fid)
                                .offset(off),
                        );
                    }
                }
                for p in page..=page.saturating_add(u64::from(overflow)) {
                    self.mark(p, None);
                    self.stats.freelist += 1;
                }
            }
            Ok(Freelist::NotPersisted) => {}
            Err(e) => {
                let what = match &e {
                    Error::BadFreelist { what, .. } => what.clone(),
                    other => other.to_string(),
                };
                let off = self.page_offset(id);
                self.out.push(
                    Finding::new(Severity::Error, Problem::Freelist { what })
                        .page(id)
                        .offset(off),
                );
                if id < self.limit {
                    self.mark(id, None);
                    self.stats.freelist += 1;
                }
            }
        }
        self.stats.free = self.freed.count();
    }

    /// Marks page `p` in use: a finding when it was already, or is listed free.
    fn mark(&mut self, p: u64, from: Option<u64>) {
        if p >= self.limit {
            return;
        }
        let off = self.page_offset(p);
        if !self.reachable.insert(p) {
            self.out.push(
                Finding::new(Severity::Error, Problem::MultipleReferences { from })
                    .page(p)
                    .offset(off),
            );
        }
        if self.freed.contains(p) {
            self.out.push(
                Finding::new(Severity::Error, Problem::ReachableFreed)
                    .page(p)
                    .offset(off),
            );
        }
    }

    fn bucket(&mut self, b: PendingBucket<'a>) {
        self.stats.buckets += u64::from(!b.name.is_empty());
        match b.root {
            BucketRoot::Inline(span) => {
                if self.inline_budget == 0 {
                    return;
                }
                self.inline_budget -= 1;
                if self.inline_budget == 0 {
                    self.out.push(
                        Finding::new(
                            Severity::Error,
                            Problem::TooManyInlineBuckets {
                                max: self.data.len() as u64 / 32 + 1,
                            },
                        )
                        .bucket(bucket_label(&b.name)),
                    );
                }
                self.stats.inline_buckets += 1;
                self.stats.max_depth = self.stats.max_depth.max(1);
                let page = Page::new(None, span);
                let off = self.offset_of(span);
                let loc = |f: Finding| {
                    let mut f = f.bucket(bucket_label(&b.name)).offset(off);
                    f.page = b.from;
                    f
                };
                if span.len() < raw::PAGE_HEADER_SIZE {
                    self.out.push(loc(Finding::new(
                        Severity::Error,
                        Problem::BadBucketValue {
                            what: "inline page shorter than a page header".into(),
                        },
                    )));
                    return;
                }
                if page.flags() != page_flags::LEAF {
                    self.out.push(loc(Finding::new(
                        Severity::Error,
                        Problem::BadBucketValue {
                            what: format!(
                                "inline page has type {} (expected leaf)",
                                flags_name(page.flags())
                            ),
                        },
                    )));
                    return;
                }
                if page.check_elements_fit().is_err() {
                    self.out.push(loc(Finding::new(
                        Severity::Error,
                        Problem::ElementOutOfBounds {
                            index: page.count().saturating_sub(1),
                            count: page.count(),
                            what: "element array",
                        },
                    )));
                    return;
                }
                if let Ok(used) = page.used_bytes() {
                    self.stats.inline_bytes += used as u64;
                }
                self.leaf(&page, &b.name, b.depth, Bounds::default(), true);
            }
            BucketRoot::Page(root) => {
                let mut stack: Vec<Frame<'a>> = Vec::with_capacity(8);
                if let Some(f) = self.enter(root, Bounds::default(), &b.name, b.depth, &stack) {
                    stack.push(f);
                }
                self.stats.max_depth = self.stats.max_depth.max(1);
                self.walk(&mut stack, &b.name, b.depth);
            }
        }
    }

    /// Walks the branch pages on `stack` depth-first, entering each child once.
    fn walk(&mut self, stack: &mut Vec<Frame<'a>>, name: &str, nest: usize) {
        while let Some(top) = stack.last_mut() {
            if top.next >= top.page.count() {
                stack.pop();
                continue;
            }
            let i = top.next;
            top.next += 1;
            let fr = *top;
            let elem = match fr.page.branch(i) {
                Ok(e) => e,
                Err(e) => {
                    self.element_error(&fr.page, i, &e, name);
                    continue;
                }
            };
            let elem_off = self
                .page_offset(fr.id)
                .map(|o| o + (raw::PAGE_HEADER_SIZE + i * raw::BRANCH_ELEM_SIZE) as u64);
            if self.keys {
                self.key_checks(
                    fr.id,
                    i,
                    elem.key,
                    fr.prev,
                    Bounds {
                        lower: fr.lower,
                        upper: fr.upper,
                        separator: None,
                        from: fr.from,
                    },
                    name,
                    elem_off,
                );
            }
            if let Some(t) = stack.last_mut() {
                t.prev = Some(elem.key);
            }
            let next_key = if i + 1 < fr.page.count() {
                fr.page.branch(i + 1).ok().map(|e| e.key).or(fr.upper)
            } else {
                fr.upper
            };
            let bounds = Bounds {
                lower: Some(elem.key),
                upper: next_key,
                separator: Some(elem.key),
                from: Some(fr.id),
            };
            self.stats.max_depth = self.stats.max_depth.max(stack.len() + 1);
            if let Some(f) = self.enter(elem.child, bounds, name, nest, stack) {
                stack.push(f);
            }
        }
    }

    /// Checks page `id` as a branch or leaf page of bucket `name`. A leaf is checked whole; a
    /// branch is returned as a frame for [`Walker::walk`].
    fn enter(
        &mut self,
        id: u64,
        bounds: Bounds<'a>,
        name: &str,
        nest: usize,
        stack: &[Frame<'a>],
    ) -> Option<Frame<'a>> {
        let from = bounds.from;
        let label = bucket_label(name);
        let off = self.page_offset(id);
        let fail = |p: Problem| {
            Finding::new(Severity::Error, p)
                .page(id)
                .bucket(label)
                .offset(off)
        };
        if id < 2 {
            self.out.push(fail(Problem::PointsAtMeta { from }));
            return None;
        }
        if id >= self.hwm {
            self.out.push(
                Finding::new(
                    Severity::Error,
                    Problem::PageOutOfRange {
                        hwm: self.hwm,
                        from,
                    },
                )
                .page(id)
                .bucket(label),
            );
            return None;
        }
        if id >= self.limit {
            self.out.push(fail(Problem::PageBeyondFile { from }));
            return None;
        }
        if self.reachable.contains(id) {
            let problem = match from {
                Some(f) if f == id || stack.iter().any(|fr| fr.id == id) => {
                    Problem::Cycle { from: f }
                }
                _ => Problem::MultipleReferences { from },
            };
            self.out.push(fail(problem));
            return None;
        }
        let start = mul_offset(id, self.ps)?;
        let h = Bytes(self.data);
        let found = h.u64_le(start + raw::page_header::ID).unwrap_or(u64::MAX);
        let flags = h.u16_le(start + raw::page_header::FLAGS).unwrap_or(0);
        let overflow = h.u32_le(start + raw::page_header::OVERFLOW).unwrap_or(0);
        if found != id {
            self.mark(id, from);
            self.out.push(fail(Problem::PageIdMismatch { found, from }));
            return None;
        }
        let last = id.checked_add(u64::from(overflow));
        match last {
            Some(l) if l < self.limit => {}
            _ => {
                self.mark(id, from);
                self.out.push(fail(Problem::OverflowOutOfRange {
                    overflow,
                    hwm: self.hwm,
                }));
                return None;
            }
        }
        for p in id..=id + u64::from(overflow) {
            self.mark(p, from);
        }
        let kind = PageKind::from_flags(flags);
        match kind {
            PageKind::Branch => {
                self.stats.branch += 1;
                self.stats.branch_overflow += u64::from(overflow);
            }
            PageKind::Leaf => {
                self.stats.leaf += 1;
                self.stats.leaf_overflow += u64::from(overflow);
            }
            _ => {
                self.out.push(fail(Problem::UnexpectedType {
                    flags,
                    expected: "branch or leaf",
                    from,
                }));
                return None;
            }
        }
        let len = mul_offset(u64::from(overflow) + 1, self.ps)?;
        let span = Bytes(self.data).slice(start, len)?;
        let page = Page::new(Some(id), span);
        if page.check_elements_fit().is_err() {
            self.out.push(fail(Problem::ElementOutOfBounds {
                index: page.count().saturating_sub(1),
                count: page.count(),
                what: "element array",
            }));
            return None;
        }
        if let Ok(used) = page.used_bytes() {
            match kind {
                PageKind::Branch => self.stats.branch_bytes += used as u64,
                _ => self.stats.leaf_bytes += used as u64,
            }
            // bbolt writes a page from a zeroed buffer, its elements' keys and values packed
            // after the element array (node.write): nothing follows the last one. Bytes there
            // are what a lowered count or a shortened element left behind: entries lost.
            if let Some(at) = span
                .get(used..)
                .filter(|_| self.keys)
                .and_then(first_nonzero)
            {
                self.out.push(fail(Problem::BytesAfterElements {
                    used: used as u64,
                    at: (used + at) as u64,
                }));
            }
        }
        if kind == PageKind::Leaf {
            if page.count() == 0 && from.is_some() {
                // bbolt removes a page that loses its last key (node.rebalance); only a
                // bucket's root may be empty. What it held is lost.
                self.out.push(fail(Problem::EmptyLeaf { from }));
            }
            self.leaf(&page, name, nest, bounds, false);
            return None;
        }
        if page.count() == 0 {
            // bbolt never writes one (etcdutl panics on it): whatever it held is lost.
            self.out.push(fail(Problem::EmptyBranch));
            return None;
        }
        if let (true, Some(sep), Ok(first)) = (self.keys, bounds.separator, page.branch(0))
            && first.key != sep
        {
            self.out.push(
                Finding::new(
                    Severity::Warning,
                    Problem::SeparatorNotFirstKey {
                        from: from.unwrap_or(0),
                    },
                )
                .page(id)
                .bucket(label)
                .key(Some(first.key))
                .offset(off),
            );
        }
        Some(Frame {
            id,
            from,
            page,
            next: 0,
            lower: bounds.lower,
            upper: bounds.upper,
            prev: None,
        })
    }

    /// A finding for an element the page accessor rejected.
    fn element_error(&mut self, page: &Page<'a>, i: usize, e: &Error, name: &str) {
        let what = match e {
            Error::ElementOutOfBounds { what, .. } => *what,
            _ => "element",
        };
        let off = self
            .offset_of(page.bytes())
            .map(|o| o + (raw::PAGE_HEADER_SIZE + i * raw::LEAF_ELEM_SIZE) as u64);
        let mut f = Finding::new(
            Severity::Error,
            Problem::ElementOutOfBounds {
                index: i,
                count: page.count(),
                what,
            },
        )
        .bucket(bucket_label(name))
        .offset(off);
        f.page = page.id();
        self.out.push(f);
    }

    /// Order and bounds checks of one key.
    #[allow(clippy::too_many_arguments)]
    fn key_checks(
        &mut self,
        id: u64,
        i: usize,
        key: &'a [u8],
        prev: Option<&'a [u8]>,
        bounds: Bounds<'a>,
        name: &str,
        off: Option<u64>,
    ) {
        let problem = if key.is_empty() {
            Some(Problem::EmptyKey { index: i })
        } else if let Some(p) = prev.filter(|p| key <= *p) {
            Some(Problem::KeyOrder {
                index: i,
                equal: key == p,
            })
        } else if bounds.lower.is_some_and(|l| key < l) {
            Some(Problem::KeyBelowParent {
                index: i,
                from: bounds.from.unwrap_or(0),
            })
        } else if bounds.upper.is_some_and(|u| key >= u) {
            Some(Problem::KeyNotBelowNext {
                index: i,
                from: bounds.from.unwrap_or(0),
            })
        } else {
            None
        };
        if let Some(p) = problem {
            let mut f = Finding::new(Severity::Error, p)
                .bucket(bucket_label(name))
                .key(Some(key))
                .offset(off);
            f.page = (id != u64::MAX).then_some(id);
            self.out.push(f);
        }
    }

    /// Checks every element of a leaf page (or inline page) and queues its sub-buckets.
    fn leaf(&mut self, page: &Page<'a>, name: &str, nest: usize, bounds: Bounds<'a>, inline: bool) {
        let id = page.id().unwrap_or(u64::MAX);
        let base = self.offset_of(page.bytes());
        let mut prev: Option<&'a [u8]> = None;
        for i in 0..page.count() {
            let e = match page.leaf(i) {
                Ok(e) => e,
                Err(err) => {
                    self.element_error(page, i, &err, name);
                    continue;
                }
            };
            let off = base.map(|o| o + (raw::PAGE_HEADER_SIZE + i * raw::LEAF_ELEM_SIZE) as u64);
            if !self.keys {
                // Page accounting only: the element's flags say whether it is a bucket.
                if e.flags & raw::BUCKET_LEAF_FLAG == 0 {
                    self.stats.keys += 1;
                } else {
                    self.sub_bucket(name, e.key, e.value, page.id(), nest, off);
                }
                continue;
            }
            if i == 0 && bounds.separator.is_some_and(|s| s != e.key) {
                let mut f = Finding::new(
                    Severity::Warning,
                    Problem::SeparatorNotFirstKey {
                        from: bounds.from.unwrap_or(0),
                    },
                )
                .bucket(bucket_label(name))
                .key(Some(e.key))
                .offset(base);
                f.page = page.id();
                self.out.push(f);
            }
            self.key_checks(id, i, e.key, prev, bounds, name, off);
            prev = Some(e.key);
            if e.flags & !raw::BUCKET_LEAF_FLAG != 0 {
                let mut f = Finding::new(
                    Severity::Warning,
                    Problem::UnknownElementFlags {
                        index: i,
                        flags: e.flags,
                    },
                )
                .bucket(bucket_label(name))
                .key(Some(e.key))
                .offset(off);
                f.page = page.id();
                self.out.push(f);
            }
            if e.flags & raw::BUCKET_LEAF_FLAG == 0 {
                if name.is_empty() {
                    let mut f = Finding::new(Severity::Error, Problem::RootEntryNotBucket)
                        .bucket(bucket_label(name))
                        .key(Some(e.key))
                        .offset(off);
                    f.page = page.id();
                    self.out.push(f);
                }
                self.stats.keys += 1;
                continue;
            }
            if inline {
                let mut f = Finding::new(Severity::Warning, Problem::InlineSubBucket)
                    .bucket(bucket_label(name))
                    .key(Some(e.key))
                    .offset(off);
                f.page = page.id();
                self.out.push(f);
            }
            self.sub_bucket(name, e.key, e.value, page.id(), nest, off);
        }
    }

    /// Queues the sub-bucket whose entry is `key` -> `value`.
    fn sub_bucket(
        &mut self,
        parent: &str,
        key: &'a [u8],
        value: &'a [u8],
        from: Option<u64>,
        nest: usize,
        off: Option<u64>,
    ) {
        let name = if parent.is_empty() {
            name_part(key)
        } else {
            format!("{parent}/{}", name_part(key))
        };
        let bad = |what: String| {
            let mut f = Finding::new(Severity::Error, Problem::BadBucketValue { what })
                .bucket(&name)
                .offset(off);
            f.page = from;
            f
        };
        if nest + 1 > MAX_BUCKET_DEPTH {
            let mut f = Finding::new(
                Severity::Error,
                Problem::BucketsTooDeep {
                    max: MAX_BUCKET_DEPTH,
                },
            )
            .bucket(&name);
            f.page = from;
            self.out.push(f);
            return;
        }
        let v = Bytes(value);
        let Some(root) = v.u64_le(raw::bucket_header::ROOT) else {
            let f = bad(format!(
                "value of {} bytes is shorter than a bucket header",
                value.len()
            ));
            self.out.push(f);
            return;
        };
        let root = if root == 0 {
            BucketRoot::Inline(v.tail(raw::BUCKET_HEADER_SIZE).unwrap_or_default())
        } else {
            if value.len() != raw::BUCKET_HEADER_SIZE {
                let mut f = Finding::new(
                    Severity::Warning,
                    Problem::BucketValueLength { len: value.len() },
                )
                .bucket(&name)
                .offset(off);
                f.page = from;
                self.out.push(f);
            }
            BucketRoot::Page(root)
        };
        self.pending.push_back(PendingBucket {
            name,
            root,
            from,
            depth: nest + 1,
        });
    }

    /// Accounts for every page below the high-water mark that is neither reachable nor free.
    fn unreachable(&mut self, persisted: bool) {
        let mut count = 0u64;
        for id in 2..self.limit {
            if self.reachable.contains(id) || self.freed.contains(id) {
                continue;
            }
            count += 1;
            if persisted {
                let off = self.page_offset(id);
                self.out.push_with(Severity::Error, || {
                    Finding::new(Severity::Error, Problem::UnreachableUnfreed)
                        .page(id)
                        .offset(off)
                });
            }
        }
        self.stats.unreachable = count;
        if !persisted {
            self.out
                .push(Finding::new(Severity::Info, Problem::Unreachable { count }));
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn first_nonzero_finds_the_first() {
        for len in [0usize, 1, 63, 64, 65, 200] {
            assert_eq!(first_nonzero(&vec![0; len]), None);
            for at in 0..len {
                let mut v = vec![0u8; len];
                v[at] = 1;
                if at + 1 < len {
                    v[len - 1] = 9;
                }
                assert_eq!(first_nonzero(&v), Some(at), "len {len} at {at}");
            }
        }
    }

    #[test]
    fn page_set() {
        let mut s = PageSet::new(130);
        assert!(s.insert(0));
        assert!(!s.insert(0));
        assert!(s.insert(129));
        assert!(!s.insert(130));
        assert!(s.contains(129));
        assert!(!s.contains(5000));
        assert_eq!(s.count(), 2);
    }

    #[test]
    fn findings_cap_counts_all() {
        let mut f = Findings::with_cap(1);
        f.push(Finding::new(Severity::Error, Problem::FreedTwice));
        f.push(Finding::new(Severity::Warning, Problem::EmptyBranch));
        assert_eq!((f.list.len(), f.total, f.errors, f.warnings), (1, 2, 1, 1));
        assert!(!f.is_ok());
    }
}
