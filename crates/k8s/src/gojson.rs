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
    match v {
        Value::Null => out.write_all(b"null"),
        Value::Bool(b) => out.write_all(if *b { b"true" } else { b"false" }),
        Value::Number(n) => out.write_all(n.to_string().as_bytes()),
        Value::String(s) => write_string(out, s),
        Value::Array(items) => {
            if items.is_empty() {
                return out.write_all(b"[]");
            }
            out.write_all(b"[")?;
            for (i, item) in items.iter().enumerate() {
                if i > 0 {
                    out.write_all(b",")?;
                }
                newline(out, indent + 1)?;
                write_indented(out, item, indent + 1)?;
            }
            newline(out, indent)?;
            out.write_all(b"]")
        }
        Value::Object(map) => {
            if map.is_empty() {
                return out.write_all(b"{}");
            }
            out.write_all(b"{")?;
            // serde_json's Map is a BTreeMap: bytewise key order, as Go sorts map keys.
            for (i, (k, item)) in map.iter().enumerate() {
                if i > 0 {
                    out.write_all(b",")?;
                }
                newline(out, indent + 1)?;
                write_string(out, k)?;
                out.write_all(b": ")?;
                write_indented(out, item, indent + 1)?;
            }
            newline(out, indent)?;
            out.write_all(b"}")
        }
    }
}

fn newline(out: &mut dyn Write, indent: usize) -> io::Result<()> {
    out.write_all(b"\n")?;
    for _ in 0..indent {
        out.write_all(b"    ")?;
    }
    Ok(())
}

/// A JSON string with Go's `encoding/json` escaping (HTML-safe).
pub fn write_string(out: &mut dyn Write, s: &str) -> io::Result<()> {
    let mut buf = Vec::with_capacity(s.len() + 2);
    buf.push(b'"');
    for c in s.chars() {
        match c {
            '"' => buf.extend_from_slice(b"\\\""),
            '\\' => buf.extend_from_slice(b"\\\\"),
            '\n' => buf.extend_from_slice(b"\\n"),
            '\r' => buf.extend_from_slice(b"\\r"),
            '\t' => buf.extend_from_slice(b"\\t"),
            '\u{8}' => buf.extend_from_slice(b"\\b"),
            '\u{c}' => buf.extend_from_slice(b"\\f"),
            '<' | '>' | '&' | '\u{2028}' | '\u{2029}' => {
                buf.extend_from_slice(format!("\\u{:04x}", c as u32).as_bytes())
            }
            c if (c as u32) < 0x20 => {
                buf.extend_from_slice(format!("\\u{:04x}", c as u32).as_bytes())
            }
            c => {
                let mut tmp = [0u8; 4];
                buf.extend_from_slice(c.encode_utf8(&mut tmp).as_bytes());
            }
        }
    }
    buf.push(b'"');
    out.write_all(&buf)
}

/// The whole document as kubectl prints it: indented, then a newline.
pub fn to_kubectl_json(v: &Value) -> Vec<u8> {
    let mut out = Vec::new();
    // Writing to a Vec cannot fail.
    let _ = write_indented(&mut out, v, 0);
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
