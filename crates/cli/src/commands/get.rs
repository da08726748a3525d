//! `etcdsnap get`: `etcdctl get` (3.5) answered from a snapshot, in etcdctl's output shapes.
//!
//! What a snapshot cannot know (the cluster and member id of the response header) is left out
//! rather than invented; the header revision is the store's current revision, as etcd's is,
//! also for `--rev` reads.
//!
//! With `--decode` the values are shown readable instead (see [`crate::decoded`]): the simple
//! format prints each key then its document, text or marker; `-w json` prints the same
//! response with each kv's `value` replaced by the decoded fields (docs/kubernetes.md);
//! `-w fields` prints an `"Object"` line of compact JSON instead of `"Value"`. Without
//! `--decode` nothing here changes a byte of etcdctl's output.

use std::io::Write;

use etcdsnap_mvcc::keyspace::{self, RangeRequest, RangeResponse, SortOrder, SortTarget};
use etcdsnap_mvcc::proto::KeyValueRef;
use etcdsnap_mvcc::{Error, KeyRange, Snapshot};

use crate::args::{GetFormat, Order, SortBy};
use serde_json::{Map, Value};

use crate::decoded::Notes;
use crate::fail::{CmdResult, Failure, Outcome};
use crate::format::{b64, go_quote};
use etcdsnap_k8s::decoded::{Form, Shown, render_value, write_json_fields};
use etcdsnap_k8s::render::View;

/// What `get` was asked, resolved from the arguments.
#[derive(Debug, Clone)]
pub struct GetConfig {
    /// The request for the library.
    pub request: RangeRequest,
    /// Output format.
    pub format: GetFormat,
    /// Values only (simple format).
    pub print_value_only: bool,
    /// Threads for the scan.
    pub threads: usize,
    /// Show values decoded (Kubernetes objects, markers) instead of raw.
    pub decode: bool,
    /// With `decode`, show Secret payloads.
    pub show_secrets: bool,
}

/// Builds the range from etcdctl's arguments.
pub fn key_range(key: &[u8], range_end: Option<&[u8]>, prefix: bool, from_key: bool) -> KeyRange {
    if prefix {
        KeyRange::prefix(key)
    } else if from_key {
        KeyRange::from_key(key)
    } else if let Some(end) = range_end {
        KeyRange::between(key, end)
    } else {
        KeyRange::single(key)
    }
}

/// Maps etcdctl's sort flags to the request's.
pub fn sort(by: Option<SortBy>, order: Option<Order>) -> (SortTarget, SortOrder) {
    let target = match by {
        None | Some(SortBy::Key) => SortTarget::Key,
        Some(SortBy::Create) => SortTarget::Create,
        Some(SortBy::Modify) => SortTarget::Modify,
        Some(SortBy::Value) => SortTarget::Value,
        Some(SortBy::Version) => SortTarget::Version,
    };
    let order = match order {
        None => SortOrder::None,
        // clientv3: ascending by key is the server's natural order.
        Some(Order::Ascend) if target == SortTarget::Key => SortOrder::None,
        Some(Order::Ascend) => SortOrder::Ascend,
        Some(Order::Descend) => SortOrder::Descend,
    };
    (target, order)
}

/// Maps a library error to the failure the user sees: etcd's own wording for what etcd
/// itself would refuse, the file and the reason otherwise.
pub fn failure(snap: &Snapshot, e: Error) -> Failure {
    match e {
        Error::Compacted { requested, .. } | Error::FutureRevision { requested, .. } => {
            // etcd's words first (scripts match them), then what etcd's client cannot say:
            // which file, and which revisions it holds.
            let range = match snap.revisions() {
                Ok(r) if r.compact > 0 => {
                    format!("newest revision {}, compacted at {}", r.current, r.compact)
                }
                Ok(r) => format!("newest revision {}, never compacted", r.current),
                Err(_) => String::new(),
            };
            Failure::Message(format!(
                "{e} ({}: --rev {requested}; {range}; --rev 0 reads the newest)",
                snap.path().display()
            ))
        }
        Error::EmptyKey => Failure::Message(e.to_string()),
        e => Failure::at(snap.path(), e),
    }
}

