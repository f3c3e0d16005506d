//! The market as a margin model saw it at a past date t: volatilities and
//! correlation calibrated (EWMA, sample correlation) to the history's returns
//! over the look-back ending at t. Shared by the analyses that re-size the
//! margin through history ([`super::margin_history`], [`super::backtest`]).

use super::AnalysisError;
use crate::calibrate::{calibrate_market, CalibrationSpec};
use crate::history::PriceHistory;
use crate::input::Date;
use crate::snapshot::MarketData;

/// `base` with its volatilities and correlation calibrated to `history` as
/// of `date` over `lookback_days` calendar days; prices, surface and rates
/// stay `base`'s (methodology, sections 11 and 12.3).
pub fn market_as_of(
    base: &MarketData,
    history: &PriceHistory,
    date: Date,
    lookback_days: u32,
) -> Result<MarketData, AnalysisError> {
    let mut market = base.clone();
    let spec = CalibrationSpec {
        as_of: Some(date),
        lookback_days,
        fit_garch: false,
        fit_tails: false,
        ..CalibrationSpec::default()
    };
    calibrate_market(history, &mut market, &spec)?;
    Ok(market)
}
