//! The CUDA kernels' own code compiled for the host by the system's C++
//! compiler (`$CXX`, else `c++`), for tests that hold their arithmetic
//! against the CPU reference on any machine and a device's results against
//! them bit for bit. A small shim stands in for CUDA's built-in types and
//! intrinsics. A grid-stride kernel's launch is one host thread walking the
//! loop over every index; a kernel whose threads cooperate through shared
//! memory runs each block as `blockDim.x` host threads meeting at a barrier
//! for each `__syncthreads()`, blocks one after another (`launch_blocks`).
//! Compiled without FMA contraction (`-ffp-contract=off`), as NVRTC compiles
//! the scenario and RNG kernels (`--fmad=false`).
//!
//! Standard library, libloading and tempfile only, and no crate paths: the
//! crate's unit tests (src/backend/cuda/host_check.rs) and the integration
//! tests (tests/cuda_parity.rs) include this very file (`#[path]`), next to
//! machine.rs.
#![allow(dead_code)]

use std::path::Path;
use std::process::Command;

/// CUDA's built-ins on the host: thread and block indices per host thread
/// (one host thread plays one CUDA thread), atomics that are atomic, and
/// `__syncthreads()` as the block's barrier when a launch set one.
const SHIM: &str = r#"
#include <cmath>
#include <cstring>
#include <functional>
#include <mutex>
#include <pthread.h>
#include <thread>
#include <vector>
#define __device__
#define __global__
#define __forceinline__ inline
#define __noinline__ __attribute__((noinline))
#define __launch_bounds__(...)
#define __shared__ static
struct uint2 { unsigned int x, y; };
struct uint4 { unsigned int x, y, z, w; };
struct float2 { float x, y; };
struct float4 { float x, y, z, w; };
struct dim3 { unsigned int x, y, z; };
static thread_local dim3 blockIdx = {0, 0, 0}, threadIdx = {0, 0, 0};
static thread_local dim3 blockDim = {1, 1, 1}, gridDim = {1, 1, 1};
static thread_local pthread_barrier_t* block_barrier = nullptr;
inline uint2 make_uint2(unsigned int x, unsigned int y) { return {x, y}; }
inline uint4 make_uint4(unsigned int x, unsigned int y, unsigned int z, unsigned int w) {
    return {x, y, z, w};
}
inline float2 make_float2(float x, float y) { return {x, y}; }
inline float4 make_float4(float x, float y, float z, float w) { return {x, y, z, w}; }
inline unsigned int __umulhi(unsigned int a, unsigned int b) {
    return (unsigned int)(((unsigned long long)a * b) >> 32);
}
inline unsigned int __float_as_uint(float f) { unsigned int u; std::memcpy(&u, &f, 4); return u; }
inline float __uint_as_float(unsigned int u) { float f; std::memcpy(&f, &u, 4); return f; }
inline float __uint2float_rn(unsigned int x) { return (float)x; }
inline int __popc(unsigned int x) { return __builtin_popcount(x); }
inline float __fmaf_rn(float a, float b, float c) { return std::fmaf(a, b, c); }
inline long long __double_as_longlong(double d) { long long l; std::memcpy(&l, &d, 8); return l; }
inline double __dadd_rn(double a, double b) { return a + b; }
inline double __dmul_rn(double a, double b) { return a * b; }
using std::fabs;
using std::isinf;
inline unsigned int atomicAdd(unsigned int* a, unsigned int v) {
    return __atomic_fetch_add(a, v, __ATOMIC_SEQ_CST);
}
inline unsigned long long atomicAdd(unsigned long long* a, unsigned long long v) {
    return __atomic_fetch_add(a, v, __ATOMIC_SEQ_CST);
}
inline unsigned int atomicMax(unsigned int* a, unsigned int v) {
    unsigned int o = __atomic_load_n(a, __ATOMIC_SEQ_CST);
    while (v > o && !__atomic_compare_exchange_n(a, &o, v, false, __ATOMIC_SEQ_CST, __ATOMIC_SEQ_CST)) {}
    return o;
}
inline void __syncthreads() { if (block_barrier) pthread_barrier_wait(block_barrier); }
inline unsigned int min(unsigned int a, unsigned int b) { return a < b ? a : b; }
inline unsigned int max(unsigned int a, unsigned int b) { return a > b ? a : b; }
"#;

