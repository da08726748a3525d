//! `etcdsnap kube get` end to end on h5-k8s (objects encoded by Kubernetes' own generated
//! classes): resource names and the key layout, namespaces, selectors, revisions, every output
//! format, manifests and Secrets, checked against what was written (`h5-k8s.expect.json`) and
//! against `get --decode` of the same keys.

use std::collections::BTreeMap;
use std::process::{Command, Output};

use etcdsnap_testkit::{corpus_db, corpus_text};
use serde_json::Value;

fn run(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_etcdsnap"))
        .args(args)
        .output()
        .expect("run etcdsnap")
}

fn h5() -> String {
    corpus_db("h5-k8s.db").to_string_lossy().into_owned()
}

fn kube(args: &[&str], code: i32) -> String {
    let h5 = h5();
    let mut all = vec!["kube", "get", h5.as_str()];
    all.extend_from_slice(args);
    let o = run(&all);
    assert_eq!(
        o.status.code(),
        Some(code),
        "{args:?}: {}",
        String::from_utf8_lossy(&o.stderr)
    );
    String::from_utf8(o.stdout).unwrap()
}

fn kube_json(args: &[&str]) -> Value {
    let mut a = args.to_vec();
    a.extend(["-o", "json"]);
    serde_json::from_str(&kube(&a, 0)).unwrap()
}

fn expect() -> Value {
    serde_json::from_str(&corpus_text("h5-k8s.expect.json")).unwrap()
}

/// The live objects of h5 by key, from what was written.
fn written() -> BTreeMap<String, Value> {
    expect()["objects"]
        .as_object()
        .unwrap()
        .iter()
        .map(|(k, v)| (k.clone(), v.clone()))
        .collect()
}

fn names(list: &Value) -> Vec<String> {
    list["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|i| {
            let m = &i["metadata"];
            match m["namespace"].as_str() {
                Some(ns) => format!("{ns}/{}", m["name"].as_str().unwrap()),
                None => m["name"].as_str().unwrap().to_owned(),
            }
        })
        .collect()
}

#[test]
fn resource_names_short_names_and_the_key_layout() {
    let w = written();
    // Every spelling kubectl takes gives the same objects; counts are what was written.
    for (spellings, key_res) in [
        (&["pods", "pod", "po", "Pod", "pods."][..], "pods"),
        (&["services", "svc", "service"][..], "services/specs"),
        (&["nodes", "no", "node"][..], "minions"),
        (&["namespaces", "ns"][..], "namespaces"),
        (&["configmaps", "cm"][..], "configmaps"),
        (&["events", "ev"][..], "events"),
        (&["serviceaccounts", "sa"][..], "serviceaccounts"),
        (
            &["widgets", "widgets.example.com"][..],
            "example.com/widgets",
        ),
    ] {
        let want: Vec<String> = w
            .keys()
            .filter_map(|k| k.strip_prefix(&format!("/registry/{key_res}/")))
            .map(str::to_owned)
            .collect();
        assert!(!want.is_empty(), "{key_res}");
        for s in spellings {
            let s = s.trim_end_matches('.');
            let got = names(&kube_json(&[s, "-A"]));
            assert_eq!(got, want, "{s}");
        }
    }
    // Default namespace, as kubectl's; -n picks another.
    let default = names(&kube_json(&["po"]));
    assert!(!default.is_empty() && default.iter().all(|n| n.starts_with("default/")));
    let prod = names(&kube_json(&["po", "-n", "prod"]));
    assert!(prod.iter().all(|n| n.starts_with("prod/")));
    assert_eq!(
        names(&kube_json(&["po", "-n", "nope"])),
        Vec::<String>::new()
    );
    // An unknown resource is an argument error.
    let o = run(&["kube", "get", &h5(), "gadgets"]);
    assert_eq!(o.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&o.stderr).contains("no resource type \"gadgets\""));
    // Another --etcd-prefix finds nothing under /registry.
    let other = kube_json(&["po", "-A", "--etcd-prefix", "/other"]);
    assert_eq!(names(&other), Vec::<String>::new());
    let same = kube_json(&["po", "-A", "--etcd-prefix", "/registry/"]);
    assert_eq!(names(&same).len(), names(&kube_json(&["po", "-A"])).len());
}

