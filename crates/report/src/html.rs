//! The page: one HTML document, everything inline.
//!
//! Written with `maud` (templates checked at compile time, every interpolated string escaped).
//! Charts are inline SVG drawn here; hovering shows each area's figures through SVG `<title>`
//! (no script). Every figure that comes from a command carries its exact value in a `data-v`
//! attribute next to the readable one, so tests (and anyone scraping the page) can check it
//! against `stats -w json`, `info -w json`, `verify -w json` and `status -w json`.

use etcdsnap_bbolt::check::Severity;
use etcdsnap_k8s::{GroupCounts, GroupStats, KeyBytes, RankedKey, resource_label};
use etcdsnap_mvcc::diff::ChangeKind;
use etcdsnap_mvcc::verify::Status as CheckStatus;
use maud::{DOCTYPE, Markup, PreEscaped, html};

use crate::model::{Compare, Growth, Model, REQUEST_LIMIT};
use crate::treemap::{Rect, squarify};

const CSS: &str = include_str!("page.css");

/// Objects at or above this share of the request limit are shown as near it.
const NEAR_LIMIT: f64 = 0.66;

/// `1.5 GB`: decimal units as etcd and `stats` print them (go-humanize's `Bytes`).
pub use etcdsnap_mvcc::status::humanize_bytes as human;

/// `1,234,567`.
pub fn count(n: u64) -> String {
    let s = n.to_string();
    let mut out = String::with_capacity(s.len() + s.len() / 3);
    for (i, c) in s.chars().enumerate() {
        if i > 0 && (s.len() - i).is_multiple_of(3) {
            out.push(',');
        }
        out.push(c);
    }
    out
}

fn signed_human(d: i64) -> String {
    match d {
        0 => "0 B".into(),
        d if d > 0 => format!("+{}", human(d.unsigned_abs())),
        d => format!("−{}", human(d.unsigned_abs())),
    }
}

/// `12.3%` of `whole` (`–` when whole is 0).
fn pct(part: u64, whole: u64) -> String {
    if whole == 0 {
        "–".into()
    } else {
        let p = part as f64 * 100.0 / whole as f64;
        if p > 0.0 && p < 0.1 {
            "<0.1%".into()
        } else {
            format!("{p:.1}%")
        }
    }
}

fn frac(part: u64, whole: u64) -> f64 {
    if whole == 0 {
        0.0
    } else {
        (part as f64 / whole as f64).clamp(0.0, 1.0)
    }
}

/// A key as text: as is when printable UTF-8, else escaped.
fn key_text(k: &[u8]) -> String {
    match std::str::from_utf8(k) {
        Ok(s) if !s.chars().any(char::is_control) => s.to_owned(),
        _ => etcdsnap_bbolt::error::escape_bytes(k),
    }
}

fn shown(k: &KeyBytes) -> String {
    key_text(&k.0)
}

/// A number cell: readable text, exact value in `data-v`, and a name in `data-k`.
fn num(k: &str, v: u64, text: String) -> Markup {
    html! { td.num data-k=(k) data-v=(v) title=(count(v)) { (text) } }
}

/// A count cell hidden on narrow screens.
fn opt_count_cell(k: &str, v: u64) -> Markup {
    html! { td.num.opt data-k=(k) data-v=(v) title=(count(v)) { (count(v)) } }
}

fn bytes_cell(k: &str, v: u64) -> Markup {
    num(k, v, human(v))
}

fn count_cell(k: &str, v: u64) -> Markup {
    num(k, v, count(v))
}

/// A thin horizontal bar showing `f` (0..1) of the cell.
fn bar(f: f64, class: &str) -> Markup {
    let w = format!("width:{:.2}%", (f * 100.0).clamp(0.0, 100.0));
    html! { span.bar { span class=(class) style=(w) {} } }
}

fn status_class(s: CheckStatus) -> &'static str {
    match s {
        CheckStatus::Ok => "ok",
        CheckStatus::Fail => "bad",
        CheckStatus::Warn => "warn",
        CheckStatus::Note | CheckStatus::Skip => "note",
    }
}

/// The page of a file whose store cannot be read (damaged, truncated, not a database): what
/// `verify` found, every check with its first findings, and why there is no accounting.
pub fn unreadable_page(
    path: &str,
    v: &etcdsnap_mvcc::verify::Report,
    error: &str,
    generator: &str,
    generated_at: &str,
) -> Markup {
    let name = std::path::Path::new(path)
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_else(|| path.to_string());
    let (vclass, vtext) = verify_verdict(v);
    html! {
        (DOCTYPE)
        html lang="en" {
            head {
                meta charset="utf-8";
                meta name="viewport" content="width=device-width, initial-scale=1";
                meta name="color-scheme" content="light dark";
                meta name="generator" content=(generator);
                title { "etcd snapshot report: " (name) " (unreadable)" }
                style { (PreEscaped(CSS)) }
            }
            body {
                main {
                    header.top {
                        p.kicker { "etcd snapshot report" }
                        h1 { (name) }
                        p.path { (path) }
                        div.badges {
                            span class={"badge " (vclass)} data-k="verify" data-v=(v.ok) { (vtext) }
                            span.badge.note { (count(v.file_size)) " bytes" }
                        }
                        ul.highlights #highlights {
                            li.bad { "The store could not be read, so there is no space accounting: " (error) }
                            li { "What " code { "etcdsnap verify" } " finds is below; restore from another backup, or salvage what can be read." }
                        }
                    }
                    section #verify {
                        h2 { "verify" }
                        table.checks {
                            @for c in &v.checks {
                                tr data-check=(c.name) {
                                    td { span class={"pill " (status_class(c.status))} data-k="check_status" data-v=(c.status.label()) { (c.status.label()) } }
                                    th { (c.name) }
                                    td.summary {
                                        (c.summary)
                                        @if !c.findings.is_empty() {
                                            ul.findings {
                                                @for f in c.findings.iter().take(25) {
                                                    li class=(match f.severity { Severity::Error => "error", Severity::Warning => "warning", Severity::Info => "" }) { (f.to_string()) }
                                                }
                                            }
                                            @if c.findings_total > 25 { p.note { (count(c.findings_total - 25)) " more findings: run " code { "etcdsnap verify" } "." } }
                                        }
                                    }
                                }
                            }
                        }
                    }
                    footer { p { "Made by " (generator) @if !generated_at.is_empty() { " on " (generated_at) } " from the file alone (no cluster)." } }
                }
            }
        }
    }
}

