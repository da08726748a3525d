//! One mutation test per finding class of issue 17: each builds the damage from a real etcd
//! snapshot, reseals the sha256 trailer (so only the structure and etcd checks can see it),
//! and asserts the verdict and where the finding points. The controls (the legitimate gaps
//! `etcdutl snapshot restore --bump-revision` leaves) must stay sound.

#[path = "common/fixtures.rs"]
mod fixtures;
#[path = "common/surgery.rs"]
mod surgery;

use etcdsnap_bbolt::raw;
use etcdsnap_mvcc::verify::{Report, Status, VerifyOptions, verify_bytes};
use surgery::*;

fn fixture(name: &str) -> Vec<u8> {
    std::fs::read(fixtures::db(name)).unwrap()
}

fn verify(b: &[u8]) -> Report {
    verify_bytes(b.to_vec(), &VerifyOptions::default())
}

fn status(r: &Report, check: &str) -> Status {
    r.check(check).unwrap().status
}

fn text(r: &Report, check: &str) -> String {
    r.check(check)
        .unwrap()
        .findings
        .iter()
        .map(|f| format!("{f}\n"))
        .collect()
}

fn all_text(r: &Report) -> String {
    r.checks
        .iter()
        .map(|c| {
            format!(
                "{} {:?}: {}\n{}",
                c.name,
                c.status,
                c.summary,
                text(r, c.name)
            )
        })
        .collect()
}

/// Every revision key of the `key` bucket, in order.
fn revisions(bytes: &[u8]) -> Vec<Vec<u8>> {
    let db = open(bytes);
    let kb = db.bucket(b"key").unwrap().unwrap();
    kb.iter().map(|e| e.unwrap().key.to_vec()).collect()
}

fn compaction(bytes: &[u8]) -> i64 {
    let db = open(bytes);
    let meta = db.bucket(b"meta").unwrap().unwrap();
    meta.get(b"finishedCompactRev").unwrap().map_or(-1, main_of)
}

#[test]
fn controls_are_sound() {
    for name in ["h5-k8s.db", "own-35.db", "own-35-member.db", "h3.db"] {
        let r = verify(&fixture(name));
        assert!(r.ok, "{name}: {}", all_text(&r));
    }
}

#[test]
fn empty_root_branch_of_the_key_bucket() {
    let mut b = fixture("h5-k8s.db");
    let (root, _) = key_tree(&b);
    put_u16(&mut b, root as usize * PS + 10, 0);
    reseal(&mut b);
    let r = verify(&b);
    assert!(!r.ok);
    assert_eq!(status(&r, "structure"), Status::Fail);
    let m = text(&r, "structure");
    assert!(
        m.contains(&format!("page {root}, bucket key"))
            && m.contains("branch page without elements"),
        "{m}"
    );
}

/// h5 with branch element `i` of the key bucket's root removed: the leaf it pointed at is
/// unreachable, the tree otherwise valid.
fn without_child(i: usize) -> (Vec<u8>, Vec<Vec<u8>>) {
    let mut b = fixture("h5-k8s.db");
    let before = revisions(&b);
    let (root, _) = key_tree(&b);
    let mut elems = branch_elems(&b, root);
    elems.remove(i);
    write_branch(&mut b, root, &elems);
    reseal(&mut b);
    (b, before)
}

#[test]
fn a_branch_stops_pointing_at_a_leaf() {
    let base = fixture("h5-k8s.db");
    let compact = compaction(&base);
    let (_, children) = key_tree(&base);
    let mut tested = 0;
    for i in 1..children.len() - 1 {
        let (b, before) = without_child(i);
        let after = revisions(&b);
        assert!(after.len() < before.len());
        let r = verify(&b);
        // The bbolt structure is valid (the lost leaf is merely unreachable) ...
        assert_ne!(status(&r, "structure"), Status::Fail, "{}", all_text(&r));
        // ... and every removed main revision above the compaction is reported as lost.
        let lost: std::collections::BTreeSet<i64> = before
            .iter()
            .filter(|k| !after.contains(k))
            .map(|k| main_of(k))
            .filter(|m| *m > compact && !after.iter().any(|k| main_of(k) == *m))
            .collect();
        if lost.is_empty() {
            continue;
        }
        tested += 1;
        assert!(!r.ok, "child {i}: {}", all_text(&r));
        let m = text(&r, "etcd");
        let (lo, hi) = (lost.first().unwrap(), lost.last().unwrap());
        let want = if lo == hi {
            format!("revision {lo} is missing")
        } else {
            format!("revisions {lo}..{hi} ({}) are missing", hi - lo + 1)
        };
        assert!(m.contains(&want), "child {i}: want {want:?} in\n{m}");
        assert_eq!(r.etcd.unwrap().missing_revisions, lost.len() as u64);
    }
    assert!(tested > 5, "only {tested} leaves above the compaction");
}

