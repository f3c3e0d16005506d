//! Scenarios: market moves over the margin period of risk, drawn by Monte Carlo
//! or filtered historical simulation ([`ScenarioModel`], [`FilteredHistory`])
//! or read from stress files ([`stress_block`]).

mod draws;
mod historical;
mod model;
mod windows;

use std::ops::Range;

pub use draws::{DrawMemo, Layout};
pub use historical::FilteredHistory;
pub use model::{inverse_gaussian, poisson_inverse_cdf, Jumps, ModelError, ScenarioModel, Scratch};
pub use windows::{historical_windows, HistoricalWindow};

use crate::snapshot::StressScenario;

/// Market moves for a contiguous range of scenarios, structure of arrays,
/// scenario-major: entry `s * assets + a` is asset a in the block's s-th scenario.
#[derive(Debug, Clone, PartialEq)]
pub struct ScenarioBlock {
    /// Global index of the block's first scenario.
    pub first: u64,
    pub assets: usize,
    /// S1 / S0 - 1.
    pub returns: Vec<f64>,
    /// Implied vol after / before.
    pub vol_factors: Vec<f64>,
}

impl ScenarioBlock {
    pub fn with_capacity(first: u64, scenarios: usize, assets: usize) -> Self {
        Self {
            first,
            assets,
            returns: vec![0.0; scenarios * assets],
            vol_factors: vec![1.0; scenarios * assets],
        }
    }

    pub fn len(&self) -> usize {
        self.returns.len().checked_div(self.assets).unwrap_or(0)
    }

    pub fn is_empty(&self) -> bool {
        self.returns.is_empty()
    }

    pub fn range(&self) -> Range<u64> {
        self.first..self.first + self.len() as u64
    }

    pub fn returns_of(&self, s: usize) -> &[f64] {
        &self.returns[s * self.assets..(s + 1) * self.assets]
    }

    pub fn vol_factors_of(&self, s: usize) -> &[f64] {
        &self.vol_factors[s * self.assets..(s + 1) * self.assets]
    }
}

/// The stress scenarios as one block, scenario i being `stress[i]`.
pub fn stress_block(stress: &[StressScenario], assets: usize) -> ScenarioBlock {
    let mut block = ScenarioBlock::with_capacity(0, stress.len(), assets);
    for (s, scenario) in stress.iter().enumerate() {
        block.returns[s * assets..(s + 1) * assets].copy_from_slice(&scenario.price_shocks);
        for (dst, shock) in block.vol_factors[s * assets..(s + 1) * assets]
            .iter_mut()
            .zip(&scenario.vol_shocks)
        {
            *dst = 1.0 + shock;
        }
    }
    block
}
