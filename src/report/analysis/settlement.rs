//! What `clearstress settle` prints and writes (schemas in README, "The clearing
//! day"; conventions in docs/methodology.md, section 17).
//!
//! | file | one row per |
//! |---|---|
//! | `variation_margin.parquet` | position |
//! | `net_settlement.parquet` | member and settlement asset |
//! | `payments.parquet` | member and settlement asset with money to move |
//! | `netting.parquet` | settlement asset |
//! | `margin_calls.parquet` | member (absent with `--no-margin`) |
//! | `margin_call_assets.parquet` | posted holding (absent with `--no-margin`) |
//! | `vm_history.parquet` | replayed day (`--replay`, with `summary.json` only) |

use std::fmt::Write;
use std::path::Path;

use serde_json::{json, Value};

use crate::report::{money, plural, write_json, OutputTable, ReportError};
use crate::settlement::{DaySettlement, Direction, EndOfDay, MarginCalls, Netting, Replay};
use crate::snapshot::Snapshot;

/// Payers listed in the terminal.
const LISTED: usize = 10;

/// What one settlement shows: the day, its prices and, if sized, the calls.
#[derive(Debug, Clone, Copy)]
pub struct SettlementView<'a> {
    pub book: &'a Snapshot,
    pub end: &'a EndOfDay,
    pub day: &'a DaySettlement,
    pub calls: Option<&'a MarginCalls>,
}

pub fn write(dir: &Path, v: &SettlementView<'_>) -> Result<(), ReportError> {
    let (book, day, market) = (v.book, v.day, &v.end.market);
    let member = |m: usize| book.members[m].id.clone();
    let p = &day.positions;
    OutputTable::default()
        .text("member_id", p.iter().map(|x| member(x.member)).collect())
        .text(
            "instrument_id",
            p.iter()
                .map(|x| book.instruments[x.instrument].id.clone())
                .collect(),
        )
        .text(
            "settlement_asset",
            p.iter().map(|x| x.asset.name(market).to_string()).collect(),
        )
        .number("quantity", p.iter().map(|x| x.quantity).collect())
        .number("mark_start", p.iter().map(|x| x.mark_start).collect())
        .number("mark_end", p.iter().map(|x| x.mark_end).collect())
        .number("price_change", p.iter().map(|x| x.price_change).collect())
        .number("funding", p.iter().map(|x| x.funding).collect())
        .number("vm", p.iter().map(|x| x.vm).collect())
        .number("vm_usd", p.iter().map(|x| x.vm_usd).collect())
        .write_parquet(&dir.join("variation_margin.parquet"))?;
    let n = &day.nets;
    OutputTable::default()
        .text("member_id", n.iter().map(|x| member(x.member)).collect())
        .text(
            "settlement_asset",
            n.iter().map(|x| x.asset.name(market).to_string()).collect(),
        )
        .count("positions", n.iter().map(|x| x.positions as u64).collect())
        .number("gross", n.iter().map(|x| x.gross).collect())
        .number("net", n.iter().map(|x| x.net).collect())
        .number("net_usd", n.iter().map(|x| x.net_usd).collect())
        .write_parquet(&dir.join("net_settlement.parquet"))?;
    let pay = &day.payments;
    let (payer, payee): (Vec<String>, Vec<String>) = pay
        .iter()
        .map(|x| match x.direction {
            Direction::MemberPays => (member(x.member), "CCP".to_string()),
            Direction::MemberReceives => ("CCP".to_string(), member(x.member)),
        })
        .unzip();
    OutputTable::default()
        .text("payer", payer)
        .text("payee", payee)
        .text("member_id", pay.iter().map(|x| member(x.member)).collect())
        .text(
            "direction",
            pay.iter().map(|x| x.direction.name().to_string()).collect(),
        )
        .text(
            "settlement_asset",
            pay.iter()
                .map(|x| x.asset.name(market).to_string())
                .collect(),
        )
        .number("amount", pay.iter().map(|x| x.amount).collect())
        .number("amount_usd", pay.iter().map(|x| x.amount_usd).collect())
        .write_parquet(&dir.join("payments.parquet"))?;
    let a = &day.by_asset;
    OutputTable::default()
        .text(
            "settlement_asset",
            a.iter().map(|(x, _)| x.name(market).to_string()).collect(),
        )
        .number(
            "price_usd",
            a.iter().map(|(x, _)| x.usd_price(market)).collect(),
        )
        .number("gross", a.iter().map(|(_, x)| x.gross).collect())
        .number("net", a.iter().map(|(_, x)| x.net).collect())
        .number("imbalance", a.iter().map(|(_, x)| x.imbalance).collect())
        .optional_number(
            "netting_efficiency",
            a.iter().map(|(_, x)| x.efficiency).collect(),
        )
        .write_parquet(&dir.join("netting.parquet"))?;
    if let Some(calls) = v.calls {
        let c = &calls.calls;
        OutputTable::default()
            .text("member_id", c.iter().map(|x| member(x.member)).collect())
            .number("vm_pays_usd", c.iter().map(|x| x.vm_pays).collect())
            .number("vm_receives_usd", c.iter().map(|x| x.vm_receives).collect())
            .number(
                "initial_margin",
                c.iter().map(|x| x.initial_margin).collect(),
            )
            .number(
                "collateral_after_haircut",
                c.iter().map(|x| x.collateral).collect(),
            )
            .number("im_shortfall", c.iter().map(|x| x.im_shortfall).collect())
            .number("call_usd", c.iter().map(|x| x.call).collect())
            .write_parquet(&dir.join("margin_calls.parquet"))?;
        let h = &calls.assets;
        OutputTable::default()
            .text("member_id", h.iter().map(|x| member(x.member)).collect())
            .text("asset", h.iter().map(|x| x.asset.clone()).collect())
            .number("amount", h.iter().map(|x| x.amount).collect())
            .number(
                "market_value_usd",
                h.iter().map(|x| x.market_value).collect(),
            )
            .optional_number("haircut", h.iter().map(|x| x.haircut).collect())
            .number(
                "after_haircut_usd",
                h.iter().map(|x| x.after_haircut).collect(),
            )
            .number("counted_usd", h.iter().map(|x| x.counted).collect())
            .flag("covers_call", h.iter().map(|x| x.covers_call).collect())
            .write_parquet(&dir.join("margin_call_assets.parquet"))?;
    }
    write_json(&dir.join("summary.json"), &summary(v))
}

