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
