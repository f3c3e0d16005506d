//! Market data of the snapshot: asset prices and volatilities, their correlation,
//! the implied-volatility surface of each option underlying and the USD rate curve.

use super::Date;

/// The market data's day count, Act/365: time to expiry is calendar days / 365,
/// and every annualised number of the snapshot (volatilities, basis, rates)
/// is per 365-day year, since crypto trades every day (docs/methodology.md,
/// section 1).
pub const DAYS_PER_YEAR: f64 = 365.0;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum AssetClass {
    Crypto,
    /// A token meant to trade at 1 USD; its risk is a depeg.
    Stablecoin,
}

#[derive(Debug, Clone, PartialEq)]
pub struct Asset {
    pub id: String,
    pub class: AssetClass,
    /// USD price.
    pub spot: f64,
    /// Annualised volatility of log returns (365-day year).
    pub volatility: f64,
    /// Perpetual funding rate per 8-hour period (positive: longs pay shorts).
    pub funding_rate_8h: f64,
    /// Annualised futures carry: F(T) = S exp(basis T).
    pub basis: f64,
    /// Average daily traded value, USD: the market depth the close-out's
    /// square-root impact is measured against
    /// (`default_management::close_out`).
    pub adv_usd: f64,
    /// True for assets invented by the generator rather than taken from history.
    pub synthetic: bool,
    /// Where the numbers come from.
    pub source: String,
}

/// One implied-volatility quote.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct VolQuote {
    /// Index into [`MarketData::assets`].
    pub underlying: usize,
    pub expiry: Date,
    pub strike: f64,
    pub vol: f64,
}

/// Implied volatilities per underlying, interpolated linearly in ln K within an
/// expiry (flat beyond the quoted strikes) and linearly in total variance
/// sigma^2 T between expiries at the same strike (flat vol beyond the quoted
/// expiries). Revaluation holds the surface sticky-strike and moves it by the
/// scenario's vol shock.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct VolSurface {
    /// Per underlying: expiries ascending, each with (ln K, vol) sorted by strike.
    slices: Vec<Vec<ExpirySlice>>,
}

#[derive(Debug, Clone, PartialEq)]
struct ExpirySlice {
    expiry: Date,
    /// (ln strike, vol), ascending in strike.
    points: Vec<(f64, f64)>,
}

impl VolSurface {
    /// Builds the surface from quotes; the loader has checked that every vol is
    /// positive and finite and that no (underlying, expiry, strike) repeats.
    pub fn from_quotes(asset_count: usize, quotes: &[VolQuote]) -> Self {
        let mut slices: Vec<Vec<ExpirySlice>> = vec![Vec::new(); asset_count];
        for q in quotes {
            let per_asset = &mut slices[q.underlying];
            let slice = match per_asset.iter().position(|s| s.expiry == q.expiry) {
                Some(i) => &mut per_asset[i],
                None => {
                    per_asset.push(ExpirySlice {
                        expiry: q.expiry,
                        points: Vec::new(),
                    });
                    per_asset.last_mut().expect("just pushed")
                }
            };
            slice.points.push((q.strike.ln(), q.vol));
        }
        for per_asset in &mut slices {
            per_asset.sort_by_key(|s| s.expiry);
            for s in per_asset.iter_mut() {
                s.points.sort_by(|a, b| a.0.total_cmp(&b.0));
            }
        }
        Self { slices }
    }

    pub fn has_quotes(&self, underlying: usize) -> bool {
        self.slices.get(underlying).is_some_and(|s| !s.is_empty())
    }

    /// All quotes, for writing the surface back out.
    pub fn quotes(&self) -> Vec<VolQuote> {
        let mut out = Vec::new();
        for (underlying, per_asset) in self.slices.iter().enumerate() {
            for s in per_asset {
                for &(ln_k, vol) in &s.points {
                    out.push(VolQuote {
                        underlying,
                        expiry: s.expiry,
                        strike: ln_k.exp(),
                        vol,
                    });
                }
            }
        }
        out
    }

    /// Implied vol for `strike` at `expiry`, seen from `today`; `None` if the
    /// underlying has no quotes.
    pub fn vol(&self, underlying: usize, strike: f64, expiry: Date, today: Date) -> Option<f64> {
        let per_asset = self.slices.get(underlying).filter(|s| !s.is_empty())?;
        let ln_k = strike.ln();
        let smile_at = |s: &ExpirySlice| interpolate_flat(&s.points, ln_k);
        let t = f64::from(today.days_until(expiry)).max(0.0) / DAYS_PER_YEAR;
        let t_of = |s: &ExpirySlice| f64::from(today.days_until(s.expiry)).max(1.0) / DAYS_PER_YEAR;
        let first = &per_asset[0];
        let last = &per_asset[per_asset.len() - 1];
        if expiry <= first.expiry {
            return Some(smile_at(first));
        }
        if expiry >= last.expiry {
            return Some(smile_at(last));
        }
        let upper = per_asset
            .iter()
            .position(|s| s.expiry >= expiry)
            .expect("inside the quoted range");
        let (a, b) = (&per_asset[upper - 1], &per_asset[upper]);
        let (ta, tb) = (t_of(a), t_of(b));
        let (va, vb) = (smile_at(a), smile_at(b));
        let w = va * va * ta + (vb * vb * tb - va * va * ta) * (t - ta) / (tb - ta);
        Some((w / t.max(1.0 / 365.0)).max(0.0).sqrt())
    }
}

