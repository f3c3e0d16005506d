//! The clearing day (`clearstress settle`, docs/methodology.md section 17):
//! variation margin and netting on a hand-worked three-member book, the
//! marks against the engine's revaluation, funding against a period-by-period
//! sum, the zero-sum invariant on every generated book, and what bad prices
//! are refused with.

mod common;

use std::fs;
use std::path::Path;

use clearstress::book::implied_vol;
use clearstress::pricing::{self, Horizon, Move};
use clearstress::sample::{self, SampleSpec};
use clearstress::settlement::{
    self, read_end_of_day, settle, DaySettlement, Direction, EndOfDay, SettlementAsset,
};
use clearstress::snapshot::{self, InstrumentKind, Settlement, Snapshot};
use common::{add_instrument, asset, date, hold, market_snapshot, member, mixed_book};

/// `book`'s market with each asset's spot multiplied by `factor(asset)`,
/// dated `days` after the book.
fn moved(book: &Snapshot, days: i32, factor: impl Fn(usize) -> f64) -> EndOfDay {
    let mut market = book.market.clone();
    for (a, asset) in market.assets.iter_mut().enumerate() {
        asset.spot *= factor(a);
    }
    EndOfDay {
        date: book.valuation_date.add_days(days),
        repriced: vec![true; market.assets.len()],
        market,
        source: "test".into(),
    }
}

fn close(a: f64, b: f64, tolerance: f64) -> bool {
    (a - b).abs() <= tolerance * b.abs().max(1.0)
}

/// Three members, BTC from 100,000 to 102,000 USD over one day (3 funding
/// periods at 0.0001 per 8 hours, basis 0): a linear perpetual (0.5 BTC a
/// contract), a linear future (1 BTC) and an inverse perpetual (100 USD face).
fn three_member_book() -> Snapshot {
    let mut btc = asset("BTC", 100_000.0, 0.5);
    btc.funding_rate_8h = 0.0001;
    let members = vec![member("A", "A"), member("B", "B"), member("C", "C")];
    let mut s = market_snapshot(vec![btc], vec![1.0], members);
    let perp = add_instrument(
        &mut s,
        "BTC-PERP",
        0,
        Settlement::Linear,
        0.5,
        InstrumentKind::Perpetual,
    );
    let future = add_instrument(
        &mut s,
        "BTC-FUT",
        0,
        Settlement::Linear,
        1.0,
        InstrumentKind::Future {
            expiry: date("2025-03-28"),
        },
    );
    let inverse = add_instrument(
        &mut s,
        "BTC-INV-PERP",
        0,
        Settlement::Inverse,
        100.0,
        InstrumentKind::Perpetual,
    );
    hold(&mut s, 0, perp, 10.0);
    hold(&mut s, 0, future, -3.0);
    hold(&mut s, 0, inverse, -2000.0);
    hold(&mut s, 1, perp, -4.0);
    hold(&mut s, 1, inverse, 2000.0);
    hold(&mut s, 2, perp, -6.0);
    hold(&mut s, 2, future, 3.0);
    s
}

