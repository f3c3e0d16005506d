//! `settle` folders read back for the report (`--settlement`, up to one of
//! each kind): a day's settlement (`summary.json` with its netting, payments
//! and margin calls, and `margin_calls.parquet`'s largest calls) and a
//! replay over a history (`summary.json` with PQD 6.6 to 6.8, and
//! `vm_history.parquet`'s days). Each is checked as a run folder is (the
//! tool, the kind `settle`, the version, the SHA-256 of every output) and
//! against the run's book (the inputs its manifest records) before anything
//! is rendered.

use std::path::{Path, PathBuf};

use serde::Deserialize;
use serde_json::Value;

use super::run_folder::{parse, CheckedFolder, Hashed, RunFolder, RunFolderError, MANIFEST};
use crate::input::sha256_hex;

const SUMMARY: &str = "summary.json";
const CALLS: &str = "margin_calls.parquet";
const HISTORY: &str = "vm_history.parquet";
/// The members whose margin calls the report lists, at most.
pub const LARGEST_CALLS: usize = 10;

/// Gross against net obligations, as `settle` records them.
#[derive(Debug, Clone, Deserialize)]
pub struct Netting {
    pub gross: f64,
    pub net: f64,
    pub imbalance: f64,
    pub netting_efficiency: Option<f64>,
}

#[derive(Debug, Clone, Deserialize)]
pub struct AssetNetting {
    pub settlement_asset: String,
    pub price_usd: f64,
    #[serde(flatten)]
    pub netting: Netting,
}

#[derive(Debug, Clone, Deserialize)]
pub struct Payments {
    pub count: u64,
    pub members_pay_usd: f64,
    pub members_receive_usd: f64,
}

#[derive(Debug, Clone, Deserialize)]
pub struct CallTotals {
    pub paths: u64,
    pub members_called: u64,
    pub total_call_usd: f64,
    pub total_im_shortfall_usd: f64,
}

/// One member's margin call, from `margin_calls.parquet`.
#[derive(Debug, Clone, PartialEq)]
pub struct MemberCall {
    pub member_id: String,
    pub vm_pays_usd: f64,
    pub im_shortfall: f64,
    pub call_usd: f64,
}

/// A day's settlement: `summary.json` and the largest calls.
#[derive(Debug, Clone, Deserialize)]
pub struct Day {
    pub prices: String,
    pub start: String,
    pub end: String,
    pub days: u32,
    pub positions: u64,
    pub members: u64,
    pub by_settlement_asset: Vec<AssetNetting>,
    pub total_usd: Netting,
    pub payments: Payments,
    pub margin_calls: Option<CallTotals>,
    /// The [`LARGEST_CALLS`] largest calls, largest first (empty without
    /// margin calls).
    #[serde(skip)]
    pub largest_calls: Vec<MemberCall>,
}

#[derive(Debug, Clone, Deserialize)]
pub struct Skipped {
    pub date: String,
    pub reason: String,
}

/// A replay over a history: `summary.json` and the days.
#[derive(Debug, Clone, Deserialize)]
pub struct Replay {
    pub history: String,
    pub from: String,
    pub to: String,
    pub days_replayed: u64,
    pub average_vm_paid_usd: f64,
    pub max_vm_paid_usd: Option<f64>,
    pub max_vm_paid_date: Option<String>,
    pub max_im_call_usd: Option<f64>,
    pub max_im_call_date: Option<String>,
    /// Monte Carlo paths of each day's margin run (`None`: `--no-margin`).
    pub paths: Option<u64>,
    pub skipped: Vec<Skipped>,
    /// `vm_history.parquet`: each replayed day, its total VM paid and its
    /// aggregate initial-margin call (none under `--no-margin`).
    #[serde(skip)]
    pub dates: Vec<String>,
    #[serde(skip)]
    pub vm_paid: Vec<f64>,
    #[serde(skip)]
    pub im_call: Vec<Option<f64>>,
}

