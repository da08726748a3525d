//! `etcdsnap report` end to end, through the built binary: the page parses as HTML5 without a
//! single parse error (html5ever, the parser of Servo, via `scraper`), it carries exactly the
//! figures that `stats -w json`, `status -w json`, `verify -w json`, `info -w json`, `audit -w
//! json` and `diff --summary -w json` print for the same files (read back from the page and
//! compared with the commands' JSON, never with constants), and it references nothing outside
//! itself. Also: the output file is written whole and never over an existing one without
//! --force, and never over the input.

use std::path::Path;
use std::process::{Command, Output};

use etcdsnap_testkit::{corpus_db, fixtures_dir};
use scraper::{ElementRef, Html, Selector};
use serde_json::Value;

fn run(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_etcdsnap"))
        .args(args)
        .output()
        .expect("run etcdsnap")
}

fn ok(args: &[&str], codes: &[i32]) -> String {
    let o = run(args);
    assert!(
        o.status.code().is_some_and(|c| codes.contains(&c)),
        "{args:?}: exit {:?}: {}",
        o.status.code(),
        String::from_utf8_lossy(&o.stderr)
    );
    String::from_utf8(o.stdout).expect("utf-8 output")
}

fn json(args: &[&str]) -> Value {
    let out = ok(args, &[0, 1]);
    serde_json::from_str(&out).unwrap_or_else(|e| panic!("{args:?}: not JSON ({e}): {out:.300}"))
}

fn sel(s: &str) -> Selector {
    Selector::parse(s).unwrap_or_else(|e| panic!("selector {s}: {e:?}"))
}

/// The page of `file` (and the baseline `compare`), parsed; fails on any HTML5 parse error.
fn page(file: &str, extra: &[&str]) -> Html {
    let mut args = vec!["report", file, "-o", "-"];
    args.extend_from_slice(extra);
    let html = ok(&args, &[0, 1]);
    assert!(html.starts_with("<!DOCTYPE html>"), "{:.100}", html);
    let doc = Html::parse_document(&html);
    assert!(
        doc.errors.is_empty(),
        "{file}: HTML parse errors: {:?}",
        doc.errors
    );
    doc
}

/// The `data-v` of the one element matching `css` (inside `scope` when given).
fn value_in(scope: ElementRef<'_>, css: &str) -> String {
    let found: Vec<ElementRef<'_>> = scope.select(&sel(css)).collect();
    assert_eq!(found.len(), 1, "{css}: {} matches", found.len());
    found[0]
        .value()
        .attr("data-v")
        .unwrap_or_else(|| panic!("{css}: no data-v"))
        .to_string()
}

fn value(doc: &Html, css: &str) -> String {
    value_in(doc.root_element(), css)
}

fn u(v: &Value) -> String {
    match v {
        Value::Number(n) => n.to_string(),
        Value::Bool(b) => b.to_string(),
        Value::String(s) => s.clone(),
        other => panic!("not a scalar: {other}"),
    }
}

/// A name as the page shows it (characters HTML cannot hold escaped, by the report's own
/// rule), quoted and escaped for a CSS attribute selector.
fn q(s: &str) -> String {
    let shown = etcdsnap_report::scrub(s.to_string());
    format!("\"{}\"", shown.replace('\\', "\\\\").replace('"', "\\\""))
}

const COUNTS: [&str; 5] = [
    "live_objects",
    "live_bytes",
    "history_revisions",
    "history_bytes",
    "tombstones",
];

