//! Objects encoded the way the API server encodes them, with Kubernetes' published field
//! numbers (core/v1, apps/v1 and meta/v1 generated.proto), decoded and checked field by field.

use std::collections::BTreeMap;

use etcdsnap_k8s::{
    DecodeOptions, Encoding, ManagedFields, ManagedFieldsEntry, ObjectMeta, OwnerReference, Time,
    ValueKind, classify, decode,
};
use serde_json::{Map, Value, json};

use crate::pb::{Msg, envelope, time};

const LAST_APPLIED: &str = "kubectl.kubernetes.io/last-applied-configuration";
const PROTOBUF: &str = "application/vnd.kubernetes.protobuf";

/// ObjectMeta as gogo writes it: fields 1..=8 always, 9/10 when set, then maps, lists.
#[derive(Default)]
struct Meta<'a> {
    name: &'a str,
    generate_name: &'a str,
    namespace: &'a str,
    self_link: &'a str,
    uid: &'a str,
    resource_version: &'a str,
    generation: i64,
    created: Option<i64>,
    deleted: Option<i64>,
    grace: Option<i64>,
    labels: &'a [(&'a str, &'a str)],
    annotations: &'a [(&'a str, &'a str)],
    owners: Vec<Msg>,
    finalizers: &'a [&'a str],
    /// Kubernetes < 1.25 wrote `clusterName` (15), always empty.
    cluster_name: bool,
    managed: Vec<Msg>,
}

impl Meta<'_> {
    fn encode(&self) -> Msg {
        let mut m = Msg::new()
            .str(1, self.name)
            .str(2, self.generate_name)
            .str(3, self.namespace)
            .str(4, self.self_link)
            .str(5, self.uid)
            .str(6, self.resource_version)
            .int(7, self.generation)
            .msg(8, time(self.created));
        if let Some(d) = self.deleted {
            m = m.msg(9, time(Some(d)));
        }
        if let Some(g) = self.grace {
            m = m.int(10, g);
        }
        m = m.strs(11, self.labels).strs(12, self.annotations);
        for o in &self.owners {
            m = m.msg(13, o.clone());
        }
        for f in self.finalizers {
            m = m.str(14, f);
        }
        if self.cluster_name {
            m = m.str(15, "");
        }
        for e in &self.managed {
            m = m.msg(17, e.clone());
        }
        m
    }
}

/// OwnerReference: kind = 1, name = 3, uid = 4, apiVersion = 5, controller = 6,
/// blockOwnerDeletion = 7 (the bools are pointers: written only when set).
fn owner(
    api: &str,
    kind: &str,
    name: &str,
    uid: &str,
    ctl: Option<bool>,
    block: Option<bool>,
) -> Msg {
    let mut m = Msg::new().str(1, kind).str(3, name).str(4, uid).str(5, api);
    if let Some(c) = ctl {
        m = m.bool(6, c);
    }
    if let Some(b) = block {
        m = m.bool(7, b);
    }
    m
}

/// ManagedFieldsEntry: manager = 1, operation = 2, apiVersion = 3, time = 4, fieldsType = 6,
/// fieldsV1 = 7 (FieldsV1{Raw = 1}), subresource = 8.
fn managed(manager: &str, op: &str, at: i64, fields: &str, sub: &str) -> Msg {
    Msg::new()
        .str(1, manager)
        .str(2, op)
        .str(3, "apps/v1")
        .msg(4, time(Some(at)))
        .str(6, "FieldsV1")
        .msg(7, Msg::new().str(1, fields))
        .str(8, sub)
}

fn t(seconds: i64) -> Option<Time> {
    Some(Time { seconds, nanos: 0 })
}

fn map(entries: &[(&str, &str)]) -> BTreeMap<String, String> {
    entries
        .iter()
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect()
}

fn decoded(value: &[u8]) -> etcdsnap_k8s::Object {
    decode(value, &DecodeOptions::default()).unwrap()
}

