//! Revaluation of cleared contracts and collateral in a market move.
//!
//! Everything is valued in USD. Over the margin period of risk h (years), a move
//! takes spot S0 to S1 = S0 R and an option's implied vol sigma0 to sigma0 v
//! (sticky strike, shocked by the scenario's vol factor v). Forwards are
//! F(tau) = S exp(basis tau). Per contract:
//!
//! - linear perpetual: P&L = m S0 (R - 1) - m S0 f n, with funding f per 8 h over
//!   n = 3 x days periods, accrued on the initial mark (the path effect on funding
//!   is of order f n (R - 1), below 0.1% of notional at crypto funding levels);
//! - linear future: P&L = m (F1 - F0), F0 = S0 exp(b tau0), F1 = S1 exp(b tau1),
//!   tau1 = max(tau0 - h, 0) (a contract expiring inside the horizon is closed out
//!   at the horizon price);
//! - inverse (coin-margined) future or perpetual with USD face m: P&L in coin
//!   m (1/F0 - 1/F1), worth m (S1/F0 - S1/F1) in USD; funding is paid in coin on
//!   the face value, m f n / S0 coins, worth m f n R in USD;
//! - option (Black-76) on m units: linear P&L = m (V1 - V0); inverse (coin-settled)
//!   options are marked in coin at V/S, so the USD P&L is m (V1/S1 - V0/S0) S1 =
//!   m (V1 - V0 R);
//! - collateral of a units after haircut h_c: value a S (1 - h_c), changing by
//!   a S0 (1 - h_c)(R - 1).
//!
//! Every contract but the option is linear in R, which [`crate::book`] exploits;
//! [`position_pnl`] is the direct, contract-by-contract reference it is tested against.

pub mod black76;

use crate::snapshot::{Instrument, InstrumentKind, MarketData, Settlement};

pub use black76::{black76, norm_cdf};

/// Funding periods per calendar day (perpetual funding every 8 hours).
pub const FUNDING_PERIODS_PER_DAY: f64 = 3.0;
pub use crate::snapshot::DAYS_PER_YEAR;

/// What an instrument needs to know about the valuation date and horizon.
#[derive(Debug, Clone, Copy)]
pub struct Horizon {
    /// Days from the valuation date to the instrument's expiry (0 for perpetuals).
    pub days_to_expiry: f64,
    /// The margin period of risk, days.
    pub days: f64,
}

impl Horizon {
    pub fn tau0(&self) -> f64 {
        self.days_to_expiry / DAYS_PER_YEAR
    }

    pub fn tau1(&self) -> f64 {
        (self.days_to_expiry - self.days).max(0.0) / DAYS_PER_YEAR
    }
}

/// Discount factor exp(-r(tau) tau) from the market's USD curve.
pub fn discount(market: &MarketData, tau: f64) -> f64 {
    (-market.rates.rate(tau * DAYS_PER_YEAR) * tau).exp()
}

/// USD P&L of `quantity` contracts of `instrument` when the underlying's spot moves
/// by `relative` (S1 = S0 relative) and, for an option, its implied vol
/// `implied_vol` (from the surface at the valuation date) by `vol_factor`.
pub fn position_pnl(
    instrument: &Instrument,
    quantity: f64,
    market: &MarketData,
    horizon: Horizon,
    relative: f64,
    vol_factor: f64,
    implied_vol: f64,
) -> f64 {
    let asset = &market.assets[instrument.underlying];
    let (s0, b, m) = (asset.spot, asset.basis, instrument.contract_size);
    let s1 = s0 * relative;
    let periods = FUNDING_PERIODS_PER_DAY * horizon.days;
    let per_contract = match (instrument.kind, instrument.settlement) {
        (InstrumentKind::Perpetual, Settlement::Linear) => {
            m * s0 * (relative - 1.0) - m * s0 * asset.funding_rate_8h * periods
        }
        (InstrumentKind::Perpetual, Settlement::Inverse) => {
            m * (relative - 1.0) - m * asset.funding_rate_8h * periods * relative
        }
        (InstrumentKind::Future { .. }, Settlement::Linear) => {
            m * (s1 * (b * horizon.tau1()).exp() - s0 * (b * horizon.tau0()).exp())
        }
        (InstrumentKind::Future { .. }, Settlement::Inverse) => {
            let (f0, f1) = (
                s0 * (b * horizon.tau0()).exp(),
                s1 * (b * horizon.tau1()).exp(),
            );
            m * (s1 / f0 - s1 / f1)
        }
        (InstrumentKind::Option { strike, right, .. }, settlement) => {
            let (tau0, tau1) = (horizon.tau0(), horizon.tau1());
            let (d0, d1) = (discount(market, tau0), discount(market, tau1));
            let v0 = black76(right, s0 * (b * tau0).exp(), strike, implied_vol, tau0, d0);
            let v1 = black76(
                right,
                s1 * (b * tau1).exp(),
                strike,
                implied_vol * vol_factor,
                tau1,
                d1,
            );
            match settlement {
                Settlement::Linear => m * (v1 - v0),
                Settlement::Inverse => m * (v1 - v0 * relative),
            }
        }
    };
    quantity * per_contract
}
