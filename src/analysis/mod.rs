//! Analyses built on the engine's run, one module each: the worst historical
//! windows of a book, EMIR's anti-procyclicality tools at the valuation date,
//! the margin through history, the margin under each scenario model, and
//! collateral haircuts calibrated to the scenario model.
//!
//! Each is `fn(&Runner<B>, &Snapshot, params...) -> Result<TypedResult,
//! AnalysisError>`: the [`Runner`] carries the backend the user chose, the
//! memory limit and the progress callback, so an analysis that runs the
//! engine many times honours them as `run` does. The report stage renders the
//! typed results ([`crate::report`]).

pub mod apc;
pub mod as_of;
pub mod backtest;
pub mod compare;
pub mod haircuts;
pub mod margin_history;
pub mod worst_window;

pub use crate::engine::Runner;

use crate::calibrate::CalibrationError;
use crate::engine::RunError;
use crate::margin::procyclicality::ApcTool;
use crate::scenario::ModelError;

#[derive(Debug, thiserror::Error)]
pub enum AnalysisError {
    #[error(transparent)]
    Run(#[from] RunError),
    #[error("scenario model: {0}")]
    Model(#[from] ModelError),
    #[error("calibration: {0}")]
    Calibration(#[from] CalibrationError),
    #[error("{tool} needs a price history (--apc-history, or --fhs's)", tool = .tool.describe())]
    ApcNeedsHistory { tool: ApcTool },
    #[error(
        "{tool} acts on the market's volatilities, which filtered historical simulation does not \
         use (it rescales history by its own EWMA volatilities): use it with the Monte Carlo \
         model, or --apc buffer with FHS",
        tool = .tool.describe()
    )]
    ApcUnderFhs { tool: ApcTool },
    #[error("backtest: {0}")]
    Backtest(#[from] backtest::BacktestError),
    #[error(
        "{file}: column `{column}` is not an asset of the market: an implied-vol index file \
         has `date` and one column per asset id ({assets})"
    )]
    ImpliedVolColumn {
        file: String,
        column: String,
        assets: String,
    },
    #[error(
        "haircuts: the stressed floor raises the market's volatilities, which filtered \
         historical simulation does not use (it rescales history by its own EWMA volatilities): \
         calibrate haircuts with the Monte Carlo model (a book without [scenario.historical])"
    )]
    HaircutsUnderFhs,
    #[error("{history}: no {days}-day window has a close at both ends for every asset the book depends on")]
    NoWindow { history: String, days: u32 },
}