#[test]
fn a_hand_worked_three_member_day() {
    let book = three_member_book();
    let end = moved(&book, 1, |_| 1.02);
    let day = settle(&book, &end).unwrap();
    assert_eq!((day.days, day.funding_periods), (1, 3.0));

    // Linear perpetual, per contract: price change 0.5 x (102,000 - 100,000)
    // = 1,000 USD; funding paid by a long 0.5 x 100,000 x 0.0001 x 3 = 15 USD.
    //   A +10: 10,000 - 150 = 9,850;  B -4: -4,000 + 60 = -3,940;
    //   C -6: -6,000 + 90 = -5,910.
    // Linear future (basis 0, so F = S), per contract 1 x 2,000 = 2,000 USD:
    //   A -3: -6,000;  C +3: +6,000.
    // Inverse perpetual, per contract in BTC: 100 (1/100,000 - 1/102,000)
    // = 1.96078431372549e-5 BTC; funding paid by a long 100 x 0.0001 x 3 /
    // 100,000 = 3e-7 BTC.
    //   A -2000: -0.0392156862745098 + 0.0006 = -0.0386156862745098 BTC;
    //   B +2000: +0.0386156862745098 BTC.
    let vm: Vec<f64> = day.positions.iter().map(|p| p.vm).collect();
    let expected = [
        9_850.0,
        -6_000.0,
        -0.038_615_686_274_509_8,
        -3_940.0,
        0.038_615_686_274_509_8,
        -5_910.0,
        6_000.0,
    ];
    for (i, (got, want)) in vm.iter().zip(expected).enumerate() {
        assert!(
            close(*got, want, 1e-12),
            "position {i}: vm {got}, expected {want}"
        );
    }
    let funding: Vec<f64> = day.positions.iter().map(|p| p.funding).collect();
    for (got, want) in funding
        .iter()
        .zip([-150.0, 0.0, 6e-4, 60.0, -6e-4, 90.0, 0.0])
    {
        assert!(close(*got, want, 1e-12), "funding {got}, expected {want}");
    }

    // Nets. USD: A 9,850 - 6,000 = 3,850 (gross 15,850); B -3,940 (gross
    // 3,940); C -5,910 + 6,000 = 90 (gross 11,910). BTC: A -0.03861568...,
    // B +0.03861568... (gross = |net|).
    let usd = SettlementAsset::Usd;
    let btc = SettlementAsset::Coin(0);
    let nets: Vec<(usize, SettlementAsset, f64, f64)> = day
        .nets
        .iter()
        .map(|n| (n.member, n.asset, n.gross, n.net))
        .collect();
    let v = 0.038_615_686_274_509_8;
    let want = [
        (0, usd, 15_850.0, 3_850.0),
        (0, btc, v, -v),
        (1, usd, 3_940.0, -3_940.0),
        (1, btc, v, v),
        (2, usd, 11_910.0, 90.0),
    ];
    assert_eq!(nets.len(), want.len());
    for (got, want) in nets.iter().zip(want) {
        assert_eq!((got.0, got.1), (want.0, want.1));
        assert!(
            close(got.2, want.2, 1e-12) && close(got.3, want.3, 1e-12),
            "{got:?} vs {want:?}"
        );
    }

    // Gross against net. USD: gross 15,850 + 3,940 + 11,910 = 31,700, net
    // 3,850 + 3,940 + 90 = 7,880, efficiency 1 - 7,880 / 31,700. BTC: gross =
    // net = 2v, efficiency 0. In USD at 102,000: 2v x 102,000 = 7,877.6, so
    // gross 39,577.6, net 15,757.6.
    let (a0, usd_netting) = &day.by_asset[0];
    assert_eq!(*a0, usd);
    assert!(close(usd_netting.gross, 31_700.0, 1e-12) && close(usd_netting.net, 7_880.0, 1e-12));
    assert!(close(
        usd_netting.efficiency.unwrap(),
        1.0 - 7_880.0 / 31_700.0,
        1e-12
    ));
    let (_, btc_netting) = &day.by_asset[1];
    assert!(
        close(btc_netting.gross, 2.0 * v, 1e-12) && btc_netting.efficiency.unwrap().abs() < 1e-12
    );
    assert!(
        close(day.total_usd.gross, 39_577.6, 1e-12),
        "{}",
        day.total_usd.gross
    );
    assert!(
        close(day.total_usd.net, 15_757.6, 1e-12),
        "{}",
        day.total_usd.net
    );
    assert!(close(
        day.total_usd.efficiency.unwrap(),
        1.0 - 15_757.6 / 39_577.6,
        1e-12
    ));
    assert!(day.total_usd.imbalance.abs() < 1e-9);

    // Payments, the CCP on the other side of each: A receives 3,850 USD and
    // pays v BTC (3,938.8 USD); B pays 3,940 USD and receives v BTC; C
    // receives 90 USD.
    let payments: Vec<(usize, SettlementAsset, Direction, f64, f64)> = day
        .payments
        .iter()
        .map(|p| (p.member, p.asset, p.direction, p.amount, p.amount_usd))
        .collect();
    let want = [
        (0, usd, Direction::MemberReceives, 3_850.0, 3_850.0),
        (0, btc, Direction::MemberPays, v, 3_938.8),
        (1, usd, Direction::MemberPays, 3_940.0, 3_940.0),
        (1, btc, Direction::MemberReceives, v, 3_938.8),
        (2, usd, Direction::MemberReceives, 90.0, 90.0),
    ];
    assert_eq!(payments.len(), want.len());
    for (got, want) in payments.iter().zip(want) {
        assert_eq!((got.0, got.1, got.2), (want.0, want.1, want.2));
        assert!(
            close(got.3, want.3, 1e-12) && close(got.4, want.4, 1e-12),
            "{got:?} vs {want:?}"
        );
    }
}

