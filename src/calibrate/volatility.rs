//! Volatility models fitted to one asset's daily log returns.
//!
//! - EWMA: [`crate::volatility_filter::Ewma`], the filter that filtered
//!   historical simulation shares; its errors convert into [`VolatilityError`].
//! - GARCH(1,1) with standardised Student-t innovations (Bollerslev, "A
//!   conditionally heteroskedastic time series model for speculative prices
//!   and rates of return", Rev. Econ. Stat. 69, 1987):
//!   `r_t = s_t z_t`, `s2_t = omega + alpha r_{t-1}^2 + beta s2_{t-1}`,
//!   z_t ~ t_nu scaled to unit variance, zero mean. The recursion starts from
//!   the backcast `sum_i w_i r_i^2` over the first min(75, n) returns with
//!   weights proportional to 0.94^i, as the `arch` Python package does, so that
//!   estimates can be held against it. Maximum likelihood by Nelder-Mead on an
//!   unconstrained transform (omega > 0, alpha, beta >= 0, alpha + beta < 1,
//!   2 < nu < 500), standard errors from the inverse of the observed information
//!   (central-difference Hessian of the log-likelihood).

use statrs::function::gamma::ln_gamma;

use super::optimize::{hessian, nelder_mead};
use crate::volatility_filter::EwmaError;

/// Why a volatility model cannot be built or fitted.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum VolatilityError {
    #[error("{parameter} = {value} is out of range: expected {expected}")]
    OutOfRange {
        parameter: &'static str,
        value: f64,
        expected: &'static str,
    },
    #[error("{returns} returns: at least {needed} are needed")]
    TooFewReturns { returns: usize, needed: usize },
    #[error(
        "the likelihood has no maximum inside the parameter space (last value {log_likelihood})"
    )]
    NoMaximum { log_likelihood: f64 },
    #[error("not fitted (calibration asked for no GARCH fit)")]
    NotFitted,
}

/// The same words as the filter's own message.
impl From<EwmaError> for VolatilityError {
    fn from(e: EwmaError) -> Self {
        match e {
            EwmaError::Lambda(value) => Self::OutOfRange {
                parameter: "lambda",
                value,
                expected: "in (0, 1)",
            },
            EwmaError::TooFewReturns { returns, needed } => Self::TooFewReturns { returns, needed },
        }
    }
}

/// GARCH(1,1) parameters with standardised Student-t innovations.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct GarchT {
    pub omega: f64,
    pub alpha: f64,
    pub beta: f64,
    pub nu: f64,
}

/// A maximum-likelihood fit.
#[derive(Debug, Clone, PartialEq)]
pub struct GarchFit {
    pub params: GarchT,
    /// Standard errors of (omega, alpha, beta, nu); NaN where the information
    /// matrix is not invertible at the optimum.
    pub std_errors: [f64; 4],
    pub log_likelihood: f64,
    pub returns: usize,
    pub iterations: usize,
    /// The conditional variance for the day after the last return.
    pub next_variance: f64,
    /// Where the optimum lies on the edge of the admissible region (empty for
    /// an interior fit): there the inverse-Hessian standard errors do not hold
    /// (asymptotic normality of the MLE needs an interior optimum) and, for an
    /// integrated fit, there is no long-run variance.
    pub boundary: Vec<GarchBoundary>,
}

/// An edge of GARCH(1,1)-t's parameter region that a fit can converge to.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum GarchBoundary {
    /// alpha + beta within [`GarchT::INTEGRATED_WITHIN`] of 1 (IGARCH): a
    /// variance shock's half-life exceeds 19 years and omega / (1 - alpha -
    /// beta) is no long-run variance.
    Integrated,
    /// alpha below [`GarchT::ZERO_WITHIN`]: no ARCH effect.
    NoArch,
    /// beta below [`GarchT::ZERO_WITHIN`]: no persistence beyond a day.
    NoGarch,
    /// nu at its upper bound [`GarchT::MAX_NU`]: the tails are normal.
    NormalTails,
    /// nu within 0.01 of 2: the innovations barely have a variance.
    InfiniteVariance,
}

impl std::fmt::Display for GarchBoundary {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            Self::Integrated => "integrated (alpha + beta = 1)",
            Self::NoArch => "alpha = 0",
            Self::NoGarch => "beta = 0",
            Self::NormalTails => "nu at its upper bound",
            Self::InfiniteVariance => "nu at 2",
        })
    }
}

impl GarchT {
    /// Returns the backcast averages.
    pub const BACKCAST_RETURNS: usize = 75;
    const MIN_NU: f64 = 2.0;
    /// Beyond this the t is a normal for all practical purposes; the bound keeps
    /// the search off the likelihood's flat ridge when the data are normal.
    pub const MAX_NU: f64 = 500.0;
    /// A persistence this close to 1 is reported as integrated: ln 2 / 1e-4
    /// days is a half-life of 19 years, past any history the fit sees.
    pub const INTEGRATED_WITHIN: f64 = 1e-4;
    /// alpha or beta below this is at its zero bound.
    pub const ZERO_WITHIN: f64 = 1e-6;

