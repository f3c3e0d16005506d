//! The portable GPU backend: the WGSL kernels of `kernels/` through wgpu, on
//! Vulkan, Metal or DX12.
//!
//! A chunk (see [`super::device`] for the pipeline) is one submission of five
//! dispatches over buffers allocated once per run, sized from the adapter's own
//! limits (the device is requested with them, not with the WebGPU defaults):
//! `draw_scenarios`, `option_pnl`, `member_losses`, `scan_counts` and
//! `gather_candidates`, then the copy back of the offsets and the expected
//! prefix of the candidate list.
//!
//! Device arithmetic is f32: the RNG words are bit for bit the CPU's, the
//! normals, returns and losses agree with the CPU backend to f32 rounding
//! (the stated tolerances are in tests/common/parity.rs).
//!
//! This file holds the backend itself: the device and its pipelines, the
//! buffer helpers, and the plan resident on the device ([`Backend::prepare`]).
//! `adapter.rs` finds and ranks the adapters (`clearstress devices`);
//! `chunk.rs` runs a chunk on them: the operations the shared chunk pipeline
//! of [`super::device`] calls (submit, collect, draw, upload, RNG sample).

mod adapter;
mod chunk;

use std::ops::Range;
use std::sync::{mpsc, Arc, Mutex};

use ::wgpu as gpu;
use gpu::util::DeviceExt;

use super::device::layout::{BookLayout, ModelLayout, RevalueParams, ScenarioParams};
use super::device::{self, ChunkState, Chunking, Geometry, LaunchLimits};
use super::kernels::{Kernel, WGSL_REVALUE, WGSL_RNG_CHECK, WGSL_SCENARIO};
use super::{Backend, BackendError, Exceedances, LossBlock, PipelineStats};
use crate::book::CompiledBook;
use crate::scenario::{ScenarioBlock, ScenarioModel};
use crate::tail::MemberTail;
use adapter::ranked_adapters;
pub use adapter::{adapters, quiet_device_select, AdapterSummary};

const NAME: &str = "wgpu";
/// Invocations per workgroup of the one-dimensional kernels.
const WORKGROUP: u32 = 64;
/// The fewest candidates a chunk's list is cut to when the device runs out
/// of memory for more.
const MIN_CANDIDATES: u32 = 1 << 23;

struct Pipelines {
    draw: gpu::ComputePipeline,
    option_pnl: gpu::ComputePipeline,
    member_losses: gpu::ComputePipeline,
    scan_counts: gpu::ComputePipeline,
    gather_candidates: gpu::ComputePipeline,
    words: gpu::ComputePipeline,
}

pub struct WgpuBackend {
    device: gpu::Device,
    queue: gpu::Queue,
    adapter: AdapterSummary,
    pipelines: Pipelines,
    /// Errors wgpu reported outside an error scope (it would panic otherwise).
    errors: Arc<Mutex<Vec<String>>>,
    chunking: Chunking,
}

fn device_error(message: impl std::fmt::Display) -> BackendError {
    BackendError::Device {
        backend: NAME,
        message: message.to_string(),
    }
}

impl WgpuBackend {
    /// The best adapter wgpu finds (a CPU implementation such as lavapipe when
    /// there is no GPU).
    pub fn new() -> Result<Self, BackendError> {
        Self::nth(0)
    }

    /// Adapter `index` in the order of [`adapters`] (`clearstress devices`).
    pub fn nth(index: usize) -> Result<Self, BackendError> {
        let adapters = ranked_adapters();
        let found = adapters.len();
        let adapter = adapters
            .into_iter()
            .nth(index)
            .ok_or_else(|| BackendError::Unavailable {
                backend: NAME,
                reason: if found == 0 {
                    "no Vulkan, Metal or DX12 adapter found (on Linux without a GPU, \
                     `apt-get install mesa-vulkan-drivers` provides lavapipe)"
                        .into()
                } else {
                    format!("no adapter {index}: {found} found (see `clearstress devices`)")
                },
            })?;
        Self::on(adapter)
    }

