//! The backtest statistics of issue 13 (methodology, 12a), held against
//! scipy (data/backtest_reference.py prints every value pinned here), the
//! Basel Committee's table, and examples worked by hand.

use clearstress::analysis::backtest::{
    acerbi_szekely_z2, christoffersen, kupiec_pof, non_overlapping, traffic_light, BacktestError,
    Confidence, Coverage, DayOutcome, EsDay, ExceptionCount, Transitions, Z2Distribution, Zone,
};

/// `actual` within 1e-10 of `expected`, relative (1e-12 absolute where
/// `expected` is 0).
fn assert_close(what: &str, actual: f64, expected: f64) {
    let tolerance = if expected == 0.0 {
        1e-12
    } else {
        1e-10 * expected.abs()
    };
    assert!(
        (actual - expected).abs() <= tolerance,
        "{what}: {actual:e}, scipy/hand says {expected:e} (difference {:e})",
        actual - expected
    );
}

fn conf(level: f64) -> Confidence {
    Confidence::new(level).unwrap()
}

fn count(observations: u64, exceptions: u64) -> ExceptionCount {
    ExceptionCount::new(observations, exceptions).unwrap()
}

/// `n` days, exceptions on the (0-based) days listed.
fn days(n: usize, exceptions: &[usize]) -> Vec<bool> {
    (0..n).map(|d| exceptions.contains(&d)).collect()
}

// ------------------------------------------------------------------ Kupiec

/// (observations, exceptions, confidence, LR_pof, p-value), printed by
/// data/backtest_reference.py (scipy 1.17.1).
const KUPIEC: &[(u64, u64, f64, f64, f64)] = &[
    (250, 0, 0.99, 5.025167926750753, 0.02498150305344925),
    (250, 1, 0.99, 1.1764911353210934, 0.2780714900139495),
    (250, 2, 0.99, 0.10843521623680619, 0.74193270095262),
    (250, 3, 0.99, 0.09494012266442442, 0.7579883213733001),
    (250, 4, 0.99, 0.7691383643858218, 0.3804837382389614),
    (250, 5, 0.99, 1.9568097882306432, 0.16185491719603648),
    (250, 6, 0.99, 3.5553547710617535, 0.05935361897228894),
    (250, 7, 0.99, 5.496990447792685, 0.019049230890526524),
    (250, 8, 0.99, 7.733550724494503, 0.005420405194127851),
    (250, 9, 0.99, 10.229030632597793, 0.0013824730075046377),
    (250, 10, 0.99, 12.955491062356039, 0.0003189845082133803),
    (250, 11, 0.99, 15.89061952341471, 6.711051864841317e-05),
    (250, 12, 0.99, 19.016185661391596, 1.2961433017631036e-05),
    (500, 0, 0.99, 10.050335853501506, 0.0015232016983636213),
    (500, 5, 0.99, 0.0, 1.0),
    (500, 10, 0.99, 3.9136195764612864, 0.047896335349883676),
    (500, 15, 0.99, 13.161763177772361, 0.0002857199081399285),
    (250, 0, 0.975, 12.658903992144893, 0.0003737812691106297),
    (250, 3, 0.975, 2.1393269640290287, 0.14356486427363988),
    (250, 6, 0.975, 0.010392388396659347, 0.9188018674814737),
    (250, 12, 0.975, 4.292524830667155, 0.038280278413802875),
    (1000, 0, 0.999, 2.001000667167244, 0.15719539989575598),
    (1000, 1, 0.999, 0.0, 1.0),
    (1000, 3, 0.999, 2.595680410698658, 0.10715541246156496),
    (1000, 8, 0.999, 19.320228681334893, 1.1052915251220377e-05),
    (10, 0, 0.9, 2.107210313156527, 0.1466063661188222),
    (10, 2, 0.9, 0.8880601517376459, 0.3460035302561746),
    (10, 10, 0.9, 46.05170185988092, 1.151730544415666e-11),
    (1, 0, 0.99, 0.020100671707003012, 0.8872562800759086),
    (1, 1, 0.99, 9.210340371976182, 0.002406519458822761),
];

#[test]
fn kupiec_pof_matches_scipy() {
    for &(n, x, c, statistic, p_value) in KUPIEC {
        let test = kupiec_pof(count(n, x), conf(c));
        let case = format!("Kupiec n={n} x={x} c={c}");
        assert_eq!(test.degrees_of_freedom, 1, "{case}");
        assert_close(&format!("{case} statistic"), test.statistic, statistic);
        assert_close(&format!("{case} p-value"), test.p_value, p_value);
    }
}

