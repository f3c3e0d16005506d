//! The default waterfall on hand-worked examples, layer by layer (methodology
//! 9.4), and as a run writes it.

use clearstress::default_management::waterfall::{walk, Layer, PositionPnl, WaterfallInput};
use clearstress::snapshot::{AfterAssessments, WaterfallConfig};

/// Two defaulters, D1 and D2, and three survivors, S1 to S3.
///
/// | member | portfolio loss | collateral in the scenario | close-out | contribution |
/// |---|---|---|---|---|
/// | D1 | 500 | 200 | 20 | 50 |
/// | D2 | 100 | 150 | 10 | 40 |
/// | S1 | -150 | 50 | 0 | 60 |
/// | S2 | -250 | 390 | 0 | 30 |
/// | S3 | 60 | 100 | 0 | 10 |
///
/// D1 owes 520: its margin pays 200, its contribution 50, 270 is left. D2
/// owes 110, which its margin covers: its contribution is not used, since a
/// defaulter's resources cover its own loss only. The loss is 630.
const DEFAULTING: [bool; 5] = [true, true, false, false, false];
const PORTFOLIO_LOSS: [f64; 5] = [500.0, 100.0, -150.0, -250.0, 60.0];
const COLLATERAL: [f64; 5] = [200.0, 150.0, 50.0, 390.0, 100.0];
const CLOSE_OUT: [f64; 5] = [20.0, 10.0, 0.0, 0.0, 0.0];
const CONTRIBUTIONS: [f64; 5] = [50.0, 40.0, 60.0, 30.0, 10.0];
const SKIN_IN_THE_GAME: f64 = 30.0;

/// The positions behind the portfolio losses, in BTC-PERP (0) and ETH-PERP
/// (1): the defaulters are net long 10 BTC-PERP and short 5 ETH-PERP.
const POSITIONS: [PositionPnl; 7] = [
    position(0, 0, 10.0, -500.0),
    position(1, 1, -5.0, -100.0),
    position(2, 0, -4.0, 120.0),
    position(2, 1, 2.0, 30.0),
    position(3, 0, -8.0, 250.0),
    position(4, 0, 3.0, -90.0),
    position(4, 1, 6.0, 30.0),
];

const fn position(member: usize, instrument: usize, quantity: f64, pnl: f64) -> PositionPnl {
    PositionPnl {
        member,
        instrument,
        quantity,
        pnl,
    }
}

fn input() -> WaterfallInput<'static> {
    WaterfallInput {
        defaulting: &DEFAULTING,
        portfolio_loss: &PORTFOLIO_LOSS,
        collateral: &COLLATERAL,
        close_out: &CLOSE_OUT,
        contributions: &CONTRIBUTIONS,
        positions: &POSITIONS,
    }
}

fn config(second: Option<f64>, multiple: Option<f64>, after: AfterAssessments) -> WaterfallConfig {
    WaterfallConfig {
        second_skin_in_the_game: second,
        assessment_multiple: multiple,
        after_assessments: after,
        ..WaterfallConfig::default()
    }
}

/// (layer, available, used, remaining) of each layer.
fn layers(config: &WaterfallConfig) -> Vec<(Layer, f64, f64, f64)> {
    walk(&input(), SKIN_IN_THE_GAME, config)
        .layers
        .iter()
        .map(|l| (l.layer, l.available, l.used, l.remaining))
        .collect()
}

fn assert_close(actual: &[f64], expected: &[f64]) {
    assert_eq!(actual.len(), expected.len());
    for (a, e) in actual.iter().zip(expected) {
        assert!((a - e).abs() < 1e-9, "{actual:?} != {expected:?}");
    }
}

/// The prefunded layers every configuration shares: 630 less the margins'
/// 310, D1's 50, the CCP's 30 and the survivors' 100 leaves 140.
const PREFUNDED: [(Layer, f64, f64, f64); 4] = [
    (Layer::DefaultersMargin, 350.0, 310.0, 320.0),
    (Layer::DefaultersContributions, 90.0, 50.0, 270.0),
    (Layer::SkinInTheGame, 30.0, 30.0, 240.0),
    (Layer::SurvivorsContributions, 100.0, 100.0, 140.0),
];

#[test]
fn the_default_configuration_walks_margin_then_the_prefunded_layers() {
    let waterfall = walk(&input(), SKIN_IN_THE_GAME, &WaterfallConfig::default());
    assert_eq!(waterfall.loss, 630.0);
    assert_eq!(layers(&WaterfallConfig::default()), PREFUNDED);
    assert_eq!(waterfall.unfunded, 140.0);
    // The survivors lose their whole contributions; defaulters bear nothing here.
    assert_eq!(waterfall.survivors.fund_loss, [0.0, 0.0, 60.0, 30.0, 10.0]);
}

