//! The cost of closing out a defaulter's portfolio: what the clearing house
//! pays, beyond the price move the margin covers, to sell what the defaulter
//! was long and buy back what it was short (docs/methodology.md, section 9.5;
//! ESMA's EU-wide CCP stress tests size it as their concentration risk).
//!
//! Member m's exposure to asset a is the USD value of the underlying its
//! book is equivalent to at the valuation date, netted over its positions and
//! its coin collateral (which the clearing house sells too):
//!
//! ```text
//! Q_{m,a} = sum_{positions on a} usd_delta + sum_{collateral in a} units x spot
//! ```
//!
//! with [`crate::pricing::usd_delta`] (options through their Black-76 delta).
//! Liquidating Q over H days costs half the spread on every dollar traded and
//! a square-root market impact:
//!
//! ```text
//! cost_{m,a} = |Q| s_a + |Q| Y sigma_a sqrt(|Q| / (ADV_a H))
//! ```
//!
//! s_a the half spread (`[close_out.half_spread]`), sigma_a the daily
//! volatility (annual / sqrt(365)), ADV_a the average daily traded value
//! (`market/assets.adv_usd`), Y the impact coefficient. The impact term is
//! Almgren, Thum, Hauptmann and Li (2005), "Direct estimation of equity market
//! impact" (Risk 18(7)): temporary impact eta sigma (X / (V T))^beta per unit
//! traded, with the square-root law's beta = 1/2 and Y of order 1 measured by
//! Tóth, Lempérière, Deremble, de Lataillade, Kockelkoren and Bouchaud (2011),
//! "Anomalous price impact and the critical nature of liquidity in financial
//! markets" (Phys. Rev. X 1, 021006). A member is liquidated on its own, as
//! its own account; a group's cost is the sum of its members', as its
//! uncovered loss is the sum of theirs (`default_fund`).

use crate::book::{self, BookError};
use crate::snapshot::{AssetClass, CloseOutConfig, CollateralAsset, MarketData, Snapshot};
use crate::{pricing, snapshot::DAYS_PER_YEAR};

/// The close-out of every member, as if each defaulted.
#[derive(Debug, Clone, PartialEq)]
pub struct CloseOut {
    /// H, days.
    pub horizon_days: f64,
    /// Y.
    pub impact_coefficient: f64,
    /// Per member: the cost of liquidating its portfolio, USD (the sum of
    /// its [`liquidations`](Self::liquidations)' totals).
    pub member_cost: Vec<f64>,
    /// One per (member, asset) with a non-zero exposure, member-major, assets
    /// in the market's order.
    pub liquidations: Vec<Liquidation>,
}

/// One member's net exposure to one asset and what liquidating it costs.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Liquidation {
    pub member: usize,
    pub asset: usize,
    /// Q: USD of the asset to sell (positive) or buy back (negative).
    pub exposure_usd: f64,
    /// |Q| s.
    pub spread_cost: f64,
    /// |Q| Y sigma sqrt(|Q| / (ADV H)).
    pub impact_cost: f64,
}

impl Liquidation {
    pub fn total(&self) -> f64 {
        self.spread_cost + self.impact_cost
    }
}

impl CloseOut {
    /// Per group (`group_of[m]` is member m's, of `groups`): its members'
    /// costs summed.
    pub fn group_costs(&self, group_of: &[usize], groups: usize) -> Vec<f64> {
        let mut out = vec![0.0; groups];
        for (&g, &cost) in group_of.iter().zip(&self.member_cost) {
            out[g] += cost;
        }
        out
    }

    /// Member `member`'s uncovered loss with its close-out cost added to its
    /// stressed loss: max(loss + cost - collateral, 0), the default fund's
    /// uncovered loss (methodology 9.2) once the portfolio is also sold.
    pub fn uncovered_with_cost(&self, member: usize, loss: f64, collateral: f64) -> f64 {
        (loss + self.member_cost[member] - collateral).max(0.0)
    }
}