/// The whole page.
pub fn page(m: &Model) -> Markup {
    let name = std::path::Path::new(&m.path)
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_else(|| m.path.clone());
    html! {
        (DOCTYPE)
        html lang="en" {
            head {
                meta charset="utf-8";
                meta name="viewport" content="width=device-width, initial-scale=1";
                meta name="color-scheme" content="light dark";
                meta name="generator" content=(m.generator);
                title { "etcd snapshot report: " (name) }
                style { (PreEscaped(CSS)) }
            }
            body {
                main {
                    (header(m, &name))
                    (space(m))
                    (history(m))
                    (objects(m))
                    (leases(m))
                    (secrets(m))
                    @if let Some(c) = &m.compare { (compare(c)) }
                    (details(m))
                    footer {
                        p {
                            "Made by " (m.generator)
                            @if !m.generated_at.is_empty() { " on " (m.generated_at) }
                            " from the file alone (no cluster). The figures are those of "
                            code { "etcdsnap stats" } ", " code { "info" } ", " code { "verify" } ", "
                            code { "status" }
                            @if m.compare.is_some() { " and " code { "diff" } }
                            " for the same file. Sizes are decimal (1 MB = 1,000,000 bytes), as etcd prints them; object sizes are key + value bytes."
                        }
                    }
                }
            }
        }
    }
}

fn verdict(m: &Model) -> (&'static str, String) {
    verify_verdict(&m.verify)
}

fn verify_verdict(v: &etcdsnap_mvcc::verify::Report) -> (&'static str, String) {
    let failed: Vec<&str> = v
        .checks
        .iter()
        .filter(|c| c.status == CheckStatus::Fail)
        .map(|c| c.name)
        .collect();
    if failed.is_empty() {
        ("ok", "verify: OK".into())
    } else {
        ("bad", format!("verify: FAILED ({})", failed.join(", ")))
    }
}

fn header(m: &Model, name: &str) -> Markup {
    let f = &m.stats.file;
    let s = &m.stats.store;
    let t = &m.stats.stats.total;
    let (vclass, vtext) = verdict(m);
    let trailer = m.verify.check("trailer");
    let alarms: Vec<String> = m
        .info
        .alarms
        .iter()
        .map(|a| format!("{} on member {}", a.alarm, a.member_id))
        .collect();
    let overhead = f
        .in_use_size
        .saturating_sub(t.live_bytes.saturating_add(t.history_bytes));
    html! {
        header.top {
            p.kicker { "etcd snapshot report" }
            h1 { (name) }
            p.path { (m.path) }
            div.badges {
                span class={"badge " (vclass)} data-k="verify" data-v=(m.verify.ok) { (vtext) }
                @if let Some(tr) = trailer {
                    span class={"badge " (status_class(tr.status))} data-k="trailer" data-v=(tr.status.label()) {
                        @match tr.status {
                            CheckStatus::Ok => "sha256 trailer matches",
                            CheckStatus::Fail => "sha256 trailer does NOT match",
                            CheckStatus::Skip => "sha256 trailer not checked",
                            _ => "no sha256 trailer (a member's db)",
                        }
                    }
                }
                @if alarms.is_empty() {
                    span.badge.ok { "no alarms" }
                } @else {
                    span.badge.bad { "alarm: " (alarms.join(", ")) }
                }
                @if m.secrets.total > 0 {
                    @if m.secrets.plaintext_count() == 0 && m.secrets.other.is_empty() {
                        span.badge.ok { "Secrets encrypted at rest" }
                    } @else {
                        span.badge.warn { (count((m.secrets.plaintext_count() + m.secrets.other.len()) as u64)) " of " (count(m.secrets.total)) " Secrets not encrypted" }
                    }
                }
                @if s.revision != s.current_revision {
                    span.badge.note { "accounted at revision " (s.revision) " (head " (s.current_revision) ")" }
                }
            }
            @let points = highlights(m);
            @if !points.is_empty() {
                ul.highlights #highlights {
                    @for (class, text) in &points { li class=(class) { (text) } }
                }
            }
            div.cards {
                div.card {
                    div.label { "Total size" }
                    div.big data-k="total_size" data-v=(f.total_size) { (human(f.total_size)) }
                    div.sub { "what etcd's quota counts; file " (human(f.file_size)) }
                }
                div.card.live {
                    div.label { "Live data" }
                    div.big data-k="live_bytes" data-v=(t.live_bytes) { (human(t.live_bytes)) }
                    div.sub { (count(t.live_objects)) " objects, " (pct(t.live_bytes, f.total_size)) " of total" }
                }
                div.card.hist {
                    div.label { "History" }
                    div.big data-k="history_bytes" data-v=(t.history_bytes) { (human(t.history_bytes)) }
                    div.sub { (count(t.history_revisions)) " older revisions: a compaction drops them" }
                }
                div.card.free {
                    div.label { "Free pages" }
                    div.big data-k="free_size" data-v=(f.free_size) { (human(f.free_size)) }
                    div.sub { (count(f.free_pages)) " pages: a defrag returns " (human(f.defrag_reclaimable)) }
                }
                div.card.ovh {
                    div.label { "Other in-use pages" }
                    div.big data-k="overhead" data-v=(overhead) { (human(overhead)) }
                    div.sub { "B+tree structure, page slack, tombstones, other buckets" }
                }
                div.card {
                    div.label { "Revisions" }
                    div.big data-k="current_revision" data-v=(s.current_revision) { (count(s.current_revision.max(0) as u64)) }
                    div.sub {
                        span data-k="compact_revision" data-v=(s.compact_revision) {
                            @if s.compact_revision < 0 { "never compacted" } @else { "compacted at " (s.compact_revision) }
                        }
                        "; " (count(s.revisions_stored)) " stored"
                    }
                }
                div.card {
                    div.label { "Keys" }
                    div.big data-k="live_keys" data-v=(m.live_keys) { (count(m.live_keys)) }
                    div.sub { "live; " (count(s.keys)) " keys with stored revisions" }
                }
                div.card {
                    div.label { "etcd" }
                    div.big data-k="cluster_version" { (m.info.cluster.version.clone().unwrap_or_else(|| "–".into())) }
                    div.sub {
                        "storage version "
                        span data-k="storage_version" { (m.info.store.storage_version.clone().unwrap_or_else(|| "not recorded (before 3.6)".into())) }
                        "; " (m.info.cluster.members.len()) " member(s)"
                    }
                }
            }
            (usage_bar(m, overhead))
            div.two {
                div {
                    h3 { "snapshot status" }
                    table.kv {
                        tr { th { "hash" } td.num data-k="status_hash" data-v=(m.status.hash) { (format!("{:x}", m.status.hash)) } }
                        tr { th { "revision" } td.num data-k="status_revision" data-v=(m.status.revision) { (m.status.revision) } }
                        tr { th { "total keys" } td.num data-k="status_total_key" data-v=(m.status.total_key) { (count(m.status.total_key)) } }
                        tr { th { "total size" } td.num data-k="status_total_size" data-v=(m.status.total_size) { (human(m.status.total_size)) } }
                    }
                    p.note { "As " code { "etcdutl snapshot status" } " prints them (" code { "etcdsnap status" } ")." }
                }
                div {
                    h3 { "verify" }
                    table.checks {
                        @for c in &m.verify.checks {
                            tr data-check=(c.name) {
                                td { span class={"pill " (status_class(c.status))} data-k="check_status" data-v=(c.status.label()) { (c.status.label()) } }
                                th { (c.name) }
                                td.summary { (c.summary) }
                            }
                        }
                    }
                    @let shown_findings: Vec<_> = m.verify.checks.iter().flat_map(|c| c.findings.iter().filter(|f| f.severity != Severity::Info).map(move |f| (c.name, f))).take(10).collect();
                    @if !shown_findings.is_empty() {
                        ul.findings {
                            @for (name, f) in shown_findings {
                                li class=(if f.severity == Severity::Error { "error" } else { "warning" }) { b { (name) } ": " (f.to_string()) }
                            }
                        }
                        p.note { "Run " code { "etcdsnap verify FILE" } " for every finding." }
                    }
                }
            }
        }
    }
}

