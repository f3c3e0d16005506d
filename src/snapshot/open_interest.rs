//! Net open interest: per instrument, the sum over members of the signed
//! quantity. A clearing house's book is matched (every long faces a short), so
//! each is zero; anything else means a position is missing or mistyped.

use super::Snapshot;
use crate::tail::ExactSum;

/// The net open interest of every instrument, in contracts.
#[derive(Debug, Clone, PartialEq)]
pub struct NetOpenInterest {
    /// Per instrument, in `snapshot.instruments` order. Summed exactly, so the
    /// order of the positions cannot turn a flat book into a non-flat one.
    pub net: Vec<f64>,
}

impl NetOpenInterest {
    /// Instruments whose net open interest is not zero.
    pub fn unbalanced(&self) -> usize {
        self.net.iter().filter(|&&q| q != 0.0).count()
    }

    /// The instrument with the largest absolute net open interest, if any is
    /// not zero (the first on ties).
    pub fn largest(&self) -> Option<(usize, f64)> {
        self.net
            .iter()
            .copied()
            .enumerate()
            .filter(|&(_, q)| q != 0.0)
            .fold(None, |best: Option<(usize, f64)>, (i, q)| match best {
                Some((_, b)) if b.abs() >= q.abs() => best,
                _ => Some((i, q)),
            })
    }
}

/// Sums each instrument's positions over members.
pub fn net_open_interest(snapshot: &Snapshot) -> NetOpenInterest {
    let mut sums = vec![ExactSum::new(); snapshot.instruments.len()];
    for p in &snapshot.positions {
        sums[p.instrument].add(p.quantity);
    }
    NetOpenInterest {
        net: sums.iter().map(ExactSum::value).collect(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn largest_is_by_magnitude_and_zero_counts_as_flat() {
        let oi = NetOpenInterest {
            net: vec![0.0, 3.0, -5.0, 5.0, 0.0],
        };
        assert_eq!(oi.unbalanced(), 3);
        assert_eq!(oi.largest(), Some((2, -5.0)));
        let flat = NetOpenInterest { net: vec![0.0; 4] };
        assert_eq!(flat.unbalanced(), 0);
        assert_eq!(flat.largest(), None);
    }
}
