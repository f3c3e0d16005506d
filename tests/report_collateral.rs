//! The report's Collateral section: what the eligibility and concentration
//! rules cut (the run's `summary.json`) and, with `report --haircuts DIR`,
//! the engine's calibrated haircut schedule against the configured one (a
//! `clearstress haircuts` folder of the run's book), which fills PQD 5.3.
//! A calibration of another book is refused and nothing is written.

use std::fs;
use std::path::Path;

#[path = "common/binary.rs"]
mod binary;
#[path = "common/machine.rs"]
mod machine;
#[path = "common/report.rs"]
mod report_files;

use binary::clearstress_line as line;
use clearstress::report::money;
use report_files::{html_rows, json, pqd_csv_rows, text};

fn ok(dir: &Path, l: &str) {
    let o = line(dir, l);
    assert!(o.status.success(), "{l}: {}", text(&o.stderr));
}

/// The section `id`'s HTML.
fn section<'a>(html: &'a str, id: &str) -> &'a str {
    let start = html
        .find(&format!("<section id=\"{id}\""))
        .unwrap_or_else(|| panic!("no section {id}"));
    &html[start..start + html[start..].find("</section>").unwrap()]
}

/// An `init --assets 10` book whose BTC may be at most 20% of a member's
/// collateral, run at 2,000 paths, and its haircuts calibrated at 2,000.
#[test]
fn the_collateral_section_shows_the_rules_cuts_and_the_calibrated_schedule() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path();
    ok(
        dir,
        "init --out {dir}/book --assets 10 --members 12 --options 20",
    );
    let ccp = dir.join("book/ccp.toml");
    let config = fs::read_to_string(&ccp).unwrap() + "\n[collateral.member_share]\nBTC = 0.2\n";
    fs::write(&ccp, config).unwrap();
    for l in [
        "run --book {dir}/book --backend cpu --paths 2000 --quiet --out {dir}/run",
        "haircuts --book {dir}/book --history {history} --paths 2000 --backend cpu --quiet \
         --out {dir}/haircuts",
        "report {dir}/run --haircuts {dir}/haircuts --out {dir}/report --quiet",
    ] {
        ok(dir, l);
    }
    let html = fs::read_to_string(dir.join("report/report.html")).unwrap();
    let s = section(&html, "collateral");

    let e = &json(&dir.join("run/summary.json"))["collateral_eligibility"];
    assert!(s.contains(&format!(
        "Of {} USD of collateral after haircuts, {} USD counts",
        money(e["after_haircut"].as_f64().unwrap()),
        money(e["counted"].as_f64().unwrap())
    )));
    let rules = html_rows(s, "<th>rule</th>");
    let names: Vec<&str> = rules.iter().map(|r| r[0].as_str()).collect();
    assert_eq!(
        names,
        ["ineligible", "wrong way", "member share", "issuer share"]
    );
    let share = e["cut"]["member_share"].as_f64().unwrap();
    assert!(share > 0.0, "the 20% cap on BTC cut nothing: {e}");
    assert_eq!(rules[2][1], money(share));
    assert_eq!(rules[2][2], e["members_cut"]["member_share"].to_string());

    let h = json(&dir.join("haircuts/summary.json"));
    let schedule = h["schedule"].as_array().unwrap();
    let shown = html_rows(s, "<th>asset</th>");
    assert_eq!(shown.len(), schedule.len());
    let below: Vec<&str> = h["configured_below_schedule"]
        .as_array()
        .unwrap()
        .iter()
        .map(|a| a.as_str().unwrap())
        .collect();
    for (row, x) in shown.iter().zip(schedule) {
        let asset = x["asset"].as_str().unwrap();
        assert_eq!(row[0], asset);
        assert_eq!(
            row[2],
            format!("{:.2}%", 100.0 * x["schedule"].as_f64().unwrap())
        );
        assert_eq!(row[3], if below.contains(&asset) { "yes" } else { "no" });
    }
    let csv = pqd_csv_rows(&dir.join("report/pqd.csv"), &html);
    let row = csv.iter().find(|r| r[0] == "5.3").unwrap();
    assert_eq!(row[2], below.len().to_string());
    assert_eq!(row[3], "assets");
    let listed = if below.is_empty() {
        "none".to_string()
    } else {
        below.join(", ")
    };
    assert!(row[1].ends_with(&format!("assets: {listed}")), "{}", row[1]);

    // Without --haircuts 5.3 is not computed; a calibration of another book
    // (the embedded sample) is refused, and nothing is written.
    ok(dir, "report {dir}/run --out {dir}/plain --quiet");
    let plain = fs::read_to_string(dir.join("plain/report.html")).unwrap();
    let csv = pqd_csv_rows(&dir.join("plain/pqd.csv"), &plain);
    let row = csv.iter().find(|r| r[0] == "5.3").unwrap();
    assert_eq!(row[2], "not computed");
    assert!(section(&plain, "collateral").contains("No haircut calibration was given"));
    ok(
        dir,
        "haircuts --history {history} --paths 2000 --backend cpu --quiet --out {dir}/sample_haircuts",
    );
    let o = line(
        dir,
        "report {dir}/run --haircuts {dir}/sample_haircuts --out {dir}/refused --quiet",
    );
    let err = text(&o.stderr);
    assert_eq!(o.status.code(), Some(1), "{err}");
    assert!(
        err.contains("the haircuts read another book than the run"),
        "{err}"
    );
    assert!(!dir.join("refused").exists());
}
