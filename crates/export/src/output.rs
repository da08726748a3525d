//! Output files written the safe way, and the Hive-style layout of a fleet dataset.
//!
//! An export can take minutes and can fail half way (a damaged page deep in the file, a full
//! disk). A reader must never see a half-written file under the final name, and an existing
//! file is never replaced by accident: [`AtomicFile`] writes to a hidden temporary name in the
//! same directory (so the rename cannot cross file systems), renames it over the final name
//! only when [`AtomicFile::commit`] is called, and removes it when dropped uncommitted.
//!
//! [`dataset_path`] places one snapshot's file at
//! `DIR/cluster=<name>/taken=<value>/part.parquet`, the layout DuckDB
//! (`hive_partitioning=true`), Spark, Trino and pyarrow read as one table with `cluster` and
//! `taken` as columns.

use std::fs::{self, File, OpenOptions};
use std::io::{self, BufWriter, Write};
use std::path::{Path, PathBuf};

/// Why an output could not be opened.
#[derive(Debug, thiserror::Error)]
pub enum OutputError {
    /// The final name exists and overwriting was not asked for.
    #[error("{0}: already exists (use --force to replace it)")]
    Exists(PathBuf),
    /// The temporary file could not be created.
    #[error("{path}: cannot write: {source}")]
    Create {
        /// The final name.
        path: PathBuf,
        /// Why.
        source: io::Error,
    },
}

/// A file written under a temporary name and renamed into place on [`AtomicFile::commit`].
#[derive(Debug)]
pub struct AtomicFile {
    tmp: PathBuf,
    path: PathBuf,
    file: Option<BufWriter<File>>,
}

impl AtomicFile {
    /// Creates the temporary file for `path` (refusing an existing `path` unless `force`),
    /// creating missing parent directories when `make_dirs`.
    pub fn create(path: &Path, force: bool, make_dirs: bool) -> Result<AtomicFile, OutputError> {
        let create = |source| OutputError::Create {
            path: path.to_path_buf(),
            source,
        };
        if !force && fs::symlink_metadata(path).is_ok() {
            return Err(OutputError::Exists(path.to_path_buf()));
        }
        let dir = match path.parent() {
            Some(d) if !d.as_os_str().is_empty() => d.to_path_buf(),
            _ => PathBuf::from("."),
        };
        if make_dirs {
            fs::create_dir_all(&dir).map_err(create)?;
        }
        let name = path
            .file_name()
            .map(|n| n.to_string_lossy().into_owned())
            .unwrap_or_else(|| "export".into());
        let tmp = dir.join(format!(".{name}.etcdsnap-tmp-{}", std::process::id()));
        let file = OpenOptions::new()
            .write(true)
            .create_new(true)
            .open(&tmp)
            .map_err(create)?;
        Ok(AtomicFile {
            tmp,
            path: path.to_path_buf(),
            file: Some(BufWriter::with_capacity(1 << 20, file)),
        })
    }

    /// The final name.
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// Flushes and renames the file into place.
    pub fn commit(mut self) -> io::Result<()> {
        if let Some(mut f) = self.file.take() {
            f.flush()?;
            let file = f.into_inner().map_err(|e| e.into_error())?;
            drop(file);
        }
        fs::rename(&self.tmp, &self.path)
    }
}

impl Write for AtomicFile {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        match &mut self.file {
            Some(f) => f.write(buf),
            None => Err(io::Error::other("file already committed")),
        }
    }

    fn write_all(&mut self, buf: &[u8]) -> io::Result<()> {
        match &mut self.file {
            Some(f) => f.write_all(buf),
            None => Err(io::Error::other("file already committed")),
        }
    }

    fn flush(&mut self) -> io::Result<()> {
        match &mut self.file {
            Some(f) => f.flush(),
            None => Ok(()),
        }
    }
}

impl Drop for AtomicFile {
    fn drop(&mut self) {
        if self.file.take().is_some() {
            let _ = fs::remove_file(&self.tmp);
        }
    }
}

/// A Hive partition value: letters, digits and `._-` as they are, every other byte `%XX`
/// (the escaping Hive and Spark undo; `/`, `=` and `:` never reach the path). An empty
/// value becomes `__HIVE_DEFAULT_PARTITION__`, Hive's name for it.
pub fn partition_value(s: &str) -> String {
    if s.is_empty() {
        return "__HIVE_DEFAULT_PARTITION__".into();
    }
    let mut out = String::with_capacity(s.len());
    for b in s.bytes() {
        if b.is_ascii_alphanumeric() || matches!(b, b'.' | b'_' | b'-') {
            out.push(b as char);
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

/// `DIR/cluster=<cluster>/taken=<taken>/part.<ext>`.
pub fn dataset_path(dir: &Path, cluster: &str, taken: &str, ext: &str) -> PathBuf {
    dir.join(format!("cluster={}", partition_value(cluster)))
        .join(format!("taken={}", partition_value(taken)))
        .join(format!("part.{ext}"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn partitions() {
        assert_eq!(partition_value("prod-eu.1"), "prod-eu.1");
        assert_eq!(partition_value("a/b=c d"), "a%2Fb%3Dc%20d");
        assert_eq!(partition_value(""), "__HIVE_DEFAULT_PARTITION__");
        assert_eq!(
            dataset_path(Path::new("/d"), "c1", "2024-01-02T03:04:05Z", "parquet"),
            PathBuf::from("/d/cluster=c1/taken=2024-01-02T03%3A04%3A05Z/part.parquet")
        );
    }

    #[test]
    fn atomic_file_is_renamed_on_commit_and_removed_on_drop() {
        let dir = std::env::temp_dir().join(format!("etcdsnap-atomic-{}", std::process::id()));
        let _ = fs::remove_dir_all(&dir);
        let p = dir.join("sub/out.csv");
        let mut f = AtomicFile::create(&p, false, true).unwrap();
        f.write_all(b"a\n").unwrap();
        assert!(!p.exists());
        f.commit().unwrap();
        assert_eq!(fs::read(&p).unwrap(), b"a\n");
        assert!(matches!(
            AtomicFile::create(&p, false, true),
            Err(OutputError::Exists(_))
        ));
        let mut f = AtomicFile::create(&p, true, true).unwrap();
        f.write_all(b"partial").unwrap();
        drop(f);
        assert_eq!(fs::read(&p).unwrap(), b"a\n");
        let left: Vec<_> = fs::read_dir(dir.join("sub")).unwrap().collect();
        assert_eq!(left.len(), 1, "{left:?}");
        fs::remove_dir_all(&dir).unwrap();
    }
}
