//! Where results go: clearstress writes only to a new path, an empty folder or
//! an earlier output of its own of the same kind; it checks that before any
//! work, locks out a second writer, and a run killed between any two steps of
//! the write leaves either the earlier output or the new one, whole.

#[path = "common/binary.rs"]
mod binary;
#[path = "common/listing.rs"]
mod listing;
#[path = "common/machine.rs"]
mod machine;

use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use binary::clearstress_in;
use listing::entries;

fn text(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).into_owned()
}

fn shipped_history() -> PathBuf {
    machine::daily_closes()
}

/// A small, fast run (of the embedded sample unless `--book` is added).
const SMALL_RUN: [&str; 6] = ["run", "--backend", "cpu", "--paths", "1000", "--quiet"];

/// [`SMALL_RUN`] into `out` (relative to `cwd`).
fn run_args(out: &str) -> Vec<&str> {
    let mut args = SMALL_RUN.to_vec();
    args.extend(["--out", out]);
    args
}

/// Every file below `dir` with its bytes, sorted: what must not change.
fn tree(dir: &Path) -> Vec<(PathBuf, Vec<u8>)> {
    fn walk(dir: &Path, out: &mut Vec<(PathBuf, Vec<u8>)>) {
        for entry in std::fs::read_dir(dir).unwrap() {
            let path = entry.unwrap().path();
            let meta = std::fs::symlink_metadata(&path).unwrap();
            if meta.is_dir() {
                walk(&path, out);
            } else if meta.is_file() {
                out.push((path.clone(), std::fs::read(&path).unwrap()));
            } else {
                out.push((path.clone(), Vec::new()));
            }
        }
    }
    let mut out = Vec::new();
    walk(dir, &mut out);
    out.sort();
    out
}

/// Whether `dir` is a whole clearstress output: its manifest lists exactly
/// the files present, each with the hash of its bytes. Returns the manifest.
fn whole_output(dir: &Path) -> Option<serde_json::Value> {
    let manifest: serde_json::Value =
        serde_json::from_slice(&std::fs::read(dir.join("manifest.json")).ok()?).ok()?;
    let listed = manifest["outputs"].as_array()?;
    let mut files: Vec<String> = tree(dir)
        .into_iter()
        .map(|(p, _)| p.strip_prefix(dir).unwrap().to_string_lossy().into_owned())
        .filter(|f| f != "manifest.json")
        .collect();
    files.sort();
    let mut names: Vec<String> = listed
        .iter()
        .map(|o| o["file"].as_str().unwrap_or_default().to_string())
        .collect();
    names.sort();
    if files != names || files.is_empty() {
        return None;
    }
    for o in listed {
        let bytes = std::fs::read(dir.join(o["file"].as_str()?)).ok()?;
        if o["sha256"].as_str()? != clearstress::input::sha256_hex(&bytes) {
            return None;
        }
    }
    Some(manifest)
}

/// What a destination holds before the run, and what the run must do.
struct Case {
    name: &'static str,
    setup: fn(&Path),
    out: &'static str,
    /// `None`: the run succeeds; `Some(s)`: it fails saying `s`, changing nothing.
    refused: Option<&'static str>,
}

fn earlier_run(dir: &Path) {
    let o = clearstress_in(dir, &run_args("out"), &[]);
    assert!(o.status.success(), "{}", text(&o.stderr));
}

fn users_book(dir: &Path) {
    let o = clearstress_in(dir, &["init", "--out", "book", "--members", "5"], &[]);
    assert!(o.status.success(), "{}", text(&o.stderr));
    // A book the user keeps as their own, with no manifest.
    std::fs::remove_file(dir.join("book/manifest.json")).unwrap();
}

