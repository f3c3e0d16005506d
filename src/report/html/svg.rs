//! A small SVG chart writer: grouped vertical bars ([`BarChart`]) and lines
//! over dates ([`LineChart`]), each with a value axis (ticks at 1, 2 or 5
//! times a power of ten, labelled in the unit given), a title and a legend.
//! Bar series are told apart by grey level and outline, line series by dash
//! pattern and marker, so a chart reads in greyscale and in print.

mod histogram;
mod line;

use std::fmt::Write as _;

pub use histogram::{Bar, Histogram, Marker};
pub use line::LineChart;

use super::escape;

/// One series of bars: a value per category.
#[derive(Debug, Clone)]
pub struct Series {
    pub name: String,
    pub values: Vec<f64>,
}

/// A grouped bar chart: for each category, one bar per series.
#[derive(Debug, Clone)]
pub struct BarChart {
    pub title: String,
    /// The value axis label, with its unit (e.g. "USD millions").
    pub axis_label: String,
    /// Values are divided by this before plotting (1e6 for millions).
    pub scale: f64,
    /// What a bar's value is read to in its tooltip, unscaled: 1 for
    /// amounts to the dollar or counts, 0.001 for a multiple such as
    /// reverse stress's k*.
    pub precision: f64,
    pub categories: Vec<String>,
    pub series: Vec<Series>,
}

const WIDTH: f64 = 720.0;
const HEIGHT: f64 = 380.0;
const LEFT: f64 = 80.0;
const RIGHT: f64 = 20.0;
const TOP: f64 = 56.0;
const BOTTOM: f64 = 70.0;
/// The width of a label character at the chart's font size, roughly.
const CHAR_WIDTH: f64 = 6.2;
/// Fills by series: dark, light, middle grey.
const FILLS: [&str; 3] = ["#333333", "#bbbbbb", "#777777"];

/// Tick spacing for an axis spanning `span`: 1, 2 or 5 times a power of ten,
/// giving about five ticks.
pub fn tick_step(span: f64) -> f64 {
    if span <= 0.0 || !span.is_finite() {
        return 1.0;
    }
    let raw = span / 5.0;
    let power = 10f64.powf(raw.log10().floor());
    [1.0, 2.0, 5.0, 10.0]
        .into_iter()
        .map(|m| m * power)
        .find(|s| *s >= raw)
        .unwrap_or(10.0 * power)
}

/// `text` in lines of at most `width` characters, broken at spaces (a longer
/// word stands alone on its line).
fn wrap(text: &str, width: usize) -> Vec<String> {
    let mut lines: Vec<String> = Vec::new();
    for word in text.split_whitespace() {
        match lines.last_mut() {
            Some(line) if line.chars().count() + 1 + word.chars().count() <= width => {
                line.push(' ');
                line.push_str(word);
            }
            _ => lines.push(word.to_string()),
        }
    }
    lines
}

/// A tick label: the value with thousands separators and at most the
/// decimals the step needs.
pub(super) fn tick_label(value: f64, step: f64) -> String {
    let decimals = if step >= 1.0 {
        0
    } else {
        (-step.log10().floor()) as usize
    };
    let text = format!("{:.*}", decimals, value.abs());
    let (whole, fraction) = text.split_once('.').unwrap_or((&text, ""));
    let mut out = super::super::money(whole.parse::<f64>().unwrap_or(0.0));
    if !fraction.is_empty() {
        out = format!("{out}.{fraction}");
    }
    if value < 0.0 && text.chars().any(|c| c.is_ascii_digit() && c != '0') {
        out = format!("-{out}");
    }
    out
}

/// A value axis from 0 (or the lowest value, if below) to the highest,
/// widened to whole ticks, drawn on the plot box's height.
#[derive(Debug, Clone, Copy, PartialEq)]
struct ValueAxis {
    low: f64,
    high: f64,
    step: f64,
}

impl ValueAxis {
    /// The axis holding 0 and every finite value of `values`.
    fn spanning(values: impl Iterator<Item = f64>) -> Self {
        let (low, high) = values
            .filter(|v| v.is_finite())
            .fold((0.0f64, 0.0f64), |(lo, hi), v| (lo.min(v), hi.max(v)));
        let step = tick_step(high - low);
        Self {
            low: (low / step).floor() * step,
            high: ((high / step).ceil() * step).max(step),
            step,
        }
    }

