//! Reading and validating a snapshot: a folder of tables and `ccp.toml`, or the
//! same tables as CSV text in memory, and the stress scenario files.
//!
//! Both entry points gather the tables into [`SnapshotTables`] and share one
//! builder, so a table in memory is held to exactly the rules of a file on disk.

use std::collections::{BTreeMap, HashMap};
use std::path::{Path, PathBuf};

use serde::Deserialize;

use super::{
    Asset, AssetClass, CcpConfig, CollateralAsset, CollateralHolding, Innovations, InputSource,
    Instrument, InstrumentKind, MarketData, Member, OptionRight, Position, RateCurve, Settlement,
    Snapshot, StressScenario, VolQuote, VolSurface, DAYS_PER_YEAR,
};
use crate::input::bounds::{self, Bounds, Number, MAX_EXPIRY_DAYS, MAX_NOTIONAL_USD};
pub use crate::input::TableFormat;
use crate::input::{sha256_hex, Date, InputError, Location, Row, Table};
use crate::linalg::cholesky_psd;

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
    pub const ASSETS: [&str; 8] = [
        "asset",
        "class",
        "spot",
        "volatility",
        "funding_rate_8h",
        "basis",
        "synthetic",
        "source",
    ];
    pub const VOL_SURFACE: [&str; 4] = ["underlying", "expiry", "strike", "implied_vol"];
    pub const RATES: [&str; 2] = ["tenor_days", "rate"];
}

/// Pivots of the correlation matrix's factorisation within this of zero count as
/// zero (perfectly correlated assets); below `-PSD_TOLERANCE` the matrix is not
/// positive semi-definite. The scenario model factorises with the same tolerance,
/// so what loads, simulates.
const PSD_TOLERANCE: f64 = 1e-10;

/// Diagonal and symmetry tolerance of the correlation matrix.
const CORRELATION_TOLERANCE: f64 = 1e-9;

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
    let config_bytes = std::fs::read(&config_path).map_err(|e| InputError::io(&config_name, e))?;
    let config_text = std::str::from_utf8(&config_bytes).map_err(|e| {
        InputError::invalid(
            Location::file(&config_name),
            format!("expected UTF-8 text: {e}"),
        )
    })?;
    let tables = SnapshotTables::gather(|name| Table::read(&table_path(dir, name)?))?;

    let mut sources = vec![InputSource {
        name: config_name.clone(),
        sha256: sha256_hex(&config_bytes),
    }];
    sources.extend(tables.sources());
    let mut snapshot = build(tables, &config_name, config_text, sources)?;

    let stress_paths: Vec<PathBuf> = snapshot
        .config
        .scenario
        .stress
        .iter()
        .map(|p| dir.join(p))
        .collect();
    for (scenario, source) in read_stress_scenarios(&stress_paths, &snapshot.market)? {
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
    let (config, valuation_date) = parse_config(config_name, config_text)?;
    let assets = read_assets(&tables.assets)?;
    let correlation = read_correlation(&tables.correlation, &assets, tables.assets.name())?;
    let vol_surface = read_vol_surface(
        &tables.vol_surface,
        &assets,
        tables.assets.name(),
        valuation_date,
    )?;
    let rates = read_rates(&tables.rates)?;
    let market = MarketData {
        assets,
        correlation,
        vol_surface,
        rates,
    };
    let members = read_members(&tables.members)?;
    let instruments = read_instruments(&tables, &market, valuation_date)?;
    let positions = read_positions(&tables, &members, &instruments, &market, valuation_date)?;
    let collateral = read_collateral(&tables, &members, &market, &config, config_name)?;
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

/// Ids of one table with the row each was first seen on, rejecting repeats.
struct Ids<'t> {
    field: &'static str,
    first_row: HashMap<&'t str, usize>,
}

impl<'t> Ids<'t> {
    fn new(field: &'static str) -> Self {
        Self {
            field,
            first_row: HashMap::new(),
        }
    }

