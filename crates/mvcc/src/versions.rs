//! Which etcd wrote a snapshot, and whose tools' rules and output a report follows.
//!
//! etcd 3.6 and 3.7 print different things than 3.5 for the same file (`snapshot status`
//! counts live keys and adds a `version`; `hashkv` skips a tombstone at the compaction
//! revision since 3.4.34/3.5.16), so every report that etcd also makes needs to know which
//! etcd it imitates. The default is the etcd that wrote the file: 3.6+ records its storage
//! version in `meta/storageVersion`; older files are told apart by the keys 3.5 added
//! (`meta/term`, `meta/confState`). The sources followed are listed in `docs/etcd-versions.md`.

use std::fmt;
use std::str::FromStr;

use crate::error::Result;
use crate::proto::{WireError, read_bytes, read_varint, skip_field};
use crate::snapshot::{Snapshot, buckets};

/// An etcd release (line): `3.5`, or with a patch, `3.5.16`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct EtcdVersion {
    /// Major (3).
    pub major: u64,
    /// Minor (4 to 7).
    pub minor: u64,
    /// Patch, when given; `None` means the newest release of the line.
    pub patch: Option<u64>,
}

impl EtcdVersion {
    /// The oldest and newest release lines whose outputs are reproduced.
    pub const KNOWN: [(u64, u64); 4] = [(3, 4), (3, 5), (3, 6), (3, 7)];

    /// `3.Y` (the newest release of that line).
    pub const fn line(major: u64, minor: u64) -> EtcdVersion {
        EtcdVersion {
            major,
            minor,
            patch: None,
        }
    }

    /// True for 3.6 and later.
    pub fn at_least(&self, major: u64, minor: u64) -> bool {
        (self.major, self.minor) >= (major, minor)
    }

    /// True when this release's hashkv skips a tombstone at the compaction revision:
    /// 3.4.34+, 3.5.16+, every 3.6 and 3.7 (etcd PR #18274; `server/storage/mvcc/hash.go`).
    /// A line without a patch means its newest release, which does.
    pub fn skips_compacted_tombstone(&self) -> bool {
        match (self.major, self.minor, self.patch) {
            (3, 4, Some(p)) => p >= 34,
            (3, 5, Some(p)) => p >= 16,
            (3, m, _) => m >= 4,
            (major, _, _) => major > 3,
        }
    }
}

impl fmt::Display for EtcdVersion {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}.{}", self.major, self.minor)?;
        if let Some(p) = self.patch {
            write!(f, ".{p}")?;
        }
        Ok(())
    }
}

impl FromStr for EtcdVersion {
    type Err = String;

    /// `3.5`, `3.5.16` or `v3.6.0`; only the lines in [`EtcdVersion::KNOWN`].
    fn from_str(s: &str) -> std::result::Result<EtcdVersion, String> {
        let t = s.strip_prefix('v').unwrap_or(s);
        let parts: Vec<&str> = t.split('.').collect();
        let num = |p: &str| -> std::result::Result<u64, String> {
            if p.is_empty() || !p.bytes().all(|b| b.is_ascii_digit()) {
                return Err(format!(
                    "{s:?} is not an etcd version (3.5, 3.6, 3.7 or 3.5.16)"
                ));
            }
            p.parse::<u64>().map_err(|e| e.to_string())
        };
        let v = match parts.as_slice() {
            [a, b] => EtcdVersion::line(num(a)?, num(b)?),
            [a, b, c] => EtcdVersion {
                major: num(a)?,
                minor: num(b)?,
                patch: Some(num(c)?),
            },
            _ => {
                return Err(format!(
                    "{s:?} is not an etcd version (3.5, 3.6, 3.7 or 3.5.16)"
                ));
            }
        };
        if !EtcdVersion::KNOWN.contains(&(v.major, v.minor)) {
            return Err(format!(
                "etcd {v} is not one whose output etcdsnap reproduces (3.4, 3.5, 3.6, 3.7)"
            ));
        }
        Ok(v)
    }
}

/// A version parsed as etcd parses `storageVersion`: `github.com/coreos/go-semver` v0.3.1
/// `NewVersion` (`X.Y.Z[-pre][+meta]`, decimal int64 parts, identifiers `[0-9A-Za-z-]` with
/// dots), printed by its `String`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct GoSemver {
    /// Major.
    pub major: i64,
    /// Minor.
    pub minor: i64,
    /// Patch.
    pub patch: i64,
    /// Pre-release identifiers (after `-`).
    pub pre: String,
    /// Build metadata (after `+`).
    pub metadata: String,
}

