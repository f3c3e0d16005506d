//! A collateral holding's value at the valuation date, before and after its
//! haircut (methodology, section 8), and the part of it that counts under the
//! eligibility rules ([`eligibility`], methodology 17.6): what the compiled
//! book counts against a member's margin, and what `summary.json` totals by
//! asset.

pub mod eligibility;

pub use eligibility::Cuts;

use super::BookError;
use crate::snapshot::{CollateralAsset, CollateralHolding, Snapshot};

/// One holding valued and counted.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct CountedHolding {
    /// Units times the spot price (units for cash), USD.
    pub market_value: f64,
    /// The haircut `collateral.haircuts` gives the asset; `None` for an
    /// ineligible asset without one, whose whole market value is cut.
    pub haircut: Option<f64>,
    /// What each eligibility rule cut from the value after haircut.
    pub cuts: Cuts,
    /// What counts as collateral: after haircut, less the cuts.
    pub counted: f64,
}

impl CountedHolding {
    /// Market value x (1 - haircut).
    pub fn after_haircut(&self) -> f64 {
        self.market_value * (1.0 - self.haircut.unwrap_or(0.0))
    }
}

/// Every holding of a snapshot's collateral, valued and counted, in the
/// order of `Snapshot::collateral`.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct CountedCollateral {
    pub holdings: Vec<CountedHolding>,
}

/// `c`'s asset id: `USD` for cash.
pub fn asset_id<'a>(snapshot: &'a Snapshot, c: &CollateralHolding) -> &'a str {
    match c.asset {
        CollateralAsset::Usd => "USD",
        CollateralAsset::Asset(a) => &snapshot.market.assets[a].id,
    }
}

/// Every holding of `snapshot` valued at its spot prices and counted under
/// its `[collateral]` rules. An eligible asset without a haircut is refused
/// (the loader refuses it first, naming the collateral row).
pub fn counted(snapshot: &Snapshot) -> Result<CountedCollateral, BookError> {
    let rules = &snapshot.config.collateral;
    let mut valued = Vec::with_capacity(snapshot.collateral.len());
    let mut held = Vec::with_capacity(snapshot.collateral.len());
    for c in &snapshot.collateral {
        let asset = asset_id(snapshot, c);
        let market_value = match c.asset {
            CollateralAsset::Usd => c.amount,
            CollateralAsset::Asset(a) => c.amount * snapshot.market.assets[a].spot,
        };
        let member_id = &snapshot.members[c.member].id;
        let haircut = rules.haircuts.get(asset).copied();
        if haircut.is_none() && rules.is_eligible(asset) {
            return Err(BookError::NoHaircut {
                member: member_id.clone(),
                asset: asset.to_string(),
            });
        }
        let holding = CountedHolding {
            market_value,
            haircut,
            cuts: Cuts::default(),
            counted: 0.0,
        };
        held.push(eligibility::Held {
            member: c.member,
            member_id,
            asset,
            after_haircut: holding.after_haircut(),
        });
        valued.push(holding);
    }
    let holdings = valued
        .into_iter()
        .zip(eligibility::apply(rules, &held))
        .map(|(h, c)| CountedHolding {
            cuts: c.cuts,
            counted: c.counted,
            ..h
        })
        .collect();
    Ok(CountedCollateral { holdings })
}

/// Each member's counted collateral when each asset's price moves by
/// `returns` (cash does not move): `C_s(m) = sum_c k_c (1 + r_c)`, with `k_c`
/// holding c's counted value at the valuation date (after haircut and the
/// eligibility cuts, which scale with the price), what the compiled book's
/// loss already counts the fall of (methodology 6.5).
pub fn revalued(snapshot: &Snapshot, returns: &[f64]) -> Result<Vec<f64>, BookError> {
    let counted = counted(snapshot)?;
    let mut value = vec![0.0; snapshot.members.len()];
    for (c, h) in snapshot.collateral.iter().zip(&counted.holdings) {
        let moved = match c.asset {
            CollateralAsset::Usd => 1.0,
            CollateralAsset::Asset(a) => 1.0 + returns[a],
        };
        value[c.member] += h.counted * moved;
    }
    Ok(value)
}
