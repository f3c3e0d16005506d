//! What the device backends (wgpu, CUDA) share: the kernels' data layouts
//! ([`layout`]) and the chunk pipeline that streams scenarios through a device
//! into the member tails.
//!
//! A run's scenarios go through the device in chunks of up to
//! [`Geometry::stride`] scenarios. For each chunk the device draws the moves,
//! revalues every member and keeps, per member, only the losses at or above the
//! member's tail floor (its threshold, in f32, less the member's constant); it
//! packs them by member and the host reads back the offsets and the list, adds
//! each member's constant in f64 and pushes each member's candidates into its
//! tail, in parallel. A member whose loss cannot vary (no weight on any asset
//! and no option: see [`ChunkState::for_book`]) is not streamed: its device
//! threshold admits no finite loss and the host pushes its constant loss
//! itself, only while the tail can still take it ([`push_fixed`]), so that
//! such members neither size the chunks nor fill the candidate list. The tails are order-independent, so the result does not
//! depend on how the device orders its atomics. Two slots of candidate buffers
//! let the device run chunk k + 1 while the host pushes chunk k (chunk k + 1's
//! thresholds are a chunk stale, which only lets a few more losses through:
//! floors never fall during a pass). A chunk in which some member found more
//! candidates than its region holds (early in a run, before the tails have
//! floors) is drawn again in halves: scenario n is a pure function of (seed, n).

mod exceed;
mod fixed;
pub mod gap;
mod geometry;
pub mod layout;
mod readback;
mod stats;

use std::ops::Range;
use std::sync::atomic::Ordering;
use std::sync::Mutex;
use std::time::{Duration, Instant};

use rayon::prelude::*;

use super::{BackendError, Exceedances, LossBlock};
use crate::book::CompiledBook;
use crate::scenario::ScenarioBlock;
use crate::tail::MemberTail;
pub use fixed::push_fixed;
use fixed::Ignoring;
pub use gap::{GAP_WORDS, MAX_GAPS};
pub use geometry::{Chunking, Geometry, LaunchLimits, MAX_MEMBER_TILES};
use layout::f32_at_or_below;
pub use readback::candidates_in;
pub use stats::PipelineStats;
use stats::{Counters, Rates};

/// Bytes of one packed candidate: scenario in the chunk, loss bits.
pub const CANDIDATE_BYTES: u64 = 8;
/// Scenarios (and members) per tile of the kernels' loss product.
pub const TILE: u32 = 64;

/// Where a chunk's market moves come from.
#[derive(Debug, Clone, Copy)]
pub enum Moves {
    /// Drawn on the device: Monte Carlo scenarios from `first` on.
    Draw { first: u64 },
    /// Already in the device's returns and vol-factor buffers ([`ChunkDevice::upload`]).
    Uploaded,
}

/// A chunk submitted to a device; `token` is what the device waits on.
pub struct InFlight<T> {
    pub range: Range<u64>,
    pub slot: usize,
    /// Candidates copied back with the offsets, on the expected rate: a chunk
    /// that found no more needs no second copy.
    pub copied: u32,
    /// How many of each member's gaps between windows the device summed
    /// ([`gap`]): their counters come back with the offsets.
    pub gaps: u32,
    pub token: T,
}

/// A chunk's candidates by member, where the device's readback left them
/// (no copy): member m's (scenario in the chunk, loss less its constant as f32
/// bits) are `items[offsets[m]..offsets[m + 1]]`, and the counters of the
/// losses in its gap g `gap_sums[(m * gaps + g) * GAP_WORDS..][..GAP_WORDS]`
/// ([`gap`]; none when the device returned those as candidates too).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Candidates<'a> {
    pub offsets: &'a [u32],
    pub items: &'a [[u32; 2]],
    pub gaps: usize,
    pub gap_sums: &'a [u64],
}

