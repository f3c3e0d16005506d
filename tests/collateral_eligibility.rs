//! Collateral eligibility and concentration limits (docs/methodology.md,
//! 17.6) on a book worked by hand: an ineligible asset, a member's own token,
//! a member's share cap and a CCP-wide issuer cap shared pro rata; the
//! compiled book and a run counting only what counts; `run`'s
//! `collateral_eligibility.parquet` against its `summary.json`.

#[path = "common/binary.rs"]
mod binary;
mod common;
// binary.rs finds the shipped history through `crate::machine`.
#[allow(unused_imports)]
use common::machine;
#[path = "common/parquet.rs"]
mod parquet_columns;

use std::path::Path;

use clearstress::book::collateral::{self, Cuts};
use clearstress::book::CompiledBook;
use clearstress::snapshot::{self, CcpConfig, Snapshot};
use parquet_columns::{column, floats, read_parquet, strings};

const MEMBERS: &str = "\
member_id,name,group,df_contribution
CM1,Alpha,ALPHA,1000000
CM2,Beta Exchange,BETA,1000000
CM3,Gamma,GAMMA,1000000
";

const INSTRUMENTS: &str = "\
instrument_id,kind,underlying,settlement,contract_size,expiry,strike,option_type
BTC-PERP,perpetual,BTC,linear,1,,,
";

const POSITIONS: &str = "\
member_id,instrument_id,quantity
CM1,BTC-PERP,1
CM3,BTC-PERP,-1
";

/// CM2 is the exchange that issues FTT; DOGE is not accepted at all.
const COLLATERAL: &str = "\
member_id,asset,amount
CM1,USD,100000
CM1,BTC,4
CM1,USDT,200000
CM2,USD,200000
CM2,FTT,100000
CM2,USDT,400000
CM2,DOGE,1000000
CM3,USDC,500000
CM3,BTC,1
";

const ASSETS: &str = "\
asset,class,spot,volatility,funding_rate_8h,basis,adv_usd,synthetic,source
BTC,crypto,100000,0.55,0.0001,0.05,5e10,false,
USDT,stablecoin,1,0.01,0,0,1e11,false,
USDC,stablecoin,1,0.01,0,0,1e10,false,
FTT,crypto,2,1.2,0,0,1e7,false,
DOGE,crypto,0.1,0.9,0,0,1e9,false,
";

const CORRELATION: &str = "\
asset,BTC,USDT,USDC,FTT,DOGE
BTC,1,0,0,0,0
USDT,0,1,0,0,0
USDC,0,0,1,0,0
FTT,0,0,0,1,0
DOGE,0,0,0,0,1
";

const VOL_SURFACE: &str = "\
underlying,expiry,strike,implied_vol
BTC,2025-03-28,100000,0.55
";

const RATES: &str = "\
tenor_days,rate
365,0.043
";

/// DOGE has no haircut and is not on `eligible`: it counts zero and needs none.
const CCP: &str = r#"valuation_date = "2025-02-20"

[collateral]
eligible = ["USD", "BTC", "USDT", "USDC", "FTT"]

[collateral.haircuts]
USD = 0.0
BTC = 0.2
USDT = 0.0
USDC = 0.1
FTT = 0.5

[collateral.member_share]
BTC = 0.5

[collateral.issuers]
USDT = "Tether"
USDC = "Circle"

[collateral.issuer_share]
Tether = 0.3

[collateral.wrong_way]
CM2 = ["FTT"]
"#;

const TABLES: [(&str, &str); 8] = [
    ("members", MEMBERS),
    ("instruments", INSTRUMENTS),
    ("positions", POSITIONS),
    ("collateral", COLLATERAL),
    ("market/assets", ASSETS),
    ("market/correlation", CORRELATION),
    ("market/vol_surface", VOL_SURFACE),
    ("market/rates", RATES),
];

fn book(ccp: &str) -> Snapshot {
    snapshot::from_csv_texts(&TABLES, ccp, "eligibility").unwrap()
}

fn close(a: f64, b: f64) -> bool {
    (a - b).abs() <= 1e-9 * a.abs().max(b.abs()).max(1.0)
}

/// One holding worked by hand: after haircut, each rule's cut, counted.
struct Expected {
    member: &'static str,
    asset: &'static str,
    after_haircut: f64,
    cuts: Cuts,
    counted: f64,
}

