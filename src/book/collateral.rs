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
