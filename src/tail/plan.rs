//! Where a run's tail windows go, sized to a memory budget.
//!
//! A pilot over the first `P` of `N` scenarios estimates each needed rank `r`:
//! about `e = r P / N` pilot losses lie above the final rank-r loss, with a
//! binomial standard deviation close to `sqrt(e)`. The window for rank r spans the
//! pilot losses of ranks `e (1 - d)` to `e (1 + d)`, `d = Z / sqrt(e)`, so the
//! final rank-r loss lies outside it only if the pilot is off by more than `Z = 5`
//! standard deviations (probability under 1e-6 per rank and member; the engine
//! then runs that member again with an exact window). In the full run such a
//! window holds about `2 Z sqrt(r N / P)` losses: at 10^7 scenarios and ES 99%
//! (r = 100,001) with P = N / 32, some 18,000 losses a member instead of the
//! 100,001 an exact window keeps.

use super::{var_rank, MemberTail, TopK, Window};

/// Pilot error, in binomial standard deviations, that a window absorbs.
const Z: f64 = 5.0;
/// Fewest pilot losses above the largest needed rank for a pilot to be worth it.
const MIN_PILOT_EXCEEDANCES: f64 = 50.0;
/// Pilot fractions of the run tried, cheapest first.
const PILOT_FRACTIONS: [u64; 4] = [32, 16, 8, 4];
const ITEM_BYTES: u64 = 16;
const BIN_BYTES: u64 = 24;
/// A narrowing plan's smallest useful window and histogram, and its largest histogram.
const MIN_CAPACITY: usize = 64;
const MIN_BINS: usize = 16;
const MAX_BINS: usize = 4096;
/// How the member tails of a run are laid out.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TailLayout {
    /// One window holding each member's `k` largest losses: no pilot.
    Exact { k: usize },
    /// A pilot over scenarios `0..pilot` (itself laid out by
    /// [`TailPlan::pilot_plan`]) places a narrow window around each rank.
    Piloted { pilot: u64 },
    /// As `Piloted`, but windows expected to hold more than `capacity` losses
    /// count them in `bins` bins instead; further passes narrow each rank to
    /// one bin until its window can be kept ([`MemberTail::narrowed`]).
    Narrowed {
        pilot: u64,
        capacity: usize,
        bins: usize,
    },
}

/// The ranks a run needs and where their windows go.
#[derive(Debug, Clone, PartialEq)]
pub struct TailPlan {
    pub scenarios: u64,
    /// Ranks needed (1 = largest loss), ascending, distinct.
    pub ranks: Vec<u64>,
    pub layout: TailLayout,
    /// Expected peak bytes of all members' windows at this level.
    pub expected_bytes: u64,
}

/// The tails cannot fit the memory budget.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
#[error("exact tails at {scenarios} scenarios for {members} members need {needed_mib} MiB, over the {limit_mib} MiB limit")]
pub struct TailMemoryError {
    pub scenarios: u64,
    pub members: usize,
    pub needed_mib: u64,
    pub limit_mib: u64,
}

impl TailPlan {
    /// The plan for VaR and ES at confidences `alphas` over `scenarios`.
    pub fn for_confidences(
        scenarios: u64,
        alphas: &[f64],
        members: usize,
        budget_bytes: u64,
    ) -> Result<Self, TailMemoryError> {
        let ranks = alphas.iter().map(|&a| var_rank(scenarios, a)).collect();
        Self::new(scenarios, ranks, members, budget_bytes)
    }

