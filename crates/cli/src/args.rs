//! What the user typed, as clap derives it. Commands convert these into their own plain
//! configuration; nothing below the binary sees clap.

use std::ffi::OsString;
use std::path::PathBuf;

use clap::{Parser, Subcommand, ValueEnum};
use etcdsnap_k8s::GroupBy;

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

/// Output formats of `get` (etcdctl's `-w` for get; etcdctl has no table for it).
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum GetFormat {
    /// Each key on a line, its value on the next (raw bytes).
    Simple,
    /// etcd's RangeResponse as one JSON line (keys and values base64).
    Json,
    /// One `"Field" : value` line each, strings quoted Go-style.
    Fields,
}

/// `--sort-by` of etcdctl get.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
#[value(rename_all = "UPPER")]
pub enum SortBy {
    /// Create revision.
    Create,
    /// Key bytes.
    Key,
    /// Mod revision.
    Modify,
    /// Value bytes.
    Value,
    /// Version.
    Version,
}

/// `--order` of etcdctl get.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
#[value(rename_all = "UPPER")]
pub enum Order {
    /// Ascending.
    Ascend,
    /// Descending.
    Descend,
}

/// Output formats of `history`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum HistoryFormat {
    /// One line per revision, grouped by key.
    Simple,
    /// One JSON document (keys base64).
    Json,
}

/// Output formats of `hashkv`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum HashKvFormat {
    /// `HASH, COMPACT REVISION, REVISION` on one line.
    Simple,
    /// `{"hash":N,"compact_revision":N,"revision":N,"hash_revision":N}`.
    Json,
    /// A bordered table: HASH | COMPACT REVISION | REVISION.
    Table,
}

/// Output formats of `info`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum InfoFormat {
    /// Readable sections with tables.
    Table,
    /// One JSON document with a stable schema.
    Json,
}

/// Output formats of `diff`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum DiffFormat {
    /// One line per change (`+`, `-`, `~`), then a summary per change kind and group.
    Text,
    /// One JSON object: both sides, the changes in key order, the summary and the groups.
    Json,
}

/// Arguments of `diff`.
#[derive(Debug, clap::Args)]
pub struct DiffArgs {
    /// The "before" snapshot (file or data directory).
    pub a: PathBuf,
    /// The "after" snapshot (may be the same file, read at another revision).
    pub b: PathBuf,
    /// The key, or the start of a range [KEY, RANGE_END); all keys when absent.
    pub key: Option<OsString>,
    /// The end of the range, exclusive.
    pub range_end: Option<OsString>,
    /// Compare only the keys starting with this prefix.
    #[arg(long, conflicts_with_all = ["key", "range_end"])]
    pub prefix: Option<OsString>,
    /// Revision of A to read (0 = its newest).
    #[arg(long, default_value_t = 0)]
    pub rev_a: i64,
    /// Revision of B to read (0 = its newest).
    #[arg(long, default_value_t = 0)]
    pub rev_b: i64,
    /// Show values: base64 in JSON; in text, a line diff of text values (Kubernetes objects
    /// decoded to JSON first).
    #[arg(long)]
    pub values: bool,
    /// With --values, show Secret payloads instead of hiding them.
    #[arg(long)]
    pub show_secrets: bool,
    /// Only the summary, no line per key.
    #[arg(long)]
    pub summary: bool,
    /// Output format.
    #[arg(short = 'w', long = "write-out", value_enum, default_value = "text")]
    pub write_out: DiffFormat,
    /// Threads in all (default: all cores).
    #[arg(long)]
    pub threads: Option<usize>,
}

/// Output formats of `stats`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum StatsFormat {
    /// Readable sections with tables.
    Table,
    /// One JSON document with a stable schema.
    Json,
}

/// Output formats of `audit`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum AuditFormat {
    /// A verdict line, the keys in use, and every object not encrypted.
    Text,
    /// One JSON document with a stable schema.
    Json,
}

