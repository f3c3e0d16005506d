//! A run folder read back for the report: `manifest.json` and `summary.json`,
//! checked against the manifest (the tool, the kind, the version, and the
//! SHA-256 it records for every output) before anything is rendered.
//!
//! Only the fields the report shows are read, as typed values: a field that
//! is missing or of the wrong type is an error naming the file and the field,
//! never a blank in the report.

use std::path::{Path, PathBuf};

use serde::Deserialize;
use serde_json::Value;

pub(super) use super::checked_folder::{parse, CheckedFolder};
use super::run_tables::{self, Allocation, StressGroup, WaterfallLayer};
use crate::input::sha256_hex;

pub(super) const MANIFEST: &str = "manifest.json";
const SUMMARY: &str = "summary.json";

/// Why a run folder cannot be reported on; each names the file.
#[derive(Debug, thiserror::Error)]
pub enum RunFolderError {
    #[error(
        "{kind} folder {dir}: `{file}` is missing; give a folder `clearstress {kind} --out` wrote"
    )]
    Missing {
        kind: &'static str,
        dir: String,
        file: &'static str,
    },
    #[error("{path}: {source}")]
    Io {
        path: String,
        #[source]
        source: std::io::Error,
    },
    #[error("{path}: not the JSON clearstress writes: {source}")]
    Json {
        path: String,
        #[source]
        source: serde_json::Error,
    },
    #[error(
        "{path}: written by {tool} {kind}, not by `clearstress {expected}`; give a {expected} output folder"
    )]
    NotARun {
        path: String,
        tool: String,
        kind: String,
        expected: &'static str,
    },
    #[error("{path}: written by clearstress {found}; this is clearstress {ours}: run it again with this version")]
    OtherVersion {
        path: String,
        found: String,
        ours: &'static str,
    },
    #[error("{path}: not listed in {manifest}, so it cannot be checked against it; run it again")]
    Unlisted { path: String, manifest: String },
    #[error("{path}: its SHA-256 is not the one {manifest} records; it changed since clearstress wrote it: run it again")]
    Changed { path: String, manifest: String },
    /// A table the folder lists, unreadable or without a column it needs.
    #[error(transparent)]
    Table(#[from] crate::input::InputError),
    #[error("{path}: not listed in {manifest}, so clearstress did not write it there; remove it, or run again into a new folder")]
    Extra { path: String, manifest: String },
    #[error("{folder}: the {command} read another book than the run of {run}: its input {input} is not among the run's inputs, which list {run_has}; give a {command} of the run's book")]
    OtherBook {
        folder: String,
        command: &'static str,
        run: String,
        /// "`file` (SHA-256 ...)".
        input: String,
        run_has: String,
    },
    #[error("--settlement {dir}: a second settle {kind} folder; give at most one day's settlement and one replay")]
    SecondSettlement { dir: String, kind: &'static str },
    #[error("{manifest} lists no `{file}`: the run folder was written before clearstress managed defaults (the waterfall, close-out cost, reverse and liquidity stress: waterfall.parquet, close_out.parquet, reverse_stress.parquet, liquidity_stress.parquet); run it again with this version")]
    BeforeDefaultManagement {
        manifest: String,
        file: &'static str,
    },
    #[error(transparent)]
    Listing(#[from] crate::report::OutputError),
}

/// `manifest.json`: what was run and how to reproduce it.
#[derive(Debug, Clone, Deserialize)]
pub struct Manifest {
    pub tool: String,
    #[serde(default = "run_kind")]
    pub kind: String,
    pub version: String,
    pub command_line: Vec<String>,
    pub backend: String,
    pub threads: u64,
    pub inputs: Vec<Hashed>,
    pub outputs: Vec<OutputEntry>,
    pub seed: u64,
    pub paths: u64,
    pub rng: String,
    /// The full configuration; the report reads the margin period and the
    /// FHS look-back from it.
    pub config: Value,
}

fn run_kind() -> String {
    "run".into()
}

#[derive(Debug, Clone, Deserialize)]
pub struct Hashed {
    pub name: String,
    pub sha256: String,
}

#[derive(Debug, Clone, Deserialize)]
pub struct OutputEntry {
    pub file: String,
    pub sha256: String,
}

/// `summary.json`: the headline numbers.
#[derive(Debug, Clone, Deserialize)]
pub struct Summary {
    pub clearstress_version: String,
    pub currency: String,
    pub valuation_date: String,
    pub scenario_model: String,
    pub scenarios: u64,
    pub members: u64,
    pub positions: u64,
    pub margin: MarginSummary,
    pub largest_members: Vec<MemberMargin>,
    pub stress_scenarios: Vec<StressScenario>,
    pub default_fund: DefaultFund,
    pub timings_seconds: Timings,
    /// Absent for a book without members.
    #[serde(default)]
    pub loss_distribution: Option<LossDistribution>,
    pub waterfall: Waterfalls,
    pub close_out: CloseOut,
    pub reverse_stress: ReverseStress,
    pub liquidity_stress: LiquidityStress,
    /// Absent from a run written before clearstress streamed it.
    #[serde(default)]
    pub fund_depletion: Option<FundDepletion>,
    /// Absent from a run written before the eligibility rules.
    #[serde(default)]
    pub collateral_eligibility: Option<CollateralEligibility>,
}

/// `summary.json`'s `collateral_eligibility`: the collateral after haircuts,
/// what counts, and what each rule cut and from how many members.
#[derive(Debug, Clone, Deserialize)]
pub struct CollateralEligibility {
    pub rules: bool,
    pub after_haircut: f64,
    pub counted: f64,
    pub cut: std::collections::BTreeMap<String, f64>,
    pub members_cut: std::collections::BTreeMap<String, u64>,
    pub members_affected: u64,
}

/// `summary.json`'s `waterfall`: every stress scenario's default walked.
#[derive(Debug, Clone, Deserialize)]
pub struct Waterfalls {
    pub scenarios: Vec<ScenarioWaterfall>,
    pub scenarios_unfunded: u64,
    /// Each configured set of defaulting groups in each scenario (none in
    /// a folder written before they existed).
    #[serde(default)]
    pub configured: Vec<ScenarioWaterfall>,
    #[serde(default)]
    pub configured_unfunded: u64,
}

#[derive(Debug, Clone, Deserialize)]
pub struct ScenarioWaterfall {
    pub scenario: String,
    pub defaulting_groups: Vec<String>,
    pub loss: f64,
    pub unfunded: f64,
}

/// `summary.json`'s `close_out`: each group's cost of closing out its
/// positions, and the requirement's groups' cost beside their uncovered loss.
#[derive(Debug, Clone, Deserialize)]
pub struct CloseOut {
    pub horizon_days: f64,
    pub total: f64,
    pub groups: Vec<GroupCloseOut>,
    pub cover_groups: CoverCloseOut,
}

#[derive(Debug, Clone, Deserialize)]
pub struct GroupCloseOut {
    pub group: String,
    pub cost: f64,
}

#[derive(Debug, Clone, Deserialize)]
pub struct CoverCloseOut {
    pub scenario: String,
    pub uncovered_loss: f64,
    pub close_out_cost: f64,
    pub uncovered_with_close_out: f64,
    pub groups: Vec<CoverGroupCloseOut>,
}

#[derive(Debug, Clone, Deserialize)]
pub struct CoverGroupCloseOut {
    pub group: String,
    pub uncovered_loss: f64,
    pub close_out_cost: f64,
    pub uncovered_with_close_out: f64,
}

/// `summary.json`'s `reverse_stress`: per stress scenario the multiple k* of
/// its shocks at which Cover-n exhausts the prefunded resources.
#[derive(Debug, Clone, Deserialize)]
pub struct ReverseStress {
    pub cover: u64,
    pub resources: f64,
    pub scenarios: Vec<ReverseScenario>,
    pub most_severe: Option<MostSevere>,
}

#[derive(Debug, Clone, Deserialize)]
pub struct ReverseScenario {
    pub name: String,
    pub cover_n: f64,
    pub k_searched: f64,
    /// None: the resources last up to `k_searched`.
    pub k_star: Option<f64>,
    pub groups_to_exhaust: Option<u64>,
}

#[derive(Debug, Clone, Deserialize)]
pub struct MostSevere {
    pub scenario: String,
    pub k_star: f64,
}

/// `summary.json`'s `fund_depletion` (methodology 9.9): the fields past
/// `computed` are absent (zero here) when it was not computed.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(default)]
pub struct FundDepletion {
    pub computed: bool,
    pub needed_mib: u64,
    pub scenarios: u64,
    pub cover: u64,
    pub resources: f64,
    pub exhausted: u64,
    pub probability_of_exhaustion: f64,
    pub probability_stderr: f64,
    pub scenarios_with_uncovered_loss: u64,
    pub mean_demand: f64,
    pub measures: Vec<DepletionMeasure>,
}

#[derive(Debug, Clone, Default, Deserialize)]
#[serde(default)]
pub struct DepletionMeasure {
    pub confidence: f64,
    pub demand_var: f64,
    pub demand_es: f64,
    pub demand_es_stderr: f64,
    pub depletion_var: f64,
    pub depletion_es: f64,
    pub depletion_es_stderr: f64,
}

/// `summary.json`'s `liquidity_stress`: per settlement currency.
#[derive(Debug, Clone, Deserialize)]
pub struct LiquidityStress {
    pub currencies: Vec<CurrencyLiquidity>,
}

#[derive(Debug, Clone, Deserialize)]
pub struct CurrencyLiquidity {
    pub currency: String,
    pub largest_need: f64,
    pub largest_shortfall: f64,
    /// The scenario of the largest shortfall; None when there is none.
    pub scenario: Option<String>,
}

/// The largest margin's loss histogram with its VaR and ES.
#[derive(Debug, Clone, Deserialize)]
pub struct LossDistribution {
    pub member_id: String,
    pub sample_scenarios: u64,
    pub confidence: f64,
    pub var: Option<f64>,
    pub es: Option<f64>,
    pub bins: Vec<LossBin>,
}

#[derive(Debug, Clone, Deserialize)]
pub struct LossBin {
    pub from: f64,
    pub to: f64,
    pub scenarios: u64,
}

#[derive(Debug, Clone, Deserialize)]
pub struct StressScenario {
    pub name: String,
    pub origin: String,
    pub cover1: f64,
    pub cover2: f64,
}

#[derive(Debug, Clone, Deserialize)]
pub struct MarginSummary {
    pub confidence: f64,
    pub measure: String,
    pub members_with_margin_call: u64,
    pub total_collateral: f64,
    pub total_initial_margin: f64,
    pub total_margin_call: f64,
    /// The EMIR anti-procyclicality tool applied, if any.
    pub anti_procyclicality: Option<AppliedApc>,
    /// The collateral held by asset (PQD 6.2's split by type).
    pub collateral_by_asset: Vec<CollateralByAsset>,
}

#[derive(Debug, Clone, Deserialize)]
pub struct AppliedApc {
    /// `buffer`, `stressed-weight` or `floor`.
    pub tool: String,
    pub stress_period: Option<Period>,
    #[serde(default)]
    pub not_stressed: Vec<String>,
}

#[derive(Debug, Clone, Deserialize)]
pub struct Period {
    pub from: String,
    pub to: String,
}

/// One collateral asset's holdings summed over members, USD.
#[derive(Debug, Clone, Deserialize)]
pub struct CollateralByAsset {
    pub asset: String,
    pub market_value: f64,
    /// `None`: an ineligible asset without a haircut.
    pub haircut: Option<f64>,
    pub after_haircut: f64,
    /// What counts under the eligibility rules; `None` in a run folder
    /// written before them, where all of `after_haircut` counted.
    pub counted: Option<f64>,
}

#[derive(Debug, Clone, Deserialize)]
pub struct MemberMargin {
    pub member_id: String,
    pub name: String,
    pub group: String,
    pub initial_margin: f64,
    pub collateral: f64,
    pub excess: f64,
}

#[derive(Debug, Clone, Deserialize)]
pub struct DefaultFund {
    pub cover: u64,
    pub allocation_rule: crate::snapshot::AllocationRule,
    pub cover1: Cover,
    pub cover2: Cover,
    pub current_total: f64,
    pub requirement: f64,
    pub shortfall: f64,
    pub skin_in_the_game: f64,
    pub unfunded: f64,
}

#[derive(Debug, Clone, Deserialize)]
pub struct Cover {
    pub amount: f64,
    pub scenario: String,
    pub groups: Vec<CoverGroup>,
}

#[derive(Debug, Clone, Deserialize)]
pub struct CoverGroup {
    pub group: String,
    pub members: Vec<String>,
    pub uncovered_loss: f64,
}

#[derive(Debug, Clone, Deserialize)]
pub struct Timings {
    pub total: f64,
    pub monte_carlo: f64,
    pub scenarios_per_second: f64,
}

/// A run folder whose manifest and summary were read and checked.
#[derive(Debug, Clone)]
pub struct RunFolder {
    pub dir: PathBuf,
    pub manifest: Manifest,
    /// The SHA-256 of `manifest.json`, which pins every output it lists.
    pub manifest_sha256: String,
    pub summary: Summary,
    /// `stress_groups.parquet`'s rows.
    pub stress_groups: Vec<StressGroup>,
    /// `default_fund.parquet`'s rows.
    pub allocation: Vec<Allocation>,
    /// `waterfall.parquet`'s rows.
    pub waterfall: Vec<WaterfallLayer>,
}

impl RunFolder {
    /// Reads `dir`'s manifest, checks every output it lists against its
    /// SHA-256, and reads the summary.
    pub fn open(dir: &Path) -> Result<Self, RunFolderError> {
        Self::open_as(dir, dir)
    }

    /// [`Self::open`], the report naming the folder `shown` (`run --report`
    /// reads the staged outputs and names the destination the user gave).
    pub fn open_as(dir: &Path, shown: &Path) -> Result<Self, RunFolderError> {
        let checked = CheckedFolder::open(dir, "run", SUMMARY)?;
        // Before the summary: an older run's summary lacks these results too,
        // and the missing file says why better than a missing JSON field.
        if let Some(file) = run_tables::DEFAULT_MANAGEMENT
            .into_iter()
            .find(|f| !checked.outputs.iter().any(|o| o.file == *f))
        {
            return Err(RunFolderError::BeforeDefaultManagement {
                manifest: dir.join(MANIFEST).display().to_string(),
                file,
            });
        }
        let manifest: Manifest = parse(&dir.join(MANIFEST), &checked.manifest_bytes)?;
        let summary: Summary = parse(&dir.join(SUMMARY), &checked.main_bytes)?;
        Ok(Self {
            dir: shown.to_path_buf(),
            manifest,
            manifest_sha256: sha256_hex(&checked.manifest_bytes),
            summary,
            stress_groups: run_tables::stress_groups(&checked, dir)?,
            allocation: run_tables::allocation(&checked, dir)?,
            waterfall: run_tables::waterfall(&checked, dir)?,
        })
    }
}

impl RunFolder {
    /// Checks that the output of `command` in `dir` read this run's book:
    /// every input file its manifest records (`inputs`) must be among the
    /// run's inputs (matched by file name, the folders' spellings aside) with
    /// the same SHA-256; the run may have read more (an `--fhs` history).
    pub(super) fn check_same_book(
        &self,
        dir: &Path,
        command: &'static str,
        inputs: &[Hashed],
    ) -> Result<(), RunFolderError> {
        // `/tmp/a/book/members.csv` and `book/members.csv` (or
        // `embedded:sample/members.csv`) are the same file of a book given
        // two ways.
        let file_name = |name: &str| name.rsplit(['/', '\\']).next().unwrap_or(name).to_string();
        for input in inputs {
            let file = file_name(&input.name);
            let same_name: Vec<&Hashed> = self
                .manifest
                .inputs
                .iter()
                .filter(|i| file_name(&i.name) == file)
                .collect();
            if same_name.iter().any(|i| i.sha256 == input.sha256) {
                continue;
            }
            let run_has = match same_name.first() {
                Some(i) => format!("{} with SHA-256 {}", i.name, i.sha256),
                None => "no such file".into(),
            };
            return Err(RunFolderError::OtherBook {
                folder: dir.join(MANIFEST).display().to_string(),
                command,
                run: self.dir.join(MANIFEST).display().to_string(),
                input: format!("`{}` (SHA-256 {})", input.name, input.sha256),
                run_has,
            });
        }
        Ok(())
    }
}
