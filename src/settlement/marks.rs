//! Each contract's mark and a perpetual's funding, in the asset the contract
//! settles in (docs/methodology.md, 17.1 and 17.2).
//!
//! Per contract of size m on an underlying at spot S, forward F = S exp(b tau)
//! with the market's basis b and tau = max(expiry - date, 0) / 365:
//!
//! ```text
//! linear perpetual        m S            USD
//! linear future           m F            USD
//! inverse perpetual       -m / S         coins   (m: USD face value)
//! inverse future          -m / F         coins
//! linear option           m V            USD     (V: Black-76 at the surface's vol)
//! inverse option          m V / S        coins
//! ```
//!
//! A linear contract margined in a stablecoin U is quoted in it: S stands for
//! S / U there (U the stablecoin's USD price that day), and marks, variation
//! margin and funding are in units of U.
//!
//! The variation margin of q contracts from one date to the next is
//! q (mark_end - mark_start): for an inverse contract q m (1/F0 - 1/F1) coins,
//! the coin-margined P&L. Funding over n = 3 x days periods at the start's
//! 8-hour rate f is paid by longs to shorts when f > 0: q m S0 f n USD for a
//! linear perpetual, q m f n / S0 coins for an inverse one. Converted to USD at
//! the end's prices, these are exactly [`crate::pricing::position_pnl`]'s
//! revaluation over the period (tested).

use crate::book::{implied_vol, BookError};
use crate::input::Date;
use crate::pricing::{black76, discount, DAYS_PER_YEAR, FUNDING_PERIODS_PER_DAY};
pub use crate::snapshot::SettlementAsset;
use crate::snapshot::{Instrument, InstrumentKind, MarketData, Settlement};

/// The value of one contract of `instrument` in `market` on `date`, in its
/// settlement asset (the table above). Differences of marks are what is
/// settled; a contract at or past its expiry is marked at its final
/// settlement value (tau = 0: the spot, an option's intrinsic value).
pub fn mark(instrument: &Instrument, market: &MarketData, date: Date) -> Result<f64, BookError> {
    let asset = &market.assets[instrument.underlying];
    let (s, m) = (
        asset.spot / instrument.quote_usd(market),
        instrument.contract_size,
    );
    let tau = instrument.days_to_expiry(date).max(0.0) / DAYS_PER_YEAR;
    let forward = s * (asset.basis * tau).exp();
    Ok(match (instrument.kind, instrument.settlement) {
        (InstrumentKind::Perpetual, Settlement::Linear) => m * s,
        (InstrumentKind::Future { .. }, Settlement::Linear) => m * forward,
        (InstrumentKind::Perpetual, Settlement::Inverse) => -m / s,
        (InstrumentKind::Future { .. }, Settlement::Inverse) => -m / forward,
        (InstrumentKind::Option { strike, right, .. }, settlement) => {
            // At expiry the value is intrinsic whatever the vol, and the
            // surface has no quotes left to interpolate between.
            let vol = if tau > 0.0 {
                implied_vol(market, instrument, date)?
            } else {
                0.0
            };
            let value = black76(right, forward, strike, vol, tau, discount(market, tau));
            match settlement {
                Settlement::Linear => m * value,
                Settlement::Inverse => m * value / s,
            }
        }
    })
}

/// Funding periods in `days` calendar days: one every 8 hours.
pub fn funding_periods(days: u32) -> f64 {
    FUNDING_PERIODS_PER_DAY * f64::from(days)
}

/// The funding credited to the holder of `quantity` contracts of a perpetual
/// over `periods` 8-hour periods, in its settlement asset, at the start
/// market's rate f and spot S0 (negative: paid). Longs pay when f > 0:
/// -q m S0 f n USD (linear; in a stablecoin U with S0 / U0 for S0),
/// -q m f n / S0 coins (inverse). Zero for every other contract.
pub fn funding(instrument: &Instrument, quantity: f64, start: &MarketData, periods: f64) -> f64 {
    if instrument.kind != InstrumentKind::Perpetual {
        return 0.0;
    }
    let asset = &start.assets[instrument.underlying];
    let s0 = asset.spot / instrument.quote_usd(start);
    let (f, m) = (asset.funding_rate_8h, instrument.contract_size);
    match instrument.settlement {
        Settlement::Linear => -quantity * m * s0 * f * periods,
        Settlement::Inverse => -quantity * m * f * periods / s0,
    }
}
