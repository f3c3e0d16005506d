//! `clearstress settle` end to end: on an `init` book with prices given as an
//! assets table, as the next day's snapshot folder and as a history; its
//! tables against each other and its summary; the output rules; bad prices
//! refused naming the file, row and field; `--replay` over a history.

#[path = "common/binary.rs"]
mod binary;
#[path = "common/machine.rs"]
mod machine;
#[path = "common/parquet.rs"]
mod parquet_columns;
#[path = "common/prices.rs"]
mod prices;

use std::fs;
use std::path::{Path, PathBuf};
use std::process::Output;

use binary::clearstress;
use parquet_columns::{floats, read_parquet, strings};
use prices::moved_assets;
use serde_json::Value;

fn run(args: &[&str]) -> Output {
    clearstress(args)
}

fn text(b: &[u8]) -> String {
    String::from_utf8_lossy(b).into_owned()
}

fn ok(o: &Output) {
    assert!(
        o.status.success(),
        "status {:?}\nstdout:\n{}\nstderr:\n{}",
        o.status,
        text(&o.stdout),
        text(&o.stderr)
    );
}

fn refused(o: &Output, needles: &[&str]) {
    assert_eq!(o.status.code(), Some(1), "stderr: {}", text(&o.stderr));
    let err = text(&o.stderr);
    for n in needles {
        assert!(err.contains(n), "`{n}` not in: {err}");
    }
}

/// An `init` book of a few members on the ten real assets.
fn init_book(dir: &Path) -> PathBuf {
    let book = dir.join("book");
    ok(&run(&[
        "init",
        "--out",
        book.to_str().unwrap(),
        "--members",
        "12",
        "--assets",
        "10",
        "--options",
        "60",
    ]));
    book
}

fn summary(dir: &Path) -> Value {
    serde_json::from_str(&fs::read_to_string(dir.join("summary.json")).unwrap()).unwrap()
}

