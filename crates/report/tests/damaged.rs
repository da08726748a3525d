//! The report on damaged and odd files: every input of the fuzz corpus (`fuzz/corpus/*`, the
//! minimized inputs of five targets, most of them broken databases) that opens as a database
//! goes through the whole report, model and page. Nothing may panic; a page that is made must
//! be a whole document whose verify verdict matches `verify` run on the same bytes.

use std::path::Path;
use std::sync::Arc;

use etcdsnap_bbolt::{Db, OpenOptions, Source};
use etcdsnap_mvcc::Snapshot;
use etcdsnap_mvcc::verify::{VerifyOptions, verify};
use etcdsnap_report::{Config, build, render};

#[test]
fn every_fuzz_corpus_input_gives_a_page_or_an_error_never_a_panic() {
    let fuzz = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../fuzz/corpus");
    let mut inputs = Vec::new();
    for target in ["open", "walk", "status", "verify", "kv"] {
        if let Ok(rd) = std::fs::read_dir(fuzz.join(target)) {
            for e in rd.flatten() {
                inputs.push(e.path());
            }
        }
    }
    inputs.sort();
    assert!(inputs.len() > 100, "fuzz corpus not found under {fuzz:?}");
    let (mut pages, mut opened) = (0, 0);
    let mut cfg = Config::new(2);
    cfg.max_findings = 20;
    for p in &inputs {
        let bytes = std::fs::read(p).expect("read");
        let source = Arc::new(Source::from_vec(bytes));
        let Ok(db) = Db::from_source(Arc::clone(&source), OpenOptions::default()) else {
            continue;
        };
        opened += 1;
        let snap = Snapshot::from_db(db);
        if let Ok(model) = build(&snap, &cfg) {
            let page = render(&model);
            assert!(page.starts_with("<!DOCTYPE html>"), "{p:?}");
            assert!(page.trim_end().ends_with("</html>"), "{p:?}");
            let alone = verify(
                source,
                &VerifyOptions {
                    max_findings: cfg.max_findings,
                    parallel: false,
                },
            );
            assert_eq!(model.verify.ok, alone.ok, "{p:?}");
            assert_eq!(model.verify.checks, alone.checks, "{p:?}");
            pages += 1;
        }
    }
    // The corpus holds sound databases too: some pages must have been made.
    assert!(pages > 0, "{opened} inputs opened, no page made");
    eprintln!(
        "{} inputs, {opened} opened as databases, {pages} pages made",
        inputs.len()
    );
}
