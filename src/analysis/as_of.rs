//! What a margin model knew at the close of a past date t: the history up to
//! t and nothing after it, the market's volatilities and correlation
//! calibrated (EWMA, sample correlation unless another estimator is asked)
//! over the look-back ending at t, and,
//! under filtered historical simulation, FHS's look-back ending at t too.
//! Shared by the analyses that re-size the margin through history
//! ([`super::margin_history`], [`super::backtest`]).

use super::apc::StressPeriod;
use super::{AnalysisError, Runner};
use crate::backend::Backend;
use crate::calibrate::{calibrate_market, CalibrationSpec, CorrelationModel};
use crate::engine::RunResult;
use crate::history::PriceHistory;
use crate::input::Date;
use crate::snapshot::{MarketData, Snapshot};

/// How each past date's market is calibrated: the EWMA volatilities
/// (methodology 11.2) and the correlation (11.4) over a look-back ending at
/// the date.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Recalibration {
    /// Calendar days of the window.
    pub lookback_days: u32,
    /// The EWMA decay (RiskMetrics: 0.94, [`Recalibration::riskmetrics`]).
    pub lambda: f64,
    /// The correlation estimator; the stressed one reads the days of
    /// `stress` up to the date only.
    pub correlation: CorrelationModel,
    pub stress: StressPeriod,
}

impl Recalibration {
    /// RiskMetrics' decay and the sample correlation over `lookback_days`.
    pub fn riskmetrics(lookback_days: u32) -> Self {
        Self {
            lookback_days,
            lambda: CalibrationSpec::default().lambda,
            correlation: CorrelationModel::Sample,
            stress: StressPeriod::default(),
        }
    }
}

/// `base` with its volatilities and correlation calibrated to `history` as
/// of `date` as `calibration` says; prices, surface and rates stay `base`'s
/// (methodology, sections 11 and 12.3).
pub fn market_as_of(
    base: &MarketData,
    history: &PriceHistory,
    date: Date,
    calibration: Recalibration,
) -> Result<MarketData, AnalysisError> {
    let mut market = base.clone();
    let stressed = calibration.correlation == CorrelationModel::Stressed;
    let spec = CalibrationSpec {
        as_of: Some(date),
        lookback_days: calibration.lookback_days,
        lambda: calibration.lambda,
        correlation: calibration.correlation,
        stress_window: stressed.then_some((calibration.stress.from, calibration.stress.to)),
        fit_garch: false,
        fit_tails: false,
        ..CalibrationSpec::default()
    };
    calibrate_market(history, &mut market, &spec)?;
    Ok(market)
}

/// The data of one past date: the history cut at its close and the market
/// calibrated on it.
#[derive(Debug, Clone)]
pub struct AsOf {
    pub date: Date,
    /// The history up to and including `date` ([`PriceHistory::up_to`]).
    pub history: PriceHistory,
    /// The snapshot's market calibrated as of `date` ([`market_as_of`]).
    pub market: MarketData,
}

impl AsOf {
    pub fn new(
        snapshot: &Snapshot,
        history: &PriceHistory,
        date: Date,
        calibration: Recalibration,
    ) -> Result<Self, AnalysisError> {
        let history = history.up_to(date);
        let market = market_as_of(&snapshot.market, &history, date, calibration)?;
        Ok(Self {
            date,
            history,
            market,
        })
    }

    /// The engine's run of `snapshot`'s book on `market` (this date's, or a
    /// market derived from it, such as the APC tools' stressed one) as of
    /// this date: positions, collateral, prices, configuration and seed the
    /// snapshot's, stress scenarios left out (the margin alone), and under
    /// FHS the look-back ending at this date on the cut history.
    pub fn run<B: Backend>(
        &self,
        runner: &Runner<B>,
        snapshot: &Snapshot,
        market: &MarketData,
    ) -> Result<RunResult, AnalysisError> {
        Ok(runner.run_as_of(&self.snapshot(snapshot, market), self.date)?)
    }

    /// `snapshot` on `market` with what [`Self::run`] runs: no stress
    /// scenarios, and under FHS the cut history.
    pub fn snapshot(&self, snapshot: &Snapshot, market: &MarketData) -> Snapshot {
        let mut s = snapshot.clone();
        s.market = market.clone();
        s.stress.clear();
        if s.config.scenario.historical.is_some() {
            s.history = Some(self.history.clone());
        }
        s
    }
}