#[test]
fn a_leaf_emptied_of_its_last_elements() {
    let base = fixture("h5-k8s.db");
    let compact = compaction(&base);
    let (_, children) = key_tree(&base);
    // A leaf above the compaction that is not the last one: drop its last three elements.
    let leaf = children[children.len() - 3];
    let elems = leaf_elems(&base, leaf as usize * PS);
    assert!(main_of(&elems[0].1) > compact);
    let mut b = base.clone();
    write_leaf(&mut b, leaf as usize * PS, PS, &elems[..elems.len() - 3]);
    reseal(&mut b);
    let r = verify(&b);
    assert!(!r.ok, "{}", all_text(&r));
    assert_eq!(status(&r, "etcd"), Status::Fail);
    let m = text(&r, "etcd");
    assert!(m.contains("missing"), "{m}");
    // Emptied whole: an empty leaf under a branch is also a structure error.
    let mut b = base;
    write_leaf(&mut b, leaf as usize * PS, PS, &[]);
    reseal(&mut b);
    let r = verify(&b);
    assert!(!r.ok);
    let m = text(&r, "structure");
    assert!(
        m.contains(&format!("page {leaf}, bucket key")) && m.contains("leaf page without elements"),
        "{m}"
    );
    assert_eq!(status(&r, "etcd"), Status::Fail);
}

/// The first main revision above the compaction with at least three sub-revisions, in any
/// fixture: (fixture, main).
fn transaction_with_subs() -> (Vec<u8>, i64) {
    for name in fixtures::all_dbs() {
        let b = fixture(&name);
        let compact = compaction(&b);
        let revs = revisions(&b);
        if let Some(k) = revs.iter().find(|k| main_of(k) > compact && sub_of(k) == 2) {
            return (b, main_of(k));
        }
    }
    panic!("no fixture has a transaction of three changes above its compaction");
}

#[test]
fn a_missing_sub_revision_in_a_transaction() {
    let (base, main) = transaction_with_subs();
    // Remove sub-revision 1 (then 0) of that transaction from its leaf.
    for sub in [1i64, 0] {
        let db = open(&base);
        let kb = db.bucket(b"key").unwrap().unwrap();
        let e = kb
            .iter()
            .map(Result::unwrap)
            .find(|e| main_of(e.key) == main && sub_of(e.key) == sub)
            .unwrap();
        let page = e.page.unwrap() as usize;
        let mut elems = leaf_elems(&base, page * PS);
        let i = elems.iter().position(|(_, k, _)| k == e.key).unwrap();
        // Keep the separator in the parent valid: never remove a page's first element.
        if i == 0 {
            continue;
        }
        elems.remove(i);
        let mut b = base.clone();
        write_leaf(&mut b, page * PS, PS, &elems);
        reseal(&mut b);
        let r = verify(&b);
        assert!(!r.ok, "sub {sub}: {}", all_text(&r));
        let m = text(&r, "etcd");
        assert!(
            m.contains(&format!("sub-revision {sub} is missing"))
                && m.contains(&format!("transaction {main}")),
            "{m}"
        );
    }
}

