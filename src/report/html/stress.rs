//! The stress scenarios: each scenario's Cover-1 and Cover-2 (uncovered loss
//! of the largest one and two member groups), as a table and a chart, from
//! `summary.json`; and each scenario's groups with an uncovered loss, the
//! [`GROUPS_SHOWN`] largest, from `stress_groups.parquet`.

use super::run_folder::RunFolder;
use super::run_tables::{StressGroup, STRESS_GROUPS};
use super::svg::{BarChart, Series};
use super::{escape, table};
use crate::report::money;

/// The groups shown per stress scenario, largest uncovered loss first.
pub const GROUPS_SHOWN: usize = 5;

/// Per scenario (in the file's order), its groups with an uncovered loss,
/// the [`GROUPS_SHOWN`] largest (ties in the file's order), and how many
/// more there are.
fn uncovered_groups(rows: &[StressGroup]) -> Vec<(&str, Vec<&StressGroup>, usize)> {
    let mut out: Vec<(&str, Vec<&StressGroup>, usize)> = Vec::new();
    for row in rows {
        if out.last().is_none_or(|(s, _, _)| *s != row.scenario) {
            out.push((&row.scenario, Vec::new(), 0));
        }
        if row.uncovered > 0.0 {
            out.last_mut().expect("pushed above").1.push(row);
        }
    }
    for (_, groups, more) in &mut out {
        groups.sort_by(|a, b| b.uncovered.total_cmp(&a.uncovered));
        *more = groups.len().saturating_sub(GROUPS_SHOWN);
        groups.truncate(GROUPS_SHOWN);
    }
    out
}

fn groups_table(run: &RunFolder) -> String {
    let mut rows = Vec::new();
    for (scenario, groups, more) in uncovered_groups(&run.stress_groups) {
        let name = escape(scenario);
        if groups.is_empty() {
            rows.push(vec![
                name.clone(),
                "none".into(),
                String::new(),
                String::new(),
                String::new(),
            ]);
        }
        for g in groups {
            rows.push(vec![
                name.clone(),
                escape(&g.group),
                money(g.loss),
                money(g.collateral),
                money(g.uncovered),
            ]);
        }
        if more > 0 {
            rows.push(vec![
                name.clone(),
                format!("and {more} more (<code>{STRESS_GROUPS}</code>)"),
                String::new(),
                String::new(),
                String::new(),
            ]);
        }
    }
    let (loss, collateral, uncovered) = ("loss (USD)", "collateral (USD)", "uncovered (USD)");
    format!(
        "<h3>Uncovered loss by affiliate group</h3><p>Per scenario, the groups with an uncovered \
         loss, the {GROUPS_SHOWN} largest: the members' stress losses and collateral after haircuts \
         summed over the group, and the group's uncovered loss (the sum of its members' losses beyond \
         their own collateral, as the default fund is sized), from <code>{STRESS_GROUPS}</code>.</p>{}",
        table(
            &["scenario", "group", loss, collateral, uncovered],
            &[loss, collateral, uncovered],
            &rows
        )
    )
}

pub fn section(run: &RunFolder) -> String {
    let s = &run.summary;
    let scenarios = &s.stress_scenarios;
    let rows: Vec<Vec<String>> = scenarios
        .iter()
        .enumerate()
        .map(|(i, x)| {
            vec![
                (i + 1).to_string(),
                escape(&x.name),
                money(x.cover1),
                money(x.cover2),
                format!("<code>{}</code>", escape(&x.origin)),
            ]
        })
        .collect();
    let chart = BarChart {
        title: "Uncovered loss of the largest member groups, by stress scenario".into(),
        axis_label: format!("{} millions", s.currency),
        scale: 1e6,
        precision: 1.0,
        categories: (1..=scenarios.len()).map(|i| i.to_string()).collect(),
        series: vec![
            Series {
                name: "Cover-1".into(),
                values: scenarios.iter().map(|x| x.cover1).collect(),
            },
            Series {
                name: "Cover-2".into(),
                values: scenarios.iter().map(|x| x.cover2).collect(),
            },
        ],
    };
    let (c1, c2) = ("Cover-1 (USD)", "Cover-2 (USD)");
    format!(
        "<section id=\"stress\"><h2>Stress scenarios</h2>\
         <p>Each scenario's uncovered loss (stress loss beyond collateral after haircuts, by affiliate \
         group) of the largest group (Cover-1) and the two largest (Cover-2) (methodology, \
         \"Stress scenarios and the default fund\").</p>{}<figure>{}<figcaption>Scenarios numbered as \
         in the table. Dark: Cover-1; light: Cover-2; {} millions.</figcaption></figure>{}</section>",
        table(&["#", "scenario", c1, c2, "source"], &["#", c1, c2], &rows),
        chart.to_svg(),
        escape(&s.currency),
        groups_table(run)
    )
}
