//! Scenarios per second for each stage of the pipeline and end to end, on
//! synthetic books of the benchmark's shape (`clearstress init --members 1000
//! --assets 50`): a linear book, and the same book with 5,000 option positions.
//! Every backend found runs: the CPU, and wgpu on its best adapter (its
//! `generate` and `revalue` stages include copying the block back to the host;
//! `fused` is the production path, where only tail candidates come back;
//! `fused_with_depletion` the same pass also streaming the Monte Carlo fund
//! depletion, as a run's first pass does).
//!
//! `cpu/black76` times the option revaluation alone, on one core.
//!
//! Run: `cargo bench --bench pipeline`. Figures go to benches/RESULTS.md.

use criterion::{criterion_group, criterion_main, BenchmarkId, Criterion, Throughput};

use clearstress::backend::{Backend, CpuBackend, WgpuBackend};
use clearstress::book::CompiledBook;
use clearstress::default_fund::Groups;
use clearstress::default_management::depletion::{DepletionInput, DepletionStream};
use clearstress::engine::{self, RunLimits};
use clearstress::sample::{generate, OptionListing, SampleSpec};
use clearstress::scenario::ScenarioModel;
use clearstress::snapshot::{Innovations, Snapshot};
use clearstress::tail::{var_rank, MemberTail};

const BLOCK: u64 = 4096;

fn book(options: usize) -> Snapshot {
    let spec = SampleSpec {
        members: 1000,
        assets: 50,
        options,
        listing: Default::default(),
        seed: 1,
    };
    let mut s = generate(&spec)
        .and_then(|f| f.load("bench"))
        .expect("the benchmark book generates");
    s.config.scenario.innovations = Innovations::Gaussian;
    s.config.scenario.jumps = None;
    s.config.risk.steps = 1;
    s.config.risk.var_confidence = vec![];
    s.config.risk.es_confidence = vec![0.99];
    s
}

fn stages(c: &mut Criterion) {
    stages_on(c, "cpu", &CpuBackend::new(None).expect("a thread pool"));
    match WgpuBackend::new() {
        Ok(gpu) => {
            eprintln!("wgpu stages on {}", gpu.describe());
            stages_on(c, "wgpu", &gpu);
        }
        Err(e) => eprintln!("SKIPPED wgpu stages: {e}"),
    }
}

fn stages_on<B: Backend>(c: &mut Criterion, name: &str, backend: &B) {
    for (label, options) in [("linear", 0), ("options", 5000)] {
        let s = book(options);
        let compiled = CompiledBook::compile(&s).expect("compiles");
        let model = ScenarioModel::new(
            &s.market,
            &s.config.risk,
            &s.config.scenario,
            compiled.vol_assets.clone(),
        )
        .expect("a valid model");
        let plan = backend.prepare(&compiled, &model).expect("prepared");
        let mut group = c.benchmark_group(format!("{name}/{label}"));
        group.sample_size(10);
        group.throughput(Throughput::Elements(BLOCK));
        group.bench_function(BenchmarkId::new("generate", BLOCK), |b| {
            b.iter(|| backend.scenarios(&plan, 0..BLOCK).expect("drawn"))
        });
        let block = backend.scenarios(&plan, 0..BLOCK).expect("drawn");
        group.bench_function(BenchmarkId::new("revalue", BLOCK), |b| {
            b.iter(|| backend.revalue(&plan, &block).expect("revalued"))
        });
        let losses = backend.revalue(&plan, &block).expect("revalued");
        // The 1% tail of the block itself: admissions thin out as in a long run.
        let k = var_rank(BLOCK, 0.99) as usize;
        // Host work, the same whichever backend computed the losses.
        group.bench_function(BenchmarkId::new("tail", BLOCK), |b| {
            b.iter(|| {
                let mut tails: Vec<MemberTail> = (0..compiled.members)
                    .map(|_| MemberTail::exact(k))
                    .collect();
                for (m, top) in tails.iter_mut().enumerate() {
                    top.push_slice(losses.member(m), 0);
                }
                tails
            })
        });
        group.bench_function(BenchmarkId::new("fused", BLOCK), |b| {
            b.iter(|| {
                let mut tails: Vec<MemberTail> = (0..compiled.members)
                    .map(|_| MemberTail::exact(k))
                    .collect();
                backend
                    .accumulate(&plan, 0..BLOCK, &mut tails, None)
                    .expect("accumulated");
                tails
            })
        });
        // The same pass streaming the Monte Carlo fund depletion (methodology
        // 9.9): what it adds to the Monte Carlo stage.
        let groups = Groups::of(&s.members);
        let depletion = DepletionInput {
            collateral: compiled.collateral_value.clone(),
            group_of: groups.of.clone(),
            groups: groups.names.len(),
            cover: 2,
            resources: s.members.iter().map(|m| m.df_contribution).sum(),
            scenarios: BLOCK,
            confidences: vec![0.99],
        };
        let streamer = engine::Streamer {
            backend,
            plan: &plan,
            block: BLOCK,
            limits: RunLimits::default(),
        };
        group.bench_function(BenchmarkId::new("fused_with_depletion", BLOCK), |b| {
            b.iter(|| {
                let mut tails: Vec<MemberTail> = (0..compiled.members)
                    .map(|_| MemberTail::exact(k))
                    .collect();
                let mut stream = DepletionStream::new(depletion.clone());
                streamer
                    .pass(0..BLOCK, &mut tails, Some(&mut stream), &|_| {})
                    .expect("accumulated");
                (tails, stream.finish())
            })
        });
        let paths = 65_536;
        let mut run_book = s.clone();
        run_book.config.scenario.paths = paths;
        group.throughput(Throughput::Elements(paths));
        group.bench_function(BenchmarkId::new("end_to_end", paths), |b| {
            b.iter(|| engine::run(backend, &run_book, RunLimits::default(), &|_| {}).expect("runs"))
        });
        group.finish();
    }
}