/// Every figure of `stats -w json` that the page shows, read back from the page.
fn check_stats(doc: &Html, file: &str, rev: Option<&str>) {
    let mut args = vec!["stats", file, "-w", "json", "--top", "15"];
    if let Some(r) = rev {
        args.extend_from_slice(&["--rev", r]);
    }
    let stats = json(&args);
    let groups = stats["groups"].as_array().expect("groups");
    for g in groups {
        let name = g["name"].as_str().expect("name");
        let row = doc
            .select(&sel(&format!("#groups tr.group[data-group={}]", q(name))))
            .next()
            .unwrap_or_else(|| panic!("{file}: no row for group {name}"));
        for k in COUNTS {
            assert_eq!(
                value_in(row, &format!("td[data-k={k}]")),
                u(&g[k]),
                "{file}: group {name} {k}"
            );
        }
    }
    // No group on the page that stats does not have.
    assert_eq!(
        doc.select(&sel("#groups tr.group")).count(),
        groups.len(),
        "{file}"
    );
    let total = doc
        .select(&sel("#groups #total"))
        .next()
        .expect("total row");
    for k in COUNTS {
        assert_eq!(
            value_in(total, &format!("td[data-k={k}]")),
            u(&stats["total"][k]),
            "{file}: total {k}"
        );
    }
    let f = &stats["file"];
    for (k, v) in [
        ("total_size", &f["total_size"]),
        ("free_size", &f["free_size"]),
        ("live_bytes", &stats["total"]["live_bytes"]),
        ("history_bytes", &stats["total"]["history_bytes"]),
        ("current_revision", &stats["store"]["current_revision"]),
        ("compact_revision", &stats["store"]["compact_revision"]),
    ] {
        assert_eq!(
            value(doc, &format!("header [data-k={k}]")),
            u(v),
            "{file}: {k}"
        );
    }
    // The top lists, in order.
    for (id, list) in [
        ("#largest", &stats["largest_live"]),
        ("#most-revisions", &stats["most_revisions"]),
    ] {
        let rows: Vec<(String, String)> = doc
            .select(&sel(&format!("{id} tbody tr")))
            .map(|tr| {
                let key = tr
                    .select(&sel("td.key"))
                    .next()
                    .expect("key cell")
                    .text()
                    .collect::<String>();
                (key, value_in(tr, "td[data-k=value]"))
            })
            .collect();
        let want: Vec<(Option<String>, String)> = list
            .as_array()
            .expect("list")
            .iter()
            .map(|k| {
                // Printable text keys are shown as they are; others escaped (not compared).
                let key = k["key"]
                    .as_str()
                    .filter(|t| !t.chars().any(char::is_control))
                    .map(str::to_string);
                (key, u(&k["value"]))
            })
            .collect();
        assert_eq!(rows.len(), want.len(), "{file}: {id}");
        for ((key, v), (wkey, wv)) in rows.iter().zip(&want) {
            assert_eq!(v, wv, "{file}: {id} {key}");
            if let Some(w) = wkey {
                assert_eq!(key, w, "{file}: {id}");
            }
        }
    }
}

/// `status`, `verify`, `info` and `audit` figures on the page.
fn check_others(doc: &Html, file: &str) {
    let st = json(&["status", file, "-w", "json"]);
    for (k, j) in [
        ("status_hash", "hash"),
        ("status_revision", "revision"),
        ("status_total_key", "totalKey"),
        ("status_total_size", "totalSize"),
    ] {
        assert_eq!(
            value(doc, &format!("[data-k={k}]")),
            u(&st[j]),
            "{file}: {k}"
        );
    }
    let v = json(&["verify", file, "-w", "json"]);
    assert_eq!(value(doc, "header [data-k=verify]"), u(&v["ok"]), "{file}");
    for c in v["checks"].as_array().expect("checks") {
        let name = c["name"].as_str().expect("name");
        assert_eq!(
            value(
                doc,
                &format!("tr[data-check={}] [data-k=check_status]", q(name))
            ),
            u(&c["status"]).to_uppercase(),
            "{file}: verify {name}"
        );
    }
    let info = json(&["info", file, "-w", "json"]);
    let leases = info["leases"].as_array().expect("leases");
    assert_eq!(value(doc, "[data-k=leases]"), leases.len().to_string());
    for l in leases {
        // In JSON `id` is the hex id (the page shows it the same way).
        let id = l["id"].as_str().expect("id");
        if let Some(tr) = doc
            .select(&sel(&format!("tr[data-lease={}]", q(id))))
            .next()
        {
            assert_eq!(
                value_in(tr, "td[data-k=attached_keys]"),
                u(&l["attached_keys"]),
                "{file}: lease {id}"
            );
        }
    }
    // audit refuses to pass a gate that audited nothing (exit 2): then the page counts none.
    let a = run(&["audit", file, "-w", "json"]);
    let secrets = if a.status.code() == Some(2)
        && String::from_utf8_lossy(&a.stderr).contains("nothing to audit")
    {
        "0".to_string()
    } else {
        u(&json(&["audit", file, "-w", "json"])["total"])
    };
    assert_eq!(value(doc, "[data-k=secrets]"), secrets, "{file}");
}

