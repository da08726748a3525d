//! Page accounting on the side of a reading walk: proof that bbolt's own check would pass,
//! without walking the tree a second time.
//!
//! Why: `etcdutl snapshot status` runs bbolt's `Tx.Check` before it hashes every entry, and so
//! must we ([`crate::check::check_pages`]). Both walks touch every page of the tree; on a
//! store of millions of small pages the first touch of each page header (a cache and TLB
//! miss, in tree order) is most of the cost, and paying it twice made `status` twice the
//! floor. A hash walk that reads every entry with [`crate::Iter`] already validates every page
//! it enters (range, header id, type, overflow run, element arrays, every element); what it
//! does not see is how the pages add up. The [`Ledger`] adds that: the pages each iterator
//! entered ([`PagesSeen`]) must be disjoint, and with the metas, the freelist's own pages and
//! the pages it lists, account for every page below the high-water mark exactly once.
//!
//! The ledger only ever says "sound" or "not proven". A caller that gets "not proven", or an
//! error from any iterator, runs the full check, which names the problems in bbolt's words;
//! so the fast path changes no output, only how soon a sound file is answered. Anything the
//! walk does not follow (a nested bucket, a truncated file) is "not proven".

use crate::bucket::PagesSeen;
use crate::db::Db;
use crate::freelist::Freelist;

/// Pages accounted for so far, and whether anything has already ruled out a proof.
#[derive(Debug)]
pub struct Ledger {
    reachable: Vec<u64>,
    hwm: u64,
    sound: bool,
}

impl Ledger {
    /// An empty ledger for `db`, with its two meta pages in use.
    pub fn new(db: &Db) -> Ledger {
        let hwm = db.hwm();
        // A high-water mark past the file (truncated) is never proven; otherwise the bit set
        // is bounded by the pages the file holds.
        let sound = !db.is_truncated() && hwm >= 2;
        let mut l = Ledger {
            reachable: if sound {
                vec![0; hwm.div_ceil(64) as usize]
            } else {
                Vec::new()
            },
            hwm,
            sound,
        };
        l.mark(0);
        l.mark(1);
        l
    }

    /// True while nothing has ruled out a proof.
    pub fn is_sound(&self) -> bool {
        self.sound
    }

    fn mark(&mut self, id: u64) {
        if !self.sound {
            return;
        }
        let (w, b) = ((id / 64) as usize, id % 64);
        match self.reachable.get_mut(w) {
            Some(word) if id < self.hwm && *word & (1 << b) == 0 => *word |= 1 << b,
            _ => self.sound = false,
        }
    }

    /// Adds the pages of one bucket's iterators. `root` is the bucket's root page when the
    /// iterators are parts of one split (each of them entered the root): it is counted once.
    pub fn add(&mut self, parts: Vec<PagesSeen>, root: Option<u64>) {
        // The root's overflow run, as the parts recorded it (all of them entered it).
        let root_run = root.map(|r| {
            let overflow = parts
                .iter()
                .flat_map(|p| &p.runs)
                .find(|(id, _)| *id == r)
                .map_or(0, |(_, n)| *n);
            (r, overflow)
        });
        for mut seen in parts {
            if !self.sound {
                return;
            }
            if seen.empty_branch {
                self.sound = false;
                return;
            }
            if let Some(r) = root
                && let Some(word) = seen.words.get_mut((r / 64) as usize)
            {
                *word &= !(1 << (r % 64));
            }
            for (w, part) in seen.words.iter().enumerate() {
                match self.reachable.get_mut(w) {
                    Some(acc) if *acc & part == 0 => *acc |= part,
                    _ if *part == 0 => {}
                    _ => {
                        self.sound = false;
                        return;
                    }
                }
            }
            for &(id, overflow) in seen.runs.iter().filter(|(id, _)| Some(*id) != root) {
                for p in id + 1..=id.saturating_add(u64::from(overflow)) {
                    self.mark(p);
                }
            }
        }
        if let Some((r, overflow)) = root_run {
            for p in r..=r.saturating_add(u64::from(overflow)) {
                self.mark(p);
            }
        }
    }

