//! Compute backends: where scenarios are drawn, revalued and reduced.
//!
//! The engine is generic over [`Backend`] and calls it for a handful of
//! operations on ranges of scenarios; what a backend keeps between calls (the
//! compiled book and model, on its device) lives in its `Plan`. The CPU backend
//! ([`cpu::CpuBackend`]) is the reference every other backend is tested against.

pub mod cpu;
pub mod cuda;
pub mod device;
pub mod kernels;
pub mod wgpu;

use std::ops::Range;

use crate::book::CompiledBook;
use crate::scenario::{ScenarioBlock, ScenarioModel};
use crate::tail::MemberTail;

pub use self::wgpu::WgpuBackend;
pub use cpu::CpuBackend;
pub use cuda::{CudaBackend, LossProduct};
pub use device::PipelineStats;

#[derive(Debug, thiserror::Error)]
pub enum BackendError {
    /// The backend cannot run here (no device, no driver); the message says why.
    #[error("backend `{backend}` is not available: {reason}")]
    Unavailable {
        backend: &'static str,
        reason: String,
    },
    /// A device call failed.
    #[error("backend `{backend}`: {message}")]
    Device {
        backend: &'static str,
        message: String,
    },
}

/// Per-member losses for a range of scenarios, member-major:
/// `losses[m * scenarios + s]` is member m's loss in scenario `first + s`.
#[derive(Debug, Clone, PartialEq)]
pub struct LossBlock {
    pub first: u64,
    pub scenarios: usize,
    pub members: usize,
    pub losses: Vec<f64>,
}

impl LossBlock {
    pub fn member(&self, m: usize) -> &[f64] {
        &self.losses[m * self.scenarios..(m + 1) * self.scenarios]
    }

    pub fn loss(&self, m: usize, s: usize) -> f64 {
        self.losses[m * self.scenarios + s]
    }
}

/// The losses a pass over scenarios found above each member's bound, for an
/// analysis that needs more of a scenario than each member's tail: the Monte
/// Carlo depletion of the default fund reads every loss beyond a member's
/// collateral ([`crate::default_management::depletion`]). A backend reports
/// every loss `> bounds[m]` and no other, in any order; the reader sorts them.
#[derive(Debug, Clone, PartialEq)]
pub struct Exceedances {
    bounds: Vec<f64>,
    /// (scenario, member, loss), in no order.
    pub found: Vec<(u64, u32, f64)>,
}

impl Exceedances {
    /// Reports losses above `bounds[m]` for member m (one bound per member).
    pub fn new(bounds: Vec<f64>) -> Self {
        Self {
            bounds,
            found: Vec::new(),
        }
    }

    pub fn bounds(&self) -> &[f64] {
        &self.bounds
    }
}

/// A place to run the hot path.
pub trait Backend {
    /// The compiled book and scenario model, resident where the backend computes.
    type Plan;

    /// A human-readable description of the backend and its device.
    fn describe(&self) -> String;

    /// Scenarios per block the engine should stream given `requested`: a
    /// device backend asks for at least a full chunk. Blocks never change
    /// results, only how often progress is told.
    fn block_size(&self, _plan: &Self::Plan, requested: u64) -> u64 {
        requested
    }

    fn prepare(
        &self,
        book: &CompiledBook,
        model: &ScenarioModel,
    ) -> Result<Self::Plan, BackendError>;

    /// Draws the market moves of scenarios `range`.
    fn scenarios(
        &self,
        plan: &Self::Plan,
        range: Range<u64>,
    ) -> Result<ScenarioBlock, BackendError>;

    /// Revalues every member in each of `block`'s market moves.
    fn revalue(&self, plan: &Self::Plan, block: &ScenarioBlock) -> Result<LossBlock, BackendError>;

    /// Draws and revalues scenarios `range` and pushes each member's losses into
    /// `tails[member]`, without materialising the block's moves on the host;
    /// with `exceedances`, also adds to it every loss above its member's bound.
    fn accumulate(
        &self,
        plan: &Self::Plan,
        range: Range<u64>,
        tails: &mut [MemberTail],
        exceedances: Option<&mut Exceedances>,
    ) -> Result<(), BackendError>;

    /// What a device backend's chunk pipeline has done for `plan` so far;
    /// `None` for a backend without one (the CPU).
    fn pipeline(&self, _plan: &Self::Plan) -> Option<PipelineStats> {
        None
    }
}
