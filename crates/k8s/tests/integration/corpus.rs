//! The conformance corpus: objects written by Kubernetes' own generated protobuf classes
//! (h5-k8s) and synthetic envelopes (h1, h2a), checked against what was written.

use std::collections::BTreeMap;

use etcdsnap_k8s::{
    Audit, DecodeError, DecodeOptions, GroupBy, KeyInfo, Stats, ValueKind, classify, decode,
    parse_key,
};
use serde_json::Value;

use crate::pb::{data, listing, strings};

fn expect() -> Value {
    serde_json::from_str(&data("h5-k8s.expect.json")).unwrap()
}

#[test]
fn every_h5_value_classifies_and_decodes() {
    let mut classes = BTreeMap::<&str, usize>::new();
    for kv in listing("h5-k8s.get.head.json") {
        let key = String::from_utf8_lossy(&kv.key);
        let kind = classify(&kv.value);
        *classes.entry(kind.class()).or_default() += 1;
        let result = decode(&kv.value, &DecodeOptions::default());
        match kind {
            ValueKind::Protobuf { .. } | ValueKind::Json { .. } => {
                let obj = result.unwrap_or_else(|e| panic!("{key}: {e}"));
                assert_eq!(
                    Some(obj.kind.as_str()),
                    kind.type_meta().map(|t| t.kind.as_ref())
                );
            }
            ValueKind::Encrypted(_) => assert!(matches!(result, Err(DecodeError::Encrypted(_)))),
            ValueKind::Text => assert_eq!(kv.key, b"compact_rev_key"),
            other => panic!("{key}: unexpected {other:?}"),
        }
    }
    let expected = BTreeMap::from([
        ("encrypted", 11),
        ("json", 1),
        ("protobuf", 109),
        ("text", 1),
    ]);
    assert_eq!(classes, expected);
}

#[test]
fn h5_objects_match_what_was_written() {
    let expect = expect();
    let objects = expect["objects"].as_object().unwrap();
    let values: BTreeMap<Vec<u8>, Vec<u8>> = listing("h5-k8s.get.head.json")
        .into_iter()
        .map(|kv| (kv.key, kv.value))
        .collect();
    assert_eq!(objects.len(), 110);
    for (key, want) in objects {
        let value = values
            .get(key.as_bytes())
            .unwrap_or_else(|| panic!("{key} not in listing"));
        let obj = decode(value, &DecodeOptions::default()).unwrap_or_else(|e| panic!("{key}: {e}"));
        let m = &obj.metadata;
        let s = |field: &str| want[field].as_str().unwrap().to_owned();
        assert_eq!(obj.kind, s("kind"), "{key}");
        assert_eq!(m.name, s("name"), "{key}");
        assert_eq!(m.namespace, s("namespace"), "{key}");
        assert_eq!(m.uid, s("uid"), "{key}");
        let created = m.creation_timestamp.and_then(|t| t.to_rfc3339());
        assert_eq!(created, Some(s("created")), "{key}");
        let labels: BTreeMap<String, String> =
            serde_json::from_value(want["labels"].clone()).unwrap();
        assert_eq!(m.labels, labels, "{key}");
        assert_eq!(
            m.owner().map_or("", |o| o.name.as_str()),
            s("owner"),
            "{key}"
        );
        let finalizers: Vec<String> = serde_json::from_value(want["finalizers"].clone()).unwrap();
        assert_eq!(m.finalizers, finalizers, "{key}");
        assert_eq!(
            m.managed_fields.count() as u64,
            want["managed_fields"].as_u64().unwrap(),
            "{key}"
        );
        let body = Value::Object(obj.body.clone());
        let leaves = strings(&body);
        for wanted in want["strings"].as_array().unwrap() {
            let wanted = wanted.as_str().unwrap();
            assert!(
                leaves.iter().any(|l| l.contains(wanted)),
                "{key}: {wanted:?} not in {body}"
            );
        }
        // The key says the same as the metadata.
        let KeyInfo::Object(k) = parse_key(key.as_bytes()) else {
            panic!("{key}")
        };
        assert_eq!(k.name, m.name, "{key}");
        assert_eq!(k.namespace.as_deref().unwrap_or(""), m.namespace, "{key}");
    }
}

