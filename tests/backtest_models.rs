//! `clearstress backtest --model`: several margin models backtested on the
//! same days and portfolios (methodology, section 12b). Each model's rows are
//! those it has backtested alone, bit for bit; the names follow one small
//! grammar and an unknown one is refused with the accepted names; the APC
//! tools act on each portfolio's series as the margin history's do; and the
//! comparison's average margin and peak-to-trough are checked by hand.

mod common;

use clearstress::analysis::backtest::{
    backtest_models, peak_to_trough, summarise, Backtest, BacktestError, BacktestModel,
    BacktestParams, ModelSet, Portfolio, PortfolioKind, Portfolios, Scenarios, AGGREGATE_ID,
};
use clearstress::analysis::compare::ModelVariant;
use clearstress::analysis::AnalysisError;
use clearstress::backend::CpuBackend;
use clearstress::calibrate::CorrelationModel;
use clearstress::history::PriceHistory;
use clearstress::margin::procyclicality::{buffered, ApcTool};
use clearstress::snapshot::{MarginMeasure, Snapshot};

use common::backtest::{day, linear_perpetual, params, price_history, runner};
use common::{asset, hold, market_snapshot, member};

/// BTC and ETH closes over 120 days from day 0 ([`day`]): moves of 1-3% that
/// change sign on different days, and a 15% fall of both on day 110.
fn history() -> PriceHistory {
    let mut rows = Vec::new();
    let mut prices = [100.0_f64, 10.0];
    for d in 0..120 {
        if d > 0 {
            for (a, p) in prices.iter_mut().enumerate() {
                let step = if d == 110 {
                    0.85_f64.ln()
                } else {
                    0.01 * (1.0 + 2.0 * a as f64) * if (d + a as i32) % 3 == 0 { -1.5 } else { 1.0 }
                };
                *p *= step.exp();
            }
        }
        rows.push((day(d), format!("{},{}", prices[0], prices[1])));
    }
    price_history("h.csv", "BTC,ETH", rows)
}

/// Member A long 10 BTC, B short 50 ETH and long 2 BTC, in one group; a
/// 2-day MPOR, ES 99% on 2,000 Student-t paths.
fn book() -> Snapshot {
    let mut s = market_snapshot(
        vec![asset("BTC", 100.0, 0.5), asset("ETH", 10.0, 0.7)],
        vec![1.0, 0.8, 0.8, 1.0],
        vec![member("A", "G"), member("B", "G")],
    );
    s.config.scenario.paths = 2_000;
    s.config.scenario.innovations = clearstress::snapshot::Innovations::StudentT;
    s.config.risk.margin_period_days = 2.0;
    s.config.risk.margin_measure = MarginMeasure::ExpectedShortfall;
    s.config.risk.margin_confidence = 0.99;
    let btc = linear_perpetual(&mut s, "BTC-PERP", 0);
    let eth = linear_perpetual(&mut s, "ETH-PERP", 1);
    hold(&mut s, 0, btc, 10.0);
    hold(&mut s, 1, eth, -50.0);
    hold(&mut s, 1, btc, 2.0);
    s
}

fn run(models: &[&str]) -> Result<Vec<Backtest>, AnalysisError> {
    let backend = CpuBackend::new(None).unwrap();
    let params = BacktestParams {
        portfolios: Portfolios::Both,
        z2_simulations: 100,
        ..params(day(100), day(115))
    };
    let set = ModelSet {
        models: models
            .iter()
            .map(|m| BacktestModel::parse(m).unwrap())
            .collect(),
        ..ModelSet::configured()
    };
    backtest_models(&runner(&backend), &book(), &history(), &params, &set)
}

fn bits(v: &[f64]) -> Vec<u64> {
    v.iter().map(|x| x.to_bits()).collect()
}

