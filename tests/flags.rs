//! Every numeric, day and date flag is bounded: a value outside its range is
//! refused at once, by a message that names the flag and the range, and a
//! run far beyond the machine is refused before it starts. One row per case,
//! each run through the real binary.

#[path = "common/machine.rs"]
mod machine;

use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

/// What a refused command must show.
struct Case {
    args: Vec<String>,
    /// Exit status: 2 when the parser refuses, 1 when the command does.
    status: i32,
    /// Substrings of stderr: the flag and its range, or the reason.
    stderr: Vec<&'static str>,
}

/// Long enough for a loaded CI machine to start the binary and load the
/// sample; far shorter than any of the hangs these flags once caused.
const FAST: Duration = Duration::from_secs(5);

/// Runs the binary, killing it if it outlives twice `FAST`.
fn run(args: &[String]) -> (Option<i32>, String, Duration) {
    let started = Instant::now();
    let mut child = Command::new(env!("CARGO_BIN_EXE_clearstress"))
        .args(args)
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .expect("the binary runs");
    loop {
        if let Some(status) = child.try_wait().expect("wait") {
            let mut stderr = String::new();
            use std::io::Read;
            child
                .stderr
                .take()
                .expect("piped")
                .read_to_string(&mut stderr)
                .expect("stderr");
            return (status.code(), stderr, started.elapsed());
        }
        if started.elapsed() > 2 * FAST {
            let _ = child.kill();
            let _ = child.wait();
            panic!("clearstress {args:?} still running after {:?}", 2 * FAST);
        }
        std::thread::sleep(Duration::from_millis(20));
    }
}

fn history() -> String {
    machine::daily_closes().display().to_string()
}

