//! The market tables: assets, their correlation (which must be positive
//! semi-definite), the implied-volatility surface and the USD rate curve.

use std::collections::HashMap;

use super::ids::IdIndex;
use super::{check_expiry, columns, empty_table_error};
use crate::input::{bounds, Date, InputError, Location, Table};
use crate::linalg::cholesky_psd;
use crate::snapshot::{Asset, AssetClass, RateCurve, VolQuote, VolSurface};

/// Pivots of the correlation matrix's factorisation within this of zero count as
/// zero (perfectly correlated assets); below `-PSD_TOLERANCE` the matrix is not
/// positive semi-definite. The scenario model factorises with the same tolerance,
/// so what loads, simulates.
const PSD_TOLERANCE: f64 = 1e-10;

/// Diagonal and symmetry tolerance of the correlation matrix.
const CORRELATION_TOLERANCE: f64 = 1e-9;

/// The assets of an assets table (the schema of `market/assets.csv`), checked
/// as the loader checks them.
pub fn assets_table(table: &Table) -> Result<Vec<Asset>, InputError> {
    Ok(read_assets(table)?.0)
}

/// The assets, and the index through which every other table names them.
pub(super) fn read_assets(table: &Table) -> Result<(Vec<Asset>, IdIndex<'_>), InputError> {
    table.require_columns(&columns::ASSETS)?;
    let mut ids = IdIndex::new(table, "asset", "asset", "an asset");
    let mut assets = Vec::with_capacity(table.len());
    for row in table.rows() {
        let id = ids.add(&row)?;
        if id == "USD" {
            return Err(row.error(
                "asset",
                "`USD` is reserved for cash collateral: expected another asset id",
            ));
        }
        assets.push(Asset {
            id: id.to_string(),
            class: row.choice(
                "class",
                &[
                    ("crypto", AssetClass::Crypto),
                    ("stablecoin", AssetClass::Stablecoin),
                ],
            )?,
            spot: row.f64_in("spot", &bounds::PRICE)?,
            volatility: row.f64_in("volatility", &bounds::VOLATILITY)?,
            funding_rate_8h: row.f64_in("funding_rate_8h", &bounds::FUNDING_RATE_8H)?,
            basis: row.f64_in("basis", &bounds::BASIS)?,
            adv_usd: row.f64_in("adv_usd", &bounds::ADV_USD)?,
            synthetic: row.bool("synthetic")?,
            source: row.opt_str("source")?.unwrap_or_default().to_string(),
        });
    }
    if assets.is_empty() {
        return Err(empty_table_error(table, "assets"));
    }
    Ok((assets, ids))
}

/// The correlation matrix, row-major: the columns are `asset` and the asset ids,
/// the rows the assets, both in the order of the assets table.
pub(super) fn read_correlation(
    table: &Table,
    assets: &[Asset],
    assets_name: &str,
) -> Result<Vec<f64>, InputError> {
    let n = assets.len();
    let ids: Vec<&str> = assets.iter().map(|a| a.id.as_str()).collect();
    let expected: Vec<&str> = std::iter::once("asset")
        .chain(ids.iter().copied())
        .collect();
    if table.column_names() != expected.as_slice() {
        return Err(InputError::invalid(
            Location::file(table.name()),
            format!(
                "expected the columns {} (`asset`, then the assets of {assets_name} in order), found {}",
                expected.join(", "),
                table.column_names().join(", ")
            ),
        ));
    }
    if table.len() != n {
        return Err(InputError::invalid(
            Location::file(table.name()),
            format!(
                "expected one row per asset of {assets_name} ({n}), found {} rows",
                table.len()
            ),
        ));
    }
    let mut corr = vec![0.0; n * n];
    for (i, row) in table.rows().enumerate() {
        let id = row.str("asset")?;
        if id != ids[i] {
            return Err(row.error(
                "asset",
                format!("expected `{}` (the rows list the assets of {assets_name} in order), found `{id}`", ids[i]),
            ));
        }
        for (j, column) in ids.iter().enumerate() {
            let c = row.f64_in(column, &bounds::CORRELATION)?;
            if i == j && (c - 1.0).abs() > CORRELATION_TOLERANCE {
                return Err(row.error(column, format!("expected 1 on the diagonal, found `{c}`")));
            }
            if j < i && (c - corr[j * n + i]).abs() > CORRELATION_TOLERANCE {
                return Err(row.error(
                    column,
                    format!(
                        "expected a symmetric matrix: `{c}` here but `{}` on row {}, field `{id}`",
                        corr[j * n + i],
                        j + 1
                    ),
                ));
            }
            corr[i * n + j] = c;
        }
    }
    check_positive_semi_definite(&corr, &ids).map_err(|(row, message)| {
        InputError::invalid(Location::file(table.name()).row(row), message)
    })?;
    Ok(corr)
}