    /// The y coordinate of `v`: `TOP` at the axis's high end, the plot box's
    /// bottom at its low end.
    fn y(&self, v: f64) -> f64 {
        TOP + (HEIGHT - TOP - BOTTOM) * (self.high - v) / (self.high - self.low)
    }

    /// Grid lines, tick labels and the axis label, rotated, at the left.
    fn write(&self, svg: &mut String, label: &str) {
        let ticks = ((self.high - self.low) / self.step).round() as usize;
        for i in 0..=ticks {
            let v = self.low + self.step * i as f64;
            let _ = write!(
                svg,
                r##"<line x1="{LEFT}" x2="{x2}" y1="{y:.1}" y2="{y:.1}" stroke="#dddddd"/><text x="{tx}" y="{ty:.1}" text-anchor="end">{label}</text>"##,
                x2 = WIDTH - RIGHT,
                y = self.y(v),
                tx = LEFT - 6.0,
                ty = self.y(v) + 4.0,
                label = tick_label(v, self.step)
            );
        }
        let _ = write!(
            svg,
            r#"<text transform="translate(16 {cy}) rotate(-90)" text-anchor="middle">{}</text>"#,
            escape(label),
            cy = TOP + (HEIGHT - TOP - BOTTOM) / 2.0
        );
    }
}

/// The `<svg>` element's opening, the chart's title and the value axis
/// spanning every series' values divided by `scale`, labelled `label`.
fn open(title: &str, label: &str, series: &[Series], scale: f64) -> (String, ValueAxis) {
    let axis = ValueAxis::spanning(
        series
            .iter()
            .flat_map(|s| s.values.iter().map(move |&v| v / scale)),
    );
    let mut svg = String::new();
    let _ = write!(
        svg,
        r#"<svg viewBox="0 0 {WIDTH} {HEIGHT}" width="100%" role="img" aria-label="{title}" font-family="sans-serif" font-size="11">"#,
        title = escape(title)
    );
    let _ = write!(
        svg,
        r#"<text x="{x}" y="18" text-anchor="middle" font-size="14" font-weight="bold">{}</text>"#,
        escape(title),
        x = WIDTH / 2.0
    );
    axis.write(&mut svg, label);
    (svg, axis)
}

/// The x axis at `y0` (the zero line) and the value axis at the left.
fn axes(svg: &mut String, y0: f64) {
    let _ = write!(
        svg,
        r##"<line x1="{LEFT}" x2="{x2}" y1="{y0:.1}" y2="{y0:.1}" stroke="#000000"/><line x1="{LEFT}" x2="{LEFT}" y1="{TOP}" y2="{yb}" stroke="#000000"/>"##,
        x2 = WIDTH - RIGHT,
        yb = HEIGHT - BOTTOM
    );
}

