//! EMIR's anti-procyclicality tools (RTS 153/2013 Art. 28; formulas in
//! [`crate::margin::procyclicality`]) applied to a run's margins at the
//! valuation date, and the stressed and floor markets they draw on.
//!
//! - Stressed market: each asset's volatility is its realised volatility over
//!   the stress period (by default the year 2022, the 2022 crypto
//!   bear market: Terra/LUNA in May, FTX in November; every shipped asset
//!   traded through it), never below today's. Only the part of the period up
//!   to the margin date is used, so a margin through history never sees later
//!   data; an asset with fewer than [`MIN_STRESS_RETURNS`] returns there keeps
//!   today's volatility and is listed.
//! - Floor market: each asset's volatility is at least its realised volatility
//!   over the ten years (or all the history) to the date.

use super::{AnalysisError, Runner};
use crate::backend::Backend;
use crate::engine::{size_default_fund, RunResult};
use crate::history::PriceHistory;
use crate::input::Date;
pub use crate::margin::procyclicality::StressPeriod;
use crate::margin::procyclicality::{buffered, floored, stressed_weighted, ApcTool, AppliedApc};
use crate::pricing::DAYS_PER_YEAR;
use crate::snapshot::{MarketData, Snapshot};

/// Fewer returns than this in the stress period give no stressed volatility.
pub const MIN_STRESS_RETURNS: usize = 20;
const FLOOR_DAYS: i32 = 3650;

/// The markets of the stressed-weight and floor tools for `market` on `date`.
#[derive(Debug, Clone)]
pub struct ApcMarkets {
    pub stressed: MarketData,
    pub floor: MarketData,
    /// Assets that kept today's volatility in the stressed market: the history
    /// has too few of their returns in the stress period before `date`.
    pub not_stressed: Vec<String>,
}

/// The stressed and floor markets of `market` on `date` from `history`.
/// Assets the history lacks keep their volatility in both.
pub fn apc_markets(
    history: &PriceHistory,
    market: &MarketData,
    date: Date,
    stress: StressPeriod,
) -> ApcMarkets {
    let returns = history.returns();
    let end = returns.dates.partition_point(|&d| d <= date);
    let floor_start = returns
        .dates
        .partition_point(|&d| d.days_until(date) >= FLOOR_DAYS);
    let stress_start = returns.dates.partition_point(|&d| d < stress.from);
    let stress_end = returns.dates.partition_point(|&d| d <= stress.to).min(end);
    let mut out = ApcMarkets {
        stressed: market.clone(),
        floor: market.clone(),
        not_stressed: Vec::new(),
    };
    for (a, asset) in market.assets.iter().enumerate() {
        let Some(column) = history.asset_index(&asset.id) else {
            out.not_stressed.push(asset.id.clone());
            continue;
        };
        let realised = |from: usize, to: usize| -> (f64, usize) {
            let series: Vec<f64> = (from..to.max(from))
                .map(|t| returns.get(t, column))
                .filter(|x| !x.is_nan())
                .collect();
            let variance = series.iter().map(|r| r * r).sum::<f64>() / series.len().max(1) as f64;
            ((variance * DAYS_PER_YEAR).sqrt(), series.len())
        };
        match realised(stress_start, stress_end) {
            (vol, n) if n >= MIN_STRESS_RETURNS => {
                out.stressed.assets[a].volatility = asset.volatility.max(vol);
            }
            _ => out.not_stressed.push(asset.id.clone()),
        }
        out.floor.assets[a].volatility = asset.volatility.max(realised(floor_start, end).0);
    }
    out
}

/// Refuses, before any scenario is drawn, a tool that cannot act on
/// `snapshot`'s scenario model or lacks the history it needs; returns the
/// history the tool will use (none for the buffer).
pub fn check<'h>(
    tool: ApcTool,
    snapshot: &Snapshot,
    history: Option<&'h PriceHistory>,
) -> Result<Option<&'h PriceHistory>, AnalysisError> {
    if tool == ApcTool::Buffer {
        return Ok(None);
    }
    // FHS scales history by its own EWMA volatilities and never reads the
    // market's: a stressed or floor market would change nothing.
    if snapshot.config.scenario.historical.is_some() {
        return Err(AnalysisError::ApcUnderFhs { tool });
    }
    history
        .map(Some)
        .ok_or(AnalysisError::ApcNeedsHistory { tool })
}

/// Applies `tool` to `result`'s margins (running the engine on the stressed or
/// floor market where the tool needs it, from `history`), and sizes the
/// default fund again on the new margins. `result.margin.apc` records the
/// tool, its stress period and the assets that kept today's volatility in the
/// stressed market.
pub fn apply_apc<B: Backend>(
    runner: &Runner<B>,
    snapshot: &Snapshot,
    result: &mut RunResult,
    tool: ApcTool,
    history: Option<&PriceHistory>,
    stress: StressPeriod,
) -> Result<(), AnalysisError> {
    let history = check(tool, snapshot, history)?;
    let calculated = result.margin.initial_margins();
    let margins_on = |market: MarketData| -> Result<Vec<f64>, AnalysisError> {
        let mut s = snapshot.clone();
        s.market = market;
        s.stress.clear();
        Ok(runner.run(&s)?.margin.initial_margins())
    };
    let markets =
        history.map(|h| apc_markets(h, &snapshot.market, snapshot.valuation_date, stress));
    let (adjusted, not_stressed) = match (tool, markets) {
        (ApcTool::Buffer, _) => (buffered_each(&calculated), Vec::new()),
        (ApcTool::StressedWeight, Some(m)) => (
            stressed_weighted(&calculated, &margins_on(m.stressed)?, ApcTool::SHARE),
            m.not_stressed,
        ),
        (ApcTool::Floor, Some(m)) => (floored(&calculated, &margins_on(m.floor)?), Vec::new()),
        // `check` returns the history every tool but the buffer needs.
        (_, None) => return Err(AnalysisError::ApcNeedsHistory { tool }),
    };
    for (m, im) in result.margin.members.iter_mut().zip(adjusted) {
        m.initial_margin = im;
        m.excess = m.collateral - im;
    }
    result.default_fund = size_default_fund(snapshot, &result.stress, &result.margin.members);
    result.margin.apc = Some(AppliedApc {
        tool,
        stress_period: (tool == ApcTool::StressedWeight).then_some(stress),
        not_stressed,
    });
    Ok(())
}

/// The buffer at a single date: each margin with its full buffer on top.
fn buffered_each(calculated: &[f64]) -> Vec<f64> {
    calculated
        .iter()
        .map(|&im| buffered(&[im], ApcTool::SHARE)[0])
        .collect()
}
