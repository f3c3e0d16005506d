//! Coverage checks through the whole backtest (issue 13; methodology, 12b):
//! `backtest` run day by day on price histories simulated in this file, so
//! that the truth the margins are judged against is known.
//!
//! - **The model itself.** The margin model of a one-asset linear book under
//!   Gaussian innovations is: the daily log return is
//!   `-v/2 + sqrt(v) e`, `e ~ N(0, 1)`, where `v` is the EWMA variance
//!   calibrated on the returns up to the day (methodology 11.2, `lambda =
//!   0.94`). A history drawn from exactly that is RiskMetrics' own model, an
//!   IGARCH(1,1) without intercept: `v_{t+1} = lambda v_t + (1 - lambda)
//!   r_t^2` (RiskMetrics Technical Document, 1996, section 5.2). On it each
//!   day's VaR 99% is the true conditional quantile, up to the Monte Carlo
//!   error of the VaR (the same draws every day), so the exceptions are
//!   independent Bernoulli(p) days with `p` 1% within that error and the
//!   count is Binomial(n, p). A constant true volatility would not do: the
//!   EWMA's estimation noise (an effective sample of about 30 days) then
//!   raises the exception rate to about 1.3%, and the coverage tests would
//!   reject a model that is working as designed.
//! - **Volatility doubling halfway.** The EWMA adapts within weeks: a single
//!   doubling costs about one exception in expectation, and no test on 500
//!   days can see it (shown below from the margins themselves). A slow
//!   calibration (`lambda = 0.999`) under-estimates the risk for most of a
//!   year after it, and is caught.
//!
//! The rates quoted (1%, 1.3%, one more exception) are simulated over 2,000
//! histories by `data/backtest_coverage_reference.py`.
//!
//! The simulations are pure functions of a fixed seed (splitmix64 and
//! Box-Muller, below). MPOR 1 day, so that successive windows share no day
//! and every observed day is in the non-overlapping subsample.

mod common;

use clearstress::analysis::backtest::{
    backtest, kupiec_pof, summarise, traffic_light, Backtest, BacktestParams, Confidence,
    ExceptionCount, PortfolioKind, PortfolioSummary, Zone, Z2,
};
use clearstress::backend::CpuBackend;
use clearstress::history::PriceHistory;
use clearstress::input::Date;
use clearstress::snapshot::{MarginMeasure, Snapshot};
use statrs::distribution::{Binomial, ContinuousCDF, DiscreteCDF, Normal};

use common::backtest::{btc_perpetual_book, day_from, params, price_history, runner};

/// Sebastiano Vigna's splitmix64: a small, well-mixed generator, enough for
/// a test's simulated history (the engine's own draws are Philox).
struct SplitMix64(u64);

impl SplitMix64 {
    fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }

    /// Uniform on (0, 1): the top 53 bits, centred in their interval.
    fn uniform(&mut self) -> f64 {
        ((self.next() >> 11) as f64 + 0.5) / (1u64 << 53) as f64
    }

    /// A standard normal by Box-Muller (the cosine branch only: one normal
    /// per two uniforms keeps the stream simple).
    fn normal(&mut self) -> f64 {
        let (u1, u2) = (self.uniform(), self.uniform());
        (-2.0 * u1.ln()).sqrt() * (std::f64::consts::TAU * u2).cos()
    }
}

const FIRST: &str = "2020-01-01";
const SEED: u64 = 13;
const LAMBDA: f64 = 0.94;
/// Calendar days of each date's calibration window; the first tested day
/// has a full one.
const LOOKBACK: u32 = 365;
const WARM_UP: usize = 400;
const PATHS: u64 = 100_000;
const CONFIDENCE: f64 = 0.99;
/// Units of BTC each member holds in the linear perpetual (A long, B short),
/// at the snapshot's spot of 100: a notional of 1,000.
const UNITS: f64 = 10.0;
const SPOT: f64 = 100.0;

/// Day `d` of a simulated history: they start on [`FIRST`], 2020-01-01.
fn day(d: usize) -> Date {
    day_from(FIRST, d)
}

/// How the true daily variance of the return ending on day `d` is set.
enum TrueVariance {
    /// RiskMetrics' IGARCH: `v_1` given, then `v_{d+1} = lambda v_d +
    /// (1 - lambda) r_d^2` on the log returns as stored.
    Ewma { first: f64 },
    /// `daily^2` before day `from`, `(2 daily)^2` from it on.
    DoublesOn { daily: f64, from: usize },
}

