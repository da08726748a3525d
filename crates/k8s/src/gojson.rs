//! JSON written the way kubectl writes it (`kubectl get -o json`).
//!
//! kubectl prints with Go's `json.MarshalIndent(obj, "", "    ")` over a map: keys sorted
//! bytewise, four-space indent, `": "` between key and value, empty objects and arrays as
//! `{}` and `[]`, and Go's string escaping: `<`, `>`, `&`, U+2028 and U+2029 as `\u003c`...,
//! `\b \f \n \r \t` short, other control characters as `\u00XX`. serde_json escapes
//! differently and indents by two, so this small writer exists to make the bytes match.

use std::io::{self, Write};

use serde_json::Value;

/// Writes `v` as `json.MarshalIndent(v, prefix, "    ")` does, starting at `indent` levels,
/// without a trailing newline.
pub fn write_indented(out: &mut dyn Write, v: &Value, indent: usize) -> io::Result<()> {
    let mut buf = Vec::with_capacity(4096);
    append_indented(&mut buf, v, indent);
    out.write_all(&buf)
}

/// [`write_indented`] into a byte buffer (what the writers use: one `write_all` per object).
pub fn append_indented(buf: &mut Vec<u8>, v: &Value, indent: usize) {
    match v {
        Value::Null => buf.extend_from_slice(b"null"),
        Value::Bool(b) => buf.extend_from_slice(if *b { b"true" } else { b"false" }),
        Value::Number(n) => {
            use std::io::Write as _;
            // Writing to a Vec cannot fail.
            let _ = write!(buf, "{n}");
        }
        Value::String(s) => append_string(buf, s),
        Value::Array(items) => {
            if items.is_empty() {
                return buf.extend_from_slice(b"[]");
            }
            buf.push(b'[');
            for (i, item) in items.iter().enumerate() {
                if i > 0 {
                    buf.push(b',');
                }
                newline(buf, indent + 1);
                append_indented(buf, item, indent + 1);
            }
            newline(buf, indent);
            buf.push(b']');
        }
        Value::Object(map) => {
            if map.is_empty() {
                return buf.extend_from_slice(b"{}");
            }
            buf.push(b'{');
            // serde_json's Map is a BTreeMap: bytewise key order, as Go sorts map keys.
            for (i, (k, item)) in map.iter().enumerate() {
                if i > 0 {
                    buf.push(b',');
                }
                newline(buf, indent + 1);
                append_string(buf, k);
                buf.extend_from_slice(b": ");
                append_indented(buf, item, indent + 1);
            }
            newline(buf, indent);
            buf.push(b'}');
        }
    }
}

fn newline(buf: &mut Vec<u8>, indent: usize) {
    const SPACES: &[u8] = &[b' '; 64];
    buf.push(b'\n');
    let mut n = indent * 4;
    while n > 0 {
        let k = n.min(SPACES.len());
        buf.extend_from_slice(&SPACES[..k]);
        n -= k;
    }
}

/// A JSON string with Go's `encoding/json` escaping (HTML-safe).
pub fn write_string(out: &mut dyn Write, s: &str) -> io::Result<()> {
    let mut buf = Vec::with_capacity(s.len() + 2);
    append_string(&mut buf, s);
    out.write_all(&buf)
}

/// Bytes that end a run of plain bytes in [`append_string`]: `"`, `\\`, control characters,
/// `<`, `>`, `&`, and 0xE2 (the first byte of U+2028 and U+2029).
const STOP: [bool; 256] = {
    let mut t = [false; 256];
    let mut i = 0;
    while i < 0x20 {
        t[i] = true;
        i += 1;
    }
    t[b'"' as usize] = true;
    t[b'\\' as usize] = true;
    t[b'<' as usize] = true;
    t[b'>' as usize] = true;
    t[b'&' as usize] = true;
    t[0xe2] = true;
    t
};

/// [`write_string`] into a byte buffer: runs of bytes that need no escape are copied whole.
pub fn append_string(buf: &mut Vec<u8>, s: &str) {
    const HEX: &[u8; 16] = b"0123456789abcdef";
    let bytes = s.as_bytes();
    buf.reserve(bytes.len() + 2);
    buf.push(b'"');
    let mut start = 0;
    let mut i = 0;
    while i < bytes.len() {
        let b = bytes[i];
        if !STOP[usize::from(b)] {
            i += 1;
            continue;
        }
        let esc: &[u8] = match b {
            b'"' => b"\\\"",
            b'\\' => b"\\\\",
            b'\n' => b"\\n",
            b'\r' => b"\\r",
            b'\t' => b"\\t",
            0x08 => b"\\b",
            0x0c => b"\\f",
            b'<' => b"\\u003c",
            b'>' => b"\\u003e",
            b'&' => b"\\u0026",
            0xe2 => {
                // U+2028, U+2029; any other character starting with 0xE2 is plain.
                if bytes.get(i + 1) == Some(&0x80) && matches!(bytes.get(i + 2), Some(0xa8 | 0xa9))
                {
                    buf.extend_from_slice(&bytes[start..i]);
                    buf.extend_from_slice(if bytes[i + 2] == 0xa8 {
                        b"\\u2028"
                    } else {
                        b"\\u2029"
                    });
                    i += 3;
                    start = i;
                } else {
                    i += 1;
                }
                continue;
            }
            _ => &[],
        };
        buf.extend_from_slice(&bytes[start..i]);
        if esc.is_empty() {
            buf.extend_from_slice(b"\\u00");
            buf.push(HEX[usize::from(b >> 4)]);
            buf.push(HEX[usize::from(b & 0xf)]);
        } else {
            buf.extend_from_slice(esc);
        }
        i += 1;
        start = i;
    }
    buf.extend_from_slice(&bytes[start..]);
    buf.push(b'"');
}

/// The whole document as kubectl prints it: indented, then a newline.
pub fn to_kubectl_json(v: &Value) -> Vec<u8> {
    let mut out = Vec::with_capacity(4096);
    append_indented(&mut out, v, 0);
    out.push(b'\n');
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn go_escaping_and_layout() {
        let v = json!({"b": [], "a": {"x": "<b>&c\u{2028} \u{8}\u{1}é", "e": {}}, "n": [1, null, true]});
        let s = String::from_utf8(to_kubectl_json(&v)).unwrap();
        assert_eq!(
            s,
            "{\n    \"a\": {\n        \"e\": {},\n        \"x\": \"\\u003cb\\u003e\\u0026c\\u2028 \\b\\u0001é\"\n    },\n    \"b\": [],\n    \"n\": [\n        1,\n        null,\n        true\n    ]\n}\n"
        );
    }
}
