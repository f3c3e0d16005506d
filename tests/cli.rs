//! The command line, end to end: the README's main command, init -> validate ->
//! run on a user's folder, bad input, backends, every analysis command, and the
//! README's command list against `--help`.
//!
//! Each command line is a [`Case`]: its arguments, the exit status, what stdout
//! and stderr must contain and what files it must (or must not) leave; [`check`]
//! runs one and asserts all of it. The arguments are one string split at
//! whitespace, with placeholders filled in each argument: `{dir}` is the test's
//! temporary folder, `{history}` the shipped daily-close history, `{vol_index}`
//! the shipped implied-vol index.

#[path = "common/machine.rs"]
mod machine;

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

/// One command line and what it must do.
#[derive(Clone, Copy)]
struct Case<'a> {
    /// The command line after `clearstress`, split at whitespace.
    args: &'a str,
    /// Environment variables set for this command only.
    env: &'a [(&'a str, &'a str)],
    /// The exit status: 0 success, 1 input or run error, 2 usage error.
    status: i32,
    stdout: &'a [&'a str],
    stderr: &'a [&'a str],
    /// Files or folders that must exist afterwards, relative to `{dir}`.
    files: &'a [&'a str],
    /// Paths that must not exist afterwards, relative to `{dir}`.
    absent: &'a [&'a str],
}

/// A successful command with nothing else expected: cases spell out the rest.
const OK: Case = Case {
    args: "",
    env: &[],
    status: 0,
    stdout: &[],
    stderr: &[],
    files: &[],
    absent: &[],
};

fn shipped_history() -> PathBuf {
    machine::daily_closes()
}

fn text(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).into_owned()
}

/// `args` split into arguments, with the placeholders filled in.
fn expand(dir: &Path, args: &str) -> Vec<String> {
    let history = shipped_history();
    args.split_whitespace()
        .map(|a| {
            let a = a
                .replace("{dir}", dir.to_str().unwrap())
                .replace("{history}", history.to_str().unwrap());
            match a.contains("{vol_index}") {
                true => {
                    let index = machine::data_file("implied_vol_index.csv");
                    a.replace("{vol_index}", index.to_str().unwrap())
                }
                false => a,
            }
        })
        .collect()
}

/// Runs `case` in `dir` and asserts everything it expects; never a panic.
fn check(dir: &Path, case: &Case) -> Output {
    let args = expand(dir, case.args);
    let o = Command::new(env!("CARGO_BIN_EXE_clearstress"))
        .args(&args)
        .envs(case.env.iter().copied())
        .output()
        .expect("the binary runs");
    let (stdout, stderr) = (text(&o.stdout), text(&o.stderr));
    let context = || format!("{args:?}\n--- stdout\n{stdout}\n--- stderr\n{stderr}");
    assert_eq!(o.status.code(), Some(case.status), "{}", context());
    assert!(!stderr.contains("panicked"), "{}", context());
    for s in case.stdout {
        assert!(stdout.contains(s), "stdout lacks {s:?}: {}", context());
    }
    for s in case.stderr {
        assert!(stderr.contains(s), "stderr lacks {s:?}: {}", context());
    }
    for f in case.files {
        assert!(dir.join(f).exists(), "{f} missing: {}", context());
    }
    for f in case.absent {
        assert!(!dir.join(f).exists(), "{f} exists: {}", context());
    }
    o
}

/// Runs each case in turn in one temporary folder, which it returns.
fn steps(cases: &[Case]) -> (tempfile::TempDir, Vec<Output>) {
    let dir = tempfile::tempdir().unwrap();
    let outputs = cases.iter().map(|c| check(dir.path(), c)).collect();
    (dir, outputs)
}

/// Runs `cases` after `init` has written a ten-real-asset book (every asset
/// has history) at `{dir}/book`; returns the cases' outputs.
fn on_real_book(members: &str, options: &str, cases: &[Case]) -> (tempfile::TempDir, Vec<Output>) {
    let init =
        format!("init --out {{dir}}/book --assets 10 --members {members} --options {options}");
    let mut all = vec![Case { args: &init, ..OK }];
    all.extend_from_slice(cases);
    let (dir, mut outputs) = steps(&all);
    outputs.remove(0);
    (dir, outputs)
}

/// What every run writes, under `out/`.
const RUN_OUTPUTS: [&str; 8] = [
    "out/margins.parquet",
    "out/stress_losses.parquet",
    "out/stress_groups.parquet",
    "out/default_fund.parquet",
    "out/default_fund_scenarios.parquet",
    "out/close_out.parquet",
    "out/summary.json",
    "out/manifest.json",
];

fn json(path: &Path) -> serde_json::Value {
    serde_json::from_slice(&std::fs::read(path).unwrap()).unwrap()
}

fn parquet_rows(path: &Path) -> i64 {
    use parquet::file::reader::FileReader;
    let file = std::fs::File::open(path).unwrap();
    let reader = parquet::file::reader::SerializedFileReader::new(file).unwrap();
    reader.metadata().file_metadata().num_rows()
}

// Command lines answered without any setup.

