//! What a `FILE` argument can be, made into a file the readers can map: a snapshot file, an
//! etcd data directory (its `member/snap/db`), `-` (stdin), a FIFO or other stream (`<(...)`),
//! or a gzip, zstd or xz compressed backup.
//!
//! The readers map a regular file (zero copy), so a stream or a compressed file is first
//! written, decompressed, to a temporary file in `$TMPDIR` (removed when the command ends;
//! on Unix as soon as it is mapped). The cost is one sequential pass: the decompressor's speed
//! (xz is the slow one) and the uncompressed size in temporary space; stderr says
//! so. The input itself is only ever read.
//!
//! Also here: the errors a user meets before any byte is parsed, worded for what really
//! happened (a directory that cannot be read, a missing file, a FIFO with no writer).

use std::fs::File;
use std::io::{self, BufReader, Read, Write};
use std::path::{Path, PathBuf};

use crate::fail::Failure;

/// A compression recognized by its magic bytes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Compression {
    /// RFC 1952 (`1f 8b`).
    Gzip,
    /// Zstandard frames (`28 b5 2f fd`).
    Zstd,
    /// xz (`fd 37 7a 58 5a 00`).
    Xz,
    /// bzip2 (`BZh`): recognized, not read.
    Bzip2,
}

impl Compression {
    /// The compression whose magic starts `head`.
    pub fn sniff(head: &[u8]) -> Option<Compression> {
        if head.starts_with(&[0x1f, 0x8b]) {
            Some(Compression::Gzip)
        } else if head.starts_with(&[0x28, 0xb5, 0x2f, 0xfd]) {
            Some(Compression::Zstd)
        } else if head.starts_with(&[0xfd, b'7', b'z', b'X', b'Z', 0]) {
            Some(Compression::Xz)
        } else if head.starts_with(b"BZh") {
            Some(Compression::Bzip2)
        } else {
            None
        }
    }

    fn name(self) -> &'static str {
        match self {
            Compression::Gzip => "gzip",
            Compression::Zstd => "zstd",
            Compression::Xz => "xz",
            Compression::Bzip2 => "bzip2",
        }
    }
}

/// A `FILE` argument ready to be opened.
pub struct Input {
    /// The path to map (the argument, a data directory's db, or a temporary file).
    pub path: PathBuf,
    /// What to call it in messages and reports: the user's argument (`-` is "stdin").
    pub shown: PathBuf,
    /// The temporary file, removed on drop.
    _temp: Option<tempfile::TempPath>,
}

impl Input {
    fn direct(path: PathBuf) -> Input {
        Input {
            shown: path.clone(),
            path,
            _temp: None,
        }
    }
}

/// Makes `arg` into a file that can be mapped, saying on stderr what was done to get it.
pub fn prepare(arg: &Path, err: &mut dyn Write) -> Result<Input, Failure> {
    if arg.as_os_str() == "-" {
        let stdin = io::stdin();
        return spool(Path::new("stdin"), Box::new(stdin.lock()), err);
    }
    let md = std::fs::metadata(arg)
        .map_err(|e| Failure::at(arg, format!("cannot open: {}", io_words(&e))))?;
    if md.is_dir() {
        return data_dir(arg);
    }
    if !md.is_file() {
        // A FIFO, a character device, a socket: a stream, read once into a temporary file.
        let f = open_stream(arg)?;
        return spool(arg, Box::new(f), err);
    }
    let mut f =
        File::open(arg).map_err(|e| Failure::at(arg, format!("cannot open: {}", io_words(&e))))?;
    let mut head = [0u8; 6];
    let n = read_head(&mut f, &mut head).map_err(|e| Failure::at(arg, io_words(&e)))?;
    match Compression::sniff(&head[..n]) {
        None => Ok(Input::direct(arg.to_path_buf())),
        Some(c) => {
            let f = File::open(arg).map_err(|e| Failure::at(arg, io_words(&e)))?;
            decompress_to_temp(arg, c, Box::new(f), err)
        }
    }
}

/// The words for an I/O error on the input, without Rust's "(os error N)".
fn io_words(e: &io::Error) -> String {
    match e.kind() {
        io::ErrorKind::NotFound => "no such file or directory".into(),
        io::ErrorKind::PermissionDenied => {
            "permission denied (run as a user who can read it)".into()
        }
        _ => {
            let s = e.to_string();
            match s.find(" (os error") {
                Some(i) => s[..i].to_string(),
                None => s,
            }
        }
    }
}

/// A data directory: its `member/snap/db` (or `snap/db`), or why not.
fn data_dir(arg: &Path) -> Result<Input, Failure> {
    if let Err(e) = std::fs::read_dir(arg) {
        return Err(Failure::at(
            arg,
            format!(
                "cannot look inside this directory for member/snap/db: {}",
                io_words(&e)
            ),
        ));
    }
    for inner in [arg.join("member"), arg.join("member").join("snap")] {
        if inner.is_dir()
            && let Err(e) = std::fs::read_dir(&inner)
        {
            return Err(Failure::at(
                &inner,
                format!("cannot read this data directory: {}", io_words(&e)),
            ));
        }
    }
    let (file, from_dir) = etcdsnap_mvcc::snapshot::resolve_path(arg);
    if !from_dir {
        return Err(Failure::at(arg, etcdsnap_mvcc::Error::NotADataDir));
    }
    Ok(Input {
        shown: file.clone(),
        path: file,
        _temp: None,
    })
}

