//! `backtest` with an implied-vol index (methodology, 12b): in the realised
//! move from t to t + MPOR, the vols of each option underlying with an index
//! column are multiplied by `index(t + MPOR) / index(t)`, held otherwise; a
//! missing level is a gap with its reason; without an index nothing changes.

mod common;

use clearstress::analysis::backtest::{backtest, Backtest, BacktestParams, ImpliedVols};
use clearstress::analysis::AnalysisError;
use clearstress::backend::CpuBackend;
use clearstress::history::implied_vol::ImpliedVolIndex;
use clearstress::history::PriceHistory;
use clearstress::input::{Date, Table};
use clearstress::pricing::{black76, discount, DAYS_PER_YEAR};
use clearstress::snapshot::{InstrumentKind, OptionRight, Settlement, Snapshot};

use common::backtest::{dated_table, day, params, price_history, runner};
use common::{add_instrument, asset, hold, market_snapshot, member};

/// Days of the history, from day 0 ([`day`]).
const DAYS: usize = 120;
/// Tested from this day: 90 days of calibration window before it.
const FROM: usize = 95;
const MPOR: usize = 2;

/// BTC and ETH closes, log moves of +-1% and +-2% in turn.
fn history() -> PriceHistory {
    let rows = (0..DAYS).map(|d| {
        let sign = if d % 2 == 0 { 1.0 } else { -1.0 };
        let btc = 100.0 * (0.01 * sign * (d % 3) as f64).exp();
        let eth = 10.0 * (0.02 * sign * (d % 4) as f64).exp();
        (day(d), format!("{btc},{eth}"))
    });
    price_history("h.csv", "BTC,ETH", rows)
}

/// BTC's index level on day `d`: 50 vol points moving by up to +-30%, with
/// a blank on the days in `blank`.
fn index(blank: &[usize]) -> ImpliedVolIndex {
    let rows = (0..DAYS).map(|d| {
        let level = 50.0 * (0.7 + 0.1 * ((d * 3) % 7) as f64);
        let cell = if blank.contains(&d) {
            String::new()
        } else {
            format!("{level}")
        };
        (day(d), cell)
    });
    ImpliedVolIndex::from_table(&dated_table("vols.csv", "BTC", rows)).unwrap()
}

/// Member A holds 10 BTC calls struck at 110 and is short 5 ETH puts struck
/// at 9 (both linear, one unit each, expiring in 60 days; the surface is
/// flat at 60%); a 2-day MPOR, VaR 99% on 2,000 Gaussian paths.
fn option_book() -> Snapshot {
    let mut s = market_snapshot(
        vec![asset("BTC", 100.0, 0.5), asset("ETH", 10.0, 0.7)],
        vec![1.0, 0.5, 0.5, 1.0],
        vec![member("A", "A")],
    );
    s.config.scenario.paths = 2_000;
    s.config.risk.margin_period_days = MPOR as f64;
    let expiry = s.valuation_date.add_days(60);
    let option = |strike, right| InstrumentKind::Option {
        expiry,
        strike,
        right,
    };
    let call = add_instrument(
        &mut s,
        "BTC-C-110",
        0,
        Settlement::Linear,
        1.0,
        option(110.0, OptionRight::Call),
    );
    let put = add_instrument(
        &mut s,
        "ETH-P-9",
        1,
        Settlement::Linear,
        1.0,
        option(9.0, OptionRight::Put),
    );
    hold(&mut s, 0, call, 10.0);
    hold(&mut s, 0, put, -5.0);
    s
}

fn run(
    snapshot: &Snapshot,
    implied_vol: Option<ImpliedVolIndex>,
) -> Result<Backtest, AnalysisError> {
    let backend = CpuBackend::new(None).unwrap();
    let params = BacktestParams {
        implied_vol,
        ..params(day(FROM), day(DAYS - 1 - MPOR))
    };
    backtest(&runner(&backend), snapshot, &history(), &params)
}

/// Black-76 by hand: member A's loss when BTC and ETH move by `r` and the
/// vols of the flat 60% surface by `v` (per asset), over the MPOR from the
/// snapshot's valuation date (the option ages by the MPOR; no basis).
fn loss_by_hand(s: &Snapshot, r: [f64; 2], v: [f64; 2]) -> f64 {
    let (tau0, tau1) = (60.0 / DAYS_PER_YEAR, (60 - MPOR) as f64 / DAYS_PER_YEAR);
    let (d0, d1) = (discount(&s.market, tau0), discount(&s.market, tau1));
    let pnl = |a: usize, strike, right, quantity: f64| {
        let s0 = s.market.assets[a].spot;
        let v0 = black76(right, s0, strike, 0.6, tau0, d0);
        let v1 = black76(right, s0 * r[a], strike, 0.6 * v[a], tau1, d1);
        quantity * (v1 - v0)
    };
    -(pnl(0, 110.0, OptionRight::Call, 10.0) + pnl(1, 9.0, OptionRight::Put, -5.0))
}

