//! The commands that write a snapshot (`compact`, `redact`), end to end through the binary:
//! reports, exit codes, refusals, and what the written files hold. The real-etcd round trips
//! of the same commands are `.ci/writer-etcd.sh`.

use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::atomic::{AtomicUsize, Ordering};

use etcdsnap_mvcc::{RevIndex, Snapshot};

fn bin() -> Command {
    Command::new(env!("CARGO_BIN_EXE_etcdsnap"))
}

fn scratch() -> PathBuf {
    static N: AtomicUsize = AtomicUsize::new(0);
    let d = std::env::temp_dir().join(format!(
        "etcdsnap-writers-{}-{}",
        std::process::id(),
        N.fetch_add(1, Ordering::Relaxed)
    ));
    let _ = std::fs::remove_dir_all(&d);
    std::fs::create_dir_all(&d).unwrap();
    d
}

fn db(name: &str) -> PathBuf {
    if name.starts_with("own-") {
        etcdsnap_testkit::fixtures_dir().join("own").join(name)
    } else {
        etcdsnap_testkit::corpus_db(name)
    }
}

fn run(args: &[&std::ffi::OsStr]) -> (i32, String, String) {
    let o = bin().args(args).output().unwrap();
    (
        o.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&o.stdout).into_owned(),
        String::from_utf8_lossy(&o.stderr).into_owned(),
    )
}

fn os(s: &str) -> &std::ffi::OsStr {
    std::ffi::OsStr::new(s)
}

/// The stats document without the part about pages (the written file is defragmented).
fn stats_without_pages(path: &Path) -> serde_json::Value {
    let (code, out, err) = run(&[os("stats"), path.as_os_str(), os("-w"), os("json")]);
    assert_eq!(code, 0, "{err}");
    let mut v: serde_json::Value = serde_json::from_str(&out).unwrap();
    v.as_object_mut().unwrap().remove("file");
    v
}

/// Every revision: (raw bucket key, user key, create, mod, version, lease, value length).
fn shape(path: &Path) -> Vec<(Vec<u8>, i64, i64, i64, usize)> {
    let snap = Snapshot::open(path).unwrap();
    let idx = RevIndex::build(&snap).unwrap();
    let mut out = Vec::new();
    for h in idx.keys() {
        for r in h.revisions() {
            let kv = r.decode().unwrap();
            out.push((
                h.key().to_vec(),
                r.main(),
                kv.create_revision + kv.version * 1_000_000,
                kv.lease,
                kv.value.len(),
            ));
        }
    }
    out
}

fn contains(hay: &[u8], needle: &[u8]) -> bool {
    needle.len() <= hay.len() && hay.windows(needle.len()).any(|w| w == needle)
}

/// The values of every Secret's `data` entries in the source, from our decoder (k8s crate).
fn secret_payloads(path: &Path) -> Vec<Vec<u8>> {
    let snap = Snapshot::open(path).unwrap();
    let idx = RevIndex::build(&snap).unwrap();
    let mut out = Vec::new();
    for h in idx.keys() {
        for r in h.revisions() {
            let kv = r.decode().unwrap();
            let opts = etcdsnap_k8s::DecodeOptions { show_secrets: true };
            let Ok(obj) = etcdsnap_k8s::decode(kv.value, &opts) else {
                continue;
            };
            if !obj.is_secret() {
                continue;
            }
            let doc = obj.to_document();
            let body = &doc["body"];
            for field in ["2", "data", "4", "stringData"] {
                if let Some(m) = body.get(field).and_then(|m| m.as_object()) {
                    for v in m.values() {
                        if let Some(s) = v.as_str()
                            && s.len() >= 6
                        {
                            out.push(s.as_bytes().to_vec());
                        }
                    }
                }
            }
        }
    }
    out
}