    /// The best adapter if it is a real GPU: what `--backend auto` takes.
    /// `Ok(None)` when there is no GPU adapter; an adapter that fails to
    /// start, or whose kernels do not build, is an error.
    pub fn gpu() -> Result<Option<Self>, BackendError> {
        let Some(adapter) = ranked_adapters().into_iter().next() else {
            return Ok(None);
        };
        let summary = AdapterSummary {
            info: adapter.get_info(),
            limits: adapter.limits(),
        };
        if summary.is_gpu() {
            Self::on(adapter).map(Some)
        } else {
            Ok(None)
        }
    }

    fn on(adapter: gpu::Adapter) -> Result<Self, BackendError> {
        let summary = AdapterSummary {
            info: adapter.get_info(),
            limits: adapter.limits(),
        };
        let (device, queue) = pollster::block_on(adapter.request_device(&gpu::DeviceDescriptor {
            label: Some("clearstress"),
            required_features: gpu::Features::empty(),
            required_limits: summary.limits.clone(),
            experimental_features: gpu::ExperimentalFeatures::disabled(),
            memory_hints: gpu::MemoryHints::Performance,
            trace: gpu::Trace::Off,
        }))
        .map_err(|e| BackendError::Unavailable {
            backend: NAME,
            reason: format!("{}: {e}", summary.describe()),
        })?;
        let errors = Arc::new(Mutex::new(Vec::new()));
        let sink = Arc::clone(&errors);
        device.on_uncaptured_error(Arc::new(move |e: gpu::Error| {
            if let Ok(mut errors) = sink.lock() {
                errors.push(e.to_string());
            }
        }));
        let scope = device.push_error_scope(gpu::ErrorFilter::Validation);
        let pipeline = |kernel: &Kernel, entry: &str| {
            let module = device.create_shader_module(gpu::ShaderModuleDescriptor {
                label: Some(kernel.name),
                source: gpu::ShaderSource::Wgsl(kernel.source().into()),
            });
            device.create_compute_pipeline(&gpu::ComputePipelineDescriptor {
                label: Some(entry),
                layout: None,
                module: &module,
                entry_point: Some(entry),
                compilation_options: Default::default(),
                cache: None,
            })
        };
        let pipelines = Pipelines {
            draw: pipeline(&WGSL_SCENARIO, "draw_scenarios"),
            option_pnl: pipeline(&WGSL_REVALUE, "option_pnl"),
            member_losses: pipeline(&WGSL_REVALUE, "member_losses"),
            scan_counts: pipeline(&WGSL_REVALUE, "scan_counts"),
            gather_candidates: pipeline(&WGSL_REVALUE, "gather_candidates"),
            words: pipeline(&WGSL_RNG_CHECK, "scenario_words"),
        };
        if let Some(e) = pollster::block_on(scope.pop()) {
            return Err(device_error(format!("kernel compilation failed: {e}")));
        }
        Ok(Self {
            device,
            queue,
            adapter: summary,
            pipelines,
            errors,
            chunking: Chunking::default(),
        })
    }

    pub fn adapter(&self) -> &AdapterSummary {
        &self.adapter
    }

    /// Fails with the first error wgpu reported since the last check.
    fn check(&self) -> Result<(), BackendError> {
        let mut errors = self.errors.lock().map_err(device_error)?;
        let first = errors.drain(..).next();
        first.map_or(Ok(()), |e| Err(device_error(e)))
    }

    fn storage(&self, label: &str, bytes: u64) -> gpu::Buffer {
        self.device.create_buffer(&gpu::BufferDescriptor {
            label: Some(label),
            size: bytes.max(16).next_multiple_of(4),
            usage: gpu::BufferUsages::STORAGE
                | gpu::BufferUsages::COPY_SRC
                | gpu::BufferUsages::COPY_DST,
            mapped_at_creation: false,
        })
    }

