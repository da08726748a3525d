//! `etcdsnap verify`: runs the library's checks and prints the report, for a person (text)
//! or a script (JSON). Exit 0 when every check holds, 1 when one fails; 2 only when the path
//! cannot be read at all (a damaged file is a finding, not an error).

use std::io::Write;
use std::path::PathBuf;
use std::sync::Arc;

use etcdsnap_bbolt::Source;
use etcdsnap_bbolt::check::Severity;
use etcdsnap_mvcc::verify::{self, Report, VerifyOptions};

use crate::args::VerifyFormat;
use crate::fail::{CmdResult, Failure, Outcome};
use crate::style::{Paint, paint};

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
    let input = crate::input::prepare(&cfg.path, err)?;
    if input.path != cfg.path && input.shown == input.path {
        let _ = writeln!(err, "etcdsnap: reading {}", input.path.display());
    }
    let source = Source::open(&input.path).map_err(|e| Failure::at(&input.shown, e))?;
    let file = input.shown.clone();
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
        let label = format!("{:<4}", c.status.label());
        let label = match c.status {
            verify::Status::Ok => paint(Paint::Green, &label),
            verify::Status::Fail => paint(Paint::Red, &label),
            verify::Status::Note => paint(Paint::Yellow, &label),
            _ => paint(Paint::Dim, &label),
        };
        writeln!(out, "{label}  {:<9}  {}", c.name, c.summary)?;
        for f in &c.findings {
            let label = match f.severity {
                Severity::Error => "error",
                Severity::Warning => "warning",
                Severity::Info => "note",
            };
            writeln!(out, "        {label}: {f}")?;
        }
        let shown = c.findings.len() as u64;
        let plural = |n: u64| if n == 1 { "finding" } else { "findings" };
        if shown == 0 && c.findings_total > 0 {
            writeln!(
                out,
                "        {} {} not shown (raise --max-findings to see them)",
                c.findings_total,
                plural(c.findings_total)
            )?;
        } else if c.findings_total > shown {
            let more = c.findings_total - shown;
            writeln!(
                out,
                "        ... and {more} more {} ({} in all; raise --max-findings to see them)",
                plural(more),
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
        writeln!(out, "verify: {}", paint(Paint::Green, "OK"))
    } else {
        writeln!(
            out,
            "verify: {} ({})",
            paint(Paint::Red, "FAILED"),
            failed.join(", ")
        )
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
