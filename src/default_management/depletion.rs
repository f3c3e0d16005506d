//! Reverse stress (c): across the run's Monte Carlo scenarios, how deep the
//! default of the groups with the largest uncovered losses cuts into the
//! prefunded resources.
//!
//! In scenario s each member m loses `L(s, m)` against its collateral `C(m)`;
//! group g's uncovered loss is `U(s, g) = sum over m in g of (L(s, m) -
//! C(m))+` (methodology 9.2, the default fund's), and the demand on the
//! mutualised resources when the n groups with the largest uncovered loss in
//! that scenario default (n of Cover-n; the groups are ranked anew in each
//! scenario) is
//!
//! ```text
//! D(s) = sum of the n largest U(s, g),     X(s) = min(D(s), R)
//! ```
//!
//! with `R` the prefunded resources (the default fund's current
//! contributions plus the CCP's skin in the game, as in [`super::reverse_stress`]).
//! `X` is the fund's depletion. Over the N scenarios the run reports the
//! probability of exhaustion `P(D > R)` (the share of scenarios, with its
//! binomial standard error `sqrt(p (1 - p) / N)`), the mean demand, and the
//! VaR and ES of `D` and of `X` at each of the run's confidences (the
//! members' estimators, [`crate::tail::TailMeasure`]).
//!
//! Only losses beyond collateral count, so the pass needs, per scenario, just
//! the members whose loss exceeds their collateral: the backend reports
//! those ([`Exceedances`]) while it streams the members' tails, and each
//! block's are grouped here. The sums run in member order within a group and
//! the groups rank as the default fund ranks them, so `D(s)` is, bit for
//! bit, the Cover-n the default fund would compute from the materialised
//! losses (tested against it).

use std::ops::Range;

use crate::backend::Exceedances;
use crate::default_fund::ranked;
use crate::tail::{var_rank, within_range, ExactSum, MemberTail, TailMeasure, TopK};

/// What the depletion reads of a run.
#[derive(Debug, Clone)]
pub struct DepletionInput {
    /// Each member's collateral C(m), after haircuts.
    pub collateral: Vec<f64>,
    pub group_of: Vec<usize>,
    pub groups: usize,
    /// How many groups default (n of Cover-n).
    pub cover: usize,
    /// Prefunded resources R.
    pub resources: f64,
    /// Scenarios of the pass (N).
    pub scenarios: u64,
    /// Confidences of the VaR and ES of the demand and the depletion, ascending.
    pub confidences: Vec<f64>,
}

/// The depletion being streamed: the exceedances the backend fills, and the
/// exact tails of the demand and the depletion.
#[derive(Debug, Clone)]
pub struct DepletionStream {
    input: DepletionInput,
    exceedances: Exceedances,
    demand: MemberTail,
    depletion: MemberTail,
    exhausted: u64,
    with_uncovered: u64,
    sum: ExactSum,
    seen: u64,
    /// Per group, the running sum of a scenario's uncovered losses (zero
    /// between scenarios).
    scratch: Vec<f64>,
}

impl DepletionStream {
    /// Bytes the two exact tails of `input` may take at most.
    pub fn tail_bytes_of(input: &DepletionInput) -> u64 {
        2 * TopK::capacity(Self::k(input)) as u64 * 16
    }

    /// Bytes this stream's two exact tails may take at most.
    pub fn tail_bytes(&self) -> u64 {
        Self::tail_bytes_of(&self.input)
    }

    fn k(input: &DepletionInput) -> usize {
        let lowest = input.confidences.first().copied().unwrap_or(0.99);
        var_rank(input.scenarios, lowest) as usize
    }

    pub fn new(input: DepletionInput) -> Self {
        let k = Self::k(&input);
        Self {
            exceedances: Exceedances::new(input.collateral.clone()),
            demand: MemberTail::exact(k),
            depletion: MemberTail::exact(k),
            exhausted: 0,
            with_uncovered: 0,
            sum: ExactSum::new(),
            seen: 0,
            scratch: vec![0.0; input.groups],
            input,
        }
    }

    /// Where the backend reports the losses beyond collateral of the next block.
    pub fn exceedances(&mut self) -> &mut Exceedances {
        &mut self.exceedances
    }

    /// Takes the losses beyond collateral the backend reported for scenarios
    /// `range` (every scenario of it in which some member's loss exceeds its
    /// collateral, and no other).
    pub fn absorb(&mut self, range: Range<u64>) {
        let mut found = std::mem::take(&mut self.exceedances.found);
        found.sort_unstable_by(|a, b| a.0.cmp(&b.0).then(a.1.cmp(&b.1)));
        let mut demand = vec![0.0; (range.end - range.start) as usize];
        for scenario in found.chunk_by(|a, b| a.0 == b.0) {
            let s = scenario[0].0;
            debug_assert!(range.contains(&s), "scenario {s} outside {range:?}");
            demand[(s - range.start) as usize] = self.demand_of(scenario);
        }
        // The next block's go into the same allocation.
        found.clear();
        self.exceedances.found = found;
        let resources = self.input.resources;
        for &d in &demand {
            self.exhausted += u64::from(d > resources);
            self.with_uncovered += u64::from(d > 0.0);
            // A demand out of range comes from a member's loss out of range,
            // which its tail records and the run refuses (the exact sum
            // holds only values within it).
            if within_range(d) {
                self.sum.add(d);
            }
        }
        self.demand.push_slice(&demand, range.start);
        for d in &mut demand {
            *d = d.min(resources);
        }
        self.depletion.push_slice(&demand, range.start);
        self.seen += range.end - range.start;
    }