    fn storage_init(&self, label: &str, contents: &[u8]) -> gpu::Buffer {
        let mut padded = contents.to_vec();
        padded.resize(contents.len().max(16).next_multiple_of(4), 0);
        self.device
            .create_buffer_init(&gpu::util::BufferInitDescriptor {
                label: Some(label),
                contents: &padded,
                usage: gpu::BufferUsages::STORAGE | gpu::BufferUsages::COPY_DST,
            })
    }

    fn uniform(&self, label: &str, bytes: u64) -> gpu::Buffer {
        self.device.create_buffer(&gpu::BufferDescriptor {
            label: Some(label),
            size: bytes,
            usage: gpu::BufferUsages::UNIFORM | gpu::BufferUsages::COPY_DST,
            mapped_at_creation: false,
        })
    }

    fn readback(&self, label: &str, bytes: u64) -> gpu::Buffer {
        self.device.create_buffer(&gpu::BufferDescriptor {
            label: Some(label),
            size: bytes.max(16).next_multiple_of(8),
            usage: gpu::BufferUsages::MAP_READ | gpu::BufferUsages::COPY_DST,
            mapped_at_creation: false,
        })
    }

    fn bind(
        &self,
        pipeline: &gpu::ComputePipeline,
        buffers: &[(u32, &gpu::Buffer)],
    ) -> gpu::BindGroup {
        let entries: Vec<gpu::BindGroupEntry> = buffers
            .iter()
            .map(|&(binding, buffer)| gpu::BindGroupEntry {
                binding,
                resource: buffer.as_entire_binding(),
            })
            .collect();
        self.device.create_bind_group(&gpu::BindGroupDescriptor {
            label: None,
            layout: &pipeline.get_bind_group_layout(0),
            entries: &entries,
        })
    }

    /// Waits for `submission` (or the whole queue) and copies `bytes` out of
    /// the mappable `buffer`.
    fn read(
        &self,
        buffer: &gpu::Buffer,
        bytes: u64,
        submission: Option<&gpu::SubmissionIndex>,
    ) -> Result<Vec<u8>, BackendError> {
        self.read_with(buffer, bytes, submission, <[u8]>::to_vec)
    }

    /// Waits for `submission`, maps the first `bytes` of `buffer` and hands
    /// them to `take` where they lie (no copy).
    fn read_with<R>(
        &self,
        buffer: &gpu::Buffer,
        bytes: u64,
        submission: Option<&gpu::SubmissionIndex>,
        take: impl FnOnce(&[u8]) -> R,
    ) -> Result<R, BackendError> {
        if bytes == 0 {
            return Ok(take(&[]));
        }
        let size = bytes.next_multiple_of(4);
        let (sender, receiver) = mpsc::channel();
        buffer.map_async(gpu::MapMode::Read, 0..size, move |result| {
            let _ = sender.send(result);
        });
        self.device
            .poll(gpu::PollType::Wait {
                submission_index: submission.cloned(),
                timeout: None,
            })
            .map_err(device_error)?;
        self.check()?;
        receiver
            .recv()
            .map_err(device_error)?
            .map_err(device_error)?;
        let taken = {
            let data = buffer.get_mapped_range(0..size).map_err(device_error)?;
            take(&data[..bytes as usize])
        };
        buffer.unmap();
        Ok(taken)
    }

    /// Workgroups for `items` invocations of a grid-stride kernel.
    fn groups(&self, items: u64) -> u32 {
        let most = self
            .adapter
            .limits
            .max_compute_workgroups_per_dimension
            .max(1);
        items
            .div_ceil(u64::from(WORKGROUP))
            .clamp(1, u64::from(most)) as u32
    }
}

