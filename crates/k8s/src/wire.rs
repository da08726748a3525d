//! The protobuf wire format, read without a schema and without copying.
//!
//! Everything else in this crate (the envelope, ObjectMeta, the schema-less body) is a walk
//! over `(field number, wire value)` pairs. Keeping that walk in one small iterator means every
//! length and offset read from a value is checked in one place, and a hostile value can only
//! ever produce a [`WireError`], never a panic or an out-of-bounds read.

use std::fmt;

/// The largest field number protobuf allows (2^29 - 1).
pub const MAX_FIELD_NUMBER: u32 = (1 << 29) - 1;

/// One field's value as it appears on the wire.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum WireValue<'a> {
    /// Wire type 0: a varint (int32, int64, uint*, bool, enum).
    Varint(u64),
    /// Wire type 1: eight little-endian bytes (fixed64, sfixed64, double).
    Fixed64(u64),
    /// Wire type 2: length-delimited bytes (string, bytes, message, packed repeated).
    Bytes(&'a [u8]),
    /// Wire type 5: four little-endian bytes (fixed32, sfixed32, float).
    Fixed32(u32),
}

/// What went wrong reading the wire format.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum WireErrorKind {
    /// The bytes end inside a tag, a varint, a fixed-width value or a length-delimited payload.
    Truncated,
    /// A varint runs longer than 10 bytes or overflows 64 bits.
    VarintOverflow,
    /// Wire types 3 and 4 (groups, unused by Kubernetes) and 6, 7 (undefined).
    UnsupportedWireType(u8),
    /// Field number 0 or above 2^29 - 1.
    InvalidFieldNumber(u64),
}

/// A malformed protobuf message: what was wrong and at which byte of the message.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[error("{kind} at byte {offset}")]
pub struct WireError {
    /// Offset of the offending tag or value, from the start of the message being read.
    pub offset: usize,
    /// What was wrong there.
    pub kind: WireErrorKind,
}

impl fmt::Display for WireErrorKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Truncated => f.write_str("truncated protobuf field"),
            Self::VarintOverflow => f.write_str("protobuf varint longer than 10 bytes"),
            Self::UnsupportedWireType(t) => write!(f, "unsupported protobuf wire type {t}"),
            Self::InvalidFieldNumber(n) => write!(f, "invalid protobuf field number {n}"),
        }
    }
}

/// Reads a varint at `pos`; returns its value and the number of bytes it took.
pub(crate) fn read_varint(buf: &[u8], pos: usize) -> Result<(u64, usize), WireErrorKind> {
    let mut value: u64 = 0;
    for i in 0..10 {
        let at = pos.checked_add(i).ok_or(WireErrorKind::Truncated)?;
        let byte = *buf.get(at).ok_or(WireErrorKind::Truncated)?;
        let bits = u64::from(byte & 0x7f);
        // The tenth byte may only carry the 64th bit.
        if i == 9 && bits > 1 {
            return Err(WireErrorKind::VarintOverflow);
        }
        value |= bits << (7 * i);
        if byte & 0x80 == 0 {
            return Ok((value, i + 1));
        }
    }
    Err(WireErrorKind::VarintOverflow)
}

/// Number of bytes the shortest encoding of `value` takes.
pub(crate) fn varint_len(value: u64) -> usize {
    let bits = 64 - (value | 1).leading_zeros() as usize;
    bits.div_ceil(7)
}

/// One field read from a message, with where its tag started.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Field<'a> {
    /// The field number (1..=2^29-1).
    pub number: u32,
    /// The value.
    pub value: WireValue<'a>,
    /// Offset of the tag within the message.
    pub offset: usize,
    /// Whether the tag used the shortest encoding (every real encoder does).
    pub minimal_tag: bool,
}

/// Iterates over the fields of one message. After the first error it yields nothing more.
#[derive(Debug, Clone)]
pub struct Fields<'a> {
    buf: &'a [u8],
    pos: usize,
    failed: bool,
}

impl<'a> Fields<'a> {
    /// Starts reading `buf` as a protobuf message.
    pub fn new(buf: &'a [u8]) -> Self {
        Self {
            buf,
            pos: 0,
            failed: false,
        }
    }

