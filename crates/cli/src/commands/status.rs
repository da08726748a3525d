//! `etcdsnap status`: byte-identical to `etcdutl snapshot status` of etcd 3.5, 3.6 or 3.7 in
//! every format, refusing the files that etcdutl refuses.
//!
//! etcdutl runs bbolt's `Tx.Check` before it computes anything and refuses a damaged file
//! with `Error: snapshot file integrity check failed. N errors found.` and one line per
//! problem (exit 1); so does this command, with bbolt's own line for each problem bbolt names
//! and ours for the damage bbolt would crash on (docs/etcd-versions.md lists the sources).
//!
//! Under 3.5's rules a sound file is answered in one walk: the hash walk records the pages it
//! enters and `etcdsnap_bbolt::ledger` proves from them that the check would pass. Only when
//! that proof fails do the check and the hash run as two walks, so a refusal is always the
//! check's own, in its words.

use std::io::Write;

use etcdsnap_bbolt::check::{self, CheckOptions, Finding, Problem, Severity};
use etcdsnap_mvcc::status::{self, Rules, VersionedStatus};
use etcdsnap_mvcc::versions::{self, EtcdVersion};
use etcdsnap_mvcc::{Error, Snapshot};

use crate::args::StatusFormat;
use crate::fail::{CmdResult, Failure, Outcome};
use crate::format::{Table, humanize_bytes};

/// What `status` was asked.
#[derive(Debug, Clone, Copy)]
pub struct StatusConfig {
    /// Output format.
    pub format: StatusFormat,
    /// Whose etcdutl to reproduce (`None`: the writer's).
    pub etcd_version: Option<EtcdVersion>,
    /// Threads for hashing.
    pub threads: usize,
}

/// Runs `status` on one file.
pub fn run(
    snap: &Snapshot,
    cfg: &StatusConfig,
    out: &mut dyn Write,
    err: &mut dyn Write,
) -> CmdResult {
    match compute(snap, cfg.etcd_version, cfg.threads, "", err)? {
        Some((st, version)) => {
            write_versioned(&st, cfg.format, version, out)?;
            Ok(Outcome::Clean)
        }
        None => Ok(Outcome::Found),
    }
}

/// The status of `snap` under the rules of `etcd_version` (`None`: the writer's), and the
/// version followed; `None` when etcdutl of that version refuses the file, which is then said
/// on `err` in etcdutl's words (each line after `prefix`, e.g. the file name of a multi-file
/// run).
pub fn compute(
    snap: &Snapshot,
    etcd_version: Option<EtcdVersion>,
    threads: usize,
    prefix: &str,
    err: &mut dyn Write,
) -> Result<Option<(VersionedStatus, EtcdVersion)>, Failure> {
    // A file whose meta bucket cannot be read still gets the check (and is refused by it).
    let version = etcd_version
        .unwrap_or_else(|| versions::default_version(snap).unwrap_or(EtcdVersion::line(3, 5)));
    let rules = Rules::of(version);
    // Under 3.5's rules one walk does both: the hash walk enters every page, and what it
    // entered proves bbolt's check would pass. When it cannot prove that, the check and the
    // hash below say why, in etcdutl's words.
    if rules == Rules::Etcd35
        && let Some(st) = status::status_if_sound(snap, threads)
    {
        let st = VersionedStatus {
            status: st,
            version: None,
        };
        return Ok(Some((st, version)));
    }
    // bbolt's check and the hash run side by side: both only read; on a damaged file the
    // check's verdict wins and the hash is dropped.
    let (problems, st) = std::thread::scope(|sc| {
        let check = sc.spawn(|| integrity_problems(snap, version));
        let st = status::status_with(snap, threads, rules);
        let problems = check
            .join()
            .unwrap_or_else(|p| std::panic::resume_unwind(p));
        (problems, st)
    });
    let (count, problems) = problems;
    if count > 0 {
        writeln!(
            err,
            "{prefix}Error: snapshot file integrity check failed. {count} errors found."
        )?;
        for p in &problems {
            writeln!(err, "{prefix}{p}")?;
        }
        return Ok(None);
    }
    match st {
        Ok(st) => Ok(Some((st, version))),
        Err(Error::Refused { message, .. }) => {
            writeln!(err, "{prefix}Error: {message}")?;
            Ok(None)
        }
        Err(e) => Err(Failure::at(snap.path(), e)),
    }
}

