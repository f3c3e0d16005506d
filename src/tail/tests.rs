//! Tests of [`MemberTail`] and the tail measures: exact VaR and ES whatever
//! the windows, the arrival order or the split of the scenario range.

use super::*;

fn losses(n: usize) -> Vec<f64> {
    // A deterministic scramble with ties.
    (0..n).map(|i| ((i * 7919) % 1009) as f64 - 300.0).collect()
}

fn pushed(mut tail: MemberTail, xs: &[f64]) -> MemberTail {
    tail.push_slice(xs, 0);
    tail
}

#[test]
fn tail_count_is_exact_for_decimal_confidences() {
    assert_eq!(tail_count(1_000_000, 0.99), 10_000);
    assert_eq!(tail_count(1_000_000, 0.995), 5_000);
    assert_eq!(tail_count(10, 0.9), 1);
    assert_eq!(tail_count(999, 0.99), 9);
    assert_eq!(tail_count(100, 0.975), 2);
}

#[test]
fn var_and_es_follow_the_acerbi_tasche_definition() {
    // 1000 losses 1..=1000 (shuffled): at 99%, t = 10: VaR = 11th largest = 990,
    // ES = mean of the top 10 = 995.5; at 99.55%, t = 4.5:
    // ES = (1000 + 999 + 998 + 997 + 0.5 * 996) / 4.5.
    let xs: Vec<f64> = (0..1000).map(|i| ((i * 389) % 1000 + 1) as f64).collect();
    let mut tail = pushed(MemberTail::exact(var_rank(1000, 0.99) as usize), &xs);
    let m = tail.measures(1000, &[0.99, 0.9955]).unwrap();
    assert_eq!((m[0].var, m[0].es), (990.0, 995.5));
    assert_eq!(xs[m[0].var_scenario as usize], 990.0);
    assert_eq!(m[1].var, 996.0);
    assert_eq!(
        m[1].es,
        (1000.0 + 999.0 + 998.0 + 997.0 + 0.5 * 996.0) / 4.5
    );
}

#[test]
fn es_standard_error_uses_the_moments_of_the_tail() {
    // Top 11 losses at 99% of 1..=1000: 990..=1000, mean 995, variance 10.
    let xs: Vec<f64> = (1..=1000).map(f64::from).collect();
    let mut tail = pushed(MemberTail::exact(11), &xs);
    let m = tail.measures(1000, &[0.99]).unwrap()[0];
    let expected = ((10.0 + 0.99 * (995.5f64 - 990.0).powi(2)) / 10.0).sqrt();
    assert!(
        (m.es_std_error - expected).abs() < 1e-12,
        "{}",
        m.es_std_error
    );
}

/// A device backend filters losses against `floor()` where it computes
/// them; the tail must come out as if every loss had been pushed.
#[test]
fn pushing_only_losses_at_or_above_the_rising_floor_gives_the_full_tail() {
    let xs = losses(20_000);
    let mut full = pushed(MemberTail::exact(150), &xs);
    let mut filtered = MemberTail::exact(150);
    assert_eq!(filtered.floor(), f64::NEG_INFINITY);
    for (c, chunk) in xs.chunks(1_000).enumerate() {
        let floor = filtered.floor();
        let first = (c * 1_000) as u64;
        let candidates: Vec<(u64, f64)> = (first..)
            .zip(chunk.iter().copied())
            .filter(|&(_, x)| x >= floor)
            .collect();
        filtered.push_candidates(chunk.len() as u64, candidates);
    }
    // The top-150 floor rose to the 150th best loss or near it.
    assert!(filtered.floor() > 600.0, "{}", filtered.floor());
    assert_eq!(filtered.count(), full.count());
    assert_eq!(filtered.sorted(), full.sorted());
    assert_eq!(
        filtered.measures(20_000, &[0.993]),
        full.measures(20_000, &[0.993])
    );
}

/// Windows around the ranks with gaps between them give what one exact window gives.
#[test]
fn narrow_windows_give_the_exact_window_result() {
    let xs = losses(20_000);
    let alphas = [0.99, 0.995];
    let exact = pushed(MemberTail::exact(201), &xs)
        .measures(20_000, &alphas)
        .unwrap();
    let mut sorted = xs.clone();
    sorted.sort_by(|a, b| b.total_cmp(a));
    // Rank 201 and rank 101 losses; windows a little around each.
    let window = |lo: f64, hi: f64| Window::keeping(lo, hi, 201, 0);
    let mut tail = pushed(
        MemberTail::new(vec![
            window(sorted[100 + 30], sorted[100 - 40]),
            window(sorted[200 + 25], sorted[200 - 50]),
        ]),
        &xs,
    );
    assert_eq!(tail.measures(20_000, &alphas).unwrap(), exact);
}

/// A window counted in bins, then narrowed pass after pass to the bin that
/// holds each rank, ends with the exact statistics.
#[test]
fn counting_windows_narrow_to_the_exact_result() {
    let xs: Vec<f64> = (0..20_000)
        .map(|i| ((i * 7919) % 20_011) as f64 * 0.37)
        .collect();
    let alphas = [0.99, 0.995];
    let ranks = [var_rank(20_000, 0.995), var_rank(20_000, 0.99)];
    let exact = pushed(MemberTail::exact(201), &xs)
        .measures(20_000, &alphas)
        .unwrap();
    let mut sorted = xs.clone();
    sorted.sort_by(|a, b| b.total_cmp(a));
    let mut tail = pushed(
        MemberTail::new(vec![Window::counting(sorted[2000], sorted[20], 4)]),
        &xs,
    );
    let mut passes = 1;
    while tail.is_counting() {
        tail = pushed(tail.narrowed(&ranks, 201, 10, 4), &xs);
        passes += 1;
    }
    assert!(passes >= 3, "{passes}");
    assert!(tail.heap_bytes() <= 2 * 11 * 16, "{}", tail.heap_bytes());
    assert_eq!(tail.measures(20_000, &alphas).unwrap(), exact);
}

