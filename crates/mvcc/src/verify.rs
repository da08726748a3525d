//! `etcdsnap verify`: the integrity of a snapshot, in four checks, every finding reported.
//!
//! 1. `trailer`: the SHA-256 that `etcdctl snapshot save` appends must match the bytes before
//!    it (a member's own `db` copy has none: noted, not failed);
//! 2. `metas`: both meta pages ([`bbolt::check::check_metas`]);
//! 3. `structure`: the whole B+tree ([`bbolt::check::check_with`]);
//! 4. `etcd`: etcd's layer: revision keys, KeyValue values, each key's history of versions and
//!    create revisions, tombstones, the compaction revisions and consistent index of `meta`.
//!
//! The composition lives here, in a library, so the fuzz target exercises exactly what the
//! binary runs; the binary only formats the [`Report`]. The SHA-256 of a 1.5 GB file takes
//! about as long as the rest together, so it runs on its own thread while the walks run on
//! the caller's. A file that does not open as a database (empty, text, both metas damaged) is
//! a report with failures, not an error: only an unreadable path is an error, and that is the
//! caller's business ([`bbolt::Source::open`]).

use std::collections::hash_map::Entry as MapEntry;
use std::collections::{HashMap, HashSet};
use std::fmt;
use std::sync::Arc;

use etcdsnap_bbolt::check::{self as bcheck, CheckOptions, Findings, PageStats, Severity};
use etcdsnap_bbolt::error::escape_bytes;
use etcdsnap_bbolt::{self as bbolt, Db, OpenOptions, Source};
use sha2::{Digest, Sha256};

use crate::proto::{KeyValueRef, Lease};
use crate::revision::{RevKey, Revision};
use crate::snapshot::buckets;

/// How a check ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Status {
    /// Everything holds.
    Ok,
    /// Something is wrong: the file is damaged or inconsistent.
    Fail,
    /// Something is unusual but not wrong.
    Warn,
    /// Nothing to check, with a reason (e.g. no trailer).
    Note,
    /// Not run because an earlier check made it impossible (e.g. no valid meta).
    Skip,
}

impl Status {
    /// Upper-case label for text output.
    pub fn label(&self) -> &'static str {
        match self {
            Status::Ok => "OK",
            Status::Fail => "FAIL",
            Status::Warn => "WARN",
            Status::Note => "NOTE",
            Status::Skip => "SKIP",
        }
    }
}

/// One finding, in the report's form: a message and where. In JSON every field is always
/// present (`null` when unknown), so scripts can rely on the shape.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct Item {
    /// `error`, `warning` or `info`.
    #[serde(serialize_with = "ser_severity")]
    pub severity: Severity,
    /// What is wrong, in words.
    pub message: String,
    /// The page it is about.
    pub page: Option<u64>,
    /// The bucket.
    pub bucket: Option<String>,
    /// The key (escaped: text in quotes, or hex).
    pub key: Option<String>,
    /// The byte offset in the file.
    pub offset: Option<u64>,
}

fn ser_severity<S: serde::Serializer>(s: &Severity, ser: S) -> Result<S::Ok, S::Error> {
    ser.serialize_str(s.name())
}

impl Item {
    fn new(severity: Severity, message: impl fmt::Display) -> Item {
        Item {
            severity,
            message: message.to_string(),
            page: None,
            bucket: None,
            key: None,
            offset: None,
        }
    }
}

impl From<&bcheck::Finding> for Item {
    fn from(f: &bcheck::Finding) -> Item {
        Item {
            severity: f.severity,
            message: f.problem.to_string(),
            page: f.page,
            bucket: f.bucket.clone(),
            key: f.key.clone(),
            offset: f.offset,
        }
    }
}

impl fmt::Display for Item {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mut parts = Vec::new();
        if let Some(p) = self.page {
            parts.push(format!("page {p}"));
        }
        if let Some(b) = &self.bucket {
            parts.push(format!("bucket {b}"));
        }
        if let Some(k) = &self.key {
            parts.push(format!("key {k}"));
        }
        if let Some(o) = self.offset {
            parts.push(format!("offset {o}"));
        }
        if parts.is_empty() {
            f.write_str(&self.message)
        } else {
            write!(f, "{}: {}", parts.join(", "), self.message)
        }
    }
}

/// The result of one check.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct CheckResult {
    /// `trailer`, `metas`, `structure` or `etcd`.
    pub name: &'static str,
    /// The verdict.
    pub status: Status,
    /// One line saying what was checked and what it found.
    pub summary: String,
    /// Findings (up to the cap), in the order found.
    pub findings: Vec<Item>,
    /// All findings, including those past the cap.
    pub findings_total: u64,
}

impl CheckResult {
    fn from_findings(name: &'static str, summary: String, f: &Findings) -> CheckResult {
        let status = if f.errors > 0 {
            Status::Fail
        } else if f.warnings > 0 {
            Status::Warn
        } else {
            Status::Ok
        };
        CheckResult {
            name,
            status,
            summary,
            findings: f.list.iter().map(Item::from).collect(),
            findings_total: f.total,
        }
    }

    fn skip(name: &'static str, why: impl fmt::Display) -> CheckResult {
        CheckResult {
            name,
            status: Status::Skip,
            summary: format!("not checked: {why}"),
            findings: Vec::new(),
            findings_total: 0,
        }
    }
}

/// What etcd's layer holds, as the `etcd` check counted it.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, serde::Serialize)]
pub struct EtcdStats {
    /// Entries of the `key` bucket.
    pub revisions: u64,
    /// Of those, puts.
    pub puts: u64,
    /// Of those, tombstones.
    pub tombstones: u64,
    /// Distinct user keys.
    pub keys: u64,
    /// User keys whose newest entry is a put.
    pub live_keys: u64,
    /// Oldest `main` revision present.
    pub first_revision: Option<i64>,
    /// Newest `main` revision present.
    pub last_revision: Option<i64>,
    /// `meta/finishedCompactRev`.
    pub compact_finished: Option<i64>,
    /// `meta/scheduledCompactRev`.
    pub compact_scheduled: Option<i64>,
    /// `meta/consistent_index`.
    pub consistent_index: Option<u64>,
    /// `meta/term`.
    pub term: Option<u64>,
    /// Entries of the `lease` bucket.
    pub leases: u64,
    /// Main revisions missing where etcd leaves no gap (above the compaction), and
    /// sub-revisions missing inside a transaction.
    pub missing_revisions: u64,
}