/// Entry points for the tests, on top of the kernels' own `extern "C"` ones.
const EXPORTS: &str = r#"
extern "C" void host_philox(const unsigned int* c, const unsigned int* k, unsigned int* out) {
    uint4 r = philox4x32_10(make_uint4(c[0], c[1], c[2], c[3]), make_uint2(k[0], k[1]));
    out[0] = r.x; out[1] = r.y; out[2] = r.z; out[3] = r.w;
}
extern "C" void host_block_normals(const unsigned int* w, float* out) {
    float4 z = block_normals(make_uint4(w[0], w[1], w[2], w[3]));
    out[0] = z.x; out[1] = z.y; out[2] = z.z; out[3] = z.w;
}
extern "C" float host_norm_cdf(float x) { return norm_cdf(x); }
// A launch on grid (gx, gy) with block (threads, 1, 1) of a kernel whose
// threads meet at __syncthreads(): each block's threads are host threads at
// one barrier; blocks run in turn, so the function-static `__shared__` arrays
// serve one block at a time, and one launch runs at a time.
static void launch_blocks(unsigned int gx, unsigned int gy, unsigned int threads,
                          const std::function<void()>& kernel) {
    static std::mutex one_launch;
    std::lock_guard<std::mutex> guard(one_launch);
    pthread_barrier_t barrier;
    pthread_barrier_init(&barrier, nullptr, threads);
    for (unsigned int by = 0; by < gy; by++) {
        for (unsigned int bx = 0; bx < gx; bx++) {
            std::vector<std::thread> block;
            for (unsigned int t = 0; t < threads; t++) {
                block.emplace_back([=, &barrier, &kernel] {
                    blockIdx = {bx, by, 0};
                    threadIdx = {t, 0, 0};
                    blockDim = {threads, 1, 1};
                    gridDim = {gx, gy, 1};
                    block_barrier = &barrier;
                    kernel();
                });
            }
            for (auto& thread : block) {
                thread.join();
            }
        }
    }
    pthread_barrier_destroy(&barrier);
}
extern "C" void host_member_losses(unsigned int gx, unsigned int gy, unsigned int threads,
                                   RevalueParams p, const float* returns, const float* pnl,
                                   const float* weights, const unsigned int* holdings,
                                   const float* thresholds, unsigned int* member_counts,
                                   uint2* regions, const double* constants,
                                   unsigned long long* gaps) {
    launch_blocks(gx, gy, threads, [=] {
        member_losses(p, returns, pnl, weights, holdings, thresholds, member_counts, regions,
                      constants, gaps);
    });
}
extern "C" void host_compact_losses(unsigned int gx, unsigned int gy, unsigned int threads,
                                    RevalueParams p, unsigned int first, unsigned int rows,
                                    const float* products, const float* pnl,
                                    const unsigned int* holdings, const float* thresholds,
                                    unsigned int* member_counts, uint2* regions,
                                    const double* constants, unsigned long long* gaps) {
    launch_blocks(gx, gy, threads, [=] {
        compact_losses(p, first, rows, products, pnl, holdings, thresholds, member_counts,
                       regions, constants, gaps);
    });
}
"#;

/// The kernels compiled into a shared library.
pub struct HostKernels {
    library: libloading::Library,
    _dir: tempfile::TempDir,
}

