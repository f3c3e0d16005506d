//! Counts of losses in equal-width bins, for a pass that narrows a window
//! instead of storing it.

/// Losses in `[lo, hi]` counted in equal-width bins, with each bin's smallest
/// and largest loss: a later pass can then window exactly the losses of one bin
/// (bins are ordered, so `[min, max]` of a bin holds no loss of another).
#[derive(Debug, Clone, PartialEq)]
pub struct Histogram {
    lo: f64,
    /// Bins per unit of loss.
    scale: f64,
    count: Vec<u64>,
    min: Vec<f64>,
    max: Vec<f64>,
}

/// One bin: how many losses, and the smallest and largest.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Bin {
    pub count: u64,
    pub min: f64,
    pub max: f64,
}

impl Histogram {
    /// `bins` bins over `[lo, hi]`, both finite, `lo <= hi`.
    pub fn new(lo: f64, hi: f64, bins: usize) -> Self {
        let bins = bins.max(1);
        let width = hi - lo;
        let scale = if width > 0.0 && width.is_finite() {
            bins as f64 / width
        } else {
            0.0
        };
        Self {
            lo,
            scale,
            count: vec![0; bins],
            min: vec![f64::INFINITY; bins],
            max: vec![f64::NEG_INFINITY; bins],
        }
    }

    #[inline]
    pub fn add(&mut self, x: f64) {
        let b = (((x - self.lo) * self.scale) as usize).min(self.count.len() - 1);
        self.count[b] += 1;
        self.min[b] = self.min[b].min(x);
        self.max[b] = self.max[b].max(x);
    }

    pub fn merge(&mut self, other: &Histogram) {
        for b in 0..self.count.len() {
            self.count[b] += other.count[b];
            self.min[b] = self.min[b].min(other.min[b]);
            self.max[b] = self.max[b].max(other.max[b]);
        }
    }

    /// Each bin's count, lowest bin first.
    pub fn counts(&self) -> &[u64] {
        &self.count
    }

    pub fn total(&self) -> u64 {
        self.count.iter().sum()
    }

    pub fn heap_bytes(&self) -> usize {
        self.count.len() * 24
    }

    /// Non-empty bins, highest first.
    pub fn bins_descending(&self) -> impl Iterator<Item = Bin> + '_ {
        (0..self.count.len())
            .rev()
            .filter(|&b| self.count[b] > 0)
            .map(|b| Bin {
                count: self.count[b],
                min: self.min[b],
                max: self.max[b],
            })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bins_are_ordered_and_carry_their_extremes() {
        let mut h = Histogram::new(0.0, 10.0, 5);
        for x in [0.0, 1.9, 2.0, 2.5, 9.99, 10.0, 7.0] {
            h.add(x);
        }
        let bins: Vec<Bin> = h.bins_descending().collect();
        assert_eq!(
            bins,
            vec![
                Bin {
                    count: 2,
                    min: 9.99,
                    max: 10.0
                },
                Bin {
                    count: 1,
                    min: 7.0,
                    max: 7.0
                },
                Bin {
                    count: 2,
                    min: 2.0,
                    max: 2.5
                },
                Bin {
                    count: 2,
                    min: 0.0,
                    max: 1.9
                },
            ]
        );
        assert_eq!(h.total(), 7);
    }

    #[test]
    fn a_degenerate_range_counts_into_one_bin() {
        let mut h = Histogram::new(3.0, 3.0, 8);
        h.add(3.0);
        h.add(3.0);
        assert_eq!(h.bins_descending().count(), 1);
        assert_eq!(h.total(), 2);
    }
}
