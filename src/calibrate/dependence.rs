//! Dependence between assets: correlation estimators on aligned daily
//! returns (days x assets, every asset present every day), each returned
//! positive semi-definite with a unit diagonal, which the scenario model's
//! Cholesky factor needs.
//!
//! - sample: Pearson correlation of the window's returns;
//! - EWMA: RiskMetrics covariance `S_t = lambda S_{t-1} + (1 - lambda) r_t r_t'`
//!   (zero mean), seeded with the zero-mean second moments of the first 30
//!   days divided by 30 (as the EWMA volatility is seeded);
//! - Ledoit-Wolf: the sample correlation shrunk towards the identity,
//!   `(1 - d) R + d I`, with the intensity d of Ledoit and Wolf, "A
//!   well-conditioned estimator for large-dimensional covariance matrices",
//!   J. Multivariate Analysis 88 (2004), computed on the standardised returns
//!   exactly as scikit-learn's `ledoit_wolf` does;
//! - stressed: the sample correlation over a stress window (the caller picks
//!   the days).
//!
//! [`nearest_psd_correlation`] repairs a matrix that is not PSD (estimates from
//! ragged data, hand edits): eigenvalues below a floor are raised to it and
//! the diagonal is rescaled back to 1 (a congruence, which keeps PSD).

use nalgebra::{DMatrix, SymmetricEigen};

/// Aligned returns: `values[t * assets + a]`.
#[derive(Debug, Clone, Copy)]
pub struct Aligned<'a> {
    pub values: &'a [f64],
    pub assets: usize,
}

impl Aligned<'_> {
    pub fn days(&self) -> usize {
        self.values.len() / self.assets.max(1)
    }

    fn row(&self, t: usize) -> &[f64] {
        &self.values[t * self.assets..(t + 1) * self.assets]
    }
}

/// A correlation estimate and what its repair changed.
#[derive(Debug, Clone, PartialEq)]
pub struct Correlation {
    /// Row-major, assets x assets, PSD, unit diagonal.
    pub matrix: Vec<f64>,
    pub assets: usize,
    /// Frobenius distance the PSD repair moved the raw estimate (0: none needed).
    pub repair_distance: f64,
    /// Ledoit-Wolf's shrinkage intensity, where it applies.
    pub shrinkage: Option<f64>,
}

impl Correlation {
    fn repaired(raw: Vec<f64>, assets: usize, shrinkage: Option<f64>) -> Self {
        let (matrix, repair_distance) = nearest_psd_correlation(&raw, assets, 1e-10);
        Self {
            matrix,
            assets,
            repair_distance,
            shrinkage,
        }
    }

    pub fn get(&self, i: usize, j: usize) -> f64 {
        self.matrix[i * self.assets + j]
    }
}

fn covariance_to_correlation(cov: &[f64], n: usize) -> Vec<f64> {
    let sd: Vec<f64> = (0..n).map(|i| cov[i * n + i].sqrt()).collect();
    (0..n * n)
        .map(|k| {
            let (i, j) = (k / n, k % n);
            if i == j {
                1.0
            } else {
                cov[k] / (sd[i] * sd[j])
            }
        })
        .collect()
}

/// Mean-centred sample covariance (divided by `days`).
fn centred_covariance(r: Aligned<'_>) -> Vec<f64> {
    let (n, days) = (r.assets, r.days());
    let mean: Vec<f64> = (0..n)
        .map(|a| (0..days).map(|t| r.row(t)[a]).sum::<f64>() / days as f64)
        .collect();
    let mut cov = vec![0.0; n * n];
    for t in 0..days {
        let row = r.row(t);
        for i in 0..n {
            for j in 0..=i {
                cov[i * n + j] += (row[i] - mean[i]) * (row[j] - mean[j]);
            }
        }
    }
    for i in 0..n {
        for j in 0..=i {
            cov[i * n + j] /= days as f64;
            cov[j * n + i] = cov[i * n + j];
        }
    }
    cov
}

/// Pearson correlation of the days given.
pub fn sample_correlation(r: Aligned<'_>) -> Correlation {
    let cov = centred_covariance(r);
    Correlation::repaired(covariance_to_correlation(&cov, r.assets), r.assets, None)
}

