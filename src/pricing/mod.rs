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
//!   a S0 (1 - h_c)(R - 1);
//! - a linear perpetual or future margined in a stablecoin U (USDT-margined)
//!   is quoted in U and pays in U: the formulas above on the price S / U,
//!   times U1 to value the payment in USD ([`position_pnl`]). Its USD P&L
//!   q m S0 (R - R_U) for a perpetual is linear in both returns.
//!
//! Every contract but the option is linear in the returns, which [`crate::book`] exploits;
//! [`position_pnl`] is the direct, contract-by-contract reference it is tested against.

pub mod black76;

use crate::snapshot::{Instrument, InstrumentKind, MarketData, Settlement};

pub use black76::{black76, black76_delta, norm_cdf};

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

/// One scenario's move of what a contract is valued on, over the horizon.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Move {
    /// The underlying's S1 / S0.
    pub underlying: f64,
    /// The factor on an option's implied vol (sticky strike).
    pub vol_factor: f64,
    /// The stablecoin's U1 / U0, for a contract margined in one (ignored
    /// for every other contract).
    pub stablecoin: f64,
}

impl Move {
    /// What `instrument` sees when each asset a moves by `relative(a)` =
    /// S1 / S0 and its implied vol by `vol_factors[a]`.
    pub fn of(
        instrument: &Instrument,
        relative: impl Fn(usize) -> f64,
        vol_factors: &[f64],
    ) -> Self {
        let a = instrument.underlying;
        Self {
            underlying: relative(a),
            vol_factor: vol_factors[a],
            stablecoin: instrument.stablecoin.map_or(1.0, relative),
        }
    }

    /// The underlying moving by `relative`, nothing else.
    pub fn spot(relative: f64) -> Self {
        Self {
            underlying: relative,
            vol_factor: 1.0,
            stablecoin: 1.0,
        }
    }
}

/// USD P&L at the end's prices of `quantity` contracts of `instrument` in
/// the move `moves`, an option valued at `implied_vol` (from the surface at
/// the valuation date) times the move's vol factor.
///
/// A stablecoin-margined contract is the USD one on the underlying's price
/// in the stablecoin, S / U, and pays in units worth U1 in USD: its P&L is
/// the formulas above with S0 / U0 for S0 and R / R_U for R, times U0 R_U
/// (for a perpetual q m S0 (R - R_U) - q m S0 f n R_U).
pub fn position_pnl(
    instrument: &Instrument,
    quantity: f64,
    market: &MarketData,
    horizon: Horizon,
    moves: Move,
    implied_vol: f64,
) -> f64 {
    let asset = &market.assets[instrument.underlying];
    let (b, m, vol_factor) = (asset.basis, instrument.contract_size, moves.vol_factor);
    let (s0, relative, to_usd) = match instrument.settlement {
        Settlement::Linear => {
            let u0 = instrument.quote_usd(market);
            let r_u = moves.stablecoin;
            (asset.spot / u0, moves.underlying / r_u, u0 * r_u)
        }
        Settlement::Inverse => (asset.spot, moves.underlying, 1.0),
    };
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
    quantity * per_contract * to_usd
}