#[test]
fn settle_writes_its_tables_and_they_agree() {
    let tmp = tempfile::tempdir().unwrap();
    let book = init_book(tmp.path());
    let prices = tmp.path().join("eod.csv");
    fs::write(&prices, moved_assets(&book, &[])).unwrap();
    let out = tmp.path().join("settled");
    let args = [
        "settle",
        "--book",
        book.to_str().unwrap(),
        "--prices",
        prices.to_str().unwrap(),
        "--date",
        "2025-02-21",
        "--paths",
        "2000",
        "--backend",
        "cpu",
        "--out",
        out.to_str().unwrap(),
    ];
    let o = run(&args);
    ok(&o);
    let stdout = text(&o.stdout);
    assert!(
        stdout.contains("settlement 2025-02-20 -> 2025-02-21 (1 day, 3 funding periods)"),
        "{stdout}"
    );
    assert!(stdout.contains("margin calls (2000 paths"), "{stdout}");

    // The nets are the positions' VM summed per member and asset; the
    // payments are the non-zero nets; every asset sums to zero.
    let vm = read_parquet(&out.join("variation_margin.parquet"));
    let nets = read_parquet(&out.join("net_settlement.parquet"));
    let payments = read_parquet(&out.join("payments.parquet"));
    let (vm_member, vm_asset, vm_value) = (
        strings(&vm, "member_id"),
        strings(&vm, "settlement_asset"),
        floats(&vm, "vm"),
    );
    let (net_member, net_asset, net) = (
        strings(&nets, "member_id"),
        strings(&nets, "settlement_asset"),
        floats(&nets, "net"),
    );
    for i in 0..net.len() {
        let sum: f64 = (0..vm_value.len())
            .filter(|&j| vm_member[j] == net_member[i] && vm_asset[j] == net_asset[i])
            .map(|j| vm_value[j])
            .sum();
        assert!(
            (sum - net[i]).abs() <= 1e-9 * net[i].abs().max(1.0),
            "{} {}: {sum} vs {}",
            net_member[i],
            net_asset[i],
            net[i]
        );
    }
    let amounts = floats(&payments, "amount");
    let directions = strings(&payments, "direction");
    assert_eq!(amounts.len(), net.iter().filter(|n| **n != 0.0).count());
    let s = summary(&out);
    for entry in s["by_settlement_asset"].as_array().unwrap() {
        let gross = entry["gross"].as_f64().unwrap();
        assert!(
            gross > 0.0 && entry["imbalance"].as_f64().unwrap().abs() <= 1e-12 * gross,
            "{entry}"
        );
    }
    let paid: f64 = floats(&payments, "amount_usd")
        .iter()
        .zip(&directions)
        .filter(|(_, d)| *d == "pays")
        .map(|(a, _)| a)
        .sum();
    assert!((paid - s["payments"]["members_pay_usd"].as_f64().unwrap()).abs() <= 1e-6 * paid);
    let calls = read_parquet(&out.join("margin_calls.parquet"));
    assert_eq!(strings(&calls, "member_id").len(), 12);
    assert!(
        out.join("margin_call_assets.parquet").is_file() && out.join("manifest.json").is_file()
    );

    // The same prices as the next day's snapshot folder: the same nets.
    let next = tmp.path().join("next");
    fs::create_dir_all(next.join("market")).unwrap();
    for f in [
        "members.csv",
        "instruments.csv",
        "positions.csv",
        "collateral.csv",
        "market/correlation.csv",
        "market/vol_surface.csv",
        "market/rates.csv",
    ] {
        fs::copy(book.join(f), next.join(f)).unwrap();
    }
    fs::copy(&prices, next.join("market/assets.csv")).unwrap();
    let ccp = fs::read_to_string(book.join("ccp.toml")).unwrap();
    let ccp = ccp
        .replace(
            "valuation_date = \"2025-02-20\"",
            "valuation_date = \"2025-02-21\"",
        )
        .replace("stress = [\"scenarios\"]", "stress = []");
    fs::write(next.join("ccp.toml"), ccp).unwrap();
    let out2 = tmp.path().join("settled2");
    let o = run(&[
        "settle",
        "--book",
        book.to_str().unwrap(),
        "--prices",
        next.to_str().unwrap(),
        "--no-margin",
        "--out",
        out2.to_str().unwrap(),
    ]);
    ok(&o);
    let nets2 = read_parquet(&out2.join("net_settlement.parquet"));
    assert_eq!(strings(&nets2, "member_id"), net_member);
    for (a, b) in floats(&nets2, "net").iter().zip(&net) {
        assert!((a - b).abs() <= 1e-12 * b.abs().max(1.0), "{a} vs {b}");
    }
    assert!(!out2.join("margin_calls.parquet").exists());
    assert!(summary(&out2)["margin_calls"].is_null());

    // An earlier settle output is replaced; anything else is refused.
    ok(&run(&args));
    let mine = tmp.path().join("mine");
    fs::create_dir(&mine).unwrap();
    fs::write(mine.join("notes.txt"), "mine").unwrap();
    let mut foreign = args.to_vec();
    *foreign.last_mut().unwrap() = mine.to_str().unwrap();
    refused(&run(&foreign), &["notes.txt", "did not write"]);
    assert_eq!(fs::read_to_string(mine.join("notes.txt")).unwrap(), "mine");
    let mut other_kind = args.to_vec();
    *other_kind.last_mut().unwrap() = book.to_str().unwrap();
    refused(&run(&other_kind), &["init output"]);
}

