//! YAML written byte for byte as `kubectl get -o yaml` writes it.
//!
//! kubectl turns the object's JSON into YAML with sigs.k8s.io/yaml, whose emitter is go-yaml
//! v2, a port of libyaml. Its output has rules a reader notices (and a diff shows): a string
//! that would read back as another type (`"true"`, `"123"`, `"0777"`, `"y"`, a timestamp,
//! `""`) is double-quoted; one that cannot be plain (`'a: b'`, `'*x'`, `' lead'`) is
//! single-quoted; multi-line text is a literal block (`|`, `|-`, `|+`); text with control
//! characters is double-quoted with YAML escapes (`\t`, `\L`); sequences in a mapping are not
//! indented; long plain and quoted strings are folded at 80 columns. The Rust YAML crates
//! (serde_yaml and its forks) share the emitter but choose quoting their own way (single
//! quotes for `'14'`, no quotes for timestamps), so this writes the few shapes a JSON document
//! has with go-yaml's decisions: `encode.go`'s choice of style, then libyaml's
//! `yaml_emitter_analyze_scalar` / `select_scalar_style` and its writers.

use serde_json::{Map, Value};

/// go-yaml's `best_width`.
const WIDTH: usize = 80;

/// The YAML of a JSON value as kubectl prints it (ends with a newline).
pub fn to_yaml(v: &Value) -> String {
    let mut e = Emitter { out: String::new() };
    match v {
        Value::Object(m) if !m.is_empty() => e.map(m, 0),
        Value::Array(a) if !a.is_empty() => e.seq(a, 0),
        other => {
            let mut col = 0;
            e.scalar(other, 0, &mut col, false);
            e.out.push('\n');
        }
    }
    e.out
}

struct Emitter {
    out: String,
}

#[derive(Clone, Copy, PartialEq, Eq)]
enum Style {
    Plain,
    Single,
    Double,
    Literal,
}

fn is_break(c: char) -> bool {
    matches!(c, '\r' | '\n' | '\u{85}' | '\u{2028}' | '\u{2029}')
}

fn is_space(c: char) -> bool {
    c == ' '
}

fn is_blankz(c: Option<char>) -> bool {
    match c {
        None => true,
        Some(c) => c == ' ' || c == '\t' || is_break(c) || c == '\0',
    }
}

/// go-yaml's `is_printable` (no characters outside the BMP).
fn is_printable(c: char) -> bool {
    let u = c as u32;
    u == 0x0A
        || (0x20..=0x7E).contains(&u)
        || (0xA0..=0xD7FF).contains(&u)
        || ((0xE000..=0xFFFD).contains(&u) && u != 0xFEFF)
}

/// Whether go-yaml's `resolve` reads the plain scalar as something other than a string
/// (bool, null, int, float, timestamp, merge key), or it is a base-60 float: such strings are
/// double-quoted.
fn resolves_to_non_string(s: &str) -> bool {
    const WORDS: &[&str] = &[
        "y", "Y", "yes", "Yes", "YES", "n", "N", "no", "No", "NO", "true", "True", "TRUE", "false",
        "False", "FALSE", "on", "On", "ON", "off", "Off", "OFF", "~", "null", "Null", "NULL", "",
        ".inf", ".Inf", ".INF", "+.inf", "+.Inf", "+.INF", "-.inf", "-.Inf", "-.INF", ".nan",
        ".NaN", ".NAN", "<<",
    ];
    if WORDS.contains(&s) {
        return true;
    }
    let first = s.chars().next().unwrap_or(' ');
    if !(first.is_ascii_digit() || matches!(first, '+' | '-' | '.')) {
        return false;
    }
    let plain: String = s.chars().filter(|&c| c != '_').collect();
    is_go_int(&plain) || is_go_float(&plain) || is_timestamp(s) || is_base60_float(s)
}

