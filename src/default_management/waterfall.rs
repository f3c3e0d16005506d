//! The default waterfall (methodology 9.4): the loss of the defaulting members
//! in a scenario, absorbed layer by layer in the order EMIR Art. 45 sets, with
//! the layers the configuration adds after the prefunded ones
//! ([`WaterfallConfig`]).
//!
//! Defaulter m's loss is its portfolio loss in the scenario plus the cost of
//! closing it out, `D_m = max(P(s, m) + K_m, 0)`. The layers, in order:
//!
//! 1. the defaulters' margin: collateral after haircuts revalued in the
//!    scenario, `C_s(m)`, each defaulter's for its own loss only
//!    (`used_m = min(D_m, C_s(m))`: a member's margin is not mutualised);
//! 2. the defaulters' default fund contributions, each for its own loss left;
//! 3. the CCP's skin in the game;
//! 4. the survivors' contributions, each survivor losing `used x DF_j / sum DF`;
//! 5. a second skin in the game (CCPRRR 2021/23 Art. 9(14)), where configured;
//! 6. assessments, capped at `k x DF_j` per survivor and called pro rata to
//!    the caps, where configured;
//! 7. what the assessments leave: variation margin gains haircutting (each
//!    survivor's gain `G_j = max(-P(s, j), 0)` haircut by `used x G_j / sum G`),
//!    or an insurance fund then auto-deleveraging ([`adl`]), or nothing.
//!
//! Every layer absorbs `used = min(remaining, available)`; what the last
//! leaves is unfunded.

mod adl;
mod stress;

pub use adl::PositionPnl;
pub use stress::{walk_stress, DefaultCase, StressCases, StressWaterfall, StressWaterfalls};

use crate::snapshot::{AfterAssessments, WaterfallConfig};

/// A layer of the waterfall, in the order they are used.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Layer {
    DefaultersMargin,
    DefaultersContributions,
    SkinInTheGame,
    SurvivorsContributions,
    SecondSkinInTheGame,
    Assessments,
    GainsHaircut,
    InsuranceFund,
    AutoDeleveraging,
}

impl Layer {
    /// The name the outputs give the layer.
    pub fn name(self) -> &'static str {
        match self {
            Self::DefaultersMargin => "defaulters' margin",
            Self::DefaultersContributions => "defaulters' default fund contributions",
            Self::SkinInTheGame => "CCP skin in the game",
            Self::SurvivorsContributions => "surviving members' default fund contributions",
            Self::SecondSkinInTheGame => "CCP second skin in the game",
            Self::Assessments => "assessments",
            Self::GainsHaircut => "variation margin gains haircutting",
            Self::InsuranceFund => "insurance fund",
            Self::AutoDeleveraging => "auto-deleveraging",
        }
    }
}

/// One layer's use, USD.
#[derive(Debug, Clone, PartialEq)]
pub struct LayerUse {
    pub layer: Layer,
    pub available: f64,
    pub used: f64,
    /// The loss left after this layer.
    pub remaining: f64,
}

/// What each survivor bears, member-indexed (zero for the defaulters).
#[derive(Debug, Clone, PartialEq)]
pub struct SurvivorCharges {
    /// Its default fund contribution lost (layer 4).
    pub fund_loss: Vec<f64>,
    /// Its assessment (layer 6).
    pub assessment: Vec<f64>,
    /// Its scenario gain withheld by gains haircutting (layer 7).
    pub gains_haircut: Vec<f64>,
    /// Its profit given up by auto-deleveraging (layer 7).
    pub deleveraged: Vec<f64>,
}

/// One default walked through the waterfall.
#[derive(Debug, Clone, PartialEq)]
pub struct Waterfall {
    /// The defaulters' loss, close-out costs included: what the layers absorb.
    pub loss: f64,
    pub layers: Vec<LayerUse>,
    pub survivors: SurvivorCharges,
    /// What no layer absorbed.
    pub unfunded: f64,
}

/// One scenario's default, as plain member-indexed arrays.
#[derive(Debug, Clone, Copy)]
pub struct WaterfallInput<'a> {
    /// True for the defaulting members.
    pub defaulting: &'a [bool],
    /// Portfolio loss in the scenario (positive: the member loses), the
    /// collateral's own change left out: `P(s, m)`.
    pub portfolio_loss: &'a [f64],
    /// Collateral after haircuts, revalued in the scenario: `C_s(m)`.
    pub collateral: &'a [f64],
    /// Cost of closing out the member's portfolio, USD: `K_m`.
    pub close_out: &'a [f64],
    /// Current default fund contributions: `DF_m`.
    pub contributions: &'a [f64],
    /// Every position with its P&L in the scenario; only auto-deleveraging
    /// reads them, so they may be empty under another configuration.
    pub positions: &'a [PositionPnl],
}

