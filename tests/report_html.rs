//! `clearstress report`: a run folder rendered as one self-contained HTML
//! file and the PQD table as `pqd.csv`, every number read from the run's
//! outputs; a run folder that is incomplete or changed since the run is
//! refused naming the file (as is another version's or another command's
//! output), and nothing is written.
//!
//! Not here: rendering in a real browser (headless chromium, the page count
//! of the printed PDF); these tests read the HTML as text.

use std::path::Path;
use std::process::Output;

#[path = "common/binary.rs"]
mod binary;
#[path = "common/machine.rs"]
mod machine;
#[path = "common/parquet.rs"]
mod parquet_files;
#[path = "common/report.rs"]
mod report_files;

use binary::{clearstress, clearstress_line};
use report_files::{
    html_pqd_rows, html_rows, json, pqd_csv_rows, sample_run, sample_run_into, text, unescape,
};

use clearstress::report::money;
use serde_json::Value;

/// A quiet backtest of an `init --assets 10` book (six members) over eleven
/// days of the shipped history at 2,000 paths, into `dir/bt`: June 2022's
/// fall, so that the margin basis has exceptions on some days (and fewer
/// under the first model than under the second); Z2 with 50 simulations, so
/// that members with collateral have its p-value under the first model.
fn small_backtest(dir: &Path) -> std::path::PathBuf {
    for line in [
        "init --out {dir}/book --assets 10 --members 6 --options 20",
        "backtest --history {history} --book {dir}/book --from 2022-06-06 --to 2022-06-16 \
         --paths 2000 --z2-simulations 50 --model configured --model gaussian+apc_buffer \
         --quiet --out {dir}/bt",
    ] {
        let o = clearstress_line(dir, line);
        assert!(o.status.success(), "{line}: {}", text(&o.stderr));
    }
    dir.join("bt")
}

/// A quiet 2,000-path CPU run of `small_backtest`'s book into `dir/book-run`.
fn book_run(dir: &Path) -> std::path::PathBuf {
    let line = "run --backend cpu --paths 2000 --book {dir}/book --quiet --out {dir}/book-run";
    let o = clearstress_line(dir, line);
    assert!(o.status.success(), "{}", text(&o.stderr));
    dir.join("book-run")
}

/// The PQD rows a run's collateral adds: 5.1 per eligible asset, 5.2, 5.3,
/// and 6.2's split per asset held.
fn collateral_rows(run: &Path) -> usize {
    let manifest = json(&run.join("manifest.json"));
    let summary = json(&run.join("summary.json"));
    manifest["config"]["collateral"]["haircuts"]
        .as_object()
        .unwrap()
        .len()
        + 2
        + summary["margin"]["collateral_by_asset"]
            .as_array()
            .unwrap()
            .len()
}

/// The PQD 7 rows a run fills: 7.1 one per liquid resource in its
/// configuration, 7.3 two per settlement currency of its liquidity stress.
fn liquidity_rows(run: &Path) -> usize {
    let manifest = json(&run.join("manifest.json"));
    let resources = manifest["config"]["liquidity"]["resources"]
        .as_object()
        .unwrap();
    let summary = json(&run.join("summary.json"));
    let currencies = summary["liquidity_stress"]["currencies"]
        .as_array()
        .unwrap();
    resources.len() + 2 * currencies.len()
}

fn report_with_backtest(run: &Path, backtest: &Path, out: &Path) -> Output {
    let line = format!(
        "report {} --backtest {} --out {} --quiet",
        run.display(),
        backtest.display(),
        out.display()
    );
    clearstress_line(out, &line)
}

fn report(run: &Path, out: &Path) -> Output {
    clearstress(&[
        "report",
        run.to_str().unwrap(),
        "--out",
        out.to_str().unwrap(),
        "--quiet",
    ])
}

/// `o` failed (status 1) naming each of `named` on stderr, and wrote nothing
/// at `out`.
fn assert_refused(o: &Output, out: &Path, named: &[&str]) {
    let stderr = text(&o.stderr);
    assert_eq!(o.status.code(), Some(1), "{stderr}");
    for name in named {
        assert!(stderr.contains(name), "{name}: {stderr}");
    }
    assert!(!out.exists(), "{} was written", out.display());
}

/// The PQD row `id` of `rows`.
fn pqd_row(rows: &[Vec<String>], id: &str) -> Vec<String> {
    rows.iter()
        .find(|r| r[0] == id)
        .unwrap_or_else(|| panic!("no PQD row {id}: {rows:?}"))
        .clone()
}

/// Every field the run fills, with the summary.json value it must show, and
/// every field it must list as not computed.
const FILLED_USD: [(&str, &str); 7] = [
    ("4.3a", "/default_fund/current_total"),
    ("4.3b", "/default_fund/skin_in_the_game"),
    ("4.4.3", "/default_fund/cover1/amount"),
    ("4.4.7", "/default_fund/cover2/amount"),
    ("4.4.7a", "/close_out/cover_groups/uncovered_with_close_out"),
    ("6.1", "/margin/total_initial_margin"),
    ("6.2", "/margin/total_collateral"),
];
const NOT_COMPUTED: [&str; 7] = ["4.1", "6.4d", "6.5", "6.6", "6.7", "6.8", "7.x"];

