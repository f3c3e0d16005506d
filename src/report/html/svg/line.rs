//! Lines over dates: one polyline per series with a point per date, the
//! dates evenly spaced along the x axis (a study's dates are a fixed number
//! of days apart), a few of them labelled. Series are told apart by dash
//! pattern and marker (solid with circles, dashed with squares, dotted with
//! triangles, dash-dot with diamonds), so lines read in greyscale, and where
//! two lines coincide their markers, placed at different dates, still show both.

use std::fmt::Write as _;

use super::{axes, escape, open, Series, ValueAxis, BOTTOM, HEIGHT, LEFT, RIGHT, WIDTH};

/// A line chart: for each series, its value on each date.
#[derive(Debug, Clone)]
pub struct LineChart {
    pub title: String,
    /// The value axis label, with its unit (e.g. "USD").
    pub axis_label: String,
    /// Values are divided by this before plotting (1 for USD).
    pub scale: f64,
    /// The x axis's dates, one per value of each series.
    pub dates: Vec<String>,
    pub series: Vec<Series>,
}

/// Dash patterns by series: solid, dashed, dotted, dash-dot.
const DASHES: [&str; 4] = ["none", "8 4", "2 3", "10 3 2 3"];
/// Date labels on the x axis, at most.
const DATE_LABELS: usize = 6;
/// Markers along a line, about.
const MARKERS: usize = 12;

