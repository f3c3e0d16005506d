//! Historical windows as stress scenarios: every run of `days` consecutive
//! calendar days in a price history becomes the scenario "each asset moves as
//! it did from the close before the window to the window's last close". The
//! worst-window analysis revalues a book in all of them
//! ([`crate::analysis::worst_window`]).
//!
//! Prices only: implied vols are left unchanged (a limitation for option
//! books, said in each scenario's source).

use super::historical::history_columns;
use super::model::ModelError;
use crate::history::PriceHistory;
use crate::input::Date;
use crate::snapshot::{MarketData, StressScenario};

/// A window of the history as a stress scenario.
#[derive(Debug, Clone, PartialEq)]
pub struct HistoricalWindow {
    /// The window's first and last days: the moves are from the close before
    /// `first` to the close of `last`.
    pub first: Date,
    pub last: Date,
    pub scenario: StressScenario,
}

impl HistoricalWindow {
    pub fn overlaps(&self, other: &Self) -> bool {
        self.first <= other.last && other.first <= self.last
    }
}

/// One stress scenario per window of `days` days over which each of `assets`
/// (the market assets a book's losses depend on) has a close at both ends, in
/// date order. Those assets move as they did; the market's other assets, which
/// cannot change the book's loss, are left unshocked and do not restrict the
/// windows.
pub fn historical_windows(
    history: &PriceHistory,
    market: &MarketData,
    assets: &[usize],
    days: u32,
) -> Result<Vec<HistoricalWindow>, ModelError> {
    if days == 0 {
        return Err(ModelError::OutOfRange {
            parameter: "days",
            value: 0.0,
            expected: ">= 1",
        });
    }
    let all_columns = history_columns(history, market, assets)?;
    let columns: Vec<(usize, usize)> = assets.iter().copied().zip(all_columns).collect();
    let index_of = |date: Date| history.dates.binary_search(&date).ok();
    let mut scenarios = Vec::new();
    for (d0, &before) in history.dates.iter().enumerate() {
        // A window ending past the last supported date cannot be in the history.
        let Some(end) = before.checked_add_days(i64::from(days)) else {
            break;
        };
        let Some(d1) = index_of(end) else { continue };
        let mut price_shocks = vec![0.0; market.assets.len()];
        let complete =
            columns.iter().all(
                |&(a, c)| match (history.close(d0, c), history.close(d1, c)) {
                    (Some(p0), Some(p1)) => {
                        price_shocks[a] = p1 / p0 - 1.0;
                        true
                    }
                    _ => false,
                },
            );
        if !complete {
            continue;
        }
        let first = before.add_days(1);
        let scenario = StressScenario {
            name: format!("{first}..{end} ({days} days)"),
            kind: "historical".into(),
            description: format!(
                "The realised moves of the {days} days {first} to {end}, found by the worst-window search."
            ),
            source: format!(
                "{}: shock = close({end}) / close({before}) - 1 for each asset the book depends on \
                 (others unshocked); implied vols unchanged",
                history.source
            ),
            origin: format!("{}#{first}..{end}", history.source),
            price_shocks,
            vol_shocks: vec![0.0; market.assets.len()],
        };
        scenarios.push(HistoricalWindow {
            first,
            last: end,
            scenario,
        });
    }
    Ok(scenarios)
}