    /// Reads the id of `row` and records it; an id seen before is an error at
    /// this row that names the first one.
    fn add(&mut self, row: &Row<'t>) -> Result<&'t str, InputError> {
        let id = row.str(self.field)?;
        if let Some(first) = self.first_row.insert(id, row.number()) {
            return Err(row.error(
                self.field,
                format!("duplicate {} `{id}`: already on row {first}", self.field),
            ));
        }
        Ok(id)
    }
}

fn empty_table_error(table: &Table, what: &str) -> InputError {
    InputError::invalid(
        Location::file(table.name()),
        format!("no {what}: expected at least one data row"),
    )
}

fn read_assets(table: &Table) -> Result<Vec<Asset>, InputError> {
    table.require_columns(&columns::ASSETS)?;
    let mut ids = Ids::new("asset");
    let mut assets = Vec::with_capacity(table.len());
    for row in table.rows() {
        let id = ids.add(&row)?;
        if id == "USD" {
            return Err(row.error(
                "asset",
                "`USD` is reserved for cash collateral: expected another asset id",
            ));
        }
        assets.push(Asset {
            id: id.to_string(),
            class: row.choice(
                "class",
                &[
                    ("crypto", AssetClass::Crypto),
                    ("stablecoin", AssetClass::Stablecoin),
                ],
            )?,
            spot: row.f64_in("spot", &bounds::PRICE)?,
            volatility: row.f64_in("volatility", &bounds::VOLATILITY)?,
            funding_rate_8h: row.f64_in("funding_rate_8h", &bounds::FUNDING_RATE_8H)?,
            basis: row.f64_in("basis", &bounds::BASIS)?,
            synthetic: row.bool("synthetic")?,
            source: row.opt_str("source")?.unwrap_or_default().to_string(),
        });
    }
    if assets.is_empty() {
        return Err(empty_table_error(table, "assets"));
    }
    Ok(assets)
}

/// The correlation matrix, row-major: the columns are `asset` and the asset ids,
/// the rows the assets, both in the order of the assets table.
fn read_correlation(
    table: &Table,
    assets: &[Asset],
    assets_name: &str,
) -> Result<Vec<f64>, InputError> {
    let n = assets.len();
    let ids: Vec<&str> = assets.iter().map(|a| a.id.as_str()).collect();
    let expected: Vec<&str> = std::iter::once("asset")
        .chain(ids.iter().copied())
        .collect();
    if table.column_names() != expected.as_slice() {
        return Err(InputError::invalid(
            Location::file(table.name()),
            format!(
                "expected the columns {} (`asset`, then the assets of {assets_name} in order), found {}",
                expected.join(", "),
                table.column_names().join(", ")
            ),
        ));
    }
    if table.len() != n {
        return Err(InputError::invalid(
            Location::file(table.name()),
            format!(
                "expected one row per asset of {assets_name} ({n}), found {} rows",
                table.len()
            ),
        ));
    }
    let mut corr = vec![0.0; n * n];
    for (i, row) in table.rows().enumerate() {
        let id = row.str("asset")?;
        if id != ids[i] {
            return Err(row.error(
                "asset",
                format!("expected `{}` (the rows list the assets of {assets_name} in order), found `{id}`", ids[i]),
            ));
        }
        for (j, column) in ids.iter().enumerate() {
            let c = row.f64_in(column, &bounds::CORRELATION)?;
            if i == j && (c - 1.0).abs() > CORRELATION_TOLERANCE {
                return Err(row.error(column, format!("expected 1 on the diagonal, found `{c}`")));
            }
            if j < i && (c - corr[j * n + i]).abs() > CORRELATION_TOLERANCE {
                return Err(row.error(
                    column,
                    format!(
                        "expected a symmetric matrix: `{c}` here but `{}` on row {}, field `{id}`",
                        corr[j * n + i],
                        j + 1
                    ),
                ));
            }
            corr[i * n + j] = c;
        }
    }
    check_positive_semi_definite(&corr, &ids).map_err(|(row, message)| {
        InputError::invalid(Location::file(table.name()).row(row), message)
    })?;
    Ok(corr)
}

/// Checks a symmetric matrix with unit diagonal by the Cholesky factorisation
/// the scenario model uses; on failure returns the 1-based row of the failing
/// pivot and the message.
fn check_positive_semi_definite(corr: &[f64], ids: &[&str]) -> Result<(), (usize, String)> {
    let n = ids.len();
    match cholesky_psd(corr, n, PSD_TOLERANCE) {
        Ok(_) => Ok(()),
        Err(not_psd) => {
            let k = not_psd.index + 1;
            let asset = ids.get(not_psd.index).copied().unwrap_or("?");
            let detail = if not_psd.pivot < -PSD_TOLERANCE {
                format!("has a negative pivot ({:.6})", not_psd.pivot)
            } else {
                format!(
                    "has a zero pivot before it whose residual correlation does not vanish (pivot {:.3e})",
                    not_psd.pivot
                )
            };
            Err((
                k,
                format!(
                    "correlation matrix is not positive semi-definite: the leading {k}x{k} block including asset \
                     {asset} {detail}; no joint distribution has these correlations"
                ),
            ))
        }
    }
}

fn asset_lookup(assets: &[Asset]) -> HashMap<&str, usize> {
    assets
        .iter()
        .enumerate()
        .map(|(i, a)| (a.id.as_str(), i))
        .collect()
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

fn read_vol_surface(
    table: &Table,
    assets: &[Asset],
    assets_name: &str,
    valuation_date: Date,
) -> Result<VolSurface, InputError> {
    table.require_columns(&columns::VOL_SURFACE)?;
    let by_id = asset_lookup(assets);
    let mut first_row: HashMap<(usize, Date, u64), usize> = HashMap::new();
    let mut quotes = Vec::with_capacity(table.len());
    for row in table.rows() {
        let id = row.str("underlying")?;
        let underlying = *by_id.get(id).ok_or_else(|| {
            row.error(
                "underlying",
                format!("unknown asset `{id}`: expected an asset of {assets_name}"),
            )
        })?;
        let expiry = check_expiry(&row, row.date("expiry")?, valuation_date)?;
        let strike = row.f64_in("strike", &bounds::PRICE)?;
        let vol = row.f64_in("implied_vol", &bounds::IMPLIED_VOL)?;
        if let Some(first) = first_row.insert((underlying, expiry, strike.to_bits()), row.number())
        {
            return Err(row.error(
                "strike",
                format!("duplicate quote for `{id}` expiring {expiry} at strike {strike}: already on row {first}"),
            ));
        }
        quotes.push(VolQuote {
            underlying,
            expiry,
            strike,
            vol,
        });
    }
    Ok(VolSurface::from_quotes(assets.len(), &quotes))
}

fn read_rates(table: &Table) -> Result<RateCurve, InputError> {
    table.require_columns(&columns::RATES)?;
    let mut first_row: HashMap<u64, usize> = HashMap::new();
    let mut points = Vec::with_capacity(table.len());
    for row in table.rows() {
        let tenor = row.f64_in("tenor_days", &bounds::TENOR_DAYS)?;
        let rate = row.f64_in("rate", &bounds::RATE)?;
        // +0.0: a tenor of -0 is the tenor 0.
        if let Some(first) = first_row.insert((tenor + 0.0).to_bits(), row.number()) {
            return Err(row.error(
                "tenor_days",
                format!("duplicate tenor {tenor}: already on row {first}"),
            ));
        }
        points.push((tenor, rate));
    }
    if points.is_empty() {
        return Err(empty_table_error(table, "rates"));
    }
    Ok(RateCurve::new(points))
}

fn read_members(table: &Table) -> Result<Vec<Member>, InputError> {
    table.require_columns(&columns::MEMBERS)?;
    let mut ids = Ids::new("member_id");
    let mut members = Vec::with_capacity(table.len());
    for row in table.rows() {
        let id = ids.add(&row)?;
        members.push(Member {
            id: id.to_string(),
            name: row.opt_str("name")?.unwrap_or_default().to_string(),
            group: row.opt_str("group")?.unwrap_or(id).to_string(),
            df_contribution: row.f64_in("df_contribution", &bounds::DF_CONTRIBUTION)?,
        });
    }
    if members.is_empty() {
        return Err(empty_table_error(table, "members"));
    }
    Ok(members)
}

#[derive(Debug, Clone, Copy)]
enum Kind {
    Perpetual,
    Future,
    Option,
}

fn read_instruments(
    tables: &SnapshotTables,
    market: &MarketData,
    valuation_date: Date,
) -> Result<Vec<Instrument>, InputError> {
    let table = &tables.instruments;
    table.require_columns(&columns::INSTRUMENTS)?;
    let by_id = asset_lookup(&market.assets);
    let mut ids = Ids::new("instrument_id");
    let mut instruments = Vec::with_capacity(table.len());
    for row in table.rows() {
        let id = ids.add(&row)?;
        let kind = row.choice(
            "kind",
            &[
                ("perpetual", Kind::Perpetual),
                ("future", Kind::Future),
                ("option", Kind::Option),
            ],
        )?;
        let underlying_id = row.str("underlying")?;
        let underlying = *by_id.get(underlying_id).ok_or_else(|| {
            row.error(
                "underlying",
                format!(
                    "unknown asset `{underlying_id}`: expected an asset of {}",
                    tables.assets.name()
                ),
            )
        })?;
        let settlement = row.choice(
            "settlement",
            &[
                ("linear", Settlement::Linear),
                ("inverse", Settlement::Inverse),
            ],
        )?;
        let contract_size = row.f64_in("contract_size", &bounds::CONTRACT_SIZE)?;
        let expiry = |what: &str| -> Result<Date, InputError> {
            let expiry = row.opt_date("expiry")?.ok_or_else(|| {
                row.error(
                    "expiry",
                    format!("expected an expiry date YYYY-MM-DD for {what}, found an empty field"),
                )
            })?;
            check_expiry(&row, expiry, valuation_date)
        };
        let kind = match kind {
            Kind::Perpetual => {
                row.require_empty("expiry", "a perpetual has no expiry")?;
                row.require_empty("strike", "only options have a strike")?;
                row.require_empty("option_type", "only options have an option type")?;
                InstrumentKind::Perpetual
            }
            Kind::Future => {
                let expiry = expiry("a future")?;
                row.require_empty("strike", "only options have a strike")?;
                row.require_empty("option_type", "only options have an option type")?;
                InstrumentKind::Future { expiry }
            }
            Kind::Option => {
                let expiry = expiry("an option")?;
                let strike = row.f64_in("strike", &bounds::PRICE)?;
                let right = row.choice(
                    "option_type",
                    &[("call", OptionRight::Call), ("put", OptionRight::Put)],
                )?;
                if !market.vol_surface.has_quotes(underlying) {
                    return Err(row.error(
                        "underlying",
                        format!(
                            "an option on `{underlying_id}` needs implied vols, but {} has no quotes for \
                             `{underlying_id}`",
                            tables.vol_surface.name()
                        ),
                    ));
                }
                InstrumentKind::Option {
                    expiry,
                    strike,
                    right,
                }
            }
        };
        instruments.push(Instrument {
            id: id.to_string(),
            underlying,
            settlement,
            contract_size,
            kind,
        });
    }
    Ok(instruments)
}

/// Looks up the id in `field` of `row` among `ids`; an unknown id is an error
/// naming the table it should be in.
fn resolve(
    row: &Row<'_>,
    field: &str,
    ids: &HashMap<&str, usize>,
    what: &str,
    table: &str,
) -> Result<usize, InputError> {
    let id = row.str(field)?;
    ids.get(id).copied().ok_or_else(|| {
        row.error(
            field,
            format!("unknown {what} `{id}`: expected a {field} of {table}"),
        )
    })
}

/// The USD notional of one contract: a bound on what it can lose or gain per unit
/// of relative price move. Spot, or the forward or strike where larger (a
/// forward at a negative basis is below spot, so the bound takes exp(|basis| T));
/// the USD face for inverse futures and perpetuals, whose USD value moves by at
/// most face x exp(|basis| T) per unit move.
fn contract_notional(instrument: &Instrument, market: &MarketData, valuation_date: Date) -> f64 {
    let asset = &market.assets[instrument.underlying];
    let growth = |expiry: Date| {
        let years = f64::from(valuation_date.days_until(expiry)) / DAYS_PER_YEAR;
        (asset.basis.abs() * years).exp()
    };
    let m = instrument.contract_size;
    match (instrument.settlement, instrument.kind) {
        (Settlement::Inverse, InstrumentKind::Perpetual) => m,
        (Settlement::Inverse, InstrumentKind::Future { expiry }) => m * growth(expiry),
        (Settlement::Linear, InstrumentKind::Perpetual) => m * asset.spot,
        (Settlement::Linear, InstrumentKind::Future { expiry }) => m * asset.spot * growth(expiry),
        (_, InstrumentKind::Option { expiry, strike, .. }) => {
            m * (asset.spot * growth(expiry)).max(strike)
        }
    }
}

/// Adds `amount` to `total` if the sum stays within [`MAX_NOTIONAL_USD`]; else
/// the error at `field` of `row` says whose `what` it was.
fn add_within_limit(
    row: &Row<'_>,
    field: &str,
    total: &mut f64,
    amount: f64,
    whose: &str,
    what: &str,
) -> Result<(), InputError> {
    let sum = *total + amount;
    if sum > MAX_NOTIONAL_USD {
        return Err(row.error(
            field,
            format!(
                "{whose} {what} reaches {} USD with this row ({} USD): expected at most {} USD",
                Number(sum),
                Number(amount),
                Number(MAX_NOTIONAL_USD)
            ),
        ));
    }
    *total = sum;
    Ok(())
}

fn read_positions(
    tables: &SnapshotTables,
    members: &[Member],
    instruments: &[Instrument],
    market: &MarketData,
    valuation_date: Date,
) -> Result<Vec<Position>, InputError> {
    let table = &tables.positions;
    table.require_columns(&columns::POSITIONS)?;
    let member_ids: HashMap<&str, usize> = members
        .iter()
        .enumerate()
        .map(|(i, m)| (m.id.as_str(), i))
        .collect();
    let instrument_ids: HashMap<&str, usize> = instruments
        .iter()
        .enumerate()
        .map(|(i, m)| (m.id.as_str(), i))
        .collect();
    let mut first_row: HashMap<(usize, usize), usize> = HashMap::new();
    let mut gross = vec![0.0; members.len()];
    let mut positions = Vec::with_capacity(table.len());
    for row in table.rows() {
        let member = resolve(
            &row,
            "member_id",
            &member_ids,
            "member",
            tables.members.name(),
        )?;
        let instrument = resolve(
            &row,
            "instrument_id",
            &instrument_ids,
            "instrument",
            tables.instruments.name(),
        )?;
        let quantity = row.f64_in("quantity", &bounds::QUANTITY)?;
        if let Some(first) = first_row.insert((member, instrument), row.number()) {
            return Err(row.error(
                "instrument_id",
                format!(
                    "duplicate position of member `{}` in `{}`: already on row {first}",
                    members[member].id, instruments[instrument].id
                ),
            ));
        }
        let per_contract = contract_notional(&instruments[instrument], market, valuation_date);
        let notional = quantity.abs() * per_contract;
        if notional > MAX_NOTIONAL_USD {
            return Err(row.error(
                "quantity",
                format!(
                    "expected a position notional of at most {} USD, found {} contracts of `{}` x {} USD \
                     = {} USD",
                    Number(MAX_NOTIONAL_USD),
                    Number(quantity),
                    instruments[instrument].id,
                    Number(per_contract),
                    Number(notional)
                ),
            ));
        }
        add_within_limit(
            &row,
            "quantity",
            &mut gross[member],
            notional,
            &format!("member `{}`'s", members[member].id),
            "gross notional",
        )?;
        positions.push(Position {
            member,
            instrument,
            quantity,
        });
    }
    if positions.is_empty() {
        return Err(InputError::invalid(
            Location::file(table.name()),
            "no positions: the book is empty, expected at least one position to stress",
        ));
    }
    Ok(positions)
}

fn read_collateral(
    tables: &SnapshotTables,
    members: &[Member],
    market: &MarketData,
    config: &CcpConfig,
    config_name: &str,
) -> Result<Vec<CollateralHolding>, InputError> {
    let table = &tables.collateral;
    table.require_columns(&columns::COLLATERAL)?;
    let member_ids: HashMap<&str, usize> = members
        .iter()
        .enumerate()
        .map(|(i, m)| (m.id.as_str(), i))
        .collect();
    let asset_ids = asset_lookup(&market.assets);
    let mut first_row: HashMap<(usize, CollateralAsset), usize> = HashMap::new();
    let mut value = vec![0.0; members.len()];
    let mut holdings = Vec::with_capacity(table.len());
    for row in table.rows() {
        let member = resolve(
            &row,
            "member_id",
            &member_ids,
            "member",
            tables.members.name(),
        )?;
        let id = row.str("asset")?;
        let asset = match id {
            "USD" => CollateralAsset::Usd,
            _ => CollateralAsset::Asset(*asset_ids.get(id).ok_or_else(|| {
                row.error(
                    "asset",
                    format!(
                        "unknown collateral asset `{id}`: expected `USD` or an asset of {}",
                        tables.assets.name()
                    ),
                )
            })?),
        };
        if !config.collateral.haircuts.contains_key(id) {
            return Err(row.error(
                "asset",
                format!("no haircut for `{id}`: expected `{id}` under [collateral.haircuts] in {config_name}"),
            ));
        }
        if let Some(first) = first_row.insert((member, asset), row.number()) {
            return Err(row.error(
                "asset",
                format!(
                    "duplicate collateral of member `{}` in `{id}`: already on row {first} (one row per member \
                     and asset)",
                    members[member].id
                ),
            ));
        }
        let amount = row.f64_in("amount", &bounds::COLLATERAL_AMOUNT)?;
        let price = match asset {
            CollateralAsset::Usd => 1.0,
            CollateralAsset::Asset(a) => market.assets[a].spot,
        };
        add_within_limit(
            &row,
            "amount",
            &mut value[member],
            amount * price,
            &format!("member `{}`'s", members[member].id),
            "collateral value",
        )?;
        holdings.push(CollateralHolding {
            member,
            asset,
            amount,
        });
    }
    Ok(holdings)
}

/// Parses `ccp.toml` and checks every value the TOML types do not: the valuation
/// date, and every number against its range in [`bounds`]. Errors name the file
/// and the dotted key.
fn parse_config(name: &str, text: &str) -> Result<(CcpConfig, Date), InputError> {
    let config: CcpConfig = toml::from_str(text).map_err(|e| {
        InputError::invalid(
            Location::file(name),
            format!("not a valid configuration: {e}"),
        )
    })?;
    let check = |key: &str, value: f64, bounds: &Bounds| {
        bounds
            .check(value)
            .map(drop)
            .map_err(|message| InputError::invalid(Location::file(name).field(key), message))
    };

    let valuation_date = Date::parse(&config.valuation_date).ok_or_else(|| {
        InputError::invalid(
            Location::file(name).field("valuation_date"),
            format!(
                "expected a date YYYY-MM-DD between 1900-01-01 and 9999-12-31, found `{}`",
                config.valuation_date
            ),
        )
    })?;

    let risk = &config.risk;
    check(
        "risk.margin_period_days",
        risk.margin_period_days,
        &bounds::MARGIN_PERIOD_DAYS,
    )?;
    check("risk.steps", f64::from(risk.steps), &bounds::STEPS)?;
    for (list, values) in [
        ("risk.var_confidence", &risk.var_confidence),
        ("risk.es_confidence", &risk.es_confidence),
    ] {
        for (i, &c) in values.iter().enumerate() {
            check(&format!("{list}[{i}]"), c, &bounds::CONFIDENCE)?;
        }
    }
    check(
        "risk.margin_confidence",
        risk.margin_confidence,
        &bounds::CONFIDENCE,
    )?;

    let scenario = &config.scenario;
    // u64 to f64 rounds only beyond 2^53, far outside the range.
    check("scenario.paths", scenario.paths as f64, &bounds::PATHS)?;
    match scenario.innovations {
        Innovations::StudentT => check("scenario.dof", f64::from(scenario.dof), &bounds::DOF)?,
        Innovations::Nig => check("scenario.nig_shape", scenario.nig_shape, &bounds::NIG_SHAPE)?,
        Innovations::Gaussian => {}
    }
    if let Some(jumps) = &scenario.jumps {
        check(
            "scenario.jumps.intensity_per_year",
            jumps.intensity_per_year,
            &bounds::JUMP_INTENSITY,
        )?;
        check(
            "scenario.jumps.mean_sigmas",
            jumps.mean_sigmas,
            &bounds::JUMP_MEAN,
        )?;
        check(
            "scenario.jumps.stdev_sigmas",
            jumps.stdev_sigmas,
            &bounds::JUMP_STDEV,
        )?;
    }
    check(
        "scenario.vol_shock.vol_of_vol",
        scenario.vol_shock.vol_of_vol,
        &bounds::VOL_OF_VOL,
    )?;
    check(
        "scenario.vol_shock.spot_vol_correlation",
        scenario.vol_shock.spot_vol_correlation,
        &bounds::SPOT_VOL_CORRELATION,
    )?;
    check(
        "scenario.block_size",
        scenario.block_size as f64,
        &bounds::BLOCK_SIZE,
    )?;
    if let Some(historical) = &scenario.historical {
        check(
            "scenario.historical.lookback_days",
            f64::from(historical.lookback_days),
            &bounds::LOOKBACK_DAYS,
        )?;
        check(
            "scenario.historical.lambda",
            historical.lambda,
            &bounds::EWMA_LAMBDA,
        )?;
    }

    for (asset, &haircut) in &config.collateral.haircuts {
        check(
            &format!("collateral.haircuts.{asset}"),
            haircut,
            &bounds::HAIRCUT,
        )?;
    }

    let fund = &config.default_fund;
    check("default_fund.cover", fund.cover as f64, &bounds::COVER)?;
    check(
        "default_fund.skin_in_the_game",
        fund.skin_in_the_game,
        &bounds::SKIN_IN_THE_GAME,
    )?;
    Ok((config, valuation_date))
}

/// Reads stress scenarios: each path is a `.toml` file or a folder, whose
/// `*.toml` files below it are read in path order. Shocks are resolved against
/// `market`'s assets.
pub fn load_stress_scenarios(
    paths: &[PathBuf],
    market: &MarketData,
) -> Result<Vec<StressScenario>, InputError> {
    Ok(read_stress_scenarios(paths, market)?
        .into_iter()
        .map(|(scenario, _)| scenario)
        .collect())
}

fn read_stress_scenarios(
    paths: &[PathBuf],
    market: &MarketData,
) -> Result<Vec<(StressScenario, InputSource)>, InputError> {
    let mut files = Vec::new();
    for path in paths {
        let shown = path.display().to_string();
        let metadata = std::fs::metadata(path).map_err(|e| InputError::io(&shown, e))?;
        if metadata.is_dir() {
            let mut below = Vec::new();
            toml_files_below(path, 0, &mut below)?;
            if below.is_empty() {
                return Err(InputError::invalid(
                    Location::file(shown),
                    "expected stress scenario files (*.toml) in this folder, found none",
                ));
            }
            below.sort();
            files.extend(below);
        } else if path.extension().is_some_and(|e| e == "toml") {
            files.push(path.clone());
        } else {
            return Err(InputError::invalid(
                Location::file(shown),
                "expected a stress scenario file ending in .toml, or a folder of them",
            ));
        }
    }
    let mut scenarios: Vec<(StressScenario, InputSource)> = Vec::with_capacity(files.len());
    for file in files {
        let origin = file.display().to_string();
        let bytes = std::fs::read(&file).map_err(|e| InputError::io(&origin, e))?;
        let text = std::str::from_utf8(&bytes).map_err(|e| {
            InputError::invalid(Location::file(&origin), format!("expected UTF-8 text: {e}"))
        })?;
        let scenario = parse_stress_scenario(&origin, text, market)?;
        if let Some((first, _)) = scenarios.iter().find(|(s, _)| s.name == scenario.name) {
            return Err(InputError::invalid(
                Location::file(&origin).field("name"),
                format!(
                    "duplicate stress scenario name `{}`: already used by {}",
                    scenario.name, first.origin
                ),
            ));
        }
        scenarios.push((
            scenario,
            InputSource {
                name: origin,
                sha256: sha256_hex(&bytes),
            },
        ));
    }
    Ok(scenarios)
}

/// Folder depth beyond which the search for scenario files stops: a guard
/// against symbolic-link cycles.
const MAX_SCENARIO_DEPTH: usize = 32;

fn toml_files_below(dir: &Path, depth: usize, out: &mut Vec<PathBuf>) -> Result<(), InputError> {
    let shown = || dir.display().to_string();
    if depth > MAX_SCENARIO_DEPTH {
        return Err(InputError::invalid(
            Location::file(shown()),
            format!(
                "expected at most {MAX_SCENARIO_DEPTH} levels of scenario folders (a link cycle?)"
            ),
        ));
    }
    for entry in std::fs::read_dir(dir).map_err(|e| InputError::io(shown(), e))? {
        let path = entry.map_err(|e| InputError::io(shown(), e))?.path();
        if path.is_dir() {
            toml_files_below(&path, depth + 1, out)?;
        } else if path.extension().is_some_and(|e| e == "toml") {
            out.push(path);
        }
    }
    Ok(())
}

/// A stress scenario file as written.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct ScenarioFile {
    name: String,
    kind: String,
    #[serde(default)]
    description: String,
    #[serde(default)]
    source: String,
    /// The historical window the moves were measured over: documentation only.
    #[serde(default)]
    #[allow(dead_code)]
    window: Option<String>,
    /// Relative price move per asset.
    #[serde(default)]
    shocks: BTreeMap<String, f64>,
    /// Relative implied-vol move per asset.
    #[serde(default)]
    vol_shocks: BTreeMap<String, f64>,
    #[serde(default)]
    unlisted: Unlisted,
}

/// Moves for the market's assets the file does not name.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct Unlisted {
    crypto: Option<f64>,
    stablecoin: Option<f64>,
    vol: Option<f64>,
}

