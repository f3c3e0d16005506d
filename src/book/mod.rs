//! The compiled book: every member's positions and collateral reduced to dense
//! arrays that revaluation streams scenarios through.
//!
//! A member's loss in a scenario (positive = the member loses) is
//!
//! ```text
//! loss_m = constant_m + sum_f feature_f * weights[f, m]
//! ```
//!
//! over features `f`: first the assets' returns `R_a - 1`, then one P&L per unit
//! of each distinct option series (full Black-76 revaluation, see
//! [`CompiledBook::features`]). Futures, perpetuals and collateral are linear in
//! `R_a` (see [`crate::pricing`]) and fold into the asset weights and the constant;
//! options holding the same series share one revaluation. The loss includes the
//! change in the member's collateral value after haircuts, so a member posting BTC
//! against a long BTC book loses on both.

use std::collections::HashMap;

use crate::pricing::{black76, discount, Horizon, FUNDING_PERIODS_PER_DAY};
use crate::snapshot::{CollateralAsset, InstrumentKind, OptionRight, Settlement, Snapshot};

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

/// Distinct option series, structure of arrays, all at the valuation date unless
/// marked as at the horizon.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct OptionSeries {
    pub underlying: Vec<usize>,
    pub right: Vec<OptionRight>,
    pub settlement: Vec<Settlement>,
    pub strike: Vec<f64>,
    /// Spot of the underlying.
    pub spot: Vec<f64>,
    /// exp(basis tau1): the horizon forward is spot R carry1.
    pub carry1: Vec<f64>,
    /// Years to expiry at the horizon.
    pub tau1: Vec<f64>,
    /// Implied vol from the surface (sticky strike).
    pub vol: Vec<f64>,
    /// exp(-r tau1).
    pub discount1: Vec<f64>,
    /// Black-76 value per unit at the valuation date.
    pub value0: Vec<f64>,
}

impl OptionSeries {
    pub fn len(&self) -> usize {
        self.strike.len()
    }

    pub fn is_empty(&self) -> bool {
        self.strike.is_empty()
    }

    /// USD P&L per unit of series `j` given its underlying's return and vol factor.
    #[inline]
    pub fn pnl(&self, j: usize, ret: f64, vol_factor: f64) -> f64 {
        let relative = 1.0 + ret;
        let forward = self.spot[j] * relative * self.carry1[j];
        let v1 = black76(
            self.right[j],
            forward,
            self.strike[j],
            self.vol[j] * vol_factor,
            self.tau1[j],
            self.discount1[j],
        );
        match self.settlement[j] {
            Settlement::Linear => v1 - self.value0[j],
            Settlement::Inverse => v1 - self.value0[j] * relative,
        }
    }
}

