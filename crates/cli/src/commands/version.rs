//! `etcdsnap version`: the version of the binary, as `etcdctl version` prints its own, and
//! the etcd storage versions it reads.

use std::io::Write;

use crate::fail::{CmdResult, Outcome};

/// The etcd releases whose files this build reads (tested against their own snapshots).
const READS: &str = "3.4, 3.5";

/// Runs `version`: two lines (simple) or one JSON object.
pub fn run(json: bool, out: &mut dyn Write) -> CmdResult {
    let version = env!("CARGO_PKG_VERSION");
    if json {
        writeln!(
            out,
            "{}",
            serde_json::json!({"etcdsnap_version": version, "etcd_versions_read": READS})
        )?;
    } else {
        writeln!(out, "etcdsnap version: {version}")?;
        writeln!(out, "etcd versions read: {READS}")?;
    }
    Ok(Outcome::Clean)
}
