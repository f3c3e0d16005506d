//! `clearstress backtest` on the members' current positions, through the
//! library API (methodology, section 12b): a hand-worked crash on a one-asset
//! book (realised losses, exceptions, statistics), no look-ahead, and the
//! days that cannot be tested reported as gaps.

mod common;

use clearstress::analysis::as_of::{market_as_of, Recalibration};
use clearstress::analysis::backtest::{
    backtest, summarise, Backtest, BacktestParams, PortfolioKind, Transitions, AGGREGATE_ID, Z2,
};
use clearstress::backend::CpuBackend;
use clearstress::history::PriceHistory;
use clearstress::input::Date;
use clearstress::snapshot::{HistoricalConfig, MarginMeasure, Snapshot, DAYS_PER_YEAR};

use common::backtest::{btc_perpetual_book, day, price_history, runner};
use common::post;

/// Day index of the crash: BTC closes 30% down on it.
const CRASH: i32 = 140;
const DAYS: i32 = CRASH + 5;

/// BTC's closes from day 0 ([`day`]): from 100, log moves of +1% and -1% in
/// turn (a daily volatility of 1%), a 30% fall on day [`CRASH`], then +-1%
/// again; the last day is `CRASH + 4`. `edit(day, close)` may change or blank a close.
fn btc_history(edit: impl Fn(i32, f64) -> Option<f64>) -> PriceHistory {
    let mut rows = Vec::new();
    let mut price: f64 = 100.0;
    for d in 0..DAYS {
        if d > 0 {
            let step: f64 = if d == CRASH {
                0.7_f64.ln()
            } else if d % 2 == 1 {
                0.01
            } else {
                -0.01
            };
            price *= step.exp();
        }
        let cell = edit(d, price).map_or(String::new(), |p| format!("{p}"));
        rows.push((day(d), cell));
    }
    price_history("btc.csv", "BTC", rows)
}

/// One asset (BTC at 100 in the snapshot), a 2-day MPOR, ES 99% on 20,000
/// Gaussian paths. Member A holds 10 BTC long in a linear perpetual and
/// posts 2 BTC at a 50% haircut (worth 100 after it); member B holds 5 BTC
/// short. Both are in affiliate group G.
fn tiny_book() -> Snapshot {
    let mut s = btc_perpetual_book(["G", "G"], 10.0, -5.0);
    s.config.scenario.paths = 20_000;
    s.config.risk.margin_period_days = 2.0;
    s.config.risk.margin_measure = MarginMeasure::ExpectedShortfall;
    s.config.risk.margin_confidence = 0.99;
    s.config.collateral.haircuts.insert("BTC".into(), 0.5);
    post(&mut s, 0, Some(0), 2.0);
    s
}

/// The members' current positions from day `from` to day `to`, on 90-day
/// windows at the EWMA decay 0.94, with 2,000 Z2 simulations.
fn params(from: i32, to: i32) -> BacktestParams {
    BacktestParams {
        z2_simulations: 2_000,
        ..common::backtest::params(day(from), day(to))
    }
}

fn row<'a>(
    b: &'a Backtest,
    id: &str,
    kind: PortfolioKind,
) -> &'a clearstress::analysis::backtest::Portfolio {
    b.portfolios
        .iter()
        .find(|p| p.id == id && p.kind == kind)
        .unwrap_or_else(|| panic!("no {id} {kind:?}"))
}

