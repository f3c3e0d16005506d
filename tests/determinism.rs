//! Scenario n is a pure function of (seed, n): results do not depend on threads,
//! block sizes or how the scenario range is split.

mod common;

use clearstress::backend::{Backend, CpuBackend};
use clearstress::book::CompiledBook;
use clearstress::engine::{self, RunLimits};
use clearstress::scenario::{DrawMemo, ScenarioModel, Scratch};
use clearstress::snapshot::{Innovations, JumpConfig, Snapshot};
use clearstress::tail::{var_rank, MemberTail, TailLayout, TailPlan};

fn book() -> Snapshot {
    let mut s = common::mixed_book();
    s.config.scenario.innovations = Innovations::StudentT;
    s.config.scenario.jumps = Some(JumpConfig {
        intensity_per_year: 5.0,
        mean_sigmas: -2.0,
        stdev_sigmas: 1.0,
    });
    s.config.scenario.paths = 20_000;
    s.config.risk.steps = 2;
    s
}

fn margins_bits(s: &Snapshot, threads: usize, block: usize) -> Vec<u64> {
    let mut s = s.clone();
    s.config.scenario.block_size = block;
    run_bits(&CpuBackend::new(Some(threads)).unwrap(), &s)
}

/// Every member's VaR, ES and VaR scenario of `s` run on `backend`, as bits.
fn run_bits(backend: &CpuBackend, s: &Snapshot) -> Vec<u64> {
    let r = engine::run(backend, s, RunLimits::default(), &|_| {}).unwrap();
    r.margin
        .members
        .iter()
        .flat_map(|m| {
            m.measures
                .iter()
                .flat_map(|x| [x.var.to_bits(), x.es.to_bits(), x.var_scenario])
        })
        .collect()
}

#[test]
fn margins_are_bit_identical_across_thread_counts_and_block_sizes() {
    let s = book();
    let reference = margins_bits(&s, 1, 4096);
    for (threads, block) in [(2, 4096), (1, 64), (2, 1000), (2, 20_000), (3, 333)] {
        assert_eq!(
            margins_bits(&s, threads, block),
            reference,
            "threads {threads}, block {block}"
        );
    }
}

#[test]
fn a_split_scenario_range_merges_to_the_one_shot_result() {
    let s = book();
    let common::Prepared {
        book: _,
        model: _,
        backend,
        plan,
    } = common::prepare(&s, Some(2));
    let n = 10_000;
    let k = var_rank(n, 0.99) as usize;
    let mut whole: Vec<MemberTail> = (0..3).map(|_| MemberTail::exact(k)).collect();
    backend.accumulate(&plan, 0..n, &mut whole, None).unwrap();
    for split in [1, 4097, 7_777] {
        let mut first: Vec<MemberTail> = (0..3).map(|_| MemberTail::exact(k)).collect();
        let mut second = first.clone();
        backend
            .accumulate(&plan, split..n, &mut second, None)
            .unwrap();
        backend
            .accumulate(&plan, 0..split, &mut first, None)
            .unwrap();
        for (a, b) in first.iter_mut().zip(&second) {
            a.merge(b);
        }
        for (a, w) in first.iter_mut().zip(whole.iter_mut()) {
            assert_eq!(a.sorted(), w.sorted(), "split at {split}");
            assert_eq!(a.measures(n, &[0.99]), w.measures(n, &[0.99]));
        }
    }
}

#[test]
fn the_backend_draws_exactly_the_reference_scenarios() {
    let s = book();
    let common::Prepared {
        book: _,
        model,
        backend,
        plan,
    } = common::prepare(&s, Some(2));
    let first = (1u64 << 33) + 5; // beyond 32 bits: the counter's high word is used
    let block = backend.scenarios(&plan, first..first + 257).unwrap();
    let mut scratch = Scratch::default();
    let (mut r, mut v) = (vec![0.0; 3], vec![0.0; 3]);
    for i in 0..block.len() {
        model.draw(first + i as u64, &mut scratch, &mut r, &mut v);
        assert_eq!(block.returns_of(i), &r[..]);
        assert_eq!(block.vol_factors_of(i), &v[..]);
    }
}

