//! The command line, end to end: the README's main command, init -> validate ->
//! run on a user's folder, bad input, and atomic outputs.

use std::path::Path;
use std::process::Command;

fn clearstress(args: &[&str]) -> std::process::Output {
    Command::new(env!("CARGO_BIN_EXE_clearstress"))
        .args(args)
        .output()
        .expect("the binary runs")
}

/// A generated book of the ten assets the shipped history holds.
fn real_asset_book(dir: &Path, members: &str, options: &str) -> std::path::PathBuf {
    let book = dir.join("book");
    let o = clearstress(&[
        "init",
        "--out",
        book.to_str().unwrap(),
        "--assets",
        "10",
        "--members",
        members,
        "--options",
        options,
    ]);
    assert!(o.status.success(), "{}", text(&o.stderr));
    book
}

fn shipped_history() -> std::path::PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("data/daily_close_usd.csv")
}

fn text(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).into_owned()
}

const OUTPUTS: [&str; 6] = [
    "margins.parquet",
    "stress_losses.parquet",
    "default_fund.parquet",
    "default_fund_scenarios.parquet",
    "summary.json",
    "manifest.json",
];

fn parquet_rows(path: &Path) -> i64 {
    let file = std::fs::File::open(path).unwrap();
    let reader = parquet::file::reader::SerializedFileReader::new(file).unwrap();
    use parquet::file::reader::FileReader;
    reader.metadata().file_metadata().num_rows()
}

#[test]
fn run_with_no_book_sizes_the_embedded_sample_and_writes_every_output() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("out");
    let o = clearstress(&["run", "--paths", "20000", "--out", out.to_str().unwrap()]);
    assert!(o.status.success(), "{}", text(&o.stderr));
    let stdout = text(&o.stdout);
    assert!(stdout.contains("Cover-2"), "{stdout}");
    assert!(stdout.contains("initial margin"), "{stdout}");
    for f in OUTPUTS {
        assert!(out.join(f).exists(), "{f} missing");
    }
    let summary: serde_json::Value =
        serde_json::from_slice(&std::fs::read(out.join("summary.json")).unwrap()).unwrap();
    let members = summary["members"].as_u64().unwrap();
    assert!((50..=100).contains(&members), "{members} members");
    assert!(summary["default_fund"]["requirement"].as_f64().unwrap() > 0.0);
    assert!(summary["margin"]["total_initial_margin"].as_f64().unwrap() > 0.0);
    assert_eq!(parquet_rows(&out.join("margins.parquet")), members as i64);
    let manifest: serde_json::Value =
        serde_json::from_slice(&std::fs::read(out.join("manifest.json")).unwrap()).unwrap();
    assert_eq!(manifest["paths"].as_u64(), Some(20_000));
    assert!(manifest["inputs"].as_array().unwrap().len() >= 8);
    assert!(manifest["outputs"]
        .as_array()
        .unwrap()
        .iter()
        .all(|o| o["sha256"].as_str().unwrap().len() == 64));
}

#[test]
fn init_validate_and_run_a_users_book() {
    let dir = tempfile::tempdir().unwrap();
    let book = dir.path().join("book");
    let b = book.to_str().unwrap();
    let o = clearstress(&[
        "init",
        "--out",
        b,
        "--members",
        "24",
        "--assets",
        "12",
        "--options",
        "60",
        "--seed",
        "7",
    ]);
    assert!(o.status.success(), "{}", text(&o.stderr));
    for f in [
        "members.csv",
        "instruments.csv",
        "positions.csv",
        "collateral.csv",
        "ccp.toml",
        "market/assets.csv",
    ] {
        assert!(book.join(f).exists(), "{f}");
    }
    assert!(book.join("scenarios/historical").is_dir());
    let o = clearstress(&["validate", "--book", b]);
    assert!(o.status.success(), "{}", text(&o.stderr));
    assert!(text(&o.stdout).contains("24 members"));
    let out = dir.path().join("out");
    let o = clearstress(&[
        "run",
        "--book",
        b,
        "--paths",
        "4000",
        "--seed",
        "11",
        "--quiet",
        "--out",
        out.to_str().unwrap(),
    ]);
    assert!(o.status.success(), "{}", text(&o.stderr));
    assert_eq!(parquet_rows(&out.join("margins.parquet")), 24);

    // The same seed gives the same numbers; another seed other numbers.
    let again = dir.path().join("again");
    let o = clearstress(&[
        "run",
        "--book",
        b,
        "--paths",
        "4000",
        "--seed",
        "11",
        "--quiet",
        "--out",
        again.to_str().unwrap(),
    ]);
    assert!(o.status.success());
    let read = |p: &Path| -> serde_json::Value {
        serde_json::from_slice(&std::fs::read(p.join("summary.json")).unwrap()).unwrap()
    };
    assert_eq!(read(&out)["margin"], read(&again)["margin"]);
    assert_eq!(
        read(&out)["largest_members"],
        read(&again)["largest_members"]
    );
}