const fn cut(ineligible: f64, wrong_way: f64, member_share: f64, issuer_share: f64) -> Cuts {
    Cuts {
        ineligible,
        wrong_way,
        member_share,
        issuer_share,
    }
}

/// The example by hand, rule by rule in the order they apply:
///
/// 1-2. DOGE is not eligible (market value 100,000 cut whole, haircut none);
///      FTT is CM2's own token (200,000 x (1 - 0.5) = 100,000 cut).
///      Eligible after haircut: CM1 100,000 + 4 x 100,000 x 0.8 + 200,000 =
///      620,000; CM2 200,000 + 400,000 = 600,000; CM3 500,000 x 0.9 +
///      80,000 = 530,000; the CCP's E = 1,750,000.
/// 3.   BTC at most half a member's eligible collateral: CM1 320,000 > 0.5 x
///      620,000 = 310,000, so 10,000 is cut; CM3 80,000 < 265,000.
/// 4.   Tether at most 30% of E = 525,000 over all members: it holds 200,000
///      + 400,000 = 600,000, so 75,000 is cut pro rata, 25,000 from CM1 and
///      50,000 from CM2. Circle has no cap.
const EXPECTED: [Expected; 9] = [
    Expected {
        member: "CM1",
        asset: "USD",
        after_haircut: 100_000.0,
        cuts: cut(0.0, 0.0, 0.0, 0.0),
        counted: 100_000.0,
    },
    Expected {
        member: "CM1",
        asset: "BTC",
        after_haircut: 320_000.0,
        cuts: cut(0.0, 0.0, 10_000.0, 0.0),
        counted: 310_000.0,
    },
    Expected {
        member: "CM1",
        asset: "USDT",
        after_haircut: 200_000.0,
        cuts: cut(0.0, 0.0, 0.0, 25_000.0),
        counted: 175_000.0,
    },
    Expected {
        member: "CM2",
        asset: "USD",
        after_haircut: 200_000.0,
        cuts: cut(0.0, 0.0, 0.0, 0.0),
        counted: 200_000.0,
    },
    Expected {
        member: "CM2",
        asset: "FTT",
        after_haircut: 100_000.0,
        cuts: cut(0.0, 100_000.0, 0.0, 0.0),
        counted: 0.0,
    },
    Expected {
        member: "CM2",
        asset: "USDT",
        after_haircut: 400_000.0,
        cuts: cut(0.0, 0.0, 0.0, 50_000.0),
        counted: 350_000.0,
    },
    Expected {
        member: "CM2",
        asset: "DOGE",
        after_haircut: 100_000.0,
        cuts: cut(100_000.0, 0.0, 0.0, 0.0),
        counted: 0.0,
    },
    Expected {
        member: "CM3",
        asset: "USDC",
        after_haircut: 450_000.0,
        cuts: cut(0.0, 0.0, 0.0, 0.0),
        counted: 450_000.0,
    },
    Expected {
        member: "CM3",
        asset: "BTC",
        after_haircut: 80_000.0,
        cuts: cut(0.0, 0.0, 0.0, 0.0),
        counted: 80_000.0,
    },
];

/// Each member's counted collateral: 585,000, 550,000 and 530,000.
const COUNTED_BY_MEMBER: [f64; 3] = [585_000.0, 550_000.0, 530_000.0];

fn assert_cuts_close(got: &Cuts, want: &Cuts, what: &str) {
    for (name, g, w) in [
        ("ineligible", got.ineligible, want.ineligible),
        ("wrong_way", got.wrong_way, want.wrong_way),
        ("member_share", got.member_share, want.member_share),
        ("issuer_share", got.issuer_share, want.issuer_share),
    ] {
        assert!(close(g, w), "{what}: {name} cut {g}, by hand {w}");
    }
}

#[test]
fn each_rule_cuts_what_the_hand_worked_example_says() {
    let s = book(CCP);
    let counted = collateral::counted(&s).unwrap();
    assert_eq!(counted.holdings.len(), EXPECTED.len());
    for ((c, h), want) in s.collateral.iter().zip(&counted.holdings).zip(&EXPECTED) {
        let what = format!("{} {}", want.member, want.asset);
        assert_eq!(s.members[c.member].id, want.member);
        assert_eq!(collateral::asset_id(&s, c), want.asset);
        assert!(
            close(h.after_haircut(), want.after_haircut),
            "{what}: after haircut {}",
            h.after_haircut()
        );
        assert_cuts_close(&h.cuts, &want.cuts, &what);
        assert!(
            close(h.counted, want.counted),
            "{what}: counted {}",
            h.counted
        );
        assert!(
            close(h.cuts.total() + h.counted, h.after_haircut()),
            "{what}: the parts add up"
        );
    }
    let doge = &counted.holdings[6];
    assert_eq!((doge.market_value, doge.haircut), (100_000.0, None));
}

