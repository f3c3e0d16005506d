//! The `clearstress` command line: parsing and dispatch only. Each command's
//! module turns its flags into the domain's inputs, runs the engine or an
//! analysis on the chosen backend, and hands the result to the report stage.

mod args;
pub(crate) mod backend;
mod backtest;
mod calibrate;
mod compare;
mod haircuts;
mod init;
mod merge;
mod procyclicality;
mod progress;
mod report;
mod run;
mod settle;
mod validate;
mod worst_window;

use clap::{CommandFactory, Parser, Subcommand};

pub use backend::devices;

use crate::report as reports;
use crate::{analysis, backend as backends, calibrate as calibration, engine, estimate};

#[derive(Debug, Parser)]
#[command(
    name = "clearstress",
    version = crate::VERSION,
    about = "Monte Carlo stress testing for crypto derivatives clearing houses: initial margin and the Cover-2 default fund"
)]
pub struct Cli {
    #[command(subcommand)]
    pub command: Command,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Size every member's initial margin and the default fund (the embedded
    /// sample clearing house unless --book is given).
    Run(run::RunArgs),
    /// Merge the parts of a sharded run (`run --shard`) into the outputs
    /// `run` writes on one machine, bit for bit.
    Merge(merge::MergeArgs),
    /// Write the sample clearing house (or a larger synthetic one) as
    /// editable files.
    Init(init::InitArgs),
    /// Check a snapshot folder without running it.
    Validate(validate::ValidateArgs),
    /// Fit the market's volatilities and correlation to daily price history
    /// and write the calibrated snapshot, with a report of every fit.
    Calibrate(calibrate::CalibrateArgs),
    /// Find the distinct historical windows of a given length that would have
    /// hurt the book most (uncovered loss of the largest groups, as Cover-2 is
    /// sized).
    WorstWindow(worst_window::WorstWindowArgs),
    /// The book's margin through history, with and without EMIR's
    /// anti-procyclicality tools, and how procyclical each series is.
    Procyclicality(procyclicality::ProcyclicalityArgs),
    /// Every member's margin (and generated test portfolios'), sized on each
    /// day with the data up to that day, against the loss its positions
    /// realised over the margin period of risk: exceptions, Kupiec,
    /// Christoffersen, the traffic light, under one or several models.
    Backtest(backtest::BacktestArgs),
    /// Every member's margin under each scenario model side by side:
    /// Gaussian, Student-t, NIG, with and without jumps, and, with a history,
    /// FHS and the configured model under EMIR's APC tools.
    Compare(compare::CompareArgs),
    /// Render a run folder as one self-contained HTML report (provenance,
    /// margin, default fund, the PQD-style table, charts) and the PQD table
    /// as pqd.csv.
    Report(report::ReportArgs),
    /// Settle the clearing day: mark every position to the end-of-day
    /// prices, each member's variation margin (funding included), netted per
    /// settlement asset into one payment with the CCP, and the margin calls
    /// once initial margin is sized at the new prices.
    Settle(settle::SettleArgs),
    /// Calibrate each collateral asset's haircut as a tail measure (ES 99.7%
    /// by default) of its fall in value over the liquidation horizon under
    /// the scenario model, floored at the same measure on the stress
    /// period's volatilities, and compare it with the configured haircut.
    Haircuts(haircuts::HaircutsArgs),
    /// List the compute backends and the GPU adapters found, with their limits.
    Devices,
    /// Print a shell completion script (e.g. `clearstress completions bash >
    /// /etc/bash_completion.d/clearstress`).
    Completions {
        /// The shell the script is for.
        #[arg(value_enum)]
        shell: clap_complete::Shell,
    },
}

/// Any failure of a command, already worded for the user.
#[derive(Debug, thiserror::Error)]
pub enum CliError {
    #[error(transparent)]
    Input(#[from] crate::input::InputError),
    #[error(transparent)]
    Run(#[from] engine::RunError),
    #[error(transparent)]
    Analysis(#[from] analysis::AnalysisError),
    #[error(transparent)]
    Report(#[from] reports::ReportError),
    #[error(transparent)]
    Output(#[from] reports::OutputError),
    #[error(transparent)]
    Backend(#[from] backends::BackendError),
    #[error("calibration: {0}")]
    Calibration(#[from] calibration::CalibrationError),
    #[error(transparent)]
    TooBig(#[from] estimate::TooBig),
    #[error(transparent)]
    Settlement(#[from] crate::settlement::SettlementError),
    #[error(transparent)]
    Shard(#[from] crate::shard::ShardError),
    #[error("{0}")]
    Usage(String),
}

impl Command {
    /// The command's `--threads`, where it takes one.
    fn threads(&self) -> Option<usize> {
        let device = match self {
            Self::Run(a) => &a.compute.device,
            Self::Merge(a) => &a.device,
            Self::WorstWindow(a) => &a.compute.device,
            Self::Procyclicality(a) => &a.compute.device,
            Self::Backtest(a) => &a.compute.device,
            Self::Compare(a) => &a.compute.device,
            Self::Settle(a) => &a.compute.device,
            Self::Haircuts(a) => &a.compute.device,
            _ => return None,
        };
        device.threads
    }
}

/// Runs a parsed command line. Call it before the program starts threads:
/// it may set an environment variable ([`backends::wgpu::quiet_device_select`]).
pub fn execute(cli: Cli, command_line: Vec<String>) -> Result<(), CliError> {
    backends::wgpu::quiet_device_select();
    if let Some(threads) = cli.command.threads() {
        // The steps outside the CPU backend's own pool (the tails'
        // statistics, the merge's fold, a GPU backend's host work) run in
        // rayon's global pool: `--threads` bounds it too, so that a job given
        // T cores of a shared node uses T.
        rayon::ThreadPoolBuilder::new()
            .num_threads(threads)
            .build_global()
            .map_err(|e| CliError::Usage(format!("--threads {threads}: {e}")))?;
    }
    match cli.command {
        Command::Run(args) => run::run(args, command_line),
        Command::Merge(args) => merge::merge(&args, command_line),
        Command::Init(args) => init::init(&args),
        Command::Validate(args) => validate::validate(&args),
        Command::Calibrate(args) => calibrate::calibrate(&args),
        Command::WorstWindow(args) => worst_window::worst_window(&args),
        Command::Procyclicality(args) => procyclicality::procyclicality(&args),
        Command::Backtest(args) => backtest::run(&args),
        Command::Compare(args) => compare::compare(&args),
        Command::Report(args) => report::report(&args, command_line),
        Command::Settle(args) => settle::settle(&args),
        Command::Haircuts(args) => haircuts::haircuts(&args),
        Command::Devices => {
            print!("{}", devices());
            Ok(())
        }
        Command::Completions { shell } => {
            clap_complete::generate(
                shell,
                &mut Cli::command(),
                "clearstress",
                &mut std::io::stdout(),
            );
            Ok(())
        }
    }
}
