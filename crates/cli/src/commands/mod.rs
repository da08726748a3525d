//! One module per command; each takes its configuration and writers, returns an outcome.

mod audit;
mod diff;
pub mod export;
pub mod get;
mod hashkv;
mod history;
mod info;
mod stats;
mod status;
mod verify;
mod version;

use std::ffi::OsStr;
use std::io::Write;
use std::path::Path;

use etcdsnap_mvcc::keyspace::RangeRequest;
use etcdsnap_mvcc::{KeyRange, Snapshot};

use crate::args::{
    AuditFormat, Cli, Command, DiffFormat, Format, GetFormat, HashKvFormat, HistoryFormat,
    InfoFormat, KeySelection, StatsFormat, StatusFormat, VerifyFormat,
};
use crate::fail::{CmdResult, Failure};
use crate::output::{choose, with_yaml};

/// Runs the command the user asked for.
pub fn run(cli: Cli, out: &mut dyn Write, err: &mut dyn Write) -> CmdResult {
    let w = cli.global.write_out;
    match cli.command {
        Command::Diff(d) => {
            let o = choose(
                w,
                "diff",
                &[
                    (Format::Simple, DiffFormat::Text),
                    (Format::Json, DiffFormat::Json),
                    (Format::Yaml, DiffFormat::Json),
                    (Format::Jsonl, DiffFormat::Jsonl),
                ],
            )?;
            let cfg = diff::DiffConfig {
                a: d.a,
                b: d.b,
                rev_a: d.rev_a,
                rev_b: d.rev_b,
                range: d.keys.range(),
                values: d.values,
                show_secrets: d.show_secrets,
                summary_only: d.summary,
                format: o.format,
                threads: d.threads.unwrap_or_else(default_threads),
            };
            with_yaml(o.yaml, out, |out| diff::run(&cfg, out, err))
        }
        Command::Status { file, threads } => {
            let o = choose(
                w,
                "status",
                &[
                    (Format::Table, StatusFormat::Table),
                    (Format::Simple, StatusFormat::Simple),
                    (Format::Json, StatusFormat::Json),
                    (Format::Yaml, StatusFormat::Json),
                    (Format::Fields, StatusFormat::Fields),
                ],
            )?;
            let snap = open(&file, err)?;
            with_yaml(o.yaml, out, |out| {
                status::run(
                    &snap,
                    o.format,
                    threads.unwrap_or_else(default_threads),
                    out,
                )
            })
        }
        Command::Get {
            file,
            keys,
            rev,
            keys_only,
            count_only,
            limit,
            print_value_only,
            sort_by,
            order,
            threads,
            decode,
            show_secrets,
        } => {
            let o = choose(
                w,
                "get",
                &[
                    (Format::Simple, GetFormat::Simple),
                    (Format::Json, GetFormat::Json),
                    (Format::Yaml, GetFormat::Json),
                    (Format::Fields, GetFormat::Fields),
                    (Format::Jsonl, GetFormat::Jsonl),
                ],
            )?;
            if keys.key.is_none() {
                return Err(Failure::usage(
                    "get command needs one argument as key and an optional argument as range_end",
                ));
            }
            let (sort_target, sort_order) = get::sort(sort_by, order);
            let cfg = get::GetConfig {
                request: RangeRequest {
                    range: keys.range(),
                    revision: rev.rev,
                    limit,
                    keys_only,
                    count_only,
                    sort_target,
                    sort_order,
                },
                format: o.format,
                print_value_only,
                threads: threads.unwrap_or_else(default_threads),
                decode,
                show_secrets,
            };
            let snap = open(&file, err)?;
            with_yaml(o.yaml, out, |out| get::run(&snap, &cfg, out))
        }
        Command::History { file, keys } => {
            let o = choose(
                w,
                "history",
                &[
                    (Format::Simple, HistoryFormat::Simple),
                    (Format::Json, HistoryFormat::Json),
                    (Format::Yaml, HistoryFormat::Json),
                    (Format::Jsonl, HistoryFormat::Jsonl),
                ],
            )?;
            let range = keys.range();
            let snap = open(&file, err)?;
            with_yaml(o.yaml, out, |out| {
                history::run(&snap, &range, o.format, out)
            })
        }
        Command::Hashkv { file, rev, threads } => {
            let o = choose(
                w,
                "hashkv",
                &[
                    (Format::Simple, HashKvFormat::Simple),
                    (Format::Table, HashKvFormat::Table),
                    (Format::Json, HashKvFormat::Json),
                    (Format::Yaml, HashKvFormat::Json),
                ],
            )?;
            let snap = open(&file, err)?;
            with_yaml(o.yaml, out, |out| {
                hashkv::run(
                    &snap,
                    rev.rev,
                    o.format,
                    threads.unwrap_or_else(default_threads),
                    out,
                )
            })
        }
        Command::Info { file, threads } => {
            let o = choose(
                w,
                "info",
                &[
                    (Format::Simple, InfoFormat::Table),
                    (Format::Table, InfoFormat::Table),
                    (Format::Json, InfoFormat::Json),
                    (Format::Yaml, InfoFormat::Json),
                ],
            )?;
            let snap = open(&file, err)?;
            with_yaml(o.yaml, out, |out| {
                info::run(
                    &snap,
                    o.format,
                    threads.unwrap_or_else(default_threads),
                    out,
                )
            })
        }
        Command::Stats {
            file,
            keys,
            rev,
            by,
            top,
            etcd_prefix,
            threads,
        } => {
            let o = choose(
                w,
                "stats",
                &[
                    (Format::Simple, StatsFormat::Table),
                    (Format::Table, StatsFormat::Table),
                    (Format::Json, StatsFormat::Json),
                    (Format::Yaml, StatsFormat::Json),
                ],
            )?;
            let cfg = stats::StatsConfig {
                rev: rev.rev,
                range: keys.range(),
                group_by: by,
                top,
                etcd_prefix,
                format: o.format,
                threads: threads.unwrap_or_else(default_threads).max(1),
            };
            let snap = open(&file, err)?;
            with_yaml(o.yaml, out, |out| stats::run(&snap, &cfg, out))
        }
        Command::Audit {
            file,
            keys,
            rev,
            mut resources,
            etcd_prefix,
            history,
            threads,
        } => {
            let o = choose(
                w,
                "audit",
                &[
                    (Format::Simple, AuditFormat::Text),
                    (Format::Json, AuditFormat::Json),
                    (Format::Yaml, AuditFormat::Json),
                ],
            )?;
            if resources.is_empty() {
                resources.push("secrets".into());
            }
            resources.dedup();
            let cfg = audit::AuditConfig {
                rev: rev.rev,
                range: keys.range(),
                resources,
                etcd_prefix,
                format: o.format,
                threads: threads.unwrap_or_else(default_threads).max(1),
                history,
            };
            let snap = open(&file, err)?;
            with_yaml(o.yaml, out, |out| audit::run(&snap, &cfg, out))
        }
        Command::Verify { file, max_findings } => {
            let o = choose(
                w,
                "verify",
                &[
                    (Format::Simple, VerifyFormat::Text),
                    (Format::Json, VerifyFormat::Json),
                    (Format::Yaml, VerifyFormat::Json),
                ],
            )?;
            let cfg = verify::Config {
                path: file,
                format: o.format,
                max_findings,
            };
            with_yaml(o.yaml, out, |out| verify::run(&cfg, out, err))
        }
        Command::Version => {
            let o = choose(
                w,
                "version",
                &[
                    (Format::Simple, false),
                    (Format::Json, true),
                    (Format::Yaml, true),
                ],
            )?;
            with_yaml(o.yaml, out, |out| version::run(o.format, out))
        }
        Command::Export(a) => {
            let format = a.write_out.or(w);
            export::run(a, format, err, out)
        }
    }
}