/// A USDT-margined perpetual and a USD one on BTC, worked by hand: BTC from
/// 100,000 to 110,000 USD over one day (3 funding periods at 0.0001), USDT
/// from 1 to 0.98 USD (a depeg). The USDT contract is quoted in USDT
/// (S / U), so it pays more USDT than the USD one pays dollars, in coins
/// worth less: its USD value is q m S0 (R - R_U) - q m S0 f n R_U.
#[test]
fn a_stablecoin_margined_contract_settles_in_its_stablecoin() {
    let mut btc = asset("BTC", 100_000.0, 0.5);
    btc.funding_rate_8h = 0.0001;
    let usdt = asset("USDT", 1.0, 0.01);
    let members = vec![member("A", "A"), member("B", "B")];
    let mut book = market_snapshot(vec![btc, usdt], vec![1.0, 0.0, 0.0, 1.0], members);
    let perp = InstrumentKind::Perpetual;
    let usdt_perp = add_instrument(&mut book, "BTC-USDT", 0, Settlement::Linear, 1.0, perp);
    book.instruments[usdt_perp].stablecoin = Some(1);
    let usd_perp = add_instrument(&mut book, "BTC-USD", 0, Settlement::Linear, 1.0, perp);
    hold(&mut book, 0, usdt_perp, 10.0);
    hold(&mut book, 1, usdt_perp, -10.0);
    hold(&mut book, 0, usd_perp, -10.0);
    hold(&mut book, 1, usd_perp, 10.0);
    let end = moved(&book, 1, |a| [1.1, 0.98][a]);
    let day = settle(&book, &end).unwrap();

    // BTC-USDT marks: 100,000 / 1 and 110,000 / 0.98 = 112,244.89795918367
    // USDT; funding paid by a long 100,000 x 0.0001 x 3 = 30 USDT a contract.
    // A +10: 122,448.9795918367 - 300 = 122,148.9795918367 USDT, worth
    // x 0.98 = 119,706 USD = 10 x 100,000 x (1.1 - 0.98) - 300 x 0.98.
    // BTC-USD: A -10: -100,000 + 300 = -99,700 USD.
    let usdt_vm = 10.0 * (110_000.0 / 0.98 - 100_000.0) - 300.0;
    let want = [
        (SettlementAsset::Coin(1), usdt_vm, 119_706.0),
        (SettlementAsset::Coin(1), -usdt_vm, -119_706.0),
        (SettlementAsset::Usd, -99_700.0, -99_700.0),
        (SettlementAsset::Usd, 99_700.0, 99_700.0),
    ];
    for (p, (asset, vm, vm_usd)) in day.positions.iter().zip(want) {
        assert_eq!(p.asset, asset);
        assert!(
            close(p.vm, vm, 1e-12) && close(p.vm_usd, vm_usd, 1e-12),
            "{p:?}: expected {vm} {asset:?}, {vm_usd} USD"
        );
    }
    // One payment per member and asset: nothing nets across USD and USDT.
    let payments: Vec<(usize, SettlementAsset, Direction, f64)> = day
        .payments
        .iter()
        .map(|p| (p.member, p.asset, p.direction, p.amount))
        .collect();
    let usd = SettlementAsset::Usd;
    let tether = SettlementAsset::Coin(1);
    let want = [
        (0, usd, Direction::MemberPays, 99_700.0),
        (0, tether, Direction::MemberReceives, usdt_vm),
        (1, usd, Direction::MemberReceives, 99_700.0),
        (1, tether, Direction::MemberPays, usdt_vm),
    ];
    assert_eq!(payments.len(), want.len());
    for (got, want) in payments.iter().zip(want) {
        assert_eq!((got.0, got.1, got.2), (want.0, want.1, want.2));
        assert!(close(got.3, want.3, 1e-12), "{got:?} vs {want:?}");
    }
    assert_eq!(
        day.by_asset.iter().map(|b| b.0).collect::<Vec<_>>(),
        [usd, tether]
    );
}

