//! Reverse stress: how much worse than a stress scenario the market must be,
//! and how many defaults it takes, before the prefunded resources run out.
//!
//! Stress scenario s moves asset a by `r_a` and its implied vol by the factor
//! `v_a`. Scaled by the multiplier `k >= 0` it moves them by
//!
//! ```text
//! r_a(k) = k r_a,      v_a(k) = 1 + k (v_a - 1)
//! ```
//!
//! (k = 1 is the scenario, k = 0 the horizon passing with no move: theta,
//! funding and carry only). `F(k)` is the scaled scenario's Cover-n, the sum
//! of the n largest group uncovered losses (methodology 9.2) with the groups
//! ranked anew at each k, and the prefunded resources `R` are the default
//! fund's current contributions plus the CCP's skin in the game. The
//! exhausting multiplier is
//!
//! ```text
//! k* = min { k in [0, k_hi] : F(k) >= R }
//! k_hi = min( K_CAP, 0.999 k_zero ),   k_zero = min over r_a < 0 of -1/r_a
//!                                            and over v_a < 1 of 1/(1 - v_a)
//! ```
//!
//! so that no price or implied vol reaches zero. An option book is not linear
//! in k, so `F` is not monotone in general: `F` is evaluated by full
//! revaluation on a grid of [`GRID`] + 1 points of `[0, k_hi]`, and the
//! first grid step where it reaches `R` is bisected until the bracket is
//! narrower than [`TOLERANCE`] (relative to its upper end). A crossing
//! that goes and comes back inside one grid step is missed: the grid's step
//! is reported. On a linear book without collateral `F(k) = k F(1)` and
//! `k* = R / F(1)` (tested). The groups exhausting the resources at k = 1
//! are the fewest that do, in order of uncovered loss: the smallest j with
//! `sum of the j largest U(s, g) >= R` (EBA/ESMA reverse stress testing:
//! "identify scenarios that would exhaust the resources"; CPMI-IOSCO PFMI
//! 4.7, and the Bank of England's 2024 CCP supervisory stress test's
//! reverse stress).

use crate::backend::LossBlock;
use crate::default_fund::{group_uncovered, ranked};
use crate::scenario::ScenarioBlock;

/// The largest multiplier searched: a market 50 times as bad as the worst
/// stress scenario is not a scenario a fund is sized against.
pub const K_CAP: f64 = 50.0;
/// Grid steps over `[0, k_hi]` before the bisection.
pub const GRID: usize = 64;
/// The bisection stops when its bracket is this narrow, relative to its
/// upper end.
pub const TOLERANCE: f64 = 1e-9;

/// What the search reads of a run: the stress scenarios and everything
/// [`group_uncovered`] needs.
#[derive(Debug, Clone, Copy)]
pub struct ReverseStressInput<'a> {
    /// The stress scenarios at k = 1.
    pub stress: &'a ScenarioBlock,
    pub collateral: &'a [f64],
    pub group_of: &'a [usize],
    pub groups: usize,
    /// How many largest groups default (n of Cover-n).
    pub cover: usize,
    /// Prefunded resources R: contributions plus skin in the game.
    pub resources: f64,
}

/// One stress scenario's reverse stress.
#[derive(Debug, Clone, PartialEq)]
pub struct ScenarioReverseStress {
    /// Cover-n at k = 1.
    pub cover_n: f64,
    /// The largest multiplier searched, k_hi.
    pub k_searched: f64,
    /// The exhausting multiplier, if one is at most `k_searched`.
    pub k_star: Option<f64>,
    /// Cover-n at `k_star` (R, up to the bisection's bracket).
    pub cover_at_k_star: Option<f64>,
    /// The fewest groups whose default exhausts R at k = 1, in order of
    /// uncovered loss; `None` when all of them together do not.
    pub groups_to_exhaust: Option<usize>,
}

#[derive(Debug, Clone, PartialEq)]
pub struct ReverseStress {
    pub resources: f64,
    pub cover: usize,
    /// Per stress scenario, in the block's order.
    pub scenarios: Vec<ScenarioReverseStress>,
    /// Full revaluations of one scenario the search took.
    pub revaluations: usize,
}

impl ReverseStress {
    /// The scenario with the smallest exhausting multiplier (first on ties).
    pub fn most_severe(&self) -> Option<(usize, f64)> {
        self.scenarios
            .iter()
            .enumerate()
            .filter_map(|(s, r)| Some((s, r.k_star?)))
            .min_by(|a, b| a.1.total_cmp(&b.1))
    }
}