    /// The cheapest layout resolving `ranks` for `members` tails within
    /// `budget_bytes`: a pilot of N/32 where it can estimate the ranks, else one
    /// exact window where that fits; where memory is short, the shortest pilot
    /// whose windows (and whose own plan) fit, else counting windows narrowed
    /// over passes.
    pub fn new(
        scenarios: u64,
        mut ranks: Vec<u64>,
        members: usize,
        budget_bytes: u64,
    ) -> Result<Self, TailMemoryError> {
        ranks.sort_unstable();
        ranks.dedup();
        let k = ranks.last().copied().unwrap_or(1);
        let members_u = members as u64;
        let exact_bytes = members_u * TopK::capacity(k as usize) as u64 * ITEM_BYTES;
        // A pilot longer than the cheapest only where memory demands it.
        let fractions = if exact_bytes <= budget_bytes {
            &PILOT_FRACTIONS[..1]
        } else {
            &PILOT_FRACTIONS[..]
        };
        let piloted = fractions.iter().find_map(|&f| {
            let pilot = scenarios.div_ceil(f);
            if (k * pilot) as f64 / (scenarios as f64) < MIN_PILOT_EXCEEDANCES {
                return None;
            }
            let windows: f64 = ranks
                .iter()
                .map(|&r| {
                    let (a, b) = pilot_ranks(r, pilot, scenarios);
                    (b - a) as f64 * scenarios as f64 / pilot as f64
                })
                .sum();
            let bytes = members_u * (1.1 * windows) as u64 * ITEM_BYTES;
            let plan = Self {
                scenarios,
                ranks: ranks.clone(),
                layout: TailLayout::Piloted { pilot },
                expected_bytes: bytes,
            };
            (bytes <= budget_bytes && plan.pilot_plan(members, budget_bytes).is_ok())
                .then_some(plan)
        });
        if let Some(plan) = piloted {
            return Ok(plan);
        }
        if exact_bytes > budget_bytes {
            if let Some(plan) = Self::narrowed(scenarios, &ranks, members, budget_bytes) {
                return Ok(plan);
            }
            return Err(TailMemoryError {
                scenarios,
                members,
                needed_mib: exact_bytes.div_ceil(1 << 20),
                limit_mib: budget_bytes >> 20,
            });
        }
        Ok(Self {
            scenarios,
            ranks,
            layout: TailLayout::Exact { k: k as usize },
            expected_bytes: exact_bytes,
        })
    }

    /// Windows a member's share of the budget can hold, counting the ranks that
    /// do not fit: `None` where even that cannot fit or no pilot can place them.
    fn narrowed(scenarios: u64, ranks: &[u64], members: usize, budget_bytes: u64) -> Option<Self> {
        let pilot = scenarios.div_ceil(PILOT_FRACTIONS[0]);
        let k = *ranks.last()?;
        if (k * pilot) as f64 / (scenarios as f64) < MIN_PILOT_EXCEEDANCES {
            return None;
        }
        let per_window = budget_bytes / (members as u64 * ranks.len() as u64);
        let capacity = (per_window as f64 / (1.1 * ITEM_BYTES as f64)) as usize;
        let bins = ((per_window / 2 / BIN_BYTES) as usize).min(MAX_BINS);
        if capacity < MIN_CAPACITY || bins < MIN_BINS {
            return None;
        }
        let plan = Self {
            scenarios,
            ranks: ranks.to_vec(),
            layout: TailLayout::Narrowed {
                pilot,
                capacity,
                bins,
            },
            expected_bytes: members as u64 * ranks.len() as u64 * per_window,
        };
        plan.pilot_plan(members, budget_bytes).ok().map(|_| plan)
    }

    /// Scenarios of the pilot placing the windows (0: none).
    pub fn pilot(&self) -> u64 {
        match self.layout {
            TailLayout::Exact { .. } => 0,
            TailLayout::Piloted { pilot } | TailLayout::Narrowed { pilot, .. } => pilot,
        }
    }

    /// For a narrowing plan: the most losses a window keeps, and the bins of a
    /// counting window.
    pub fn narrowing(&self) -> Option<(usize, usize)> {
        match self.layout {
            TailLayout::Narrowed { capacity, bins, .. } => Some((capacity, bins)),
            _ => None,
        }
    }

    /// The tail memory at which the plan for these scenarios, ranks and
    /// members takes its cheapest layout (a pilot of `N/32`, no narrowing
    /// passes), where `self`, made within less, took a longer pilot or
    /// narrows its windows over passes: `None` if `self` is that layout
    /// already. What a run gives up to fit `self`'s budget is the difference.
    pub fn roomier(&self, members: usize) -> Option<(u64, Self)> {
        let cheapest = self.scenarios.div_ceil(PILOT_FRACTIONS[0]);
        let stretched = match self.layout {
            TailLayout::Exact { .. } => false,
            TailLayout::Piloted { pilot } => pilot > cheapest,
            TailLayout::Narrowed { .. } => true,
        };
        if !stretched {
            return None;
        }
        let unbounded = Self::new(self.scenarios, self.ranks.clone(), members, u64::MAX).ok()?;
        // The windows' own bytes do, unless the pilot's plan needs more room
        // than they to take its own cheapest layout.
        let own = unbounded.pilot_plan(members, u64::MAX).ok()?;
        let budgets = [
            unbounded.expected_bytes,
            unbounded.expected_bytes.max(own.expected_bytes),
        ];
        budgets.into_iter().find_map(|budget| {
            let plan = Self::new(self.scenarios, self.ranks.clone(), members, budget).ok()?;
            (plan.layout == unbounded.layout).then_some((budget, plan))
        })
    }

    /// The largest rank: an exact window of this size resolves every rank.
    pub fn k(&self) -> usize {
        self.ranks.last().copied().unwrap_or(1) as usize
    }

