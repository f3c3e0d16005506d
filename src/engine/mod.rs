//! One run: snapshot -> compiled book -> streamed scenarios -> tails -> margins,
//! and stress scenarios -> default fund -> default waterfalls. Generic over the
//! compute backend.

mod default_management;
mod error;
mod shard;
mod stages;
mod stream;

use std::time::{Duration, Instant};

pub use error::RunError;
pub use shard::{
    merge, plan_part, run_part, run_resumable, Checkpoints, MonteCarloPart, PartRun, Parts, Pass,
};
pub use stream::Streamer;

use crate::backend::{Backend, LossBlock, PipelineStats};
use crate::book::collateral::CountedCollateral;
use crate::book::CompiledBook;
use crate::default_fund::{self, DefaultFund, DefaultFundInput, Groups};
use crate::default_management::close_out::CloseOut;
use crate::default_management::depletion::MonteCarloDepletion;
use crate::default_management::waterfall::{self, StressCases, StressWaterfalls};
use crate::default_management::{LiquidityStress, ReverseStress};
use crate::input::Date;
use crate::margin::distribution::{self, LossDistribution};
use crate::margin::{MarginResult, MemberMargin};
use crate::scenario::{FilteredHistory, ScenarioModel};
use crate::snapshot::Snapshot;
use stages::{SecondPass, Stages};

/// How long each stage took.
#[derive(Debug, Clone, Copy, Default, PartialEq)]
pub struct Timings {
    pub compile: Duration,
    pub monte_carlo: Duration,
    pub statistics: Duration,
    pub stress: Duration,
    /// Drawing the largest margin's loss distribution (0 without one).
    pub distribution: Duration,
    /// The reverse and liquidity stresses' revaluations (0 without them).
    pub reverse_stress: Duration,
    pub total: Duration,
}

/// What a run computes, one typed result per stage; the report stage writes
/// each out ([`crate::report`]): a new stage is one more field here and its
/// own report section.
#[derive(Debug, Clone)]
pub struct RunResult {
    pub run: RunInfo,
    /// Each holding's value after haircut, what the eligibility rules cut
    /// and what counts (methodology 17.6): what the margin is held against.
    pub collateral: CountedCollateral,
    pub margin: MarginResult,
    pub stress: StressResult,
    pub default_fund: DefaultFund,
    /// What liquidating each member's portfolio would cost were it to
    /// default, reported beside its stressed loss.
    pub close_out: CloseOut,
    /// Every stress scenario's Cover-n default walked through the waterfall.
    pub waterfall: StressWaterfalls,
    /// The largest margin's loss distribution, for the report's chart: the
    /// run's own ([`run`]); `None` for a margin at a past date
    /// ([`run_as_of`], which analyses repeat day after day) or without members.
    pub distribution: Option<LossDistribution>,
    /// How far each stress scenario is from exhausting the prefunded
    /// resources: the run's own, `None` for a margin at a past date.
    pub reverse_stress: Option<ReverseStress>,
    /// The cash each settlement currency needs when each stress scenario's
    /// Cover-n groups default: the run's own, `None` for a past date.
    pub liquidity: Option<LiquidityStress>,
    /// How deep the Cover-n defaults of each Monte Carlo scenario cut into
    /// the prefunded resources: the run's own, `None` for a past date.
    pub fund_depletion: Option<MonteCarloDepletion>,
}

/// How the run was carried out.
#[derive(Debug, Clone)]
pub struct RunInfo {
    pub backend: String,
    pub scenarios: u64,
    pub option_series: usize,
    /// Scenarios of the pilot that placed the tail windows (0: none).
    pub tail_pilot: u64,
    /// Passes over the scenarios the exact tails took, pilot aside (2 when some
    /// member's rank fell outside its window).
    pub tail_passes: u32,
    pub timings: Timings,
    /// What the device pipeline did over the Monte Carlo stage (`None` on the CPU).
    pub pipeline: Option<PipelineStats>,
}

/// Every member's loss in every stress scenario, and the affiliate groups the
/// default fund sums them by.
#[derive(Debug, Clone)]
pub struct StressResult {
    /// Member-major losses in each of `snapshot.stress`.
    pub losses: LossBlock,
    pub groups: Groups,
}

/// Limits a run must respect.
#[derive(Debug, Clone, Copy)]
pub struct RunLimits {
    /// Memory the member tails may take; the run picks the cheapest exact layout
    /// within it ([`TailPlan`]).
    pub tail_memory_bytes: u64,
}

impl RunLimits {
    pub const DEFAULT_TAIL_MEMORY_MIB: u64 = 640;
}

impl Default for RunLimits {
    fn default() -> Self {
        Self {
            tail_memory_bytes: Self::DEFAULT_TAIL_MEMORY_MIB << 20,
        }
    }
}

