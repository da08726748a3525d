//! `status` and `hashkv` per etcd version, and `status` refusing what etcdutl refuses.
//!
//! Ground truth: `fixtures/versions/etcdutl-3.5.1/` (what real etcdutl 3.5.1 printed on
//! damaged and edited copies of corpus snapshots, built again here by the test kit and matched
//! by sha256), the corpus outputs of etcdutl 3.5.1 and etcdctl (the live-key counts 3.6 reports
//! are etcdctl's own counts of the keys at the head), and etcd's sources at the release tags
//! (docs/etcd-versions.md).

use std::path::{Path, PathBuf};
use std::process::Command;

use etcdsnap_testkit::{corpus_db, corpus_file, fixtures_dir, mutate, sha256_hex};

struct Run {
    code: i32,
    stdout: String,
    stderr: String,
}

fn etcdsnap(args: &[&str]) -> Run {
    let o = Command::new(env!("CARGO_BIN_EXE_etcdsnap"))
        .args(args)
        .output()
        .expect("run etcdsnap");
    Run {
        code: o.status.code().unwrap_or(-1),
        stdout: String::from_utf8_lossy(&o.stdout).into_owned(),
        stderr: String::from_utf8_lossy(&o.stderr).into_owned(),
    }
}

fn scratch() -> PathBuf {
    let d = std::env::temp_dir().join(format!("etcdsnap-versions-{}", std::process::id()));
    std::fs::create_dir_all(&d).unwrap();
    d
}

fn recorded(name: &str, what: &str) -> String {
    let p = fixtures_dir()
        .join("versions/etcdutl-3.5.1")
        .join(format!("{name}.{what}"));
    std::fs::read_to_string(&p).unwrap_or_else(|e| panic!("{}: {e}", p.display()))
}

fn s(p: &Path) -> &str {
    p.to_str().unwrap()
}

