//! The compiled book and scenario model in the kernels' layouts (see the
//! structs of `kernels/scenario.wgsl` and `kernels/revalue.wgsl`): what is
//! uploaded once per run, in f32 where the kernels compute in f32.

use bytemuck::{Pod, Zeroable};

use crate::book::CompiledBook;
use std::ops::Range;

use crate::rng::{uniform_from_bits, ScenarioRng, Stream};
use crate::scenario::{poisson_inverse_cdf, ScenarioModel};
use crate::snapshot::{OptionRight, Settlement};

/// `ScenarioParams` of kernels/scenario.wgsl.
#[repr(C)]
#[derive(Debug, Clone, Copy, Default, Pod, Zeroable)]
pub struct ScenarioParams {
    pub key: [u32; 2],
    pub first: [u32; 2],
    pub count: u32,
    pub stride: u32,
    pub assets: u32,
    pub steps: u32,
    pub dof: u32,
    pub jump_thresholds: u32,
    pub vol_assets: u32,
    pub vol_highest: u32,
    pub vol_shock_scale: f32,
    pub spot_vol_correlation: f32,
    pub ortho: f32,
    /// sqrt of the unit-variance terms summed into the standardised move:
    /// the steps, or the days of an FHS horizon.
    pub root_steps: f32,
    /// Filtered historical simulation: eligible days (0: Monte Carlo) and days
    /// per horizon; the rescaled moves and innovations follow the Cholesky
    /// factor in the model words.
    pub historical_days: u32,
    pub horizon_days: u32,
    /// Shape of the NIG innovations' mixing variable (0: not NIG).
    pub nig_shape: f32,
    pub pad: u32,
}

impl ScenarioParams {
    /// These parameters for drawing scenarios `first..first + count`.
    pub fn drawing(self, first: u64, count: u32) -> Self {
        Self {
            first: [first as u32, (first >> 32) as u32],
            count,
            ..self
        }
    }
}

/// `RevalueParams` of kernels/revalue.wgsl.
#[repr(C)]
#[derive(Debug, Clone, Copy, Default, Pod, Zeroable)]
pub struct RevalueParams {
    pub count: u32,
    pub stride: u32,
    pub assets: u32,
    pub members: u32,
    /// Strike groups: `option_pnl` values one per scenario and invocation.
    pub groups: u32,
    pub holdings: u32,
    pub per_member: u32,
    /// How many of each member's gaps between tail windows the device sums
    /// instead of returning their losses (CUDA: kernels/exact_sum.cuh,
    /// [`super::gap`]); 0: the thresholds are the members' floors alone.
    pub gaps: u32,
}

/// `Group` of kernels/revalue.wgsl: one strike group
/// ([`crate::book::StrikeGroups`]), whose series are
/// `BookLayout::series[first..end]`.
#[repr(C)]
#[derive(Debug, Clone, Copy, Default, PartialEq, Pod, Zeroable)]
pub struct Group {
    pub underlying: u32,
    pub first: u32,
    pub end: u32,
    pub strike: f32,
    pub spot: f32,
    pub carry1: f32,
    pub root_tau1: f32,
    pub vol: f32,
    pub log_moneyness1: f32,
    pub discount1: f32,
}

/// `Series` of kernels/revalue.wgsl: one option series' own terms
/// ([`crate::book::OptionSeries`]).
#[repr(C)]
#[derive(Debug, Clone, Copy, Default, PartialEq, Pod, Zeroable)]
pub struct Series {
    /// The series' index in the book: its row of the P&Ls.
    pub column: u32,
    /// Bit 0: call, bit 1: coin-settled (inverse).
    pub flags: u32,
    pub value0: f32,
}

/// `WordsParams` of kernels/rng_check.*: the Philox words of blocks
/// `0..blocks` of `stream` at (n, step) for `count` scenarios from `first`.
#[repr(C)]
#[derive(Debug, Clone, Copy, Default, Pod, Zeroable)]
pub struct WordsParams {
    pub key: [u32; 2],
    pub first: [u32; 2],
    pub count: u32,
    pub step: u32,
    pub stream: u32,
    pub blocks: u32,
}