#[test]
fn command_lines_that_need_no_setup() {
    let cases = [
        // Refused by the parser (a command-line error, status 2), naming the range.
        Case {
            args: "run --paths 0",
            status: 2,
            stderr: &["--paths", "1000..=100000000000"],
            ..OK
        },
        Case {
            args: "init",
            status: 2,
            stderr: &["--out <DIR>"],
            ..OK
        },
        Case {
            args: "validate --book /nonexistent/folder",
            status: 1,
            stderr: &["/nonexistent/folder"],
            ..OK
        },
        Case {
            args: "devices",
            stdout: &["cpu: available", "--backend auto: "],
            ..OK
        },
        Case {
            args: "--version",
            stdout: &[env!("CARGO_PKG_VERSION"), "(commit "],
            ..OK
        },
        Case {
            args: "completions bash",
            stdout: &["clearstress", "worst-window", "--stress-period"],
            ..OK
        },
        Case {
            args: "completions zsh",
            stdout: &["#compdef clearstress", "worst-window"],
            ..OK
        },
        Case {
            args: "completions fish",
            stdout: &["complete -c clearstress", "worst-window"],
            ..OK
        },
        Case {
            args: "report",
            status: 2,
            stderr: &["<RUN_DIR>"],
            ..OK
        },
        Case {
            args: "report {dir}/no-run --out {dir}/rep",
            status: 1,
            stderr: &["no-run", "`manifest.json` is missing"],
            absent: &["rep"],
            ..OK
        },
        Case {
            args: "completions tcsh",
            status: 2,
            stderr: &["possible values"],
            ..OK
        },
    ];
    let (_dir, outputs) = steps(&cases);
    assert!(text(&outputs[3].stdout).starts_with("cpu: available"));
    assert!(text(&outputs[4].stdout).starts_with("clearstress "));
}

// The README's command list against the binary's own help.

/// The commands `clearstress --help` lists (without `help`).
fn commands() -> Vec<String> {
    let (_dir, o) = steps(&[Case {
        args: "--help",
        ..OK
    }]);
    let help = text(&o[0].stdout);
    let list = help
        .split("Commands:")
        .nth(1)
        .and_then(|rest| rest.split("\n\n").next())
        .expect("a command list");
    let names: Vec<String> = list
        .lines()
        .filter_map(|l| l.split_whitespace().next())
        .filter(|name| *name != "help")
        .map(str::to_string)
        .collect();
    assert!(names.len() >= 9, "{names:?}");
    names
}

/// The flags (`--name`) and possible values a command's long help shows,
/// `--help` aside.
fn flags_and_values(command: &str) -> (Vec<String>, Vec<String>) {
    let (_dir, o) = steps(&[Case {
        args: &format!("{command} --help"),
        ..OK
    }]);
    let help = text(&o[0].stdout);
    let mut flags = Vec::new();
    let mut values = Vec::new();
    let mut in_values = false;
    for line in help.lines() {
        let trimmed = line.trim_start();
        if trimmed.starts_with('-') && !trimmed.starts_with("- ") {
            // "-h, --help", "--book <DIR>", "--out <DIR>  Snapshot folder ...":
            // the flag and its value name, before any description.
            let spec = trimmed
                .split_whitespace()
                .take_while(|w| w.starts_with('-') || w.starts_with('<'));
            for word in spec {
                if let Some(name) = word.trim_end_matches(',').strip_prefix("--") {
                    if name != "help" {
                        flags.push(format!("--{name}"));
                    }
                }
            }
        }
        if trimmed.starts_with("Possible values:") {
            in_values = true;
        } else if in_values && trimmed.starts_with("- ") {
            let value = trimmed[2..].split(':').next().unwrap().trim();
            values.push(value.to_string());
        } else if trimmed.is_empty() {
            in_values = false;
        }
        if let Some(list) = trimmed
            .split("[possible values: ")
            .nth(1)
            .and_then(|l| l.split(']').next())
        {
            values.extend(list.split(", ").map(str::to_string));
        }
    }
    (flags, values)
}

fn readme() -> String {
    std::fs::read_to_string(Path::new(env!("CARGO_MANIFEST_DIR")).join("README.md")).unwrap()
}

/// The README's synopsis of `command`: its `clearstress COMMAND` line in the
/// "Commands" block and the indented lines under it.
fn synopsis(readme: &str, command: &str) -> String {
    let block = readme
        .split("\n## Commands\n")
        .nth(1)
        .and_then(|rest| rest.split("```sh\n").nth(1))
        .and_then(|rest| rest.split("```").next())
        .expect("README has a ```sh block under ## Commands");
    let head = format!("clearstress {command}");
    let mut lines = block.lines().skip_while(|l| {
        !(l.starts_with(&format!("{head} ")) || *l == head || l.starts_with(&format!("{head}\t")))
    });
    let first = lines
        .next()
        .unwrap_or_else(|| panic!("README's command list has no `{head}` line"));
    let rest = lines.take_while(|l| l.starts_with(' '));
    std::iter::once(first)
        .chain(rest)
        .collect::<Vec<_>>()
        .join("\n")
}

