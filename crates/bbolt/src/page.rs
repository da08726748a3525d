//! Pages: the header and the branch and leaf elements, read in place.
//!
//! A [`Page`] is a borrowed span of bytes (the page with its overflow continuation, or an
//! inline bucket's page inside a value). Element accessors check that the element header, the
//! key and the value lie inside that span; `pos` is relative to the element itself, as bbolt
//! writes it.

use crate::bytes::Bytes;
use crate::error::{Error, Result};
use crate::raw::{self, page_flags};

/// What a page is, from its flags.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum PageKind {
    /// Branch page.
    Branch,
    /// Leaf page.
    Leaf,
    /// Meta page.
    Meta,
    /// Freelist page.
    Freelist,
    /// Flags that are not exactly one known type.
    Unknown(u16),
}

impl PageKind {
    /// The kind for `flags`.
    pub fn from_flags(flags: u16) -> PageKind {
        match flags {
            page_flags::BRANCH => PageKind::Branch,
            page_flags::LEAF => PageKind::Leaf,
            page_flags::META => PageKind::Meta,
            page_flags::FREELIST => PageKind::Freelist,
            f => PageKind::Unknown(f),
        }
    }

    /// Lower-case name, as bbolt's tools print it.
    pub fn name(&self) -> String {
        crate::error::flags_name(match self {
            PageKind::Branch => page_flags::BRANCH,
            PageKind::Leaf => page_flags::LEAF,
            PageKind::Meta => page_flags::META,
            PageKind::Freelist => page_flags::FREELIST,
            PageKind::Unknown(f) => *f,
        })
    }
}

/// A page (with its overflow pages), borrowed from the file.
#[derive(Clone, Copy, Debug)]
pub struct Page<'a> {
    id: Option<u64>,
    span: Bytes<'a>,
    flags: u16,
    count: u16,
    overflow: u32,
}

/// One leaf element, borrowed.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct LeafElem<'a> {
    /// Element flags ([`raw::BUCKET_LEAF_FLAG`]).
    pub flags: u32,
    /// The key.
    pub key: &'a [u8],
    /// The value (a bucket header when the bucket flag is set).
    pub value: &'a [u8],
    /// The key and the value as one slice (they are contiguous in the page).
    pub key_value: &'a [u8],
}

/// One branch element, borrowed.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct BranchElem<'a> {
    /// The smallest key of the child.
    pub key: &'a [u8],
    /// The child page id.
    pub child: u64,
}

impl<'a> Page<'a> {
    /// A page over `span`, which starts with a page header. `id` is `None` for an inline page.
    /// A span shorter than a header reads as an empty page of unknown type.
    pub fn new(id: Option<u64>, span: &'a [u8]) -> Page<'a> {
        let b = Bytes(span);
        Page {
            id,
            span: b,
            flags: b.u16_le(raw::page_header::FLAGS).unwrap_or(0),
            count: b.u16_le(raw::page_header::COUNT).unwrap_or(0),
            overflow: b.u32_le(raw::page_header::OVERFLOW).unwrap_or(0),
        }
    }

    /// The page id (`None` for an inline bucket page).
    pub fn id(&self) -> Option<u64> {
        self.id
    }

    /// Raw flags.
    pub fn flags(&self) -> u16 {
        self.flags
    }

    /// The page type.
    pub fn kind(&self) -> PageKind {
        PageKind::from_flags(self.flags)
    }

    /// Element count from the header.
    pub fn count(&self) -> usize {
        usize::from(self.count)
    }

    /// Continuation pages that follow this one.
    pub fn overflow(&self) -> u32 {
        self.overflow
    }

    /// The whole span's bytes (header included).
    pub fn bytes(&self) -> &'a [u8] {
        self.span.0
    }

    fn oob(&self, index: usize, what: &'static str) -> Error {
        Error::ElementOutOfBounds {
            page: self.id,
            index,
            count: self.count(),
            what,
            span: self.span.len(),
        }
    }

