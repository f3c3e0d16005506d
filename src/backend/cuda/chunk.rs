//! Running a chunk on the CUDA device: [`ChunkDevice`] (queue a chunk's
//! kernels and the copy back of its offsets, gap counters and expected
//! candidates on the copy stream; collect them from page-locked memory; draw
//! or upload the scenario moves) and [`DeviceBackend`] (the RNG sample the
//! parity tests compare), the operations the shared chunk pipeline of
//! [`crate::backend::device`] calls.

use std::ops::Range;

use cudarc::driver::{CudaEvent, LaunchConfig, PushKernelArg};

use super::{driver_error, CudaBackend, CudaPlan, Work, NAME};
use crate::backend::device::layout::{RngSample, WordsParams};
use crate::backend::device::{
    candidates_in, total_of, Candidates, ChunkDevice, ChunkState, Chunking, DeviceBackend,
    InFlight, Moves, GAP_WORDS, MAX_GAPS,
};
use crate::backend::BackendError;
use crate::rng::Stream;

impl CudaBackend {
    /// Queues the draw of scenarios `first..first + count` into the work buffers.
    fn launch_draw(
        &self,
        plan: &CudaPlan,
        work: &mut Work,
        first: u64,
        count: u32,
    ) -> Result<(), BackendError> {
        let params = plan.scenario_params.drawing(first, count);
        let mut launch = self.compute.launch_builder(&self.functions.draw);
        launch
            .arg(&params)
            .arg(&plan.model)
            .arg(&plan.indices)
            .arg(&mut work.returns)
            .arg(&mut work.vol_factors)
            .arg(&mut work.scratch);
        let config = LaunchConfig {
            grid_dim: (self.blocks(u64::from(count), 64), 1, 1),
            block_dim: (64, 1, 1),
            shared_mem_bytes: 0,
        };
        // SAFETY: draw_scenarios(ScenarioParams, const float* model, const
        // unsigned* indices, float* returns, float* vol_factors, float* scratch)
        // touches assets x stride entries of the work arrays, which hold them.
        unsafe { launch.launch(config) }.map_err(driver_error)?;
        Ok(())
    }
}

impl DeviceBackend for CudaBackend {
    fn rng_sample(
        &self,
        seed: u64,
        scenarios: Range<u64>,
        step: u32,
        stream: Stream,
        blocks: u32,
    ) -> Result<RngSample, BackendError> {
        let params = WordsParams::new(seed, scenarios, step, stream, blocks);
        let len = (params.count as usize * blocks as usize * 4).max(4);
        let s = &self.compute;
        let mut words = s.alloc_zeros::<u32>(len).map_err(driver_error)?;
        let mut normals = s.alloc_zeros::<f32>(len).map_err(driver_error)?;
        let mut launch = s.launch_builder(&self.functions.words);
        launch.arg(&params).arg(&mut words).arg(&mut normals);
        let config = LaunchConfig {
            grid_dim: (params.count.div_ceil(64).max(1), 1, 1),
            block_dim: (64, 1, 1),
            shared_mem_bytes: 0,
        };
        // SAFETY: `scenario_words(WordsParams, uint4*, float4*)` writes
        // count x blocks entries of each, which the buffers hold.
        unsafe { launch.launch(config) }.map_err(driver_error)?;
        let words: Vec<u32> = s.clone_dtoh(&words).map_err(driver_error)?;
        let normals: Vec<f32> = s.clone_dtoh(&normals).map_err(driver_error)?;
        s.synchronize().map_err(driver_error)?;
        let n = params.count as usize * blocks as usize;
        Ok(RngSample {
            words: words
                .chunks_exact(4)
                .take(n)
                .map(|w| [w[0], w[1], w[2], w[3]])
                .collect(),
            normals: normals
                .chunks_exact(4)
                .take(n)
                .map(|z| [z[0], z[1], z[2], z[3]])
                .collect(),
        })
    }

    fn with_chunking(mut self, chunking: Chunking) -> Self {
        self.chunking = chunking;
        self
    }
}

impl ChunkDevice for CudaBackend {
    type Plan = CudaPlan;
    type Token = CudaEvent;

