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

pub mod layout;

use std::ops::Range;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Mutex;

use rayon::prelude::*;

use super::{BackendError, LossBlock};
use crate::book::CompiledBook;
use crate::scenario::ScenarioBlock;
use crate::tail::MemberTail;
use layout::f32_at_or_below;

/// Bytes of one packed candidate: scenario in the chunk, loss bits.
pub const CANDIDATE_BYTES: u64 = 8;
/// Scenarios (and members) per tile of the kernels' loss product.
pub const TILE: u32 = 64;

/// Upper bounds on a device's work buffers; its own limits may lower them.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Chunking {
    /// Scenarios per chunk.
    pub scenarios: u32,
    /// Tail candidates one chunk may return, all members together: a bound on
    /// what the device's memory allows ([`Geometry::new`]'s `buffer_bytes`).
    pub candidates: u32,
    /// Bytes any one scenario-sized work buffer (moves, option P&Ls) may take.
    pub buffer_bytes: u64,
}

impl Default for Chunking {
    fn default() -> Self {
        Self {
            scenarios: 1 << 18,
            // 512 MiB a candidate buffer (a slot has two, and a readback): at
            // 10^4 members 6,710 candidates a member and chunk, so that a
            // member admitting ~1% of its scenarios fills a chunk of 2^18.
            candidates: 1 << 26,
            buffer_bytes: 256 << 20,
        }
    }
}

/// Workgroups (CUDA: blocks) a launch may have along its member axis: CUDA's
/// `gridDim.y` limit, and WebGPU's default `maxComputeWorkgroupsPerDimension`.
pub const MAX_MEMBER_TILES: u64 = 65_535;

/// The launch limits of a device that bound a chunk's shape.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct LaunchLimits {
    /// Largest bytes of one buffer (binding) the kernels address.
    pub buffer_bytes: u64,
    /// Most tiles of [`TILE`] scenarios along a launch's x axis.
    pub scenario_tiles: u64,
    /// Most tiles of [`TILE`] members along a launch's y axis.
    pub member_tiles: u64,
}

impl LaunchLimits {
    /// The most members one `member_losses` launch covers.
    pub fn max_members(&self) -> u64 {
        self.member_tiles * u64::from(TILE)
    }
}

/// How a run is cut into chunks on one device.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Geometry {
    pub members: usize,
    /// Scenarios per chunk: the row stride of the asset- and series-major arrays.
    pub stride: u32,
    /// Candidates each member's region holds per chunk.
    pub per_member: u32,
}

impl Geometry {
    /// The chunks that fit buffers of at most `buffer_bytes` and launches of at
    /// most `max_tiles` tiles along the scenarios and [`MAX_MEMBER_TILES`]
    /// along the members.
    pub fn new(
        members: usize,
        widest_row: usize,
        buffer_bytes: u64,
        max_tiles: u64,
        chunking: &Chunking,
    ) -> Result<Self, String> {
        let limits = LaunchLimits {
            buffer_bytes,
            scenario_tiles: max_tiles,
            member_tiles: MAX_MEMBER_TILES,
        };
        Self::within(members, widest_row, &limits, chunking)
    }

    /// The chunks that fit `limits`: scenarios per chunk from the widest row
    /// (assets or option series) and [`Chunking::scenarios`], candidates from
    /// the largest buffer and [`Chunking::candidates`]. A book without members,
    /// or with more than one launch covers, is an error.
    pub fn within(
        members: usize,
        widest_row: usize,
        limits: &LaunchLimits,
        chunking: &Chunking,
    ) -> Result<Self, String> {
        if members == 0 {
            return Err("the book has no members: there is nothing to revalue".into());
        }
        let most = limits.max_members();
        if members as u64 > most {
            return Err(format!(
                "{members} members are more than one launch covers: {} tiles of {TILE} \
                 members, {most} in all",
                limits.member_tiles
            ));
        }
        let row_bytes = limits.buffer_bytes.min(chunking.buffer_bytes);
        let stride = (row_bytes / (4 * widest_row.max(1) as u64))
            .min(u64::from(chunking.scenarios))
            .min(limits.scenario_tiles.saturating_mul(u64::from(TILE)))
            .max(1) as u32;
        let capacity = (limits.buffer_bytes / CANDIDATE_BYTES).min(u64::from(chunking.candidates));
        let per_member = (capacity / members as u64).min(u64::from(u32::MAX)) as u32;
        if per_member == 0 {
            return Err(format!(
                "the candidate list holds {capacity} losses, fewer than the {members} members \
                 of one scenario"
            ));
        }
        Ok(Self {
            members,
            stride,
            per_member,
        })
    }

