//! etcd's protobuf messages, declared by hand with `prost` derives (no protoc, no build
//! script), and a borrowed decoder for `mvccpb.KeyValue`, the one message on the hot path.
//!
//! `prost` copies `bytes` fields into owned buffers; a scan of a 1.5 GB history cannot afford
//! that, so [`KeyValueRef`] decodes the same wire format in place and borrows `key` and `value`
//! from the map. Tests check it against the prost declaration on every corpus value.

use prost::Message;

/// `mvccpb.KeyValue` (owned; see [`KeyValueRef`] for the borrowed form).
#[derive(Clone, PartialEq, Message)]
pub struct KeyValue {
    /// The user key.
    #[prost(bytes = "vec", tag = "1")]
    pub key: Vec<u8>,
    /// Revision of the put that created this generation of the key.
    #[prost(int64, tag = "2")]
    pub create_revision: i64,
    /// Revision of this change.
    #[prost(int64, tag = "3")]
    pub mod_revision: i64,
    /// Number of puts since creation.
    #[prost(int64, tag = "4")]
    pub version: i64,
    /// The value.
    #[prost(bytes = "vec", tag = "5")]
    pub value: Vec<u8>,
    /// Attached lease id, 0 for none.
    #[prost(int64, tag = "6")]
    pub lease: i64,
}

/// `leasepb.Lease`.
#[derive(Clone, PartialEq, Message)]
pub struct Lease {
    /// Lease id.
    #[prost(int64, tag = "1")]
    pub id: i64,
    /// Granted TTL in seconds.
    #[prost(int64, tag = "2")]
    pub ttl: i64,
    /// Remaining TTL persisted by lease checkpointing.
    #[prost(int64, tag = "3")]
    pub remaining_ttl: i64,
}

/// `authpb.UserAddOptions`.
#[derive(Clone, PartialEq, Message)]
pub struct UserAddOptions {
    /// The user has no password.
    #[prost(bool, tag = "1")]
    pub no_password: bool,
}

/// `authpb.User`.
#[derive(Clone, PartialEq, Message)]
pub struct User {
    /// User name.
    #[prost(bytes = "vec", tag = "1")]
    pub name: Vec<u8>,
    /// bcrypt hash: never printed.
    #[prost(bytes = "vec", tag = "2")]
    pub password: Vec<u8>,
    /// Granted roles.
    #[prost(string, repeated, tag = "3")]
    pub roles: Vec<String>,
    /// Options.
    #[prost(message, optional, tag = "4")]
    pub options: Option<UserAddOptions>,
}

/// `authpb.Permission`.
#[derive(Clone, PartialEq, Message)]
pub struct Permission {
    /// READ 0, WRITE 1, READWRITE 2.
    #[prost(int32, tag = "1")]
    pub perm_type: i32,
    /// Key or range start.
    #[prost(bytes = "vec", tag = "2")]
    pub key: Vec<u8>,
    /// Range end (empty: the single key).
    #[prost(bytes = "vec", tag = "3")]
    pub range_end: Vec<u8>,
}

/// `authpb.Role`.
#[derive(Clone, PartialEq, Message)]
pub struct Role {
    /// Role name.
    #[prost(bytes = "vec", tag = "1")]
    pub name: Vec<u8>,
    /// Key permissions.
    #[prost(message, repeated, tag = "2")]
    pub key_permission: Vec<Permission>,
}

/// `etcdserverpb.AlarmMember`.
#[derive(Clone, PartialEq, Message)]
pub struct AlarmMember {
    /// Member id.
    #[prost(uint64, tag = "1")]
    pub member_id: u64,
    /// NONE 0, NOSPACE 1, CORRUPT 2.
    #[prost(int32, tag = "2")]
    pub alarm: i32,
}

/// `mvccpb.KeyValue` with `key` and `value` borrowed from the input.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct KeyValueRef<'a> {
    /// The user key.
    pub key: &'a [u8],
    /// Revision of the put that created this generation of the key.
    pub create_revision: i64,
    /// Revision of this change.
    pub mod_revision: i64,
    /// Number of puts since creation.
    pub version: i64,
    /// The value.
    pub value: &'a [u8],
    /// Attached lease id, 0 for none.
    pub lease: i64,
}

/// Why a protobuf could not be decoded.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum WireError {
    /// The input ends inside a field.
    Truncated,
    /// A varint is longer than 10 bytes or overflows 64 bits.
    VarintTooLong,
    /// Wire type 3, 4, 6 or 7 (groups or invalid).
    BadWireType(u8),
    /// Field number 0.
    FieldZero,
    /// A tag beyond 32 bits (field number too large), which prost and Go reject.
    BadTag(u64),
    /// A known field has the wrong wire type.
    WrongType(u32),
}

impl std::fmt::Display for WireError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            WireError::Truncated => write!(f, "truncated protobuf"),
            WireError::VarintTooLong => write!(f, "varint longer than 64 bits"),
            WireError::BadWireType(t) => write!(f, "unsupported wire type {t}"),
            WireError::FieldZero => write!(f, "field number 0"),
            WireError::BadTag(t) => write!(f, "invalid tag {t}"),
            WireError::WrongType(n) => write!(f, "field {n} has the wrong wire type"),
        }
    }
}