#[test]
fn redact_keeps_shape_and_stats_and_removes_secrets() {
    for name in ["h5-k8s.db", "own-35.db", "h2b.db"] {
        let dir = scratch();
        let src = db(name);
        let before = std::fs::read(&src).unwrap();
        let out = dir.join("r.db");
        let (code, stdout, err) = run(&[os("redact"), src.as_os_str(), os("-o"), out.as_os_str()]);
        assert_eq!(code, 0, "{name}: {err}");
        assert!(stdout.contains("wrote"), "{stdout}");
        // Same revisions, keys, versions, leases and value sizes; same stats.
        assert_eq!(shape(&src), shape(&out), "{name}: shape");
        assert_eq!(
            stats_without_pages(&src),
            stats_without_pages(&out),
            "{name}: stats"
        );
        // No Secret payload survives anywhere in the file, and the file verifies.
        let written = std::fs::read(&out).unwrap();
        let payloads = secret_payloads(&src);
        for p in &payloads {
            assert!(
                !contains(&written, p),
                "{name}: {:?} survived",
                String::from_utf8_lossy(p)
            );
        }
        // bcrypt hashes ($2a$ / $2b$) are gone.
        for prefix in [b"$2a$", b"$2b$"] {
            assert!(
                !contains(&written, prefix),
                "{name}: a password hash survived"
            );
        }
        let (code, _, err) = run(&[os("verify"), out.as_os_str()]);
        assert_eq!(code, 0, "{name}: verify: {err}");
        assert_eq!(
            std::fs::read(&src).unwrap(),
            before,
            "{name}: input changed"
        );
        // Deterministic: the same input gives the same bytes.
        let again = dir.join("r2.db");
        let (code, _, _) = run(&[os("redact"), src.as_os_str(), os("-o"), again.as_os_str()]);
        assert_eq!(code, 0);
        assert!(
            std::fs::read(&again).unwrap() == written,
            "{name}: not deterministic"
        );
        if name == "h5-k8s.db" {
            assert!(
                payloads.len() >= 4,
                "{name}: the fixture has plaintext Secrets"
            );
        }
        if name == "own-35.db" {
            assert!(contains(&before, b"$2a$"), "own-35 has password hashes");
        }
        let _ = std::fs::remove_dir_all(&dir);
    }
}

