//! Interned user keys: a number per distinct key, for the passes that see every revision.
//!
//! The `key` bucket is in revision order and a Kubernetes store rewrites its objects over time,
//! so a full pass meets each user key many times, far apart in the file. A hash map of keys
//! borrowed from the file compares every hit against the key of an earlier, distant record: a
//! cache and TLB miss into the mapped file per revision (perf: memcmp 17-29% of a full pass),
//! on top of the map's own probe. [`KeyTable`] instead copies each distinct key once into a
//! contiguous arena and keeps an open-addressed table of `(hash, arena offset, id)`: a hit
//! compares the full 64-bit hash first and then the key against the arena (a few MiB, mostly
//! in cache), and the caller gets a dense `u32` id to index its own per-key vectors (the
//! newest revision, a count) instead of a map of 48-byte buckets. Keys are compared byte for
//! byte on every hit, so the table is exact whatever the hash does.
//!
//! The hash is computed by the caller ([`KeyTable::hash`]) so one hash serves both the choice
//! of a thread's shard and the lookup.

use crate::error::{Error, Result};

/// An empty slot.
const EMPTY: u32 = u32::MAX;

#[derive(Clone, Copy)]
struct Slot {
    hash: u64,
    /// Offset of the key in the arena.
    off: u32,
    /// The key's id, [`EMPTY`] for a free slot.
    id: u32,
}

const FREE: Slot = Slot {
    hash: 0,
    off: 0,
    id: EMPTY,
};

/// Distinct user keys, numbered in order of first sight.
pub(crate) struct KeyTable<'a> {
    slots: Vec<Slot>,
    /// Every key once: `[len: u32 little-endian][bytes]`.
    arena: Vec<u8>,
    /// The keys as borrowed from the file (what callers return), by id.
    keys: Vec<&'a [u8]>,
}

impl<'a> KeyTable<'a> {
    /// An empty table.
    pub(crate) fn new() -> KeyTable<'a> {
        KeyTable {
            slots: vec![FREE; 1 << 12],
            arena: Vec::new(),
            keys: Vec::new(),
        }
    }

    /// The hash [`KeyTable::intern`] expects.
    #[inline]
    pub(crate) fn hash(key: &[u8]) -> u64 {
        xxhash_rust::xxh3::xxh3_64(key)
    }

    /// Number of distinct keys.
    #[inline]
    #[cfg(test)]
    pub(crate) fn len(&self) -> usize {
        self.keys.len()
    }

    /// The keys, by id.
    #[cfg(test)]
    pub(crate) fn keys(&self) -> &[&'a [u8]] {
        &self.keys
    }

    /// Into the keys, by id.
    pub(crate) fn into_keys(self) -> Vec<&'a [u8]> {
        self.keys
    }

    #[inline]
    fn stored(&self, off: u32) -> &[u8] {
        let off = off as usize;
        let len = self
            .arena
            .get(off..off + 4)
            .map_or(0, |b| u32::from_le_bytes([b[0], b[1], b[2], b[3]]) as usize);
        self.arena.get(off + 4..off + 4 + len).unwrap_or_default()
    }

    /// The id of `key` (whose [`KeyTable::hash`] is `hash`), and whether it is new.
    #[inline]
    pub(crate) fn intern(&mut self, hash: u64, key: &'a [u8]) -> Result<(u32, bool)> {
        let mask = self.slots.len() - 1;
        let mut i = hash as usize & mask;
        loop {
            let s = self.slots[i];
            if s.id == EMPTY {
                break;
            }
            if s.hash == hash && self.stored(s.off) == key {
                return Ok((s.id, false));
            }
            i = (i + 1) & mask;
        }
        // A new key.
        let id = u32::try_from(self.keys.len())
            .ok()
            .filter(|&id| id < EMPTY)
            .ok_or(Error::TooLarge {
                what: "distinct keys",
                value: self.keys.len() as u64,
            })?;
        let off = u32::try_from(self.arena.len())
            .ok()
            .filter(|o| u64::from(*o) + 4 + key.len() as u64 <= u64::from(u32::MAX))
            .ok_or(Error::TooLarge {
                what: "bytes of distinct keys",
                value: self.arena.len() as u64,
            })?;
        self.arena
            .extend_from_slice(&(key.len() as u32).to_le_bytes());
        self.arena.extend_from_slice(key);
        self.keys.push(key);
        self.slots[i] = Slot { hash, off, id };
        // Linear probing stays short below 5/8 full.
        if self.keys.len() * 8 > self.slots.len() * 5 {
            self.grow();
        }
        Ok((id, true))
    }

    fn grow(&mut self) {
        let mut slots = vec![FREE; self.slots.len() * 2];
        let mask = slots.len() - 1;
        for s in self.slots.iter().filter(|s| s.id != EMPTY) {
            let mut i = s.hash as usize & mask;
            while slots[i].id != EMPTY {
                i = (i + 1) & mask;
            }
            slots[i] = *s;
        }
        self.slots = slots;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ids_are_dense_and_exact_even_when_hashes_collide() {
        let keys: Vec<Vec<u8>> = (0..10_000u32)
            .map(|i| format!("/registry/k/{i}").into_bytes())
            .collect();
        let mut t = KeyTable::new();
        for (i, k) in keys.iter().enumerate() {
            assert_eq!(t.intern(KeyTable::hash(k), k).unwrap(), (i as u32, true));
        }
        for (i, k) in keys.iter().enumerate().rev() {
            assert_eq!(t.intern(KeyTable::hash(k), k).unwrap(), (i as u32, false));
        }
        // Every key given the same hash: still one id per distinct key.
        let mut c = KeyTable::new();
        for (i, k) in keys.iter().take(500).enumerate() {
            assert_eq!(c.intern(7, k).unwrap(), (i as u32, true));
        }
        for (i, k) in keys.iter().take(500).enumerate() {
            assert_eq!(c.intern(7, k).unwrap(), (i as u32, false));
        }
        assert_eq!(c.len(), 500);
        assert_eq!(c.keys()[3], keys[3].as_slice());
        // The empty key is a key like any other.
        assert_eq!(c.intern(KeyTable::hash(b""), b"").unwrap(), (500, true));
        assert_eq!(c.intern(KeyTable::hash(b""), b"").unwrap(), (500, false));
    }
}