/// Every day's realised loss is the book revalued by Black-76 with BTC's
/// vols times the index's ratio over the MPOR (a rise of x% prices the calls
/// at 60% (1 + x)) and ETH's held (no column); the margins do not depend on
/// the index; `implied_vols` says which moved.
#[test]
fn an_index_move_reprices_the_options_at_the_moved_vol() {
    let snapshot = option_book();
    let h = history();
    let vols = index(&[]);
    let moved = run(&snapshot, Some(vols.clone())).unwrap();
    let held = run(&snapshot, None).unwrap();
    assert!(moved.gaps.is_empty(), "{:?}", moved.gaps);
    assert_eq!(moved.dates, held.dates);
    assert_eq!(
        moved.implied_vols,
        ImpliedVols {
            moved: vec!["BTC".into()],
            held: vec!["ETH".into()],
        }
    );
    assert_eq!(
        held.implied_vols,
        ImpliedVols {
            moved: vec![],
            held: vec!["BTC".into(), "ETH".into()],
        }
    );
    let (a_moved, a_held) = (&moved.portfolios[0], &held.portfolios[0]);
    assert_eq!(a_moved.margins, a_held.margins);
    let mut changed = 0;
    for (k, &t) in moved.dates.iter().enumerate() {
        let (d, end) = (h.dates.binary_search(&t).unwrap(), t.add_days(MPOR as i32));
        let e = h.dates.binary_search(&end).unwrap();
        let r = [0, 1].map(|a| h.close(e, a).unwrap() / h.close(d, a).unwrap());
        let ratio = vols.level(end, 0).unwrap() / vols.level(t, 0).unwrap();
        let near = |x: f64, y: f64| (x - y).abs() <= 1e-9 * (1.0 + y.abs());
        let expected = loss_by_hand(&snapshot, r, [ratio, 1.0]);
        assert!(
            near(a_moved.losses[k], expected),
            "{t}: {} against {expected}",
            a_moved.losses[k]
        );
        let expected_held = loss_by_hand(&snapshot, r, [1.0, 1.0]);
        assert!(near(a_held.losses[k], expected_held), "{t}: held");
        if ratio != 1.0 {
            changed += 1;
            assert!((a_moved.losses[k] - a_held.losses[k]).abs() > 1e-3, "{t}");
        }
    }
    // The index moves on most days: +-10% to +-60% over two days.
    assert!(changed > moved.dates.len() / 2, "{changed}");
}

/// A day whose index level is missing at t or at t + MPOR, for an
/// underlying with a column, is a gap with the reason, never bridged to a
/// neighbouring level; a flat index changes nothing, bit for bit, against
/// no index at all.
#[test]
fn a_missing_level_is_a_gap_and_a_flat_index_changes_nothing() {
    let snapshot = option_book();
    let blank = FROM + 6;
    let b = run(&snapshot, Some(index(&[blank]))).unwrap();
    let reason = format!(
        "no implied-vol index level for BTC on {} in vols.csv",
        day(blank)
    );
    let gaps: Vec<(Date, &str)> = b.gaps.iter().map(|g| (g.date, g.reason.as_str())).collect();
    assert_eq!(
        gaps,
        vec![
            (day(blank - MPOR), reason.as_str()),
            (day(blank), reason.as_str())
        ]
    );
    assert!(!b.dates.contains(&day(blank)) && !b.dates.contains(&day(blank - MPOR)));

    let level = (0..DAYS).map(|d| (day(d), "45.5".to_string()));
    let flat = ImpliedVolIndex::from_table(&dated_table("flat.csv", "BTC", level)).unwrap();
    let (with, without) = (
        run(&snapshot, Some(flat)).unwrap(),
        run(&snapshot, None).unwrap(),
    );
    let bits = |b: &Backtest| -> Vec<u64> {
        b.portfolios
            .iter()
            .flat_map(|p| p.margins.iter().chain(&p.losses).map(|x| x.to_bits()))
            .collect()
    };
    assert_eq!(bits(&with), bits(&without));
    assert_eq!(with.dates, without.dates);
}

/// An index column that is not an asset of the market (a header such as
/// `btc_dvol`) is refused, naming the file and the column: it would move
/// nothing, silently.
#[test]
fn a_column_that_is_not_an_asset_is_refused() {
    let csv = "date,btc_dvol\n2024-01-01,50\n2024-01-02,51\n";
    let index =
        ImpliedVolIndex::from_table(&Table::from_csv_bytes("dvol.csv", csv.as_bytes()).unwrap())
            .unwrap();
    let message = run(&option_book(), Some(index)).unwrap_err().to_string();
    for part in ["dvol.csv", "`btc_dvol`", "BTC, ETH"] {
        assert!(message.contains(part), "{message}");
    }
}