/// The compiled book counts only the counted value, and it moves with its
/// asset: CM2's FTT and DOGE weigh nothing, its USDT weighs its 350,000.
#[test]
fn the_compiled_book_and_the_revalued_collateral_count_only_what_counts() {
    let s = book(CCP);
    let b = CompiledBook::compile(&s).unwrap();
    for (m, want) in COUNTED_BY_MEMBER.iter().enumerate() {
        assert!(
            close(b.collateral_value[m], *want),
            "member {m}: {}",
            b.collateral_value[m]
        );
    }
    let weight = |asset: usize, m: usize| b.weights[asset * b.members + m];
    let (btc, usdt, ftt, doge) = (0, 1, 3, 4);
    assert_eq!(weight(ftt, 1), 0.0);
    assert_eq!(weight(doge, 1), 0.0);
    assert!(close(weight(usdt, 1), -350_000.0));
    // CM3: short one BTC perpetual (+100,000 per unit return) and 80,000 of BTC counted.
    assert!(
        close(weight(btc, 2), 100_000.0 - 80_000.0),
        "{}",
        weight(btc, 2)
    );

    let returns = [-0.5, -0.1, 0.0, -0.9, -0.99];
    let moved = collateral::revalued(&s, &returns).unwrap();
    let by_hand = [
        100_000.0 + 310_000.0 * 0.5 + 175_000.0 * 0.9,
        200_000.0 + 350_000.0 * 0.9,
        450_000.0 + 80_000.0 * 0.5,
    ];
    for m in 0..3 {
        assert!(
            close(moved[m], by_hand[m]),
            "member {m}: {} vs {}",
            moved[m],
            by_hand[m]
        );
    }
}

/// Without rules every holding counts its value after haircut, bit for bit
/// (the pinned outputs hold the whole run to it).
#[test]
fn without_rules_every_holding_counts_its_value_after_haircut() {
    let plain = CCP
        .split("[collateral.member_share]")
        .next()
        .unwrap()
        .replace(
            "[collateral]\neligible = [\"USD\", \"BTC\", \"USDT\", \"USDC\", \"FTT\"]\n",
            "",
        )
        + "DOGE = 0.5\n";
    let s = book(&plain);
    assert!(!s.config.collateral.has_rules());
    for h in collateral::counted(&s).unwrap().holdings {
        assert_eq!(h.counted.to_bits(), h.after_haircut().to_bits());
        assert_eq!(h.cuts, Cuts::default());
    }
}

/// The rules are left out of a written ccp.toml until configured, and a
/// configured set reads back equal.
#[test]
fn the_rules_are_written_only_when_configured() {
    let default: CcpConfig = toml::from_str("valuation_date = \"2025-02-20\"\n").unwrap();
    let text = toml::to_string(&default).unwrap();
    for key in [
        "eligible",
        "member_share",
        "issuers",
        "issuer_share",
        "wrong_way",
    ] {
        assert!(!text.contains(key), "{key} in\n{text}");
    }
    let configured = book(CCP).config;
    let text = toml::to_string(&configured).unwrap();
    assert_eq!(toml::from_str::<CcpConfig>(&text).unwrap(), configured);
}

/// The book's tables written to `dir`, with `ccp` as its ccp.toml.
fn write_book(dir: &Path, ccp: &str) {
    std::fs::create_dir_all(dir.join("market")).unwrap();
    for (name, text) in TABLES {
        std::fs::write(dir.join(format!("{name}.csv")), text).unwrap();
    }
    std::fs::write(dir.join("ccp.toml"), ccp).unwrap();
}

