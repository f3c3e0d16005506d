//! The close-out cost (docs/methodology.md, 9.5): on a book worked by hand,
//! exposures netted over contracts and coin collateral, an option's through
//! its delta, and `run`'s `close_out.parquet` against its `summary.json`.

#[path = "common/binary.rs"]
mod binary;
mod common;
// binary.rs finds the shipped history through `crate::machine`.
use common::machine;
#[path = "common/parquet.rs"]
mod parquet_columns;

use std::collections::BTreeMap;

use clearstress::default_management::close_out::{close_out_costs, CloseOut, Liquidation};
use clearstress::pricing::{position_pnl, Horizon, Move};
use clearstress::snapshot::{InstrumentKind, OptionRight, Settlement, Snapshot};
use parquet_columns::{floats, read_parquet, strings};

/// ALT at 100 USD with a daily volatility of 2% and 1e8 USD traded a day;
/// USDT at 1 with a daily volatility of 0.1% and 1e9 a day; the default half
/// spreads (5 bp crypto, 1 bp stablecoins), Y = 1, and H = 4 days.
fn book() -> Snapshot {
    let mut alt = common::asset("ALT", 100.0, 0.02 * 365f64.sqrt());
    alt.adv_usd = 1e8;
    let mut usdt = common::asset("USDT", 1.0, 0.001 * 365f64.sqrt());
    usdt.adv_usd = 1e9;
    let members =
        ["A", "B", "C", "D"].map(|id| common::member(id, if id == "B" { "A" } else { id }));
    let mut s = common::market_snapshot(vec![alt, usdt], vec![1.0, 0.0, 0.0, 1.0], members.into());
    s.config.close_out.horizon_days = Some(4.0);
    let today = s.valuation_date;
    let perp = common::add_instrument(
        &mut s,
        "ALT-PERP",
        0,
        Settlement::Linear,
        1.0,
        InstrumentKind::Perpetual,
    );
    let future = InstrumentKind::Future {
        expiry: today.add_days(90),
    };
    let future = common::add_instrument(&mut s, "ALT-FUT", 0, Settlement::Linear, 1.0, future);
    let call = InstrumentKind::Option {
        expiry: today.add_days(90),
        strike: 110.0,
        right: OptionRight::Call,
    };
    let call = common::add_instrument(&mut s, "ALT-C-110", 0, Settlement::Linear, 1.0, call);
    // A: long 40,000 ALT (4e6 USD) and 1e7 USDT posted.
    common::hold(&mut s, 0, perp, 40_000.0);
    common::post(&mut s, 0, Some(1), 1e7);
    // B: short 160,000 ALT (1.6e7 USD), four times A's exposure.
    common::hold(&mut s, 1, perp, -160_000.0);
    // C: long 100,000 futures (F0 = S0: no basis), short 60,000 perpetuals,
    // cash collateral: a net 4e6 USD, as A's.
    common::hold(&mut s, 2, future, 100_000.0);
    common::hold(&mut s, 2, perp, -60_000.0);
    common::post(&mut s, 2, None, 1e6);
    // D: 30,000 calls struck at 110.
    common::hold(&mut s, 3, call, 30_000.0);
    s
}

fn rows_of(out: &CloseOut, member: usize) -> Vec<Liquidation> {
    out.liquidations
        .iter()
        .filter(|l| l.member == member)
        .copied()
        .collect()
}

fn close(a: f64, b: f64) -> bool {
    (a - b).abs() <= 1e-9 * a.abs().max(b.abs()).max(1.0)
}

/// cost = |Q| s + |Q| Y sigma sqrt(|Q| / (ADV H)), by member and asset:
///
/// | member | asset | Q | spread | impact | total |
/// |---|---|---|---|---|---|
/// | A | ALT | 4e6 | 4e6 x 0.0005 = 2,000 | 4e6 x 0.02 x sqrt(4e6 / 4e8) = 8,000 | 10,000 |
/// | A | USDT | 1e7 | 1e7 x 0.0001 = 1,000 | 1e7 x 0.001 x sqrt(1e7 / 4e9) = 500 | 1,500 |
/// | B | ALT | -1.6e7 | 8,000 | 1.6e7 x 0.02 x sqrt(0.04) = 64,000 | 72,000 |
/// | C | ALT | 1e7 - 6e6 = 4e6 | 2,000 | 8,000 | 10,000 |
///
/// A and B are one group (A): 83,500; C alone 10,000.
#[test]
fn the_cost_on_a_book_worked_by_hand() {
    let out = close_out_costs(&book()).unwrap();
    assert_eq!(out.horizon_days, 4.0);
    let expected = [
        (0, 0, 4e6, 2_000.0, 8_000.0),
        (0, 1, 1e7, 1_000.0, 500.0),
        (1, 0, -1.6e7, 8_000.0, 64_000.0),
        (2, 0, 4e6, 2_000.0, 8_000.0),
    ];
    for (member, asset, exposure, spread, impact) in expected {
        let row = out
            .liquidations
            .iter()
            .find(|l| (l.member, l.asset) == (member, asset))
            .unwrap_or_else(|| panic!("no row for member {member}, asset {asset}"));
        assert!(close(row.exposure_usd, exposure), "{row:?}");
        assert!(close(row.spread_cost, spread), "{row:?}");
        assert!(close(row.impact_cost, impact), "{row:?}");
    }
    for (member, rows) in [(0, 2), (1, 1), (2, 1)] {
        assert_eq!(rows_of(&out, member).len(), rows, "member {member}");
    }
    assert!(close(out.member_cost[0], 11_500.0) && close(out.member_cost[2], 10_000.0));
    let groups = out.group_costs(&[0, 0, 1, 2], 3);
    assert!(close(groups[0], 83_500.0), "{groups:?}");
}