/// The USD value of the underlying that `quantity` contracts of `instrument`
/// are equivalent to at the valuation date: dP&L/dR at R = 1 over a zero
/// horizon, the amount a close-out must sell (positive) or buy (negative) to
/// flatten the position (`default_management::close_out`). With F0 = S0
/// exp(b tau0), per contract:
///
/// - linear perpetual m S0; inverse perpetual m (its USD face);
/// - linear future m F0; inverse future m S0 / F0 (the coin P&L m (1/F0 - 1/F1)
///   is worth m S1 (1/F0 - 1/F1) in USD);
/// - option on m coins, forward delta Delta = dV/dF ([`black76_delta`]):
///   linear m F0 Delta; inverse m (F0 Delta - V0), since its USD P&L is
///   m (V1 - V0 R).
///
/// `implied_vol` is the option's vol from the surface (ignored otherwise).
pub fn usd_delta(
    instrument: &Instrument,
    quantity: f64,
    market: &MarketData,
    days_to_expiry: f64,
    implied_vol: f64,
) -> f64 {
    let asset = &market.assets[instrument.underlying];
    let (s0, m) = (asset.spot, instrument.contract_size);
    let tau0 = days_to_expiry / DAYS_PER_YEAR;
    let f0 = s0 * (asset.basis * tau0).exp();
    let per_contract = match (instrument.kind, instrument.settlement) {
        (InstrumentKind::Perpetual, Settlement::Linear) => m * s0,
        (InstrumentKind::Perpetual, Settlement::Inverse) => m,
        (InstrumentKind::Future { .. }, Settlement::Linear) => m * f0,
        (InstrumentKind::Future { .. }, Settlement::Inverse) => m * s0 / f0,
        (InstrumentKind::Option { strike, right, .. }, settlement) => {
            let d0 = discount(market, tau0);
            let delta = black76_delta(right, f0, strike, implied_vol, tau0, d0);
            match settlement {
                Settlement::Linear => m * f0 * delta,
                Settlement::Inverse => {
                    m * (f0 * delta - black76(right, f0, strike, implied_vol, tau0, d0))
                }
            }
        }
    };
    quantity * per_contract
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::input::Date;
    use crate::snapshot::{Asset, AssetClass, OptionRight, RateCurve, VolSurface};

    fn market() -> MarketData {
        MarketData {
            assets: vec![Asset {
                id: "BTC".into(),
                class: AssetClass::Crypto,
                spot: 97_600.0,
                volatility: 0.5,
                funding_rate_8h: 0.0001,
                basis: 0.08,
                adv_usd: 5e10,
                synthetic: false,
                source: String::new(),
            }],
            correlation: vec![1.0],
            vol_surface: VolSurface::default(),
            rates: RateCurve::flat(0.043),
        }
    }

    /// A USDT-margined perpetual and future, against their USD P&L written
    /// out: q m S0 (R - R_U) - q m S0 f n R_U and q m S0 (c1 R - c0 R_U); at
    /// R_U = 1 the USD-margined contract's.
    #[test]
    fn a_stablecoin_margined_contract_pays_in_its_stablecoin() {
        let mut market = market();
        market.assets.push(Asset {
            id: "USDT".into(),
            class: AssetClass::Stablecoin,
            spot: 0.9995,
            ..market.assets[0].clone()
        });
        let expiry = Date::parse("2025-03-28").unwrap();
        let (q, m, s0, f, b) = (-7.0, 0.01, 97_600.0, 0.0001, 0.08);
        let horizon = Horizon {
            days_to_expiry: 36.0,
            days: 2.0,
        };
        let (c0, c1) = ((b * horizon.tau0()).exp(), (b * horizon.tau1()).exp());
        for (r, r_u) in [(1.1, 0.95), (0.7, 1.0), (1.0, 1.02)] {
            let moves = Move {
                underlying: r,
                vol_factor: 1.0,
                stablecoin: r_u,
            };
            let cases = [
                (
                    InstrumentKind::Perpetual,
                    q * m * s0 * (r - r_u) - q * m * s0 * f * 6.0 * r_u,
                ),
                (
                    InstrumentKind::Future { expiry },
                    q * m * s0 * (c1 * r - c0 * r_u),
                ),
            ];
            for (kind, want) in cases {
                let mut instrument = Instrument {
                    id: "X".into(),
                    underlying: 0,
                    settlement: Settlement::Linear,
                    contract_size: m,
                    kind,
                    stablecoin: Some(1),
                };
                let pnl = position_pnl(&instrument, q, &market, horizon, moves, 0.0);
                assert!(
                    (pnl - want).abs() <= 1e-9 * want.abs(),
                    "{kind:?} at R {r}, R_U {r_u}: {pnl}, expected {want}"
                );
                if r_u == 1.0 {
                    let tethered = pnl;
                    instrument.stablecoin = None;
                    let usd = position_pnl(&instrument, q, &market, horizon, moves, 0.0);
                    assert!((tethered - usd).abs() <= 1e-9 * usd.abs(), "{kind:?}");
                }
            }
        }
    }

    /// The USD delta of every kind of contract is the slope of its P&L over a
    /// zero horizon (no funding accrues, no time passes), by a central
    /// difference of [`position_pnl`] in R: options against their Black-76
    /// price, in and out of the money, one day and a year from expiry.
    #[test]
    fn the_usd_delta_is_the_slope_of_the_revaluation() {
        let expiry = Date::parse("2025-03-28").unwrap();
        let option = |strike, right| InstrumentKind::Option {
            expiry,
            strike,
            right,
        };
        #[rustfmt::skip]
        let cases = [
            (InstrumentKind::Perpetual, Settlement::Linear, 37.0),
            (InstrumentKind::Perpetual, Settlement::Inverse, 37.0),
            (InstrumentKind::Future { expiry }, Settlement::Linear, 36.0),
            (InstrumentKind::Future { expiry }, Settlement::Inverse, 36.0),
            (option(100_000.0, OptionRight::Call), Settlement::Linear, 36.0),
            (option(100_000.0, OptionRight::Put), Settlement::Linear, 36.0),
            (option(80_000.0, OptionRight::Call), Settlement::Inverse, 1.0),
            (option(120_000.0, OptionRight::Put), Settlement::Inverse, 365.0),
            (option(60_000.0, OptionRight::Put), Settlement::Linear, 365.0),
        ];
        let market = market();
        for (kind, settlement, days) in cases {
            let instrument = Instrument {
                id: "X".into(),
                underlying: 0,
                settlement,
                contract_size: 2.0,
                kind,
                stablecoin: None,
            };
            let horizon = Horizon {
                days_to_expiry: days,
                days: 0.0,
            };
            let (q, vol, h) = (-3.0, 0.55, 1e-5);
            let pnl = |r| position_pnl(&instrument, q, &market, horizon, Move::spot(r), vol);
            let slope = (pnl(1.0 + h) - pnl(1.0 - h)) / (2.0 * h);
            let delta = usd_delta(&instrument, q, &market, days, vol);
            assert!(
                (delta - slope).abs() <= 1e-6 * slope.abs().max(1.0),
                "{kind:?} {settlement:?} {days} days: delta {delta}, slope {slope}"
            );
        }
    }
}
