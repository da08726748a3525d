//! Typed errors of the bbolt reader.
//!
//! Each variant says what is wrong and where (page id, offset, bucket), so that a user can act
//! on it and a later salvage mode can skip exactly the damaged part. The binary prints them on
//! one line; nothing here prints.

use std::fmt;
use std::path::PathBuf;

/// Result alias of this crate.
pub type Result<T, E = Error> = std::result::Result<T, E>;

/// Why one meta page is not usable.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum MetaError {
    /// The file is too short to hold this meta.
    Missing,
    /// The magic number is wrong.
    BadMagic(u32),
    /// The magic number matches byte-swapped: a big-endian file.
    BigEndian,
    /// The format version is not 2.
    BadVersion(u32),
    /// The stored checksum does not match the FNV-1a of the meta.
    BadChecksum {
        /// Checksum stored in the meta.
        stored: u64,
        /// Checksum computed over the meta bytes.
        computed: u64,
    },
    /// The page size is not a power of two between 512 B and 16 MiB.
    BadPageSize(u32),
}

impl fmt::Display for MetaError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            MetaError::Missing => write!(f, "missing (file too short)"),
            MetaError::BadMagic(m) => write!(f, "invalid magic {m:#010x} (want 0xed0cdaed)"),
            MetaError::BigEndian => {
                write!(f, "big-endian bbolt file (written on a big-endian machine)")
            }
            MetaError::BadVersion(v) => write!(f, "unsupported version {v} (want 2)"),
            MetaError::BadChecksum { stored, computed } => {
                write!(
                    f,
                    "checksum mismatch (stored {stored:#018x}, computed {computed:#018x})"
                )
            }
            MetaError::BadPageSize(p) => write!(f, "invalid page size {p}"),
        }
    }
}

/// Everything that can go wrong while reading a bbolt file.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// The file could not be opened, inspected or mapped.
    #[error("{op}: {source}")]
    Io {
        /// What was being done.
        op: &'static str,
        /// The underlying error.
        #[source]
        source: std::io::Error,
    },
    /// The path is a directory or another non-regular file.
    #[error("not a regular file")]
    NotAFile(PathBuf),
    /// The file is shorter than two minimal pages.
    #[error("file is empty: not a bbolt database (an etcd snapshot is at least 16 KiB)")]
    Empty,
    /// The file is shorter than two minimal pages.
    #[error("file too small ({0} bytes): not a bbolt database")]
    TooSmall(usize),
    /// Neither meta page is valid.
    #[error("{}", both_metas(.meta0, .meta1))]
    NoValidMeta {
        /// Why meta page 0 was rejected.
        meta0: MetaError,
        /// Why meta page 1 was rejected.
        meta1: MetaError,
    },
    /// The meta claims more pages than the file holds.
    #[error("{}", truncated(*.needed, *.available, *.pages, *.page_size))]
    Truncated {
        /// Bytes the meta's high-water mark requires.
        needed: u64,
        /// Bytes available (file size minus any sha256 trailer).
        available: u64,
        /// High-water mark.
        pages: u64,
        /// Page size.
        page_size: u32,
    },
    /// A meta field points outside the database.
    #[error("meta page {meta}: {field} page {page} is out of range (high-water mark {hwm})")]
    MetaPointerOutOfRange {
        /// Which meta page (0 or 1).
        meta: u8,
        /// Which field (root, freelist).
        field: &'static str,
        /// The page id it holds.
        page: u64,
        /// The high-water mark.
        hwm: u64,
    },
    /// A page id lies at or beyond the high-water mark or the end of the file.
    #[error("page {page}: out of range (high-water mark {hwm}){}", referrer(*.from))]
    PageOutOfRange {
        /// The page id.
        page: u64,
        /// The high-water mark.
        hwm: u64,
        /// The page that referenced it, if any.
        from: Option<u64>,
    },
    /// A page's header names another id than its position.
    #[error("page {page}: header says it is page {found}{}", referrer(*.from))]
    PageIdMismatch {
        /// The page id it was read as.
        page: u64,
        /// The id in its header.
        found: u64,
        /// The page that referenced it, if any.
        from: Option<u64>,
    },
    /// A page has an unexpected type.
    #[error("page {page}: unexpected page type {} (expected {expected}){}", flags_name(*.flags), referrer(*.from))]
    UnexpectedPageType {
        /// The page id.
        page: u64,
        /// The flags found.
        flags: u16,
        /// What was expected.
        expected: &'static str,
        /// The page that referenced it, if any.
        from: Option<u64>,
    },
    /// A page's overflow run goes past the high-water mark or the end of the file.
    #[error(
        "page {page}: overflow of {overflow} pages runs past the end of the database (high-water mark {hwm})"
    )]
    OverflowOutOfRange {
        /// The page id.
        page: u64,
        /// Its overflow count.
        overflow: u32,
        /// The high-water mark.
        hwm: u64,
    },
    /// An element (or its key or value) lies outside its page.
    #[error("{}: element {index} of {count}: {what} out of bounds (page span {span} bytes)", page_name(*.page))]
    ElementOutOfBounds {
        /// The page id (`None` for an inline bucket page).
        page: Option<u64>,
        /// Element index.
        index: usize,
        /// Element count of the page.
        count: usize,
        /// Which part (element header, key, value).
        what: &'static str,
        /// Bytes in the page span.
        span: usize,
    },
    /// A walk reached the same page twice: a cycle or a shared subtree.
    #[error(
        "page {page}: reached twice while walking bucket {}, {} (a cycle, or a subtree shared with another branch or bucket)",
        bucket_label(.bucket),
        match .from { Some(p) => format!("from page {p}"), None => "as its root".to_string() }
    )]
    PageRevisited {
        /// The page id.
        page: u64,
        /// The page that referenced it (`None`: the bucket's root).
        from: Option<u64>,
        /// The bucket being walked.
        bucket: String,
    },
    /// A bucket value is malformed.
    #[error("bucket {bucket}: {what}")]
    BadBucket {
        /// The bucket name (escaped).
        bucket: String,
        /// What is wrong.
        what: String,
    },
    /// An entry of the root bucket is not a bucket.
    #[error("root entry {0} is not a bucket")]
    NotABucket(String),
    /// The freelist is malformed.
    #[error("freelist page {page}: {what}")]
    BadFreelist {
        /// The freelist page id.
        page: u64,
        /// What is wrong.
        what: String,
    },
}

