//! Everything a snapshot says about its cluster, read from etcd's small buckets and from one
//! pass over the `key` bucket.
//!
//! A snapshot is often all that is left of a cluster (a backup, a dead member's disk), so this
//! module gathers what etcd keeps beside the keyspace: the raft position (consistent index,
//! term, ConfState), compaction state (including an interrupted compaction that etcd would
//! finish on start), cluster version and downgrade, members, leases with the live keys still
//! attached to them, auth users and roles (never password hashes), alarms, and the bbolt
//! facts (buckets, pages, free pages). Values that fail to decode are errors naming the bucket
//! and key; nothing here prints.

use std::collections::BTreeMap;

use base64::Engine as _;
use etcdsnap_bbolt::{self as bbolt, Db, Freelist, PageKind, error::escape_bytes, raw};
use serde::{Deserialize, Serialize};

use crate::error::{Error, Result};
use crate::keyspace::{ScanOptions, keyspace_at};
use crate::proto::{self, AlarmMember, Lease, Role, User};
use crate::range::KeyRange;
use crate::snapshot::{Snapshot, StoreRevisions, buckets};

/// The whole report.
#[derive(Debug, Clone, Serialize)]
pub struct Info {
    /// The bbolt file.
    pub file: FileInfo,
    /// The MVCC store and raft position.
    pub store: StoreInfo,
    /// Cluster version, downgrade, members.
    pub cluster: ClusterInfo,
    /// Leases in the `lease` bucket.
    pub leases: Vec<LeaseInfo>,
    /// Lease ids that live keys carry but the `lease` bucket does not hold.
    pub missing_leases: Vec<MissingLease>,
    /// Authentication.
    pub auth: AuthInfo,
    /// Raised alarms.
    pub alarms: Vec<AlarmInfo>,
    /// Which etcd wrote the file (storage version, schema, cluster version, downgrade), and
    /// whose tools reports follow by default.
    pub writer: crate::versions::Writer,
}

/// Facts about the bbolt file.
#[derive(Debug, Clone, Serialize)]
pub struct FileInfo {
    /// Size of the file on disk.
    pub file_size: u64,
    /// Page size.
    pub page_size: u32,
    /// High-water mark: pages in use, `[0, pages)`.
    pub pages: u64,
    /// `pages * page_size` (etcd's TOTAL SIZE).
    pub total_size: u64,
    /// True when the file ends with the sha256 trailer of `etcdctl snapshot save`.
    pub sha256_trailer: bool,
    /// The meta page in use (0 or 1).
    pub active_meta: u8,
    /// The transaction id of that meta.
    pub txid: u64,
    /// The freelist.
    pub freelist: FreelistInfo,
    /// Top-level buckets in key order.
    pub buckets: Vec<BucketInfo>,
}

/// The freelist, as written or as it can be derived.
#[derive(Debug, Clone, Serialize)]
pub struct FreelistInfo {
    /// False when no freelist was written (etcd on Linux: `NoFreelistSync`).
    pub persisted: bool,
    /// Free page ids listed by the persisted freelist.
    pub listed_free_pages: Option<u64>,
    /// Pages in `[2, pages)` that no bucket reaches (and that are not the freelist): the free
    /// pages when no freelist was written.
    pub unreachable_pages: u64,
}

/// A top-level bucket.
#[derive(Debug, Clone, Serialize)]
pub struct BucketInfo {
    /// Its name (lossy UTF-8).
    pub name: String,
    /// Its entries (nested bucket entries included).
    pub entries: u64,
    /// Pages of its tree (0 for an inline bucket).
    pub pages: u64,
}

