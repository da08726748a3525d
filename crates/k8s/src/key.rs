//! What an etcd key names: resource, namespace and name, from the API server's key layout.
//!
//! The API server stores objects at `/registry/<resource>/<namespace>/<name>` (namespaced) or
//! `/registry/<resource>/<name>` (cluster-scoped); resources outside the core groups are often
//! under `/registry/<group>/<resource>/...`, and a few resources have names of their own
//! (`services/specs`, `services/endpoints`, `minions` for nodes). Whether a resource is
//! namespaced is not written in the key, so a list of the cluster-scoped built-ins decides,
//! and for anything else the number of segments does (two after the resource: namespace and
//! name). Keys are bytes; non-UTF-8 segments are shown with U+FFFD, never rejected.

use std::borrow::Cow;

use serde::{Serialize, Serializer};

use crate::schemaless::bytes_value;

/// The API server's default key prefix (`--etcd-prefix`).
pub const DEFAULT_PREFIX: &str = "/registry";

/// The key under which the API server records the last compaction revision.
pub const COMPACT_REV_KEY: &[u8] = b"compact_rev_key";

/// Built-in resources that are cluster-scoped, as they appear in keys.
pub const CLUSTER_SCOPED: &[&str] = &[
    "namespaces",
    "nodes",
    "minions",
    "persistentvolumes",
    "clusterroles",
    "clusterrolebindings",
    "storageclasses",
    "priorityclasses",
    "customresourcedefinitions",
    "apiservices",
    "validatingwebhookconfigurations",
    "mutatingwebhookconfigurations",
    "validatingadmissionpolicies",
    "validatingadmissionpolicybindings",
    "mutatingadmissionpolicies",
    "mutatingadmissionpolicybindings",
    "csinodes",
    "csidrivers",
    "runtimeclasses",
    "ingressclasses",
    "certificatesigningrequests",
    "clustertrustbundles",
    "volumeattachments",
    "volumeattributesclasses",
    "podsecuritypolicy",
    "flowschemas",
    "prioritylevelconfigurations",
    "ipaddresses",
    "servicecidrs",
    "storageversions",
    "storageversionmigrations",
    "deviceclasses",
    "resourceslices",
    "resourceclasses",
    "masterleases",
    "ranges",
];

/// Resources whose key name has two segments.
const TWO_SEGMENT_RESOURCES: &[(&str, &[&str])] = &[("services", &["specs", "endpoints"])];

/// An object key: `<prefix>/[<group>/]<resource>/[<namespace>/]<name>`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ObjectKey<'a> {
    /// The API group when the key carries one (a segment with a dot, e.g. `example.com`).
    pub group: Option<Cow<'a, str>>,
    /// The resource as written in the key, e.g. `pods`, `services/specs`, `minions`.
    pub resource: Cow<'a, str>,
    /// The namespace; `None` for cluster-scoped objects.
    pub namespace: Option<Cow<'a, str>>,
    /// The object name (any further `/`-separated segments included).
    pub name: Cow<'a, str>,
    /// `group/resource`, or `resource` without a group (e.g. `example.com/widgets`,
    /// `services/specs`): the label stats and audits group by.
    pub resource_id: Cow<'a, str>,
}

impl ObjectKey<'_> {
    /// `namespace/name`, or `name` for cluster-scoped objects.
    pub fn namespaced_name(&self) -> String {
        match &self.namespace {
            Some(ns) => format!("{ns}/{}", self.name),
            None => self.name.to_string(),
        }
    }
}

/// What a key is.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum KeyInfo<'a> {
    /// An object under the registry prefix.
    Object(ObjectKey<'a>),
    /// `compact_rev_key`: the API server's record of its last compaction.
    CompactRevKey,
    /// Anything else (including `<prefix>/<resource>` with no name).
    Other,
}

impl<'a> KeyInfo<'a> {
    /// The object key, if this is one.
    pub fn object(&self) -> Option<&ObjectKey<'a>> {
        match self {
            Self::Object(o) => Some(o),
            _ => None,
        }
    }

    /// The object key, if this is one, by value.
    pub fn into_object(self) -> Option<ObjectKey<'a>> {
        match self {
            Self::Object(o) => Some(o),
            _ => None,
        }
    }
}