/// What stands out, in sentences an incident review can quote: the biggest consumers of the
/// quota, what compaction and defrag would give back, and anything wrong.
fn highlights(m: &Model) -> Vec<(&'static str, String)> {
    let f = &m.stats.file;
    let st = &m.stats.stats;
    let t = &st.total;
    let total = f.total_size;
    let mut out = Vec::new();
    if !m.verify.ok {
        out.push((
            "bad",
            format!(
                "{}: the file is damaged or inconsistent; run `etcdsnap verify` for every finding.",
                verdict(m).1
            ),
        ));
    }
    for a in &m.info.alarms {
        out.push((
            "bad",
            format!(
                "Alarm {} raised on member {}{}.",
                a.alarm,
                a.member_id,
                if a.alarm == "NOSPACE" {
                    ": the store hit its quota and refuses writes until space is freed and the alarm disarmed"
                } else {
                    ""
                }
            ),
        ));
    }
    if let Some(g) = st.groups.first().filter(|g| g.counts.live_bytes > 0) {
        let ns = g
            .subgroups
            .first()
            .filter(|_| g.subgroups.len() > 1)
            .map(|n| {
                format!(
                    "; its largest namespace is {} ({})",
                    n.name,
                    human(n.counts.live_bytes)
                )
            })
            .unwrap_or_default();
        out.push((
            "",
            format!(
                "{} is the largest resource: {} in {} objects, {} of live data{ns}.",
                g.name,
                human(g.counts.live_bytes),
                count(g.counts.live_objects),
                pct(g.counts.live_bytes, t.live_bytes)
            ),
        ));
    }
    if frac(t.history_bytes, total) >= 0.2 {
        out.push((
            "warn",
            format!(
                "History is {} of the file ({} in {} older revisions): a compaction at revision {} drops it, a defrag after it returns the space.",
                pct(t.history_bytes, total),
                human(t.history_bytes),
                count(t.history_revisions),
                m.stats.store.revision
            ),
        ));
    }
    if frac(f.free_size, total) >= 0.2 {
        out.push((
            "warn",
            format!(
                "Free pages are {} of the file ({}): etcd's quota counts them until a defrag returns them.",
                pct(f.free_size, total),
                human(f.free_size)
            ),
        ));
    }
    if let Some(ev) = st.groups.iter().find(|g| g.name == "events")
        && frac(ev.counts.live_bytes, t.live_bytes) >= 0.25
    {
        out.push((
            "warn",
            format!(
                "Events are {} of live data ({} objects).",
                pct(ev.counts.live_bytes, t.live_bytes),
                count(ev.counts.live_objects)
            ),
        ));
    }
    let over = st
        .largest_live
        .iter()
        .filter(|k| limit_class(k.value) == "over")
        .count();
    let near = st
        .largest_live
        .iter()
        .filter(|k| limit_class(k.value) == "near")
        .count();
    if over + near > 0 {
        out.push((
            if over > 0 { "bad" } else { "warn" },
            format!(
                "{} object(s) at or over etcd's 1.5 MiB request limit and {} near it (see Largest objects).",
                over, near
            ),
        ));
    }
    let not_encrypted = m.secrets.plaintext_count() + m.secrets.other.len();
    if not_encrypted > 0 {
        out.push((
            "warn",
            format!(
                "{} of {} Secrets are not encrypted at rest (see Secrets by encryption).",
                count(not_encrypted as u64),
                count(m.secrets.total)
            ),
        ));
    }
    out
}

/// One bar: the total size split into live, history, other in-use, free.
fn usage_bar(m: &Model, overhead: u64) -> Markup {
    let f = &m.stats.file;
    let t = &m.stats.stats.total;
    let whole = f.total_size.max(1);
    let parts = [
        ("live", "live data", t.live_bytes),
        ("hist", "history (compaction drops)", t.history_bytes),
        ("ovh", "other in-use pages", overhead),
        ("free", "free pages (defrag returns)", f.free_size),
    ];
    let mut x = 0.0;
    let spans: Vec<(f64, f64)> = parts
        .iter()
        .map(|&(_, _, v)| {
            let w = v as f64 * 1000.0 / whole as f64;
            x += w;
            (x - w, w)
        })
        .collect();
    html! {
        svg.usage viewBox="0 0 1000 28" preserveAspectRatio="none" role="img" aria-label="total size by use" {
            @for ((class, label, v), (x, w)) in parts.iter().zip(spans) {
                rect class=(class) x=(format!("{x:.2}")) y="0" width=(format!("{w:.2}")) height="28" {
                    title { (label) ": " (human(*v)) " (" (pct(*v, f.total_size)) " of " (human(f.total_size)) ")" }
                }
            }
        }
        div.legend {
            @for (class, label, v) in parts {
                span { i class=(class) {} (label) " " b { (human(v)) } " " (pct(v, f.total_size)) }
            }
        }
    }
}

