//! One run: snapshot -> compiled book -> streamed scenarios -> tails -> margins,
//! and stress scenarios -> default fund. Generic over the compute backend.

use std::ops::Range;
use std::time::{Duration, Instant};

use crate::backend::{Backend, BackendError, LossBlock};
use crate::book::{BookError, CompiledBook};
use crate::default_fund::{self, DefaultFund, DefaultFundInput};
use crate::margin::{margins, MarginRule, MemberMargin};
use crate::scenario::{stress_block, ModelError, ScenarioModel};
use crate::snapshot::Snapshot;
use crate::tail::{required_top, TopK};

#[derive(Debug, thiserror::Error)]
pub enum RunError {
    #[error(transparent)]
    Book(#[from] BookError),
    #[error("scenario model: {0}")]
    Model(#[from] ModelError),
    #[error(transparent)]
    Backend(#[from] BackendError),
    #[error(
        "member `{member}` had {count} non-finite losses: check its positions and market data"
    )]
    NonFinite { member: String, count: u64 },
    #[error("exact tails at {paths} paths for {members} members need {needed_mib} MiB, over the {limit_mib} MiB limit: lower --paths or raise --memory-limit-mib")]
    TailMemory {
        paths: u64,
        members: usize,
        needed_mib: u64,
        limit_mib: u64,
    },
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
    /// Passes over the scenarios the exact tails took (2 when a pilot hint failed).
    pub tail_passes: u32,
    /// Per member: gross notional of positions, USD.
    pub gross_notional: Vec<f64>,
    pub timings: Timings,
}

/// Limits a run must respect.
#[derive(Debug, Clone, Copy)]
pub struct RunLimits {
    /// Memory the exact tail buffers may take.
    pub tail_memory_mib: u64,
}

impl Default for RunLimits {
    fn default() -> Self {
        Self {
            tail_memory_mib: 8 * 1024,
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
    let model = ScenarioModel::new(
        &snapshot.market,
        &config.risk,
        &config.scenario,
        book.vol_assets.clone(),
    )?;
    let plan = backend.prepare(&book, &model)?;
    let compiled = Instant::now();

    let confidences = confidences(snapshot);
    let paths = config.scenario.paths;
    let k = required_top(paths, confidences.iter().copied());
    let needed_mib = (book.members as u64 * TopK::capacity(k) as u64 * 16).div_ceil(1 << 20);
    if needed_mib > limits.tail_memory_mib {
        return Err(RunError::TailMemory {
            paths,
            members: book.members,
            needed_mib,
            limit_mib: limits.tail_memory_mib,
        });
    }
    let block = config.scenario.block_size.max(1) as u64;
    let hints = pilot_hints(backend, &plan, paths, k, book.members, block)?;
    let mut tails: Vec<TopK> = hints.iter().map(|&h| TopK::with_hint(k, h)).collect();
    stream(backend, &plan, 0..paths, block, &mut tails, progress)?;
    let mut tail_passes = 1;
    if tails.iter().any(|t| !t.is_complete()) {
        // A hint was above some member's k-th loss: run again without hints.
        tails = (0..book.members).map(|_| TopK::new(k)).collect();
        stream(backend, &plan, 0..paths, block, &mut tails, &|_| {})?;
        tail_passes = 2;
    }
    let simulated = Instant::now();

    if let Some((m, t)) = tails.iter().enumerate().find(|(_, t)| t.non_finite() > 0) {
        return Err(RunError::NonFinite {
            member: snapshot.members[m].id.clone(),
            count: t.non_finite(),
        });
    }
    let margin_rule = MarginRule {
        measure: config.risk.margin_measure,
        confidence: config.risk.margin_confidence,
    };
    let margins = margins(
        &tails,
        paths,
        &confidences,
        margin_rule,
        &book.collateral_value,
    );
    let measured = Instant::now();

    let stress_losses = backend.revalue(&plan, &stress_block(&snapshot.stress, book.assets))?;
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
        tail_passes,
        gross_notional: book.gross_notional.clone(),
        timings: Timings {
            compile: compiled - started,
            monte_carlo: simulated - compiled,
            statistics: measured - simulated,
            stress: finished - measured,
            total: finished - started,
        },
    })
}

/// Streams scenarios `range` through the backend in blocks into `tails`.
pub fn stream<B: Backend>(
    backend: &B,
    plan: &B::Plan,
    range: Range<u64>,
    block: u64,
    tails: &mut [TopK],
    progress: &dyn Fn(u64),
) -> Result<(), RunError> {
    let mut start = range.start;
    while start < range.end {
        let end = (start + block).min(range.end);
        backend.accumulate(plan, start..end, tails)?;
        progress(end - start);
        start = end;
    }
    Ok(())
}

/// Per-member loss levels that the final k-th largest of `paths` losses is all but
/// certain to exceed: the (1.5 k/paths)-quantile from the top of a pilot run over
/// the first `128 paths / k` scenarios. With 192 pilot losses above it, its true
/// exceedance is 1.5 k/paths within +-22% at three standard deviations, so above
/// k/paths; if not, the caller notices ([`TopK::is_complete`]) and runs again.
/// Runs too short for a pilot to pay get no hint (-inf).
pub fn pilot_hints<B: Backend>(
    backend: &B,
    plan: &B::Plan,
    paths: u64,
    k: usize,
    members: usize,
    block: u64,
) -> Result<Vec<f64>, RunError> {
    let fraction = k as f64 / paths as f64;
    let pilot = ((128.0 / fraction).ceil() as u64).max(block);
    if fraction > 0.1 || pilot * 8 > paths {
        return Ok(vec![f64::NEG_INFINITY; members]);
    }
    let pilot_k = (1.5 * fraction * pilot as f64).ceil() as usize;
    let mut tails: Vec<TopK> = (0..members).map(|_| TopK::new(pilot_k)).collect();
    stream(backend, plan, 0..pilot, block, &mut tails, &|_| {})?;
    Ok(tails
        .iter()
        .map(|t| t.kth().unwrap_or(f64::NEG_INFINITY))
        .collect())
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
