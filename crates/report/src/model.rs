//! Every figure on the page, computed by the library code behind the commands.
//!
//! One [`build`] runs, on the snapshot: the space accounting of `stats`
//! ([`analyze::analyze`]: the revision index and the structural page walk, with the resources
//! split by namespace, the Secrets' encryption audited and the keys attached to each lease
//! kept, all from the same pass) while another thread hashes the file for `verify`'s sha256
//! trailer check ([`verify::check_trailer`]) and computes `status` ([`status::status`]); then
//! the rest of `verify` ([`verify::verify_from`], which takes the accounting's page walk
//! instead of walking again) and `info` ([`info::info_with`], given the live keys the
//! accounting already counted). With a second snapshot it also runs the
//! streaming merge of `diff` ([`diff::diff`]) over both keyspaces, summing sizes per resource
//! and namespace as the merge goes.

use std::cmp::Reverse;
use std::collections::{BTreeMap, BinaryHeap, HashMap};
use std::path::PathBuf;
use std::sync::Arc;

use etcdsnap_analyze::stats::{self as analyze, Analysis, LeaseKeys};
use etcdsnap_bbolt::check::CheckOptions;
use etcdsnap_k8s::{AuditReport, GroupBy, KeyBytes, group_label};
use etcdsnap_mvcc::diff::{self, ChangeKind, DiffSummary};
use etcdsnap_mvcc::info::{self, Info, LiveKeys};
use etcdsnap_mvcc::keyspace::{ScanOptions, keyspace_at};
use etcdsnap_mvcc::proto::KeyValueRef;
use etcdsnap_mvcc::status::{self, Status};
use etcdsnap_mvcc::verify::{self, VerifyOptions};
use etcdsnap_mvcc::{KeyRange, Snapshot};

use crate::Error;

/// etcd's default `--max-request-bytes` (1.5 MiB): a put larger than this is refused, so an
/// object near it cannot grow much more.
pub const REQUEST_LIMIT: u64 = 1536 * 1024;

/// What the report is asked to show.
#[derive(Debug, Clone)]
pub struct Config {
    /// Revision the space is accounted at (0 = the newest).
    pub rev: i64,
    /// A second snapshot to compare with (the baseline: growth is from it to this one).
    pub compare: Option<PathBuf>,
    /// Length of the top lists.
    pub top: usize,
    /// Namespaces shown per resource (the rest are summed into one area and one row).
    pub namespaces_per_resource: usize,
    /// The API server's `--etcd-prefix`.
    pub etcd_prefix: String,
    /// Threads in all.
    pub threads: usize,
    /// Findings kept per verify check.
    pub max_findings: usize,
    /// Check the sha256 trailer (hash the whole file: most of the report's time on a large
    /// file). Off: the trailer check is reported as skipped.
    pub hash: bool,
    /// Who made the page (e.g. `etcdsnap 0.1.0`), shown in its footer.
    pub generator: String,
    /// When (free text, e.g. an RFC 3339 time), shown in its footer.
    pub generated_at: String,
}

impl Config {
    /// Defaults: newest revision, top 15, 5 namespaces per resource, `/registry`.
    pub fn new(threads: usize) -> Config {
        Config {
            rev: 0,
            compare: None,
            top: 15,
            namespaces_per_resource: 5,
            etcd_prefix: "/registry".into(),
            threads,
            max_findings: 20,
            hash: true,
            generator: String::new(),
            generated_at: String::new(),
        }
    }
}

/// Everything on the page.
#[derive(Debug)]
pub struct Model {
    /// The file read (a data directory's `member/snap/db` when one was named).
    pub path: String,
    /// What `stats -w json` prints for this file at [`Config::rev`] (by resource; each
    /// resource's namespaces as subgroups, which `stats` does not print).
    pub stats: analyze::Report,
    /// What `info -w json` prints.
    pub info: Info,
    /// What `verify` found.
    pub verify: verify::Report,
    /// What `status` prints.
    pub status: Status,
    /// Secrets by encryption (names only, never values).
    pub secrets: AuditReport,
    /// Lease id -> live keys attached, at the revision accounted.
    pub lease_keys: BTreeMap<i64, LeaseKeys>,
    /// Live keys at the revision accounted.
    pub live_keys: u64,
    /// The comparison, when asked.
    pub compare: Option<Compare>,
    /// Namespaces shown per resource.
    pub namespaces_per_resource: usize,
    /// Footer: generator.
    pub generator: String,
    /// Footer: time.
    pub generated_at: String,
}

/// The page's comparison of a baseline snapshot (A) with this one (B).
#[derive(Debug)]
pub struct Compare {
    /// A's file.
    pub path: String,
    /// A's revision read (its newest).
    pub revision_a: i64,
    /// B's revision read.
    pub revision_b: i64,
    /// A's total size (pages × page size).
    pub total_size_a: u64,
    /// B's total size.
    pub total_size_b: u64,
    /// `diff`'s counts.
    pub summary: DiffSummary,
    /// Of the modified keys, those whose value changed.
    pub value_changed: u64,
    /// Per resource, by absolute growth.
    pub by_resource: Vec<Growth>,
    /// Per namespace, by absolute growth.
    pub by_namespace: Vec<Growth>,
    /// The objects that grew most (added or modified), largest growth first.
    pub grown: Vec<Grown>,
}

