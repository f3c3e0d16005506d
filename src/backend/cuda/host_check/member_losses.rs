//! `member_losses`, compiled for the host and run as blocks of cooperating
//! threads (the shim in host_check.rs), against a plain loop that sums each
//! loss in the kernel's stated order with one FMA per step: bit for bit. The
//! same for `compact_losses` (cuda/product.rs) over asset losses the host
//! formed in that order: it keeps what `member_losses` keeps. The
//! same losses are held against f64 sums at the parity suite's tolerance
//! (5e-7 of the gross scale, tests/common/parity.rs). With the gaps between
//! tail windows summed (kernels/exact_sum.cuh), the losses summed on the
//! device give the moments the host adds loss by loss, bit for bit.

use std::cmp::Ordering;

use super::{host_kernels, HostKernels};
use crate::backend::cuda::LOSS_THREADS;
use crate::backend::device::gap::{bounds, moments, GAP_WORDS};
use crate::backend::device::layout::{f32_at_or_below, RevalueParams};
use crate::backend::device::TILE;
use crate::tail::{within_range, MemberTail, Moments, Window};

type CompactLosses = unsafe extern "C" fn(
    u32,
    u32,
    u32,
    RevalueParams,
    u32,
    u32,
    *const f32,
    *const f32,
    *const u32,
    *const f32,
    *mut u32,
    *mut [u32; 2],
    *const f64,
    *mut u64,
);

type MemberLosses = unsafe extern "C" fn(
    u32,
    u32,
    u32,
    RevalueParams,
    *const f32,
    *const f32,
    *const f32,
    *const u32,
    *const f32,
    *mut u32,
    *mut [u32; 2],
    *const f64,
    *mut u64,
);

/// How a test computes the losses: `member_losses`, or `compact_losses`
/// over asset losses the host formed in the kernel's stated order (as
/// cuBLAS would, summing in its own), `rows` scenarios a launch.
#[derive(Debug, Clone, Copy)]
enum Launch {
    Fused,
    Compacted { rows: usize },
}

/// What a launch wrote: each member's count, its region, its gaps' counters
/// (when asked for).
struct Found {
    counts: Vec<u32>,
    regions: Vec<[u32; 2]>,
    gaps: Vec<u64>,
}

/// A book and a chunk of moves with awkward sizes: partial tiles of
/// scenarios and members, assets not a multiple of the kernel's DEPTH.
struct Case {
    assets: usize,
    members: usize,
    count: usize,
    stride: usize,
    returns: Vec<f32>,
    weights: Vec<f32>,
    pnl: Vec<f32>,
    /// offsets[members + 1], series[holdings], f32 weight bits[holdings].
    holdings: Vec<u32>,
}

