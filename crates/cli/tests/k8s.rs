//! The Kubernetes commands end to end, through the built binary: `get --decode` on every
//! fixture snapshot, the decoded objects of h5-k8s against what was written
//! (`h5-k8s.expect.json`), Secret payloads kept out of the output, `stats` against figures
//! computed independently from etcdctl's listings and etcdutl's status, and `audit` verdicts
//! and exit codes.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;
use etcdsnap_testkit::{corpus_db, corpus_db_names, corpus_text, fixtures_dir};
use serde_json::Value;

fn run(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_etcdsnap"))
        .args(args)
        .output()
        .expect("run etcdsnap")
}

fn stdout(o: &Output) -> String {
    String::from_utf8_lossy(&o.stdout).into_owned()
}

fn stderr(o: &Output) -> String {
    String::from_utf8_lossy(&o.stderr).into_owned()
}

/// Runs and expects exit `code`, nothing on stderr unless it fails.
fn ok(args: &[&str], code: i32) -> String {
    let o = run(args);
    assert_eq!(o.status.code(), Some(code), "{args:?}: {}", stderr(&o));
    stdout(&o)
}

fn json(args: &[&str], code: i32) -> Value {
    let out = ok(args, code);
    serde_json::from_str(&out).unwrap_or_else(|e| panic!("{args:?}: not JSON ({e}): {out:.300}"))
}

fn path(p: &Path) -> String {
    p.to_string_lossy().into_owned()
}

fn h5() -> String {
    path(&corpus_db("h5-k8s.db"))
}

/// Every fixture snapshot: the corpus, fixtures/own and fixtures/mvcc-get.
fn all_snapshots() -> Vec<PathBuf> {
    let mut v: Vec<PathBuf> = corpus_db_names().iter().map(|n| corpus_db(n)).collect();
    for e in std::fs::read_dir(fixtures_dir().join("own")).unwrap() {
        let p = e.unwrap().path();
        if p.extension().is_some_and(|x| x == "db") {
            v.push(p);
        }
    }
    v.push(fixtures_dir().join("mvcc-get/store.db"));
    v.sort();
    v
}

fn expect() -> Value {
    serde_json::from_str(&corpus_text("h5-k8s.expect.json")).unwrap()
}

fn key_of(kv: &Value) -> Vec<u8> {
    STANDARD
        .decode(kv["key"].as_str().unwrap_or(""))
        .expect("key base64")
}

#[test]
fn decode_every_value_of_every_snapshot() {
    let snapshots = all_snapshots();
    assert!(snapshots.len() >= 11, "{snapshots:?}");
    for db in &snapshots {
        let db = path(db);
        let stats = json(&["stats", &db, "-w", "json", "--top", "0"], 0);
        let compact = stats["store"]["compact_revision"].as_i64().unwrap();
        let mut revs = vec!["0".to_string()];
        if compact > 0 {
            revs.push(compact.to_string());
        }
        for rev in &revs {
            let raw = json(
                &["get", &db, "", "--from-key", "--rev", rev, "-w", "json"],
                0,
            );
            let dec = json(
                &[
                    "get",
                    &db,
                    "",
                    "--from-key",
                    "--rev",
                    rev,
                    "-w",
                    "json",
                    "--decode",
                ],
                0,
            );
            let raw_kvs = raw["kvs"].as_array().cloned().unwrap_or_default();
            let kvs = dec["kvs"].as_array().cloned().unwrap_or_default();
            assert_eq!(kvs.len(), raw_kvs.len(), "{db} @{rev}");
            assert_eq!(dec["count"], raw["count"], "{db} @{rev}");
            assert_eq!(dec["header"], raw["header"], "{db} @{rev}");
            for (kv, rkv) in kvs.iter().zip(&raw_kvs) {
                assert_eq!(kv["key"], rkv["key"]);
                for f in ["create_revision", "mod_revision", "version", "lease"] {
                    assert_eq!(kv[f], rkv[f], "{db} {f}");
                }
                let raw_len = STANDARD
                    .decode(rkv["value"].as_str().unwrap_or(""))
                    .unwrap()
                    .len();
                assert_eq!(kv["value_size"], raw_len, "{db}");
                let class = kv["class"].as_str().expect("class");
                let shown = match class {
                    "protobuf" | "json" => {
                        kv["object"].is_object() || kv["hidden"] == true || kv["error"].is_string()
                    }
                    "encrypted" => {
                        kv["encryption"]["provider"].is_string()
                            && kv["marker"]
                                .as_str()
                                .unwrap()
                                .starts_with("(encrypted at rest: ")
                    }
                    "text" => kv["text"].is_string() || kv["hidden"] == true,
                    "empty" => kv["marker"] == "(empty value)",
                    "binary" => {
                        kv["marker"].is_string()
                            && (kv["value"].is_string() || kv["hidden"] == true)
                    }
                    other => panic!("{db}: class {other}"),
                };
                assert!(shown, "{db}: {kv}");
            }
            // The simple and fields forms run too, with a line per key at least.
            for w in ["simple", "fields"] {
                let out = ok(
                    &[
                        "get",
                        &db,
                        "",
                        "--from-key",
                        "--rev",
                        rev,
                        "-w",
                        w,
                        "--decode",
                    ],
                    0,
                );
                assert!(out.lines().count() >= kvs.len(), "{db} -w {w}");
            }
        }
    }
}

