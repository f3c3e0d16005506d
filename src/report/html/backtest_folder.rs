//! A backtest folder read back for the report (`--backtest`):
//! `manifest.json` and `backtest.json`, checked as a run folder is (the tool,
//! the kind `backtest`, the version, and the SHA-256 of every output) before
//! anything is rendered. Only the fields the report shows are read.

use std::path::{Path, PathBuf};

use serde::Deserialize;

use super::run_folder::{parse, CheckedFolder, Hashed, RunFolder, RunFolderError, MANIFEST};
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
    pub exceptions_by_day: Vec<ExceptionSeries>,
}

/// A (model, kind)'s pooled row day by day.
#[derive(Debug, Clone, Deserialize)]
pub struct ExceptionSeries {
    pub model: String,
    pub kind: String,
    pub days: Vec<ExceptionDay>,
}

#[derive(Debug, Clone, Deserialize)]
pub struct ExceptionDay {
    pub date: String,
    pub portfolios: u64,
    pub exceptions: u64,
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
    /// Null for pooled rows and where Z2 does not apply.
    pub z2: Option<Z2>,
    /// The margin's average and peak-to-trough over the days (null where
    /// no day was observed).
    pub average_margin: Option<f64>,
    pub margin_peak_to_trough: Option<f64>,
}

/// One sample's statistics (coverage and Kupiec's p are null where there
/// is no observation; Christoffersen's tests where they cannot be run, as on
/// pooled rows).
#[derive(Debug, Clone, Deserialize)]
pub struct Sample {
    pub observations: u64,
    pub exceptions: u64,
    pub expected_exceptions: f64,
    pub coverage: Option<f64>,
    /// The largest `loss - margin` over the exceptions; null without one.
    pub largest_exception: Option<f64>,
    pub kupiec: PValue,
    pub christoffersen: Option<Christoffersen>,
    pub traffic_light: String,
}

/// A test's p-value, null where it was not computed.
#[derive(Debug, Clone, Deserialize)]
pub struct PValue {
    pub p: Option<f64>,
}

#[derive(Debug, Clone, Deserialize)]
pub struct Christoffersen {
    pub conditional_coverage: PValue,
}

/// Z2: its p-value is null without simulations (`--z2-simulations 0`), and
/// the whole entry a reason (`not_computed`) where it could not be computed.
#[derive(Debug, Clone, Deserialize)]
pub struct Z2 {
    #[serde(default)]
    pub p_value: Option<f64>,
}

/// The part of a backtest's `manifest.json` the book check reads: the book's
/// input files with their SHA-256 (absent from a backtest written before
/// they were recorded).
#[derive(Deserialize)]
struct BacktestManifest {
    inputs: Option<Vec<Hashed>>,
}

/// Whether the backtest ran on the run's book.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SameBook {
    /// Every book file the backtest read is among the run's inputs, with the
    /// same SHA-256.
    Checked,
    /// The backtest's manifest records no input hashes (written before they
    /// were recorded): not checked, and the report says so.
    NotRecorded,
}

impl SameBook {
    /// The warning the report (and the terminal) shows, if any.
    pub fn warning(self) -> Option<&'static str> {
        match self {
            Self::Checked => None,
            Self::NotRecorded => Some(
                "the backtest's manifest.json records no input hashes (a backtest written before                  they were recorded): it is not checked to have run on this run's book; run the                  backtest again to check it",
            ),
        }
    }
}

/// A backtest folder whose manifest and `backtest.json` were read and checked.
#[derive(Debug, Clone)]
pub struct BacktestFolder {
    pub dir: PathBuf,
    /// The SHA-256 of `manifest.json`, which pins every output it lists.
    pub manifest_sha256: String,
    pub summary: BacktestSummary,
    pub same_book: SameBook,
}

impl BacktestFolder {
    /// Reads `dir`'s manifest, checks every output it lists against its
    /// SHA-256, reads `backtest.json`, and checks that the backtest ran on
    /// `run`'s book: every input file its manifest records must be among
    /// the run's inputs (matched by file name, the folders' spellings aside)
    /// with the same SHA-256; the run may have read more (an `--fhs`
    /// history). A backtest of another book is refused naming both folders
    /// and the file.
    pub fn open(dir: &Path, run: &RunFolder) -> Result<Self, RunFolderError> {
        let checked = CheckedFolder::open(dir, "backtest", BACKTEST)?;
        let summary: BacktestSummary = parse(&dir.join(BACKTEST), &checked.main_bytes)?;
        let manifest: BacktestManifest = parse(&dir.join(MANIFEST), &checked.manifest_bytes)?;
        let same_book = match manifest.inputs {
            None => SameBook::NotRecorded,
            Some(inputs) => {
                run.check_same_book(dir, "backtest", &inputs)?;
                SameBook::Checked
            }
        };
        Ok(Self {
            dir: dir.to_path_buf(),
            manifest_sha256: sha256_hex(&checked.manifest_bytes),
            summary,
            same_book,
        })
    }

    /// The model the report shows in detail and PQD 6.5 reports: the first
    /// backtested.
    pub fn model(&self) -> &str {
        self.summary.models.first().map_or("", String::as_str)
    }

    /// Every model backtested, in `--model`'s order (one unnamed model for a
    /// folder written before `--model`).
    pub fn models(&self) -> Vec<&str> {
        if self.summary.models.is_empty() {
            return vec![""];
        }
        self.summary.models.iter().map(String::as_str).collect()
    }

    /// The rows of `model`, in the order `backtest.json` lists them.
    pub fn rows_of<'a>(&'a self, model: &'a str) -> impl Iterator<Item = &'a BacktestPortfolio> {
        self.summary
            .portfolios
            .iter()
            .filter(move |p| p.model == model)
    }

    /// The rows of [`Self::model`].
    pub fn rows(&self) -> impl Iterator<Item = &BacktestPortfolio> {
        self.rows_of(self.model())
    }

    /// Each kind's pooled row of `model`.
    pub fn pooled_of<'a>(&'a self, model: &'a str) -> impl Iterator<Item = &'a BacktestPortfolio> {
        self.rows_of(model)
            .filter(|p| p.aggregate && p.id == AGGREGATE_ID)
    }

    /// Each kind's pooled row of [`Self::model`].
    pub fn pooled(&self) -> impl Iterator<Item = &BacktestPortfolio> {
        self.pooled_of(self.model())
    }

    /// The pooled row of the kind the margin is sized on.
    pub fn margin_basis(&self) -> Option<&BacktestPortfolio> {
        self.pooled().find(|p| p.kind == MARGIN_BASIS)
    }

    /// [`Self::margin_basis`]'s kind day by day, for [`Self::model`].
    pub fn margin_basis_by_day(&self) -> Option<&ExceptionSeries> {
        let model = self.model();
        self.summary
            .exceptions_by_day
            .iter()
            .find(|s| s.model == model && s.kind == MARGIN_BASIS)
    }

    /// The period tested, `first..last`, or "no day" when none was observed.
    pub fn period(&self) -> String {
        match (&self.summary.first_day, &self.summary.last_day) {
            (Some(first), Some(last)) => format!("{first}..{last}"),
            _ => "no day".into(),
        }
    }
}