/// The MVCC store and raft position.
#[derive(Debug, Clone, Serialize)]
pub struct StoreInfo {
    /// `meta/consistent_index`: the raft index applied.
    pub consistent_index: Option<u64>,
    /// `meta/term` (3.5+): the raft term of that index.
    pub term: Option<u64>,
    /// `meta/confState` (3.5+).
    pub conf_state: Option<ConfState>,
    /// `meta/storageVersion` (3.6+).
    pub storage_version: Option<String>,
    /// The store's current revision, as a restarted etcd derives it.
    pub current_revision: i64,
    /// The compaction revision etcd would use (-1 when never compacted).
    pub compact_revision: i64,
    /// `meta/scheduledCompactRev`: the compaction last asked for.
    pub scheduled_compact_revision: Option<i64>,
    /// `meta/finishedCompactRev`: the compaction last completed.
    pub finished_compact_revision: Option<i64>,
    /// True when the scheduled compaction never finished (etcd resumes it on start).
    pub compaction_interrupted: bool,
    /// Entries of the `key` bucket (stored revisions).
    pub revisions_stored: u64,
    /// Live keys at the current revision.
    pub live_keys: u64,
}

/// Ids in our JSON are hex strings, as etcdctl prints them for people: member and lease ids
/// go past 2^53, where JSON readers (jq, JavaScript) round numbers.
fn hex_ids<S: serde::Serializer>(ids: &[u64], s: S) -> std::result::Result<S::Ok, S::Error> {
    s.collect_seq(ids.iter().map(|id| format!("{id:x}")))
}

/// A decimal id as a JSON string (exact whatever the reader).
fn decimal_string<S: serde::Serializer>(id: &i64, s: S) -> std::result::Result<S::Ok, S::Error> {
    s.collect_str(id)
}

/// Raft's ConfState as etcd stores it in `meta/confState`.
#[derive(Debug, Clone, Default, Serialize, Deserialize, PartialEq, Eq)]
pub struct ConfState {
    /// Voting members.
    #[serde(default, serialize_with = "hex_ids")]
    pub voters: Vec<u64>,
    /// Learners.
    #[serde(default, serialize_with = "hex_ids")]
    pub learners: Vec<u64>,
    /// Voters of the outgoing configuration (joint consensus).
    #[serde(default, serialize_with = "hex_ids")]
    pub voters_outgoing: Vec<u64>,
    /// Learners to add when leaving joint consensus.
    #[serde(default, serialize_with = "hex_ids")]
    pub learners_next: Vec<u64>,
    /// Leave joint consensus automatically.
    #[serde(default)]
    pub auto_leave: bool,
}

/// Cluster version, downgrade and membership.
#[derive(Debug, Clone, Serialize)]
pub struct ClusterInfo {
    /// `cluster/clusterVersion`.
    pub version: Option<String>,
    /// `cluster/downgrade` (3.5+).
    pub downgrade: Option<Downgrade>,
    /// Members, by id.
    pub members: Vec<Member>,
    /// Removed member ids (hex).
    pub removed_members: Vec<String>,
}

/// `cluster/downgrade`.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq)]
pub struct Downgrade {
    /// Target version.
    #[serde(rename = "target-version", default)]
    pub target_version: String,
    /// Whether a downgrade is in progress.
    #[serde(default)]
    pub enabled: bool,
}

/// A member of the `members` bucket.
#[derive(Debug, Clone, Serialize)]
pub struct Member {
    /// Id in hex, as etcdctl prints it.
    pub id: String,
    /// Name (empty until the member has started).
    pub name: String,
    /// Peer URLs.
    pub peer_urls: Vec<String>,
    /// Client URLs.
    pub client_urls: Vec<String>,
    /// True for a learner.
    pub is_learner: bool,
}

/// The JSON etcd stores per member.
#[derive(Deserialize)]
pub(crate) struct MemberJson {
    #[serde(default)]
    pub(crate) id: u64,
    #[serde(rename = "peerURLs", default)]
    peer_urls: Vec<String>,
    #[serde(default)]
    name: String,
    #[serde(rename = "clientURLs", default)]
    client_urls: Vec<String>,
    #[serde(rename = "isLearner", default)]
    is_learner: bool,
}

