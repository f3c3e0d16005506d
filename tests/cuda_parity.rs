//! The CUDA backend against the CPU reference, with the tolerances stated in
//! tests/common/parity.rs. Without a CUDA device (CI has none) the tests skip
//! with a message on stderr, unless CLEARSTRESS_REQUIRE=cuda promises one
//! (tests/common/machine.rs); a device whose kernels fail to compile or run
//! fails them.

mod common;

use clearstress::backend::device::layout::{ModelLayout, ScenarioParams};
use clearstress::backend::kernels::{CUDA_REVALUE, CUDA_SCENARIO};
use clearstress::backend::CudaBackend;

fn cuda() -> Option<CudaBackend> {
    common::device_backend(common::Need::CudaDevice, "cuda parity", CudaBackend::new(0))
}

parity_tests!(cuda());

/// NVRTC compiles the scenario and RNG kernels without FMA contraction
/// (`--fmad=false`) and the host check with `-ffp-contract=off`, so each
/// operation rounds alike: the device's moves are the host-compiled
/// kernel's, bit for bit, for every model. (The revalue kernel keeps FMA:
/// its losses are held to 5e-7 G, tests/common/parity.rs.)
#[test]
fn device_moves_are_bit_identical_to_the_host_compiled_kernels() {
    let Some(device) = cuda() else { return };
    let Some(host) = common::host_kernels::compiled(&[CUDA_SCENARIO.parts, CUDA_REVALUE.parts])
    else {
        return;
    };
    common::parity::device_moves_are_bit_identical_to(&device, |model, range| {
        let layout = ModelLayout::new(model);
        let count = (range.end - range.start) as usize;
        let params = ScenarioParams {
            stride: count as u32,
            ..layout.params.drawing(range.start, count as u32)
        };
        host.draw_scenarios(
            params,
            &layout.model,
            &layout.indices,
            model.assets(),
            count,
        )
    });
}

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
