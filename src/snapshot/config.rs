//! The CCP's configuration (`ccp.toml`): risk measures, scenario model, haircuts
//! and default-fund rules. Unknown keys are rejected so a typo cannot silently
//! leave a default in force. [`CcpConfig::validate`] is the one place that
//! checks the values: the loader calls it on the file, and the command line
//! again after its overrides.

use serde::{Deserialize, Serialize};

mod collateral;
mod default_management;

pub use collateral::{CollateralConfig, RuleId};
pub use default_management::{
    AfterAssessments, CloseOutConfig, HalfSpreadConfig, LiquidityConfig, WaterfallConfig,
    MAX_DEFAULTING_SETS,
};

use super::CONFIG_FILE;
use crate::input::bounds::{self, Bounds};
use crate::input::{Date, InputError, Location};

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CcpConfig {
    /// The snapshot's date, `YYYY-MM-DD`: time to expiry is counted from it.
    pub valuation_date: String,
    #[serde(default)]
    pub risk: RiskConfig,
    #[serde(default)]
    pub scenario: ScenarioConfig,
    #[serde(default)]
    pub collateral: CollateralConfig,
    #[serde(default)]
    pub default_fund: DefaultFundConfig,
    #[serde(default)]
    pub close_out: CloseOutConfig,
    #[serde(default)]
    pub liquidity: LiquidityConfig,
    /// Left out of a written `ccp.toml` while it is the default, so that the
    /// files of a book written before the waterfall was configurable stay
    /// byte for byte the same.
    #[serde(default, skip_serializing_if = "WaterfallConfig::is_default")]
    pub waterfall: WaterfallConfig,
}

impl CcpConfig {
    /// `valuation_date`, parsed.
    pub fn valuation_date(&self) -> Result<Date, InputError> {
        Date::parse(&self.valuation_date).ok_or_else(|| {
            InputError::invalid(
                at("valuation_date"),
                format!(
                    "expected a date YYYY-MM-DD between 1900-01-01 and 9999-12-31, found `{}`",
                    self.valuation_date
                ),
            )
        })
    }

    /// Checks every value the TOML types do not: the valuation date, and each
    /// number against its range in [`bounds`] (the ranges the command-line
    /// flags that override them use too). The error names `ccp.toml` and the dotted key; the loader
    /// names the file's path instead ([`InputError::in_file`]). Cheap: call it
    /// again after any change.
    pub fn validate(&self) -> Result<(), InputError> {
        let check = |key: &str, value: f64, bounds: &Bounds| {
            bounds
                .check(value)
                .map(drop)
                .map_err(|message| InputError::invalid(at(key), message))
        };

        self.valuation_date()?;

        let risk = &self.risk;
        check(
            "risk.margin_period_days",
            risk.margin_period_days,
            &bounds::MARGIN_PERIOD_DAYS,
        )?;
        check("risk.steps", f64::from(risk.steps), &bounds::STEPS)?;
        for (list, values) in [
            ("risk.var_confidence", &risk.var_confidence),
            ("risk.es_confidence", &risk.es_confidence),
        ] {
            for (i, &c) in values.iter().enumerate() {
                check(&format!("{list}[{i}]"), c, &bounds::CONFIDENCE)?;
            }
        }
        check(
            "risk.margin_confidence",
            risk.margin_confidence,
            &bounds::CONFIDENCE,
        )?;

        let scenario = &self.scenario;
        // u64 to f64 rounds only beyond 2^53, far outside the range.
        check("scenario.paths", scenario.paths as f64, &bounds::PATHS)?;
        // Both, whichever innovations are chosen: `compare` runs every model
        // on the same configuration.
        check("scenario.dof", f64::from(scenario.dof), &bounds::DOF)?;
        check("scenario.nig_shape", scenario.nig_shape, &bounds::NIG_SHAPE)?;
        if let Some(jumps) = &scenario.jumps {
            check(
                "scenario.jumps.intensity_per_year",
                jumps.intensity_per_year,
                &bounds::JUMP_INTENSITY,
            )?;
            check(
                "scenario.jumps.mean_sigmas",
                jumps.mean_sigmas,
                &bounds::JUMP_MEAN,
            )?;
            check(
                "scenario.jumps.stdev_sigmas",
                jumps.stdev_sigmas,
                &bounds::JUMP_STDEV,
            )?;
        }
        check(
            "scenario.vol_shock.vol_of_vol",
            scenario.vol_shock.vol_of_vol,
            &bounds::VOL_OF_VOL,
        )?;
        check(
            "scenario.vol_shock.spot_vol_correlation",
            scenario.vol_shock.spot_vol_correlation,
            &bounds::SPOT_VOL_CORRELATION,
        )?;
        check(
            "scenario.block_size",
            scenario.block_size as f64,
            &bounds::BLOCK_SIZE,
        )?;
        if let Some(historical) = &scenario.historical {
            check(
                "scenario.historical.lookback_days",
                f64::from(historical.lookback_days),
                &bounds::LOOKBACK_DAYS,
            )?;
            check(
                "scenario.historical.lambda",
                historical.lambda,
                &bounds::EWMA_LAMBDA,
            )?;
        }

        self.collateral.validate(check)?;

        let fund = &self.default_fund;
        check("default_fund.cover", fund.cover as f64, &bounds::COVER)?;
        check(
            "default_fund.skin_in_the_game",
            fund.skin_in_the_game,
            &bounds::SKIN_IN_THE_GAME,
        )?;
        for (asset, &units) in &self.liquidity.resources {
            check(
                &format!("liquidity.resources.{asset}"),
                units,
                &bounds::LIQUID_RESOURCES,
            )?;
        }

        let close_out = &self.close_out;
        if let Some(days) = close_out.horizon_days {
            check("close_out.horizon_days", days, &bounds::MARGIN_PERIOD_DAYS)?;
        }
        check(
            "close_out.impact_coefficient",
            close_out.impact_coefficient,
            &bounds::IMPACT_COEFFICIENT,
        )?;
        check(
            "close_out.half_spread.crypto",
            close_out.half_spread.crypto,
            &bounds::HALF_SPREAD,
        )?;
        check(
            "close_out.half_spread.stablecoin",
            close_out.half_spread.stablecoin,
            &bounds::HALF_SPREAD,
        )?;
        for (asset, &half_spread) in &close_out.half_spread_by_asset {
            check(
                &format!("close_out.half_spread_by_asset.{asset}"),
                half_spread,
                &bounds::HALF_SPREAD,
            )?;
        }
        self.waterfall.validate(check)
    }
}

