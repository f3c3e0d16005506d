//! The backtest's day loop on the members' current positions (EMIR's
//! "current positions" test): on every day t of the history from `from` to
//! `to`, each member's margin is sized with the data up to t only, and set
//! against the loss its book realised from the close of t to the close of
//! t + MPOR (methodology, section 12b).
//!
//! - **Margin at t.** The history is cut at t ([`AsOf`]): the market's
//!   volatilities and correlation are calibrated over the look-back ending
//!   at t, and under filtered historical simulation its look-back also ends
//!   at t ([`Runner::run_as_of`]). Positions,
//!   collateral, prices, the vol surface and the seed stay the snapshot's, so
//!   that the margin moves with the model's view of risk only, as in
//!   [`super::super::margin_history`].
//! - **Realised loss.** Each asset's relative move close(t + MPOR) / close(t)
//!   is applied to the snapshot's market as a scenario and the book is revalued
//!   by the engine's own revaluation ([`historical_windows`], as the
//!   worst-window search does): the same P&L convention, horizon and
//!   collateral treatment as the margin's scenarios; implied vols moved by
//!   the ratio of an implied-vol index where one is given, held otherwise
//!   ([`super::implied_vol`]).
//! - **Gaps.** A day without a close at t, or at exactly t + MPOR calendar days,
//!   for some asset the book depends on (or, with an index, without its level
//!   for an option underlying) is not bridged to a neighbouring value: it is
//!   listed in [`Backtest::gaps`] with the reason and left out.

use super::implied_vol::{ImpliedVols, VolMoves};
use super::{BacktestError, EsDay};
use crate::analysis::as_of::{AsOf, Recalibration};
use crate::analysis::{AnalysisError, Runner};
use crate::backend::Backend;
use crate::book::CompiledBook;
use crate::default_fund::Groups;
use crate::engine::{scenario_model, scenario_model_as_of, RunError};
use crate::history::implied_vol::ImpliedVolIndex;
use crate::history::PriceHistory;
use crate::input::Date;
use crate::scenario::{historical_windows, stress_block};
use crate::snapshot::{MarginMeasure, Snapshot};

/// Which portfolios are tested.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Portfolios {
    /// The members' positions in the snapshot, held constant.
    Current,
}

/// What the backtest is asked.
#[derive(Debug, Clone)]
pub struct BacktestParams {
    /// First and last margin dates, inclusive.
    pub from: Date,
    pub to: Date,
    /// Calendar days of each date's EWMA calibration window.
    pub lookback_days: u32,
    /// The EWMA decay of each date's calibration (methodology 11.2;
    /// RiskMetrics: 0.94).
    pub lambda: f64,
    pub portfolios: Portfolios,
    /// With ES margins: loss paths drawn from each day's model for Z2's
    /// p-value (0: Z2 without a p-value).
    pub z2_simulations: usize,
    /// Implied-vol index levels that move the options' vols in the realised
    /// move (`None`: vols held).
    pub implied_vol: Option<ImpliedVolIndex>,
}

/// What a portfolio is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum PortfolioKind {
    /// A member's positions alone, against its margin.
    Member,
    /// A member's positions and the change in its collateral's value after
    /// haircuts (the engine's loss, the one the margin is sized on).
    MemberWithCollateral,
    /// An affiliate group: the sum of its members' losses with collateral
    /// against the sum of their margins.
    Group,
}

impl PortfolioKind {
    pub const ALL: [Self; 3] = [Self::Member, Self::MemberWithCollateral, Self::Group];

    /// Its name in the tables and the JSON.
    pub fn id(self) -> &'static str {
        match self {
            Self::Member => "member",
            Self::MemberWithCollateral => "member_with_collateral",
            Self::Group => "group",
        }
    }
}

/// One portfolio's margin and realised loss on each observed day
/// ([`Backtest::dates`]).
#[derive(Debug, Clone, PartialEq)]
pub struct Portfolio {
    /// The member's or the group's id.
    pub id: String,
    pub kind: PortfolioKind,
    pub margins: Vec<f64>,
    pub losses: Vec<f64>,
    /// The VaR at the margin confidence on each day, members only: with
    /// the margin as ES it is what Acerbi and Székely's Z2 needs.
    pub var: Option<Vec<f64>>,
    /// Losses drawn from each day's model, `[day][path]`, for Z2's p-value:
    /// members with collateral (the loss the margin is sized on), ES margins
    /// and `z2_simulations > 0` only.
    pub simulated: Option<Vec<Vec<f64>>>,
}

impl Portfolio {
    /// Its days as the ES test reads them (members only).
    pub fn es_days(&self) -> Option<Vec<EsDay>> {
        let var = self.var.as_ref()?;
        Some(
            (0..self.margins.len())
                .map(|t| EsDay {
                    var: var[t],
                    es: self.margins[t],
                    realised_loss: self.losses[t],
                })
                .collect(),
        )
    }
}