/// One area of the treemap, with its children.
struct Area {
    label: String,
    value: u64,
    class: String,
    tip: String,
    children: Vec<Area>,
}

/// Up to `n` subgroups by live bytes, the rest summed into one.
fn top_subgroups(
    subs: &[GroupStats],
    n: usize,
) -> (Vec<&GroupStats>, Option<(usize, GroupCounts)>) {
    let shown: Vec<&GroupStats> = subs.iter().take(n).collect();
    let rest = &subs[shown.len()..];
    if rest.is_empty() {
        return (shown, None);
    }
    let mut c = GroupCounts::default();
    for g in rest {
        c.live_objects += g.counts.live_objects;
        c.live_bytes += g.counts.live_bytes;
        c.history_revisions += g.counts.history_revisions;
        c.history_bytes += g.counts.history_bytes;
        c.tombstones += g.counts.tombstones;
    }
    (shown, Some((rest.len(), c)))
}

fn tip(label: &str, c: &GroupCounts, total: u64) -> String {
    format!(
        "{label}\nlive: {} objects, {} ({} of total)\nhistory: {} revisions, {}\ntombstones: {}",
        count(c.live_objects),
        human(c.live_bytes),
        pct(c.live_bytes, total),
        count(c.history_revisions),
        human(c.history_bytes),
        count(c.tombstones)
    )
}

fn areas(m: &Model) -> Vec<Area> {
    let f = &m.stats.file;
    let st = &m.stats.stats;
    let total = f.total_size;
    let n = m.namespaces_per_resource;
    let mut out = Vec::new();
    for (i, g) in st.groups.iter().enumerate() {
        if g.counts.live_bytes == 0 {
            continue;
        }
        let class = format!("c{}", i % 10);
        let (shown, rest) = top_subgroups(&g.subgroups, n);
        let mut children: Vec<Area> = shown
            .iter()
            .filter(|s| s.counts.live_bytes > 0)
            .map(|s| Area {
                label: s.name.clone(),
                value: s.counts.live_bytes,
                class: class.clone(),
                tip: tip(&format!("{} / {}", g.name, s.name), &s.counts, total),
                children: Vec::new(),
            })
            .collect();
        if let Some((k, c)) = rest
            && c.live_bytes > 0
        {
            children.push(Area {
                label: format!("{k} more"),
                value: c.live_bytes,
                class: class.clone(),
                tip: tip(&format!("{} / {k} more namespaces", g.name), &c, total),
                children: Vec::new(),
            });
        }
        out.push(Area {
            label: g.name.clone(),
            value: g.counts.live_bytes,
            class,
            tip: tip(&g.name, &g.counts, total),
            children,
        });
    }
    let t = &st.total;
    if t.history_bytes > 0 {
        let mut by: Vec<&GroupStats> = st
            .groups
            .iter()
            .filter(|g| g.counts.history_bytes > 0)
            .collect();
        by.sort_by_key(|g| std::cmp::Reverse(g.counts.history_bytes));
        let children = by
            .iter()
            .map(|g| Area {
                label: g.name.clone(),
                value: g.counts.history_bytes,
                class: "hist".into(),
                tip: format!(
                    "history of {}\n{} older revisions, {} (a compaction drops them)",
                    g.name,
                    count(g.counts.history_revisions),
                    human(g.counts.history_bytes)
                ),
                children: Vec::new(),
            })
            .collect();
        out.push(Area {
            label: "history".into(),
            value: t.history_bytes,
            class: "hist".into(),
            tip: format!(
                "history: {} older revisions, {} ({} of total)\nwhat a compaction at the head drops",
                count(t.history_revisions),
                human(t.history_bytes),
                pct(t.history_bytes, total)
            ),
            children,
        });
    }
    let overhead = f
        .in_use_size
        .saturating_sub(t.live_bytes.saturating_add(t.history_bytes));
    if overhead > 0 {
        out.push(Area {
            label: "other in-use pages".into(),
            value: overhead,
            class: "ovh".into(),
            tip: format!(
                "other in-use pages: {} ({} of total)\nB+tree branch pages, page slack, tombstones, the other buckets",
                human(overhead),
                pct(overhead, total)
            ),
            children: Vec::new(),
        });
    }
    if f.free_size > 0 {
        out.push(Area {
            label: "free pages".into(),
            value: f.free_size,
            class: "free".into(),
            tip: format!(
                "free pages: {} pages, {} ({} of total)\nwhat a defrag returns (etcd's quota counts them)",
                count(f.free_pages),
                human(f.free_size),
                pct(f.free_size, total)
            ),
            children: Vec::new(),
        });
    }
    out.sort_by_key(|a| std::cmp::Reverse(a.value));
    out
}

/// Width of text in viewBox units, roughly (for deciding whether a label fits).
fn text_width(s: &str, size: f64) -> f64 {
    s.chars().count() as f64 * size * 0.58
}

