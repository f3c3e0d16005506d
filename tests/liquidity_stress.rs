//! Liquidity stress (methodology 9.7): per settlement currency, the cash the
//! CCP pays out when a scenario's Cover-n groups default, against the
//! defaulters' collateral and its own liquid resources that pay in that
//! currency as they are, at the scenario's prices.

mod common;

use clearstress::backend::CpuBackend;
use clearstress::backend::LossBlock;
use clearstress::default_fund::ScenarioCover;
use clearstress::default_management::liquidity::settlement_books;
use clearstress::default_management::{liquidity_stress, LiquidityInput, LiquidityStress};
use clearstress::engine::{self, RunLimits};
use clearstress::scenario::stress_block;
use clearstress::snapshot::SettlementAsset;
use clearstress::snapshot::{
    AssetClass, CollateralAsset, CollateralHolding, InstrumentKind, Settlement,
};

/// BTC at 100, ETH at 10 and USDT at 1, moved by -50%, 0 and -10%. Members
/// 0, 1, 2 are their own groups with uncovered losses 30, 20, 10, so
/// Cover-2's groups 0 and 1 default. Losses on USD-settled positions 100,
/// -30, 50; on BTC-settled ones 40, 20, 0. Collateral: member 0 posts 10
/// USD, 20 USDT and 0.4 BTC, member 1 one ETH, member 2 (a survivor) 1,000
/// USD. The CCP holds 15 USD, 10 USDT and 0.2 BTC.
///
/// USD: the defaulters owe 100 - 30 = 70 (member 1's USD gain is kept by
/// set-off); they and the CCP can pay 10 + 20 x 0.9 + 15 + 10 x 0.9 = 52
/// (USDT at its depegged 0.9): 18 short. BTC: owed 60, paid by 0.4 and 0.2
/// BTC at 50: 30, so 30 short. ETH pays neither; the survivor's cash is
/// not the CCP's.
#[test]
fn a_hand_worked_scenario_currency_by_currency() {
    let l = hand_worked(&[
        (SettlementAsset::Usd, block([100.0, -30.0, 50.0])),
        (SettlementAsset::Coin(0), block([40.0, 20.0, 0.0])),
    ]);
    assert_eq!(l.defaulting, vec![vec![0, 1]]);
    let usd = l.scenarios[0][0];
    assert!(
        near(usd.need, 70.0) && near(usd.defaulters_collateral, 28.0),
        "{usd:?}"
    );
    assert!(
        near(usd.ccp_resources, 24.0) && near(usd.shortfall, 18.0),
        "{usd:?}"
    );
    let coin = l.scenarios[0][1];
    assert!(
        near(coin.need, 60.0) && near(coin.defaulters_collateral, 20.0),
        "{coin:?}"
    );
    assert!(
        near(coin.ccp_resources, 10.0) && near(coin.shortfall, 30.0),
        "{coin:?}"
    );
    assert_eq!(l.worst(), vec![(0, usd.shortfall), (0, coin.shortfall)]);
}

/// The scenario above with USDT-margined contracts as well, on which the
/// defaulters lose 25 and 5 (USD at the scenario's prices): USDT is now a
/// settlement currency of its own, paid by the USDT holdings at 0.9 (18 of
/// member 0, 9 of the CCP's: 27 against 30, 3 short), which no longer pay
/// USD needs (10 + 15 = 25 against 70, 45 short).
#[test]
fn a_settlement_stablecoin_pays_its_own_needs_only() {
    let l = hand_worked(&[
        (SettlementAsset::Usd, block([100.0, -30.0, 50.0])),
        (SettlementAsset::Coin(0), block([40.0, 20.0, 0.0])),
        (SettlementAsset::Coin(2), block([25.0, 5.0, -30.0])),
    ]);
    let [usd, coin, usdt] = [0, 1, 2].map(|c| l.scenarios[0][c]);
    assert!(
        near(usd.defaulters_collateral, 10.0) && near(usd.ccp_resources, 15.0),
        "{usd:?}"
    );
    assert!(near(usd.shortfall, 45.0), "{usd:?}");
    assert!(near(coin.shortfall, 30.0), "{coin:?}");
    assert!(
        near(usdt.need, 30.0)
            && near(usdt.defaulters_collateral, 18.0)
            && near(usdt.ccp_resources, 9.0)
            && near(usdt.shortfall, 3.0),
        "{usdt:?}"
    );
}

/// One scenario's losses of members 0, 1, 2.
fn block(losses: [f64; 3]) -> LossBlock {
    LossBlock {
        first: 0,
        scenarios: 1,
        members: 3,
        losses: losses.to_vec(),
    }
}