/// `clearstress run` on the book with `flags` added: the folder holding it
/// all (removed when dropped), the run's output folder and its standard
/// output.
fn run_the_book(flags: &[&str]) -> (tempfile::TempDir, std::path::PathBuf, String) {
    let dir = tempfile::tempdir().unwrap();
    let (book_dir, out) = (dir.path().join("book"), dir.path().join("out"));
    write_book(&book_dir, CCP);
    let (book_dir, out_arg) = (book_dir.to_str().unwrap(), out.to_str().unwrap());
    let mut args = vec![
        "run", "--book", book_dir, "--paths", "2000", "--out", out_arg,
    ];
    args.extend(flags);
    let o = binary::clearstress(&args);
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    let stdout = String::from_utf8_lossy(&o.stdout).into_owned();
    (dir, out, stdout)
}

/// `run` on the book: the margin is held against the counted collateral
/// (excess = counted - margin), collateral_eligibility.parquet has one row
/// per holding as worked by hand, and summary.json's totals are its sums.
#[test]
fn a_run_holds_the_margin_against_the_counted_collateral_and_reports_each_cut() {
    let (_dir, out, stdout) = run_the_book(&["--backend", "cpu"]);
    assert!(
        stdout.contains(
            "Collateral eligibility: 285,000 of 1,950,000 after haircuts does not count: \
                         ineligible 100,000 (1 member); wrong way 100,000 (1 member); \
                         member share 10,000 (1 member); issuer share 75,000 (2 members)"
        ),
        "{stdout}"
    );

    let margins = read_parquet(&out.join("margins.parquet"));
    let (collateral, im, excess) = (
        floats(&margins, "collateral"),
        floats(&margins, "initial_margin"),
        floats(&margins, "excess"),
    );
    for m in 0..3 {
        assert!(
            close(collateral[m], COUNTED_BY_MEMBER[m]),
            "member {m}: {}",
            collateral[m]
        );
        assert!(close(excess[m], COUNTED_BY_MEMBER[m] - im[m]), "member {m}");
    }

    let table = read_parquet(&out.join("collateral_eligibility.parquet"));
    let values = [
        "after_haircut",
        "cut_ineligible",
        "cut_wrong_way",
        "cut_member_share",
        "cut_issuer_share",
        "counted",
    ];
    let keys = [
        "member_id",
        "group",
        "asset",
        "amount",
        "market_value",
        "haircut",
    ];
    assert_eq!(
        parquet_columns::column_names(&table),
        [&keys[..], &values[..]].concat()
    );
    let (members, assets) = (strings(&table, "member_id"), strings(&table, "asset"));
    let haircut = column(&table, "haircut", |a: &arrow_array::Float64Array, i| {
        arrow_array::Array::is_valid(a, i).then(|| a.value(i))
    });
    let columns = values.map(|c| floats(&table, c));
    for (i, want) in EXPECTED.iter().enumerate() {
        assert_eq!(
            (members[i].as_str(), assets[i].as_str()),
            (want.member, want.asset)
        );
        let c = &want.cuts;
        let by_hand = [
            want.after_haircut,
            c.ineligible,
            c.wrong_way,
            c.member_share,
            c.issuer_share,
            want.counted,
        ];
        for (column, w) in columns.iter().zip(by_hand) {
            assert!(close(column[i], w), "row {i}: {} vs {w}", column[i]);
        }
    }
    assert_eq!(haircut[6], None, "DOGE has no haircut");
    assert_eq!(haircut[1], Some(0.2));

    let summary: serde_json::Value =
        serde_json::from_slice(&std::fs::read(out.join("summary.json")).unwrap()).unwrap();
    let e = &summary["collateral_eligibility"];
    assert_eq!(e["rules"], true);
    assert!(close(
        e["after_haircut"].as_f64().unwrap(),
        columns[0].iter().sum()
    ));
    assert!(close(
        e["counted"].as_f64().unwrap(),
        columns[5].iter().sum()
    ));
    for (k, rule) in ["ineligible", "wrong_way", "member_share", "issuer_share"]
        .iter()
        .enumerate()
    {
        assert!(
            close(
                e["cut"][rule].as_f64().unwrap(),
                columns[k + 1].iter().sum()
            ),
            "{rule}"
        );
    }
    assert_eq!(
        ["ineligible", "wrong_way", "member_share", "issuer_share"]
            .map(|r| e["members_cut"][r].as_u64().unwrap()),
        [1, 1, 1, 2]
    );
    assert_eq!(e["members_affected"], 2);
    let total: f64 = summary["margin"]["collateral_by_asset"]
        .as_array()
        .unwrap()
        .iter()
        .map(|a| a["counted"].as_f64().unwrap())
        .sum();
    assert!(close(total, COUNTED_BY_MEMBER.iter().sum()));
}

