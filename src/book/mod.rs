//! The compiled book: every member's positions and collateral reduced to dense
//! arrays that revaluation streams scenarios through.
//!
//! A member's loss in a scenario (positive = the member loses) is
//!
//! ```text
//! loss_m = constant_m + sum_a (R_a - 1) weights[a, m] + sum_{j held by m} pnl_j w_{m,j}
//! ```
//!
//! The features of a scenario are the assets' returns `R_a - 1`, then one P&L per
//! unit of each distinct option series (full Black-76 revaluation, see
//! [`CompiledBook::features`]). Futures, perpetuals and collateral are linear in
//! `R_a` (see [`crate::pricing`]) and fold into the dense asset weights and the
//! constant: a matrix product. Option holdings are sparse (a member holds a few
//! of the series), so they are kept per member ([`MemberOptions`]) and added as
//! a sparse product; positions in the same series share one revaluation. The loss includes the
//! change in the member's collateral value after haircuts, so a member posting BTC
//! against a long BTC book loses on both.

pub mod collateral;
mod parity;
mod series;

pub use parity::ParityFold;
pub use series::{OptionSeries, StrikeGroups};

use std::collections::HashMap;

use crate::input::Date;
use crate::lanes::elementary::ln;
use crate::lanes::Lanes;
use crate::pricing::{self, black76, discount, Horizon, Move, FUNDING_PERIODS_PER_DAY};
use crate::snapshot::{
    CollateralAsset, Instrument, InstrumentKind, MarketData, OptionRight, Position, Settlement,
    Snapshot,
};

#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum BookError {
    #[error("instrument `{instrument}`: no implied vol for underlying `{underlying}` in the vol surface")]
    NoImpliedVol {
        instrument: String,
        underlying: String,
    },
    #[error(
        "collateral of member `{member}` in `{asset}`: no haircut configured (collateral.haircuts)"
    )]
    NoHaircut { member: String, asset: String },
}

/// The implied vol an option is valued at: the surface's at its strike and
/// expiry, seen from `valuation_date` (0 for a future or perpetual, which
/// have none).
pub fn implied_vol(
    market: &MarketData,
    instrument: &Instrument,
    valuation_date: Date,
) -> Result<f64, BookError> {
    let InstrumentKind::Option { strike, expiry, .. } = instrument.kind else {
        return Ok(0.0);
    };
    let a = instrument.underlying;
    market
        .vol_surface
        .vol(a, strike, expiry, valuation_date)
        .ok_or_else(|| BookError::NoImpliedVol {
            instrument: instrument.id.clone(),
            underlying: market.assets[a].id.clone(),
        })
}

/// Option holdings per member, compressed by member: member m holds `weight[i]`
/// (loss per unit of series P&L, i.e. minus quantity x contract size) of series
/// `series[i]` for i in `offsets[m]..offsets[m + 1]`, series ascending.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct MemberOptions {
    pub offsets: Vec<usize>,
    pub series: Vec<usize>,
    pub weight: Vec<f64>,
}

impl MemberOptions {
    /// From (member, series, weight) entries; one entry per (member, series).
    fn from_entries(members: usize, mut entries: Vec<(usize, usize, f64)>) -> Self {
        entries.sort_by_key(|&(m, j, _)| (m, j));
        let mut merged: Vec<(usize, usize, f64)> = Vec::with_capacity(entries.len());
        for (m, j, w) in entries {
            match merged.last_mut() {
                Some(last) if (last.0, last.1) == (m, j) => last.2 += w,
                _ => merged.push((m, j, w)),
            }
        }
        let mut offsets = vec![0; members + 1];
        for &(m, _, _) in &merged {
            offsets[m + 1] += 1;
        }
        for m in 0..members {
            offsets[m + 1] += offsets[m];
        }
        Self {
            offsets,
            series: merged.iter().map(|e| e.1).collect(),
            weight: merged.iter().map(|e| e.2).collect(),
        }
    }

    /// Member m's holdings: (series, weight) pairs.
    pub fn of(&self, m: usize) -> impl Iterator<Item = (usize, f64)> + '_ {
        let r = self.offsets[m]..self.offsets[m + 1];
        self.series[r.clone()]
            .iter()
            .copied()
            .zip(self.weight[r].iter().copied())
    }
}

