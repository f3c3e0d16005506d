//! Candidate distributions for the Monte Carlo model's daily innovations,
//! fitted by maximum likelihood to an asset's devolatilised returns and
//! compared, so that the choice of the default model rests on the data
//! (log-likelihood and AIC) and on whether the price has a finite expected
//! value under it (the exponential moment E[exp(x)] that the martingale
//! drift needs).
//!
//! - Gaussian: mean and standard deviation (closed form).
//! - Student-t, location-scale with degrees of freedom nu > 2: heavy
//!   (polynomial) tails, so E[exp(x)] is infinite for every nu.
//! - Normal inverse Gaussian (Barndorff-Nielsen, "Normal inverse Gaussian
//!   distributions and stochastic volatility modelling", Scand. J. Statist. 24,
//!   1997): density
//!   `f(x) = alpha delta K1(alpha q) / (pi q) exp(delta gamma + beta (x - mu))`,
//!   `q = sqrt(delta^2 + (x - mu)^2)`, `gamma = sqrt(alpha^2 - beta^2)`,
//!   `|beta| < alpha`, `delta > 0`: semi-heavy tails `|x|^(-3/2) exp(-alpha |x| +
//!   beta x)`, skew through beta, and a finite moment generating function
//!   `E[exp(u x)] = exp(mu u + delta (gamma - sqrt(alpha^2 - (beta + u)^2)))`
//!   for `-alpha - beta < u < alpha - beta`. scipy's `norminvgauss(a, b, loc,
//!   scale)` is the same with `a = alpha delta`, `b = beta delta`, `scale =
//!   delta`, `loc = mu` (data/nig_reference.py).

use serde::Serialize;
use statrs::function::gamma::ln_gamma;

use super::optimize::nelder_mead;

/// `exp(x) K_nu(x)` for `x > 0`, `nu >= 0`, K_nu the modified Bessel function
/// of the second kind, by the trapezoidal rule on its integral representation
/// `exp(x) K_nu(x) = int_0^inf exp(-2 x sinh^2(t/2)) cosh(nu t) dt` (DLMF
/// 10.32.9). The integrand is analytic and decays doubly exponentially, so the
/// rule converges geometrically; the step follows the width of the
/// integrand's peak, at `sinh t = nu / x`, which is `(x^2 + nu^2)^(-1/4)`.
/// Measured against scipy's `kve`: relative error below 1.8e-14 for nu in
/// [0.5, 30] and x in [1e-2, 1e6] (at most 110 terms), and for `k1e` over x in
/// [1e-10, 1e8] below 1.5e-14.
pub fn bessel_k_scaled(nu: f64, x: f64) -> f64 {
    debug_assert!(x > 0.0 && nu >= 0.0);
    let h = 0.1 * (5.0 / (x * x + nu * nu).sqrt().sqrt()).min(1.0);
    let peak = (nu / x).asinh();
    let mut sum = 0.5;
    let mut t = h;
    loop {
        let s = (0.5 * t).sinh();
        let term = (-2.0 * x * s * s).exp() * (nu * t).cosh();
        sum += term;
        if t > peak && term < 1e-17 * sum {
            return sum * h;
        }
        t += h;
    }
}

/// `exp(x) K1(x)` ([`bessel_k_scaled`] of order 1).
pub fn bessel_k1_scaled(x: f64) -> f64 {
    bessel_k_scaled(1.0, x)
}

/// Normal inverse Gaussian parameters (Barndorff-Nielsen's alpha, beta, delta, mu).
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct Nig {
    pub alpha: f64,
    pub beta: f64,
    pub delta: f64,
    pub mu: f64,
}

impl Nig {
    pub fn new(alpha: f64, beta: f64, delta: f64, mu: f64) -> Option<Self> {
        let valid = [alpha, beta, delta, mu].iter().all(|x| x.is_finite())
            && beta.abs() < alpha
            && delta > 0.0;
        valid.then_some(Self {
            alpha,
            beta,
            delta,
            mu,
        })
    }

