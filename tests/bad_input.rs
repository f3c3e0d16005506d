//! What the loader accepts and what it refuses: a small valid snapshot folder,
//! then one defect at a time, each of which must be reported with the file, row
//! and field it is in and what was expected there.

use std::fs::{self, File};
use std::path::Path;
use std::sync::Arc;

use arrow_array::{
    ArrayRef, BooleanArray, Date32Array, Float64Array, Int32Array, RecordBatch, StringArray,
};
use clearstress::snapshot::{
    self, CollateralAsset, InputError, InstrumentKind, OptionRight, Settlement, Snapshot,
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
asset,class,spot,volatility,funding_rate_8h,basis,synthetic,source
BTC,crypto,96500,0.55,0.0001,0.08,false,\"exchange close, 2025-02-20\"
USDT,stablecoin,1.0002,0.01,0,0,false,
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

/// What an error must say: the file it ends with, the row and field, and
/// fragments of the message.
struct Expected<'a> {
    file: &'a str,
    row: Option<usize>,
    field: Option<&'a str>,
    says: &'a [&'a str],
}

/// Whether loading `dir` fails as `expected` says; if not, what went wrong.
fn check_rejected(dir: &Path, expected: &Expected<'_>) -> Result<(), String> {
    let (location, message) = match snapshot::load(dir) {
        Ok(_) => {
            return Err(format!(
                "the snapshot loaded, expected an error in {}",
                expected.file
            ))
        }
        Err(InputError::Invalid { location, message }) => (location, message),
        Err(other) => return Err(format!("expected an invalid-input error, got: {other}")),
    };
    let shown = format!("{location}: {message}");
    if !location.file.ends_with(expected.file) {
        return Err(format!(
            "wrong file (expected {}) in: {shown}",
            expected.file
        ));
    }
    if location.row != expected.row {
        return Err(format!(
            "wrong row (expected {:?}) in: {shown}",
            expected.row
        ));
    }
    if location.field.as_deref() != expected.field {
        return Err(format!(
            "wrong field (expected {:?}) in: {shown}",
            expected.field
        ));
    }
    match expected.says.iter().find(|f| !message.contains(*f)) {
        Some(fragment) => Err(format!("expected `{fragment}` in: {shown}")),
        None => Ok(()),
    }
}

fn assert_rejected(dir: &Path, expected: Expected<'_>) {
    if let Err(failure) = check_rejected(dir, &expected) {
        panic!("{failure}");
    }
}

fn load(dir: &Path) -> Snapshot {
    snapshot::load(dir).unwrap_or_else(|e| panic!("the snapshot should load: {e}"))
}

/// One change to the valid snapshot.
#[derive(Debug, Clone, Copy)]
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
}

use Edit::{Append, Replace, Stress, Whole};

/// The valid snapshot with `edit` made.
fn edited(edit: Edit) -> TempDir {
    let dir = valid_snapshot();
    let path = |file: &str| dir.path().join(file);
    match edit {
        Replace { file, from, to } => {
            let text = fs::read_to_string(path(file)).unwrap();
            assert!(
                text.contains(from),
                "`{from}` is not in {file}: the case edits nothing"
            );
            fs::write(path(file), text.replacen(from, to, 1)).unwrap();
        }
        Append { file, text } => {
            let mut whole = fs::read_to_string(path(file)).unwrap();
            whole.push_str(text);
            fs::write(path(file), whole).unwrap();
        }
        Whole { file, text } => fs::write(path(file), text).unwrap(),
        Stress(text) => {
            fs::create_dir(path("stress")).unwrap();
            fs::write(path("stress/s.toml"), text).unwrap();
            let config = format!("{CCP}\n[scenario]\nstress = [\"stress\"]\n");
            fs::write(path("ccp.toml"), config).unwrap();
        }
    }
    dir
}

/// One defect and how it must be reported.
struct Case {
    edit: Edit,
    /// The file the error names, its row and its field.
    at: (&'static str, Option<usize>, Option<&'static str>),
    says: &'static [&'static str],
}

/// A stress scenario file whose only shock is `BTC = <value>` under `section`.
macro_rules! stress_with {
    ($section:literal, $line:literal) => {
        concat!(
            "name = \"s\"\nkind = \"hypothetical\"\n[unlisted]\ncrypto = -0.1\nstablecoin = 0.0\n[",
            $section,
            "]\n",
            $line,
            "\n"
        )
    };
}

