//! The stress stage: every member's loss in every stress scenario, against its
//! collateral after haircuts.

use serde_json::{json, Map, Value};

use super::{RunView, Section};
use crate::engine::StressResult;
use crate::report::OutputTable;

impl Section for StressResult {
    fn tables(&self, run: RunView) -> Vec<(&'static str, OutputTable)> {
        let (snapshot, margins) = (run.snapshot, &run.result.margin.members);
        let rows = snapshot.stress.len() * snapshot.members.len();
        let (mut scenario, mut member, mut group) = (
            Vec::with_capacity(rows),
            Vec::with_capacity(rows),
            Vec::with_capacity(rows),
        );
        let (mut loss, mut collateral, mut uncovered) = (
            Vec::with_capacity(rows),
            Vec::with_capacity(rows),
            Vec::with_capacity(rows),
        );
        for (s, stress) in snapshot.stress.iter().enumerate() {
            for (m, info) in snapshot.members.iter().enumerate() {
                let (l, c) = (self.losses.loss(m, s), margins[m].collateral);
                scenario.push(stress.name.clone());
                member.push(info.id.clone());
                group.push(info.group.clone());
                loss.push(l);
                collateral.push(c);
                uncovered.push((l - c).max(0.0));
            }
        }
        vec![(
            "stress_losses.parquet",
            OutputTable::default()
                .text("scenario", scenario)
                .text("member_id", member)
                .text("group", group)
                .number("loss", loss)
                .number("collateral", collateral)
                .number("uncovered", uncovered),
        )]
    }

    fn summary(&self, run: RunView, into: &mut Map<String, Value>) {
        let covers = &run.result.default_fund.per_scenario;
        into.insert(
            "stress_scenarios".into(),
            run.snapshot
                .stress
                .iter()
                .zip(covers)
                .map(|(s, c)| {
                    json!({"name": s.name, "origin": s.origin, "cover1": c.cover1, "cover2": c.cover2})
                })
                .collect(),
        );
    }

    /// The stress scenarios are shown by the default fund they size.
    fn terminal(&self, _run: RunView, _out: &mut String) {}
}
