//! A loss histogram with the VaR and ES marked: contiguous bars on a money
//! axis, the measures as vertical lines (VaR dashed, ES solid) named in the
//! legend, so the chart reads in greyscale and in print.

use std::fmt::Write as _;

use super::escape;
use super::svg::{tick_label, tick_step};

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
    /// SVG `stroke-dasharray` ("" for solid).
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

const WIDTH: f64 = 720.0;
const HEIGHT: f64 = 360.0;
const LEFT: f64 = 70.0;
const RIGHT: f64 = 20.0;
const TOP: f64 = 56.0;
const BOTTOM: f64 = 50.0;

impl Histogram {
    /// The chart as an inline `<svg>` element.
    pub fn to_svg(&self) -> String {
        let scaled = |v: f64| v / self.scale;
        let ends = self
            .bars
            .iter()
            .flat_map(|b| [b.from, b.to])
            .chain(self.markers.iter().map(|m| m.at))
            .map(scaled);
        let (low, high) = ends.fold((f64::INFINITY, f64::NEG_INFINITY), |(lo, hi), v| {
            (lo.min(v), hi.max(v))
        });
        let (low, high) = if low.is_finite() {
            (low, high)
        } else {
            (0.0, 1.0)
        };
        let x_step = tick_step(high - low);
        let (x_low, x_high) = (
            (low / x_step).floor() * x_step,
            ((high / x_step).ceil() * x_step).max((low / x_step).floor() * x_step + x_step),
        );
        let most = self.bars.iter().map(|b| b.count).max().unwrap_or(0) as f64;
        let y_step = tick_step(most).max(1.0);
        let y_high = ((most / y_step).ceil() * y_step).max(y_step);
        let (plot_w, plot_h) = (WIDTH - LEFT - RIGHT, HEIGHT - TOP - BOTTOM);
        let x = |v: f64| LEFT + plot_w * (v - x_low) / (x_high - x_low);
        let y = |c: f64| TOP + plot_h * (1.0 - c / y_high);
        let mut svg = String::new();
        let _ = write!(
            svg,
            r#"<svg viewBox="0 0 {WIDTH} {HEIGHT}" width="100%" role="img" aria-label="{title}" font-family="sans-serif" font-size="11"><text x="{cx}" y="18" text-anchor="middle" font-size="14" font-weight="bold">{title}</text>"#,
            title = escape(&self.title),
            cx = WIDTH / 2.0
        );
        for i in 0..=((y_high / y_step).round() as usize) {
            let c = y_step * i as f64;
            let _ = write!(
                svg,
                r##"<line x1="{LEFT}" x2="{x2}" y1="{y:.1}" y2="{y:.1}" stroke="#dddddd"/><text x="{tx}" y="{ty:.1}" text-anchor="end">{label}</text>"##,
                x2 = WIDTH - RIGHT,
                y = y(c),
                tx = LEFT - 6.0,
                ty = y(c) + 4.0,
                label = tick_label(c, y_step)
            );
        }
        for i in 0..=(((x_high - x_low) / x_step).round() as usize) {
            let v = x_low + x_step * i as f64;
            let _ = write!(
                svg,
                r#"<text x="{x:.1}" y="{ty}" text-anchor="middle">{label}</text>"#,
                x = x(v),
                ty = HEIGHT - BOTTOM + 16.0,
                label = tick_label(v, x_step)
            );
        }
        for bar in &self.bars {
            let (left, right) = (x(scaled(bar.from)), x(scaled(bar.to)));
            let top = y(bar.count as f64);
            let _ = write!(
                svg,
                r##"<rect x="{left:.1}" y="{top:.1}" width="{w:.1}" height="{h:.1}" fill="#bbbbbb" stroke="#555555" stroke-width="0.4"><title>{count} scenarios from {from} to {to}</title></rect>"##,
                w = (right - left).max(0.5),
                h = TOP + plot_h - top,
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
                r##"<line x1="{mx:.1}" x2="{mx:.1}" y1="{TOP}" y2="{yb}" stroke="#000000" stroke-width="1.6" stroke-dasharray="{dash}"><title>{name}: {value}</title></line><line x1="{legend_x:.1}" x2="{lx2:.1}" y1="36" y2="36" stroke="#000000" stroke-width="1.6" stroke-dasharray="{dash}"/><text x="{tx:.1}" y="40">{name}</text>"##,
                yb = TOP + plot_h,
                dash = marker.dash,
                name = escape(&marker.name),
                value = crate::report::money(marker.at),
                lx2 = legend_x + 22.0,
                tx = legend_x + 26.0,
            );
            legend_x += 40.0 + 6.5 * marker.name.chars().count() as f64;
        }
        let _ = write!(
            svg,
            r##"<line x1="{LEFT}" x2="{x2}" y1="{yb}" y2="{yb}" stroke="#000000"/><line x1="{LEFT}" x2="{LEFT}" y1="{TOP}" y2="{yb}" stroke="#000000"/><text x="{cx}" y="{ly}" text-anchor="middle">{label}</text><text transform="translate(16 {cy}) rotate(-90)" text-anchor="middle">scenarios</text></svg>"##,
            x2 = WIDTH - RIGHT,
            yb = TOP + plot_h,
            cx = LEFT + plot_w / 2.0,
            ly = HEIGHT - 12.0,
            label = escape(&self.axis_label),
            cy = TOP + plot_h / 2.0,
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
                    dash: "",
                },
            ],
        }
    }

    #[test]
    fn bars_sit_side_by_side_on_the_loss_axis_with_heights_by_count() {
        let svg = chart().to_svg();
        // The axis runs -10..20 over the 630 px plot from x = 70: a bar of
        // 10 is 210 px wide; the tallest (60 scenarios, axis to 60) fills the
        // 254 px plot height.
        assert_eq!(svg.matches("<rect").count(), 3);
        assert!(
            svg.contains(r#"<rect x="70.0" y="183.0" width="210.0" height="127.0""#),
            "{svg}"
        );
        assert!(
            svg.contains(r#"<rect x="280.0" y="56.0" width="210.0" height="254.0""#),
            "{svg}"
        );
    }

    #[test]
    fn the_measures_are_lines_at_their_values_named_in_the_legend() {
        let svg = chart().to_svg();
        // 12 on the -10..20 axis: 70 + 630 x 22/30.
        assert!(svg.contains(r#"x1="532.0" x2="532.0""#), "{svg}");
        assert!(svg.contains(r#"stroke-dasharray="6 4""#));
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
