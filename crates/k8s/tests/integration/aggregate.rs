//! The Stats and Audit builders, fed by hand.

use etcdsnap_k8s::{Audit, GroupBy, Stats, StatsReport};
use serde_json::json;

use crate::pb::{Msg, envelope};

fn pod(name: &str) -> Vec<u8> {
    envelope("v1", "Pod", Msg::new().msg(1, Msg::new().str(1, name)), "")
}

/// A little history: (kind of call, key, value or length).
fn feed(stats: &mut Stats) {
    stats.add_live(b"/registry/pods/a/p1", &pod("p1"));
    stats.add_live(b"/registry/pods/b/p2", &pod("p2"));
    stats.add_live(
        b"/registry/secrets/a/s1",
        b"k8s:enc:aescbc:v1:key1:0123456789",
    );
    stats.add_live(b"/registry/namespaces/a", &[b'x'; 100]);
    stats.add_live(b"compact_rev_key", b"42");
    stats.add_live(b"/other/thing", b"");
    stats.add_history(b"/registry/pods/a/p1", 50);
    stats.add_history(b"/registry/pods/a/p1", 40);
    stats.add_history(b"/registry/deployments/a/gone", 10);
    stats.add_tombstone(b"/registry/deployments/a/gone");
    stats.add_tombstone(b"/registry/pods/a/p0");
    stats.add_key_revisions(b"/registry/pods/a/p1", 3);
    stats.add_key_revisions(b"/registry/deployments/a/gone", 2);
    stats.add_key_revisions(b"/registry/pods/b/p2", 3);
    stats.add_key_revisions(b"/registry/pods/a/p0", 1);
}

fn report(by: GroupBy, top: usize) -> StatsReport {
    let mut s = Stats::new(by, top);
    feed(&mut s);
    s.finish()
}

#[test]
fn by_resource() {
    let r = report(GroupBy::Resource, 2);
    let names: Vec<&str> = r.groups.iter().map(|g| g.name.as_str()).collect();
    assert_eq!(
        names,
        [
            "namespaces",
            "pods",
            "secrets",
            "(compact_rev_key)",
            "/other",
            "deployments"
        ]
    );
    let pods = &r.groups[1].counts;
    let pod_bytes = (19 + pod("p1").len()) as u64 * 2;
    assert_eq!((pods.live_objects, pods.live_bytes), (2, pod_bytes));
    assert_eq!(
        (pods.history_revisions, pods.history_bytes, pods.tombstones),
        (2, 19 + 50 + 19 + 40, 1)
    );
    let dep = &r.groups[5].counts;
    assert_eq!(
        (dep.live_objects, dep.history_revisions, dep.tombstones),
        (0, 1, 1)
    );
    assert_eq!(r.total.live_objects, 6);
    assert_eq!(r.total.tombstones, 2);
    // Largest: the 100-byte namespace, then the secret.
    let largest: Vec<_> = r
        .largest_live
        .iter()
        .map(|k| (k.key.display().into_owned(), k.value))
        .collect();
    assert_eq!(
        largest,
        [
            ("/registry/namespaces/a".into(), 122),
            ("/registry/secrets/a/s1".into(), 55)
        ]
    );
    // Equal sizes rank by key.
    let r3 = report(GroupBy::Resource, 4);
    let third: Vec<_> = r3
        .largest_live
        .iter()
        .skip(2)
        .map(|k| k.key.display().into_owned())
        .collect();
    assert_eq!(third, ["/registry/pods/a/p1", "/registry/pods/b/p2"]);
    let most: Vec<_> = r
        .most_revisions
        .iter()
        .map(|k| (k.key.display().into_owned(), k.value))
        .collect();
    assert_eq!(
        most,
        [
            ("/registry/pods/a/p1".into(), 3),
            ("/registry/pods/b/p2".into(), 3)
        ]
    );
    let doc = serde_json::to_value(&r).unwrap();
    assert_eq!(doc["group_by"], "resource");
    assert_eq!(doc["groups"][1]["name"], "pods");
    assert_eq!(doc["groups"][1]["tombstones"], 1);
    assert_eq!(
        doc["most_revisions"][0],
        json!({"key": "/registry/pods/a/p1", "value": 3})
    );
}

