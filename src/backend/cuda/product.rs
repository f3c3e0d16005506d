//! How the CUDA backend forms the chunk's one large product, each member's
//! loss over the assets in each scenario (scenarios x assets times assets x
//! members), before the option holdings and the tail test:
//!
//! - [`LossProduct::Tiled`] (the default): the fused `member_losses` kernel,
//!   which sums each loss from 0 in asset order, one FMA a step, and tests it
//!   in registers: nothing but the candidates leaves the chip, and the host-
//!   compiled kernel gives the same bits (host_check).
//! - [`LossProduct::Sgemm`]: cuBLAS's SGEMM (FP32, no TF32) writes the asset
//!   losses of up to [`Products::rows`] scenarios at a time into a products
//!   buffer, and `compact_losses` adds the holdings and keeps the candidates
//!   exactly as `member_losses` does. The products make a round trip through
//!   device memory, 8 bytes a loss, against a tuned GEMM's arithmetic.
//!
//! Which is faster on a device is measured, not assumed: `CLEARSTRESS_CUDA_LOSSES=sgemm`
//! selects SGEMM for a process (DEVELOPERS.md; the device check runs the
//! benchmark both ways). cuBLAS's order of summation is its own, so its
//! losses may differ from the tiled ones in the last bit: both are held to
//! the parity suite's tolerance against the CPU.

use std::sync::Arc;

use cudarc::cublas::sys::{cublasMath_t, cublasOperation_t};
use cudarc::cublas::{CudaBlas, Gemm, GemmConfig};
use cudarc::driver::{CudaSlice, CudaStream, LaunchConfig, PushKernelArg};

use super::{driver_error, CudaBackend, CudaPlan, Slot, Work, LOSS_THREADS, NAME};
use crate::backend::device::layout::RevalueParams;
use crate::backend::device::TILE;
use crate::backend::BackendError;

/// The environment variable that selects the product for a process.
pub const VARIABLE: &str = "CLEARSTRESS_CUDA_LOSSES";

/// How the asset part of the members' losses is computed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LossProduct {
    Tiled,
    Sgemm,
}

impl LossProduct {
    /// From [`VARIABLE`].
    pub fn from_env() -> Result<Self, BackendError> {
        Self::parse(std::env::var(VARIABLE).ok().as_deref())
    }

    /// Unset or `tiled`, or `sgemm`.
    fn parse(value: Option<&str>) -> Result<Self, BackendError> {
        match value {
            None | Some("tiled") => Ok(Self::Tiled),
            Some("sgemm") => Ok(Self::Sgemm),
            Some(other) => Err(BackendError::Device {
                backend: NAME,
                message: format!("{VARIABLE}={other}: expected `tiled` or `sgemm`"),
            }),
        }
    }
}

/// cuBLAS on the compute stream, in FP32 (no TF32 tensor-core rounding).
pub(super) fn sgemm_handle(stream: Arc<CudaStream>) -> Result<CudaBlas, BackendError> {
    let error = |what: &str| BackendError::Device {
        backend: NAME,
        message: format!("{VARIABLE}=sgemm: {what}"),
    };
    // SAFETY: only attempts to dlopen the library and reports whether it could.
    if !unsafe { cudarc::cublas::sys::is_culib_present() } {
        return Err(error(
            "libcublas (libcublas.so.13 or .so.12) was not found: add the CUDA toolkit's \
             lib64 folder to LD_LIBRARY_PATH",
        ));
    }
    let blas = CudaBlas::new(stream).map_err(|e| error(&format!("cublasCreate: {e:?}")))?;
    // SAFETY: the handle was just created and is used by this thread only here.
    unsafe {
        cudarc::cublas::sys::cublasSetMathMode(*blas.handle(), cublasMath_t::CUBLAS_DEFAULT_MATH)
    }
    .result()
    .map_err(|e| error(&format!("cublasSetMathMode: {e:?}")))?;
    Ok(blas)
}

/// A plan's products buffer: the asset losses of `rows` scenarios for every
/// member, member-major (`rows` apart), `rows` a multiple of [`TILE`].
pub(super) struct Products {
    buffer: CudaSlice<f32>,
    rows: u32,
}

impl Products {
    /// Within `bytes`, for `members` and chunks of `stride` scenarios: at
    /// least one tile of scenarios, at most the chunk.
    pub fn rows(members: usize, stride: u32, bytes: u64) -> u32 {
        let fit = bytes / (4 * members.max(1) as u64) / u64::from(TILE) * u64::from(TILE);
        let chunk = u64::from(stride.next_multiple_of(TILE));
        fit.clamp(u64::from(TILE), chunk) as u32
    }

    pub fn new(
        stream: &Arc<CudaStream>,
        members: usize,
        stride: u32,
        bytes: u64,
    ) -> Result<Self, BackendError> {
        let rows = Self::rows(members, stride, bytes);
        let buffer = stream
            .alloc_zeros::<f32>(rows as usize * members.max(1))
            .map_err(driver_error)?;
        Ok(Self { buffer, rows })
    }
}