#[test]
fn pod() {
    let meta = Meta {
        name: "web-7d4b9c-x2x9z",
        generate_name: "web-7d4b9c-",
        namespace: "default",
        uid: "0b7c1f5e-3f7a-4f38-9b1e-2f0c6a1d9e01",
        created: Some(1_704_164_645),
        labels: &[("pod-template-hash", "7d4b9c"), ("app", "web")],
        owners: vec![owner(
            "apps/v1",
            "ReplicaSet",
            "web-7d4b9c",
            "6f1d2c3b-aaaa-4bbb-8ccc-123456789abc",
            Some(true),
            Some(true),
        )],
        managed: vec![managed(
            "kubelet",
            "Update",
            1_704_164_700,
            r#"{"f:status":{}}"#,
            "status",
        )],
        ..Meta::default()
    };
    let container = Msg::new().str(1, "web").str(2, "nginx:1.25").msg(
        6,
        Msg::new()
            .str(1, "")
            .int(2, 0)
            .int(3, 8080)
            .str(4, "TCP")
            .str(5, ""),
    );
    let spec = Msg::new()
        .msg(2, container)
        .str(3, "Always")
        .int(4, 30)
        .str(6, "ClusterFirst")
        .str(8, "default")
        .str(10, "node-1");
    let status = Msg::new()
        .str(1, "Running")
        .str(5, "192.168.1.10")
        .str(6, "10.244.1.7");
    let raw = Msg::new().msg(1, meta.encode()).msg(2, spec).msg(3, status);
    let value = envelope("v1", "Pod", raw, "");

    match classify(&value) {
        ValueKind::Protobuf { type_meta, .. } => {
            assert_eq!(
                (type_meta.api_version.as_ref(), type_meta.kind.as_ref()),
                ("v1", "Pod")
            )
        }
        other => panic!("{other:?}"),
    }
    let obj = decoded(&value);
    assert_eq!((obj.api_version.as_str(), obj.kind.as_str()), ("v1", "Pod"));
    assert_eq!(obj.encoding, Encoding::Protobuf);
    assert_eq!(
        (obj.content_type.as_str(), obj.content_encoding.as_str()),
        ("", "")
    );
    let entry_len = managed(
        "kubelet",
        "Update",
        1_704_164_700,
        r#"{"f:status":{}}"#,
        "status",
    )
    .0
    .len();
    assert_eq!(
        obj.metadata,
        ObjectMeta {
            name: "web-7d4b9c-x2x9z".into(),
            generate_name: "web-7d4b9c-".into(),
            namespace: "default".into(),
            uid: "0b7c1f5e-3f7a-4f38-9b1e-2f0c6a1d9e01".into(),
            creation_timestamp: t(1_704_164_645),
            labels: map(&[("app", "web"), ("pod-template-hash", "7d4b9c")]),
            owner_references: vec![OwnerReference {
                api_version: "apps/v1".into(),
                kind: "ReplicaSet".into(),
                name: "web-7d4b9c".into(),
                uid: "6f1d2c3b-aaaa-4bbb-8ccc-123456789abc".into(),
                controller: Some(true),
                block_owner_deletion: Some(true),
            }],
            managed_fields: ManagedFields {
                entries: vec![ManagedFieldsEntry {
                    manager: "kubelet".into(),
                    operation: "Update".into(),
                    api_version: "apps/v1".into(),
                    time: t(1_704_164_700),
                    fields_type: "FieldsV1".into(),
                    fields_v1_bytes: 15,
                    subresource: "status".into(),
                }],
                bytes: entry_len,
            },
            ..ObjectMeta::default()
        }
    );
    let doc = obj.to_document();
    assert_eq!(doc["metadata"]["creationTimestamp"], "2024-01-02T03:04:05Z");
    assert_eq!(doc["metadata"]["managedFields"]["count"], 1);
    assert_eq!(
        doc["metadata"]["managedFields"]["entries"][0]["time"],
        "2024-01-02T03:05:00Z"
    );
    let body = &doc["body"];
    assert_eq!(body["2"]["2"]["1"], "web");
    assert_eq!(body["2"]["2"]["2"], "nginx:1.25");
    assert_eq!(
        body["2"]["2"]["6"],
        json!({"1": "", "2": 0, "3": 8080, "4": "TCP", "5": ""})
    );
    assert_eq!(body["2"]["3"], "Always");
    assert_eq!(body["2"]["4"], 30);
    assert_eq!(body["2"]["10"], "node-1");
    assert_eq!(
        body["3"],
        json!({"1": "Running", "5": "192.168.1.10", "6": "10.244.1.7"})
    );
    let keys: Vec<&str> = doc
        .as_object()
        .unwrap()
        .keys()
        .map(String::as_str)
        .collect();
    assert_eq!(keys, ["apiVersion", "body", "encoding", "kind", "metadata"]);
}

