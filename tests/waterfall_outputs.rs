//! What `clearstress run` writes of the waterfall: `waterfall.parquet`,
//! `waterfall_members.parquet` and `summary.json` tell the same story, and
//! the default configuration leaves the prefunded layers the loss the
//! default fund was sized on.

use std::collections::BTreeMap;
use std::path::Path;

use arrow_array::RecordBatch;
use serde_json::Value;

#[path = "common/binary.rs"]
mod binary;
#[path = "common/machine.rs"]
mod machine;
#[path = "common/parquet.rs"]
mod parquet_columns;

use parquet_columns::{column_names, floats, read_parquet, strings};

/// One row of `waterfall.parquet`.
#[derive(Debug, Clone, PartialEq)]
struct Row {
    layer: String,
    available: f64,
    used: f64,
    remaining: f64,
}

/// What a run left: each scenario's Cover-n layers in file order, each
/// (scenario, configured set)'s, the members' charges table and
/// `summary.json`.
struct Outputs {
    layers: BTreeMap<String, Vec<Row>>,
    configured: BTreeMap<(String, String), Vec<Row>>,
    members: Vec<RecordBatch>,
    summary: Value,
}

fn run(dir: &Path, book: Option<&Path>) -> Outputs {
    let out = dir.join("out");
    let mut args = vec!["run", "--paths", "1000", "--out", out.to_str().unwrap()];
    if let Some(book) = book {
        args.extend(["--book", book.to_str().unwrap()]);
    }
    let o = binary::clearstress(&args);
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    let table = read_parquet(&out.join("waterfall.parquet"));
    assert_eq!(
        column_names(&table),
        [
            "scenario",
            "case",
            "defaulting_groups",
            "layer",
            "available",
            "used",
            "remaining"
        ]
    );
    let mut layers: BTreeMap<String, Vec<Row>> = BTreeMap::new();
    let mut configured: BTreeMap<(String, String), Vec<Row>> = BTreeMap::new();
    let (scenario, layer) = (strings(&table, "scenario"), strings(&table, "layer"));
    let case = strings(&table, "case");
    let (available, used, remaining) = (
        floats(&table, "available"),
        floats(&table, "used"),
        floats(&table, "remaining"),
    );
    for i in 0..scenario.len() {
        let row = Row {
            layer: layer[i].clone(),
            available: available[i],
            used: used[i],
            remaining: remaining[i],
        };
        match case[i].as_str() {
            "cover-n" => layers.entry(scenario[i].clone()).or_default().push(row),
            set => configured
                .entry((scenario[i].clone(), set.to_string()))
                .or_default()
                .push(row),
        }
    }
    let summary =
        serde_json::from_slice(&std::fs::read(out.join("summary.json")).unwrap()).unwrap();
    Outputs {
        layers,
        configured,
        members: read_parquet(&out.join("waterfall_members.parquet")),
        summary,
    }
}

/// Equal up to rounding in sums of the size of `scale`.
fn close(a: f64, b: f64, scale: f64) -> bool {
    (a - b).abs() <= 1e-12 * scale.abs().max(1.0)
}

/// Each pooled layer takes what it can of the loss left before it (the
/// defaulters' own layers at most that: each covers its own member's loss
/// only), and the summary's loss and unfunded amount are where the rows
/// start and end.
fn assert_consistent(outputs: &Outputs) {
    let waterfall = &outputs.summary["waterfall"];
    let scenarios = waterfall["scenarios"].as_array().unwrap();
    assert_eq!(scenarios.len(), outputs.layers.len());
    let configured = waterfall["configured"].as_array().unwrap();
    assert_eq!(configured.len(), outputs.configured.len());
    for s in scenarios.iter().chain(configured) {
        let scenario = s["scenario"].as_str().unwrap().to_string();
        let rows = match s["case"].as_str().unwrap() {
            "cover-n" => &outputs.layers[&scenario],
            set => &outputs.configured[&(scenario, set.to_string())],
        };
        let loss = s["loss"].as_f64().unwrap();
        let mut left = loss;
        for row in rows {
            let most = left.min(row.available);
            match row.layer.starts_with("defaulters'") {
                true => assert!(row.used <= most + 1e-12 * loss, "{row:?} of {left}"),
                false => assert!(close(row.used, most, loss), "{row:?} of {left}"),
            }
            assert!(
                close(row.remaining, (left - row.used).max(0.0), loss),
                "{row:?} of {left}"
            );
            left = row.remaining;
        }
        assert!(close(s["unfunded"].as_f64().unwrap(), left, loss));
    }
}

