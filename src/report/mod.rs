//! The run's outputs: Parquet tables, `summary.json`, the run manifest and the
//! terminal summary, written into an output folder atomically.
//!
//! | file | one row per | columns |
//! |---|---|---|
//! | `margins.parquet` | member | member_id, name, group, gross_notional, collateral, initial_margin, excess, margin_call, then per confidence c (e.g. `99`, `99_5`): `var_c`, `var_c_scenario`, `es_c`, `es_c_stderr` |
//! | `stress_losses.parquet` | (stress scenario, member) | scenario, member_id, group, loss, collateral, uncovered |
//! | `default_fund.parquet` | member | member_id, group, share, required_contribution, current_contribution, top_up |
//! | `default_fund_scenarios.parquet` | stress scenario | scenario, cover1, cover2, cover_n, largest_group, largest_group_loss, second_group, second_group_loss |

mod output;
mod parquet;

use std::path::{Path, PathBuf};

use serde_json::{json, Value};

pub use output::{OutputDir, OutputError, OutputFile, OutputKind, Step};
pub use parquet::{Column, OutputTable};

use crate::engine::RunResult;
use crate::snapshot::Snapshot;

#[derive(Debug, thiserror::Error)]
pub enum ReportError {
    #[error("{path}: {source}")]
    Io {
        path: String,
        #[source]
        source: std::io::Error,
    },
    #[error("{path}: cannot write Parquet: {source}")]
    Parquet {
        path: String,
        #[source]
        source: ::parquet::errors::ParquetError,
    },
    #[error("{path}: column `{column}` row {row} is {value}, not a finite number; no result is written with one")]
    NonFinite {
        path: String,
        column: String,
        row: usize,
        value: f64,
    },
    #[error(transparent)]
    Output(#[from] OutputError),
}

/// What the manifest records beyond the run's result.
#[derive(Debug, Clone)]
pub struct RunContext {
    pub command_line: Vec<String>,
    pub threads: usize,
}

/// Column-name form of a confidence: 0.99 -> "99", 0.995 -> "99_5".
pub fn confidence_label(confidence: f64) -> String {
    let percent = (confidence * 1e4).round() / 100.0;
    format!("{percent}").replace('.', "_")
}

pub fn margins_table(snapshot: &Snapshot, result: &RunResult) -> OutputTable {
    let m = &result.margins;
    let mut table = OutputTable::default()
        .text(
            "member_id",
            snapshot.members.iter().map(|x| x.id.clone()).collect(),
        )
        .text(
            "name",
            snapshot.members.iter().map(|x| x.name.clone()).collect(),
        )
        .text(
            "group",
            snapshot.members.iter().map(|x| x.group.clone()).collect(),
        )
        .number("gross_notional", result.gross_notional.clone())
        .number("collateral", m.iter().map(|x| x.collateral).collect())
        .number(
            "initial_margin",
            m.iter().map(|x| x.initial_margin).collect(),
        )
        .number("excess", m.iter().map(|x| x.excess).collect())
        .number(
            "margin_call",
            m.iter().map(|x| (-x.excess).max(0.0)).collect(),
        );
    for (i, &c) in result.confidences.iter().enumerate() {
        let label = confidence_label(c);
        table = table
            .number(
                &format!("var_{label}"),
                m.iter().map(|x| x.measures[i].var).collect(),
            )
            .count(
                &format!("var_{label}_scenario"),
                m.iter().map(|x| x.measures[i].var_scenario).collect(),
            )
            .number(
                &format!("es_{label}"),
                m.iter().map(|x| x.measures[i].es).collect(),
            )
            .number(
                &format!("es_{label}_stderr"),
                m.iter().map(|x| x.measures[i].es_std_error).collect(),
            );
    }
    table
}

pub fn stress_losses_table(snapshot: &Snapshot, result: &RunResult) -> OutputTable {
    let losses = &result.stress_losses;
    let (mut scenario, mut member, mut group, mut loss, mut collateral, mut uncovered) = (
        Vec::new(),
        Vec::new(),
        Vec::new(),
        Vec::new(),
        Vec::new(),
        Vec::new(),
    );
    for (s, stress) in snapshot.stress.iter().enumerate() {
        for (m, info) in snapshot.members.iter().enumerate() {
            let l = losses.loss(m, s);
            let c = result.margins[m].collateral;
            scenario.push(stress.name.clone());
            member.push(info.id.clone());
            group.push(info.group.clone());
            loss.push(l);
            collateral.push(c);
            uncovered.push((l - c).max(0.0));
        }
    }
    OutputTable::default()
        .text("scenario", scenario)
        .text("member_id", member)
        .text("group", group)
        .number("loss", loss)
        .number("collateral", collateral)
        .number("uncovered", uncovered)
}

pub fn default_fund_table(snapshot: &Snapshot, result: &RunResult) -> OutputTable {
    let a = &result.default_fund.allocation;
    OutputTable::default()
        .text(
            "member_id",
            snapshot.members.iter().map(|x| x.id.clone()).collect(),
        )
        .text(
            "group",
            snapshot.members.iter().map(|x| x.group.clone()).collect(),
        )
        .number("share", a.iter().map(|x| x.share).collect())
        .number(
            "required_contribution",
            a.iter().map(|x| x.required).collect(),
        )
        .number(
            "current_contribution",
            a.iter().map(|x| x.current).collect(),
        )
        .number("top_up", a.iter().map(|x| x.top_up).collect())
}

pub fn default_fund_scenarios_table(snapshot: &Snapshot, result: &RunResult) -> OutputTable {
    let per = &result.default_fund.per_scenario;
    let ranked = |s: usize, k: usize| -> (String, f64) {
        let mut groups: Vec<(usize, f64)> =
            per[s].group_uncovered.iter().copied().enumerate().collect();
        groups.sort_by(|a, b| b.1.total_cmp(&a.1).then(a.0.cmp(&b.0)));
        groups.get(k).map_or((String::new(), 0.0), |&(g, x)| {
            (result.group_names[g].clone(), x)
        })
    };
    let n = per.len();
    OutputTable::default()
        .text(
            "scenario",
            snapshot.stress.iter().map(|s| s.name.clone()).collect(),
        )
        .number("cover1", per.iter().map(|x| x.cover1).collect())
        .number("cover2", per.iter().map(|x| x.cover2).collect())
        .number("cover_n", per.iter().map(|x| x.cover_n).collect())
        .text("largest_group", (0..n).map(|s| ranked(s, 0).0).collect())
        .number(
            "largest_group_loss",
            (0..n).map(|s| ranked(s, 0).1).collect(),
        )
        .text("second_group", (0..n).map(|s| ranked(s, 1).0).collect())
        .number(
            "second_group_loss",
            (0..n).map(|s| ranked(s, 1).1).collect(),
        )
}

fn driver_json(
    result: &RunResult,
    snapshot: &Snapshot,
    driver: &crate::default_fund::CoverDriver,
) -> Value {
    json!({
        "amount": driver.amount,
        "scenario": snapshot.stress.get(driver.scenario).map(|s| s.name.clone()),
        "groups": driver.groups.iter().map(|&(g, loss)| json!({
            "group": result.group_names[g],
            "members": snapshot.members.iter().enumerate()
                .filter(|(m, _)| result.group_of[*m] == g).map(|(_, x)| x.id.clone()).collect::<Vec<_>>(),
            "uncovered_loss": loss,
        })).collect::<Vec<_>>(),
    })
}

/// The headline numbers, as written to `summary.json`.
pub fn summary_json(snapshot: &Snapshot, result: &RunResult) -> Value {
    let margins = &result.margins;
    let mut order: Vec<usize> = (0..margins.len()).collect();
    order.sort_by(|&a, &b| {
        margins[b]
            .initial_margin
            .total_cmp(&margins[a].initial_margin)
            .then(a.cmp(&b))
    });
    let label = confidence_label(result.margin_rule.confidence);
    let df = &result.default_fund;
    let current_total: f64 = snapshot.members.iter().map(|m| m.df_contribution).sum();
    json!({
        "clearstress_version": env!("CARGO_PKG_VERSION"),
        "valuation_date": snapshot.valuation_date.to_string(),
        "backend": result.backend,
        "scenarios": result.scenarios,
        "members": snapshot.members.len(),
        "assets": snapshot.market.assets.len(),
        "positions": snapshot.positions.len(),
        "option_series": result.option_series,
        "tail_pilot_scenarios": result.tail_pilot,
        "tail_passes": result.tail_passes,
        "margin": {
            "anti_procyclicality": result.apc,
            "measure": result.margin_rule.measure,
            "confidence": result.margin_rule.confidence,
            "total_initial_margin": margins.iter().map(|m| m.initial_margin).sum::<f64>(),
            "total_collateral": margins.iter().map(|m| m.collateral).sum::<f64>(),
            "members_with_margin_call": margins.iter().filter(|m| m.excess < 0.0).count(),
            "total_margin_call": margins.iter().map(|m| (-m.excess).max(0.0)).sum::<f64>(),
        },
        "largest_members": order.iter().take(10).map(|&m| {
            let at = margins[m].at(result.margin_rule.confidence);
            json!({
                "member_id": snapshot.members[m].id,
                "name": snapshot.members[m].name,
                "group": snapshot.members[m].group,
                "initial_margin": margins[m].initial_margin,
                format!("var_{label}"): at.map(|x| x.var),
                format!("es_{label}"): at.map(|x| x.es),
                format!("es_{label}_stderr"): at.map(|x| x.es_std_error),
                "collateral": margins[m].collateral,
                "excess": margins[m].excess,
            })
        }).collect::<Vec<_>>(),
        "default_fund": {
            "cover": df.cover,
            "requirement": df.requirement.amount,
            "cover1": driver_json(result, snapshot, &df.cover1),
            "cover2": driver_json(result, snapshot, &df.cover2),
            "allocation_rule": df.allocation_rule,
            "current_total": current_total,
            "shortfall": (df.requirement.amount - current_total).max(0.0),
            "skin_in_the_game": snapshot.config.default_fund.skin_in_the_game,
            "waterfall": df.waterfall.iter().map(|l| json!({"layer": l.name, "available": l.available, "used": l.used})).collect::<Vec<_>>(),
            "unfunded": df.unfunded,
        },
        "stress_scenarios": snapshot.stress.iter().zip(&df.per_scenario).map(|(s, c)| json!({
            "name": s.name, "origin": s.origin, "cover1": c.cover1, "cover2": c.cover2,
        })).collect::<Vec<_>>(),
        "timings_seconds": timings_json(result),
    })
}

fn timings_json(result: &RunResult) -> Value {
    let t = &result.timings;
    json!({
        "compile": t.compile.as_secs_f64(),
        "monte_carlo": t.monte_carlo.as_secs_f64(),
        "statistics": t.statistics.as_secs_f64(),
        "stress": t.stress.as_secs_f64(),
        "total": t.total.as_secs_f64(),
        "scenarios_per_second": result.scenarios as f64 / t.monte_carlo.as_secs_f64().max(1e-9),
    })
}

/// Writes every output of a run into `out` and puts it in place; returns the
/// destination.
pub fn write_outputs(
    out: OutputDir,
    snapshot: &Snapshot,
    result: &RunResult,
    context: &RunContext,
) -> Result<PathBuf, ReportError> {
    let dir = out.path();
    let tables = [
        ("margins.parquet", margins_table(snapshot, result)),
        (
            "stress_losses.parquet",
            stress_losses_table(snapshot, result),
        ),
        ("default_fund.parquet", default_fund_table(snapshot, result)),
        (
            "default_fund_scenarios.parquet",
            default_fund_scenarios_table(snapshot, result),
        ),
    ];
    for (name, table) in &tables {
        table.write_parquet(&dir.join(name))?;
    }
    write_json(&dir.join("summary.json"), &summary_json(snapshot, result))?;
    let manifest = json!({
        "command_line": context.command_line,
        "backend": result.backend,
        "threads": context.threads,
        "inputs": snapshot.sources.iter().map(|s| json!({"name": s.name, "sha256": s.sha256})).collect::<Vec<_>>(),
        "stress_scenarios": snapshot.stress.iter().map(|s| json!({"name": s.name, "origin": s.origin})).collect::<Vec<_>>(),
        "seed": snapshot.config.scenario.seed,
        "paths": result.scenarios,
        "config": snapshot.config,
        "rng": "Philox4x32-10; key = (seed mod 2^32, seed div 2^32); counter = (n mod 2^32, n div 2^32, step, stream << 24 | block); Box-Muller normals",
        "timings_seconds": timings_json(result),
    });
    Ok(out.commit(object(manifest))?)
}

/// A JSON object's fields (empty for anything else).
pub fn object(value: Value) -> serde_json::Map<String, Value> {
    match value {
        Value::Object(map) => map,
        _ => serde_json::Map::new(),
    }
}

/// Writes `value` as pretty JSON with a final newline.
pub fn write_json(path: &Path, value: &Value) -> Result<(), ReportError> {
    let text = serde_json::to_string_pretty(value).unwrap_or_default() + "\n";
    std::fs::write(path, text).map_err(|source| ReportError::Io {
        path: path.display().to_string(),
        source,
    })
}

/// The summary for a terminal: margins of the largest members and the fund.
pub fn terminal_summary(snapshot: &Snapshot, result: &RunResult) -> String {
    use std::fmt::Write as _;
    let mut s = String::new();
    let margins = &result.margins;
    let rule = result.margin_rule;
    let label = confidence_label(rule.confidence);
    let _ = writeln!(
        s,
        "clearstress {}: {} members, {} assets, {} positions ({} option series), valuation date {}",
        env!("CARGO_PKG_VERSION"),
        snapshot.members.len(),
        snapshot.market.assets.len(),
        snapshot.positions.len(),
        result.option_series,
        snapshot.valuation_date
    );
    let _ = writeln!(
        s,
        "{} scenarios on {} in {:.2} s ({:.0} scenarios/s), margin period {} days, margin = {} {}%{}\n",
        result.scenarios,
        result.backend,
        result.timings.monte_carlo.as_secs_f64(),
        result.scenarios as f64 / result.timings.monte_carlo.as_secs_f64().max(1e-9),
        snapshot.config.risk.margin_period_days,
        match rule.measure {
            crate::snapshot::MarginMeasure::ExpectedShortfall => "ES",
            crate::snapshot::MarginMeasure::ValueAtRisk => "VaR",
        },
        label.replace('_', "."),
        match result.apc {
            Some(crate::engine::ApcTool::Buffer) => " with a 25% APC buffer",
            Some(crate::engine::ApcTool::StressedWeight) => " with 25% APC weight on stressed volatilities",
            Some(crate::engine::ApcTool::Floor) => " floored at the 10-year-volatility margin (APC)",
            None => "",
        }
    );
    let mut order: Vec<usize> = (0..margins.len()).collect();
    order.sort_by(|&a, &b| {
        margins[b]
            .initial_margin
            .total_cmp(&margins[a].initial_margin)
            .then(a.cmp(&b))
    });
    let _ = writeln!(
        s,
        "{:<8} {:<34} {:>16} {:>16} {:>16} {:>10}",
        "member", "name", "initial margin", "collateral", "excess", "ES s.e."
    );
    for &m in order.iter().take(15) {
        let se = margins[m]
            .at(rule.confidence)
            .map_or(0.0, |x| x.es_std_error);
        let _ = writeln!(
            s,
            "{:<8} {:<34} {:>16} {:>16} {:>16} {:>9.2}%",
            snapshot.members[m].id,
            truncate(&snapshot.members[m].name, 34),
            money(margins[m].initial_margin),
            money(margins[m].collateral),
            money(margins[m].excess),
            100.0 * se / margins[m].initial_margin.max(1e-9)
        );
    }
    if order.len() > 15 {
        let _ = writeln!(
            s,
            "... and {} more members (margins.parquet)",
            order.len() - 15
        );
    }
    let total_im: f64 = margins.iter().map(|m| m.initial_margin).sum();
    let calls: Vec<&crate::margin::MemberMargin> =
        margins.iter().filter(|m| m.excess < 0.0).collect();
    let _ = writeln!(
        s,
        "\ntotal initial margin {}; {} members short of margin by {} in all\n",
        money(total_im),
        calls.len(),
        money(calls.iter().map(|m| -m.excess).sum())
    );
    let df = &result.default_fund;
    let scenario_name = |i: usize| snapshot.stress.get(i).map_or("-", |x| x.name.as_str());
    let groups = |d: &crate::default_fund::CoverDriver| {
        d.groups
            .iter()
            .map(|&(g, x)| format!("{} ({})", result.group_names[g], money(x)))
            .collect::<Vec<_>>()
            .join(" + ")
    };
    let _ = writeln!(
        s,
        "default fund over {} stress scenarios:",
        snapshot.stress.len()
    );
    let _ = writeln!(
        s,
        "  Cover-1 {:>16}  in {}: {}",
        money(df.cover1.amount),
        scenario_name(df.cover1.scenario),
        groups(&df.cover1)
    );
    let _ = writeln!(
        s,
        "  Cover-2 {:>16}  in {}: {}",
        money(df.cover2.amount),
        scenario_name(df.cover2.scenario),
        groups(&df.cover2)
    );
    let current: f64 = snapshot.members.iter().map(|m| m.df_contribution).sum();
    let _ = writeln!(
        s,
        "  requirement (Cover-{}) {}, prefunded now {}, allocated pro rata to {}",
        df.cover,
        money(df.requirement.amount),
        money(current),
        match df.allocation_rule {
            crate::snapshot::AllocationRule::InitialMargin => "initial margin",
            crate::snapshot::AllocationRule::StressLoss => "largest uncovered stress loss",
        }
    );
    let _ = writeln!(s, "  waterfall in that scenario:");
    for layer in &df.waterfall {
        let _ = writeln!(
            s,
            "    {:<48} {:>16} of {:>16}",
            layer.name,
            money(layer.used),
            money(layer.available)
        );
    }
    let _ = writeln!(
        s,
        "    {:<48} {:>16}",
        "left unfunded (assessments)",
        money(df.unfunded)
    );
    s
}

fn truncate(text: &str, width: usize) -> String {
    text.chars().take(width).collect()
}

/// USD with thousands separators, no cents.
pub fn money(x: f64) -> String {
    let negative = x < 0.0;
    let digits = format!("{:.0}", x.abs());
    let mut out = String::new();
    for (i, c) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i) % 3 == 0 {
            out.push(',');
        }
        out.push(c);
    }
    if negative && digits != "0" {
        format!("-{out}")
    } else {
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn confidence_labels_are_column_safe() {
        assert_eq!(confidence_label(0.99), "99");
        assert_eq!(confidence_label(0.995), "99_5");
        assert_eq!(confidence_label(0.975), "97_5");
    }

    #[test]
    fn money_groups_thousands() {
        assert_eq!(money(1_234_567.4), "1,234,567");
        assert_eq!(money(-999.6), "-1,000");
        assert_eq!(money(0.2), "0");
    }
}
