//! The built binary, run on the fixtures: exit codes, streams and output shapes of `get`,
//! `history`, `hashkv` and `info`, checked against what etcdctl printed where etcd has an
//! answer.

#[path = "../../mvcc/tests/common/fixtures.rs"]
mod fixtures;

use std::process::{Command, Output};

fn run(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_etcdsnap"))
        .args(args)
        .output()
        .expect("run etcdsnap")
}

fn own(name: &str) -> String {
    fixtures::own().join(name).to_string_lossy().into_owned()
}

fn corpus(name: &str) -> String {
    fixtures::db(name).to_string_lossy().into_owned()
}

fn stdout(o: &Output) -> String {
    String::from_utf8_lossy(&o.stdout).into_owned()
}

fn stderr(o: &Output) -> String {
    String::from_utf8_lossy(&o.stderr).into_owned()
}

/// etcdctl's JSON without the header fields a file cannot know.
fn without_ids(etcd_json: &str) -> String {
    // {"header":{"cluster_id":N,"member_id":N,"revision":... (field order is Go's).
    let start = etcd_json.find("\"cluster_id\":").unwrap();
    let rev = etcd_json.find("\"revision\":").unwrap();
    format!("{}{}\n", &etcd_json[..start], etcd_json[rev..].trim_end())
}

#[test]
fn get_json_is_etcdctls_bytes() {
    let want =
        std::fs::read_to_string(fixtures::own().join("own-35.get.head.keys-only.json")).unwrap();
    let o = run(&[
        "get",
        &own("own-35.db"),
        "",
        "--from-key",
        "--keys-only",
        "-w",
        "json",
    ]);
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    assert!(
        stdout(&o) == without_ids(&want),
        "differs from etcdctl's listing"
    );
    // h3: zero-length values, a binary key, overflow values; the digest of the listing.
    let o = run(&["get", &corpus("h3.db"), "", "--prefix", "-w", "json"]);
    let v: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap();
    assert_eq!(v["header"]["revision"], 13);
    assert_eq!(v["header"]["raft_term"], 2);
    assert_eq!(v["count"], 10);
    assert!(v.get("more").is_none());
}

#[test]
fn get_simple_fields_and_shapes() {
    let db = own("own-35.db");
    // simple: key line, value line, raw bytes.
    let o = run(&["get", &db, "foo"]);
    assert_eq!(o.stdout, b"foo\nbar2\n");
    let o = run(&["get", &db, "foo", "--print-value-only"]);
    assert_eq!(o.stdout, b"bar2\n");
    let o = run(&["get", &db, "foo", "--keys-only"]);
    assert_eq!(o.stdout, b"foo\n\n");
    // A binary value printed raw.
    let o = run(&["get", &db, "", "--from-key", "--limit", "1"]);
    assert_eq!(o.stdout, b"\x00bin-key\xff\x00\n\x00\x01\x02\x03\xff\n");
    // fields at the compaction revision (readable), as etcdctl prints minus cluster/member id.
    let o = run(&["get", &db, "foo", "--rev", "226", "-w", "fields"]);
    assert_eq!(
        stdout(&o),
        "\"Revision\" : 256\n\"RaftTerm\" : 2\n\"Key\" : \"foo\"\n\"CreateRevision\" : 182\n\
         \"ModRevision\" : 211\n\"Version\" : 2\n\"Value\" : \"bar2\"\n\"Lease\" : 0\n\
         \"More\" : false\n\"Count\" : 1\n"
    );
    let o = run(&["get", &db, "", "--from-key", "--limit", "1", "-w", "fields"]);
    assert!(stdout(&o).contains("\"Key\" : \"\\x00bin-key\\xff\\x00\"\n"));
    assert!(stdout(&o).contains("\"Value\" : \"\\x00\\x01\\x02\\x03\\xff\"\n"));
    assert!(stdout(&o).contains("\"More\" : true\n"));
    // --limit: more and the whole range's count.
    let o = run(&[
        "get",
        &db,
        "/registry/pods/",
        "--prefix",
        "--limit",
        "2",
        "-w",
        "json",
    ]);
    let v: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap();
    assert_eq!(v["kvs"].as_array().unwrap().len(), 2);
    assert_eq!(v["more"], true);
    assert!(v["count"].as_i64().unwrap() > 2);
    // count-only in every format; keys-only with it is accepted.
    let o = run(&["get", &db, "", "--from-key", "--count-only", "--keys-only"]);
    assert_eq!(stdout(&o), "205\n");
    let o = run(&["get", &db, "", "--from-key", "--count-only", "-w", "json"]);
    assert_eq!(
        stdout(&o),
        "{\"header\":{\"revision\":256,\"raft_term\":2},\"count\":205}\n"
    );
    // A 3.4 file has no raft term.
    let o = run(&["get", &own("own-34.db"), "foo", "-w", "json"]);
    assert!(stdout(&o).starts_with("{\"header\":{\"revision\":256},\"kvs\":[{\"key\":\"Zm9v\""));
    // sort-by / order.
    let o = run(&[
        "get",
        &db,
        "/registry/pods/ns-0/",
        "--prefix",
        "--sort-by",
        "modify",
        "--order",
        "DESCEND",
        "-w",
        "json",
    ]);
    let v: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap();
    let mods: Vec<i64> = v["kvs"]
        .as_array()
        .unwrap()
        .iter()
        .map(|kv| kv["mod_revision"].as_i64().unwrap())
        .collect();
    assert!(
        mods.windows(2).all(|w| w[0] >= w[1]) && mods.len() == 8,
        "{mods:?}"
    );
}