/// The candidates in all of a readback's offset words, which may be more
/// than were copied with them.
pub fn total_of(geometry: &Geometry, offsets: &[u32]) -> u32 {
    offsets.get(geometry.members).copied().unwrap_or(0)
}

/// What the device backends offer beyond [`super::Backend`], for tests and
/// tuning: their raw random numbers and the bounds on their chunks.
pub trait DeviceBackend: super::Backend + Sized {
    /// The Philox words of blocks `0..blocks` of `stream` at (n, step) for
    /// every n in `scenarios`, and the normals the device makes of them.
    fn rng_sample(
        &self,
        seed: u64,
        scenarios: Range<u64>,
        step: u32,
        stream: crate::rng::Stream,
        blocks: u32,
    ) -> Result<layout::RngSample, BackendError>;

    /// The same backend with other bounds on its chunks (tests use small ones
    /// to cross chunk boundaries and overflow the candidate regions).
    fn with_chunking(self, chunking: Chunking) -> Self;
}

/// A device that runs chunks: the backend-specific half of the pipeline.
pub trait ChunkDevice {
    type Plan;
    type Token;

    fn chunks<'p>(&self, plan: &'p Self::Plan) -> &'p ChunkState;

    /// Queues a chunk on `slot`'s buffers: draw (for [`Moves::Draw`]), option
    /// P&Ls, losses against `thresholds` (each member's floor and, when the
    /// plan sums the gaps between windows, its gaps' bounds: see
    /// [`ChunkState::thresholds`]), packing, and the copy back of the offsets
    /// and the first `copied` candidates.
    #[allow(clippy::too_many_arguments)]
    fn submit(
        &self,
        plan: &Self::Plan,
        slot: usize,
        moves: Moves,
        range: Range<u64>,
        thresholds: &[f32],
        gaps: usize,
        copied: u32,
    ) -> Result<InFlight<Self::Token>, BackendError>;

    /// Waits for a chunk and hands its candidates to `take` where they were
    /// read back, or returns `None` when some member's overflowed its region.
    fn collect<R>(
        &self,
        plan: &Self::Plan,
        chunk: &InFlight<Self::Token>,
        take: impl FnOnce(Candidates<'_>) -> R,
    ) -> Result<Option<R>, BackendError>;

    /// Draws scenarios `first..first + count` (at most a chunk) and reads back
    /// their returns and vol factors (asset-major, row stride [`Geometry::stride`]).
    fn draw_moves(
        &self,
        plan: &Self::Plan,
        first: u64,
        count: u32,
    ) -> Result<(Vec<f32>, Vec<f32>), BackendError>;

    /// Writes moves (asset-major, row stride [`Geometry::stride`]) into the
    /// device's returns and vol-factor buffers.
    fn upload(
        &self,
        plan: &Self::Plan,
        returns: &[f32],
        vol_factors: &[f32],
    ) -> Result<(), BackendError>;
}

/// A plan's share of the pipeline: its geometry, the members' constants and
/// the candidate rates that size the next chunk.
#[derive(Debug)]
pub struct ChunkState {
    pub geometry: Geometry,
    constant: Vec<f64>,
    /// Members whose loss is their constant in every scenario.
    fixed: Vec<bool>,
    /// Whether the device sums the losses in the gaps between windows.
    sums_gaps: bool,
    rates: Mutex<Rates>,
    /// Per fixed member whose tail ignored its loss at the end of the last
    /// [`accumulate`]: where, so that the next call need not probe it again.
    ignoring: Mutex<Vec<Option<Ignoring>>>,
    counters: Counters,
}