#[test]
fn redact_prefix_keys_and_encrypted() {
    let dir = scratch();
    let src = db("h5-k8s.db");
    let out = dir.join("p.db");
    let (code, stdout, err) = run(&[
        os("redact"),
        src.as_os_str(),
        os("-o"),
        out.as_os_str(),
        os("--drop-encrypted"),
        os("--prefix"),
        os("/registry/configmaps/"),
        os("--keys"),
        os("-w"),
        os("json"),
    ]);
    assert_eq!(code, 0, "{err}");
    let rep: serde_json::Value = serde_json::from_str(&stdout).unwrap();
    assert!(rep["ciphertexts"].as_u64().unwrap() > 0, "{rep}");
    assert!(rep["keys_renamed"].as_u64().unwrap() > 0, "{rep}");
    let (a, b) = (shape(&src), shape(&out));
    assert_eq!(a.len(), b.len());
    let renamed: Vec<_> = b
        .iter()
        .filter(|r| r.0.starts_with(b"/registry/configmaps/"))
        .collect();
    assert!(!renamed.is_empty());
    for r in &renamed {
        // prefix + pseudonym per segment: /registry/configmaps/kXXXXXXXXXXXXXXXX/kXXXX...
        let rest = &r.0[b"/registry/configmaps/".len()..];
        for seg in rest.split(|&c| c == b'/') {
            assert_eq!(seg.len(), 17, "{:?}", String::from_utf8_lossy(&r.0));
            assert_eq!(seg[0], b'k');
        }
    }
    // Same number of distinct configmap keys (no two names collapse).
    let distinct = |v: &[(Vec<u8>, i64, i64, i64, usize)]| {
        let mut k: Vec<_> = v
            .iter()
            .filter(|r| r.0.starts_with(b"/registry/configmaps/"))
            .map(|r| r.0.clone())
            .collect();
        k.dedup();
        k.len()
    };
    assert_eq!(distinct(&a), distinct(&b));
    // No ciphertext byte string of the source remains.
    let snap = Snapshot::open(&src).unwrap();
    let idx = RevIndex::build(&snap).unwrap();
    let written = std::fs::read(&out).unwrap();
    let mut enc = 0;
    for h in idx.keys() {
        for r in h.revisions() {
            let v = r.decode().unwrap().value;
            if etcdsnap_k8s::redact::is_encrypted(v) {
                enc += 1;
                assert!(!contains(&written, &v[v.len() - 24..]));
            }
        }
    }
    assert!(enc > 0);
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn compact_reports_and_refuses() {
    let dir = scratch();
    let src = db("h2b.db");
    let out = dir.join("c.db");
    let (code, stdout, err) = run(&[
        os("compact"),
        src.as_os_str(),
        os("--rev"),
        os("700"),
        os("-o"),
        out.as_os_str(),
        os("-w"),
        os("json"),
    ]);
    assert_eq!(code, 0, "{err}");
    let rep: serde_json::Value = serde_json::from_str(&stdout).unwrap();
    let written = std::fs::metadata(&out).unwrap().len();
    assert_eq!(rep["sizes"]["file_size_after"].as_u64(), Some(written));
    assert_eq!(
        rep["sizes"]["file_size_before"].as_u64(),
        Some(std::fs::metadata(&src).unwrap().len())
    );
    assert!(rep["revisions_after"].as_u64().unwrap() < rep["revisions_before"].as_u64().unwrap());
    // Existing output: exit 2, output untouched, no temporary file left.
    let (code, _, err) = run(&[
        os("compact"),
        src.as_os_str(),
        os("--rev"),
        os("700"),
        os("-o"),
        out.as_os_str(),
    ]);
    assert_eq!(code, 2);
    assert!(
        err.starts_with("etcdsnap: ") && err.contains("--force"),
        "{err}"
    );
    assert_eq!(std::fs::metadata(&out).unwrap().len(), written);
    // Compacted or future revision: etcd's words, exit 2.
    for (rev, words) in [("10", "has been compacted"), ("99999", "future revision")] {
        let (code, _, err) = run(&[
            os("compact"),
            src.as_os_str(),
            os("--rev"),
            os(rev),
            os("-o"),
            dir.join("x.db").as_os_str(),
        ]);
        assert_eq!(code, 2);
        assert!(err.contains(words), "{err}");
    }
    assert_eq!(std::fs::read_dir(&dir).unwrap().count(), 1, "stray files");
    // --force replaces; -w text reports sizes.
    let (code, stdout, _) = run(&[
        os("compact"),
        src.as_os_str(),
        os("--rev"),
        os("700"),
        os("-o"),
        out.as_os_str(),
        os("--force"),
    ]);
    assert_eq!(code, 0);
    assert!(
        stdout.contains("db size:") && stdout.contains("->"),
        "{stdout}"
    );
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn salvage_exit_codes() {
    let dir = scratch();
    let src = db("h2b.db");
    let mut bytes = std::fs::read(&src).unwrap();
    let out = dir.join("s.db");
    // Intact: exit 0, "nothing was lost".
    let (code, stdout, err) = run(&[os("salvage"), src.as_os_str(), os("-o"), out.as_os_str()]);
    assert_eq!(code, 0, "{err}");
    assert!(stdout.contains("nothing was lost"), "{stdout}");
    // A key leaf broken: exit 1, the page named with its revision range.
    let page = {
        let snap = Snapshot::open(&src).unwrap();
        let key = snap.required(b"key").unwrap();
        key.iter().nth(3000).unwrap().unwrap().page.unwrap()
    };
    bytes[page as usize * 4096 + 8] = 0x20;
    let damaged = dir.join("d.db");
    std::fs::write(&damaged, &bytes).unwrap();
    let (code, stdout, err) = run(&[
        os("salvage"),
        damaged.as_os_str(),
        os("-o"),
        out.as_os_str(),
        os("--force"),
    ]);
    assert_eq!(code, 1, "{err}");
    assert!(
        stdout.contains(&format!("lost: page {page} of bucket key"))
            && stdout.contains("revisions "),
        "{stdout}"
    );
    let (code, _, _) = run(&[os("verify"), out.as_os_str()]);
    assert!(code <= 1);
    // Both metas broken: exit 2, one line, no output written.
    bytes[16] ^= 0xff;
    bytes[4096 + 16] ^= 0xff;
    std::fs::write(&damaged, &bytes).unwrap();
    let none = dir.join("none.db");
    let (code, _, err) = run(&[
        os("salvage"),
        damaged.as_os_str(),
        os("-o"),
        none.as_os_str(),
    ]);
    assert_eq!(code, 2);
    assert!(
        err.starts_with("etcdsnap: ") && err.lines().count() == 1,
        "{err}"
    );
    assert!(!none.exists());
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn the_input_is_never_the_output() {
    let dir = scratch();
    let src = dir.join("in.db");
    std::fs::copy(db("h2b.db"), &src).unwrap();
    let before = std::fs::read(&src).unwrap();
    let link = dir.join("link.db");
    std::fs::hard_link(&src, &link).unwrap();
    for target in [&src, &link] {
        for args in [
            vec![os("compact"), src.as_os_str(), os("--rev"), os("700")],
            vec![os("redact"), src.as_os_str()],
            vec![os("salvage"), src.as_os_str()],
        ] {
            let mut a = args.clone();
            a.extend([os("-o"), target.as_os_str(), os("--force")]);
            let (code, _, err) = run(&a);
            assert_eq!(code, 2, "{args:?}: {err}");
            assert!(err.contains("the output is the input file"), "{err}");
        }
    }
    assert!(std::fs::read(&src).unwrap() == before);
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn redact_disable_auth() {
    let dir = scratch();
    let src = db("own-35.db");
    let out = dir.join("a.db");
    let (code, stdout, err) = run(&[
        os("redact"),
        src.as_os_str(),
        os("-o"),
        out.as_os_str(),
        os("--disable-auth"),
        os("-w"),
        os("json"),
    ]);
    assert_eq!(code, 0, "{err}");
    let rep: serde_json::Value = serde_json::from_str(&stdout).unwrap();
    assert_eq!(rep["auth_disabled"], true);
    let before = Snapshot::open(&src).unwrap();
    let after = Snapshot::open(&out).unwrap();
    assert_eq!(
        before.get(b"auth", b"authEnabled").unwrap(),
        Some(&[1u8][..])
    );
    assert_eq!(
        after.get(b"auth", b"authEnabled").unwrap(),
        Some(&[0u8][..])
    );
    let _ = std::fs::remove_dir_all(&dir);
}