/// Parses a key under the default `/registry` prefix.
pub fn parse_key(key: &[u8]) -> KeyInfo<'_> {
    parse_key_with_prefix(key, DEFAULT_PREFIX)
}

/// Parses a key under `prefix` (the API server's `--etcd-prefix`; a trailing `/` is ignored).
pub fn parse_key_with_prefix<'a>(key: &'a [u8], prefix: &str) -> KeyInfo<'a> {
    if key == COMPACT_REV_KEY {
        return KeyInfo::CompactRevKey;
    }
    let prefix = prefix.trim_end_matches('/').as_bytes();
    let Some(rest) = key.strip_prefix(prefix).and_then(|r| r.strip_prefix(b"/")) else {
        return KeyInfo::Other;
    };
    let text = |s: &'a [u8]| String::from_utf8_lossy(s);
    let (first, mut tail) = split1(rest);

    // `<group>/<resource>/...` when the first segment looks like a DNS group name.
    let (group, mut resource) = match tail {
        Some(after_group) if first.contains(&b'.') => {
            let (second, after) = split1(after_group);
            tail = after;
            (Some(text(first)), second)
        }
        _ => (None, first),
    };
    if resource.is_empty() {
        return KeyInfo::Other;
    }

    // `services/specs`, `services/endpoints`: the resource spans two segments.
    if group.is_none()
        && let Some(after_resource) = tail
    {
        let (sub, after) = split1(after_resource);
        let spans_two = TWO_SEGMENT_RESOURCES
            .iter()
            .any(|(r, subs)| r.as_bytes() == resource && subs.iter().any(|s| s.as_bytes() == sub));
        if spans_two {
            // Both segments, borrowed from the key: `rest` starts with them.
            resource = rest
                .get(..resource.len() + 1 + sub.len())
                .unwrap_or(resource);
            tail = after;
        }
    }

    let Some(tail) = tail.filter(|t| !t.is_empty()) else {
        return KeyInfo::Other;
    };
    let cluster_scoped = CLUSTER_SCOPED.iter().any(|r| r.as_bytes() == resource);
    let (namespace, name) = match split1(tail) {
        (ns, Some(name)) if !cluster_scoped => (Some(text(ns)), name),
        _ => (None, tail),
    };
    // `[group/]resource` is contiguous at the start of `rest`.
    let id_len = group.as_ref().map_or(0, |_| first.len() + 1) + resource.len();
    let resource_id = text(rest.get(..id_len).unwrap_or(resource));
    KeyInfo::Object(ObjectKey {
        group,
        resource: text(resource),
        namespace,
        name: text(name),
        resource_id,
    })
}

/// Splits at the first `/`: the segment, and what follows the `/` if there was one.
fn split1(s: &[u8]) -> (&[u8], Option<&[u8]>) {
    match s.iter().position(|&c| c == b'/') {
        Some(i) => (s.get(..i).unwrap_or(s), s.get(i + 1..)),
        None => (s, None),
    }
}

/// The first `n` `/`-separated segments of a key, for grouping keys outside the registry
/// layout: `group_prefix(b"/registry/pods/ns/x", 2)` is `/registry/pods`. A leading `/` starts
/// the first segment; keys with fewer segments are returned whole; `n = 0` gives `""`.
pub fn group_prefix(key: &[u8], n: usize) -> Cow<'_, str> {
    if n == 0 {
        return Cow::Borrowed("");
    }
    let start = usize::from(key.first() == Some(&b'/'));
    let end = key
        .iter()
        .enumerate()
        .skip(start)
        .filter(|(_, c)| **c == b'/')
        .nth(n - 1)
        .map_or(key.len(), |(i, _)| i);
    String::from_utf8_lossy(key.get(..end).unwrap_or(key))
}

/// An owned key for reports: serializes as text when it is UTF-8, else as
/// `{"bytes_b64": "..."}`, so binary keys survive a JSON round trip.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct KeyBytes(pub Vec<u8>);

impl KeyBytes {
    /// The key as text, with U+FFFD for invalid UTF-8 (for tables).
    pub fn display(&self) -> Cow<'_, str> {
        String::from_utf8_lossy(&self.0)
    }
}

impl Serialize for KeyBytes {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        match std::str::from_utf8(&self.0) {
            Ok(text) => s.serialize_str(text),
            Err(_) => bytes_value(&self.0).serialize(s),
        }
    }
}