impl WordsParams {
    pub fn new(seed: u64, scenarios: Range<u64>, step: u32, stream: Stream, blocks: u32) -> Self {
        Self {
            key: ScenarioRng::new(seed).key(),
            first: [scenarios.start as u32, (scenarios.start >> 32) as u32],
            count: (scenarios.end - scenarios.start) as u32,
            step,
            stream: stream as u32,
            blocks,
        }
    }
}

/// Device random numbers, per scenario and block: (s * blocks + b).
#[derive(Debug, Clone, PartialEq)]
pub struct RngSample {
    pub words: Vec<[u32; 4]>,
    pub normals: Vec<[f32; 4]>,
}

/// The scenario model's per-run words and everything of `ScenarioParams` but
/// the chunk.
#[derive(Debug, Clone)]
pub struct ModelLayout {
    pub params: ScenarioParams,
    /// step_drift, step_vol, jump_mean, jump_stdev, Cholesky rows.
    pub model: Vec<f32>,
    /// Vol-shocked assets, then the jump-count thresholds.
    pub indices: Vec<u32>,
}

impl ModelLayout {
    pub fn new(model: &ScenarioModel) -> Self {
        let n = model.assets();
        let mut words: Vec<f32> = Vec::with_capacity(4 * n + n * (n + 1) / 2);
        words.extend(model.step_drift().iter().map(|&x| x as f32));
        words.extend(model.step_vol().iter().map(|&x| x as f32));
        match model.jumps() {
            Some(j) => {
                words.extend(j.mean.iter().map(|&x| x as f32));
                words.extend(j.stdev.iter().map(|&x| x as f32));
            }
            None => words.extend(std::iter::repeat_n(0.0, 2 * n)),
        }
        let l = model.cholesky();
        for i in 0..n {
            words.extend(l[i * n..=i * n + i].iter().map(|&x| x as f32));
        }
        let (historical_days, horizon_days) = match model.historical() {
            Some(h) => {
                words.extend(h.moves().iter().map(|&x| x as f32));
                words.extend(h.innovations().iter().map(|&x| x as f32));
                (h.days() as u32, h.horizon_days)
            }
            None => (0, 0),
        };
        let (scale, rho, vol_assets) = model.vol_shock();
        let vol_assets: &[usize] = if scale > 0.0 { vol_assets } else { &[] };
        let thresholds = model
            .jumps()
            .map_or_else(Vec::new, |j| jump_thresholds(j.per_step));
        let mut indices: Vec<u32> = vol_assets.iter().map(|&a| a as u32).collect();
        indices.extend(&thresholds);
        let key = model.rng().key();
        Self {
            params: ScenarioParams {
                key,
                assets: n as u32,
                steps: model.steps(),
                dof: model.dof().unwrap_or(0),
                nig_shape: model.nig_shape().unwrap_or(0.0) as f32,
                jump_thresholds: thresholds.len() as u32,
                vol_assets: vol_assets.len() as u32,
                vol_highest: vol_assets.iter().copied().max().unwrap_or(0) as u32,
                vol_shock_scale: scale as f32,
                spot_vol_correlation: rho as f32,
                ortho: (1.0 - rho * rho).sqrt() as f32,
                root_steps: f64::from(if historical_days > 0 {
                    horizon_days
                } else {
                    model.steps()
                })
                .sqrt() as f32,
                historical_days,
                horizon_days,
                ..ScenarioParams::default()
            },
            model: words,
            indices,
        }
    }
}

/// The jump-count table of a Poisson law with mean `per_step`: entry k is the
/// first word whose uniform draws more than k jumps ([`poisson_inverse_cdf`]),
/// for every k that some word exceeds. The count of a word is the number of
/// entries at or below it, which is exactly the CPU's count for that word
/// whatever the device's arithmetic.
pub fn jump_thresholds(per_step: f64) -> Vec<u32> {
    let jumps = |x: u64| poisson_inverse_cdf(per_step, uniform_from_bits(x as u32));
    (0..64)
        .take_while(|&k| jumps(u64::from(u32::MAX)) > k)
        .map(|k| {
            // jumps is non-decreasing: bisect for the first word above k.
            let (mut lo, mut hi) = (0_u64, u64::from(u32::MAX));
            if jumps(lo) > k {
                return 0;
            }
            while hi - lo > 1 {
                let mid = (lo + hi) / 2;
                if jumps(mid) > k {
                    hi = mid;
                } else {
                    lo = mid;
                }
            }
            hi as u32
        })
        .collect()
}