fn case(args: &str, status: i32, stderr: &[&'static str]) -> Case {
    Case {
        args: args.split_whitespace().map(str::to_string).collect(),
        status,
        stderr: stderr.to_vec(),
    }
}

/// A book of the ten assets the shipped history holds, and that history cut
/// off in 2020 (long before the book's valuation date, 2025-02-20).
fn fhs_inputs(dir: &Path) -> (PathBuf, PathBuf) {
    let book = dir.join("book");
    let o = Command::new(env!("CARGO_BIN_EXE_clearstress"))
        .args(["init", "--out", book.to_str().unwrap(), "--assets", "10"])
        .output()
        .unwrap();
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    let full = std::fs::read_to_string(history()).unwrap();
    let short: Vec<&str> = full.lines().take(1000).collect();
    assert!(short[999].starts_with("2020-08-03"), "{}", short[999]);
    let cut = dir.join("short_history.csv");
    std::fs::write(&cut, short.join("\n") + "\n").unwrap();
    (book, cut)
}

#[test]
fn every_out_of_range_flag_is_refused_fast_naming_the_flag_and_its_range() {
    let dir = tempfile::tempdir().unwrap();
    let (book, cut) = fhs_inputs(dir.path());
    let (book, cut) = (book.display().to_string(), cut.display().to_string());
    let new = dir.path().join("new").display().to_string();
    let h = history();
    let paths = ["--paths", "1000..=100000000000"];
    let pro = format!("procyclicality --history {h} --from 2024-01-01 --to 2024-06-01");
    let cal = format!("calibrate --history {h}");
    let ww = format!("worst-window --history {h}");
    let cases = vec![
        // Counts.
        case("run --paths -1", 2, &paths),
        case("run --paths 0", 2, &paths),
        case("run --paths 999", 2, &paths),
        case("run --paths 1000000000000000", 2, &paths),
        case("run --paths 99999999999999999999999999", 2, &paths),
        case("compare --paths 999", 2, &paths),
        case(&format!("{pro} --paths 999"), 2, &paths),
        case("run --threads 100000", 2, &["--threads", "1..=1024"]),
        case("run --threads 0", 2, &["--threads", "1..=1024"]),
        case("run --block-size 63", 2, &["--block-size", "64..=1048576"]),
        case("run --adapter 64", 2, &["--adapter", "0..=63"]),
        case(
            "run --memory-limit-mib 17592186044416",
            2,
            &["--memory-limit-mib", "1..=1048576"],
        ),
        case(
            &format!("run --book {book} --fhs {h} --fhs-lookback-days 29"),
            2,
            &["--fhs-lookback-days", "30..=36500"],
        ),
        case(
            &format!("init --out {new} --options 1000000000000"),
            2,
            &["--options", "0..=100000"],
        ),
        case(
            &format!("init --out {new} --assets 100000"),
            2,
            &["--assets", "2..=1000"],
        ),
        case(
            &format!("init --out {new} --members 1000000000"),
            2,
            &["--members", "2..=100000"],
        ),
        case(
            &format!("init --out {new} --members 1"),
            2,
            &["--members", "2..=100000"],
        ),
        case(
            &format!("{ww} --days 4294967295"),
            2,
            &["--days", "1..=3650"],
        ),
        case(&format!("{ww} --days 0"), 2, &["--days", "1..=3650"]),
        case(&format!("{ww} --top 0"), 2, &["--top", "1..=1000"]),
        case(
            &format!("{pro} --every 4294967295"),
            2,
            &["--every", "1..=3650"],
        ),
        case(
            &format!("{pro} --every 2147483647"),
            2,
            &["--every", "1..=3650"],
        ),
        case(&format!("{pro} --every 0"), 2, &["--every", "1..=3650"]),
        case(
            &format!("{pro} --window-days 0"),
            2,
            &["--window-days", "1..=3650"],
        ),
        case(
            &format!("{cal} --lookback-days 0"),
            2,
            &["--lookback-days", "60..=36500"],
        ),
        case(
            &format!("{cal} --lookback-days 4294967295"),
            2,
            &["--lookback-days", "60..=36500"],
        ),
        case(
            &format!("{pro} --lookback-days 0"),
            2,
            &["--lookback-days", "60..=36500"],
        ),
        // Reals.
        case(&format!("{pro} --buffer nan"), 2, &["--buffer", "[0, 1]"]),
        case(&format!("{pro} --buffer 1e308"), 2, &["--buffer", "[0, 1]"]),
        case(&format!("{pro} --buffer -0.1"), 2, &["--buffer", "[0, 1]"]),
        case(
            &format!("{pro} --stressed-weight 1.5"),
            2,
            &["--stressed-weight", "[0, 1]"],
        ),
        case(&format!("{cal} --lambda 1"), 2, &["--lambda", "(0, 1)"]),
        case(&format!("{cal} --lambda inf"), 2, &["--lambda", "(0, 1)"]),
        case("run --horizon-days 0", 2, &["--horizon-days", "(0, 365]"]),
        case(
            "run --horizon-days 1e308",
            2,
            &["--horizon-days", "(0, 365]"],
        ),
        case("run --confidence 1", 2, &["--confidence", "(0.5, 1)"]),
        case("run --confidence nan", 2, &["--confidence", "(0.5, 1)"]),
        // Dates.
        case(
            &format!("{cal} --as-of 123456789-01-01"),
            2,
            &["--as-of", "1900-01-01..=9999-12-31"],
        ),
        case(
            &format!("procyclicality --history {h} --from 123456789-01-01 --to 2024-01-01"),
            2,
            &["--from", "1900-01-01..=9999-12-31"],
        ),
        case(
            &format!("{cal} --stress-window 2022-05-01..2022-04-01"),
            2,
            &["--stress-window", "FROM <= TO"],
        ),
        // Refused by the command, before any work.
        case(
            &format!("procyclicality --history {h} --from 1990-01-01 --to 2025-01-01 --every 1"),
            1,
            &["12785 margin dates", "more than the 5000", "--every 3"],
        ),
        case(
            &format!("procyclicality --history {h} --from 2025-01-01 --to 2024-01-01"),
            1,
            &["--to 2024-01-01 is before --from 2025-01-01"],
        ),
        case(
            "run --paths 100000000000 --backend cpu --threads 1",
            1,
            &[
                "would take at least",
                "one thread",
                "--paths",
                "or fewer",
                "a GPU",
            ],
        ),
        case(
            &format!("run --book {book} --fhs {cut} --paths 2000 --backend cpu"),
            1,
            &[
                "short_history.csv",
                "window 2022-02-22..2025-02-20",
                "BTC",
                "0 usable daily returns",
                "the history ends 2020-08-03",
            ],
        ),
    ];
    let mut failures = Vec::new();
    for c in &cases {
        let (status, stderr, took) = run(&c.args);
        let missing: Vec<_> = c.stderr.iter().filter(|s| !stderr.contains(*s)).collect();
        if status != Some(c.status) || !missing.is_empty() || took > FAST {
            failures.push(format!(
                "{:?}: status {status:?} (want {}), {took:?}, missing {missing:?} in:\n{stderr}",
                c.args, c.status
            ));
        }
        assert!(!stderr.contains("panicked"), "{:?}: {stderr}", c.args);
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
    assert!(!Path::new(&new).exists(), "a refused init writes nothing");
}

#[test]
fn help_states_each_flags_range() {
    for (command, ranges) in [
        (
            "run",
            &[
                "1000..=100000000000",
                "1..=1024",
                "64..=1048576",
                "1..=1048576",
                "30..=36500",
                "0..=63",
                "(0, 365]",
                "(0.5, 1)",
            ][..],
        ),
        ("init", &["2..=100000", "2..=1000", "0..=100000"][..]),
        (
            "calibrate",
            &["60..=36500", "(0, 1)", "1900-01-01..=9999-12-31"][..],
        ),
        ("worst-window", &["1..=3650", "1..=1000"][..]),
        (
            "procyclicality",
            &[
                "1..=3650",
                "1000..=100000000000",
                "60..=36500",
                "[0, 1]",
                "5000 dates",
            ][..],
        ),
        ("compare", &["1000..=100000000000"][..]),
        (
            "haircuts",
            &[
                "1000..=100000000000",
                "(0, 365]",
                "(0.5, 1)",
                "1..=1048576",
                "1..=1024",
                "0..=63",
            ][..],
        ),
    ] {
        let o = Command::new(env!("CARGO_BIN_EXE_clearstress"))
            .args([command, "--help"])
            .output()
            .unwrap();
        assert!(o.status.success());
        // clap wraps help lines: compare with whitespace collapsed.
        let help = String::from_utf8_lossy(&o.stdout)
            .split_whitespace()
            .collect::<Vec<_>>()
            .join(" ");
        for range in ranges {
            assert!(
                help.contains(range),
                "{command} --help lacks {range}:\n{help}"
            );
        }
    }
}

#[test]
fn probing_for_gpus_prints_nothing_on_a_headless_machine() {
    // No display server: what CI and a server look like.
    let o = Command::new(env!("CARGO_BIN_EXE_clearstress"))
        .arg("devices")
        .env_remove("XDG_RUNTIME_DIR")
        .env_remove("WAYLAND_DISPLAY")
        .env_remove("DISPLAY")
        .env_remove("NODEVICE_SELECT")
        .output()
        .unwrap();
    let (stdout, stderr) = (
        String::from_utf8_lossy(&o.stdout),
        String::from_utf8_lossy(&o.stderr),
    );
    assert!(o.status.success(), "{stderr}");
    assert!(stdout.contains("--backend auto:"), "{stdout}");
    if stdout.contains("wgpu: no adapter found") {
        machine::skip(
            "(partly) no Vulkan adapter: the probe's stderr was checked with no driver loaded",
        );
    }
    assert_eq!(stderr, "", "devices wrote to stderr");
}
