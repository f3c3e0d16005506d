//! What `clearstress backtest` prints and writes (methodology, section 13).
//!
//! | file | one row per | columns |
//! |---|---|---|
//! | `backtest.parquet` | (observed day, portfolio) | date, portfolio_id, kind, margin, realised_loss, exception |
//! | `backtest_summary.parquet` | portfolio, then each kind's pooled `all` | portfolio_id, kind, aggregate, z2, z2_p, then for `all_days_` and `non_overlapping_`: observations, exceptions, expected_exceptions, coverage, largest_exception, average_exception, kupiec_lr, kupiec_p, christoffersen_ind_lr, christoffersen_ind_p, christoffersen_cc_lr, christoffersen_cc_p, traffic_light |
//! | `backtest.json` | | the same statistics, the MPOR, the measure, the gaps with their reasons, and the option underlyings whose implied vols an index moved (`implied_vols.moved`) or that kept them (`held`) |

use std::fmt::Write;
use std::path::Path;

use serde_json::{json, Value};

use crate::analysis::backtest::{
    Backtest, PortfolioSummary, SampleStatistics, Zone, AGGREGATE_ID, Z2,
};
use crate::report::{money, write_json, OutputTable, ReportError};
use crate::snapshot::MarginMeasure;

/// What the summary says of Z2 and its p-value.
const Z2_NOTE: &str = "Z2 on all days for every member; its p-value for members with collateral \
                       only, from Z2 recomputed on losses drawn from each day's model \
                       (methodology, 12b)";

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

/// Writes the day table, the summary table and the JSON into `dir`.
pub fn write(
    dir: &Path,
    backtest: &Backtest,
    summary: &[PortfolioSummary],
) -> Result<(), ReportError> {
    let days = backtest.dates.len();
    let rows = |f: &dyn Fn(usize, usize) -> String| -> Vec<String> {
        (0..backtest.portfolios.len())
            .flat_map(|p| (0..days).map(move |t| (p, t)))
            .map(|(p, t)| f(p, t))
            .collect()
    };
    let ps = &backtest.portfolios;
    let numbers = |f: &dyn Fn(usize, usize) -> f64| -> Vec<f64> {
        (0..ps.len())
            .flat_map(|p| (0..days).map(move |t| (p, t)))
            .map(|(p, t)| f(p, t))
            .collect()
    };
    OutputTable::default()
        .text("date", rows(&|_, t| backtest.dates[t].to_string()))
        .text("portfolio_id", rows(&|p, _| ps[p].id.clone()))
        .text("kind", rows(&|p, _| ps[p].kind.id().to_string()))
        .number("margin", numbers(&|p, t| ps[p].margins[t]))
        .number("realised_loss", numbers(&|p, t| ps[p].losses[t]))
        .flag(
            "exception",
            (0..ps.len())
                .flat_map(|p| (0..days).map(move |t| ps[p].losses[t] > ps[p].margins[t]))
                .collect(),
        )
        .write_parquet(&dir.join("backtest.parquet"))?;

    let mut table = OutputTable::default()
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
        .optional_number("z2_p", summary.iter().map(|s| z2_value(&s.z2).1).collect());
    for k in 0..2 {
        let prefix = samples(&summary[0])[k].0;
        let of = |s: &PortfolioSummary| samples(s)[k].1.clone();
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
    write_json(&dir.join("backtest.json"), &json_of(backtest, summary))
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

fn json_of(backtest: &Backtest, summary: &[PortfolioSummary]) -> Value {
    let portfolios: Vec<Value> = summary
        .iter()
        .map(|s| {
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
                "id": s.id,
                "kind": s.kind.id(),
                "aggregate": s.aggregate,
                "all_days": sample_json(&s.all_days),
                "non_overlapping": sample_json(&s.non_overlapping),
                "z2": z2,
            })
        })
        .collect();
    let gaps: Vec<Value> = backtest
        .gaps
        .iter()
        .map(|g| json!({ "date": g.date.to_string(), "reason": g.reason }))
        .collect();
    json!({
        "mpor_days": backtest.mpor_days,
        "margin_measure": measure(backtest.measure),
        "confidence": backtest.confidence,
        "observed_days": backtest.dates.len(),
        "first_day": backtest.dates.first().map(|d| d.to_string()),
        "last_day": backtest.dates.last().map(|d| d.to_string()),
        "non_overlapping_every_days": backtest.mpor_days,
        "z2_note": (backtest.measure == MarginMeasure::ExpectedShortfall).then_some(Z2_NOTE),
        "gaps": gaps,
        "implied_vols": {
            "moved": backtest.implied_vols.moved,
            "held": backtest.implied_vols.held,
        },
        "portfolios": portfolios,
    })
}

/// The terminal view: each kind's pooled row, then each portfolio, then the gaps.
pub fn terminal(backtest: &Backtest, summary: &[PortfolioSummary]) -> String {
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
    let _ = writeln!(
        out,
        "{:<24} {:<23} {:>11} {:>9} {:>9} {:>7} {:>14}   {:>11} {:>7}",
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
            "{:<24} {:<23} {:>11} {:>8.2}% {:>9.3} {:>7} {:>14}   {:>11} {:>7}",
            id,
            s.kind.id(),
            format!("{}/{}", a.coverage.exceptions, a.coverage.observations),
            100.0 * a.coverage.achieved_coverage,
            a.kupiec.p_value,
            zone(a.traffic_light.zone),
            a.coverage.largest_exception.map_or("-".into(), money),
            format!("{}/{}", n.coverage.exceptions, n.coverage.observations),
            zone(n.traffic_light.zone),
        );
    }
    if backtest.measure == MarginMeasure::ExpectedShortfall {
        let tested: Vec<f64> = summary.iter().filter_map(|s| z2_value(&s.z2).1).collect();
        if !tested.is_empty() {
            let _ = writeln!(
                out,
                "\nZ2 (ES, members with collateral): {} of {} with a p-value below 5%",
                tested.iter().filter(|&&p| p < 0.05).count(),
                tested.len()
            );
        }
        let _ = writeln!(out, "{Z2_NOTE}: see backtest.json");
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
