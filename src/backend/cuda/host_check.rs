//! The CUDA kernels' own code, compiled for the host by the system's C++
//! compiler (tests/common/host_kernels.rs) and held against the CPU
//! reference, so that their arithmetic is tested on every machine, GPU or
//! not; `member_losses` and `compact_losses` in member_losses.rs.
//! `scan_counts` is compiled but not called here: the parity suite covers it
//! on a device, where it also holds the device's moves to these kernels' bit
//! for bit (tests/cuda_parity.rs).
//!
//! Without a C++ compiler the tests print SKIPPED (and fail under CI=true:
//! tests/common/machine.rs).

use super::host_kernels::HostKernels;
use super::machine;
use crate::backend::device::layout::{BookLayout, Group, ModelLayout, ScenarioParams, Series};
use crate::backend::kernels::{CUDA_REVALUE, CUDA_SCENARIO};
use crate::book::CompiledBook;
use crate::rng::{ScenarioRng, Stream};
use crate::scenario::{ScenarioModel, Scratch};

fn host_kernels() -> Option<&'static HostKernels> {
    super::host_kernels::compiled(&[CUDA_SCENARIO.parts, CUDA_REVALUE.parts])
}

type Philox = unsafe extern "C" fn(*const u32, *const u32, *mut u32);
type BlockNormals = unsafe extern "C" fn(*const u32, *mut f32);
type NormCdf = unsafe extern "C" fn(f32) -> f32;
type OptionPnl = unsafe extern "C" fn(
    crate::backend::device::layout::RevalueParams,
    *const f32,
    *const f32,
    *const Group,
    *const Series,
    *mut f32,
);

#[test]
fn cuda_philox_and_normals_compiled_for_the_host_match_the_cpu() {
    let Some(k) = host_kernels() else { return };
    let philox: Philox = k.get(b"host_philox");
    let normals: BlockNormals = k.get(b"host_block_normals");
    let rng = ScenarioRng::new(0x0123_4567_89ab_cdef);
    let mut worst = 0.0_f64;
    for n in (0..4_000_000_000_u64).step_by(999_983) {
        let words = rng.bits(n, 1, Stream::Diffusion, 3);
        let counter = [n as u32, (n >> 32) as u32, 1, 3];
        let (mut out, mut z) = ([0u32; 4], [0f32; 4]);
        // SAFETY: four words in, four out; four words in, four floats out.
        unsafe {
            philox(counter.as_ptr(), rng.key().as_ptr(), out.as_mut_ptr());
            normals(words.as_ptr(), z.as_mut_ptr());
        }
        assert_eq!(out, words, "scenario {n}");
        let mut cpu = [0.0; 16];
        rng.normals(n, 1, Stream::Diffusion, &mut cpu);
        for (device, cpu) in z.iter().zip(&cpu[12..]) {
            worst = worst.max((f64::from(*device) - cpu).abs() / (1.0 + cpu.abs()));
        }
    }
    eprintln!("normals differ by at most {worst:.2e} (1 + |z|)");
    assert!(worst <= 1e-6, "normals differ by {worst:e} (1 + |z|)");
}

/// Relative in the lower tail, where f32 holds N(x) (down to x = -9:
/// N(-9) = 1.1e-19), and absolute (an f32 ulp of 1) above, where N(x) is
/// stored as a value near 1.
#[test]
fn cuda_norm_cdf_compiled_for_the_host_is_within_f32_rounding_of_the_cpu() {
    let Some(k) = host_kernels() else { return };
    let norm_cdf: NormCdf = k.get(b"host_norm_cdf");
    let (mut relative, mut absolute) = (0.0_f64, 0.0_f64);
    for i in -3_600..=3_600 {
        let x = i as f32 * 0.0025;
        // SAFETY: a float in, a float out.
        let device = f64::from(unsafe { norm_cdf(x) });
        let cpu = crate::pricing::black76::norm_cdf(f64::from(x));
        if x <= 0.0 {
            relative = relative.max((device - cpu).abs() / cpu);
        } else {
            absolute = absolute.max((device - cpu).abs());
        }
    }
    eprintln!("norm_cdf: lower tail {relative:.2e} relative, upper half {absolute:.2e}");
    assert!(relative <= 2e-6, "lower tail: relative error {relative:e}");
    assert!(
        absolute <= 1.2e-7,
        "upper half: absolute error {absolute:e}"
    );
}

/// The scenario kernel, run on the host, against `ScenarioModel::draw`:
/// the largest difference of returns and vol factors, per (1 + |x|), and
/// whether some scenario moved an asset by more than 20%.
fn scenario_kernel_against_the_cpu(k: &HostKernels, model: &ScenarioModel) -> (f64, bool) {
    let layout = ModelLayout::new(model);
    let (a, count, first) = (model.assets(), 2_000_usize, (1_u64 << 32) - 1_000);
    let params = ScenarioParams {
        stride: count as u32,
        ..layout.params.drawing(first, count as u32)
    };
    let (returns, vols) = k.draw_scenarios(params, &layout.model, &layout.indices, a, count);
    let (mut cpu_returns, mut cpu_vols) = (vec![0.0; a], vec![0.0; a]);
    let mut s = Scratch::default();
    let (mut worst, mut jumped) = (0.0_f64, false);
    for i in 0..count {
        model.draw(first + i as u64, &mut s, &mut cpu_returns, &mut cpu_vols);
        for asset in 0..a {
            let (r, v) = (returns[asset * count + i], vols[asset * count + i]);
            worst = worst
                .max((f64::from(r) - cpu_returns[asset]).abs() / (1.0 + cpu_returns[asset].abs()))
                .max((f64::from(v) - cpu_vols[asset]).abs() / (1.0 + cpu_vols[asset].abs()));
            jumped |= cpu_returns[asset] < -0.2;
        }
    }
    (worst, jumped)
}