#[test]
fn the_report_shows_every_pqd_field_from_the_runs_outputs_offline_with_charts() {
    let dir = tempfile::tempdir().unwrap();
    let run = sample_run(dir.path());
    let out = dir.path().join("report");
    let o = report(&run, &out);
    assert!(o.status.success(), "{}", text(&o.stderr));
    assert_eq!(text(&o.stdout).trim(), out.to_str().unwrap());

    let html = std::fs::read_to_string(out.join("report.html")).unwrap();
    let summary = json(&run.join("summary.json"));
    let rows = html_pqd_rows(&html);
    let row = |id: &str| {
        rows.iter()
            .find(|r| r[0] == id)
            .unwrap_or_else(|| panic!("no PQD row {id}: {rows:?}"))
    };
    for (id, pointer) in FILLED_USD {
        let value = summary.pointer(pointer).and_then(Value::as_f64).unwrap();
        assert_eq!(
            row(id)[2],
            money(value),
            "{id} against summary.json {pointer}"
        );
        assert_eq!(row(id)[3], "USD", "{id}");
    }
    let confidence = summary["margin"]["confidence"].as_f64().unwrap();
    assert_eq!(
        row("6.4b")[2..],
        [format!("{}", confidence * 100.0), "%".into()]
    );
    assert_eq!(row("6.4c")[2..], ["2".to_string(), "days".into()]);
    assert_eq!(row("6.4e")[2], "2,000");
    assert!(row("6.4a")[2].contains(summary["scenario_model"].as_str().unwrap()));
    for id in NOT_COMPUTED {
        assert_eq!(row(id)[2], "not computed", "{id}");
        assert!(!row(id)[3].is_empty(), "{id} gives no reason");
    }
    assert_eq!(
        rows.len(),
        18 + collateral_rows(&run) + liquidity_rows(&run),
        "{rows:?}"
    );

    // Self-contained: no script, no link or resource outside the file.
    assert!(html.starts_with("<!DOCTYPE html>"));
    assert!(!html.to_lowercase().contains("<script"));
    assert!(!html.contains("http://") && !html.contains("https://"));
    assert!(html.contains("@media print") && html.contains("size: A4"));
    // Five charts: margin against collateral, the largest margin's loss
    // distribution, the stress scenarios' covers, the waterfall, reverse
    // stress's k*.
    assert_eq!(html.matches("<svg").count(), 5);
    assert_eq!(html.matches("</svg>").count(), 5);
    // The distribution: the largest margin's member, every bin a bar whose
    // counts add up to the sample, its VaR and ES the margin's own.
    let d = &summary["loss_distribution"];
    let largest = &summary["largest_members"][0];
    assert_eq!(d["member_id"], largest["member_id"]);
    assert_eq!(d["es"], largest["es_99"]);
    assert_eq!(d["var"], largest["var_99"]);
    let bins = d["bins"].as_array().unwrap();
    assert_eq!(bins.len(), 50);
    let counted: u64 = bins.iter().map(|b| b["scenarios"].as_u64().unwrap()).sum();
    assert_eq!(counted, d["sample_scenarios"].as_u64().unwrap());
    assert_eq!(counted, 2_000, "the sample run's 2,000 paths, all of them");
    let chart = &html[html.find("Loss distribution of ").unwrap()..];
    let chart = &chart[..chart.find("</svg>").unwrap()];
    assert_eq!(chart.matches("<rect").count(), 50);
    for (name, key) in [("VaR 99%", "var"), ("ES 99%", "es")] {
        let value = money(d[key].as_f64().unwrap());
        assert!(
            chart.contains(&format!("<title>{name}: {value}</title>")),
            "{name} {value}"
        );
    }
    for scenario in summary["stress_scenarios"].as_array().unwrap() {
        let name = scenario["name"].as_str().unwrap();
        let cover2 = money(scenario["cover2"].as_f64().unwrap());
        let escaped = name
            .replace('&', "&amp;")
            .replace('<', "&lt;")
            .replace('>', "&gt;");
        let row = format!(
            "<td>{escaped}</td><td class=\"num\">{}</td><td class=\"num\">{cover2}</td>",
            money(scenario["cover1"].as_f64().unwrap())
        );
        assert!(html.contains(&row), "no stress row {row}");
    }
    // Provenance: the run's seed and every input's hash.
    let manifest = json(&run.join("manifest.json"));
    assert!(html.contains(&manifest["seed"].to_string()));
    for input in manifest["inputs"].as_array().unwrap() {
        assert!(html.contains(input["sha256"].as_str().unwrap()));
    }
    assert!(html.contains("<td>risk.margin_period_days</td><td>2.0</td>"));
    assert!(html.contains("<td>scenario.nig_shape</td><td>0.7</td>"));
    for member in summary["largest_members"].as_array().unwrap() {
        assert!(html.contains(&money(member["initial_margin"].as_f64().unwrap())));
    }

    // pqd.csv holds the same rows.
    assert_eq!(pqd_csv_rows(&out.join("pqd.csv"), &html), rows);

    // The output is clearstress's: a second report replaces it.
    let again = report(&run, &out);
    assert!(again.status.success(), "{}", text(&again.stderr));
    assert_eq!(json(&out.join("manifest.json"))["kind"], "report");
}

/// [`sample_run`] reported into `dir/report`: the run folder and the HTML.
fn sample_report(dir: &Path) -> (std::path::PathBuf, String) {
    let run = sample_run(dir);
    let out = dir.join("report");
    let o = report(&run, &out);
    assert!(o.status.success(), "{}", text(&o.stderr));
    (
        run,
        std::fs::read_to_string(out.join("report.html")).unwrap(),
    )
}

/// A run table's rows, each as (text columns, number columns) in `texts`'
/// and `numbers`' order.
fn parquet_rows(path: &Path, texts: &[&str], numbers: &[&str]) -> Vec<(Vec<String>, Vec<f64>)> {
    let table = clearstress::input::Table::read(path).unwrap();
    table
        .rows()
        .map(|row| {
            (
                texts
                    .iter()
                    .map(|c| row.str(c).unwrap().to_string())
                    .collect(),
                numbers.iter().map(|c| row.f64(c).unwrap()).collect(),
            )
        })
        .collect()
}

#[test]
fn the_stress_groups_are_the_runs_and_sum_its_members_losses() {
    let dir = tempfile::tempdir().unwrap();
    let (run, html) = sample_report(dir.path());

    let numbers = ["loss", "collateral", "uncovered"];
    let groups = parquet_rows(
        &run.join("stress_groups.parquet"),
        &["scenario", "group"],
        &numbers,
    );
    let members = parquet_rows(
        &run.join("stress_losses.parquet"),
        &["scenario", "group"],
        &numbers,
    );
    let summary = json(&run.join("summary.json"));
    let scenarios: Vec<&str> = summary["stress_scenarios"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| s["name"].as_str().unwrap())
        .collect();
    let group_names: std::collections::BTreeSet<&String> =
        members.iter().map(|(t, _)| &t[1]).collect();
    assert_eq!(groups.len(), scenarios.len() * group_names.len());
    // Each group row is the sum of its members' rows in that scenario.
    for (key, values) in &groups {
        let mut sum = [0.0; 3];
        for (_, v) in members.iter().filter(|(t, _)| t == key) {
            for (s, x) in sum.iter_mut().zip(v) {
                *s += x;
            }
        }
        for ((name, x), s) in numbers.iter().zip(values).zip(sum) {
            assert!(
                (x - s).abs() <= 1e-9 * s.abs().max(1.0),
                "{key:?} {name}: {x} against the members' {s}"
            );
        }
    }
    assert!(groups.iter().any(|(_, v)| v[2] > 0.0), "no uncovered loss");

    // The report: per scenario, its groups with an uncovered loss, the five
    // largest, with the file's values.
    let mut expected = Vec::new();
    for scenario in &scenarios {
        let mut rows: Vec<&(Vec<String>, Vec<f64>)> = groups
            .iter()
            .filter(|(t, v)| t[0] == *scenario && v[2] > 0.0)
            .collect();
        rows.sort_by(|a, b| b.1[2].total_cmp(&a.1[2]));
        if rows.is_empty() {
            expected.push(vec![
                scenario.to_string(),
                "none".into(),
                "".into(),
                "".into(),
                "".into(),
            ]);
        }
        for (t, v) in rows.iter().take(5) {
            let mut row = t.clone();
            row.extend(v.iter().map(|x| money(*x)));
            expected.push(row);
        }
        if rows.len() > 5 {
            expected.push(vec![
                scenario.to_string(),
                format!(
                    "and {} more (<code>stress_groups.parquet</code>)",
                    rows.len() - 5
                ),
                "".into(),
                "".into(),
                "".into(),
            ]);
        }
    }
    assert_eq!(
        html_rows(&html, "<h3>Uncovered loss by affiliate group</h3>"),
        expected
    );
}

