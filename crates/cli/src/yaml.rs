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
mod line_separators {
    use super::*;
    use serde_json::json;

    /// U+2028 and U+2029 in single-quoted and literal scalars, as kubectl v1.32.4 printed this
    /// document (`kubectl patch --local -f F -p {} --type merge -o yaml`; found by
    /// crates/k8s/schema/heldout.py): the break is written as itself and the text after it is
    /// indented to the scalar's indent.
    #[test]
    fn line_separators_as_kubectl_prints_them() {
        let doc = json!({"apiVersion": "v1", "kind": "ConfigMap",
            "metadata": {"name": "x", "namespace": "ns"},
            "data": {"a": "line\u{2028}sep", "b": "a\u{2028} b", "c": "\u{2028}lead",
                "d": "end\u{2029}", "e": "x\u{2028}\u{2028}y", "f": "l1\nl2\u{2028}l3",
                "g": "p\u{2029}q r",
                "h": "aaaa bbbb cccc dddd eeee ffff gggg hhhh iiii jjjj kkkk llll mmmm\u{2028}nnnn oooo pppp qqqq rrrr ssss tttt",
                "i": "x\u{2028} \u{2028}y", "j": "q'\u{2028}'r"},
            "spec": {"items": [{"k": "m\u{2028}n"}]}});
        let want = "apiVersion: v1\ndata:\n  a: 'line\u{2028}    sep'\n  b: \"a\\L b\"\n  \
            c: '\u{2028}    lead'\n  d: 'end\u{2029}'\n  e: 'x\u{2028}\u{2028}    y'\n  \
            f: |-\n    l1\n    l2\u{2028}    l3\n  g: 'p\u{2029}    q r'\n  \
            h: 'aaaa bbbb cccc dddd eeee ffff gggg hhhh iiii jjjj kkkk llll mmmm\u{2028}    nnnn oooo pppp qqqq rrrr ssss tttt'\n  \
            i: \"x\\L \\Ly\"\n  j: 'q''\u{2028}    ''r'\nkind: ConfigMap\nmetadata:\n  name: x\n  \
            namespace: ns\nspec:\n  items:\n  - k: 'm\u{2028}      n'\n";
        assert_eq!(to_yaml(&doc), want);
    }
}

#[cfg(test)]
mod complex_keys {
    use super::*;
    use serde_json::json;

    /// Keys over 128 bytes or with a line break, as kubectl v1.32.4 printed this document
    /// (`kubectl patch --local -f F -p {} --type merge -o yaml`): `? KEY` / `: VALUE`, a simple
    /// key of exactly 128 bytes; values of every shape. Found by crates/k8s/schema/heldout.py
    /// (our `'k<LS>k': v` was not YAML kubectl could read back).
    #[test]
    fn long_and_multi_line_keys_as_kubectl_prints_them() {
        let long = format!("example.com/{}", "a".repeat(120));
        let b = "b".repeat(128);
        let c = "c".repeat(129);
        let doc = json!({"apiVersion": "v1", "kind": "ConfigMap",
            "metadata": {"name": "x", "annotations": {long.clone(): "v", b.clone(): "w", c.clone(): "z"}},
            "data": {"k\u{2028}k": "v"},
            "spec": {"m": {"k\u{2028}k": {"a": "b", "c": [1, 2]}, "l\nl": ["x", "y"], "e\u{2028}": [],
                "f\u{2028}": {}, "g\u{2028}": null, "h\u{2028}": "a\u{2028}b"},
                "s": [{"k\u{2028}k": "v", "n": 1}]}});
        let want = format!(
            "apiVersion: v1\ndata:\n  ? 'k\u{2028}    k'\n  : v\nkind: ConfigMap\nmetadata:\n  \
             annotations:\n    {b}: w\n    ? {c}\n    : z\n    ? {long}\n    : v\n  name: x\nspec:\n  \
             m:\n    ? 'e\u{2028}'\n    : []\n    ? 'f\u{2028}'\n    : {{}}\n    ? 'g\u{2028}'\n    : null\n    \
             ? 'h\u{2028}'\n    : 'a\u{2028}      b'\n    ? 'k\u{2028}      k'\n    : a: b\n      c:\n      \
             - 1\n      - 2\n    ? |-\n      l\n      l\n    : - x\n      - \"y\"\n  s:\n  \
             - ? 'k\u{2028}      k'\n    : v\n    \"n\": 1\n"
        );
        assert_eq!(to_yaml(&doc), want);
    }
}

#[cfg(test)]
mod key_order_and_bom {
    use super::*;
    use serde_json::json;

    /// Map keys in go-yaml's order and a value that starts with a BOM, as kubectl v1.32.4
    /// printed this document (`kubectl patch --local -f F -p {} --type merge -o yaml`; found by
    /// crates/k8s/schema/heldout.py).
    #[test]
    fn keys_in_go_yaml_order_and_bom_escapes_as_kubectl_prints_them() {
        let doc = json!({"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "x"},
            "data": {"e": "q\u{feff}r", "f": "\u{feff}bom a", "a10": "1", "a9": "2", "a_b": "3",
                "aB": "4", "~": "5", "0": "6", "00": "7", "a01": "8", "a1": "9", "\u{e9}": "10",
                "z": "11", "A": "12"}});
        let want = "apiVersion: v1\ndata:\n  \"~\": \"5\"\n  \"0\": \"6\"\n  \"00\": \"7\"\n  A: \"12\"\n  \
            a_b: \"3\"\n  a1: \"9\"\n  a01: \"8\"\n  a9: \"2\"\n  a10: \"1\"\n  aB: \"4\"\n  \
            e: \"q\\uFEFFr\"\n  f: \"\\uFEFF\\x62\\x6F\\x6D\\x20\\x61\"\n  z: \"11\"\n  \u{e9}: \"10\"\n\
            kind: ConfigMap\nmetadata:\n  name: x\n";
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