/// What every run of an analysis shares: the backend, the user's limits and
/// the progress callback, so that an analysis which runs the engine many
/// times honours them as `run` does.
pub struct Runner<'a, B: Backend> {
    pub backend: &'a B,
    pub limits: RunLimits,
    /// Told how many scenarios each finished block held.
    pub progress: &'a dyn Fn(u64),
}

impl<B: Backend> Runner<'_, B> {
    pub fn run(&self, snapshot: &Snapshot) -> Result<RunResult, RunError> {
        run(self.backend, snapshot, self.limits, self.progress)
    }

    /// [`run`] with filtered historical simulation's look-back ending at
    /// `as_of` instead of the valuation date (the margin at a past date).
    pub fn run_as_of(&self, snapshot: &Snapshot, as_of: Date) -> Result<RunResult, RunError> {
        run_as_of(self.backend, snapshot, as_of, self.limits, self.progress)
    }
}

/// Runs the Monte Carlo margin and the stress default fund on `backend`, with
/// the largest margin's loss distribution and the reverse stress. `progress`
/// is told how many scenarios each finished block held.
pub fn run<B: Backend>(
    backend: &B,
    snapshot: &Snapshot,
    limits: RunLimits,
    progress: &dyn Fn(u64),
) -> Result<RunResult, RunError> {
    run_with(
        backend,
        snapshot,
        snapshot.valuation_date,
        limits,
        progress,
        true,
    )
}

/// [`run`] without the loss distribution and the reverse stress, FHS's
/// look-back ending at `as_of` ([`scenario_model_as_of`]).
pub fn run_as_of<B: Backend>(
    backend: &B,
    snapshot: &Snapshot,
    as_of: Date,
    limits: RunLimits,
    progress: &dyn Fn(u64),
) -> Result<RunResult, RunError> {
    run_with(backend, snapshot, as_of, limits, progress, false)
}

fn run_with<B: Backend>(
    backend: &B,
    snapshot: &Snapshot,
    as_of: Date,
    limits: RunLimits,
    progress: &dyn Fn(u64),
    own_analyses: bool,
) -> Result<RunResult, RunError> {
    let started = Instant::now();
    let mut stages = Stages::new(backend, snapshot, as_of, limits, own_analyses)?;
    let monte_carlo = stages.monte_carlo(progress)?;
    stages.conclude(monte_carlo, SecondPass::Stream, started)
}

/// The histogram of the largest margin's losses in scenarios
/// `0..min(paths, SAMPLE_SCENARIOS)` ([`distribution`]), revalued in
/// chunks that keep every member's losses of a chunk within 64 MiB.
fn loss_distribution<B: Backend>(
    backend: &B,
    plan: &B::Plan,
    margin: &MarginResult,
    paths: u64,
) -> Result<Option<LossDistribution>, RunError> {
    let margins: Vec<f64> = margin.members.iter().map(|m| m.initial_margin).collect();
    let Some(member) = distribution::largest_margin(&margins) else {
        return Ok(None);
    };
    let scenarios = paths.min(distribution::SAMPLE_SCENARIOS);
    let chunk = ((64 << 20) / (8 * margins.len() as u64)).clamp(1, scenarios.max(1));
    let mut losses = Vec::with_capacity(scenarios as usize);
    let mut first = 0;
    while first < scenarios {
        let end = (first + chunk).min(scenarios);
        let block = backend.revalue(plan, &backend.scenarios(plan, first..end)?)?;
        losses.extend((0..(end - first) as usize).map(|s| block.loss(member, s)));
        first = end;
    }
    Ok(Some(LossDistribution {
        member,
        scenarios,
        bins: distribution::histogram(&losses, distribution::BINS),
    }))
}

/// The default fund `snapshot` configures, sized on the run's stress losses
/// against each member's collateral and allocated on its margin.
pub fn size_default_fund(
    snapshot: &Snapshot,
    stress: &StressResult,
    margins: &[MemberMargin],
) -> DefaultFund {
    let config = &snapshot.config.default_fund;
    let collateral: Vec<f64> = margins.iter().map(|m| m.collateral).collect();
    let initial_margin: Vec<f64> = margins.iter().map(|m| m.initial_margin).collect();
    let contributions: Vec<f64> = snapshot.members.iter().map(|m| m.df_contribution).collect();
    default_fund::size(&DefaultFundInput {
        losses: &stress.losses,
        collateral: &collateral,
        group_of: &stress.groups.of,
        group_names: &stress.groups.names,
        initial_margin: &initial_margin,
        contributions: &contributions,
        cover: config.cover,
        allocation: config.allocation,
    })
}

