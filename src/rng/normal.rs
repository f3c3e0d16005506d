//! Box-Muller with its own logarithm and sine/cosine, branch-free so that eight
//! pairs are transformed at once in vector registers, and written in plain
//! arithmetic that the GPU kernels reproduce operation for operation.
//!
//! - `ln u` by fdlibm's `e_log.c` reduction and minimax polynomial (error below
//!   one ulp), shared with the option revaluation ([`crate::lanes::elementary`]):
//!   u = 2^k m with m in [sqrt(2)/2, sqrt(2)), f = m - 1,
//!   s = f / (2 + f), ln(1 + f) = f - f^2/2 + s (f^2/2 + R(s^2)).
//! - `sin(2 pi u)`, `cos(2 pi u)` for u in (0, 1): the angle is reduced exactly in
//!   turns (q = round(4u), r = u - q/4 in [-1/8, 1/8], exact because u has 33
//!   significant bits), then fdlibm's `k_sin.c` / `k_cos.c` polynomials on
//!   theta = 2 pi r in [-pi/4, pi/4] and a quadrant swap.

// The polynomial coefficients are fdlibm's, digit for digit as published.
#![allow(clippy::excessive_precision)]

use crate::lanes::{elementary, Lanes};

const S1: f64 = -1.666_666_666_666_663_243_48e-01;
const S2: f64 = 8.333_333_333_322_489_461_24e-03;
const S3: f64 = -1.984_126_982_985_794_931_34e-04;
const S4: f64 = 2.755_731_370_707_006_767_89e-06;
const S5: f64 = -2.505_076_025_340_686_341_95e-08;
const S6: f64 = 1.589_690_995_211_550_102_21e-10;
const C1: f64 = 4.166_666_666_666_660_190_37e-02;
const C2: f64 = -1.388_888_888_887_410_957_49e-03;
const C3: f64 = 2.480_158_728_947_672_941_78e-05;
const C4: f64 = -2.755_731_435_139_066_330_35e-07;
const C5: f64 = 2.087_572_321_298_174_827_90e-09;
const C6: f64 = -1.135_964_755_778_819_482_65e-11;

/// Natural logarithm, fdlibm's ([`crate::lanes::elementary::ln`]).
#[inline(always)]
pub fn ln(x: f64) -> f64 {
    elementary::ln(Lanes([x])).0[0]
}

/// (sin 2 pi u, cos 2 pi u) for u in [0, 1].
#[inline(always)]
pub fn sin_cos_turns(u: f64) -> (f64, f64) {
    let q = (4.0 * u).round();
    let r = u - 0.25 * q;
    let x = std::f64::consts::TAU * r;
    let z = x * x;
    let v = z * x;
    let sin = x + v * (S1 + z * (S2 + z * (S3 + z * (S4 + z * (S5 + z * S6)))));
    let cos = 1.0 - (0.5 * z - z * (z * (C1 + z * (C2 + z * (C3 + z * (C4 + z * (C5 + z * C6)))))));
    // Quarter turns q: (sin, cos) of q pi/2 + x.
    let quadrant = (q as i64) & 3;
    let (s, c) = if quadrant & 1 == 1 {
        (cos, -sin)
    } else {
        (sin, cos)
    };
    if quadrant & 2 == 2 {
        (-s, -c)
    } else {
        (s, c)
    }
}

/// Box-Muller on `N` pairs at once: `(sqrt(-2 ln ur) cos(2 pi ua), sqrt(-2 ln ur) sin(2 pi ua))`.
#[inline(always)]
pub fn box_muller_lanes<const N: usize>(
    radius: &[f64; N],
    angle: &[f64; N],
    cos_out: &mut [f64; N],
    sin_out: &mut [f64; N],
) {
    let ln_radius = elementary::ln(Lanes(*radius));
    for i in 0..N {
        let r = (-2.0 * ln_radius.0[i]).sqrt();
        let (s, c) = sin_cos_turns(angle[i]);
        cos_out[i] = r * c;
        sin_out[i] = r * s;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ulps(a: f64, b: f64) -> f64 {
        (a - b).abs() / (b.abs() * f64::EPSILON).max(f64::MIN_POSITIVE)
    }

    #[test]
    fn ln_is_within_one_ulp_of_the_system_logarithm_on_the_uniform_grid() {
        let mut worst = 0.0f64;
        for i in (0..u32::MAX).step_by(4_093) {
            let u = crate::rng::uniform_from_bits(i);
            worst = worst.max(ulps(ln(u), u.ln()));
        }
        for x in [
            1.0,
            0.5,
            2.0,
            std::f64::consts::E,
            1e-300,
            1e300,
            0.999_999_999,
        ] {
            worst = worst.max(ulps(ln(x), x.ln()).min(if x == 1.0 { 0.0 } else { f64::INFINITY }));
        }
        assert!(worst <= 1.0, "worst error {worst} ulp");
        assert_eq!(ln(1.0), 0.0);
    }

    #[test]
    fn sin_and_cos_in_turns_match_the_system_functions() {
        let mut worst = 0.0f64;
        for i in (0..u32::MAX).step_by(4_093) {
            let u = crate::rng::uniform_from_bits(i);
            let (s, c) = sin_cos_turns(u);
            let (es, ec) = (std::f64::consts::TAU * u).sin_cos();
            // Absolute error against values of magnitude <= 1 (the reference's own
            // argument 2 pi u carries a rounding error of up to 4.4e-16).
            worst = worst.max((s - es).abs()).max((c - ec).abs());
        }
        assert!(worst < 2e-15, "worst absolute error {worst}");
        let (s, c) = sin_cos_turns(0.25);
        assert_eq!((s, c), (1.0, 0.0));
        let (s, c) = sin_cos_turns(0.5);
        assert_eq!((s, c), (0.0, -1.0));
    }
}
