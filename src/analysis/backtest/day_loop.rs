//! The backtest's day loop on the members' current positions (EMIR's
//! "current positions" test) and on the generated test portfolios
//! ([`TestSet`]): on every day t of the history from `from` to `to`, each
//! portfolio's margin is sized with the data up to t only, and set against
//! the loss it realised from the close of t to the close of t + MPOR
//! (methodology, section 12b). The generated portfolios are synthetic
//! members of the same book, so one engine run a day margins everything.
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
use super::models::{margins_under, ModelMargins, ModelSet};
use super::test_portfolios::TestSet;
use super::{BacktestError, EsDay};
use crate::analysis::{AnalysisError, Runner};
use crate::backend::Backend;
use crate::book::CompiledBook;
use crate::default_fund::Groups;
use crate::engine::{scenario_model, RunError};
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
    /// The generated test portfolios ([`TestSet`]).
    Test,
    /// Both.
    Both,
}

impl Portfolios {
    /// Its name on the command line and in the manifest.
    pub fn id(self) -> &'static str {
        match self {
            Self::Current => "current",
            Self::Test => "test",
            Self::Both => "both",
        }
    }

    fn members(self) -> bool {
        self != Self::Test
    }

    fn generated(self) -> bool {
        self != Self::Current
    }
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
    /// A generated portfolio of one position ([`TestSet`]).
    TestUnit,
    /// A generated portfolio of several legs: a spread or an option strategy.
    TestPortfolio,
}

impl PortfolioKind {
    pub const ALL: [Self; 5] = [
        Self::Member,
        Self::MemberWithCollateral,
        Self::Group,
        Self::TestUnit,
        Self::TestPortfolio,
    ];

    /// Its name in the tables and the JSON.
    pub fn id(self) -> &'static str {
        match self {
            Self::Member => "member",
            Self::MemberWithCollateral => "member_with_collateral",
            Self::Group => "group",
            Self::TestUnit => "test_unit",
            Self::TestPortfolio => "test_portfolio",
        }
    }
}

