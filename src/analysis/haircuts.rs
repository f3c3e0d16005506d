//! Collateral haircuts calibrated by the engine (docs/methodology.md, 17.7).
//!
//! An asset's haircut is a tail measure (VaR or ES at confidence q) of the
//! fraction of its value it can lose over the liquidation horizon h under the
//! book's scenario model:
//!
//! ```text
//! haircut_a = rho_q(1 - R_a(h)),   R_a(h) = S_a(h) / S_a(0)
//! schedule_a = max(haircut_a, stressed_a)
//! ```
//!
//! `stressed_a` is the same measure on the stressed market of EMIR's
//! anti-procyclicality tools ([`apc_markets`]: each volatility at least its
//! realised volatility over the stress period), the floor that keeps haircuts
//! from falling in calm markets (CPMI-IOSCO PFMI, Principle 5, key
//! consideration 3; EMIR RTS 153/2013 Art. 41).
//!
//! The measure is the engine's own: one synthetic member per asset holds
//! [`NOTIONAL`] USD of it as collateral with haircut 0 and no positions, the
//! margin period of risk set to the liquidation horizon. The compiled book
//! counts a holding's fall `value (1 - R)` as its member's loss
//! (methodology 6.5), so that member's margin is `NOTIONAL x haircut`, with
//! every backend and the exact tail statistics of a run.

use super::apc::{apc_markets, StressPeriod};
use super::{AnalysisError, Runner};
use crate::backend::Backend;
use crate::history::PriceHistory;
use crate::snapshot::{
    AssetClass, CollateralAsset, CollateralHolding, MarginMeasure, MarketData, Member, RiskConfig,
    Snapshot, WaterfallConfig,
};

/// USD of each asset the synthetic members hold: large enough that the
/// losses are far above the tail sums' resolution, small enough that no
/// loss nears their range.
pub const NOTIONAL: f64 = 1e6;

/// The measure a schedule is calibrated to.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct HaircutParams {
    pub measure: MarginMeasure,
    /// In (0.5, 1), as `risk.margin_confidence`.
    pub confidence: f64,
    /// Liquidation horizon in calendar days, in (0, 365], as
    /// `risk.margin_period_days`.
    pub horizon_days: f64,
    /// The period whose realised volatilities set the stressed floor.
    pub stress: StressPeriod,
}

/// What a row of the schedule is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum HaircutClass {
    /// USD: no price risk, haircut 0 by definition.
    Cash,
    Crypto,
    Stablecoin,
}

impl HaircutClass {
    pub fn name(self) -> &'static str {
        match self {
            Self::Cash => "cash",
            Self::Crypto => "crypto",
            Self::Stablecoin => "stablecoin",
        }
    }
}

/// One asset's calibrated haircut beside the configured one. Haircuts are
/// fractions of the market value.
#[derive(Debug, Clone, PartialEq)]
pub struct AssetHaircut {
    /// The asset id (`USD` for cash).
    pub asset: String,
    pub class: HaircutClass,
    /// `collateral.haircuts`'s, if the asset is eligible there.
    pub configured: Option<f64>,
    /// The measure on today's market.
    pub calibrated: f64,
    /// The measure on the stressed market: the floor.
    pub stressed: f64,
    /// ES's Monte Carlo standard errors (methodology 7.3) of `calibrated` and
    /// `stressed`, as fractions; `None` for VaR and for cash.
    pub std_errors: Option<(f64, f64)>,
}

impl AssetHaircut {
    /// The schedule's haircut: the calibrated one, floored at the stressed one.
    pub fn schedule(&self) -> f64 {
        self.calibrated.max(self.stressed)
    }

    /// Configured minus schedule: negative where the configured haircut is
    /// the smaller.
    pub fn difference(&self) -> Option<f64> {
        self.configured.map(|c| c - self.schedule())
    }

    /// The configured haircut is below the schedule.
    pub fn configured_below(&self) -> bool {
        self.difference().is_some_and(|d| d < 0.0)
    }
}

/// The calibrated schedule: cash first, then every asset of the market in
/// its order.
#[derive(Debug, Clone, PartialEq)]
pub struct HaircutSchedule {
    pub params: HaircutParams,
    pub paths: u64,
    pub seed: u64,
    /// The history the stressed volatilities come from.
    pub history: String,
    pub haircuts: Vec<AssetHaircut>,
    /// Assets that kept today's volatility on the stressed market: the
    /// history has too few of their returns in the stress period.
    pub not_stressed: Vec<String>,
}

