//! The CPU backend's option columns: each strike group's column
//! ([`crate::book::ParityFold`]) in a block of scenarios, and the members'
//! holdings of them added to their losses, both in the widest vector
//! registers this CPU has, found at run time (the binary is built for the
//! baseline instruction set).
//!
//! The columns of a block of scenarios lie group-major (group `g` of a block of
//! `len` scenarios at `g * len`), so that Black-76 stores `N` scenarios of one
//! group at once and a member's holding adds a contiguous run of them.

use std::ops::{Deref, DerefMut, Range};
use std::sync::Mutex;

use crate::book::{CompiledBook, MemberOptions};

/// How many scenarios the option arithmetic handles at once: as many doubles
/// as the widest vector registers this CPU has. Every width gives the same
/// bits ([`crate::book::OptionSeries::columns`] lane by lane; the holdings add
/// in the same order at every width), so the choice changes only the speed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Width {
    /// AVX-512: 8 doubles.
    #[cfg(target_arch = "x86_64")]
    Avx512,
    /// AVX2: 4 doubles.
    #[cfg(target_arch = "x86_64")]
    Avx2,
    /// The baseline's 128-bit registers (SSE2, NEON): 2 doubles.
    Baseline,
}

impl Width {
    /// The widest width this CPU runs.
    pub(super) fn detect() -> Self {
        *Self::available().last().unwrap_or(&Self::Baseline)
    }

    /// Every width this CPU runs, narrowest first.
    pub(super) fn available() -> Vec<Self> {
        let mut widths = vec![Self::Baseline];
        #[cfg(target_arch = "x86_64")]
        {
            if std::arch::is_x86_feature_detected!("avx2") {
                widths.push(Self::Avx2);
            }
            if std::arch::is_x86_feature_detected!("avx512f") {
                widths.push(Self::Avx512);
            }
        }
        widths
    }

    /// The strike groups' columns in a block of scenarios (`returns`,
    /// `vol_factors`: `scenarios x assets`) into `out`, group-major.
    #[inline]
    pub(super) fn option_columns(
        self,
        book: &CompiledBook,
        returns: &[f64],
        vol_factors: &[f64],
        out: &mut [f64],
    ) {
        match self {
            // SAFETY: `detect` chose this width only on a CPU with AVX-512F.
            #[cfg(target_arch = "x86_64")]
            Self::Avx512 => unsafe { columns_avx512(book, returns, vol_factors, out) },
            // SAFETY: `detect` chose this width only on a CPU with AVX2.
            #[cfg(target_arch = "x86_64")]
            Self::Avx2 => unsafe { columns_avx2(book, returns, vol_factors, out) },
            Self::Baseline => columns::<2>(book, returns, vol_factors, out),
        }
    }

    /// Adds the option holdings of `members` to their losses in scenarios
    /// `tile` ([`add_holdings`]).
    #[inline]
    pub(super) fn add_holdings(self, columns: &OptionColumns, tile: Range<usize>, losses: Losses) {
        match self {
            // SAFETY: `detect` chose this width only on a CPU with AVX-512F.
            #[cfg(target_arch = "x86_64")]
            Self::Avx512 => unsafe { add_holdings_avx512(columns, tile, losses) },
            // SAFETY: `detect` chose this width only on a CPU with AVX2.
            #[cfg(target_arch = "x86_64")]
            Self::Avx2 => unsafe { add_holdings_avx2(columns, tile, losses) },
            Self::Baseline => add_holdings(columns, tile, losses),
        }
    }
}

/// Group-major columns of one block of scenarios.
#[inline(always)]
fn columns<const N: usize>(
    book: &CompiledBook,
    returns: &[f64],
    vol_factors: &[f64],
    out: &mut [f64],
) {
    book.options
        .columns::<N>(book.assets, returns, vol_factors, out)
}

#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "avx512f")]
fn columns_avx512(book: &CompiledBook, returns: &[f64], vol_factors: &[f64], out: &mut [f64]) {
    columns::<8>(book, returns, vol_factors, out)
}

#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "avx2")]
fn columns_avx2(book: &CompiledBook, returns: &[f64], vol_factors: &[f64], out: &mut [f64]) {
    columns::<4>(book, returns, vol_factors, out)
}

/// The columns of `scenarios` scenarios, in blocks of `chunk` scenarios (the
/// last one shorter), each block group-major, and the members' holdings of
/// them.
pub(super) struct OptionColumns<'a> {
    pub holdings: &'a MemberOptions,
    /// Columns per scenario.
    pub columns: usize,
    pub values: &'a [f64],
    pub scenarios: usize,
    pub chunk: usize,
}

/// A tile of losses: member `members.start + g`'s at `out[g * stride..]`.
pub(super) struct Losses<'a> {
    pub members: Range<usize>,
    pub out: &'a mut [f64],
    pub stride: usize,
}

/// Scenarios a member's losses are held in registers for while its holdings
/// are added: four AVX-512 registers.
const REGISTER_RUN: usize = 32;

