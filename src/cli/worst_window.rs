//! `clearstress worst-window`: the book's worst distinct historical windows.

use std::path::PathBuf;

use clap::Args;

use super::args::{whole, BookArg, ComputeArgs, TOP, WINDOW_DAYS};
use super::backend::{with_backend, Selected};
use super::CliError;
use crate::analysis::{worst_window, Runner};
use crate::history::PriceHistory;
use crate::report;

#[derive(Debug, Args)]
pub struct WorstWindowArgs {
    /// Daily closes (the wide schema of data/daily_close_usd.csv) of every
    /// asset the book's positions, options or coin collateral depend on.
    #[arg(long)]
    pub history: PathBuf,
    #[command(flatten)]
    pub book: BookArg,
    /// Window length in calendar days, 1..=3650.
    #[arg(long, default_value_t = 5, allow_negative_numbers = true, value_parser = whole::<u32>(WINDOW_DAYS))]
    pub days: u32,
    /// How many of the worst distinct (non-overlapping) windows to list, 1..=1000.
    #[arg(long, default_value_t = 10, allow_negative_numbers = true, value_parser = whole::<usize>(TOP))]
    pub top: usize,
    /// Write the worst window as a stress scenario file (`run --scenarios` takes
    /// it): a new file, or one an earlier `worst-window --out` wrote.
    #[arg(long)]
    pub out: Option<PathBuf>,
    #[command(flatten)]
    pub compute: ComputeArgs,
}

pub fn worst_window(args: &WorstWindowArgs) -> Result<(), CliError> {
    let out = args
        .out
        .as_ref()
        .map(|path| report::OutputFile::prepare(path, report::OutputKind::WorstWindow))
        .transpose()?;
    let snapshot = args.book.load()?;
    let history = PriceHistory::load(&args.history)?;
    let backend = Selected::choose(&args.compute)?;
    let worst = with_backend!(&backend, |b| {
        let runner = Runner {
            backend: b,
            limits: args.compute.limits(),
            progress: &|_| {},
        };
        worst_window::worst_windows(&runner, &snapshot, &history, args.days, args.top)?
    });
    let quiet = args.compute.quiet;
    if !quiet {
        print!("{}", report::worst_window::terminal(&worst));
    }
    if let (Some(out), Some(text)) = (
        out,
        report::worst_window::scenario_file(&worst, &snapshot.market),
    ) {
        let path = out.write(&text)?;
        if quiet {
            println!("{}", path.display());
        } else {
            println!("\nworst window written to {}", path.display());
        }
    }
    Ok(())
}