impl GoSemver {
    /// Parses like go-semver's `Version.Set`; `None` where it returns an error.
    pub fn parse(raw: &[u8]) -> Option<GoSemver> {
        let s = std::str::from_utf8(raw).ok()?;
        // splitOff(&version, "+") then splitOff(&version, "-"): the first occurrence each.
        let (rest, metadata) = s.split_once('+').unwrap_or((s, ""));
        let (rest, pre) = rest.split_once('-').unwrap_or((rest, ""));
        let dot: Vec<&str> = rest.splitn(3, '.').collect();
        if dot.len() != 3 || !identifier_ok(pre) || !identifier_ok(metadata) {
            return None;
        }
        let mut n = [0i64; 3];
        for (slot, p) in n.iter_mut().zip(&dot) {
            *slot = go_parse_int(p)?;
        }
        Some(GoSemver {
            major: n[0],
            minor: n[1],
            patch: n[2],
            pre: pre.to_string(),
            metadata: metadata.to_string(),
        })
    }
}

impl fmt::Display for GoSemver {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}.{}.{}", self.major, self.minor, self.patch)?;
        if !self.pre.is_empty() {
            write!(f, "-{}", self.pre)?;
        }
        if !self.metadata.is_empty() {
            write!(f, "+{}", self.metadata)?;
        }
        Ok(())
    }
}

/// `^[0-9A-Za-z-]+(\.[0-9A-Za-z-]+)*$`, or empty.
fn identifier_ok(id: &str) -> bool {
    id.is_empty()
        || id
            .split('.')
            .all(|p| !p.is_empty() && p.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-'))
}

/// Go's `strconv.ParseInt(s, 10, 64)`: an optional sign, decimal digits, int64 range.
fn go_parse_int(s: &str) -> Option<i64> {
    let digits = s.strip_prefix(['+', '-']).unwrap_or(s);
    if digits.is_empty() || !digits.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    s.strip_prefix('+').unwrap_or(s).parse::<i64>().ok()
}

/// The storage schema a file was written with.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "snake_case", tag = "kind", content = "version")]
pub enum Schema {
    /// `meta/storageVersion` holds this version (etcd 3.6+).
    StorageVersion(String),
    /// No storage version, but `term` and `confState` (etcd 3.5, or 3.6 before it migrated).
    V3_5,
    /// Neither `term` nor `confState`: etcd 3.4 or older.
    V3_4,
    /// Some of 3.5's keys but not all: etcd 3.6 would refuse to start on it (its
    /// `UnsafeDetectSchemaVersion` needs both).
    Incomplete(String),
}

impl fmt::Display for Schema {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Schema::StorageVersion(v) => write!(f, "{v} (meta/storageVersion)"),
            Schema::V3_5 => write!(f, "3.5 (term and confState, no storageVersion)"),
            Schema::V3_4 => write!(f, "3.4 or older (no term, no confState)"),
            Schema::Incomplete(why) => write!(f, "unknown: {why}"),
        }
    }
}

/// What a file says about the etcd that wrote it.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct Writer {
    /// `meta/storageVersion` as stored (lossy UTF-8), when present.
    pub storage_version_raw: Option<String>,
    /// It parsed as etcd parses it (go-semver), printed as etcd prints it; `None` when absent
    /// or unparsable (etcdutl 3.6 then prints an empty version).
    pub storage_version: Option<String>,
    /// The schema, as etcd 3.6 detects it (`server/storage/schema/schema.go`).
    pub schema: Schema,
    /// `cluster/clusterVersion`.
    pub cluster_version: Option<String>,
    /// `cluster/downgrade` as stored (JSON).
    pub downgrade: Option<String>,
    /// Whose tools this file's reports follow by default (see [`default_version`]).
    pub default_tools: String,
}