/// A lease of the `lease` bucket.
#[derive(Debug, Clone, Serialize)]
pub struct LeaseInfo {
    /// Lease id; in JSON `id_decimal`, a string (ids go past 2^53, where JSON readers such
    /// as jq round numbers).
    #[serde(rename = "id_decimal", serialize_with = "decimal_string")]
    pub id: i64,
    /// Lease id, 16 hex digits (as etcdctl prints it); in JSON `id`, like every id.
    #[serde(rename = "id")]
    pub id_hex: String,
    /// Granted TTL in seconds.
    pub ttl: i64,
    /// Remaining TTL persisted by lease checkpointing (0 when never checkpointed).
    pub remaining_ttl: i64,
    /// Live keys at the current revision attached to it.
    pub attached_keys: u64,
}

/// A lease id carried by live keys but absent from the `lease` bucket.
#[derive(Debug, Clone, Serialize)]
pub struct MissingLease {
    /// Lease id; in JSON `id_decimal`, a string.
    #[serde(rename = "id_decimal", serialize_with = "decimal_string")]
    pub id: i64,
    /// Lease id, hex; in JSON `id`.
    #[serde(rename = "id")]
    pub id_hex: String,
    /// Live keys carrying it.
    pub attached_keys: u64,
}

/// Authentication state.
#[derive(Debug, Clone, Serialize)]
pub struct AuthInfo {
    /// `auth/authEnabled`.
    pub enabled: bool,
    /// `auth/authRevision`.
    pub revision: Option<u64>,
    /// Users (never with their password hash).
    pub users: Vec<UserInfo>,
    /// Roles with their permissions.
    pub roles: Vec<RoleInfo>,
}

/// A user.
#[derive(Debug, Clone, Serialize)]
pub struct UserInfo {
    /// Name.
    pub name: String,
    /// Granted roles.
    pub roles: Vec<String>,
    /// True when the user was created without a password.
    pub no_password: bool,
    /// True when a password hash is stored (the hash itself is never reported).
    pub has_password: bool,
}

/// A role.
#[derive(Debug, Clone, Serialize)]
pub struct RoleInfo {
    /// Name.
    pub name: String,
    /// Key permissions.
    pub permissions: Vec<PermissionInfo>,
}

/// A key permission.
#[derive(Debug, Clone, Serialize)]
pub struct PermissionInfo {
    /// READ, WRITE or READWRITE.
    pub perm_type: String,
    /// The key or range start, base64 (etcd's JSON convention for bytes).
    pub key: String,
    /// The range end, base64; empty for a single key, `AA==` ("\0") for every key from `key`.
    pub range_end: String,
    /// The key as text (lossy UTF-8), for reading.
    pub key_text: String,
    /// The range end as text (lossy UTF-8), for reading.
    pub range_end_text: String,
}

/// An alarm.
#[derive(Debug, Clone, Serialize)]
pub struct AlarmInfo {
    /// Member id, hex.
    pub member_id: String,
    /// NONE, NOSPACE, CORRUPT (or the number when unknown).
    pub alarm: String,
}

fn bad(bucket: &'static str, key: &[u8], what: &'static str, reason: impl ToString) -> Error {
    Error::BadValue {
        bucket,
        key: escape_bytes(key),
        what,
        reason: reason.to_string(),
    }
}

fn text(b: &[u8]) -> String {
    String::from_utf8_lossy(b).into_owned()
}

fn b64(b: &[u8]) -> String {
    base64::engine::general_purpose::STANDARD.encode(b)
}

/// Every entry of bucket `name`, or nothing when the bucket is missing.
fn entries<'a>(snap: &'a Snapshot, name: &[u8]) -> Result<Vec<(&'a [u8], &'a [u8])>> {
    let Some(b) = snap.optional(name)? else {
        return Ok(Vec::new());
    };
    let mut out = Vec::new();
    for e in b.iter() {
        let e = e?;
        out.push((e.key, e.value));
    }
    Ok(out)
}

/// The name of a permission type.
pub fn perm_type_name(t: i32) -> String {
    match t {
        0 => "READ".into(),
        1 => "WRITE".into(),
        2 => "READWRITE".into(),
        n => n.to_string(),
    }
}

/// The name of an alarm type.
pub fn alarm_name(a: i32) -> String {
    match a {
        0 => "NONE".into(),
        1 => "NOSPACE".into(),
        2 => "CORRUPT".into(),
        n => n.to_string(),
    }
}

