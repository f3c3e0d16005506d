//! Parity of a device backend with the CPU reference: the test bodies every
//! device backend runs (tests/wgpu_parity.rs, tests/cuda_parity.rs).
//!
//! Stated tolerances (device arithmetic is f32, the CPU's f64):
//! - Philox words: bit for bit.
//! - Normals: |z_gpu - z_cpu| <= 1e-6 (1 + |z|).
//! - Returns and vol factors: |x_gpu - x_cpu| <= 2e-6 (1 + |x_cpu|).
//! - A member's loss in a scenario: |l_gpu - l_cpu| <= 5e-7 G, where G is the
//!   member's gross scale in that scenario: sum over assets of |weight| (1 + |R|)
//!   and over option holdings of |weight| (forward + strike) at the horizon.
//! - VaR and ES are order statistics and averages of them, so they move by no
//!   more than the largest loss difference: the same 5e-7 G, with G the
//!   member's largest scale over the run's scenarios.
//! - The Cover-2 requirement: a sum of member losses, within twice the sum of
//!   the members' bounds.
//!
//! Measured on lavapipe (llvmpipe, Mesa 22.3.6): normals 1.3e-7, returns 1.9e-7,
//! losses 7.0e-8 G; each test prints its own worst case.

use clearstress::backend::device::{Chunking, DeviceBackend};
use clearstress::backend::{Backend, CpuBackend};
use clearstress::book::CompiledBook;
use clearstress::engine::{self, RunLimits, RunResult};
use clearstress::rng::{ScenarioRng, Stream};
use clearstress::sample::{self, SampleSpec};
use clearstress::scenario::{stress_block, ScenarioBlock, ScenarioModel};
use clearstress::snapshot::{Innovations, JumpConfig, Snapshot};
use clearstress::tail::{var_rank, MemberTail, TailMeasure};
use std::ops::Range;

pub const LOSS_TOLERANCE: f64 = 5e-7;

/// Student-t innovations, market-wide jumps, two steps and vol shocks.
fn fat_tailed(mut s: Snapshot) -> Snapshot {
    s.config.scenario.innovations = Innovations::StudentT;
    s.config.scenario.jumps = Some(JumpConfig {
        intensity_per_year: 25.0,
        mean_sigmas: -2.0,
        stdev_sigmas: 1.5,
    });
    s.config.risk.steps = 2;
    s
}

/// NIG innovations, market-wide jumps, two steps and vol shocks.
fn nig(mut s: Snapshot) -> Snapshot {
    s = fat_tailed(s);
    s.config.scenario.innovations = Innovations::Nig;
    s.config.scenario.nig_shape = 0.7;
    s
}

fn embedded() -> Snapshot {
    sample::embedded().expect("embedded sample loads")
}

fn option_heavy() -> Snapshot {
    sample::generate(&SampleSpec {
        members: 40,
        assets: 12,
        options: 4_000,
        listing: Default::default(),
        seed: 7,
    })
    .and_then(|files| files.load("option-heavy test book"))
    .expect("generated book loads")
}

/// The run's scenario model, FHS attached where the snapshot asks for it.
fn model(s: &Snapshot, book: &CompiledBook) -> ScenarioModel {
    engine::scenario_model(s, book).unwrap()
}

/// A 20-member book of the ten shipped assets with options, drawn by filtered
/// historical simulation over a 3-day horizon from the shipped history.
fn historical() -> Snapshot {
    let mut s = sample::generate(&SampleSpec {
        members: 20,
        assets: 10,
        options: 300,
        listing: Default::default(),
        seed: 5,
    })
    .and_then(|files| files.load("FHS test book"))
    .expect("generated book loads");
    let path = super::machine::daily_closes();
    s.history = Some(clearstress::history::PriceHistory::load(&path).unwrap());
    s.config.scenario.historical = Some(clearstress::snapshot::HistoricalConfig {
        history: path.display().to_string(),
        ..Default::default()
    });
    s.config.risk.margin_period_days = 3.0;
    s
}