#[test]
fn each_models_rows_are_those_it_has_backtested_alone() {
    let models = ["configured", "gaussian+corr_ewma", "nig_jumps+apc_floor"];
    let together = run(&models).unwrap();
    assert_eq!(together.len(), 3);
    for (m, name) in models.iter().enumerate() {
        let alone = run(&[name]).unwrap().remove(0);
        let with_others = &together[m];
        assert_eq!(with_others.model, *name);
        assert_eq!(with_others.dates, alone.dates);
        assert_eq!(with_others.portfolios.len(), alone.portfolios.len());
        for (p, q) in with_others.portfolios.iter().zip(&alone.portfolios) {
            assert_eq!((&p.id, p.kind), (&q.id, q.kind));
            assert_eq!(bits(&p.margins), bits(&q.margins), "{name} {}", p.id);
            assert_eq!(bits(&p.losses), bits(&q.losses), "{name} {}", p.id);
            assert_eq!(p.simulated, q.simulated, "{name} {}", p.id);
        }
        assert_eq!(summarise(with_others).unwrap(), summarise(&alone).unwrap());
    }
    // The same realised losses under every model, different margins.
    let (a, b) = (&together[0].portfolios[0], &together[1].portfolios[0]);
    assert_eq!(bits(&a.losses), bits(&b.losses));
    assert_ne!(a.margins, b.margins);
}

#[test]
fn the_apc_tools_act_on_each_portfolios_series_of_days() {
    let r = run(&[
        "configured",
        "configured+apc_buffer",
        "configured+apc_floor",
    ])
    .unwrap();
    let (base, buffer, floor) = (&r[0], &r[1], &r[2]);
    let groups = |b: &Backtest| -> Vec<Portfolio> {
        b.portfolios
            .iter()
            .filter(|p| p.kind == PortfolioKind::Group)
            .cloned()
            .collect()
    };
    for (p, q) in base.portfolios.iter().zip(&buffer.portfolios) {
        if p.kind == PortfolioKind::Group {
            continue;
        }
        // A 25% buffer released along the portfolio's own days (12.3).
        assert_eq!(
            bits(&q.margins),
            bits(&buffered(&p.margins, ApcTool::SHARE)),
            "{}",
            p.id
        );
        // The margin is no longer the model's ES: no Z2.
        assert!(q.var.is_none() && q.simulated.is_none());
    }
    // A group's margin is the sum of its members' margins under the tool.
    let g = &groups(buffer)[0];
    let members: Vec<&Portfolio> = buffer
        .portfolios
        .iter()
        .filter(|p| p.kind == PortfolioKind::MemberWithCollateral)
        .collect();
    for t in 0..g.margins.len() {
        assert_eq!(g.margins[t], members[0].margins[t] + members[1].margins[t]);
    }
    // The floor never lowers a margin.
    for (p, q) in base.portfolios.iter().zip(&floor.portfolios) {
        assert!(
            p.margins.iter().zip(&q.margins).all(|(b, f)| f >= b),
            "{}",
            p.id
        );
    }
    assert_eq!(groups(base).len(), 1);
}

#[test]
fn model_names_follow_one_grammar() {
    let parsed =
        BacktestModel::parse("student_t_jumps+corr_ledoit_wolf+apc_stressed_weight").unwrap();
    assert_eq!(
        parsed,
        BacktestModel {
            scenarios: Scenarios::Variant(ModelVariant::StudentTJumps),
            correlation: Some(CorrelationModel::LedoitWolf),
            apc: Some(ApcTool::StressedWeight),
        }
    );
    // Modifiers in either order; the name puts them in the grammar's.
    let swapped = BacktestModel::parse("student_t_jumps+apc_stressed_weight+corr_ledoit_wolf");
    assert_eq!(
        swapped.unwrap().name(),
        "student_t_jumps+corr_ledoit_wolf+apc_stressed_weight"
    );
    assert_eq!(
        BacktestModel::parse("configured").unwrap(),
        BacktestModel::CONFIGURED
    );
    // Every scenario model is compare's column without its parameters.
    for v in ModelVariant::ALL {
        assert_eq!(BacktestModel::parse(v.key()).unwrap().name(), v.key());
        assert!(v
            .column(&book())
            .starts_with(v.key().trim_end_matches("_jumps")));
    }
    for (bad, why) in [
        ("garch", "unknown model `garch`"),
        ("gaussian+corr_kendall", "unknown modifier `corr_kendall`"),
        ("gaussian+corr_ewma+corr_sample", "one correlation at most"),
        ("gaussian+apc_buffer+apc_floor", "one APC tool at most"),
        ("", "unknown model ``"),
    ] {
        let e = BacktestModel::parse(bad).unwrap_err();
        assert!(e.contains(why), "{bad}: {e}");
        assert!(
            e.contains("configured|gaussian|student_t|student_t_jumps|nig|nig_jumps|fhs"),
            "{e}"
        );
        assert!(
            e.contains("apc_buffer|apc_stressed_weight|apc_floor"),
            "{e}"
        );
    }
}

