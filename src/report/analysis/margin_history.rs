//! What the procyclicality study prints and writes: the book's margin through
//! history under each policy, per member and in total, and each policy's
//! procyclicality measures.
//!
//! | file | one row per | columns |
//! |---|---|---|
//! | `margin_history.parquet` | margin date | date, then each policy's book total: calculated, buffer, stressed_weight, floor_10y |
//! | `margin_history_members.parquet` | (margin date, member) | date, member_id, then each policy's margin |
//! | `procyclicality.json` | policy, by id | peak_to_trough, largest_increase, window_days, increase_from, increase_to, or not_measured; and `stress_period` {from, to}, `not_stressed` (assets that kept their own volatility) |

use std::fmt::Write;
use std::path::Path;

use serde_json::{json, Map, Value};

use crate::analysis::margin_history::{MarginHistoryParams, MarginHistoryStudy};
use crate::report::{money, write_json, OutputTable, ReportError};
use crate::snapshot::Snapshot;

/// Writes the study's tables and measures into `dir`.
pub fn write(
    dir: &Path,
    study: &MarginHistoryStudy,
    params: &MarginHistoryParams,
    snapshot: &Snapshot,
) -> Result<(), ReportError> {
    let dates: Vec<String> = study.history.dates.iter().map(|d| d.to_string()).collect();
    let mut totals = OutputTable::default().text("date", dates.clone());
    for p in &study.policies {
        totals = totals.number(p.id, p.total.clone());
    }
    totals.write_parquet(&dir.join("margin_history.parquet"))?;

    let members = &snapshot.members;
    let rows = |f: &dyn Fn(usize, usize) -> String| -> Vec<String> {
        (0..dates.len())
            .flat_map(|t| (0..members.len()).map(move |m| (t, m)))
            .map(|(t, m)| f(t, m))
            .collect()
    };
    let mut per_member = OutputTable::default()
        .text("date", rows(&|t, _| dates[t].clone()))
        .text("member_id", rows(&|_, m| members[m].id.clone()));
    for p in &study.policies {
        per_member = per_member.number(p.id, p.members.iter().flatten().copied().collect());
    }
    per_member.write_parquet(&dir.join("margin_history_members.parquet"))?;

    let mut measures = Map::new();
    for p in &study.policies {
        let measured = match &p.measures {
            Ok(m) => serde_json::to_value(m).unwrap_or_default(),
            // Kept with the reason, never dropped.
            Err(why) => json!({ "not_measured": why.to_string() }),
        };
        measures.insert(p.id.into(), measured);
    }
    measures.insert(
        "stress_period".into(),
        json!({ "from": params.stress.from.to_string(), "to": params.stress.to.to_string() }),
    );
    measures.insert("not_stressed".into(), json!(study.not_stressed));
    write_json(&dir.join("procyclicality.json"), &Value::Object(measures))
}

pub fn terminal(study: &MarginHistoryStudy, params: &MarginHistoryParams, every: u32) -> String {
    let mut out = String::new();
    let dates = &study.history.dates;
    let (Some(first), Some(last)) = (dates.first(), dates.last()) else {
        return out;
    };
    let _ = writeln!(
        out,
        "total initial margin of the book on {} dates {first}..{last}, every {every} days \
         (stressed volatilities from {}..{}):\n",
        dates.len(),
        params.stress.from,
        params.stress.to
    );
    let _ = writeln!(
        out,
        "{:<16} {:>14} {:>14} {:>14} {:>15}  largest increase",
        "policy",
        "lowest",
        "highest",
        "peak/trough",
        format!("{}-day rise", params.window_days)
    );
    for p in &study.policies {
        let low = p.total.iter().copied().fold(f64::MAX, f64::min);
        let high = p.total.iter().copied().fold(f64::MIN, f64::max);
        let _ = match &p.measures {
            Ok(m) => writeln!(
                out,
                "{:<16} {:>14} {:>14} {:>14.2} {:>14.1}%  {}..{}",
                p.name,
                money(low),
                money(high),
                m.peak_to_trough,
                100.0 * m.largest_increase,
                m.increase_from,
                m.increase_to
            ),
            Err(why) => writeln!(
                out,
                "{:<16} {:>14} {:>14}  not measured: {why}",
                p.name,
                money(low),
                money(high)
            ),
        };
    }
    if !study.not_stressed.is_empty() {
        let _ = writeln!(
            out,
            "\nkept their own volatility in the stressed market (too few returns in the stress \
             period before a date): {}",
            study.not_stressed.join(", ")
        );
    }
    out
}
