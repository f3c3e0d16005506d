//! `clearstress backtest`: every member's margin, sized day by day with the
//! data up to that day, against the loss its positions then realised over
//! the margin period of risk.

use std::path::PathBuf;

use clap::Args;

use super::args::{
    date, real, whole, BookArg, ComputeArgs, StressPeriodArg, LAMBDA, LOOKBACK_DAYS, PATHS,
};
use super::backend::{with_runner, Selected};
use super::CliError;
use crate::analysis::backtest::{
    backtest_models, summarise, tested_book, BacktestModel, BacktestParams, ModelSet, Portfolios,
};
use crate::calibrate::CalibrationSpec;
use crate::history::implied_vol::ImpliedVolIndex;
use crate::history::PriceHistory;
use crate::input::Date;
use crate::report;

/// Calendar days one backtest may span: each day is one engine run.
const MAX_DAYS: i64 = 5_000;

/// Z2's simulated paths a day: each day keeps a member x paths block of losses.
const Z2_SIMULATIONS: (u64, u64) = (0, 100_000);

/// `--portfolios`.
fn portfolios(text: &str) -> Result<Portfolios, String> {
    match text {
        "current" => Ok(Portfolios::Current),
        "test" => Ok(Portfolios::Test),
        "both" => Ok(Portfolios::Both),
        _ => Err(format!(
            "expected `current`, `test` or `both`, got `{text}`"
        )),
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
    /// snapshot held constant (by member and affiliate group, with and without
    /// collateral); `test`, portfolios generated from the book's instruments
    /// (long and short each asset, calendar and cross-asset spreads, straddle,
    /// risk reversal, short wings, 1,000,000 USD notional a leg); `both`.
    #[arg(long, default_value = "current", value_parser = portfolios)]
    pub portfolios: Portfolios,
    /// A margin model to backtest, repeatable (all on the same days and
    /// portfolios, compared in one table): SCENARIOS[+CORRELATION][+APC], with
    /// SCENARIOS configured (the book's own, the default), gaussian,
    /// student_t, student_t_jumps, nig, nig_jumps or fhs (compare's columns);
    /// CORRELATION corr_sample (the default), corr_ewma, corr_ledoit_wolf or
    /// corr_stressed (over --stress-period); APC apc_buffer,
    /// apc_stressed_weight or apc_floor. E.g. --model configured --model
    /// student_t+corr_ledoit_wolf+apc_floor.
    #[arg(long = "model", value_name = "MODEL", value_parser = BacktestModel::parse)]
    pub models: Vec<BacktestModel>,
    #[command(flatten)]
    pub stress_period: StressPeriodArg,
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
    let mut models = args.models.clone();
    if models.is_empty() {
        models.push(BacktestModel::CONFIGURED);
    }
    if let Some(twice) = models
        .iter()
        .enumerate()
        .find(|(i, m)| models[..*i].contains(m))
    {
        return Err(CliError::Usage(format!(
            "--model {} is given twice: each model is backtested once",
            twice.1.name()
        )));
    }
    let set = ModelSet {
        models,
        stress: args.stress_period.period(),
        history_path: args.history.display().to_string(),
    };
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
    let backend = Selected::choose(&args.compute)?.reusing_draws(&args.compute);
    // At most one engine run per calendar day of the period and model (two
    // with the stressed-weight or floor tool), on the book holding the
    // generated portfolios too.
    let runs = (span as u64 + 1) * set.runs_per_day();
    backend.check_workload(
        &tested_book(&snapshot, args.portfolios).0,
        runs,
        &args.compute,
    )?;
    let paths = snapshot.config.scenario.paths;
    let result = with_runner!(
        &backend,
        args.compute,
        runs * paths,
        &format!("up to {runs} engine runs"),
        |runner| backtest_models(&runner, &snapshot, &history, &params, &set)?
    );
    let mut results = Vec::with_capacity(result.len());
    for b in result {
        let summary = summarise(&b).map_err(crate::analysis::AnalysisError::from)?;
        results.push((b, summary));
    }
    report::backtest::write(&out.path(), &results)?;
    let out = out.commit(report::object(serde_json::json!({
        "history": args.history.display().to_string(),
        "book": args.book.describe(),
        "inputs": report::inputs_json(&snapshot),
        "from": args.from.to_string(),
        "to": args.to.to_string(),
        "portfolios": args.portfolios.id(),
        "models": set.models.iter().map(BacktestModel::name).collect::<Vec<_>>(),
        "stress_period": set.stress,
        "paths": paths,
        "lookback_days": args.lookback_days,
        "lambda": args.lambda,
        "z2_simulations": args.z2_simulations,
        "implied_vol": args.implied_vol.as_ref().map(|p| p.display().to_string()),
    })))?;
    if args.compute.quiet {
        println!("{}", out.display());
    } else {
        print!("{}", report::backtest::terminal(&results, colour()));
        println!("\nresults: {}", out.display());
    }
    Ok(())
}

/// Whether the terminal table may colour the traffic light: stdout is a
/// terminal that is not `dumb`, and `NO_COLOR` (no-color.org) is not set.
fn colour() -> bool {
    use std::io::IsTerminal;
    std::io::stdout().is_terminal()
        && std::env::var_os("NO_COLOR").is_none_or(|v| v.is_empty())
        && std::env::var("TERM").map_or(true, |t| t != "dumb")
}
