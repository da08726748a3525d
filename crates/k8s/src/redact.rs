//! Redaction in place: a stored value with its secrets overwritten by a marker of the same
//! length, so that it still decodes and every size stays what it was.
//!
//! Why same length: a redacted snapshot is sent to someone diagnosing space or performance, so
//! everything `stats` measures (value sizes, page use, history) must stay as it was; and a
//! replacement of the same length changes no protobuf length prefix, so the envelope, the
//! Secret and every enclosing message still decode without being re-encoded.
//!
//! What is overwritten:
//! - a core/v1 Secret (protobuf envelope or JSON): every value of `data` (field 2) and
//!   `stringData` (field 4), and the same members inside the
//!   `kubectl.kubernetes.io/last-applied-configuration` annotation (which holds the whole
//!   manifest). Service-account, bootstrap and TLS tokens are Secrets, so they are covered.
//! - with `drop_encrypted`, the ciphertext of values encrypted at rest (the
//!   `k8s:enc:provider:version:key:` prefix is kept, so they still classify as encrypted).
//!
//! Markers: `REDACTED` repeated (bytes values, JSON strings); in base64 JSON strings the
//! marker uses only base64 letters and keeps the `=` padding, so the string still decodes.

use crate::ValueKind;
use crate::classify::{ENCRYPTED_PREFIX, PROTOBUF_MAGIC, classify};
use crate::meta::LAST_APPLIED_ANNOTATION;
use crate::secret::{DATA_FIELD, STRING_DATA_FIELD, is_secret};
use crate::wire::{Fields, WireValue};

const MARKER: &[u8] = b"REDACTED";
/// runtime.Unknown `raw`.
const UNKNOWN_RAW: u32 = 2;
/// Secret `metadata`.
const SECRET_METADATA: u32 = 1;
/// ObjectMeta `annotations`.
const META_ANNOTATIONS: u32 = 12;
/// Deepest JSON nesting walked.
const MAX_JSON_DEPTH: usize = 256;

/// What was overwritten in one value.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Redaction {
    /// Secret `data`/`stringData` values overwritten.
    pub secret_values: usize,
    /// The value was encrypted at rest and its ciphertext was overwritten.
    pub ciphertext: bool,
}

impl Redaction {
    /// True when nothing was overwritten.
    pub fn is_empty(&self) -> bool {
        self.secret_values == 0 && !self.ciphertext
    }
}

/// Fills `span` with the marker.
pub fn mark(span: &mut [u8]) {
    for (i, b) in span.iter_mut().enumerate() {
        *b = MARKER[i % MARKER.len()];
    }
}

/// Fills a base64 string's characters with base64 letters, keeping trailing `=` padding.
fn mark_base64(span: &mut [u8]) {
    let pad = span.iter().rev().take_while(|&&c| c == b'=').count();
    let n = span.len() - pad;
    mark(&mut span[..n]);
}

fn offset_in(base: &[u8], part: &[u8]) -> usize {
    part.as_ptr() as usize - base.as_ptr() as usize
}

/// Redacts `value` (a stored Kubernetes value) in place. Values other than Secrets (and, with
/// `drop_encrypted`, encrypted values) are left as they are.
pub fn redact_value(value: &mut [u8], drop_encrypted: bool) -> Redaction {
    let mut r = Redaction::default();
    let what = match classify(value) {
        ValueKind::Encrypted(_) => 1,
        ValueKind::Protobuf { type_meta, .. }
            if is_secret(&type_meta.api_version, &type_meta.kind) =>
        {
            2
        }
        ValueKind::Json { type_meta } if is_secret(&type_meta.api_version, &type_meta.kind) => 3,
        _ => 0,
    };
    match what {
        1 if drop_encrypted => {
            let prefix_len = encryption_prefix_len(value);
            mark(&mut value[prefix_len..]);
            r.ciphertext = true;
        }
        2 => {
            let mut spans = Vec::new();
            protobuf_secret_spans(value, &mut spans);
            for s in spans {
                match s {
                    Span::Bytes(a, b) => {
                        mark(&mut value[a..b]);
                        r.secret_values += 1;
                    }
                    Span::Json(a, b) => r.secret_values += redact_json_secret(&mut value[a..b]),
                }
            }
        }
        3 => {
            r.secret_values += redact_json_secret(value);
        }
        _ => {}
    }
    r
}