/// Series `s`'s marker at (x, y): filled circle, open square, filled
/// triangle, open diamond.
fn marker(s: usize, x: f64, y: f64) -> String {
    match s % 4 {
        0 => format!(r##"<circle cx="{x:.1}" cy="{y:.1}" r="3" fill="#000000"/>"##),
        1 => format!(
            r##"<rect x="{:.1}" y="{:.1}" width="6" height="6" fill="#ffffff" stroke="#000000"/>"##,
            x - 3.0,
            y - 3.0
        ),
        2 => format!(
            r##"<path d="M{x:.1} {:.1}L{:.1} {:.1}L{:.1} {:.1}Z" fill="#000000"/>"##,
            y - 4.0,
            x + 4.0,
            y + 3.0,
            x - 4.0,
            y + 3.0
        ),
        _ => format!(
            r##"<path d="M{x:.1} {:.1}L{:.1} {y:.1}L{x:.1} {:.1}L{:.1} {y:.1}Z" fill="#ffffff" stroke="#000000"/>"##,
            y - 4.0,
            x + 4.0,
            y + 4.0,
            x - 4.0
        ),
    }
}

impl LineChart {
    /// A chart of USD `series` over `dates`, in USD or, where the ticks
    /// would be long (a value of 10 million or more), USD millions.
    pub fn in_usd(title: &str, dates: Vec<String>, series: Vec<Series>) -> Self {
        let peak = series
            .iter()
            .flat_map(|s| s.values.iter().copied())
            .fold(0.0f64, f64::max);
        let (axis_label, scale) = if peak >= 1e7 {
            ("USD millions", 1e6)
        } else {
            ("USD", 1.0)
        };
        Self {
            title: title.into(),
            axis_label: axis_label.into(),
            scale,
            dates,
            series,
        }
    }

    /// The x coordinate of date `i`: the plot box's left edge for the first,
    /// its right edge for the last (the middle for a single date).
    fn x(&self, i: usize) -> f64 {
        let plot_w = WIDTH - LEFT - RIGHT;
        match self.dates.len() {
            0 | 1 => LEFT + plot_w / 2.0,
            n => LEFT + plot_w * i as f64 / (n - 1) as f64,
        }
    }

    /// The dates labelled: the first, the last and up to four evenly between.
    fn labelled(&self) -> Vec<usize> {
        let n = self.dates.len();
        let mut at: Vec<usize> = (0..DATE_LABELS)
            .map(|j| (j * n.saturating_sub(1) + (DATE_LABELS - 1) / 2) / (DATE_LABELS - 1))
            .filter(|&i| i < n)
            .collect();
        at.dedup();
        at
    }

    /// Each series' points on `axis` as (date index, x, y); a value that is
    /// not finite is left out.
    fn points(&self, axis: &ValueAxis) -> Vec<Vec<(usize, f64, f64)>> {
        self.series
            .iter()
            .map(|series| {
                series
                    .values
                    .iter()
                    .take(self.dates.len())
                    .enumerate()
                    .filter(|(_, v)| v.is_finite())
                    .map(|(i, &v)| (i, self.x(i), axis.y(v / self.scale)))
                    .collect()
            })
            .collect()
    }

    /// The chart as an inline `<svg>` element.
    pub fn to_svg(&self) -> String {
        let (mut svg, axis) = open(&self.title, &self.axis_label, &self.series, self.scale);
        let every = self.dates.len().div_ceil(MARKERS).max(1);
        for (s, (series, points)) in self.series.iter().zip(self.points(&axis)).enumerate() {
            let coordinates: Vec<String> = points
                .iter()
                .map(|(_, x, y)| format!("{x:.1},{y:.1}"))
                .collect();
            let _ = write!(
                svg,
                r##"<polyline points="{}" fill="none" stroke="#000000" stroke-width="1.5" stroke-dasharray="{}"><title>{}</title></polyline>"##,
                coordinates.join(" "),
                DASHES[s % DASHES.len()],
                escape(&series.name)
            );
            // Markers at different dates for each series.
            let offset = s * every / self.series.len().max(1);
            for (_, x, y) in points.iter().filter(|(i, ..)| i % every == offset) {
                svg.push_str(&marker(s, *x, *y));
            }
        }
        axes(&mut svg, axis.y(0.0));
        // Date labels under the x axis, and its label.
        let base = HEIGHT - BOTTOM;
        let last = self.dates.len().saturating_sub(1);
        for i in self.labelled() {
            // The last date's label ends at the plot box's right edge.
            let anchor = if i == last && i > 0 { "end" } else { "middle" };
            let _ = write!(
                svg,
                r##"<line x1="{x:.1}" x2="{x:.1}" y1="{base}" y2="{tick}" stroke="#000000"/><text x="{x:.1}" y="{ty}" text-anchor="{anchor}">{}</text>"##,
                escape(&self.dates[i]),
                x = self.x(i),
                tick = base + 5.0,
                ty = base + 18.0
            );
        }
        let _ = write!(
            svg,
            r#"<text x="{x}" y="{y}" text-anchor="middle">date</text>"#,
            x = LEFT + (WIDTH - LEFT - RIGHT) / 2.0,
            y = base + 38.0
        );
        // Legend under the title: each series' dash and marker, and its name.
        let mut lx = LEFT;
        for (s, series) in self.series.iter().enumerate() {
            let _ = write!(
                svg,
                r##"<line x1="{lx:.1}" x2="{x2:.1}" y1="36" y2="36" stroke="#000000" stroke-width="1.5" stroke-dasharray="{}"/>{}<text x="{tx:.1}" y="40">{}</text>"##,
                DASHES[s % DASHES.len()],
                marker(s, lx + 14.0, 36.0),
                escape(&series.name),
                x2 = lx + 28.0,
                tx = lx + 32.0
            );
            lx += 44.0 + 7.0 * series.name.chars().count() as f64;
        }
        svg.push_str("</svg>");
        svg
    }
}

#[cfg(test)]
mod tests {
    use super::super::TOP;
    use super::*;

    fn chart(dates: usize) -> LineChart {
        LineChart {
            title: "Margin <total>".into(),
            axis_label: "USD".into(),
            scale: 1.0,
            dates: (0..dates)
                .map(|i| format!("2022-01-{:02}", i + 1))
                .collect(),
            series: vec![
                Series {
                    name: "calculated".into(),
                    values: (0..dates).map(|i| 1_000.0 + 100.0 * i as f64).collect(),
                },
                Series {
                    name: "buffer & floor".into(),
                    values: vec![1_250.0; dates],
                },
            ],
        }
    }

    #[test]
    fn points_map_the_dates_across_and_the_values_up_the_plot_box() {
        let c = chart(11);
        let svg = c.to_svg();
        let axis = ValueAxis::spanning([0.0, 2_000.0].into_iter());
        let lines = c.points(&axis);
        assert_eq!(lines.len(), 2);
        assert!(lines.iter().all(|l| l.len() == 11));
        assert_eq!(svg.matches("<polyline").count(), 2);
        // Dates: first at the left edge, last at the right, evenly between.
        let plot_w = WIDTH - LEFT - RIGHT;
        for &(i, x, _) in &lines[0] {
            assert!(
                (x - (LEFT + plot_w * i as f64 / 10.0)).abs() < 1e-9,
                "{i}: {x}"
            );
        }
        // Values 1,000..2,000 on an axis 0..2,000 (ticks of 500): 0 at the
        // bottom, 2,000 at the top, 1,250 five eighths of the way up.
        let plot_h = HEIGHT - TOP - BOTTOM;
        assert!((lines[0][10].2 - TOP).abs() < 1e-9);
        assert!((lines[0][0].2 - (TOP + plot_h / 2.0)).abs() < 1e-9);
        assert!((lines[1][3].2 - (TOP + plot_h * 3.0 / 8.0)).abs() < 1e-9);
        // The polyline is written from those points.
        let first = format!(r#"points="{LEFT:.1},{:.1} "#, TOP + plot_h / 2.0);
        assert!(svg.contains(&first), "{first}");
        for tick in [">0<", ">500<", ">1,000<", ">1,500<", ">2,000<"] {
            assert!(svg.contains(tick), "{tick}");
        }
        assert!(!svg.contains(">2,500<"));
    }

    #[test]
    fn lines_differ_by_dash_and_marker_with_a_legend_and_escaped_labels() {
        let svg = chart(30).to_svg();
        assert!(svg.starts_with("<svg") && svg.ends_with("</svg>"));
        assert!(svg.contains(r#"stroke-dasharray="none"><title>calculated"#));
        assert!(svg.contains(r#"stroke-dasharray="8 4"><title>buffer &amp; floor"#));
        for text in [
            "Margin &lt;total&gt;",
            ">USD<",
            ">date<",
            ">2022-01-01<",
            ">2022-01-30<",
        ] {
            assert!(svg.contains(text), "{text} not in {svg}");
        }
        // Markers: 10 along each line of 30 dates (every 3rd), one in each
        // legend entry; circles for the first series, squares for the second.
        assert_eq!(svg.matches("<circle").count(), 10 + 1);
        assert_eq!(svg.matches("<rect").count(), 10 + 1);
        assert!(!svg.contains("NaN") && !svg.contains("inf"));
    }

    #[test]
    fn date_labels_are_the_first_the_last_and_evenly_between() {
        assert_eq!(chart(11).labelled(), [0, 2, 4, 6, 8, 10]);
        assert_eq!(chart(3).labelled(), [0, 1, 2]);
        assert_eq!(chart(1).labelled(), [0]);
        assert!(chart(0).labelled().is_empty());
        // One date: a point in the middle, no division by zero.
        let one = chart(1);
        let points = one.points(&ValueAxis::spanning([1_000.0].into_iter()));
        assert_eq!(points[0].len(), 1);
        assert_eq!(points[0][0].1, LEFT + (WIDTH - LEFT - RIGHT) / 2.0);
        assert!(!one.to_svg().contains("NaN"));
    }
}