#[test]
fn the_readme_lists_every_command_with_every_flag_and_value() {
    let readme = readme();
    let mut missing = Vec::new();
    for command in commands() {
        let synopsis = synopsis(&readme, &command);
        let (flags, values) = flags_and_values(&command);
        // Each as a whole word of the synopsis.
        let words: Vec<&str> = synopsis
            .split(|c: char| !(c.is_ascii_alphanumeric() || c == '-'))
            .collect();
        let flags = flags.into_iter().map(|f| (f.clone(), f));
        let values = values
            .into_iter()
            .map(|v| (v.clone(), format!("value `{v}`")));
        for (word, what) in flags.chain(values) {
            if !words.contains(&word.as_str()) {
                missing.push(format!("{command}: {what}"));
            }
        }
    }
    assert!(
        readme.contains("clearstress --version"),
        "README does not show --version"
    );
    assert!(
        missing.is_empty(),
        "README.md's command list lacks: {missing:#?}"
    );
}

// The main command and a user's book.

#[test]
fn run_with_no_book_sizes_the_embedded_sample_and_writes_every_output() {
    let (dir, _) = steps(&[Case {
        args: "run --paths 20000 --out {dir}/out",
        stdout: &["Cover-2", "initial margin"],
        files: &RUN_OUTPUTS,
        ..OK
    }]);
    let out = dir.path().join("out");
    let summary = json(&out.join("summary.json"));
    let members = summary["members"].as_u64().unwrap();
    assert!((50..=100).contains(&members), "{members} members");
    assert!(summary["default_fund"]["requirement"].as_f64().unwrap() > 0.0);
    assert!(summary["margin"]["total_initial_margin"].as_f64().unwrap() > 0.0);
    assert_eq!(parquet_rows(&out.join("margins.parquet")), members as i64);
    let manifest = json(&out.join("manifest.json"));
    assert_eq!(manifest["paths"].as_u64(), Some(20_000));
    assert!(manifest["inputs"].as_array().unwrap().len() >= 8);
    assert!(manifest["outputs"]
        .as_array()
        .unwrap()
        .iter()
        .all(|o| o["sha256"].as_str().unwrap().len() == 64));
}

/// A quiet 4,000-path run of `{dir}/book` with `seed` into `out`.
fn seeded_run(seed: &str, out: &str) -> String {
    format!("run --book {{dir}}/book --paths 4000 --seed {seed} --quiet --out {out}")
}

#[test]
fn init_validate_and_run_a_users_book() {
    let (a, b, c) = (
        seeded_run("11", "{dir}/out"),
        seeded_run("11", "{dir}/again"),
        seeded_run("12", "{dir}/other"),
    );
    let (dir, _) = steps(&[
        Case {
            args: "init --out {dir}/book --members 24 --assets 12 --options 60 --seed 7",
            files: &[
                "book/members.csv",
                "book/instruments.csv",
                "book/positions.csv",
                "book/collateral.csv",
                "book/ccp.toml",
                "book/market/assets.csv",
                "book/scenarios/historical",
            ],
            ..OK
        },
        Case {
            args: "validate --book {dir}/book",
            stdout: &["24 members"],
            ..OK
        },
        Case { args: &a, ..OK },
        Case { args: &b, ..OK },
        Case { args: &c, ..OK },
    ]);
    let path = |p: &str| dir.path().join(p);
    assert!(path("book/scenarios/historical").is_dir());
    assert_eq!(parquet_rows(&path("out/margins.parquet")), 24);
    // The same seed gives the same numbers; another seed other numbers.
    let read = |p: &str| json(&path(p).join("summary.json"));
    let (out, again, other) = (read("out"), read("again"), read("other"));
    assert_eq!(out["margin"], again["margin"]);
    assert_eq!(out["largest_members"], again["largest_members"]);
    assert_ne!(out["margin"], other["margin"]);
}

#[test]
fn init_is_deterministic_for_a_seed() {
    let init = |out| format!("init --out {out} --members 30 --seed 3");
    let (a, b) = (init("{dir}/a"), init("{dir}/b"));
    let (dir, _) = steps(&[Case { args: &a, ..OK }, Case { args: &b, ..OK }]);
    for f in [
        "members.csv",
        "positions.csv",
        "collateral.csv",
        "market/correlation.csv",
        "ccp.toml",
    ] {
        let read = |d: &str| std::fs::read(dir.path().join(d).join(f)).unwrap();
        assert_eq!(read("a"), read("b"), "{f}");
    }
}

#[test]
fn bad_input_names_file_row_and_field_and_leaves_no_output() {
    let (dir, _) = steps(&[Case {
        args: "init --out {dir}/book --members 10",
        ..OK
    }]);
    let positions = dir.path().join("book/positions.csv");
    let mut csv = std::fs::read_to_string(&positions).unwrap();
    csv.push_str("CM0001,NO-SUCH-CONTRACT,5\n");
    let rows = csv.lines().count() - 1;
    std::fs::write(&positions, csv).unwrap();
    let o = check(
        dir.path(),
        &Case {
            args: "run --book {dir}/book --out {dir}/out",
            status: 1,
            stderr: &["positions.csv", "instrument_id", "NO-SUCH-CONTRACT"],
            absent: &["out"],
            ..OK
        },
    );
    let err = text(&o.stderr);
    assert!(err.contains(&format!("row {rows}")), "{err}");
    assert_eq!(
        std::fs::read_dir(dir.path()).unwrap().count(),
        1,
        "no partial output folder is left behind"
    );
}