/// What liquidating one asset depends on besides the amount.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct AssetLiquidity {
    /// s: half the bid-ask spread, a fraction of the price.
    pub half_spread: f64,
    /// sigma: volatility of daily log returns.
    pub daily_vol: f64,
    /// ADV, USD a day (> 0).
    pub adv_usd: f64,
}

/// The cost model: the horizon and impact coefficient, and each asset's
/// liquidity, from `ccp.toml`'s `[close_out]` and the market.
#[derive(Debug, Clone, PartialEq)]
pub struct CloseOutModel {
    pub horizon_days: f64,
    pub impact_coefficient: f64,
    /// Per asset of the market.
    pub liquidity: Vec<AssetLiquidity>,
}

impl CloseOutModel {
    /// The model `config` sets on `market`; the horizon defaults to
    /// `margin_period_days`. The loader has checked every value's range and
    /// that each asset of `half_spread_by_asset` is in the market.
    pub fn new(market: &MarketData, config: &CloseOutConfig, margin_period_days: f64) -> Self {
        let liquidity = market
            .assets
            .iter()
            .map(|asset| AssetLiquidity {
                half_spread: config
                    .half_spread_by_asset
                    .get(&asset.id)
                    .copied()
                    .unwrap_or(match asset.class {
                        AssetClass::Crypto => config.half_spread.crypto,
                        AssetClass::Stablecoin => config.half_spread.stablecoin,
                    }),
                daily_vol: asset.volatility / DAYS_PER_YEAR.sqrt(),
                adv_usd: asset.adv_usd,
            })
            .collect();
        Self {
            horizon_days: config.horizon_days(margin_period_days),
            impact_coefficient: config.impact_coefficient,
            liquidity,
        }
    }

    /// The spread and impact cost of liquidating `exposure_usd` of asset
    /// `asset`: (|Q| s, |Q| Y sigma sqrt(|Q| / (ADV H))).
    pub fn cost(&self, asset: usize, exposure_usd: f64) -> (f64, f64) {
        let l = &self.liquidity[asset];
        let q = exposure_usd.abs();
        let participation = q / (l.adv_usd * self.horizon_days);
        (
            q * l.half_spread,
            q * self.impact_coefficient * l.daily_vol * participation.sqrt(),
        )
    }
}

/// Every member's close-out on `snapshot`, with the model its `[close_out]`
/// configures. Fails only on an option whose underlying has no implied vol,
/// which compiling the book refuses first.
pub fn close_out_costs(snapshot: &Snapshot) -> Result<CloseOut, BookError> {
    let model = CloseOutModel::new(
        &snapshot.market,
        &snapshot.config.close_out,
        snapshot.config.risk.margin_period_days,
    );
    Ok(liquidate(&exposures(snapshot)?, &model))
}

/// Q per member and asset, member-major (`members x assets`), USD.
pub fn exposures(snapshot: &Snapshot) -> Result<Vec<f64>, BookError> {
    let (market, assets) = (&snapshot.market, snapshot.market.assets.len());
    let mut q = vec![0.0; snapshot.members.len() * assets];
    for p in &snapshot.positions {
        let instrument = &snapshot.instruments[p.instrument];
        let vol = book::implied_vol(market, instrument, snapshot.valuation_date)?;
        let days = instrument.days_to_expiry(snapshot.valuation_date);
        q[p.member * assets + instrument.underlying] +=
            pricing::usd_delta(instrument, p.quantity, market, days, vol);
    }
    for c in &snapshot.collateral {
        if let CollateralAsset::Asset(a) = c.asset {
            q[c.member * assets + a] += c.amount * market.assets[a].spot;
        }
    }
    Ok(q)
}