/// The location of `key` in the configuration file.
fn at(key: &str) -> Location {
    Location::file(CONFIG_FILE).field(key)
}

/// Risk measures and the margin period of risk.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct RiskConfig {
    /// Margin period of risk in calendar days: the scenario horizon.
    pub margin_period_days: f64,
    /// Time steps the horizon is split into.
    pub steps: u32,
    /// Confidence levels at which VaR is reported.
    pub var_confidence: Vec<f64>,
    /// Confidence levels at which Expected Shortfall is reported.
    pub es_confidence: Vec<f64>,
    /// The measure that sets initial margin.
    pub margin_measure: MarginMeasure,
    /// Confidence of the margin measure.
    pub margin_confidence: f64,
}

impl Default for RiskConfig {
    fn default() -> Self {
        Self {
            margin_period_days: 2.0,
            steps: 1,
            var_confidence: vec![0.99, 0.995],
            es_confidence: vec![0.99],
            margin_measure: MarginMeasure::ExpectedShortfall,
            margin_confidence: 0.99,
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum MarginMeasure {
    ValueAtRisk,
    ExpectedShortfall,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Innovations {
    Gaussian,
    /// Multivariate Student-t with integer degrees of freedom, scaled to unit variance.
    StudentT,
    /// Symmetric multivariate normal inverse Gaussian with shape `nig_shape`,
    /// unit variance: semi-heavy tails with a finite exponential moment, so
    /// that the drift is a true martingale correction (the default).
    Nig,
}

/// Monte Carlo scenario model.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct ScenarioConfig {
    pub paths: u64,
    pub seed: u64,
    pub innovations: Innovations,
    /// Degrees of freedom of the Student-t innovations (integer, 3 to 64).
    pub dof: u32,
    /// Shape (lambda) of the NIG innovations' inverse-Gaussian mixing
    /// variable: smaller is heavier-tailed. The default is the shipped
    /// history's three-year fit to 2025-02-20 (0.682), rounded.
    pub nig_shape: f64,
    /// Market-wide Merton jumps; absent means none.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub jumps: Option<JumpConfig>,
    #[serde(default)]
    pub vol_shock: VolShockConfig,
    /// Scenarios per block streamed through revaluation and tail statistics. A
    /// performance setting: results do not depend on it.
    pub block_size: usize,
    /// Stress scenario files or folders, relative to the snapshot folder. Empty:
    /// the scenarios shipped with clearstress.
    #[serde(default)]
    pub stress: Vec<String>,
    /// Filtered historical simulation instead of the parametric model; absent
    /// means Monte Carlo.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub historical: Option<HistoricalConfig>,
}

/// Filtered historical simulation (run by `scenario::FilteredHistory`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct HistoricalConfig {
    /// Daily closes (the wide schema of `crate::history`), relative to the
    /// snapshot folder.
    pub history: String,
    /// Calendar days of history, ending at the valuation date, whose joint
    /// daily moves are resampled.
    pub lookback_days: u32,
    /// EWMA decay of the volatility filter.
    pub lambda: f64,
}

impl Default for HistoricalConfig {
    fn default() -> Self {
        Self {
            history: String::new(),
            lookback_days: 3 * 365,
            lambda: 0.94,
        }
    }
}

impl Default for ScenarioConfig {
    fn default() -> Self {
        Self {
            paths: 100_000,
            seed: 20_250_220,
            innovations: Innovations::Nig,
            dof: 4,
            nig_shape: 0.7,
            jumps: None,
            vol_shock: VolShockConfig::default(),
            block_size: 4096,
            stress: Vec::new(),
            historical: None,
        }
    }
}

/// Market-wide jumps: the number of jumps in a step is Poisson(intensity x dt),
/// common to all assets; each jump moves asset a's log price by a normal with mean
/// `mean_sigmas` and standard deviation `stdev_sigmas`, in units of the asset's
/// daily volatility.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct JumpConfig {
    pub intensity_per_year: f64,
    pub mean_sigmas: f64,
    pub stdev_sigmas: f64,
}

/// The implied-volatility shock: ln(vol factor) = xi sqrt(h) (rho z_spot +
/// sqrt(1 - rho^2) z_vol), with z_spot the underlying's standardised diffusion
/// move over the horizon.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct VolShockConfig {
    /// Annualised volatility of log implied vol (xi).
    pub vol_of_vol: f64,
    /// Correlation of the log implied-vol move with the spot move (rho).
    pub spot_vol_correlation: f64,
}