/// Live objects and bytes of one group in A and in B, and the changes between them.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Growth {
    /// The group.
    pub name: String,
    /// Live objects in A.
    pub objects_a: u64,
    /// Live objects in B.
    pub objects_b: u64,
    /// Key + value bytes in A.
    pub bytes_a: u64,
    /// Key + value bytes in B.
    pub bytes_b: u64,
    /// Keys only in B.
    pub added: u64,
    /// Keys only in A.
    pub deleted: u64,
    /// Keys in both that differ.
    pub modified: u64,
}

impl Growth {
    /// bytes_b − bytes_a.
    pub fn delta(&self) -> i64 {
        i64::try_from(self.bytes_b)
            .unwrap_or(i64::MAX)
            .saturating_sub(i64::try_from(self.bytes_a).unwrap_or(i64::MAX))
    }
}

/// An object that grew between A and B.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Grown {
    /// The key.
    pub key: KeyBytes,
    /// Added or modified.
    pub change: ChangeKind,
    /// Key + value bytes in A (0 when added).
    pub bytes_a: u64,
    /// Key + value bytes in B.
    pub bytes_b: u64,
}

fn mvcc_err(snap: &Snapshot) -> impl Fn(etcdsnap_mvcc::Error) -> Error + '_ {
    move |source| Error::Mvcc {
        path: snap.path().display().to_string(),
        source,
    }
}

/// Computes everything for `snap` (and `cfg.compare`, opened here).
pub fn build(snap: &Snapshot, cfg: &Config) -> Result<Model, Error> {
    let threads = cfg.threads.max(1);
    let opts = analyze::Options {
        rev: cfg.rev,
        range: KeyRange::all(),
        group_by: GroupBy::Resource,
        subgroups: Some(GroupBy::Namespace),
        top: cfg.top,
        etcd_prefix: cfg.etcd_prefix.clone(),
        threads,
        audit_resources: vec!["secrets".into()],
        lease_samples: 5,
        check: CheckOptions {
            max_findings: cfg.max_findings,
        },
    };
    let vopts = VerifyOptions {
        max_findings: cfg.max_findings,
        parallel: true,
    };
    // The SHA-256 of the whole file (verify's trailer check) and the status CRC run on their
    // own thread while the accounting (index + structural walk) runs on the others; verify
    // then reuses the accounting's walk instead of walking the pages again.
    let source = Arc::clone(snap.db().source());
    let ((trailer, status), analysis) = std::thread::scope(|s| {
        let t = s.spawn(|| {
            let trailer = if cfg.hash {
                verify::check_trailer(&source)
            } else {
                verify::CheckResult {
                    name: "trailer",
                    status: verify::Status::Skip,
                    summary: "not checked (--skip-hash): `etcdsnap verify` checks it".into(),
                    findings: Vec::new(),
                    findings_total: 0,
                }
            };
            (trailer, status::status(snap, 1))
        });
        let analysis = analyze::analyze(snap, &opts);
        (
            t.join().unwrap_or_else(|p| std::panic::resume_unwind(p)),
            analysis,
        )
    });
    let analysis = analysis.map_err(|source| Error::Analyze {
        path: snap.path().display().to_string(),
        source,
    })?;
    let status = status.map_err(mvcc_err(snap))?;
    let Analysis {
        report,
        audit,
        lease_keys,
        live_keys,
        store,
        walk,
    } = analysis;
    let verify = verify::verify_from(&source, &vopts, trailer, walk);
    // info's leases count the live keys at the current revision: the accounting's when it
    // was made there, else info's own pass.
    let info = if report.store.revision == store.current {
        info::info_with(
            snap,
            LiveKeys {
                store,
                count: live_keys,
                per_lease: lease_keys.iter().map(|(id, k)| (*id, k.count)).collect(),
            },
        )
    } else {
        info::info(snap, threads)
    }
    .map_err(mvcc_err(snap))?;
    let compare = match &cfg.compare {
        Some(other) => Some(compare(snap, report.store.revision, other, cfg, threads)?),
        None => None,
    };
    Ok(Model {
        path: snap.path().display().to_string(),
        stats: report,
        info,
        verify,
        status,
        secrets: audit.unwrap_or_else(|| etcdsnap_k8s::Audit::new().finish()),
        lease_keys,
        live_keys,
        compare,
        namespaces_per_resource: cfg.namespaces_per_resource,
        generator: cfg.generator.clone(),
        generated_at: cfg.generated_at.clone(),
    })
}

/// Per-group sizes and changes, accumulated as the merge goes.
#[derive(Default)]
struct Groups(HashMap<String, Growth>);

impl Groups {
    fn get(&mut self, name: &str) -> &mut Growth {
        if !self.0.contains_key(name) {
            self.0.insert(
                name.to_owned(),
                Growth {
                    name: name.to_owned(),
                    ..Growth::default()
                },
            );
        }
        self.0.get_mut(name).expect("inserted above")
    }

