//! The compiled book revalues exactly what a contract-by-contract revaluation
//! gives, for every kind of contract and for collateral.

mod common;

use clearstress::backend::{Backend, LossBlock};
use clearstress::book::{CompiledBook, OptionSeries};
use clearstress::pricing::{position_pnl, Horizon, Move};
use clearstress::scenario::ScenarioBlock;
use clearstress::snapshot::{CollateralAsset, InstrumentKind, Snapshot};

/// Member m's loss by revaluing each position and collateral holding directly.
fn direct_loss(s: &Snapshot, m: usize, returns: &[f64], vol_factors: &[f64]) -> f64 {
    let horizon_days = s.config.risk.margin_period_days;
    let mut pnl = 0.0;
    for p in s.positions.iter().filter(|p| p.member == m) {
        let inst = &s.instruments[p.instrument];
        let (days_to_expiry, vol) = match inst.kind {
            InstrumentKind::Perpetual => (0.0, 0.0),
            InstrumentKind::Future { expiry } => {
                (f64::from(s.valuation_date.days_until(expiry)), 0.0)
            }
            InstrumentKind::Option { expiry, strike, .. } => (
                f64::from(s.valuation_date.days_until(expiry)),
                s.market
                    .vol_surface
                    .vol(inst.underlying, strike, expiry, s.valuation_date)
                    .unwrap(),
            ),
        };
        pnl += position_pnl(
            inst,
            p.quantity,
            &s.market,
            Horizon {
                days_to_expiry,
                days: horizon_days,
            },
            Move::of(inst, |a| 1.0 + returns[a], vol_factors),
            vol,
        );
    }
    for c in s.collateral.iter().filter(|c| c.member == m) {
        if let CollateralAsset::Asset(a) = c.asset {
            let haircut = s.config.collateral.haircuts[&s.market.assets[a].id];
            pnl += c.amount * s.market.assets[a].spot * (1.0 - haircut) * returns[a];
        }
    }
    -pnl
}

/// The mixed book, compiled, its first `scenarios` Monte Carlo scenarios and
/// every member's loss in them.
fn mixed_book_losses(scenarios: u64) -> (Snapshot, CompiledBook, ScenarioBlock, LossBlock) {
    let s = common::mixed_book();
    let common::Prepared {
        book,
        model: _,
        backend,
        plan,
    } = common::prepare(&s, Some(2));
    let block = backend.scenarios(&plan, 0..scenarios).unwrap();
    let losses = backend.revalue(&plan, &block).unwrap();
    (s, book, block, losses)
}

#[test]
fn compiled_losses_equal_contract_by_contract_revaluation() {
    let (s, book, block, losses) = mixed_book_losses(300);
    let mut largest = 0.0f64;
    for sc in 0..block.len() {
        for m in 0..book.members {
            let direct = direct_loss(&s, m, block.returns_of(sc), block.vol_factors_of(sc));
            let compiled = losses.loss(m, sc);
            largest = largest.max(direct.abs());
            assert!(
                (compiled - direct).abs() <= 1e-9 * direct.abs().max(1.0),
                "member {m} scenario {sc}: compiled {compiled} direct {direct}"
            );
        }
    }
    assert!(
        largest > 1e4,
        "the book must actually move: largest loss {largest}"
    );
}

/// What the waterfall splits a member's loss into (methodology 9.4): its
/// positions' own P&L, which auto-deleveraging ranks, and the fall of its
/// collateral revalued after haircuts. They add back up to the compiled loss:
/// `L = -sum_p pnl_p + C - C_s`.
#[test]
fn positions_and_revalued_collateral_add_up_to_the_compiled_loss() {
    let (s, book, block, losses) = mixed_book_losses(100);
    for sc in 0..block.len() {
        let (returns, vol_factors) = (block.returns_of(sc), block.vol_factors_of(sc));
        let revalued = clearstress::book::collateral::revalued(&s, returns).unwrap();
        let mut pnl = vec![0.0; book.members];
        for p in &s.positions {
            pnl[p.member] += clearstress::book::position_pnl(&s, p, returns, vol_factors).unwrap();
        }
        for m in 0..book.members {
            let split = -pnl[m] + book.collateral_value[m] - revalued[m];
            let compiled = losses.loss(m, sc);
            assert!(
                (compiled - split).abs() <= 1e-9 * compiled.abs().max(1.0),
                "member {m} scenario {sc}: compiled {compiled}, positions and collateral {split}"
            );
        }
    }
}

