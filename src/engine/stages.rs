//! The stages of one run, shared by a run on one machine, a shard of a run
//! ([`super::shard`]) and the merge of its parts: what a run sets up before
//! its Monte Carlo scenarios, and what it concludes from their tails.

use std::time::Instant;

use super::default_management::{depletion_stream, liquidity_stress_of, reverse_stress_of};
use super::shard::{Checkpoints, MonteCarloPart, PartRun, Pass};
use super::{
    confidences, largest_move, loss_distribution, scenario_model_as_of, size_default_fund,
    walk_waterfalls, RunError, RunInfo, RunLimits, RunResult, Streamer, StressResult, Timings,
};
use crate::backend::Backend;
use crate::book::collateral::{self, CountedCollateral};
use crate::book::CompiledBook;
use crate::default_fund::Groups;
use crate::default_management::close_out::{close_out_costs, CloseOut};
use crate::default_management::depletion::{DepletionStream, MonteCarloDepletion, TooLarge};
use crate::input::Date;
use crate::margin::{margins, MarginResult, MarginRule};
use crate::scenario::{stress_block, ScenarioModel};
use crate::snapshot::Snapshot;
use crate::tail::{MemberTail, TailPlan};

/// A run set up: the compiled book on the backend, the tail layout and the
/// Monte Carlo depletion to stream with the tails.
pub(super) struct Stages<'a, B: Backend> {
    pub backend: &'a B,
    pub snapshot: &'a Snapshot,
    pub limits: RunLimits,
    pub book: CompiledBook,
    collateral: CountedCollateral,
    close_out: CloseOut,
    model: ScenarioModel,
    pub plan: B::Plan,
    confidences: Vec<f64>,
    groups: Groups,
    pub tail_plan: TailPlan,
    /// The run's own Monte Carlo depletion (`None` for a past date).
    pub depletion: Option<Result<DepletionStream, TooLarge>>,
    own_analyses: bool,
    compiled: Instant,
}

/// Every member's tail over all of a run's scenarios, with the depletion
/// streamed beside them.
pub(super) struct MonteCarlo {
    pub tails: Vec<MemberTail>,
    /// Passes over the scenarios the tails took (more than 1 where windows
    /// were narrowed).
    pub passes: u32,
}

/// Where the tails of members whose ranks fell outside their windows come
/// from ([`Streamer::measures`]).
pub(super) enum SecondPass {
    /// Streaming the scenarios again (a run on one machine).
    Stream,
    /// The merged parts of a sharded second pass, if the merge was given any.
    Parts(Option<Vec<MemberTail>>),
}

impl<'a, B: Backend> Stages<'a, B> {
    pub fn new(
        backend: &'a B,
        snapshot: &'a Snapshot,
        as_of: Date,
        limits: RunLimits,
        own_analyses: bool,
    ) -> Result<Self, RunError> {
        let book = CompiledBook::compile(snapshot)?;
        let collateral = collateral::counted(snapshot)?;
        let close_out = close_out_costs(snapshot)?;
        let model = scenario_model_as_of(snapshot, &book, as_of)?;
        let plan = backend.prepare(&book, &model)?;
        let confidences = confidences(snapshot);
        let paths = snapshot.config.scenario.paths;
        let groups = Groups::of(&snapshot.members);
        let depletion = own_analyses.then(|| {
            let collateral = &book.collateral_value;
            depletion_stream(snapshot, collateral, &groups, &confidences, paths, limits)
        });
        let depletion_bytes = match &depletion {
            Some(Ok(stream)) => stream.tail_bytes(),
            _ => 0,
        };
        let tail_plan = TailPlan::for_confidences(
            paths,
            &confidences,
            book.members,
            limits.tail_memory_bytes - depletion_bytes,
        )?;
        Ok(Self {
            backend,
            snapshot,
            limits,
            book,
            collateral,
            close_out,
            model,
            plan,
            confidences,
            groups,
            tail_plan,
            depletion,
            own_analyses,
            compiled: Instant::now(),
        })
    }

