//! Monte Carlo margins against closed forms, within their standard errors.

mod common;

use clearstress::backend::{Backend, CpuBackend};
use clearstress::engine::{self, RunLimits};
use clearstress::snapshot::{Innovations, InstrumentKind, JumpConfig, Settlement, Snapshot};
use statrs::distribution::{ContinuousCDF, Normal, StudentsT};

const SPOT: f64 = 100.0;
const VOL: f64 = 0.8;
const DAYS: f64 = 2.0;

/// One member long one unit of a linear perpetual (no funding) on one asset:
/// its loss is S0 (1 - R) with R lognormal.
fn single_asset_book(paths: u64) -> Snapshot {
    let mut s = common::market_snapshot(
        vec![common::asset("X", SPOT, VOL)],
        vec![1.0],
        vec![common::member("A", "A")],
    );
    let perp = common::add_instrument(
        &mut s,
        "X-PERP",
        0,
        Settlement::Linear,
        1.0,
        InstrumentKind::Perpetual,
    );
    common::hold(&mut s, 0, perp, 1.0);
    s.config.scenario.paths = paths;
    s.config.risk.margin_period_days = DAYS;
    s.config.risk.var_confidence = vec![0.99, 0.995];
    s.config.risk.es_confidence = vec![0.99, 0.975];
    s
}

fn run(s: &Snapshot) -> engine::RunResult {
    let backend = CpuBackend::new(None).unwrap();
    engine::run(&backend, s, RunLimits::default(), &|_| {}).unwrap()
}

/// For R = exp(-s^2/2 + s Z), s = sigma sqrt(h): the loss S0 (1 - R) has
/// VaR_a = S0 (1 - exp(-s^2/2 - s z_a)) and ES_a = S0 (1 - Phi(-z_a - s) / (1 - a)).
#[test]
fn gaussian_var_and_es_match_the_lognormal_closed_form() {
    let paths = 400_000;
    let result = run(&single_asset_book(paths));
    let normal = Normal::new(0.0, 1.0).unwrap();
    let s = VOL * (DAYS / 365.0f64).sqrt();
    for m in &result.margin.members[0].measures {
        let a = m.confidence;
        let z = normal.inverse_cdf(a);
        let var = SPOT * (1.0 - (-0.5 * s * s - s * z).exp());
        let es = SPOT * (1.0 - normal.cdf(-z - s) / (1.0 - a));
        // Standard error of the empirical quantile: sqrt(a (1 - a) / N) / f(VaR),
        // with f the loss density at VaR (lognormal density through R = 1 - L/S0).
        let r = 1.0 - var / SPOT;
        let density = (-(((r.ln() + 0.5 * s * s) / s).powi(2)) / 2.0).exp()
            / ((2.0 * std::f64::consts::PI).sqrt() * r * s)
            / SPOT;
        let var_se = (a * (1.0 - a) / paths as f64).sqrt() / density;
        assert!(
            (m.var - var).abs() < 4.0 * var_se,
            "VaR {a}: {} vs {var} (se {var_se})",
            m.var
        );
        assert!(
            (m.es - es).abs() < 4.0 * m.es_std_error,
            "ES {a}: {} vs {es} (se {})",
            m.es,
            m.es_std_error
        );
        assert!(
            m.es_std_error < 0.01 * es,
            "the standard error is small at this path count"
        );
    }
}

/// Multivariate t with nu degrees of freedom scaled to unit variance: the log
/// return is -s^2/2 + s sqrt((nu-2)/nu) T_nu, so VaR_a = S0 (1 - exp(-s^2/2 -
/// s sqrt((nu-2)/nu) t_{nu,a})).
#[test]
fn student_t_var_matches_the_t_quantile() {
    let paths = 400_000;
    let mut book = single_asset_book(paths);
    book.config.scenario.innovations = Innovations::StudentT;
    book.config.scenario.dof = 4;
    let result = run(&book);
    let nu = 4.0;
    let t = StudentsT::new(0.0, 1.0, nu).unwrap();
    let s = VOL * (DAYS / 365.0f64).sqrt();
    let scale = s * ((nu - 2.0) / nu).sqrt();
    for m in &result.margin.members[0].measures {
        let a = m.confidence;
        let q = t.inverse_cdf(a);
        let var = SPOT * (1.0 - (-0.5 * s * s - scale * q).exp());
        // Loss density at VaR through the t density of the log return.
        let r = 1.0 - var / SPOT;
        let density = t.pdf((r.ln() + 0.5 * s * s) / scale) / (scale * r * SPOT);
        let var_se = (a * (1.0 - a) / paths as f64).sqrt() / density;
        assert!(
            (m.var - var).abs() < 4.0 * var_se,
            "VaR {a}: {} vs {var} (se {var_se})",
            m.var
        );
    }
    // Fat tails: the t margin is above the Gaussian one at 99.5%.
    let gaussian = run(&single_asset_book(paths));
    assert!(
        result.margin.members[0].at(0.995).unwrap().var
            > gaussian.margin.members[0].at(0.995).unwrap().var
    );
}

