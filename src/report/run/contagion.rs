//! `contagion.parquet` and its summary: in each stress scenario, the groups
//! that default round by round when the survivors' charges exhaust their
//! stated capital ([`crate::default_management::contagion`]). Part of the
//! waterfall's section: written only when some member states its capital.

use std::fmt::Write as _;

use serde_json::{json, Value};

use super::RunView;
use crate::default_management::waterfall::StressWaterfalls;
use crate::report::{money, plural, OutputTable};

/// One row per (stress scenario, case, round, defaulting group).
pub(super) fn table(waterfalls: &StressWaterfalls, run: RunView) -> Option<OutputTable> {
    let names = &run.result.stress.groups.names;
    let (mut scenario, mut round, mut group) = (Vec::new(), Vec::new(), Vec::new());
    let (mut cases, mut unfunded, mut trigger) = (Vec::new(), Vec::new(), Vec::new());
    for case in &waterfalls.cases {
        let contagion = case.contagion.as_ref()?;
        for (k, groups) in contagion.rounds.iter().enumerate() {
            for &g in groups {
                scenario.push(run.snapshot.stress[case.scenario].name.clone());
                cases.push(super::waterfall::case_name(case.case));
                round.push(k as u64);
                group.push(names[g].clone());
                trigger.push(
                    contagion
                        .trigger(k, g)
                        .map_or("initial", |t| t.name())
                        .to_string(),
                );
                unfunded.push(contagion.waterfall.unfunded);
            }
        }
    }
    Some(
        OutputTable::default()
            .text("scenario", scenario)
            .text("case", cases)
            .count("round", round)
            .text("group", group)
            .text("trigger", trigger)
            .number("unfunded_after_contagion", unfunded),
    )
}

/// Per stress scenario: rounds, the groups that defaulted by contagion, and
/// the loss and unfunded amount of the last round's waterfall.
pub(super) fn summary(waterfalls: &StressWaterfalls, run: RunView) -> Option<Value> {
    let names = &run.result.stress.groups.names;
    let scenarios = waterfalls
        .cases
        .iter()
        .map(|case| {
            let c = case.contagion.as_ref()?;
            Some(json!({
                "scenario": run.snapshot.stress[case.scenario].name,
                "case": super::waterfall::case_name(case.case),
                "rounds": c.rounds.len(),
                "contagious_defaults": c.rounds.iter().skip(1).flatten().map(|&g| names[g].clone()).collect::<Vec<_>>(),
                "triggers": c.triggers.iter().flatten().map(|t| t.name()).collect::<Vec<_>>(),
                "loss": c.waterfall.loss,
                "unfunded": c.waterfall.unfunded,
            }))
        })
        .collect::<Option<Vec<_>>>()?;
    Some(json!({ "scenarios": scenarios }))
}

/// The longest cascade, or that there is none.
pub(super) fn terminal(waterfalls: &StressWaterfalls, run: RunView, out: &mut String) {
    let cases: Vec<_> = waterfalls
        .cases
        .iter()
        .filter_map(|c| Some((c.scenario, c.contagion.as_ref()?)))
        .collect();
    if cases.is_empty() {
        return;
    }
    let worst = cases
        .iter()
        .filter(|(_, c)| c.contagious() > 0)
        .max_by(|a, b| {
            (a.1.contagious(), a.1.waterfall.unfunded)
                .partial_cmp(&(b.1.contagious(), b.1.waterfall.unfunded))
                .unwrap_or(std::cmp::Ordering::Equal)
        });
    let _ = match worst {
        None => writeln!(
            out,
            "  contagion: no survivor's stated capital is exhausted in any stress scenario"
        ),
        Some((s, c)) => writeln!(
            out,
            "  contagion: worst in {}: {} default in turn over {}, {} left unfunded \
             (contagion.parquet)",
            run.snapshot.stress[*s].name,
            plural(c.contagious(), "group", "groups"),
            plural(c.rounds.len() - 1, "round", "rounds"),
            money(c.waterfall.unfunded)
        ),
    };
}