/// A day of the period that could not be tested, and why.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Gap {
    pub date: Date,
    pub reason: String,
}

/// The backtest's days and portfolios.
#[derive(Debug, Clone, PartialEq)]
pub struct Backtest {
    /// The observed days t, ascending.
    pub dates: Vec<Date>,
    /// The MPOR in whole days: the loss of day t runs to the close of t + this.
    pub mpor_days: u32,
    pub measure: MarginMeasure,
    pub confidence: f64,
    /// Members (positions alone), then members with collateral, then groups.
    pub portfolios: Vec<Portfolio>,
    pub gaps: Vec<Gap>,
    /// The option underlyings whose vols the index moved, and those held.
    pub implied_vols: ImpliedVols,
}

/// The MPOR of `snapshot` in whole days (rounded, at least 1), as FHS
/// bootstraps it.
pub fn mpor_days(snapshot: &Snapshot) -> u32 {
    snapshot.config.risk.margin_period_days.round().max(1.0) as u32
}

/// Backtests the margins of `snapshot`'s members on every day of `history`
/// from `params.from` to `params.to`. `runner.progress` counts the scenarios
/// of one engine run per observed day.
pub fn backtest<B: Backend>(
    runner: &Runner<B>,
    snapshot: &Snapshot,
    history: &PriceHistory,
    params: &BacktestParams,
) -> Result<Backtest, AnalysisError> {
    let Portfolios::Current = params.portfolios;
    let mpor = mpor_days(snapshot);
    let with_collateral = RealisedLosses::new(runner.backend, snapshot)?;
    let mut positions_only = snapshot.clone();
    positions_only.collateral.clear();
    let without_collateral = RealisedLosses::new(runner.backend, &positions_only)?;
    // The assets whose moves change a loss: positions' and coin collateral's.
    let assets = with_collateral.book.assets_depended_on();
    let windows = historical_windows(history, &snapshot.market, &assets, mpor)?;
    let vols = VolMoves::new(
        params.implied_vol.as_ref(),
        &snapshot.market,
        &with_collateral.book.vol_assets,
    )?;

    let mut dates = Vec::new();
    let mut scenarios = Vec::new();
    let mut gaps = Vec::new();
    let first = history.dates.partition_point(|&d| d < params.from);
    let last = history.dates.partition_point(|&d| d <= params.to);
    for d in first..last {
        let date = history.dates[d];
        // The windows are in date order; the one from t's close starts on t + 1.
        match windows.binary_search_by_key(&date.add_days(1), |w| w.first) {
            Ok(w) => {
                let mut scenario = windows[w].scenario.clone();
                match vols.apply(date, windows[w].last, &mut scenario) {
                    Ok(()) => {
                        dates.push(date);
                        scenarios.push(scenario);
                    }
                    Err(gap) => gaps.push(gap),
                }
            }
            Err(_) => gaps.push(Gap {
                date,
                reason: gap_reason(history, snapshot, &assets, d, mpor),
            }),
        }
    }
    if dates.is_empty() {
        return Err(BacktestError::NoObservations.into());
    }
    let loss_with = with_collateral.of(runner.backend, &scenarios)?;
    let loss_without = without_collateral.of(runner.backend, &scenarios)?;

    let members = snapshot.members.len();
    let rule = &snapshot.config.risk;
    let mut margins = vec![Vec::with_capacity(dates.len()); members];
    let mut var = vec![Vec::with_capacity(dates.len()); members];
    let simulate =
        rule.margin_measure == MarginMeasure::ExpectedShortfall && params.z2_simulations > 0;
    let mut simulated = vec![Vec::with_capacity(dates.len()); if simulate { members } else { 0 }];
    for (k, &date) in dates.iter().enumerate() {
        let seen = AsOf::new(
            snapshot,
            history,
            date,
            Recalibration {
                lookback_days: params.lookback_days,
                lambda: params.lambda,
            },
        )?;
        let result = seen.run(runner, snapshot, &seen.market)?;
        if simulate {
            let paths = model_draws(runner.backend, &seen, snapshot, k, params.z2_simulations)?;
            for (m, drawn) in paths.into_iter().enumerate() {
                simulated[m].push(drawn);
            }
        }
        for (m, member) in result.margin.members.iter().enumerate() {
            margins[m].push(member.initial_margin);
            var[m].push(
                member
                    .at(rule.margin_confidence)
                    .map_or(f64::NAN, |x| x.var),
            );
        }
    }

    let mut portfolios = Vec::with_capacity(2 * members);
    for (kind, losses) in [
        (PortfolioKind::Member, &loss_without),
        (PortfolioKind::MemberWithCollateral, &loss_with),
    ] {
        for (m, member) in snapshot.members.iter().enumerate() {
            portfolios.push(Portfolio {
                id: member.id.clone(),
                kind,
                margins: margins[m].clone(),
                losses: losses[m].clone(),
                var: Some(var[m].clone()),
                // Moved, not copied: members x days x paths losses.
                simulated: (kind == PortfolioKind::MemberWithCollateral && simulate)
                    .then(|| std::mem::take(&mut simulated[m])),
            });
        }
    }
    let groups = Groups::of(&snapshot.members);
    for (g, name) in groups.names.iter().enumerate() {
        let sum = |rows: &[Vec<f64>]| -> Vec<f64> {
            (0..dates.len())
                .map(|t| {
                    (0..members)
                        .filter(|&m| groups.of[m] == g)
                        .map(|m| rows[m][t])
                        .sum()
                })
                .collect()
        };
        portfolios.push(Portfolio {
            id: name.clone(),
            kind: PortfolioKind::Group,
            margins: sum(&margins),
            losses: sum(&loss_with),
            var: None,
            simulated: None,
        });
    }
    Ok(Backtest {
        dates,
        mpor_days: mpor,
        measure: rule.margin_measure,
        confidence: rule.margin_confidence,
        portfolios,
        gaps,
        implied_vols: vols.report,
    })
}

