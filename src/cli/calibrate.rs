//! `clearstress calibrate`: the market fitted to a price history, written as
//! a snapshot `run` takes, with every fit in calibration.json.

use std::path::PathBuf;

use clap::Args;

use super::args::{date, date_range, real, whole, BookArg, LAMBDA, LOOKBACK_DAYS};
use super::{progress, CliError};
use crate::calibrate::{calibrate_market, CalibrationSpec, CorrelationModel, VolatilityModel};
use crate::history::PriceHistory;
use crate::input::Date;
use crate::report;
use crate::snapshot;

#[derive(Debug, Args)]
pub struct CalibrateArgs {
    /// Daily closes in USD: a `date` column and one column per asset, CSV or
    /// Parquet (the shipped data/daily_close_usd.csv has this form).
    #[arg(long)]
    pub history: PathBuf,
    #[command(flatten)]
    pub book: BookArg,
    /// Output: the calibrated snapshot folder (`run --book` it) with
    /// calibration.json: new, empty, or an earlier unchanged `calibrate` output.
    #[arg(long, default_value = "clearstress-calibrated")]
    pub out: PathBuf,
    /// Last day of the fit window (YYYY-MM-DD, 1900-01-01..=9999-12-31); the
    /// history's last day by default.
    #[arg(long, value_parser = date)]
    pub as_of: Option<Date>,
    /// Calendar days in the fit window, 60..=36500.
    #[arg(long, default_value_t = CalibrationSpec::default().lookback_days, allow_negative_numbers = true, value_parser = whole::<u32>(LOOKBACK_DAYS))]
    pub lookback_days: u32,
    /// EWMA decay, in (0, 1) (RiskMetrics: 0.94).
    #[arg(long, default_value_t = CalibrationSpec::default().lambda, allow_negative_numbers = true, value_parser = real(LAMBDA))]
    pub lambda: f64,
    /// The volatility written into the market (both are fitted and reported).
    #[arg(long, value_enum, default_value_t = VolatilityModel::Ewma)]
    pub volatility: VolatilityModel,
    /// The correlation written into the market.
    #[arg(long, value_enum, default_value_t = CorrelationModel::Sample)]
    pub correlation: CorrelationModel,
    /// A stress period FROM..TO (YYYY-MM-DD..YYYY-MM-DD, FROM <= TO) for the
    /// stressed correlation, reported beside the chosen one.
    #[arg(long, value_parser = date_range, value_name = "FROM..TO")]
    pub stress_window: Option<(Date, Date)>,
    /// No progress spinner.
    #[arg(long)]
    pub quiet: bool,
}

pub fn calibrate(args: &CalibrateArgs) -> Result<(), CliError> {
    let out = report::OutputDir::prepare(&args.out, report::OutputKind::Calibrate)?;
    let mut snapshot = args.book.load()?;
    let history = PriceHistory::load(&args.history)?;
    let spec = CalibrationSpec {
        as_of: args.as_of,
        lookback_days: args.lookback_days,
        lambda: args.lambda,
        volatility: args.volatility,
        correlation: args.correlation,
        stress_window: args.stress_window,
        fit_garch: true,
        fit_tails: true,
        horizon_days: snapshot.config.risk.margin_period_days.round().max(1.0) as u32,
    };
    let spinner = progress::spinner(
        &format!(
            "fitting {} assets (EWMA, GARCH(1,1)-t, correlation, tails)",
            snapshot.market.assets.len()
        ),
        args.quiet,
    );
    let report = calibrate_market(&history, &mut snapshot.market, &spec)?;
    spinner.finish_and_clear();
    // The Monte Carlo model's tails, fitted alongside (the config's own stand
    // where the window has none to fit, or where the fit failed at a bound).
    let scenario = &mut snapshot.config.scenario;
    if let Some(dof) = report
        .tails
        .student_t_dof
        .filter(|_| !report.tails.student_t_at_bound)
    {
        scenario.dof = dof;
    }
    if let Some(shape) = report
        .tails
        .nig_shape
        .filter(|_| !report.tails.nig_at_bound)
    {
        scenario.nig_shape = shape;
    }
    if let Some(jumps) = &report.tails.jumps {
        scenario.jumps = Some(jumps.clone());
    }
    snapshot::write_snapshot(&snapshot, &out.path())?;
    let json = serde_json::to_value(&report)
        .map_err(|e| CliError::Usage(format!("calibration report: {e}")))?;
    report::write_json(&out.path().join("calibration.json"), &json)?;
    let out = out.commit(report::object(serde_json::json!({
        "history": args.history.display().to_string(),
        "book": args.book.describe(),
    })))?;
    print!("{}", report::calibration::terminal(&report));
    println!(
        "\ncalibrated snapshot: {} (run it with `clearstress run --book`)",
        out.display()
    );
    Ok(())
}
