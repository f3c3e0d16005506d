//! The `clearstress` command line.

use std::io::IsTerminal;
use std::path::{Path, PathBuf};

use clap::{Args, Parser, Subcommand, ValueEnum};

use crate::backend::{self as backends, Backend, CpuBackend, CudaBackend, WgpuBackend};
use crate::engine::{self, RunLimits};
use crate::report::{self, RunContext};
use crate::sample::{self, SampleSpec};
use crate::snapshot::{self, Snapshot};

#[derive(Debug, Parser)]
#[command(
    name = "clearstress",
    version,
    about = "Monte Carlo stress testing for crypto derivatives clearing houses: initial margin and the Cover-2 default fund"
)]
pub struct Cli {
    #[command(subcommand)]
    pub command: Command,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Size every member's initial margin and the default fund (the embedded sample
    /// clearing house unless --book is given).
    Run(RunArgs),
    /// Write the sample clearing house (or a larger synthetic one) as editable files.
    Init(InitArgs),
    /// List the compute backends and the GPU adapters found, with their limits.
    Devices,
    /// Check a snapshot folder without running it.
    Validate {
        /// Snapshot folder.
        #[arg(long)]
        book: PathBuf,
    },
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum BackendChoice {
    /// An NVIDIA GPU through CUDA if there is one, else another GPU through
    /// wgpu, else the CPU.
    Auto,
    /// rayon on every core (or --threads): the reference.
    Cpu,
    /// The portable GPU backend (Vulkan, Metal, DX12) on the best adapter,
    /// a CPU implementation such as lavapipe if there is no GPU.
    Wgpu,
    /// NVIDIA GPUs: CUDA C kernels compiled by NVRTC.
    Cuda,
}

#[derive(Debug, Args)]
pub struct RunArgs {
    /// Snapshot folder (see README for its files); the embedded sample if absent.
    #[arg(long)]
    pub book: Option<PathBuf>,
    /// Monte Carlo paths.
    #[arg(long)]
    pub paths: Option<u64>,
    #[arg(long)]
    pub seed: Option<u64>,
    /// Margin period of risk in days.
    #[arg(long)]
    pub horizon_days: Option<f64>,
    /// Confidence of the margin measure (e.g. 0.99).
    #[arg(long)]
    pub confidence: Option<f64>,
    /// Worker threads (all cores by default).
    #[arg(long)]
    pub threads: Option<usize>,
    /// Output folder, replaced atomically.
    #[arg(long, default_value = "clearstress-out")]
    pub out: PathBuf,
    /// Stress scenario files or folders, instead of the configured ones.
    #[arg(long, num_args = 1..)]
    pub scenarios: Vec<PathBuf>,
    #[arg(long, value_enum, default_value_t = BackendChoice::Auto)]
    pub backend: BackendChoice,
    /// The GPU to run on, by its number in `clearstress devices` for the
    /// chosen backend (wgpu adapter or CUDA device; the first by default).
    #[arg(long)]
    pub adapter: Option<usize>,
    /// Scenarios per streamed block.
    #[arg(long)]
    pub block_size: Option<usize>,
    /// Memory (MiB) the members' exact tails may use: the run picks the cheapest
    /// layout within it (a longer pilot where memory is tight).
    #[arg(long, default_value_t = RunLimits::DEFAULT_TAIL_MEMORY_MIB)]
    pub memory_limit_mib: u64,
    /// Print only the output folder.
    #[arg(long)]
    pub quiet: bool,
}

#[derive(Debug, Args)]
pub struct InitArgs {
    /// Folder to write (created; must be empty if it exists).
    pub dir: PathBuf,
    #[arg(long, default_value_t = SampleSpec::default().members)]
    pub members: usize,
    #[arg(long, default_value_t = SampleSpec::default().assets)]
    pub assets: usize,
    /// Option positions across all members.
    #[arg(long, default_value_t = SampleSpec::default().options)]
    pub options: usize,
    #[arg(long, default_value_t = SampleSpec::default().seed)]
    pub seed: u64,
}

/// Any failure of a command, already worded for the user.
#[derive(Debug, thiserror::Error)]
pub enum CliError {
    #[error(transparent)]
    Input(#[from] snapshot::InputError),
    #[error(transparent)]
    Run(#[from] engine::RunError),
    #[error(transparent)]
    Report(#[from] report::ReportError),
    #[error(transparent)]
    Backend(#[from] crate::backend::BackendError),
    #[error("{0}")]
    Usage(String),
}

pub fn execute(cli: Cli, command_line: Vec<String>) -> Result<(), CliError> {
    match cli.command {
        Command::Run(args) => run(args, command_line),
        Command::Init(args) => init(&args),
        Command::Devices => {
            print!("{}", devices());
            Ok(())
        }
        Command::Validate { book } => {
            let snapshot = load_book(&book)?;
            println!(
                "{}: valid snapshot: {} members, {} instruments, {} positions, {} collateral holdings, {} assets, {} stress scenarios",
                book.display(),
                snapshot.members.len(),
                snapshot.instruments.len(),
                snapshot.positions.len(),
                snapshot.collateral.len(),
                snapshot.market.assets.len(),
                snapshot.stress.len()
            );
            Ok(())
        }
    }
}

/// A user's snapshot, with the built-in stress scenarios if it names none.
fn load_book(dir: &Path) -> Result<Snapshot, CliError> {
    let mut snapshot = snapshot::load(dir)?;
    if snapshot.stress.is_empty() {
        snapshot.stress = sample::embedded_stress(&snapshot.market)?;
    }
    Ok(snapshot)
}

fn run(args: RunArgs, command_line: Vec<String>) -> Result<(), CliError> {
    let mut snapshot = match &args.book {
        Some(dir) => load_book(dir)?,
        None => sample::embedded()?,
    };
    apply_overrides(&mut snapshot, &args)?;
    let bar = if args.quiet || !std::io::stderr().is_terminal() {
        indicatif::ProgressBar::hidden()
    } else {
        let bar = indicatif::ProgressBar::new(snapshot.config.scenario.paths);
        if let Ok(style) = indicatif::ProgressStyle::with_template(
            "{spinner} scenarios {human_pos}/{human_len} [{bar:40}] {per_sec} eta {eta}",
        ) {
            bar.set_style(style.progress_chars("=> "));
        }
        bar
    };
    let limits = RunLimits {
        tail_memory_bytes: args.memory_limit_mib << 20,
    };
    let progress = |n| bar.inc(n);
    let cpu = |threads| -> Result<_, CliError> {
        let backend = CpuBackend::new(threads)?;
        Ok((
            run_on(&backend, &snapshot, limits, &progress)?,
            backend.threads(),
        ))
    };
    let wgpu = |index| -> Result<_, CliError> {
        Ok((
            run_on(&WgpuBackend::nth(index)?, &snapshot, limits, &progress)?,
            rayon::current_num_threads(),
        ))
    };
    let cuda = |backend: CudaBackend| -> Result<_, CliError> {
        Ok((
            run_on(&backend, &snapshot, limits, &progress)?,
            rayon::current_num_threads(),
        ))
    };
    let (result, threads) = match (args.backend, args.adapter) {
        (BackendChoice::Cpu, Some(_)) => {
            return Err(CliError::Usage(
                "--adapter picks a GPU: use it with --backend wgpu, cuda or auto".into(),
            ))
        }
        (BackendChoice::Cpu, None) => cpu(args.threads)?,
        (BackendChoice::Wgpu, index) => wgpu(index.unwrap_or(0))?,
        (BackendChoice::Cuda, index) => cuda(CudaBackend::new(index.unwrap_or(0))?)?,
        (BackendChoice::Auto, Some(index)) => match CudaBackend::new(index) {
            Ok(backend) => cuda(backend)?,
            Err(_) => wgpu(index)?,
        },
        (BackendChoice::Auto, None) => match CudaBackend::new(0) {
            Ok(backend) => cuda(backend)?,
            Err(_) => match WgpuBackend::gpu() {
                Some(gpu) => (
                    run_on(&gpu, &snapshot, limits, &progress)?,
                    rayon::current_num_threads(),
                ),
                None => cpu(args.threads)?,
            },
        },
    };
    bar.finish_and_clear();
    let out = report::write_outputs(
        &args.out,
        &snapshot,
        &result,
        &RunContext {
            command_line,
            threads,
        },
    )?;
    if !args.quiet {
        print!("{}", report::terminal_summary(&snapshot, &result));
        println!("\nresults: {}", out.display());
    } else {
        println!("{}", out.display());
    }
    Ok(())
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
        (Ok(cuda), _) => cuda.describe(),
        (Err(_), Some(a)) if a.is_gpu() => format!("wgpu on {}", a.info.name),
        _ => "cpu (no GPU)".into(),
    };
    let _ = writeln!(out, "--backend auto: {auto}");
    out
}

fn run_on<B: Backend>(
    backend: &B,
    snapshot: &Snapshot,
    limits: RunLimits,
    progress: &dyn Fn(u64),
) -> Result<engine::RunResult, CliError> {
    Ok(engine::run(backend, snapshot, limits, progress)?)
}

fn apply_overrides(snapshot: &mut Snapshot, args: &RunArgs) -> Result<(), CliError> {
    let config = &mut snapshot.config;
    if let Some(paths) = args.paths {
        if paths == 0 {
            return Err(CliError::Usage("--paths must be at least 1".into()));
        }
        config.scenario.paths = paths;
    }
    if let Some(seed) = args.seed {
        config.scenario.seed = seed;
    }
    if let Some(days) = args.horizon_days {
        if !(days > 0.0 && days <= 365.0) {
            return Err(CliError::Usage(format!(
                "--horizon-days must be in (0, 365], got {days}"
            )));
        }
        config.risk.margin_period_days = days;
    }
    if let Some(c) = args.confidence {
        if !(c > 0.5 && c < 1.0) {
            return Err(CliError::Usage(format!(
                "--confidence must be in (0.5, 1), got {c}"
            )));
        }
        config.risk.margin_confidence = c;
    }
    if let Some(block) = args.block_size {
        if !(64..=1 << 20).contains(&block) {
            return Err(CliError::Usage(format!(
                "--block-size must be in 64..=1048576, got {block}"
            )));
        }
        config.scenario.block_size = block;
    }
    if !args.scenarios.is_empty() {
        snapshot.stress = snapshot::load_stress_scenarios(&args.scenarios, &snapshot.market)?;
        config.scenario.stress = args
            .scenarios
            .iter()
            .map(|p| p.display().to_string())
            .collect();
    }
    Ok(())
}

fn init(args: &InitArgs) -> Result<(), CliError> {
    if args.dir.exists()
        && std::fs::read_dir(&args.dir)
            .map(|mut d| d.next().is_some())
            .unwrap_or(true)
    {
        return Err(CliError::Usage(format!(
            "{}: exists and is not empty; init writes into a new or empty folder",
            args.dir.display()
        )));
    }
    let spec = SampleSpec {
        members: args.members,
        assets: args.assets,
        options: args.options,
        seed: args.seed,
    };
    let files = sample::generate(&spec)?;
    // Validate before writing: what init writes, run accepts.
    let snapshot = files.load("init")?;
    let written = files.write(&args.dir)?;
    println!(
        "{}: wrote {} files: {} members, {} assets, {} instruments, {} positions",
        args.dir.display(),
        written.len(),
        snapshot.members.len(),
        snapshot.market.assets.len(),
        snapshot.instruments.len(),
        snapshot.positions.len()
    );
    Ok(())
}
