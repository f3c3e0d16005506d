//! The CPU backend: rayon over scenarios to draw them, over member groups to
//! revalue and reduce them. The reference implementation.
//!
//! Revaluation is the matrix product `returns (scenarios x assets) . weights
//! (assets x members)` plus each member's constant and its sparse option
//! holdings times the strike groups' columns, the book folded through
//! put-call parity ([`ParityFold`]), computed in tiles small enough to stay
//! in cache while their losses are pushed into the members' tails, so the
//! block's full loss matrix is never written to memory.

use std::collections::HashSet;
use std::ops::Range;
use std::sync::{Arc, Mutex};

use rayon::prelude::*;

mod options;

use options::{BufferPool, Losses, OptionColumns, Pooled, Width};

use super::{Backend, BackendError, Exceedances, LossBlock};
use crate::book::{CompiledBook, ParityFold};
use crate::scenario::{DrawMemo, Layout, ScenarioBlock, ScenarioModel, Scratch};
use crate::tail::MemberTail;

/// The most members revalued together by one task: their weights and a tile
/// of their losses stay in the core's cache.
const MEMBER_GROUP: usize = 64;
/// Tasks per thread the members are split into at least, so that a book of
/// a few dozen members (a backtest's, run once a day) still keeps every
/// core busy revaluing and pushing tails; each member's losses are the same
/// whatever group it falls in.
const GROUPS_PER_THREAD: usize = 4;
/// Scenarios per tile of the loss product.
const SCENARIO_TILE: usize = 256;
/// Scenarios drawn per task.
const DRAW_CHUNK: usize = 64;
/// Scenarios per block of option columns (each block group-major): a tile of
/// the loss product reads its holdings from one block.
const OPTION_CHUNK: usize = SCENARIO_TILE;

#[derive(Debug)]
pub struct CpuBackend {
    pool: rayon::ThreadPool,
    /// Scenario draws kept for later plans of the same model layout (off
    /// unless asked for: [`CpuBackend::reusing_draws`]).
    memos: Option<DrawMemos>,
}

/// The draws of scenario ranges asked for more than once, within a budget.
#[derive(Debug)]
struct DrawMemos {
    budget_bytes: u64,
    held: Mutex<Held>,
}

#[derive(Debug, Default)]
struct Held {
    /// Ranges drawn once: recorded if drawn again.
    seen: HashSet<(Layout, u64, u64)>,
    memos: Vec<Arc<DrawMemo>>,
    bytes: u64,
}

impl CpuBackend {
    /// A backend on `threads` worker threads (all cores when `None`).
    pub fn new(threads: Option<usize>) -> Result<Self, BackendError> {
        let pool = rayon::ThreadPoolBuilder::new()
            .num_threads(threads.unwrap_or(0))
            .build()
            .map_err(|e| BackendError::Unavailable {
                backend: "cpu",
                reason: e.to_string(),
            })?;
        Ok(Self { pool, memos: None })
    }

    /// The same backend keeping up to `budget_bytes` of scenario draws for
    /// reuse: an analysis running one model with one seed day after day (a
    /// backtest, a margin history) draws the same random numbers each day and
    /// differs only in what the day's volatilities and correlation make of
    /// them. A range of scenarios is recorded the second time a plan of the
    /// same [`Layout`] draws it (ranges drawn once, such as Z2's, are never
    /// recorded) and replayed after that; the results are the same bits.
    pub fn reusing_draws(self, budget_bytes: u64) -> Self {
        Self {
            memos: Some(DrawMemos {
                budget_bytes,
                held: Mutex::default(),
            }),
            ..self
        }
    }

    pub fn threads(&self) -> usize {
        self.pool.current_num_threads()
    }

    /// Bytes of scenario draws held for reuse (0 unless [`Self::reusing_draws`]).
    pub fn draws_held_bytes(&self) -> u64 {
        self.memos
            .as_ref()
            .and_then(|m| m.held.lock().ok().map(|h| h.bytes))
            .unwrap_or(0)
    }

