//! What `clearstress haircuts` prints and writes (schemas in README, "The
//! clearing day"; the calibration in docs/methodology.md, 17.7).
//!
//! | file | one row per |
//! |---|---|
//! | `haircuts.parquet` | asset (cash first, then the market's assets) |
//! | `summary.json` | |

use std::fmt::Write;
use std::path::Path;

use serde_json::{json, Value};

use crate::analysis::haircuts::HaircutSchedule;
use crate::report::{confidence_label, scenario_model_name, write_json, OutputTable, ReportError};
use crate::snapshot::{MarginMeasure, Snapshot};

pub fn write(dir: &Path, s: &HaircutSchedule, snapshot: &Snapshot) -> Result<(), ReportError> {
    let h = &s.haircuts;
    OutputTable::default()
        .text("asset", h.iter().map(|x| x.asset.clone()).collect())
        .text(
            "class",
            h.iter().map(|x| x.class.name().to_string()).collect(),
        )
        .optional_number(
            "configured_haircut",
            h.iter().map(|x| x.configured).collect(),
        )
        .number(
            "calibrated_haircut",
            h.iter().map(|x| x.calibrated).collect(),
        )
        .number("stressed_haircut", h.iter().map(|x| x.stressed).collect())
        .number("schedule_haircut", h.iter().map(|x| x.schedule()).collect())
        .optional_number(
            "configured_minus_schedule",
            h.iter().map(|x| x.difference()).collect(),
        )
        .flag(
            "configured_below_schedule",
            h.iter().map(|x| x.configured_below()).collect(),
        )
        .optional_number(
            "calibrated_std_error",
            h.iter().map(|x| x.std_errors.map(|e| e.0)).collect(),
        )
        .optional_number(
            "stressed_std_error",
            h.iter().map(|x| x.std_errors.map(|e| e.1)).collect(),
        )
        .write_parquet(&dir.join("haircuts.parquet"))?;
    write_json(&dir.join("summary.json"), &summary(s, snapshot))
}

fn measure_name(measure: MarginMeasure) -> &'static str {
    match measure {
        MarginMeasure::ValueAtRisk => "var",
        MarginMeasure::ExpectedShortfall => "es",
    }
}

/// `summary.json`: the measure and its inputs, the schedule, and the assets
/// whose configured haircut is below it.
pub fn summary(s: &HaircutSchedule, snapshot: &Snapshot) -> Value {
    let p = &s.params;
    json!({
        "clearstress_version": crate::VERSION,
        "measure": measure_name(p.measure),
        "confidence": p.confidence,
        "horizon_days": p.horizon_days,
        "scenario_model": scenario_model_name(&snapshot.config.scenario),
        "paths": s.paths,
        "seed": s.seed,
        "history": s.history,
        "stress_period": [p.stress.from.to_string(), p.stress.to.to_string()],
        "not_stressed": s.not_stressed,
        "schedule": s.haircuts.iter().map(|x| json!({
            "asset": x.asset,
            "configured": x.configured,
            "schedule": x.schedule(),
        })).collect::<Vec<_>>(),
        "configured_below_schedule": s.haircuts.iter()
            .filter(|x| x.configured_below())
            .map(|x| x.asset.as_str())
            .collect::<Vec<_>>(),
    })
}

/// Percent with two decimals, `-` for none.
fn percent(x: Option<f64>) -> String {
    x.map_or("-".into(), |x| format!("{:.2}%", 100.0 * x))
}

/// The terminal view: the measure, then one line per asset.
pub fn terminal(s: &HaircutSchedule, snapshot: &Snapshot) -> String {
    let p = &s.params;
    let mut out = String::new();
    let _ = writeln!(
        out,
        "haircuts: {} {}% of the fall in value over {} days, {}, {} paths, seed {}; floor: the \
         same on the volatilities of {}..{} ({})",
        measure_name(p.measure).to_uppercase(),
        confidence_label(p.confidence).replace('_', "."),
        p.horizon_days,
        scenario_model_name(&snapshot.config.scenario),
        s.paths,
        s.seed,
        p.stress.from,
        p.stress.to,
        s.history,
    );
    if !s.not_stressed.is_empty() {
        let _ = writeln!(
            out,
            "note: too few returns in the stress period, the floor keeps today's volatility: {}",
            s.not_stressed.join(", ")
        );
    }
    let _ = writeln!(
        out,
        "\n{:<12} {:<10} {:>11} {:>11} {:>11} {:>11}",
        "asset", "class", "configured", "calibrated", "stressed", "schedule"
    );
    for x in &s.haircuts {
        let _ = writeln!(
            out,
            "{:<12} {:<10} {:>11} {:>11} {:>11} {:>11}{}",
            x.asset,
            x.class.name(),
            percent(x.configured),
            percent(Some(x.calibrated)),
            percent(Some(x.stressed)),
            percent(Some(x.schedule())),
            if x.configured_below() {
                "  configured below the schedule"
            } else {
                ""
            }
        );
    }
    out
}
