//! `clearstress backtest --portfolios test|both`: EMIR's generated test
//! portfolios (methodology, section 12b). On a small hand-made book the set
//! lists exactly the portfolios its instruments allow, each leg sized to
//! 1,000,000 USD of notional, and says why each missing strategy is missing;
//! backtested, a long and a short position realise exactly opposite losses, a
//! calendar spread the difference of its legs, and the members' rows are
//! the same bit for bit with or without the generated set beside them.

mod common;

use clearstress::analysis::backtest::{
    backtest, summarise, Backtest, BacktestParams, Portfolio, PortfolioKind, Portfolios, TestSet,
    AGGREGATE_ID, LEG_NOTIONAL_USD, Z2,
};
use clearstress::backend::CpuBackend;
use clearstress::history::PriceHistory;
use clearstress::snapshot::{InstrumentKind, MarginMeasure, OptionRight, Settlement, Snapshot};

use common::backtest::{day, linear_perpetual, params, price_history, runner};
use common::{add_instrument, asset, hold, market_snapshot, member, post};

/// Four assets: BTC (spot 100, funding and basis), ETH (10), SOL (20) and
/// USDT. BTC lists a USD-margined perpetual and two futures, and USD-settled
/// options at +60 days (calls 90, 100, 110, 130; puts 70, 90, 100), one coin
/// settled at +60 days and one expiring inside the MPOR; ETH a coin-margined
/// perpetual of 10 USD face only; SOL one call above spot; USDT nothing.
/// Member A holds 10 BTC-PERP (1,000 USD) and posts 2 BTC; B holds 200
/// ETH-INV-PERP (2,000 USD): ETH first by notional, then BTC. A 2-day MPOR,
/// ES 99% on 2,000 Gaussian paths.
fn hand_made_book() -> Snapshot {
    let mut btc = asset("BTC", 100.0, 0.5);
    btc.funding_rate_8h = 0.0001;
    btc.basis = 0.1;
    let corr = vec![
        1.0, 0.8, 0.6, 0.0, //
        0.8, 1.0, 0.7, 0.0, //
        0.6, 0.7, 1.0, 0.0, //
        0.0, 0.0, 0.0, 1.0,
    ];
    let mut s = market_snapshot(
        vec![
            btc,
            asset("ETH", 10.0, 0.7),
            asset("SOL", 20.0, 0.9),
            asset("USDT", 1.0, 0.01),
        ],
        corr,
        vec![member("A", "G"), member("B", "G")],
    );
    s.config.scenario.paths = 2_000;
    s.config.risk.margin_period_days = 2.0;
    s.config.risk.margin_measure = MarginMeasure::ExpectedShortfall;
    s.config.risk.margin_confidence = 0.99;
    s.config.collateral.haircuts.insert("BTC".into(), 0.5);
    let today = s.valuation_date;
    let future = |days| InstrumentKind::Future {
        expiry: today.add_days(days),
    };
    let option = |days, strike, right| InstrumentKind::Option {
        expiry: today.add_days(days),
        strike,
        right,
    };
    let (call, put) = (OptionRight::Call, OptionRight::Put);
    let linear = Settlement::Linear;
    let perp = linear_perpetual(&mut s, "BTC-PERP", 0);
    // Listed out of expiry order: the terms sort by expiry.
    add_instrument(&mut s, "BTC-JUN", 0, linear, 1.0, future(120));
    add_instrument(&mut s, "BTC-MAR", 0, linear, 1.0, future(30));
    for (id, strike, right) in [
        ("BTC-C90", 90.0, call),
        ("BTC-C100", 100.0, call),
        ("BTC-C110", 110.0, call),
        ("BTC-C130", 130.0, call),
        ("BTC-P70", 70.0, put),
        ("BTC-P90", 90.0, put),
        ("BTC-P100", 100.0, put),
    ] {
        add_instrument(&mut s, id, 0, linear, 0.1, option(60, strike, right));
    }
    // Coin-settled: left for the USD-settled series of the same asset.
    add_instrument(
        &mut s,
        "BTC-C100-INV",
        0,
        Settlement::Inverse,
        1.0,
        option(60, 100.0, call),
    );
    // Expires inside the MPOR: never a strategy's leg.
    add_instrument(&mut s, "BTC-P95-1D", 0, linear, 0.1, option(1, 95.0, put));
    let eth = add_instrument(
        &mut s,
        "ETH-INV-PERP",
        1,
        Settlement::Inverse,
        10.0,
        InstrumentKind::Perpetual,
    );
    add_instrument(&mut s, "SOL-C30", 2, linear, 1.0, option(60, 30.0, call));
    hold(&mut s, 0, perp, 10.0);
    hold(&mut s, 1, eth, 200.0);
    post(&mut s, 0, Some(0), 2.0);
    s
}

