//! YAML written byte for byte as `kubectl get -o yaml` writes it, as a [`Sink`].
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
//!
//! It is a streaming [`Sink`] so that the typed renderer writes YAML straight from the wire:
//! whether a mapping or sequence is empty (`{}`/`[]` on the key's line) is only known at its
//! end, so a container's opening line break is written when its first member arrives.

use serde_json::{Number, Value};

use crate::sink::{Sink, emit_value};

/// go-yaml's `best_width`.
const WIDTH: usize = 80;

/// The YAML of a JSON value as kubectl prints it (ends with a newline).
pub fn to_yaml(v: &Value) -> String {
    let mut buf = Vec::with_capacity(4096);
    emit_value(&mut Yaml::new(&mut buf), v);
    // Only UTF-8 text and ASCII are ever written.
    String::from_utf8(buf).unwrap_or_else(|e| String::from_utf8_lossy(e.as_bytes()).into_owned())
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
pub fn go_yaml_key_order(a: &str, b: &str) -> std::cmp::Ordering {
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

/// Where the next value goes.
#[derive(Debug, Clone, Copy)]
enum Pos {
    /// The document itself.
    Top,
    /// After `key:` of a mapping at `indent`; `col` is the column after the colon.
    Key { indent: usize, col: usize },
    /// After `- ` of a sequence at `indent`.
    Item { indent: usize },
}

#[derive(Debug)]
struct Frame {
    map: bool,
    indent: usize,
    count: usize,
    from: Pos,
}

/// kubectl's YAML as a [`Sink`]: one document (ends with a newline).
#[derive(Debug)]
pub struct Yaml<'b> {
    out: &'b mut Vec<u8>,
    stack: Vec<Frame>,
    pos: Pos,
}

fn spaces(out: &mut Vec<u8>, n: usize) {
    const SPACES: &[u8] = &[b' '; 128];
    let mut n = n;
    while n > 0 {
        let k = n.min(SPACES.len());
        out.extend_from_slice(&SPACES[..k]);
        n -= k;
    }
}

impl<'b> Yaml<'b> {
    /// Writes one document into `out`.
    pub fn new(out: &'b mut Vec<u8>) -> Self {
        Self {
            out,
            stack: Vec::with_capacity(32),
            pos: Pos::Top,
        }
    }

    /// A container's first member: the line break after `key:` when it hangs off a key.
    fn open(out: &mut Vec<u8>, f: &Frame) {
        if let Pos::Key { .. } = f.from {
            out.push(b'\n');
            spaces(out, f.indent);
        }
    }

    /// Before any value: inside a sequence, its `- `.
    #[inline]
    fn start_item(&mut self) {
        match self.stack.last_mut() {
            Some(f) if !f.map => {
                if f.count == 0 {
                    Self::open(self.out, f);
                } else {
                    spaces(self.out, f.indent);
                }
                f.count += 1;
                self.out.extend_from_slice(b"- ");
                self.pos = Pos::Item { indent: f.indent };
            }
            Some(_) => {}
            None => self.pos = Pos::Top,
        }
    }

    /// Where a scalar at `pos` starts: (indent for continuation lines, column).
    fn scalar_start(&mut self, pos: Pos) -> (usize, usize) {
        match pos {
            Pos::Top => (0, 0),
            Pos::Key { indent, col } => {
                self.out.push(b' ');
                (indent + 2, col + 1)
            }
            Pos::Item { indent } => (indent + 2, indent + 2),
        }
    }

    fn text(&mut self, t: &[u8]) {
        self.start_item();
        let _ = self.scalar_start(self.pos);
        self.out.extend_from_slice(t);
        self.out.push(b'\n');
    }

    fn begin(&mut self, map: bool) {
        self.start_item();
        let from = self.pos;
        let indent = match from {
            Pos::Top => 0,
            Pos::Key { indent, .. } if map => indent + 2,
            Pos::Key { indent, .. } => indent,
            Pos::Item { indent } => indent + 2,
        };
        self.stack.push(Frame {
            map,
            indent,
            count: 0,
            from,
        });
    }

    fn end(&mut self) {
        if let Some(f) = self.stack.pop()
            && f.count == 0
        {
            // An empty collection is a scalar where it was opened.
            let _ = self.scalar_start(f.from);
            self.out
                .extend_from_slice(if f.map { b"{}\n" } else { b"[]\n" });
        }
    }
}

impl Sink for Yaml<'_> {
    fn go_yaml_key_order(&self) -> bool {
        true
    }
    fn begin_object(&mut self) {
        self.begin(true);
    }
    fn key(&mut self, k: &str) {
        let Some(f) = self.stack.last_mut() else {
            return;
        };
        if f.count == 0 {
            Self::open(self.out, f);
        } else {
            spaces(self.out, f.indent);
        }
        f.count += 1;
        let indent = f.indent;
        // libyaml's check_simple_key: a key over 128 bytes or with a line break is written as
        // a complex key, `? KEY` and `: VALUE` on the next line (the value placed as a
        // sequence item's: at indent + 2).
        if k.len() > 128 || k.chars().any(is_break) {
            self.out.extend_from_slice(b"? ");
            let mut col = indent + 2;
            write_string(self.out, k, indent + 2, &mut col, false);
            self.out.push(b'\n');
            spaces(self.out, indent);
            self.out.extend_from_slice(b": ");
            self.pos = Pos::Item { indent };
            return;
        }
        let mut col = indent;
        write_string(self.out, k, indent, &mut col, true);
        self.out.push(b':');
        self.pos = Pos::Key {
            indent,
            col: col + 1,
        };
    }
    fn end_object(&mut self) {
        self.end();
    }
    fn begin_array(&mut self) {
        self.begin(false);
    }
    fn end_array(&mut self) {
        self.end();
    }
    fn null(&mut self) {
        self.text(b"null");
    }
    fn bool(&mut self, b: bool) {
        self.text(if b { b"true" } else { b"false" });
    }
    fn i64(&mut self, v: i64) {
        self.text(itoa::Buffer::new().format(v).as_bytes());
    }
    fn u64(&mut self, v: u64) {
        self.text(itoa::Buffer::new().format(v).as_bytes());
    }
    fn number(&mut self, n: &Number) {
        self.text(n.to_string().as_bytes());
    }
    fn string(&mut self, s: &str) {
        self.start_item();
        let (indent, mut col) = self.scalar_start(self.pos);
        write_string(self.out, s, indent, &mut col, false);
        self.out.push(b'\n');
    }
}

