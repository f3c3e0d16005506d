//! Margin backtesting: the statistics that judge a series of margins against
//! the losses realised over the margin period of risk (methodology, section
//! 12a). A day is an *exception* when its realised loss exceeds its margin.
//!
//! - [`statistics`]: coverage counts and amounts (the fields of ISO 20022
//!   auth.066 and CPMI-IOSCO PQD 6.5), Kupiec's proportion-of-failures test,
//!   Christoffersen's independence and conditional-coverage tests, the Basel
//!   traffic light, and the every-MPOR-th-day subsample that makes the
//!   exceptions of overlapping windows independent again;
//! - [`expected_shortfall`]: Acerbi and Székely's Z2 for ES margins, with its
//!   p-value from Z2 simulated under the model.
//!
//! - [`day_loop`]: `clearstress backtest` on the members' current positions:
//!   each day's margin sized with the data up to that day, against the loss
//!   realised over the following MPOR (methodology, section 12b);
//! - [`summary`]: the statistics above per portfolio and pooled per kind, on
//!   all days and on the non-overlapping subsample;
//! - [`implied_vol`]: options' vols in the realised move, moved by an
//!   implied-vol index where one is given.
//!
//! The statistics are pure functions of numbers the caller supplies, with
//! inputs checked once where a value is built ([`Confidence`],
//! [`ExceptionCount`], [`Coverage::of`], [`Z2Distribution`]).

pub mod day_loop;
pub mod expected_shortfall;
pub mod implied_vol;
pub mod models;
pub mod statistics;
pub mod summary;
pub mod test_portfolios;

pub use day_loop::{
    backtest, backtest_models, mpor_days, tested_book, Backtest, BacktestParams, Gap, Portfolio,
    PortfolioKind, Portfolios,
};
pub use implied_vol::ImpliedVols;
pub use models::{BacktestModel, ModelSet, Scenarios};
pub use summary::{
    peak_to_trough, summarise, PortfolioSummary, SampleStatistics, AGGREGATE_ID, Z2,
};
pub use test_portfolios::{Leg, Skipped, TestPortfolio, TestSet, CROSS_ASSETS, LEG_NOTIONAL_USD};

pub use expected_shortfall::{acerbi_szekely_z2, EsBacktest, EsDay, Z2Distribution};
pub use statistics::{
    christoffersen, kupiec_pof, non_overlapping, traffic_light, Christoffersen, Confidence,
    Coverage, DayOutcome, ExceptionCount, LikelihoodRatioTest, TrafficLight, Transitions, Zone,
};

/// What was wrong with a backtest's input; each names the offending value.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum BacktestError {
    #[error("confidence {0} is not strictly between 0 and 1")]
    Confidence(f64),
    #[error("significance {0} is not strictly between 0 and 1")]
    Significance(f64),
    #[error("no observations: a backtest needs at least one day")]
    NoObservations,
    #[error("{exceptions} exceptions in {observations} observations: there cannot be more exceptions than days")]
    TooManyExceptions { observations: u64, exceptions: u64 },
    #[error("day {day}: {field} is {value}, not a finite number")]
    NonFinite {
        day: usize,
        field: &'static str,
        value: f64,
    },
    #[error("day {day}: expected shortfall {es} is not positive (Z2 divides by it)")]
    NonPositiveEs { day: usize, es: f64 },
    #[error("an MPOR of 0 days: the non-overlapping subsample takes every MPOR-th day, so it needs at least 1")]
    ZeroMpor,
    #[error("offset {offset} is not below the MPOR of {mpor_days} days: the subsample starts within the first window")]
    Offset { offset: usize, mpor_days: usize },
    #[error("--model {0}: filtered historical simulation resamples the history's joint moves and reads no correlation; drop the correlation or choose a Monte Carlo model")]
    CorrelationUnderFhs(String),
    #[error("no portfolio to test: the book gives no generated test portfolio ({0})")]
    NoPortfolios(String),
    #[error("no simulated Z2 values: the p-value needs at least one")]
    NoSimulations,
    #[error("simulated Z2 number {index} is {value}, not a finite number")]
    NonFiniteSimulation { index: usize, value: f64 },
}
