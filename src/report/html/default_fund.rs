//! The default fund: Cover-1 and Cover-2 with their driving scenarios and
//! groups, the requirement against the fund held, from `summary.json` (the
//! waterfall is Default management's); the [`ALLOCATION_SHOWN`] largest
//! required contributions from `default_fund.parquet`.

use super::run_folder::{Cover, RunFolder};
use super::run_tables::ALLOCATION;
use super::{amount_row, escape, percent, table};

/// The members shown in the allocation, largest required contribution first.
pub const ALLOCATION_SHOWN: usize = 10;

/// The largest required contributions (ties in the file's order), then the
/// totals `summary.json` holds.
fn allocation_table(run: &RunFolder) -> String {
    let s = &run.summary;
    let df = &s.default_fund;
    let mut members: Vec<_> = run.allocation.iter().collect();
    members.sort_by(|a, b| b.required.total_cmp(&a.required));
    let mut rows: Vec<Vec<String>> = members
        .iter()
        .take(ALLOCATION_SHOWN)
        .map(|m| {
            vec![
                escape(&m.member_id),
                escape(&m.group),
                percent(m.share),
                money(m.required),
                money(m.current),
                money(m.top_up),
            ]
        })
        .collect();
    rows.push(vec![
        format!("all {} members", run.allocation.len()),
        String::new(),
        String::new(),
        money(df.requirement),
        money(df.current_total),
        String::new(),
    ]);
    let (share, required, current, top_up) = (
        "share (%)",
        "required (USD)",
        "current (USD)",
        "top-up (USD)",
    );
    format!(
        "<h3>Allocation</h3><p>The requirement split among members ({}); the {ALLOCATION_SHOWN} \
         largest required contributions from <code>{ALLOCATION}</code> (top-up: required less \
         current, negative for a surplus), then the requirement and the contributions held \
         (<code>summary.json</code>).</p>{}",
        escape(allocation_rule(df.allocation_rule)),
        table(
            &["member", "group", share, required, current, top_up],
            &[share, required, current, top_up],
            &rows
        )
    )
}

fn allocation_rule(rule: AllocationRule) -> &'static str {
    match rule {
        AllocationRule::InitialMargin => "pro rata to initial margin",
        AllocationRule::StressLoss => "pro rata to each member's largest uncovered stress loss",
    }
}
use crate::report::money;
use crate::snapshot::AllocationRule;

fn cover_rows(label: &str, cover: &Cover) -> Vec<Vec<String>> {
    cover
        .groups
        .iter()
        .map(|g| {
            vec![
                escape(label),
                money(cover.amount),
                escape(&cover.scenario),
                escape(&g.group),
                escape(&g.members.join(", ")),
                money(g.uncovered_loss),
            ]
        })
        .collect()
}

pub fn section(run: &RunFolder) -> String {
    let s = &run.summary;
    let df = &s.default_fund;
    let mut covers = cover_rows("Cover-1", &df.cover1);
    covers.extend(cover_rows("Cover-2", &df.cover2));
    let fund = vec![
        amount_row(
            &format!("requirement (Cover-{})", df.cover),
            df.requirement,
            &s.currency,
        ),
        amount_row("members' contributions held", df.current_total, &s.currency),
        amount_row(
            "shortfall against the requirement",
            df.shortfall,
            &s.currency,
        ),
        amount_row("CCP skin in the game", df.skin_in_the_game, &s.currency),
        amount_row(
            "left unfunded after the waterfall (Default management)",
            df.unfunded,
            &s.currency,
        ),
    ];
    let amount = "amount (USD)";
    let loss = "group's uncovered loss (USD)";
    format!(
        "<section id=\"default-fund\"><h2>Default fund</h2>\
         <p>Uncovered loss: a member's stress loss beyond its collateral after haircuts, summed over its \
         affiliate group; Cover-n is the n largest groups' uncovered loss in the worst stress scenario \
         (methodology, \"Stress scenarios and the default fund\").</p>{}{}\
         {}</section>",
        table(&["", "value"], &["value"], &fund),
        table(
            &["cover", amount, "driving scenario", "group", "members", loss],
            &[amount, loss],
            &covers
        ),
        allocation_table(run),
    )
}