/// A book compiled once for revaluing realised moves.
struct RealisedLosses<B: Backend> {
    book: CompiledBook,
    plan: B::Plan,
}

impl<B: Backend> RealisedLosses<B> {
    fn new(backend: &B, snapshot: &Snapshot) -> Result<Self, AnalysisError> {
        let book = CompiledBook::compile(snapshot).map_err(RunError::from)?;
        // Fixed scenarios are revalued whatever draws the model would make.
        let mut monte_carlo = snapshot.clone();
        monte_carlo.config.scenario.historical = None;
        let model = scenario_model(&monte_carlo, &book)?;
        let plan = backend.prepare(&book, &model).map_err(RunError::from)?;
        Ok(Self { book, plan })
    }

    /// Member-major losses: `[m][t]` in scenario t.
    fn of(
        &self,
        backend: &B,
        scenarios: &[crate::snapshot::StressScenario],
    ) -> Result<Vec<Vec<f64>>, AnalysisError> {
        let block = stress_block(scenarios, self.book.assets);
        let losses = backend
            .revalue(&self.plan, &block)
            .map_err(RunError::from)?;
        Ok((0..self.book.members)
            .map(|m| (0..scenarios.len()).map(|s| losses.loss(m, s)).collect())
            .collect())
    }
}

/// Each member's losses in `count` scenarios drawn from the model of
/// `seen`'s date, `[member][path]`: day `k` draws scenarios `k count ..
/// (k + 1) count`, so that no two days share a draw (Z2's reference
/// distribution takes the days as independent).
fn model_draws<B: Backend>(
    backend: &B,
    seen: &AsOf,
    snapshot: &Snapshot,
    k: usize,
    count: usize,
) -> Result<Vec<Vec<f64>>, AnalysisError> {
    let s = seen.snapshot(snapshot, &seen.market);
    let book = CompiledBook::compile(&s).map_err(RunError::from)?;
    let model = scenario_model_as_of(&s, &book, seen.date)?;
    let plan = backend.prepare(&book, &model).map_err(RunError::from)?;
    let first = (k * count) as u64;
    let block = backend
        .scenarios(&plan, first..first + count as u64)
        .map_err(RunError::from)?;
    let losses = backend.revalue(&plan, &block).map_err(RunError::from)?;
    Ok((0..book.members)
        .map(|m| (0..count).map(|i| losses.loss(m, i)).collect())
        .collect())
}

/// Why day `d` has no realised loss: the first missing close.
fn gap_reason(
    history: &PriceHistory,
    snapshot: &Snapshot,
    assets: &[usize],
    d: usize,
    mpor: u32,
) -> String {
    let date = history.dates[d];
    let end = date.add_days(mpor as i32);
    let Ok(e) = history.dates.binary_search(&end) else {
        return if history.dates.last().is_some_and(|&last| end > last) {
            format!("{end} (t + {mpor} days) is past the history's last day")
        } else {
            format!("the history has no row for {end} (t + {mpor} days)")
        };
    };
    for &a in assets {
        let id = &snapshot.market.assets[a].id;
        let column = history.asset_index(id);
        for (day, at) in [(d, date), (e, end)] {
            if column.and_then(|c| history.close(day, c)).is_none() {
                return format!("no close for {id} on {at}");
            }
        }
    }
    "no realised move for the book's assets".into()
}