/// Deterministic values in [-1, 1).
fn noise(i: usize, salt: u64) -> f32 {
    let mut x =
        (i as u64 ^ salt.wrapping_mul(0x9e37_79b9_7f4a_7c15)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
    x ^= x >> 31;
    x = x.wrapping_mul(0x94d0_49bb_1331_11eb);
    x ^= x >> 29;
    (x >> 40) as f32 / (1u64 << 23) as f32 - 1.0
}

impl Case {
    fn new(assets: usize, members: usize, count: usize) -> Self {
        let stride = count.div_ceil(TILE as usize) * TILE as usize;
        let series = 5;
        // Moves of a few percent, weights over six orders of magnitude.
        let returns = (0..assets * stride).map(|i| 0.05 * noise(i, 1)).collect();
        let weights = (0..assets * members)
            .map(|i| noise(i, 2) * 10f32.powi((i % 7) as i32))
            .collect();
        let pnl = (0..series * stride).map(|i| 100.0 * noise(i, 3)).collect();
        let mut offsets = vec![0u32];
        let (mut held, mut bits) = (vec![], vec![]);
        for m in 0..members {
            for h in 0..m % 4 {
                held.push(((m + 2 * h) % series) as u32);
                bits.push((50.0 * noise(m * 4 + h, 4)).to_bits());
            }
            offsets.push(held.len() as u32);
        }
        let holdings = offsets.into_iter().chain(held).chain(bits).collect();
        Self {
            assets,
            members,
            count,
            stride,
            returns,
            weights,
            pnl,
            holdings,
        }
    }

    fn held(&self, m: usize) -> impl Iterator<Item = (usize, f32)> + '_ {
        let holdings = self.holdings[self.members] as usize;
        let (series_at, weights_at) = (self.members + 1, self.members + 1 + holdings);
        (self.holdings[m] as usize..self.holdings[m + 1] as usize).map(move |h| {
            (
                self.holdings[series_at + h] as usize,
                f32::from_bits(self.holdings[weights_at + h]),
            )
        })
    }

    /// The asset part in the kernel's stated order: from 0, assets in
    /// increasing order, each step fma(w, r, loss).
    fn asset_loss(&self, m: usize, s: usize) -> f32 {
        (0..self.assets).fold(0.0_f32, |loss, a| {
            self.weights[a * self.members + m].mul_add(self.returns[a * self.stride + s], loss)
        })
    }

    /// The kernel's stated order: the asset part, then the option holdings
    /// in order, each step fma(w, x, loss).
    fn fma_loss(&self, m: usize, s: usize) -> f32 {
        let mut loss = self.asset_loss(m, s);
        for (j, w) in self.held(m) {
            loss = w.mul_add(self.pnl[j * self.stride + s], loss);
        }
        loss
    }

    /// The loss in f64 and its gross scale G (tests/common/parity.rs), here
    /// with |P&L| standing in for the option's forward + strike.
    fn f64_loss(&self, m: usize, s: usize) -> (f64, f64) {
        let (mut loss, mut scale) = (0.0, 0.0);
        for a in 0..self.assets {
            let (w, r) = (
                f64::from(self.weights[a * self.members + m]),
                f64::from(self.returns[a * self.stride + s]),
            );
            loss += w * r;
            scale += w.abs() * (1.0 + r.abs());
        }
        for (j, w) in self.held(m) {
            let x = f64::from(self.pnl[j * self.stride + s]);
            loss += f64::from(w) * x;
            scale += f64::from(w).abs() * (1.0 + x.abs());
        }
        (loss, scale)
    }

    /// Runs the kernel with `thresholds`: the floors, or, summing `gaps` gaps
    /// with `constants`, each member's floor and its gaps' bounds.
    fn run(
        &self,
        k: &HostKernels,
        thresholds: &[f32],
        sums: Option<(usize, &[f64])>,
        per_member: usize,
        how: Launch,
    ) -> Found {
        let unused = vec![0.0; self.members];
        let (gaps, constants) = sums.unwrap_or((0, &unused));
        let params = RevalueParams {
            count: self.count as u32,
            stride: self.stride as u32,
            assets: self.assets as u32,
            members: self.members as u32,
            // No options here: the P&Ls are given.
            groups: 0,
            holdings: self.holdings[self.members],
            per_member: per_member as u32,
            gaps: gaps as u32,
        };
        assert_eq!(thresholds.len(), self.members * (1 + 2 * gaps));
        let mut found = Found {
            counts: vec![0u32; self.members],
            regions: vec![[u32::MAX; 2]; self.members * per_member],
            gaps: vec![0u64; (self.members * gaps * GAP_WORDS).max(1)],
        };
        let member_tiles = (self.members as u32).div_ceil(TILE);
        let rows = match how {
            Launch::Compacted { rows } => rows,
            Launch::Fused => {
                let member_losses: MemberLosses = k.get(b"host_member_losses");
                // SAFETY: the launch reads assets x stride returns, series x
                // stride P&Ls, assets x members weights, the holdings' three
                // parts, 1 + 2 gaps thresholds per member and one constant per
                // member, and writes one count per member, at most per_member
                // candidates per member and gaps x GAP_WORDS counters per
                // member; the grid is the backend's (cuda/product.rs).
                unsafe {
                    member_losses(
                        (self.count as u32).div_ceil(TILE),
                        member_tiles,
                        LOSS_THREADS,
                        params,
                        self.returns.as_ptr(),
                        self.pnl.as_ptr(),
                        self.weights.as_ptr(),
                        self.holdings.as_ptr(),
                        thresholds.as_ptr(),
                        found.counts.as_mut_ptr(),
                        found.regions.as_mut_ptr(),
                        constants.as_ptr(),
                        found.gaps.as_mut_ptr(),
                    )
                };
                return found;
            }
        };
        let compact_losses: CompactLosses = k.get(b"host_compact_losses");
        // Stale values past the chunk, as the device's buffer has them.
        let mut products = vec![f32::NAN; rows * self.members];
        for first in (0..self.count).step_by(rows) {
            let count = (self.count - first).min(rows);
            for m in 0..self.members {
                for s in first..first + count {
                    products[m * rows + s - first] = self.asset_loss(m, s);
                }
            }
            // SAFETY: as member_losses above, reading rows x members
            // products in place of the returns and weights; `rows` and
            // `first` are multiples of TILE (cuda/product.rs).
            unsafe {
                compact_losses(
                    (count as u32).div_ceil(TILE),
                    member_tiles,
                    LOSS_THREADS,
                    params,
                    first as u32,
                    rows as u32,
                    products.as_ptr(),
                    self.pnl.as_ptr(),
                    self.holdings.as_ptr(),
                    thresholds.as_ptr(),
                    found.counts.as_mut_ptr(),
                    found.regions.as_mut_ptr(),
                    constants.as_ptr(),
                    found.gaps.as_mut_ptr(),
                )
            };
        }
        found
    }
}

