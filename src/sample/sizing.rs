//! The risk a generated book carries, measured with the library itself, so that
//! collateral and default-fund contributions can be sized from it.
//!
//! Every member's loss is linear in its holdings (see [`crate::book`]): a
//! position of q contracts loses q times what one contract loses, a collateral
//! holding of x coins q times what one coin loses. So the generator compiles a
//! *unit book*, one pseudo-member per instrument holding one contract and one
//! per collateral coin holding one coin, revalues it once on the CPU backend
//! over the run's first Monte Carlo scenarios and over the stress scenarios,
//! and then any member's losses are a sparse sum of unit losses. The unit book
//! has a few hundred members where the generated book may have 100,000, which
//! is what makes sizing `init --members 100000` affordable.

use rayon::prelude::*;

use crate::backend::{Backend, CpuBackend, LossBlock};
use crate::book::CompiledBook;
use crate::input::{InputError, Location};
use crate::margin::{margins, MarginRule};
use crate::scenario::stress_block;
use crate::snapshot::{CollateralAsset, CollateralHolding, Member, Position, Snapshot};
use crate::tail::{var_rank, MemberTail};

/// Monte Carlo scenarios the estimate revalues, at most: ES 99% then rests on
/// the 164 largest losses, a standard error of a few percent, which the
/// collateral headroom covers.
const MAX_ESTIMATE_SCENARIOS: usize = 16_384;
/// At least this many, whatever the book's size: 41 losses beyond ES 99%.
const MIN_ESTIMATE_SCENARIOS: usize = 4_096;
/// Revaluation work (units x assets x scenarios) the estimate may spend: a
/// second or two of one core; the largest `init` book (2,360 instruments on
/// 1,000 assets) gets the minimum.
const ESTIMATE_WORK: usize = 1 << 33;
/// Member-scenarios the per-member estimates may take (each member's margin
/// is measured a few times over its scenarios): 100,000 members get the minimum.
const MEMBER_SCENARIOS: usize = 1 << 28;
/// Scenarios per revalued block, bounding the block of market moves in memory.
const BLOCK: usize = 4_096;
/// Losses per push into a member's tail.
const PIECE: usize = 512;

/// Losses of one contract of each instrument and one coin of each collateral
/// asset, in the run's first Monte Carlo scenarios and in each stress scenario.
pub(super) struct UnitLosses {
    scenarios: usize,
    stress: usize,
    /// Unit-major: `mc[u * scenarios + s]`.
    mc: Vec<f64>,
    /// Unit-major: `stress_losses[u * stress + k]`.
    stress_losses: Vec<f64>,
    rule: MarginRule,
}

/// A member's holdings as (unit, quantity): contracts of an instrument, or
/// coins of a collateral asset.
pub(super) type Holdings = [(usize, f64)];

impl UnitLosses {
    /// Revalues the unit book of `book`'s instruments and the collateral
    /// `coins` (asset indices) on its market under its config, over as many
    /// scenarios as a book of its members can afford to be measured on. Units
    /// are numbered instruments first, then coins, in the order given.
    pub(super) fn revalue(book: &Snapshot, coins: &[usize]) -> Result<Self, InputError> {
        let members = book.members.len();
        let config = &book.config;
        let unit = unit_book(book, coins)?;
        let units = unit.members.len();
        let compiled = CompiledBook::compile(&unit).map_err(|e| failed(e.to_string()))?;
        let model =
            crate::engine::scenario_model(&unit, &compiled).map_err(|e| failed(e.to_string()))?;
        let backend = CpuBackend::new(None).map_err(|e| failed(e.to_string()))?;
        let plan = backend
            .prepare(&compiled, &model)
            .map_err(|e| failed(e.to_string()))?;
        let work = units.max(1) * (compiled.assets + 1);
        let scenarios = (ESTIMATE_WORK / work)
            .min(MEMBER_SCENARIOS / members.max(1))
            .clamp(MIN_ESTIMATE_SCENARIOS, MAX_ESTIMATE_SCENARIOS);
        let mut mc = vec![0.0; units * scenarios];
        for first in (0..scenarios).step_by(BLOCK) {
            let end = (first + BLOCK).min(scenarios);
            let block = backend
                .scenarios(&plan, first as u64..end as u64)
                .and_then(|block| backend.revalue(&plan, &block))
                .map_err(|e| failed(e.to_string()))?;
            for u in 0..units {
                mc[u * scenarios + first..u * scenarios + end].copy_from_slice(block.member(u));
            }
        }
        let stressed = backend
            .revalue(&plan, &stress_block(&unit.stress, compiled.assets))
            .map_err(|e| failed(e.to_string()))?;
        Ok(Self {
            scenarios,
            stress: stressed.scenarios,
            mc,
            stress_losses: stressed.losses,
            rule: MarginRule {
                measure: config.risk.margin_measure,
                confidence: config.risk.margin_confidence,
            },
        })
    }