/// Golden values: scenario 0 and 123456 of seed 20250220 in the mixed book. A
/// change here changes every published number; it must be deliberate.
#[test]
fn scenario_values_are_pinned_for_a_fixed_seed() {
    let s = book();
    let book = CompiledBook::compile(&s).unwrap();
    let model = ScenarioModel::new(
        &s.market,
        &s.config.risk,
        &s.config.scenario,
        book.vol_assets.clone(),
    )
    .unwrap();
    let mut scratch = Scratch::default();
    let (mut r, mut v) = (vec![0.0; 3], vec![0.0; 3]);
    model.draw(0, &mut scratch, &mut r, &mut v);
    let golden0 = r.clone();
    model.draw(123_456, &mut scratch, &mut r, &mut v);
    let golden1 = r.clone();
    let expected0: [f64; 3] = GOLDEN_0;
    let expected1: [f64; 3] = GOLDEN_1;
    for (x, e) in golden0
        .iter()
        .chain(&golden1)
        .zip(expected0.iter().chain(&expected1))
    {
        assert!((x - e).abs() < 1e-15, "{x} vs {e}");
    }
}

const GOLDEN_0: [f64; 3] = [
    0.020152669978982272,
    -0.007327152405221206,
    5.389997308475712e-5,
];
const GOLDEN_1: [f64; 3] = [
    0.07369977152823645,
    0.1327548510938951,
    -0.0017689647970022867,
];

fn streamer(prepared: &common::Prepared) -> engine::Streamer<'_, CpuBackend> {
    engine::Streamer {
        backend: &prepared.backend,
        plan: &prepared.plan,
        block: 4096,
        limits: RunLimits::default(),
    }
}

/// Exact tails streamed with one window of the largest rank: the reference the
/// pilot-placed windows must reproduce bit for bit.
fn exact_measures(
    prepared: &common::Prepared,
    paths: u64,
    confidences: &[f64],
) -> Vec<Vec<clearstress::tail::TailMeasure>> {
    let k = confidences
        .iter()
        .map(|&a| var_rank(paths, a))
        .max()
        .unwrap() as usize;
    let mut tails: Vec<MemberTail> = (0..prepared.book.members)
        .map(|_| MemberTail::exact(k))
        .collect();
    streamer(prepared)
        .pass(0..paths, &mut tails, None, &|_| {})
        .unwrap();
    tails
        .iter_mut()
        .map(|t| t.measures(paths, confidences).unwrap())
        .collect()
}

#[test]
fn pilot_placed_windows_give_the_exact_tail_statistics() {
    let mut s = book();
    s.config.scenario.paths = 200_000;
    let prepared = common::prepare(&s, Some(2));
    let r = engine::run(&prepared.backend, &s, RunLimits::default(), &|_| {}).unwrap();
    assert!(
        r.run.tail_pilot > 0,
        "a run this long places its windows by a pilot"
    );
    assert_eq!(r.run.tail_passes, 1);
    let exact = exact_measures(&prepared, 200_000, &r.margin.confidences);
    for (m, e) in r.margin.members.iter().zip(&exact) {
        assert_eq!(&m.measures, e);
    }
}

#[test]
fn a_window_that_misses_its_rank_is_resolved_by_a_second_pass() {
    let s = book();
    let paths = 200_000;
    let prepared = common::prepare(&s, Some(2));
    let confidences = [0.99, 0.995];
    let members = prepared.book.members;
    let tail_plan = TailPlan::for_confidences(paths, &confidences, members, 1 << 30).unwrap();
    let TailLayout::Piloted { pilot } = tail_plan.layout else {
        panic!("{tail_plan:?}");
    };
    let pilot_k = tail_plan.pilot_plan(members, 1 << 30).unwrap().k();
    let mut pilot_tails: Vec<MemberTail> =
        (0..members).map(|_| MemberTail::exact(pilot_k)).collect();
    let streamer = streamer(&prepared);
    streamer
        .pass(0..pilot, &mut pilot_tails, None, &|_| {})
        .unwrap();
    // Member 0's pilot is made to overstate its losses twofold: its windows lie
    // above the ranks they are meant to hold.
    let mut tails: Vec<MemberTail> = pilot_tails
        .iter()
        .enumerate()
        .map(|(m, t)| {
            let top = t.sorted();
            let factor = if m == 0 { 2.0 } else { 1.0 };
            tail_plan.windows_from_pilot(
                |r| factor * top[r as usize - 1].0.abs() + (factor - 1.0),
                tail_plan.scenarios,
            )
        })
        .collect();
    streamer.pass(0..paths, &mut tails, None, &|_| {}).unwrap();
    assert!(tails[0].measures(paths, &confidences).is_none());
    let (measures, passes) = streamer
        .measures(
            tails,
            &confidences,
            tail_plan.k(),
            streamer.second_pass(paths),
        )
        .unwrap();
    assert_eq!(passes, 2);
    assert_eq!(measures, exact_measures(&prepared, paths, &confidences));
}