#[test]
fn decode_works_with_every_get_option() {
    let db = h5();
    // --prefix, --limit, --sort-by, --order, --print-value-only, --keys-only, --count-only.
    let v = json(
        &[
            "get",
            &db,
            "/registry/pods/",
            "--prefix",
            "--limit",
            "3",
            "--sort-by",
            "MODIFY",
            "--order",
            "DESCEND",
            "-w",
            "json",
            "--decode",
        ],
        0,
    );
    let kvs = v["kvs"].as_array().unwrap();
    assert_eq!(kvs.len(), 3);
    assert_eq!(v["more"], true);
    let mods: Vec<i64> = kvs
        .iter()
        .map(|k| k["mod_revision"].as_i64().unwrap())
        .collect();
    assert!(mods.windows(2).all(|w| w[0] >= w[1]), "{mods:?}");
    assert!(kvs.iter().all(|k| k["object"]["kind"] == "Pod"));

    let only = ok(
        &[
            "get",
            &db,
            "/registry/namespaces/prod",
            "--print-value-only",
            "--decode",
        ],
        0,
    );
    assert!(
        only.starts_with("{\n    \"apiVersion\": \"v1\",\n    \"kind\": \"Namespace\""),
        "{only}"
    );
    let keys = ok(
        &[
            "get",
            &db,
            "/registry/namespaces/",
            "--prefix",
            "--keys-only",
            "--decode",
        ],
        0,
    );
    let raw_keys = ok(
        &[
            "get",
            &db,
            "/registry/namespaces/",
            "--prefix",
            "--keys-only",
        ],
        0,
    );
    assert_eq!(keys, raw_keys);
    let count = ok(
        &[
            "get",
            &db,
            "/registry/",
            "--prefix",
            "--count-only",
            "--decode",
        ],
        0,
    );
    assert_eq!(count.trim(), "121");
    // From a data-directory-less path error: one line, exit 2.
    let o = run(&["get", "/nonexistent/x.db", "k", "--decode"]);
    assert_eq!(o.status.code(), Some(2));
    assert!(stderr(&o).starts_with("etcdsnap: ") && stderr(&o).lines().count() == 1);
    // --show-secrets needs --decode.
    assert_eq!(
        run(&["get", &db, "k", "--show-secrets"]).status.code(),
        Some(2)
    );
}

#[test]
fn the_service_example_shows_the_object_as_kubectl_does() {
    let out = ok(
        &[
            "get",
            &h5(),
            "/registry/services/specs/default/web",
            "--decode",
        ],
        0,
    );
    let mut lines = out.lines();
    assert_eq!(lines.next(), Some("/registry/services/specs/default/web"));
    let doc: Value = serde_json::from_str(&lines.collect::<Vec<_>>().join("\n")).unwrap();
    assert_eq!(doc["apiVersion"], "v1");
    assert_eq!(doc["kind"], "Service");
    assert_eq!(doc["metadata"]["name"], "web");
    assert_eq!(doc["metadata"]["namespace"], "default");
    // By field name, as kubectl shows it: ports, selector, clusterIP; sorted keys.
    assert!(doc["spec"]["ports"][0]["port"].is_u64(), "{doc}");
    assert!(doc["spec"]["clusterIP"].is_string(), "{doc}");
    assert_eq!(doc["status"]["loadBalancer"], serde_json::json!({}));
    let pos = |s: &str| out.find(s).unwrap();
    assert!(pos("\"apiVersion\"") < pos("\"kind\"") && pos("\"kind\"") < pos("\"metadata\""));
    assert!(pos("\"metadata\"") < pos("\"spec\"") && pos("\"spec\"") < pos("\"status\""));
}