#[test]
fn by_namespace_kind_prefix() {
    let ns = report(GroupBy::Namespace, 0);
    let names: Vec<&str> = ns.groups.iter().map(|g| g.name.as_str()).collect();
    assert_eq!(names, ["(cluster)", "a", "b", "(none)"]);
    assert_eq!(ns.groups[1].counts.tombstones, 2);
    assert!(ns.largest_live.is_empty());

    let kind = report(GroupBy::Kind, 0);
    let names: Vec<(&str, u64, u64)> = kind
        .groups
        .iter()
        .map(|g| {
            (
                g.name.as_str(),
                g.counts.live_objects,
                g.counts.history_revisions + g.counts.tombstones,
            )
        })
        .collect();
    assert_eq!(
        names,
        [
            ("(text)", 2, 0),
            ("Pod", 2, 3),
            ("(encrypted)", 1, 0),
            ("(empty)", 1, 0),
            ("(unknown: deployments)", 0, 2)
        ]
    );

    let prefix = report(GroupBy::Prefix(2), 0);
    let names: Vec<&str> = prefix.groups.iter().map(|g| g.name.as_str()).collect();
    assert_eq!(
        names,
        [
            "/registry/namespaces",
            "/registry/pods",
            "/registry/secrets",
            "compact_rev_key",
            "/other/thing",
            "/registry/deployments"
        ]
    );
    assert_eq!(prefix.group_by, "prefix:2");
}

#[test]
fn merge_equals_one_pass() {
    for by in [
        GroupBy::Resource,
        GroupBy::Kind,
        GroupBy::Namespace,
        GroupBy::Prefix(1),
    ] {
        let whole = report(by, 2);
        let (mut a, mut b) = (Stats::new(by, 2), Stats::new(by, 2));
        feed(&mut a);
        feed(&mut b);
        a.merge(b);
        let merged = a.finish();
        assert_eq!(merged.groups.len(), whole.groups.len());
        for (m, w) in merged.groups.iter().zip(&whole.groups) {
            assert_eq!(m.name, w.name);
            assert_eq!(m.counts.live_bytes, 2 * w.counts.live_bytes);
            assert_eq!(m.counts.tombstones, 2 * w.counts.tombstones);
        }
        assert_eq!(merged.largest_live.len(), 2);
    }
}

#[test]
fn audit_named_resources() {
    let mut audit = Audit::for_resources(["secrets", "configmaps"]);
    assert!(audit.add(b"/registry/secrets/a/enc", b"k8s:enc:aesgcm:v1:k2:xyz"));
    assert!(audit.add(b"/registry/secrets/a/enc2", b"k8s:enc:aesgcm:v1:k2:xyz"));
    assert!(audit.add(b"/registry/secrets/b/kms", b"k8s:enc:kms:v2:vault:xyz"));
    assert!(audit.add(b"/registry/configmaps/b/plain", &pod("x")));
    assert!(audit.add(b"/registry/secrets/a/plain", br#"{"kind":"Secret"}"#));
    assert!(audit.add(b"/registry/secrets/a/empty", b""));
    assert!(audit.add(b"/registry/secrets/a/junk", b"\xff\xfe"));
    assert!(!audit.add(b"/registry/pods/a/p", &pod("p")));
    assert!(!audit.add(b"compact_rev_key", b"1"));
    let r = audit.finish();
    assert_eq!(r.total, 7);
    assert_eq!(r.encrypted_count(), 3);
    let enc: Vec<_> = r
        .encrypted
        .iter()
        .map(|e| (e.provider.as_str(), e.key_name.as_str(), e.count))
        .collect();
    assert_eq!(enc, [("aesgcm", "k2", 2), ("kms", "vault", 1)]);
    let plain: Vec<_> = r
        .plaintext
        .iter()
        .map(|i| (i.resource.as_str(), i.namespaced_name(), i.class))
        .collect();
    assert_eq!(
        plain,
        [
            ("configmaps", "b/plain".into(), "protobuf"),
            ("secrets", "a/plain".into(), "json")
        ]
    );
    assert_eq!(r.plaintext_count(), 2);
    let other: Vec<_> = r.other.iter().map(|i| (i.name.as_str(), i.class)).collect();
    assert_eq!(other, [("empty", "empty"), ("junk", "binary")]);
    let doc = serde_json::to_value(&r).unwrap();
    assert_eq!(doc["plaintext"][0]["key"], "/registry/configmaps/b/plain");
}