/// Piecewise-linear interpolation through `points` (ascending in x), flat beyond.
fn interpolate_flat(points: &[(f64, f64)], x: f64) -> f64 {
    let first = points[0];
    let last = points[points.len() - 1];
    if x <= first.0 {
        return first.1;
    }
    if x >= last.0 {
        return last.1;
    }
    let i = points.partition_point(|p| p.0 <= x);
    let (x0, y0) = points[i - 1];
    let (x1, y1) = points[i];
    y0 + (y1 - y0) * (x - x0) / (x1 - x0)
}

/// Continuously compounded USD zero rates by tenor, linear in the rate between
/// tenors and flat beyond.
#[derive(Debug, Clone, PartialEq)]
pub struct RateCurve {
    /// (tenor in days, rate), ascending in tenor; at least one point.
    points: Vec<(f64, f64)>,
}

impl RateCurve {
    /// The loader guarantees at least one point, finite values, distinct tenors.
    pub fn new(mut points: Vec<(f64, f64)>) -> Self {
        points.sort_by(|a, b| a.0.total_cmp(&b.0));
        Self { points }
    }

    pub fn flat(rate: f64) -> Self {
        Self {
            points: vec![(0.0, rate)],
        }
    }

    pub fn points(&self) -> &[(f64, f64)] {
        &self.points
    }

    /// Zero rate for a maturity of `days`.
    pub fn rate(&self, days: f64) -> f64 {
        interpolate_flat(&self.points, days)
    }
}

#[derive(Debug, Clone, PartialEq)]
pub struct MarketData {
    pub assets: Vec<Asset>,
    /// Correlation of the assets' log returns, row-major, assets x assets.
    pub correlation: Vec<f64>,
    pub vol_surface: VolSurface,
    pub rates: RateCurve,
}

impl MarketData {
    pub fn asset_index(&self, id: &str) -> Option<usize> {
        self.assets.iter().position(|a| a.id == id)
    }

    pub fn correlation(&self, i: usize, j: usize) -> f64 {
        self.correlation[i * self.assets.len() + j]
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn day(s: &str) -> Date {
        Date::parse(s).unwrap()
    }

    #[test]
    fn smile_interpolates_in_log_strike_and_is_flat_outside() {
        let e = day("2025-03-28");
        let quotes = [80_000.0, 100_000.0, 120_000.0]
            .iter()
            .zip([0.60, 0.50, 0.55])
            .map(|(&strike, vol)| VolQuote {
                underlying: 0,
                expiry: e,
                strike,
                vol,
            })
            .collect::<Vec<_>>();
        let s = VolSurface::from_quotes(1, &quotes);
        let today = day("2025-02-20");
        assert!((s.vol(0, 100_000.0, e, today).unwrap() - 0.50).abs() < 1e-12);
        assert!((s.vol(0, 50_000.0, e, today).unwrap() - 0.60).abs() < 1e-12);
        assert!((s.vol(0, 200_000.0, e, today).unwrap() - 0.55).abs() < 1e-12);
        let k = (0.5 * (80_000f64.ln() + 100_000f64.ln())).exp();
        assert!((s.vol(0, k, e, today).unwrap() - 0.55).abs() < 1e-12);
    }

    #[test]
    fn term_structure_interpolates_total_variance() {
        let today = day("2025-01-01");
        let (e1, e2) = (today.add_days(73), today.add_days(365));
        let quotes = [
            VolQuote {
                underlying: 0,
                expiry: e1,
                strike: 100.0,
                vol: 0.8,
            },
            VolQuote {
                underlying: 0,
                expiry: e2,
                strike: 100.0,
                vol: 0.6,
            },
        ];
        let s = VolSurface::from_quotes(1, &quotes);
        let mid = today.add_days(219);
        let (t1, t2, t): (f64, f64, f64) = (0.2, 1.0, 0.6);
        let w = 0.64 * t1 + (0.36 * t2 - 0.64 * t1) * (t - t1) / (t2 - t1);
        let v = s.vol(0, 100.0, mid, today).unwrap();
        assert!((v - (w / t).sqrt()).abs() < 1e-12, "{v}");
        assert!(s.vol(1, 100.0, mid, today).is_none());
    }

    #[test]
    fn rate_curve_is_linear_between_tenors_and_flat_outside() {
        let c = RateCurve::new(vec![(30.0, 0.04), (365.0, 0.05)]);
        assert_eq!(c.rate(0.0), 0.04);
        assert_eq!(c.rate(1000.0), 0.05);
        assert!((c.rate(197.5) - 0.045).abs() < 1e-15);
    }
}
