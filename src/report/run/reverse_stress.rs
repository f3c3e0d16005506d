//! `reverse_stress.parquet`: per stress scenario, the multiplier that
//! exhausts the prefunded resources and the fewest defaults that do
//! ([`crate::default_management::reverse_stress`]).

use serde_json::{json, Map, Value};

use super::{RunView, Section};
use crate::default_management::{reverse_stress, ReverseStress};
use crate::report::{money, OutputTable};

impl Section for Option<ReverseStress> {
    fn tables(&self, run: RunView) -> Vec<(&'static str, OutputTable)> {
        let Some(r) = self else {
            return Vec::new();
        };
        let rows = &r.scenarios;
        let table = OutputTable::default()
            .text(
                "scenario",
                run.snapshot.stress.iter().map(|s| s.name.clone()).collect(),
            )
            .number("resources", vec![r.resources; rows.len()])
            .number("cover_n", rows.iter().map(|x| x.cover_n).collect())
            .number("k_searched", rows.iter().map(|x| x.k_searched).collect())
            .optional_number("k_star", rows.iter().map(|x| x.k_star).collect())
            .optional_number(
                "cover_n_at_k_star",
                rows.iter().map(|x| x.cover_at_k_star).collect(),
            )
            .optional_count(
                "groups_to_exhaust",
                rows.iter()
                    .map(|x| x.groups_to_exhaust.map(|j| j as u64))
                    .collect(),
            );
        vec![("reverse_stress.parquet", table)]
    }

    fn summary(&self, run: RunView, into: &mut Map<String, Value>) {
        let Some(r) = self else {
            return;
        };
        let name = |s: usize| run.snapshot.stress[s].name.clone();
        into.insert(
            "reverse_stress".into(),
            json!({
                "resources": r.resources,
                "cover": r.cover,
                "grid_steps": reverse_stress::GRID,
                "tolerance": reverse_stress::TOLERANCE,
                "k_cap": reverse_stress::K_CAP,
                "revaluations": r.revaluations,
                "most_severe": r.most_severe().map(|(s, k)| json!({"scenario": name(s), "k_star": k})),
                "scenarios": r.scenarios.iter().enumerate().map(|(s, x)| json!({
                    "name": name(s),
                    "cover_n": x.cover_n,
                    "k_searched": x.k_searched,
                    "k_star": x.k_star,
                    "groups_to_exhaust": x.groups_to_exhaust,
                })).collect::<Vec<_>>(),
            }),
        );
    }

    fn terminal(&self, run: RunView, out: &mut String) {
        let Some(r) = self else {
            return;
        };
        if r.scenarios.is_empty() {
            return;
        }
        let line = match r.most_severe() {
            Some((s, k)) => format!(
                "Reverse stress: the prefunded resources (contributions and skin in the game, {}) \
                 run out at {k:.2} x `{}`, the nearest of the {} stress scenarios \
                 (reverse_stress.parquet)\n",
                money(r.resources),
                run.snapshot.stress[s].name,
                r.scenarios.len()
            ),
            None => format!(
                "Reverse stress: no stress scenario, scaled up to {}x or until a price or vol \
                 reaches zero, exhausts the prefunded resources (contributions and skin in the \
                 game, {})\n",
                reverse_stress::K_CAP,
                money(r.resources)
            ),
        };
        out.push_str(&line);
    }
}
