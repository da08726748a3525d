//! `etcdsnap export` on bad input and bad outputs: an existing output (refused unless
//! --force), an unwritable path, damaged and truncated snapshots (exit 2 with the same message
//! as `get`, and no file, temporary or final, left behind), and the output forms that need no
//! engine to check (stdout, --no-values, the summary line). Reading the files back with DuckDB
//! is tests/export_duckdb.rs.

use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::sync::atomic::{AtomicUsize, Ordering};

const PS: usize = 4096;

fn scratch() -> PathBuf {
    static N: AtomicUsize = AtomicUsize::new(0);
    let d = std::env::temp_dir().join(format!(
        "etcdsnap-export-{}-{}",
        std::process::id(),
        N.fetch_add(1, Ordering::Relaxed)
    ));
    let _ = std::fs::remove_dir_all(&d);
    std::fs::create_dir_all(&d).unwrap();
    d
}

struct Run {
    code: i32,
    stdout: Vec<u8>,
    stderr: String,
}

fn etcdsnap(args: &[&str]) -> Run {
    let out = Command::new(env!("CARGO_BIN_EXE_etcdsnap"))
        .args(args)
        .stdin(Stdio::null())
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr).into_owned();
    assert!(!stderr.contains("panicked"), "{args:?}: {stderr}");
    Run {
        code: out.status.code().expect("killed by a signal"),
        stdout: out.stdout,
        stderr,
    }
}

fn k8s_db() -> PathBuf {
    etcdsnap_testkit::corpus_db("h5-k8s.db")
}

fn entries(dir: &Path) -> Vec<String> {
    let mut v: Vec<String> = std::fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    v.sort();
    v
}

#[test]
fn existing_output_is_refused_unless_forced() {
    let dir = scratch();
    let out = dir.join("x.parquet");
    std::fs::write(&out, b"precious").unwrap();
    let db = k8s_db();
    let r = etcdsnap(&["export", db.to_str().unwrap(), "-o", out.to_str().unwrap()]);
    assert_eq!(r.code, 2, "{}", r.stderr);
    assert!(r.stderr.starts_with("etcdsnap: "), "{}", r.stderr);
    assert!(r.stderr.contains("already exists"), "{}", r.stderr);
    assert_eq!(r.stderr.lines().count(), 1);
    assert_eq!(std::fs::read(&out).unwrap(), b"precious");
    let r = etcdsnap(&[
        "export",
        db.to_str().unwrap(),
        "-o",
        out.to_str().unwrap(),
        "--force",
    ]);
    assert_eq!(r.code, 0, "{}", r.stderr);
    let bytes = std::fs::read(&out).unwrap();
    assert!(bytes.starts_with(b"PAR1") && bytes.ends_with(b"PAR1"));
    assert_eq!(entries(&dir), ["x.parquet"]);
}

#[test]
fn unwritable_output_fails_cleanly() {
    let dir = scratch();
    let db = k8s_db();
    let missing = dir.join("no/such/dir/x.csv");
    let r = etcdsnap(&[
        "export",
        db.to_str().unwrap(),
        "-o",
        missing.to_str().unwrap(),
    ]);
    assert_eq!(r.code, 2);
    assert!(r.stderr.contains("cannot write"), "{}", r.stderr);
    // A directory where the file should be.
    let r = etcdsnap(&[
        "export",
        db.to_str().unwrap(),
        "-o",
        dir.to_str().unwrap(),
        "-w",
        "csv",
        "--force",
    ]);
    assert_eq!(r.code, 2, "{}", r.stderr);
    assert_eq!(entries(&dir), Vec::<String>::new());
    // No format to be had.
    let r = etcdsnap(&[
        "export",
        db.to_str().unwrap(),
        "-o",
        dir.join("x.txt").to_str().unwrap(),
    ]);
    assert_eq!(r.code, 2);
    assert!(r.stderr.contains("use -w"), "{}", r.stderr);
    let r = etcdsnap(&["export", db.to_str().unwrap()]);
    assert_eq!(r.code, 2);
}

fn put_u64(b: &mut [u8], at: usize, v: u64) {
    b[at..at + 8].copy_from_slice(&v.to_le_bytes());
}

/// Damaged copies of h5-k8s.db: the `key` bucket's root pointing out of the file or at
/// itself, both metas broken, truncations, and a file that is no database.
fn damaged() -> Vec<(String, Vec<u8>)> {
    let base = std::fs::read(k8s_db()).unwrap();
    let db = etcdsnap_bbolt::Db::from_bytes(base.clone(), Default::default()).unwrap();
    let root = db.bucket(b"key").unwrap().unwrap().root_page().unwrap() as usize;
    let mut out = vec![("text".to_string(), b"not a database\n".repeat(400))];
    let mut far = base.clone();
    put_u64(&mut far, root * PS + 16 + 8, 1_000_000);
    out.push(("child-out-of-range".into(), far));
    let mut own = base.clone();
    put_u64(&mut own, root * PS + 16 + 16 + 8, root as u64);
    out.push(("child-is-itself".into(), own));
    let mut both = base.clone();
    both[16] ^= 0xff;
    both[PS + 16] ^= 0xff;
    out.push(("both-metas".into(), both));
    for len in [PS * 3, base.len() / 2, base.len() - PS] {
        out.push((format!("truncated-{len}"), base[..len].to_vec()));
    }
    out
}

