//! The one matrix factorisation the models need.

/// A matrix that is not positive semi-definite: the first pivot that went
/// negative, at row `index`, and its value.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct NotPsd {
    pub index: usize,
    pub pivot: f64,
}

/// Cholesky factor L (row-major, lower triangular, `L L^T = A`) of a symmetric
/// positive semi-definite `n x n` matrix. A pivot in `[-tolerance, tolerance]` is a
/// direction of zero variance: its column is set to zero, which is the limit of
/// the factor as the pivot goes to zero (perfectly correlated assets are allowed).
/// A pivot below `-tolerance` means `A` is not PSD.
pub fn cholesky_psd(a: &[f64], n: usize, tolerance: f64) -> Result<Vec<f64>, NotPsd> {
    debug_assert_eq!(a.len(), n * n);
    let mut l = vec![0.0; n * n];
    for j in 0..n {
        let pivot = a[j * n + j] - (0..j).map(|k| l[j * n + k] * l[j * n + k]).sum::<f64>();
        if pivot < -tolerance {
            return Err(NotPsd { index: j, pivot });
        }
        if pivot <= tolerance {
            continue;
        }
        let d = pivot.sqrt();
        l[j * n + j] = d;
        for i in j + 1..n {
            let s = a[i * n + j] - (0..j).map(|k| l[i * n + k] * l[j * n + k]).sum::<f64>();
            l[i * n + j] = s / d;
        }
    }
    // A zeroed column leaves the rows below it to absorb the residual; check that
    // the factor reproduces A, else the matrix was not PSD after all.
    for i in 0..n {
        for j in 0..=i {
            let s: f64 = (0..=j).map(|k| l[i * n + k] * l[j * n + k]).sum();
            if (s - a[i * n + j]).abs() > 1e3 * tolerance.max(1e-12) + 1e-9 {
                return Err(NotPsd {
                    index: i,
                    pivot: a[i * n + i] - (0..i).map(|k| l[i * n + k].powi(2)).sum::<f64>(),
                });
            }
        }
    }
    Ok(l)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn factor_reproduces_a_positive_definite_matrix() {
        let a = [1.0, 0.8, 0.3, 0.8, 1.0, 0.5, 0.3, 0.5, 1.0];
        let l = cholesky_psd(&a, 3, 1e-12).unwrap();
        for i in 0..3 {
            for j in 0..3 {
                let s: f64 = (0..3).map(|k| l[i * 3 + k] * l[j * 3 + k]).sum();
                assert!((s - a[i * 3 + j]).abs() < 1e-14);
            }
        }
    }

    #[test]
    fn perfectly_correlated_assets_are_semi_definite() {
        let a = [1.0, 1.0, 0.5, 1.0, 1.0, 0.5, 0.5, 0.5, 1.0];
        let l = cholesky_psd(&a, 3, 1e-12).unwrap();
        assert_eq!(l[4], 0.0);
        assert!((l[8] - 0.75f64.sqrt()).abs() < 1e-14);
    }

    #[test]
    fn an_inconsistent_correlation_matrix_is_rejected() {
        let a = [1.0, 0.9, -0.9, 0.9, 1.0, 0.9, -0.9, 0.9, 1.0];
        let err = cholesky_psd(&a, 3, 1e-12).unwrap_err();
        assert_eq!(err.index, 2);
        assert!(err.pivot < 0.0);
    }
}