/// The amount cells of a table's row as numbers: each `money` of a value.
fn amounts(values: &[&Value]) -> Vec<String> {
    values.iter().map(|v| money(v.as_f64().unwrap())).collect()
}

#[test]
fn the_default_management_section_is_the_runs_waterfall_close_out_and_stresses() {
    let dir = tempfile::tempdir().unwrap();
    let (run, html) = sample_report(dir.path());
    let s = json(&run.join("summary.json"));
    let section = &html[html.find("<section id=\"default-management\">").unwrap()..];
    let section = &section[..section.find("</section>").unwrap()];

    // The requirement's waterfall: waterfall.parquet's rows of its scenario,
    // which summary.json's default_fund.waterfall repeats.
    let scenario = s["default_fund"]["cover2"]["scenario"].as_str().unwrap();
    assert_eq!(s["default_fund"]["cover"], 2);
    let layers: Vec<Vec<String>> = parquet_rows(
        &run.join("waterfall.parquet"),
        &["scenario", "layer"],
        &["available", "used", "remaining"],
    )
    .into_iter()
    .filter(|(t, _)| t[0] == scenario)
    .map(|(t, n)| {
        let mut row = vec![t[1].clone()];
        row.extend(n.iter().map(|&x| money(x)));
        row
    })
    .collect();
    let summary_layers: Vec<Vec<String>> = s["default_fund"]["waterfall"]
        .as_array()
        .unwrap()
        .iter()
        .map(|l| {
            let mut row = vec![l["layer"].as_str().unwrap().to_string()];
            row.extend(amounts(&[&l["available"], &l["used"], &l["remaining"]]));
            row
        })
        .collect();
    assert!(!layers.is_empty());
    assert_eq!(html_rows(section, "<h3>Waterfall</h3>"), layers);
    assert_eq!(layers, summary_layers);
    // One place for it: the default fund section has no waterfall of its own.
    let fund = &html[html.find("<section id=\"default-fund\">").unwrap()..];
    let fund = &fund[..fund.find("</section>").unwrap()];
    assert!(!fund.contains("Waterfall") && !fund.contains("assessments"));

    // Every scenario's unfunded loss: the largest five, as summary.json has them.
    let w = &s["waterfall"];
    assert!(section.contains(&format!(
        "{} of {} scenarios leave a loss unfunded",
        w["scenarios_unfunded"],
        w["scenarios"].as_array().unwrap().len()
    )));
    let unfunded = html_rows(section, "scenarios leave a loss unfunded");
    assert_eq!(unfunded.len(), 5);
    for row in &unfunded {
        let x = w["scenarios"]
            .as_array()
            .unwrap()
            .iter()
            .find(|x| x["scenario"] == row[0].as_str())
            .unwrap();
        let groups: Vec<&str> = x["defaulting_groups"]
            .as_array()
            .unwrap()
            .iter()
            .map(|g| g.as_str().unwrap())
            .collect();
        assert_eq!(row[1], groups.join(" + "));
        assert_eq!(row[2..], amounts(&[&x["loss"], &x["unfunded"]]));
    }

    // Close-out: the Cover-2 groups' uncovered loss, cost and sum, then the
    // largest groups' costs and the total.
    let c = &s["close_out"];
    let cover = &c["cover_groups"];
    let mut expected: Vec<Vec<String>> = cover["groups"]
        .as_array()
        .unwrap()
        .iter()
        .map(|g| {
            let mut row = vec![g["group"].as_str().unwrap().to_string()];
            row.extend(amounts(&[
                &g["uncovered_loss"],
                &g["close_out_cost"],
                &g["uncovered_with_close_out"],
            ]));
            row
        })
        .collect();
    let mut total = vec!["Cover-2".to_string()];
    total.extend(amounts(&[
        &cover["uncovered_loss"],
        &cover["close_out_cost"],
        &cover["uncovered_with_close_out"],
    ]));
    expected.push(total);
    assert_eq!(html_rows(section, "<h3>Close-out cost</h3>"), expected);
    let mut costs: Vec<(String, f64)> = c["groups"]
        .as_array()
        .unwrap()
        .iter()
        .map(|g| {
            (
                g["group"].as_str().unwrap().into(),
                g["cost"].as_f64().unwrap(),
            )
        })
        .collect();
    costs.sort_by(|a, b| b.1.total_cmp(&a.1));
    let mut expected: Vec<Vec<String>> = costs[..5]
        .iter()
        .map(|(g, x)| vec![g.clone(), money(*x)])
        .collect();
    expected.push(vec![
        format!("all {} groups", costs.len()),
        money(c["total"].as_f64().unwrap()),
    ]);
    assert_eq!(html_rows(section, "largest close-out cost"), expected);

    // Reverse stress: every scenario's k* (as reverse_stress.parquet holds
    // it too) and groups to exhaust, the most severe in bold; a bar per
    // scenario.
    let r = &s["reverse_stress"];
    let severe = r["most_severe"]["scenario"].as_str().unwrap();
    let k_file = parquet_files::column(
        &parquet_files::read_parquet(&run.join("reverse_stress.parquet")),
        "k_star",
        |a: &arrow_array::Float64Array, i| arrow_array::Array::is_valid(a, i).then(|| a.value(i)),
    );
    let reverse = html_rows(section, "<h3>Reverse stress</h3>");
    let scenarios = r["scenarios"].as_array().unwrap();
    assert_eq!(reverse.len(), scenarios.len());
    for ((row, x), from_file) in reverse.iter().zip(scenarios).zip(&k_file) {
        let name = x["name"].as_str().unwrap();
        let shown =
            |k: Option<f64>| k.map_or("not within k_searched".into(), |k| format!("{k:.3}"));
        // JSON's decimal may be read back a unit in the last place off.
        let k = shown(x["k_star"].as_f64());
        assert_eq!(k, shown(*from_file), "{name}");
        let groups = x["groups_to_exhaust"]
            .as_u64()
            .map_or("not exhausted".into(), |g| g.to_string());
        let bold = |cell: String| {
            if name == severe {
                format!("<strong>{cell}</strong>")
            } else {
                cell
            }
        };
        let shown = if name == severe {
            format!("{name} (most severe)")
        } else {
            name.to_string()
        };
        assert_eq!(
            row[1..],
            [
                bold(shown),
                money(x["cover_n"].as_f64().unwrap()),
                format!("{:.3}", x["k_searched"].as_f64().unwrap()),
                bold(k),
                groups
            ],
            "{name}"
        );
    }
    let chart = &section[section.find("<h3>Reverse stress</h3>").unwrap()..];
    let chart = &chart[chart.find("<svg").unwrap()..chart.find("</svg>").unwrap()];
    assert_eq!(
        chart.matches("<rect").count() - 1,
        scenarios.len(),
        "a bar each and the legend's box"
    );

    // Fund depletion across the Monte Carlo scenarios: a row per
    // confidence, as fund_depletion.parquet holds them.
    let d = &s["fund_depletion"];
    assert_eq!(d["computed"], true);
    let batch = parquet_files::read_parquet(&run.join("fund_depletion.parquet"));
    let column = |name: &str| {
        parquet_files::column(&batch, name, |a: &arrow_array::Float64Array, i| a.value(i))
    };
    let columns: Vec<Vec<f64>> = [
        "confidence",
        "demand_var",
        "demand_es",
        "demand_es_stderr",
        "depletion_var",
        "depletion_es",
        "depletion_es_stderr",
    ]
    .iter()
    .map(|c| column(c))
    .collect();
    let expected: Vec<Vec<String>> = (0..columns[0].len())
        .map(|i| columns.iter().map(|c| c[i]).collect::<Vec<f64>>())
        .map(|x| {
            vec![
                format!("{}%", (x[0] * 1e6).round() / 1e4),
                money(x[1]),
                format!("{} ± {}", money(x[2]), money(x[3])),
                money(x[4]),
                format!("{} ± {}", money(x[5]), money(x[6])),
            ]
        })
        .collect();
    assert_eq!(expected.len(), d["measures"].as_array().unwrap().len());
    let heading = "<h3>Fund depletion across the Monte Carlo scenarios</h3>";
    assert_eq!(html_rows(section, heading), expected);
    let text = &section[section.find(heading).unwrap()..];
    for count in ["scenarios", "exhausted", "scenarios_with_uncovered_loss"] {
        let shown = money(d[count].as_f64().unwrap());
        assert!(text.contains(&format!("{shown} scenarios")), "{count}");
    }
    assert!(text.contains(&format!("{} USD", money(d["resources"].as_f64().unwrap()))));

    // Liquidity stress: per settlement currency.
    let expected: Vec<Vec<String>> = s["liquidity_stress"]["currencies"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| {
            let mut row = vec![c["currency"].as_str().unwrap().to_string()];
            row.extend(amounts(&[&c["largest_need"], &c["largest_shortfall"]]));
            row.push(c["scenario"].as_str().unwrap_or("none").to_string());
            row
        })
        .collect();
    assert_eq!(html_rows(section, "<h3>Liquidity stress</h3>"), expected);

    // PQD 7.1 and 7.3 from the same values, in report.html and pqd.csv.
    let pqd = html_pqd_rows(&html);
    assert_eq!(pqd_csv_rows(&dir.path().join("report/pqd.csv"), &html), pqd);
    let manifest = json(&run.join("manifest.json"));
    let usd = manifest["config"]["liquidity"]["resources"]["USD"]
        .as_f64()
        .unwrap();
    assert_eq!(pqd_row(&pqd, "7.1a")[2..], [money(usd), "USD".into()]);
    for (i, c) in expected.iter().enumerate() {
        let letter = |k: usize| char::from(b'a' + k as u8);
        let need = pqd_row(&pqd, &format!("7.3{}", letter(2 * i)));
        let shortfall = pqd_row(&pqd, &format!("7.3{}", letter(2 * i + 1)));
        assert!(need[1].contains(&format!("settlement currency {}", c[0])));
        assert_eq!(
            (need[2].as_str(), shortfall[2].as_str()),
            (c[1].as_str(), c[2].as_str())
        );
    }
}