fn encryption_prefix_len(value: &[u8]) -> usize {
    // k8s:enc:provider:version:key: -> the offset after the third colon past `k8s:enc:`.
    let mut colons = 0;
    for (i, &c) in value.iter().enumerate().skip(ENCRYPTED_PREFIX.len()) {
        if c == b':' {
            colons += 1;
            if colons == 3 {
                return i + 1;
            }
        }
    }
    value.len()
}

enum Span {
    /// A bytes/string field's payload.
    Bytes(usize, usize),
    /// A JSON manifest (the last-applied annotation) to redact as a JSON Secret.
    Json(usize, usize),
}

/// The spans of a protobuf Secret (in the whole value) to overwrite.
fn protobuf_secret_spans(value: &[u8], out: &mut Vec<Span>) {
    let Some(unknown) = value.strip_prefix(PROTOBUF_MAGIC) else {
        return;
    };
    let raw = Fields::new(unknown).find_map(|f| match f {
        Ok(f) if f.number == UNKNOWN_RAW => match f.value {
            WireValue::Bytes(b) => Some(b),
            _ => None,
        },
        _ => None,
    });
    let Some(raw) = raw else { return };
    for f in Fields::new(raw).map_while(Result::ok) {
        let WireValue::Bytes(b) = f.value else {
            continue;
        };
        match f.number {
            DATA_FIELD | STRING_DATA_FIELD => {
                // A map entry: {1: key, 2: value}.
                for e in Fields::new(b).map_while(Result::ok) {
                    if let (2, WireValue::Bytes(v)) = (e.number, e.value) {
                        let at = offset_in(value, v);
                        out.push(Span::Bytes(at, at + v.len()));
                    }
                }
            }
            SECRET_METADATA => {
                for m in Fields::new(b).map_while(Result::ok) {
                    let (META_ANNOTATIONS, WireValue::Bytes(entry)) = (m.number, m.value) else {
                        continue;
                    };
                    let mut key: Option<&[u8]> = None;
                    let mut val: Option<&[u8]> = None;
                    for e in Fields::new(entry).map_while(Result::ok) {
                        match (e.number, e.value) {
                            (1, WireValue::Bytes(k)) => key = Some(k),
                            (2, WireValue::Bytes(v)) => val = Some(v),
                            _ => {}
                        }
                    }
                    if let (Some(k), Some(v)) = (key, val)
                        && k == LAST_APPLIED_ANNOTATION.as_bytes()
                    {
                        let at = offset_in(value, v);
                        out.push(Span::Json(at, at + v.len()));
                    }
                }
            }
            _ => {}
        }
    }
}

/// Redacts a JSON Secret document in place: the string values of the top-level `data` and
/// `stringData` objects, and the same inside the last-applied annotation (a JSON string
/// holding a manifest, whose escaped bytes are walked as they are). Returns how many values
/// were overwritten. A document that does not parse is left alone.
pub fn redact_json_secret(doc: &mut [u8]) -> usize {
    let mut spans = Vec::new();
    let mut p = Json {
        b: doc,
        i: 0,
        spans: &mut spans,
    };
    if p.top().is_none() {
        return 0;
    }
    let n = spans.len();
    for (a, b, base64) in spans {
        if base64 {
            mark_base64(&mut doc[a..b]);
        } else {
            mark(&mut doc[a..b]);
        }
    }
    n
}

/// A minimal JSON walker that records the raw spans of the secret strings.
struct Json<'a, 'b> {
    b: &'a [u8],
    i: usize,
    spans: &'b mut Vec<(usize, usize, bool)>,
}

impl Json<'_, '_> {
    fn ws(&mut self) {
        while self.i < self.b.len() && matches!(self.b[self.i], b' ' | b'\t' | b'\n' | b'\r') {
            self.i += 1;
        }
    }

    fn peek(&mut self) -> Option<u8> {
        self.ws();
        self.b.get(self.i).copied()
    }

    /// A string token; returns the span of its raw content (between the quotes).
    fn string(&mut self) -> Option<(usize, usize)> {
        if self.peek()? != b'"' {
            return None;
        }
        self.i += 1;
        let start = self.i;
        while self.i < self.b.len() {
            match self.b[self.i] {
                b'"' => {
                    self.i += 1;
                    return Some((start, self.i - 1));
                }
                b'\\' => self.i += 2,
                _ => self.i += 1,
            }
        }
        None
    }

