//! `exp` and `ln` in lanes, for the option revaluation's Black-76.
//!
//! Two reasons not to call the C library here. Speed: the revaluation takes
//! one `ln` and up to two `exp` per option and scenario, and a library call
//! cannot be evaluated in vector lanes. Reproducibility: glibc picks its `exp`
//! and `log` at run time by the CPU's instruction set (FMA or not), so the same
//! binary could round differently on two machines; these use plain IEEE
//! additions, multiplications and divisions only, in a fixed order, and give
//! the same bits on every machine and at every lane width.
//!
//! Both are the classic argument reductions with fdlibm's minimax polynomials
//! (Sun Microsystems, fdlibm 5.3, `e_exp.c` and `e_log.c`; the same as in
//! musl's older releases and FreeBSD's msun), written for lanes: within 1 ulp
//! of the correctly rounded value (tested against the C library's results,
//! themselves within about 0.5 ulp).

use super::Lanes;

/// The bits of 1.5 x 2^52: a double in [2^52, 2^53) has a unit in the last
/// place of 1, so adding this rounds to an integer held in the low bits.
const SHIFT: f64 = 6_755_399_441_055_744.0;

/// ln 2 in two parts (Cody and Waite): the high part's trailing 32 bits are
/// zero, so that k ln2_hi is exact for every exponent k.
#[allow(clippy::excessive_precision)] // fdlibm's digits, as published
const LN2_HI: f64 = 6.93147180369123816490e-01;
#[allow(clippy::excessive_precision)]
const LN2_LO: f64 = 1.90821492927058770002e-10;

/// 2^k for integer-valued `k` in -1022..=1023, built from the exponent bits.
#[inline(always)]
fn pow2<const N: usize>(k: Lanes<N>) -> Lanes<N> {
    // k + SHIFT holds k in its low mantissa bits (exact for |k| < 2^51).
    let held = k + SHIFT;
    Lanes::from_fn(|i| {
        let k = held.0[i].to_bits().wrapping_sub(SHIFT.to_bits());
        f64::from_bits(k.wrapping_add(1023) << 52)
    })
}

/// e^x, lane by lane, within 1 ulp; 0 below -745.14, infinity above 709.78,
/// NaN for NaN.
///
/// x = k ln 2 + r with k = round(x / ln 2) and |r| <= ln 2 / 2 (Cody and
/// Waite's two-part ln 2, so that k ln2_hi is exact), then
/// e^r = 1 - ((lo - r c / (2 - c)) - hi) with r = hi - lo, c = r - r^2 P(r^2) (fdlibm's Remez
/// polynomial, error below 2^-59), and e^x = 2^k e^r.
#[inline(always)]
#[allow(clippy::excessive_precision)] // fdlibm's coefficients, as published
pub fn exp<const N: usize>(x: Lanes<N>) -> Lanes<N> {
    const P: [f64; 5] = [
        1.66666666666666019037e-01,
        -2.77777777770155933842e-03,
        6.61375632143793436117e-05,
        -1.65339022054652515390e-06,
        4.13813679705723846039e-08,
    ];
    const OVERFLOW: f64 = 7.09782712893383973096e+02;
    const UNDERFLOW: f64 = -7.45133219101941108420e+02;

    // Clamped so that garbage in one lane cannot disturb the integer steps.
    let clamped = x.max(Lanes::splat(UNDERFLOW)).map(|v| v.min(OVERFLOW));
    let k = (clamped * std::f64::consts::LOG2_E + SHIFT) - SHIFT;
    let hi = clamped - k * LN2_HI;
    let lo = k * LN2_LO;
    let r = hi - lo;
    let rr = r * r;
    let c = r - rr * (P[0] + rr * (P[1] + rr * (P[2] + rr * (P[3] + rr * P[4]))));
    let er = 1.0 - ((lo - (r * c) / (2.0 - c)) - hi);
    // 2^k in two factors, each a normal double for k in -1076..=1024, so that
    // subnormal results round once, in the last multiplication.
    let half = Lanes::from_fn(|i| (k.0[i] * 0.5).trunc());
    let value = er * pow2(half) * pow2(k - half);
    let value = x
        .gt(Lanes::splat(OVERFLOW))
        .select(Lanes::splat(f64::INFINITY), value);
    let value = x
        .lt(Lanes::splat(UNDERFLOW))
        .select(Lanes::splat(0.0), value);
    x.is_nan().select(x, value)
}