#[test]
fn a_tight_memory_budget_narrows_over_passes_to_the_same_statistics() {
    let mut s = book();
    s.config.scenario.paths = 200_000;
    let prepared = common::prepare(&s, Some(2));
    // 24 KiB for three members: too little for any pilot's windows.
    let limits = RunLimits {
        tail_memory_bytes: 24 << 10,
    };
    let r = engine::run(&prepared.backend, &s, limits, &|_| {}).unwrap();
    assert!(r.run.tail_passes >= 2, "{} passes", r.run.tail_passes);
    let exact = exact_measures(&prepared, 200_000, &r.margin.confidences);
    for (m, e) in r.margin.members.iter().zip(&exact) {
        assert_eq!(&m.measures, e);
    }
}

/// `book()` on another day: the same seed, assets, steps and innovations, so
/// the same random numbers, but other volatilities, correlation, NIG shape and
/// jump intensity, which change everything drawn from them.
fn another_day(s: &Snapshot) -> Snapshot {
    let mut t = s.clone();
    for (a, asset) in t.market.assets.iter_mut().enumerate() {
        asset.volatility *= 1.0 + 0.3 * a as f64;
    }
    t.market.correlation = vec![1.0, 0.5, -0.2, 0.5, 1.0, 0.3, -0.2, 0.3, 1.0];
    t.config.scenario.nig_shape *= 2.0;
    if let Some(j) = &mut t.config.scenario.jumps {
        j.intensity_per_year *= 3.0;
    }
    t
}

/// Every parametric model draws, from a record of its random numbers made
/// under another day's parameters, exactly the bits it draws afresh: the
/// record holds the generator's numbers, not what a day made of them.
#[test]
fn replayed_draws_are_the_fresh_draws_of_any_model_of_the_same_layout() {
    let innovations = [
        Innovations::Gaussian,
        Innovations::StudentT,
        Innovations::Nig,
    ];
    for (innovation, jumps) in innovations
        .into_iter()
        .flat_map(|i| [(i, false), (i, true)])
    {
        let mut recorded = book();
        recorded.config.scenario.innovations = innovation;
        if !jumps {
            recorded.config.scenario.jumps = None;
        }
        let replayed = another_day(&recorded);
        let model = |s: &Snapshot| {
            let book = CompiledBook::compile(s).unwrap();
            ScenarioModel::new(
                &s.market,
                &s.config.risk,
                &s.config.scenario,
                book.vol_assets,
            )
            .unwrap()
        };
        let (recorder, model) = (model(&recorded), model(&replayed));
        let layout = model.layout().unwrap();
        assert_eq!(recorder.layout(), Some(layout), "{innovation:?}");
        assert!(layout.vol_shocks > 0, "the book's options draw vol shocks");
        let range = (1u64 << 33)..(1u64 << 33) + 300;
        let memo = DrawMemo::record(layout, range.clone(), |n, r| recorder.record(n, r));
        let mut scratch = Scratch::default();
        let [mut r, mut v, mut r2, mut v2] = [(); 4].map(|_| vec![0.0; 3]);
        for n in range {
            model.draw(n, &mut scratch, &mut r, &mut v);
            model.draw_recorded(&memo, n, &mut scratch, &mut r2, &mut v2);
            let bits = |x: &[f64]| x.iter().map(|y| y.to_bits()).collect::<Vec<_>>();
            assert_eq!(
                bits(&r),
                bits(&r2),
                "{innovation:?}, jumps {jumps}, scenario {n}"
            );
            assert_eq!(
                bits(&v),
                bits(&v2),
                "{innovation:?}, jumps {jumps}, scenario {n}"
            );
        }
    }
}

/// A CPU backend that keeps draws for reuse gives the runs of one that does
/// not, bit for bit, over several days' markets; it records a range the
/// second time it is drawn, and never beyond its budget.
#[test]
fn a_backend_reusing_draws_gives_the_same_runs_day_after_day() {
    let first = book();
    let days = [
        first.clone(),
        another_day(&first),
        another_day(&another_day(&first)),
    ];
    let fresh = CpuBackend::new(Some(2)).unwrap();
    let reusing = CpuBackend::new(Some(2)).unwrap().reusing_draws(1 << 30);
    let starved = CpuBackend::new(Some(2)).unwrap().reusing_draws(1);
    for (d, day) in days.iter().enumerate() {
        let expected = run_bits(&fresh, day);
        assert_eq!(run_bits(&reusing, day), expected, "day {d}");
        assert_eq!(run_bits(&starved, day), expected, "day {d}, nothing held");
        if d == 0 {
            assert_eq!(
                reusing.draws_held_bytes(),
                0,
                "nothing is recorded on a first draw"
            );
        }
    }
    assert!(reusing.draws_held_bytes() > 0);
    assert_eq!(starved.draws_held_bytes(), 0);
    assert_eq!(fresh.draws_held_bytes(), 0);
}