    /// The record of `model`'s scenarios `range` if there is one to use, made
    /// now if this is the range's second draw and the budget allows.
    fn memo(&self, model: &ScenarioModel, range: &Range<u64>) -> Option<Arc<DrawMemo>> {
        let memos = self.memos.as_ref()?;
        let layout = model.layout()?;
        // A poisoned lock only means a panic elsewhere: draw afresh.
        let mut held = memos.held.lock().ok()?;
        if let Some(memo) = held
            .memos
            .iter()
            .find(|m| m.layout() == &layout && m.range() == range)
        {
            return Some(Arc::clone(memo));
        }
        let bytes = DrawMemo::bytes(&layout, range.end - range.start);
        if held.seen.insert((layout, range.start, range.end))
            || held.bytes + bytes > memos.budget_bytes
        {
            return None;
        }
        let memo = Arc::new(self.pool.install(|| {
            DrawMemo::record(layout, range.clone(), |n, record| model.record(n, record))
        }));
        held.bytes += bytes;
        held.memos.push(Arc::clone(&memo));
        Some(memo)
    }
}

pub struct CpuPlan {
    book: CompiledBook,
    /// The losses' linear part and option holdings as the tiles compute them.
    fold: ParityFold,
    model: ScenarioModel,
    width: Width,
    /// The blocks' features and option columns, reused from block to block.
    buffers: BufferPool,
}

/// Members per revaluation task, within `rayon`'s current pool.
fn member_group(members: usize) -> usize {
    let tasks = GROUPS_PER_THREAD * rayon::current_num_threads();
    members.div_ceil(tasks).clamp(1, MEMBER_GROUP)
}

/// Scenario `n` of `model`, from `memo` where given.
#[inline]
fn draw(
    model: &ScenarioModel,
    memo: Option<&DrawMemo>,
    n: u64,
    scratch: &mut Scratch,
    returns: &mut [f64],
    vols: &mut [f64],
) {
    match memo {
        Some(memo) => model.draw_recorded(memo, n, scratch, returns, vols),
        None => model.draw(n, scratch, returns, vols),
    }
}