#[test]
fn h5_pod_details() {
    let values: BTreeMap<Vec<u8>, Vec<u8>> = listing("h5-k8s.get.head.json")
        .into_iter()
        .map(|kv| (kv.key, kv.value))
        .collect();
    let pod = &values[&b"/registry/pods/default/api-606a3d2c-507623".to_vec()];
    let obj = decode(pod, &DecodeOptions::default()).unwrap();
    let m = &obj.metadata;
    assert_eq!(m.generate_name, "api-606a3d2c-");
    let owner = m.owner().unwrap();
    assert_eq!(
        (
            owner.api_version.as_str(),
            owner.kind.as_str(),
            owner.controller,
            owner.block_owner_deletion
        ),
        ("apps/v1", "ReplicaSet", Some(true), Some(true))
    );
    assert_eq!(owner.uid, "cd914d4d-ff4c-4c64-a72d-074ebb0533d0");
    let managers: Vec<(&str, &str)> = m
        .managed_fields
        .entries
        .iter()
        .map(|e| (e.manager.as_str(), e.operation.as_str()))
        .collect();
    assert_eq!(
        managers,
        [("kube-controller-manager", "Update"), ("kubelet", "Update")]
    );
    assert_eq!(
        m.managed_fields.entries[1]
            .time
            .unwrap()
            .to_rfc3339()
            .unwrap(),
        "2025-01-01T00:00:16Z"
    );

    let cm = &values[&b"/registry/configmaps/default/api-config".to_vec()];
    let obj = decode(cm, &DecodeOptions::default()).unwrap();
    let applied = obj
        .metadata
        .last_applied
        .as_ref()
        .expect("last-applied parsed");
    assert_eq!(applied["kind"], "ConfigMap");
    assert_eq!(applied["metadata"]["name"], "api-config");

    // A Node's spec ("\n\r10.244.0.0/24") is printable, but shown as the message it is.
    let node = &values[&b"/registry/minions/worker-0".to_vec()];
    let obj = decode(node, &DecodeOptions::default()).unwrap();
    assert_eq!(obj.body["2"], serde_json::json!({"1": "10.244.0.0/24"}));
}

#[test]
fn h5_secrets_audit() {
    let expect = expect();
    let kvs = listing("h5-k8s.get.head.json");
    let mut audit = Audit::new();
    for kv in &kvs {
        audit.add(&kv.key, &kv.value);
    }
    let report = audit.finish();
    let plaintext: Vec<String> = report
        .plaintext
        .iter()
        .map(|i| i.namespaced_name())
        .collect();
    let want: Vec<String> = serde_json::from_value(expect["plaintext_secrets"].clone()).unwrap();
    assert_eq!(plaintext, want);
    assert_eq!(report.plaintext_count(), 4);
    assert!(report.other.is_empty());
    assert_eq!(report.total, 15);

    // Per secret: the provider, version and key name written.
    let encrypted = expect["encrypted_secrets"].as_object().unwrap();
    for kv in &kvs {
        let Some(o) = parse_key(&kv.key).into_object() else {
            continue;
        };
        if o.resource != "secrets" {
            continue;
        }
        let name = o.namespaced_name();
        match (classify(&kv.value), encrypted.get(&name)) {
            (ValueKind::Encrypted(e), Some(want)) => {
                assert_eq!(e.label(), want.as_str().unwrap());
                // The corpus' KMS v2 ciphertexts are random bytes, not an EncryptedObject.
                assert_eq!(e.kms_v2_key_id(), None);
            }
            (ValueKind::Protobuf { .. }, None) => assert!(want.contains(&name)),
            (kind, want) => panic!("{name}: {kind:?} vs {want:?}"),
        }
    }
    let counts: Vec<(String, u64)> = report
        .encrypted
        .iter()
        .map(|e| {
            (
                format!("{}:{}:{}", e.provider, e.version, e.key_name),
                e.count,
            )
        })
        .collect();
    assert_eq!(
        counts,
        [
            ("aescbc:v1:key1".to_owned(), 7),
            ("kms:v2:vault".to_owned(), 4)
        ]
    );

    // The plaintext Secrets' values never show unless asked for.
    let marker = expect["secret_marker"].as_str().unwrap();
    for kv in &kvs {
        if !matches!(classify(&kv.value), ValueKind::Protobuf { .. })
            || !kv.key.starts_with(b"/registry/secrets/")
        {
            continue;
        }
        let hidden = decode(&kv.value, &DecodeOptions::default())
            .unwrap()
            .to_document()
            .to_string();
        assert!(!hidden.contains(marker), "{hidden}");
        let shown = decode(&kv.value, &DecodeOptions { show_secrets: true }).unwrap();
        assert!(shown.to_document().to_string().contains(marker));
    }
}