#[test]
fn filtered_historical_simulation_takes_no_correlation_and_no_market_tool() {
    let e = run(&["fhs+corr_ewma"]).unwrap_err();
    assert!(
        matches!(e, AnalysisError::Backtest(BacktestError::CorrelationUnderFhs(ref m)) if m == "fhs+corr_ewma"),
        "{e}"
    );
    let e = run(&["fhs+apc_floor"]).unwrap_err();
    assert!(
        matches!(
            e,
            AnalysisError::ApcUnderFhs {
                tool: ApcTool::Floor
            }
        ),
        "{e}"
    );
    // The buffer acts on the margins alone: FHS takes it.
    assert_eq!(run(&["fhs+apc_buffer"]).unwrap()[0].model, "fhs+apc_buffer");
}

/// The comparison's average margin and peak-to-trough on a hand-made
/// backtest: two members over four days.
#[test]
fn average_margin_and_peak_to_trough_by_hand() {
    // Falls from the running peak: 100 -> 80 is 20%, then 120 -> 60 is 50%.
    assert_eq!(peak_to_trough(&[100.0, 80.0, 120.0, 60.0]), 0.5);
    assert_eq!(peak_to_trough(&[1.0, 2.0, 3.0]), 0.0);
    assert_eq!(peak_to_trough(&[0.0, 0.0]), 0.0);
    let member = |id: &str, margins: [f64; 4]| Portfolio {
        id: id.into(),
        kind: PortfolioKind::Member,
        margins: margins.to_vec(),
        losses: vec![0.0, 0.0, 50.0, 0.0],
        var: None,
        simulated: None,
    };
    let b = Backtest {
        model: "configured".into(),
        dates: (0..4).map(day).collect(),
        mpor_days: 1,
        measure: MarginMeasure::ValueAtRisk,
        confidence: 0.99,
        portfolios: vec![
            member("A", [100.0, 80.0, 120.0, 60.0]),
            member("B", [10.0, 40.0, 20.0, 30.0]),
        ],
        gaps: Vec::new(),
        test_set: None,
        implied_vols: Default::default(),
    };
    let s = summarise(&b).unwrap();
    let row = |id: &str| s.iter().find(|r| r.id == id).unwrap();
    assert_eq!(row("A").average_margin, 90.0);
    assert_eq!(row("A").margin_peak_to_trough, 0.5);
    assert_eq!(row("B").average_margin, 25.0);
    // 40 -> 20.
    assert_eq!(row("B").margin_peak_to_trough, 0.5);
    // Pooled: the summed margin 110, 120, 140, 90: mean over the 8
    // (portfolio, day) pairs 460 / 8; the largest fall 140 -> 90.
    let pooled = row(AGGREGATE_ID);
    assert_eq!(pooled.average_margin, 460.0 / 8.0);
    assert_eq!(pooled.margin_peak_to_trough, 1.0 - 90.0 / 140.0);
    // B's loss of 50 on day 2 exceeds its margin of 20; A's does not.
    assert_eq!(pooled.all_days.coverage.exceptions, 1);
}