#[test]
fn h5_objects_show_what_was_written() {
    let expect = expect();
    let dec = json(
        &[
            "get",
            &h5(),
            "/registry/",
            "--prefix",
            "-w",
            "json",
            "--decode",
        ],
        0,
    );
    let by_key: BTreeMap<String, Value> = dec["kvs"]
        .as_array()
        .unwrap()
        .iter()
        .map(|kv| (String::from_utf8(key_of(kv)).unwrap(), kv.clone()))
        .collect();
    let mut checked = BTreeMap::<String, usize>::new();
    for (key, want) in expect["objects"].as_object().unwrap() {
        let kind = want["kind"].as_str().unwrap();
        let kv = by_key.get(key).unwrap_or_else(|| panic!("{key} missing"));
        let obj = &kv["object"];
        let meta = &obj["metadata"];
        assert_eq!(obj["kind"], kind, "{key}");
        assert_eq!(meta["name"], want["name"], "{key}");
        if want["namespace"].as_str().is_some_and(|n| !n.is_empty()) {
            assert_eq!(meta["namespace"], want["namespace"], "{key}");
        }
        assert_eq!(meta["uid"], want["uid"], "{key}");
        assert_eq!(meta["creationTimestamp"], want["created"], "{key}");
        let labels = want["labels"].as_object().unwrap();
        if !labels.is_empty() {
            assert_eq!(&meta["labels"], &want["labels"], "{key}");
        }
        if let Some(owner) = want["owner"].as_str().filter(|o| !o.is_empty()) {
            assert_eq!(meta["ownerReferences"][0]["name"], owner, "{key}");
        }
        let finalizers = want["finalizers"].as_array().unwrap();
        if !finalizers.is_empty() {
            assert_eq!(&meta["finalizers"], &want["finalizers"], "{key}");
        }
        let mf = want["managed_fields"].as_u64().unwrap();
        if mf > 0 {
            assert_eq!(
                meta["managedFields"].as_array().map(Vec::len),
                Some(mf as usize),
                "{key}"
            );
        }
        let text = obj.to_string();
        for s in want["strings"].as_array().unwrap() {
            let s = s.as_str().unwrap();
            assert!(text.contains(s), "{key}: {s} not in {text:.400}");
        }
        *checked.entry(kind.to_string()).or_default() += 1;
    }
    for kind in ["Service", "Pod", "ConfigMap", "Widget", "Node", "Event"] {
        assert!(
            checked.get(kind).is_some_and(|n| *n > 0),
            "{kind}: {checked:?}"
        );
    }
}

/// Secret payloads of h5 as they are stored (from the decoded documents with --show-secrets),
/// with their base64 forms.
fn secret_payloads() -> Vec<String> {
    let shown = json(
        &[
            "get",
            &h5(),
            "/registry/secrets/",
            "--prefix",
            "-w",
            "json",
            "--decode",
            "--show-secrets",
        ],
        0,
    );
    let mut out = Vec::new();
    for kv in shown["kvs"].as_array().unwrap() {
        if let Some(data) = kv["object"]["data"].as_object() {
            for v in data.values() {
                // Typed view: base64, as kubectl shows a Secret's data.
                let b = v.as_str().expect("base64 payload");
                let s = String::from_utf8(STANDARD.decode(b).unwrap()).expect("printable payload");
                out.push(s);
                out.push(b.to_string());
            }
        }
    }
    out
}