fn near(a: f64, b: f64) -> bool {
    (a - b).abs() <= 1e-12 * b.abs().max(1.0)
}

/// The liquidity stress of the scenario above with each settlement
/// currency's `losses`.
fn hand_worked(losses: &[(SettlementAsset, LossBlock)]) -> LiquidityStress {
    let (btc, eth) = (
        common::asset("BTC", 100.0, 0.5),
        common::asset("ETH", 10.0, 0.7),
    );
    let usdt = common::asset("USDT", 1.0, 0.01);
    assert_eq!(usdt.class, AssetClass::Stablecoin);
    let corr = vec![1.0, 0.0, 0.0, 0.0, 1.0, 0.0, 0.0, 0.0, 1.0];
    let members = (0..3)
        .map(|i| common::member(&i.to_string(), &i.to_string()))
        .collect();
    let s = common::market_snapshot(vec![btc, eth, usdt], corr, members);
    let stress = stress_block(
        &[common::stress_scenario(
            "s",
            vec![-0.5, 0.0, -0.1],
            vec![0.0; 3],
        )],
        3,
    );
    let holding = |member, asset, amount| CollateralHolding {
        member,
        asset,
        amount,
    };
    let collateral = [
        holding(0, CollateralAsset::Usd, 10.0),
        holding(0, CollateralAsset::Asset(2), 20.0),
        holding(0, CollateralAsset::Asset(0), 0.4),
        holding(1, CollateralAsset::Asset(1), 1.0),
        holding(2, CollateralAsset::Usd, 1000.0),
    ];
    let covers = [ScenarioCover {
        group_uncovered: vec![30.0, 20.0, 10.0],
        cover1: 30.0,
        cover2: 50.0,
        cover_n: 50.0,
    }];
    let resources = [
        (CollateralAsset::Usd, 15.0),
        (CollateralAsset::Asset(2), 10.0),
        (CollateralAsset::Asset(0), 0.2),
    ];
    liquidity_stress(&LiquidityInput {
        market: &s.market,
        stress: &stress,
        losses,
        collateral: &collateral,
        covers: &covers,
        group_of: &[0, 1, 2],
        cover: 2,
        resources: &resources,
    })
}

/// The book split by settlement currency (USD or the stablecoin for linear
/// contracts, the coin for inverse ones) loses in each stress scenario, summed over the
/// currencies, what the whole book without collateral loses.
#[test]
fn the_settlement_currencies_partition_the_book() {
    let mut s = common::real_asset_book(1_000);
    let inverse = common::add_instrument(
        &mut s,
        "BTC-INV-PERP",
        0,
        Settlement::Inverse,
        100.0,
        InstrumentKind::Perpetual,
    );
    common::hold(&mut s, 1, inverse, 5_000.0);
    let tether = common::add_instrument(
        &mut s,
        "ETH-USDT-PERP",
        1,
        Settlement::Linear,
        0.1,
        InstrumentKind::Perpetual,
    );
    s.instruments[tether].stablecoin = Some(2);
    common::hold(&mut s, 0, tether, -3_000.0);
    s.stress = vec![common::stress_scenario(
        "crash",
        vec![-0.3, -0.4, -0.01],
        vec![0.0; 3],
    )];
    let books = settlement_books(&s);
    let currencies: Vec<SettlementAsset> = books.iter().map(|b| b.0).collect();
    assert_eq!(
        currencies,
        vec![
            SettlementAsset::Usd,
            SettlementAsset::Coin(0),
            SettlementAsset::Coin(2)
        ]
    );
    let backend = CpuBackend::new(Some(2)).unwrap();
    let loss = |s: &clearstress::snapshot::Snapshot| {
        engine::run(&backend, s, RunLimits::default(), &|_| {})
            .unwrap()
            .stress
            .losses
    };
    let mut whole = s.clone();
    whole.collateral.clear();
    let whole = loss(&whole);
    let parts: Vec<LossBlock> = books.iter().map(|(_, b)| loss(b)).collect();
    for m in 0..2 {
        let sum: f64 = parts.iter().map(|p| p.loss(m, 0)).sum();
        assert!(
            (sum - whole.loss(m, 0)).abs() <= 1e-9 * whole.loss(m, 0).abs(),
            "member {m}"
        );
    }
    assert_eq!(parts[1].loss(0, 0), 0.0, "A holds nothing coin-settled");
    assert_eq!(parts[2].loss(1, 0), 0.0, "B holds nothing USDT-settled");
    assert!(parts[2].loss(0, 0) != 0.0);
}