#[test]
fn each_destination_is_written_or_refused_untouched() {
    let cases = [
        Case {
            name: "a new path, parents created",
            setup: |_| {},
            out: "results/today",
            refused: None,
        },
        Case {
            name: "an empty folder",
            setup: |d| std::fs::create_dir(d.join("out")).unwrap(),
            out: "out",
            refused: None,
        },
        Case {
            name: "an earlier run's output",
            setup: earlier_run,
            out: "out",
            refused: None,
        },
        Case {
            name: "an earlier output with a user's file added",
            setup: |d| {
                earlier_run(d);
                std::fs::write(d.join("out/notes.txt"), "mine").unwrap();
            },
            out: "out",
            refused: Some("holds `notes.txt`, which clearstress did not write"),
        },
        Case {
            name: "an earlier output with a result edited",
            setup: |d| {
                earlier_run(d);
                std::fs::write(d.join("out/summary.json"), "{}").unwrap();
            },
            out: "out",
            refused: Some("`summary.json` changed since clearstress wrote it"),
        },
        Case {
            name: "the input book",
            setup: users_book,
            out: "book",
            refused: Some("which clearstress did not write there"),
        },
        Case {
            name: "a user's folder",
            setup: |d| {
                std::fs::create_dir(d.join("out")).unwrap();
                std::fs::write(d.join("out/positions.csv"), "x").unwrap();
            },
            out: "out",
            refused: Some("holds `positions.csv`, which clearstress did not write"),
        },
        Case {
            name: "a user's file",
            setup: |d| std::fs::write(d.join("out"), "mine").unwrap(),
            out: "out",
            refused: Some("exists and is not a folder"),
        },
        Case {
            name: "a named pipe (as /dev/null is a device)",
            setup: |d| {
                let status = Command::new("mkfifo").arg(d.join("out")).status().unwrap();
                assert!(status.success());
            },
            out: "out",
            refused: Some("exists and is not a folder"),
        },
        Case {
            name: "a symbolic link to an earlier output",
            setup: |d| {
                let o = clearstress_in(d, &run_args("real"), &[]);
                assert!(o.status.success(), "{}", text(&o.stderr));
                std::os::unix::fs::symlink(d.join("real"), d.join("out")).unwrap();
            },
            out: "out",
            refused: Some("is a symbolic link"),
        },
        Case {
            name: "the current folder",
            setup: |_| {},
            out: ".",
            refused: Some("is the current folder"),
        },
        Case {
            name: "the root",
            setup: |_| {},
            out: "/",
            refused: Some("names no folder clearstress can write"),
        },
        Case {
            name: "an output of another command",
            setup: |d| {
                let o = clearstress_in(d, &["init", "--out", "out", "--members", "5"], &[]);
                assert!(o.status.success(), "{}", text(&o.stderr));
            },
            out: "out",
            refused: Some("holds a clearstress init output, not a run output"),
        },
    ];
    for case in cases {
        let dir = tempfile::tempdir().unwrap();
        (case.setup)(dir.path());
        let before = tree(dir.path());
        let o = clearstress_in(dir.path(), &run_args(case.out), &[]);
        let err = text(&o.stderr);
        match case.refused {
            None => {
                assert!(o.status.success(), "{}: {err}", case.name);
                let manifest = whole_output(&dir.path().join(case.out))
                    .unwrap_or_else(|| panic!("{}: no whole output", case.name));
                assert_eq!(manifest["kind"], "run", "{}", case.name);
            }
            Some(says) => {
                assert_eq!(o.status.code(), Some(1), "{}: {err}", case.name);
                assert!(err.contains(says), "{}: `{says}` not in: {err}", case.name);
                assert!(!err.contains("panicked"), "{}: {err}", case.name);
                assert_eq!(tree(dir.path()), before, "{}: something changed", case.name);
            }
        }
        // No staging folder or lock is left beside the destination.
        let debris: Vec<String> = entries(dir.path())
            .into_iter()
            .filter(|n| n.contains(".partial-") || n.ends_with(".lock"))
            .collect();
        assert!(debris.is_empty(), "{}: left {debris:?}", case.name);
    }
}

#[test]
fn the_destination_is_checked_before_any_work() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("out"), "mine").unwrap();
    // A billion paths would take hours: the refusal must come first.
    let started = Instant::now();
    let o = clearstress_in(
        dir.path(),
        &[
            "run",
            "--backend",
            "cpu",
            "--paths",
            "1000000000",
            "--out",
            "out",
        ],
        &[],
    );
    assert_eq!(o.status.code(), Some(1));
    assert!(text(&o.stderr).contains("exists and is not a folder"));
    assert!(started.elapsed() < Duration::from_secs(20));
}