/// The RiskMetrics EWMA correlation after the last day.
pub fn ewma_correlation(r: Aligned<'_>, lambda: f64) -> Correlation {
    const SEED: usize = 30;
    let n = r.assets;
    let seed_days = r.days().min(SEED);
    // Seeded with the zero-mean second moments of the first days, divided by
    // their number: the recursion's own convention, and the EWMA volatility's.
    let mut cov = vec![0.0; n * n];
    for t in 0..seed_days {
        let row = r.row(t);
        for i in 0..n {
            for j in 0..n {
                cov[i * n + j] += row[i] * row[j] / seed_days as f64;
            }
        }
    }
    for t in seed_days..r.days() {
        let row = r.row(t);
        for i in 0..n {
            for j in 0..n {
                cov[i * n + j] = lambda * cov[i * n + j] + (1.0 - lambda) * row[i] * row[j];
            }
        }
    }
    Correlation::repaired(covariance_to_correlation(&cov, n), n, None)
}

/// The sample correlation shrunk towards the identity by Ledoit-Wolf's intensity.
pub fn ledoit_wolf_correlation(r: Aligned<'_>) -> Correlation {
    let (n, days) = (r.assets, r.days());
    let cov = centred_covariance(r);
    let sd: Vec<f64> = (0..n).map(|i| cov[i * n + i].sqrt()).collect();
    let mean: Vec<f64> = (0..n)
        .map(|a| (0..days).map(|t| r.row(t)[a]).sum::<f64>() / days as f64)
        .collect();
    // Standardised returns X (days x n); S = X'X / days is the correlation.
    let x: Vec<f64> = (0..days * n)
        .map(|k| (r.values[k] - mean[k % n]) / sd[k % n])
        .collect();
    let nf = days as f64;
    let p = n as f64;
    let mut xtx = vec![0.0; n * n];
    let mut x2tx2 = vec![0.0; n * n];
    for t in 0..days {
        let row = &x[t * n..(t + 1) * n];
        for i in 0..n {
            for j in 0..n {
                xtx[i * n + j] += row[i] * row[j];
                x2tx2[i * n + j] += row[i] * row[i] * row[j] * row[j];
            }
        }
    }
    let trace: f64 = (0..n).map(|i| xtx[i * n + i]).sum::<f64>() / nf;
    let mu = trace / p;
    let delta_sum = xtx.iter().map(|v| v * v).sum::<f64>() / (nf * nf);
    let beta_sum: f64 = x2tx2.iter().sum();
    let beta = (beta_sum / nf - delta_sum) / (p * nf);
    let delta = (delta_sum - 2.0 * mu * trace + p * mu * mu) / p;
    let shrinkage = if delta > 0.0 {
        beta.min(delta) / delta
    } else {
        0.0
    };
    let sample = covariance_to_correlation(&cov, n);
    let shrunk = (0..n * n)
        .map(|k| {
            let identity = if k / n == k % n { 1.0 } else { 0.0 };
            (1.0 - shrinkage) * sample[k] + shrinkage * identity
        })
        .collect();
    Correlation::repaired(shrunk, n, Some(shrinkage))
}