/// Opens a FIFO or device without blocking for a writer (a FIFO nobody writes to is then
/// an empty input, not a hang), then reads it blocking.
fn open_stream(arg: &Path) -> Result<File, Failure> {
    #[cfg(unix)]
    {
        use rustix::fs::{OFlags, fcntl_getfl, fcntl_setfl};
        use std::os::unix::fs::OpenOptionsExt;
        let f = std::fs::OpenOptions::new()
            .read(true)
            .custom_flags(OFlags::NONBLOCK.bits() as i32)
            .open(arg)
            .map_err(|e| Failure::at(arg, io_words(&e)))?;
        // Back to blocking reads once open: a writer that comes later is waited for.
        if let Ok(flags) = fcntl_getfl(&f) {
            let _ = fcntl_setfl(&f, flags - OFlags::NONBLOCK);
        }
        Ok(f)
    }
    #[cfg(not(unix))]
    {
        File::open(arg).map_err(|e| Failure::at(arg, io_words(&e)))
    }
}

fn read_head(r: &mut dyn Read, buf: &mut [u8]) -> io::Result<usize> {
    let mut n = 0;
    while n < buf.len() {
        match r.read(&mut buf[n..]) {
            Ok(0) => break,
            Ok(k) => n += k,
            Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
            Err(e) => return Err(e),
        }
    }
    Ok(n)
}

/// A stream (stdin, FIFO): its first bytes decide whether it is compressed; either way it is
/// written to a temporary file.
fn spool(shown: &Path, mut r: Box<dyn Read + '_>, err: &mut dyn Write) -> Result<Input, Failure> {
    let mut head = [0u8; 6];
    let n = read_head(&mut r, &mut head).map_err(|e| Failure::at(shown, io_words(&e)))?;
    let whole = Box::new(io::Cursor::new(head[..n].to_vec()).chain(r));
    match Compression::sniff(&head[..n]) {
        Some(c) => decompress_to_temp(shown, c, whole, err),
        None => {
            let mut whole = whole;
            let (temp, bytes) = to_temp(shown, &mut whole)?;
            if bytes == 0 {
                return Err(Failure::at(
                    shown,
                    "nothing to read: the stream is empty (no writer, or it wrote nothing)",
                ));
            }
            let _ = writeln!(
                err,
                "etcdsnap: {}: a stream, copied to a temporary file ({bytes} bytes)",
                shown.display()
            );
            Ok(temp)
        }
    }
}

fn decompress_to_temp(
    shown: &Path,
    c: Compression,
    r: Box<dyn Read + '_>,
    err: &mut dyn Write,
) -> Result<Input, Failure> {
    let r = BufReader::with_capacity(1 << 20, r);
    let (input, bytes) = match c {
        Compression::Gzip => to_temp(shown, &mut flate2::bufread::MultiGzDecoder::new(r)),
        Compression::Zstd => {
            let mut d = ruzstd::decoding::StreamingDecoder::new(r)
                .map_err(|e| Failure::at(shown, format!("zstd-compressed, but: {e}")))?;
            to_temp(shown, &mut d)
        }
        // liblzma, streaming (multi-stream like xz -d); lzma-rs was dropped because it holds
        // a whole xz block in memory, which is the whole file for a single-threaded `xz`.
        Compression::Xz => to_temp(shown, &mut xz2::bufread::XzDecoder::new_multi_decoder(r)),
        Compression::Bzip2 => Err(Failure::at(
            shown,
            "is bzip2-compressed: decompress it first (bunzip2 -k FILE), or pipe it: bzcat FILE | etcdsnap ... -",
        )),
    }
    .map_err(|f| match f {
        Failure::Message(m) => Failure::Message(format!("{m} (as {}-compressed data)", c.name())),
        f => f,
    })?;
    let _ = writeln!(
        err,
        "etcdsnap: {}: {}-compressed, decompressed to a temporary file ({bytes} bytes)",
        shown.display(),
        c.name()
    );
    Ok(input)
}

/// Copies `r` to a new temporary file.
fn to_temp(shown: &Path, r: &mut dyn Read) -> Result<(Input, u64), Failure> {
    to_temp_with(shown, |f| io::copy(r, f).map(|_| ()))
}

/// A new temporary file filled by `fill`, and its size.
fn to_temp_with(
    shown: &Path,
    fill: impl FnOnce(&mut File) -> io::Result<()>,
) -> Result<(Input, u64), Failure> {
    let mut temp = tempfile::Builder::new()
        .prefix("etcdsnap-")
        .suffix(".db")
        .tempfile()
        .map_err(|e| Failure::Message(format!("cannot create a temporary file: {e}")))?;
    fill(temp.as_file_mut()).map_err(|e| {
        Failure::at(
            shown,
            format!("cannot read it into a temporary file: {}", io_words(&e)),
        )
    })?;
    let bytes = temp
        .as_file()
        .metadata()
        .map(|m| m.len())
        .map_err(|e| Failure::Message(format!("temporary file: {e}")))?;
    let path = temp.into_temp_path();
    Ok((
        Input {
            path: path.to_path_buf(),
            shown: shown.to_path_buf(),
            _temp: Some(path),
        },
        bytes,
    ))
}
