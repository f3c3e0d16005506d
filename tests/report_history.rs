//! `clearstress report RUN_DIR --history-run DIR`: a `clearstress
//! procyclicality` folder rendered as the "Margin through history" section,
//! every number read from its outputs (`procyclicality.json`,
//! `margin_history.parquet`, `margin_history_members.parquet`); a folder
//! that changed since it was written, or of another kind, is refused naming
//! the file, and nothing is written. Without `--history-run` the section
//! says no history run was given.

use std::path::{Path, PathBuf};
use std::process::Output;

#[path = "common/binary.rs"]
mod binary;
#[path = "common/machine.rs"]
mod machine;

use binary::clearstress_line as line;

use clearstress::input::{sha256_hex, Table};
use clearstress::report::money;
use serde_json::Value;

/// The policies' ids and names as the section shows them.
const POLICIES: [(&str, &str); 4] = [
    ("calculated", "calculated"),
    ("buffer", "buffer"),
    ("stressed_weight", "stressed weight"),
    ("floor_10y", "10-year floor"),
];

fn text(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).into_owned()
}

fn json(path: &Path) -> Value {
    serde_json::from_slice(&std::fs::read(path).unwrap()).unwrap()
}

/// A 2,000-path run of the embedded sample (`{dir}/run`) and a
/// procyclicality study of an `init --assets 10` book (six members) on 7
/// dates, 2022-04-01 every 14 days, at 1,000 paths (`{dir}/apc`).
fn run_and_history(dir: &Path) -> (PathBuf, PathBuf) {
    for l in [
        "run --backend cpu --paths 2000 --quiet --out {dir}/run",
        "init --out {dir}/book --assets 10 --members 6 --options 20",
        "procyclicality --history {history} --book {dir}/book --from 2022-04-01 --to 2022-07-01 \
         --every 14 --paths 1000 --backend cpu --quiet --out {dir}/apc",
    ] {
        let o = line(dir, l);
        assert!(o.status.success(), "{l}: {}", text(&o.stderr));
    }
    (dir.join("run"), dir.join("apc"))
}

fn report(dir: &Path, run: &Path, history: &Path, out: &str) -> Output {
    line(
        dir,
        &format!(
            "report {} --history-run {} --out {{dir}}/{out} --quiet",
            run.display(),
            history.display()
        ),
    )
}

/// The section `id`'s HTML.
fn section<'a>(html: &'a str, id: &str) -> &'a str {
    let start = html
        .find(&format!("<section id=\"{id}\""))
        .unwrap_or_else(|| panic!("no section {id}"));
    &html[start..start + html[start..].find("</section>").unwrap()]
}

/// Each polyline's points as (x, y).
fn polylines(svg: &str) -> Vec<Vec<(f64, f64)>> {
    svg.split("<polyline points=\"")
        .skip(1)
        .map(|rest| {
            rest[..rest.find('"').unwrap()]
                .split(' ')
                .map(|p| {
                    let (x, y) = p.split_once(',').unwrap();
                    (x.parse().unwrap(), y.parse().unwrap())
                })
                .collect()
        })
        .collect()
}