#[test]
fn status_refuses_every_file_etcdutl_3_5_1_refuses_and_matches_it_on_the_others() {
    let dir = scratch().join("recorded");
    std::fs::create_dir_all(&dir).unwrap();
    let cases = mutate::etcdutl_cases();
    assert_eq!(cases.len(), 13);
    for (name, bytes) in &cases {
        assert_eq!(
            sha256_hex(bytes),
            recorded(name, "sha256").trim(),
            "{name}: the test kit built other bytes than the recording's"
        );
        let p = dir.join(format!("{name}.db"));
        std::fs::write(&p, bytes).unwrap();
        let rc: i32 = recorded(name, "rc").trim().parse().unwrap();
        let r = etcdsnap(&["status", s(&p), "-w", "json", "--etcd-version", "3.5"]);
        match rc {
            0 => {
                assert_eq!(r.code, 0, "{name}: {}", r.stderr);
                assert_eq!(r.stdout, recorded(name, "stdout"), "{name}");
                if *name == "leaf-count-lowered" {
                    // etcdutl reads it (one entry fewer): status too; verify says it.
                    assert_eq!(etcdsnap(&["verify", s(&p)]).code, 1, "{name}");
                }
            }
            1 => {
                // bbolt's Tx.Check found problems: the same message, line for line.
                assert_eq!(r.code, 1, "{name}: {}{}", r.stdout, r.stderr);
                assert!(r.stdout.is_empty(), "{name}");
                assert_eq!(r.stderr, recorded(name, "stderr"), "{name}");
            }
            _ => {
                // etcdutl panicked or crashed: refused too, in words.
                assert_eq!(r.code, 1, "{name}: {}{}", r.stdout, r.stderr);
                assert!(r.stdout.is_empty(), "{name}: {}", r.stdout);
                assert!(r.stderr.starts_with("Error: "), "{name}: {}", r.stderr);
            }
        }
    }
    // Every refusal lists all its findings and the count says how many lines follow.
    let r = etcdsnap(&[
        "status",
        s(&dir.join("freelist-reachable-and-unreachable.db")),
    ]);
    let lines: Vec<&str> = r.stderr.lines().collect();
    assert_eq!(lines.len(), 3);
    assert_eq!(
        lines[0],
        "Error: snapshot file integrity check failed. 2 errors found."
    );
    std::fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn etcd_3_6_rejects_revision_keys_that_3_5_accepts() {
    let dir = scratch().join("revkeys");
    std::fs::create_dir_all(&dir).unwrap();
    let h3 = std::fs::read(corpus_db("h3.db")).unwrap();
    for (name, bytes, why) in [
        (
            "19",
            mutate::last_key_edit(&h3, 1, None),
            "invalid revision length: 19",
        ),
        (
            "sep",
            mutate::last_key_edit(&h3, 0, Some(b'x')),
            "invalid separator in bucket key: 'x'",
        ),
    ] {
        let p = dir.join(format!("{name}.db"));
        std::fs::write(&p, &bytes).unwrap();
        assert_eq!(
            etcdsnap(&["status", s(&p), "--etcd-version", "3.5"]).code,
            0
        );
        for v in ["3.6", "3.7"] {
            let r = etcdsnap(&["status", s(&p), "--etcd-version", v]);
            assert_eq!(r.code, 1, "{name} {v}: {}", r.stdout);
            assert!(r.stdout.is_empty());
            assert!(
                r.stderr.starts_with(
                    "Error: error during bucket key iteration, name: \"key\" err: cannot parse revision key: \""
                ),
                "{}",
                r.stderr
            );
            assert!(r.stderr.trim_end().ends_with(why), "{}", r.stderr);
        }
    }
    // The tombstone's key cut to 17 bytes is a valid revision key for 3.6, but its value then
    // starts with the cut 't' (field 14, wire type 4: an end-group tag).
    let cut = mutate::last_key_edit(&h3, -1, None);
    let p = dir.join("cut.db");
    std::fs::write(&p, &cut).unwrap();
    let r = etcdsnap(&["status", s(&p), "--etcd-version", "3.6", "-w", "json"]);
    assert_eq!(r.code, 1, "{}", r.stdout);
    assert!(
        r.stderr.contains("cannot unmarshal value, key: "),
        "{}",
        r.stderr
    );
    std::fs::remove_dir_all(&dir).unwrap();
}

/// `count=N` of a corpus `.tsv` listing: etcdctl's count of the live keys at the head.
fn live_count(listing: &str) -> u64 {
    let head = std::fs::read_to_string(corpus_file(listing)).unwrap();
    let first = head.lines().next().unwrap();
    first
        .split_whitespace()
        .find_map(|w| w.strip_prefix("count="))
        .unwrap()
        .parse()
        .unwrap()
}

#[test]
fn etcd_3_6_counts_live_keys_and_adds_an_empty_version_to_a_3_5_file() {
    for (db, listing) in [
        ("h1.db", "h1.get.head.tsv"),
        ("h2a.db", "h2a.get.head.tsv"),
        ("h2b.db", "h2b.get.head.tsv"),
        ("h3.db", "h3.get.head.tsv"),
        ("h5-k8s.db", "h5-k8s.get.head.tsv"),
    ] {
        let p = corpus_db(db);
        let v35: serde_json::Value = serde_json::from_str(
            &std::fs::read_to_string(corpus_file(&format!("{db}.status.json"))).unwrap(),
        )
        .unwrap();
        let live = live_count(listing);
        for v in ["3.6", "3.7"] {
            let r = etcdsnap(&["status", s(&p), "-w", "json", "--etcd-version", v]);
            assert_eq!(r.code, 0, "{db}: {}", r.stderr);
            // Go's encoding/json of snapshot.Status at v3.6.0: the 3.5 fields, then version.
            let want = format!(
                "{{\"hash\":{},\"revision\":{},\"totalKey\":{live},\"totalSize\":{},\"version\":\"\"}}\n",
                v35["hash"], v35["revision"], v35["totalSize"]
            );
            assert_eq!(r.stdout, want, "{db} {v}");
            // simple: the 3.5 line with the 3.6 count and ", " + "" appended.
            let simple35 =
                std::fs::read_to_string(corpus_file(&format!("{db}.status.simple"))).unwrap();
            let f: Vec<&str> = simple35.trim_end().split(", ").collect();
            let r = etcdsnap(&["status", s(&p), "--etcd-version", v]);
            assert_eq!(
                r.stdout,
                format!("{}, {}, {live}, {}, \n", f[0], f[1], f[3]),
                "{db} {v}"
            );
            // fields: Println(`"Version" :`, "") keeps the space.
            let r = etcdsnap(&["status", s(&p), "-w", "fields", "--etcd-version", v]);
            assert!(
                r.stdout.ends_with(&format!(
                    "\"Keys\" : {live}\n\"Size\" : {}\n\"Version\" : \n",
                    v35["totalSize"]
                )),
                "{}",
                r.stdout
            );
        }
        // Without the flag a file without storageVersion is a 3.5 file: 3.5's bytes.
        let r = etcdsnap(&["status", s(&p), "-w", "json"]);
        assert_eq!(
            r.stdout,
            std::fs::read_to_string(corpus_file(&format!("{db}.status.json"))).unwrap()
        );
    }
}

#[test]
fn etcd_3_7_draws_the_3_6_table_with_box_characters() {
    let p = corpus_db("h1.db");
    let t36 = etcdsnap(&["status", s(&p), "-w", "table", "--etcd-version", "3.6"]).stdout;
    let t37 = etcdsnap(&["status", s(&p), "-w", "table", "--etcd-version", "3.7"]).stdout;
    let lines36: Vec<&str> = t36.lines().collect();
    let lines37: Vec<&str> = t37.lines().collect();
    assert_eq!(lines36.len(), 5);
    assert_eq!(lines37.len(), 5);
    assert!(lines36[1].contains("| VERSION |"), "{t36}");
    // Same cells, same widths: only the border glyphs differ.
    for (a, b) in lines36.iter().zip(&lines37) {
        assert_eq!(a.chars().count(), b.chars().count());
    }
    assert!(lines37[0].starts_with('┌') && lines37[0].ends_with('┐'));
    assert!(lines37[2].starts_with('├') && lines37[2].contains('┼'));
    assert!(lines37[4].starts_with('└') && lines37[4].contains('┴'));
    assert_eq!(lines36[3].replace('|', "│"), lines37[3]);
}

#[test]
fn unknown_versions_are_usage_errors() {
    let p = corpus_db("h4-empty.db");
    for v in ["3.8", "2", "3.x", "latest"] {
        let r = etcdsnap(&["status", s(&p), "--etcd-version", v]);
        assert_eq!(r.code, 2, "{v}");
    }
}

#[test]
fn info_names_the_writer() {
    for (db, schema) in [("h1.db", "v3_4"), ("h2a.db", "v3_5"), ("h5-k8s.db", "v3_5")] {
        let r = etcdsnap(&["info", s(&corpus_db(db)), "-w", "json"]);
        assert_eq!(r.code, 0, "{}", r.stderr);
        let v: serde_json::Value = serde_json::from_str(&r.stdout).unwrap();
        let w = &v["writer"];
        assert_eq!(w["schema"]["kind"], schema, "{db}");
        assert_eq!(w["storage_version"], serde_json::Value::Null);
        assert_eq!(w["default_tools"], "3.5");
        assert_eq!(w["cluster_version"], v["cluster"]["version"]);
    }
    let r = etcdsnap(&["info", s(&corpus_db("h2a.db"))]);
    assert!(
        r.stdout
            .contains("  schema               3.5 (term and confState, no storageVersion)\n"),
        "{}",
        r.stdout
    );
}

fn tombstone_file(name: &str) -> PathBuf {
    fixtures_dir().join("versions/tombstone").join(name)
}

fn json_file(p: &Path) -> serde_json::Value {
    serde_json::from_str(&std::fs::read_to_string(p).unwrap()).unwrap()
}

#[test]
fn hashkv_tombstone_at_the_compaction_revision_both_behaviours() {
    // before.db (real etcd 3.5.1: a@2, b@3, a@4, a@5 tombstone, b@6 tombstone) with its
    // compaction set to 6: nothing is live at 6, Keep(6) is empty, and b's tombstone sits at
    // the compaction revision. Real etcd 3.5.1 serving this file hashes the tombstone.
    let before = std::fs::read(tombstone_file("before.db")).unwrap();
    let edited = mutate::set_compaction(&before, 6);
    assert_eq!(
        sha256_hex(&edited),
        std::fs::read_to_string(tombstone_file("before-compact6.sha256"))
            .unwrap()
            .trim()
    );
    let dir = scratch().join("tomb");
    std::fs::create_dir_all(&dir).unwrap();
    let p = dir.join("before-compact6.db");
    std::fs::write(&p, &edited).unwrap();
    let real = json_file(&tombstone_file("before-compact6.etcd351.hashkv.json"));
    let real = &real[0]["HashKV"];
    let hash = |args: &[&str]| -> serde_json::Value {
        let mut a = vec!["hashkv", s(&p), "-w", "json"];
        a.extend_from_slice(args);
        let r = etcdsnap(&a);
        assert_eq!(r.code, 0, "{args:?}: {}", r.stderr);
        serde_json::from_str(&r.stdout).unwrap()
    };
    // etcd before 3.5.16 (and 3.4 before 3.4.34): the tombstone is hashed.
    for v in ["3.5.1", "3.5.15", "3.4.33"] {
        let h = hash(&["--etcd-version", v]);
        assert_eq!(h["hash"], real["hash"], "{v}");
        assert_eq!(h["compact_revision"], real["compact_revision"], "{v}");
    }
    // 3.5.16+, 3.4.34+, 3.6, 3.7 and the default: skipped, so another hash.
    let skipped = hash(&[])["hash"].clone();
    assert_ne!(skipped, real["hash"]);
    for v in ["3.5", "3.5.16", "3.4.34"] {
        assert_eq!(hash(&["--etcd-version", v])["hash"], skipped, "{v}");
    }
    for v in ["3.6", "3.7"] {
        let h = hash(&["--etcd-version", v]);
        assert_eq!(h["hash"], skipped, "{v}");
        assert_eq!(h["compactRevision"], 6);
        assert_eq!(h["hashRevision"], 6);
    }
    // R = the compaction revision: refused by 3.5, accepted by 3.6.
    let r = etcdsnap(&["hashkv", s(&p), "--rev", "6", "--etcd-version", "3.5"]);
    assert_eq!(r.code, 2);
    assert!(r.stderr.contains("compacted"), "{}", r.stderr);
    let r = etcdsnap(&["hashkv", s(&p), "--rev", "6", "--etcd-version", "3.6"]);
    assert_eq!(r.code, 0, "{}", r.stderr);
    assert_eq!(r.stdout, format!("{skipped}, 6, 6\n"));
    // Files without the tombstone (etcd 3.5.1 deleted it when it compacted): every rule agrees
    // with what etcd 3.5.1 answered.
    let after = tombstone_file("after.db");
    let real = json_file(&tombstone_file("after.hashkv.json"));
    for v in ["3.5.1", "3.5", "3.6"] {
        let r = etcdsnap(&["hashkv", s(&after), "--etcd-version", v, "-w", "json"]);
        let h: serde_json::Value = serde_json::from_str(&r.stdout).unwrap();
        assert_eq!(h["hash"], real[0]["HashKV"]["hash"], "{v}");
    }
    std::fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn hashkv_shapes_per_version() {
    let p = tombstone_file("before.db");
    let real = json_file(&tombstone_file("before.hashkv.json"));
    let (h, c) = (
        &real[0]["HashKV"]["hash"],
        &real[0]["HashKV"]["compact_revision"],
    );
    let out = |args: &[&str]| {
        let mut a = vec!["hashkv", s(&p)];
        a.extend_from_slice(args);
        let r = etcdsnap(&a);
        assert_eq!(r.code, 0, "{args:?}: {}", r.stderr);
        r.stdout
    };
    // etcdutl 3.6 hashkv (printer.go makeDBHashKVTable, printer_json.go, printer_fields.go).
    assert_eq!(out(&["--etcd-version", "3.6"]), format!("{h}, 6, {c}\n"));
    assert_eq!(
        out(&["--etcd-version", "3.6", "-w", "json"]),
        format!("{{\"hash\":{h},\"hashRevision\":6,\"compactRevision\":{c}}}\n")
    );
    assert_eq!(
        out(&["--etcd-version", "3.6", "-w", "fields"]),
        format!("\"Hash\" : {h}\n\"Hash revision\" : 6\n\"Compact revision\" : {c}\n")
    );
    let t = out(&["--etcd-version", "3.6", "-w", "table"]);
    assert!(
        t.contains("|    HASH    | HASH REVISION | COMPACT REVISION |"),
        "{t}"
    );
    let t = out(&["--etcd-version", "3.7", "-w", "table"]);
    assert!(
        t.contains("│    HASH    │ HASH REVISION │ COMPACT REVISION │"),
        "{t}"
    );
    // etcdctl endpoint hashkv: 3.5 without, 3.6 with the hash revision; the JSON is etcdctl's
    // minus the ids a file cannot know.
    let ep = "127.0.0.1:24110";
    assert_eq!(
        out(&["--etcd-version", "3.5", "--endpoint", ep]),
        format!("{ep}, {h}\n")
    );
    assert_eq!(
        out(&["--etcd-version", "3.6", "--endpoint", ep]),
        format!("{ep}, {h}, 6\n")
    );
    // etcdctl's bytes with the ids cut out.
    let raw = std::fs::read_to_string(tombstone_file("before.hashkv.json")).unwrap();
    let (a, b) = (
        raw.find("\"cluster_id\"").unwrap(),
        raw.find("\"revision\"").unwrap(),
    );
    let want = format!("{}{}", &raw[..a], &raw[b..]);
    assert_eq!(
        out(&["--etcd-version", "3.5", "--endpoint", ep, "-w", "json"]),
        want
    );
}

fn etcd36(name: &str) -> PathBuf {
    fixtures_dir().join("versions/etcd36").join(name)
}

#[test]
fn files_written_like_etcd_3_6_default_to_its_tools() {
    let dir = scratch().join("e36");
    let cases = etcdsnap_testkit::rewrite::etcd36_cases(&dir);
    assert_eq!(cases.len(), 2);
    // Live keys at the head: etcdctl's count for h2a; for the tombstone store every key was
    // deleted (tombstone/steps.txt: del a at 5, del b at 6).
    let live = |name: &str| {
        if name == "h2a-3.6" {
            live_count("h2a.get.head.tsv")
        } else {
            0
        }
    };
    for (name, path) in &cases {
        let bytes = std::fs::read(path).unwrap();
        assert_eq!(
            sha256_hex(&bytes),
            std::fs::read_to_string(etcd36(&format!("{name}.sha256")))
                .unwrap()
                .trim(),
            "{name}: the test kit wrote other bytes than the recording's"
        );
        // etcdutl 3.5.1's hash, revision and size (3.6 computes them alike), 3.6's count and
        // version: the default for a file whose storage version is 3.6.0.
        let v35 = json_file(&etcd36(&format!("{name}.etcdutl351.json")));
        let want = format!(
            "{{\"hash\":{},\"revision\":{},\"totalKey\":{},\"totalSize\":{},\"version\":\"3.6.0\"}}\n",
            v35["hash"],
            v35["revision"],
            live(name),
            v35["totalSize"]
        );
        let r = etcdsnap(&["status", s(path), "-w", "json"]);
        assert_eq!(r.code, 0, "{name}: {}", r.stderr);
        assert_eq!(r.stdout, want, "{name}");
        // Asking for 3.5 gives etcdutl 3.5.1's own bytes.
        let r = etcdsnap(&["status", s(path), "-w", "json", "--etcd-version", "3.5"]);
        assert_eq!(
            r.stdout,
            std::fs::read_to_string(etcd36(&format!("{name}.etcdutl351.json"))).unwrap()
        );
        // simple is the default format, with the version last.
        let r = etcdsnap(&["status", s(path)]);
        assert!(r.stdout.ends_with(", 3.6.0\n"), "{}", r.stdout);
        let r = etcdsnap(&["info", s(path), "-w", "json"]);
        let info: serde_json::Value = serde_json::from_str(&r.stdout).unwrap();
        assert_eq!(info["writer"]["storage_version"], "3.6.0");
        assert_eq!(info["writer"]["schema"]["kind"], "storage_version");
        assert_eq!(info["writer"]["default_tools"], "3.6");
        assert_eq!(info["writer"]["cluster_version"], "3.6.0");
    }
    // hashkv of the store 3.6 writes after compacting at the tombstone: what etcd 3.5.1
    // answered after its own compaction (which deleted the tombstone) by default, and what
    // etcd 3.5.1 serving the 3.6 file answers (it hashes the tombstone) with 3.5.1's rules.
    let tomb = &cases[1].1;
    let after = json_file(&tombstone_file("after.hashkv.json"));
    let r = etcdsnap(&["hashkv", s(tomb), "-w", "json"]);
    let h: serde_json::Value = serde_json::from_str(&r.stdout).unwrap();
    assert_eq!(h["hash"], after[0]["HashKV"]["hash"]);
    assert_eq!(h["compactRevision"], 6);
    let served = json_file(&etcd36("tombstone-3.6.etcd351.hashkv.json"));
    let r = etcdsnap(&["hashkv", s(tomb), "-w", "json", "--etcd-version", "3.5.1"]);
    let h: serde_json::Value = serde_json::from_str(&r.stdout).unwrap();
    assert_eq!(h["hash"], served[0]["HashKV"]["hash"]);
    assert_ne!(h["hash"], after[0]["HashKV"]["hash"]);
    std::fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn the_storage_version_decides_the_default_as_etcd_parses_it() {
    use etcdsnap_testkit::rewrite::{Edits, rewrite};
    let dir = scratch().join("sv");
    std::fs::create_dir_all(&dir).unwrap();
    let src = corpus_db("h4-empty.db");
    for (stored, version, default_table_corner) in [
        // go-semver: not dotted-tri, so no version: etcdutl 3.6 prints "", we default to 3.5.
        ("3.6", None, '+'),
        ("v3.6.0", None, '+'),
        ("3.7.0", Some("3.7.0"), '┌'),
        ("3.6.1-rc.0+x", Some("3.6.1-rc.0+x"), '+'),
        ("3.9.0", Some("3.9.0"), '┌'),
    ] {
        let p = dir.join("f.db");
        rewrite(
            &src,
            &p,
            &Edits::new().set(b"meta", b"storageVersion", stored.as_bytes()),
            false,
        );
        let t = etcdsnap(&["status", s(&p), "-w", "table"]).stdout;
        assert!(t.starts_with(default_table_corner), "{stored}: {t}");
        let r = etcdsnap(&["status", s(&p), "-w", "json", "--etcd-version", "3.6"]);
        let v: serde_json::Value = serde_json::from_str(&r.stdout).unwrap();
        assert_eq!(v["version"], version.unwrap_or(""), "{stored}");
    }
    std::fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn etcd_3_6_checks_key_order_too() {
    // bbolt 1.4's Tx.Check (etcd 3.6, tx_check.go recursivelyCheckPageKeyOrder) compares keys;
    // bbolt 1.3.6's (etcd 3.5) does not, and etcdutl 3.5 prints figures for such a file (our
    // 3.5 status stops at the disorder it finds while hashing: exit 2).
    let h5 = std::fs::read(corpus_db("h5-k8s.db")).unwrap();
    let dir = scratch().join("order");
    std::fs::create_dir_all(&dir).unwrap();
    let p = dir.join("swapped.db");
    std::fs::write(&p, mutate::swap_first_two_keys(&h5)).unwrap();
    let r = etcdsnap(&["status", s(&p), "--etcd-version", "3.6"]);
    assert_eq!(r.code, 1, "{}{}", r.stdout, r.stderr);
    assert!(
        r.stderr
            .starts_with("Error: snapshot file integrity check failed. "),
        "{}",
        r.stderr
    );
    assert!(r.stderr.contains("bucket key"), "{}", r.stderr);
    let r = etcdsnap(&["status", s(&p), "--etcd-version", "3.5"]);
    assert_eq!(r.code, 2, "{}{}", r.stdout, r.stderr);
    assert!(r.stderr.contains("out of order"), "{}", r.stderr);
    std::fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn values_and_revisions_3_6_and_3_7_read_differently() {
    use etcdsnap_testkit::rewrite::{Edits, rev_key, rewrite};
    let dir = scratch().join("pb");
    std::fs::create_dir_all(&dir).unwrap();
    let src = corpus_db("h4-empty.db");
    // Field 1 (key) first as a varint, then as bytes "k": gogo's Unmarshal (3.6) fails on the
    // wire type, protobuf-go's proto.Unmarshal (3.7) keeps the varint as an unknown field.
    let odd = [
        0x08, 0x05, 0x0a, 0x01, b'k', 0x10, 0x02, 0x18, 0x02, 0x20, 0x01,
    ];
    let p = dir.join("odd.db");
    rewrite(
        &src,
        &p,
        &Edits::new().set(b"key", &rev_key(2, 0, false), &odd),
        false,
    );
    let r = etcdsnap(&["status", s(&p), "--etcd-version", "3.6"]);
    assert_eq!(r.code, 1, "{}", r.stdout);
    assert!(
        r.stderr.contains("cannot unmarshal value, key: "),
        "{}",
        r.stderr
    );
    let r = etcdsnap(&["status", s(&p), "--etcd-version", "3.7", "-w", "json"]);
    assert_eq!(r.code, 0, "{}", r.stderr);
    assert!(r.stdout.contains("\"totalKey\":1,"), "{}", r.stdout);
    // A negative main revision: BytesToBucketKey panics (3.6, 3.7); 3.5 reads it as is.
    let p = dir.join("neg.db");
    let mut k = rev_key(2, 0, false);
    k[0] = 0x80;
    rewrite(
        &src,
        &p,
        &Edits::new().set(b"key", &k, &[0x0a, 0x01, b'k']),
        false,
    );
    for v in ["3.6", "3.7"] {
        let r = etcdsnap(&["status", s(&p), "--etcd-version", v]);
        assert_eq!(r.code, 1, "{}", r.stdout);
        assert!(
            r.stderr
                .trim_end()
                .ends_with("err: negative revision: main=-9223372036854775806 sub=0"),
            "{}",
            r.stderr
        );
    }
    assert_eq!(
        etcdsnap(&["status", s(&p), "--etcd-version", "3.5"]).code,
        0
    );
    std::fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn several_files_each_refused_or_answered_by_its_own_etcd() {
    let dir = scratch().join("many");
    std::fs::create_dir_all(&dir).unwrap();
    let h4 = std::fs::read(corpus_db("h4-empty.db")).unwrap();
    let bad = dir.join("bad.db");
    std::fs::write(&bad, mutate::with_freelist(&h4, &[3], None)).unwrap();
    let e36 = etcdsnap_testkit::rewrite::etcd36_cases(&dir.join("e36"));
    let good = corpus_db("h3.db");
    let r = etcdsnap(&["status", s(&good), s(&bad), s(&e36[0].1), "-w", "json"]);
    assert_eq!(r.code, 1, "{}{}", r.stdout, r.stderr);
    let lines: Vec<serde_json::Value> = r
        .stdout
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    assert_eq!(lines.len(), 2);
    assert!(lines[0].get("version").is_none());
    assert_eq!(lines[1]["version"], "3.6.0");
    let want: Vec<String> = recorded("freelist-reachable-and-unreachable", "stderr")
        .lines()
        .map(|l| format!("{}: {l}", bad.display()))
        .collect();
    assert_eq!(r.stderr.lines().collect::<Vec<_>>(), want);
    let t = etcdsnap(&["status", s(&good), s(&e36[0].1), "-w", "table"]).stdout;
    assert!(t.lines().nth(1).unwrap().ends_with("| VERSION |"), "{t}");
    std::fs::remove_dir_all(&dir).unwrap();
}
