//! One module per command; each takes its configuration and writers, returns an outcome.

mod status;
mod verify;

use std::io::Write;
use std::path::Path;

use etcdsnap_mvcc::Snapshot;

use crate::args::{Cli, Command};
use crate::fail::{CmdResult, Failure};

/// Runs the command the user asked for.
pub fn run(cli: Cli, out: &mut dyn Write, err: &mut dyn Write) -> CmdResult {
    match cli.command {
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
    }
}

/// Threads to use when the user did not say.
pub fn default_threads() -> usize {
    std::thread::available_parallelism().map_or(1, |n| n.get())
}

/// Opens a snapshot (or a data directory's db), saying on stderr which file a directory led to.
pub fn open(path: &Path, err: &mut dyn Write) -> Result<Snapshot, Failure> {
    not_a_bare_directory(path)?;
    let snap = Snapshot::open(path).map_err(|e| Failure::at(path, e))?;
    if snap.from_data_dir() {
        let _ = writeln!(err, "etcdsnap: reading {}", snap.path().display());
    }
    Ok(snap)
}

/// A directory is accepted only when it is an etcd data directory.
pub fn not_a_bare_directory(path: &Path) -> Result<(), Failure> {
    let (file, _) = etcdsnap_mvcc::snapshot::resolve_path(path);
    if file.is_dir() {
        return Err(Failure::at(
            path,
            "is a directory without member/snap/db: give a snapshot file or an etcd data directory",
        ));
    }
    Ok(())
}
