//! Where a rendered object goes: a stream of JSON events written straight into bytes.
//!
//! The typed renderer ([`crate::render`]) walks the protobuf wire once and says what it finds
//! as events (`begin_object`, `key`, `string`, ...) in the order the output needs them; a
//! [`Sink`] turns them into one output format without building a tree. Three formats need to
//! be byte for byte what another program writes: [`GoJson`] (kubectl's `json.MarshalIndent`
//! with four spaces and Go's HTML-safe escaping), [`Compact`] (serde_json's compact form,
//! which `get --decode -w json` and `-o jsonl` have always printed) and
//! [`crate::yaml::Yaml`] (kubectl's YAML). [`emit_value`] replays a `serde_json::Value`
//! through a sink, so the tree path (custom resources, the rare object the fast path
//! declines) and the fast path share one writer per format.

use serde_json::{Number, Value};

use crate::gojson::append_string;

/// A receiver of JSON events. Keys of an object come in the order they are to be written
/// (the caller sorts); every value after a key or inside an array is one call (a scalar) or
/// a `begin_*` ... `end_*` pair.
pub trait Sink {
    /// Whether object keys go in go-yaml's order ([`crate::yaml::go_yaml_key_order`], which
    /// kubectl's YAML follows) rather than bytewise (Go's JSON order).
    fn go_yaml_key_order(&self) -> bool {
        false
    }
    /// `{`.
    fn begin_object(&mut self);
    /// The key of the next member.
    fn key(&mut self, k: &str);
    /// `}`.
    fn end_object(&mut self);
    /// `[`.
    fn begin_array(&mut self);
    /// `]`.
    fn end_array(&mut self);
    /// `null`.
    fn null(&mut self);
    /// `true` / `false`.
    fn bool(&mut self, b: bool);
    /// A signed integer.
    fn i64(&mut self, v: i64);
    /// An unsigned integer.
    fn u64(&mut self, v: u64);
    /// A number as serde_json displays it (floats).
    fn number(&mut self, n: &Number);
    /// A string.
    fn string(&mut self, s: &str);
}

/// Replays a JSON value as events (object members in the map's order, which for
/// serde_json's default `Map` is sorted bytewise, as Go sorts map keys).
pub fn emit_value<S: Sink + ?Sized>(s: &mut S, v: &Value) {
    match v {
        Value::Null => s.null(),
        Value::Bool(b) => s.bool(*b),
        Value::Number(n) => {
            if let Some(i) = n.as_i64() {
                s.i64(i)
            } else if let Some(u) = n.as_u64() {
                s.u64(u)
            } else {
                s.number(n)
            }
        }
        Value::String(x) => s.string(x),
        Value::Array(items) => {
            s.begin_array();
            for i in items {
                emit_value(s, i);
            }
            s.end_array();
        }
        Value::Object(m) => {
            s.begin_object();
            if s.go_yaml_key_order() {
                let mut entries: Vec<(&String, &Value)> = m.iter().collect();
                entries.sort_by(|a, b| crate::yaml::go_yaml_key_order(a.0, b.0));
                for (k, v) in entries {
                    s.key(k);
                    emit_value(s, v);
                }
            } else {
                for (k, v) in m {
                    s.key(k);
                    emit_value(s, v);
                }
            }
            s.end_object();
        }
    }
}

fn push_i64(buf: &mut Vec<u8>, v: i64) {
    buf.extend_from_slice(itoa::Buffer::new().format(v).as_bytes());
}

fn push_u64(buf: &mut Vec<u8>, v: u64) {
    buf.extend_from_slice(itoa::Buffer::new().format(v).as_bytes());
}

/// kubectl's JSON: `json.MarshalIndent(v, "", "    ")` (see [`crate::gojson`]), starting at
/// `base` levels of indent, without a trailing newline.
#[derive(Debug)]
pub struct GoJson<'b> {
    buf: &'b mut Vec<u8>,
    base: usize,
    /// Per open container: members written so far, and whether it is an array.
    stack: Vec<(usize, bool)>,
}

impl<'b> GoJson<'b> {
    /// Writes into `buf` at `base` levels of indent.
    pub fn new(buf: &'b mut Vec<u8>, base: usize) -> Self {
        Self {
            buf,
            base,
            stack: Vec::with_capacity(32),
        }
    }

    fn newline(&mut self, levels: usize) {
        const SPACES: &[u8] = &[b' '; 128];
        self.buf.push(b'\n');
        let mut n = levels * 4;
        while n > 0 {
            let k = n.min(SPACES.len());
            self.buf.extend_from_slice(&SPACES[..k]);
            n -= k;
        }
    }

    /// Before a value: in an array, the separator and the item's line.
    #[inline]
    fn item(&mut self) {
        let depth = self.base + self.stack.len();
        if let Some((count, true)) = self.stack.last_mut() {
            let first = *count == 0;
            *count += 1;
            if !first {
                self.buf.push(b',');
            }
            self.newline(depth);
        }
    }

    fn close(&mut self, c: u8) {
        let (count, _) = self.stack.pop().unwrap_or((0, false));
        if count > 0 {
            self.newline(self.base + self.stack.len());
        }
        self.buf.push(c);
    }
}