    /// Candidates the packed list holds.
    pub fn capacity(&self) -> u32 {
        self.per_member * self.members.max(1) as u32
    }

    /// Bytes of the offsets that head a readback: members + 2 words, padded.
    pub fn offsets_bytes(&self) -> u64 {
        (4 * (self.members as u64 + 2)).next_multiple_of(8)
    }

    /// Bytes of the packed list.
    pub fn list_bytes(&self) -> u64 {
        u64::from(self.capacity()) * CANDIDATE_BYTES
    }
}

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
    pub token: T,
}

/// A chunk's candidates by member: member m's (scenario in the chunk, loss less
/// its constant as f32 bits) are `items[offsets[m]..offsets[m + 1]]`.
#[derive(Debug, Clone, PartialEq)]
pub struct Candidates {
    pub offsets: Vec<u32>,
    pub items: Vec<[u32; 2]>,
}

/// The head of a readback: the offsets, the candidates in all and the largest
/// count any member found (which may exceed its region).
pub fn read_offsets(geometry: &Geometry, bytes: &[u8]) -> (Vec<u32>, u32, u32) {
    let offsets: Vec<u32> = bytemuck::pod_collect_to_vec(&bytes[..4 * (geometry.members + 2)]);
    let (total, widest) = (offsets[geometry.members], offsets[geometry.members + 1]);
    (offsets, total, widest)
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
    /// P&Ls, losses against `thresholds`, packing, and the copy back of the
    /// offsets and the first `copied` candidates.
    fn submit(
        &self,
        plan: &Self::Plan,
        slot: usize,
        moves: Moves,
        range: Range<u64>,
        thresholds: &[f32],
        copied: u32,
    ) -> Result<InFlight<Self::Token>, BackendError>;

    /// Waits for a chunk and returns its candidates, or `None` when some
    /// member's overflowed its region.
    fn collect(
        &self,
        plan: &Self::Plan,
        chunk: &InFlight<Self::Token>,
    ) -> Result<Option<Candidates>, BackendError>;

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

#[derive(Debug, Clone, Copy, Default)]
struct Rates {
    widest: f64,
    total: f64,
}

/// The chunks a plan has run: what the device did for a run, and how well the
/// candidate list was sized.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct ChunkCounts {
    /// Chunks submitted to the device, re-drawn halves included.
    pub submitted: u64,
    /// Chunks whose candidates overflowed a member's region, so were drawn
    /// again in halves.
    pub overflowed: u64,
}

/// Where a fixed member's tail stood when a call to [`accumulate`] left it
/// ignoring the member's loss: the next call continues that tail if it starts
/// at `next` with the tail having seen `seen` scenarios and the same floor.
#[derive(Debug, Clone, Copy, PartialEq)]
struct Ignoring {
    next: u64,
    seen: u64,
    floor: u64,
}

impl Ignoring {
    fn of(tail: &MemberTail, next: u64) -> Self {
        Self {
            next,
            seen: tail.count(),
            floor: tail.floor().to_bits(),
        }
    }
}

/// A plan's share of the pipeline: its geometry, the members' constants and
/// the candidate rates that size the next chunk.
#[derive(Debug)]
pub struct ChunkState {
    pub geometry: Geometry,
    constant: Vec<f64>,
    /// Members whose loss is their constant in every scenario.
    fixed: Vec<bool>,
    rates: Mutex<Rates>,
    /// Per fixed member whose tail ignored its loss at the end of the last
    /// [`accumulate`]: where, so that the next call need not probe it again.
    ignoring: Mutex<Vec<Option<Ignoring>>>,
    submitted: AtomicU64,
    overflowed: AtomicU64,
}

impl ChunkState {
    /// Every member streamed through the device.
    pub fn new(geometry: Geometry, constant: Vec<f64>) -> Self {
        let fixed = vec![false; constant.len()];
        Self::with_fixed(geometry, constant, fixed)
    }

    /// For `book`: a member with no weight on any asset (positions or coin
    /// collateral) and no option holding loses its constant in every scenario
    /// (on the CPU too: the weights' product adds zeros), so the host gives it
    /// its tail without the device.
    pub fn for_book(geometry: Geometry, book: &CompiledBook) -> Self {
        let members = book.members;
        let fixed = (0..members)
            .map(|m| {
                book.member_options.of(m).next().is_none()
                    && (0..book.assets).all(|a| book.weights[a * members + m] == 0.0)
            })
            .collect();
        Self::with_fixed(geometry, book.constant.clone(), fixed)
    }

