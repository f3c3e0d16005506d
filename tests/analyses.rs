//! Each analysis against what it is defined to compute, through the library
//! API: the procyclicality measures on a hand-made margin series, the buffer
//! applied member by member through history, the stressed market of the APC
//! tools, and the model comparison's columns.

mod common;

use clearstress::analysis::apc::{apc_markets, StressPeriod, MIN_STRESS_RETURNS};
use clearstress::analysis::compare::{compare, ModelMargins};
use clearstress::analysis::margin_history::{margin_history, MarginHistoryParams};
use clearstress::analysis::{AnalysisError, Runner};
use clearstress::backend::CpuBackend;
use clearstress::engine::{self, RunLimits};
use clearstress::history::PriceHistory;
use clearstress::input::Date;
use clearstress::margin::procyclicality::{
    buffered, floored, procyclicality, stressed_weighted, NotMeasurable,
};
use clearstress::snapshot::{HistoricalConfig, Innovations, MarketData, Snapshot};

use common::date;

fn runner(backend: &CpuBackend) -> Runner<'_, CpuBackend> {
    Runner {
        backend,
        limits: RunLimits::default(),
        progress: &|_| {},
    }
}

fn shipped_history() -> PriceHistory {
    PriceHistory::load(&common::machine::daily_closes()).unwrap()
}

// (a) Procyclicality measures.

/// Six margin dates, unevenly spaced, in a series whose largest increase
/// depends on the window: every number below is worked out by hand.
#[test]
fn procyclicality_measures_a_hand_made_series_as_defined() {
    let dates = [
        "2024-01-01",
        "2024-01-03",
        "2024-01-10",
        "2024-01-20",
        "2024-02-05",
        "2024-02-06",
    ]
    .map(date);
    let series = [100.0, 80.0, 130.0, 60.0, 150.0, 240.0];
    let measured = |window| procyclicality(&dates, &series, window).unwrap();

    // Peak 240 (02-06) over trough 60 (01-20), whatever the window.
    assert_eq!(measured(10).peak_to_trough, 4.0);
    assert_eq!(measured(17).peak_to_trough, 4.0);

    // Pairs at most 10 days apart: 01-01 -> 01-03 -20%, 01-01 -> 01-10 +30%,
    // 01-03 -> 01-10 (7 days) 130/80 - 1 = +62.5%, 01-10 -> 01-20 (10 days,
    // on the boundary) -54%, 02-05 -> 02-06 +60%. The largest: 01-03 -> 01-10.
    let p = measured(10);
    assert_eq!(p.largest_increase, 130.0 / 80.0 - 1.0);
    assert_eq!(p.largest_increase, 0.625);
    assert_eq!((p.increase_from, p.increase_to), (dates[1], dates[2]));
    assert_eq!(p.window_days, 10);

    // The window's boundary: 01-20 -> 02-05 is 16 days (150/60 - 1 = +150%)
    // and counts in a 16-day window; 01-20 -> 02-06 is 17 days (+300%) and
    // does not, until the window is 17 days.
    let p = measured(16);
    assert_eq!(p.largest_increase, 1.5);
    assert_eq!((p.increase_from, p.increase_to), (dates[3], dates[4]));
    let p = measured(15);
    assert_eq!(
        p.largest_increase, 0.625,
        "16 days is outside a 15-day window"
    );
    let p = measured(17);
    assert_eq!(p.largest_increase, 3.0);
    assert_eq!((p.increase_from, p.increase_to), (dates[3], dates[5]));

    // Only increases forward in time count: a falling series has none, and a
    // ratio needs every margin above zero.
    let falling = procyclicality(&dates[..3], &[300.0, 200.0, 100.0], 30).unwrap();
    assert_eq!(
        (falling.peak_to_trough, falling.largest_increase),
        (3.0, 0.0)
    );
    assert_eq!(
        procyclicality(&dates[..2], &[100.0, -1.0], 30),
        Err(NotMeasurable::NotPositive {
            date: dates[1],
            margin: -1.0
        })
    );
    assert_eq!(procyclicality(&[], &[], 30), Err(NotMeasurable::Empty));
}

// (b) The buffer, member by member, through history.