/// Each position's VM in USD (at the end price of its settlement asset) is
/// the engine's revaluation of it over the period ([`pricing::position_pnl`]
/// with the spot move R and no vol shock) on a book with every kind of
/// contract, two of them expiring inside the period: the marks and funding
/// are the revaluation's conventions, not new ones.
#[test]
fn variation_margin_is_the_engines_revaluation_over_the_period() {
    let book = mixed_book();
    for (days, moves) in [
        (2, [1.07, 0.93, 0.999]),
        (1, [0.8, 1.25, 1.01]),
        (0, [1.1, 1.0, 1.0]),
    ] {
        let end = moved(&book, days, |a| moves[a]);
        let day = settle(&book, &end).unwrap();
        for (p, vm) in book.positions.iter().zip(&day.positions) {
            let instrument = &book.instruments[p.instrument];
            let horizon = Horizon {
                days_to_expiry: instrument.days_to_expiry(book.valuation_date),
                days: f64::from(days),
            };
            let vol = implied_vol(&book.market, instrument, book.valuation_date).unwrap();
            let pnl = pricing::position_pnl(
                instrument,
                p.quantity,
                &book.market,
                horizon,
                Move::of(instrument, |a| moves[a], &[1.0; 3]),
                vol,
            );
            assert!(
                close(vm.vm_usd, pnl, 1e-9),
                "{} over {days} days: VM {} USD, revaluation {pnl}",
                instrument.id,
                vm.vm_usd
            );
        }
    }
}

/// Funding over a week (21 periods) against the sum of each 8-hour payment:
/// a linear perpetual pays q m S0 f per period in USD, an inverse one
/// q m f / S0 BTC, longs to shorts when f > 0 and the other way when f < 0.
#[test]
fn funding_accrues_period_by_period() {
    for rate in [0.000_37, -0.000_12] {
        let mut book = three_member_book();
        book.market.assets[0].funding_rate_8h = rate;
        let end = moved(&book, 7, |_| 0.97);
        let day = settle(&book, &end).unwrap();
        assert_eq!(day.funding_periods, 21.0);
        for (p, vm) in book.positions.iter().zip(&day.positions) {
            let instrument = &book.instruments[p.instrument];
            let (q, m, s0) = (p.quantity, instrument.contract_size, 100_000.0);
            let mut direct = 0.0;
            for _period in 0..21 {
                direct -= match (instrument.kind, instrument.settlement) {
                    (InstrumentKind::Perpetual, Settlement::Linear) => q * m * s0 * rate,
                    (InstrumentKind::Perpetual, Settlement::Inverse) => q * m * rate / s0,
                    _ => 0.0,
                };
            }
            assert!(
                close(vm.funding, direct, 1e-12),
                "{} x {q}: funding {}, period by period {direct}",
                instrument.id,
                vm.funding
            );
            assert!(close(vm.vm, vm.price_change + vm.funding, 1e-15));
        }
        // The funding of a matched book is itself zero-sum.
        let paid: f64 = day
            .positions
            .iter()
            .filter(|p| p.asset == SettlementAsset::Usd)
            .map(|p| p.funding)
            .sum();
        assert!(paid.abs() < 1e-9, "{paid}");
    }
}

fn assert_zero_sum(name: &str, book: &Snapshot, day: &DaySettlement) {
    assert!(
        snapshot::net_open_interest(book).largest().is_none(),
        "{name}: not a matched book"
    );
    assert!(day.positions.len() == book.positions.len() && !day.payments.is_empty());
    for (asset, n) in &day.by_asset {
        assert!(n.gross > 0.0, "{name} {asset:?}: nothing owed");
        assert!(
            n.imbalance.abs() <= 1e-12 * n.gross,
            "{name} {asset:?}: members' VM sums to {} against gross {}",
            n.imbalance,
            n.gross
        );
        let vm: f64 = day
            .positions
            .iter()
            .filter(|p| p.asset == *asset)
            .map(|p| p.vm)
            .sum();
        assert!(vm.abs() <= 1e-12 * n.gross, "{name} {asset:?}: {vm}");
    }
    let pays: f64 = day
        .payments
        .iter()
        .filter(|p| p.direction == Direction::MemberPays)
        .map(|p| p.amount_usd)
        .sum();
    let receives: f64 = day
        .payments
        .iter()
        .filter(|p| p.direction == Direction::MemberReceives)
        .map(|p| p.amount_usd)
        .sum();
    assert!(
        close(pays, receives, 1e-12),
        "{name}: members pay {pays}, receive {receives}"
    );
}

