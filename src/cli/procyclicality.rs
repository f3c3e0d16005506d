//! `clearstress procyclicality`: the book's margin through history under
//! each of EMIR's anti-procyclicality tools.

use std::path::PathBuf;

use clap::Args;

use super::args::{
    date, real, whole, BookArg, ComputeArgs, StressPeriodArg, LOOKBACK_DAYS, PATHS, SHARE,
    WINDOW_DAYS,
};
use super::backend::{with_runner, Selected};
use super::CliError;
use crate::analysis::margin_history::{margin_history, MarginHistoryParams};
use crate::calibrate::CalibrationSpec;
use crate::history::PriceHistory;
use crate::input::Date;
use crate::report;

/// Margin dates of one study: each is three engine runs.
const MAX_MARGIN_DATES: usize = 5_000;

#[derive(Debug, Args)]
pub struct ProcyclicalityArgs {
    /// Daily closes holding every asset of the book.
    #[arg(long)]
    pub history: PathBuf,
    #[command(flatten)]
    pub book: BookArg,
    /// First margin date (YYYY-MM-DD, 1900-01-01..=9999-12-31).
    #[arg(long, value_parser = date)]
    pub from: Date,
    /// Last margin date (YYYY-MM-DD, on or after --from).
    #[arg(long, value_parser = date)]
    pub to: Date,
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
    #[arg(long, default_value_t = 0.25, allow_negative_numbers = true, value_parser = real(SHARE))]
    pub buffer: f64,
    /// APC weight on stressed observations, in [0, 1] (EMIR: at least 0.25).
    #[arg(long, default_value_t = 0.25, allow_negative_numbers = true, value_parser = real(SHARE))]
    pub stressed_weight: f64,
    #[command(flatten)]
    pub stress_period: StressPeriodArg,
    /// Window of the largest-increase measure, in days, 1..=3650.
    #[arg(long, default_value_t = 30, allow_negative_numbers = true, value_parser = whole::<u32>(WINDOW_DAYS))]
    pub window_days: u32,
    /// Output folder (margin_history.parquet, margin_history_members.parquet,
    /// procyclicality.json): new, empty, or an earlier unchanged
    /// `procyclicality` output.
    #[arg(long, default_value = "clearstress-procyclicality")]
    pub out: PathBuf,
    #[command(flatten)]
    pub compute: ComputeArgs,
}

pub fn procyclicality(args: &ProcyclicalityArgs) -> Result<(), CliError> {
    let params = MarginHistoryParams {
        dates: margin_dates(args.from, args.to, args.every)?,
        lookback_days: args.lookback_days,
        stress: args.stress_period.period(),
        buffer: args.buffer,
        stressed_weight: args.stressed_weight,
        window_days: args.window_days,
    };
    let out = report::OutputDir::prepare(&args.out, report::OutputKind::Procyclicality)?;
    let mut snapshot = args.book.load()?;
    snapshot.config.scenario.paths = args.paths;
    snapshot.config.validate()?;
    let history = PriceHistory::load(&args.history)?;
    let backend = Selected::choose(&args.compute)?.reusing_draws(&args.compute);
    // Each date sizes the margin on its market, its stressed and its floor market.
    let runs = 3 * params.dates.len() as u64;
    backend.check_workload(&snapshot, runs, &args.compute)?;
    let study = with_runner!(
        &backend,
        args.compute,
        runs * args.paths,
        &format!("{} margin dates", params.dates.len()),
        |runner| margin_history(&runner, &snapshot, &history, &params)?
    );
    report::margin_history::write(&out.path(), &study, &params, &snapshot)?;
    let out = out.commit(report::object(serde_json::json!({
        "history": args.history.display().to_string(),
        "book": args.book.describe(),
        "from": args.from.to_string(),
        "to": args.to.to_string(),
        "every_days": args.every,
        "paths": args.paths,
        "stress_period": [params.stress.from.to_string(), params.stress.to.to_string()],
    })))?;
    if args.compute.quiet {
        println!("{}", out.display());
    } else {
        print!(
            "{}",
            report::margin_history::terminal(&study, &params, args.every)
        );
        println!("\nresults: {}", out.display());
    }
    Ok(())
}

/// The margin dates from `from` to `to`, `every` days apart: refused when
/// `to` is before `from` or there would be more than [`MAX_MARGIN_DATES`].
fn margin_dates(from: Date, to: Date, every: u32) -> Result<Vec<Date>, CliError> {
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
                        Date::RANGE_TEXT
                    ))
                })
        })
        .collect()
}
