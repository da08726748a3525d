//! Where the bytes of a Kubernetes store go: per resource, namespace, kind or key prefix.
//!
//! The CLI walks the MVCC history once and feeds every stored revision here: the newest
//! revision of a live key with its value, older revisions by size, deletions as tombstones,
//! and each key's revision count. Feeding must stay cheap, since a large store has millions
//! of revisions: group labels are borrowed from the key (or the envelope's kind) and only
//! copied the first time a group is seen, and the top-N lists only copy a key once it ranks.
//! Builders can be [merged](Stats::merge), so a caller may scan in parallel.
//!
//! Sizes are key + value bytes, for live objects and history alike.

use std::cmp::Reverse;
use std::collections::{BinaryHeap, HashMap};

use serde::Serialize;

use crate::classify::classify;
use crate::key::KeyBytes;
use crate::key::{KeyInfo, group_prefix, parse_key_with_prefix};

/// How objects are grouped.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum GroupBy {
    /// By resource as written in the key (`pods`, `services/specs`, `example.com/widgets`).
    Resource,
    /// By namespace; cluster-scoped objects are `(cluster)`, keys that are not objects `(none)`.
    Namespace,
    /// By the value's kind (`Pod`), or its class when it has none (`(encrypted)`, `(text)`).
    /// History and tombstones carry no value here, so they are counted under the kind most
    /// seen among the same resource's live values (`(unknown: <resource>)` when none is live).
    Kind,
    /// By the first `n` segments of the key (see [`group_prefix`]).
    Prefix(usize),
}

impl GroupBy {
    /// `resource`, `namespace`, `kind` or `prefix:<n>`.
    pub fn name(&self) -> String {
        match self {
            Self::Resource => "resource".into(),
            Self::Namespace => "namespace".into(),
            Self::Kind => "kind".into(),
            Self::Prefix(n) => format!("prefix:{n}"),
        }
    }
}

/// Counters for one group (or the whole store).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize)]
pub struct GroupCounts {
    /// Live objects (keys whose newest revision is not a deletion).
    pub live_objects: u64,
    /// Key + value bytes of the live objects.
    pub live_bytes: u64,
    /// Stored older revisions (superseded but not yet compacted away).
    pub history_revisions: u64,
    /// Key + value bytes of those revisions.
    pub history_bytes: u64,
    /// Stored deletion markers.
    pub tombstones: u64,
}

impl GroupCounts {
    fn add(&mut self, o: &Self) {
        let sum = |a: &mut u64, b: u64| *a = a.saturating_add(b);
        sum(&mut self.live_objects, o.live_objects);
        sum(&mut self.live_bytes, o.live_bytes);
        sum(&mut self.history_revisions, o.history_revisions);
        sum(&mut self.history_bytes, o.history_bytes);
        sum(&mut self.tombstones, o.tombstones);
    }
}

/// One group in a [`StatsReport`].
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct GroupStats {
    /// The group's label.
    pub name: String,
    /// Its counters.
    #[serde(flatten)]
    pub counts: GroupCounts,
    /// The group split by a second grouping ([`Stats::with_subgroups`]), by live bytes
    /// (descending) then name; empty (and absent from JSON) otherwise.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub subgroups: Vec<GroupStats>,
}

/// A key and a number (its size in bytes, or its revision count) in a top-N list.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct RankedKey {
    /// The key: text when UTF-8, else `{"bytes_b64": ...}`.
    pub key: KeyBytes,
    /// Bytes (key + value) or revisions.
    pub value: u64,
}

/// The result of [`Stats::finish`].
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct StatsReport {
    /// How the groups were formed ([`GroupBy::name`]).
    pub group_by: String,
    /// Groups by live bytes (descending), then name.
    pub groups: Vec<GroupStats>,
    /// All groups together.
    pub total: GroupCounts,
    /// The largest live objects (key + value bytes), largest first, ties by key.
    pub largest_live: Vec<RankedKey>,
    /// The keys with the most stored revisions, most first, ties by key.
    pub most_revisions: Vec<RankedKey>,
}

/// The stats builder.
#[derive(Debug, Clone)]
pub struct Stats {
    group_by: GroupBy,
    prefix: String,
    groups: HashMap<String, GroupCounts>,
    /// Kind grouping: history and tombstones by resource, assigned a kind in `finish`.
    pending: HashMap<String, GroupCounts>,
    /// Kind grouping: how often each kind was seen per resource.
    resource_kinds: HashMap<String, HashMap<String, u64>>,
    largest: TopN,
    revisions: TopN,
    /// The second grouping, when asked for (never by kind).
    sub_by: Option<GroupBy>,
    /// group label -> subgroup label -> counts.
    subgroups: HashMap<String, HashMap<String, GroupCounts>>,
}

impl Stats {
    /// A builder grouping by `group_by` and keeping the `top_n` largest objects and the `top_n`
    /// keys with most revisions.
    pub fn new(group_by: GroupBy, top_n: usize) -> Self {
        Self {
            group_by,
            prefix: crate::key::DEFAULT_PREFIX.to_owned(),
            groups: HashMap::new(),
            pending: HashMap::new(),
            resource_kinds: HashMap::new(),
            largest: TopN::new(top_n),
            revisions: TopN::new(top_n),
            sub_by: None,
            subgroups: HashMap::new(),
        }
    }