/// Reads a varint at `*pos`.
#[inline]
pub fn read_varint(buf: &[u8], pos: &mut usize) -> Result<u64, WireError> {
    let mut out = 0u64;
    for shift in 0..10 {
        let b = *buf.get(*pos).ok_or(WireError::Truncated)?;
        *pos += 1;
        // The 10th byte holds bit 63 only; more overflows 64 bits, which Go and prost reject.
        if shift == 9 && b > 1 {
            return Err(WireError::VarintTooLong);
        }
        out |= u64::from(b & 0x7f) << (7 * shift);
        if b < 0x80 {
            return Ok(out);
        }
    }
    Err(WireError::VarintTooLong)
}

/// Skips a field of `wire` type at `*pos`.
#[inline]
pub fn skip_field(buf: &[u8], pos: &mut usize, wire: u8) -> Result<(), WireError> {
    let n = match wire {
        0 => {
            read_varint(buf, pos)?;
            0
        }
        1 => 8,
        2 => usize::try_from(read_varint(buf, pos)?).map_err(|_| WireError::Truncated)?,
        5 => 4,
        t => return Err(WireError::BadWireType(t)),
    };
    let end = pos
        .checked_add(n)
        .filter(|&e| e <= buf.len())
        .ok_or(WireError::Truncated)?;
    *pos = end;
    Ok(())
}

/// Reads a length-delimited field's bytes at `*pos`.
#[inline]
pub fn read_bytes<'a>(buf: &'a [u8], pos: &mut usize) -> Result<&'a [u8], WireError> {
    let len = usize::try_from(read_varint(buf, pos)?).map_err(|_| WireError::Truncated)?;
    let end = pos
        .checked_add(len)
        .filter(|&e| e <= buf.len())
        .ok_or(WireError::Truncated)?;
    let out = &buf[*pos..end];
    *pos = end;
    Ok(out)
}

impl<'a> KeyValueRef<'a> {
    /// Decodes `buf` in place (proto3 rules: any field order, last scalar wins, unknown
    /// fields skipped).
    pub fn decode(buf: &'a [u8]) -> Result<KeyValueRef<'a>, WireError> {
        let mut kv = KeyValueRef::default();
        let mut pos = 0;
        while pos < buf.len() {
            let tag = read_varint(buf, &mut pos)?;
            if tag > u64::from(u32::MAX) {
                return Err(WireError::BadTag(tag));
            }
            let (field, wire) = ((tag >> 3) as u32, (tag & 7) as u8);
            if field == 0 {
                return Err(WireError::FieldZero);
            }
            match (field, wire) {
                (1, 2) => kv.key = read_bytes(buf, &mut pos)?,
                (5, 2) => kv.value = read_bytes(buf, &mut pos)?,
                (2, 0) => kv.create_revision = read_varint(buf, &mut pos)? as i64,
                (3, 0) => kv.mod_revision = read_varint(buf, &mut pos)? as i64,
                (4, 0) => kv.version = read_varint(buf, &mut pos)? as i64,
                (6, 0) => kv.lease = read_varint(buf, &mut pos)? as i64,
                (1..=6, _) => return Err(WireError::WrongType(field)),
                _ => skip_field(buf, &mut pos, wire)?,
            }
        }
        Ok(kv)
    }

    /// Decodes only the user key.
    #[inline]
    pub fn decode_key(buf: &'a [u8]) -> Result<&'a [u8], WireError> {
        KeyValueRef::decode(buf).map(|kv| kv.key)
    }
}

/// Decodes an owned message with prost, mapping the error to text.
pub fn decode<M: Message + Default>(buf: &[u8]) -> Result<M, String> {
    M::decode(buf).map_err(|e| e.to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn borrowed_matches_prost() {
        let kv = KeyValue {
            key: b"k1".to_vec(),
            create_revision: 2,
            mod_revision: 4,
            version: 3,
            value: b"v3".to_vec(),
            lease: -5,
        };
        let buf = kv.encode_to_vec();
        assert_eq!(
            buf[..14],
            [
                0x0A, 0x02, 0x6B, 0x31, 0x10, 0x02, 0x18, 0x04, 0x20, 0x03, 0x2A, 0x02, 0x76, 0x33
            ]
        );
        let r = KeyValueRef::decode(&buf).unwrap();
        assert_eq!(
            (
                r.key,
                r.value,
                r.create_revision,
                r.mod_revision,
                r.version,
                r.lease
            ),
            (&b"k1"[..], &b"v3"[..], 2, 4, 3, -5)
        );
        assert_eq!(KeyValueRef::decode_key(&buf), Ok(&b"k1"[..]));
        assert!(KeyValueRef::decode(&buf[..buf.len() - 1]).is_err());
        assert_eq!(
            KeyValueRef::decode(&[0x0a, 0xff]),
            Err(WireError::Truncated)
        );
    }

    /// Inputs the `kv` fuzz target found where our decoder and prost disagreed.
    #[test]
    fn fuzz_regressions_agree_with_prost() {
        let cases: &[&[u8]] = &[
            // A tag of 13197331061 (> u32::MAX): prost rejects it, we used to truncate it.
            &[0xf5, 0x94, 0xfd, 0x94, 0x31, 0x30, 0xff, 0xff, 0xff],
            // A 10-byte varint whose last byte overflows 64 bits.
            &[
                0x10, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x02,
            ],
        ];
        for c in cases {
            let ours = KeyValueRef::decode(c);
            let theirs = KeyValue::decode(*c);
            assert_eq!(
                ours.is_ok(),
                theirs.is_ok(),
                "{c:02x?}: {ours:?} vs {theirs:?}"
            );
        }
    }
}
