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

use crate::lanes::elementary::{exp, ln};
use crate::lanes::{Lanes, Mask};
use crate::snapshot::OptionRight;

/// Standard normal cumulative distribution N(x), to about 1e-16 relative in
/// both tails.
///
/// W. J. Cody, "Rational Chebyshev approximations for the error function",
/// Math. Comp. 23 (1969), as in ACM TOMS Algorithm 715 (SPECFUN) and R's
/// `pnorm`: a rational function of x^2 for |x| <= 0.67449, of |x| times
/// exp(-x^2/2) to sqrt(32), and of 1/x^2 times exp(-x^2/2) / |x| beyond. The
/// exponential is split at a multiple of 1/16 so that x^2/2 is formed exactly.
/// One of the cheapest double-precision forms, and branch-shaped so that the GPU
/// kernels can mirror it.
#[inline]
pub fn norm_cdf(x: f64) -> f64 {
    norm_cdf_lanes(Lanes([x])).0[0]
}

/// [`norm_cdf`] in `N` lanes at once, each lane bit for bit the scalar's.
#[inline(always)]
#[allow(clippy::excessive_precision)] // Cody's coefficients, as published
pub fn norm_cdf_lanes<const N: usize>(x: Lanes<N>) -> Lanes<N> {
    const A: [f64; 5] = [
        2.2352520354606839287,
        161.02823106855587881,
        1067.6894854603709582,
        18154.981253343561249,
        0.065682337918207449113,
    ];
    const B: [f64; 4] = [
        47.20258190468824187,
        976.09855173777669322,
        10260.932208618978205,
        45507.789335026729956,
    ];
    const C: [f64; 9] = [
        0.39894151208813466764,
        8.8831497943883759412,
        93.506656132177855979,
        597.27027639480026226,
        2494.5375852903726711,
        6848.1904505362823326,
        11602.651437647350124,
        9842.7148383839780218,
        1.0765576773720192317e-8,
    ];
    const D: [f64; 8] = [
        22.266688044328115691,
        235.38790178262499861,
        1519.377599407554805,
        6485.558298266760755,
        18615.571640885098091,
        34900.952721145977266,
        38912.003286093271411,
        19685.429676859990727,
    ];
    const P: [f64; 6] = [
        0.21589853405795699,
        0.1274011611602473639,
        0.022235277870649807,
        0.001421619193227893466,
        2.9112874951168792e-5,
        0.02307344176494017303,
    ];
    const Q: [f64; 5] = [
        1.28426009614491121,
        0.468238212480865118,
        0.0659881378689285515,
        0.00378239633202758244,
        7.29751555083966205e-5,
    ];
    const FRAC_1_SQRT_2PI: f64 = 0.398_942_280_401_432_677_94;
    const SQRT_32: f64 = 5.656_854_249_492_380_195_2;

    let y = x.abs();
    let central = y.le(Lanes::splat(0.674_489_75));
    let mut result = Lanes::splat(0.0);
    if central.any() {
        let xsq = x * x;
        let mut num = A[4] * xsq;
        let mut den = xsq;
        for i in 0..3 {
            num = (num + A[i]) * xsq;
            den = (den + B[i]) * xsq;
        }
        result = 0.5 + x * (num + A[3]) / (den + B[3]);
        if central.all() {
            return result;
        }
    }
    // The upper tail Q(y) = 1 - N(y) = exp(-y^2 / 2) R(y).
    let near = y.le(Lanes::splat(SQRT_32));
    let mut ratio = Lanes::splat(0.0);
    if near.and(!central).any() {
        let mut num = C[8] * y;
        let mut den = y;
        for i in 0..7 {
            num = (num + C[i]) * y;
            den = (den + D[i]) * y;
        }
        ratio = (num + C[7]) / (den + D[7]);
    }
    if (!near).any() {
        let xsq = 1.0 / (x * x);
        let mut num = P[5] * xsq;
        let mut den = xsq;
        for i in 0..4 {
            num = (num + P[i]) * xsq;
            den = (den + Q[i]) * xsq;
        }
        let far = (FRAC_1_SQRT_2PI - xsq * (num + P[4]) / (den + Q[4])) / y;
        ratio = near.select(ratio, far);
    }
    // exp(-y^2 / 2) split at ysq, y truncated to a multiple of 1/16, so that
    // ysq^2 / 2 is exact; exp(-ysq^2 / 2) read from its table.
    let sixteenths = y * 16.0;
    let ysq = sixteenths.map(f64::trunc) / 16.0;
    let del = (y - ysq) * (y + ysq);
    let table = &*SQUARE_EXP;
    // `as usize` saturates (NaN to 0), `min` keeps the index in the table:
    // lanes beyond it are replaced below.
    let head = Lanes::from_fn(|i| table[(sixteenths.0[i] as usize).min(SQUARE_EXP_SIXTEENTHS - 1)]);
    let upper = head * exp(-del * 0.5) * ratio;
    // From y = 40 (infinity included) exp(-y^2 / 2) is 0 in doubles.
    let beyond = Lanes::splat(SQUARE_EXP_SIXTEENTHS as f64).le(sixteenths);
    let upper = beyond.select(Lanes::splat(0.0), upper);
    let tail = x.gt(Lanes::splat(0.0)).select(1.0 - upper, upper);
    central.select(result, tail)
}

