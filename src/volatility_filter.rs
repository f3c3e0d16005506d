//! The EWMA volatility filter of a daily return series, and the returns it
//! devolatilises: what filtered historical simulation resamples
//! ([`crate::scenario::FilteredHistory`]) and what calibration fits volatility
//! and tails to ([`crate::calibrate`]). Below both, so that the scenario hot
//! path does not depend on the offline calibration.
//!
//! - EWMA (J.P. Morgan/Reuters, "RiskMetrics - Technical Document", 4th ed.,
//!   1996, section 5.2): `s2_{t+1} = lambda s2_t + (1 - lambda) r_t^2`, zero
//!   mean, seeded with the mean square (zero mean, divided by n) of the first
//!   [`Ewma::SEED_RETURNS`] returns, as the EWMA correlation is seeded and as
//!   data/derive.py does for the sample.
//! - Devolatilised joint returns ([`devolatilise`]): each asset's daily log
//!   return divided by the EWMA volatility forecast made the evening before,
//!   `e_{a,t} = r_{a,t} / s_{a,t}`, on the days every asset has a return.

use crate::history::PriceHistory;
use crate::input::Date;
use crate::pricing::DAYS_PER_YEAR;

/// Why an EWMA filter cannot be built or run.
#[derive(Debug, Clone, Copy, PartialEq, thiserror::Error)]
pub enum EwmaError {
    #[error("lambda = {0} is out of range: expected in (0, 1)")]
    Lambda(f64),
    #[error("{returns} returns: at least {needed} are needed")]
    TooFewReturns { returns: usize, needed: usize },
}

/// The RiskMetrics exponentially weighted moving average of squared returns.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Ewma {
    lambda: f64,
}

impl Ewma {
    /// Returns seeding the recursion.
    pub const SEED_RETURNS: usize = 30;
    pub const RISKMETRICS_LAMBDA: f64 = 0.94;

    pub fn new(lambda: f64) -> Result<Self, EwmaError> {
        if !(lambda > 0.0 && lambda < 1.0) {
            return Err(EwmaError::Lambda(lambda));
        }
        Ok(Self { lambda })
    }

    pub fn lambda(&self) -> f64 {
        self.lambda
    }

    /// The daily variance forecast after each return from the seed on: entry
    /// i is the forecast for the day after `returns[SEED_RETURNS + i - 1]`
    /// (entry 0 is the seed itself).
    pub fn variances(&self, returns: &[f64]) -> Result<Vec<f64>, EwmaError> {
        let k = Self::SEED_RETURNS;
        if returns.len() < k {
            return Err(EwmaError::TooFewReturns {
                returns: returns.len(),
                needed: k,
            });
        }
        // Zero mean and divided by n, as the recursion itself treats returns
        // (and as the EWMA correlation is seeded).
        let mut variance = returns[..k].iter().map(|r| r * r).sum::<f64>() / k as f64;
        let mut path = Vec::with_capacity(returns.len() - k + 1);
        path.push(variance);
        for r in &returns[k..] {
            variance = self.lambda * variance + (1.0 - self.lambda) * r * r;
            path.push(variance);
        }
        Ok(path)
    }

    /// The annualised volatility forecast after the last return.
    pub fn annual_volatility(&self, returns: &[f64]) -> Result<f64, EwmaError> {
        let path = self.variances(returns)?;
        Ok((path[path.len() - 1] * DAYS_PER_YEAR).sqrt())
    }
}

/// Devolatilised returns of some history columns over a window.
#[derive(Debug, Clone, PartialEq)]
pub struct Devolatilised {
    pub dates: Vec<Date>,
    /// Day-major: `values[d * assets + a]`.
    pub values: Vec<f64>,
    pub assets: usize,
    /// Each asset's daily volatility forecast after the window's last day.
    pub current_volatility: Vec<f64>,
}

/// Why devolatilisation failed: the position in `columns` of an asset with
/// too few returns, and how many it has (`None`: too few joint days).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ShortSeries {
    pub column: Option<usize>,
    pub returns: usize,
}

/// The devolatilised returns of `columns` of `history` on the days from
/// `from` to `to` when all have one; forecasts run over each column's whole
/// history up to `to`.
pub fn devolatilise(
    history: &PriceHistory,
    columns: &[usize],
    from: Date,
    to: Date,
    ewma: &Ewma,
) -> Result<Devolatilised, ShortSeries> {
    let n = columns.len();
    let returns = history.returns();
    let end = returns.dates.partition_point(|&d| d <= to);
    let start = returns.dates.partition_point(|&d| d < from);
    // forecast[t * n + a]: the variance for day t made with returns before t.
    let mut forecast = vec![f64::NAN; end * n];
    let mut current_volatility = Vec::with_capacity(n);
    for (a, &h) in columns.iter().enumerate() {
        let days: Vec<usize> = (0..end).filter(|&t| !returns.get(t, h).is_nan()).collect();
        let series: Vec<f64> = days.iter().map(|&t| returns.get(t, h)).collect();
        let path = ewma.variances(&series).map_err(|_| ShortSeries {
            column: Some(a),
            returns: series.len(),
        })?;
        // path[i] follows series[SEED + i - 1]: the forecast for days[SEED + i].
        for (i, &v) in path.iter().enumerate() {
            if let Some(&t) = days.get(Ewma::SEED_RETURNS + i) {
                forecast[t * n + a] = v;
            }
        }
        current_volatility.push(path[path.len() - 1].sqrt());
    }
    let mut dates = Vec::new();
    let mut values = Vec::new();
    for t in start..end {
        let eligible = columns
            .iter()
            .enumerate()
            .all(|(a, &h)| !returns.get(t, h).is_nan() && forecast[t * n + a].is_finite());
        if eligible {
            dates.push(returns.dates[t]);
            values.extend(
                columns
                    .iter()
                    .enumerate()
                    .map(|(a, &h)| returns.get(t, h) / forecast[t * n + a].sqrt()),
            );
        }
    }
    if dates.len() < 30 {
        return Err(ShortSeries {
            column: None,
            returns: dates.len(),
        });
    }
    Ok(Devolatilised {
        dates,
        values,
        assets: n,
        current_volatility,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ewma_follows_the_riskmetrics_recursion() {
        let returns: Vec<f64> = (0..40)
            .map(|i| ((i * 37) % 11) as f64 * 0.01 - 0.05)
            .collect();
        let ewma = Ewma::new(0.94).unwrap();
        let path = ewma.variances(&returns).unwrap();
        let mut v = returns[..30].iter().map(|r| r * r).sum::<f64>() / 30.0;
        assert_eq!(path[0], v);
        for (i, r) in returns[30..].iter().enumerate() {
            v = 0.94 * v + 0.06 * r * r;
            assert!((path[i + 1] - v).abs() <= 1e-18);
        }
        assert!(Ewma::new(1.0).is_err() && Ewma::new(0.0).is_err());
    }
}
