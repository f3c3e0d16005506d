//! `backtest --model`: the margin models a researcher backtests side by side
//! on the same days and portfolios (methodology, section 12b), and each
//! model's margins through the days.
//!
//! A model's name is `SCENARIOS[+CORRELATION][+APC]`:
//!
//! - `SCENARIOS`: `configured` (the book's own model) or one of
//!   [`ModelVariant`]'s keys, the names of `clearstress compare`'s columns
//!   without their parameters: `gaussian`, `student_t`, `student_t_jumps`,
//!   `nig`, `nig_jumps`, `fhs`;
//! - `CORRELATION`, the estimator of each day's correlation (methodology,
//!   11.4; the sample correlation over the look-back when absent):
//!   `corr_sample`, `corr_ewma`, `corr_ledoit_wolf`, `corr_stressed` (the
//!   sample correlation over the stress period's days up to the day);
//! - `APC`, an anti-procyclicality tool on each portfolio's margin series
//!   (12.1, 12.3): `apc_buffer` (a 25% buffer released as margins rise),
//!   `apc_stressed_weight` (25% weight on the margin under the stressed
//!   market as of the day), `apc_floor` (at least the margin under the
//!   10-year floor market as of the day).

use super::day_loop::BacktestParams;
use super::BacktestError;
use crate::analysis::apc::{apc_markets, StressPeriod};
use crate::analysis::as_of::{AsOf, Recalibration};
use crate::analysis::compare::ModelVariant;
use crate::analysis::{AnalysisError, Runner};
use crate::backend::Backend;
use crate::book::CompiledBook;
use crate::calibrate::CorrelationModel;
use crate::engine::{scenario_model_as_of, RunError};
use crate::history::PriceHistory;
use crate::input::Date;
use crate::margin::procyclicality::{buffered, floored, stressed_weighted, ApcTool};
use crate::snapshot::{MarginMeasure, Snapshot};

/// The correlation estimators by name.
const CORRELATIONS: [(&str, CorrelationModel); 4] = [
    ("corr_sample", CorrelationModel::Sample),
    ("corr_ewma", CorrelationModel::Ewma),
    ("corr_ledoit_wolf", CorrelationModel::LedoitWolf),
    ("corr_stressed", CorrelationModel::Stressed),
];

/// The APC tools by name (`compare`'s columns without their parameters).
const APC_TOOLS: [(&str, ApcTool); 3] = [
    ("apc_buffer", ApcTool::Buffer),
    ("apc_stressed_weight", ApcTool::StressedWeight),
    ("apc_floor", ApcTool::Floor),
];

/// Where a model's scenarios come from.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Scenarios {
    /// The book's configured model.
    Configured,
    Variant(ModelVariant),
}

/// One model of the comparison (module docs).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct BacktestModel {
    pub scenarios: Scenarios,
    /// `None`: the sample correlation over the look-back.
    pub correlation: Option<CorrelationModel>,
    pub apc: Option<ApcTool>,
}

impl BacktestModel {
    /// The book's model, its calibration as in section 12.3, no APC tool.
    pub const CONFIGURED: Self = Self {
        scenarios: Scenarios::Configured,
        correlation: None,
        apc: None,
    };

    /// Reads `SCENARIOS[+CORRELATION][+APC]` (module docs).
    pub fn parse(text: &str) -> Result<Self, String> {
        let refuse = |why: String| format!("`{text}`: {why}; {}", Self::grammar());
        let mut parts = text.split('+');
        let first = parts.next().unwrap_or_default();
        let scenarios = if first == "configured" {
            Scenarios::Configured
        } else {
            let variant = ModelVariant::ALL.into_iter().find(|v| v.key() == first);
            Scenarios::Variant(variant.ok_or_else(|| refuse(format!("unknown model `{first}`")))?)
        };
        let mut model = Self {
            scenarios,
            correlation: None,
            apc: None,
        };
        for part in parts {
            let correlation = CORRELATIONS.iter().find(|c| c.0 == part);
            let apc = APC_TOOLS.iter().find(|a| a.0 == part);
            match (correlation, apc) {
                (Some(_), _) if model.correlation.is_some() => {
                    return Err(refuse("one correlation at most".into()))
                }
                (_, Some(_)) if model.apc.is_some() => {
                    return Err(refuse("one APC tool at most".into()))
                }
                (Some(&(_, c)), _) => model.correlation = Some(c),
                (_, Some(&(_, a))) => model.apc = Some(a),
                (None, None) => return Err(refuse(format!("unknown modifier `{part}`"))),
            }
        }
        Ok(model)
    }