#[test]
fn a_history_run_adds_margin_through_history_read_from_its_outputs() {
    let dir = tempfile::tempdir().unwrap();
    let (run, apc) = run_and_history(dir.path());
    let o = report(dir.path(), &run, &apc, "report");
    assert!(o.status.success(), "{}", text(&o.stderr));
    let out = dir.path().join("report");
    let html = std::fs::read_to_string(out.join("report.html")).unwrap();
    let s = section(&html, "margin-history");
    assert!(s.contains("<h2>Margin through history</h2>"));

    // The period and the dates, from margin_history.parquet.
    let totals = Table::read(&apc.join("margin_history.parquet")).unwrap();
    let dates: Vec<String> = totals
        .rows()
        .map(|r| r.str("date").unwrap().to_string())
        .collect();
    assert_eq!(dates.len(), 7);
    assert!(s.contains(&format!(
        "on 7 dates, {}..{}",
        dates[0],
        dates[dates.len() - 1]
    )));

    // Each policy's measures, as procyclicality.json records them.
    let measures = json(&apc.join("procyclicality.json"));
    for (id, name) in POLICIES {
        let m = &measures[id];
        let row = format!(
            "<tr><td>{name}</td><td class=\"num\">{:.3}</td><td class=\"num\">{:.1}%</td>\
             <td class=\"num\">{}</td><td>{}..{}</td></tr>",
            m["peak_to_trough"].as_f64().unwrap(),
            100.0 * m["largest_increase"].as_f64().unwrap(),
            m["window_days"],
            m["increase_from"].as_str().unwrap(),
            m["increase_to"].as_str().unwrap()
        );
        assert!(s.contains(&row), "no row {row} in {s}");
    }
    // What the study was run on, from its manifest.
    let study = json(&apc.join("manifest.json"));
    assert!(s.contains(&format!(
        "the book <code>{}</code>",
        study["book"].as_str().unwrap()
    )));
    assert!(s.contains(&format!(
        "the history <code>{}</code>, 1,000 Monte Carlo paths a date, every 14 days",
        study["history"].as_str().unwrap()
    )));
    let stress = &measures["stress_period"];
    assert!(s.contains(&format!(
        "stress period {}..{}",
        stress["from"].as_str().unwrap(),
        stress["to"].as_str().unwrap()
    )));

    // The chart: one line per policy, in order, a point per date, the
    // lowest total lowest on the page.
    assert_eq!(s.matches("<svg").count(), 1);
    let lines = polylines(s);
    assert_eq!(lines.len(), POLICIES.len());
    for ((id, name), points) in POLICIES.iter().zip(&lines) {
        assert_eq!(points.len(), dates.len(), "{id}");
        assert!(s.contains(&format!("<title>{name}</title></polyline>")));
        let total: Vec<f64> = totals.rows().map(|r| r.f64(id).unwrap()).collect();
        let lowest = (0..total.len())
            .min_by(|&a, &b| total[a].total_cmp(&total[b]))
            .unwrap();
        let low_y = points.iter().map(|p| p.1).fold(f64::MIN, f64::max);
        assert_eq!(points[lowest].1, low_y, "{id}");
        // Dates run left to right.
        assert!(points.windows(2).all(|w| w[0].0 < w[1].0), "{id}");
    }
    for date in [&dates[0], &dates[dates.len() - 1]] {
        assert!(s.contains(&format!(">{date}</text>")), "{date}");
    }

    // The largest member's margin ranges, from margin_history_members.parquet.
    let members = Table::read(&apc.join("margin_history_members.parquet")).unwrap();
    let ranges = |member: &str, id: &str| {
        let values: Vec<f64> = members
            .rows()
            .filter(|r| r.str("member_id").unwrap() == member)
            .map(|r| r.f64(id).unwrap())
            .collect();
        let low = values.iter().copied().fold(f64::MAX, f64::min);
        let high = values.iter().copied().fold(f64::MIN, f64::max);
        format!("{}..{}", money(low), money(high))
    };
    let top = members
        .rows()
        .max_by(|a, b| {
            a.f64("calculated")
                .unwrap()
                .total_cmp(&b.f64("calculated").unwrap())
        })
        .unwrap()
        .str("member_id")
        .unwrap()
        .to_string();
    let mut row = format!("<tr><td>{top}</td>");
    for (id, _) in POLICIES {
        row.push_str(&format!("<td class=\"num\">{}</td>", ranges(&top, id)));
    }
    assert!(s.contains(&format!("{row}</tr>")), "no row {row} in {s}");
    assert_eq!(s.matches("<tr><td>CM").count(), 6, "six members");

    let manifest = json(&out.join("manifest.json"));
    assert_eq!(manifest["history_run"], apc.to_str().unwrap());
    assert_eq!(
        manifest["history_run_manifest_sha256"],
        sha256_hex(&std::fs::read(apc.join("manifest.json")).unwrap())
    );

    // Without --history-run: the section says so, with no chart.
    let plain = line(
        dir.path(),
        &format!("report {} --out {{dir}}/plain --quiet", run.display()),
    );
    assert!(plain.status.success(), "{}", text(&plain.stderr));
    let html = std::fs::read_to_string(dir.path().join("plain/report.html")).unwrap();
    let s = section(&html, "margin-history");
    assert!(s.contains("No history run was given"), "{s}");
    assert!(!s.contains("<svg"));
}

