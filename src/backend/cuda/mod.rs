//! The CUDA backend: the CUDA C kernels of `kernels/` compiled at run time with
//! NVRTC for the device's architecture and run through cudarc's driver API, on
//! the chunk pipeline every device backend shares ([`super::device`]).
//!
//! cudarc loads libnvrtc and libcuda dynamically, so the crate builds and runs
//! where neither is installed; every entry point here checks for the library
//! first and answers [`BackendError::Unavailable`] instead of letting the
//! loader panic.
//!
//! Two streams: kernels run on `compute`, and a chunk's candidates are copied
//! back on `copy` once the chunk's event has fired, so the host pushes chunk k
//! while the device computes chunk k + 1. Device arithmetic is f32, as in the
//! wgpu backend, with the same stated tolerances against the CPU.

mod cache;
mod compile;
mod probe;

/// Threads of a `member_losses` block: each sums 8 scenarios x 8 members of
/// the block's TILE x TILE tile (kernels/revalue.cu).
const LOSS_THREADS: u32 = 64;

use std::ops::Range;
use std::sync::{Arc, Mutex, MutexGuard};

use cudarc::driver::{
    CudaContext, CudaEvent, CudaFunction, CudaSlice, CudaStream, DeviceRepr, LaunchConfig,
    PinnedHostSlice, PushKernelArg,
};

use super::device::layout::{
    BookLayout, ModelLayout, RevalueParams, RngSample, ScenarioParams, WordsParams,
};
use super::device::{
    self, candidates_in, total_of, Candidates, ChunkDevice, ChunkState, Chunking, DeviceBackend,
    Geometry, InFlight, Moves, GAP_WORDS, MAX_GAPS, TILE,
};
use super::kernels::{Kernel, CUDA_REVALUE, CUDA_RNG_CHECK, CUDA_SCENARIO};
use super::{Backend, BackendError, LossBlock, PipelineStats};
use crate::book::CompiledBook;
use crate::rng::Stream;
use crate::scenario::{ScenarioBlock, ScenarioModel};
use crate::tail::MemberTail;
use cache::load_cached;
pub use compile::{compile, nvrtc_available};
use compile::{load_failure, Nvrtc, Target};
pub use probe::{describe_devices, driver_available};
use probe::{
    describe_driver_error, driver_error, driver_error_in, driver_version, target, unavailable,
};

// SAFETY: plain #[repr(C)] structs of u32 and f32 whose layout the kernels
// declare field for field (kernels/scenario.cu, revalue.cu, rng_check.cu).
unsafe impl DeviceRepr for ScenarioParams {}
unsafe impl DeviceRepr for RevalueParams {}
unsafe impl DeviceRepr for WordsParams {}

pub const NAME: &str = "cuda";

struct Functions {
    draw: CudaFunction,
    option_pnl: CudaFunction,
    member_losses: CudaFunction,
    scan_counts: CudaFunction,
    gather_candidates: CudaFunction,
    words: CudaFunction,
}

pub struct CudaBackend {
    ctx: Arc<CudaContext>,
    compute: Arc<CudaStream>,
    copy: Arc<CudaStream>,
    functions: Functions,
    name: String,
    target: Target,
    max_grid_x: u64,
    chunking: Chunking,
}