/// The assets the prices did not give a new price for.
fn unpriced(end: &EndOfDay) -> Vec<&str> {
    end.market
        .assets
        .iter()
        .zip(&end.repriced)
        .filter(|(_, r)| !**r)
        .map(|(a, _)| a.id.as_str())
        .collect()
}

fn netting_json(n: &Netting) -> Value {
    json!({
        "gross": n.gross,
        "net": n.net,
        "imbalance": n.imbalance,
        "netting_efficiency": n.efficiency,
    })
}

/// `summary.json`: the period, the netting per asset and in all, the
/// payments' totals and, if sized, the margin calls.
pub fn summary(v: &SettlementView<'_>) -> Value {
    let (day, market) = (v.day, &v.end.market);
    json!({
        "clearstress_version": crate::VERSION,
        "prices": v.end.source,
        "start": day.start.to_string(),
        "end": day.end.to_string(),
        "days": day.days,
        "funding_periods": day.funding_periods,
        "positions": day.positions.len(),
        "members": v.book.members.len(),
        "assets_without_new_price": unpriced(v.end),
        "by_settlement_asset": day.by_asset.iter().map(|(a, n)| {
            let mut entry = netting_json(n);
            entry["settlement_asset"] = json!(a.name(market));
            entry["price_usd"] = json!(a.usd_price(market));
            entry
        }).collect::<Vec<_>>(),
        "total_usd": netting_json(&day.total_usd),
        "payments": {
            "count": day.payments.len(),
            "members_pay_usd": day.members_pay_usd(),
            "members_receive_usd": day.members_receive_usd(),
        },
        "margin_calls": v.calls.map(|c| json!({
            "paths": c.paths,
            "members_called": c.calls.iter().filter(|x| x.call > 0.0).count(),
            "total_call_usd": c.total(),
            "total_im_shortfall_usd": c.total_im_shortfall(),
            "total_initial_margin_usd": c.calls.iter().map(|x| x.initial_margin).sum::<f64>(),
        })),
    })
}

fn efficiency(n: &Netting) -> String {
    n.efficiency
        .map_or("-".to_string(), |e| format!("{:.1}%", 100.0 * e))
}

