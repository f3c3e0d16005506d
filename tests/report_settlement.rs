//! `clearstress report RUN_DIR --settlement DIR`: `settle` folders of the
//! run's book rendered as "The clearing day", every number read from their
//! outputs (a day's `summary.json` and `margin_calls.parquet`, a replay's
//! `summary.json` and `vm_history.parquet`), the replay filling PQD 6.6 to
//! 6.8. Two folders of one kind, a folder of another book and a changed file
//! are refused naming the folder or file, and nothing is written. Without
//! `--settlement` the section says none was given and 6.6 to 6.8 are not
//! computed.

use std::fs;
use std::path::{Path, PathBuf};

#[path = "common/binary.rs"]
mod binary;
#[path = "common/machine.rs"]
mod machine;
#[path = "common/parquet.rs"]
mod parquet_columns;
#[path = "common/prices.rs"]
mod prices;
#[path = "common/report.rs"]
mod report_files;

use binary::clearstress_line as line;
use clearstress::input::sha256_hex;
use clearstress::report::money;
use parquet_columns::{floats, read_parquet, strings};
use report_files::{html_pqd_rows, html_rows, json, pqd_csv_rows, text};

/// Runs `l` (with `{dir}` filled in) and asserts that it succeeded.
fn ok(dir: &Path, l: &str) {
    let o = line(dir, l);
    assert!(o.status.success(), "{l}: {}", text(&o.stderr));
}

/// An `init --assets 10` book (8 members), a 2,000-path run of it, its
/// settlement to moved prices a day later (`{dir}/day`) and its replay over
/// the first quarter of 2024 at 1,000 paths a day (`{dir}/replay`).
fn run_and_settlements(dir: &Path) -> (PathBuf, PathBuf, PathBuf) {
    ok(
        dir,
        "init --out {dir}/book --assets 10 --members 8 --options 20",
    );
    fs::write(
        dir.join("eod.csv"),
        prices::moved_assets(&dir.join("book"), &[]),
    )
    .unwrap();
    for l in [
        "run --book {dir}/book --backend cpu --paths 2000 --quiet --out {dir}/run",
        "settle --book {dir}/book --prices {dir}/eod.csv --date 2025-02-21 --paths 2000 \
         --backend cpu --quiet --out {dir}/day",
        "settle --book {dir}/book --prices {history} --replay 2024-01-01..2024-03-31 --paths 1000 \
         --backend cpu --quiet --out {dir}/replay",
    ] {
        ok(dir, l);
    }
    (dir.join("run"), dir.join("day"), dir.join("replay"))
}

/// The section `id`'s HTML.
fn section<'a>(html: &'a str, id: &str) -> &'a str {
    let start = html
        .find(&format!("<section id=\"{id}\""))
        .unwrap_or_else(|| panic!("no section {id}"));
    &html[start..start + html[start..].find("</section>").unwrap()]
}

/// The PQD row `id`'s (description, value, unit) in the CSV rows.
fn pqd<'a>(rows: &'a [Vec<String>], id: &str) -> (&'a str, &'a str, &'a str) {
    let row = rows
        .iter()
        .find(|r| r[0] == id)
        .unwrap_or_else(|| panic!("no PQD row {id}"));
    (&row[1], &row[2], &row[3])
}