/// h5 with the marker `etcdutl snapshot restore --bump-revision N --mark-compacted` writes
/// (v3.5.10+ / v3.6.0 `unsafeBumpRevision`: an empty value at `(latest + N, 0)`) appended to
/// the key bucket's last leaf; `mark` also sets `scheduledCompactRev` to it as
/// `unsafeMarkRevisionCompacted` does.
fn bumped(n: i64, mark: bool) -> Vec<u8> {
    let mut b = fixture("h5-k8s.db");
    let (_, children) = key_tree(&b);
    let last = *children.last().unwrap() as usize * PS;
    let mut elems = leaf_elems(&b, last);
    let latest = main_of(&elems.last().unwrap().1);
    let mut k = Vec::new();
    k.extend_from_slice(&(latest + n).to_be_bytes());
    k.push(b'_');
    k.extend_from_slice(&0i64.to_be_bytes());
    elems.push((0, k.clone(), Vec::new()));
    write_leaf(&mut b, last, PS, &elems);
    reseal(&mut b);
    if mark {
        b = set_value(&b, b"meta", b"scheduledCompactRev", |_| k.clone());
    }
    b
}

#[test]
fn the_bump_revision_marker_is_the_one_legitimate_gap() {
    // As etcdutl writes it: sound (the compaction it schedules is a warning, as etcd completes
    // it when it starts), the marker noted.
    let r = verify(&bumped(1000, true));
    assert!(r.ok, "{}", all_text(&r));
    assert!(text(&r, "etcd").contains("revision bump marker"));
    // The gap below a marker without the compaction mark: noted, still sound.
    let r = verify(&bumped(1000, false));
    assert!(r.ok, "{}", all_text(&r));
    assert!(text(&r, "etcd").contains("skipped by `etcdutl snapshot restore --bump-revision`"));
    // The same gap below an entry that is not a marker: lost revisions.
    let mut b = fixture("h5-k8s.db");
    let (_, children) = key_tree(&b);
    let last = *children.last().unwrap() as usize * PS;
    let mut elems = leaf_elems(&b, last);
    let (flags, k, v) = elems.pop().unwrap();
    let mut k2 = k.clone();
    k2[..8].copy_from_slice(&(main_of(&k) + 5).to_be_bytes());
    elems.push((flags, k2, v));
    write_leaf(&mut b, last, PS, &elems);
    reseal(&mut b);
    let r = verify(&b);
    assert!(!r.ok);
    let m = text(&r, "etcd");
    let want = format!(
        "revisions {}..{} (5) are missing",
        main_of(&k),
        main_of(&k) + 4
    );
    assert!(m.contains(&want), "{m}");
}

/// A copy of own-35 whose record `key` in `bucket` became `f(old)`.
fn record(bucket: &[u8], key: &[u8], f: impl Fn(&[u8]) -> Vec<u8>) -> Vec<u8> {
    set_value(&fixture("own-35.db"), bucket, key, f)
}

fn first_key(bytes: &[u8], bucket: &[u8]) -> Vec<u8> {
    let db = open(bytes);
    let b = db.bucket(bucket).unwrap().unwrap();
    b.iter().next().unwrap().unwrap().key.to_vec()
}

