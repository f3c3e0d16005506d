//! `clearstress haircuts` against what it is defined to compute
//! (docs/methodology.md, 17.7): under the Gaussian model a single asset's
//! haircut is the lognormal closed form of its fall in value, today and on
//! the stressed market; the schedule is the calibrated haircut floored at the
//! stressed one; cash is 0; FHS is refused; the Parquet table and
//! `summary.json` say the same.

mod common;

#[path = "common/parquet.rs"]
mod parquet_columns;

use std::process::Command;

use arrow_array::{Array, BooleanArray, Float64Array, RecordBatch};
use clearstress::analysis::apc::{apc_markets, StressPeriod};
use clearstress::analysis::haircuts::{haircuts, HaircutClass, HaircutParams, HaircutSchedule};
use clearstress::analysis::{AnalysisError, Runner};
use clearstress::backend::CpuBackend;
use clearstress::engine::RunLimits;
use clearstress::history::PriceHistory;
use clearstress::snapshot::{HistoricalConfig, MarginMeasure, Snapshot};
use parquet_columns::{column, floats, read_parquet, strings};
use statrs::distribution::{Continuous, ContinuousCDF, Normal};

const SPOT: f64 = 50_000.0;
const HORIZON_DAYS: f64 = 3.0;
const CONFIDENCE: f64 = 0.997;
const PATHS: u64 = 400_000;
/// The configured BTC haircut of [`book`].
const CONFIGURED: f64 = 0.10;

/// A market of BTC alone at `volatility`, Gaussian innovations, no jumps, no
/// vol shock (`common::market_snapshot`); BTC eligible at [`CONFIGURED`].
fn book(id: &str, volatility: f64) -> Snapshot {
    let mut s = common::market_snapshot(
        vec![common::asset(id, SPOT, volatility)],
        vec![1.0],
        vec![common::member("A", "A")],
    );
    s.config.scenario.paths = PATHS;
    s.config.collateral.haircuts.insert(id.into(), CONFIGURED);
    s
}

fn params(measure: MarginMeasure) -> HaircutParams {
    HaircutParams {
        measure,
        confidence: CONFIDENCE,
        horizon_days: HORIZON_DAYS,
        stress: StressPeriod::default(),
    }
}

fn history() -> PriceHistory {
    PriceHistory::load(&common::machine::daily_closes()).unwrap()
}

fn schedule(s: &Snapshot, measure: MarginMeasure) -> Result<HaircutSchedule, AnalysisError> {
    let backend = CpuBackend::new(None).unwrap();
    let runner = Runner {
        backend: &backend,
        limits: RunLimits::default(),
        progress: &|_| {},
    };
    haircuts(&runner, s, &history(), &params(measure))
}

/// The fall in value `1 - R` over the horizon under the Gaussian model:
/// `ln R = -s^2/2 + s Z`, `s = sigma sqrt(h / 365)` (methodology 4.1, 4.2).
struct LognormalFall {
    s: f64,
}

impl LognormalFall {
    fn new(volatility: f64) -> Self {
        Self {
            s: volatility * (HORIZON_DAYS / 365.0).sqrt(),
        }
    }

    fn z(q: f64) -> f64 {
        Normal::standard().inverse_cdf(q)
    }

    /// `1 - exp(-s^2/2 - s z_q)`: R's (1 - q)-quantile.
    fn var(&self, q: f64) -> f64 {
        1.0 - (-0.5 * self.s * self.s - self.s * Self::z(q)).exp()
    }

    /// `E[1 - R | 1 - R >= VaR] = 1 - Phi(-z_q - s) / (1 - q)`, since
    /// `E[R; ln R <= -s^2/2 - s z_q] = Phi(-z_q - s)`.
    fn es(&self, q: f64) -> f64 {
        1.0 - Normal::standard().cdf(-Self::z(q) - self.s) / (1.0 - q)
    }

    /// The empirical quantile's standard error `sqrt(q (1 - q) / N) / f(VaR)`,
    /// `f` the density of `1 - R`: `phi((ln r + s^2/2) / s) / (r s)` at `r = 1 - VaR`.
    fn var_std_error(&self, q: f64, paths: u64) -> f64 {
        let r = 1.0 - self.var(q);
        let density =
            Normal::standard().pdf((r.ln() + 0.5 * self.s * self.s) / self.s) / (r * self.s);
        (q * (1.0 - q) / paths as f64).sqrt() / density
    }
}