/// Reads what the file says about its writer.
pub fn writer(snap: &Snapshot) -> Result<Writer> {
    let text = |v: Option<&[u8]>| v.map(|b| String::from_utf8_lossy(b).into_owned());
    let raw = snap.get(buckets::META, b"storageVersion")?;
    let parsed = raw.and_then(GoSemver::parse);
    let term = snap.get(buckets::META, b"term")?;
    let conf = snap.get(buckets::META, b"confState")?;
    // UnsafeReadConsistentIndex: a term shorter than 8 bytes reads as 0.
    let term_nonzero = term
        .and_then(|t| t.get(..8))
        .is_some_and(|t| t.iter().any(|&b| b != 0));
    let schema = match (&parsed, conf.is_some(), term_nonzero) {
        (Some(v), _, _) => Schema::StorageVersion(v.to_string()),
        (None, true, true) => Schema::V3_5,
        (None, false, false) if term.is_none() => Schema::V3_4,
        (None, true, false) => Schema::Incomplete("confState without a term".into()),
        (None, false, _) => Schema::Incomplete("term without confState".into()),
    };
    Ok(Writer {
        storage_version_raw: text(raw),
        storage_version: parsed.as_ref().map(ToString::to_string),
        schema,
        cluster_version: text(snap.get(buckets::CLUSTER, b"clusterVersion")?),
        downgrade: text(snap.get(buckets::CLUSTER, b"downgrade")?),
        default_tools: default_for(parsed.as_ref()).to_string(),
    })
}

/// The etcd whose tools imitate by default for this file: its storage version's
/// major.minor (3.6, 3.7; a newer one is clamped to 3.7, the newest known), 3.5 when the file
/// has none (or one etcd cannot parse).
pub fn default_version(snap: &Snapshot) -> Result<EtcdVersion> {
    let raw = snap.get(buckets::META, b"storageVersion")?;
    Ok(default_for(raw.and_then(GoSemver::parse).as_ref()))
}

fn default_for(v: Option<&GoSemver>) -> EtcdVersion {
    match v {
        Some(v) if v.major == 3 && v.minor >= 7 => EtcdVersion::line(3, 7),
        Some(v) if v.major > 3 => EtcdVersion::line(3, 7),
        Some(v) if v.major == 3 && v.minor == 6 => EtcdVersion::line(3, 6),
        _ => EtcdVersion::line(3, 5),
    }
}

/// The user key of an `mvccpb.KeyValue` as protobuf-go's `proto.Unmarshal` (etcd 3.7) reads
/// it: a known field with another wire type is kept as an unknown field instead of being an
/// error (gogo's generated `Unmarshal`, etcd 3.5/3.6, fails on it).
pub fn decode_key_protobuf_go(buf: &[u8]) -> std::result::Result<&[u8], WireError> {
    let mut key: &[u8] = &[];
    let mut pos = 0;
    while pos < buf.len() {
        let tag = read_varint(buf, &mut pos)?;
        if tag > u64::from(u32::MAX) {
            return Err(WireError::BadTag(tag));
        }
        let (field, wire) = (tag >> 3, (tag & 7) as u8);
        if field == 0 {
            return Err(WireError::FieldZero);
        }
        match (field, wire) {
            (1, 2) => key = read_bytes(buf, &mut pos)?,
            _ => skip_field(buf, &mut pos, wire)?,
        }
    }
    Ok(key)
}

/// Go's `%q` of a byte string (`strconv.Quote`): printable ASCII as is, `\a \b \f \n \r \t
/// \v \\ \"`, other bytes below 0x80 as `\xNN`, valid UTF-8 beyond ASCII as is unless a
/// control or format character (`\u00XX`), invalid bytes as `\xNN`.
pub fn go_quote(b: &[u8]) -> String {
    let mut s = String::with_capacity(b.len() + 2);
    s.push('"');
    for chunk in b.utf8_chunks() {
        for c in chunk.valid().chars() {
            push_quoted(&mut s, c, '"');
        }
        for byte in chunk.invalid() {
            s.push_str(&format!("\\x{byte:02x}"));
        }
    }
    s.push('"');
    s
}

/// Go's `%q` of one byte as an integer (`strconv.QuoteRune(rune(b))`).
pub fn go_quote_rune(b: u8) -> String {
    let mut s = String::from("'");
    push_quoted(&mut s, char::from(b), '\'');
    s.push('\'');
    s
}

