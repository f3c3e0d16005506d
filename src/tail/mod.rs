//! Tail statistics: exact Value-at-Risk and Expected Shortfall per member from a
//! stream of scenario losses, in memory bounded whatever the number of scenarios.
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
//! Finance 26, 2002). Both need the loss of exact rank `r = floor(t) + 1` and the
//! sum of the losses ranked above it, not the losses themselves.
//!
//! A [`MemberTail`] therefore splits the loss axis into *windows*, where losses
//! are kept with their scenario index, and the *gaps* above each window, where
//! only their count, sum and sum of squares are kept (in [`ExactSum`]s, so the
//! result does not depend on arrival order); losses below the lowest window are
//! dropped. Each rank the statistics need must land inside a window: then the
//! window, sorted, gives the exact loss at that rank and the gaps above it give
//! the exact sum. Where the windows lie is a [`TailPlan`]'s job: without a pilot,
//! one window holds the top `r` losses (memory O(r) per member); with a pilot run
//! over a fraction of the scenarios, each rank gets a narrow window around its
//! pilot estimate (memory O(sqrt(r N / pilot))). If a rank falls outside its
//! window (a pilot estimate off by more than five standard errors)
//! [`MemberTail::measures`] says so and the engine runs the scenarios again for
//! that member with an exact window: scenarios are a pure function of their
//! index, so the second pass sees the same losses. The result is bit-identical
//! whatever the thread count, block size or split of the scenario range.
//!
//! This file holds [`MemberTail`], its windows and the measures read from it;
//! the pieces it is built of are in `exact_sum`, `histogram` and `top_k`,
//! window placement in `plan`, and this file's tests in `tests.rs`.

mod exact_sum;
mod histogram;
mod plan;
mod state;
mod top_k;

pub use exact_sum::{ExactSum, EXACT_SUM_LIMIT};
pub use histogram::{Bin, Histogram};
pub use plan::{TailLayout, TailMemoryError, TailPlan};
pub use top_k::{rank, TopK};

/// The tail's size t = N (1 - alpha), robust to the binary representation of
/// alpha (0.99 is not exact in f64): a value within 1e-9 relative of a multiple
/// of 1e-6 is taken to be that multiple.
pub fn tail_size(scenarios: u64, alpha: f64) -> f64 {
    let t = scenarios as f64 * (1.0 - alpha);
    let snapped = (t * 1e6).round() / 1e6;
    if (t - snapped).abs() <= 1e-9 * t.max(1.0) {
        snapped
    } else {
        t
    }
}

/// The number of scenarios beyond the alpha-quantile, floor(N (1 - alpha)).
pub fn tail_count(scenarios: u64, alpha: f64) -> u64 {
    tail_size(scenarios, alpha).floor() as u64
}

/// The rank (1 = largest) of the VaR loss at confidence `alpha` among `scenarios`.
pub fn var_rank(scenarios: u64, alpha: f64) -> u64 {
    (tail_count(scenarios, alpha) + 1).min(scenarios.max(1))
}

/// Whether a loss is one the tails (and the default fund's sums) hold
/// exactly in an [`ExactSum`]: finite, with |x| < [`EXACT_SUM_LIMIT`] (false
/// for NaN).
#[inline]
pub fn within_range(x: f64) -> bool {
    x.abs() < EXACT_SUM_LIMIT
}

/// Count, sum and sum of squares of the losses in a gap, independent of order.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Moments {
    pub count: u64,
    pub sum: ExactSum,
    pub sum_sq: ExactSum,
}

impl Moments {
    #[inline]
    pub fn add(&mut self, x: f64) {
        self.count += 1;
        self.sum.add(x);
        self.sum_sq.add(x * x);
    }

    pub fn merge(&mut self, other: &Moments) {
        self.count += other.count;
        self.sum.merge(&other.sum);
        self.sum_sq.merge(&other.sum_sq);
    }
}

/// The losses in `[lo, hi]`: kept exactly (at most the best `k`), or, in a pass
/// that narrows a window too wide to keep, counted in a histogram.
#[derive(Debug, Clone, PartialEq)]
pub struct Window {
    pub lo: f64,
    pub hi: f64,
    pub held: Held,
}

#[derive(Debug, Clone, PartialEq)]
pub enum Held {
    Losses(TopK),
    Counts(Histogram),
}

impl Window {
    /// A window keeping up to `k` losses, with room reserved for `expected`.
    pub fn keeping(lo: f64, hi: f64, k: usize, expected: usize) -> Self {
        Self {
            lo,
            hi,
            held: Held::Losses(TopK::new(k, expected)),
        }
    }

    /// A window counting its losses in `bins` bins (`lo`, `hi` finite).
    pub fn counting(lo: f64, hi: f64, bins: usize) -> Self {
        Self {
            lo,
            hi,
            held: Held::Counts(Histogram::new(lo, hi, bins)),
        }
    }

