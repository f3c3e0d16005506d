//! One run: snapshot -> compiled book -> streamed scenarios -> tails -> margins,
//! and stress scenarios -> default fund. Generic over the compute backend.

use std::ops::Range;
use std::time::{Duration, Instant};

use rayon::prelude::*;

use crate::backend::{Backend, BackendError, LossBlock};
use crate::book::{BookError, CompiledBook};
use crate::default_fund::{self, DefaultFund, DefaultFundInput};
use crate::margin::{margins, MarginRule, MemberMargin};
use crate::scenario::{stress_block, FilteredHistory, ModelError, ScenarioModel};
use crate::snapshot::{MarketData, Snapshot};
use crate::tail::{MemberTail, TailMeasure, TailMemoryError, TailPlan, TopK};

#[derive(Debug, thiserror::Error)]
pub enum RunError {
    #[error(transparent)]
    Book(#[from] BookError),
    #[error("scenario model: {0}")]
    Model(#[from] ModelError),
    #[error(transparent)]
    Backend(#[from] BackendError),
    #[error(
        "member `{member}`: {count} Monte Carlo scenario(s) gave a loss that is not a number or beyond \
         1.8e19 USD (first: scenario {scenario}, loss {loss:e} USD; the member's gross notional is \
         {gross_notional:e} USD). {cause}"
    )]
    LossOutOfRange {
        member: String,
        count: u64,
        scenario: u64,
        loss: f64,
        gross_notional: f64,
        /// What drove the loss: the scenario's largest price move, redrawn.
        cause: String,
    },
    #[error(
        "stress scenario `{scenario}` ({origin}): member `{member}` loses {loss:e} USD, not a number \
         or beyond 1.8e19 USD: check the scenario's shocks and the member's positions"
    )]
    StressOutOfRange {
        scenario: String,
        origin: String,
        member: String,
        loss: f64,
    },
    #[error(
        "an exact tail of {k} losses did not resolve every confidence: a bug, please report it"
    )]
    Unresolved { k: usize },
    #[error("{0}: lower --paths or raise --memory-limit-mib")]
    TailMemory(#[from] TailMemoryError),
    #[error("scenario.historical is set but no price history was loaded with the snapshot")]
    NoHistory,
    #[error("calibration: {0}")]
    Calibration(#[from] crate::calibrate::CalibrationError),
    #[error("the {tool:?} anti-procyclicality tool needs a price history (--apc-history)")]
    ApcNeedsHistory { tool: ApcTool },
    #[error(
        "the {tool:?} anti-procyclicality tool acts on the market's volatilities, which filtered \
         historical simulation does not use (it rescales history by its own EWMA volatilities): \
         use it with the Monte Carlo model, or --apc buffer with FHS"
    )]
    ApcUnderFhs { tool: ApcTool },
}

/// How long each stage took.
#[derive(Debug, Clone, Copy, Default, PartialEq)]
pub struct Timings {
    pub compile: Duration,
    pub monte_carlo: Duration,
    pub statistics: Duration,
    pub stress: Duration,
    pub total: Duration,
}