/// The parts of `kernels` as one translation unit, each part once (kernels
/// share headers such as philox.cuh), between the shim and the test entry
/// points.
fn compile_for_host(kernels: &[&[&str]]) -> Result<HostKernels, String> {
    let dir = tempfile::tempdir().map_err(|e| e.to_string())?;
    let mut parts: Vec<&str> = Vec::new();
    for &part in kernels.iter().flat_map(|k| k.iter()) {
        if !parts.contains(&part) {
            parts.push(part);
        }
    }
    let source = [SHIM]
        .into_iter()
        .chain(parts)
        .chain([EXPORTS])
        .collect::<String>();
    let cpp = dir.path().join("kernels.cpp");
    let library = dir.path().join("libkernels.so");
    std::fs::write(&cpp, source).map_err(|e| e.to_string())?;
    // No contraction of a*b+c into FMA, as NVRTC compiles the scenario and RNG
    // kernels (`--fmad=false`, compile.rs OPTIONS): each operation rounds the
    // same way on both, so the device's moves can equal these bit for bit.
    let output = Command::new(std::env::var("CXX").unwrap_or_else(|_| "c++".into()))
        .args([
            "-std=c++17",
            "-O2",
            "-ffp-contract=off",
            "-shared",
            "-fPIC",
            "-Wno-unknown-pragmas",
            "-pthread",
            "-o",
        ])
        .arg(&library)
        .arg(&cpp)
        .output()
        .map_err(|e| format!("no C++ compiler: {e}"))?;
    if !output.status.success() {
        panic!(
            "the CUDA kernels do not compile for the host:\n{}",
            String::from_utf8_lossy(&output.stderr)
        );
    }
    load(&library).map(|library| HostKernels { library, _dir: dir })
}

fn load(path: &Path) -> Result<libloading::Library, String> {
    // SAFETY: the library was just built from the kernels and the shim above;
    // loading it runs no initialisers beyond the C++ runtime's.
    unsafe { libloading::Library::new(path) }.map_err(|e| e.to_string())
}

/// The parts of `kernels` (each kernel's list of sources) compiled once per
/// test binary (the same kernels every call), or `None` after saying why (a
/// failure where a C++ compiler is promised: machine.rs).
pub fn compiled(kernels: &[&[&str]]) -> Option<&'static HostKernels> {
    static KERNELS: std::sync::OnceLock<Result<HostKernels, String>> = std::sync::OnceLock::new();
    match KERNELS.get_or_init(|| compile_for_host(kernels)) {
        Ok(k) => Some(k),
        Err(e) => {
            super::machine::missing(super::machine::Need::HostCompiler, "CUDA host check", e);
            None
        }
    }
}

impl HostKernels {
    pub fn get<T: Copy>(&self, name: &[u8]) -> T {
        // SAFETY: each name is looked up with the signature its definition above
        // (or in kernels/*.cu) has.
        unsafe { *self.library.get::<T>(name).expect("symbol present") }
    }

    /// `draw_scenarios` (kernels/scenario.cu) for `count` scenarios of
    /// `assets` assets, run as one host thread over its grid-stride loop:
    /// the returns and vol factors, asset-major. `params` is the kernel's
    /// `ScenarioParams` for those scenarios with stride `count`; `model` and
    /// `indices` its `ModelLayout`'s.
    pub fn draw_scenarios<P: Copy>(
        &self,
        params: P,
        model: &[f32],
        indices: &[u32],
        assets: usize,
        count: usize,
    ) -> (Vec<f32>, Vec<f32>) {
        type Draw<P> =
            unsafe extern "C" fn(P, *const f32, *const u32, *mut f32, *mut f32, *mut f32);
        let draw: Draw<P> = self.get(b"draw_scenarios");
        let mut moves = (vec![0f32; assets * count], vec![0f32; assets * count]);
        let mut scratch = vec![0f32; assets * count];
        // SAFETY: draw_scenarios(ScenarioParams, model, indices, returns,
        // vol_factors, scratch) touches assets x stride entries of each
        // output, and the stride is `count`.
        unsafe {
            draw(
                params,
                model.as_ptr(),
                indices.as_ptr(),
                moves.0.as_mut_ptr(),
                moves.1.as_mut_ptr(),
                scratch.as_mut_ptr(),
            )
        };
        moves
    }
}