/// Nothing on the page is fetched from elsewhere: no element that loads anything, no
/// attribute naming a resource other than a fragment of the page, no `url()` but `url(#...)`.
fn check_self_contained(doc: &Html, file: &str) {
    for tag in [
        "script", "link", "img", "iframe", "object", "embed", "video", "audio", "source", "image",
        "use", "base", "form",
    ] {
        assert_eq!(doc.select(&sel(tag)).count(), 0, "{file}: <{tag}>");
    }
    for el in doc.select(&sel("*")) {
        for (name, v) in el.value().attrs() {
            let name = name.to_ascii_lowercase();
            assert!(
                !["src", "srcset", "action", "poster", "data", "background"]
                    .contains(&name.as_str()),
                "{file}: <{}> has {name}={v}",
                el.value().name()
            );
            if name.ends_with("href") {
                assert!(v.starts_with('#'), "{file}: {name}={v}");
            }
            assert!(
                !v.contains("url(") || v.contains("url(#"),
                "{file}: {name}={v}"
            );
        }
    }
    for style in doc.select(&sel("style")) {
        let css: String = style.text().collect();
        assert!(!css.contains("@import"), "{file}: @import");
        for (i, _) in css.match_indices("url(") {
            assert!(css[i..].starts_with("url(#"), "{file}: {}", &css[i..i + 40]);
        }
    }
}

#[test]
fn the_page_holds_the_commands_figures_and_nothing_from_elsewhere() {
    let own = fixtures_dir().join("own");
    let files = [
        corpus_db("h5-k8s.db"),
        corpus_db("h2b.db"),
        corpus_db("h4-empty.db"),
        own.join("own-35.db"),
        own.join("own-35-member.db"),
    ];
    for f in &files {
        let file = f.to_str().expect("path");
        let doc = page(file, &[]);
        check_stats(&doc, file, None);
        check_others(&doc, file);
        check_self_contained(&doc, file);
    }
}

#[test]
fn at_a_revision_the_space_is_that_of_stats_at_it() {
    let file = corpus_db("h1.db");
    let file = file.to_str().expect("path");
    let doc = page(file, &["--rev", "3801"]);
    check_stats(&doc, file, Some("3801"));
}

#[test]
fn compare_holds_the_figures_of_diff() {
    let a = corpus_db("h2a.db");
    let b = corpus_db("h2b.db");
    let (a, b) = (a.to_str().expect("path"), b.to_str().expect("path"));
    let doc = page(b, &["--compare", a]);
    check_self_contained(&doc, b);
    let d = json(&["diff", a, b, "--summary", "-w", "json"]);
    for k in ["added", "deleted", "modified", "unchanged"] {
        assert_eq!(
            value(&doc, &format!("#compare .cards [data-k={k}]")),
            u(&d["summary"][k]),
            "{k}"
        );
    }
    // Per resource: the added/deleted/modified counts of the page's growth table sum to diff's.
    let mut sums = [0u64; 3];
    for tr in doc.select(&sel("#growth-resource tbody tr")) {
        for (i, k) in ["added", "deleted", "modified"].iter().enumerate() {
            sums[i] += value_in(tr, &format!("td[data-k={k}]"))
                .parse::<u64>()
                .expect("number");
        }
    }
    assert_eq!(
        sums.map(|n| n.to_string()),
        ["added", "deleted", "modified"].map(|k| u(&d["summary"][k]))
    );
    // Bytes after, per resource, are stats' live bytes of B; before, those of A.
    for (file, k) in [(b, "bytes_b"), (a, "bytes_a")] {
        let stats = json(&["stats", file, "-w", "json"]);
        for g in stats["groups"].as_array().expect("groups") {
            let name = g["name"].as_str().expect("name");
            if let Some(tr) = doc
                .select(&sel(&format!(
                    "#growth-resource tr[data-group={}]",
                    q(name)
                )))
                .next()
            {
                assert_eq!(
                    value_in(tr, &format!("td[data-k={k}]")),
                    u(&g["live_bytes"]),
                    "{name} {k}"
                );
            }
        }
    }
    // The objects that grew most: from diff's own changes (sizes are key + value), largest
    // growth first, ties by key; the page keeps the first 15.
    let full = json(&["diff", a, b, "-w", "json"]);
    let mut want: Vec<(u64, String, u64)> = Vec::new();
    for c in full["changes"].as_array().expect("changes") {
        use base64::Engine as _;
        let key = base64::engine::general_purpose::STANDARD
            .decode(c["key"].as_str().expect("key"))
            .expect("base64");
        let size = |side: &Value| side["value_size"].as_u64().map(|v| v + key.len() as u64);
        let (sa, sb) = (size(&c["a"]).unwrap_or(0), size(&c["b"]).unwrap_or(0));
        if sb > sa {
            want.push((sb - sa, String::from_utf8(key).expect("text key"), sb));
        }
    }
    want.sort_by(|x, y| y.0.cmp(&x.0).then_with(|| x.1.cmp(&y.1)));
    want.truncate(15);
    let got: Vec<(u64, String, u64)> = doc
        .select(&sel("#grown tbody tr"))
        .map(|tr| {
            let key: String = tr
                .select(&sel("td.key"))
                .next()
                .expect("key")
                .text()
                .collect();
            let n = |k: &str| {
                value_in(tr, &format!("td[data-k={k}]"))
                    .parse::<u64>()
                    .expect("n")
            };
            (n("bytes_b") - n("bytes_a"), key, n("bytes_b"))
        })
        .collect();
    assert!(!want.is_empty());
    assert_eq!(got, want);
}