use statrs::distribution::Continuous;

/// Prices are martingales over the horizon in every model: E[R] = 1, here with
/// Student-t innovations and market-wide jumps, within 5 standard errors.
#[test]
fn every_model_keeps_prices_martingales() {
    let mut s = common::mixed_book();
    s.config.scenario.innovations = Innovations::StudentT;
    s.config.scenario.dof = 5;
    s.config.scenario.jumps = Some(JumpConfig {
        intensity_per_year: 20.0,
        mean_sigmas: -3.0,
        stdev_sigmas: 2.0,
    });
    s.config.risk.steps = 4;
    let common::Prepared {
        book: _,
        model: _,
        backend,
        plan,
    } = common::prepare(&s, None);
    let n = 200_000;
    let block = backend.scenarios(&plan, 0..n).unwrap();
    for a in 0..3 {
        let xs: Vec<f64> = (0..n as usize).map(|i| block.returns_of(i)[a]).collect();
        let mean = xs.iter().sum::<f64>() / n as f64;
        let sd = (xs.iter().map(|x| (x - mean).powi(2)).sum::<f64>() / n as f64).sqrt();
        assert!(
            mean.abs() < 5.0 * sd / (n as f64).sqrt(),
            "asset {a}: mean return {mean}, sd {sd}"
        );
    }
}

/// With jumps of intensity lambda per year, the share of scenarios with at least
/// one jump over the horizon is 1 - exp(-lambda h).
#[test]
fn jump_counts_follow_the_poisson_law() {
    use clearstress::scenario::poisson_inverse_cdf;
    let mean = 0.7;
    let n = 200_000;
    let mut counts = [0u32; 8];
    for i in 0..n {
        let u = (f64::from(i) + 0.5) / f64::from(n);
        counts[poisson_inverse_cdf(mean, u).min(7) as usize] += 1;
    }
    let mut p = (-mean).exp();
    for (k, &c) in counts.iter().enumerate().take(6) {
        assert!((f64::from(c) / f64::from(n) - p).abs() < 1e-4, "P(N = {k})");
        p *= mean / (k + 1) as f64;
    }
}

/// NIG innovations (the default), one step: the log return is `mu + s X` with
/// X the unit-variance symmetric NIG (alpha = delta = sqrt(lambda)) and `mu =
/// -s^2 / (1 + sqrt(1 - s^2 / lambda))`, so VaR_a = S0 (1 - exp(mu + s q)),
/// q the (1 - a) quantile of X, and ES_a = S0 (1 - E[exp(mu + s X); X <= q] /
/// (1 - a)). The quantile and the partial expectation come from the NIG
/// density (`calibrate::innovations::Nig`, held to scipy) by the midpoint rule
/// on [-60, q]; the Monte Carlo VaR and ES agree within 4 standard errors.
#[test]
fn nig_var_and_es_match_the_nig_quantile_and_partial_expectation() {
    use clearstress::calibrate::innovations::Nig;
    let paths = 400_000;
    let lambda = 0.7;
    let mut book = single_asset_book(paths);
    book.config.scenario.innovations = Innovations::Nig;
    book.config.scenario.nig_shape = lambda;
    let result = run(&book);
    let root = f64::sqrt(lambda);
    let x_law = Nig::new(root, 0.0, root, 0.0).unwrap();
    let s = VOL * (DAYS / 365.0f64).sqrt();
    let mu = -s * s / (1.0 + (1.0 - s * s / lambda).sqrt());
    // Lower-tail CDF and partial exponential moment on a midpoint grid.
    let (lo, h) = (-60.0, 2e-4);
    let cells = (60.0 / h) as usize;
    let (mut cdf, mut partial) = (Vec::with_capacity(cells), Vec::with_capacity(cells));
    let (mut c, mut p) = (0.0, 0.0);
    for i in 0..cells {
        let x = lo + (i as f64 + 0.5) * h;
        let f = x_law.log_pdf(x).exp() * h;
        c += f;
        p += (mu + s * x).exp() * f;
        cdf.push((x + 0.5 * h, c));
        partial.push(p);
    }
    for m in &result.margin.members[0].measures {
        let a = m.confidence;
        let i = cdf.partition_point(|&(_, c)| c < 1.0 - a);
        let q = cdf[i].0;
        let var = SPOT * (1.0 - (mu + s * q).exp());
        let es = SPOT * (1.0 - partial[i] / (1.0 - a));
        let r = (mu + s * q).exp();
        let density = x_law.log_pdf(q).exp() / (s * r * SPOT);
        let var_se = (a * (1.0 - a) / paths as f64).sqrt() / density;
        assert!(
            (m.var - var).abs() < 4.0 * var_se + SPOT * s * h,
            "VaR {a}: {} vs {var} (se {var_se})",
            m.var
        );
        assert!(
            (m.es - es).abs() < 4.0 * m.es_std_error + SPOT * s * h,
            "ES {a}: {} vs {es} (se {})",
            m.es,
            m.es_std_error
        );
    }
}
