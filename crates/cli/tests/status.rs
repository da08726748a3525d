//! `etcdsnap status` against what etcd's own tools printed for the same files.

use std::path::Path;
use std::process::{Command, Output};

use etcdsnap_testkit::{corpus_db, corpus_db_names, corpus_file};

fn etcdsnap(args: &[&std::ffi::OsStr]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_etcdsnap"))
        .args(args)
        .output()
        .expect("run etcdsnap")
}

fn status(path: &Path, format: &str) -> Output {
    etcdsnap(&[
        "status".as_ref(),
        path.as_os_str(),
        "-w".as_ref(),
        format.as_ref(),
    ])
}

#[test]
fn every_corpus_snapshot_in_every_format_matches_etcdutl_3_5() {
    let names = corpus_db_names();
    assert!(names.len() >= 7);
    for name in &names {
        let db = corpus_db(name);
        for format in ["table", "json", "simple", "fields"] {
            let expected = std::fs::read(corpus_file(&format!("{name}.status.{format}"))).unwrap();
            let out = status(&db, format);
            assert!(
                out.status.success(),
                "{name} -w {format}: {}",
                String::from_utf8_lossy(&out.stderr)
            );
            assert_eq!(
                String::from_utf8_lossy(&out.stdout),
                String::from_utf8_lossy(&expected),
                "{name} -w {format}"
            );
            assert!(out.stderr.is_empty());
        }
        // etcdctl 3.4's `snapshot status -w json` prints the same bytes.
        let v34 = std::fs::read(corpus_file(&format!("{name}.status34.json"))).unwrap();
        assert_eq!(status(&db, "json").stdout, v34, "{name} vs etcdctl 3.4");
    }
}

#[test]
fn default_format_is_simple_like_etcdutl_and_threads_do_not_change_the_hash() {
    let db = corpus_db("h1.db");
    let table = std::fs::read(corpus_file("h1.db.status.simple")).unwrap();
    let out = etcdsnap(&["status".as_ref(), db.as_os_str()]);
    assert_eq!(out.stdout, table);
    for threads in ["1", "2", "3", "8"] {
        let out = etcdsnap(&[
            "status".as_ref(),
            db.as_os_str(),
            "--threads".as_ref(),
            threads.as_ref(),
        ]);
        assert_eq!(out.stdout, table, "--threads {threads}");
    }
}

#[test]
fn a_data_dir_reads_its_member_db_and_says_so() {
    let tmp = std::env::temp_dir().join(format!("etcdsnap-datadir-{}", std::process::id()));
    let snap = tmp.join("member").join("snap");
    std::fs::create_dir_all(&snap).unwrap();
    std::fs::copy(corpus_db("h2-member.db"), snap.join("db")).unwrap();
    let out = status(&tmp, "json");
    let expected = std::fs::read(corpus_file("h2-member.db.status.json")).unwrap();
    assert_eq!(out.stdout, expected);
    let err = String::from_utf8(out.stderr).unwrap();
    assert!(
        err.starts_with("etcdsnap: reading ") && err.trim_end().ends_with("member/snap/db"),
        "{err}"
    );
    std::fs::remove_dir_all(&tmp).unwrap();
}

#[test]
fn unusable_inputs_fail_with_one_line_and_exit_2() {
    let tmp = std::env::temp_dir().join(format!("etcdsnap-bad-{}", std::process::id()));
    std::fs::create_dir_all(&tmp).unwrap();
    let empty = tmp.join("empty.db");
    std::fs::write(&empty, b"").unwrap();
    let text = tmp.join("notes.txt");
    std::fs::write(&text, "this is not a database\n".repeat(500)).unwrap();
    let missing = tmp.join("missing.db");
    let truncated = tmp.join("truncated.db");
    let full = std::fs::read(corpus_db("h5-k8s.db")).unwrap();
    std::fs::write(&truncated, &full[..full.len() / 2]).unwrap();
    for (path, needle) in [
        (&empty, "empty"),
        (&text, "not a valid bbolt database"),
        (&missing, "cannot open"),
        (&truncated, "truncated"),
        (&tmp, "not an etcd data directory"),
    ] {
        let out = status(path, "table");
        assert_eq!(out.status.code(), Some(2), "{}", path.display());
        assert!(out.stdout.is_empty());
        let err = String::from_utf8(out.stderr).unwrap();
        assert_eq!(err.lines().count(), 1, "{err}");
        assert!(
            err.starts_with(&format!("etcdsnap: {}: ", path.display())),
            "{err}"
        );
        assert!(err.contains(needle), "{err}");
    }
    std::fs::remove_dir_all(&tmp).unwrap();
}

#[test]
fn own_fixtures_made_by_real_etcd_match_etcdutl() {
    let dir = etcdsnap_testkit::fixtures_dir().join("own");
    let mut seen = 0;
    for entry in std::fs::read_dir(&dir).unwrap() {
        let db = entry.unwrap().path();
        if db.extension().is_none_or(|e| e != "db") {
            continue;
        }
        seen += 1;
        for format in ["table", "json", "simple", "fields"] {
            let expected = std::fs::read(db.with_extension(format!("db.status.{format}"))).unwrap();
            let out = status(&db, format);
            assert_eq!(
                String::from_utf8_lossy(&out.stdout),
                String::from_utf8_lossy(&expected),
                "{} -w {format}",
                db.display()
            );
        }
    }
    assert!(seen >= 3, "fixtures/own has {seen} snapshots");
}