/// The live keys at the current revision, as far as [`info_with`] needs them.
#[derive(Debug, Clone)]
pub struct LiveKeys {
    /// The store's revisions (current, compaction).
    pub store: StoreRevisions,
    /// Live keys at the current revision.
    pub count: u64,
    /// Lease id -> live keys attached (lease 0 not counted).
    pub per_lease: BTreeMap<i64, u64>,
}

/// Reads everything; `threads` is used for the scan of the `key` bucket.
pub fn info(snap: &Snapshot, threads: usize) -> Result<Info> {
    // One pass over the key bucket: live keys at the current revision and their leases.
    let ks = keyspace_at(
        snap,
        0,
        &KeyRange::all(),
        ScanOptions {
            threads,
            sort: false,
        },
    )?;
    let mut per_lease: BTreeMap<i64, u64> = BTreeMap::new();
    // The live records in file order: the decodes then walk the file forwards instead of
    // jumping to a distant page per key (the keyspace comes in shard order).
    let mut records: Vec<&crate::index::Rev<'_>> = ks.kvs.iter().map(|kr| &kr.rev).collect();
    records.sort_unstable_by_key(|r| r.record().as_ptr() as usize);
    for rev in records {
        let kv = rev.decode()?;
        if kv.lease != 0 {
            *per_lease.entry(kv.lease).or_default() += 1;
        }
    }
    info_with(
        snap,
        LiveKeys {
            store: ks.store,
            count: ks.kvs.len() as u64,
            per_lease,
        },
    )
}