impl BarChart {
    /// The chart as an inline `<svg>` element.
    pub fn to_svg(&self) -> String {
        let scaled = |v: f64| v / self.scale;
        let (mut svg, axis) = open(&self.title, &self.axis_label, &self.series, self.scale);
        let y = |v: f64| axis.y(v);
        let plot_w = WIDTH - LEFT - RIGHT;
        // Bars.
        let groups = self.categories.len().max(1) as f64;
        let group_w = plot_w / groups;
        let bar_w = group_w * 0.8 / self.series.len().max(1) as f64;
        for (c, category) in self.categories.iter().enumerate() {
            let x0 = LEFT + group_w * c as f64 + group_w * 0.1;
            for (s, series) in self.series.iter().enumerate() {
                let Some(&value) = series.values.get(c) else {
                    continue;
                };
                let v = scaled(value);
                let (top, bottom) = (y(v.max(0.0)), y(v.min(0.0)));
                let _ = write!(
                    svg,
                    r##"<rect x="{x:.1}" y="{top:.1}" width="{w:.1}" height="{h:.1}" fill="{fill}" stroke="#000000" stroke-width="0.6"><title>{name}, {category}: {value}</title></rect>"##,
                    x = x0 + bar_w * s as f64,
                    w = bar_w,
                    h = bottom - top,
                    fill = FILLS[s % FILLS.len()],
                    name = escape(&series.name),
                    category = escape(category),
                    value = tick_label(value, self.precision),
                );
            }
            // Category labels: horizontal, wrapped at words to the group's width.
            let lx = LEFT + group_w * (c as f64 + 0.5);
            let _ = write!(svg, r#"<text text-anchor="middle">"#);
            let chars = (group_w / CHAR_WIDTH).floor().max(4.0) as usize;
            for (line, text) in wrap(category, chars).iter().enumerate() {
                let _ = write!(
                    svg,
                    r#"<tspan x="{lx:.1}" y="{ly:.1}">{}</tspan>"#,
                    escape(text),
                    ly = HEIGHT - BOTTOM + 16.0 + 13.0 * line as f64
                );
            }
            svg.push_str("</text>");
        }
        // Zero line and axes.
        axes(&mut svg, y(0.0));
        // Legend, top left under the title.
        let mut lx = LEFT;
        for (s, series) in self.series.iter().enumerate() {
            let _ = write!(
                svg,
                r##"<rect x="{lx:.1}" y="30" width="12" height="12" fill="{fill}" stroke="#000000" stroke-width="0.6"/><text x="{tx:.1}" y="40">{name}</text>"##,
                fill = FILLS[s % FILLS.len()],
                tx = lx + 16.0,
                name = escape(&series.name)
            );
            lx += 28.0 + 7.0 * series.name.chars().count() as f64;
        }
        svg.push_str("</svg>");
        svg
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn chart() -> BarChart {
        BarChart {
            title: "Margin & collateral".into(),
            axis_label: "USD millions".into(),
            scale: 1e6,
            precision: 1.0,
            categories: vec!["CM1".into(), "CM<2>".into()],
            series: vec![
                Series {
                    name: "initial margin".into(),
                    values: vec![94.2e6, 12.0e6],
                },
                Series {
                    name: "collateral".into(),
                    values: vec![153.7e6, 8.0e6],
                },
            ],
        }
    }

    #[test]
    fn ticks_are_one_two_or_five_times_a_power_of_ten() {
        assert_eq!(tick_step(153.7), 50.0);
        assert_eq!(tick_step(10.0), 2.0);
        assert_eq!(tick_step(0.9), 0.2);
        assert_eq!(tick_step(0.0), 1.0);
    }

    #[test]
    fn tick_labels_group_thousands_and_keep_the_decimals_the_step_needs() {
        assert_eq!(tick_label(1500.0, 500.0), "1,500");
        assert_eq!(tick_label(0.4, 0.2), "0.4");
        assert_eq!(tick_label(-20.0, 10.0), "-20");
    }

    #[test]
    fn labels_wrap_at_words_to_the_width_given() {
        assert_eq!(
            wrap("surviving members' default fund contributions", 16),
            ["surviving", "members' default", "fund", "contributions"]
        );
        assert_eq!(wrap("CM0002", 4), ["CM0002"]);
    }

    #[test]
    fn a_chart_has_a_bar_per_value_a_legend_per_series_and_labelled_axes() {
        let svg = chart().to_svg();
        assert!(svg.starts_with("<svg") && svg.ends_with("</svg>"));
        // Four bars and two legend swatches.
        assert_eq!(svg.matches("<rect").count(), 6);
        assert_eq!(svg.matches("<title>").count(), 4);
        for text in [
            "USD millions",
            "initial margin",
            "collateral",
            "CM1",
            "CM&lt;2&gt;",
            "Margin &amp; collateral",
            ">150<",
            ">0<",
        ] {
            assert!(svg.contains(text), "{text} not in {svg}");
        }
        assert!(!svg.contains("NaN") && !svg.contains("inf"));
    }

    #[test]
    fn negative_values_hang_below_the_zero_line() {
        let mut c = chart();
        c.series[0].values[1] = -30e6;
        let svg = c.to_svg();
        assert!(svg.contains(">-50<"), "{svg}");
        assert!(!svg.contains("height=\"-"));
    }
}