#[test]
fn extreme_moves_including_a_total_loss_revalue_exactly() {
    let s = common::mixed_book();
    let common::Prepared {
        book: _,
        model: _,
        backend,
        plan,
    } = common::prepare(&s, Some(1));
    let moves = [(-0.99, 3.0), (-0.5, 2.0), (0.0, 0.3), (1.5, 0.5)];
    let mut block = ScenarioBlock::with_capacity(0, moves.len(), 3);
    for (i, &(r, v)) in moves.iter().enumerate() {
        block.returns[i * 3..i * 3 + 3].copy_from_slice(&[r, r * 0.8, -0.1 * r]);
        block.vol_factors[i * 3..i * 3 + 3].copy_from_slice(&[v, v, 1.0]);
    }
    let losses = backend.revalue(&plan, &block).unwrap();
    for i in 0..moves.len() {
        for m in 0..3 {
            let direct = direct_loss(&s, m, block.returns_of(i), block.vol_factors_of(i));
            assert!((losses.loss(m, i) - direct).abs() <= 1e-9 * direct.abs().max(1.0));
        }
    }
}

/// A long call and a short put of one strike and expiry is a forward: its value
/// cannot depend on implied vol, whatever the vol shock (put-call parity).
#[test]
fn a_synthetic_forward_is_immune_to_vol_shocks() {
    use clearstress::snapshot::{OptionRight, Settlement};
    let mut s = common::market_snapshot(
        vec![common::asset("BTC", 97_600.0, 0.5)],
        vec![1.0],
        vec![common::member("A", "A")],
    );
    let e = common::date("2025-05-20");
    for (id, right, q) in [
        ("C", OptionRight::Call, 10.0),
        ("P", OptionRight::Put, -10.0),
    ] {
        let i = common::add_instrument(
            &mut s,
            id,
            0,
            Settlement::Linear,
            1.0,
            InstrumentKind::Option {
                expiry: e,
                strike: 90_000.0,
                right,
            },
        );
        common::hold(&mut s, 0, i, q);
    }
    let common::Prepared {
        book: _,
        model: _,
        backend,
        plan,
    } = common::prepare(&s, Some(1));
    let mut block = ScenarioBlock::with_capacity(0, 3, 1);
    block.returns.copy_from_slice(&[-0.2, -0.2, -0.2]);
    block.vol_factors.copy_from_slice(&[0.5, 1.0, 2.5]);
    let l = backend.revalue(&plan, &block).unwrap();
    let (a, b, c) = (l.loss(0, 0), l.loss(0, 1), l.loss(0, 2));
    assert!((a - b).abs() < 1e-6 && (b - c).abs() < 1e-6, "{a} {b} {c}");
    // And it is the forward's loss: 10 x (D1 (F1 - K) - D0 (F0 - K)).
    let r = 0.04f64;
    let (t0, t1) = (89.0 / 365.0, 87.0 / 365.0);
    let (f0, f1) = (97_600.0, 97_600.0 * 0.8);
    let expected = -10.0 * ((-r * t1).exp() * (f1 - 90_000.0) - (-r * t0).exp() * (f0 - 90_000.0));
    assert!(
        (b - expected).abs() < 1e-6 * expected.abs(),
        "{b} vs {expected}"
    );
}

/// The 1,300-series listing (strikes from 0.5 to 2 times spot, four
/// expiries) the option tests below revalue, compiled.
fn listing_1300(name: &str) -> CompiledBook {
    use clearstress::sample::{self, OptionListing, SampleSpec};
    let spec = SampleSpec {
        members: 20,
        assets: 4,
        options: 3000,
        listing: OptionListing::Series(1300),
        seed: 5,
    };
    let s = sample::generate(&spec).unwrap().load(name).unwrap();
    CompiledBook::compile(&s).unwrap()
}

/// Series `j`'s P&L per unit from Black-76 priced directly for it, when its
/// underlying moves to `r` times its price and its vol by `v`, and the scale
/// its error is judged by: forward + strike.
fn priced_directly(o: &OptionSeries, j: usize, r: f64, v: f64) -> (f64, f64) {
    use clearstress::pricing::black76;
    use clearstress::snapshot::Settlement;
    let (g, strikes) = (o.group[j], &o.groups);
    let forward = o.forward1(j, r - 1.0);
    let direct = black76(
        o.right[j],
        forward,
        strikes.strike[g],
        strikes.vol[g] * v,
        strikes.root_tau1[g].powi(2),
        strikes.discount1[g],
    );
    let pnl = match o.settlement[j] {
        Settlement::Inverse => direct - o.value0[j] * r,
        Settlement::Linear => direct - o.value0[j],
    };
    (pnl, forward + strikes.strike[g])
}

