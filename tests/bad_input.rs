//! What the loader accepts and what it refuses: a small valid snapshot folder,
//! then one defect at a time, each of which must be reported with the file, row
//! and field it is in and what was expected there.

mod common;

use std::fmt;
use std::fs::{self, File};
use std::path::Path;
use std::sync::Arc;

use arrow_array::{
    ArrayRef, BooleanArray, Date32Array, Float64Array, Int32Array, RecordBatch, StringArray,
};
use clearstress::input::InputError;
use clearstress::snapshot::{
    self, CollateralAsset, InstrumentKind, OptionRight, Settlement, Snapshot,
};
use parquet::arrow::ArrowWriter;
use parquet::file::properties::WriterProperties;
use tempfile::TempDir;

const MEMBERS: &str = "\
member_id,name,group,df_contribution
CM1,Alpha Dealer,ALPHA,1000000
CM2,Alpha Securities,ALPHA,250000
CM3,\"Beta Fund, LP\",,500000
";

const INSTRUMENTS: &str = "\
instrument_id,kind,underlying,settlement,contract_size,expiry,strike,option_type
BTC-PERP,perpetual,BTC,linear,1,,,
BTC-FUT-0328,future,BTC,inverse,100,2025-03-28,,
BTC-C-100000-0328,option,BTC,linear,1,2025-03-28,100000,call
";

const POSITIONS: &str = "\
member_id,instrument_id,quantity
CM1,BTC-PERP,10
CM1,BTC-C-100000-0328,-25
CM2,BTC-FUT-0328,-5000
CM3,BTC-PERP,-4.5
CM3,BTC-C-100000-0328,25
";

const COLLATERAL: &str = "\
member_id,asset,amount
CM1,USD,2000000
CM2,USDT,500000
CM3,BTC,12.5
";

const ASSETS: &str = "\
asset,class,spot,volatility,funding_rate_8h,basis,adv_usd,synthetic,source
BTC,crypto,96500,0.55,0.0001,0.08,5.6e10,false,\"exchange close, 2025-02-20\"
USDT,stablecoin,1.0002,0.01,0,0,1.4e11,false,
";

const CORRELATION: &str = "\
asset,BTC,USDT
BTC,1,0.05
USDT,0.05,1
";

const VOL_SURFACE: &str = "\
underlying,expiry,strike,implied_vol
BTC,2025-03-28,80000,0.62
BTC,2025-03-28,100000,0.55
BTC,2025-03-28,120000,0.58
";

const RATES: &str = "\
tenor_days,rate
365,0.043
";

const CCP: &str = "\
valuation_date = \"2025-02-20\"

[collateral.haircuts]
USD = 0.0
USDT = 0.05
BTC = 0.15
";

/// A valid snapshot folder in a fresh temporary directory.
fn valid_snapshot() -> TempDir {
    let dir = tempfile::tempdir().unwrap();
    fs::create_dir(dir.path().join("market")).unwrap();
    for (name, text) in [
        ("members.csv", MEMBERS),
        ("instruments.csv", INSTRUMENTS),
        ("positions.csv", POSITIONS),
        ("collateral.csv", COLLATERAL),
        ("market/assets.csv", ASSETS),
        ("market/correlation.csv", CORRELATION),
        ("market/vol_surface.csv", VOL_SURFACE),
        ("market/rates.csv", RATES),
        ("ccp.toml", CCP),
    ] {
        fs::write(dir.path().join(name), text).unwrap();
    }
    dir
}

/// One change to the valid snapshot.
#[derive(Clone, Copy)]
enum Edit {
    /// In `file`, replace the text `from` (which must be there) by `to`.
    Replace {
        file: &'static str,
        from: &'static str,
        to: &'static str,
    },
    /// Add `text` at the end of `file`.
    Append {
        file: &'static str,
        text: &'static str,
    },
    /// Replace `file` as a whole.
    Whole {
        file: &'static str,
        text: &'static str,
    },
    /// Add the stress scenario file `stress/s.toml` with `text`, named in ccp.toml.
    Stress(&'static str),
    /// Several changes, in order.
    Several(&'static [Edit]),
    /// A change no text edit makes (a Parquet table, a missing file), named.
    With(&'static str, fn(&Path)),
}

use Edit::{Several, Stress, With};

const fn replace(file: &'static str, from: &'static str, to: &'static str) -> Edit {
    Edit::Replace { file, from, to }
}

const fn append(file: &'static str, text: &'static str) -> Edit {
    Edit::Append { file, text }
}

const fn whole(file: &'static str, text: &'static str) -> Edit {
    Edit::Whole { file, text }
}

/// The valid snapshot's `ccp.toml` with `extra` added at the end.
macro_rules! ccp_with {
    ($extra:literal) => {
        append("ccp.toml", concat!("\n", $extra, "\n"))
    };
}

/// A stress scenario file whose only shock is `line` under `[section]`.
macro_rules! stress_with {
    ($section:literal, $line:literal) => {
        Stress(concat!(
            "name = \"s\"\nkind = \"hypothetical\"\n[unlisted]\ncrypto = -0.1\nstablecoin = 0.0\n[",
            $section,
            "]\n",
            $line,
            "\n"
        ))
    };
}

impl fmt::Debug for Edit {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Edit::Replace { file, from, to } => write!(f, "in {file}, `{from}` -> `{to}`"),
            Edit::Append { file, text } => write!(f, "{file} + `{text}`"),
            Edit::Whole { file, text } => write!(f, "{file} = `{text}`"),
            Edit::Stress(text) => write!(f, "stress/s.toml = `{text}`"),
            Edit::Several(edits) => f.debug_list().entries(edits.iter()).finish(),
            Edit::With(name, _) => write!(f, "{name}"),
        }
    }
}

/// Makes `edit` in the snapshot folder `dir`.
fn make(edit: Edit, dir: &Path) {
    let path = |file: &str| dir.join(file);
    match edit {
        Edit::Replace { file, from, to } => {
            let text = fs::read_to_string(path(file)).unwrap();
            assert!(
                text.contains(from),
                "`{from}` is not in {file}: the case edits nothing"
            );
            fs::write(path(file), text.replacen(from, to, 1)).unwrap();
        }
        Edit::Append { file, text } => {
            let mut whole = fs::read_to_string(path(file)).unwrap();
            whole.push_str(text);
            fs::write(path(file), whole).unwrap();
        }
        Edit::Whole { file, text } => fs::write(path(file), text).unwrap(),
        Edit::Stress(text) => {
            fs::create_dir(path("stress")).unwrap();
            fs::write(path("stress/s.toml"), text).unwrap();
            let config = format!("{CCP}\n[scenario]\nstress = [\"stress\"]\n");
            fs::write(path("ccp.toml"), config).unwrap();
        }
        Edit::Several(edits) => edits.iter().for_each(|&e| make(e, dir)),
        Edit::With(_, change) => change(dir),
    }
}

/// The valid snapshot with `edit` made.
fn edited(edit: Edit) -> TempDir {
    let dir = valid_snapshot();
    make(edit, dir.path());
    dir
}

/// Where an error must point.
#[derive(Debug, Clone, Copy)]
struct At {
    /// The end of the file's path; `None` for the snapshot folder itself.
    file: Option<&'static str>,
    /// The 1-based data row.
    row: Option<usize>,
    field: Option<&'static str>,
}

/// A cell: file, row and field.
const fn cell(file: &'static str, row: usize, field: &'static str) -> At {
    At {
        file: Some(file),
        row: Some(row),
        field: Some(field),
    }
}

/// A row of a table, no field in particular.
const fn row(file: &'static str, row: usize) -> At {
    At {
        file: Some(file),
        row: Some(row),
        field: None,
    }
}

/// A key of a TOML file, or a column of a table.
const fn key(file: &'static str, key: &'static str) -> At {
    At {
        file: Some(file),
        row: None,
        field: Some(key),
    }
}

/// A file as a whole.
const fn file(file: &'static str) -> At {
    At {
        file: Some(file),
        row: None,
        field: None,
    }
}

/// The snapshot folder.
const FOLDER: At = At {
    file: None,
    row: None,
    field: None,
};

/// A defect and how it must be reported: where, and fragments of what the
/// error says (what was expected, what was found).
struct Refused {
    name: &'static str,
    edit: Edit,
    at: At,
    says: &'static [&'static str],
}

