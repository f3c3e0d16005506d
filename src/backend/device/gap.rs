//! The losses above each member's top tail window, summed where they are
//! computed: a device that can (CUDA, `kernels/exact_sum.cuh`) counts them and
//! adds them and their squares into exact integer words instead of returning
//! them as candidates, and the host adds those moments to the member's top
//! gap ([`MemberTail::push_above`]). The counters are integer sums, so neither
//! the order of the device's atomics nor the chunking changes a bit, and the
//! moments equal those the host would have added loss by loss: the top gap
//! keeps only a loss's count, sum and sum of squares anyway. At 10^7
//! scenarios and 99% that is about 10^5 losses a member that need not cross
//! the bus, against the windows' ~2 x 10^4.
//!
//! [`MemberTail::push_above`]: crate::tail::MemberTail::push_above

use crate::tail::{ExactSum, Moments};

/// 64-bit counters of one member's sums: the count, then the digit sums of
/// the sum's and the sum of squares' positive and negative magnitudes (8
/// each; see [`ExactSum::from_digit_sums`]).
pub const GAP_WORDS: usize = 33;

/// The moments a member's [`GAP_WORDS`] counters hold.
pub fn moments(words: &[u64]) -> Moments {
    let part = |at: usize| -> [u64; 8] { std::array::from_fn(|i| words[at + i]) };
    Moments {
        count: words[0],
        sum: ExactSum::from_digit_sums(&part(1), &part(9)),
        sum_sq: ExactSum::from_digit_sums(&part(17), &part(25)),
    }
}

/// The least f32 `v` whose loss `f64::from(v) + constant` (one rounding, as
/// the host adds a candidate's constant back) exceeds `top`: the device sums a
/// loss at or above it into the top gap. Exact, so that no loss the host
/// would have kept in a window is summed. +inf when no finite f32 exceeds
/// `top` (or `top` is +inf or NaN): nothing is summed.
pub fn f32_above(top: f64, constant: f64) -> f32 {
    let exceeds = |v: f32| f64::from(v) + constant > top;
    if top.is_nan() || !exceeds(f32::MAX) {
        return f32::INFINITY;
    }
    // The loss is monotone in v, so `exceeds` flips once along the f32s in
    // order: bisect on their order-preserving integer keys.
    let key = |v: f32| -> i64 {
        let bits = v.to_bits();
        if bits >> 31 == 1 {
            -i64::from(bits & 0x7fff_ffff)
        } else {
            i64::from(bits)
        }
    };
    let value = |k: i64| -> f32 {
        if k < 0 {
            f32::from_bits(0x8000_0000 | (-k) as u32)
        } else {
            f32::from_bits(k as u32)
        }
    };
    let (mut low, mut high) = (key(f32::MIN), key(f32::MAX));
    if exceeds(f32::MIN) {
        return f32::MIN;
    }
    // exceeds(value(low)) is false, exceeds(value(high)) true.
    while high - low > 1 {
        let middle = low + (high - low) / 2;
        if exceeds(value(middle)) {
            high = middle;
        } else {
            low = middle;
        }
    }
    value(high)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_threshold_above_the_top_window_is_the_least_f32_whose_loss_exceeds_it() {
        let cases = [
            (0.0, 0.0),
            (1.5e6, 2.0e5),
            (-3.0e4, 1.0e4),
            (1.0e12 + 0.5, 1.0e12),
            // A constant so large that many f32s give the same loss.
            (1.0e18 + 4096.0, 1.0e18),
            (2.5, -7.0e15),
            (123.456, 0.0),
            (-1.0e-3, 0.0),
        ];
        for (top, constant) in cases {
            let v = f32_above(top, constant);
            assert!(f64::from(v) + constant > top, "{top}, {constant}: {v}");
            let below = v.next_down();
            assert!(
                f64::from(below) + constant <= top,
                "{top}, {constant}: {below}"
            );
        }
    }

    #[test]
    fn nothing_is_summed_above_an_open_top_window() {
        for (top, constant) in [(f64::INFINITY, 0.0), (f64::NAN, 1.0), (1e300, 0.0)] {
            assert_eq!(f32_above(top, constant), f32::INFINITY, "{top}");
        }
        assert_eq!(f32_above(f64::NEG_INFINITY, 0.0), f32::MIN);
    }

    #[test]
    fn a_members_words_give_its_count_sum_and_sum_of_squares() {
        // Losses 3 and -1.5: count 2, sum 1.5, squares 11.25 (each magnitude
        // times 2^96, at digits 3 and up), and a digit sum past 2^32 that
        // carries into the digit above: 2^32 * 2^64 = 2^96, one more unit.
        let mut words = [0u64; GAP_WORDS];
        words[0] = 3;
        words[1 + 3] = 3; // +3 * 2^96
        words[9 + 2] = 1 << 31; // -1.5 * 2^96 = -(2^95 + 2^96)
        words[9 + 3] = 1;
        words[17 + 3] = 11; // 11.25 = 11 + 2^-2
        words[17 + 2] = (1 << 30) + (1 << 32);
        let m = moments(&words);
        assert_eq!(m.count, 3);
        assert_eq!(m.sum.value(), 1.5);
        assert_eq!(m.sum_sq.value(), 12.25);
    }
}