#[test]
fn a_policy_not_measured_is_shown_with_its_reason() {
    let dir = tempfile::tempdir().unwrap();
    let (run, apc) = run_and_history(dir.path());
    // Rewrite one policy's measures as procyclicality writes a series with a
    // margin at 0, and the manifest's hash of the file to match.
    let reason = "the margin on 2022-04-15 is 0, and ratios of margins need every margin above 0";
    let path = apc.join("procyclicality.json");
    let mut measures = json(&path);
    measures["floor_10y"] = serde_json::json!({ "not_measured": reason });
    let bytes = serde_json::to_vec_pretty(&measures).unwrap();
    std::fs::write(&path, &bytes).unwrap();
    let manifest_path = apc.join("manifest.json");
    let mut manifest = json(&manifest_path);
    for output in manifest["outputs"].as_array_mut().unwrap() {
        if output["file"] == "procyclicality.json" {
            output["sha256"] = sha256_hex(&bytes).into();
        }
    }
    std::fs::write(&manifest_path, manifest.to_string()).unwrap();

    let o = report(dir.path(), &run, &apc, "report");
    assert!(o.status.success(), "{}", text(&o.stderr));
    let html = std::fs::read_to_string(dir.path().join("report/report.html")).unwrap();
    let s = section(&html, "margin-history");
    assert!(s.contains(&format!(
        "<tr><td>10-year floor</td><td class=\"num\">not measured</td><td class=\"num\">{reason}</td>"
    )));
    // Its line is still drawn: the totals are in margin_history.parquet.
    assert_eq!(polylines(s).len(), 4);
}

#[test]
fn a_changed_or_foreign_history_run_is_refused_naming_the_file() {
    let dir = tempfile::tempdir().unwrap();
    let (run, apc) = run_and_history(dir.path());
    let refused = |history: &Path, expected: &[&str]| {
        let o = report(dir.path(), &run, history, "refused");
        assert_eq!(o.status.code(), Some(1));
        let stderr = text(&o.stderr);
        for e in expected {
            assert!(stderr.contains(e), "{e} not in {stderr}");
        }
        assert!(!dir.path().join("refused").exists());
    };

    // A run folder, a folder of another kind.
    refused(
        &run,
        &["manifest.json", "not by `clearstress procyclicality`"],
    );
    let manifest_path = apc.join("manifest.json");
    let original = std::fs::read(&manifest_path).unwrap();
    let mut manifest: Value = serde_json::from_slice(&original).unwrap();
    manifest["kind"] = "backtest".into();
    std::fs::write(&manifest_path, manifest.to_string()).unwrap();
    refused(
        &apc,
        &[
            "manifest.json",
            "written by clearstress backtest, not by `clearstress procyclicality`",
        ],
    );
    std::fs::write(&manifest_path, &original).unwrap();

    // A changed table.
    let file = apc.join("margin_history.parquet");
    let mut bytes = std::fs::read(&file).unwrap();
    bytes.push(0);
    std::fs::write(&file, &bytes).unwrap();
    refused(&apc, &["margin_history.parquet", "SHA-256"]);
    std::fs::write(&file, &bytes[..bytes.len() - 1]).unwrap();

    // A missing one.
    let members = apc.join("margin_history_members.parquet");
    std::fs::rename(&members, dir.path().join("aside.parquet")).unwrap();
    refused(&apc, &["margin_history_members.parquet"]);
    std::fs::rename(dir.path().join("aside.parquet"), &members).unwrap();

    // Put back, the folder is reported.
    let o = report(dir.path(), &run, &apc, "report");
    assert!(o.status.success(), "{}", text(&o.stderr));
}