const fn refused(name: &'static str, edit: Edit, at: At, says: &'static [&'static str]) -> Refused {
    Refused {
        name,
        edit,
        at,
        says,
    }
}

/// Whether loading `dir` fails as `case` says; if not, what went wrong.
fn check_refused(dir: &Path, case: &Refused) -> Result<(), String> {
    let (location, message) = match snapshot::load(dir) {
        Ok(_) => return Err("the snapshot loaded".to_string()),
        Err(InputError::Invalid { location, message }) => (location, message),
        Err(other) => return Err(format!("expected an invalid-input error, got: {other}")),
    };
    let shown = format!("{location}: {message}");
    let at = case.at;
    let right_file = match at.file {
        Some(file) => location.file.ends_with(file),
        None => location.file == dir.display().to_string(),
    };
    if !right_file {
        return Err(format!("wrong file (expected {:?}) in: {shown}", at.file));
    }
    if location.row != at.row {
        return Err(format!("wrong row (expected {:?}) in: {shown}", at.row));
    }
    if location.field.as_deref() != at.field {
        return Err(format!("wrong field (expected {:?}) in: {shown}", at.field));
    }
    match case.says.iter().find(|f| !message.contains(*f)) {
        Some(fragment) => Err(format!("expected `{fragment}` in: {shown}")),
        None => Ok(()),
    }
}

/// The one runner: each case's defect is made in a fresh copy of the valid
/// snapshot, which must then be refused as the case says. All failures are
/// reported together.
fn assert_refused(cases: &[Refused]) {
    let failures: Vec<String> = cases
        .iter()
        .filter_map(|case| {
            check_refused(edited(case.edit).path(), case)
                .err()
                .map(|failure| format!("{} ({:?}):\n  {failure}", case.name, case.edit))
        })
        .collect();
    assert!(
        failures.is_empty(),
        "{} of {} cases failed:\n{}",
        failures.len(),
        cases.len(),
        failures.join("\n")
    );
}

const ASSETS_CSV: &str = "market/assets.csv";
const CORRELATION_CSV: &str = "market/correlation.csv";
const SURFACE_CSV: &str = "market/vol_surface.csv";
const RATES_CSV: &str = "market/rates.csv";

#[rustfmt::skip]
const REFERENCES_AND_DUPLICATES: &[Refused] = &[
    refused("a position in an unknown instrument",
        replace("positions.csv", "CM1,BTC-C-100000-0328", "CM1,BTC-C-999-0328"),
        cell("positions.csv", 2, "instrument_id"),
        &["unknown instrument `BTC-C-999-0328`", "instruments.csv"]),
    refused("a position of an unknown member",
        replace("positions.csv", "CM3,BTC-PERP", "CM9,BTC-PERP"),
        cell("positions.csv", 4, "member_id"),
        &["unknown member `CM9`"]),
    refused("a member id twice",
        append("members.csv", "CM2,Alpha Again,ALPHA,0\n"),
        cell("members.csv", 4, "member_id"),
        &["duplicate member_id `CM2`: already on row 2"]),
    refused("an asset twice",
        append(ASSETS_CSV, "BTC,crypto,96000,0.5,0,0,5e10,false,\n"),
        cell("assets.csv", 3, "asset"),
        &["duplicate asset `BTC`: already on row 1"]),
    refused("a member's position in one instrument on two rows",
        append("positions.csv", "CM3,BTC-PERP,1\n"),
        cell("positions.csv", 6, "instrument_id"),
        &["duplicate position of member `CM3` in `BTC-PERP`: already on row 4"]),
    refused("a member's collateral in one asset on two rows",
        append("collateral.csv", "CM2,USDT,1\n"),
        cell("collateral.csv", 4, "asset"),
        &["duplicate collateral of member `CM2` in `USDT`: already on row 2"]),
];

#[rustfmt::skip]
const INSTRUMENT_RULES: &[Refused] = &[
    refused("an option without an expiry",
        replace("instruments.csv", "option,BTC,linear,1,2025-03-28,", "option,BTC,linear,1,,"),
        cell("instruments.csv", 3, "expiry"),
        &["expected an expiry date YYYY-MM-DD for an option, found an empty field"]),
    refused("a perpetual with an expiry",
        replace("instruments.csv", "BTC-PERP,perpetual,BTC,linear,1,,,", "BTC-PERP,perpetual,BTC,linear,1,2025-03-28,,"),
        cell("instruments.csv", 1, "expiry"),
        &["expected an empty field (a perpetual has no expiry), found `2025-03-28`"]),
    refused("a future that expired before the valuation date",
        replace("instruments.csv", "inverse,100,2025-03-28", "inverse,100,2025-01-31"),
        cell("instruments.csv", 2, "expiry"),
        &["on or after the valuation date 2025-02-20, found `2025-01-31`"]),
    refused("an option on an underlying without implied vols",
        whole(SURFACE_CSV, "underlying,expiry,strike,implied_vol\n"),
        cell("instruments.csv", 3, "underlying"),
        &["needs implied vols", "vol_surface.csv has no quotes for `BTC`"]),
    refused("a book without positions",
        whole("positions.csv", "member_id,instrument_id,quantity\n"),
        file("positions.csv"),
        &["no positions", "the book is empty"]),
    refused("a linear contract settling in a coin",
        whole("instruments.csv", "instrument_id,kind,underlying,settlement,contract_size,expiry,strike,option_type,settlement_asset\n\
            BTC-PERP,perpetual,BTC,linear,1,,,,BTC\nBTC-FUT-0328,future,BTC,inverse,100,2025-03-28,,,\n\
            BTC-C-100000-0328,option,BTC,linear,1,2025-03-28,100000,call,\n"),
        cell("instruments.csv", 1, "settlement_asset"),
        &["a linear contract settles in USD or a stablecoin: `BTC` is not a stablecoin"]),
    refused("an inverse contract settling in a stablecoin",
        whole("instruments.csv", "instrument_id,kind,underlying,settlement,contract_size,expiry,strike,option_type,settlement_asset\n\
            BTC-PERP,perpetual,BTC,linear,1,,,,USDT\nBTC-FUT-0328,future,BTC,inverse,100,2025-03-28,,,USDT\n\
            BTC-C-100000-0328,option,BTC,linear,1,2025-03-28,100000,call,USD\n"),
        cell("instruments.csv", 2, "settlement_asset"),
        &["an inverse contract settles in its underlying `BTC`: found `USDT`"]),
    refused("a stablecoin-settled option",
        whole("instruments.csv", "instrument_id,kind,underlying,settlement,contract_size,expiry,strike,option_type,settlement_asset\n\
            BTC-PERP,perpetual,BTC,linear,1,,,,USDT\nBTC-FUT-0328,future,BTC,inverse,100,2025-03-28,,,BTC\n\
            BTC-C-100000-0328,option,BTC,linear,1,2025-03-28,100000,call,USDT\n"),
        cell("instruments.csv", 3, "settlement_asset"),
        &["a USDT-settled option is not supported"]),
    refused("a settlement asset that is not in the market",
        whole("instruments.csv", "instrument_id,kind,underlying,settlement,contract_size,expiry,strike,option_type,settlement_asset\n\
            BTC-PERP,perpetual,BTC,linear,1,,,,USDC\nBTC-FUT-0328,future,BTC,inverse,100,2025-03-28,,,\n\
            BTC-C-100000-0328,option,BTC,linear,1,2025-03-28,100000,call,\n"),
        cell("instruments.csv", 1, "settlement_asset"),
        &["unknown asset `USDC`"]),
    refused("collateral in an asset without a haircut",
        replace("ccp.toml", "BTC = 0.15\n", ""),
        cell("collateral.csv", 3, "asset"),
        &["no haircut for `BTC`", "[collateral.haircuts]", "ccp.toml"]),
];

/// The eligibility rules of `[collateral]` (methodology 17.6): each id they
/// name must be in the snapshot, each share in (0, 1].
#[rustfmt::skip]
const COLLATERAL_RULES: &[Refused] = &[
    refused("a member share for an asset the market does not have",
        ccp_with!("[collateral.member_share]\nETH = 0.5"),
        key("ccp.toml", "collateral.member_share.ETH"),
        &["unknown id `ETH`: expected `USD` or an asset of", "assets.csv"]),
    refused("an eligible asset the market does not have",
        replace("ccp.toml", "[collateral.haircuts]", "[collateral]\neligible = [\"USD\", \"ETH\"]\n[collateral.haircuts]\nETH = 0.2"),
        key("ccp.toml", "collateral.eligible[1]"),
        &["unknown id `ETH`"]),
    refused("wrong-way collateral of a member the book does not have",
        ccp_with!("[collateral.wrong_way]\nCM9 = [\"BTC\"]"),
        key("ccp.toml", "collateral.wrong_way.CM9"),
        &["unknown id `CM9`: expected a member_id of", "members.csv"]),
    refused("wrong-way collateral in an asset the market does not have",
        ccp_with!("[collateral.wrong_way]\nCM1 = [\"BTC\", \"FTT\"]"),
        key("ccp.toml", "collateral.wrong_way.CM1[1]"),
        &["unknown id `FTT`"]),
    refused("a member share of 0 (ineligibility is said with `eligible`)",
        ccp_with!("[collateral.member_share]\nBTC = 0"),
        key("ccp.toml", "collateral.member_share.BTC"),
        &["expected a share of the eligible collateral in (0, 1], found 0"]),
    refused("an issuer share above 1",
        ccp_with!("[collateral.issuers]\nUSDT = \"Tether\"\n[collateral.issuer_share]\nTether = 1.5"),
        key("ccp.toml", "collateral.issuer_share.Tether"),
        &["expected a share of the eligible collateral in (0, 1], found 1.5"]),
    refused("an issuer share for an issuer of no asset",
        ccp_with!("[collateral.issuers]\nUSDT = \"Tether\"\n[collateral.issuer_share]\nCircle = 0.5"),
        key("ccp.toml", "collateral.issuer_share.Circle"),
        &["no asset is issued by `Circle`: expected an issuer named in [collateral.issuers]"]),
    refused("an eligible asset without a haircut",
        whole("ccp.toml", "valuation_date = \"2025-02-20\"\n[collateral]\neligible = [\"USD\", \"BTC\"]\n[collateral.haircuts]\nUSD = 0.0\n"),
        key("ccp.toml", "collateral.eligible[1]"),
        &["`BTC` is eligible but has no haircut"]),
];

#[rustfmt::skip]
const SHAPES_OF_FILES: &[Refused] = &[
    refused("an unknown key in ccp.toml",
        replace("ccp.toml", "[collateral.haircuts]", "margin_confidence = 0.99\n\n[collateral.haircuts]"),
        file("ccp.toml"),
        &["unknown field `margin_confidence`", "line 3"]),
    // The TOML parser names the line, the column and the choices, not the key.
    refused("an unknown last layer of the waterfall",
        ccp_with!("[waterfall]\nafter_assessments = \"bail-in\""),
        file("ccp.toml"),
        &["after_assessments = \"bail-in\"", "unknown variant `bail-in`, expected one of `none`, `vmgh`, `insurance-fund-adl`"]),
    refused("a row with a field too many",
        replace("members.csv", "CM2,Alpha Securities,ALPHA,250000", "CM2,Alpha Securities,ALPHA,250000,extra"),
        file("members.csv"),
        &["incorrect number of fields for line 3"]),
    refused("a missing column",
        whole(RATES_CSV, "tenor,rate\n365,0.043\n"),
        key("rates.csv", "tenor_days"),
        &["missing column `tenor_days`", "found tenor, rate"]),
    refused("an assets table without the average daily value (required: no silent zero close-out cost)",
        whole(ASSETS_CSV, "asset,class,spot,volatility,funding_rate_8h,basis,synthetic,source\n\
                           BTC,crypto,96500,0.55,0.0001,0.08,false,\n\
                           USDT,stablecoin,1.0002,0.01,0,0,false,\n"),
        key("assets.csv", "adv_usd"),
        &["missing column `adv_usd`"]),
    refused("correlation columns in another order than the assets",
        whole(CORRELATION_CSV, "asset,USDT,BTC\nUSDT,1,0.05\nBTC,0.05,1\n"),
        file("correlation.csv"),
        &["expected the columns asset, BTC, USDT"]),
    refused("an asymmetric correlation matrix",
        replace(CORRELATION_CSV, "USDT,0.05,1", "USDT,0.06,1"),
        cell("correlation.csv", 2, "BTC"),
        &["expected a symmetric matrix"]),
    refused("a correlation matrix that is not positive semi-definite",
        Several(&[
            append(ASSETS_CSV, "ETH,crypto,2700,0.7,0.0001,0.07,3e10,false,\n"),
            whole(CORRELATION_CSV, "asset,BTC,USDT,ETH\nBTC,1,0.9,-0.9\nUSDT,0.9,1,0.9\nETH,-0.9,0.9,1\n"),
        ]),
        row("correlation.csv", 3),
        &["correlation matrix is not positive semi-definite",
          "the leading 3x3 block including asset ETH has a negative pivot"]),
    refused("a table as both CSV and Parquet",
        With("members.parquet beside members.csv", |dir| {
            write_members_parquet(dir, [1.0, 2.0, 3.0]);
            fs::write(dir.join("members.csv"), MEMBERS).unwrap();
        }),
        FOLDER,
        &["both members.csv and members.parquet exist"]),
    refused("a table in neither format",
        With("no members table", |dir| fs::remove_file(dir.join("members.csv")).unwrap()),
        FOLDER,
        &["missing table `members`: expected members.csv or members.parquet"]),
    refused("a NaN in a Parquet table",
        With("members.parquet with a NaN contribution", |dir| {
            write_members_parquet(dir, [1_000_000.0, 250_000.0, f64::NAN]);
        }),
        cell("members.parquet", 3, "df_contribution"),
        &["expected an amount in USD in [0, 1e12], found `NaN`"]),
];

#[rustfmt::skip]
const EMPTY_NAN_AND_INFINITE_NUMBERS: &[Refused] = &[
    refused("an empty spot",
        replace(ASSETS_CSV, "USDT,stablecoin,1.0002", "USDT,stablecoin,"),
        cell("assets.csv", 2, "spot"),
        &["expected a price in USD in [1e-12, 1e9], found an empty field"]),
    refused("an empty volatility",
        replace(ASSETS_CSV, "96500,0.55,", "96500,,"),
        cell("assets.csv", 1, "volatility"),
        &["expected an annualised volatility in (0, 10], found an empty field"]),
    refused("a NaN quantity",
        replace("positions.csv", "CM2,BTC-FUT-0328,-5000", "CM2,BTC-FUT-0328,NaN"),
        cell("positions.csv", 3, "quantity"),
        &["expected a number of contracts in [-1e15, 1e15], found `NaN`"]),
    refused("an infinite spot",
        replace(ASSETS_CSV, "BTC,crypto,96500", "BTC,crypto,inf"),
        cell("assets.csv", 1, "spot"),
        &["found `inf`"]),
    refused("an empty average daily value",
        replace(ASSETS_CSV, "0.08,5.6e10,", "0.08,,"),
        cell("assets.csv", 1, "adv_usd"),
        &["expected an average daily traded value in USD in (0, 1e13], found an empty field"]),
    refused("a NaN average daily value",
        replace(ASSETS_CSV, "0,0,1.4e11,", "0,0,NaN,"),
        cell("assets.csv", 2, "adv_usd"),
        &["expected an average daily traded value in USD in (0, 1e13], found `NaN`"]),
    refused("a funding rate of minus infinity",
        replace(ASSETS_CSV, "0.55,0.0001,0.08", "0.55,-infinity,0.08"),
        cell("assets.csv", 1, "funding_rate_8h"),
        &["expected a funding rate per 8 hours in [-0.1, 0.1], found `-infinity`"]),
    refused("a NaN collateral amount",
        replace("collateral.csv", "CM1,USD,2000000", "CM1,USD,nan"),
        cell("collateral.csv", 1, "amount"),
        &["expected an amount of units in [0, 1e15], found `nan`"]),
    refused("a NaN vol of vol",
        ccp_with!("[scenario.vol_shock]\nvol_of_vol = nan"),
        key("ccp.toml", "scenario.vol_shock.vol_of_vol"),
        &["expected a volatility of volatility in [0, 5], found NaN"]),
    refused("an infinite skin in the game",
        ccp_with!("[default_fund]\nskin_in_the_game = inf"),
        key("ccp.toml", "default_fund.skin_in_the_game"),
        &["expected an amount in USD in [0, 1e12], found inf"]),
    refused("a negative capital",
        whole("members.csv", "member_id,name,group,df_contribution,capital\nCM1,Alpha Dealer,ALPHA,1000000,-5\nCM2,Alpha Securities,ALPHA,250000,\n"),
        cell("members.csv", 1, "capital"),
        &["expected an amount in USD in [0, 1e13], found `-5`"]),
    refused("a member's liquid resources that are not a number",
        whole("members.csv", "member_id,name,group,df_contribution,liquid_resources\nCM1,Alpha Dealer,ALPHA,1000000,lots\nCM2,Alpha Securities,ALPHA,250000,\n"),
        cell("members.csv", 1, "liquid_resources"),
        &["lots"]),
    refused("a set of defaulting groups naming no member's group",
        ccp_with!("[waterfall]\ndefaulting_groups = [[\"NOBODY\"]]"),
        key("ccp.toml", "waterfall.defaulting_groups[0]"),
        &["is in group `NOBODY`"]),
    refused("liquid resources in an unknown asset",
        ccp_with!("[liquidity.resources]\nDOGE = 10"),
        key("ccp.toml", "liquidity.resources.DOGE"),
        &["unknown asset `DOGE`: expected `USD` or"]),
];

/// 1e308 in every numeric column of every table.
#[rustfmt::skip]
const ABSURD_NUMBERS: &[Refused] = &[
    refused("an absurd default-fund contribution",
        replace("members.csv", "ALPHA,1000000", "ALPHA,1e308"),
        cell("members.csv", 1, "df_contribution"),
        &["expected an amount in USD in [0, 1e12], found `1e308`"]),
    refused("an absurd contract size",
        replace("instruments.csv", "BTC-PERP,perpetual,BTC,linear,1,", "BTC-PERP,perpetual,BTC,linear,1e308,"),
        cell("instruments.csv", 1, "contract_size"),
        &["expected a contract size in (0, 1e12], found `1e308`"]),
    refused("an absurd strike",
        replace("instruments.csv", "2025-03-28,100000,call", "2025-03-28,1e308,call"),
        cell("instruments.csv", 3, "strike"),
        &["expected a price in USD in [1e-12, 1e9], found `1e308`"]),
    refused("an absurd quantity",
        replace("positions.csv", "CM1,BTC-PERP,10", "CM1,BTC-PERP,1e308"),
        cell("positions.csv", 1, "quantity"),
        &["expected a number of contracts in [-1e15, 1e15], found `1e308`"]),
    refused("an absurd collateral amount",
        replace("collateral.csv", "CM1,USD,2000000", "CM1,USD,1e308"),
        cell("collateral.csv", 1, "amount"),
        &["expected an amount of units in [0, 1e15], found `1e308`"]),
    refused("an absurd spot",
        replace(ASSETS_CSV, "BTC,crypto,96500", "BTC,crypto,1e308"),
        cell("assets.csv", 1, "spot"),
        &["expected a price in USD in [1e-12, 1e9], found `1e308`"]),
    refused("an absurd volatility",
        replace(ASSETS_CSV, "96500,0.55,", "96500,1e308,"),
        cell("assets.csv", 1, "volatility"),
        &["expected an annualised volatility in (0, 10], found `1e308`"]),
    refused("an absurd funding rate",
        replace(ASSETS_CSV, "0.55,0.0001,0.08", "0.55,1e308,0.08"),
        cell("assets.csv", 1, "funding_rate_8h"),
        &["expected a funding rate per 8 hours in [-0.1, 0.1], found `1e308`"]),
    refused("an absurd basis",
        replace(ASSETS_CSV, "0.0001,0.08,5.6e10", "0.0001,1e308,5.6e10"),
        cell("assets.csv", 1, "basis"),
        &["expected an annualised basis in [-2, 2], found `1e308`"]),
    refused("an absurd correlation",
        replace(CORRELATION_CSV, "BTC,1,0.05", "BTC,1,1e308"),
        cell("correlation.csv", 1, "USDT"),
        &["expected a correlation in [-1, 1], found `1e308`"]),
    refused("an absurd quoted strike",
        replace(SURFACE_CSV, "BTC,2025-03-28,80000,", "BTC,2025-03-28,1e308,"),
        cell("vol_surface.csv", 1, "strike"),
        &["expected a price in USD in [1e-12, 1e9], found `1e308`"]),
    refused("an absurd implied vol",
        replace(SURFACE_CSV, "80000,0.62", "80000,1e308"),
        cell("vol_surface.csv", 1, "implied_vol"),
        &["expected an implied volatility in (0, 10], found `1e308`"]),
    refused("an absurd tenor",
        replace(RATES_CSV, "365,0.043", "1e308,0.043"),
        cell("rates.csv", 1, "tenor_days"),
        &["expected a tenor in days in [0, 36500], found `1e308`"]),
    refused("an absurd rate",
        replace(RATES_CSV, "365,0.043", "365,1e308"),
        cell("rates.csv", 1, "rate"),
        &["expected a zero rate in [-0.5, 1], found `1e308`"]),
];

/// Values that are not absurd but are implausible, alone or multiplied
/// together: a position of 1e12 BTC (9.65e16 USD), a member whose positions
/// add up past 1e15 USD, collateral worth 1.9e15 USD.
#[rustfmt::skip]
const IMPLAUSIBLE_VALUES: &[Refused] = &[
    refused("a volatility of 5000%",
        replace(ASSETS_CSV, "96500,0.55,", "96500,50,"),
        cell("assets.csv", 1, "volatility"),
        &["expected an annualised volatility in (0, 10], found `50`"]),
    refused("a negative average daily value",
        replace(ASSETS_CSV, "0.08,5.6e10,", "0.08,-5.6e10,"),
        cell("assets.csv", 1, "adv_usd"),
        &["expected an average daily traded value in USD in (0, 1e13], found `-5.6e10`"]),
    refused("a negative spot",
        replace(ASSETS_CSV, "BTC,crypto,96500", "BTC,crypto,-96500"),
        cell("assets.csv", 1, "spot"),
        &["expected a price in USD in [1e-12, 1e9], found `-96500`"]),
    refused("an expiry a day past 30 years",
        replace("instruments.csv", "inverse,100,2025-03-28", "inverse,100,2055-02-14"),
        cell("instruments.csv", 2, "expiry"),
        &["at most 10950 days (30 years) after the valuation date 2025-02-20, on or before 2055-02-13, found `2055-02-14`"]),
    refused("a quote expiring past 30 years",
        replace(SURFACE_CSV, "BTC,2025-03-28,80000,", "BTC,2099-03-28,80000,"),
        cell("vol_surface.csv", 1, "expiry"),
        &["at most 10950 days (30 years) after the valuation date"]),
    refused("a position notional past 1e15 USD",
        replace("positions.csv", "CM1,BTC-PERP,10", "CM1,BTC-PERP,1e12"),
        cell("positions.csv", 1, "quantity"),
        &["expected a position notional of at most 1e15 USD, found 1e12 contracts of `BTC-PERP` x 96500 USD = 9.65e16 USD"]),
    refused("a member's gross notional past 1e15 USD",
        replace("positions.csv", "CM1,BTC-PERP,10\nCM1,BTC-C-100000-0328,-25", "CM1,BTC-PERP,9e9\nCM1,BTC-C-100000-0328,-9e9"),
        cell("positions.csv", 2, "quantity"),
        &["member `CM1`'s gross notional reaches", "expected at most 1e15 USD"]),
    refused("a member's collateral worth past 1e15 USD",
        replace("collateral.csv", "CM3,BTC,12.5", "CM3,BTC,2e10"),
        cell("collateral.csv", 3, "amount"),
        &["member `CM3`'s collateral value reaches 1.93e15 USD", "expected at most 1e15 USD"]),
];

#[rustfmt::skip]
const CCP_TOML_RANGES: &[Refused] = &[
    refused("a close-out horizon of 0 days",
        ccp_with!("[close_out]\nhorizon_days = 0"),
        key("ccp.toml", "close_out.horizon_days"),
        &["expected a number of days in (0, 365], found 0"]),
    refused("a negative impact coefficient",
        ccp_with!("[close_out]\nimpact_coefficient = -1"),
        key("ccp.toml", "close_out.impact_coefficient"),
        &["expected an impact coefficient in [0, 10], found -1"]),
    refused("a half spread of 60%",
        ccp_with!("[close_out.half_spread]\ncrypto = 0.6"),
        key("ccp.toml", "close_out.half_spread.crypto"),
        &["expected a half spread in [0, 0.5], found 0.6"]),
    refused("a NaN half spread of one asset",
        ccp_with!("[close_out.half_spread_by_asset]\nBTC = nan"),
        key("ccp.toml", "close_out.half_spread_by_asset.BTC"),
        &["expected a half spread in [0, 0.5], found NaN"]),
    refused("a half spread for an asset the market does not have",
        ccp_with!("[close_out.half_spread_by_asset]\nETH = 0.001"),
        key("ccp.toml", "close_out.half_spread_by_asset.ETH"),
        &["no asset `ETH` in", "assets.csv: expected one of its asset ids"]),
    refused("a margin confidence above 1",
        ccp_with!("[risk]\nmargin_confidence = 1.5"),
        key("ccp.toml", "risk.margin_confidence"),
        &["expected a confidence level in (0.5, 1), found 1.5"]),
    refused("an absurd margin period",
        ccp_with!("[risk]\nmargin_period_days = 1e308"),
        key("ccp.toml", "risk.margin_period_days"),
        &["expected a number of days in (0, 365], found 1e308"]),
    refused("too many steps",
        ccp_with!("[risk]\nsteps = 1001"),
        key("ccp.toml", "risk.steps"),
        &["expected a whole number of steps in [1, 1000], found 1001"]),
    refused("a million jumps a year",
        ccp_with!("[scenario.jumps]\nintensity_per_year = 1e6\nmean_sigmas = -2.5\nstdev_sigmas = 1.5"),
        key("ccp.toml", "scenario.jumps.intensity_per_year"),
        &["expected a number of jumps per year in [0, 365], found 1000000"]),
    refused("an absurd mean jump",
        ccp_with!("[scenario.jumps]\nintensity_per_year = 3\nmean_sigmas = -1e6\nstdev_sigmas = 1.5"),
        key("ccp.toml", "scenario.jumps.mean_sigmas"),
        &["expected a mean jump in daily volatilities in [-20, 20], found -1000000"]),
    refused("an absurd jump standard deviation",
        ccp_with!("[scenario.jumps]\nintensity_per_year = 3\nmean_sigmas = -2.5\nstdev_sigmas = 1e6"),
        key("ccp.toml", "scenario.jumps.stdev_sigmas"),
        &["expected a jump standard deviation in daily volatilities in [0, 10], found 1000000"]),
    refused("an absurd vol of vol",
        ccp_with!("[scenario.vol_shock]\nvol_of_vol = 1000"),
        key("ccp.toml", "scenario.vol_shock.vol_of_vol"),
        &["expected a volatility of volatility in [0, 5], found 1000"]),
    refused("a spot-vol correlation below -1",
        ccp_with!("[scenario.vol_shock]\nspot_vol_correlation = -1.01"),
        key("ccp.toml", "scenario.vol_shock.spot_vol_correlation"),
        &["expected a correlation in [-1, 1], found -1.01"]),
    refused("no paths",
        ccp_with!("[scenario]\npaths = 0"),
        key("ccp.toml", "scenario.paths"),
        &["expected a whole number of paths in [1000, 1e11], found 0"]),
    refused("an NIG shape below 0.05",
        ccp_with!("[scenario]\ninnovations = \"nig\"\nnig_shape = 0.01"),
        key("ccp.toml", "scenario.nig_shape"),
        &["expected an NIG shape in [0.05, 1000], found 0.01"]),
    refused("a Student-t with 65 degrees of freedom",
        ccp_with!("[scenario]\ninnovations = \"student-t\"\ndof = 65"),
        key("ccp.toml", "scenario.dof"),
        &["expected a whole number of degrees of freedom in [3, 64], found 65"]),
    refused("a block of 63 scenarios",
        ccp_with!("[scenario]\nblock_size = 63"),
        key("ccp.toml", "scenario.block_size"),
        &["expected a whole number of scenarios in [64, 1048576], found 63"]),
    refused("an EWMA decay of 1",
        ccp_with!("[scenario.historical]\nhistory = \"h.csv\"\nlambda = 1.0"),
        key("ccp.toml", "scenario.historical.lambda"),
        &["expected an EWMA decay in (0, 1), found 1"]),
    refused("a look-back of 29 days",
        ccp_with!("[scenario.historical]\nhistory = \"h.csv\"\nlookback_days = 29"),
        key("ccp.toml", "scenario.historical.lookback_days"),
        &["expected a whole number of days in [30, 36500], found 29"]),
    refused("an absurd haircut",
        replace("ccp.toml", "BTC = 0.15", "BTC = 1e308"),
        key("ccp.toml", "collateral.haircuts.BTC"),
        &["expected a haircut in [0, 1), found 1e308"]),
    refused("a cover of 11 member groups",
        ccp_with!("[default_fund]\ncover = 11"),
        key("ccp.toml", "default_fund.cover"),
        &["expected a whole number of member groups in [1, 10], found 11"]),
    refused("a negative second skin in the game",
        ccp_with!("[waterfall]\nsecond_skin_in_the_game = -1"),
        key("ccp.toml", "waterfall.second_skin_in_the_game"),
        &["expected an amount in USD in [0, 1e12], found -1"]),
    refused("an assessment cap of zero times the contribution",
        ccp_with!("[waterfall]\nassessment_multiple = 0"),
        key("ccp.toml", "waterfall.assessment_multiple"),
        &["expected a multiple of the contribution in (0, 10], found 0"]),
    refused("an insurance fund of infinity",
        ccp_with!("[waterfall]\nafter_assessments = \"insurance-fund-adl\"\ninsurance_fund = inf"),
        key("ccp.toml", "waterfall.insurance_fund"),
        &["expected an amount in USD in [0, 1e12], found inf"]),
    refused("an insurance fund no layer uses",
        ccp_with!("[waterfall]\nafter_assessments = \"vmgh\"\ninsurance_fund = 1000"),
        key("ccp.toml", "waterfall.insurance_fund"),
        &["an insurance fund (1000) is used only with after_assessments = \"insurance-fund-adl\""]),
];

#[rustfmt::skip]
const STRESS_FILE_RANGES: &[Refused] = &[
    refused("an absurd price shock",
        stress_with!("shocks", "BTC = 1e308"),
        key("s.toml", "shocks.BTC"),
        &["expected a relative price move in (-1, 1000], found 1e308"]),
    refused("an absurd vol shock",
        stress_with!("vol_shocks", "BTC = 1e308"),
        key("s.toml", "vol_shocks.BTC"),
        &["expected a relative implied-vol move in (-1, 10], found 1e308"]),
    refused("a NaN price shock",
        stress_with!("shocks", "BTC = nan"),
        key("s.toml", "shocks.BTC"),
        &["found NaN"]),
    refused("an unlisted vol shock above 10",
        Stress("name = \"s\"\nkind = \"hypothetical\"\n[unlisted]\ncrypto = -0.1\nstablecoin = 0.0\nvol = 11\n"),
        key("s.toml", "unlisted.vol"),
        &["expected a relative implied-vol move in (-1, 10], found 11"]),
];

/// Each open end of a range refuses the value at it.
#[rustfmt::skip]
const OPEN_ENDS: &[Refused] = &[
    refused("a price shock of -1",
        stress_with!("shocks", "BTC = -1"),
        key("s.toml", "shocks.BTC"),
        &["expected a relative price move in (-1, 1000], found -1"]),
    refused("a vol shock of -1",
        stress_with!("vol_shocks", "BTC = -1"),
        key("s.toml", "vol_shocks.BTC"),
        &["found -1"]),
    refused("a volatility of 0",
        replace(ASSETS_CSV, "96500,0.55,", "96500,0,"),
        cell("assets.csv", 1, "volatility"),
        &["expected an annualised volatility in (0, 10], found `0`"]),
    refused("an average daily value of 0",
        replace(ASSETS_CSV, "0.08,5.6e10,", "0.08,0,"),
        cell("assets.csv", 1, "adv_usd"),
        &["expected an average daily traded value in USD in (0, 1e13], found `0`"]),
    refused("an implied vol of 0",
        replace(SURFACE_CSV, "80000,0.62", "80000,0"),
        cell("vol_surface.csv", 1, "implied_vol"),
        &["found `0`"]),
    refused("a contract size of 0",
        replace("instruments.csv", "BTC-PERP,perpetual,BTC,linear,1,", "BTC-PERP,perpetual,BTC,linear,0,"),
        cell("instruments.csv", 1, "contract_size"),
        &["expected a contract size in (0, 1e12], found `0`"]),
    refused("a haircut of 1",
        replace("ccp.toml", "BTC = 0.15", "BTC = 1.0"),
        key("ccp.toml", "collateral.haircuts.BTC"),
        &["expected a haircut in [0, 1), found 1"]),
    refused("an ES confidence of 0.5",
        ccp_with!("[risk]\nes_confidence = [0.5]"),
        key("ccp.toml", "risk.es_confidence[0]"),
        &["expected a confidence level in (0.5, 1), found 0.5"]),
    refused("a VaR confidence of 1",
        ccp_with!("[risk]\nvar_confidence = [0.99, 1.0]"),
        key("ccp.toml", "risk.var_confidence[1]"),
        &["found 1"]),
    refused("a margin period of 0 days",
        ccp_with!("[risk]\nmargin_period_days = 0"),
        key("ccp.toml", "risk.margin_period_days"),
        &["expected a number of days in (0, 365], found 0"]),
];

/// A value just beyond a closed end is refused.
#[rustfmt::skip]
const JUST_BEYOND_A_CLOSED_END: &[Refused] = &[
    refused("a rate just below -0.5",
        replace(RATES_CSV, "365,0.043", "365,-0.5000001"),
        cell("rates.csv", 1, "rate"),
        &["found `-0.5000001`"]),
    refused("a volatility just above 10",
        replace(ASSETS_CSV, "96500,0.55,", "96500,10.000001,"),
        cell("assets.csv", 1, "volatility"),
        &["found `10.000001`"]),
    refused("a price shock just above 1000",
        stress_with!("shocks", "BTC = 1000.001"),
        key("s.toml", "shocks.BTC"),
        &["found 1000.001"]),
];

#[test]
fn references_to_unknown_ids_and_repeated_ids_are_refused() {
    assert_refused(REFERENCES_AND_DUPLICATES);
}

#[test]
fn instruments_break_no_rule_of_their_kind() {
    assert_refused(INSTRUMENT_RULES);
}

#[test]
fn collateral_rules_naming_unknown_ids_or_shares_out_of_range_are_refused() {
    assert_refused(COLLATERAL_RULES);
}

#[test]
fn files_of_the_wrong_shape_are_refused() {
    assert_refused(SHAPES_OF_FILES);
}

#[test]
fn empty_nan_and_infinite_numbers_are_refused() {
    assert_refused(EMPTY_NAN_AND_INFINITE_NUMBERS);
}

#[test]
fn absurd_numbers_are_refused_in_every_numeric_column() {
    assert_refused(ABSURD_NUMBERS);
}

#[test]
fn implausible_values_and_products_are_refused() {
    assert_refused(IMPLAUSIBLE_VALUES);
}

#[test]
fn ccp_toml_values_out_of_range_are_refused() {
    assert_refused(CCP_TOML_RANGES);
}

#[test]
fn stress_shocks_out_of_range_are_refused() {
    assert_refused(STRESS_FILE_RANGES);
}

#[test]
fn an_open_end_refuses_the_value_at_it() {
    assert_refused(OPEN_ENDS);
}

#[test]
fn a_value_just_beyond_a_closed_end_is_refused() {
    assert_refused(JUST_BEYOND_A_CLOSED_END);
}

/// A value at a closed end of its range, and how to read it back.
struct Accepted {
    name: &'static str,
    edit: Edit,
    read: fn(&Snapshot) -> f64,
    value: f64,
}

const fn accepted(
    name: &'static str,
    edit: Edit,
    read: fn(&Snapshot) -> f64,
    value: f64,
) -> Accepted {
    Accepted {
        name,
        edit,
        read,
        value,
    }
}

#[rustfmt::skip]
const AT_A_CLOSED_END: &[Accepted] = &[
    accepted("a volatility of 10",
        replace(ASSETS_CSV, "96500,0.55,", "96500,10,"),
        |s| s.market.assets[0].volatility, 10.0),
    accepted("a spot of 1e-12",
        replace(ASSETS_CSV, "USDT,stablecoin,1.0002", "USDT,stablecoin,1e-12"),
        |s| s.market.assets[1].spot, 1e-12),
    accepted("a funding rate of -0.1 and a basis of 2",
        replace(ASSETS_CSV, "0.55,0.0001,0.08", "0.55,-0.1,2"),
        |s| s.market.assets[0].basis, 2.0),
    accepted("an implied vol of 10",
        replace(SURFACE_CSV, "80000,0.62", "80000,10"),
        |s| s.market.vol_surface.quotes()[0].vol, 10.0),
    accepted("a tenor of 0 at a rate of -0.5",
        replace(RATES_CSV, "365,0.043", "0,-0.5"),
        |s| s.market.rates.points()[0].1, -0.5),
    accepted("a default-fund contribution of 1e12",
        replace("members.csv", "ALPHA,1000000", "ALPHA,1e12"),
        |s| s.members[0].df_contribution, 1e12),
    accepted("1e15 USD of collateral",
        replace("collateral.csv", "CM1,USD,2000000", "CM1,USD,1e15"),
        |s| s.collateral[0].amount, 1e15),
    accepted("an expiry 30 years after the valuation date",
        replace("instruments.csv", "inverse,100,2025-03-28", "inverse,100,2055-02-13"),
        |s| match s.instruments[1].kind {
            InstrumentKind::Future { expiry } => f64::from(s.valuation_date.days_until(expiry)),
            _ => f64::NAN,
        },
        10950.0),
    accepted("a haircut of 0",
        replace("ccp.toml", "BTC = 0.15", "BTC = 0"),
        |s| s.config.collateral.haircuts["BTC"], 0.0),
    accepted("a vol of vol of 5 and a spot-vol correlation of -1",
        ccp_with!("[scenario.vol_shock]\nvol_of_vol = 5\nspot_vol_correlation = -1"),
        |s| s.config.scenario.vol_shock.vol_of_vol, 5.0),
    accepted("365 jumps a year of mean -20 and deviation 10",
        ccp_with!("[scenario.jumps]\nintensity_per_year = 365\nmean_sigmas = -20\nstdev_sigmas = 10"),
        |s| s.config.scenario.jumps.as_ref().map_or(f64::NAN, |j| {
            j.intensity_per_year + j.mean_sigmas + j.stdev_sigmas
        }),
        355.0),
    accepted("64 degrees of freedom, blocks of 2^20 and 1000 paths",
        ccp_with!("[scenario]\ndof = 64\nblock_size = 1048576\npaths = 1000"),
        |s| f64::from(s.config.scenario.dof), 64.0),
    accepted("an NIG shape of 0.05",
        ccp_with!("[scenario]\ninnovations = \"nig\"\nnig_shape = 0.05"),
        |s| s.config.scenario.nig_shape, 0.05),
    accepted("a margin period of 365 days in 1000 steps",
        ccp_with!("[risk]\nmargin_period_days = 365\nsteps = 1000"),
        |s| s.config.risk.margin_period_days, 365.0),
    accepted("a cover of 10 and a skin in the game of 1e12",
        ccp_with!("[default_fund]\ncover = 10\nskin_in_the_game = 1e12"),
        |s| s.config.default_fund.skin_in_the_game, 1e12),
    accepted("a price shock of 1000",
        stress_with!("shocks", "BTC = 1000"),
        |s| s.stress[0].price_shocks[0], 1000.0),
    accepted("a vol shock of 10",
        stress_with!("vol_shocks", "BTC = 10"),
        |s| s.stress[0].vol_shocks[0], 10.0),
];

/// A value at a closed end loads, and is read as written.
#[test]
fn a_value_at_a_closed_end_is_accepted() {
    let failures: Vec<String> = AT_A_CLOSED_END
        .iter()
        .filter_map(|case| match snapshot::load(edited(case.edit).path()) {
            Err(e) => Some(format!("{} ({:?}): refused: {e}", case.name, case.edit)),
            Ok(s) if (case.read)(&s) != case.value => Some(format!(
                "{} ({:?}): read {}, expected {}",
                case.name,
                case.edit,
                (case.read)(&s),
                case.value
            )),
            Ok(_) => None,
        })
        .collect();
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}

fn load(dir: &Path) -> Snapshot {
    snapshot::load(dir).unwrap_or_else(|e| panic!("the snapshot should load: {e}"))
}

#[test]
fn the_valid_snapshot_loads_with_every_reference_resolved() {
    let dir = valid_snapshot();
    let s = load(dir.path());
    assert_eq!(s.valuation_date.to_string(), "2025-02-20");
    let members: Vec<(&str, &str)> = s
        .members
        .iter()
        .map(|m| (m.id.as_str(), m.group.as_str()))
        .collect();
    assert_eq!(
        members,
        [("CM1", "ALPHA"), ("CM2", "ALPHA"), ("CM3", "CM3")]
    );
    assert_eq!(s.members[2].name, "Beta Fund, LP");
    assert_eq!(s.instruments.len(), 3);
    assert_eq!(s.instruments[1].settlement, Settlement::Inverse);
    let expiry = clearstress::input::Date::parse("2025-03-28").unwrap();
    assert_eq!(
        s.instruments[2].kind,
        InstrumentKind::Option {
            expiry,
            strike: 100_000.0,
            right: OptionRight::Call
        }
    );
    assert_eq!(s.positions.len(), 5);
    assert_eq!(
        (
            s.positions[1].member,
            s.positions[1].instrument,
            s.positions[1].quantity
        ),
        (0, 2, -25.0)
    );
    let assets: Vec<CollateralAsset> = s.collateral.iter().map(|c| c.asset).collect();
    assert_eq!(
        assets,
        [
            CollateralAsset::Usd,
            CollateralAsset::Asset(1),
            CollateralAsset::Asset(0)
        ]
    );
    assert_eq!(s.market.correlation, [1.0, 0.05, 0.05, 1.0]);
    assert_eq!(s.market.assets[0].source, "exchange close, 2025-02-20");
    assert!(s.market.vol_surface.has_quotes(0) && !s.market.vol_surface.has_quotes(1));
    assert_eq!(s.market.rates.points(), [(365.0, 0.043)]);
    assert!(
        s.stress.is_empty(),
        "no stress files named: the caller supplies the built-in ones"
    );
    assert_eq!(s.sources.len(), 9, "ccp.toml and the eight tables");
    assert!(s.sources[0].name.ends_with("ccp.toml"));
    assert!(s
        .sources
        .iter()
        .all(|src| src.sha256.len() == 64 && src.sha256.chars().all(|c| c.is_ascii_hexdigit())));
}

/// Writes `columns` as the Parquet table `name` (two rows per row group, so the
/// reader has several to join) and removes its CSV.
fn write_parquet(dir: &Path, name: &str, columns: Vec<(&str, ArrayRef)>) {
    let batch = RecordBatch::try_from_iter(columns).unwrap();
    let properties = WriterProperties::builder()
        .set_max_row_group_row_count(Some(2))
        .build();
    let file = File::create(dir.join(format!("{name}.parquet"))).unwrap();
    let mut writer = ArrowWriter::try_new(file, batch.schema(), Some(properties)).unwrap();
    writer.write(&batch).unwrap();
    writer.close().unwrap();
    fs::remove_file(dir.join(format!("{name}.csv"))).unwrap();
}

fn text(values: &[Option<&str>]) -> ArrayRef {
    Arc::new(StringArray::from(values.to_vec()))
}

fn numbers(values: &[f64]) -> ArrayRef {
    Arc::new(Float64Array::from(values.to_vec()))
}

fn write_members_parquet(dir: &Path, df_contribution: [f64; 3]) {
    let columns = vec![
        ("member_id", text(&[Some("CM1"), Some("CM2"), Some("CM3")])),
        (
            "name",
            text(&[
                Some("Alpha Dealer"),
                Some("Alpha Securities"),
                Some("Beta Fund, LP"),
            ]),
        ),
        ("group", text(&[Some("ALPHA"), Some("ALPHA"), None])),
        ("df_contribution", numbers(&df_contribution)),
    ];
    write_parquet(dir, "members", columns);
}

#[test]
fn a_parquet_members_table_loads_like_the_csv_one() {
    let from_csv = load(valid_snapshot().path());
    let dir = valid_snapshot();
    write_members_parquet(dir.path(), [1_000_000.0, 250_000.0, 500_000.0]);
    let from_parquet = load(dir.path());
    assert_eq!(from_parquet.members, from_csv.members);
    assert_eq!(from_parquet.positions, from_csv.positions);
    assert!(from_parquet
        .sources
        .iter()
        .any(|s| s.name.ends_with("members.parquet")));
}

#[test]
fn parquet_dates_integers_and_booleans_read_like_their_csv_text() {
    let from_csv = load(valid_snapshot().path());
    let dir = valid_snapshot();
    let day = |s: &str| {
        clearstress::input::Date::parse(s)
            .unwrap()
            .days_since_epoch()
    };
    let expiry = Date32Array::from(vec![None, Some(day("2025-03-28")), Some(day("2025-03-28"))]);
    let instruments = vec![
        (
            "instrument_id",
            text(&[
                Some("BTC-PERP"),
                Some("BTC-FUT-0328"),
                Some("BTC-C-100000-0328"),
            ]),
        ),
        (
            "kind",
            text(&[Some("perpetual"), Some("future"), Some("option")]),
        ),
        ("underlying", text(&[Some("BTC"); 3])),
        (
            "settlement",
            text(&[Some("linear"), Some("inverse"), Some("linear")]),
        ),
        (
            "contract_size",
            Arc::new(Int32Array::from(vec![1, 100, 1])) as ArrayRef,
        ),
        ("expiry", Arc::new(expiry) as ArrayRef),
        (
            "strike",
            Arc::new(Float64Array::from(vec![None, None, Some(100_000.0)])) as ArrayRef,
        ),
        ("option_type", text(&[None, None, Some("call")])),
    ];
    write_parquet(dir.path(), "instruments", instruments);
    let assets = vec![
        ("asset", text(&[Some("BTC"), Some("USDT")])),
        ("class", text(&[Some("crypto"), Some("stablecoin")])),
        ("spot", numbers(&[96500.0, 1.0002])),
        ("volatility", numbers(&[0.55, 0.01])),
        ("funding_rate_8h", numbers(&[0.0001, 0.0])),
        ("basis", numbers(&[0.08, 0.0])),
        ("adv_usd", numbers(&[5.6e10, 1.4e11])),
        (
            "synthetic",
            Arc::new(BooleanArray::from(vec![false, false])) as ArrayRef,
        ),
        ("source", text(&[Some("exchange close, 2025-02-20"), None])),
    ];
    write_parquet(&dir.path().join("market"), "assets", assets);
    let from_parquet = load(dir.path());
    assert_same_book(&from_parquet, &from_csv);
}

const BLACK_THURSDAY: &str = "\
name = \"2020-03-12 Black Thursday\"
kind = \"historical\"
description = \"COVID crash\"
source = \"daily closes\"
window = \"2020-03-11 close .. 2020-03-13 close\"
[shocks]
BTC = -0.3717
XRP = -0.33
[vol_shocks]
BTC = 0.85
[unlisted]
crypto = -0.40
stablecoin = 0.0
vol = 0.5
";

#[test]
fn stress_scenarios_named_in_ccp_toml_are_read_in_path_order() {
    let dir = valid_snapshot();
    let scenarios = dir.path().join("stress");
    fs::create_dir_all(scenarios.join("hypothetical")).unwrap();
    fs::write(scenarios.join("historical.toml"), BLACK_THURSDAY).unwrap();
    let depeg = "name = \"USDT depeg\"\nkind = \"hypothetical\"\n[shocks]\nUSDT = -0.15\n[unlisted]\ncrypto = -0.1\n";
    fs::write(scenarios.join("hypothetical/usdt.toml"), depeg).unwrap();
    fs::write(scenarios.join("hypothetical/notes.md"), "not a scenario").unwrap();
    let config = format!(
        "{CCP}\n[scenario]\npaths = 1000\nseed = 1\ninnovations = \"gaussian\"\ndof = 4\nblock_size = 4096\n\
         stress = [\"stress\"]\n"
    );
    fs::write(dir.path().join("ccp.toml"), config).unwrap();
    let s = load(dir.path());
    let names: Vec<&str> = s.stress.iter().map(|x| x.name.as_str()).collect();
    assert_eq!(names, ["2020-03-12 Black Thursday", "USDT depeg"]);
    assert_eq!(s.stress[0].price_shocks, [-0.3717, 0.0]);
    assert_eq!(s.stress[0].vol_shocks, [0.85, 0.5]);
    assert_eq!(s.stress[1].price_shocks, [-0.1, -0.15]);
    assert_eq!(s.stress[1].vol_shocks, [0.0, 0.0]);
    assert_eq!(
        s.sources.len(),
        11,
        "ccp.toml, eight tables, two scenario files"
    );

    // The depeg file sets no stablecoin move; a book with another stablecoin needs one.
    let err = snapshot::parse_stress_scenario(
        "usdt.toml",
        &depeg.replace("USDT = -0.15", "USDC = -0.15"),
        &s.market,
    )
    .unwrap_err();
    assert_eq!(
        err.to_string(),
        "usdt.toml, field `unlisted.stablecoin`: no price shock for asset `USDT`: expected `USDT` under [shocks] or \
         `stablecoin` under [unlisted]"
    );
}

#[test]
fn the_same_tables_in_memory_build_the_same_snapshot() {
    let from_disk = load(valid_snapshot().path());
    let tables = [
        ("members", MEMBERS),
        ("instruments", INSTRUMENTS),
        ("positions", POSITIONS),
        ("collateral", COLLATERAL),
        ("market/assets", ASSETS),
        ("market/correlation", CORRELATION),
        ("market/vol_surface", VOL_SURFACE),
        ("market/rates", RATES),
    ];
    let in_memory = snapshot::from_csv_texts(&tables, CCP, "test").unwrap();
    assert_same_book(&in_memory, &from_disk);
    assert_eq!(in_memory.sources[1].name, "embedded:test/members.csv");
    assert_eq!(
        in_memory.sources[1].sha256, from_disk.sources[1].sha256,
        "same bytes, same digest"
    );

    let err = snapshot::from_csv_texts(&tables[1..], CCP, "test").unwrap_err();
    assert_eq!(err.to_string(), "embedded:test: missing table `members`");
}

/// The same book, and the same configuration.
fn assert_same_book(a: &Snapshot, b: &Snapshot) {
    common::assert_same_book(a, b);
    assert_eq!(a.config, b.config);
}

#[test]
fn a_snapshot_written_out_loads_back_equal() {
    let original = load(valid_snapshot().path());
    let out = tempfile::tempdir().unwrap();
    let written = snapshot::write_snapshot(&original, out.path()).unwrap();
    assert_eq!(written.len(), 9);
    let reloaded = load(out.path());
    assert_same_book(&reloaded, &original);

    // And a second trip changes nothing, byte for byte.
    let again = tempfile::tempdir().unwrap();
    snapshot::write_snapshot(&reloaded, again.path()).unwrap();
    for path in &written {
        let relative = path.strip_prefix(out.path()).unwrap();
        assert_eq!(
            fs::read(path).unwrap(),
            fs::read(again.path().join(relative)).unwrap(),
            "{}",
            relative.display()
        );
    }
}
