//! A collateral holding's value at the valuation date, before and after its
//! haircut (methodology, section 8): what the compiled book counts against a
//! member's margin, and what `summary.json` totals by asset.

use super::BookError;
use crate::snapshot::{CollateralAsset, CollateralHolding, Snapshot};

/// One holding valued: its asset's id (`USD` for cash), its market value in
/// USD and the haircut `collateral.haircuts` gives that asset.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct ValuedCollateral<'a> {
    pub asset_id: &'a str,
    /// Units times the spot price (units for cash), USD.
    pub market_value: f64,
    pub haircut: f64,
}

impl ValuedCollateral<'_> {
    /// The value that counts as collateral: market value x (1 - haircut).
    pub fn after_haircut(&self) -> f64 {
        self.market_value * (1.0 - self.haircut)
    }
}

/// `c` valued at the snapshot's spot prices; an asset without a haircut is
/// refused (the loader refuses it first, naming ccp.toml).
pub fn value<'a>(
    snapshot: &'a Snapshot,
    c: &CollateralHolding,
) -> Result<ValuedCollateral<'a>, BookError> {
    let (asset_id, market_value) = match c.asset {
        CollateralAsset::Usd => ("USD", c.amount),
        CollateralAsset::Asset(a) => {
            let asset = &snapshot.market.assets[a];
            (asset.id.as_str(), c.amount * asset.spot)
        }
    };
    let haircut = *snapshot
        .config
        .collateral
        .haircuts
        .get(asset_id)
        .ok_or_else(|| BookError::NoHaircut {
            member: snapshot.members[c.member].id.clone(),
            asset: asset_id.to_string(),
        })?;
    Ok(ValuedCollateral {
        asset_id,
        market_value,
        haircut,
    })
}

/// Each member's collateral after haircuts when each asset's price moves by
/// `returns` (cash does not move): `C_s(m) = sum_c a_c S_c (1 + r_c) (1 - h_c)`,
/// what the compiled book's loss already counts the fall of (methodology 6.5).
pub fn revalued(snapshot: &Snapshot, returns: &[f64]) -> Result<Vec<f64>, BookError> {
    let mut value = vec![0.0; snapshot.members.len()];
    for c in &snapshot.collateral {
        let moved = match c.asset {
            CollateralAsset::Usd => 1.0,
            CollateralAsset::Asset(a) => 1.0 + returns[a],
        };
        value[c.member] += self::value(snapshot, c)?.after_haircut() * moved;
    }
    Ok(value)
}
