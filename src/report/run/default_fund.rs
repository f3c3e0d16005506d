//! The default fund stage: Cover-1/Cover-2 per stress scenario, the
//! requirement and its driver and the allocation; `summary.json` also gives
//! the requirement's waterfall under `default_fund`, where the HTML report
//! reads it (the waterfall section writes the rest).

use std::fmt::Write as _;

use serde_json::{json, Map, Value};

use super::waterfall::layers_json;
use super::{RunView, Section};
use crate::default_fund::{CoverDriver, DefaultFund};
use crate::report::{money, plural, OutputTable};
use crate::snapshot::AllocationRule;

/// Stress scenarios listed in the terminal, worst first; all are in
/// default_fund_scenarios.parquet.
const LISTED: usize = 5;

impl DefaultFund {
    fn allocation_table(&self, run: RunView) -> OutputTable {
        let members = &run.snapshot.members;
        let a = &self.allocation;
        OutputTable::default()
            .text("member_id", members.iter().map(|x| x.id.clone()).collect())
            .text("group", members.iter().map(|x| x.group.clone()).collect())
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

    fn scenarios_table(&self, run: RunView) -> OutputTable {
        let names = &run.result.stress.groups.names;
        let per = &self.per_scenario;
        let ranked: Vec<Vec<(usize, f64)>> = per.iter().map(|c| c.ranked()).collect();
        let nth = |k: usize| -> (Vec<String>, Vec<f64>) {
            ranked
                .iter()
                .map(|r| {
                    r.get(k)
                        .map_or((String::new(), 0.0), |&(g, x)| (names[g].clone(), x))
                })
                .unzip()
        };
        let (largest, largest_loss) = nth(0);
        let (second, second_loss) = nth(1);
        OutputTable::default()
            .text(
                "scenario",
                run.snapshot.stress.iter().map(|s| s.name.clone()).collect(),
            )
            .number("cover1", per.iter().map(|x| x.cover1).collect())
            .number("cover2", per.iter().map(|x| x.cover2).collect())
            .number("cover_n", per.iter().map(|x| x.cover_n).collect())
            .text("largest_group", largest)
            .number("largest_group_loss", largest_loss)
            .text("second_group", second)
            .number("second_group_loss", second_loss)
    }
}

fn driver_json(run: RunView, driver: &CoverDriver) -> Value {
    let groups = &run.result.stress.groups;
    json!({
        "amount": driver.amount,
        "scenario": run.snapshot.stress.get(driver.scenario).map(|s| s.name.clone()),
        "groups": driver.groups.iter().map(|&(g, loss)| json!({
            "group": groups.names[g],
            "members": run.snapshot.members.iter().enumerate()
                .filter(|(m, _)| groups.of[*m] == g).map(|(_, x)| x.id.clone()).collect::<Vec<_>>(),
            "uncovered_loss": loss,
        })).collect::<Vec<_>>(),
    })
}

/// The groups driving a cover, with their uncovered losses.
fn driving_groups(run: RunView, groups: &[(usize, f64)]) -> String {
    let names = &run.result.stress.groups.names;
    groups
        .iter()
        .map(|&(g, x)| format!("{} ({})", names[g], money(x)))
        .collect::<Vec<_>>()
        .join(" + ")
}

impl Section for DefaultFund {
    fn tables(&self, run: RunView) -> Vec<(&'static str, OutputTable)> {
        vec![
            ("default_fund.parquet", self.allocation_table(run)),
            ("default_fund_scenarios.parquet", self.scenarios_table(run)),
        ]
    }

    fn summary(&self, run: RunView, into: &mut Map<String, Value>) {
        let requirement = run.result.waterfall.requirement(self);
        let current_total: f64 = run.snapshot.members.iter().map(|m| m.df_contribution).sum();
        into.insert(
            "default_fund".into(),
            json!({
                "cover": self.cover,
                "requirement": self.requirement.amount,
                "cover1": driver_json(run, &self.cover1),
                "cover2": driver_json(run, &self.cover2),
                "allocation_rule": self.allocation_rule,
                "current_total": current_total,
                "shortfall": (self.requirement.amount - current_total).max(0.0),
                "skin_in_the_game": run.snapshot.config.default_fund.skin_in_the_game,
                // Without stress scenarios nothing defaults: no layer, nothing unfunded.
                "waterfall": requirement.map_or(json!([]), |w| layers_json(&w.waterfall)),
                "unfunded": requirement.map_or(0.0, |w| w.waterfall.unfunded),
            }),
        );
    }

    fn terminal(&self, run: RunView, out: &mut String) {
        let stress = &run.snapshot.stress;
        let scenario_name = |i: usize| stress.get(i).map_or("-", |x| x.name.as_str());
        let n = self.cover;
        let _ = writeln!(
            out,
            "default fund over {} (uncovered loss: stress loss beyond collateral after haircuts, by affiliate group):",
            plural(stress.len(), "stress scenario", "stress scenarios")
        );
        let mut order: Vec<usize> = (0..self.per_scenario.len()).collect();
        order.sort_by(|&a, &b| {
            self.per_scenario[b]
                .cover_n
                .total_cmp(&self.per_scenario[a].cover_n)
                .then(a.cmp(&b))
        });
        let _ = writeln!(
            out,
            "  {:<40} {:>16} {:>16}  groups",
            "scenario",
            "Cover-1",
            format!("Cover-{n}")
        );
        for &s in order.iter().take(LISTED) {
            let cover = &self.per_scenario[s];
            let ranked = cover.ranked();
            let _ = writeln!(
                out,
                "  {:<40} {:>16} {:>16}  {}",
                scenario_name(s).chars().take(40).collect::<String>(),
                money(cover.cover1),
                money(cover.cover_n),
                driving_groups(run, &ranked[..n.min(ranked.len())])
            );
        }
        if order.len() > LISTED {
            let _ = writeln!(
                out,
                "  ... and {} more (default_fund_scenarios.parquet)",
                order.len() - LISTED
            );
        }
        for (label, driver) in [("Cover-1", &self.cover1), ("Cover-2", &self.cover2)] {
            let _ = writeln!(
                out,
                "  {label} {:>16}  in {}: {}",
                money(driver.amount),
                scenario_name(driver.scenario),
                driving_groups(run, &driver.groups)
            );
        }
        let current: f64 = run.snapshot.members.iter().map(|m| m.df_contribution).sum();
        let _ = writeln!(
            out,
            "  requirement (Cover-{n}) {}, prefunded now {}, allocated pro rata to {}",
            money(self.requirement.amount),
            money(current),
            match self.allocation_rule {
                AllocationRule::InitialMargin => "initial margin",
                AllocationRule::StressLoss => "largest uncovered stress loss",
            }
        );
    }
}