/// The problems for which etcdutl of `version` refuses the file, one line each: bbolt's
/// `Tx.Check` findings in bbolt's words, and the damage on which bbolt panics or crashes in
/// ours. etcd 3.6+ (bbolt 1.4+) also checks key order in every page and against the parent's
/// separators (`tx_check.go` `recursivelyCheckPageKeyOrder`): then the check compares keys.
/// Returns how many problems there are and their lines (all of them up to 100,000, then one
/// line saying how many more); no problem when the file is sound enough for etcdutl.
pub fn integrity_problems(snap: &Snapshot, version: EtcdVersion) -> (u64, Vec<String>) {
    let opts = CheckOptions {
        max_findings: 100_000,
    };
    let c = if version.at_least(3, 6) {
        check::check_with(snap.db(), &opts)
    } else {
        check::check_pages(snap.db(), &opts)
    };
    let mut lines: Vec<String> = c
        .findings
        .list
        .iter()
        .filter(|f| f.refused_by_etcdutl())
        .map(bbolt_line)
        .collect();
    // Findings past the cap are only counted: count them as refusals when they are errors
    // (rare: the cap is 100,000).
    let unkept = c.findings.errors.saturating_sub(
        c.findings
            .list
            .iter()
            .filter(|f| f.severity == Severity::Error)
            .count() as u64,
    );
    let counted = lines.len() as u64 + unkept;
    if counted > lines.len() as u64 {
        lines.push(format!(
            "... and {} more (etcdsnap verify lists them)",
            counted - lines.len() as u64
        ));
    }
    (counted, lines)
}

/// bbolt 1.3.6's line for a finding it reports (`tx.go`, `Tx.check`), ours otherwise.
fn bbolt_line(f: &Finding) -> String {
    let page = f.page.unwrap_or(0);
    match &f.problem {
        Problem::FreedTwice => format!("page {page}: already freed"),
        Problem::MultipleReferences { .. } => format!("page {page}: multiple references"),
        Problem::ReachableFreed => format!("page {page}: reachable freed"),
        Problem::UnreachableUnfreed => format!("page {page}: unreachable unfreed"),
        Problem::PageOutOfRange { hwm, .. } => format!("page {page}: out of bounds: {hwm}"),
        Problem::UnexpectedType { flags, .. } => {
            format!("page {page}: invalid type: {}", bbolt_type(*flags))
        }
        _ => f.to_string(),
    }
}

/// bbolt's `page.typ()`.
fn bbolt_type(flags: u16) -> String {
    match flags {
        f if f & 0x01 != 0 => "branch".into(),
        f if f & 0x02 != 0 => "leaf".into(),
        f if f & 0x04 != 0 => "meta".into(),
        f if f & 0x10 != 0 => "freelist".into(),
        f => format!("unknown<{f:02x}>"),
    }
}

/// Writes `st` the way etcdutl `version` does: 3.5 (etcdutl/etcdutl/printer*.go at v3.5.1),
/// 3.6 (a `version` field in every format, at v3.6.0), 3.7 (3.6's fields, the table drawn by
/// tablewriter v1 with box-drawing characters, at v3.7.0).
pub fn write_versioned(
    v: &VersionedStatus,
    format: StatusFormat,
    version: EtcdVersion,
    out: &mut dyn Write,
) -> std::io::Result<()> {
    let st = &v.status;
    // 3.6+: the field exists, empty when the file has no (parsable) storage version.
    let ver = if version.at_least(3, 6) {
        Some(v.version.as_deref().unwrap_or(""))
    } else {
        None
    };
    match format {
        StatusFormat::Json => match ver {
            None => writeln!(
                out,
                r#"{{"hash":{},"revision":{},"totalKey":{},"totalSize":{}}}"#,
                st.hash, st.revision, st.total_key, st.total_size
            ),
            Some(ver) => writeln!(
                out,
                r#"{{"hash":{},"revision":{},"totalKey":{},"totalSize":{},"version":{}}}"#,
                st.hash,
                st.revision,
                st.total_key,
                st.total_size,
                serde_json::Value::from(ver)
            ),
        },
        StatusFormat::Simple => {
            write!(
                out,
                "{:x}, {}, {}, {}",
                st.hash,
                st.revision,
                st.total_key,
                humanize_bytes(st.total_size)
            )?;
            match ver {
                Some(ver) => writeln!(out, ", {ver}"),
                None => writeln!(out),
            }
        }
        StatusFormat::Fields => {
            writeln!(out, "\"Hash\" : {}", st.hash)?;
            writeln!(out, "\"Revision\" : {}", st.revision)?;
            writeln!(out, "\"Keys\" : {}", st.total_key)?;
            writeln!(out, "\"Size\" : {}", st.total_size)?;
            match ver {
                // Go's fmt.Println puts a space between its operands, even before "".
                Some(ver) => writeln!(out, "\"Version\" : {ver}"),
                None => Ok(()),
            }
        }
        StatusFormat::Table => {
            let mut headers = vec!["hash", "revision", "total keys", "total size"];
            let mut row = vec![
                format!("{:x}", st.hash),
                st.revision.to_string(),
                st.total_key.to_string(),
                humanize_bytes(st.total_size),
            ];
            if let Some(ver) = ver {
                headers.push("version");
                row.push(ver.to_string());
            }
            let mut t = Table::new(&headers);
            t.row(row);
            let text = if version.at_least(3, 7) {
                t.render_etcd37()
            } else {
                t.render_etcd()
            };
            out.write_all(text.as_bytes())
        }
    }
}
