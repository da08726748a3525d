//! `etcdsnap diff` against what etcdctl's listings of the two stores imply.

use std::collections::BTreeMap;
use std::path::Path;
use std::process::{Command, Output};

use base64::Engine as _;
use etcdsnap_testkit::{corpus_db, corpus_text};

/// One key of an etcdctl listing digest: (create, mod, version, lease, sha256 of the value).
type Listing = BTreeMap<Vec<u8>, (i64, i64, i64, i64, String)>;

fn listing(name: &str) -> Listing {
    corpus_text(name)
        .lines()
        .filter(|l| !l.starts_with('#'))
        .map(|l| {
            let f: Vec<&str> = l.split('\t').collect();
            let key = base64::engine::general_purpose::STANDARD
                .decode(f[0])
                .unwrap();
            let n = |i: usize| f[i].parse::<i64>().unwrap();
            (key, (n(1), n(2), n(3), n(4), f[6].to_string()))
        })
        .collect()
}

fn etcdsnap(args: &[&std::ffi::OsStr]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_etcdsnap"))
        .args(args)
        .output()
        .expect("run etcdsnap")
}

fn diff_json(a: &Path, b: &Path, extra: &[&str]) -> (i32, serde_json::Value) {
    let mut args: Vec<&std::ffi::OsStr> = vec![
        "diff".as_ref(),
        a.as_os_str(),
        b.as_os_str(),
        "-w".as_ref(),
        "json".as_ref(),
    ];
    args.extend(extra.iter().map(std::ffi::OsStr::new));
    let out = etcdsnap(&args);
    let v = serde_json::from_slice(&out.stdout)
        .unwrap_or_else(|e| panic!("{e}: {}", String::from_utf8_lossy(&out.stderr)));
    (out.status.code().unwrap(), v)
}

/// Keys added, keys deleted, and modified keys with whether their value changed.
type Changes = (Vec<Vec<u8>>, Vec<Vec<u8>>, BTreeMap<Vec<u8>, bool>);

/// The changes that two listings imply.
fn expected(a: &Listing, b: &Listing) -> Changes {
    let added = b.keys().filter(|k| !a.contains_key(*k)).cloned().collect();
    let deleted = a.keys().filter(|k| !b.contains_key(*k)).cloned().collect();
    let modified = a
        .iter()
        .filter_map(|(k, va)| {
            let vb = b.get(k)?;
            (va != vb).then(|| (k.clone(), va.4 != vb.4))
        })
        .collect();
    (added, deleted, modified)
}

fn actual(v: &serde_json::Value) -> Changes {
    let (mut added, mut deleted, mut modified) = (Vec::new(), Vec::new(), BTreeMap::new());
    let mut prev: Option<Vec<u8>> = None;
    for c in v["changes"].as_array().unwrap() {
        let key = base64::engine::general_purpose::STANDARD
            .decode(c["key"].as_str().unwrap())
            .unwrap();
        assert!(
            prev.as_ref().is_none_or(|p| *p < key),
            "changes are in key order"
        );
        prev = Some(key.clone());
        match c["change"].as_str().unwrap() {
            "added" => {
                assert!(c["a"].is_null() && c["b"].is_object());
                added.push(key)
            }
            "deleted" => {
                assert!(c["b"].is_null() && c["a"].is_object());
                deleted.push(key)
            }
            "modified" => {
                modified.insert(key, c["value_changed"].as_bool().unwrap());
            }
            other => panic!("unknown change {other}"),
        }
    }
    (added, deleted, modified)
}

#[test]
fn h2a_to_h2b_matches_etcdctl_listings() {
    let (code, v) = diff_json(&corpus_db("h2a.db"), &corpus_db("h2b.db"), &[]);
    assert_eq!(code, 1, "differences exit 1");
    let want = expected(&listing("h2a.get.head.tsv"), &listing("h2b.get.head.tsv"));
    let got = actual(&v);
    assert_eq!(got.0, want.0, "added");
    assert_eq!(got.1, want.1, "deleted");
    assert_eq!(got.2, want.2, "modified and value_changed");
    let s = &v["summary"];
    assert_eq!(s["added"], want.0.len());
    assert_eq!(s["deleted"], want.1.len());
    assert_eq!(s["modified"], want.2.len());

    // What the corpus README says happened between the two.
    assert!(
        got.0
            .contains(&b"/registry/configmaps/ns-000/brand-new".to_vec())
    );
    assert!(got.1.iter().all(|k| k.starts_with(b"/registry/pods/")));
    let pods_in_a = listing("h2a.get.head.tsv")
        .keys()
        .filter(|k| k.starts_with(b"/registry/pods/"))
        .count();
    assert_eq!(got.1.len(), pods_in_a, "every pod deleted");
    let ns1: Vec<bool> = got
        .2
        .iter()
        .filter(|(k, _)| k.starts_with(b"/registry/configmaps/ns-001/"))
        .map(|(_, c)| *c)
        .collect();
    let ns2: Vec<bool> = got
        .2
        .iter()
        .filter(|(k, _)| k.starts_with(b"/registry/configmaps/ns-002/"))
        .map(|(_, c)| *c)
        .collect();
    assert!(
        !ns1.is_empty() && ns1.iter().all(|c| *c),
        "ns-001 rewritten with new values"
    );
    assert!(
        !ns2.is_empty() && ns2.iter().all(|c| !*c),
        "ns-002 rewritten with the same values"
    );
    assert_eq!(v["groups"]["pods"]["deleted"], pods_in_a);
}

