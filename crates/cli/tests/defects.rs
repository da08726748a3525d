//! Issue 14's defects, one test each, run through the real binary: closed pipes, gates that
//! pass on nothing, silent misreads, misleading errors, inconsistencies.

#[path = "../../mvcc/tests/common/fixtures.rs"]
mod fixtures;

use std::io::{Read, Write};
use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};
use std::time::{Duration, Instant};

const BIN: &str = env!("CARGO_BIN_EXE_etcdsnap");

fn run(args: &[&str]) -> Output {
    Command::new(BIN)
        .args(args)
        .stdin(Stdio::null())
        .output()
        .expect("run etcdsnap")
}

fn db(name: &str) -> String {
    fixtures::db(name).to_string_lossy().into_owned()
}

fn text(b: &[u8]) -> String {
    String::from_utf8_lossy(b).into_owned()
}

fn scratch(name: &str) -> PathBuf {
    let d = std::env::temp_dir().join(format!("etcdsnap-defects-{}-{name}", std::process::id()));
    let _ = std::fs::remove_dir_all(&d);
    std::fs::create_dir_all(&d).unwrap();
    d
}

/// Waits for `child` at most `secs`, killing it (and failing) when it hangs.
fn wait(mut child: std::process::Child, secs: u64, what: &str) -> (i32, String) {
    let mut err = child.stderr.take().unwrap();
    let t = std::thread::spawn(move || {
        let mut s = Vec::new();
        let _ = err.read_to_end(&mut s);
        s
    });
    let start = Instant::now();
    let status = loop {
        if let Some(s) = child.try_wait().unwrap() {
            break s;
        }
        if start.elapsed() > Duration::from_secs(secs) {
            let _ = child.kill();
            let _ = child.wait();
            panic!("{what}: did not finish in {secs} s");
        }
        std::thread::sleep(Duration::from_millis(5));
    };
    let stderr = text(&t.join().unwrap());
    (status.code().expect("exit code, not a signal"), stderr)
}

/// 1. Every command is silent on a closed pipe, and its exit status is its verdict.
#[test]
fn closed_pipe_is_silent_and_the_exit_status_is_the_verdict() {
    let (a, b, k8s) = (db("h2a.db"), db("h2b.db"), db("h5-k8s.db"));
    let cases: Vec<(Vec<&str>, i32)> = vec![
        (vec!["get", &k8s, "/registry/", "--prefix", "--decode"], 0),
        (
            vec![
                "get",
                &k8s,
                "/registry/",
                "--prefix",
                "--decode",
                "-w",
                "json",
            ],
            0,
        ),
        (vec!["get", &a, "", "--from-key", "-w", "jsonl"], 0),
        (vec!["stats", &a, "-w", "json"], 0),
        (vec!["stats", &a], 0),
        (vec!["info", &a, "-w", "yaml"], 0),
        (vec!["history", &a, "", "--from-key"], 0),
        (vec!["status", &a], 0),
        (vec!["diff", &a, &b, "-w", "json"], 1),
        (vec!["diff", &a, &b, "--values", "-w", "json"], 1),
        (vec!["diff", &a, &b, "--values"], 1),
        (vec!["diff", &a, &b, "-w", "jsonl"], 1),
        (vec!["diff", &a, &a], 0),
        (vec!["audit", &k8s], 1),
        (vec!["audit", &a, "-w", "yaml"], 0),
        (vec!["verify", &a], 0),
    ];
    for (args, verdict) in cases {
        let mut child = Command::new(BIN)
            .args(&args)
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap();
        // The reader goes away before anything is written: every write gets EPIPE.
        drop(child.stdout.take());
        let (code, stderr) = wait(child, 60, &format!("{args:?}"));
        assert_eq!(stderr, "", "{args:?}");
        assert_eq!(code, verdict, "{args:?}");
    }
    // The same with a reader that takes one line, as `| head -1`.
    let mut child = Command::new(BIN)
        .args(["diff", &a, &b, "--values"])
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let mut out = child.stdout.take().unwrap();
    let mut first = [0u8; 64];
    let n = out.read(&mut first).unwrap();
    assert!(n > 0);
    drop(out);
    let (code, stderr) = wait(child, 60, "diff | head -1");
    assert_eq!((code, stderr.as_str()), (1, ""));
}