/// A compiled book and model resident on the device, with the work buffers
/// every chunk reuses.
pub struct WgpuPlan {
    assets: usize,
    chunks: ChunkState,
    scenario_params: ScenarioParams,
    revalue_params: RevalueParams,
    scenario_uniform: gpu::Buffer,
    revalue_uniform: gpu::Buffer,
    returns: gpu::Buffer,
    vol_factors: gpu::Buffer,
    draw_group: gpu::BindGroup,
    option_group: Option<gpu::BindGroup>,
    slots: [Slot; 2],
}

/// What one chunk in flight owns; the draw buffers are shared, as the queue
/// runs chunks in order.
struct Slot {
    thresholds: gpu::Buffer,
    member_counts: gpu::Buffer,
    readback: gpu::Buffer,
    loss_group: gpu::BindGroup,
    scan_group: gpu::BindGroup,
    gather_group: gpu::BindGroup,
    offsets: gpu::Buffer,
    list: gpu::Buffer,
}

impl Backend for WgpuBackend {
    type Plan = WgpuPlan;

    fn describe(&self) -> String {
        format!("wgpu ({})", self.adapter.describe())
    }

    fn block_size(&self, plan: &WgpuPlan, requested: u64) -> u64 {
        requested.max(u64::from(plan.chunks.geometry.stride))
    }