/// Everything `verify` found.
#[derive(Debug, Clone, serde::Serialize)]
pub struct Report {
    /// Size of the file in bytes.
    pub file_size: u64,
    /// True when no check failed.
    pub ok: bool,
    /// The checks, in order: trailer, metas, structure, etcd.
    pub checks: Vec<CheckResult>,
    /// Page accounting, when the structure could be walked.
    #[serde(skip)]
    pub pages: Option<PageStats>,
    /// etcd's layer, when it could be read.
    #[serde(skip)]
    pub etcd: Option<EtcdStats>,
}

impl Report {
    fn finish(file_size: u64, checks: Vec<CheckResult>) -> Report {
        Report {
            file_size,
            ok: checks.iter().all(|c| c.status != Status::Fail),
            checks,
            pages: None,
            etcd: None,
        }
    }

    /// The check named `name`.
    pub fn check(&self, name: &str) -> Option<&CheckResult> {
        self.checks.iter().find(|c| c.name == name)
    }
}

/// Options of [`verify`].
#[derive(Debug, Clone, Copy)]
pub struct VerifyOptions {
    /// Findings kept per check (all are counted).
    pub max_findings: usize,
    /// Hash on a second thread while the structure is walked.
    pub parallel: bool,
}

impl Default for VerifyOptions {
    fn default() -> VerifyOptions {
        VerifyOptions {
            max_findings: 10_000,
            parallel: true,
        }
    }
}

/// Verifies bytes held in memory (tests, fuzzing).
pub fn verify_bytes(bytes: Vec<u8>, opts: &VerifyOptions) -> Report {
    verify(Arc::new(Source::from_vec(bytes)), opts)
}

/// Verifies the file in `source`: trailer, metas, structure, etcd layer. Never panics and
/// always ends, whatever the bytes.
pub fn verify(source: Arc<Source>, opts: &VerifyOptions) -> Report {
    let bytes = source.bytes();
    let copts = CheckOptions {
        max_findings: opts.max_findings,
    };
    let (trailer, rest) = if opts.parallel {
        std::thread::scope(|s| {
            let h = s.spawn(|| check_trailer(&source));
            let rest = check_db(&source, &copts, None, true);
            let trailer = h.join().unwrap_or_else(|p| std::panic::resume_unwind(p));
            (trailer, rest)
        })
    } else {
        (
            check_trailer(&source),
            check_db(&source, &copts, None, false),
        )
    };
    assemble(bytes.len() as u64, trailer, rest)
}

/// [`verify`] for a caller that has already made two of its parts beside its own work:
/// `trailer` from [`check_trailer`] on the file's bytes, and `walk` from
/// [`bcheck::check_with`] on a database opened from `source` with `opts.max_findings` as the
/// cap. `etcdsnap report` hashes the file on one thread while it walks the pages for its space
/// accounting on the others, then finishes here; the report is the one [`verify`] gives.
pub fn verify_from(
    source: &Arc<Source>,
    opts: &VerifyOptions,
    trailer: CheckResult,
    walk: bcheck::Check,
) -> Report {
    let copts = CheckOptions {
        max_findings: opts.max_findings,
    };
    let rest = check_db(source, &copts, Some(walk), opts.parallel);
    assemble(source.bytes().len() as u64, trailer, rest)
}

fn assemble(file_size: u64, trailer: CheckResult, rest: DbChecks) -> Report {
    let (mut checks, pages, etcd) = rest;
    let mut trailer = trailer;
    if trailer.status == Status::Note {
        // The note about a member's db and --skip-hash-check is for a sound bbolt file only.
        let metas_failed = checks
            .iter()
            .any(|c| c.name == "metas" && c.status == Status::Fail);
        let missing = pages.as_ref().map_or(0, |p| p.missing);
        if missing > 0 {
            trailer.summary = format!(
                "no sha256 trailer: the file is truncated ({} bytes, {missing} pages missing at the end), so a trailer would be lost too",
                file_size
            );
        } else if metas_failed {
            trailer.summary = format!(
                "no sha256 trailer ({} bytes): not a bbolt file (see the metas check)",
                file_size
            );
        }
    }
    checks.insert(0, trailer);
    let mut r = Report::finish(file_size, checks);
    r.pages = pages;
    r.etcd = etcd;
    r
}

fn hex(b: &[u8]) -> String {
    b.iter().map(|x| format!("{x:02x}")).collect()
}

/// (a) The sha256 trailer of the file in `source`: the SHA-256 of everything before it, the
/// bulk of `verify`'s time (read in pieces: [`Source::for_each_piece`]).
pub fn check_trailer(source: &Source) -> CheckResult {
    let file = source.bytes();
    let Some(t) = bbolt::db::trailer_of(file) else {
        return no_trailer(file);
    };
    let mut hasher = Sha256::new();
    source.for_each_piece(t.offset as usize, |p| hasher.update(p));
    let computed = hasher.finalize();
    if computed[..] == t.digest[..] {
        CheckResult {
            name: "trailer",
            status: Status::Ok,
            summary: format!(
                "sha256 trailer matches the {} bytes before it ({})",
                t.offset,
                hex(&t.digest)
            ),
            findings: Vec::new(),
            findings_total: 0,
        }
    } else {
        let mut item = Item::new(
            Severity::Error,
            format!(
                "sha256 trailer does not match: stored {}, computed {} over the first {} bytes \
                 (the file was changed or damaged after it was saved)",
                hex(&t.digest),
                hex(&computed),
                t.offset
            ),
        );
        item.offset = Some(t.offset);
        CheckResult {
            name: "trailer",
            status: Status::Fail,
            summary: "sha256 trailer does not match the file".into(),
            findings: vec![item],
            findings_total: 1,
        }
    }
}

