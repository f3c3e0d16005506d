//! Running a chunk on the device: [`ChunkDevice`] (submit a chunk's
//! dispatches, collect its candidates, draw or upload the scenario moves) and
//! [`DeviceBackend`] (the RNG sample the parity tests compare), the
//! operations the shared chunk pipeline of [`crate::backend::device`] calls.

use std::ops::Range;

use ::wgpu as gpu;

use super::{WgpuBackend, WgpuPlan, WORKGROUP};
use crate::backend::device::layout::{RngSample, WordsParams};
use crate::backend::device::{
    candidates_in, total_of, Candidates, ChunkDevice, ChunkState, Chunking, DeviceBackend,
    InFlight, Moves, CANDIDATE_BYTES, TILE,
};
use crate::backend::BackendError;
use crate::rng::Stream;

impl DeviceBackend for WgpuBackend {
    fn rng_sample(
        &self,
        seed: u64,
        scenarios: Range<u64>,
        step: u32,
        stream: Stream,
        blocks: u32,
    ) -> Result<RngSample, BackendError> {
        let params = WordsParams::new(seed, scenarios, step, stream, blocks);
        let count = params.count;
        let bytes = u64::from(count) * u64::from(blocks) * 16;
        let uniform = self.uniform("words params", 32);
        self.queue
            .write_buffer(&uniform, 0, bytemuck::bytes_of(&params));
        let (words, normals) = (self.storage("words", bytes), self.storage("normals", bytes));
        let out = self.readback("words readback", 2 * bytes);
        let group = self.bind(
            &self.pipelines.words,
            &[(0, &uniform), (1, &words), (2, &normals)],
        );
        let mut encoder = self.device.create_command_encoder(&Default::default());
        {
            let mut pass = encoder.begin_compute_pass(&Default::default());
            pass.set_pipeline(&self.pipelines.words);
            pass.set_bind_group(0, &group, &[]);
            pass.dispatch_workgroups(u64::from(count).div_ceil(64) as u32, 1, 1);
        }
        encoder.copy_buffer_to_buffer(&words, 0, &out, 0, bytes);
        encoder.copy_buffer_to_buffer(&normals, 0, &out, bytes, bytes);
        self.queue.submit([encoder.finish()]);
        let data = self.read(&out, 2 * bytes, None)?;
        let (words, normals) = data.split_at(bytes as usize);
        Ok(RngSample {
            words: bytemuck::pod_collect_to_vec(words),
            normals: bytemuck::pod_collect_to_vec(normals),
        })
    }

    fn with_chunking(mut self, chunking: Chunking) -> Self {
        self.chunking = chunking;
        self
    }
}

impl ChunkDevice for WgpuBackend {
    type Plan = WgpuPlan;
    type Token = gpu::SubmissionIndex;