/// Every command that writes a folder or a file refuses the input book, and
/// replaces its own earlier output.
#[test]
fn every_command_refuses_the_input_book_and_replaces_its_own_output() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let o = clearstress_in(
        d,
        &[
            "init",
            "--out",
            "book",
            "--assets",
            "10",
            "--members",
            "6",
            "--options",
            "20",
        ],
        &[],
    );
    assert!(o.status.success(), "{}", text(&o.stderr));
    let history = shipped_history();
    let history = history.to_str().unwrap();
    let commands: [(&str, Vec<&str>); 5] = [
        (
            "calibrate",
            vec!["calibrate", "--history", history, "--book", "book"],
        ),
        (
            "compare",
            vec!["compare", "--book", "book", "--paths", "1000"],
        ),
        (
            "procyclicality",
            vec![
                "procyclicality",
                "--history",
                history,
                "--book",
                "book",
                "--from",
                "2024-01-01",
                "--to",
                "2024-01-15",
                "--paths",
                "1000",
            ],
        ),
        ("run", [SMALL_RUN.as_slice(), &["--book", "book"]].concat()),
        (
            "worst-window",
            vec![
                "worst-window",
                "--history",
                history,
                "--book",
                "book",
                "--top",
                "1",
            ],
        ),
    ];
    let book_before = tree(&d.join("book"));
    for (name, args) in &commands {
        let target = if *name == "worst-window" {
            "book/ccp.toml"
        } else {
            "book"
        };
        let mut with_out = args.clone();
        with_out.extend(["--out", target]);
        let o = clearstress_in(d, &with_out, &[]);
        assert_eq!(o.status.code(), Some(1), "{name}: {}", text(&o.stderr));
        assert!(
            text(&o.stderr).contains("output book"),
            "{name}: {}",
            text(&o.stderr)
        );
        assert_eq!(
            tree(&d.join("book")),
            book_before,
            "{name} changed the book"
        );

        let own = format!(
            "{name}-out{}",
            if *name == "worst-window" { ".toml" } else { "" }
        );
        let mut with_out = args.clone();
        with_out.extend(["--out", &own]);
        for attempt in 0..2 {
            let o = clearstress_in(d, &with_out, &[]);
            assert!(o.status.success(), "{name} #{attempt}: {}", text(&o.stderr));
        }
        if *name != "worst-window" {
            let manifest = whole_output(&d.join(&own)).expect("a whole output");
            assert_eq!(manifest["kind"], *name);
        }
    }
    // And the run's book into the other commands' outputs: refused by kind.
    let mut into_compare = run_args("compare-out");
    into_compare.extend(["--book", "book"]);
    let o = clearstress_in(d, &into_compare, &[]);
    assert!(text(&o.stderr).contains("holds a clearstress compare output, not a run output"));
}

/// The documented workflow: init -> calibrate -> validate -> run.
#[test]
fn a_calibrated_snapshot_is_complete_and_runs() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let history = shipped_history();
    let steps: [Vec<&str>; 4] = [
        vec!["init", "--out", "book", "--assets", "10", "--members", "8"],
        vec![
            "calibrate",
            "--history",
            history.to_str().unwrap(),
            "--book",
            "book",
            "--out",
            "cal",
        ],
        vec!["validate", "--book", "cal"],
        vec![
            "run",
            "--backend",
            "cpu",
            "--book",
            "cal",
            "--paths",
            "2000",
            "--out",
            "out",
        ],
    ];
    for step in &steps {
        let o = clearstress_in(d, step, &[]);
        assert!(o.status.success(), "{step:?}: {}", text(&o.stderr));
    }
    // The calibrated snapshot carries the book's stress scenarios, byte for byte.
    let mut shipped: Vec<Vec<u8>> = tree(&d.join("book/scenarios"))
        .into_iter()
        .map(|f| f.1)
        .collect();
    let mut copied: Vec<Vec<u8>> = tree(&d.join("cal/scenarios"))
        .into_iter()
        .map(|f| f.1)
        .collect();
    shipped.sort();
    copied.sort();
    assert!(!shipped.is_empty());
    assert_eq!(shipped, copied);
    // ... in the order the book has them.
    let names = |out: &str| -> Vec<String> {
        let m: serde_json::Value =
            serde_json::from_slice(&std::fs::read(d.join(out).join("manifest.json")).unwrap())
                .unwrap();
        m["stress_scenarios"]
            .as_array()
            .unwrap()
            .iter()
            .map(|s| s["name"].as_str().unwrap().to_string())
            .collect()
    };
    let o = clearstress_in(
        d,
        &[
            "run",
            "--backend",
            "cpu",
            "--book",
            "book",
            "--paths",
            "2000",
            "--out",
            "out-book",
        ],
        &[],
    );
    assert!(o.status.success(), "{}", text(&o.stderr));
    assert_eq!(names("out"), names("out-book"));
    // The calibrated folder can be moved: nothing in it points outside.
    std::fs::rename(d.join("cal"), d.join("moved")).unwrap();
    std::fs::remove_dir_all(d.join("book")).unwrap();
    let o = clearstress_in(d, &["validate", "--book", "moved"], &[]);
    assert!(o.status.success(), "{}", text(&o.stderr));
}