impl CudaBackend {
    /// CUDA device `ordinal`, its kernels compiled for its architecture (see
    /// `compile.rs` for the target) or read from the module cache.
    pub fn new(ordinal: usize) -> Result<Self, BackendError> {
        if !driver_available() {
            return Err(unavailable("no NVIDIA driver (libcuda) found"));
        }
        let count = CudaContext::device_count().map_err(|e| {
            unavailable(format!(
                "the CUDA driver reports no device: {}",
                describe_driver_error(e)
            ))
        })?;
        if ordinal >= count.max(0) as usize {
            return Err(unavailable(format!(
                "no CUDA device {ordinal}: {count} found"
            )));
        }
        let driver = driver_version()?;
        let nvrtc = Nvrtc::load()?;
        let ctx = CudaContext::new(ordinal)
            .map_err(driver_error_in(&format!("opening CUDA device {ordinal}")))?;
        let capability = ctx.compute_capability().map_err(driver_error)?;
        let target = target(&nvrtc, capability)?;
        // Through the on-disk cache: a process compiles only what no earlier
        // one did with this NVRTC, these options and this target.
        let load = |kernel: &Kernel| {
            load_cached(&nvrtc, kernel, target, |module| {
                let error = |e: String| load_failure(kernel, target, nvrtc.version, driver, &e);
                ctx.load_module(module.to_ptx().map_err(error)?)
                    .map_err(|e| error(describe_driver_error(e)))
            })
        };
        let (scenario, revalue, words) = (
            load(&CUDA_SCENARIO)?,
            load(&CUDA_REVALUE)?,
            load(&CUDA_RNG_CHECK)?,
        );
        let function = |module: &Arc<cudarc::driver::CudaModule>, name: &str| {
            module.load_function(name).map_err(driver_error_in(&format!(
                "loading kernel function `{name}`"
            )))
        };
        let functions = Functions {
            draw: function(&scenario, "draw_scenarios")?,
            option_pnl: function(&revalue, "option_pnl")?,
            member_losses: function(&revalue, "member_losses")?,
            scan_counts: function(&revalue, "scan_counts")?,
            gather_candidates: function(&revalue, "gather_candidates")?,
            words: function(&words, "scenario_words")?,
        };
        let grid_x = ctx
            .attribute(cudarc::driver::sys::CUdevice_attribute::CU_DEVICE_ATTRIBUTE_MAX_GRID_DIM_X)
            .map_err(driver_error)?;
        Ok(Self {
            compute: ctx.new_stream().map_err(driver_error)?,
            copy: ctx.new_stream().map_err(driver_error)?,
            name: ctx.name().map_err(driver_error)?,
            max_grid_x: grid_x.max(1) as u64,
            ctx,
            functions,
            target,
            chunking: Chunking::default(),
        })
    }

    /// Blocks for `items` threads of a grid-stride kernel of `block` threads.
    fn blocks(&self, items: u64, block: u32) -> u32 {
        items
            .div_ceil(u64::from(block))
            .clamp(1, self.max_grid_x.min(u64::from(u32::MAX))) as u32
    }
}

/// The device buffers one run's chunks reuse.
struct Work {
    returns: CudaSlice<f32>,
    vol_factors: CudaSlice<f32>,
    scratch: CudaSlice<f32>,
    pnl: CudaSlice<f32>,
    slots: [Slot; 2],
}

struct Slot {
    thresholds: CudaSlice<f32>,
    member_counts: CudaSlice<u32>,
    /// Two words per candidate: scenario, loss bits.
    regions: CudaSlice<u32>,
    offsets: CudaSlice<u32>,
    list: CudaSlice<u32>,
    /// Each member's sums above its top window (`GAP_WORDS` counters).
    gaps: CudaSlice<u64>,
    /// Page-locked copies of `offsets`, `list` and `gaps` that the host reads
    /// where the DMA left them, reused chunk after chunk.
    host_offsets: PinnedHostSlice<u32>,
    host_list: PinnedHostSlice<u32>,
    host_gaps: PinnedHostSlice<u64>,
}

/// A compiled book and model resident on the device.
pub struct CudaPlan {
    assets: usize,
    series: usize,
    chunks: ChunkState,
    scenario_params: ScenarioParams,
    revalue_params: RevalueParams,
    model: CudaSlice<f32>,
    indices: CudaSlice<u32>,
    series_words: CudaSlice<u32>,
    weights: CudaSlice<f32>,
    holdings: CudaSlice<u32>,
    /// The members' constant losses, for the sums above the windows.
    constants: CudaSlice<f64>,
    work: Mutex<Work>,
}