#[test]
fn kupiec_with_no_or_only_exceptions_is_the_log_of_one_probability() {
    // 0 ln 0 = 0: x = 0 leaves -2 n ln(1 - p), x = n leaves -2 n ln p.
    let none = kupiec_pof(count(250, 0), conf(0.99));
    assert_close("x = 0", none.statistic, -2.0 * 250.0 * 0.99f64.ln());
    let all = kupiec_pof(count(10, 10), conf(0.9));
    assert_close("x = n", all.statistic, -2.0 * 10.0 * (1.0 - 0.9f64).ln());
}

// --------------------------------------------------------- Christoffersen

/// (case, exception days, confidence, [n00, n01, n10, n11], LR_ind, its
/// p-value, LR_cc, its p-value), printed by data/backtest_reference.py. The
/// cases after the first two include every zero transition count: an empty
/// row (no day after an exception, or none after a covered day), an empty
/// column, and no transitions at all.
#[allow(clippy::type_complexity)]
fn christoffersen_cases() -> Vec<(&'static str, Vec<bool>, f64, [u64; 4], f64, f64, f64, f64)> {
    vec![
        (
            "hand-worked 10 days",
            days(10, &[3, 4]),
            0.9,
            [6, 1, 1, 1],
            1.0204944047602729,
            0.312401763657645,
            1.9085545564979187,
            0.38509035718296125,
        ),
        (
            "clustered 250 days",
            days(250, &[100, 101, 102, 103, 200]),
            0.99,
            [242, 2, 2, 3],
            19.049306940901815,
            1.2738402844995757e-05,
            21.006116729132458,
            2.745236149996987e-05,
        ),
        (
            "spread 250 days",
            days(250, &[20, 70, 120, 170, 220]),
            0.99,
            [239, 5, 5, 0],
            0.20493237652147536,
            0.6507686878924481,
            2.1617421647521184,
            0.3392998387700708,
        ),
        (
            "first day only",
            days(250, &[0]),
            0.99,
            [248, 0, 1, 0],
            0.0,
            1.0,
            1.1764911353210934,
            0.5553006680674102,
        ),
        (
            "last day only",
            days(250, &[249]),
            0.99,
            [248, 1, 0, 0],
            0.0,
            1.0,
            1.1764911353210934,
            0.5553006680674102,
        ),
        (
            "no exceptions",
            days(250, &[]),
            0.99,
            [249, 0, 0, 0],
            0.0,
            1.0,
            5.025167926750753,
            0.08105851616218014,
        ),
        (
            "all but the last",
            days(20, &(0..19).collect::<Vec<_>>()),
            0.99,
            [0, 0, 1, 18],
            0.0,
            1.0,
            167.07595800541952,
            5.247067966748195e-37,
        ),
        (
            "all exceptions",
            days(20, &(0..20).collect::<Vec<_>>()),
            0.99,
            [0, 0, 0, 19],
            0.0,
            1.0,
            184.20680743952363,
            1.0000000000000075e-40,
        ),
        (
            "one day",
            days(1, &[0]),
            0.99,
            [0, 0, 0, 0],
            0.0,
            1.0,
            9.210340371976182,
            0.010000000000000004,
        ),
    ]
}

#[test]
fn christoffersen_matches_scipy_including_zero_transition_counts() {
    for (case, exceptions, c, [n00, n01, n10, n11], ind, ind_p, cc, cc_p) in christoffersen_cases()
    {
        let test = christoffersen(&exceptions, conf(c)).unwrap();
        assert_eq!(
            test.transitions,
            Transitions { n00, n01, n10, n11 },
            "{case}"
        );
        assert_eq!(test.independence.degrees_of_freedom, 1, "{case}");
        assert_eq!(test.conditional_coverage.degrees_of_freedom, 2, "{case}");
        assert_close(&format!("{case}: LR_ind"), test.independence.statistic, ind);
        assert_close(
            &format!("{case}: LR_ind p-value"),
            test.independence.p_value,
            ind_p,
        );
        assert_close(
            &format!("{case}: LR_cc"),
            test.conditional_coverage.statistic,
            cc,
        );
        assert_close(
            &format!("{case}: LR_cc p-value"),
            test.conditional_coverage.p_value,
            cc_p,
        );
    }
}