    /// Checks that the element array fits in the span; done once before iterating.
    pub fn check_elements_fit(&self) -> Result<()> {
        let need = self
            .count()
            .checked_mul(raw::LEAF_ELEM_SIZE)
            .and_then(|n| n.checked_add(raw::PAGE_HEADER_SIZE));
        match need {
            Some(n) if n <= self.span.len() => Ok(()),
            _ => Err(self.oob(self.count().saturating_sub(1), "element array")),
        }
    }

    /// Leaf element `i`, checked.
    #[inline]
    pub fn leaf(&self, i: usize) -> Result<LeafElem<'a>> {
        let at = raw::PAGE_HEADER_SIZE + i * raw::LEAF_ELEM_SIZE;
        let e: [u8; 16] = self
            .span
            .array(at)
            .ok_or_else(|| self.oob(i, "element header"))?;
        let word = |o: usize| u32::from_le_bytes([e[o], e[o + 1], e[o + 2], e[o + 3]]) as usize;
        let flags = word(raw::leaf_elem::FLAGS) as u32;
        let key_at = at
            .checked_add(word(raw::leaf_elem::POS))
            .ok_or_else(|| self.oob(i, "key"))?;
        let ksize = word(raw::leaf_elem::KSIZE);
        let vsize = word(raw::leaf_elem::VSIZE);
        let kv_len = ksize
            .checked_add(vsize)
            .ok_or_else(|| self.oob(i, "value"))?;
        let key_value = self.span.slice(key_at, kv_len).ok_or_else(|| {
            let what = if self.span.slice(key_at, ksize).is_none() {
                "key"
            } else {
                "value"
            };
            self.oob(i, what)
        })?;
        let (key, value) = key_value.split_at(ksize);
        Ok(LeafElem {
            flags,
            key,
            value,
            key_value,
        })
    }

    /// Branch element `i`, checked.
    #[inline]
    pub fn branch(&self, i: usize) -> Result<BranchElem<'a>> {
        let at = raw::PAGE_HEADER_SIZE + i * raw::BRANCH_ELEM_SIZE;
        let e: [u8; 16] = self
            .span
            .array(at)
            .ok_or_else(|| self.oob(i, "element header"))?;
        let pos = u32::from_le_bytes([e[0], e[1], e[2], e[3]]) as usize;
        let ksize = u32::from_le_bytes([e[4], e[5], e[6], e[7]]) as usize;
        let child = u64::from_le_bytes([e[8], e[9], e[10], e[11], e[12], e[13], e[14], e[15]]);
        let key_at = at.checked_add(pos).ok_or_else(|| self.oob(i, "key"))?;
        let key = self
            .span
            .slice(key_at, ksize)
            .ok_or_else(|| self.oob(i, "key"))?;
        Ok(BranchElem { key, child })
    }

    /// Key of element `i` whatever the page type (branch or leaf).
    pub fn key(&self, i: usize) -> Result<&'a [u8]> {
        match self.kind() {
            PageKind::Branch => self.branch(i).map(|e| e.key),
            _ => self.leaf(i).map(|e| e.key),
        }
    }

    /// Bytes of the page actually used by elements, as bbolt's stats compute it.
    pub fn used_bytes(&self) -> Result<usize> {
        let n = self.count();
        if n == 0 {
            return Ok(raw::PAGE_HEADER_SIZE);
        }
        let last = n - 1;
        let at = raw::PAGE_HEADER_SIZE + last * raw::LEAF_ELEM_SIZE;
        let (pos, len) = match self.kind() {
            PageKind::Branch => {
                let _ = self.branch(last)?;
                let pos = self.span.u32_le(at).unwrap_or(0) as usize;
                let ks = self.span.u32_le(at + 4).unwrap_or(0) as usize;
                (pos, ks)
            }
            _ => {
                let _ = self.leaf(last)?;
                let pos = self.span.u32_le(at + 4).unwrap_or(0) as usize;
                let ks = self.span.u32_le(at + 8).unwrap_or(0) as usize;
                let vs = self.span.u32_le(at + 12).unwrap_or(0) as usize;
                (pos, ks + vs)
            }
        };
        Ok(at + pos + len)
    }
}