#[test]
fn validate_reports_a_flat_book_and_warns_on_an_unbalanced_one() {
    let validate = Case {
        args: "validate --book {dir}/book",
        ..OK
    };
    let (dir, o) = on_real_book(
        "12",
        "30",
        &[Case {
            stdout: &["net open interest: 0 on all"],
            ..validate
        }],
    );
    assert!(!text(&o[0].stdout).contains("warning"));

    // One member's position doubled: that instrument is no longer flat.
    let path = dir.path().join("book/positions.csv");
    let csv = std::fs::read_to_string(&path).unwrap();
    let mut lines: Vec<String> = csv.lines().map(str::to_string).collect();
    let fields: Vec<String> = lines[1].split(',').map(str::to_string).collect();
    let (instrument, quantity) = (fields[1].clone(), fields[2].parse::<f64>().unwrap());
    lines[1] = format!("{},{instrument},{}", fields[0], 2.0 * quantity);
    std::fs::write(&path, lines.join("\n") + "\n").unwrap();
    let o = check(
        dir.path(),
        &Case {
            stdout: &["warning: net open interest is not zero on 1 of"],
            ..validate
        },
    );
    let out = text(&o.stdout);
    assert!(
        out.contains(&format!("largest: {instrument} at {quantity} contracts")),
        "{out}"
    );
}

// Backends.

#[cfg(target_os = "linux")]
#[test]
fn without_an_adapter_wgpu_is_refused_clearly_and_auto_runs_on_the_cpu() {
    // WGPU_BACKEND names the graphics APIs wgpu may use: DX12 alone finds no
    // adapter on Linux, which is how a machine without any looks.
    const NO_ADAPTER: &[(&str, &str)] = &[("WGPU_BACKEND", "dx12")];
    let (dir, _) = steps(&[
        Case {
            args: "run --backend wgpu --out {dir}/out",
            env: NO_ADAPTER,
            status: 1,
            stderr: &["backend `wgpu` is not available"],
            absent: &["out"],
            ..OK
        },
        Case {
            args: "run --backend cpu --adapter 0",
            env: NO_ADAPTER,
            status: 1,
            stderr: &["--adapter picks a GPU"],
            ..OK
        },
        Case {
            args: "devices",
            env: NO_ADAPTER,
            stdout: &["wgpu: no adapter found", "--backend auto: cpu"],
            ..OK
        },
        Case {
            args: "run --paths 5000 --out {dir}/out",
            env: NO_ADAPTER,
            files: &RUN_OUTPUTS,
            ..OK
        },
    ]);
    let summary = json(&dir.path().join("out/summary.json"));
    assert!(summary["backend"].as_str().unwrap().starts_with("cpu"));
}

#[test]
fn the_wgpu_backend_runs_the_sample_and_names_its_adapter() {
    let (_, o) = steps(&[Case {
        args: "devices",
        ..OK
    }]);
    let listing = text(&o[0].stdout);
    if !listing.contains("wgpu adapter 0") {
        machine::missing(
            machine::Need::WgpuAdapter,
            "the wgpu backend runs the sample",
            &format!("`devices` lists no adapter: {listing}"),
        );
        return;
    }
    let (dir, _) = steps(&[Case {
        args: "run --backend wgpu --paths 20000 --out {dir}/out",
        stdout: &[") on wgpu ("],
        files: &RUN_OUTPUTS,
        ..OK
    }]);
    for name in ["summary.json", "manifest.json"] {
        let backend = json(&dir.path().join("out").join(name))["backend"].clone();
        assert!(
            backend.as_str().unwrap().starts_with("wgpu ("),
            "{name}: {backend}"
        );
    }
}

#[test]
fn without_a_cuda_driver_the_cuda_backend_is_refused_clearly() {
    if clearstress::backend::cuda::driver_available() {
        machine::skip("a CUDA driver is present");
        return;
    }
    steps(&[
        Case {
            args: "run --backend cuda --paths 1000",
            status: 1,
            stderr: &["backend `cuda` is not available: no NVIDIA driver"],
            ..OK
        },
        Case {
            args: "devices",
            stdout: &["cuda: no NVIDIA driver (libcuda) found"],
            ..OK
        },
    ]);
}

// Calibration and the analyses.

#[test]
fn calibrate_writes_a_snapshot_that_run_accepts_and_a_report() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(
        dir.path().join("bad.csv"),
        "date,BTC\n2024-01-01,100\n2024-01-02,-1\n",
    )
    .unwrap();
    let cases = [
        Case {
            args: "calibrate --history {history} --as-of 2024-06-30 --correlation ledoit-wolf --volatility garch --stress-window 2022-11-01..2022-11-30 --out {dir}/cal",
            stdout: &["shrinkage", "stressed correlation"],
            files: &["cal/calibration.json", "cal/ccp.toml", "cal/manifest.json"],
            ..OK
        },
        Case {
            args: "run --backend cpu --book {dir}/cal --paths 5000 --out {dir}/out",
            files: &RUN_OUTPUTS,
            ..OK
        },
        // Bad input: named, and nothing written.
        Case {
            args: "calibrate --history {dir}/bad.csv --out {dir}/nowhere",
            status: 1,
            stderr: &["row 2, field `BTC`"],
            absent: &["nowhere"],
            ..OK
        },
    ];
    for case in &cases {
        check(dir.path(), case);
    }
    let report = json(&dir.path().join("cal/calibration.json"));
    assert_eq!(report["as_of"], "2024-06-30");
    assert_eq!(report["correlation"]["estimator"], "ledoit-wolf");
    assert!(report["assets"][0]["garch"]["nu"].as_f64().unwrap() > 2.0);
}

