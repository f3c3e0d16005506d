//! The loss distribution of the member with the largest margin, for the
//! report's chart: a histogram of its losses in the run's first scenarios.
//!
//! The margin itself comes from the exact tails of all the run's scenarios
//! (`crate::tail`); the tails keep only the losses near each member's VaR, so
//! the body of the distribution is drawn again here, from scenarios
//! `0..sample` of the same stream (scenario n is a pure function of the seed
//! and n, so these are the run's own first scenarios, an i.i.d. sample of the
//! distribution the margin measures). The chart marks the exact VaR and ES
//! from margins.parquet against it.

use crate::tail;

/// Scenarios the histogram is drawn from at most: 20,000 place a 99% VaR at
/// about the 200th largest loss, enough to show the tail's shape, at a small
/// fraction of a production run's cost.
pub const SAMPLE_SCENARIOS: u64 = 20_000;

/// Equal-width bins between the sample's smallest and largest loss.
pub const BINS: usize = 50;

/// One bin: `count` losses in `[from, to)` (the last bin includes `to`).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Bin {
    pub from: f64,
    pub to: f64,
    pub count: u64,
}

/// One member's histogram.
#[derive(Debug, Clone, PartialEq)]
pub struct LossDistribution {
    /// Index of the member in the snapshot.
    pub member: usize,
    /// Scenarios `0..scenarios` the histogram counts.
    pub scenarios: u64,
    pub bins: Vec<Bin>,
}

/// The member whose margin is largest (the first of equals): its
/// distribution is the one a reader most needs to see.
pub fn largest_margin(margins: &[f64]) -> Option<usize> {
    margins
        .iter()
        .enumerate()
        .fold(None, |best: Option<(usize, f64)>, (m, &x)| match best {
            Some((_, b)) if b >= x => best,
            _ => Some((m, x)),
        })
        .map(|(m, _)| m)
}

/// `losses` counted in `bins` equal-width bins from their minimum to their
/// maximum; a sample of equal losses is one bin of zero width. Losses must be
/// finite (the engine refuses a run that is not).
pub fn histogram(losses: &[f64], bins: usize) -> Vec<Bin> {
    let (Some(&first), true) = (losses.first(), bins > 0) else {
        return Vec::new();
    };
    let (low, high) = losses
        .iter()
        .fold((first, first), |(lo, hi), &x| (lo.min(x), hi.max(x)));
    if high == low {
        return vec![Bin {
            from: low,
            to: high,
            count: losses.len() as u64,
        }];
    }
    let mut counts = tail::Histogram::new(low, high, bins);
    losses.iter().for_each(|&x| counts.add(x));
    let width = (high - low) / bins as f64;
    counts
        .counts()
        .iter()
        .enumerate()
        .map(|(b, &count)| Bin {
            from: low + b as f64 * width,
            // The last edge is the maximum itself, not low + bins x width.
            to: if b + 1 == bins {
                high
            } else {
                low + (b + 1) as f64 * width
            },
            count,
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bins_split_the_range_evenly_and_count_every_loss() {
        let losses = [0.0, 1.0, 2.5, 2.5, 9.9, 10.0];
        let h = histogram(&losses, 4);
        let edges: Vec<(f64, f64)> = h.iter().map(|b| (b.from, b.to)).collect();
        assert_eq!(edges, [(0.0, 2.5), (2.5, 5.0), (5.0, 7.5), (7.5, 10.0)]);
        // 2.5 opens the second bin; the maximum closes the last one.
        assert_eq!(h.iter().map(|b| b.count).collect::<Vec<_>>(), [2, 2, 0, 2]);
    }

    #[test]
    fn equal_losses_are_one_bin_and_nothing_is_no_bin() {
        assert_eq!(
            histogram(&[3.0; 5], 10),
            [Bin {
                from: 3.0,
                to: 3.0,
                count: 5
            }]
        );
        assert!(histogram(&[], 10).is_empty());
    }

    #[test]
    fn the_largest_margin_is_the_first_of_equals() {
        assert_eq!(largest_margin(&[1.0, 5.0, 5.0, 2.0]), Some(1));
        assert_eq!(largest_margin(&[]), None);
    }
}