    fn with_fixed(geometry: Geometry, constant: Vec<f64>, fixed: Vec<bool>) -> Self {
        Self {
            geometry,
            ignoring: Mutex::new(vec![None; constant.len()]),
            constant,
            fixed,
            rates: Mutex::new(Rates::default()),
            submitted: AtomicU64::new(0),
            overflowed: AtomicU64::new(0),
        }
    }

    /// Members whose loss never varies, so never reach the device's candidates.
    pub fn fixed_members(&self) -> usize {
        self.fixed.iter().filter(|&&f| f).count()
    }

    /// The chunks this plan has run so far.
    pub fn counts(&self) -> ChunkCounts {
        ChunkCounts {
            submitted: self.submitted.load(Ordering::Relaxed),
            overflowed: self.overflowed.load(Ordering::Relaxed),
        }
    }

    /// The device thresholds of `tails`: a loss below its member's can enter
    /// no window once the member's constant is added back. A fixed member's
    /// admits no finite loss (the host pushes its constant).
    fn thresholds(&self, tails: &[MemberTail]) -> Vec<f32> {
        tails
            .iter()
            .zip(&self.constant)
            .zip(&self.fixed)
            .map(|((t, c), &fixed)| {
                if fixed {
                    f32::INFINITY
                } else {
                    f32_at_or_below(t.floor() - c)
                }
            })
            .collect()
    }

    /// Scenarios the next chunk can take without overflowing a member's
    /// region, and the candidates to expect: a streamed member without a floor
    /// yet gives one per scenario, the others give them at the rates the last
    /// chunk saw (with a margin).
    fn next_chunk(&self, tails: &[MemberTail]) -> (u32, u32) {
        let g = &self.geometry;
        let open = tails
            .iter()
            .zip(&self.fixed)
            .filter(|(t, &fixed)| !fixed && t.floor() == f64::NEG_INFINITY)
            .count() as f64;
        let seen = self.rates.lock().map_or(Rates::default(), |r| *r);
        let widest = if open > 0.0 { 1.0 } else { 1.25 * seen.widest };
        let fits = (f64::from(g.per_member) / widest.max(1e-9)).floor();
        let count = (fits.min(f64::from(g.stride)) as u32).max(TILE.min(g.stride));
        let expected = (f64::from(count) * (open + 1.25 * seen.total)).ceil() + 1024.0;
        (count, expected.min(f64::from(g.capacity())) as u32)
    }