pub fn device_philox_words_are_bit_identical_to_the_cpu_stream<D: DeviceBackend>(gpu: D) {
    let seed = 0x0123_4567_89ab_cdef;
    let rng = ScenarioRng::new(seed);
    // Scenarios straddling 2^32 exercise the carry into the counter's high word.
    let first = (1_u64 << 32) - 300;
    for (step, stream) in [
        (0, Stream::Diffusion),
        (3, Stream::ChiSquare),
        (1, Stream::JumpCount),
        (7, Stream::JumpSize),
        (0, Stream::VolShock),
        (2, Stream::InverseGaussian),
    ] {
        let blocks = 5;
        let sample = gpu
            .rng_sample(seed, first..first + 600, step, stream, blocks)
            .unwrap();
        let (words, normals) = (&sample.words, &sample.normals);
        let mut worst = 0.0_f64;
        for s in 0..600_u64 {
            let mut z = vec![0.0; 4 * blocks as usize];
            rng.normals(first + s, step, stream, &mut z);
            for b in 0..blocks {
                let i = (s * u64::from(blocks) + u64::from(b)) as usize;
                assert_eq!(words[i], rng.bits(first + s, step, stream, b));
                for (k, &device) in normals[i].iter().enumerate() {
                    let cpu = z[4 * b as usize + k];
                    worst = worst.max((f64::from(device) - cpu).abs() / (1.0 + cpu.abs()));
                }
            }
        }
        eprintln!("{stream:?}: normals differ by at most {worst:.2e} (1 + |z|)");
        assert!(worst <= 1e-6, "normals differ by {worst:e} (1 + |z|)");
    }
}

fn assert_same_scenarios<D: DeviceBackend>(s: &Snapshot, gpu: &D, range: std::ops::Range<u64>) {
    let book = CompiledBook::compile(s).unwrap();
    let model = model(s, &book);
    let cpu = CpuBackend::new(None).unwrap();
    let reference = cpu
        .scenarios(&cpu.prepare(&book, &model).unwrap(), range.clone())
        .unwrap();
    let device = gpu
        .scenarios(&gpu.prepare(&book, &model).unwrap(), range)
        .unwrap();
    assert_eq!(device.first, reference.first);
    let worst = |a: &[f64], b: &[f64]| {
        a.iter()
            .zip(b)
            .map(|(x, y)| (x - y).abs() / (1.0 + y.abs()))
            .fold(0.0, f64::max)
    };
    let (r, v) = (
        worst(&device.returns, &reference.returns),
        worst(&device.vol_factors, &reference.vol_factors),
    );
    eprintln!("returns differ by at most {r:.2e}, vol factors {v:.2e} (1 + |x|)");
    assert!(r <= 2e-6, "returns differ by {r:e} (1 + |R|)");
    assert!(v <= 2e-6, "vol factors differ by {v:e} (1 + |v|)");
    // The moves are not all trivial: jumps and vol shocks happened.
    assert!(reference
        .vol_factors
        .iter()
        .any(|&x| (x - 1.0).abs() > 0.05));
}

/// Every scenario model the suite draws (Gaussian; Student-t with jumps, two
/// steps and vol shocks; FHS over a 3-day horizon; NIG), with the scenarios
/// drawn, some straddling 2^32.
fn scenario_cases() -> Vec<(Snapshot, Range<u64>)> {
    vec![
        (embedded(), 0..3_000),
        (fat_tailed(embedded()), 1_000_000..1_003_000),
        (fat_tailed(super::mixed_book()), 0..5_000),
        (historical(), (1 << 32) - 2_000..(1 << 32) + 2_000),
        (nig(embedded()), 1_000_000..1_003_000),
        (nig(super::mixed_book()), 0..5_000),
    ]
}

pub fn device_scenarios_match_the_cpu_for_every_model<D: DeviceBackend>(gpu: D) {
    for (s, range) in scenario_cases() {
        assert_same_scenarios(&s, &gpu, range);
    }
}

/// Moves as a kernel writes them: returns and vol factors, asset-major.
pub type Moves = (Vec<f32>, Vec<f32>);

/// For every model of [`scenario_cases`], the device's moves are those
/// `reference` gives for the model and the scenarios, bit for bit.
pub fn device_moves_are_bit_identical_to<D: DeviceBackend>(
    gpu: &D,
    reference: impl Fn(&ScenarioModel, Range<u64>) -> Moves,
) {
    for (s, range) in scenario_cases() {
        let book = CompiledBook::compile(&s).unwrap();
        let model = model(&s, &book);
        let plan = gpu.prepare(&book, &model).unwrap();
        let device = gpu.scenarios(&plan, range.clone()).unwrap();
        let (returns, vols) = reference(&model, range.clone());
        let (n, a) = (device.len(), model.assets());
        // The block holds the device's f32 moves widened to f64, exactly.
        let differ: Vec<(usize, usize)> = (0..n)
            .flat_map(|i| (0..a).map(move |asset| (i, asset)))
            .filter(|&(i, asset)| {
                let on_device = [
                    device.returns[i * a + asset],
                    device.vol_factors[i * a + asset],
                ];
                let expected = [returns[asset * n + i], vols[asset * n + i]];
                on_device.map(|x| (x as f32).to_bits()) != expected.map(f32::to_bits)
            })
            .collect();
        eprintln!(
            "scenarios {range:?}: {} of {} moves differ from the reference's bits",
            differ.len(),
            n * a
        );
        assert!(
            differ.is_empty(),
            "scenarios {range:?}: (scenario, asset) {:?} and {} more differ",
            differ.first(),
            differ.len().saturating_sub(1)
        );
    }
}

