//! clearstress: Monte Carlo stress testing for crypto derivatives clearing houses.
//!
//! Data flows one way, one module per stage:
//!
//! ```text
//! snapshot (CSV/Parquet/TOML) -> book (compiled, structure of arrays)
//!   -> scenario blocks -> per-member loss blocks (backend)
//!   -> tail statistics -> margin, default fund -> report
//! ```

pub mod rng;
pub mod snapshot;
pub mod backend;
pub mod book;
pub mod linalg;
pub mod pricing;
pub mod scenario;
pub mod tail;
pub mod default_fund;
pub mod engine;
pub mod margin;
pub mod report;
pub mod sample;
pub mod cli;