    fn chunks<'p>(&self, plan: &'p CudaPlan) -> &'p ChunkState {
        &plan.chunks
    }

    fn submit(
        &self,
        plan: &CudaPlan,
        slot: usize,
        moves: Moves,
        range: Range<u64>,
        thresholds: &[f32],
        gaps: usize,
        copied: u32,
    ) -> Result<InFlight<CudaEvent>, BackendError> {
        let count = (range.end - range.start) as u32;
        let members = plan.chunks.geometry.members as u32;
        let mut work = plan.work()?;
        let work = &mut *work;
        if let Moves::Draw { first } = moves {
            self.launch_draw(plan, work, first, count)?;
        }
        let s = &self.compute;
        let mut params = plan.revalue_params;
        params.count = count;
        if params.groups > 0 {
            let mut launch = s.launch_builder(&self.functions.option_pnl);
            launch
                .arg(&params)
                .arg(&work.returns)
                .arg(&work.vol_factors)
                .arg(&plan.group_words)
                .arg(&plan.series_words)
                .arg(&mut work.pnl);
            let config = LaunchConfig {
                grid_dim: (
                    self.blocks(u64::from(count) * u64::from(params.groups), 256),
                    1,
                    1,
                ),
                block_dim: (256, 1, 1),
                shared_mem_bytes: 0,
            };
            // SAFETY: option_pnl(RevalueParams, const float*, const float*,
            // const Group*, const Series*, float* pnl) writes series x stride P&Ls.
            unsafe { launch.launch(config) }.map_err(driver_error)?;
        }
        let buffers = &mut work.slots[slot];
        // ChunkState::thresholds lays them out: each member's floor, then
        // its first `gaps` gaps' bounds, at most the MAX_GAPS the buffers hold.
        let most = if plan.chunks.sums_gaps() { MAX_GAPS } else { 0 };
        if gaps > most || thresholds.len() != members as usize * (1 + 2 * gaps) {
            return Err(BackendError::Device {
                backend: NAME,
                message: format!(
                    "{} thresholds for {members} members with {gaps} gaps each (at most {most})",
                    thresholds.len()
                ),
            });
        }
        params.gaps = gaps as u32;
        let gap_counters = members as usize * gaps * GAP_WORDS;
        // Staged in page-locked memory, whose copy the stream queues without
        // the host waiting for it (its previous copy, a chunk ago, is done).
        let staged = buffers
            .host
            .thresholds
            .as_mut_slice()
            .map_err(driver_error)?;
        staged[..thresholds.len()].copy_from_slice(thresholds);
        s.memcpy_htod(&buffers.host.thresholds, &mut buffers.thresholds)
            .map_err(driver_error)?;
        s.memset_zeros(&mut buffers.member_counts)
            .map_err(driver_error)?;
        if gaps > 0 {
            s.memset_zeros(&mut buffers.gaps.slice_mut(..gap_counters))
                .map_err(driver_error)?;
        }
        self.launch_losses(plan, work, slot, &params)?;
        let buffers = &mut work.slots[slot];
        let mut launch = s.launch_builder(&self.functions.scan_counts);
        launch
            .arg(&params)
            .arg(&buffers.member_counts)
            .arg(&mut buffers.offsets);
        let config = LaunchConfig {
            grid_dim: (1, 1, 1),
            block_dim: (256, 1, 1),
            shared_mem_bytes: 0,
        };
        // SAFETY: scan_counts writes members + 2 offsets, which `offsets` holds.
        unsafe { launch.launch(config) }.map_err(driver_error)?;
        let mut launch = s.launch_builder(&self.functions.gather_candidates);
        launch
            .arg(&params)
            .arg(&buffers.regions)
            .arg(&buffers.offsets)
            .arg(&mut buffers.list);
        let config = LaunchConfig {
            grid_dim: (self.blocks(u64::from(members) * 64, 64), 1, 1),
            block_dim: (64, 1, 1),
            shared_mem_bytes: 0,
        };
        // SAFETY: gather_candidates writes offsets[members] <= capacity
        // candidates (two words each) into `list`.
        unsafe { launch.launch(config) }.map_err(driver_error)?;
        // The offsets and the candidates expected copy back on `copy` while
        // `compute` goes on with the next chunk.
        let computed = s.record_event(None).map_err(driver_error)?;
        let c = &self.copy;
        c.wait(&computed).map_err(driver_error)?;
        c.memcpy_dtoh(&buffers.offsets, &mut buffers.host.offsets)
            .map_err(driver_error)?;
        if gaps > 0 {
            c.memcpy_dtoh(&buffers.gaps.slice(..gap_counters), &mut buffers.host.gaps)
                .map_err(driver_error)?;
        }
        let copied = copied.min(plan.chunks.geometry.capacity());
        if copied > 0 {
            c.memcpy_dtoh(
                &buffers.list.slice(..2 * copied as usize),
                &mut buffers.host.list,
            )
            .map_err(driver_error)?;
        }
        let token = c.record_event(None).map_err(driver_error)?;
        Ok(InFlight {
            range,
            slot,
            copied,
            gaps: gaps as u32,
            token,
        })
    }

    fn collect<R>(
        &self,
        plan: &CudaPlan,
        chunk: &InFlight<CudaEvent>,
        take: impl FnOnce(Candidates<'_>) -> R,
    ) -> Result<Option<R>, BackendError> {
        let geometry = &plan.chunks.geometry;
        let mut work = plan.work()?;
        let buffers = &mut work.slots[chunk.slot];
        chunk.token.synchronize().map_err(driver_error)?;
        let offsets_ptr = buffers.host.offsets.as_ptr().map_err(driver_error)?;
        // SAFETY: the copy of `offsets` (members + 2 words) into `host.offsets`
        // was queued in `submit` before `token`, which has fired; nothing
        // writes the slot's buffers again before this chunk is collected.
        let offsets = unsafe { std::slice::from_raw_parts(offsets_ptr, geometry.members + 2) };
        let total = total_of(geometry, offsets).min(geometry.capacity());
        if total > chunk.copied {
            let (from, to) = (2 * chunk.copied as usize, 2 * total as usize);
            let list = buffers.host.list.as_mut_ptr().map_err(driver_error)?;
            // SAFETY: `host.list` holds 2 x capacity words and to <= 2 x
            // capacity; no copy into it is queued (its event was waited on).
            let rest = unsafe { std::slice::from_raw_parts_mut(list.add(from), to - from) };
            self.copy
                .memcpy_dtoh(&buffers.list.slice(from..to), rest)
                .map_err(driver_error)?;
            self.copy.synchronize().map_err(driver_error)?;
        }
        let list_ptr = buffers.host.list.as_ptr().map_err(driver_error)?;
        // SAFETY: the first 2 x total words of `host.list` were copied from the
        // device: those expected in `submit` (before `token`) and the rest
        // just above, synchronously.
        let list = unsafe { std::slice::from_raw_parts(list_ptr, 2 * total as usize) };
        let gaps = chunk.gaps as usize;
        let gap_sums = if gaps > 0 {
            let sums = buffers.host.gaps.as_ptr().map_err(driver_error)?;
            // SAFETY: the copy of members x gaps x GAP_WORDS counters of
            // `gaps` into `host.gaps` was queued in `submit` before `token`.
            unsafe { std::slice::from_raw_parts(sums, geometry.members * gaps * GAP_WORDS) }
        } else {
            &[]
        };
        let scenarios = chunk.range.end - chunk.range.start;
        candidates_in(geometry, scenarios, offsets, list, gaps, gap_sums)
            .map(|found| found.map(take))
            .map_err(|e| BackendError::Device {
                backend: NAME,
                message: format!(
                    "scan_counts / gather_candidates gave offsets that cannot be read: {e}"
                ),
            })
    }

    fn draw_moves(
        &self,
        plan: &CudaPlan,
        first: u64,
        count: u32,
    ) -> Result<(Vec<f32>, Vec<f32>), BackendError> {
        let mut work = plan.work()?;
        self.launch_draw(plan, &mut work, first, count)?;
        let s = &self.compute;
        let returns: Vec<f32> = s.clone_dtoh(&work.returns).map_err(driver_error)?;
        let vol_factors: Vec<f32> = s.clone_dtoh(&work.vol_factors).map_err(driver_error)?;
        s.synchronize().map_err(driver_error)?;
        Ok((returns, vol_factors))
    }

    fn upload(
        &self,
        plan: &CudaPlan,
        returns: &[f32],
        vol_factors: &[f32],
    ) -> Result<(), BackendError> {
        let mut work = plan.work()?;
        let s = &self.compute;
        s.memcpy_htod(returns, &mut work.returns.slice_mut(..returns.len()))
            .map_err(driver_error)?;
        s.memcpy_htod(
            vol_factors,
            &mut work.vol_factors.slice_mut(..vol_factors.len()),
        )
        .map_err(driver_error)?;
        Ok(())
    }
}