#[test]
fn startup_records_etcd_cannot_parse() {
    let base = fixture("own-35.db");
    let garble = |v: &[u8]| {
        let mut v = v.to_vec();
        v[0] = 0xff; // JSON: not a value; protobuf: field 31, wire type 7 (invalid)
        v
    };
    let member = first_key(&base, b"members");
    let user = first_key(&base, b"authUsers");
    let role = first_key(&base, b"authRoles");
    let lease = first_key(&base, b"lease");
    let cases: Vec<(&str, &[u8], Vec<u8>, &str)> = vec![
        (
            "members",
            &member,
            record(b"members", &member, garble),
            "member as JSON",
        ),
        (
            "authUsers",
            &user,
            record(b"authUsers", &user, garble),
            "authpb.User",
        ),
        (
            "authRoles",
            &role,
            record(b"authRoles", &role, garble),
            "authpb.Role",
        ),
        (
            "meta",
            b"confState",
            record(b"meta", b"confState", garble),
            "ConfState",
        ),
        (
            "cluster",
            b"clusterVersion",
            record(b"cluster", b"clusterVersion", |_| b"3.5".to_vec()),
            "not a version",
        ),
        (
            "meta",
            b"term",
            record(b"meta", b"term", |v| v[1..].to_vec()),
            "8-byte",
        ),
        (
            "meta",
            b"consistent_index",
            record(b"meta", b"consistent_index", |v| v[..4].to_vec()),
            "8-byte",
        ),
        (
            "lease",
            &lease,
            record(b"lease", &lease, garble),
            "not a Lease",
        ),
        (
            "members",
            &member,
            record(b"members", &member, |v| {
                // Another id in the JSON than in the key: its last digit changed.
                let mut v = v.to_vec();
                let at = v.windows(5).position(|w| w == b"\"id\":").unwrap() + 5;
                let end = at + v[at..].iter().take_while(|c| c.is_ascii_digit()).count();
                v[end - 1] = b'0' + (v[end - 1] - b'0' + 1) % 10;
                v
            }),
            "not its key's",
        ),
    ];
    for (bucket, key, b, want) in cases {
        let r = verify(&b);
        assert!(!r.ok, "{bucket}/{key:?}: {}", all_text(&r));
        assert_eq!(status(&r, "structure"), Status::Ok, "{bucket}");
        let hit = r
            .check("etcd")
            .unwrap()
            .findings
            .iter()
            .find(|f| f.message.contains(want))
            .unwrap_or_else(|| panic!("{bucket}: no {want:?} in {}", text(&r, "etcd")));
        assert_eq!(hit.bucket.as_deref(), Some(bucket));
        let shown = etcdsnap_bbolt::error::escape_bytes(key);
        let shown_meta = format!("{:?}", String::from_utf8_lossy(key));
        assert!(
            hit.key.as_deref() == Some(&shown) || hit.key.as_deref() == Some(&shown_meta),
            "{bucket}: key {:?}",
            hit.key
        );
    }
}

#[test]
fn file_lengths_neither_pages_nor_pages_and_a_trailer() {
    let saved = fixture("h5-k8s.db");
    let member = fixture("own-35-member.db");
    let n = saved.len();
    let cases: Vec<(&str, Vec<u8>)> = vec![
        ("trailer cut short", saved[..n - 10].to_vec()),
        ("one byte too long", [&saved[..], &[0]].concat()),
        ("member db one byte too long", [&member[..], &[0]].concat()),
        (
            "member db 100 bytes short",
            member[..member.len() - 100].to_vec(),
        ),
        (
            "512 + 32 past the pages",
            [&saved[..n - 32], &[0u8; 512][..], &saved[n - 32..]].concat(),
        ),
    ];
    for (what, b) in cases {
        let r = verify(&b);
        assert!(!r.ok, "{what}: {}", all_text(&r));
        let m = text(&r, "metas");
        assert!(
            m.contains("is neither a whole number of 4096-byte pages"),
            "{what}: {m}"
        );
        let t = r.check("trailer").unwrap();
        assert!(
            !t.summary.contains("--skip-hash-check"),
            "{what}: {}",
            t.summary
        );
    }
    // A member's db (whole pages) is a note about the hash check; a saved one is checked.
    let r = verify(&member);
    assert_eq!(status(&r, "trailer"), Status::Note);
    assert!(
        r.check("trailer")
            .unwrap()
            .summary
            .contains("--skip-hash-check")
    );
}

#[test]
fn no_hash_check_advice_for_files_that_are_not_databases() {
    for (what, b) in [
        ("empty", Vec::new()),
        ("text", b"not a database\n".repeat(300)),
        ("zeros", vec![0u8; 16384]),
    ] {
        let r = verify(&b);
        assert!(!r.ok, "{what}");
        let t = r.check("trailer").unwrap();
        assert_eq!(t.status, Status::Skip, "{what}");
        assert!(
            !t.summary.contains("skip-hash-check"),
            "{what}: {}",
            t.summary
        );
    }
}