/// Member m's gross scale in scenario s of `block` (see the module docs).
fn gross_scale(book: &CompiledBook, block: &ScenarioBlock, m: usize, s: usize) -> f64 {
    let r = block.returns_of(s);
    let assets: f64 = (0..book.assets)
        .map(|a| book.weights[a * book.members + m].abs() * (1.0 + r[a].abs()))
        .sum();
    let options: f64 = book
        .member_options
        .of(m)
        .map(|(j, w)| {
            let o = &book.options;
            w.abs() * (o.forward1(j, r[o.underlying(j)]) + o.strike(j))
        })
        .sum();
    assets + options + book.constant[m].abs()
}

fn assert_same_losses<D: DeviceBackend>(s: &Snapshot, gpu: &D, block: &ScenarioBlock) -> f64 {
    let book = CompiledBook::compile(s).unwrap();
    let model = model(s, &book);
    let cpu = CpuBackend::new(None).unwrap();
    let reference = cpu
        .revalue(&cpu.prepare(&book, &model).unwrap(), block)
        .unwrap();
    let device = gpu
        .revalue(&gpu.prepare(&book, &model).unwrap(), block)
        .unwrap();
    assert_eq!(
        (device.members, device.scenarios),
        (reference.members, reference.scenarios)
    );
    let mut worst = 0.0_f64;
    for m in 0..book.members {
        for s in 0..block.len() {
            let ratio =
                (device.loss(m, s) - reference.loss(m, s)).abs() / gross_scale(&book, block, m, s);
            worst = worst.max(ratio);
        }
    }
    eprintln!("losses differ by at most {worst:.2e} G");
    assert!(worst <= LOSS_TOLERANCE, "losses differ by {worst:e} G");
    worst
}

pub fn device_losses_match_the_cpu_on_the_same_moves<D: DeviceBackend>(gpu: D) {
    for s in [fat_tailed(embedded()), option_heavy(), super::mixed_book()] {
        let book = CompiledBook::compile(&s).unwrap();
        let cpu = CpuBackend::new(None).unwrap();
        let block = cpu
            .scenarios(&cpu.prepare(&book, &model(&s, &book)).unwrap(), 0..2_000)
            .unwrap();
        assert_same_losses(&s, &gpu, &block);
        // The stress scenarios too: the default fund is sized from them.
        if !s.stress.is_empty() {
            assert_same_losses(&s, &gpu, &stress_block(&s.stress, book.assets));
        }
    }
}

/// The largest gross scale of each member over the first `paths` CPU scenarios.
pub fn largest_scales(s: &Snapshot, paths: u64) -> Vec<f64> {
    let book = CompiledBook::compile(s).unwrap();
    let cpu = CpuBackend::new(None).unwrap();
    let block = cpu
        .scenarios(&cpu.prepare(&book, &model(s, &book)).unwrap(), 0..paths)
        .unwrap();
    (0..book.members)
        .map(|m| {
            (0..block.len())
                .map(|sc| gross_scale(&book, &block, m, sc))
                .fold(0.0, f64::max)
        })
        .collect()
}

fn assert_same_run(s: &Snapshot, cpu: &RunResult, gpu: &RunResult) {
    let scales = largest_scales(s, s.config.scenario.paths);
    for (m, (c, g)) in cpu
        .margin
        .members
        .iter()
        .zip(&gpu.margin.members)
        .enumerate()
    {
        let bound = LOSS_TOLERANCE * scales[m];
        for (x, y) in c.measures.iter().zip(&g.measures) {
            assert_eq!(x.confidence, y.confidence);
            assert!(
                (x.var - y.var).abs() <= bound,
                "member {m} VaR {} vs {}",
                x.var,
                y.var
            );
            assert!(
                (x.es - y.es).abs() <= bound,
                "member {m} ES {} vs {}",
                x.es,
                y.es
            );
        }
        assert!((c.initial_margin - g.initial_margin).abs() <= bound);
    }
    let total_bound: f64 = 2.0 * LOSS_TOLERANCE * scales.iter().sum::<f64>();
    let (c, g) = (&cpu.default_fund.requirement, &gpu.default_fund.requirement);
    assert!(
        (c.amount - g.amount).abs() <= total_bound,
        "Cover-2 requirement {} vs {}",
        c.amount,
        g.amount
    );
    // The same stress scenario and defaulting groups drive it.
    assert_eq!((c.scenario, group_ids(c)), (g.scenario, group_ids(g)));
}

