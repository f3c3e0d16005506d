//! Order-independent summation of f64 values.
//!
//! Tail sums are built from losses that arrive in whatever order threads, blocks
//! and shards deliver them; f64 addition is not associative, so a plain sum would
//! change in its last bits with the thread count. [`ExactSum`] accumulates in a
//! 256-bit two's-complement fixed-point integer with 96 fraction bits: every
//! addend is truncated once to a multiple of 2^-96 (about 1e-29, far below any
//! money amount) and the integer sum is exact, so the result is the same for any
//! order and any grouping (the idea of Kulisch's long accumulator, restricted to
//! the range a risk number can take).

/// Largest magnitude an addend may have: 2^64 (1.8e19). Squares of such addends
/// and sums of 2^24 of them still fit in 256 bits.
pub const EXACT_SUM_LIMIT: f64 = 18_446_744_073_709_551_616.0;

const FRACTION_BITS: i32 = 96;

#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct ExactSum {
    /// Little-endian limbs of sum * 2^96.
    limbs: [u64; 4],
}

impl ExactSum {
    pub fn new() -> Self {
        Self::default()
    }

    /// Adds `x`, which must be finite with |x| < [`EXACT_SUM_LIMIT`] (callers
    /// reject anything else as a non-finite loss).
    #[inline]
    pub fn add(&mut self, x: f64) {
        debug_assert!(x.abs() < EXACT_SUM_LIMIT, "{x} out of range");
        let bits = x.to_bits();
        let negative = bits >> 63 == 1;
        let biased = ((bits >> 52) & 0x7ff) as i32;
        let fraction = bits & ((1 << 52) - 1);
        // x = mantissa * 2^exponent
        let (mut mantissa, exponent) = if biased == 0 {
            (fraction, -1074)
        } else {
            (fraction | 1 << 52, biased - 1075)
        };
        let mut shift = exponent + FRACTION_BITS;
        if shift < 0 {
            if shift <= -64 {
                return;
            }
            mantissa >>= -shift;
            shift = 0;
        }
        let (limb, offset) = ((shift / 64) as usize, (shift % 64) as u32);
        let mut addend = [0u64; 4];
        addend[limb] = mantissa << offset;
        if offset > 0 && limb + 1 < 4 {
            addend[limb + 1] = mantissa >> (64 - offset);
        }
        if negative {
            self.sub_limbs(&addend);
        } else {
            self.add_limbs(&addend);
        }
    }

    /// The sum as written to a partial-state file: sum * 2^96 as a 256-bit
    /// two's-complement integer, little-endian 64-bit limbs.
    pub fn limbs(&self) -> [u64; 4] {
        self.limbs
    }

    /// The sum [`ExactSum::limbs`] wrote.
    pub fn from_limbs(limbs: [u64; 4]) -> Self {
        Self { limbs }
    }

    /// Adds another sum (for merging shards).
    pub fn merge(&mut self, other: &ExactSum) {
        self.add_limbs(&other.limbs);
    }

    /// The sum whose positive addends' truncated magnitudes (sum * 2^96, cut
    /// into eight 32-bit digits, little-endian) have digit sums `positive`,
    /// and negative addends' `negative`: sum over d of digits[d] * 2^(32 d),
    /// modulo 2^256. That is what a device that splits [`ExactSum::add`] by
    /// sign and digit accumulates (kernels/exact_sum.cuh); equal, bit for
    /// bit, to adding the same values here one by one.
    pub fn from_digit_sums(positive: &[u64; 8], negative: &[u64; 8]) -> Self {
        let number = |digits: &[u64; 8]| -> [u64; 4] {
            let mut limbs = [0u64; 4];
            for (d, &digit) in digits.iter().enumerate() {
                // digit * 2^(32 d): spread over limbs d / 2 and up.
                let shifted = u128::from(digit) << (32 * (d % 2));
                let mut carry = 0u128;
                for (i, limb) in limbs.iter_mut().enumerate().skip(d / 2) {
                    let part = match i - d / 2 {
                        0 => shifted as u64,
                        1 => (shifted >> 64) as u64,
                        _ => 0,
                    };
                    let sum = u128::from(*limb) + u128::from(part) + carry;
                    *limb = sum as u64;
                    carry = sum >> 64;
                }
            }
            limbs
        };
        let mut sum = Self {
            limbs: number(positive),
        };
        sum.sub_limbs(&number(negative));
        sum
    }

    #[inline]
    fn add_limbs(&mut self, other: &[u64; 4]) {
        let mut carry = false;
        for (a, &b) in self.limbs.iter_mut().zip(other) {
            let (s, c1) = a.overflowing_add(b);
            let (s, c2) = s.overflowing_add(carry as u64);
            *a = s;
            carry = c1 || c2;
        }
    }

    #[inline]
    fn sub_limbs(&mut self, other: &[u64; 4]) {
        let mut borrow = false;
        for (a, &b) in self.limbs.iter_mut().zip(other) {
            let (d, b1) = a.overflowing_sub(b);
            let (d, b2) = d.overflowing_sub(borrow as u64);
            *a = d;
            borrow = b1 || b2;
        }
    }