    fn value(&mut self, depth: usize) -> Option<()> {
        if depth > MAX_JSON_DEPTH {
            return None;
        }
        match self.peek()? {
            b'"' => self.string().map(|_| ()),
            b'{' => self.object(depth, |_, _, _| {}),
            b'[' => {
                self.i += 1;
                if self.peek()? == b']' {
                    self.i += 1;
                    return Some(());
                }
                loop {
                    self.value(depth + 1)?;
                    match self.peek()? {
                        b',' => self.i += 1,
                        b']' => {
                            self.i += 1;
                            return Some(());
                        }
                        _ => return None,
                    }
                }
            }
            _ => {
                let start = self.i;
                while self.i < self.b.len()
                    && !matches!(
                        self.b[self.i],
                        b',' | b'}' | b']' | b' ' | b'\n' | b'\r' | b'\t'
                    )
                {
                    self.i += 1;
                }
                (self.i > start).then_some(())
            }
        }
    }

    /// An object; `member` sees each key's raw span and the value's span when it is a string.
    fn object(
        &mut self,
        depth: usize,
        mut member: impl FnMut(&[u8], (usize, usize), &mut Vec<(usize, usize, bool)>),
    ) -> Option<()> {
        if self.peek()? != b'{' {
            return None;
        }
        self.i += 1;
        if self.peek()? == b'}' {
            self.i += 1;
            return Some(());
        }
        loop {
            let (ka, kb) = self.string()?;
            if self.peek()? != b':' {
                return None;
            }
            self.i += 1;
            if self.peek()? == b'"' {
                let s = self.string()?;
                let b = self.b;
                member(&b[ka..kb], s, self.spans);
            } else {
                self.value(depth + 1)?;
            }
            match self.peek()? {
                b',' => self.i += 1,
                b'}' => {
                    self.i += 1;
                    return Some(());
                }
                _ => return None,
            }
        }
    }

    /// The top-level document: `data`/`stringData` objects' string values are recorded,
    /// `metadata.annotations[last-applied]` is walked as an escaped manifest.
    fn top(&mut self) -> Option<()> {
        if self.peek()? != b'{' {
            return None;
        }
        self.i += 1;
        if self.peek()? == b'}' {
            return Some(());
        }
        loop {
            let (ka, kb) = self.string()?;
            let key = self.b[ka..kb].to_vec();
            if self.peek()? != b':' {
                return None;
            }
            self.i += 1;
            let secret = key == b"data" || key == b"stringData";
            if secret && self.peek()? == b'{' {
                let base64 = key == b"data";
                self.object(1, |_, (a, b), spans| spans.push((a, b, base64)))?;
            } else if key == b"metadata" && self.peek()? == b'{' {
                self.metadata()?;
            } else {
                self.value(1)?;
            }
            match self.peek()? {
                b',' => self.i += 1,
                b'}' => return Some(()),
                _ => return None,
            }
        }
    }

    fn metadata(&mut self) -> Option<()> {
        self.i += 1;
        if self.peek()? == b'}' {
            self.i += 1;
            return Some(());
        }
        loop {
            let (ka, kb) = self.string()?;
            let is_ann = &self.b[ka..kb] == b"annotations";
            if self.peek()? != b':' {
                return None;
            }
            self.i += 1;
            if is_ann && self.peek()? == b'{' {
                let b = self.b;
                let mut found = Vec::new();
                self.object(2, |k, s, _| {
                    if k == LAST_APPLIED_ANNOTATION.as_bytes() {
                        found.push(s);
                    }
                })?;
                for (a, e) in found {
                    // The manifest is an escaped JSON string: its keys appear as \"data\".
                    escaped_manifest_spans(&b[a..e], a, self.spans);
                }
            } else {
                self.value(2)?;
            }
            match self.peek()? {
                b',' => self.i += 1,
                b'}' => {
                    self.i += 1;
                    return Some(());
                }
                _ => return None,
            }
        }
    }
}

/// In a manifest stored as an escaped JSON string (`{\"data\":{\"k\":\"v\"}}`), the spans of
/// the values of `data` and `stringData` members (offsets shifted by `base`).
fn escaped_manifest_spans(s: &[u8], base: usize, out: &mut Vec<(usize, usize, bool)>) {
    // Unescape with a position map, walk the plain JSON, map spans back.
    let mut plain = Vec::with_capacity(s.len());
    let mut pos = Vec::with_capacity(s.len() + 1);
    let mut i = 0;
    while i < s.len() {
        if s[i] == b'\\' && i + 1 < s.len() {
            let c = match s[i + 1] {
                b'n' => b'\n',
                b't' => b'\t',
                b'r' => b'\r',
                b'u' => b'?',
                c => c,
            };
            plain.push(c);
            pos.push(i);
            i += if s[i + 1] == b'u' { 6 } else { 2 };
        } else {
            plain.push(s[i]);
            pos.push(i);
            i += 1;
        }
    }
    pos.push(s.len().min(i));
    let mut spans = Vec::new();
    let mut p = Json {
        b: &plain,
        i: 0,
        spans: &mut spans,
    };
    // Only the top-level data/stringData of the manifest; its own annotations are not nested.
    if p.top().is_none() {
        return;
    }
    for (a, b, b64) in spans {
        let (ra, rb) = (pos[a], pos[b]);
        // pos[b] is where the closing quote's escape (\") starts: the span ends before it.
        if ra < rb && rb <= s.len() {
            out.push((base + ra, base + rb, b64));
        }
    }
}