/// What a run computes; the report stage writes it out.
#[derive(Debug, Clone)]
pub struct RunResult {
    pub backend: String,
    pub scenarios: u64,
    /// Every confidence at which VaR/ES are reported, ascending.
    pub confidences: Vec<f64>,
    pub margin_rule: MarginRule,
    pub margins: Vec<MemberMargin>,
    /// Member-major losses in each of `snapshot.stress`.
    pub stress_losses: LossBlock,
    pub group_names: Vec<String>,
    pub group_of: Vec<usize>,
    pub default_fund: DefaultFund,
    pub option_series: usize,
    /// Scenarios of the pilot that placed the tail windows (0: none).
    pub tail_pilot: u64,
    /// Passes over the scenarios the exact tails took, pilot aside (2 when some
    /// member's rank fell outside its window).
    pub tail_passes: u32,
    /// Per member: gross notional of positions, USD.
    pub gross_notional: Vec<f64>,
    /// The anti-procyclicality tool applied to the margins, if any ([`apply_apc`]).
    pub apc: Option<ApcTool>,
    pub timings: Timings,
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

/// Runs the Monte Carlo margin and the stress default fund on `backend`.
/// `progress` is told how many scenarios each finished block held.
pub fn run<B: Backend>(
    backend: &B,
    snapshot: &Snapshot,
    limits: RunLimits,
    progress: &dyn Fn(u64),
) -> Result<RunResult, RunError> {
    let started = Instant::now();
    let config = &snapshot.config;
    let book = CompiledBook::compile(snapshot)?;
    let model = scenario_model(snapshot, &book)?;
    let plan = backend.prepare(&book, &model)?;
    let compiled = Instant::now();

    let confidences = confidences(snapshot);
    let paths = config.scenario.paths;
    let block = backend.block_size(&plan, config.scenario.block_size.max(1) as u64);
    let tail_plan =
        TailPlan::for_confidences(paths, &confidences, book.members, limits.tail_memory_bytes)?;
    let streamer = Streamer {
        backend,
        plan: &plan,
        block,
        limits,
    };
    let (tails, narrowing_passes) = streamer.tails(&tail_plan, book.members, progress)?;
    let simulated = Instant::now();

    if let Some((m, out)) = tails
        .iter()
        .enumerate()
        .find_map(|(m, t)| Some((m, t.out_of_range()?)))
    {
        return Err(RunError::LossOutOfRange {
            member: snapshot.members[m].id.clone(),
            count: out.count,
            scenario: out.first_scenario,
            loss: out.first_loss,
            gross_notional: book.gross_notional[m],
            cause: largest_move(backend, &plan, snapshot, &model, out.first_scenario),
        });
    }
    let (measures, resolving_passes) = streamer.measures(tails, &confidences, tail_plan.k())?;
    let margin_rule = MarginRule {
        measure: config.risk.margin_measure,
        confidence: config.risk.margin_confidence,
    };
    let margins = margins(measures, margin_rule, &book.collateral_value);
    let measured = Instant::now();

    let stress_losses = backend.revalue(&plan, &stress_block(&snapshot.stress, book.assets))?;
    check_stress_losses(snapshot, &stress_losses)?;
    let (group_names, group_of) = groups(snapshot);
    let initial_margin: Vec<f64> = margins.iter().map(|m| m.initial_margin).collect();
    let contributions: Vec<f64> = snapshot.members.iter().map(|m| m.df_contribution).collect();
    let default_fund = default_fund::size(&DefaultFundInput {
        losses: &stress_losses,
        collateral: &book.collateral_value,
        group_of: &group_of,
        group_names: &group_names,
        initial_margin: &initial_margin,
        contributions: &contributions,
        cover: config.default_fund.cover,
        skin_in_the_game: config.default_fund.skin_in_the_game,
        allocation: config.default_fund.allocation,
    });
    let finished = Instant::now();

    Ok(RunResult {
        backend: backend.describe(),
        scenarios: paths,
        confidences,
        margin_rule,
        margins,
        stress_losses,
        group_names,
        group_of,
        default_fund,
        option_series: book.options.len(),
        tail_pilot: tail_plan.pilot(),
        tail_passes: narrowing_passes + resolving_passes - 1,
        gross_notional: book.gross_notional.clone(),
        apc: None,
        timings: Timings {
            compile: compiled - started,
            monte_carlo: simulated - compiled,
            statistics: measured - simulated,
            stress: finished - measured,
            total: finished - started,
        },
    })
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
    let tails = match (model.dof(), model.jumps()) {
        (Some(dof), _) => format!("Student-t innovations (nu = {dof}) have no bound on a move"),
        (None, Some(_)) => "jumps widen the tails".to_string(),
        (None, None) => "Gaussian tails".to_string(),
    };
    format!(
        "In that scenario {} moves by a factor of {:.3e} (a log move of {:.1}, {:.0} standard deviations of \
         its {:.0}% volatility over {days} days; {tails}): a shorter margin period, a lower volatility, \
         Gaussian innovations or smaller positions keep losses in range",
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
                snapshot.valuation_date,
                historical,
                config.risk.margin_period_days,
            )?)
        }
    })
}

