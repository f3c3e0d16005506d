//! Default management (methodology 9.4-9.9): the waterfall of the
//! requirement's default from `waterfall.parquet` with every scenario's
//! unfunded loss, the close-out cost beside the requirement's groups'
//! uncovered loss, the reverse stress per scenario, the fund's depletion
//! across the Monte Carlo scenarios, and the liquidity stress per
//! settlement currency, from `summary.json`. Values as written, the
//! only derivation a sort to show the largest first.

use super::run_folder::{RunFolder, ScenarioWaterfall, Summary};
use super::run_tables::WATERFALL;
use super::svg::{BarChart, Series};
use super::{escape, table};
use crate::report::money;

/// The scenarios shown by unfunded loss, and the groups by close-out cost.
pub const SCENARIOS_SHOWN: usize = 5;
pub const GROUPS_SHOWN: usize = 5;

/// The requirement's driving scenario: Cover-1's or Cover-2's, as the
/// requirement is sized on one or the other.
fn requirement_scenario(s: &Summary) -> &str {
    let df = &s.default_fund;
    if df.cover == 1 {
        &df.cover1.scenario
    } else {
        &df.cover2.scenario
    }
}

/// A multiple k* as the report writes it: three decimals.
fn multiple(k: f64) -> String {
    format!("{k:.3}")
}

fn waterfall(run: &RunFolder) -> String {
    let s = &run.summary;
    let scenario = requirement_scenario(s);
    let layers: Vec<_> = run
        .waterfall
        .iter()
        .filter(|l| l.scenario == scenario && l.case == "cover-n")
        .collect();
    let rows: Vec<Vec<String>> = layers
        .iter()
        .map(|l| {
            vec![
                escape(&l.layer),
                money(l.available),
                money(l.used),
                money(l.remaining),
            ]
        })
        .collect();
    let chart = BarChart {
        title: format!("Default waterfall of the requirement's default ({scenario}), by layer"),
        axis_label: format!("{} millions", s.currency),
        scale: 1e6,
        precision: 1.0,
        categories: layers.iter().map(|l| l.layer.clone()).collect(),
        series: vec![
            Series {
                name: "available".into(),
                values: layers.iter().map(|l| l.available).collect(),
            },
            Series {
                name: "used".into(),
                values: layers.iter().map(|l| l.used).collect(),
            },
        ],
    };
    let groups = layers.first().map_or("", |l| &l.defaulting_groups);
    let (available, used, remaining) = ("available (USD)", "used (USD)", "remaining (USD)");
    format!(
        "<h3>Waterfall</h3><p>The default the requirement is sized on: in <em>{}</em>, the groups \
         {} default together, each defaulter's loss including its close-out cost; the layers in the \
         order used, and the loss remaining after each (the last layer's is left unfunded), from \
         <code>{WATERFALL}</code>.</p>{}<figure>{}<figcaption>Dark: available; light: used; {} \
         millions.</figcaption></figure>{}",
        escape(scenario),
        escape(groups),
        table(
            &["layer", available, used, remaining],
            &[available, used, remaining],
            &rows
        ),
        chart.to_svg(),
        escape(&s.currency),
        unfunded(s)
    )
}

/// Every scenario's default walked: how many leave a loss unfunded, and the
/// [`SCENARIOS_SHOWN`] largest unfunded (then largest loss) of them; the
/// same for the configured sets of defaulting groups, when there are any.
fn unfunded(s: &Summary) -> String {
    let w = &s.waterfall;
    let cover_n = format!(
        "<p>Every stress scenario's own Cover-{} groups defaulting: {} of {} scenarios leave a loss \
         unfunded (<code>summary.json</code> <code>waterfall</code>); the {SCENARIOS_SHOWN} largest \
         unfunded, then largest loss:</p>{}",
        s.default_fund.cover,
        w.scenarios_unfunded,
        w.scenarios.len(),
        largest_unfunded(&w.scenarios)
    );
    if w.configured.is_empty() {
        return cover_n;
    }
    format!(
        "{cover_n}<p>The sets of defaulting groups the configuration names \
         (<code>[waterfall] defaulting_groups</code>), each walked in every stress scenario: {} of {} \
         leave a loss unfunded; the {SCENARIOS_SHOWN} largest unfunded, then largest loss:</p>{}",
        w.configured_unfunded,
        w.configured.len(),
        largest_unfunded(&w.configured)
    )
}