/// The sum over survivors of `column` in `scenario`.
fn members_total(outputs: &Outputs, scenario: &str, column: &str) -> f64 {
    let names = strings(&outputs.members, "scenario");
    let values = floats(&outputs.members, column);
    names
        .iter()
        .zip(values)
        .filter(|(n, _)| *n == scenario)
        .map(|(_, x)| x)
        .sum()
}

#[test]
fn the_samples_waterfalls_agree_across_files_and_start_from_the_requirement_and_its_close_out_cost()
{
    let dir = tempfile::tempdir().unwrap();
    let outputs = run(dir.path(), None);
    assert_consistent(&outputs);
    let fund = &outputs.summary["default_fund"];
    let requirement = fund["requirement"].as_f64().unwrap();
    let scenario = fund["cover2"]["scenario"].as_str().unwrap();
    let rows = &outputs.layers[scenario];
    let names: Vec<&str> = rows.iter().map(|r| r.layer.as_str()).collect();
    assert_eq!(
        names,
        [
            "defaulters' margin",
            "defaulters' default fund contributions",
            "CCP skin in the game",
            "surviving members' default fund contributions",
        ]
    );
    // What the margins leave is the Cover-2 loss the fund was sized on
    // (collateral after haircuts revalued in the scenario) with the
    // defaulters' close-out costs added, as summary.json's close_out gives it.
    let cover = &outputs.summary["close_out"]["cover_groups"];
    assert_eq!(cover["scenario"].as_str(), Some(scenario));
    assert!(close(
        cover["uncovered_loss"].as_f64().unwrap(),
        requirement,
        requirement
    ));
    let with_cost = cover["uncovered_with_close_out"].as_f64().unwrap();
    assert!(with_cost > requirement, "the close-out costs something");
    assert!(close(rows[0].remaining, with_cost, requirement), "{rows:?}");
    // The requirement's layers, as summary.json gives them under default_fund.
    let summary_rows: Vec<Row> = fund["waterfall"]
        .as_array()
        .unwrap()
        .iter()
        .map(|l| Row {
            layer: l["layer"].as_str().unwrap().to_string(),
            available: l["available"].as_f64().unwrap(),
            used: l["used"].as_f64().unwrap(),
            remaining: l["remaining"].as_f64().unwrap(),
        })
        .collect();
    // serde_json reads a float back to within an ulp, not always to the bit.
    assert_eq!(summary_rows.len(), rows.len());
    for (json, row) in summary_rows.iter().zip(rows) {
        assert_eq!(json.layer, row.layer);
        for (a, b) in [
            (json.available, row.available),
            (json.used, row.used),
            (json.remaining, row.remaining),
        ] {
            assert!(close(a, b, a), "{json:?} != {row:?}");
        }
    }
    assert_eq!(fund["unfunded"].as_f64(), Some(0.0));
    assert_eq!(rows[3].remaining, 0.0);
    assert!(close(
        members_total(&outputs, scenario, "default_fund_loss"),
        rows[3].used,
        rows[3].used
    ));
    assert_eq!(
        column_names(&outputs.members),
        [
            "scenario",
            "case",
            "member_id",
            "group",
            "default_fund_loss",
            "assessment",
            "gains_haircut",
            "deleveraged"
        ]
    );
}

/// Ten groups defaulting exhaust the sample's fund: the configured layers
/// after it are used, in order, and each survivor's share adds up to its
/// layer's use.
#[test]
fn a_configured_waterfall_reaches_assessments_and_auto_deleveraging() {
    let dir = tempfile::tempdir().unwrap();
    let book = dir.path().join("book");
    let o = binary::clearstress(&["init", "--out", book.to_str().unwrap()]);
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    let ccp = std::fs::read_to_string(book.join("ccp.toml")).unwrap();
    let ccp = ccp.replace("\ncover = 2\n", "\ncover = 10\n")
        + "\n[waterfall]\nsecond_skin_in_the_game = 5e6\nassessment_multiple = 0.25\n\
           after_assessments = \"insurance-fund-adl\"\ninsurance_fund = 1e7\n";
    std::fs::write(book.join("ccp.toml"), ccp).unwrap();
    let outputs = run(dir.path(), Some(&book));
    assert_consistent(&outputs);
    let scenario = outputs.summary["default_fund"]["cover2"]["scenario"]
        .as_str()
        .unwrap()
        .to_string();
    let rows = &outputs.layers[&scenario];
    let layer = |name: &str| rows.iter().find(|r| r.layer == name).unwrap();
    assert_eq!(rows.len(), 8);
    assert_eq!(layer("CCP second skin in the game").used, 5e6);
    assert_eq!(layer("insurance fund").used, 1e7);
    for (name, column) in [
        (
            "surviving members' default fund contributions",
            "default_fund_loss",
        ),
        ("assessments", "assessment"),
        ("auto-deleveraging", "deleveraged"),
    ] {
        let used = layer(name).used;
        assert!(used > 0.0, "{name} unused in {scenario}");
        assert!(
            close(members_total(&outputs, &scenario, column), used, used),
            "{name}"
        );
    }
}