/// The instrument's index in `s`.
fn instrument(s: &Snapshot, id: &str) -> usize {
    s.instruments.iter().position(|i| i.id == id).unwrap()
}

/// A generated portfolio as the test spells it: id, kind, (instrument,
/// quantity) legs.
type Expected<'a> = (&'a str, PortfolioKind, &'a [(&'a str, f64)]);
type Row = (String, PortfolioKind, Vec<(usize, f64)>);

#[test]
fn the_generated_set_is_what_the_books_instruments_allow() {
    let s = hand_made_book();
    let set = TestSet::generate(&s, 2);
    // (id, kind, legs as (instrument, quantity)): every leg 1,000,000 USD of
    // notional at spot: BTC-PERP 1 coin at 100, BTC's options 0.1 coin at
    // 100, ETH-INV-PERP a face of 10 USD.
    let (unit, multi) = (PortfolioKind::TestUnit, PortfolioKind::TestPortfolio);
    let btc = 1e6 / 100.0;
    let btc_option = 1e6 / 10.0;
    let eth = 1e6 / 10.0;
    let expected: [Expected; 10] = [
        ("test:long:BTC-PERP", unit, &[("BTC-PERP", btc)]),
        ("test:short:BTC-PERP", unit, &[("BTC-PERP", -btc)]),
        (
            "test:calendar:BTC-PERP/BTC-MAR",
            multi,
            &[("BTC-PERP", btc), ("BTC-MAR", -btc)],
        ),
        (
            "test:calendar:BTC-MAR/BTC-JUN",
            multi,
            &[("BTC-MAR", btc), ("BTC-JUN", -btc)],
        ),
        (
            "test:straddle:BTC-C100+BTC-P100",
            multi,
            &[("BTC-C100", btc_option), ("BTC-P100", btc_option)],
        ),
        (
            "test:risk_reversal:BTC-C110/BTC-P90",
            multi,
            &[("BTC-C110", btc_option), ("BTC-P90", -btc_option)],
        ),
        ("test:short_wing:BTC-P70", unit, &[("BTC-P70", -btc_option)]),
        (
            "test:short_wing:BTC-C130",
            unit,
            &[("BTC-C130", -btc_option)],
        ),
        ("test:long:ETH-INV-PERP", unit, &[("ETH-INV-PERP", eth)]),
        ("test:short:ETH-INV-PERP", unit, &[("ETH-INV-PERP", -eth)]),
    ];
    let mut expected: Vec<Row> = expected
        .iter()
        .map(|(id, kind, legs)| {
            let legs = legs.iter().map(|&(i, q)| (instrument(&s, i), q)).collect();
            (id.to_string(), *kind, legs)
        })
        .collect();
    // SOL's one call is the far call wing; then the one cross-asset pair,
    // ETH (2,000 USD of the members' notional) long against BTC (1,000).
    expected.push((
        "test:short_wing:SOL-C30".into(),
        unit,
        vec![(instrument(&s, "SOL-C30"), -1e6 / 20.0)],
    ));
    expected.push((
        "test:cross_asset:ETH-INV-PERP/BTC-PERP".into(),
        multi,
        vec![
            (instrument(&s, "ETH-INV-PERP"), eth),
            (instrument(&s, "BTC-PERP"), -btc),
        ],
    ));
    let got: Vec<Row> = set
        .portfolios
        .iter()
        .map(|p| {
            let legs = p.legs.iter().map(|l| (l.instrument, l.quantity)).collect();
            (p.id.clone(), p.kind(), legs)
        })
        .collect();
    assert_eq!(got, expected);
    for p in &set.portfolios {
        for leg in &p.legs {
            let notional =
                leg.quantity.abs() * s.instruments[leg.instrument].usd_per_contract(&s.market);
            assert!(
                (notional / LEG_NOTIONAL_USD - 1.0).abs() < 1e-12,
                "{}",
                p.id
            );
        }
    }

    // Each strategy the book cannot make, with the reason.
    let skipped: Vec<(&str, &str)> = set
        .skipped
        .iter()
        .map(|s| (s.strategy.as_str(), s.reason.as_str()))
        .collect();
    let no_options = "the book lists no option on it expiring after 2025-02-22 (the MPOR) \
                      with an implied vol on the surface";
    assert_eq!(
        skipped,
        vec![
            (
                "calendar:ETH",
                "one term only in each settlement (ETH-INV-PERP)"
            ),
            ("options:ETH", no_options),
            (
                "long_short:SOL",
                "the book lists no perpetual or future on it"
            ),
            (
                "straddle:SOL",
                "no strike lists both a call and a put at 2025-04-21"
            ),
            (
                "risk_reversal:SOL",
                "it needs a call above spot and a put below at 2025-04-21"
            ),
            ("short_wing:SOL", "no put below spot at 2025-04-21"),
            (
                "long_short:USDT",
                "the book lists no perpetual or future on it"
            ),
            ("options:USDT", no_options),
        ]
    );
}

