//! The Monte Carlo depletion of the default fund (methodology 9.9) by brute
//! force: every member's loss in every scenario materialised, each
//! scenario's Cover-n summed as the default fund sums a stress scenario's.

use clearstress::backend::device::{Chunking, DeviceBackend};
use clearstress::backend::Backend;
use clearstress::book::CompiledBook;
use clearstress::default_fund::{group_uncovered, ranked, Groups};
use clearstress::default_management::depletion::{FundDepletion, MonteCarloDepletion};
use clearstress::engine::{self, RunLimits};
use clearstress::sample::{generate, SampleSpec};
use clearstress::snapshot::Snapshot;
use clearstress::tail::{tail_size, MemberTail};

/// D(s) for every scenario `0..paths` of `s` on `backend`, from its
/// materialised losses, in blocks of 10,000 scenarios.
pub fn demands<B: Backend>(backend: &B, s: &Snapshot) -> Vec<f64> {
    let book = CompiledBook::compile(s).unwrap();
    let model = engine::scenario_model(s, &book).unwrap();
    let plan = backend.prepare(&book, &model).unwrap();
    let groups = Groups::of(&s.members);
    let cover = s.config.default_fund.cover.max(1);
    let paths = s.config.scenario.paths;
    let mut demands = Vec::with_capacity(paths as usize);
    for first in (0..paths).step_by(10_000) {
        let range = first..(first + 10_000).min(paths);
        let block = backend.scenarios(&plan, range).unwrap();
        let losses = backend.revalue(&plan, &block).unwrap();
        for n in 0..losses.scenarios {
            let u = group_uncovered(
                &losses,
                n,
                &book.collateral_value,
                &groups.of,
                groups.names.len(),
            );
            demands.push(ranked(&u).iter().take(cover).map(|g| g.1).sum::<f64>());
        }
    }
    demands
}

/// The prefunded resources R of `s`: contributions plus skin in the game.
pub fn resources(s: &Snapshot) -> f64 {
    let contributions: f64 = s.members.iter().map(|m| m.df_contribution).sum();
    contributions + s.config.default_fund.skin_in_the_game
}

/// Every statistic of the depletion, from the demands of every scenario.
pub fn brute_force(s: &Snapshot, demands: &[f64]) -> FundDepletion {
    let n = demands.len() as u64;
    let r = resources(s);
    let confidences = engine::confidences(s);
    let everything = |values: &mut dyn Iterator<Item = f64>| {
        let mut tail = MemberTail::exact(n as usize);
        tail.push_slice(&values.collect::<Vec<_>>(), 0);
        tail.measures(n, &confidences).unwrap()
    };
    let exhausted = demands.iter().filter(|&&d| d > r).count() as u64;
    let p = exhausted as f64 / n as f64;
    let worst = demands
        .iter()
        .enumerate()
        .max_by(|a, b| a.1.total_cmp(b.1).then(b.0.cmp(&a.0)))
        .map(|(s, &d)| (d, s as u64));
    FundDepletion {
        scenarios: n,
        cover: s.config.default_fund.cover,
        resources: r,
        exhausted,
        probability_of_exhaustion: p,
        probability_std_error: (p * (1.0 - p) / n as f64).sqrt(),
        with_uncovered: demands.iter().filter(|&&d| d > 0.0).count() as u64,
        mean_demand: demands.iter().sum::<f64>() / n as f64,
        worst,
        demand: everything(&mut demands.iter().copied()),
        depletion: everything(&mut demands.iter().map(|&d| d.min(r))),
    }
}

/// ES at `alpha` of `values` written out: the mean of the floor(t) largest
/// and the fraction t - floor(t) of the next, t = N (1 - alpha).
pub fn expected_shortfall(values: &[f64], alpha: f64) -> f64 {
    let mut sorted = values.to_vec();
    sorted.sort_by(|a, b| b.total_cmp(a));
    let t = tail_size(values.len() as u64, alpha);
    let whole = t.floor() as usize;
    (sorted[..whole].iter().sum::<f64>() + (t - whole as f64) * sorted[whole]) / t
}

/// The run's depletion on `backend` under `limits`.
pub fn streamed<B: Backend>(backend: &B, s: &Snapshot, limits: RunLimits) -> FundDepletion {
    match engine::run(backend, s, limits, &|_| {})
        .unwrap()
        .fund_depletion
    {
        Some(MonteCarloDepletion::Computed(d)) => d,
        other => panic!("no depletion: {other:?}"),
    }
}

/// `streamed` equals `brute` bit for bit but for the mean, an exact sum
/// against a running one.
pub fn assert_same_depletion(streamed: &FundDepletion, brute: &FundDepletion) {
    let mean = (streamed.mean_demand - brute.mean_demand).abs();
    assert!(
        mean <= 1e-12 * brute.mean_demand.abs().max(1.0),
        "mean demand {} vs {}",
        streamed.mean_demand,
        brute.mean_demand
    );
    let same_mean = FundDepletion {
        mean_demand: brute.mean_demand,
        ..streamed.clone()
    };
    assert_eq!(&same_mean, brute);
}

/// An option book of 30 members in affiliate groups on six assets over
/// `paths` scenarios, every member posting a quarter of its collateral, so
/// that losses beyond it are common.
pub fn book(paths: u64) -> Snapshot {
    let spec = SampleSpec {
        members: 30,
        assets: 6,
        options: 300,
        listing: Default::default(),
        seed: 11,
    };
    let mut s = generate(&spec).unwrap().load("depletion").unwrap();
    for c in &mut s.collateral {
        c.amount *= 0.25;
    }
    s.config.scenario.paths = paths;
    s
}

/// On a device: the run's depletion is the brute force over the device's
/// own losses, bit for bit, with the members' tails exact and in
/// pilot-placed windows (whose gaps CUDA sums on the device, clipped at
/// each member's collateral), and with small chunks that overflow the
/// candidate list.
pub fn device_depletion_is_its_brute_force<D: DeviceBackend>(gpu: D) {
    let s = book(200_000);
    let all = demands(&gpu, &s);
    let s = with_resources_at_rank(s, &all, 4_000);
    let brute = brute_force(&s, &all);
    let windows = RunLimits {
        tail_memory_bytes: 400 << 10,
    };
    for limits in [RunLimits::default(), windows] {
        assert_same_depletion(&streamed(&gpu, &s, limits), &brute);
    }
    let members = s.members.len() as u32;
    let small = gpu.with_chunking(Chunking {
        scenarios: 999,
        candidates: 3 * members,
        ..Chunking::default()
    });
    assert_same_depletion(&streamed(&small, &s, windows), &brute);
}

/// `s` with prefunded resources equal to the demand ranked `rank` (1 =
/// largest) among `demands`, all of it the first member's contribution.
pub fn with_resources_at_rank(mut s: Snapshot, demands: &[f64], rank: usize) -> Snapshot {
    let mut sorted = demands.to_vec();
    sorted.sort_by(|a, b| b.total_cmp(a));
    for m in &mut s.members {
        m.df_contribution = 0.0;
    }
    s.config.default_fund.skin_in_the_game = 0.0;
    s.members[0].df_contribution = sorted[rank - 1];
    s
}
