//! Calibration against references: GARCH(1,1)-t against the `arch` package
//! on the shipped history (data/garch_reference.py records how the values
//! were obtained).

#[path = "common/machine.rs"]
mod machine;

use clearstress::calibrate::{GarchBoundary, GarchT};
use clearstress::history::PriceHistory;
use clearstress::input::Date;

fn returns(asset: &str, from: &str, to: &str) -> Vec<f64> {
    let path = machine::daily_closes();
    let history = PriceHistory::load(&path).unwrap();
    let r = history.returns();
    let a = history.asset_index(asset).unwrap();
    r.between(Date::parse(from).unwrap(), Date::parse(to).unwrap())
        .map(|t| r.get(t, a))
        .filter(|x| !x.is_nan())
        .collect()
}

/// arch 8.0.0: (asset, from, to, returns, omega, alpha, beta, nu, their
/// standard errors, log-likelihood).
type ArchFit = (
    &'static str,
    &'static str,
    &'static str,
    usize,
    [f64; 4],
    [f64; 4],
    f64,
);

const ARCH: [ArchFit; 2] = [
    (
        "SOL",
        "2021-01-01",
        "2024-12-31",
        1461,
        [
            2.0023206838978464e-4,
            0.12514031237410564,
            0.8211485461962651,
            5.338299400592282,
        ],
        [
            6.929861084107783e-5,
            0.029273988599978484,
            0.039645496160692024,
            0.7223235757350195,
        ],
        2193.3737191621385,
    ),
    (
        "LTC",
        "2019-01-01",
        "2022-12-31",
        1461,
        [
            2.3186269113347963e-4,
            0.1277723911156801,
            0.8139977347089717,
            3.3487196795346494,
        ],
        [
            8.658835615240107e-5,
            0.03460448146045333,
            0.044624069430500866,
            0.32097551074715003,
        ],
        2437.6919908232485,
    ),
];

#[test]
fn garch_t_estimates_match_the_arch_package_on_the_shipped_history() {
    for (asset, from, to, n, params, std_errors, log_likelihood) in ARCH {
        let r = returns(asset, from, to);
        assert_eq!(r.len(), n, "{asset}");
        let fit = GarchT::fit(&r).unwrap();
        let p = fit.params;
        let got = [p.omega, p.alpha, p.beta, p.nu];
        eprintln!(
            "{asset}: {got:?} se {:?} ll {}",
            fit.std_errors, fit.log_likelihood
        );
        // The same maximum (measured: likelihoods 1e-10 apart, parameters
        // 1e-6 relative, standard errors 2e-5): likelihoods within 1e-6,
        // parameters within a thousandth of their standard errors, standard
        // errors within 0.1%.
        assert!(
            (fit.log_likelihood - log_likelihood).abs() < 1e-6,
            "{asset}: log-likelihood {} vs {log_likelihood}",
            fit.log_likelihood
        );
        for i in 0..4 {
            assert!(
                (got[i] - params[i]).abs() <= 1e-3 * std_errors[i],
                "{asset} parameter {i}: {} vs {}",
                got[i],
                params[i]
            );
            assert!(
                (fit.std_errors[i] / std_errors[i] - 1.0).abs() <= 1e-3,
                "{asset} standard error {i}: {} vs {}",
                fit.std_errors[i],
                std_errors[i]
            );
        }
    }
}

/// BTC 2018-2024 sits on the boundary alpha + beta = 1 in arch's fit
/// (alpha 0.0722, beta 0.9278, log-likelihood 5366.4612): clearstress keeps
/// the process stationary, so its maximum can only approach that value from
/// below, and must come close.
#[test]
fn a_near_integrated_fit_approaches_the_boundary_likelihood() {
    let r = returns("BTC", "2018-01-01", "2024-12-31");
    let fit = GarchT::fit(&r).unwrap();
    let p = fit.params;
    assert!(p.alpha + p.beta < 1.0);
    assert!(p.alpha + p.beta > 0.99, "{p:?}");
    assert!(
        fit.log_likelihood <= 5366.4612 + 1e-3,
        "{}",
        fit.log_likelihood
    );
    assert!(
        fit.log_likelihood >= 5366.4612 - 0.05,
        "{}",
        fit.log_likelihood
    );
    assert!(
        fit.boundary.contains(&GarchBoundary::Integrated),
        "{:?}",
        fit.boundary
    );
}