#[test]
fn a_huge_high_water_mark_names_the_pgid_and_the_overflow() {
    let mut b = fixture("h5-k8s.db");
    let pgid = u64::MAX / 1000;
    for start in [0, PS] {
        let m = start + raw::PAGE_HEADER_SIZE;
        put_u64(&mut b, m + raw::meta::PGID, pgid);
        let sum = raw::fnv1a64(&b[m..m + raw::META_CHECKSUM_END]);
        put_u64(&mut b, m + raw::meta::CHECKSUM, sum);
    }
    reseal(&mut b);
    let r = verify(&b);
    assert!(!r.ok);
    let m = text(&r, "metas");
    assert!(
        m.contains(&format!("pgid {pgid}")) && m.contains("overflows"),
        "{m}"
    );
    assert!(!m.contains("18446744073709551615"), "{m}");
    let e = etcdsnap_bbolt::Db::from_bytes(b, Default::default()).unwrap_err();
    assert!(e.to_string().contains("overflows"), "{e}");
}

/// h5 with the key bucket's root behind a chain of `depth` branch pages, each with one
/// element, appended to the file (the high-water mark raised to match).
fn chained(depth: usize) -> Vec<u8> {
    let base = fixture("h5-k8s.db");
    let n = base.len() - 32;
    let hwm = (n / PS) as u64;
    let (root, _) = key_tree(&base);
    let first_key = branch_elems(&base, root)[0].0.clone();
    let mut b = base[..n].to_vec();
    b.resize(n + depth * PS, 0);
    for i in 0..depth {
        let id = hwm + i as u64;
        let at = id as usize * PS;
        put_u64(&mut b, at, id);
        put_u16(&mut b, at + 8, 0x01); // branch
        let child = if i + 1 == depth { root } else { id + 1 };
        write_branch(&mut b, id, &[(first_key.clone(), child)]);
    }
    // The key bucket's header in the root bucket: point it at the chain's head.
    let db = open(&base);
    let e = db.root().get_entry(b"key").unwrap().unwrap();
    put_u64(&mut b, off(&db, e.value), hwm);
    for start in [0, PS] {
        let m = start + raw::PAGE_HEADER_SIZE;
        put_u64(&mut b, m + raw::meta::PGID, hwm + depth as u64);
        let sum = raw::fnv1a64(&b[m..m + raw::META_CHECKSUM_END]);
        put_u64(&mut b, m + raw::meta::CHECKSUM, sum);
    }
    b.extend_from_slice(&[0u8; 32]);
    reseal(&mut b);
    b
}

#[test]
fn an_acyclic_chain_70_branches_deep_reads_as_bbolt_reads_it() {
    let original = revisions(&fixture("h5-k8s.db"));
    let b = chained(70);
    assert_eq!(revisions(&b), original);
    let db = open(&b);
    let kb = db.bucket(b"key").unwrap().unwrap();
    assert_eq!(
        kb.last().unwrap().unwrap().key,
        &original.last().unwrap()[..]
    );
    assert_eq!(
        kb.get_entry(&original[100]).unwrap().unwrap().key,
        &original[100][..]
    );
    let r = verify(&b);
    assert!(r.ok, "{}", all_text(&r));
    assert!(r.pages.unwrap().max_depth >= 72);
    // info, stats (their page walk) and status read it too.
    let snap = etcdsnap_mvcc::Snapshot::from_db(open(&b));
    etcdsnap_mvcc::info::info(&snap, 2).unwrap();
    etcdsnap_mvcc::status::status(&snap, 2).unwrap();
}

#[test]
fn a_shared_subtree_names_the_bucket_and_the_parent() {
    // Two elements of the key bucket's root branch point at the same leaf.
    let mut b = fixture("h5-k8s.db");
    let (root, children) = key_tree(&b);
    let mut elems = branch_elems(&b, root);
    elems[2].1 = children[1];
    write_branch(&mut b, root, &elems);
    reseal(&mut b);
    let db = etcdsnap_bbolt::Db::from_bytes(b.clone(), Default::default()).unwrap();
    let snap = etcdsnap_mvcc::Snapshot::from_db(db);
    let e = etcdsnap_mvcc::info::info(&snap, 1).unwrap_err().to_string();
    assert!(
        e.contains(&format!("page {}", children[1]))
            && e.contains("bucket \"key\"")
            && e.contains(&format!("from page {root}")),
        "{e}"
    );
    let r = verify(&b);
    assert!(!r.ok);
    assert!(text(&r, "structure").contains("multiple references"));
}