/// The crash, by hand. The realised move of day t is R = close(t+2) /
/// close(t); a long of 10 BTC at the snapshot's 100 loses 1000 (1 - R), the
/// 2 BTC collateral after its haircut 100 (1 - R) more, B's short gains
/// 500 (1 - R). Before the crash the EWMA volatility is about 1% a day, so
/// A's margin (ES 99% of 1100 BTC-dollars over 2 days) is about
/// 1100 x 1% x sqrt(2) x 2.665 = 41, far below A's loss of 300 on the two days
/// whose window holds the crash (CRASH - 2 and CRASH - 1) and above every
/// other day's loss (at most 1000 x 2%).
#[test]
fn a_crash_is_an_exception_on_the_days_whose_window_holds_it() {
    let history = btc_history(|_, p| Some(p));
    let snapshot = tiny_book();
    let backend = CpuBackend::new(None).unwrap();
    let from = CRASH - 5;
    let b = backtest(
        &runner(&backend),
        &snapshot,
        &history,
        &params(from, CRASH + 2),
    )
    .unwrap();
    assert_eq!(b.mpor_days, 2);
    assert_eq!(b.dates, (from..=CRASH + 2).map(day).collect::<Vec<_>>());
    assert!(b.gaps.is_empty(), "{:?}", b.gaps);

    let close = |d: i32| history.close(d as usize, 0).unwrap();
    let a = row(&b, "A", PortfolioKind::Member);
    let a_coll = row(&b, "A", PortfolioKind::MemberWithCollateral);
    let b_row = row(&b, "B", PortfolioKind::Member);
    let group = row(&b, "G", PortfolioKind::Group);
    for (k, t) in (from..=CRASH + 2).enumerate() {
        let r = close(t + 2) / close(t);
        let near = |x: f64, y: f64| (x - y).abs() <= 1e-9 * (1.0 + y.abs());
        assert!(near(a.losses[k], 1000.0 * (1.0 - r)), "A on {}", day(t));
        assert!(near(a_coll.losses[k], 1100.0 * (1.0 - r)));
        assert!(near(b_row.losses[k], -500.0 * (1.0 - r)));
        assert!(near(group.losses[k], 600.0 * (1.0 - r)));
        // The same margin against both of A's losses; the group's is the sum.
        assert_eq!(a.margins[k], a_coll.margins[k]);
        assert_eq!(group.margins[k], a.margins[k] + b_row.margins[k]);
    }

    // A's margin before the crash: the closed form of a Gaussian ES on the
    // EWMA volatility calibrated at t, within the Monte Carlo and
    // log-normal error.
    let vol = market_as_of(
        &snapshot.market,
        &history,
        day(from),
        Recalibration::riskmetrics(90),
    )
    .unwrap()
    .assets[0]
        .volatility;
    let phi_z99 = (-(2.326_347_874_f64).powi(2) / 2.0).exp() / (2.0 * std::f64::consts::PI).sqrt();
    let closed_form = 1100.0 * vol * (2.0 / DAYS_PER_YEAR).sqrt() * phi_z99 / 0.01;
    assert!(
        (a.margins[0] / closed_form - 1.0).abs() < 0.05,
        "A's margin {} against the closed form {closed_form}",
        a.margins[0]
    );

    // Exceptions: A's on CRASH-2 and CRASH-1 only, with and without its
    // collateral, and the group's; never B's.
    let exceptions = |p: &clearstress::analysis::backtest::Portfolio| -> Vec<bool> {
        (0..b.dates.len())
            .map(|k| p.losses[k] > p.margins[k])
            .collect()
    };
    let expected = vec![false, false, false, true, true, false, false, false];
    assert_eq!(exceptions(a), expected);
    assert_eq!(exceptions(a_coll), expected);
    assert_eq!(exceptions(group), expected);
    assert_eq!(exceptions(b_row), vec![false; 8]);

    // The statistics of A's positions alone: 2 exceptions in 8 days at 99%.
    let summary = summarise(&b).unwrap();
    let of = |id: &str, kind| {
        summary
            .iter()
            .find(|s| s.id == id && s.kind == kind)
            .unwrap()
    };
    let s = of("A", PortfolioKind::Member);
    let all = &s.all_days;
    assert_eq!((all.coverage.observations, all.coverage.exceptions), (8, 2));
    assert_eq!(all.coverage.achieved_coverage, 0.75);
    let (n, x, p) = (8.0_f64, 2.0_f64, 0.01_f64);
    let kupiec = 2.0 * ((n - x) * ((n - x) / (n * (1.0 - p))).ln() + x * (x / (n * p)).ln());
    assert!((all.kupiec.statistic - kupiec).abs() < 1e-9);
    let c = all.christoffersen.as_ref().unwrap();
    // F F F T T F F F: three F->F at the start, one F->T, one T->T, one
    // T->F, two F->F at the end.
    assert_eq!(
        c.transitions,
        Transitions {
            n00: 4,
            n01: 1,
            n10: 1,
            n11: 1
        }
    );
    // Every 2nd day from the first: CRASH-5, -3, -1, +1: one exception (CRASH-1).
    let sub = &s.non_overlapping;
    assert_eq!((sub.coverage.observations, sub.coverage.exceptions), (4, 1));
    // ES margins: Z2 for members, none for groups and aggregates. A's two
    // losses of about 8 ES each give Z2 = 1 - (8 + 8) / (8 x 0.01), far
    // below anything 2,000 paths drawn from the model reach; B, without an
    // exception, scores Z2 = 1, the largest value, so p = 1. The p-value is
    // for the loss the ES is sized on: members with collateral only.
    assert!(matches!(
        s.z2,
        Z2::Statistic { value, p_value: None, .. } if value < -100.0
    ));
    match &of("A", PortfolioKind::MemberWithCollateral).z2 {
        Z2::Statistic {
            value,
            p_value: Some(p),
            simulations: 2_000,
        } => assert!(*value < -100.0 && *p < 0.001, "Z2 {value}, p {p}"),
        other => panic!("{other:?}"),
    }
    assert!(matches!(
        of("B", PortfolioKind::MemberWithCollateral).z2,
        Z2::Statistic { value, p_value: Some(p), .. } if value == 1.0 && p == 1.0
    ));
    assert_eq!(of("G", PortfolioKind::Group).z2, Z2::NotApplicable);

    // Pooled: the members' 16 days, A's 2 exceptions; one series is not
    // there to test Christoffersen on.
    let pooled = of(AGGREGATE_ID, PortfolioKind::Member);
    assert!(pooled.aggregate);
    assert_eq!(
        (
            pooled.all_days.coverage.observations,
            pooled.all_days.coverage.exceptions
        ),
        (16, 2)
    );
    assert!(pooled.all_days.christoffersen.is_none());
}