impl ChunkState {
    /// For `book`: a member with no weight on any asset (positions or coin
    /// collateral) and no option holding loses its constant in every scenario
    /// (on the CPU too: the weights' product adds zeros), so the host gives it
    /// its tail without the device. `sums_gaps`: whether the device sums the
    /// losses in the gaps between the members' windows ([`gap`]).
    pub fn for_book(geometry: Geometry, book: &CompiledBook, sums_gaps: bool) -> Self {
        let members = book.members;
        let fixed = (0..members)
            .map(|m| {
                book.member_options.of(m).next().is_none()
                    && (0..book.assets).all(|a| book.weights[a * members + m] == 0.0)
            })
            .collect();
        Self::with_fixed(geometry, book.constant.clone(), fixed, sums_gaps)
    }

    fn with_fixed(
        geometry: Geometry,
        constant: Vec<f64>,
        fixed: Vec<bool>,
        sums_gaps: bool,
    ) -> Self {
        Self {
            geometry,
            ignoring: Mutex::new(vec![None; constant.len()]),
            constant,
            fixed,
            sums_gaps,
            rates: Mutex::new(Rates::default()),
            counters: Counters::default(),
        }
    }

    /// Whether the device sums the losses in the gaps between windows.
    pub fn sums_gaps(&self) -> bool {
        self.sums_gaps
    }

    /// Members whose loss never varies, so never reach the device's candidates.
    pub fn fixed_members(&self) -> usize {
        self.fixed.iter().filter(|&&f| f).count()
    }

    /// What this plan's pipeline has done so far.
    pub fn stats(&self) -> PipelineStats {
        self.counters.stats()
    }

    /// The device thresholds of `tails`, member by member: its floor, under
    /// which a loss can enter no window once the member's constant is added
    /// back (a fixed member's admits no finite loss: the host pushes its
    /// constant); then, when the device sums the gaps between windows, the
    /// (low, high) bounds of each of the first `gaps` gaps ([`gap::bounds`];
    /// +inf for a fixed member). `gaps` is 0 when the device sums none.
    /// With `bounds` (each member's [`exceed::device_bounds`]) the floor is
    /// lowered to the bound and every gap's top clipped to it, so that every
    /// loss above the bound comes back.
    pub fn thresholds(&self, tails: &[MemberTail], bounds: Option<&[f32]>) -> (Vec<f32>, usize) {
        let gaps = if self.sums_gaps {
            gap::gaps_for(tails)
        } else {
            0
        };
        // In parallel: each gap's bounds take two bisections over the f32s.
        let thresholds = tails
            .par_iter()
            .zip(&self.constant)
            .zip(&self.fixed)
            .enumerate()
            .flat_map_iter(|(m, ((t, &c), &fixed))| {
                let mut mine = Vec::with_capacity(1 + 2 * gaps);
                if fixed {
                    mine.resize(1 + 2 * gaps, f32::INFINITY);
                } else {
                    let bound = bounds.map_or(f32::INFINITY, |b| b[m]);
                    mine.push(f32_at_or_below(t.floor() - c).min(bound));
                    mine.extend(
                        gap::bounds(t, c, gaps)
                            .into_iter()
                            .flat_map(|[low, high]| [low, high.min(bound)]),
                    );
                }
                mine
            })
            .collect();
        (thresholds, gaps)
    }

    /// Scenarios the next chunk can take without overflowing a member's
    /// region, and the candidates to expect: a streamed member without a floor
    /// yet gives one per scenario, the others give them at the rates the last
    /// chunk saw (with a margin). While some member has no floor the chunk
    /// takes no more scenarios than that member's tail must admit to get one
    /// (in whole tiles): every loss of such a chunk comes back, and so does
    /// every loss of the chunk submitted before it is pushed.
    fn next_chunk(&self, tails: &[MemberTail]) -> (u32, u32) {
        let g = &self.geometry;
        let (open, until_floor) = tails
            .iter()
            .zip(&self.fixed)
            .filter(|(t, &fixed)| !fixed && t.floor() == f64::NEG_INFINITY)
            .fold((0.0, 0), |(n, most), (t, _)| {
                (n + 1.0, t.until_floor().max(most))
            });
        let seen = self.rates.lock().map_or(Rates::default(), |r| *r);
        let (widest, most) = if open > 0.0 {
            let tiles = until_floor.div_ceil(u64::from(TILE));
            (1.0, tiles.saturating_mul(u64::from(TILE)) as f64)
        } else {
            (1.25 * seen.widest, f64::INFINITY)
        };
        let fits = (f64::from(g.per_member) / widest.max(1e-9))
            .floor()
            .min(most);
        let count = (fits.min(f64::from(g.stride)) as u32).max(TILE.min(g.stride));
        let expected = (f64::from(count) * (open + 1.25 * seen.total)).ceil() + 1024.0;
        (count, expected.min(f64::from(g.capacity())) as u32)
    }

