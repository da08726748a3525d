//! The command-line grammar every command shares, run through the real binary: global flags
//! before or after the command, `-w`/`-o`/`--output`, `yaml` equal to `json` everywhere it is
//! offered, `jsonl` equal to the JSON listing, one key selection (`KEY [RANGE_END]`,
//! `--prefix`, `--from-key`) across get, history, diff, stats and audit, `--rev` 0 and
//! negative meaning the newest in every command, and `version`.

#[path = "../../mvcc/tests/common/fixtures.rs"]
mod fixtures;

use std::process::{Command, Output};

use serde_json::Value;

fn run(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_etcdsnap"))
        .args(args)
        .output()
        .expect("run etcdsnap")
}

fn db(name: &str) -> String {
    fixtures::db(name).to_string_lossy().into_owned()
}

fn ok(args: &[&str], code: i32) -> String {
    let o = run(args);
    assert_eq!(
        o.status.code(),
        Some(code),
        "{args:?}: {}",
        String::from_utf8_lossy(&o.stderr)
    );
    String::from_utf8(o.stdout).expect("utf-8 output")
}

fn json(args: &[&str], code: i32) -> Value {
    let s = ok(args, code);
    serde_json::from_str(&s).unwrap_or_else(|e| panic!("{args:?}: {e}: {s}"))
}

#[test]
fn global_flags_before_and_after_the_command() {
    let f = db("own-35.db");
    let after = ok(&["status", &f, "-w", "json"], 0);
    assert!(after.starts_with("{\"hash\":"), "{after}");
    for args in [
        vec!["-w", "json", "status", &f],
        vec!["-o", "json", "status", &f],
        vec!["--output", "json", "status", &f],
        vec!["--write-out=json", "status", &f],
        vec!["status", "-o", "json", &f],
    ] {
        assert_eq!(ok(&args, 0), after, "{args:?}");
    }
}

#[test]
fn yaml_is_the_json_document_wherever_json_is_offered() {
    let (a, b) = (db("h2a.db"), db("h2b.db"));
    let cases: Vec<(Vec<&str>, i32)> = vec![
        (vec!["status", &a], 0),
        (
            vec!["get", &a, "/registry/configmaps/ns-001/", "--prefix"],
            0,
        ),
        (vec!["get", &a, "/registry/", "--prefix", "--decode"], 0),
        (
            vec!["history", &a, "/registry/configmaps/ns-001/", "--prefix"],
            0,
        ),
        (vec!["hashkv", &a], 0),
        (vec!["info", &a], 0),
        (vec!["stats", &a], 0),
        (vec!["audit", &a], 0),
        (vec!["verify", &a], 0),
        (vec!["diff", &a, &b, "/registry/configmaps/", "--prefix"], 1),
        (vec!["version"], 0),
    ];
    for (args, code) in cases {
        let mut j = args.clone();
        j.extend(["-w", "json"]);
        let mut y = args.clone();
        y.extend(["-w", "yaml"]);
        let from_json = json(&j, code);
        let text = ok(&y, code);
        let from_yaml: Value = serde_yaml_ng::from_str(&text)
            .unwrap_or_else(|e| panic!("{y:?}: not YAML: {e}: {text}"));
        assert_eq!(from_yaml, from_json, "{args:?}");
    }
}

#[test]
fn jsonl_lines_are_the_json_listing() {
    let (a, b) = (db("h2a.db"), db("h2b.db"));
    let lines = |args: &[&str], code| -> Vec<Value> {
        ok(args, code)
            .lines()
            .map(|l| serde_json::from_str(l).unwrap_or_else(|e| panic!("{args:?}: {e}: {l}")))
            .collect()
    };
    let sel = ["/registry/configmaps/", "--prefix"];
    // get: each line is one of the kvs.
    let mut args = vec!["get", &a];
    args.extend(sel);
    let doc = json(&[&args[..], &["-w", "json"]].concat(), 0);
    let kvs = doc["kvs"].as_array().unwrap().clone();
    assert!(kvs.len() > 10);
    assert_eq!(lines(&[&args[..], &["-w", "jsonl"]].concat(), 0), kvs);
    // history: each line is one of the keys.
    let mut args = vec!["history", &a];
    args.extend(sel);
    let doc = json(&[&args[..], &["-w", "json"]].concat(), 0);
    assert_eq!(
        lines(&[&args[..], &["-w", "jsonl"]].concat(), 0),
        doc["keys"].as_array().unwrap().clone()
    );
    // diff: the changes, then one line with the sides, the summary and the groups.
    let mut args = vec!["diff", &a, &b];
    args.extend(sel);
    let doc = json(&[&args[..], &["-w", "json"]].concat(), 1);
    let mut got = lines(&[&args[..], &["-w", "jsonl"]].concat(), 1);
    let last = got.pop().unwrap();
    assert_eq!(got, doc["changes"].as_array().unwrap().clone());
    for k in ["a", "b", "summary", "groups"] {
        assert_eq!(last[k], doc[k], "{k}");
    }
    // audit: one line per object not encrypted (the json lists, tagged), then the counts.
    let k8s = db("h5-k8s.db");
    let doc = json(&["audit", &k8s, "-w", "json"], 1);
    let mut got = lines(&["audit", &k8s, "-w", "jsonl"], 1);
    let last = got.pop().unwrap();
    assert_eq!(last["total"], doc["total"]);
    assert_eq!(last["encrypted"], doc["encrypted"]);
    let plain: Vec<Value> = got
        .into_iter()
        .filter(|l| l["finding"] == "plaintext")
        .map(|mut l| {
            l.as_object_mut().unwrap().remove("finding");
            l
        })
        .collect();
    assert_eq!(plain, doc["plaintext"].as_array().unwrap().clone());
}

