//! The default fund: Cover-1 / Cover-2 sizing on stress scenarios and its
//! allocation among members. The default waterfall that spends it is
//! [`crate::default_management::waterfall`].
//!
//! In stress scenario s, member m's loss (portfolio plus the fall in its
//! collateral's haircut value) is L(s, m) and its collateral after haircuts at the
//! valuation date is C(m); the CCP is left with the uncovered loss
//! `U(s, m) = max(L(s, m) - C(m), 0)`, i.e. the portfolio loss beyond the
//! collateral revalued in the same scenario. Affiliates default together, so
//! losses are summed per group: `U(s, g) = sum_{m in g} U(s, m)`. Cover-n in
//! scenario s is the sum of the n largest group losses; the requirement is the
//! largest over scenarios (CPMI-IOSCO PFMI Principle 4, EMIR Art. 42-43).
//!
//! Allocation rule (stated in the output): the requirement is split pro rata to
//! each member's initial margin (`initial-margin`), or to each member's largest
//! uncovered stress loss (`stress-loss`).

use crate::backend::LossBlock;
use crate::snapshot::{AllocationRule, Member};

/// Affiliate groups, which default together: names in order of first
/// appearance among the members, and each member's group.
#[derive(Debug, Clone, PartialEq)]
pub struct Groups {
    pub names: Vec<String>,
    /// Group index of each member.
    pub of: Vec<usize>,
}

impl Groups {
    pub fn of(members: &[Member]) -> Self {
        let mut names: Vec<String> = Vec::new();
        let of = members
            .iter()
            .map(|m| match names.iter().position(|g| *g == m.group) {
                Some(i) => i,
                None => {
                    names.push(m.group.clone());
                    names.len() - 1
                }
            })
            .collect();
        Self { names, of }
    }
}

/// Everything the sizing needs, as plain arrays (member-indexed unless said).
#[derive(Debug, Clone, Copy)]
pub struct DefaultFundInput<'a> {
    /// Each member's loss in each stress scenario.
    pub losses: &'a LossBlock,
    pub collateral: &'a [f64],
    /// Group index of each member; groups are `0..group_names.len()`.
    pub group_of: &'a [usize],
    pub group_names: &'a [String],
    pub initial_margin: &'a [f64],
    /// Current prefunded contributions.
    pub contributions: &'a [f64],
    /// How many largest groups must be covered (2 for Cover-2).
    pub cover: usize,
    pub allocation: AllocationRule,
}

/// The groups whose joint default sets a cover amount.
#[derive(Debug, Clone, PartialEq)]
pub struct CoverDriver {
    pub amount: f64,
    pub scenario: usize,
    /// (group, uncovered loss), largest first.
    pub groups: Vec<(usize, f64)>,
}

#[derive(Debug, Clone, PartialEq)]
pub struct ScenarioCover {
    /// Uncovered loss per group, in group order.
    pub group_uncovered: Vec<f64>,
    /// Largest group loss (Cover-1) and the two largest (Cover-2).
    pub cover1: f64,
    pub cover2: f64,
    /// The configured cover, n largest.
    pub cover_n: f64,
}

impl ScenarioCover {
    /// (group, uncovered loss), largest first; ties by group index, so that
    /// the groups driving a cover are the same on every run.
    pub fn ranked(&self) -> Vec<(usize, f64)> {
        ranked(&self.group_uncovered)
    }
}

/// (group, uncovered loss), largest first; ties by group index.
pub fn ranked(group_uncovered: &[f64]) -> Vec<(usize, f64)> {
    let mut ranked: Vec<(usize, f64)> = group_uncovered.iter().copied().enumerate().collect();
    ranked.sort_by(|a, b| b.1.total_cmp(&a.1).then(a.0.cmp(&b.0)));
    ranked
}

#[derive(Debug, Clone, PartialEq)]
pub struct MemberAllocation {
    pub share: f64,
    pub required: f64,
    pub current: f64,
    /// required - current: positive means the member must top up.
    pub top_up: f64,
}

#[derive(Debug, Clone, PartialEq)]
pub struct DefaultFund {
    pub cover: usize,
    pub per_scenario: Vec<ScenarioCover>,
    pub cover1: CoverDriver,
    pub cover2: CoverDriver,
    /// The configured cover's driver; its amount is the fund requirement.
    pub requirement: CoverDriver,
    pub allocation_rule: AllocationRule,
    pub allocation: Vec<MemberAllocation>,
}

/// Uncovered loss of member `m` in scenario `s`.
pub fn uncovered(input: &DefaultFundInput, s: usize, m: usize) -> f64 {
    (input.losses.loss(m, s) - input.collateral[m]).max(0.0)
}

/// `U(s, g)` of every group in scenario `s` of `losses`: its members' losses
/// beyond their `collateral`, each floored at zero, summed (`group_of[m] <
/// groups`).
pub fn group_uncovered(
    losses: &LossBlock,
    s: usize,
    collateral: &[f64],
    group_of: &[usize],
    groups: usize,
) -> Vec<f64> {
    let mut group_uncovered = vec![0.0; groups];
    for (m, &g) in group_of.iter().enumerate() {
        group_uncovered[g] += (losses.loss(m, s) - collateral[m]).max(0.0);
    }
    group_uncovered
}

/// Sizes and allocates the default fund.
pub fn size(input: &DefaultFundInput) -> DefaultFund {
    let (scenarios, members) = (input.losses.scenarios, input.losses.members);
    let groups = input.group_names.len();
    let n = input.cover.max(1);
    let mut per_scenario = Vec::with_capacity(scenarios);
    let mut drivers = [empty_driver(), empty_driver(), empty_driver()];
    for s in 0..scenarios {
        let group_uncovered =
            group_uncovered(input.losses, s, input.collateral, input.group_of, groups);
        let ranked = ranked(&group_uncovered);
        let top = |k: usize| ranked.iter().take(k).map(|g| g.1).sum::<f64>();
        let (cover1, cover2, cover_n) = (top(1), top(2), top(n));
        for (driver, (k, amount)) in
            drivers
                .iter_mut()
                .zip([(1, cover1), (2, cover2), (n, cover_n)])
        {
            if amount > driver.amount || (s == 0 && driver.groups.is_empty()) {
                *driver = CoverDriver {
                    amount,
                    scenario: s,
                    groups: ranked.iter().take(k).copied().collect(),
                };
            }
        }
        per_scenario.push(ScenarioCover {
            group_uncovered,
            cover1,
            cover2,
            cover_n,
        });
    }
    let [cover1, cover2, requirement] = drivers;

    let weights: Vec<f64> = match input.allocation {
        AllocationRule::InitialMargin => input.initial_margin.to_vec(),
        AllocationRule::StressLoss => (0..members)
            .map(|m| {
                (0..scenarios)
                    .map(|s| uncovered(input, s, m))
                    .fold(0.0, f64::max)
            })
            .collect(),
    };
    let total_weight: f64 = weights.iter().sum();
    let allocation = (0..members)
        .map(|m| {
            let share = if total_weight > 0.0 {
                weights[m] / total_weight
            } else {
                1.0 / members as f64
            };
            let required = share * requirement.amount;
            let current = input.contributions[m];
            MemberAllocation {
                share,
                required,
                current,
                top_up: required - current,
            }
        })
        .collect();

    DefaultFund {
        cover: n,
        per_scenario,
        cover1,
        cover2,
        requirement,
        allocation_rule: input.allocation,
        allocation,
    }
}

fn empty_driver() -> CoverDriver {
    CoverDriver {
        amount: 0.0,
        scenario: 0,
        groups: Vec::new(),
    }
}