fn treemap_svg(areas: &[Area], w: f64, h: f64, class: &str) -> Markup {
    let bounds = Rect {
        x: 0.0,
        y: 0.0,
        w,
        h,
    };
    let values: Vec<f64> = areas.iter().map(|a| a.value as f64).collect();
    let rects = squarify(&values, bounds);
    html! {
        svg class=(class) viewBox=(format!("0 0 {w} {h}")) role="img" aria-label="treemap of the total size" {
            defs {
                pattern #hatch width="8" height="8" patternUnits="userSpaceOnUse" patternTransform="rotate(45)" {
                    rect.hatch-bg width="8" height="8" {}
                    line.hatch-line x1="0" y1="0" x2="0" y2="8" {}
                }
            }
            @for (a, r) in areas.iter().zip(&rects) {
                @if r.w > 0.5 && r.h > 0.5 {
                    g class={"area " (a.class)} {
                        title { (a.tip) }
                        rect.outer x=(fx(r.x)) y=(fx(r.y)) width=(fx(r.w)) height=(fx(r.h)) {}
                        @let head = if r.h > 34.0 && r.w > 40.0 { 16.0 } else { 0.0 };
                        @let inner = Rect { x: r.x + 1.5, y: r.y + head + 1.5, w: (r.w - 3.0).max(0.0), h: (r.h - head - 3.0).max(0.0) };
                        @if a.children.len() > 1 {
                            @let cv: Vec<f64> = a.children.iter().map(|c| c.value as f64).collect();
                            @let crs = squarify(&cv, inner);
                            @for (c, cr) in a.children.iter().zip(&crs) {
                                @if cr.w > 0.5 && cr.h > 0.5 {
                                    g.cell {
                                        title { (c.tip) }
                                        rect.inner x=(fx(cr.x)) y=(fx(cr.y)) width=(fx(cr.w)) height=(fx(cr.h)) {}
                                        @if cr.h > 13.0 && text_width(&c.label, 10.0) + 6.0 < cr.w {
                                            text.sub x=(fx(cr.x + 3.0)) y=(fx(cr.y + 11.0)) { (c.label) }
                                        }
                                        @if cr.h > 25.0 && text_width(&human(c.value), 9.0) + 6.0 < cr.w {
                                            text.val x=(fx(cr.x + 3.0)) y=(fx(cr.y + 22.0)) { (human(c.value)) }
                                        }
                                    }
                                }
                            }
                        }
                        @if head > 0.0 {
                            @let label = format!("{}  {}", a.label, human(a.value));
                            @if text_width(&label, 12.0) + 6.0 < r.w {
                                text.head x=(fx(r.x + 4.0)) y=(fx(r.y + 13.0)) { (label) }
                            } @else if text_width(&a.label, 12.0) + 6.0 < r.w {
                                text.head x=(fx(r.x + 4.0)) y=(fx(r.y + 13.0)) { (a.label) }
                            }
                        } @else if r.h > 12.0 && text_width(&a.label, 10.0) + 4.0 < r.w {
                            text.sub x=(fx(r.x + 2.0)) y=(fx(r.y + 10.0)) { (a.label) }
                        }
                    }
                }
            }
        }
    }
}

fn fx(v: f64) -> String {
    format!("{v:.1}")
}

fn space(m: &Model) -> Markup {
    let f = &m.stats.file;
    let st = &m.stats.stats;
    let areas = areas(m);
    let shown: u64 = areas.iter().map(|a| a.value).sum();
    html! {
        section #space {
            h2 { "Where the space goes" }
            p.lead {
                "Each area is proportional to bytes: live objects by resource, then namespace; the history a compaction would drop; "
                "the free pages a defrag would return. Together they make the total size, " (human(shown)) " of " (human(f.total_size)) ". "
                "Hover an area for its figures."
            }
            (treemap_svg(&areas, 1000.0, 560.0, "treemap wide"))
            (treemap_svg(&areas, 400.0, 560.0, "treemap narrow"))
            h3 { "By resource and namespace" }
            p.note { "Live bytes and history per resource (as " code { "etcdsnap stats" } " prints them), with its largest namespaces (" (m.namespaces_per_resource) " at most; the rest summed)." }
            div.scroll {
                table.data #groups {
                    thead { tr {
                        th { "resource" } th { "namespace" } th.num { "live objects" } th.num { "live bytes" } th.num.opt { "share of total" }
                        th.num.opt { "history revisions" } th.num { "history bytes" } th.num.opt { "tombstones" }
                    } }
                    tbody {
                        @for (i, g) in st.groups.iter().enumerate() {
                            tr.group data-group=(g.name) {
                                th { i class={"sw c" (i % 10)} {} (g.name) }
                                td { @if g.subgroups.len() > 1 { (g.subgroups.len()) " namespaces" } @else if let Some(s) = g.subgroups.first() { (s.name) } }
                                (group_cells(&g.counts, f.total_size))
                            }
                            @if g.subgroups.len() > 1 {
                                @let (subs, rest) = top_subgroups(&g.subgroups, m.namespaces_per_resource);
                                @for s in subs {
                                    tr.sub data-group=(g.name) data-sub=(s.name) {
                                        th {}
                                        td { (s.name) }
                                        (group_cells(&s.counts, f.total_size))
                                    }
                                }
                                @if let Some((k, c)) = rest {
                                    tr.sub.rest {
                                        th {}
                                        td.nowrap { "(" (k) " more namespaces)" }
                                        (group_cells(&c, f.total_size))
                                    }
                                }
                            }
                        }
                    }
                    tfoot {
                        tr #total {
                            th { "total" } td {}
                            (group_cells(&st.total, f.total_size))
                        }
                    }
                }
            }
            h3 { "Pages" }
            div.scroll {
                table.data #pages {
                    thead { tr { th { "page type" } th.num { "pages" } th.num { "bytes" } th.num { "share" } } }
                    tbody {
                        @let t = &f.page_types;
                        @let ps = u64::from(f.page_size);
                        @for (name, n) in [("meta", t.meta), ("branch", t.branch), ("branch overflow", t.branch_overflow), ("leaf", t.leaf), ("leaf overflow", t.leaf_overflow), ("freelist", t.freelist), ("free (listed by the freelist)", t.free), ("free (unreachable)", t.unreachable), ("missing (truncated file)", t.missing)] {
                            @if n > 0 || name == "leaf" {
                                tr { th { (name) } (count_cell("pages", n)) (bytes_cell("bytes", n.saturating_mul(ps))) td.num { (pct(n.saturating_mul(ps), f.total_size)) } }
                            }
                        }
                    }
                }
            }
            p.note {
                (count(f.pages)) " pages of " (f.page_size) " bytes; freelist "
                @if f.freelist_persisted { "persisted" } @else { "not persisted (etcd's default on Linux): the free pages are those no bucket reaches" }
                ". " @if f.structure_errors > 0 { b.badtext { (f.structure_errors) " structural error(s) found: run " code { "etcdsnap verify" } } }
            }
        }
    }
}

