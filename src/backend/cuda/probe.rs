//! What the machine offers CUDA: the driver and its version, NVRTC and the
//! target it compiles for, each device; and the driver's errors put into
//! words.

use cudarc::driver::{CudaContext, DriverError};

use super::compile::{CudaVersion, Nvrtc, Target};
use super::NAME;
use crate::backend::BackendError;

/// Whether the CUDA driver library can be loaded here (a GPU may still be absent).
pub fn driver_available() -> bool {
    // SAFETY: only attempts to dlopen the library and reports whether it could.
    unsafe { cudarc::driver::sys::is_culib_present() }
}

/// The driver's name and description of `e`, e.g. `CUDA_ERROR_OUT_OF_MEMORY
/// (out of memory)`.
pub(super) fn describe_driver_error(e: DriverError) -> String {
    let text =
        |r: Result<&std::ffi::CStr, DriverError>| r.ok().map(|s| s.to_string_lossy().into_owned());
    match (text(e.error_name()), text(e.error_string())) {
        (Some(name), Some(string)) => format!("{name} ({string})"),
        (Some(name), None) => name,
        _ => format!("{:?}", e.0),
    }
}

pub(super) fn driver_error(e: DriverError) -> BackendError {
    BackendError::Device {
        backend: NAME,
        message: describe_driver_error(e),
    }
}

/// A driver error with what was being done.
pub(super) fn driver_error_in(what: &str) -> impl Fn(DriverError) -> BackendError + '_ {
    move |e| BackendError::Device {
        backend: NAME,
        message: format!("{what}: {}", describe_driver_error(e)),
    }
}

/// The CUDA version the driver supports (`cuDriverGetVersion`).
pub(super) fn driver_version() -> Result<CudaVersion, BackendError> {
    if !driver_available() {
        return Err(unavailable("no NVIDIA driver (libcuda) found"));
    }
    let mut encoded = 0;
    // SAFETY: libcuda is present (checked above); the call only writes the
    // version through a valid pointer and needs no initialisation.
    unsafe { cudarc::driver::sys::cuDriverGetVersion(&mut encoded) }
        .result()
        .map_err(driver_error_in("cuDriverGetVersion"))?;
    Ok(CudaVersion::from_driver(encoded))
}

/// The target NVRTC compiles for on a device of `capability`, or why none.
pub(super) fn target(nvrtc: &Nvrtc, capability: (i32, i32)) -> Result<Target, BackendError> {
    Target::for_device(capability, &nvrtc.archs).ok_or_else(|| BackendError::Device {
        backend: NAME,
        message: format!(
            "NVRTC {} cannot compile for compute capability {}.{}: it supports {:?} \
             (compute capability x 10); install an older NVRTC",
            nvrtc.version, capability.0, capability.1, nvrtc.archs
        ),
    })
}

pub(super) fn unavailable(reason: impl Into<String>) -> BackendError {
    BackendError::Unavailable {
        backend: NAME,
        reason: reason.into(),
    }
}

/// What `clearstress devices` says of CUDA: the driver's and NVRTC's
/// versions, then each device with the target its kernels are compiled for.
pub fn describe_devices() -> Vec<String> {
    let driver = match driver_version() {
        Ok(v) => v,
        Err(_) => return vec!["cuda: no NVIDIA driver (libcuda) found".into()],
    };
    let nvrtc = Nvrtc::load();
    let mut lines = vec![match &nvrtc {
        Ok(n) => format!("cuda: driver CUDA {driver}, NVRTC {}", n.version),
        Err(e) => format!("cuda: driver CUDA {driver}; cannot compile kernels: {e}"),
    }];
    let count = match CudaContext::device_count() {
        Ok(n) => n.max(0) as usize,
        Err(e) => {
            lines.push(format!(
                "cuda: the driver reports no device ({})",
                describe_driver_error(e)
            ));
            return lines;
        }
    };
    if count == 0 {
        lines.push("cuda: no device".into());
    }
    lines.extend((0..count).map(|i| match CudaContext::new(i) {
        Ok(ctx) => {
            let capability = ctx.compute_capability().unwrap_or((0, 0));
            let compiled = match nvrtc.as_ref().map(|n| target(n, capability)) {
                Ok(Ok(target)) => format!("kernels for {target}"),
                Ok(Err(e)) => e.to_string(),
                Err(_) => "libnvrtc missing: cannot compile kernels".into(),
            };
            format!(
                "cuda device {i}: {}, compute capability {}.{}, {} MiB, {compiled}",
                ctx.name().unwrap_or_default(),
                capability.0,
                capability.1,
                ctx.total_mem().unwrap_or(0) >> 20,
            )
        }
        Err(e) => format!(
            "cuda device {i}: cannot open ({})",
            describe_driver_error(e)
        ),
    }));
    lines
}