#[test]
fn objects_match_what_was_written_and_get_decode() {
    let w = written();
    for (key, want) in &w {
        let KeyParts { res, ns, name } = split(key);
        let mut args = vec![res.as_str(), name.as_str()];
        if let Some(ns) = &ns {
            args.extend(["-n", ns.as_str()]);
        }
        let obj = kube_json(&args);
        assert_eq!(obj["kind"], want["kind"], "{key}");
        assert_eq!(obj["metadata"]["name"], want["name"], "{key}");
        assert_eq!(obj["metadata"]["uid"], want["uid"], "{key}");
        // resourceVersion is the key's mod revision; managedFields hidden as kubectl does.
        let listing = run(&["get", &h5(), key, "-w", "json"]);
        let l: Value = serde_json::from_slice(&listing.stdout).unwrap();
        let mod_rev = l["kvs"][0]["mod_revision"].as_i64().unwrap();
        assert_eq!(
            obj["metadata"]["resourceVersion"],
            mod_rev.to_string(),
            "{key}"
        );
        assert!(obj["metadata"].get("managedFields").is_none(), "{key}");
        let full = kube_json(&[&args[..], &["--show-managed-fields"]].concat());
        let decoded = run(&["get", &h5(), key, "-w", "json", "--decode"]);
        let d: Value = serde_json::from_slice(&decoded.stdout).unwrap();
        let mut from_get = d["kvs"][0]["object"].clone();
        from_get["metadata"]["resourceVersion"] = Value::String(mod_rev.to_string());
        assert_eq!(full, from_get, "{key}");
    }
}

struct KeyParts {
    res: String,
    ns: Option<String>,
    name: String,
}

fn split(key: &str) -> KeyParts {
    let rest = key.strip_prefix("/registry/").unwrap();
    let (res, tail) = if let Some(t) = rest.strip_prefix("services/specs/") {
        ("svc".to_owned(), t)
    } else if let Some(t) = rest.strip_prefix("example.com/widgets/") {
        ("widgets.example.com".to_owned(), t)
    } else if let Some(t) = rest.strip_prefix("minions/") {
        ("nodes".to_owned(), t)
    } else {
        let (r, t) = rest.split_once('/').unwrap();
        (r.to_owned(), t)
    };
    match tail.split_once('/') {
        Some((ns, name)) => KeyParts {
            res,
            ns: Some(ns.into()),
            name: name.into(),
        },
        None => KeyParts {
            res,
            ns: None,
            name: tail.into(),
        },
    }
}

#[test]
fn label_selectors_filter_as_kubectl() {
    let w = written();
    let pods: Vec<(&String, &Value)> = w
        .iter()
        .filter(|(k, _)| k.starts_with("/registry/pods/"))
        .collect();
    for sel in [
        "app=api",
        "app!=api",
        "app in (api,web)",
        "app notin (web)",
        "pod-template-hash",
        "!pod-template-hash",
    ] {
        let s = etcdsnap_k8s::selector::Selector::parse(sel).unwrap();
        let want: Vec<String> = pods
            .iter()
            .filter(|(_, v)| {
                let labels: BTreeMap<String, String> =
                    serde_json::from_value(v["labels"].clone()).unwrap();
                s.matches(&labels)
            })
            .map(|(k, _)| k.strip_prefix("/registry/pods/").unwrap().to_owned())
            .collect();
        let got = names(&kube_json(&["po", "-A", "-l", sel]));
        assert_eq!(got, want, "{sel}");
    }
    let o = run(&["kube", "get", &h5(), "po", "-l", "a b"]);
    assert_eq!(o.status.code(), Some(2));
}

