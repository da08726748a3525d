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

use std::ffi::OsStr;
use std::io::Write;
use std::path::Path;

use etcdsnap_mvcc::keyspace::RangeRequest;
use etcdsnap_mvcc::{KeyRange, Snapshot};

use crate::args::{Cli, Command};
use crate::fail::{CmdResult, Failure};

/// Runs the command the user asked for.
pub fn run(cli: Cli, out: &mut dyn Write, err: &mut dyn Write) -> CmdResult {
    match cli.command {
        Command::Diff(d) => {
            let range = match (&d.prefix, &d.key) {
                (Some(p), _) => KeyRange::prefix(&arg_bytes(p)),
                (None, Some(k)) => match &d.range_end {
                    Some(end) => KeyRange::between(&arg_bytes(k), &arg_bytes(end)),
                    None => KeyRange::single(&arg_bytes(k)),
                },
                (None, None) => KeyRange::all(),
            };
            let cfg = diff::DiffConfig {
                a: d.a,
                b: d.b,
                rev_a: d.rev_a,
                rev_b: d.rev_b,
                range,
                values: d.values,
                show_secrets: d.show_secrets,
                summary_only: d.summary,
                format: d.write_out,
                threads: d.threads.unwrap_or_else(default_threads),
            };
            diff::run(&cfg, out, err)
        }
        Command::Status {
            file,
            write_out,
            threads,
        } => {
            let snap = open(&file, err)?;
            status::run(
                &snap,
                write_out,
                threads.unwrap_or_else(default_threads),
                out,
            )
        }
        Command::Get {
            file,
            key,
            range_end,
            prefix,
            from_key,
            rev,
            keys_only,
            count_only,
            limit,
            print_value_only,
            sort_by,
            order,
            write_out,
            threads,
            decode,
            show_secrets,
        } => {
            let range = get::key_range(
                &arg_bytes(&key),
                range_end.as_deref().map(arg_bytes).as_deref(),
                prefix,
                from_key,
            );
            let (sort_target, sort_order) = get::sort(sort_by, order);
            let cfg = get::GetConfig {
                request: RangeRequest {
                    range,
                    revision: rev,
                    limit,
                    keys_only,
                    count_only,
                    sort_target,
                    sort_order,
                },
                format: write_out,
                print_value_only,
                threads: threads.unwrap_or_else(default_threads),
                decode,
                show_secrets,
            };
            let snap = open(&file, err)?;
            get::run(&snap, &cfg, out)
        }
        Command::History {
            file,
            key,
            prefix,
            write_out,
        } => {
            let key = arg_bytes(&key);
            let range = if prefix {
                KeyRange::prefix(&key)
            } else {
                KeyRange::single(&key)
            };
            let snap = open(&file, err)?;
            history::run(&snap, &range, write_out, out)
        }
        Command::Hashkv {
            file,
            rev,
            write_out,
            threads,
        } => {
            let snap = open(&file, err)?;
            hashkv::run(
                &snap,
                rev,
                write_out,
                threads.unwrap_or_else(default_threads),
                out,
            )
        }
        Command::Info {
            file,
            write_out,
            threads,
        } => {
            let snap = open(&file, err)?;
            info::run(
                &snap,
                write_out,
                threads.unwrap_or_else(default_threads),
                out,
            )
        }
        Command::Stats {
            file,
            rev,
            by,
            top,
            etcd_prefix,
            write_out,
            threads,
        } => {
            let cfg = stats::StatsConfig {
                rev,
                group_by: by,
                top,
                etcd_prefix,
                format: write_out,
                threads: threads.unwrap_or_else(default_threads).max(1),
            };
            let snap = open(&file, err)?;
            stats::run(&snap, &cfg, out)
        }
        Command::Audit {
            file,
            rev,
            mut resources,
            etcd_prefix,
            write_out,
            history,
            threads,
        } => {
            if resources.is_empty() {
                resources.push("secrets".into());
            }
            resources.dedup();
            let cfg = audit::AuditConfig {
                rev,
                resources,
                etcd_prefix,
                format: write_out,
                threads: threads.unwrap_or_else(default_threads).max(1),
                history,
            };
            let snap = open(&file, err)?;
            audit::run(&snap, &cfg, out)
        }
        Command::Verify {
            file,
            write_out,
            max_findings,
        } => verify::run(
            &verify::Config {
                path: file,
                format: write_out,
                max_findings,
            },
            out,
            err,
        ),
        Command::Export(a) => export::run(a, err, out),
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