/// Plain words go-yaml would read back as another type.
const WORDS: &[&str] = &[
    "y", "Y", "yes", "Yes", "YES", "n", "N", "no", "No", "NO", "true", "True", "TRUE", "false",
    "False", "FALSE", "on", "On", "ON", "off", "Off", "OFF", "~", "null", "Null", "NULL", "",
    ".inf", ".Inf", ".INF", "+.inf", "+.Inf", "+.INF", "-.inf", "-.Inf", "-.INF", ".nan", ".NaN",
    ".NAN", "<<",
];

fn put(out: &mut Vec<u8>, c: char, col: &mut usize) {
    let mut b = [0u8; 4];
    out.extend_from_slice(c.encode_utf8(&mut b).as_bytes());
    *col += 1;
}

fn newline_indent(out: &mut Vec<u8>, indent: usize, col: &mut usize) {
    out.push(b'\n');
    spaces(out, indent);
    *col = indent;
}

/// A string at column `*col`; `indent` is where folded lines and block content continue.
fn write_string(out: &mut Vec<u8>, s: &str, indent: usize, col: &mut usize, simple_key: bool) {
    // Most strings (names, images, labels, base64) are a letter or digit, then letters,
    // digits and `-./_+=`: plain (no indicator, nothing to escape), never folded (no space),
    // unless go-yaml would read them back as another type (then quoted, below).
    let b = s.as_bytes();
    if b.first().is_some_and(u8::is_ascii_alphanumeric)
        && b.iter().all(|c| {
            c.is_ascii_alphanumeric() || matches!(c, b'-' | b'.' | b'/' | b'_' | b'+' | b'=')
        })
        && !resolves_to_non_string(s)
    {
        out.extend_from_slice(b);
        *col += b.len();
        return;
    }
    write_styled(out, s, indent, col, simple_key);
}