fn is_go_int(s: &str) -> bool {
    let body = s.strip_prefix(['+', '-']).unwrap_or(s);
    let digits = |t: &str, radix: u32| !t.is_empty() && t.chars().all(|c| c.is_digit(radix));
    if let Some(h) = body.strip_prefix("0x").or_else(|| body.strip_prefix("0X")) {
        return digits(h, 16);
    }
    if let Some(o) = body.strip_prefix("0o").or_else(|| body.strip_prefix("0O")) {
        return digits(o, 8);
    }
    if let Some(b) = body.strip_prefix("0b").or_else(|| body.strip_prefix("0B")) {
        return digits(b, 2);
    }
    if body.len() > 1 && body.starts_with('0') {
        return digits(body, 8);
    }
    digits(body, 10)
}

fn is_go_float(s: &str) -> bool {
    // Go's ParseFloat and Rust's agree on decimal forms, inf and nan.
    !s.is_empty() && s.parse::<f64>().is_ok()
}

fn is_timestamp(s: &str) -> bool {
    // go-yaml: "2006-1-2T15:4:5.999999999Z07:00", "2006-1-2t15:4:5...", "2006-1-2 15:4:5...",
    // "2006-1-2".
    let b = s.as_bytes();
    let num = |i: &mut usize, min: usize, max: usize| {
        let start = *i;
        while *i < b.len() && b[*i].is_ascii_digit() && *i - start < max {
            *i += 1;
        }
        *i - start >= min
    };
    let mut i = 0;
    if !(num(&mut i, 4, 4) && b.get(i) == Some(&b'-')) {
        return false;
    }
    i += 1;
    if !(num(&mut i, 1, 2) && b.get(i) == Some(&b'-')) {
        return false;
    }
    i += 1;
    if !num(&mut i, 1, 2) {
        return false;
    }
    if i == b.len() {
        return true;
    }
    if !matches!(b[i], b'T' | b't' | b' ') {
        return false;
    }
    i += 1;
    for sep in [b':', b':'] {
        if !(num(&mut i, 1, 2) && b.get(i) == Some(&sep)) {
            return false;
        }
        i += 1;
    }
    if !num(&mut i, 1, 2) {
        return false;
    }
    if b.get(i) == Some(&b'.') {
        i += 1;
        if !num(&mut i, 1, 9) {
            return false;
        }
    }
    match b.get(i) {
        None => true,
        Some(b'Z') => i + 1 == b.len(),
        Some(b'+' | b'-') => {
            i += 1;
            num(&mut i, 2, 2)
                && (i == b.len()
                    || (b[i] == b':' && {
                        i += 1;
                        num(&mut i, 2, 2) && i == b.len()
                    }))
        }
        _ => false,
    }
}

fn is_base60_float(s: &str) -> bool {
    // ^[-+]?[0-9][0-9_]*(?::[0-5]?[0-9])+(?:\.[0-9_]*)?$
    let body = s.strip_prefix(['+', '-']).unwrap_or(s);
    let (main, frac) = match body.split_once('.') {
        Some((m, f)) => (m, Some(f)),
        None => (body, None),
    };
    if frac.is_some_and(|f| !f.chars().all(|c| c.is_ascii_digit() || c == '_')) {
        return false;
    }
    let mut parts = main.split(':');
    let head = parts.next().unwrap_or("");
    if !head.starts_with(|c: char| c.is_ascii_digit())
        || !head.chars().all(|c| c.is_ascii_digit() || c == '_')
    {
        return false;
    }
    let mut any = false;
    for p in parts {
        any = true;
        let ok = match p.as_bytes() {
            [d] => d.is_ascii_digit(),
            [a, d] => (b'0'..=b'5').contains(a) && d.is_ascii_digit(),
            _ => false,
        };
        if !ok {
            return false;
        }
    }
    any
}