// ----------------------------------------------------------- traffic light

/// BCBS (1996), Table 1: the cumulative probability of each exception count
/// in 250 days at 99%, from scipy.stats.binom.cdf (the Committee prints them
/// rounded: 8.11%, 28.58%, ..., 99.99%).
const BASEL_TABLE: &[(u64, f64)] = &[
    (0, 0.08105851616218143),
    (1, 0.28575173879395216),
    (2, 0.5431689733157259),
    (3, 0.7581166977648832),
    (4, 0.8921876269036251),
    (5, 0.9588168159301517),
    (6, 0.9862985521447963),
    (7, 0.9959746612881922),
    (8, 0.9989434675026432),
    (9, 0.9997498099312595),
    (10, 0.999946101370953),
];

#[test]
fn basel_table_250_days_at_99_percent() {
    for &(x, cumulative) in BASEL_TABLE {
        let light = traffic_light(count(250, x), conf(0.99));
        assert_close(&format!("F({x})"), light.cumulative_probability, cumulative);
        let zone = match x {
            0..=4 => Zone::Green,
            5..=9 => Zone::Yellow,
            _ => Zone::Red,
        };
        assert_eq!(light.zone, zone, "{x} exceptions");
        assert_eq!((light.green_max, light.yellow_max), (4, Some(9)));
    }
    for x in [11, 25, 250] {
        assert_eq!(traffic_light(count(250, x), conf(0.99)).zone, Zone::Red);
    }
}

/// (observations, confidence, largest green count, largest yellow count),
/// printed by data/backtest_reference.py.
const TRAFFIC_LIGHT_BOUNDS: &[(u64, f64, u64, Option<u64>)] = &[
    (250, 0.99, 4, Some(9)),
    (500, 0.99, 8, Some(14)),
    (1000, 0.99, 14, Some(23)),
    (250, 0.975, 10, Some(16)),
    (250, 0.999, 0, Some(3)),
    (750, 0.995, 6, Some(12)),
    (10, 0.9, 2, Some(5)),
    (5, 0.99, 0, Some(1)),
    (1, 0.99, 0, None),
];

#[test]
fn traffic_light_bounds_for_other_days_and_confidences_match_scipy() {
    for &(n, c, green_max, yellow_max) in TRAFFIC_LIGHT_BOUNDS {
        let light = traffic_light(count(n, 0), conf(c));
        assert_eq!(
            (light.green_max, light.yellow_max),
            (green_max, yellow_max),
            "{n} days at {c}"
        );
        // Each count lands in the zone its bounds say.
        for x in 0..=n.min(40) {
            let zone = traffic_light(count(n, x), conf(c)).zone;
            let expected = if x <= green_max {
                Zone::Green
            } else if yellow_max.is_some_and(|y| x <= y) {
                Zone::Yellow
            } else {
                Zone::Red
            };
            assert_eq!(zone, expected, "{x} exceptions in {n} days at {c}");
        }
    }
}

#[test]
fn zero_exceptions_is_green_even_when_few_days_make_it_likely() {
    // 5 days at 99%: F(0) = 0.99^5 = 0.951 >= 0.95, yet a clean record is green.
    let light = traffic_light(count(5, 0), conf(0.99));
    assert_close("F(0)", light.cumulative_probability, 0.99f64.powi(5));
    assert_eq!(light.zone, Zone::Green);
}

// ------------------------------------------------- a 10-day worked example

/// Ten days at 90% confidence. Day 2's loss equals its margin (covered);
/// days 4 and 5 are the exceptions, by 30 and 7.
fn ten_days() -> Vec<DayOutcome> {
    [
        (100.0, 40.0),
        (100.0, 100.0),
        (100.0, 75.0),
        (100.0, 130.0),
        (105.0, 112.0),
        (105.0, 20.0),
        (110.0, 60.0),
        (110.0, 109.5),
        (110.0, 0.0),
        (110.0, -15.0),
    ]
    .into_iter()
    .map(|(margin, realised_loss)| DayOutcome {
        margin,
        realised_loss,
    })
    .collect()
}

