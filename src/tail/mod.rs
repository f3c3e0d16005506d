//! Tail statistics: exact Value-at-Risk and Expected Shortfall per member from a
//! stream of scenario losses, without holding the scenario-by-member matrix.
//!
//! For N scenarios and confidence alpha, with losses sorted descending
//! `L(1) >= L(2) >= ...` and `t = N (1 - alpha)`:
//!
//! ```text
//! VaR_alpha = L(floor(t) + 1)                                   (the empirical alpha-quantile)
//! ES_alpha  = ( sum_{i <= floor(t)} L(i) + (t - floor(t)) L(floor(t) + 1) ) / t
//! ```
//!
//! (Acerbi and Tasche, "On the coherence of Expected Shortfall", J. Banking &
//! Finance 26, 2002). Both need exactly the top `floor(t) + 1` losses, which a
//! [`TopK`] keeps in bounded memory: it admits a loss only if it beats the current
//! k-th best, and compacts with a selection when its buffer fills. Order is by
//! loss, ties broken by scenario index, so the kept set, and every statistic, is
//! the same whatever the order in which blocks arrive: any thread count, chunk size
//! or split of the scenario range gives bit-identical results.
//!
//! Early in a stream almost every loss beats the k-th best seen so far, and each
//! admission costs a push and, now and then, a selection. A *hint* (a loss level
//! estimated on a pilot run to lie below the final k-th largest) lets the tail
//! refuse everything under it from the start. Exactness does not depend on the
//! hint: if fewer than k losses at or above it arrive, [`TopK::is_complete`] says
//! so and the caller runs the range again without it (scenarios are a pure
//! function of their index, so the second pass sees the same losses).

use std::cmp::Ordering;

/// The number of scenarios beyond the alpha-quantile, floor(N (1 - alpha)),
/// robust to the binary representation of alpha (0.99 is not exact in f64).
pub fn tail_count(scenarios: u64, alpha: f64) -> u64 {
    let t = scenarios as f64 * (1.0 - alpha);
    let nearest = t.round();
    if (t - nearest).abs() <= 1e-9 * t.max(1.0) {
        nearest as u64
    } else {
        t.floor() as u64
    }
}

/// How many top losses the statistics at confidence `alphas` need from `scenarios`.
pub fn required_top(scenarios: u64, alphas: impl IntoIterator<Item = f64>) -> usize {
    alphas
        .into_iter()
        .map(|a| tail_count(scenarios, a) + 1)
        .max()
        .unwrap_or(1)
        .min(scenarios) as usize
}

/// Best first: higher loss, then lower scenario index.
#[inline]
fn rank(a: &(f64, u64), b: &(f64, u64)) -> Ordering {
    b.0.total_cmp(&a.0).then(a.1.cmp(&b.1))
}

/// The exact k largest losses of a stream, with their scenario indices.
#[derive(Debug, Clone, PartialEq)]
pub struct TopK {
    k: usize,
    items: Vec<(f64, u64)>,
    /// The k-th best item once k have been seen: nothing ranked below it can enter.
    floor: Option<(f64, u64)>,
    /// Its loss, or the hint until then (-inf without one): nothing below it is admitted.
    floor_loss: f64,
    hint: f64,
    non_finite: u64,
}

impl TopK {
    pub fn new(k: usize) -> Self {
        Self::with_hint(k, f64::NEG_INFINITY)
    }

    /// A tail that refuses losses below `hint` (see the module documentation).
    pub fn with_hint(k: usize, hint: f64) -> Self {
        let k = k.max(1);
        Self {
            k,
            items: Vec::with_capacity(Self::capacity(k)),
            floor: None,
            floor_loss: hint,
            hint,
            non_finite: 0,
        }
    }

    /// Buffer length at which the tail compacts back to k: the slack of k + 1
    /// makes a selection pay for itself over k admissions.
    pub fn capacity(k: usize) -> usize {
        2 * k + 1
    }

    /// Whether the kept losses are exactly the k largest of the stream (or all of
    /// it, for a stream shorter than k): false when a hint refused losses that
    /// turned out to be needed.
    pub fn is_complete(&self) -> bool {
        self.hint == f64::NEG_INFINITY
            || self.items.iter().filter(|x| x.0 >= self.hint).count() >= self.k
    }