#[test]
fn bad_prices_are_refused_by_the_command() {
    let tmp = tempfile::tempdir().unwrap();
    let book = init_book(tmp.path());
    let b = book.to_str().unwrap();
    let out = tmp.path().join("out");
    let o = out.to_str().unwrap();

    let missing = tmp.path().join("missing.csv");
    fs::write(&missing, moved_assets(&book, &["ETH"])).unwrap();
    refused(
        &run(&[
            "settle",
            "--book",
            b,
            "--prices",
            missing.to_str().unwrap(),
            "--date",
            "2025-02-21",
            "--no-margin",
            "--out",
            o,
        ]),
        &[
            "missing.csv",
            "field `asset`",
            "`ETH`",
            "positions.csv, row ",
        ],
    );

    let negative = tmp.path().join("negative.csv");
    fs::write(
        &negative,
        moved_assets(&book, &[]).replacen("\nBTC,crypto,", "\nBTC,crypto,-", 1),
    )
    .unwrap();
    refused(
        &run(&[
            "settle",
            "--book",
            b,
            "--prices",
            negative.to_str().unwrap(),
            "--date",
            "2025-02-21",
            "--no-margin",
            "--out",
            o,
        ]),
        &["negative.csv, row 1, field `spot`"],
    );

    let history = machine::daily_closes();
    refused(
        &run(&[
            "settle",
            "--book",
            b,
            "--prices",
            history.to_str().unwrap(),
            "--date",
            "2025-02-22",
            "--no-margin",
            "--out",
            o,
        ]),
        &["daily_close_usd.csv", "field `date`", "2025-02-22"],
    );
    let good = tmp.path().join("good.csv");
    fs::write(&good, moved_assets(&book, &[])).unwrap();
    refused(
        &run(&[
            "settle",
            "--book",
            b,
            "--prices",
            good.to_str().unwrap(),
            "--date",
            "2025-02-19",
            "--no-margin",
            "--out",
            o,
        ]),
        &["2025-02-19", "before the book's valuation date 2025-02-20"],
    );
    assert!(!out.exists(), "a refused settle leaves nothing");
}

#[test]
fn replay_reports_the_average_and_largest_vm_paid_and_im_call() {
    let tmp = tempfile::tempdir().unwrap();
    let book = init_book(tmp.path());
    let history = machine::daily_closes();
    let out = tmp.path().join("replay");
    let o = run(&[
        "settle",
        "--book",
        book.to_str().unwrap(),
        "--prices",
        history.to_str().unwrap(),
        "--replay",
        "2022-11-01..2022-11-20",
        "--paths",
        "1000",
        "--backend",
        "cpu",
        "--out",
        out.to_str().unwrap(),
    ]);
    ok(&o);
    let stdout = text(&o.stdout);
    assert!(
        stdout.contains("PQD 6.6") && stdout.contains("PQD 6.7") && stdout.contains("PQD 6.8"),
        "{stdout}"
    );
    let days = read_parquet(&out.join("vm_history.parquet"));
    let (dates, paid) = (strings(&days, "date"), floats(&days, "vm_paid_usd"));
    let im = floats(&days, "im_call_usd");
    assert_eq!(dates.len(), 20, "{dates:?}");
    let s = summary(&out);
    let average = paid.iter().sum::<f64>() / paid.len() as f64;
    assert!((s["average_vm_paid_usd"].as_f64().unwrap() - average).abs() <= 1e-9 * average);
    let (i, max) = paid
        .iter()
        .enumerate()
        .fold((0, f64::MIN), |m, (i, &v)| if v > m.1 { (i, v) } else { m });
    assert_eq!(s["max_vm_paid_usd"].as_f64().unwrap(), max);
    assert_eq!(s["max_vm_paid_date"].as_str().unwrap(), dates[i]);
    // FTX: the largest move of the window is on 2022-11-08 or 11-09.
    assert!(
        ["2022-11-08", "2022-11-09"].contains(&dates[i].as_str()),
        "{}",
        dates[i]
    );
    let max_im = im.iter().cloned().fold(f64::MIN, f64::max);
    assert_eq!(s["max_im_call_usd"].as_f64().unwrap(), max_im);
    assert!(im.iter().all(|x| *x >= 0.0));
}
