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
mod chunk;
mod compile;
mod host_buffers;
mod probe;
mod product;

/// Threads of a `member_losses` block: each sums 8 scenarios x 8 members of
/// the block's TILE x TILE tile (kernels/revalue.cu).
const LOSS_THREADS: u32 = 64;

use std::ops::Range;
use std::sync::{Arc, Mutex, MutexGuard};

use cudarc::driver::{CudaContext, CudaFunction, CudaSlice, CudaStream, DeviceRepr};

use super::device::layout::{BookLayout, ModelLayout, RevalueParams, ScenarioParams, WordsParams};
use super::device::{self, ChunkState, Chunking, Geometry, GAP_WORDS, MAX_GAPS};
use super::kernels::{Kernel, CUDA_REVALUE, CUDA_RNG_CHECK, CUDA_SCENARIO};
use super::{Backend, BackendError, Exceedances, LossBlock, PipelineStats};
use crate::book::CompiledBook;
use crate::scenario::{ScenarioBlock, ScenarioModel};
use crate::tail::MemberTail;
use cache::load_cached;
pub use compile::{compile, nvrtc_available};
use compile::{load_failure, Nvrtc, Target};
use host_buffers::{HostBuffers, HostSizes, Pool, Pooled};
pub use probe::{describe_devices, driver_available};
use probe::{
    describe_driver_error, driver_error, driver_error_in, driver_version, target, unavailable,
};
pub use product::LossProduct;
use product::Products;

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
    compact_losses: CudaFunction,
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
    /// cuBLAS, where the losses' asset part is its SGEMM ([`LossProduct`]).
    sgemm: Option<cudarc::cublas::CudaBlas>,
    /// Page-locked slot buffers, from one plan to the next.
    host_buffers: Pool<HostBuffers>,
}

impl CudaBackend {
    /// CUDA device `ordinal`, its kernels compiled for its architecture (see
    /// `compile.rs` for the target) or read from the module cache, forming
    /// the losses as `CLEARSTRESS_CUDA_LOSSES` says ([`LossProduct`]).
    pub fn new(ordinal: usize) -> Result<Self, BackendError> {
        Self::with_losses(ordinal, LossProduct::from_env()?)
    }

    /// As [`CudaBackend::new`], with the losses formed by `product`.
    pub fn with_losses(ordinal: usize, product: LossProduct) -> Result<Self, BackendError> {
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
            compact_losses: function(&revalue, "compact_losses")?,
            scan_counts: function(&revalue, "scan_counts")?,
            gather_candidates: function(&revalue, "gather_candidates")?,
            words: function(&words, "scenario_words")?,
        };
        let grid_x = ctx
            .attribute(cudarc::driver::sys::CUdevice_attribute::CU_DEVICE_ATTRIBUTE_MAX_GRID_DIM_X)
            .map_err(driver_error)?;
        let compute = ctx.new_stream().map_err(driver_error)?;
        let sgemm = match product {
            LossProduct::Tiled => None,
            LossProduct::Sgemm => Some(product::sgemm_handle(compute.clone())?),
        };
        Ok(Self {
            compute,
            copy: ctx.new_stream().map_err(driver_error)?,
            name: ctx.name().map_err(driver_error)?,
            max_grid_x: grid_x.max(1) as u64,
            ctx,
            functions,
            target,
            chunking: Chunking::default(),
            sgemm,
            host_buffers: Pool::default(),
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
    /// Where cuBLAS writes the asset losses ([`LossProduct::Sgemm`] only).
    products: Option<Products>,
    slots: [Slot; 2],
}

struct Slot {
    thresholds: CudaSlice<f32>,
    member_counts: CudaSlice<u32>,
    /// Two words per candidate: scenario, loss bits.
    regions: CudaSlice<u32>,
    offsets: CudaSlice<u32>,
    list: CudaSlice<u32>,
    /// Each member's sums in the gaps between its windows (`GAP_WORDS`
    /// counters a gap).
    gaps: CudaSlice<u64>,
    /// The page-locked copies of `thresholds` (staged: a copy from pageable
    /// memory may return only once the stream reaches it, so the host would
    /// wait there for the chunk before), `offsets`, `list` and `gaps` (read
    /// where the DMA left them), reused chunk after chunk.
    host: Pooled<HostBuffers>,
}

/// A compiled book and model resident on the device.
pub struct CudaPlan {
    assets: usize,
    chunks: ChunkState,
    scenario_params: ScenarioParams,
    revalue_params: RevalueParams,
    model: CudaSlice<f32>,
    indices: CudaSlice<u32>,
    group_words: CudaSlice<u32>,
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

impl Backend for CudaBackend {
    type Plan = CudaPlan;

    fn describe(&self) -> String {
        let product = if self.sgemm.is_some() {
            ", losses by cuBLAS SGEMM"
        } else {
            ""
        };
        format!(
            "cuda ({}, {}{product})",
            self.name,
            self.target.gpu_architecture()
        )
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
        let sums_gaps = self.chunking.sum_gaps;
        let (gap_counters, bounds) = if sums_gaps {
            (members * MAX_GAPS * GAP_WORDS, 1 + 2 * MAX_GAPS)
        } else {
            (1, 1)
        };
        let sizes = HostSizes {
            thresholds: bounds * members,
            offsets: members + 2,
            list: 2 * capacity,
            gaps: gap_counters,
        };
        let slot = || -> Result<Slot, BackendError> {
            Ok(Slot {
                thresholds: zeros(sizes.thresholds)?,
                member_counts: words(members)?,
                regions: words(2 * capacity)?,
                offsets: words(sizes.offsets)?,
                list: words(sizes.list)?,
                gaps: s.alloc_zeros::<u64>(sizes.gaps).map_err(driver_error)?,
                host: self.host_buffers.take(
                    |kept| kept.sizes() == sizes,
                    || HostBuffers::new(&self.ctx, sizes),
                )?,
            })
        };
        let work = Work {
            returns: zeros(rows)?,
            vol_factors: zeros(rows)?,
            scratch: zeros(rows)?,
            pnl: zeros(geometry.stride as usize * series)?,
            products: match self.sgemm {
                Some(_) => Some(Products::new(
                    s,
                    members,
                    geometry.stride,
                    (free / 16) as u64,
                )?),
                None => None,
            },
            slots: [slot()?, slot()?],
        };
        let stride = geometry.stride;
        Ok(CudaPlan {
            assets,
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
            group_words: upload_u32(bytemuck::cast_slice(&book_layout.groups))?,
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
        exceedances: Option<&mut Exceedances>,
    ) -> Result<(), BackendError> {
        device::accumulate(self, plan, range, tails, exceedances)
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
#[path = "../../../tests/common/host_kernels.rs"]
mod host_kernels;

#[cfg(test)]
mod host_check;
