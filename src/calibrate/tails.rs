//! The tail parameters of the Monte Carlo model, fitted to devolatilised joint
//! daily returns (each asset's return over its EWMA forecast of the morning):
//!
//! - the degrees of freedom of the multivariate Student-t (one mixing variable
//!   per day for all assets, as `ScenarioModel` draws it), by maximum
//!   likelihood over the integers the model accepts (3 to 64), with the
//!   correlation of the devolatilised returns held fixed. The unit-variance
//!   density is (Kotz and Nadarajah, "Multivariate t distributions and their
//!   applications", 2004):
//!   `ln f(x) = ln G((nu + p)/2) - ln G(nu/2) - (p/2) ln((nu - 2) pi)
//!              - (1/2) ln|R| - ((nu + p)/2) ln(1 + x' R^-1 x / (nu - 2))`;
//! - the shape of the symmetric multivariate normal inverse Gaussian (one
//!   inverse-Gaussian mixing variable per day for all assets), by maximum
//!   likelihood with the same correlation held fixed ([`nig_log_density`]);
//! - market-wide jumps by thresholding: a day is a jump day when the
//!   cross-sectional mean of the devolatilised moves is beyond `threshold`
//!   standard deviations of that mean (Lee and Mykland's idea, "Jumps in
//!   financial markets", Rev. Financial Studies 21, 2008, applied to the
//!   market factor); intensity = jump days per year, and the mean and standard
//!   deviation of the jump-day moves in units of daily volatility.

use nalgebra::{DMatrix, DVector};
use statrs::function::gamma::ln_gamma;

use super::innovations::bessel_k_scaled;
use super::optimize::nelder_mead;
use crate::pricing::DAYS_PER_YEAR;
use crate::snapshot::JumpConfig;

/// The degrees of freedom the Student-t scenario model accepts: a maximum at
/// either end is the bound's, not the data's.
pub const STUDENT_T_DOF: std::ops::RangeInclusive<u32> = 3..=64;

/// Joint daily moves standardised for a multivariate fit: the log
/// determinant of their correlation and each day's squared Mahalanobis
/// distance under it, the moves scaled to unit variance.
struct Standardised {
    p: usize,
    log_det: f64,
    distances: Vec<f64>,
}

impl Standardised {
    /// `x` is days x `p`; `None` with fewer than 30 days or a singular
    /// correlation.
    fn new(x: &[f64], p: usize) -> Option<Self> {
        let days = x.len() / p.max(1);
        if days < 30 || p == 0 {
            return None;
        }
        let mean: Vec<f64> = (0..p)
            .map(|a| (0..days).map(|t| x[t * p + a]).sum::<f64>() / days as f64)
            .collect();
        let mut r = DMatrix::<f64>::zeros(p, p);
        for t in 0..days {
            let row = DVector::from_fn(p, |a, _| x[t * p + a] - mean[a]);
            r += &row * row.transpose();
        }
        let sd: Vec<f64> = (0..p).map(|a| r[(a, a)].sqrt()).collect();
        let r = DMatrix::from_fn(p, p, |i, j| r[(i, j)] / (sd[i] * sd[j]));
        let cholesky = r.clone().cholesky()?;
        let log_det = 2.0 * cholesky.l().diagonal().iter().map(|d| d.ln()).sum::<f64>();
        let scale: Vec<f64> = (0..p).map(|a| sd[a] / (days as f64).sqrt()).collect();
        let distances = (0..days)
            .map(|t| {
                let z = DVector::from_fn(p, |a, _| (x[t * p + a] - mean[a]) / scale[a]);
                let y = cholesky.l().solve_lower_triangular(&z).unwrap_or(z);
                y.norm_squared()
            })
            .collect();
        Some(Self {
            p,
            log_det,
            distances,
        })
    }
}

