//! Initial margin: the totals, the largest members with their collateral
//! and excess or shortfall, a chart of margin against collateral, and the
//! largest margin's loss distribution with its VaR and ES, from
//! `summary.json`.

use super::run_folder::{LossDistribution, RunFolder};
use super::svg::{Bar, BarChart, Histogram, Marker, Series};
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
            "collateral counted (after haircuts and eligibility rules)",
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
        precision: 1.0,
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
                name: "collateral counted".into(),
                values: s.largest_members.iter().map(|x| x.collateral).collect(),
            },
        ],
    };
    let money_headers = [
        "initial margin (USD)",
        "collateral counted (USD)",
        "excess (+) / shortfall (-) (USD)",
    ];
    format!(
        "<section id=\"margin\"><h2>Initial margin</h2>\
         <p>{} at {}% confidence over the margin period of risk, by member; collateral as it counts, after haircuts \
         and the eligibility and concentration rules (methodology, 8 and 17.6).</p>{}\
         <h3>The largest margins</h3>{}<figure>{}<figcaption>Dark: initial margin; light: collateral \
         counted; {unit} millions.</figcaption></figure>{}</section>",
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
        chart.to_svg(),
        distribution(s.loss_distribution.as_ref(), s.scenarios, &s.currency)
    )
}

/// The largest margin's loss histogram, its VaR and ES marked.
fn distribution(d: Option<&LossDistribution>, scenarios: u64, currency: &str) -> String {
    let Some(d) = d else {
        return "<p>The run recorded no loss distribution (a book without members).</p>".into();
    };
    let level = percent(d.confidence);
    let markers = [("VaR", d.var, "6 4"), ("ES", d.es, "none")]
        .into_iter()
        .filter_map(|(name, at, dash)| {
            Some(Marker {
                name: format!("{name} {level}%"),
                at: at?,
                dash,
            })
        })
        .collect();
    let chart = Histogram {
        title: format!("Loss distribution of {}", d.member_id),
        axis_label: format!("loss over the margin period, {currency} millions"),
        scale: 1e6,
        bars: d
            .bins
            .iter()
            .map(|b| Bar {
                from: b.from,
                to: b.to,
                count: b.scenarios,
            })
            .collect(),
        markers,
    };
    format!(
        "<h3>Loss distribution of the largest margin</h3><figure>{}<figcaption>{}'s losses \
         (positive: the member loses) in the run's first {} scenarios, in {} bins; the VaR \
         (dashed) and ES (solid) at {level}% are the margin's own, from all {} scenarios \
         (methodology, \"The report\").</figcaption></figure>",
        chart.to_svg(),
        escape(&d.member_id),
        count(d.sample_scenarios),
        d.bins.len(),
        count(scenarios),
    )
}
