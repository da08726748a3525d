//! CRC-32C (Castagnoli), the checksum behind etcd's status hash and hashkv.
//!
//! A thin wrapper so the rest of the crate names one type. `crc-fast` folds with
//! VPCLMULQDQ/AVX-512 or PCLMULQDQ where the CPU has them (detected at run time), several times
//! the speed of the SSE4.2 `crc32` instruction loop, and it combines two CRCs in O(log n) so
//! pieces hashed on different threads join into etcd's exact value.

use crc_fast::{CrcAlgorithm, Digest};

/// A running CRC-32C.
#[derive(Clone)]
pub struct Crc32c(Digest);

impl Default for Crc32c {
    fn default() -> Self {
        Crc32c::new()
    }
}

impl std::fmt::Debug for Crc32c {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "Crc32c({:08x}, {} bytes)", self.value(), self.len())
    }
}

impl Crc32c {
    /// The CRC of nothing.
    pub fn new() -> Crc32c {
        Crc32c(Digest::new(CrcAlgorithm::Crc32Iscsi))
    }

    /// Feeds `data`.
    #[inline]
    pub fn update(&mut self, data: &[u8]) {
        self.0.update(data);
    }

    /// The CRC of everything fed so far.
    pub fn value(&self) -> u32 {
        self.0.finalize() as u32
    }

    /// Bytes fed so far.
    pub fn len(&self) -> u64 {
        self.0.get_amount()
    }

    /// True when nothing was fed.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Appends what `next` hashed, as if its bytes had been fed here.
    pub fn append(&mut self, next: &Crc32c) {
        self.0.combine(&next.0);
    }
}

#[cfg(test)]
mod tests {
    use super::Crc32c;

    #[test]
    fn check_value_and_combine() {
        let mut c = Crc32c::new();
        c.update(b"123456789");
        assert_eq!(c.value(), 0xe306_9283);
        let (mut a, mut b) = (Crc32c::new(), Crc32c::new());
        a.update(b"1234");
        b.update(b"56789");
        a.append(&b);
        assert_eq!(a.value(), 0xe306_9283);
        assert_eq!(a.len(), 9);
        let mut e = Crc32c::new();
        e.append(&Crc32c::new());
        assert_eq!(e.value(), 0);
        // Agrees with the SSE4.2 implementation on odd lengths and alignments.
        let data: Vec<u8> = (0..10_000u32)
            .map(|i| (i.wrapping_mul(2_654_435_761) >> 13) as u8)
            .collect();
        for (s, e) in [(0, 1), (1, 17), (3, 4099), (0, 10_000), (7, 9_999)] {
            let mut c = Crc32c::new();
            c.update(&data[s..e]);
            assert_eq!(c.value(), crc32c::crc32c(&data[s..e]), "{s}..{e}");
        }
    }
}
