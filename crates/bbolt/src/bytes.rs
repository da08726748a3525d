//! The one bounds-checked accessor over file bytes.
//!
//! Every offset, length and count that comes from the file passes through these functions,
//! which compute in checked arithmetic and return `None` instead of panicking. Call sites turn
//! the `None` into an [`crate::Error`] that names the page and field. Reads are alignment-1
//! little-endian loads, so a structure can sit at any address (inline buckets live inside
//! values at arbitrary alignment).

/// Borrowed bytes with checked little-endian reads.
#[derive(Clone, Copy, Debug)]
pub struct Bytes<'a>(pub &'a [u8]);

impl<'a> Bytes<'a> {
    /// Total length.
    #[inline]
    pub fn len(&self) -> usize {
        self.0.len()
    }

    /// True when there are no bytes.
    #[inline]
    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    /// `len` bytes at `off`, or `None` if any of them lies outside.
    #[inline]
    pub fn slice(&self, off: usize, len: usize) -> Option<&'a [u8]> {
        let end = off.checked_add(len)?;
        self.0.get(off..end)
    }

    /// Bytes from `off` to the end.
    #[inline]
    pub fn tail(&self, off: usize) -> Option<&'a [u8]> {
        self.0.get(off..)
    }

    /// An `N`-byte array at `off`.
    #[inline]
    pub fn array<const N: usize>(&self, off: usize) -> Option<[u8; N]> {
        let s = self.slice(off, N)?;
        s.try_into().ok()
    }

    /// A little-endian u16 at `off`.
    #[inline]
    pub fn u16_le(&self, off: usize) -> Option<u16> {
        self.array(off).map(u16::from_le_bytes)
    }

    /// A little-endian u32 at `off`.
    #[inline]
    pub fn u32_le(&self, off: usize) -> Option<u32> {
        self.array(off).map(u32::from_le_bytes)
    }

    /// A little-endian u64 at `off`.
    #[inline]
    pub fn u64_le(&self, off: usize) -> Option<u64> {
        self.array(off).map(u64::from_le_bytes)
    }

    /// A big-endian u64 at `off` (etcd's own integers are big-endian).
    #[inline]
    pub fn u64_be(&self, off: usize) -> Option<u64> {
        self.array(off).map(u64::from_be_bytes)
    }
}

/// `a * b` as a `usize` byte offset, `None` on overflow.
#[inline]
pub fn mul_offset(a: u64, b: u64) -> Option<usize> {
    usize::try_from(a.checked_mul(b)?).ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_are_checked() {
        let b = Bytes(&[1, 0, 0, 0, 0, 0, 0, 0, 2]);
        assert_eq!(b.u64_le(0), Some(1));
        assert_eq!(b.u64_le(1), Some(0x0200_0000_0000_0000));
        assert_eq!(b.u64_le(2), None);
        assert_eq!(b.slice(usize::MAX, 2), None);
        assert_eq!(b.slice(9, 0), Some(&[][..]));
        assert_eq!(b.slice(10, 0), None);
        assert_eq!(mul_offset(u64::MAX, 2), None);
    }
}
