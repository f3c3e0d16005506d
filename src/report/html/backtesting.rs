//! Backtesting (`--backtest`): the period, the margin period of risk and the
//! confidence, each kind's pooled row on all days and on the non-overlapping
//! subsample, the portfolios in the red or yellow zone, and a chart of
//! exceptions by kind and one of the margin basis's exceptions per day, from
//! the backtest's `backtest.json`.

use super::backtest_folder::{BacktestFolder, ExceptionSeries, Sample, MARGIN_BASIS};
use super::svg::{BarChart, LineChart, Series};
use super::{count, escape, percent, table};
use crate::report::money;

/// A sample's cells: observations, exceptions, coverage, Kupiec p, zone.
fn sample_cells(s: &Sample) -> Vec<String> {
    vec![
        count(s.observations),
        count(s.exceptions),
        s.coverage
            .map_or("-".into(), |c| format!("{}%", percent(c))),
        s.kupiec.p.map_or("-".into(), |p| format!("{p:.3}")),
        escape(&s.traffic_light),
    ]
}

/// `rejected/tested`: how many of `p_values` are below 5%; "-" for none.
fn below_5_percent(p_values: impl Iterator<Item = f64>) -> String {
    let p: Vec<f64> = p_values.collect();
    if p.is_empty() {
        return "-".into();
    }
    format!("{}/{}", p.iter().filter(|&&x| x < 0.05).count(), p.len())
}

/// The models side by side, as `clearstress backtest` prints them: per
/// model, each kind's pooled row on all days, how many of the kind's
/// portfolios Christoffersen's conditional coverage and Z2 reject at 5% (of
/// those with a p-value), and the pooled margin's average and
/// peak-to-trough.
fn comparison(bt: &BacktestFolder) -> String {
    let mut rows = Vec::new();
    for model in bt.models() {
        for pooled in bt.pooled_of(model) {
            let of_kind = || {
                bt.rows_of(model)
                    .filter(|p| !p.aggregate && p.kind == pooled.kind)
            };
            let a = &pooled.all_days;
            rows.push(vec![
                format!("<code>{}</code>", escape(model)),
                escape(&pooled.kind),
                format!("{} / {}", count(a.exceptions), count(a.observations)),
                a.coverage
                    .map_or("-".into(), |c| format!("{}%", percent(c))),
                escape(&a.traffic_light),
                a.kupiec.p.map_or("-".into(), |p| format!("{p:.3}")),
                below_5_percent(of_kind().filter_map(|p| {
                    p.all_days
                        .christoffersen
                        .as_ref()
                        .and_then(|c| c.conditional_coverage.p)
                })),
                below_5_percent(of_kind().filter_map(|p| p.z2.as_ref().and_then(|z| z.p_value))),
                pooled.average_margin.map_or("-".into(), money),
                pooled
                    .margin_peak_to_trough
                    .map_or("-".into(), |r| format!("{}%", percent(r))),
            ]);
        }
    }
    let headers = [
        "model",
        "kind",
        "exceptions / observations",
        "coverage",
        "zone",
        "Kupiec p",
        "Christoffersen cc p < 5%",
        "Z2 p < 5%",
        "average margin (USD)",
        "margin peak-to-trough",
    ];
    let numeric: Vec<&str> = headers[2..]
        .iter()
        .copied()
        .filter(|h| *h != "zone")
        .collect();
    format!(
        "<h3>Models compared</h3><p>Each model's pooled rows on all days; the \
         Christoffersen and Z2 columns count the kind's portfolios whose p-value is below 5%, of \
         those with one (\"-\": none has one).</p>{}",
        table(&headers, &numeric, &rows)
    )
}

fn flagged(s: &Sample) -> bool {
    s.traffic_light == "red" || s.traffic_light == "yellow"
}

/// The margin basis's exceptions on each observed day, as a line over the
/// dates (`exceptions_by_day`).
fn by_day(series: &ExceptionSeries) -> String {
    let chart = LineChart {
        title: format!("Exceptions per day, {} (pooled)", series.kind),
        axis_label: "exceptions".into(),
        scale: 1.0,
        dates: series.days.iter().map(|d| d.date.clone()).collect(),
        series: vec![Series {
            name: "exceptions".into(),
            values: series.days.iter().map(|d| d.exceptions as f64).collect(),
        }],
    };
    let tested: Vec<u64> = series.days.iter().map(|d| d.portfolios).collect();
    let (low, high) = (
        tested.iter().copied().min().unwrap_or(0),
        tested.iter().copied().max().unwrap_or(0),
    );
    let tested = if low == high {
        count(low)
    } else {
        format!("{}-{}", count(low), count(high))
    };
    format!(
        "<figure>{}<figcaption>Each observed day's exceptions among the {tested} <code>{}</code> \
         portfolios tested (<code>exceptions_by_day</code>).</figcaption></figure>",
        chart.to_svg(),
        escape(&series.kind)
    )
}