    /// The sum rounded to the nearest f64.
    pub fn value(&self) -> f64 {
        let negative = self.limbs[3] >> 63 == 1;
        let mut magnitude = self.limbs;
        if negative {
            // Two's complement negation: invert and add one.
            for l in &mut magnitude {
                *l = !*l;
            }
            let mut carry = true;
            for l in &mut magnitude {
                let (s, c) = l.overflowing_add(carry as u64);
                *l = s;
                carry = c;
            }
        }
        let Some(high) = magnitude.iter().rposition(|&l| l != 0) else {
            return 0.0;
        };
        let (window, scale) = if high <= 1 {
            ((magnitude[1] as u128) << 64 | magnitude[0] as u128, 0)
        } else {
            // The top 128 bits, with a sticky bit for anything below them so that
            // the one rounding to 53 bits is correct.
            let sticky = magnitude[..high - 1].iter().any(|&l| l != 0) as u128;
            let window = (magnitude[high] as u128) << 64 | magnitude[high - 1] as u128;
            (window | sticky, 64 * (high as i32 - 1))
        };
        let v = window as f64 * 2f64.powi(scale - FRACTION_BITS);
        if negative {
            -v
        } else {
            v
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::input::bounds;

    #[test]
    fn the_sum_does_not_depend_on_order() {
        // Values whose f64 sum depends on order: 1e16 + 1 - 1e16.
        let xs = [1e16, 1.0, -1e16, 0.1, 1e-9, -3.5e12, 2.5e12, 1e12];
        let mut forward = ExactSum::new();
        xs.iter().for_each(|&x| forward.add(x));
        let mut backward = ExactSum::new();
        xs.iter().rev().for_each(|&x| backward.add(x));
        assert_eq!(forward, backward);
        // The large terms cancel exactly; 1 + 0.1 + 1e-9 is rounded once (adding
        // left to right in f64 rounds twice and gives 1.1000000010000002).
        assert_eq!(forward.value(), 1.100000001);
    }

    /// [`ExactSum::add`] split by sign and digit, as a device adds them.
    fn digit_sums(xs: &[f64]) -> ExactSum {
        let (mut positive, mut negative) = ([0u64; 8], [0u64; 8]);
        for &x in xs {
            let mut one = ExactSum::new();
            one.add(x.abs());
            let digits = if x.is_sign_negative() {
                &mut negative
            } else {
                &mut positive
            };
            for (i, limb) in one.limbs.iter().enumerate() {
                digits[2 * i] += *limb & 0xffff_ffff;
                digits[2 * i + 1] += *limb >> 32;
            }
        }
        ExactSum::from_digit_sums(&positive, &negative)
    }

    #[test]
    fn digit_sums_by_sign_equal_the_sum_added_here() {
        let xs: Vec<f64> = (0..5000)
            .map(|i| (i as f64 * 0.37).sin() * 10f64.powi(i % 25 - 8))
            .chain([
                0.0,
                -0.0,
                1.7e19,
                -1.7e19,
                3e-30,
                -2.5e-29,
                f64::MIN_POSITIVE,
            ])
            .collect();
        let mut here = ExactSum::new();
        xs.iter().for_each(|&x| here.add(x));
        assert_eq!(digit_sums(&xs), here);
        let squares: Vec<f64> = xs.iter().map(|x| x * x).collect();
        let mut here = ExactSum::new();
        squares.iter().for_each(|&x| here.add(x));
        assert_eq!(digit_sums(&squares), here);
    }

    #[test]
    fn merged_shards_equal_one_accumulator() {
        let xs: Vec<f64> = (0..1000).map(|i| (i as f64 * 0.7).sin() * 1e6).collect();
        let mut whole = ExactSum::new();
        xs.iter().for_each(|&x| whole.add(x));
        let (mut a, mut b) = (ExactSum::new(), ExactSum::new());
        xs[..333].iter().for_each(|&x| a.add(x));
        xs[333..].iter().for_each(|&x| b.add(x));
        a.merge(&b);
        assert_eq!(a, whole);
    }

    #[test]
    fn values_round_trip_across_the_range() {
        // Every bit of an addend of magnitude 2^-44 or more lies at or above 2^-96.
        for x in [
            0.0, 1.0, -1.0, 0.5, -7.25e-5, 123456.789, -9.9e18, 1.7e19, 1e-13,
        ] {
            let mut s = ExactSum::new();
            s.add(x);
            assert_eq!(s.value(), x, "{x}");
        }
        // Smaller addends lose their bits below 2^-96 (1.3e-29), no more.
        for x in [1e-20, -3.3e-25, 3e-30] {
            let mut s = ExactSum::new();
            s.add(x);
            assert!((s.value() - x).abs() < 2f64.powi(-96), "{x}");
        }
    }

    #[test]
    fn a_long_sum_is_correctly_rounded() {
        // 10^6 copies of 0.1 (whose f64 is 0.1000000000000000055511151231257827):
        // the exact sum is 100000.0000000000055511151231257827, which rounds to 100000.
        let mut s = ExactSum::new();
        (0..1_000_000).for_each(|_| s.add(0.1));
        assert_eq!(s.value(), 100_000.0);
        let naive: f64 = (0..1_000_000).map(|_| 0.1).sum();
        assert_ne!(naive, 100_000.0);
    }

    /// The largest stress loss the input ranges allow stays far inside the exact sums.
    #[test]
    fn the_ranges_keep_a_stress_loss_inside_the_exact_sums() {
        let bounds::End::Closed(largest_move) = bounds::PRICE_SHOCK.high else {
            panic!("the price shock's upper end is closed")
        };
        let bounds::End::Closed(funding) = bounds::FUNDING_RATE_8H.high else {
            panic!("the funding rate's upper end is closed")
        };
        let bounds::End::Closed(days) = bounds::MARGIN_PERIOD_DAYS.high else {
            panic!("the margin period's upper end is closed")
        };
        let worst = bounds::MAX_NOTIONAL_USD * (largest_move + funding * 3.0 * days);
        assert!(worst < 1e-1 * EXACT_SUM_LIMIT, "{worst:e}");
    }
}
