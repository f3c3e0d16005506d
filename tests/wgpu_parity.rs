//! The wgpu backend against the CPU reference, with the tolerances stated in
//! tests/common/parity.rs. Without an adapter the tests skip with a message on
//! stderr; with CI=true (where .ci/run installs lavapipe) a missing adapter
//! fails them.

mod common;

use clearstress::backend::{Backend, BackendError, WgpuBackend};

fn wgpu() -> Option<WgpuBackend> {
    match WgpuBackend::new() {
        Ok(backend) => {
            eprintln!("wgpu parity on {}", backend.describe());
            Some(backend)
        }
        Err(e @ BackendError::Unavailable { .. }) => {
            if std::env::var("CI").is_ok_and(|v| v == "true") {
                panic!("CI=true requires a wgpu adapter (install mesa-vulkan-drivers): {e}")
            }
            common::skip(&format!("wgpu parity test: {e}"));
            None
        }
        // An adapter that cannot compile or run the kernels is a failure.
        Err(e) => panic!("{e}"),
    }
}

parity_tests!(wgpu());