/// VM summed over members is zero in every settlement asset on the embedded
/// sample and on `init`'s books of several seeds and sizes, over a day, over
/// a week, and over a period in which futures and options expire.
#[test]
fn variation_margin_sums_to_zero_on_every_generated_book() {
    let mut books = vec![("sample".to_string(), sample::embedded().unwrap())];
    for (seed, members, assets) in [(1, 20, 6), (7, 64, 14), (20_250_220, 64, 14), (99, 150, 12)] {
        let spec = SampleSpec {
            members,
            assets,
            options: 300,
            listing: Default::default(),
            seed,
        };
        books.push((
            format!("init seed {seed}"),
            sample::generate(&spec).unwrap().load("init").unwrap(),
        ));
    }
    for (name, book) in &books {
        for days in [1, 7, 45] {
            let end = moved(book, days, |a| {
                1.0 + 0.08 * ((a as f64) * 1.7 + days as f64).sin()
            });
            let day = settle(book, &end).unwrap();
            assert_zero_sum(&format!("{name}, {days} days"), book, &day);
        }
    }
}

/// The margin call adds each member's VM payments to the initial-margin
/// shortfall of a margin run on the moved book.
#[test]
fn margin_calls_are_vm_paid_plus_the_initial_margin_shortfall() {
    let mut book = mixed_book();
    book.config.scenario.paths = 2_000;
    let end = moved(&book, 2, |a| [0.85, 0.9, 1.0][a]);
    let day = settle(&book, &end).unwrap();
    let backend = clearstress::backend::CpuBackend::new(Some(1)).unwrap();
    let runner = clearstress::engine::Runner {
        backend: &backend,
        limits: clearstress::engine::RunLimits::default(),
        progress: &|_| {},
    };
    let calls = settlement::margin_calls(&runner, &book, &end, &day).unwrap();
    let moved_book = settlement::moved_book(&book, &end);
    // ETH-FUT-0221 and BTC-P-60k expired on 2025-02-21, before the end.
    assert_eq!(moved_book.instruments.len(), book.instruments.len() - 2);
    assert_eq!(moved_book.positions.len(), book.positions.len() - 2);
    for c in &calls.calls {
        let pays: f64 = day
            .payments
            .iter()
            .filter(|p| p.member == c.member && p.direction == Direction::MemberPays)
            .map(|p| p.amount_usd)
            .sum();
        let shortfall = (c.initial_margin - c.collateral).max(0.0);
        assert!(close(c.call, pays + shortfall, 1e-12), "{c:?}");
        assert!(c.initial_margin >= 0.0 && c.collateral >= 0.0);
    }
    // Member A posted 40,000 USD cash and 0.3 BTC (haircut 15%) at 0.85 x 97,600.
    let a_btc = calls
        .assets
        .iter()
        .find(|h| h.member == 0 && h.asset == "BTC")
        .unwrap();
    assert!(
        close(a_btc.after_haircut, 0.3 * 0.85 * 97_600.0 * 0.85, 1e-12),
        "{a_btc:?}"
    );
    assert!(close(
        calls.calls[0].collateral,
        40_000.0 + a_btc.after_haircut,
        1e-12
    ));
    for h in &calls.assets {
        assert_eq!(
            h.covers_call,
            calls.calls[h.member].call > 0.0 && h.after_haircut >= calls.calls[h.member].call
        );
    }
}

// Bad prices: each refused naming the file, row and field.

fn write(dir: &Path, name: &str, text: &str) -> std::path::PathBuf {
    let path = dir.join(name);
    fs::write(&path, text).unwrap();
    path
}

const HEADER: &str = "asset,class,spot,volatility,funding_rate_8h,basis,adv_usd,synthetic,source\n";

