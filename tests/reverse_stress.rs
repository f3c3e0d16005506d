//! Reverse stress (methodology 9.6): the multiplier of each stress scenario
//! at which the prefunded resources run out, found by full revaluation, and
//! the fewest defaulting groups that exhaust them.

mod common;

use clearstress::backend::{Backend, CpuBackend};
use clearstress::default_management::reverse_stress::{
    reverse_stress, ReverseStressInput, K_CAP, TOLERANCE,
};
use clearstress::engine::{self, RunLimits};
use clearstress::scenario::stress_block;
use clearstress::snapshot::Snapshot;
use common::stress_scenario;

fn reverse(s: &Snapshot) -> clearstress::default_management::ReverseStress {
    engine::run(
        &CpuBackend::new(Some(2)).unwrap(),
        s,
        RunLimits::default(),
        &|_| {},
    )
    .unwrap()
    .reverse_stress
    .unwrap()
}

/// A long of 10 BTC at 97,600 and a short of 200 ETH at 2,700 in linear
/// perpetuals without funding or basis, no collateral: in a scenario moving
/// BTC by -20% and ETH by +10% they lose 195,200 and 54,000, both linearly
/// in the multiplier, so Cover-2 is F(k) = 249,200 k and the resources R
/// (contributions 150,000 + 50,000, skin in the game 30,000) run out at
/// k* = 230,000 / 249,200. Each member is its own group: A alone does not
/// exhaust R at k = 1, A and B do.
#[test]
fn on_a_linear_book_k_star_is_the_resources_over_the_unit_shock_cover() {
    let mut s = common::real_asset_book(1_000);
    s.members[0].df_contribution = 150_000.0;
    s.members[1].df_contribution = 50_000.0;
    s.config.default_fund.skin_in_the_game = 30_000.0;
    s.stress = vec![stress_scenario(
        "btc down eth up",
        vec![-0.2, 0.1, 0.0],
        vec![0.0; 3],
    )];
    let r = reverse(&s);
    assert_eq!(r.resources, 230_000.0);
    let x = &r.scenarios[0];
    let near = |a: f64, b: f64, tol: f64| (a - b).abs() <= tol * b.abs();
    assert!(near(x.cover_n, 249_200.0, 1e-12), "{}", x.cover_n);
    // The search runs to 0.999 of the multiplier at which BTC's price is 0.
    assert_eq!(x.k_searched, 0.999 * 5.0);
    let k_star = x.k_star.unwrap();
    assert!(
        near(k_star, 230_000.0 / 249_200.0, 2.0 * TOLERANCE),
        "{k_star}"
    );
    assert!(x.cover_at_k_star.unwrap() >= 230_000.0);
    assert_eq!(x.groups_to_exhaust, Some(2));
    assert_eq!(r.most_severe(), Some((0, k_star)));
}

/// A scenario whose losses never reach the resources within the search
/// (a rally for a book that gains in it) has no multiplier and no count of
/// groups; the search then runs to [`K_CAP`].
#[test]
fn a_scenario_that_never_exhausts_the_resources_says_so() {
    let mut s = common::real_asset_book(1_000);
    s.config.default_fund.skin_in_the_game = 1e6;
    s.stress = vec![stress_scenario(
        "btc up eth down",
        vec![0.2, -0.1, 0.0],
        vec![0.0; 3],
    )];
    let x = &reverse(&s).scenarios[0];
    assert_eq!(x.cover_n, 0.0);
    assert_eq!(x.k_searched, 0.999 * 10.0, "ETH's -10% reaches zero at 10x");
    assert_eq!((x.k_star, x.groups_to_exhaust), (None, None));
    let mut up = s.clone();
    up.stress = vec![stress_scenario("all up", vec![0.2, 0.1, 0.0], vec![0.0; 3])];
    assert_eq!(reverse(&up).scenarios[0].k_searched, K_CAP);
}

/// On a book of options (not linear in k) the bisection's multiplier
/// brackets the crossing: Cover-n at k* reaches the resources, and just
/// below k* (by twice the tolerance) it does not. (No collateral, so that
/// every loss is uncovered.)
#[test]
fn on_an_option_book_the_bisection_brackets_the_crossing() {
    let mut s = common::mixed_book();
    s.collateral.clear();
    let n = s.market.assets.len();
    s.stress = vec![
        stress_scenario("crash, vol up", vec![-0.3, -0.35, 0.0], vec![0.8; n]),
        stress_scenario("rally, vol down", vec![0.25, 0.3, 0.0], vec![-0.3; n]),
    ];
    let p = common::prepare(&s, Some(2));
    let margins = engine::run(&p.backend, &s, RunLimits::default(), &|_| {}).unwrap();
    let collateral: Vec<f64> = margins
        .margin
        .members
        .iter()
        .map(|m| m.collateral)
        .collect();
    let groups = &margins.stress.groups;
    let block = stress_block(&s.stress, n);
    let cover_at_one = margins.default_fund.per_scenario[0].cover_n;
    assert!(cover_at_one > 0.0);
    let input = ReverseStressInput {
        stress: &block,
        collateral: &collateral,
        group_of: &groups.of,
        groups: groups.names.len(),
        cover: 2,
        resources: 0.6 * cover_at_one,
    };
    let revalue = |b: &clearstress::scenario::ScenarioBlock, _: &[(usize, f64)]| {
        p.backend.revalue(&p.plan, b)
    };
    let r = reverse_stress(&input, revalue).unwrap();
    let x = &r.scenarios[0];
    assert_eq!(x.cover_n, cover_at_one);
    let k_star = x.k_star.unwrap();
    assert!(k_star > 0.0 && k_star < 1.0, "{k_star}");
    // Cover-n of scenario 0 scaled by k, revalued afresh.
    let cover = |k: f64| {
        let mut one = stress_block(&s.stress[..1], n);
        one.returns.iter_mut().for_each(|r| *r *= k);
        one.vol_factors
            .iter_mut()
            .for_each(|v| *v = 1.0 + k * (*v - 1.0));
        let losses = p.backend.revalue(&p.plan, &one).unwrap();
        let uncovered = clearstress::default_fund::group_uncovered(
            &losses,
            0,
            &collateral,
            &groups.of,
            groups.names.len(),
        );
        let ranked = clearstress::default_fund::ranked(&uncovered);
        ranked.iter().take(2).map(|g| g.1).sum::<f64>()
    };
    assert_eq!(cover(k_star), x.cover_at_k_star.unwrap());
    assert!(cover(k_star) >= input.resources);
    assert!(cover(k_star * (1.0 - 2.0 * TOLERANCE)) < input.resources);
    assert!(
        r.revaluations > 2 * 65,
        "the grid of both scenarios and the bisection"
    );
}
