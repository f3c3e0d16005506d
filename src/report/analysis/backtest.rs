//! What `clearstress backtest` prints and writes (methodology, section 13).
//!
//! | file | one row per | columns |
//! |---|---|---|
//! | `backtest.parquet` | (model, portfolio, observed day) | model, date, portfolio_id, kind, margin, realised_loss, exception |
//! | `backtest_summary.parquet` | (model, portfolio), then each kind's pooled `all` | model, portfolio_id, kind, aggregate, z2, z2_p, average_margin, margin_peak_to_trough, then for `all_days_` and `non_overlapping_`: observations, exceptions, expected_exceptions, coverage, largest_exception, average_exception, kupiec_lr, kupiec_p, christoffersen_ind_lr, christoffersen_ind_p, christoffersen_cc_lr, christoffersen_cc_p, traffic_light |
//! | `backtest.json` | | the models, the same statistics, the MPOR, the measure, the gaps with their reasons, the generated test portfolios' legs and what was skipped, the option underlyings whose implied vols an index moved (`implied_vols.moved`) or that kept them (`held`), and per (model, kind) each observed day's portfolios tested and exceptions (`exceptions_by_day`) |
//!
//! The models share the days, the portfolios and the realised losses; each
//! model is a [`Backtest`] with its summary, in the order `--model` gave.

use std::fmt::Write;
use std::path::Path;

use serde_json::{json, Value};

use crate::analysis::backtest::{
    Backtest, PortfolioKind, PortfolioSummary, SampleStatistics, Zone, AGGREGATE_ID,
    LEG_NOTIONAL_USD, Z2,
};
use crate::report::{money, write_json, OutputTable, ReportError};
use crate::snapshot::MarginMeasure;

/// What the summary says of Z2 and its p-value.
const Z2_NOTE: &str = "Z2 on all days for every member and generated portfolio; its p-value for \
                       members with collateral and generated portfolios only, from Z2 recomputed \
                       on losses drawn from each day's model; none under an APC tool, whose \
                       margin is no longer the model's ES (methodology, 12b)";

/// The two samples, by column prefix.
fn samples(s: &PortfolioSummary) -> [(&'static str, &SampleStatistics); 2] {
    [
        ("all_days", &s.all_days),
        ("non_overlapping", &s.non_overlapping),
    ]
}

fn zone(z: Zone) -> &'static str {
    match z {
        Zone::Green => "green",
        Zone::Yellow => "yellow",
        Zone::Red => "red",
    }
}

/// A zone right-aligned in `width` columns, in its colour (ANSI SGR: green,
/// yellow, bold red) when `colour`; padded before the escape codes, so that
/// coloured and plain tables line up alike.
fn zone_cell(z: Zone, width: usize, colour: bool) -> String {
    let cell = format!("{:>width$}", zone(z));
    if !colour {
        return cell;
    }
    let sgr = match z {
        Zone::Green => "32",
        Zone::Yellow => "33",
        Zone::Red => "1;31",
    };
    format!("\x1b[{sgr}m{cell}\x1b[0m")
}

fn measure(m: MarginMeasure) -> &'static str {
    match m {
        MarginMeasure::ValueAtRisk => "var",
        MarginMeasure::ExpectedShortfall => "es",
    }
}

fn z2_value(z: &Z2) -> (Option<f64>, Option<f64>) {
    match z {
        Z2::Statistic { value, p_value, .. } => (Some(*value), *p_value),
        _ => (None, None),
    }
}

/// One model's backtest and its statistics.
pub type ModelResult = (Backtest, Vec<PortfolioSummary>);