#[test]
fn service() {
    let meta = Meta {
        name: "api",
        namespace: "prod",
        uid: "5e1b0a4c-1d2e-4f3a-8b9c-0d1e2f3a4b5c",
        created: Some(1_735_689_611),
        labels: &[("app", "api")],
        ..Meta::default()
    };
    // ServicePort: name 1, protocol 2, port 3, targetPort 4 (IntOrString: type 1, intVal 2,
    // strVal 3), nodePort 5.
    let port = Msg::new()
        .str(1, "http")
        .str(2, "TCP")
        .int(3, 80)
        .msg(4, Msg::new().int(1, 0).int(2, 8080).str(3, ""))
        .int(5, 0);
    let spec = Msg::new()
        .msg(1, port)
        .strs(2, &[("app", "api")])
        .str(3, "10.96.12.34")
        .str(4, "ClusterIP")
        .str(7, "None")
        .str(19, "IPv4")
        .str(20, "10.96.12.34");
    let status = Msg::new().msg(1, Msg::new());
    let raw = Msg::new().msg(1, meta.encode()).msg(2, spec).msg(3, status);
    let obj = decoded(&envelope("v1", "Service", raw, ""));
    assert_eq!(obj.kind, "Service");
    assert_eq!(obj.metadata.name, "api");
    assert_eq!(obj.metadata.namespace, "prod");
    assert_eq!(obj.metadata.uid, "5e1b0a4c-1d2e-4f3a-8b9c-0d1e2f3a4b5c");
    assert_eq!(obj.metadata.creation_timestamp, t(1_735_689_611));
    assert_eq!(obj.metadata.labels, map(&[("app", "api")]));
    assert!(obj.metadata.owner_references.is_empty() && obj.metadata.managed_fields.is_empty());
    assert!(obj.metadata.extra.is_empty(), "{:?}", obj.metadata.extra);
    let spec = &obj.body["2"];
    assert_eq!(
        spec["1"],
        json!({"1": "http", "2": "TCP", "3": 80, "4": {"1": 0, "2": 8080, "3": ""}, "5": 0})
    );
    assert_eq!(spec["2"], json!({"1": "app", "2": "api"}));
    assert_eq!(spec["3"], "10.96.12.34");
    assert_eq!(spec["4"], "ClusterIP");
    assert_eq!(spec["20"], "10.96.12.34");
    assert_eq!(obj.body["3"], json!({"1": ""}));
}

#[test]
fn configmap_with_last_applied_and_binary_data() {
    let applied = r#"{"apiVersion":"v1","data":{"LOG_LEVEL":"debug"},"kind":"ConfigMap","metadata":{"annotations":{},"name":"cfg","namespace":"default"}}"#;
    let meta = Meta {
        name: "cfg",
        namespace: "default",
        uid: "11111111-2222-4333-8444-555555555555",
        created: Some(1_700_000_000),
        annotations: &[(LAST_APPLIED, applied)],
        managed: vec![managed(
            "kubectl-client-side-apply",
            "Update",
            1_700_000_000,
            "{}",
            "",
        )],
        ..Meta::default()
    };
    let png: &[u8] = &[0x89, b'P', b'N', b'G', 0x0d, 0x0a, 0x1a, 0x0a, 0x00, 0xff];
    let raw = Msg::new()
        .msg(1, meta.encode())
        .map(
            2,
            &[("LOG_LEVEL", b"debug"), ("app.properties", b"a=1\nb=2\n")],
        )
        .map(3, &[("logo.png", png)])
        .bool(4, true);
    let obj = decoded(&envelope("v1", "ConfigMap", raw, ""));
    assert_eq!(obj.metadata.annotations, map(&[(LAST_APPLIED, applied)]));
    assert_eq!(
        obj.metadata.last_applied.as_ref(),
        Some(&serde_json::from_str::<Value>(applied).unwrap())
    );
    assert_eq!(obj.metadata.managed_fields.count(), 1);
    assert_eq!(obj.metadata.managed_fields.entries[0].subresource, "");
    assert_eq!(
        obj.body["2"],
        json!([{"1": "LOG_LEVEL", "2": "debug"}, {"1": "app.properties", "2": "a=1\nb=2\n"}])
    );
    assert_eq!(
        obj.body["3"],
        json!({"1": "logo.png", "2": {"bytes_b64": "iVBORw0KGgoA/w=="}})
    );
    assert_eq!(obj.body["4"], 1);
    assert_eq!(
        obj.to_document()["metadata"]["lastAppliedConfiguration"]["data"]["LOG_LEVEL"],
        "debug"
    );
}

