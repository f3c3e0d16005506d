//! The clearing day (`--settlement`): a day's variation margin netted per
//! settlement asset, its payments and margin calls with the largest calls,
//! and the current book's variation margin through history (PQD 6.6 to 6.8)
//! with a chart of each day's VM paid and initial-margin call, read from
//! `settle` folders ([`super::settlement_folder`]; methodology, 17). Without
//! one, the section says so.

use super::settlement_folder::{Day, Opened, Replay, SettlementFolders, LARGEST_CALLS};
use super::svg::{LineChart, Series};
use super::{count, escape, table};
use crate::report::money;

const HEADING: &str = "<section id=\"clearing-day\"";

/// An amount in settlement asset `asset`: whole dollars for USD, six
/// decimals for a coin or stablecoin (what a coin's satoshi-scale VM needs).
pub fn in_asset(asset: &str, x: f64) -> String {
    if asset == "USD" {
        money(x)
    } else {
        format!("{x:.6}")
    }
}

/// A netting efficiency as a percentage with one decimal, "-" when nothing
/// was owed.
pub fn efficiency(e: Option<f64>) -> String {
    e.map_or("-".into(), |e| format!("{:.1}%", 100.0 * e))
}

pub fn section(folders: &SettlementFolders) -> String {
    if folders.day.is_none() && folders.replay.is_none() {
        return format!(
            "{HEADING} class=\"not-given\"><h2>The clearing day</h2><p>No settlement was given: \
             <code>clearstress settle</code> settles a day's variation margin and margin calls, or \
             replays the book over a history (PQD 6.6 to 6.8), and <code>report --settlement DIR</code> \
             reads its folder (a day, a replay, or one of each).</p></section>"
        );
    }
    let mut out = format!("{HEADING}><h2>The clearing day</h2>");
    if let Some(day) = &folders.day {
        out.push_str(&day_part(day));
    }
    if let Some(replay) = &folders.replay {
        out.push_str(&replay_part(replay));
    }
    out.push_str("</section>");
    out
}

fn day_part(folder: &Opened<Day>) -> String {
    let d = &folder.read;
    let headers = [
        "settlement asset",
        "price (USD)",
        "gross",
        "net",
        "netting efficiency",
        "imbalance",
    ];
    let mut rows: Vec<Vec<String>> = d
        .by_settlement_asset
        .iter()
        .map(|a| {
            let n = &a.netting;
            let asset = a.settlement_asset.as_str();
            vec![
                escape(asset),
                format!("{}", a.price_usd),
                in_asset(asset, n.gross),
                in_asset(asset, n.net),
                efficiency(n.netting_efficiency),
                format!("{:.3e}", n.imbalance),
            ]
        })
        .collect();
    let t = &d.total_usd;
    rows.push(vec![
        "all, USD at the end prices".into(),
        "-".into(),
        money(t.gross),
        money(t.net),
        efficiency(t.netting_efficiency),
        format!("{:.3e}", t.imbalance),
    ]);
    let netting = table(&headers, &headers[1..], &rows);
    let calls = d.margin_calls.as_ref().map_or_else(
        || "<p>Margin calls were not sized (<code>settle --no-margin</code>).</p>".to_string(),
        |c| {
            let headers = [
                "member",
                "VM paid (USD)",
                "IM shortfall (USD)",
                "call (USD)",
            ];
            let rows: Vec<Vec<String>> = d
                .largest_calls
                .iter()
                .map(|m| {
                    vec![
                        escape(&m.member_id),
                        money(m.vm_pays_usd),
                        money(m.im_shortfall),
                        money(m.call_usd),
                    ]
                })
                .collect();
            let largest = if rows.is_empty() {
                String::new()
            } else {
                format!(
                    "<p>The {} largest calls (<code>{}</code>):</p>{}",
                    count(rows.len().min(LARGEST_CALLS) as u64),
                    escape(
                        &folder
                            .dir
                            .join("margin_calls.parquet")
                            .display()
                            .to_string()
                    ),
                    table(&headers, &headers[1..], &rows)
                )
            };
            format!(
                "<p>Margin calls, the engine run again on the book moved to the end of the period \
                 ({} paths): {} of {} members called, {} USD in all, of which {} USD is \
                 initial-margin shortfall and the rest variation margin owed.</p>{largest}",
                count(c.paths),
                count(c.members_called),
                count(d.members),
                money(c.total_call_usd),
                money(c.total_im_shortfall_usd),
            )
        },
    );
    format!(
        "<h3>Settlement, {} to {}</h3><p>Variation margin of the book's {} positions ({} members) \
         over {} days at the prices <code>{}</code>, netted per member and settlement asset into one \
         payment with the CCP, the counterparty of every member (methodology, 17). Gross and net are \
         in units of each asset; the imbalance is zero on a matched book. Read from <code>{}</code>.</p>\
         {netting}<p>{} payments: members pay {} USD and receive {} USD.</p>{calls}",
        escape(&d.start),
        escape(&d.end),
        count(d.positions),
        count(d.members),
        count(u64::from(d.days)),
        escape(&d.prices),
        escape(&folder.dir.join("summary.json").display().to_string()),
        count(d.payments.count),
        money(d.payments.members_pay_usd),
        money(d.payments.members_receive_usd),
    )
}

