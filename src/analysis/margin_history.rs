//! A book's initial margin through history, with and without EMIR's
//! anti-procyclicality tools, and how procyclical each series is.
//!
//! On each margin date t the market's volatilities and correlation are
//! calibrated to the history as of t (EWMA over the lookback, sample
//! correlation), and every member's margin is sized on that market (B_t),
//! on its stressed market (S_t) and on its floor market (F_t) ([`apc_markets`],
//! [`AsOf`], which also ends FHS's look-back at t on a book configured for it);
//! positions, prices and the scenario seed stay the snapshot's, so the series
//! shows the margin model's own procyclicality. The tools' series follow
//! [`crate::margin::procyclicality`].

use super::apc::{apc_markets, StressPeriod};
use super::as_of::{AsOf, Recalibration};
use super::{AnalysisError, Runner};
use crate::backend::Backend;
use crate::history::PriceHistory;
use crate::input::Date;
use crate::margin::procyclicality::{
    buffered, floored, procyclicality, stressed_weighted, NotMeasurable, Procyclicality,
};
use crate::snapshot::{MarketData, Snapshot};

/// What the study is asked.
#[derive(Debug, Clone)]
pub struct MarginHistoryParams {
    pub dates: Vec<Date>,
    /// Calendar days of each date's EWMA calibration window.
    pub lookback_days: u32,
    pub stress: StressPeriod,
    pub buffer: f64,
    pub stressed_weight: f64,
    /// Window of the largest-increase measure, in days.
    pub window_days: u32,
}

/// Every member's margin on each date, date-major: `base[t][m]`.
#[derive(Debug, Clone, PartialEq)]
pub struct MarginHistory {
    pub dates: Vec<Date>,
    /// The calculated margin B_t.
    pub base: Vec<Vec<f64>>,
    /// Under the stressed market S_t.
    pub stressed: Vec<Vec<f64>>,
    /// Under the floor market F_t.
    pub floor: Vec<Vec<f64>>,
}

/// One policy's total margin series and its procyclicality.
#[derive(Debug, Clone, PartialEq)]
pub struct PolicySeries {
    /// Its column in the tables and key in the JSON: `calculated`, `buffer`,
    /// `stressed_weight` or `floor_10y`.
    pub id: &'static str,
    /// For a reader: "calculated", "buffer", "stressed weight", "10-year floor".
    pub name: &'static str,
    /// Book total on each date.
    pub total: Vec<f64>,
    /// Per member, date-major.
    pub members: Vec<Vec<f64>>,
    pub measures: Result<Procyclicality, NotMeasurable>,
}

/// The study's result.
#[derive(Debug, Clone, PartialEq)]
pub struct MarginHistoryStudy {
    pub history: MarginHistory,
    pub policies: Vec<PolicySeries>,
    /// Assets that kept their own volatility in the stressed market on some date.
    pub not_stressed: Vec<String>,
}

/// Sizes the margins of `snapshot`'s book on every date of `params` and
/// measures each policy's procyclicality. `runner.progress` counts the
/// scenarios of all 3 x dates runs.
pub fn margin_history<B: Backend>(
    runner: &Runner<B>,
    snapshot: &Snapshot,
    history: &PriceHistory,
    params: &MarginHistoryParams,
) -> Result<MarginHistoryStudy, AnalysisError> {
    let mut h = MarginHistory {
        dates: params.dates.clone(),
        base: Vec::new(),
        stressed: Vec::new(),
        floor: Vec::new(),
    };
    let mut not_stressed: Vec<String> = Vec::new();
    for &date in &params.dates {
        let seen = AsOf::new(
            snapshot,
            history,
            date,
            Recalibration::riskmetrics(params.lookback_days),
        )?;
        let margins = |market: &MarketData| -> Result<Vec<f64>, AnalysisError> {
            Ok(seen.run(runner, snapshot, market)?.margin.initial_margins())
        };
        let apc = apc_markets(&seen.history, &seen.market, date, params.stress);
        for asset in apc.not_stressed {
            if !not_stressed.contains(&asset) {
                not_stressed.push(asset);
            }
        }
        h.base.push(margins(&seen.market)?);
        h.stressed.push(margins(&apc.stressed)?);
        h.floor.push(margins(&apc.floor)?);
    }
    let policies = policies(&h, params);
    Ok(MarginHistoryStudy {
        history: h,
        policies,
        not_stressed,
    })
}

/// Each policy's id (its column in the tables, its key in the JSON) and its
/// name for a reader, in the order the study writes them; `report
/// --history-run` reads them back by these ids.
pub const POLICIES: [(&str, &str); 4] = [
    ("calculated", "calculated"),
    ("buffer", "buffer"),
    ("stressed_weight", "stressed weight"),
    ("floor_10y", "10-year floor"),
];

/// Each policy's margins, member by member: the buffer runs along each
/// member's own series.
fn policies(h: &MarginHistory, params: &MarginHistoryParams) -> Vec<PolicySeries> {
    let members = h.base.first().map_or(0, Vec::len);
    let column = |rows: &[Vec<f64>], m: usize| -> Vec<f64> { rows.iter().map(|r| r[m]).collect() };
    let by_member = |policy: &dyn Fn(usize) -> Vec<f64>| -> Vec<Vec<f64>> {
        let series: Vec<Vec<f64>> = (0..members).map(policy).collect();
        (0..h.dates.len())
            .map(|t| series.iter().map(|s| s[t]).collect())
            .collect()
    };
    let base = |m| column(&h.base, m);
    let buffer = |m| buffered(&column(&h.base, m), params.buffer);
    let weighted = |m| {
        stressed_weighted(
            &column(&h.base, m),
            &column(&h.stressed, m),
            params.stressed_weight,
        )
    };
    let floor = |m| floored(&column(&h.base, m), &column(&h.floor, m));
    let margins: [&dyn Fn(usize) -> Vec<f64>; 4] = [&base, &buffer, &weighted, &floor];
    POLICIES
        .into_iter()
        .zip(margins)
        .map(|((id, name), f)| {
            let members = by_member(f);
            let total: Vec<f64> = members.iter().map(|row| row.iter().sum()).collect();
            PolicySeries {
                id,
                name,
                measures: procyclicality(&h.dates, &total, params.window_days),
                total,
                members,
            }
        })
        .collect()
}