/// A simulated history of `days` closes and the true variance of each day's
/// return (`variances[d]` for the return ending on day `d`; entry 0 unused).
struct Simulated {
    history: PriceHistory,
    closes: Vec<f64>,
    variances: Vec<f64>,
}

/// Closes from 100 with log returns `-v_d/2 + sqrt(v_d) e_d`: prices are
/// martingales, as the model's are (methodology 4.2).
fn simulate(days: usize, truth: TrueVariance) -> Simulated {
    let mut rng = SplitMix64(SEED);
    let mut closes = vec![100.0_f64];
    let mut variances = vec![f64::NAN];
    for d in 1..days {
        let v = match truth {
            TrueVariance::Ewma { first } => match d {
                1 => first,
                _ => {
                    let r = (closes[d - 1] / closes[d - 2]).ln();
                    LAMBDA * variances[d - 1] + (1.0 - LAMBDA) * r * r
                }
            },
            TrueVariance::DoublesOn { daily, from } => {
                let s = if d < from { daily } else { 2.0 * daily };
                s * s
            }
        };
        closes.push(closes[d - 1] * (-v / 2.0 + v.sqrt() * rng.normal()).exp());
        variances.push(v);
    }
    // `{}` writes the shortest text that reads back as the same f64, so the
    // backtest sees exactly these closes.
    let rows = closes
        .iter()
        .enumerate()
        .map(|(d, p)| (day(d), format!("{p}")));
    Simulated {
        history: price_history("simulated.csv", "BTC", rows),
        closes,
        variances,
    }
}

impl Simulated {
    /// The EWMA daily variance calibrated at the close of day `t` (methodology
    /// 11.2), written out here: the returns ending on the `LOOKBACK` days to
    /// `t`, the first 30 seeding the recursion.
    fn ewma(&self, t: usize, lambda: f64) -> f64 {
        let returns: Vec<f64> = (t + 1 - LOOKBACK as usize..=t)
            .map(|d| (self.closes[d] / self.closes[d - 1]).ln())
            .collect();
        let (seed, rest) = returns.split_at(30);
        let start = seed.iter().map(|r| r * r).sum::<f64>() / 30.0;
        rest.iter()
            .fold(start, |v, r| lambda * v + (1.0 - lambda) * r * r)
    }
}

/// A long (A) and a short (B) of 10 BTC in a linear perpetual without
/// funding, each its own group; VaR 99% over a 1-day MPOR on `PATHS`
/// Gaussian paths.
fn book(measure: MarginMeasure) -> Snapshot {
    let mut s = btc_perpetual_book(["A", "B"], UNITS, -UNITS);
    assert_eq!(s.market.assets[0].spot, SPOT);
    s.config.scenario.paths = PATHS;
    s.config.risk.margin_period_days = 1.0;
    s.config.risk.margin_measure = measure;
    s.config.risk.margin_confidence = CONFIDENCE;
    s
}

fn run(
    snapshot: &Snapshot,
    history: &PriceHistory,
    (from, to): (usize, usize),
    lambda: f64,
    z2_simulations: usize,
) -> Backtest {
    let backend = CpuBackend::new(None).unwrap();
    let params = BacktestParams {
        lookback_days: LOOKBACK,
        lambda,
        z2_simulations,
        ..params(day(from), day(to))
    };
    let b = backtest(&runner(&backend), snapshot, history, &params).unwrap();
    assert!(b.gaps.is_empty(), "{:?}", b.gaps);
    assert_eq!(b.dates.len(), to + 1 - from);
    b
}

fn member_row<'a>(
    summary: &'a [PortfolioSummary],
    id: &str,
    kind: PortfolioKind,
) -> &'a PortfolioSummary {
    summary
        .iter()
        .find(|s| s.id == id && s.kind == kind)
        .unwrap()
}

fn normal() -> Normal {
    Normal::standard()
}