/// A `ccp.toml` of the valid snapshot plus `extra`.
macro_rules! ccp_with {
    ($extra:literal) => {
        Append {
            file: "ccp.toml",
            text: concat!("\n", $extra, "\n"),
        }
    };
}

fn rejected_cases() -> Vec<Case> {
    let assets = "market/assets.csv";
    let surface = "market/vol_surface.csv";
    let rates = "market/rates.csv";
    vec![
        // References and duplicates.
        Case {
            edit: Replace { file: "positions.csv", from: "CM1,BTC-C-100000-0328", to: "CM1,BTC-C-999-0328" },
            at: ("positions.csv", Some(2), Some("instrument_id")),
            says: &["unknown instrument `BTC-C-999-0328`", "instruments.csv"],
        },
        Case {
            edit: Replace { file: "positions.csv", from: "CM3,BTC-PERP", to: "CM9,BTC-PERP" },
            at: ("positions.csv", Some(4), Some("member_id")),
            says: &["unknown member `CM9`"],
        },
        Case {
            edit: Append { file: "members.csv", text: "CM2,Alpha Again,ALPHA,0\n" },
            at: ("members.csv", Some(4), Some("member_id")),
            says: &["duplicate member_id `CM2`: already on row 2"],
        },
        Case {
            edit: Append { file: assets, text: "BTC,crypto,96000,0.5,0,0,false,\n" },
            at: ("assets.csv", Some(3), Some("asset")),
            says: &["duplicate asset `BTC`: already on row 1"],
        },
        Case {
            edit: Append { file: "positions.csv", text: "CM3,BTC-PERP,1\n" },
            at: ("positions.csv", Some(6), Some("instrument_id")),
            says: &["duplicate position of member `CM3` in `BTC-PERP`: already on row 4"],
        },
        Case {
            edit: Append { file: "collateral.csv", text: "CM2,USDT,1\n" },
            at: ("collateral.csv", Some(4), Some("asset")),
            says: &["duplicate collateral of member `CM2` in `USDT`: already on row 2"],
        },
        // Instruments' own rules.
        Case {
            edit: Replace { file: "instruments.csv", from: "option,BTC,linear,1,2025-03-28,", to: "option,BTC,linear,1,," },
            at: ("instruments.csv", Some(3), Some("expiry")),
            says: &["expected an expiry date YYYY-MM-DD for an option, found an empty field"],
        },
        Case {
            edit: Replace { file: "instruments.csv", from: "BTC-PERP,perpetual,BTC,linear,1,,,", to: "BTC-PERP,perpetual,BTC,linear,1,2025-03-28,," },
            at: ("instruments.csv", Some(1), Some("expiry")),
            says: &["expected an empty field (a perpetual has no expiry), found `2025-03-28`"],
        },
        Case {
            edit: Replace { file: "instruments.csv", from: "inverse,100,2025-03-28", to: "inverse,100,2025-01-31" },
            at: ("instruments.csv", Some(2), Some("expiry")),
            says: &["on or after the valuation date 2025-02-20, found `2025-01-31`"],
        },
        Case {
            edit: Whole { file: surface, text: "underlying,expiry,strike,implied_vol\n" },
            at: ("instruments.csv", Some(3), Some("underlying")),
            says: &["needs implied vols", "vol_surface.csv has no quotes for `BTC`"],
        },
        Case {
            edit: Whole { file: "positions.csv", text: "member_id,instrument_id,quantity\n" },
            at: ("positions.csv", None, None),
            says: &["no positions", "the book is empty"],
        },
        Case {
            edit: Replace { file: "ccp.toml", from: "BTC = 0.15\n", to: "" },
            at: ("collateral.csv", Some(3), Some("asset")),
            says: &["no haircut for `BTC`", "[collateral.haircuts]", "ccp.toml"],
        },
        // Shapes of files.
        Case {
            edit: Replace { file: "ccp.toml", from: "[collateral.haircuts]", to: "margin_confidence = 0.99\n\n[collateral.haircuts]" },
            at: ("ccp.toml", None, None),
            says: &["unknown field `margin_confidence`", "line 3"],
        },
        Case {
            edit: Replace { file: "members.csv", from: "CM2,Alpha Securities,ALPHA,250000", to: "CM2,Alpha Securities,ALPHA,250000,extra" },
            at: ("members.csv", None, None),
            says: &["incorrect number of fields for line 3"],
        },
        Case {
            edit: Whole { file: rates, text: "tenor,rate\n365,0.043\n" },
            at: ("rates.csv", None, Some("tenor_days")),
            says: &["missing column `tenor_days`", "found tenor, rate"],
        },
        Case {
            edit: Whole { file: "market/correlation.csv", text: "asset,USDT,BTC\nUSDT,1,0.05\nBTC,0.05,1\n" },
            at: ("correlation.csv", None, None),
            says: &["expected the columns asset, BTC, USDT"],
        },
        Case {
            edit: Replace { file: "market/correlation.csv", from: "USDT,0.05,1", to: "USDT,0.06,1" },
            at: ("correlation.csv", Some(2), Some("BTC")),
            says: &["expected a symmetric matrix"],
        },
        // Empty, NaN and infinite numbers.
        Case {
            edit: Replace { file: assets, from: "USDT,stablecoin,1.0002", to: "USDT,stablecoin," },
            at: ("assets.csv", Some(2), Some("spot")),
            says: &["expected a price in USD in [1e-12, 1e9], found an empty field"],
        },
        Case {
            edit: Replace { file: assets, from: "96500,0.55,", to: "96500,," },
            at: ("assets.csv", Some(1), Some("volatility")),
            says: &["expected an annualised volatility in (0, 10], found an empty field"],
        },
        Case {
            edit: Replace { file: "positions.csv", from: "CM2,BTC-FUT-0328,-5000", to: "CM2,BTC-FUT-0328,NaN" },
            at: ("positions.csv", Some(3), Some("quantity")),
            says: &["expected a number of contracts in [-1e15, 1e15], found `NaN`"],
        },
        Case {
            edit: Replace { file: assets, from: "BTC,crypto,96500", to: "BTC,crypto,inf" },
            at: ("assets.csv", Some(1), Some("spot")),
            says: &["found `inf`"],
        },
        Case {
            edit: Replace { file: assets, from: "0.55,0.0001,0.08", to: "0.55,-infinity,0.08" },
            at: ("assets.csv", Some(1), Some("funding_rate_8h")),
            says: &["expected a funding rate per 8 hours in [-0.1, 0.1], found `-infinity`"],
        },
        Case {
            edit: Replace { file: "collateral.csv", from: "CM1,USD,2000000", to: "CM1,USD,nan" },
            at: ("collateral.csv", Some(1), Some("amount")),
            says: &["expected an amount of units in [0, 1e15], found `nan`"],
        },
        Case {
            edit: ccp_with!("[scenario.vol_shock]\nvol_of_vol = nan"),
            at: ("ccp.toml", None, Some("scenario.vol_shock.vol_of_vol")),
            says: &["expected a volatility of volatility in [0, 5], found NaN"],
        },
        Case {
            edit: ccp_with!("[default_fund]\nskin_in_the_game = inf"),
            at: ("ccp.toml", None, Some("default_fund.skin_in_the_game")),
            says: &["expected an amount in USD in [0, 1e12], found inf"],
        },
        // 1e308 in every numeric column of every table.
        Case {
            edit: Replace { file: "members.csv", from: "ALPHA,1000000", to: "ALPHA,1e308" },
            at: ("members.csv", Some(1), Some("df_contribution")),
            says: &["expected an amount in USD in [0, 1e12], found `1e308`"],
        },
        Case {
            edit: Replace { file: "instruments.csv", from: "BTC-PERP,perpetual,BTC,linear,1,", to: "BTC-PERP,perpetual,BTC,linear,1e308," },
            at: ("instruments.csv", Some(1), Some("contract_size")),
            says: &["expected a contract size in (0, 1e12], found `1e308`"],
        },
        Case {
            edit: Replace { file: "instruments.csv", from: "2025-03-28,100000,call", to: "2025-03-28,1e308,call" },
            at: ("instruments.csv", Some(3), Some("strike")),
            says: &["expected a price in USD in [1e-12, 1e9], found `1e308`"],
        },
        Case {
            edit: Replace { file: "positions.csv", from: "CM1,BTC-PERP,10", to: "CM1,BTC-PERP,1e308" },
            at: ("positions.csv", Some(1), Some("quantity")),
            says: &["expected a number of contracts in [-1e15, 1e15], found `1e308`"],
        },
        Case {
            edit: Replace { file: "collateral.csv", from: "CM1,USD,2000000", to: "CM1,USD,1e308" },
            at: ("collateral.csv", Some(1), Some("amount")),
            says: &["expected an amount of units in [0, 1e15], found `1e308`"],
        },
        Case {
            edit: Replace { file: assets, from: "BTC,crypto,96500", to: "BTC,crypto,1e308" },
            at: ("assets.csv", Some(1), Some("spot")),
            says: &["expected a price in USD in [1e-12, 1e9], found `1e308`"],
        },
        Case {
            edit: Replace { file: assets, from: "96500,0.55,", to: "96500,1e308," },
            at: ("assets.csv", Some(1), Some("volatility")),
            says: &["expected an annualised volatility in (0, 10], found `1e308`"],
        },
        Case {
            edit: Replace { file: assets, from: "0.55,0.0001,0.08", to: "0.55,1e308,0.08" },
            at: ("assets.csv", Some(1), Some("funding_rate_8h")),
            says: &["expected a funding rate per 8 hours in [-0.1, 0.1], found `1e308`"],
        },
        Case {
            edit: Replace { file: assets, from: "0.0001,0.08,false", to: "0.0001,1e308,false" },
            at: ("assets.csv", Some(1), Some("basis")),
            says: &["expected an annualised basis in [-2, 2], found `1e308`"],
        },
        Case {
            edit: Replace { file: "market/correlation.csv", from: "BTC,1,0.05", to: "BTC,1,1e308" },
            at: ("correlation.csv", Some(1), Some("USDT")),
            says: &["expected a correlation in [-1, 1], found `1e308`"],
        },
        Case {
            edit: Replace { file: surface, from: "BTC,2025-03-28,80000,", to: "BTC,2025-03-28,1e308," },
            at: ("vol_surface.csv", Some(1), Some("strike")),
            says: &["expected a price in USD in [1e-12, 1e9], found `1e308`"],
        },
        Case {
            edit: Replace { file: surface, from: "80000,0.62", to: "80000,1e308" },
            at: ("vol_surface.csv", Some(1), Some("implied_vol")),
            says: &["expected an implied volatility in (0, 10], found `1e308`"],
        },
        Case {
            edit: Replace { file: rates, from: "365,0.043", to: "1e308,0.043" },
            at: ("rates.csv", Some(1), Some("tenor_days")),
            says: &["expected a tenor in days in [0, 36500], found `1e308`"],
        },
        Case {
            edit: Replace { file: rates, from: "365,0.043", to: "365,1e308" },
            at: ("rates.csv", Some(1), Some("rate")),
            says: &["expected a zero rate in [-0.5, 1], found `1e308`"],
        },
        // Implausible values that are not absurd.
        Case {
            edit: Replace { file: assets, from: "96500,0.55,", to: "96500,50," },
            at: ("assets.csv", Some(1), Some("volatility")),
            says: &["expected an annualised volatility in (0, 10], found `50`"],
        },
        Case {
            edit: Replace { file: assets, from: "BTC,crypto,96500", to: "BTC,crypto,-96500" },
            at: ("assets.csv", Some(1), Some("spot")),
            says: &["expected a price in USD in [1e-12, 1e9], found `-96500`"],
        },
        Case {
            edit: Replace { file: "instruments.csv", from: "inverse,100,2025-03-28", to: "inverse,100,2055-02-14" },
            at: ("instruments.csv", Some(2), Some("expiry")),
            says: &["at most 10950 days (30 years) after the valuation date 2025-02-20, on or before 2055-02-13, found `2055-02-14`"],
        },
        Case {
            edit: Replace { file: surface, from: "BTC,2025-03-28,80000,", to: "BTC,2099-03-28,80000," },
            at: ("vol_surface.csv", Some(1), Some("expiry")),
            says: &["at most 10950 days (30 years) after the valuation date"],
        },
        // Products of plausible numbers that are not: a position of 1e12 BTC
        // (9.65e16 USD), a member whose positions add up past 1e15 USD, and
        // collateral worth 1.9e15 USD.
        Case {
            edit: Replace { file: "positions.csv", from: "CM1,BTC-PERP,10", to: "CM1,BTC-PERP,1e12" },
            at: ("positions.csv", Some(1), Some("quantity")),
            says: &["expected a position notional of at most 1e15 USD, found 1e12 contracts of `BTC-PERP` x 96500 USD = 9.65e16 USD"],
        },
        Case {
            edit: Replace { file: "positions.csv", from: "CM1,BTC-PERP,10\nCM1,BTC-C-100000-0328,-25", to: "CM1,BTC-PERP,9e9\nCM1,BTC-C-100000-0328,-9e9" },
            at: ("positions.csv", Some(2), Some("quantity")),
            says: &["member `CM1`'s gross notional reaches", "expected at most 1e15 USD"],
        },
        Case {
            edit: Replace { file: "collateral.csv", from: "CM3,BTC,12.5", to: "CM3,BTC,2e10" },
            at: ("collateral.csv", Some(3), Some("amount")),
            says: &["member `CM3`'s collateral value reaches 1.93e15 USD", "expected at most 1e15 USD"],
        },
        // ccp.toml.
        Case {
            edit: ccp_with!("[risk]\nmargin_confidence = 1.5"),
            at: ("ccp.toml", None, Some("risk.margin_confidence")),
            says: &["expected a confidence level in (0.5, 1), found 1.5"],
        },
        Case {
            edit: ccp_with!("[risk]\nmargin_period_days = 1e308"),
            at: ("ccp.toml", None, Some("risk.margin_period_days")),
            says: &["expected a number of days in (0, 365], found 1e308"],
        },
        Case {
            edit: ccp_with!("[risk]\nsteps = 1001"),
            at: ("ccp.toml", None, Some("risk.steps")),
            says: &["expected a whole number of steps in [1, 1000], found 1001"],
        },
        Case {
            edit: ccp_with!("[scenario.jumps]\nintensity_per_year = 1e6\nmean_sigmas = -2.5\nstdev_sigmas = 1.5"),
            at: ("ccp.toml", None, Some("scenario.jumps.intensity_per_year")),
            says: &["expected a number of jumps per year in [0, 365], found 1000000"],
        },
        Case {
            edit: ccp_with!("[scenario.jumps]\nintensity_per_year = 3\nmean_sigmas = -1e6\nstdev_sigmas = 1.5"),
            at: ("ccp.toml", None, Some("scenario.jumps.mean_sigmas")),
            says: &["expected a mean jump in daily volatilities in [-20, 20], found -1000000"],
        },
        Case {
            edit: ccp_with!("[scenario.jumps]\nintensity_per_year = 3\nmean_sigmas = -2.5\nstdev_sigmas = 1e6"),
            at: ("ccp.toml", None, Some("scenario.jumps.stdev_sigmas")),
            says: &["expected a jump standard deviation in daily volatilities in [0, 10], found 1000000"],
        },
        Case {
            edit: ccp_with!("[scenario.vol_shock]\nvol_of_vol = 1000"),
            at: ("ccp.toml", None, Some("scenario.vol_shock.vol_of_vol")),
            says: &["expected a volatility of volatility in [0, 5], found 1000"],
        },
        Case {
            edit: ccp_with!("[scenario.vol_shock]\nspot_vol_correlation = -1.01"),
            at: ("ccp.toml", None, Some("scenario.vol_shock.spot_vol_correlation")),
            says: &["expected a correlation in [-1, 1], found -1.01"],
        },
        Case {
            edit: ccp_with!("[scenario]\npaths = 0"),
            at: ("ccp.toml", None, Some("scenario.paths")),
            says: &["expected a whole number of paths in [1000, 1e11], found 0"],
        },
        Case {
            edit: ccp_with!("[scenario]\ninnovations = \"nig\"\nnig_shape = 0.01"),
            at: ("ccp.toml", None, Some("scenario.nig_shape")),
            says: &["expected an NIG shape in [0.05, 1000], found 0.01"],
        },
        Case {
            edit: ccp_with!("[scenario]\ninnovations = \"student-t\"\ndof = 65"),
            at: ("ccp.toml", None, Some("scenario.dof")),
            says: &["expected a whole number of degrees of freedom in [3, 64], found 65"],
        },
        Case {
            edit: ccp_with!("[scenario]\nblock_size = 63"),
            at: ("ccp.toml", None, Some("scenario.block_size")),
            says: &["expected a whole number of scenarios in [64, 1048576], found 63"],
        },
        Case {
            edit: ccp_with!("[scenario.historical]\nhistory = \"h.csv\"\nlambda = 1.0"),
            at: ("ccp.toml", None, Some("scenario.historical.lambda")),
            says: &["expected an EWMA decay in (0, 1), found 1"],
        },
        Case {
            edit: ccp_with!("[scenario.historical]\nhistory = \"h.csv\"\nlookback_days = 29"),
            at: ("ccp.toml", None, Some("scenario.historical.lookback_days")),
            says: &["expected a whole number of days in [30, 36500], found 29"],
        },
        Case {
            edit: Replace { file: "ccp.toml", from: "BTC = 0.15", to: "BTC = 1e308" },
            at: ("ccp.toml", None, Some("collateral.haircuts.BTC")),
            says: &["expected a haircut in [0, 1), found 1e308"],
        },
        Case {
            edit: ccp_with!("[default_fund]\ncover = 11"),
            at: ("ccp.toml", None, Some("default_fund.cover")),
            says: &["expected a whole number of member groups in [1, 10], found 11"],
        },
        // Stress scenario files.
        Case {
            edit: Stress(stress_with!("shocks", "BTC = 1e308")),
            at: ("s.toml", None, Some("shocks.BTC")),
            says: &["expected a relative price move in (-1, 1000], found 1e308"],
        },
        Case {
            edit: Stress(stress_with!("vol_shocks", "BTC = 1e308")),
            at: ("s.toml", None, Some("vol_shocks.BTC")),
            says: &["expected a relative implied-vol move in (-1, 10], found 1e308"],
        },
        Case {
            edit: Stress(stress_with!("shocks", "BTC = nan")),
            at: ("s.toml", None, Some("shocks.BTC")),
            says: &["found NaN"],
        },
        Case {
            edit: Stress("name = \"s\"\nkind = \"hypothetical\"\n[unlisted]\ncrypto = -0.1\nstablecoin = 0.0\nvol = 11\n"),
            at: ("s.toml", None, Some("unlisted.vol")),
            says: &["expected a relative implied-vol move in (-1, 10], found 11"],
        },
        // Each open end refuses the value at it.
        Case {
            edit: Stress(stress_with!("shocks", "BTC = -1")),
            at: ("s.toml", None, Some("shocks.BTC")),
            says: &["expected a relative price move in (-1, 1000], found -1"],
        },
        Case {
            edit: Stress(stress_with!("vol_shocks", "BTC = -1")),
            at: ("s.toml", None, Some("vol_shocks.BTC")),
            says: &["found -1"],
        },
        Case {
            edit: Replace { file: assets, from: "96500,0.55,", to: "96500,0," },
            at: ("assets.csv", Some(1), Some("volatility")),
            says: &["expected an annualised volatility in (0, 10], found `0`"],
        },
        Case {
            edit: Replace { file: surface, from: "80000,0.62", to: "80000,0" },
            at: ("vol_surface.csv", Some(1), Some("implied_vol")),
            says: &["found `0`"],
        },
        Case {
            edit: Replace { file: "instruments.csv", from: "BTC-PERP,perpetual,BTC,linear,1,", to: "BTC-PERP,perpetual,BTC,linear,0," },
            at: ("instruments.csv", Some(1), Some("contract_size")),
            says: &["expected a contract size in (0, 1e12], found `0`"],
        },
        Case {
            edit: Replace { file: "ccp.toml", from: "BTC = 0.15", to: "BTC = 1.0" },
            at: ("ccp.toml", None, Some("collateral.haircuts.BTC")),
            says: &["expected a haircut in [0, 1), found 1"],
        },
        Case {
            edit: ccp_with!("[risk]\nes_confidence = [0.5]"),
            at: ("ccp.toml", None, Some("risk.es_confidence[0]")),
            says: &["expected a confidence level in (0.5, 1), found 0.5"],
        },
        Case {
            edit: ccp_with!("[risk]\nvar_confidence = [0.99, 1.0]"),
            at: ("ccp.toml", None, Some("risk.var_confidence[1]")),
            says: &["found 1"],
        },
        Case {
            edit: ccp_with!("[risk]\nmargin_period_days = 0"),
            at: ("ccp.toml", None, Some("risk.margin_period_days")),
            says: &["expected a number of days in (0, 365], found 0"],
        },
        // Just beyond a closed end.
        Case {
            edit: Replace { file: rates, from: "365,0.043", to: "365,-0.5000001" },
            at: ("rates.csv", Some(1), Some("rate")),
            says: &["found `-0.5000001`"],
        },
        Case {
            edit: Replace { file: assets, from: "96500,0.55,", to: "96500,10.000001," },
            at: ("assets.csv", Some(1), Some("volatility")),
            says: &["found `10.000001`"],
        },
        Case {
            edit: Stress(stress_with!("shocks", "BTC = 1000.001")),
            at: ("s.toml", None, Some("shocks.BTC")),
            says: &["found 1000.001"],
        },
    ]
}