/// Every stress scenario's Cover-n default walked through the waterfall
/// `snapshot` configures, against each member's collateral, the defaulters'
/// portfolios closed out at `close_out`'s cost (methodology 9.4, 9.5).
pub fn walk_waterfalls(
    snapshot: &Snapshot,
    stress: &StressResult,
    margins: &[MemberMargin],
    fund: &DefaultFund,
    close_out: &CloseOut,
) -> Result<StressWaterfalls, RunError> {
    let collateral: Vec<f64> = margins.iter().map(|m| m.collateral).collect();
    Ok(waterfall::walk_stress(&StressCases {
        snapshot,
        losses: &stress.losses,
        collateral: &collateral,
        group_of: &stress.groups.of,
        fund,
        close_out: &close_out.member_cost,
    })?)
}

/// Says what drove scenario `n`'s loss: its largest price move, redrawn (a
/// scenario is a pure function of the seed and its index), in standard
/// deviations of the asset's move over the margin period.
fn largest_move<B: Backend>(
    backend: &B,
    plan: &B::Plan,
    snapshot: &Snapshot,
    model: &ScenarioModel,
    n: u64,
) -> String {
    let Ok(block) = backend.scenarios(plan, n..n + 1) else {
        return String::new();
    };
    let log_move = |r: f64| (1.0 + r).ln();
    let Some((a, &r)) = block
        .returns_of(0)
        .iter()
        .enumerate()
        .max_by(|x, y| log_move(*x.1).abs().total_cmp(&log_move(*y.1).abs()))
    else {
        return String::new();
    };
    let asset = &snapshot.market.assets[a];
    let days = snapshot.config.risk.margin_period_days;
    let sd = asset.volatility * (days / crate::pricing::DAYS_PER_YEAR).sqrt();
    let tails = match (model.dof(), model.nig_shape(), model.jumps()) {
        (Some(dof), _, _) => format!("Student-t innovations (nu = {dof}) have no bound on a move"),
        (None, Some(shape), _) => format!("NIG innovations (shape {shape}) have semi-heavy tails"),
        (None, None, Some(_)) => "jumps widen the tails".to_string(),
        (None, None, None) => "Gaussian tails".to_string(),
    };
    format!(
        "In that scenario {} moves by a factor of {:.3e} (a log move of {:.1}, {:.0} standard deviations of \
         its {:.0}% volatility over {days} days; {tails}): a shorter margin period, a lower volatility, \
         lighter-tailed innovations or smaller positions keep losses in range",
        asset.id,
        1.0 + r,
        log_move(r),
        log_move(r).abs() / sd,
        100.0 * asset.volatility
    )
}

/// Refuses a stress loss that is not a finite number within the range the
/// default fund's sums are exact in: a NaN would otherwise count as no loss.
fn check_stress_losses(snapshot: &Snapshot, losses: &LossBlock) -> Result<(), RunError> {
    for (s, stress) in snapshot.stress.iter().enumerate() {
        for (m, member) in snapshot.members.iter().enumerate() {
            let loss = losses.loss(m, s);
            if !crate::tail::within_range(loss) {
                return Err(RunError::StressOutOfRange {
                    scenario: stress.name.clone(),
                    origin: stress.origin.clone(),
                    member: member.id.clone(),
                    loss,
                });
            }
        }
    }
    Ok(())
}

/// The scenario model `snapshot` configures for `book`: Monte Carlo, or
/// filtered historical simulation on the snapshot's history.
pub fn scenario_model(snapshot: &Snapshot, book: &CompiledBook) -> Result<ScenarioModel, RunError> {
    scenario_model_as_of(snapshot, book, snapshot.valuation_date)
}

/// [`scenario_model`] with FHS's look-back ending at `as_of` (the Monte Carlo
/// model does not depend on the date).
pub fn scenario_model_as_of(
    snapshot: &Snapshot,
    book: &CompiledBook,
    as_of: Date,
) -> Result<ScenarioModel, RunError> {
    let config = &snapshot.config;
    let model = ScenarioModel::new(
        &snapshot.market,
        &config.risk,
        &config.scenario,
        book.vol_assets.clone(),
    )?;
    Ok(match &config.scenario.historical {
        None => model,
        Some(historical) => {
            let history = snapshot.history.as_ref().ok_or(RunError::NoHistory)?;
            model.with_history(FilteredHistory::new(
                history,
                &snapshot.market,
                as_of,
                historical,
                config.risk.margin_period_days,
            )?)
        }
    })
}

/// Every configured confidence (VaR, ES and the margin's), ascending, distinct.
pub fn confidences(snapshot: &Snapshot) -> Vec<f64> {
    let risk = &snapshot.config.risk;
    let mut all: Vec<f64> = risk
        .var_confidence
        .iter()
        .chain(&risk.es_confidence)
        .copied()
        .collect();
    all.push(risk.margin_confidence);
    all.sort_by(f64::total_cmp);
    all.dedup_by(|a, b| (*a - *b).abs() < 1e-12);
    all
}
