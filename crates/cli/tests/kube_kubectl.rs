//! `kube get` against kubectl itself (needs `kubectl` on PATH; run by `.ci/kubectl`, which
//! installs it, as `cargo test -p etcdsnap --test kube_kubectl -- --ignored`).
//!
//! - Every object of h5-k8s: our `-o json` and `-o yaml` are byte for byte what kubectl
//!   prints for the same object (`kubectl patch --local -p '{}' --type merge`, a no-op that
//!   prints the object as kubectl reads it).
//! - Every `--manifest` stream parses with kubectl (`kubectl label --local -f FILE x=y -o
//!   json`) into the same objects, plus the label.

use std::process::Command;

use etcdsnap_testkit::corpus_db;
use serde_json::Value;

fn etcdsnap(args: &[&str]) -> String {
    let o = Command::new(env!("CARGO_BIN_EXE_etcdsnap"))
        .args(args)
        .output()
        .unwrap();
    assert_eq!(
        o.status.code(),
        Some(0),
        "{args:?}: {}",
        String::from_utf8_lossy(&o.stderr)
    );
    String::from_utf8(o.stdout).unwrap()
}

fn kubectl(args: &[&str]) -> String {
    let o = Command::new("kubectl")
        .args(args)
        .output()
        .expect("kubectl on PATH");
    assert!(
        o.status.success(),
        "kubectl {args:?}: {}",
        String::from_utf8_lossy(&o.stderr)
    );
    String::from_utf8(o.stdout).unwrap()
}

/// Concatenated JSON documents, as kubectl prints several objects.
fn documents(s: &str) -> Vec<Value> {
    serde_json::Deserializer::from_str(s)
        .into_iter::<Value>()
        .map(Result::unwrap)
        .collect()
}

const RESOURCES: &[&str] = &[
    "pods",
    "svc",
    "cm",
    "ns",
    "nodes",
    "ev",
    "sa",
    "widgets.example.com",
];

#[test]
#[ignore = "needs kubectl (.ci/kubectl)"]
fn json_and_yaml_byte_for_byte_as_kubectl() {
    let h5 = corpus_db("h5-k8s.db").to_string_lossy().into_owned();
    let dir = std::env::temp_dir().join(format!("etcdsnap-kubectl-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let file = dir.join("o.json");
    let f = file.to_string_lossy().into_owned();
    let mut n = 0;
    for res in RESOURCES {
        let list: Value =
            serde_json::from_str(&etcdsnap(&["kube", "get", &h5, res, "-A", "-o", "json"]))
                .unwrap();
        for item in list["items"].as_array().unwrap() {
            let m = &item["metadata"];
            let name = m["name"].as_str().unwrap();
            let mut args = vec!["kube", "get", h5.as_str(), res, name];
            if let Some(ns) = m["namespace"].as_str() {
                args.extend(["-n", ns]);
            }
            let ours_json = etcdsnap(&[&args[..], &["-o", "json"]].concat());
            let ours_yaml = etcdsnap(&[&args[..], &["-o", "yaml"]].concat());
            std::fs::write(&file, &ours_json).unwrap();
            let noop = [
                "patch", "--local", "-f", &f, "-p", "{}", "--type", "merge", "-o",
            ];
            assert_eq!(
                ours_json,
                kubectl(&[&noop[..], &["json"]].concat()),
                "{res} {name}"
            );
            assert_eq!(
                ours_yaml,
                kubectl(&[&noop[..], &["yaml"]].concat()),
                "{res} {name}"
            );
            n += 1;
        }
    }
    assert!(n >= 100, "{n} objects");
    std::fs::remove_dir_all(&dir).unwrap();
}

#[test]
#[ignore = "needs kubectl (.ci/kubectl)"]
fn manifests_parse_with_kubectl_into_the_same_objects() {
    let h5 = corpus_db("h5-k8s.db").to_string_lossy().into_owned();
    let dir = std::env::temp_dir().join(format!("etcdsnap-manifest-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let mut n = 0;
    for res in RESOURCES.iter().chain(&["secrets"]) {
        let mut args = vec!["kube", "get", h5.as_str(), res, "-A", "--manifest"];
        if *res == "secrets" {
            args.push("--show-secrets");
        }
        let yaml = Command::new(env!("CARGO_BIN_EXE_etcdsnap"))
            .args(&args)
            .output()
            .unwrap();
        let file = dir.join(format!("{res}.yaml"));
        std::fs::write(&file, &yaml.stdout).unwrap();
        let ours: Value = serde_json::from_slice(
            &Command::new(env!("CARGO_BIN_EXE_etcdsnap"))
                .args([&args[..], &["-o", "json"]].concat())
                .output()
                .unwrap()
                .stdout,
        )
        .unwrap();
        let parsed = documents(&kubectl(&[
            "label",
            "--local",
            "-f",
            &file.to_string_lossy(),
            "x=y",
            "-o",
            "json",
        ]));
        let ours = ours["items"].as_array().unwrap();
        assert_eq!(parsed.len(), ours.len(), "{res}");
        for (got, want) in parsed.iter().zip(ours) {
            let mut want = want.clone();
            let labels = want["metadata"]
                .as_object_mut()
                .unwrap()
                .entry("labels")
                .or_insert(Value::Object(Default::default()));
            labels["x"] = Value::String("y".into());
            assert_eq!(*got, want, "{res}");
            n += 1;
        }
    }
    assert!(n >= 100, "{n} manifests");
    std::fs::remove_dir_all(&dir).unwrap();
}