/// The standard normal quantile `z` each day's VaR margin implies, given
/// the EWMA variance `v` this file computes (decay `lambda`) for the day:
/// `(long, short)` from `m = 1000 (1 - exp(-v/2 - z sqrt(v)))` and `m =
/// 1000 (exp(-v/2 + z sqrt(v)) - 1)`.
fn implied_z(sim: &Simulated, b: &Backtest, first: usize, lambda: f64) -> Vec<(f64, f64)> {
    let notional = UNITS * SPOT;
    let (a, short) = (&b.portfolios[0], &b.portfolios[1]);
    assert_eq!((a.id.as_str(), short.id.as_str()), ("A", "B"));
    (0..b.dates.len())
        .map(|k| {
            let v = sim.ewma(first + k, lambda);
            (
                -((-a.margins[k] / notional).ln_1p() + v / 2.0) / v.sqrt(),
                ((short.margins[k] / notional).ln_1p() + v / 2.0) / v.sqrt(),
            )
        })
        .collect()
}

/// The same `z` on every day to 1e-9 (the same draws size every day's
/// margin), and that `z` within the Monte Carlo error of `z_0.99`: inside the
/// normal quantiles at `1% -/+ 4 sqrt(1% x 99% / PATHS)`. Returns it.
fn one_monte_carlo_quantile(implied: &[(f64, f64)]) -> (f64, f64) {
    let (z_long, z_short) = implied[0];
    let sd = (0.01 * 0.99 / PATHS as f64).sqrt();
    let (low, high) = (
        normal().inverse_cdf(0.99 - 4.0 * sd),
        normal().inverse_cdf(0.99 + 4.0 * sd),
    );
    for zk in [z_long, z_short] {
        assert!(
            low < zk && zk < high,
            "Monte Carlo z {zk}, not in ({low}, {high})"
        );
    }
    for (k, &(l, s)) in implied.iter().enumerate() {
        assert!(
            (l / z_long - 1.0).abs() < 1e-9,
            "day {k}: z {l}, day 0 {z_long}"
        );
        assert!(
            (s / z_short - 1.0).abs() < 1e-9,
            "day {k}: z {s}, day 0 {z_short}"
        );
    }
    (z_long, z_short)
}

/// The exceptions the margins of `b` (days from `first`) should see when
/// each day's return has the true variance of the simulation: `sum_k P(loss_k
/// > m_k)` for the long (A) and the short (B).
fn expected_exceptions(sim: &Simulated, b: &Backtest, first: usize) -> (f64, f64) {
    let notional = UNITS * SPOT;
    let (a, short) = (&b.portfolios[0], &b.portfolios[1]);
    (0..b.dates.len()).fold((0.0, 0.0), |(ea, eb), k| {
        let v = sim.variances[first + k + 1];
        // The long loses more than m when ln R < ln(1 - m/1000); the short
        // when ln R > ln(1 + m/1000); ln R = -v/2 + sqrt(v) e.
        let below = ((-a.margins[k] / notional).ln_1p() + v / 2.0) / v.sqrt();
        let above = ((short.margins[k] / notional).ln_1p() + v / 2.0) / v.sqrt();
        (ea + normal().cdf(below), eb + normal().sf(above))
    })
}

/// `x ~ Binomial(n, p)`'s two-sided 99.9% range: the 0.05% and 99.95%
/// quantiles.
fn binomial_range(n: u64, p: f64) -> (u64, u64) {
    let b = Binomial::new(p, n).unwrap();
    (b.inverse_cdf(0.0005), b.inverse_cdf(0.9995))
}

/// `days` days backtested on a history drawn from RiskMetrics' model (from
/// 3% a day), after a warm-up longer than the calibration window.
fn on_the_model_itself(
    days: usize,
    measure: MarginMeasure,
    z2_simulations: usize,
) -> (Simulated, Backtest) {
    let sim = simulate(
        WARM_UP + days + 1,
        TrueVariance::Ewma { first: 0.03 * 0.03 },
    );
    let period = (WARM_UP, WARM_UP + days - 1);
    let b = run(&book(measure), &sim.history, period, LAMBDA, z2_simulations);
    (sim, b)
}