#[test]
fn the_default_funds_allocation_is_the_runs_largest_required_contributions() {
    let dir = tempfile::tempdir().unwrap();
    let (run, html) = sample_report(dir.path());

    let mut members = parquet_rows(
        &run.join("default_fund.parquet"),
        &["member_id", "group"],
        &[
            "share",
            "required_contribution",
            "current_contribution",
            "top_up",
        ],
    );
    let df = &json(&run.join("summary.json"))["default_fund"];
    let (requirement, held) = (
        df["requirement"].as_f64().unwrap(),
        df["current_total"].as_f64().unwrap(),
    );
    let required: f64 = members.iter().map(|(_, v)| v[1]).sum();
    assert!((required - requirement).abs() <= 1e-6 * requirement.max(1.0));
    let count = members.len();
    assert!(count > 10, "{count} members");
    members.sort_by(|a, b| b.1[1].total_cmp(&a.1[1]));
    let mut expected: Vec<Vec<String>> = members
        .iter()
        .take(10)
        .map(|(t, v)| {
            let mut row = t.clone();
            row.push(format!("{}", (v[0] * 1e6).round() / 1e4));
            row.extend(v[1..].iter().map(|x| money(*x)));
            row
        })
        .collect();
    assert!(expected[0][3] != money(0.0), "{expected:?}");
    expected.push(vec![
        format!("all {count} members"),
        String::new(),
        String::new(),
        money(requirement),
        money(held),
        String::new(),
    ]);
    assert_eq!(html_rows(&html, "<h3>Allocation</h3>"), expected);
}

