//! A run split over its scenarios: a part streams a range of them into the
//! members' tails and the fund depletion, laid out by the pilot every part
//! computes alike, and the merge folds the parts' tails together and
//! concludes the run from them as a run on one machine does from its own
//! (methodology 18). Scenario n is a pure function of (seed, n) and the
//! tails' sums are exact, so the merged tails are the one-machine run's,
//! bit for bit.

use std::ops::Range;
use std::time::{Duration, Instant};

use rayon::prelude::*;

use super::stages::{MonteCarlo, SecondPass, Stages};
use super::{RunError, RunLimits, RunResult};
use crate::backend::Backend;
use crate::default_management::depletion::DepletionTally;
use crate::snapshot::Snapshot;
use crate::tail::MemberTail;

/// What a part of a run holds after streaming its scenarios (or some of
/// them: a checkpoint).
#[derive(Debug, Clone, PartialEq)]
pub struct MonteCarloPart {
    /// The run's scenarios this part covers.
    pub scenarios: Range<u64>,
    /// Scenarios streamed, from `scenarios.start`: `scenarios.end` once the
    /// part is complete, less in a checkpoint.
    pub done: u64,
    /// Every member's tail over `scenarios.start..done`.
    pub tails: Vec<MemberTail>,
    /// The Monte Carlo depletion over the same scenarios (`None` in a second
    /// pass, or where its exact tails exceed their share of the memory).
    pub depletion: Option<DepletionTally>,
}

/// Which pass over the scenarios a part belongs to.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Pass {
    /// Every member's tail in the windows the pilot placed, and the depletion.
    First,
    /// Exact windows of the largest rank for these members (indices), whose
    /// ranks fell outside their first-pass windows; nothing for the others.
    Second(Vec<usize>),
}

/// When a run or a shard hands its state to be checkpointed. Where the
/// checkpoints fall does not change a bit of the result (streaming `a..b`
/// then `b..c` is streaming `a..c`), so a clock may decide.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Checkpoints {
    Never,
    /// After every this many blocks of scenarios.
    EveryBlocks(u64),
    /// After the first block that ends this long after the last checkpoint
    /// (or the start).
    Every(Duration),
}

/// One part of a run to compute.
#[derive(Debug, Clone)]
pub struct PartRun {
    pub scenarios: Range<u64>,
    pub pass: Pass,
    /// A checkpoint of this part to continue from.
    pub resume: Option<MonteCarloPart>,
    /// The windows a plan placed ([`plan_part`]), instead of computing the
    /// pilot (first pass, without a checkpoint).
    pub windows: Option<Vec<MemberTail>>,
    /// When to hand the state to the checkpoint.
    pub checkpoints: Checkpoints,
}

/// Streams `part.scenarios` of `snapshot`'s run into a part, handing
/// `checkpoint` the state as `part.checkpoints` says.
pub fn run_part<B: Backend>(
    backend: &B,
    snapshot: &Snapshot,
    limits: RunLimits,
    part: PartRun,
    checkpoint: &mut dyn FnMut(&MonteCarloPart) -> Result<(), RunError>,
    progress: &dyn Fn(u64),
) -> Result<MonteCarloPart, RunError> {
    let date = snapshot.valuation_date;
    let mut stages = Stages::new(backend, snapshot, date, limits, true)?;
    stages.stream_part(part, checkpoint, progress)
}

/// The run on one machine ([`super::run`]), resumable: its scenarios
/// streamed as one part from `resume` (a checkpoint of the same run) on,
/// handing `checkpoint` the state as `checkpoints` says and once
/// all are streamed. Its outputs are [`super::run`]'s, bit for bit. A
/// layout that narrows its windows over passes is run without checkpoints.
pub fn run_resumable<B: Backend>(
    backend: &B,
    snapshot: &Snapshot,
    limits: RunLimits,
    resume: Option<MonteCarloPart>,
    checkpoints: Checkpoints,
    checkpoint: &mut dyn FnMut(&MonteCarloPart) -> Result<(), RunError>,
    progress: &dyn Fn(u64),
) -> Result<RunResult, RunError> {
    let started = Instant::now();
    let date = snapshot.valuation_date;
    let mut stages = Stages::new(backend, snapshot, date, limits, true)?;
    if stages.tail_plan.narrowing().is_some() {
        let monte_carlo = stages.monte_carlo(progress)?;
        return stages.conclude(monte_carlo, SecondPass::Stream, started);
    }
    let paths = snapshot.config.scenario.paths;
    // A checkpoint that already holds every scenario is not written again.
    let resumed_unfinished = resume.as_ref().is_some_and(|p| p.done < p.scenarios.end);
    let part = PartRun {
        scenarios: 0..paths,
        pass: Pass::First,
        resume,
        windows: None,
        checkpoints,
    };
    let mut written = 0;
    let mut counted = |state: &MonteCarloPart| {
        written += 1;
        checkpoint(state)
    };
    let part = stages.stream_part(part, &mut counted, progress)?;
    // The second pass and what follows are checkpointed too, as far as
    // the first pass goes: a run long enough to have checkpointed.
    if written > 0 || resumed_unfinished {
        checkpoint(&part)?;
    }
    let monte_carlo = MonteCarlo {
        tails: part.tails,
        passes: 1,
    };
    stages.conclude(monte_carlo, SecondPass::Stream, started)
}