    fn record(&self, found: &Candidates, scenarios: u64) {
        self.counters
            .candidates
            .fetch_add(found.items.len() as u64, Ordering::Relaxed);
        let summed: u64 = found.gap_sums.iter().step_by(GAP_WORDS).sum();
        self.counters
            .summed_in_gaps
            .fetch_add(summed, Ordering::Relaxed);
        let count = scenarios.max(1) as f64;
        let widest = found.offsets[..=self.geometry.members]
            .windows(2)
            .map(|w| w[1] - w[0])
            .max()
            .unwrap_or(0);
        if let Ok(mut rates) = self.rates.lock() {
            *rates = Rates {
                widest: f64::from(widest) / count,
                total: found.items.len() as f64 / count,
            };
        }
    }

    /// Which fixed members' tails, continued from the last call, already
    /// ignore their loss from `start` on.
    fn ignoring_from(&self, start: u64, tails: &[MemberTail]) -> Vec<bool> {
        let marks = self.ignoring.lock().map(|m| m.clone()).unwrap_or_default();
        tails
            .iter()
            .enumerate()
            .map(|(m, t)| marks.get(m).copied().flatten() == Some(Ignoring::of(t, start)))
            .collect()
    }

    fn remember_ignoring(&self, end: u64, tails: &[MemberTail], ignoring: &[bool]) {
        if let Ok(mut marks) = self.ignoring.lock() {
            *marks = tails
                .iter()
                .zip(ignoring)
                .map(|(t, &i)| i.then(|| Ignoring::of(t, end)))
                .collect();
        }
    }

    /// Pushes a chunk's candidates into the member tails; every other loss of
    /// `range` lay below its member's floor. Fixed members get their constant
    /// loss from the host ([`push_fixed`]). With `exceedances`, adds the
    /// losses above each member's bound (the thresholds were lowered to them).
    fn push(
        &self,
        found: &Candidates,
        range: Range<u64>,
        tails: &mut [MemberTail],
        ignoring: &mut [bool],
        exceedances: Option<&mut Exceedances>,
    ) {
        let scenarios = range.end - range.start;
        let bounds = exceedances.as_ref().map(|e| e.bounds());
        let exceeding: Vec<Vec<(u64, u32, f64)>> = tails
            .par_iter_mut()
            .zip(ignoring.par_iter_mut())
            .enumerate()
            .map(|(m, (tail, ignoring))| {
                let mine = &found.items[found.offsets[m] as usize..found.offsets[m + 1] as usize];
                let constant = self.constant[m];
                // A fixed member's only device candidates are non-finite
                // losses (from non-finite moves): pushed as they came.
                tail.push_candidates(
                    if self.fixed[m] { 0 } else { scenarios },
                    mine.iter().map(|&[scenario, loss]| {
                        (
                            range.start + u64::from(scenario),
                            f64::from(f32::from_bits(loss)) + constant,
                        )
                    }),
                );
                let per_member = found.gaps * GAP_WORDS;
                if let Some(sums) = found.gap_sums.get(m * per_member..(m + 1) * per_member) {
                    for (g, counters) in sums.chunks_exact(GAP_WORDS).enumerate() {
                        tail.push_gap(g, &gap::moments(counters));
                    }
                }
                if self.fixed[m] {
                    push_fixed(tail, constant, range.clone(), ignoring);
                }
                match bounds {
                    None => Vec::new(),
                    Some(b) if self.fixed[m] => {
                        exceed::fixed_exceedances(&range, m, constant, b[m])
                    }
                    Some(b) => exceed::candidate_exceedances(found, &range, m, constant, b[m]),
                }
            })
            .collect();
        if let Some(exceedances) = exceedances {
            exceedances.found.extend(exceeding.into_iter().flatten());
        }
    }
}