    fn next_field(&mut self) -> Result<Field<'a>, WireError> {
        let offset = self.pos;
        let err = |kind| WireError { offset, kind };
        let (tag, tag_len) = read_varint(self.buf, self.pos).map_err(err)?;
        let wire_type = (tag & 7) as u8;
        let number = tag >> 3;
        if number == 0 || number > u64::from(MAX_FIELD_NUMBER) {
            return Err(err(WireErrorKind::InvalidFieldNumber(number)));
        }
        let mut pos = offset + tag_len; // tag_len <= 10 and offset + tag_len <= buf.len()
        let value = match wire_type {
            0 => {
                let (v, n) = read_varint(self.buf, pos).map_err(err)?;
                pos += n;
                WireValue::Varint(v)
            }
            1 => {
                let bytes = self.slice(pos, 8).ok_or(err(WireErrorKind::Truncated))?;
                pos += 8;
                let mut a = [0u8; 8];
                a.copy_from_slice(bytes);
                WireValue::Fixed64(u64::from_le_bytes(a))
            }
            2 => {
                let (len, n) = read_varint(self.buf, pos).map_err(err)?;
                pos += n;
                let len = usize::try_from(len).map_err(|_| err(WireErrorKind::Truncated))?;
                let bytes = self.slice(pos, len).ok_or(err(WireErrorKind::Truncated))?;
                pos += len;
                WireValue::Bytes(bytes)
            }
            5 => {
                let bytes = self.slice(pos, 4).ok_or(err(WireErrorKind::Truncated))?;
                pos += 4;
                let mut a = [0u8; 4];
                a.copy_from_slice(bytes);
                WireValue::Fixed32(u32::from_le_bytes(a))
            }
            other => return Err(err(WireErrorKind::UnsupportedWireType(other))),
        };
        self.pos = pos;
        Ok(Field {
            number: number as u32, // checked against MAX_FIELD_NUMBER above
            value,
            offset,
            minimal_tag: tag_len == varint_len(tag),
        })
    }

    fn slice(&self, pos: usize, len: usize) -> Option<&'a [u8]> {
        self.buf.get(pos..pos.checked_add(len)?)
    }
}

impl<'a> Iterator for Fields<'a> {
    type Item = Result<Field<'a>, WireError>;

    fn next(&mut self) -> Option<Self::Item> {
        if self.failed || self.pos >= self.buf.len() {
            return None;
        }
        let field = self.next_field();
        self.failed = field.is_err();
        Some(field)
    }
}

/// Text as [`String::from_utf8_lossy`] makes it, without its slower scan when the bytes are
/// valid UTF-8 (nearly always).
#[inline]
pub(crate) fn utf8(b: &[u8]) -> std::borrow::Cow<'_, str> {
    match std::str::from_utf8(b) {
        Ok(s) => std::borrow::Cow::Borrowed(s),
        Err(_) => String::from_utf8_lossy(b),
    }
}

/// Decodes a protobuf string leniently: invalid UTF-8 becomes U+FFFD rather than an error,
/// so a damaged name still shows.
pub(crate) fn lossy(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).into_owned()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn varints() {
        assert_eq!(read_varint(&[0x96, 0x01], 0), Ok((150, 2)));
        assert_eq!(read_varint(&[0x80], 0), Err(WireErrorKind::Truncated));
        let max = [0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x01];
        assert_eq!(read_varint(&max, 0), Ok((u64::MAX, 10)));
        let over = [0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x02];
        assert_eq!(read_varint(&over, 0), Err(WireErrorKind::VarintOverflow));
        assert_eq!(
            read_varint(&[0xff; 11], 0),
            Err(WireErrorKind::VarintOverflow)
        );
        for v in [0, 1, 127, 128, 16383, 16384, u64::MAX] {
            let mut buf = Vec::new();
            let mut x = v;
            loop {
                let b = (x & 0x7f) as u8;
                x >>= 7;
                if x == 0 {
                    buf.push(b);
                    break;
                }
                buf.push(b | 0x80);
            }
            assert_eq!(varint_len(v), buf.len(), "{v}");
        }
    }

    #[test]
    fn fields_and_errors() {
        // field 1 varint 150, field 2 "hi", field 3 fixed32, field 4 fixed64
        let msg = [
            0x08, 0x96, 0x01, 0x12, 0x02, b'h', b'i', 0x1d, 1, 0, 0, 0, 0x21, 2, 0, 0, 0, 0, 0, 0,
            0,
        ];
        let fields: Vec<_> = Fields::new(&msg).map(|f| f.unwrap().value).collect();
        assert_eq!(
            fields,
            vec![
                WireValue::Varint(150),
                WireValue::Bytes(b"hi"),
                WireValue::Fixed32(1),
                WireValue::Fixed64(2)
            ]
        );
        let bad = |b: &[u8]| Fields::new(b).find_map(Result::err).map(|e| e.kind);
        assert_eq!(bad(&[0x12, 0x05, b'a']), Some(WireErrorKind::Truncated));
        assert_eq!(bad(&[0x0b]), Some(WireErrorKind::UnsupportedWireType(3)));
        assert_eq!(
            bad(&[0x00, 0x00]),
            Some(WireErrorKind::InvalidFieldNumber(0))
        );
        let huge_len = [
            0x12, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x01,
        ];
        assert_eq!(bad(&huge_len), Some(WireErrorKind::Truncated));
        // An error ends the iteration.
        assert_eq!(Fields::new(&[0x0b, 0x08, 0x01]).count(), 1);
        // A non-minimal tag is read but flagged.
        let f = Fields::new(&[0x88, 0x00, 0x01]).next().unwrap().unwrap();
        assert_eq!((f.number, f.minimal_tag), (1, false));
    }
}