    /// The edges of the parameter region these parameters lie on.
    pub fn boundaries(&self) -> Vec<GarchBoundary> {
        let near = |x: f64, edge: f64, within: f64| (x - edge).abs() < within;
        [
            (
                self.alpha + self.beta > 1.0 - Self::INTEGRATED_WITHIN,
                GarchBoundary::Integrated,
            ),
            (self.alpha < Self::ZERO_WITHIN, GarchBoundary::NoArch),
            (self.beta < Self::ZERO_WITHIN, GarchBoundary::NoGarch),
            (
                near(self.nu, Self::MAX_NU, 1e-3 * Self::MAX_NU),
                GarchBoundary::NormalTails,
            ),
            (
                near(self.nu, Self::MIN_NU, 1e-2),
                GarchBoundary::InfiniteVariance,
            ),
        ]
        .into_iter()
        .filter_map(|(on, edge)| on.then_some(edge))
        .collect()
    }

    pub fn new(omega: f64, alpha: f64, beta: f64, nu: f64) -> Result<Self, VolatilityError> {
        let check = |parameter, value: f64, expected, ok: bool| {
            if ok && value.is_finite() {
                Ok(())
            } else {
                Err(VolatilityError::OutOfRange {
                    parameter,
                    value,
                    expected,
                })
            }
        };
        check("omega", omega, "> 0", omega > 0.0)?;
        check("alpha", alpha, ">= 0", alpha >= 0.0)?;
        check("beta", beta, ">= 0", beta >= 0.0)?;
        check("alpha + beta", alpha + beta, "< 1", alpha + beta < 1.0)?;
        check("nu", nu, "> 2", nu > Self::MIN_NU)?;
        Ok(Self {
            omega,
            alpha,
            beta,
            nu,
        })
    }

    /// The unconditional daily variance omega / (1 - alpha - beta).
    pub fn long_run_variance(&self) -> f64 {
        self.omega / (1.0 - self.alpha - self.beta)
    }

    /// The backcast of `returns`: `sum_i w_i r_i^2`, w_i proportional to 0.94^i
    /// over the first 75.
    pub fn backcast(returns: &[f64]) -> f64 {
        let tau = returns.len().min(Self::BACKCAST_RETURNS);
        let weights: Vec<f64> = (0..tau).map(|i| 0.94_f64.powi(i as i32)).collect();
        let total: f64 = weights.iter().sum();
        weights
            .iter()
            .zip(returns)
            .map(|(w, r)| w / total * r * r)
            .sum()
    }

    /// The log-likelihood of `returns`, and the variance for the day after.
    pub fn log_likelihood(&self, returns: &[f64], backcast: f64) -> (f64, f64) {
        let nu = self.nu;
        let constant = ln_gamma((nu + 1.0) / 2.0)
            - ln_gamma(nu / 2.0)
            - 0.5 * (std::f64::consts::PI * (nu - 2.0)).ln();
        let (mut previous_r2, mut variance) = (backcast, backcast);
        let mut total = 0.0;
        for &r in returns {
            variance = self.omega + self.alpha * previous_r2 + self.beta * variance;
            total += constant
                - 0.5 * variance.ln()
                - 0.5 * (nu + 1.0) * (r * r / (variance * (nu - 2.0))).ln_1p();
            previous_r2 = r * r;
        }
        let next = self.omega + self.alpha * previous_r2 + self.beta * variance;
        (total, next)
    }

