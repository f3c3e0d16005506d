//! The market of a generated book: the real assets of 2025-02-20 (spots, EWMA
//! volatilities, correlations, funding and implied-vol levels, derived from
//! data/ by `data/derive.py` and embedded here), as many of them as the book
//! asks for, then synthetic altcoins loaded on a BTC/ETH/SOL market factor, the
//! implied-vol smiles of the option underlyings and the USD rate curve.

use std::collections::BTreeMap;

use rand::RngExt;

use super::round::{nice_strike, round_dp, round_sig};
use crate::input::{bounds, Date, InputError, Table};
use crate::rng::PhiloxRng;
use crate::snapshot::{
    assets_table, Asset, AssetClass, MarketData, RateCurve, VolQuote, VolSurface,
};

/// Real-market inputs derived from data/ by data/derive.py.
const REAL_ASSETS_CSV: &str = include_str!("market/assets.csv");
const REAL_CORRELATION_CSV: &str = include_str!("market/correlation.csv");
const IMPLIED_VOL_CSV: &str = include_str!("market/implied_vol.csv");

/// The expiries options are listed at, and the implied-vol surface quoted at:
/// last Fridays of the month, as crypto venues list them.
pub(super) const OPTION_EXPIRIES: [&str; 4] =
    ["2025-02-28", "2025-03-28", "2025-06-27", "2025-09-26"];

/// The market factor synthetic assets load on: a BTC-heavy basket of the
/// three largest real coins (those of them the book holds).
const FACTOR_WEIGHTS: [(&str, f64); 3] = [("BTC", 0.5), ("ETH", 0.3), ("SOL", 0.2)];

/// The average daily traded value of every synthetic altcoin, USD: a thin
/// coin, 1/23 of the thinnest real one's (LTC, 1.1e9 over the 90 days to
/// 2025-02-20), so that the sample's concentrated positions in them show a
/// close-out cost the liquid coins do not. Stated, not measured.
const SYNTHETIC_ADV_USD: f64 = 5e7;

/// Correlations are written to six decimals, the precision of the embedded
/// real matrix.
const CORRELATION_DECIMALS: i32 = 6;

/// The market of a book of `assets` assets on `today`, synthetic assets drawn
/// from `rng` (their factor loadings first, then each one's spot and
/// volatility) and described as made by `seed`.
pub(super) fn market(
    assets: usize,
    seed: u64,
    today: Date,
    rng: &mut PhiloxRng,
) -> Result<MarketData, InputError> {
    let real = real_assets()?;
    let real_corr = real_correlation(&real)?;
    let chosen = choose_real(&real, assets);
    let loadings: Vec<f64> = (chosen.len()..assets)
        .map(|_| rng.random_range(0.45..0.85))
        .collect();
    let correlation = correlation(&real, &real_corr, &chosen, &loadings);
    let btc = real.iter().find(|a| a.id == "BTC");
    let mut market_assets: Vec<Asset> = chosen.iter().map(|&r| real[r].clone()).collect();
    for (k, &loading) in loadings.iter().enumerate() {
        market_assets.push(synthetic_asset(k, loading, btc, seed, rng));
    }
    let vol_surface = vol_surface(&market_assets, today)?;
    Ok(MarketData {
        assets: market_assets,
        correlation,
        vol_surface,
        rates: rates(),
    })
}

/// The real assets a book of `count` assets takes, by index into `real`, in
/// `real`'s order: the crypto assets first, keeping stablecoins (the collateral
/// coins and the depeg scenarios' targets) for up to half the places.
fn choose_real(real: &[Asset], count: usize) -> Vec<usize> {
    let is_stable = |i: &usize| real[*i].class == AssetClass::Stablecoin;
    let crypto: Vec<usize> = (0..real.len()).filter(|i| !is_stable(i)).collect();
    let stable: Vec<usize> = (0..real.len()).filter(is_stable).collect();
    let take = count.min(real.len());
    let mut chosen: Vec<usize> = crypto
        .iter()
        .copied()
        .take(take.saturating_sub(stable.len().min(take / 2)))
        .collect();
    chosen.extend(stable.iter().copied().take(take - chosen.len()));
    chosen.sort_unstable();
    chosen
}

/// The correlation of the chosen real assets and the synthetic ones, row-major
/// and rounded to [`CORRELATION_DECIMALS`]. Synthetic asset k is
/// z_k = a_k f / sd(f) + sqrt(1 - a_k^2) e_k, with f = sum w_i x_i the market
/// factor over the chosen real assets ([`FACTOR_WEIGHTS`]) and a_k its
/// loading: the joint matrix is a covariance by construction, so PSD.
fn correlation(real: &[Asset], real_corr: &[f64], chosen: &[usize], loadings: &[f64]) -> Vec<f64> {
    let n = chosen.len() + loadings.len();
    let factor: Vec<(usize, f64)> = FACTOR_WEIGHTS
        .iter()
        .filter_map(|(id, w)| {
            chosen
                .iter()
                .position(|&c| real[c].id == *id)
                .map(|i| (i, *w))
        })
        .collect();
    let mut corr = vec![0.0; n * n];
    for (i, &ri) in chosen.iter().enumerate() {
        for (j, &rj) in chosen.iter().enumerate() {
            corr[i * n + j] = real_corr[ri * real.len() + rj];
        }
    }
    // cov(f, x_j) and var(f).
    let cov_f: Vec<f64> = (0..chosen.len())
        .map(|j| factor.iter().map(|&(i, w)| w * corr[i * n + j]).sum())
        .collect();
    let var_f: f64 = factor
        .iter()
        .map(|&(i, w)| w * cov_f[i])
        .sum::<f64>()
        .max(1e-12);
    for (k, &a) in loadings.iter().enumerate() {
        let i = chosen.len() + k;
        for j in 0..chosen.len() {
            let c = if factor.is_empty() {
                0.0
            } else {
                a * cov_f[j] / var_f.sqrt()
            };
            corr[i * n + j] = c;
            corr[j * n + i] = c;
        }
        for (l, &b) in loadings.iter().enumerate() {
            corr[i * n + chosen.len() + l] = if l == k { 1.0 } else { a * b };
        }
    }
    corr.iter()
        .map(|&c| round_dp(c, CORRELATION_DECIMALS))
        .collect()
}

