//! Nelder-Mead minimisation (Nelder and Mead, "A simplex method for function
//! minimization", Computer Journal 7, 1965, with the standard coefficients:
//! reflection 1, expansion 2, contraction 1/2, shrink 1/2), and the
//! central-difference Hessian used for maximum-likelihood standard errors.

/// The minimum found, its value and the iterations taken.
#[derive(Debug, Clone, PartialEq)]
pub struct Minimum {
    pub x: Vec<f64>,
    pub value: f64,
    pub iterations: usize,
    /// Whether the simplex's values agreed to `tolerance` before the budget ran out.
    pub converged: bool,
}

/// Minimises `f` from `start`, with an initial simplex of steps `step` along
/// each axis, until the simplex's values agree to `tolerance` (absolute) or
/// `max_iterations` pass. Non-finite values count as +infinity.
pub fn nelder_mead(
    f: impl Fn(&[f64]) -> f64,
    start: &[f64],
    step: f64,
    tolerance: f64,
    max_iterations: usize,
) -> Minimum {
    let n = start.len();
    let value = |x: &[f64]| {
        let v = f(x);
        if v.is_finite() {
            v
        } else {
            f64::INFINITY
        }
    };
    let mut simplex: Vec<(Vec<f64>, f64)> = (0..=n)
        .map(|i| {
            let mut x = start.to_vec();
            if i > 0 {
                x[i - 1] += step;
            }
            let v = value(&x);
            (x, v)
        })
        .collect();
    let mut iterations = 0;
    let mut converged = false;
    while iterations < max_iterations {
        simplex.sort_by(|a, b| a.1.total_cmp(&b.1));
        if (simplex[n].1 - simplex[0].1).abs() <= tolerance {
            converged = true;
            break;
        }
        iterations += 1;
        let centroid: Vec<f64> = (0..n)
            .map(|j| simplex[..n].iter().map(|(x, _)| x[j]).sum::<f64>() / n as f64)
            .collect();
        let along = |t: f64| -> Vec<f64> {
            centroid
                .iter()
                .zip(&simplex[n].0)
                .map(|(c, w)| c + t * (c - w))
                .collect()
        };
        let reflected = along(1.0);
        let fr = value(&reflected);
        if fr < simplex[0].1 {
            let expanded = along(2.0);
            let fe = value(&expanded);
            simplex[n] = if fe < fr {
                (expanded, fe)
            } else {
                (reflected, fr)
            };
        } else if fr < simplex[n - 1].1 {
            simplex[n] = (reflected, fr);
        } else {
            let (contracted, fc) = if fr < simplex[n].1 {
                let x = along(0.5);
                let v = value(&x);
                (x, v)
            } else {
                let x = along(-0.5);
                let v = value(&x);
                (x, v)
            };
            if fc < simplex[n].1.min(fr) {
                simplex[n] = (contracted, fc);
            } else {
                let best = simplex[0].0.clone();
                for (x, v) in simplex.iter_mut().skip(1) {
                    for (xi, bi) in x.iter_mut().zip(&best) {
                        *xi = bi + 0.5 * (*xi - bi);
                    }
                    *v = value(x);
                }
            }
        }
    }
    simplex.sort_by(|a, b| a.1.total_cmp(&b.1));
    let (x, value) = simplex.swap_remove(0);
    Minimum {
        x,
        value,
        iterations,
        converged,
    }
}

/// The Hessian of `f` at `x` by central differences with relative steps `h`
/// (absolute where a coordinate is 0).
pub fn hessian(f: impl Fn(&[f64]) -> f64, x: &[f64], h: f64) -> Vec<Vec<f64>> {
    let n = x.len();
    let steps: Vec<f64> = x.iter().map(|&xi| h * xi.abs().max(1e-8)).collect();
    let at = |di: Option<(usize, f64)>, dj: Option<(usize, f64)>| {
        let mut y = x.to_vec();
        for (i, d) in [di, dj].into_iter().flatten() {
            y[i] += d;
        }
        f(&y)
    };
    let mut out = vec![vec![0.0; n]; n];
    for i in 0..n {
        for j in i..n {
            let (hi, hj) = (steps[i], steps[j]);
            let v = (at(Some((i, hi)), Some((j, hj)))
                - at(Some((i, hi)), Some((j, -hj)))
                - at(Some((i, -hi)), Some((j, hj)))
                + at(Some((i, -hi)), Some((j, -hj))))
                / (4.0 * hi * hj);
            out[i][j] = v;
            out[j][i] = v;
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Rosenbrock's valley: minimum 0 at (1, 1).
    #[test]
    fn nelder_mead_finds_the_rosenbrock_minimum() {
        let rosenbrock = |x: &[f64]| (1.0 - x[0]).powi(2) + 100.0 * (x[1] - x[0] * x[0]).powi(2);
        let m = nelder_mead(rosenbrock, &[-1.2, 1.0], 0.5, 1e-14, 5_000);
        assert!(m.converged);
        assert!(
            (m.x[0] - 1.0).abs() < 1e-4 && (m.x[1] - 1.0).abs() < 1e-4,
            "{:?}",
            m.x
        );
    }

    /// The Hessian of x^2 y + 3 y^2 at (1, 2) is [[2y, 2x], [2x, 6]] = [[4, 2], [2, 6]].
    #[test]
    fn the_hessian_matches_the_analytic_one() {
        let h = hessian(
            |x| x[0] * x[0] * x[1] + 3.0 * x[1] * x[1],
            &[1.0, 2.0],
            1e-4,
        );
        for (got, want) in h.iter().flatten().zip([4.0, 2.0, 2.0, 6.0]) {
            assert!((got - want).abs() < 1e-6, "{got} vs {want}");
        }
    }
}