/// The Student-t degrees of freedom (in [`STUDENT_T_DOF`]) that maximise the
/// likelihood of `x` (days x `p`, devolatilised), and that log-likelihood.
pub fn student_t_dof(x: &[f64], p: usize) -> Option<(u32, f64)> {
    let s = Standardised::new(x, p)?;
    let pf = p as f64;
    let log_likelihood = |nu: f64| {
        let constant = ln_gamma((nu + pf) / 2.0)
            - ln_gamma(nu / 2.0)
            - 0.5 * pf * ((nu - 2.0) * std::f64::consts::PI).ln()
            - 0.5 * s.log_det;
        s.distances
            .iter()
            .map(|q| constant - 0.5 * (nu + pf) * (q / (nu - 2.0)).ln_1p())
            .sum::<f64>()
    };
    STUDENT_T_DOF
        .map(|nu| (nu, log_likelihood(f64::from(nu))))
        .max_by(|a, b| a.1.total_cmp(&b.1))
}

/// The shapes the NIG scenario model accepts (see [`nig_shape`]): a maximum at
/// either end is the bound's, not the data's.
pub const NIG_SHAPE: std::ops::RangeInclusive<f64> =
    crate::input::bounds::MIN_NIG_SHAPE..=crate::input::bounds::MAX_NIG_SHAPE;

/// The log density of the unit-variance symmetric multivariate normal
/// inverse Gaussian `X = sqrt(W) L z` (`L L' = R`, `z` standard normal, `W`
/// inverse Gaussian with mean 1 and shape `lambda`; Barndorff-Nielsen 1997
/// with `alpha = delta = sqrt(lambda)`, `beta = 0`) at squared Mahalanobis
/// distance `q`, in `p` dimensions, `log_det = ln det R`:
/// `ln f = -ln det R / 2 - (p/2) ln 2pi + ln(lambda / 2pi) / 2 + lambda + ln 2
///  - ((p+1)/4) ln((q + lambda) / lambda) + ln K_{(p+1)/2}(sqrt(lambda (q + lambda)))`.
pub fn nig_log_density(lambda: f64, q: f64, p: usize, log_det: f64) -> f64 {
    use std::f64::consts::PI;
    let pf = p as f64;
    let z = (lambda * (q + lambda)).sqrt();
    -0.5 * log_det - 0.5 * pf * (2.0 * PI).ln()
        + 0.5 * (lambda / (2.0 * PI)).ln()
        + lambda
        + std::f64::consts::LN_2
        - 0.25 * (pf + 1.0) * ((q + lambda) / lambda).ln()
        + bessel_k_scaled(0.5 * (pf + 1.0), z).ln()
        - z
}

/// The shape `lambda` (in [`NIG_SHAPE`]) of the unit-variance symmetric
/// multivariate NIG ([`nig_log_density`]) that maximises the likelihood of
/// `x` (days x `p`, devolatilised), and that log-likelihood. Smaller shapes
/// give heavier tails; as `lambda` grows the law tends to the Gaussian.
pub fn nig_shape(x: &[f64], p: usize) -> Option<(f64, f64)> {
    let s = Standardised::new(x, p)?;
    let log_likelihood = |lambda: f64| {
        s.distances
            .iter()
            .map(|&q| nig_log_density(lambda, q, s.p, s.log_det))
            .sum::<f64>()
    };
    let (low, high) = (NIG_SHAPE.start().ln(), NIG_SHAPE.end().ln());
    let shape = |z: f64| z.clamp(low, high).exp();
    let best = nelder_mead(
        |z| -log_likelihood(shape(z[0])),
        &[2.0_f64.ln()],
        0.5,
        1e-10,
        2_000,
    );
    let lambda = shape(best.x[0]);
    Some((lambda, log_likelihood(lambda)))
}