    fn heap_bytes(&self) -> usize {
        match &self.held {
            Held::Losses(top) => top.heap_bytes(),
            Held::Counts(h) => h.heap_bytes(),
        }
    }
}

/// One member's tail over a stream of scenarios (see the module documentation).
#[derive(Debug, Clone, PartialEq)]
pub struct MemberTail {
    /// Highest first, disjoint: `windows[i].lo > windows[i + 1].hi`.
    windows: Vec<Window>,
    /// `gaps[i]`: losses above `windows[i].hi` (and below `windows[i - 1].lo`).
    gaps: Vec<Moments>,
    /// Scenarios pushed.
    seen: u64,
    /// The lowest window's `lo`: anything under it is only counted.
    floor: f64,
    out_of_range: Option<OutOfRange>,
}

/// Losses a tail could not rank: NaN, infinite, or beyond [`EXACT_SUM_LIMIT`].
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct OutOfRange {
    pub count: u64,
    /// The lowest such scenario and its loss (the lowest, so that the report
    /// does not depend on the order blocks arrive in).
    pub first_scenario: u64,
    pub first_loss: f64,
}

impl OutOfRange {
    fn merge(a: Option<Self>, b: Option<Self>) -> Option<Self> {
        match (a, b) {
            (Some(a), Some(b)) => {
                let first = if b.first_scenario < a.first_scenario {
                    b
                } else {
                    a
                };
                Some(Self {
                    count: a.count + b.count,
                    ..first
                })
            }
            (a, b) => a.or(b),
        }
    }
}

impl MemberTail {
    /// A tail whose windows are `windows` (highest first, disjoint).
    pub fn new(windows: Vec<Window>) -> Self {
        debug_assert!(windows.windows(2).all(|w| w[0].lo > w[1].hi));
        let floor = windows.last().map_or(f64::INFINITY, |w| w.lo);
        Self {
            gaps: vec![Moments::default(); windows.len()],
            windows,
            seen: 0,
            floor,
            out_of_range: None,
        }
    }

    /// One window over the whole axis keeping the `k` largest losses.
    pub fn exact(k: usize) -> Self {
        Self::new(vec![Window::keeping(
            f64::NEG_INFINITY,
            f64::INFINITY,
            k,
            0,
        )])
    }

    /// A tail that keeps nothing (a member that needs no further pass).
    pub fn ignore() -> Self {
        Self::new(Vec::new())
    }

    /// Losses that were NaN, infinite or beyond [`EXACT_SUM_LIMIT`]: a run with
    /// any is an error upstream.
    pub fn out_of_range(&self) -> Option<OutOfRange> {
        self.out_of_range
    }

    /// Scenarios seen.
    pub fn count(&self) -> u64 {
        self.seen
    }

    /// Bytes the windows hold.
    pub fn heap_bytes(&self) -> usize {
        self.windows.iter().map(Window::heap_bytes).sum()
    }

    /// Pushes the losses of consecutive scenarios `first, first + 1, ...`.
    #[inline]
    pub fn push_slice(&mut self, losses: &[f64], first: u64) {
        self.push_slice_above(losses, first, f64::INFINITY, |_, _| {});
    }

    /// [`Self::push_slice`], telling `found(scenario, loss)` of every loss
    /// above `bound` (the Monte Carlo fund depletion's losses beyond
    /// collateral) from the same pass over the losses.
    #[inline]
    pub fn push_slice_above(
        &mut self,
        losses: &[f64],
        first: u64,
        bound: f64,
        mut found: impl FnMut(u64, f64),
    ) {
        const LANES: usize = 8;
        self.seen += losses.len() as u64;
        let floor = self.floor();
        let mut base = first;
        for chunk in losses.chunks(LANES) {
            // Most chunks hold nothing above the floor or the bound: find
            // out with a branch-free max (and a flag for NaN, infinities and
            // absurd sizes).
            let mut high = f64::NEG_INFINITY;
            let mut out_of_range = false;
            for &x in chunk {
                high = if x > high { x } else { high };
                out_of_range |= !within_range(x);
            }
            if high >= floor || out_of_range {
                for (i, &x) in chunk.iter().enumerate() {
                    self.admit(x, base + i as u64);
                }
            }
            if high > bound {
                for (i, &x) in chunk.iter().enumerate() {
                    if x > bound {
                        found(base + i as u64, x);
                    }
                }
            }
            base += chunk.len() as u64;
        }
    }

    /// The lowest loss any window can still keep or count: a loss under it
    /// only counts as seen. It rises as the lowest window's top-k fills.
    pub fn floor(&self) -> f64 {
        match self.windows.last() {
            Some(Window {
                held: Held::Losses(top),
                ..
            }) => top.floor_loss().map_or(self.floor, |f| f.max(self.floor)),
            _ => self.floor,
        }
    }