    /// True when bbolt's check ([`crate::check::check_pages`]) would find nothing to refuse,
    /// given that the walks added cover every bucket and read every entry without an error:
    /// the freelist reads, lists each page once and only pages below the high-water mark
    /// that no walk reached, and (when it is persisted) every page is either in use or free.
    pub fn passes_check(mut self, db: &Db) -> bool {
        if !self.sound {
            return false;
        }
        let (page, overflow, ids) = match Freelist::read(db) {
            Ok(Freelist::NotPersisted) => return self.sound,
            Ok(Freelist::Persisted {
                page,
                overflow,
                ids,
            }) => (page, overflow, ids),
            Err(_) => return false,
        };
        for p in page..=page.saturating_add(u64::from(overflow)) {
            self.mark(p);
        }
        if !self.sound {
            return false;
        }
        let mut free = vec![0u64; self.reachable.len()];
        for id in ids {
            // A meta page listed free is caught below: the metas are marked in use.
            if id >= self.hwm {
                return false;
            }
            let (w, b) = ((id / 64) as usize, id % 64);
            if free[w] & (1 << b) != 0 || self.reachable[w] & (1 << b) != 0 {
                return false;
            }
            free[w] |= 1 << b;
        }
        // Every page below the high-water mark is in use or free.
        let full = (self.hwm / 64) as usize;
        if self.reachable[..full]
            .iter()
            .zip(&free[..full])
            .any(|(r, f)| r | f != u64::MAX)
        {
            return false;
        }
        let rest = self.hwm % 64;
        rest == 0 || {
            let mask = (1u64 << rest) - 1;
            (self.reachable[full] | free[full]) & mask == mask
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A ledger over 200 pages, nothing marked.
    fn fresh() -> Ledger {
        Ledger {
            reachable: vec![0; 4],
            hwm: 200,
            sound: true,
        }
    }

    fn seen(ids: &[u64], runs: &[(u64, u32)]) -> PagesSeen {
        let mut words = vec![0u64; 4];
        for &id in ids {
            words[(id / 64) as usize] |= 1 << (id % 64);
        }
        PagesSeen {
            words,
            runs: runs.to_vec(),
            empty_branch: false,
        }
    }

    #[test]
    fn marks_refuse_a_second_reference() {
        let mut l = fresh();
        l.mark(5);
        assert!(l.sound);
        l.mark(5);
        assert!(!l.sound);
    }

    #[test]
    fn overlapping_parts_and_runs_are_not_sound() {
        let mut parts = fresh();
        parts.add(vec![seen(&[3, 4], &[]), seen(&[4], &[])], None);
        assert!(!parts.sound, "page 4 in two parts");
        let mut runs = fresh();
        runs.add(vec![seen(&[3, 5], &[(3, 2)])], None);
        assert!(!runs.sound, "page 5 inside page 3's overflow run");
        let mut ok = fresh();
        ok.add(vec![seen(&[3, 6], &[(3, 2)]), seen(&[7], &[])], None);
        assert!(ok.sound);
        assert_eq!(ok.reachable[0], 0b1111_1000);
    }

    #[test]
    fn a_split_root_counts_once_with_its_run() {
        let mut l = fresh();
        l.add(
            vec![seen(&[10, 3], &[(10, 1)]), seen(&[10, 4], &[(10, 1)])],
            Some(10),
        );
        assert!(l.sound);
        assert_eq!(l.reachable[0], (1 << 3) | (1 << 4) | (1 << 10) | (1 << 11));
        let mut empty = fresh();
        let mut s = seen(&[3], &[]);
        s.empty_branch = true;
        empty.add(vec![s], None);
        assert!(!empty.sound);
    }
}