/// Market-wide jumps in `x` (days x `p`, devolatilised): days whose mean move
/// is beyond `threshold` of its standard deviation. `None` when no day is.
pub fn market_jumps(x: &[f64], p: usize, threshold: f64) -> Option<(JumpConfig, usize)> {
    let days = x.len() / p.max(1);
    if days < 30 || p == 0 {
        return None;
    }
    let market: Vec<f64> = (0..days)
        .map(|t| x[t * p..(t + 1) * p].iter().sum::<f64>() / p as f64)
        .collect();
    let sd = (market.iter().map(|m| m * m).sum::<f64>() / days as f64).sqrt();
    let jump_days: Vec<usize> = (0..days)
        .filter(|&t| market[t].abs() > threshold * sd)
        .collect();
    if jump_days.is_empty() {
        return None;
    }
    let moves: Vec<f64> = jump_days
        .iter()
        .flat_map(|&t| x[t * p..(t + 1) * p].iter().copied())
        .collect();
    let mean = moves.iter().sum::<f64>() / moves.len() as f64;
    let stdev = (moves.iter().map(|m| (m - mean).powi(2)).sum::<f64>()
        / (moves.len() as f64 - 1.0).max(1.0))
    .sqrt();
    Some((
        JumpConfig {
            intensity_per_year: jump_days.len() as f64 * DAYS_PER_YEAR / days as f64,
            mean_sigmas: mean,
            stdev_sigmas: stdev,
        },
        jump_days.len(),
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    /// In one dimension the multivariate density is the univariate NIG with
    /// alpha = delta = sqrt(lambda), beta = mu = 0, and it integrates to 1
    /// with unit variance in any dimension's radial law (checked in one).
    #[test]
    fn the_nig_density_in_one_dimension_is_the_univariate_nig() {
        use crate::calibrate::innovations::Nig;
        for lambda in [0.3, 2.0, 40.0] {
            let root = f64::sqrt(lambda);
            let univariate = Nig::new(root, 0.0, root, 0.0).unwrap();
            for x in [-6.0, -1.0, 0.0, 0.4, 3.0] {
                let a = nig_log_density(lambda, x * x, 1, 0.0);
                let b = univariate.log_pdf(x);
                assert!((a - b).abs() < 1e-12, "lambda {lambda}, x {x}: {a} vs {b}");
            }
            assert!((univariate.variance() - 1.0).abs() < 1e-12);
            // Mass and variance by the midpoint rule over [-60, 60].
            let h = 1e-3;
            let (mut mass, mut var) = (0.0, 0.0);
            for i in 0..120_000 {
                let x = -60.0 + (i as f64 + 0.5) * h;
                let f = nig_log_density(lambda, x * x, 1, 0.0).exp() * h;
                mass += f;
                var += x * x * f;
            }
            assert!(
                (mass - 1.0).abs() < 1e-6 && (var - 1.0).abs() < 1e-4,
                "{lambda}: {mass} {var}"
            );
        }
    }
    use crate::rng::{ScenarioRng, Stream};

    /// 4,000 days of a 3-asset unit-variance t with nu = 5 and correlation
    /// 0.5: the fitted nu is 5 give or take its sampling error (about 0.5 here).
    #[test]
    fn student_t_dof_recovers_simulated_degrees_of_freedom() {
        let rng = ScenarioRng::new(3);
        let (days, p, nu) = (4_000, 3, 5.0_f64);
        let mut x = Vec::with_capacity(days * p);
        for t in 0..days as u64 {
            let mut z = [0.0; 9];
            rng.normals(t, 0, Stream::Diffusion, &mut z);
            let common = z[0];
            let w: f64 = z[4..9].iter().map(|g| g * g).sum();
            let scale = ((nu - 2.0) / w).sqrt();
            for a in 0..p {
                let e = 0.5_f64.sqrt() * common + 0.5_f64.sqrt() * z[1 + a];
                x.push(e * scale);
            }
        }
        let (fitted, _) = student_t_dof(&x, p).unwrap();
        assert!((4..=6).contains(&fitted), "nu {fitted}");
    }

    #[test]
    fn market_jumps_count_the_days_beyond_the_threshold() {
        // 1,000 quiet days (+-0.5) and 5 days when every asset fell 6 sigmas.
        let p = 4;
        let mut x: Vec<f64> = (0..1_000 * p)
            .map(|i| if (i / p) % 2 == 0 { 0.5 } else { -0.5 })
            .collect();
        for t in [100, 300, 500, 700, 900] {
            x[t * p..(t + 1) * p].fill(-6.0);
        }
        let (jumps, count) = market_jumps(&x, p, 4.0).unwrap();
        assert_eq!(count, 5);
        assert!((jumps.intensity_per_year - 5.0 * 365.0 / 1_000.0).abs() < 1e-12);
        assert_eq!(jumps.mean_sigmas, -6.0);
        assert_eq!(jumps.stdev_sigmas, 0.0);
    }
}
