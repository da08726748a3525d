//! `etcdsnap export`: a snapshot as a table (Parquet, JSON Lines, CSV) for DuckDB, pandas,
//! Spark and Trino; see docs/export.md for the schema and worked queries.
//!
//! This module maps the arguments to [`etcdsnap_export::ExportConfig`], chooses where the
//! bytes go (a file written under a temporary name and renamed when complete, stdout for
//! `-o -`, or `--dataset DIR`'s Hive-style `cluster=<name>/taken=<value>/part.parquet`), and
//! says on stderr what it wrote. An unreadable or damaged snapshot fails with the same message
//! and exit status 2 as every other command, and leaves no file behind.

use std::io::Write;
use std::path::{Path, PathBuf};

use clap::ValueEnum;
use etcdsnap_export::output::{AtomicFile, dataset_path};
use etcdsnap_export::{ExportConfig, Format, Summary};
use etcdsnap_mvcc::Snapshot;

use crate::args::{Format as WriteOut, KeySelection, RevArg};
use crate::commands::get::failure;
use crate::commands::{default_threads, open};
use crate::fail::{CmdResult, Failure, Outcome};
use crate::format::humanize_bytes;

/// Arguments of `export`.
#[derive(Debug, clap::Args)]
pub struct ExportArgs {
    /// A snapshot file, or an etcd data directory.
    pub file: PathBuf,
    /// The keys (etcdctl's grammar, as `get`; no KEY = every key).
    #[command(flatten)]
    pub keys: KeySelection,
    /// The output file (`-` for stdout); the format follows its extension (.parquet, .jsonl,
    /// .csv) unless -w says.
    #[arg(
        short = 'o',
        long = "output",
        value_name = "OUT",
        required_unless_present = "dataset"
    )]
    pub output: Option<PathBuf>,
    /// Write into a Hive-style dataset directory instead:
    /// DIR/cluster=<CLUSTER>/taken=<TAKEN>/part.<ext>.
    #[arg(long, value_name = "DIR", conflicts_with = "output")]
    pub dataset: Option<PathBuf>,
    /// With --dataset: the cluster partition (default: the file name without extension).
    #[arg(long, requires = "dataset")]
    pub cluster: Option<String>,
    /// With --dataset: the `taken` partition, e.g. a date (default: the head revision).
    #[arg(long, requires = "dataset")]
    pub taken: Option<String>,
    /// Output format (default: from the output's extension; parquet for a dataset). This
    /// command's own -w: its -o is the output path (docs/cli.md).
    /// parquet, jsonl or csv.
    #[arg(
        short = 'w',
        long = "write-out",
        alias = "format",
        value_enum,
        value_name = "FORMAT"
    )]
    pub write_out: Option<WriteOut>,
    /// The revision to read; with --history, the newest revision included.
    #[command(flatten)]
    pub rev: RevArg,
    /// One row per stored revision (puts and deletions) instead of the live keys.
    #[arg(long)]
    pub history: bool,
    /// Leave out the value column (sizes, revisions and Kubernetes columns stay).
    #[arg(long)]
    pub no_values: bool,
    /// Add a `decoded` column: each value made readable as `get -w json --decode` shows it.
    /// Secret payloads stay hidden without --show-secrets.
    #[arg(long)]
    pub decode: bool,
    /// With --decode, show Secret payloads.
    #[arg(long, requires = "decode")]
    pub show_secrets: bool,
    /// The API server's --etcd-prefix, for the Kubernetes columns.
    #[arg(long, default_value = "/registry")]
    pub etcd_prefix: String,
    /// Check the sha256 trailer (reads the whole file once more); the `sha256_trailer_status`
    /// column then says ok or mismatch instead of unchecked.
    #[arg(long)]
    pub verify_trailer: bool,
    /// Replace an existing output file.
    #[arg(long)]
    pub force: bool,
    /// Threads for the scan (default: all cores).
    #[arg(long)]
    pub threads: Option<usize>,
}

