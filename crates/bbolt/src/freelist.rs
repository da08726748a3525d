//! The freelist: pages free for reuse, as the writer recorded them.
//!
//! Two count forms exist (the header count, or 0xFFFF and the true count in the first u64),
//! and etcd on Linux writes no freelist at all (`NoFreelistSync`); then the free pages are the
//! ones no bucket reaches, which only a full walk can tell (see `check`).

use crate::bytes::Bytes;
use crate::db::{Db, expect_flags};
use crate::error::{Error, Result};
use crate::raw::{self, page_flags};

/// What the file says about free pages.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Freelist {
    /// No freelist was written (meta freelist = 0xFFFF...FFFF).
    NotPersisted,
    /// The freelist page and the ids it lists (in file order).
    Persisted {
        /// The freelist page id.
        page: u64,
        /// Its overflow pages.
        overflow: u32,
        /// The free page ids listed.
        ids: Vec<u64>,
    },
}

impl Freelist {
    /// Reads the freelist of the meta in use.
    pub fn read(db: &Db) -> Result<Freelist> {
        let id = db.meta().freelist;
        if id == raw::NO_FREELIST {
            return Ok(Freelist::NotPersisted);
        }
        let page = db.page(id)?;
        expect_flags(&page, page_flags::FREELIST, None)?;
        let b = Bytes(page.bytes());
        let bad = |what: String| Error::BadFreelist { page: id, what };
        let (count, start) = if page.count() == usize::from(raw::FREELIST_COUNT_OVERFLOW) {
            let n = b
                .u64_le(raw::PAGE_HEADER_SIZE)
                .ok_or_else(|| bad("count word missing".into()))?;
            (n, raw::PAGE_HEADER_SIZE + 8)
        } else {
            (page.count() as u64, raw::PAGE_HEADER_SIZE)
        };
        let room = ((b.len() - start.min(b.len())) / 8) as u64;
        if count > room {
            return Err(bad(format!(
                "{count} ids do not fit in the page span ({room} at most)"
            )));
        }
        let ids = (0..count as usize)
            .filter_map(|i| b.u64_le(start + i * 8))
            .collect();
        Ok(Freelist::Persisted {
            page: id,
            overflow: page.overflow(),
            ids,
        })
    }

    /// The listed free ids (empty when not persisted).
    pub fn ids(&self) -> &[u64] {
        match self {
            Freelist::NotPersisted => &[],
            Freelist::Persisted { ids, .. } => ids,
        }
    }
}