fn group_cells(c: &GroupCounts, total: u64) -> Markup {
    html! {
        (count_cell("live_objects", c.live_objects))
        (bytes_cell("live_bytes", c.live_bytes))
        td.num.share.opt { (bar(frac(c.live_bytes, total), "live")) (pct(c.live_bytes, total)) }
        (opt_count_cell("history_revisions", c.history_revisions))
        (bytes_cell("history_bytes", c.history_bytes))
        (opt_count_cell("tombstones", c.tombstones))
    }
}

fn history(m: &Model) -> Markup {
    let st = &m.stats.stats;
    let s = &m.stats.store;
    let f = &m.stats.file;
    let t = &st.total;
    let mut by: Vec<&GroupStats> = st
        .groups
        .iter()
        .filter(|g| g.counts.history_revisions > 0 || g.counts.tombstones > 0)
        .collect();
    by.sort_by(|a, b| {
        b.counts
            .history_bytes
            .cmp(&a.counts.history_bytes)
            .then(a.name.cmp(&b.name))
    });
    let max_hist = by.first().map_or(0, |g| g.counts.history_bytes);
    let after = f
        .in_use_size
        .saturating_sub(t.history_bytes)
        .max(u64::from(f.page_size) * 4);
    html! {
        section #history {
            h2 { "History bloat" }
            p.lead {
                "etcd keeps every revision of a key until a compaction. The store holds "
                b { (count(s.revisions_stored)) } " revisions of " b { (count(s.keys)) } " keys; "
                b { (count(t.history_revisions)) } " of them are older revisions ("
                b data-k="history_bytes_lead" data-v=(t.history_bytes) { (human(t.history_bytes)) } ") and "
                b { (count(t.tombstones)) } " are deletions. "
                "A compaction at the head (revision " (s.revision) ") would drop them: "
                code { "etcdctl compaction " (s.revision) } " on the cluster. "
                "The file shrinks only with a defrag after it, from " (human(f.total_size)) " to somewhere between "
                b { (human(t.live_bytes)) } " (the live data alone) and " b { (human(after)) }
                " (the in-use pages less the history; a defrag also repacks half-empty pages). "
                "Offline, " code { "etcdsnap compact FILE --rev " (s.revision) " -o OUT.db" }
                " writes that compacted and defragmented snapshot from this one and says its exact size."
            }
            @if by.is_empty() {
                p { "No older revisions are stored: nothing for a compaction to drop." }
            }
            @if !by.is_empty() {
                div {
                    div {
                        h3 { "Resources by history" }
                        div.scroll {
                            table.data #history-by-resource {
                                thead { tr { th { "resource" } th.num { "live objects" } th.num { "history revisions" } th.num { "per live object" } th.num { "history bytes" } th {} } }
                                tbody {
                                    @for g in by.iter().take(m.namespaces_per_resource.max(12)) {
                                        tr data-group=(g.name) {
                                            th { (g.name) }
                                            (count_cell("live_objects", g.counts.live_objects))
                                            (count_cell("history_revisions", g.counts.history_revisions))
                                            td.num { @if g.counts.live_objects > 0 { (format!("{:.1}", g.counts.history_revisions as f64 / g.counts.live_objects as f64)) } @else { "–" } }
                                            (bytes_cell("history_bytes", g.counts.history_bytes))
                                            td.barcell { (bar(frac(g.counts.history_bytes, max_hist), "hist")) }
                                        }
                                    }
                                }
                            }
                        }
                    }
                }
            }
            h3 { "Most rewritten keys" }
            (ranked_table("most-revisions", &st.most_revisions, "revisions stored", false))
        }
    }
}

fn ranked_table(id: &str, list: &[RankedKey], what: &str, sizes: bool) -> Markup {
    let max = list.first().map_or(0, |k| k.value);
    html! {
        @if list.is_empty() {
            p.note { "None." }
        } @else {
            div.scroll {
                table.data id=(id) {
                    thead { tr { th { "key" } th.num { (what) } th {} } }
                    tbody {
                        @for k in list {
                            tr {
                                td.key { (shown(&k.key)) }
                                @if sizes { (bytes_cell("value", k.value)) } @else { (count_cell("value", k.value)) }
                                td.barcell { (bar(frac(k.value, max), "hist")) }
                            }
                        }
                    }
                }
            }
        }
    }
}

fn objects(m: &Model) -> Markup {
    let st = &m.stats.stats;
    let t = &st.total;
    let ev = st.groups.iter().find(|g| g.name == "events");
    let evc = ev.map(|g| g.counts).unwrap_or_default();
    let near = near_limit();
    html! {
        section #objects {
            h2 { "Largest objects" }
            p.lead {
                "Key + value bytes of the largest live objects. etcd refuses a request larger than "
                code { "--max-request-bytes" } " (1.5 MiB by default), so an object near it cannot grow much more; those at "
                (human(near)) " or more are marked."
            }
            @if st.largest_live.is_empty() {
                p.note { "No live objects." }
            } @else {
                div.scroll {
                    table.data #largest {
                        thead { tr { th { "key" } th { "resource" } th.num { "size" } th { "of the 1.5 MiB limit" } } }
                        tbody {
                            @for k in &st.largest_live {
                                @let cls = limit_class(k.value);
                                tr class=(cls) {
                                    td.key { (shown(&k.key)) }
                                    td { (resource_label(&k.key.0, "/registry")) }
                                    (bytes_cell("value", k.value))
                                    td.barcell.limit { (bar(frac(k.value, REQUEST_LIMIT), if cls.is_empty() { "live" } else { cls })) span.p { (pct(k.value, REQUEST_LIMIT)) } }
                                }
                            }
                        }
                    }
                }
            }
            h2 { "Events" }
            div.two {
                div {
                    @let live = frac(evc.live_bytes, t.live_bytes);
                    @let hist = frac(evc.history_bytes, t.history_bytes);
                    p.lead {
                        "Events are written often, live an hour by default (" code { "--event-ttl" } ") and are deleted through leases: "
                        "they are often what fills a store."
                    }
                    table.kv #events {
                        tr { th { "events" } (count_cell("live_objects", evc.live_objects)) }
                        tr { th { "live bytes" } (bytes_cell("live_bytes", evc.live_bytes)) td { (pct(evc.live_bytes, t.live_bytes)) " of live data" } }
                        tr { th { "history" } (bytes_cell("history_bytes", evc.history_bytes)) td { (pct(evc.history_bytes, t.history_bytes)) " of history" } }
                    }
                    svg.share viewBox="0 0 400 56" role="img" aria-label="events' share" {
                        text.lbl x="0" y="12" { "live data" }
                        rect.track x="80" y="2" width="320" height="14" {}
                        rect.live x="80" y="2" width=(fx(320.0 * live)) height="14" { title { "events: " (human(evc.live_bytes)) " of " (human(t.live_bytes)) " live" } }
                        text.lbl x="0" y="40" { "history" }
                        rect.track x="80" y="30" width="320" height="14" {}
                        rect.hist x="80" y="30" width=(fx(320.0 * hist)) height="14" { title { "events: " (human(evc.history_bytes)) " of " (human(t.history_bytes)) " history" } }
                    }
                }
            }
        }
    }
}

