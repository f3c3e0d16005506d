//! A loss histogram with the VaR and ES marked: contiguous bars on a money
//! axis under the shared title and count axis, the measures as vertical
//! lines (VaR dashed, ES solid) named in the legend, so the chart reads in
//! greyscale and in print.

use std::fmt::Write as _;

use super::{
    axes, escape, open, tick_label, tick_step, Series, BOTTOM, HEIGHT, LEFT, RIGHT, TOP, WIDTH,
};

/// Scenarios counted in `[from, to)`.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Bar {
    pub from: f64,
    pub to: f64,
    pub count: u64,
}

/// A vertical line at `at`, named in the legend.
#[derive(Debug, Clone)]
pub struct Marker {
    pub name: String,
    pub at: f64,
    /// SVG `stroke-dasharray` ("none" for solid).
    pub dash: &'static str,
}

#[derive(Debug, Clone)]
pub struct Histogram {
    pub title: String,
    /// The loss axis label, with its unit.
    pub axis_label: String,
    /// Losses are divided by this before plotting (1e6 for millions).
    pub scale: f64,
    pub bars: Vec<Bar>,
    pub markers: Vec<Marker>,
}

impl Histogram {
    /// The chart as an inline `<svg>` element.
    pub fn to_svg(&self) -> String {
        let counts = Series {
            name: "scenarios".into(),
            values: self.bars.iter().map(|b| b.count as f64).collect(),
        };
        let (mut svg, axis) = open(&self.title, "scenarios", &[counts], 1.0);
        let scaled = |v: f64| v / self.scale;
        let (low, high) = self
            .bars
            .iter()
            .flat_map(|b| [b.from, b.to])
            .chain(self.markers.iter().map(|m| m.at))
            .map(scaled)
            .fold((f64::INFINITY, f64::NEG_INFINITY), |(lo, hi), v| {
                (lo.min(v), hi.max(v))
            });
        let (low, high) = if low.is_finite() {
            (low, high)
        } else {
            (0.0, 1.0)
        };
        let step = tick_step(high - low);
        let x_low = (low / step).floor() * step;
        let x_high = ((high / step).ceil() * step).max(x_low + step);
        let x = |v: f64| LEFT + (WIDTH - LEFT - RIGHT) * (v - x_low) / (x_high - x_low);
        let bottom = HEIGHT - BOTTOM;
        for i in 0..=((x_high - x_low) / step).round() as usize {
            let v = x_low + step * i as f64;
            let _ = write!(
                svg,
                r#"<text x="{x:.1}" y="{ty}" text-anchor="middle">{label}</text>"#,
                x = x(v),
                ty = bottom + 16.0,
                label = tick_label(v, step)
            );
        }
        for bar in &self.bars {
            let (left, right) = (x(scaled(bar.from)), x(scaled(bar.to)));
            let top = axis.y(bar.count as f64);
            let _ = write!(
                svg,
                r##"<rect x="{left:.1}" y="{top:.1}" width="{w:.1}" height="{h:.1}" fill="#bbbbbb" stroke="#555555" stroke-width="0.4"><title>{count} scenarios from {from} to {to}</title></rect>"##,
                w = (right - left).max(0.5),
                h = bottom - top,
                count = bar.count,
                from = crate::report::money(bar.from),
                to = crate::report::money(bar.to),
            );
        }
        let mut legend_x = LEFT;
        for marker in &self.markers {
            let mx = x(scaled(marker.at));
            let _ = write!(
                svg,
                r##"<line x1="{mx:.1}" x2="{mx:.1}" y1="{TOP}" y2="{bottom}" stroke="#000000" stroke-width="1.6" stroke-dasharray="{dash}"><title>{name}: {value}</title></line><line x1="{legend_x:.1}" x2="{lx2:.1}" y1="36" y2="36" stroke="#000000" stroke-width="1.6" stroke-dasharray="{dash}"/><text x="{tx:.1}" y="40">{name}</text>"##,
                dash = marker.dash,
                name = escape(&marker.name),
                value = crate::report::money(marker.at),
                lx2 = legend_x + 22.0,
                tx = legend_x + 26.0,
            );
            legend_x += 40.0 + 6.5 * marker.name.chars().count() as f64;
        }
        axes(&mut svg, axis.y(0.0));
        let _ = write!(
            svg,
            r#"<text x="{cx}" y="{ly}" text-anchor="middle">{label}</text></svg>"#,
            cx = (LEFT + WIDTH - RIGHT) / 2.0,
            ly = HEIGHT - 24.0,
            label = escape(&self.axis_label),
        );
        svg
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn chart() -> Histogram {
        Histogram {
            title: "Losses of <CM1>".into(),
            axis_label: "loss, USD millions".into(),
            scale: 1e6,
            bars: vec![
                Bar {
                    from: -10e6,
                    to: 0.0,
                    count: 30,
                },
                Bar {
                    from: 0.0,
                    to: 10e6,
                    count: 60,
                },
                Bar {
                    from: 10e6,
                    to: 20e6,
                    count: 10,
                },
            ],
            markers: vec![
                Marker {
                    name: "VaR 99%".into(),
                    at: 12e6,
                    dash: "6 4",
                },
                Marker {
                    name: "ES 99%".into(),
                    at: 16e6,
                    dash: "none",
                },
            ],
        }
    }

    #[test]
    fn bars_sit_side_by_side_on_the_loss_axis_with_heights_by_count() {
        let svg = chart().to_svg();
        // The axis runs -10..20 over the 620 px plot from x = 80: a bar of
        // 10 is 206.7 px wide; the tallest (60 scenarios, the count axis to
        // 60) fills the 254 px plot height.
        assert_eq!(svg.matches("<rect").count(), 3);
        for rect in [
            r#"<rect x="80.0" y="183.0" width="206.7" height="127.0""#,
            r#"<rect x="286.7" y="56.0" width="206.7" height="254.0""#,
        ] {
            assert!(svg.contains(rect), "{rect} not in {svg}");
        }
    }

    #[test]
    fn the_measures_are_lines_at_their_values_named_in_the_legend() {
        let svg = chart().to_svg();
        // 12 on the -10..20 axis: 80 + 620 x 22/30.
        assert!(svg.contains(r#"x1="534.7" x2="534.7""#), "{svg}");
        assert!(svg.contains(r#"stroke-dasharray="6 4""#));
        assert!(svg.contains(r#"stroke-dasharray="none""#));
        for text in [
            "VaR 99%",
            "ES 99%",
            "loss, USD millions",
            "scenarios",
            "Losses of &lt;CM1&gt;",
            ">-10<",
            ">20<",
            ">60<",
        ] {
            assert!(svg.contains(text), "{text} not in {svg}");
        }
        assert!(!svg.contains("NaN") && !svg.contains("inf"));
    }

    #[test]
    fn an_empty_histogram_still_draws_its_axes() {
        let svg = Histogram {
            bars: vec![],
            markers: vec![],
            ..chart()
        }
        .to_svg();
        assert!(svg.starts_with("<svg") && svg.ends_with("</svg>"));
        assert!(!svg.contains("NaN") && !svg.contains("inf"));
    }
}