/// Writes the day table, the summary table and the JSON of every model of
/// `results` (at least one) into `dir`.
pub fn write(dir: &Path, results: &[ModelResult]) -> Result<(), ReportError> {
    // (model, portfolio, day), model-major then portfolio-major.
    let cells: Vec<(&Backtest, usize, usize)> = results
        .iter()
        .flat_map(|(b, _)| {
            (0..b.portfolios.len()).flat_map(move |p| (0..b.dates.len()).map(move |t| (b, p, t)))
        })
        .collect();
    let texts = |f: &dyn Fn(&Backtest, usize, usize) -> String| -> Vec<String> {
        cells.iter().map(|&(b, p, t)| f(b, p, t)).collect()
    };
    let numbers = |f: &dyn Fn(&Backtest, usize, usize) -> f64| -> Vec<f64> {
        cells.iter().map(|&(b, p, t)| f(b, p, t)).collect()
    };
    OutputTable::default()
        .text("model", texts(&|b, _, _| b.model.clone()))
        .text("date", texts(&|b, _, t| b.dates[t].to_string()))
        .text("portfolio_id", texts(&|b, p, _| b.portfolios[p].id.clone()))
        .text(
            "kind",
            texts(&|b, p, _| b.portfolios[p].kind.id().to_string()),
        )
        .number("margin", numbers(&|b, p, t| b.portfolios[p].margins[t]))
        .number(
            "realised_loss",
            numbers(&|b, p, t| b.portfolios[p].losses[t]),
        )
        .flag(
            "exception",
            cells
                .iter()
                .map(|&(b, p, t)| b.portfolios[p].losses[t] > b.portfolios[p].margins[t])
                .collect(),
        )
        .write_parquet(&dir.join("backtest.parquet"))?;

    let rows: Vec<(&str, &PortfolioSummary)> = results
        .iter()
        .flat_map(|(b, summary)| summary.iter().map(move |s| (b.model.as_str(), s)))
        .collect();
    let summary: Vec<&PortfolioSummary> = rows.iter().map(|r| r.1).collect();
    let mut table = OutputTable::default()
        .text("model", rows.iter().map(|r| r.0.to_string()).collect())
        .text(
            "portfolio_id",
            summary.iter().map(|s| s.id.clone()).collect(),
        )
        .text(
            "kind",
            summary.iter().map(|s| s.kind.id().to_string()).collect(),
        )
        .flag("aggregate", summary.iter().map(|s| s.aggregate).collect())
        .optional_number("z2", summary.iter().map(|s| z2_value(&s.z2).0).collect())
        .optional_number("z2_p", summary.iter().map(|s| z2_value(&s.z2).1).collect())
        .number(
            "average_margin",
            summary.iter().map(|s| s.average_margin).collect(),
        )
        .number(
            "margin_peak_to_trough",
            summary.iter().map(|s| s.margin_peak_to_trough).collect(),
        );
    for k in 0..2 {
        let prefix = samples(summary[0])[k].0;
        let of = |s: &&PortfolioSummary| samples(s)[k].1.clone();
        let col = |name: &str| format!("{prefix}_{name}");
        let stats: Vec<SampleStatistics> = summary.iter().map(of).collect();
        let num = |f: &dyn Fn(&SampleStatistics) -> f64| stats.iter().map(f).collect::<Vec<_>>();
        let opt =
            |f: &dyn Fn(&SampleStatistics) -> Option<f64>| stats.iter().map(f).collect::<Vec<_>>();
        table = table
            .count(
                &col("observations"),
                stats.iter().map(|s| s.coverage.observations).collect(),
            )
            .count(
                &col("exceptions"),
                stats.iter().map(|s| s.coverage.exceptions).collect(),
            )
            .number(
                &col("expected_exceptions"),
                num(&|s| s.coverage.expected_exceptions),
            )
            .number(&col("coverage"), num(&|s| s.coverage.achieved_coverage))
            .optional_number(
                &col("largest_exception"),
                opt(&|s| s.coverage.largest_exception),
            )
            .optional_number(
                &col("average_exception"),
                opt(&|s| s.coverage.average_exception),
            )
            .number(&col("kupiec_lr"), num(&|s| s.kupiec.statistic))
            .number(&col("kupiec_p"), num(&|s| s.kupiec.p_value))
            .optional_number(
                &col("christoffersen_ind_lr"),
                opt(&|s| s.christoffersen.as_ref().map(|c| c.independence.statistic)),
            )
            .optional_number(
                &col("christoffersen_ind_p"),
                opt(&|s| s.christoffersen.as_ref().map(|c| c.independence.p_value)),
            )
            .optional_number(
                &col("christoffersen_cc_lr"),
                opt(&|s| {
                    s.christoffersen
                        .as_ref()
                        .map(|c| c.conditional_coverage.statistic)
                }),
            )
            .optional_number(
                &col("christoffersen_cc_p"),
                opt(&|s| {
                    s.christoffersen
                        .as_ref()
                        .map(|c| c.conditional_coverage.p_value)
                }),
            )
            .text(
                &col("traffic_light"),
                stats
                    .iter()
                    .map(|s| zone(s.traffic_light.zone).to_string())
                    .collect(),
            );
    }
    table.write_parquet(&dir.join("backtest_summary.parquet"))?;
    write_json(&dir.join("backtest.json"), &json_of(results))
}

