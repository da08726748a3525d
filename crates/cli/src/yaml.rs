//! YAML written byte for byte as `kubectl get -o yaml` writes it: the writer lives in
//! [`etcdsnap_k8s::yaml`] (a streaming sink the typed renderer writes into straight from the
//! wire); this module keeps the binary's name for it and the tests against kubectl's own
//! output.

pub use etcdsnap_k8s::yaml::to_yaml;

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    /// What kubectl v1.32 printed for the same document (`kubectl label --local -f F x=y
    /// -o yaml`, in the module's test data).
    #[test]
    fn as_kubectl_prints_it() {
        let doc = json!({
            "apiVersion": "v1",
            "data": {
                "colon": "a: b", "e": "", "false": "123", "hash": "a #b", "k": "true",
                "lead": " lead", "multi": "line1\nline2\n", "multi2": "line1\nline2",
                "null": "null", "num": "1.5e3", "oct": "0777", "star": "*x", "tilde": "~",
                "unicode": "héllo", "yes": "yes"
            },
            "kind": "ConfigMap",
            "metadata": {
                "annotations": {
                    "a": "<b>&c\u{2028} \u{8}",
                    "long": "aaaa bbbb cccc dddd eeee ffff gggg hhhh iiii jjjj kkkk llll mmmm nnnn oooo pppp qqqq rrrr ssss"
                },
                "creationTimestamp": "2025-01-01T00:00:11Z",
                "labels": {"x": "y"},
                "name": "x",
                "namespace": "ns",
                "resourceVersion": "14"
            },
            "spec": {"ports": [{"port": 80, "targetPort": "http"}], "empty": [], "none": {}}
        });
        let want = r#"apiVersion: v1
data:
  colon: 'a: b'
  e: ""
  "false": "123"
  hash: 'a #b'
  k: "true"
  lead: ' lead'
  multi: |
    line1
    line2
  multi2: |-
    line1
    line2
  "null": "null"
  num: "1.5e3"
  oct: "0777"
  star: '*x'
  tilde: "~"
  unicode: héllo
  "yes": "yes"
kind: ConfigMap
metadata:
  annotations:
    a: "<b>&c\L \b"
    long: aaaa bbbb cccc dddd eeee ffff gggg hhhh iiii jjjj kkkk llll mmmm nnnn oooo
      pppp qqqq rrrr ssss
  creationTimestamp: "2025-01-01T00:00:11Z"
  labels:
    x: "y"
  name: x
  namespace: ns
  resourceVersion: "14"
spec:
  empty: []
  none: {}
  ports:
  - port: 80
    targetPort: http
"#;
        assert_eq!(to_yaml(&doc), want);
    }
}

#[cfg(test)]
mod kubectl_goldens {
    use super::*;
    use serde_json::Value;

    /// The 70 objects of crates/k8s/tests/data/typed/kinds.json against kubectl v1.32.4's YAML
    /// of each (tests/data/kubectl-yaml/make-goldens.sh): byte for byte.
    #[test]
    fn seventy_kinds_as_kubectl_prints_them() {
        let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR"));
        let objects: Vec<Value> = serde_json::from_str(
            &std::fs::read_to_string(dir.join("../k8s/tests/data/typed/kinds.json")).unwrap(),
        )
        .unwrap();
        let golden =
            std::fs::read_to_string(dir.join("tests/data/kubectl-yaml/kinds.yaml")).unwrap();
        let docs: Vec<&str> = golden.split("---\n").collect();
        assert_eq!(docs.len(), objects.len());
        for (o, want) in objects.iter().zip(docs) {
            // kubectl leaves managedFields out of -o yaml, as `kube get` does.
            let mut o = o.clone();
            if let Some(Value::Object(m)) = o.get_mut("metadata") {
                m.remove("managedFields");
            }
            let got = to_yaml(&o);
            if got != want {
                let line = got
                    .lines()
                    .zip(want.lines())
                    .find(|(a, b)| a != b)
                    .map(|(a, b)| format!("got  {a:?}\nwant {b:?}"));
                panic!("{} {}: {line:?}", o["apiVersion"], o["kind"]);
            }
        }
    }
}