#[test]
fn init_is_deterministic_for_a_seed() {
    let dir = tempfile::tempdir().unwrap();
    let (a, b) = (dir.path().join("a"), dir.path().join("b"));
    for d in [&a, &b] {
        let o = clearstress(&[
            "init",
            "--out",
            d.to_str().unwrap(),
            "--members",
            "30",
            "--seed",
            "3",
        ]);
        assert!(o.status.success());
    }
    for f in [
        "members.csv",
        "positions.csv",
        "collateral.csv",
        "market/correlation.csv",
        "ccp.toml",
    ] {
        assert_eq!(
            std::fs::read(a.join(f)).unwrap(),
            std::fs::read(b.join(f)).unwrap(),
            "{f}"
        );
    }
}

#[test]
fn bad_input_names_file_row_and_field_and_leaves_no_output() {
    let dir = tempfile::tempdir().unwrap();
    let book = dir.path().join("book");
    assert!(
        clearstress(&["init", "--out", book.to_str().unwrap(), "--members", "10"])
            .status
            .success()
    );
    let positions = book.join("positions.csv");
    let mut csv = std::fs::read_to_string(&positions).unwrap();
    csv.push_str("CM0001,NO-SUCH-CONTRACT,5\n");
    let rows = csv.lines().count() - 1;
    std::fs::write(&positions, csv).unwrap();
    let out = dir.path().join("out");
    let o = clearstress(&[
        "run",
        "--book",
        book.to_str().unwrap(),
        "--out",
        out.to_str().unwrap(),
    ]);
    assert_eq!(o.status.code(), Some(1));
    let err = text(&o.stderr);
    assert!(err.contains("positions.csv"), "{err}");
    assert!(err.contains(&format!("row {rows}")), "{err}");
    assert!(err.contains("instrument_id"), "{err}");
    assert!(err.contains("NO-SUCH-CONTRACT"), "{err}");
    assert!(!err.contains("panicked"), "{err}");
    assert!(!out.exists());
    assert_eq!(
        std::fs::read_dir(dir.path()).unwrap().count(),
        1,
        "no partial output folder is left behind"
    );
}

#[test]
fn usage_errors_are_reported_not_panicked() {
    // Refused by the parser (a command-line error, status 2), naming the range.
    let o = clearstress(&["run", "--paths", "0"]);
    assert_eq!(o.status.code(), Some(2));
    assert!(text(&o.stderr).contains("--paths"));
    assert!(text(&o.stderr).contains("1000..=100000000000"));
    let o = clearstress(&["validate", "--book", "/nonexistent/folder"]);
    assert_eq!(o.status.code(), Some(1));
    assert!(text(&o.stderr).contains("/nonexistent/folder"));
}

/// WGPU_BACKEND names the graphics APIs wgpu may use: DX12 alone finds no
/// adapter on Linux, which is how a machine without any looks.
fn without_adapters(args: &[&str]) -> std::process::Output {
    Command::new(env!("CARGO_BIN_EXE_clearstress"))
        .args(args)
        .env("WGPU_BACKEND", "dx12")
        .output()
        .expect("the binary runs")
}

#[cfg(target_os = "linux")]
#[test]
fn without_an_adapter_wgpu_is_refused_clearly_and_auto_runs_on_the_cpu() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("out");
    let o = without_adapters(&["run", "--backend", "wgpu", "--out", out.to_str().unwrap()]);
    assert!(!o.status.success());
    let stderr = text(&o.stderr);
    assert!(
        stderr.contains("backend `wgpu` is not available"),
        "{stderr}"
    );
    assert!(!stderr.contains("panicked"), "{stderr}");
    assert!(!out.exists());

    let o = without_adapters(&["run", "--backend", "cpu", "--adapter", "0"]);
    assert!(!o.status.success());
    assert!(text(&o.stderr).contains("--adapter picks a GPU"));

    let listing = text(&without_adapters(&["devices"]).stdout);
    assert!(listing.contains("wgpu: no adapter found"), "{listing}");
    assert!(listing.contains("--backend auto: cpu"), "{listing}");

    let o = without_adapters(&["run", "--paths", "5000", "--out", out.to_str().unwrap()]);
    assert!(o.status.success(), "{}", text(&o.stderr));
    let summary: serde_json::Value =
        serde_json::from_slice(&std::fs::read(out.join("summary.json")).unwrap()).unwrap();
    assert!(summary["backend"].as_str().unwrap().starts_with("cpu"));
}

