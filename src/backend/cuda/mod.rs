//! The CUDA backend's foundations: the CUDA C kernels of `kernels/` compiled at
//! run time with NVRTC through cudarc. cudarc loads libnvrtc and libcuda
//! dynamically, so the crate builds and runs where neither is installed; every
//! entry point here checks for the library first and answers
//! [`BackendError::Unavailable`] instead of letting the loader panic.

use cudarc::nvrtc::{self, CompileOptions, Ptx};

use super::kernels::Kernel;
use super::BackendError;

const NAME: &str = "cuda";

/// Whether libnvrtc can be loaded here.
pub fn nvrtc_available() -> bool {
    // SAFETY: only attempts to dlopen the library and reports whether it could.
    unsafe { cudarc::nvrtc::sys::is_culib_present() }
}

/// Whether the CUDA driver library can be loaded here (a GPU may still be absent).
pub fn driver_available() -> bool {
    // SAFETY: only attempts to dlopen the library and reports whether it could.
    unsafe { cudarc::driver::sys::is_culib_present() }
}

/// Compiles `kernel` to PTX for `arch` (e.g. "sm_90" for Hopper).
pub fn compile(kernel: &Kernel, arch: &'static str) -> Result<Ptx, BackendError> {
    if !nvrtc_available() {
        return Err(BackendError::Unavailable {
            backend: NAME,
            reason: "libnvrtc was not found: install the CUDA toolkit, or \
                     `pip install nvidia-cuda-nvrtc-cu12` and add its lib folder to \
                     LD_LIBRARY_PATH"
                .into(),
        });
    }
    nvrtc::compile_ptx_with_opts(
        kernel.source(),
        CompileOptions {
            arch: Some(arch),
            name: Some(format!("{}.cu", kernel.name)),
            options: vec!["--std=c++17".into()],
            ..Default::default()
        },
    )
    .map_err(|e| BackendError::Device {
        backend: NAME,
        message: format!("NVRTC could not compile kernel `{}`: {e:?}", kernel.name),
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::backend::kernels::CUDA;

    /// CI has no GPU but has libnvrtc (the PyPI wheel): a kernel that does not
    /// compile fails the build's tests there. Elsewhere, without libnvrtc, the
    /// test says it skipped.
    #[test]
    fn every_cuda_kernel_compiles_with_nvrtc_for_ampere_and_hopper() {
        if !nvrtc_available() {
            assert!(
                std::env::var("CI").map_or(true, |v| v != "true"),
                "CI=true requires libnvrtc (.ci/run installs nvidia-cuda-nvrtc-cu12)"
            );
            eprintln!("SKIPPED: libnvrtc not found, CUDA kernels not compiled");
            return;
        }
        for arch in ["sm_80", "sm_90"] {
            for kernel in CUDA {
                let ptx = compile(&kernel, arch).unwrap_or_else(|e| panic!("{arch}: {e}"));
                let text = ptx.to_src();
                for entry in kernel.entry_points {
                    assert!(
                        text.contains(&format!(".entry {entry}(")),
                        "{}: no entry {entry} for {arch}",
                        kernel.name
                    );
                }
            }
        }
    }
}
