//! Flag parsers and the argument groups several commands share.
//!
//! The range of every numeric flag is one rule wherever the flag appears,
//! shown in its help and in the error that refuses it; real-valued flags use
//! the ranges ccp.toml's keys have ([`bounds`]). Upper bounds keep each value
//! where the arithmetic and allocations it drives stay sound and finite.

use std::path::PathBuf;

use clap::{Args, ValueEnum};

use super::CliError;
use crate::engine::RunLimits;
use crate::input::bounds::{self, Bounds, End};
use crate::input::Date;
use crate::sample;
use crate::snapshot::{self, Snapshot};

/// Monte Carlo paths: the range ccp.toml's `scenario.paths` has.
pub const PATHS: (u64, u64) = (bounds::MIN_PATHS, bounds::MAX_PATHS);
/// Rayon threads: past a thousand, creating them is the work.
pub const THREADS: (u64, u64) = (1, 1024);
pub const ADAPTER: (u64, u64) = (0, 63);
pub const BLOCK_SIZE: (u64, u64) = (64, 1 << 20);
/// 1 TiB at most, so that the limit in bytes (MiB << 20) cannot overflow.
pub const MEMORY_LIMIT_MIB: (u64, u64) = (1, 1 << 20);
/// init's book: the generator's member loop and its option placement (a
/// linear scan of the members per option) stay within seconds, and the
/// correlation matrix (assets^2) within megabytes.
pub const MEMBERS: (u64, u64) = (2, 100_000);
pub const ASSETS: (u64, u64) = (2, 1_000);
pub const OPTIONS: (u64, u64) = (0, 100_000);
/// Listed option series: one strike per underlying and expiry at least, and
/// a strike grid far finer than any venue's at most.
pub const OPTION_SERIES: (u64, u64) = (4, 20_000);
/// Calibration windows: two months of returns at least; a century at most.
pub const LOOKBACK_DAYS: (u64, u64) = (60, 36_500);
pub const FHS_LOOKBACK_DAYS: (u64, u64) = (
    *crate::history::FHS_LOOKBACK_DAYS.start() as u64,
    *crate::history::FHS_LOOKBACK_DAYS.end() as u64,
);
/// Window lengths and date steps, in calendar days: up to ten years.
pub const WINDOW_DAYS: (u64, u64) = (1, 3_650);
pub const TOP: (u64, u64) = (1, 1_000);

pub const HORIZON_DAYS: Bounds = bounds::MARGIN_PERIOD_DAYS;
pub const CONFIDENCE: Bounds = bounds::CONFIDENCE;
pub const LAMBDA: Bounds = bounds::EWMA_LAMBDA;
pub const SHARE: Bounds = Bounds::new("a share", End::Closed(0.0), End::Closed(1.0));

/// A whole-number flag's parser: refuses anything outside `lo..=hi`,
/// including negative numbers and numbers past the type, saying the range.
pub fn whole<T>((lo, hi): (u64, u64)) -> impl Fn(&str) -> Result<T, String> + Clone + Send + Sync
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
/// `bounds`, saying the range.
pub fn real(bounds: Bounds) -> impl Fn(&str) -> Result<f64, String> + Clone + Send + Sync {
    move |text: &str| {
        let value: f64 = text
            .trim()
            .parse()
            .map_err(|_| format!("expected {}, got `{text}`", bounds.expected()))?;
        bounds.check(value)
    }
}

/// A date flag's parser.
pub fn date(text: &str) -> Result<Date, String> {
    Date::parse(text).ok_or_else(|| {
        format!(
            "expected a date YYYY-MM-DD in {}, got `{text}`",
            Date::RANGE_TEXT
        )
    })
}