#[test]
fn a_second_writer_is_refused_at_once_and_a_killed_one_leaves_no_debris() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    earlier_run(d);
    let earlier = tree(&d.join("out"));
    let mut first = Command::new(env!("CARGO_BIN_EXE_clearstress"))
        .current_dir(d)
        .args([
            "run",
            "--backend",
            "cpu",
            "--paths",
            "50000000",
            "--quiet",
            "--out",
            "out",
        ])
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let started = Instant::now();
    while !d.join(".out.lock").exists() {
        assert!(
            started.elapsed() < Duration::from_secs(30),
            "the first run never locked"
        );
        std::thread::sleep(Duration::from_millis(20));
    }
    let started = Instant::now();
    let o = clearstress_in(d, &run_args("out"), &[]);
    assert_eq!(o.status.code(), Some(1));
    assert!(
        text(&o.stderr).contains("another clearstress process is writing it"),
        "{}",
        text(&o.stderr)
    );
    assert!(started.elapsed() < Duration::from_secs(5), "refused late");
    first.kill().unwrap();
    first.wait().unwrap();
    assert_eq!(tree(&d.join("out")), earlier, "the earlier output changed");
    // The dead run's staging folder is cleared by the next writer.
    let o = clearstress_in(d, &run_args("out"), &[]);
    assert!(o.status.success(), "{}", text(&o.stderr));
    assert_eq!(entries(d), ["out"]);
}

/// Kills a run at each point between two steps of the write (by
/// `CLEARSTRESS_FAULT`, which ends the process there without unwinding or
/// running any destructor, as a kill would), with and
/// without an earlier output, through the one-step exchange and through the
/// two-rename fallback. At every point the destination holds the earlier
/// output or the new one, whole, or (with no earlier output) nothing; the
/// next writer, even one that fails, leaves no debris and no output lost.
#[test]
fn a_run_killed_between_any_two_steps_loses_nothing() {
    for step in ["staged", "synced", "moved-aside", "swapped"] {
        for swap in ["exchange", "no-exchange"] {
            if step == "moved-aside" && swap == "exchange" {
                continue; // the exchange path has no such point
            }
            for earlier in [false, true] {
                let case = format!("killed at {step}, {swap}, earlier output: {earlier}");
                let dir = tempfile::tempdir().unwrap();
                let d = dir.path();
                if earlier {
                    earlier_run(d);
                }
                let before = earlier.then(|| tree(&d.join("out")));
                let fault = format!("kill:{step},{swap}");
                // A different seed, so the new output differs from the earlier.
                let mut args = run_args("out");
                args.extend(["--seed", "7"]);
                let o = clearstress_in(d, &args, &[("CLEARSTRESS_FAULT", &fault)]);
                let reached = step != "moved-aside" || earlier;
                assert_eq!(o.status.success(), !reached, "{case}: {}", text(&o.stderr));
                let out = d.join("out");
                let now = out.exists().then(|| tree(&out));
                let is_new = out.exists() && whole_output(&out).is_some() && now != before;
                match (step, &before) {
                    ("swapped", _) => assert!(is_new, "{case}: the new output is not whole"),
                    ("moved-aside", Some(_)) => {
                        assert!(!out.exists(), "{case}: expected the output moved aside")
                    }
                    (_, Some(old)) => assert_eq!(now.as_ref(), Some(old), "{case}"),
                    (_, None) => assert!(!out.exists() || is_new, "{case}: {now:?}"),
                }
                // The next writer fails (no such book) after preparing the
                // destination: the earlier state is restored, debris removed.
                let mut failing = run_args("out");
                failing.extend(["--book", "no-such-book"]);
                let o = clearstress_in(d, &failing, &[]);
                assert_eq!(o.status.code(), Some(1), "{case}");
                let expected_out = match (step, &before) {
                    ("swapped", _) => now.clone(),
                    ("moved-aside", Some(old)) => Some(old.clone()),
                    (_, Some(old)) => Some(old.clone()),
                    (_, None) => now.clone(),
                };
                let after = out.exists().then(|| tree(&out));
                assert_eq!(after, expected_out, "{case}: after the next writer");
                let left = entries(d);
                assert!(
                    left.iter().all(|n| n == "out"),
                    "{case}: debris left: {left:?}"
                );
            }
        }
    }
}
