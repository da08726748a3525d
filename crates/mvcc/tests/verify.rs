//! `verify` on real snapshots (all clean) and on damaged copies: each kind of damage is a
//! failed check with a finding that names where it is, and nothing panics.

use std::path::{Path, PathBuf};

use etcdsnap_bbolt::{Db, OpenOptions};
use etcdsnap_mvcc::proto::{KeyValueRef, read_varint, skip_field};
use etcdsnap_mvcc::revision::RevKey;
use etcdsnap_mvcc::verify::{Report, Status, VerifyOptions, verify_bytes};
use etcdsnap_mvcc::{Snapshot, status};

fn data(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../bbolt/tests/data")
        .join(name)
}

fn fixture(name: &str) -> Vec<u8> {
    std::fs::read(data(name)).unwrap()
}

fn verify(b: &[u8]) -> Report {
    verify_bytes(b.to_vec(), &VerifyOptions::default())
}

fn status_of(r: &Report, name: &str) -> Status {
    r.check(name).unwrap().status
}

fn messages(r: &Report, name: &str) -> String {
    r.check(name)
        .unwrap()
        .findings
        .iter()
        .map(|f| format!("{f}\n"))
        .collect()
}

#[test]
fn real_snapshots_verify() {
    let mut files = vec![data("h4-empty.db"), data("h5-k8s.db")];
    if let Ok(rd) = std::fs::read_dir("/work/shared/corpus") {
        files.extend(
            rd.filter_map(|e| e.ok().map(|e| e.path()))
                .filter(|p| p.extension().is_some_and(|x| x == "db")),
        );
    }
    for f in files {
        let bytes = std::fs::read(&f).unwrap();
        let r = verify(&bytes);
        for c in &r.checks {
            assert!(
                matches!(c.status, Status::Ok | Status::Note),
                "{f:?}: {} {:?} {}: {:?}",
                c.name,
                c.status,
                c.summary,
                c.findings
            );
        }
        assert!(r.ok);
        let member = bytes.len() % 512 != 32;
        assert_eq!(status_of(&r, "trailer") == Status::Note, member, "{f:?}");
    }
}

#[test]
fn trailer_damage_fails_the_trailer_check_only() {
    let mut b = fixture("h5-k8s.db");
    let last = b.len() - 1;
    b[last] ^= 0x80;
    let r = verify(&b);
    assert!(!r.ok);
    assert_eq!(status_of(&r, "trailer"), Status::Fail);
    assert!(messages(&r, "trailer").contains("does not match"));
    for c in ["metas", "structure", "etcd"] {
        assert_eq!(status_of(&r, c), Status::Ok, "{c}");
    }
    // A byte of a value: only the trailer can tell.
    let mut b = fixture("h5-k8s.db");
    b[30 * 4096 + 3000] ^= 1;
    assert_eq!(status_of(&verify(&b), "trailer"), Status::Fail);
}

#[test]
fn unusable_files_are_reports_not_errors() {
    for (what, bytes) in [
        ("empty", Vec::new()),
        ("text", b"this is not a database\n".repeat(100)),
        ("tiny", vec![0u8; 100]),
        ("zeros", vec![0u8; 16384]),
    ] {
        let r = verify(&bytes);
        assert!(!r.ok, "{what}");
        assert_eq!(status_of(&r, "metas"), Status::Fail, "{what}");
        assert_eq!(status_of(&r, "structure"), Status::Skip, "{what}");
        assert_eq!(status_of(&r, "etcd"), Status::Skip, "{what}");
    }
    assert!(messages(&verify(&[]), "metas").contains("file is empty"));
}

/// The file offset of `s`, a slice of `db`'s bytes.
fn offset_in(db: &Db, s: &[u8]) -> usize {
    s.as_ptr() as usize - db.file_bytes().as_ptr() as usize
}

/// Position (in `v`) of the varint value of field `field`.
fn varint_field(v: &[u8], field: u64) -> Option<usize> {
    let mut pos = 0;
    while pos < v.len() {
        let tag = read_varint(v, &mut pos).ok()?;
        if tag >> 3 == field && tag & 7 == 0 {
            return Some(pos);
        }
        skip_field(v, &mut pos, (tag & 7) as u8).ok()?;
    }
    None
}

/// A copy of h5 with one byte of the `n`-th put's field `field` replaced by `f(old)`.
fn edit_put(n: usize, field: u64, f: impl Fn(u8) -> u8) -> (Vec<u8>, String) {
    let bytes = fixture("h5-k8s.db");
    let db = Db::from_bytes(bytes.clone(), OpenOptions::default()).unwrap();
    let kb = db.bucket(b"key").unwrap().unwrap();
    let e = kb
        .iter()
        .map(Result::unwrap)
        .filter(|e| !RevKey::parse(e.key).unwrap().tombstone)
        .nth(n)
        .unwrap();
    let kv = KeyValueRef::decode(e.value).unwrap();
    let at = offset_in(&db, e.value) + varint_field(e.value, field).unwrap();
    let mut b = bytes.clone();
    b[at] = f(b[at]);
    (b, String::from_utf8_lossy(kv.key).into_owned())
}