/// Runs `get`.
pub fn run(
    snap: &Snapshot,
    cfg: &GetConfig,
    out: &mut dyn Write,
    err: &mut dyn Write,
) -> CmdResult {
    if cfg.print_value_only && cfg.format != GetFormat::Simple {
        return Err(Failure::usage(
            "print-value-only is only for `--write-out=simple`",
        ));
    }
    let resp = keyspace::range(snap, &cfg.request, cfg.threads).map_err(|e| failure(snap, e))?;
    let decode = cfg.decode && !cfg.request.keys_only && !cfg.request.count_only;
    // What the schema did not cover, said once per cause on stderr after the output.
    let mut notes = Notes::default();
    let n = &mut notes;
    match (cfg.format, decode) {
        (GetFormat::Jsonl, _) => write_jsonl(&resp, cfg, n, out)?,
        (GetFormat::Simple, true) => write_simple_decoded(&resp, cfg, n, out)?,
        (GetFormat::Json, true) => write_json_decoded(&resp, cfg.show_secrets, n, out)?,
        (GetFormat::Fields, true) => write_fields_decoded(&resp, cfg.show_secrets, n, out)?,
        (GetFormat::Simple, false) => write_simple(&resp, cfg, out)?,
        (GetFormat::Json, false) => write_json(&resp, cfg.threads, out)?,
        (GetFormat::Fields, false) => write_fields(&resp, out)?,
    }
    notes.write(err)?;
    Ok(Outcome::Clean)
}

fn write_simple(
    resp: &RangeResponse<'_>,
    cfg: &GetConfig,
    out: &mut dyn Write,
) -> std::io::Result<()> {
    if cfg.request.count_only {
        // etcdctl refuses --count-only here; the count alone is the useful answer.
        return writeln!(out, "{}", resp.count);
    }
    let hex = crate::style::get().hex;
    for kv in &resp.kvs {
        if hex {
            // etcdctl's --hex: every byte of key and value as \xNN.
            if !cfg.print_value_only {
                writeln!(out, "{}", crate::style::hex_escape(kv.key))?;
            }
            writeln!(out, "{}", crate::style::hex_escape(kv.value))?;
            continue;
        }
        if !cfg.print_value_only {
            out.write_all(kv.key)?;
            out.write_all(b"\n")?;
        }
        out.write_all(kv.value)?;
        out.write_all(b"\n")?;
    }
    Ok(())
}

/// `--decode`, simple: the key, then the value made readable.
fn write_simple_decoded(
    resp: &RangeResponse<'_>,
    cfg: &GetConfig,
    notes: &mut Notes,
    out: &mut dyn Write,
) -> std::io::Result<()> {
    let mut buf = Vec::with_capacity(1 << 16);
    for kv in &resp.kvs {
        if !cfg.print_value_only {
            // A readable view: keys escaped as history, stats and diff show them.
            writeln!(out, "{}", crate::style::key(kv.key))?;
        }
        // Objects are rendered straight into the output (etcdsnap_k8s::render).
        buf.clear();
        match render_value(
            kv.key,
            kv.value,
            cfg.show_secrets,
            &View::default(),
            Form::Json { indent: 0 },
            &mut buf,
        ) {
            Shown::Object { notes: n, .. } => {
                notes.add(kv.key, &n);
                buf.push(b'\n');
                out.write_all(&buf)?;
            }
            Shown::Other(d) => d.write_text(out)?,
        }
    }
    Ok(())
}

/// `--decode`, JSON: etcdctl's response shape (header, kvs, more, count; zero fields omitted
/// as Go does), each kv with `value` replaced by `value_size` and the decoded fields.
fn write_json_decoded(
    resp: &RangeResponse<'_>,
    show_secrets: bool,
    notes: &mut Notes,
    out: &mut dyn Write,
) -> std::io::Result<()> {
    let mut header = Vec::new();
    if resp.header_revision != 0 {
        header.push(format!("\"revision\":{}", resp.header_revision));
    }
    if let Some(t) = resp.raft_term.filter(|&t| t != 0) {
        header.push(format!("\"raft_term\":{t}"));
    }
    write!(out, "{{\"header\":{{{}}}", header.join(","))?;
    if !resp.kvs.is_empty() {
        out.write_all(b",\"kvs\":[")?;
        for (i, kv) in resp.kvs.iter().enumerate() {
            if i > 0 {
                out.write_all(b",")?;
            }
            let mut buf = Vec::with_capacity(kv.value.len() * 3);
            decoded_kv(kv, show_secrets, notes, &mut buf);
            out.write_all(&buf)?;
        }
        out.write_all(b"]")?;
    }
    if resp.more {
        out.write_all(b",\"more\":true")?;
    }
    if resp.count != 0 {
        write!(out, ",\"count\":{}", resp.count)?;
    }
    out.write_all(b"}\n")
}

