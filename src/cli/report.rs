//! `clearstress report`: a run folder's outputs as one self-contained HTML
//! report and the PQD-style table as CSV.

use std::path::{Path, PathBuf};

use clap::Args;

use super::CliError;
use crate::report::{self, html};

#[derive(Debug, Args)]
pub struct ReportArgs {
    /// A folder `clearstress run --out` wrote; its files are checked against
    /// its manifest.json before anything is read.
    #[arg(value_name = "RUN_DIR")]
    pub run_dir: PathBuf,
    /// A folder `clearstress backtest --out` wrote: fills PQD 6.5 and adds a
    /// backtesting section; checked against its manifest.json first.
    #[arg(long, value_name = "BACKTEST_DIR")]
    pub backtest: Option<PathBuf>,
    /// A folder `clearstress procyclicality --out` wrote: adds the margin
    /// through history section; checked against its manifest.json first.
    #[arg(long, value_name = "HISTORY_DIR")]
    pub history_run: Option<PathBuf>,
    /// A folder `clearstress settle --out` wrote, of the run's book: adds
    /// the clearing day section; a replay (`settle --replay`) fills PQD 6.6
    /// to 6.8. Repeatable: at most one day's settlement and one replay.
    #[arg(long, value_name = "SETTLE_DIR")]
    pub settlement: Vec<PathBuf>,
    /// A folder `clearstress haircuts --out` wrote, of the run's book: adds
    /// the calibrated haircut schedule to the collateral section and fills
    /// PQD 5.3.
    #[arg(long, value_name = "HAIRCUTS_DIR")]
    pub haircuts: Option<PathBuf>,
    /// Where to write: a path ending in `.html` is the report file itself,
    /// with its PQD table beside it as `NAME.pqd.csv` (each new or an
    /// earlier clearstress report's, in an existing folder that is not a
    /// clearstress output); any other path is a folder for report.html,
    /// pqd.csv and manifest.json (new, empty, or an earlier unchanged
    /// `report` output).
    #[arg(
        long,
        value_name = "FILE.html|DIR",
        default_value = "clearstress-report"
    )]
    pub out: PathBuf,
    /// Print only the output's location.
    #[arg(long)]
    pub quiet: bool,
}

pub fn report(args: &ReportArgs, command_line: Vec<String>) -> Result<(), CliError> {
    let out = html::ReportOutput::prepare(&args.out)?;
    let run = html::RunFolder::open(&args.run_dir).map_err(report::ReportError::from)?;
    let backtest = open(args.backtest.as_deref(), |dir| {
        html::BacktestFolder::open(dir, &run)
    })?;
    if let Some(warning) = backtest.as_ref().and_then(|b| b.same_book.warning()) {
        eprintln!("warning: {warning}");
    }
    let history = open(args.history_run.as_deref(), html::HistoryFolder::open)?;
    let settlement =
        html::SettlementFolders::open(&args.settlement, &run).map_err(report::ReportError::from)?;
    let haircuts = open(args.haircuts.as_deref(), |dir| {
        html::HaircutsFolder::open(dir, &run)
    })?;
    let with = html::Companions {
        backtest: backtest.as_ref(),
        history: history.as_ref(),
        settlement: Some(&settlement),
        haircuts: haircuts.as_ref(),
    };
    let written = html::write_report(out, &run, &with, &command_line)?;
    if args.quiet {
        println!("{}", written.location.display());
    } else {
        println!("report: {}", written.html.display());
        println!("PQD table: {}", written.pqd.display());
    }
    Ok(())
}

/// The folder at `dir`, if given, opened (and checked) by `open`.
fn open<T>(
    dir: Option<&Path>,
    open: impl FnOnce(&Path) -> Result<T, html::RunFolderError>,
) -> Result<Option<T>, report::ReportError> {
    Ok(dir.map(open).transpose()?)
}
