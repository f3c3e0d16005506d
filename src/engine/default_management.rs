//! The engine's glue for the default-management analyses of a run's own
//! date ([`crate::default_management`]): what each reads of the run, and
//! the revaluations it asks of the backend.

use super::{check_stress_losses, RunError, RunLimits, StressResult};
use crate::backend::Backend;
use crate::book::CompiledBook;
use crate::default_fund::{DefaultFund, Groups};
use crate::default_management::depletion::{DepletionInput, DepletionStream, TooLarge};
use crate::default_management::liquidity::settlement_books;
use crate::default_management::{
    liquidity_stress, reverse_stress, LiquidityInput, LiquidityStress, ReverseStress,
    ReverseStressInput,
};
use crate::margin::MemberMargin;
use crate::scenario::{ScenarioBlock, ScenarioModel};
use crate::snapshot::{CollateralAsset, Snapshot};

/// The prefunded resources the reverse stresses test: the default fund's
/// current contributions plus the CCP's skin in the game.
fn prefunded_resources(snapshot: &Snapshot) -> f64 {
    let contributions: f64 = snapshot.members.iter().map(|m| m.df_contribution).sum();
    contributions + snapshot.config.default_fund.skin_in_the_game
}

/// The Monte Carlo depletion to stream over `paths` scenarios against each
/// member's `collateral`, or why it is not: its exact tails must fit in a
/// quarter of the tail memory; the members' tails are planned in the rest.
pub(super) fn depletion_stream(
    snapshot: &Snapshot,
    collateral: &[f64],
    groups: &Groups,
    confidences: &[f64],
    paths: u64,
    limits: RunLimits,
) -> Result<DepletionStream, TooLarge> {
    let input = DepletionInput {
        collateral: collateral.to_vec(),
        group_of: groups.of.clone(),
        groups: groups.names.len(),
        cover: snapshot.config.default_fund.cover,
        resources: prefunded_resources(snapshot),
        scenarios: paths,
        confidences: confidences.to_vec(),
    };
    let needed = DepletionStream::tail_bytes_of(&input);
    if needed > limits.tail_memory_bytes / 4 {
        return Err(TooLarge {
            needed_bytes: needed,
            limit_bytes: limits.tail_memory_bytes / 4,
        });
    }
    Ok(DepletionStream::new(input))
}

/// The liquidity stress: each settlement currency's positions revalued on
/// their own in the stress scenarios, against the defaulters' collateral
/// and the CCP's configured liquid resources.
pub(super) fn liquidity_stress_of<B: Backend>(
    backend: &B,
    snapshot: &Snapshot,
    model: &ScenarioModel,
    stress: &ScenarioBlock,
    result: &StressResult,
    fund: &DefaultFund,
) -> Result<LiquidityStress, RunError> {
    let mut losses = Vec::new();
    for (currency, book) in settlement_books(snapshot) {
        let compiled = CompiledBook::compile(&book)?;
        let plan = backend.prepare(&compiled, model)?;
        let block = backend.revalue(&plan, stress)?;
        check_stress_losses(&book, &block)?;
        losses.push((currency, block));
    }
    let resources: Vec<(CollateralAsset, f64)> = snapshot
        .config
        .liquidity
        .resources
        .iter()
        // The loader refused any other key.
        .filter_map(|(id, &units)| match id.as_str() {
            "USD" => Some((CollateralAsset::Usd, units)),
            _ => Some((
                CollateralAsset::Asset(snapshot.market.asset_index(id)?),
                units,
            )),
        })
        .collect();
    Ok(liquidity_stress(&LiquidityInput {
        market: &snapshot.market,
        stress,
        losses: &losses,
        collateral: &snapshot.collateral,
        covers: &fund.per_scenario,
        group_of: &result.groups.of,
        cover: snapshot.config.default_fund.cover,
        resources: &resources,
    }))
}

/// The reverse stress of the run's stress scenarios against its prefunded
/// resources (current contributions and skin in the game), revalued in full
/// on the run's plan.
pub(super) fn reverse_stress_of<B: Backend>(
    backend: &B,
    plan: &B::Plan,
    snapshot: &Snapshot,
    stress: &ScenarioBlock,
    margins: &[MemberMargin],
    groups: &Groups,
) -> Result<ReverseStress, RunError> {
    let collateral: Vec<f64> = margins.iter().map(|m| m.collateral).collect();
    let input = ReverseStressInput {
        stress,
        collateral: &collateral,
        group_of: &groups.of,
        groups: groups.names.len(),
        cover: snapshot.config.default_fund.cover,
        resources: prefunded_resources(snapshot),
    };
    reverse_stress(&input, |block, points| {
        let losses = backend.revalue(plan, block)?;
        for (i, &(s, k)) in points.iter().enumerate() {
            for (m, member) in snapshot.members.iter().enumerate() {
                let loss = losses.loss(m, i);
                if !crate::tail::within_range(loss) {
                    return Err(RunError::ReverseStressOutOfRange {
                        scenario: snapshot.stress[s].name.clone(),
                        k,
                        member: member.id.clone(),
                        loss,
                    });
                }
            }
        }
        Ok(losses)
    })
}