    /// Also splits each group by `sub_by` (e.g. each resource by namespace), into
    /// [`GroupStats::subgroups`]. Not available when either grouping is by kind (history has
    /// no kind of its own): then this does nothing.
    pub fn with_subgroups(mut self, sub_by: GroupBy) -> Self {
        if sub_by != GroupBy::Kind && self.group_by != GroupBy::Kind {
            self.sub_by = Some(sub_by);
        }
        self
    }

    /// Uses `prefix` instead of `/registry` to recognise object keys.
    pub fn with_prefix(mut self, prefix: &str) -> Self {
        prefix.clone_into(&mut self.prefix);
        self
    }

    /// The newest revision of a live key.
    pub fn add_live(&mut self, key: &[u8], value: &[u8]) {
        let bytes = size(key, value.len());
        let counts = GroupCounts {
            live_objects: 1,
            live_bytes: bytes,
            ..Default::default()
        };
        if self.group_by == GroupBy::Kind {
            let kind = classify(value);
            let kind = kind.kind_label();
            let resource = resource_label(key, &self.prefix);
            update(&mut self.resource_kinds, &resource, |kinds| {
                update(kinds, kind, |n| *n = n.saturating_add(1))
            });
            update(&mut self.groups, kind, |c| c.add(&counts));
        } else {
            let label = self.label(key);
            self.add_sub(&label, key, &counts);
            update(&mut self.groups, &label, |c| c.add(&counts));
        }
        self.largest.offer(bytes, key);
    }

    /// A stored revision older than the newest (`value_len` bytes of value).
    pub fn add_history(&mut self, key: &[u8], value_len: usize) {
        let bytes = size(key, value_len);
        self.add_valueless(
            key,
            GroupCounts {
                history_revisions: 1,
                history_bytes: bytes,
                ..Default::default()
            },
        );
    }

    /// A stored deletion of `key`.
    pub fn add_tombstone(&mut self, key: &[u8]) {
        self.add_valueless(
            key,
            GroupCounts {
                tombstones: 1,
                ..Default::default()
            },
        );
    }

    /// How many revisions of `key` are stored (for the most-revisions list). Call once per key.
    pub fn add_key_revisions(&mut self, key: &[u8], revisions: u64) {
        self.revisions.offer(revisions, key);
    }

    fn add_valueless(&mut self, key: &[u8], counts: GroupCounts) {
        let (map, label) = if self.group_by == GroupBy::Kind {
            (&mut self.pending, resource_label(key, &self.prefix))
        } else {
            let label = self.label(key);
            self.add_sub(&label, key, &counts);
            (&mut self.groups, label)
        };
        update(map, &label, |c| c.add(&counts));
    }

    /// Counts `counts` in the subgroup of `key` within group `label`, when subgroups are kept.
    fn add_sub(&mut self, label: &str, key: &[u8], counts: &GroupCounts) {
        if let Some(by) = self.sub_by {
            let sub = group_label(by, key, &self.prefix);
            update(&mut self.subgroups, label, |m| {
                update(m, &sub, |c| c.add(counts))
            });
        }
    }

    /// The group label of a key, for every grouping but Kind.
    fn label<'k>(&self, key: &'k [u8]) -> std::borrow::Cow<'k, str> {
        group_label(self.group_by, key, &self.prefix)
    }
}

/// The label of `key` under grouping `by` (Kind: its resource, as for valueless revisions),
/// with `prefix` the API server's `--etcd-prefix`.
pub fn group_label<'k>(by: GroupBy, key: &'k [u8], prefix: &str) -> std::borrow::Cow<'k, str> {
    use std::borrow::Cow;
    match by {
        GroupBy::Resource | GroupBy::Kind => resource_label(key, prefix),
        GroupBy::Namespace => match parse_key_with_prefix(key, prefix) {
            KeyInfo::Object(o) => o.namespace.unwrap_or(Cow::Borrowed("(cluster)")),
            _ => Cow::Borrowed("(none)"),
        },
        GroupBy::Prefix(n) => group_prefix(key, n),
    }
}

impl Stats {
    /// Adds another builder's counts (same grouping expected) into this one.
    pub fn merge(&mut self, other: Stats) {
        for (map, from) in [
            (&mut self.groups, other.groups),
            (&mut self.pending, other.pending),
        ] {
            for (label, counts) in from {
                map.entry(label).or_default().add(&counts);
            }
        }
        for (resource, kinds) in other.resource_kinds {
            let mine = self.resource_kinds.entry(resource).or_default();
            for (kind, n) in kinds {
                let count = mine.entry(kind).or_default();
                *count = count.saturating_add(n);
            }
        }
        for (label, subs) in other.subgroups {
            let mine = self.subgroups.entry(label).or_default();
            for (sub, counts) in subs {
                mine.entry(sub).or_default().add(&counts);
            }
        }
        self.largest.merge(other.largest);
        self.revisions.merge(other.revisions);
    }