/// Engine runs a schedule takes: today's market and the stressed one.
pub const RUNS: u64 = 2;

/// The synthetic book whose margins are the haircuts on `market`: one member
/// per asset (its id, its own group) holding [`NOTIONAL`] USD of it with
/// haircut 0, no positions, no stress scenarios, the margin measure and
/// horizon of `params`. The scenario model is `snapshot`'s.
pub fn collateral_book(
    snapshot: &Snapshot,
    market: &MarketData,
    params: &HaircutParams,
) -> Snapshot {
    let mut s = snapshot.clone();
    s.market = market.clone();
    s.members = market
        .assets
        .iter()
        .map(|a| Member {
            id: a.id.clone(),
            name: a.id.clone(),
            group: a.id.clone(),
            df_contribution: 0.0,
            capital: None,
            liquid_resources: None,
        })
        .collect();
    s.positions.clear();
    s.collateral = market
        .assets
        .iter()
        .enumerate()
        .map(|(a, asset)| CollateralHolding {
            member: a,
            asset: CollateralAsset::Asset(a),
            amount: NOTIONAL / asset.spot,
        })
        .collect();
    s.config.collateral.haircuts = market.assets.iter().map(|a| (a.id.clone(), 0.0)).collect();
    s.config.risk = RiskConfig {
        margin_period_days: params.horizon_days,
        steps: snapshot.config.risk.steps,
        var_confidence: vec![params.confidence],
        es_confidence: vec![params.confidence],
        margin_measure: params.measure,
        margin_confidence: params.confidence,
    };
    // The book's own defaulting groups name members this book lacks.
    s.config.waterfall = WaterfallConfig::default();
    s.stress.clear();
    s
}

/// The haircut schedule of `snapshot`'s market under its scenario model,
/// floored at the stressed market's from `history`.
pub fn haircuts<B: Backend>(
    runner: &Runner<B>,
    snapshot: &Snapshot,
    history: &PriceHistory,
    params: &HaircutParams,
) -> Result<HaircutSchedule, AnalysisError> {
    // FHS rescales history by its own EWMA volatilities: a stressed market
    // would change nothing, and the floor would be today's haircut.
    if snapshot.config.scenario.historical.is_some() {
        return Err(AnalysisError::HaircutsUnderFhs);
    }
    let market = &snapshot.market;
    let stressed = apc_markets(history, market, snapshot.valuation_date, params.stress);
    let measured = |market: &MarketData| -> Result<Vec<(f64, f64)>, AnalysisError> {
        let book = collateral_book(snapshot, market, params);
        let result = runner.run_as_of(&book, book.valuation_date)?;
        Ok(book
            .collateral
            .iter()
            .zip(&market.assets)
            .zip(&result.margin.members)
            .map(|((c, asset), m)| {
                let value = c.amount * asset.spot;
                let es_std_error = m.at(params.confidence).map_or(0.0, |t| t.es_std_error);
                (m.initial_margin / value, es_std_error / value)
            })
            .collect())
    };
    let today = measured(market)?;
    let stress = measured(&stressed.stressed)?;
    let configured = |id: &str| snapshot.config.collateral.haircuts.get(id).copied();
    let cash = AssetHaircut {
        asset: "USD".into(),
        class: HaircutClass::Cash,
        configured: configured("USD"),
        calibrated: 0.0,
        stressed: 0.0,
        std_errors: None,
    };
    let es = params.measure == MarginMeasure::ExpectedShortfall;
    let assets = market.assets.iter().zip(today.iter().zip(&stress)).map(
        |(asset, (&(calibrated, se_today), &(stressed, se_stressed)))| AssetHaircut {
            asset: asset.id.clone(),
            class: match asset.class {
                AssetClass::Crypto => HaircutClass::Crypto,
                AssetClass::Stablecoin => HaircutClass::Stablecoin,
            },
            configured: configured(&asset.id),
            calibrated,
            stressed,
            std_errors: es.then_some((se_today, se_stressed)),
        },
    );
    Ok(HaircutSchedule {
        params: *params,
        paths: snapshot.config.scenario.paths,
        seed: snapshot.config.scenario.seed,
        history: history.source.clone(),
        haircuts: std::iter::once(cash).chain(assets).collect(),
        not_stressed: stressed.not_stressed,
    })
}
