//! Key parsing, as a table.

use etcdsnap_k8s::{KeyInfo, group_prefix, parse_key, parse_key_with_prefix};

/// (key, resource id, namespace, name), or `None` for keys that are not objects.
type Row = (
    &'static [u8],
    Option<(&'static str, Option<&'static str>, &'static str)>,
);

const TABLE: &[Row] = &[
    (
        b"/registry/pods/default/web-1",
        Some(("pods", Some("default"), "web-1")),
    ),
    (
        b"/registry/configmaps/kube-system/coredns",
        Some(("configmaps", Some("kube-system"), "coredns")),
    ),
    (
        b"/registry/namespaces/default",
        Some(("namespaces", None, "default")),
    ),
    (
        b"/registry/minions/worker-0",
        Some(("minions", None, "worker-0")),
    ),
    (
        b"/registry/nodes/worker-0",
        Some(("nodes", None, "worker-0")),
    ),
    (
        b"/registry/persistentvolumes/pv-1",
        Some(("persistentvolumes", None, "pv-1")),
    ),
    (
        b"/registry/clusterroles/admin",
        Some(("clusterroles", None, "admin")),
    ),
    (
        b"/registry/clusterrolebindings/cluster-admin",
        Some(("clusterrolebindings", None, "cluster-admin")),
    ),
    (
        b"/registry/storageclasses/standard",
        Some(("storageclasses", None, "standard")),
    ),
    (
        b"/registry/priorityclasses/system-node-critical",
        Some(("priorityclasses", None, "system-node-critical")),
    ),
    (
        b"/registry/validatingwebhookconfigurations/v",
        Some(("validatingwebhookconfigurations", None, "v")),
    ),
    (
        b"/registry/mutatingwebhookconfigurations/m",
        Some(("mutatingwebhookconfigurations", None, "m")),
    ),
    (
        b"/registry/csinodes/worker-0",
        Some(("csinodes", None, "worker-0")),
    ),
    (
        b"/registry/csidrivers/ebs.csi.aws.com",
        Some(("csidrivers", None, "ebs.csi.aws.com")),
    ),
    (
        b"/registry/runtimeclasses/gvisor",
        Some(("runtimeclasses", None, "gvisor")),
    ),
    (
        b"/registry/ingressclasses/nginx",
        Some(("ingressclasses", None, "nginx")),
    ),
    (
        b"/registry/certificatesigningrequests/csr-abc",
        Some(("certificatesigningrequests", None, "csr-abc")),
    ),
    (
        b"/registry/volumeattachments/csi-123",
        Some(("volumeattachments", None, "csi-123")),
    ),
    (
        b"/registry/services/specs/default/kubernetes",
        Some(("services/specs", Some("default"), "kubernetes")),
    ),
    (
        b"/registry/services/endpoints/default/kubernetes",
        Some(("services/endpoints", Some("default"), "kubernetes")),
    ),
    (
        b"/registry/masterleases/10.0.0.1",
        Some(("masterleases", None, "10.0.0.1")),
    ),
    (
        b"/registry/ranges/serviceips",
        Some(("ranges", None, "serviceips")),
    ),
    (
        b"/registry/ranges/servicenodeports",
        Some(("ranges", None, "servicenodeports")),
    ),
    (
        b"/registry/apiextensions.k8s.io/customresourcedefinitions/widgets.example.com",
        Some((
            "apiextensions.k8s.io/customresourcedefinitions",
            None,
            "widgets.example.com",
        )),
    ),
    (
        b"/registry/apiregistration.k8s.io/apiservices/v1.apps",
        Some(("apiregistration.k8s.io/apiservices", None, "v1.apps")),
    ),
    (
        b"/registry/example.com/widgets/prod/gizmo",
        Some(("example.com/widgets", Some("prod"), "gizmo")),
    ),
    // A custom resource of unknown scope: decided by the number of segments.
    (
        b"/registry/example.com/clusterwidgets/big",
        Some(("example.com/clusterwidgets", None, "big")),
    ),
    (
        b"/registry/deployments/prod/api",
        Some(("deployments", Some("prod"), "api")),
    ),
    (
        b"/registry/leases/kube-node-lease/worker-0",
        Some(("leases", Some("kube-node-lease"), "worker-0")),
    ),
    (b"/registry/widgets/a", Some(("widgets", None, "a"))),
    (b"/registry/pods/ns/a/b", Some(("pods", Some("ns"), "a/b"))),
    (
        b"/registry/namespaces/a/b",
        Some(("namespaces", None, "a/b")),
    ),
    (
        b"/registry/services/other/ns/x",
        Some(("services", Some("other"), "ns/x")),
    ),
    (b"/registry/pods", None),
    (b"/registry/pods/", None),
    (b"/registry/", None),
    (b"/registry", None),
    (b"/registryx/pods/a/b", None),
    (b"/big/00", None),
    (b"\x00\xffbinary-key\x01", None),
    (b"", None),
];

#[test]
fn table() {
    for (key, want) in TABLE {
        let got = parse_key(key);
        let shown = String::from_utf8_lossy(key);
        match (want, &got) {
            (Some((id, ns, name)), KeyInfo::Object(o)) => {
                assert_eq!(o.resource_id, *id, "{shown}");
                assert_eq!(o.namespace.as_deref(), *ns, "{shown}");
                assert_eq!(o.name, *name, "{shown}");
            }
            (None, KeyInfo::Other) => {}
            _ => panic!("{shown}: want {want:?}, got {got:?}"),
        }
    }
}

#[test]
fn groups_and_resources() {
    let KeyInfo::Object(o) = parse_key(b"/registry/example.com/widgets/prod/gizmo") else {
        panic!()
    };
    assert_eq!(
        (o.group.as_deref(), o.resource.as_ref()),
        (Some("example.com"), "widgets")
    );
    assert_eq!(o.namespaced_name(), "prod/gizmo");
    let KeyInfo::Object(o) = parse_key(b"/registry/services/specs/default/api") else {
        panic!()
    };
    assert_eq!((o.group, o.resource.as_ref()), (None, "services/specs"));
}

#[test]
fn special_keys() {
    assert_eq!(parse_key(b"compact_rev_key"), KeyInfo::CompactRevKey);
    assert_eq!(parse_key(b"compact_rev_key2"), KeyInfo::Other);
    let custom = parse_key_with_prefix(b"/kubernetes.io/pods/ns/p", "/kubernetes.io/");
    assert_eq!(
        custom.object().map(|o| o.namespaced_name()),
        Some("ns/p".into())
    );
    assert_eq!(
        parse_key_with_prefix(b"/registry/pods/ns/p", "/kubernetes.io"),
        KeyInfo::Other
    );
}

#[test]
fn non_utf8_keys_do_not_fail() {
    let KeyInfo::Object(o) = parse_key(b"/registry/pods/n\xffs/p\xfe") else {
        panic!()
    };
    assert_eq!(o.namespace.as_deref(), Some("n\u{fffd}s"));
    assert_eq!(o.name, "p\u{fffd}");
    assert_eq!(group_prefix(b"\xff/a/b", 1), "\u{fffd}");
}

#[test]
fn prefixes() {
    let k = b"/registry/pods/ns/name";
    assert_eq!(group_prefix(k, 0), "");
    assert_eq!(group_prefix(k, 1), "/registry");
    assert_eq!(group_prefix(k, 2), "/registry/pods");
    assert_eq!(group_prefix(k, 3), "/registry/pods/ns");
    assert_eq!(group_prefix(k, 4), "/registry/pods/ns/name");
    assert_eq!(group_prefix(k, 9), "/registry/pods/ns/name");
    assert_eq!(group_prefix(b"compact_rev_key", 1), "compact_rev_key");
    assert_eq!(group_prefix(b"a/b/c", 2), "a/b");
    assert_eq!(group_prefix(b"/", 1), "/");
    assert_eq!(group_prefix(b"", 3), "");
}
