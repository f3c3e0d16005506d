//! The configuration of default management in `ccp.toml`: the waterfall's
//! layers beyond the default fund, the close-out cost, the liquid resources
//! (methodology 9.4, 9.5, 9.7).

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use super::at;
use crate::input::bounds::{self, Bounds};
use crate::input::InputError;

/// The CCP's qualifying liquid resources for the liquidity stress
/// (methodology 9.7).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct LiquidityConfig {
    /// Units held per asset id (`USD` for cash), at hand on the day.
    pub resources: BTreeMap<String, f64>,
}

/// The cost of liquidating a defaulter's portfolio
/// (`default_management::close_out`; docs/methodology.md, section 9.5).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct CloseOutConfig {
    /// Days over which the positions are liquidated (H); absent: the margin
    /// period of risk, the horizon the margin covers.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub horizon_days: Option<f64>,
    /// Y of the square-root impact Y sigma_daily sqrt(|Q| / (ADV H)).
    pub impact_coefficient: f64,
    /// Half the bid-ask spread, as a fraction of the price, by asset class.
    pub half_spread: HalfSpreadConfig,
    /// Half spreads of single assets, in place of their class's.
    pub half_spread_by_asset: BTreeMap<String, f64>,
}

impl CloseOutConfig {
    /// The horizon H in days: the configured one, else `margin_period_days`.
    pub fn horizon_days(&self, margin_period_days: f64) -> f64 {
        self.horizon_days.unwrap_or(margin_period_days)
    }
}

impl Default for CloseOutConfig {
    /// Y = 1, the order Tóth et al. (2011) and Almgren et al. (2005) measure;
    /// half spreads of 5 bp on crypto and 1 bp on stablecoins: wider than the
    /// majors' quoted top of book, for a size that walks the book.
    fn default() -> Self {
        Self {
            horizon_days: None,
            impact_coefficient: 1.0,
            half_spread: HalfSpreadConfig::default(),
            half_spread_by_asset: BTreeMap::new(),
        }
    }
}

/// Half spreads by asset class, fractions of the price.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct HalfSpreadConfig {
    pub crypto: f64,
    pub stablecoin: f64,
}

impl Default for HalfSpreadConfig {
    fn default() -> Self {
        Self {
            crypto: 0.0005,
            stablecoin: 0.0001,
        }
    }
}

/// What the default waterfall has beyond the default fund
/// (`crate::default_management::waterfall`; methodology 9.4): its optional
/// layers after the survivors' contributions. The defaults add none, which is
/// the three prefunded layers after the defaulters' margin.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct WaterfallConfig {
    /// The CCP's second skin in the game (EU CCPRRR 2021/23 Art. 9(14)), USD,
    /// used after the survivors' contributions; absent: no such layer.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub second_skin_in_the_game: Option<f64>,
    /// Each survivor's assessment cap as a multiple of its contribution;
    /// absent: no assessment powers.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub assessment_multiple: Option<f64>,
    /// What absorbs a loss left after the assessments.
    pub after_assessments: AfterAssessments,
    /// The venue's insurance fund, USD: used before auto-deleveraging, so
    /// only with `after_assessments = "insurance-fund-adl"`.
    pub insurance_fund: f64,
    /// Sets of affiliate groups (members.csv's `group`) whose joint default
    /// is walked through the waterfall in every stress scenario, besides
    /// the scenario's own Cover-n groups; at most [`MAX_DEFAULTING_SETS`].
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub defaulting_groups: Vec<Vec<String>>,
}

/// The most sets of defaulting groups a configuration may name: each is one
/// more waterfall per stress scenario.
pub const MAX_DEFAULTING_SETS: usize = 100;

impl WaterfallConfig {
    pub(super) fn is_default(&self) -> bool {
        *self == Self::default()
    }

    /// Checks each amount against its range and refuses an insurance fund
    /// that no layer would use: it would be silently ignored otherwise.
    pub(super) fn validate(
        &self,
        check: impl Fn(&str, f64, &Bounds) -> Result<(), InputError>,
    ) -> Result<(), InputError> {
        if let Some(second) = self.second_skin_in_the_game {
            check(
                "waterfall.second_skin_in_the_game",
                second,
                &bounds::CCP_RESOURCE,
            )?;
        }
        if let Some(multiple) = self.assessment_multiple {
            check(
                "waterfall.assessment_multiple",
                multiple,
                &bounds::ASSESSMENT_MULTIPLE,
            )?;
        }
        check(
            "waterfall.insurance_fund",
            self.insurance_fund,
            &bounds::CCP_RESOURCE,
        )?;
        self.validate_defaulting_groups()?;
        if self.insurance_fund > 0.0 && self.after_assessments != AfterAssessments::InsuranceFundAdl
        {
            return Err(InputError::invalid(
                at("waterfall.insurance_fund"),
                format!(
                    "an insurance fund ({}) is used only with after_assessments = \"insurance-fund-adl\"",
                    self.insurance_fund
                ),
            ));
        }
        Ok(())
    }
}

impl WaterfallConfig {
    /// At most [`MAX_DEFAULTING_SETS`] sets, each naming at least one group
    /// and none twice (whether the groups exist is the snapshot's check).
    fn validate_defaulting_groups(&self) -> Result<(), InputError> {
        let sets = &self.defaulting_groups;
        if sets.len() > MAX_DEFAULTING_SETS {
            return Err(InputError::invalid(
                at("waterfall.defaulting_groups"),
                format!(
                    "{} sets of defaulting groups: expected at most {MAX_DEFAULTING_SETS}",
                    sets.len()
                ),
            ));
        }
        for (i, set) in sets.iter().enumerate() {
            let field = || at(&format!("waterfall.defaulting_groups[{i}]"));
            if set.is_empty() {
                return Err(InputError::invalid(
                    field(),
                    "an empty set: expected the names of one or more groups",
                ));
            }
            if let Some(twice) = set
                .iter()
                .enumerate()
                .find_map(|(j, g)| set[..j].contains(g).then_some(g))
            {
                return Err(InputError::invalid(
                    field(),
                    format!("group `{twice}` named twice: expected each group once"),
                ));
            }
        }
        Ok(())
    }
}

/// The last layer of the waterfall, for a loss the assessments leave.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum AfterAssessments {
    /// Nothing: the rest is reported unfunded.
    #[default]
    None,
    /// Variation margin gains haircutting: the survivors' gains in the
    /// scenario, haircut pro rata.
    Vmgh,
    /// A venue's insurance fund, then auto-deleveraging of the most
    /// profitable opposite positions.
    InsuranceFundAdl,
}