#[test]
fn ten_days_worked_by_hand() {
    let c = conf(0.9);
    let coverage = Coverage::of(&ten_days(), c).unwrap();
    assert_eq!(coverage.exception_days, days(10, &[3, 4]));
    assert_eq!((coverage.observations, coverage.exceptions), (10, 2));
    // n p = 10 x 0.1 = 1; 1 - x/n = 0.8.
    assert_close("expected exceptions", coverage.expected_exceptions, 1.0);
    assert_close("achieved coverage", coverage.achieved_coverage, 0.8);
    // Excesses 130 - 100 = 30 and 112 - 105 = 7: largest 30, mean 18.5.
    assert_eq!(coverage.largest_exception, Some(30.0));
    assert_eq!(coverage.average_exception, Some(18.5));

    // Kupiec, p = 0.1, x/n = 0.2:
    //   ln(0.8/0.9) = -0.117783035656383,  8 x that = -0.942264285251067
    //   ln(0.2/0.1) =  0.693147180559945,  2 x that =  1.386294361119891
    //   LR_pof = 2 (-0.942264285251067 + 1.386294361119891) = 0.888060151737647
    //   P(chi2(1) >= 0.888060151737647) = 0.346003530256174
    let pof = kupiec_pof(coverage.count(), c);
    assert_close("LR_pof", pof.statistic, 0.888060151737647);
    assert_close("LR_pof p-value", pof.p_value, 0.346003530256174);

    // Transitions of F F F T T F F F F F: 00 00 01 11 10 00 00 00 00,
    // n00 = 6, n01 = 1, n10 = 1, n11 = 1, N = 9; rows 7, 2; columns 7, 2.
    //   6 ln(6 x 9 / (7 x 7)) = 6 ln(54/49) = 6 x 0.097163748453648
    //   1 ln(1 x 9 / (7 x 2)) = ln(9/14)    = -0.441832752279039 (twice: n01, n10)
    //   1 ln(1 x 9 / (2 x 2)) = ln(9/4)     = 0.810930216216329
    //   LR_ind = 2 (0.582982490721809 - 0.883665504558078 + 0.810930216216329)
    //          = 2 x 0.510247202380136 = 1.020494404760273
    //   LR_cc  = 0.888060151737647 + 1.020494404760273 = 1.90855455649792
    //   P(chi2(2) >= LR_cc) = exp(-LR_cc / 2) = 0.385090357182961
    let test = christoffersen(&coverage.exception_days, c).unwrap();
    assert_eq!(
        test.transitions,
        Transitions {
            n00: 6,
            n01: 1,
            n10: 1,
            n11: 1
        }
    );
    assert_close("LR_ind", test.independence.statistic, 1.020494404760273);
    assert_close(
        "LR_cc",
        test.conditional_coverage.statistic,
        1.90855455649792,
    );
    assert_close(
        "LR_cc p-value",
        test.conditional_coverage.p_value,
        (-1.90855455649792f64 / 2.0).exp(),
    );

    // Binomial(10, 0.1): F(2) = 0.9298091736 < 0.95, green; F(3) = 0.9872 starts
    // yellow; F(5) = 0.99985 < 0.9999 <= F(6) = 0.99999: red from 6.
    let light = traffic_light(coverage.count(), c);
    assert_eq!(light.zone, Zone::Green);
    assert_close("F(2)", light.cumulative_probability, 0.9298091736);
    assert_eq!((light.green_max, light.yellow_max), (2, Some(5)));
}

#[test]
fn no_exception_leaves_the_amounts_empty() {
    let covered = [DayOutcome {
        margin: 10.0,
        realised_loss: 10.0,
    }; 3];
    let coverage = Coverage::of(&covered, conf(0.99)).unwrap();
    assert_eq!(coverage.exceptions, 0);
    assert_eq!(coverage.achieved_coverage, 1.0);
    assert_eq!(
        (coverage.largest_exception, coverage.average_exception),
        (None, None)
    );
}

// ------------------------------------------------------ overlapping windows

#[test]
fn non_overlapping_takes_every_mpor_th_day_from_the_offset() {
    let all: Vec<usize> = (0..10).collect();
    assert_eq!(non_overlapping(&all, 3, 0).unwrap(), [0, 3, 6, 9]);
    assert_eq!(non_overlapping(&all, 3, 2).unwrap(), [2, 5, 8]);
    assert_eq!(non_overlapping(&all, 1, 0).unwrap(), all);
}