/// [`write_string`] by go-yaml's full analysis.
fn write_styled(out: &mut Vec<u8>, s: &str, indent: usize, col: &mut usize, simple_key: bool) {
    let allow_breaks = !simple_key;
    let chars: Vec<char> = s.chars().collect();
    match style(s, simple_key) {
        Style::Plain => {
            let mut spaces = false;
            for (i, &c) in chars.iter().enumerate() {
                if is_space(c) {
                    let next_space = chars.get(i + 1).is_some_and(|&n| is_space(n));
                    if allow_breaks && !spaces && *col > WIDTH && !next_space {
                        newline_indent(out, indent, col);
                    } else {
                        put(out, c, col);
                    }
                    spaces = true;
                } else {
                    put(out, c, col);
                    spaces = false;
                }
            }
        }
        Style::Single => {
            put(out, '\'', col);
            let mut spaces = false;
            // After a line break (U+2028, U+2029: printable, so single-quoted text may hold
            // them) go-yaml writes the break itself, the column restarts at 0, and the next
            // character is indented to the scalar's indent (`'a<LS>    b'`); none is added
            // before the closing quote.
            let mut breaks = false;
            for (i, &c) in chars.iter().enumerate() {
                if is_break(c) {
                    if !breaks && c == '\n' {
                        out.push(b'\n');
                    }
                    let mut b = [0u8; 4];
                    out.extend_from_slice(c.encode_utf8(&mut b).as_bytes());
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
                        newline_indent(out, indent, col);
                    } else {
                        put(out, c, col);
                    }
                    spaces = true;
                } else {
                    if breaks {
                        if *col > indent {
                            newline_indent(out, indent, col);
                        } else {
                            while *col < indent {
                                put(out, ' ', col);
                            }
                        }
                    }
                    if c == '\'' {
                        put(out, '\'', col);
                    }
                    put(out, c, col);
                    spaces = false;
                    breaks = false;
                }
            }
            put(out, '\'', col);
        }
        Style::Double => {
            put(out, '"', col);
            let mut spaces = false;
            // go-yaml's is_bom looks at the scalar's first character whatever the position:
            // text that starts with U+FEFF has every character escaped (`"\uFEFF\x62"`).
            let bom = chars.first() == Some(&'\u{FEFF}');
            for (i, &c) in chars.iter().enumerate() {
                let u = c as u32;
                if bom || !is_printable(c) || u == 0xFEFF || is_break(c) || c == '"' || c == '\\' {
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
                    put(out, '\\', col);
                    for e in esc.chars() {
                        put(out, e, col);
                    }
                    spaces = false;
                } else if is_space(c) {
                    if allow_breaks && !spaces && *col > WIDTH && i != 0 && i != chars.len() - 1 {
                        newline_indent(out, indent, col);
                        if chars.get(i + 1).is_some_and(|&n| is_space(n)) {
                            put(out, '\\', col);
                        }
                    } else {
                        put(out, c, col);
                    }
                    spaces = true;
                } else {
                    put(out, c, col);
                    spaces = false;
                }
            }
            put(out, '"', col);
        }
        Style::Literal => {
            out.push(b'|');
            if chars.first().is_some_and(|&c| is_space(c) || is_break(c)) {
                out.push(b'2');
            }
            let last_break = chars.last().is_some_and(|&c| is_break(c));
            if !last_break {
                out.push(b'-');
            } else if chars.len() == 1 || chars.get(chars.len() - 2).is_some_and(|&c| is_break(c)) {
                out.push(b'+');
            }
            out.push(b'\n');
            let mut at_line_start = true;
            for &c in &chars {
                if is_break(c) {
                    // go-yaml writes U+2028/U+2029 as themselves, `\n` as a line break.
                    let mut b = [0u8; 4];
                    out.extend_from_slice(c.encode_utf8(&mut b).as_bytes());
                    at_line_start = true;
                } else {
                    if at_line_start {
                        spaces(out, indent);
                    }
                    let mut b = [0u8; 4];
                    out.extend_from_slice(c.encode_utf8(&mut b).as_bytes());
                    at_line_start = false;
                }
            }
            // The caller ends the line; a block that ended with its break already did.
            if let (true, Some(c)) = (last_break, chars.last()) {
                out.truncate(out.len().saturating_sub(c.len_utf8()));
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The shortcut for plain strings writes what the full analysis writes.
    #[test]
    fn plain_shortcut_agrees_with_the_analysis() {
        let mut x: u64 = 0x9e37_79b9_7f4a_7c15;
        let alphabet = b"abcXYZ0123456789-./_+=";
        let mut cases: Vec<String> = [
            "0777",
            "123",
            "1e3",
            "1_000",
            "123abc",
            "y",
            "Yes",
            "null",
            "2025-01-01",
            "1:20",
            "0x1F",
            "0b101",
            "1.5",
            "a+b=c",
            "web-1",
            "NaN",
            "inf",
            "8080",
            "e3",
        ]
        .map(str::to_owned)
        .to_vec();
        for _ in 0..2000 {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            let len = 1 + (x % 12) as usize;
            cases.push(
                (0..len)
                    .map(|i| alphabet[((x >> (i * 5)) % alphabet.len() as u64) as usize] as char)
                    .collect(),
            );
        }
        for s in &cases {
            for key in [false, true] {
                let (mut fast, mut slow) = (Vec::new(), Vec::new());
                let (mut c1, mut c2) = (7, 7);
                write_string(&mut fast, s, 2, &mut c1, key);
                write_styled(&mut slow, s, 2, &mut c2, key);
                assert_eq!((fast, c1), (slow, c2), "{s:?}");
            }
        }
    }
}