/// One portfolio's margin and realised loss on each observed day
/// ([`Backtest::dates`]).
#[derive(Debug, Clone, PartialEq)]
pub struct Portfolio {
    /// The member's, the group's or the generated portfolio's id.
    pub id: String,
    pub kind: PortfolioKind,
    pub margins: Vec<f64>,
    pub losses: Vec<f64>,
    /// The VaR at the margin confidence on each day, members and generated
    /// portfolios only: with the margin as ES it is what Acerbi and
    /// Székely's Z2 needs.
    pub var: Option<Vec<f64>>,
    /// Losses drawn from each day's model, `[day][path]`, for Z2's p-value:
    /// members with collateral and generated portfolios (the loss the margin
    /// is sized on), ES margins and `z2_simulations > 0` only.
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

/// The backtest's days and portfolios under one model.
#[derive(Debug, Clone, PartialEq)]
pub struct Backtest {
    /// The model's name ([`super::BacktestModel::name`]): `configured` by
    /// default.
    pub model: String,
    /// The observed days t, ascending.
    pub dates: Vec<Date>,
    /// The MPOR in whole days: the loss of day t runs to the close of t + this.
    pub mpor_days: u32,
    pub measure: MarginMeasure,
    pub confidence: f64,
    /// Members (positions alone), then members with collateral, then groups
    /// (none with [`Portfolios::Test`]), then the generated portfolios (with
    /// [`Portfolios::Test`] or [`Portfolios::Both`]).
    pub portfolios: Vec<Portfolio>,
    pub gaps: Vec<Gap>,
    /// The generated set, with what it skipped and why.
    pub test_set: Option<TestSet>,
    /// The option underlyings whose vols the index moved, and those held.
    pub implied_vols: ImpliedVols,
}

/// The MPOR of `snapshot` in whole days (rounded, at least 1), as FHS
/// bootstraps it.
pub fn mpor_days(snapshot: &Snapshot) -> u32 {
    snapshot.config.risk.margin_period_days.round().max(1.0) as u32
}

/// The book one engine run a day margins for `portfolios`: `snapshot`'s
/// members, then (unless [`Portfolios::Current`]) one synthetic member per
/// generated portfolio ([`TestSet::book`]); and the generated set.
pub fn tested_book(snapshot: &Snapshot, portfolios: Portfolios) -> (Snapshot, Option<TestSet>) {
    if !portfolios.generated() {
        return (snapshot.clone(), None);
    }
    let set = TestSet::generate(snapshot, mpor_days(snapshot));
    (set.book(snapshot, portfolios.members()), Some(set))
}

/// Backtests the margins of `snapshot`'s members and/or its generated test
/// portfolios (`params.portfolios`) under the configured model on every day
/// of `history` from `params.from` to `params.to`. `runner.progress` counts
/// the scenarios of one engine run per observed day.
pub fn backtest<B: Backend>(
    runner: &Runner<B>,
    snapshot: &Snapshot,
    history: &PriceHistory,
    params: &BacktestParams,
) -> Result<Backtest, AnalysisError> {
    let mut one = backtest_models(runner, snapshot, history, params, &ModelSet::configured())?;
    Ok(one.remove(0))
}

/// [`backtest`] under each model of `set`, in its order, on the same days,
/// portfolios and realised losses: each model's result is the one it has
/// backtested alone.
pub fn backtest_models<B: Backend>(
    runner: &Runner<B>,
    snapshot: &Snapshot,
    history: &PriceHistory,
    params: &BacktestParams,
    set: &ModelSet,
) -> Result<Vec<Backtest>, AnalysisError> {
    let mpor = mpor_days(snapshot);
    // The engine sizes each member on its own book: the synthetic members
    // leave the real ones' margins and losses as they are, bit for bit
    // (tests/backtest_portfolios.rs).
    let (tested, test_set) = tested_book(snapshot, params.portfolios);
    let real = if params.portfolios.members() {
        snapshot.members.len()
    } else {
        0
    };
    if tested.members.is_empty() {
        let why = test_set.iter().flat_map(|t| &t.skipped);
        return Err(BacktestError::NoPortfolios(
            why.map(|s| format!("{}: {}", s.strategy, s.reason))
                .collect::<Vec<_>>()
                .join("; "),
        )
        .into());
    }
    let snapshot = &tested;
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
    let realised = Realised {
        with_collateral: with_collateral.of(runner.backend, &scenarios)?,
        without_collateral: without_collateral.of(runner.backend, &scenarios)?,
    };
    let mut out = Vec::with_capacity(set.models.len());
    for &model in &set.models {
        let under = margins_under(runner, snapshot, history, &dates, params, set, model)?;
        out.push(Backtest {
            model: model.name(),
            portfolios: portfolios(snapshot, real, test_set.as_ref(), &realised, under),
            dates: dates.clone(),
            mpor_days: mpor,
            measure: snapshot.config.risk.margin_measure,
            confidence: snapshot.config.risk.margin_confidence,
            gaps: gaps.clone(),
            test_set: test_set.clone(),
            implied_vols: vols.report.clone(),
        });
    }
    Ok(out)
}

/// Every tested member's realised losses, member-major `[m][day]`.
struct Realised {
    with_collateral: Vec<Vec<f64>>,
    without_collateral: Vec<Vec<f64>>,
}

/// The portfolios of one model: the `real` first members of `tested` alone
/// and with collateral, their groups, then the generated portfolios.
fn portfolios(
    tested: &Snapshot,
    real: usize,
    test_set: Option<&TestSet>,
    realised: &Realised,
    mut under: ModelMargins,
) -> Vec<Portfolio> {
    let days = realised.with_collateral.first().map_or(0, Vec::len);
    let var = |m: usize| under.var.as_ref().map(|v| v[m].clone());
    let mut portfolios = Vec::with_capacity(2 * tested.members.len());
    for (kind, losses) in [
        (PortfolioKind::Member, &realised.without_collateral),
        (
            PortfolioKind::MemberWithCollateral,
            &realised.with_collateral,
        ),
    ] {
        for (m, member) in tested.members[..real].iter().enumerate() {
            // Moved, not copied: members x days x paths losses.
            let simulated = match (kind, under.simulated.as_mut()) {
                (PortfolioKind::MemberWithCollateral, Some(s)) => Some(std::mem::take(&mut s[m])),
                _ => None,
            };
            portfolios.push(Portfolio {
                id: member.id.clone(),
                kind,
                margins: under.margins[m].clone(),
                losses: losses[m].clone(),
                var: var(m),
                simulated,
            });
        }
    }
    // The real members' groups only: a synthetic member is in none.
    let groups = Groups::of(&tested.members[..real]);
    for (g, name) in groups.names.iter().enumerate() {
        let sum = |rows: &[Vec<f64>]| -> Vec<f64> {
            (0..days)
                .map(|t| {
                    (0..real)
                        .filter(|&m| groups.of[m] == g)
                        .map(|m| rows[m][t])
                        .sum()
                })
                .collect()
        };
        portfolios.push(Portfolio {
            id: name.clone(),
            kind: PortfolioKind::Group,
            margins: sum(&under.margins),
            losses: sum(&realised.with_collateral),
            var: None,
            simulated: None,
        });
    }
    // A generated portfolio has no collateral: its loss is the one its
    // margin is sized on, and Z2's draws are its own.
    for (k, p) in test_set.iter().flat_map(|t| &t.portfolios).enumerate() {
        let m = real + k;
        portfolios.push(Portfolio {
            id: p.id.clone(),
            kind: p.kind(),
            margins: std::mem::take(&mut under.margins[m]),
            losses: realised.with_collateral[m].clone(),
            var: var(m),
            simulated: under.simulated.as_mut().map(|s| std::mem::take(&mut s[m])),
        });
    }
    portfolios
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