/// The windows the pilot places for `snapshot`'s run: every member's tail
/// over no scenario yet, which shards can start from instead of each
/// computing the pilot (methodology 18).
pub fn plan_part<B: Backend>(
    backend: &B,
    snapshot: &Snapshot,
    limits: RunLimits,
) -> Result<MonteCarloPart, RunError> {
    let stages = Stages::new(backend, snapshot, snapshot.valuation_date, limits, true)?;
    if stages.tail_plan.narrowing().is_some() {
        return Err(RunError::ShardNarrowing {
            limit_mib: limits.tail_memory_bytes >> 20,
        });
    }
    let members = stages.book.members;
    Ok(MonteCarloPart {
        scenarios: 0..0,
        done: 0,
        tails: (stages.streamer()).first_tails(&stages.tail_plan, members, 0)?,
        depletion: None,
    })
}

/// Parts of a run, read one at a time: a merge holds one part beside the
/// merged tails, however many there are.
pub type Parts<'a> = Box<dyn Iterator<Item = Result<MonteCarloPart, RunError>> + 'a>;

/// The run on one machine, from the complete parts of its first pass (and
/// of a second pass, where some member's rank fell outside its window):
/// every output the same, bit for bit, save the timings.
pub fn merge<B: Backend>(
    backend: &B,
    snapshot: &Snapshot,
    limits: RunLimits,
    first: Parts,
    second: Option<Parts>,
) -> Result<RunResult, RunError> {
    let started = Instant::now();
    let date = snapshot.valuation_date;
    let mut stages = Stages::new(backend, snapshot, date, limits, true)?;
    let paths = snapshot.config.scenario.paths;
    let mut depletion = stages.depletion.as_mut();
    let tails = merged_tails(
        first,
        paths,
        &mut |part| match (&mut depletion, &part.depletion) {
            (Some(Ok(stream)), Some(tally)) => stream.absorb_tally(tally).is_some(),
            (Some(Err(_)), None) => true,
            _ => false,
        },
    )?;
    let second = second
        .map(|parts| merged_tails(parts, paths, &mut |_| true))
        .transpose()?;
    let monte_carlo = MonteCarlo { tails, passes: 1 };
    stages.conclude(monte_carlo, SecondPass::Parts(second), started)
}

/// The members' tails of `parts` folded together, in the parts' order,
/// which together must cover scenarios `0..paths` once; `absorb` takes each
/// part's other state (false: laid out otherwise).
fn merged_tails(
    parts: Parts,
    paths: u64,
    absorb: &mut dyn FnMut(&MonteCarloPart) -> bool,
) -> Result<Vec<MemberTail>, RunError> {
    let mut tails: Option<Vec<MemberTail>> = None;
    let mut seen = 0;
    for (i, part) in parts.enumerate() {
        let part = part?;
        if !absorb(&part) {
            return Err(RunError::PartLayout { part: i });
        }
        seen += part.done - part.scenarios.start;
        let Some(tails) = &mut tails else {
            tails = Some(part.tails);
            continue;
        };
        let fits = part.tails.len() == tails.len()
            && tails
                .iter()
                .zip(&part.tails)
                .all(|(a, b)| a.same_windows(b));
        if !fits {
            return Err(RunError::PartLayout { part: i });
        }
        (tails.par_iter_mut())
            .zip(&part.tails)
            .for_each(|(a, b)| a.merge(b));
    }
    match tails {
        Some(tails) if seen == paths => Ok(tails),
        _ => Err(RunError::PartsIncomplete { seen, paths }),
    }
}
