//! `clearstress settle`: the clearing day's variation margin, netting,
//! payments and margin calls.

use std::path::PathBuf;

use clap::Args;

use super::args::{date, date_range, whole, BookArg, ComputeArgs, PATHS};
use super::backend::{with_runner, Selected};
use super::CliError;
use crate::history::PriceHistory;
use crate::input::Date;
use crate::report::{self, settlement::SettlementView};
use crate::settlement;

#[derive(Debug, Args)]
pub struct SettleArgs {
    #[command(flatten)]
    pub book: BookArg,
    /// End-of-day prices: an assets table (the schema of market/assets.csv,
    /// with --date), a snapshot folder (at its valuation date), or a
    /// daily-close history (the wide schema of data/daily_close_usd.csv, with
    /// --date).
    #[arg(long, value_name = "FILE_OR_DIR")]
    pub prices: PathBuf,
    /// The date the prices are for, YYYY-MM-DD in 1900-01-01..=9999-12-31,
    /// on or after the book's valuation date.
    #[arg(long, value_parser = date, conflicts_with = "replay")]
    pub date: Option<Date>,
    /// Replay the current book over the history's days FROM..TO
    /// (YYYY-MM-DD..YYYY-MM-DD; --prices a daily-close history): each day's
    /// one-day moves settled, the average and largest VM paid per day and,
    /// unless --no-margin, the largest aggregate initial-margin call (a
    /// margin run a day).
    #[arg(long, value_parser = date_range, value_name = "FROM..TO")]
    pub replay: Option<(Date, Date)>,
    /// Monte Carlo paths of the margin run on the moved book,
    /// 1000..=100000000000 (ccp.toml's by default).
    #[arg(long, allow_negative_numbers = true, value_parser = whole::<u64>(PATHS))]
    pub paths: Option<u64>,
    /// Variation margin and netting only: no margin run, no margin calls.
    #[arg(long)]
    pub no_margin: bool,
    /// Output folder: new, empty, or an earlier unchanged `settle` output.
    #[arg(long, default_value = "clearstress-settle")]
    pub out: PathBuf,
    #[command(flatten)]
    pub compute: ComputeArgs,
}

pub fn settle(args: &SettleArgs) -> Result<(), CliError> {
    let out = report::OutputDir::prepare(&args.out, report::OutputKind::Settle)?;
    let mut book = args.book.load()?;
    if let Some(paths) = args.paths {
        book.config.scenario.paths = paths;
    }
    book.config.validate()?;
    if let Some((from, to)) = args.replay {
        return replay(args, out, &book, from, to);
    }
    let end = settlement::read_end_of_day(&args.prices, args.date, &book)?;
    let day = settlement::settle(&book, &end)?;
    let calls = if args.no_margin {
        None
    } else {
        let backend = Selected::choose(&args.compute)?;
        backend.check_workload(&book, 1, &args.compute)?;
        Some(with_runner!(
            &backend,
            args.compute,
            book.config.scenario.paths,
            "margins at the end prices",
            |runner| settlement::margin_calls(&runner, &book, &end, &day)?
        ))
    };
    let view = SettlementView {
        book: &book,
        end: &end,
        day: &day,
        calls: calls.as_ref(),
    };
    report::settlement::write(&out.path(), &view)?;
    let out = out.commit(report::object(serde_json::json!({
        "book": args.book.describe(),
        "inputs": report::inputs_json(&book),
        "prices": args.prices.display().to_string(),
        "date": day.end.to_string(),
        "paths": calls.as_ref().map(|c| c.paths),
    })))?;
    if args.compute.quiet {
        println!("{}", out.display());
    } else {
        print!("{}", report::settlement::terminal(&view));
        println!("\nresults: {}", out.display());
    }
    Ok(())
}

/// `settle --replay FROM..TO`: the current book over a history.
fn replay(
    args: &SettleArgs,
    out: report::OutputDir,
    book: &crate::snapshot::Snapshot,
    from: Date,
    to: Date,
) -> Result<(), CliError> {
    let history = PriceHistory::load(&args.prices)?;
    let mut replay = settlement::replay_vm(book, &history, from, to)?;
    if !args.no_margin {
        let backend = Selected::choose(&args.compute)?;
        let runs = replay.days.len();
        backend.check_workload(book, runs as u64, &args.compute)?;
        with_runner!(
            &backend,
            args.compute,
            runs as u64 * book.config.scenario.paths,
            &format!("{runs} daily margin runs"),
            |runner| settlement::replay_im_calls(&runner, book, &history, &mut replay)?
        );
    }
    report::settlement::write_replay(&out.path(), &replay)?;
    let out = out.commit(report::object(serde_json::json!({
        "book": args.book.describe(),
        "inputs": report::inputs_json(book),
        "prices": args.prices.display().to_string(),
        "replay": format!("{from}..{to}"),
        "paths": replay.paths,
    })))?;
    if args.compute.quiet {
        println!("{}", out.display());
    } else {
        print!("{}", report::settlement::replay_terminal(&replay));
        println!("\nresults: {}", out.display());
    }
    Ok(())
}
