//! The run's Parquet tables the report shows row by row, each read through
//! [`CheckedFolder::table`] (listed in the manifest, hashed again as it is
//! decoded): the values as written, nothing recomputed.

use std::path::Path;

use super::run_folder::{CheckedFolder, RunFolderError};

pub const STRESS_GROUPS: &str = "stress_groups.parquet";
pub const ALLOCATION: &str = "default_fund.parquet";
pub const WATERFALL: &str = "waterfall.parquet";

/// The tables a run writes since it manages defaults (methodology 9.4-9.7):
/// a run folder without them is an older version's.
pub const DEFAULT_MANAGEMENT: [&str; 4] = [
    WATERFALL,
    "close_out.parquet",
    "reverse_stress.parquet",
    "liquidity_stress.parquet",
];

/// A row of `stress_groups.parquet`: an affiliate group in a stress scenario.
#[derive(Debug, Clone)]
pub struct StressGroup {
    pub scenario: String,
    pub group: String,
    pub loss: f64,
    pub collateral: f64,
    pub uncovered: f64,
}

/// Every row of `stress_groups.parquet`, in the file's order.
pub fn stress_groups(
    checked: &CheckedFolder,
    dir: &Path,
) -> Result<Vec<StressGroup>, RunFolderError> {
    let table = checked.table(dir, STRESS_GROUPS)?;
    table.require_columns(&["scenario", "group", "loss", "collateral", "uncovered"])?;
    let rows = table.rows().map(|row| -> Result<_, RunFolderError> {
        Ok(StressGroup {
            scenario: row.str("scenario")?.to_string(),
            group: row.str("group")?.to_string(),
            loss: row.f64("loss")?,
            collateral: row.f64("collateral")?,
            uncovered: row.f64("uncovered")?,
        })
    });
    rows.collect()
}

/// A row of `default_fund.parquet`: a member's share of the requirement.
#[derive(Debug, Clone)]
pub struct Allocation {
    pub member_id: String,
    pub group: String,
    pub share: f64,
    pub required: f64,
    pub current: f64,
    pub top_up: f64,
}

/// Every row of `default_fund.parquet`, in the file's (the members') order.
pub fn allocation(checked: &CheckedFolder, dir: &Path) -> Result<Vec<Allocation>, RunFolderError> {
    let table = checked.table(dir, ALLOCATION)?;
    table.require_columns(&[
        "member_id",
        "group",
        "share",
        "required_contribution",
        "current_contribution",
        "top_up",
    ])?;
    let rows = table.rows().map(|row| -> Result<_, RunFolderError> {
        Ok(Allocation {
            member_id: row.str("member_id")?.to_string(),
            group: row.str("group")?.to_string(),
            share: row.f64("share")?,
            required: row.f64("required_contribution")?,
            current: row.f64("current_contribution")?,
            top_up: row.f64("top_up")?,
        })
    });
    rows.collect()
}

/// A row of `waterfall.parquet`: a layer of one stress scenario's waterfall.
#[derive(Debug, Clone)]
pub struct WaterfallLayer {
    pub scenario: String,
    /// `cover-n` or `configured-i`; `cover-n` in a folder written before
    /// configured sets existed (every row was a Cover-n default then).
    pub case: String,
    pub defaulting_groups: String,
    pub layer: String,
    pub available: f64,
    pub used: f64,
    pub remaining: f64,
}

/// Every row of `waterfall.parquet`, in the file's order (scenarios, then
/// layers in the order used).
pub fn waterfall(
    checked: &CheckedFolder,
    dir: &Path,
) -> Result<Vec<WaterfallLayer>, RunFolderError> {
    let table = checked.table(dir, WATERFALL)?;
    table.require_columns(&[
        "scenario",
        "defaulting_groups",
        "layer",
        "available",
        "used",
        "remaining",
    ])?;
    let has_case = table.has_column("case");
    let rows = table.rows().map(|row| -> Result<_, RunFolderError> {
        Ok(WaterfallLayer {
            scenario: row.str("scenario")?.to_string(),
            case: if has_case {
                row.str("case")?.to_string()
            } else {
                "cover-n".into()
            },
            defaulting_groups: row.str("defaulting_groups")?.to_string(),
            layer: row.str("layer")?.to_string(),
            available: row.f64("available")?,
            used: row.f64("used")?,
            remaining: row.f64("remaining")?,
        })
    });
    rows.collect()
}
