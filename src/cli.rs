//! The `clearstress` command line.

use std::io::IsTerminal;
use std::path::{Path, PathBuf};

use clap::{Args, Parser, Subcommand, ValueEnum};

use crate::backend::{self as backends, Backend, CpuBackend, CudaBackend, WgpuBackend};
use crate::calibrate::{calibrate_market, CalibrationSpec, CorrelationModel, VolatilityModel};
use crate::engine::{self, RunLimits};
use crate::estimate::{self, Compute};
use crate::report::{self, RunContext};
use crate::sample::{self, SampleSpec};
use crate::snapshot::bounds::{self, Bounds, End};
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
    /// Fit the market's volatilities and correlation to daily price history and
    /// write the calibrated snapshot, with a report of every fit.
    Calibrate(CalibrateArgs),
    /// Find the historical windows of a given length that would have hurt the
    /// book most (uncovered loss of the largest groups, as Cover-2 is sized).
    WorstWindow(WorstWindowArgs),
    /// The book's margin through history, with and without EMIR's
    /// anti-procyclicality tools, and how procyclical each series is.
    Procyclicality(ProcyclicalityArgs),
    /// Every member's margin under each scenario model side by side: Gaussian,
    /// Student-t, Student-t with jumps, and, with a history, FHS and the
    /// configured model under EMIR's APC tools.
    Compare(CompareArgs),
    /// List the compute backends and the GPU adapters found, with their limits.
    Devices,
    /// Check a snapshot folder without running it.
    Validate {
        /// Snapshot folder.
        #[arg(long)]
        book: PathBuf,
    },
}

// The range of every numeric flag: one rule wherever the flag appears, shown
// in its help and in the error that refuses it. Upper bounds keep each value
// where the arithmetic and allocations it drives stay sound and finite.

/// Monte Carlo paths: the range ccp.toml's `scenario.paths` has.
const PATHS: (u64, u64) = (snapshot::bounds::MIN_PATHS, snapshot::bounds::MAX_PATHS);
/// Rayon threads: past a thousand, creating them is the work.
const THREADS: (u64, u64) = (1, 1024);
const ADAPTER: (u64, u64) = (0, 63);
const BLOCK_SIZE: (u64, u64) = (64, 1 << 20);
/// 1 TiB at most, so that the limit in bytes (MiB << 20) cannot overflow.
const MEMORY_LIMIT_MIB: (u64, u64) = (1, 1 << 20);
/// init's book: the generator's member loop and its option placement (a
/// linear scan of the members per option) stay within seconds, and the
/// correlation matrix (assets^2) within megabytes.
const MEMBERS: (u64, u64) = (2, 100_000);
const ASSETS: (u64, u64) = (2, 1_000);
const OPTIONS: (u64, u64) = (0, 100_000);
/// Calibration windows: two months of returns at least; a century at most.
const LOOKBACK_DAYS: (u64, u64) = (60, 36_500);
const FHS_LOOKBACK_DAYS: (u64, u64) = (
    *crate::history::FHS_LOOKBACK_DAYS.start() as u64,
    *crate::history::FHS_LOOKBACK_DAYS.end() as u64,
);
/// Window lengths and date steps, in calendar days: up to ten years.
const WINDOW_DAYS: (u64, u64) = (1, 3_650);
const TOP: (u64, u64) = (1, 1_000);
/// Margin dates of one procyclicality study: each is three engine runs.
const MAX_MARGIN_DATES: usize = 5_000;

const HORIZON_DAYS: Bounds = bounds::MARGIN_PERIOD_DAYS;
const CONFIDENCE: Bounds = bounds::CONFIDENCE;
const LAMBDA: Bounds = bounds::EWMA_LAMBDA;
const BUFFER: Bounds = Bounds::new("a share of the margin", End::Closed(0.0), End::Closed(1.0));
const STRESSED_WEIGHT: Bounds = Bounds::new("a weight", End::Closed(0.0), End::Closed(1.0));

/// A whole-number flag's parser: refuses anything outside `lo..=hi`,
/// including negative numbers and numbers past the type, saying the range.
fn whole<T>((lo, hi): (u64, u64)) -> impl Fn(&str) -> Result<T, String> + Clone + Send + Sync
where
    T: TryFrom<u64> + Clone + Send + Sync + 'static,
{
    move |text: &str| {
        let range = format!("{lo}..={hi}");
        let value: i128 = text
            .trim()
            .parse()
            .map_err(|_| format!("expected a whole number in {range}, got `{text}`"))?;
        if value < i128::from(lo) || value > i128::from(hi) {
            return Err(format!("out of range: expected {range}"));
        }
        T::try_from(value as u64).map_err(|_| format!("out of range: expected {range}"))
    }
}

/// A real-number flag's parser: refuses NaN, infinities and values outside
/// `bounds` (the same ranges ccp.toml's keys have), saying the range.
fn real(bounds: Bounds) -> impl Fn(&str) -> Result<f64, String> + Clone + Send + Sync {
    move |text: &str| {
        let value: f64 = text
            .trim()
            .parse()
            .map_err(|_| format!("expected {}, got `{text}`", bounds.expected()))?;
        bounds.check(value)
    }
}

/// A date flag's parser.
fn date(text: &str) -> Result<snapshot::Date, String> {
    snapshot::Date::parse(text).ok_or_else(|| {
        format!(
            "expected a date YYYY-MM-DD in {}, got `{text}`",
            snapshot::Date::RANGE_TEXT
        )
    })
}