    fn gamma(&self) -> f64 {
        (self.alpha * self.alpha - self.beta * self.beta).sqrt()
    }

    pub fn log_pdf(&self, x: f64) -> f64 {
        let y = x - self.mu;
        let q = self.delta.hypot(y);
        let z = self.alpha * q;
        (self.alpha * self.delta / (std::f64::consts::PI * q)).ln() + bessel_k1_scaled(z).ln() - z
            + self.delta * self.gamma()
            + self.beta * y
    }

    /// `ln E[exp(u x)]`, finite for `-alpha - beta < u < alpha - beta`.
    pub fn log_mgf(&self, u: f64) -> Option<f64> {
        let b = self.beta + u;
        (b.abs() < self.alpha).then(|| {
            self.mu * u + self.delta * (self.gamma() - (self.alpha * self.alpha - b * b).sqrt())
        })
    }

    pub fn mean(&self) -> f64 {
        self.mu + self.delta * self.beta / self.gamma()
    }

    pub fn variance(&self) -> f64 {
        self.delta * self.alpha * self.alpha / self.gamma().powi(3)
    }
}

/// A location-scale Student-t with `nu > 2` degrees of freedom.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct LocationScaleT {
    pub nu: f64,
    pub location: f64,
    pub scale: f64,
}

impl LocationScaleT {
    pub fn log_pdf(&self, x: f64) -> f64 {
        let nu = self.nu;
        let z = (x - self.location) / self.scale;
        ln_gamma((nu + 1.0) / 2.0)
            - ln_gamma(nu / 2.0)
            - 0.5 * (nu * std::f64::consts::PI).ln()
            - self.scale.ln()
            - 0.5 * (nu + 1.0) * (z * z / nu).ln_1p()
    }
}