#[test]
fn worst_window_lists_windows_and_writes_a_scenario_run_accepts() {
    let (_, o) = on_real_book("12", "400", &[
        Case {
            args: "worst-window --history {history} --book {dir}/book --days 3 --top 4 --out {dir}/worst.toml",
            files: &["worst.toml"],
            ..OK
        },
        Case {
            args: "run --backend cpu --book {dir}/book --paths 2000 --scenarios {dir}/worst.toml --out {dir}/out",
            stdout: &["(3 days)"],
            files: &RUN_OUTPUTS,
            ..OK
        },
        // The embedded sample's synthetic assets have no history: said, not panicked.
        Case {
            args: "worst-window --history {history}",
            status: 1,
            stderr: &["`SYN01` has no column in the history"],
            ..OK
        },
    ]);
    let listing = text(&o[0].stdout);
    assert_eq!(listing.matches("(3 days)").count(), 4, "{listing}");
}

#[test]
fn procyclicality_reports_the_margin_series_under_each_apc_tool() {
    let (dir, _) = on_real_book("8", "20", &[
        Case {
            args: "procyclicality --history {history} --book {dir}/book --from 2022-04-01 --to 2022-07-01 --every 30 --paths 2000 --out {dir}/apc",
            stdout: &["calculated", "buffer", "stressed weight", "10-year floor"],
            files: &[
                "apc/margin_history.parquet",
                "apc/margin_history_members.parquet",
                "apc/procyclicality.json",
            ],
            ..OK
        },
    ]);
    let out = dir.path().join("apc");
    assert_eq!(parquet_rows(&out.join("margin_history.parquet")), 4);
    // Every member on every date.
    assert_eq!(
        parquet_rows(&out.join("margin_history_members.parquet")),
        4 * 8
    );
    let measures = json(&out.join("procyclicality.json"));
    for policy in ["calculated", "buffer", "stressed_weight", "floor_10y"] {
        let m = &measures[policy];
        assert!(m["peak_to_trough"].as_f64().unwrap() >= 1.0, "{policy}");
        assert!(m["largest_increase"].as_f64().unwrap() >= 0.0, "{policy}");
        assert_eq!(m["window_days"], 30);
    }
}

