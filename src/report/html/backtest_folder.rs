//! A backtest folder read back for the report (`--backtest`):
//! `manifest.json` and `backtest.json`, checked as a run folder is (the tool,
//! the kind `backtest`, the version, and the SHA-256 of every output) before
//! anything is rendered. Only the fields the report shows are read.

use std::path::{Path, PathBuf};

use serde::Deserialize;

use super::run_folder::{parse, CheckedFolder, RunFolderError};
use crate::analysis::backtest::AGGREGATE_ID;
use crate::input::sha256_hex;

const BACKTEST: &str = "backtest.json";

/// The kind whose pooled row PQD 6.5 reports: the loss the margin is sized on
/// (methodology, 13a).
pub const MARGIN_BASIS: &str = "member_with_collateral";

/// `backtest.json`: the statistics the report shows.
#[derive(Debug, Clone, Deserialize)]
pub struct BacktestSummary {
    /// The models backtested, in order; the report shows the first.
    /// Absent from a folder written before `--model`: one model, every row.
    #[serde(default)]
    pub models: Vec<String>,
    pub mpor_days: f64,
    pub margin_measure: String,
    pub confidence: f64,
    pub observed_days: u64,
    pub first_day: Option<String>,
    pub last_day: Option<String>,
    pub non_overlapping_every_days: f64,
    pub gaps: Vec<serde_json::Value>,
    pub portfolios: Vec<BacktestPortfolio>,
}

#[derive(Debug, Clone, Deserialize)]
pub struct BacktestPortfolio {
    #[serde(default)]
    pub model: String,
    pub id: String,
    pub kind: String,
    pub aggregate: bool,
    pub all_days: Sample,
    pub non_overlapping: Sample,
}

/// One sample's statistics (coverage and Kupiec's p are null where there
/// is no observation).
#[derive(Debug, Clone, Deserialize)]
pub struct Sample {
    pub observations: u64,
    pub exceptions: u64,
    pub expected_exceptions: f64,
    pub coverage: Option<f64>,
    pub kupiec: Kupiec,
    pub traffic_light: String,
}

#[derive(Debug, Clone, Deserialize)]
pub struct Kupiec {
    pub p: Option<f64>,
}

/// A backtest folder whose manifest and `backtest.json` were read and checked.
#[derive(Debug, Clone)]
pub struct BacktestFolder {
    pub dir: PathBuf,
    /// The SHA-256 of `manifest.json`, which pins every output it lists.
    pub manifest_sha256: String,
    pub summary: BacktestSummary,
}

impl BacktestFolder {
    /// Reads `dir`'s manifest, checks every output it lists against its
    /// SHA-256, and reads `backtest.json`.
    pub fn open(dir: &Path) -> Result<Self, RunFolderError> {
        let checked = CheckedFolder::open(dir, "backtest", BACKTEST)?;
        let summary: BacktestSummary = parse(&dir.join(BACKTEST), &checked.main_bytes)?;
        Ok(Self {
            dir: dir.to_path_buf(),
            manifest_sha256: sha256_hex(&checked.manifest_bytes),
            summary,
        })
    }

    /// The model the report shows: the first backtested.
    pub fn model(&self) -> &str {
        self.summary.models.first().map_or("", String::as_str)
    }

    /// The rows of [`Self::model`], in the order `backtest.json` lists them.
    pub fn rows(&self) -> impl Iterator<Item = &BacktestPortfolio> {
        let model = self.model();
        self.summary
            .portfolios
            .iter()
            .filter(move |p| p.model == model)
    }

    /// Each kind's pooled row of [`Self::model`].
    pub fn pooled(&self) -> impl Iterator<Item = &BacktestPortfolio> {
        self.rows().filter(|p| p.aggregate && p.id == AGGREGATE_ID)
    }

    /// The pooled row of the kind the margin is sized on.
    pub fn margin_basis(&self) -> Option<&BacktestPortfolio> {
        self.pooled().find(|p| p.kind == MARGIN_BASIS)
    }

    /// The period tested, `first..last`, or "no day" when none was observed.
    pub fn period(&self) -> String {
        match (&self.summary.first_day, &self.summary.last_day) {
            (Some(first), Some(last)) => format!("{first}..{last}"),
            _ => "no day".into(),
        }
    }
}