/// The fused kernel, and the compaction over products one launch, several
/// launches and a last launch of one scenario wide (count 65).
const LAUNCHES: [Launch; 3] = [
    Launch::Fused,
    Launch::Compacted { rows: 256 },
    Launch::Compacted { rows: 64 },
];

#[test]
fn cuda_member_losses_compiled_for_the_host_sums_in_asset_order_bit_for_bit() {
    let Some(k) = host_kernels() else { return };
    let (mut worst, mut capped, mut kept) = (0.0_f64, 0, 0);
    // Assets: none, fewer than DEPTH, exactly DEPTH, several slices and a part.
    let cases = [(0, 70, 65), (5, 64, 64), (16, 129, 100), (37, 150, 200)];
    for (how, (assets, members, count)) in LAUNCHES.into_iter().flat_map(|h| cases.map(|c| (h, c)))
    {
        let case = Case::new(assets, members, count);
        let per_member = 40;
        // Thresholds near the middle of each member's losses, and the edge
        // cases: NaN and -inf keep every scenario, +inf none.
        let thresholds: Vec<f32> = (0..members)
            .map(|m| match m % 10 {
                3 => f32::NAN,
                5 => f32::NEG_INFINITY,
                7 => f32::INFINITY,
                _ => case.fma_loss(m, m % count),
            })
            .collect();
        let Found {
            counts, regions, ..
        } = case.run(k, &thresholds, None, per_member, how);
        for m in 0..members {
            let expected: Vec<(u32, u32)> = (0..count)
                .map(|s| (s as u32, case.fma_loss(m, s)))
                // The kernel's test, NaN on either side included.
                .filter(|&(_, loss)| loss.partial_cmp(&thresholds[m]) != Some(Ordering::Less))
                .map(|(s, loss)| (s, loss.to_bits()))
                .collect();
            let at = format!("{how:?}, {assets} assets, member {m}");
            assert_eq!(counts[m] as usize, expected.len(), "{at}: candidates");
            let mut found: Vec<(u32, u32)> = regions[m * per_member..]
                .iter()
                .take(expected.len().min(per_member))
                .map(|&[s, bits]| (s, bits))
                .collect();
            found.sort_unstable();
            assert!(
                found.windows(2).all(|w| w[0].0 < w[1].0),
                "{at}: a scenario twice"
            );
            for c in &found {
                assert!(
                    expected.binary_search(c).is_ok(),
                    "{at}: {c:?} is not a loss bit for bit"
                );
            }
            if expected.len() <= per_member {
                assert_eq!(found, expected, "{at}");
            } else {
                capped += 1;
            }
            kept += found.len();
            for &(s, bits) in &found {
                let (loss, scale) = case.f64_loss(m, s as usize);
                worst = worst.max((f64::from(f32::from_bits(bits)) - loss).abs() / scale);
            }
        }
    }
    assert!(
        capped > 0 && kept > 1000,
        "a weak test: {capped} capped, {kept} kept"
    );
    eprintln!("member_losses: {kept} candidates bit for bit; within {worst:.2e} G of f64");
    assert!(worst <= 5e-7, "losses differ from f64 by {worst:e} G");
}

