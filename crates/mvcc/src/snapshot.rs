//! An open etcd snapshot: the bbolt file plus what etcd's `meta` bucket says about the store.
//!
//! A user may hand us a snapshot file or a member's data directory; both open here, and the
//! resolved path is kept so the binary can say which file it read.

use std::path::{Path, PathBuf};

use etcdsnap_bbolt::{self as bbolt, Bucket, Db, OpenOptions};

use crate::error::{Error, Result};
use crate::revision::Revision;

/// Names of the buckets etcd 3.4-3.7 write.
pub mod buckets {
    /// MVCC history.
    pub const KEY: &[u8] = b"key";
    /// Consistent index, term, compaction revisions, confState, storage version.
    pub const META: &[u8] = b"meta";
    /// Leases.
    pub const LEASE: &[u8] = b"lease";
    /// Alarms.
    pub const ALARM: &[u8] = b"alarm";
    /// Cluster version, downgrade.
    pub const CLUSTER: &[u8] = b"cluster";
    /// Members.
    pub const MEMBERS: &[u8] = b"members";
    /// Removed members.
    pub const MEMBERS_REMOVED: &[u8] = b"members_removed";
    /// Auth enabled flag and revision.
    pub const AUTH: &[u8] = b"auth";
    /// Users.
    pub const AUTH_USERS: &[u8] = b"authUsers";
    /// Roles.
    pub const AUTH_ROLES: &[u8] = b"authRoles";
}

/// An etcd snapshot opened read-only.
#[derive(Debug)]
pub struct Snapshot {
    db: Db,
    path: PathBuf,
    from_data_dir: bool,
}

/// Where a path leads: a file, or a data directory whose `member/snap/db` is the file.
pub fn resolve_path(path: &Path) -> (PathBuf, bool) {
    if path.is_dir() {
        let member = path.join("member").join("snap").join("db");
        if member.is_file() {
            return (member, true);
        }
        let snap = path.join("snap").join("db");
        if snap.is_file() {
            return (snap, true);
        }
    }
    (path.to_path_buf(), false)
}

impl Snapshot {
    /// Opens a snapshot file or a data directory (then its `member/snap/db`).
    pub fn open(path: &Path) -> Result<Snapshot> {
        Snapshot::open_with(path, OpenOptions::default())
    }

    /// Like [`Snapshot::open`] with bbolt options.
    pub fn open_with(path: &Path, opts: OpenOptions) -> Result<Snapshot> {
        let (file, from_data_dir) = resolve_path(path);
        if file.is_dir() {
            return Err(Error::NotADataDir);
        }
        let db = Db::open_with(&file, opts)?;
        Ok(Snapshot {
            db,
            path: file,
            from_data_dir,
        })
    }

    /// Wraps an already open database (tests, fuzzing).
    pub fn from_db(db: Db) -> Snapshot {
        Snapshot {
            db,
            path: PathBuf::new(),
            from_data_dir: false,
        }
    }

    /// The bbolt database.
    pub fn db(&self) -> &Db {
        &self.db
    }

    /// The file actually read.
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// The same snapshot, named `path` in reports and messages (the binary maps a temporary
    /// copy of a stream or of a compressed backup, and shows the user's argument).
    pub fn shown_as(mut self, path: PathBuf) -> Snapshot {
        self.path = path;
        self
    }

    /// True when the user named a data directory and we read its `member/snap/db`.
    pub fn from_data_dir(&self) -> bool {
        self.from_data_dir
    }

    /// A bucket that must exist.
    pub fn required(&self, name: &'static [u8]) -> Result<Bucket<'_>> {
        self.db.bucket(name)?.ok_or(Error::MissingBucket(
            std::str::from_utf8(name).unwrap_or("?"),
        ))
    }

    /// A bucket that may be missing.
    pub fn optional(&self, name: &[u8]) -> Result<Option<Bucket<'_>>> {
        Ok(self.db.bucket(name)?)
    }

