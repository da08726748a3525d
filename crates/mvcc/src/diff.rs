//! The difference between two keyspaces: a streaming merge in key order.
//!
//! Both sides arrive as iterators of live key-values sorted by key (the keyspace of a snapshot
//! at some revision), so memory stays bounded by the two indexes, never by the number of
//! changes: each change is handed to the caller as soon as it is known. Values are compared by
//! length, then byte for byte. [`diff_keyspaces`] runs the same merge over two keyspaces
//! already read, in key ranges on several threads, the changes still handed over in order.

use std::cmp::Ordering;

use crate::error::Error;
use crate::keyspace::Keyspace;
use crate::proto::KeyValueRef;

/// What happened to a key between A and B.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "lowercase")]
pub enum ChangeKind {
    /// Only in B.
    Added,
    /// Only in A.
    Deleted,
    /// In both, with a different revision, version, lease or value.
    Modified,
}

/// One difference.
#[derive(Debug, Clone, Copy)]
pub struct Change<'a, 'b> {
    /// Added, deleted or modified.
    pub kind: ChangeKind,
    /// For a modified key: did the value bytes change (false: only revisions moved).
    pub value_changed: bool,
    /// The key in A (`None` when added).
    pub a: Option<KeyValueRef<'a>>,
    /// The key in B (`None` when deleted).
    pub b: Option<KeyValueRef<'b>>,
}

/// Counts per change kind.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, serde::Serialize)]
pub struct DiffSummary {
    /// Keys only in B.
    pub added: u64,
    /// Keys only in A.
    pub deleted: u64,
    /// Keys in both that differ.
    pub modified: u64,
    /// Keys in both, identical.
    pub unchanged: u64,
}

impl DiffSummary {
    /// True when A and B hold the same keyspace.
    pub fn is_empty(&self) -> bool {
        self.added == 0 && self.deleted == 0 && self.modified == 0
    }

    /// Counts `kind`.
    pub fn count(&mut self, kind: ChangeKind) {
        match kind {
            ChangeKind::Added => self.added += 1,
            ChangeKind::Deleted => self.deleted += 1,
            ChangeKind::Modified => self.modified += 1,
        }
    }
}

/// True when two values hold different bytes: length first, then the bytes. (Hashing both
/// first read each value twice when they were equal, the common case, for an answer the
/// byte comparison gives exactly in one read, stopping at the first difference.)
pub fn values_differ(a: &[u8], b: &[u8]) -> bool {
    if a.len() != b.len() {
        return true;
    }
    if std::ptr::eq(a, b) {
        return false;
    }
    a != b
}

/// Compares two keyspaces, each sorted by key, calling `on_change` for each difference in key
/// order. Stops at the first error of either side or of `on_change`.
pub fn diff<'a, 'b, E>(
    a: impl IntoIterator<Item = Result<KeyValueRef<'a>, E>>,
    b: impl IntoIterator<Item = Result<KeyValueRef<'b>, E>>,
    mut on_change: impl FnMut(&Change<'a, 'b>) -> Result<(), E>,
) -> Result<DiffSummary, E> {
    let mut a = a.into_iter();
    let mut b = b.into_iter();
    let mut summary = DiffSummary::default();
    let mut next_a = a.next().transpose()?;
    let mut next_b = b.next().transpose()?;
    loop {
        let change = match (next_a, next_b) {
            (None, None) => return Ok(summary),
            (Some(x), None) => {
                next_a = a.next().transpose()?;
                deleted(x)
            }
            (None, Some(y)) => {
                next_b = b.next().transpose()?;
                added(y)
            }
            (Some(x), Some(y)) => match x.key.cmp(y.key) {
                Ordering::Less => {
                    next_a = a.next().transpose()?;
                    deleted(x)
                }
                Ordering::Greater => {
                    next_b = b.next().transpose()?;
                    added(y)
                }
                Ordering::Equal => {
                    next_a = a.next().transpose()?;
                    next_b = b.next().transpose()?;
                    let value_changed = values_differ(x.value, y.value);
                    let same_meta = (x.create_revision, x.mod_revision, x.version, x.lease)
                        == (y.create_revision, y.mod_revision, y.version, y.lease);
                    if same_meta && !value_changed {
                        summary.unchanged += 1;
                        continue;
                    }
                    Change {
                        kind: ChangeKind::Modified,
                        value_changed,
                        a: Some(x),
                        b: Some(y),
                    }
                }
            },
        };
        summary.count(change.kind);
        on_change(&change)?;
    }
}

/// Keys of A compared per task in [`diff_keyspaces`], by default.
pub const KEYS_PER_TASK: usize = 4096;