fn group_ids(driver: &clearstress::default_fund::CoverDriver) -> Vec<usize> {
    driver.groups.iter().map(|g| g.0).collect()
}

fn run(backend: &impl Backend, s: &Snapshot) -> RunResult {
    engine::run(backend, s, RunLimits::default(), &|_| {}).unwrap()
}

pub fn var_es_and_cover_2_match_the_cpu_on_the_sample_house<D: DeviceBackend>(gpu: D) {
    let mut s = fat_tailed(embedded());
    s.config.scenario.paths = 20_000;
    let cpu = CpuBackend::new(None).unwrap();
    assert_same_run(&s, &run(&cpu, &s), &run(&gpu, &s));
}

pub fn var_es_and_cover_2_match_the_cpu_on_an_option_heavy_book<D: DeviceBackend>(gpu: D) {
    let mut s = option_heavy();
    s.config.scenario.paths = 8_192;
    let cpu = CpuBackend::new(None).unwrap();
    assert_same_run(&s, &run(&cpu, &s), &run(&gpu, &s));
}

pub fn var_es_and_cover_2_match_the_cpu_under_filtered_historical_simulation<D: DeviceBackend>(
    gpu: D,
) {
    let mut s = historical();
    s.config.scenario.paths = 20_000;
    let cpu = CpuBackend::new(None).unwrap();
    assert_same_run(&s, &run(&cpu, &s), &run(&gpu, &s));
}

pub fn var_es_and_cover_2_match_the_cpu_under_nig_innovations<D: DeviceBackend>(gpu: D) {
    let mut s = nig(embedded());
    s.config.scenario.paths = 20_000;
    let cpu = CpuBackend::new(None).unwrap();
    assert_same_run(&s, &run(&cpu, &s), &run(&gpu, &s));
}

/// Every member's VaR and ES, as bits: for bit-identity checks.
pub fn margin_bits(r: &RunResult) -> Vec<u64> {
    r.margin.members.iter().flat_map(margin_bits_of).collect()
}

fn margin_bits_of(m: &clearstress::margin::MemberMargin) -> Vec<u64> {
    m.measures
        .iter()
        .flat_map(|x| [x.var.to_bits(), x.es.to_bits()])
        .collect()
}

pub fn chunk_boundaries_and_a_small_candidate_list_do_not_change_the_margins<D: DeviceBackend>(
    gpu: D,
) {
    let mut s = fat_tailed(embedded());
    s.config.scenario.paths = 10_000;
    let whole = run(&gpu, &s);
    let members = s.members.len() as u32;
    // Chunks of 999 scenarios (not a multiple of the 64-wide tiles), and a
    // candidate list of three scenarios' worth that overflows while the tails
    // have no floor yet and forces chunks to be split.
    let chunked = gpu.with_chunking(Chunking {
        scenarios: 999,
        candidates: 3 * members,
        ..Chunking::default()
    });
    let split = run(&chunked, &s);
    assert_eq!(margin_bits(&whole), margin_bits(&split));
    assert_eq!(
        whole.default_fund.requirement.amount.to_bits(),
        split.default_fund.requirement.amount.to_bits()
    );
}

/// Every member's VaR/ES from one exact window over the device's losses.
fn device_exact_measures<D: DeviceBackend>(gpu: &D, s: &Snapshot) -> Vec<Vec<TailMeasure>> {
    let book = CompiledBook::compile(s).unwrap();
    let plan = gpu.prepare(&book, &model(s, &book)).unwrap();
    let paths = s.config.scenario.paths;
    let confidences = engine::confidences(s);
    let k = confidences
        .iter()
        .map(|&a| var_rank(paths, a))
        .max()
        .unwrap() as usize;
    let mut tails: Vec<MemberTail> = (0..book.members).map(|_| MemberTail::exact(k)).collect();
    let streamer = engine::Streamer {
        backend: gpu,
        plan: &plan,
        block: 1 << 16,
        limits: RunLimits::default(),
    };
    streamer.pass(0..paths, &mut tails, None, &|_| {}).unwrap();
    tails
        .iter_mut()
        .map(|t| t.measures(paths, &confidences).unwrap())
        .collect()
}