/// Checks a symmetric matrix with unit diagonal by the Cholesky factorisation
/// the scenario model uses; on failure returns the 1-based row of the failing
/// pivot and the message.
fn check_positive_semi_definite(corr: &[f64], ids: &[&str]) -> Result<(), (usize, String)> {
    let n = ids.len();
    match cholesky_psd(corr, n, PSD_TOLERANCE) {
        Ok(_) => Ok(()),
        Err(not_psd) => {
            let k = not_psd.index + 1;
            let asset = ids.get(not_psd.index).copied().unwrap_or("?");
            let detail = if not_psd.pivot < -PSD_TOLERANCE {
                format!("has a negative pivot ({:.6})", not_psd.pivot)
            } else {
                format!(
                    "has a zero pivot before it whose residual correlation does not vanish (pivot {:.3e})",
                    not_psd.pivot
                )
            };
            Err((
                k,
                format!(
                    "correlation matrix is not positive semi-definite: the leading {k}x{k} block including asset \
                     {asset} {detail}; no joint distribution has these correlations"
                ),
            ))
        }
    }
}

pub(super) fn read_vol_surface(
    table: &Table,
    assets: &IdIndex<'_>,
    valuation_date: Date,
) -> Result<VolSurface, InputError> {
    table.require_columns(&columns::VOL_SURFACE)?;
    let mut first_row: HashMap<(usize, Date, u64), usize> = HashMap::new();
    let mut quotes = Vec::with_capacity(table.len());
    for row in table.rows() {
        let id = row.str("underlying")?;
        let underlying = assets.resolve(&row, "underlying")?;
        let expiry = check_expiry(&row, row.date("expiry")?, valuation_date)?;
        let strike = row.f64_in("strike", &bounds::PRICE)?;
        let vol = row.f64_in("implied_vol", &bounds::IMPLIED_VOL)?;
        if let Some(first) = first_row.insert((underlying, expiry, strike.to_bits()), row.number())
        {
            return Err(row.error(
                "strike",
                format!("duplicate quote for `{id}` expiring {expiry} at strike {strike}: already on row {first}"),
            ));
        }
        quotes.push(VolQuote {
            underlying,
            expiry,
            strike,
            vol,
        });
    }
    Ok(VolSurface::from_quotes(assets.len(), &quotes))
}

pub(super) fn read_rates(table: &Table) -> Result<RateCurve, InputError> {
    table.require_columns(&columns::RATES)?;
    let mut first_row: HashMap<u64, usize> = HashMap::new();
    let mut points = Vec::with_capacity(table.len());
    for row in table.rows() {
        let tenor = row.f64_in("tenor_days", &bounds::TENOR_DAYS)?;
        let rate = row.f64_in("rate", &bounds::RATE)?;
        // +0.0: a tenor of -0 is the tenor 0.
        if let Some(first) = first_row.insert((tenor + 0.0).to_bits(), row.number()) {
            return Err(row.error(
                "tenor_days",
                format!("duplicate tenor {tenor}: already on row {first}"),
            ));
        }
        points.push((tenor, rate));
    }
    if points.is_empty() {
        return Err(empty_table_error(table, "rates"));
    }
    Ok(RateCurve::new(points))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn corr_of(rows: &[&[f64]]) -> Vec<f64> {
        rows.iter().flat_map(|r| r.iter().copied()).collect()
    }

    #[test]
    fn an_inconsistent_correlation_matrix_names_the_block_and_asset() {
        let corr = corr_of(&[&[1.0, 0.9, -0.9], &[0.9, 1.0, 0.9], &[-0.9, 0.9, 1.0]]);
        let (row, message) =
            check_positive_semi_definite(&corr, &["BTC", "ETH", "SOL"]).unwrap_err();
        assert_eq!(row, 3);
        assert!(
            message.starts_with(
                "correlation matrix is not positive semi-definite: the leading 3x3 block including asset SOL has a \
                 negative pivot (-15.2"
            ),
            "{message}"
        );
    }

    #[test]
    fn perfectly_correlated_assets_are_positive_semi_definite() {
        let corr = corr_of(&[&[1.0, 1.0, 0.5], &[1.0, 1.0, 0.5], &[0.5, 0.5, 1.0]]);
        assert!(check_positive_semi_definite(&corr, &["A", "B", "C"]).is_ok());
        let corr = corr_of(&[&[1.0, 0.3], &[0.3, 1.0]]);
        assert!(check_positive_semi_definite(&corr, &["A", "B"]).is_ok());
    }

    #[test]
    fn a_zero_pivot_with_a_residual_is_not_positive_semi_definite() {
        // A and B move together, but C is correlated with one and not the other.
        let corr = corr_of(&[&[1.0, 1.0, 0.0], &[1.0, 1.0, 0.9], &[0.0, 0.9, 1.0]]);
        let (_, message) = check_positive_semi_definite(&corr, &["A", "B", "C"]).unwrap_err();
        assert!(
            message.starts_with("correlation matrix is not positive semi-definite"),
            "{message}"
        );
    }
}
