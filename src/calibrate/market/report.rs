//! The report of a market calibration, for the report file and the terminal:
//! [`CalibrationReport`] and the types of its parts (each asset's volatility
//! fits, the correlation estimates, the tail fits, the history's gaps).

use serde::Serialize;

use super::{CorrelationModel, VolatilityModel};
use crate::calibrate::innovations::{Candidate, CandidateFit, HorizonQuantiles};
use crate::calibrate::volatility::GarchBoundary;
use crate::history::Gap;
use crate::input::Date;

/// One asset's fits.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct AssetFit {
    pub asset: String,
    pub returns: usize,
    pub ewma_volatility: f64,
    /// GARCH(1,1)-t parameters and standard errors, or why it failed
    /// (written as the parameters, or `{"failed": reason}`).
    #[serde(serialize_with = "garch_or_failure")]
    pub garch: Result<GarchReport, String>,
    /// The annualised volatility written into the market.
    pub volatility: f64,
    /// The fitted volatility when it was raised to
    /// [`STABLECOIN_VOLATILITY_FLOOR`](super::STABLECOIN_VOLATILITY_FLOOR) (stablecoins only).
    pub floored_from: Option<f64>,
    pub previous_volatility: f64,
}

fn garch_or_failure<S: serde::Serializer>(
    garch: &Result<GarchReport, String>,
    serializer: S,
) -> Result<S::Ok, S::Error> {
    #[derive(Serialize)]
    struct Failed<'a> {
        failed: &'a str,
    }
    match garch {
        Ok(report) => report.serialize(serializer),
        Err(why) => Failed { failed: why }.serialize(serializer),
    }
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct GarchReport {
    pub omega: f64,
    pub alpha: f64,
    pub beta: f64,
    pub nu: f64,
    /// Inverse-Hessian standard errors of (omega, alpha, beta, nu); `None`
    /// when the fit is on a [`boundary`](Self::boundary), where they do not hold.
    pub std_errors: Option<[f64; 4]>,
    pub log_likelihood: f64,
    pub persistence: f64,
    /// The edges of the parameter region the optimum lies on (empty: interior).
    pub boundary: Vec<GarchBoundary>,
    /// sqrt(365 omega / (1 - alpha - beta)); `None` for an integrated fit,
    /// which has no long-run variance.
    pub long_run_volatility: Option<f64>,
    /// sqrt(365 x the one-day-ahead variance omega + alpha r_T^2 + beta
    /// sigma_T^2), which is finite whatever the persistence: the volatility
    /// written into the market with `--volatility garch`.
    pub forecast_volatility: f64,
    /// What the forecast is, in words, for the report's reader.
    pub forecast_basis: &'static str,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct CorrelationReport {
    pub estimator: CorrelationModel,
    pub assets: Vec<String>,
    /// Days the estimate rests on: those on which every asset has a return
    /// ([`DaysUsed::Common`]), or the most any pair has ([`DaysUsed::Pairwise`];
    /// `short_pairs` lists the pairs with fewer).
    pub days: usize,
    /// How each entry was estimated: each pair on the days both assets have a
    /// return ([`DaysUsed::Pairwise`], sample, EWMA and stressed), or every
    /// pair on the days all do ([`DaysUsed::Common`], Ledoit-Wolf, whose
    /// shrinkage needs one complete matrix of returns).
    pub days_used: DaysUsed,
    /// The window asked for.
    pub from: Date,
    pub to: Date,
    /// The first and last day of returns the estimate used (for pairwise
    /// estimates, the longest pair's): inside the window, and short of it
    /// where data end early.
    pub first_used: Date,
    pub last_used: Date,
    /// Each pair whose days fall short of the window's longest pair, with the
    /// days it used: where the data ran out, said rather than hidden.
    pub short_pairs: Vec<PairDays>,
    pub shrinkage: Option<f64>,
    /// Frobenius distance of the PSD repair of the estimate itself.
    pub repair_distance: f64,
    /// Row-major.
    pub matrix: Vec<f64>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum DaysUsed {
    Pairwise,
    Common,
}

/// The returns one correlation entry rests on.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct PairDays {
    pub assets: [String; 2],
    pub days: usize,
    pub first: Date,
    pub last: Date,
}

/// What calibration did, for the report file and the terminal.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct CalibrationReport {
    pub history: String,
    pub as_of: Date,
    pub from: Date,
    pub lambda: f64,
    pub volatility_model: VolatilityModel,
    pub assets: Vec<AssetFit>,
    /// Market assets the history does not cover: left as they were.
    pub not_in_history: Vec<String>,
    pub correlation: CorrelationReport,
    pub stressed_correlation: Option<CorrelationReport>,
    /// Frobenius distance of the repair of the market's whole matrix once the
    /// calibrated block was written into it.
    pub market_repair_distance: f64,
    /// Student-t degrees of freedom and market-wide jumps fitted to the
    /// devolatilised joint returns of the window's non-stablecoin assets (see
    /// [`crate::calibrate::tails`]).
    pub tails: TailReport,
    pub gaps: Vec<GapReport>,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct TailReport {
    /// Joint days: those on which every non-stablecoin asset has a return and
    /// an EWMA forecast (its first 30 returns seed the forecast).
    pub days: usize,
    /// The assets whose data start after the window's start or end before its
    /// end, each with the span of its usable days: they set the joint window.
    pub restricted_by: Vec<UsableSpan>,
    pub student_t_dof: Option<u32>,
    pub student_t_log_likelihood: Option<f64>,
    /// Whether the fitted degrees of freedom sit at an end of the range the
    /// model accepts (3 to 64): the maximum may lie beyond the bound (at 3:
    /// heavier tails than the model allows), so the fit has failed.
    pub student_t_at_bound: bool,
    /// The shape of the symmetric multivariate NIG fitted to the same joint
    /// moves ([`crate::calibrate::tails::nig_shape`]): one parameter, as the Student-t's
    /// dof, so the two log-likelihoods compare directly.
    pub nig_shape: Option<f64>,
    pub nig_log_likelihood: Option<f64>,
    /// Whether the NIG shape sits at an end of the range the model accepts.
    pub nig_at_bound: bool,
    /// Per non-stablecoin asset, the candidate innovation distributions
    /// (Gaussian, Student-t, NIG) fitted to its devolatilised daily returns,
    /// with log-likelihood and AIC ([`crate::calibrate::innovations`]).
    pub candidates: Vec<AssetCandidates>,
    /// Days whose cross-sectional mean move was beyond this many standard deviations.
    pub jump_threshold: f64,
    pub jump_days: usize,
    pub jumps: Option<crate::snapshot::JumpConfig>,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct UsableSpan {
    pub asset: String,
    pub first: Date,
    pub last: Date,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct AssetCandidates {
    pub asset: String,
    pub fits: Vec<CandidateFit>,
    /// Quantiles of the margin period's summed moves, the data's against
    /// each fit's (a QQ table).
    pub horizon: HorizonQuantiles,
    /// Per candidate: the mean distance of its 1% and 99% horizon quantiles
    /// from the data's, in standard deviations of the data's sums.
    pub tail_error: Vec<(Candidate, f64)>,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct GapReport {
    pub asset: Option<String>,
    pub from: Date,
    pub to: Date,
}

impl From<&Gap> for GapReport {
    fn from(g: &Gap) -> Self {
        Self {
            asset: g.asset.clone(),
            from: g.from,
            to: g.to,
        }
    }
}