impl Default for VolShockConfig {
    fn default() -> Self {
        Self {
            vol_of_vol: 1.2,
            spot_vol_correlation: -0.5,
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum AllocationRule {
    /// Pro rata to each member's initial margin requirement.
    InitialMargin,
    /// Pro rata to each member's largest uncovered stress loss.
    StressLoss,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct DefaultFundConfig {
    /// Number of largest member groups whose joint default the fund must cover.
    pub cover: usize,
    /// The CCP's own capital committed ahead of the mutualised fund, USD.
    pub skin_in_the_game: f64,
    pub allocation: AllocationRule,
}

impl Default for DefaultFundConfig {
    fn default() -> Self {
        Self {
            cover: 2,
            skin_in_the_game: 0.0,
            allocation: AllocationRule::InitialMargin,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn config() -> CcpConfig {
        CcpConfig {
            valuation_date: "2025-02-20".into(),
            risk: RiskConfig::default(),
            scenario: ScenarioConfig::default(),
            collateral: CollateralConfig::default(),
            default_fund: DefaultFundConfig::default(),
            liquidity: LiquidityConfig::default(),
            close_out: CloseOutConfig::default(),
            waterfall: WaterfallConfig::default(),
        }
    }

    #[test]
    fn the_defaults_are_valid() {
        assert!(config().validate().is_ok());
    }

    /// What the command line relies on: a value set after loading is held to
    /// the same range as the file's.
    #[test]
    fn a_change_after_loading_is_checked_like_the_file() {
        let mut c = config();
        c.scenario.paths = 10;
        assert_eq!(
            c.validate().unwrap_err().to_string(),
            "ccp.toml, field `scenario.paths`: expected a whole number of paths in [1000, 1e11], found 10"
        );
    }

    /// `dof` and `nig_shape` are checked whichever innovations are chosen:
    /// `compare` runs every model on one configuration.
    #[test]
    fn every_model_parameter_is_checked_whatever_the_model() {
        let mut c = config();
        c.scenario.innovations = Innovations::Gaussian;
        c.scenario.dof = 0;
        assert!(c
            .validate()
            .unwrap_err()
            .to_string()
            .contains("`scenario.dof`"));
        c.scenario.dof = 4;
        c.scenario.nig_shape = 0.0;
        assert!(c
            .validate()
            .unwrap_err()
            .to_string()
            .contains("`scenario.nig_shape`"));
    }

    /// The default waterfall is left out of a written file (books written
    /// before it was configurable stay the same); a configured one is written
    /// and reads back equal.
    #[test]
    fn the_waterfall_section_is_written_only_when_configured() {
        let mut c = config();
        assert!(!toml::to_string(&c).unwrap().contains("[waterfall]"));
        c.waterfall = WaterfallConfig {
            second_skin_in_the_game: Some(5e6),
            assessment_multiple: Some(1.0),
            after_assessments: AfterAssessments::InsuranceFundAdl,
            insurance_fund: 1e7,
            defaulting_groups: vec![vec!["G1".into(), "G2".into()], vec!["G3".into()]],
        };
        assert!(c.validate().is_ok());
        let text = toml::to_string(&c).unwrap();
        assert!(text.contains("after_assessments = \"insurance-fund-adl\""));
        assert_eq!(toml::from_str::<CcpConfig>(&text).unwrap(), c);
    }
}