/// Sixteenths of y covered by [`SQUARE_EXP`]: exp(-y^2 / 2) is 0 in doubles
/// from y = 38.6, so the table covers every y that matters.
const SQUARE_EXP_SIXTEENTHS: usize = 40 * 16;

/// exp(-(k/16)^2 / 2) for k below [`SQUARE_EXP_SIXTEENTHS`], computed by the
/// very expression N(x) would otherwise evaluate (Cody's split point squared
/// and halved, exactly, then [`exp`]): a load in place of an exponential,
/// to the same bits.
static SQUARE_EXP: std::sync::LazyLock<[f64; SQUARE_EXP_SIXTEENTHS]> =
    std::sync::LazyLock::new(|| {
        std::array::from_fn(|k| {
            let ysq = k as f64 / 16.0;
            exp(Lanes([-ysq * ysq * 0.5])).0[0]
        })
    });

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
    black76_given_log_moneyness(
        Mask::splat(right == OptionRight::Call),
        Lanes([forward]),
        Lanes([strike]),
        ln(Lanes([forward / strike])),
        Lanes([vol * tau.sqrt()]),
        Lanes([discount]),
    )
    .0[0]
}

/// Black-76 forward delta dV/dF of one option on one unit of the forward:
/// D N(d1) for a call, D (N(d1) - 1) for a put (Hull, "Options, Futures, and
/// Other Derivatives", the delta of futures options); at expiry or zero vol,
/// the intrinsic value's slope, D or -D in the money and 0 out of it. The
/// close-out's equivalent holding of the underlying
/// ([`super::usd_delta`]).
pub fn black76_delta(
    right: OptionRight,
    forward: f64,
    strike: f64,
    vol: f64,
    tau: f64,
    discount: f64,
) -> f64 {
    let total_vol = vol * tau.sqrt();
    let call = right == OptionRight::Call;
    if total_vol <= 1e-12 {
        let in_the_money = if call {
            forward > strike
        } else {
            forward < strike
        };
        return match (in_the_money, call) {
            (false, _) => 0.0,
            (true, true) => discount,
            (true, false) => -discount,
        };
    }
    let d1 = ((forward / strike).ln() + 0.5 * total_vol * total_vol) / total_vol;
    let n1 = norm_cdf(d1);
    discount * if call { n1 } else { n1 - 1.0 }
}

/// [`black76`] of `N` options at once (calls where `call` holds), given the
/// total volatility sigma sqrt(tau) and ln(F/K), each lane bit for bit one
/// lane's: the revaluation keeps each series' sqrt(tau1)
/// ([`crate::book::StrikeGroups::root_tau1`]) and forms ln(F/K) as the series'
/// ln(F1/K) at an unchanged price plus the scenario's ln R, one logarithm
/// per asset and scenario rather than one per series and scenario
/// ([`crate::book::OptionSeries::pnl`]). A put's `K N(-d2) - F N(-d1)` takes
/// N at the negated arguments (negation is exact), so both rights share the
/// two evaluations of N.
#[inline(always)]
pub fn black76_given_log_moneyness<const N: usize>(
    call: Mask<N>,
    forward: Lanes<N>,
    strike: Lanes<N>,
    log_moneyness: Lanes<N>,
    total_vol: Lanes<N>,
    discount: Lanes<N>,
) -> Lanes<N> {
    let zero = Lanes::splat(0.0);
    let expired = total_vol.le(Lanes::splat(1e-12));
    let intrinsic = discount * call.select(forward - strike, strike - forward).max(zero);
    if expired.all() {
        return intrinsic;
    }
    let d1 = (log_moneyness + 0.5 * total_vol * total_vol) / total_vol;
    let d2 = d1 - total_vol;
    let n1 = norm_cdf_lanes(call.select(d1, -d1));
    let n2 = norm_cdf_lanes(call.select(d2, -d2));
    let value = discount * call.select(forward * n1 - strike * n2, strike * n2 - forward * n1);
    expired.select(intrinsic, value)
}

