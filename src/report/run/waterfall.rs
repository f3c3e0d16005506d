//! The waterfall stage: every stress scenario's Cover-n default, layer by
//! layer, and what each survivor bears in it.

use std::fmt::Write as _;

use serde_json::{json, Map, Value};

use super::{contagion, RunView, Section};
use crate::default_management::waterfall::{
    DefaultCase, StressWaterfall, StressWaterfalls, Waterfall,
};
use crate::report::{money, OutputTable};

/// A waterfall's layers as `summary.json` lists them.
pub(super) fn layers_json(waterfall: &Waterfall) -> Value {
    waterfall
        .layers
        .iter()
        .map(|l| {
            json!({
                "layer": l.layer.name(),
                "available": l.available,
                "used": l.used,
                "remaining": l.remaining,
            })
        })
        .collect()
}

/// A case as `waterfall.parquet`'s `case` column writes it.
pub(super) fn case_name(case: DefaultCase) -> String {
    match case {
        DefaultCase::CoverN => "cover-n".into(),
        DefaultCase::Configured(i) => format!("configured-{}", i + 1),
    }
}

impl StressWaterfalls {
    /// The defaulting groups' names, largest uncovered loss first, joined by
    /// ` + ` as the terminal writes them.
    fn group_names(run: RunView, case: &StressWaterfall) -> String {
        let names = &run.result.stress.groups.names;
        case.groups
            .iter()
            .map(|&g| names[g].as_str())
            .collect::<Vec<_>>()
            .join(" + ")
    }

    fn layers_table(&self, run: RunView) -> OutputTable {
        let mut table = Rows::default();
        for case in &self.cases {
            let (scenario, groups) = (
                run.snapshot.stress[case.scenario].name.clone(),
                Self::group_names(run, case),
            );
            for l in &case.waterfall.layers {
                table.case.push(case_name(case.case));
                table.scenario.push(scenario.clone());
                table.groups.push(groups.clone());
                table.layer.push(l.layer.name().to_string());
                table.available.push(l.available);
                table.used.push(l.used);
                table.remaining.push(l.remaining);
            }
        }
        OutputTable::default()
            .text("scenario", table.scenario)
            .text("case", table.case)
            .text("defaulting_groups", table.groups)
            .text("layer", table.layer)
            .number("available", table.available)
            .number("used", table.used)
            .number("remaining", table.remaining)
    }

    /// One row per (stress scenario, surviving member).
    fn members_table(&self, run: RunView) -> OutputTable {
        let (members, group_of) = (&run.snapshot.members, &run.result.stress.groups.of);
        let (mut scenario, mut member, mut group) = (Vec::new(), Vec::new(), Vec::new());
        let mut cases = Vec::new();
        let [mut fund_loss, mut assessment, mut gains_haircut, mut deleveraged] =
            [(); 4].map(|_| Vec::new());
        for case in &self.cases {
            let charges = &case.waterfall.survivors;
            for (m, x) in members.iter().enumerate() {
                if case.groups.contains(&group_of[m]) {
                    continue;
                }
                scenario.push(run.snapshot.stress[case.scenario].name.clone());
                cases.push(case_name(case.case));
                member.push(x.id.clone());
                group.push(x.group.clone());
                fund_loss.push(charges.fund_loss[m]);
                assessment.push(charges.assessment[m]);
                gains_haircut.push(charges.gains_haircut[m]);
                deleveraged.push(charges.deleveraged[m]);
            }
        }
        OutputTable::default()
            .text("scenario", scenario)
            .text("case", cases)
            .text("member_id", member)
            .text("group", group)
            .number("default_fund_loss", fund_loss)
            .number("assessment", assessment)
            .number("gains_haircut", gains_haircut)
            .number("deleveraged", deleveraged)
    }
}

impl StressWaterfalls {
    /// The configured sets' defaults: how many (scenario, set) leave a loss
    /// unfunded, and the largest.
    fn configured_terminal(&self, run: RunView, out: &mut String) {
        let walked = self.configured().count();
        if walked == 0 {
            return;
        }
        let (short, worst) = unfunded(self.configured());
        let _ = match worst {
            None => writeln!(
                out,
                "  every configured set of defaulting groups is absorbed in every stress scenario \
                 ({walked} waterfalls, waterfall.parquet)"
            ),
            Some(worst) => writeln!(
                out,
                "  configured defaults: {} of {walked} (scenario, set) leave a loss unfunded, most {} \
                 when {} default in {} (waterfall.parquet)",
                short,
                money(worst.waterfall.unfunded),
                Self::group_names(run, worst),
                run.snapshot.stress[worst.scenario].name
            ),
        };
    }
}