    /// The pilot's own plan: the pilot ranks bracketing each of this plan's ranks
    /// (see [`pilot_ranks`]), laid out within the same budget.
    pub fn pilot_plan(&self, members: usize, budget_bytes: u64) -> Result<Self, TailMemoryError> {
        let (TailLayout::Piloted { pilot } | TailLayout::Narrowed { pilot, .. }) = self.layout
        else {
            return Err(TailMemoryError {
                scenarios: self.scenarios,
                members,
                needed_mib: 0,
                limit_mib: budget_bytes >> 20,
            });
        };
        let ranks = self
            .ranks
            .iter()
            .flat_map(|&r| {
                let (a, b) = pilot_ranks(r, pilot, self.scenarios);
                [a, b]
            })
            .filter(|&r| r >= 1)
            .collect();
        Self::new(pilot, ranks, members, budget_bytes)
    }

    /// A member's tail for this plan's run from its pilot: `pilot_loss(r)` is the
    /// loss of rank r in the pilot, for each rank of [`TailPlan::pilot_plan`].
    /// An exact tail when the plan has no pilot. Each window reserves room
    /// for the losses expected in `streamed` of the run's scenarios (all of
    /// them in a run on one machine, its share in a shard).
    pub fn windows_from_pilot(&self, pilot_loss: impl Fn(u64) -> f64, streamed: u64) -> MemberTail {
        let (pilot, capacity, bins) = match self.layout {
            TailLayout::Exact { .. } => return MemberTail::exact(self.k()),
            TailLayout::Piloted { pilot } => (pilot, usize::MAX, 0),
            TailLayout::Narrowed {
                pilot,
                capacity,
                bins,
            } => (pilot, capacity, bins),
        };
        let scale = self.scenarios as f64 / pilot as f64;
        let share = streamed.min(self.scenarios) as f64 / self.scenarios.max(1) as f64;
        // (lo, hi, expected losses), highest first; overlapping brackets merge.
        let mut brackets: Vec<(f64, f64, usize)> = Vec::with_capacity(self.ranks.len());
        for &r in &self.ranks {
            let (a, b) = pilot_ranks(r, pilot, self.scenarios);
            let hi = if a >= 1 { pilot_loss(a) } else { f64::INFINITY };
            let lo = pilot_loss(b);
            let expected = (1.1 * (b - a) as f64 * scale) as usize;
            match brackets.last_mut() {
                Some(last) if hi >= last.0 => {
                    last.0 = last.0.min(lo);
                    last.2 += expected;
                }
                _ => brackets.push((lo, hi, expected)),
            }
        }
        // A window may hold more losses than the rank it brackets, and a lower
        // rank sums through all of them: each keeps up to the largest rank.
        let k = self.k();
        MemberTail::new(
            brackets
                .into_iter()
                .map(|(lo, hi, expected)| {
                    if expected <= capacity || !(lo.is_finite() && hi.is_finite()) {
                        Window::keeping(lo, hi, k, (expected as f64 * share) as usize)
                    } else {
                        Window::counting(lo, hi, bins)
                    }
                })
                .collect(),
        )
    }
}