#[test]
fn a_rank_outside_every_window_is_reported_unresolved() {
    let xs = losses(20_000);
    let mut sorted = xs.clone();
    sorted.sort_by(|a, b| b.total_cmp(a));
    // A window entirely above rank 201: the rank lands below it.
    let mut tail = pushed(
        MemberTail::new(vec![Window::keeping(sorted[150], sorted[100], 201, 0)]),
        &xs,
    );
    assert!(tail.measures(20_000, &[0.99]).is_none());
    // A window entirely below it: the rank lands in the gap above.
    let mut tail = pushed(
        MemberTail::new(vec![Window::keeping(sorted[400], sorted[300], 201, 0)]),
        &xs,
    );
    assert!(tail.measures(20_000, &[0.99]).is_none());
}

#[test]
fn split_streams_merge_to_the_one_shot_tail() {
    let xs = losses(20_000);
    let make = || MemberTail::new(vec![Window::keeping(600.0, 700.0, 201, 0)]);
    let mut whole = pushed(make(), &xs);
    for split in [1, 777, 10_000, 19_999] {
        let mut a = make();
        a.push_slice(&xs[..split], 0);
        let mut b = make();
        b.push_slice(&xs[split..], split as u64);
        b.merge(&a);
        assert_eq!(b.measures(20_000, &[0.99]), whole.measures(20_000, &[0.99]));
        assert_eq!(b.count(), 20_000);
    }
}

#[test]
fn out_of_range_losses_are_counted_not_ranked_and_the_first_is_kept() {
    let losses = [1.0, f64::NAN, 3.0, f64::INFINITY, 2.0, 1e30];
    let mut tail = MemberTail::exact(2);
    tail.push_slice(&losses, 0);
    let out = tail.out_of_range().unwrap();
    assert_eq!((out.count, out.first_scenario), (3, 1));
    assert!(out.first_loss.is_nan());
    assert_eq!(tail.sorted(), vec![(3.0, 2), (2.0, 4)]);
    // The first is the lowest scenario whatever order the parts merge in.
    let (mut late, mut early) = (MemberTail::exact(2), MemberTail::exact(2));
    late.push_slice(&losses[3..], 3);
    early.push_slice(&losses[..3], 0);
    late.merge(&early);
    assert_eq!(
        late.out_of_range().map(|o| (o.count, o.first_scenario)),
        Some((3, 1))
    );
}

#[test]
fn losses_summed_in_the_gaps_leave_the_tail_as_if_pushed_one_by_one() {
    let xs = losses(20_000);
    // Windows around ranks 1,500 and 5,000 as a pilot would place them.
    let windows = || {
        MemberTail::new(vec![
            Window::keeping(600.0, 650.0, 2_000, 0),
            Window::keeping(420.0, 450.0, 2_000, 0),
        ])
    };
    let mut one_by_one = pushed(windows(), &xs);
    let mut split = windows();
    assert_eq!(split.gap_bounds(0), Some((650.0, f64::INFINITY)));
    assert_eq!(split.gap_bounds(1), Some((450.0, 600.0)));
    assert_eq!(split.gap_bounds(2), None);
    let mut gaps = [Moments::default(), Moments::default()];
    let mut rest = Vec::new();
    for (s, &x) in xs.iter().enumerate() {
        match (0..2).find(|&g| {
            let (above, below) = split.gap_bounds(g).unwrap();
            x > above && x < below
        }) {
            Some(g) => gaps[g].add(x),
            None => rest.push((s as u64, x)),
        }
    }
    split.push_candidates(xs.len() as u64, rest);
    for (g, moments) in gaps.iter().enumerate() {
        split.push_gap(g, moments);
    }
    assert!(gaps.iter().all(|g| g.count > 1000), "a weak test");
    assert_eq!(split, one_by_one);
    let alphas = [0.93, 0.73];
    assert!(one_by_one.measures(20_000, &alphas).is_some());
    assert_eq!(
        split.measures(20_000, &alphas),
        one_by_one.measures(20_000, &alphas)
    );
    // An exact tail's one gap lies above +inf: nothing is ever summed in it.
    assert_eq!(
        MemberTail::exact(10).gap_bounds(0),
        Some((f64::INFINITY, f64::INFINITY))
    );
}

/// How many losses a tail must admit before its floor rises above -inf: an
/// exact window sets one when its buffer of k + k/4 + 16 first compacts; a
/// window with a lower end has one from the start; a tail keeping nothing
/// admits nothing.
#[test]
fn until_floor_counts_the_admissions_that_set_a_floor() {
    let k = 40;
    let buffer = TopK::capacity(k) as u64;
    let xs = losses(200);
    for (tail, pushed_n, expected) in [
        (MemberTail::exact(k), 0, buffer),
        (MemberTail::exact(k), 10, buffer - 10),
        (MemberTail::exact(k), buffer as usize - 1, 1),
        (MemberTail::exact(k), buffer as usize, 0),
        (MemberTail::exact(k), 200, 0),
        (
            MemberTail::new(vec![Window::keeping(-5.0, 50.0, k, 0)]),
            0,
            0,
        ),
        (MemberTail::ignore(), 0, 0),
    ] {
        let tail = pushed(tail, &xs[..pushed_n]);
        assert_eq!(tail.until_floor(), expected, "{pushed_n} pushed");
        assert_eq!(tail.floor() > f64::NEG_INFINITY, expected == 0);
    }
}
