//! The margin stage: every member's VaR, ES and initial margin against its
//! collateral after haircuts.

use std::collections::BTreeMap;
use std::fmt::Write as _;

use serde_json::{json, Map, Value};

use super::{RunView, Section};
use crate::book::collateral;
use crate::margin::MarginResult;
use crate::report::{confidence_label, money, plural, OutputTable};
use crate::snapshot::MarginMeasure;

/// Members listed in the terminal; all are in margins.parquet.
const LISTED: usize = 15;

fn measure_name(measure: MarginMeasure) -> &'static str {
    match measure {
        MarginMeasure::ExpectedShortfall => "ES",
        MarginMeasure::ValueAtRisk => "VaR",
    }
}

impl MarginResult {
    fn table(&self, run: RunView) -> OutputTable {
        let members = &run.snapshot.members;
        let m = &self.members;
        let mut table = OutputTable::default()
            .text("member_id", members.iter().map(|x| x.id.clone()).collect())
            .text("name", members.iter().map(|x| x.name.clone()).collect())
            .text("group", members.iter().map(|x| x.group.clone()).collect())
            .number("gross_notional", self.gross_notional.clone())
            .number("collateral", m.iter().map(|x| x.collateral).collect())
            .number("initial_margin", self.initial_margins())
            .number("excess", m.iter().map(|x| x.excess).collect())
            .number(
                "margin_call",
                m.iter().map(|x| (-x.excess).max(0.0)).collect(),
            );
        for (i, &c) in self.confidences.iter().enumerate() {
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
}

/// The collateral held, by asset (`USD` for cash) in id order: its market
/// value, haircut (null for an ineligible asset without one), value after
/// the haircut and value counted under the eligibility rules, summed over
/// members (PQD 6.2's split by type). The book was compiled from the same
/// snapshot, which refused any eligible holding without a haircut, so none
/// is left out here.
fn collateral_by_asset(run: RunView) -> Value {
    let mut by_asset: BTreeMap<&str, (f64, Option<f64>, f64, f64)> = BTreeMap::new();
    let snapshot = run.snapshot;
    let counted = collateral::counted(snapshot).unwrap_or_default();
    for (c, h) in snapshot.collateral.iter().zip(&counted.holdings) {
        let asset = collateral::asset_id(snapshot, c);
        let entry = by_asset.entry(asset).or_insert((0.0, h.haircut, 0.0, 0.0));
        entry.0 += h.market_value;
        entry.2 += h.after_haircut();
        entry.3 += h.counted;
    }
    by_asset
        .into_iter()
        .map(|(asset, (market_value, haircut, after_haircut, counted))| {
            json!({
                "asset": asset,
                "market_value": market_value,
                "haircut": haircut,
                "after_haircut": after_haircut,
                "counted": counted,
            })
        })
        .collect()
}

impl Section for MarginResult {
    fn tables(&self, run: RunView) -> Vec<(&'static str, OutputTable)> {
        vec![("margins.parquet", self.table(run))]
    }

    fn summary(&self, run: RunView, into: &mut Map<String, Value>) {
        let members = &run.snapshot.members;
        let margins = &self.members;
        let label = confidence_label(self.rule.confidence);
        into.insert(
            "margin".into(),
            json!({
                "anti_procyclicality": self.apc,
                "measure": self.rule.measure,
                "confidence": self.rule.confidence,
                "total_initial_margin": margins.iter().map(|m| m.initial_margin).sum::<f64>(),
                "total_collateral": margins.iter().map(|m| m.collateral).sum::<f64>(),
                "members_with_margin_call": margins.iter().filter(|m| m.excess < 0.0).count(),
                "total_margin_call": margins.iter().map(|m| (-m.excess).max(0.0)).sum::<f64>(),
                "collateral_by_asset": collateral_by_asset(run),
            }),
        );
        into.insert(
            "largest_members".into(),
            self.largest_first()
                .iter()
                .take(10)
                .map(|&m| {
                    let at = margins[m].at(self.rule.confidence);
                    json!({
                        "member_id": members[m].id,
                        "name": members[m].name,
                        "group": members[m].group,
                        "initial_margin": margins[m].initial_margin,
                        format!("var_{label}"): at.map(|x| x.var),
                        format!("es_{label}"): at.map(|x| x.es),
                        format!("es_{label}_stderr"): at.map(|x| x.es_std_error),
                        "collateral": margins[m].collateral,
                        "excess": margins[m].excess,
                    })
                })
                .collect(),
        );
    }

    fn terminal(&self, run: RunView, out: &mut String) {
        let members = &run.snapshot.members;
        let margins = &self.members;
        let rule = self.rule;
        let expected_shortfall = rule.measure == MarginMeasure::ExpectedShortfall;
        let _ = writeln!(
            out,
            "margin period {} days, margin = {} {}%{}\n",
            run.snapshot.config.risk.margin_period_days,
            measure_name(rule.measure),
            confidence_label(rule.confidence).replace('_', "."),
            self.apc.as_ref().map_or(String::new(), |apc| {
                let period = apc.stress_period.map_or(String::new(), |p| {
                    format!(" (stress period {}..{})", p.from, p.to)
                });
                format!(" with {}{period}", apc.tool.describe())
            })
        );
        let _ = writeln!(
            out,
            "{:<8} {:<34} {:>16} {:>26} {:>16}{}",
            "member",
            "name",
            "initial margin",
            "collateral counted",
            "excess",
            // A VaR is an order statistic: it has no standard error here.
            if expected_shortfall {
                format!(" {:>10}", "ES s.e.")
            } else {
                String::new()
            }
        );
        let order = self.largest_first();
        for &m in order.iter().take(LISTED) {
            let error = margins[m]
                .at(rule.confidence)
                .filter(|_| expected_shortfall)
                .map_or(String::new(), |x| {
                    format!(
                        " {:>9.2}%",
                        100.0 * x.es_std_error / margins[m].initial_margin.max(1e-9)
                    )
                });
            let _ = writeln!(
                out,
                "{:<8} {:<34} {:>16} {:>26} {:>16}{error}",
                members[m].id,
                members[m].name.chars().take(34).collect::<String>(),
                money(margins[m].initial_margin),
                money(margins[m].collateral),
                money(margins[m].excess),
            );
        }
        if order.len() > LISTED {
            let _ = writeln!(
                out,
                "... and {} more members (margins.parquet)",
                order.len() - LISTED
            );
        }
        let calls: Vec<f64> = margins
            .iter()
            .filter(|m| m.excess < 0.0)
            .map(|m| -m.excess)
            .collect();
        let _ = writeln!(
            out,
            "\ntotal initial margin {}; {} short of margin by {} in all\n",
            money(margins.iter().map(|m| m.initial_margin).sum()),
            plural(calls.len(), "member", "members"),
            money(calls.iter().sum())
        );
    }
}
