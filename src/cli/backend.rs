//! The one backend selection every command that draws scenarios uses.
//!
//! `--backend auto` tries CUDA, then a wgpu GPU, then the CPU: only a backend
//! that is not available here (no driver, no device, no library) falls
//! through to the next, and then the reason is said; any other device error
//! (a kernel that does not compile, a failed allocation) is reported, never
//! hidden behind a slower backend.

use super::args::{BackendChoice, ComputeArgs, DeviceArgs};
use super::CliError;
use crate::backend::{self as backends, BackendError, CpuBackend, CudaBackend, WgpuBackend};
use crate::estimate::{self, Compute};
use crate::report::money;
use crate::snapshot::Snapshot;
use crate::tail::{TailLayout, TailPlan};

/// The backend chosen for a command: one per process, so its size is no cost.
#[allow(clippy::large_enum_variant)]
pub enum Selected {
    Cpu(CpuBackend),
    Wgpu(WgpuBackend),
    Cuda(CudaBackend),
}

/// Runs `$body` with `$b` bound to the selected backend, whatever its type
/// (the engine is generic over [`crate::backend::Backend`]).
macro_rules! with_backend {
    ($selected:expr, |$b:ident| $body:expr) => {
        match $selected {
            $crate::cli::backend::Selected::Cpu($b) => $body,
            $crate::cli::backend::Selected::Wgpu($b) => $body,
            $crate::cli::backend::Selected::Cuda($b) => $body,
        }
    };
}
pub(crate) use with_backend;

/// Runs `$body` with `$runner` bound to a [`crate::analysis::Runner`] on the
/// selected backend, within `$compute`'s limits, counting `$scenarios`
/// scenarios on a progress bar labelled `$what` (hidden when quiet): what
/// every command that runs the engine several times shares.
macro_rules! with_runner {
    ($selected:expr, $compute:expr, $scenarios:expr, $what:expr, |$runner:ident| $body:expr) => {{
        let bar = $crate::cli::progress::scenarios($scenarios, $what, $compute.quiet);
        let result = $crate::cli::backend::with_backend!($selected, |b| {
            let $runner = $crate::analysis::Runner {
                backend: b,
                limits: $compute.limits(),
                progress: &|n| bar.inc(n),
            };
            $body
        });
        bar.finish_and_clear();
        result
    }};
}
pub(crate) use with_runner;

impl Selected {
    /// The backend `args` asks for; with `auto`, the first available.
    pub fn choose(args: &ComputeArgs) -> Result<Self, CliError> {
        Self::choose_device(&args.device, args.quiet)
    }

    /// [`Selected::choose`] from the device flags alone (`quiet`: no note
    /// of a fallback).
    pub fn choose_device(args: &DeviceArgs, quiet: bool) -> Result<Self, CliError> {
        match (args.backend, args.adapter) {
            (BackendChoice::Cpu, Some(_)) => Err(CliError::Usage(
                "--adapter picks a GPU: use it with --backend wgpu, cuda or auto".into(),
            )),
            (BackendChoice::Cpu, None) => Ok(Self::Cpu(CpuBackend::new(args.threads)?)),
            (BackendChoice::Wgpu, index) => Ok(Self::Wgpu(WgpuBackend::nth(index.unwrap_or(0))?)),
            (BackendChoice::Cuda, index) => Ok(Self::Cuda(CudaBackend::new(index.unwrap_or(0))?)),
            (BackendChoice::Auto, index) => {
                if let Some(cuda) = available(CudaBackend::new(index.unwrap_or(0)), quiet)? {
                    return Ok(Self::Cuda(cuda));
                }
                let wgpu = match index {
                    Some(i) => WgpuBackend::nth(i).map(Some),
                    None => WgpuBackend::gpu(),
                };
                match available(wgpu, quiet)?.flatten() {
                    Some(gpu) => Ok(Self::Wgpu(gpu)),
                    None => Ok(Self::Cpu(CpuBackend::new(args.threads)?)),
                }
            }
        }
    }

    /// For an analysis that runs one model on many days: the CPU backend
    /// keeps the draws it would repeat, within `args`' memory limit
    /// ([`CpuBackend::reusing_draws`]); a device's generator costs little
    /// beside its revaluation, so the GPU backends draw afresh.
    pub fn reusing_draws(self, args: &ComputeArgs) -> Self {
        match self {
            Self::Cpu(cpu) => Self::Cpu(cpu.reusing_draws(args.limits().tail_memory_bytes)),
            other => other,
        }
    }

    /// What the workload estimate assumes of it. A wgpu adapter that is a
    /// CPU implementation such as lavapipe is estimated as the CPU backend on
    /// every core (it is no faster: on the development VM, 2026-11-29, the
    /// sample's 50,000 paths took 1.1-1.2 s of Monte Carlo on lavapipe
    /// against 0.50 s on the CPU backend).
    pub fn compute(&self) -> Compute {
        match self {
            Self::Cpu(cpu) => Compute::cpu(cpu.threads()),
            Self::Wgpu(w) if w.adapter().is_gpu() => Compute::Gpu,
            Self::Wgpu(_) => {
                Compute::cpu(std::thread::available_parallelism().map_or(1, |n| n.get()))
            }
            Self::Cuda(_) => Compute::Gpu,
        }
    }