    /// Its name, parts in the grammar's order: `student_t+corr_ewma+apc_floor`.
    pub fn name(&self) -> String {
        let mut name = match self.scenarios {
            Scenarios::Configured => "configured".to_string(),
            Scenarios::Variant(v) => v.key().to_string(),
        };
        if let Some(c) = self.correlation {
            let key = CORRELATIONS.iter().find(|x| x.1 == c).map_or("", |x| x.0);
            name = format!("{name}+{key}");
        }
        if let Some(a) = self.apc {
            let key = APC_TOOLS.iter().find(|x| x.1 == a).map_or("", |x| x.0);
            name = format!("{name}+{key}");
        }
        name
    }

    /// What a name may be, for `--help` and the errors.
    pub fn grammar() -> String {
        let mut scenarios = vec!["configured"];
        scenarios.extend(ModelVariant::ALL.map(|v| v.key()));
        let names = |list: &[&str]| list.join("|");
        format!(
            "expected SCENARIOS[+CORRELATION][+APC] with SCENARIOS one of {}, CORRELATION one \
             of {}, APC one of {}",
            names(&scenarios),
            names(&CORRELATIONS.map(|c| c.0)),
            names(&APC_TOOLS.map(|a| a.0)),
        )
    }
}

/// The models of one backtest and what they share.
#[derive(Debug, Clone)]
pub struct ModelSet {
    /// Distinct, in the order given; the first is the one the HTML report reads.
    pub models: Vec<BacktestModel>,
    /// The stress period of `corr_stressed` and `apc_stressed_weight`.
    pub stress: StressPeriod,
    /// The history's path, recorded in the FHS model's configuration.
    pub history_path: String,
}

impl ModelSet {
    /// The configured model alone.
    pub fn configured() -> Self {
        Self {
            models: vec![BacktestModel::CONFIGURED],
            stress: StressPeriod::default(),
            history_path: String::new(),
        }
    }

    /// Engine runs a day over all the models: one each, two with the
    /// stressed-weight or floor tool.
    pub fn runs_per_day(&self) -> u64 {
        let second = |m: &BacktestModel| {
            matches!(m.apc, Some(ApcTool::StressedWeight | ApcTool::Floor)) as u64
        };
        self.models.iter().map(|m| 1 + second(m)).sum()
    }
}

/// Each member's series under one model, member-major `[m][day]`.
pub(super) struct ModelMargins {
    pub margins: Vec<Vec<f64>>,
    /// The VaR at the margin confidence, for Z2: none under an APC tool,
    /// whose margin is no longer the model's ES.
    pub var: Option<Vec<Vec<f64>>>,
    /// Z2's draws `[m][day][path]` (ES margins, no APC tool,
    /// `z2_simulations > 0`).
    pub simulated: Option<Vec<Vec<Vec<f64>>>>,
}