#[test]
fn output_files_are_written_whole_and_never_over_what_exists() {
    let dir = std::env::temp_dir().join(format!("etcdsnap-report-test-{}", std::process::id()));
    std::fs::create_dir_all(&dir).expect("temp dir");
    let db = corpus_db("h3.db");
    let db = db.to_str().expect("path");
    let out = dir.join("r.html");
    let o = out.to_str().expect("path");
    ok(&["report", db, "-o", o], &[0]);
    let first = std::fs::read_to_string(&out).expect("written");
    assert!(first.trim_end().ends_with("</html>"));
    // Exists: refused (exit 2), file untouched, no temporary file left.
    let r = run(&["report", db, "-o", o]);
    assert_eq!(r.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&r.stderr).contains("--force"));
    assert_eq!(std::fs::read_to_string(&out).expect("still there"), first);
    ok(&["report", db, "-o", o, "--force"], &[0]);
    let names: Vec<String> = std::fs::read_dir(&dir)
        .expect("dir")
        .map(|e| e.expect("entry").file_name().to_string_lossy().into_owned())
        .collect();
    assert_eq!(names, ["r.html"]);
    // --skip-hash: the trailer check is reported as not made; the rest is unchanged.
    let skipped = Html::parse_document(&ok(&["report", db, "-o", "-", "--skip-hash"], &[0]));
    assert_eq!(
        value(&skipped, "tr[data-check=trailer] [data-k=check_status]"),
        "SKIP"
    );
    assert_eq!(value(&skipped, "[data-k=trailer]"), "SKIP");
    // Only the page's own format is offered.
    assert_eq!(
        run(&["report", db, "-o", "-", "-w", "json"]).status.code(),
        Some(2)
    );
    // The input is never the output, even with --force.
    let copy = dir.join("copy.db");
    std::fs::copy(db, &copy).expect("copy");
    let before = std::fs::read(&copy).expect("read");
    let c = copy.to_str().expect("path");
    let r = run(&["report", c, "-o", c, "--force"]);
    assert_eq!(r.status.code(), Some(2));
    assert_eq!(std::fs::read(&copy).expect("read"), before);
    let _ = std::fs::remove_dir_all(&dir);
    let _ = Path::new(db);
}

/// A protobuf varint.
fn varint(mut n: u64, out: &mut Vec<u8>) {
    while n >= 0x80 {
        out.push((n as u8) | 0x80);
        n >>= 7;
    }
    out.push(n as u8);
}