/// 2. A gate that audited nothing does not pass; kubectl's names are accepted.
#[test]
fn a_gate_that_audited_nothing_does_not_pass() {
    let k8s = db("h5-k8s.db");
    let plural = run(&["audit", &k8s, "--resource", "secrets", "-w", "json"]);
    assert_eq!(plural.status.code(), Some(1));
    for name in ["secret", "Secret", "secrets"] {
        let o = run(&["audit", &k8s, "--resource", name, "-w", "json"]);
        assert_eq!(o.stdout, plural.stdout, "{name}");
        assert_eq!(o.status.code(), Some(1));
    }
    let cm = run(&["audit", &k8s, "--resource", "cm", "-w", "json"]);
    let cms = run(&["audit", &k8s, "--resource", "configmaps", "-w", "json"]);
    assert_eq!(cm.stdout, cms.stdout);
    for (args, looked) in [
        (
            vec!["audit", &k8s, "--etcd-prefix", "/kubernetes.io"],
            "/kubernetes.io/secrets/",
        ),
        (
            vec!["audit", &k8s, "--resource", "widgetz"],
            "/registry/widgetz/",
        ),
        (
            vec!["audit", &k8s, "/registry/secrets/no-such-ns/", "--prefix"],
            "/registry/secrets/",
        ),
    ] {
        let o = run(&args);
        assert_eq!(o.status.code(), Some(2), "{args:?}");
        assert!(o.stdout.is_empty(), "{args:?}");
        let err = text(&o.stderr);
        assert!(
            err.contains("nothing to audit") && err.contains(looked),
            "{err}"
        );
        assert_eq!(err.lines().count(), 1);
    }
}

/// Defect 3. One key grammar: KEY alone is one exact key, and when it matches nothing we
/// say so; `--prefix` is a switch in diff as in get and history.
#[test]
fn one_exact_key_that_matches_nothing_is_said() {
    let (a, b) = (db("h2a.db"), db("h2b.db"));
    let o = run(&["diff", &a, &b, "/registry/pods/"]);
    assert_eq!(o.status.code(), Some(0));
    let err = text(&o.stderr);
    assert!(
        err.contains("one exact key") && err.contains("--prefix"),
        "{err}"
    );
    let o = run(&["diff", &a, &b, "/registry/pods/", "--prefix", "--summary"]);
    assert_eq!(o.status.code(), Some(1), "{}", text(&o.stderr));
    assert!(o.stderr.is_empty());
    assert!(text(&o.stdout).contains(" deleted"));
    // --prefix before the key, as the old `--prefix P` was written: the same selection.
    let o2 = run(&["diff", &a, &b, "--prefix", "/registry/pods/", "--summary"]);
    assert_eq!(o2.stdout, o.stdout);
    for cmd in ["history", "stats"] {
        let h = run(&[cmd, &a, "/registry/pods/"]);
        assert_eq!(h.status.code(), Some(0), "{cmd}");
        assert!(text(&h.stderr).contains("one exact key"), "{cmd}");
        let p = run(&[cmd, &a, "/registry/pods/", "--prefix"]);
        assert!(p.stderr.is_empty(), "{cmd}: {}", text(&p.stderr));
    }
}

fn gzip(b: &[u8]) -> Vec<u8> {
    let mut e = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
    e.write_all(b).unwrap();
    e.finish().unwrap()
}

fn xz(b: &[u8]) -> Vec<u8> {
    let mut e = xz2::write::XzEncoder::new(Vec::new(), 0);
    e.write_all(b).unwrap();
    e.finish().unwrap()
}