fn sample_json(s: &SampleStatistics) -> Value {
    let c = &s.coverage;
    json!({
        "observations": c.observations,
        "exceptions": c.exceptions,
        "expected_exceptions": c.expected_exceptions,
        "coverage": c.achieved_coverage,
        "largest_exception": c.largest_exception,
        "average_exception": c.average_exception,
        "kupiec": { "lr": s.kupiec.statistic, "p": s.kupiec.p_value },
        "christoffersen": s.christoffersen.as_ref().map(|x| json!({
            "independence": { "lr": x.independence.statistic, "p": x.independence.p_value },
            "conditional_coverage": {
                "lr": x.conditional_coverage.statistic,
                "p": x.conditional_coverage.p_value
            },
        })),
        "traffic_light": zone(s.traffic_light.zone),
    })
}

/// Per model and kind (kinds in [`PortfolioKind::ALL`]'s order, those
/// backtested): each observed day's portfolios tested and exceptions (loss
/// above margin, as `backtest.parquet`'s `exception`), the kind's pooled row
/// day by day.
fn exceptions_by_day(results: &[ModelResult]) -> Vec<Value> {
    let mut out = Vec::new();
    for (b, _) in results {
        for kind in PortfolioKind::ALL {
            let of_kind: Vec<_> = b.portfolios.iter().filter(|p| p.kind == kind).collect();
            if of_kind.is_empty() {
                continue;
            }
            let days: Vec<Value> = b
                .dates
                .iter()
                .enumerate()
                .map(|(t, date)| {
                    let exceptions = of_kind
                        .iter()
                        .filter(|p| p.losses[t] > p.margins[t])
                        .count();
                    json!({"date": date.to_string(), "portfolios": of_kind.len(), "exceptions": exceptions})
                })
                .collect();
            out.push(json!({"model": b.model, "kind": kind.id(), "days": days}));
        }
    }
    out
}

fn json_of(results: &[ModelResult]) -> Value {
    let backtest = &results[0].0;
    let portfolios: Vec<Value> = results
        .iter()
        .flat_map(|(b, summary)| summary.iter().map(move |s| (b.model.as_str(), s)))
        .map(|(model, s)| {
            let z2 = match &s.z2 {
                Z2::NotApplicable => Value::Null,
                Z2::Statistic {
                    value,
                    p_value,
                    simulations,
                } => json!({ "statistic": value, "p_value": p_value, "simulations": simulations }),
                Z2::NotComputed(why) => json!({ "not_computed": why.to_string() }),
            };
            json!({
                "model": model,
                "id": s.id,
                "kind": s.kind.id(),
                "aggregate": s.aggregate,
                "all_days": sample_json(&s.all_days),
                "non_overlapping": sample_json(&s.non_overlapping),
                "z2": z2,
                "average_margin": s.average_margin,
                "margin_peak_to_trough": s.margin_peak_to_trough,
            })
        })
        .collect();
    let gaps: Vec<Value> = backtest
        .gaps
        .iter()
        .map(|g| json!({ "date": g.date.to_string(), "reason": g.reason }))
        .collect();
    let test_portfolios = backtest.test_set.as_ref().map(|set| {
        json!({
            "leg_notional_usd": LEG_NOTIONAL_USD,
            "portfolios": set.portfolios.iter().map(|p| json!({
                "id": p.id,
                "kind": p.kind().id(),
                "legs": p.legs.iter().map(|l| json!({
                    "instrument": l.instrument_id,
                    "quantity": l.quantity,
                })).collect::<Vec<_>>(),
            })).collect::<Vec<_>>(),
            "skipped": set.skipped.iter().map(|s| json!({
                "strategy": s.strategy,
                "reason": s.reason,
            })).collect::<Vec<_>>(),
        })
    });
    json!({
        "models": results.iter().map(|r| r.0.model.clone()).collect::<Vec<_>>(),
        "mpor_days": backtest.mpor_days,
        "margin_measure": measure(backtest.measure),
        "confidence": backtest.confidence,
        "observed_days": backtest.dates.len(),
        "first_day": backtest.dates.first().map(|d| d.to_string()),
        "last_day": backtest.dates.last().map(|d| d.to_string()),
        "non_overlapping_every_days": backtest.mpor_days,
        "z2_note": (backtest.measure == MarginMeasure::ExpectedShortfall).then_some(Z2_NOTE),
        "gaps": gaps,
        "test_portfolios": test_portfolios,
        "implied_vols": {
            "moved": backtest.implied_vols.moved,
            "held": backtest.implied_vols.held,
        },
        "portfolios": portfolios,
        "exceptions_by_day": exceptions_by_day(results),
    })
}

