//! A scenario's random inputs, drawn afresh or read back from a record.
//!
//! The parametric model turns a handful of random numbers per scenario (the
//! diffusion normals, the mixing variable's inputs, the jump count's uniform
//! and the jump sizes' normals, the vol shock's normals: [`Layout`]) into
//! returns through the day's volatilities, correlation and drift. An analysis
//! that runs the same model with the same seed on many days (a backtest, a
//! margin history) draws the same numbers every day; only what it makes of
//! them changes. [`DrawMemo`] records them once so that later days skip the
//! generator and Box-Muller. The record holds exactly the generator's values,
//! and [`ScenarioModel::draw`](super::ScenarioModel::draw) does the same
//! arithmetic on them in the same order whichever [`Source`] they come from, so
//! a replayed scenario has the same bits as a fresh one.

use std::ops::Range;

use crate::rng::{Key, ScenarioRng, Stream};

/// Where [`ScenarioModel::draw`](super::ScenarioModel::draw) reads a
/// scenario's random numbers, in the order it asks for them.
pub(super) trait Source {
    /// The diffusion's standard normals of `step`, one per asset.
    fn diffusion(&mut self, step: u32, z: &mut [f64]);
    /// The Student-t mixing variable W of `step`: the sum of `nu` squared
    /// normals, `scratch` holding `nu` of them.
    fn chi_square(&mut self, step: u32, scratch: &mut [f64]) -> f64;
    /// The NIG mixing variable's normal and uniform of `step`.
    fn inverse_gaussian(&mut self, step: u32) -> (f64, f64);
    /// The uniform whose Poisson quantile is `step`'s jump count.
    fn jump_count(&mut self, step: u32) -> f64;
    /// The jump sizes' standard normals of `step`, one per asset.
    fn jump_sizes(&mut self, step: u32, z: &mut [f64]);
    /// The vol shock's normals, assets `0..u.len()`.
    fn vol_shock(&mut self, u: &mut [f64]);
}

/// Scenario `n`'s numbers from the counter-based generator.
pub(super) struct Fresh<'a> {
    pub rng: &'a ScenarioRng,
    pub n: u64,
}

impl Source for Fresh<'_> {
    fn diffusion(&mut self, step: u32, z: &mut [f64]) {
        self.rng.normals(self.n, step, Stream::Diffusion, z);
    }

    fn chi_square(&mut self, step: u32, scratch: &mut [f64]) -> f64 {
        self.rng.normals(self.n, step, Stream::ChiSquare, scratch);
        scratch.iter().map(|g| g * g).sum()
    }

    fn inverse_gaussian(&mut self, step: u32) -> (f64, f64) {
        let mut g = [0.0];
        self.rng
            .normals(self.n, step, Stream::InverseGaussian, &mut g);
        let u = self.rng.uniforms(self.n, step, Stream::InverseGaussian, 1)[0];
        (g[0], u)
    }

    fn jump_count(&mut self, step: u32) -> f64 {
        self.rng.uniforms(self.n, step, Stream::JumpCount, 0)[0]
    }

    fn jump_sizes(&mut self, step: u32, z: &mut [f64]) {
        self.rng.normals(self.n, step, Stream::JumpSize, z);
    }

    fn vol_shock(&mut self, u: &mut [f64]) {
        self.rng.normals(self.n, 0, Stream::VolShock, u);
    }
}

/// Which random numbers a model draws per scenario, and so what a record of
/// them holds: per step the diffusion normals, W (Student-t), the NIG's
/// normal and uniform, the jump count's uniform and the jump sizes' normals
/// (recorded whether or not a jump happens: the count depends on the day's
/// intensity); then the vol shock's normals. Two models with the same layout
/// and seed draw the same numbers, whatever their volatilities, correlation,
/// drift, NIG shape or jump intensity.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct Layout {
    /// The generator's key: the seed.
    pub key: Key,
    pub assets: usize,
    pub steps: u32,
    /// Student-t degrees of freedom.
    pub dof: Option<u32>,
    pub nig: bool,
    pub jumps: bool,
    /// Vol shock normals drawn (the highest shocked asset + 1, or 0).
    pub vol_shocks: usize,
}

impl Layout {
    fn per_step(&self) -> usize {
        self.assets
            + usize::from(self.dof.is_some())
            + 2 * usize::from(self.nig)
            + usize::from(self.jumps) * (1 + self.assets)
    }