/// The PSD correlation matrix nearest `matrix` by eigenvalue flooring at
/// `floor` and rescaling to a unit diagonal, and the Frobenius distance moved
/// (0 when `matrix` was PSD already and is returned unchanged).
pub fn nearest_psd_correlation(matrix: &[f64], n: usize, floor: f64) -> (Vec<f64>, f64) {
    let m = DMatrix::from_row_slice(n, n, matrix);
    let symmetric = (&m + m.transpose()) * 0.5;
    let eigen = SymmetricEigen::new(symmetric.clone());
    if eigen.eigenvalues.iter().all(|&l| l >= floor) {
        return (matrix.to_vec(), 0.0);
    }
    let floored = eigen.eigenvalues.map(|l| l.max(floor));
    let rebuilt =
        &eigen.eigenvectors * DMatrix::from_diagonal(&floored) * eigen.eigenvectors.transpose();
    let d: Vec<f64> = (0..n).map(|i| rebuilt[(i, i)].sqrt()).collect();
    let repaired: Vec<f64> = (0..n * n)
        .map(|k| {
            let (i, j) = (k / n, k % n);
            if i == j {
                1.0
            } else {
                // Averaged with its mirror so that the result is exactly symmetric.
                0.5 * (rebuilt[(i, j)] + rebuilt[(j, i)]) / (d[i] * d[j])
            }
        })
        .collect();
    let distance = repaired
        .iter()
        .zip(matrix)
        .map(|(a, b)| (a - b).powi(2))
        .sum::<f64>()
        .sqrt();
    (repaired, distance)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::linalg::cholesky_psd;

    #[test]
    fn a_broken_matrix_is_repaired_to_a_nearby_psd_correlation() {
        // Pairwise plausible, jointly impossible: a ~ b, b ~ c, a ~ -c.
        let broken = [1.0, 0.9, -0.9, 0.9, 1.0, 0.9, -0.9, 0.9, 1.0];
        assert!(cholesky_psd(&broken, 3, 1e-10).is_err());
        let (fixed, distance) = nearest_psd_correlation(&broken, 3, 1e-10);
        assert!(cholesky_psd(&fixed, 3, 1e-8).is_ok());
        for i in 0..3 {
            assert_eq!(fixed[i * 3 + i], 1.0);
            for j in 0..3 {
                assert_eq!(fixed[i * 3 + j], fixed[j * 3 + i]);
                assert!(fixed[i * 3 + j].abs() <= 1.0 + 1e-12);
            }
        }
        assert!(distance > 0.0 && distance < 1.5, "{distance}");
        // A valid matrix comes back untouched.
        let fine = [1.0, 0.5, 0.5, 1.0];
        assert_eq!(
            nearest_psd_correlation(&fine, 2, 1e-10),
            (fine.to_vec(), 0.0)
        );
    }

    #[test]
    fn sample_and_ewma_correlations_follow_their_formulas() {
        // Three days, two assets.
        let values = [0.01, 0.02, -0.02, -0.01, 0.03, 0.05];
        let r = Aligned {
            values: &values,
            assets: 2,
        };
        let (x, y) = ([0.01, -0.02, 0.03], [0.02, -0.01, 0.05]);
        let mean = |v: &[f64; 3]| v.iter().sum::<f64>() / 3.0;
        let (mx, my) = (mean(&x), mean(&y));
        let sxy: f64 = (0..3).map(|i| (x[i] - mx) * (y[i] - my)).sum();
        let sxx: f64 = (0..3).map(|i| (x[i] - mx).powi(2)).sum();
        let syy: f64 = (0..3).map(|i| (y[i] - my).powi(2)).sum();
        let pearson = sxy / (sxx * syy).sqrt();
        assert!((sample_correlation(r).get(0, 1) - pearson).abs() < 1e-14);
        // With fewer than 30 days EWMA is the seed's: zero-mean second moments.
        let uncentred = (0..3).map(|i| x[i] * y[i]).sum::<f64>()
            / ((0..3).map(|i| x[i] * x[i]).sum::<f64>() * (0..3).map(|i| y[i] * y[i]).sum::<f64>())
                .sqrt();
        assert!((ewma_correlation(r, 0.94).get(0, 1) - uncentred).abs() < 1e-14);
        // After the seed, each day moves the moments by the RiskMetrics recursion.
        let long: Vec<f64> = (0..40)
            .flat_map(|t| {
                let a = ((t * 37) % 11) as f64 * 0.01 - 0.05;
                [a, 0.5 * a + ((t * 13) % 7) as f64 * 0.004 - 0.012]
            })
            .collect();
        let (mut sxy, mut sxx, mut syy) = (0.0, 0.0, 0.0);
        for t in 0..40 {
            let (a, b) = (long[2 * t], long[2 * t + 1]);
            let (w, keep) = if t < 30 {
                (1.0 / 30.0, 1.0)
            } else {
                (0.06, 0.94)
            };
            sxy = keep * sxy + w * a * b;
            sxx = keep * sxx + w * a * a;
            syy = keep * syy + w * b * b;
        }
        let want = sxy / (sxx * syy).sqrt();
        let got = ewma_correlation(
            Aligned {
                values: &long,
                assets: 2,
            },
            0.94,
        )
        .get(0, 1);
        assert!((got - want).abs() < 1e-14, "{got} vs {want}");
    }
}
