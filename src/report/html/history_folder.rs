//! A procyclicality folder read back for the report (`--history-run`):
//! `manifest.json`, `procyclicality.json`, `margin_history.parquet` and
//! `margin_history_members.parquet`, checked as a run folder is (the tool,
//! the kind `procyclicality`, the version, and the SHA-256 of every output)
//! before anything is rendered. Only what the report shows is read; a
//! missing policy, column or number is an error naming the file.

use std::collections::HashMap;
use std::path::{Path, PathBuf};

use serde::Deserialize;
use serde_json::{Map, Value};

use super::run_folder::{parse, CheckedFolder, RunFolderError};
use crate::analysis::margin_history::POLICIES;
use crate::input::{sha256_hex, Table};

const MEASURES: &str = "procyclicality.json";
const TOTALS: &str = "margin_history.parquet";
const MEMBERS: &str = "margin_history_members.parquet";
/// The members whose margin ranges the report lists, at most.
pub const LARGEST_MEMBERS: usize = 10;

/// A policy's procyclicality as `procyclicality.json` records it: the
/// measures (methodology, 12.3), or why the series was not measured.
#[derive(Debug, Clone, Deserialize)]
#[serde(untagged)]
pub enum Measures {
    Measured {
        peak_to_trough: f64,
        largest_increase: f64,
        window_days: u32,
        increase_from: String,
        increase_to: String,
    },
    NotMeasured {
        not_measured: String,
    },
}

/// The stress period of the stressed market, `from..to`.
#[derive(Debug, Clone, Deserialize)]
pub struct Period {
    pub from: String,
    pub to: String,
}

/// `procyclicality.json`: the policies by id, the stress period and the
/// assets that were not stressed.
#[derive(Deserialize)]
struct MeasuresFile {
    stress_period: Period,
    not_stressed: Vec<String>,
    #[serde(flatten)]
    policies: Map<String, Value>,
}

/// What the study was run on, from its `manifest.json`.
#[derive(Debug, Clone, Deserialize)]
pub struct Study {
    /// The book as given to `procyclicality` (a snapshot folder, or the
    /// embedded sample).
    pub book: String,
    /// The daily-close file.
    pub history: String,
    /// Monte Carlo paths per margin date.
    pub paths: u64,
    pub every_days: u64,
}

/// One policy: its id and name, its measures and the book's total margin
/// on each date.
#[derive(Debug, Clone)]
pub struct Policy {
    pub id: &'static str,
    pub name: &'static str,
    pub measures: Measures,
    pub total: Vec<f64>,
}

/// One member's lowest and highest margin over the dates under each policy,
/// in [`POLICIES`] order.
#[derive(Debug, Clone, PartialEq)]
pub struct MemberRange {
    pub member_id: String,
    pub ranges: Vec<(f64, f64)>,
}

/// A procyclicality folder whose manifest and outputs were read and checked.
#[derive(Debug, Clone)]
pub struct HistoryFolder {
    pub dir: PathBuf,
    /// The SHA-256 of `manifest.json`, which pins every output it lists.
    pub manifest_sha256: String,
    pub study: Study,
    /// The margin dates, as `margin_history.parquet` lists them.
    pub dates: Vec<String>,
    /// Every policy, in [`POLICIES`] order.
    pub policies: Vec<Policy>,
    pub stress_period: Period,
    pub not_stressed: Vec<String>,
    /// The [`LARGEST_MEMBERS`] members with the highest calculated margin on
    /// some date, highest first.
    pub largest_members: Vec<MemberRange>,
}

impl HistoryFolder {
    /// Reads `dir`'s manifest, checks every output it lists against its
    /// SHA-256, and reads the measures and both tables.
    pub fn open(dir: &Path) -> Result<Self, RunFolderError> {
        let checked = CheckedFolder::open(dir, "procyclicality", MEASURES)?;
        let study: Study = parse(&dir.join("manifest.json"), &checked.manifest_bytes)?;
        let path = dir.join(MEASURES);
        let file: MeasuresFile = parse(&path, &checked.main_bytes)?;
        let totals = checked.table(dir, TOTALS)?;
        let ids: Vec<&str> = POLICIES.iter().map(|(id, _)| *id).collect();
        let mut columns = vec!["date"];
        columns.extend(&ids);
        totals.require_columns(&columns)?;
        let dates = totals
            .rows()
            .map(|row| row.str("date").map(str::to_string))
            .collect::<Result<Vec<_>, _>>()?;
        let mut policies = Vec::with_capacity(POLICIES.len());
        for (id, name) in POLICIES {
            let record = file
                .policies
                .get(id)
                .cloned()
                .ok_or_else(|| <serde_json::Error as serde::de::Error>::missing_field(id));
            let measures =
                record
                    .and_then(serde_json::from_value)
                    .map_err(|source| RunFolderError::Json {
                        path: path.display().to_string(),
                        source,
                    })?;
            let total = totals
                .rows()
                .map(|row| row.f64(id))
                .collect::<Result<Vec<_>, _>>()?;
            policies.push(Policy {
                id,
                name,
                measures,
                total,
            });
        }
        let members = checked.table(dir, MEMBERS)?;
        columns[0] = "member_id";
        members.require_columns(&columns)?;
        Ok(Self {
            dir: dir.to_path_buf(),
            manifest_sha256: sha256_hex(&checked.manifest_bytes),
            study,
            dates,
            policies,
            stress_period: file.stress_period,
            not_stressed: file.not_stressed,
            largest_members: largest_members(&members, &ids)?,
        })
    }
}

/// Each member's lowest and highest margin under each policy in `ids`, for
/// the [`LARGEST_MEMBERS`] members with the highest under the first (ties
/// in the table's order).
fn largest_members(table: &Table, ids: &[&str]) -> Result<Vec<MemberRange>, RunFolderError> {
    let mut members: Vec<MemberRange> = Vec::new();
    let mut index: HashMap<String, usize> = HashMap::new();
    for row in table.rows() {
        let member_id = row.str("member_id")?;
        let at = *index.entry(member_id.to_string()).or_insert_with(|| {
            members.push(MemberRange {
                member_id: member_id.to_string(),
                ranges: vec![(f64::INFINITY, f64::NEG_INFINITY); ids.len()],
            });
            members.len() - 1
        });
        for (range, id) in members[at].ranges.iter_mut().zip(ids) {
            let margin = row.f64(id)?;
            *range = (range.0.min(margin), range.1.max(margin));
        }
    }
    members.sort_by(|a, b| b.ranges[0].1.total_cmp(&a.ranges[0].1));
    members.truncate(LARGEST_MEMBERS);
    Ok(members)
}