pub fn pilot_windows_and_narrowing_passes_give_the_device_its_exact_tail_statistics<
    D: DeviceBackend,
>(
    gpu: D,
) {
    let mut s = fat_tailed(embedded());
    s.config.scenario.paths = 200_000;
    let exact = device_exact_measures(&gpu, &s);
    for (kib, narrowed) in [
        (RunLimits::DEFAULT_TAIL_MEMORY_MIB << 10, false),
        (160, true),
    ] {
        let limits = RunLimits {
            tail_memory_bytes: kib << 10,
        };
        let r = engine::run(&gpu, &s, limits, &|_| {}).unwrap();
        assert!(r.run.tail_pilot > 0, "{kib} KiB: no pilot");
        assert_eq!(
            r.run.tail_passes >= 2,
            narrowed,
            "{kib} KiB: {} passes",
            r.run.tail_passes
        );
        for (m, e) in r.margin.members.iter().zip(&exact) {
            assert_eq!(&m.measures, e, "{kib} KiB");
        }
    }
}

/// The same pilot-windowed run with the device summing the losses in the
/// gaps between the members' windows (where it can) and with every loss read
/// back: the same margins and Cover-2 bit for bit. Returns the losses the
/// first run summed on the device, for the backend's own test to hold
/// against what it can do.
pub fn sums_in_the_gaps_change_no_bit<D: DeviceBackend>(gpu: D) -> u64 {
    let mut s = fat_tailed(embedded());
    s.config.scenario.paths = 200_000;
    let summing = engine::run(&gpu, &s, RunLimits::default(), &|_| {}).unwrap();
    assert!(
        summing.run.tail_pilot > 0,
        "no pilot: no gaps between windows"
    );
    let reading = gpu.with_chunking(Chunking {
        sum_gaps: false,
        ..Chunking::default()
    });
    let plain = engine::run(&reading, &s, RunLimits::default(), &|_| {}).unwrap();
    assert_eq!(margin_bits(&summing), margin_bits(&plain));
    assert_eq!(
        summing.default_fund.requirement.amount.to_bits(),
        plain.default_fund.requirement.amount.to_bits()
    );
    let (a, b) = (summing.run.pipeline.unwrap(), plain.run.pipeline.unwrap());
    eprintln!(
        "summing the gaps: {} candidates read back and {} losses summed, \
         against {} candidates",
        a.candidates, a.summed_in_gaps, b.candidates
    );
    assert_eq!(b.summed_in_gaps, 0);
    a.summed_in_gaps
}

/// Two ways of forming one device's losses (CUDA's tiled kernel and cuBLAS's
/// SGEMM) on the option-heavy book at 200,000 paths (a pilot and windows):
/// margins and Cover-2 within the stated tolerance of each other, as each is
/// of the CPU. Returns how many members' VaR and ES came out the same bit
/// for bit, and how many there are.
pub fn two_loss_products_agree<D: DeviceBackend>(one: &D, other: &D) -> (usize, usize) {
    let mut s = fat_tailed(option_heavy());
    s.config.scenario.paths = 200_000;
    let (a, b) = (run(one, &s), run(other, &s));
    assert_same_run(&s, &a, &b);
    let same = a
        .margin
        .members
        .iter()
        .zip(&b.margin.members)
        .filter(|(x, y)| margin_bits_of(x) == margin_bits_of(y))
        .count();
    eprintln!(
        "{} and {}: {same} of {} members' VaR and ES the same bit for bit",
        one.describe(),
        other.describe(),
        a.margin.members.len()
    );
    (same, a.margin.members.len())
}

/// The sample house with every third member's positions and coin collateral
/// taken away: their loss is a constant in every scenario.
fn with_members_without_positions(mut s: Snapshot) -> (Snapshot, Vec<bool>) {
    s.positions.retain(|p| p.member % 3 != 0);
    s.collateral
        .retain(|c| c.member % 3 != 0 || c.asset == clearstress::snapshot::CollateralAsset::Usd);
    let fixed = (0..s.members.len()).map(|m| m % 3 == 0).collect();
    (s, fixed)
}

