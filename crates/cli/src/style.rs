//! How output looks beyond its format, decided once from the global flags: colour (on a
//! terminal only, `--color auto|always|never`, `NO_COLOR` honoured), `--hex` for keys and
//! values in human output (etcdctl's), and progress on stderr (`--quiet` turns it off).
//! Kept in one process-wide value so that every writer can ask without each command's
//! configuration carrying it.

use std::io::IsTerminal;
use std::sync::OnceLock;
use std::time::Duration;

/// `--color`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum ColorChoice {
    /// Colour when stdout is a terminal and `NO_COLOR` is not set.
    Auto,
    /// Always colour.
    Always,
    /// Never colour.
    Never,
}

/// The decided style.
#[derive(Debug, Clone, Copy, Default)]
pub struct Style {
    /// ANSI colours on stdout.
    pub color: bool,
    /// Keys and values as `\xNN` escapes in human output.
    pub hex: bool,
    /// Progress may be drawn on stderr (a terminal, no `--quiet`).
    pub progress: bool,
}

static STYLE: OnceLock<Style> = OnceLock::new();

/// Decides the style from the flags and the environment; called once by `main`.
pub fn init(color: ColorChoice, hex: bool, quiet: bool) {
    let no_color = std::env::var_os("NO_COLOR").is_some_and(|v| !v.is_empty());
    let dumb = std::env::var_os("TERM").is_some_and(|t| t == "dumb");
    let color = match color {
        ColorChoice::Always => true,
        ColorChoice::Never => false,
        ColorChoice::Auto => !no_color && !dumb && std::io::stdout().is_terminal(),
    };
    let progress = !quiet && !dumb && std::io::stderr().is_terminal();
    let _ = STYLE.set(Style {
        color,
        hex,
        progress,
    });
}

/// The style (plain when `init` was not called, as in unit tests).
pub fn get() -> Style {
    STYLE.get().copied().unwrap_or_default()
}

/// ANSI colours used.
#[derive(Debug, Clone, Copy)]
pub enum Paint {
    /// Success, additions.
    Green,
    /// Failures, deletions.
    Red,
    /// Changes, notes.
    Yellow,
    /// Skipped, secondary.
    Dim,
    /// Section headers.
    Bold,
}

/// `s` in `p` when colour is on, else `s` unchanged.
pub fn paint(p: Paint, s: &str) -> String {
    if !get().color {
        return s.to_string();
    }
    let code = match p {
        Paint::Green => "32",
        Paint::Red => "31",
        Paint::Yellow => "33",
        Paint::Dim => "2",
        Paint::Bold => "1",
    };
    format!("\x1b[{code}m{s}\x1b[0m")
}

/// etcdctl's `--hex`: every byte as `\xNN`.
pub fn hex_escape(b: &[u8]) -> String {
    let mut s = String::with_capacity(b.len() * 4);
    for x in b {
        s.push_str(&format!("\\x{x:02x}"));
    }
    s
}

/// A key for a person: `--hex` escapes every byte, else printable as is, else Go-quoted.
pub fn key(b: &[u8]) -> String {
    if get().hex {
        hex_escape(b)
    } else {
        crate::format::readable(b)
    }
}

/// A spinner on stderr for work that may take a while: drawn only when it has run for a
/// second, on a terminal, without `--quiet`; cleared when dropped.
pub struct Progress {
    done: Option<std::sync::mpsc::Sender<()>>,
    thread: Option<std::thread::JoinHandle<()>>,
}

impl Progress {
    /// Starts the (not yet visible) spinner with `message`.
    pub fn start(message: String) -> Progress {
        if !get().progress {
            return Progress {
                done: None,
                thread: None,
            };
        }
        let (tx, rx) = std::sync::mpsc::channel::<()>();
        let thread = std::thread::spawn(move || {
            if rx.recv_timeout(Duration::from_secs(1)).is_ok() {
                return;
            }
            let bar = indicatif::ProgressBar::new_spinner();
            bar.set_style(
                indicatif::ProgressStyle::with_template("{spinner} {msg} ({elapsed})")
                    .unwrap_or_else(|_| indicatif::ProgressStyle::default_spinner()),
            );
            bar.set_message(message);
            loop {
                bar.tick();
                match rx.recv_timeout(Duration::from_millis(100)) {
                    Err(std::sync::mpsc::RecvTimeoutError::Timeout) => {}
                    _ => break,
                }
            }
            bar.finish_and_clear();
        });
        Progress {
            done: Some(tx),
            thread: Some(thread),
        }
    }
}

impl Progress {
    /// `out`, which clears the spinner when the first byte is written, so that the spinner
    /// never mixes with the output on the same terminal.
    pub fn until_output(self, out: &mut dyn std::io::Write) -> UntilOutput<'_> {
        UntilOutput {
            out,
            progress: Some(self),
        }
    }
}

/// See [`Progress::until_output`].
pub struct UntilOutput<'a> {
    out: &'a mut dyn std::io::Write,
    progress: Option<Progress>,
}

impl std::io::Write for UntilOutput<'_> {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.progress.take();
        self.out.write(buf)
    }

    fn flush(&mut self) -> std::io::Result<()> {
        self.out.flush()
    }
}

impl Drop for Progress {
    fn drop(&mut self) {
        if let Some(tx) = self.done.take() {
            let _ = tx.send(());
        }
        if let Some(t) = self.thread.take() {
            let _ = t.join();
        }
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn hex_like_etcdctl() {
        // etcdctl 3.5.1 `get foo --hex` printed \x66\x6f\x6f.
        assert_eq!(super::hex_escape(b"foo"), r"\x66\x6f\x6f");
    }
}