fn sample_model(configure: impl FnOnce(&mut crate::snapshot::Snapshot)) -> ScenarioModel {
    let mut snapshot = crate::sample::embedded().expect("the sample loads");
    configure(&mut snapshot);
    let book = CompiledBook::compile(&snapshot).expect("compiles");
    crate::engine::scenario_model(&snapshot, &book).expect("a valid model")
}

/// Student-t and NIG innovations, each with jumps over two steps.
#[test]
fn cuda_scenario_kernel_compiled_for_the_host_draws_the_cpu_monte_carlo_scenarios() {
    use crate::snapshot::Innovations;
    let Some(k) = host_kernels() else { return };
    for innovations in [Innovations::StudentT, Innovations::Nig] {
        let model = sample_model(|s| {
            s.config.scenario.innovations = innovations;
            s.config.scenario.nig_shape = 0.7;
            s.config.scenario.jumps = Some(crate::snapshot::JumpConfig {
                intensity_per_year: 25.0,
                mean_sigmas: -2.0,
                stdev_sigmas: 1.5,
            });
            s.config.risk.steps = 2;
        });
        let (worst, jumped) = scenario_kernel_against_the_cpu(k, &model);
        assert!(
            jumped,
            "{innovations:?}: the sample drew no large move: a weak test"
        );
        eprintln!("{innovations:?}: moves differ by at most {worst:.2e} (1 + |x|)");
        assert!(
            worst <= 2e-6,
            "{innovations:?}: moves differ by {worst:e} (1 + |x|)"
        );
    }
}

/// Filtered historical simulation picks the CPU's days: a different day would
/// move the assets by whole percents.
#[test]
fn cuda_scenario_kernel_compiled_for_the_host_draws_the_cpu_historical_scenarios() {
    let Some(k) = host_kernels() else { return };
    let model = sample_model(|s| {
        // The ten shipped assets only: the sample's synthetic ones have no history.
        let keep = 10;
        let n = s.market.assets.len();
        s.market.assets.truncate(keep);
        s.market.correlation = (0..keep * keep)
            .map(|i| s.market.correlation[(i / keep) * n + i % keep])
            .collect();
        s.positions.clear();
        s.collateral.clear();
        s.instruments.clear();
        let path = machine::daily_closes();
        s.history = Some(crate::history::PriceHistory::load(&path).expect("shipped history"));
        s.config.scenario.historical = Some(crate::snapshot::HistoricalConfig::default());
        s.config.risk.margin_period_days = 3.0;
    });
    let (worst, jumped) = scenario_kernel_against_the_cpu(k, &model);
    assert!(jumped, "no large historical move drawn: a weak test");
    eprintln!("historical moves differ by at most {worst:.2e} (1 + |x|)");
    assert!(worst <= 2e-6, "moves differ by {worst:e} (1 + |x|)");
}

/// The option kernel, run on the host, against `OptionSeries::pnl`.
#[test]
fn cuda_option_kernel_compiled_for_the_host_revalues_like_the_cpu() {
    let Some(k) = host_kernels() else { return };
    let option_pnl: OptionPnl = k.get(b"option_pnl");
    let snapshot = crate::sample::embedded().expect("the sample loads");
    let book = CompiledBook::compile(&snapshot).expect("compiles");
    let layout = BookLayout::new(&book);
    let (a, series) = (book.assets, book.options.len());
    let count = 64_usize;
    // Moves from -60% to +150% with vol factors from 0.5 to 2.
    let returns: Vec<f32> = (0..a * count)
        .map(|i| -0.6 + 2.1 * (i % count) as f32 / count as f32)
        .collect();
    let vols: Vec<f32> = (0..a * count)
        .map(|i| 0.5 + 1.5 * ((i * 7) % count) as f32 / count as f32)
        .collect();
    let params = crate::backend::device::layout::RevalueParams::new(
        &layout,
        a,
        book.members,
        count as u32,
        1,
    );
    let params = crate::backend::device::layout::RevalueParams {
        count: count as u32,
        ..params
    };
    let mut pnl = vec![0f32; series * count];
    // SAFETY: option_pnl(RevalueParams, returns, vol_factors, groups, series,
    // pnl) writes series x stride P&Ls and reads assets x stride moves.
    unsafe {
        option_pnl(
            params,
            returns.as_ptr(),
            vols.as_ptr(),
            layout.groups.as_ptr(),
            layout.series.as_ptr(),
            pnl.as_mut_ptr(),
        )
    };
    let mut worst: f64 = 0.0;
    for j in 0..series {
        let u = book.options.underlying(j);
        for s in 0..count {
            let (r, v) = (returns[u * count + s], vols[u * count + s]);
            let cpu = book.options.pnl(j, f64::from(r), f64::from(v));
            // f32 Black-76: within 1e-5 of the option's value scale (forward + strike).
            let scale = book.options.forward1(j, f64::from(r)) + book.options.strike(j);
            let device = f64::from(pnl[j * count + s]);
            assert!(
                (device - cpu).abs() <= 1e-5 * scale,
                "series {j}, scenario {s}: {device} vs {cpu}"
            );
            worst = worst.max((device - cpu).abs() / scale);
        }
    }
    eprintln!("option P&Ls differ by at most {worst:.2e} (forward + strike)");
}

mod member_losses;