/// A file without a trailer: a member's db (whole pages) is a note; a file that is not a bbolt
/// database says nothing about trailers (the metas check tells why); any other length lost or
/// gained bytes at its end.
fn no_trailer(file: &[u8]) -> CheckResult {
    let (m0, m1) = bbolt::db::read_metas(file);
    let meta = match (m0, m1) {
        (Ok(a), Ok(b)) => Some(if b.txid > a.txid { b } else { a }),
        (Ok(m), Err(_)) | (Err(_), Ok(m)) => Some(m),
        _ => None,
    };
    let page_size = meta.map(|m| u64::from(m.page_size));
    let len = file.len() as u64;
    let (status, summary, findings) = match page_size {
        None => (
            Status::Skip,
            format!(
                "not checked: not a bbolt file ({len} bytes; see the metas check), so no saved snapshot either"
            ),
            Vec::new(),
        ),
        Some(ps) if len.is_multiple_of(ps) => (
            Status::Note,
            format!(
                "no sha256 trailer: the file is whole {ps}-byte pages, a member's own db (etcdctl \
                 snapshot save appends one; etcdutl snapshot restore needs --skip-hash-check for a db without)"
            ),
            Vec::new(),
        ),
        Some(ps) => {
            let extra = len % ps;
            let mut item = Item::new(
                Severity::Error,
                format!(
                    "the file ends {extra} bytes past its last whole {ps}-byte page: a member's db has \
                     no bytes there and a saved snapshot exactly 32 (its sha256), so the end of the \
                     copy was cut off or bytes were added; etcdutl snapshot restore refuses it"
                ),
            );
            item.offset = Some(len - extra);
            let needed = meta.and_then(|m| m.pgid.checked_mul(u64::from(m.page_size)));
            let summary = match needed {
                Some(n) if n > len => format!(
                    "no sha256 trailer: the file is truncated ({len} bytes, the database needs {n}), \
                     so a trailer would be lost too"
                ),
                _ => "no complete sha256 trailer and not whole pages: the file's end is damaged"
                    .to_string(),
            };
            (Status::Fail, summary, vec![item])
        }
    };
    CheckResult {
        name: "trailer",
        status,
        summary,
        findings_total: findings.len() as u64,
        findings,
    }
}

type DbChecks = (Vec<CheckResult>, Option<PageStats>, Option<EtcdStats>);

/// (b), (c), (d): metas, structure (walked here unless `walk` is given), etcd layer.
fn check_db(
    source: &Arc<Source>,
    opts: &CheckOptions,
    walk: Option<bcheck::Check>,
    parallel: bool,
) -> DbChecks {
    let bytes = source.bytes();
    let metas = bcheck::check_metas(bytes, opts);
    let meta_summary = match metas
        .active
        .map(|a| if a == 0 { &metas.meta0 } else { &metas.meta1 })
    {
        Some(Ok(m)) => format!(
            "both metas checked; page size {}, high-water mark {} pages ({}), root page {}, freelist {}",
            m.page_size,
            m.pgid,
            m.pgid
                .checked_mul(u64::from(m.page_size))
                .map_or("a size that overflows 64 bits".to_string(), |b| format!(
                    "{b} bytes"
                )),
            m.root,
            if m.freelist_persisted() {
                format!("page {}", m.freelist)
            } else {
                "not persisted".to_string()
            }
        ),
        _ => "no valid meta page: not a usable bbolt database".to_string(),
    };
    let mut checks = vec![CheckResult::from_findings(
        "metas",
        meta_summary,
        &metas.findings,
    )];
    let db = match Db::from_source(
        Arc::clone(source),
        OpenOptions {
            allow_truncated: true,
        },
    ) {
        Ok(db) => db,
        Err(e) => {
            checks.push(CheckResult::skip("structure", &e));
            checks.push(CheckResult::skip("etcd", &e));
            return (checks, None, None);
        }
    };
    // The structure walk and the etcd layer read the same pages and depend on nothing of each
    // other, so with `parallel` they run on two threads (beside the trailer's SHA-256): on a
    // store of many small revisions the etcd layer alone takes about as long as the hash.
    let mut out = Items::new(opts.max_findings);
    let (st, es) = match walk {
        Some(w) => (w, check_etcd(&db, &mut out)),
        None if parallel => std::thread::scope(|sc| {
            let h = sc.spawn(|| bcheck::check_with(&db, opts));
            let es = check_etcd(&db, &mut out);
            (
                h.join().unwrap_or_else(|p| std::panic::resume_unwind(p)),
                es,
            )
        }),
        None => {
            let st = bcheck::check_with(&db, opts);
            (st, check_etcd(&db, &mut out))
        }
    };
    let s = st.stats;
    let summary = format!(
        "{} buckets ({} inline), {} keys, {} pages in use ({} branch, {} leaf, {} overflow, {} freelist), \
         {} free, {} unreachable, {} missing, tree depth {}",
        s.buckets,
        s.inline_buckets,
        s.keys,
        s.pages_in_use(),
        s.branch,
        s.leaf,
        s.branch_overflow + s.leaf_overflow,
        s.freelist,
        s.free,
        s.unreachable,
        s.missing,
        s.max_depth
    );
    checks.push(CheckResult::from_findings(
        "structure",
        summary,
        &st.findings,
    ));
    let summary = etcd_summary(&es);
    checks.push(out.result("etcd", summary));
    (checks, Some(s), Some(es))
}

fn etcd_summary(s: &EtcdStats) -> String {
    let opt = |v: Option<i64>| v.map_or("none".to_string(), |v| v.to_string());
    format!(
        "{} revisions ({} puts, {} tombstones) of {} keys ({} live), revisions {}..{}, \
         compaction finished {} scheduled {}, consistent_index {}, {} leases{}",
        s.revisions,
        s.puts,
        s.tombstones,
        s.keys,
        s.live_keys,
        opt(s.first_revision),
        opt(s.last_revision),
        opt(s.compact_finished),
        opt(s.compact_scheduled),
        s.consistent_index
            .map_or("missing".to_string(), |v| v.to_string()),
        s.leases,
        if s.missing_revisions > 0 {
            format!(", {} revisions missing", s.missing_revisions)
        } else {
            String::new()
        }
    )
}

/// A fast, non-cryptographic hasher for the per-key map (the FxHash mixing step, 8 bytes at a
/// time). The keys come from the file, so a crafted file could force collisions: that costs
/// time in proportion to its size, never correctness, and `verify` is not a server.
#[derive(Default, Clone, Copy)]
struct Fx(u64);

impl std::hash::Hasher for Fx {
    fn write(&mut self, bytes: &[u8]) {
        const K: u64 = 0x517c_c1b7_2722_0a95;
        let mut chunks = bytes.chunks_exact(8);
        for c in &mut chunks {
            let w = u64::from_le_bytes(c.try_into().unwrap_or_default());
            self.0 = (self.0.rotate_left(5) ^ w).wrapping_mul(K);
        }
        let mut tail = [0u8; 8];
        let rest = chunks.remainder();
        tail[..rest.len()].copy_from_slice(rest);
        self.0 = (self.0.rotate_left(5) ^ u64::from_le_bytes(tail) ^ (rest.len() as u64) << 56)
            .wrapping_mul(K);
    }

    fn finish(&self) -> u64 {
        self.0
    }
}

type BuildFx = std::hash::BuildHasherDefault<Fx>;

