//! Collateral: what the eligibility and concentration rules cut from the
//! members' collateral after haircuts (`summary.json`'s
//! `collateral_eligibility`; methodology, 17.6) and, with `--haircuts`, the
//! engine's calibrated haircut schedule against the configured haircuts
//! (a `haircuts` folder; methodology, 17.7), which fills PQD 5.3.

use super::haircuts_folder::HaircutsFolder;
use super::run_folder::RunFolder;
use super::{count, escape, table};
use crate::book::collateral::eligibility::RULES;
use crate::report::money;

/// A haircut as a percentage with two decimals, "-" for none.
fn haircut(h: Option<f64>) -> String {
    h.map_or("-".into(), |h| format!("{:.2}%", 100.0 * h))
}

fn eligibility(run: &RunFolder) -> String {
    let Some(e) = &run.summary.collateral_eligibility else {
        return String::new();
    };
    if !e.rules {
        return format!(
            "<p>No eligibility or concentration rule is configured (<code>[collateral]</code> in \
             ccp.toml): all {} USD of collateral after haircuts counts.</p>",
            money(e.after_haircut)
        );
    }
    let headers = ["rule", "cut (USD)", "members cut from"];
    let rows: Vec<Vec<String>> = RULES
        .iter()
        .map(|rule| {
            vec![
                escape(&rule.replace('_', " ")),
                money(e.cut.get(*rule).copied().unwrap_or(0.0)),
                count(e.members_cut.get(*rule).copied().unwrap_or(0)),
            ]
        })
        .collect();
    format!(
        "<p>Of {} USD of collateral after haircuts, {} USD counts against initial margin under the \
         eligibility and concentration rules, applied in the order below ({} members cut from; \
         each holding in <code>{}</code>).</p>{}",
        money(e.after_haircut),
        money(e.counted),
        count(e.members_affected),
        escape(
            &run.dir
                .join("collateral_eligibility.parquet")
                .display()
                .to_string()
        ),
        table(&headers, &headers[1..], &rows)
    )
}

fn schedule(h: &HaircutsFolder) -> String {
    let s = &h.summary;
    let headers = [
        "asset",
        "configured",
        "calibrated schedule",
        "configured below it",
    ];
    let rows: Vec<Vec<String>> = s
        .schedule
        .iter()
        .map(|x| {
            let below = s.configured_below_schedule.contains(&x.asset);
            vec![
                escape(&x.asset),
                haircut(x.configured),
                haircut(Some(x.schedule)),
                if below { "yes".into() } else { "no".into() },
            ]
        })
        .collect();
    format!(
        "<p>Haircuts calibrated by the engine (<code>clearstress haircuts</code>): the {} at {}% \
         of each asset's fall in value over {} days under the {} model ({} paths), floored at the \
         same measure on the volatilities of the stress period {}..{}. Read from <code>{}</code>.</p>{}",
        escape(&s.measure.to_uppercase()),
        super::percent(s.confidence),
        s.horizon_days,
        escape(&s.scenario_model),
        count(s.paths),
        escape(&s.stress_period[0]),
        escape(&s.stress_period[1]),
        escape(&h.dir.join("summary.json").display().to_string()),
        table(&headers, &headers[1..3], &rows)
    )
}

pub fn section(run: &RunFolder, haircuts: Option<&HaircutsFolder>) -> String {
    let calibrated = haircuts.map_or_else(
        || {
            "<p>No haircut calibration was given: <code>clearstress haircuts</code> calibrates \
             each asset's haircut, and <code>report --haircuts DIR</code> reads its folder \
             (PQD 5.3).</p>"
                .to_string()
        },
        schedule,
    );
    format!(
        "<section id=\"collateral\"><h2>Collateral</h2>{}{calibrated}</section>",
        eligibility(run)
    )
}
