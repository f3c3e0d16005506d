//! The current book's variation margin over a price history (docs/methodology.md,
//! 17.5): each day of the history applies its one-day price moves to the book as
//! it stands and settles the day, giving the total VM members pay per day (its
//! average and maximum: PQD 6.6 and 6.7) and, with a margin run per day, the
//! aggregate initial-margin call (its maximum: PQD 6.8).

use super::{margin_calls, settle, EndOfDay, SettlementError};
use crate::backend::Backend;
use crate::engine::Runner;
use crate::history::PriceHistory;
use crate::input::{Date, InputError, Location};
use crate::snapshot::Snapshot;

/// One replayed day: the book facing the move from the day before to `date`.
#[derive(Debug, Clone, PartialEq)]
pub struct ReplayDay {
    pub date: Date,
    /// USD members pay the CCP: the sum of their payments, all assets.
    pub vm_paid: f64,
    /// Gross and net obligations in USD (17.3).
    pub gross: f64,
    pub net: f64,
    /// The sum of the members' initial-margin shortfalls on the moved book,
    /// USD; `None` without a margin run.
    pub im_call: Option<f64>,
}

/// The replay over a period of the history.
#[derive(Debug, Clone, PartialEq)]
pub struct Replay {
    pub from: Date,
    pub to: Date,
    /// The history's source.
    pub source: String,
    pub days: Vec<ReplayDay>,
    /// Days in the period not replayed, with the reason.
    pub skipped: Vec<(Date, String)>,
    /// Scenarios of each day's margin run, if any.
    pub paths: Option<u64>,
}

impl Replay {
    pub fn average_vm_paid(&self) -> f64 {
        self.days.iter().map(|d| d.vm_paid).sum::<f64>() / self.days.len().max(1) as f64
    }

    /// The day members paid most, and how much.
    pub fn max_vm_paid(&self) -> Option<(Date, f64)> {
        self.days
            .iter()
            .max_by(|a, b| a.vm_paid.total_cmp(&b.vm_paid).then(b.date.cmp(&a.date)))
            .map(|d| (d.date, d.vm_paid))
    }

    /// The day of the largest aggregate initial-margin call, and the call.
    pub fn max_im_call(&self) -> Option<(Date, f64)> {
        self.days
            .iter()
            .filter_map(|d| Some((d.date, d.im_call?)))
            .max_by(|a, b| a.1.total_cmp(&b.1).then(b.0.cmp(&a.0)))
    }
}

/// The book moved by the history's returns from the day before `d` to day
/// `d`, one day after the book's date; `Err` with the reason when an asset a
/// held instrument is valued on lacks either close.
fn day_move(
    book: &Snapshot,
    history: &PriceHistory,
    columns: &[Option<usize>],
    d: usize,
) -> Result<EndOfDay, String> {
    let mut market = book.market.clone();
    let mut repriced = vec![false; market.assets.len()];
    let held: Vec<usize> = book
        .positions
        .iter()
        .flat_map(|p| book.instruments[p.instrument].priced_on())
        .collect();
    for (a, asset) in market.assets.iter_mut().enumerate() {
        let ret = columns[a].and_then(|h| Some(history.close(d, h)? / history.close(d - 1, h)?));
        match ret {
            Some(r) => {
                asset.spot *= r;
                repriced[a] = true;
            }
            None if held.contains(&a) => {
                return Err(format!("no close for {} on both days", asset.id));
            }
            None => {}
        }
    }
    Ok(EndOfDay {
        date: book.valuation_date.add_days(1),
        market,
        source: format!("{}, row {}", history.source, d + 1),
        repriced,
    })
}

/// Per asset of the book's market, its column in `history`.
fn history_columns(book: &Snapshot, history: &PriceHistory) -> Vec<Option<usize>> {
    book.market
        .assets
        .iter()
        .map(|a| history.asset_index(&a.id))
        .collect()
}

/// VM of the current book on each day of `history` from `from` to `to`.
pub fn replay_vm(
    book: &Snapshot,
    history: &PriceHistory,
    from: Date,
    to: Date,
) -> Result<Replay, SettlementError> {
    let columns = history_columns(book, history);
    for p in &book.positions {
        let instrument = &book.instruments[p.instrument];
        if let Some(a) = instrument.priced_on().find(|&a| columns[a].is_none()) {
            return Err(InputError::invalid(
                Location::file(&history.source).field(&book.market.assets[a].id),
                format!(
                    "no column for asset `{}`, {} of instrument `{}`: expected its daily closes",
                    book.market.assets[a].id,
                    instrument.role_of(a),
                    instrument.id
                ),
            )
            .into());
        }
    }
    let mut replay = Replay {
        from,
        to,
        source: history.source.clone(),
        days: Vec::new(),
        skipped: Vec::new(),
        paths: None,
    };
    for d in 1..history.dates.len() {
        let date = history.dates[d];
        if date < from || date > to {
            continue;
        }
        if history.dates[d - 1].add_days(1) != date {
            replay
                .skipped
                .push((date, "the day before is missing from the history".into()));
            continue;
        }
        match day_move(book, history, &columns, d) {
            Err(why) => replay.skipped.push((date, why)),
            Ok(end) => {
                let day = settle(book, &end)?;
                replay.days.push(ReplayDay {
                    date,
                    vm_paid: day.members_pay_usd(),
                    gross: day.total_usd.gross,
                    net: day.total_usd.net,
                    im_call: None,
                });
            }
        }
    }
    if replay.days.is_empty() {
        return Err(InputError::invalid(
            Location::file(&history.source).field("date"),
            format!("no day from {from} to {to} has closes on it and the day before for every held underlying: expected at least one"),
        )
        .into());
    }
    Ok(replay)
}

/// Adds each replayed day's aggregate initial-margin call: a margin run on
/// the book moved by that day's returns.
pub fn replay_im_calls<B: Backend>(
    runner: &Runner<'_, B>,
    book: &Snapshot,
    history: &PriceHistory,
    replay: &mut Replay,
) -> Result<(), SettlementError> {
    let columns = history_columns(book, history);
    for day in &mut replay.days {
        let Ok(d) = history.dates.binary_search(&day.date) else {
            continue;
        };
        let Ok(end) = day_move(book, history, &columns, d) else {
            continue;
        };
        let settled = settle(book, &end)?;
        let calls = margin_calls(runner, book, &end, &settled)?;
        day.im_call = Some(calls.total_im_shortfall());
    }
    replay.paths = Some(book.config.scenario.paths);
    Ok(())
}
