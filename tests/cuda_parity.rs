//! The CUDA backend against the CPU reference, with the tolerances stated in
//! tests/common/parity.rs. Without a CUDA device (CI has none) the tests skip
//! with a message on stderr; a device whose kernels fail to compile or run fails
//! them.

mod common;

use clearstress::backend::{Backend, BackendError, CudaBackend};

fn cuda() -> Option<CudaBackend> {
    match CudaBackend::new(0) {
        Ok(backend) => {
            eprintln!("cuda parity on {}", backend.describe());
            Some(backend)
        }
        Err(e @ BackendError::Unavailable { .. }) => {
            common::skip(&format!("cuda parity test: {e}"));
            None
        }
        Err(e) => panic!("{e}"),
    }
}

parity_tests!(cuda());
