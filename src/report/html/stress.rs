//! The stress scenarios: each scenario's Cover-1 and Cover-2 (uncovered loss
//! of the largest one and two member groups), as a table and a chart, from
//! `summary.json`.

use super::run_folder::RunFolder;
use super::svg::{BarChart, Series};
use super::{escape, table};
use crate::report::money;

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
         in the table. Dark: Cover-1; light: Cover-2; {} millions.</figcaption></figure></section>",
        table(&["#", "scenario", c1, c2, "source"], &["#", c1, c2], &rows),
        chart.to_svg(),
        escape(&s.currency)
    )
}
