//! Default management: what happens when members default in a stress
//! scenario, after the default fund is sized ([`crate::default_fund`]): the
//! waterfall spends the defaulters' resources, the CCP's and the survivors'
//! in the order the regulation sets (methodology 9.4); closing out the
//! defaulters' portfolios costs spread and market impact (9.5); the reverse
//! stress finds how far each scenario is from exhausting the prefunded
//! resources (9.6) and how deep the Cover-n defaults of the Monte Carlo
//! scenarios cut into them (9.9), and the liquidity stress whether the CCP can pay,
//! currency by currency, when the Cover-n groups default (9.7); and the
//! survivors whose capital their share of the losses exhausts default in
//! turn (contagion, 9.8).

pub mod close_out;
pub mod contagion;
pub mod depletion;
pub mod liquidity;
pub mod reverse_stress;
pub mod waterfall;

pub use liquidity::{liquidity_stress, LiquidityInput, LiquidityStress};
pub use reverse_stress::{
    reverse_stress, ReverseStress, ReverseStressInput, ScenarioReverseStress,
};