fn truncated(needed: u64, available: u64, pages: u64, page_size: u32) -> String {
    if pages.checked_mul(u64::from(page_size)).is_none() {
        return format!(
            "the meta's high-water mark (pgid {pages}) times the page size {page_size} overflows a \
             64-bit size: the meta is damaged (the file holds {available} bytes)"
        );
    }
    format!(
        "file is truncated: the database needs {needed} bytes ({pages} pages of {page_size} B) \
         but the file holds {available}; the copy is incomplete, take the backup again"
    )
}

fn both_metas(m0: &MetaError, m1: &MetaError) -> String {
    if *m0 == MetaError::BigEndian || *m1 == MetaError::BigEndian {
        return "big-endian bbolt file: written on a big-endian machine, which this reader does not support".into();
    }
    format!("not a valid bbolt database: meta page 0: {m0}; meta page 1: {m1}")
}

/// A bucket name for messages: the root bucket (the list of top-level buckets) has none.
fn bucket_label(name: &str) -> &str {
    if name.is_empty() { "(root)" } else { name }
}

fn referrer(from: Option<u64>) -> String {
    match from {
        Some(p) => format!(", referenced from page {p}"),
        None => String::new(),
    }
}

fn page_name(page: Option<u64>) -> String {
    match page {
        Some(p) => format!("page {p}"),
        None => "inline bucket page".to_string(),
    }
}

/// A readable name for page type flags.
pub fn flags_name(flags: u16) -> String {
    use crate::raw::page_flags::*;
    match flags {
        BRANCH => "branch".into(),
        LEAF => "leaf".into(),
        META => "meta".into(),
        FREELIST => "freelist".into(),
        f => format!("unknown<{f:02x}>"),
    }
}

/// Bytes rendered for an error message: text when printable, else hex, truncated.
pub fn escape_bytes(b: &[u8]) -> String {
    const MAX: usize = 64;
    let cut = &b[..b.len().min(MAX)];
    let mut s = String::new();
    match std::str::from_utf8(cut) {
        Ok(t) if !t.chars().any(char::is_control) => {
            s.push('"');
            s.push_str(t);
            s.push('"');
        }
        _ => {
            s.push_str("0x");
            for byte in cut {
                s.push_str(&format!("{byte:02x}"));
            }
        }
    }
    if b.len() > MAX {
        s.push_str("...");
    }
    s
}
