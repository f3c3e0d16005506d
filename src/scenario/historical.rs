//! Filtered historical simulation (Barone-Adesi, Giannopoulos and Vosper,
//! "VaR without correlations for portfolios of derivative securities",
//! J. Futures Markets 19, 1999; the method of Eurex Prisma and LCH's PAIRS).
//!
//! Each asset's daily log returns are devolatilised by the EWMA volatility
//! forecast made the evening before, `e_{a,t} = r_{a,t} / s_{a,t}`, and
//! rescaled by today's forecast `s_a`: the resampled day t moves asset a by
//! `s_a e_{a,t}`. Days are drawn whole, every asset's move of the same day
//! together, so the history's joint behaviour (correlation, tail dependence,
//! stablecoin de-pegs coinciding with crashes) is kept as it happened. Only
//! days on which every asset has a return are eligible.
//!
//! A horizon of H days sums H days drawn independently and uniformly from the
//! lookback (a bootstrap): day k of scenario n is `floor(u D)` with u the
//! uniform of Philox block (n, k, [`Stream::Historical`], 0), so scenario n
//! is a pure function of (seed, n) as in Monte Carlo.

use super::model::ModelError;
use crate::history::{PriceHistory, FHS_LOOKBACK_DAYS, FHS_LOOKBACK_DAYS_TEXT};
use crate::input::Date;
use crate::rng::{ScenarioRng, Stream};
use crate::snapshot::{HistoricalConfig, MarketData};
use crate::volatility_filter::{devolatilise, Ewma, ShortSeries};

/// Says why the window `from..=to` of `history` holds too few usable days,
/// in the history's own dates: the history ends before the valuation date or
/// starts after it, an asset has too few returns to seed its EWMA, or the
/// assets' returns rarely fall on the same days.
fn short_history(
    history: &PriceHistory,
    market: &MarketData,
    columns: &[usize],
    short: ShortSeries,
    from: Date,
    to: Date,
) -> ModelError {
    let (first, last) = (history.dates[0], history.dates[history.dates.len() - 1]);
    let returns = history.returns();
    let window = returns.between(from, to);
    let in_window = |h: usize| {
        window
            .clone()
            .filter(|&t| !returns.get(t, h).is_nan())
            .count()
    };
    // The asset the window is shortest of, for the joint case.
    let (sparsest, sparsest_returns) = columns
        .iter()
        .enumerate()
        .map(|(a, &h)| (a, in_window(h)))
        .min_by_key(|&(_, k)| k)
        .unwrap_or((0, 0));
    let asset = market.assets[short.column.unwrap_or(sparsest)].id.clone();
    let reason = if last < from {
        format!("the history ends {last}, before the window starts (valuation date {to})")
    } else if last < to {
        format!(
            "the history ends {last}, before the valuation date {to}: the window holds \
             only {} of its {} days",
            from.max(first).days_until(last) + 1,
            from.days_until(to) + 1
        )
    } else if first > to {
        format!("the history starts {first}, after the valuation date {to}")
    } else if let Some(a) = short.column {
        format!(
            "{} has {} daily returns up to {to} in the history, and its EWMA needs {} to seed it",
            market.assets[a].id,
            short.returns,
            Ewma::SEED_RETURNS
        )
    } else {
        format!(
            "only {} days in the window have a return and a volatility forecast for every \
             asset; {asset} has the fewest returns in the window ({sparsest_returns})",
            short.returns
        )
    };
    ModelError::ShortHistory {
        history: history.source.clone(),
        asset,
        returns: short.returns,
        from,
        to,
        reason,
    }
}

/// The history column of each of `assets` (indices into `market`); each needs one.
pub fn history_columns(
    history: &PriceHistory,
    market: &MarketData,
    assets: &[usize],
) -> Result<Vec<usize>, ModelError> {
    assets
        .iter()
        .map(|&a| &market.assets[a])
        .map(|a| {
            history
                .asset_index(&a.id)
                .ok_or_else(|| ModelError::NoHistory {
                    asset: a.id.clone(),
                    history: history.source.clone(),
                })
        })
        .collect()
}