#[test]
fn output_formats() {
    // -o name: kind[.group]/name.
    let n = kube(&["svc", "-n", "default", "-o", "name"], 0);
    assert_eq!(n, "service/api\nservice/web\nservice/worker\n");
    let w = kube(&["widgets", "-A", "-o", "name"], 0);
    assert_eq!(w, "widget.example.com/gizmo\n");
    // Table: kubectl's columns; -A adds NAMESPACE.
    let t = kube(&["svc", "-n", "default"], 0);
    let mut lines = t.lines();
    let header: Vec<&str> = lines.next().unwrap().split_whitespace().collect();
    assert_eq!(
        header,
        [
            "NAME",
            "TYPE",
            "CLUSTER-IP",
            "EXTERNAL-IP",
            "PORT(S)",
            "AGE"
        ]
    );
    let api: Vec<&str> = lines.next().unwrap().split_whitespace().collect();
    assert_eq!(
        &api[..5],
        ["api", "ClusterIP", "10.96.190.72", "<none>", "80/TCP"]
    );
    let all = kube(&["po", "-A", "-o", "wide"], 0);
    assert!(all.starts_with("NAMESPACE "), "{all}");
    assert!(all.lines().next().unwrap().contains("NODE"));
    // JSON: one object for one name, a v1 List otherwise (also when empty).
    let one = kube(&["svc", "-n", "default", "api", "-o", "json"], 0);
    assert!(one.starts_with("{\n    \"apiVersion\": \"v1\",\n    \"kind\": \"Service\""));
    let list = kube_json(&["svc", "-n", "default"]);
    assert_eq!(list["kind"], "List");
    assert_eq!(list["metadata"]["resourceVersion"], "");
    let empty = kube(&["svc", "-n", "nope", "-o", "json"], 0);
    assert_eq!(
        empty,
        "{\n    \"apiVersion\": \"v1\",\n    \"items\": [],\n    \"kind\": \"List\",\n    \"metadata\": {\n        \"resourceVersion\": \"\"\n    }\n}\n"
    );
    // YAML: the list as kubectl prints it.
    let y = kube(&["svc", "-n", "default", "-o", "yaml"], 0);
    assert!(
        y.starts_with("apiVersion: v1\nitems:\n- apiVersion: v1\n  kind: Service\n"),
        "{y}"
    );
    assert!(
        y.ends_with("kind: List\nmetadata:\n  resourceVersion: \"\"\n"),
        "{y}"
    );
    // A missing name: exit 1, said on stderr.
    let o = run(&["kube", "get", &h5(), "svc", "-n", "default", "nope"]);
    assert_eq!(o.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&o.stderr).contains("\"nope\" not found"));
}

#[test]
fn manifests_drop_server_fields_and_refuse_hidden_secrets() {
    let m = kube(&["cm", "-n", "default", "--manifest"], 0);
    let docs: Vec<&str> = m.split("---\n").collect();
    assert_eq!(docs.len(), 3, "{m}");
    for field in [
        "uid:",
        "resourceVersion:",
        "creationTimestamp:",
        "managedFields:",
        "status:",
        "last-applied-configuration",
    ] {
        assert!(!m.contains(field), "{field} in {m}");
    }
    assert_eq!(kube(&["cm", "-n", "default", "-o", "manifest"], 0), m);
    let j = kube_json(&["cm", "-n", "default", "--manifest"]);
    assert_eq!(j["kind"], "List");
    assert_eq!(j["items"].as_array().unwrap().len(), 3);
    assert!(j["items"][0]["metadata"].get("uid").is_none());
    // Secrets: refused without --show-secrets (exit 2, nothing on stdout).
    let o = run(&[
        "kube",
        "get",
        &h5(),
        "secrets",
        "-n",
        "legacy",
        "--manifest",
    ]);
    assert_eq!(o.status.code(), Some(2));
    assert!(o.stdout.is_empty());
    let shown = kube(
        &["secrets", "-n", "legacy", "--manifest", "--show-secrets"],
        0,
    );
    assert!(shown.contains("kind: Secret") && shown.contains("data:"));
    // Shown without --manifest, a Secret's values are markers, never base64 of the payload.
    let hidden = kube_json(&["secrets", "-n", "legacy"]);
    for item in hidden["items"].as_array().unwrap() {
        for v in item["data"].as_object().unwrap().values() {
            assert!(v.as_str().unwrap().starts_with("(redacted: "), "{v}");
        }
    }
}