/// libyaml's `yaml_emitter_analyze_scalar`: (plain allowed in block context, single-quoted
/// allowed, literal block allowed).
fn analyze(s: &str) -> (bool, bool, bool) {
    if s.is_empty() {
        return (true, true, false);
    }
    let chars: Vec<char> = s.chars().collect();
    let (mut block_ind, mut flow_ind) = (false, false);
    let (mut line_breaks, mut special) = (false, false);
    let (mut leading_space, mut leading_break, mut trailing_space, mut trailing_break) =
        (false, false, false, false);
    let (mut break_space, mut space_break) = (false, false);
    let (mut prev_space, mut prev_break) = (false, false);
    if (s.starts_with("---") || s.starts_with("...")) && is_blankz(chars.get(3).copied()) {
        block_ind = true;
        flow_ind = true;
    }
    let mut preceded_ws = true;
    let mut followed_ws = is_blankz(chars.get(1).copied());
    let last = chars.len() - 1;
    for (i, &c) in chars.iter().enumerate() {
        if i == 0 {
            if "#,[]{}&*!|>'\"%@`".contains(c) {
                flow_ind = true;
                block_ind = true;
            }
            if c == '?' || c == ':' {
                flow_ind = true;
                if followed_ws {
                    block_ind = true;
                }
            }
            if c == '-' && followed_ws {
                flow_ind = true;
                block_ind = true;
            }
        } else {
            if ",?[]{}".contains(c) {
                flow_ind = true;
            }
            if c == ':' {
                flow_ind = true;
                if followed_ws {
                    block_ind = true;
                }
            }
            if c == '#' && preceded_ws {
                flow_ind = true;
                block_ind = true;
            }
        }
        if !is_printable(c) {
            special = true;
        }
        if is_break(c) {
            line_breaks = true;
        }
        if is_space(c) {
            if i == 0 {
                leading_space = true;
            }
            if i == last {
                trailing_space = true;
            }
            if prev_break {
                break_space = true;
            }
            prev_space = true;
            prev_break = false;
        } else if is_break(c) {
            if i == 0 {
                leading_break = true;
            }
            if i == last {
                trailing_break = true;
            }
            if prev_space {
                space_break = true;
            }
            prev_break = true;
            prev_space = false;
        } else {
            prev_space = false;
            prev_break = false;
        }
        preceded_ws = is_blankz(Some(c));
        followed_ws = is_blankz(chars.get(i + 2).copied());
    }
    let (mut plain, mut single, mut block) = (true, true, true);
    if leading_space || leading_break || trailing_space || trailing_break {
        plain = false;
    }
    if trailing_space {
        block = false;
    }
    if break_space {
        plain = false;
        single = false;
    }
    if space_break || special {
        plain = false;
        single = false;
        block = false;
    }
    if line_breaks {
        plain = false;
    }
    if block_ind {
        plain = false;
    }
    let _ = flow_ind;
    (plain, single, block)
}

/// The order go-yaml v2 writes map keys in (sorter.go `keyList.Less`), which kubectl's YAML
/// follows (it re-reads its JSON into Go maps and lets go-yaml sort them): rune by rune, a
/// non-letter before a letter, runs of digits compared as numbers (`a9` before `a10`, `a1`
/// before `a01`), then the shorter key first. JSON's bytewise order differs for `~`, `_` and
/// digits.
fn go_yaml_key_order(a: &str, b: &str) -> std::cmp::Ordering {
    use std::cmp::Ordering;
    if go_yaml_key_less(a, b) {
        Ordering::Less
    } else if go_yaml_key_less(b, a) {
        Ordering::Greater
    } else {
        Ordering::Equal
    }
}

