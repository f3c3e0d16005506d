//! Members whose loss never varies: the host pushes their constant loss into
//! their tails, only while a tail can still take it.

use std::ops::Range;

use crate::tail::MemberTail;

/// Where a fixed member's tail stood when a call to [`super::accumulate`] left it
/// ignoring the member's loss: the next call continues that tail if it starts
/// at `next` with the tail having seen `seen` scenarios and the same floor.
#[derive(Debug, Clone, Copy, PartialEq)]
pub(super) struct Ignoring {
    next: u64,
    seen: u64,
    floor: u64,
}

impl Ignoring {
    pub(super) fn of(tail: &MemberTail, next: u64) -> Self {
        Self {
            next,
            seen: tail.count(),
            floor: tail.floor().to_bits(),
        }
    }
}

/// Pushes `loss` in every scenario of `range` into `tail`, or, once `tail`
/// ignores it, only counts the scenarios.
///
/// A probe tells when the tail ignores the loss: pushing it in the next
/// scenario onto a copy of the tail leaves the copy unchanged. It is then
/// ignored in every later scenario too, as the tail only ever receives this
/// loss: a loss under the floor stays under it (floors never fall during a
/// pass), and a loss tying the k-th kept one loses the tie to the earlier
/// scenario. Until then the scenarios are pushed one by one, as the CPU does,
/// in batches that double between probes (a top-k takes about 1.25 k losses
/// before it ignores one), so a member costs O(k log k) however many scenarios.
/// A loss in a gap, a counting window or out of range never becomes ignored:
/// every scenario is pushed, as every one changes the tail.
pub fn push_fixed(tail: &mut MemberTail, loss: f64, range: Range<u64>, ignoring: &mut bool) {
    let mut next = range.start;
    let mut batch = 64_u64;
    while !*ignoring && next < range.end {
        if loss < tail.floor() || ignores(tail, loss, next) {
            *ignoring = true;
            break;
        }
        let end = (next + batch).min(range.end);
        tail.push_candidates(0, (next..end).map(|s| (s, loss)));
        next = end;
        batch = batch.saturating_mul(2);
    }
    tail.push_candidates(range.end - range.start, std::iter::empty());
}

/// Whether pushing `loss` in `scenario` would leave `tail` unchanged.
fn ignores(tail: &MemberTail, loss: f64, scenario: u64) -> bool {
    let mut probe = tail.clone();
    probe.push_candidates(0, [(scenario, loss)]);
    probe == *tail
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::tail::Window;

    /// Tails of every kind a run builds, around a constant loss `c`: the loss
    /// in a top-k window (whole axis, tight, with ties at the window's edge),
    /// in the upper of two windows, in a gap, below every window, in a
    /// counting window, and a tail that keeps nothing.
    fn tails_around(c: f64) -> Vec<MemberTail> {
        vec![
            MemberTail::exact(1),
            MemberTail::exact(5),
            MemberTail::exact(300),
            MemberTail::new(vec![Window::keeping(c, c, 50, 0)]),
            MemberTail::new(vec![Window::keeping(c - 1.0, c + 1.0, 7, 0)]),
            MemberTail::new(vec![Window::keeping(c, c + 1.0, 7, 0)]),
            MemberTail::new(vec![
                Window::keeping(c - 1.0, c + 1.0, 20, 0),
                Window::keeping(c - 3.0, c - 2.0, 20, 0),
            ]),
            MemberTail::new(vec![Window::keeping(c - 2.0, c - 1.0, 9, 0)]),
            MemberTail::new(vec![Window::keeping(c + 1.0, c + 2.0, 9, 0)]),
            MemberTail::new(vec![Window::counting(c - 1.0, c + 1.0, 16)]),
            MemberTail::ignore(),
        ]
    }

    #[test]
    fn fixed_losses_pushed_until_ignored_give_the_tail_of_every_loss_pushed() {
        for c in [0.0, -0.0, 1234.5, -7.25] {
            for tail in tails_around(c) {
                // Calls of the pipeline's shapes: short, long, uneven.
                let ranges = [0..3, 3..700, 700..701, 701..5_000, 5_000..20_000];
                let mut every = tail.clone();
                let mut fixed = tail.clone();
                let mut ignoring = false;
                for range in ranges {
                    let n = (range.end - range.start) as usize;
                    every.push_slice(&vec![c; n], range.start);
                    push_fixed(&mut fixed, c, range, &mut ignoring);
                    assert_eq!(fixed, every, "loss {c}, tail {tail:?}");
                }
                assert_eq!(
                    fixed.measures(20_000, &[0.99]),
                    every.measures(20_000, &[0.99])
                );
            }
        }
    }

    #[test]
    fn a_fixed_loss_is_ignored_once_its_top_k_is_full_and_never_in_a_gap() {
        let mut ignoring = false;
        let mut tail = MemberTail::exact(100);
        push_fixed(&mut tail, 3.0, 0..1_000_000, &mut ignoring);
        assert!(ignoring);
        assert_eq!(tail.count(), 1_000_000);
        let mut ignoring = false;
        let mut gap = MemberTail::new(vec![Window::keeping(1.0, 2.0, 10, 0)]);
        push_fixed(&mut gap, 3.0, 0..10_000, &mut ignoring);
        assert!(!ignoring);
    }
}