fn secret_value() -> Vec<u8> {
    let applied = r#"{"apiVersion":"v1","data":{"password":"aHVudGVyMg=="},"kind":"Secret","metadata":{"name":"db","namespace":"prod"}}"#;
    let meta = Meta {
        name: "db",
        namespace: "prod",
        uid: "aaaaaaaa-bbbb-4ccc-8ddd-eeeeeeeeeeee",
        created: Some(1_700_000_100),
        annotations: &[(LAST_APPLIED, applied)],
        ..Meta::default()
    };
    let der: &[u8] = &[0x30, 0x82, 0x01, 0x0a, 0xff];
    let raw = Msg::new()
        .msg(1, meta.encode())
        .map(2, &[("password", b"hunter2"), ("tls.key", der)])
        .str(3, "Opaque")
        .map(4, &[("note", b"also-secret")])
        .bool(5, true);
    envelope("v1", "Secret", raw, PROTOBUF)
}

#[test]
fn secret_is_redacted_by_default() {
    let obj = decoded(&secret_value());
    assert!(obj.is_secret());
    let redacted = |n: usize| json!({"redacted": true, "size": n});
    assert_eq!(
        obj.body["2"],
        json!({"password": redacted(7), "tls.key": redacted(5)})
    );
    assert_eq!(obj.body["3"], "Opaque");
    assert_eq!(obj.body["4"], json!({"note": redacted(11)}));
    assert_eq!(obj.body["5"], 1);
    assert_eq!(obj.content_type, PROTOBUF);
    let text = obj.to_document().to_string();
    for leak in ["hunter2", "aHVudGVyMg", "also-secret"] {
        assert!(!text.contains(leak), "{leak} in {text}");
    }
    let applied = &obj.metadata.last_applied.as_ref().unwrap()["data"]["password"];
    assert_eq!(applied, &redacted(7));
}

#[test]
fn secret_shown_on_request() {
    let obj = decode(&secret_value(), &DecodeOptions { show_secrets: true }).unwrap();
    assert_eq!(
        obj.body["2"],
        json!({"password": "hunter2", "tls.key": {"bytes_b64": "MIIBCv8="}})
    );
    assert_eq!(obj.body["4"], json!({"note": "also-secret"}));
    assert!(obj.metadata.annotations[LAST_APPLIED].contains("aHVudGVyMg=="));
}

