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
use crate::calibrate::filter::devolatilise;
use crate::calibrate::Ewma;
use crate::history::PriceHistory;
use crate::rng::{ScenarioRng, Stream};
use crate::snapshot::{Date, HistoricalConfig, MarketData};

/// The history column of each of `market`'s assets; every asset needs one.
pub fn history_columns(
    history: &PriceHistory,
    market: &MarketData,
) -> Result<Vec<usize>, ModelError> {
    market
        .assets
        .iter()
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
        if config.lookback_days < 30 {
            return Err(ModelError::OutOfRange {
                parameter: "scenario.historical.lookback_days",
                value: f64::from(config.lookback_days),
                expected: ">= 30",
            });
        }
        let n = market.assets.len();
        let columns = history_columns(history, market)?;
        let window = devolatilise(
            history,
            &columns,
            as_of.add_days(1 - config.lookback_days as i32),
            as_of,
            &ewma,
        )
        .map_err(|short| ModelError::ShortHistory {
            asset: short.column.map_or_else(
                || "all assets together".into(),
                |a| market.assets[a].id.clone(),
            ),
            returns: short.returns,
        })?;
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
