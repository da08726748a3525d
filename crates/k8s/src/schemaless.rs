//! Protobuf to JSON without a schema.
//!
//! We do not ship Kubernetes' hundreds of message definitions, yet an operator reading a
//! snapshot wants to see what a Pod's spec or a Service's ports hold. The wire format carries
//! enough to show that: field numbers, integers, and length-delimited payloads whose meaning
//! (nested message, text, or raw bytes) is inferred here.
//!
//! Output shape:
//! - a message is a JSON object keyed by field number (`"1"`, `"2"`, …); a field seen more than
//!   once becomes an array of its values in wire order;
//! - wire type 0 (varint) is a number: as i64 when it fits, as u64 otherwise (the value as
//!   written; negative int64s therefore show as large u64s);
//! - wire types 1 and 5 are numbers (the u64 / u32 as written);
//! - a length-delimited payload is a nested message when it parses completely and plausibly
//!   (minimal tags, field numbers up to 1000, wire types 0/1/2/5, lengths that end exactly,
//!   not only fixed-width fields) and is not better explained as text (printable text is a
//!   message only when it starts with field 1 and has only length-delimited fields); else a
//!   string when it is printable UTF-8 text; else `{"bytes_b64": "<standard base64>"}`.
//!   Message objects only ever have numeric keys, so the `bytes_b64` object cannot be
//!   mistaken for one. An empty payload is `""`. Keys sort as strings (`"10"` before `"2"`),
//!   as serde_json's map does.
//!
//! Bounds: nesting is followed to [`MAX_DEPTH`] levels; deeper payloads are shown as text or
//! bytes. Each payload is classified exactly once, so the work is O(len × MAX_DEPTH) and the
//! output O(len), whatever the input.

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;
use serde_json::{Map, Value};

use crate::wire::{Fields, WireError, WireValue};

/// How deep nested messages are followed before payloads are shown as text or bytes.
pub const MAX_DEPTH: usize = 64;

/// Kubernetes' messages use field numbers below 100 (etcd's too); a payload with a field above
/// this is taken not to be a message. It leaves room for other schemas while rejecting about
/// half of the two-byte tags that random bytes produce.
const MAX_PLAUSIBLE_FIELD: u32 = 1000;

/// The JSON key under which undecodable bytes are shown, base64-encoded.
pub const BYTES_KEY: &str = "bytes_b64";

/// Decodes a whole protobuf message, schema-less, into JSON (see the module docs for the shape).
///
/// The top level must be a well-formed message; below it every payload is guessed.
pub fn decode_protobuf(bytes: &[u8]) -> Result<Value, WireError> {
    let mut map = Map::new();
    for field in Fields::new(bytes) {
        let field = field?;
        insert_field(&mut map, field.number, render(field.value, 1));
    }
    Ok(Value::Object(map))
}

/// Adds a field to a message object, turning repeated fields into arrays.
pub(crate) fn insert_field(map: &mut Map<String, Value>, number: u32, value: Value) {
    use serde_json::map::Entry;
    match map.entry(number.to_string()) {
        Entry::Vacant(e) => {
            e.insert(value);
        }
        Entry::Occupied(mut e) => match e.get_mut() {
            // Only repetition ever creates an array, so an array here is ours to extend.
            Value::Array(items) => items.push(value),
            other => {
                let first = other.take();
                *other = Value::Array(vec![first, value]);
            }
        },
    }
}

/// Renders one wire value found at nesting level `depth`.
pub(crate) fn render(value: WireValue<'_>, depth: usize) -> Value {
    match value {
        WireValue::Varint(v) => match i64::try_from(v) {
            Ok(i) => Value::from(i),
            Err(_) => Value::from(v),
        },
        WireValue::Fixed64(v) => Value::from(v),
        WireValue::Fixed32(v) => Value::from(v),
        WireValue::Bytes(b) => render_payload(b, depth),
    }
}