#[test]
fn deployment_every_metadata_field() {
    let applied = r#"{"apiVersion":"apps/v1","kind":"Deployment","metadata":{"name":"api","namespace":"prod"},"spec":{"replicas":3}}"#;
    let apply_fields = r#"{"f:spec":{"f:replicas":{}}}"#;
    let status_fields = r#"{"f:status":{"f:replicas":{}}}"#;
    let entries = vec![
        managed("kubectl", "Apply", 1_704_164_645, apply_fields, ""),
        managed(
            "kube-controller-manager",
            "Update",
            1_704_164_999,
            status_fields,
            "status",
        ),
    ];
    let entries_len: usize = entries.iter().map(|e| e.0.len()).sum();
    let meta = Meta {
        name: "api",
        generate_name: "api-",
        namespace: "prod",
        self_link: "/apis/apps/v1/namespaces/prod/deployments/api",
        uid: "9f0e8d7c-6b5a-4948-8372-615049382716",
        resource_version: "123456",
        generation: 7,
        created: Some(1_704_164_645),
        deleted: Some(1_704_165_000),
        grace: Some(30),
        labels: &[("app", "api"), ("tier", "backend")],
        annotations: &[
            ("deployment.kubernetes.io/revision", "3"),
            (LAST_APPLIED, applied),
        ],
        owners: vec![
            owner(
                "example.com/v1",
                "App",
                "api-app",
                "12345678-1234-4234-8234-123456789012",
                Some(true),
                Some(true),
            ),
            owner(
                "v1",
                "ConfigMap",
                "api-owner",
                "87654321-4321-4321-8321-210987654321",
                None,
                None,
            ),
        ],
        finalizers: &["foregroundDeletion", "example.com/cleanup"],
        cluster_name: true,
        managed: entries,
    };
    let spec = Msg::new()
        .int(1, 3)
        .msg(2, Msg::new().strs(1, &[("app", "api")]))
        .msg(
            3,
            Msg::new()
                .msg(
                    1,
                    Meta {
                        labels: &[("app", "api")],
                        ..Meta::default()
                    }
                    .encode(),
                )
                .msg(
                    2,
                    Msg::new().msg(2, Msg::new().str(1, "api").str(2, "api:2.0")),
                ),
        )
        .msg(4, Msg::new().str(1, "RollingUpdate"))
        .int(6, 10);
    let status = Msg::new().int(1, 7).int(2, 3).int(3, 3).int(4, 3);
    let raw = Msg::new().msg(1, meta.encode()).msg(2, spec).msg(3, status);
    let value = envelope("apps/v1", "Deployment", raw, PROTOBUF);
    let obj = decoded(&value);

    assert_eq!(
        (obj.api_version.as_str(), obj.kind.as_str()),
        ("apps/v1", "Deployment")
    );
    assert_eq!(obj.content_type, PROTOBUF);
    let mut extra = Map::new();
    extra.insert("15".into(), json!(""));
    let expected = ObjectMeta {
        name: "api".into(),
        generate_name: "api-".into(),
        namespace: "prod".into(),
        self_link: "/apis/apps/v1/namespaces/prod/deployments/api".into(),
        uid: "9f0e8d7c-6b5a-4948-8372-615049382716".into(),
        resource_version: "123456".into(),
        generation: 7,
        creation_timestamp: t(1_704_164_645),
        deletion_timestamp: t(1_704_165_000),
        deletion_grace_period_seconds: Some(30),
        labels: map(&[("app", "api"), ("tier", "backend")]),
        annotations: map(&[
            ("deployment.kubernetes.io/revision", "3"),
            (LAST_APPLIED, applied),
        ]),
        owner_references: vec![
            OwnerReference {
                api_version: "example.com/v1".into(),
                kind: "App".into(),
                name: "api-app".into(),
                uid: "12345678-1234-4234-8234-123456789012".into(),
                controller: Some(true),
                block_owner_deletion: Some(true),
            },
            OwnerReference {
                api_version: "v1".into(),
                kind: "ConfigMap".into(),
                name: "api-owner".into(),
                uid: "87654321-4321-4321-8321-210987654321".into(),
                controller: None,
                block_owner_deletion: None,
            },
        ],
        finalizers: vec!["foregroundDeletion".into(), "example.com/cleanup".into()],
        managed_fields: ManagedFields {
            entries: vec![
                ManagedFieldsEntry {
                    manager: "kubectl".into(),
                    operation: "Apply".into(),
                    api_version: "apps/v1".into(),
                    time: t(1_704_164_645),
                    fields_type: "FieldsV1".into(),
                    fields_v1_bytes: apply_fields.len(),
                    subresource: String::new(),
                },
                ManagedFieldsEntry {
                    manager: "kube-controller-manager".into(),
                    operation: "Update".into(),
                    api_version: "apps/v1".into(),
                    time: t(1_704_164_999),
                    fields_type: "FieldsV1".into(),
                    fields_v1_bytes: status_fields.len(),
                    subresource: "status".into(),
                },
            ],
            bytes: entries_len,
        },
        last_applied: Some(serde_json::from_str(applied).unwrap()),
        extra,
    };
    assert_eq!(obj.metadata, expected);
    assert_eq!(obj.metadata.owner().unwrap().name, "api-app");

    let doc = obj.to_document();
    let m = &doc["metadata"];
    assert_eq!(m["deletionTimestamp"], "2024-01-02T03:10:00Z");
    assert_eq!(m["deletionGracePeriodSeconds"], 30);
    assert_eq!(m["generation"], 7);
    assert_eq!(
        m["ownerReferences"][1],
        json!({"apiVersion": "v1", "kind": "ConfigMap", "name": "api-owner", "uid": "87654321-4321-4321-8321-210987654321"})
    );
    assert_eq!(m["managedFields"]["bytes"], entries_len);
    let body = &doc["body"];
    assert_eq!(body["2"]["1"], 3);
    assert_eq!(body["2"]["2"], json!({"1": {"1": "app", "2": "api"}}));
    // The pod template's ObjectMeta is body, not metadata: shown schema-less (zero Time = "").
    assert_eq!(body["2"]["3"]["1"]["11"], json!({"1": "app", "2": "api"}));
    assert_eq!(body["2"]["3"]["1"]["8"], "");
    assert_eq!(
        body["2"]["3"]["2"]["2"],
        json!({"1": "api", "2": "api:2.0"})
    );
    // "\n\rRollingUpdate" is printable, yet a message of one string: shown as the message.
    assert_eq!(body["2"]["4"], json!({"1": "RollingUpdate"}));
    assert_eq!(body["2"]["6"], 10);
    assert_eq!(body["3"], json!({"1": 7, "2": 3, "3": 3, "4": 3}));
}