/// With one asset or none, there is no cross-asset pair, and said so.
#[test]
fn a_book_on_one_asset_has_no_cross_asset_spread() {
    let mut s = hand_made_book();
    s.instruments.retain(|i| i.underlying == 0);
    s.positions.clear();
    let set = TestSet::generate(&s, 2);
    assert!(set.portfolios.iter().all(|p| !p.id.contains("cross_asset")));
    assert!(set.skipped.iter().any(|k| k.strategy == "cross_asset"
        && k.reason == "fewer than two assets have a perpetual or future"));
}

/// Days of the history, from day 0 ([`day`]).
const DAYS: i32 = 110;

/// BTC, ETH and SOL closes: log moves of a few percent that change sign on
/// different days, with a 20% fall of all three on day 100.
fn history() -> PriceHistory {
    let mut rows = Vec::new();
    let mut prices = [100.0_f64, 10.0, 20.0];
    for d in 0..DAYS {
        if d > 0 {
            for (a, p) in prices.iter_mut().enumerate() {
                let step = if d == 100 {
                    0.8_f64.ln()
                } else {
                    0.01 * (1.0 + a as f64) * if (d + a as i32) % 3 == 0 { -1.5 } else { 1.0 }
                };
                *p *= step.exp();
            }
        }
        let [btc, eth, sol] = prices;
        rows.push((day(d), format!("{btc},{eth},{sol}")));
    }
    price_history("h.csv", "BTC,ETH,SOL", rows)
}

fn run(snapshot: &Snapshot, portfolios: Portfolios) -> Backtest {
    let backend = CpuBackend::new(None).unwrap();
    let params = BacktestParams {
        portfolios,
        z2_simulations: 200,
        ..params(day(95), day(104))
    };
    backtest(&runner(&backend), snapshot, &history(), &params).unwrap()
}

fn row<'a>(b: &'a Backtest, id: &str) -> &'a Portfolio {
    b.portfolios
        .iter()
        .find(|p| p.id == id)
        .unwrap_or_else(|| panic!("no {id}"))
}

fn bits(v: &[f64]) -> Vec<u64> {
    v.iter().map(|x| x.to_bits()).collect()
}