/// Renders a length-delimited payload: nested message, text, or bytes.
pub(crate) fn render_payload(bytes: &[u8], depth: usize) -> Value {
    if bytes.is_empty() {
        return Value::String(String::new());
    }
    let text = printable_text(bytes);
    if depth < MAX_DEPTH
        && let Some((message, only_len_delimited)) = looks_like_message(bytes, depth + 1)
    {
        // Printable text that also happens to parse (e.g. "0s" reads as field 6 = 115) is
        // text, unless it starts with field 1 and is made only of length-delimited fields, as
        // a message of strings whose lengths happen to be printable is ("\n\r10.244.0.0/24":
        // a NodeSpec's podCIDR; "\n\rRollingUpdate": a Deployment's strategy).
        if text.is_none() || (only_len_delimited && bytes.first() == Some(&0x0a)) {
            return message;
        }
    }
    match text {
        Some(s) => Value::String(s.to_owned()),
        None => bytes_value(bytes),
    }
}

/// [`render_payload`] written into a sink: the same decisions, without building the value of
/// an opaque payload (`{"bytes_b64": ...}`, the usual case of a damaged message).
pub(crate) fn emit_payload<S: crate::sink::Sink + ?Sized>(s: &mut S, bytes: &[u8], depth: usize) {
    if bytes.is_empty() {
        return s.string("");
    }
    let text = printable_text(bytes);
    if depth < MAX_DEPTH
        && let Some((message, only_len_delimited)) = looks_like_message(bytes, depth + 1)
        && (text.is_none() || (only_len_delimited && bytes.first() == Some(&0x0a)))
    {
        return crate::sink::emit_value(s, &message);
    }
    match text {
        Some(t) => s.string(t),
        None => {
            s.begin_object();
            s.key(BYTES_KEY);
            s.string(&STANDARD.encode(bytes));
            s.end_object();
        }
    }
}

/// `{"bytes_b64": "..."}`.
pub(crate) fn bytes_value(bytes: &[u8]) -> Value {
    let mut map = Map::new();
    map.insert(BYTES_KEY.to_owned(), Value::String(STANDARD.encode(bytes)));
    Value::Object(map)
}

/// Printable text: valid UTF-8 with no control characters other than tab, newline and
/// carriage return.
pub fn printable_text(bytes: &[u8]) -> Option<&str> {
    let s = std::str::from_utf8(bytes).ok()?;
    let printable = s
        .chars()
        .all(|c| !c.is_control() || matches!(c, '\t' | '\n' | '\r'));
    printable.then_some(s)
}

