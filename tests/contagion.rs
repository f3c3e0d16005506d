//! Contagion (methodology 9.8): a survivor whose share of a default's
//! losses exhausts its stated capital defaults in the next round, with its
//! group, until a round adds no default.

#[path = "common/binary.rs"]
mod binary;
#[path = "common/machine.rs"]
mod machine;
#[path = "common/parquet.rs"]
mod parquet_columns;

use clearstress::default_management::contagion::{cascade, Capacity, Trigger};
use clearstress::default_management::waterfall::{walk, Waterfall, WaterfallInput};
use clearstress::snapshot::{AfterAssessments, WaterfallConfig};

/// The waterfall of `defaulting` members of a book whose members each
/// contribute 10, post no collateral, cost nothing to close out and lose
/// `portfolio_loss`; no skin in the game.
fn walk_book(portfolio_loss: &[f64], config: &WaterfallConfig, defaulting: &[bool]) -> Waterfall {
    let zeros = vec![0.0; portfolio_loss.len()];
    let contributions = vec![10.0; portfolio_loss.len()];
    walk(
        &WaterfallInput {
            defaulting,
            portfolio_loss,
            collateral: &zeros,
            close_out: &zeros,
            contributions: &contributions,
            positions: &[],
        },
        0.0,
        config,
    )
}

/// Four members, each its own group, each with a contribution of 10, no
/// collateral, no skin in the game, assessments up to once the contribution.
/// Portfolio losses: A 25, B 15, C 10, D a gain of 50. Capital: B 5, C 10,
/// D none stated.
///
/// Round 0, A defaults: its loss 25 takes its own 10, the survivors' 30 pay
/// the other 15 pro rata, 5 each: B's 5 exhausts its capital 5.
/// Round 1, A and B: each defaulter's contribution pays its own loss
/// (15 + 5 left), C's and D's 20 pay it, 10 each: C's 10 exhausts its 10.
/// Round 2, A, B and C: 15 + 5 + 0 left; D's contribution pays 10, its
/// assessment the last 10. D states no capital, so the cascade stops there
/// with nothing unfunded.
#[test]
fn a_three_round_cascade_worked_by_hand() {
    let config = WaterfallConfig {
        assessment_multiple: Some(1.0),
        after_assessments: AfterAssessments::None,
        ..WaterfallConfig::default()
    };
    let mut charges = Vec::new();
    let walk_with =
        |defaulting: &[bool]| walk_book(&[25.0, 15.0, 10.0, -50.0], &config, defaulting);
    let c = cascade(
        &[0],
        &[0, 1, 2, 3],
        &capital(&[None, Some(5.0), Some(10.0), None]),
        |d| {
            let w = walk_with(d);
            charges.push((
                w.survivors.fund_loss.clone(),
                w.survivors.assessment.clone(),
            ));
            w
        },
    );
    assert_eq!(c.rounds, vec![vec![0], vec![1], vec![2]]);
    assert_eq!(
        c.triggers,
        vec![vec![Trigger::Capital], vec![Trigger::Capital]]
    );
    assert_eq!(c.contagious(), 2);
    assert_eq!(charges[0].0, vec![0.0, 5.0, 5.0, 5.0]);
    assert_eq!(charges[1].0, vec![0.0, 0.0, 10.0, 10.0]);
    assert_eq!(
        charges[2],
        (vec![0.0, 0.0, 0.0, 10.0], vec![0.0, 0.0, 0.0, 10.0])
    );
    assert_eq!((c.waterfall.loss, c.waterfall.unfunded), (50.0, 0.0));
}

/// Members stating a capital (or none) and no liquid resources.
fn capital(capital: &[Option<f64>]) -> Vec<Capacity> {
    capital
        .iter()
        .map(|&capital| Capacity {
            capital,
            liquid_resources: None,
        })
        .collect()
}

/// Liquid resources below an assessment: the member cannot pay the cash
/// call and defaults though its capital bears the charge. Four members each
/// contributing 10, assessments up to once the contribution, A defaulting
/// with a loss of 45: A's 10, then B's, C's and D's 30
/// pay 30 of the 35, and the last 5 are assessed pro rata to the
/// contributions, 5/3 each. B states ample capital and 1 of cash: illiquid
/// (5/3 > 1). C states capital 11 against its charge of 10 + 5/3: insolvent
/// and, with cash 1, illiquid too. D states neither and bears it.
#[test]
fn an_assessment_beyond_a_members_liquid_resources_is_a_default_by_liquidity() {
    let config = WaterfallConfig {
        assessment_multiple: Some(1.0),
        after_assessments: AfterAssessments::None,
        ..WaterfallConfig::default()
    };
    let walk_with = |defaulting: &[bool]| walk_book(&[45.0, 0.0, 0.0, 0.0], &config, defaulting);
    let first = walk_with(&[true, false, false, false]);
    assert_eq!(first.survivors.fund_loss, vec![0.0, 10.0, 10.0, 10.0]);
    let third = 5.0 / 3.0;
    for (m, &a) in first.survivors.assessment.iter().enumerate().skip(1) {
        assert!((a - third).abs() < 1e-12, "member {m}: {a}");
    }
    let capacity = [
        Capacity::default(),
        Capacity {
            capital: Some(1e6),
            liquid_resources: Some(1.0),
        },
        Capacity {
            capital: Some(11.0),
            liquid_resources: Some(1.0),
        },
        Capacity::default(),
    ];
    let c = cascade(&[0], &[0, 1, 2, 3], &capacity, walk_with);
    assert_eq!(c.rounds[..2], [vec![0], vec![1, 2]]);
    assert_eq!(c.triggers[0], vec![Trigger::Liquidity, Trigger::Both]);
    assert_eq!(c.trigger(1, 2), Some(Trigger::Both));
    assert_eq!(c.trigger(0, 0), None);
    // Cash enough for the assessment: B bears it all.
    let mut ample = capacity;
    ample[1].liquid_resources = Some(2.0);
    ample[2] = Capacity::default();
    assert_eq!(
        cascade(&[0], &[0, 1, 2, 3], &ample, walk_with).rounds,
        vec![vec![0]]
    );
}