#[test]
fn a_lowered_element_count_leaves_data_behind() {
    let base = fixture("h5-k8s.db");
    let (_, children) = key_tree(&base);
    // A leaf below the compaction: the revision gaps cannot see its survivors go, the page can.
    let leaf = children[1];
    let mut b = base.clone();
    let at = leaf as usize * PS + 10;
    let n = u16_at(&b, at);
    put_u16(&mut b, at, n - 1);
    reseal(&mut b);
    let r = verify(&b);
    assert!(!r.ok);
    let m = text(&r, "structure");
    assert!(
        m.contains(&format!("page {leaf}, bucket key"))
            && m.contains("data after the last element"),
        "{m}"
    );
}

#[test]
fn a_renamed_bucket_is_data_etcd_no_longer_sees() {
    let base = fixture("h5-k8s.db");
    let db = open(&base);
    let e = db.root().get_entry(b"lease").unwrap().unwrap();
    let mut b = base.clone();
    b[off(&db, e.key) + 4] = b'f'; // "leasf": still sorted between "key" and "members"
    reseal(&mut b);
    let r = verify(&b);
    assert!(!r.ok);
    let m = text(&r, "etcd");
    assert!(
        m.contains("bucket \"leasf\"") && m.contains("neither writes nor reads"),
        "{m}"
    );
    assert!(m.contains("bucket lease: bucket missing"), "{m}");
}

#[test]
fn a_voter_without_a_member_record() {
    let b = record(b"meta", b"confState", |v| {
        let mut v = v.to_vec();
        let at = v.windows(10).position(|w| w == b"\"voters\":[").unwrap() + 10;
        let end = at + v[at..].iter().take_while(|c| c.is_ascii_digit()).count();
        v[end - 1] = b'0' + (v[end - 1] - b'0' + 1) % 10;
        v
    });
    let r = verify(&b);
    assert!(!r.ok, "{}", all_text(&r));
    let m = text(&r, "etcd");
    assert!(m.contains("which the members bucket does not hold"), "{m}");
}

/// The first revision key at or below the compaction whose KeyValue starts its key's history
/// at a version above 1 (a survivor of the compaction): (page base, element index).
fn survivor(bytes: &[u8]) -> (usize, usize) {
    let compact = compaction(bytes);
    let db = open(bytes);
    let kb = db.bucket(b"key").unwrap().unwrap();
    let mut seen = std::collections::HashSet::new();
    for e in kb.iter() {
        let e = e.unwrap();
        let kv = etcdsnap_mvcc::proto::KeyValueRef::decode(e.value).unwrap();
        if seen.insert(kv.key.to_vec()) && main_of(e.key) <= compact && kv.version > 1 {
            let base = e.page.unwrap() as usize * PS;
            let i = leaf_elems(bytes, base)
                .iter()
                .position(|(_, k, _)| k == e.key)
                .unwrap();
            return (base, i);
        }
    }
    panic!("no survivor");
}

#[test]
fn impossible_revision_numbers_below_the_compaction() {
    let base = fixture("h5-k8s.db");
    let (page, i) = survivor(&base);
    // Its sub-revision in the billions.
    let mut b = base.clone();
    let mut elems = leaf_elems(&b, page);
    elems[i].1[9] = 0x01;
    write_leaf(&mut b, page, PS, &elems);
    reseal(&mut b);
    let r = verify(&b);
    assert!(!r.ok);
    assert!(text(&r, "etcd").contains("beyond any transaction's number of changes"));
    // Its version beyond what the revisions since its creation allow.
    let mut b = base.clone();
    let mut elems = leaf_elems(&b, page);
    let main = main_of(&elems[i].1);
    let v = &mut elems[i].2;
    let kv = etcdsnap_mvcc::proto::KeyValueRef::decode(v).unwrap();
    let (create, version) = (kv.create_revision, kv.version);
    let too_many = (main - create + 2) as u8;
    assert!(too_many < 0x80, "one-byte varint");
    let vpos = v
        .windows(2)
        .position(|w| w[0] == 0x20 && i64::from(w[1]) == version)
        .unwrap();
    v[vpos + 1] = too_many;
    write_leaf(&mut b, page, PS, &elems);
    reseal(&mut b);
    let r = verify(&b);
    assert!(!r.ok, "{}", all_text(&r));
    assert!(
        text(&r, "etcd").contains("cannot be reached"),
        "{}",
        text(&r, "etcd")
    );
}