/// Sizes at or above this are near etcd's request limit.
fn near_limit() -> u64 {
    (REQUEST_LIMIT as f64 * NEAR_LIMIT) as u64
}

/// The row class of an object of `size` bytes: `over` the request limit, `near` it, or none.
pub fn limit_class(size: u64) -> &'static str {
    if size >= REQUEST_LIMIT {
        "over"
    } else if size >= near_limit() {
        "near"
    } else {
        ""
    }
}

fn leases(m: &Model) -> Markup {
    let mut leases: Vec<_> = m.info.leases.iter().collect();
    leases.sort_by(|a, b| b.attached_keys.cmp(&a.attached_keys).then(a.id.cmp(&b.id)));
    let attached: u64 = leases.iter().map(|l| l.attached_keys).sum();
    let top = leases.len().min(25);
    html! {
        section #leases {
            h2 { "Leases" }
            p.lead {
                b data-k="leases" data-v=(leases.len()) { (count(leases.len() as u64)) } " leases in the lease bucket, "
                b { (count(attached)) } " live keys attached to them at the head. When a lease expires etcd deletes its keys."
            }
            @if !leases.is_empty() {
                div.scroll {
                    table.data #lease-table {
                        thead { tr { th { "lease" } th.num { "TTL s" } th.num { "remaining s" } th.num { "keys" } th { "some of its keys" } } }
                        tbody {
                            @for l in &leases[..top] {
                                tr data-lease=(l.id_hex) {
                                    td.mono { (l.id_hex) }
                                    (count_cell("ttl", l.ttl.max(0) as u64))
                                    td.num { (l.remaining_ttl) }
                                    (count_cell("attached_keys", l.attached_keys))
                                    td.key {
                                        @if let Some(k) = m.lease_keys.get(&l.id) {
                                            @for (i, key) in k.sample.iter().enumerate() {
                                                @if i > 0 { br; }
                                                (shown(key))
                                            }
                                            @if k.count > k.sample.len() as u64 { br; span.note { "… " (count(k.count - k.sample.len() as u64)) " more" } }
                                        }
                                    }
                                }
                            }
                        }
                    }
                }
                @if leases.len() > top { p.note { (leases.len() - top) " more leases with fewer keys; " code { "etcdsnap info" } " lists them all." } }
            }
            @if !m.info.missing_leases.is_empty() {
                p.badtext {
                    (m.info.missing_leases.len()) " lease id(s) are carried by live keys but missing from the lease bucket: "
                    @for (i, l) in m.info.missing_leases.iter().enumerate() {
                        @if i > 0 { ", " }
                        code { (l.id_hex) } " (" (l.attached_keys) " keys)"
                    }
                }
            }
        }
    }
}

fn secrets(m: &Model) -> Markup {
    let a = &m.secrets;
    html! {
        section #secrets {
            h2 { "Secrets by encryption" }
            p.lead {
                b data-k="secrets" data-v=(a.total) { (count(a.total)) } " Secrets live; how each value is stored, from its prefix alone "
                "(names only: no value is shown or decrypted). The same as " code { "etcdsnap audit" } "."
            }
            @if a.total > 0 {
                table.data #encryption {
                    thead { tr { th { "stored as" } th { "key" } th.num { "Secrets" } th {} } }
                    tbody {
                        @for e in &a.encrypted {
                            tr.ok { th { (e.provider) " " (e.version) } td.mono { (e.key_name) } (count_cell("count", e.count)) td.barcell { (bar(frac(e.count, a.total), "live")) } }
                        }
                        @if a.plaintext_count() > 0 {
                            tr.near { th { "plaintext (not encrypted)" } td {} (count_cell("count", a.plaintext_count() as u64)) td.barcell { (bar(frac(a.plaintext_count() as u64, a.total), "near")) } }
                        }
                        @if !a.other.is_empty() {
                            tr { th { "empty or opaque" } td {} (count_cell("count", a.other.len() as u64)) td.barcell { (bar(frac(a.other.len() as u64, a.total), "hist")) } }
                        }
                    }
                }
                @if a.plaintext_count() > 0 {
                    details {
                        summary { "Secrets stored in plaintext (" (a.plaintext_count()) ")" }
                        ul.cols {
                            @for i in a.plaintext.iter().take(200) { li { (i.namespaced_name()) } }
                            @if a.plaintext.len() > 200 { li { "… " (a.plaintext.len() - 200) " more" } }
                        }
                    }
                }
            }
        }
    }
}

