//! Reading and validating a snapshot: a folder of tables and `ccp.toml`, or the
//! same tables as CSV text in memory, and the stress scenario files.
//!
//! Both entry points gather the tables into [`SnapshotTables`] and share one
//! builder, so a table in memory is held to exactly the rules of a file on disk.
//! The builder reads one family of tables at a time (`config`, `market`,
//! `book`; stress scenario files in `stress`), and every id one table gives
//! and another refers to is resolved through one [`IdIndex`](ids::IdIndex).

mod book;
mod config;
mod ids;
mod market;
mod stress;

use std::path::{Path, PathBuf};

use self::ids::IdIndex;
pub use self::market::assets_table;
pub use self::stress::{load_stress_scenarios, parse_stress_scenario};
use super::{CcpConfig, InputSource, MarketData, Member, RuleId, Snapshot};
use crate::input::bounds::MAX_EXPIRY_DAYS;
use crate::input::TableFormat;
use crate::input::{sha256_hex, Date, InputError, Location, Row, Table};

/// The logical tables of a snapshot folder, each stored as `<name>.csv` or
/// `<name>.parquet`. The folder also holds `ccp.toml`.
pub const SNAPSHOT_FILES: [&str; 8] = [
    "members",
    "instruments",
    "positions",
    "collateral",
    "market/assets",
    "market/correlation",
    "market/vol_surface",
    "market/rates",
];

/// The configuration file of a snapshot folder.
pub const CONFIG_FILE: &str = "ccp.toml";

/// The columns of each table, in the order [`write_snapshot`](super::write_snapshot)
/// writes them. (The correlation table's columns are `asset` and the asset ids.)
pub(super) mod columns {
    pub const MEMBERS: [&str; 4] = ["member_id", "name", "group", "df_contribution"];
    pub const INSTRUMENTS: [&str; 8] = [
        "instrument_id",
        "kind",
        "underlying",
        "settlement",
        "contract_size",
        "expiry",
        "strike",
        "option_type",
    ];
    pub const POSITIONS: [&str; 3] = ["member_id", "instrument_id", "quantity"];
    pub const COLLATERAL: [&str; 3] = ["member_id", "asset", "amount"];
    pub const ASSETS: [&str; 9] = [
        "asset",
        "class",
        "spot",
        "volatility",
        "funding_rate_8h",
        "basis",
        "adv_usd",
        "synthetic",
        "source",
    ];
    pub const VOL_SURFACE: [&str; 4] = ["underlying", "expiry", "strike", "implied_vol"];
    pub const RATES: [&str; 2] = ["tenor_days", "rate"];
}

/// The tables of one snapshot, whatever they were read from.
struct SnapshotTables {
    members: Table,
    instruments: Table,
    positions: Table,
    collateral: Table,
    assets: Table,
    correlation: Table,
    vol_surface: Table,
    rates: Table,
}

impl SnapshotTables {
    /// Gathers the tables in [`SNAPSHOT_FILES`] order, `read` producing each one.
    fn gather(mut read: impl FnMut(&str) -> Result<Table, InputError>) -> Result<Self, InputError> {
        let [members, instruments, positions, collateral, assets, correlation, vol_surface, rates] =
            SNAPSHOT_FILES;
        Ok(Self {
            members: read(members)?,
            instruments: read(instruments)?,
            positions: read(positions)?,
            collateral: read(collateral)?,
            assets: read(assets)?,
            correlation: read(correlation)?,
            vol_surface: read(vol_surface)?,
            rates: read(rates)?,
        })
    }

    fn sources(&self) -> impl Iterator<Item = InputSource> + '_ {
        [
            &self.members,
            &self.instruments,
            &self.positions,
            &self.collateral,
            &self.assets,
            &self.correlation,
            &self.vol_surface,
            &self.rates,
        ]
        .into_iter()
        .map(|t| InputSource {
            name: t.name().to_string(),
            sha256: t.sha256().to_string(),
        })
    }
}

/// Reads and validates the snapshot in folder `dir`: the tables of
/// [`SNAPSHOT_FILES`], `ccp.toml`, and the stress scenarios the configuration
/// names (relative to `dir`). When it names none, `stress` is left empty for the
/// caller to fill.
pub fn load(dir: &Path) -> Result<Snapshot, InputError> {
    if !dir.is_dir() {
        return Err(InputError::invalid(
            Location::file(dir.display().to_string()),
            format!(
                "expected a snapshot folder holding {CONFIG_FILE} and the tables {}",
                SNAPSHOT_FILES.join(", ")
            ),
        ));
    }
    let config_path = dir.join(CONFIG_FILE);
    let config_name = config_path.display().to_string();
    let config_text = read_utf8(&config_path)?;
    let tables = SnapshotTables::gather(|name| Table::read(&table_path(dir, name)?))?;

    let mut sources = vec![InputSource {
        name: config_name.clone(),
        sha256: sha256_hex(config_text.as_bytes()),
    }];
    sources.extend(tables.sources());
    let mut snapshot = build(tables, &config_name, &config_text, sources)?;

    let stress_paths: Vec<PathBuf> = snapshot
        .config
        .scenario
        .stress
        .iter()
        .map(|p| dir.join(p))
        .collect();
    for (scenario, source) in stress::read_stress_scenarios(&stress_paths, &snapshot.market)? {
        snapshot.stress.push(scenario);
        snapshot.sources.push(source);
    }
    if let Some(historical) = &snapshot.config.scenario.historical {
        let (history, source) = read_history(&dir.join(&historical.history))?;
        snapshot.history = Some(history);
        snapshot.sources.push(source);
    }
    Ok(snapshot)
}