/// Runs `export`; `format` is the command's `-w` or the global one.
pub fn run(
    a: ExportArgs,
    format: Option<WriteOut>,
    err: &mut dyn Write,
    stdout: &mut dyn Write,
) -> CmdResult {
    let format = match (format, &a.output, &a.dataset) {
        (Some(WriteOut::Parquet), _, _) => Format::Parquet,
        (Some(WriteOut::Jsonl), _, _) => Format::Jsonl,
        (Some(WriteOut::Csv), _, _) => Format::Csv,
        (Some(other), _, _) => {
            return Err(Failure::usage(format!(
                "export: -w {}: export writes parquet, jsonl or csv",
                other
                    .to_possible_value()
                    .map_or_else(String::new, |v| v.get_name().to_string())
            )));
        }
        (None, _, Some(_)) => Format::Parquet,
        (None, Some(o), None) if o.as_os_str() == "-" => {
            return Err(Failure::usage(
                "export: -w parquet|jsonl|csv is required when writing to stdout (-o -)",
            ));
        }
        (None, Some(o), None) => Format::from_path(o).ok_or_else(|| {
            Failure::usage(format!(
                "export: {}: cannot tell the format from the extension (.parquet, .jsonl, .csv); use -w",
                o.display()
            ))
        })?,
        (None, None, None) => return Err(Failure::usage("export: -o OUT or --dataset DIR")),
    };
    let range = a.keys.range();
    let mut cfg = ExportConfig::new(source_name(&a.file));
    cfg.format = format;
    cfg.rev = a.rev.rev;
    cfg.history = a.history;
    cfg.range = range;
    cfg.values = !a.no_values;
    cfg.decode = a.decode;
    cfg.show_secrets = a.show_secrets;
    cfg.etcd_prefix = a.etcd_prefix.clone();
    cfg.verify_trailer = a.verify_trailer;
    cfg.threads = a.threads.unwrap_or_else(default_threads).max(1);

    // Refuse an existing output before reading anything.
    if let Some(o) = &a.output
        && o.as_os_str() != "-"
        && !a.force
        && std::fs::symlink_metadata(o).is_ok()
    {
        return Err(Failure::Message(format!(
            "{}: already exists (use --force to replace it)",
            o.display()
        )));
    }
    let snap = open(&a.file, err)?;
    let fail = |e: etcdsnap_export::Error| match e {
        etcdsnap_export::Error::Snapshot(e) => failure(&snap, e),
        etcdsnap_export::Error::Io(e) => Failure::from(e),
        e => Failure::Message(format!("export: {e}")),
    };

    let target = match (&a.output, &a.dataset) {
        (Some(o), _) if o.as_os_str() == "-" => None,
        (Some(o), _) => Some((o.clone(), false)),
        (None, Some(dir)) => {
            let cluster = a.cluster.clone().unwrap_or_else(|| cluster_name(&a.file));
            let taken = match &a.taken {
                Some(t) => t.clone(),
                None => snap
                    .revisions()
                    .map_err(|e| failure(&snap, e))?
                    .current
                    .to_string(),
            };
            Some((
                dataset_path(dir, &cluster, &taken, format.extension()),
                true,
            ))
        }
        (None, None) => None,
    };
    let (summary, shown) = match target {
        None => {
            // The writers need a `Send` output: stdout's own handle (re-entrant with the
            // binary's lock on this thread; nothing was written to that buffer before).
            stdout.flush()?;
            let out = std::io::BufWriter::with_capacity(1 << 20, std::io::stdout());
            let (mut out, s) = etcdsnap_export::export(&snap, &cfg, out).map_err(fail)?;
            out.flush()?;
            (s, "stdout".to_string())
        }
        Some((path, make_dirs)) => {
            let file = AtomicFile::create(&path, a.force, make_dirs)
                .map_err(|e| Failure::Message(e.to_string()))?;
            let (file, s) = etcdsnap_export::export(&snap, &cfg, file).map_err(fail)?;
            file.commit()
                .map_err(|e| Failure::Message(format!("{}: cannot write: {e}", path.display())))?;
            (s, path.display().to_string())
        }
    };
    report(&summary, &cfg, &shown, &snap, err);
    Ok(Outcome::Clean)
}

/// One line on stderr: what was written; a warning when the trailer does not match.
fn report(s: &Summary, cfg: &ExportConfig, shown: &str, snap: &Snapshot, err: &mut dyn Write) {
    if s.facts.sha256_trailer_status == "mismatch" {
        let _ = writeln!(
            err,
            "etcdsnap: warning: {}: the sha256 trailer does not match the file (see etcdsnap verify)",
            snap.path().display()
        );
    }
    let _ = writeln!(
        err,
        "etcdsnap: exported {} {}{} ({} of values) at revision {} to {shown}",
        s.rows,
        if cfg.history { "revision" } else { "key" },
        if s.rows == 1 { "" } else { "s" },
        humanize_bytes(s.value_bytes),
        s.facts.read_revision,
    );
}

/// The `source_file` column: the name the user gave (a data directory's name for a
/// directory).
fn source_name(path: &Path) -> String {
    path.file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_else(|| path.display().to_string())
}

/// The default cluster partition: the file name without its extension.
fn cluster_name(path: &Path) -> String {
    path.file_stem()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_else(|| "cluster".into())
}