/// A hand-made history of two assets: XA moves 5% a day for 200 days and
/// then 0.5%, XB the other way round, with signs that make them uncorrelated
/// (XA alternates, XB alternates in pairs). Written as the CSV the loader reads.
fn regime_switch_history(dir: &std::path::Path) -> (PriceHistory, Vec<Date>) {
    let start = date("2021-01-01");
    let days = 400;
    let (mut xa, mut xb) = (100.0_f64, 100.0_f64);
    let mut csv = String::from("date,XA,XB\n");
    for d in 0..days {
        if d > 0 {
            let (big, small) = (0.05_f64, 0.005_f64);
            let (size_a, size_b) = if d < 200 { (big, small) } else { (small, big) };
            let sign_a: f64 = if d % 2 == 0 { 1.0 } else { -1.0 };
            let sign_b: f64 = if (d / 2) % 2 == 0 { 1.0 } else { -1.0 };
            xa *= (sign_a * size_a).exp();
            xb *= (sign_b * size_b).exp();
        }
        csv.push_str(&format!("{},{xa},{xb}\n", start.add_days(d)));
    }
    let path = dir.join("regimes.csv");
    std::fs::write(&path, csv).unwrap();
    let history = PriceHistory::load(&path).unwrap();
    // The last day of each regime.
    (history, vec![start.add_days(199), start.add_days(399)])
}

/// Member A holds XA, member B holds XB: from the first date to the second
/// A's margin falls and B's rises. The buffer policy buffers each member's
/// own series, so B's rise cannot draw on the buffer A's fall released.
#[test]
fn the_margin_history_buffers_each_members_own_series() {
    use clearstress::snapshot::{InstrumentKind, Settlement};
    let dir = tempfile::tempdir().unwrap();
    let (history, dates) = regime_switch_history(dir.path());
    let assets = vec![
        common::asset("XA", 100.0, 0.5),
        common::asset("XB", 100.0, 0.5),
    ];
    let members = vec![common::member("A", "A"), common::member("B", "B")];
    let mut s = common::market_snapshot(assets, vec![1.0, 0.0, 0.0, 1.0], members);
    let perpetual = InstrumentKind::Perpetual;
    let xa = common::add_instrument(&mut s, "XA-PERP", 0, Settlement::Linear, 1.0, perpetual);
    let xb = common::add_instrument(&mut s, "XB-PERP", 1, Settlement::Linear, 1.0, perpetual);
    common::hold(&mut s, 0, xa, 100.0);
    common::hold(&mut s, 1, xb, 100.0);
    s.config.scenario.paths = 4_000;
    let params = MarginHistoryParams {
        dates: dates.clone(),
        lookback_days: 120,
        stress: StressPeriod::default(),
        buffer: 0.25,
        stressed_weight: 0.25,
        window_days: 365,
    };
    let backend = CpuBackend::new(Some(2)).unwrap();
    let study = margin_history(&runner(&backend), &s, &history, &params).unwrap();

    let base = &study.history.base;
    let member = |m: usize| -> Vec<f64> { base.iter().map(|row| row[m]).collect() };
    let (a, b) = (member(0), member(1));
    assert!(
        a[1] < a[0] / 2.0 && b[1] > 2.0 * b[0],
        "the case needs A's margin to fall and B's to rise: A {a:?}, B {b:?}"
    );

    let policy = study.policies.iter().find(|p| p.id == "buffer").unwrap();
    let (a_buffered, b_buffered) = (buffered(&a, 0.25), buffered(&b, 0.25));
    for t in 0..dates.len() {
        assert_eq!(policy.members[t], vec![a_buffered[t], b_buffered[t]]);
        assert_eq!(policy.total[t], a_buffered[t] + b_buffered[t]);
    }
    // Buffering the book's total instead would keep 25% on the second date
    // (the total barely moves); per member, A's buffer went down with its
    // margin and B's rise used up its own.
    let total: Vec<f64> = (0..dates.len()).map(|t| a[t] + b[t]).collect();
    let of_total = buffered(&total, 0.25);
    assert!(
        policy.total[1] < of_total[1],
        "per member {} vs buffering the total {}",
        policy.total[1],
        of_total[1]
    );
    assert_eq!(policy.total[1], 1.25 * a[1] + b[1]);

    // The calculated policy is the base itself.
    let calculated = study
        .policies
        .iter()
        .find(|p| p.id == "calculated")
        .unwrap();
    assert_eq!(calculated.total, total);
}

// (c) The stressed market of the APC tools.

/// Realised volatility from the closes themselves: the root mean square of
/// the daily log returns dated `from..=to` (consecutive calendar days with
/// both closes), annualised over 365 days.
fn realised_volatility(history: &PriceHistory, asset: &str, from: Date, to: Date) -> (f64, usize) {
    let a = history.asset_index(asset).unwrap();
    let mut squares = Vec::new();
    for t in 1..history.dates.len() {
        let day = history.dates[t];
        let previous = history.dates[t - 1];
        if day < from || day > to || previous.add_days(1) != day {
            continue;
        }
        if let (Some(p0), Some(p1)) = (history.close(t - 1, a), history.close(t, a)) {
            squares.push((p1 / p0).ln().powi(2));
        }
    }
    let n = squares.len();
    ((squares.iter().sum::<f64>() / n as f64 * 365.0).sqrt(), n)
}