/// On RiskMetrics' own model the VaR 99% margins of the long and the short
/// pass: 1,000 days (all in the non-overlapping subsample at a 1-day MPOR),
/// the exception count inside Binomial(1000, 1%)'s two-sided 99.9% range
/// (2..=22), Kupiec not rejected at 1%, the traffic light green on the whole
/// period (0..=14 exceptions in 1,000 days at 99%). Under the model these
/// hold with probability 99.9%, 99% and 92% (the last: `P(X <= 14)`), each
/// member separately; the seed was fixed before the first run.
///
/// And by hand: each day's margin is the closed form of a log-normal VaR on
/// the EWMA variance `v` this file computes from the history,
/// `10 x 100 x (1 - exp(-v/2 - z sqrt(v)))` for the long, `10 x 100 x
/// (exp(-v/2 + z sqrt(v)) - 1)` for the short, where `z` is the Monte Carlo
/// quantile of the standard normal: the `floor(PATHS x 0.01) + 1`st smallest
/// (largest) of the same draws on every day (methodology 7.1; the draws
/// depend on the seed and path only, 12b). So the `z` each day's margin
/// implies is one number on all 1,000 days, to 1e-9, within the Monte Carlo
/// error of `z_0.99 = 2.3263` ([`one_monte_carlo_quantile`]).
#[test]
fn margins_of_the_model_itself_pass_the_coverage_tests() {
    let days = 1_000;
    let (sim, b) = on_the_model_itself(days, MarginMeasure::ValueAtRisk, 0);
    let (z_long, z_short) = one_monte_carlo_quantile(&implied_z(&sim, &b, WARM_UP, LAMBDA));
    // On this model the margins' own exception probability is known exactly.
    let (expected_a, expected_b) = expected_exceptions(&sim, &b, WARM_UP);
    let tail = |z: f64| days as f64 * normal().sf(z);
    assert!((expected_a / tail(z_long) - 1.0).abs() < 1e-6);
    assert!((expected_b / tail(z_short) - 1.0).abs() < 1e-6);

    let summary = summarise(&b).unwrap();
    let (lowest, highest) = binomial_range(days as u64, 0.01);
    assert_eq!((lowest, highest), (2, 22));
    for (id, expected) in [("A", expected_a), ("B", expected_b)] {
        let s = member_row(&summary, id, PortfolioKind::Member);
        let all = &s.all_days;
        let x = all.coverage.exceptions;
        eprintln!(
            "{id}: {x} exceptions in {} days ({expected:.2} expected from the margins' own \
             Monte Carlo quantile), Kupiec p {:.4}, Christoffersen independence p {:.4}, \
             traffic light {:?}",
            all.coverage.observations,
            all.kupiec.p_value,
            all.christoffersen.as_ref().unwrap().independence.p_value,
            all.traffic_light.zone,
        );
        assert!((lowest..=highest).contains(&x), "{id}: {x} exceptions");
        assert!(
            all.kupiec.p_value >= 0.01,
            "{id}: Kupiec p {}",
            all.kupiec.p_value
        );
        assert_eq!(all.traffic_light.zone, Zone::Green, "{id}: {x} exceptions");
        assert_eq!(all.traffic_light.green_max, 14);
        // A 1-day MPOR: the subsample is every day.
        assert_eq!(s.non_overlapping.coverage, all.coverage);
    }
}

/// ES 99% margins on the same model: each day's ES of the long is the
/// log-normal closed form `1000 (1 - Phi(-z_0.99 - sqrt(v)) / 1%)` (with
/// `ln R = -v/2 + sqrt(v) e`, `E[R; e < -z] = Phi(-z - sqrt(v))`) within 3%
/// (the ES of 100,000 paths averages about 1,000 tail draws: a relative
/// Monte Carlo error near 0.5%); and Acerbi-Székely's Z2 is not rejected at
/// 1% (its p-value is uniform under the model: probability 99%).
#[test]
fn es_margins_of_the_model_itself_pass_z2() {
    let days = 500;
    let (sim, b) = on_the_model_itself(days, MarginMeasure::ExpectedShortfall, 1_000);
    let z99 = normal().inverse_cdf(CONFIDENCE);
    for k in [0, days / 2, days - 1] {
        let v = sim.ewma(WARM_UP + k, LAMBDA);
        let long = UNITS * SPOT * (1.0 - normal().cdf(-z99 - v.sqrt()) / 0.01);
        let margin = b.portfolios[0].margins[k];
        assert!(
            (margin / long - 1.0).abs() < 0.03,
            "day {k}: ES {margin}, closed form {long}"
        );
    }
    let summary = summarise(&b).unwrap();
    for id in ["A", "B"] {
        let s = member_row(&summary, id, PortfolioKind::MemberWithCollateral);
        let Z2::Statistic {
            value,
            p_value: Some(p),
            ..
        } = s.z2
        else {
            panic!("{id}: {:?}", s.z2)
        };
        eprintln!(
            "{id}: Z2 {value:.4}, p {p:.3}; {} exceptions of the ES in {days} days",
            s.all_days.coverage.exceptions
        );
        assert!(p >= 0.01, "{id}: Z2 {value}, p {p}");
    }
}

