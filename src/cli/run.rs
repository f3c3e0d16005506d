//! `clearstress run`: margins and the default fund of one book.

use std::path::PathBuf;
use std::time::Duration;

use clap::Args;

use super::args::{
    real, whole, ApcFlag, BookArg, ComputeArgs, StressPeriodArg, BLOCK_SIZE, CONFIDENCE,
    FHS_LOOKBACK_DAYS, HORIZON_DAYS, PATHS,
};
use super::backend::{with_backend, Selected};
use super::{merge, progress, CliError};
use crate::analysis::{apc, Runner};
use crate::engine::{self, Checkpoints};
use crate::input::bounds::{Bounds, End};
use crate::report::{self, RunContext, RunReport};
use crate::shard::{PartHeader, RunIdentity, Shard};
use crate::snapshot::{self, Innovations, Snapshot};

#[derive(Debug, Args)]
pub struct RunArgs {
    #[command(flatten)]
    pub book: BookArg,
    /// Monte Carlo paths, 1000..=100000000000 (ccp.toml's by default).
    #[arg(long, allow_negative_numbers = true, value_parser = whole::<u64>(PATHS))]
    pub paths: Option<u64>,
    /// Seed of the scenarios, any 64-bit unsigned number (ccp.toml's by
    /// default): scenario n is a pure function of (seed, n).
    #[arg(long)]
    pub seed: Option<u64>,
    /// Margin period of risk in days, in (0, 365] (ccp.toml's by default).
    #[arg(long, allow_negative_numbers = true, value_parser = real(HORIZON_DAYS))]
    pub horizon_days: Option<f64>,
    /// Confidence of the margin measure, in (0.5, 1) (e.g. 0.99; ccp.toml's
    /// by default).
    #[arg(long, allow_negative_numbers = true, value_parser = real(CONFIDENCE))]
    pub confidence: Option<f64>,
    /// Output folder: new, empty, or an earlier unchanged `run` output, which
    /// is replaced in one step (README, "Where results go").
    #[arg(long, default_value = "clearstress-out")]
    pub out: PathBuf,
    /// Stress scenario files or folders, instead of the configured ones.
    #[arg(long, num_args = 1..)]
    pub scenarios: Vec<PathBuf>,
    /// Scenarios per streamed block, 64..=1048576 (speed only).
    #[arg(long, allow_negative_numbers = true, value_parser = whole::<usize>(BLOCK_SIZE))]
    pub block_size: Option<usize>,
    /// Filtered historical simulation on this daily-close history (the wide
    /// schema of data/daily_close_usd.csv) instead of Monte Carlo.
    #[arg(long, value_name = "HISTORY")]
    pub fhs: Option<PathBuf>,
    /// Calendar days of history FHS resamples, ending at the valuation date,
    /// 30..=36500 (ccp.toml's, else 1095, by default).
    #[arg(long, requires = "fhs", allow_negative_numbers = true, value_parser = whole::<u32>(FHS_LOOKBACK_DAYS))]
    pub fhs_lookback_days: Option<u32>,
    /// Apply an EMIR anti-procyclicality tool to the margins.
    #[arg(long, value_enum)]
    pub apc: Option<ApcFlag>,
    /// The history stressed-weight and floor take their volatilities from
    /// (the --fhs history by default).
    #[arg(long, requires = "apc", value_name = "HISTORY")]
    pub apc_history: Option<PathBuf>,
    /// Also write report.html and pqd.csv into the output folder, rendered
    /// from the run's own outputs as `clearstress report` renders them.
    #[arg(long)]
    pub report: bool,
    /// Run only shard I of N (0-based) of the scenarios and write its
    /// partial state to part-I-of-N.parquet in --out (an existing folder),
    /// for `clearstress merge`; `auto` reads I and N from a Slurm job array,
    /// `auto/N` reads I from SLURM_ARRAY_TASK_ID, JOB_COMPLETION_INDEX or
    /// AWS_BATCH_JOB_ARRAY_INDEX; `plan` computes only the pilot's windows,
    /// into plan.parquet in --out, for the shards' --plan. Run again after a
    /// kill, a shard resumes from its last checkpoint.
    #[arg(long, value_name = "I/N", conflicts_with_all = ["apc", "report"])]
    pub shard: Option<String>,
    /// With --shard I/N: start from the windows `run --shard plan` wrote to
    /// FILE (its plan.parquet) instead of computing the pilot in each shard.
    #[arg(long, requires = "shard", value_name = "FILE")]
    pub plan: Option<PathBuf>,
    /// With --shard: the second pass a merge asked for, exact tails of these
    /// members (ids, comma-separated), written to second-pass-I-of-N.parquet.
    #[arg(
        long,
        requires = "shard",
        value_delimiter = ',',
        value_name = "MEMBERS"
    )]
    pub second_pass: Vec<String>,
    /// Minutes of streaming between two checkpoints of the partial state,
    /// 0..=1440 (0: none): a shard's go into its part file, a run's into
    /// .NAME.checkpoint.parquet beside --out NAME (removed once the outputs
    /// are written). Run again after a kill, the same command resumes from
    /// the last.
    #[arg(long, default_value_t = 5.0, allow_negative_numbers = true, value_parser = real(CHECKPOINT_MINUTES))]
    pub checkpoint_minutes: f64,
    /// Checkpoint after every B blocks of scenarios instead, 1..=1000000.
    #[arg(long, value_name = "B", conflicts_with = "checkpoint_minutes", allow_negative_numbers = true, value_parser = whole::<u64>(CHECKPOINT_BLOCKS))]
    pub checkpoint_blocks: Option<u64>,
    #[command(flatten)]
    pub stress_period: StressPeriodArg,
    #[command(flatten)]
    pub compute: ComputeArgs,
}