/// Draws and revalues scenarios `range` on `device` and pushes them into
/// `tails`, two chunks in flight, and the losses above their bounds into
/// `exceedances`. `tails` are fresh ones or those the last call on this plan
/// pushed into, continued from where it ended (as the engine's passes do): a
/// fixed member's tail found ignoring its loss is not probed again.
pub fn accumulate<D: ChunkDevice>(
    device: &D,
    plan: &D::Plan,
    range: Range<u64>,
    tails: &mut [MemberTail],
    mut exceedances: Option<&mut Exceedances>,
) -> Result<(), BackendError> {
    let state = device.chunks(plan);
    let bounds = exceedances
        .as_deref()
        .map(|e| exceed::device_bounds(e, &state.constant, &state.fixed));
    let mut ignoring = state.ignoring_from(range.start, tails);
    let (mut start, mut slot) = (range.start, 0);
    let mut in_flight: Option<InFlight<D::Token>> = None;
    loop {
        let next = if start < range.end {
            let (count, expected) = state.next_chunk(tails);
            let end = (start + u64::from(count)).min(range.end);
            let submitting = Instant::now();
            let (thresholds, gaps) = state.thresholds(tails, bounds.as_deref());
            let moves = Moves::Draw { first: start };
            let chunk =
                device.submit(plan, slot, moves, start..end, &thresholds, gaps, expected)?;
            state.counters.submitted.fetch_add(1, Ordering::Relaxed);
            Counters::add(&state.counters.submitting_ns, submitting.elapsed());
            (start, slot) = (end, 1 - slot);
            Some(chunk)
        } else {
            None
        };
        if let Some(previous) = in_flight.take() {
            let sink = exceedances.as_deref_mut();
            finish(
                device,
                plan,
                previous,
                tails,
                &mut ignoring,
                (bounds.as_deref(), sink),
            )?;
        }
        match next {
            Some(chunk) => in_flight = Some(chunk),
            None => {
                state.remember_ignoring(range.end, tails, &ignoring);
                return Ok(());
            }
        }
    }
}

/// The device bounds of a call's exceedances and where they go.
type ExceedanceSink<'a> = (Option<&'a [f32]>, Option<&'a mut Exceedances>);

/// Pushes a submitted chunk into `tails` (and `exceedances`), or runs it
/// again in halves if a member's candidates overflowed.
fn finish<D: ChunkDevice>(
    device: &D,
    plan: &D::Plan,
    chunk: InFlight<D::Token>,
    tails: &mut [MemberTail],
    ignoring: &mut [bool],
    (bounds, mut exceedances): ExceedanceSink,
) -> Result<(), BackendError> {
    let state = device.chunks(plan);
    let range = chunk.range.clone();
    let collecting = Instant::now();
    let mut pushed = Duration::ZERO;
    let found = device.collect(plan, &chunk, |found| {
        let pushing = Instant::now();
        state.record(&found, range.end - range.start);
        let sink = exceedances.as_deref_mut();
        state.push(&found, range.clone(), tails, ignoring, sink);
        pushed = pushing.elapsed();
    })?;
    let collected = collecting.elapsed().saturating_sub(pushed);
    Counters::add(&state.counters.pushing_ns, pushed);
    Counters::add(&state.counters.collecting_ns, collected);
    match found {
        Some(()) => Ok(()),
        None if range.end - range.start > 1 => {
            state.counters.overflowed.fetch_add(1, Ordering::Relaxed);
            let middle = range.start + (range.end - range.start) / 2;
            for half in [range.start..middle, middle..range.end] {
                let (thresholds, gaps) = state.thresholds(tails, bounds);
                let moves = Moves::Draw { first: half.start };
                let capacity = state.geometry.capacity();
                let again =
                    device.submit(plan, chunk.slot, moves, half, &thresholds, gaps, capacity)?;
                state.counters.submitted.fetch_add(1, Ordering::Relaxed);
                let sink = (bounds, exceedances.as_deref_mut());
                finish(device, plan, again, tails, ignoring, sink)?;
            }
            Ok(())
        }
        None => Err(BackendError::Device {
            backend: "device",
            message: format!(
                "one scenario gave a member more tail candidates than the {} its region holds",
                state.geometry.per_member
            ),
        }),
    }
}