#[test]
fn history_damage() {
    // The 100th put's version off by one.
    let (b, key) = edit_put(100, 4, |v| v + 1);
    let r = verify(&b);
    assert_eq!(status_of(&r, "etcd"), Status::Fail);
    assert_eq!(status_of(&r, "structure"), Status::Ok);
    let m = messages(&r, "etcd");
    assert!(m.contains("version") && m.contains(&key), "{m}");
    // Its mod_revision.
    let (b, _) = edit_put(100, 3, |v| v ^ 1);
    assert!(messages(&verify(&b), "etcd").contains("mod_revision"));
    // Its create_revision.
    let (b, _) = edit_put(120, 2, |v| v ^ 1);
    assert!(messages(&verify(&b), "etcd").contains("create_revision"));
}

#[test]
fn revision_key_damage() {
    let bytes = fixture("h5-k8s.db");
    let db = Db::from_bytes(bytes.clone(), OpenOptions::default()).unwrap();
    let kb = db.bucket(b"key").unwrap().unwrap();
    let e = kb.iter().nth(50).unwrap().unwrap();
    let at = offset_in(&db, e.key) + 8; // the '_' separator
    let mut b = bytes.clone();
    b[at] = b'-';
    let r = verify(&b);
    let m = messages(&r, "etcd");
    assert!(m.contains("not a revision"), "{m}");
    let first = r.check("etcd").unwrap().findings.first().unwrap();
    assert_eq!(first.bucket.as_deref(), Some("key"));
    assert!(first.page.is_some());
}

#[test]
fn compaction_revisions() {
    let bytes = fixture("h5-k8s.db");
    let db = Db::from_bytes(bytes.clone(), OpenOptions::default()).unwrap();
    let meta = db.bucket(b"meta").unwrap().unwrap();
    let sched = offset_in(&db, meta.get(b"scheduledCompactRev").unwrap().unwrap());
    let fin = offset_in(&db, meta.get(b"finishedCompactRev").unwrap().unwrap());
    // Scheduled above finished: an interrupted compaction, a warning.
    let mut b = bytes.clone();
    b[sched + 7] = b[sched + 7].wrapping_add(1);
    let r = verify(&b);
    assert_eq!(
        status_of(&r, "etcd"),
        Status::Warn,
        "{}",
        messages(&r, "etcd")
    );
    assert!(messages(&r, "etcd").contains("interrupted"));
    // Finished above scheduled: impossible, an error.
    let mut b = bytes.clone();
    b[fin + 7] = b[fin + 7].wrapping_add(1);
    let r = verify(&b);
    assert_eq!(status_of(&r, "etcd"), Status::Fail);
    // Not a revision.
    let mut b = bytes;
    b[fin + 8] = b'x';
    assert!(messages(&verify(&b), "etcd").contains("17-byte revision"));
}

/// A small deterministic generator.
struct XorShift(u64);

impl XorShift {
    fn below(&mut self, n: usize) -> usize {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        (self.0 % n as u64) as usize
    }
}

#[test]
fn random_flips_never_panic_and_always_fail() {
    let base = fixture("h5-k8s.db");
    let mut rng = XorShift(0xe7cd_5a9b);
    for case in 0..200 {
        let mut b = base.clone();
        for _ in 0..1 + rng.below(8) {
            let at = rng.below(50 * 4096);
            b[at] ^= 1 << rng.below(8);
        }
        let r = verify_bytes(
            b.clone(),
            &VerifyOptions {
                max_findings: 100,
                parallel: case % 2 == 0,
            },
        );
        assert!(!r.ok, "case {case}: the trailer must catch any flip");
        // Reads return values or errors, never panics.
        if let Ok(db) = Db::from_bytes(b, OpenOptions::default()) {
            let snap = Snapshot::from_db(db);
            let _ = status::status(&snap, 2);
            let _ = snap.revisions();
            let _ = snap.get(b"key", &[0; 17]);
        }
    }
}

#[test]
fn lease_damage() {
    let bytes = fixture("h5-k8s.db");
    let db = Db::from_bytes(bytes.clone(), OpenOptions::default()).unwrap();
    let lb = db.bucket(b"lease").unwrap().unwrap();
    let e = lb.iter().next().unwrap().unwrap();
    let at = offset_in(&db, e.key) + 7;
    let mut b = bytes.clone();
    b[at] ^= 1;
    let r = verify(&b);
    let m = messages(&r, "etcd");
    assert_eq!(status_of(&r, "etcd"), Status::Fail);
    // The value names another id, and the keys attached to the old id lost their lease.
    assert!(m.contains("lease value has id"), "{m}");
    assert!(m.contains("which the lease bucket does not hold"), "{m}");
}