#[test]
fn an_incomplete_changed_or_foreign_run_folder_is_refused_naming_the_file() {
    let dir = tempfile::tempdir().unwrap();
    let run = sample_run(dir.path());
    let out = dir.path().join("report");

    std::fs::rename(run.join("summary.json"), dir.path().join("aside.json")).unwrap();
    let o = report(&run, &out);
    assert_eq!(o.status.code(), Some(1));
    assert!(
        text(&o.stderr).contains("`summary.json` is missing"),
        "{}",
        text(&o.stderr)
    );
    assert!(!out.exists());
    std::fs::rename(dir.path().join("aside.json"), run.join("summary.json")).unwrap();

    let margins = run.join("margins.parquet");
    let mut bytes = std::fs::read(&margins).unwrap();
    bytes.push(0);
    std::fs::write(&margins, &bytes).unwrap();
    let o = report(&run, &out);
    assert_eq!(o.status.code(), Some(1));
    let stderr = text(&o.stderr);
    assert!(
        stderr.contains("margins.parquet") && stderr.contains("SHA-256"),
        "{stderr}"
    );
    assert!(!out.exists());

    std::fs::write(&margins, &bytes[..bytes.len() - 1]).unwrap();
    let manifest_path = run.join("manifest.json");
    let original = std::fs::read_to_string(&manifest_path).unwrap();
    for (field, value, expected) in [
        ("version", "0.0.1", "written by clearstress 0.0.1"),
        ("kind", "compare", "not by `clearstress run`"),
    ] {
        let mut manifest: Value = serde_json::from_str(&original).unwrap();
        manifest[field] = value.into();
        std::fs::write(&manifest_path, manifest.to_string()).unwrap();
        let o = report(&run, &out);
        assert_eq!(o.status.code(), Some(1));
        let stderr = text(&o.stderr);
        assert!(
            stderr.contains("manifest.json") && stderr.contains(expected),
            "{stderr}"
        );
        assert!(!out.exists());
    }

    // A run folder from before default management: no waterfall.parquet.
    let mut manifest: Value = serde_json::from_str(&original).unwrap();
    manifest["outputs"]
        .as_array_mut()
        .unwrap()
        .retain(|o| o["file"] != "waterfall.parquet");
    std::fs::write(&manifest_path, manifest.to_string()).unwrap();
    std::fs::remove_file(run.join("waterfall.parquet")).unwrap();
    let o = report(&run, &out);
    assert_refused(
        &o,
        &out,
        &[
            "lists no `waterfall.parquet`",
            "written before clearstress managed defaults",
        ],
    );

    std::fs::remove_file(run.join("manifest.json")).unwrap();
    let o = report(&run, &out);
    assert!(
        text(&o.stderr).contains("`manifest.json` is missing"),
        "{}",
        text(&o.stderr)
    );
    assert!(!out.exists());
    let leftovers: Vec<_> = std::fs::read_dir(dir.path())
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    assert_eq!(leftovers, ["run"], "nothing but the run folder is left");
}

#[test]
fn an_occupied_destination_or_the_run_folder_itself_is_refused_untouched() {
    let dir = tempfile::tempdir().unwrap();
    let run = sample_run(dir.path());
    let occupied = dir.path().join("mine");
    std::fs::create_dir(&occupied).unwrap();
    std::fs::write(occupied.join("notes.txt"), "the user's").unwrap();
    let o = report(&run, &occupied);
    assert_eq!(o.status.code(), Some(1));
    assert!(text(&o.stderr).contains("notes.txt"), "{}", text(&o.stderr));
    assert_eq!(std::fs::read_dir(&occupied).unwrap().count(), 1);

    let before = std::fs::read(run.join("manifest.json")).unwrap();
    let o = report(&run, &run);
    assert_eq!(o.status.code(), Some(1));
    assert!(
        text(&o.stderr).contains("holds a clearstress run output, not a report output"),
        "{}",
        text(&o.stderr)
    );
    assert_eq!(std::fs::read(run.join("manifest.json")).unwrap(), before);
    assert!(!run.join("report.html").exists());
}