/// Streams a run's scenarios through a backend, in blocks, into member tails.
pub struct Streamer<'a, B: Backend> {
    pub backend: &'a B,
    pub plan: &'a B::Plan,
    /// Scenarios per block.
    pub block: u64,
    pub limits: RunLimits,
}

impl<B: Backend> Streamer<'_, B> {
    /// Streams scenarios `range` into `tails`, telling `progress` each block's size.
    pub fn pass(
        &self,
        range: Range<u64>,
        tails: &mut [MemberTail],
        progress: &dyn Fn(u64),
    ) -> Result<(), RunError> {
        let mut start = range.start;
        while start < range.end {
            let end = (start + self.block).min(range.end);
            self.backend.accumulate(self.plan, start..end, tails)?;
            progress(end - start);
            start = end;
        }
        Ok(())
    }

    /// Every member's VaR and ES at `confidences` from its streamed `tails`,
    /// and the passes over the scenarios that took (1, or 2 where some member's
    /// windows missed a rank).
    pub fn measures(
        &self,
        tails: Vec<MemberTail>,
        confidences: &[f64],
        k: usize,
    ) -> Result<(Vec<Vec<TailMeasure>>, u32), RunError> {
        let paths = tails.first().map_or(0, MemberTail::count);
        self.resolve(tails, paths, k, |t| t.measures(paths, confidences))
    }

    /// `query` on each member's tail over scenarios `0..paths`; members whose
    /// windows missed a rank (see [`crate::tail`]) are streamed again with exact
    /// windows of `k`. Also returns the passes taken (1 or 2).
    fn resolve<T: Send>(
        &self,
        tails: Vec<MemberTail>,
        paths: u64,
        k: usize,
        query: impl Fn(&MemberTail) -> Option<T> + Sync,
    ) -> Result<(Vec<T>, u32), RunError> {
        let mut answers: Vec<Option<T>> = tails.par_iter().map(&query).collect();
        drop(tails);
        let unresolved = answers.iter().filter(|m| m.is_none()).count();
        let mut passes = 1;
        if unresolved > 0 {
            let needed = unresolved as u64 * TopK::capacity(k) as u64 * 16;
            if needed > self.limits.tail_memory_bytes {
                return Err(TailMemoryError {
                    scenarios: paths,
                    members: unresolved,
                    needed_mib: needed.div_ceil(1 << 20),
                    limit_mib: self.limits.tail_memory_bytes >> 20,
                }
                .into());
            }
            let mut again: Vec<MemberTail> = answers
                .iter()
                .map(|m| match m {
                    None => MemberTail::exact(k),
                    Some(_) => MemberTail::ignore(),
                })
                .collect();
            self.pass(0..paths, &mut again, &|_| {})?;
            for (m, t) in answers.iter_mut().zip(&again) {
                if m.is_none() {
                    *m = query(t);
                }
            }
            passes = 2;
        }
        let answers = answers
            .into_iter()
            .map(|m| m.ok_or(RunError::Unresolved { k }))
            .collect::<Result<_, _>>()?;
        Ok((answers, passes))
    }

    /// Streams scenarios `0..tail_plan.scenarios` into member tails laid out by
    /// `tail_plan`, and runs them again while some window only counted its
    /// losses, narrowing each rank to the bin it fell in (see [`TailPlan`]).
    /// Returns the tails and the passes taken.
    pub fn tails(
        &self,
        tail_plan: &TailPlan,
        members: usize,
        progress: &dyn Fn(u64),
    ) -> Result<(Vec<MemberTail>, u32), RunError> {
        let n = tail_plan.scenarios;
        let mut tails = self.first_tails(tail_plan, members)?;
        self.pass(0..n, &mut tails, progress)?;
        let mut passes = 1;
        if let Some((capacity, bins)) = tail_plan.narrowing() {
            while tails.iter().any(MemberTail::is_counting) {
                tails = tails
                    .into_iter()
                    .map(|t| t.narrowed(&tail_plan.ranks, tail_plan.k(), capacity, bins))
                    .collect();
                self.pass(0..n, &mut tails, &|_| {})?;
                passes += 1;
            }
        }
        Ok((tails, passes))
    }

    /// The member tails a run over `tail_plan.scenarios` starts with: exact
    /// windows, or windows placed by a pilot over the first scenarios, whose
    /// own tails are laid out the same way (see [`TailPlan`]).
    pub fn first_tails(
        &self,
        tail_plan: &TailPlan,
        members: usize,
    ) -> Result<Vec<MemberTail>, RunError> {
        let pilot = tail_plan.pilot();
        if pilot == 0 {
            return Ok((0..members)
                .map(|_| MemberTail::exact(tail_plan.k()))
                .collect());
        }
        let pilot_plan = tail_plan.pilot_plan(members, self.limits.tail_memory_bytes)?;
        let (pilot_tails, _) = self.tails(&pilot_plan, members, &|_| {})?;
        let (pilot_losses, _) = self.resolve(pilot_tails, pilot, pilot_plan.k(), |t| {
            t.losses_at(&pilot_plan.ranks)
        })?;
        Ok(pilot_losses
            .iter()
            .map(|losses| {
                tail_plan.windows_from_pilot(|r| {
                    let i = pilot_plan.ranks.partition_point(|&x| x < r);
                    losses[i]
                })
            })
            .collect())
    }
}