#[test]
fn secrets_stay_hidden_without_show_secrets() {
    let marker = expect()["secret_marker"].as_str().unwrap().to_string();
    let payloads = secret_payloads();
    assert!(payloads.len() >= 8, "{payloads:?}");
    assert!(payloads.iter().any(|p| p.contains(&marker)));
    // The raw listing holds them (that is what etcdctl shows)...
    let raw = ok(&["get", &h5(), "", "--from-key"], 0);
    assert!(raw.contains(&marker));
    // ...no decoded form does, over the whole store.
    for w in ["simple", "json", "fields"] {
        let out = ok(&["get", &h5(), "", "--from-key", "--decode", "-w", w], 0);
        for p in &payloads {
            assert!(!out.contains(p.as_str()), "-w {w} shows {p}");
        }
        assert!(out.contains("(redacted: "), "-w {w}");
    }
    // With --show-secrets they are there.
    let shown = ok(
        &[
            "get",
            &h5(),
            "/registry/secrets/",
            "--prefix",
            "--decode",
            "--show-secrets",
        ],
        0,
    );
    // (as kubectl shows a Secret's data: base64)
    assert!(payloads.iter().any(|p| shown.contains(p.as_str())));
    // Text and opaque values under a secrets key are hidden too (mvcc-get and h3 have none, so
    // the unit tests of the decoder cover them); encrypted ones show no ciphertext.
    let enc = json(
        &[
            "get",
            &h5(),
            "/registry/secrets/prod/prod-creds-0",
            "-w",
            "json",
            "--decode",
        ],
        0,
    );
    assert!(enc["kvs"][0].get("value").is_none());
    assert_eq!(enc["kvs"][0]["encryption"]["key_name"], "key1");
}

/// `key_b64 create mod version lease value_len sha256` lines of a listing digest.
fn listing(name: &str) -> Vec<(Vec<u8>, u64)> {
    listing_text(&corpus_text(name))
}

fn listing_text(text: &str) -> Vec<(Vec<u8>, u64)> {
    text.lines()
        .filter(|l| !l.starts_with('#') && !l.is_empty())
        .map(|l| {
            let f: Vec<&str> = l.split('\t').collect();
            (STANDARD.decode(f[0]).unwrap(), f[5].parse().unwrap())
        })
        .collect()
}

/// The resource of a key, worked out here from the layout (format-spec section 13), not with
/// the library: `/registry/[group/]resource/...`, `services/specs|endpoints` as one resource,
/// `compact_rev_key`, and the first segment for anything else.
fn resource_of(key: &[u8]) -> String {
    let k = String::from_utf8_lossy(key).into_owned();
    if k == "compact_rev_key" {
        return "(compact_rev_key)".into();
    }
    if let Some(rest) = k.strip_prefix("/registry/") {
        let segs: Vec<&str> = rest.split('/').collect();
        if segs.len() >= 2 {
            if segs[0].contains('.') && segs.len() >= 3 {
                return format!("{}/{}", segs[0], segs[1]);
            }
            if segs[0] == "services" && matches!(segs[1], "specs" | "endpoints") && segs.len() >= 3
            {
                return format!("services/{}", segs[1]);
            }
            return segs[0].to_string();
        }
    }
    let start = usize::from(k.starts_with('/'));
    match k[start..].find('/') {
        Some(i) => k[..start + i].to_string(),
        None => k,
    }
}

#[test]
fn stats_match_the_listings_and_the_page_accounting() {
    for store in ["h1", "h2a", "h2b", "h3", "h5-k8s"] {
        let db = path(&corpus_db(&format!("{store}.db")));
        let stats = json(&["stats", &db, "-w", "json"], 0);
        // Live objects and bytes per resource, from etcdctl's listing at the head.
        let want = per_resource(&listing(&format!("{store}.get.head.tsv")));
        assert_eq!(live_groups(&stats), want, "{store}");
        let total: (u64, u64) = want.values().fold((0, 0), |a, b| (a.0 + b.0, a.1 + b.1));
        assert_eq!(stats["total"]["live_objects"], total.0, "{store}");
        assert_eq!(stats["total"]["live_bytes"], total.1, "{store}");

        // Revisions: live + history + tombstones = every stored revision.
        let t = &stats["total"];
        let sum = t["live_objects"].as_u64().unwrap()
            + t["history_revisions"].as_u64().unwrap()
            + t["tombstones"].as_u64().unwrap();
        assert_eq!(stats["store"]["revisions_stored"], sum, "{store}");

        // Pages: against etcdutl's total size and `info`'s own page walk and freelist.
        let f = &stats["file"];
        let status: Value =
            serde_json::from_str(&corpus_text(&format!("{store}.db.status.json"))).unwrap();
        assert_eq!(f["total_size"], status["totalSize"], "{store}");
        let info = json(&["info", &db, "-w", "json"], 0);
        let fl = &info["file"]["freelist"];
        assert_eq!(f["free_pages"], fl["unreachable_pages"], "{store}");
        assert_eq!(
            f["page_types"]["free"].as_u64().unwrap(),
            fl["listed_free_pages"].as_u64().unwrap_or(0),
            "{store}"
        );
        assert_eq!(f["freelist_persisted"], fl["persisted"], "{store}");
        let pages = f["pages"].as_u64().unwrap();
        assert_eq!(
            f["in_use_pages"].as_u64().unwrap() + f["free_pages"].as_u64().unwrap(),
            pages,
            "{store}"
        );
        let ps = f["page_size"].as_u64().unwrap();
        assert_eq!(
            f["free_size"].as_u64().unwrap(),
            f["free_pages"].as_u64().unwrap() * ps
        );
        assert_eq!(
            f["defrag_reclaimable"].as_u64().unwrap(),
            f["total_size"].as_u64().unwrap() - f["in_use_size"].as_u64().unwrap()
        );
        assert_eq!(f["buckets"], info["file"]["buckets"], "{store}");
        assert_eq!(f["structure_errors"], 0);
    }
}