/// A user key with its hash, computed once from the bytes: the map's growth rehashes from the
/// stored hash instead of reading every key again from the file (keys sit in pages far from
/// the current one, so that read is a cache miss per key). Equality still compares the bytes.
#[derive(Clone, Copy)]
struct HashedKey<'a> {
    hash: u64,
    bytes: &'a [u8],
}

impl<'a> HashedKey<'a> {
    fn new(bytes: &'a [u8]) -> Self {
        let mut h = Fx::default();
        std::hash::Hasher::write(&mut h, bytes);
        HashedKey {
            hash: std::hash::Hasher::finish(&h),
            bytes,
        }
    }
}

impl std::hash::Hash for HashedKey<'_> {
    fn hash<H: std::hash::Hasher>(&self, state: &mut H) {
        state.write_u64(self.hash);
    }
}

impl PartialEq for HashedKey<'_> {
    fn eq(&self, other: &Self) -> bool {
        self.hash == other.hash && self.bytes == other.bytes
    }
}

impl Eq for HashedKey<'_> {}

/// What the history of one user key looked like at its newest entry.
#[derive(Debug, Clone, Copy)]
struct KeyState {
    main: i64,
    lease: i64,
    version: i64,
    create: i64,
    alive: bool,
}

/// An etcd-layer finding about a `key` bucket entry.
fn key_item(
    severity: Severity,
    entry: &bbolt::Entry<'_>,
    user_key: Option<&[u8]>,
    message: impl fmt::Display,
) -> Item {
    let rev = RevKey::parse(entry.key)
        .map(|r| format!("revision {}{}: ", r.rev, if r.tombstone { "t" } else { "" }))
        .unwrap_or_default();
    let mut i = Item::new(severity, format!("{rev}{message}"));
    i.page = entry.page;
    i.bucket = Some("key".into());
    i.key = Some(escape_bytes(user_key.unwrap_or(entry.key)));
    i
}

/// The etcd layer's findings: kept up to a cap, all counted.
#[derive(Debug)]
struct Items {
    list: Vec<Item>,
    total: u64,
    errors: u64,
    warnings: u64,
    cap: usize,
}

impl Items {
    fn new(cap: usize) -> Items {
        Items {
            list: Vec::new(),
            total: 0,
            errors: 0,
            warnings: 0,
            cap,
        }
    }

    fn result(self, name: &'static str, summary: String) -> CheckResult {
        let status = if self.errors > 0 {
            Status::Fail
        } else if self.warnings > 0 {
            Status::Warn
        } else {
            Status::Ok
        };
        CheckResult {
            name,
            status,
            summary,
            findings: self.list,
            findings_total: self.total,
        }
    }
}

fn push(out: &mut Items, item: Item) {
    out.total += 1;
    match item.severity {
        Severity::Error => out.errors += 1,
        Severity::Warning => out.warnings += 1,
        Severity::Info => {}
    }
    if out.list.len() < out.cap {
        out.list.push(item);
    }
}

/// (d) etcd's layer.
fn check_etcd(db: &Db, out: &mut Items) -> EtcdStats {
    let mut st = EtcdStats::default();
    let missing = |out: &mut Items, name: &str| {
        let mut i = Item::new(
            Severity::Error,
            format!("bucket {name:?} is missing: not an etcd v3 database"),
        );
        i.bucket = Some(name.to_string());
        push(out, i);
    };
    let unreadable = |out: &mut Items, name: &str, e: &dyn fmt::Display| {
        let mut i = Item::new(Severity::Error, format!("cannot read: {e}"));
        i.bucket = Some(name.to_string());
        push(out, i);
    };

    // meta first: the compaction revisions decide what history may be missing.
    let meta = match db.bucket(buckets::META) {
        Ok(Some(b)) => Some(b),
        Ok(None) => {
            missing(out, "meta");
            None
        }
        Err(e) => {
            unreadable(out, "meta", &e);
            None
        }
    };
    let get = |key: &[u8]| meta.as_ref().and_then(|b| b.get(key).ok().flatten());
    let meta_item = |sev, key: &str, msg: String| {
        let mut i = Item::new(sev, msg);
        i.bucket = Some("meta".into());
        i.key = Some(format!("{key:?}"));
        i
    };
    let u64_value = |out: &mut Items, key: &str| -> Option<u64> {
        let v = get(key.as_bytes())?;
        match <[u8; 8]>::try_from(v) {
            Ok(a) => Some(u64::from_be_bytes(a)),
            Err(_) => {
                push(
                    out,
                    meta_item(
                        Severity::Error,
                        key,
                        format!(
                            "value is {} bytes, not an 8-byte big-endian integer",
                            v.len()
                        ),
                    ),
                );
                None
            }
        }
    };
    let rev_value = |out: &mut Items, key: &str| -> Option<i64> {
        let v = get(key.as_bytes())?;
        match Revision::parse(v).filter(|_| v.len() == 17) {
            Some(r) => Some(r.main),
            None => {
                push(
                    out,
                    meta_item(
                        Severity::Error,
                        key,
                        format!("value is not a 17-byte revision ({})", escape_bytes(v)),
                    ),
                );
                None
            }
        }
    };
    if meta.is_some() {
        st.consistent_index = u64_value(out, "consistent_index");
        if st.consistent_index.is_none() && get(b"consistent_index").is_none() {
            push(
                out,
                meta_item(
                    Severity::Error,
                    "consistent_index",
                    "missing (etcd writes it with every applied entry)".into(),
                ),
            );
        }
        st.term = u64_value(out, "term");
        st.compact_scheduled = rev_value(out, "scheduledCompactRev");
        st.compact_finished = rev_value(out, "finishedCompactRev");
    }
    match (st.compact_scheduled, st.compact_finished) {
        (Some(s), Some(f)) if s < f => push(
            out,
            meta_item(
                Severity::Error,
                "scheduledCompactRev",
                format!("scheduled compaction {s} is older than the finished one {f}"),
            ),
        ),
        (Some(s), Some(f)) if s > f => push(
            out,
            meta_item(
                Severity::Warning,
                "scheduledCompactRev",
                format!(
                    "compaction at {s} was interrupted (finished: {f}); etcd completes it when it next opens the file"
                ),
            ),
        ),
        (Some(s), None) => push(
            out,
            meta_item(
                Severity::Warning,
                "scheduledCompactRev",
                format!(
                    "compaction at {s} was interrupted (none finished); etcd completes it when it next opens the file"
                ),
            ),
        ),
        (None, Some(f)) => push(
            out,
            meta_item(
                Severity::Warning,
                "finishedCompactRev",
                format!("a compaction at {f} finished but none was scheduled"),
            ),
        ),
        _ => {}
    }
    // Revisions at or below this may have lost their history to compaction.
    let compact = st.compact_scheduled.max(st.compact_finished).unwrap_or(-1);

    if meta.is_some() {
        for (key, what) in [
            ("confState", Record::ConfState),
            ("storageVersion", Record::Semver),
        ] {
            if let Some(v) = get(key.as_bytes()) {
                check_record(out, "meta", key.as_bytes(), v, what, None);
            }
        }
    }
    startup_records(db, out);
    bucket_names(db, out);
    if let Some(cs) =
        get(b"confState").and_then(|v| serde_json::from_slice::<crate::info::ConfState>(v).ok())
    {
        conf_state_members(db, &cs, out);
    }
    let lease_ids = leases(db, &mut st, out);
    // False when the key bucket could not be read to its end (then its newest revision is
    // unknown, and comparing the compaction revisions with it would only add noise).
    let mut complete = false;
    let kb = match db.bucket(buckets::KEY) {
        Ok(Some(b)) => Some(b),
        Ok(None) => {
            missing(out, "key");
            None
        }
        Err(e) => {
            unreadable(out, "key", &e);
            None
        }
    };
    if let Some(kb) = kb {
        complete = history(&kb, compact, &lease_ids, &mut st, out);
    }
    for (key, name) in [
        (st.compact_finished, "finishedCompactRev"),
        (st.compact_scheduled, "scheduledCompactRev"),
    ] {
        if let (true, Some(c), Some(last)) = (complete, key, st.last_revision)
            && c > last
        {
            push(
                out,
                meta_item(
                    Severity::Warning,
                    name,
                    format!("compaction revision {c} is newer than the newest key revision {last}"),
                ),
            );
        }
    }
    st
}

