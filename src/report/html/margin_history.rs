//! Margin through history (`--history-run`): the period, each policy's
//! procyclicality (peak-to-trough, largest increase within the window and
//! its dates, or "not measured" with the reason) from `procyclicality.json`,
//! the stress period and the assets not stressed, a line chart of the book's
//! total margin per policy from `margin_history.parquet`, and the largest
//! members' margin ranges from `margin_history_members.parquet`
//! (methodology, 12.3 and 13a). Without a history run, the section says so.

use super::history_folder::{HistoryFolder, Measures, LARGEST_MEMBERS};
use super::svg::{LineChart, Series};
use super::{count, escape, table};
use crate::report::money;

const HEADING: &str = "<section id=\"margin-history\"";

/// What the section says when no history run was given.
pub fn not_given() -> String {
    format!(
        "{HEADING} class=\"not-given\"><h2>Margin through history</h2><p>No history run was given: \
         <code>clearstress procyclicality</code> sizes the book's margin through history with and \
         without EMIR's anti-procyclicality tools, and <code>report --history-run DIR</code> \
         reads its folder.</p></section>"
    )
}

/// A peak-to-trough ratio as the report prints it: three decimals.
pub fn ratio(x: f64) -> String {
    format!("{x:.3}")
}

/// Each policy's row: peak-to-trough, largest increase, its window and dates.
fn measures_rows(h: &HistoryFolder) -> Vec<Vec<String>> {
    h.policies
        .iter()
        .map(|p| {
            let mut row = vec![escape(p.name)];
            match &p.measures {
                Measures::Measured {
                    peak_to_trough,
                    largest_increase,
                    window_days,
                    increase_from,
                    increase_to,
                } => row.extend([
                    ratio(*peak_to_trough),
                    format!("{:.1}%", 100.0 * largest_increase),
                    count(u64::from(*window_days)),
                    format!("{}..{}", escape(increase_from), escape(increase_to)),
                ]),
                Measures::NotMeasured { not_measured } => row.extend([
                    "not measured".into(),
                    escape(not_measured),
                    "-".into(),
                    "-".into(),
                ]),
            }
            row
        })
        .collect()
}

/// The largest members' lowest..highest margin under each policy.
fn members_table(h: &HistoryFolder) -> String {
    if h.largest_members.is_empty() {
        return String::new();
    }
    let mut headers = vec!["member"];
    headers.extend(h.policies.iter().map(|p| p.name));
    let rows: Vec<Vec<String>> = h
        .largest_members
        .iter()
        .map(|m| {
            let mut row = vec![escape(&m.member_id)];
            row.extend(
                m.ranges
                    .iter()
                    .map(|(low, high)| format!("{}..{}", money(*low), money(*high))),
            );
            row
        })
        .collect();
    format!(
        "<p>The {} members with the highest calculated margin on some date: each one's lowest and \
         highest margin over the dates under each policy, USD (<code>{}</code>).</p>{}",
        count(rows.len().min(LARGEST_MEMBERS) as u64),
        escape(
            &h.dir
                .join("margin_history_members.parquet")
                .display()
                .to_string()
        ),
        table(&headers, &headers[1..], &rows)
    )
}

/// The book's total margin per policy over the dates.
fn chart(h: &HistoryFolder) -> LineChart {
    let series = h
        .policies
        .iter()
        .map(|p| Series {
            name: p.name.into(),
            values: p.total.clone(),
        })
        .collect();
    LineChart::in_usd(
        "Total initial margin of the book by policy",
        h.dates.clone(),
        series,
    )
}

pub fn section(h: &HistoryFolder) -> String {
    let period = match (h.dates.first(), h.dates.last()) {
        (Some(first), Some(last)) => format!("{first}..{last}"),
        _ => "no date".into(),
    };
    let headers = [
        "policy",
        "peak-to-trough",
        "largest increase",
        "within (days)",
        "from..to",
    ];
    let measures = table(&headers, &headers[1..4], &measures_rows(h));
    let not_stressed = if h.not_stressed.is_empty() {
        "none".to_string()
    } else {
        escape(&h.not_stressed.join(", "))
    };
    let shown = |file: &str| escape(&h.dir.join(file).display().to_string());
    let legend: Vec<String> = h
        .policies
        .iter()
        .zip([
            "solid, circles",
            "dashed, squares",
            "dotted, triangles",
            "dash-dot, diamonds",
        ])
        .map(|(p, style)| format!("{}: {style}", escape(p.name)))
        .collect();
    format!(
        "{HEADING}><h2>Margin through history</h2>\
         <p>A study of the book <code>{}</code> (as given to <code>clearstress procyclicality</code>; \
         the report does not check that it is the run's) on the history <code>{}</code>, {} Monte \
         Carlo paths a date, every {} days.</p>\
         <p>The book's total initial margin on {} dates, {}, as calculated and under EMIR's \
         anti-procyclicality tools (RTS 153/2013 Art. 28: a buffer released in stress, a weight \
         on stressed observations, a floor at the 10-year volatility), each applied to every \
         member's own margin series; each date's market calibrated to the history up to that date, \
         positions and prices held (methodology, 12.3). Stressed market from the stress period {}..{}; \
         assets that kept their own volatility in it (too few returns in the stress period before a \
         date): {}. Peak-to-trough is the highest total over the lowest; the largest increase is the \
         largest rise from one date to a later one within the window. Read from <code>{}</code> and \
         <code>{}</code>.</p>{measures}<figure>{}<figcaption>One line per policy ({}); one point per \
         date.</figcaption></figure>{}</section>",
        escape(&h.study.book),
        escape(&h.study.history),
        count(h.study.paths),
        count(h.study.every_days),
        count(h.dates.len() as u64),
        escape(&period),
        escape(&h.stress_period.from),
        escape(&h.stress_period.to),
        not_stressed,
        shown("procyclicality.json"),
        shown("margin_history.parquet"),
        chart(h).to_svg(),
        legend.join("; "),
        members_table(h),
    )
}