/// Live objects and bytes per resource of a listing.
fn per_resource(listing: &[(Vec<u8>, u64)]) -> BTreeMap<String, (u64, u64)> {
    let mut want: BTreeMap<String, (u64, u64)> = BTreeMap::new();
    for (key, value_len) in listing {
        let e = want.entry(resource_of(key)).or_default();
        e.0 += 1;
        e.1 += key.len() as u64 + value_len;
    }
    want
}

fn live_groups(stats: &Value) -> BTreeMap<String, (u64, u64)> {
    stats["groups"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|g| g["live_objects"].as_u64().unwrap() > 0)
        .map(|g| {
            (
                g["name"].as_str().unwrap().to_string(),
                (
                    g["live_objects"].as_u64().unwrap(),
                    g["live_bytes"].as_u64().unwrap(),
                ),
            )
        })
        .collect()
}

/// `stats --rev R` against every `NAME.get.revR.tsv` listing etcdctl printed at R.
#[test]
fn stats_at_older_revisions_match_the_listings_there() {
    let mut checked = 0;
    for dir in ["corpus", "own"] {
        for e in std::fs::read_dir(fixtures_dir().join(dir)).unwrap() {
            let p = e.unwrap().path();
            let name = p.file_name().unwrap().to_string_lossy().into_owned();
            let Some(stem) = name.strip_suffix(".tsv") else {
                continue;
            };
            let parts: Vec<&str> = stem.split('.').collect();
            let [store, "get", rev] = parts.as_slice() else {
                continue;
            };
            let Some(rev) = rev.strip_prefix("rev") else {
                continue;
            };
            let db = if dir == "own" {
                path(&fixtures_dir().join("own").join(format!("{store}.db")))
            } else {
                path(&corpus_db(&format!("{store}.db")))
            };
            let stats = json(&["stats", &db, "--rev", rev, "-w", "json"], 0);
            let want = per_resource(&listing_text(&std::fs::read_to_string(&p).unwrap()));
            assert_eq!(live_groups(&stats), want, "{name}");
            assert_eq!(stats["store"]["revision"].to_string(), rev);
            checked += 1;
        }
    }
    assert!(checked >= 8, "{checked}");
}