fn go_yaml_key_less(a: &str, b: &str) -> bool {
    let ar: Vec<char> = a.chars().collect();
    let br: Vec<char> = b.chars().collect();
    let digit = |c: char| c.is_ascii_digit();
    for i in 0..ar.len().min(br.len()) {
        if ar[i] == br[i] {
            continue;
        }
        let (al, bl) = (ar[i].is_alphabetic(), br[i].is_alphabetic());
        if al && bl {
            return ar[i] < br[i];
        }
        if al || bl {
            return bl;
        }
        let (mut an, mut bn) = (0i64, 0i64);
        if ar[i] == '0' || br[i] == '0' {
            let mut j = i;
            while j > 0 && digit(ar[j - 1]) {
                j -= 1;
                if ar[j] != '0' {
                    an = 1;
                    bn = 1;
                    break;
                }
            }
        }
        let mut ai = i;
        while ai < ar.len() && digit(ar[ai]) {
            an = an
                .wrapping_mul(10)
                .wrapping_add(i64::from(ar[ai] as u8 - b'0'));
            ai += 1;
        }
        let mut bi = i;
        while bi < br.len() && digit(br[bi]) {
            bn = bn
                .wrapping_mul(10)
                .wrapping_add(i64::from(br[bi] as u8 - b'0'));
            bi += 1;
        }
        if an != bn {
            return an < bn;
        }
        if ai != bi {
            return ai < bi;
        }
        return ar[i] < br[i];
    }
    ar.len() < br.len()
}

/// go-yaml's style for a string (encode.go), then libyaml's `select_scalar_style`.
fn style(s: &str, simple_key: bool) -> Style {
    let wanted = if s.contains('\n') {
        Style::Literal
    } else if !resolves_to_non_string(s) {
        Style::Plain
    } else {
        Style::Double
    };
    let (plain_ok, single_ok, block_ok) = analyze(s);
    let mut st = wanted;
    if st == Style::Plain && (!plain_ok || (s.is_empty() && simple_key)) {
        st = Style::Single;
    }
    if st == Style::Single && !single_ok {
        st = Style::Double;
    }
    if st == Style::Literal && (!block_ok || simple_key) {
        st = Style::Double;
    }
    st
}

impl Emitter {
    fn indent(&mut self, n: usize) {
        for _ in 0..n {
            self.out.push(' ');
        }
    }

    /// A block mapping whose first key is written at the current position (after `- ` or at
    /// the start of a line indented by `indent`).
    fn map(&mut self, m: &Map<String, Value>, indent: usize) {
        let mut entries: Vec<(&String, &Value)> = m.iter().collect();
        entries.sort_by(|a, b| go_yaml_key_order(a.0, b.0));
        for (i, (k, v)) in entries.into_iter().enumerate() {
            if i > 0 {
                self.indent(indent);
            }
            // libyaml's check_simple_key: a key over 128 bytes or with a line break is written
            // as a complex key, `? KEY` and `: VALUE` on the next line (value at indent + 2).
            if k.len() > 128 || k.chars().any(is_break) {
                self.out.push_str("? ");
                let mut col = indent + 2;
                self.string(k, indent + 2, &mut col, false);
                self.out.push('\n');
                self.indent(indent);
                self.out.push_str(": ");
                match v {
                    Value::Object(inner) if !inner.is_empty() => self.map(inner, indent + 2),
                    Value::Array(items) if !items.is_empty() => self.seq(items, indent + 2),
                    other => {
                        let mut col = indent + 2;
                        self.scalar(other, indent + 2, &mut col, false);
                        self.out.push('\n');
                    }
                }
                continue;
            }
            let mut col = indent;
            self.string(k, indent, &mut col, true);
            self.out.push(':');
            col += 1;
            match v {
                Value::Object(inner) if !inner.is_empty() => {
                    self.out.push('\n');
                    self.indent(indent + 2);
                    self.map(inner, indent + 2);
                }
                Value::Array(items) if !items.is_empty() => {
                    self.out.push('\n');
                    self.indent(indent);
                    self.seq(items, indent);
                }
                other => {
                    self.out.push(' ');
                    col += 1;
                    self.scalar(other, indent + 2, &mut col, false);
                    self.out.push('\n');
                }
            }
        }
    }

    /// A block sequence whose first `- ` is at the current position, indented by `indent`.
    fn seq(&mut self, items: &[Value], indent: usize) {
        for (i, v) in items.iter().enumerate() {
            if i > 0 {
                self.indent(indent);
            }
            self.out.push_str("- ");
            match v {
                Value::Object(inner) if !inner.is_empty() => self.map(inner, indent + 2),
                Value::Array(inner) if !inner.is_empty() => self.seq(inner, indent + 2),
                other => {
                    let mut col = indent + 2;
                    self.scalar(other, indent + 2, &mut col, false);
                    self.out.push('\n');
                }
            }
        }
    }

