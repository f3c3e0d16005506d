//! Default management: what happens when members default, beyond the
//! default fund's sizing: what closing out their portfolios costs
//! (close-out), how far the stress scenarios are from exhausting the
//! prefunded resources (reverse stress), and whether the CCP can pay,
//! currency by currency, when the Cover-n groups default (liquidity stress).

pub mod close_out;
pub mod liquidity;
pub mod reverse_stress;

pub use liquidity::{liquidity_stress, Currency, LiquidityInput, LiquidityStress};
pub use reverse_stress::{
    reverse_stress, ReverseStress, ReverseStressInput, ScenarioReverseStress,
};