/// The reverse stress of every scenario of `input.stress`; `revalue(block,
/// points)` prices a block of scenarios for every member (the run's backend
/// on its compiled book, so the search revalues in full), scenario i of the
/// block being stress scenario `points[i].0` scaled by `points[i].1`.
pub fn reverse_stress<E>(
    input: &ReverseStressInput,
    mut revalue: impl FnMut(&ScenarioBlock, &[(usize, f64)]) -> Result<LossBlock, E>,
) -> Result<ReverseStress, E> {
    let stress = input.stress;
    let count = stress.len();
    if count == 0 {
        return Ok(ReverseStress {
            resources: input.resources,
            cover: input.cover.max(1),
            scenarios: Vec::new(),
            revaluations: 0,
        });
    }
    let mut revalue = |points: &[(usize, f64)]| revalue(&scaled(stress, points), points);
    let k_hi: Vec<f64> = (0..count).map(|s| searched(stress, s)).collect();
    let cover_n = |losses: &LossBlock, i: usize| {
        let uncovered = group_uncovered(losses, i, input.collateral, input.group_of, input.groups);
        ranked(&uncovered)
            .iter()
            .take(input.cover.max(1))
            .map(|g| g.1)
            .sum::<f64>()
    };
    let exhausted = |f: f64| f >= input.resources;

    // k = 1 (the fewest groups), then the grid, each in one block.
    let at_one = revalue(&(0..count).map(|s| (s, 1.0)).collect::<Vec<_>>())?;
    let grid_k = |s: usize, i: usize| k_hi[s] * i as f64 / GRID as f64;
    let grid: Vec<(usize, f64)> = (0..count)
        .flat_map(|s| (0..=GRID).map(move |i| (s, i)))
        .map(|(s, i)| (s, grid_k(s, i)))
        .collect();
    let on_grid = revalue(&grid)?;
    let mut revaluations = count + grid.len();

    // Per scenario: the bracket (k below, k and F at or above R).
    let mut brackets: Vec<Option<(f64, f64, f64)>> = (0..count)
        .map(|s| {
            let f = |i: usize| cover_n(&on_grid, s * (GRID + 1) + i);
            (0..=GRID).find(|&i| exhausted(f(i))).map(|i| match i {
                0 => (0.0, 0.0, f(0)),
                _ => (grid_k(s, i - 1), grid_k(s, i), f(i)),
            })
        })
        .collect();
    loop {
        let open: Vec<(usize, f64)> = brackets
            .iter()
            .enumerate()
            .filter_map(|(s, b)| {
                let (lo, hi, _) = (*b)?;
                (hi - lo > TOLERANCE * hi).then_some((s, 0.5 * (lo + hi)))
            })
            .collect();
        if open.is_empty() {
            break;
        }
        let losses = revalue(&open)?;
        revaluations += open.len();
        for (i, &(s, mid)) in open.iter().enumerate() {
            let f = cover_n(&losses, i);
            if let Some((lo, hi, f_hi)) = &mut brackets[s] {
                if exhausted(f) {
                    (*hi, *f_hi) = (mid, f);
                } else {
                    *lo = mid;
                }
            }
        }
    }

    let scenarios = (0..count)
        .map(|s| {
            let uncovered =
                group_uncovered(&at_one, s, input.collateral, input.group_of, input.groups);
            let mut total = 0.0;
            let groups_to_exhaust = ranked(&uncovered).iter().position(|g| {
                total += g.1;
                exhausted(total)
            });
            ScenarioReverseStress {
                cover_n: cover_n(&at_one, s),
                k_searched: k_hi[s],
                k_star: brackets[s].map(|b| b.1),
                cover_at_k_star: brackets[s].map(|b| b.2),
                groups_to_exhaust: groups_to_exhaust.map(|j| j + 1),
            }
        })
        .collect();
    Ok(ReverseStress {
        resources: input.resources,
        cover: input.cover.max(1),
        scenarios,
        revaluations,
    })
}

/// k_hi of scenario `s`: [`K_CAP`], or less where a price or an implied
/// vol would reach zero first.
fn searched(stress: &ScenarioBlock, s: usize) -> f64 {
    let to_zero = |x: f64| if x < 0.0 { -1.0 / x } else { f64::INFINITY };
    let zero = stress
        .returns_of(s)
        .iter()
        .map(|&r| to_zero(r))
        .chain(stress.vol_factors_of(s).iter().map(|&v| to_zero(v - 1.0)))
        .fold(f64::INFINITY, f64::min);
    K_CAP.min(0.999 * zero)
}