/// The terminal view: the period, netting per asset, the largest payers and
/// the calls.
pub fn terminal(v: &SettlementView<'_>) -> String {
    let (book, day, market) = (v.book, v.day, &v.end.market);
    let mut out = String::new();
    let _ = writeln!(
        out,
        "settlement {} -> {} ({}, {} funding periods), prices: {}",
        day.start,
        day.end,
        plural(day.days as usize, "day", "days"),
        day.funding_periods,
        v.end.source
    );
    let unpriced = unpriced(v.end);
    if !unpriced.is_empty() {
        let _ = writeln!(
            out,
            "note: no new price for {}: held by no position, they keep the book's",
            unpriced.join(", ")
        );
    }
    let _ = writeln!(
        out,
        "variation margin on {} of {}, {} between members and the CCP\n",
        plural(day.positions.len(), "position", "positions"),
        plural(book.members.len(), "member", "members"),
        plural(day.payments.len(), "payment", "payments"),
    );
    let _ = writeln!(
        out,
        "{:<8} {:>22} {:>22} {:>11} {:>16}",
        "asset", "gross", "net", "efficiency", "imbalance"
    );
    for (a, n) in &day.by_asset {
        let _ = writeln!(
            out,
            "{:<8} {:>22.6} {:>22.6} {:>11} {:>16.3e}",
            a.name(market),
            n.gross,
            n.net,
            efficiency(n),
            n.imbalance
        );
    }
    let t = &day.total_usd;
    let _ = writeln!(
        out,
        "{:<8} {:>22} {:>22} {:>11} {:>16.3e}  (USD at the end prices)",
        "all",
        money(t.gross),
        money(t.net),
        efficiency(t),
        t.imbalance
    );
    let mut payers: Vec<_> = day
        .payments
        .iter()
        .filter(|p| p.direction == Direction::MemberPays)
        .collect();
    payers.sort_by(|a, b| b.amount_usd.total_cmp(&a.amount_usd));
    if !payers.is_empty() {
        let _ = writeln!(out, "\nlargest payments to the CCP:");
        for p in payers.iter().take(LISTED) {
            let _ = writeln!(
                out,
                "  {:<10} pays {:>20.6} {:<6} ({} USD)",
                book.members[p.member].id,
                p.amount,
                p.asset.name(market),
                money(p.amount_usd)
            );
        }
    }
    if let Some(c) = v.calls {
        let called = c.calls.iter().filter(|x| x.call > 0.0).count();
        let _ = writeln!(
            out,
            "\nmargin calls ({} paths on the moved book): {} called, {} USD in all, of which {} USD initial-margin shortfall",
            c.paths,
            plural(called, "member", "members"),
            money(c.total()),
            money(c.total_im_shortfall())
        );
    }
    out
}

/// `settle --replay`'s outputs: `vm_history.parquet` (one row per replayed
/// day) and `summary.json`.
pub fn write_replay(dir: &Path, r: &Replay) -> Result<(), ReportError> {
    let d = &r.days;
    OutputTable::default()
        .text("date", d.iter().map(|x| x.date.to_string()).collect())
        .number("vm_paid_usd", d.iter().map(|x| x.vm_paid).collect())
        .number("gross_usd", d.iter().map(|x| x.gross).collect())
        .number("net_usd", d.iter().map(|x| x.net).collect())
        .optional_number("im_call_usd", d.iter().map(|x| x.im_call).collect())
        .write_parquet(&dir.join("vm_history.parquet"))?;
    write_json(&dir.join("summary.json"), &replay_summary(r))
}

pub fn replay_summary(r: &Replay) -> Value {
    let max_vm = r.max_vm_paid();
    let max_im = r.max_im_call();
    json!({
        "clearstress_version": crate::VERSION,
        "history": r.source,
        "from": r.from.to_string(),
        "to": r.to.to_string(),
        "days_replayed": r.days.len(),
        "average_vm_paid_usd": r.average_vm_paid(),
        "max_vm_paid_usd": max_vm.map(|m| m.1),
        "max_vm_paid_date": max_vm.map(|m| m.0.to_string()),
        "max_im_call_usd": max_im.map(|m| m.1),
        "max_im_call_date": max_im.map(|m| m.0.to_string()),
        "paths": r.paths,
        "skipped": r.skipped.iter().map(|(d, why)| json!({"date": d.to_string(), "reason": why})).collect::<Vec<_>>(),
    })
}

pub fn replay_terminal(r: &Replay) -> String {
    let mut out = String::new();
    let _ = writeln!(
        out,
        "variation margin of the current book over {} .. {} of {}: {} replayed, {} skipped",
        r.from,
        r.to,
        r.source,
        plural(r.days.len(), "day", "days"),
        r.skipped.len()
    );
    let _ = writeln!(
        out,
        "average total VM paid per day (PQD 6.6): {} USD",
        money(r.average_vm_paid())
    );
    if let Some((date, vm)) = r.max_vm_paid() {
        let _ = writeln!(
            out,
            "maximum total VM paid on a day (PQD 6.7): {} USD on {date}",
            money(vm)
        );
    }
    match (r.max_im_call(), r.paths) {
        (Some((date, call)), Some(paths)) => {
            let _ = writeln!(
                out,
                "maximum aggregate initial-margin call (PQD 6.8): {} USD on {date} ({paths} paths a day)",
                money(call)
            );
        }
        _ => {
            let _ = writeln!(
                out,
                "aggregate initial-margin call: not sized (--no-margin)"
            );
        }
    }
    out
}
