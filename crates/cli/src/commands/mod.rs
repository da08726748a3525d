//! One module per command; each takes its configuration and writers, returns an outcome.

mod audit;
mod compact;
mod diff;
pub mod export;
pub mod get;
mod hashkv;
mod history;
mod info;
pub mod kube;
mod many;
mod redact;
mod report;
mod salvage;
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
use crate::fail::{CmdResult, Failure, Outcome};
use crate::input;
use crate::output::{choose, with_yaml};
use crate::style::Progress;

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
                values: d.values || d.decode,
                show_secrets: d.show_secrets,
                decode: d.decode,
                ignore_server_fields: d.ignore_server_fields,
                summary_only: d.summary,
                format: o.format,
                threads: d.threads.unwrap_or_else(default_threads),
            };
            let mut out = Progress::start(format!(
                "diff: reading {} and {}",
                cfg.a.display(),
                cfg.b.display()
            ))
            .until_output(out);
            with_yaml(o.yaml, &mut out, |out| diff::run(&cfg, out, err))
        }
        Command::Status {
            files,
            etcd_version,
            threads,
        } => {
            let o = choose(
                w,
                "status",
                &[
                    (Format::Simple, StatusFormat::Simple),
                    (Format::Table, StatusFormat::Table),
                    (Format::Json, StatusFormat::Json),
                    (Format::Yaml, StatusFormat::Json),
                    (Format::Fields, StatusFormat::Fields),
                ],
            )?;
            let threads = threads.unwrap_or_else(default_threads);
            if let [file] = files.as_slice() {
                let cfg = status::StatusConfig {
                    format: o.format,
                    etcd_version,
                    threads,
                };
                let snap = open_etcd(file, err)?;
                let mut out = Progress::start(format!("status: hashing {}", snap.path().display()))
                    .until_output(out);
                return with_yaml(o.yaml, &mut out, |out| status::run(&snap, &cfg, out, err));
            }
            with_yaml(o.yaml, out, |out| {
                many::status(&files, o.format, etcd_version, threads, out, err)
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
            with_yaml(o.yaml, out, |out| get::run(&snap, &cfg, out, err))
        }
        Command::History {
            file,
            keys,
            decode,
            show_secrets,
        } => {
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
            let decode = decode.then_some(history::DecodeValues { show_secrets });
            with_yaml(o.yaml, out, |out| {
                history::run(&snap, &range, o.format, decode, out, err)
            })
        }
        Command::Hashkv {
            file,
            rev,
            etcd_version,
            endpoint,
            threads,
        } => {
            let o = choose(
                w,
                "hashkv",
                &[
                    (Format::Simple, HashKvFormat::Simple),
                    (Format::Table, HashKvFormat::Table),
                    (Format::Json, HashKvFormat::Json),
                    (Format::Yaml, HashKvFormat::Json),
                    (Format::Fields, HashKvFormat::Fields),
                ],
            )?;
            let cfg = hashkv::HashKvConfig {
                rev: rev.rev,
                format: o.format,
                etcd_version,
                endpoint,
                threads: threads.unwrap_or_else(default_threads),
            };
            let snap = open(&file, err)?;
            let mut out = Progress::start(format!("hashkv: hashing {}", snap.path().display()))
                .until_output(out);
            with_yaml(o.yaml, &mut out, |out| hashkv::run(&snap, &cfg, out))
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
            let mut out = Progress::start(format!("info: reading {}", snap.path().display()))
                .until_output(out);
            with_yaml(o.yaml, &mut out, |out| {
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
            let mut out = Progress::start(format!("stats: reading {}", snap.path().display()))
                .until_output(out);
            with_yaml(o.yaml, &mut out, |out| stats::run(&snap, &cfg, out, err))
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
                    (Format::Jsonl, AuditFormat::Jsonl),
                ],
            )?;
            if resources.is_empty() {
                resources.push("secrets".into());
            }
            let mut named: Vec<String> = Vec::new();
            for r in resources.iter().map(|r| audit::resource_in_keys(r)) {
                if !named.contains(&r) {
                    named.push(r);
                }
            }
            let resources = named;
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
            let mut out = Progress::start(format!("audit: reading {}", snap.path().display()))
                .until_output(out);
            with_yaml(o.yaml, &mut out, |out| audit::run(&snap, &cfg, out))
        }
        Command::Kube(k) => match k.command {
            kube::KubeCommand::Get(a) => {
                let cfg = kube::KubeGetConfig::from_args(
                    &a,
                    w,
                    a.threads.unwrap_or_else(default_threads),
                )?;
                let snap = open(&a.file, err)?;
                kube::run(&snap, &cfg, out, err)
            }
        },
        Command::Verify {
            files,
            max_findings,
        } => {
            let o = choose(
                w,
                "verify",
                &[
                    (Format::Simple, VerifyFormat::Text),
                    (Format::Json, VerifyFormat::Json),
                    (Format::Yaml, VerifyFormat::Json),
                ],
            )?;
            with_yaml(o.yaml, out, |out| {
                many::each(&files, err, |path, err, first| {
                    if !first && o.format == VerifyFormat::Text {
                        writeln!(out)?;
                    }
                    let cfg = verify::Config {
                        path: path.to_path_buf(),
                        format: o.format,
                        max_findings,
                    };
                    let mut out = Progress::start(format!("verify: checking {}", path.display()))
                        .until_output(&mut *out);
                    verify::run(&cfg, &mut out, err)
                })
            })
        }
        Command::Compact(c) => {
            let o = compact::formats(c.out.write_out.or(w), "compact")?;
            let cfg = compact::Config {
                rev: c.rev,
                output: compact::output(&c.out),
            };
            let snap = open(&c.file, err)?;
            with_yaml(o.yaml, out, |out| compact::run(&snap, &cfg, o.format, out))
        }
        Command::Redact(a) => {
            let o = compact::formats(a.out.write_out.or(w), "redact")?;
            let cfg = redact::Config {
                output: compact::output(&a.out),
                drop_encrypted: a.drop_encrypted,
                prefixes: a.prefixes.iter().map(|p| arg_bytes(p)).collect(),
                keys: a.keys,
                salt: a.salt.into_bytes(),
                disable_auth: a.disable_auth,
            };
            let snap = open(&a.file, err)?;
            with_yaml(o.yaml, out, |out| redact::run(&snap, &cfg, o.format, out))
        }
        Command::Salvage(a) => {
            let o = compact::formats(a.out.write_out.or(w), "salvage")?;
            let cfg = salvage::Config {
                input: a.file,
                output: compact::output(&a.out),
                deep: a.deep,
            };
            with_yaml(o.yaml, out, |out| salvage::run(&cfg, o.format, out, err))
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
        Command::Completions { shell } => {
            let mut cmd = <Cli as clap::CommandFactory>::command();
            clap_complete::generate(shell, &mut cmd, "etcdsnap", out);
            Ok(Outcome::Clean)
        }
        Command::Man { command } => {
            let mut cmd = <Cli as clap::CommandFactory>::command();
            // Propagates the global flags (-w, --hex, ...) into each command's page.
            cmd.build();
            let man = match &command {
                None => clap_mangen::Man::new(cmd),
                Some(name) => {
                    let Some(sub) = cmd.find_subcommand(name) else {
                        return Err(Failure::usage(format!(
                            "man: no command {name:?} (etcdsnap --help lists them)"
                        )));
                    };
                    clap_mangen::Man::new(sub.clone()).title(format!("etcdsnap-{name}"))
                }
            };
            man.render(out)?;
            Ok(Outcome::Clean)
        }
        Command::Report(r) => {
            // A command that writes a file: its own -w (so -o is its path), else the global.
            choose(r.write_out.or(w), "report", &[(Format::Simple, ())])?;
            report::run(report::config(r), out, err)
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

/// Says on stderr that a KEY without `--prefix` selected one exact key that does not exist:
/// `diff A B /registry/pods/` compares nothing, which is rarely what was meant.
pub fn note_single_key_absent(range: &KeyRange, where_: &str, err: &mut dyn Write) {
    let _ = writeln!(
        err,
        "etcdsnap: note: {} is one exact key (no --prefix) and it is {where_}; for every key under it add --prefix",
        crate::format::readable(range.start())
    );
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

/// [`open`], and refuses a bbolt file without etcd's `key` and `meta` buckets (etcdutl's
/// status prints zeros for one; every other command says it is not etcd's).
pub fn open_etcd(path: &Path, err: &mut dyn Write) -> Result<Snapshot, Failure> {
    let snap = open(path, err)?;
    for bucket in [&b"key"[..], b"meta"] {
        snap.required(bucket)
            .map_err(|e| Failure::at(snap.path(), e))?;
    }
    Ok(snap)
}

/// Opens a snapshot: a file, a data directory (its db, said on stderr), `-` (stdin), a FIFO,
/// or a gzip/zstd/xz compressed backup ([`crate::input`]). Reports name the user's argument.
pub fn open(path: &Path, err: &mut dyn Write) -> Result<Snapshot, Failure> {
    let input = input::prepare(path, err)?;
    if input.path != path && input.shown == input.path {
        let _ = writeln!(err, "etcdsnap: reading {}", input.path.display());
    }
    let snap = Snapshot::open(&input.path)
        .map_err(|e| Failure::at(&input.shown, e))?
        .shown_as(input.shown.clone());
    // The map stays valid once the temporary file is unlinked (Unix); elsewhere it is removed
    // when the command ends.
    #[cfg(not(unix))]
    std::mem::forget(input);
    Ok(snap)
}
