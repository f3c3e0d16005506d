//! What a plan's chunk pipeline did, counted by the threads of a run.

use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

#[derive(Debug, Clone, Copy, Default)]
pub(super) struct Rates {
    pub(super) widest: f64,
    pub(super) total: f64,
}

/// What a plan's chunk pipeline did: the chunks, the candidates read back and
/// where the host's time went, so that a run on a device says whether the
/// device or the host bounded it (`summary.json`'s `device_pipeline`).
#[derive(Debug, Clone, Copy, Default, PartialEq)]
pub struct PipelineStats {
    /// Chunks submitted to the device, re-drawn halves included.
    pub submitted: u64,
    /// Chunks whose candidates overflowed a member's region, so were drawn
    /// again in halves.
    pub overflowed: u64,
    /// Tail candidates read back, over every chunk.
    pub candidates: u64,
    /// Losses in the gaps between the members' windows that the device
    /// summed instead of reading them back ([`super::gap`]).
    pub summed_in_gaps: u64,
    /// Host time spent queueing chunks (thresholds, launches).
    pub submitting: Duration,
    /// Host time spent waiting for chunks and reading their candidates back.
    pub collecting: Duration,
    /// Host time spent pushing candidates into the member tails.
    pub pushing: Duration,
}

/// [`PipelineStats`] kept by the threads of a run.
#[derive(Debug, Default)]
pub(super) struct Counters {
    pub(super) submitted: AtomicU64,
    pub(super) overflowed: AtomicU64,
    pub(super) candidates: AtomicU64,
    pub(super) summed_in_gaps: AtomicU64,
    pub(super) submitting_ns: AtomicU64,
    pub(super) collecting_ns: AtomicU64,
    pub(super) pushing_ns: AtomicU64,
}

impl Counters {
    pub(super) fn add(counter: &AtomicU64, time: Duration) {
        let ns = u64::try_from(time.as_nanos()).unwrap_or(u64::MAX);
        counter.fetch_add(ns, Ordering::Relaxed);
    }

    pub(super) fn stats(&self) -> PipelineStats {
        let read = |c: &AtomicU64| c.load(Ordering::Relaxed);
        PipelineStats {
            submitted: read(&self.submitted),
            overflowed: read(&self.overflowed),
            candidates: read(&self.candidates),
            summed_in_gaps: read(&self.summed_in_gaps),
            submitting: Duration::from_nanos(read(&self.submitting_ns)),
            collecting: Duration::from_nanos(read(&self.collecting_ns)),
            pushing: Duration::from_nanos(read(&self.pushing_ns)),
        }
    }
}