#[cfg(test)]
mod tests {
    use super::*;
    use OptionRight::{Call, Put};

    /// N(x) + N(-x) = 1 and N increases, across every branch.
    #[test]
    fn norm_cdf_is_symmetric_and_monotone() {
        let mut previous = 0.0;
        for i in -3700..=3700 {
            let x = i as f64 * 0.01;
            assert!((norm_cdf(x) + norm_cdf(-x) - 1.0).abs() <= 2.3e-16, "{x}");
            assert!(norm_cdf(x) >= previous, "{x}");
            previous = norm_cdf(x);
        }
    }

    /// The table holds exp(-ysq^2 / 2) at the split point N(x) computes for
    /// every y below 40 (the index is the truncation of y x 16, exactly), so
    /// reading it gives the bits of the exponential; beyond, and at the
    /// infinities, the tail is 0.
    #[test]
    fn tabulated_split_is_the_direct_exponential_bit_for_bit() {
        let check = |y: f64| {
            let sixteenths = y * 16.0;
            let ysq = sixteenths.trunc() / 16.0;
            let k = (sixteenths as usize).min(SQUARE_EXP_SIXTEENTHS - 1);
            assert_eq!((k as f64 / 16.0).to_bits(), ysq.to_bits(), "{y}");
            let direct = exp(Lanes([-ysq * ysq * 0.5])).0[0];
            assert_eq!(SQUARE_EXP[k].to_bits(), direct.to_bits(), "{y}");
        };
        for i in 67_000..4_000_000 {
            check(i as f64 * 1e-5);
        }
        for k in 11..SQUARE_EXP_SIXTEENTHS {
            let edge = k as f64 / 16.0;
            for y in [edge, edge.next_down(), edge.next_up()] {
                if y < 40.0 {
                    check(y);
                }
            }
        }
        assert_eq!(norm_cdf(f64::INFINITY), 1.0);
        assert_eq!(norm_cdf(f64::NEG_INFINITY), 0.0);
        assert_eq!(norm_cdf(-40.0), 0.0);
        assert_eq!(norm_cdf(1e300), 1.0);
        assert!(norm_cdf(f64::NAN).is_nan());
    }

    /// Reference values to 16 digits from mpmath's `ncdf` at 40 digits, in each
    /// of the three branches (statrs's erfc, used before, is off by 5e-11
    /// relative already at N(-8)).
    #[test]
    #[allow(clippy::excessive_precision)] // mpmath's digits, as printed
    fn norm_cdf_matches_reference_values() {
        assert_eq!(norm_cdf(0.0), 0.5);
        assert!((norm_cdf(1.96) - 0.975_002_104_851_779_5).abs() <= 1.2e-16);
        assert!((norm_cdf(0.3) - 0.617_911_422_188_952_6).abs() <= 1.2e-16);
        assert!((norm_cdf(2.5) - 0.993_790_334_674_223_9).abs() <= 1.2e-16);
        for (x, n) in [
            (-0.5, 0.308_537_538_725_986_9),
            (-1.0, 0.158_655_253_931_457_05),
            (-2.0, 0.022_750_131_948_179_207),
            (-3.0, 0.001_349_898_031_630_094_5),
            (-4.0, 3.167_124_183_311_992e-5),
            (-6.0, 9.865_876_450_376_981e-10),
            (-8.0, 6.220_960_574_271_784e-16),
            (-5.0, 2.866_515_718_791_939e-7),
            (-10.0, 7.619_853_024_160_526e-24),
            (-20.0, 2.753_624_118_606_234e-89),
            (-30.0, 4.906_713_927_148_187e-198),
            (-37.0, 5.725_571_222_524_577e-300),
        ] {
            assert!(
                (norm_cdf(x) / n - 1.0).abs() < 2e-15,
                "N({x}) = {}",
                norm_cdf(x)
            );
        }
    }

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