/// Writes a key's newest state into the slot its lookup found.
fn set(slot: MapEntry<'_, HashedKey<'_>, KeyState>, state: KeyState) {
    match slot {
        MapEntry::Occupied(mut o) => *o.get_mut() = state,
        MapEntry::Vacant(v) => {
            v.insert(state);
        }
    }
}

/// Walks the `key` bucket in revision order, checking every entry and each key's history.
fn history(
    kb: &bbolt::Bucket<'_>,
    compact: i64,
    lease_ids: &HashSet<i64>,
    st: &mut EtcdStats,
    out: &mut Items,
) -> bool {
    let mut complete = true;
    let mut keys: HashMap<HashedKey<'_>, KeyState, BuildFx> = HashMap::default();
    let mut runs = Continuity {
        compact,
        prev: None,
        missing: 0,
    };
    for e in kb.iter() {
        let e = match e {
            Ok(e) => e,
            Err(err) => {
                let mut i = Item::new(
                    Severity::Error,
                    format!("cannot read further: {err} (see the structure check)"),
                );
                i.bucket = Some("key".into());
                push(out, i);
                complete = false;
                break;
            }
        };
        st.revisions += 1;
        let Some(rk) = RevKey::parse(e.key) else {
            push(
                out,
                key_item(
                    Severity::Error,
                    &e,
                    None,
                    "key is not a revision (17 bytes main '_' sub, or 18 ending in 't')",
                ),
            );
            continue;
        };
        let main = rk.rev.main;
        st.first_revision.get_or_insert(main);
        st.last_revision = Some(main);
        runs.next(&e, rk, out);
        if e.is_bucket() {
            push(
                out,
                key_item(
                    Severity::Error,
                    &e,
                    None,
                    "entry is a sub-bucket, not a value",
                ),
            );
            continue;
        }
        let kv = match KeyValueRef::decode(e.value) {
            Ok(kv) => kv,
            Err(w) => {
                push(
                    out,
                    key_item(
                        Severity::Error,
                        &e,
                        None,
                        format!("value is not a KeyValue: {w}"),
                    ),
                );
                continue;
            }
        };
        if is_bump_marker(&e, rk) {
            push(
                out,
                key_item(
                    Severity::Info,
                    &e,
                    None,
                    "empty value: the revision bump marker of `etcdutl snapshot restore --bump-revision --mark-compacted`",
                ),
            );
            continue;
        }
        let user = kv.key;
        let item = |sev, msg: String| key_item(sev, &e, Some(user), msg);
        if user.is_empty() {
            push(out, item(Severity::Error, "empty user key".into()));
            continue;
        }
        // One hash and probe per revision: the slot found here is the one written below.
        let slot = keys.entry(HashedKey::new(user));
        let prev = match &slot {
            MapEntry::Occupied(o) => Some(*o.get()),
            MapEntry::Vacant(_) => None,
        };
        if prev.is_some_and(|p| p.main == main) {
            push(
                out,
                item(
                    Severity::Error,
                    format!("a second change to the same key in revision {main}"),
                ),
            );
        }
        if rk.tombstone {
            st.tombstones += 1;
            if kv.create_revision != 0
                || kv.mod_revision != 0
                || kv.version != 0
                || !kv.value.is_empty()
                || kv.lease != 0
            {
                push(
                    out,
                    item(
                        Severity::Error,
                        "tombstone carries more than the key".into(),
                    ),
                );
            }
            match prev {
                None if main > compact => push(
                    out,
                    item(
                        Severity::Error,
                        format!(
                            "tombstone of a key with no earlier put, above the compaction revision {compact}"
                        ),
                    ),
                ),
                Some(p) if !p.alive => push(
                    out,
                    item(
                        Severity::Error,
                        format!("tombstone of a key already deleted at revision {}", p.main),
                    ),
                ),
                _ => {}
            }
            set(
                slot,
                KeyState {
                    main,
                    lease: 0,
                    version: 0,
                    create: 0,
                    alive: false,
                },
            );
            continue;
        }
        st.puts += 1;
        if kv.mod_revision != main {
            push(
                out,
                item(
                    Severity::Error,
                    format!(
                        "mod_revision {} differs from the key's revision {main}",
                        kv.mod_revision
                    ),
                ),
            );
        }
        let (want_version, want_create) = match prev {
            Some(p) if p.alive => (Some(p.version.saturating_add(1)), Some(p.create)),
            Some(_) => (Some(1), Some(main)),
            None if kv.version == 1 => (Some(1), Some(main)),
            None => {
                // The creation and earlier versions were compacted away: only the survivor
                // of a compaction (main <= compact) may start a history at version > 1.
                if kv.version < 1 {
                    push(
                        out,
                        item(
                            Severity::Error,
                            format!("version {} is not positive", kv.version),
                        ),
                    );
                } else if main > compact {
                    push(
                        out,
                        item(
                            Severity::Error,
                            format!(
                                "first revision of the key has version {} but revision {main} is above the \
                                 compaction revision {compact}: its earlier versions are missing",
                                kv.version
                            ),
                        ),
                    );
                }
                if kv.version > 1
                    && kv.create_revision >= 1
                    && kv.create_revision < main
                    && main - kv.create_revision < kv.version - 1
                {
                    // Versions 1..v took v distinct revisions from the creation to this one.
                    push(
                        out,
                        item(
                            Severity::Error,
                            format!(
                                "version {} cannot be reached between create_revision {} and revision {main} \
                                 (one revision per version)",
                                kv.version, kv.create_revision
                            ),
                        ),
                    );
                }
                if kv.create_revision < 1 || kv.create_revision >= main {
                    push(
                        out,
                        item(
                            Severity::Error,
                            format!(
                                "create_revision {} of a version {} put at revision {main} is not before it",
                                kv.create_revision, kv.version
                            ),
                        ),
                    );
                }
                (None, None)
            }
        };
        if let Some(v) = want_version.filter(|v| *v != kv.version) {
            push(
                out,
                item(
                    Severity::Error,
                    format!("version {} where the history says {v}", kv.version),
                ),
            );
        }
        if let Some(c) = want_create.filter(|c| *c != kv.create_revision) {
            push(
                out,
                item(
                    Severity::Error,
                    format!(
                        "create_revision {} where the history says {c}",
                        kv.create_revision
                    ),
                ),
            );
        }
        set(
            slot,
            KeyState {
                main,
                lease: kv.lease,
                version: kv.version,
                create: kv.create_revision,
                alive: true,
            },
        );
    }
    st.keys = keys.len() as u64;
    st.live_keys = keys.values().filter(|s| s.alive).count() as u64;
    st.missing_revisions = runs.missing;
    if !complete {
        return false;
    }
    // Revoking a lease deletes its keys in the same transaction, so a live key names a lease
    // that exists.
    let mut orphans: Vec<(&[u8], KeyState)> = keys
        .into_iter()
        .filter(|(_, s)| s.alive && s.lease != 0 && !lease_ids.contains(&s.lease))
        .map(|(k, s)| (k.bytes, s))
        .collect();
    orphans.sort_unstable_by_key(|(k, _)| *k);
    for (k, s) in orphans {
        let mut i = Item::new(
            Severity::Warning,
            format!(
                "live key (revision {}) is attached to lease {}, which the lease bucket does not hold",
                s.main, s.lease
            ),
        );
        i.bucket = Some("key".into());
        i.key = Some(escape_bytes(k));
        push(out, i);
    }
    true
}