/// `[waterfall] defaulting_groups`: each set is walked in every stress
/// scenario beside the scenario's own Cover-2 groups; the set of the
/// requirement's two groups gives, in its scenario, the requirement's very
/// waterfall, and every configured default adds up layer by layer.
#[test]
fn configured_sets_of_defaulting_groups_are_walked_in_every_scenario() {
    let dir = tempfile::tempdir().unwrap();
    let book = dir.path().join("book");
    let o = binary::clearstress(&["init", "--out", book.to_str().unwrap()]);
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    let plain = run(&dir.path().join("plain"), Some(&book));
    assert!(plain.configured.is_empty());
    let cover2 = &plain.summary["default_fund"]["cover2"];
    let requirement: Vec<String> = cover2["groups"]
        .as_array()
        .unwrap()
        .iter()
        .map(|g| g["group"].as_str().unwrap().to_string())
        .collect();
    assert_eq!(requirement.len(), 2);
    let ccp = std::fs::read_to_string(book.join("ccp.toml")).unwrap()
        + &format!(
            "\n[waterfall]\ndefaulting_groups = [[\"{}\", \"{}\"], [\"{}\"]]\n",
            requirement[0], requirement[1], requirement[1]
        );
    std::fs::write(book.join("ccp.toml"), ccp).unwrap();
    let outputs = run(&dir.path().join("sets"), Some(&book));
    assert_consistent(&outputs);
    let scenarios = outputs.layers.len();
    assert_eq!(outputs.configured.len(), 2 * scenarios);
    let waterfall = &outputs.summary["waterfall"];
    assert_eq!(
        waterfall["configured"].as_array().unwrap().len(),
        2 * scenarios
    );
    // The Cover-n cases are those of the run without sets.
    assert_eq!(outputs.layers, plain.layers);
    let scenario = cover2["scenario"].as_str().unwrap().to_string();
    assert_eq!(
        outputs.configured[&(scenario.clone(), "configured-1".to_string())],
        outputs.layers[&scenario]
    );
    // One group alone loses less than the two together, in every scenario
    // where both lose.
    let loss = |entries: &Value, case: &str, scenario: &str| {
        entries
            .as_array()
            .unwrap()
            .iter()
            .find(|e| e["case"] == case && e["scenario"] == scenario)
            .map(|e| e["loss"].as_f64().unwrap())
            .unwrap()
    };
    let both = loss(&waterfall["configured"], "configured-1", &scenario);
    let one = loss(&waterfall["configured"], "configured-2", &scenario);
    assert!(0.0 < one && one < both, "{one} {both}");
    assert_eq!(both, loss(&waterfall["scenarios"], "cover-n", &scenario));
}

/// A set naming a group no member is in, an empty set or a group twice is
/// refused, naming ccp.toml's field.
#[test]
fn a_bad_set_of_defaulting_groups_is_refused_naming_the_field() {
    let dir = tempfile::tempdir().unwrap();
    let book = dir.path().join("book");
    let o = binary::clearstress(&["init", "--out", book.to_str().unwrap()]);
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    let original = std::fs::read_to_string(book.join("ccp.toml")).unwrap();
    for (sets, expected) in [
        (
            "[[\"no-such-group\"]]",
            "members.csv is in group `no-such-group`",
        ),
        ("[[]]", "an empty set"),
        ("[[\"a\", \"a\"]]", "group `a` named twice"),
    ] {
        let ccp = format!("{original}\n[waterfall]\ndefaulting_groups = {sets}\n");
        std::fs::write(book.join("ccp.toml"), ccp).unwrap();
        let out = dir.path().join("out");
        let o = binary::clearstress(&[
            "run",
            "--book",
            book.to_str().unwrap(),
            "--paths",
            "1000",
            "--out",
            out.to_str().unwrap(),
        ]);
        let stderr = String::from_utf8_lossy(&o.stderr);
        assert!(!o.status.success());
        let field = "ccp.toml, field `waterfall.defaulting_groups[0]`: ";
        assert!(
            stderr.contains(field) && stderr.contains(expected),
            "{stderr}"
        );
        assert!(!out.exists());
    }
}