/// One scenario per `(s, k)`: stress scenario s scaled by k.
fn scaled(stress: &ScenarioBlock, points: &[(usize, f64)]) -> ScenarioBlock {
    let a = stress.assets;
    let mut block = ScenarioBlock::with_capacity(0, points.len(), a);
    for (i, &(s, k)) in points.iter().enumerate() {
        let row = i * a..(i + 1) * a;
        for ((r, v), (&r1, &v1)) in block.returns[row.clone()]
            .iter_mut()
            .zip(&mut block.vol_factors[row])
            .zip(stress.returns_of(s).iter().zip(stress.vol_factors_of(s)))
        {
            *r = k * r1;
            *v = 1.0 + k * (v1 - 1.0);
        }
    }
    block
}

#[cfg(test)]
mod tests {
    use super::*;

    /// One asset moved by -10% at k = 1, so k = -return / 0.1, and members
    /// whose losses are `loss[m](k)`, each its own group, without collateral.
    fn search(loss: &[fn(f64) -> f64], cover: usize, resources: f64) -> ScenarioReverseStress {
        let stress = ScenarioBlock {
            first: 0,
            assets: 1,
            returns: vec![-0.1],
            vol_factors: vec![1.0],
        };
        let members = loss.len();
        let group_of: Vec<usize> = (0..members).collect();
        let input = ReverseStressInput {
            stress: &stress,
            collateral: &vec![0.0; members],
            group_of: &group_of,
            groups: members,
            cover,
            resources,
        };
        let revalue = |block: &ScenarioBlock, _: &[(usize, f64)]| {
            let scenarios = block.len();
            let losses = (0..members)
                .flat_map(|m| block.returns.iter().map(move |r| loss[m](-r / 0.1)))
                .collect();
            Ok::<_, ()>(LossBlock {
                first: 0,
                scenarios,
                members,
                losses,
            })
        };
        reverse_stress(&input, revalue).unwrap().scenarios.remove(0)
    }

    /// L(k) = 300 k (k - 2)^2 reaches R = 100 first near k = 0.0915, falls
    /// back to 0 at k = 2 and rises again: the search reports the first
    /// crossing, to the tolerance.
    #[test]
    fn the_first_crossing_is_found_where_the_loss_is_not_monotone() {
        let loss = |k: f64| 300.0 * k * (k - 2.0) * (k - 2.0);
        let x = search(&[loss], 1, 100.0);
        let (mut lo, mut hi) = (0.0, 0.5);
        for _ in 0..100 {
            let mid = 0.5 * (lo + hi);
            if loss(mid) >= 100.0 {
                hi = mid
            } else {
                lo = mid
            }
        }
        let k_star = x.k_star.unwrap();
        assert!(
            (k_star - hi).abs() <= 2.0 * TOLERANCE * hi,
            "{k_star} against {hi}"
        );
        assert_eq!(x.k_searched, 0.999 * 10.0);
    }

    /// Resources already exhausted with no move at all (theta and funding
    /// alone) give k* = 0.
    #[test]
    fn resources_exhausted_without_a_move_give_k_star_zero() {
        let x = search(&[|k| 50.0 + k], 1, 40.0);
        assert_eq!(x.k_star, Some(0.0));
        assert_eq!(x.cover_at_k_star, Some(50.0));
    }

    /// Groups ranked by uncovered loss at k = 1 (40, 30, 20, 10): R = 65
    /// takes the two largest, R = 95 all four, R = 101 is never reached;
    /// Cover-2 is 70 whatever R.
    #[test]
    fn the_fewest_groups_exhausting_the_resources_are_counted_largest_first() {
        let losses: [fn(f64) -> f64; 4] = [|k| 20.0 * k, |k| 40.0 * k, |k| 10.0 * k, |k| 30.0 * k];
        for (resources, groups) in [
            (65.0, Some(2)),
            (70.0, Some(2)),
            (95.0, Some(4)),
            (101.0, None),
        ] {
            let x = search(&losses, 2, resources);
            assert_eq!(x.groups_to_exhaust, groups, "R = {resources}");
            assert_eq!(x.cover_n, 70.0);
        }
    }
}
