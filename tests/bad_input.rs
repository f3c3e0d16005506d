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

/// The valid snapshot with `file` replaced by `text`.
fn snapshot_with(file: &str, text: &str) -> TempDir {
    let dir = valid_snapshot();
    fs::write(dir.path().join(file), text).unwrap();
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

fn assert_rejected(dir: &Path, expected: Expected<'_>) {
    let (location, message) = match snapshot::load(dir) {
        Ok(_) => panic!(
            "the snapshot loaded, expected an error in {}",
            expected.file
        ),
        Err(InputError::Invalid { location, message }) => (location, message),
        Err(other) => panic!("expected an invalid-input error, got: {other}"),
    };
    let shown = format!("{location}: {message}");
    assert!(
        location.file.ends_with(expected.file),
        "wrong file in: {shown}"
    );
    assert_eq!(location.row, expected.row, "wrong row in: {shown}");
    assert_eq!(
        location.field.as_deref(),
        expected.field,
        "wrong field in: {shown}"
    );
    for fragment in expected.says {
        assert!(
            message.contains(fragment),
            "expected `{fragment}` in: {shown}"
        );
    }
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

#[test]
fn an_unknown_instrument_is_rejected_with_its_row() {
    let positions = POSITIONS.replace("CM1,BTC-C-100000-0328", "CM1,BTC-C-999-0328");
    assert_rejected(
        snapshot_with("positions.csv", &positions).path(),
        Expected {
            file: "positions.csv",
            row: Some(2),
            field: Some("instrument_id"),
            says: &["unknown instrument `BTC-C-999-0328`", "instruments.csv"],
        },
    );
}

#[test]
fn an_unknown_member_is_rejected_with_its_row() {
    let positions = POSITIONS.replace("CM3,BTC-PERP", "CM9,BTC-PERP");
    assert_rejected(
        snapshot_with("positions.csv", &positions).path(),
        Expected {
            file: "positions.csv",
            row: Some(4),
            field: Some("member_id"),
            says: &["unknown member `CM9`"],
        },
    );
}

#[test]
fn a_negative_price_is_rejected_with_its_row() {
    let assets = ASSETS.replace("BTC,crypto,96500", "BTC,crypto,-96500");
    assert_rejected(
        snapshot_with("market/assets.csv", &assets).path(),
        Expected {
            file: "assets.csv",
            row: Some(1),
            field: Some("spot"),
            says: &["expected a number > 0, found `-96500`"],
        },
    );
}

#[test]
fn a_missing_price_is_rejected_with_its_row() {
    let assets = ASSETS.replace("USDT,stablecoin,1.0002", "USDT,stablecoin,");
    assert_rejected(
        snapshot_with("market/assets.csv", &assets).path(),
        Expected {
            file: "assets.csv",
            row: Some(2),
            field: Some("spot"),
            says: &["expected a number > 0, found an empty field"],
        },
    );
}

#[test]
fn a_missing_volatility_is_rejected_with_its_row() {
    let assets = ASSETS.replace("96500,0.55,", "96500,,");
    assert_rejected(
        snapshot_with("market/assets.csv", &assets).path(),
        Expected {
            file: "assets.csv",
            row: Some(1),
            field: Some("volatility"),
            says: &["expected a number > 0, found an empty field"],
        },
    );
}

#[test]
fn a_nan_quantity_is_rejected_with_its_row() {
    let positions = POSITIONS.replace("CM2,BTC-FUT-0328,-5000", "CM2,BTC-FUT-0328,NaN");
    assert_rejected(
        snapshot_with("positions.csv", &positions).path(),
        Expected {
            file: "positions.csv",
            row: Some(3),
            field: Some("quantity"),
            says: &["expected a finite number, found `NaN`"],
        },
    );
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
fn a_correlation_matrix_must_list_the_assets_in_order() {
    let correlation = "asset,USDT,BTC\nUSDT,1,0.05\nBTC,0.05,1\n";
    assert_rejected(
        snapshot_with("market/correlation.csv", correlation).path(),
        Expected {
            file: "correlation.csv",
            row: None,
            field: None,
            says: &["expected the columns asset, BTC, USDT"],
        },
    );
    let asymmetric = "asset,BTC,USDT\nBTC,1,0.05\nUSDT,0.06,1\n";
    assert_rejected(
        snapshot_with("market/correlation.csv", asymmetric).path(),
        Expected {
            file: "correlation.csv",
            row: Some(2),
            field: Some("BTC"),
            says: &["expected a symmetric matrix"],
        },
    );
}

#[test]
fn a_duplicate_member_id_names_both_rows() {
    let members = format!("{MEMBERS}CM2,Alpha Again,ALPHA,0\n");
    assert_rejected(
        snapshot_with("members.csv", &members).path(),
        Expected {
            file: "members.csv",
            row: Some(4),
            field: Some("member_id"),
            says: &["duplicate member_id `CM2`: already on row 2"],
        },
    );
}

#[test]
fn a_duplicate_asset_names_both_rows() {
    let assets = format!("{ASSETS}BTC,crypto,96000,0.5,0,0,false,\n");
    assert_rejected(
        snapshot_with("market/assets.csv", &assets).path(),
        Expected {
            file: "assets.csv",
            row: Some(3),
            field: Some("asset"),
            says: &["duplicate asset `BTC`: already on row 1"],
        },
    );
}

#[test]
fn an_option_without_expiry_is_rejected_with_its_row() {
    let instruments =
        INSTRUMENTS.replace("option,BTC,linear,1,2025-03-28,", "option,BTC,linear,1,,");
    assert_rejected(
        snapshot_with("instruments.csv", &instruments).path(),
        Expected {
            file: "instruments.csv",
            row: Some(3),
            field: Some("expiry"),
            says: &["expected an expiry date YYYY-MM-DD for an option, found an empty field"],
        },
    );
}

#[test]
fn a_perpetual_with_an_expiry_and_an_expired_future_are_rejected() {
    let perpetual = INSTRUMENTS.replace(
        "BTC-PERP,perpetual,BTC,linear,1,,,",
        "BTC-PERP,perpetual,BTC,linear,1,2025-03-28,,",
    );
    assert_rejected(
        snapshot_with("instruments.csv", &perpetual).path(),
        Expected {
            file: "instruments.csv",
            row: Some(1),
            field: Some("expiry"),
            says: &["expected an empty field (a perpetual has no expiry), found `2025-03-28`"],
        },
    );
    let expired = INSTRUMENTS.replace("inverse,100,2025-03-28", "inverse,100,2025-01-31");
    assert_rejected(
        snapshot_with("instruments.csv", &expired).path(),
        Expected {
            file: "instruments.csv",
            row: Some(2),
            field: Some("expiry"),
            says: &["on or after the valuation date 2025-02-20, found `2025-01-31`"],
        },
    );
}

#[test]
fn an_option_on_an_underlying_without_implied_vols_is_rejected() {
    let surface = "underlying,expiry,strike,implied_vol\n";
    assert_rejected(
        snapshot_with("market/vol_surface.csv", surface).path(),
        Expected {
            file: "instruments.csv",
            row: Some(3),
            field: Some("underlying"),
            says: &[
                "needs implied vols",
                "vol_surface.csv has no quotes for `BTC`",
            ],
        },
    );
}

#[test]
fn an_empty_book_is_rejected() {
    assert_rejected(
        snapshot_with("positions.csv", "member_id,instrument_id,quantity\n").path(),
        Expected {
            file: "positions.csv",
            row: None,
            field: None,
            says: &["no positions", "the book is empty"],
        },
    );
}

#[test]
fn collateral_without_a_haircut_is_rejected_with_its_row() {
    let config = CCP.replace("BTC = 0.15\n", "");
    assert_rejected(
        snapshot_with("ccp.toml", &config).path(),
        Expected {
            file: "collateral.csv",
            row: Some(3),
            field: Some("asset"),
            says: &["no haircut for `BTC`", "[collateral.haircuts]", "ccp.toml"],
        },
    );
}

#[test]
fn a_confidence_out_of_range_in_ccp_toml_names_the_field() {
    let config = format!(
        "{CCP}\n[risk]\nmargin_period_days = 2\nsteps = 1\nvar_confidence = [0.99]\nes_confidence = [0.975]\n\
         margin_measure = \"expected-shortfall\"\nmargin_confidence = 1.5\n"
    );
    assert_rejected(
        snapshot_with("ccp.toml", &config).path(),
        Expected {
            file: "ccp.toml",
            row: None,
            field: Some("risk.margin_confidence"),
            says: &["expected a confidence level in (0.5, 1), found 1.5"],
        },
    );
}

#[test]
fn an_unknown_key_in_ccp_toml_is_rejected_with_its_line() {
    let config = CCP.replace(
        "[collateral.haircuts]",
        "margin_confidence = 0.99\n\n[collateral.haircuts]",
    );
    assert_rejected(
        snapshot_with("ccp.toml", &config).path(),
        Expected {
            file: "ccp.toml",
            row: None,
            field: None,
            says: &["unknown field `margin_confidence`", "line 3"],
        },
    );
}

#[test]
fn a_row_with_too_many_fields_names_its_line() {
    let members = MEMBERS.replace(
        "CM2,Alpha Securities,ALPHA,250000",
        "CM2,Alpha Securities,ALPHA,250000,extra",
    );
    assert_rejected(
        snapshot_with("members.csv", &members).path(),
        Expected {
            file: "members.csv",
            row: None,
            field: None,
            says: &["incorrect number of fields for line 3"],
        },
    );
}

#[test]
fn a_missing_column_is_named_with_the_columns_found() {
    let rates = "tenor,rate\n365,0.043\n";
    assert_rejected(
        snapshot_with("market/rates.csv", rates).path(),
        Expected {
            file: "rates.csv",
            row: None,
            field: Some("tenor_days"),
            says: &["missing column `tenor_days`", "found tenor, rate"],
        },
    );
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
            says: &["expected a number >= 0, found `NaN`"],
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