/// A price history file and its source record.
pub fn read_history(
    path: &Path,
) -> Result<(crate::history::PriceHistory, InputSource), InputError> {
    let table = Table::read(path)?;
    let history = crate::history::PriceHistory::from_table(&table)?;
    let source = InputSource {
        name: table.name().to_string(),
        sha256: table.sha256().to_string(),
    };
    Ok((history, source))
}

/// Builds a snapshot from CSV text in memory: `files` pairs each logical name of
/// [`SNAPSHOT_FILES`] (`"members"`, `"market/assets"`, ...) with its CSV text.
/// Sources are named `embedded:<origin>/<name>.csv`. The configuration may not
/// name stress scenario files (there is no folder to find them in); `stress` is
/// left empty.
pub fn from_csv_texts(
    files: &[(&str, &str)],
    config_text: &str,
    origin: &str,
) -> Result<Snapshot, InputError> {
    let origin_location = || Location::file(format!("embedded:{origin}"));
    for (i, (name, _)) in files.iter().enumerate() {
        if !SNAPSHOT_FILES.contains(name) {
            return Err(InputError::invalid(
                origin_location(),
                format!(
                    "unknown table `{name}`: expected one of {}",
                    SNAPSHOT_FILES.join(", ")
                ),
            ));
        }
        if files[..i].iter().any(|(other, _)| other == name) {
            return Err(InputError::invalid(
                origin_location(),
                format!("table `{name}` is given twice"),
            ));
        }
    }
    let tables = SnapshotTables::gather(|name| match files.iter().find(|(n, _)| *n == name) {
        Some((_, text)) => {
            Table::from_csv_bytes(format!("embedded:{origin}/{name}.csv"), text.as_bytes())
        }
        None => Err(InputError::invalid(
            origin_location(),
            format!("missing table `{name}`"),
        )),
    })?;
    let config_name = format!("embedded:{origin}/{CONFIG_FILE}");
    let mut sources = vec![InputSource {
        name: config_name.clone(),
        sha256: sha256_hex(config_text.as_bytes()),
    }];
    sources.extend(tables.sources());
    let snapshot = build(tables, &config_name, config_text, sources)?;
    if snapshot.config.scenario.historical.is_some() {
        return Err(InputError::invalid(
            Location::file(config_name).field("scenario.historical"),
            "expected no history file for a snapshot held in memory: there is no folder to resolve it \
             against (run --fhs names one)",
        ));
    }
    if !snapshot.config.scenario.stress.is_empty() {
        return Err(InputError::invalid(
            Location::file(config_name).field("scenario.stress"),
            "expected no stress scenario paths for a snapshot held in memory: there is no folder to resolve them \
             against",
        ));
    }
    Ok(snapshot)
}

/// `<dir>/<name>.csv` or `<dir>/<name>.parquet`, whichever exists.
fn table_path(dir: &Path, name: &str) -> Result<PathBuf, InputError> {
    let base = name
        .split('/')
        .fold(dir.to_path_buf(), |path, part| path.join(part));
    let [csv, parquet] = [TableFormat::Csv, TableFormat::Parquet]
        .map(|format| base.with_extension(format.extension()));
    let location = || Location::file(dir.display().to_string());
    match (csv.is_file(), parquet.is_file()) {
        (true, false) => Ok(csv),
        (false, true) => Ok(parquet),
        (true, true) => Err(InputError::invalid(
            location(),
            format!("both {name}.csv and {name}.parquet exist: expected exactly one of them"),
        )),
        (false, false) => Err(InputError::invalid(
            location(),
            format!("missing table `{name}`: expected {name}.csv or {name}.parquet in this folder"),
        )),
    }
}