/// `mvccpb.KeyValue{key, create_revision, mod_revision, version: 1, value}`.
fn key_value(key: &[u8], rev: u64, value: &[u8]) -> Vec<u8> {
    let mut out = Vec::new();
    for (tag, bytes) in [(1u64, key), (5, value)] {
        if tag == 5 {
            for (t, n) in [(2u64, rev), (3, rev), (4, 1)] {
                varint(t << 3, &mut out);
                varint(n, &mut out);
            }
        }
        varint(tag << 3 | 2, &mut out);
        varint(bytes.len() as u64, &mut out);
        out.extend_from_slice(bytes);
    }
    out
}

#[test]
fn objects_near_etcds_request_limit_are_marked() {
    use etcdsnap_bbolt::write::{WriteOptions, Writer};
    let dir = std::env::temp_dir().join(format!("etcdsnap-report-big-{}", std::process::id()));
    std::fs::create_dir_all(&dir).expect("temp dir");
    let db = dir.join("big.db");
    let mut w = Writer::create(&db, WriteOptions::default()).expect("writer");
    w.begin_bucket(b"key", 0).expect("bucket");
    // 1.2 MB (near the 1.5 MiB limit), 1.6 MB (over it), 10 kB (neither).
    let objects: [(&[u8], usize); 3] = [
        (b"/registry/configmaps/default/near", 1_200_000),
        (b"/registry/configmaps/default/over", 1_600_000),
        (b"/registry/configmaps/default/small", 10_000),
    ];
    for (i, (key, size)) in objects.iter().enumerate() {
        let rev = i as u64 + 2;
        let mut k = rev.to_be_bytes().to_vec();
        k.push(b'_');
        k.extend_from_slice(&0u64.to_be_bytes());
        w.put(&k, &key_value(key, rev, &vec![b'x'; *size]))
            .expect("put");
    }
    w.end_bucket().expect("end");
    w.finish().expect("finish");
    let file = db.to_str().expect("path");
    let doc = page(file, &[]);
    check_stats(&doc, file, None);
    let class_of = |name: &str| -> String {
        doc.select(&sel("#largest tbody tr"))
            .find(|tr| tr.text().any(|t| t.ends_with(name)))
            .unwrap_or_else(|| panic!("no row for {name}"))
            .value()
            .attr("class")
            .unwrap_or_default()
            .to_string()
    };
    assert_eq!(class_of("/near"), "near");
    assert_eq!(class_of("/over"), "over");
    assert_eq!(class_of("/small"), "");
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn a_damaged_store_gets_a_page_of_what_verify_found() {
    let dir = std::env::temp_dir().join(format!("etcdsnap-report-dmg-{}", std::process::id()));
    std::fs::create_dir_all(&dir).expect("temp dir");
    // A backup cut short: the store cannot be read, the file is still a bbolt database.
    let full = std::fs::read(corpus_db("h5-k8s.db")).expect("read");
    let cut = dir.join("cut.db");
    std::fs::write(&cut, &full[..full.len() / 3]).expect("write");
    let file = cut.to_str().expect("path");
    let o = run(&["report", file, "-o", "-"]);
    assert_eq!(
        o.status.code(),
        Some(1),
        "{}",
        String::from_utf8_lossy(&o.stderr)
    );
    let doc = Html::parse_document(&String::from_utf8(o.stdout).expect("utf-8"));
    assert!(doc.errors.is_empty(), "{:?}", doc.errors);
    check_self_contained(&doc, file);
    let v = json(&["verify", file, "-w", "json"]);
    assert_eq!(value(&doc, "[data-k=verify]"), u(&v["ok"]));
    assert_eq!(u(&v["ok"]), "false");
    for c in v["checks"].as_array().expect("checks") {
        let name = c["name"].as_str().expect("name");
        assert_eq!(
            value(
                &doc,
                &format!("tr[data-check={}] [data-k=check_status]", q(name))
            ),
            u(&c["status"]).to_uppercase(),
            "{name}"
        );
    }
    // Not a database at all: unusable input, no page (exit 2).
    let text = dir.join("notes.txt");
    std::fs::write(&text, "not a snapshot\n".repeat(500)).expect("write");
    let o = run(&["report", text.to_str().expect("path"), "-o", "-"]);
    assert_eq!(o.status.code(), Some(2));
    assert!(o.stdout.is_empty());
    let _ = std::fs::remove_dir_all(&dir);
}