/// `rejected/tested`: how many of `p_values` are below 5%, "-" for none.
fn below_5_percent(p_values: impl Iterator<Item = f64>) -> String {
    let p: Vec<f64> = p_values.collect();
    if p.is_empty() {
        return "-".into();
    }
    format!("{}/{}", p.iter().filter(|&&x| x < 0.05).count(), p.len())
}

/// The models side by side: per model, each kind's pooled row on all days,
/// how many of the kind's portfolios Christoffersen's conditional coverage
/// and Z2 reject at 5%, and the pooled margin's average and peak-to-trough.
fn comparison(out: &mut String, results: &[ModelResult], colour: bool) {
    let width = results
        .iter()
        .map(|r| r.0.model.len())
        .max()
        .unwrap_or(0)
        .max(10);
    let _ = writeln!(
        out,
        "{:<width$} {:<23} {:>11} {:>9} {:>7} {:>9} {:>9} {:>9} {:>16} {:>11}",
        "model",
        "kind",
        "exceptions",
        "coverage",
        "zone",
        "Kupiec p",
        "cc p<5%",
        "Z2 p<5%",
        "average margin",
        "peak-trough"
    );
    for (b, summary) in results {
        for pooled in summary.iter().filter(|s| s.aggregate) {
            let of_kind = || {
                summary
                    .iter()
                    .filter(|s| !s.aggregate && s.kind == pooled.kind)
            };
            let a = &pooled.all_days;
            let _ = writeln!(
                out,
                "{:<width$} {:<23} {:>11} {:>8.2}% {} {:>9.3} {:>9} {:>9} {:>16} {:>10.1}%",
                b.model,
                pooled.kind.id(),
                format!("{}/{}", a.coverage.exceptions, a.coverage.observations),
                100.0 * a.coverage.achieved_coverage,
                zone_cell(a.traffic_light.zone, 7, colour),
                a.kupiec.p_value,
                below_5_percent(of_kind().filter_map(|s| {
                    s.all_days
                        .christoffersen
                        .as_ref()
                        .map(|c| c.conditional_coverage.p_value)
                })),
                below_5_percent(of_kind().filter_map(|s| z2_value(&s.z2).1)),
                money(pooled.average_margin),
                100.0 * pooled.margin_peak_to_trough,
            );
        }
    }
}

