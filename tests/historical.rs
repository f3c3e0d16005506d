//! Filtered historical simulation: a scenario is whole historical days,
//! rescaled by today's volatility; scenario n depends only on (seed, n).

mod common;

use clearstress::analysis::Runner;
use clearstress::backend::CpuBackend;
use clearstress::calibrate::Ewma;
use clearstress::engine::{self, RunLimits};
use clearstress::history::PriceHistory;
use clearstress::scenario::{FilteredHistory, ScenarioModel, Scratch};
use clearstress::snapshot::{HistoricalConfig, InstrumentKind, Settlement, Snapshot};

fn history() -> PriceHistory {
    PriceHistory::load(&common::machine::daily_closes()).unwrap()
}

/// BTC, ETH and USDT at their 2025-02-20 closes; member A long 10 BTC of
/// linear perpetual, member B short 200 ETH.
fn book(horizon_days: f64) -> Snapshot {
    let assets = vec![
        common::asset("BTC", 97_600.0, 0.5),
        common::asset("ETH", 2_700.0, 0.7),
        common::asset("USDT", 1.0, 0.01),
    ];
    let corr = vec![1.0, 0.8, 0.1, 0.8, 1.0, 0.1, 0.1, 0.1, 1.0];
    let members = vec![common::member("A", "A"), common::member("B", "B")];
    let mut s = common::market_snapshot(assets, corr, members);
    let btc = common::add_instrument(
        &mut s,
        "BTC-PERP",
        0,
        Settlement::Linear,
        1.0,
        InstrumentKind::Perpetual,
    );
    let eth = common::add_instrument(
        &mut s,
        "ETH-PERP",
        1,
        Settlement::Linear,
        1.0,
        InstrumentKind::Perpetual,
    );
    common::hold(&mut s, 0, btc, 10.0);
    common::hold(&mut s, 1, eth, -200.0);
    s.config.risk.margin_period_days = horizon_days;
    s.config.scenario.historical = Some(HistoricalConfig {
        history: "data/daily_close_usd.csv".into(),
        ..HistoricalConfig::default()
    });
    s.history = Some(history());
    s
}

fn model(s: &Snapshot) -> ScenarioModel {
    let book = clearstress::book::CompiledBook::compile(s).unwrap();
    engine::scenario_model(s, &book).unwrap()
}

#[test]
fn a_one_day_scenario_is_a_whole_historical_day_rescaled_by_todays_volatility() {
    let s = book(1.0);
    let m = model(&s);
    let fh = m.historical().unwrap();
    assert_eq!(fh.horizon_days, 1);
    // 3 years up to the valuation date 2025-02-20, every asset present.
    assert!((1_000..=1_096).contains(&fh.days()), "{} days", fh.days());
    let h = s.history.as_ref().unwrap();
    let r = h.returns();
    let ewma = Ewma::new(0.94).unwrap();
    let (mut returns, mut vols, mut scratch) = (vec![0.0; 3], vec![0.0; 3], Scratch::default());
    for n in [0_u64, 1, 17, 123_456_789] {
        m.draw(n, &mut scratch, &mut returns, &mut vols);
        let d = fh.day(&m.rng(), n, 0);
        let day = fh.dates[d];
        let t = r.dates.iter().position(|&x| x == day).unwrap();
        for (a, id) in ["BTC", "ETH", "USDT"].iter().enumerate() {
            // The same day for every asset: its move, devolatilised by the
            // forecast of that morning, times today's forecast.
            let column = h.asset_index(id).unwrap();
            let series: Vec<f64> = (0..r.len())
                .map(|u| r.get(u, column))
                .filter(|x| !x.is_nan())
                .collect();
            let position = (0..=t).filter(|&u| !r.get(u, column).is_nan()).count() - 1;
            let path = ewma.variances(&series[..position]).unwrap();
            let that_morning = path[path.len() - 1].sqrt();
            let today = fh.current_volatility[a];
            let expected = (today * r.get(t, column) / that_morning).exp_m1();
            assert!(
                (returns[a] - expected).abs() <= 1e-15 * (1.0 + expected.abs()),
                "scenario {n}, {id} on {day}: {} vs {expected}",
                returns[a]
            );
        }
    }
}

#[test]
fn fhs_margins_are_bit_identical_across_threads_and_blocks() {
    let mut s = book(2.0);
    s.config.scenario.paths = 30_000;
    let bits = |threads: usize, block: usize| {
        let mut s = s.clone();
        s.config.scenario.block_size = block;
        let r = engine::run(
            &CpuBackend::new(Some(threads)).unwrap(),
            &s,
            RunLimits::default(),
            &|_| {},
        )
        .unwrap();
        common::parity::margin_bits(&r)
    };
    let reference = bits(1, 4096);
    assert_eq!(bits(2, 333), reference);
    assert_eq!(bits(2, 20_000), reference);
}