#[test]
fn a_backtest_fills_pqd_6_5_and_adds_its_section_and_a_changed_one_is_refused() {
    let dir = tempfile::tempdir().unwrap();
    let bt = small_backtest(dir.path());
    let run = book_run(dir.path());
    let out = dir.path().join("report");
    let o = report_with_backtest(&run, &bt, &out);
    assert!(o.status.success(), "{}", text(&o.stderr));

    let html = std::fs::read_to_string(out.join("report.html")).unwrap();
    let summary = json(&bt.join("backtest.json"));
    let pooled = summary["portfolios"]
        .as_array()
        .unwrap()
        .iter()
        .find(|p| p["id"] == "all" && p["kind"] == "member_with_collateral")
        .expect("a pooled member_with_collateral row");
    let all_days = &pooled["all_days"];
    let rows = html_pqd_rows(&html);
    let row = |id: &str| {
        rows.iter()
            .find(|r| r[0] == id)
            .unwrap_or_else(|| panic!("no PQD row {id}: {rows:?}"))
            .clone()
    };
    let observations = all_days["observations"].as_u64().unwrap();
    assert!(observations > 0);
    assert_eq!(
        row("6.5a")[2..],
        [money(observations as f64), "days".into()]
    );
    assert_eq!(
        row("6.5b")[2..],
        [
            money(all_days["exceptions"].as_f64().unwrap()),
            "exceptions".into()
        ]
    );
    let coverage = all_days["coverage"].as_f64().unwrap();
    assert_eq!(
        row("6.5c")[2..],
        [format!("{}", (coverage * 1e6).round() / 1e4), "%".into()]
    );
    assert_eq!(
        row("6.5.4")[2..],
        [
            money(all_days["largest_exception"].as_f64().unwrap()),
            "USD".into()
        ]
    );
    let period = format!(
        "{}..{}",
        summary["first_day"].as_str().unwrap(),
        summary["last_day"].as_str().unwrap()
    );
    assert!(row("6.5a")[1].contains(&period), "{:?}", row("6.5a"));
    assert!(rows.iter().all(|r| r[0] != "6.5"), "{rows:?}");
    assert_eq!(
        rows.len(),
        21 + collateral_rows(&run) + liquidity_rows(&run),
        "{rows:?}"
    );
    assert_eq!(pqd_csv_rows(&out.join("pqd.csv"), &html), rows);

    // The section: the period, each kind's pooled row, the zones, a fourth chart.
    let start = html
        .find("<section id=\"backtesting\"><h2>Backtesting</h2>")
        .expect("a backtesting section");
    let section = &html[start..start + html[start..].find("</section>").unwrap()];
    assert!(section.contains(&period));
    // Two models backtested: the report shows the first, each kind once.
    assert_eq!(summary["models"][0], "configured");
    assert_eq!(pooled["model"], "configured");
    assert!(section.contains(
        "<h3>Model <code>configured</code> in detail</h3><p>The first of the 2 models \
         backtested, the one PQD 6.5 reports.</p>"
    ));
    assert!(
        row("6.5a")[1].contains("model configured"),
        "{:?}",
        row("6.5a")
    );
    // Every model compared, each number backtest.json's.
    assert_eq!(
        html_rows(section, "<h3>Models compared</h3>"),
        models_compared(&summary)
    );
    for kind in ["member", "member_with_collateral", "group"] {
        assert_eq!(
            section.matches(&format!("<tr><td>{kind}</td>")).count(),
            1,
            "{kind}"
        );
    }
    assert!(section.contains("red or yellow zone"));
    assert_eq!(section.matches("<svg").count(), 2);
    assert_eq!(html.matches("<svg").count(), 7);
    exceptions_by_day_drawn(section, &summary, pooled);
    assert_eq!(
        json(&out.join("manifest.json"))["backtest"],
        bt.to_str().unwrap()
    );

    // Without --backtest: no section, 6.5 not computed.
    let plain = dir.path().join("plain");
    assert!(report(&run, &plain).status.success());
    let html = std::fs::read_to_string(plain.join("report.html")).unwrap();
    assert!(!html.contains("id=\"backtesting\""));
    let rows = html_pqd_rows(&html);
    assert!(rows.iter().any(|r| r[0] == "6.5" && r[2] == "not computed"));

    // A backtest of another book (the embedded sample's run against the
    // init book's backtest): refused naming both folders and the file.
    let sample = sample_run(dir.path());
    let other = dir.path().join("other");
    let named = [
        bt.join("manifest.json"),
        sample.join("manifest.json"),
        dir.path().join("book/ccp.toml"),
    ];
    let mut named: Vec<&str> = named.iter().map(|p| p.to_str().unwrap()).collect();
    named.push("another book");
    assert_refused(&report_with_backtest(&sample, &bt, &other), &other, &named);

    // A backtest whose manifest records no input hashes (written before they
    // were): reported with a warning in its section and on stderr.
    let manifest_path = bt.join("manifest.json");
    let original = std::fs::read_to_string(&manifest_path).unwrap();
    let mut manifest: Value = serde_json::from_str(&original).unwrap();
    assert!(manifest["inputs"].as_array().is_some_and(|i| !i.is_empty()));
    manifest.as_object_mut().unwrap().remove("inputs");
    std::fs::write(&manifest_path, manifest.to_string()).unwrap();
    let unchecked = dir.path().join("unchecked");
    let o = report_with_backtest(&sample, &bt, &unchecked);
    assert!(o.status.success(), "{}", text(&o.stderr));
    assert!(
        text(&o.stderr).contains("warning: the backtest's manifest.json records no input hashes"),
        "{}",
        text(&o.stderr)
    );
    let html = std::fs::read_to_string(unchecked.join("report.html")).unwrap();
    let start = html.find("<section id=\"backtesting\">").unwrap();
    let section = &html[start..start + html[start..].find("</section>").unwrap()];
    assert!(
        section.contains("<p class=\"warning\"><strong>Warning:</strong> the backtest&#39;s manifest.json records no input hashes"),
        "{section}"
    );
    std::fs::write(&manifest_path, original).unwrap();

    // A changed backtest.json, a run folder given as a backtest: refused
    // naming the file, nothing written.
    let changed = dir.path().join("changed");
    let file = bt.join("backtest.json");
    let mut bytes = std::fs::read(&file).unwrap();
    bytes.push(b' ');
    std::fs::write(&file, &bytes).unwrap();
    let o = report_with_backtest(&run, &bt, &changed);
    assert_eq!(o.status.code(), Some(1));
    let stderr = text(&o.stderr);
    assert!(
        stderr.contains("backtest.json") && stderr.contains("SHA-256"),
        "{stderr}"
    );
    assert!(!changed.exists());
    let o = report_with_backtest(&run, &run, &changed);
    assert_eq!(o.status.code(), Some(1));
    let stderr = text(&o.stderr);
    assert!(
        stderr.contains("manifest.json") && stderr.contains("not by `clearstress backtest`"),
        "{stderr}"
    );
    assert!(!changed.exists());
}

/// The comparison of the models as `backtest.json` gives it: per model (in
/// `models`' order), each kind's pooled row on all days, the kind's
/// portfolios whose Christoffersen conditional-coverage and Z2 p-values are
/// below 5% of those with one, the pooled margin's average and
/// peak-to-trough.
fn models_compared(summary: &Value) -> Vec<Vec<String>> {
    let portfolios = summary["portfolios"].as_array().unwrap();
    let percent = |x: &Value| format!("{}%", (x.as_f64().unwrap() * 1e6).round() / 1e4);
    let rejected = |p: Vec<f64>| match p.len() {
        0 => "-".to_string(),
        n => format!("{}/{n}", p.iter().filter(|&&p| p < 0.05).count()),
    };
    let mut rows = Vec::new();
    for model in summary["models"].as_array().unwrap() {
        let of_model = || portfolios.iter().filter(move |p| p["model"] == *model);
        for pooled in of_model().filter(|p| p["aggregate"] == true && p["id"] == "all") {
            let of_kind: Vec<&Value> = of_model()
                .filter(|p| p["aggregate"] == false && p["kind"] == pooled["kind"])
                .collect();
            let p_values = |pointer: &str| -> Vec<f64> {
                of_kind
                    .iter()
                    .filter_map(|p| p.pointer(pointer).and_then(Value::as_f64))
                    .collect()
            };
            let a = &pooled["all_days"];
            rows.push(vec![
                format!("<code>{}</code>", model.as_str().unwrap()),
                pooled["kind"].as_str().unwrap().to_string(),
                format!("{} / {}", a["exceptions"], a["observations"]),
                percent(&a["coverage"]),
                a["traffic_light"].as_str().unwrap().to_string(),
                format!("{:.3}", a["kupiec"]["p"].as_f64().unwrap()),
                rejected(p_values("/all_days/christoffersen/conditional_coverage/p")),
                rejected(p_values("/z2/p_value")),
                money(pooled["average_margin"].as_f64().unwrap()),
                percent(&pooled["margin_peak_to_trough"]),
            ]);
        }
    }
    assert_eq!(rows.len(), 6, "two models, three kinds: {rows:?}");
    assert!(
        rows.iter().any(|r| r[7] != "-"),
        "no Z2 p-value to count: {rows:?}"
    );
    rows
}