    /// A scalar (or an empty collection) at column `*col`; `indent` is where folded lines and
    /// block content continue.
    fn scalar(&mut self, v: &Value, indent: usize, col: &mut usize, simple_key: bool) {
        let text = match v {
            Value::Null => "null".to_owned(),
            Value::Bool(b) => b.to_string(),
            Value::Number(n) => n.to_string(),
            Value::String(s) => return self.string(s, indent, col, simple_key),
            Value::Object(_) => "{}".to_owned(),
            Value::Array(_) => "[]".to_owned(),
        };
        *col += text.len();
        self.out.push_str(&text);
    }

    fn string(&mut self, s: &str, indent: usize, col: &mut usize, simple_key: bool) {
        let allow_breaks = !simple_key;
        let chars: Vec<char> = s.chars().collect();
        match style(s, simple_key) {
            Style::Plain => {
                let mut spaces = false;
                for (i, &c) in chars.iter().enumerate() {
                    if is_space(c) {
                        let next_space = chars.get(i + 1).is_some_and(|&n| is_space(n));
                        if allow_breaks && !spaces && *col > WIDTH && !next_space {
                            self.newline_indent(indent, col);
                        } else {
                            self.put(c, col);
                        }
                        spaces = true;
                    } else {
                        self.put(c, col);
                        spaces = false;
                    }
                }
            }
            Style::Single => {
                self.put('\'', col);
                let mut spaces = false;
                // After a line break (U+2028, U+2029: printable, so single-quoted text may hold
                // them) go-yaml writes the break itself, the column restarts at 0, and the next
                // character is indented to the scalar's indent (`'a<LS>    b'`); none is added
                // before the closing quote.
                let mut breaks = false;
                for (i, &c) in chars.iter().enumerate() {
                    if is_break(c) {
                        if !breaks && c == '\n' {
                            self.out.push('\n');
                        }
                        self.out.push(c);
                        *col = 0;
                        breaks = true;
                    } else if is_space(c) {
                        let next_space = chars.get(i + 1).is_some_and(|&n| is_space(n));
                        if allow_breaks
                            && !spaces
                            && *col > WIDTH
                            && i != 0
                            && i != chars.len() - 1
                            && !next_space
                        {
                            self.newline_indent(indent, col);
                        } else {
                            self.put(c, col);
                        }
                        spaces = true;
                    } else {
                        if breaks {
                            if *col > indent {
                                self.newline_indent(indent, col);
                            } else {
                                while *col < indent {
                                    self.put(' ', col);
                                }
                            }
                        }
                        if c == '\'' {
                            self.put('\'', col);
                        }
                        self.put(c, col);
                        spaces = false;
                        breaks = false;
                    }
                }
                self.put('\'', col);
            }
            Style::Double => {
                self.put('"', col);
                let mut spaces = false;
                // go-yaml's is_bom looks at the scalar's first character whatever the position:
                // text that starts with U+FEFF has every character escaped (`"\uFEFF\x62"`).
                let bom = chars.first() == Some(&'\u{FEFF}');
                for (i, &c) in chars.iter().enumerate() {
                    let u = c as u32;
                    if bom
                        || !is_printable(c)
                        || u == 0xFEFF
                        || is_break(c)
                        || c == '"'
                        || c == '\\'
                    {
                        let esc = match u {
                            0x00 => "0".to_owned(),
                            0x07 => "a".to_owned(),
                            0x08 => "b".to_owned(),
                            0x09 => "t".to_owned(),
                            0x0A => "n".to_owned(),
                            0x0B => "v".to_owned(),
                            0x0C => "f".to_owned(),
                            0x0D => "r".to_owned(),
                            0x1B => "e".to_owned(),
                            0x22 => "\"".to_owned(),
                            0x5C => "\\".to_owned(),
                            0x85 => "N".to_owned(),
                            0xA0 => "_".to_owned(),
                            0x2028 => "L".to_owned(),
                            0x2029 => "P".to_owned(),
                            u if u <= 0xFF => format!("x{u:02X}"),
                            u if u <= 0xFFFF => format!("u{u:04X}"),
                            u => format!("U{u:08X}"),
                        };
                        self.put('\\', col);
                        for e in esc.chars() {
                            self.put(e, col);
                        }
                        spaces = false;
                    } else if is_space(c) {
                        if allow_breaks && !spaces && *col > WIDTH && i != 0 && i != chars.len() - 1
                        {
                            self.newline_indent(indent, col);
                            if chars.get(i + 1).is_some_and(|&n| is_space(n)) {
                                self.put('\\', col);
                            }
                        } else {
                            self.put(c, col);
                        }
                        spaces = true;
                    } else {
                        self.put(c, col);
                        spaces = false;
                    }
                }
                self.put('"', col);
            }
            Style::Literal => {
                self.out.push('|');
                if chars.first().is_some_and(|&c| is_space(c) || is_break(c)) {
                    self.out.push('2');
                }
                let last_break = chars.last().is_some_and(|&c| is_break(c));
                if !last_break {
                    self.out.push('-');
                } else if chars.len() == 1
                    || chars.get(chars.len() - 2).is_some_and(|&c| is_break(c))
                {
                    self.out.push('+');
                }
                self.out.push('\n');
                let mut at_line_start = true;
                for &c in &chars {
                    if is_break(c) {
                        // go-yaml writes U+2028/U+2029 as themselves, `\n` as a line break
                        self.out.push(c);
                        at_line_start = true;
                    } else {
                        if at_line_start {
                            self.indent(indent);
                        }
                        self.out.push(c);
                        at_line_start = false;
                    }
                }
                // The caller ends the line; a block that ended with its break already did.
                if last_break {
                    self.out.pop();
                }
            }
        }
    }

