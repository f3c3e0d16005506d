//! The CPU backend: rayon over scenarios to draw them, over member groups to
//! revalue and reduce them. The reference implementation.
//!
//! Revaluation is the matrix product `returns (scenarios x assets) . weights
//! (assets x members)` plus each member's constant and its sparse option
//! holdings times the option-series P&Ls, computed in tiles small enough to stay
//! in cache while their losses are pushed into the members' tails, so the
//! block's full loss matrix is never written to memory.

use std::ops::Range;

use rayon::prelude::*;

use super::{Backend, BackendError, LossBlock};
use crate::book::CompiledBook;
use crate::scenario::{ScenarioBlock, ScenarioModel, Scratch};
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

#[derive(Debug)]
pub struct CpuBackend {
    pool: rayon::ThreadPool,
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
        Ok(Self { pool })
    }

    pub fn threads(&self) -> usize {
        self.pool.current_num_threads()
    }
}

pub struct CpuPlan {
    book: CompiledBook,
    model: ScenarioModel,
}

/// Members per revaluation task, within `rayon`'s current pool.
fn member_group(members: usize) -> usize {
    let tasks = GROUPS_PER_THREAD * rayon::current_num_threads();
    members.div_ceil(tasks).clamp(1, MEMBER_GROUP)
}

impl CpuPlan {
    /// Features of scenarios `range`, scenario-major (`scenarios x F`).
    fn draw_features(&self, range: Range<u64>) -> Vec<f64> {
        let (book, model) = (&self.book, &self.model);
        let f = book.feature_count();
        let a = model.assets();
        let mut features = vec![0.0; (range.end - range.start) as usize * f];
        features
            .par_chunks_mut(DRAW_CHUNK * f)
            .enumerate()
            .for_each(|(chunk, out)| {
                let mut scratch = Scratch::default();
                let (mut returns, mut vols) = (vec![0.0; a], vec![1.0; a]);
                for (i, row) in out.chunks_mut(f).enumerate() {
                    let n = range.start + (chunk * DRAW_CHUNK + i) as u64;
                    model.draw(n, &mut scratch, &mut returns, &mut vols);
                    book.features(&returns, &vols, row);
                }
            });
        features
    }

    fn block_features(&self, block: &ScenarioBlock) -> Vec<f64> {
        let f = self.book.feature_count();
        let mut features = vec![0.0; block.len() * f];
        features.par_chunks_mut(f).enumerate().for_each(|(s, row)| {
            self.book
                .features(block.returns_of(s), block.vol_factors_of(s), row);
        });
        features
    }

    /// The option-series P&Ls of `features` (scenario-major, `scenarios` rows),
    /// series-major: each holding then adds a contiguous run of scenarios.
    fn option_columns(&self, features: &[f64]) -> Vec<f64> {
        let (f, assets, series) = (
            self.book.feature_count(),
            self.book.assets,
            self.book.options.len(),
        );
        let scenarios = features.len() / f.max(1);
        let mut columns = vec![0.0; series * scenarios];
        const SERIES_CHUNK: usize = 8;
        columns
            .par_chunks_mut(SERIES_CHUNK * scenarios.max(1))
            .enumerate()
            .for_each(|(c, out)| {
                let first = assets + c * SERIES_CHUNK;
                let width = out.len() / scenarios;
                for (s, row) in features.chunks(f).enumerate() {
                    for (j, &pnl) in row[first..first + width].iter().enumerate() {
                        out[j * scenarios + s] = pnl;
                    }
                }
            });
        columns
    }

    /// Losses of members `members` in scenarios `tile` of `features`, written to
    /// `out` member-major with stride `out_stride` between members;
    /// `option_columns` holds the option P&Ls of the same scenarios series-major.
    fn loss_tile(
        &self,
        features: &[f64],
        option_columns: &[f64],
        tile: Range<usize>,
        members: Range<usize>,
        out: &mut [f64],
        out_stride: usize,
    ) {
        let book = &self.book;
        let (f, assets, m_all) = (book.feature_count(), book.assets, book.members);
        let (rows, cols) = (tile.end - tile.start, members.end - members.start);
        for (g, m) in members.clone().enumerate() {
            out[g * out_stride..g * out_stride + rows].fill(book.constant[m]);
        }
        if rows == 0 || cols == 0 {
            return;
        }
        let a = &features[tile.start * f..tile.end * f];
        let b = &book.weights[members.start..];
        assert!(out.len() >= (cols - 1) * out_stride + rows);
        assert!(b.len() >= (assets - 1) * m_all + cols);
        assert!(a.len() >= (rows - 1) * f + assets);
        // SAFETY: `a` is rows x f row-major (row stride f, column stride 1), of
        // which the product reads the first `assets` columns; `b` is the assets x
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
                f as isize,
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
        let scenarios = features.len() / f;
        for (g, m) in members.enumerate() {
            let dst = &mut out[g * out_stride..g * out_stride + rows];
            for (j, w) in book.member_options.of(m) {
                let column = &option_columns[j * scenarios + tile.start..j * scenarios + tile.end];
                for (d, &pnl) in dst.iter_mut().zip(column) {
                    *d += w * pnl;
                }
            }
        }
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
            model: model.clone(),
        })
    }

    fn scenarios(&self, plan: &CpuPlan, range: Range<u64>) -> Result<ScenarioBlock, BackendError> {
        let model = &plan.model;
        let a = model.assets();
        let mut block =
            ScenarioBlock::with_capacity(range.start, (range.end - range.start) as usize, a);
        self.pool.install(|| {
            block
                .returns
                .par_chunks_mut(a)
                .zip(block.vol_factors.par_chunks_mut(a))
                .enumerate()
                .for_each_init(Scratch::default, |scratch, (s, (returns, vols))| {
                    model.draw(range.start + s as u64, scratch, returns, vols)
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
    ) -> Result<(), BackendError> {
        let scenarios = (range.end - range.start) as usize;
        let members = plan.book.members;
        self.pool.install(|| {
            let features = plan.draw_features(range.clone());
            let options = plan.option_columns(&features);
            let size = member_group(members);
            tails
                .par_chunks_mut(size)
                .enumerate()
                .for_each(|(g, group_tails)| {
                    let first = g * size;
                    let group = first..(first + group_tails.len()).min(members);
                    let mut tile_losses = vec![0.0; SCENARIO_TILE * group_tails.len()];
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
                        for (i, top) in group_tails.iter_mut().enumerate() {
                            top.push_slice(
                                &tile_losses[i * SCENARIO_TILE..i * SCENARIO_TILE + rows],
                                range.start + start as u64,
                            );
                        }
                    }
                });
        });
        Ok(())
    }
}
