//! Hostile and damaged inputs: nothing panics, output stays bounded.
//!
//! A deterministic generator (xorshift) instead of a property-testing crate keeps the runs
//! reproducible and the dependency list short.

use etcdsnap_k8s::schemaless::MAX_DEPTH;
use etcdsnap_k8s::{
    Audit, DecodeOptions, GroupBy, Stats, classify, decode, decode_protobuf, group_prefix,
    parse_key,
};
use serde_json::Value;

use crate::pb::listing;

struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0
    }

    fn below(&mut self, n: usize) -> usize {
        (self.next() % n as u64) as usize
    }
}

/// Runs every entry point on `value` (as a value and as a key).
fn exercise(value: &[u8]) {
    let kind = classify(value);
    let _ = kind.kind_label();
    for show_secrets in [false, true] {
        if let Ok(obj) = decode(value, &DecodeOptions { show_secrets }) {
            let doc = obj.to_document();
            assert!(depth(&doc) <= MAX_DEPTH + 8, "too deep");
            let _ = doc.to_string();
        }
    }
    if let Ok(doc) = decode_protobuf(value) {
        assert!(depth(&doc) <= MAX_DEPTH + 2);
        assert!(
            doc.to_string().len() <= 64 + value.len() * 8,
            "output grew out of bounds"
        );
    }
    let _ = parse_key(value);
    let _ = group_prefix(value, 3);
    let mut stats = Stats::new(GroupBy::Kind, 2);
    stats.add_live(value, value);
    stats.add_history(value, value.len());
    stats.add_tombstone(value);
    let _ = stats.finish();
    let mut audit = Audit::for_resources(["secrets", "pods"]);
    audit.add(value, value);
    let _ = audit.finish();
}

fn depth(v: &Value) -> usize {
    match v {
        Value::Array(a) => a.iter().map(depth).max().unwrap_or(0),
        Value::Object(o) => 1 + o.values().map(depth).max().unwrap_or(0),
        _ => 0,
    }
}

#[test]
fn random_bytes() {
    let mut rng = Rng(0x9e37_79b9_7f4a_7c15);
    let alphabets: [&[u8]; 4] = [
        &[],
        b"\x08\x0a\x10\x12\x1a\x22\x80\xff\x00\x01\x02\x05",
        b"k8s\0:enc{}\"/\n\r ab",
        b"\x0a\x0b\x0c\x0d",
    ];
    for round in 0..20_000 {
        let len = rng.below(if round % 100 == 0 { 4096 } else { 96 });
        let alphabet = alphabets[round % alphabets.len()];
        let mut v: Vec<u8> = (0..len)
            .map(|_| {
                let r = rng.next() as u8;
                if alphabet.is_empty() {
                    r
                } else {
                    alphabet[r as usize % alphabet.len()]
                }
            })
            .collect();
        match round % 3 {
            0 => v.splice(0..0, b"k8s\0".iter().copied()).for_each(drop),
            1 => v.splice(0..0, b"/registry/".iter().copied()).for_each(drop),
            _ => {}
        }
        exercise(&v);
    }
}

#[test]
fn damaged_corpus_values() {
    let mut rng = Rng(42);
    for kv in listing("h5-k8s.get.head.json")
        .into_iter()
        .chain(listing("h1-h2a-h3-sample.get.json"))
    {
        let v = &kv.value;
        // Every truncation.
        for cut in 0..v.len() {
            exercise(&v[..cut]);
        }
        // Bit flips and byte replacements at random positions.
        for _ in 0..60 {
            if v.is_empty() {
                break;
            }
            let mut d = v.clone();
            let at = rng.below(d.len());
            if rng.next().is_multiple_of(2) {
                d[at] ^= 1 << rng.below(8);
            } else {
                d[at] = rng.next() as u8;
            }
            exercise(&d);
            exercise(&kv.key);
        }
    }
}

/// Length-delimited field 1 around `inner`.
fn wrap(inner: &[u8]) -> Vec<u8> {
    let mut out = vec![0x0a];
    let mut len = inner.len();
    while len >= 0x80 {
        out.push((len as u8) | 0x80);
        len >>= 7;
    }
    out.push(len as u8);
    out.extend_from_slice(inner);
    out
}

#[test]
fn deep_nesting_is_cut_at_max_depth() {
    // 5,000 levels: a recursive decoder without a bound would overflow the stack.
    let mut msg = vec![0x08, 0x01];
    for _ in 0..5_000 {
        msg = wrap(&msg);
    }
    let doc = decode_protobuf(&msg).unwrap();
    assert_eq!(depth(&doc), MAX_DEPTH + 1); // MAX_DEPTH message levels + the bytes object
    let mut value = b"k8s\0".to_vec();
    let unknown = [wrap(&wrap(b"")), vec![0x12], wrap(&msg)[1..].to_vec()].concat();
    value.extend_from_slice(&unknown);
    exercise(&value);
}

#[test]
fn wide_and_repetitive_inputs() {
    // 1 MiB of one-byte fields: a large but linear document.
    let many: Vec<u8> = [0x08, 0x01].repeat(1 << 19);
    let doc = decode_protobuf(&many).unwrap();
    assert_eq!(doc["1"].as_array().unwrap().len(), 1 << 19);
    // A payload that is text at every level of an ambiguous chain.
    let mut chain = b"0123456789abcdef".repeat(8);
    for _ in 0..100 {
        chain = wrap(&chain);
    }
    exercise(&chain);
}