/// The [`SCENARIOS_SHOWN`] defaults of `cases` with the largest unfunded
/// loss, then the largest loss.
fn largest_unfunded(cases: &[ScenarioWaterfall]) -> String {
    let mut cases: Vec<_> = cases.iter().collect();
    cases.sort_by(|a, b| {
        b.unfunded
            .total_cmp(&a.unfunded)
            .then(b.loss.total_cmp(&a.loss))
    });
    let rows: Vec<Vec<String>> = cases
        .iter()
        .take(SCENARIOS_SHOWN)
        .map(|x| {
            vec![
                escape(&x.scenario),
                escape(&x.defaulting_groups.join(" + ")),
                money(x.loss),
                money(x.unfunded),
            ]
        })
        .collect();
    let (loss, unfunded) = ("defaulters' loss (USD)", "unfunded (USD)");
    table(
        &["scenario", "defaulting groups", loss, unfunded],
        &[loss, unfunded],
        &rows,
    )
}

fn close_out(s: &Summary) -> String {
    let c = &s.close_out;
    let cover = &c.cover_groups;
    let mut rows: Vec<Vec<String>> = cover
        .groups
        .iter()
        .map(|g| {
            vec![
                escape(&g.group),
                money(g.uncovered_loss),
                money(g.close_out_cost),
                money(g.uncovered_with_close_out),
            ]
        })
        .collect();
    rows.push(vec![
        format!("Cover-{}", s.default_fund.cover),
        money(cover.uncovered_loss),
        money(cover.close_out_cost),
        money(cover.uncovered_with_close_out),
    ]);
    let mut groups: Vec<_> = c.groups.iter().collect();
    groups.sort_by(|a, b| b.cost.total_cmp(&a.cost));
    let mut largest: Vec<Vec<String>> = groups
        .iter()
        .take(GROUPS_SHOWN)
        .map(|g| vec![escape(&g.group), money(g.cost)])
        .collect();
    largest.push(vec![
        format!("all {} groups", c.groups.len()),
        money(c.total),
    ]);
    let (uncovered, cost, with) = (
        "uncovered loss (USD)",
        "close-out cost (USD)",
        "uncovered with close-out (USD)",
    );
    format!(
        "<h3>Close-out cost</h3><p>The cost of closing out a defaulter's positions over {} days \
         (half-spread and market impact against each asset's daily volume), added to its loss: the \
         requirement's groups in <em>{}</em>, their uncovered loss without and with it:</p>{}\
         <p>The {GROUPS_SHOWN} groups with the largest close-out cost, and all groups':</p>{}",
        c.horizon_days,
        escape(&cover.scenario),
        table(
            &["group", uncovered, cost, with],
            &[uncovered, cost, with],
            &rows
        ),
        table(&["group", cost], &[cost], &largest)
    )
}

fn reverse_stress(s: &Summary) -> String {
    let r = &s.reverse_stress;
    let severe = r.most_severe.as_ref().map(|m| m.scenario.as_str());
    let rows: Vec<Vec<String>> = r
        .scenarios
        .iter()
        .enumerate()
        .map(|(i, x)| {
            let mark = |cell: String| {
                if Some(x.name.as_str()) == severe {
                    format!("<strong>{cell}</strong>")
                } else {
                    cell
                }
            };
            let name = if Some(x.name.as_str()) == severe {
                format!("{} (most severe)", escape(&x.name))
            } else {
                escape(&x.name)
            };
            vec![
                (i + 1).to_string(),
                mark(name),
                money(x.cover_n),
                multiple(x.k_searched),
                mark(
                    x.k_star
                        .map_or_else(|| "not within k_searched".into(), multiple),
                ),
                x.groups_to_exhaust
                    .map_or_else(|| "not exhausted".into(), |g| g.to_string()),
            ]
        })
        .collect();
    let chart = BarChart {
        title: "Multiple k* of each stress scenario's shocks that exhausts the resources".into(),
        axis_label: "k*".into(),
        scale: 1.0,
        precision: 0.001,
        categories: (1..=r.scenarios.len()).map(|i| i.to_string()).collect(),
        series: vec![Series {
            name: "k*".into(),
            values: r
                .scenarios
                .iter()
                .map(|x| x.k_star.unwrap_or(0.0))
                .collect(),
        }],
    };
    let cover_n = &format!("Cover-{} at k = 1 (USD)", r.cover);
    let (searched, k_star, groups) = ("k searched", "k*", "groups to exhaust");
    format!(
        "<h3>Reverse stress</h3><p>Per stress scenario, the smallest multiple k* of its shocks at \
         which Cover-{} exceeds the prefunded resources of {} USD, searched up to k searched; and at \
         k = 1, how many of the largest groups defaulting would exhaust them (not exhausted: not even all of them). The most severe \
         scenario (smallest k*) in bold.</p>{}<figure>{}<figcaption>Scenarios numbered as in the \
         table; no bar: not within k searched.</figcaption></figure>",
        r.cover,
        money(r.resources),
        table(
            &["#", "scenario", cover_n, searched, k_star, groups],
            &["#", cover_n, searched, k_star, groups],
            &rows
        ),
        chart.to_svg()
    )
}