/// The pooled `member_with_collateral` row's exceptions per day: in
/// `backtest.json` (the first model's), adding up to the pooled row, and
/// drawn in `section`'s chart, a point per observed day at its value.
fn exceptions_by_day_drawn(section: &str, summary: &Value, pooled: &Value) {
    let series = summary["exceptions_by_day"]
        .as_array()
        .unwrap()
        .iter()
        .find(|s| s["model"] == summary["models"][0] && s["kind"] == "member_with_collateral")
        .expect("the margin basis's exceptions by day");
    let days = series["days"].as_array().unwrap();
    assert_eq!(
        days.len() as u64,
        summary["observed_days"].as_u64().unwrap()
    );
    let field = |d: &Value, k: &str| d[k].as_u64().unwrap();
    let sum = |k: &str| days.iter().map(|d| field(d, k)).sum::<u64>();
    assert_eq!(
        sum("exceptions"),
        pooled["all_days"]["exceptions"].as_u64().unwrap()
    );
    assert_eq!(
        sum("portfolios"),
        pooled["all_days"]["observations"].as_u64().unwrap()
    );
    let dates: Vec<&str> = days.iter().map(|d| d["date"].as_str().unwrap()).collect();
    assert_eq!(dates.first().copied(), summary["first_day"].as_str());
    assert_eq!(dates.last().copied(), summary["last_day"].as_str());

    let start = section
        .find("Exceptions per day, member_with_collateral (pooled)")
        .expect("the exceptions-per-day chart");
    let chart = &section[start..start + section[start..].find("</svg>").unwrap()];
    let number = |s: &str| s.parse::<f64>().unwrap();
    let from = chart.find("<polyline points=\"").unwrap() + "<polyline points=\"".len();
    let points: Vec<(f64, f64)> = chart[from..from + chart[from..].find('"').unwrap()]
        .split(' ')
        .map(|p| {
            let (x, y) = p.split_once(',').unwrap();
            (number(x), number(y))
        })
        .collect();
    assert_eq!(points.len(), days.len());
    assert!(points.windows(2).all(|w| w[0].0 < w[1].0), "{points:?}");
    // The zero line: the x axis, the first line after the polyline.
    let after = &chart[chart.find("</polyline>").unwrap()..];
    let from = after.find("<line ").unwrap();
    let y1 = &after[from + after[from..].find("y1=\"").unwrap() + 4..];
    let zero = number(&y1[..y1.find('"').unwrap()]);
    // Heights above the zero line are proportional to the values.
    let values: Vec<f64> = days.iter().map(|d| field(d, "exceptions") as f64).collect();
    let (top, highest) = values
        .iter()
        .zip(&points)
        .max_by(|a, b| a.0.total_cmp(b.0))
        .map(|(v, p)| (*v, p.1))
        .unwrap();
    assert!(top > 0.0, "no exception to draw: {values:?}");
    let per = (zero - highest) / top;
    for (v, (_, y)) in values.iter().zip(&points) {
        assert!(
            ((zero - y) - per * v).abs() <= 0.15,
            "{v} at y {y}: {points:?}"
        );
    }
}

/// A report table's rows (after `marker`, the first table), each as its
/// cells' text.
fn table_rows(html: &str, marker: &str) -> Vec<Vec<String>> {
    let start = html.find(marker).unwrap_or_else(|| panic!("no {marker}"));
    let from = start + html[start..].find("<tbody>").unwrap();
    let body = &html[from..from + html[from..].find("</tbody>").unwrap()];
    body.split("<tr>")
        .skip(1)
        .map(|row| {
            row.split("<td>")
                .skip(1)
                .map(|cell| unescape(&cell[..cell.find("</td>").unwrap()]))
                .collect()
        })
        .collect()
}

/// The model section's rows: item -> value.
fn model_rows(html: &str) -> std::collections::BTreeMap<String, String> {
    table_rows(html, "<section id=\"model\">")
        .into_iter()
        .map(|r| (r[0].clone(), r[1].clone()))
        .collect()
}

