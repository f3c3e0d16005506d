//! Calibrating a snapshot's market to price history: each asset's volatility
//! and the assets' correlation, over a lookback window ending at the as-of
//! date, with a report of every fit. Assets the history does not cover keep
//! their values (and are listed as such); the correlation matrix as a whole is
//! repaired to PSD after the calibrated block is written into it.
//!
//! This file holds what is asked ([`CalibrationSpec`] and its models), what
//! can go wrong ([`CalibrationError`]) and the calibration itself
//! ([`calibrate_market`]); `report.rs` holds the report it returns, one type
//! per part of the fit.

mod report;

pub use report::{
    AssetCandidates, AssetFit, CalibrationReport, CorrelationReport, DaysUsed, GapReport,
    GarchReport, PairDays, TailReport, UsableSpan,
};

use rayon::prelude::*;
use serde::Serialize;

use super::dependence::{
    ewma_correlation, ledoit_wolf_correlation, nearest_psd_correlation, sample_correlation, Aligned,
};
use super::innovations::{fit_candidates, horizon_quantiles};
use super::tails::{market_jumps, nig_shape, student_t_dof, NIG_SHAPE, STUDENT_T_DOF};
use super::volatility::{GarchBoundary, GarchT, VolatilityError};
use crate::history::PriceHistory;
use crate::input::Date;
use crate::pricing::DAYS_PER_YEAR;
use crate::snapshot::{AssetClass, MarketData};
use crate::volatility_filter::{devolatilise, Ewma};

/// What a GARCH volatility forecast is: the next day's conditional variance,
/// which needs no long-run variance and so stands for an integrated fit too.
const GARCH_FORECAST_BASIS: &str = "sqrt(365 x the next day's conditional variance omega + alpha \
     r_T^2 + beta s_T^2), from the last return and variance of the window: defined whatever the \
     persistence, integrated fits included";

/// Seed of the simulated horizon quantiles: the report is the same every run.
const QQ_SEED: u64 = 20_250_220;

/// The lowest annualised volatility given a stablecoin: a peg's calm history
/// (USDC's EWMA was 0.24% on 2025-02-20) says nothing of a de-peg, which a
/// clearing house must still margin. The shipped sample applies the same floor
/// (data/derive.py `STABLE_VOL_FLOOR`).
pub const STABLECOIN_VOLATILITY_FLOOR: f64 = 0.01;

/// The volatility written into the market.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, clap::ValueEnum)]
#[serde(rename_all = "kebab-case")]
pub enum VolatilityModel {
    /// RiskMetrics EWMA (lambda --lambda).
    Ewma,
    /// GARCH(1,1)-t one-day-ahead forecast.
    Garch,
}

impl VolatilityModel {
    pub fn describe(self) -> &'static str {
        match self {
            Self::Ewma => "EWMA",
            Self::Garch => "GARCH(1,1)-t",
        }
    }
}

/// The correlation written into the market.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, clap::ValueEnum)]
#[serde(rename_all = "kebab-case")]
pub enum CorrelationModel {
    Sample,
    Ewma,
    LedoitWolf,
    /// The sample correlation over --stress-window.
    Stressed,
}

impl CorrelationModel {
    pub fn describe(self) -> &'static str {
        match self {
            Self::Sample => "sample",
            Self::Ewma => "EWMA",
            Self::LedoitWolf => "Ledoit-Wolf shrinkage",
            Self::Stressed => "stressed (sample over the stress window)",
        }
    }
}

/// What to fit, over which days.
#[derive(Debug, Clone, PartialEq)]
pub struct CalibrationSpec {
    /// The last day used (the history's last by default).
    pub as_of: Option<Date>,
    /// Calendar days back from the as-of date.
    pub lookback_days: u32,
    pub lambda: f64,
    pub volatility: VolatilityModel,
    pub correlation: CorrelationModel,
    /// Days of a stress period for the stressed correlation.
    pub stress_window: Option<(Date, Date)>,
    /// Whether to fit GARCH(1,1)-t (reported; needed for `VolatilityModel::Garch`).
    pub fit_garch: bool,
    /// Whether to fit the tails (Student-t, NIG, jumps, the candidates'
    /// quantiles): reported only, never written into the market, and most of
    /// the time a calibration takes; the margin-through-history analyses
    /// leave them out.
    pub fit_tails: bool,
    /// Days of the margin period, rounded: the horizon of the quantile
    /// comparison of the candidate innovations.
    pub horizon_days: u32,
}