/// `FROM..TO`, two dates in order.
fn date_range(text: &str) -> Result<(snapshot::Date, snapshot::Date), String> {
    let (a, b) = text
        .split_once("..")
        .ok_or_else(|| format!("expected FROM..TO, got `{text}`"))?;
    let (from, to) = (date(a)?, date(b)?);
    if to < from {
        return Err(format!(
            "{to} is before {from}: expected FROM..TO with FROM <= TO"
        ));
    }
    Ok((from, to))
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
    /// Monte Carlo paths, 1000..=100000000000 (ccp.toml's by default).
    #[arg(long, allow_negative_numbers = true, value_parser = whole::<u64>(PATHS))]
    pub paths: Option<u64>,
    /// Seed of the scenarios, any 64-bit unsigned number (ccp.toml's by default).
    #[arg(long)]
    pub seed: Option<u64>,
    /// Margin period of risk in days, in (0, 365].
    #[arg(long, allow_negative_numbers = true, value_parser = real(HORIZON_DAYS))]
    pub horizon_days: Option<f64>,
    /// Confidence of the margin measure, in (0.5, 1) (e.g. 0.99).
    #[arg(long, allow_negative_numbers = true, value_parser = real(CONFIDENCE))]
    pub confidence: Option<f64>,
    /// Worker threads of the CPU backend, 1..=1024 (all cores by default).
    #[arg(long, allow_negative_numbers = true, value_parser = whole::<usize>(THREADS))]
    pub threads: Option<usize>,
    /// Output folder: new, empty, or an earlier unchanged `run` output, which
    /// is replaced in one step (README, "Where results go").
    #[arg(long, default_value = "clearstress-out")]
    pub out: PathBuf,
    /// Stress scenario files or folders, instead of the configured ones.
    #[arg(long, num_args = 1..)]
    pub scenarios: Vec<PathBuf>,
    #[arg(long, value_enum, default_value_t = BackendChoice::Auto)]
    pub backend: BackendChoice,
    /// The GPU to run on, by its number in `clearstress devices` for the
    /// chosen backend (wgpu adapter or CUDA device; the first by default), 0..=63.
    #[arg(long, allow_negative_numbers = true, value_parser = whole::<usize>(ADAPTER))]
    pub adapter: Option<usize>,
    /// Scenarios per streamed block, 64..=1048576 (speed only).
    #[arg(long, allow_negative_numbers = true, value_parser = whole::<usize>(BLOCK_SIZE))]
    pub block_size: Option<usize>,
    /// Filtered historical simulation on this daily-close history (the wide
    /// schema of data/daily_close_usd.csv) instead of Monte Carlo.
    #[arg(long)]
    pub fhs: Option<PathBuf>,
    /// Calendar days of history FHS resamples, ending at the valuation date,
    /// 30..=36500 (ccp.toml's, else 1095, by default).
    #[arg(long, requires = "fhs", allow_negative_numbers = true, value_parser = whole::<u32>(FHS_LOOKBACK_DAYS))]
    pub fhs_lookback_days: Option<u32>,
    /// Apply an EMIR anti-procyclicality tool to the margins: a 25% buffer,
    /// 25% weight on stressed volatilities, or a 10-year volatility floor.
    #[arg(long, value_enum)]
    pub apc: Option<engine::ApcTool>,
    /// The history stressed-weight and floor take their volatilities from
    /// (the --fhs history by default).
    #[arg(long, requires = "apc")]
    pub apc_history: Option<PathBuf>,
    /// Memory (MiB) the members' exact tails may use, 1..=1048576: the run
    /// picks the cheapest layout within it (a longer pilot, or more passes,
    /// where memory is tight).
    #[arg(long, default_value_t = RunLimits::DEFAULT_TAIL_MEMORY_MIB, allow_negative_numbers = true, value_parser = whole::<u64>(MEMORY_LIMIT_MIB))]
    pub memory_limit_mib: u64,
    /// Print only the output folder.
    #[arg(long)]
    pub quiet: bool,
}

#[derive(Debug, Args)]
pub struct InitArgs {
    /// Folder to write: new, empty, or an earlier unchanged `init` output.
    pub dir: PathBuf,
    /// Clearing members, 2..=100000.
    #[arg(long, default_value_t = SampleSpec::default().members, allow_negative_numbers = true, value_parser = whole::<usize>(MEMBERS))]
    pub members: usize,
    /// Assets, 2..=1000: the ten real ones first, then synthetic altcoins.
    #[arg(long, default_value_t = SampleSpec::default().assets, allow_negative_numbers = true, value_parser = whole::<usize>(ASSETS))]
    pub assets: usize,
    /// Option positions across all members, 0..=100000.
    #[arg(long, default_value_t = SampleSpec::default().options, allow_negative_numbers = true, value_parser = whole::<usize>(OPTIONS))]
    pub options: usize,
    /// Seed of the generated book, any 64-bit unsigned number.
    #[arg(long, default_value_t = SampleSpec::default().seed)]
    pub seed: u64,
}