#[test]
fn zero_creation_timestamp_is_null() {
    let raw = Msg::new().msg(
        1,
        Meta {
            name: "x",
            ..Meta::default()
        }
        .encode(),
    );
    let obj = decoded(&envelope("v1", "ConfigMap", raw, ""));
    assert_eq!(obj.metadata.creation_timestamp, None);
    assert_eq!(
        obj.to_document()["metadata"]["creationTimestamp"],
        Value::Null
    );
}

#[test]
fn json_custom_resource() {
    let v = br#"{"apiVersion":"example.com/v1","kind":"Widget","metadata":{"name":"gizmo","namespace":"prod","uid":"u-1","creationTimestamp":"2025-01-01T00:04:10Z","generation":3,"labels":{"a":"b"},"ownerReferences":[{"apiVersion":"v1","kind":"ConfigMap","name":"o","uid":"u-2","controller":true}],"finalizers":["f"],"selfLink":null,"managedFields":[{"manager":"m","operation":"Apply","apiVersion":"example.com/v1","time":"2025-01-01T00:04:10Z","fieldsType":"FieldsV1","fieldsV1":{"f:spec":{}}}],"namespace2":1},"spec":{"color":"teal"}}"#;
    let obj = decoded(v);
    assert_eq!(obj.encoding, Encoding::Json);
    assert_eq!(
        (obj.api_version.as_str(), obj.kind.as_str()),
        ("example.com/v1", "Widget")
    );
    let m = &obj.metadata;
    assert_eq!(
        (m.name.as_str(), m.namespace.as_str(), m.uid.as_str()),
        ("gizmo", "prod", "u-1")
    );
    assert_eq!(m.creation_timestamp, t(1_735_689_850));
    assert_eq!(m.generation, 3);
    assert_eq!(m.labels, map(&[("a", "b")]));
    assert_eq!(m.owner().unwrap().controller, Some(true));
    assert_eq!(m.finalizers, ["f"]);
    assert_eq!(m.managed_fields.count(), 1);
    assert_eq!(
        m.managed_fields.entries[0].fields_v1_bytes,
        r#"{"f:spec":{}}"#.len()
    );
    assert_eq!(m.extra.get("namespace2"), Some(&json!(1)));
    assert!(!m.extra.contains_key("selfLink"), "null is absent");
    assert_eq!(
        Value::Object(obj.body.clone()),
        json!({"spec": {"color": "teal"}})
    );
}

#[test]
fn non_objects_are_typed_errors() {
    use etcdsnap_k8s::DecodeError;
    let opts = DecodeOptions::default();
    assert!(matches!(
        decode(b"", &opts),
        Err(DecodeError::NotAnObject("empty"))
    ));
    assert!(matches!(
        decode(b"149", &opts),
        Err(DecodeError::NotAnObject("text"))
    ));
    assert!(matches!(
        decode(b"\xff\x00", &opts),
        Err(DecodeError::NotAnObject("binary"))
    ));
    let enc = decode(b"k8s:enc:aescbc:v1:key1:\x01\x02", &opts).unwrap_err();
    assert!(
        matches!(&enc, DecodeError::Encrypted(l) if l == "aescbc:v1:key1"),
        "{enc}"
    );
    assert!(matches!(
        decode(b"k8s\0\x0a\x05", &opts),
        Err(DecodeError::Envelope(_))
    ));
    let bad_raw = envelope("v1", "Pod", Msg(vec![0x0a, 0x05]), "");
    assert!(matches!(
        decode(&bad_raw, &opts),
        Err(DecodeError::Object(_))
    ));
    let bad_meta = envelope(
        "v1",
        "Pod",
        Msg::new().msg(1, Msg(vec![0x5a, 0x02, 0x0a, 0x05])),
        "",
    );
    let err = decode(&bad_meta, &opts).unwrap_err();
    assert!(
        matches!(
            err,
            DecodeError::Metadata {
                field: "labels",
                ..
            }
        ),
        "{err}"
    );
    assert!(
        err.to_string()
            .starts_with("Malformed ObjectMeta field labels"),
        "{err}"
    );
    assert!(matches!(
        decode(b"{\"a\":", &opts),
        Err(DecodeError::Json(_))
    ));
    assert!(decode(b"{}", &opts).is_ok());
}