#[test]
fn stats_schema_groupings_and_rev() {
    let db = h5();
    let s = json(&["stats", &db, "-w", "json", "--top", "3"], 0);
    let keys: Vec<&str> = s.as_object().unwrap().keys().map(String::as_str).collect();
    for k in [
        "file",
        "store",
        "group_by",
        "groups",
        "total",
        "largest_live",
        "most_revisions",
    ] {
        assert!(keys.contains(&k), "{keys:?}");
    }
    let names = |v: &Value| -> Vec<String> { v.as_object().unwrap().keys().cloned().collect() };
    let mut file_keys = names(&s["file"]);
    file_keys.sort();
    assert_eq!(
        file_keys,
        [
            "bucket_count",
            "buckets",
            "defrag_reclaimable",
            "file_size",
            "free_pages",
            "free_size",
            "freelist_persisted",
            "in_use_pages",
            "in_use_size",
            "inline_buckets",
            "page_size",
            "page_types",
            "pages",
            "path",
            "structure_errors",
            "total_size"
        ]
    );
    let mut store_keys = names(&s["store"]);
    store_keys.sort();
    assert_eq!(
        store_keys,
        [
            "compact_revision",
            "current_revision",
            "keys",
            "keys_selected",
            "revision",
            "revisions_stored"
        ]
    );
    let mut group_keys = names(&s["groups"][0]);
    group_keys.sort();
    assert_eq!(
        group_keys,
        [
            "history_bytes",
            "history_revisions",
            "live_bytes",
            "live_objects",
            "name",
            "tombstones"
        ]
    );
    assert_eq!(s["group_by"], "resource");
    assert_eq!(s["largest_live"].as_array().unwrap().len(), 3);
    assert_eq!(s["most_revisions"].as_array().unwrap().len(), 3);
    let sizes: Vec<u64> = s["largest_live"]
        .as_array()
        .unwrap()
        .iter()
        .map(|k| k["value"].as_u64().unwrap())
        .collect();
    assert!(sizes.windows(2).all(|w| w[0] >= w[1]));
    // Live counts per resource as written (h5-k8s.expect.json).
    let want = expect()["live"].clone();
    for (res, n) in want.as_object().unwrap() {
        let g = s["groups"]
            .as_array()
            .unwrap()
            .iter()
            .find(|g| g["name"] == res.as_str())
            .unwrap();
        assert_eq!(&g["live_objects"], n, "{res}");
    }
    // The same total, whatever the grouping and thread count.
    for by in ["namespace", "kind", "prefix", "prefix:3"] {
        for threads in ["1", "2"] {
            let o = json(
                &["stats", &db, "-w", "json", "--by", by, "--threads", threads],
                0,
            );
            assert_eq!(o["total"], s["total"], "--by {by}");
            assert_eq!(o["group_by"], if by == "prefix" { "prefix:2" } else { by });
        }
    }
    let kinds = json(&["stats", &db, "-w", "json", "--by", "kind"], 0);
    let pods = kinds["groups"]
        .as_array()
        .unwrap()
        .iter()
        .find(|g| g["name"] == "Pod")
        .unwrap();
    assert_eq!(pods["live_objects"], 32);
    // At the compaction revision the store was smaller; past the head is an error.
    let at = s["store"]["compact_revision"].as_i64().unwrap();
    let old = json(&["stats", &db, "-w", "json", "--rev", &at.to_string()], 0);
    assert_eq!(old["store"]["revision"], at);
    assert!(old["total"]["live_objects"].as_u64() < s["total"]["live_objects"].as_u64());
    let o = run(&["stats", &db, "--rev", "100000"]);
    assert_eq!(o.status.code(), Some(2));
    assert!(stderr(&o).starts_with("etcdsnap: "), "{}", stderr(&o));
    assert_eq!(
        run(&["stats", &db, "--by", "prefix:0"]).status.code(),
        Some(2)
    );
    // The table form names every section.
    let t = ok(&["stats", &db], 0);
    for s in [
        "FILE",
        "defrag would free",
        "PAGE TYPE",
        "BUCKET",
        "STORE at revision",
        "BY RESOURCE",
        "LARGEST LIVE OBJECTS",
        "MOST STORED REVISIONS",
    ] {
        assert!(t.contains(s), "{s}");
    }
    // Empty store: no groups, still a report.
    let e = json(
        &["stats", &path(&corpus_db("h4-empty.db")), "-w", "json"],
        0,
    );
    assert_eq!(e["total"]["live_objects"], 0);
}

#[test]
fn audit_h5_finds_the_plaintext_secrets() {
    let expect = expect();
    let a = json(&["audit", &h5(), "-w", "json"], 1);
    assert_eq!(a["all_encrypted"], false);
    assert_eq!(a["resources"], serde_json::json!(["secrets"]));
    let plain: Vec<String> = a["plaintext"]
        .as_array()
        .unwrap()
        .iter()
        .map(|i| {
            format!(
                "{}/{}",
                i["namespace"].as_str().unwrap(),
                i["name"].as_str().unwrap()
            )
        })
        .collect();
    let want: Vec<String> = expect["plaintext_secrets"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| s.as_str().unwrap().to_string())
        .collect();
    assert_eq!(plain, want);
    let mut by_key: BTreeMap<String, u64> = BTreeMap::new();
    for label in expect["encrypted_secrets"].as_object().unwrap().values() {
        *by_key
            .entry(label.as_str().unwrap().to_string())
            .or_default() += 1;
    }
    let got: BTreeMap<String, u64> = a["encrypted"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| {
            (
                format!(
                    "{}:{}:{}",
                    e["provider"].as_str().unwrap(),
                    e["version"].as_str().unwrap(),
                    e["key_name"].as_str().unwrap()
                ),
                e["count"].as_u64().unwrap(),
            )
        })
        .collect();
    assert_eq!(got, by_key);
    assert_eq!(got.get("aescbc:v1:key1"), Some(&7));
    assert_eq!(got.get("kms:v2:vault"), Some(&4));
    assert_eq!(a["total"], 15);

    // The text form: names, never values.
    let marker = expect["secret_marker"].as_str().unwrap();
    let text = ok(&["audit", &h5()], 1);
    assert!(text.contains("NOT ALL ENCRYPTED: 4 plaintext"), "{text}");
    for ns_name in &want {
        assert!(text.contains(ns_name.as_str()), "{ns_name}");
    }
    assert!(!text.contains(marker) && !a.to_string().contains(marker));
    assert!(text.contains("aescbc") && text.contains("key1") && text.contains("vault"));
}