#[test]
fn backtest_sets_each_days_margin_against_the_loss_that_followed() {
    let (dir, o) = on_real_book("6", "20", &[
        Case {
            args: "backtest --history {history} --book {dir}/book --from 2022-06-01 --to 2022-06-20 --paths 2000 --out {dir}/bt",
            stdout: &["all (pooled)", "member_with_collateral", "group", "non-overlap", "Z2 on all days"],
            files: &[
                "bt/backtest.parquet",
                "bt/backtest_summary.parquet",
                "bt/backtest.json",
                "bt/manifest.json",
            ],
            ..OK
        },
        // A second run into the same output replaces it.
        Case {
            args: "backtest --history {history} --book {dir}/book --from 2022-06-01 --to 2022-06-02 --paths 2000 --quiet --out {dir}/bt",
            ..OK
        },
        // Bad dates, an empty period, a missing history.
        Case {
            args: "backtest --history {history} --book {dir}/book --from 2022-02-30 --to 2022-03-01",
            status: 2,
            stderr: &["expected a date YYYY-MM-DD"],
            ..OK
        },
        Case {
            args: "backtest --history {history} --book {dir}/book --from 2022-06-20 --to 2022-06-01 --out {dir}/reversed",
            status: 1,
            stderr: &["--to 2022-06-01 is before --from 2022-06-20"],
            absent: &["reversed"],
            ..OK
        },
        Case {
            args: "backtest --history {history} --book {dir}/book --from 2030-01-01 --to 2030-01-05 --paths 2000 --out {dir}/future",
            status: 1,
            stderr: &["no observations"],
            absent: &["future"],
            ..OK
        },
        Case {
            args: "backtest --history {dir}/missing.csv --book {dir}/book --from 2022-06-01 --to 2022-06-02 --out {dir}/none",
            status: 1,
            stderr: &["missing.csv"],
            absent: &["none"],
            ..OK
        },
        // Options' vols moved by the shipped index (BTC's DVOL, from
        // 2022-11-06): said in the terminal and in backtest.json. Before the
        // index starts every day is a gap; a missing file is named.
        Case {
            args: "backtest --history {history} --book {dir}/book --from 2023-06-01 --to 2023-06-03 --paths 2000 --z2-simulations 0 --implied-vol {vol_index} --out {dir}/bt_iv",
            stdout: &["implied vols of BTC: moved by the implied-vol index"],
            files: &["bt_iv/backtest.json"],
            ..OK
        },
        Case {
            args: "backtest --history {history} --book {dir}/book --from 2022-06-01 --to 2022-06-02 --paths 2000 --implied-vol {vol_index} --out {dir}/bt_early",
            status: 1,
            stderr: &["no observations"],
            absent: &["bt_early"],
            ..OK
        },
        Case {
            args: "backtest --history {history} --book {dir}/book --from 2023-06-01 --to 2023-06-02 --implied-vol {dir}/no_index.csv --out {dir}/bt_none",
            status: 1,
            stderr: &["no_index.csv"],
            absent: &["bt_none"],
            ..OK
        },
        // The generated test portfolios, alone or beside the members'.
        Case {
            args: "backtest --history {history} --book {dir}/book --from 2022-06-01 --to 2022-06-02 --paths 2000 --portfolios test --out {dir}/bt-test",
            stdout: &["test:long:BTC-PERP", "test_portfolio", "generated test portfolios", "options:SOL"],
            files: &["bt-test/backtest.json"],
            ..OK
        },
        Case {
            args: "backtest --history {history} --book {dir}/book --from 2022-06-01 --to 2022-06-02 --paths 2000 --portfolios both --out {dir}/bt-both",
            stdout: &["member_with_collateral", "test:cross_asset:"],
            files: &["bt-both/backtest.json"],
            ..OK
        },
        // Several models on the same days and portfolios, in one table.
        Case {
            args: "backtest --history {history} --book {dir}/book --from 2022-06-01 --to 2022-06-04 --paths 2000 --model configured --model gaussian+corr_ledoit_wolf+apc_floor --out {dir}/bt-models",
            stdout: &["gaussian+corr_ledoit_wolf+apc_floor", "average margin", "peak-trough", "under `configured`"],
            files: &["bt-models/backtest_summary.parquet"],
            ..OK
        },
        // An unknown model, a model given twice: refused, naming the flag,
        // the value and what is accepted.
        Case {
            args: "backtest --history {history} --book {dir}/book --from 2022-06-01 --to 2022-06-02 --model garch --out {dir}/garch",
            status: 2,
            stderr: &["--model", "garch", "unknown model `garch`", "configured|gaussian|student_t|student_t_jumps|nig|nig_jumps|fhs", "corr_sample|corr_ewma|corr_ledoit_wolf|corr_stressed"],
            absent: &["garch"],
            ..OK
        },
        Case {
            args: "backtest --history {history} --book {dir}/book --from 2022-06-01 --to 2022-06-02 --model gaussian --model gaussian --out {dir}/twice",
            status: 1,
            stderr: &["--model gaussian is given twice"],
            absent: &["twice"],
            ..OK
        },
        Case {
            args: "backtest --history {history} --book {dir}/book --from 2022-06-01 --to 2022-06-02 --portfolios all",
            status: 2,
            stderr: &["--portfolios", "expected `current`, `test` or `both`, got `all`"],
            ..OK
        },
        // A folder holding something else is refused, and left as it was:
        // another command's output, or files clearstress did not write.
        Case {
            args: "backtest --history {history} --book {dir}/book --from 2022-06-01 --to 2022-06-02 --paths 2000 --out {dir}/book",
            status: 1,
            stderr: &["holds a clearstress init output, not a backtest output"],
            files: &["book/ccp.toml"],
            ..OK
        },
        Case {
            args: "backtest --history {history} --book {dir}/book --from 2022-06-01 --to 2022-06-02 --paths 2000 --out {dir}/book/market",
            status: 1,
            stderr: &["which clearstress did not write there"],
            files: &["book/market/assets.csv"],
            ..OK
        },
    ]);
    let _ = o;
    // The generated set: only its kinds with `test`, its legs and what it
    // skipped in the JSON; `both` holds the members' rows and the same set.
    let test = json(&dir.path().join("bt-test/backtest.json"));
    let both = json(&dir.path().join("bt-both/backtest.json"));
    let generated = test["test_portfolios"]["portfolios"].as_array().unwrap();
    assert!(generated.len() > 10, "{test}");
    assert_eq!(test["test_portfolios"], both["test_portfolios"]);
    assert!(!test["test_portfolios"]["skipped"]
        .as_array()
        .unwrap()
        .is_empty());
    for p in test["portfolios"].as_array().unwrap() {
        assert!(
            ["test_unit", "test_portfolio"].contains(&p["kind"].as_str().unwrap()),
            "{p}"
        );
    }
    let rows = |j: &serde_json::Value| j["portfolios"].as_array().unwrap().len();
    // Both: the members' 12, their groups, 3 pooled member kinds, and the
    // generated rows with their 2 pooled kinds.
    assert_eq!(
        rows(&both),
        rows(&test) + 12 + 3 + {
            let groups = both["portfolios"].as_array().unwrap();
            groups
                .iter()
                .filter(|p| p["kind"] == "group" && p["aggregate"] == false)
                .count()
        }
    );
    // Two models: every row twice, with its model; the first is the one the
    // report reads.
    let models = dir.path().join("bt-models");
    let m = json(&models.join("backtest.json"));
    assert_eq!(
        m["models"],
        serde_json::json!(["configured", "gaussian+corr_ledoit_wolf+apc_floor"])
    );
    let per_model = |name: &str| {
        m["portfolios"]
            .as_array()
            .unwrap()
            .iter()
            .filter(|p| p["model"] == name)
            .count() as i64
    };
    assert_eq!(
        per_model("configured"),
        per_model("gaussian+corr_ledoit_wolf+apc_floor")
    );
    assert_eq!(
        parquet_rows(&models.join("backtest_summary.parquet")),
        2 * per_model("configured")
    );
    assert_eq!(
        parquet_rows(&models.join("backtest.parquet")),
        2 * 4 * (per_model("configured") - 3)
    );
    let with_index = json(&dir.path().join("bt_iv/backtest.json"));
    assert_eq!(
        with_index["implied_vols"]["moved"],
        serde_json::json!(["BTC"])
    );
    assert_eq!(with_index["observed_days"], 3);
    let out = dir.path().join("bt");
    // Six members twice, plus their groups, on the 2 days of the second run.
    let summary = json(&out.join("backtest.json"));
    assert_eq!(summary["observed_days"], 2);
    assert_eq!(summary["mpor_days"], 2);
    let portfolios = summary["portfolios"].as_array().unwrap();
    let rows = parquet_rows(&out.join("backtest.parquet"));
    let kinds = |kind: &str| {
        portfolios
            .iter()
            .filter(|p| p["kind"] == kind && p["aggregate"] == false)
            .count() as i64
    };
    assert_eq!((kinds("member"), kinds("member_with_collateral")), (6, 6));
    assert_eq!(rows, 2 * (12 + kinds("group")));
    // Per portfolio, then one pooled row per kind.
    assert_eq!(
        parquet_rows(&out.join("backtest_summary.parquet")),
        portfolios.len() as i64
    );
    assert_eq!(portfolios.len() as i64, 12 + kinds("group") + 3);
    // The book's margin is an ES: Z2 with a p-value from 1,000 simulated
    // paths a day for members with collateral, the statistic alone for
    // positions alone.
    for p in portfolios.iter().filter(|p| p["aggregate"] == false) {
        match p["kind"].as_str().unwrap() {
            "member_with_collateral" => {
                assert_eq!(p["z2"]["simulations"], 1000, "{p}");
                let pv = p["z2"]["p_value"].as_f64().unwrap();
                assert!((0.0..=1.0).contains(&pv), "{p}");
            }
            "member" => assert!(p["z2"]["p_value"].is_null(), "{p}"),
            _ => assert!(p["z2"].is_null(), "{p}"),
        }
    }
}