/// The one builder behind [`load`] and [`from_csv_texts`]. Market data first,
/// since instruments, positions and collateral refer to its assets.
fn build(
    tables: SnapshotTables,
    config_name: &str,
    config_text: &str,
    sources: Vec<InputSource>,
) -> Result<Snapshot, InputError> {
    let (config, valuation_date) = config::parse_config(config_name, config_text)?;
    let (assets, asset_ids) = market::read_assets(&tables.assets)?;
    let correlation = market::read_correlation(&tables.correlation, &assets, tables.assets.name())?;
    let vol_surface = market::read_vol_surface(&tables.vol_surface, &asset_ids, valuation_date)?;
    let rates = market::read_rates(&tables.rates)?;
    let market = MarketData {
        assets,
        correlation,
        vol_surface,
        rates,
    };
    for asset in config.liquidity.resources.keys() {
        if asset != "USD" && asset_ids.get(asset).is_none() {
            return Err(InputError::invalid(
                Location::file(config_name).field(format!("liquidity.resources.{asset}")),
                format!(
                    "unknown asset `{asset}`: expected `USD` or {}",
                    asset_ids.expected()
                ),
            ));
        }
    }
    // A typo in an asset id would otherwise leave its class's half spread in
    // force unseen.
    if let Some(unknown) = config
        .close_out
        .half_spread_by_asset
        .keys()
        .find(|id| !market.assets.iter().any(|a| &a.id == *id))
    {
        return Err(InputError::invalid(
            Location::file(config_name).field(format!("close_out.half_spread_by_asset.{unknown}")),
            format!(
                "no asset `{unknown}` in {}: expected one of its asset ids",
                tables.assets.name()
            ),
        ));
    }
    let (members, member_ids) = book::read_members(&tables.members)?;
    check_defaulting_groups(&config, config_name, &members, tables.members.name())?;
    check_collateral_rules(&config, config_name, &asset_ids, &member_ids)?;
    let (instruments, instrument_ids) =
        book::read_instruments(&tables, &asset_ids, &market, valuation_date)?;
    let positions = book::read_positions(
        &tables.positions,
        (&members, &member_ids),
        (&instruments, &instrument_ids),
        &market,
        valuation_date,
    )?;
    let collateral = book::read_collateral(
        &tables.collateral,
        (&members, &member_ids),
        (&market, &asset_ids),
        &config,
        config_name,
    )?;
    Ok(Snapshot {
        valuation_date,
        members,
        instruments,
        positions,
        collateral,
        market,
        config,
        stress: Vec::new(),
        history: None,
        sources,
    })
}

/// Every group `[waterfall] defaulting_groups` names is some member's.
fn check_defaulting_groups(
    config: &CcpConfig,
    config_name: &str,
    members: &[Member],
    members_name: &str,
) -> Result<(), InputError> {
    for (i, set) in config.waterfall.defaulting_groups.iter().enumerate() {
        if let Some(unknown) = set.iter().find(|g| !members.iter().any(|m| &m.group == *g)) {
            return Err(InputError::invalid(
                Location::file(config_name).field(format!("waterfall.defaulting_groups[{i}]")),
                format!("no member of {members_name} is in group `{unknown}`: expected groups from its `group` column"),
            ));
        }
    }
    Ok(())
}

/// Every asset and member the collateral rules name is in the snapshot: a
/// typo would otherwise leave a limit unapplied, unseen.
fn check_collateral_rules(
    config: &CcpConfig,
    config_name: &str,
    asset_ids: &IdIndex<'_>,
    member_ids: &IdIndex<'_>,
) -> Result<(), InputError> {
    for (key, id, named) in config.collateral.named_ids() {
        let (known, expected) = match named {
            RuleId::Asset => (
                id == "USD" || asset_ids.get(id).is_some(),
                format!("`USD` or {}", asset_ids.expected()),
            ),
            RuleId::Member => (
                member_ids.get(id).is_some(),
                member_ids.expected().to_string(),
            ),
        };
        if !known {
            return Err(InputError::invalid(
                Location::file(config_name).field(key),
                format!("unknown id `{id}`: expected {expected}"),
            ));
        }
    }
    Ok(())
}

/// The UTF-8 text of the file at `path`, which errors name as displayed.
fn read_utf8(path: &Path) -> Result<String, InputError> {
    let name = path.display().to_string();
    let bytes = std::fs::read(path).map_err(|e| InputError::io(&name, e))?;
    String::from_utf8(bytes).map_err(|e| {
        InputError::invalid(
            Location::file(name),
            format!("expected UTF-8 text: {}", e.utf8_error()),
        )
    })
}

fn empty_table_error(table: &Table, what: &str) -> InputError {
    InputError::invalid(
        Location::file(table.name()),
        format!("no {what}: expected at least one data row"),
    )
}

/// `expiry` if it is from the valuation date to [`MAX_EXPIRY_DAYS`] after it;
/// else an error at `row`'s `expiry` field.
fn check_expiry(row: &Row<'_>, expiry: Date, valuation_date: Date) -> Result<Date, InputError> {
    let last = valuation_date.add_days(MAX_EXPIRY_DAYS);
    if expiry < valuation_date {
        return Err(row.error(
            "expiry",
            format!("expected an expiry on or after the valuation date {valuation_date}, found `{expiry}`"),
        ));
    }
    if expiry > last {
        return Err(row.error(
            "expiry",
            format!(
                "expected an expiry at most {MAX_EXPIRY_DAYS} days (30 years) after the valuation date \
                 {valuation_date}, on or before {last}, found `{expiry}`"
            ),
        ));
    }
    Ok(expiry)
}