/// The resampling set: rescaled joint daily moves of the market's assets.
#[derive(Debug, Clone, PartialEq)]
pub struct FilteredHistory {
    assets: usize,
    /// The eligible days, in date order.
    pub dates: Vec<Date>,
    /// Day-major: `moves[d * assets + a] = s_a e_{a,d}`, a daily log return.
    moves: Vec<f64>,
    /// Day-major devolatilised returns e_{a,d}.
    innovations: Vec<f64>,
    /// Today's daily volatility forecast per asset, s_a.
    pub current_volatility: Vec<f64>,
    /// Days per scenario (the margin period of risk, rounded, at least 1).
    pub horizon_days: u32,
}

impl FilteredHistory {
    /// The resampling set for `market`'s assets from `history`, over the
    /// configured lookback ending at `as_of`.
    pub fn new(
        history: &PriceHistory,
        market: &MarketData,
        as_of: Date,
        config: &HistoricalConfig,
        horizon_days: f64,
    ) -> Result<Self, ModelError> {
        let ewma = Ewma::new(config.lambda).map_err(|_| ModelError::OutOfRange {
            parameter: "scenario.historical.lambda",
            value: config.lambda,
            expected: "in (0, 1)",
        })?;
        if !FHS_LOOKBACK_DAYS.contains(&config.lookback_days) {
            return Err(ModelError::OutOfRange {
                parameter: "scenario.historical.lookback_days",
                value: f64::from(config.lookback_days),
                expected: FHS_LOOKBACK_DAYS_TEXT,
            });
        }
        let n = market.assets.len();
        let all: Vec<usize> = (0..market.assets.len()).collect();
        let columns = history_columns(history, market, &all)?;
        let from = as_of.add_days(1 - config.lookback_days as i32);
        let window = devolatilise(history, &columns, from, as_of, &ewma)
            .map_err(|short| short_history(history, market, &columns, short, from, as_of))?;
        let moves = window
            .values
            .iter()
            .enumerate()
            .map(|(k, e)| window.current_volatility[k % n] * e)
            .collect();
        Ok(Self {
            assets: n,
            dates: window.dates,
            moves,
            innovations: window.values,
            current_volatility: window.current_volatility,
            horizon_days: horizon_days.round().max(1.0) as u32,
        })
    }

    pub fn days(&self) -> usize {
        self.dates.len()
    }

    /// All rescaled moves, day-major.
    pub fn moves(&self) -> &[f64] {
        &self.moves
    }

    /// All devolatilised returns, day-major.
    pub fn innovations(&self) -> &[f64] {
        &self.innovations
    }

    /// Day `d`'s rescaled moves, one per asset.
    pub fn moves_of(&self, d: usize) -> &[f64] {
        &self.moves[d * self.assets..(d + 1) * self.assets]
    }

    /// The eligible day that day `k` of scenario `n`'s horizon resamples.
    #[inline]
    pub fn day(&self, rng: &ScenarioRng, n: u64, k: u32) -> usize {
        let u = rng.uniforms(n, k, Stream::Historical, 0)[0];
        ((u * self.days() as f64) as usize).min(self.days() - 1)
    }

    /// Adds scenario `n`'s log returns to `log_return` and its standardised
    /// moves (sum of innovations over the horizon) to `standardised`.
    pub fn draw(
        &self,
        rng: &ScenarioRng,
        n: u64,
        log_return: &mut [f64],
        standardised: &mut [f64],
    ) {
        for k in 0..self.horizon_days {
            let d = self.day(rng, n, k);
            let (moves, innovations) = (
                self.moves_of(d),
                &self.innovations[d * self.assets..(d + 1) * self.assets],
            );
            for a in 0..self.assets {
                log_return[a] += moves[a];
                standardised[a] += innovations[a];
            }
        }
    }
}