/// BTC at 30% a year, below its 2022 realised volatility: the calibrated
/// haircut is the closed form at 30%, the stressed one the closed form at
/// the stressed market's volatility, each within four Monte Carlo standard
/// errors (VaR: the quantile's; ES: the engine's own, methodology 7.3); the
/// schedule is the stressed one, and the configured 10% is below it.
#[test]
fn a_single_gaussian_asset_has_the_lognormal_haircut_today_and_stressed() {
    let today = 0.3;
    let s = book("BTC", today);
    let stressed = apc_markets(
        &history(),
        &s.market,
        s.valuation_date,
        StressPeriod::default(),
    )
    .stressed
    .assets[0]
        .volatility;
    assert!(
        stressed > 1.5 * today,
        "2022's volatility binds: {stressed}"
    );
    for measure in [MarginMeasure::ValueAtRisk, MarginMeasure::ExpectedShortfall] {
        let result = schedule(&s, measure).unwrap();
        let btc = &result.haircuts[1];
        assert_eq!(
            (btc.asset.as_str(), btc.class),
            ("BTC", HaircutClass::Crypto)
        );
        for (label, vol, got, es_se) in [
            (
                "calibrated",
                today,
                btc.calibrated,
                btc.std_errors.map(|e| e.0),
            ),
            (
                "stressed",
                stressed,
                btc.stressed,
                btc.std_errors.map(|e| e.1),
            ),
        ] {
            let fall = LognormalFall::new(vol);
            let (expected, se) = match measure {
                MarginMeasure::ValueAtRisk => {
                    assert_eq!(es_se, None, "VaR has no ES standard error");
                    (fall.var(CONFIDENCE), fall.var_std_error(CONFIDENCE, PATHS))
                }
                MarginMeasure::ExpectedShortfall => (fall.es(CONFIDENCE), es_se.unwrap()),
            };
            assert!(
                (got - expected).abs() < 4.0 * se,
                "{measure:?} {label}: {got} vs {expected} (se {se})"
            );
            assert!(
                se < 0.02 * expected,
                "{measure:?} {label}: se {se} is small"
            );
        }
        assert_eq!(btc.schedule(), btc.stressed);
        assert!(btc.configured_below());
        assert_eq!(btc.difference(), Some(CONFIGURED - btc.stressed));
    }
}

/// The floor binds only where the stress period was more volatile than
/// today: at 200% a year BTC's stressed market keeps today's volatility, and
/// an asset the history lacks is listed and keeps it too; either way the
/// stressed haircut is today's (the same scenarios at the same volatility).
/// Cash comes first, at 0, against its configured 0.
#[test]
fn the_floor_is_todays_haircut_where_the_stress_period_was_calmer_or_unknown() {
    for (id, not_stressed) in [("BTC", vec![]), ("NOT-IN-HISTORY", vec!["NOT-IN-HISTORY"])] {
        let mut s = book(id, 2.0);
        s.config.scenario.paths = 20_000;
        let result = schedule(&s, MarginMeasure::ExpectedShortfall).unwrap();
        assert_eq!(result.not_stressed, not_stressed);
        let cash = &result.haircuts[0];
        assert_eq!(
            (cash.asset.as_str(), cash.class, cash.configured),
            ("USD", HaircutClass::Cash, Some(0.0))
        );
        assert_eq!(
            (cash.calibrated, cash.stressed, cash.schedule()),
            (0.0, 0.0, 0.0)
        );
        assert!(!cash.configured_below());
        let asset = &result.haircuts[1];
        assert!(asset.calibrated > CONFIGURED, "{id}: {}", asset.calibrated);
        assert_eq!(asset.stressed, asset.calibrated, "{id}");
        assert_eq!(asset.schedule(), asset.calibrated, "{id}");
    }
}

/// Filtered historical simulation never reads the market's volatilities, so
/// a stressed floor would be today's haircut: refused before any run.
#[test]
fn filtered_historical_simulation_is_refused() {
    let mut s = book("BTC", 0.3);
    s.config.scenario.historical = Some(HistoricalConfig::default());
    let e = schedule(&s, MarginMeasure::ExpectedShortfall).unwrap_err();
    assert!(matches!(e, AnalysisError::HaircutsUnderFhs), "{e}");
    assert!(
        e.to_string().contains("filtered historical simulation"),
        "{e}"
    );
}

