//! Cover-1 / Cover-2 on a hand-worked example with an affiliate group.

use clearstress::backend::LossBlock;
use clearstress::default_fund::{size, DefaultFundInput};
use clearstress::snapshot::AllocationRule;

/// Members A and B are affiliates (group G1); C and D stand alone.
///
/// | scenario | loss A | loss B | loss C | loss D |
/// |---|---|---|---|---|
/// | S0 | 200 | 180 | 250 | 60 |
/// | S1 | 90 | 40 | 400 | 300 |
///
/// Collateral A 100, B 50, C 200, D 80, so uncovered losses are
/// S0: A 100, B 130, C 50, D 0 -> G1 230, C 50, D 0;
/// S1: A 0, B 0, C 200, D 220 -> G1 0, C 200, D 220.
/// Cover-1 = max(230, 220) = 230 in S0 (G1: no single member of G1 loses more
/// than 130, the group 230). Cover-2 = max(230 + 50, 220 + 200) = 420 in S1 (D, C).
fn input_losses() -> LossBlock {
    // member-major: losses[m * scenarios + s]
    LossBlock {
        first: 0,
        scenarios: 2,
        members: 4,
        losses: vec![200.0, 90.0, 180.0, 40.0, 250.0, 400.0, 60.0, 300.0],
    }
}

const COLLATERAL: [f64; 4] = [100.0, 50.0, 200.0, 80.0];
const GROUP_OF: [usize; 4] = [0, 0, 1, 2];
const INITIAL_MARGIN: [f64; 4] = [100.0, 50.0, 150.0, 100.0];
const CONTRIBUTIONS: [f64; 4] = [10.0, 10.0, 30.0, 20.0];

fn input<'a>(
    losses: &'a LossBlock,
    names: &'a [String],
    allocation: AllocationRule,
) -> DefaultFundInput<'a> {
    DefaultFundInput {
        losses,
        collateral: &COLLATERAL,
        group_of: &GROUP_OF,
        group_names: names,
        initial_margin: &INITIAL_MARGIN,
        contributions: &CONTRIBUTIONS,
        cover: 2,
        allocation,
    }
}

fn names() -> Vec<String> {
    vec!["G1".into(), "C".into(), "D".into()]
}

#[test]
fn cover_one_counts_affiliates_as_one_default() {
    let (losses, names) = (input_losses(), names());
    let fund = size(&input(&losses, &names, AllocationRule::InitialMargin));
    assert_eq!(fund.cover1.amount, 230.0);
    assert_eq!(fund.cover1.scenario, 0);
    assert_eq!(fund.cover1.groups, vec![(0, 230.0)]);
}

#[test]
fn cover_two_is_the_two_largest_groups_in_the_worst_scenario() {
    let (losses, names) = (input_losses(), names());
    let fund = size(&input(&losses, &names, AllocationRule::InitialMargin));
    assert_eq!(fund.cover2.amount, 420.0);
    assert_eq!(fund.cover2.scenario, 1);
    assert_eq!(fund.cover2.groups, vec![(2, 220.0), (1, 200.0)]);
    assert_eq!(fund.requirement, fund.cover2);
    assert_eq!(fund.per_scenario[0].cover2, 280.0);
    assert_eq!(fund.per_scenario[0].group_uncovered, vec![230.0, 50.0, 0.0]);
}

#[test]
fn initial_margin_allocation_splits_the_requirement_pro_rata() {
    let (losses, names) = (input_losses(), names());
    let fund = size(&input(&losses, &names, AllocationRule::InitialMargin));
    let required: Vec<f64> = fund.allocation.iter().map(|a| a.required).collect();
    assert_eq!(required, vec![105.0, 52.5, 157.5, 105.0]);
    assert_eq!(fund.allocation[0].top_up, 95.0);
}

#[test]
fn stress_loss_allocation_uses_each_members_worst_uncovered_loss() {
    let (losses, names) = (input_losses(), names());
    let fund = size(&input(&losses, &names, AllocationRule::StressLoss));
    // Worst uncovered: A 100, B 130, C 200, D 220 (total 650).
    let shares: Vec<f64> = fund.allocation.iter().map(|a| a.share).collect();
    for (share, expected) in shares.iter().zip([100.0, 130.0, 200.0, 220.0]) {
        assert!((share - expected / 650.0).abs() < 1e-15);
    }
}
