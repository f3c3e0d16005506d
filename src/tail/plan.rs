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

/// How the member tails of a run are laid out.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TailLayout {
    /// One window holding each member's `k` largest losses: no pilot.
    Exact { k: usize },
    /// A pilot over scenarios `0..pilot` keeping each member's `pilot_k` largest
    /// losses places a narrow window around each rank.
    Piloted { pilot: u64, pilot_k: usize },
}

/// The ranks a run needs and where their windows go.
#[derive(Debug, Clone, PartialEq)]
pub struct TailPlan {
    pub scenarios: u64,
    /// Ranks of the VaR losses at every confidence, ascending, distinct.
    pub ranks: Vec<u64>,
    pub layout: TailLayout,
    /// Expected peak bytes of all members' tails.
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
    /// The cheapest layout for `members` tails at confidences `alphas` within
    /// `budget_bytes`: the smallest pilot that fits, or one exact window where no
    /// pilot can estimate the ranks.
    pub fn new(
        scenarios: u64,
        alphas: &[f64],
        members: usize,
        budget_bytes: u64,
    ) -> Result<Self, TailMemoryError> {
        let mut ranks: Vec<u64> = alphas.iter().map(|&a| var_rank(scenarios, a)).collect();
        ranks.sort_unstable();
        ranks.dedup();
        let k = ranks.last().copied().unwrap_or(1) as usize;
        let members_u = members as u64;
        let exact_bytes = members_u * TopK::capacity(k) as u64 * ITEM_BYTES;
        let piloted = PILOT_FRACTIONS.iter().find_map(|&f| {
            let pilot = scenarios.div_ceil(f);
            let e_max = k as f64 * pilot as f64 / scenarios as f64;
            if e_max < MIN_PILOT_EXCEEDANCES {
                return None;
            }
            let windows: f64 = ranks
                .iter()
                .map(|&r| {
                    let (a, b) = pilot_ranks(r, pilot, scenarios);
                    (b - a) as f64 * scenarios as f64 / pilot as f64
                })
                .sum();
            let pilot_k = pilot_ranks(k as u64, pilot, scenarios).1 as usize;
            let per_member = (1.1 * windows).max(TopK::capacity(pilot_k) as f64) as u64;
            let bytes = members_u * per_member * ITEM_BYTES;
            (bytes <= budget_bytes).then_some((TailLayout::Piloted { pilot, pilot_k }, bytes))
        });
        let (layout, expected_bytes) = match piloted {
            Some(p) => p,
            None if exact_bytes <= budget_bytes => (TailLayout::Exact { k }, exact_bytes),
            None => {
                return Err(TailMemoryError {
                    scenarios,
                    members,
                    needed_mib: exact_bytes.div_ceil(1 << 20),
                    limit_mib: budget_bytes >> 20,
                })
            }
        };
        Ok(Self {
            scenarios,
            ranks,
            layout,
            expected_bytes,
        })
    }

    /// The largest rank: an exact window of this size resolves every statistic.
    pub fn k(&self) -> usize {
        self.ranks.last().copied().unwrap_or(1) as usize
    }

    /// The tail each member starts with: the pilot's, or the run's exact one.
    pub fn first_tail(&self) -> MemberTail {
        match self.layout {
            TailLayout::Exact { k } => MemberTail::exact(k),
            TailLayout::Piloted { pilot_k, .. } => MemberTail::exact(pilot_k),
        }
    }

    /// The run's tail for a member from its pilot losses (best first, the
    /// `pilot_k` largest of the pilot's scenarios).
    pub fn windows_from_pilot(&self, pilot_top: &[(f64, u64)]) -> MemberTail {
        let TailLayout::Piloted { pilot, .. } = self.layout else {
            return MemberTail::exact(self.k());
        };
        let scale = self.scenarios as f64 / pilot as f64;
        // A window may hold more losses than the rank it brackets, and a lower
        // rank sums through all of them: each keeps up to the largest rank.
        let k = self.k();
        let mut windows: Vec<Window> = Vec::with_capacity(self.ranks.len());
        for &r in &self.ranks {
            let (a, b) = pilot_ranks(r, pilot, self.scenarios);
            let hi = if a >= 1 {
                pilot_top.get(a as usize - 1).map_or(f64::INFINITY, |x| x.0)
            } else {
                f64::INFINITY
            };
            let lo = pilot_top
                .get(b as usize - 1)
                .map_or(f64::NEG_INFINITY, |x| x.0);
            let expected = (1.1 * (b - a) as f64 * scale) as usize;
            match windows.last_mut() {
                // Overlapping windows become one.
                Some(last) if hi >= last.lo => {
                    last.lo = last.lo.min(lo);
                    last.top = TopK::new(k, last.top.heap_bytes() / 16 + expected);
                }
                _ => windows.push(Window {
                    lo,
                    hi,
                    top: TopK::new(k, expected),
                }),
            }
        }
        MemberTail::new(windows)
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

    const GIB: u64 = 1 << 30;

    #[test]
    fn short_runs_keep_one_exact_window() {
        let plan = TailPlan::new(10_000, &[0.99, 0.995], 100, GIB).unwrap();
        assert_eq!(plan.layout, TailLayout::Exact { k: 101 });
        assert_eq!(plan.ranks, vec![51, 101]);
    }

    #[test]
    fn long_runs_take_the_cheapest_pilot_that_fits() {
        let budget = 640 << 20;
        let plan = TailPlan::new(10_000_000, &[0.99, 0.995], 1000, budget).unwrap();
        let TailLayout::Piloted { pilot, pilot_k } = plan.layout else {
            panic!("{plan:?}");
        };
        assert_eq!(pilot, 312_500);
        assert!(pilot_k > 3125 && pilot_k < 3500, "{pilot_k}");
        assert!(plan.expected_bytes <= budget);
        // An exact window would take 1000 x 200,003 x 16 bytes = 3.2 GB; a tighter
        // budget takes a longer pilot.
        let tight = TailPlan::new(10_000_000, &[0.99, 0.995], 1000, budget / 2).unwrap();
        assert!(matches!(tight.layout, TailLayout::Piloted { pilot: 1_250_000, .. }), "{tight:?}");
    }

    #[test]
    fn a_budget_too_small_for_any_layout_is_an_error() {
        let err = TailPlan::new(100_000, &[0.99], 100_000, 1 << 20).unwrap_err();
        assert_eq!(err.members, 100_000);
        assert!(err.needed_mib > 1);
    }

    #[test]
    fn pilot_windows_bracket_each_rank_and_merge_when_they_overlap() {
        // A pilot of 1,000 losses 1000, 999, ..., 1 for a run 10x as long.
        let pilot_top: Vec<(f64, u64)> = (0..1000).map(|i| ((1000 - i) as f64, i)).collect();
        let plan = TailPlan {
            scenarios: 10_000,
            ranks: vec![500, 1001],
            layout: TailLayout::Piloted {
                pilot: 1000,
                pilot_k: 1000,
            },
            expected_bytes: 0,
        };
        let tail = plan.windows_from_pilot(&pilot_top);
        // Rank 500: e = 50, d = 0.707: pilot ranks 14..=87, losses 987 down to 914.
        // Rank 1001: e = 100.1, d = 0.5: pilot ranks 50..=152 overlap the first.
        assert_eq!(tail.windows.len(), 1);
        assert_eq!(tail.windows[0].hi, 987.0);
        assert_eq!(tail.windows[0].lo, 1000.0 - 151.0);
    }
}