impl KeySelection {
    /// The keys selected, with etcdctl's rules: `--prefix` (KEY "" = every key),
    /// `--from-key`, `KEY RANGE_END`, one exact KEY; no KEY = every key.
    pub fn range(&self) -> KeyRange {
        let Some(key) = &self.key else {
            return KeyRange::all();
        };
        let key = arg_bytes(key);
        let end = self.range_end.as_deref().map(arg_bytes);
        get::key_range(&key, end.as_deref(), self.prefix, self.from_key)
    }
}

/// The bytes of a command-line argument (keys may be any bytes on Unix).
pub fn arg_bytes(s: &OsStr) -> Vec<u8> {
    #[cfg(unix)]
    {
        use std::os::unix::ffi::OsStrExt;
        s.as_bytes().to_vec()
    }
    #[cfg(not(unix))]
    {
        s.to_string_lossy().into_owned().into_bytes()
    }
}

/// Threads to use when the user did not say.
pub fn default_threads() -> usize {
    std::thread::available_parallelism().map_or(1, |n| n.get())
}

/// Opens a snapshot (or a data directory's db), saying on stderr which file a directory led to.
pub fn open(path: &Path, err: &mut dyn Write) -> Result<Snapshot, Failure> {
    // Snapshot::open refuses a bare directory itself (Error::NotADataDir).
    let snap = Snapshot::open(path).map_err(|e| Failure::at(path, e))?;
    if snap.from_data_dir() {
        let _ = writeln!(err, "etcdsnap: reading {}", snap.path().display());
    }
    Ok(snap)
}

/// A directory is accepted only when it is an etcd data directory (for `verify`, which reads
/// the file without [`Snapshot::open`]); the same words as [`etcdsnap_mvcc::Error::NotADataDir`].
pub fn not_a_bare_directory(path: &Path) -> Result<(), Failure> {
    let (file, _) = etcdsnap_mvcc::snapshot::resolve_path(path);
    if file.is_dir() {
        return Err(Failure::at(path, etcdsnap_mvcc::Error::NotADataDir));
    }
    Ok(())
}