#[test]
fn compare_puts_each_models_margins_side_by_side() {
    let (dir, _) = on_real_book(
        "8",
        "20",
        &[Case {
            args: "compare --book {dir}/book --history {history} --paths 5000 --out {dir}/cmp",
            stdout: &[
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
            ],
            files: &["cmp/margins_by_model.parquet", "cmp/manifest.json"],
            ..OK
        }],
    );
    assert_eq!(
        parquet_rows(&dir.path().join("cmp/margins_by_model.parquet")),
        8
    );
}

/// `haircuts` writes its schedule, and replaces its own earlier output;
/// out-of-range or unknown flag values are refused by the parser naming the
/// flag and what it takes, before anything is written; a folder it did not
/// write is refused and left as it was.
#[test]
fn haircuts_writes_a_schedule_and_refuses_bad_flags_and_foreign_folders() {
    let run =
        "haircuts --book {dir}/book --history {history} --paths 2000 --backend cpu --out {dir}/hc";
    let quiet = format!("{run} --quiet");
    let refused = |args, stderr| Case {
        args,
        status: 2,
        stderr,
        absent: &["x"],
        ..OK
    };
    let (dir, _) = on_real_book(
        "8",
        "0",
        &[
            Case {
                args: run,
                stdout: &["haircuts: ES 99.7% of the fall in value over 2 days", "USD", "BTC", "schedule"],
                files: &["hc/haircuts.parquet", "hc/summary.json", "hc/manifest.json"],
                ..OK
            },
            Case {
                args: &quiet,
                stdout: &["hc"],
                ..OK
            },
            refused("haircuts --history {history} --confidence 1 --out {dir}/x", &["--confidence", "(0.5, 1)"]),
            refused("haircuts --history {history} --horizon-days 0 --out {dir}/x", &["--horizon-days", "(0, 365]"]),
            refused("haircuts --history {history} --measure cvar --out {dir}/x", &["--measure", "possible values: var, es"]),
            refused("haircuts --history {history} --paths 10 --out {dir}/x", &["--paths", "1000..=100000000000"]),
            refused("haircuts --history {history} --stress-period 2023-01-01..2022-01-01 --out {dir}/x", &["--stress-period", "is before"]),
            refused("haircuts --out {dir}/x", &["--history <HISTORY>"]),
            Case {
                args: "haircuts --book {dir}/book --history {history} --paths 2000 --out {dir}/book",
                status: 1,
                stderr: &["holds a clearstress init output, not a haircuts output"],
                files: &["book/ccp.toml"],
                ..OK
            },
            Case {
                args: "haircuts --book {dir}/book --history {history} --paths 2000 --out {dir}/book/market",
                status: 1,
                stderr: &["which clearstress did not write there"],
                files: &["book/market/assets.csv"],
                ..OK
            },
        ],
    );
    assert_eq!(parquet_rows(&dir.path().join("hc/haircuts.parquet")), 11);
}

// Configuration read against the command line.

/// A quiet 2,000-path CPU run of `{dir}/book` into `out`, then `extra`.
fn small_run(out: &str, extra: &str) -> String {
    format!("run --backend cpu --paths 2000 --quiet --book {{dir}}/book --out {out} {extra}")
}