/// `instrument`'s time to expiry and the snapshot's margin period of risk.
fn horizon(snapshot: &Snapshot, instrument: &Instrument) -> Horizon {
    Horizon {
        days_to_expiry: instrument.days_to_expiry(snapshot.valuation_date),
        days: snapshot.config.risk.margin_period_days,
    }
}

/// The USD P&L of one position when each asset moves by `returns` and its
/// implied vol by `vol_factors`: the contract-by-contract revaluation
/// ([`pricing::position_pnl`]) the compiled book is tested against, for what
/// needs a position's own P&L rather than its member's (auto-deleveraging
/// ranks positions, methodology 9.4).
pub fn position_pnl(
    snapshot: &Snapshot,
    position: &Position,
    returns: &[f64],
    vol_factors: &[f64],
) -> Result<f64, BookError> {
    let instrument = &snapshot.instruments[position.instrument];
    let vol = implied_vol(&snapshot.market, instrument, snapshot.valuation_date)?;
    let moves = Move::of(instrument, |a| 1.0 + returns[a], vol_factors);
    Ok(pricing::position_pnl(
        instrument,
        position.quantity,
        &snapshot.market,
        horizon(snapshot, instrument),
        moves,
        vol,
    ))
}

/// A snapshot compiled for revaluation.
#[derive(Debug, Clone, PartialEq)]
pub struct CompiledBook {
    pub members: usize,
    pub assets: usize,
    /// Assets x members, asset-major: `weights[a * members + m]`.
    pub weights: Vec<f64>,
    /// Option holdings, sparse by member.
    pub member_options: MemberOptions,
    /// Per member: the part of the loss that does not move with the scenario.
    pub constant: Vec<f64>,
    pub options: OptionSeries,
    /// Per member: collateral value after haircuts and the eligibility
    /// rules at the valuation date, USD.
    pub collateral_value: Vec<f64>,
    /// Per member: gross notional of positions, USD (for reports).
    pub gross_notional: Vec<f64>,
    /// Option underlyings: the assets whose implied vols scenarios must shock.
    pub vol_assets: Vec<usize>,
}

