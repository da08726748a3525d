//! `etcdsnap report`: one self-contained HTML page that shows what is in a snapshot.
//!
//! Tables of numbers (`stats`) are right but few people read forty rows during an incident; a
//! picture of where the space goes is read in a second and can be pasted into a review. The
//! page is one file with everything inline (CSS, SVG; no script, font, image or link to fetch),
//! readable in light and dark mode and printable.
//!
//! Two halves, so that the page and the commands never disagree:
//! - [`model`]: every figure, taken from the library code behind the commands: the space
//!   accounting of `stats` ([`etcdsnap_analyze::stats`], extended with namespaces, Secrets'
//!   encryption and lease keys from the same pass), `info` ([`etcdsnap_mvcc::info`]), `verify`
//!   ([`etcdsnap_mvcc::verify`]), `status` ([`etcdsnap_mvcc::status`]) and, with a second
//!   snapshot, `diff` ([`etcdsnap_mvcc::diff`]).
//! - [`html`]: the page, written with `maud` (compile-time checked, auto-escaped templates),
//!   the charts drawn as inline SVG with a squarified treemap of our own ([`treemap`]).
//!
//! Nothing here prints or sees command-line arguments: the binary maps its arguments to a
//! [`Config`], calls [`build`], and writes [`render`]'s string where it was asked.

pub mod html;
pub mod model;
pub mod treemap;

pub use model::{Config, Model, build};

/// Why a report could not be made.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// The snapshot (or the one compared with) could not be read.
    #[error("{path}: {source}")]
    Mvcc {
        /// The file.
        path: String,
        /// What went wrong, and where.
        source: etcdsnap_mvcc::Error,
    },
    /// The space accounting failed.
    #[error("{path}: {source}")]
    Analyze {
        /// The file.
        path: String,
        /// What went wrong.
        source: etcdsnap_analyze::Error,
    },
}

/// The page for `model`, as one HTML document.
pub fn render(model: &Model) -> String {
    html::page(model).into_string()
}