/// The margins of `tested`'s members under `model` on each of `dates`: the
/// market calibrated as of each day with the model's correlation, the
/// model's scenarios, and its APC tool applied to each member's series.
pub(super) fn margins_under<B: Backend>(
    runner: &Runner<B>,
    tested: &Snapshot,
    history: &PriceHistory,
    dates: &[Date],
    params: &BacktestParams,
    set: &ModelSet,
    model: BacktestModel,
) -> Result<ModelMargins, AnalysisError> {
    let s = match model.scenarios {
        Scenarios::Configured => tested.clone(),
        Scenarios::Variant(v) => v
            .snapshot(tested, Some((&set.history_path, history)))
            .ok_or(RunError::NoHistory)?,
    };
    // FHS rescales the history by its own EWMA volatilities: it reads
    // neither the market's correlation nor its volatilities.
    if s.config.scenario.historical.is_some() {
        if model.correlation.is_some() {
            return Err(BacktestError::CorrelationUnderFhs(model.name()).into());
        }
        if let Some(tool @ (ApcTool::StressedWeight | ApcTool::Floor)) = model.apc {
            return Err(AnalysisError::ApcUnderFhs { tool });
        }
    }
    let members = s.members.len();
    let rule = &s.config.risk;
    let calibration = Recalibration {
        lookback_days: params.lookback_days,
        lambda: params.lambda,
        correlation: model.correlation.unwrap_or(CorrelationModel::Sample),
        stress: set.stress,
    };
    let simulate = model.apc.is_none()
        && rule.margin_measure == MarginMeasure::ExpectedShortfall
        && params.z2_simulations > 0;
    let mut base = vec![Vec::with_capacity(dates.len()); members];
    let mut other = vec![Vec::with_capacity(dates.len()); members];
    let mut var = vec![Vec::with_capacity(dates.len()); members];
    let mut simulated = vec![Vec::with_capacity(dates.len()); if simulate { members } else { 0 }];
    for (k, &date) in dates.iter().enumerate() {
        let seen = AsOf::new(&s, history, date, calibration)?;
        let result = seen.run(runner, &s, &seen.market)?;
        for (m, member) in result.margin.members.iter().enumerate() {
            base[m].push(member.initial_margin);
            var[m].push(
                member
                    .at(rule.margin_confidence)
                    .map_or(f64::NAN, |x| x.var),
            );
        }
        if let Some(tool @ (ApcTool::StressedWeight | ApcTool::Floor)) = model.apc {
            let markets = apc_markets(&seen.history, &seen.market, date, set.stress);
            let market = match tool {
                ApcTool::StressedWeight => markets.stressed,
                _ => markets.floor,
            };
            let r = seen.run(runner, &s, &market)?;
            for (m, member) in r.margin.members.iter().enumerate() {
                other[m].push(member.initial_margin);
            }
        }
        if simulate {
            let paths = model_draws(runner.backend, &seen, &s, k, params.z2_simulations)?;
            for (m, drawn) in paths.into_iter().enumerate() {
                simulated[m].push(drawn);
            }
        }
    }
    let margins = match model.apc {
        None => base,
        // The buffer runs along each portfolio's own series of days, as in
        // the margin history (12.3), not from a fresh start each day.
        Some(ApcTool::Buffer) => base.iter().map(|b| buffered(b, ApcTool::SHARE)).collect(),
        Some(ApcTool::StressedWeight) => (0..members)
            .map(|m| stressed_weighted(&base[m], &other[m], ApcTool::SHARE))
            .collect(),
        Some(ApcTool::Floor) => (0..members).map(|m| floored(&base[m], &other[m])).collect(),
    };
    Ok(ModelMargins {
        margins,
        var: model.apc.is_none().then_some(var),
        simulated: simulate.then_some(simulated),
    })
}

/// Each member's losses in `count` scenarios drawn from the model of
/// `seen`'s date, `[member][path]`: day `k` draws scenarios `k count ..
/// (k + 1) count`, so that no two days share a draw (Z2's reference
/// distribution takes the days as independent).
fn model_draws<B: Backend>(
    backend: &B,
    seen: &AsOf,
    snapshot: &Snapshot,
    k: usize,
    count: usize,
) -> Result<Vec<Vec<f64>>, AnalysisError> {
    let s = seen.snapshot(snapshot, &seen.market);
    let book = CompiledBook::compile(&s).map_err(RunError::from)?;
    let model = scenario_model_as_of(&s, &book, seen.date)?;
    let plan = backend.prepare(&book, &model).map_err(RunError::from)?;
    let first = (k * count) as u64;
    let block = backend
        .scenarios(&plan, first..first + count as u64)
        .map_err(RunError::from)?;
    let losses = backend.revalue(&plan, &block).map_err(RunError::from)?;
    Ok((0..book.members)
        .map(|m| (0..count).map(|i| losses.loss(m, i)).collect())
        .collect())
}
