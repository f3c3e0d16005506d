//! A [`MemberTail`]'s state, as a sharded run's partial-state file holds it
//! and a merge or a resumed run reads it back.

use super::{Held, MemberTail, Moments, Window};

impl MemberTail {
    /// The windows, highest first, and the gaps above each: the state a
    /// partial-state file holds with [`MemberTail::count`].
    pub fn state(&self) -> (&[Window], &[Moments]) {
        (&self.windows, &self.gaps)
    }

    /// The tail whose [`MemberTail::state`] is `windows` and `gaps` after
    /// `seen` scenarios: `None` unless the windows are highest first and
    /// disjoint with one gap each (a state no tail could have reached).
    pub fn from_state(windows: Vec<Window>, gaps: Vec<Moments>, seen: u64) -> Option<Self> {
        let ordered =
            windows.iter().all(|w| w.lo <= w.hi) && windows.windows(2).all(|w| w[0].lo > w[1].hi);
        if !ordered || gaps.len() != windows.len() {
            return None;
        }
        let mut tail = Self::new(windows);
        tail.gaps = gaps;
        tail.seen = seen;
        Some(tail)
    }

    /// Whether `other` has the same windows (bounds and kinds), so that the
    /// two can be merged: tails of parts of one run placed by one pilot.
    pub fn same_windows(&self, other: &MemberTail) -> bool {
        self.windows.len() == other.windows.len()
            && self.windows.iter().zip(&other.windows).all(|(a, b)| {
                a.lo.to_bits() == b.lo.to_bits()
                    && a.hi.to_bits() == b.hi.to_bits()
                    && match (&a.held, &b.held) {
                        (Held::Losses(x), Held::Losses(y)) => x.k() == y.k(),
                        (Held::Counts(x), Held::Counts(y)) => x.counts().len() == y.counts().len(),
                        _ => false,
                    }
            })
    }
}