#[derive(Debug, Args)]
pub struct CalibrateArgs {
    /// Daily closes in USD: a `date` column and one column per asset, CSV or
    /// Parquet (the shipped data/daily_close_usd.csv has this form).
    #[arg(long)]
    pub history: PathBuf,
    /// Snapshot folder whose market to calibrate; the embedded sample if absent.
    #[arg(long)]
    pub book: Option<PathBuf>,
    /// Output: the calibrated snapshot folder (`run --book` it) with
    /// calibration.json: new, empty, or an earlier unchanged `calibrate` output.
    #[arg(long, default_value = "clearstress-calibrated")]
    pub out: PathBuf,
    /// Last day of the fit window (YYYY-MM-DD, 1900-01-01..=9999-12-31); the
    /// history's last day by default.
    #[arg(long, value_parser = date)]
    pub as_of: Option<snapshot::Date>,
    /// Calendar days in the fit window, 60..=36500.
    #[arg(long, default_value_t = CalibrationSpec::default().lookback_days, allow_negative_numbers = true, value_parser = whole::<u32>(LOOKBACK_DAYS))]
    pub lookback_days: u32,
    /// EWMA decay, in (0, 1) (RiskMetrics: 0.94).
    #[arg(long, default_value_t = CalibrationSpec::default().lambda, allow_negative_numbers = true, value_parser = real(LAMBDA))]
    pub lambda: f64,
    #[arg(long, value_enum, default_value_t = VolatilityModel::Ewma)]
    pub volatility: VolatilityModel,
    #[arg(long, value_enum, default_value_t = CorrelationModel::Sample)]
    pub correlation: CorrelationModel,
    /// A stress period FROM..TO (YYYY-MM-DD..YYYY-MM-DD, FROM <= TO) for the
    /// stressed correlation, reported beside the chosen one.
    #[arg(long, value_parser = date_range)]
    pub stress_window: Option<(snapshot::Date, snapshot::Date)>,
}

#[derive(Debug, Args)]
pub struct WorstWindowArgs {
    /// Daily closes (the wide schema of data/daily_close_usd.csv) of every
    /// asset the book's positions, options or coin collateral depend on.
    #[arg(long)]
    pub history: PathBuf,
    /// Snapshot folder; the embedded sample if absent (which holds synthetic
    /// assets with no history: give a book of real assets, e.g. `init --assets 10`).
    #[arg(long)]
    pub book: Option<PathBuf>,
    /// Window length in calendar days, 1..=3650.
    #[arg(long, default_value_t = 5, allow_negative_numbers = true, value_parser = whole::<u32>(WINDOW_DAYS))]
    pub days: u32,
    /// How many of the worst windows to list, 1..=1000.
    #[arg(long, default_value_t = 10, allow_negative_numbers = true, value_parser = whole::<usize>(TOP))]
    pub top: usize,
    /// Write the worst window as a stress scenario file (`run --scenarios` takes
    /// it): a new file, or one an earlier `worst-window --out` wrote.
    #[arg(long)]
    pub out: Option<PathBuf>,
}

#[derive(Debug, Args)]
pub struct ProcyclicalityArgs {
    /// Daily closes holding every asset of the book.
    #[arg(long)]
    pub history: PathBuf,
    /// Snapshot folder; the embedded sample if absent.
    #[arg(long)]
    pub book: Option<PathBuf>,
    /// First margin date (YYYY-MM-DD, 1900-01-01..=9999-12-31).
    #[arg(long, value_parser = date)]
    pub from: snapshot::Date,
    /// Last margin date (YYYY-MM-DD, on or after --from).
    #[arg(long, value_parser = date)]
    pub to: snapshot::Date,
    /// Days between margin dates, 1..=3650; at most 5000 dates in all.
    #[arg(long, default_value_t = 7, allow_negative_numbers = true, value_parser = whole::<u32>(WINDOW_DAYS))]
    pub every: u32,
    /// Monte Carlo paths per margin date, 1000..=100000000000.
    #[arg(long, default_value_t = 20_000, allow_negative_numbers = true, value_parser = whole::<u64>(PATHS))]
    pub paths: u64,
    /// Calendar days of the EWMA calibration window, 60..=36500.
    #[arg(long, default_value_t = CalibrationSpec::default().lookback_days, allow_negative_numbers = true, value_parser = whole::<u32>(LOOKBACK_DAYS))]
    pub lookback_days: u32,
    /// APC buffer, in [0, 1] (EMIR: at least 0.25).
    #[arg(long, default_value_t = 0.25, allow_negative_numbers = true, value_parser = real(BUFFER))]
    pub buffer: f64,
    /// APC weight on stressed observations, in [0, 1] (EMIR: at least 0.25).
    #[arg(long, default_value_t = 0.25, allow_negative_numbers = true, value_parser = real(STRESSED_WEIGHT))]
    pub stressed_weight: f64,
    /// Window of the largest-increase measure, in days, 1..=3650.
    #[arg(long, default_value_t = 30, allow_negative_numbers = true, value_parser = whole::<u32>(WINDOW_DAYS))]
    pub window_days: u32,
    /// Output folder (margin_history.parquet, procyclicality.json): new, empty,
    /// or an earlier unchanged `procyclicality` output.
    #[arg(long, default_value = "clearstress-procyclicality")]
    pub out: PathBuf,
}

