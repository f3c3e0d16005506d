//! The close-out stage: what liquidating each member's portfolio would cost
//! were it to default (`default_management::close_out`), per asset, per
//! affiliate group, and for the groups whose default sizes the fund, beside
//! their stressed loss rather than in it.

use std::fmt::Write as _;

use serde_json::{json, Map, Value};

use super::{RunView, Section};
use crate::default_management::close_out::CloseOut;
use crate::report::{money, OutputTable};

/// Groups listed in the terminal, costliest first; all are in `summary.json`.
const LISTED: usize = 5;

/// Each group of the fund's requirement (the configured cover's groups in its
/// scenario): its uncovered stress loss, its close-out cost, and its members'
/// uncovered losses with their costs added ([`CloseOut::uncovered_with_cost`]).
struct CoverGroup {
    group: usize,
    uncovered: f64,
    close_out: f64,
    uncovered_with_close_out: f64,
}

impl CloseOut {
    fn group_costs_of(&self, run: RunView) -> Vec<f64> {
        let groups = &run.result.stress.groups;
        self.group_costs(&groups.of, groups.names.len())
    }

    fn cover_groups(&self, run: RunView) -> Vec<CoverGroup> {
        let result = run.result;
        let requirement = &result.default_fund.requirement;
        let group_cost = self.group_costs_of(run);
        let group_of = &result.stress.groups.of;
        requirement
            .groups
            .iter()
            .map(|&(group, uncovered)| CoverGroup {
                group,
                uncovered,
                close_out: group_cost[group],
                uncovered_with_close_out: (0..group_of.len())
                    .filter(|&m| group_of[m] == group)
                    .map(|m| {
                        let loss = result.stress.losses.loss(m, requirement.scenario);
                        self.uncovered_with_cost(m, loss, result.margin.members[m].collateral)
                    })
                    .sum(),
            })
            .collect()
    }
}

impl Section for CloseOut {
    fn tables(&self, run: RunView) -> Vec<(&'static str, OutputTable)> {
        let (members, assets) = (&run.snapshot.members, &run.snapshot.market.assets);
        let rows = &self.liquidations;
        let table = OutputTable::default()
            .text(
                "member",
                rows.iter().map(|l| members[l.member].id.clone()).collect(),
            )
            .text(
                "group",
                rows.iter()
                    .map(|l| members[l.member].group.clone())
                    .collect(),
            )
            .text(
                "asset",
                rows.iter().map(|l| assets[l.asset].id.clone()).collect(),
            )
            .number(
                "exposure_usd",
                rows.iter().map(|l| l.exposure_usd).collect(),
            )
            .number(
                "adv_usd",
                rows.iter().map(|l| assets[l.asset].adv_usd).collect(),
            )
            .number("spread_cost", rows.iter().map(|l| l.spread_cost).collect())
            .number("impact_cost", rows.iter().map(|l| l.impact_cost).collect())
            .number("total", rows.iter().map(|l| l.total()).collect());
        vec![("close_out.parquet", table)]
    }

    fn summary(&self, run: RunView, into: &mut Map<String, Value>) {
        let names = &run.result.stress.groups.names;
        let cover = self.cover_groups(run);
        let requirement = &run.result.default_fund.requirement;
        into.insert(
            "close_out".into(),
            json!({
                "horizon_days": self.horizon_days,
                "impact_coefficient": self.impact_coefficient,
                "total": self.member_cost.iter().sum::<f64>(),
                "groups": names.iter().zip(self.group_costs_of(run)).map(|(g, cost)| json!({"group": g, "cost": cost})).collect::<Vec<_>>(),
                "cover_groups": {
                    "scenario": run.snapshot.stress.get(requirement.scenario).map(|s| s.name.clone()),
                    "groups": cover.iter().map(|c| json!({
                        "group": names[c.group],
                        "uncovered_loss": c.uncovered,
                        "close_out_cost": c.close_out,
                        "uncovered_with_close_out": c.uncovered_with_close_out,
                    })).collect::<Vec<_>>(),
                    "uncovered_loss": requirement.amount,
                    "close_out_cost": cover.iter().map(|c| c.close_out).sum::<f64>(),
                    "uncovered_with_close_out": cover.iter().map(|c| c.uncovered_with_close_out).sum::<f64>(),
                },
            }),
        );
    }

    fn terminal(&self, run: RunView, out: &mut String) {
        let names = &run.result.stress.groups.names;
        let costs = self.group_costs_of(run);
        let mut order: Vec<usize> = (0..costs.len()).collect();
        order.sort_by(|&a, &b| costs[b].total_cmp(&costs[a]).then(a.cmp(&b)));
        let _ = writeln!(
            out,
            "close-out cost (half spread + square-root impact over {} days, not in the stress losses above): {} in all",
            self.horizon_days,
            money(self.member_cost.iter().sum())
        );
        let largest: Vec<String> = order
            .iter()
            .take(LISTED)
            .map(|&g| format!("{} {}", names[g], money(costs[g])))
            .collect();
        let _ = writeln!(out, "  largest groups: {}", largest.join(", "));
        let cover = self.cover_groups(run);
        let (uncovered, close_out, with): (f64, f64, f64) =
            cover.iter().fold((0.0, 0.0, 0.0), |(u, c, w), g| {
                (
                    u + g.uncovered,
                    c + g.close_out,
                    w + g.uncovered_with_close_out,
                )
            });
        let _ = writeln!(
            out,
            "  Cover-{} groups ({}): uncovered loss {} + close-out {} -> {} uncovered with it",
            run.result.default_fund.cover,
            cover
                .iter()
                .map(|c| names[c.group].as_str())
                .collect::<Vec<_>>()
                .join(", "),
            money(uncovered),
            money(close_out),
            money(with)
        );
    }
}
