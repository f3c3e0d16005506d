//! Deterministic synthetic clearing houses on the real market, built as domain
//! values in named steps and written only by the snapshot writer.
//!
//! The steps, each drawing from one Philox stream of the seed in this order:
//! the market ([`super::market`]); the members and the contracts listed, the
//! members' positions and the liquidity providers' side that matches the book
//! ([`super::book`]); the configuration; collateral sized from each member's
//! margin and the default fund from the book's own Cover-n
//! ([`super::resources`], measured by [`super::sizing`]). Methodology
//! section 14a states the rules.

use std::path::{Path, PathBuf};

use super::book::OptionListing;
use super::sizing::UnitLosses;
use super::{book, market, resources, STRESS_SCENARIOS};
use crate::input::{Date, InputError, Location};
use crate::rng::PhiloxRng;
use crate::snapshot::{self, CcpConfig, JumpConfig, Snapshot};

/// The shape of a generated book.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SampleSpec {
    pub members: usize,
    /// Total assets: the real ten first (or fewer), then synthetic ones.
    pub assets: usize,
    /// Option positions across all members.
    pub options: usize,
    /// The option series listed (the trades spread over them).
    pub listing: OptionListing,
    pub seed: u64,
}

impl Default for SampleSpec {
    /// The embedded sample: 64 members, the 10 real assets and 4 synthetic ones,
    /// 400 option positions.
    fn default() -> Self {
        Self {
            members: 64,
            assets: 14,
            options: 400,
            listing: OptionListing::Standard,
            seed: 20_250_220,
        }
    }
}

/// A generated book, and the files `clearstress init` writes of it.
#[derive(Debug, Clone)]
pub struct SampleFiles {
    /// The book as domain values, every number already as round as its file
    /// shows it. It reads no files, so `sources` is empty, and its stress
    /// scenarios are left empty: the shipped ones apply ([`super::embedded_stress`]).
    pub book: Snapshot,
}

/// The folder `init` copies the shipped stress scenarios into, which its
/// `ccp.toml` names, so that a user sees and can edit them.
const STRESS_FOLDER: &str = "scenarios";

impl SampleFiles {
    /// The book's tables as (logical name, CSV text), as the snapshot writer
    /// writes them.
    pub fn tables(&self) -> Result<Vec<(&'static str, String)>, InputError> {
        snapshot::snapshot_csv_tables(&self.book)
    }

    /// The book as a run reads it: the written tables and configuration loaded
    /// back through the same validation as a user's snapshot. The one parse
    /// checks the generated book by the loader's rules and records each
    /// table's SHA-256 in `sources`; the values are the book's own (the
    /// writer's text parses back to the same numbers).
    pub fn load(&self, origin: &str) -> Result<Snapshot, InputError> {
        let tables = self.tables()?;
        let tables: Vec<(&str, &str)> = tables.iter().map(|(n, t)| (*n, t.as_str())).collect();
        let config = toml::to_string(&self.book.config).map_err(|e| {
            InputError::invalid(
                Location::file("embedded:ccp.toml"),
                format!("cannot serialise the sample config: {e}"),
            )
        })?;
        snapshot::from_csv_texts(&tables, &config, origin)
    }

    /// Writes the book into `dir` with the snapshot writer, and the shipped
    /// stress scenarios under `scenarios/`, which the written configuration
    /// names. Returns the paths written.
    pub fn write(&self, dir: &Path) -> Result<Vec<PathBuf>, InputError> {
        let mut book = self.book.clone();
        // The writer points the configuration at its stress folder and copies
        // the scenarios the snapshot was loaded with: the book was loaded with
        // none, so the shipped ones are copied in here.
        book.config.scenario.stress = vec![STRESS_FOLDER.to_string()];
        let mut written = snapshot::write_snapshot(&book, dir)?;
        for (name, text) in STRESS_SCENARIOS {
            let path = name
                .split('/')
                .fold(dir.join(STRESS_FOLDER), |path, part| path.join(part));
            if let Some(parent) = path.parent() {
                std::fs::create_dir_all(parent)
                    .map_err(|e| InputError::io(parent.display().to_string(), e))?;
            }
            std::fs::write(&path, text)
                .map_err(|e| InputError::io(path.display().to_string(), e))?;
            written.push(path);
        }
        Ok(written)
    }
}

/// The sample's valuation date: the last day of the shipped history.
const VALUATION_DATE: &str = "2025-02-20";

/// Generates a book of the given shape on the embedded real market.
pub fn generate(spec: &SampleSpec) -> Result<SampleFiles, InputError> {
    if spec.members < 2 || spec.assets < 2 {
        return Err(InputError::invalid(
            Location::file("init"),
            format!(
                "a book needs at least 2 members and 2 assets, asked for {} and {}",
                spec.members, spec.assets
            ),
        ));
    }
    let mut rng = PhiloxRng::new(spec.seed);
    let today = Date::parse(VALUATION_DATE).expect("a valid constant date");
    let market = market::market(spec.assets, spec.seed, today, &mut rng)?;
    let members = book::members(spec.members, &mut rng);
    let mut instruments = book::linear_instruments(&market);
    let linear = instruments.len();
    if spec.options > 0 {
        instruments.extend(book::option_instruments(&market, spec.listing));
    }
    let positions = book::positions(
        &members,
        &instruments,
        linear,
        spec.options,
        &market,
        &mut rng,
    );
    let mut book = Snapshot {
        valuation_date: today,
        members: members.members,
        instruments,
        positions,
        collateral: Vec::new(),
        market,
        config: config(),
        stress: Vec::new(),
        history: None,
        sources: Vec::new(),
    };
    let units = UnitLosses::revalue(&book, &resources::collateral_coins(&book))?;
    let collateral = resources::collateral(&book, &members.kinds, &units, &mut rng);
    resources::default_fund(&mut book, &collateral, &units);
    book.collateral = collateral.holdings;
    Ok(SampleFiles { book })
}

/// The configuration: the defaults, with haircuts for the collateral coins
/// (stablecoins a few percent for depeg risk, BTC and ETH 15% and 20% for
/// their volatility) and market-wide jumps three times a year of -2.5 daily
/// sigmas on average. Skin in the game is set with the default fund.
fn config() -> CcpConfig {
    let mut config = CcpConfig {
        valuation_date: VALUATION_DATE.to_string(),
        risk: Default::default(),
        scenario: Default::default(),
        collateral: Default::default(),
        default_fund: Default::default(),
        liquidity: Default::default(),
        close_out: Default::default(),
        waterfall: Default::default(),
    };
    for (id, haircut) in [
        ("USD", 0.0),
        ("USDT", 0.05),
        ("USDC", 0.03),
        ("BTC", 0.15),
        ("ETH", 0.20),
    ] {
        config.collateral.haircuts.insert(id.to_string(), haircut);
    }
    config.scenario.jumps = Some(JumpConfig {
        intensity_per_year: 3.0,
        mean_sigmas: -2.5,
        stdev_sigmas: 1.5,
    });
    config
}