fn fund_depletion(s: &Summary) -> String {
    let heading = "<h3>Fund depletion across the Monte Carlo scenarios</h3>";
    let d = match &s.fund_depletion {
        None => return String::new(),
        Some(d) if !d.computed => {
            return format!(
                "{heading}<p>Not computed: its exact tails would need {} MiB, more than a quarter \
                 of the run's --memory-limit-mib.</p>",
                d.needed_mib
            )
        }
        Some(d) => d,
    };
    let rows: Vec<Vec<String>> = d
        .measures
        .iter()
        .map(|x| {
            vec![
                format!("{}%", super::percent(x.confidence)),
                money(x.demand_var),
                format!("{} ± {}", money(x.demand_es), money(x.demand_es_stderr)),
                money(x.depletion_var),
                format!(
                    "{} ± {}",
                    money(x.depletion_es),
                    money(x.depletion_es_stderr)
                ),
            ]
        })
        .collect();
    let columns = [
        "confidence",
        "VaR of the demand (USD)",
        "ES of the demand (USD)",
        "VaR of the depletion (USD)",
        "ES of the depletion (USD)",
    ];
    format!(
        "{heading}<p>In each of the run's {} scenarios, the losses beyond collateral of the \
         Cover-{} groups of that scenario (the demand on the mutualised resources), and the \
         depletion of the prefunded resources of {} USD (the demand capped at them). The demand \
         exceeded the resources in {} scenarios: probability of exhaustion {}% ± {}% (standard \
         error). Some member lost more than its collateral in {} scenarios; mean demand {} USD. \
         ES ± its standard error.</p>{}",
        super::count(d.scenarios),
        d.cover,
        money(d.resources),
        super::count(d.exhausted),
        super::percent(d.probability_of_exhaustion),
        super::percent(d.probability_stderr),
        super::count(d.scenarios_with_uncovered_loss),
        money(d.mean_demand),
        table(&columns, &columns[1..], &rows)
    )
}

fn liquidity_stress(s: &Summary) -> String {
    let rows: Vec<Vec<String>> = s
        .liquidity_stress
        .currencies
        .iter()
        .map(|c| {
            vec![
                escape(&c.currency),
                money(c.largest_need),
                money(c.largest_shortfall),
                c.scenario.as_deref().map_or_else(|| "none".into(), escape),
            ]
        })
        .collect();
    let (need, shortfall) = ("largest need (USD)", "largest shortfall (USD)");
    format!(
        "<h3>Liquidity stress</h3><p>Per settlement currency, the largest cash, over the stress \
         scenarios, that the default of the scenario's Cover-{} groups leaves the CCP to pay in it, \
         and the largest shortfall against the defaulters' collateral and the CCP's liquid resources in \
         that currency, with the scenario of that shortfall.</p>{}",
        s.default_fund.cover,
        table(
            &["settlement currency", need, shortfall, "scenario"],
            &[need, shortfall],
            &rows
        )
    )
}

pub fn section(run: &RunFolder) -> String {
    let s = &run.summary;
    format!(
        "<section id=\"default-management\"><h2>Default management</h2>\
         <p>What the default of the largest groups costs and who pays for it (methodology, 9.4 \
         waterfall, 9.5 close-out cost, 9.6 reverse stress, 9.9 fund depletion, 9.7 liquidity \
         stress).</p>{}{}{}{}{}</section>",
        waterfall(run),
        close_out(s),
        reverse_stress(s),
        fund_depletion(s),
        liquidity_stress(s)
    )
}