#[test]
fn overlapping_windows_cluster_exceptions_that_the_subsample_separates() {
    // A 2-day MPOR: each bad day breaches the two windows that contain it.
    let every_day = days(250, &[50, 51, 150, 151]);
    let full = christoffersen(&every_day, conf(0.99)).unwrap();
    assert!(full.independence.p_value < 0.01, "{full:?}");
    let subsample = non_overlapping(&every_day, 2, 0).unwrap();
    assert_eq!(ExceptionCount::of(&subsample).unwrap(), count(125, 2));
    let separated = christoffersen(&subsample, conf(0.99)).unwrap();
    assert_eq!(separated.transitions.n11, 0);
    assert!(separated.independence.p_value > 0.5, "{separated:?}");
}

// --------------------------------------------------------------------- Z2

/// Four days of a 75% ES (alpha = 0.25, so T alpha = 1).
fn four_es_days() -> Vec<EsDay> {
    [
        (10.0, 14.0, 5.0),
        (10.0, 14.0, 14.0),
        (12.0, 15.0, 12.0),
        (10.0, 16.0, 20.0),
    ]
    .into_iter()
    .map(|(var, es, realised_loss)| EsDay {
        var,
        es,
        realised_loss,
    })
    .collect()
}

#[test]
fn z2_worked_by_hand() {
    // Exceptions (loss > VaR): day 2 (14 > 10) and day 4 (20 > 10); day 3's
    // loss equals its VaR and is not one.
    //   Z2 = 1 - (14/14 + 20/16) / (4 x 0.25) = 1 - (1 + 1.25) / 1 = -1.25
    let z2 = acerbi_szekely_z2(&four_es_days(), conf(0.75)).unwrap();
    assert_close("Z2", z2, -1.25);
    // Without exceptions Z2 is 1.
    let calm: Vec<EsDay> = four_es_days()
        .into_iter()
        .map(|d| EsDay {
            realised_loss: 0.0,
            ..d
        })
        .collect();
    assert_eq!(acerbi_szekely_z2(&calm, conf(0.75)).unwrap(), 1.0);
}

#[test]
fn z2_p_value_and_critical_value_agree() {
    let z = Z2Distribution::new(vec![0.5, -1.0, 1.0, 1.0, -0.2]).unwrap();
    // Sorted: -1, -0.2, 0.5, 1, 1.
    assert_eq!(z.p_value(-2.0), 0.0);
    assert_eq!(z.p_value(-1.0), 0.2);
    assert_eq!(z.p_value(0.9), 0.6);
    assert_eq!(z.p_value(1.0), 1.0);
    // kappa_s is the ceil(5 s)-th smallest.
    assert_eq!(z.critical_value(0.2).unwrap(), -1.0);
    assert_eq!(z.critical_value(0.5).unwrap(), 0.5);
    for s in [0.1, 0.2, 0.3, 0.5, 0.7, 0.95] {
        let kappa = z.critical_value(s).unwrap();
        for observed in [-1.5, -1.0, -0.6, -0.2, 0.0, 0.5, 0.8, 1.0, 1.2] {
            assert_eq!(
                observed < kappa,
                z.p_value(observed) < s,
                "s = {s}, Z2 = {observed}"
            );
        }
    }
}

/// splitmix64, a fixed stream for the test's draws.
fn uniforms(seed: u64) -> impl FnMut() -> f64 {
    let mut state = seed;
    move || {
        state = state.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = state;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        ((z ^ (z >> 31)) >> 11) as f64 / (1u64 << 53) as f64
    }
}

#[test]
fn z2_is_centred_under_the_model_and_rejects_a_heavier_tail() {
    // Losses Exp(1) every day: at 90%, VaR = -ln 0.1 and ES = VaR + 1.
    let c = conf(0.9);
    let var = -(0.1f64.ln());
    let exponential = |u: f64| -(1.0 - u).ln();
    let mut u = uniforms(7);
    let realised: Vec<EsDay> = (0..250)
        .map(|_| EsDay {
            var,
            es: var + 1.0,
            realised_loss: 2.0 * exponential(u()),
        })
        .collect();
    let simulations = 4000;
    let mut draw_u = uniforms(11);
    let model =
        Z2Distribution::simulate(&realised, c, simulations, |_, _| exponential(draw_u())).unwrap();

    // The same paths, scored one by one: the distribution is their Z2s.
    let mut path_u = uniforms(11);
    let by_path: Vec<f64> = (0..simulations)
        .map(|_| {
            let path: Vec<EsDay> = realised
                .iter()
                .map(|d| EsDay {
                    realised_loss: exponential(path_u()),
                    ..*d
                })
                .collect();
            acerbi_szekely_z2(&path, c).unwrap()
        })
        .collect();
    // E[Z2] = 0 under the model; the mean of 4000 has a standard error of 0.003.
    let mean = by_path.iter().sum::<f64>() / simulations as f64;
    assert!(mean.abs() < 0.015, "mean simulated Z2 {mean}");
    assert_eq!(Z2Distribution::new(by_path).unwrap(), model);

    // Realised losses twice the model's: far in the lower tail.
    let test = model.test(&realised, c).unwrap();
    assert!(
        test.statistic < model.critical_value(0.01).unwrap(),
        "{test:?}"
    );
    assert!(test.p_value < 0.01, "{test:?}");
    assert_eq!(test.simulations, simulations);
}

