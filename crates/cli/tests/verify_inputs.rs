//! `etcdsnap verify` on inputs a user may hand it by mistake or in an incident: a named pipe
//! nobody writes to ends the command at once (exit 2), never waited on; a snapshot cut inside its trailer or one
//! byte too long is a finding (exit 1) in words, without advice about --skip-hash-check.

use std::path::PathBuf;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

fn scratch(name: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("etcdsnap-vi-{}-{name}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

/// Runs `etcdsnap verify PATH`, killing it after 10 s: (exit code, stdout, stderr).
fn verify(path: &std::path::Path) -> (Option<i32>, String, String) {
    let mut child = Command::new(env!("CARGO_BIN_EXE_etcdsnap"))
        .arg("verify")
        .arg(path)
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let start = Instant::now();
    while child.try_wait().unwrap().is_none() {
        if start.elapsed() > Duration::from_secs(10) {
            child.kill().unwrap();
            panic!("verify {path:?} still running after 10 s");
        }
        std::thread::sleep(Duration::from_millis(20));
    }
    let out = child.wait_with_output().unwrap();
    (
        out.status.code(),
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

#[test]
fn a_named_pipe_is_refused_without_waiting() {
    let dir = scratch("fifo");
    let fifo = dir.join("snapshot.db");
    assert!(
        Command::new("mkfifo")
            .arg(&fifo)
            .status()
            .unwrap()
            .success()
    );
    // Nobody writes to it: the command ends at once, unusable input (the CLI reads streams
    // into a temporary file, opening a FIFO without blocking; the library refuses them).
    let (code, _, err) = verify(&fifo);
    assert_eq!(code, Some(2), "{err}");
    assert!(err.starts_with("etcdsnap: "), "{err}");
    std::fs::remove_dir_all(dir).unwrap();
}

#[test]
fn damaged_lengths_are_findings_in_words() {
    let saved = std::fs::read(etcdsnap_testkit::corpus_db("h5-k8s.db")).unwrap();
    let dir = scratch("len");
    for (name, bytes) in [
        ("cut.db", saved[..saved.len() - 7].to_vec()),
        ("long.db", [&saved[..], b"\n"].concat()),
    ] {
        let p = dir.join(name);
        std::fs::write(&p, &bytes).unwrap();
        let (code, out, _) = verify(&p);
        assert_eq!(code, Some(1), "{name}: {out}");
        assert!(
            out.contains("neither a whole number of 4096-byte pages"),
            "{name}: {out}"
        );
        assert!(out.contains("verify: FAILED"), "{name}: {out}");
        assert!(!out.contains("--skip-hash-check"), "{name}: {out}");
    }
    std::fs::remove_dir_all(dir).unwrap();
}