/// Blocks between two checkpoints.
const CHECKPOINT_BLOCKS: (u64, u64) = (1, 1_000_000);
/// Minutes between two checkpoints.
const CHECKPOINT_MINUTES: Bounds = Bounds::new("minutes", End::Closed(0.0), End::Closed(1440.0));

impl RunArgs {
    /// When the run or the shard checkpoints.
    pub(super) fn checkpoints(&self) -> Checkpoints {
        match self.checkpoint_blocks {
            Some(blocks) => Checkpoints::EveryBlocks(blocks),
            None if self.checkpoint_minutes == 0.0 => Checkpoints::Never,
            None => Checkpoints::Every(Duration::from_secs_f64(60.0 * self.checkpoint_minutes)),
        }
    }
}

pub fn run(args: RunArgs, command_line: Vec<String>) -> Result<(), CliError> {
    if let Some(spec) = &args.shard {
        return super::merge::run_shard(&args, spec, command_line);
    }
    let out = report::OutputDir::prepare(&args.out, report::OutputKind::Run)?;
    let snapshot = snapshot_of(&args)?;
    let scenario = &snapshot.config.scenario;
    if scenario.innovations == Innovations::StudentT && scenario.historical.is_none() {
        eprintln!(
            "warning: Student-t innovations have no finite exponential moment: prices are not \
             martingales under them and the Expected Shortfall of books that lose when prices rise \
             does not converge as paths grow (docs/methodology.md, 4.2); the default NIG has neither flaw"
        );
    }
    let apc_history = match &args.apc_history {
        Some(path) => Some(snapshot::read_history(path)?.0),
        None => None,
    };
    let apc_history = apc_history.as_ref().or(snapshot.history.as_ref());
    if let Some(tool) = args.apc {
        apc::check(tool.into(), &snapshot, apc_history)?;
    }
    let backend = Selected::choose(&args.compute)?;
    // The stressed-weight and floor tools each size the margins once more.
    let runs = match args.apc {
        None | Some(ApcFlag::Buffer) => 1,
        Some(_) => 2,
    };
    backend.check_workload(&snapshot, runs, &args.compute)?;
    let bar = progress::scenarios(
        runs * snapshot.config.scenario.paths,
        "margins",
        args.compute.quiet,
    );
    let progress = |n| bar.inc(n);
    let threads = backend.threads();
    let checkpoint = out.beside(".checkpoint.parquet");
    let header = PartHeader {
        shard: Shard { index: 0, count: 1 },
        second_pass: Vec::new(),
        plan: false,
        run: RunIdentity::of(&snapshot, args.compute.memory_limit_mib),
        arguments: command_line.iter().skip(1).cloned().collect(),
        plan_sha256: String::new(),
    };
    drop(merge::claim(&checkpoint)?);
    let resume = merge::checkpoint_of(&checkpoint, &header)?;
    if let Some(part) = &resume {
        bar.inc(part.done);
        if !args.compute.quiet {
            bar.suspend(|| {
                eprintln!(
                    "resuming from {} ({} of {} scenarios streamed)",
                    checkpoint.display(),
                    part.done,
                    part.scenarios.end
                )
            });
        }
    }
    let mut write_checkpoint = merge::checkpoints(&checkpoint, &header);
    let result = with_backend!(&backend, |b| {
        let limits = args.compute.limits();
        let mut result = engine::run_resumable(
            b,
            &snapshot,
            limits,
            resume,
            args.checkpoints(),
            &mut write_checkpoint,
            &progress,
        )?;
        if let Some(tool) = args.apc {
            let runner = Runner {
                backend: b,
                limits,
                progress: &progress,
            };
            apc::apply_apc(
                &runner,
                &snapshot,
                &mut result,
                tool.into(),
                apc_history,
                args.stress_period.period(),
            )?;
        }
        result
    });
    bar.finish_and_clear();
    if let Some(not_stressed) = result.margin.apc.as_ref().map(|a| &a.not_stressed) {
        if !not_stressed.is_empty() && !args.compute.quiet {
            eprintln!(
                "note: too few returns in the stress period to stress {}: they keep today's volatility",
                not_stressed.join(", ")
            );
        }
    }
    let out = report::write_outputs(
        out,
        &snapshot,
        &result,
        &RunContext {
            command_line,
            threads,
            report: if args.report {
                RunReport::HtmlAndPqd
            } else {
                RunReport::None
            },
        },
    )?;
    // The outputs hold what the checkpoint did: it is this run's own.
    if let Err(e) = std::fs::remove_file(&checkpoint) {
        if e.kind() != std::io::ErrorKind::NotFound {
            eprintln!("warning: could not remove {}: {e}", checkpoint.display());
        }
    }
    if args.compute.quiet {
        println!("{}", out.display());
    } else {
        print!("{}", report::terminal_summary(&snapshot, &result));
        println!("\nresults: {}", out.display());
        if args.report {
            println!("report: {}", out.join(report::html::HTML_FILE).display());
        }
    }
    Ok(())
}

/// The snapshot `args` run on: the book with the command line's settings.
pub(super) fn snapshot_of(args: &RunArgs) -> Result<Snapshot, CliError> {
    let mut snapshot = args.book.load()?;
    apply_overrides(&mut snapshot, args)?;
    Ok(snapshot)
}

/// The command line's settings over ccp.toml's, checked again as a whole
/// (each flag's own range is its parser's).
fn apply_overrides(snapshot: &mut Snapshot, args: &RunArgs) -> Result<(), CliError> {
    let config = &mut snapshot.config;
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
        let mut historical = config.scenario.historical.clone().unwrap_or_default();
        historical.history = path.display().to_string();
        if let Some(days) = args.fhs_lookback_days {
            historical.lookback_days = days;
        }
        config.scenario.historical = Some(historical);
        snapshot.history = Some(history);
        snapshot.sources.push(source);
    }
    Ok(snapshot.config.validate()?)
}