fn market_of(ids: &[&str], volatility: f64) -> MarketData {
    let n = ids.len();
    let assets = ids
        .iter()
        .map(|id| common::asset(id, 100.0, volatility))
        .collect();
    let corr = (0..n * n)
        .map(|i| if i / n == i % n { 1.0 } else { 0.5 })
        .collect();
    common::market_snapshot(assets, corr, vec![common::member("A", "A")]).market
}

fn volatility_of(market: &MarketData, id: &str) -> f64 {
    market
        .assets
        .iter()
        .find(|a| a.id == id)
        .unwrap()
        .volatility
}

#[test]
fn the_stressed_market_takes_realised_volatility_over_the_period_up_to_the_date() {
    let history = shipped_history();
    let period = StressPeriod {
        from: date("2022-01-01"),
        to: date("2022-12-31"),
    };
    let close = |a: f64, b: f64| (a - b).abs() <= 1e-12 * b;

    // A date after the period: the whole period. ETH's 10% today is below its
    // realised volatility, BTC's 500% and USDT's 0.01% above and below theirs.
    let mut market = market_of(&["BTC", "ETH", "USDT"], 0.1);
    market.assets[0].volatility = 5.0;
    market.assets[2].volatility = 0.0001;
    let after = apc_markets(&history, &market, date("2023-06-30"), period);
    assert!(after.not_stressed.is_empty(), "{:?}", after.not_stressed);
    for today in &market.assets {
        let (realised, n) = realised_volatility(&history, &today.id, period.from, period.to);
        assert_eq!(n, 365, "{}: every day of 2022 has a return", today.id);
        let expected = today.volatility.max(realised);
        let stressed = volatility_of(&after.stressed, &today.id);
        assert!(
            close(stressed, expected),
            "{}: {stressed} vs {expected}",
            today.id
        );
    }
    assert_eq!(
        volatility_of(&after.stressed, "BTC"),
        5.0,
        "never below today's"
    );
    assert!(volatility_of(&after.stressed, "ETH") > 0.1);
    assert!(volatility_of(&after.stressed, "USDT") > 0.0001);

    // A date inside the period: only the returns up to it.
    let inside_date = date("2022-05-31");
    let inside = apc_markets(&history, &market, inside_date, period);
    let (to_date, n) = realised_volatility(&history, "ETH", period.from, inside_date);
    let (whole, _) = realised_volatility(&history, "ETH", period.from, period.to);
    assert_eq!(n, 151);
    let stressed = volatility_of(&inside.stressed, "ETH");
    assert!(close(stressed, to_date), "{stressed} vs {to_date}");
    assert!(
        (to_date - whole).abs() > 0.01,
        "a weak test: the part before the date ({to_date}) is like the whole year ({whole})"
    );
}

/// SOL's history starts 2020-04-10: a period ending 2020-04-29 holds 19 of
/// its returns, one ending 2020-04-30 holds 20, the least a stressed
/// volatility is computed from.
#[test]
fn an_asset_with_too_few_returns_in_the_period_keeps_todays_volatility() {
    assert_eq!(MIN_STRESS_RETURNS, 20);
    let history = shipped_history();
    let market = market_of(&["BTC", "SOL"], 0.05);
    let on = date("2020-06-30");
    let period = |to| StressPeriod {
        from: date("2020-03-01"),
        to: date(to),
    };

    let short = apc_markets(&history, &market, on, period("2020-04-29"));
    let (_, n) = realised_volatility(&history, "SOL", date("2020-03-01"), date("2020-04-29"));
    assert_eq!(n, 19);
    assert_eq!(short.not_stressed, ["SOL"]);
    assert_eq!(volatility_of(&short.stressed, "SOL"), 0.05);
    assert!(
        volatility_of(&short.stressed, "BTC") > 0.05,
        "BTC is stressed"
    );

    let enough = apc_markets(&history, &market, on, period("2020-04-30"));
    let (realised, n) =
        realised_volatility(&history, "SOL", date("2020-03-01"), date("2020-04-30"));
    assert_eq!(n, 20);
    assert!(enough.not_stressed.is_empty(), "{:?}", enough.not_stressed);
    let stressed = volatility_of(&enough.stressed, "SOL");
    assert!(
        (stressed - realised).abs() <= 1e-12 * realised,
        "{stressed} vs {realised}"
    );

    // A margin date 10 days into the period: too few returns for any asset.
    let early = apc_markets(&history, &market, date("2020-03-10"), period("2020-04-30"));
    assert_eq!(early.not_stressed, ["BTC", "SOL"]);
    assert_eq!(early.stressed.assets, market.assets);
}

// (d) The model comparison.

fn names(models: &[ModelMargins]) -> Vec<&str> {
    models.iter().map(|m| m.name.as_str()).collect()
}

fn bits(margins: &[f64]) -> Vec<u64> {
    margins.iter().map(|m| m.to_bits()).collect()
}