#[test]
fn get_exit_codes() {
    let db = own("own-35.db");
    // Missing key: nothing, exit 0 (json: only the header, like etcdctl).
    let o = run(&["get", &db, "nope"]);
    assert_eq!((o.status.code(), o.stdout.len()), (Some(0), 0));
    let o = run(&["get", &db, "nope", "-w", "json"]);
    assert_eq!(
        stdout(&o),
        "{\"header\":{\"revision\":256,\"raft_term\":2}}\n"
    );
    // etcd's refusals, in etcd's words, exit 2.
    for (rev, msg) in [
        (
            "225",
            "etcdserver: mvcc: required revision has been compacted",
        ),
        (
            "257",
            "etcdserver: mvcc: required revision is a future revision",
        ),
    ] {
        let o = run(&["get", &db, "foo", "--rev", rev]);
        assert_eq!(o.status.code(), Some(2));
        // etcd's words, then the file and the revisions it holds.
        assert_eq!(
            stderr(&o),
            format!(
                "etcdsnap: {msg} ({db}: --rev {rev}; newest revision 256, compacted at 226; --rev 0 reads the newest)\n"
            )
        );
        assert!(o.stdout.is_empty());
    }
    let o = run(&["get", &db, ""]);
    assert_eq!(o.status.code(), Some(2));
    assert_eq!(stderr(&o), "etcdsnap: etcdserver: key is not provided\n");
    let o = run(&["get", &db, "foo", "-w", "json", "--print-value-only"]);
    assert_eq!(o.status.code(), Some(2));
    // Argument errors and unusable files: exit 2.
    assert_eq!(
        run(&["get", &db, "a", "--prefix", "--from-key"])
            .status
            .code(),
        Some(2)
    );
    let o = run(&["get", "/nonexistent/file.db", "foo"]);
    assert_eq!(o.status.code(), Some(2));
    assert!(stderr(&o).starts_with("etcdsnap: /nonexistent/file.db: "));
}