/// One day, a long BTC position: the loss distribution over scenarios is the
/// rescaled history's, so the 99% VaR is its 1% quantile up to sampling error
/// (binomial: the VaR's rank among 200,000 draws stays within 4 standard
/// deviations of the quantile's rank among the days).
#[test]
fn one_day_fhs_var_is_the_rescaled_historical_quantile() {
    let mut s = book(1.0);
    s.config.scenario.paths = 200_000;
    s.config.risk.var_confidence = vec![0.99];
    let r = engine::run(
        &CpuBackend::new(None).unwrap(),
        &s,
        RunLimits::default(),
        &|_| {},
    )
    .unwrap();
    let m = model(&s);
    let fh = m.historical().unwrap();
    let mut losses: Vec<f64> = (0..fh.days())
        .map(|d| -10.0 * 97_600.0 * fh.moves_of(d)[0].exp_m1())
        .collect();
    losses.sort_by(|a, b| b.total_cmp(a));
    let var = r.margin.members[0]
        .measures
        .iter()
        .find(|x| x.confidence == 0.99)
        .unwrap()
        .var;
    let rank = losses.partition_point(|&l| l > var) as f64 / fh.days() as f64;
    let sd = (0.01 * 0.99 / 200_000.0_f64).sqrt();
    assert!(
        (rank - 0.01).abs() <= 4.0 * sd + 1.0 / fh.days() as f64,
        "VaR {var} sits at rank {rank}"
    );
}

#[test]
fn fhs_needs_every_assets_history() {
    let mut s = book(1.0);
    s.market.assets[2].id = "SYN01".into();
    let err = FilteredHistory::new(
        s.history.as_ref().unwrap(),
        &s.market,
        s.valuation_date,
        s.config.scenario.historical.as_ref().unwrap(),
        1.0,
    )
    .unwrap_err();
    assert!(
        err.to_string()
            .contains("`SYN01` has no column in the history"),
        "{err}"
    );
}

fn worst_windows(
    s: &Snapshot,
    h: &PriceHistory,
    days: u32,
    top: usize,
) -> Vec<clearstress::analysis::worst_window::WindowLoss> {
    let backend = CpuBackend::new(None).unwrap();
    clearstress::analysis::worst_window::worst_windows(&runner(&backend), s, h, days, top)
        .unwrap()
        .worst
}

fn runner(backend: &CpuBackend) -> Runner<'_, CpuBackend> {
    Runner {
        backend,
        limits: RunLimits::default(),
        progress: &|_| {},
    }
}

/// The worst window by Cover-2 is the one where member A's long BTC and
/// member B's short ETH lose most together (no collateral: all is uncovered),
/// computed here straight from the closes of BTC and ETH alone: the market's
/// other assets, which the book does not hold, restrict no window (USDT's
/// closes, for one, start in 2017 and stop in February 2025).
#[test]
fn the_worst_window_search_finds_the_books_worst_historical_move() {
    let s = book(1.0);
    let h = history();
    let days = 7;
    let worst = worst_windows(&s, &h, days, 3);
    let (btc, eth) = (h.asset_index("BTC").unwrap(), h.asset_index("ETH").unwrap());
    let mut best = (f64::NEG_INFINITY, String::new());
    for d0 in 0..h.dates.len() {
        let end = h.dates[d0].add_days(days as i32);
        let Ok(d1) = h.dates.binary_search(&end) else {
            continue;
        };
        let (Some(b0), Some(b1), Some(e0), Some(e1)) = (
            h.close(d0, btc),
            h.close(d1, btc),
            h.close(d0, eth),
            h.close(d1, eth),
        ) else {
            continue;
        };
        let a = (-10.0 * 97_600.0 * (b1 / b0 - 1.0)).max(0.0);
        let b = (200.0 * 2_700.0 * (e1 / e0 - 1.0)).max(0.0);
        if a + b > best.0 {
            best = (
                a + b,
                format!("{}..{end} ({days} days)", h.dates[d0].add_days(1)),
            );
        }
    }
    assert_eq!(worst[0].window.scenario.name, best.1);
    assert!(
        (worst[0].cover_n - best.0).abs() <= 1e-6 * best.0,
        "{} vs {}",
        worst[0].cover_n,
        best.0
    );
    assert!(worst[0].cover_n >= worst[1].cover_n && worst[1].cover_n >= worst[2].cover_n);
    // Distinct episodes: no listed window overlaps another.
    for (i, a) in worst.iter().enumerate() {
        for b in &worst[i + 1..] {
            assert!(
                !a.window.overlaps(&b.window),
                "{} overlaps {}",
                a.window.scenario.name,
                b.window.scenario.name
            );
        }
    }
    // The worst window, 2020-03-06..12, predates SOL's first close: a market
    // that also lists SOL, unheld, finds the same windows.
    assert_eq!(best.1, "2020-03-06..2020-03-12 (7 days)");
    let mut with_sol = s.clone();
    with_sol.market.assets[2].id = "SOL".into();
    let again = worst_windows(&with_sol, &h, days, 3);
    assert_eq!(again[0].window.scenario.name, worst[0].window.scenario.name);
    assert_eq!(again[0].cover_n, worst[0].cover_n);
}