/// Fits on an edge of the parameter region are flagged, interior ones not:
/// ETH over the three years to the shipped history's end converges to alpha +
/// beta = 1 - 2e-13 (arch finds the same point), SOL and LTC over the arch
/// reference windows are interior.
#[test]
fn boundary_fits_are_flagged_and_interior_fits_are_not() {
    let cases = [
        (
            "ETH",
            "2022-02-22",
            "2025-02-20",
            vec![GarchBoundary::Integrated],
        ),
        ("SOL", "2021-01-01", "2024-12-31", vec![]),
        ("LTC", "2019-01-01", "2022-12-31", vec![]),
    ];
    for (asset, from, to, expected) in cases {
        let fit = GarchT::fit(&returns(asset, from, to)).unwrap();
        assert_eq!(fit.boundary, expected, "{asset}: {:?}", fit.params);
    }
}

/// scikit-learn 1.9.1 `ledoit_wolf` on the standardised returns of eight
/// assets, 2023-2024 (data/ledoit_wolf_reference.py): 731 days, intensity
/// 0.016545341442275322, shrunk entries (BTC, ETH) 0.7976065604284984,
/// (SOL, DOGE) 0.5420320231642409, (XRP, LTC) 0.5410374818886682; numpy's
/// sample correlation (BTC, ETH) 0.8110252501098731.
#[test]
fn ledoit_wolf_matches_scikit_learn_on_the_shipped_history() {
    use clearstress::calibrate::{ledoit_wolf_correlation, sample_correlation, Aligned};
    let path = machine::daily_closes();
    let history = PriceHistory::load(&path).unwrap();
    let r = history.returns();
    let assets: Vec<usize> = ["BTC", "ETH", "SOL", "XRP", "BNB", "ADA", "DOGE", "LTC"]
        .iter()
        .map(|a| history.asset_index(a).unwrap())
        .collect();
    let window = r.between(
        Date::parse("2023-01-01").unwrap(),
        Date::parse("2024-12-31").unwrap(),
    );
    let days: Vec<usize> = r
        .complete_days(&assets)
        .into_iter()
        .filter(|t| window.contains(t))
        .collect();
    assert_eq!(days.len(), 731);
    let values: Vec<f64> = days
        .iter()
        .flat_map(|&t| assets.iter().map(move |&a| (t, a)))
        .map(|(t, a)| r.get(t, a))
        .collect();
    let aligned = Aligned {
        values: &values,
        assets: 8,
    };
    let lw = ledoit_wolf_correlation(aligned);
    assert!((lw.shrinkage.unwrap() - 0.016545341442275322).abs() < 1e-12);
    for (i, j, want) in [
        (0, 1, 0.7976065604284984),
        (2, 6, 0.5420320231642409),
        (3, 7, 0.5410374818886682),
    ] {
        assert!(
            (lw.get(i, j) - want).abs() < 1e-12,
            "({i}, {j}): {}",
            lw.get(i, j)
        );
    }
    assert_eq!(lw.repair_distance, 0.0);
    assert!((sample_correlation(aligned).get(0, 1) - 0.8110252501098731).abs() < 1e-12);
}