    /// The k-th largest loss so far, once k have been seen.
    pub fn kth(&self) -> Option<f64> {
        if self.items.len() >= self.k {
            let mut items = self.items.clone();
            items.select_nth_unstable_by(self.k - 1, rank);
            Some(items[self.k - 1].0)
        } else {
            None
        }
    }

    pub fn k(&self) -> usize {
        self.k
    }

    /// Losses that were NaN or infinite: a run with any is an error upstream.
    pub fn non_finite(&self) -> u64 {
        self.non_finite
    }

    /// Pushes the losses of consecutive scenarios `first, first + 1, ...`.
    #[inline]
    pub fn push_slice(&mut self, losses: &[f64], first: u64) {
        const LANES: usize = 8;
        let mut base = first;
        for chunk in losses.chunks(LANES) {
            // Most chunks hold nothing that beats the floor: find out with a
            // branch-free max (and a NaN/inf flag: x - x is 0 only when finite).
            let mut high = f64::NEG_INFINITY;
            let mut non_finite = false;
            for &x in chunk {
                high = if x > high { x } else { high };
                non_finite |= x - x != 0.0;
            }
            if high >= self.floor_loss || non_finite {
                for (i, &x) in chunk.iter().enumerate() {
                    if !(x < self.floor_loss) {
                        self.admit(x, base + i as u64);
                    }
                }
            }
            base += chunk.len() as u64;
        }
    }

    #[inline]
    fn admit(&mut self, loss: f64, scenario: u64) {
        if !loss.is_finite() {
            self.non_finite += 1;
            return;
        }
        if let Some(floor) = self.floor {
            if rank(&(loss, scenario), &floor) != Ordering::Less {
                return;
            }
        }
        if loss < self.hint {
            return;
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
        }
        if self.items.len() == self.k {
            self.floor = self.items.iter().copied().max_by(|a, b| rank(a, b));
            self.floor_loss = self.floor.map_or(f64::NEG_INFINITY, |f| f.0);
        }
    }

    /// Folds `other` in: the result is the top k of both streams together. Each
    /// side kept everything above its own hint, so the union is complete above the
    /// higher of the two.
    pub fn merge(&mut self, other: &TopK) {
        self.non_finite += other.non_finite;
        self.hint = self.hint.max(other.hint);
        self.floor_loss = self.floor_loss.max(self.hint);
        for &(loss, scenario) in &other.items {
            self.admit(loss, scenario);
        }
        self.compact();
    }

    /// The kept losses, best first.
    pub fn sorted(&self) -> Vec<(f64, u64)> {
        let mut items = self.items.clone();
        items.sort_unstable_by(rank);
        items.truncate(self.k);
        items
    }
}

/// VaR and ES at one confidence level, with the Monte Carlo standard error of ES.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct TailMeasure {
    pub confidence: f64,
    pub var: f64,
    /// Scenario whose loss is the VaR.
    pub var_scenario: u64,
    pub es: f64,
    /// Asymptotic standard error of the ES estimate,
    /// sqrt((Var(L | L >= VaR) + alpha (ES - VaR)^2) / (N (1 - alpha))).
    pub es_std_error: f64,
}