fn removed_member_fixture() -> Vec<u8> {
    std::fs::read(
        std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/data/removed-member.db"),
    )
    .unwrap()
}

#[test]
fn a_removed_member_record_etcd_cannot_parse() {
    let base = removed_member_fixture();
    let r = verify(&base);
    assert!(r.ok, "{}", all_text(&r));
    let key = first_key(&base, b"members_removed");
    let db = open(&base);
    let e = db
        .bucket(b"members_removed")
        .unwrap()
        .unwrap()
        .get_entry(&key)
        .unwrap()
        .unwrap();
    let mut b = base.clone();
    b[off(&db, e.key) + key.len() - 1] = b'g'; // not hex; still the only key
    reseal(&mut b);
    let r = verify(&b);
    assert!(!r.ok);
    let f = r
        .check("etcd")
        .unwrap()
        .findings
        .iter()
        .find(|f| f.message.contains("not a member id in hex"))
        .unwrap_or_else(|| panic!("{}", text(&r, "etcd")));
    assert_eq!(f.bucket.as_deref(), Some("members_removed"));
}

#[test]
fn a_missing_change_of_a_real_transaction() {
    // Revision 4 of the fixture is a transaction of four changes (subs 0..3).
    let base = removed_member_fixture();
    let revs = revisions(&base);
    let subs: Vec<i64> = revs
        .iter()
        .filter(|k| main_of(k) == 4)
        .map(|k| sub_of(k))
        .collect();
    assert_eq!(subs, [0, 1, 2, 3]);
    for drop in [0usize, 1, 2] {
        let k = revs
            .iter()
            .find(|k| main_of(k) == 4 && sub_of(k) == drop as i64)
            .unwrap();
        let loc = locate(&base, b"key", k);
        let mut b = base.clone();
        let mut elems = leaf_elems(&b, loc.base);
        elems.remove(loc.index);
        write_leaf(&mut b, loc.base, loc.span, &elems);
        reseal(&mut b);
        let r = verify(&b);
        assert!(!r.ok, "sub {drop}: {}", all_text(&r));
        assert!(
            text(&r, "etcd").contains(&format!("sub-revision {drop} is missing")),
            "{}",
            text(&r, "etcd")
        );
    }
}

#[test]
fn extreme_revision_numbers_do_not_overflow() {
    // Revision keys at the ends of the range, out of order, in the last leaf: verify reports
    // them (debug builds check every addition) instead of panicking.
    let mut b = fixture("h5-k8s.db");
    let (_, children) = key_tree(&b);
    let last = *children.last().unwrap() as usize * PS;
    let mut elems = leaf_elems(&b, last);
    let rk = |main: i64, sub: i64| {
        let mut k = main.to_be_bytes().to_vec();
        k.push(b'_');
        k.extend_from_slice(&sub.to_be_bytes());
        k
    };
    for (main, sub) in [
        (i64::MAX, i64::MAX),
        (i64::MAX, 0),
        (500, i64::MAX),
        (600, i64::MAX),
    ] {
        let kv = etcdsnap_mvcc::proto::KeyValue {
            key: b"/x".to_vec(),
            create_revision: main,
            mod_revision: main,
            version: 1,
            value: Vec::new(),
            lease: 0,
        };
        elems.push((0, rk(main, sub), prost::Message::encode_to_vec(&kv)));
    }
    write_leaf(&mut b, last, PS, &elems);
    reseal(&mut b);
    let r = verify(&b);
    assert!(!r.ok);
    assert!(r.etcd.unwrap().missing_revisions > 0);
}