/// One kv of `--decode -w json`: etcd's fields (zero ones omitted), `value_size` and the
/// decoded fields instead of `value`.
fn decoded_kv(kv: &KeyValueRef<'_>, show_secrets: bool, notes: &mut Notes, out: &mut Vec<u8>) {
    let mut m = Map::new();
    if !kv.key.is_empty() {
        m.insert("key".into(), Value::String(b64(kv.key)));
    }
    for (name, v) in [
        ("create_revision", kv.create_revision),
        ("mod_revision", kv.mod_revision),
        ("version", kv.version),
        ("lease", kv.lease),
    ] {
        if v != 0 {
            m.insert(name.into(), v.into());
        }
    }
    m.insert("value_size".into(), kv.value.len().into());
    let n = write_json_fields(kv.key, kv.value, show_secrets, &View::default(), m, out);
    notes.add(kv.key, &n);
}

/// `-w jsonl`: one line per kv, the object `-w json` has in `kvs` (decoded with `--decode`);
/// with `--count-only`, one line `{"count":N}`.
fn write_jsonl(
    resp: &RangeResponse<'_>,
    cfg: &GetConfig,
    notes: &mut Notes,
    out: &mut dyn Write,
) -> std::io::Result<()> {
    if cfg.request.count_only {
        return writeln!(out, "{{\"count\":{}}}", resp.count);
    }
    let mut s = String::new();
    for kv in &resp.kvs {
        if cfg.decode && !cfg.request.keys_only {
            let mut b = Vec::with_capacity(kv.value.len() * 3);
            decoded_kv(kv, cfg.show_secrets, notes, &mut b);
            s = String::from_utf8(b).unwrap_or_default();
        } else {
            s.clear();
            kv_json(kv, &mut s);
        }
        s.push('\n');
        out.write_all(s.as_bytes())?;
    }
    Ok(())
}

/// `--decode`, fields: etcdctl's lines with `"Object"` (the decoded fields as compact JSON)
/// instead of `"Value"`.
fn write_fields_decoded(
    resp: &RangeResponse<'_>,
    show_secrets: bool,
    notes: &mut Notes,
    out: &mut dyn Write,
) -> std::io::Result<()> {
    fields_with(resp, out, |kv, out| {
        let mut b = Vec::with_capacity(kv.value.len() * 3);
        let n = write_json_fields(
            kv.key,
            kv.value,
            show_secrets,
            &View::default(),
            Map::new(),
            &mut b,
        );
        notes.add(kv.key, &n);
        out.write_all(b"\"Object\" : ")?;
        out.write_all(&b)?;
        writeln!(out)
    })
}

/// Key-values per batch of `get -w json`: about 100 KiB of base64 for Kubernetes-sized values.
const JSON_BATCH: usize = 128;

