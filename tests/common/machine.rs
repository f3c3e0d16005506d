//! What the machine running the tests has, and what it is promised to have:
//! the shipped data files, the GPU devices, the tools the device tests need.
//! Standard library only, so that the crate's own unit tests include this very
//! file (`#[path]`) rather than a copy.
//!
//! A test that needs something absent says so with a visible `SKIPPED:` line
//! on the terminal, unless the machine is promised to have it, when it fails:
//!
//! - `CI=true` promises a wgpu adapter (CI installs lavapipe), libnvrtc (CI
//!   installs the `nvidia-cuda-nvrtc-cu12` wheel), a C++ compiler and a
//!   browser (CI installs Debian's `chromium`); no CUDA device.
//! - `CLEARSTRESS_REQUIRE=cuda`, `=wgpu` or `=cuda,wgpu` promises that device
//!   (cuda also promises libnvrtc): set it on a GPU machine, so that a driver
//!   that fails to load fails the parity suite instead of skipping it. Any
//!   other value is refused, so that a misspelling cannot turn the promise
//!   into a skip.
//! - `CLEARSTRESS_DATA=DIR` is where the shipped data files are (a copy of
//!   `data/`), for a test binary run away from the source tree; unset, the
//!   `data/` folder of the source tree the binary was built from.
#![allow(dead_code)]

use std::path::PathBuf;

/// Something a test may need that a machine may lack.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Need {
    /// A CUDA device with its driver.
    CudaDevice,
    /// A wgpu adapter (a GPU, or lavapipe).
    WgpuAdapter,
    /// libnvrtc, to compile the CUDA kernels.
    Nvrtc,
    /// A C++ compiler, to compile the CUDA kernels for the host.
    HostCompiler,
    /// A headless browser (chromium), to render the HTML report.
    Browser,
}

/// The devices `CLEARSTRESS_REQUIRE` may name.
const DEVICES: [&str; 2] = ["cuda", "wgpu"];

impl Need {
    fn name(self) -> &'static str {
        match self {
            Need::CudaDevice => "a CUDA device",
            Need::WgpuAdapter => "a wgpu adapter",
            Need::Nvrtc => "libnvrtc",
            Need::HostCompiler => "a C++ compiler",
            Need::Browser => "a browser (chromium)",
        }
    }
}

/// What promises this machine `need`, if anything (see the module's doc):
/// `CI=true` or `CLEARSTRESS_REQUIRE=...`.
pub fn promised(need: Need) -> Option<String> {
    let ci = std::env::var("CI").is_ok_and(|v| v == "true");
    let required = std::env::var("CLEARSTRESS_REQUIRE").unwrap_or_default();
    let devices: Vec<&str> = required
        .split(',')
        .map(str::trim)
        .filter(|d| !d.is_empty())
        .collect();
    for device in &devices {
        assert!(
            DEVICES.contains(device),
            "CLEARSTRESS_REQUIRE={required}: `{device}` is not one of {DEVICES:?}"
        );
    }
    let device = |name: &str| devices.contains(&name);
    let by_ci = ci.then(|| "CI=true".to_string());
    let by_require = || Some(format!("CLEARSTRESS_REQUIRE={required}"));
    match need {
        Need::CudaDevice | Need::Nvrtc if device("cuda") => by_require(),
        Need::WgpuAdapter if device("wgpu") => by_require(),
        Need::CudaDevice => None,
        Need::WgpuAdapter | Need::Nvrtc | Need::HostCompiler | Need::Browser => by_ci,
    }
}

/// Says that `need` is missing (`why`): fails where the machine is promised
/// it, else prints `SKIPPED: {test}: {why}` for the caller to return.
pub fn missing(need: Need, test: &str, why: &str) {
    if let Some(promise) = promised(need) {
        panic!("{test}: {why}; {promise} promises {}", need.name());
    }
    skip(&format!("{test}: {why}"));
}

/// Says on the terminal that a test skipped: written to the stderr handle
/// itself, which the test harness does not capture (it captures `eprintln!`),
/// so a skip is never a silent pass.
pub fn skip(message: &str) {
    use std::io::Write;
    let _ = writeln!(std::io::stderr(), "SKIPPED: {message}");
}

/// The data file `name` (e.g. `daily_close_usd.csv`): in `$CLEARSTRESS_DATA`
/// when set, else in the source tree's `data/`. Panics naming both places when
/// it is not there.
pub fn data_file(name: &str) -> PathBuf {
    let built = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("data");
    let (folder, from) = match std::env::var_os("CLEARSTRESS_DATA") {
        Some(dir) => (PathBuf::from(dir), "CLEARSTRESS_DATA"),
        None => (built.clone(), "the source tree"),
    };
    let path = folder.join(name);
    assert!(
        path.is_file(),
        "test data {name} not found at {} (from {from}): set CLEARSTRESS_DATA to a \
         folder holding a copy of data/ (the source tree's is {})",
        path.display(),
        built.display()
    );
    path
}

/// The shipped daily closes, `data/daily_close_usd.csv`.
pub fn daily_closes() -> PathBuf {
    data_file("daily_close_usd.csv")
}