    /// Numbers recorded per scenario.
    pub fn len(&self) -> usize {
        self.steps as usize * self.per_step() + self.vol_shocks
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
}

/// The recorded random numbers of a contiguous range of scenarios under one
/// [`Layout`], scenario-major.
#[derive(Debug, Clone, PartialEq)]
pub struct DrawMemo {
    layout: Layout,
    range: Range<u64>,
    values: Vec<f64>,
}

impl DrawMemo {
    /// Records scenarios `range` of `layout`; `fill(n, record)` writes one
    /// scenario's numbers ([`ScenarioModel::record`](super::ScenarioModel::record)),
    /// called for the scenarios in parallel by the caller's pool.
    pub fn record(
        layout: Layout,
        range: Range<u64>,
        fill: impl Fn(u64, &mut [f64]) + Sync,
    ) -> Self {
        use rayon::prelude::*;
        let stride = layout.len();
        let mut values = vec![0.0; (range.end - range.start) as usize * stride];
        values
            .par_chunks_mut(stride.max(1))
            .enumerate()
            .for_each(|(i, record)| fill(range.start + i as u64, record));
        Self {
            layout,
            range,
            values,
        }
    }

    /// Bytes a memo of `scenarios` scenarios under `layout` holds.
    pub fn bytes(layout: &Layout, scenarios: u64) -> u64 {
        scenarios * layout.len() as u64 * std::mem::size_of::<f64>() as u64
    }

    pub fn layout(&self) -> &Layout {
        &self.layout
    }

    pub fn range(&self) -> &Range<u64> {
        &self.range
    }

    /// Scenario `n`'s record; `n` must lie in [`Self::range`].
    pub(super) fn of(&self, n: u64) -> &[f64] {
        let stride = self.layout.len();
        let i = (n - self.range.start) as usize;
        &self.values[i * stride..(i + 1) * stride]
    }
}

/// Writes every number of `layout` for one scenario from `source`, in the
/// order [`Replay`] reads them back.
pub(super) fn record_into(layout: &Layout, source: &mut impl Source, record: &mut [f64]) {
    let mut chi = vec![0.0; layout.dof.unwrap_or(0) as usize];
    let mut at = 0;
    for step in 0..layout.steps {
        source.diffusion(step, &mut record[at..at + layout.assets]);
        at += layout.assets;
        if layout.dof.is_some() {
            record[at] = source.chi_square(step, &mut chi);
            at += 1;
        }
        if layout.nig {
            (record[at], record[at + 1]) = source.inverse_gaussian(step);
            at += 2;
        }
        if layout.jumps {
            record[at] = source.jump_count(step);
            source.jump_sizes(step, &mut record[at + 1..at + 1 + layout.assets]);
            at += 1 + layout.assets;
        }
    }
    source.vol_shock(&mut record[at..at + layout.vol_shocks]);
}

/// One scenario's numbers read back from its record.
pub(super) struct Replay<'a> {
    pub layout: &'a Layout,
    pub record: &'a [f64],
}

impl Replay<'_> {
    /// Offset of `step`'s first number.
    fn step(&self, step: u32) -> usize {
        step as usize * self.layout.per_step()
    }

    fn mixing(&self, step: u32) -> usize {
        self.step(step) + self.layout.assets
    }

    fn jumps(&self, step: u32) -> usize {
        self.mixing(step)
            + usize::from(self.layout.dof.is_some())
            + 2 * usize::from(self.layout.nig)
    }
}

impl Source for Replay<'_> {
    fn diffusion(&mut self, step: u32, z: &mut [f64]) {
        let at = self.step(step);
        z.copy_from_slice(&self.record[at..at + z.len()]);
    }

    fn chi_square(&mut self, step: u32, _scratch: &mut [f64]) -> f64 {
        self.record[self.mixing(step)]
    }

    fn inverse_gaussian(&mut self, step: u32) -> (f64, f64) {
        let at = self.mixing(step);
        (self.record[at], self.record[at + 1])
    }

    fn jump_count(&mut self, step: u32) -> f64 {
        self.record[self.jumps(step)]
    }

    fn jump_sizes(&mut self, step: u32, z: &mut [f64]) {
        let at = self.jumps(step) + 1;
        z.copy_from_slice(&self.record[at..at + z.len()]);
    }

    fn vol_shock(&mut self, u: &mut [f64]) {
        let at = self.layout.steps as usize * self.layout.per_step();
        u.copy_from_slice(&self.record[at..at + u.len()]);
    }
}
