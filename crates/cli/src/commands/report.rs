//! `etcdsnap report`: maps the arguments to [`etcdsnap_report::Config`], builds the page and
//! writes it where asked: stdout for `-`, else a temporary file beside the output, renamed
//! into place when complete, so a reader never sees half a page. An existing output is kept
//! unless `--force`, and the input snapshot is never the output, whatever the flags.
//!
//! Exit 0 when the page was written; 1 when it was written but `verify` found the file damaged
//! (the page says what: when the store cannot be read at all, the page holds what `verify`
//! found); 2 when no page could be made.

use std::fs;
use std::io::Write;
use std::path::{Path, PathBuf};

use etcdsnap_report::{Config, build, render};

use crate::args::ReportArgs;
use crate::fail::{CmdResult, Failure, Outcome};

/// What `report` was asked to do.
#[derive(Debug, Clone)]
pub struct ReportConfig {
    /// The snapshot (file or data directory).
    pub file: PathBuf,
    /// Where the page goes (`-` = stdout).
    pub output: PathBuf,
    /// Replace an existing output.
    pub force: bool,
    /// What the page shows.
    pub report: Config,
}

/// The configuration for `args`.
pub fn config(a: ReportArgs) -> ReportConfig {
    let mut report = Config::new(a.threads.unwrap_or_else(super::default_threads).max(1));
    report.rev = a.rev.rev;
    report.compare = a.compare;
    report.top = a.top;
    report.hash = !a.skip_hash;
    report.etcd_prefix = a.etcd_prefix;
    report.generator = format!("etcdsnap {}", env!("CARGO_PKG_VERSION"));
    report.generated_at = utc_now();
    ReportConfig {
        file: a.file,
        output: a.output,
        force: a.force,
        report,
    }
}

/// Runs `report`.
pub fn run(cfg: ReportConfig, out: &mut dyn Write, err: &mut dyn Write) -> CmdResult {
    let to_stdout = cfg.output.as_os_str() == "-";
    if !to_stdout {
        check_output(&cfg)?;
    }
    let (page, ok) = match make_page(&cfg, err) {
        Ok(made) => made,
        Err(failure) => match unreadable_page(&cfg, &failure) {
            Some(page) => (page, false),
            None => return Err(failure),
        },
    };
    if to_stdout {
        out.write_all(page.as_bytes())?;
    } else {
        write_atomically(&cfg.output, page.as_bytes(), cfg.force)
            .map_err(|e| Failure::at(&cfg.output, e))?;
        writeln!(
            out,
            "{}: report written ({} bytes)",
            cfg.output.display(),
            page.len()
        )?;
    }
    Ok(if ok { Outcome::Clean } else { Outcome::Found })
}

/// The page, and whether verify found the file sound.
fn make_page(cfg: &ReportConfig, err: &mut dyn Write) -> Result<(String, bool), Failure> {
    let snap = super::open(&cfg.file, err)?;
    let model = build(&snap, &cfg.report).map_err(|e| Failure::Message(e.to_string()))?;
    Ok((render(&model), model.verify.ok))
}

/// When the store cannot be read but the file is a bbolt database (a valid meta page) and
/// `verify` finds it damaged: a page of what verify found (a damaged backup is an incident
/// too). Otherwise (not a database, a wrong revision, an unreadable path) no page: the error
/// stands (exit 2).
fn unreadable_page(cfg: &ReportConfig, failure: &Failure) -> Option<String> {
    let (file, _) = etcdsnap_mvcc::snapshot::resolve_path(&cfg.file);
    let source = etcdsnap_bbolt::Source::open(&file).ok()?;
    // Not a bbolt database at all (no valid meta page): unusable input, not a damaged store.
    let metas = etcdsnap_bbolt::check::check_metas(source.bytes(), &Default::default());
    metas.active?;
    let report = etcdsnap_mvcc::verify::verify(
        std::sync::Arc::new(source),
        &etcdsnap_mvcc::verify::VerifyOptions {
            max_findings: cfg.report.max_findings.max(25),
            parallel: true,
        },
    );
    if report.ok {
        return None;
    }
    let shown = file.display().to_string();
    let why = failure.to_string();
    let why = why.strip_prefix(&format!("{shown}: ")).unwrap_or(&why);
    Some(etcdsnap_report::render_unreadable(
        &shown,
        &report,
        why,
        &cfg.report.generator,
        &cfg.report.generated_at,
    ))
}

/// Refuses an output that exists (without --force) or that is the input itself.
fn check_output(cfg: &ReportConfig) -> Result<(), Failure> {
    let out = &cfg.output;
    if out.is_dir() {
        return Err(Failure::at(
            out,
            "is a directory: name the HTML file to write (-o DIR/report.html)",
        ));
    }
    if out.exists() {
        let (input, _) = etcdsnap_mvcc::snapshot::resolve_path(&cfg.file);
        let same = |p: &Path| fs::canonicalize(p).ok();
        if same(out).is_some() && same(out) == same(&input) {
            return Err(Failure::at(
                out,
                "is the snapshot being read: the input is never written; choose another output",
            ));
        }
        if !cfg.force {
            return Err(Failure::at(
                out,
                "exists: use --force to replace it, or -o to write elsewhere",
            ));
        }
    }
    Ok(())
}

/// Writes `bytes` to a temporary file in `path`'s directory, flushes it to disk, then moves
/// it to `path`: replacing it with `force`, else only if `path` still does not exist (a hard
/// link fails when the name is taken, so there is no window between the check and the move).
fn write_atomically(path: &Path, bytes: &[u8], force: bool) -> std::io::Result<()> {
    let dir = match path.parent() {
        Some(d) if !d.as_os_str().is_empty() => d.to_path_buf(),
        _ => PathBuf::from("."),
    };
    let name = path
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_else(|| "report.html".into());
    let tmp = dir.join(format!(".{name}.{}.tmp", std::process::id()));
    let result = (|| {
        let mut f = fs::OpenOptions::new()
            .write(true)
            .create_new(true)
            .open(&tmp)?;
        f.write_all(bytes)?;
        f.sync_all()?;
        drop(f);
        if force {
            fs::rename(&tmp, path)
        } else {
            fs::hard_link(&tmp, path).map_err(|e| {
                if e.kind() == std::io::ErrorKind::AlreadyExists {
                    std::io::Error::new(e.kind(), "exists: use --force to replace it")
                } else {
                    e
                }
            })
        }
    })();
    // After a rename the temporary name is gone; after a link (or a failure) remove it.
    let _ = fs::remove_file(&tmp);
    result
}

/// Now, as `2026-11-30 16:05 UTC` (no time zone database needed).
fn utc_now() -> String {
    let secs = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_secs());
    let days = (secs / 86_400) as i64;
    let rem = secs % 86_400;
    // Howard Hinnant's civil_from_days.
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = doy - (153 * mp + 2) / 5 + 1;
    let m = if mp < 10 { mp + 3 } else { mp - 9 };
    let y = yoe + era * 400 + i64::from(m <= 2);
    format!(
        "{y:04}-{m:02}-{d:02} {:02}:{:02} UTC",
        rem / 3600,
        (rem % 3600) / 60
    )
}
