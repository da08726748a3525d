//! Interned user keys: a number per distinct key, for the passes that see every revision.
//!
//! The `key` bucket is in revision order and a Kubernetes store rewrites its objects over time,
//! so a full pass meets each user key many times, far apart in the file. [`KeyTable`] numbers
//! the distinct keys in order of first sight: an open-addressed table of `(hash, id)` (16
//! bytes a slot, linear probing under 5/8 load) beside the keys themselves, borrowed from the
//! file. A lookup compares the full 64-bit hash before the bytes, and the bytes on every hit,
//! so the table is exact whatever the hash does. The caller gets a dense `u32` id to index its
//! own per-key vectors (the newest revision, a count) instead of a map of 48-byte buckets
//! holding a key slice and a value each.
//!
//! The hash is computed by the caller ([`KeyTable::hash`]) so one hash serves both the choice
//! of a thread's shard and the lookup. Copying each key once into a contiguous arena made the
//! hit's comparison about 20% cheaper in CPU but cost a fifth more peak heap on a store of
//! small objects (the arena grows by doubling like every vector here), against the goal of a
//! heap under a quarter of the file: not kept.

use crate::error::{Error, Result};

/// An empty slot.
const EMPTY: u32 = u32::MAX;

#[derive(Clone, Copy)]
struct Slot {
    hash: u64,
    /// The key's id, [`EMPTY`] for a free slot.
    id: u32,
}

const FREE: Slot = Slot { hash: 0, id: EMPTY };

/// Distinct user keys, numbered in order of first sight.
pub(crate) struct KeyTable<'a> {
    slots: Vec<Slot>,
    /// The keys as borrowed from the file (what callers return), by id.
    keys: Vec<&'a [u8]>,
}

impl Default for KeyTable<'_> {
    fn default() -> Self {
        KeyTable::new()
    }
}

impl<'a> KeyTable<'a> {
    /// An empty table.
    pub(crate) fn new() -> KeyTable<'a> {
        KeyTable {
            slots: vec![FREE; 1 << 12],
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
            if s.hash == hash && self.keys.get(s.id as usize) == Some(&key) {
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
        self.keys.push(key);
        self.slots[i] = Slot { hash, id };
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