#[test]
fn devices_lists_the_cpu_and_says_what_auto_picks() {
    let o = clearstress(&["devices"]);
    assert!(o.status.success(), "{}", text(&o.stderr));
    let listing = text(&o.stdout);
    assert!(listing.starts_with("cpu: available"), "{listing}");
    assert!(listing.contains("--backend auto: "), "{listing}");
}

#[test]
fn the_wgpu_backend_runs_the_sample_and_names_its_adapter() {
    let listing = text(&clearstress(&["devices"]).stdout);
    if !listing.contains("wgpu adapter 0") {
        assert!(
            std::env::var("CI").map_or(true, |v| v != "true"),
            "CI=true requires a wgpu adapter: {listing}"
        );
        use std::io::Write;
        let _ = writeln!(std::io::stderr(), "SKIPPED: no wgpu adapter");
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("out");
    let o = clearstress(&[
        "run",
        "--backend",
        "wgpu",
        "--paths",
        "20000",
        "--out",
        out.to_str().unwrap(),
    ]);
    assert!(o.status.success(), "{}", text(&o.stderr));
    for name in ["summary.json", "manifest.json"] {
        let json: serde_json::Value =
            serde_json::from_slice(&std::fs::read(out.join(name)).unwrap()).unwrap();
        assert!(
            json["backend"].as_str().unwrap().starts_with("wgpu ("),
            "{name}"
        );
    }
    assert!(text(&o.stdout).contains(") on wgpu ("));
}

#[test]
fn without_a_cuda_driver_the_cuda_backend_is_refused_clearly() {
    if clearstress::backend::cuda::driver_available() {
        use std::io::Write;
        let _ = writeln!(std::io::stderr(), "SKIPPED: a CUDA driver is present");
        return;
    }
    let o = clearstress(&["run", "--backend", "cuda", "--paths", "1000"]);
    assert!(!o.status.success());
    let stderr = text(&o.stderr);
    assert!(
        stderr.contains("backend `cuda` is not available: no NVIDIA driver"),
        "{stderr}"
    );
    assert!(!stderr.contains("panicked"), "{stderr}");
    let listing = text(&clearstress(&["devices"]).stdout);
    assert!(
        listing.contains("cuda: no NVIDIA driver (libcuda) found"),
        "{listing}"
    );
}

#[test]
fn calibrate_writes_a_snapshot_that_run_accepts_and_a_report() {
    let dir = tempfile::tempdir().unwrap();
    let (cal, out) = (dir.path().join("cal"), dir.path().join("out"));
    let history = Path::new(env!("CARGO_MANIFEST_DIR")).join("data/daily_close_usd.csv");
    let o = clearstress(&[
        "calibrate",
        "--history",
        history.to_str().unwrap(),
        "--as-of",
        "2024-06-30",
        "--correlation",
        "ledoit-wolf",
        "--volatility",
        "garch",
        "--stress-window",
        "2022-11-01..2022-11-30",
        "--out",
        cal.to_str().unwrap(),
    ]);
    assert!(o.status.success(), "{}", text(&o.stderr));
    let stdout = text(&o.stdout);
    assert!(
        stdout.contains("shrinkage") && stdout.contains("stressed correlation"),
        "{stdout}"
    );
    let report: serde_json::Value =
        serde_json::from_slice(&std::fs::read(cal.join("calibration.json")).unwrap()).unwrap();
    assert_eq!(report["as_of"], "2024-06-30");
    assert_eq!(report["correlation"]["estimator"], "ledoit-wolf");
    assert!(report["assets"][0]["garch"]["nu"].as_f64().unwrap() > 2.0);
    let o = clearstress(&[
        "run",
        "--backend",
        "cpu",
        "--book",
        cal.to_str().unwrap(),
        "--paths",
        "5000",
        "--out",
        out.to_str().unwrap(),
    ]);
    assert!(o.status.success(), "{}", text(&o.stderr));

    // Bad input: named, and nothing written.
    let bad = dir.path().join("bad.csv");
    std::fs::write(&bad, "date,BTC\n2024-01-01,100\n2024-01-02,-1\n").unwrap();
    let nowhere = dir.path().join("nowhere");
    let o = clearstress(&[
        "calibrate",
        "--history",
        bad.to_str().unwrap(),
        "--out",
        nowhere.to_str().unwrap(),
    ]);
    assert!(!o.status.success());
    assert!(
        text(&o.stderr).contains("row 2, field `BTC`"),
        "{}",
        text(&o.stderr)
    );
    assert!(!nowhere.exists());
}

#[test]
fn worst_window_lists_windows_and_writes_a_scenario_run_accepts() {
    let dir = tempfile::tempdir().unwrap();
    let book = real_asset_book(dir.path(), "12", "400");
    let (scenario, out) = (dir.path().join("worst.toml"), dir.path().join("out"));
    let history = shipped_history();
    let o = clearstress(&[
        "worst-window",
        "--history",
        history.to_str().unwrap(),
        "--book",
        book.to_str().unwrap(),
        "--days",
        "3",
        "--top",
        "4",
        "--out",
        scenario.to_str().unwrap(),
    ]);
    assert!(o.status.success(), "{}", text(&o.stderr));
    assert_eq!(
        text(&o.stdout).matches("(3 days)").count(),
        4,
        "{}",
        text(&o.stdout)
    );
    let o = clearstress(&[
        "run",
        "--backend",
        "cpu",
        "--book",
        book.to_str().unwrap(),
        "--paths",
        "2000",
        "--scenarios",
        scenario.to_str().unwrap(),
        "--out",
        out.to_str().unwrap(),
    ]);
    assert!(o.status.success(), "{}", text(&o.stderr));
    assert!(text(&o.stdout).contains("(3 days)"));
    // The embedded sample's synthetic assets have no history: said, not panicked.
    let o = clearstress(&["worst-window", "--history", history.to_str().unwrap()]);
    assert!(!o.status.success());
    assert!(
        text(&o.stderr).contains("`SYN01` has no column in the history"),
        "{}",
        text(&o.stderr)
    );
}

#[test]
fn procyclicality_reports_the_margin_series_under_each_apc_tool() {
    let dir = tempfile::tempdir().unwrap();
    let (book, out) = (
        real_asset_book(dir.path(), "8", "20"),
        dir.path().join("apc"),
    );
    let history = shipped_history();
    let o = clearstress(&[
        "procyclicality",
        "--history",
        history.to_str().unwrap(),
        "--book",
        book.to_str().unwrap(),
        "--from",
        "2022-04-01",
        "--to",
        "2022-07-01",
        "--every",
        "30",
        "--paths",
        "2000",
        "--out",
        out.to_str().unwrap(),
    ]);
    assert!(o.status.success(), "{}", text(&o.stderr));
    let stdout = text(&o.stdout);
    for policy in ["calculated", "buffer", "stressed weight", "10-year floor"] {
        assert!(stdout.contains(policy), "{stdout}");
    }
    assert_eq!(parquet_rows(&out.join("margin_history.parquet")), 4);
    let measures: serde_json::Value =
        serde_json::from_slice(&std::fs::read(out.join("procyclicality.json")).unwrap()).unwrap();
    for policy in ["calculated", "buffer", "stressed_weight", "floor_10y"] {
        let m = &measures[policy];
        assert!(m["peak_to_trough"].as_f64().unwrap() >= 1.0, "{policy}");
        assert!(m["largest_increase"].as_f64().unwrap() >= 0.0, "{policy}");
        assert_eq!(m["window_days"], 30);
    }
}

#[test]
fn compare_puts_each_models_margins_side_by_side() {
    let dir = tempfile::tempdir().unwrap();
    let (book, out) = (
        real_asset_book(dir.path(), "8", "20"),
        dir.path().join("cmp"),
    );
    let history = shipped_history();
    let o = clearstress(&[
        "compare",
        "--book",
        book.to_str().unwrap(),
        "--history",
        history.to_str().unwrap(),
        "--paths",
        "5000",
        "--out",
        out.to_str().unwrap(),
    ]);
    assert!(o.status.success(), "{}", text(&o.stderr));
    let stdout = text(&o.stdout);
    for model in [
        "gaussian",
        "student_t_4",
        "jumps",
        "nig_0.7",
        "nig_0.7_jumps",
        "fhs",
        "configured",
        "apc_buffer_25",
        "apc_stressed_weight_25",
        "apc_floor_10y",
        "total",
    ] {
        assert!(stdout.contains(model), "{stdout}");
    }
    assert_eq!(parquet_rows(&out.join("margins_by_model.parquet")), 8);
}

/// A quiet 2,000-path CPU run of `book` into `out`.
fn small_run<'a>(book: &'a Path, out: &'a Path) -> Vec<&'a str> {
    vec![
        "run",
        "--backend",
        "cpu",
        "--paths",
        "2000",
        "--quiet",
        "--book",
        book.to_str().unwrap(),
        "--out",
        out.to_str().unwrap(),
    ]
}

/// `--fhs FILE` names the history and nothing else: the book's own
/// `[scenario.historical]` decay and look-back stay, and `--fhs-lookback-days`
/// overrides only the look-back.
#[test]
fn the_fhs_flag_overrides_only_what_it_names() {
    let dir = tempfile::tempdir().unwrap();
    let book = real_asset_book(dir.path(), "6", "0");
    let history = shipped_history();
    let ccp = book.join("ccp.toml");
    let mut config = std::fs::read_to_string(&ccp).unwrap();
    config.push_str(&format!(
        "\n[scenario.historical]\nhistory = {:?}\nlookback_days = 730\nlambda = 0.97\n",
        history.to_str().unwrap()
    ));
    std::fs::write(&ccp, config).unwrap();
    let cases: [(&[&str], u64, f64); 3] = [
        (&[], 730, 0.97),
        (&["--fhs", history.to_str().unwrap()], 730, 0.97),
        (
            &[
                "--fhs",
                history.to_str().unwrap(),
                "--fhs-lookback-days",
                "400",
            ],
            400,
            0.97,
        ),
    ];
    for (i, (flags, lookback, lambda)) in cases.into_iter().enumerate() {
        let out = dir.path().join(format!("out{i}"));
        let mut args = small_run(&book, &out);
        args.extend_from_slice(flags);
        let o = clearstress(&args);
        assert!(o.status.success(), "{flags:?}: {}", text(&o.stderr));
        let manifest: serde_json::Value =
            serde_json::from_slice(&std::fs::read(out.join("manifest.json")).unwrap()).unwrap();
        let h = &manifest["config"]["scenario"]["historical"];
        assert_eq!(h["lookback_days"], lookback, "{flags:?}: {h}");
        assert_eq!(h["lambda"], lambda, "{flags:?}: {h}");
    }
}

#[test]
fn validate_reports_a_flat_book_and_warns_on_an_unbalanced_one() {
    let dir = tempfile::tempdir().unwrap();
    let book = real_asset_book(dir.path(), "12", "30");
    let o = clearstress(&["validate", "--book", book.to_str().unwrap()]);
    assert!(o.status.success(), "{}", text(&o.stderr));
    let out = text(&o.stdout);
    assert!(out.contains("net open interest: 0 on all"), "{out}");
    assert!(!out.contains("warning"), "{out}");

    // One member's position doubled: that instrument is no longer flat.
    let path = book.join("positions.csv");
    let csv = std::fs::read_to_string(&path).unwrap();
    let mut lines: Vec<String> = csv.lines().map(str::to_string).collect();
    let fields: Vec<String> = lines[1].split(',').map(str::to_string).collect();
    let (instrument, quantity) = (fields[1].clone(), fields[2].parse::<f64>().unwrap());
    lines[1] = format!("{},{instrument},{}", fields[0], 2.0 * quantity);
    std::fs::write(&path, lines.join("\n") + "\n").unwrap();
    let o = clearstress(&["validate", "--book", book.to_str().unwrap()]);
    assert!(o.status.success(), "{}", text(&o.stderr));
    let out = text(&o.stdout);
    assert!(
        out.contains("warning: net open interest is not zero on 1 of"),
        "{out}"
    );
    assert!(
        out.contains(&format!("largest: {instrument} at {quantity} contracts")),
        "{out}"
    );
}

/// Choosing the Student-t says what it costs; the default NIG runs quietly.
#[test]
fn a_student_t_run_warns_that_its_es_does_not_converge() {
    let dir = tempfile::tempdir().unwrap();
    let book = real_asset_book(dir.path(), "4", "0");
    for (innovations, warns) in [("student-t", true), ("nig", false)] {
        let ccp = book.join("ccp.toml");
        let config = std::fs::read_to_string(&ccp).unwrap();
        let config = config
            .lines()
            .map(|l| {
                if l.starts_with("innovations") {
                    format!("innovations = \"{innovations}\"")
                } else {
                    l.to_string()
                }
            })
            .collect::<Vec<_>>()
            .join("\n");
        std::fs::write(&ccp, config + "\n").unwrap();
        let out = dir.path().join(format!("out-{innovations}"));
        let o = clearstress(&small_run(&book, &out));
        assert!(o.status.success(), "{innovations}: {}", text(&o.stderr));
        let stderr = text(&o.stderr);
        assert_eq!(
            stderr.contains("no finite exponential moment"),
            warns,
            "{innovations}: {stderr}"
        );
    }
}
