//! `etcdsnap redact IN -o OUT.db`: a copy safe to hand to support.
//!
//! The policy is here, the mechanics in the libraries: `k8s::redact` overwrites Secret
//! payloads (and, on request, ciphertext) in place with same-length markers; `mvcc::rewrite::
//! redact` streams the store, applies the policy to every revision, and drops password hashes.
//! `--prefix P` blanks every value under P; with `--keys`, key names under those prefixes also
//! become pseudonyms, segment by segment (`/registry/secrets/ns-1/db` ->
//! `/registry/secrets/k3f9.../k81c...`), stable for the same input and salt, so grouping by
//! namespace still works.

use std::io::Write;

use etcdsnap_k8s::redact::{mark, redact_value};
use etcdsnap_mvcc::Snapshot;
use etcdsnap_mvcc::rewrite::{self, Output, RedactReport, Redactor};
use sha2::{Digest, Sha256};

use crate::commands::compact::{ReportFormat, write_failure};
use crate::fail::{CmdResult, Outcome};
use crate::format::humanize_bytes;

/// What `redact` does.
#[derive(Debug, Clone)]
pub struct Config {
    /// Where to write.
    pub output: Output,
    /// Blank encrypted values' ciphertext too.
    pub drop_encrypted: bool,
    /// Prefixes whose values are all blanked.
    pub prefixes: Vec<Vec<u8>>,
    /// Also rename keys under `prefixes`.
    pub keys: bool,
    /// Salt of the pseudonyms.
    pub salt: Vec<u8>,
    /// Write auth as disabled.
    pub disable_auth: bool,
}

/// The policy, with its counters.
struct Policy<'c> {
    cfg: &'c Config,
    secret_values: u64,
    ciphertexts: u64,
    prefix_values: u64,
}

/// A stable pseudonym for one key segment.
pub fn pseudonym(salt: &[u8], segment: &[u8]) -> Vec<u8> {
    let mut h = Sha256::new();
    h.update((salt.len() as u64).to_be_bytes());
    h.update(salt);
    h.update(segment);
    let d = h.finalize();
    let mut out = b"k".to_vec();
    for b in &d[..8] {
        out.extend_from_slice(format!("{b:02x}").as_bytes());
    }
    out
}

impl Redactor for Policy<'_> {
    fn value(&mut self, key: &[u8], value: &mut Vec<u8>) -> bool {
        if self.cfg.prefixes.iter().any(|p| key.starts_with(p)) {
            if value.is_empty() {
                return false;
            }
            mark(value);
            self.prefix_values += 1;
            return true;
        }
        let r = redact_value(value, self.cfg.drop_encrypted);
        self.secret_values += r.secret_values as u64;
        self.ciphertexts += u64::from(r.ciphertext);
        !r.is_empty()
    }

    fn rename(&mut self, key: &[u8]) -> Option<Vec<u8>> {
        if !self.cfg.keys {
            return None;
        }
        let p = self.cfg.prefixes.iter().find(|p| key.starts_with(p))?;
        let rest = &key[p.len()..];
        let mut out = p.clone();
        for (i, seg) in rest.split(|&c| c == b'/').enumerate() {
            if i > 0 {
                out.push(b'/');
            }
            if !seg.is_empty() {
                out.extend_from_slice(&pseudonym(&self.cfg.salt, seg));
            }
        }
        Some(out)
    }
}

/// Runs `redact`.
pub fn run(snap: &Snapshot, cfg: &Config, format: ReportFormat, out: &mut dyn Write) -> CmdResult {
    crate::commands::compact::refuse_input_as_output(snap.path(), &cfg.output.path)?;
    let mut policy = Policy {
        cfg,
        secret_values: 0,
        ciphertexts: 0,
        prefix_values: 0,
    };
    let r = rewrite::redact(snap, &cfg.output, &mut policy, cfg.disable_auth)
        .map_err(|e| write_failure(snap, e))?;
    let counts = Counts {
        secret_values: policy.secret_values,
        ciphertexts: policy.ciphertexts,
        prefix_values: policy.prefix_values,
    };
    write(&r, &counts, format, out)?;
    Ok(Outcome::Clean)
}

#[derive(serde::Serialize)]
struct Counts {
    secret_values: u64,
    ciphertexts: u64,
    prefix_values: u64,
}

fn write(
    r: &RedactReport,
    c: &Counts,
    format: ReportFormat,
    out: &mut dyn Write,
) -> std::io::Result<()> {
    match format {
        ReportFormat::Json => {
            #[derive(serde::Serialize)]
            struct Doc<'a> {
                #[serde(flatten)]
                report: &'a RedactReport,
                #[serde(flatten)]
                counts: &'a Counts,
            }
            serde_json::to_writer(
                &mut *out,
                &Doc {
                    report: r,
                    counts: c,
                },
            )?;
            writeln!(out)
        }
        ReportFormat::Text => {
            writeln!(
                out,
                "revisions: {} ({} with a redacted value, {} renamed)",
                r.revisions, r.values_redacted, r.keys_renamed
            )?;
            writeln!(
                out,
                "secret values: {}; encrypted values blanked: {}; values under --prefix: {}",
                c.secret_values, c.ciphertexts, c.prefix_values
            )?;
            writeln!(out, "password hashes removed: {}", r.passwords_removed)?;
            if r.auth_disabled {
                writeln!(out, "auth: disabled in the copy (--disable-auth)")?;
            }
            if let Some(s) = &r.sizes {
                writeln!(
                    out,
                    "db size: {} -> {}",
                    humanize_bytes(s.db_size_before),
                    humanize_bytes(s.db_size_after)
                )?;
            }
            if let Some(w) = &r.write {
                writeln!(out, "wrote {}", w.path.display())?;
            }
            Ok(())
        }
    }
}