#[test]
fn damaged_input_exits_2_like_get_and_leaves_nothing() {
    let dir = scratch();
    let outdir = dir.join("out");
    std::fs::create_dir_all(&outdir).unwrap();
    let mut failed = 0;
    for (name, bytes) in damaged() {
        let db = dir.join(format!("{name}.db"));
        std::fs::write(&db, &bytes).unwrap();
        let get = etcdsnap(&["get", db.to_str().unwrap(), "", "--prefix"]);
        for (fmt, history) in [("parquet", false), ("jsonl", true), ("csv", false)] {
            let out = outdir.join(format!("{name}.{fmt}"));
            let mut args = vec!["export", db.to_str().unwrap(), "-o", out.to_str().unwrap()];
            if history {
                args.push("--history");
            }
            let r = etcdsnap(&args);
            if get.code == 2 {
                assert_eq!(r.code, 2, "{name} {fmt}: {}", r.stderr);
                assert_eq!(r.stderr.lines().count(), 1, "{name}: {}", r.stderr);
                assert!(r.stderr.starts_with("etcdsnap: "), "{}", r.stderr);
                if !history {
                    // The same words as every other command that reads the keyspace.
                    assert_eq!(r.stderr, get.stderr, "{name} {fmt}");
                }
                failed += 1;
            }
            if r.code != 0 {
                assert_eq!(entries(&outdir), Vec::<String>::new(), "{name} {fmt}");
            } else {
                std::fs::remove_file(&out).unwrap();
            }
        }
    }
    assert!(failed >= 12, "{failed}");
}

#[test]
fn stdout_no_values_and_summary() {
    let dir = scratch();
    let db = k8s_db();
    let f = db.to_str().unwrap();
    let out = dir.join("a.jsonl");
    let r = etcdsnap(&["export", f, "-o", out.to_str().unwrap()]);
    assert_eq!(r.code, 0);
    assert!(r.stdout.is_empty());
    assert!(
        r.stderr.starts_with("etcdsnap: exported ") && r.stderr.contains(" keys "),
        "{}",
        r.stderr
    );
    let file = std::fs::read(&out).unwrap();
    let r = etcdsnap(&["export", f, "-o", "-", "-w", "jsonl"]);
    assert_eq!(r.code, 0);
    assert_eq!(r.stdout, file);
    let r = etcdsnap(&["export", f, "-o", "-"]);
    assert_eq!(r.code, 2, "stdout needs --format");

    let r = etcdsnap(&[
        "export",
        f,
        "/registry/pods/",
        "--prefix",
        "--no-values",
        "-o",
        "-",
        "-w",
        "jsonl",
    ]);
    assert_eq!(r.code, 0);
    let rows: Vec<serde_json::Value> = r
        .stdout
        .split(|&b| b == b'\n')
        .filter(|l| !l.is_empty())
        .map(|l| serde_json::from_slice(l).unwrap())
        .collect();
    let want: serde_json::Value = serde_json::from_slice(
        &etcdsnap(&[
            "get",
            f,
            "/registry/pods/",
            "--prefix",
            "-w",
            "json",
            "--count-only",
        ])
        .stdout,
    )
    .unwrap();
    assert_eq!(rows.len() as u64, want["count"].as_u64().unwrap());
    for row in &rows {
        let o = row.as_object().unwrap();
        assert!(!o.contains_key("value"));
        assert_eq!(o["k8s_resource"], "pods");
        assert!(o["value_size"].as_u64().unwrap() > 0);
    }
    // Members in the schema's column order.
    assert!(r.stdout.starts_with(b"{\"key\":\""));
    assert!(
        r.stdout
            .split(|&b| b == b'\n')
            .next()
            .unwrap()
            .windows(13)
            .any(|w| w == b",\"key_text\":\"")
    );
}

/// The trailer: its digest always, verified only with --verify-trailer; a mismatch is said on
/// stderr and in the column, and is not a failure.
#[test]
fn sha256_trailer_columns() {
    let dir = scratch();
    let src = etcdsnap_testkit::fixtures_dir().join("own/own-35.db");
    let mut bytes = std::fs::read(&src).unwrap();
    let n = bytes.len();
    let digest: String = bytes[n - 32..].iter().map(|b| format!("{b:02x}")).collect();
    let cell = |args: &[&str], col: &str| -> (serde_json::Value, String) {
        let mut a = vec!["export"];
        a.extend_from_slice(args);
        a.extend_from_slice(&["-o", "-", "-w", "jsonl"]);
        let r = etcdsnap(&a);
        assert_eq!(r.code, 0, "{}", r.stderr);
        let line = r.stdout.split(|&b| b == b'\n').next().unwrap().to_vec();
        let v: serde_json::Value = serde_json::from_slice(&line).unwrap();
        (v[col].clone(), r.stderr)
    };
    let f = src.to_str().unwrap();
    assert_eq!(cell(&[f], "sha256_trailer").0, digest.as_str());
    assert_eq!(cell(&[f], "sha256_trailer_status").0, "unchecked");
    assert_eq!(
        cell(&[f, "--verify-trailer"], "sha256_trailer_status").0,
        "ok"
    );
    bytes[n - 1] ^= 1;
    let bad = dir.join("bad-trailer.db");
    std::fs::write(&bad, &bytes).unwrap();
    let (status, stderr) = cell(
        &[bad.to_str().unwrap(), "--verify-trailer"],
        "sha256_trailer_status",
    );
    assert_eq!(status, "mismatch");
    assert!(stderr.contains("sha256 trailer does not match"), "{stderr}");
    let member = etcdsnap_testkit::fixtures_dir().join("own/own-35-member.db");
    let m = member.to_str().unwrap();
    assert_eq!(
        cell(&[m, "--verify-trailer"], "sha256_trailer_status").0,
        "absent"
    );
    assert_eq!(cell(&[m], "sha256_trailer").0, serde_json::Value::Null);
}
