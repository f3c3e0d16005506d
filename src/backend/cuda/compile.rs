//! The CUDA kernels compiled by NVRTC for one device, and kept on disk between
//! runs.
//!
//! The target is chosen from what this NVRTC supports
//! (`nvrtcGetSupportedArchs`): the device's own `sm_XY` as CUBIN, the
//! machine code the driver loads as it is; else, for a device newer than this
//! NVRTC knows, the newest architecture below it as PTX (`compute_XY`), which
//! the driver compiles when it loads it. A driver cannot load PTX from an NVRTC
//! newer than itself (`CUDA_ERROR_UNSUPPORTED_PTX_VERSION`), while a CUBIN
//! from a newer NVRTC of the same major version loads: CUBIN is the default
//! for that reason as well as to spare the driver's compilation in every
//! process.
//!
//! Compiled modules are kept between runs by `cache.rs`.

use std::ffi::{c_char, c_int, CString};
use std::fmt;

use cudarc::nvrtc::{result, sys, Ptx};

use super::NAME;
use crate::backend::kernels::Kernel;
use crate::backend::BackendError;

/// Whether libnvrtc can be loaded here.
pub fn nvrtc_available() -> bool {
    // SAFETY: only attempts to dlopen the library and reports whether it could.
    unsafe { sys::is_culib_present() }
}

fn nvrtc_missing() -> BackendError {
    BackendError::Unavailable {
        backend: NAME,
        reason: "libnvrtc (libnvrtc.so.13 or .so.12) was not found: install the CUDA \
                 toolkit, or `pip install nvidia-cuda-nvrtc` (CUDA 13) or \
                 `nvidia-cuda-nvrtc-cu12` (CUDA 12), matching the driver, and add its lib \
                 folder to LD_LIBRARY_PATH"
            .into(),
    }
}

fn nvrtc_error(what: &str, e: result::NvrtcError) -> BackendError {
    BackendError::Device {
        backend: NAME,
        message: format!("NVRTC: {what}: {:?}", e.0),
    }
}

/// A CUDA version as (major, minor), e.g. (13, 0).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub struct CudaVersion {
    pub major: i32,
    pub minor: i32,
}

impl CudaVersion {
    /// From the driver's encoding, 1000 x major + 10 x minor (13000 is 13.0).
    pub fn from_driver(encoded: i32) -> Self {
        Self {
            major: encoded / 1000,
            minor: encoded % 1000 / 10,
        }
    }
}

impl fmt::Display for CudaVersion {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}.{}", self.major, self.minor)
    }
}

/// The NVRTC that was loaded: its version and the architectures it compiles
/// for (compute capability x 10, e.g. 90).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Nvrtc {
    pub version: CudaVersion,
    pub archs: Vec<i32>,
}

impl Nvrtc {
    /// Asks the library, or says that it is missing.
    pub fn load() -> Result<Self, BackendError> {
        if !nvrtc_available() {
            return Err(nvrtc_missing());
        }
        let (mut major, mut minor, mut count) = (0 as c_int, 0 as c_int, 0 as c_int);
        // SAFETY: the library is present (checked above); each call writes
        // through valid pointers to its outputs, the list `count` entries.
        let archs = unsafe {
            sys::nvrtcVersion(&mut major, &mut minor)
                .result()
                .map_err(|e| nvrtc_error("nvrtcVersion", e))?;
            sys::nvrtcGetNumSupportedArchs(&mut count)
                .result()
                .map_err(|e| nvrtc_error("nvrtcGetNumSupportedArchs", e))?;
            let mut archs = vec![0 as c_int; count.max(0) as usize];
            sys::nvrtcGetSupportedArchs(archs.as_mut_ptr())
                .result()
                .map_err(|e| nvrtc_error("nvrtcGetSupportedArchs", e))?;
            archs
        };
        Ok(Self {
            version: CudaVersion { major, minor },
            archs,
        })
    }
}

/// What NVRTC produces for a device.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Output {
    /// Machine code for exactly this architecture (`sm_XY`).
    Cubin,
    /// PTX for a virtual architecture (`compute_XY`), compiled by the driver
    /// when it loads the module.
    Ptx,
}

/// The architecture a device's kernels are compiled for, and in what form.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Target {
    /// Compute capability x 10 (90 for 9.0).
    pub arch: i32,
    pub output: Output,
}

impl Target {
    /// NVRTC's `--gpu-architecture`: `sm_90` for CUBIN, `compute_80` for PTX.
    pub fn gpu_architecture(&self) -> String {
        match self.output {
            Output::Cubin => format!("sm_{}", self.arch),
            Output::Ptx => format!("compute_{}", self.arch),
        }
    }

