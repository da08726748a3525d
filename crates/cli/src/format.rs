//! Output helpers shared by the reports: etcd's humanized sizes, etcd's table layout
//! (olekukonko/tablewriter v0.0.5 as etcdutl configures it), Go-style string quoting.

pub use etcdsnap_mvcc::status::humanize_bytes;

/// A table rendered the way etcdctl/etcdutl render theirs.
pub struct Table {
    headers: Vec<String>,
    rows: Vec<Vec<String>>,
    /// Columns `0..left` are left-aligned, the others right-aligned.
    left: usize,
}

impl Table {
    /// A table with these headers (upper-cased on output, as tablewriter does).
    pub fn new(headers: &[&str]) -> Table {
        Table {
            headers: headers
                .iter()
                .map(|h| h.to_uppercase().replace('_', " "))
                .collect(),
            rows: Vec::new(),
            left: 0,
        }
    }

    /// Left-aligns the cells (for text columns; etcd's own tables right-align).
    pub fn left_aligned(mut self) -> Table {
        self.left = usize::MAX;
        self
    }

    /// Left-aligns the first `n` columns (names), right-aligns the rest (numbers).
    pub fn left_columns(mut self, n: usize) -> Table {
        self.left = n;
        self
    }

    /// Adds a row.
    pub fn row(&mut self, cells: Vec<String>) {
        self.rows.push(cells);
    }

    /// Borders, centered headers, right-aligned cells.
    pub fn render_etcd(&self) -> String {
        self.render_with(&ASCII)
    }

    /// As etcd 3.7's tools draw it (olekukonko/tablewriter v1.1.4, default Blueprint renderer
    /// with the light box-drawing style): the same cells, padding and alignment as
    /// [`Table::render_etcd`], borders in `┌─┬┐ │ ├┼┤ └┴┘`.
    pub fn render_etcd37(&self) -> String {
        self.render_with(&LIGHT)
    }

    fn render_with(&self, g: &Glyphs) -> String {
        let width = |s: &str| s.chars().count();
        let widths: Vec<usize> = (0..self.headers.len())
            .map(|i| {
                self.rows
                    .iter()
                    .filter_map(|r| r.get(i))
                    .map(|c| width(c))
                    .chain(std::iter::once(width(&self.headers[i])))
                    .max()
                    .unwrap_or(0)
            })
            .collect();
        let mut s = String::new();
        let border = |s: &mut String, [l, m, r]: [char; 3]| {
            s.push(l);
            for (i, w) in widths.iter().enumerate() {
                if i > 0 {
                    s.push(m);
                }
                s.push_str(&g.row.to_string().repeat(w + 2));
            }
            s.push(r);
            s.push('\n');
        };
        border(&mut s, g.top);
        s.push(g.column);
        for (h, w) in self.headers.iter().zip(&widths) {
            let gap = w - width(h);
            let left = gap / 2;
            s.push(' ');
            s.push_str(&" ".repeat(left));
            s.push_str(h);
            s.push_str(&" ".repeat(gap - left));
            s.push(' ');
            s.push(g.column);
        }
        s.push('\n');
        border(&mut s, g.mid);
        for r in &self.rows {
            s.push(g.column);
            for (i, w) in widths.iter().enumerate() {
                let c = r.get(i).map_or("", |c| c.as_str());
                s.push(' ');
                if i < self.left {
                    s.push_str(c);
                    s.push_str(&" ".repeat(w - width(c)));
                } else {
                    s.push_str(&" ".repeat(w - width(c)));
                    s.push_str(c);
                }
                s.push(' ');
                s.push(g.column);
            }
            s.push('\n');
        }
        if !self.rows.is_empty() {
            border(&mut s, g.bottom);
        }
        s
    }
}

/// The characters a table is drawn with.
struct Glyphs {
    row: char,
    column: char,
    top: [char; 3],
    mid: [char; 3],
    bottom: [char; 3],
}

/// tablewriter v0.0.5 (etcd 3.4-3.6).
const ASCII: Glyphs = Glyphs {
    row: '-',
    column: '|',
    top: ['+', '+', '+'],
    mid: ['+', '+', '+'],
    bottom: ['+', '+', '+'],
};

/// tablewriter v1.1.4 `StyleLight` (etcd 3.7), `tw/symbols.go`.
const LIGHT: Glyphs = Glyphs {
    row: '─',
    column: '│',
    top: ['┌', '┬', '┐'],
    mid: ['├', '┼', '┤'],
    bottom: ['└', '┴', '┘'],
};

/// Go's `%q` of `string(b)` as etcdctl 3.5.1 (built with Go 1.16) prints it: `\a \b \f \n
/// \r \t \v \\ \"`, other controls below 0x20 as `\xNN`, invalid UTF-8 bytes as `\xNN`,
/// printable runes as themselves, other runes as `\uXXXX` / `\UXXXXXXXX` (so DEL is `\u007f`).
pub fn go_quote(b: &[u8]) -> String {
    let mut s = String::with_capacity(b.len() + 2);
    s.push('"');
    for chunk in b.utf8_chunks() {
        for c in chunk.valid().chars() {
            match c {
                '\x07' => s.push_str("\\a"),
                '\x08' => s.push_str("\\b"),
                '\x0c' => s.push_str("\\f"),
                '\n' => s.push_str("\\n"),
                '\r' => s.push_str("\\r"),
                '\t' => s.push_str("\\t"),
                '\x0b' => s.push_str("\\v"),
                '\\' => s.push_str("\\\\"),
                '"' => s.push_str("\\\""),
                c if (c as u32) < 0x20 => s.push_str(&format!("\\x{:02x}", c as u32)),
                c if go_is_print(c) => s.push(c),
                c if (c as u32) < 0x10000 => s.push_str(&format!("\\u{:04x}", c as u32)),
                c => s.push_str(&format!("\\U{:08x}", c as u32)),
            }
        }
        for byte in chunk.invalid() {
            s.push_str(&format!("\\x{byte:02x}"));
        }
    }
    s.push('"');
    s
}