    /// Losses the tail must still admit before its [`MemberTail::floor`]
    /// rises above -inf: 0 once it has; `u64::MAX` where no number of them
    /// gives one (no window keeps losses at the bottom).
    pub fn until_floor(&self) -> u64 {
        if self.floor() > f64::NEG_INFINITY {
            return 0;
        }
        match self.windows.last() {
            Some(Window {
                held: Held::Losses(top),
                ..
            }) => top.until_floor() as u64,
            _ => u64::MAX,
        }
    }

    /// Gaps between (and above) the windows: one per window.
    pub fn gaps(&self) -> usize {
        self.gaps.len()
    }

    /// Gap g's ends: a loss above the first and below the second only counts
    /// in it (its count, sum and sum of squares): above window g, below window
    /// g - 1 (+inf for the top gap). `None` past the last window; an exact
    /// tail's one gap lies above +inf and holds nothing.
    pub fn gap_bounds(&self, g: usize) -> Option<(f64, f64)> {
        let above = self.windows.get(g)?.hi;
        let below = g
            .checked_sub(1)
            .map_or(f64::INFINITY, |up| self.windows[up].lo);
        Some((above, below))
    }

    /// Adds to gap g the moments of losses that all lay in it
    /// ([`Self::gap_bounds`]), within range: a backend that summed them where
    /// it computed them. Their scenarios count in those
    /// [`Self::push_candidates`] is told.
    pub fn push_gap(&mut self, g: usize, moments: &Moments) {
        match self.gaps.get_mut(g) {
            Some(gap) => gap.merge(moments),
            None => debug_assert_eq!(moments.count, 0, "a tail without gap {g}"),
        }
    }

    /// Pushes `scenarios` scenarios of which only `candidates` (scenario, loss)
    /// may hold a loss at or above [`Self::floor`] or out of range: a backend
    /// that filtered the others out where it computed them.
    pub fn push_candidates(
        &mut self,
        scenarios: u64,
        candidates: impl IntoIterator<Item = (u64, f64)>,
    ) {
        self.seen += scenarios;
        for (scenario, loss) in candidates {
            self.admit(loss, scenario);
        }
    }

    #[inline]
    fn admit(&mut self, loss: f64, scenario: u64) {
        if !within_range(loss) {
            let this = OutOfRange {
                count: 1,
                first_scenario: scenario,
                first_loss: loss,
            };
            self.out_of_range = OutOfRange::merge(self.out_of_range, Some(this));
            return;
        }
        for (window, gap) in self.windows.iter_mut().zip(&mut self.gaps) {
            if loss > window.hi {
                gap.add(loss);
                return;
            }
            if loss >= window.lo {
                match &mut window.held {
                    Held::Losses(top) => top.admit(loss, scenario),
                    Held::Counts(h) => h.add(loss),
                }
                return;
            }
        }
    }

    /// Folds in the tail of another part of the scenario range, laid out alike.
    pub fn merge(&mut self, other: &MemberTail) {
        assert_eq!(
            self.windows.len(),
            other.windows.len(),
            "tails of one plan share their windows"
        );
        for (a, b) in self.windows.iter_mut().zip(&other.windows) {
            match (&mut a.held, &b.held) {
                (Held::Losses(x), Held::Losses(y)) => x.merge(y),
                (Held::Counts(x), Held::Counts(y)) => x.merge(y),
                _ => panic!("tails of one plan share their windows"),
            }
        }
        for (a, b) in self.gaps.iter_mut().zip(&other.gaps) {
            a.merge(b);
        }
        self.seen += other.seen;
        self.out_of_range = OutOfRange::merge(self.out_of_range, other.out_of_range);
    }

    /// All kept losses, best first (for an [`MemberTail::exact`] tail: the top k).
    pub fn sorted(&self) -> Vec<(f64, u64)> {
        self.sorted_windows().concat()
    }

    /// Whether some window only counted its losses: another pass must narrow it.
    pub fn is_counting(&self) -> bool {
        self.windows
            .iter()
            .any(|w| matches!(w.held, Held::Counts(_)))
    }

