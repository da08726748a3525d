//! Output helpers shared by the reports: etcd's humanized sizes, etcd's table layout
//! (olekukonko/tablewriter v0.0.5 as etcdutl configures it), Go-style string quoting.

/// go-humanize `Bytes` (SI units), as etcd prints sizes: `4.3 MB`, `20 kB`, `9 B`.
pub fn humanize_bytes(n: u64) -> String {
    const UNITS: [&str; 7] = ["B", "kB", "MB", "GB", "TB", "PB", "EB"];
    if n < 10 {
        return format!("{n} B");
    }
    let e = ((n as f64).ln() / 1000f64.ln()).floor() as i32;
    let unit = UNITS[e.clamp(0, 6) as usize];
    let k = ((n as f64 / 1000f64.powi(e)) * 10.0 + 0.5).floor() as u64;
    if k < 100 {
        format!("{}.{} {unit}", k / 10, k % 10)
    } else {
        // Go's %.0f of k/10: round half to even.
        let (q, r) = (k / 10, k % 10);
        let v = if r > 5 || (r == 5 && q % 2 == 1) {
            q + 1
        } else {
            q
        };
        format!("{v} {unit}")
    }
}

/// A table rendered the way etcdctl/etcdutl render theirs.
pub struct Table {
    headers: Vec<String>,
    rows: Vec<Vec<String>>,
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
        }
    }

    /// Adds a row.
    pub fn row(&mut self, cells: Vec<String>) {
        self.rows.push(cells);
    }

    /// Borders, centered headers, right-aligned cells.
    pub fn render_etcd(&self) -> String {
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
        let border = |s: &mut String| {
            s.push('+');
            for w in &widths {
                s.push_str(&"-".repeat(w + 2));
                s.push('+');
            }
            s.push('\n');
        };
        border(&mut s);
        s.push('|');
        for (h, w) in self.headers.iter().zip(&widths) {
            let gap = w - width(h);
            let left = gap / 2;
            s.push(' ');
            s.push_str(&" ".repeat(left));
            s.push_str(h);
            s.push_str(&" ".repeat(gap - left));
            s.push_str(" |");
        }
        s.push('\n');
        border(&mut s);
        for r in &self.rows {
            s.push('|');
            for (i, w) in widths.iter().enumerate() {
                let c = r.get(i).map_or("", |c| c.as_str());
                s.push(' ');
                s.push_str(&" ".repeat(w - width(c)));
                s.push_str(c);
                s.push_str(" |");
            }
            s.push('\n');
        }
        if !self.rows.is_empty() {
            border(&mut s);
        }
        s
    }
}

#[cfg(test)]
mod tests {
    use super::humanize_bytes;

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
