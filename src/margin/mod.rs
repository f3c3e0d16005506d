//! Initial margin per member from its tail statistics, and the margin shortfall
//! or excess against the collateral it has posted.

pub mod distribution;
pub mod procyclicality;

use rayon::prelude::*;

use crate::snapshot::MarginMeasure;
use crate::tail::TailMeasure;

/// One member's risk measures and margin.
#[derive(Debug, Clone, PartialEq)]
pub struct MemberMargin {
    /// VaR and ES at every configured confidence, ascending.
    pub measures: Vec<TailMeasure>,
    /// The margin measure at the margin confidence, floored at zero (a book whose
    /// tail is a gain still posts nothing negative).
    pub initial_margin: f64,
    /// Collateral after haircuts at the valuation date, USD.
    pub collateral: f64,
    /// Collateral minus initial margin: negative is a margin call.
    pub excess: f64,
}

impl MemberMargin {
    pub fn at(&self, confidence: f64) -> Option<&TailMeasure> {
        self.measures
            .iter()
            .find(|m| (m.confidence - confidence).abs() < 1e-12)
    }
}

/// The margin stage of a run: every member's measures and margin.
#[derive(Debug, Clone, PartialEq)]
pub struct MarginResult {
    pub rule: MarginRule,
    /// Every confidence at which VaR and ES are reported, ascending.
    pub confidences: Vec<f64>,
    pub members: Vec<MemberMargin>,
    /// Per member: gross notional of positions, USD.
    pub gross_notional: Vec<f64>,
    /// The anti-procyclicality tool applied to the margins, if any.
    pub apc: Option<procyclicality::AppliedApc>,
}

impl MarginResult {
    pub fn initial_margins(&self) -> Vec<f64> {
        self.members.iter().map(|m| m.initial_margin).collect()
    }

    /// Members by initial margin, largest first (ties by member order).
    pub fn largest_first(&self) -> Vec<usize> {
        let m = &self.members;
        let mut order: Vec<usize> = (0..m.len()).collect();
        order.sort_by(|&a, &b| {
            m[b].initial_margin
                .total_cmp(&m[a].initial_margin)
                .then(a.cmp(&b))
        });
        order
    }
}

/// Which measure sets the margin, at what confidence.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct MarginRule {
    pub measure: MarginMeasure,
    pub confidence: f64,
}

/// Margins of every member from its tail measures (which must include the
/// rule's confidence) and its collateral.
pub fn margins(
    measures: Vec<Vec<TailMeasure>>,
    rule: MarginRule,
    collateral: &[f64],
) -> Vec<MemberMargin> {
    measures
        .into_par_iter()
        .zip(collateral)
        .map(|(measures, &collateral)| {
            let at_rule = measures
                .iter()
                .find(|m| (m.confidence - rule.confidence).abs() < 1e-12)
                .map_or(0.0, |m| match rule.measure {
                    MarginMeasure::ValueAtRisk => m.var,
                    MarginMeasure::ExpectedShortfall => m.es,
                });
            let initial_margin = at_rule.max(0.0);
            MemberMargin {
                measures,
                initial_margin,
                collateral,
                excess: collateral - initial_margin,
            }
        })
        .collect()
}