impl CompiledBook {
    /// Compiles `snapshot` for its configured margin period of risk.
    pub fn compile(snapshot: &Snapshot) -> Result<Self, BookError> {
        let horizon_days = snapshot.config.risk.margin_period_days;
        let members = snapshot.members.len();
        let assets = snapshot.market.assets.len();
        let market = &snapshot.market;
        let mut options = OptionSeries::default();
        let mut series_of: HashMap<(usize, u64, i32, bool, bool), usize> = HashMap::new();
        let mut groups_of = series::GroupIndex::new();
        // Linear weights per (asset, member), option weights per (series, member).
        let mut asset_weights = vec![0.0; assets * members];
        let mut option_entries: Vec<(usize, usize, f64)> = Vec::new();
        let mut constant = vec![0.0; members];
        let mut gross_notional = vec![0.0; members];
        let periods = FUNDING_PERIODS_PER_DAY * horizon_days;

        for p in &snapshot.positions {
            let instrument = &snapshot.instruments[p.instrument];
            let a = instrument.underlying;
            let asset = &market.assets[a];
            let (s0, b, m, q) = (
                asset.spot,
                asset.basis,
                instrument.contract_size,
                p.quantity,
            );
            let h = horizon(snapshot, instrument);
            let (tau0, tau1) = (h.tau0(), h.tau1());
            // Exposure e and constant c with P&L = e (R - 1) + c; the loss is -P&L.
            let (exposure, pnl_constant, notional) = match (instrument.kind, instrument.settlement)
            {
                (InstrumentKind::Perpetual, Settlement::Linear) => {
                    let funding = m * s0 * asset.funding_rate_8h * periods;
                    (q * m * s0, -q * funding, (q * m * s0).abs())
                }
                (InstrumentKind::Perpetual, Settlement::Inverse) => {
                    let fp = asset.funding_rate_8h * periods;
                    (q * m * (1.0 - fp), -q * m * fp, (q * m).abs())
                }
                (InstrumentKind::Future { .. }, Settlement::Linear) => {
                    let (c0, c1) = ((b * tau0).exp(), (b * tau1).exp());
                    (
                        q * m * s0 * c1,
                        q * m * s0 * (c1 - c0),
                        (q * m * s0 * c0).abs(),
                    )
                }
                (InstrumentKind::Future { .. }, Settlement::Inverse) => {
                    let (d0, d1) = ((-b * tau0).exp(), (-b * tau1).exp());
                    (q * m * d0, q * m * (d0 - d1), (q * m).abs())
                }
                (
                    InstrumentKind::Option {
                        strike,
                        right,
                        expiry,
                    },
                    settlement,
                ) => {
                    let vol = implied_vol(market, instrument, snapshot.valuation_date)?;
                    let key = (
                        a,
                        strike.to_bits(),
                        expiry.days_since_epoch(),
                        right == OptionRight::Call,
                        settlement == Settlement::Inverse,
                    );
                    let j = *series_of.entry(key).or_insert_with(|| {
                        let (carry0, carry1) = ((b * tau0).exp(), (b * tau1).exp());
                        let series = series::NewSeries {
                            underlying: a,
                            right,
                            settlement,
                            strike,
                            spot: s0,
                            carry1,
                            tau1,
                            vol,
                            log_moneyness1: ln(Lanes([s0 * carry1 / strike])).0[0],
                            discount1: discount(market, tau1),
                            value0: black76(
                                right,
                                s0 * carry0,
                                strike,
                                vol,
                                tau0,
                                discount(market, tau0),
                            ),
                        };
                        options.push(series, expiry.days_since_epoch(), &mut groups_of);
                        options.len() - 1
                    });
                    option_entries.push((p.member, j, -q * m));
                    gross_notional[p.member] += (q * m * s0).abs();
                    continue;
                }
            };
            asset_weights[a * members + p.member] -= exposure;
            constant[p.member] -= pnl_constant;
            if let Some(u) = instrument.stablecoin {
                // Paid in a stablecoin: the USD P&L is R_U (e (R / R_U - 1) + c)
                // = e (R - 1) + (c - e)(R_U - 1) + c (methodology 6.1).
                asset_weights[u * members + p.member] -= pnl_constant - exposure;
            }
            gross_notional[p.member] += notional;
        }

        // Only the counted value protects the member, and it moves with its
        // asset: a counted fraction of a holding falls with its price.
        let mut collateral_value = vec![0.0; members];
        let counted = collateral::counted(snapshot)?;
        for (c, holding) in snapshot.collateral.iter().zip(&counted.holdings) {
            let value = holding.counted;
            collateral_value[c.member] += value;
            if let CollateralAsset::Asset(a) = c.asset {
                asset_weights[a * members + c.member] -= value;
            }
        }

        let mut vol_assets: Vec<usize> = options.groups.underlying.clone();
        vol_assets.sort_unstable();
        vol_assets.dedup();
        Ok(Self {
            members,
            assets,
            weights: asset_weights,
            member_options: MemberOptions::from_entries(members, option_entries),
            constant,
            options,
            collateral_value,
            gross_notional,
            vol_assets,
        })
    }

    /// The assets whose moves change some member's loss: those with a
    /// weight (positions, coin collateral) or an option on them, ascending.
    pub fn assets_depended_on(&self) -> Vec<usize> {
        (0..self.assets)
            .filter(|&a| {
                self.weights[a * self.members..(a + 1) * self.members]
                    .iter()
                    .any(|&w| w != 0.0)
                    || self.options.groups.underlying.contains(&a)
            })
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn member_options_merge_repeated_series_and_skip_empty_members() {
        // Member 1 holds nothing; member 2 holds series 0 twice and series 3.
        let options = MemberOptions::from_entries(
            3,
            vec![(2, 3, 1.5), (0, 0, -1.0), (2, 0, 2.0), (2, 0, 0.25)],
        );
        assert_eq!(options.of(0).collect::<Vec<_>>(), vec![(0, -1.0)]);
        assert_eq!(options.of(1).count(), 0);
        assert_eq!(options.of(2).collect::<Vec<_>>(), vec![(0, 2.25), (3, 1.5)]);
    }
}
