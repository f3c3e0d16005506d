//! `clearstress backtest`: every member's margin, sized day by day with the
//! data up to that day, against the loss its positions then realised over
//! the margin period of risk.

use std::path::PathBuf;

use clap::Args;

use super::args::{date, real, whole, BookArg, ComputeArgs, LAMBDA, LOOKBACK_DAYS, PATHS};
use super::backend::{with_runner, Selected};
use super::CliError;
use crate::analysis::backtest::{backtest, summarise, BacktestParams, Portfolios};
use crate::calibrate::CalibrationSpec;
use crate::history::implied_vol::ImpliedVolIndex;
use crate::history::PriceHistory;
use crate::input::Date;
use crate::report;

/// Calendar days one backtest may span: each day is one engine run.
const MAX_DAYS: i64 = 5_000;

/// Z2's simulated paths a day: each day keeps a member x paths block of losses.
const Z2_SIMULATIONS: (u64, u64) = (0, 100_000);

/// `--portfolios`: only the members' current positions for now.
fn portfolios(text: &str) -> Result<Portfolios, String> {
    match text {
        "current" => Ok(Portfolios::Current),
        "test" | "both" => Err(format!(
            "`{text}`: the generated test portfolios are not yet available; use `current` \
             (the members' positions in the snapshot)"
        )),
        _ => Err(format!("expected `current`, got `{text}`")),
    }
}

#[derive(Debug, Args)]
pub struct BacktestArgs {
    /// Daily closes holding every asset the book depends on.
    #[arg(long)]
    pub history: PathBuf,
    #[command(flatten)]
    pub book: BookArg,
    /// First margin date (YYYY-MM-DD, 1900-01-01..=9999-12-31).
    #[arg(long, value_parser = date)]
    pub from: Date,
    /// Last margin date (YYYY-MM-DD, on or after --from; at most 5000 days after it).
    #[arg(long, value_parser = date)]
    pub to: Date,
    /// The portfolios tested: `current`, the members' positions in the
    /// snapshot held constant (generated test portfolios are not yet available).
    #[arg(long, default_value = "current", value_parser = portfolios)]
    pub portfolios: Portfolios,
    /// Monte Carlo paths per margin date, 1000..=100000000000 (the book's by default).
    #[arg(long, allow_negative_numbers = true, value_parser = whole::<u64>(PATHS))]
    pub paths: Option<u64>,
    /// With ES margins, loss paths drawn from each day's model for the
    /// p-value of Acerbi-Székely's Z2, 0..=100000 (0: Z2 without a p-value).
    #[arg(long, default_value_t = 1000, allow_negative_numbers = true, value_parser = whole::<usize>(Z2_SIMULATIONS))]
    pub z2_simulations: usize,
    /// Calendar days of the EWMA calibration window, 60..=36500.
    #[arg(long, default_value_t = CalibrationSpec::default().lookback_days, allow_negative_numbers = true, value_parser = whole::<u32>(LOOKBACK_DAYS))]
    pub lookback_days: u32,
    /// EWMA decay of each day's calibration, in (0, 1) (RiskMetrics: 0.94):
    /// the one the margin model is calibrated with.
    #[arg(long, default_value_t = CalibrationSpec::default().lambda, allow_negative_numbers = true, value_parser = real(LAMBDA))]
    pub lambda: f64,
    /// Implied-vol index levels (`date` and a column per asset id, in vol
    /// points, in (0, 1000]; data/implied_vol_index.csv is BTC's DVOL): each
    /// option underlying with a column has its vols multiplied by the index's
    /// ratio over the MPOR in the realised loss; others keep them.
    #[arg(long, value_name = "FILE")]
    pub implied_vol: Option<PathBuf>,
    /// Output folder (backtest.parquet, backtest_summary.parquet,
    /// backtest.json): new, empty, or an earlier unchanged `backtest` output.
    #[arg(long, default_value = "clearstress-backtest")]
    pub out: PathBuf,
    #[command(flatten)]
    pub compute: ComputeArgs,
}

pub fn run(args: &BacktestArgs) -> Result<(), CliError> {
    if args.to < args.from {
        return Err(CliError::Usage(format!(
            "--to {} is before --from {}",
            args.to, args.from
        )));
    }
    let span = i64::from(args.from.days_until(args.to));
    if span >= MAX_DAYS {
        return Err(CliError::Usage(format!(
            "--from {} --to {} spans {} days, more than the {MAX_DAYS} one backtest sizes: \
             use a shorter period",
            args.from,
            args.to,
            span + 1
        )));
    }
    let implied_vol = args
        .implied_vol
        .as_deref()
        .map(ImpliedVolIndex::load)
        .transpose()?;
    let params = BacktestParams {
        from: args.from,
        to: args.to,
        lookback_days: args.lookback_days,
        lambda: args.lambda,
        portfolios: args.portfolios,
        z2_simulations: args.z2_simulations,
        implied_vol,
    };
    let out = report::OutputDir::prepare(&args.out, report::OutputKind::Backtest)?;
    let mut snapshot = args.book.load()?;
    if let Some(paths) = args.paths {
        snapshot.config.scenario.paths = paths;
    }
    snapshot.config.validate()?;
    let history = PriceHistory::load(&args.history)?;
    let backend = Selected::choose(&args.compute)?;
    // At most one engine run per calendar day of the period.
    let runs = span as u64 + 1;
    backend.check_workload(&snapshot, runs, &args.compute)?;
    let paths = snapshot.config.scenario.paths;
    let result = with_runner!(
        &backend,
        args.compute,
        runs * paths,
        &format!("up to {runs} margin dates"),
        |runner| backtest(&runner, &snapshot, &history, &params)?
    );
    let summary = summarise(&result).map_err(crate::analysis::AnalysisError::from)?;
    report::backtest::write(&out.path(), &result, &summary)?;
    let out = out.commit(report::object(serde_json::json!({
        "history": args.history.display().to_string(),
        "book": args.book.describe(),
        "from": args.from.to_string(),
        "to": args.to.to_string(),
        "portfolios": "current",
        "paths": paths,
        "lookback_days": args.lookback_days,
        "lambda": args.lambda,
        "z2_simulations": args.z2_simulations,
        "implied_vol": args.implied_vol.as_ref().map(|p| p.display().to_string()),
    })))?;
    if args.compute.quiet {
        println!("{}", out.display());
    } else {
        print!("{}", report::backtest::terminal(&result, &summary));
        println!("\nresults: {}", out.display());
    }
    Ok(())
}