/// Adds `w x column` of each holding to each member's losses in `tile`,
/// holdings in ascending column (the order, and so the bits, of one
/// `+=` per holding). Runs of [`REGISTER_RUN`] scenarios stay in registers
/// across a member's holdings, so the losses are loaded and stored once.
#[inline(always)]
fn add_holdings(columns: &OptionColumns, tile: Range<usize>, losses: Losses) {
    let count = columns.columns;
    if count == 0 {
        return;
    }
    let held = columns.holdings;
    let mut s = tile.start;
    while s < tile.end {
        let chunk_start = s - s % columns.chunk;
        let len = columns.chunk.min(columns.scenarios - chunk_start);
        let end = tile.end.min(chunk_start + len);
        let block = &columns.values[chunk_start * count..(chunk_start + len) * count];
        let (from, to) = (s - chunk_start, end - chunk_start);
        for (g, m) in losses.members.clone().enumerate() {
            let row = g * losses.stride + (s - tile.start);
            let dst = &mut losses.out[row..row + (end - s)];
            let r = held.offsets[m]..held.offsets[m + 1];
            let (js, ws) = (&held.series[r.clone()], &held.weight[r]);
            let mut runs = dst.chunks_exact_mut(REGISTER_RUN);
            let mut at = from;
            for run in &mut runs {
                let mut acc: [f64; REGISTER_RUN] = run.try_into().expect("a whole run");
                for (&j, &w) in js.iter().zip(ws) {
                    let column = &block[j * len + at..j * len + at + REGISTER_RUN];
                    for (a, &x) in acc.iter_mut().zip(column) {
                        *a += w * x;
                    }
                }
                run.copy_from_slice(&acc);
                at += REGISTER_RUN;
            }
            let rest = runs.into_remainder();
            for (&j, &w) in js.iter().zip(ws) {
                let column = &block[j * len + at..j * len + to];
                for (d, &x) in rest.iter_mut().zip(column) {
                    *d += w * x;
                }
            }
        }
        s = end;
    }
}

#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "avx512f")]
fn add_holdings_avx512(columns: &OptionColumns, tile: Range<usize>, losses: Losses) {
    add_holdings(columns, tile, losses)
}

#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "avx2")]
fn add_holdings_avx2(columns: &OptionColumns, tile: Range<usize>, losses: Losses) {
    add_holdings(columns, tile, losses)
}

/// Buffers reused from block to block. A block's option P&Ls run to tens of
/// megabytes (4,096 scenarios x 1,300 strike groups: 43 MB), and memory that size
/// freshly allocated comes from the kernel, one page fault per 4 KiB at its
/// first touch: measured at a tenth of a run's time before the reuse.
#[derive(Debug, Default)]
pub(super) struct BufferPool(Mutex<Vec<Vec<f64>>>);

/// Buffers kept at most: one per block in flight is enough.
const POOLED: usize = 4;

impl BufferPool {
    /// A buffer of `len` doubles whose values are unspecified (what an
    /// earlier block left, or 0): the caller writes every one.
    pub(super) fn take(&self, len: usize) -> Pooled<'_> {
        // A poisoned lock only means a panic elsewhere: allocate afresh.
        let mut buf = self
            .0
            .lock()
            .ok()
            .and_then(|mut held| held.pop())
            .unwrap_or_default();
        buf.truncate(len);
        buf.resize(len, 0.0);
        Pooled { buf, pool: self }
    }
}

/// A buffer from a [`BufferPool`], given back when dropped.
pub(super) struct Pooled<'a> {
    buf: Vec<f64>,
    pool: &'a BufferPool,
}

impl Deref for Pooled<'_> {
    type Target = [f64];
    fn deref(&self) -> &[f64] {
        &self.buf
    }
}

impl DerefMut for Pooled<'_> {
    fn deref_mut(&mut self) -> &mut [f64] {
        &mut self.buf
    }
}

impl Drop for Pooled<'_> {
    fn drop(&mut self) {
        if let Ok(mut held) = self.pool.0.lock() {
            if held.len() < POOLED {
                held.push(std::mem::take(&mut self.buf));
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::sample::{generate, SampleSpec};

    /// Each width adds the holdings to the bits of one `+=` per holding in
    /// ascending column, for tiles that cross blocks, start and end inside
    /// them and leave runs shorter than the registers hold.
    #[test]
    fn every_width_adds_the_holdings_as_one_sum_per_holding() {
        let spec = SampleSpec {
            members: 24,
            assets: 4,
            options: 600,
            listing: Default::default(),
            seed: 2,
        };
        let snapshot = generate(&spec).and_then(|f| f.load("holdings")).unwrap();
        let book = CompiledBook::compile(&snapshot).unwrap();
        let held = book.parity_fold().holdings;
        let (count, scenarios, chunk) = (book.options.groups.len(), 200, 64);
        assert!(count > 20 && held.series.len() > 50);
        let values: Vec<f64> = (0..count * scenarios)
            .map(|i| ((i * 7919) % 1009) as f64 * 0.37 - 180.0)
            .collect();
        let columns = OptionColumns {
            holdings: &held,
            columns: count,
            values: &values,
            scenarios,
            chunk,
        };
        // Column j in scenario s: block s / chunk, group-major.
        let value = |j: usize, s: usize| {
            let start = s - s % chunk;
            let len = chunk.min(scenarios - start);
            values[start * count + j * len + (s - start)]
        };
        let widths = Width::available();
        for tile in [0..scenarios, 37..190, 64..128, 5..9] {
            let (members, stride) = (3..21, tile.len() + 3);
            let start: Vec<f64> = (0..members.len() * stride).map(|i| i as f64).collect();
            let mut expected = start.clone();
            for (g, m) in members.clone().enumerate() {
                for (j, w) in held.of(m) {
                    for s in tile.clone() {
                        expected[g * stride + s - tile.start] += w * value(j, s);
                    }
                }
            }
            for &width in &widths {
                let mut out = start.clone();
                let losses = Losses {
                    members: members.clone(),
                    out: &mut out,
                    stride,
                };
                width.add_holdings(&columns, tile.clone(), losses);
                let bits = |v: &[f64]| v.iter().map(|x| x.to_bits()).collect::<Vec<_>>();
                assert_eq!(bits(&out), bits(&expected), "{width:?}, tile {tile:?}");
            }
        }
    }
}
