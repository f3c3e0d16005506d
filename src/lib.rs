//! clearstress: Monte Carlo stress testing for crypto derivatives clearing houses.
//!
//! Data flows one way, one module per stage:
//!
//! ```text
//! snapshot (CSV/Parquet/TOML) -> book (compiled, structure of arrays)
//!   -> scenario blocks -> per-member loss blocks (backend)
//!   -> tail statistics -> margin, default fund -> report
//! ```

pub mod analysis;
pub mod backend;
pub mod book;
pub mod calibrate;
pub mod cli;
pub mod default_fund;
pub mod default_management;
pub mod engine;
pub mod estimate;
pub mod history;
pub mod input;
pub mod lanes;
pub mod linalg;
pub mod margin;
pub mod pricing;
pub mod report;
pub mod rng;
pub mod sample;
pub mod scenario;
pub mod settlement;
pub mod shard;
pub mod snapshot;
pub mod tail;
pub mod volatility_filter;

/// The version and the commit it was built from (`clearstress --version`,
/// every manifest and summary).
pub const VERSION: &str = concat!(
    env!("CARGO_PKG_VERSION"),
    " (",
    env!("CLEARSTRESS_COMMIT"),
    ")"
);