/// The cost of liquidating `exposures` (`members x assets`, member-major).
pub fn liquidate(exposures: &[f64], model: &CloseOutModel) -> CloseOut {
    let assets = model.liquidity.len();
    let members = exposures.len() / assets.max(1);
    let mut member_cost = vec![0.0; members];
    let mut liquidations = Vec::new();
    for (i, &exposure_usd) in exposures.iter().enumerate() {
        if exposure_usd == 0.0 {
            continue;
        }
        let (member, asset) = (i / assets, i % assets);
        let (spread_cost, impact_cost) = model.cost(asset, exposure_usd);
        let liquidation = Liquidation {
            member,
            asset,
            exposure_usd,
            spread_cost,
            impact_cost,
        };
        member_cost[member] += liquidation.total();
        liquidations.push(liquidation);
    }
    CloseOut {
        horizon_days: model.horizon_days,
        impact_coefficient: model.impact_coefficient,
        member_cost,
        liquidations,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn model(half_spread: f64, impact_coefficient: f64) -> CloseOutModel {
        CloseOutModel {
            horizon_days: 4.0,
            impact_coefficient,
            liquidity: vec![AssetLiquidity {
                half_spread,
                daily_vol: 0.02,
                adv_usd: 1e8,
            }],
        }
    }

    /// The spread cost is |Q| s: linear in s, and not touching the impact.
    #[test]
    fn the_spread_cost_is_linear_in_the_half_spread() {
        let q = -4e6;
        let (_, impact) = model(0.0, 1.0).cost(0, q);
        for s in [0.0, 0.0001, 0.0005, 0.002] {
            let (spread, i) = model(s, 1.0).cost(0, q);
            assert!((spread - 4e6 * s).abs() < 1e-9, "{s}: {spread}");
            assert_eq!(i, impact, "{s}");
        }
    }

    /// Impact per dollar traded grows as sqrt(|Q|): four times the exposure,
    /// twice the impact per dollar, eight times the impact cost; linear in Y.
    #[test]
    fn impact_per_dollar_grows_as_the_square_root_of_the_exposure() {
        let m = model(0.0, 1.0);
        for q in [1e3, 4e6, -2.5e7] {
            let per_dollar = |q: f64| m.cost(0, q).1 / q.abs();
            let ratio = per_dollar(4.0 * q) / per_dollar(q);
            assert!((ratio - 2.0).abs() < 1e-12, "{q}: {ratio}");
        }
        let (one, two) = (
            model(0.0, 1.0).cost(0, 4e6).1,
            model(0.0, 2.0).cost(0, 4e6).1,
        );
        assert!((two - 2.0 * one).abs() < 1e-9 * one);
    }

    /// Exposures of two members to two assets: zeros give no row, and each
    /// member's cost is the sum of its rows.
    #[test]
    fn a_member_costs_the_sum_of_its_assets_and_a_flat_asset_costs_nothing() {
        let mut m = model(0.0005, 1.0);
        m.liquidity.push(AssetLiquidity {
            half_spread: 0.0001,
            daily_vol: 0.001,
            adv_usd: 1e9,
        });
        let out = liquidate(&[4e6, -1e7, 0.0, 0.0], &m);
        assert_eq!(out.liquidations.len(), 2);
        // 4e6 (0.0005 + 0.02 sqrt(4e6 / 4e8)) = 2,000 + 8,000; 1e7 (0.0001 +
        // 0.001 sqrt(1e7 / 4e9)) = 1,000 + 500.
        assert!((out.member_cost[0] - 11_500.0).abs() < 1e-6, "{out:?}");
        assert_eq!(out.member_cost[1], 0.0);
        assert_eq!(out.group_costs(&[0, 0], 1), vec![out.member_cost[0]]);
    }

    /// The cost adds to the stressed loss before the collateral is set
    /// against it: collateral that covered the loss may not cover both.
    #[test]
    fn the_cost_adds_to_the_stressed_loss_before_the_collateral() {
        // 4e6 of ALT costs 2,000 + 8,000 = 10,000.
        let out = liquidate(&[4e6], &model(0.0005, 1.0));
        for (loss, collateral, uncovered) in [
            (50_000.0, 100_000.0, 0.0),
            (95_000.0, 100_000.0, 5_000.0),
            (150_000.0, 100_000.0, 60_000.0),
            (-20_000.0, 0.0, 0.0),
        ] {
            let with_cost = out.uncovered_with_cost(0, loss, collateral);
            assert!((with_cost - uncovered).abs() < 1e-6, "{loss}: {with_cost}");
        }
    }
}