/// A snapshot compiled for revaluation.
#[derive(Debug, Clone, PartialEq)]
pub struct CompiledBook {
    pub members: usize,
    pub assets: usize,
    /// Features x members, feature-major: `weights[f * members + m]`.
    pub weights: Vec<f64>,
    /// Per member: the part of the loss that does not move with the scenario.
    pub constant: Vec<f64>,
    pub options: OptionSeries,
    /// Per member: collateral value after haircuts at the valuation date, USD.
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
        let valuation_date = snapshot.valuation_date;
        let members = snapshot.members.len();
        let assets = snapshot.market.assets.len();
        let market = &snapshot.market;
        let mut options = OptionSeries::default();
        let mut series_of: HashMap<(usize, u64, i32, bool, bool), usize> = HashMap::new();
        // Linear weights per (asset, member), option weights per (series, member).
        let mut asset_weights = vec![0.0; assets * members];
        let mut option_weights: Vec<Vec<(usize, f64)>> = Vec::new();
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
            let days_to_expiry = match instrument.kind {
                InstrumentKind::Perpetual => 0.0,
                InstrumentKind::Future { expiry } | InstrumentKind::Option { expiry, .. } => {
                    f64::from(valuation_date.days_until(expiry))
                }
            };
            let h = Horizon {
                days_to_expiry,
                days: horizon_days,
            };
            let (tau0, tau1) = (h.tau0(), h.tau1());
            let w = &mut asset_weights[a * members + p.member];
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
                    let vol = market
                        .vol_surface
                        .vol(a, strike, expiry, valuation_date)
                        .ok_or_else(|| BookError::NoImpliedVol {
                            instrument: instrument.id.clone(),
                            underlying: asset.id.clone(),
                        })?;
                    let key = (
                        a,
                        strike.to_bits(),
                        expiry.days_since_epoch(),
                        right == OptionRight::Call,
                        settlement == Settlement::Inverse,
                    );
                    let j = *series_of.entry(key).or_insert_with(|| {
                        let (carry0, carry1) = ((b * tau0).exp(), (b * tau1).exp());
                        options.underlying.push(a);
                        options.right.push(right);
                        options.settlement.push(settlement);
                        options.strike.push(strike);
                        options.spot.push(s0);
                        options.carry1.push(carry1);
                        options.tau1.push(tau1);
                        options.vol.push(vol);
                        options.discount1.push(discount(market, tau1));
                        options.value0.push(black76(
                            right,
                            s0 * carry0,
                            strike,
                            vol,
                            tau0,
                            discount(market, tau0),
                        ));
                        option_weights.push(Vec::new());
                        option_weights.len() - 1
                    });
                    option_weights[j].push((p.member, -q * m));
                    gross_notional[p.member] += (q * m * s0).abs();
                    continue;
                }
            };
            *w -= exposure;
            constant[p.member] -= pnl_constant;
            gross_notional[p.member] += notional;
        }

        let mut collateral_value = vec![0.0; members];
        for c in &snapshot.collateral {
            let id = match c.asset {
                CollateralAsset::Usd => "USD",
                CollateralAsset::Asset(a) => market.assets[a].id.as_str(),
            };
            let haircut = *snapshot.config.collateral.haircuts.get(id).ok_or_else(|| {
                BookError::NoHaircut {
                    member: snapshot.members[c.member].id.clone(),
                    asset: id.to_string(),
                }
            })?;
            match c.asset {
                CollateralAsset::Usd => collateral_value[c.member] += c.amount * (1.0 - haircut),
                CollateralAsset::Asset(a) => {
                    let value = c.amount * market.assets[a].spot * (1.0 - haircut);
                    collateral_value[c.member] += value;
                    asset_weights[a * members + c.member] -= value;
                }
            }
        }

        let mut weights = asset_weights;
        weights.resize((assets + options.len()) * members, 0.0);
        for (j, entries) in option_weights.iter().enumerate() {
            for &(member, w) in entries {
                weights[(assets + j) * members + member] += w;
            }
        }
        let mut vol_assets: Vec<usize> = options.underlying.clone();
        vol_assets.sort_unstable();
        vol_assets.dedup();
        Ok(Self {
            members,
            assets,
            weights,
            constant,
            options,
            collateral_value,
            gross_notional,
            vol_assets,
        })
    }

    /// Features per scenario: asset returns, then option-series P&Ls.
    pub fn feature_count(&self) -> usize {
        self.assets + self.options.len()
    }

    /// Writes one scenario's features into `out` (length `feature_count()`).
    #[inline]
    pub fn features(&self, returns: &[f64], vol_factors: &[f64], out: &mut [f64]) {
        out[..self.assets].copy_from_slice(returns);
        for (j, dst) in out[self.assets..].iter_mut().enumerate() {
            let a = self.options.underlying[j];
            *dst = self.options.pnl(j, returns[a], vol_factors[a]);
        }
    }

    /// Member `m`'s loss given one scenario's features: the direct sum, used as the
    /// reference for the backends' matrix products.
    pub fn member_loss(&self, features: &[f64], m: usize) -> f64 {
        self.constant[m]
            + features
                .iter()
                .enumerate()
                .map(|(f, x)| x * self.weights[f * self.members + m])
                .sum::<f64>()
    }
}