/// How many of `cases` leave a loss unfunded, and the one leaving the most.
fn unfunded<'a>(
    cases: impl Iterator<Item = &'a StressWaterfall>,
) -> (usize, Option<&'a StressWaterfall>) {
    let short: Vec<&StressWaterfall> = cases.filter(|c| c.waterfall.unfunded > 0.0).collect();
    let worst = short
        .iter()
        .copied()
        .max_by(|a, b| a.waterfall.unfunded.total_cmp(&b.waterfall.unfunded));
    (short.len(), worst)
}

/// The columns of `waterfall.parquet`, filled row by row.
#[derive(Default)]
struct Rows {
    scenario: Vec<String>,
    case: Vec<String>,
    groups: Vec<String>,
    layer: Vec<String>,
    available: Vec<f64>,
    used: Vec<f64>,
    remaining: Vec<f64>,
}

impl Section for StressWaterfalls {
    fn tables(&self, run: RunView) -> Vec<(&'static str, OutputTable)> {
        let mut tables = vec![
            ("waterfall.parquet", self.layers_table(run)),
            ("waterfall_members.parquet", self.members_table(run)),
        ];
        tables.extend(contagion::table(self, run).map(|t| ("contagion.parquet", t)));
        tables
    }

    /// Per stress scenario, the loss and what was left unfunded, for its
    /// Cover-n default (`scenarios`) and each configured set's
    /// (`configured`); the requirement's layers are under `default_fund`
    /// ([`layers_json`]).
    fn summary(&self, run: RunView, into: &mut Map<String, Value>) {
        let names = &run.result.stress.groups.names;
        let case_json = |case: &StressWaterfall| {
            json!({
                "scenario": run.snapshot.stress[case.scenario].name,
                "case": case_name(case.case),
                "defaulting_groups": case.groups.iter().map(|&g| names[g].clone()).collect::<Vec<_>>(),
                "loss": case.waterfall.loss,
                "unfunded": case.waterfall.unfunded,
            })
        };
        let unfunded = |c: &&StressWaterfall| c.waterfall.unfunded > 0.0;
        into.insert(
            "waterfall".into(),
            json!({
                "scenarios": self.cover_n().map(case_json).collect::<Vec<_>>(),
                "scenarios_unfunded": self.cover_n().filter(unfunded).count(),
                "configured": self.configured().map(case_json).collect::<Vec<_>>(),
                "configured_unfunded": self.configured().filter(unfunded).count(),
            }),
        );
        if let Some(contagion) = contagion::summary(self, run) {
            into.insert("contagion".into(), contagion);
        }
    }

    fn terminal(&self, run: RunView, out: &mut String) {
        let fund = &run.result.default_fund;
        let Some(case) = self.requirement(fund) else {
            return;
        };
        let _ = writeln!(
            out,
            "  waterfall in that scenario, its groups defaulting with a loss of {}:",
            money(case.waterfall.loss)
        );
        for layer in &case.waterfall.layers {
            let _ = writeln!(
                out,
                "    {:<48} {:>16} of {:>16}",
                layer.layer.name(),
                money(layer.used),
                money(layer.available)
            );
        }
        let _ = writeln!(
            out,
            "    {:<48} {:>16}",
            "left unfunded",
            money(case.waterfall.unfunded)
        );
        let (short, worst) = unfunded(self.cover_n());
        let _ = match worst {
            None => writeln!(
                out,
                "  every stress scenario's Cover-{} default is absorbed (waterfall.parquet)",
                fund.cover
            ),
            Some(worst) => writeln!(
                out,
                "  {} of {} stress scenarios leave a loss unfunded, most {} in {} (waterfall.parquet)",
                short,
                self.cover_n().count(),
                money(worst.waterfall.unfunded),
                run.snapshot.stress[worst.scenario].name
            ),
        };
        self.configured_terminal(run, out);
        contagion::terminal(self, run, out);
    }
}