/// Every defect of [`rejected_cases`] is refused, and the error names the file,
/// row and field, the range expected and the value found. All failures are
/// reported together.
#[test]
fn every_defect_is_refused_where_it_is() {
    let cases = rejected_cases();
    let failures: Vec<String> = cases
        .iter()
        .filter_map(|case| {
            let (file, row, field) = case.at;
            let expected = Expected {
                file,
                row,
                field,
                says: case.says,
            };
            check_rejected(edited(case.edit).path(), &expected)
                .err()
                .map(|failure| format!("{:?}:\n  {failure}", case.edit))
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

/// A value at a closed end loads, and is read as written.
#[test]
fn a_value_at_a_closed_end_is_accepted() {
    type Read = fn(&Snapshot) -> f64;
    let assets = "market/assets.csv";
    let cases: Vec<(Edit, Read, f64)> = vec![
        (
            Replace {
                file: assets,
                from: "96500,0.55,",
                to: "96500,10,",
            },
            |s| s.market.assets[0].volatility,
            10.0,
        ),
        (
            Replace {
                file: assets,
                from: "USDT,stablecoin,1.0002",
                to: "USDT,stablecoin,1e-12",
            },
            |s| s.market.assets[1].spot,
            1e-12,
        ),
        (
            Replace {
                file: assets,
                from: "0.55,0.0001,0.08",
                to: "0.55,-0.1,2",
            },
            |s| s.market.assets[0].basis,
            2.0,
        ),
        (
            Replace {
                file: "market/vol_surface.csv",
                from: "80000,0.62",
                to: "80000,10",
            },
            |s| s.market.vol_surface.quotes()[0].vol,
            10.0,
        ),
        (
            Replace {
                file: "market/rates.csv",
                from: "365,0.043",
                to: "0,-0.5",
            },
            |s| s.market.rates.points()[0].1,
            -0.5,
        ),
        (
            Replace {
                file: "members.csv",
                from: "ALPHA,1000000",
                to: "ALPHA,1e12",
            },
            |s| s.members[0].df_contribution,
            1e12,
        ),
        (
            Replace {
                file: "collateral.csv",
                from: "CM1,USD,2000000",
                to: "CM1,USD,1e15",
            },
            |s| s.collateral[0].amount,
            1e15,
        ),
        (
            Replace {
                file: "instruments.csv",
                from: "inverse,100,2025-03-28",
                to: "inverse,100,2055-02-13",
            },
            |s| match s.instruments[1].kind {
                InstrumentKind::Future { expiry } => f64::from(s.valuation_date.days_until(expiry)),
                _ => f64::NAN,
            },
            10950.0,
        ),
        (
            Replace {
                file: "ccp.toml",
                from: "BTC = 0.15",
                to: "BTC = 0",
            },
            |s| s.config.collateral.haircuts["BTC"],
            0.0,
        ),
        (
            ccp_with!("[scenario.vol_shock]\nvol_of_vol = 5\nspot_vol_correlation = -1"),
            |s| s.config.scenario.vol_shock.vol_of_vol,
            5.0,
        ),
        (
            ccp_with!(
                "[scenario.jumps]\nintensity_per_year = 365\nmean_sigmas = -20\nstdev_sigmas = 10"
            ),
            |s| {
                s.config.scenario.jumps.as_ref().map_or(f64::NAN, |j| {
                    j.intensity_per_year + j.mean_sigmas + j.stdev_sigmas
                })
            },
            355.0,
        ),
        (
            ccp_with!("[scenario]\ndof = 64\nblock_size = 1048576\npaths = 1000"),
            |s| f64::from(s.config.scenario.dof),
            64.0,
        ),
        (
            ccp_with!("[scenario]\ninnovations = \"nig\"\nnig_shape = 0.05"),
            |s| s.config.scenario.nig_shape,
            0.05,
        ),
        (
            ccp_with!("[risk]\nmargin_period_days = 365\nsteps = 1000"),
            |s| s.config.risk.margin_period_days,
            365.0,
        ),
        (
            ccp_with!("[default_fund]\ncover = 10\nskin_in_the_game = 1e12"),
            |s| s.config.default_fund.skin_in_the_game,
            1e12,
        ),
        (
            Stress(stress_with!("shocks", "BTC = 1000")),
            |s| s.stress[0].price_shocks[0],
            1000.0,
        ),
        (
            Stress(stress_with!("vol_shocks", "BTC = 10")),
            |s| s.stress[0].vol_shocks[0],
            10.0,
        ),
    ];
    for (edit, read, value) in cases {
        let s = snapshot::load(edited(edit).path())
            .unwrap_or_else(|e| panic!("{edit:?} should load: {e}"));
        assert_eq!(read(&s), value, "{edit:?}");
    }
}

#[test]
fn a_correlation_matrix_that_is_not_positive_semi_definite_is_rejected() {
    let dir = valid_snapshot();
    let assets = format!("{ASSETS}ETH,crypto,2700,0.7,0.0001,0.07,false,\n");
    fs::write(dir.path().join("market/assets.csv"), assets).unwrap();
    let correlation = "asset,BTC,USDT,ETH\nBTC,1,0.9,-0.9\nUSDT,0.9,1,0.9\nETH,-0.9,0.9,1\n";
    fs::write(dir.path().join("market/correlation.csv"), correlation).unwrap();
    assert_rejected(
        dir.path(),
        Expected {
            file: "correlation.csv",
            row: Some(3),
            field: None,
            says: &[
                "correlation matrix is not positive semi-definite",
                "the leading 3x3 block including asset ETH has a negative pivot",
            ],
        },
    );
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
    let expiry = snapshot::Date::parse("2025-03-28").unwrap();
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
fn a_bad_value_in_a_parquet_table_names_row_and_field() {
    let dir = valid_snapshot();
    write_members_parquet(dir.path(), [1_000_000.0, 250_000.0, f64::NAN]);
    assert_rejected(
        dir.path(),
        Expected {
            file: "members.parquet",
            row: Some(3),
            field: Some("df_contribution"),
            says: &["expected an amount in USD in [0, 1e12], found `NaN`"],
        },
    );
}

#[test]
fn parquet_dates_integers_and_booleans_read_like_their_csv_text() {
    let from_csv = load(valid_snapshot().path());
    let dir = valid_snapshot();
    let day = |s: &str| snapshot::Date::parse(s).unwrap().days_since_epoch();
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

#[test]
fn a_table_in_both_formats_or_in_neither_is_rejected() {
    let dir = valid_snapshot();
    write_members_parquet(dir.path(), [1.0, 2.0, 3.0]);
    fs::write(dir.path().join("members.csv"), MEMBERS).unwrap();
    let err = snapshot::load(dir.path()).unwrap_err().to_string();
    assert!(
        err.contains("both members.csv and members.parquet exist"),
        "{err}"
    );
    fs::remove_file(dir.path().join("members.csv")).unwrap();
    fs::remove_file(dir.path().join("members.parquet")).unwrap();
    let err = snapshot::load(dir.path()).unwrap_err().to_string();
    assert!(
        err.contains("missing table `members`: expected members.csv or members.parquet"),
        "{err}"
    );
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

fn assert_same_book(a: &Snapshot, b: &Snapshot) {
    assert_eq!(a.valuation_date, b.valuation_date);
    assert_eq!(a.members, b.members);
    assert_eq!(a.instruments, b.instruments);
    assert_eq!(a.positions, b.positions);
    assert_eq!(a.collateral, b.collateral);
    assert_eq!(a.market, b.market);
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