/// Every member's loss in each of `block`'s moves: the moves are uploaded in
/// chunks small enough that every loss comes back as a candidate.
pub fn revalue<D: ChunkDevice>(
    device: &D,
    plan: &D::Plan,
    block: &ScenarioBlock,
) -> Result<LossBlock, BackendError> {
    let state = device.chunks(plan);
    let g = &state.geometry;
    let (members, a, n) = (g.members, block.assets, block.len());
    let mut losses = vec![0.0; members * n];
    let chunk = (g.per_member as usize).min(g.stride as usize).max(1);
    let open = vec![f32::NEG_INFINITY; members];
    let stride = g.stride as usize;
    for start in (0..n).step_by(chunk) {
        let count = (n - start).min(chunk);
        let (mut returns, mut vols) = (vec![0.0f32; a * stride], vec![1.0f32; a * stride]);
        for s in 0..count {
            for asset in 0..a {
                returns[asset * stride + s] = block.returns_of(start + s)[asset] as f32;
                vols[asset * stride + s] = block.vol_factors_of(start + s)[asset] as f32;
            }
        }
        device.upload(plan, &returns, &vols)?;
        let every = (count * members) as u32;
        let submitted =
            device.submit(plan, 0, Moves::Uploaded, 0..count as u64, &open, 0, every)?;
        device
            .collect(plan, &submitted, |found| {
                for m in 0..members {
                    let mine =
                        &found.items[found.offsets[m] as usize..found.offsets[m + 1] as usize];
                    for &[scenario, loss] in mine {
                        losses[m * n + start + scenario as usize] =
                            f64::from(f32::from_bits(loss)) + state.constant[m];
                    }
                }
            })?
            .ok_or_else(|| BackendError::Device {
                backend: "device",
                message: "stress losses overflowed the candidate regions".into(),
            })?;
    }
    Ok(LossBlock {
        first: block.first,
        scenarios: n,
        members,
        losses,
    })
}

/// The moves of scenarios `range` drawn on `device`, chunk by chunk.
pub fn scenarios<D: ChunkDevice>(
    device: &D,
    plan: &D::Plan,
    range: Range<u64>,
    assets: usize,
) -> Result<ScenarioBlock, BackendError> {
    let stride = device.chunks(plan).geometry.stride;
    let mut block =
        ScenarioBlock::with_capacity(range.start, (range.end - range.start) as usize, assets);
    for first in (range.start..range.end).step_by(stride as usize) {
        let count = (range.end - first).min(u64::from(stride)) as usize;
        let (returns, vol_factors) = device.draw_moves(plan, first, count as u32)?;
        let done = (first - range.start) as usize;
        for s in 0..count {
            for a in 0..assets {
                let at = (done + s) * assets + a;
                block.returns[at] = f64::from(returns[a * stride as usize + s]);
                block.vol_factors[at] = f64::from(vol_factors[a * stride as usize + s]);
            }
        }
    }
    Ok(block)
}