#[test]
fn audit_exit_codes_gate_a_pipeline() {
    // h1 and h2a: every Secret is aescbc key1.
    for store in ["h1.db", "h2a.db"] {
        let a = json(&["audit", &path(&corpus_db(store)), "-w", "json"], 0);
        assert_eq!(a["all_encrypted"], true, "{store}");
        assert!(a["total"].as_u64().unwrap() > 0);
        assert_eq!(a["encrypted"][0]["provider"], "aescbc");
        assert_eq!(a["encrypted"][0]["key_name"], "key1");
        assert!(ok(&["audit", &path(&corpus_db(store))], 0).contains("all encrypted"));
    }
    // --resource replaces the default: ConfigMaps are plaintext in h5; several resources.
    let c = json(
        &["audit", &h5(), "--resource", "configmaps", "-w", "json"],
        1,
    );
    assert_eq!(c["plaintext"].as_array().unwrap().len(), 12);
    let both = json(
        &[
            "audit",
            &h5(),
            "--resource",
            "secrets",
            "--resource",
            "example.com/widgets",
            "-w",
            "json",
        ],
        1,
    );
    assert_eq!(both["total"], 16);
    // A resource with nothing stored, or a revision before the Secrets were written (they
    // come last in h5): nothing audited, so the gate does not pass (exit 2, saying what was
    // looked for; issue 14).
    for args in [
        vec!["audit", &h5(), "--resource", "nothing-here"],
        vec!["audit", &h5(), "--rev", "149", "-w", "json"],
    ] {
        let o = run(&args);
        assert_eq!(o.status.code(), Some(2), "{args:?}");
        assert!(o.stdout.is_empty());
        assert!(stderr(&o).contains("nothing to audit: no object under /registry/"));
    }
    // --history: h1's older Secret revisions are encrypted too; h5's older Pod revisions are
    // as many as `stats` counts as pod history, all plaintext.
    let h = json(
        &[
            "audit",
            &path(&corpus_db("h1.db")),
            "--history",
            "-w",
            "json",
        ],
        0,
    );
    assert!(h["history"]["revisions"].as_u64().unwrap() > 0);
    assert_eq!(h["history"]["revisions"], h["history"]["encrypted"]);
    let pods = json(
        &[
            "audit",
            &h5(),
            "--resource",
            "pods",
            "--history",
            "-w",
            "json",
        ],
        1,
    );
    let stats = json(&["stats", &h5(), "-w", "json"], 0);
    let pod_group = stats["groups"]
        .as_array()
        .unwrap()
        .iter()
        .find(|g| g["name"] == "pods")
        .unwrap();
    assert_eq!(pods["history"]["revisions"], pod_group["history_revisions"]);
    assert_eq!(
        pods["history"]["not_encrypted"].as_array().unwrap().len() as u64,
        pod_group["history_revisions"].as_u64().unwrap()
    );
    assert_eq!(pods["total"], pod_group["live_objects"]);
    assert!(
        json(&["audit", &h5(), "-w", "json"], 1)
            .get("history")
            .is_none()
    );
    // Errors: exit 2, one line.
    let o = run(&["audit", "/nonexistent.db"]);
    assert_eq!(o.status.code(), Some(2));
    assert_eq!(stderr(&o).lines().count(), 1);
    assert!(stderr(&o).starts_with("etcdsnap: "));
}