/// Whether a value is an encrypted-at-rest value (for reports).
pub fn is_encrypted(value: &[u8]) -> bool {
    matches!(classify(value), ValueKind::Encrypted(_))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn json_secret_same_length_and_decodes() {
        let doc = br#"{"apiVersion":"v1","kind":"Secret","metadata":{"name":"s","annotations":{"kubectl.kubernetes.io/last-applied-configuration":"{\"apiVersion\":\"v1\",\"data\":{\"password\":\"aHVudGVyMg==\"},\"kind\":\"Secret\"}\n"}},"data":{"password":"aHVudGVyMg==","user":"YWRtaW4="},"stringData":{"x":"pl\"ain"},"type":"Opaque"}"#;
        let mut v = doc.to_vec();
        let r = redact_value(&mut v, false);
        assert_eq!(v.len(), doc.len());
        assert_eq!(r.secret_values, 4, "{}", String::from_utf8_lossy(&v));
        let j: serde_json::Value = serde_json::from_slice(&v).unwrap();
        assert_eq!(j["data"]["password"], "REDACTEDRE==");
        assert_eq!(j["data"]["user"], "REDACTE=");
        assert_eq!(j["type"], "Opaque");
        let s = String::from_utf8_lossy(&v);
        assert!(!s.contains("aHVudGVyMg"), "{s}");
        assert!(!s.contains("ain\""), "{s}");
        let inner: serde_json::Value = serde_json::from_str(
            j["metadata"]["annotations"]["kubectl.kubernetes.io/last-applied-configuration"]
                .as_str()
                .unwrap(),
        )
        .unwrap();
        assert_eq!(inner["kind"], "Secret");
    }

    fn contains(h: &[u8], n: &[u8]) -> bool {
        h.windows(n.len()).any(|w| w == n)
    }

    #[test]
    fn hostile_values_never_panic_and_keep_length() {
        let mut seed: u64 = 42;
        let samples: [&[u8]; 3] = [
            br#"{"apiVersion":"v1","kind":"Secret","metadata":{"annotations":{"kubectl.kubernetes.io/last-applied-configuration":"{\"data\":{\"a\":\"b\\u0041\"}}"}},"data":{"a":"YQ=="}}"#,
            b"k8s\0\x0a\x0c\x0a\x02v1\x12\x06Secret\x12\x10\x12\x0e\x0a\x01k\x12\x09secretval",
            b"k8s:enc:aescbc:v1:key1:\x00\x01",
        ];
        for round in 0..3000 {
            let mut v = samples[round % 3].to_vec();
            for _ in 0..(round % 5) {
                if v.is_empty() {
                    break;
                }
                seed ^= seed << 13;
                seed ^= seed >> 7;
                seed ^= seed << 17;
                let i = (seed as usize) % v.len();
                v[i] ^= (seed >> 32) as u8;
                if seed.is_multiple_of(11) {
                    v.truncate(i);
                }
            }
            if v.is_empty() {
                continue;
            }
            let len = v.len();
            let r = redact_value(&mut v, round % 2 == 0);
            assert_eq!(v.len(), len);
            if round < 3 {
                // Unmutated: each sample is redacted.
                assert!(!r.is_empty() || round == 2, "sample {round}");
                assert!(!contains(&v, b"secretval"));
            }
        }
    }

    #[test]
    fn other_values_untouched() {
        let doc = br#"{"apiVersion":"v1","kind":"ConfigMap","data":{"a":"b"}}"#;
        let mut v = doc.to_vec();
        assert!(redact_value(&mut v, true).is_empty());
        assert_eq!(&v[..], &doc[..]);
        let mut e = b"k8s:enc:aescbc:v1:key1:\x01\x02\x03".to_vec();
        assert!(redact_value(&mut e, false).is_empty());
        assert!(redact_value(&mut e, true).ciphertext);
        assert_eq!(&e[..], b"k8s:enc:aescbc:v1:key1:RED");
        assert!(is_encrypted(&e));
    }
}