/// VaR and ES at `alpha` from the best-first top losses of `scenarios` draws.
/// `top` must hold at least `tail_count(scenarios, alpha) + 1` losses.
pub fn tail_measure(top: &[(f64, u64)], scenarios: u64, alpha: f64) -> TailMeasure {
    let whole = tail_count(scenarios, alpha) as usize;
    let t = scenarios as f64 * (1.0 - alpha);
    let (var, var_scenario) = top[whole.min(top.len() - 1)];
    let head: f64 = top[..whole].iter().map(|x| x.0).sum();
    let es = if t > 0.0 {
        (head + (t - whole as f64) * var) / t
    } else {
        var
    };
    let tail = &top[..=whole.min(top.len() - 1)];
    let mean = tail.iter().map(|x| x.0).sum::<f64>() / tail.len() as f64;
    let variance = tail.iter().map(|x| (x.0 - mean).powi(2)).sum::<f64>() / tail.len() as f64;
    let es_std_error = ((variance + alpha * (es - var).powi(2)) / t.max(1.0)).sqrt();
    TailMeasure {
        confidence: alpha,
        var,
        var_scenario,
        es,
        es_std_error,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn losses(n: usize) -> Vec<f64> {
        // A deterministic scramble with ties.
        (0..n).map(|i| ((i * 7919) % 1009) as f64 - 300.0).collect()
    }

    #[test]
    fn tail_count_is_exact_for_decimal_confidences() {
        assert_eq!(tail_count(1_000_000, 0.99), 10_000);
        assert_eq!(tail_count(1_000_000, 0.995), 5_000);
        assert_eq!(tail_count(10, 0.9), 1);
        assert_eq!(tail_count(999, 0.99), 9);
        assert_eq!(tail_count(100, 0.975), 2);
    }

    #[test]
    fn top_k_equals_a_full_sort_whatever_the_block_split() {
        let xs = losses(20_000);
        let mut expected: Vec<(f64, u64)> = xs.iter().copied().zip(0..).collect();
        expected.sort_by(rank);
        expected.truncate(201);
        for block in [1, 7, 64, 1000, 20_000] {
            let mut top = TopK::new(201);
            for (b, chunk) in xs.chunks(block).enumerate() {
                top.push_slice(chunk, (b * block) as u64);
            }
            assert_eq!(top.sorted(), expected, "block {block}");
        }
    }

    #[test]
    fn merging_shards_in_any_order_gives_the_single_pass_result() {
        let xs = losses(5_000);
        let mut whole = TopK::new(51);
        whole.push_slice(&xs, 0);
        for split in [1, 1234, 2500, 4999] {
            let (mut a, mut b) = (TopK::new(51), TopK::new(51));
            a.push_slice(&xs[..split], 0);
            b.push_slice(&xs[split..], split as u64);
            let mut ab = a.clone();
            ab.merge(&b);
            b.merge(&a);
            assert_eq!(ab.sorted(), whole.sorted());
            assert_eq!(b.sorted(), whole.sorted());
        }
    }

    #[test]
    fn var_and_es_follow_the_acerbi_tasche_definition() {
        // 1000 losses 1..=1000: at 99%, t = 10: VaR = 11th largest = 990,
        // ES = mean of the top 10 = 995.5; at 99.55%, t = 4.5:
        // ES = (1000 + 999 + 998 + 997 + 0.5 * 996) / 4.5.
        let xs: Vec<f64> = (1..=1000).map(f64::from).collect();
        let mut top = TopK::new(required_top(1000, [0.99, 0.9955]));
        top.push_slice(&xs, 0);
        let sorted = top.sorted();
        let m = tail_measure(&sorted, 1000, 0.99);
        assert_eq!((m.var, m.es), (990.0, 995.5));
        assert_eq!(m.var_scenario, 989);
        let m = tail_measure(&sorted, 1000, 0.9955);
        assert_eq!(m.var, 996.0);
        assert!((m.es - (1000.0 + 999.0 + 998.0 + 997.0 + 0.5 * 996.0) / 4.5).abs() < 1e-12);
    }

    #[test]
    fn a_hint_below_the_kth_loss_changes_nothing() {
        let xs = losses(20_000);
        let mut plain = TopK::new(201);
        plain.push_slice(&xs, 0);
        let kth = plain.sorted()[200].0;
        let mut hinted = TopK::with_hint(201, kth - 5.0);
        hinted.push_slice(&xs, 0);
        assert!(hinted.is_complete());
        assert_eq!(hinted.sorted(), plain.sorted());
    }

    #[test]
    fn a_hint_above_the_kth_loss_is_detected() {
        let xs = losses(20_000);
        let mut plain = TopK::new(201);
        plain.push_slice(&xs, 0);
        let kth = plain.sorted()[200].0;
        let mut hinted = TopK::with_hint(201, kth + 1.0);
        hinted.push_slice(&xs, 0);
        assert!(!hinted.is_complete());
        assert_eq!(plain.kth(), Some(kth));
    }

    #[test]
    fn non_finite_losses_are_counted_not_ranked() {
        let mut top = TopK::new(2);
        top.push_slice(&[1.0, f64::NAN, 3.0, f64::INFINITY, 2.0], 0);
        assert_eq!(top.non_finite(), 2);
        assert_eq!(top.sorted(), vec![(3.0, 2), (2.0, 4)]);
    }
}