/// Every `etcdctl get` case of fixtures/mvcc-get, replayed byte for byte.
#[test]
fn get_equals_etcdctl_in_every_format() {
    use base64::Engine as _;
    use std::os::unix::ffi::OsStringExt;
    let dir = fixtures::fixtures().join("mvcc-get");
    let cases: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(dir.join("cases.json")).unwrap()).unwrap();
    let db = dir.join("store.db");
    let mut checked = 0;
    for c in cases["cases"].as_array().unwrap() {
        let fmt = c["format"].as_str().unwrap();
        let mut args: Vec<std::ffi::OsString> = vec!["get".into(), db.clone().into()];
        for a in c["args"].as_array().unwrap() {
            let bytes = base64::engine::general_purpose::STANDARD
                .decode(a.as_str().unwrap())
                .unwrap();
            args.push(std::ffi::OsString::from_vec(bytes));
        }
        args.push("-w".into());
        args.push(fmt.into());
        let o = Command::new(env!("CARGO_BIN_EXE_etcdsnap"))
            .args(&args)
            .output()
            .unwrap();
        let want = std::fs::read(dir.join(c["stdout"].as_str().unwrap())).unwrap();
        let what = format!("{args:?}");
        let error = c["error"].as_str();
        match c["exit"].as_i64().unwrap() {
            0 => {
                assert_eq!(o.status.code(), Some(0), "{what}: {}", stderr(&o));
                assert!(o.stdout == want, "{what}: stdout differs from etcdctl's");
            }
            // Server errors (compacted, future, empty key): etcd's words, our exit code.
            1 => {
                assert_eq!(o.status.code(), Some(2), "{what}");
                // etcd's words first; revision errors then name the file and its range.
                let err = stderr(&o);
                let words = format!("etcdsnap: {}", error.unwrap());
                assert!(
                    err == format!("{words}\n") || err.starts_with(&format!("{words} (")),
                    "{what}: {err}"
                );
                assert!(o.stdout.is_empty(), "{what}");
            }
            // Flag combinations etcdctl refuses.
            _ if error.unwrap().starts_with("--count-only") => {
                // Intended difference: answered in every format.
                assert_eq!(o.status.code(), Some(0), "{what}");
                assert!(stdout(&o).contains(if fmt == "json" { "\"count\":" } else { "" }));
            }
            _ => {
                assert_eq!(o.status.code(), Some(2), "{what}");
                // etcd's words first; revision errors then name the file and its range.
                let err = stderr(&o);
                let words = format!("etcdsnap: {}", error.unwrap());
                assert!(
                    err == format!("{words}\n") || err.starts_with(&format!("{words} (")),
                    "{what}: {err}"
                );
            }
        }
        checked += 1;
    }
    assert!(checked >= 60, "{checked} cases");
}

#[test]
fn hashkv_shapes() {
    let db = own("own-35.db");
    let o = run(&["hashkv", &db, "-w", "json"]);
    assert_eq!(
        stdout(&o),
        "{\"hash\":1944210181,\"compact_revision\":226,\"revision\":256,\"hash_revision\":256}\n"
    );
    let o = run(&["hashkv", &db, "--rev", "227"]);
    assert_eq!(stdout(&o), "1407240462, 226, 256\n");
    let o = run(&["hashkv", &db, "-w", "table"]);
    assert_eq!(
        stdout(&o),
        "+------------+------------------+----------+\n\
         |    HASH    | COMPACT REVISION | REVISION |\n\
         +------------+------------------+----------+\n\
         | 1944210181 |              226 |      256 |\n\
         +------------+------------------+----------+\n"
    );
    let o = run(&["hashkv", &db, "--rev", "226"]);
    assert_eq!(o.status.code(), Some(2));
    assert!(
        stderr(&o)
            .starts_with("etcdsnap: etcdserver: mvcc: required revision has been compacted ("),
        "{}",
        stderr(&o)
    );
    assert!(stderr(&o).contains("newest revision 256, compacted at 226"));
}

