//! The embedded sample clearing house, and synthetic books of the same shape.
//!
//! The market of the ten real assets (spots, EWMA volatilities, correlations,
//! funding and implied-vol levels on 2025-02-20) is derived from real history by
//! `data/derive.py` and embedded here; members, positions and collateral are
//! generated deterministically from a seed ([`generate`]), with synthetic assets
//! added, and marked as such, when a book asks for more than the real ten. The
//! book is matched, collateral covers margin but for a few calls and the default
//! fund covers the book's own Cover-2, each measured with the library's own
//! margin and stress revaluation (`sizing`). `clearstress init` writes the same
//! files out.

mod book;
mod generator;
mod market;
mod resources;
mod round;
mod sizing;

pub use book::OptionListing;
pub use generator::{generate, SampleFiles, SampleSpec};

use crate::input::InputError;
use crate::snapshot::{self, Snapshot};

/// The stress scenarios shipped in scenarios/, embedded so that a run needs no
/// files: (name, TOML text), in path order, the order a folder of them is read in.
pub const STRESS_SCENARIOS: &[(&str, &str)] = &[
    (
        "historical/2018-11-bch-hash-war.toml",
        include_str!("../../scenarios/historical/2018-11-bch-hash-war.toml"),
    ),
    (
        "historical/2020-03-12-black-thursday.toml",
        include_str!("../../scenarios/historical/2020-03-12-black-thursday.toml"),
    ),
    (
        "historical/2021-05-19-china-ban.toml",
        include_str!("../../scenarios/historical/2021-05-19-china-ban.toml"),
    ),
    (
        "historical/2022-05-luna-ust.toml",
        include_str!("../../scenarios/historical/2022-05-luna-ust.toml"),
    ),
    (
        "historical/2022-06-celsius-3ac.toml",
        include_str!("../../scenarios/historical/2022-06-celsius-3ac.toml"),
    ),
    (
        "historical/2022-11-ftx.toml",
        include_str!("../../scenarios/historical/2022-11-ftx.toml"),
    ),
    (
        "historical/2023-03-svb-usdc-depeg.toml",
        include_str!("../../scenarios/historical/2023-03-svb-usdc-depeg.toml"),
    ),
    (
        "historical/2024-08-05-yen-carry.toml",
        include_str!("../../scenarios/historical/2024-08-05-yen-carry.toml"),
    ),
    (
        "hypothetical/crypto-crash-50.toml",
        include_str!("../../scenarios/hypothetical/crypto-crash-50.toml"),
    ),
    (
        "hypothetical/crypto-rally-60.toml",
        include_str!("../../scenarios/hypothetical/crypto-rally-60.toml"),
    ),
    (
        "hypothetical/eth-decouples.toml",
        include_str!("../../scenarios/hypothetical/eth-decouples.toml"),
    ),
    (
        "hypothetical/usdc-depeg-13.toml",
        include_str!("../../scenarios/hypothetical/usdc-depeg-13.toml"),
    ),
    (
        "hypothetical/usdt-depeg-15.toml",
        include_str!("../../scenarios/hypothetical/usdt-depeg-15.toml"),
    ),
    (
        "hypothetical/vol-crush.toml",
        include_str!("../../scenarios/hypothetical/vol-crush.toml"),
    ),
    (
        "hypothetical/vol-spike-flat.toml",
        include_str!("../../scenarios/hypothetical/vol-spike-flat.toml"),
    ),
];

/// The built-in stress scenarios, resolved against `snapshot`'s market.
pub fn embedded_stress(
    market: &snapshot::MarketData,
) -> Result<Vec<snapshot::StressScenario>, InputError> {
    STRESS_SCENARIOS
        .iter()
        .map(|(name, text)| {
            snapshot::parse_stress_scenario(&format!("embedded:scenarios/{name}"), text, market)
        })
        .collect()
}

/// The embedded sample clearing house, with the built-in stress scenarios.
pub fn embedded() -> Result<Snapshot, InputError> {
    let files = generate(&SampleSpec::default())?;
    let mut snapshot = files.load("sample")?;
    snapshot.stress = embedded_stress(&snapshot.market)?;
    Ok(snapshot)
}