/// Parses one stress scenario and resolves it against `market`: every asset
/// gets its own price and vol shock if the file names it, else the `unlisted`
/// one for its class (vol: `unlisted.vol`, default 0). Shocks for assets not in
/// the market are checked and ignored. `origin` names the file in errors.
pub fn parse_stress_scenario(
    origin: &str,
    text: &str,
    market: &MarketData,
) -> Result<StressScenario, InputError> {
    let at = |field: &str| Location::file(origin).field(field);
    let file: ScenarioFile = toml::from_str(text).map_err(|e| {
        InputError::invalid(
            Location::file(origin),
            format!("not a valid stress scenario: {e}"),
        )
    })?;
    if file.name.trim().is_empty() {
        return Err(InputError::invalid(
            at("name"),
            "expected a scenario name, found an empty string",
        ));
    }
    if !matches!(file.kind.as_str(), "historical" | "hypothetical") {
        return Err(InputError::invalid(
            at("kind"),
            format!(
                "expected `historical` or `hypothetical`, found `{}`",
                file.kind
            ),
        ));
    }
    let check = |field: String, shock: f64, bounds: &Bounds| {
        bounds
            .check(shock)
            .map(drop)
            .map_err(|message| InputError::invalid(at(&field), message))
    };
    for (asset, &shock) in &file.shocks {
        check(format!("shocks.{asset}"), shock, &bounds::PRICE_SHOCK)?;
    }
    for (asset, &shock) in &file.vol_shocks {
        check(format!("vol_shocks.{asset}"), shock, &bounds::VOL_SHOCK)?;
    }
    for (key, shock, bounds) in [
        ("crypto", file.unlisted.crypto, &bounds::PRICE_SHOCK),
        ("stablecoin", file.unlisted.stablecoin, &bounds::PRICE_SHOCK),
        ("vol", file.unlisted.vol, &bounds::VOL_SHOCK),
    ] {
        if let Some(shock) = shock {
            check(format!("unlisted.{key}"), shock, bounds)?;
        }
    }

    let mut price_shocks = Vec::with_capacity(market.assets.len());
    let mut vol_shocks = Vec::with_capacity(market.assets.len());
    for asset in &market.assets {
        let price = match file.shocks.get(&asset.id) {
            Some(&shock) => shock,
            None => {
                let (key, unlisted) = match asset.class {
                    AssetClass::Crypto => ("crypto", file.unlisted.crypto),
                    AssetClass::Stablecoin => ("stablecoin", file.unlisted.stablecoin),
                };
                unlisted.ok_or_else(|| {
                    InputError::invalid(
                        at(&format!("unlisted.{key}")),
                        format!(
                            "no price shock for asset `{}`: expected `{}` under [shocks] or `{key}` under [unlisted]",
                            asset.id, asset.id
                        ),
                    )
                })?
            }
        };
        price_shocks.push(price);
        vol_shocks.push(
            file.vol_shocks
                .get(&asset.id)
                .copied()
                .or(file.unlisted.vol)
                .unwrap_or(0.0),
        );
    }
    Ok(StressScenario {
        name: file.name,
        kind: file.kind,
        description: file.description,
        source: file.source,
        origin: origin.to_string(),
        price_shocks,
        vol_shocks,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn corr_of(rows: &[&[f64]]) -> Vec<f64> {
        rows.iter().flat_map(|r| r.iter().copied()).collect()
    }

    #[test]
    fn an_inconsistent_correlation_matrix_names_the_block_and_asset() {
        let corr = corr_of(&[&[1.0, 0.9, -0.9], &[0.9, 1.0, 0.9], &[-0.9, 0.9, 1.0]]);
        let (row, message) =
            check_positive_semi_definite(&corr, &["BTC", "ETH", "SOL"]).unwrap_err();
        assert_eq!(row, 3);
        assert!(
            message.starts_with(
                "correlation matrix is not positive semi-definite: the leading 3x3 block including asset SOL has a \
                 negative pivot (-15.2"
            ),
            "{message}"
        );
    }

    #[test]
    fn perfectly_correlated_assets_are_positive_semi_definite() {
        let corr = corr_of(&[&[1.0, 1.0, 0.5], &[1.0, 1.0, 0.5], &[0.5, 0.5, 1.0]]);
        assert!(check_positive_semi_definite(&corr, &["A", "B", "C"]).is_ok());
        let corr = corr_of(&[&[1.0, 0.3], &[0.3, 1.0]]);
        assert!(check_positive_semi_definite(&corr, &["A", "B"]).is_ok());
    }

    #[test]
    fn a_zero_pivot_with_a_residual_is_not_positive_semi_definite() {
        // A and B move together, but C is correlated with one and not the other.
        let corr = corr_of(&[&[1.0, 1.0, 0.0], &[1.0, 1.0, 0.9], &[0.0, 0.9, 1.0]]);
        let (_, message) = check_positive_semi_definite(&corr, &["A", "B", "C"]).unwrap_err();
        assert!(
            message.starts_with("correlation matrix is not positive semi-definite"),
            "{message}"
        );
    }

    const CONFIG: &str = "valuation_date = \"2025-02-20\"\n";

    #[test]
    fn a_minimal_config_takes_the_defaults() {
        let (config, date) = parse_config("ccp.toml", CONFIG).unwrap();
        assert_eq!(date, Date::parse("2025-02-20").unwrap());
        assert_eq!(config.risk, Default::default());
    }

    #[test]
    fn config_errors_name_the_dotted_field_and_the_value() {
        let cases = [
            ("valuation_date = \"2025-02-30\"\n", "ccp.toml, field `valuation_date`: expected a date YYYY-MM-DD"),
            (
                "[risk]\nmargin_period_days = 2\nsteps = 1\nvar_confidence = [0.99, 1.5]\nes_confidence = [0.99]\n\
                 margin_measure = \"expected-shortfall\"\nmargin_confidence = 0.99\n",
                "field `risk.var_confidence[1]`: expected a confidence level in (0.5, 1), found 1.5",
            ),
            (
                "[risk]\nmargin_period_days = 0\nsteps = 1\nvar_confidence = []\nes_confidence = []\n\
                 margin_measure = \"value-at-risk\"\nmargin_confidence = 0.99\n",
                "field `risk.margin_period_days`: expected a number of days in (0, 365], found 0",
            ),
            ("[collateral.haircuts]\nBTC = 1.0\n", "field `collateral.haircuts.BTC`: expected a haircut in [0, 1)"),
            (
                "[default_fund]\ncover = 0\nskin_in_the_game = 0\nallocation = \"initial-margin\"\n",
                "field `default_fund.cover`: expected a whole number of member groups in [1, 10], found 0",
            ),
        ];
        for (extra, expected) in cases {
            let text = if extra.starts_with("valuation_date") {
                extra.to_string()
            } else {
                format!("{CONFIG}{extra}")
            };
            let err = parse_config("ccp.toml", &text).unwrap_err().to_string();
            assert!(
                err.contains(expected),
                "{err}\nexpected to contain: {expected}"
            );
        }
    }

    #[test]
    fn a_toml_error_names_the_file_and_the_line() {
        let err = parse_config("ccp.toml", "valuation_date = \"2025-02-20\"\ncolour = 1\n")
            .unwrap_err()
            .to_string();
        assert!(
            err.starts_with("ccp.toml: not a valid configuration:"),
            "{err}"
        );
        assert!(err.contains("line 2") && err.contains("colour"), "{err}");
    }

    fn market() -> MarketData {
        let asset = |id: &str, class| Asset {
            id: id.into(),
            class,
            spot: 1.0,
            volatility: 0.5,
            funding_rate_8h: 0.0,
            basis: 0.0,
            synthetic: false,
            source: String::new(),
        };
        MarketData {
            assets: vec![
                asset("BTC", AssetClass::Crypto),
                asset("ETH", AssetClass::Crypto),
                asset("USDT", AssetClass::Stablecoin),
            ],
            correlation: vec![1.0, 0.0, 0.0, 0.0, 1.0, 0.0, 0.0, 0.0, 1.0],
            vol_surface: VolSurface::default(),
            rates: RateCurve::flat(0.0),
        }
    }

    #[test]
    fn a_scenario_resolves_named_and_unlisted_assets() {
        let text =
            "name = \"crash\"\nkind = \"hypothetical\"\ndescription = \"d\"\nsource = \"s\"\n\
                    window = \"w\"\n[shocks]\nBTC = -0.3\nDOGE = -0.9\n[vol_shocks]\nBTC = 0.8\n\
                    [unlisted]\ncrypto = -0.4\nstablecoin = 0.0\nvol = 0.5\n";
        let s = parse_stress_scenario("crash.toml", text, &market()).unwrap();
        assert_eq!(s.price_shocks, [-0.3, -0.4, 0.0]);
        assert_eq!(s.vol_shocks, [0.8, 0.5, 0.5]);
        assert_eq!(s.origin, "crash.toml");
    }

    #[test]
    fn a_scenario_without_a_shock_for_an_asset_names_the_missing_key() {
        let text = "name = \"x\"\nkind = \"historical\"\n[shocks]\nBTC = -0.3\n[unlisted]\ncrypto = -0.4\n";
        let err = parse_stress_scenario("x.toml", text, &market())
            .unwrap_err()
            .to_string();
        assert!(
            err.starts_with("x.toml, field `unlisted.stablecoin`: no price shock for asset `USDT`"),
            "{err}"
        );
    }

    #[test]
    fn a_shock_of_minus_one_or_an_unknown_key_is_rejected() {
        let text = "name = \"x\"\nkind = \"historical\"\n[shocks]\nBTC = -1.0\n";
        let err = parse_stress_scenario("x.toml", text, &market())
            .unwrap_err()
            .to_string();
        assert!(
            err.starts_with("x.toml, field `shocks.BTC`: expected a relative price move in (-1, 1000], found -1"),
            "{err}"
        );
        let text = "name = \"x\"\nkind = \"historical\"\nseverity = 3\n";
        let err = parse_stress_scenario("x.toml", text, &market())
            .unwrap_err()
            .to_string();
        assert!(err.contains("severity"), "{err}");
        let text = "name = \"x\"\nkind = \"guess\"\n";
        let err = parse_stress_scenario("x.toml", text, &market())
            .unwrap_err()
            .to_string();
        assert!(
            err.contains("field `kind`: expected `historical` or `hypothetical`, found `guess`"),
            "{err}"
        );
    }
}
