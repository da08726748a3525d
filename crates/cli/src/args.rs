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
#[command(
    name = "etcdsnap",
    version,
    about,
    max_term_width = 100,
    after_help = "Examples:
  etcdsnap status backup.db
  etcdsnap verify backups/*.db && echo \"safe to restore\"
  etcdsnap -o json get backup.db /registry/pods/ --prefix --keys-only
  etcdsnap diff last-night.db.gz this-morning.db --summary
Exit status: 0 success, 1 something found, 2 unusable input or wrong arguments."
)]
pub struct Cli {
    /// Flags every command takes, before or after the command's name.
    #[command(flatten)]
    pub global: GlobalArgs,
    /// The command.
    #[command(subcommand)]
    pub command: Command,
}

/// Flags of every command, accepted before the subcommand too (`etcdsnap -w json status F`),
/// as etcdctl accepts its global flags. A command must not declare these names itself.
#[derive(Debug, Clone, clap::Args)]
pub struct GlobalArgs {
    /// Output format (each command's help lists those it offers; default: its human format).
    #[arg(
        short = 'w',
        long = "write-out",
        visible_short_alias = 'o',
        visible_alias = "output",
        value_enum,
        global = true,
        value_name = "FORMAT"
    )]
    pub write_out: Option<Format>,
    /// Keys and values as \xNN escapes in human output (etcdctl's --hex).
    #[arg(long, global = true)]
    pub hex: bool,
    /// Colour: auto (on a terminal, unless NO_COLOR is set), always, never.
    #[arg(
        long,
        global = true,
        value_enum,
        default_value = "auto",
        value_name = "WHEN"
    )]
    pub color: crate::style::ColorChoice,
    /// No progress on stderr.
    #[arg(short = 'q', long, global = true)]
    pub quiet: bool,
}

/// Every output format, by the name `-w`/`-o` takes. A command offers a subset
/// ([`crate::output::choose`]); `yaml` is offered wherever `json` is (the same document), and
/// `jsonl` (one JSON object per line, streamed) for listings.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum Format {
    /// The human format of the command (etcdctl's name; `text` is accepted for it).
    #[value(alias = "text")]
    Simple,
    /// A bordered table, where etcdctl has one (status, hashkv).
    Table,
    /// One JSON document.
    Json,
    /// The JSON document as YAML (same fields, same order).
    Yaml,
    /// One JSON object per line, streamed (listings).
    Jsonl,
    /// One `"Field" : value` line each (etcdctl's fields).
    Fields,
    /// `kube get`: kubectl's table with its extra columns.
    Wide,
    /// `kube get`: `kind.group/name`, one a line.
    Name,
    /// `kube get`: restore-ready manifests (a YAML stream).
    Manifest,
    /// Apache Parquet (export).
    Parquet,
    /// CSV with a header line (export).
    Csv,
}

/// Which keys a command reads, with etcdctl's grammar: `KEY [RANGE_END]`, `--prefix`,
/// `--from-key`. No KEY means every key (except for `get`, which needs one, as etcdctl).
/// A new command takes it with `#[command(flatten)] keys: KeySelection` after its file
/// argument(s) and calls [`KeySelection::range`].
#[derive(Debug, Clone, Default, clap::Args)]
pub struct KeySelection {
    /// The key, or the start of the range [KEY, RANGE_END) ("" with --prefix or --from-key =
    /// every key). Without --prefix, KEY is one exact key.
    #[arg(value_name = "KEY")]
    pub key: Option<OsString>,
    /// The end of the range, exclusive.
    #[arg(value_name = "RANGE_END")]
    pub range_end: Option<OsString>,
    /// Every key starting with KEY.
    #[arg(long, conflicts_with_all = ["from_key", "range_end"])]
    pub prefix: bool,
    /// Every key >= KEY (byte order).
    #[arg(long, conflicts_with = "range_end")]
    pub from_key: bool,
}

/// `--rev R`, the same in every command: the revision to read; 0 (the default) or any
/// negative number reads the newest, as etcd's Range does for any revision <= 0. Below the
/// compaction: etcd's "required revision has been compacted"; past the newest: "is a future
/// revision" (both with the file and the valid range).
#[derive(Debug, Clone, Copy, Default, clap::Args)]
pub struct RevArg {
    /// The revision to read (0 or negative = the newest).
    #[arg(
        long,
        default_value_t = 0,
        allow_negative_numbers = true,
        value_name = "REV"
    )]
    pub rev: i64,
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
    /// One JSON object per key-value, on its own line, streamed.
    Jsonl,
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
    /// One JSON object per key (its revisions inside), on its own line, streamed.
    Jsonl,
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
    /// One `"Field" : value` line each (etcdutl 3.6's hashkv fields).
    Fields,
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
    /// One JSON object per change on its own line, streamed; then one line with the summary.
    Jsonl,
}

/// Arguments of `diff`.
#[derive(Debug, clap::Args)]
#[command(after_help = "Examples:
  etcdsnap diff last-night.db this-morning.db --summary
  etcdsnap diff a.db b.db /registry/configmaps/ --prefix --values
  etcdsnap diff backup.db backup.db --rev-a 4000 --rev-b 4711 -w jsonl
Formats (-w): simple (default), json, yaml, jsonl (one change per line).")]
pub struct DiffArgs {
    /// The "before" snapshot (file or data directory).
    pub a: PathBuf,
    /// The "after" snapshot (may be the same file, read at another revision).
    pub b: PathBuf,
    /// The keys compared (all when no KEY is given).
    #[command(flatten)]
    pub keys: KeySelection,
    /// Revision of A to read (0 or negative = its newest).
    #[arg(long, default_value_t = 0, allow_negative_numbers = true)]
    pub rev_a: i64,
    /// Revision of B to read (0 or negative = its newest).
    #[arg(long, default_value_t = 0, allow_negative_numbers = true)]
    pub rev_b: i64,
    /// Show values: base64 in JSON; in text, a line diff of text values (Kubernetes objects
    /// decoded to JSON first).
    #[arg(long)]
    pub values: bool,
    /// With --values, show Secret payloads instead of hiding them.
    #[arg(long)]
    pub show_secrets: bool,
    /// Compare Kubernetes objects decoded: each changed object is shown as a unified diff of
    /// its YAML as kubectl prints it (implies --values in text).
    #[arg(long)]
    pub decode: bool,
    /// With --decode, ignore fields that change on every write (metadata.resourceVersion,
    /// managedFields, generation, status.observedGeneration and status timestamps): objects
    /// that differ only there are counted unchanged.
    #[arg(long, requires = "decode")]
    pub ignore_server_fields: bool,
    /// Only the summary, no line per key.
    #[arg(long)]
    pub summary: bool,
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
    /// One JSON object per object not encrypted, then one with the counts.
    Jsonl,
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
    ///
    /// Byte for byte what etcdutl of --etcd-version prints (default: the etcd that wrote the
    /// file, from its storage version; 3.5 when it has none). Like etcdutl, the file is first
    /// checked the way bbolt's Tx.Check does; a damaged file is refused (exit 1, one line per
    /// problem on stderr), as is one etcdutl of that version cannot read.
    #[command(
        display_order = 1,
        after_help = "Examples:
  etcdsnap status backup.db
  etcdsnap status backup.db -w json
  etcdsnap -w simple status /var/lib/etcd
  etcdsnap status backups/*.db backups/*.db.gz -w simple
Formats (-w): simple (default, as etcdutl), table, json, yaml, fields."
    )]
    Status {
        /// Snapshot files or etcd data directories (their member/snap/db is read); `-` is
        /// stdin; gzip/zstd/xz backups are decompressed first. With several, one line (or
        /// JSON object) each, led by the file; the exit status is the worst.
        #[arg(required = true, value_name = "FILE")]
        files: Vec<PathBuf>,
        /// Whose etcdutl to reproduce: 3.5, 3.6 or 3.7 (default: the writer's storage
        /// version's major.minor, 3.5 when there is none).
        #[arg(long, value_name = "VERSION")]
        etcd_version: Option<etcdsnap_mvcc::versions::EtcdVersion>,
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
    #[command(
        display_order = 3,
        after_help = "Examples:
  etcdsnap get backup.db /registry/configmaps/ --prefix --keys-only
  etcdsnap get backup.db /registry/pods/default/web-0 --rev 4711 -w json
  etcdsnap get backup.db /registry/services/specs/default/kubernetes --decode
  etcdsnap get backup.db '' --from-key --count-only
Formats (-w): simple (default), json, yaml, fields, jsonl (one key per line)."
    )]
    Get {
        /// A snapshot file, or an etcd data directory.
        file: PathBuf,
        /// The keys: KEY is required, as in etcdctl.
        #[command(flatten)]
        keys: KeySelection,
        /// The revision (0 or negative = the newest).
        #[command(flatten)]
        rev: RevArg,
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
    /// Every stored revision of a key (or of the keys under a prefix, or of every key).
    ///
    /// Puts and deletions, with revision (main_sub), create and mod revision, version, lease
    /// and value size. Revisions removed by a compaction are gone from the file.
    #[command(
        display_order = 4,
        after_help = "Examples:
  etcdsnap history backup.db /registry/leases/kube-system/kube-scheduler
  etcdsnap history backup.db /registry/configmaps/default/ --prefix -w jsonl
Formats (-w): simple (default), json, yaml, jsonl (one key per line)."
    )]
    History {
        /// A snapshot file, or an etcd data directory.
        file: PathBuf,
        /// The keys (all when no KEY is given).
        #[command(flatten)]
        keys: KeySelection,
        /// Each revision as the object it stored (Kubernetes objects as kubectl shows them, in
        /// YAML under the revision line; in JSON the fields of `get --decode`).
        #[arg(long)]
        decode: bool,
        /// With --decode, show Secret payloads.
        #[arg(long, requires = "decode")]
        show_secrets: bool,
    },
    /// The hash `etcdctl endpoint hashkv --rev R` returns for this store.
    ///
    /// With the store's compaction revision. Shapes and rules follow --etcd-version: for 3.5
    /// (the default for files without a storage version) the table is HASH | COMPACT REVISION |
    /// REVISION (REVISION = the store's current revision, the header revision of etcdctl's
    /// answer) and R at or below the compaction is refused; for 3.6/3.7 it is `etcdutl
    /// hashkv`'s HASH | HASH REVISION | COMPACT REVISION and R may equal the compaction.
    #[command(
        display_order = 5,
        after_help = "Examples:
  etcdsnap hashkv backup.db
  etcdsnap hashkv /var/lib/etcd --rev 4711 -w json
  etcdsnap hashkv backup.db --etcd-version 3.6 --endpoint 10.0.0.1:2379
Formats (-w): simple (default), table, json, yaml, fields."
    )]
    Hashkv {
        /// A snapshot file, or an etcd data directory.
        file: PathBuf,
        /// The revision to hash (0 or negative = the newest).
        #[command(flatten)]
        rev: RevArg,
        /// Whose hashkv to reproduce: 3.5 (this command's 3.5 shape), 3.6 or 3.7 (etcdutl
        /// hashkv's shape); with a patch release, its rules (3.5.1 to 3.5.15 and 3.4 before
        /// 3.4.34 hash a tombstone at the compaction revision). Default: the writer's storage
        /// version's major.minor, 3.5 when there is none (the newest 3.5's rules).
        #[arg(long, value_name = "VERSION")]
        etcd_version: Option<etcdsnap_mvcc::versions::EtcdVersion>,
        /// Print what `etcdctl endpoint hashkv` (of --etcd-version) prints for a member at
        /// this endpoint, instead of the offline shape.
        #[arg(long, value_name = "ENDPOINT")]
        endpoint: Option<String>,
        /// Threads for hashing (default: all cores).
        #[arg(long)]
        threads: Option<usize>,
    },
    /// Everything the file says about the cluster.
    ///
    /// Raft position, compaction, versions, members, leases (with their live keys), auth users and roles (never password hashes),
    /// alarms, buckets and pages.
    #[command(
        display_order = 6,
        after_help = "Examples:
  etcdsnap info backup.db
  etcdsnap info /var/lib/etcd -w json | jq .cluster.members
Formats (-w): simple (default; `table` is accepted), json, yaml."
    )]
    Info {
        /// A snapshot file, or an etcd data directory.
        file: PathBuf,
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
    #[command(
        display_order = 8,
        after_help = "Examples:
  etcdsnap stats backup.db --by namespace --top 20
  etcdsnap stats backup.db /registry/events/ --prefix -w json
Formats (-w): simple (default; `table` is accepted), json, yaml."
    )]
    Stats {
        /// A snapshot file, or an etcd data directory.
        file: PathBuf,
        /// The keys accounted (all when no KEY is given); the page figures are the file's.
        #[command(flatten)]
        keys: KeySelection,
        /// The revision to account at (0 or negative = the newest); revisions after it are
        /// ignored.
        #[command(flatten)]
        rev: RevArg,
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
        /// Threads in all (default: all cores).
        #[arg(long)]
        threads: Option<usize>,
    },
    /// Encryption at rest: which Secrets are encrypted, which are stored in plaintext.
    ///
    /// Encrypted ones are counted by provider and key; plaintext ones are listed by namespace
    /// and name. Exit 0 when all are encrypted, 1 when any is not. Names only, never values. Objects are the live ones at the revision read.
    #[command(
        display_order = 9,
        after_help = "Examples:
  etcdsnap audit backup.db || echo \"plaintext Secrets in the backup\"
  etcdsnap audit backup.db --resource secrets --resource configmaps -w json
  etcdsnap audit backup.db /registry/secrets/prod/ --prefix --history
Formats (-w): simple (default), json, yaml, jsonl (one line per object not encrypted, then
the counts)."
    )]
    Audit {
        /// A snapshot file, or an etcd data directory.
        file: PathBuf,
        /// Only the audited objects whose keys are selected (all when no KEY is given).
        #[command(flatten)]
        keys: KeySelection,
        /// The revision to read (0 or negative = the newest).
        #[command(flatten)]
        rev: RevArg,
        /// A resource to audit, as written in keys (`secrets`, `configmaps`,
        /// `example.com/widgets`); repeat for several. Default: secrets.
        #[arg(long = "resource", value_name = "RESOURCE")]
        resources: Vec<String>,
        /// The API server's --etcd-prefix.
        #[arg(long, default_value = "/registry")]
        etcd_prefix: String,
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
    #[command(
        display_order = 2,
        after_help = "Examples:
  etcdsnap verify backup.db && echo \"safe to restore\"
  etcdsnap verify /var/lib/etcd -w json --max-findings 10
  etcdsnap verify backups/*.db || echo \"at least one backup is damaged\"
Formats (-w): simple (default), json, yaml."
    )]
    Verify {
        /// Snapshot files or etcd data directories (their member/snap/db is read); `-` is
        /// stdin. With several, one report each; the exit status is the worst.
        #[arg(required = true, value_name = "FILE")]
        files: Vec<PathBuf>,
        /// Findings printed per check (all are counted).
        #[arg(long, default_value_t = 100)]
        max_findings: usize,
    },
    /// The version of etcdsnap (as `etcdctl version`).
    #[command(
        display_order = 20,
        after_help = "Examples:
  etcdsnap version
  etcdsnap version -w json
Formats (-w): simple (default), json, yaml."
    )]
    Version,
    /// Kubernetes objects as kubectl shows them: `kube get FILE deploy -n prod web -o yaml`.
    #[command(
        display_order = 10,
        after_help = "Examples:
  etcdsnap kube get backup.db deployments -n prod web -o yaml
  etcdsnap kube get backup.db pods -A -l app=web
  etcdsnap kube get backup.db cm -n kube-system --manifest > restore.yaml
Formats (-o): table (default), wide, name, json, yaml, jsonl, manifest."
    )]
    Kube(crate::commands::kube::KubeArgs),
    /// A snapshot as a table: Parquet, JSON Lines or CSV for DuckDB, pandas, Spark, Trino.
    ///
    /// One row per live key at a revision (or per stored revision with --history), with the
    /// Kubernetes object each value holds in columns; schema in docs/export.md. The file is
    /// written under a temporary name and renamed when complete; an existing one is refused
    /// unless --force.
    #[command(
        display_order = 11,
        after_help = "Examples:
  etcdsnap export backup.db -o backup.parquet
  etcdsnap export backup.db /registry/pods/ --prefix --history --no-values -o pods.parquet
  etcdsnap export backup.db --dataset fleet/ --cluster prod-eu
  etcdsnap export backup.db -o - -w jsonl | jq .
Formats (-w): parquet, jsonl, csv (default: from OUT's extension)."
    )]
    Export(crate::commands::export::ExportArgs),
    /// Offline compaction + defrag: a new snapshot as etcd would leave it after `compact R`.
    ///
    /// For each key, revisions at or below R are dropped except the newest one when it is not a
    /// tombstone (etcd's Keep(R)); revisions above R are all kept; the compaction marks are set
    /// to R; pages are packed as etcd's defrag packs them. The input is never modified; the
    /// output gets etcd's sha256 trailer, so `etcdutl snapshot restore` accepts it as is.
    #[command(
        display_order = 12,
        after_help = "Examples:
  etcdsnap compact backup.db --rev 123456 -o compacted.db
  etcdsnap compact backup.db --rev 123456 -o compacted.db --force -w json
Formats (-w): simple (default), json, yaml."
    )]
    Compact(CompactArgs),
    /// A copy safe to share: Secrets, tokens and password hashes overwritten.
    ///
    /// Every revision of every Kubernetes Secret (data, stringData, and the same inside the
    /// last-applied annotation; service-account tokens are Secrets) gets a marker of the same
    /// length, so values still decode and every size that `stats` reports stays the same.
    /// Encrypted values stay ciphertext (or are blanked with --drop-encrypted); auth users lose
    /// their password hashes; --prefix blanks everything under a prefix, and --keys renames the
    /// keys under those prefixes with stable pseudonyms.
    #[command(
        display_order = 13,
        after_help = "Examples:
  etcdsnap redact backup.db -o shareable.db
  etcdsnap redact backup.db -o shareable.db --drop-encrypted --prefix /registry/configmaps/ --keys
Formats (-w): simple (default), json, yaml."
    )]
    Redact(RedactArgs),
    /// A sound snapshot from a damaged one, with an exact account of what was lost.
    ///
    /// Reads the tree of either meta page, takes every page that parses whole (in the key
    /// bucket: well-formed revision keys and KeyValue records), fills ranges lost in the newer
    /// tree from the older one, rebuilds the other buckets that are intact and the meta
    /// bucket, and lists every page it could not take with the key and revision range it
    /// covered. Free or unreachable pages are read only with --deep (they hold compacted
    /// history). Exit 0 when nothing was lost, 1 when something was, 2 when nothing could be
    /// recovered.
    #[command(
        display_order = 14,
        after_help = "Examples:
  etcdsnap salvage damaged.db -o recovered.db
  etcdsnap salvage member/snap/db -o recovered.db --deep -w json
Formats (-w): simple (default), json, yaml."
    )]
    Salvage(SalvageArgs),
    /// Shell completions, generated from these definitions.
    ///
    /// Install: bash `etcdsnap completions bash > /etc/bash_completion.d/etcdsnap` (or
    /// `~/.local/share/bash-completion/completions/etcdsnap`); zsh `etcdsnap completions zsh >
    /// "${fpath[1]}/_etcdsnap"`; fish `etcdsnap completions fish >
    /// ~/.config/fish/completions/etcdsnap.fish`.
    #[command(
        display_order = 21,
        after_help = "Examples:
  etcdsnap completions bash > ~/.local/share/bash-completion/completions/etcdsnap
  source <(etcdsnap completions bash)
  etcdsnap completions zsh > \"${fpath[1]}/_etcdsnap\""
    )]
    Completions {
        /// The shell.
        #[arg(value_enum)]
        shell: clap_complete::Shell,
    },
    /// The man page (roff), generated from these definitions.
    ///
    /// Without COMMAND, etcdsnap(1); with one, etcdsnap-COMMAND(1).
    #[command(
        display_order = 22,
        after_help = "Examples:
  etcdsnap man > /usr/local/share/man/man1/etcdsnap.1
  for c in status verify get; do etcdsnap man $c > /usr/local/share/man/man1/etcdsnap-$c.1; done
  etcdsnap man | man -l -"
    )]
    Man {
        /// A command whose page to print.
        command: Option<String>,
    },
    /// One self-contained HTML page of the snapshot, to paste into an incident review.
    ///
    /// Verdicts (verify, sha256 trailer, alarms), status figures, a treemap of where the space
    /// goes (live data by resource and namespace, history, free pages), history bloat, the
    /// largest objects, events, leases, Secrets by encryption, and with --compare the growth
    /// since another snapshot. Everything inline: no network needed to view or print it. Exit
    /// 0 when written, 1 when written but verify found the file damaged, 2 when not written.
    #[command(
        display_order = 10,
        after_help = "Examples:
  etcdsnap report backup.db
  etcdsnap report backup.db -o incident-4711.html --compare last-week.db
  etcdsnap report /var/lib/etcd -o - > page.html
Formats (-w): simple (default: the HTML page). -o/--output names the file written here."
    )]
    Report(ReportArgs),
}

impl Command {
    /// Whether the exit status is the command's verdict (0 clean, 1 found), which must hold
    /// even when stdout is closed early.
    pub fn has_verdict(&self) -> bool {
        matches!(
            self,
            Command::Diff(_)
                | Command::Verify { .. }
                | Command::Audit { .. }
                | Command::Kube(_)
                | Command::Salvage(_)
                | Command::Report(_)
        )
    }
}

/// Arguments of `report`. A command that writes a file: it declares its own `write_out`
/// (`-w` only) so that `-o` names the file (docs/architecture.md, CLI grammar).
#[derive(Debug, clap::Args)]
pub struct ReportArgs {
    /// A snapshot file, or an etcd data directory.
    pub file: PathBuf,
    /// Where to write the page (`-` for stdout). Written to a temporary name beside it and
    /// moved into place when complete; an existing file is kept unless --force.
    #[arg(
        short = 'o',
        long = "output",
        value_name = "FILE",
        default_value = "report.html"
    )]
    pub output: PathBuf,
    /// Output format: simple, the HTML page (the only one).
    #[arg(short = 'w', long = "write-out", value_enum, value_name = "FORMAT")]
    pub write_out: Option<Format>,
    /// Replace the output file if it exists.
    #[arg(long)]
    pub force: bool,
    /// Do not hash the file to check its sha256 trailer (the page says it was not checked):
    /// the hash is most of the time on a large file.
    #[arg(long)]
    pub skip_hash: bool,
    /// The revision to account the space at.
    #[command(flatten)]
    pub rev: RevArg,
    /// A baseline snapshot to compare with: growth from it to FILE, added, deleted and
    /// modified keys, the objects that grew most.
    #[arg(long, value_name = "OTHER")]
    pub compare: Option<PathBuf>,
    /// Length of the lists (largest objects, most rewritten keys, objects that grew most).
    #[arg(long, default_value_t = 15)]
    pub top: usize,
    /// The API server's --etcd-prefix.
    #[arg(long, default_value = "/registry")]
    pub etcd_prefix: String,
    /// Threads in all (default: all cores).
    #[arg(long)]
    pub threads: Option<usize>,
}

/// The output file of a command that writes a snapshot (compact, redact, salvage). Such a
/// command owns `-o` for the path and its own `-w` (see docs/architecture.md, CLI grammar).
#[derive(Debug, Clone, clap::Args)]
pub struct OutputFileArgs {
    /// The snapshot to write (under a temporary name beside it, renamed when complete).
    #[arg(short = 'o', long = "output", value_name = "OUT.db")]
    pub output: PathBuf,
    /// Replace the output if it exists.
    #[arg(long)]
    pub force: bool,
    /// Do not append etcd's sha256 trailer (`etcdutl snapshot restore` then needs
    /// --skip-hash-check).
    #[arg(long)]
    pub no_trailer: bool,
    /// Format of the report (simple, json, yaml).
    #[arg(
        short = 'w',
        long = "write-out",
        id = "write_out",
        value_enum,
        value_name = "FORMAT"
    )]
    pub write_out: Option<Format>,
}

/// Arguments of `compact`.
#[derive(Debug, clap::Args)]
pub struct CompactArgs {
    /// The snapshot to compact (a file or a data directory; never modified).
    pub file: PathBuf,
    /// The compaction revision R (above the file's compaction, at most its newest revision).
    #[arg(long)]
    pub rev: i64,
    /// Where to write.
    #[command(flatten)]
    pub out: OutputFileArgs,
}

/// Arguments of `redact`.
#[derive(Debug, clap::Args)]
pub struct RedactArgs {
    /// The snapshot to redact (a file or a data directory; never modified).
    pub file: PathBuf,
    /// Blank the ciphertext of values encrypted at rest (the provider prefix is kept).
    #[arg(long)]
    pub drop_encrypted: bool,
    /// Blank every value under this key prefix, at every revision (repeatable).
    #[arg(long = "prefix", value_name = "PREFIX")]
    pub prefixes: Vec<std::ffi::OsString>,
    /// Also replace key names under the --prefix prefixes with stable pseudonyms.
    #[arg(long, requires = "prefixes")]
    pub keys: bool,
    /// Salt for the pseudonyms (without one, anyone can test a guessed name).
    #[arg(long, value_name = "SALT", default_value = "")]
    pub salt: String,
    /// Write auth as disabled: with the password hashes gone, nobody could log in to a
    /// restored copy that has auth enabled.
    #[arg(long)]
    pub disable_auth: bool,
    /// Where to write.
    #[command(flatten)]
    pub out: OutputFileArgs,
}

/// Arguments of `salvage`.
#[derive(Debug, clap::Args)]
pub struct SalvageArgs {
    /// The damaged snapshot (a file or a data directory; never modified).
    pub file: PathBuf,
    /// Also take revisions from free and unreachable pages, for ranges still lost and only
    /// above the compaction revision.
    #[arg(long)]
    pub deep: bool,
    /// Where to write.
    #[command(flatten)]
    pub out: OutputFileArgs,
}

#[cfg(test)]
mod tests {
    use clap::CommandFactory;

    #[test]
    fn cli_is_consistent() {
        super::Cli::command().debug_assert();
    }
}