    /// The value of `key` in bucket `bucket`, if both exist.
    pub fn get(&self, bucket: &[u8], key: &[u8]) -> Result<Option<&[u8]>> {
        match self.db.bucket(bucket)? {
            Some(b) => Ok(b.get(key)?),
            None => Ok(None),
        }
    }

    /// What the `meta` bucket says.
    pub fn meta_info(&self) -> Result<MetaInfo> {
        let u64_be = |v: Option<&[u8]>| {
            v.and_then(|b| Some(u64::from_be_bytes(b.get(..8)?.try_into().ok()?)))
        };
        let rev = |v: Option<&[u8]>| v.and_then(Revision::parse);
        let text = |v: Option<&[u8]>| v.map(|b| String::from_utf8_lossy(b).into_owned());
        Ok(MetaInfo {
            consistent_index: u64_be(self.get(buckets::META, b"consistent_index")?),
            term: u64_be(self.get(buckets::META, b"term")?),
            scheduled_compact: rev(self.get(buckets::META, b"scheduledCompactRev")?),
            finished_compact: rev(self.get(buckets::META, b"finishedCompactRev")?),
            conf_state: text(self.get(buckets::META, b"confState")?),
            storage_version: text(self.get(buckets::META, b"storageVersion")?),
        })
    }

    /// The newest and oldest revision keys present in the `key` bucket (`None` when empty).
    pub fn key_bucket_bounds(&self) -> Result<Option<(Revision, Revision)>> {
        let Some(kb) = self.optional(buckets::KEY)? else {
            return Ok(None);
        };
        let first = match kb.iter().next() {
            None => return Ok(None),
            Some(e) => e?,
        };
        let last = kb.last()?.unwrap_or(first);
        let parse = |e: bbolt::Entry<'_>| {
            Revision::parse(e.key).ok_or_else(|| Error::BadRevisionKey {
                key: bbolt::error::escape_bytes(e.key),
                page: e.page.unwrap_or(0),
            })
        };
        Ok(Some((parse(first)?, parse(last)?)))
    }

    /// The store's compaction and current revisions, as a restarted etcd computes them.
    pub fn revisions(&self) -> Result<StoreRevisions> {
        let meta = self.meta_info()?;
        let bounds = self.key_bucket_bounds()?;
        Ok(StoreRevisions::compute(
            &meta,
            bounds.map(|(_, last)| last.main),
        ))
    }
}

/// The `meta` bucket's contents.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct MetaInfo {
    /// Last applied raft index.
    pub consistent_index: Option<u64>,
    /// Raft term (3.5+).
    pub term: Option<u64>,
    /// Compaction requested.
    pub scheduled_compact: Option<Revision>,
    /// Compaction completed.
    pub finished_compact: Option<Revision>,
    /// Raft ConfState JSON (3.5+).
    pub conf_state: Option<String>,
    /// Storage version (3.6+).
    pub storage_version: Option<String>,
}

/// The store's revisions as a restarted server derives them.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct StoreRevisions {
    /// The compacted revision, -1 when never compacted.
    pub compact: i64,
    /// The current store revision.
    pub current: i64,
    /// True when a scheduled compaction never finished (etcd resumes it on start).
    pub compaction_interrupted: bool,
}

impl StoreRevisions {
    /// Derives them from the meta bucket and the newest `main` in the key bucket.
    pub fn compute(meta: &MetaInfo, max_key_main: Option<i64>) -> StoreRevisions {
        let finished = meta.finished_compact.map(|r| r.main);
        let scheduled = meta.scheduled_compact.map(|r| r.main).unwrap_or(0);
        let mut compact = finished.unwrap_or(-1);
        let interrupted = scheduled != 0 && scheduled > compact;
        if interrupted {
            compact = scheduled;
        }
        let mut current = max_key_main.unwrap_or(1);
        if let Some(f) = finished {
            current = current.max(f);
        }
        current = current.max(scheduled);
        StoreRevisions {
            compact,
            current,
            compaction_interrupted: interrupted,
        }
    }
}