    fn put(&mut self, c: char, col: &mut usize) {
        self.out.push(c);
        *col += 1;
    }

    fn newline_indent(&mut self, indent: usize, col: &mut usize) {
        self.out.push('\n');
        self.indent(indent);
        *col = indent;
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    /// What kubectl v1.32 printed for the same document (`kubectl label --local -f F x=y
    /// -o yaml`, in the module's test data).
    #[test]
    fn as_kubectl_prints_it() {
        let doc = json!({
            "apiVersion": "v1",
            "data": {
                "colon": "a: b", "e": "", "false": "123", "hash": "a #b", "k": "true",
                "lead": " lead", "multi": "line1\nline2\n", "multi2": "line1\nline2",
                "null": "null", "num": "1.5e3", "oct": "0777", "star": "*x", "tilde": "~",
                "unicode": "héllo", "yes": "yes"
            },
            "kind": "ConfigMap",
            "metadata": {
                "annotations": {
                    "a": "<b>&c\u{2028} \u{8}",
                    "long": "aaaa bbbb cccc dddd eeee ffff gggg hhhh iiii jjjj kkkk llll mmmm nnnn oooo pppp qqqq rrrr ssss"
                },
                "creationTimestamp": "2025-01-01T00:00:11Z",
                "labels": {"x": "y"},
                "name": "x",
                "namespace": "ns",
                "resourceVersion": "14"
            },
            "spec": {"ports": [{"port": 80, "targetPort": "http"}], "empty": [], "none": {}}
        });
        let want = r#"apiVersion: v1
data:
  colon: 'a: b'
  e: ""
  "false": "123"
  hash: 'a #b'
  k: "true"
  lead: ' lead'
  multi: |
    line1
    line2
  multi2: |-
    line1
    line2
  "null": "null"
  num: "1.5e3"
  oct: "0777"
  star: '*x'
  tilde: "~"
  unicode: héllo
  "yes": "yes"
kind: ConfigMap
metadata:
  annotations:
    a: "<b>&c\L \b"
    long: aaaa bbbb cccc dddd eeee ffff gggg hhhh iiii jjjj kkkk llll mmmm nnnn oooo
      pppp qqqq rrrr ssss
  creationTimestamp: "2025-01-01T00:00:11Z"
  labels:
    x: "y"
  name: x
  namespace: ns
  resourceVersion: "14"
spec:
  empty: []
  none: {}
  ports:
  - port: 80
    targetPort: http
"#;
        assert_eq!(to_yaml(&doc), want);
    }
}

#[cfg(test)]
mod line_separators {
    use super::*;
    use serde_json::json;