/// Everything, given the live keys at the current revision from a pass the caller already
/// made (`etcdsnap report` takes them from its revision index).
pub fn info_with(snap: &Snapshot, live: LiveKeys) -> Result<Info> {
    let db = snap.db();
    let meta = snap.meta_info()?;
    let LiveKeys {
        store,
        count: live_keys,
        mut per_lease,
    } = live;

    let conf_state = match &meta.conf_state {
        Some(s) => Some(
            serde_json::from_str::<ConfState>(s)
                .map_err(|e| bad("meta", b"confState", "ConfState JSON", e))?,
        ),
        None => None,
    };

    let mut leases = Vec::new();
    for (k, v) in entries(snap, buckets::LEASE)? {
        let l: Lease = proto::decode(v).map_err(|e| bad("lease", k, "leasepb.Lease", e))?;
        let attached = per_lease.remove(&l.id).unwrap_or(0);
        leases.push(LeaseInfo {
            id: l.id,
            id_hex: format!("{:016x}", l.id),
            ttl: l.ttl,
            remaining_ttl: l.remaining_ttl,
            attached_keys: attached,
        });
    }
    let missing_leases = per_lease
        .into_iter()
        .map(|(id, n)| MissingLease {
            id,
            id_hex: format!("{id:016x}"),
            attached_keys: n,
        })
        .collect();

    let mut members = Vec::new();
    for (k, v) in entries(snap, buckets::MEMBERS)? {
        let m: MemberJson =
            serde_json::from_slice(v).map_err(|e| bad("members", k, "member JSON", e))?;
        members.push(Member {
            id: format!("{:x}", m.id),
            name: m.name,
            peer_urls: m.peer_urls,
            client_urls: m.client_urls,
            is_learner: m.is_learner,
        });
    }
    let removed_members = entries(snap, buckets::MEMBERS_REMOVED)?
        .into_iter()
        .map(|(k, _)| text(k))
        .collect();
    let downgrade = match snap.get(buckets::CLUSTER, b"downgrade")? {
        Some(v) => Some(
            serde_json::from_slice::<Downgrade>(v)
                .map_err(|e| bad("cluster", b"downgrade", "downgrade JSON", e))?,
        ),
        None => None,
    };

    let mut users = Vec::new();
    for (k, v) in entries(snap, buckets::AUTH_USERS)? {
        let u: User = proto::decode(v).map_err(|e| bad("authUsers", k, "authpb.User", e))?;
        users.push(UserInfo {
            name: text(&u.name),
            roles: u.roles,
            no_password: u.options.is_some_and(|o| o.no_password),
            has_password: !u.password.is_empty(),
        });
    }
    let mut roles = Vec::new();
    for (k, v) in entries(snap, buckets::AUTH_ROLES)? {
        let r: Role = proto::decode(v).map_err(|e| bad("authRoles", k, "authpb.Role", e))?;
        roles.push(RoleInfo {
            name: text(&r.name),
            permissions: r
                .key_permission
                .iter()
                .map(|p| PermissionInfo {
                    perm_type: perm_type_name(p.perm_type),
                    key: b64(&p.key),
                    range_end: b64(&p.range_end),
                    key_text: text(&p.key),
                    range_end_text: text(&p.range_end),
                })
                .collect(),
        });
    }
    let auth = AuthInfo {
        enabled: snap.get(buckets::AUTH, b"authEnabled")? == Some(&[1u8][..]),
        revision: snap
            .get(buckets::AUTH, b"authRevision")?
            .and_then(|v| Some(u64::from_be_bytes(v.get(..8)?.try_into().ok()?))),
        users,
        roles,
    };

    let mut alarms = Vec::new();
    for (k, _) in entries(snap, buckets::ALARM)? {
        let a: AlarmMember =
            proto::decode(k).map_err(|e| bad("alarm", k, "etcdserverpb.AlarmMember", e))?;
        alarms.push(AlarmInfo {
            member_id: format!("{:x}", a.member_id),
            alarm: alarm_name(a.alarm),
        });
    }

    let walk = PageWalk::run(db)?;
    let freelist = Freelist::read(db)?;
    let (persisted, listed, freelist_pages) = match &freelist {
        Freelist::NotPersisted => (false, None, 0),
        Freelist::Persisted { ids, overflow, .. } => {
            (true, Some(ids.len() as u64), u64::from(*overflow) + 1)
        }
    };
    let in_use = walk
        .reachable
        .saturating_add(freelist_pages)
        .saturating_add(2);
    let key_entries = walk
        .buckets
        .iter()
        .find(|b| b.name.as_bytes() == buckets::KEY)
        .map_or(0, |b| b.entries);
    let metas = db.metas();
    Ok(Info {
        file: FileInfo {
            file_size: db.file_size(),
            page_size: db.page_size(),
            pages: db.hwm(),
            total_size: db.size(),
            sha256_trailer: db.trailer().is_some(),
            active_meta: metas.active,
            txid: db.meta().txid,
            freelist: FreelistInfo {
                persisted,
                listed_free_pages: listed,
                unreachable_pages: db.hwm().saturating_sub(in_use),
            },
            buckets: walk.buckets,
        },
        store: StoreInfo {
            consistent_index: meta.consistent_index,
            term: meta.term,
            conf_state,
            storage_version: meta.storage_version.clone(),
            current_revision: store.current,
            compact_revision: store.compact,
            scheduled_compact_revision: meta.scheduled_compact.map(|r| r.main),
            finished_compact_revision: meta.finished_compact.map(|r| r.main),
            compaction_interrupted: store.compaction_interrupted,
            revisions_stored: key_entries,
            live_keys,
        },
        cluster: ClusterInfo {
            version: snap.get(buckets::CLUSTER, b"clusterVersion")?.map(text),
            downgrade,
            members,
            removed_members,
        },
        leases,
        missing_leases,
        auth,
        alarms,
        writer: crate::versions::writer(snap)?,
    })
}

/// Entries and pages of every top-level bucket, in key order, from one walk of the pages the
/// buckets reach (no value is read). What `info` lists under BUCKETS, for callers that want
/// only that (`etcdsnap stats`).
pub fn bucket_sizes(db: &Db) -> Result<Vec<BucketInfo>> {
    Ok(PageWalk::run(db)?.buckets)
}

/// A walk over the pages every bucket reaches: entry and page counts per top-level bucket, and
/// the number of distinct pages reached (overflow pages included).
struct PageWalk {
    buckets: Vec<BucketInfo>,
    reachable: u64,
}