/// Volatility doubles halfway: 500 days at 2% a day, then 500 at 4%.
///
/// - With the default calibration (EWMA 0.94) the margins follow within
///   weeks (the EWMA's memory is about 1 / (1 - 0.94) = 17 days), so the
///   doubling costs about one exception and no test on the 500 days after it
///   can see it: the exceptions the margins should see, computed from them
///   and the true variance ([`expected_exceptions`]), stay below the count
///   at which Kupiec would reject at 1% on 500 days, and Kupiec does not
///   reject. That is the model working, not the test failing.
/// - With a slow calibration (`lambda = 0.999` over the one-year window:
///   the 30-day seed at the window's start keeps 0.999^335 = 72% of the
///   weight, so the estimate lags by most of a year) the margin
///   under-estimates the risk after the doubling, and the tests catch it on
///   the second half: Kupiec p < 0.01 and the traffic light red, for the long
///   and the short; on the first half (the volatility constant) Kupiec does
///   not reject it.
///
/// Both calibrations' margins are the closed form on the EWMA this file
/// computes with their decay ([`one_monte_carlo_quantile`]), which checks
/// that `lambda` reaches the calibration.
#[test]
fn a_doubling_of_volatility_is_caught_when_the_margin_lags_it() {
    let half = 500;
    let mid = WARM_UP + half;
    // The return from the close of `mid` on is the first at 4%: day `mid`'s
    // realised loss is the first of the second half.
    let sim = simulate(
        WARM_UP + 2 * half + 1,
        TrueVariance::DoublesOn {
            daily: 0.02,
            from: mid + 1,
        },
    );
    let snapshot = book(MarginMeasure::ValueAtRisk);
    let confidence = Confidence::new(CONFIDENCE).unwrap();
    // The smallest count Kupiec rejects at 1% on 500 days.
    let rejected_from = (5..half as u64)
        .find(|&x| {
            kupiec_pof(ExceptionCount::new(half as u64, x).unwrap(), confidence).p_value < 0.01
        })
        .unwrap();
    assert_eq!(rejected_from, 12);

    let quantiles: Vec<(f64, f64)> = [LAMBDA, 0.999]
        .into_iter()
        .map(|lambda| {
            let first = run(&snapshot, &sim.history, (WARM_UP, mid - 1), lambda, 0);
            let second = run(&snapshot, &sim.history, (mid, mid + half - 1), lambda, 0);
            let z = one_monte_carlo_quantile(&implied_z(&sim, &second, mid, lambda));
            let (expected_a, expected_b) = expected_exceptions(&sim, &second, mid);
            let (summary_1, summary_2) = (summarise(&first).unwrap(), summarise(&second).unwrap());
            for (id, expected) in [("A", expected_a), ("B", expected_b)] {
                let row = |s| &member_row(s, id, PortfolioKind::Member).all_days;
                let (one, two) = (row(&summary_1), row(&summary_2));
                eprintln!(
                    "lambda {lambda}, {id}: first half {} exceptions (Kupiec p {:.4}, {:?}); \
                     second half {} ({expected:.2} expected from the margins and the true \
                     volatility; Kupiec p {:.3e}, {:?})",
                    one.coverage.exceptions,
                    one.kupiec.p_value,
                    one.traffic_light.zone,
                    two.coverage.exceptions,
                    two.kupiec.p_value,
                    two.traffic_light.zone,
                );
                assert!(
                    one.kupiec.p_value >= 0.01,
                    "lambda {lambda}, {id}: first half"
                );
                if lambda == LAMBDA {
                    assert!(expected < rejected_from as f64, "{id}: {expected} expected");
                    assert!(two.kupiec.p_value >= 0.01, "{id}: {}", two.kupiec.p_value);
                } else {
                    assert!(
                        expected > 2.0 * rejected_from as f64,
                        "{id}: {expected} expected"
                    );
                    assert!(two.kupiec.p_value < 0.01, "{id}: {}", two.kupiec.p_value);
                    assert_eq!(two.traffic_light.zone, Zone::Red, "{id}");
                    let count = two.coverage.count();
                    assert_eq!(traffic_light(count, confidence).zone, Zone::Red);
                }
            }
            z
        })
        .collect();
    // The same draws under both decays: the same Monte Carlo quantile.
    assert!((quantiles[0].0 / quantiles[1].0 - 1.0).abs() < 1e-9);
}