    /// U+2028 and U+2029 in single-quoted and literal scalars, as kubectl v1.32.4 printed this
    /// document (`kubectl patch --local -f F -p {} --type merge -o yaml`; found by
    /// crates/k8s/schema/heldout.py): the break is written as itself and the text after it is
    /// indented to the scalar's indent.
    #[test]
    fn line_separators_as_kubectl_prints_them() {
        let doc = json!({"apiVersion": "v1", "kind": "ConfigMap",
            "metadata": {"name": "x", "namespace": "ns"},
            "data": {"a": "line\u{2028}sep", "b": "a\u{2028} b", "c": "\u{2028}lead",
                "d": "end\u{2029}", "e": "x\u{2028}\u{2028}y", "f": "l1\nl2\u{2028}l3",
                "g": "p\u{2029}q r",
                "h": "aaaa bbbb cccc dddd eeee ffff gggg hhhh iiii jjjj kkkk llll mmmm\u{2028}nnnn oooo pppp qqqq rrrr ssss tttt",
                "i": "x\u{2028} \u{2028}y", "j": "q'\u{2028}'r"},
            "spec": {"items": [{"k": "m\u{2028}n"}]}});
        let want = "apiVersion: v1\ndata:\n  a: 'line\u{2028}    sep'\n  b: \"a\\L b\"\n  \
            c: '\u{2028}    lead'\n  d: 'end\u{2029}'\n  e: 'x\u{2028}\u{2028}    y'\n  \
            f: |-\n    l1\n    l2\u{2028}    l3\n  g: 'p\u{2029}    q r'\n  \
            h: 'aaaa bbbb cccc dddd eeee ffff gggg hhhh iiii jjjj kkkk llll mmmm\u{2028}    nnnn oooo pppp qqqq rrrr ssss tttt'\n  \
            i: \"x\\L \\Ly\"\n  j: 'q''\u{2028}    ''r'\nkind: ConfigMap\nmetadata:\n  name: x\n  \
            namespace: ns\nspec:\n  items:\n  - k: 'm\u{2028}      n'\n";
        assert_eq!(to_yaml(&doc), want);
    }
}

#[cfg(test)]
mod complex_keys {
    use super::*;
    use serde_json::json;