/// The second skin in the game (20) comes after the survivors'
/// contributions; assessments are called pro rata to each survivor's cap,
/// `multiple x contribution`.
#[test]
fn the_second_skin_in_the_game_then_capped_assessments() {
    struct Case {
        multiple: f64,
        available: f64,
        assessments: [f64; 5],
        unfunded: f64,
    }
    let cases = [
        // Caps 60, 30, 10 bind: 120 left, 100 called, 20 unfunded.
        Case {
            multiple: 1.0,
            available: 100.0,
            assessments: [0.0, 0.0, 60.0, 30.0, 10.0],
            unfunded: 20.0,
        },
        // Caps 120, 60, 20: the 120 left is called at 60% of each cap.
        Case {
            multiple: 2.0,
            available: 200.0,
            assessments: [0.0, 0.0, 72.0, 36.0, 12.0],
            unfunded: 0.0,
        },
    ];
    for case in cases {
        let config = config(Some(20.0), Some(case.multiple), AfterAssessments::None);
        let used = 120.0 - case.unfunded;
        let mut expected = PREFUNDED.to_vec();
        expected.push((Layer::SecondSkinInTheGame, 20.0, 20.0, 120.0));
        expected.push((Layer::Assessments, case.available, used, case.unfunded));
        assert_eq!(layers(&config), expected, "multiple {}", case.multiple);
        let waterfall = walk(&input(), SKIN_IN_THE_GAME, &config);
        assert_close(&waterfall.survivors.assessment, &case.assessments);
        assert_eq!(waterfall.unfunded, case.unfunded);
    }
}

/// S1 and S2 gain 150 and 250 in the scenario (S3 loses): the 140 left is
/// withheld from their gains pro rata, 52.5 and 87.5.
#[test]
fn gains_haircutting_takes_the_rest_from_the_survivors_gains_pro_rata() {
    let config = config(None, None, AfterAssessments::Vmgh);
    let waterfall = walk(&input(), SKIN_IN_THE_GAME, &config);
    assert_eq!(
        waterfall
            .layers
            .last()
            .map(|l| (l.layer, l.available, l.used, l.remaining)),
        Some((Layer::GainsHaircut, 400.0, 140.0, 0.0))
    );
    assert_close(
        &waterfall.survivors.gains_haircut,
        &[0.0, 0.0, 52.5, 87.5, 0.0],
    );
    assert_eq!(waterfall.unfunded, 0.0);
}

/// After an insurance fund of 50, auto-deleveraging absorbs the 90 left.
/// Equity in the scenario, collateral less portfolio loss: S1 200, S2 640,
/// S3 40. Profitable positions opposite the defaulters, scored pnl / equity:
/// S3's ETH long 30/40 = 0.75, S1's BTC short 120/200 = 0.6, S2's BTC short
/// 250/640 = 0.39, S1's ETH long 30/200 = 0.15 (S3's BTC long is on the
/// defaulter's side and loses). S3's ETH long is closed for the 5 ETH the
/// defaulter is short: 5/6 of 30 = 25. S1's BTC short gives 65 of its 120.
/// All it could take: 25, S1's 120 for 4 BTC, then 6 of S2's 8 BTC, 187.5;
/// S1's ETH long comes too late, ETH being closed out: 332.5.
#[test]
fn auto_deleveraging_closes_the_best_ranked_opposite_positions_first() {
    let config = WaterfallConfig {
        insurance_fund: 50.0,
        ..config(None, None, AfterAssessments::InsuranceFundAdl)
    };
    let waterfall = walk(&input(), SKIN_IN_THE_GAME, &config);
    let tail: Vec<_> = waterfall.layers[PREFUNDED.len()..]
        .iter()
        .map(|l| (l.layer, l.available, l.used, l.remaining))
        .collect();
    assert_eq!(tail[0], (Layer::InsuranceFund, 50.0, 50.0, 90.0));
    assert_eq!(tail[1].0, Layer::AutoDeleveraging);
    assert_close(&[tail[1].1, tail[1].2, tail[1].3], &[332.5, 90.0, 0.0]);
    assert_close(
        &waterfall.survivors.deleveraged,
        &[0.0, 0.0, 65.0, 0.0, 25.0],
    );
}

/// A survivor whose equity is gone in the scenario is leveraged without
/// bound: its profitable opposite position is deleveraged first.
#[test]
fn auto_deleveraging_takes_a_member_without_equity_first() {
    // S2 loses 250 overall, yet profits on its BTC short, against 200 of
    // collateral: its equity is -50.
    let mut collateral = COLLATERAL;
    collateral[3] = 200.0;
    let mut portfolio_loss = PORTFOLIO_LOSS;
    portfolio_loss[3] = 250.0;
    let input = WaterfallInput {
        collateral: &collateral,
        portfolio_loss: &portfolio_loss,
        ..input()
    };
    let waterfall = walk(
        &input,
        SKIN_IN_THE_GAME,
        &config(None, None, AfterAssessments::InsuranceFundAdl),
    );
    // 140 left: 56% of S2's BTC short, whose 250 would have covered it.
    assert_close(
        &waterfall.survivors.deleveraged,
        &[0.0, 0.0, 0.0, 140.0, 0.0],
    );
}
