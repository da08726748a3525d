//! A small protobuf writer, to build objects the way the API server's generated (gogo)
//! marshallers write them: every non-pointer field is written even when empty, fields in
//! ascending number order, map entries sorted by key, `Time` as `{seconds, nanos}` and the
//! zero `Time` as an empty message.

use std::fs;

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;

/// A message being written.
#[derive(Default, Clone)]
pub struct Msg(pub Vec<u8>);

fn put_varint(out: &mut Vec<u8>, mut v: u64) {
    while v >= 0x80 {
        out.push((v as u8) | 0x80);
        v >>= 7;
    }
    out.push(v as u8);
}

impl Msg {
    pub fn new() -> Self {
        Self::default()
    }

    fn tag(mut self, field: u32, wire: u8) -> Self {
        put_varint(&mut self.0, (u64::from(field) << 3) | u64::from(wire));
        self
    }

    pub fn varint(self, field: u32, v: u64) -> Self {
        let mut m = self.tag(field, 0);
        put_varint(&mut m.0, v);
        m
    }

    pub fn int(self, field: u32, v: i64) -> Self {
        self.varint(field, v as u64)
    }

    pub fn bool(self, field: u32, v: bool) -> Self {
        self.varint(field, u64::from(v))
    }

    pub fn bytes(self, field: u32, b: &[u8]) -> Self {
        let mut m = self.tag(field, 2);
        put_varint(&mut m.0, b.len() as u64);
        m.0.extend_from_slice(b);
        m
    }

    pub fn str(self, field: u32, s: &str) -> Self {
        self.bytes(field, s.as_bytes())
    }

    pub fn msg(self, field: u32, m: Msg) -> Self {
        self.bytes(field, &m.0)
    }

    /// `map<string,string>` / `map<string,bytes>` entries, sorted by key as Go writes them.
    pub fn map(mut self, field: u32, entries: &[(&str, &[u8])]) -> Self {
        let mut sorted = entries.to_vec();
        sorted.sort();
        for (k, v) in sorted {
            self = self.msg(field, Msg::new().str(1, k).bytes(2, v));
        }
        self
    }

    pub fn strs(self, field: u32, entries: &[(&str, &str)]) -> Self {
        let e: Vec<(&str, &[u8])> = entries.iter().map(|(k, v)| (*k, v.as_bytes())).collect();
        self.map(field, &e)
    }
}

/// `meta/v1.Time` as Kubernetes marshals it: `Timestamp{seconds, nanos: 0}`, or empty for the
/// zero time.
pub fn time(seconds: Option<i64>) -> Msg {
    match seconds {
        Some(s) => Msg::new().int(1, s).int(2, 0),
        None => Msg::new(),
    }
}

/// `k8s\0` + runtime.Unknown{typeMeta{apiVersion, kind}, raw, contentEncoding, contentType}.
pub fn envelope(api_version: &str, kind: &str, raw: Msg, content_type: &str) -> Vec<u8> {
    let unknown = Msg::new()
        .msg(1, Msg::new().str(1, api_version).str(2, kind))
        .msg(2, raw)
        .str(3, "")
        .str(4, content_type);
    let mut out = b"k8s\0".to_vec();
    out.extend_from_slice(&unknown.0);
    out
}

/// One key/value of an `etcdctl get -w json` listing.
pub struct Kv {
    pub key: Vec<u8>,
    pub value: Vec<u8>,
}

/// Reads `tests/data/<name>`, an `etcdctl get -w json` listing (keys and values base64).
pub fn listing(name: &str) -> Vec<Kv> {
    let doc: serde_json::Value = serde_json::from_str(&data(name)).unwrap();
    let b64 = |v: &serde_json::Value| STANDARD.decode(v.as_str().unwrap_or("")).unwrap();
    doc["kvs"]
        .as_array()
        .unwrap()
        .iter()
        .map(|kv| Kv {
            key: b64(&kv["key"]),
            value: b64(&kv["value"]),
        })
        .collect()
}

/// The text of `tests/data/<name>`.
pub fn data(name: &str) -> String {
    let path = format!("{}/tests/data/{name}", env!("CARGO_MANIFEST_DIR"));
    fs::read_to_string(&path).unwrap_or_else(|e| panic!("{path}: {e}"))
}

/// Every string leaf of a JSON value, and every object key that is not a field number (a
/// Secret's data keys).
pub fn strings(v: &serde_json::Value) -> Vec<&str> {
    let mut out = Vec::new();
    let mut stack = vec![v];
    while let Some(v) = stack.pop() {
        match v {
            serde_json::Value::String(s) => out.push(s.as_str()),
            serde_json::Value::Array(a) => stack.extend(a),
            serde_json::Value::Object(o) => {
                let names = o.keys().filter(|k| k.parse::<u32>().is_err());
                out.extend(names.map(String::as_str));
                stack.extend(o.values())
            }
            _ => {}
        }
    }
    out
}