/// EMIR's APC tools on a run: the buffer is exactly 25% on top, the floor
/// never lowers a margin, the stressed weight is 3/4 calculated plus 1/4
/// stressed (at least the calculated, since peak volatilities are no lower),
/// and the tools that need history say so without one.
#[test]
fn apc_tools_adjust_the_runs_margins_as_emir_describes() {
    use clearstress::analysis::apc::{apply_apc, StressPeriod};
    use clearstress::margin::procyclicality::ApcTool;
    let mut s = book(2.0);
    s.config.scenario.historical = None;
    s.config.scenario.paths = 20_000;
    let cpu = CpuBackend::new(None).unwrap();
    let base = engine::run(&cpu, &s, RunLimits::default(), &|_| {}).unwrap();
    let im = |r: &engine::RunResult| -> Vec<f64> {
        r.margin.members.iter().map(|m| m.initial_margin).collect()
    };
    let h = history();
    for tool in [ApcTool::Buffer, ApcTool::Floor, ApcTool::StressedWeight] {
        let mut r = base.clone();
        apply_apc(
            &runner(&cpu),
            &s,
            &mut r,
            tool,
            Some(&h),
            StressPeriod::default(),
        )
        .unwrap();
        assert_eq!(r.margin.apc.as_ref().map(|a| a.tool), Some(tool));
        for (m, (after, before)) in im(&r).iter().zip(im(&base)).enumerate() {
            match tool {
                ApcTool::Buffer => assert_eq!(*after, 1.25 * before),
                _ => assert!(*after >= before, "{tool:?} member {m}: {after} < {before}"),
            }
            assert_eq!(
                r.margin.members[m].excess,
                r.margin.members[m].collateral - after
            );
        }
    }
    let mut r = base.clone();
    let err = apply_apc(
        &runner(&cpu),
        &s,
        &mut r,
        ApcTool::Floor,
        None,
        StressPeriod::default(),
    )
    .unwrap_err();
    assert!(err.to_string().contains("needs a price history"), "{err}");
}

/// Filtered historical simulation rescales history by its own EWMA
/// volatilities and never reads the market's, so the stressed-weight and
/// floor tools, which act on the market's volatilities, would leave its
/// margins unchanged: they are refused, saying why; the buffer applies.
#[test]
fn apc_tools_that_act_on_volatilities_are_refused_under_fhs() {
    use clearstress::analysis::apc::{apply_apc, StressPeriod};
    use clearstress::analysis::AnalysisError;
    use clearstress::margin::procyclicality::ApcTool;
    let mut s = book(2.0);
    s.config.scenario.paths = 20_000;
    assert!(s.config.scenario.historical.is_some());
    let cpu = CpuBackend::new(None).unwrap();
    let base = engine::run(&cpu, &s, RunLimits::default(), &|_| {}).unwrap();
    let h = history();
    for tool in [ApcTool::StressedWeight, ApcTool::Floor] {
        let mut r = base.clone();
        let err = apply_apc(
            &runner(&cpu),
            &s,
            &mut r,
            tool,
            Some(&h),
            StressPeriod::default(),
        )
        .unwrap_err();
        assert!(matches!(err, AnalysisError::ApcUnderFhs { .. }), "{err}");
        assert!(
            err.to_string()
                .contains("filtered historical simulation does not use"),
            "{err}"
        );
        assert_eq!(
            r.margin.members, base.margin.members,
            "{tool:?} changed the margins before refusing"
        );
    }
    let mut r = base.clone();
    apply_apc(
        &runner(&cpu),
        &s,
        &mut r,
        ApcTool::Buffer,
        Some(&h),
        StressPeriod::default(),
    )
    .unwrap();
    assert_eq!(
        r.margin.members[0].initial_margin,
        1.25 * base.margin.members[0].initial_margin
    );
}