#[test]
fn settlements_add_the_clearing_day_and_fill_pqd_6_6_to_6_8() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path();
    let (run, day, replay) = run_and_settlements(dir);
    ok(
        dir,
        &format!(
            "report {} --settlement {} --settlement {} --out {{dir}}/report --quiet",
            run.display(),
            day.display(),
            replay.display()
        ),
    );
    let out = dir.join("report");
    let html = fs::read_to_string(out.join("report.html")).unwrap();
    let s = section(&html, "clearing-day");
    assert!(s.contains("<h2>The clearing day</h2>"), "{s}");

    // The day: one netting row per settlement asset and the total, from
    // summary.json; the payments and the calls' totals; the largest calls
    // from margin_calls.parquet, largest first.
    let summary = json(&day.join("summary.json"));
    let assets = summary["by_settlement_asset"].as_array().unwrap();
    let netting = html_rows(s, "<table>");
    assert_eq!(netting.len(), assets.len() + 1);
    for (row, asset) in netting.iter().zip(assets) {
        let name = asset["settlement_asset"].as_str().unwrap();
        assert_eq!(row[0], name);
        let gross = asset["gross"].as_f64().unwrap();
        let shown = if name == "USD" {
            money(gross)
        } else {
            format!("{gross:.6}")
        };
        assert_eq!(row[2], shown, "{name}");
    }
    let total = &summary["total_usd"];
    let last = netting.last().unwrap();
    assert_eq!(last[2], money(total["gross"].as_f64().unwrap()));
    assert_eq!(last[3], money(total["net"].as_f64().unwrap()));
    let payments = &summary["payments"];
    assert!(s.contains(&format!(
        "{} payments: members pay {} USD",
        payments["count"],
        money(payments["members_pay_usd"].as_f64().unwrap())
    )));
    let calls = &summary["margin_calls"];
    assert!(s.contains(&format!(
        "{} USD in all, of which {} USD is initial-margin shortfall",
        money(calls["total_call_usd"].as_f64().unwrap()),
        money(calls["total_im_shortfall_usd"].as_f64().unwrap())
    )));
    let table = read_parquet(&day.join("margin_calls.parquet"));
    let (members, call) = (strings(&table, "member_id"), floats(&table, "call_usd"));
    let largest = (0..call.len())
        .max_by(|&a, &b| call[a].total_cmp(&call[b]).then(b.cmp(&a)))
        .unwrap();
    let listed = html_rows(s, "largest calls");
    assert!(!listed.is_empty() && listed.len() <= 10);
    assert_eq!(listed[0][0], members[largest]);
    assert_eq!(listed[0][3], money(call[largest]));

    // The replay: PQD 6.6 to 6.8 in the section and in both PQD tables,
    // equal to its summary.json; a line per series, a point per day.
    let r = json(&replay.join("summary.json"));
    let average = money(r["average_vm_paid_usd"].as_f64().unwrap());
    let max_vm = money(r["max_vm_paid_usd"].as_f64().unwrap());
    let max_im = money(r["max_im_call_usd"].as_f64().unwrap());
    let measures = html_rows(s, "<th>PQD</th>");
    assert_eq!(measures[0][2], format!("{average} USD"));
    assert_eq!(
        measures[1][2],
        format!(
            "{max_vm} USD on {}",
            r["max_vm_paid_date"].as_str().unwrap()
        )
    );
    assert_eq!(
        measures[2][2],
        format!(
            "{max_im} USD on {}",
            r["max_im_call_date"].as_str().unwrap()
        )
    );
    let csv = pqd_csv_rows(&out.join("pqd.csv"), &html);
    assert_eq!(pqd(&csv, "6.6").1, average);
    assert_eq!(pqd(&csv, "6.7").1, max_vm);
    assert_eq!(pqd(&csv, "6.8").1, max_im);
    assert!(pqd(&csv, "6.7")
        .0
        .ends_with(&format!("on {}", r["max_vm_paid_date"].as_str().unwrap())));
    let html_pqd = html_pqd_rows(&html);
    let row = html_pqd.iter().find(|r| r[0] == "6.8").unwrap();
    assert_eq!(row[2], max_im);
    let days = read_parquet(&replay.join("vm_history.parquet"));
    let points = strings(&days, "date").len();
    let lines: Vec<usize> = s
        .split("<polyline points=\"")
        .skip(1)
        .map(|rest| rest[..rest.find('"').unwrap()].split(' ').count())
        .collect();
    assert_eq!(lines, [points, points]);

    // The report's manifest names both folders with their manifests' SHA-256.
    let manifest = json(&out.join("manifest.json"));
    let named = manifest["settlement"].as_array().unwrap();
    for (entry, folder) in named.iter().zip([&day, &replay]) {
        assert_eq!(entry["folder"], folder.to_str().unwrap());
        let sha256 = sha256_hex(&fs::read(folder.join("manifest.json")).unwrap());
        assert_eq!(entry["manifest_sha256"], sha256.as_str());
    }

    // Without --settlement: the section says so, and 6.6 to 6.8 are not computed.
    ok(
        dir,
        &format!("report {} --out {{dir}}/plain --quiet", run.display()),
    );
    let plain = fs::read_to_string(dir.join("plain/report.html")).unwrap();
    assert!(section(&plain, "clearing-day").contains("No settlement was given"));
    let csv = pqd_csv_rows(&dir.join("plain/pqd.csv"), &plain);
    for id in ["6.6", "6.7", "6.8"] {
        assert_eq!(pqd(&csv, id).1, "not computed");
        assert!(pqd(&csv, id).2.contains("report --settlement"));
    }
}

#[test]
fn a_second_folder_of_a_kind_another_book_or_a_changed_file_is_refused() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path();
    let (run, day, _) = run_and_settlements(dir);
    // A settlement of another book: six members, not eight.
    ok(
        dir,
        "init --out {dir}/other --assets 10 --members 6 --options 20",
    );
    fs::write(
        dir.join("other_eod.csv"),
        prices::moved_assets(&dir.join("other"), &[]),
    )
    .unwrap();
    ok(
        dir,
        "settle --book {dir}/other --prices {dir}/other_eod.csv --date 2025-02-21 --no-margin \
         --quiet --out {dir}/other_day",
    );
    let refused = |settlements: &[&Path], needles: &[&str]| {
        let mut l = format!("report {}", run.display());
        for s in settlements {
            l.push_str(&format!(" --settlement {}", s.display()));
        }
        l.push_str(" --out {dir}/refused --quiet");
        let o = line(dir, &l);
        let err = text(&o.stderr);
        assert_eq!(o.status.code(), Some(1), "{l}: {err}");
        for n in needles {
            assert!(err.contains(n), "`{n}` not in: {err}");
        }
        assert!(!dir.join("refused").exists(), "{l} wrote its output");
    };
    refused(
        &[&day, &day],
        &["a second settle day folder", day.to_str().unwrap()],
    );
    refused(
        &[&dir.join("other_day")],
        &[
            "the settle read another book than the run",
            "is not among the run's inputs",
        ],
    );
    let summary = day.join("summary.json");
    let changed = fs::read_to_string(&summary).unwrap() + "\n";
    fs::write(&summary, changed).unwrap();
    refused(&[&day], &["summary.json", "its SHA-256 is not the one"]);
}
