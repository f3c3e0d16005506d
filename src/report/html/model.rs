//! The model the margins come from, for a reader (issue 14: type,
//! confidence, margin period of risk, look-back, calibration, APC tool): a
//! curated table read from `summary.json` and `manifest.json`'s recorded
//! configuration, then that configuration in full. What the run's outputs do
//! not record (how the market data were calibrated) is said to be not
//! recorded, never inferred.

use serde_json::Value;

use super::run_folder::RunFolder;
use super::{count, escape, percent, table};

/// `value`'s leaves as (dotted path, JSON text) rows, in key order.
fn leaves(prefix: &str, value: &Value, out: &mut Vec<Vec<String>>) {
    match value {
        Value::Object(map) => {
            for (key, v) in map {
                let path = if prefix.is_empty() {
                    key.clone()
                } else {
                    format!("{prefix}.{key}")
                };
                leaves(&path, v, out);
            }
        }
        Value::String(text) => out.push(vec![escape(prefix), escape(text)]),
        other => out.push(vec![escape(prefix), escape(&other.to_string())]),
    }
}

/// A recorded value as text: a string as itself, anything else as JSON,
/// "not recorded" where the manifest has no such field.
fn shown(value: &Value) -> String {
    match value {
        Value::Null => "not recorded".into(),
        Value::String(text) => text.clone(),
        other => other.to_string(),
    }
}

/// "2 days, one time step", "10 days in 5 time steps": whole days without a
/// decimal point, a day count as configured otherwise.
fn horizon(days: &Value, steps: &Value) -> String {
    if days.is_null() {
        return shown(days);
    }
    let days = match days.as_f64() {
        Some(d) if d.fract() == 0.0 && d.abs() < 1e15 => format!("{d:.0}"),
        _ => shown(days),
    };
    match steps.as_u64() {
        Some(1) => format!("{days} days, one time step"),
        _ => format!("{days} days in {} time steps", shown(steps)),
    }
}

/// Confidence levels as percentages: [0.99, 0.995] -> "99%, 99.5%".
fn percents(levels: &Value) -> String {
    match levels.as_array() {
        Some(levels) => levels
            .iter()
            .filter_map(Value::as_f64)
            .map(|c| format!("{}%", percent(c)))
            .collect::<Vec<_>>()
            .join(", "),
        None => "not recorded".into(),
    }
}

/// The curated rows: (item, value as plain text), in the order a reader asks.
pub fn rows(run: &RunFolder) -> Vec<(&'static str, String)> {
    let (m, s) = (&run.manifest, &run.summary);
    let scenario = &m.config["scenario"];
    let risk = &m.config["risk"];
    let mut rows = vec![
        ("scenario model", s.scenario_model.clone()),
        (
            "margin measure and confidence",
            format!("{} at {}%", s.margin.measure, percent(s.margin.confidence)),
        ),
        (
            "margin period of risk",
            horizon(&risk["margin_period_days"], &risk["steps"]),
        ),
        ("VaR reported at", percents(&risk["var_confidence"])),
        ("ES reported at", percents(&risk["es_confidence"])),
    ];
    let historical = &scenario["historical"];
    if historical.is_null() {
        rows.extend([
            ("innovations", innovations(scenario)),
            ("jumps", jumps(&scenario["jumps"])),
            (
                "look-back",
                "none: the parametric model reads no price history".into(),
            ),
        ]);
    } else {
        rows.extend([
            ("history resampled", shown(&historical["history"])),
            (
                "look-back",
                format!("{} calendar days", shown(&historical["lookback_days"])),
            ),
            (
                "EWMA decay (volatility filter)",
                shown(&historical["lambda"]),
            ),
        ]);
    }
    rows.extend([
        (
            "implied-volatility shocks",
            format!(
                "vol of vol {}, spot-vol correlation {}",
                shown(&scenario["vol_shock"]["vol_of_vol"]),
                shown(&scenario["vol_shock"]["spot_vol_correlation"])
            ),
        ),
        ("Monte Carlo scenarios (paths)", count(m.paths)),
        ("seed", m.seed.to_string()),
        ("anti-procyclicality tool", apc(run)),
        (
            "volatilities and correlations",
            "the snapshot's market files as given (market/vol_surface, market/correlation; their \
             SHA-256 under Inputs)"
                .into(),
        ),
        (
            "calibration summary",
            "not recorded in the run: the run reads the snapshot's market as given and records \
             no fit (clearstress calibrate writes its own report of each fit)"
                .into(),
        ),
    ]);
    rows
}

/// The innovations' family with the one parameter that applies to it
/// (`dof` for Student-t, `nig_shape` for NIG; methodology, section 4).
fn innovations(scenario: &Value) -> String {
    let family = &scenario["innovations"];
    match family.as_str() {
        Some("gaussian") => "Gaussian".into(),
        Some("student-t") => format!("Student-t, {} degrees of freedom", shown(&scenario["dof"])),
        Some("nig") => format!("NIG, shape {}", shown(&scenario["nig_shape"])),
        _ => shown(family),
    }
}

fn jumps(jumps: &Value) -> String {
    if jumps.is_null() {
        return "none".into();
    }
    format!(
        "{} a year, mean {} and standard deviation {} daily sigmas",
        shown(&jumps["intensity_per_year"]),
        shown(&jumps["mean_sigmas"]),
        shown(&jumps["stdev_sigmas"])
    )
}

/// `summary.json`'s `margin.anti_procyclicality`, or "none".
fn apc(run: &RunFolder) -> String {
    let Some(apc) = &run.summary.margin.anti_procyclicality else {
        return "none".into();
    };
    let mut text = apc.tool.clone();
    if let Some(p) = &apc.stress_period {
        text.push_str(&format!(", stress period {}..{}", p.from, p.to));
    }
    if !apc.not_stressed.is_empty() {
        text.push_str(&format!(
            "; kept today's volatility (too few stress-period returns): {}",
            apc.not_stressed.join(", ")
        ));
    }
    text
}

pub fn section(run: &RunFolder) -> String {
    let curated: Vec<Vec<String>> = rows(run)
        .into_iter()
        .map(|(k, v)| vec![escape(k), escape(&v)])
        .collect();
    let mut config = Vec::new();
    leaves("", &run.manifest.config, &mut config);
    format!(
        "<section id=\"model\"><h2>The model</h2>\
         <p>How the margins were sized, from <code>summary.json</code> and the configuration \
         <code>manifest.json</code> records (methodology, sections 4 to 9).</p>{}\
         <h3>Every parameter</h3><p>The run's configuration as <code>manifest.json</code> \
         records it.</p>{}</section>",
        table(&["item", "value"], &[], &curated),
        table(&["parameter", "value"], &[], &config)
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn the_horizon_reads_as_days_and_steps() {
        assert_eq!(horizon(&json!(2.0), &json!(1)), "2 days, one time step");
        assert_eq!(horizon(&json!(10.0), &json!(5)), "10 days in 5 time steps");
        assert_eq!(horizon(&json!(2.5), &json!(2)), "2.5 days in 2 time steps");
        assert_eq!(horizon(&Value::Null, &json!(1)), "not recorded");
    }
}
