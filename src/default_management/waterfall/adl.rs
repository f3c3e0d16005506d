//! Auto-deleveraging (methodology 9.4): a venue's last layer. The defaulters'
//! positions are closed against the survivors' opposite positions in the same
//! instrument, most profitable and most leveraged first, and each survivor
//! closed out gives up its profit on the part closed.
//!
//! BitMEX ranks a profitable position by `PNL% x effective leverage`, with
//! `PNL% = (mark value - entry value) / |entry value|` and effective leverage
//! `|mark value| / (mark value - bankrupt value)`; Binance by the unrealised
//! P&L as a share of the collateral, times the margin ratio (BitMEX,
//! "Auto-Deleveraging", bitmex.com/app/autoDeleveraging; Binance, "What Is
//! Auto-Deleveraging (ADL) and How Does It Work", binance.com/en/support/faq/
//! 360033525471). Members here are cross-margined, and a position's value at
//! the valuation date is its entry: with `PNL% = pnl_p / N_p` and effective
//! leverage `N_p / E_j`, `E_j = C_s(j) - P(s, j)` the member's equity in the
//! scenario, the score is `pnl_p / E_j`, the profit per dollar of equity. A
//! member whose equity is gone (`E_j <= 0`) is leveraged without bound and
//! comes first, by profit.

use std::collections::BTreeMap;

use super::WaterfallInput;

/// A position and its P&L in the scenario, USD.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct PositionPnl {
    pub member: usize,
    pub instrument: usize,
    /// Signed contracts: positive long.
    pub quantity: f64,
    pub pnl: f64,
}

/// What auto-deleveraging takes from each member (member-indexed) to absorb
/// up to `loss` (`f64::INFINITY`: all it can, the layer's capacity).
///
/// Survivors' profitable positions opposite the defaulters' net position in
/// an instrument are taken in rank order (module docs; ties by member, then
/// position order). Closing a fraction `f` of position p gives up `f x pnl_p`
/// and uses `f x |q_p|` of the defaulters' quantity in the instrument, so
/// `f = min(1, open_i / |q_p|, left / pnl_p)`.
pub(super) fn deleverage(input: &WaterfallInput, loss: f64) -> Vec<f64> {
    let mut open: BTreeMap<usize, f64> = BTreeMap::new();
    for p in input
        .positions
        .iter()
        .filter(|p| input.defaulting[p.member])
    {
        *open.entry(p.instrument).or_default() += p.quantity;
    }
    let opposite = |p: &PositionPnl| {
        open.get(&p.instrument)
            .is_some_and(|q| q * p.quantity < 0.0)
    };
    let mut queue: Vec<&PositionPnl> = input
        .positions
        .iter()
        .filter(|p| !input.defaulting[p.member] && p.pnl > 0.0 && opposite(p))
        .collect();
    let equity = |m: usize| input.collateral[m] - input.portfolio_loss[m];
    queue.sort_by(|a, b| {
        let (ea, eb) = (equity(a.member), equity(b.member));
        (eb <= 0.0)
            .cmp(&(ea <= 0.0))
            .then_with(|| match ea <= 0.0 {
                true => b.pnl.total_cmp(&a.pnl),
                false => (b.pnl / eb).total_cmp(&(a.pnl / ea)),
            })
            .then(a.member.cmp(&b.member))
    });

    let mut taken = vec![0.0; input.defaulting.len()];
    let mut left = loss;
    for p in queue {
        let Some(open) = open.get_mut(&p.instrument) else {
            continue;
        };
        if left <= 0.0 || *open == 0.0 {
            continue;
        }
        let fraction = (open.abs() / p.quantity.abs()).min(1.0).min(left / p.pnl);
        // The survivor's side is opposite: closing it moves the open
        // quantity towards zero.
        *open += fraction * p.quantity;
        let given_up = fraction * p.pnl;
        taken[p.member] += given_up;
        left -= given_up;
    }
    taken
}
