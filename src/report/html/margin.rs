//! Initial margin: the totals, the largest members with their collateral
//! and excess or shortfall, and a chart of margin against collateral, from
//! `summary.json`.

use super::run_folder::RunFolder;
use super::svg::{BarChart, Series};
use super::{amount_row, count, escape, percent, table};
use crate::report::money;

pub fn section(run: &RunFolder) -> String {
    let s = &run.summary;
    let m = &s.margin;
    let unit = escape(&s.currency);
    let totals = vec![
        amount_row(
            "initial margin required",
            m.total_initial_margin,
            &s.currency,
        ),
        amount_row(
            "collateral held, after haircuts",
            m.total_collateral,
            &s.currency,
        ),
        vec![
            "members with a margin call".into(),
            count(m.members_with_margin_call),
        ],
        amount_row("margin calls, total", m.total_margin_call, &s.currency),
    ];
    let members: Vec<Vec<String>> = s
        .largest_members
        .iter()
        .map(|x| {
            vec![
                escape(&x.member_id),
                escape(&x.name),
                escape(&x.group),
                money(x.initial_margin),
                money(x.collateral),
                money(x.excess),
            ]
        })
        .collect();
    let chart = BarChart {
        title: format!(
            "Initial margin against collateral, the {} largest margins",
            s.largest_members.len()
        ),
        axis_label: format!("{} millions", s.currency),
        scale: 1e6,
        categories: s
            .largest_members
            .iter()
            .map(|x| x.member_id.clone())
            .collect(),
        series: vec![
            Series {
                name: "initial margin".into(),
                values: s.largest_members.iter().map(|x| x.initial_margin).collect(),
            },
            Series {
                name: "collateral after haircuts".into(),
                values: s.largest_members.iter().map(|x| x.collateral).collect(),
            },
        ],
    };
    let money_headers = [
        "initial margin (USD)",
        "collateral after haircuts (USD)",
        "excess (+) / shortfall (-) (USD)",
    ];
    format!(
        "<section id=\"margin\"><h2>Initial margin</h2>\
         <p>{} at {}% confidence over the margin period of risk, by member; collateral after haircuts \
         (methodology, \"Initial margin, excess and margin call\").</p>{}\
         <h3>The largest margins</h3>{}<figure>{}<figcaption>Dark: initial margin; light: collateral \
         after haircuts; {unit} millions.</figcaption></figure></section>",
        escape(&m.measure),
        percent(m.confidence),
        table(&["total", "value"], &["value"], &totals),
        table(
            &[
                "member",
                "name",
                "group",
                money_headers[0],
                money_headers[1],
                money_headers[2]
            ],
            &money_headers,
            &members
        ),
        chart.to_svg()
    )
}