impl CudaBackend {
    /// Queues the losses of a chunk of `params.count` scenarios against the
    /// slot's thresholds: the members' counts and regions, and the gaps'
    /// counters, as [`LossProduct`] says.
    pub(super) fn launch_losses(
        &self,
        plan: &CudaPlan,
        work: &mut Work,
        slot: usize,
        params: &RevalueParams,
    ) -> Result<(), BackendError> {
        let member_tiles = (params.members).div_ceil(TILE);
        let Work {
            returns,
            pnl,
            products,
            slots,
            ..
        } = work;
        let Slot {
            thresholds,
            member_counts,
            regions,
            gaps,
            ..
        } = &mut slots[slot];
        let (Some(blas), Some(products)) = (&self.sgemm, products.as_mut()) else {
            let mut launch = self.compute.launch_builder(&self.functions.member_losses);
            launch
                .arg(params)
                .arg(&*returns)
                .arg(&*pnl)
                .arg(&plan.weights)
                .arg(&plan.holdings)
                .arg(&*thresholds)
                .arg(member_counts)
                .arg(regions)
                .arg(&plan.constants)
                .arg(gaps);
            let config = LaunchConfig {
                grid_dim: (params.count.div_ceil(TILE), member_tiles, 1),
                block_dim: (LOSS_THREADS, 1, 1),
                shared_mem_bytes: 0,
            };
            // SAFETY: member_losses reads the chunk's returns and P&Ls, the
            // book, 1 + 2 gaps thresholds per member (`thresholds` holds 1 + 2
            // MAX_GAPS a member where the plan sums gaps, else 1, and gaps is
            // 0 then) and, when gaps > 0, one constant per member; it writes
            // at most per_member candidates per member into `regions`
            // (members x per_member x 2 words), one count per member and gaps
            // x GAP_WORDS counters per member into `gaps`, which holds
            // MAX_GAPS x GAP_WORDS a member where the plan sums gaps.
            return unsafe { launch.launch(config) }
                .map(|_| ())
                .map_err(driver_error);
        };
        let rows = products.rows;
        if params.assets == 0 {
            // No GEMM (k = 0): every asset loss is 0.
            self.compute
                .memset_zeros(&mut products.buffer)
                .map_err(driver_error)?;
        }
        for first in (0..params.count).step_by(rows as usize) {
            let count = (params.count - first).min(rows);
            if params.assets > 0 {
                // Column-major: A = returns (count x assets, leading dimension
                // the stride), B = weights stored members x assets, used
                // transposed; C = products (count x members, `rows` apart).
                let gemm = GemmConfig {
                    transa: cublasOperation_t::CUBLAS_OP_N,
                    transb: cublasOperation_t::CUBLAS_OP_T,
                    m: count as i32,
                    n: params.members as i32,
                    k: params.assets as i32,
                    alpha: 1.0f32,
                    lda: params.stride as i32,
                    ldb: params.members as i32,
                    beta: 0.0f32,
                    ldc: rows as i32,
                };
                let a = returns.slice(first as usize..);
                // SAFETY: A holds assets columns of `stride` from `first`
                // (count <= stride - first rows of each); B holds members x
                // assets weights; C holds rows x members floats and count <=
                // rows. Every dimension is positive and fits i32 (Geometry
                // bounds members at 4,194,240 and the stride at 2^18).
                unsafe { blas.gemm(gemm, &a, &plan.weights, &mut products.buffer) }.map_err(
                    |e| BackendError::Device {
                        backend: NAME,
                        message: format!("cublasSgemm: {e:?}"),
                    },
                )?;
            }
            let mut launch = self.compute.launch_builder(&self.functions.compact_losses);
            launch
                .arg(params)
                .arg(&first)
                .arg(&rows)
                .arg(&products.buffer)
                .arg(&*pnl)
                .arg(&plan.holdings)
                .arg(&*thresholds)
                .arg(&mut *member_counts)
                .arg(&mut *regions)
                .arg(&plan.constants)
                .arg(&mut *gaps);
            let config = LaunchConfig {
                grid_dim: (count.div_ceil(TILE), member_tiles, 1),
                block_dim: (LOSS_THREADS, 1, 1),
                shared_mem_bytes: 0,
            };
            // SAFETY: compact_losses reads rows x members products (its
            // float4 runs stay inside each member's `rows`, a multiple of
            // TILE, as `first` is), and otherwise what member_losses reads
            // and writes (above).
            unsafe { launch.launch(config) }.map_err(driver_error)?;
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_products_buffer_holds_whole_tiles_within_its_bytes_and_the_chunk() {
        // 1 GiB at 10^4 members: 26,843 scenarios, 26,816 in whole tiles.
        assert_eq!(Products::rows(10_000, 1 << 18, 1 << 30), 26_816);
        // Never more than the chunk (rounded up to a tile), never under a tile.
        assert_eq!(Products::rows(10, 1000, 1 << 30), 1024);
        assert_eq!(Products::rows(4_194_240, 1 << 18, 1 << 20), TILE);
        assert_eq!(Products::rows(0, 64, 1 << 20), 64);
    }

    #[test]
    fn the_product_is_tiled_unless_the_variable_asks_for_sgemm() {
        assert_eq!(LossProduct::parse(None).unwrap(), LossProduct::Tiled);
        assert_eq!(
            LossProduct::parse(Some("tiled")).unwrap(),
            LossProduct::Tiled
        );
        assert_eq!(
            LossProduct::parse(Some("sgemm")).unwrap(),
            LossProduct::Sgemm
        );
        let err = LossProduct::parse(Some("cublas")).unwrap_err().to_string();
        assert!(
            err.contains("CLEARSTRESS_CUDA_LOSSES=cublas") && err.contains("`tiled` or `sgemm`"),
            "{err}"
        );
    }
}