#[test]
fn long_and_short_realise_opposite_losses_and_a_calendar_the_difference_of_its_legs() {
    let s = hand_made_book();
    let b = run(&s, Portfolios::Test);
    assert_eq!(b.dates.len(), 10);
    // Only the generated portfolios, each with a margin on every day.
    assert!(b.portfolios.iter().all(|p| matches!(
        p.kind,
        PortfolioKind::TestUnit | PortfolioKind::TestPortfolio
    )));
    assert_eq!(b.portfolios.len(), 12);
    for id in ["BTC-PERP", "ETH-INV-PERP"] {
        let long = row(&b, &format!("test:long:{id}"));
        let short = row(&b, &format!("test:short:{id}"));
        let negated: Vec<f64> = short.losses.iter().map(|x| -x).collect();
        assert_eq!(bits(&long.losses), bits(&negated), "{id}");
        // The crash (day 100) is a loss for the long, not for the short.
        assert!(
            long.losses.iter().any(|&l| l > 0.1 * LEG_NOTIONAL_USD),
            "{id}"
        );
    }

    // The calendar's legs held by two members of the same book: the near leg
    // long, the far leg long too, so the spread is near minus far.
    let spread = row(&b, "test:calendar:BTC-PERP/BTC-MAR");
    let mut legs = s.clone();
    legs.members = vec![member("near", "near"), member("far", "far")];
    legs.collateral.clear();
    legs.positions.clear();
    let [near, far] = legs_of(&b, &spread.id)[..] else {
        panic!("a calendar has two legs")
    };
    hold(&mut legs, 0, near.0, near.1);
    hold(&mut legs, 1, far.0, -far.1);
    let l = run(&legs, Portfolios::Current);
    let (near, far) = (row(&l, "near"), row(&l, "far"));
    for t in 0..b.dates.len() {
        let difference = near.losses[t] - far.losses[t];
        assert!(
            (spread.losses[t] - difference).abs() <= 1e-9 * near.losses[t].abs().max(1.0),
            "day {t}: {} against {difference}",
            spread.losses[t]
        );
    }
    // Funding on the perpetual against the future's roll: not a zero spread.
    assert!(spread.losses.iter().any(|&x| x != 0.0));
}

/// (instrument, quantity) of each leg of generated portfolio `id`.
fn legs_of(b: &Backtest, id: &str) -> Vec<(usize, f64)> {
    let set = b.test_set.as_ref().unwrap();
    let p = set.portfolios.iter().find(|p| p.id == id).unwrap();
    p.legs.iter().map(|l| (l.instrument, l.quantity)).collect()
}

#[test]
fn the_members_rows_are_the_same_with_the_generated_set_beside_them() {
    let s = hand_made_book();
    let current = run(&s, Portfolios::Current);
    let both = run(&s, Portfolios::Both);
    let test = run(&s, Portfolios::Test);
    assert_eq!(current.dates, both.dates);
    // Members (twice) and the group first, then the generated portfolios.
    let members = current.portfolios.len();
    assert_eq!(members, 5);
    assert_eq!(both.portfolios.len(), members + test.portfolios.len());
    for (c, b) in current.portfolios.iter().zip(&both.portfolios) {
        assert_eq!((&c.id, c.kind), (&b.id, b.kind));
        assert_eq!(bits(&c.margins), bits(&b.margins), "{}", c.id);
        assert_eq!(bits(&c.losses), bits(&b.losses), "{}", c.id);
        assert_eq!(
            c.var.as_deref().map(bits),
            b.var.as_deref().map(bits),
            "{}",
            c.id
        );
        assert_eq!(c.simulated, b.simulated, "{}", c.id);
    }
    // And the generated portfolios the same as backtested alone.
    assert_eq!(&both.portfolios[members..], &test.portfolios[..]);

    // Statistics: the generated kinds pooled as the members' are; every
    // generated portfolio has Z2 with a p-value (no collateral: its loss is
    // the one its ES is sized on); the members' statistics unchanged.
    let summary = summarise(&both).unwrap();
    let alone = summarise(&current).unwrap();
    for kind in [PortfolioKind::TestUnit, PortfolioKind::TestPortfolio] {
        let of_kind: Vec<_> = both.portfolios.iter().filter(|p| p.kind == kind).collect();
        let pooled = summary
            .iter()
            .find(|r| r.aggregate && r.kind == kind && r.id == AGGREGATE_ID)
            .unwrap();
        let observations = (of_kind.len() * both.dates.len()) as u64;
        assert_eq!(pooled.all_days.coverage.observations, observations);
        let exceptions: usize = of_kind
            .iter()
            .map(|p| {
                (0..p.margins.len())
                    .filter(|&t| p.losses[t] > p.margins[t])
                    .count()
            })
            .sum();
        assert_eq!(pooled.all_days.coverage.exceptions, exceptions as u64);
    }
    for r in summary
        .iter()
        .filter(|r| !r.aggregate && r.id.starts_with("test:"))
    {
        assert!(
            matches!(
                r.z2,
                Z2::Statistic {
                    p_value: Some(_),
                    simulations: 200,
                    ..
                }
            ),
            "{}: {:?}",
            r.id,
            r.z2
        );
    }
    for r in &alone {
        assert!(summary.contains(r), "{} {:?}", r.id, r.kind);
    }
}