/// Every margin at t is sized on the data up to t only: rewriting the history
/// after a day t* leaves every margin up to t* unchanged, bit for bit, under
/// Monte Carlo and under FHS, while the losses that reach past t* change.
#[test]
fn margins_do_not_see_the_history_after_their_date() {
    let t_star = CRASH - 3;
    let history = btc_history(|_, p| Some(p));
    let rewritten = btc_history(|d, p| {
        Some(if d > t_star {
            p * (1.0 + 0.03 * f64::from(d % 7))
        } else {
            p
        })
    });
    let backend = CpuBackend::new(None).unwrap();
    let mut fhs = tiny_book();
    fhs.config.scenario.historical = Some(HistoricalConfig {
        lookback_days: 60,
        ..HistoricalConfig::default()
    });
    for (model, snapshot) in [("Monte Carlo", tiny_book()), ("FHS", fhs)] {
        let run = |h: &PriceHistory| {
            backtest(
                &runner(&backend),
                &snapshot,
                h,
                &params(CRASH - 8, CRASH + 2),
            )
            .unwrap()
        };
        let (before, after) = (run(&history), run(&rewritten));
        assert_eq!(before.dates, after.dates);
        let known = before.dates.iter().filter(|&&d| d <= day(t_star)).count();
        assert_eq!(known, 6);
        for (p, q) in before.portfolios.iter().zip(&after.portfolios) {
            let bits = |v: &[f64]| v.iter().map(|x| x.to_bits()).collect::<Vec<_>>();
            assert_eq!(
                bits(&p.margins[..known]),
                bits(&q.margins[..known]),
                "{model}: {}",
                p.id
            );
            // The loss of t* - 1 runs to t* + 1, which was rewritten.
            assert_ne!(
                p.losses[known - 2],
                q.losses[known - 2],
                "{model}: {}",
                p.id
            );
            assert_eq!(p.losses[..known - 2], q.losses[..known - 2]);
        }
        // And the margins after t* did see the new prices.
        let a = |b: &Backtest| b.portfolios[0].margins[known + 1];
        assert_ne!(a(&before), a(&after), "{model}");
    }
}