pub fn members_without_positions_get_the_cpus_margins_bit_for_bit_whatever_the_tail_layout<
    D: DeviceBackend,
>(
    gpu: D,
) {
    let (mut s, fixed) = with_members_without_positions(fat_tailed(embedded()));
    // An exact window, a pilot's windows, and windows narrowed over passes.
    assert!(fixed.iter().filter(|&&f| f).count() >= 2);
    for (paths, kib, narrowed) in [
        (20_000, RunLimits::DEFAULT_TAIL_MEMORY_MIB << 10, false),
        (200_000, RunLimits::DEFAULT_TAIL_MEMORY_MIB << 10, false),
        (200_000, 160, true),
    ] {
        s.config.scenario.paths = paths;
        let limits = RunLimits {
            tail_memory_bytes: kib << 10,
        };
        let cpu = CpuBackend::new(None).unwrap();
        let c = engine::run(&cpu, &s, limits, &|_| {}).unwrap();
        let g = engine::run(&gpu, &s, limits, &|_| {}).unwrap();
        assert_eq!(c.run.tail_pilot, g.run.tail_pilot);
        assert_eq!(
            (paths > 20_000, narrowed),
            (g.run.tail_pilot > 0, g.run.tail_passes >= 2)
        );
        for (m, (x, y)) in c.margin.members.iter().zip(&g.margin.members).enumerate() {
            if fixed[m] {
                assert_eq!(
                    x.measures, y.measures,
                    "{paths} paths, {kib} KiB: member {m}"
                );
                assert_eq!(x.initial_margin.to_bits(), y.initial_margin.to_bits());
            }
        }
        assert_same_run(&s, &c, &g);
    }
}

/// One #[test] per parity property for the device `$device` gives (an
/// `Option`: `None` skips, having said why).
#[macro_export]
macro_rules! parity_tests {
    ($device:expr) => {
        #[test]
        fn the_fund_depletion_is_the_brute_force_over_the_devices_losses() {
            if let Some(device) = $device {
                common::depletion::device_depletion_is_its_brute_force(device);
            }
        }
        #[test]
        fn device_philox_words_are_bit_identical_to_the_cpu_stream() {
            if let Some(device) = $device {
                common::parity::device_philox_words_are_bit_identical_to_the_cpu_stream(device);
            }
        }
        #[test]
        fn device_scenarios_match_the_cpu_for_every_model() {
            if let Some(device) = $device {
                common::parity::device_scenarios_match_the_cpu_for_every_model(device);
            }
        }
        #[test]
        fn device_losses_match_the_cpu_on_the_same_moves() {
            if let Some(device) = $device {
                common::parity::device_losses_match_the_cpu_on_the_same_moves(device);
            }
        }
        #[test]
        fn var_es_and_cover_2_match_the_cpu_on_the_sample_house() {
            if let Some(device) = $device {
                common::parity::var_es_and_cover_2_match_the_cpu_on_the_sample_house(device);
            }
        }
        #[test]
        fn var_es_and_cover_2_match_the_cpu_on_an_option_heavy_book() {
            if let Some(device) = $device {
                common::parity::var_es_and_cover_2_match_the_cpu_on_an_option_heavy_book(device);
            }
        }
        #[test]
        fn var_es_and_cover_2_match_the_cpu_under_filtered_historical_simulation() {
            if let Some(device) = $device {
                common::parity::var_es_and_cover_2_match_the_cpu_under_filtered_historical_simulation(device);
            }
        }
        #[test]
        fn var_es_and_cover_2_match_the_cpu_under_nig_innovations() {
            if let Some(device) = $device {
                common::parity::var_es_and_cover_2_match_the_cpu_under_nig_innovations(device);
            }
        }
        #[test]
        fn chunk_boundaries_and_a_small_candidate_list_do_not_change_the_margins() {
            if let Some(device) = $device {
                common::parity::chunk_boundaries_and_a_small_candidate_list_do_not_change_the_margins(device);
            }
        }
        #[test]
        fn members_without_positions_get_the_cpus_margins_bit_for_bit_whatever_the_tail_layout() {
            if let Some(device) = $device {
                common::parity::members_without_positions_get_the_cpus_margins_bit_for_bit_whatever_the_tail_layout(device);
            }
        }
        #[test]
        fn pilot_windows_and_narrowing_passes_give_the_device_its_exact_tail_statistics() {
            if let Some(device) = $device {
                common::parity::pilot_windows_and_narrowing_passes_give_the_device_its_exact_tail_statistics(device);
            }
        }
    };
}