    /// The Monte Carlo losses of `holdings`, scenario by scenario.
    pub(super) fn losses(&self, holdings: &Holdings) -> Vec<f64> {
        sparse_sum(&self.mc, self.scenarios, holdings)
    }

    /// The losses of `holdings` in each stress scenario.
    pub(super) fn stress_losses(&self, holdings: &Holdings) -> Vec<f64> {
        sparse_sum(&self.stress_losses, self.stress, holdings)
    }

    /// Initial margin of a loss vector from [`Self::losses`], by the config's
    /// rule and the engine's own tail estimator.
    pub(super) fn margin(&self, losses: &[f64]) -> f64 {
        let alpha = self.rule.confidence;
        let n = losses.len() as u64;
        let mut tail = MemberTail::exact(var_rank(n, alpha) as usize);
        // A tail raises its floor between pushes, not within one: pushed in
        // pieces, most losses fall under the floor and cost a comparison.
        for (c, piece) in losses.chunks(PIECE).enumerate() {
            tail.push_slice(piece, (c * PIECE) as u64);
        }
        let measures = tail
            .measures(n, &[alpha])
            .expect("an exact tail keeps every rank up to the VaR's");
        margins(vec![measures], self.rule, &[0.0])[0].initial_margin
    }

    /// Stress losses of every member, member-major, as the default fund reads them.
    pub(super) fn stress_block(&self, per_member: &[Vec<f64>]) -> LossBlock {
        LossBlock {
            first: 0,
            scenarios: self.stress,
            members: per_member.len(),
            losses: per_member.concat(),
        }
    }
}

/// The unit book: member `U{u}` holds one contract of instrument u, or one
/// coin of `coins[u - instruments]`, on `book`'s market and config, with the
/// shipped stress scenarios.
fn unit_book(book: &Snapshot, coins: &[usize]) -> Result<Snapshot, InputError> {
    let instruments = book.instruments.len();
    let members = (0..instruments + coins.len())
        .map(|u| Member {
            id: format!("U{u}"),
            name: format!("unit {u}"),
            group: format!("U{u}"),
            df_contribution: 0.0,
            capital: None,
            liquid_resources: None,
        })
        .collect();
    let positions = (0..instruments)
        .map(|u| Position {
            member: u,
            instrument: u,
            quantity: 1.0,
        })
        .collect();
    let collateral = coins
        .iter()
        .enumerate()
        .map(|(k, &asset)| CollateralHolding {
            member: instruments + k,
            asset: CollateralAsset::Asset(asset),
            amount: 1.0,
        })
        .collect();
    Ok(Snapshot {
        valuation_date: book.valuation_date,
        members,
        instruments: book.instruments.clone(),
        positions,
        collateral,
        market: book.market.clone(),
        config: book.config.clone(),
        stress: super::embedded_stress(&book.market)?,
        history: None,
        sources: Vec::new(),
    })
}

/// Sum over `holdings` of quantity x the unit's row of `rows` (`width` wide).
fn sparse_sum(rows: &[f64], width: usize, holdings: &Holdings) -> Vec<f64> {
    let mut out = vec![0.0; width];
    for &(u, q) in holdings {
        for (o, &x) in out.iter_mut().zip(&rows[u * width..(u + 1) * width]) {
            *o += q * x;
        }
    }
    out
}

/// Runs `f` on every member in parallel, results in member order.
pub(super) fn per_member<T: Send>(members: usize, f: impl Fn(usize) -> T + Sync + Send) -> Vec<T> {
    (0..members).into_par_iter().map(f).collect()
}

fn failed(message: String) -> InputError {
    InputError::invalid(
        Location::file("init"),
        format!("sizing the generated book's collateral and default fund: {message}"),
    )
}
