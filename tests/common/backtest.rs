//! What the backtest tests share: a CPU runner, the days of a made-up price
//! history and the CSV tables built on them, the parameters every backtest
//! starts from, and a one-asset book of BTC perpetuals.

use std::fmt::Debug;

use clearstress::analysis::backtest::{BacktestParams, Portfolios};
use clearstress::analysis::Runner;
use clearstress::backend::CpuBackend;
use clearstress::engine::RunLimits;
use clearstress::history::PriceHistory;
use clearstress::input::{Date, Table};
use clearstress::snapshot::{InstrumentKind, Settlement, Snapshot};

use super::{add_instrument, asset, date, hold, market_snapshot, member};

/// A run on `backend` with the default limits and no progress report.
pub fn runner(backend: &CpuBackend) -> Runner<'_, CpuBackend> {
    Runner {
        backend,
        limits: RunLimits::default(),
        progress: &|_| {},
    }
}

/// Day 0 of the made-up histories, unless a test says otherwise.
pub const FIRST: &str = "2024-01-01";

/// Day `d` of a made-up history whose day 0 is `first`.
pub fn day_from<D>(first: &str, d: D) -> Date
where
    D: TryInto<i32>,
    D::Error: Debug,
{
    date(first).add_days(d.try_into().unwrap())
}

/// Day `d` of a made-up history from [`FIRST`].
pub fn day<D>(d: D) -> Date
where
    D: TryInto<i32>,
    D::Error: Debug,
{
    day_from(FIRST, d)
}

/// The CSV table `name` with the header `date,{columns}` and a row
/// `{date},{cells}` for each of `rows` (an empty cell is a blank).
pub fn dated_table(
    name: &str,
    columns: &str,
    rows: impl IntoIterator<Item = (Date, String)>,
) -> Table {
    let mut csv = format!("date,{columns}\n");
    for (date, cells) in rows {
        csv.push_str(&format!("{date},{cells}\n"));
    }
    Table::from_csv_bytes(name, csv.as_bytes()).unwrap()
}

/// The price history of [`dated_table`]`(name, columns, rows)`.
pub fn price_history(
    name: &str,
    columns: &str,
    rows: impl IntoIterator<Item = (Date, String)>,
) -> PriceHistory {
    PriceHistory::from_table(&dated_table(name, columns, rows)).unwrap()
}

/// A backtest of the members' current positions from `from` to `to`, each
/// date calibrated on a 90-day window with the EWMA decay 0.94, no Z2
/// simulations and no implied-vol index.
pub fn params(from: Date, to: Date) -> BacktestParams {
    BacktestParams {
        from,
        to,
        lookback_days: 90,
        lambda: 0.94,
        portfolios: Portfolios::Current,
        z2_simulations: 0,
        implied_vol: None,
    }
}

/// One asset, BTC at 100 (volatility 50%), and members A and B in the
/// affiliate groups `groups`: A holds `a` and B `b` contracts of a linear
/// perpetual on BTC, BTC-PERP, one coin a contract. No collateral; the
/// configuration is [`market_snapshot`]'s.
pub fn btc_perpetual_book(groups: [&str; 2], a: f64, b: f64) -> Snapshot {
    let mut s = market_snapshot(
        vec![asset("BTC", 100.0, 0.5)],
        vec![1.0],
        vec![member("A", groups[0]), member("B", groups[1])],
    );
    let perp = linear_perpetual(&mut s, "BTC-PERP", 0);
    hold(&mut s, 0, perp, a);
    hold(&mut s, 1, perp, b);
    s
}

/// A linear perpetual `id` on asset `underlying`, one unit a contract: its
/// index in `s`.
pub fn linear_perpetual(s: &mut Snapshot, id: &str, underlying: usize) -> usize {
    add_instrument(
        s,
        id,
        underlying,
        Settlement::Linear,
        1.0,
        InstrumentKind::Perpetual,
    )
}