#[test]
fn history_shapes() {
    let db = own("own-35.db");
    let o = run(&["history", &db, "/registry/pods/ns-1/pods-0"]);
    assert_eq!(o.status.code(), Some(0));
    assert_eq!(
        stdout(&o),
        "/registry/pods/ns-1/pods-0  (3 revisions, 1 generation, deleted)\n\
         \x20 14_0         put     create=14 mod=14 version=1 lease=0 size=470\n\
         \x20 227_0        put     create=14 mod=227 version=2 lease=0 size=178\n\
         \x20 243_0        delete\n"
    );
    let o = run(&[
        "history",
        &db,
        "/registry/deployments/ns-2/",
        "--prefix",
        "-w",
        "json",
    ]);
    let v: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap();
    assert_eq!(
        (v["revision"].as_i64(), v["compact_revision"].as_i64()),
        (Some(256), Some(226))
    );
    let keys = v["keys"].as_array().unwrap();
    assert_eq!(keys.len(), 8);
    // deployments-0 was deleted by the delete-range and created again.
    let d0 = &keys[0];
    assert_eq!(d0["live"], true);
    let revs = d0["revisions"].as_array().unwrap();
    assert!(revs.iter().any(|r| r["tombstone"] == true));
    assert_eq!(revs.last().unwrap()["version"], 1);
    // A key compacted away has no history left; nothing is printed.
    let o = run(&["history", &db, "/locks/l-1"]);
    assert_eq!((o.status.code(), o.stdout.len()), (Some(0), 0));
}

#[test]
fn info_shapes() {
    let o = run(&["info", &corpus("h2a.db"), "-w", "json"]);
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    let v: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap();
    assert_eq!(v["auth"]["enabled"], true);
    assert_eq!(v["store"]["compact_revision"], 53);
    assert_eq!(v["file"]["sha256_trailer"], true);
    assert_eq!(v["file"]["freelist"]["persisted"], false);
    assert_eq!(v["cluster"]["members"].as_array().unwrap().len(), 1);
    assert!(!stdout(&o).contains("$2a$"));
    // The schema: every section and field, pinned (additions are fine, renames are not).
    let keys =
        |v: &serde_json::Value| -> Vec<String> { v.as_object().unwrap().keys().cloned().collect() };
    let mut top = keys(&v);
    top.sort();
    assert_eq!(
        top,
        [
            "alarms",
            "auth",
            "cluster",
            "file",
            "leases",
            "missing_leases",
            "store"
        ]
    );
    for (section, fields) in [
        (
            "file",
            &[
                "file_size",
                "page_size",
                "pages",
                "total_size",
                "sha256_trailer",
                "active_meta",
                "txid",
                "freelist",
                "buckets",
            ][..],
        ),
        (
            "store",
            &[
                "consistent_index",
                "term",
                "conf_state",
                "storage_version",
                "current_revision",
                "compact_revision",
                "scheduled_compact_revision",
                "finished_compact_revision",
                "compaction_interrupted",
                "revisions_stored",
                "live_keys",
            ][..],
        ),
        (
            "cluster",
            &["version", "downgrade", "members", "removed_members"][..],
        ),
        ("auth", &["enabled", "revision", "users", "roles"][..]),
    ] {
        let mut got = keys(&v[section]);
        got.sort();
        let mut want: Vec<String> = fields.iter().map(|s| s.to_string()).collect();
        want.sort();
        assert_eq!(got, want, "{section}");
    }
    let mut lease = keys(&v["leases"][0]);
    lease.sort();
    assert_eq!(
        lease,
        ["attached_keys", "id", "id_decimal", "remaining_ttl", "ttl"]
    );
    let mut member = keys(&v["cluster"]["members"][0]);
    member.sort();
    assert_eq!(
        member,
        ["client_urls", "id", "is_learner", "name", "peer_urls"]
    );
    let mut user = keys(&v["auth"]["users"][0]);
    user.sort();
    assert_eq!(user, ["has_password", "name", "no_password", "roles"]);
    let o = run(&["info", &own("own-35-member.db")]);
    assert_eq!(o.status.code(), Some(0));
    let text = stdout(&o);
    assert!(text.contains("sha256 trailer: no"), "{text}");
    assert!(
        text.contains("compaction           226 (scheduled 226, finished 226)"),
        "{text}"
    );
    assert!(!text.contains("$2a$"));
}