/// Capital a survivor's charges do not reach, or that no member states,
/// leaves the default as it was: one round.
#[test]
fn capital_not_exhausted_stops_the_cascade_at_once() {
    let config = WaterfallConfig::default();
    let walk_with = |defaulting: &[bool]| walk_book(&[25.0, 0.0, 0.0], &config, defaulting);
    // Each survivor loses 7.5: capital 7.5 is exhausted, 7.6 is not.
    for (capital, rounds) in [
        ([None, Some(7.6), Some(100.0)], vec![vec![0]]),
        ([None, Some(7.5), Some(100.0)], vec![vec![0], vec![1]]),
        ([None, None, None], vec![vec![0]]),
    ] {
        let c = cascade(&[0], &[0, 1, 2], &self::capital(&capital), walk_with);
        assert_eq!(c.rounds, rounds, "{capital:?}");
    }
}

/// `run` on an `init` book whose members state a capital of a fifth of
/// their contribution, under Cover-2 with assessments: the survivors'
/// charges exhaust some capitals. `contagion.parquet` and `summary.json`
/// tell the same cascade, round 0 is the waterfall's own default, and the
/// cascade only ever adds groups.
#[test]
fn a_run_writes_the_cascade_of_every_stress_scenario() {
    let dir = tempfile::tempdir().unwrap();
    let (book, out) = (dir.path().join("book"), dir.path().join("out"));
    let o = binary::clearstress(&["init", "--out", book.to_str().unwrap()]);
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    let members = std::fs::read_to_string(book.join("members.csv")).unwrap();
    let mut lines = members.lines();
    let mut text = format!("{},capital\n", lines.next().unwrap());
    for line in lines {
        let contribution: f64 = line.rsplit(',').next().unwrap().parse().unwrap();
        text += &format!("{line},{}\n", contribution / 5.0);
    }
    std::fs::write(book.join("members.csv"), text).unwrap();
    let ccp = std::fs::read_to_string(book.join("ccp.toml")).unwrap();
    std::fs::write(
        book.join("ccp.toml"),
        ccp + "\n[waterfall]\nassessment_multiple = 1.0\n",
    )
    .unwrap();
    let args = [
        "run",
        "--paths",
        "1000",
        "--book",
        book.to_str().unwrap(),
        "--out",
        out.to_str().unwrap(),
    ];
    let o = binary::clearstress(&args);
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));

    let summary: serde_json::Value =
        serde_json::from_slice(&std::fs::read(out.join("summary.json")).unwrap()).unwrap();
    let table = parquet_columns::read_parquet(&out.join("contagion.parquet"));
    let scenario = parquet_columns::strings(&table, "scenario");
    let group = parquet_columns::strings(&table, "group");
    let round = parquet_columns::counts(&table, "round");
    // Only capital is stated: every later round's groups defaulted on it.
    let trigger = parquet_columns::strings(&table, "trigger");
    for (r, t) in round.iter().zip(&trigger) {
        assert_eq!(t, if *r == 0 { "initial" } else { "capital" });
    }
    let waterfalls = summary["waterfall"]["scenarios"].as_array().unwrap();
    let cascades = summary["contagion"]["scenarios"].as_array().unwrap();
    assert_eq!(cascades.len(), waterfalls.len());
    let mut spread = 0;
    for (w, c) in waterfalls.iter().zip(cascades) {
        let name = c["scenario"].as_str().unwrap();
        let rows: Vec<usize> = (0..scenario.len())
            .filter(|&i| scenario[i] == name)
            .collect();
        let first: Vec<&str> = rows
            .iter()
            .filter(|&&i| round[i] == 0)
            .map(|&i| group[i].as_str())
            .collect();
        let initial: Vec<&str> = w["defaulting_groups"]
            .as_array()
            .unwrap()
            .iter()
            .map(|g| g.as_str().unwrap())
            .collect();
        assert_eq!(first, initial, "{name}");
        let later: Vec<&str> = rows
            .iter()
            .filter(|&&i| round[i] > 0)
            .map(|&i| group[i].as_str())
            .collect();
        let contagious: Vec<&str> = c["contagious_defaults"]
            .as_array()
            .unwrap()
            .iter()
            .map(|g| g.as_str().unwrap())
            .collect();
        assert_eq!(later, contagious, "{name}");
        let rounds = rows.iter().map(|&i| round[i]).max().unwrap() + 1;
        assert_eq!(c["rounds"].as_u64(), Some(rounds), "{name}");
        assert!(
            c["loss"].as_f64().unwrap() >= w["loss"].as_f64().unwrap(),
            "{name}"
        );
        spread += later.len();
    }
    assert!(
        spread > 0,
        "some capital is exhausted somewhere: {cascades:?}"
    );
}