/// Black-76 alone, on one core: every strike group's column in a block of
/// scenarios as the CPU backend computes them (blocks of 256 scenarios,
/// group-major, in the widest lanes this CPU has; methodology 6.4, "One
/// column per strike group"), on the 5,000-trade book's standard listing
/// (352 series in 88 groups) and on a Deribit-sized one (`init
/// --option-series 1300`). Throughput is strike evaluations (one column in
/// one scenario: one Black-76) per second.
fn black76(c: &mut Criterion) {
    let mut group = c.benchmark_group("cpu/black76");
    group.sample_size(10);
    for (label, listing) in [
        ("standard", OptionListing::Standard),
        ("series_1300", OptionListing::Series(1300)),
    ] {
        let spec = SampleSpec {
            members: 1000,
            assets: 50,
            options: 5000,
            listing,
            seed: 1,
        };
        let s = generate(&spec)
            .and_then(|f| f.load("bench"))
            .expect("the benchmark book generates");
        let book = CompiledBook::compile(&s).expect("compiles");
        let backend = CpuBackend::new(Some(1)).expect("a thread pool");
        let model = ScenarioModel::new(
            &s.market,
            &s.config.risk,
            &s.config.scenario,
            book.vol_assets.clone(),
        )
        .expect("a valid model");
        let plan = backend.prepare(&book, &model).expect("prepared");
        let block = backend.scenarios(&plan, 0..BLOCK).expect("drawn");
        let (series, groups) = (book.options.len(), book.options.groups.len());
        let mut out = vec![0.0; groups * BLOCK as usize];
        eprintln!("cpu/black76/{label}: {series} series in {groups} strike groups");
        group.throughput(Throughput::Elements(BLOCK * groups as u64));
        group.bench_function(BenchmarkId::new(label, BLOCK), |b| {
            b.iter(|| option_columns(&book, &block.returns, &block.vol_factors, &mut out))
        });
    }
    group.finish();
}

/// The strike groups' columns of a block, 256 scenarios at a time, group-major,
/// as the CPU backend computes them.
fn option_columns(book: &CompiledBook, returns: &[f64], vol_factors: &[f64], out: &mut [f64]) {
    let (a, groups) = (book.assets, book.options.groups.len());
    for ((r, v), out) in returns
        .chunks(256 * a)
        .zip(vol_factors.chunks(256 * a))
        .zip(out.chunks_mut(256 * groups))
    {
        #[cfg(target_arch = "x86_64")]
        if std::arch::is_x86_feature_detected!("avx512f") {
            // SAFETY: the CPU has AVX-512F, checked just above.
            unsafe { columns_avx512(book, r, v, out) };
            continue;
        }
        book.options.columns::<2>(a, r, v, out);
    }
}

#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "avx512f")]
fn columns_avx512(book: &CompiledBook, r: &[f64], v: &[f64], out: &mut [f64]) {
    book.options.columns::<8>(book.assets, r, v, out)
}

criterion_group!(benches, stages, black76);
criterion_main!(benches);