/// Pilot ranks (1-based) bracketing final rank `r`: `(a, b)` with `a` possibly 0
/// (the window is open at the top).
fn pilot_ranks(r: u64, pilot: u64, scenarios: u64) -> (u64, u64) {
    let e = r as f64 * pilot as f64 / scenarios as f64;
    let d = Z / e.max(1.0).sqrt();
    let a = (e * (1.0 - d)).floor().max(0.0) as u64;
    let b = (e * (1.0 + d)).ceil() as u64 + 1;
    (a, b.min(pilot))
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Short of memory, a plan takes a longer pilot or narrows over passes;
    /// `roomier` names the budget that gives the `N/32` pilot back, and a
    /// MiB less does not.
    #[test]
    fn roomier_names_the_budget_of_the_cheapest_layout() {
        let (scenarios, members) = (100_000_000, 1000);
        let ranks = vec![500_001, 1_000_001];
        let ample = TailPlan::new(scenarios, ranks.clone(), members, 64 * GIB).unwrap();
        assert_eq!(ample.layout, TailLayout::Piloted { pilot: 3_125_000 });
        assert_eq!(ample.roomier(members), None);
        for budget in [640 << 20, 950 << 20, 96 << 20] {
            let tight = TailPlan::new(scenarios, ranks.clone(), members, budget).unwrap();
            assert_ne!(tight.layout, ample.layout, "{budget}");
            let (needed, plan) = tight.roomier(members).unwrap();
            assert_eq!(
                plan,
                TailPlan::new(scenarios, ranks.clone(), members, needed).unwrap()
            );
            assert_eq!(plan.layout, ample.layout);
            let less = TailPlan::new(scenarios, ranks.clone(), members, needed - (1 << 20));
            assert_ne!(less.unwrap().layout, ample.layout, "{budget}");
        }
    }

    const GIB: u64 = 1 << 30;

    #[test]
    fn short_runs_keep_one_exact_window() {
        let plan = TailPlan::for_confidences(10_000, &[0.99, 0.995], 100, GIB).unwrap();
        assert_eq!(plan.layout, TailLayout::Exact { k: 101 });
        assert_eq!(plan.ranks, vec![51, 101]);
        // 65,536 paths: a pilot of N/32 sees only 20 losses above rank 656, and
        // an exact window fits, so no longer pilot is spent.
        let plan = TailPlan::for_confidences(65_536, &[0.99], 1000, GIB).unwrap();
        assert_eq!(plan.layout, TailLayout::Exact { k: 656 });
    }

    #[test]
    fn long_runs_take_the_cheapest_pilot_that_fits() {
        let budget = 640 << 20;
        let plan = TailPlan::for_confidences(10_000_000, &[0.99, 0.995], 1000, budget).unwrap();
        assert_eq!(plan.layout, TailLayout::Piloted { pilot: 312_500 });
        assert!(plan.expected_bytes <= budget);
        // An exact window would take 1000 x 125,017 x 16 bytes = 2 GB; a tighter
        // budget takes a longer pilot.
        let tight =
            TailPlan::for_confidences(10_000_000, &[0.99, 0.995], 1000, budget / 2).unwrap();
        assert_eq!(tight.layout, TailLayout::Piloted { pilot: 1_250_000 });
    }

    #[test]
    fn pilots_are_themselves_piloted_so_memory_stays_bounded() {
        // 10^8 scenarios: the pilot's exact top (k = 10^6 / 4) would alone take
        // 1000 x 312,516 x 16 bytes = 5 GB.
        let budget = 640 << 20;
        let mut plan = TailPlan::for_confidences(100_000_000, &[0.99], 1000, budget).unwrap();
        let mut levels = 1;
        while let TailLayout::Piloted { pilot } = plan.layout {
            assert!(plan.expected_bytes <= budget);
            let next = plan.pilot_plan(1000, budget).unwrap();
            assert_eq!(next.scenarios, pilot);
            plan = next;
            levels += 1;
        }
        assert!(levels >= 3, "{levels}");
    }

    #[test]
    fn windows_too_wide_for_the_budget_are_narrowed_over_passes() {
        // Windows grow as sqrt(N): at 10^9 even a pilot of N/4 needs more than
        // the budget, and at 10^7 so does a budget of 48 MiB; both count first.
        for (paths, budget) in [(1_000_000_000, 640 << 20), (10_000_000, 48 << 20)] {
            let plan = TailPlan::for_confidences(paths, &[0.99, 0.995], 1000, budget).unwrap();
            let TailLayout::Narrowed {
                pilot,
                capacity,
                bins,
            } = plan.layout
            else {
                panic!("{plan:?}");
            };
            assert_eq!(pilot, paths / 32);
            assert!(capacity >= 64 && (16..=4096).contains(&bins), "{plan:?}");
            assert!(plan.expected_bytes <= budget);
            assert!(plan.pilot_plan(1000, budget).unwrap().expected_bytes <= budget);
        }
    }

    #[test]
    fn a_budget_too_small_for_any_layout_is_an_error() {
        let err = TailPlan::for_confidences(100_000, &[0.99], 100_000, 1 << 20).unwrap_err();
        assert_eq!(err.members, 100_000);
        assert!(err.needed_mib > 1);
    }

    #[test]
    fn pilot_windows_bracket_each_rank_and_merge_when_they_overlap() {
        // A pilot with losses 1000, 999, ..., 1 for a run 10x as long.
        let plan = TailPlan {
            scenarios: 10_000,
            ranks: vec![500, 1001],
            layout: TailLayout::Piloted { pilot: 1000 },
            expected_bytes: 0,
        };
        let tail = plan.windows_from_pilot(|r| (1001 - r) as f64, plan.scenarios);
        // Rank 500: e = 50, d = 0.707: pilot ranks 14..=87, losses 987 down to 914.
        // Rank 1001: e = 100.1, d = 0.5: pilot ranks 50..=152 overlap the first.
        assert_eq!(tail.windows.len(), 1);
        assert_eq!(tail.windows[0].hi, 987.0);
        assert_eq!(tail.windows[0].lo, 849.0);
        let pilot = plan.pilot_plan(1, GIB).unwrap();
        assert_eq!(pilot.ranks, vec![14, 50, 87, 152]);
    }
}