/// data/derive.py wrote the sample market's volatilities as EWMA(0.94) of the
/// 1,096 closes up to 2025-02-20 (six significant digits), stablecoins floored
/// at 1%: calibrating the embedded sample on the shipped history reproduces
/// them, and leaves the
/// synthetic assets, which the history does not hold, as they were.
#[test]
fn calibrating_the_sample_reproduces_its_derived_ewma_volatilities() {
    use clearstress::calibrate::{calibrate_market, CalibrationSpec};
    let path = machine::daily_closes();
    let history = PriceHistory::load(&path).unwrap();
    let mut snapshot = clearstress::sample::embedded().unwrap();
    let before = snapshot.market.clone();
    let spec = CalibrationSpec {
        as_of: Date::parse("2025-02-20"),
        ..CalibrationSpec::default()
    };
    let report = calibrate_market(&history, &mut snapshot.market, &spec).unwrap();
    for fit in &report.assets {
        // Stablecoins included: both floor them at the same 1%.
        if fit.asset.starts_with("USD") {
            assert_eq!(
                fit.volatility,
                clearstress::calibrate::STABLECOIN_VOLATILITY_FLOOR
            );
            assert!(
                fit.floored_from.is_some_and(|v| v < fit.volatility),
                "{fit:?}"
            );
        }
        let rel = (fit.volatility / fit.previous_volatility - 1.0).abs();
        assert!(
            rel < 2e-6,
            "{}: {} vs {}",
            fit.asset,
            fit.volatility,
            fit.previous_volatility
        );
        assert!(fit.garch.is_ok(), "{}: {:?}", fit.asset, fit.garch);
    }
    assert_eq!(report.not_in_history, ["SYN01", "SYN02", "SYN03", "SYN04"]);
    let syn = before.asset_index("SYN01").unwrap();
    assert_eq!(snapshot.market.assets[syn], before.assets[syn]);
    // The whole matrix stays a valid correlation matrix.
    let n = snapshot.market.assets.len();
    assert!(clearstress::linalg::cholesky_psd(&snapshot.market.correlation, n, 1e-9).is_ok());
    // Pairs of crypto assets use all 1,095 days; pairs with a stablecoin the
    // 1,086 up to 2025-02-11, where its closes stop.
    assert_eq!(report.correlation.days, 1095);
    assert!(report
        .correlation
        .short_pairs
        .iter()
        .all(|p| p.days == 1086));
    // The tails of the eight crypto assets' devolatilised joint returns: the
    // Student-t likelihood peaks at nu = 4 (the sample's configured value),
    // and five days moved the market by more than 4 of its standard deviations.
    let tails = &report.tails;
    assert_eq!(tails.days, 1095);
    assert_eq!(tails.student_t_dof, Some(4));
    assert!(!tails.student_t_at_bound);
    assert!(tails.restricted_by.is_empty(), "{:?}", tails.restricted_by);
    // The symmetric multivariate NIG, one parameter as the t's dof, fits the
    // same joint moves better (measured: shape 0.682, -7675.9 against -7692.4).
    let shape = tails.nig_shape.unwrap();
    assert!(shape > 0.5 && shape < 0.9 && !tails.nig_at_bound, "{shape}");
    assert!(tails.nig_log_likelihood.unwrap() > tails.student_t_log_likelihood.unwrap() + 10.0);
    // The candidate innovations, per crypto asset: both fat-tailed models
    // beat the Gaussian by far on every one.
    assert_eq!(tails.candidates.len(), 8);
    for a in &tails.candidates {
        let aic = |i: usize| a.fits[i].aic;
        assert!(aic(0) > aic(1) + 50.0 && aic(0) > aic(2) + 50.0, "{a:?}");
        assert_eq!(a.horizon.horizon_days, 2);
        assert!(a.horizon.models.iter().all(|(_, q)| q.len() == 6));
    }
    // The 2-day 1% and 99% quantiles (the margin period's): NIG closest to the
    // data on average (measured: 0.191 standard deviations of the sums, the
    // Student-t 0.243, the Gaussian 0.483; NIG best for 6 of 8 assets).
    use clearstress::calibrate::innovations::Candidate;
    let mean_error = |model: Candidate| {
        tails
            .candidates
            .iter()
            .map(|a| a.tail_error.iter().find(|(m, _)| *m == model).unwrap().1)
            .sum::<f64>()
            / 8.0
    };
    let (g, t, nig) = (
        mean_error(Candidate::Gaussian),
        mean_error(Candidate::StudentT),
        mean_error(Candidate::Nig),
    );
    assert!(
        nig < t && t < g && nig < 0.25,
        "Gaussian {g}, Student-t {t}, NIG {nig}"
    );
    // Three years to mid-2021 (the 2020-21 rally and the May 2021 crash) put
    // the maximum at the model's lowest 3: reported as a bound, not a fit.
    let mut early = clearstress::sample::embedded().unwrap();
    let spec = CalibrationSpec {
        as_of: Date::parse("2021-06-30"),
        ..CalibrationSpec::default()
    };
    let report = calibrate_market(&history, &mut early.market, &spec).unwrap();
    assert_eq!(report.tails.student_t_dof, Some(3));
    assert!(report.tails.student_t_at_bound);
    // The joint window is SOL's: its closes start in 2020, and its EWMA
    // forecast after 30 returns; said, not hidden.
    let bound: Vec<(String, String)> = report
        .tails
        .restricted_by
        .iter()
        .map(|s| (s.asset.clone(), s.first.to_string()))
        .collect();
    assert_eq!(bound, [("SOL".to_string(), "2020-05-11".to_string())]);
    assert_eq!(report.tails.days, 416);
    // Where the t's fit fails at its bound, NIG's has an interior maximum.
    assert!(!report.tails.nig_at_bound && report.tails.nig_shape.is_some());
    assert_eq!(tails.jump_days, 5);
    let jumps = tails.jumps.as_ref().unwrap();
    assert!((jumps.intensity_per_year - 5.0 * 365.0 / 1095.0).abs() < 1e-12);
}