impl CudaPlan {
    fn work(&self) -> Result<MutexGuard<'_, Work>, BackendError> {
        self.work.lock().map_err(|e| BackendError::Device {
            backend: NAME,
            message: e.to_string(),
        })
    }
}

impl CudaBackend {
    /// Queues the draw of scenarios `first..first + count` into the work buffers.
    fn launch_draw(
        &self,
        plan: &CudaPlan,
        work: &mut Work,
        first: u64,
        count: u32,
    ) -> Result<(), BackendError> {
        let mut params = plan.scenario_params;
        params.first = [first as u32, (first >> 32) as u32];
        params.count = count;
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
        if plan.series > 0 {
            let mut launch = s.launch_builder(&self.functions.option_pnl);
            launch
                .arg(&params)
                .arg(&work.returns)
                .arg(&work.vol_factors)
                .arg(&plan.series_words)
                .arg(&mut work.pnl);
            let config = LaunchConfig {
                grid_dim: (
                    self.blocks(u64::from(count) * plan.series as u64, 256),
                    1,
                    1,
                ),
                block_dim: (256, 1, 1),
                shared_mem_bytes: 0,
            };
            // SAFETY: option_pnl(RevalueParams, const float*, const float*,
            // const Series*, float* pnl) writes series x stride P&Ls.
            unsafe { launch.launch(config) }.map_err(driver_error)?;
        }
        let buffers = &mut work.slots[slot];
        // The gaps the plan's buffers hold (more come back as candidates).
        let gaps = if plan.chunks.sums_gaps() {
            gaps.min(MAX_GAPS)
        } else {
            0
        };
        let stride = 1 + 2 * gaps;
        let per_member = thresholds.len() / (members as usize).max(1);
        let bounds: Vec<f32>;
        let thresholds = if per_member == stride {
            thresholds
        } else {
            // Fewer gaps than asked: each member's floor and its first gaps.
            bounds = thresholds
                .chunks_exact(per_member)
                .flat_map(|t| &t[..stride])
                .copied()
                .collect();
            &bounds
        };
        params.gaps = gaps as u32;
        let gap_counters = members as usize * gaps * GAP_WORDS;
        s.memcpy_htod(thresholds, &mut buffers.thresholds)
            .map_err(driver_error)?;
        s.memset_zeros(&mut buffers.member_counts)
            .map_err(driver_error)?;
        if gaps > 0 {
            s.memset_zeros(&mut buffers.gaps.slice_mut(..gap_counters))
                .map_err(driver_error)?;
        }
        let mut launch = s.launch_builder(&self.functions.member_losses);
        launch
            .arg(&params)
            .arg(&work.returns)
            .arg(&work.pnl)
            .arg(&plan.weights)
            .arg(&plan.holdings)
            .arg(&buffers.thresholds)
            .arg(&mut buffers.member_counts)
            .arg(&mut buffers.regions)
            .arg(&plan.constants)
            .arg(&mut buffers.gaps);
        let config = LaunchConfig {
            grid_dim: (count.div_ceil(TILE), members.div_ceil(TILE), 1),
            block_dim: (LOSS_THREADS, 1, 1),
            shared_mem_bytes: 0,
        };
        // SAFETY: member_losses reads the chunk's returns and P&Ls, the book,
        // 1 + 2 gaps thresholds per member (`thresholds` holds 1 + 2
        // MAX_GAPS a member where the plan sums gaps, else 1, and gaps is 0
        // then) and, when gaps > 0, one constant per member; it writes at
        // most per_member candidates per member into `regions` (members x
        // per_member x 2 words), one count per member and gaps x GAP_WORDS
        // counters per member into `gaps`, which holds MAX_GAPS x GAP_WORDS
        // a member where the plan sums gaps.
        unsafe { launch.launch(config) }.map_err(driver_error)?;
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
        c.memcpy_dtoh(&buffers.offsets, &mut buffers.host_offsets)
            .map_err(driver_error)?;
        if gaps > 0 {
            c.memcpy_dtoh(&buffers.gaps.slice(..gap_counters), &mut buffers.host_gaps)
                .map_err(driver_error)?;
        }
        let copied = copied.min(plan.chunks.geometry.capacity());
        if copied > 0 {
            c.memcpy_dtoh(
                &buffers.list.slice(..2 * copied as usize),
                &mut buffers.host_list,
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
        let offsets_ptr = buffers.host_offsets.as_ptr().map_err(driver_error)?;
        // SAFETY: the copy of `offsets` (members + 2 words) into `host_offsets`
        // was queued in `submit` before `token`, which has fired; nothing
        // writes the slot's buffers again before this chunk is collected.
        let offsets = unsafe { std::slice::from_raw_parts(offsets_ptr, geometry.members + 2) };
        let total = total_of(geometry, offsets).min(geometry.capacity());
        if total > chunk.copied {
            let (from, to) = (2 * chunk.copied as usize, 2 * total as usize);
            let list = buffers.host_list.as_mut_ptr().map_err(driver_error)?;
            // SAFETY: `host_list` holds 2 x capacity words and to <= 2 x
            // capacity; no copy into it is queued (its event was waited on).
            let rest = unsafe { std::slice::from_raw_parts_mut(list.add(from), to - from) };
            self.copy
                .memcpy_dtoh(&buffers.list.slice(from..to), rest)
                .map_err(driver_error)?;
            self.copy.synchronize().map_err(driver_error)?;
        }
        let list_ptr = buffers.host_list.as_ptr().map_err(driver_error)?;
        // SAFETY: the first 2 x total words of `host_list` were copied from the
        // device: those expected in `submit` (before `token`) and the rest
        // just above, synchronously.
        let list = unsafe { std::slice::from_raw_parts(list_ptr, 2 * total as usize) };
        let gaps = chunk.gaps as usize;
        let gap_sums = if gaps > 0 {
            let sums = buffers.host_gaps.as_ptr().map_err(driver_error)?;
            // SAFETY: the copy of members x gaps x GAP_WORDS counters of
            // `gaps` into `host_gaps` was queued in `submit` before `token`.
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

impl Backend for CudaBackend {
    type Plan = CudaPlan;

    fn describe(&self) -> String {
        format!("cuda ({}, {})", self.name, self.target.gpu_architecture())
    }

    fn block_size(&self, plan: &CudaPlan, requested: u64) -> u64 {
        requested.max(u64::from(plan.chunks.geometry.stride))
    }

    fn prepare(
        &self,
        book: &CompiledBook,
        model: &ScenarioModel,
    ) -> Result<CudaPlan, BackendError> {
        let (members, assets, series) = (book.members, book.assets, book.options.len());
        let (free, _) = self.ctx.mem_get_info().map_err(driver_error)?;
        // A work buffer may take a sixteenth of the free memory: there are
        // about ten of them, plus the book.
        let geometry = Geometry::new(
            members,
            assets.max(series),
            (free / 16) as u64,
            self.max_grid_x.min(u64::from(u32::MAX)),
            &self.chunking,
        )
        .map_err(|m| BackendError::Device {
            backend: NAME,
            message: m,
        })?;
        let model_layout = ModelLayout::new(model);
        let book_layout = BookLayout::new(book);
        let s = &self.compute;
        let rows = geometry.stride as usize * assets.max(1);
        let zeros = |n: usize| s.alloc_zeros::<f32>(n.max(1)).map_err(driver_error);
        let words = |n: usize| s.alloc_zeros::<u32>(n.max(1)).map_err(driver_error);
        let upload_f32 = |v: &[f32]| {
            if v.is_empty() {
                zeros(1)
            } else {
                s.clone_htod(v).map_err(driver_error)
            }
        };
        let upload_u32 = |v: &[u32]| {
            if v.is_empty() {
                words(1)
            } else {
                s.clone_htod(v).map_err(driver_error)
            }
        };
        let capacity = geometry.capacity() as usize;
        // SAFETY (both): the host reads only words a device copy wrote (see
        // `collect`); flags 0 is cached memory, which the host reads fast
        // (cudarc's default, write-combined, is for host writes).
        let pinned = |n: usize| -> Result<PinnedHostSlice<u32>, BackendError> {
            unsafe { self.ctx.alloc_pinned_with_flags(n.max(1), 0) }.map_err(driver_error)
        };
        let pinned_counters = |n: usize| -> Result<PinnedHostSlice<u64>, BackendError> {
            unsafe { self.ctx.alloc_pinned_with_flags(n.max(1), 0) }.map_err(driver_error)
        };
        let sums_gaps = self.chunking.sum_gaps;
        let (gap_counters, bounds) = if sums_gaps {
            (members * MAX_GAPS * GAP_WORDS, 1 + 2 * MAX_GAPS)
        } else {
            (1, 1)
        };
        let slot = || -> Result<Slot, BackendError> {
            Ok(Slot {
                thresholds: zeros(bounds * members)?,
                member_counts: words(members)?,
                regions: words(2 * capacity)?,
                offsets: words(members + 2)?,
                list: words(2 * capacity)?,
                gaps: s.alloc_zeros::<u64>(gap_counters).map_err(driver_error)?,
                host_offsets: pinned(members + 2)?,
                host_list: pinned(2 * capacity)?,
                host_gaps: pinned_counters(gap_counters)?,
            })
        };
        let work = Work {
            returns: zeros(rows)?,
            vol_factors: zeros(rows)?,
            scratch: zeros(rows)?,
            pnl: zeros(geometry.stride as usize * series)?,
            slots: [slot()?, slot()?],
        };
        let stride = geometry.stride;
        Ok(CudaPlan {
            assets,
            series,
            scenario_params: ScenarioParams {
                stride,
                ..model_layout.params
            },
            revalue_params: RevalueParams::new(
                &book_layout,
                assets,
                members,
                stride,
                geometry.per_member,
            ),
            chunks: ChunkState::for_book(geometry, book, sums_gaps),
            model: upload_f32(&model_layout.model)?,
            indices: upload_u32(&model_layout.indices)?,
            series_words: upload_u32(bytemuck::cast_slice(&book_layout.series))?,
            weights: upload_f32(&book_layout.weights)?,
            holdings: upload_u32(&book_layout.holdings)?,
            constants: if book.constant.is_empty() {
                s.alloc_zeros::<f64>(1)
            } else {
                s.clone_htod(&book.constant)
            }
            .map_err(driver_error)?,
            work: Mutex::new(work),
        })
    }

    fn scenarios(&self, plan: &CudaPlan, range: Range<u64>) -> Result<ScenarioBlock, BackendError> {
        device::scenarios(self, plan, range, plan.assets)
    }

    fn revalue(&self, plan: &CudaPlan, block: &ScenarioBlock) -> Result<LossBlock, BackendError> {
        device::revalue(self, plan, block)
    }

    fn accumulate(
        &self,
        plan: &CudaPlan,
        range: Range<u64>,
        tails: &mut [MemberTail],
    ) -> Result<(), BackendError> {
        device::accumulate(self, plan, range, tails)
    }

    fn pipeline(&self, plan: &CudaPlan) -> Option<PipelineStats> {
        Some(plan.chunks.stats())
    }
}

/// What the machine running the tests has and is promised to have, shared
/// with the integration tests (CLEARSTRESS_REQUIRE, CLEARSTRESS_DATA).
#[cfg(test)]
#[path = "../../../tests/common/machine.rs"]
mod machine;

#[cfg(test)]
mod host_check;
