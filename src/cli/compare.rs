//! `clearstress compare`: every member's margin under each scenario model.

use std::path::PathBuf;

use clap::Args;

use super::args::{whole, BookArg, ComputeArgs, StressPeriodArg, PATHS};
use super::backend::{with_runner, Selected};
use super::CliError;
use crate::analysis::compare;
use crate::report;
use crate::snapshot;

#[derive(Debug, Args)]
pub struct CompareArgs {
    #[command(flatten)]
    pub book: BookArg,
    /// Daily closes for the FHS column and the APC columns (every asset of the
    /// book needs one).
    #[arg(long)]
    pub history: Option<PathBuf>,
    /// Monte Carlo paths per model, 1000..=100000000000 (ccp.toml's by default).
    #[arg(long, allow_negative_numbers = true, value_parser = whole::<u64>(PATHS))]
    pub paths: Option<u64>,
    #[command(flatten)]
    pub stress_period: StressPeriodArg,
    /// Output folder (margins_by_model.parquet): new, empty, or an earlier
    /// unchanged `compare` output.
    #[arg(long, default_value = "clearstress-compare")]
    pub out: PathBuf,
    #[command(flatten)]
    pub compute: ComputeArgs,
}

pub fn compare(args: &CompareArgs) -> Result<(), CliError> {
    let out = report::OutputDir::prepare(&args.out, report::OutputKind::Compare)?;
    let mut base = args.book.load()?;
    if let Some(paths) = args.paths {
        base.config.scenario.paths = paths;
    }
    base.config.validate()?;
    let history = match &args.history {
        Some(path) => Some((path.display().to_string(), snapshot::read_history(path)?.0)),
        None => None,
    };
    let history = history.as_ref().map(|(p, h)| (p.as_str(), h));
    let backend = Selected::choose(&args.compute)?;
    let runs = compare::runs(&base, history);
    backend.check_workload(&base, runs, &args.compute)?;
    let comparison = with_runner!(
        &backend,
        args.compute,
        runs * base.config.scenario.paths,
        &format!("{runs} model runs"),
        |runner| compare::compare(&runner, &base, history, args.stress_period.period())?
    );
    report::compare::write(&out.path(), &comparison, &base)?;
    let out = out.commit(report::object(serde_json::json!({
        "book": args.book.describe(),
        "history": args.history.as_ref().map(|h| h.display().to_string()),
        "paths": base.config.scenario.paths,
        "models": comparison.models.iter().map(|m| m.name.clone()).collect::<Vec<_>>(),
    })))?;
    if args.compute.quiet {
        println!("{}", out.display());
    } else {
        print!("{}", report::compare::terminal(&comparison, &base));
        println!("\nresults: {}", out.display());
    }
    Ok(())
}