/// What `etcdutl snapshot restore --bump-revision N --mark-compacted` (3.5.10+, 3.6) writes:
/// `unsafeBumpRevision` puts an empty value under revision `(latest + N, 0)` and
/// `unsafeMarkRevisionCompacted` sets `scheduledCompactRev` to it (etcdutl/snapshot/
/// v3_snapshot.go at v3.5.19 and v3.6.0). etcd indexes it as a put of the empty key, so later
/// compactions keep it: it stays in the file for good, above the revisions it skipped.
fn is_bump_marker(e: &bbolt::Entry<'_>, rk: RevKey) -> bool {
    e.value.is_empty() && !rk.tombstone && rk.rev.sub == 0 && !e.is_bucket()
}

/// The revisions of the `key` bucket run without a gap where etcd leaves none.
///
/// etcd's write transaction takes revision `current + 1` only when it changed something
/// (`storeTxnWrite.End`: `if len(tw.changes) != 0 { currentRev++ }`, server/mvcc/
/// kvstore_txn.go), numbering its changes `sub` 0, 1, 2, ... in order (`len(tw.changes)` at
/// each put or delete; a delete of nothing adds none). Only compaction removes entries, and
/// only at or below the compaction revision (kvstore_compaction.go deletes what the index
/// does not keep, up to `compactMainRev`; an interrupted one up to the scheduled revision).
/// So above the compaction every main revision up to the newest exists, each with subs
/// `0..=n`; without any compaction the history starts at revision 2 (a store starts at 1 and
/// its first write makes 2). The one legitimate gap is the one `--bump-revision` leaves below
/// its marker ([`is_bump_marker`]). What this cannot see: a lost newest revision, a lost last
/// sub-revision of a transaction, and lost survivors of a compaction.
struct Continuity {
    /// `max(scheduled, finished)` compaction revision, or -1.
    compact: i64,
    prev: Option<Revision>,
    missing: u64,
}

impl Continuity {
    fn next(&mut self, e: &bbolt::Entry<'_>, rk: RevKey, out: &mut Items) {
        let rev = rk.rev;
        let compact = self.compact;
        // Every main revision above `base` exists.
        let base = if compact >= 0 { compact } else { 1 };
        let prev = self.prev.replace(rev);
        if rev.sub > i64::from(u32::MAX) {
            // etcd numbers a transaction's changes from 0; none has billions of them.
            push(
                out,
                key_item(
                    Severity::Error,
                    e,
                    None,
                    format!(
                        "sub-revision {} is beyond any transaction's number of changes: the key is damaged",
                        rev.sub
                    ),
                ),
            );
        }
        match prev {
            Some(p) if p.main == rev.main => {
                if rev.sub == p.sub {
                    push(
                        out,
                        key_item(
                            Severity::Error,
                            e,
                            None,
                            "the same revision is stored both as a put and as a tombstone",
                        ),
                    );
                } else if rev.main > compact && rev.sub > p.sub.saturating_add(1) {
                    self.lost_subs(e, rev, p.sub + 1, out);
                }
            }
            _ => {
                let last = prev.map_or(base, |p| p.main.max(base));
                if rev.main > last.saturating_add(1) {
                    let (lo, hi) = (last + 1, rev.main - 1);
                    let n = (hi - lo + 1) as u64;
                    let range = if lo == hi {
                        format!("revision {lo} is")
                    } else {
                        format!("revisions {lo}..{hi} ({n}) are")
                    };
                    if is_bump_marker(e, rk) {
                        push(
                            out,
                            key_item(
                                Severity::Info,
                                e,
                                None,
                                format!(
                                    "{range} skipped by `etcdutl snapshot restore --bump-revision` \
                                     (this entry is its marker)"
                                ),
                            ),
                        );
                    } else {
                        self.missing = self.missing.saturating_add(n);
                        let since = if compact >= 0 {
                            format!("above the compaction at {compact}")
                        } else {
                            "in a history never compacted (it starts at revision 2)".to_string()
                        };
                        push(
                            out,
                            key_item(
                                Severity::Error,
                                e,
                                None,
                                format!(
                                    "{range} missing before it, {since}: every write creates a \
                                     revision and only compaction removes them, so their entries \
                                     were lost (see the structure check for the pages)"
                                ),
                            ),
                        );
                    }
                }
                if rev.main > compact && rev.sub > 0 {
                    self.lost_subs(e, rev, 0, out);
                }
            }
        }
    }

