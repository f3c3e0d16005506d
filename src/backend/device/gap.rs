//! The losses in the gaps between each member's tail windows, summed where
//! they are computed: a device that can (CUDA, `kernels/exact_sum.cuh`)
//! counts them and adds them and their squares into exact integer counters
//! instead of returning them as candidates, and the host adds those moments
//! to the member's gaps ([`MemberTail::push_gap`]). The counters are integer
//! sums, so neither the order of the device's atomics nor the chunking
//! changes a bit, and the moments equal those the host would have added loss
//! by loss: a gap keeps only its losses' count, sum and sum of squares
//! anyway. At 10^7 scenarios, 99% and 99.5%, that is about 9 x 10^4 losses a
//! member that need not cross the bus, against the windows' ~3 x 10^4.
//!
//! [`MemberTail::push_gap`]: crate::tail::MemberTail::push_gap

use crate::tail::{ExactSum, MemberTail, Moments};

/// The most gaps a member has summed on the device, from the top: one per
/// rank the margins need (run's confidences) is usual; a member with more
/// windows gets its lower gaps' losses back as candidates.
pub const MAX_GAPS: usize = 4;

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

/// How many gaps the device sums for `tails` (their most windows, at most
/// [`MAX_GAPS`]).
pub fn gaps_for(tails: &[MemberTail]) -> usize {
    tails
        .iter()
        .map(MemberTail::gaps)
        .max()
        .unwrap_or(0)
        .min(MAX_GAPS)
}

/// A member's device bounds of its first `gaps` gaps, (low, high) each: the
/// device sums a loss `v` (f32, the constant left out) with low <= v < high
/// in that gap. Exact (see [`least_f32`]), so that no loss the host would
/// keep in a window is summed; (+inf, +inf) for a gap the member lacks.
pub fn bounds(tail: &MemberTail, constant: f64, gaps: usize) -> Vec<[f32; 2]> {
    (0..gaps)
        .map(|g| match tail.gap_bounds(g) {
            Some((above, below)) => [
                least_f32((above - constant) as f32, |v| {
                    f64::from(v) + constant > above
                }),
                least_f32((below - constant) as f32, |v| {
                    f64::from(v) + constant >= below
                }),
            ],
            None => [f32::INFINITY; 2],
        })
        .collect()
}

/// The least finite f32 `v` for which `holds(v)` (the host's loss
/// `f64::from(v) + constant`, one rounding, against a window's end), which
/// must be monotone in `v`; +inf when no finite f32 holds. `guess` (the end
/// less the constant, rounded to f32) is the answer or one step below it
/// unless the constant dwarfs the loss: those two are tried first, since the
/// bounds are found anew for every member, gap and chunk.
pub fn least_f32(guess: f32, holds: impl Fn(f32) -> bool) -> f32 {
    for v in [guess, guess.next_up()] {
        if v.is_finite() && v > f32::MIN && holds(v) && !holds(v.next_down()) {
            return v;
        }
    }
    if !holds(f32::MAX) {
        return f32::INFINITY;
    }
    if holds(f32::MIN) {
        return f32::MIN;
    }
    // `holds` flips once along the f32s in order: bisect on their
    // order-preserving integer keys.
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
    // holds(value(low)) is false, holds(value(high)) true.
    let (mut low, mut high) = (key(f32::MIN), key(f32::MAX));
    while high - low > 1 {
        let middle = low + (high - low) / 2;
        if holds(value(middle)) {
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
    fn a_gaps_bounds_are_the_least_f32s_whose_loss_passes_each_end() {
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
        for (end, constant) in cases {
            let loss = |v: f32| f64::from(v) + constant;
            let guess = (end - constant) as f32;
            let above = least_f32(guess, |v| loss(v) > end);
            // The same from a guess far off, found by bisection.
            assert_eq!(least_f32(-guess - 1.0, |v| loss(v) > end), above);
            assert!(
                loss(above) > end && loss(above.next_down()) <= end,
                "{end}, {constant}"
            );
            let reaching = least_f32(guess, |v| loss(v) >= end);
            assert_eq!(least_f32(-guess - 1.0, |v| loss(v) >= end), reaching);
            assert!(
                loss(reaching) >= end && loss(reaching.next_down()) < end,
                "{end}, {constant}"
            );
        }
        // Past every finite f32: +inf (nothing summed); below them all: f32::MIN.
        assert_eq!(
            least_f32(f32::INFINITY, |v| f64::from(v) > 1e300),
            f32::INFINITY
        );
        assert_eq!(
            least_f32(f32::NEG_INFINITY, |v| f64::from(v) > f64::NEG_INFINITY),
            f32::MIN
        );
    }

    #[test]
    fn each_gap_lies_between_two_windows_and_an_exact_tail_has_none_to_sum() {
        use crate::tail::Window;
        let tail = MemberTail::new(vec![
            Window::keeping(600.0, 650.0, 10, 0),
            Window::keeping(420.0, 450.0, 10, 0),
        ]);
        assert_eq!(gaps_for(std::slice::from_ref(&tail)), 2);
        let b = bounds(&tail, 100.0, 3);
        // Gap 0 above 650 (losses v + 100), gap 1 above 450 and below 600.
        assert_eq!(b[0], [550.0f32.next_up(), f32::INFINITY]);
        assert_eq!(b[1], [350.0f32.next_up(), 500.0]);
        assert_eq!(b[2], [f32::INFINITY; 2]);
        let exact = MemberTail::exact(10);
        assert_eq!(bounds(&exact, 0.0, 1), vec![[f32::INFINITY; 2]]);
        assert_eq!(gaps_for(&[MemberTail::ignore()]), 0);
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
