//! A run's outputs, one section per stage of its result: each writes its
//! Parquet tables, its entries in `summary.json` and its lines of the terminal
//! summary, so that a new stage adds one section.
//!
//! | file | one row per | columns |
//! |---|---|---|
//! | `margins.parquet` | member | member_id, name, group, gross_notional, collateral, initial_margin, excess, margin_call, then per confidence c (e.g. `99`, `99_5`): `var_c`, `var_c_scenario`, `es_c`, `es_c_stderr` |
//! | `stress_losses.parquet` | (stress scenario, member) | scenario, member_id, group, loss, collateral, uncovered |
//! | `stress_groups.parquet` | (stress scenario, affiliate group) | scenario, group, loss, collateral, uncovered |
//! | `default_fund.parquet` | member | member_id, group, share, required_contribution, current_contribution, top_up |
//! | `default_fund_scenarios.parquet` | stress scenario | scenario, cover1, cover2, cover_n, largest_group, largest_group_loss, second_group, second_group_loss |
//! | `waterfall.parquet` | (stress scenario, case, layer used) | scenario, case (`cover-n`, `configured-i`), defaulting_groups (names joined by ` + `), layer, available, used, remaining |
//! | `waterfall_members.parquet` | (stress scenario, case, surviving member) | scenario, case, member_id, group, default_fund_loss, assessment, gains_haircut, deleveraged |
//! | `loss_distribution.parquet` | bin of the largest margin's loss histogram | member_id, loss_from, loss_to, scenarios |
//! | `liquidity_stress.parquet` | (stress scenario, settlement currency) | scenario, defaulting_groups, currency, need, defaulters_collateral, ccp_resources, shortfall |
//! | `reverse_stress.parquet` | stress scenario | scenario, resources, cover_n, k_searched, k_star, cover_n_at_k_star, groups_to_exhaust |
//! | `fund_depletion.parquet` | confidence | confidence, scenarios, cover, resources, exhausted, probability_of_exhaustion, probability_stderr, demand_var, demand_es, demand_es_stderr, depletion_var, depletion_es, depletion_es_stderr |
//! | `collateral_eligibility.parquet` | posted holding | member_id, group, asset, amount, market_value, haircut (null: ineligible, none configured), after_haircut, cut_ineligible, cut_wrong_way, cut_member_share, cut_issuer_share, counted |
//! | `close_out.parquet` | (member, asset) with a non-zero exposure | member, group, asset, exposure_usd, adv_usd, spread_cost, impact_cost, total |

mod close_out;
mod collateral;
mod contagion;
mod default_fund;
mod depletion;
mod distribution;
mod info;
mod liquidity;
mod margin;
mod reverse_stress;
mod stress;
mod waterfall;

pub use info::scenario_model_name;

use std::path::PathBuf;

use serde_json::{json, Map, Value};

use super::{html, object, write_json, OutputDir, OutputTable, ReportError};
use crate::engine::RunResult;
use crate::snapshot::Snapshot;

/// A run's result with the snapshot it ran on: what every section reads.
#[derive(Clone, Copy)]
pub struct RunView<'a> {
    pub snapshot: &'a Snapshot,
    pub result: &'a RunResult,
}

/// One stage's part of a run's outputs.
trait Section {
    /// Parquet tables, by file name.
    fn tables(&self, _run: RunView) -> Vec<(&'static str, OutputTable)> {
        Vec::new()
    }
    /// Its entries in `summary.json`.
    fn summary(&self, run: RunView, into: &mut Map<String, Value>);
    /// Its lines of the terminal summary.
    fn terminal(&self, run: RunView, out: &mut String);
}

fn sections(result: &RunResult) -> [&dyn Section; 11] {
    [
        &result.run,
        &result.collateral,
        &result.margin,
        &result.stress,
        &result.default_fund,
        &result.waterfall,
        &result.close_out,
        &result.distribution,
        &result.reverse_stress,
        &result.fund_depletion,
        &result.liquidity,
    ]
}

/// What the manifest records beyond the run's result, and what else the
/// run writes.
#[derive(Debug, Clone)]
pub struct RunContext {
    pub command_line: Vec<String>,
    pub threads: usize,
    pub report: RunReport,
}

/// Whether a run also writes the report of its own outputs (`run --report`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RunReport {
    /// The tables, `summary.json` and the manifest only.
    None,
    /// Also `report.html` and `pqd.csv`, rendered from the staged outputs as
    /// `clearstress report` renders the folder, and listed in its manifest.
    HtmlAndPqd,
}

/// The headline numbers, as written to `summary.json`.
pub fn summary_json(snapshot: &Snapshot, result: &RunResult) -> Value {
    let run = RunView { snapshot, result };
    let mut summary = Map::new();
    for section in sections(result) {
        section.summary(run, &mut summary);
    }
    Value::Object(summary)
}

/// The summary for a terminal.
pub fn terminal_summary(snapshot: &Snapshot, result: &RunResult) -> String {
    let run = RunView { snapshot, result };
    let mut out = String::new();
    for section in sections(result) {
        section.terminal(run, &mut out);
    }
    out
}

/// Every table of a run, by file name.
pub fn tables(snapshot: &Snapshot, result: &RunResult) -> Vec<(&'static str, OutputTable)> {
    let run = RunView { snapshot, result };
    sections(result)
        .iter()
        .flat_map(|s| s.tables(run))
        .collect()
}

/// Every input file the snapshot was read from, with its SHA-256, as a
/// manifest's `inputs` (a run's, and a backtest's: `report --backtest` checks
/// that both read the same book).
pub fn inputs_json(snapshot: &Snapshot) -> Value {
    snapshot
        .sources
        .iter()
        .map(|s| json!({"name": s.name, "sha256": s.sha256}))
        .collect()
}

/// Writes every output of a run into `out` and puts it in place; returns the
/// destination. With [`RunReport::HtmlAndPqd`] the staged outputs get a
/// manifest first, are read back and checked as `clearstress report` reads a
/// run folder (one source of truth: the files, not the values in memory), and
/// the report rendered from them is staged beside them; the commit then lists
/// every file, the report's too, in the one manifest.
pub fn write_outputs(
    out: OutputDir,
    snapshot: &Snapshot,
    result: &RunResult,
    context: &RunContext,
) -> Result<PathBuf, ReportError> {
    let dir = out.path();
    for (name, table) in tables(snapshot, result) {
        table.write_parquet(&dir.join(name))?;
    }
    write_json(&dir.join("summary.json"), &summary_json(snapshot, result))?;
    let manifest = json!({
        "command_line": context.command_line,
        "backend": result.run.backend,
        "threads": context.threads,
        "inputs": inputs_json(snapshot),
        "stress_scenarios": snapshot.stress.iter().map(|s| json!({"name": s.name, "origin": s.origin})).collect::<Vec<_>>(),
        "seed": snapshot.config.scenario.seed,
        "paths": result.run.scenarios,
        "config": snapshot.config,
        "rng": "Philox4x32-10; key = (seed mod 2^32, seed div 2^32); counter = (n mod 2^32, n div 2^32, step, stream << 24 | block); Box-Muller normals",
        "timings_seconds": info::timings_json(&result.run),
    });
    let manifest = object(manifest);
    if context.report == RunReport::HtmlAndPqd {
        out.write_manifest(manifest.clone())?;
        let run = html::RunFolder::open_as(&dir, out.shown())?;
        html::write_files(&dir, &run, &html::Companions::default())?;
    }
    Ok(out.commit(manifest)?)
}
