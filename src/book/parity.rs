//! The book's option holdings through put-call parity: one column per strike
//! group instead of one per series, the rest of each series' P&L folded into
//! the linear part of the loss (methodology, "Option revaluation").
//!
//! Series j of strike group g, with its group's column X (the call or the
//! put, [`super::StrikeGroups::column_is_call`]), is worth at the horizon X where it
//! is the column's right, and through C - P = D (F - K), F = S0 c1 R, otherwise
//! X + s D (S0 c1 R - K), s = +1 for a call against a put column and -1 for a
//! put against a call column. Its P&L per unit, less the premium (paid in coin
//! for an inverse series, so worth value0 R), is then
//!
//! ```text
//! pnl_j = X_g + alpha_j R + beta_j,
//! alpha_j = s D S0 c1 - [inverse] value0,   beta_j = -s D K - [linear] value0,
//! ```
//!
//! and with R = 1 + r, a holding of w units adds w X_g to the member's loss,
//! w alpha_j to its weight on the underlying's return r and w (alpha_j +
//! beta_j) to its constant. The algebra is exact; the rounding moves to the
//! parity's terms, a few ulps of |w| D (F + K) per holding, the order of the
//! rounding the series' own parity carries ([`super::series`]).
//!
//! A member's holdings of the series of one group then merge into one, and a
//! block of scenarios holds one column per group: at four series a strike, a
//! quarter of the P&Ls to compute, store and read.

use super::{CompiledBook, MemberOptions, OptionSeries};
use crate::snapshot::{OptionRight, Settlement};

/// The linear part of the loss and the option holdings with every series
/// written as its strike group's column plus a linear term.
#[derive(Debug, Clone, PartialEq)]
pub struct ParityFold {
    /// Assets x members, asset-major, as [`CompiledBook::weights`], with each
    /// holding's `w alpha_j` added.
    pub weights: Vec<f64>,
    /// Per member, as [`CompiledBook::constant`], with each holding's
    /// `w (alpha_j + beta_j)` added.
    pub constant: Vec<f64>,
    /// Holdings of the strike groups' columns: `series` holds strike groups,
    /// `weight` the summed weights of the member's series in each.
    pub holdings: MemberOptions,
}

impl OptionSeries {
    /// Series `j`'s `(alpha_j, beta_j)`: its P&L per unit is its strike
    /// group's column plus `alpha_j R + beta_j` ([`ParityFold`]).
    pub fn parity_terms(&self, j: usize) -> (f64, f64) {
        let (g, groups) = (self.group[j], &self.groups);
        let call = self.right[j] == OptionRight::Call;
        let sign = match (call, groups.column_is_call(g)) {
            (true, false) => 1.0,
            (false, true) => -1.0,
            _ => 0.0,
        };
        let discount = groups.discount1[g];
        let forward0 = groups.spot[g] * groups.carry1[g];
        let value0 = self.value0[j];
        match self.settlement[j] {
            Settlement::Inverse => (
                sign * discount * forward0 - value0,
                -sign * discount * groups.strike[g],
            ),
            Settlement::Linear => (
                sign * discount * forward0,
                -sign * discount * groups.strike[g] - value0,
            ),
        }
    }
}

impl CompiledBook {
    /// The book's losses with one option column per strike group
    /// ([`ParityFold`]): member m's loss in a scenario with returns r is
    /// `constant[m] + sum_a weights[a m] r_a + sum_g w_g X_g`, equal to the
    /// book's own up to the parity's rounding.
    pub fn parity_fold(&self) -> ParityFold {
        let (members, options) = (self.members, &self.options);
        let mut weights = self.weights.clone();
        let mut constant = self.constant.clone();
        let mut entries = Vec::with_capacity(self.member_options.series.len());
        for m in 0..members {
            for (j, w) in self.member_options.of(m) {
                let (alpha, beta) = options.parity_terms(j);
                weights[options.underlying(j) * members + m] += w * alpha;
                constant[m] += w * (alpha + beta);
                entries.push((m, options.group[j], w));
            }
        }
        ParityFold {
            weights,
            constant,
            holdings: MemberOptions::from_entries(members, entries),
        }
    }
}