    fn lost_subs(&mut self, e: &bbolt::Entry<'_>, rev: Revision, from: i64, out: &mut Items) {
        let n = rev.sub.saturating_sub(from) as u64;
        self.missing = self.missing.saturating_add(n);
        let subs = if n == 1 {
            format!("sub-revision {from} is")
        } else {
            format!("sub-revisions {from}..{} are", rev.sub - 1)
        };
        push(
            out,
            key_item(
                Severity::Error,
                e,
                None,
                format!(
                    "{subs} missing before it in transaction {}: etcd numbers a transaction's \
                     changes 0, 1, 2, ... and compaction (at {}) removes none above it, so they were lost",
                    rev.main, self.compact
                ),
            ),
        );
    }
}

/// How etcd parses a record it reads at startup.
#[derive(Debug, Clone, Copy)]
enum Record {
    /// `raftpb.ConfState` as JSON (`meta/confState`, 3.5+).
    ConfState,
    /// A semantic version (`cluster/clusterVersion`, `meta/storageVersion`): etcd's
    /// `semver.Must(semver.NewVersion(..))` panics on anything else.
    Semver,
    /// `cluster/downgrade` JSON.
    Downgrade,
    /// A `membership.Member` as JSON, its key the member id in hex.
    Member,
    /// A removed member's id in hex (the key; etcd parses it or panics).
    RemovedMember,
    /// `authpb.User`, keyed by its name.
    User,
    /// `authpb.Role`, keyed by its name.
    Role,
    /// An 8-byte big-endian integer (`auth/authRevision`).
    U64,
    /// `etcdserverpb.AlarmMember` (the key; the value is empty).
    Alarm,
}

/// True for `MAJOR.MINOR.PATCH` with an optional `-pre` and `+build` (what Go's semver accepts,
/// restricted to what etcd writes).
fn is_semver(s: &str) -> bool {
    let (core, suffix) = match s.find(['-', '+']) {
        Some(i) => (&s[..i], Some(&s[i + 1..])),
        None => (s, None),
    };
    let numeric = |p: &str| !p.is_empty() && p.len() <= 19 && p.bytes().all(|b| b.is_ascii_digit());
    let parts: Vec<&str> = core.split('.').collect();
    parts.len() == 3 && parts.iter().all(|p| numeric(p)) && suffix.is_none_or(|x| !x.is_empty())
}

/// A member id as etcd writes it in keys: lower-case hex of a u64.
fn hex_id(key: &[u8]) -> Option<u64> {
    let s = std::str::from_utf8(key).ok()?;
    if s.is_empty() || s.len() > 16 || !s.bytes().all(|b| b.is_ascii_hexdigit()) {
        return None;
    }
    u64::from_str_radix(s, 16).ok()
}

/// Checks one record the way etcd parses it at startup; a finding names the bucket and key.
fn check_record(
    out: &mut Items,
    bucket: &str,
    key: &[u8],
    value: &[u8],
    what: Record,
    page: Option<u64>,
) {
    let problem: Option<String> = match what {
        Record::ConfState => serde_json::from_slice::<crate::info::ConfState>(value)
            .err()
            .map(|e| format!("value is not raft's ConfState as JSON: {e}")),
        Record::Semver => match std::str::from_utf8(value) {
            Ok(s) if is_semver(s) => None,
            _ => Some(format!(
                "value {} is not a version (MAJOR.MINOR.PATCH); etcd panics parsing it",
                escape_bytes(value)
            )),
        },
        Record::Downgrade => serde_json::from_slice::<crate::info::Downgrade>(value)
            .err()
            .map(|e| format!("value is not the downgrade JSON: {e}")),
        Record::Member => match (
            hex_id(key),
            serde_json::from_slice::<crate::info::MemberJson>(value),
        ) {
            (None, _) => Some("key is not a member id in hex; etcd panics parsing it".into()),
            (_, Err(e)) => Some(format!("value is not a member as JSON: {e}")),
            (Some(k), Ok(m)) if m.id != k => Some(format!(
                "the member's JSON has id {:x}, not its key's {k:x}",
                m.id
            )),
            _ => None,
        },
        Record::RemovedMember => hex_id(key)
            .is_none()
            .then(|| "key is not a member id in hex; etcd panics parsing it".into()),
        Record::User => match crate::proto::decode::<crate::proto::User>(value) {
            Err(e) => Some(format!("value is not an authpb.User: {e}")),
            Ok(u) if u.name != key => Some(format!(
                "the user record names {}, not its key",
                escape_bytes(&u.name)
            )),
            Ok(_) => None,
        },
        Record::Role => match crate::proto::decode::<crate::proto::Role>(value) {
            Err(e) => Some(format!("value is not an authpb.Role: {e}")),
            Ok(r) if r.name != key => Some(format!(
                "the role record names {}, not its key",
                escape_bytes(&r.name)
            )),
            Ok(_) => None,
        },
        Record::U64 => (value.len() != 8).then(|| {
            format!(
                "value is {} bytes, not an 8-byte big-endian integer",
                value.len()
            )
        }),
        Record::Alarm => crate::proto::decode::<crate::proto::AlarmMember>(key)
            .err()
            .map(|e| format!("key is not an etcdserverpb.AlarmMember: {e}")),
    };
    if let Some(msg) = problem {
        let mut i = Item::new(Severity::Error, msg);
        i.bucket = Some(bucket.to_string());
        i.key = Some(escape_bytes(key));
        i.page = page;
        push(out, i);
    }
}