/// `--fhs FILE` names the history and nothing else: the book's own
/// `[scenario.historical]` decay and look-back stay, and `--fhs-lookback-days`
/// overrides only the look-back.
#[test]
fn the_fhs_flag_overrides_only_what_it_names() {
    let (dir, _) = on_real_book("6", "0", &[]);
    let ccp = dir.path().join("book/ccp.toml");
    let mut config = std::fs::read_to_string(&ccp).unwrap();
    config.push_str(
        "\n[scenario.historical]\nhistory = \"{history}\"\nlookback_days = 730\nlambda = 0.97\n"
            .replace("{history}", shipped_history().to_str().unwrap())
            .as_str(),
    );
    std::fs::write(&ccp, config).unwrap();
    // (flags, the look-back and decay the run must use)
    let cases = [
        ("", 730, 0.97),
        ("--fhs {history}", 730, 0.97),
        ("--fhs {history} --fhs-lookback-days 400", 400, 0.97),
    ];
    for (i, (flags, lookback, lambda)) in cases.into_iter().enumerate() {
        let out = format!("{{dir}}/out{i}");
        check(
            dir.path(),
            &Case {
                args: &small_run(&out, flags),
                ..OK
            },
        );
        let manifest = json(&dir.path().join(format!("out{i}/manifest.json")));
        let h = &manifest["config"]["scenario"]["historical"];
        assert_eq!(h["lookback_days"], lookback, "{flags:?}: {h}");
        assert_eq!(h["lambda"], lambda, "{flags:?}: {h}");
    }
}

/// Choosing the Student-t says what it costs; the default NIG runs quietly.
#[test]
fn a_student_t_run_warns_that_its_es_does_not_converge() {
    let (dir, _) = on_real_book("4", "0", &[]);
    let ccp = dir.path().join("book/ccp.toml");
    // (innovations, whether the run warns)
    for (innovations, warns) in [("student-t", true), ("nig", false)] {
        let config = std::fs::read_to_string(&ccp).unwrap();
        let config: Vec<String> = config
            .lines()
            .map(|l| match l.starts_with("innovations") {
                true => format!("innovations = \"{innovations}\""),
                false => l.to_string(),
            })
            .collect();
        std::fs::write(&ccp, config.join("\n") + "\n").unwrap();
        let out = format!("{{dir}}/out-{innovations}");
        let o = check(
            dir.path(),
            &Case {
                args: &small_run(&out, ""),
                ..OK
            },
        );
        let stderr = text(&o.stderr);
        assert_eq!(
            stderr.contains("no finite exponential moment"),
            warns,
            "{innovations}: {stderr}"
        );
    }
}

/// A tail memory limit that lengthens the pilot or adds passes is named,
/// with the limit that saves them; at that limit the run says nothing of it,
/// and `--quiet` silences the note.
#[test]
fn a_run_short_of_tail_memory_says_what_it_costs_and_what_limit_saves_it() {
    let args: Vec<String> = [("1", ""), ("4", ""), ("7", ""), ("1", "--quiet")]
        .iter()
        .map(|(limit, quiet)| {
            format!(
                "run --paths 400000 --backend cpu --memory-limit-mib {limit} {quiet} \
                 --out {{dir}}/m{limit}{quiet}"
            )
        })
        .collect();
    let cases: Vec<Case> = args.iter().map(|args| Case { args, ..OK }).collect();
    let (_dir, outputs) = steps(&cases);
    let notes: Vec<String> = outputs.iter().map(|o| text(&o.stderr)).collect();
    assert!(
        notes[0].contains("within --memory-limit-mib 1 the members' tail windows fit only if they are counted and narrowed over passes")
            && notes[0].contains("--memory-limit-mib 7 or more saves that"),
        "{}",
        notes[0]
    );
    assert!(
        notes[1].contains(
            "the pilot that places them runs over 50,000 of the 400,000 scenarios, not 12,500"
        ) && notes[1].contains("--memory-limit-mib 7 or more saves that"),
        "{}",
        notes[1]
    );
    assert!(!notes[2].contains("--memory-limit-mib"), "{}", notes[2]);
    assert!(!notes[3].contains("note:"), "{}", notes[3]);
}

/// `report` on a run's folder writes the HTML report and the PQD table into
/// its own folder, and never into the run's; `run --report` writes them into
/// the run's own, which `report` then accepts.
#[test]
fn report_renders_a_runs_folder_into_its_own() {
    steps(&[
        Case {
            args: "run --backend cpu --paths 1000 --quiet --out {dir}/out",
            files: &RUN_OUTPUTS,
            absent: &["out/report.html", "out/pqd.csv"],
            ..OK
        },
        Case {
            args: "run --backend cpu --paths 1000 --report --out {dir}/with-report",
            stdout: &["report: ", "with-report/report.html"],
            files: &[
                "with-report/report.html",
                "with-report/pqd.csv",
                "with-report/summary.json",
            ],
            ..OK
        },
        Case {
            args: "report {dir}/with-report --out {dir}/rep-of-run --quiet",
            files: &["rep-of-run/report.html"],
            ..OK
        },
        Case {
            args: "report {dir}/out --out {dir}/rep",
            stdout: &["report.html", "pqd.csv"],
            files: &["rep/report.html", "rep/pqd.csv", "rep/manifest.json"],
            ..OK
        },
        Case {
            args: "report {dir}/out --out {dir}/out",
            status: 1,
            stderr: &["holds a clearstress run output, not a report output"],
            absent: &["out/report.html"],
            ..OK
        },
    ]);
}
