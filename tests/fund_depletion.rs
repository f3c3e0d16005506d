//! Reverse stress (c), methodology 9.9: over a run's Monte Carlo scenarios,
//! the demand the Cover-n defaults of each scenario put on the prefunded
//! resources, streamed with the members' tails, equals the brute-force
//! computation over the materialised loss matrix.

mod common;

use clearstress::backend::CpuBackend;
use clearstress::default_management::depletion::MonteCarloDepletion;
use clearstress::engine::{self, RunLimits};
use common::depletion::{
    assert_same_depletion, book, brute_force, demands, expected_shortfall, streamed,
    with_resources_at_rank,
};

/// Cover-1, -2 and -3, resources that the demand exceeds in about 2% of the
/// scenarios: the streamed statistics are the brute force's, for any block
/// size and thread count, and the ES is its definition's.
#[test]
fn the_streamed_depletion_is_the_brute_force_over_the_loss_matrix() {
    let paths = 20_000;
    for cover in [1, 2, 3] {
        let mut s = book(paths);
        s.config.default_fund.cover = cover;
        let cpu = CpuBackend::new(Some(2)).unwrap();
        let all = demands(&cpu, &s);
        assert!(
            all.iter().filter(|&&d| d > 0.0).count() > 1_000,
            "Cover-{cover}: losses beyond collateral must be common for the test to bite"
        );
        let s = with_resources_at_rank(s, &all, 400);
        let brute = brute_force(&s, &all);
        assert_eq!(brute.exhausted, 399, "Cover-{cover}");
        let es = brute.demand.last().unwrap();
        let direct = expected_shortfall(&all, es.confidence);
        assert!(
            (es.es - direct).abs() <= 1e-12 * direct,
            "{} vs {direct}",
            es.es
        );
        for (block, threads) in [(65_536, 2), (1_000, 1), (4_099, 2)] {
            let mut t = s.clone();
            t.config.scenario.block_size = block;
            let backend = CpuBackend::new(Some(threads)).unwrap();
            let got = streamed(&backend, &t, RunLimits::default());
            assert_same_depletion(&got, &brute);
        }
    }
}

/// Members' tails laid out in pilot-placed windows and narrowed (a small
/// tail memory) stream the depletion in the first pass only: the same
/// statistics.
#[test]
fn windowed_member_tails_leave_the_depletion_exact() {
    let s = book(200_000);
    let cpu = CpuBackend::new(Some(2)).unwrap();
    let all = demands(&cpu, &s);
    let s = with_resources_at_rank(s, &all, 4_000);
    let limits = RunLimits {
        tail_memory_bytes: 400 << 10,
    };
    let r = engine::run(&cpu, &s, limits, &|_| {}).unwrap();
    assert!(
        r.run.tail_pilot > 0 && r.run.tail_passes >= 2,
        "{:?}",
        r.run
    );
    let Some(MonteCarloDepletion::Computed(got)) = r.fund_depletion else {
        panic!("no depletion: {:?}", r.fund_depletion)
    };
    assert_same_depletion(&got, &brute_force(&s, &all));
}

/// Depletion is capped at the resources; with resources above every demand
/// nothing is exhausted and depletion is the demand.
#[test]
fn depletion_is_the_demand_capped_at_the_resources() {
    let s = book(5_000);
    let cpu = CpuBackend::new(Some(2)).unwrap();
    let all = demands(&cpu, &s);
    let capped = with_resources_at_rank(s.clone(), &all, 50);
    let d = streamed(&cpu, &capped, RunLimits::default());
    let r = d.resources;
    for (demand, depletion) in d.demand.iter().zip(&d.depletion) {
        assert_eq!(depletion.var, demand.var.min(r));
        assert!(depletion.es <= r && depletion.es <= demand.es);
    }
    // With the last VaR at or above R every tail loss is capped at R, so ES
    // is R to the rounding of the tail's mean (t R / t); below it, under R.
    let es = d.depletion.last().unwrap().es;
    if d.demand.last().unwrap().var >= r {
        assert!((es - r).abs() <= 4.0 * f64::EPSILON * r, "ES {es}, R {r}");
    } else {
        assert!(es < r, "ES {es}, R {r}");
    }
    let mut ample = s;
    ample.members[0].df_contribution = 2.0 * d.worst.unwrap().0;
    let d = streamed(&cpu, &ample, RunLimits::default());
    assert_eq!((d.exhausted, d.probability_of_exhaustion), (0, 0.0));
    assert_eq!(d.demand, d.depletion);
}

/// Exact tails that would take more than a quarter of the tail memory are
/// not kept: the run says so instead.
#[test]
fn a_depletion_too_large_for_the_memory_limit_is_skipped_and_said() {
    let s = book(20_000);
    let limits = RunLimits {
        tail_memory_bytes: 16 << 10,
    };
    let r = engine::run(&CpuBackend::new(Some(2)).unwrap(), &s, limits, &|_| {});
    match r.map(|r| r.fund_depletion) {
        Ok(Some(MonteCarloDepletion::Skipped(too_large))) => {
            assert!(too_large.needed_bytes > too_large.limit_bytes);
            assert_eq!(too_large.limit_bytes, 4 << 10);
        }
        Ok(other) => panic!("{other:?}"),
        // The members' tails may not fit either: then the run says that.
        Err(e) => assert!(e.to_string().contains("memory"), "{e}"),
    }
}