/// `--by` of `stats`: `resource`, `namespace`, `kind`, `prefix` or `prefix:N`.
fn parse_group_by(s: &str) -> Result<GroupBy, String> {
    match s {
        "resource" => Ok(GroupBy::Resource),
        "namespace" => Ok(GroupBy::Namespace),
        "kind" => Ok(GroupBy::Kind),
        "prefix" => Ok(GroupBy::Prefix(2)),
        _ => match s.strip_prefix("prefix:").map(str::parse::<usize>) {
            Some(Ok(n)) if n > 0 => Ok(GroupBy::Prefix(n)),
            _ => Err("expected resource, namespace, kind, prefix or prefix:N (N >= 1)".into()),
        },
    }
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
    /// What changed between two snapshots (or one snapshot at two revisions).
    ///
    /// Keys added, deleted, and modified (value changed, or only revisions moved), then counts
    /// per change kind and per group. Exit 0 when nothing differs, 1 when something does, 2 on
    /// error.
    #[command(display_order = 7)]
    Diff(DiffArgs),
    /// What `etcdutl snapshot status` prints: hash, revision, total keys, total size.
    #[command(display_order = 1)]
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
    /// Keys at any revision, with `etcdctl get` (3.5) semantics and output.
    ///
    /// A missing key prints nothing. The JSON header holds what a snapshot knows: the store's current
    /// revision and, for etcd 3.5+ files, the raft term; it cannot know the cluster and member
    /// ids, so they are omitted (also from `-w fields`). Unlike etcdctl, `--count-only` works
    /// in every format (simple prints the count) and may be combined with `--keys-only`.
    #[command(display_order = 3)]
    Get {
        /// A snapshot file, or an etcd data directory.
        file: PathBuf,
        /// The key, or the start of the range.
        key: OsString,
        /// The end of the range, exclusive.
        range_end: Option<OsString>,
        /// Every key starting with KEY ("" = every key).
        #[arg(long, conflicts_with_all = ["from_key", "range_end"])]
        prefix: bool,
        /// Every key >= KEY (byte order).
        #[arg(long, conflicts_with = "range_end")]
        from_key: bool,
        /// The revision to read (0 = the newest). Below the compaction etcd's "required
        /// revision has been compacted"; past the newest, "is a future revision".
        #[arg(long, default_value_t = 0, allow_negative_numbers = true)]
        rev: i64,
        /// Keys without values.
        #[arg(long)]
        keys_only: bool,
        /// Only the number of keys.
        #[arg(long)]
        count_only: bool,
        /// At most N keys (`more` then says whether there were more); 0 = no limit.
        #[arg(long, default_value_t = 0, allow_negative_numbers = true)]
        limit: i64,
        /// Values only (simple format).
        #[arg(long)]
        print_value_only: bool,
        /// Sort by CREATE, KEY, MODIFY, VALUE or VERSION.
        #[arg(long, value_enum, ignore_case = true)]
        sort_by: Option<SortBy>,
        /// ASCEND or DESCEND (ASCEND when only --sort-by is given).
        #[arg(long, alias = "sort-order", value_enum, ignore_case = true)]
        order: Option<Order>,
        /// Output format.
        #[arg(short = 'w', long = "write-out", value_enum, default_value = "simple")]
        write_out: GetFormat,
        /// Threads for the scan (default: all cores).
        #[arg(long)]
        threads: Option<usize>,
        /// Show values readable: Kubernetes objects as JSON documents (apiVersion, kind,
        /// metadata, body), text as is, and a marker for encrypted, empty or opaque values.
        /// Secret payloads stay hidden (key names and sizes only) without --show-secrets.
        #[arg(long)]
        decode: bool,
        /// With --decode, show Secret payloads.
        #[arg(long, requires = "decode")]
        show_secrets: bool,
    },
    /// Every stored revision of a key (or of the keys under a prefix).
    ///
    /// Puts and deletions, with revision (main_sub), create and mod revision, version, lease
    /// and value size. Revisions removed by a compaction are gone from the file.
    #[command(display_order = 4)]
    History {
        /// A snapshot file, or an etcd data directory.
        file: PathBuf,
        /// The key, or the prefix with --prefix.
        key: OsString,
        /// Every key starting with KEY ("" = every key).
        #[arg(long)]
        prefix: bool,
        /// Output format.
        #[arg(short = 'w', long = "write-out", value_enum, default_value = "simple")]
        write_out: HistoryFormat,
    },
    /// The hash `etcdctl endpoint hashkv --rev R` returns for this store.
    ///
    /// With the store's compaction revision. There is no endpoint here, so the table is HASH | COMPACT REVISION | REVISION
    /// (REVISION = the store's current revision, the header revision of etcdctl's answer).
    /// Like etcd 3.4/3.5, R at or below the compaction is refused.
    #[command(display_order = 5)]
    Hashkv {
        /// A snapshot file, or an etcd data directory.
        file: PathBuf,
        /// The revision to hash (0 = the newest).
        #[arg(long, default_value_t = 0, allow_negative_numbers = true)]
        rev: i64,
        /// Output format.
        #[arg(short = 'w', long = "write-out", value_enum, default_value = "simple")]
        write_out: HashKvFormat,
        /// Threads for hashing (default: all cores).
        #[arg(long)]
        threads: Option<usize>,
    },
    /// Everything the file says about the cluster.
    ///
    /// Raft position, compaction, versions, members, leases (with their live keys), auth users and roles (never password hashes),
    /// alarms, buckets and pages.
    #[command(display_order = 6)]
    Info {
        /// A snapshot file, or an etcd data directory.
        file: PathBuf,
        /// Output format.
        #[arg(short = 'w', long = "write-out", value_enum, default_value = "table")]
        write_out: InfoFormat,
        /// Threads for the scan (default: all cores).
        #[arg(long)]
        threads: Option<usize>,
    },
    /// What fills the store, per resource, and what a compaction or a defrag would give back.
    ///
    /// Live objects, history and tombstones per group, the largest objects, the most rewritten
    /// keys, and the file's pages. Live bytes are key + value of each key's newest revision; history is the older revisions
    /// still stored (what a compaction would drop); keys outside the registry group by their
    /// first path segment.
    #[command(display_order = 8)]
    Stats {
        /// A snapshot file, or an etcd data directory.
        file: PathBuf,
        /// The revision to account at (0 = the newest); revisions after it are ignored.
        #[arg(long, default_value_t = 0, allow_negative_numbers = true)]
        rev: i64,
        /// Group by resource, namespace, kind (of the value), or the first N key segments
        /// (prefix = prefix:2).
        #[arg(long, default_value = "resource", value_parser = parse_group_by)]
        by: GroupBy,
        /// Length of the lists of largest objects and most rewritten keys.
        #[arg(long, default_value_t = 10)]
        top: usize,
        /// The API server's --etcd-prefix.
        #[arg(long, default_value = "/registry")]
        etcd_prefix: String,
        /// Output format.
        #[arg(short = 'w', long = "write-out", value_enum, default_value = "table")]
        write_out: StatsFormat,
        /// Threads in all (default: all cores).
        #[arg(long)]
        threads: Option<usize>,
    },
    /// Encryption at rest: which Secrets are encrypted, which are stored in plaintext.
    ///
    /// Encrypted ones are counted by provider and key; plaintext ones are listed by namespace
    /// and name. Exit 0 when all are encrypted, 1 when any is not. Names only, never values. Objects are the live ones at the revision read.
    #[command(display_order = 9)]
    Audit {
        /// A snapshot file, or an etcd data directory.
        file: PathBuf,
        /// The revision to read (0 = the newest).
        #[arg(long, default_value_t = 0, allow_negative_numbers = true)]
        rev: i64,
        /// A resource to audit, as written in keys (`secrets`, `configmaps`,
        /// `example.com/widgets`); repeat for several. Default: secrets.
        #[arg(long = "resource", value_name = "RESOURCE")]
        resources: Vec<String>,
        /// The API server's --etcd-prefix.
        #[arg(long, default_value = "/registry")]
        etcd_prefix: String,
        /// Output format.
        #[arg(short = 'w', long = "write-out", value_enum, default_value = "text")]
        write_out: AuditFormat,
        /// Also audit the older revisions still stored (written before encryption was
        /// enabled and not yet compacted away); any not encrypted also exits 1.
        #[arg(long)]
        history: bool,
        /// Threads for the scan (default: all cores).
        #[arg(long)]
        threads: Option<usize>,
    },
    /// Is this file sound? Checks everything, reports every finding.
    ///
    /// The sha256 trailer, both meta pages, the whole B+tree (every page, key order, freelist)
    /// and etcd's layer (revision keys, values, each key's history, compaction revisions). Exit
    /// 0 when everything holds, 1 when anything fails.
    #[command(display_order = 2)]
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
    /// A snapshot as a table: Parquet, JSON Lines or CSV for DuckDB, pandas, Spark, Trino.
    ///
    /// One row per live key at a revision (or per stored revision with --history), with the
    /// Kubernetes object each value holds in columns; schema in docs/export.md. The file is
    /// written under a temporary name and renamed when complete; an existing one is refused
    /// unless --force.
    #[command(display_order = 10)]
    Export(crate::commands::export::ExportArgs),
}

#[cfg(test)]
mod tests {
    use clap::CommandFactory;

    #[test]
    fn cli_is_consistent() {
        super::Cli::command().debug_assert();
    }
}