/// A copy of `src` whose `key` bucket is renamed in the root leaf of both metas: a bbolt
/// file without etcd's buckets.
fn without_key_bucket(src: &[u8]) -> Vec<u8> {
    let mut b = src.to_vec();
    let u32_at = |b: &[u8], at: usize| u32::from_le_bytes(b[at..at + 4].try_into().unwrap());
    let ps = u32_at(&b, 24) as usize;
    let mut patched = 0;
    for meta in [0, ps] {
        let root = u64::from_le_bytes(b[meta + 32..meta + 40].try_into().unwrap()) as usize;
        let page = root * ps;
        let mut i = page + 16;
        while i + 24 < page + ps {
            if &b[i..i + 3] == b"key" && &b[i + 19..i + 24] == b"lease" {
                b[i + 2] = b'z';
                patched += 1;
                break;
            }
            i += 1;
        }
    }
    assert!(patched > 0, "no key bucket found to rename");
    b
}

/// 4. Errors say what really happened, and inputs a user has are read.
#[test]
fn errors_say_what_happened_and_streams_and_compressed_backups_are_read() {
    let dir = scratch("errors");
    let own = db("own-35.db");
    let raw = std::fs::read(&own).unwrap();
    let plain = run(&["status", &own, "-w", "json"]);
    assert_eq!(plain.status.code(), Some(0));

    // Compressed backups: the same answer, and stderr says what was done.
    let zst =
        ruzstd::encoding::compress_to_vec(&raw[..], ruzstd::encoding::CompressionLevel::Fastest);
    for (name, bytes, what) in [
        ("b.db.gz", gzip(&raw), "gzip"),
        ("b.db.zst", zst, "zstd"),
        ("b.db.xz", xz(&raw), "xz"),
    ] {
        let p = dir.join(name);
        std::fs::write(&p, bytes).unwrap();
        let o = run(&["status", p.to_str().unwrap(), "-w", "json"]);
        assert_eq!(o.status.code(), Some(0), "{name}: {}", text(&o.stderr));
        assert_eq!(o.stdout, plain.stdout, "{name}");
        assert!(text(&o.stderr).contains(&format!("{what}-compressed")));
        let v = run(&["verify", p.to_str().unwrap()]);
        assert_eq!(v.status.code(), Some(0), "{name}");
    }
    let bz = dir.join("b.db.bz2");
    std::fs::write(&bz, b"BZh91AY&SY garbage").unwrap();
    let o = run(&["status", bz.to_str().unwrap()]);
    assert_eq!(o.status.code(), Some(2));
    assert!(text(&o.stderr).contains("bzip2-compressed"));

    // stdin, plain and compressed.
    for bytes in [raw.clone(), gzip(&raw)] {
        let mut child = Command::new(BIN)
            .args(["status", "-", "-w", "json"])
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap();
        let mut stdin = child.stdin.take().unwrap();
        let w = std::thread::spawn(move || stdin.write_all(&bytes));
        let o = child.wait_with_output().unwrap();
        w.join().unwrap().unwrap();
        assert_eq!(o.status.code(), Some(0), "{}", text(&o.stderr));
        assert_eq!(o.stdout, plain.stdout);
    }

    // A FIFO nobody writes to: an error at once, not a hang.
    let fifo = dir.join("fifo");
    let made = Command::new("mkfifo").arg(&fifo).status().unwrap();
    assert!(made.success());
    let child = Command::new(BIN)
        .args(["status", fifo.to_str().unwrap()])
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let (code, err) = wait(child, 10, "status FIFO");
    assert_eq!(code, 2);
    assert!(err.contains("stream is empty"), "{err}");

    // A data directory the user cannot read: permission denied, not "not a data directory".
    let data = dir.join("data");
    std::fs::create_dir_all(data.join("member/snap")).unwrap();
    std::fs::copy(&own, data.join("member/snap/db")).unwrap();
    let o = run(&["status", data.to_str().unwrap(), "-w", "json"]);
    assert_eq!(o.stdout, plain.stdout);
    assert!(text(&o.stderr).contains("reading"));
    set_mode(&data, 0o700);
    set_mode(&dir, 0o755);
    let o = as_unprivileged(&["status", data.to_str().unwrap()]);
    assert_eq!(o.status.code(), Some(2));
    let err = text(&o.stderr);
    assert!(err.contains("permission denied"), "{err}");
    assert!(!err.contains("not an etcd data directory"), "{err}");

    // verify: the --skip-hash-check note only for a sound bbolt file.
    let trunc = dir.join("trunc.db");
    std::fs::write(&trunc, &raw[..raw.len() / 3]).unwrap();
    let txt = dir.join("notes.txt");
    std::fs::write(&txt, "not a database\n".repeat(2000)).unwrap();
    let empty = dir.join("empty.db");
    std::fs::write(&empty, b"").unwrap();
    for (p, says) in [
        (&trunc, "truncated"),
        (&txt, "not a bbolt file"),
        (&empty, "not a bbolt file"),
    ] {
        let o = run(&["verify", p.to_str().unwrap()]);
        assert_eq!(o.status.code(), Some(1));
        let out = text(&o.stdout);
        assert!(!out.contains("skip-hash-check"), "{out}");
        assert!(out.lines().nth(1).unwrap().contains(says), "{out}");
    }
    let member = db("own-35-member.db");
    assert!(text(&run(&["verify", &member]).stdout).contains("--skip-hash-check"));
    // --max-findings 0: nothing shown, and said so without "more".
    let o = run(&["verify", trunc.to_str().unwrap(), "--max-findings", "0"]);
    let out = text(&o.stdout);
    assert!(!out.contains("more finding"), "{out}");
    assert!(out.contains("not shown"), "{out}");

    // --rev out of range: etcd's words, then the file and what it holds.
    let o = run(&["get", &own, "foo", "--rev", "999999"]);
    assert_eq!(o.status.code(), Some(2));
    let err = text(&o.stderr);
    assert!(
        err.starts_with("etcdsnap: etcdserver: mvcc: required revision is a future revision (")
    );
    assert!(
        err.contains(&own) && err.contains("newest revision 256, compacted at 226"),
        "{err}"
    );

    // status on a bbolt file that is not etcd's: refused like every other command.
    let foreign = dir.join("foreign.db");
    std::fs::write(&foreign, without_key_bucket(&raw)).unwrap();
    for cmd in ["status", "get", "hashkv"] {
        let mut args = vec![cmd, foreign.to_str().unwrap()];
        if cmd == "get" {
            args.push("foo");
        }
        let o = run(&args);
        assert_eq!(o.status.code(), Some(2), "{cmd}");
        assert!(o.stdout.is_empty(), "{cmd}");
        assert!(
            text(&o.stderr).contains("not an etcd v3 database"),
            "{cmd}: {}",
            text(&o.stderr)
        );
    }
    set_mode(&data, 0o755);
    std::fs::remove_dir_all(&dir).unwrap();
}

