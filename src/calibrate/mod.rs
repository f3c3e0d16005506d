//! Calibration of the scenario model to price history: volatility per asset
//! ([`volatility`]; the EWMA filter it shares with filtered historical
//! simulation is [`crate::volatility_filter`]), dependence between assets ([`dependence`]), both written
//! into a snapshot's market ([`market`]), the tails of the innovations
//! ([`tails`], and the candidate distributions compared in [`innovations`]),
//! and the tools the fits share ([`optimize`]).

pub mod dependence;
pub mod innovations;
pub mod market;
pub mod optimize;
pub mod tails;
pub mod volatility;

pub use crate::volatility_filter::Ewma;
pub use dependence::{
    ewma_correlation, ledoit_wolf_correlation, nearest_psd_correlation, sample_correlation,
    Aligned, Correlation,
};
pub use market::{
    calibrate_market, AssetCandidates, CalibrationError, CalibrationReport, CalibrationSpec,
    CorrelationModel, DaysUsed, PairDays, VolatilityModel, STABLECOIN_VOLATILITY_FLOOR,
};
pub use volatility::{GarchBoundary, GarchFit, GarchT, VolatilityError};