#[test]
fn one_file_at_two_revisions_matches_the_listings() {
    let db = corpus_db("h2b.db");
    let (code, v) = diff_json(&db, &db, &["--rev-a", "96"]);
    assert_eq!(code, 1);
    assert_eq!(v["a"]["revision"], 96);
    let want = expected(&listing("h2b.get.rev96.tsv"), &listing("h2b.get.head.tsv"));
    assert_eq!(actual(&v), want);
}

#[test]
fn a_snapshot_diffed_with_itself_is_clean() {
    for name in ["h1.db", "h3.db", "h4-empty.db", "h5-k8s.db"] {
        let db = corpus_db(name);
        let out = etcdsnap(&["diff".as_ref(), db.as_os_str(), db.as_os_str()]);
        assert_eq!(
            out.status.code(),
            Some(0),
            "{name}: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        let text = String::from_utf8(out.stdout).unwrap();
        assert!(
            text.starts_with("0 added, 0 deleted, 0 modified"),
            "{name}: {text}"
        );
    }
    // The saved snapshot and the member's own db of the same store hold the same keyspace.
    let (code, v) = diff_json(&corpus_db("h2b.db"), &corpus_db("h2-member.db"), &[]);
    assert_eq!(code, 0);
    assert_eq!(v["changes"].as_array().unwrap().len(), 0);
    assert!(v["summary"]["unchanged"].as_u64().unwrap() > 0);
}

#[test]
fn text_output_and_prefix_and_values() {
    let (a, b) = (corpus_db("h2a.db"), corpus_db("h2b.db"));
    let out = etcdsnap(&[
        "diff".as_ref(),
        a.as_os_str(),
        b.as_os_str(),
        "--prefix".as_ref(),
        "/registry/configmaps/ns-00".as_ref(),
    ]);
    assert_eq!(out.status.code(), Some(1));
    let text = String::from_utf8(out.stdout).unwrap();
    for line in text.lines().take_while(|l| !l.is_empty()) {
        assert!(
            line.starts_with("+ /registry/configmaps/ns-00")
                || line.starts_with("~ /registry/configmaps/ns-00"),
            "{line}"
        );
    }
    assert!(text.contains("+ /registry/configmaps/ns-000/brand-new\n"));
    assert!(
        text.lines()
            .any(|l| l.starts_with("~ /registry/configmaps/ns-001/")
                && l.contains("(value changed, mod_revision "))
    );
    assert!(
        text.lines()
            .any(|l| l.starts_with("~ /registry/configmaps/ns-002/")
                && l.contains("(same value, mod_revision "))
    );
    assert!(text.contains("\nGROUP"));

    let (code, v) = diff_json(
        &a,
        &b,
        &["--prefix", "/registry/configmaps/ns-001/", "--values"],
    );
    assert_eq!(code, 1);
    let mut modified = 0;
    for c in v["changes"].as_array().unwrap() {
        if c["change"] == "modified" {
            modified += 1;
            assert!(c["a"]["value"].is_string() && c["b"]["value"].is_string());
            assert_ne!(c["a"]["value"], c["b"]["value"]);
        } else {
            assert_eq!(c["change"], "added");
            assert!(c["b"]["value"].is_string());
        }
    }
    assert!(modified > 0);
    let (_, v) = diff_json(&a, &b, &["--summary"]);
    assert!(v.get("changes").is_none());
    assert!(v["summary"]["deleted"].as_u64().unwrap() > 0);
}

#[test]
fn bad_revisions_and_inputs_exit_2() {
    let db = corpus_db("h1.db");
    let out = etcdsnap(&[
        "diff".as_ref(),
        db.as_os_str(),
        db.as_os_str(),
        "--rev-a".as_ref(),
        "5".as_ref(),
    ]);
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("required revision has been compacted"));
    let out = etcdsnap(&["diff".as_ref(), db.as_os_str(), "/nonexistent.db".as_ref()]);
    assert_eq!(out.status.code(), Some(2));
    assert!(out.stdout.is_empty());
}