/// Synthetic asset `k` (0-based, named SYN01, SYN02, ...): a spot drawn
/// log-uniformly from 0.03 to 300 USD (four significant figures) and an
/// altcoin-range volatility of 60% to 130% (three), with BTC's funding and
/// basis and [`SYNTHETIC_ADV_USD`] (drawn from no stream, so that adding it
/// left every other draw where it was).
fn synthetic_asset(
    k: usize,
    loading: f64,
    btc: Option<&Asset>,
    seed: u64,
    rng: &mut PhiloxRng,
) -> Asset {
    let spot = round_sig(10f64.powf(rng.random_range(-1.5..2.5)), 4);
    let volatility = round_sig(rng.random_range(0.6..1.3), 3);
    Asset {
        id: format!("SYN{:02}", k + 1),
        class: AssetClass::Crypto,
        spot,
        volatility,
        funding_rate_8h: btc.map_or(0.0001, |b| b.funding_rate_8h),
        basis: btc.map_or(0.1, |b| b.basis),
        adv_usd: SYNTHETIC_ADV_USD,
        synthetic: true,
        source: format!(
            "synthetic (clearstress init seed {seed}): altcoin-range vol; factor loading {loading:.3} on BTC/ETH/SOL; adv_usd stated (a thin altcoin)"
        ),
    }
}

/// Implied vols of the underlyings with a smile in the embedded table (BTC and
/// ETH) at each of [`OPTION_EXPIRIES`]: strikes from 0.5 to 2 times the forward
/// S exp(basis T), on the venue's grid (a strike the grid rounds to twice is
/// quoted once), and the parametric smile
/// atm (1 + skew x + curvature x^2)(1 + term_slope T), x = ln(K / F), to four
/// decimals.
fn vol_surface(assets: &[Asset], today: Date) -> Result<VolSurface, InputError> {
    let smiles = smile_params()?;
    let mut quotes: Vec<VolQuote> = Vec::new();
    for (underlying, asset) in assets.iter().enumerate() {
        let Some(p) = smiles.get(asset.id.as_str()) else {
            continue;
        };
        for expiry in OPTION_EXPIRIES {
            let expiry = Date::parse(expiry).expect("a valid constant date");
            let t = f64::from(today.days_until(expiry)) / 365.0;
            let forward = asset.spot * (asset.basis * t).exp();
            for step in 0..=15 {
                let k = 0.5 + 0.1 * f64::from(step);
                let strike = nice_strike(forward * k, asset.spot);
                let repeated = quotes.last().is_some_and(|q| {
                    q.underlying == underlying && q.expiry == expiry && q.strike == strike
                });
                if repeated {
                    continue;
                }
                let x = (strike / forward).ln();
                let vol =
                    p.atm * (1.0 + p.skew * x + p.curvature * x * x) * (1.0 + p.term_slope * t);
                quotes.push(VolQuote {
                    underlying,
                    expiry,
                    strike,
                    vol: round_dp(vol, 4),
                });
            }
        }
    }
    Ok(VolSurface::from_quotes(assets.len(), &quotes))
}

/// USD zero rates by tenor in days: a slightly inverted curve at about 4.2%.
fn rates() -> RateCurve {
    RateCurve::new(vec![
        (30.0, 0.0433),
        (90.0, 0.0431),
        (180.0, 0.0425),
        (365.0, 0.0415),
    ])
}

fn real_assets() -> Result<Vec<Asset>, InputError> {
    assets_table(&Table::from_csv_bytes(
        "embedded:src/sample/market/assets.csv",
        REAL_ASSETS_CSV.as_bytes(),
    )?)
}

/// The real assets' correlation, row-major in the order of [`real_assets`].
fn real_correlation(real: &[Asset]) -> Result<Vec<f64>, InputError> {
    let table = Table::from_csv_bytes(
        "embedded:src/sample/market/correlation.csv",
        REAL_CORRELATION_CSV.as_bytes(),
    )?;
    let n = real.len();
    let mut corr = vec![0.0; n * n];
    for (i, row) in table.rows().enumerate().take(n) {
        for (j, a) in real.iter().enumerate() {
            corr[i * n + j] = row.f64_in(&a.id, &bounds::CORRELATION)?;
        }
    }
    Ok(corr)
}

/// A smile's parameters, from the embedded implied-vol table (whose `source`
/// column says where each level comes from).
#[derive(Debug, Clone, Copy)]
struct SmileParams {
    atm: f64,
    skew: f64,
    curvature: f64,
    term_slope: f64,
}

fn smile_params() -> Result<BTreeMap<String, SmileParams>, InputError> {
    let table = Table::from_csv_bytes(
        "embedded:src/sample/market/implied_vol.csv",
        IMPLIED_VOL_CSV.as_bytes(),
    )?;
    table
        .rows()
        .map(|row| {
            Ok((
                row.str("underlying")?.to_string(),
                SmileParams {
                    atm: row.f64_in("atm_vol", &bounds::IMPLIED_VOL)?,
                    skew: row.f64("skew")?,
                    curvature: row.f64("curvature")?,
                    term_slope: row.f64("term_slope")?,
                },
            ))
        })
        .collect()
}