/// The configured model's own run, straight through the engine.
fn direct(backend: &CpuBackend, s: &Snapshot) -> Vec<f64> {
    engine::run(backend, s, RunLimits::default(), &|_| {})
        .unwrap()
        .margin
        .initial_margins()
}

#[test]
fn compare_has_one_column_per_model_in_order_and_the_gaussian_is_the_engines() {
    let backend = CpuBackend::new(Some(2)).unwrap();
    let mut s = common::real_asset_book(4_000);
    s.config.scenario.innovations = Innovations::StudentT;
    let c = compare(&runner(&backend), &s, None, StressPeriod::default()).unwrap();
    assert_eq!(
        names(&c.models),
        [
            "gaussian",
            "student_t_4",
            "student_t_4_jumps_3_per_year",
            "nig_0.7",
            "nig_0.7_jumps_3_per_year"
        ]
    );
    assert!(c.not_computed.is_empty());
    let mut gaussian = s.clone();
    gaussian.config.scenario.innovations = Innovations::Gaussian;
    assert_eq!(
        bits(&c.models[0].margins),
        bits(&direct(&backend, &gaussian))
    );
    let student_t = direct(&backend, &s);
    assert_eq!(bits(&c.models[1].margins), bits(&student_t));
    // Every column is a margin per member, and fat tails and jumps change it.
    for m in &c.models {
        assert_eq!(m.margins.len(), 2, "{}", m.name);
        assert!(m.margins.iter().all(|&x| x > 0.0), "{}", m.name);
    }
    assert_ne!(bits(&c.models[1].margins), bits(&c.models[2].margins));
}

#[test]
fn with_a_history_compare_adds_fhs_the_configured_model_and_its_apc_tools() {
    let backend = CpuBackend::new(Some(2)).unwrap();
    let history = shipped_history();
    let source = common::machine::daily_closes().display().to_string();
    let s = common::real_asset_book(4_000);
    let with_history = |s: &Snapshot| {
        let history = Some((source.as_str(), &history));
        compare(&runner(&backend), s, history, StressPeriod::default()).unwrap()
    };
    let c = with_history(&s);
    assert_eq!(
        names(&c.models)[5..],
        [
            "fhs",
            "configured",
            "apc_buffer_25",
            "apc_stressed_weight_25",
            "apc_floor_10y"
        ]
    );
    assert!(c.not_computed.is_empty(), "{:?}", c.not_computed);
    let configured = direct(&backend, &s);
    let column = |name: &str| &c.models.iter().find(|m| m.name == name).unwrap().margins;
    assert_eq!(bits(column("configured")), bits(&configured));
    // The configured model is the Gaussian: the same column twice.
    assert_eq!(bits(column("gaussian")), bits(&configured));
    let buffered: Vec<f64> = configured.iter().map(|m| 1.25 * m).collect();
    assert_eq!(bits(column("apc_buffer_25")), bits(&buffered));
    // The stressed-weight and floor columns: the configured margins with the
    // margins under apc_markets' stressed and floor markets of the valuation date.
    let markets = apc_markets(
        &history,
        &s.market,
        s.valuation_date,
        StressPeriod::default(),
    );
    let on = |market: MarketData| {
        let mut other = s.clone();
        other.market = market;
        direct(&backend, &other)
    };
    let weighted = stressed_weighted(&configured, &on(markets.stressed), 0.25);
    assert_eq!(bits(column("apc_stressed_weight_25")), bits(&weighted));
    let floor = floored(&configured, &on(markets.floor));
    assert_eq!(bits(column("apc_floor_10y")), bits(&floor));
    assert_ne!(weighted, configured, "a weak test: 2022 changed no margin");

    // A book configured for FHS: the tools that act on the market's
    // volatilities are not computed, and say why.
    let mut fhs = s.clone();
    fhs.config.scenario.historical = Some(HistoricalConfig {
        history: source.clone(),
        ..HistoricalConfig::default()
    });
    fhs.history = Some(history.clone());
    let c = with_history(&fhs);
    assert_eq!(
        names(&c.models)[5..],
        ["fhs", "configured", "apc_buffer_25"]
    );
    let left_out: Vec<&str> = c.not_computed.iter().map(|(n, _)| n.as_str()).collect();
    assert_eq!(left_out, ["apc_stressed_weight_25", "apc_floor_10y"]);
    let why = AnalysisError::ApcUnderFhs {
        tool: clearstress::margin::procyclicality::ApcTool::Floor,
    }
    .to_string();
    assert_eq!(c.not_computed[1].1, why);
    assert_eq!(
        bits(column_of(&c.models, "configured")),
        bits(column_of(&c.models, "fhs"))
    );
}

fn column_of<'a>(models: &'a [ModelMargins], name: &str) -> &'a [f64] {
    &models.iter().find(|m| m.name == name).unwrap().margins
}
