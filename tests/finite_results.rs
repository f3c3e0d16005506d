//! No NaN or infinity reaches a result: a loss the engine cannot hold exactly
//! (not a number, or beyond 1.8e19 USD) is an error naming the member, the
//! scenario and the value, never a silent zero. The loaders' ranges keep such
//! inputs out; these books are built in memory, past the loaders, to hold the
//! engine's own guard to its word.

mod common;

use clearstress::engine::{self, RunError, RunLimits};
use clearstress::snapshot::{Snapshot, StressScenario};
use common::mixed_book;

fn stress(name: &str, shock: f64, assets: usize) -> StressScenario {
    common::stress_scenario(name, vec![shock; assets], vec![0.0; assets])
}

/// A book, how it is broken, and what the error must say.
struct Case {
    name: &'static str,
    breaks: fn(&mut Snapshot),
    says: &'static [&'static str],
}

#[test]
fn losses_out_of_range_are_errors_that_name_their_cause() {
    let cases = [
        Case {
            name: "a stress shock of 1e300",
            breaks: |s| {
                let n = s.market.assets.len();
                s.stress = vec![stress("sane", -0.3, n), stress("absurd", 1e300, n)];
            },
            says: &[
                "stress scenario `absurd` (absurd.toml)",
                "member `A`",
                "USD",
            ],
        },
        Case {
            name: "a NaN stress shock",
            breaks: |s| {
                let n = s.market.assets.len();
                s.stress = vec![stress("nan", f64::NAN, n)];
            },
            says: &["stress scenario `nan`", "not a number"],
        },
        Case {
            name: "a position of 1e300 contracts",
            breaks: |s| s.positions[0].quantity = 1e300,
            says: &[
                "member `A`",
                "Monte Carlo scenario(s)",
                "first: scenario",
                "gross notional",
            ],
        },
        Case {
            // Each input in its range, the combination not: a 1-sd move of
            // e^10 and Student-t tails.
            name: "a volatility of 10 over a 365-day margin period",
            breaks: |s| {
                s.market.assets[0].volatility = 10.0;
                s.config.risk.margin_period_days = 365.0;
                s.config.scenario.innovations = clearstress::snapshot::Innovations::StudentT;
                // The drift -sigma^2 h / 2 = -50 leaves only draws beyond ~8
                // standard deviations out of range: enough paths to meet some.
                s.config.scenario.paths = 200_000;
            },
            says: &[
                "In that scenario BTC",
                "standard deviations of its 1000% volatility over 365 days",
                "Student-t",
            ],
        },
    ];
    let backend = clearstress::backend::CpuBackend::new(Some(2)).unwrap();
    for case in cases {
        let mut s = mixed_book();
        s.config.scenario.paths = 2_000;
        let n = s.market.assets.len();
        s.stress = vec![stress("sane", -0.3, n)];
        (case.breaks)(&mut s);
        let err = match engine::run(&backend, &s, RunLimits::default(), &|_| {}) {
            Ok(r) => panic!(
                "{}: ran, with total margin {}",
                case.name,
                r.margin
                    .members
                    .iter()
                    .map(|m| m.initial_margin)
                    .sum::<f64>()
            ),
            Err(e) => e,
        };
        assert!(
            matches!(
                err,
                RunError::LossOutOfRange { .. } | RunError::StressOutOfRange { .. }
            ),
            "{}: {err}",
            case.name
        );
        let message = err.to_string();
        for fragment in case.says {
            assert!(
                message.contains(fragment),
                "{}: `{fragment}` not in: {message}",
                case.name
            );
        }
    }
}

/// A volatility of 1e6 takes every price to exactly 0 (the drift -sigma^2 h / 2
/// swamps any draw): no loss is out of range, and every option is worth its
/// limit at a zero forward, a call 0 and a put its discounted strike (N(-inf) =
/// 0 and N(inf) = 1 exactly), so the run ends with finite margins instead of
/// a NaN from ln(0).
#[test]
fn a_price_falling_to_zero_values_options_at_their_limits() {
    let backend = clearstress::backend::CpuBackend::new(Some(2)).unwrap();
    let mut s = mixed_book();
    s.config.scenario.paths = 2_000;
    s.stress = vec![stress("sane", -0.3, s.market.assets.len())];
    s.market.assets[0].volatility = 1e6;
    let r = engine::run(&backend, &s, RunLimits::default(), &|_| {}).unwrap();
    assert!(r
        .margin
        .members
        .iter()
        .all(|m| m.initial_margin.is_finite() && m.initial_margin >= 0.0));
    let book = clearstress::book::CompiledBook::compile(&s).unwrap();
    let options = &book.options;
    assert!(
        options.groups.underlying.contains(&0),
        "the book has options on BTC"
    );
    for j in (0..options.len()).filter(|&j| options.underlying(j) == 0) {
        let v1 = match options.right[j] {
            clearstress::snapshot::OptionRight::Call => 0.0,
            clearstress::snapshot::OptionRight::Put => {
                options.groups.discount1[options.group[j]] * options.strike(j)
            }
        };
        let expected = match options.settlement[j] {
            clearstress::snapshot::Settlement::Linear => v1 - options.value0[j],
            // The coin-settled value V0 R at R = 0.
            clearstress::snapshot::Settlement::Inverse => v1,
        };
        assert_eq!(options.pnl(j, -1.0, 1.0), expected, "series {j}");
    }
}

#[test]
fn the_same_books_within_range_run_to_finite_results() {
    let backend = clearstress::backend::CpuBackend::new(Some(2)).unwrap();
    let mut s = mixed_book();
    s.config.scenario.paths = 2_000;
    let n = s.market.assets.len();
    s.stress = vec![stress("sane", -0.3, n), stress("up", 9.0, n)];
    let r = engine::run(&backend, &s, RunLimits::default(), &|_| {}).unwrap();
    assert!(r
        .margin
        .members
        .iter()
        .all(|m| m.initial_margin.is_finite() && m.excess.is_finite()));
    assert!(r
        .default_fund
        .per_scenario
        .iter()
        .all(|c| c.cover2.is_finite()));
}