impl Sink for GoJson<'_> {
    fn begin_object(&mut self) {
        self.item();
        self.buf.push(b'{');
        self.stack.push((0, false));
    }
    fn key(&mut self, k: &str) {
        let depth = self.base + self.stack.len();
        if let Some((count, _)) = self.stack.last_mut() {
            let first = *count == 0;
            *count += 1;
            if !first {
                self.buf.push(b',');
            }
        }
        self.newline(depth);
        append_string(self.buf, k);
        self.buf.extend_from_slice(b": ");
    }
    fn end_object(&mut self) {
        self.close(b'}');
    }
    fn begin_array(&mut self) {
        self.item();
        self.buf.push(b'[');
        self.stack.push((0, true));
    }
    fn end_array(&mut self) {
        self.close(b']');
    }
    fn null(&mut self) {
        self.item();
        self.buf.extend_from_slice(b"null");
    }
    fn bool(&mut self, b: bool) {
        self.item();
        self.buf
            .extend_from_slice(if b { b"true" } else { b"false" });
    }
    fn i64(&mut self, v: i64) {
        self.item();
        push_i64(self.buf, v);
    }
    fn u64(&mut self, v: u64) {
        self.item();
        push_u64(self.buf, v);
    }
    fn number(&mut self, n: &Number) {
        self.item();
        self.buf.extend_from_slice(n.to_string().as_bytes());
    }
    fn string(&mut self, s: &str) {
        self.item();
        append_string(self.buf, s);
    }
}

/// serde_json's compact form (`serde_json::to_writer`): no spaces, serde_json's escaping
/// (control characters only; `<`, `&` and U+2028 as they are).
#[derive(Debug)]
pub struct Compact<'b> {
    buf: &'b mut Vec<u8>,
    /// Per open container: members written so far.
    stack: Vec<usize>,
    after_key: bool,
}

impl<'b> Compact<'b> {
    /// Writes into `buf`.
    pub fn new(buf: &'b mut Vec<u8>) -> Self {
        Self {
            buf,
            stack: Vec::with_capacity(32),
            after_key: false,
        }
    }

    #[inline]
    fn item(&mut self) {
        if self.after_key {
            self.after_key = false;
            return;
        }
        if let Some(count) = self.stack.last_mut() {
            if *count > 0 {
                self.buf.push(b',');
            }
            *count += 1;
        }
    }
}

/// A string as serde_json escapes it.
pub fn append_serde_string(buf: &mut Vec<u8>, s: &str) {
    const HEX: &[u8; 16] = b"0123456789abcdef";
    let bytes = s.as_bytes();
    buf.push(b'"');
    let mut start = 0;
    for (i, &b) in bytes.iter().enumerate() {
        let esc: &[u8] = match b {
            b'"' => b"\\\"",
            b'\\' => b"\\\\",
            b'\n' => b"\\n",
            b'\r' => b"\\r",
            b'\t' => b"\\t",
            0x08 => b"\\b",
            0x0c => b"\\f",
            0..0x20 => &[],
            _ => continue,
        };
        buf.extend_from_slice(&bytes[start..i]);
        if esc.is_empty() {
            buf.extend_from_slice(b"\\u00");
            buf.push(HEX[usize::from(b >> 4)]);
            buf.push(HEX[usize::from(b & 0xf)]);
        } else {
            buf.extend_from_slice(esc);
        }
        start = i + 1;
    }
    buf.extend_from_slice(&bytes[start..]);
    buf.push(b'"');
}

impl Sink for Compact<'_> {
    fn begin_object(&mut self) {
        self.item();
        self.buf.push(b'{');
        self.stack.push(0);
    }
    fn key(&mut self, k: &str) {
        if let Some(count) = self.stack.last_mut() {
            if *count > 0 {
                self.buf.push(b',');
            }
            *count += 1;
        }
        append_serde_string(self.buf, k);
        self.buf.push(b':');
        self.after_key = true;
    }
    fn end_object(&mut self) {
        self.stack.pop();
        self.buf.push(b'}');
    }
    fn begin_array(&mut self) {
        self.item();
        self.buf.push(b'[');
        self.stack.push(0);
    }
    fn end_array(&mut self) {
        self.stack.pop();
        self.buf.push(b']');
    }
    fn null(&mut self) {
        self.item();
        self.buf.extend_from_slice(b"null");
    }
    fn bool(&mut self, b: bool) {
        self.item();
        self.buf
            .extend_from_slice(if b { b"true" } else { b"false" });
    }
    fn i64(&mut self, v: i64) {
        self.item();
        push_i64(self.buf, v);
    }
    fn u64(&mut self, v: u64) {
        self.item();
        push_u64(self.buf, v);
    }
    fn number(&mut self, n: &Number) {
        self.item();
        self.buf.extend_from_slice(n.to_string().as_bytes());
    }
    fn string(&mut self, s: &str) {
        self.item();
        append_serde_string(self.buf, s);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn sinks_write_what_the_tree_writers_write() {
        let v = json!({"b": [], "a": {"x": "<b>&c\u{2028} \u{8}\u{1}\u{1f}é\"\\", "e": {}},
            "n": [1, null, true, -3, 18446744073709551615u64, 1.5, [[]], [{}], {"z": [1]}]});
        for base in [0, 2] {
            let mut want = Vec::new();
            crate::gojson::append_indented(&mut want, &v, base);
            let mut got = Vec::new();
            emit_value(&mut GoJson::new(&mut got, base), &v);
            assert_eq!(
                String::from_utf8(got).unwrap(),
                String::from_utf8(want).unwrap()
            );
        }
        let mut got = Vec::new();
        emit_value(&mut Compact::new(&mut got), &v);
        assert_eq!(String::from_utf8(got).unwrap(), v.to_string());
        for s in ["", "plain", "\u{0}\u{7f}\u{2028}<>&", "tab\there"] {
            let mut got = Vec::new();
            emit_value(&mut Compact::new(&mut got), &json!(s));
            assert_eq!(String::from_utf8(got).unwrap(), json!(s).to_string());
        }
    }
}
