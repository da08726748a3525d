//! `etcdsnap history`: every stored revision of a key, or of the keys under a prefix.
//!
//! Built on the revision index, so what it shows is exactly what the `key` bucket holds:
//! after a compaction, older revisions are simply gone (etcd removed them), which the header
//! line says by giving the compaction revision.
//!
//! Simple form: a line per key (`KEY`, then its revision and generation counts and whether it
//! is live), then one indented line per revision:
//! `  MAIN_SUB  put     create=C mod=M version=V lease=L size=N` or `  MAIN_SUB  delete`.
//! JSON form, one document:
//! `{"revision":CUR,"compact_revision":C,"keys":[{"key":"<b64>","live":bool,"revisions":
//! [{"main":M,"sub":S,"tombstone":bool,"create_revision":C,"mod_revision":M,"version":V,
//! "lease":"HEX","value_size":N}]}]}` with every field always present (the lease id a hex
//! string, as every id in our JSON). JSONL form: each object of
//! `keys` on its own line, streamed.

use std::io::Write;

use etcdsnap_mvcc::{KeyHistory, KeyRange, RevIndex, Snapshot};

use crate::args::HistoryFormat;
use crate::commands::get::failure;
use crate::decoded::Notes;
use crate::fail::{CmdResult, Failure, Outcome};
use crate::format::b64;
use etcdsnap_k8s::decoded::{Form, Shown, render_value, write_json_fields};
use etcdsnap_k8s::render::View;

/// `--decode`: each revision's value shown as the object it is.
#[derive(Debug, Clone, Copy)]
pub struct DecodeValues {
    /// Show Secret payloads.
    pub show_secrets: bool,
}

/// Runs `history`.
pub fn run(
    snap: &Snapshot,
    range: &KeyRange,
    format: HistoryFormat,
    decode: Option<DecodeValues>,
    out: &mut dyn Write,
    err: &mut dyn Write,
) -> CmdResult {
    let mut notes = Notes::default();
    let d = Decode {
        opts: decode,
        notes: &mut notes,
    };
    let outcome = run_with(snap, range, format, d, out, err)?;
    notes.write(err)?;
    Ok(outcome)
}

/// The decoding state threaded through the writers.
struct Decode<'n> {
    opts: Option<DecodeValues>,
    notes: &'n mut Notes,
}

fn run_with(
    snap: &Snapshot,
    range: &KeyRange,
    format: HistoryFormat,
    mut d: Decode<'_>,
    out: &mut dyn Write,
    err: &mut dyn Write,
) -> CmdResult {
    let index =
        RevIndex::build_in(snap, range, super::default_threads()).map_err(|e| failure(snap, e))?;
    let store = index.store();
    if range.is_single() && index.range(range).next().is_none() {
        super::note_single_key_absent(range, "not in the file", err);
    }
    match format {
        HistoryFormat::Simple => {
            for h in index.range(range) {
                write_simple(snap, &h, store.current, &mut d, out)?;
            }
        }
        HistoryFormat::Json => {
            write!(
                out,
                r#"{{"revision":{},"compact_revision":{},"keys":["#,
                store.current, store.compact
            )?;
            for (i, h) in index.range(range).enumerate() {
                if i > 0 {
                    out.write_all(b",")?;
                }
                write_json(snap, &h, store.current, &mut d, out)?;
            }
            out.write_all(b"]}\n")?;
        }
        HistoryFormat::Jsonl => {
            for h in index.range(range) {
                write_json(snap, &h, store.current, &mut d, out)?;
                out.write_all(b"\n")?;
            }
        }
    }
    Ok(Outcome::Clean)
}

fn write_simple(
    snap: &Snapshot,
    h: &KeyHistory<'_, '_>,
    current: i64,
    d: &mut Decode<'_>,
    out: &mut dyn Write,
) -> Result<(), Failure> {
    let revs = h.revisions();
    let gens = h.generations().count();
    let plural = |n: usize| if n == 1 { "" } else { "s" };
    writeln!(
        out,
        "{}  ({} revision{}, {} generation{}, {})",
        crate::style::key(h.key()),
        revs.len(),
        plural(revs.len()),
        gens,
        plural(gens),
        if h.live_at(current).is_some() {
            "live"
        } else {
            "deleted"
        }
    )?;
    for r in revs {
        let rev = format!("{}_{}", r.main(), r.sub());
        if r.is_tombstone() {
            writeln!(out, "  {rev:<12} delete")?;
        } else {
            let kv = r.decode().map_err(|e| failure(snap, e))?;
            writeln!(
                out,
                "  {rev:<12} put     create={} mod={} version={} lease={:x} size={}",
                kv.create_revision,
                kv.mod_revision,
                kv.version,
                kv.lease,
                kv.value.len()
            )?;
            if let Some(opts) = d.opts {
                let mut buf = Vec::with_capacity(kv.value.len() * 4);
                let text = match render_value(
                    kv.key,
                    kv.value,
                    opts.show_secrets,
                    &shown_as_apiserver(kv.mod_revision),
                    Form::Yaml,
                    &mut buf,
                ) {
                    Shown::Object { notes, .. } => {
                        d.notes.add(kv.key, &notes);
                        String::from_utf8_lossy(&buf).into_owned()
                    }
                    Shown::Other(other) => {
                        let mut t = Vec::new();
                        other.write_text(&mut t)?;
                        String::from_utf8_lossy(&t).into_owned()
                    }
                };
                for line in text.lines() {
                    writeln!(out, "    {line}")?;
                }
            }
        }
    }
    Ok(())
}

/// As the apiserver shows the object of that revision: resourceVersion = its mod revision;
/// managedFields hidden, as kubectl does.
fn shown_as_apiserver(mod_revision: i64) -> View {
    View {
        resource_version: Some(mod_revision),
        hide_managed_fields: true,
        manifest: false,
    }
}

fn write_json(
    snap: &Snapshot,
    h: &KeyHistory<'_, '_>,
    current: i64,
    d: &mut Decode<'_>,
    out: &mut dyn Write,
) -> Result<(), Failure> {
    let mut s = format!(
        r#"{{"key":"{}","live":{},"revisions":["#,
        b64(h.key()),
        h.live_at(current).is_some()
    );
    for (i, r) in h.revisions().iter().enumerate() {
        let kv = r.decode().map_err(|e| failure(snap, e))?;
        if i > 0 {
            s.push(',');
        }
        s.push_str(&format!(
            r#"{{"main":{},"sub":{},"tombstone":{},"create_revision":{},"mod_revision":{},"version":{},"lease":"{:x}","value_size":{}}}"#,
            r.main(),
            r.sub(),
            r.is_tombstone(),
            kv.create_revision,
            kv.mod_revision,
            kv.version,
            kv.lease,
            kv.value.len()
        ));
        if let (Some(opts), false) = (d.opts, r.is_tombstone()) {
            // The decoded fields of `get --decode -w json`, inside the revision object.
            let mut b = Vec::with_capacity(kv.value.len() * 3);
            let notes = write_json_fields(
                kv.key,
                kv.value,
                opts.show_secrets,
                &shown_as_apiserver(kv.mod_revision),
                serde_json::Map::new(),
                &mut b,
            );
            d.notes.add(kv.key, &notes);
            let fields = String::from_utf8_lossy(&b);
            s.pop();
            s.push(',');
            s.push_str(&fields[1..]);
        }
    }
    s.push_str("]}");
    Ok(out.write_all(s.as_bytes())?)
}
