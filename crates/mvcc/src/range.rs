//! Key ranges the way etcd's Range RPC reads them.
//!
//! etcd has one request shape, `[key, range_end)`, and encodes every other form in it: an empty
//! `range_end` means the single key, `range_end = "\0"` means "every key `>= key`", and a
//! prefix is turned into its successor by the client. etcdctl adds its own rules on top
//! (`--prefix ""` and `--from-key ""` both start at `"\0"`). Keeping those rules here, as
//! values, lets the binary stay a thin translation of what the user typed and lets tests pin
//! the corner cases (all-`0xff` prefixes, empty keys) once.

/// Where a range stops.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum RangeEnd {
    /// Only the start key itself.
    Single,
    /// Every key `>= start` and `< end`.
    Before(Vec<u8>),
    /// Every key `>= start`.
    Unbounded,
}

/// A set of user keys: `[start, end)` with etcd's encodings resolved.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct KeyRange {
    start: Vec<u8>,
    end: RangeEnd,
}

/// The key after every key that starts with `prefix`: the prefix with trailing `0xff` bytes
/// dropped and its last byte incremented (clientv3's `GetPrefixRangeEnd`). `None` when no such
/// key exists (the prefix is empty or all `0xff`): the range then has no end.
pub fn prefix_end(prefix: &[u8]) -> Option<Vec<u8>> {
    let keep = prefix.iter().rposition(|&b| b != 0xff)?;
    let mut end = prefix[..=keep].to_vec();
    // `keep` points at a byte below 0xff, so the increment cannot overflow.
    end[keep] += 1;
    Some(end)
}

impl KeyRange {
    /// Exactly `key`.
    pub fn single(key: &[u8]) -> KeyRange {
        KeyRange {
            start: key.to_vec(),
            end: RangeEnd::Single,
        }
    }

    /// Every key, as `etcdctl get "" --from-key` asks for it (from `"\0"`: etcd keys are never
    /// empty).
    pub fn all() -> KeyRange {
        KeyRange::from_key(b"")
    }

    /// Every key starting with `prefix` (`etcdctl get --prefix`). An empty prefix means every
    /// key, from `"\0"`, as etcdctl sends it.
    pub fn prefix(prefix: &[u8]) -> KeyRange {
        if prefix.is_empty() {
            return KeyRange::all();
        }
        KeyRange {
            start: prefix.to_vec(),
            end: match prefix_end(prefix) {
                Some(e) => RangeEnd::Before(e),
                None => RangeEnd::Unbounded,
            },
        }
    }

    /// Every key `>= key` (`etcdctl get --from-key`); an empty key starts at `"\0"`.
    pub fn from_key(key: &[u8]) -> KeyRange {
        KeyRange {
            start: if key.is_empty() {
                vec![0]
            } else {
                key.to_vec()
            },
            end: RangeEnd::Unbounded,
        }
    }

    /// `[start, end)` as the Range RPC reads a request: an empty `end` means the single key
    /// `start`, and `end = "\0"` means every key `>= start`.
    pub fn between(start: &[u8], end: &[u8]) -> KeyRange {
        let end = match end {
            [] => RangeEnd::Single,
            [0] => RangeEnd::Unbounded,
            e => RangeEnd::Before(e.to_vec()),
        };
        KeyRange {
            start: start.to_vec(),
            end,
        }
    }

    /// The first key of the range.
    pub fn start(&self) -> &[u8] {
        &self.start
    }

    /// Where the range stops.
    pub fn end(&self) -> &RangeEnd {
        &self.end
    }

    /// True when `key` is in the range.
    #[inline]
    pub fn contains(&self, key: &[u8]) -> bool {
        match &self.end {
            RangeEnd::Single => key == self.start.as_slice(),
            RangeEnd::Before(end) => key >= self.start.as_slice() && key < end.as_slice(),
            RangeEnd::Unbounded => key >= self.start.as_slice(),
        }
    }

    /// True when `key` sorts after every key of the range (a sorted scan can stop).
    #[inline]
    pub fn is_past(&self, key: &[u8]) -> bool {
        match &self.end {
            RangeEnd::Single => key > self.start.as_slice(),
            RangeEnd::Before(end) => key >= end.as_slice(),
            RangeEnd::Unbounded => false,
        }
    }

    /// True when the range holds every possible key (etcd keys are never empty).
    pub fn is_everything(&self) -> bool {
        self.end == RangeEnd::Unbounded
            && self.start.iter().all(|&b| b == 0)
            && self.start.len() <= 1
    }

    /// True when the range names one key (a plain `get KEY`).
    pub fn is_single(&self) -> bool {
        self.end == RangeEnd::Single
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn prefix_ends_like_clientv3() {
        assert_eq!(prefix_end(b"a"), Some(b"b".to_vec()));
        assert_eq!(prefix_end(b"/registry/"), Some(b"/registry0".to_vec()));
        assert_eq!(prefix_end(b"a\xff\xff"), Some(b"b".to_vec()));
        assert_eq!(prefix_end(b"\xff\xff"), None);
        assert_eq!(prefix_end(b""), None);
    }

    #[test]
    fn ranges() {
        let p = KeyRange::prefix(b"/a/");
        assert!(p.contains(b"/a/"));
        assert!(p.contains(b"/a/x"));
        assert!(!p.contains(b"/a0"));
        assert!(!p.contains(b"/a"));
        assert!(p.is_past(b"/a0"));
        let all = KeyRange::prefix(b"");
        assert_eq!(all, KeyRange::from_key(b""));
        assert!(all.contains(b"\0"));
        assert!(!all.contains(b""));
        let ff = KeyRange::prefix(b"\xff");
        assert!(ff.contains(b"\xff\x00"));
        assert!(!ff.contains(b"\xfe"));
        let one = KeyRange::single(b"k");
        assert!(one.contains(b"k") && !one.contains(b"k1") && one.is_past(b"k1"));
        assert_eq!(KeyRange::between(b"a", b""), KeyRange::single(b"a"));
        assert_eq!(KeyRange::between(b"a", b"\0").end(), &RangeEnd::Unbounded);
        let backwards = KeyRange::between(b"b", b"a");
        assert!(!backwards.contains(b"a") && !backwards.contains(b"b"));
    }
}