#[test]
fn h5_live_counts_by_resource() {
    let expect = expect();
    let mut stats = Stats::new(GroupBy::Resource, 3);
    for kv in listing("h5-k8s.get.head.json") {
        stats.add_live(&kv.key, &kv.value);
    }
    let report = stats.finish();
    let got: BTreeMap<String, u64> = report
        .groups
        .iter()
        .filter(|g| !g.name.starts_with('('))
        .map(|g| (g.name.clone(), g.counts.live_objects))
        .collect();
    let want: BTreeMap<String, u64> = serde_json::from_value(expect["live"].clone()).unwrap();
    assert_eq!(got, want);
    assert_eq!(report.total.live_objects, 122);
    assert_eq!(report.largest_live.len(), 3);

    let mut by_kind = Stats::new(GroupBy::Kind, 0);
    for kv in listing("h5-k8s.get.head.json") {
        by_kind.add_live(&kv.key, &kv.value);
    }
    let kinds: BTreeMap<String, u64> = by_kind
        .finish()
        .groups
        .into_iter()
        .map(|g| (g.name, g.counts.live_objects))
        .collect();
    assert_eq!(kinds["Pod"], 32);
    assert_eq!(kinds["Secret"], 4);
    assert_eq!(kinds["(encrypted)"], 11);
    assert_eq!(kinds["Widget"], 1);
    assert_eq!(kinds["(text)"], 1);
}

#[test]
fn synthetic_envelopes_from_h1_h2a_h3() {
    let mut seen = BTreeMap::<String, usize>::new();
    for kv in listing("h1-h2a-h3-sample.get.json") {
        let key = String::from_utf8_lossy(&kv.key).into_owned();
        let kind = classify(&kv.value);
        match &kind {
            ValueKind::Protobuf { .. } | ValueKind::Json { .. } => {
                let obj = decode(&kv.value, &DecodeOptions::default())
                    .unwrap_or_else(|e| panic!("{key}: {e}"));
                let KeyInfo::Object(k) = parse_key(&kv.key) else {
                    panic!("{key}")
                };
                assert_eq!(k.name, obj.metadata.name, "{key}");
                assert!(!obj.metadata.uid.is_empty(), "{key}");
                // Synthetic JSON objects store creationTimestamp as a number: kept, not lost.
                if obj.metadata.creation_timestamp.is_none() {
                    assert!(
                        obj.metadata.extra.contains_key("creationTimestamp"),
                        "{key}"
                    );
                }
            }
            ValueKind::Encrypted(e) => {
                assert_eq!(e.label(), "aescbc:v1:key1", "{key}");
                assert!(key.starts_with("/registry/secrets/"), "{key}");
            }
            _ => assert!(!key.starts_with("/registry/"), "{key}: {kind:?}"),
        }
        *seen.entry(kind.class().to_owned()).or_default() += 1;
    }
    assert!(
        seen["protobuf"] > 20 && seen["json"] >= 4 && seen["encrypted"] >= 3,
        "{seen:?}"
    );
    assert!(
        seen.contains_key("binary") && seen.contains_key("empty") && seen.contains_key("text"),
        "{seen:?}"
    );
}