/// One candidate's maximum-likelihood fit to a series.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct CandidateFit {
    pub model: Candidate,
    /// The parameters by name, as the model states them (Gaussian: mean, sd;
    /// Student-t: nu, location, scale; NIG: alpha, beta, delta, mu).
    pub parameters: Vec<(&'static str, f64)>,
    pub log_likelihood: f64,
    /// Akaike's criterion, `2 k - 2 ln L`: lower is better.
    pub aic: f64,
    /// Whether `E[exp(x)]` is finite (the price's expectation under the
    /// model, which the martingale drift corrects for).
    pub finite_exponential_moment: bool,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum Candidate {
    Gaussian,
    StudentT,
    Nig,
}

fn fitted(
    model: Candidate,
    parameters: Vec<(&'static str, f64)>,
    log_likelihood: f64,
    finite_exponential_moment: bool,
) -> CandidateFit {
    let k = parameters.len() as f64;
    CandidateFit {
        model,
        parameters,
        log_likelihood,
        aic: 2.0 * k - 2.0 * log_likelihood,
        finite_exponential_moment,
    }
}

fn mean_and_sd(x: &[f64]) -> (f64, f64) {
    let n = x.len() as f64;
    let mean = x.iter().sum::<f64>() / n;
    let var = x.iter().map(|v| (v - mean).powi(2)).sum::<f64>() / n;
    (mean, var.sqrt())
}

/// The Gaussian maximum-likelihood fit (mean, and the standard deviation
/// divided by n).
pub fn fit_gaussian(x: &[f64]) -> CandidateFit {
    let (mean, sd) = mean_and_sd(x);
    let n = x.len() as f64;
    let ll = -0.5 * n * (2.0 * std::f64::consts::PI * sd * sd).ln() - 0.5 * n;
    fitted(
        Candidate::Gaussian,
        vec![("mean", mean), ("sd", sd)],
        ll,
        true,
    )
}

/// The location-scale Student-t maximum-likelihood fit, nu in (2, 500].
pub fn fit_student_t(x: &[f64]) -> CandidateFit {
    let (mean, sd) = mean_and_sd(x);
    let from_free = |z: &[f64]| LocationScaleT {
        nu: 2.0 + 498.0 / (1.0 + (-z[0]).exp()),
        location: mean + sd * z[1],
        scale: sd * z[2].exp(),
    };
    let negative = |z: &[f64]| -> f64 {
        let t = from_free(z);
        -x.iter().map(|&v| t.log_pdf(v)).sum::<f64>()
    };
    // Start at nu = 5 (logit of 3/498), scale = sd sqrt(3/5).
    let start = [(3.0_f64 / 495.0).ln(), 0.0, 0.5 * (0.6_f64).ln()];
    let best = refine(negative, &start);
    let t = from_free(&best.0);
    fitted(
        Candidate::StudentT,
        vec![("nu", t.nu), ("location", t.location), ("scale", t.scale)],
        -best.1,
        false,
    )
}

/// The normal inverse Gaussian maximum-likelihood fit.
pub fn fit_nig(x: &[f64]) -> CandidateFit {
    let (mean, sd) = mean_and_sd(x);
    // Free parameters: ln(alpha delta), atanh(beta / alpha), mu in sd units
    // around the mean, ln(delta / sd): scipy's (a, b, loc, scale) in
    // unconstrained form.
    let from_free = |z: &[f64]| -> Option<Nig> {
        let a = z[0].exp();
        let delta = sd * z[3].exp();
        let alpha = a / delta;
        Nig::new(alpha, alpha * z[1].tanh(), delta, mean + sd * z[2])
    };
    let negative = |z: &[f64]| -> f64 {
        from_free(z).map_or(f64::INFINITY, |d| {
            -x.iter().map(|&v| d.log_pdf(v)).sum::<f64>()
        })
    };
    // A symmetric start with unit variance: a = 1, delta = sd (variance
    // delta^2 / a for beta = 0).
    let start = [0.0, 0.0, 0.0, 0.0];
    let best = refine(negative, &start);
    let d = from_free(&best.0).unwrap_or(Nig {
        alpha: 1.0 / sd,
        beta: 0.0,
        delta: sd,
        mu: mean,
    });
    fitted(
        Candidate::Nig,
        vec![
            ("alpha", d.alpha),
            ("beta", d.beta),
            ("delta", d.delta),
            ("mu", d.mu),
        ],
        -best.1,
        d.log_mgf(1.0).is_some(),
    )
}

/// Nelder-Mead from `start`, restarted from its own optimum until it stops
/// improving (a simplex can stall short of the optimum).
fn refine(f: impl Fn(&[f64]) -> f64, start: &[f64]) -> (Vec<f64>, f64) {
    let mut best = nelder_mead(&f, start, 0.5, 1e-10, 20_000);
    for _ in 0..5 {
        let again = nelder_mead(&f, &best.x, 0.1, 1e-10, 20_000);
        let improved = again.value < best.value - 1e-9;
        if again.value <= best.value {
            best = again;
        }
        if !improved {
            break;
        }
    }
    (best.x, best.value)
}

/// Every candidate fitted to `x`, in the order Gaussian, Student-t, NIG.
pub fn fit_candidates(x: &[f64]) -> Vec<CandidateFit> {
    vec![fit_gaussian(x), fit_student_t(x), fit_nig(x)]
}

impl CandidateFit {
    /// The fitted daily law's log density.
    fn log_pdf(&self) -> impl Fn(f64) -> f64 + '_ {
        let p = |name: &str| {
            self.parameters
                .iter()
                .find(|(n, _)| *n == name)
                .map_or(f64::NAN, |(_, v)| *v)
        };
        let model = self.model;
        let (gaussian, t) = (
            (p("mean"), p("sd")),
            LocationScaleT {
                nu: p("nu"),
                location: p("location"),
                scale: p("scale"),
            },
        );
        let nig = Nig::new(p("alpha"), p("beta"), p("delta"), p("mu"));
        move |x: f64| match model {
            Candidate::Gaussian => {
                let z = (x - gaussian.0) / gaussian.1;
                -0.5 * z * z - (gaussian.1 * (2.0 * std::f64::consts::PI).sqrt()).ln()
            }
            Candidate::StudentT => t.log_pdf(x),
            Candidate::Nig => nig.map_or(f64::NEG_INFINITY, |d| d.log_pdf(x)),
        }
    }
}

/// Probabilities of the quantile comparison.
pub const QUANTILE_PROBABILITIES: [f64; 6] = [0.001, 0.01, 0.05, 0.95, 0.99, 0.999];

/// Quantiles of the sum of `horizon` consecutive daily moves: the data's
/// (overlapping sums) and each fitted candidate's.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct HorizonQuantiles {
    pub horizon_days: u32,
    pub probabilities: Vec<f64>,
    pub empirical: Vec<f64>,
    /// Per candidate, in [`fit_candidates`] order.
    pub models: Vec<(Candidate, Vec<f64>)>,
}