// ------------------------------------------------------------------ errors

#[test]
fn invalid_inputs_are_refused_with_what_was_wrong() {
    for level in [0.0, 1.0, -0.5, 1.5, f64::NAN] {
        assert!(
            matches!(Confidence::new(level), Err(BacktestError::Confidence(_))),
            "{level}"
        );
    }
    assert_eq!(
        ExceptionCount::new(0, 0),
        Err(BacktestError::NoObservations)
    );
    let too_many = ExceptionCount::new(5, 6).unwrap_err();
    assert_eq!(
        too_many,
        BacktestError::TooManyExceptions {
            observations: 5,
            exceptions: 6
        }
    );
    assert!(
        too_many
            .to_string()
            .contains("6 exceptions in 5 observations"),
        "{too_many}"
    );
    assert_eq!(
        christoffersen(&[], conf(0.99)).unwrap_err(),
        BacktestError::NoObservations
    );
    assert_eq!(
        Coverage::of(&[], conf(0.99)).unwrap_err(),
        BacktestError::NoObservations
    );

    let mut bad = ten_days();
    bad[2].margin = f64::NAN;
    let err = Coverage::of(&bad, conf(0.9)).unwrap_err();
    assert!(
        matches!(err, BacktestError::NonFinite { day: 2, field: "margin", value } if value.is_nan()),
        "{err}"
    );
    bad[2].margin = 100.0;
    bad[7].realised_loss = f64::INFINITY;
    assert_eq!(
        Coverage::of(&bad, conf(0.9)).unwrap_err(),
        BacktestError::NonFinite {
            day: 7,
            field: "realised loss",
            value: f64::INFINITY
        }
    );

    assert_eq!(
        non_overlapping(&[1, 2, 3], 0, 0).unwrap_err(),
        BacktestError::ZeroMpor
    );
    assert_eq!(
        non_overlapping(&[1, 2, 3], 3, 3).unwrap_err(),
        BacktestError::Offset {
            offset: 3,
            mpor_days: 3
        }
    );

    let c = conf(0.75);
    assert_eq!(
        acerbi_szekely_z2(&[], c).unwrap_err(),
        BacktestError::NoObservations
    );
    let mut es = four_es_days();
    es[1].es = 0.0;
    assert_eq!(
        acerbi_szekely_z2(&es, c).unwrap_err(),
        BacktestError::NonPositiveEs { day: 1, es: 0.0 }
    );
    let mut es = four_es_days();
    es[3].var = f64::NEG_INFINITY;
    assert_eq!(
        acerbi_szekely_z2(&es, c).unwrap_err(),
        BacktestError::NonFinite {
            day: 3,
            field: "VaR",
            value: f64::NEG_INFINITY
        }
    );
    assert_eq!(
        Z2Distribution::simulate(&four_es_days(), c, 3, |_, t| if t == 2 {
            f64::INFINITY
        } else {
            1.0
        })
        .unwrap_err(),
        BacktestError::NonFinite {
            day: 2,
            field: "simulated loss",
            value: f64::INFINITY
        }
    );
    assert_eq!(
        Z2Distribution::new(vec![]).unwrap_err(),
        BacktestError::NoSimulations
    );
    assert_eq!(
        Z2Distribution::new(vec![0.0, f64::INFINITY]).unwrap_err(),
        BacktestError::NonFiniteSimulation {
            index: 1,
            value: f64::INFINITY
        }
    );
    let z = Z2Distribution::new(vec![0.0]).unwrap();
    for s in [0.0, 1.0, f64::NAN] {
        assert!(
            matches!(z.critical_value(s), Err(BacktestError::Significance(_))),
            "{s}"
        );
    }
}