/// Four times the exposure (B against A): twice the impact per dollar, the
/// same spread per dollar.
#[test]
fn impact_per_dollar_doubles_when_the_exposure_quadruples() {
    let out = close_out_costs(&book()).unwrap();
    let (a, b) = (rows_of(&out, 0)[0], rows_of(&out, 1)[0]);
    let per_dollar = |l: Liquidation| {
        (
            l.spread_cost / l.exposure_usd.abs(),
            l.impact_cost / l.exposure_usd.abs(),
        )
    };
    assert!(close(per_dollar(b).1, 2.0 * per_dollar(a).1));
    assert!(close(per_dollar(b).0, per_dollar(a).0));
}

/// An option's exposure is the slope of its Black-76 value in the spot, by a
/// central difference at the valuation date (a zero horizon).
#[test]
fn an_options_exposure_is_its_delta() {
    let s = book();
    let out = close_out_costs(&s).unwrap();
    let rows = rows_of(&out, 3);
    assert_eq!(rows.len(), 1);
    let horizon = Horizon {
        days_to_expiry: 90.0,
        days: 0.0,
    };
    let vol = 0.6; // the surface's, flat
    let h = 1e-5;
    let value = |r: f64| {
        position_pnl(
            &s.instruments[2],
            30_000.0,
            &s.market,
            horizon,
            Move::spot(r),
            vol,
        )
    };
    let slope = (value(1.0 + h) - value(1.0 - h)) / (2.0 * h);
    assert!(slope > 0.0 && slope < 30_000.0 * 100.0, "{slope}");
    assert!(
        (rows[0].exposure_usd - slope).abs() < 1e-6 * slope,
        "{} vs {slope}",
        rows[0].exposure_usd
    );
}

/// What `run` writes: close_out.parquet with its documented columns, one row
/// per (member, asset) exposed, whose totals add up to summary.json's.
#[test]
fn run_writes_close_out_parquet_consistent_with_the_summary() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("out");
    let o = binary::clearstress(&[
        "run",
        "--paths",
        "2000",
        "--quiet",
        "--out",
        out.to_str().unwrap(),
    ]);
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    let table = read_parquet(&out.join("close_out.parquet"));
    let columns: Vec<String> = table[0]
        .schema()
        .fields()
        .iter()
        .map(|f| f.name().clone())
        .collect();
    assert_eq!(
        columns,
        [
            "member",
            "group",
            "asset",
            "exposure_usd",
            "adv_usd",
            "spread_cost",
            "impact_cost",
            "total"
        ]
    );
    let (groups, totals) = (strings(&table, "group"), floats(&table, "total"));
    let (spread, impact) = (floats(&table, "spread_cost"), floats(&table, "impact_cost"));
    assert!(totals.len() > 64, "{} rows", totals.len());
    let mut by_group: BTreeMap<String, f64> = BTreeMap::new();
    for (i, (g, t)) in groups.iter().zip(&totals).enumerate() {
        assert!(close(*t, spread[i] + impact[i]) && *t > 0.0, "row {i}");
        *by_group.entry(g.clone()).or_default() += t;
    }
    let summary: serde_json::Value =
        serde_json::from_slice(&std::fs::read(out.join("summary.json")).unwrap()).unwrap();
    let c = &summary["close_out"];
    assert!(close(c["total"].as_f64().unwrap(), totals.iter().sum()));
    for g in c["groups"].as_array().unwrap() {
        let name = g["group"].as_str().unwrap();
        let cost = g["cost"].as_f64().unwrap();
        assert!(
            close(cost, by_group.get(name).copied().unwrap_or(0.0)),
            "{name}"
        );
    }
    let cover = &c["cover_groups"];
    let listed = cover["groups"].as_array().unwrap();
    assert_eq!(listed.len(), 2, "Cover-2: {cover}");
    let cost: f64 = listed
        .iter()
        .map(|g| g["close_out_cost"].as_f64().unwrap())
        .sum();
    assert!(close(cover["close_out_cost"].as_f64().unwrap(), cost));
    for g in listed {
        let name = g["group"].as_str().unwrap();
        assert!(
            close(g["close_out_cost"].as_f64().unwrap(), by_group[name]),
            "{name}"
        );
        assert!(
            g["uncovered_with_close_out"].as_f64().unwrap()
                >= g["uncovered_loss"].as_f64().unwrap()
        );
    }
    assert_eq!(
        cover["uncovered_loss"].as_f64(),
        summary["default_fund"]["requirement"].as_f64()
    );
}