/// The terminal view: the models compared (each kind's pooled row), then
/// the first model's pooled rows and portfolios, then the gaps; the traffic
/// light's zones coloured when `colour`.
pub fn terminal(results: &[ModelResult], colour: bool) -> String {
    let (backtest, summary) = (&results[0].0, &results[0].1);
    let mut out = String::new();
    let (Some(first), Some(last)) = (backtest.dates.first(), backtest.dates.last()) else {
        return out;
    };
    let _ = writeln!(
        out,
        "margin ({} at {}) against the loss over the next {} days, on {} days {first}..{last} \
         (non-overlapping: one day in {}):\n",
        measure(backtest.measure).to_uppercase(),
        backtest.confidence,
        backtest.mpor_days,
        backtest.dates.len(),
        backtest.mpor_days,
    );
    let vols = &backtest.implied_vols;
    for (ids, how) in [
        (&vols.moved, "moved by the implied-vol index"),
        (&vols.held, "held (no implied-vol index)"),
    ] {
        if !ids.is_empty() {
            let _ = writeln!(out, "implied vols of {}: {how}", ids.join(", "));
        }
    }
    comparison(&mut out, results, colour);
    let _ = writeln!(
        out,
        "\nunder `{}`{}:",
        backtest.model,
        if results.len() > 1 {
            " (every model's portfolios: backtest_summary.parquet)"
        } else {
            ""
        }
    );
    // Generated portfolios' ids name their legs: the column fits the longest.
    let width = summary
        .iter()
        .map(|s| s.id.len())
        .max()
        .unwrap_or(0)
        .max(24);
    let _ = writeln!(
        out,
        "{:<width$} {:<23} {:>11} {:>9} {:>9} {:>7} {:>14}   {:>11} {:>7}",
        "portfolio",
        "kind",
        "exceptions",
        "coverage",
        "Kupiec p",
        "zone",
        "largest",
        "non-overlap",
        "zone"
    );
    let mut ordered: Vec<&PortfolioSummary> = summary.iter().filter(|s| s.aggregate).collect();
    ordered.extend(summary.iter().filter(|s| !s.aggregate));
    for s in ordered {
        let (a, n) = (&s.all_days, &s.non_overlapping);
        let id = if s.aggregate {
            format!("{AGGREGATE_ID} (pooled)")
        } else {
            s.id.clone()
        };
        let _ = writeln!(
            out,
            "{:<width$} {:<23} {:>11} {:>8.2}% {:>9.3} {} {:>14}   {:>11} {}",
            id,
            s.kind.id(),
            format!("{}/{}", a.coverage.exceptions, a.coverage.observations),
            100.0 * a.coverage.achieved_coverage,
            a.kupiec.p_value,
            zone_cell(a.traffic_light.zone, 7, colour),
            a.coverage.largest_exception.map_or("-".into(), money),
            format!("{}/{}", n.coverage.exceptions, n.coverage.observations),
            zone_cell(n.traffic_light.zone, 7, colour),
        );
    }
    if backtest.measure == MarginMeasure::ExpectedShortfall {
        let tested: Vec<f64> = summary.iter().filter_map(|s| z2_value(&s.z2).1).collect();
        if !tested.is_empty() {
            let _ = writeln!(
                out,
                "\nZ2 (ES, members with collateral and generated portfolios): {} of {} with a \
                 p-value below 5%",
                tested.iter().filter(|&&p| p < 0.05).count(),
                tested.len()
            );
        }
        let _ = writeln!(out, "{Z2_NOTE}: see backtest.json");
    }
    if let Some(set) = &backtest.test_set {
        let _ = writeln!(
            out,
            "\n{} generated test portfolios ({} USD notional a leg); not generated:",
            set.portfolios.len(),
            money(LEG_NOTIONAL_USD)
        );
        for s in &set.skipped {
            let _ = writeln!(out, "  {}: {}", s.strategy, s.reason);
        }
    }
    if !backtest.gaps.is_empty() {
        let _ = writeln!(
            out,
            "\n{} days not tested (no close to measure the loss; never bridged):",
            backtest.gaps.len()
        );
        for g in backtest.gaps.iter().take(5) {
            let _ = writeln!(out, "  {}: {}", g.date, g.reason);
        }
        if backtest.gaps.len() > 5 {
            let _ = writeln!(out, "  ... all in backtest.json");
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn zones_are_coloured_only_when_asked_and_pad_alike() {
        assert_eq!(zone_cell(Zone::Green, 7, false), "  green");
        assert_eq!(zone_cell(Zone::Green, 7, true), "\x1b[32m  green\x1b[0m");
        assert_eq!(zone_cell(Zone::Yellow, 7, true), "\x1b[33m yellow\x1b[0m");
        assert_eq!(zone_cell(Zone::Red, 7, true), "\x1b[1;31m    red\x1b[0m");
    }
}