/// Parses `bytes` as a nested message if it is plausibly one: every tag well-formed and
/// minimally encoded, field numbers up to [`MAX_PLAUSIBLE_FIELD`], wire types 0/1/2/5 only,
/// every length inside the payload and the last field ending exactly at its end, and not made
/// only of fixed-width fields: a tag followed by 4 or 8 bytes of anything is no evidence (the
/// PNG signature plus two bytes reads as field 1281 = fixed64).
///
/// Returns the rendered message and whether all its fields are length-delimited.
fn looks_like_message(bytes: &[u8], depth: usize) -> Option<(Value, bool)> {
    let mut map = Map::new();
    let mut only_len_delimited = true;
    let mut only_fixed = true;
    for field in Fields::new(bytes) {
        let field = field.ok()?;
        if !field.minimal_tag || field.number > MAX_PLAUSIBLE_FIELD {
            return None;
        }
        only_len_delimited &= matches!(field.value, WireValue::Bytes(_));
        only_fixed &= matches!(field.value, WireValue::Fixed32(_) | WireValue::Fixed64(_));
        insert_field(&mut map, field.number, render(field.value, depth));
    }
    (!only_fixed).then_some((Value::Object(map), only_len_delimited))
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn shapes() {
        // 1: 150, 2: "hi", 2: "there", 3: {1: 1}, 4: bytes ff 00, 5: fixed32 7, 6: fixed64 8
        let msg = [
            0x08, 0x96, 0x01, 0x12, 0x02, b'h', b'i', 0x12, 0x05, b't', b'h', b'e', b'r', b'e',
            0x1a, 0x02, 0x08, 0x01, 0x22, 0x02, 0xff, 0x00, 0x2d, 7, 0, 0, 0, 0x31, 8, 0, 0, 0, 0,
            0, 0, 0,
        ];
        assert_eq!(
            decode_protobuf(&msg).unwrap(),
            json!({"1": 150, "2": ["hi", "there"], "3": {"1": 1}, "4": {"bytes_b64": "/wA="}, "5": 7, "6": 8})
        );
        let big = [
            0x08, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x01,
        ];
        assert_eq!(decode_protobuf(&big).unwrap(), json!({"1": u64::MAX}));
        assert_eq!(decode_protobuf(&[0x12, 0x00]).unwrap(), json!({"2": ""}));
        assert!(decode_protobuf(&[0x12, 0x05]).is_err());
    }

    #[test]
    fn text_or_message() {
        // Text that parses as a message with a varint stays text.
        for s in [
            "0s",
            "8m",
            "(x",
            "Hi",
            "api",
            "TCP",
            "Running",
            "10.96.190.72",
            "{\"f:data\":{}}",
        ] {
            assert_eq!(render_payload(s.as_bytes(), 1), json!(s), "{s}");
        }
        // A message of strings with printable tags and lengths is a message...
        assert_eq!(
            render_payload(b"\n\r10.244.0.0/24", 1),
            json!({"1": "10.244.0.0/24"})
        );
        // ...when it starts with field 1; text that chains by chance stays text.
        let chained = format!("BA{}", "y".repeat(65)); // field 8, 65 bytes
        assert_eq!(render_payload(chained.as_bytes(), 1), json!(chained));
        // Non-printable bytes that parse are a message; ones that don't are bytes.
        assert_eq!(render_payload(&[0x08, 0x01], 1), json!({"1": 1}));
        assert_eq!(render_payload(&[0x08], 1), json!({"bytes_b64": "CA=="}));
        // Fixed-width-only payloads, large field numbers and non-minimal tags are not a message.
        let png = [0x89, b'P', b'N', b'G', 0x0d, 0x0a, 0x1a, 0x0a, 0x00, 0xff];
        assert_eq!(
            render_payload(&png, 1),
            json!({"bytes_b64": "iVBORw0KGgoA/w=="})
        );
        assert_eq!(
            render_payload(&[0x0d, 1, 2, 3, 4, 0x08, 0x01], 1),
            json!({"1": [0x0403_0201, 1]})
        );
        assert_eq!(
            render_payload(&[0x80, 0xe2, 0x09, 0x01], 1),
            json!({"bytes_b64": "gOIJAQ=="})
        );
        assert_eq!(
            render_payload(&[0x88, 0x00, 0x01], 1),
            json!({"bytes_b64": "iAAB"})
        );
        assert_eq!(render_payload("κλειδί".as_bytes(), 1), json!("κλειδί"));
    }

    #[test]
    fn depth_is_bounded() {
        // 200 levels of {1: {1: ...}} around a varint: rendered to MAX_DEPTH, then bytes.
        let mut msg = vec![0x08, 0x01];
        for _ in 0..200 {
            let mut outer = vec![0x0a];
            let mut len = msg.len();
            while len >= 0x80 {
                outer.push((len as u8) | 0x80);
                len >>= 7;
            }
            outer.push(len as u8);
            outer.extend_from_slice(&msg);
            msg = outer;
        }
        let v = decode_protobuf(&msg).unwrap();
        let mut depth = 0;
        let mut cur = &v;
        while let Some(inner) = cur.get("1") {
            depth += 1;
            cur = inner;
        }
        assert_eq!(depth, MAX_DEPTH);
        assert!(cur.get(BYTES_KEY).is_some());
    }
}
