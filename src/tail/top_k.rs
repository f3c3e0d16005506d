//! The exact k best losses of a stream, with their scenario indices.

use std::cmp::Ordering;

/// Best first: higher loss, then lower scenario index. A total order, so the kept
/// set does not depend on the order in which losses arrive.
#[inline]
pub fn rank(a: &(f64, u64), b: &(f64, u64)) -> Ordering {
    b.0.total_cmp(&a.0).then(a.1.cmp(&b.1))
}

/// A loss and its scenario index.
pub type Ranked = (f64, u64);

/// Keeps the k best of the losses admitted to it in a buffer of at most
/// k + k/4 + 16, compacting with a selection when it fills: each selection costs
/// O(k) and comes after at least k/4 admissions.
#[derive(Debug, Clone, PartialEq)]
pub struct TopK {
    k: usize,
    items: Vec<(f64, u64)>,
    /// The k-th best item once a compaction has happened: nothing ranked below it
    /// can enter.
    floor: Option<(f64, u64)>,
}

impl TopK {
    /// A top-k reserving room for `expected` admissions (at most the capacity).
    pub fn new(k: usize, expected: usize) -> Self {
        let k = k.max(1);
        Self {
            k,
            items: Vec::with_capacity(expected.min(Self::capacity(k))),
            floor: None,
        }
    }

    /// Saturating: a `k` read from a file may be anything.
    pub fn capacity(k: usize) -> usize {
        k.saturating_add(k / 4).saturating_add(16)
    }

    pub fn k(&self) -> usize {
        self.k
    }

    /// Items kept (after [`TopK::sorted`], at most k).
    pub fn len(&self) -> usize {
        self.items.len().min(self.k)
    }

    pub fn is_empty(&self) -> bool {
        self.items.is_empty()
    }

    /// Whether some admitted loss was dropped as not among the k best.
    pub fn dropped_any(&self) -> bool {
        self.floor.is_some() || self.items.len() > self.k
    }

    /// Bytes held by the buffer.
    pub fn heap_bytes(&self) -> usize {
        self.items.capacity() * std::mem::size_of::<(f64, u64)>()
    }

    /// Admissions before the first compaction sets a floor (0 once it has).
    pub fn until_floor(&self) -> usize {
        match self.floor {
            Some(_) => 0,
            None => Self::capacity(self.k).saturating_sub(self.items.len()),
        }
    }

    /// The loss of the k-th best item once known: no loss below it can enter.
    pub fn floor_loss(&self) -> Option<f64> {
        self.floor.map(|(loss, _)| loss)
    }

    #[inline]
    pub fn admit(&mut self, loss: f64, scenario: u64) {
        if let Some(floor) = self.floor {
            if rank(&(loss, scenario), &floor) != Ordering::Less {
                return;
            }
        }
        self.items.push((loss, scenario));
        if self.items.len() >= Self::capacity(self.k) {
            self.compact();
        }
    }

    fn compact(&mut self) {
        if self.items.len() > self.k {
            self.items.select_nth_unstable_by(self.k - 1, rank);
            self.items.truncate(self.k);
            self.floor = self.items.iter().copied().max_by(rank);
        }
    }

    /// Its state as a partial-state file holds it: the buffer, unsorted, and
    /// the floor once a compaction has set it.
    pub fn state(&self) -> (&[Ranked], Option<Ranked>) {
        (&self.items, self.floor)
    }

    /// The top-k whose [`TopK::state`] is `items` and `floor`: `None` unless
    /// the buffer fits the capacity of `k` and nothing in it ranks below the
    /// floor (a state no top-k could have reached).
    pub fn from_state(k: usize, items: Vec<(f64, u64)>, floor: Option<(f64, u64)>) -> Option<Self> {
        let fits = k >= 1 && items.len() < Self::capacity(k);
        let above_floor =
            floor.is_none_or(|f| items.iter().all(|x| rank(x, &f) != Ordering::Greater));
        (fits && above_floor).then_some(Self { k, items, floor })
    }

    /// Folds `other` in: the result is the top k of both streams together.
    pub fn merge(&mut self, other: &TopK) {
        // One allocation for the other's items, not a doubling per overflow.
        let room = Self::capacity(self.k).saturating_sub(self.items.len());
        self.items.reserve(other.items.len().min(room));
        for &(loss, scenario) in &other.items {
            self.admit(loss, scenario);
        }
        if other.dropped_any() {
            self.compact();
            self.floor = self.floor.or(other.floor);
        }
    }

    /// The kept losses (the k best admitted), in no order, for the caller
    /// to reorder: the buffer itself, compacted to them.
    pub fn kept(&mut self) -> &mut [(f64, u64)] {
        self.compact();
        &mut self.items
    }

    /// The kept losses, best first.
    pub fn sorted(&self) -> Vec<(f64, u64)> {
        let mut items = self.items.clone();
        items.sort_unstable_by(rank);
        items.truncate(self.k);
        items
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn losses(n: usize) -> Vec<f64> {
        // A deterministic scramble with ties.
        (0..n).map(|i| ((i * 7919) % 1009) as f64 - 300.0).collect()
    }

    fn admit_all(top: &mut TopK, xs: &[f64], first: u64) {
        for (i, &x) in xs.iter().enumerate() {
            top.admit(x, first + i as u64);
        }
    }

    #[test]
    fn top_k_equals_a_full_sort_whatever_the_arrival_order() {
        let xs = losses(20_000);
        let mut expected: Vec<(f64, u64)> = xs.iter().copied().zip(0..).collect();
        expected.sort_by(rank);
        expected.truncate(201);
        let mut forward = TopK::new(201, 0);
        admit_all(&mut forward, &xs, 0);
        assert_eq!(forward.sorted(), expected);
        let mut kept = forward.kept().to_vec();
        kept.sort_by(rank);
        assert_eq!(kept, expected);
        let mut backward = TopK::new(201, 0);
        for (i, &x) in xs.iter().enumerate().rev() {
            backward.admit(x, i as u64);
        }
        assert_eq!(backward.sorted(), expected);
        assert!(forward.dropped_any());
    }

    #[test]
    fn merging_shards_in_any_order_gives_the_single_pass_result() {
        let xs = losses(5_000);
        let mut whole = TopK::new(51, 0);
        admit_all(&mut whole, &xs, 0);
        for split in [1, 60, 1234, 2500, 4999] {
            let (mut a, mut b) = (TopK::new(51, 0), TopK::new(51, 0));
            admit_all(&mut a, &xs[..split], 0);
            admit_all(&mut b, &xs[split..], split as u64);
            let mut ab = a.clone();
            ab.merge(&b);
            b.merge(&a);
            assert_eq!(ab.sorted(), whole.sorted(), "split {split}");
            assert_eq!(b.sorted(), whole.sorted(), "split {split}");
        }
    }
}