    /// What the scenarios absorbed so far contribute: a sharded run's part.
    pub fn tally(&self) -> DepletionTally {
        DepletionTally {
            demand: self.demand.clone(),
            depletion: self.depletion.clone(),
            exhausted: self.exhausted,
            with_uncovered: self.with_uncovered,
            sum: self.sum,
            seen: self.seen,
        }
    }

    /// Folds in the tally of other scenarios (another shard's, or a
    /// checkpoint's): the counts add, the exact sums and tails merge, so the
    /// result is the one pass over all of them. `None` if the tally's tails
    /// are not this stream's exact tails (another run's).
    pub fn absorb_tally(&mut self, tally: &DepletionTally) -> Option<()> {
        let same = self.demand.same_windows(&tally.demand)
            && self.depletion.same_windows(&tally.depletion);
        if !same {
            return None;
        }
        self.demand.merge(&tally.demand);
        self.depletion.merge(&tally.depletion);
        self.exhausted += tally.exhausted;
        self.with_uncovered += tally.with_uncovered;
        self.sum.merge(&tally.sum);
        self.seen += tally.seen;
        Some(())
    }

    /// D(s) from one scenario's losses beyond collateral, sorted by member.
    fn demand_of(&mut self, losses: &[(u64, u32, f64)]) -> f64 {
        let mut touched: Vec<usize> = Vec::with_capacity(losses.len());
        for &(_, m, loss) in losses {
            let m = m as usize;
            let g = self.input.group_of[m];
            if self.scratch[g] == 0.0 {
                touched.push(g);
            }
            self.scratch[g] += (loss - self.input.collateral[m]).max(0.0);
        }
        let uncovered: Vec<f64> = touched.iter().map(|&g| self.scratch[g]).collect();
        let demand = ranked(&uncovered)
            .iter()
            .take(self.input.cover.max(1))
            .map(|&(_, u)| u)
            .sum();
        for g in touched {
            self.scratch[g] = 0.0;
        }
        demand
    }

    /// The depletion's statistics over the scenarios absorbed.
    pub fn finish(self) -> FundDepletion {
        let n = self.seen;
        let confidences = &self.input.confidences;
        // An exact tail of the lowest confidence's rank holds every rank
        // the others need, so `measures` is never `None`.
        let measures = |mut tail: MemberTail| tail.measures(n, confidences).unwrap_or_default();
        let p = if n > 0 {
            self.exhausted as f64 / n as f64
        } else {
            0.0
        };
        FundDepletion {
            scenarios: n,
            cover: self.input.cover,
            resources: self.input.resources,
            exhausted: self.exhausted,
            probability_of_exhaustion: p,
            probability_std_error: (p * (1.0 - p) / n.max(1) as f64).sqrt(),
            with_uncovered: self.with_uncovered,
            mean_demand: self.sum.value() / n.max(1) as f64,
            worst: self.demand.sorted().first().copied(),
            demand: measures(self.demand),
            depletion: measures(self.depletion),
        }
    }
}

/// The depletion's state over some of a run's scenarios: what a shard
/// contributes to the merged depletion ([`DepletionStream::absorb_tally`]).
#[derive(Debug, Clone, PartialEq)]
pub struct DepletionTally {
    /// Exact tails of D and of X = min(D, R).
    pub demand: MemberTail,
    pub depletion: MemberTail,
    pub exhausted: u64,
    pub with_uncovered: u64,
    /// Exact sum of D.
    pub sum: ExactSum,
    pub seen: u64,
}

/// The run's Monte Carlo depletion, or why it was not computed.
#[derive(Debug, Clone, PartialEq)]
pub enum MonteCarloDepletion {
    Computed(FundDepletion),
    Skipped(TooLarge),
}

/// Exact tails that would have taken more than their share of the tail
/// memory (`--memory-limit-mib`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct TooLarge {
    pub needed_bytes: u64,
    pub limit_bytes: u64,
}

/// The fund's depletion over a run's Monte Carlo scenarios.
#[derive(Debug, Clone, PartialEq)]
pub struct FundDepletion {
    pub scenarios: u64,
    pub cover: usize,
    pub resources: f64,
    /// Scenarios with D > R.
    pub exhausted: u64,
    pub probability_of_exhaustion: f64,
    pub probability_std_error: f64,
    /// Scenarios with D > 0: some member's loss beyond its collateral.
    pub with_uncovered: u64,
    pub mean_demand: f64,
    /// The largest demand and its scenario.
    pub worst: Option<(f64, u64)>,
    /// VaR and ES of D at each confidence.
    pub demand: Vec<TailMeasure>,
    /// VaR and ES of X = min(D, R) at each confidence.
    pub depletion: Vec<TailMeasure>,
}
