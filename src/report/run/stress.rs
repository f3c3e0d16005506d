//! The stress stage: every member's loss in every stress scenario, against its
//! collateral after haircuts, and the same summed per affiliate group.

use serde_json::{json, Map, Value};

use super::{RunView, Section};
use crate::engine::StressResult;
use crate::report::OutputTable;

impl StressResult {
    /// Per (stress scenario, affiliate group), groups in order of first
    /// appearance: the members' losses and collateral summed, and the group's
    /// uncovered loss `U(s, g)` as the default fund sizes it (the sum of its
    /// members' uncovered losses, not the group's loss beyond its collateral).
    fn groups_table(&self, run: RunView) -> OutputTable {
        let (snapshot, margins) = (run.snapshot, &run.result.margin.members);
        let names = &self.groups.names;
        let covers = &run.result.default_fund.per_scenario;
        let rows = snapshot.stress.len() * names.len();
        let (mut scenario, mut group) = (Vec::with_capacity(rows), Vec::with_capacity(rows));
        let (mut loss, mut collateral, mut uncovered) = (
            Vec::with_capacity(rows),
            Vec::with_capacity(rows),
            Vec::with_capacity(rows),
        );
        for ((s, stress), cover) in snapshot.stress.iter().enumerate().zip(covers) {
            let (mut l, mut c) = (vec![0.0; names.len()], vec![0.0; names.len()]);
            for (m, &g) in self.groups.of.iter().enumerate() {
                l[g] += self.losses.loss(m, s);
                c[g] += margins[m].collateral;
            }
            for (g, name) in names.iter().enumerate() {
                scenario.push(stress.name.clone());
                group.push(name.clone());
                loss.push(l[g]);
                collateral.push(c[g]);
                uncovered.push(cover.group_uncovered[g]);
            }
        }
        OutputTable::default()
            .text("scenario", scenario)
            .text("group", group)
            .number("loss", loss)
            .number("collateral", collateral)
            .number("uncovered", uncovered)
    }
}

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
        vec![
            (
                "stress_losses.parquet",
                OutputTable::default()
                    .text("scenario", scenario)
                    .text("member_id", member)
                    .text("group", group)
                    .number("loss", loss)
                    .number("collateral", collateral)
                    .number("uncovered", uncovered),
            ),
            ("stress_groups.parquet", self.groups_table(run)),
        ]
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