fn error(path: &Path, day: Option<&str>, book: &Snapshot) -> String {
    read_end_of_day(path, day.map(date), book)
        .unwrap_err()
        .to_string()
}

#[test]
fn bad_prices_are_refused_naming_file_row_and_field() {
    let dir = tempfile::tempdir().unwrap();
    let book = mixed_book();
    let btc = "BTC,crypto,99000,0.5,0.0001,0.1,1e9,false,\n";
    let eth = "ETH,crypto,2800,0.7,0.0001,0.08,1e9,false,\n";
    let usdt = "USDT,stablecoin,1,0.01,0,0,1e9,false,\n";

    let good = write(dir.path(), "good.csv", &format!("{HEADER}{btc}{eth}{usdt}"));
    let end = read_end_of_day(&good, Some(date("2025-02-21")), &book).unwrap();
    assert_eq!(end.market.assets[0].spot, 99_000.0);

    let missing = write(dir.path(), "missing.csv", &format!("{HEADER}{btc}{usdt}"));
    let e = error(&missing, Some("2025-02-21"), &book);
    assert!(
        e.contains("missing.csv")
            && e.contains("field `asset`")
            && e.contains("`ETH`")
            && e.contains("the underlying of instrument `ETH-USDT-FUT`"),
        "{e}"
    );

    let no_stablecoin = write(dir.path(), "no_usdt.csv", &format!("{HEADER}{btc}{eth}"));
    let e = error(&no_stablecoin, Some("2025-02-21"), &book);
    assert!(
        e.contains("no_usdt.csv")
            && e.contains("`USDT`, the settlement stablecoin of instrument `ETH-USDT-FUT`"),
        "{e}"
    );

    let negative = write(
        dir.path(),
        "negative.csv",
        &format!("{HEADER}{btc}ETH,crypto,-2800,0.7,0.0001,0.08,1e9,false,\n{usdt}"),
    );
    let e = error(&negative, Some("2025-02-21"), &book);
    assert!(
        e.contains("negative.csv, row 2, field `spot`") && e.contains("-2800"),
        "{e}"
    );

    let unknown = write(
        dir.path(),
        "unknown.csv",
        &format!("{HEADER}{btc}{eth}{usdt}DOT,crypto,5,0.9,0,0,1e9,false,\n"),
    );
    let e = error(&unknown, Some("2025-02-21"), &book);
    assert!(
        e.contains("unknown.csv, row 4, field `asset`") && e.contains("DOT"),
        "{e}"
    );

    let e = error(&good, None, &book);
    assert!(e.contains("good.csv") && e.contains("--date"), "{e}");

    let history = write(
        dir.path(),
        "history.csv",
        "date,BTC,ETH,USDT\n2025-02-20,97600,2700,1\n2025-02-21,99000,,1\n2025-02-23,98000,2800,1\n",
    );
    let e = error(&history, Some("2025-02-22"), &book);
    assert!(
        e.contains("history.csv") && e.contains("field `date`") && e.contains("2025-02-22"),
        "{e}"
    );
    let e = error(&history, Some("2025-02-21"), &book);
    assert!(
        e.contains("history.csv, row 2, field `ETH`") && e.contains("2025-02-21"),
        "{e}"
    );
    let negative = write(
        dir.path(),
        "negative_history.csv",
        "date,BTC,ETH,USDT\n2025-02-20,97600,2700,1\n2025-02-21,-5,2800,1\n",
    );
    let e = error(&negative, Some("2025-02-21"), &book);
    assert!(
        e.contains("negative_history.csv, row 2, field `BTC`") && e.contains("-5"),
        "{e}"
    );

    let fine = write(
        dir.path(),
        "fine.csv",
        "date,BTC,ETH,USDT\n2025-02-20,97600,2700,1\n2025-02-21,99000,2750,1\n",
    );
    let end = read_end_of_day(&fine, Some(date("2025-02-21")), &book).unwrap();
    assert_eq!(end.market.assets[1].spot, 2_750.0);
    let no_column = write(
        dir.path(),
        "no_column.csv",
        "date,BTC,USDT\n2025-02-20,97600,1\n2025-02-21,99000,1\n",
    );
    let e = error(&no_column, Some("2025-02-21"), &book);
    assert!(e.contains("no_column.csv, field `ETH`"), "{e}");

    // A date before the book's.
    let mut end = read_end_of_day(&good, Some(date("2025-02-21")), &book).unwrap();
    end.date = date("2025-02-19");
    let e = settle(&book, &end).unwrap_err().to_string();
    assert!(e.contains("2025-02-19") && e.contains("2025-02-20"), "{e}");
}