/// A day without a close at t or at t + MPOR is not bridged to another
/// close: it is reported with the reason and left out of every statistic.
#[test]
fn days_without_a_close_at_either_end_are_reported_as_gaps() {
    let blank = CRASH - 10;
    let history = btc_history(|d, p| (d != blank).then_some(p));
    let backend = CpuBackend::new(None).unwrap();
    // To the last day: its window and the one before it run past the history.
    let b = backtest(
        &runner(&backend),
        &tiny_book(),
        &history,
        &params(blank - 4, DAYS - 1),
    )
    .unwrap();
    let gaps: Vec<(Date, &str)> = b.gaps.iter().map(|g| (g.date, g.reason.as_str())).collect();
    let on = |d: i32| gaps.iter().find(|g| g.0 == day(d)).map(|g| g.1);
    assert_eq!(gaps.len(), 4, "{gaps:?}");
    assert_eq!(
        on(blank - 2),
        Some(&*format!("no close for BTC on {}", day(blank)))
    );
    assert_eq!(
        on(blank),
        Some(&*format!("no close for BTC on {}", day(blank)))
    );
    for d in [DAYS - 2, DAYS - 1] {
        let end = day(d + 2);
        assert_eq!(
            on(d),
            Some(&*format!(
                "{end} (t + 2 days) is past the history's last day"
            ))
        );
    }
    let tested = (blank - 4..DAYS).count() - 4;
    assert_eq!(b.dates.len(), tested);
    assert!(!b.dates.contains(&day(blank)) && !b.dates.contains(&day(blank - 2)));
    for p in &b.portfolios {
        assert_eq!(p.margins.len(), tested);
        assert_eq!(p.losses.len(), tested);
    }
}

/// The margin history (`clearstress procyclicality`) shares the same "as of
/// t" ([`clearstress::analysis::as_of::AsOf`]): under FHS too, its margins on
/// dates up to t* do not change when the history after t* does.
#[test]
fn the_margin_history_does_not_see_the_history_after_its_dates_either() {
    use clearstress::analysis::apc::StressPeriod;
    use clearstress::analysis::margin_history::{margin_history, MarginHistoryParams};
    let t_star = CRASH - 3;
    let history = btc_history(|_, p| Some(p));
    let rewritten = btc_history(|d, p| Some(if d > t_star { p * 1.2 } else { p }));
    let mut fhs = tiny_book();
    fhs.config.scenario.historical = Some(HistoricalConfig {
        lookback_days: 60,
        ..HistoricalConfig::default()
    });
    let params = MarginHistoryParams {
        dates: [t_star - 10, t_star - 1, t_star, CRASH + 2]
            .map(day)
            .to_vec(),
        lookback_days: 90,
        stress: StressPeriod::default(),
        buffer: 0.25,
        stressed_weight: 0.25,
        window_days: 30,
    };
    let backend = CpuBackend::new(None).unwrap();
    let run = |h: &PriceHistory| margin_history(&runner(&backend), &fhs, h, &params).unwrap();
    let (before, after) = (run(&history), run(&rewritten));
    let bits = |rows: &[Vec<f64>]| -> Vec<Vec<u64>> {
        rows.iter()
            .map(|r| r.iter().map(|x| x.to_bits()).collect())
            .collect()
    };
    assert_eq!(
        bits(&before.history.base[..3]),
        bits(&after.history.base[..3])
    );
    assert_ne!(before.history.base[3], after.history.base[3]);
}