    /// The maximum-likelihood fit to `returns` (daily log returns, zero mean).
    pub fn fit(returns: &[f64]) -> Result<GarchFit, VolatilityError> {
        const NEEDED: usize = 100;
        if returns.len() < NEEDED {
            return Err(VolatilityError::TooFewReturns {
                returns: returns.len(),
                needed: NEEDED,
            });
        }
        // Fit on unit-variance data (omega scales with the variance; alpha,
        // beta and nu do not), which keeps the simplex well conditioned.
        let variance = returns.iter().map(|r| r * r).sum::<f64>() / returns.len() as f64;
        let scale = variance.sqrt();
        let scaled: Vec<f64> = returns.iter().map(|r| r / scale).collect();
        let backcast = Self::backcast(&scaled);
        let negative = |p: &GarchT| -p.log_likelihood(&scaled, backcast).0;
        let from_free = |z: &[f64]| -> Option<GarchT> {
            let logistic = |x: f64| 1.0 / (1.0 + (-x).exp());
            let persistence = logistic(z[1]);
            let share = logistic(z[2]);
            GarchT::new(
                z[0].exp(),
                persistence * share,
                persistence * (1.0 - share),
                Self::MIN_NU + 1e-3 + (Self::MAX_NU - Self::MIN_NU - 1e-3) * logistic(z[3]),
            )
            .ok()
        };
        let objective = |z: &[f64]| from_free(z).map_or(f64::INFINITY, |p| negative(&p));
        let logit = |p: f64| (p / (1.0 - p)).ln();
        // Start from a typical daily fit: persistence 0.95, alpha 0.1, nu 6.
        let start = [
            (0.05_f64).ln(),
            logit(0.95),
            logit(0.1 / 0.95),
            (4.0_f64).ln(),
        ];
        let mut best = nelder_mead(objective, &start, 0.5, 1e-12, 20_000);
        // Restart from the optimum with a fresh simplex: Nelder-Mead can stall.
        for _ in 0..3 {
            let again = nelder_mead(objective, &best.x, 0.1, 1e-9, 20_000);
            let improved = again.value < best.value - 1e-10;
            let iterations = best.iterations + again.iterations;
            best = if again.value <= best.value {
                again
            } else {
                best
            };
            best.iterations = iterations;
            if !improved {
                break;
            }
        }
        let Some(fitted) = from_free(&best.x).filter(|_| best.value.is_finite()) else {
            return Err(VolatilityError::NoMaximum {
                log_likelihood: -best.value,
            });
        };
        // Standard errors in the natural parameters, from the unit-variance fit.
        let natural = [fitted.omega, fitted.alpha, fitted.beta, fitted.nu];
        let log_likelihood_at = |x: &[f64]| {
            let p = GarchT {
                omega: x[0],
                alpha: x[1],
                beta: x[2],
                nu: x[3],
            };
            p.log_likelihood(&scaled, backcast).0
        };
        let h = hessian(log_likelihood_at, &natural, 1e-4);
        let information = nalgebra::DMatrix::from_fn(4, 4, |i, j| -h[i][j]);
        let std_errors = match information.try_inverse() {
            Some(inverse) => {
                let se = |i: usize| {
                    let v = inverse[(i, i)];
                    if v > 0.0 {
                        v.sqrt()
                    } else {
                        f64::NAN
                    }
                };
                [se(0) * variance, se(1), se(2), se(3)]
            }
            None => [f64::NAN; 4],
        };
        let params = GarchT {
            omega: fitted.omega * variance,
            ..fitted
        };
        let (log_likelihood, next_variance) = params.log_likelihood(returns, backcast * variance);
        Ok(GarchFit {
            params,
            std_errors,
            log_likelihood,
            returns: returns.len(),
            iterations: best.iterations,
            next_variance,
            boundary: params.boundaries(),
        })
    }

    /// Simulates `n` returns from these parameters (nu rounded to an integer),
    /// drawing standardised t innovations from `normal`: a normal over the root
    /// of a chi-square of nu normals. Starts at the long-run variance.
    pub fn simulate(&self, n: usize, mut normal: impl FnMut() -> f64) -> Vec<f64> {
        let nu = self.nu.round().max(3.0) as usize;
        let scale = ((nu as f64 - 2.0) / nu as f64).sqrt();
        let mut variance = self.long_run_variance();
        let mut previous_r2 = variance;
        (0..n)
            .map(|_| {
                variance = self.omega + self.alpha * previous_r2 + self.beta * variance;
                let chi2: f64 = (0..nu).map(|_| normal().powi(2)).sum();
                let z = normal() / (chi2 / nu as f64).sqrt() * scale;
                let r = variance.sqrt() * z;
                previous_r2 = r * r;
                r
            })
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::rng::{ScenarioRng, Stream};

    fn normals(seed: u64) -> impl FnMut() -> f64 {
        let rng = ScenarioRng::new(seed);
        let mut n = 0u64;
        move || {
            let mut z = [0.0];
            rng.normals(n, 0, Stream::Diffusion, &mut z);
            n += 1;
            z[0]
        }
    }

    /// Simulate 6,000 days from known parameters and recover each within
    /// 3.5 standard errors (a joint miss has probability well under 1%).
    #[test]
    fn garch_t_recovers_simulated_parameters_within_their_standard_errors() {
        let truth = GarchT::new(2e-5, 0.1, 0.85, 6.0).unwrap();
        let returns = truth.simulate(6_000, normals(11));
        let fit = GarchT::fit(&returns).unwrap();
        let p = fit.params;
        for (name, got, want, se) in [
            ("omega", p.omega, truth.omega, fit.std_errors[0]),
            ("alpha", p.alpha, truth.alpha, fit.std_errors[1]),
            ("beta", p.beta, truth.beta, fit.std_errors[2]),
            ("nu", p.nu, truth.nu, fit.std_errors[3]),
        ] {
            assert!(se.is_finite() && se > 0.0, "{name}: standard error {se}");
            assert!(
                (got - want).abs() <= 3.5 * se,
                "{name}: {got} vs {want} (se {se})"
            );
        }
    }

    #[test]
    fn garch_parameters_are_validated() {
        assert!(GarchT::new(0.0, 0.1, 0.8, 5.0).is_err());
        assert!(GarchT::new(1e-5, 0.3, 0.8, 5.0).is_err());
        assert!(GarchT::new(1e-5, 0.1, 0.8, 2.0).is_err());
        assert!(GarchT::fit(&[0.01; 50]).is_err());
    }
}