#[derive(Debug, Args)]
pub struct CompareArgs {
    /// Snapshot folder; the embedded sample if absent.
    #[arg(long)]
    pub book: Option<PathBuf>,
    /// Daily closes for the FHS column (every asset of the book needs one).
    #[arg(long)]
    pub history: Option<PathBuf>,
    /// Monte Carlo paths per model, 1000..=100000000000 (ccp.toml's by default).
    #[arg(long, allow_negative_numbers = true, value_parser = whole::<u64>(PATHS))]
    pub paths: Option<u64>,
    /// Output folder (margins_by_model.parquet): new, empty, or an earlier
    /// unchanged `compare` output.
    #[arg(long, default_value = "clearstress-compare")]
    pub out: PathBuf,
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
    Output(#[from] report::OutputError),
    #[error(transparent)]
    Backend(#[from] crate::backend::BackendError),
    #[error("calibration: {0}")]
    Calibration(#[from] crate::calibrate::CalibrationError),
    #[error(transparent)]
    TooBig(#[from] estimate::TooBig),
    #[error("{0}")]
    Usage(String),
}

/// Runs a parsed command line. Call it before the program starts threads:
/// it may set an environment variable ([`backends::wgpu::quiet_device_select`]).
pub fn execute(cli: Cli, command_line: Vec<String>) -> Result<(), CliError> {
    backends::wgpu::quiet_device_select();
    match cli.command {
        Command::Run(args) => run(args, command_line),
        Command::Init(args) => init(&args),
        Command::Calibrate(args) => calibrate(&args),
        Command::WorstWindow(args) => worst_window(&args),
        Command::Procyclicality(args) => procyclicality(&args),
        Command::Compare(args) => compare(&args),
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
            let oi = snapshot::net_open_interest(&snapshot);
            match oi.largest() {
                None => println!(
                    "net open interest: 0 on all {} instruments",
                    snapshot.instruments.len()
                ),
                Some((i, net)) => println!(
                    "warning: net open interest is not zero on {} of {} instruments (a matched book has \
                     every long facing a short); largest: {} at {net} contracts",
                    oi.unbalanced(),
                    snapshot.instruments.len(),
                    snapshot.instruments[i].id
                ),
            }
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
    let out = report::OutputDir::prepare(&args.out, report::OutputKind::Run)?;
    let mut snapshot = match &args.book {
        Some(dir) => load_book(dir)?,
        None => sample::embedded()?,
    };
    apply_overrides(&mut snapshot, &args)?;
    let scenario = &snapshot.config.scenario;
    if scenario.innovations == snapshot::Innovations::StudentT && scenario.historical.is_none() {
        eprintln!(
            "warning: Student-t innovations have no finite exponential moment: prices are not \
             martingales under them and the Expected Shortfall of books that lose when prices rise \
             does not converge as paths grow (docs/methodology.md, 4.2); the default NIG has neither flaw"
        );
    }
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
    let apc_history = match &args.apc_history {
        Some(path) => Some(snapshot::read_history(path)?.0),
        None => None,
    };
    let apc: Apc<'_> = args
        .apc
        .map(|tool| (tool, apc_history.as_ref().or(snapshot.history.as_ref())));
    let cpu = |threads| -> Result<_, CliError> {
        let backend = CpuBackend::new(threads)?;
        check_workload(&snapshot, 1, Compute::cpu(backend.threads()), limits)?;
        Ok((
            run_on(&backend, &snapshot, limits, &progress, apc)?,
            backend.threads(),
        ))
    };
    let wgpu = |index| -> Result<_, CliError> {
        let backend = WgpuBackend::nth(index)?;
        check_workload(&snapshot, 1, wgpu_compute(&backend), limits)?;
        Ok((
            run_on(&backend, &snapshot, limits, &progress, apc)?,
            rayon::current_num_threads(),
        ))
    };
    let cuda = |backend: CudaBackend| -> Result<_, CliError> {
        check_workload(&snapshot, 1, Compute::Gpu, limits)?;
        Ok((
            run_on(&backend, &snapshot, limits, &progress, apc)?,
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
                Some(gpu) => {
                    check_workload(&snapshot, 1, wgpu_compute(&gpu), limits)?;
                    (
                        run_on(&gpu, &snapshot, limits, &progress, apc)?,
                        rayon::current_num_threads(),
                    )
                }
                None => cpu(args.threads)?,
            },
        },
    };
    bar.finish_and_clear();
    let out = report::write_outputs(
        out,
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

/// A wgpu adapter: a GPU, or a CPU implementation such as lavapipe, which
/// is estimated as the CPU backend on every core (it is no faster: on the
/// development VM, 2026-11-29, the sample's 50,000 paths took 1.1-1.2 s of
/// Monte Carlo on lavapipe against 0.50 s on the CPU backend).
fn wgpu_compute(backend: &WgpuBackend) -> Compute {
    if backend.adapter().is_gpu() {
        Compute::Gpu
    } else {
        Compute::cpu(std::thread::available_parallelism().map_or(1, |n| n.get()))
    }
}

/// Refuses, before any scenario is drawn, `runs` engine runs of `snapshot`
/// that would take more than a day on `compute` or more memory than the
/// machine has ([`estimate`]).
fn check_workload(
    snapshot: &Snapshot,
    runs: u64,
    compute: Compute,
    limits: RunLimits,
) -> Result<estimate::Estimate, CliError> {
    Ok(estimate::Workload::of_runs(snapshot, runs, limits)
        .check(compute, estimate::Machine::this())?)
}

/// The margin dates from `from` to `to`, `every` days apart: refused when
/// `to` is before `from` or there would be more than [`MAX_MARGIN_DATES`].
fn margin_dates(
    from: snapshot::Date,
    to: snapshot::Date,
    every: u32,
) -> Result<Vec<snapshot::Date>, CliError> {
    if to < from {
        return Err(CliError::Usage(format!(
            "--to {to} is before --from {from}"
        )));
    }
    let span = u64::try_from(from.days_until(to)).unwrap_or(0);
    let count = span / u64::from(every) + 1;
    if count > MAX_MARGIN_DATES as u64 {
        return Err(CliError::Usage(format!(
            "--from {from} --to {to} --every {every} makes {count} margin dates, more than the \
             {MAX_MARGIN_DATES} one study sizes: use --every {} or more, or a shorter period",
            span.div_ceil(MAX_MARGIN_DATES as u64 - 1)
        )));
    }
    (0..count)
        .map(|k| {
            from.checked_add_days((k * u64::from(every)) as i64)
                .ok_or_else(|| {
                    CliError::Usage(format!(
                        "--from {from} plus {k} x {every} days leaves {}",
                        snapshot::Date::RANGE_TEXT
                    ))
                })
        })
        .collect()
}

/// An APC tool and the history it draws stressed or floor volatilities from.
type Apc<'a> = Option<(engine::ApcTool, Option<&'a crate::history::PriceHistory>)>;

fn run_on<B: Backend>(
    backend: &B,
    snapshot: &Snapshot,
    limits: RunLimits,
    progress: &dyn Fn(u64),
    apc: Apc<'_>,
) -> Result<engine::RunResult, CliError> {
    let mut result = engine::run(backend, snapshot, limits, progress)?;
    if let Some((tool, history)) = apc {
        engine::apply_apc(backend, snapshot, &mut result, tool, history)?;
    }
    Ok(result)
}

fn apply_overrides(snapshot: &mut Snapshot, args: &RunArgs) -> Result<(), CliError> {
    let config = &mut snapshot.config;
    // The flags' ranges are checked by their parsers.
    if let Some(paths) = args.paths {
        config.scenario.paths = paths;
    }
    if let Some(seed) = args.seed {
        config.scenario.seed = seed;
    }
    if let Some(days) = args.horizon_days {
        config.risk.margin_period_days = days;
    }
    if let Some(c) = args.confidence {
        config.risk.margin_confidence = c;
    }
    if let Some(block) = args.block_size {
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
    if let Some(path) = &args.fhs {
        let (history, source) = snapshot::read_history(path)?;
        // The flag names the history: the book's own FHS settings stay.
        let mut historical = snapshot
            .config
            .scenario
            .historical
            .clone()
            .unwrap_or_default();
        historical.history = path.display().to_string();
        if let Some(days) = args.fhs_lookback_days {
            historical.lookback_days = days;
        }
        snapshot.config.scenario.historical = Some(historical);
        snapshot.history = Some(history);
        snapshot.sources.push(source);
    }
    Ok(())
}

fn calibrate(args: &CalibrateArgs) -> Result<(), CliError> {
    let mut spec = CalibrationSpec {
        as_of: args.as_of,
        lookback_days: args.lookback_days,
        lambda: args.lambda,
        volatility: args.volatility,
        correlation: args.correlation,
        stress_window: args.stress_window,
        fit_garch: true,
        ..CalibrationSpec::default()
    };
    let out = report::OutputDir::prepare(&args.out, report::OutputKind::Calibrate)?;
    let mut snapshot = match &args.book {
        Some(dir) => load_book(dir)?,
        None => sample::embedded()?,
    };
    let history = crate::history::PriceHistory::load(&args.history)?;
    spec.horizon_days = snapshot.config.risk.margin_period_days.round().max(1.0) as u32;
    let report = calibrate_market(&history, &mut snapshot.market, &spec)?;
    // The Monte Carlo model's tails, fitted alongside (the config's own stand
    // where the window has none to fit, or where the fit failed at a bound).
    let scenario = &mut snapshot.config.scenario;
    if let Some(dof) = report
        .tails
        .student_t_dof
        .filter(|_| !report.tails.student_t_at_bound)
    {
        scenario.dof = dof;
    }
    if let Some(shape) = report
        .tails
        .nig_shape
        .filter(|_| !report.tails.nig_at_bound)
    {
        scenario.nig_shape = shape;
    }
    if let Some(jumps) = &report.tails.jumps {
        scenario.jumps = Some(jumps.clone());
    }
    snapshot::write_snapshot(&snapshot, &out.path())?;
    let json = serde_json::to_value(&report)
        .map_err(|e| CliError::Usage(format!("calibration report: {e}")))?;
    report::write_json(&out.path().join("calibration.json"), &json)?;
    let out = out.commit(report::object(serde_json::json!({
        "history": args.history.display().to_string(),
        "book": args.book.as_ref().map(|b| b.display().to_string()),
    })))?;
    print!("{}", calibration_summary(&report));
    println!(
        "\ncalibrated snapshot: {} (run it with `clearstress run --book`)",
        out.display()
    );
    Ok(())
}

/// The terminal view of a calibration: one line per asset, then the correlation.
fn calibration_summary(r: &crate::calibrate::CalibrationReport) -> String {
    use std::fmt::Write;
    let mut out = String::new();
    let _ = writeln!(
        out,
        "calibrated to {} from {} to {} ({:?} volatility)",
        r.history, r.from, r.as_of, r.volatility_model
    );
    let _ = writeln!(
        out,
        "\n{:<8} {:>7} {:>9} {:>9} {:>9} {:>9} {:>8} {:>8} {:>6}  note",
        "asset", "returns", "before", "EWMA", "GARCH", "written", "alpha", "persist", "nu"
    );
    for a in &r.assets {
        let floored = a.floored_from.map_or(String::new(), |v| {
            format!(" fitted {:.2}%, raised to the stablecoin floor", 100.0 * v)
        });
        match &a.garch {
            Ok(g) => {
                let boundary: Vec<String> = g.boundary.iter().map(|b| b.to_string()).collect();
                let _ = writeln!(
                    out,
                    "{:<8} {:>7} {:>8.1}% {:>8.1}% {:>8.1}% {:>8.1}% {:>8.4} {:>8.4} {:>6.2} {}{floored}",
                    a.asset,
                    a.returns,
                    100.0 * a.previous_volatility,
                    100.0 * a.ewma_volatility,
                    100.0 * g.forecast_volatility,
                    100.0 * a.volatility,
                    g.alpha,
                    g.persistence,
                    g.nu,
                    if boundary.is_empty() {
                        String::new()
                    } else {
                        format!(
                            " GARCH on a boundary ({}): no standard errors{}; the forecast is the next day's conditional variance",
                            boundary.join(", "),
                            if g.long_run_volatility.is_none() {
                                ", no long-run volatility"
                            } else {
                                ""
                            }
                        )
                    }
                );
            }
            Err(e) => {
                let _ = writeln!(
                    out,
                    "{:<8} {:>7} {:>8.1}% {:>8.1}% {:>9} {:>8.1}%  GARCH: {e}{floored}",
                    a.asset,
                    a.returns,
                    100.0 * a.previous_volatility,
                    100.0 * a.ewma_volatility,
                    "",
                    100.0 * a.volatility
                );
            }
        }
    }
    if !r.not_in_history.is_empty() {
        let _ = writeln!(
            out,
            "not in the history (unchanged): {}",
            r.not_in_history.join(", ")
        );
    }
    let c = &r.correlation;
    let estimator = serde_json::to_value(c.estimator)
        .ok()
        .and_then(|v| v.as_str().map(str::to_string))
        .unwrap_or_default();
    let days = match c.days_used {
        crate::calibrate::DaysUsed::Pairwise => {
            "each pair over the days both assets have a return,"
        }
        crate::calibrate::DaysUsed::Common => "over the days every asset has a return:",
    };
    let _ = writeln!(
        out,
        "\ncorrelation: {estimator}, {days} {} days {}..{}{}{}{}",
        c.days,
        c.first_used,
        c.last_used,
        if (c.first_used, c.last_used) == (c.from, c.to) {
            String::new()
        } else {
            format!(
                " (window {}..{}: data end or start inside it)",
                c.from, c.to
            )
        },
        c.shrinkage
            .map_or(String::new(), |d| format!(", shrinkage {d:.4}")),
        if r.market_repair_distance > 0.0 {
            format!(
                ", repaired to PSD (Frobenius {:.2e})",
                r.market_repair_distance
            )
        } else {
            String::new()
        }
    );
    if let Some(fewest) = c.short_pairs.iter().min_by_key(|p| p.days) {
        let _ = writeln!(
            out,
            "  {} pairs have fewer days (their data end or start inside the window), fewest {}/{}: {} days {}..{}; calibration.json lists them",
            c.short_pairs.len(),
            fewest.assets[0],
            fewest.assets[1],
            fewest.days,
            fewest.first,
            fewest.last
        );
    }
    let t = &r.tails;
    let _ = writeln!(
        out,
        "tails over {} joint days: Student-t nu = {}; {} jump days beyond {} sd of the market move{}",
        t.days,
        t.student_t_dof.map_or("not fitted".into(), |d| if t.student_t_at_bound {
            format!("{d} (at a bound of the range the model accepts: the maximum may lie beyond it; the fit failed and the book's own dof is kept)")
        } else {
            d.to_string()
        }),
        t.jump_days,
        t.jump_threshold,
        t.jumps.as_ref().map_or(String::new(), |j| format!(
            ": {:.2} a year, mean {:.2} sd, stdev {:.2} sd",
            j.intensity_per_year, j.mean_sigmas, j.stdev_sigmas
        ))
    );
    for span in &t.restricted_by {
        let _ = writeln!(
            out,
            "  the joint days are bounded by {}: usable returns {}..{} only",
            span.asset, span.first, span.last
        );
    }
    if let (Some(shape), Some(nig), Some(student)) = (
        t.nig_shape,
        t.nig_log_likelihood,
        t.student_t_log_likelihood,
    ) {
        let _ = writeln!(
            out,
            "multivariate NIG shape {shape:.3}{}: log-likelihood {nig:.1} against the Student-t's {student:.1} (one parameter each)",
            if t.nig_at_bound { " (at a bound of its range: the fit failed)" } else { "" }
        );
    }
    if !t.candidates.is_empty() {
        let best: Vec<String> = t
            .candidates
            .iter()
            .filter_map(|a| {
                let best = a.fits.iter().min_by(|x, y| x.aic.total_cmp(&y.aic))?;
                let name = serde_json::to_value(best.model).ok()?;
                Some(format!("{} {}", a.asset, name.as_str()?))
            })
            .collect();
        let _ = writeln!(
            out,
            "innovations, best by AIC on each asset's devolatilised daily returns: {} (every fit in calibration.json)",
            best.join(", ")
        );
        let mean_error = |model| {
            let errors: Vec<f64> = t
                .candidates
                .iter()
                .filter_map(|a| a.tail_error.iter().find(|(m, _)| *m == model).map(|e| e.1))
                .collect();
            errors.iter().sum::<f64>() / errors.len().max(1) as f64
        };
        use crate::calibrate::innovations::Candidate;
        let _ = writeln!(
            out,
            "{}-day quantiles, mean distance of the 1% and 99% from the data's (in sd of the sums): Gaussian {:.3}, Student-t {:.3}, NIG {:.3} (QQ tables in calibration.json)",
            t.candidates[0].horizon.horizon_days,
            mean_error(Candidate::Gaussian),
            mean_error(Candidate::StudentT),
            mean_error(Candidate::Nig)
        );
    }
    if let Some(s) = &r.stressed_correlation {
        let k = s.assets.len();
        let mean = |m: &[f64]| {
            let off: f64 = (0..k * k).filter(|i| i / k != i % k).map(|i| m[i]).sum();
            off / (k * (k - 1)).max(1) as f64
        };
        let _ = writeln!(
            out,
            "stressed correlation {}..{} ({} days): mean pairwise {:.3} against {:.3}",
            s.from,
            s.to,
            s.days,
            mean(&s.matrix),
            mean(&c.matrix)
        );
    }
    out
}

fn worst_window(args: &WorstWindowArgs) -> Result<(), CliError> {
    let out = args
        .out
        .as_ref()
        .map(|path| report::OutputFile::prepare(path, report::OutputKind::WorstWindow))
        .transpose()?;
    let snapshot = match &args.book {
        Some(dir) => load_book(dir)?,
        None => sample::embedded()?,
    };
    let history = crate::history::PriceHistory::load(&args.history)?;
    let backend = CpuBackend::new(None)?;
    let worst = engine::worst_windows(&backend, &snapshot, &history, args.days, args.top)?;
    let Some(first) = worst.first() else {
        return Err(CliError::Usage(format!(
            "{}: no {}-day window has a close at both ends for every asset the book depends on",
            history.source, args.days
        )));
    };
    let cover = snapshot.config.default_fund.cover;
    println!(
        "worst {}-day windows of {} for this book, by Cover-{cover} (loss beyond collateral of the {cover} largest groups):",
        args.days, history.source
    );
    println!(
        "\n{:<32} {:>16} {:>16}  groups",
        "window", "Cover-n", "all members"
    );
    for w in &worst {
        let groups: Vec<String> = w
            .groups
            .iter()
            .map(|(g, x)| format!("{g} ({})", report::money(*x)))
            .collect();
        println!(
            "{:<32} {:>16} {:>16}  {}",
            w.scenario.name,
            report::money(w.cover_n),
            report::money(w.uncovered_total),
            groups.join(" + ")
        );
    }
    if let Some(out) = out {
        let text = format!(
            "# The worst {}-day window of {} for this book\n{}",
            args.days,
            history.source,
            crate::scenario::scenario_toml(&first.scenario, &snapshot.market)
        );
        let path = out.write(&text)?;
        println!("\nworst window written to {}", path.display());
    }
    Ok(())
}

fn procyclicality(args: &ProcyclicalityArgs) -> Result<(), CliError> {
    use crate::margin::procyclicality::{buffered, floored, procyclicality, stressed_weighted};
    let dates = margin_dates(args.from, args.to, args.every)?;
    let (from, to) = (args.from, args.to);
    let out = report::OutputDir::prepare(&args.out, report::OutputKind::Procyclicality)?;
    let mut snapshot = match &args.book {
        Some(dir) => load_book(dir)?,
        None => sample::embedded()?,
    };
    snapshot.config.scenario.paths = args.paths;
    let history = crate::history::PriceHistory::load(&args.history)?;
    let backend = CpuBackend::new(None)?;
    // Each date sizes the margin on its market, its stressed and its floor market.
    check_workload(
        &snapshot,
        3 * dates.len() as u64,
        Compute::cpu(backend.threads()),
        RunLimits::default(),
    )?;
    let h = engine::margin_history(&backend, &snapshot, &history, &dates, args.lookback_days)?;
    let series = [
        ("calculated", h.base.clone()),
        ("buffer", buffered(&h.base, args.buffer)),
        (
            "stressed weight",
            stressed_weighted(&h.base, &h.stressed, args.stressed_weight),
        ),
        ("10-year floor", floored(&h.base, &h.floor)),
    ];
    let mut table =
        report::OutputTable::default().text("date", dates.iter().map(|d| d.to_string()).collect());
    for (name, values) in &series {
        table = table.number(&name.replace([' ', '-'], "_"), values.clone());
    }
    table.write_parquet(&out.path().join("margin_history.parquet"))?;
    println!(
        "total initial margin of the book on {} dates {from}..{to}, every {} days:\n",
        dates.len(),
        args.every
    );
    println!(
        "{:<16} {:>14} {:>14} {:>14} {:>15}  largest increase",
        "policy",
        "lowest",
        "highest",
        "peak/trough",
        format!("{}-day rise", args.window_days)
    );
    let mut measures = serde_json::Map::new();
    for (name, values) in &series {
        let low = values.iter().copied().fold(f64::MAX, f64::min);
        let high = values.iter().copied().fold(f64::MIN, f64::max);
        let measured = match procyclicality(&dates, values, args.window_days) {
            Ok(p) => {
                println!(
                    "{:<16} {:>14} {:>14} {:>14.2} {:>14.1}%  {}..{}",
                    name,
                    report::money(low),
                    report::money(high),
                    p.peak_to_trough,
                    100.0 * p.largest_increase,
                    p.increase_from,
                    p.increase_to
                );
                serde_json::to_value(p).unwrap_or_default()
            }
            // Kept in the table and the JSON with the reason, never dropped.
            Err(why) => {
                println!(
                    "{:<16} {:>14} {:>14}  not measured: {why}",
                    name,
                    report::money(low),
                    report::money(high)
                );
                serde_json::json!({ "not_measured": why.to_string() })
            }
        };
        measures.insert(name.to_string(), measured);
    }
    report::write_json(
        &out.path().join("procyclicality.json"),
        &serde_json::Value::Object(measures),
    )?;
    let out = out.commit(report::object(serde_json::json!({
        "history": args.history.display().to_string(),
        "book": args.book.as_ref().map(|b| b.display().to_string()),
        "from": from.to_string(),
        "to": to.to_string(),
        "every_days": args.every,
        "paths": args.paths,
    })))?;
    println!("\nresults: {}", out.display());
    Ok(())
}

fn compare(args: &CompareArgs) -> Result<(), CliError> {
    use snapshot::{Innovations, JumpConfig};
    let out = report::OutputDir::prepare(&args.out, report::OutputKind::Compare)?;
    let mut base = match &args.book {
        Some(dir) => load_book(dir)?,
        None => sample::embedded()?,
    };
    if let Some(paths) = args.paths {
        base.config.scenario.paths = paths;
    }
    let jumps = base.config.scenario.jumps.clone().unwrap_or(JumpConfig {
        intensity_per_year: 3.0,
        mean_sigmas: -2.5,
        stdev_sigmas: 1.5,
    });
    let dof = base.config.scenario.dof;
    let variant = |innovations, jumps: Option<JumpConfig>| {
        let mut s = base.clone();
        s.config.scenario.innovations = innovations;
        s.config.scenario.jumps = jumps;
        s.config.scenario.historical = None;
        s
    };
    let mut models = vec![
        ("gaussian".to_string(), variant(Innovations::Gaussian, None)),
        (
            format!("student_t_{dof}"),
            variant(Innovations::StudentT, None),
        ),
        (
            format!(
                "student_t_{dof}_jumps_{}_per_year",
                jumps.intensity_per_year
            ),
            variant(Innovations::StudentT, Some(jumps.clone())),
        ),
        (
            format!("nig_{}", base.config.scenario.nig_shape),
            variant(Innovations::Nig, None),
        ),
        (
            format!(
                "nig_{}_jumps_{}_per_year",
                base.config.scenario.nig_shape, jumps.intensity_per_year
            ),
            variant(Innovations::Nig, Some(jumps)),
        ),
    ];
    if let Some(path) = &args.history {
        let (history, _) = snapshot::read_history(path)?;
        let mut s = base.clone();
        let mut historical = base.config.scenario.historical.clone().unwrap_or_default();
        historical.history = path.display().to_string();
        s.config.scenario.historical = Some(historical);
        s.history = Some(history);
        models.push(("fhs".into(), s));
    }
    let backend = CpuBackend::new(None)?;
    // The models, and with a history the configured model on the stressed and floor markets.
    let runs = models.len() as u64 + if args.history.is_some() { 3 } else { 0 };
    check_workload(
        &base,
        runs,
        Compute::cpu(backend.threads()),
        RunLimits::default(),
    )?;
    let mut table = report::OutputTable::default().text(
        "member_id",
        base.members.iter().map(|m| m.id.clone()).collect(),
    );
    let mut columns = Vec::new();
    for (name, s) in &models {
        let r = engine::run(&backend, s, RunLimits::default(), &|_| {})?;
        let im: Vec<f64> = r.margins.iter().map(|m| m.initial_margin).collect();
        table = table.number(name, im.clone());
        columns.push((name.clone(), im));
    }
    if let Some(path) = &args.history {
        // EMIR's APC tools on the configured model, at the valuation date,
        // as `run --apc` applies them.
        let (history, _) = snapshot::read_history(path)?;
        let configured = engine::run(&backend, &base, RunLimits::default(), &|_| {})?;
        let margins = |r: &engine::RunResult| -> Vec<f64> {
            r.margins.iter().map(|m| m.initial_margin).collect()
        };
        table = table.number("configured", margins(&configured));
        columns.push(("configured".to_string(), margins(&configured)));
        for (name, tool) in [
            ("apc_buffer_25", engine::ApcTool::Buffer),
            ("apc_stressed_weight_25", engine::ApcTool::StressedWeight),
            ("apc_floor_10y", engine::ApcTool::Floor),
        ] {
            let mut r = configured.clone();
            match engine::apply_apc(&backend, &base, &mut r, tool, Some(&history)) {
                Ok(()) => {
                    table = table.number(name, margins(&r));
                    columns.push((name.to_string(), margins(&r)));
                }
                // Said, and the column left out, rather than a copy of the
                // configured margins under the tool's name.
                Err(e @ engine::RunError::ApcUnderFhs { .. }) => {
                    println!("{name}: not computed: {e}")
                }
                Err(e) => return Err(e.into()),
            }
        }
    }
    table.write_parquet(&out.path().join("margins_by_model.parquet"))?;
    let out = out.commit(report::object(serde_json::json!({
        "book": args.book.as_ref().map(|b| b.display().to_string()),
        "history": args.history.as_ref().map(|h| h.display().to_string()),
        "paths": base.config.scenario.paths,
        "models": columns.iter().map(|(name, _)| name.clone()).collect::<Vec<_>>(),
    })))?;
    println!(
        "initial margin by scenario model, {} paths, {} {:.0}% (members by the first model's margin):\n",
        base.config.scenario.paths,
        match base.config.risk.margin_measure {
            snapshot::MarginMeasure::ValueAtRisk => "VaR",
            snapshot::MarginMeasure::ExpectedShortfall => "ES",
        },
        100.0 * base.config.risk.margin_confidence
    );
    print!("{:<10}", "member");
    for (name, _) in &columns {
        print!(" {name:>24}");
    }
    println!();
    let mut order: Vec<usize> = (0..base.members.len()).collect();
    order.sort_by(|&a, &b| columns[0].1[b].total_cmp(&columns[0].1[a]));
    for &m in order.iter().take(10) {
        print!("{:<10}", base.members[m].id);
        for (_, im) in &columns {
            print!(" {:>24}", report::money(im[m]));
        }
        println!();
    }
    print!("{:<10}", "total");
    for (_, im) in &columns {
        print!(" {:>24}", report::money(im.iter().sum()));
    }
    println!("\n\nresults: {}", out.display());
    Ok(())
}

fn init(args: &InitArgs) -> Result<(), CliError> {
    let out = report::OutputDir::prepare(&args.dir, report::OutputKind::Init)?;
    let spec = SampleSpec {
        members: args.members,
        assets: args.assets,
        options: args.options,
        seed: args.seed,
    };
    let files = sample::generate(&spec)?;
    // Validate before writing: what init writes, run accepts.
    let snapshot = files.load("init")?;
    let written = files.write(&out.path())?;
    out.commit(report::object(serde_json::json!({
        "members": args.members,
        "assets": args.assets,
        "options": args.options,
        "seed": args.seed,
    })))?;
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