    /// Keys over 128 bytes or with a line break, as kubectl v1.32.4 printed this document
    /// (`kubectl patch --local -f F -p {} --type merge -o yaml`): `? KEY` / `: VALUE`, a simple
    /// key of exactly 128 bytes; values of every shape. Found by crates/k8s/schema/heldout.py
    /// (our `'k<LS>k': v` was not YAML kubectl could read back).
    #[test]
    fn long_and_multi_line_keys_as_kubectl_prints_them() {
        let long = format!("example.com/{}", "a".repeat(120));
        let b = "b".repeat(128);
        let c = "c".repeat(129);
        let doc = json!({"apiVersion": "v1", "kind": "ConfigMap",
            "metadata": {"name": "x", "annotations": {long.clone(): "v", b.clone(): "w", c.clone(): "z"}},
            "data": {"k\u{2028}k": "v"},
            "spec": {"m": {"k\u{2028}k": {"a": "b", "c": [1, 2]}, "l\nl": ["x", "y"], "e\u{2028}": [],
                "f\u{2028}": {}, "g\u{2028}": null, "h\u{2028}": "a\u{2028}b"},
                "s": [{"k\u{2028}k": "v", "n": 1}]}});
        let want = format!(
            "apiVersion: v1\ndata:\n  ? 'k\u{2028}    k'\n  : v\nkind: ConfigMap\nmetadata:\n  \
             annotations:\n    {b}: w\n    ? {c}\n    : z\n    ? {long}\n    : v\n  name: x\nspec:\n  \
             m:\n    ? 'e\u{2028}'\n    : []\n    ? 'f\u{2028}'\n    : {{}}\n    ? 'g\u{2028}'\n    : null\n    \
             ? 'h\u{2028}'\n    : 'a\u{2028}      b'\n    ? 'k\u{2028}      k'\n    : a: b\n      c:\n      \
             - 1\n      - 2\n    ? |-\n      l\n      l\n    : - x\n      - \"y\"\n  s:\n  \
             - ? 'k\u{2028}      k'\n    : v\n    \"n\": 1\n"
        );
        assert_eq!(to_yaml(&doc), want);
    }
}

#[cfg(test)]
mod key_order_and_bom {
    use super::*;
    use serde_json::json;

    /// Map keys in go-yaml's order and a value that starts with a BOM, as kubectl v1.32.4
    /// printed this document (`kubectl patch --local -f F -p {} --type merge -o yaml`; found by
    /// crates/k8s/schema/heldout.py).
    #[test]
    fn keys_in_go_yaml_order_and_bom_escapes_as_kubectl_prints_them() {
        let doc = json!({"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "x"},
            "data": {"e": "q\u{feff}r", "f": "\u{feff}bom a", "a10": "1", "a9": "2", "a_b": "3",
                "aB": "4", "~": "5", "0": "6", "00": "7", "a01": "8", "a1": "9", "\u{e9}": "10",
                "z": "11", "A": "12"}});
        let want = "apiVersion: v1\ndata:\n  \"~\": \"5\"\n  \"0\": \"6\"\n  \"00\": \"7\"\n  A: \"12\"\n  \
            a_b: \"3\"\n  a1: \"9\"\n  a01: \"8\"\n  a9: \"2\"\n  a10: \"1\"\n  aB: \"4\"\n  \
            e: \"q\\uFEFFr\"\n  f: \"\\uFEFF\\x62\\x6F\\x6D\\x20\\x61\"\n  z: \"11\"\n  \u{e9}: \"10\"\n\
            kind: ConfigMap\nmetadata:\n  name: x\n";
        assert_eq!(to_yaml(&doc), want);
    }
}

#[cfg(test)]
mod kubectl_goldens {
    use super::*;

    /// The 70 objects of crates/k8s/tests/data/typed/kinds.json against kubectl v1.32.4's YAML
    /// of each (tests/data/kubectl-yaml/make-goldens.sh): byte for byte.
    #[test]
    fn seventy_kinds_as_kubectl_prints_them() {
        let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR"));
        let objects: Vec<Value> = serde_json::from_str(
            &std::fs::read_to_string(dir.join("../k8s/tests/data/typed/kinds.json")).unwrap(),
        )
        .unwrap();
        let golden =
            std::fs::read_to_string(dir.join("tests/data/kubectl-yaml/kinds.yaml")).unwrap();
        let docs: Vec<&str> = golden.split("---\n").collect();
        assert_eq!(docs.len(), objects.len());
        for (o, want) in objects.iter().zip(docs) {
            // kubectl leaves managedFields out of -o yaml, as `kube get` does.
            let mut o = o.clone();
            if let Some(Value::Object(m)) = o.get_mut("metadata") {
                m.remove("managedFields");
            }
            let got = to_yaml(&o);
            if got != want {
                let line = got
                    .lines()
                    .zip(want.lines())
                    .find(|(a, b)| a != b)
                    .map(|(a, b)| format!("got  {a:?}\nwant {b:?}"));
                panic!("{} {}: {line:?}", o["apiVersion"], o["kind"]);
            }
        }
    }
}