/// A historical window and what the book would have lost over it.
#[derive(Debug, Clone)]
pub struct WindowLoss {
    pub scenario: crate::snapshot::StressScenario,
    /// Uncovered loss of the configured number of largest groups (Cover-2).
    pub cover_n: f64,
    /// The groups that drive `cover_n`, largest first, with their uncovered loss.
    pub groups: Vec<(String, f64)>,
    /// Sum over members of loss beyond collateral.
    pub uncovered_total: f64,
}

/// Every `days`-day window of `history` as a stress scenario on `snapshot`'s
/// book, the worst `top` by the configured cover (uncovered loss of the largest
/// groups, as the default fund is sized), worst first.
pub fn worst_windows<B: Backend>(
    backend: &B,
    snapshot: &Snapshot,
    history: &crate::history::PriceHistory,
    days: u32,
    top: usize,
) -> Result<Vec<WindowLoss>, RunError> {
    let book = CompiledBook::compile(snapshot)?;
    let model = scenario_model(snapshot, &book)?;
    let windows = crate::scenario::historical_windows(
        history,
        &snapshot.market,
        &book.assets_depended_on(),
        days,
    )?;
    let plan = backend.prepare(&book, &model)?;
    let losses = backend.revalue(&plan, &stress_block(&windows, book.assets))?;
    let (group_names, group_of) = groups(snapshot);
    let members = book.members;
    let zeros = vec![0.0; members];
    let input = DefaultFundInput {
        losses: &losses,
        collateral: &book.collateral_value,
        group_of: &group_of,
        group_names: &group_names,
        initial_margin: &zeros,
        contributions: &zeros,
        cover: snapshot.config.default_fund.cover,
        skin_in_the_game: 0.0,
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
    Ok(order
        .into_iter()
        .take(top)
        .map(|s| {
            let cover = &fund.per_scenario[s];
            let mut by_group: Vec<(String, f64)> = group_names
                .iter()
                .cloned()
                .zip(cover.group_uncovered.iter().copied())
                .collect();
            by_group.sort_by(|a, b| b.1.total_cmp(&a.1));
            by_group.truncate(snapshot.config.default_fund.cover);
            WindowLoss {
                scenario: windows[s].clone(),
                cover_n: cover.cover_n,
                groups: by_group,
                uncovered_total: (0..members)
                    .map(|m| default_fund::uncovered(&input, s, m))
                    .sum(),
            }
        })
        .collect())
}

/// One of EMIR's anti-procyclicality tools applied to a run's margins
/// (RTS 153/2013 Art. 28; see [`crate::margin::procyclicality`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, clap::ValueEnum)]
#[serde(rename_all = "kebab-case")]
pub enum ApcTool {
    /// Collect 25% above the calculated margin (the buffer a rise may use up).
    Buffer,
    /// 75% the calculated margin, 25% the margin under stressed volatilities.
    StressedWeight,
    /// No less than the margin under the 10-year volatility.
    Floor,
}

/// Applies `tool` to `result`'s margins (drawing the stressed or floor margins
/// with `backend` where the tool needs them, from `history`), and sizes the
/// default fund's allocation again on the new margins. `result.apc` records it.
pub fn apply_apc<B: Backend>(
    backend: &B,
    snapshot: &Snapshot,
    result: &mut RunResult,
    tool: ApcTool,
    history: Option<&crate::history::PriceHistory>,
) -> Result<(), RunError> {
    use crate::margin::procyclicality::{buffered, floored, stressed_weighted};
    const SHARE: f64 = 0.25;
    let calculated: Vec<f64> = result.margins.iter().map(|m| m.initial_margin).collect();
    let other = |pick: fn((MarketData, MarketData)) -> MarketData| -> Result<Vec<f64>, RunError> {
        // FHS scales history by its own EWMA volatilities and never reads the
        // market's: a stressed or floor market would change nothing.
        if snapshot.config.scenario.historical.is_some() {
            return Err(RunError::ApcUnderFhs { tool });
        }
        let history = history.ok_or(RunError::ApcNeedsHistory { tool })?;
        let mut s = snapshot.clone();
        s.market = pick(apc_markets(
            history,
            &snapshot.market,
            snapshot.valuation_date,
        )?);
        let r = run(backend, &s, RunLimits::default(), &|_| {})?;
        Ok(r.margins.iter().map(|m| m.initial_margin).collect())
    };
    let adjusted = match tool {
        ApcTool::Buffer => calculated
            .iter()
            .map(|&im| buffered(&[im], SHARE)[0])
            .collect(),
        ApcTool::StressedWeight => stressed_weighted(&calculated, &other(|m| m.0)?, SHARE),
        ApcTool::Floor => floored(&calculated, &other(|m| m.1)?),
    };
    for (m, im) in result.margins.iter_mut().zip(adjusted) {
        m.initial_margin = im;
        m.excess = m.collateral - im;
    }
    let collateral: Vec<f64> = result.margins.iter().map(|m| m.collateral).collect();
    let initial_margin: Vec<f64> = result.margins.iter().map(|m| m.initial_margin).collect();
    let contributions: Vec<f64> = snapshot.members.iter().map(|m| m.df_contribution).collect();
    let config = &snapshot.config.default_fund;
    result.default_fund = default_fund::size(&DefaultFundInput {
        losses: &result.stress_losses,
        collateral: &collateral,
        group_of: &result.group_of,
        group_names: &result.group_names,
        initial_margin: &initial_margin,
        contributions: &contributions,
        cover: config.cover,
        skin_in_the_game: config.skin_in_the_game,
        allocation: config.allocation,
    });
    result.apc = Some(tool);
    Ok(())
}

/// A book's total initial margin through history (see [`margin_history`]).
#[derive(Debug, Clone, PartialEq)]
pub struct MarginHistory {
    pub dates: Vec<crate::snapshot::Date>,
    /// The calculated margin B_t.
    pub base: Vec<f64>,
    /// Under stressed volatilities S_t: each asset's highest EWMA volatility up to t.
    pub stressed: Vec<f64>,
    /// Under floor volatilities F_t: each asset's realised volatility over the
    /// ten years (or all the history) to t, where above its EWMA.
    pub floor: Vec<f64>,
}

/// The markets of EMIR's APC tools for `market` on `date`: with each asset's
/// volatility at its highest EWMA value in `history` up to the date (stressed),
/// and at least its realised volatility over the ten years (or all the
/// history) to the date (floor). Assets the history lacks keep theirs.
pub fn apc_markets(
    history: &crate::history::PriceHistory,
    market: &crate::snapshot::MarketData,
    date: crate::snapshot::Date,
) -> Result<(crate::snapshot::MarketData, crate::snapshot::MarketData), RunError> {
    use crate::calibrate::{CalibrationError, Ewma};
    use crate::pricing::DAYS_PER_YEAR;
    const FLOOR_DAYS: i32 = 3650;
    let returns = history.returns();
    let ewma = Ewma::new(Ewma::RISKMETRICS_LAMBDA).map_err(CalibrationError::from)?;
    let (mut stressed, mut floor) = (market.clone(), market.clone());
    let end = returns.dates.partition_point(|&d| d <= date);
    let floor_start = returns
        .dates
        .partition_point(|&d| d < date.add_days(1 - FLOOR_DAYS));
    for (a, asset) in market.assets.iter().enumerate() {
        let Some(column) = history.asset_index(&asset.id) else {
            continue;
        };
        let series: Vec<f64> = (0..end)
            .map(|t| returns.get(t, column))
            .filter(|x| !x.is_nan())
            .collect();
        let peak = ewma
            .variances(&series)
            .map_err(CalibrationError::from)?
            .into_iter()
            .fold(0.0, f64::max);
        stressed.assets[a].volatility = (peak * DAYS_PER_YEAR).sqrt();
        let long: Vec<f64> = (floor_start..end)
            .map(|t| returns.get(t, column))
            .filter(|x| !x.is_nan())
            .collect();
        let long_variance = long.iter().map(|r| r * r).sum::<f64>() / long.len().max(1) as f64;
        floor.assets[a].volatility = asset.volatility.max((long_variance * DAYS_PER_YEAR).sqrt());
    }
    Ok((stressed, floor))
}

/// The total initial margin of `snapshot`'s book on each of `dates`, its
/// market's volatilities and correlation calibrated to `history` as of that
/// date (EWMA over `lookback_days`, sample correlation); positions, prices and
/// the scenario seed stay the snapshot's, so the series shows the margin
/// model's own procyclicality.
pub fn margin_history<B: Backend>(
    backend: &B,
    snapshot: &Snapshot,
    history: &crate::history::PriceHistory,
    dates: &[crate::snapshot::Date],
    lookback_days: u32,
) -> Result<MarginHistory, RunError> {
    use crate::calibrate::{calibrate_market, CalibrationSpec};
    let total = |market: &crate::snapshot::MarketData| -> Result<f64, RunError> {
        let mut s = snapshot.clone();
        s.market = market.clone();
        s.stress.clear();
        let r = run(backend, &s, RunLimits::default(), &|_| {})?;
        Ok(r.margins.iter().map(|m| m.initial_margin).sum())
    };
    let mut out = MarginHistory {
        dates: dates.to_vec(),
        base: Vec::new(),
        stressed: Vec::new(),
        floor: Vec::new(),
    };
    for &date in dates {
        let mut market = snapshot.market.clone();
        let spec = CalibrationSpec {
            as_of: Some(date),
            lookback_days,
            fit_garch: false,
            ..CalibrationSpec::default()
        };
        calibrate_market(history, &mut market, &spec)?;
        let (stressed, floor) = apc_markets(history, &market, date)?;
        out.base.push(total(&market)?);
        out.stressed.push(total(&stressed)?);
        out.floor.push(total(&floor)?);
    }
    Ok(out)
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

/// Affiliate groups in order of first appearance, and each member's group.
pub fn groups(snapshot: &Snapshot) -> (Vec<String>, Vec<usize>) {
    let mut names: Vec<String> = Vec::new();
    let group_of = snapshot
        .members
        .iter()
        .map(|m| match names.iter().position(|g| *g == m.group) {
            Some(i) => i,
            None => {
                names.push(m.group.clone());
                names.len() - 1
            }
        })
        .collect();
    (names, group_of)
}