fn set_mode(p: &Path, mode: u32) {
    use std::os::unix::fs::PermissionsExt;
    std::fs::set_permissions(p, std::fs::Permissions::from_mode(mode)).unwrap();
}

/// Runs the binary as an unprivileged user (root reads everything): `nobody` via setpriv
/// when we are root, else ourselves with the directory made unreadable to us.
fn as_unprivileged(args: &[&str]) -> Output {
    let root = Command::new("id").arg("-u").output().unwrap().stdout == b"0\n";
    if root {
        // A copy of the binary where nobody can run it (the checkout may be under /root).
        let dir = scratch("bin");
        set_mode(&dir, 0o755);
        let bin = dir.join("etcdsnap");
        std::fs::copy(BIN, &bin).unwrap();
        set_mode(&bin, 0o755);
        let o = Command::new("setpriv")
            .args(["--reuid=65534", "--regid=65534", "--clear-groups"])
            .arg(&bin)
            .args(args)
            .output()
            .expect("setpriv");
        let _ = std::fs::remove_dir_all(&dir);
        o
    } else {
        set_mode(Path::new(args[1]), 0o000);
        let o = run(args);
        set_mode(Path::new(args[1]), 0o755);
        o
    }
}

/// 5. One rule for ids, one layout for the same table, keys and documents shown alike.
#[test]
fn one_rule_for_ids_tables_keys_and_documents() {
    let (a, b, h3) = (db("h2a.db"), db("h2b.db"), db("h3.db"));
    // JSON ids are hex strings: nothing above 2^53 as a number in info's document.
    let info: serde_json::Value =
        serde_json::from_slice(&run(&["info", &a, "-w", "json"]).stdout).unwrap();
    fn walk(v: &serde_json::Value, path: &str) {
        match v {
            serde_json::Value::Number(n) => {
                assert!(n.as_u64().is_none_or(|x| x < 1 << 53), "{path} = {n}");
                assert!(n.as_i64().is_none_or(|x| x < 1 << 53), "{path} = {n}");
            }
            serde_json::Value::Array(a) => a.iter().for_each(|v| walk(v, path)),
            serde_json::Value::Object(m) => {
                m.iter().for_each(|(k, v)| walk(v, &format!("{path}.{k}")))
            }
            _ => {}
        }
    }
    walk(&info, "info");
    let voters = &info["store"]["conf_state"]["voters"];
    assert!(voters[0].is_string(), "{voters}");
    assert_eq!(info["cluster"]["members"][0]["id"], voters[0]);
    let lease = &info["leases"][0];
    assert_eq!(
        u64::from_str_radix(lease["id"].as_str().unwrap(), 16)
            .unwrap()
            .to_string(),
        lease["id_decimal"].as_str().unwrap()
    );
    // info's and stats' bucket tables: the same rows, the same layout.
    let table = |out: &[u8]| -> Vec<String> {
        let s = text(out);
        let start = s.find("| BUCKET").or_else(|| s.find("BUCKET    ")).unwrap();
        let from_border = s[..start].rfind("\n+").unwrap() + 1;
        s[from_border..]
            .lines()
            .skip(3)
            .take_while(|l| l.starts_with('|'))
            .map(String::from)
            .collect()
    };
    let i = table(&run(&["info", &h3]).stdout);
    let s = table(&run(&["stats", &h3]).stdout);
    assert!(!i.is_empty());
    // stats' rows are a table of ENTRIES and PAGES too; info counts the same.
    assert_eq!(i, s);
    // A binary key reads the same in get --decode as in history.
    let g = text(&run(&["get", &h3, "", "--from-key", "--limit", "1", "--decode"]).stdout);
    let h = text(&run(&["history", &h3, "", "--from-key"]).stdout);
    let gk = g.lines().next().unwrap();
    assert!(gk.starts_with("\"\\x00"), "{gk}");
    assert!(
        h.lines().next().unwrap().starts_with(&format!("{gk}  (")),
        "{h}"
    );
    // diff --values shows a document as get --decode does: same lines, same order.
    let key = "/registry/configmaps/ns-001/";
    let d = text(&run(&["diff", &a, &b, key, "--prefix", "--values"]).stdout);
    let changed = d
        .lines()
        .find(|l| l.starts_with("~ ") && l.contains("value changed"))
        .unwrap();
    let k = changed[2..changed.find(" (").unwrap()].to_string();
    let plus: Vec<&str> = d
        .lines()
        .skip_while(|l| *l != changed)
        .skip(1)
        .take_while(|l| l.starts_with("    "))
        .filter_map(|l| l.strip_prefix("    + "))
        .collect();
    assert!(!plus.is_empty());
    let doc = text(&run(&["get", &b, &k, "--decode", "--print-value-only"]).stdout);
    let mut lines = doc.lines();
    for p in &plus {
        assert!(
            lines.any(|l| l == *p),
            "{p:?} not in get --decode's order:\n{doc}"
        );
    }
    // No -1 for "never compacted" in human output.
    let empty = db("h4-empty.db");
    for cmd in ["info", "stats"] {
        let out = text(&run(&[cmd, &empty]).stdout);
        assert!(!out.contains("-1"), "{cmd}: {out}");
    }
}