    /// The report: groups sorted by live bytes (descending) then name, and the top-N lists.
    pub fn finish(mut self) -> StatsReport {
        for (resource, counts) in std::mem::take(&mut self.pending) {
            // The kind most seen for the resource; ties to the smaller name, for determinism.
            let kind = self.resource_kinds.get(&resource).and_then(|kinds| {
                kinds
                    .iter()
                    .max_by(|a, b| a.1.cmp(b.1).then(b.0.cmp(a.0)))
                    .map(|(k, _)| k.clone())
            });
            let label = kind.unwrap_or_else(|| format!("(unknown: {resource})"));
            self.groups.entry(label).or_default().add(&counts);
        }
        let mut total = GroupCounts::default();
        let mut groups: Vec<GroupStats> = self
            .groups
            .into_iter()
            .map(|(name, counts)| {
                total.add(&counts);
                let subgroups = self
                    .subgroups
                    .remove(&name)
                    .map(|subs| {
                        let mut v: Vec<GroupStats> = subs
                            .into_iter()
                            .map(|(name, counts)| GroupStats {
                                name,
                                counts,
                                subgroups: Vec::new(),
                            })
                            .collect();
                        by_live_bytes(&mut v);
                        v
                    })
                    .unwrap_or_default();
                GroupStats {
                    name,
                    counts,
                    subgroups,
                }
            })
            .collect();
        by_live_bytes(&mut groups);
        StatsReport {
            group_by: self.group_by.name(),
            groups,
            total,
            largest_live: self.largest.into_sorted(),
            most_revisions: self.revisions.into_sorted(),
        }
    }
}

/// Sorts groups by live bytes (descending), then name.
fn by_live_bytes(groups: &mut [GroupStats]) {
    groups.sort_by(|a, b| {
        b.counts
            .live_bytes
            .cmp(&a.counts.live_bytes)
            .then_with(|| a.name.cmp(&b.name))
    });
}

fn size(key: &[u8], value_len: usize) -> u64 {
    (key.len() as u64).saturating_add(value_len as u64)
}

/// The resource label of any key: the object's resource id, `(compact_rev_key)`, or the
/// key's first segment for keys outside the registry (the labels of [`GroupBy::Resource`]).
pub fn resource_label<'k>(key: &'k [u8], prefix: &str) -> std::borrow::Cow<'k, str> {
    use std::borrow::Cow;
    match parse_key_with_prefix(key, prefix) {
        KeyInfo::Object(o) => o.resource_id,
        KeyInfo::CompactRevKey => Cow::Borrowed("(compact_rev_key)"),
        KeyInfo::Other => group_prefix(key, 1),
    }
}

/// Applies `f` to `map[label]` (default-initialised if new), copying the label only when new.
fn update<V: Default>(map: &mut HashMap<String, V>, label: &str, f: impl FnOnce(&mut V)) {
    match map.get_mut(label) {
        Some(v) => f(v),
        None => {
            let mut v = V::default();
            f(&mut v);
            map.insert(label.to_owned(), v);
        }
    }
}

/// A ranked entry: higher value first, then smaller key.
#[derive(Debug, Clone, PartialEq, Eq)]
struct Ranked {
    value: u64,
    key: Vec<u8>,
}

impl Ranked {
    fn is_beaten_by(&self, value: u64, key: &[u8]) -> bool {
        (value, Reverse(key)) > (self.value, Reverse(self.key.as_slice()))
    }
}

impl Ord for Ranked {
    fn cmp(&self, o: &Self) -> std::cmp::Ordering {
        (self.value, Reverse(&self.key)).cmp(&(o.value, Reverse(&o.key)))
    }
}

impl PartialOrd for Ranked {
    fn partial_cmp(&self, o: &Self) -> Option<std::cmp::Ordering> {
        Some(self.cmp(o))
    }
}

/// The best `cap` entries seen, as a min-heap so the weakest is dropped first.
#[derive(Debug, Clone)]
struct TopN {
    cap: usize,
    heap: BinaryHeap<Reverse<Ranked>>,
}

impl TopN {
    fn new(cap: usize) -> Self {
        Self {
            cap,
            heap: BinaryHeap::new(),
        }
    }

    fn offer(&mut self, value: u64, key: &[u8]) {
        if self.heap.len() < self.cap {
            self.heap.push(Reverse(Ranked {
                value,
                key: key.to_vec(),
            }));
        } else if let Some(mut weakest) = self.heap.peek_mut()
            && weakest.0.is_beaten_by(value, key)
        {
            *weakest = Reverse(Ranked {
                value,
                key: key.to_vec(),
            });
        }
    }

    fn merge(&mut self, other: TopN) {
        for Reverse(r) in other.heap {
            self.offer(r.value, &r.key);
        }
    }

    fn into_sorted(self) -> Vec<RankedKey> {
        // Ascending by Reverse = best first.
        self.heap
            .into_sorted_vec()
            .into_iter()
            .map(|Reverse(r)| RankedKey {
                key: KeyBytes(r.key),
                value: r.value,
            })
            .collect()
    }
}
