//! Every member's margin under each scenario model side by side, on the same
//! book, seed and paths: Gaussian, Student-t, NIG, each with and without
//! jumps where the book configures none, and, with a history, filtered
//! historical simulation and the configured model under each of EMIR's
//! anti-procyclicality tools at the valuation date (as `run --apc` applies
//! them).

use super::apc::{apply_apc, StressPeriod};
use super::{AnalysisError, Runner};
use crate::backend::Backend;
use crate::history::PriceHistory;
use crate::input::bounds::Significant;
use crate::margin::procyclicality::ApcTool;
use crate::snapshot::{Innovations, JumpConfig, Snapshot};

/// Jumps compared where the book configures none: three a year of -2.5
/// standard deviations on average (sd 1.5), the order of crypto's crash days.
pub const DEFAULT_JUMPS: JumpConfig = JumpConfig {
    intensity_per_year: 3.0,
    mean_sigmas: -2.5,
    stdev_sigmas: 1.5,
};

/// One column of the comparison.
#[derive(Debug, Clone, PartialEq)]
pub struct ModelMargins {
    /// Column name, e.g. `student_t_4_jumps_3_per_year` (parameters to four
    /// significant digits).
    pub name: String,
    /// Each member's initial margin.
    pub margins: Vec<f64>,
}

/// The columns, and the APC tools that could not be computed, with why.
#[derive(Debug, Clone)]
pub struct Comparison {
    pub models: Vec<ModelMargins>,
    pub not_computed: Vec<(String, String)>,
}

/// A scenario model the comparison and the backtest (`--model`) run in
/// place of the configured one: one source of their names.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ModelVariant {
    Gaussian,
    StudentT,
    StudentTJumps,
    Nig,
    NigJumps,
    /// Filtered historical simulation on the given history.
    Fhs,
}

impl ModelVariant {
    pub const ALL: [Self; 6] = [
        Self::Gaussian,
        Self::StudentT,
        Self::StudentTJumps,
        Self::Nig,
        Self::NigJumps,
        Self::Fhs,
    ];

    /// Its short name (`backtest --model`): the comparison's column without
    /// the parameters.
    pub fn key(self) -> &'static str {
        match self {
            Self::Gaussian => "gaussian",
            Self::StudentT => "student_t",
            Self::StudentTJumps => "student_t_jumps",
            Self::Nig => "nig",
            Self::NigJumps => "nig_jumps",
            Self::Fhs => "fhs",
        }
    }

    /// Its column in `margins_by_model.parquet`, with `base`'s parameters to
    /// four significant digits, e.g. `student_t_4_jumps_3_per_year`.
    pub fn column(self, base: &Snapshot) -> String {
        let dof = base.config.scenario.dof;
        let shape = Significant(base.config.scenario.nig_shape);
        let per_year = Significant(jumps_of(base).intensity_per_year);
        match self {
            Self::Gaussian | Self::Fhs => self.key().to_string(),
            Self::StudentT => format!("student_t_{dof}"),
            Self::StudentTJumps => format!("student_t_{dof}_jumps_{per_year}_per_year"),
            Self::Nig => format!("nig_{shape}"),
            Self::NigJumps => format!("nig_{shape}_jumps_{per_year}_per_year"),
        }
    }

    /// `base` under this model: the innovations and jumps replaced (the
    /// book's jumps, or [`DEFAULT_JUMPS`] where it configures none), or FHS
    /// on `history` (`None` without one).
    pub fn snapshot(
        self,
        base: &Snapshot,
        history: Option<(&str, &PriceHistory)>,
    ) -> Option<Snapshot> {
        let variant = |innovations, jumps: bool| {
            let mut s = base.clone();
            s.config.scenario.innovations = innovations;
            s.config.scenario.jumps = jumps.then(|| jumps_of(base));
            s.config.scenario.historical = None;
            Some(s)
        };
        match self {
            Self::Gaussian => variant(Innovations::Gaussian, false),
            Self::StudentT => variant(Innovations::StudentT, false),
            Self::StudentTJumps => variant(Innovations::StudentT, true),
            Self::Nig => variant(Innovations::Nig, false),
            Self::NigJumps => variant(Innovations::Nig, true),
            Self::Fhs => {
                let (path, history) = history?;
                let mut s = base.clone();
                let mut historical = base.config.scenario.historical.clone().unwrap_or_default();
                historical.history = path.to_string();
                s.config.scenario.historical = Some(historical);
                s.history = Some(history.clone());
                Some(s)
            }
        }
    }
}

/// The jumps a jump model uses on `base`.
fn jumps_of(base: &Snapshot) -> JumpConfig {
    base.config.scenario.jumps.clone().unwrap_or(DEFAULT_JUMPS)
}

/// The snapshots the comparison runs, by column name (the configured model
/// and the APC columns aside): every [`ModelVariant`], FHS with a history
/// only.
pub fn model_variants(
    base: &Snapshot,
    history: Option<(&str, &PriceHistory)>,
) -> Vec<(String, Snapshot)> {
    ModelVariant::ALL
        .into_iter()
        .filter_map(|v| Some((v.column(base), v.snapshot(base, history)?)))
        .collect()
}

/// Engine runs the comparison takes: one per model, and with a history the
/// configured model and its stressed and floor markets.
pub fn runs(base: &Snapshot, history: Option<(&str, &PriceHistory)>) -> u64 {
    let apc = if history.is_some() { 3 } else { 0 };
    model_variants(base, history).len() as u64 + apc
}

/// Runs every model of [`model_variants`] on `runner`; with a history, also
/// the configured model and the configured model under each APC tool.
pub fn compare<B: Backend>(
    runner: &Runner<B>,
    base: &Snapshot,
    history: Option<(&str, &PriceHistory)>,
    stress: StressPeriod,
) -> Result<Comparison, AnalysisError> {
    let mut models = Vec::new();
    for (name, s) in model_variants(base, history) {
        let margins = runner.run(&s)?.margin.initial_margins();
        models.push(ModelMargins { name, margins });
    }
    let mut not_computed = Vec::new();
    if let Some((_, history)) = history {
        let configured = runner.run(base)?;
        models.push(ModelMargins {
            name: "configured".into(),
            margins: configured.margin.initial_margins(),
        });
        for (name, tool) in [
            ("apc_buffer_25", ApcTool::Buffer),
            ("apc_stressed_weight_25", ApcTool::StressedWeight),
            ("apc_floor_10y", ApcTool::Floor),
        ] {
            let mut r = configured.clone();
            match apply_apc(runner, base, &mut r, tool, Some(history), stress) {
                Ok(()) => models.push(ModelMargins {
                    name: name.into(),
                    margins: r.margin.initial_margins(),
                }),
                // Said, and the column left out, rather than a copy of the
                // configured margins under the tool's name.
                Err(e @ AnalysisError::ApcUnderFhs { .. }) => {
                    not_computed.push((name.to_string(), e.to_string()))
                }
                Err(e) => return Err(e),
            }
        }
    }
    Ok(Comparison {
        models,
        not_computed,
    })
}
