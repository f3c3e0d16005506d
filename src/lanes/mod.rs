//! `N` doubles evaluated together, lane by lane, with the very IEEE operation
//! the scalar code performs on each: the option revaluation prices a series
//! in `N` scenarios at once this way ([`crate::pricing::black76::black76_given_log_moneyness`]),
//! and with `N = 1` the same code is the scalar reference. Nothing here fuses, reorders or
//! approximates, so lane `i` of any width is bit for bit what one lane gives;
//! the compiler is left to map the element-wise loops onto vector registers
//! (the CPU backend compiles the widths it finds at run time, see
//! [`crate::backend::cpu`]). Branches become masks: a branch is evaluated when
//! any lane takes it, and each lane keeps the result of its own.

pub mod elementary;

use std::ops::{Add, Div, Mul, Neg, Not, Sub};

/// `N` doubles.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Lanes<const N: usize>(pub [f64; N]);

/// Which lanes a condition holds in: all bits set where it holds, none
/// elsewhere, as vector compares produce them (a `bool` per lane would cost
/// a conversion at every compare and select).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Mask<const N: usize>(pub [u64; N]);

impl<const N: usize> Lanes<N> {
    #[inline(always)]
    pub fn splat(x: f64) -> Self {
        Self([x; N])
    }

    #[inline(always)]
    pub fn from_fn(f: impl FnMut(usize) -> f64) -> Self {
        Self(std::array::from_fn(f))
    }

    /// `f` applied to each lane.
    #[inline(always)]
    pub fn map(self, mut f: impl FnMut(f64) -> f64) -> Self {
        Self::from_fn(|i| f(self.0[i]))
    }

    #[inline(always)]
    pub fn abs(self) -> Self {
        self.map(f64::abs)
    }

    /// `f64::max` lane by lane (the non-NaN operand where one is NaN).
    #[inline(always)]
    pub fn max(self, other: Self) -> Self {
        Self::from_fn(|i| self.0[i].max(other.0[i]))
    }

    #[inline(always)]
    pub fn le(self, other: Self) -> Mask<N> {
        Mask::from_fn(|i| self.0[i] <= other.0[i])
    }

    #[inline(always)]
    pub fn gt(self, other: Self) -> Mask<N> {
        Mask::from_fn(|i| self.0[i] > other.0[i])
    }

    #[inline(always)]
    pub fn lt(self, other: Self) -> Mask<N> {
        Mask::from_fn(|i| self.0[i] < other.0[i])
    }

    #[inline(always)]
    pub fn eq(self, other: Self) -> Mask<N> {
        Mask::from_fn(|i| self.0[i] == other.0[i])
    }

    /// The lanes holding NaN.
    #[inline(always)]
    pub fn is_nan(self) -> Mask<N> {
        Mask::from_fn(|i| self.0[i].is_nan())
    }
}

impl<const N: usize> Mask<N> {
    /// Holds in lane `i` where `f(i)` does.
    #[inline(always)]
    pub fn from_fn(mut f: impl FnMut(usize) -> bool) -> Self {
        Self(std::array::from_fn(|i| if f(i) { u64::MAX } else { 0 }))
    }

    #[inline(always)]
    pub fn splat(holds: bool) -> Self {
        Self::from_fn(|_| holds)
    }

    #[inline(always)]
    pub fn any(self) -> bool {
        self.0.iter().fold(0, |acc, &m| acc | m) != 0
    }

    #[inline(always)]
    pub fn all(self) -> bool {
        self.0.iter().fold(u64::MAX, |acc, &m| acc & m) != 0
    }

    #[inline(always)]
    pub fn and(self, other: Self) -> Self {
        Self(std::array::from_fn(|i| self.0[i] & other.0[i]))
    }

    /// `yes` in the lanes where the mask holds, `no` elsewhere (bits moved,
    /// not computed: a NaN's payload and a zero's sign survive).
    #[inline(always)]
    pub fn select(self, yes: Lanes<N>, no: Lanes<N>) -> Lanes<N> {
        Lanes::from_fn(|i| {
            let m = self.0[i];
            f64::from_bits((yes.0[i].to_bits() & m) | (no.0[i].to_bits() & !m))
        })
    }
}

/// The first index of each group of `n` lanes covering `0..len` (`len >= n`):
/// every `n`-th index, the last group ending at `len - 1` and so overlapping
/// the one before, whose overlapped values it recomputes to the same bits.
pub fn overlapping_starts(len: usize, n: usize) -> impl Iterator<Item = usize> {
    debug_assert!(len >= n && n > 0);
    (0..len).step_by(n).map(move |start| start.min(len - n))
}

macro_rules! lane_op {
    ($trait:ident, $method:ident, $op:tt) => {
        impl<const N: usize> $trait for Lanes<N> {
            type Output = Self;
            #[inline(always)]
            fn $method(self, rhs: Self) -> Self {
                Self::from_fn(|i| self.0[i] $op rhs.0[i])
            }
        }
        impl<const N: usize> $trait<f64> for Lanes<N> {
            type Output = Self;
            #[inline(always)]
            fn $method(self, rhs: f64) -> Self {
                Self::from_fn(|i| self.0[i] $op rhs)
            }
        }
        impl<const N: usize> $trait<Lanes<N>> for f64 {
            type Output = Lanes<N>;
            #[inline(always)]
            fn $method(self, rhs: Lanes<N>) -> Lanes<N> {
                Lanes::from_fn(|i| self $op rhs.0[i])
            }
        }
    };
}

lane_op!(Add, add, +);
lane_op!(Sub, sub, -);
lane_op!(Mul, mul, *);
lane_op!(Div, div, /);

impl<const N: usize> Not for Mask<N> {
    type Output = Self;
    #[inline(always)]
    fn not(self) -> Self {
        Self(self.0.map(|m| !m))
    }
}

impl<const N: usize> Neg for Lanes<N> {
    type Output = Self;
    #[inline(always)]
    fn neg(self) -> Self {
        self.map(|x| -x)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn select_takes_each_lane_from_its_own_side() {
        let mask = Lanes([1.0, 5.0, f64::NAN, 2.0]).le(Lanes::splat(2.0));
        assert_eq!(mask, Mask([u64::MAX, 0, 0, u64::MAX]));
        let picked = mask.select(Lanes([10.0; 4]), Lanes([20.0; 4]));
        assert_eq!(picked, Lanes([10.0, 20.0, 20.0, 10.0]));
        assert!(mask.any() && !mask.all() && (!mask).any());
    }

    #[test]
    fn overlapping_starts_cover_every_index_with_whole_groups() {
        assert_eq!(overlapping_starts(8, 4).collect::<Vec<_>>(), [0, 4]);
        assert_eq!(overlapping_starts(10, 4).collect::<Vec<_>>(), [0, 4, 6]);
        assert_eq!(overlapping_starts(4, 4).collect::<Vec<_>>(), [0]);
        assert_eq!(overlapping_starts(5, 1).count(), 5);
    }

    #[test]
    fn operators_are_the_scalar_operations_lane_by_lane() {
        let (a, b) = (Lanes([0.1, -3.0, 1e300]), Lanes([0.2, 7.0, 1e10]));
        let r = (a + b) * 3.0 / (a - b) - 1.0;
        for i in 0..3 {
            let s = (a.0[i] + b.0[i]) * 3.0 / (a.0[i] - b.0[i]) - 1.0;
            assert_eq!(r.0[i].to_bits(), s.to_bits());
        }
    }
}