fn push_quoted(s: &mut String, c: char, quote: char) {
    match c {
        '\x07' => s.push_str("\\a"),
        '\x08' => s.push_str("\\b"),
        '\x0c' => s.push_str("\\f"),
        '\n' => s.push_str("\\n"),
        '\r' => s.push_str("\\r"),
        '\t' => s.push_str("\\t"),
        '\x0b' => s.push_str("\\v"),
        '\\' => s.push_str("\\\\"),
        c if c == quote => {
            s.push('\\');
            s.push(c);
        }
        c if (c as u32) < 0x20 || c as u32 == 0x7f => s.push_str(&format!("\\x{:02x}", c as u32)),
        c if (0x80..=0xa0).contains(&(c as u32)) || c as u32 == 0xad => {
            s.push_str(&format!("\\u{:04x}", c as u32))
        }
        c => s.push(c),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn go_semver_like_go() {
        let p = |s: &str| GoSemver::parse(s.as_bytes()).map(|v| v.to_string());
        assert_eq!(p("3.6.0").as_deref(), Some("3.6.0"));
        assert_eq!(p("03.06.00").as_deref(), Some("3.6.0"));
        assert_eq!(p("3.7.0-alpha.0").as_deref(), Some("3.7.0-alpha.0"));
        assert_eq!(p("3.6.0+build.1").as_deref(), Some("3.6.0+build.1"));
        assert_eq!(p("3.6.1-rc-1+x").as_deref(), Some("3.6.1-rc-1+x"));
        // An empty pre-release or metadata after its separator is accepted and dropped.
        assert_eq!(p("3.6.0-").as_deref(), Some("3.6.0"));
        assert_eq!(p("3.6.0+").as_deref(), Some("3.6.0"));
        for bad in [
            "3.6",
            "3.6.0.1",
            "",
            "3.6.x",
            "3.6.0-a..b",
            "3.6.0+é",
            " 3.6.0",
        ] {
            assert_eq!(p(bad), None, "{bad:?}");
        }
        assert_eq!(p("3.6.99999999999999999999"), None);
        assert_eq!(GoSemver::parse(b"3.6.\xff"), None);
    }

    #[test]
    fn versions_parse_and_tombstone_rule() {
        let v = |s: &str| s.parse::<EtcdVersion>();
        assert_eq!(v("3.6").unwrap(), EtcdVersion::line(3, 6));
        assert_eq!(v("v3.5.16").unwrap().patch, Some(16));
        assert!(v("3.8").is_err() && v("3").is_err() && v("3.x").is_err() && v("2.3").is_err());
        assert!(!v("3.5.15").unwrap().skips_compacted_tombstone());
        assert!(v("3.5.16").unwrap().skips_compacted_tombstone());
        assert!(v("3.5").unwrap().skips_compacted_tombstone());
        assert!(!v("3.4.33").unwrap().skips_compacted_tombstone());
        assert!(v("3.4.34").unwrap().skips_compacted_tombstone());
        assert!(v("3.6.0").unwrap().skips_compacted_tombstone());
    }

    #[test]
    fn defaults_follow_the_storage_version() {
        let d = |s: &str| default_for(GoSemver::parse(s.as_bytes()).as_ref()).to_string();
        assert_eq!(d("3.6.0"), "3.6");
        assert_eq!(d("3.7.0"), "3.7");
        assert_eq!(d("3.9.0"), "3.7");
        assert_eq!(d("3.5.0"), "3.5");
        assert_eq!(d("garbage"), "3.5");
    }

    #[test]
    fn quoting_like_go() {
        assert_eq!(go_quote(b"\x00\x01a\"\xff"), r#""\x00\x01a\"\xff""#);
        assert_eq!(go_quote_rune(b'_'), "'_'");
        assert_eq!(go_quote_rune(0), r"'\x00'");
        assert_eq!(go_quote_rune(b'\''), r"'\''");
        assert_eq!(go_quote_rune(0xc3), "'\u{c3}'");
    }

    #[test]
    fn protobuf_go_keeps_mistyped_fields_as_unknown() {
        // field 1 as a varint, then field 1 as bytes "k".
        assert_eq!(
            decode_key_protobuf_go(&[0x08, 0x05, 0x0a, 0x01, b'k']).unwrap(),
            b"k"
        );
        assert_eq!(decode_key_protobuf_go(&[0x08, 0x05]).unwrap(), b"");
        assert!(crate::proto::KeyValueRef::decode(&[0x08, 0x05]).is_err());
    }
}