impl PageWalk {
    fn run(db: &Db) -> Result<PageWalk> {
        // Pages past the end of the data cannot be read anyway (db.page fails on them), so
        // the bit set never needs to be larger than the file, whatever the meta claims.
        let ps = u64::from(db.page_size()).max(1);
        let bound = db.hwm().min(db.data().len() as u64 / ps + 1);
        let mut seen = vec![0u64; usize::try_from(bound / 64 + 1).unwrap_or(0)];
        let mut reachable = 0u64;
        let mut mark = |id: u64, span: u64| -> Result<bool> {
            for p in id..id.saturating_add(span) {
                let (w, b) = ((p / 64) as usize, p % 64);
                let Some(word) = seen.get_mut(w) else {
                    return Err(Error::Bolt(bbolt::Error::PageOutOfRange {
                        page: p,
                        hwm: db.hwm(),
                        from: None,
                    }));
                };
                if *word & (1 << b) != 0 {
                    return Ok(false);
                }
                *word |= 1 << b;
                reachable += 1;
            }
            Ok(true)
        };
        // The root bucket's pages.
        let mut stack: Vec<(u64, Option<u64>)> = vec![(db.meta().root, None)];
        let mut top: Vec<(&[u8], &[u8])> = Vec::new();
        let mut root_pages = 0u64;
        walk_tree(
            db,
            b"",
            &mut stack,
            &mut mark,
            &mut root_pages,
            &mut |k, v, flags| {
                if flags & raw::BUCKET_LEAF_FLAG != 0 {
                    top.push((k, v));
                }
            },
        )?;
        let mut out = Vec::new();
        for (name, value) in top {
            let root = value
                .get(..8)
                .and_then(|b| b.try_into().ok())
                .map(u64::from_le_bytes)
                .unwrap_or(0);
            let mut entries = 0u64;
            let mut pages = 0u64;
            if root == 0 {
                // Inline: count the elements of the embedded page.
                let page = value
                    .get(raw::BUCKET_HEADER_SIZE..)
                    .map(|span| bbolt::Page::new(None, span));
                entries = page.map_or(0, |p| p.count() as u64);
            } else {
                let mut stack = vec![(root, None)];
                walk_tree(
                    db,
                    name,
                    &mut stack,
                    &mut mark,
                    &mut pages,
                    &mut |_, _, _| entries += 1,
                )?;
            }
            out.push(BucketInfo {
                name: text(name),
                entries,
                pages,
            });
        }
        Ok(PageWalk {
            buckets: out,
            reachable,
        })
    }
}

/// Depth-first over the pages under `stack` (page, referring page), calling `leaf` for each
/// leaf element. Nested buckets below top level are counted as entries but not descended
/// (etcd has none). No depth limit: `mark` refuses a page seen before, so a cycle or a subtree
/// shared with another bucket ends the walk with an error naming `bucket` and the parent.
fn walk_tree<'a>(
    db: &'a Db,
    bucket: &[u8],
    stack: &mut Vec<(u64, Option<u64>)>,
    mark: &mut impl FnMut(u64, u64) -> Result<bool>,
    pages: &mut u64,
    leaf: &mut impl FnMut(&'a [u8], &'a [u8], u32),
) -> Result<()> {
    while let Some((id, from)) = stack.pop() {
        let page = db.page_from(id, from)?;
        let span = u64::from(page.overflow()) + 1;
        if !mark(id, span)? {
            return Err(Error::Bolt(bbolt::Error::PageRevisited {
                page: id,
                from,
                bucket: escape_bytes(bucket),
            }));
        }
        *pages += span;
        match page.kind() {
            PageKind::Branch => {
                for i in (0..page.count()).rev() {
                    stack.push((page.branch(i)?.child, Some(id)));
                }
            }
            PageKind::Leaf => {
                for i in 0..page.count() {
                    let e = page.leaf(i)?;
                    leaf(e.key, e.value, e.flags);
                }
            }
            _ => {
                return Err(Error::Bolt(bbolt::Error::UnexpectedPageType {
                    page: id,
                    flags: page.flags(),
                    expected: "branch or leaf",
                    from,
                }));
            }
        }
    }
    Ok(())
}