#[test]
fn one_key_selection_in_every_command() {
    let (a, b) = (db("h2a.db"), db("h2b.db"));
    let p = "/registry/configmaps/ns-001/";
    let live = json(&["get", &a, p, "--prefix", "--keys-only", "-w", "json"], 0)["count"]
        .as_u64()
        .unwrap();
    assert!(live > 0);
    // history: the same keys (live ones among all that were ever written there).
    let h = json(&["history", &a, p, "--prefix", "-w", "json"], 0);
    let hist_live = h["keys"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|k| k["live"] == true)
        .count() as u64;
    assert_eq!(hist_live, live);
    // stats: accounts exactly those keys.
    let s = json(&["stats", &a, p, "--prefix", "-w", "json"], 0);
    assert_eq!(
        s["total"]["live_objects"].as_u64(),
        Some(live),
        "{}",
        s["total"]
    );
    // diff of a file with itself: every selected key unchanged; the range forms agree.
    let d = json(&["diff", &a, &a, p, "--prefix", "-w", "json"], 0);
    assert_eq!(d["summary"]["unchanged"].as_u64(), Some(live));
    let end = "/registry/configmaps/ns-0010";
    let by_range = json(&["diff", &a, &b, p, end, "-w", "json", "--summary"], 1);
    let by_prefix = json(
        &["diff", &a, &b, p, "--prefix", "-w", "json", "--summary"],
        1,
    );
    assert_eq!(by_range["summary"], by_prefix["summary"]);
    // --from-key: from KEY to the end.
    let all = json(
        &["get", &a, "", "--from-key", "--count-only", "-w", "json"],
        0,
    )["count"]
        .as_u64()
        .unwrap();
    let d = json(
        &["diff", &a, &a, "", "--from-key", "-w", "json", "--summary"],
        0,
    );
    assert_eq!(d["summary"]["unchanged"].as_u64(), Some(all));
    // audit: only the selected Secrets are audited.
    let k8s = db("h5-k8s.db");
    let whole = json(&["audit", &k8s, "-w", "json"], 1);
    let legacy = json(
        &[
            "audit",
            &k8s,
            "/registry/secrets/legacy/",
            "--prefix",
            "-w",
            "json",
        ],
        1,
    );
    assert!(legacy["total"].as_u64().unwrap() < whole["total"].as_u64().unwrap());
    assert_eq!(legacy["plaintext"].as_array().unwrap().len() as u64, {
        whole["plaintext"]
            .as_array()
            .unwrap()
            .iter()
            .filter(|i| i["namespace"] == "legacy")
            .count() as u64
    });
    // get still needs a KEY, in etcdctl's words.
    let o = run(&["get", &a]);
    assert_eq!(o.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&o.stderr).contains("needs one argument as key"));
}

#[test]
fn rev_zero_and_negative_read_the_newest_in_every_command() {
    let a = db("h2a.db");
    let k8s = db("h5-k8s.db");
    for args in [
        vec!["get", &a, "", "--from-key", "-w", "json"],
        vec!["hashkv", &a],
        vec!["stats", &a, "-w", "json"],
        vec!["audit", &k8s, "-w", "json"],
    ] {
        let code = if args[0] == "audit" { 1 } else { 0 };
        let zero = ok(&[&args[..], &["--rev", "0"]].concat(), code);
        assert_eq!(
            ok(&[&args[..], &["--rev", "-1"]].concat(), code),
            zero,
            "{args:?}"
        );
        assert_eq!(
            ok(&[&args[..], &["--rev=-7"]].concat(), code),
            zero,
            "{args:?}"
        );
        assert_eq!(ok(&args, code), zero, "{args:?}");
    }
    for args in [
        vec!["diff", &a, &a, "--rev-a", "-1", "--summary"],
        vec!["diff", &a, &a, "--rev-b", "-1", "--summary"],
    ] {
        ok(&args, 0);
    }
}

#[test]
fn a_format_a_command_does_not_offer_is_refused_with_the_offered_ones() {
    let a = db("own-35.db");
    for (args, offered) in [
        (
            vec!["get", &a, "foo", "-w", "table"],
            "simple, json, yaml, fields, jsonl",
        ),
        (
            vec!["status", &a, "-w", "jsonl"],
            "table, simple, json, yaml, fields",
        ),
        (vec!["-o", "fields", "verify", &a], "simple, json, yaml"),
    ] {
        let o = run(&args);
        assert_eq!(o.status.code(), Some(2), "{args:?}");
        let err = String::from_utf8_lossy(&o.stderr);
        assert!(err.starts_with("etcdsnap: "), "{err}");
        assert!(err.contains(offered), "{args:?}: {err}");
        assert!(o.stdout.is_empty());
    }
    // The old name of the human format is still accepted.
    assert_eq!(
        ok(&["verify", &a, "-w", "text"], 0),
        ok(&["verify", &a, "-w", "simple"], 0)
    );
    assert_eq!(ok(&["info", &a, "-w", "table"], 0), ok(&["info", &a], 0));
}

#[test]
fn version_names_the_build() {
    let v = ok(&["version"], 0);
    assert_eq!(
        v.lines().next(),
        Some(format!("etcdsnap version: {}", env!("CARGO_PKG_VERSION")).as_str())
    );
    let j = json(&["version", "-w", "json"], 0);
    assert_eq!(j["etcdsnap_version"], env!("CARGO_PKG_VERSION"));
    assert!(ok(&["--version"], 0).contains(env!("CARGO_PKG_VERSION")));
}