/// Go's `unicode.IsPrint`: letters, marks, numbers, punctuation, symbols and U+0020. Without
/// Unicode tables we exclude what is not printable by category (controls, format characters,
/// separators other than the space, private use, surrogates, noncharacters); unassigned code
/// points, which Go escapes, are printed as themselves.
pub fn go_is_print(c: char) -> bool {
    let u = c as u32;
    if u < 0x7f {
        return u >= 0x20;
    }
    !matches!(u,
        0x7f..=0xa0
        | 0xad
        | 0x600..=0x605
        | 0x61c
        | 0x6dd
        | 0x70f
        | 0x890..=0x891
        | 0x8e2
        | 0x1680
        | 0x180e
        | 0x2000..=0x200f
        | 0x2028..=0x202f
        | 0x205f..=0x2064
        | 0x2066..=0x206f
        | 0x3000
        | 0xd800..=0xf8ff
        | 0xfdd0..=0xfdef
        | 0xfeff
        | 0xfff9..=0xfffb
        | 0x110bd
        | 0x110cd
        | 0x13430..=0x1343f
        | 0x1bca0..=0x1bca3
        | 0x1d173..=0x1d17a
        | 0xe0001
        | 0xe0020..=0xe007f
        | 0xf0000..=0x10ffff
    ) && (u & 0xfffe) != 0xfffe
}

/// Standard base64 with padding, as Go's encoding/json prints `[]byte`.
pub fn b64(b: &[u8]) -> String {
    use base64::Engine as _;
    base64::engine::general_purpose::STANDARD.encode(b)
}

/// A compaction revision for a human: etcd keeps -1 (or 0) when the store was never
/// compacted; people read "none". JSON keeps etcd's number.
pub fn compaction(rev: i64) -> String {
    if rev > 0 {
        rev.to_string()
    } else {
        "none".to_string()
    }
}

/// A key for a human: as is when it is printable UTF-8, else Go-quoted.
pub fn readable(b: &[u8]) -> String {
    match std::str::from_utf8(b) {
        Ok(s) if !s.is_empty() && s.chars().all(go_is_print) => s.to_string(),
        _ => go_quote(b),
    }
}

#[cfg(test)]
mod tests {
    use super::{go_quote, humanize_bytes};

    #[test]
    fn quote_like_etcdctl_351() {
        // What etcdctl 3.5.1 printed for these values with -w fields.
        assert_eq!(
            go_quote(b"\x01\x7f\xc3\xa9\xff\t\n"),
            r#""\x01\u007fé\xff\t\n""#
        );
        assert_eq!(
            go_quote("\u{a0}\u{200b}\u{fffd}\u{1f600}".as_bytes()),
            "\"\\u00a0\\u200b\u{fffd}\u{1f600}\""
        );
        assert_eq!(go_quote(b"x\"y\\"), r#""x\"y\\""#);
        assert_eq!(go_quote(b""), r#""""#);
    }

    #[test]
    fn tables_like_tablewriter_v1_1_4() {
        // olekukonko/tablewriter v1.1.4 tests/basic_test.go TestBasicTableDefault (rows
        // left-aligned, its default) and TestBasicTableASCII: the same layout in both glyph sets.
        let mut t = super::Table::new(&["Name", "Age", "City"]).left_aligned();
        t.row(vec!["Alice".into(), "25".into(), "New York".into()]);
        t.row(vec!["Bob".into(), "30".into(), "Boston".into()]);
        assert_eq!(
            t.render_etcd37(),
            "┌───────┬─────┬──────────┐\n\
             │ NAME  │ AGE │   CITY   │\n\
             ├───────┼─────┼──────────┤\n\
             │ Alice │ 25  │ New York │\n\
             │ Bob   │ 30  │ Boston   │\n\
             └───────┴─────┴──────────┘\n"
        );
        assert_eq!(
            t.render_etcd(),
            "+-------+-----+----------+\n\
             | NAME  | AGE |   CITY   |\n\
             +-------+-----+----------+\n\
             | Alice | 25  | New York |\n\
             | Bob   | 30  | Boston   |\n\
             +-------+-----+----------+\n"
        );
    }

    #[test]
    fn humanize_like_go() {
        for (n, s) in [
            (0, "0 B"),
            (9, "9 B"),
            (4096, "4.1 kB"),
            (12288, "12 kB"),
            (20480, "20 kB"),
            (24576, "25 kB"),
            (32768, "33 kB"),
            (999_999, "1000 kB"),
            (1_000_000, "1.0 MB"),
            (2_097_152, "2.1 MB"),
            (1_073_741_824, "1.1 GB"),
            (4_329_472, "4.3 MB"),
        ] {
            assert_eq!(humanize_bytes(n), s, "{n}");
        }
    }
}
