//! `etcdsnap verify`: runs the library's checks and prints the report, for a person (text)
//! or a script (JSON). Exit 0 when every check holds, 1 when one fails; 2 only when the path
//! cannot be read at all (a damaged file is a finding, not an error).

use std::io::Write;
use std::path::PathBuf;
use std::sync::Arc;

use etcdsnap_bbolt::Source;
use etcdsnap_bbolt::check::Severity;
use etcdsnap_mvcc::snapshot::resolve_path;
use etcdsnap_mvcc::verify::{self, Report, VerifyOptions};

use crate::args::VerifyFormat;
use crate::fail::{CmdResult, Failure, Outcome};

/// What `verify` was asked to do.
pub struct Config {
    /// The file or data directory.
    pub path: PathBuf,
    /// Output format.
    pub format: VerifyFormat,
    /// Findings printed per check.
    pub max_findings: usize,
}

pub fn run(cfg: &Config, out: &mut dyn Write, err: &mut dyn Write) -> CmdResult {
    super::not_a_bare_directory(&cfg.path)?;
    let (file, from_dir) = resolve_path(&cfg.path);
    let source = Source::open(&file).map_err(|e| Failure::at(&cfg.path, e))?;
    if from_dir {
        let _ = writeln!(err, "etcdsnap: reading {}", file.display());
    }
    let report = verify::verify(
        Arc::new(source),
        &VerifyOptions {
            max_findings: cfg.max_findings,
            parallel: true,
        },
    );
    let shown = file.display().to_string();
    match cfg.format {
        VerifyFormat::Text => write_text(&shown, &report, out)?,
        VerifyFormat::Json => write_json(&shown, &report, out)?,
    }
    Ok(if report.ok {
        Outcome::Clean
    } else {
        Outcome::Found
    })
}

/// One line per check, its findings indented below it, a verdict at the end.
pub fn write_text(file: &str, r: &Report, out: &mut dyn Write) -> std::io::Result<()> {
    writeln!(out, "{file}: {} bytes", r.file_size)?;
    for c in &r.checks {
        writeln!(out, "{:<4}  {:<9}  {}", c.status.label(), c.name, c.summary)?;
        for f in &c.findings {
            let label = match f.severity {
                Severity::Error => "error",
                Severity::Warning => "warning",
                Severity::Info => "note",
            };
            writeln!(out, "        {label}: {f}")?;
        }
        let shown = c.findings.len() as u64;
        if c.findings_total > shown {
            writeln!(
                out,
                "        ... and {} more findings ({} in all; raise --max-findings to see them)",
                c.findings_total - shown,
                c.findings_total
            )?;
        }
    }
    let failed: Vec<&str> = r
        .checks
        .iter()
        .filter(|c| c.status == verify::Status::Fail)
        .map(|c| c.name)
        .collect();
    if failed.is_empty() {
        writeln!(out, "verify: OK")
    } else {
        writeln!(out, "verify: FAILED ({})", failed.join(", "))
    }
}

/// `{"file":..,"file_size":..,"ok":..,"checks":[{"name","status","summary","findings":[..],
/// "findings_total"}]}` on one line.
pub fn write_json(file: &str, r: &Report, out: &mut dyn Write) -> std::io::Result<()> {
    #[derive(serde::Serialize)]
    struct Doc<'a> {
        file: &'a str,
        #[serde(flatten)]
        report: &'a Report,
    }
    serde_json::to_writer(&mut *out, &Doc { file, report: r }).map_err(std::io::Error::from)?;
    writeln!(out)
}