#[test]
fn run_report_writes_into_the_runs_folder_what_report_renders_from_it() {
    let dir = tempfile::tempdir().unwrap();
    let run = sample_run_into(&dir.path().join("run"), &["--apc", "buffer", "--report"]);

    // Listed in the one manifest with their SHA-256: the folder checks out.
    let manifest = json(&run.join("manifest.json"));
    for file in ["report.html", "pqd.csv"] {
        let listed = manifest["outputs"]
            .as_array()
            .unwrap()
            .iter()
            .find(|o| o["file"] == file)
            .unwrap_or_else(|| panic!("{file} not in the manifest"));
        let bytes = std::fs::read(run.join(file)).unwrap();
        assert_eq!(
            listed["sha256"],
            clearstress::input::sha256_hex(&bytes),
            "{file}"
        );
    }

    // `report` accepts the folder and renders the same bytes (nothing in the
    // report depends on when it was rendered).
    let out = dir.path().join("rep");
    let o = report(&run, &out);
    assert!(o.status.success(), "{}", text(&o.stderr));
    for file in ["report.html", "pqd.csv"] {
        assert!(
            std::fs::read(run.join(file)).unwrap() == std::fs::read(out.join(file)).unwrap(),
            "{file} differs from report's"
        );
    }
    let html = std::fs::read_to_string(run.join("report.html")).unwrap();
    let summary = json(&run.join("summary.json"));
    let outputs = table_rows(&html, "<h3>Outputs read</h3>");
    let summary_sha =
        clearstress::input::sha256_hex(&std::fs::read(run.join("summary.json")).unwrap());
    assert!(outputs.contains(&vec![
        "summary.json".to_string(),
        format!("<code>{summary_sha}</code>")
    ]));
    assert!(outputs
        .iter()
        .all(|r| r[0] != "report.html" && r[0] != "pqd.csv"));

    // The model section: each value as summary.json and manifest.json hold it.
    let model = model_rows(&html);
    let value = |item: &str| {
        model
            .get(item)
            .unwrap_or_else(|| panic!("no model row {item}: {model:?}"))
            .clone()
    };
    let margin = &summary["margin"];
    assert_eq!(
        value("scenario model"),
        summary["scenario_model"].as_str().unwrap()
    );
    assert_eq!(
        value("margin measure and confidence"),
        format!(
            "{} at {}%",
            margin["measure"].as_str().unwrap(),
            margin["confidence"].as_f64().unwrap() * 100.0
        )
    );
    let risk = &manifest["config"]["risk"];
    // The sample: 2 days, one step.
    assert_eq!(risk["margin_period_days"], 2.0);
    assert_eq!(risk["steps"], 1);
    assert_eq!(value("margin period of risk"), "2 days, one time step");
    assert_eq!(
        value("Monte Carlo scenarios (paths)"),
        money(summary["scenarios"].as_f64().unwrap())
    );
    assert_eq!(value("seed"), manifest["seed"].to_string());
    assert_eq!(margin["anti_procyclicality"]["tool"], "buffer");
    assert_eq!(value("anti-procyclicality tool"), "buffer");
    let jumps = &manifest["config"]["scenario"]["jumps"];
    assert_eq!(
        value("jumps"),
        format!(
            "{} a year, mean {} and standard deviation {} daily sigmas",
            jumps["intensity_per_year"], jumps["mean_sigmas"], jumps["stdev_sigmas"]
        )
    );
    let nig_shape = &manifest["config"]["scenario"]["nig_shape"];
    assert_eq!(manifest["config"]["scenario"]["innovations"], "nig");
    assert_eq!(value("innovations"), format!("NIG, shape {nig_shape}"));
    assert!(value("calibration summary").starts_with("not recorded in the run"));
    // Moved, not copied: provenance no longer lists the model's rows.
    let provenance = table_rows(&html, "<section id=\"provenance\">");
    assert!(provenance
        .iter()
        .all(|r| r[0] != "seed" && r[0] != "scenario model"));

    // PQD 5.1: every haircut of the configuration; 6.2's split: the
    // collateral held by asset, summing to 6.2's total.
    let rows = html_pqd_rows(&html);
    let row = |id: &str| pqd_row(&rows, id);
    let percent = |p: f64| format!("{}", (p * 1e6).round() / 1e4);
    let haircuts = manifest["config"]["collateral"]["haircuts"]
        .as_object()
        .unwrap();
    assert!(haircuts.len() >= 2);
    for (i, (asset, haircut)) in haircuts.iter().enumerate() {
        let r = row(&format!("5.1{}", (b'a' + i as u8) as char));
        assert!(r[1].ends_with(&format!(": {asset}")), "{r:?}");
        assert_eq!(
            r[2..],
            [percent(haircut.as_f64().unwrap()), "% haircut".into()]
        );
    }
    for id in ["5.2", "5.3"] {
        assert_eq!(row(id)[2], "not computed", "{id}");
    }
    let held = margin["collateral_by_asset"].as_array().unwrap();
    assert!(held.len() >= 2);
    let mut total = 0.0;
    for (i, c) in held.iter().enumerate() {
        let r = row(&format!("6.2{}", (b'a' + i as u8) as char));
        let (asset, after) = (
            c["asset"].as_str().unwrap(),
            c["after_haircut"].as_f64().unwrap(),
        );
        let (market, haircut) = (
            c["market_value"].as_f64().unwrap(),
            c["haircut"].as_f64().unwrap(),
        );
        assert!(
            r[1].contains(&format!(
                "by type: {asset}, after its {}% haircut",
                percent(haircut)
            )),
            "{r:?}"
        );
        assert_eq!(r[2..], [money(after), "USD".into()]);
        assert_eq!(haircut, haircuts[asset].as_f64().unwrap(), "{asset}");
        assert!(
            (after - market * (1.0 - haircut)).abs() <= 1e-9 * market,
            "{asset}"
        );
        total += after;
    }
    let held_total = margin["total_collateral"].as_f64().unwrap();
    assert!(
        (total - held_total).abs() <= 1e-12 * held_total,
        "{total} vs {held_total}"
    );

    // A file the manifest does not list is refused, naming it; nothing written.
    std::fs::write(run.join("notes.txt"), "mine").unwrap();
    let refused = dir.path().join("refused");
    assert_refused(
        &report(&run, &refused),
        &refused,
        &["notes.txt", "not listed"],
    );
    std::fs::remove_file(run.join("notes.txt")).unwrap();

    // A report.html put by hand into a run written without --report: the
    // same refusal (it is not the run's).
    let plain = sample_run_into(&dir.path().join("plain"), &[]);
    std::fs::copy(run.join("report.html"), plain.join("report.html")).unwrap();
    assert_refused(
        &report(&plain, &refused),
        &refused,
        &["report.html", "not listed"],
    );
}

/// Under filtered historical simulation the model section names the history
/// resampled, its look-back and the volatility filter's decay, as the run's
/// manifest records them, and no parametric innovations.
#[test]
fn the_model_section_of_an_fhs_run_names_its_history_look_back_and_decay() {
    let dir = tempfile::tempdir().unwrap();
    for line in [
        "init --out {dir}/book --assets 3 --members 6",
        "run --book {dir}/book --backend cpu --paths 2000 --quiet --fhs {history} --report --out {dir}/run",
    ] {
        let o = clearstress_line(dir.path(), line);
        assert!(o.status.success(), "{line}: {}", text(&o.stderr));
    }
    let run = dir.path().join("run");
    let html = std::fs::read_to_string(run.join("report.html")).unwrap();
    let model = model_rows(&html);
    let value = |item: &str| model.get(item).cloned();
    let historical = &json(&run.join("manifest.json"))["config"]["scenario"]["historical"];
    assert_eq!(
        value("history resampled").as_deref(),
        historical["history"].as_str()
    );
    assert_eq!(
        value("look-back"),
        Some(format!("{} calendar days", historical["lookback_days"]))
    );
    assert_eq!(
        value("EWMA decay (volatility filter)"),
        Some(historical["lambda"].to_string())
    );
    assert_eq!(value("innovations"), None, "{model:?}");
    assert_eq!(value("jumps"), None, "{model:?}");
}