/// `settle`'s margin calls apply the rules again at the end prices: with BTC
/// halved to 50,000, CM1's BTC (160,000 after haircut) is under half its
/// 460,000 and uncut, while Tether's 600,000 now exceeds 0.3 x 1,550,000 =
/// 465,000 by 135,000: 45,000 cut from CM1, 90,000 from CM2.
#[test]
fn margin_calls_count_the_collateral_under_the_rules_at_the_end_prices() {
    let dir = tempfile::tempdir().unwrap();
    let (book_dir, out) = (dir.path().join("book"), dir.path().join("settled"));
    write_book(&book_dir, CCP);
    let prices = dir.path().join("eod.csv");
    std::fs::write(
        &prices,
        ASSETS.replace("BTC,crypto,100000", "BTC,crypto,50000"),
    )
    .unwrap();
    let o = binary::clearstress(&[
        "settle",
        "--book",
        book_dir.to_str().unwrap(),
        "--prices",
        prices.to_str().unwrap(),
        "--date",
        "2025-02-21",
        "--paths",
        "2000",
        "--out",
        out.to_str().unwrap(),
    ]);
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    let calls = read_parquet(&out.join("margin_calls.parquet"));
    let counted = floats(&calls, "collateral_after_haircut");
    for (m, want) in [415_000.0, 510_000.0, 490_000.0].iter().enumerate() {
        assert!(close(counted[m], *want), "member {m}: {}", counted[m]);
    }
    let assets = read_parquet(&out.join("margin_call_assets.parquet"));
    let by_hand = [
        100_000.0, 160_000.0, 155_000.0, 200_000.0, 0.0, 310_000.0, 0.0, 450_000.0, 40_000.0,
    ];
    for (i, (got, want)) in floats(&assets, "counted_usd")
        .iter()
        .zip(by_hand)
        .enumerate()
    {
        assert!(close(*got, want), "holding {i}: {got} vs {want}");
    }
}

/// A book with every rule, written out (ccp.toml with its comments) and
/// read back, has the same rules.
#[test]
fn a_book_with_rules_written_out_loads_back_equal() {
    let s = book(CCP);
    let dir = tempfile::tempdir().unwrap();
    snapshot::write_snapshot(&s, dir.path()).unwrap();
    let text = std::fs::read_to_string(dir.path().join("ccp.toml")).unwrap();
    assert!(text.contains("# Collateral eligibility"), "{text}");
    let reloaded = snapshot::load(dir.path()).unwrap();
    assert_eq!(reloaded.config.collateral, s.config.collateral);
}

/// The PQD rows of a run with rules: 5.1 lists only the eligible assets;
/// 6.2a, 6.2b, ... hold what counts and sum to 6.2, the collateral held.
#[test]
fn the_pqd_lists_the_eligible_assets_and_the_collateral_as_it_counts() {
    let (_dir, out, _) = run_the_book(&["--quiet", "--report"]);
    let pqd = std::fs::read_to_string(out.join("pqd.csv")).unwrap();
    let row = |id: &str| {
        pqd.lines()
            .find(|l| l.starts_with(&format!("{id},")))
            .unwrap_or_else(|| panic!("no row {id} in\n{pqd}"))
            .to_string()
    };
    let eligible: Vec<String> = (b'a'..=b'f')
        .filter_map(|l| {
            pqd.lines()
                .find(|r| r.starts_with(&format!("5.1{},", l as char)))
        })
        .map(|r| {
            r.split(": ")
                .nth(1)
                .unwrap()
                .split('"')
                .next()
                .unwrap()
                .to_string()
        })
        .collect();
    assert_eq!(eligible, ["BTC", "FTT", "USD", "USDC", "USDT"]);
    assert!(row("6.2").contains("\"1,665,000\""), "{}", row("6.2"));
    assert!(
        row("6.2b").contains("DOGE, ineligible, with no haircut, 100,000 USD of it cut")
            && row("6.2b").contains(",0,USD"),
        "{}",
        row("6.2b")
    );
    assert!(
        row("6.2a").contains("BTC, after its 20% haircut, 10,000 USD of it cut")
            && row("6.2a").contains("\"390,000\""),
        "{}",
        row("6.2a")
    );
}