/// Every record etcd parses when it starts on this file (membership, cluster version and
/// downgrade, auth users, roles and revision, alarms), parsed the way etcd parses it: etcd
/// panics or refuses to start on any of these, and `info` cannot decode them. (`meta` and
/// `lease` are checked beside the revisions.)
fn startup_records(db: &Db, out: &mut Items) {
    let whole = |name: &'static [u8], what: Record| (name, None::<&'static [u8]>, what);
    let one = |name: &'static [u8], key: &'static [u8], what: Record| (name, Some(key), what);
    for (bucket, only, what) in [
        whole(buckets::MEMBERS, Record::Member),
        whole(buckets::MEMBERS_REMOVED, Record::RemovedMember),
        whole(buckets::AUTH_USERS, Record::User),
        whole(buckets::AUTH_ROLES, Record::Role),
        whole(buckets::ALARM, Record::Alarm),
        one(buckets::CLUSTER, b"clusterVersion", Record::Semver),
        one(buckets::CLUSTER, b"downgrade", Record::Downgrade),
        one(buckets::AUTH, b"authRevision", Record::U64),
    ] {
        let label = String::from_utf8_lossy(bucket);
        let b = match db.bucket(bucket) {
            Ok(Some(b)) => b,
            Ok(None) => continue,
            Err(e) => {
                let mut i = Item::new(Severity::Error, format!("cannot read: {e}"));
                i.bucket = Some(label.into_owned());
                push(out, i);
                continue;
            }
        };
        if let Some(key) = only {
            match b.get_entry(key) {
                Ok(Some(e)) if !e.is_bucket() => {
                    check_record(out, &label, key, e.value, what, e.page)
                }
                Ok(_) => {}
                Err(err) => {
                    let mut i = Item::new(Severity::Error, format!("cannot read: {err}"));
                    i.bucket = Some(label.into_owned());
                    i.key = Some(escape_bytes(key));
                    push(out, i);
                }
            }
            continue;
        }
        for e in b.iter() {
            match e {
                Ok(e) if e.is_bucket() => {
                    let mut i = Item::new(
                        Severity::Error,
                        "entry is a sub-bucket, not a record (etcd nests no buckets)",
                    );
                    i.bucket = Some(label.to_string());
                    i.key = Some(escape_bytes(e.key));
                    i.page = e.page;
                    push(out, i);
                }
                Ok(e) => check_record(out, &label, e.key, e.value, what, e.page),
                Err(err) => {
                    let mut i = Item::new(Severity::Error, format!("cannot read further: {err}"));
                    i.bucket = Some(label.into_owned());
                    push(out, i);
                    break;
                }
            }
        }
    }
}

/// The top-level buckets etcd 3.4 to 3.6 create at startup and read (server/storage/schema/
/// bucket.go at v3.6.0; server/mvcc/buckets at v3.5): any other name is a renamed or damaged
/// bucket entry, whose records etcd no longer sees; a missing one is recreated empty by etcd.
const ETCD_BUCKETS: [&[u8]; 10] = [
    buckets::KEY,
    buckets::META,
    buckets::LEASE,
    buckets::ALARM,
    buckets::CLUSTER,
    buckets::MEMBERS,
    buckets::MEMBERS_REMOVED,
    buckets::AUTH,
    buckets::AUTH_USERS,
    buckets::AUTH_ROLES,
];

fn bucket_names(db: &Db, out: &mut Items) {
    let Ok(list) = db.buckets() else {
        return; // the structure check says why
    };
    for (name, _) in &list {
        if !ETCD_BUCKETS.contains(name) {
            let mut i = Item::new(
                Severity::Error,
                "a top-level bucket etcd neither writes nor reads: a renamed or damaged bucket \
                 entry, whose records etcd would not see",
            );
            i.bucket = Some(escape_bytes(name));
            push(out, i);
        }
    }
    for want in ETCD_BUCKETS {
        if want != buckets::KEY && want != buckets::META && !list.iter().any(|(n, _)| *n == want) {
            let mut i = Item::new(
                Severity::Warning,
                "bucket missing: etcd creates it at startup (empty), so whatever it held is gone",
            );
            i.bucket = Some(String::from_utf8_lossy(want).into_owned());
            push(out, i);
        }
    }
}

/// Every voter and learner of `meta/confState` is a member: etcd applies a configuration change
/// to raft's ConfState and to the `members` bucket in the same transaction.
fn conf_state_members(db: &Db, cs: &crate::info::ConfState, out: &mut Items) {
    let ids = |name: &[u8]| -> Option<HashSet<u64>> {
        let b = db.bucket(name).ok()??;
        let mut s = HashSet::new();
        for e in b.iter() {
            s.insert(hex_id(e.ok()?.key)?);
        }
        Some(s)
    };
    let (Some(members), removed) = (ids(buckets::MEMBERS), ids(buckets::MEMBERS_REMOVED)) else {
        return;
    };
    let removed = removed.unwrap_or_default();
    for id in cs.voters.iter().chain(&cs.learners) {
        if !members.contains(id) && !removed.contains(id) {
            let mut i = Item::new(
                Severity::Error,
                format!(
                    "raft's configuration names member {id:x}, which the members bucket does not hold \
                     (etcd changes both in one transaction): a member record was lost"
                ),
            );
            i.bucket = Some("meta".into());
            i.key = Some("\"confState\"".into());
            push(out, i);
        }
    }
}

/// The `lease` bucket: 8-byte big-endian ids, each value a Lease with that id.
fn leases(db: &Db, st: &mut EtcdStats, out: &mut Items) -> HashSet<i64> {
    let mut ids = HashSet::new();
    let b = match db.bucket(buckets::LEASE) {
        Ok(Some(b)) => b,
        Ok(None) => return ids,
        Err(e) => {
            let mut i = Item::new(Severity::Error, format!("cannot read: {e}"));
            i.bucket = Some("lease".into());
            push(out, i);
            return ids;
        }
    };
    for e in b.iter() {
        let e = match e {
            Ok(e) => e,
            Err(err) => {
                let mut i = Item::new(Severity::Error, format!("cannot read further: {err}"));
                i.bucket = Some("lease".into());
                push(out, i);
                return ids;
            }
        };
        st.leases += 1;
        let mut i = Item::new(Severity::Error, "");
        i.bucket = Some("lease".into());
        i.page = e.page;
        i.key = Some(escape_bytes(e.key));
        let Ok(id) = <[u8; 8]>::try_from(e.key).map(i64::from_be_bytes) else {
            i.message = "lease key is not an 8-byte id".into();
            push(out, i);
            continue;
        };
        ids.insert(id);
        match crate::proto::decode::<Lease>(e.value) {
            Ok(l) if l.id == id => {}
            Ok(l) => {
                i.message = format!("lease value has id {} under key {id}", l.id);
                push(out, i);
            }
            Err(r) => {
                i.message = format!("value is not a Lease: {r}");
                push(out, i);
            }
        }
    }
    ids
}