impl CpuPlan {
    /// The draws of scenarios `range`: their returns, then their vol factors
    /// (`scenarios x assets` each, scenario-major).
    fn draw_features(&self, range: Range<u64>, memo: Option<&DrawMemo>) -> Pooled<'_> {
        let model = &self.model;
        let a = model.assets();
        let n = (range.end - range.start) as usize;
        let mut features = self.buffers.take(2 * n * a);
        let (returns, vols) = features.split_at_mut(n * a);
        returns.fill(0.0);
        vols.fill(1.0);
        returns
            .par_chunks_mut(DRAW_CHUNK * a)
            .zip(vols.par_chunks_mut(DRAW_CHUNK * a))
            .enumerate()
            .for_each(|(chunk, (returns, vols))| {
                let mut scratch = Scratch::default();
                for (i, (r, v)) in returns
                    .chunks_exact_mut(a)
                    .zip(vols.chunks_exact_mut(a))
                    .enumerate()
                {
                    let n = range.start + (chunk * DRAW_CHUNK + i) as u64;
                    draw(model, memo, n, &mut scratch, r, v);
                }
            });
        features
    }

    /// `block`'s returns, then its vol factors, as [`Self::draw_features`] lays them out.
    fn block_features(&self, block: &ScenarioBlock) -> Pooled<'_> {
        let mut features = self.buffers.take(2 * block.returns.len());
        let (returns, vols) = features.split_at_mut(block.returns.len());
        returns.copy_from_slice(&block.returns);
        vols.copy_from_slice(&block.vol_factors);
        features
    }

    /// The strike groups' columns in the scenarios of `features`, in blocks
    /// of [`OPTION_CHUNK`] scenarios, each block group-major: a holding then
    /// adds a contiguous run of scenarios.
    fn option_columns(&self, features: &[f64]) -> Pooled<'_> {
        let (assets, count) = (self.book.assets, self.book.options.groups.len());
        let scenarios = features.len() / (2 * assets).max(1);
        // Every entry is written below (each group in each scenario).
        let mut columns = self.buffers.take(count * scenarios);
        if count == 0 {
            return columns;
        }
        let (returns, vols) = features.split_at(scenarios * assets);
        columns
            .par_chunks_mut(OPTION_CHUNK * count)
            .enumerate()
            .for_each(|(c, out)| {
                let first = c * OPTION_CHUNK;
                let rows = first * assets..(first + out.len() / count) * assets;
                self.width
                    .option_columns(&self.book, &returns[rows.clone()], &vols[rows], out);
            });
        columns
    }

    /// Losses of members `members` in scenarios `tile` of `features`, written to
    /// `out` member-major with stride `out_stride` between members;
    /// `option_columns` holds the option columns of the same scenarios
    /// ([`Self::option_columns`]).
    fn loss_tile(
        &self,
        features: &[f64],
        option_columns: &[f64],
        tile: Range<usize>,
        members: Range<usize>,
        out: &mut [f64],
        out_stride: usize,
    ) {
        let (book, fold) = (&self.book, &self.fold);
        let (assets, m_all) = (book.assets, book.members);
        let (rows, cols) = (tile.end - tile.start, members.end - members.start);
        for (g, m) in members.clone().enumerate() {
            out[g * out_stride..g * out_stride + rows].fill(fold.constant[m]);
        }
        if rows == 0 || cols == 0 {
            return;
        }
        let a = &features[tile.start * assets..tile.end * assets];
        let b = &fold.weights[members.start..];
        assert!(out.len() >= (cols - 1) * out_stride + rows);
        assert!(b.len() >= (assets - 1) * m_all + cols);
        assert!(a.len() >= rows * assets);
        // SAFETY: `a` is the tile's returns, rows x assets row-major (row
        // stride assets, column stride 1); `b` is the assets x
        // cols sub-matrix of the asset-major weights starting at column
        // `members.start` (row stride m_all, column stride 1); `out` holds cols
        // columns of rows entries at stride out_stride (row stride 1). The asserts
        // above bound every index the product touches inside the slices.
        unsafe {
            matrixmultiply::dgemm(
                rows,
                assets,
                cols,
                1.0,
                a.as_ptr(),
                assets as isize,
                1,
                b.as_ptr(),
                m_all as isize,
                1,
                1.0,
                out.as_mut_ptr(),
                1,
                out_stride as isize,
            );
        }
        let columns = OptionColumns {
            holdings: &fold.holdings,
            columns: book.options.groups.len(),
            values: option_columns,
            scenarios: features.len() / (2 * assets),
            chunk: OPTION_CHUNK,
        };
        let losses = Losses {
            members,
            out,
            stride: out_stride,
        };
        self.width.add_holdings(&columns, tile, losses);
    }
}

impl Backend for CpuBackend {
    type Plan = CpuPlan;

    fn describe(&self) -> String {
        format!("cpu (rayon, {} threads)", self.threads())
    }

    fn prepare(&self, book: &CompiledBook, model: &ScenarioModel) -> Result<CpuPlan, BackendError> {
        Ok(CpuPlan {
            book: book.clone(),
            fold: book.parity_fold(),
            model: model.clone(),
            width: Width::detect(),
            buffers: BufferPool::default(),
        })
    }

    fn scenarios(&self, plan: &CpuPlan, range: Range<u64>) -> Result<ScenarioBlock, BackendError> {
        let model = &plan.model;
        let a = model.assets();
        let memo = self.memo(model, &range);
        let memo = memo.as_deref();
        let mut block =
            ScenarioBlock::with_capacity(range.start, (range.end - range.start) as usize, a);
        self.pool.install(|| {
            block
                .returns
                .par_chunks_mut(a)
                .zip(block.vol_factors.par_chunks_mut(a))
                .enumerate()
                .for_each_init(Scratch::default, |scratch, (s, (returns, vols))| {
                    draw(model, memo, range.start + s as u64, scratch, returns, vols)
                });
        });
        Ok(block)
    }

    fn revalue(&self, plan: &CpuPlan, block: &ScenarioBlock) -> Result<LossBlock, BackendError> {
        let (members, scenarios) = (plan.book.members, block.len());
        let mut losses = vec![0.0; members * scenarios];
        self.pool.install(|| {
            let features = plan.block_features(block);
            let options = plan.option_columns(&features);
            let size = member_group(members);
            losses
                .par_chunks_mut(size * scenarios.max(1))
                .enumerate()
                .for_each(|(g, out)| {
                    let first = g * size;
                    let group = first..(first + size).min(members);
                    plan.loss_tile(&features, &options, 0..scenarios, group, out, scenarios);
                });
        });
        Ok(LossBlock {
            first: block.first,
            scenarios,
            members,
            losses,
        })
    }

