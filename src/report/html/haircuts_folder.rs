//! A `haircuts` folder read back for the report (`--haircuts`): the
//! engine's calibrated haircut schedule beside the configured haircuts
//! (`summary.json`), checked as a run folder is (the tool, the kind, the
//! version, the SHA-256 of every output) and against the run's book.

use std::path::{Path, PathBuf};

use serde::Deserialize;

use super::run_folder::{parse, CheckedFolder, Hashed, RunFolder, RunFolderError, MANIFEST};
use crate::input::sha256_hex;

const SUMMARY: &str = "summary.json";

/// One asset's haircuts: the configured one (none where `ccp.toml` gives
/// none) and the schedule's.
#[derive(Debug, Clone, Deserialize)]
pub struct ScheduledHaircut {
    pub asset: String,
    pub configured: Option<f64>,
    pub schedule: f64,
}

/// `summary.json` of `clearstress haircuts`.
#[derive(Debug, Clone, Deserialize)]
pub struct HaircutSummary {
    pub measure: String,
    pub confidence: f64,
    pub horizon_days: f64,
    pub scenario_model: String,
    pub paths: u64,
    /// `[from, to]`.
    pub stress_period: [String; 2],
    pub schedule: Vec<ScheduledHaircut>,
    pub configured_below_schedule: Vec<String>,
}

#[derive(Debug, Clone)]
pub struct HaircutsFolder {
    pub dir: PathBuf,
    /// The SHA-256 of `manifest.json`, which pins every output it lists.
    pub manifest_sha256: String,
    pub summary: HaircutSummary,
}

#[derive(Deserialize)]
struct HaircutsManifest {
    inputs: Vec<Hashed>,
}

impl HaircutsFolder {
    pub fn open(dir: &Path, run: &RunFolder) -> Result<Self, RunFolderError> {
        let checked = CheckedFolder::open(dir, "haircuts", SUMMARY)?;
        let manifest: HaircutsManifest = parse(&dir.join(MANIFEST), &checked.manifest_bytes)?;
        run.check_same_book(dir, "haircuts", &manifest.inputs)?;
        Ok(Self {
            dir: dir.to_path_buf(),
            manifest_sha256: sha256_hex(&checked.manifest_bytes),
            summary: parse(&dir.join(SUMMARY), &checked.main_bytes)?,
        })
    }
}
