//! The CUDA backend against the CPU reference, with the tolerances stated in
//! tests/common/parity.rs. Without a CUDA device (CI has none) the tests skip
//! with a message on stderr, unless CLEARSTRESS_REQUIRE=cuda promises one
//! (tests/common/machine.rs); a device whose kernels fail to compile or run
//! fails them.

mod common;

use clearstress::backend::CudaBackend;

fn cuda() -> Option<CudaBackend> {
    common::device_backend(common::Need::CudaDevice, "cuda parity", CudaBackend::new(0))
}

parity_tests!(cuda());

#[test]
fn the_device_sums_the_gaps_between_windows_and_changes_no_bit() {
    if let Some(device) = cuda() {
        let summed = common::parity::sums_in_the_gaps_change_no_bit(device);
        assert!(summed > 0, "CUDA summed no loss in the gaps");
    }
}

/// The same suite with the losses' asset part formed by cuBLAS's SGEMM and
/// compacted (src/backend/cuda/product.rs): the same tolerances against the
/// CPU, and against the tiled kernel.
mod sgemm {
    use super::common;
    use clearstress::backend::{CudaBackend, LossProduct};

    fn sgemm() -> Option<CudaBackend> {
        common::device_backend(
            common::Need::CudaDevice,
            "cuda parity (sgemm)",
            CudaBackend::with_losses(0, LossProduct::Sgemm),
        )
    }

    crate::parity_tests!(sgemm());

    #[test]
    fn the_device_sums_the_gaps_between_windows_and_changes_no_bit() {
        if let Some(device) = sgemm() {
            let summed = common::parity::sums_in_the_gaps_change_no_bit(device);
            assert!(summed > 0, "CUDA summed no loss in the gaps");
        }
    }

    #[test]
    fn margins_agree_with_the_tiled_kernels_within_the_stated_tolerance() {
        let tiled = common::device_backend(
            common::Need::CudaDevice,
            "cuda parity (tiled)",
            CudaBackend::with_losses(0, LossProduct::Tiled),
        );
        if let (Some(tiled), Some(sgemm)) = (tiled, sgemm()) {
            let (_, members) = common::parity::two_loss_products_agree(&tiled, &sgemm);
            assert!(members > 0);
        }
    }
}