    fn prepare(
        &self,
        book: &CompiledBook,
        model: &ScenarioModel,
    ) -> Result<WgpuPlan, BackendError> {
        let limits = &self.adapter.limits;
        let (members, assets, series) = (book.members, book.assets, book.options.len());
        let binding = limits
            .max_storage_buffer_binding_size
            .min(limits.max_buffer_size);
        // Both launch axes have the adapter's workgroup limit: scenario tiles
        // along x, member tiles along y (`member_losses`).
        let workgroups = u64::from(limits.max_compute_workgroups_per_dimension);
        let launch = LaunchLimits {
            buffer_bytes: binding,
            scenario_tiles: workgroups,
            member_tiles: workgroups,
        };
        let mut chunking = self.chunking;
        let mut geometry = Geometry::within(members, assets.max(series), &launch, &chunking)
            .map_err(device_error)?;
        let stride = geometry.stride;
        let weights_bytes = (book.weights.len() * 4) as u64;
        if weights_bytes > limits.max_storage_buffer_binding_size {
            return Err(device_error(format!(
                "the {assets} x {members} weights take {weights_bytes} bytes, over the adapter's \
                 {} per binding",
                limits.max_storage_buffer_binding_size
            )));
        }

        let scope = self.device.push_error_scope(gpu::ErrorFilter::OutOfMemory);
        let model_layout = ModelLayout::new(model);
        let book_layout = BookLayout::new(book);
        let rows = u64::from(stride) * 4;
        let scenario_uniform = self.uniform(
            "scenario params",
            std::mem::size_of::<ScenarioParams>() as u64,
        );
        let revalue_uniform = self.uniform("revalue params", 32);
        let model_buffer = self.storage_init("model", bytemuck::cast_slice(&model_layout.model));
        let indices = self.storage_init("indices", bytemuck::cast_slice(&model_layout.indices));
        let returns = self.storage("returns", rows * assets as u64);
        let vol_factors = self.storage("vol factors", rows * assets as u64);
        let scratch = self.storage("scratch", rows * assets as u64);
        let pnl = self.storage("option pnl", rows * series as u64);
        let series_buffer = self.storage_init("series", bytemuck::cast_slice(&book_layout.series));
        let groups_buffer = self.storage_init("groups", bytemuck::cast_slice(&book_layout.groups));
        let weights = self.storage_init("weights", bytemuck::cast_slice(&book_layout.weights));
        let holdings = self.storage_init("holdings", bytemuck::cast_slice(&book_layout.holdings));
        if let Some(e) = pollster::block_on(scope.pop()) {
            return Err(device_error(format!(
                "allocating the work buffers for chunks of {stride} scenarios: {e}"
            )));
        }
        // The candidate buffers (six, of up to 512 MiB) are the largest: wgpu
        // cannot tell the free memory, so a device that cannot hold them gets
        // half as many candidates, down to the 2^23 of a small device.
        let slot_buffers = loop {
            let scope = self.device.push_error_scope(gpu::ErrorFilter::OutOfMemory);
            let (list_bytes, offsets_bytes) = (geometry.list_bytes(), geometry.offsets_bytes());
            let slot_buffers = [0, 1].map(|_| {
                (
                    self.storage("thresholds", 4 * members as u64),
                    self.storage("member counts", 4 * members as u64),
                    self.storage("candidate regions", list_bytes),
                    self.storage("candidate offsets", offsets_bytes),
                    self.storage("candidates", list_bytes),
                    self.readback("readback", offsets_bytes + list_bytes),
                )
            });
            let Some(e) = pollster::block_on(scope.pop()) else {
                break slot_buffers;
            };
            let half = geometry.capacity() / 2;
            if half < MIN_CANDIDATES || (half as usize) < members {
                return Err(device_error(format!(
                    "allocating the candidate buffers for {} losses a chunk: {e}",
                    geometry.capacity()
                )));
            }
            chunking.candidates = half;
            geometry = Geometry::within(members, assets.max(series), &launch, &chunking)
                .map_err(device_error)?;
        };

        let draw_group = self.bind(
            &self.pipelines.draw,
            &[
                (0, &scenario_uniform),
                (1, &model_buffer),
                (2, &indices),
                (3, &returns),
                (4, &vol_factors),
                (5, &scratch),
            ],
        );
        let option_group = (series > 0).then(|| {
            self.bind(
                &self.pipelines.option_pnl,
                &[
                    (0, &revalue_uniform),
                    (1, &returns),
                    (2, &vol_factors),
                    (3, &series_buffer),
                    (4, &pnl),
                    (12, &groups_buffer),
                ],
            )
        });
        let slots = slot_buffers.map(
            |(thresholds, member_counts, regions, offsets, list, readback)| Slot {
                loss_group: self.bind(
                    &self.pipelines.member_losses,
                    &[
                        (0, &revalue_uniform),
                        (1, &returns),
                        (4, &pnl),
                        (5, &weights),
                        (6, &holdings),
                        (7, &thresholds),
                        (8, &member_counts),
                        (9, &regions),
                    ],
                ),
                scan_group: self.bind(
                    &self.pipelines.scan_counts,
                    &[(0, &revalue_uniform), (8, &member_counts), (10, &offsets)],
                ),
                gather_group: self.bind(
                    &self.pipelines.gather_candidates,
                    &[
                        (0, &revalue_uniform),
                        (9, &regions),
                        (10, &offsets),
                        (11, &list),
                    ],
                ),
                thresholds,
                member_counts,
                offsets,
                list,
                readback,
            },
        );
        self.check()?;
        Ok(WgpuPlan {
            assets,
            // WGSL has no f64: every loss above the floors comes back.
            chunks: ChunkState::for_book(geometry, book, false),
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
            scenario_uniform,
            revalue_uniform,
            returns,
            vol_factors,
            draw_group,
            option_group,
            slots,
        })
    }

    fn scenarios(&self, plan: &WgpuPlan, range: Range<u64>) -> Result<ScenarioBlock, BackendError> {
        device::scenarios(self, plan, range, plan.assets)
    }

    fn revalue(&self, plan: &WgpuPlan, block: &ScenarioBlock) -> Result<LossBlock, BackendError> {
        device::revalue(self, plan, block)
    }

    fn accumulate(
        &self,
        plan: &WgpuPlan,
        range: Range<u64>,
        tails: &mut [MemberTail],
        exceedances: Option<&mut Exceedances>,
    ) -> Result<(), BackendError> {
        device::accumulate(self, plan, range, tails, exceedances)
    }

    fn pipeline(&self, plan: &WgpuPlan) -> Option<PipelineStats> {
        Some(plan.chunks.stats())
    }
}