impl Default for CalibrationSpec {
    fn default() -> Self {
        Self {
            as_of: None,
            lookback_days: 3 * 365,
            lambda: Ewma::RISKMETRICS_LAMBDA,
            volatility: VolatilityModel::Ewma,
            correlation: CorrelationModel::Sample,
            stress_window: None,
            fit_garch: true,
            fit_tails: true,
            horizon_days: 2,
        }
    }
}

#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum CalibrationError {
    #[error("{0}")]
    Volatility(#[from] VolatilityError),
    #[error("asset `{asset}`: {source}")]
    Asset {
        asset: String,
        source: VolatilityError,
    },
    #[error("the history ({history}) covers none of the market's assets")]
    NoCommonAssets { history: String },
    #[error("only {days} days from {from} to {to} have a return for {}: at least {needed} are needed for a correlation", pair.as_deref().map_or("every calibrated asset".to_string(), |p| format!("both of {p}")))]
    TooFewCommonDays {
        days: usize,
        needed: usize,
        from: Date,
        to: Date,
        /// The pair that fell short (`None`: the days all assets share).
        pair: Option<String>,
    },
    #[error("the as-of date {as_of} is outside the history ({first} to {last})")]
    AsOfOutside {
        as_of: Date,
        first: Date,
        last: Date,
    },
    #[error("--correlation stressed needs --stress-window FROM..TO")]
    NoStressWindow,
}

const MIN_CORRELATION_DAYS: usize = 30;
/// Standard deviations of the market's mean devolatilised move that make a jump day.
const JUMP_THRESHOLD: f64 = 4.0;