/// A replayed day is the book settled over one day at that day's one-day
/// returns; days without both closes of a held underlying are skipped with
/// the reason.
#[test]
fn a_replayed_day_is_the_book_settled_over_that_days_moves() {
    let book = mixed_book();
    let csv = "date,BTC,ETH,USDT\n\
               2025-01-01,90000,3000,1\n\
               2025-01-02,93000,2900,1.001\n\
               2025-01-04,95000,3100,1\n\
               2025-01-05,94000,,1\n\
               2025-01-06,92000,3050,1\n\
               2025-01-07,91000,3000,0.999\n";
    let table = clearstress::input::Table::from_csv_bytes("h.csv", csv.as_bytes()).unwrap();
    let history = clearstress::history::PriceHistory::from_table(&table).unwrap();
    let replay =
        settlement::replay_vm(&book, &history, date("2025-01-02"), date("2025-01-07")).unwrap();
    let dates: Vec<String> = replay.days.iter().map(|d| d.date.to_string()).collect();
    assert_eq!(dates, ["2025-01-02", "2025-01-07"]);
    let skipped: Vec<String> = replay
        .skipped
        .iter()
        .map(|(d, why)| format!("{d}: {why}"))
        .collect();
    assert_eq!(skipped.len(), 3, "{skipped:?}");
    assert!(
        skipped[0].starts_with("2025-01-04: the day before"),
        "{skipped:?}"
    );
    assert!(
        skipped[1].starts_with("2025-01-05: no close for ETH"),
        "{skipped:?}"
    );
    assert!(
        skipped[2].starts_with("2025-01-06: no close for ETH"),
        "{skipped:?}"
    );
    let moves = [
        [93_000.0 / 90_000.0, 2_900.0 / 3_000.0, 1.001],
        [91_000.0 / 92_000.0, 3_000.0 / 3_050.0, 0.999],
    ];
    for (day, m) in replay.days.iter().zip(moves) {
        let settled = settle(&book, &moved(&book, 1, |a| m[a])).unwrap();
        let paid = settled.members_pay_usd();
        assert!(
            paid > 0.0 && close(day.vm_paid, paid, 1e-12),
            "{}: {} vs {paid}",
            day.date,
            day.vm_paid
        );
        assert!(close(day.gross, settled.total_usd.gross, 1e-12));
    }
    let (max_date, max) = replay.max_vm_paid().unwrap();
    let largest = replay
        .days
        .iter()
        .map(|d| d.vm_paid)
        .fold(f64::MIN, f64::max);
    assert_eq!(max, largest);
    assert!(replay
        .days
        .iter()
        .any(|d| d.date == max_date && d.vm_paid == max));
    let average = replay.days.iter().map(|d| d.vm_paid).sum::<f64>() / 2.0;
    assert!(close(replay.average_vm_paid(), average, 1e-15));
}

/// The invariant's converse: on a book that is not matched (one position
/// dropped), the members' VM in that position's asset no longer sums to zero
/// but to minus the dropped position's VM: what the CCP's own account would
/// then pay or keep.
#[test]
fn an_unmatched_book_leaves_the_ccp_the_missing_side() {
    let mut book = sample::embedded().unwrap();
    let end = moved(&book, 1, |a| 1.0 + 0.05 * ((a as f64) * 0.9).cos());
    let full = settle(&book, &end).unwrap();
    let dropped = full
        .positions
        .iter()
        .position(|p| p.vm.abs() > 1.0)
        .expect("a position with VM");
    let removed = full.positions[dropped].clone();
    book.positions.remove(dropped);
    let day = settle(&book, &end).unwrap();
    let (_, netting) = day
        .by_asset
        .iter()
        .find(|(a, _)| *a == removed.asset)
        .unwrap();
    assert!(
        close(netting.imbalance, -removed.vm, 1e-9),
        "imbalance {} against the dropped position's VM {}",
        netting.imbalance,
        removed.vm
    );
}
