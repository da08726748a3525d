//! Inputs that are not regular files are refused before they are opened: a named pipe would
//! block `open(2)` until a writer comes (issue 17: `verify` on a FIFO hung). And a source read
//! in pieces (`pread`, for hashing) gives the bytes the map holds.

use std::path::PathBuf;
use std::sync::mpsc;
use std::time::Duration;

use etcdsnap_bbolt::{Error, Source};

fn scratch(name: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("etcdsnap-open-{}-{name}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

/// Opens `path` on another thread; `None` when it has not returned within 5 s.
fn open_within(path: PathBuf) -> Option<Result<Source, Error>> {
    let (tx, rx) = mpsc::channel();
    std::thread::spawn(move || {
        let _ = tx.send(Source::open(&path));
    });
    rx.recv_timeout(Duration::from_secs(5)).ok()
}

#[test]
fn a_named_pipe_is_refused_without_blocking() {
    let dir = scratch("fifo");
    let fifo = dir.join("snap.db");
    let made = std::process::Command::new("mkfifo").arg(&fifo).status();
    assert!(made.is_ok_and(|s| s.success()), "mkfifo failed");
    let r = open_within(fifo).expect("open blocked on a named pipe");
    assert!(matches!(r, Err(Error::NotAFile(_))), "{r:?}");
    std::fs::remove_dir_all(dir).unwrap();
}

#[test]
fn a_directory_and_a_device_are_refused() {
    let dir = scratch("dir");
    for p in [dir.clone(), PathBuf::from("/dev/null")] {
        let r = open_within(p.clone()).expect("open blocked");
        assert!(matches!(r, Err(Error::NotAFile(_))), "{p:?}: {r:?}");
    }
    std::fs::remove_dir_all(dir).unwrap();
}

#[test]
fn a_symlink_to_a_regular_file_is_followed() {
    let dir = scratch("link");
    let file = dir.join("real.db");
    std::fs::write(&file, b"0123").unwrap();
    let link = dir.join("link.db");
    std::os::unix::fs::symlink(&file, &link).unwrap();
    let s = open_within(link).expect("open blocked").unwrap();
    assert_eq!(s.bytes(), b"0123");
    std::fs::remove_dir_all(dir).unwrap();
}

#[test]
fn pieces_of_a_mapped_or_owned_source_are_its_bytes_in_order() {
    // Not a multiple of the piece size, so the last piece is short.
    let bytes: Vec<u8> = (0..(600 << 10) + 123)
        .map(|i| (i * 7 % 251) as u8)
        .collect();
    let dir = scratch("pieces");
    let path = dir.join("pieces.bin");
    std::fs::write(&path, &bytes).unwrap();
    let mapped = Source::open(&path).unwrap();
    let owned = Source::from_vec(bytes.clone());
    for source in [&mapped, &owned] {
        for len in [
            0,
            1,
            256 << 10,
            bytes.len() - 32,
            bytes.len(),
            bytes.len() + 9,
        ] {
            let mut got = Vec::new();
            let mut pieces = 0;
            source.for_each_piece(len, |p| {
                pieces += 1;
                got.extend_from_slice(p);
            });
            assert_eq!(got, bytes[..len.min(bytes.len())], "len {len}");
            assert!(pieces <= 4, "{pieces} pieces");
        }
    }
    std::fs::remove_dir_all(&dir).unwrap();
}