/// etcd's RangeResponse through Go's encoding/json: zero fields omitted, bytes base64.
///
/// A full listing is mostly base64 (2.4 GB of it for 1M small revisions), so batches of
/// key-values are encoded on `threads` threads while this thread writes them in order
/// (etcdsnap_mvcc::pipeline); the bytes are the same on any number of threads.
pub fn write_json(
    resp: &RangeResponse<'_>,
    threads: usize,
    out: &mut dyn Write,
) -> std::io::Result<()> {
    let mut s = String::with_capacity(64);
    s.push_str("{\"header\":{");
    let mut hdr = Vec::new();
    if resp.header_revision != 0 {
        hdr.push(format!("\"revision\":{}", resp.header_revision));
    }
    if let Some(t) = resp.raft_term.filter(|&t| t != 0) {
        hdr.push(format!("\"raft_term\":{t}"));
    }
    s.push_str(&hdr.join(","));
    s.push('}');
    if !resp.kvs.is_empty() {
        s.push_str(",\"kvs\":[");
        out.write_all(s.as_bytes())?;
        s.clear();
        let mut first = true;
        etcdsnap_mvcc::pipeline::ordered(
            &resp.kvs,
            JSON_BATCH,
            threads,
            |batch| {
                let bytes: usize = batch.iter().map(|kv| kv.key.len() + kv.value.len()).sum();
                let mut b = String::with_capacity(bytes / 3 * 4 + batch.len() * 120);
                for kv in batch {
                    b.push(',');
                    kv_json(kv, &mut b);
                }
                b
            },
            |b| {
                // Every batch starts with a separator; the first one's is dropped.
                let skip = usize::from(std::mem::take(&mut first));
                out.write_all(&b.as_bytes()[skip..])
            },
        )?;
        s.push(']');
    }
    if resp.more {
        s.push_str(",\"more\":true");
    }
    if resp.count != 0 {
        s.push_str(&format!(",\"count\":{}", resp.count));
    }
    s.push_str("}\n");
    out.write_all(s.as_bytes())
}

/// One mvccpb.KeyValue as Go's encoding/json prints it (zero fields omitted, bytes base64).
/// Written straight into `s`: the base64 of a value is encoded in place, not through a
/// temporary string (a full listing encodes every live value once), by `base64-simd` (SIMD
/// chosen at run time: a quarter of a full listing's time went to the scalar `base64` crate).
fn kv_json(kv: &KeyValueRef<'_>, s: &mut String) {
    use std::fmt::Write as _;
    let b64 = &base64_simd::STANDARD;
    s.push('{');
    let mut first = true;
    let mut sep = |s: &mut String, name: &str| {
        if !first {
            s.push(',');
        }
        first = false;
        s.push('"');
        s.push_str(name);
        s.push_str("\":");
    };
    if !kv.key.is_empty() {
        sep(s, "key");
        s.push('"');
        b64.encode_append(kv.key, s);
        s.push('"');
    }
    for (name, v) in [
        ("create_revision", kv.create_revision),
        ("mod_revision", kv.mod_revision),
        ("version", kv.version),
    ] {
        if v != 0 {
            sep(s, name);
            let _ = write!(s, "{v}");
        }
    }
    if !kv.value.is_empty() {
        sep(s, "value");
        s.push('"');
        b64.encode_append(kv.value, s);
        s.push('"');
    }
    if kv.lease != 0 {
        sep(s, "lease");
        let _ = write!(s, "{}", kv.lease);
    }
    s.push('}');
}

/// etcdctl's fields printer, without the ClusterID and MemberID lines a file cannot know.
pub fn write_fields(resp: &RangeResponse<'_>, out: &mut dyn Write) -> std::io::Result<()> {
    fields_with(resp, out, |kv, out| {
        writeln!(out, "\"Value\" : {}", go_quote(kv.value))
    })
}

/// The fields layout, with `value` writing the line that stands for each kv's value.
fn fields_with(
    resp: &RangeResponse<'_>,
    out: &mut dyn Write,
    mut value: impl FnMut(&KeyValueRef<'_>, &mut dyn Write) -> std::io::Result<()>,
) -> std::io::Result<()> {
    if resp.header_revision > 0 {
        writeln!(out, "\"Revision\" : {}", resp.header_revision)?;
    }
    if let Some(t) = resp.raft_term {
        writeln!(out, "\"RaftTerm\" : {t}")?;
    }
    for kv in &resp.kvs {
        writeln!(out, "\"Key\" : {}", go_quote(kv.key))?;
        writeln!(out, "\"CreateRevision\" : {}", kv.create_revision)?;
        writeln!(out, "\"ModRevision\" : {}", kv.mod_revision)?;
        writeln!(out, "\"Version\" : {}", kv.version)?;
        value(kv, out)?;
        writeln!(out, "\"Lease\" : {}", kv.lease)?;
    }
    writeln!(out, "\"More\" : {}", resp.more)?;
    writeln!(out, "\"Count\" : {}", resp.count)
}