    pub fn streamer(&self) -> Streamer<'_, B> {
        let block = self.snapshot.config.scenario.block_size.max(1) as u64;
        Streamer {
            backend: self.backend,
            plan: &self.plan,
            block: self.backend.block_size(&self.plan, block),
            limits: self.limits,
        }
    }

    /// Streams all of the run's scenarios into the members' tails (and the
    /// depletion), narrowing windows over passes where the layout counts.
    pub fn monte_carlo(&mut self, progress: &dyn Fn(u64)) -> Result<MonteCarlo, RunError> {
        let streamer = Streamer {
            backend: self.backend,
            plan: &self.plan,
            block: self.streamer().block,
            limits: self.limits,
        };
        // The streamer borrows the plan, the depletion is streamed into.
        let stream = self.depletion.as_mut().and_then(|d| d.as_mut().ok());
        let (tails, passes) =
            streamer.tails(&self.tail_plan, self.book.members, stream, progress)?;
        Ok(MonteCarlo { tails, passes })
    }

    /// Streams `part.scenarios` into a part (with the run's depletion in
    /// a first pass), from its checkpoint if it has one, handing
    /// `checkpoint` the state as `part.checkpoints` says.
    pub fn stream_part(
        &mut self,
        part: PartRun,
        checkpoint: &mut dyn FnMut(&MonteCarloPart) -> Result<(), RunError>,
        progress: &dyn Fn(u64),
    ) -> Result<MonteCarloPart, RunError> {
        let members = self.book.members;
        let k = self.tail_plan.k();
        let paths = self.snapshot.config.scenario.paths;
        // Taken while streaming (the streamer and the checks below borrow
        // the stages), and put back for the run to conclude with.
        let mut own_depletion = match &part.pass {
            Pass::First => self.depletion.take(),
            Pass::Second(_) => None,
        };
        let streamer = self.streamer();
        let mut depletion = own_depletion.as_mut().and_then(|d| d.as_mut().ok());
        let scenarios = part.scenarios.clone();
        let (mut tails, mut done) = match (part.resume, &part.pass) {
            (Some(resumed), _) => {
                let fits = resumed.scenarios == scenarios && resumed.tails.len() == members;
                let tally_fits = match (&mut depletion, &resumed.depletion) {
                    (Some(stream), Some(tally)) => stream.absorb_tally(tally).is_some(),
                    (None, None) => true,
                    _ => false,
                };
                if !(fits && tally_fits) {
                    return Err(RunError::PartLayout { part: 0 });
                }
                (resumed.tails, resumed.done)
            }
            (None, Pass::First) => {
                if self.tail_plan.narrowing().is_some() {
                    return Err(RunError::ShardNarrowing {
                        limit_mib: self.limits.tail_memory_bytes >> 20,
                    });
                }
                let tails = match part.windows {
                    Some(windows) => windows,
                    None => {
                        let streamed = scenarios.end - scenarios.start;
                        streamer.first_tails(&self.tail_plan, members, streamed)?
                    }
                };
                (tails, scenarios.start)
            }
            (None, Pass::Second(resolve)) => {
                let unresolved: Vec<bool> = (0..members).map(|m| resolve.contains(&m)).collect();
                let tails = streamer.second_pass_tails(&unresolved, k, paths)?;
                (tails, scenarios.start)
            }
        };
        let step = match part.checkpoints {
            Checkpoints::Never => u64::MAX,
            Checkpoints::EveryBlocks(blocks) => blocks.saturating_mul(streamer.block),
            Checkpoints::Every(_) => streamer.block,
        };
        let mut last = Instant::now();
        while done < scenarios.end {
            let next = done.saturating_add(step).min(scenarios.end);
            streamer.pass(done..next, &mut tails, depletion.as_deref_mut(), progress)?;
            done = next;
            let due = match part.checkpoints {
                Checkpoints::Never => false,
                Checkpoints::EveryBlocks(_) => true,
                Checkpoints::Every(interval) => last.elapsed() >= interval,
            };
            if done < scenarios.end && due {
                // A part records no loss out of range: the run stops at the first.
                self.check_tails(&tails)?;
                let state = MonteCarloPart {
                    scenarios: scenarios.clone(),
                    done,
                    tails,
                    depletion: depletion.as_ref().map(|d| d.tally()),
                };
                checkpoint(&state)?;
                tails = state.tails;
                last = Instant::now();
            }
        }
        self.check_tails(&tails)?;
        let tally = depletion.as_ref().map(|d| d.tally());
        if own_depletion.is_some() {
            self.depletion = own_depletion;
        }
        Ok(MonteCarloPart {
            scenarios,
            done,
            tails,
            depletion: tally,
        })
    }

    /// Refuses tails that saw a loss out of range, naming the member and
    /// what drove the first such scenario.
    pub fn check_tails(&self, tails: &[MemberTail]) -> Result<(), RunError> {
        let Some((m, out)) = tails
            .iter()
            .enumerate()
            .find_map(|(m, t)| Some((m, t.out_of_range()?)))
        else {
            return Ok(());
        };
        let (snapshot, book) = (self.snapshot, &self.book);
        Err(RunError::LossOutOfRange {
            member: snapshot.members[m].id.clone(),
            count: out.count,
            scenario: out.first_scenario,
            loss: out.first_loss,
            gross_notional: book.gross_notional[m],
            cause: largest_move(
                self.backend,
                &self.plan,
                snapshot,
                &self.model,
                out.first_scenario,
            ),
        })
    }

    /// Everything the run computes from its tails: margins, then the stress
    /// scenarios, the default fund, the waterfalls and the run's own analyses.
    pub fn conclude(
        self,
        monte_carlo: MonteCarlo,
        second_pass: SecondPass,
        started: Instant,
    ) -> Result<RunResult, RunError> {
        let simulated = Instant::now();
        let (backend, snapshot) = (self.backend, self.snapshot);
        let config = &snapshot.config;
        let paths = config.scenario.paths;
        let MonteCarlo { tails, passes } = monte_carlo;
        self.check_tails(&tails)?;
        let pipeline = backend.pipeline(&self.plan);
        let streamer = self.streamer();
        let (k, confidences) = (self.tail_plan.k(), &self.confidences);
        let (measures, resolving_passes) = match second_pass {
            SecondPass::Stream => {
                streamer.measures(tails, confidences, k, streamer.second_pass(paths))?
            }
            SecondPass::Parts(given) => streamer.measures(tails, confidences, k, |needed| {
                second_pass_parts(snapshot, needed, given)
            })?,
        };
        let (plan, book) = (&self.plan, &self.book);
        let fund_depletion = self.depletion.map(|d| match d {
            Ok(stream) => MonteCarloDepletion::Computed(stream.finish()),
            Err(too_large) => MonteCarloDepletion::Skipped(too_large),
        });
        let rule = MarginRule {
            measure: config.risk.margin_measure,
            confidence: config.risk.margin_confidence,
        };
        let margin = MarginResult {
            rule,
            members: margins(measures, rule, &book.collateral_value),
            confidences: self.confidences.clone(),
            gross_notional: book.gross_notional.clone(),
            apc: None,
        };
        let measured = Instant::now();

        let stress_scenarios = stress_block(&snapshot.stress, book.assets);
        let losses = backend.revalue(plan, &stress_scenarios)?;
        super::check_stress_losses(snapshot, &losses)?;
        let stress = StressResult {
            losses,
            groups: self.groups,
        };
        let default_fund = size_default_fund(snapshot, &stress, &margin.members);
        let waterfall = walk_waterfalls(
            snapshot,
            &stress,
            &margin.members,
            &default_fund,
            &self.close_out,
        )?;
        let stressed = Instant::now();
        let distribution = if self.own_analyses {
            loss_distribution(backend, plan, &margin, paths)?
        } else {
            None
        };
        let distributed = Instant::now();
        let (reverse_stress, liquidity) = if self.own_analyses {
            let reverse = reverse_stress_of(
                backend,
                plan,
                snapshot,
                &stress_scenarios,
                &margin.members,
                &stress.groups,
            )?;
            let liquidity = liquidity_stress_of(
                backend,
                snapshot,
                &self.model,
                &stress_scenarios,
                &stress,
                &default_fund,
            )?;
            (Some(reverse), Some(liquidity))
        } else {
            (None, None)
        };
        let finished = Instant::now();
        let compiled = self.compiled;

        Ok(RunResult {
            run: RunInfo {
                backend: backend.describe(),
                scenarios: paths,
                option_series: book.options.len(),
                tail_pilot: self.tail_plan.pilot(),
                tail_passes: passes + resolving_passes - 1,
                timings: Timings {
                    compile: compiled - started,
                    monte_carlo: simulated - compiled,
                    statistics: measured - simulated,
                    stress: stressed - measured,
                    distribution: distributed - stressed,
                    reverse_stress: finished - distributed,
                    total: finished - started,
                },
                pipeline,
            },
            collateral: self.collateral,
            margin,
            stress,
            default_fund,
            close_out: self.close_out,
            waterfall,
            distribution,
            reverse_stress,
            liquidity,
            fund_depletion,
        })
    }
}

/// A merge's second pass: the second-pass parts' tails, if they hold exact
/// windows for exactly the members `needed` holds them for; otherwise the
/// error that names the members whose second pass to run.
fn second_pass_parts(
    snapshot: &Snapshot,
    needed: Vec<MemberTail>,
    given: Option<Vec<MemberTail>>,
) -> Result<Vec<MemberTail>, RunError> {
    let ids = |tails: &[MemberTail]| -> Vec<String> {
        tails
            .iter()
            .zip(&snapshot.members)
            .filter(|(t, _)| t.gaps() > 0)
            .map(|(_, m)| m.id.clone())
            .collect()
    };
    let members = ids(&needed);
    match given {
        Some(tails)
            if tails.len() == needed.len()
                && tails.iter().zip(&needed).all(|(a, b)| a.same_windows(b)) =>
        {
            Ok(tails)
        }
        given => Err(RunError::SecondPassNeeded {
            members,
            given: given.map(|t| ids(&t)),
        }),
    }
}