impl RevalueParams {
    /// Everything but the chunk's scenario count.
    pub fn new(
        book: &BookLayout,
        assets: usize,
        members: usize,
        stride: u32,
        per_member: u32,
    ) -> Self {
        Self {
            count: 0,
            stride,
            assets: assets as u32,
            members: members as u32,
            groups: book.groups.len() as u32,
            holdings: book.holding_count,
            per_member,
            gaps: 0,
        }
    }
}

/// The compiled book's device arrays.
#[derive(Debug, Clone)]
pub struct BookLayout {
    /// Assets x members, asset-major.
    pub weights: Vec<f32>,
    /// `offsets[members + 1]`, `series[holdings]`, f32 weight bits `[holdings]`.
    pub holdings: Vec<u32>,
    pub holding_count: u32,
    pub groups: Vec<Group>,
    /// The series group after group, each group's in ascending order.
    pub series: Vec<Series>,
}

impl BookLayout {
    pub fn new(book: &CompiledBook) -> Self {
        let (options, strikes) = (&book.options, &book.options.groups);
        let mut series = Vec::with_capacity(options.len());
        let groups = (0..strikes.len())
            .map(|g| {
                let first = series.len() as u32;
                series.extend(strikes.series[g].iter().map(|&j| Series {
                    column: j as u32,
                    flags: u32::from(options.right[j] == OptionRight::Call)
                        | (u32::from(options.settlement[j] == Settlement::Inverse) << 1),
                    value0: options.value0[j] as f32,
                }));
                Group {
                    underlying: strikes.underlying[g] as u32,
                    first,
                    end: series.len() as u32,
                    strike: strikes.strike[g] as f32,
                    spot: strikes.spot[g] as f32,
                    carry1: strikes.carry1[g] as f32,
                    root_tau1: strikes.root_tau1[g] as f32,
                    vol: strikes.vol[g] as f32,
                    log_moneyness1: strikes.log_moneyness1[g] as f32,
                    discount1: strikes.discount1[g] as f32,
                }
            })
            .collect();
        let held = &book.member_options;
        let mut holdings: Vec<u32> = held.offsets.iter().map(|&o| o as u32).collect();
        holdings.extend(held.series.iter().map(|&j| j as u32));
        holdings.extend(held.weight.iter().map(|&w| (w as f32).to_bits()));
        Self {
            weights: book.weights.iter().map(|&w| w as f32).collect(),
            holdings,
            holding_count: held.series.len() as u32,
            groups,
            series,
        }
    }
}

/// The largest f32 at or below `x`: a device threshold that admits everything
/// the f64 floor would.
pub fn f32_at_or_below(x: f64) -> f32 {
    let y = x as f32;
    if f64::from(y) > x {
        y.next_down()
    } else {
        y
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn jump_counts_from_the_table_equal_the_cpu_inverse_cdf_word_for_word() {
        for mean in [1e-4, 0.02, 0.7, 3.0, 30.0] {
            let table = jump_thresholds(mean);
            let count = |x: u32| table.iter().filter(|&&t| x >= t).count() as u32;
            // Every table entry and its neighbours, and a sweep of the words.
            let mut words: Vec<u32> = table
                .iter()
                .flat_map(|&t| [t.saturating_sub(1), t, t.saturating_add(1)])
                .collect();
            words.extend((0..=u32::MAX).step_by(1 << 20));
            words.extend([0, 1, u32::MAX - 1, u32::MAX]);
            for x in words {
                assert_eq!(
                    count(x),
                    poisson_inverse_cdf(mean, uniform_from_bits(x)),
                    "mean {mean}, word {x}"
                );
            }
        }
    }

    #[test]
    fn device_thresholds_never_exceed_the_floor() {
        for x in [0.1, -0.1, 1e10 + 0.3, -7.000_000_1, 3.0, f64::NEG_INFINITY] {
            let t = f32_at_or_below(x);
            assert!(f64::from(t) <= x, "{x}");
            assert!(f64::from(t.next_up()) > x || t == f32::MAX, "{x}");
        }
    }
}
