//! Calibration of the scenario model to price history: volatility per asset
//! ([`volatility`]), and the tools the fits share ([`optimize`]).

pub mod optimize;
pub mod volatility;

pub use volatility::{Ewma, GarchFit, GarchT, VolatilityError};
