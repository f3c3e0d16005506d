//! The CUDA kernels compiled to PTX by NVRTC for a device's architecture, and
//! kept on disk between runs, keyed by the SHA-256 of the source and target.

use std::path::PathBuf;

use cudarc::nvrtc::{self, CompileOptions, Ptx};

use super::NAME;
use crate::backend::kernels::Kernel;
use crate::backend::BackendError;
use crate::input::sha256_hex;

/// Whether libnvrtc can be loaded here.
pub fn nvrtc_available() -> bool {
    // SAFETY: only attempts to dlopen the library and reports whether it could.
    unsafe { cudarc::nvrtc::sys::is_culib_present() }
}

/// The folder compiled kernels are kept in between runs: `$CLEARSTRESS_CACHE`,
/// else `$XDG_CACHE_HOME/clearstress`, else `~/.cache/clearstress`; `None` when
/// none can be named (every run then compiles).
fn cache_dir() -> Option<PathBuf> {
    if let Some(dir) = std::env::var_os("CLEARSTRESS_CACHE") {
        return Some(PathBuf::from(dir));
    }
    let base = std::env::var_os("XDG_CACHE_HOME")
        .map(PathBuf::from)
        .or_else(|| std::env::var_os("HOME").map(|h| PathBuf::from(h).join(".cache")))?;
    Some(base.join("clearstress"))
}

/// `kernel` compiled for `arch`, from the cache when this source was compiled
/// for this architecture before (the file name carries the SHA-256 of both),
/// else by NVRTC, then kept. A cache that cannot be read or written only
/// costs a compilation.
pub fn cached_ptx(kernel: &Kernel, arch: &'static str) -> Result<Ptx, BackendError> {
    cached_ptx_in(cache_dir().as_deref(), kernel, arch)
}

fn cached_ptx_in(
    cache: Option<&std::path::Path>,
    kernel: &Kernel,
    arch: &'static str,
) -> Result<Ptx, BackendError> {
    let source = kernel.source();
    // The first 96 bits of the digest name the file: collisions are out of reach.
    let hex = &sha256_hex(format!("{arch}\n{source}").as_bytes())[..24];
    let path = cache.map(|d| {
        d.join("ptx")
            .join(format!("{}-{arch}-{hex}.ptx", kernel.name))
    });
    if let Some(text) = path.as_ref().and_then(|p| std::fs::read_to_string(p).ok()) {
        return Ok(Ptx::from_src(text));
    }
    let ptx = compile(kernel, arch)?;
    if let Some(path) = &path {
        // A cache that cannot be written only costs the next run a compilation.
        let _ = path
            .parent()
            .map(std::fs::create_dir_all)
            .transpose()
            .and_then(|_| {
                let partial = path.with_extension(format!("{}.partial", std::process::id()));
                std::fs::write(&partial, ptx.to_src())?;
                std::fs::rename(&partial, path)
            });
    }
    Ok(ptx)
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

/// The NVRTC target for compute capability (major, minor): the exact SASS
/// for the architectures this was built against, PTX (JIT-compiled by the
/// driver) for anything newer.
pub(super) fn arch_of(capability: (i32, i32)) -> &'static str {
    match capability {
        (7, 0) => "sm_70",
        (7, 5) => "sm_75",
        (8, 0) => "sm_80",
        (8, 6) => "sm_86",
        (8, 9) => "sm_89",
        (9, 0) => "sm_90",
        _ => "compute_80",
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::backend::kernels::{CUDA, CUDA_RNG_CHECK};

    fn skip_without_nvrtc(test: &str) -> bool {
        if nvrtc_available() {
            return false;
        }
        let why = "libnvrtc not found (.ci/run installs nvidia-cuda-nvrtc-cu12)";
        super::super::machine::missing(super::super::machine::Need::Nvrtc, test, why);
        true
    }

    #[test]
    fn compiled_kernels_are_cached_per_source_and_architecture() {
        if skip_without_nvrtc("the PTX cache") {
            return;
        }
        let dir = tempfile::tempdir().unwrap();
        let cached = |arch| cached_ptx_in(Some(dir.path()), &CUDA_RNG_CHECK, arch);
        let first = cached("sm_90").unwrap().to_src();
        let files: Vec<_> = std::fs::read_dir(dir.path().join("ptx")).unwrap().collect();
        assert_eq!(files.len(), 1);
        // A second load reads the file: change it and the change shows.
        let path = files[0].as_ref().unwrap().path();
        std::fs::write(&path, format!("{first}// cached\n")).unwrap();
        let second = cached("sm_90").unwrap().to_src();
        assert!(second.ends_with("// cached\n"));
        // Another architecture is another entry.
        cached("sm_80").unwrap();
        assert_eq!(
            std::fs::read_dir(dir.path().join("ptx")).unwrap().count(),
            2
        );
        std::env::remove_var("CLEARSTRESS_CACHE");
    }

    /// CI has no GPU but has libnvrtc (the PyPI wheel): a kernel that does not
    /// compile fails the build's tests there. Elsewhere, without libnvrtc, the
    /// test says it skipped.
    #[test]
    fn every_cuda_kernel_compiles_with_nvrtc_for_ampere_and_hopper() {
        if skip_without_nvrtc("NVRTC compiles every CUDA kernel") {
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
