//! `clearstress haircuts`: collateral haircuts calibrated to the scenario
//! model, floored at the stressed period's, against the configured ones.

use std::path::PathBuf;

use clap::{Args, ValueEnum};

use super::args::{
    real, whole, BookArg, ComputeArgs, StressPeriodArg, CONFIDENCE, HORIZON_DAYS, PATHS,
};
use super::backend::{with_runner, Selected};
use super::CliError;
use crate::analysis::haircuts::{self, HaircutParams};
use crate::history::PriceHistory;
use crate::report;
use crate::snapshot::MarginMeasure;

/// The tail measure of the fall in value.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum MeasureFlag {
    /// Value at risk: the fall exceeded with probability 1 - confidence.
    Var,
    /// Expected Shortfall: the average fall beyond the VaR.
    Es,
}

impl From<MeasureFlag> for MarginMeasure {
    fn from(flag: MeasureFlag) -> Self {
        match flag {
            MeasureFlag::Var => Self::ValueAtRisk,
            MeasureFlag::Es => Self::ExpectedShortfall,
        }
    }
}

#[derive(Debug, Args)]
pub struct HaircutsArgs {
    /// Daily closes (the wide schema of data/daily_close_usd.csv) whose
    /// stress-period volatilities set the floor; an asset it lacks keeps
    /// today's volatility there.
    #[arg(long)]
    pub history: PathBuf,
    #[command(flatten)]
    pub book: BookArg,
    /// The tail measure of the fall in value over the horizon.
    #[arg(long, value_enum, default_value_t = MeasureFlag::Es)]
    pub measure: MeasureFlag,
    /// Confidence of the measure, in (0.5, 1).
    #[arg(long, default_value_t = 0.997, allow_negative_numbers = true, value_parser = real(CONFIDENCE))]
    pub confidence: f64,
    /// Liquidation horizon of the collateral in calendar days, in (0, 365].
    #[arg(long, default_value_t = 2.0, allow_negative_numbers = true, value_parser = real(HORIZON_DAYS))]
    pub horizon_days: f64,
    /// Monte Carlo paths, 1000..=100000000000 (ccp.toml's by default).
    #[arg(long, allow_negative_numbers = true, value_parser = whole::<u64>(PATHS))]
    pub paths: Option<u64>,
    /// Seed of the scenarios, any 64-bit unsigned number (ccp.toml's by
    /// default).
    #[arg(long)]
    pub seed: Option<u64>,
    #[command(flatten)]
    pub stress_period: StressPeriodArg,
    /// Output folder (haircuts.parquet, summary.json): new, empty, or an
    /// earlier unchanged `haircuts` output.
    #[arg(long, default_value = "clearstress-haircuts")]
    pub out: PathBuf,
    #[command(flatten)]
    pub compute: ComputeArgs,
}

pub fn haircuts(args: &HaircutsArgs) -> Result<(), CliError> {
    let out = report::OutputDir::prepare(&args.out, report::OutputKind::Haircuts)?;
    let mut snapshot = args.book.load()?;
    if let Some(paths) = args.paths {
        snapshot.config.scenario.paths = paths;
    }
    if let Some(seed) = args.seed {
        snapshot.config.scenario.seed = seed;
    }
    snapshot.config.validate()?;
    let params = HaircutParams {
        measure: args.measure.into(),
        confidence: args.confidence,
        horizon_days: args.horizon_days,
        stress: args.stress_period.period(),
    };
    let history = PriceHistory::load(&args.history)?;
    let backend = Selected::choose(&args.compute)?;
    let book = haircuts::collateral_book(&snapshot, &snapshot.market, &params);
    backend.check_workload(&book, haircuts::RUNS, &args.compute)?;
    let schedule = with_runner!(
        &backend,
        args.compute,
        haircuts::RUNS * snapshot.config.scenario.paths,
        "today's and the stressed market",
        |runner| haircuts::haircuts(&runner, &snapshot, &history, &params)?
    );
    report::haircuts::write(&out.path(), &schedule, &snapshot)?;
    let out = out.commit(report::object(serde_json::json!({
        "book": args.book.describe(),
        "inputs": report::inputs_json(&snapshot),
        "history": args.history.display().to_string(),
        "paths": schedule.paths,
        "seed": schedule.seed,
    })))?;
    if args.compute.quiet {
        println!("{}", out.display());
    } else {
        print!("{}", report::haircuts::terminal(&schedule, &snapshot));
        println!("\nresults: {}", out.display());
    }
    Ok(())
}