/// The shipped USDT and USDC closes stop on 2025-02-11, nine days before the
/// others: each correlation entry uses the days its own pair has, so a
/// crypto pair's EWMA correlation is the same as if the stablecoins were not
/// in the market, and the report names every pair with fewer days.
#[test]
fn each_correlation_entry_uses_its_own_pairs_days() {
    use clearstress::calibrate::{
        calibrate_market, ewma_correlation, Aligned, CalibrationSpec, CorrelationModel, DaysUsed,
    };
    let path = machine::daily_closes();
    let history = PriceHistory::load(&path).unwrap();
    let mut snapshot = clearstress::sample::embedded().unwrap();
    let spec = CalibrationSpec {
        as_of: Date::parse("2025-02-20"),
        correlation: CorrelationModel::Ewma,
        ..CalibrationSpec::default()
    };
    let report = calibrate_market(&history, &mut snapshot.market, &spec).unwrap();
    let c = &report.correlation;
    assert_eq!(c.days_used, DaysUsed::Pairwise);
    assert_eq!(c.last_used, Date::parse("2025-02-20").unwrap());
    // Every short pair holds a stablecoin, and every pair with one is short.
    assert_eq!(c.short_pairs.len(), 8 * 2 + 1);
    for p in &c.short_pairs {
        assert!(p.assets.iter().any(|a| a.starts_with("USD")), "{p:?}");
        assert_eq!(p.last, Date::parse("2025-02-11").unwrap());
    }
    // ADA/LTC, recomputed on their own returns over the window.
    let r = history.returns();
    let (ada, ltc) = (
        history.asset_index("ADA").unwrap(),
        history.asset_index("LTC").unwrap(),
    );
    let values: Vec<f64> = r
        .between(report.from, report.as_of)
        .filter(|&t| !r.get(t, ada).is_nan() && !r.get(t, ltc).is_nan())
        .flat_map(|t| [r.get(t, ada), r.get(t, ltc)])
        .collect();
    assert_eq!(values.len() / 2, c.days);
    let want = ewma_correlation(
        Aligned {
            values: &values,
            assets: 2,
        },
        spec.lambda,
    )
    .get(0, 1);
    let k = c.assets.len();
    let (i, j) = (
        c.assets.iter().position(|a| a == "ADA").unwrap(),
        c.assets.iter().position(|a| a == "LTC").unwrap(),
    );
    assert!(
        (c.matrix[i * k + j] - want).abs() < 1e-9,
        "ADA/LTC {} vs {want} (repair distance {})",
        c.matrix[i * k + j],
        c.repair_distance
    );
}

/// The candidate innovation distributions, fitted by maximum likelihood to
/// BTC's 731 daily log returns of 2023-2024, reach at least the likelihood
/// scipy 1.17.1's fits reach (data/nig_reference.py): Gaussian
/// 1649.6264928261862 (closed form: equal), Student-t 1697.949670565818 (df
/// 2.8778), NIG 1706.3418999731803. NIG fits best by AIC, and alone of the
/// heavy-tailed two keeps E[exp(x)] finite.
#[test]
fn candidate_innovations_fit_at_least_as_well_as_scipy() {
    use clearstress::calibrate::innovations::{fit_candidates, Candidate};
    let r = returns("BTC", "2023-01-01", "2024-12-31");
    assert_eq!(r.len(), 731);
    let fits = fit_candidates(&r);
    let by = |m: Candidate| fits.iter().find(|f| f.model == m).unwrap();
    let (gauss, t, nig) = (
        by(Candidate::Gaussian),
        by(Candidate::StudentT),
        by(Candidate::Nig),
    );
    assert!(
        (gauss.log_likelihood - 1649.6264928261862).abs() < 1e-9,
        "{gauss:?}"
    );
    assert!(t.log_likelihood >= 1697.949670565818 - 1e-6, "{t:?}");
    assert!(
        (t.parameters[0].1 - 2.877754138779921).abs() < 1e-3,
        "{t:?}"
    );
    assert!(nig.log_likelihood >= 1706.3418999731803 - 1e-6, "{nig:?}");
    assert!(nig.aic < t.aic && t.aic < gauss.aic);
    assert!(nig.finite_exponential_moment && !t.finite_exponential_moment);
    eprintln!("{fits:?}");
}