    fn accumulate(
        &self,
        plan: &CpuPlan,
        range: Range<u64>,
        tails: &mut [MemberTail],
        exceedances: Option<&mut Exceedances>,
    ) -> Result<(), BackendError> {
        let scenarios = (range.end - range.start) as usize;
        let members = plan.book.members;
        let memo = self.memo(&plan.model, &range);
        let bounds = exceedances.as_ref().map(|e| e.bounds());
        let found: Vec<Vec<(u64, u32, f64)>> = self.pool.install(|| {
            let features = plan.draw_features(range.clone(), memo.as_deref());
            let options = plan.option_columns(&features);
            let size = member_group(members);
            tails
                .par_chunks_mut(size)
                .enumerate()
                .map(|(g, group_tails)| {
                    let first = g * size;
                    let group = first..(first + group_tails.len()).min(members);
                    let mut tile_losses = vec![0.0; SCENARIO_TILE * group_tails.len()];
                    let mut found = Vec::new();
                    for start in (0..scenarios).step_by(SCENARIO_TILE) {
                        let tile = start..(start + SCENARIO_TILE).min(scenarios);
                        let rows = tile.end - tile.start;
                        plan.loss_tile(
                            &features,
                            &options,
                            tile,
                            group.clone(),
                            &mut tile_losses,
                            SCENARIO_TILE,
                        );
                        let tile_first = range.start + start as u64;
                        for (i, top) in group_tails.iter_mut().enumerate() {
                            let losses = &tile_losses[i * SCENARIO_TILE..i * SCENARIO_TILE + rows];
                            match bounds {
                                None => top.push_slice(losses, tile_first),
                                Some(bounds) => {
                                    let m = first + i;
                                    top.push_slice_above(losses, tile_first, bounds[m], |s, x| {
                                        found.push((s, m as u32, x));
                                    });
                                }
                            }
                        }
                    }
                    found
                })
                .collect()
        });
        if let Some(exceedances) = exceedances {
            exceedances.found.extend(found.into_iter().flatten());
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::sample::{generate, SampleSpec};

    /// Every lane width this CPU offers values each strike group's column in
    /// each scenario to the bits of the one-lane reference, for batches shorter
    /// than a width, of whole widths and with a remainder.
    #[test]
    fn every_width_this_cpu_has_gives_the_one_lane_bits() {
        let spec = SampleSpec {
            members: 16,
            assets: 6,
            options: 400,
            listing: Default::default(),
            seed: 7,
        };
        let snapshot = generate(&spec).and_then(|f| f.load("widths")).unwrap();
        let book = CompiledBook::compile(&snapshot).unwrap();
        let count = book.options.groups.len();
        assert!(count > 20, "the sample has strike groups");
        let widths = Width::available();
        eprintln!("widths on this CPU: {widths:?}");
        let a = book.assets;
        for scenarios in [1, 3, 8, 13, 64] {
            // Moves from -60% to +150% and vol factors from 0 (expired-like)
            // to 3, so that every branch of N(x) is taken.
            let returns: Vec<f64> = (0..scenarios * a)
                .map(|i| -0.6 + 2.1 * ((i * 7919) % 997) as f64 / 996.0)
                .collect();
            let vols: Vec<f64> = (0..scenarios * a)
                .map(|i| 3.0 * ((i * 104_729) % 991) as f64 / 990.0)
                .collect();
            for &width in &widths {
                let mut out = vec![f64::NAN; scenarios * count];
                width.option_columns(&book, &returns, &vols, &mut out);
                for (k, x) in out.iter().enumerate() {
                    let (g, s) = (k / scenarios, k % scenarios);
                    let at = s * a + book.options.groups.underlying[g];
                    let reference = book.options.column(g, returns[at], vols[at]);
                    assert_eq!(
                        x.to_bits(),
                        reference.to_bits(),
                        "{width:?}, {scenarios} scenarios, group {g}, scenario {s}"
                    );
                }
            }
        }
    }
}
