//! What the user typed, as clap derives it. Commands convert these into their own plain
//! configuration; nothing below the binary sees clap.

use std::path::PathBuf;

use clap::{Parser, Subcommand, ValueEnum};

/// Open etcd v3 snapshot files offline: status, integrity, keys at any revision, diffs and
/// Kubernetes statistics. Exit status: 0 success, 1 something found (differences, integrity
/// problems), 2 unusable input or wrong arguments.
#[derive(Debug, Parser)]
#[command(name = "etcdsnap", version, about, max_term_width = 100)]
pub struct Cli {
    /// The command.
    #[command(subcommand)]
    pub command: Command,
}

/// Output formats of etcdctl (`-w`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum StatusFormat {
    /// A bordered table.
    Table,
    /// One JSON object on one line.
    Json,
    /// Values separated by commas.
    Simple,
    /// One `"Field" : value` line each.
    Fields,
}

/// Output formats of `verify`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum VerifyFormat {
    /// One line per check, then its findings, for a person.
    Text,
    /// One JSON object on one line, for scripts.
    Json,
}

/// The commands.
#[derive(Debug, Subcommand)]
pub enum Command {
    /// What `etcdutl snapshot status` prints: hash, revision, total keys, total size.
    Status {
        /// A snapshot file, or an etcd data directory (its member/snap/db is read).
        file: PathBuf,
        /// Output format.
        #[arg(short = 'w', long = "write-out", value_enum, default_value = "table")]
        write_out: StatusFormat,
        /// Threads for hashing (default: all cores).
        #[arg(long)]
        threads: Option<usize>,
    },
    /// Checks a snapshot's integrity: the sha256 trailer, both meta pages, the whole B+tree
    /// (every page, key order, freelist) and etcd's layer (revision keys, values, each key's
    /// history, compaction revisions). Exit 0 when everything holds, 1 when anything fails.
    Verify {
        /// A snapshot file, or an etcd data directory (its member/snap/db is read).
        file: PathBuf,
        /// Output format.
        #[arg(short = 'w', long = "write-out", value_enum, default_value = "text")]
        write_out: VerifyFormat,
        /// Findings printed per check (all are counted).
        #[arg(long, default_value_t = 100)]
        max_findings: usize,
    },
}