    /// Host threads the run uses (the manifest records them).
    pub fn threads(&self) -> usize {
        match self {
            Self::Cpu(cpu) => cpu.threads(),
            _ => rayon::current_num_threads(),
        }
    }

    /// Refuses, before any scenario is drawn, `runs` engine runs of
    /// `snapshot` that would take more than a day here or more memory than
    /// the machine has ([`estimate`]).
    pub fn check_workload(
        &self,
        snapshot: &Snapshot,
        runs: u64,
        args: &ComputeArgs,
    ) -> Result<estimate::Estimate, CliError> {
        let estimate = estimate::Workload::of_runs(snapshot, runs, args.limits())
            .check(self.compute(), estimate::Machine::this())?;
        if let Some(note) = tail_memory_note(snapshot, args).filter(|_| !args.quiet) {
            eprintln!("{note}");
        }
        Ok(estimate)
    }
}

/// What `--memory-limit-mib` costs a run of `snapshot`, where it costs
/// something: the longer pilot or the narrowing passes that fit its windows
/// within it, and the limit that saves them ([`TailPlan::roomier`]).
fn tail_memory_note(snapshot: &Snapshot, args: &ComputeArgs) -> Option<String> {
    let (paths, members) = (snapshot.config.scenario.paths, snapshot.members.len());
    let confidences = crate::engine::confidences(snapshot);
    let limit = args.limits().tail_memory_bytes;
    let plan = TailPlan::for_confidences(paths, &confidences, members, limit).ok()?;
    let (needed, roomier) = plan.roomier(members)?;
    let cost = match plan.layout {
        TailLayout::Narrowed { .. } => {
            "they are counted and narrowed over passes, each over every scenario".to_string()
        }
        _ => format!(
            "the pilot that places them runs over {} of the {} scenarios, not {}",
            money(plan.pilot() as f64),
            money(paths as f64),
            money(roomier.pilot() as f64)
        ),
    };
    Some(format!(
        "note: within --memory-limit-mib {} the members' tail windows fit only if {cost}; \
         --memory-limit-mib {} or more saves that (every shard of a run takes the same limit)",
        args.memory_limit_mib,
        needed.div_ceil(1 << 20)
    ))
}

/// `Ok(None)` when the backend is not available here, saying why on stderr
/// (unless quiet, or there is no such driver at all); any other error is the
/// user's to see.
fn available<T>(attempt: Result<T, BackendError>, quiet: bool) -> Result<Option<T>, CliError> {
    match attempt {
        Ok(backend) => Ok(Some(backend)),
        Err(BackendError::Unavailable { backend, reason }) => {
            let absent = backend == backends::cuda::NAME && !backends::cuda::driver_available();
            if !quiet && !absent {
                eprintln!("note: --backend auto: {backend} is not available ({reason}); trying the next backend");
            }
            Ok(None)
        }
        Err(e) => Err(e.into()),
    }
}

/// What `clearstress devices` prints: each backend, and each wgpu adapter
/// with the limits that size its chunks.
pub fn devices() -> String {
    use std::fmt::Write;
    let mut out = String::new();
    let cpu = rayon::current_num_threads();
    let _ = writeln!(
        out,
        "cpu: available, rayon on {cpu} threads (the reference)"
    );
    for line in backends::cuda::describe_devices() {
        let _ = writeln!(out, "{line}");
    }
    let adapters = backends::wgpu::adapters();
    if adapters.is_empty() {
        let _ = writeln!(
            out,
            "wgpu: no adapter found (Vulkan, Metal or DX12; on Linux without a GPU, \
             `apt-get install mesa-vulkan-drivers` provides lavapipe)"
        );
    }
    for (i, a) in adapters.iter().enumerate() {
        let l = &a.limits;
        let _ = writeln!(
            out,
            "wgpu adapter {i}: {}{}\n  max buffer {} MiB, max storage binding {} MiB, \
             {} storage buffers per stage, workgroup storage {} KiB, {} invocations per \
             workgroup, {} workgroups per dimension",
            a.describe(),
            if i == 0 {
                " [used by --backend wgpu]"
            } else {
                ""
            },
            l.max_buffer_size >> 20,
            l.max_storage_buffer_binding_size >> 20,
            l.max_storage_buffers_per_shader_stage,
            l.max_compute_workgroup_storage_size >> 10,
            l.max_compute_invocations_per_workgroup,
            l.max_compute_workgroups_per_dimension,
        );
    }
    let auto = match (CudaBackend::new(0), adapters.first()) {
        (Ok(cuda), _) => crate::backend::Backend::describe(&cuda),
        (Err(e @ BackendError::Device { .. }), _) => format!("an error: {e}"),
        (Err(_), Some(a)) if a.is_gpu() => format!("wgpu on {}", a.info.name),
        _ => "cpu (no GPU)".into(),
    };
    let _ = writeln!(out, "--backend auto: {auto}");
    out
}