/// The folders given, at most one of each kind.
#[derive(Debug, Clone, Default)]
pub struct SettlementFolders {
    pub day: Option<Opened<Day>>,
    pub replay: Option<Opened<Replay>>,
}

/// A folder and what was read from it.
#[derive(Debug, Clone)]
pub struct Opened<T> {
    pub dir: PathBuf,
    /// The SHA-256 of `manifest.json`, which pins every output it lists.
    pub manifest_sha256: String,
    pub read: T,
}

/// The part of a `settle` manifest the book check reads.
#[derive(Deserialize)]
struct SettleManifest {
    inputs: Vec<Hashed>,
}

impl SettlementFolders {
    /// Opens and checks each of `dirs` against `run`; two folders of the
    /// same kind are refused, naming the second.
    pub fn open(dirs: &[PathBuf], run: &RunFolder) -> Result<Self, RunFolderError> {
        let mut folders = Self::default();
        for dir in dirs {
            let checked = CheckedFolder::open(dir, "settle", SUMMARY)?;
            let manifest: SettleManifest = parse(&dir.join(MANIFEST), &checked.manifest_bytes)?;
            run.check_same_book(dir, "settle", &manifest.inputs)?;
            let manifest_sha256 = sha256_hex(&checked.manifest_bytes);
            let summary_path = dir.join(SUMMARY);
            let summary: Value = parse(&summary_path, &checked.main_bytes)?;
            let second = |kind: &'static str| RunFolderError::SecondSettlement {
                dir: dir.display().to_string(),
                kind,
            };
            if summary.get("days_replayed").is_some() {
                if folders.replay.is_some() {
                    return Err(second("replay"));
                }
                let mut read: Replay = typed(&summary_path, summary)?;
                let days = checked.table(dir, HISTORY)?;
                days.require_columns(&["date", "vm_paid_usd", "im_call_usd"])?;
                for row in days.rows() {
                    read.dates.push(row.str("date")?.to_string());
                    read.vm_paid.push(row.f64("vm_paid_usd")?);
                    read.im_call.push(row.opt_f64("im_call_usd")?);
                }
                folders.replay = Some(Opened {
                    dir: dir.clone(),
                    manifest_sha256,
                    read,
                });
            } else {
                if folders.day.is_some() {
                    return Err(second("day"));
                }
                let mut read: Day = typed(&summary_path, summary)?;
                if read.margin_calls.is_some() {
                    read.largest_calls = largest_calls(&checked, dir)?;
                }
                folders.day = Some(Opened {
                    dir: dir.clone(),
                    manifest_sha256,
                    read,
                });
            }
        }
        Ok(folders)
    }
}

/// `value`, read from `path`, as a `T`.
fn typed<T: serde::de::DeserializeOwned>(path: &Path, value: Value) -> Result<T, RunFolderError> {
    serde_json::from_value(value).map_err(|source| RunFolderError::Json {
        path: path.display().to_string(),
        source,
    })
}

/// The [`LARGEST_CALLS`] largest calls of `margin_calls.parquet`, largest
/// first (ties in the table's order), members not called left out.
fn largest_calls(checked: &CheckedFolder, dir: &Path) -> Result<Vec<MemberCall>, RunFolderError> {
    let table = checked.table(dir, CALLS)?;
    table.require_columns(&["member_id", "vm_pays_usd", "im_shortfall", "call_usd"])?;
    let mut calls = Vec::new();
    for row in table.rows() {
        let call = MemberCall {
            member_id: row.str("member_id")?.to_string(),
            vm_pays_usd: row.f64("vm_pays_usd")?,
            im_shortfall: row.f64("im_shortfall")?,
            call_usd: row.f64("call_usd")?,
        };
        if call.call_usd > 0.0 {
            calls.push(call);
        }
    }
    calls.sort_by(|a, b| b.call_usd.total_cmp(&a.call_usd));
    calls.truncate(LARGEST_CALLS);
    Ok(calls)
}
