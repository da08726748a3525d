//! The decoded views of `history` and `diff` on h5-k8s: each stored revision as the object it
//! was, and changed objects as a unified diff of their kubectl YAML (with and without the
//! fields that change on every write).

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

const EVENT: &str = "/registry/events/default/worker-56742be8-19ce2fb.02936142ec0edd9";
const POD: &str = "/registry/pods/staging/worker-d63612d4-f56144";

#[test]
fn history_shows_each_revision_as_its_object() {
    let o = run(&["history", &h5(), EVENT, "--decode", "-w", "json"]);
    assert_eq!(o.status.code(), Some(0));
    let d: Value = serde_json::from_slice(&o.stdout).unwrap();
    let revs = d["keys"][0]["revisions"].as_array().unwrap();
    assert!(revs.len() >= 2);
    let mut last = 0;
    for r in revs {
        let obj = &r["object"];
        assert_eq!(obj["kind"], "Event");
        assert_eq!(
            obj["metadata"]["resourceVersion"],
            r["mod_revision"].as_i64().unwrap().to_string()
        );
        // The Event was rewritten with a growing count: each revision shows its own.
        let count = obj["count"].as_i64().unwrap();
        assert!(count > last, "{count} after {last}");
        last = count;
    }
    // Simple form: the YAML of each revision under its line.
    let o = run(&["history", &h5(), EVENT, "--decode"]);
    let text = String::from_utf8(o.stdout).unwrap();
    assert_eq!(
        text.matches("    kind: Event\n").count(),
        revs.len(),
        "{text}"
    );
    assert!(text.contains("    count: 1\n") && text.contains("    count: 2\n"));
    // Secrets stay hidden.
    let marker =
        serde_json::from_str::<Value>(&corpus_text("h5-k8s.expect.json")).unwrap()["secret_marker"]
            .as_str()
            .unwrap()
            .to_owned();
    let o = run(&[
        "history",
        &h5(),
        "/registry/secrets/",
        "--prefix",
        "--decode",
    ]);
    let text = String::from_utf8(o.stdout).unwrap();
    assert!(text.contains("(redacted: "));
    assert!(!text.contains(&marker));
}

#[test]
fn diff_decode_is_a_unified_diff_of_the_yaml() {
    let o = run(&["diff", &h5(), &h5(), "--rev-a", "149", POD, "--decode"]);
    assert_eq!(o.status.code(), Some(1));
    let text = String::from_utf8(o.stdout).unwrap();
    assert!(
        text.contains(&format!("--- a{POD}\n+++ b{POD}\n@@ ")),
        "{text}"
    );
    assert!(
        text.contains("\n-  phase: Pending\n") && text.contains("\n+  phase: Running\n"),
        "{text}"
    );
    assert!(text.contains("lastTransitionTime"), "{text}");
    // Ignoring server fields: the timestamps go, the real change stays.
    let o = run(&[
        "diff",
        &h5(),
        &h5(),
        "--rev-a",
        "149",
        POD,
        "--decode",
        "--ignore-server-fields",
    ]);
    assert_eq!(o.status.code(), Some(1));
    let text = String::from_utf8(o.stdout).unwrap();
    assert!(!text.contains("lastTransitionTime"), "{text}");
    assert!(text.contains("+  phase: Running"), "{text}");
    assert!(text.contains("1 modified"), "{text}");
    // --ignore-server-fields needs --decode.
    assert_eq!(
        run(&["diff", &h5(), &h5(), POD, "--ignore-server-fields"])
            .status
            .code(),
        Some(2)
    );
}

fn crd_db() -> String {
    etcdsnap_testkit::fixtures_dir()
        .join("kube/crd.db")
        .to_string_lossy()
        .into_owned()
}

/// fixtures/kube/crd.db (real etcd 3.5.1, fixtures/kube/make-kube-fixture.py): a Pod rewritten
/// at revision 7 with only managedFields' time and a condition's lastTransitionTime changed,
/// then at 8 with its phase changed.
#[test]
fn ignore_server_fields_counts_server_only_writes_unchanged() {
    let db = crd_db();
    let d = |a: &str, b: &str, ignore: bool| {
        let mut args = vec![
            "diff",
            &db,
            &db,
            "--rev-a",
            a,
            "--rev-b",
            b,
            "/registry/pods/",
            "--prefix",
            "--decode",
        ];
        if ignore {
            args.push("--ignore-server-fields");
        }
        let o = run(&args);
        (o.status.code(), String::from_utf8(o.stdout).unwrap())
    };
    let (code, text) = d("6", "7", false);
    assert_eq!(code, Some(1));
    assert!(text.contains("1 modified"), "{text}");
    assert!(text.contains("lastTransitionTime"), "{text}");
    let (code, text) = d("6", "7", true);
    assert_eq!(code, Some(0), "{text}");
    assert!(
        text.contains("0 modified") && text.contains("1 unchanged"),
        "{text}"
    );
    let (code, text) = d("6", "8", true);
    assert_eq!(code, Some(1));
    assert!(
        text.contains("-  phase: Running\n+  phase: Failed\n"),
        "{text}"
    );
    assert!(!text.contains("Time"), "{text}");
}
