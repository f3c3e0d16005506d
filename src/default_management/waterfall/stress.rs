//! The waterfalls a run walks: in every stress scenario, the default of its
//! own Cover-n groups (the n groups with the largest uncovered loss in it),
//! then that of each set of groups `[waterfall] defaulting_groups`
//! configures. The requirement's driving default is a Cover-n one, in its
//! scenario.

use super::{walk, PositionPnl, Waterfall, WaterfallInput};
use crate::backend::LossBlock;
use crate::book::{self, BookError};
use crate::default_fund::DefaultFund;
use crate::default_management::contagion::{cascade, Capacity, Contagion};
use crate::snapshot::{AfterAssessments, Snapshot};

/// What the stress waterfalls read besides the snapshot, member-indexed.
#[derive(Debug, Clone, Copy)]
pub struct StressCases<'a> {
    pub snapshot: &'a Snapshot,
    /// Each member's loss in each stress scenario, collateral's fall included.
    pub losses: &'a LossBlock,
    /// Collateral after haircuts at the valuation date, `C(m)`.
    pub collateral: &'a [f64],
    pub group_of: &'a [usize],
    /// The fund sized on the same losses: its per-scenario groups default.
    pub fund: &'a DefaultFund,
    /// Each member's close-out cost, USD.
    pub close_out: &'a [f64],
}

/// Which groups default in a stress scenario's waterfall.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DefaultCase {
    /// The scenario's own Cover-n groups.
    CoverN,
    /// Set `i` of `[waterfall] defaulting_groups`.
    Configured(usize),
}

/// One stress scenario's default walked through the waterfall.
#[derive(Debug, Clone, PartialEq)]
pub struct StressWaterfall {
    pub scenario: usize,
    pub case: DefaultCase,
    /// The defaulting groups: Cover-n's largest uncovered loss first, a
    /// configured set's in its order.
    pub groups: Vec<usize>,
    pub waterfall: Waterfall,
    /// The survivors who default in turn, when members state their capital.
    pub contagion: Option<Contagion>,
}

/// Every stress scenario's waterfalls, in scenario order, each scenario's
/// Cover-n case first.
#[derive(Debug, Clone, PartialEq)]
pub struct StressWaterfalls {
    pub cases: Vec<StressWaterfall>,
}

impl StressWaterfalls {
    /// The waterfall of the default that drives the fund's requirement
    /// (`None` without stress scenarios).
    pub fn requirement(&self, fund: &DefaultFund) -> Option<&StressWaterfall> {
        self.cover_n()
            .find(|c| c.scenario == fund.requirement.scenario)
    }

    /// Each stress scenario's Cover-n case.
    pub fn cover_n(&self) -> impl Iterator<Item = &StressWaterfall> {
        self.cases.iter().filter(|c| c.case == DefaultCase::CoverN)
    }

    /// The configured sets' cases.
    pub fn configured(&self) -> impl Iterator<Item = &StressWaterfall> {
        self.cases.iter().filter(|c| c.case != DefaultCase::CoverN)
    }
}

/// Walks every stress scenario's Cover-n default, and each configured set's,
/// through the waterfall `snapshot` configures. The portfolio loss is the member's loss with its
/// collateral's fall taken back out, `P(s, m) = L(s, m) - C(m) + C_s(m)`, so
/// that the margin layer counts the collateral at its scenario value.
pub fn walk_stress(cases: &StressCases) -> Result<StressWaterfalls, BookError> {
    let snapshot = cases.snapshot;
    let config = &snapshot.config;
    let members = snapshot.members.len();
    let contributions: Vec<f64> = snapshot.members.iter().map(|m| m.df_contribution).collect();
    let capacity: Vec<Capacity> = snapshot
        .members
        .iter()
        .map(|m| Capacity {
            capital: m.capital,
            liquid_resources: m.liquid_resources,
        })
        .collect();
    let configured = configured_sets(snapshot, cases.group_of);
    let mut out = Vec::with_capacity(snapshot.stress.len() * (1 + configured.len()));
    for (s, (stress, cover)) in snapshot
        .stress
        .iter()
        .zip(&cases.fund.per_scenario)
        .enumerate()
    {
        let cover_n: Vec<usize> = cover
            .ranked()
            .iter()
            .take(cases.fund.cover)
            .map(|g| g.0)
            .collect();
        let collateral = book::collateral::revalued(snapshot, &stress.price_shocks)?;
        let portfolio_loss: Vec<f64> = (0..members)
            .map(|m| cases.losses.loss(m, s) - cases.collateral[m] + collateral[m])
            .collect();
        let positions = match config.waterfall.after_assessments {
            AfterAssessments::InsuranceFundAdl => {
                positions(snapshot, &stress.price_shocks, &stress.vol_shocks)?
            }
            AfterAssessments::None | AfterAssessments::Vmgh => Vec::new(),
        };
        let walk_with = |defaulting: &[bool]| {
            walk(
                &WaterfallInput {
                    defaulting,
                    portfolio_loss: &portfolio_loss,
                    collateral: &collateral,
                    close_out: cases.close_out,
                    contributions: &contributions,
                    positions: &positions,
                },
                config.default_fund.skin_in_the_game,
                &config.waterfall,
            )
        };
        let sets = std::iter::once((DefaultCase::CoverN, cover_n)).chain(
            configured
                .iter()
                .enumerate()
                .map(|(i, set)| (DefaultCase::Configured(i), set.clone())),
        );
        for (case, groups) in sets {
            let defaulting: Vec<bool> = cases.group_of.iter().map(|g| groups.contains(g)).collect();
            let waterfall = walk_with(&defaulting);
            let contagion = capacity
                .iter()
                .any(Capacity::is_stated)
                .then(|| cascade(&groups, cases.group_of, &capacity, walk_with));
            out.push(StressWaterfall {
                scenario: s,
                case,
                groups,
                waterfall,
                contagion,
            });
        }
    }
    Ok(StressWaterfalls { cases: out })
}

/// The group indices of each configured set; the loader checked that every
/// name is some member's group.
fn configured_sets(snapshot: &Snapshot, group_of: &[usize]) -> Vec<Vec<usize>> {
    let index = |name: &String| {
        let m = snapshot.members.iter().position(|m| &m.group == name);
        m.map(|m| group_of[m])
    };
    snapshot
        .config
        .waterfall
        .defaulting_groups
        .iter()
        .map(|set| set.iter().filter_map(index).collect())
        .collect()
}

/// Every position's P&L in a stress scenario (`vol_shocks`: new vol = old x
/// (1 + shock)).
fn positions(
    snapshot: &Snapshot,
    returns: &[f64],
    vol_shocks: &[f64],
) -> Result<Vec<PositionPnl>, BookError> {
    let vol_factors: Vec<f64> = vol_shocks.iter().map(|v| 1.0 + v).collect();
    snapshot
        .positions
        .iter()
        .map(|p| {
            Ok(PositionPnl {
                member: p.member,
                instrument: p.instrument,
                quantity: p.quantity,
                pnl: book::position_pnl(snapshot, p, returns, &vol_factors)?,
            })
        })
        .collect()
}
