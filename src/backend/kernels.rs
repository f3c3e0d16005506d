//! Every device kernel, registered in one place. The sources live in
//! `kernels/` as real WGSL and CUDA C files. A kernel is the concatenation of
//! the files it needs, in order (WGSL has no `#include`; for CUDA the same
//! keeps NVRTC free of include paths). Each file mirrors the CPU code named in
//! its header, and the WGSL and CUDA versions of a stage mirror each other.

/// A shader module or CUDA translation unit: its parts and the entry points the
/// backend calls.
#[derive(Debug, Clone, Copy)]
pub struct Kernel {
    pub name: &'static str,
    pub parts: &'static [&'static str],
    pub entry_points: &'static [&'static str],
}

impl Kernel {
    pub fn source(&self) -> String {
        self.parts.concat()
    }
}

const PHILOX: &str = include_str!("../../kernels/philox.wgsl");
const NORMAL: &str = include_str!("../../kernels/normal.wgsl");
const SCENARIO: &str = include_str!("../../kernels/scenario.wgsl");
const BLACK76: &str = include_str!("../../kernels/black76.wgsl");
const REVALUE: &str = include_str!("../../kernels/revalue.wgsl");
const TAIL: &str = include_str!("../../kernels/tail.wgsl");
const RNG_CHECK: &str = include_str!("../../kernels/rng_check.wgsl");

/// Monte Carlo scenarios: `ScenarioModel::draw`.
pub const WGSL_SCENARIO: Kernel = Kernel {
    name: "scenario",
    parts: &[PHILOX, NORMAL, SCENARIO],
    entry_points: &["draw_scenarios"],
};

/// Option-series P&Ls, member losses and their tail candidates by member.
pub const WGSL_REVALUE: Kernel = Kernel {
    name: "revalue",
    parts: &[PHILOX, NORMAL, BLACK76, REVALUE, TAIL],
    entry_points: &[
        "option_pnl",
        "member_losses",
        "scan_counts",
        "gather_candidates",
    ],
};

/// Raw Philox words and normals, for holding the device RNG against the CPU's.
pub const WGSL_RNG_CHECK: Kernel = Kernel {
    name: "rng_check",
    parts: &[PHILOX, NORMAL, RNG_CHECK],
    entry_points: &["scenario_words"],
};

pub const WGSL: [Kernel; 3] = [WGSL_SCENARIO, WGSL_REVALUE, WGSL_RNG_CHECK];

const PHILOX_CUH: &str = include_str!("../../kernels/philox.cuh");
const NORMAL_CUH: &str = include_str!("../../kernels/normal.cuh");
const BLACK76_CUH: &str = include_str!("../../kernels/black76.cuh");
const EXACT_SUM_CUH: &str = include_str!("../../kernels/exact_sum.cuh");
const SCENARIO_CU: &str = include_str!("../../kernels/scenario.cu");
const REVALUE_CU: &str = include_str!("../../kernels/revalue.cu");
const TAIL_CU: &str = include_str!("../../kernels/tail.cu");
const RNG_CHECK_CU: &str = include_str!("../../kernels/rng_check.cu");

/// Monte Carlo scenarios: `ScenarioModel::draw`.
pub const CUDA_SCENARIO: Kernel = Kernel {
    name: "scenario",
    parts: &[PHILOX_CUH, NORMAL_CUH, SCENARIO_CU],
    entry_points: &["draw_scenarios"],
};

/// Option-series P&Ls, member losses and their tail candidates by member.
pub const CUDA_REVALUE: Kernel = Kernel {
    name: "revalue",
    parts: &[
        PHILOX_CUH,
        NORMAL_CUH,
        BLACK76_CUH,
        EXACT_SUM_CUH,
        REVALUE_CU,
        TAIL_CU,
    ],
    entry_points: &[
        "option_pnl",
        "member_losses",
        "compact_losses",
        "scan_counts",
        "gather_candidates",
    ],
};

/// Raw Philox words and normals, for holding the device RNG against the CPU's.
pub const CUDA_RNG_CHECK: Kernel = Kernel {
    name: "rng_check",
    parts: &[PHILOX_CUH, NORMAL_CUH, RNG_CHECK_CU],
    entry_points: &["scenario_words"],
};

pub const CUDA: [Kernel; 3] = [CUDA_SCENARIO, CUDA_REVALUE, CUDA_RNG_CHECK];

#[cfg(test)]
mod tests {
    use super::*;

    /// Runs without any adapter: a WGSL error fails the build's tests
    /// wherever they run, not only where a device is present.
    #[test]
    fn every_wgsl_kernel_parses_validates_and_exports_its_entry_points() {
        for kernel in WGSL {
            let source = kernel.source();
            let module = naga::front::wgsl::parse_str(&source)
                .unwrap_or_else(|e| panic!("{}: {}", kernel.name, e.emit_to_string(&source)));
            naga::valid::Validator::new(
                naga::valid::ValidationFlags::all(),
                naga::valid::Capabilities::empty(),
            )
            .validate(&module)
            .unwrap_or_else(|e| panic!("{}: {}", kernel.name, e.emit_to_string(&source)));
            for entry in kernel.entry_points {
                assert!(
                    module.entry_points.iter().any(|e| e.name == *entry),
                    "{} lacks {entry}",
                    kernel.name
                );
            }
        }
    }
}