impl HorizonQuantiles {
    /// Mean absolute distance of `model`'s 1% and 99% quantiles from the
    /// data's, in standard deviations of the data's sums.
    pub fn tail_error(&self, model: Candidate, sums_sd: f64) -> Option<f64> {
        let (_, q) = self.models.iter().find(|(m, _)| *m == model)?;
        let at = |p: f64| self.probabilities.iter().position(|&x| x == p);
        let (lo, hi) = (at(0.01)?, at(0.99)?);
        Some(
            0.5 * ((q[lo] - self.empirical[lo]).abs() + (q[hi] - self.empirical[hi]).abs())
                / sums_sd,
        )
    }
}

/// The quantiles of the `horizon`-day sums of `x` and of each fitted
/// candidate's law of such sums: a candidate's sum of `horizon` independent
/// daily draws is simulated (`draws` sums from Philox uniforms of `seed`,
/// each mapped through the daily law's CDF tabulated on a grid of 0.005
/// standard deviations over +-200 of them; the Student-t is not closed under
/// convolution, so all three are treated alike). Returns the quantiles and the
/// standard deviation of the data's sums.
pub fn horizon_quantiles(
    x: &[f64],
    fits: &[CandidateFit],
    horizon: u32,
    draws: usize,
    seed: u64,
) -> (HorizonQuantiles, f64) {
    use crate::rng::{ScenarioRng, Stream};
    let h = horizon.max(1) as usize;
    let sums: Vec<f64> = x.windows(h).map(|w| w.iter().sum()).collect();
    let (_, sums_sd) = mean_and_sd(&sums);
    let quantiles = |mut v: Vec<f64>| -> Vec<f64> {
        v.sort_by(f64::total_cmp);
        QUANTILE_PROBABILITIES
            .iter()
            .map(|&p| v[((p * v.len() as f64).ceil() as usize).clamp(1, v.len()) - 1])
            .collect()
    };
    let (mean, sd) = mean_and_sd(x);
    let (lo, step) = (mean - 200.0 * sd, 0.005 * sd);
    let rng = ScenarioRng::new(seed);
    let models = fits
        .iter()
        .map(|fit| {
            let log_pdf = fit.log_pdf();
            let mut cdf = Vec::with_capacity(80_000);
            let mut total = 0.0;
            for i in 0..80_000 {
                total += log_pdf(lo + (i as f64 + 0.5) * step).exp() * step;
                cdf.push(total);
            }
            let inverse = |u: f64| {
                let i = cdf.partition_point(|&c| c < u * total).min(cdf.len() - 1);
                lo + (i as f64 + 0.5) * step
            };
            let simulated: Vec<f64> = (0..draws as u64)
                .map(|n| {
                    (0..h as u32)
                        .map(|d| inverse(rng.uniforms(n, d, Stream::Generator, 0)[0]))
                        .sum()
                })
                .collect();
            (fit.model, quantiles(simulated))
        })
        .collect();
    (
        HorizonQuantiles {
            horizon_days: h as u32,
            probabilities: QUANTILE_PROBABILITIES.to_vec(),
            empirical: quantiles(sums),
            models,
        },
        sums_sd,
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    /// scipy 1.17.1 (data/nig_reference.py): `k1e(x)`.
    #[test]
    fn bessel_k1_matches_scipy() {
        for (x, want) in [
            (1e-6, 1000000.9999932843),
            (0.1, 10.890182683049698),
            (1.0, 1.636153486263258),
            (10.0, 0.4107665705957887),
            (1e4, 0.012533611351270504),
        ] {
            let got = bessel_k1_scaled(x);
            assert!((got / want - 1.0).abs() < 1e-13, "{x}: {got} vs {want}");
        }
        // scipy's `kve(nu, x)` at other orders.
        for (nu, x, want) in [
            (0.5, 1.0, 1.2533141373155003),
            (1.5, 2.0, 1.329340388179137),
            (4.5, 3.0, 10.505618214327441),
            (10.0, 0.7, 13066296719.597597),
            (2.0, 50.0, 0.18394981819978196),
        ] {
            let got = bessel_k_scaled(nu, x);
            assert!(
                (got / want - 1.0).abs() < 1e-13,
                "K_{nu}({x}): {got} vs {want}"
            );
        }
    }

    /// The simulated two-day quantiles of a Gaussian fit are the closed form
    /// `2 mean + sqrt(2) sd z_p`, within Monte Carlo error.
    #[test]
    fn horizon_quantiles_of_a_gaussian_match_the_closed_form() {
        use statrs::distribution::{ContinuousCDF, Normal};
        let x: Vec<f64> = (0..500)
            .map(|i| ((i * 37) % 101) as f64 / 50.0 - 1.0)
            .collect();
        let fit = fit_gaussian(&x);
        let (q, _) = horizon_quantiles(&x, std::slice::from_ref(&fit), 2, 400_000, 3);
        let (mean, sd) = (fit.parameters[0].1, fit.parameters[1].1);
        let normal = Normal::new(0.0, 1.0).unwrap();
        for (p, got) in q.probabilities.iter().zip(&q.models[0].1) {
            let want = 2.0 * mean + 2f64.sqrt() * sd * normal.inverse_cdf(*p);
            let tolerance = if *p < 0.005 || *p > 0.995 { 0.02 } else { 0.01 };
            assert!(
                (got - want).abs() < tolerance * 2f64.sqrt() * sd * 3.0,
                "p {p}: {got} vs {want}"
            );
        }
        assert_eq!(q.empirical.len(), QUANTILE_PROBABILITIES.len());
    }

    /// scipy's `norminvgauss(a, b, loc, scale).logpdf(x)` at a skewed,
    /// heavy-tailed parameter set, in its body and far in both tails.
    #[test]
    fn nig_density_matches_scipy() {
        let (a, b, loc, scale) = (1.3, -0.4, 0.1, 0.8);
        let d = Nig::new(a / scale, b / scale, scale, loc).unwrap();
        for (x, want) in [
            (-8.0, -11.95666972990744),
            (-1.0, -1.6427244235050937),
            (0.0, -0.3827481430891093),
            (0.5, -0.9489062309514806),
            (6.0, -14.92680669210717),
        ] {
            let got = d.log_pdf(x);
            assert!((got - want).abs() < 1e-12, "{x}: {got} vs {want}");
        }
        // Mean and variance from the MGF's derivatives.
        let h = 1e-5;
        let m1 = (d.log_mgf(h).unwrap() - d.log_mgf(-h).unwrap()) / (2.0 * h);
        let m2 = (d.log_mgf(h).unwrap() - 2.0 * d.log_mgf(0.0).unwrap() + d.log_mgf(-h).unwrap())
            / (h * h);
        assert!((m1 - d.mean()).abs() < 1e-8 && (m2 / d.variance() - 1.0).abs() < 1e-4);
    }
}
