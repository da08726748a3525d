//! How a command ends: a clean run, a finding (exit 1), or a failure (exit 2, one line on
//! stderr).

use std::fmt;
use std::path::Path;

/// A command that ran to the end.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Outcome {
    /// Nothing to report: exit 0.
    Clean,
    /// The command found something (differences, integrity problems, objects not encrypted
    /// at rest): exit 1.
    Found,
}

/// A command that could not run: exit 2.
#[derive(Debug)]
pub enum Failure {
    /// stdout was closed by the reader (e.g. `| head`): exit quietly.
    BrokenPipe,
    /// Anything else, already worded for the user (without the `etcdsnap:` prefix).
    Message(String),
    /// Failures already written to stderr (one input of several): exit 2, nothing more.
    Reported,
}

impl Failure {
    /// A failure about the input `path`.
    pub fn at(path: &Path, what: impl fmt::Display) -> Failure {
        Failure::Message(format!("{}: {what}", path.display()))
    }

    /// A usage problem.
    #[allow(dead_code)] // for commands that check their arguments beyond what clap can
    pub fn usage(what: impl fmt::Display) -> Failure {
        Failure::Message(what.to_string())
    }
}

impl fmt::Display for Failure {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Failure::BrokenPipe => write!(f, "broken pipe"),
            Failure::Reported => write!(f, "failed (said above)"),
            Failure::Message(m) => f.write_str(m),
        }
    }
}

impl From<std::io::Error> for Failure {
    fn from(e: std::io::Error) -> Failure {
        if e.kind() == std::io::ErrorKind::BrokenPipe {
            Failure::BrokenPipe
        } else {
            Failure::Message(format!("write error: {e}"))
        }
    }
}

/// Result of a command.
pub type CmdResult = Result<Outcome, Failure>;

/// stdout as the commands see it: when the reader goes away (EPIPE), either the write fails
/// with `BrokenPipe` (the command stops, exit 0), or, for commands whose exit status is their
/// verdict, every later write is discarded so the command finishes and exits with its verdict.
pub struct PipeGuard<W> {
    inner: W,
    finish_on_close: bool,
    closed: bool,
}

impl<W: std::io::Write> PipeGuard<W> {
    /// Wraps `inner`.
    pub fn new(inner: W, finish_on_close: bool) -> Self {
        PipeGuard {
            inner,
            finish_on_close,
            closed: false,
        }
    }

    fn guard<T>(&mut self, r: std::io::Result<T>, ok: T) -> std::io::Result<T> {
        match r {
            Err(e) if e.kind() == std::io::ErrorKind::BrokenPipe && self.finish_on_close => {
                self.closed = true;
                Ok(ok)
            }
            r => r,
        }
    }
}

impl<W: std::io::Write> std::io::Write for PipeGuard<W> {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        if self.closed {
            return Ok(buf.len());
        }
        let r = self.inner.write(buf);
        self.guard(r, buf.len())
    }

    fn flush(&mut self) -> std::io::Result<()> {
        if self.closed {
            return Ok(());
        }
        let r = self.inner.flush();
        self.guard(r, ())
    }
}