/// Walks `input`'s default through the waterfall: the defaulters' margin and
/// contributions, `skin_in_the_game`, the survivors' contributions, then the
/// layers `config` adds (module docs).
pub fn walk(input: &WaterfallInput, skin_in_the_game: f64, config: &WaterfallConfig) -> Waterfall {
    let members = input.defaulting.len();
    let mut owed: Vec<f64> = (0..members)
        .map(|m| match input.defaulting[m] {
            true => (input.portfolio_loss[m] + input.close_out[m]).max(0.0),
            false => 0.0,
        })
        .collect();
    let loss = owed.iter().sum();
    let mut walk = Walk {
        remaining: loss,
        layers: Vec::new(),
    };
    for (layer, resource) in [
        (Layer::DefaultersMargin, input.collateral),
        (Layer::DefaultersContributions, input.contributions),
    ] {
        walk.defaulters(layer, resource, &mut owed, input.defaulting);
    }
    walk.ccp(Layer::SkinInTheGame, skin_in_the_game);
    let of_survivors = |amount: &dyn Fn(usize) -> f64| -> Vec<f64> {
        (0..members)
            .map(|m| match input.defaulting[m] {
                true => 0.0,
                false => amount(m).max(0.0),
            })
            .collect()
    };
    let fund_loss = walk.mutualised(
        Layer::SurvivorsContributions,
        &of_survivors(&|m| input.contributions[m]),
    );
    if let Some(second) = config.second_skin_in_the_game {
        walk.ccp(Layer::SecondSkinInTheGame, second);
    }
    let none = || vec![0.0; members];
    let assessment = match config.assessment_multiple {
        Some(k) => walk.mutualised(
            Layer::Assessments,
            &of_survivors(&|m| k * input.contributions[m]),
        ),
        None => none(),
    };
    let (gains_haircut, deleveraged) = match config.after_assessments {
        AfterAssessments::None => (none(), none()),
        AfterAssessments::Vmgh => (
            walk.mutualised(
                Layer::GainsHaircut,
                &of_survivors(&|m| -input.portfolio_loss[m]),
            ),
            none(),
        ),
        AfterAssessments::InsuranceFundAdl => {
            walk.ccp(Layer::InsuranceFund, config.insurance_fund);
            let available = adl::deleverage(input, f64::INFINITY).iter().sum();
            let taken = adl::deleverage(input, walk.remaining);
            walk.push(Layer::AutoDeleveraging, available, taken.iter().sum());
            (none(), taken)
        }
    };
    Waterfall {
        loss,
        unfunded: walk.remaining,
        layers: walk.layers,
        survivors: SurvivorCharges {
            fund_loss,
            assessment,
            gains_haircut,
            deleveraged,
        },
    }
}

/// The loss left and the layers used so far.
struct Walk {
    remaining: f64,
    layers: Vec<LayerUse>,
}

impl Walk {
    fn push(&mut self, layer: Layer, available: f64, used: f64) {
        // A layer never absorbs more than is left; the floor only keeps the
        // last bit of rounding from turning into a negative loss.
        self.remaining = (self.remaining - used).max(0.0);
        self.layers.push(LayerUse {
            layer,
            available,
            used,
            remaining: self.remaining,
        });
    }

    /// A layer of the defaulters' own resources (margin or contributions,
    /// member-indexed): each covers its own member's loss `owed`, which it
    /// reduces, and no
    /// other's (the defaulter-pays principle of EMIR Art. 45(1)-(2)).
    fn defaulters(
        &mut self,
        layer: Layer,
        resource: &[f64],
        owed: &mut [f64],
        defaulting: &[bool],
    ) {
        let (mut available, mut used) = (0.0, 0.0);
        for (m, owed) in owed.iter_mut().enumerate() {
            if defaulting[m] {
                let own = resource[m].max(0.0);
                let spent = owed.min(own);
                *owed -= spent;
                available += own;
                used += spent;
            }
        }
        self.push(layer, available, used);
    }

    /// A layer of the CCP's (or venue's) own resources.
    fn ccp(&mut self, layer: Layer, available: f64) {
        let used = self.remaining.min(available);
        self.push(layer, available, used);
    }

    /// A layer the survivors share pro rata to `weights` (member-indexed,
    /// zero for defaulters); returns what each bears, `used x w_j / sum w`.
    fn mutualised(&mut self, layer: Layer, weights: &[f64]) -> Vec<f64> {
        let available: f64 = weights.iter().sum();
        let used = self.remaining.min(available);
        self.push(layer, available, used);
        let fraction = if available > 0.0 {
            used / available
        } else {
            0.0
        };
        weights.iter().map(|w| w * fraction).collect()
    }
}