/// "{amount} USD on {date}", or why there is none.
fn on_date(amount: Option<f64>, date: Option<&str>, none: &str) -> String {
    match (amount, date) {
        (Some(x), Some(date)) => format!("{} USD on {}", money(x), escape(date)),
        _ => none.to_string(),
    }
}

fn replay_part(folder: &Opened<Replay>) -> String {
    let r = &folder.read;
    let headers = ["PQD", "measure", "value"];
    let im = match r.paths {
        Some(_) => on_date(
            r.max_im_call_usd,
            r.max_im_call_date.as_deref(),
            "no day replayed",
        ),
        None => "not sized (<code>settle --no-margin</code>)".into(),
    };
    let rows = vec![
        vec![
            "6.6".into(),
            "average total variation margin paid per day".into(),
            format!("{} USD", money(r.average_vm_paid_usd)),
        ],
        vec![
            "6.7".into(),
            "maximum total variation margin paid on a day".into(),
            on_date(
                r.max_vm_paid_usd,
                r.max_vm_paid_date.as_deref(),
                "no day replayed",
            ),
        ],
        vec![
            "6.8".into(),
            "maximum aggregate initial-margin call on a day".into(),
            im,
        ],
    ];
    let skipped = match r.skipped.first() {
        None => String::new(),
        Some(first) => format!(
            " {} days skipped (the first, {}: {}).",
            count(r.skipped.len() as u64),
            escape(&first.date),
            escape(&first.reason)
        ),
    };
    let paths = r.paths.map_or(String::new(), |p| {
        format!(
            " Each day's initial-margin call is the sum of the members' initial-margin shortfalls \
             against their collateral on the book moved by that day's returns, margined by the \
             engine ({} paths).",
            count(p)
        )
    });
    let chart = if r.dates.is_empty() {
        String::new()
    } else {
        format!(
            "<figure>{}<figcaption>Solid, circles: the total variation margin members paid each day; \
             dashed, squares: the aggregate initial-margin call, where sized.</figcaption></figure>",
            chart(r).to_svg()
        )
    };
    format!(
        "<h3>Variation margin through history</h3><p>The current book settled over each day of the \
         history <code>{}</code> from {} to {}: {} days replayed.{skipped}{paths} Read from <code>{}</code> \
         and <code>{}</code>.</p>{}{chart}",
        escape(&r.history),
        escape(&r.from),
        escape(&r.to),
        count(r.days_replayed),
        escape(&folder.dir.join("summary.json").display().to_string()),
        escape(&folder.dir.join("vm_history.parquet").display().to_string()),
        table(&headers, &["value"], &rows),
    )
}

/// Each day's VM paid and, where sized, its initial-margin call (0 where
/// a day's is missing).
fn chart(r: &Replay) -> LineChart {
    let mut series = vec![Series {
        name: "variation margin paid".into(),
        values: r.vm_paid.clone(),
    }];
    if r.im_call.iter().any(Option::is_some) {
        series.push(Series {
            name: "initial-margin call".into(),
            values: r.im_call.iter().map(|c| c.unwrap_or(0.0)).collect(),
        });
    }
    LineChart::in_usd(
        "Variation margin paid and initial-margin call per day",
        r.dates.clone(),
        series,
    )
}
