//! Devolatilised joint returns: each asset's daily log return divided by the
//! EWMA volatility forecast made the evening before, `e_{a,t} = r_{a,t} /
//! s_{a,t}`, on the days every asset has a return. Filtered historical
//! simulation resamples them; the tail fits ([`super::tails`]) read them.

use super::volatility::Ewma;
use crate::history::PriceHistory;
use crate::snapshot::Date;

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