    /// The target for a device of compute capability `capability` with an
    /// NVRTC that supports `supported`: the device's own architecture as
    /// CUBIN, else the newest supported one below it as PTX; `None` when every
    /// supported architecture is newer than the device (NVRTC 13 dropped
    /// `sm_70`, for example).
    pub fn for_device(capability: (i32, i32), supported: &[i32]) -> Option<Self> {
        let own = capability.0 * 10 + capability.1;
        if supported.contains(&own) {
            return Some(Self {
                arch: own,
                output: Output::Cubin,
            });
        }
        supported
            .iter()
            .copied()
            .filter(|&a| a < own)
            .max()
            .map(|arch| Self {
                arch,
                output: Output::Ptx,
            })
    }
}

impl fmt::Display for Target {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.output {
            Output::Cubin => write!(f, "{} (CUBIN)", self.gpu_architecture()),
            Output::Ptx => write!(
                f,
                "{} (PTX, compiled by the driver)",
                self.gpu_architecture()
            ),
        }
    }
}

/// NVRTC's options for each kernel, by name (the names of
/// [`crate::backend::kernels::CUDA`]); the architecture is added per device.
///
/// - `scenario` and `rng_check` are compiled with `--fmad=false`: no
///   multiply-add is contracted into an FMA, so each operation rounds as the
///   host-compiled kernels' do (`host_check.rs` builds them with
///   `-ffp-contract=off`), and the device's Philox words, normals and moves
///   can equal theirs bit for bit.
/// - `revalue` keeps NVRTC's default contraction (`--fmad=true`): its loss
///   sums are long dot products (assets and option holdings per member) where
///   FMA is both faster and no less accurate, and they are held against the
///   CPU's f64 losses, not bit for bit: within 5e-7 of each member's gross
///   scale G (README, "GPU backends"; `tests/common/parity.rs`).
pub const OPTIONS: [(&str, &[&str]); 3] = [
    ("scenario", &["--std=c++17", "--fmad=false"]),
    ("rng_check", &["--std=c++17", "--fmad=false"]),
    ("revalue", &["--std=c++17", "--fmad=true"]),
];

/// The full option list for `kernel` on `target`.
pub fn options(kernel: &Kernel, target: Target) -> Result<Vec<String>, BackendError> {
    let (_, options) = OPTIONS
        .iter()
        .find(|(name, _)| *name == kernel.name)
        .ok_or_else(|| BackendError::Device {
            backend: NAME,
            message: format!(
                "no NVRTC options for kernel `{}` (src/backend/cuda/compile.rs, OPTIONS)",
                kernel.name
            ),
        })?;
    Ok(options
        .iter()
        .map(|o| o.to_string())
        .chain([format!("--gpu-architecture={}", target.gpu_architecture())])
        .collect())
}

/// A compiled module: CUBIN bytes, or PTX text (without its terminating NUL).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Module {
    pub output: Output,
    pub image: Vec<u8>,
}

impl Module {
    /// What cudarc's `load_module` takes.
    pub fn to_ptx(&self) -> Result<Ptx, String> {
        match self.output {
            Output::Cubin => Ok(Ptx::from_binary(self.image.clone())),
            Output::Ptx => {
                let text = String::from_utf8(self.image.clone())
                    .map_err(|e| format!("the PTX is not text: {e}"))?;
                if text.contains('\0') {
                    return Err("the PTX contains a NUL byte".into());
                }
                Ok(Ptx::from_src(text))
            }
        }
    }
}

/// Destroys an NVRTC program however its compilation ends.
struct Program(sys::nvrtcProgram);

impl Drop for Program {
    fn drop(&mut self) {
        // SAFETY: created by create_program and destroyed only here. A failure
        // to free it leaks the program, nothing worse.
        let _ = unsafe { result::destroy_program(self.0) };
    }
}

/// Reads one of NVRTC's outputs: `size` then `get` into a buffer of that size.
///
/// # Safety
/// `prog` must be a compiled program and `size`/`get` a matching pair of
/// NVRTC getters.
unsafe fn nvrtc_output(
    prog: sys::nvrtcProgram,
    size: unsafe fn(sys::nvrtcProgram, *mut usize) -> sys::nvrtcResult,
    get: unsafe fn(sys::nvrtcProgram, *mut c_char) -> sys::nvrtcResult,
) -> Result<Vec<u8>, result::NvrtcError> {
    let mut n = 0usize;
    size(prog, &mut n).result()?;
    let mut bytes = vec![0u8; n];
    get(prog, bytes.as_mut_ptr().cast()).result()?;
    Ok(bytes)
}