fn compare(c: &Compare) -> Markup {
    let s = &c.summary;
    let growth: i64 = c.by_resource.iter().map(Growth::delta).sum();
    let top = 20;
    html! {
        section #compare {
            h2 { "Compared with " (std::path::Path::new(&c.path).file_name().map(|n| n.to_string_lossy().into_owned()).unwrap_or_default()) }
            p.lead {
                "From " code { (c.path) } " (revision " (c.revision_a) ", total size " (human(c.total_size_a)) ") to this snapshot (revision "
                (c.revision_b) ", " (human(c.total_size_b)) "): live data " b { (signed_human(growth)) } "; total size "
                b { (signed_human(i64::try_from(c.total_size_b).unwrap_or(i64::MAX) - i64::try_from(c.total_size_a).unwrap_or(i64::MAX))) } "."
            }
            div.cards {
                div.card.live { div.label { "added" } div.big data-k="added" data-v=(s.added) { (count(s.added)) } }
                div.card.hist { div.label { "deleted" } div.big data-k="deleted" data-v=(s.deleted) { (count(s.deleted)) } }
                div.card { div.label { "modified" } div.big data-k="modified" data-v=(s.modified) { (count(s.modified)) } div.sub { (count(c.value_changed)) " with a new value" } }
                div.card.ovh { div.label { "unchanged" } div.big data-k="unchanged" data-v=(s.unchanged) { (count(s.unchanged)) } }
            }
            h3 { "Growth by resource" }
            (growth_table("growth-resource", "resource", &c.by_resource, top))
            h3 { "Growth by namespace" }
            (growth_table("growth-namespace", "namespace", &c.by_namespace, top))
            h3 { "Objects that grew most" }
            @if c.grown.is_empty() {
                p.note { "No object grew." }
            } @else {
                div.scroll {
                    table.data #grown {
                        thead { tr { th { "key" } th { "change" } th.num { "before" } th.num { "after" } th.num { "growth" } } }
                        tbody {
                            @for g in &c.grown {
                                tr {
                                    td.key { (shown(&g.key)) }
                                    td { @match g.change { ChangeKind::Added => "added", ChangeKind::Deleted => "deleted", ChangeKind::Modified => "modified" } }
                                    (bytes_cell("bytes_a", g.bytes_a))
                                    (bytes_cell("bytes_b", g.bytes_b))
                                    td.num.up { (signed_human(i64::try_from(g.bytes_b - g.bytes_a).unwrap_or(i64::MAX))) }
                                }
                            }
                        }
                    }
                }
            }
        }
    }
}

fn growth_table(id: &str, what: &str, rows: &[Growth], top: usize) -> Markup {
    let max = rows
        .iter()
        .map(|g| g.delta().unsigned_abs())
        .max()
        .unwrap_or(0);
    html! {
        div.scroll {
            table.data id=(id) {
                thead { tr { th { (what) } th.num { "objects before" } th.num { "after" } th.num { "bytes before" } th.num { "after" } th.num { "growth" } th {} th.num { "added" } th.num { "deleted" } th.num { "modified" } } }
                tbody {
                    @for g in rows.iter().take(top) {
                        tr data-group=(g.name) {
                            th { (g.name) }
                            (count_cell("objects_a", g.objects_a)) (count_cell("objects_b", g.objects_b))
                            (bytes_cell("bytes_a", g.bytes_a)) (bytes_cell("bytes_b", g.bytes_b))
                            td class={"num " (if g.delta() > 0 { "up" } else if g.delta() < 0 { "down" } else { "" })} { (signed_human(g.delta())) }
                            td.barcell { (bar(frac(g.delta().unsigned_abs(), max), if g.delta() >= 0 { "near" } else { "live" })) }
                            (count_cell("added", g.added)) (count_cell("deleted", g.deleted)) (count_cell("modified", g.modified))
                        }
                    }
                }
            }
        }
        @if rows.len() > top { p.note { (rows.len() - top) " more with less change." } }
    }
}

fn details(m: &Model) -> Markup {
    let i = &m.info;
    html! {
        section #details {
            h2 { "The file and the cluster" }
            div.two {
                table.kv {
                    tr { th { "file" } td { (m.path) } }
                    tr { th { "file size" } (bytes_cell("file_size", i.file.file_size)) }
                    tr { th { "page size" } td.num { (i.file.page_size) } }
                    tr { th { "pages" } (count_cell("pages", i.file.pages)) }
                    tr { th { "meta in use, txid" } td.num { (i.file.active_meta) ", " (i.file.txid) } }
                    tr { th { "consistent index" } td.num { (i.store.consistent_index.map_or("–".into(), |v| v.to_string())) } }
                    tr { th { "term" } td.num { (i.store.term.map_or("–".into(), |v| v.to_string())) } }
                    tr { th { "compaction" } td.num {
                        (i.store.compact_revision)
                        @if i.store.compaction_interrupted { " (interrupted: etcd finishes it when it next opens the file)" }
                    } }
                }
                table.kv {
                    tr { th { "cluster version" } td { (i.cluster.version.clone().unwrap_or_else(|| "–".into())) } }
                    tr { th { "storage version" } td { (i.store.storage_version.clone().unwrap_or_else(|| "– (written before etcd 3.6)".into())) } }
                    tr { th { "members" } td {
                        @for (n, mb) in i.cluster.members.iter().enumerate() {
                            @if n > 0 { br; }
                            span.mono { (mb.id) } " " (mb.name) @if mb.is_learner { " (learner)" }
                        }
                    } }
                    tr { th { "auth" } td { @if i.auth.enabled { "enabled, " (i.auth.users.len()) " users, " (i.auth.roles.len()) " roles" } @else { "disabled" } } }
                    tr { th { "buckets" } td { @for (n, b) in i.file.buckets.iter().enumerate() { @if n > 0 { ", " } (b.name) " " span.note { "(" (count(b.entries)) ")" } } } }
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn objects_near_the_request_limit_are_marked() {
        assert_eq!(limit_class(0), "");
        assert_eq!(limit_class(near_limit() - 1), "");
        assert_eq!(limit_class(near_limit()), "near");
        assert_eq!(limit_class(REQUEST_LIMIT - 1), "near");
        assert_eq!(limit_class(REQUEST_LIMIT), "over");
        // 1.5 MiB is etcd's default --max-request-bytes.
        assert_eq!(REQUEST_LIMIT, 1_572_864);
    }

    #[test]
    fn sizes_read_like_etcds() {
        for (n, s) in [
            (0, "0 B"),
            (9, "9 B"),
            (1000, "1.0 kB"),
            (4_329_472, "4.3 MB"),
            (1_499_496_448, "1.5 GB"),
            (123_400_000, "123 MB"),
        ] {
            assert_eq!(human(n), s, "{n}");
        }
        assert_eq!(count(1_234_567), "1,234,567");
        assert_eq!(count(999), "999");
    }

    #[test]
    fn characters_html_cannot_hold_are_escaped() {
        let page = crate::scrub("a\u{0}b\u{7f}c\u{fffe}d\te\nf".to_string());
        assert_eq!(page, "a\\x00b\\x7fc\\u{fffe}d\te\nf");
    }
}
