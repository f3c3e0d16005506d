//! The wgpu backend against the CPU reference, with the tolerances stated in
//! tests/common/parity.rs. Without an adapter the tests skip with a message on
//! stderr; with CI=true (where .ci/run installs lavapipe) or
//! CLEARSTRESS_REQUIRE=wgpu a missing adapter fails them (tests/common/machine.rs).

mod common;

use clearstress::backend::WgpuBackend;

fn wgpu() -> Option<WgpuBackend> {
    common::device_backend(common::Need::WgpuAdapter, "wgpu parity", WgpuBackend::new())
}

parity_tests!(wgpu());

#[test]
fn wgsl_reads_every_loss_above_the_floors_back() {
    if let Some(device) = wgpu() {
        // WGSL has no f64: the gaps between windows are summed on the host.
        let summed = common::parity::sums_in_the_gaps_change_no_bit(device);
        assert_eq!(summed, 0);
    }
}