/// Compiles `kernel` for `target` with its [`OPTIONS`].
pub fn compile(kernel: &Kernel, target: Target) -> Result<Module, BackendError> {
    if !nvrtc_available() {
        return Err(nvrtc_missing());
    }
    let options = options(kernel, target)?;
    let invalid = |what: &str| BackendError::Device {
        backend: NAME,
        message: format!("kernel `{}`: {what} contains a NUL byte", kernel.name),
    };
    let source = CString::new(kernel.source()).map_err(|_| invalid("the source"))?;
    let name = CString::new(format!("{}.cu", kernel.name)).map_err(|_| invalid("the name"))?;
    let program = Program(
        result::create_program(&source, Some(&name))
            .map_err(|e| nvrtc_error(&format!("creating `{}`", kernel.name), e))?,
    );
    // SAFETY: `program` is a live program (destroyed on drop, after these
    // calls); `source` and `name` outlive it.
    unsafe {
        if let Err(e) = result::compile_program(program.0, &options) {
            let log = nvrtc_output(
                program.0,
                sys::nvrtcGetProgramLogSize,
                sys::nvrtcGetProgramLog,
            )
            .map(|l| {
                String::from_utf8_lossy(&l)
                    .trim_end_matches('\0')
                    .to_string()
            })
            .unwrap_or_default();
            return Err(BackendError::Device {
                backend: NAME,
                message: format!(
                    "NVRTC could not compile kernel `{}` for {target} ({:?}, options {}):\n{log}",
                    kernel.name,
                    e.0,
                    options.join(" ")
                ),
            });
        }
        let image = match target.output {
            Output::Cubin => nvrtc_output(program.0, sys::nvrtcGetCUBINSize, sys::nvrtcGetCUBIN),
            Output::Ptx => {
                nvrtc_output(program.0, sys::nvrtcGetPTXSize, sys::nvrtcGetPTX).map(|mut text| {
                    while text.last() == Some(&0) {
                        text.pop();
                    }
                    text
                })
            }
        }
        .map_err(|e| nvrtc_error(&format!("reading `{}` for {target}", kernel.name), e))?;
        if image.is_empty() {
            return Err(BackendError::Device {
                backend: NAME,
                message: format!(
                    "NVRTC gave an empty module for `{}` ({target})",
                    kernel.name
                ),
            });
        }
        Ok(Module {
            output: target.output,
            image,
        })
    }
}

/// Why the driver refused a freshly compiled module, with what would fix it
/// when the cause is known: an NVRTC newer than the driver.
pub fn load_failure(
    kernel: &Kernel,
    target: Target,
    nvrtc: CudaVersion,
    driver: CudaVersion,
    error: &str,
) -> String {
    let mut message = format!(
        "the driver (CUDA {driver}) could not load kernel `{}` compiled by NVRTC {nvrtc} for \
         {target}: {error}",
        kernel.name
    );
    if nvrtc > driver {
        message.push_str(&format!(
            "; NVRTC {nvrtc} is newer than the driver's CUDA {driver}, whose driver cannot \
             load {} from it: install the NVRTC that matches the driver (`pip install \
             {}=={}.{}.*`, or the CUDA {driver} toolkit) and put its lib folder first on \
             LD_LIBRARY_PATH, or update the driver to CUDA {nvrtc} or later",
            match target.output {
                Output::Ptx => "PTX (CUDA_ERROR_UNSUPPORTED_PTX_VERSION)",
                Output::Cubin => "a module",
            },
            if driver.major >= 13 {
                "nvidia-cuda-nvrtc"
            } else {
                "nvidia-cuda-nvrtc-cu12"
            },
            driver.major,
            driver.minor,
        ));
    }
    message
}

#[cfg(test)]
pub(super) mod tests {
    use super::*;
    use crate::backend::kernels::{CUDA, CUDA_RNG_CHECK};

    pub(in crate::backend::cuda) fn nvrtc_or_skip(test: &str) -> Option<Nvrtc> {
        if nvrtc_available() {
            return Some(Nvrtc::load().expect("libnvrtc answers"));
        }
        let why = "libnvrtc not found (.ci/run installs the nvidia-cuda-nvrtc wheels)";
        super::super::machine::missing(super::super::machine::Need::Nvrtc, test, why);
        None
    }

    pub(in crate::backend::cuda) const HOPPER: Target = Target {
        arch: 90,
        output: Output::Cubin,
    };

