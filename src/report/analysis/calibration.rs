//! What a calibration prints: one line per asset, then the correlation, the
//! tails and the stressed correlation (every fit is in calibration.json).

use std::fmt::Write;

use crate::calibrate::innovations::Candidate;
use crate::calibrate::CalibrationReport;

/// The terminal view of a calibration: one line per asset, then the correlation.
pub fn terminal(r: &CalibrationReport) -> String {
    let mut out = String::new();
    let _ = writeln!(
        out,
        "calibrated to {} from {} to {} ({} volatility)",
        r.history,
        r.from,
        r.as_of,
        r.volatility_model.describe()
    );
    let _ = writeln!(
        out,
        "\n{:<8} {:>7} {:>9} {:>9} {:>9} {:>9} {:>8} {:>8} {:>6}  note",
        "asset", "returns", "before", "EWMA", "GARCH", "written", "alpha", "persist", "nu"
    );
    for a in &r.assets {
        let floored = a.floored_from.map_or(String::new(), |v| {
            format!(" fitted {:.2}%, raised to the stablecoin floor", 100.0 * v)
        });
        match &a.garch {
            Ok(g) => {
                let boundary: Vec<String> = g.boundary.iter().map(|b| b.to_string()).collect();
                let _ = writeln!(
                    out,
                    "{:<8} {:>7} {:>8.1}% {:>8.1}% {:>8.1}% {:>8.1}% {:>8.4} {:>8.4} {:>6.2} {}{floored}",
                    a.asset,
                    a.returns,
                    100.0 * a.previous_volatility,
                    100.0 * a.ewma_volatility,
                    100.0 * g.forecast_volatility,
                    100.0 * a.volatility,
                    g.alpha,
                    g.persistence,
                    g.nu,
                    if boundary.is_empty() {
                        String::new()
                    } else {
                        format!(
                            " GARCH on a boundary ({}): no standard errors{}; the forecast is the next day's conditional variance",
                            boundary.join(", "),
                            if g.long_run_volatility.is_none() {
                                ", no long-run volatility"
                            } else {
                                ""
                            }
                        )
                    }
                );
            }
            Err(e) => {
                let _ = writeln!(
                    out,
                    "{:<8} {:>7} {:>8.1}% {:>8.1}% {:>9} {:>8.1}%  GARCH: {e}{floored}",
                    a.asset,
                    a.returns,
                    100.0 * a.previous_volatility,
                    100.0 * a.ewma_volatility,
                    "",
                    100.0 * a.volatility
                );
            }
        }
    }
    if !r.not_in_history.is_empty() {
        let _ = writeln!(
            out,
            "not in the history (unchanged): {}",
            r.not_in_history.join(", ")
        );
    }
    let c = &r.correlation;
    let estimator = c.estimator.describe();
    let days = match c.days_used {
        crate::calibrate::DaysUsed::Pairwise => {
            "each pair over the days both assets have a return,"
        }
        crate::calibrate::DaysUsed::Common => "over the days every asset has a return:",
    };
    let _ = writeln!(
        out,
        "\ncorrelation: {estimator}, {days} {} days {}..{}{}{}{}",
        c.days,
        c.first_used,
        c.last_used,
        if (c.first_used, c.last_used) == (c.from, c.to) {
            String::new()
        } else {
            format!(
                " (window {}..{}: data end or start inside it)",
                c.from, c.to
            )
        },
        c.shrinkage
            .map_or(String::new(), |d| format!(", shrinkage {d:.4}")),
        if r.market_repair_distance > 0.0 {
            format!(
                ", repaired to PSD (Frobenius {:.2e})",
                r.market_repair_distance
            )
        } else {
            String::new()
        }
    );
    if let Some(fewest) = c.short_pairs.iter().min_by_key(|p| p.days) {
        let _ = writeln!(
            out,
            "  {} pairs have fewer days (their data end or start inside the window), fewest {}/{}: {} days {}..{}; calibration.json lists them",
            c.short_pairs.len(),
            fewest.assets[0],
            fewest.assets[1],
            fewest.days,
            fewest.first,
            fewest.last
        );
    }
    let t = &r.tails;
    let _ = writeln!(
        out,
        "tails over {} joint days: Student-t nu = {}; {} jump days beyond {} sd of the market move{}",
        t.days,
        t.student_t_dof.map_or("not fitted".into(), |d| if t.student_t_at_bound {
            format!("{d} (at a bound of the range the model accepts: the maximum may lie beyond it; the fit failed and the book's own dof is kept)")
        } else {
            d.to_string()
        }),
        t.jump_days,
        t.jump_threshold,
        t.jumps.as_ref().map_or(String::new(), |j| format!(
            ": {:.2} a year, mean {:.2} sd, stdev {:.2} sd",
            j.intensity_per_year, j.mean_sigmas, j.stdev_sigmas
        ))
    );
    for span in &t.restricted_by {
        let _ = writeln!(
            out,
            "  the joint days are bounded by {}: usable returns {}..{} only",
            span.asset, span.first, span.last
        );
    }
    if let (Some(shape), Some(nig), Some(student)) = (
        t.nig_shape,
        t.nig_log_likelihood,
        t.student_t_log_likelihood,
    ) {
        let _ = writeln!(
            out,
            "multivariate NIG shape {shape:.3}{}: log-likelihood {nig:.1} against the Student-t's {student:.1} (one parameter each)",
            if t.nig_at_bound { " (at a bound of its range: the fit failed)" } else { "" }
        );
    }
    if !t.candidates.is_empty() {
        let best: Vec<String> = t
            .candidates
            .iter()
            .filter_map(|a| {
                let best = a.fits.iter().min_by(|x, y| x.aic.total_cmp(&y.aic))?;
                let name = serde_json::to_value(best.model).ok()?;
                Some(format!("{} {}", a.asset, name.as_str()?))
            })
            .collect();
        let _ = writeln!(
            out,
            "innovations, best by AIC on each asset's devolatilised daily returns: {} (every fit in calibration.json)",
            best.join(", ")
        );
        let mean_error = |model| {
            let errors: Vec<f64> = t
                .candidates
                .iter()
                .filter_map(|a| a.tail_error.iter().find(|(m, _)| *m == model).map(|e| e.1))
                .collect();
            errors.iter().sum::<f64>() / errors.len().max(1) as f64
        };
        let _ = writeln!(
            out,
            "{}-day quantiles, mean distance of the 1% and 99% from the data's (in sd of the sums): Gaussian {:.3}, Student-t {:.3}, NIG {:.3} (QQ tables in calibration.json)",
            t.candidates[0].horizon.horizon_days,
            mean_error(Candidate::Gaussian),
            mean_error(Candidate::StudentT),
            mean_error(Candidate::Nig)
        );
    }
    if let Some(s) = &r.stressed_correlation {
        let k = s.assets.len();
        let mean = |m: &[f64]| {
            let off: f64 = (0..k * k).filter(|i| i / k != i % k).map(|i| m[i]).sum();
            off / (k * (k - 1)).max(1) as f64
        };
        let _ = writeln!(
            out,
            "stressed correlation {}..{} ({} days): mean pairwise {:.3} against {:.3}",
            s.from,
            s.to,
            s.days,
            mean(&s.matrix),
            mean(&c.matrix)
        );
    }
    out
}