/// Moves of the underlying from 0.1% to 50 times its price, and vol factors
/// from 0 (the discounted intrinsic value) to 5.
fn option_input_range() -> (Vec<f64>, Vec<f64>) {
    let relatives = (0..=400)
        .map(|i| 10f64.powf(-3.0 + 4.7 * f64::from(i) / 400.0))
        .chain([1.0, 0.999_999_9, 1.000_000_1])
        .collect();
    let vol_factors = [0.0, 1e-13, 1e-6]
        .into_iter()
        .chain((1..=25).map(|i| 0.2 * f64::from(i)))
        .collect();
    (relatives, vol_factors)
}

/// Every option series' P&L as the compiled book revalues it (one Black-76
/// per underlying, expiry and strike on its out-of-the-money side, parity for
/// the other right, fdlibm `ln` of R added to the series' log-moneyness)
/// agrees with Black-76 priced directly for the series to within 1e-12 of
/// forward + strike (methodology, "Option revaluation"), over the whole input
/// range ([`option_input_range`]) of a Deribit-sized listing.
#[test]
fn option_pnls_agree_with_black76_priced_directly_over_the_whole_input_range() {
    let book = listing_1300("range");
    let o = &book.options;
    assert!(o.len() > 1000, "{} series", o.len());
    // A strike's call, put, coin- and USDC-settled series share one evaluation.
    assert!(o.groups.len() < o.len() / 2, "{} groups", o.groups.len());
    for (g, series) in o.groups.series.iter().enumerate() {
        for &j in series {
            assert_eq!(o.group[j], g, "series {j}");
        }
    }
    let (relatives, vol_factors) = option_input_range();
    let mut worst: f64 = 0.0;
    for j in 0..o.len() {
        for &r in &relatives {
            for &v in &vol_factors {
                let pnl = o.pnl(j, r - 1.0, v);
                let (expected, scale) = priced_directly(o, j, r, v);
                let error = (pnl - expected).abs() / scale;
                assert!(
                    error <= 1e-12,
                    "series {j} ({:?}, K {}), R {r}, vol factor {v}: {pnl} against {expected}",
                    o.right[j],
                    o.strike(j)
                );
                worst = worst.max(error);
            }
        }
    }
    eprintln!("largest difference: {worst:.2e} of forward + strike");
}

/// Every option series' P&L as the CPU backend adds it, its strike group's
/// column plus the linear term put-call parity leaves (`alpha R + beta`, the
/// book folded through parity), agrees with Black-76 priced directly for the
/// series to within 1e-12 of forward + strike (methodology, "Option
/// revaluation") over the same range; and members' losses through the fold
/// are their losses series by series, to 1e-12 of their holdings' forward +
/// strike.
#[test]
fn option_pnls_through_parity_agree_with_black76_priced_directly() {
    let book = listing_1300("parity");
    let o = &book.options;
    let calls = (0..o.groups.len()).filter(|&g| o.groups.column_is_call(g));
    assert!(calls.count() * 4 > o.groups.len(), "both rights as columns");
    let (relatives, vol_factors) = option_input_range();
    let mut worst: f64 = 0.0;
    for j in 0..o.len() {
        let (alpha, beta) = o.parity_terms(j);
        for &r in &relatives {
            for &v in &vol_factors {
                // As the losses add it: alpha to the return's weight, alpha
                // + beta to the constant.
                let column = o.column(o.group[j], r - 1.0, v);
                let pnl = column + alpha * (r - 1.0) + (alpha + beta);
                let (expected, scale) = priced_directly(o, j, r, v);
                let error = (pnl - expected).abs() / scale;
                assert!(
                    error <= 1e-12,
                    "series {j} ({:?}, K {}), R {r}, vol factor {v}: {pnl} against {expected}",
                    o.right[j],
                    o.strike(j)
                );
                worst = worst.max(error);
            }
        }
    }
    eprintln!("largest difference through parity: {worst:.2e} of forward + strike");
    let fold = book.parity_fold();
    let (returns, vol_factors) = ([-0.07, 0.12, 0.3, -0.25], [1.3, 0.8, 2.0, 1.0]);
    let members = book.members;
    for m in 0..members {
        let (mut series, mut folded) = (book.constant[m], fold.constant[m]);
        for (a, &r) in returns.iter().enumerate() {
            series += book.weights[a * members + m] * r;
            folded += fold.weights[a * members + m] * r;
        }
        let mut scale = 0.0;
        for (j, w) in book.member_options.of(m) {
            let a = o.underlying(j);
            series += w * o.pnl(j, returns[a], vol_factors[a]);
            scale += w.abs() * (o.forward1(j, returns[a]) + o.strike(j));
        }
        for (g, w) in fold.holdings.of(m) {
            let a = o.groups.underlying[g];
            folded += w * o.column(g, returns[a], vol_factors[a]);
        }
        assert!(
            (folded - series).abs() <= 1e-12 * scale.max(1.0),
            "member {m}: {folded} through parity, {series} series by series"
        );
    }
}