/// `FROM..TO`, two dates in order.
pub fn date_range(text: &str) -> Result<(Date, Date), String> {
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

/// The book a command reads.
#[derive(Debug, Args)]
pub struct BookArg {
    /// Snapshot folder (README, "The snapshot folder"); the embedded sample
    /// clearing house if absent.
    #[arg(long, value_name = "DIR")]
    pub book: Option<PathBuf>,
}

impl BookArg {
    /// The user's snapshot (with the built-in stress scenarios if it names
    /// none), or the embedded sample.
    pub fn load(&self) -> Result<Snapshot, CliError> {
        match &self.book {
            Some(dir) => load_book(dir),
            None => Ok(sample::embedded()?),
        }
    }

    /// How the manifest names it.
    pub fn describe(&self) -> Option<String> {
        self.book.as_ref().map(|b| b.display().to_string())
    }
}

/// A user's snapshot, with the built-in stress scenarios if it names none.
pub fn load_book(dir: &std::path::Path) -> Result<Snapshot, CliError> {
    let mut snapshot = snapshot::load(dir)?;
    if snapshot.stress.is_empty() {
        snapshot.stress = sample::embedded_stress(&snapshot.market)?;
    }
    Ok(snapshot)
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

/// Where and within what limits a command draws its scenarios.
#[derive(Debug, Args)]
pub struct ComputeArgs {
    #[command(flatten)]
    pub device: DeviceArgs,
    /// Memory (MiB) the members' exact tails may use, 1..=1048576: a run
    /// picks the cheapest layout within it (a longer pilot, or more passes,
    /// where memory is tight). An analysis over many days on the CPU may keep
    /// as much again of scenario draws it reuses from day to day.
    #[arg(long, default_value_t = RunLimits::DEFAULT_TAIL_MEMORY_MIB, allow_negative_numbers = true, value_parser = whole::<u64>(MEMORY_LIMIT_MIB))]
    pub memory_limit_mib: u64,
    /// No progress bar; print only the output's location.
    #[arg(long)]
    pub quiet: bool,
}

/// Where a command draws and revalues scenarios.
#[derive(Debug, Args)]
pub struct DeviceArgs {
    /// Where scenarios are drawn and revalued: every backend gives the same
    /// results (README, "Backends").
    #[arg(long, value_enum, default_value_t = BackendChoice::Auto)]
    pub backend: BackendChoice,
    /// The GPU to run on, by its number in `clearstress devices` for the
    /// chosen backend (wgpu adapter or CUDA device; the first by default), 0..=63.
    #[arg(long, allow_negative_numbers = true, value_parser = whole::<usize>(ADAPTER))]
    pub adapter: Option<usize>,
    /// Threads the command computes on, 1..=1024 (all cores by default):
    /// the CPU backend's workers, and every other parallel step's.
    #[arg(long, allow_negative_numbers = true, value_parser = whole::<usize>(THREADS))]
    pub threads: Option<usize>,
}

impl ComputeArgs {
    pub fn limits(&self) -> RunLimits {
        RunLimits {
            tail_memory_bytes: self.memory_limit_mib << 20,
        }
    }
}

/// EMIR's anti-procyclicality tools (RTS 153/2013 Art. 28), as flags.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum ApcFlag {
    /// Collect 25% above the calculated margin (the buffer a rise may use up).
    Buffer,
    /// 75% the calculated margin, 25% the margin under stressed volatilities.
    StressedWeight,
    /// No less than the margin under the 10-year volatility.
    Floor,
}

impl From<ApcFlag> for crate::margin::procyclicality::ApcTool {
    fn from(flag: ApcFlag) -> Self {
        match flag {
            ApcFlag::Buffer => Self::Buffer,
            ApcFlag::StressedWeight => Self::StressedWeight,
            ApcFlag::Floor => Self::Floor,
        }
    }
}

/// The stress period of the stressed-weight tool.
#[derive(Debug, Args)]
pub struct StressPeriodArg {
    /// The stress period FROM..TO (YYYY-MM-DD..YYYY-MM-DD) whose realised
    /// volatilities the stressed-weight tool and the haircuts' floor use
    /// (docs/methodology.md, 12.1); 2022-01-01..2022-12-31 by default.
    #[arg(long, value_parser = date_range, value_name = "FROM..TO")]
    pub stress_period: Option<(Date, Date)>,
}

impl StressPeriodArg {
    pub fn period(&self) -> crate::analysis::apc::StressPeriod {
        match self.stress_period {
            Some((from, to)) => crate::analysis::apc::StressPeriod { from, to },
            None => Default::default(),
        }
    }
}