#[test]
fn encrypted_objects_are_named_and_exit_1() {
    let o = run(&["kube", "get", &h5(), "secrets", "-A", "-o", "name"]);
    assert_eq!(o.status.code(), Some(1));
    let err = String::from_utf8_lossy(&o.stderr);
    let enc = expect()["encrypted_secrets"].as_object().unwrap().len();
    assert_eq!(
        err.matches("not shown: (encrypted at rest").count(),
        enc,
        "{err}"
    );
}

#[test]
fn revisions() {
    // At an older revision, an object is as it was then: resourceVersion is its mod revision
    // at R. h5's Events were rewritten after their creation, above the compaction.
    let now = kube_json(&["ev", "-A"]);
    let mut checked = 0;
    for item in now["items"].as_array().unwrap() {
        let m = &item["metadata"];
        let (ns, name) = (
            m["namespace"].as_str().unwrap(),
            m["name"].as_str().unwrap(),
        );
        let rv: i64 = m["resourceVersion"].as_str().unwrap().parse().unwrap();
        let key = format!("/registry/events/{ns}/{name}");
        let created = run(&["get", &h5(), &key, "-w", "json"]);
        let c: Value = serde_json::from_slice(&created.stdout).unwrap();
        let create_rev = c["kvs"][0]["create_revision"].as_i64().unwrap();
        if create_rev == rv {
            continue;
        }
        let r = create_rev.to_string();
        let o = run(&[
            "kube",
            "get",
            &h5(),
            "ev",
            "-n",
            ns,
            name,
            "--rev",
            &r,
            "-o",
            "json",
        ]);
        if o.status.code() == Some(2) {
            assert!(String::from_utf8_lossy(&o.stderr).contains("compacted"));
            continue;
        }
        let then: Value = serde_json::from_slice(&o.stdout).unwrap();
        assert_eq!(then["metadata"]["resourceVersion"], r);
        assert_ne!(then, *item);
        assert!(
            then["count"].as_i64() < item["count"].as_i64(),
            "{then} {item}"
        );
        checked += 1;
    }
    assert!(checked > 0);
    // Before the compaction: etcd's error, exit 2.
    let o = run(&["kube", "get", &h5(), "po", "--rev", "1"]);
    assert_eq!(o.status.code(), Some(2));
}

/// Custom resources named as their CustomResourceDefinition in the snapshot names them (as
/// kubectl resolves them through discovery): plural, singular, short name, kind, with or
/// without the group. fixtures/kube/crd.db is made by real etcd 3.5.1.
#[test]
fn custom_resources_by_the_names_of_their_crd() {
    let db = etcdsnap_testkit::fixtures_dir()
        .join("kube/crd.db")
        .to_string_lossy()
        .into_owned();
    let get = |args: &[&str]| {
        let o = run(&[&["kube", "get", db.as_str()][..], args].concat());
        assert_eq!(
            o.status.code(),
            Some(0),
            "{args:?}: {}",
            String::from_utf8_lossy(&o.stderr)
        );
        String::from_utf8(o.stdout).unwrap()
    };
    let want = "gadget.example.org/large\ngadget.example.org/small\n";
    for name in [
        "gadgets",
        "gadget",
        "gd",
        "Gadget",
        "gadgets.example.org",
        "gd.example",
        "gadget.example.org",
    ] {
        assert_eq!(get(&[name, "-n", "ns1", "-o", "name"]), want, "{name}");
    }
    assert_eq!(get(&["gd", "-A", "-o", "name"]).lines().count(), 3);
    let y = get(&["gd", "-n", "ns1", "small", "-o", "yaml"]);
    assert!(
        y.starts_with("apiVersion: example.org/v1\nkind: Gadget\n"),
        "{y}"
    );
    assert!(y.contains("  resourceVersion: \"3\"\n"), "{y}");
    // A Pod stored as JSON and one in protobuf list together, as the apiserver serves them.
    let pods = get(&["po", "-n", "ns1", "-o", "name"]);
    assert_eq!(pods, "pod/web-0\npod/web-proto\n");
}