/// A column of nullable numbers.
fn optional_floats(t: &[RecordBatch], name: &str) -> Vec<Option<f64>> {
    column(t, name, |a: &Float64Array, i| {
        (!a.is_null(i)).then(|| a.value(i))
    })
}

/// The command on an `init` book of ten real assets: one row per asset and
/// cash; the schedule is max(calibrated, stressed) row by row; the configured
/// haircuts, the difference and the flag agree; `summary.json` holds the
/// same schedule and list of assets below it.
#[test]
fn the_command_writes_a_table_and_summary_that_agree() {
    let dir = tempfile::tempdir().unwrap();
    let (book, out) = (dir.path().join("book"), dir.path().join("hc"));
    let run = |args: &[&str]| {
        let o = Command::new(env!("CARGO_BIN_EXE_clearstress"))
            .args(args)
            .output()
            .unwrap();
        let stderr = String::from_utf8_lossy(&o.stderr).into_owned();
        assert!(o.status.success(), "{args:?}: {stderr}");
        String::from_utf8_lossy(&o.stdout).into_owned()
    };
    run(&["init", "--out", book.to_str().unwrap(), "--assets", "10"]);
    let history = common::machine::daily_closes();
    let stdout = run(&[
        "haircuts",
        "--book",
        book.to_str().unwrap(),
        "--history",
        history.to_str().unwrap(),
        "--paths",
        "5000",
        "--backend",
        "cpu",
        "--out",
        out.to_str().unwrap(),
    ]);
    assert!(
        stdout.contains("haircuts: ES 99.7% of the fall in value over 2 days"),
        "{stdout}"
    );

    let t = read_parquet(&out.join("haircuts.parquet"));
    let summary: serde_json::Value =
        serde_json::from_slice(&std::fs::read(out.join("summary.json")).unwrap()).unwrap();
    let asset = strings(&t, "asset");
    let configured = optional_floats(&t, "configured_haircut");
    let (calibrated, stressed) = (
        floats(&t, "calibrated_haircut"),
        floats(&t, "stressed_haircut"),
    );
    let schedule = floats(&t, "schedule_haircut");
    let difference = optional_floats(&t, "configured_minus_schedule");
    let below = column(&t, "configured_below_schedule", |a: &BooleanArray, i| {
        a.value(i)
    });
    let se = optional_floats(&t, "calibrated_std_error");
    assert_eq!(asset.len(), 11, "cash and ten assets");
    assert_eq!(
        (asset[0].as_str(), strings(&t, "class")[0].as_str()),
        ("USD", "cash")
    );
    let rows = summary["schedule"].as_array().unwrap();
    assert_eq!(rows.len(), asset.len());
    // serde_json's parser may round the last digit its writer gave.
    let same = |json: &serde_json::Value, x: Option<f64>| match (json.as_f64(), x) {
        (Some(a), Some(b)) => (a - b).abs() <= 1e-15 * b.abs(),
        (a, b) => a.is_none() && b.is_none(),
    };
    let mut listed_below = Vec::new();
    for (i, row) in rows.iter().enumerate() {
        let a = &asset[i];
        assert_eq!(schedule[i], calibrated[i].max(stressed[i]), "{a}");
        assert!((0.0..1.0).contains(&schedule[i]), "{a}");
        let diff = configured[i].map(|c| c - schedule[i]);
        assert_eq!(difference[i], diff, "{a}");
        assert_eq!(below[i], diff.is_some_and(|d| d < 0.0), "{a}");
        assert_eq!(se[i].is_some(), i > 0, "ES has one, cash none");
        assert_eq!(row["asset"], a.as_str());
        assert!(same(&row["schedule"], Some(schedule[i])), "{row}");
        assert!(same(&row["configured"], configured[i]), "{row}");
        if below[i] {
            listed_below.push(a.as_str());
        }
    }
    assert!(
        !listed_below.is_empty(),
        "the sample's BTC haircut is below its stressed one"
    );
    assert_eq!(
        summary["configured_below_schedule"],
        serde_json::json!(listed_below)
    );
    assert_eq!(summary["measure"], "es");
    assert_eq!(summary["confidence"], CONFIDENCE);
}
