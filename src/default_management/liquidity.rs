//! Liquidity stress: the cash the CCP must pay out, currency by currency,
//! when the groups that set a stress scenario's Cover-n default, against what
//! it can pay with on the day.
//!
//! A contract settles its variation margin in its settlement currency c: a
//! linear (USD-margined) contract in USD, an inverse (coin-margined) one in
//! its underlying coin. When the defaulting members D stop paying, the CCP
//! still pays the survivors on the other side of their positions, and keeps
//! what it would have paid the defaulters (set-off), so per currency it needs
//!
//! ```text
//! need_c(s)      = max( sum_{m in D(s)} L_m,c(s), 0 )
//! available_c(s) = sum_{m in D(s)} V_c(collateral of m, s) + V_c(CCP's liquid resources, s)
//! shortfall_c(s) = max( need_c(s) - available_c(s), 0 )
//! ```
//!
//! with `L_m,c(s)` member m's loss on its positions settling in c in stress
//! scenario s (full revaluation, USD at the scenario's prices), and `V_c` the
//! scenario value of the holdings that can pay in c without a sale: USD cash
//! and stablecoins for USD (a stablecoin at its scenario price, so a depeg
//! shrinks it), coin a for coin a. Other collateral must first be sold and
//! is not counted. `D(s)` are the members of the n groups with the largest
//! uncovered loss in s that lose at all (9.2). Sources: CPMI-IOSCO PFMI
//! Principle 7 (liquidity risk: "sufficient liquid resources in all relevant
//! currencies" to settle "in a wide range of potential stress scenarios ...
//! the default of the participant and its affiliates that would generate the
//! largest aggregate liquidity obligation"), and EMIR Art. 44.

use crate::backend::LossBlock;
use crate::default_fund::ScenarioCover;
use crate::scenario::ScenarioBlock;
use crate::snapshot::{
    AssetClass, CollateralAsset, CollateralHolding, MarketData, SettlementAsset, Snapshot,
};

/// Each settlement currency the book's positions use, with the book cut to
/// the positions settling in it (no collateral: its fall is not a payment).
pub fn settlement_books(snapshot: &Snapshot) -> Vec<(SettlementAsset, Snapshot)> {
    let currency_of =
        |p: &crate::snapshot::Position| SettlementAsset::of(&snapshot.instruments[p.instrument]);
    let mut currencies: Vec<SettlementAsset> = snapshot.positions.iter().map(currency_of).collect();
    currencies.sort();
    currencies.dedup();
    currencies
        .into_iter()
        .map(|c| {
            let mut book = snapshot.clone();
            book.positions.retain(|p| currency_of(p) == c);
            book.collateral.clear();
            (c, book)
        })
        .collect()
}

/// What the liquidity stress reads of a run.
#[derive(Debug, Clone, Copy)]
pub struct LiquidityInput<'a> {
    pub market: &'a MarketData,
    /// The stress scenarios' moves.
    pub stress: &'a ScenarioBlock,
    /// Each settlement currency and every member's loss on the positions
    /// settling in it, per stress scenario.
    pub losses: &'a [(SettlementAsset, LossBlock)],
    pub collateral: &'a [CollateralHolding],
    /// Each stress scenario's covers, for the defaulting groups.
    pub covers: &'a [ScenarioCover],
    pub group_of: &'a [usize],
    /// n of Cover-n: how many groups default.
    pub cover: usize,
    /// The CCP's qualifying liquid resources: (asset, units).
    pub resources: &'a [(CollateralAsset, f64)],
}

/// One currency's position in one scenario, USD at the scenario's prices.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct CurrencyNeed {
    pub need: f64,
    pub defaulters_collateral: f64,
    pub ccp_resources: f64,
    pub shortfall: f64,
}

#[derive(Debug, Clone, PartialEq)]
pub struct LiquidityStress {
    pub currencies: Vec<SettlementAsset>,
    /// `[scenario][currency]`.
    pub scenarios: Vec<Vec<CurrencyNeed>>,
    /// The defaulting groups of each scenario.
    pub defaulting: Vec<Vec<usize>>,
}

impl LiquidityStress {
    /// The largest shortfall of each currency over the scenarios, with its
    /// scenario (the first on ties).
    pub fn worst(&self) -> Vec<(usize, f64)> {
        (0..self.currencies.len())
            .map(|c| {
                self.scenarios
                    .iter()
                    .enumerate()
                    .map(|(s, row)| (s, row[c].shortfall))
                    .fold((0, 0.0), |best, x| if x.1 > best.1 { x } else { best })
            })
            .collect()
    }
}

/// The liquidity stress of every stress scenario.
pub fn liquidity_stress(input: &LiquidityInput) -> LiquidityStress {
    let currencies: Vec<SettlementAsset> = input.losses.iter().map(|(c, _)| *c).collect();
    let defaulting: Vec<Vec<usize>> = input
        .covers
        .iter()
        .map(|cover| {
            cover
                .ranked()
                .into_iter()
                .take(input.cover.max(1))
                .filter(|g| g.1 > 0.0)
                .map(|g| g.0)
                .collect()
        })
        .collect();
    let scenarios = defaulting
        .iter()
        .enumerate()
        .map(|(s, groups)| {
            let defaults = |m: usize| groups.contains(&input.group_of[m]);
            let value = |asset: CollateralAsset, units: f64, c: SettlementAsset| {
                usable_value(input, s, asset, units, c, &currencies)
            };
            input
                .losses
                .iter()
                .map(|&(c, ref losses)| {
                    let owed = (0..losses.members)
                        .filter(|&m| defaults(m))
                        .fold(0.0, |sum, m| sum + losses.loss(m, s));
                    let need = owed.max(0.0);
                    // Folded from +0, as an empty sum must be 0, not -0.
                    let defaulters_collateral = input
                        .collateral
                        .iter()
                        .filter(|h| defaults(h.member))
                        .fold(0.0, |sum, h| sum + value(h.asset, h.amount, c));
                    let ccp_resources = input
                        .resources
                        .iter()
                        .fold(0.0, |sum, &(a, u)| sum + value(a, u, c));
                    CurrencyNeed {
                        need,
                        defaulters_collateral,
                        ccp_resources,
                        shortfall: (need - defaulters_collateral - ccp_resources).max(0.0),
                    }
                })
                .collect()
        })
        .collect();
    LiquidityStress {
        currencies,
        scenarios,
        defaulting,
    }
}

/// USD value in scenario `s` of `units` of `asset` if it pays in `c` as it
/// is: cash and stablecoins for USD (a stablecoin that is itself a
/// settlement coin counts there only), a coin for itself; 0 otherwise.
fn usable_value(
    input: &LiquidityInput,
    s: usize,
    asset: CollateralAsset,
    units: f64,
    c: SettlementAsset,
    currencies: &[SettlementAsset],
) -> f64 {
    let price = |a: usize| input.market.assets[a].spot * (1.0 + input.stress.returns_of(s)[a]);
    match (asset, c) {
        (CollateralAsset::Usd, SettlementAsset::Usd) => units,
        (CollateralAsset::Asset(a), SettlementAsset::Usd)
            if input.market.assets[a].class == AssetClass::Stablecoin
                && !currencies.contains(&SettlementAsset::Coin(a)) =>
        {
            units * price(a)
        }
        (CollateralAsset::Asset(a), SettlementAsset::Coin(b)) if a == b => units * price(a),
        _ => 0.0,
    }
}