/// Fits `market`'s volatilities and correlation to `history` and writes them in.
pub fn calibrate_market(
    history: &PriceHistory,
    market: &mut MarketData,
    spec: &CalibrationSpec,
) -> Result<CalibrationReport, CalibrationError> {
    let (first, last) = (history.dates[0], history.dates[history.dates.len() - 1]);
    let as_of = spec.as_of.unwrap_or(last);
    if as_of < first || as_of > last {
        return Err(CalibrationError::AsOfOutside { as_of, first, last });
    }
    let from = as_of.add_days(1 - spec.lookback_days as i32);
    let ewma = Ewma::new(spec.lambda).map_err(VolatilityError::from)?;
    let returns = history.returns();
    let window = returns.between(from, as_of);

    // (market index, history index) of every calibrated asset.
    let mut pairs = Vec::new();
    let mut not_in_history = Vec::new();
    for (m, asset) in market.assets.iter().enumerate() {
        match history.asset_index(&asset.id) {
            Some(h) => pairs.push((m, h)),
            None => not_in_history.push(asset.id.clone()),
        }
    }
    if pairs.is_empty() {
        return Err(CalibrationError::NoCommonAssets {
            history: history.source.clone(),
        });
    }

    // The fits are independent: one task per asset.
    let series: Vec<Vec<f64>> = pairs
        .par_iter()
        .map(|&(_, h)| {
            window
                .clone()
                .map(|t| returns.get(t, h))
                .filter(|x| !x.is_nan())
                .collect()
        })
        .collect();
    let fit_garch = spec.fit_garch || spec.volatility == VolatilityModel::Garch;
    let garch_fits: Vec<Option<_>> = series
        .par_iter()
        .map(|s| fit_garch.then(|| GarchT::fit(s)))
        .collect();
    let mut fits = Vec::with_capacity(pairs.len());
    for ((&(m, _), series), garch) in pairs.iter().zip(&series).zip(garch_fits) {
        let asset = market.assets[m].id.clone();
        let wrap = |source| CalibrationError::Asset {
            asset: asset.clone(),
            source,
        };
        let ewma_volatility = ewma.annual_volatility(series).map_err(|e| wrap(e.into()))?;
        let garch = garch.unwrap_or(Err(VolatilityError::NotFitted)).map(|fit| {
            let p = fit.params;
            GarchReport {
                omega: p.omega,
                alpha: p.alpha,
                beta: p.beta,
                nu: p.nu,
                std_errors: fit.boundary.is_empty().then_some(fit.std_errors),
                log_likelihood: fit.log_likelihood,
                persistence: p.alpha + p.beta,
                long_run_volatility: (!fit.boundary.contains(&GarchBoundary::Integrated))
                    .then(|| (p.long_run_variance() * DAYS_PER_YEAR).sqrt()),
                boundary: fit.boundary.clone(),
                forecast_basis: GARCH_FORECAST_BASIS,
                forecast_volatility: (fit.next_variance * DAYS_PER_YEAR).sqrt(),
            }
        });
        let fitted = match (spec.volatility, &garch) {
            (VolatilityModel::Ewma, _) => ewma_volatility,
            (VolatilityModel::Garch, Ok(g)) => g.forecast_volatility,
            (VolatilityModel::Garch, Err(e)) => return Err(wrap(e.clone())),
        };
        let floored = market.assets[m].class == AssetClass::Stablecoin
            && fitted < STABLECOIN_VOLATILITY_FLOOR;
        let volatility = if floored {
            STABLECOIN_VOLATILITY_FLOOR
        } else {
            fitted
        };
        let previous_volatility = market.assets[m].volatility;
        market.assets[m].volatility = volatility;
        market.assets[m].source = format!(
            "{}: {} of {} daily log returns {}..{}{}",
            history.source,
            match spec.volatility {
                VolatilityModel::Ewma => format!("EWMA({})", spec.lambda),
                VolatilityModel::Garch => "GARCH(1,1)-t forecast".into(),
            },
            series.len(),
            from,
            as_of,
            if floored {
                format!(
                    " ({fitted:.4} floored at the stablecoin floor {STABLECOIN_VOLATILITY_FLOOR})"
                )
            } else {
                String::new()
            }
        );
        fits.push(AssetFit {
            asset,
            returns: series.len(),
            ewma_volatility,
            garch: garch.map_err(|e| e.to_string()),
            volatility,
            floored_from: floored.then_some(fitted),
            previous_volatility,
        });
    }

    let history_assets: Vec<usize> = pairs.iter().map(|&(_, h)| h).collect();
    let names: Vec<String> = pairs
        .iter()
        .map(|&(m, _)| market.assets[m].id.clone())
        .collect();
    let estimate = |model: CorrelationModel, from: Date, to: Date| {
        let range = returns.between(from, to);
        let k = history_assets.len();
        // Each pair's days: both assets have a return (LW: all assets do).
        let days_used = match model {
            CorrelationModel::LedoitWolf => DaysUsed::Common,
            _ => DaysUsed::Pairwise,
        };
        let common: Vec<usize> = returns
            .complete_days(&history_assets)
            .into_iter()
            .filter(|t| range.contains(t))
            .collect();
        let pair_days = |i: usize, j: usize| -> Vec<usize> {
            returns
                .complete_days(&[history_assets[i], history_assets[j]])
                .into_iter()
                .filter(|t| range.contains(t))
                .collect()
        };
        let returns = &returns;
        let aligned_values = |days: &[usize], assets: &[usize]| -> Vec<f64> {
            days.iter()
                .flat_map(|&t| assets.iter().map(move |&a| returns.get(t, a)))
                .collect()
        };
        let too_few = |days: usize, pair: Option<[&str; 2]>| CalibrationError::TooFewCommonDays {
            days,
            needed: MIN_CORRELATION_DAYS,
            from,
            to,
            pair: pair.map(|[a, b]| format!("{a}/{b}")),
        };
        let mut matrix = vec![0.0; k * k];
        let mut used = Vec::new();
        let (shrinkage, estimate_repair) = match days_used {
            DaysUsed::Common => {
                if common.len() < MIN_CORRELATION_DAYS {
                    return Err(too_few(common.len(), None));
                }
                let values = aligned_values(&common, &history_assets);
                let c = ledoit_wolf_correlation(Aligned {
                    values: &values,
                    assets: k,
                });
                matrix = c.matrix;
                (c.shrinkage, c.repair_distance)
            }
            DaysUsed::Pairwise => {
                for i in 0..k {
                    matrix[i * k + i] = 1.0;
                    for j in i + 1..k {
                        let days = pair_days(i, j);
                        if days.len() < MIN_CORRELATION_DAYS {
                            return Err(too_few(days.len(), Some([&names[i], &names[j]])));
                        }
                        let values = aligned_values(&days, &[history_assets[i], history_assets[j]]);
                        let two = Aligned {
                            values: &values,
                            assets: 2,
                        };
                        let rho = match model {
                            CorrelationModel::Ewma => ewma_correlation(two, spec.lambda),
                            _ => sample_correlation(two),
                        }
                        .get(0, 1);
                        matrix[i * k + j] = rho;
                        matrix[j * k + i] = rho;
                        used.push((i, j, days));
                    }
                }
                // Entries from different days need not form a PSD matrix.
                let (repaired, distance) = nearest_psd_correlation(&matrix, k, 1e-10);
                matrix = repaired;
                (None, distance)
            }
        };
        let longest = used.iter().map(|(_, _, d)| d.len()).max().unwrap_or(0);
        let days_of_estimate = match days_used {
            DaysUsed::Common => &common,
            DaysUsed::Pairwise => used
                .iter()
                .map(|(_, _, d)| d)
                .find(|d| d.len() == longest)
                .unwrap_or(&common),
        };
        let (first_used, last_used) = match (days_of_estimate.first(), days_of_estimate.last()) {
            (Some(&a), Some(&b)) => (returns.dates[a], returns.dates[b]),
            _ => (from, to),
        };
        let short_pairs = used
            .iter()
            .filter(|(_, _, d)| d.len() < longest)
            .map(|(i, j, d)| PairDays {
                assets: [names[*i].clone(), names[*j].clone()],
                days: d.len(),
                first: returns.dates[d[0]],
                last: returns.dates[d[d.len() - 1]],
            })
            .collect();
        Ok(CorrelationReport {
            estimator: model,
            assets: names.clone(),
            days: match days_used {
                DaysUsed::Common => common.len(),
                DaysUsed::Pairwise => longest,
            },
            days_used,
            from,
            to,
            first_used,
            last_used,
            short_pairs,
            shrinkage,
            repair_distance: estimate_repair,
            matrix,
        })
    };
    let stressed_correlation = match spec.stress_window {
        Some((a, b)) => Some(estimate(CorrelationModel::Stressed, a, b)?),
        None => None,
    };
    let correlation = match spec.correlation {
        CorrelationModel::Stressed => stressed_correlation
            .clone()
            .ok_or(CalibrationError::NoStressWindow)?,
        model => estimate(model, from, as_of)?,
    };

    let n = market.assets.len();
    let k = pairs.len();
    for (i, &(mi, _)) in pairs.iter().enumerate() {
        for (j, &(mj, _)) in pairs.iter().enumerate() {
            market.correlation[mi * n + mj] = correlation.matrix[i * k + j];
        }
    }
    let (repaired, market_repair_distance) = nearest_psd_correlation(&market.correlation, n, 1e-10);
    market.correlation = repaired;

    // Stablecoins stay out of the tail fits: their daily volatility is so small
    // that a de-peg is dozens of their sigmas, and the model's jump sizes are
    // shared by every asset in units of its own volatility.
    let crypto_pairs: Vec<(usize, usize)> = pairs
        .iter()
        .copied()
        .filter(|&(m, _)| market.assets[m].class != AssetClass::Stablecoin)
        .collect();
    let crypto: Vec<usize> = crypto_pairs.iter().map(|&(_, h)| h).collect();
    let crypto_names: Vec<String> = crypto_pairs
        .iter()
        .map(|&(m, _)| market.assets[m].id.clone())
        .collect();
    // Each asset's usable days: from its first forecast (after the EWMA seed)
    // to its last return, within the window.
    let window_first = returns.dates[window.start.min(returns.len() - 1)];
    let restricted_by: Vec<UsableSpan> = crypto
        .iter()
        .zip(&crypto_names)
        .filter_map(|(&h, asset)| {
            let days: Vec<Date> = (0..returns.len())
                .filter(|&t| !returns.get(t, h).is_nan())
                .map(|t| returns.dates[t])
                .collect();
            let first = (*days.get(Ewma::SEED_RETURNS)?).max(from);
            let last = *days.iter().rev().find(|&&d| d <= as_of)?;
            (first > window_first || last < as_of).then(|| UsableSpan {
                asset: asset.clone(),
                first,
                last,
            })
        })
        .collect();
    let devolatilised = if spec.fit_tails {
        devolatilise(history, &crypto, from, as_of, &ewma).ok()
    } else {
        None
    };
    let tails = match devolatilised {
        Some(d) => {
            let dof = student_t_dof(&d.values, d.assets);
            let nig = nig_shape(&d.values, d.assets);
            let candidates = crypto_names
                .par_iter()
                .enumerate()
                .map(|(a, asset)| {
                    let series: Vec<f64> = (0..d.dates.len())
                        .map(|t| d.values[t * d.assets + a])
                        .collect();
                    let fits = fit_candidates(&series);
                    let (horizon, sums_sd) =
                        horizon_quantiles(&series, &fits, spec.horizon_days, 200_000, QQ_SEED);
                    let tail_error = fits
                        .iter()
                        .filter_map(|f| Some((f.model, horizon.tail_error(f.model, sums_sd)?)))
                        .collect();
                    AssetCandidates {
                        asset: asset.clone(),
                        fits,
                        horizon,
                        tail_error,
                    }
                })
                .collect();
            let jumps = market_jumps(&d.values, d.assets, JUMP_THRESHOLD);
            TailReport {
                days: d.dates.len(),
                restricted_by,
                student_t_dof: dof.map(|x| x.0),
                student_t_log_likelihood: dof.map(|x| x.1),
                student_t_at_bound: dof.is_some_and(|(nu, _)| {
                    nu == *STUDENT_T_DOF.start() || nu == *STUDENT_T_DOF.end()
                }),
                nig_shape: nig.map(|x| x.0),
                nig_log_likelihood: nig.map(|x| x.1),
                nig_at_bound: nig.is_some_and(|(shape, _)| {
                    (shape / NIG_SHAPE.start() - 1.0).abs() < 1e-6
                        || (shape / NIG_SHAPE.end() - 1.0).abs() < 1e-6
                }),
                candidates,
                jump_threshold: JUMP_THRESHOLD,
                jump_days: jumps.as_ref().map_or(0, |j| j.1),
                jumps: jumps.map(|j| j.0),
            }
        }
        None => TailReport {
            days: 0,
            restricted_by,
            student_t_dof: None,
            student_t_log_likelihood: None,
            student_t_at_bound: false,
            nig_shape: None,
            nig_log_likelihood: None,
            nig_at_bound: false,
            candidates: Vec::new(),
            jump_threshold: JUMP_THRESHOLD,
            jump_days: 0,
            jumps: None,
        },
    };

    Ok(CalibrationReport {
        history: history.source.clone(),
        as_of,
        from,
        lambda: spec.lambda,
        volatility_model: spec.volatility,
        assets: fits,
        not_in_history,
        correlation,
        stressed_correlation,
        market_repair_distance,
        tails,
        gaps: history.gaps().iter().map(GapReport::from).collect(),
    })
}