/// [`diff`] of two keyspaces already read, on up to `threads` threads: the key space is cut
/// at every `per_task`-th key of A and of B (e.g. [`KEYS_PER_TASK`]), so each run holds at
/// most `per_task` keys of either side whatever their sizes; each side's part of a run is
/// found by binary search, runs are compared on the workers, and the changes reach `on_change`
/// in key order, as from [`diff`]. Records are decoded by the workers; an error reading A or B
/// becomes `E` through `err_a` or `err_b`, the first one in key order winning. Memory: the
/// changes of a few runs.
pub fn diff_keyspaces<'a, 'b, E: Send>(
    a: &Keyspace<'a>,
    b: &Keyspace<'b>,
    threads: usize,
    per_task: usize,
    err_a: impl Fn(Error) -> E + Sync,
    err_b: impl Fn(Error) -> E + Sync,
    mut on_change: impl FnMut(&Change<'a, 'b>) -> Result<(), E>,
) -> Result<DiffSummary, E> {
    let (ka, kb) = (&a.kvs[..], &b.kvs[..]);
    let per_task = per_task.max(1);
    // The cuts: every per_task-th key of either side (not the first), in order. Run `r` is
    // [cut r-1, cut r), the first run open below and the last above.
    let mut cuts: Vec<&[u8]> = ka
        .iter()
        .step_by(per_task)
        .skip(1)
        .map(|kr| kr.key)
        .chain(kb.iter().step_by(per_task).skip(1).map(|kr| kr.key))
        .collect();
    cuts.sort_unstable();
    cuts.dedup();
    let runs = cuts.len() + 1;
    let start_a = |r: usize| match r.checked_sub(1).map(|c| cuts.get(c)) {
        None => 0,
        Some(None) => ka.len(),
        Some(Some(cut)) => ka.partition_point(|x| x.key < *cut),
    };
    let start_b = |r: usize| match r.checked_sub(1).map(|c| cuts.get(c)) {
        None => 0,
        Some(None) => kb.len(),
        Some(Some(cut)) => kb.partition_point(|x| x.key < *cut),
    };
    let run_ids: Vec<usize> = (0..runs).collect();
    let mut summary = DiffSummary::default();
    crate::pipeline::ordered(
        &run_ids,
        1,
        threads,
        |r| {
            let r = r[0];
            let ra = ka.get(start_a(r)..start_a(r + 1)).unwrap_or_default();
            let rb = kb.get(start_b(r)..start_b(r + 1)).unwrap_or_default();
            let mut changes = Vec::new();
            let s = diff(
                ra.iter().map(|kr| kr.rev.decode().map_err(&err_a)),
                rb.iter().map(|kr| kr.rev.decode().map_err(&err_b)),
                |c| {
                    changes.push(*c);
                    Ok(())
                },
            );
            s.map(|s| (s.unchanged, changes))
        },
        |made| {
            let (unchanged, changes) = made?;
            summary.unchanged += unchanged;
            for c in &changes {
                summary.count(c.kind);
                on_change(c)?;
            }
            Ok(())
        },
    )?;
    Ok(summary)
}

fn deleted<'a, 'b>(x: KeyValueRef<'a>) -> Change<'a, 'b> {
    Change {
        kind: ChangeKind::Deleted,
        value_changed: false,
        a: Some(x),
        b: None,
    }
}

fn added<'a, 'b>(y: KeyValueRef<'b>) -> Change<'a, 'b> {
    Change {
        kind: ChangeKind::Added,
        value_changed: false,
        a: None,
        b: Some(y),
    }
}

impl<'a, 'b> Change<'a, 'b> {
    /// The user key, from whichever side has it.
    pub fn key_bytes(&self) -> &[u8] {
        match (&self.a, &self.b) {
            (Some(a), _) => a.key,
            (None, Some(b)) => b.key,
            (None, None) => &[],
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn kv(key: &'static str, m: i64, value: &'static str) -> Result<KeyValueRef<'static>, ()> {
        Ok(KeyValueRef {
            key: key.as_bytes(),
            create_revision: 1,
            mod_revision: m,
            version: 1,
            value: value.as_bytes(),
            lease: 0,
        })
    }

    #[test]
    fn merge_finds_each_kind() {
        let a = vec![
            kv("a", 1, "x"),
            kv("b", 2, "y"),
            kv("c", 3, "z"),
            kv("d", 4, "w"),
        ];
        let b = vec![
            kv("b", 5, "y"),
            kv("c", 6, "Z"),
            kv("d", 4, "w"),
            kv("e", 7, "v"),
        ];
        let mut seen = Vec::new();
        let s = diff(a, b, |c| {
            seen.push((
                String::from_utf8(c.key_bytes().to_vec()).unwrap(),
                c.kind,
                c.value_changed,
            ));
            Ok(())
        })
        .unwrap();
        assert_eq!(
            s,
            DiffSummary {
                added: 1,
                deleted: 1,
                modified: 2,
                unchanged: 1
            }
        );
        assert_eq!(
            seen,
            vec![
                ("a".into(), ChangeKind::Deleted, false),
                ("b".into(), ChangeKind::Modified, false),
                ("c".into(), ChangeKind::Modified, true),
                ("e".into(), ChangeKind::Added, false),
            ]
        );
    }

    #[test]
    fn identical_sides_have_no_changes() {
        let a = vec![kv("a", 1, "x"), kv("b", 2, "y")];
        let s = diff(a.clone(), a, |_| Ok(())).unwrap();
        assert!(s.is_empty());
        assert_eq!(s.unchanged, 2);
    }

    #[test]
    fn fingerprint_then_bytes() {
        assert!(!values_differ(b"abc", b"abc"));
        assert!(values_differ(b"abc", b"abd"));
        assert!(values_differ(b"abc", b"abcd"));
    }
}