#[test]
fn cuda_member_losses_sum_the_gaps_between_windows_as_the_host_adds_them() {
    let Some(k) = host_kernels() else { return };
    let (mut summed, mut kept) = (0, 0);
    let gaps = 2;
    let cases = [(5, 64, 64), (37, 150, 200)];
    for (how, (assets, members, count)) in LAUNCHES.into_iter().flat_map(|h| cases.map(|c| (h, c)))
    {
        let case = Case::new(assets, members, count);
        let per_member = count;
        // Constants of every size and sign; member 11 so large that its
        // losses in the gaps leave the exact sums' range (the host flags
        // them), so they must come back as candidates.
        let constants: Vec<f64> = (0..members)
            .map(|m| match m % 12 {
                11 => 2.0e19,
                j => (j as f64 - 5.0) * 10f64.powi(j as i32),
            })
            .collect();
        // Windows around the 12th and the 30th largest loss, the floor under
        // the second; member 7 keeps an exact tail (nothing to sum).
        let mut thresholds = Vec::new();
        let mut tails = Vec::new();
        for (m, &c) in constants.iter().enumerate() {
            let mut losses: Vec<f64> = (0..count)
                .map(|s| f64::from(case.fma_loss(m, s)) + c)
                .collect();
            losses.sort_unstable_by(|a, b| b.total_cmp(a));
            let tail = if m % 12 == 7 {
                MemberTail::exact(40)
            } else {
                MemberTail::new(vec![
                    Window::keeping(losses[13], losses[10], 40, 0),
                    Window::keeping(losses[32], losses[27], 40, 0),
                ])
            };
            thresholds.push(f32_at_or_below(tail.floor() - c));
            thresholds.extend(bounds(&tail, c, gaps).into_iter().flatten());
            tails.push(tail);
        }
        let found = case.run(k, &thresholds, Some((gaps, &constants)), per_member, how);
        for (m, tail) in tails.iter().enumerate() {
            let floor = thresholds[m * (1 + 2 * gaps)];
            let (mut expected, mut here) = (Vec::new(), vec![Moments::default(); gaps]);
            for s in 0..count {
                let v = case.fma_loss(m, s);
                if v < floor {
                    continue;
                }
                let x = f64::from(v) + constants[m];
                let gap = (0..gaps).find(|&g| {
                    tail.gap_bounds(g)
                        .is_some_and(|(above, below)| x > above && x < below)
                });
                match gap {
                    Some(g) if within_range(x) => here[g].add(x),
                    _ => expected.push((s as u32, v.to_bits())),
                }
            }
            let at = format!("{how:?}, {assets} assets, member {m}");
            for (g, moments_here) in here.iter().enumerate() {
                let device = moments(&found.gaps[(m * gaps + g) * GAP_WORDS..][..GAP_WORDS]);
                assert_eq!(&device, moments_here, "{at}: gap {g}");
                if m % 12 == 7 || m % 12 == 11 {
                    assert_eq!(device.count, 0, "{at}: nothing to sum");
                }
                summed += device.count;
            }
            assert_eq!(found.counts[m] as usize, expected.len(), "{at}: candidates");
            let mut got: Vec<(u32, u32)> = found.regions[m * per_member..][..expected.len()]
                .iter()
                .map(|&[s, bits]| (s, bits))
                .collect();
            got.sort_unstable();
            assert_eq!(got, expected, "{at}");
            kept += expected.len();
        }
    }
    eprintln!("member_losses: {summed} losses summed in the gaps, {kept} candidates");
    assert!(
        summed > 1000 && kept > 1000,
        "a weak test: {summed} summed, {kept} kept"
    );
}
