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
    /// Output folder (report.html, pqd.csv): new, empty, or an earlier
    /// unchanged `report` output.
    #[arg(long, default_value = "clearstress-report")]
    pub out: PathBuf,
    /// Print only the output's location.
    #[arg(long)]
    pub quiet: bool,
}

pub fn report(args: &ReportArgs, command_line: Vec<String>) -> Result<(), CliError> {
    let out = report::OutputDir::prepare(&args.out, report::OutputKind::Report)?;
    let run = html::RunFolder::open(&args.run_dir).map_err(report::ReportError::from)?;
    let backtest = args
        .backtest
        .as_deref()
        .map(|dir| html::BacktestFolder::open(dir, &run))
        .transpose()
        .map_err(report::ReportError::from)?;
    if let Some(warning) = backtest.as_ref().and_then(|b| b.same_book.warning()) {
        eprintln!("warning: {warning}");
    }
    let history = open(args.history_run.as_deref(), html::HistoryFolder::open)?;
    let out = html::write_report(
        out,
        &run,
        backtest.as_ref(),
        history.as_ref(),
        &command_line,
    )?;
    if args.quiet {
        println!("{}", out.display());
    } else {
        println!("report: {}", out.join(html::HTML_FILE).display());
        println!("PQD table: {}", out.join(html::PQD_FILE).display());
    }
    Ok(())
}

/// The folder at `dir`, if given, opened (and checked) by `open`.
fn open<T>(
    dir: Option<&Path>,
    open: fn(&Path) -> Result<T, html::RunFolderError>,
) -> Result<Option<T>, report::ReportError> {
    Ok(dir.map(open).transpose()?)
}
