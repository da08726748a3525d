//! `etcdsnap`: open etcd v3 snapshot files offline.
//!
//! The binary is thin on purpose: it parses what the user typed ([`args`]), turns it into the
//! plain configuration each command takes, calls the libraries, and writes reports through
//! `impl Write`. It alone decides streams and exit codes: 0 success, 1 the command found
//! something (differences, integrity problems), 2 the input cannot be used or the arguments
//! are wrong.

mod args;
mod commands;
mod decoded;
mod fail;
mod format;
mod input;
mod output;
mod style;
mod yaml;

use std::io::Write;
use std::process::ExitCode;

use clap::Parser;

use crate::fail::{Failure, Outcome};

/// mimalloc: Kubernetes decoding allocates and frees millions of small JSON nodes (see
/// docs/kubernetes.md, speed).
#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;

fn main() -> ExitCode {
    let cli = match args::Cli::try_parse() {
        Ok(c) => c,
        Err(e) => {
            let code = if e.use_stderr() { 2 } else { 0 };
            let _ = e.print();
            return ExitCode::from(code);
        }
    };
    // A closed stdout (`| head`) ends a command that only prints at once, silently (exit 0,
    // its only verdict); a command whose exit status is a verdict (diff, verify, audit) runs
    // to the end with its output discarded, so that `diff A B | head -1` still exits 1.
    style::init(cli.global.color, cli.global.hex, cli.global.quiet);
    let finish_on_close = cli.command.has_verdict();
    let stdout = fail::PipeGuard::new(std::io::stdout().lock(), finish_on_close);
    let mut out = std::io::BufWriter::with_capacity(1 << 16, stdout);
    let mut err = std::io::stderr();
    let result = commands::run(cli, &mut out, &mut err);
    let flushed = out.flush();
    match result.and_then(|o| flushed.map(|_| o).map_err(Failure::from)) {
        Ok(Outcome::Clean) => ExitCode::SUCCESS,
        Ok(Outcome::Found) => ExitCode::from(1),
        Err(Failure::BrokenPipe) => ExitCode::SUCCESS,
        Err(Failure::Reported) => ExitCode::from(2),
        Err(f) => {
            drop(out);
            let _ = writeln!(err, "etcdsnap: {f}");
            ExitCode::from(2)
        }
    }
}