    fn chunks<'p>(&self, plan: &'p WgpuPlan) -> &'p ChunkState {
        &plan.chunks
    }

    fn submit(
        &self,
        plan: &WgpuPlan,
        slot: usize,
        moves: Moves,
        range: Range<u64>,
        thresholds: &[f32],
        gaps: usize,
        copied: u32,
    ) -> Result<InFlight<gpu::SubmissionIndex>, BackendError> {
        // WGSL sums no gap (no f64): its thresholds are the floors alone.
        let members = plan.chunks.geometry.members;
        if gaps != 0 || thresholds.len() != members {
            return Err(BackendError::Device {
                backend: "wgpu",
                message: format!(
                    "{} thresholds with {gaps} gaps for {members} members: wgpu takes the floors alone",
                    thresholds.len()
                ),
            });
        }
        let count = (range.end - range.start) as u32;
        let mut scenario = plan.scenario_params;
        if let Moves::Draw { first } = moves {
            scenario.first = [first as u32, (first >> 32) as u32];
        }
        scenario.count = count;
        let mut revalue = plan.revalue_params;
        revalue.count = count;
        let buffers = &plan.slots[slot];
        self.queue
            .write_buffer(&plan.scenario_uniform, 0, bytemuck::bytes_of(&scenario));
        self.queue
            .write_buffer(&plan.revalue_uniform, 0, bytemuck::bytes_of(&revalue));
        self.queue
            .write_buffer(&buffers.thresholds, 0, bytemuck::cast_slice(thresholds));
        let mut encoder = self.device.create_command_encoder(&Default::default());
        encoder.clear_buffer(&buffers.member_counts, 0, None);
        {
            let mut pass = encoder.begin_compute_pass(&Default::default());
            if let Moves::Draw { .. } = moves {
                pass.set_pipeline(&self.pipelines.draw);
                pass.set_bind_group(0, &plan.draw_group, &[]);
                pass.dispatch_workgroups(self.groups(u64::from(count)), 1, 1);
            }
            if let Some(group) = &plan.option_group {
                pass.set_pipeline(&self.pipelines.option_pnl);
                pass.set_bind_group(0, group, &[]);
                pass.dispatch_workgroups(
                    self.groups(u64::from(count) * u64::from(revalue.groups)),
                    1,
                    1,
                );
            }
            pass.set_pipeline(&self.pipelines.member_losses);
            pass.set_bind_group(0, &buffers.loss_group, &[]);
            pass.dispatch_workgroups(
                count.div_ceil(TILE),
                (plan.chunks.geometry.members as u32).div_ceil(TILE),
                1,
            );
            pass.set_pipeline(&self.pipelines.scan_counts);
            pass.set_bind_group(0, &buffers.scan_group, &[]);
            pass.dispatch_workgroups(1, 1, 1);
            pass.set_pipeline(&self.pipelines.gather_candidates);
            pass.set_bind_group(0, &buffers.gather_group, &[]);
            pass.dispatch_workgroups(
                self.groups(plan.chunks.geometry.members as u64 * u64::from(WORKGROUP)),
                1,
                1,
            );
        }
        let copied = copied.min(plan.chunks.geometry.capacity());
        let at = plan.chunks.geometry.offsets_bytes();
        encoder.copy_buffer_to_buffer(&buffers.offsets, 0, &buffers.readback, 0, at);
        if copied > 0 {
            encoder.copy_buffer_to_buffer(
                &buffers.list,
                0,
                &buffers.readback,
                at,
                u64::from(copied) * CANDIDATE_BYTES,
            );
        }
        let token = self.queue.submit([encoder.finish()]);
        Ok(InFlight {
            range,
            slot,
            copied,
            gaps: 0,
            token,
        })
    }

    fn collect<R>(
        &self,
        plan: &WgpuPlan,
        chunk: &InFlight<gpu::SubmissionIndex>,
        take: impl FnOnce(Candidates<'_>) -> R,
    ) -> Result<Option<R>, BackendError> {
        let buffers = &plan.slots[chunk.slot];
        let geometry = &plan.chunks.geometry;
        let at = geometry.offsets_bytes();
        let total = self.read_with(&buffers.readback, at, Some(&chunk.token), |data| {
            words(data).map(|offsets| total_of(geometry, offsets))
        })??;
        // The candidates past those copied with the offsets, in a second copy.
        let mut submission = None;
        if total > chunk.copied {
            let copied_bytes = u64::from(chunk.copied) * CANDIDATE_BYTES;
            let mut encoder = self.device.create_command_encoder(&Default::default());
            encoder.copy_buffer_to_buffer(
                &buffers.list,
                copied_bytes,
                &buffers.readback,
                at + copied_bytes,
                u64::from(total - chunk.copied) * CANDIDATE_BYTES,
            );
            submission = Some(self.queue.submit([encoder.finish()]));
        }
        let bytes = at + u64::from(total) * CANDIDATE_BYTES;
        self.read_with(&buffers.readback, bytes, submission.as_ref(), |data| {
            let (offsets, list) = words(data)?.split_at(at as usize / 4);
            let scenarios = chunk.range.end - chunk.range.start;
            candidates_in(
                geometry,
                scenarios,
                &offsets[..geometry.members + 2],
                list,
                0,
                &[],
            )
            .map(|found| found.map(take))
            .map_err(|e| BackendError::Device {
                backend: "wgpu",
                message: format!(
                    "scan_counts / gather_candidates gave offsets that cannot be read: {e}"
                ),
            })
        })?
    }

    fn draw_moves(
        &self,
        plan: &WgpuPlan,
        first: u64,
        count: u32,
    ) -> Result<(Vec<f32>, Vec<f32>), BackendError> {
        let bytes = u64::from(plan.chunks.geometry.stride) * 4 * plan.assets as u64;
        let out = self.readback("scenario readback", 2 * bytes);
        let scenario = plan.scenario_params.drawing(first, count);
        self.queue
            .write_buffer(&plan.scenario_uniform, 0, bytemuck::bytes_of(&scenario));
        let mut encoder = self.device.create_command_encoder(&Default::default());
        {
            let mut pass = encoder.begin_compute_pass(&Default::default());
            pass.set_pipeline(&self.pipelines.draw);
            pass.set_bind_group(0, &plan.draw_group, &[]);
            pass.dispatch_workgroups(self.groups(u64::from(count)), 1, 1);
        }
        encoder.copy_buffer_to_buffer(&plan.returns, 0, &out, 0, bytes);
        encoder.copy_buffer_to_buffer(&plan.vol_factors, 0, &out, bytes, bytes);
        self.queue.submit([encoder.finish()]);
        let mut returns: Vec<f32> =
            bytemuck::pod_collect_to_vec(&self.read(&out, 2 * bytes, None)?);
        let vol_factors = returns.split_off(returns.len() / 2);
        Ok((returns, vol_factors))
    }

    fn upload(
        &self,
        plan: &WgpuPlan,
        returns: &[f32],
        vol_factors: &[f32],
    ) -> Result<(), BackendError> {
        self.queue
            .write_buffer(&plan.returns, 0, bytemuck::cast_slice(returns));
        self.queue
            .write_buffer(&plan.vol_factors, 0, bytemuck::cast_slice(vol_factors));
        Ok(())
    }
}

/// A mapped readback's bytes as words (mapped ranges are aligned to 8 bytes).
fn words(data: &[u8]) -> Result<&[u32], BackendError> {
    bytemuck::try_cast_slice(data).map_err(|e| BackendError::Device {
        backend: "wgpu",
        message: format!(
            "a mapped readback of {} bytes is not words: {e}",
            data.len()
        ),
    })
}
