//! On-disk layouts of bbolt, as constants and offsets: nothing here reads memory.
//!
//! Keeping the byte layout in one place, apart from the parsing logic, lets every reader read
//! like the format description (`docs/format.md`). All integers of the bbolt layer are
//! little-endian (bbolt writes native-endian structs and every known etcd file comes from a
//! little-endian machine); a file whose magic only matches byte-swapped is reported as
//! big-endian rather than "not a bolt file".

/// The magic number at the start of each meta.
pub const MAGIC: u32 = 0xED0C_DAED;
/// The only data format version written by released bolt/bbolt.
pub const VERSION: u32 = 2;
/// The freelist page id meaning "no freelist was written" (`NoFreelistSync`, etcd on Linux).
pub const NO_FREELIST: u64 = u64::MAX;
/// A freelist page whose header count is this value stores the true count in its first u64.
pub const FREELIST_COUNT_OVERFLOW: u16 = 0xFFFF;

/// Size of the page header at the start of every page.
pub const PAGE_HEADER_SIZE: usize = 16;
/// Size of one branch element.
pub const BRANCH_ELEM_SIZE: usize = 16;
/// Size of one leaf element.
pub const LEAF_ELEM_SIZE: usize = 16;
/// Size of the bucket header at the start of a bucket value.
pub const BUCKET_HEADER_SIZE: usize = 16;
/// Size of the meta structure that follows the page header on pages 0 and 1.
pub const META_SIZE: usize = 64;
/// The meta checksum covers the meta bytes `[0, META_CHECKSUM_END)`.
pub const META_CHECKSUM_END: usize = 56;

/// Page header field offsets (relative to the page start).
pub mod page_header {
    /// u64: the page's own id.
    pub const ID: usize = 0;
    /// u16: page type flags.
    pub const FLAGS: usize = 8;
    /// u16: element count.
    pub const COUNT: usize = 10;
    /// u32: number of continuation pages.
    pub const OVERFLOW: usize = 12;
}

/// Page type flags (exactly one is set on a valid page).
pub mod page_flags {
    /// Branch page: keys and child page ids.
    pub const BRANCH: u16 = 0x01;
    /// Leaf page: keys and values.
    pub const LEAF: u16 = 0x02;
    /// Meta page (pages 0 and 1).
    pub const META: u16 = 0x04;
    /// Freelist page.
    pub const FREELIST: u16 = 0x10;
}

/// Meta field offsets (relative to the meta, which starts at page offset 16).
pub mod meta {
    /// u32: [`super::MAGIC`].
    pub const MAGIC: usize = 0;
    /// u32: [`super::VERSION`].
    pub const VERSION: usize = 4;
    /// u32: the page size.
    pub const PAGE_SIZE: usize = 8;
    /// u32: unused flags.
    pub const FLAGS: usize = 12;
    /// u64: root bucket's root page id.
    pub const ROOT: usize = 16;
    /// u64: root bucket's sequence.
    pub const SEQUENCE: usize = 24;
    /// u64: freelist page id or [`super::NO_FREELIST`].
    pub const FREELIST: usize = 32;
    /// u64: high-water mark, one past the last page in use.
    pub const PGID: usize = 40;
    /// u64: transaction id that wrote this meta.
    pub const TXID: usize = 48;
    /// u64: FNV-1a 64 of meta bytes `[0, 56)`.
    pub const CHECKSUM: usize = 56;
}

/// Branch element field offsets (relative to the element).
pub mod branch_elem {
    /// u32: key offset relative to the element itself.
    pub const POS: usize = 0;
    /// u32: key size.
    pub const KSIZE: usize = 4;
    /// u64: child page id.
    pub const PGID: usize = 8;
}

/// Leaf element field offsets (relative to the element).
pub mod leaf_elem {
    /// u32: element flags ([`super::BUCKET_LEAF_FLAG`]).
    pub const FLAGS: usize = 0;
    /// u32: key offset relative to the element itself.
    pub const POS: usize = 4;
    /// u32: key size; the value follows the key.
    pub const KSIZE: usize = 8;
    /// u32: value size.
    pub const VSIZE: usize = 12;
}

/// Leaf element flag: the value is a sub-bucket header, not data.
pub const BUCKET_LEAF_FLAG: u32 = 0x01;

/// Bucket header field offsets (relative to the start of the value).
pub mod bucket_header {
    /// u64: root page id, 0 for an inline bucket.
    pub const ROOT: usize = 0;
    /// u64: the bucket's sequence counter.
    pub const SEQUENCE: usize = 8;
}

/// Length of etcd's SHA-256 trailer at the end of a file saved by `etcdctl snapshot save`.
pub const SHA256_TRAILER_LEN: usize = 32;

/// FNV-1a 64-bit, the meta checksum.
pub fn fnv1a64(data: &[u8]) -> u64 {
    let mut h: u64 = 0xcbf2_9ce4_8422_2325;
    for &b in data {
        h ^= u64::from(b);
        h = h.wrapping_mul(0x0000_0100_0000_01b3);
    }
    h
}

const _: () = assert!(META_CHECKSUM_END + 8 == META_SIZE);
const _: () = assert!(meta::CHECKSUM == META_CHECKSUM_END);
const _: () = assert!(leaf_elem::VSIZE + 4 == LEAF_ELEM_SIZE);
const _: () = assert!(branch_elem::PGID + 8 == BRANCH_ELEM_SIZE);
const _: () = assert!(page_header::OVERFLOW + 4 == PAGE_HEADER_SIZE);

#[cfg(test)]
mod tests {
    #[test]
    fn fnv_vector() {
        assert_eq!(super::fnv1a64(b"a"), 0xaf63_dc4c_8601_ec8c);
    }
}
