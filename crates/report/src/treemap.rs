//! A squarified treemap layout (Bruls, Huizing, van Wijk, 2000): rectangles whose areas are
//! proportional to the values, laid out in rows along the shorter side of what is left, each
//! row grown while that keeps its rectangles closer to squares. Small and dependency-free;
//! the page nests it (resources, then namespaces inside each resource).

/// A rectangle: top-left corner, width, height.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Rect {
    /// Left.
    pub x: f64,
    /// Top.
    pub y: f64,
    /// Width.
    pub w: f64,
    /// Height.
    pub h: f64,
}

impl Rect {
    /// Area.
    pub fn area(&self) -> f64 {
        self.w * self.h
    }

    /// The rectangle shrunk by `d` on every side (never below zero size).
    pub fn inset(&self, d: f64) -> Rect {
        let dx = d.min(self.w / 2.0);
        let dy = d.min(self.h / 2.0);
        Rect {
            x: self.x + dx,
            y: self.y + dy,
            w: self.w - 2.0 * dx,
            h: self.h - 2.0 * dy,
        }
    }
}

/// The worst aspect ratio in a row of `areas` laid along a side of length `side`.
fn worst(sum: f64, min: f64, max: f64, side: f64) -> f64 {
    let s2 = sum * sum;
    let w2 = side * side;
    (w2 * max / s2).max(s2 / (w2 * min))
}

/// Lays `values` out in `bounds`: one rectangle per value, in the same order, area in
/// proportion to the value. Values should be sorted largest first (the layout is best then);
/// zero, negative or non-finite values get an empty rectangle at the corner.
pub fn squarify(values: &[f64], bounds: Rect) -> Vec<Rect> {
    let empty = Rect {
        x: bounds.x,
        y: bounds.y,
        w: 0.0,
        h: 0.0,
    };
    let mut out = vec![empty; values.len()];
    let live: Vec<usize> = (0..values.len())
        .filter(|&i| values[i].is_finite() && values[i] > 0.0)
        .collect();
    let total: f64 = live.iter().map(|&i| values[i]).sum();
    if total <= 0.0 || bounds.w <= 0.0 || bounds.h <= 0.0 {
        return out;
    }
    let scale = bounds.area() / total;
    let mut r = bounds;
    let mut i = 0;
    while i < live.len() {
        let side = r.w.min(r.h);
        let a0 = values[live[i]] * scale;
        let (mut sum, mut min, mut max) = (a0, a0, a0);
        let mut best = worst(sum, min, max, side);
        let mut j = i + 1;
        while j < live.len() {
            let a = values[live[j]] * scale;
            let next = worst(sum + a, min.min(a), max.max(a), side);
            if next > best {
                break;
            }
            (sum, min, max, best) = (sum + a, min.min(a), max.max(a), next);
            j += 1;
        }
        let last = j == live.len();
        if r.w >= r.h {
            // A column at the left of what is left.
            let cw = if last { r.w } else { (sum / r.h).min(r.w) };
            let mut y = r.y;
            for &k in &live[i..j] {
                let h = values[k] * scale / cw;
                out[k] = Rect {
                    x: r.x,
                    y,
                    w: cw,
                    h,
                };
                y += h;
            }
            r.x += cw;
            r.w -= cw;
        } else {
            // A row at the top of what is left.
            let rh = if last { r.h } else { (sum / r.w).min(r.h) };
            let mut x = r.x;
            for &k in &live[i..j] {
                let w = values[k] * scale / rh;
                out[k] = Rect {
                    x,
                    y: r.y,
                    w,
                    h: rh,
                };
                x += w;
            }
            r.y += rh;
            r.h -= rh;
        }
        i = j;
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    const B: Rect = Rect {
        x: 0.0,
        y: 0.0,
        w: 600.0,
        h: 400.0,
    };

    #[test]
    fn the_paper_example_is_square_enough() {
        // Bruls et al.'s example: 6, 6, 4, 3, 2, 2, 1 in a 6x4 rectangle.
        let v = [6.0, 6.0, 4.0, 3.0, 2.0, 2.0, 1.0];
        let r = squarify(
            &v,
            Rect {
                x: 0.0,
                y: 0.0,
                w: 6.0,
                h: 4.0,
            },
        );
        for (rect, v) in r.iter().zip(v) {
            assert!((rect.area() - v).abs() < 1e-9, "{rect:?} for {v}");
        }
        let worst = r
            .iter()
            .map(|r| (r.w / r.h).max(r.h / r.w))
            .fold(0.0, f64::max);
        assert!(worst < 3.0, "worst aspect {worst}");
    }

    proptest! {
        #[test]
        fn areas_are_proportional_and_inside(v in proptest::collection::vec(0.0f64..1e9, 0..60)) {
            let mut v = v;
            v.sort_by(|a, b| b.total_cmp(a));
            let total: f64 = v.iter().sum();
            let rects = squarify(&v, B);
            prop_assert_eq!(rects.len(), v.len());
            let mut covered = 0.0;
            for (r, x) in rects.iter().zip(&v) {
                if total > 0.0 {
                    let want = x / total * B.area();
                    prop_assert!((r.area() - want).abs() <= 1e-6 * B.area().max(want), "{:?} {}", r, want);
                }
                prop_assert!(r.x >= -1e-6 && r.y >= -1e-6);
                prop_assert!(r.x + r.w <= B.w + 1e-6 && r.y + r.h <= B.h + 1e-6, "{:?}", r);
                covered += r.area();
            }
            if total > 0.0 {
                prop_assert!((covered - B.area()).abs() < 1e-6 * B.area());
            }
            // No two rectangles overlap.
            for (i, a) in rects.iter().enumerate() {
                for b in &rects[i + 1..] {
                    let ox = (a.x + a.w).min(b.x + b.w) - a.x.max(b.x);
                    let oy = (a.y + a.h).min(b.y + b.h) - a.y.max(b.y);
                    prop_assert!(ox <= 1e-6 || oy <= 1e-6, "{:?} overlaps {:?}", a, b);
                }
            }
        }
    }
}
