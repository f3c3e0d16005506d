//! The historical windows that would have hurt a book most: every window of
//! `days` calendar days in a price history becomes a stress scenario
//! ([`historical_windows`]), the book is revalued in all of them, and the
//! windows are ranked by the configured cover (the uncovered loss of the
//! largest groups, as the default fund is sized). Overlapping windows are
//! mostly one episode seen from shifted dates, so the list holds distinct
//! windows: each is the worst of those not overlapping a worse one.

use super::{AnalysisError, Runner};
use crate::backend::Backend;
use crate::book::CompiledBook;
use crate::default_fund::{self, DefaultFundInput, Groups};
use crate::engine::scenario_model;
use crate::history::PriceHistory;
use crate::scenario::{historical_windows, stress_block, HistoricalWindow};
use crate::snapshot::Snapshot;

/// A historical window and what the book would have lost over it.
#[derive(Debug, Clone)]
pub struct WindowLoss {
    pub window: HistoricalWindow,
    /// Uncovered loss of the configured number of largest groups.
    pub cover_n: f64,
    /// The groups that drive `cover_n`, largest first, with their uncovered loss.
    pub groups: Vec<(String, f64)>,
    /// Sum over members of loss beyond collateral.
    pub uncovered_total: f64,
}

/// The worst windows, worst first.
#[derive(Debug, Clone)]
pub struct WorstWindows {
    pub days: u32,
    /// The configured cover n (2 for Cover-2) the windows are ranked by.
    pub cover: usize,
    /// Windows searched (every one with a close at both ends).
    pub searched: usize,
    pub history: String,
    pub worst: Vec<WindowLoss>,
}

/// The `top` worst distinct `days`-day windows of `history` for `snapshot`'s
/// book, worst first.
pub fn worst_windows<B: Backend>(
    runner: &Runner<B>,
    snapshot: &Snapshot,
    history: &PriceHistory,
    days: u32,
    top: usize,
) -> Result<WorstWindows, AnalysisError> {
    let book = CompiledBook::compile(snapshot).map_err(crate::engine::RunError::from)?;
    let model = scenario_model(snapshot, &book)?;
    let windows = historical_windows(history, &snapshot.market, &book.assets_depended_on(), days)?;
    if windows.is_empty() {
        return Err(AnalysisError::NoWindow {
            history: history.source.clone(),
            days,
        });
    }
    let scenarios: Vec<_> = windows.iter().map(|w| w.scenario.clone()).collect();
    let backend = runner.backend;
    let plan = backend
        .prepare(&book, &model)
        .map_err(crate::engine::RunError::from)?;
    let losses = backend
        .revalue(&plan, &stress_block(&scenarios, book.assets))
        .map_err(crate::engine::RunError::from)?;
    (runner.progress)(windows.len() as u64);
    let groups = Groups::of(&snapshot.members);
    let cover = snapshot.config.default_fund.cover;
    let zeros = vec![0.0; book.members];
    // Only the covers are used: margins and contributions do not change them.
    let input = DefaultFundInput {
        losses: &losses,
        collateral: &book.collateral_value,
        group_of: &groups.of,
        group_names: &groups.names,
        initial_margin: &zeros,
        contributions: &zeros,
        cover,
        allocation: snapshot.config.default_fund.allocation,
    };
    let fund = default_fund::size(&input);
    let mut order: Vec<usize> = (0..windows.len()).collect();
    order.sort_by(|&a, &b| {
        fund.per_scenario[b]
            .cover_n
            .total_cmp(&fund.per_scenario[a].cover_n)
            .then(a.cmp(&b))
    });
    let mut chosen: Vec<usize> = Vec::new();
    for s in order {
        if chosen.len() == top {
            break;
        }
        if chosen.iter().all(|&c| !windows[c].overlaps(&windows[s])) {
            chosen.push(s);
        }
    }
    let worst = chosen
        .into_iter()
        .map(|s| {
            let per = &fund.per_scenario[s];
            WindowLoss {
                window: windows[s].clone(),
                cover_n: per.cover_n,
                groups: per
                    .ranked()
                    .into_iter()
                    .take(cover)
                    .map(|(g, x)| (groups.names[g].clone(), x))
                    .collect(),
                uncovered_total: (0..book.members)
                    .map(|m| default_fund::uncovered(&input, s, m))
                    .sum(),
            }
        })
        .collect();
    Ok(WorstWindows {
        days,
        cover,
        searched: windows.len(),
        history: history.source.clone(),
        worst,
    })
}
