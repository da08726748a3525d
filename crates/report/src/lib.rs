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
    scrub(html::page(model).into_string())
}

/// The page for a file whose store cannot be read: `verify`'s report and the reason.
pub fn render_unreadable(
    path: &str,
    verify: &etcdsnap_mvcc::verify::Report,
    error: &str,
    generator: &str,
    generated_at: &str,
) -> String {
    scrub(html::unreadable_page(path, verify, error, generator, generated_at).into_string())
}

/// Keys, and so group names, may hold any bytes; HTML may not hold every character (NUL, the
/// other control characters, the noncharacters are parse errors). The templates escape what
/// HTML gives meaning to; this shows the rest as `\xNN` (or `\u{NNNN}`), everywhere at once.
pub fn scrub(page: String) -> String {
    if !page.chars().any(forbidden) {
        return page;
    }
    let mut out = String::with_capacity(page.len() + 64);
    for c in page.chars() {
        if forbidden(c) {
            out.push_str(&escape_char(c));
        } else {
            out.push(c);
        }
    }
    out
}

/// How [`scrub`] shows a character HTML cannot hold.
pub fn escape_char(c: char) -> String {
    if (c as u32) < 0x100 {
        format!("\\x{:02x}", c as u32)
    } else {
        format!("\\u{{{:x}}}", c as u32)
    }
}

/// A character that is a parse error in an HTML document's input stream.
pub fn forbidden(c: char) -> bool {
    let n = c as u32;
    (c.is_control() && !matches!(c, '\t' | '\n' | '\r' | '\x0c'))
        || (0xFDD0..=0xFDEF).contains(&n)
        || (n & 0xFFFE) == 0xFFFE
}