pub fn section(bt: &BacktestFolder) -> String {
    let s = &bt.summary;
    let pooled: Vec<_> = bt.pooled().collect();
    let rows: Vec<Vec<String>> = pooled
        .iter()
        .map(|p| {
            let mut row = vec![escape(&p.kind)];
            row.extend(sample_cells(&p.all_days));
            row.extend(sample_cells(&p.non_overlapping));
            row
        })
        .collect();
    let headers = [
        "kind",
        "observations",
        "exceptions",
        "coverage",
        "Kupiec p",
        "zone",
        "observations (non-overlapping)",
        "exceptions (non-overlapping)",
        "coverage (non-overlapping)",
        "Kupiec p (non-overlapping)",
        "zone (non-overlapping)",
    ];
    let numeric: Vec<&str> = headers[1..]
        .iter()
        .copied()
        .filter(|h| !h.starts_with("zone"))
        .collect();
    let pooled_table = table(&headers, &numeric, &rows);
    let zoned: Vec<Vec<String>> = bt
        .rows()
        .filter(|p| !p.aggregate && (flagged(&p.all_days) || flagged(&p.non_overlapping)))
        .map(|p| {
            vec![
                escape(&p.id),
                escape(&p.kind),
                format!(
                    "{} / {}",
                    count(p.all_days.exceptions),
                    count(p.all_days.observations)
                ),
                escape(&p.all_days.traffic_light),
                escape(&p.non_overlapping.traffic_light),
            ]
        })
        .collect();
    let zoned = if zoned.is_empty() {
        "<p>Portfolios in the red or yellow zone: none.</p>".to_string()
    } else {
        format!(
            "<p>Portfolios in the red or yellow zone (on all days or non-overlapping):</p>{}",
            table(
                &[
                    "portfolio",
                    "kind",
                    "exceptions / observations",
                    "zone",
                    "zone (non-overlapping)"
                ],
                &["exceptions / observations"],
                &zoned
            )
        )
    };
    let chart = BarChart {
        title: "Exceptions by kind (pooled)".into(),
        axis_label: "exceptions".into(),
        scale: 1.0,
        precision: 1.0,
        categories: pooled.iter().map(|p| p.kind.clone()).collect(),
        series: vec![
            Series {
                name: "all days".into(),
                values: pooled
                    .iter()
                    .map(|p| p.all_days.exceptions as f64)
                    .collect(),
            },
            Series {
                name: "non-overlapping".into(),
                values: pooled
                    .iter()
                    .map(|p| p.non_overlapping.exceptions as f64)
                    .collect(),
            },
        ],
    };
    // The book check (backtest_folder.rs): silent when it passed, a warning
    // line when the backtest recorded nothing to check.
    let book = bt.same_book.warning().map_or(String::new(), |w| {
        format!(
            "<p class=\"warning\"><strong>Warning:</strong> {}</p>",
            escape(w)
        )
    });
    format!(
        "<section id=\"backtesting\"><h2>Backtesting</h2>\
         <p>Each day's margin ({} at {}%) against the loss over the next {} days (the margin \
         period of risk), on {} observed days, {} ({} days not tested); the non-overlapping \
         subsample keeps one observed day in {}. Read from <code>{}</code>. Pooled rows put every \
         portfolio's days of a kind together; PQD 6.5 reports the <code>{}</code> row, the loss \
         the margin is sized on (methodology, 12b and 13a).</p>{book}{}\
         <h3>Model <code>{}</code> in detail</h3><p>{}</p>{pooled_table}{zoned}\
         <figure>{}<figcaption>Dark: all days; light: non-overlapping.</figcaption></figure>{}</section>",
        escape(&s.margin_measure.to_uppercase()),
        percent(s.confidence),
        s.mpor_days,
        count(s.observed_days),
        escape(&bt.period()),
        count(s.gaps.len() as u64),
        s.non_overlapping_every_days,
        escape(&bt.dir.join("backtest.json").display().to_string()),
        MARGIN_BASIS,
        comparison(bt),
        escape(bt.model()),
        if s.models.len() > 1 {
            format!(
                "The first of the {} models backtested, the one PQD 6.5 reports.",
                s.models.len()
            )
        } else {
            "The model PQD 6.5 reports.".to_string()
        },
        chart.to_svg(),
        bt.margin_basis_by_day().map_or(String::new(), by_day),
    )
}