    /// The tail for the next pass over the same scenarios, after a pass that
    /// counted: each of `ranks` gets the window of exactly the losses of the
    /// bin (or kept window) it fell in, kept if it holds at most `capacity`
    /// losses (or all are equal), counted in finer bins otherwise. A rank that
    /// fell in a gap gives [`MemberTail::ignore`]: the caller resolves that
    /// member with an exact window.
    pub fn narrowed(&self, ranks: &[u64], k: usize, capacity: usize, max_bins: usize) -> Self {
        let mut windows: Vec<Window> = Vec::with_capacity(ranks.len());
        for &r in ranks {
            let Some(bin) = self.bracket(r) else {
                return Self::ignore();
            };
            if windows
                .last()
                .is_some_and(|w| w.lo == bin.min && w.hi == bin.max)
            {
                continue;
            }
            windows.push(if bin.count as usize <= capacity || bin.min == bin.max {
                Window::keeping(bin.min, bin.max, k, bin.count as usize)
            } else {
                let bins = (2 * bin.count as usize)
                    .div_ceil(capacity)
                    .clamp(2, max_bins.max(2));
                Window::counting(bin.min, bin.max, bins)
            });
        }
        Self::new(windows)
    }

    /// The losses around rank r after a pass, as a bin: the kept window or the
    /// counted bin it falls in, or `None` if it fell in a gap or below.
    fn bracket(&self, r: u64) -> Option<Bin> {
        let mut above = 0;
        for (window, gap) in self.windows.iter().zip(&self.gaps) {
            above += gap.count;
            if above >= r {
                return None;
            }
            match &window.held {
                Held::Losses(top) => {
                    let n = top.len() as u64;
                    if above + n >= r {
                        return Some(Bin {
                            count: n,
                            min: window.lo,
                            max: window.hi,
                        });
                    }
                    if top.dropped_any() {
                        return None;
                    }
                    above += n;
                }
                Held::Counts(h) => {
                    for bin in h.bins_descending() {
                        if above + bin.count >= r {
                            return Some(bin);
                        }
                        above += bin.count;
                    }
                }
            }
        }
        None
    }

    /// VaR and ES at each of `alphas` over `scenarios` draws, or `None` if some
    /// rank they need fell outside the windows (the caller runs again). The
    /// windows' kept losses are left reordered (they are kept in no order).
    pub fn measures(&mut self, scenarios: u64, alphas: &[f64]) -> Option<Vec<TailMeasure>> {
        alphas
            .iter()
            .map(|&alpha| {
                let (at, above) = self.locate(var_rank(scenarios, alpha))?;
                Some(TailMeasure::new(alpha, scenarios, at.0, at.1, &above))
            })
            .collect()
    }

    /// The losses of ranks `ranks` (1 = largest), or `None` if one fell outside
    /// the windows; reorders the kept losses as [`Self::measures`] does.
    pub fn losses_at(&mut self, ranks: &[u64]) -> Option<Vec<f64>> {
        ranks
            .iter()
            .map(|&r| self.locate(r).map(|(at, _)| at.0))
            .collect()
    }

    fn sorted_windows(&self) -> Vec<Vec<(f64, u64)>> {
        self.windows
            .iter()
            .map(|w| match &w.held {
                Held::Losses(top) => top.sorted(),
                Held::Counts(_) => Vec::new(),
            })
            .collect()
    }

    /// The loss of rank `r` with its scenario, and the moments of the losses
    /// ranked above it. A selection, not a sort, finds it in its window's
    /// kept losses, in place: the ranking is a total order ([`rank`]), so the
    /// loss is the one a sort would put there, and the moments are exact sums,
    /// whatever the order of the losses above.
    fn locate(&mut self, r: u64) -> Option<((f64, u64), Moments)> {
        let mut above = Moments::default();
        for (window, gap) in self.windows.iter_mut().zip(&self.gaps) {
            if above.count + gap.count >= r {
                return None;
            }
            above.merge(gap);
            let Held::Losses(top) = &mut window.held else {
                return None;
            };
            let dropped = top.dropped_any();
            let items = top.kept();
            let needed = (r - above.count) as usize;
            if items.len() >= needed {
                let (better, at, _) = items.select_nth_unstable_by(needed - 1, rank);
                better.iter().for_each(|x| above.add(x.0));
                return Some((*at, above));
            }
            if dropped {
                return None;
            }
            items.iter().for_each(|x| above.add(x.0));
        }
        None
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

impl TailMeasure {
    /// From the VaR loss and the moments of the `floor(t)` losses ranked above it.
    fn new(alpha: f64, scenarios: u64, var: f64, var_scenario: u64, above: &Moments) -> Self {
        let t = tail_size(scenarios, alpha);
        let whole = above.count as f64;
        let head = above.sum.value();
        let es = if t > 0.0 {
            (head + (t - whole) * var) / t
        } else {
            var
        };
        // Moments of the top floor(t) + 1 losses, VaR included.
        let n = whole + 1.0;
        let mean = (head + var) / n;
        let variance = ((above.sum_sq.value() + var * var) / n - mean * mean).max(0.0);
        let es_std_error = ((variance + alpha * (es - var).powi(2)) / t.max(1.0)).sqrt();
        Self {
            confidence: alpha,
            var,
            var_scenario,
            es,
            es_std_error,
        }
    }
}

#[cfg(test)]
mod tests;