    fn sorted(self) -> Vec<Growth> {
        let mut v: Vec<Growth> = self.0.into_values().collect();
        v.sort_by(|a, b| {
            b.delta()
                .unsigned_abs()
                .cmp(&a.delta().unsigned_abs())
                .then_with(|| a.name.cmp(&b.name))
        });
        v
    }
}

fn size(kv: &KeyValueRef<'_>) -> u64 {
    (kv.key.len() as u64).saturating_add(kv.value.len() as u64)
}

/// `diff OTHER FILE` (OTHER at its newest, FILE at `rev_b`), with sizes per group.
fn compare(
    b: &Snapshot,
    rev_b: i64,
    other: &std::path::Path,
    cfg: &Config,
    threads: usize,
) -> Result<Compare, Error> {
    let a = Snapshot::open(other).map_err(|source| Error::Mvcc {
        path: other.display().to_string(),
        source,
    })?;
    let per_side = (threads / 2).max(1);
    let opts = ScanOptions {
        threads: per_side,
        sort: true,
    };
    let all = KeyRange::all();
    let (ka, kb) = std::thread::scope(|s| {
        let ta = s.spawn(|| keyspace_at(&a, 0, &all, opts));
        let kb = keyspace_at(b, rev_b, &all, opts);
        (
            ta.join().unwrap_or_else(|p| std::panic::resume_unwind(p)),
            kb,
        )
    });
    let ka = ka.map_err(mvcc_err(&a))?;
    let kb = kb.map_err(mvcc_err(b))?;

    let prefix = cfg.etcd_prefix.as_str();
    // (by resource, by namespace); the sides and the change callback take turns with it.
    let groups = std::cell::RefCell::new((Groups::default(), Groups::default()));
    let count = |kv: &KeyValueRef<'_>, side_b: bool| {
        let n = size(kv);
        let mut g = groups.borrow_mut();
        let (res, ns) = &mut *g;
        for (groups, by) in [(res, GroupBy::Resource), (ns, GroupBy::Namespace)] {
            let g = groups.get(&group_label(by, kv.key, prefix));
            if side_b {
                g.objects_b += 1;
                g.bytes_b = g.bytes_b.saturating_add(n);
            } else {
                g.objects_a += 1;
                g.bytes_a = g.bytes_a.saturating_add(n);
            }
        }
    };
    let side_a = ka.kvs.iter().map(|kr| {
        let kv = kr.rev.decode()?;
        count(&kv, false);
        Ok(kv)
    });
    let side_b = kb.kvs.iter().map(|kr| {
        let kv = kr.rev.decode()?;
        count(&kv, true);
        Ok(kv)
    });
    let mut value_changed = 0u64;
    // A min-heap of the `top` largest growths: (growth, key reversed so ties keep the
    // smaller key, modified?, size in A, size in B).
    type Entry = Reverse<(u64, Reverse<Vec<u8>>, u8, u64, u64)>;
    let mut heap: BinaryHeap<Entry> = BinaryHeap::new();
    let top = cfg.top;
    let summary = diff::diff(side_a, side_b, |c| {
        let key = c.key_bytes();
        {
            let mut g = groups.borrow_mut();
            let (res, ns) = &mut *g;
            for (groups, by) in [(res, GroupBy::Resource), (ns, GroupBy::Namespace)] {
                let g = groups.get(&group_label(by, key, prefix));
                match c.kind {
                    ChangeKind::Added => g.added += 1,
                    ChangeKind::Deleted => g.deleted += 1,
                    ChangeKind::Modified => g.modified += 1,
                }
            }
        }
        if c.kind == ChangeKind::Modified && c.value_changed {
            value_changed += 1;
        }
        let (sa, sb) = (c.a.as_ref().map_or(0, size), c.b.as_ref().map_or(0, size));
        if sb > sa && top > 0 {
            let kind = u8::from(c.kind == ChangeKind::Modified);
            let entry = Reverse((sb - sa, Reverse(key.to_vec()), kind, sa, sb));
            if heap.len() < top {
                heap.push(entry);
            } else if let Some(mut weakest) = heap.peek_mut()
                && entry < *weakest
            {
                *weakest = entry;
            }
        }
        Ok::<(), etcdsnap_mvcc::Error>(())
    })
    .map_err(mvcc_err(b))?;
    let (res, ns) = groups.into_inner();
    let grown = heap
        .into_sorted_vec()
        .into_iter()
        .map(|Reverse((_, Reverse(key), kind, sa, sb))| Grown {
            key: KeyBytes(key),
            change: if kind == 1 {
                ChangeKind::Modified
            } else {
                ChangeKind::Added
            },
            bytes_a: sa,
            bytes_b: sb,
        })
        .collect();
    Ok(Compare {
        path: a.path().display().to_string(),
        revision_a: ka.revision,
        revision_b: kb.revision,
        total_size_a: a.db().size(),
        total_size_b: b.db().size(),
        summary,
        value_changed,
        by_resource: res.sorted(),
        by_namespace: ns.sorted(),
        grown,
    })
}