/// ln x, lane by lane, within 1 ulp; -infinity at 0, NaN below 0 and for NaN,
/// infinity at infinity.
///
/// x = 2^k m with m in [sqrt(2)/2, sqrt(2)) (subnormals scaled by 2^54
/// first), f = m - 1, s = f / (2 + f):
/// ln x = k ln2_hi - ((f^2/2 - (s (f^2/2 + R) + k ln2_lo)) - f), with R(s^2)
/// ~ 2 s^2/3 + 2 s^4/5 + ... fdlibm's Remez polynomial (error below 2^-58.45).
/// The scenario generator's Box-Muller takes its logarithm from here too.
#[inline(always)]
#[allow(clippy::excessive_precision)] // fdlibm's coefficients, as published
pub fn ln<const N: usize>(x: Lanes<N>) -> Lanes<N> {
    const LG: [f64; 7] = [
        6.666666666666735130e-01,
        3.999999999940941908e-01,
        2.857142874366239149e-01,
        2.222219843214978396e-01,
        1.818357216161805012e-01,
        1.531383769920937332e-01,
        1.479819860511658591e-01,
    ];
    const TWO_54: f64 = 18_014_398_509_481_984.0;

    let subnormal = x.lt(Lanes::splat(f64::MIN_POSITIVE));
    let scaled = subnormal.select(x * TWO_54, x);
    // The biased exponent as an exact double: (1.5 x 2^52 + e) - 1.5 x 2^52;
    // m in [1, 2) from the mantissa.
    let exponent = Lanes::from_fn(|i| {
        f64::from_bits(SHIFT.to_bits() + ((scaled.0[i].to_bits() >> 52) & 0x7ff))
    });
    let m = Lanes::from_fn(|i| {
        f64::from_bits((scaled.0[i].to_bits() & ((1 << 52) - 1)) | 1.0f64.to_bits())
    });
    // Into [sqrt(2)/2, sqrt(2)), so that |s| <= 0.1716.
    let high = m.gt(Lanes::splat(std::f64::consts::SQRT_2));
    let m = high.select(m * 0.5, m);
    let k = (exponent - SHIFT - 1023.0) + high.select(Lanes::splat(1.0), Lanes::splat(0.0))
        - subnormal.select(Lanes::splat(54.0), Lanes::splat(0.0));
    let f = m - 1.0;
    let s = f / (2.0 + f);
    let z = s * s;
    let w = z * z;
    let t1 = w * (LG[1] + w * (LG[3] + w * LG[5]));
    let t2 = z * (LG[0] + w * (LG[2] + w * (LG[4] + w * LG[6])));
    let r = t2 + t1;
    let hfsq = 0.5 * f * f;
    let value = k * LN2_HI - ((hfsq - (s * (hfsq + r) + k * LN2_LO)) - f);
    let value = x
        .le(Lanes::splat(0.0))
        .select(Lanes::splat(f64::NAN), value);
    let value = x
        .eq(Lanes::splat(0.0))
        .select(Lanes::splat(f64::NEG_INFINITY), value);
    let value = x.eq(Lanes::splat(f64::INFINITY)).select(x, value);
    x.is_nan().select(x, value)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Units in the last place between `a` and `b` (both finite, same sign).
    fn ulps(a: f64, b: f64) -> u64 {
        a.to_bits().abs_diff(b.to_bits())
    }

    /// A fixed stream of doubles spread over `range` (splitmix64).
    fn spread(range: std::ops::Range<f64>, count: usize) -> Vec<f64> {
        let mut state = 0x9e37_79b9_7f4a_7c15u64;
        (0..count)
            .map(|_| {
                state = state.wrapping_add(0x9e37_79b9_7f4a_7c15);
                let mut z = state;
                z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
                z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
                let u = (z ^ (z >> 31)) as f64 / u64::MAX as f64;
                range.start + u * (range.end - range.start)
            })
            .collect()
    }

    fn exp1(x: f64) -> f64 {
        exp(Lanes([x])).0[0]
    }

    fn ln1(x: f64) -> f64 {
        ln(Lanes([x])).0[0]
    }

    #[test]
    fn exp_is_within_one_ulp_of_the_c_library() {
        let mut xs = spread(-745.0..709.7, 200_000);
        xs.extend(spread(-3.0..0.5, 200_000));
        xs.extend((-2000..=2000).map(|i| i as f64 * 0.5 * std::f64::consts::LN_2));
        for x in xs {
            let (ours, libm) = (exp1(x), x.exp());
            assert!(
                ulps(ours, libm) <= 1,
                "exp({x:e}) = {ours:e}, libm {libm:e}"
            );
        }
    }

    #[test]
    fn exp_edges() {
        assert_eq!(exp1(0.0), 1.0);
        assert_eq!(exp1(-0.0), 1.0);
        assert!(ulps(exp1(1.0), std::f64::consts::E) <= 1);
        assert_eq!(exp1(710.0), f64::INFINITY);
        assert_eq!(exp1(f64::INFINITY), f64::INFINITY);
        assert_eq!(exp1(-746.0), 0.0);
        assert_eq!(exp1(f64::NEG_INFINITY), 0.0);
        assert!(exp1(f64::NAN).is_nan());
        // Subnormal results: 2^-1074 is the smallest.
        assert_eq!(exp1(-745.0), (-745.0f64).exp());
        assert!(ulps(exp1(-740.0), (-740.0f64).exp()) <= 1);
        assert!(ulps(exp1(709.0), 709.0f64.exp()) <= 1);
    }

    #[test]
    fn ln_is_within_one_ulp_of_the_c_library() {
        let mut xs = spread(0.5..2.0, 200_000);
        xs.extend(spread(1e-6..1e6, 100_000));
        xs.extend(
            spread(0.0..1.0, 100_000)
                .into_iter()
                .map(|u| 2f64.powf(2000.0 * u - 1000.0)),
        );
        xs.extend((1..=2000).map(|i| 1.0 + i as f64 * f64::EPSILON));
        xs.extend((1..=2000).map(|i| 1.0 - i as f64 * f64::EPSILON / 2.0));
        for x in xs {
            let (ours, libm) = (ln1(x), x.ln());
            if libm == 0.0 {
                assert_eq!(ours, 0.0, "{x:e}");
            } else {
                assert!(ulps(ours, libm) <= 1, "ln({x:e}) = {ours:e}, libm {libm:e}");
            }
        }
    }

    #[test]
    fn ln_edges() {
        assert_eq!(ln1(1.0), 0.0);
        assert_eq!(ln1(std::f64::consts::E), 1.0);
        assert_eq!(ln1(0.0), f64::NEG_INFINITY);
        assert_eq!(ln1(-0.0), f64::NEG_INFINITY);
        assert_eq!(ln1(f64::INFINITY), f64::INFINITY);
        assert!(ln1(-1.0).is_nan() && ln1(f64::NEG_INFINITY).is_nan() && ln1(f64::NAN).is_nan());
        for x in [f64::MIN_POSITIVE, 5e-324, 1e-310, f64::MAX] {
            assert!(ulps(ln1(x), x.ln()) <= 1, "{x:e}");
        }
    }

    /// Every width gives each lane what one lane gives.
    #[test]
    fn lanes_give_the_scalar_bits() {
        let xs = spread(-50.0..50.0, 4096);
        for chunk in xs.chunks_exact(8) {
            let x = Lanes::<8>(chunk.try_into().unwrap());
            let (e, l) = (exp(x), ln(x.abs()));
            for (i, &x) in chunk.iter().enumerate() {
                assert_eq!(e.0[i].to_bits(), exp1(x).to_bits());
                assert_eq!(l.0[i].to_bits(), ln1(x.abs()).to_bits());
            }
        }
    }
}