    #[test]
    fn the_device_gets_its_own_cubin_else_the_newest_ptx_below_it() {
        let nvrtc13 = [75, 80, 86, 87, 88, 89, 90, 100, 103, 110, 120, 121];
        assert_eq!(Target::for_device((9, 0), &nvrtc13), Some(HOPPER));
        assert_eq!(HOPPER.gpu_architecture(), "sm_90");
        // A device newer than NVRTC knows: PTX for the newest below, JIT.
        let ptx = Target::for_device((13, 0), &nvrtc13).unwrap();
        assert_eq!((ptx.arch, ptx.output), (121, Output::Ptx));
        assert_eq!(ptx.gpu_architecture(), "compute_121");
        // Between two supported architectures.
        assert_eq!(
            Target::for_device((8, 5), &nvrtc13),
            Some(Target {
                arch: 80,
                output: Output::Ptx
            })
        );
        // NVRTC 13 dropped Volta: nothing to compile for.
        assert_eq!(Target::for_device((7, 0), &nvrtc13), None);
    }

    #[test]
    fn scenario_and_rng_kernels_do_not_contract_fma_and_revalue_does() {
        for kernel in CUDA {
            let options = options(&kernel, HOPPER).unwrap();
            let fmad = options.iter().filter(|o| o.starts_with("--fmad=")).count();
            assert_eq!(fmad, 1, "{}: {options:?}", kernel.name);
            let contracts = options.contains(&"--fmad=true".to_string());
            assert_eq!(contracts, kernel.name == "revalue", "{options:?}");
            assert!(options.contains(&"--gpu-architecture=sm_90".to_string()));
        }
    }

    #[test]
    fn a_load_failure_from_a_newer_nvrtc_says_what_to_install() {
        let (nvrtc, driver) = (
            CudaVersion {
                major: 13,
                minor: 5,
            },
            CudaVersion::from_driver(13000),
        );
        let ptx = Target {
            arch: 90,
            output: Output::Ptx,
        };
        let message = load_failure(
            &CUDA_RNG_CHECK,
            ptx,
            nvrtc,
            driver,
            "CUDA_ERROR_UNSUPPORTED_PTX_VERSION",
        );
        for part in [
            "NVRTC 13.5",
            "CUDA 13.0",
            "rng_check",
            "compute_90",
            "nvidia-cuda-nvrtc==13.0.*",
        ] {
            assert!(message.contains(part), "{part} not in {message}");
        }
        let same = load_failure(&CUDA_RNG_CHECK, HOPPER, driver, driver, "CUDA_ERROR_X");
        assert!(!same.contains("newer"), "{same}");
    }

    /// CI has no GPU but has libnvrtc (the PyPI wheels, CUDA 12 and 13): a
    /// kernel that does not compile fails the build's tests there. Elsewhere,
    /// without libnvrtc, the test says it skipped.
    #[test]
    fn every_cuda_kernel_compiles_with_nvrtc_for_ampere_and_hopper() {
        let Some(nvrtc) = nvrtc_or_skip("NVRTC compiles every CUDA kernel") else {
            return;
        };
        eprintln!("NVRTC {}: architectures {:?}", nvrtc.version, nvrtc.archs);
        // .ci/run's second run, with only the CUDA 13 wheel on the path.
        if let Ok(major) = std::env::var("CLEARSTRESS_EXPECT_NVRTC") {
            assert_eq!(
                nvrtc.version.major.to_string(),
                major,
                "CLEARSTRESS_EXPECT_NVRTC={major}, found NVRTC {}",
                nvrtc.version
            );
        }
        for capability in [(8, 0), (9, 0)] {
            let cubin = Target::for_device(capability, &nvrtc.archs).unwrap();
            assert_eq!(cubin.output, Output::Cubin, "{capability:?}");
            let ptx = Target {
                output: Output::Ptx,
                ..cubin
            };
            for kernel in CUDA {
                let module = compile(&kernel, cubin).unwrap_or_else(|e| panic!("{cubin}: {e}"));
                assert_eq!(&module.image[..4], b"\x7fELF", "{}: {cubin}", kernel.name);
                let module = compile(&kernel, ptx).unwrap_or_else(|e| panic!("{ptx}: {e}"));
                module.to_ptx().unwrap();
                let text = String::from_utf8(module.image).unwrap();
                for entry in kernel.entry_points {
                    assert!(
                        text.contains(&format!(".entry {entry}(")),
                        "{}: no entry {entry} for {ptx}",
                        kernel.name
                    );
                }
            }
        }
    }

    #[test]
    fn a_kernel_that_does_not_compile_reports_nvrtc_s_log() {
        let Some(nvrtc) = nvrtc_or_skip("NVRTC's log") else {
            return;
        };
        let broken = Kernel {
            name: "revalue",
            parts: &["extern \"C\" __global__ void k() { undeclared_name(); }"],
            entry_points: &["k"],
        };
        let target = Target::for_device((9, 0), &nvrtc.archs).unwrap();
        let Err(BackendError::Device { message, .. }) = compile(&broken, target) else {
            panic!("compiled")
        };
        assert!(message.contains("undeclared_name"), "{message}");
        assert!(message.contains("--fmad=true"), "{message}");
    }
}
