//! Losses above each member's bound ([`Exceedances`]) from a device's chunks.
//! The device keeps a loss as a candidate when it reaches the member's tail
//! floor or its exceedance bound, whichever is lower, and sums no loss at or
//! above the bound in a gap between windows (the bound clips each gap's top),
//! so every loss above the bound comes back; the host keeps those its f64
//! loss puts above the bound, exactly as the CPU compares.

use std::ops::Range;

use super::gap::least_f32;
use super::Candidates;
use crate::backend::Exceedances;

/// Each member's device bound: the least f32 loss `v` (the member's constant
/// left out) whose host loss `f64::from(v) + constant` exceeds the member's
/// bound, +inf for a member the device does not stream (its constant loss
/// is the host's to compare: [`fixed_exceedances`]).
pub fn device_bounds(exceedances: &Exceedances, constant: &[f64], fixed: &[bool]) -> Vec<f32> {
    exceedances
        .bounds()
        .iter()
        .zip(constant.iter().zip(fixed))
        .map(|(&bound, (&c, &fixed))| {
            if fixed {
                f32::INFINITY
            } else {
                least_f32((bound - c) as f32, |v| f64::from(v) + c > bound)
            }
        })
        .collect()
}

/// Member `m`'s losses above its bound among the candidates of a chunk of
/// scenarios `range` (device losses, the constant left out).
pub fn candidate_exceedances(
    found: &Candidates,
    range: &Range<u64>,
    m: usize,
    constant: f64,
    bound: f64,
) -> Vec<(u64, u32, f64)> {
    found.items[found.offsets[m] as usize..found.offsets[m + 1] as usize]
        .iter()
        .filter_map(|&[scenario, loss]| {
            let loss = f64::from(f32::from_bits(loss)) + constant;
            (loss > bound).then_some((range.start + u64::from(scenario), m as u32, loss))
        })
        .collect()
}

/// A fixed member's losses above its bound: its constant in every scenario
/// of `range`, or none.
pub fn fixed_exceedances(
    range: &Range<u64>,
    m: usize,
    constant: f64,
    bound: f64,
) -> Vec<(u64, u32, f64)> {
    if constant > bound {
        range.clone().map(|s| (s, m as u32, constant)).collect()
    } else {
        Vec::new()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The device bound admits exactly the f32 losses whose host loss
    /// exceeds the bound: the one below it does not.
    #[test]
    fn a_device_bound_is_the_least_f32_whose_host_loss_exceeds_the_bound() {
        for (bound, constant) in [
            (0.0, 0.0),
            (1.5e6, 2.0e5),
            (-3.0e4, 1.0e4),
            (1e12 + 0.5, 1e12),
        ] {
            let e = Exceedances::new(vec![bound]);
            let v = device_bounds(&e, &[constant], &[false])[0];
            assert!(f64::from(v) + constant > bound, "{bound} {constant}");
            assert!(
                f64::from(v.next_down()) + constant <= bound,
                "{bound} {constant}"
            );
        }
        let e = Exceedances::new(vec![1.0]);
        assert_eq!(device_bounds(&e, &[5.0], &[true]), vec![f32::INFINITY]);
    }

    #[test]
    fn a_fixed_member_exceeds_in_every_scenario_or_none() {
        assert_eq!(
            fixed_exceedances(&(10..13), 2, 5.0, 4.0),
            vec![(10, 2, 5.0), (11, 2, 5.0), (12, 2, 5.0)]
        );
        assert!(fixed_exceedances(&(10..13), 2, 4.0, 4.0).is_empty());
    }
}
