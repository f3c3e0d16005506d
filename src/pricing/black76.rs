//! Black-76: European options on a forward or futures price.
//!
//! Black, F. (1976), "The pricing of commodity contracts", J. Financial Economics 3.
//!
//! ```text
//! call = D (F N(d1) - K N(d2)),   put = D (K N(-d2) - F N(-d1)),
//! d1 = (ln(F/K) + sigma^2 tau / 2) / (sigma sqrt(tau)),   d2 = d1 - sigma sqrt(tau),
//! D = exp(-r tau)
//! ```
//!
//! At expiry (tau = 0) or zero vol the price is the discounted intrinsic value.

use crate::snapshot::OptionRight;

/// Standard normal cumulative distribution, N(x) = erfc(-x / sqrt 2) / 2.
#[inline]
pub fn norm_cdf(x: f64) -> f64 {
    0.5 * statrs::function::erf::erfc(-x * std::f64::consts::FRAC_1_SQRT_2)
}

/// Black-76 price of one option on one unit of the underlying forward.
///
/// `forward` and `strike` > 0, `vol` >= 0, `tau` (years) >= 0, `discount` = exp(-r tau).
#[inline]
pub fn black76(
    right: OptionRight,
    forward: f64,
    strike: f64,
    vol: f64,
    tau: f64,
    discount: f64,
) -> f64 {
    let total_vol = vol * tau.sqrt();
    if total_vol <= 1e-12 {
        let intrinsic = match right {
            OptionRight::Call => (forward - strike).max(0.0),
            OptionRight::Put => (strike - forward).max(0.0),
        };
        return discount * intrinsic;
    }
    let d1 = ((forward / strike).ln() + 0.5 * total_vol * total_vol) / total_vol;
    let d2 = d1 - total_vol;
    match right {
        OptionRight::Call => discount * (forward * norm_cdf(d1) - strike * norm_cdf(d2)),
        OptionRight::Put => discount * (strike * norm_cdf(-d2) - forward * norm_cdf(-d1)),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use OptionRight::{Call, Put};

    /// Haug, "The Complete Guide to Option Pricing Formulas" (2nd ed.), Black-76
    /// example: F = 19, K = 19, T = 0.75, r = 10%, sigma = 28%: call = put = 1.7011.
    #[test]
    fn matches_haug_reference_value() {
        let d = (-0.10f64 * 0.75).exp();
        assert!((black76(Call, 19.0, 19.0, 0.28, 0.75, d) - 1.7011).abs() < 5e-5);
        assert!((black76(Put, 19.0, 19.0, 0.28, 0.75, d) - 1.7011).abs() < 5e-5);
    }

    /// Hull, "Options, Futures, and Other Derivatives", European put on futures:
    /// F = K = 20, r = 9%, T = 4 months, sigma = 25%: put = 1.12.
    #[test]
    fn matches_hull_futures_option_example() {
        let t = 4.0 / 12.0;
        let p = black76(Put, 20.0, 20.0, 0.25, t, (-0.09f64 * t).exp());
        assert!((p - 1.12).abs() < 0.005, "{p}");
    }

    /// Put-call parity for options on a forward: C - P = D (F - K).
    #[test]
    fn satisfies_put_call_parity() {
        for &(f, k, vol, tau, r) in &[
            (100.0_f64, 100.0, 0.2, 1.0, 0.01),
            (97_600.0, 80_000.0, 0.55, 0.1, 0.045),
            (97_600.0, 140_000.0, 0.9, 1.5, 0.05),
            (2_700.0, 2_700.0, 0.7, 7.0 / 365.0, 0.0),
            (0.25, 0.4, 1.2, 0.3, 0.02),
        ] {
            let d = f64::exp(-r * tau);
            let parity = black76(Call, f, k, vol, tau, d) - black76(Put, f, k, vol, tau, d);
            assert!((parity - d * (f - k)).abs() < 1e-9 * f.max(k), "{f} {k}");
        }
    }

    #[test]
    fn expired_and_zero_vol_options_are_worth_discounted_intrinsic() {
        assert_eq!(black76(Call, 110.0, 100.0, 0.5, 0.0, 1.0), 10.0);
        assert_eq!(black76(Put, 110.0, 100.0, 0.5, 0.0, 1.0), 0.0);
        assert_eq!(black76(Put, 90.0, 100.0, 0.0, 1.0, 0.9), 9.0);
    }

    /// Quantiles from Python's `statistics.NormalDist().inv_cdf`; statrs' erfc is
    /// accurate to about 1e-12 here, far below anything a margin depends on.
    #[test]
    fn normal_cdf_reference_values() {
        assert!((norm_cdf(0.0) - 0.5).abs() < 1e-16);
        assert!((norm_cdf(1.959_963_984_540_053_6) - 0.975).abs() < 2e-12);
        assert!((norm_cdf(-2.326_347_874_040_840_8) - 0.01).abs() < 2e-12);
    }
}