    fn record(&self, found: &Candidates, scenarios: u64) {
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
    /// loss from the host ([`push_fixed`]).
    fn push(
        &self,
        found: &Candidates,
        range: Range<u64>,
        tails: &mut [MemberTail],
        ignoring: &mut [bool],
    ) {
        let scenarios = range.end - range.start;
        tails
            .par_iter_mut()
            .zip(ignoring.par_iter_mut())
            .enumerate()
            .for_each(|(m, (tail, ignoring))| {
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
                if self.fixed[m] {
                    push_fixed(tail, constant, range.clone(), ignoring);
                }
            });
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

/// Draws and revalues scenarios `range` on `device` and pushes them into
/// `tails`, two chunks in flight. `tails` are fresh ones or those the last
/// call on this plan pushed into, continued from where it ended (as the
/// engine's passes do): a fixed member's tail found ignoring its loss is not
/// probed again.
pub fn accumulate<D: ChunkDevice>(
    device: &D,
    plan: &D::Plan,
    range: Range<u64>,
    tails: &mut [MemberTail],
) -> Result<(), BackendError> {
    let state = device.chunks(plan);
    let mut ignoring = state.ignoring_from(range.start, tails);
    let (mut start, mut slot) = (range.start, 0);
    let mut in_flight: Option<InFlight<D::Token>> = None;
    loop {
        let next = if start < range.end {
            let (count, expected) = state.next_chunk(tails);
            let end = (start + u64::from(count)).min(range.end);
            let thresholds = state.thresholds(tails);
            let moves = Moves::Draw { first: start };
            let chunk = device.submit(plan, slot, moves, start..end, &thresholds, expected)?;
            state.submitted.fetch_add(1, Ordering::Relaxed);
            (start, slot) = (end, 1 - slot);
            Some(chunk)
        } else {
            None
        };
        if let Some(previous) = in_flight.take() {
            finish(device, plan, previous, tails, &mut ignoring)?;
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

/// Pushes a submitted chunk into `tails`, or runs it again in halves if a
/// member's candidates overflowed.
fn finish<D: ChunkDevice>(
    device: &D,
    plan: &D::Plan,
    chunk: InFlight<D::Token>,
    tails: &mut [MemberTail],
    ignoring: &mut [bool],
) -> Result<(), BackendError> {
    let state = device.chunks(plan);
    let range = chunk.range.clone();
    match device.collect(plan, &chunk)? {
        Some(found) => {
            state.record(&found, range.end - range.start);
            state.push(&found, range, tails, ignoring);
            Ok(())
        }
        None if range.end - range.start > 1 => {
            state.overflowed.fetch_add(1, Ordering::Relaxed);
            let middle = range.start + (range.end - range.start) / 2;
            for half in [range.start..middle, middle..range.end] {
                let thresholds = state.thresholds(tails);
                let moves = Moves::Draw { first: half.start };
                let capacity = state.geometry.capacity();
                let again = device.submit(plan, chunk.slot, moves, half, &thresholds, capacity)?;
                state.submitted.fetch_add(1, Ordering::Relaxed);
                finish(device, plan, again, tails, ignoring)?;
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
        let submitted = device.submit(plan, 0, Moves::Uploaded, 0..count as u64, &open, every)?;
        let found = device
            .collect(plan, &submitted)?
            .ok_or_else(|| BackendError::Device {
                backend: "device",
                message: "stress losses overflowed the candidate regions".into(),
            })?;
        for m in 0..members {
            let mine = &found.items[found.offsets[m] as usize..found.offsets[m + 1] as usize];
            for &[scenario, loss] in mine {
                losses[m * n + start + scenario as usize] =
                    f64::from(f32::from_bits(loss)) + state.constant[m];
            }
        }
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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::tail::Window;

    const LAVAPIPE: LaunchLimits = LaunchLimits {
        buffer_bytes: 128 << 20,
        scenario_tiles: 65_535,
        member_tiles: 65_535,
    };

    #[test]
    fn candidates_scale_with_the_largest_buffer_up_to_the_bound() {
        let chunking = Chunking::default();
        let g = Geometry::within(10_000, 100, &LAVAPIPE, &chunking).unwrap();
        // 128 MiB holds 2^24 candidates: 1,677 a member at 10^4 members.
        assert_eq!(g.per_member, (1 << 24) / 10_000);
        assert_eq!(g.stride, 1 << 18);
        let large = LaunchLimits {
            buffer_bytes: 8 << 30,
            ..LAVAPIPE
        };
        let g = Geometry::within(10_000, 100, &large, &chunking).unwrap();
        assert_eq!(g.per_member, chunking.candidates / 10_000);
        // CUDA's call: launches bounded along the scenarios only.
        let g = Geometry::new(10_000, 100, 8 << 30, u64::from(u32::MAX), &chunking).unwrap();
        assert_eq!(g.per_member, chunking.candidates / 10_000);
        assert!(g.list_bytes() <= 8 << 30);
    }

    #[test]
    fn launch_shapes_without_members_or_beyond_one_launch_are_errors() {
        let chunking = Chunking::default();
        let err = Geometry::within(0, 10, &LAVAPIPE, &chunking).unwrap_err();
        assert!(err.contains("no members"), "{err}");
        let err = Geometry::new(0, 10, 1 << 30, 1 << 20, &chunking).unwrap_err();
        assert!(err.contains("no members"), "{err}");
        // 65,535 tiles of 64 members: 4,194,240 in one launch, on CUDA
        // (gridDim.y) and on an adapter with WebGPU's default limit.
        let most = 65_535 * 64;
        assert_eq!(LAVAPIPE.max_members(), most);
        assert!(Geometry::within(most as usize, 10, &LAVAPIPE, &chunking).is_ok());
        for geometry in [
            Geometry::within(most as usize + 1, 10, &LAVAPIPE, &chunking),
            Geometry::new(most as usize + 1, 10, 1 << 30, 1 << 31, &chunking),
        ] {
            let err = geometry.unwrap_err();
            assert!(
                err.contains("4194241 members") && err.contains("4194240"),
                "{err}"
            );
        }
        // A smaller adapter limit lowers the bound.
        let small = LaunchLimits {
            member_tiles: 2,
            ..LAVAPIPE
        };
        assert!(Geometry::within(128, 10, &small, &chunking).is_ok());
        assert!(Geometry::within(129, 10, &small, &chunking).is_err());
        // A candidate list smaller than one scenario's worth.
        let tiny = Chunking {
            candidates: 100,
            ..chunking
        };
        assert!(Geometry::within(101, 10, &LAVAPIPE, &tiny)
            .unwrap_err()
            .contains("candidate list"));
    }

    #[test]
    fn scenario_tiles_bound_the_stride() {
        let few = LaunchLimits {
            scenario_tiles: 3,
            ..LAVAPIPE
        };
        let g = Geometry::within(10, 10, &few, &Chunking::default()).unwrap();
        assert_eq!(g.stride, 3 * TILE);
    }

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
