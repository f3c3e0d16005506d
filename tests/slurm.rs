//! The Slurm example run on a real cluster: `examples/slurm/submit.sh`
//! submits a 4-task job array of `shard.sbatch` with `sbatch`, and
//! `merge.sbatch` after it (`--dependency=afterok`); the merged folder equals
//! the one-machine run's (`summary.json` without timings, and the result
//! tables byte for byte). `.ci/run` starts a one-node cluster first
//! (`.ci/slurm-up`: Debian's munge, slurmctld and slurmd). Where no cluster
//! answers the test says so and passes; under `CI=true` it fails.

use std::path::Path;
use std::process::Command;
use std::time::{Duration, Instant};

use serde_json::Value;

/// How long the array and the merge may take, queueing included.
const PATIENCE: Duration = Duration::from_secs(600);

/// Whether `sinfo` lists an idle or busy node.
fn cluster_up() -> bool {
    Command::new("sinfo")
        .args(["-h", "-o", "%T"])
        .output()
        .is_ok_and(|o| {
            let states = String::from_utf8_lossy(&o.stdout);
            o.status.success()
                && states
                    .lines()
                    .any(|s| ["idle", "mixed", "allocated"].contains(&s.trim()))
        })
}

/// `scontrol show job`'s `field=value` for `job`, if it has that field.
fn job_field(job: &str, field: &str) -> Option<String> {
    let o = Command::new("scontrol")
        .args(["show", "job", job])
        .output()
        .ok()?;
    let text = String::from_utf8_lossy(&o.stdout).into_owned();
    let key = format!("{field}=");
    text.split_whitespace()
        .find_map(|w| w.strip_prefix(&key).map(str::to_string))
}

fn read_json(path: &Path) -> Value {
    serde_json::from_slice(&std::fs::read(path).unwrap()).unwrap()
}

/// Every Slurm log the jobs wrote in `dir`, for a failure's message.
fn logs(dir: &Path) -> String {
    let mut out = String::new();
    for entry in std::fs::read_dir(dir).unwrap() {
        let path = entry.unwrap().path();
        if path.extension().is_some_and(|e| e == "log") {
            out.push_str(&format!(
                "--- {}\n{}\n",
                path.display(),
                std::fs::read_to_string(&path).unwrap_or_default()
            ));
        }
    }
    out
}

#[test]
fn a_four_shard_array_and_its_dependent_merge_give_the_one_machine_run() {
    if !cluster_up() {
        let why = "no Slurm cluster answers `sinfo` (.ci/slurm-up starts one)";
        assert!(std::env::var("CI").as_deref() != Ok("true"), "{why}");
        eprintln!("SKIPPED: {why}");
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let binary = env!("CARGO_BIN_EXE_clearstress");
    let submit = Path::new(env!("CARGO_MANIFEST_DIR")).join("examples/slurm/submit.sh");
    let o = Command::new("bash")
        .arg(&submit)
        .current_dir(dir.path())
        .env("CLEARSTRESS", binary)
        .env("SHARDS", "4")
        .env("PATHS", "20000")
        .output()
        .expect("bash runs");
    let stdout = String::from_utf8_lossy(&o.stdout).into_owned();
    assert!(
        o.status.success(),
        "submit.sh: {}{stdout}",
        String::from_utf8_lossy(&o.stderr)
    );
    let merge = stdout
        .lines()
        .last()
        .unwrap()
        .split(';')
        .next()
        .unwrap()
        .to_string();

    let started = Instant::now();
    loop {
        let state = job_field(&merge, "JobState").unwrap_or_default();
        match state.as_str() {
            "COMPLETED" => break,
            "FAILED" | "CANCELLED" | "TIMEOUT" | "NODE_FAIL" | "OUT_OF_MEMORY" => {
                panic!("merge job {merge}: {state}\n{}", logs(dir.path()))
            }
            _ => {}
        }
        let reason = job_field(&merge, "Reason").unwrap_or_default();
        assert!(
            reason != "DependencyNeverSatisfied",
            "a shard failed, so the merge never runs:\n{}",
            logs(dir.path())
        );
        assert!(
            started.elapsed() < PATIENCE,
            "merge job {merge} still {state} ({reason}) after {PATIENCE:?}\n{}",
            logs(dir.path())
        );
        std::thread::sleep(Duration::from_millis(500));
    }
    for task in 0..4 {
        let part = format!("parts/part-{task:06}-of-000004.parquet");
        assert!(dir.path().join(&part).is_file(), "no {part}");
    }

    let one = Command::new(binary)
        .current_dir(dir.path())
        .args([
            "run", "--paths", "20000", "--seed", "20250220", "--quiet", "--out", "one",
        ])
        .output()
        .unwrap();
    assert!(
        one.status.success(),
        "{}",
        String::from_utf8_lossy(&one.stderr)
    );
    // Every result, not how long it took nor how many threads the jobs had.
    let summary = |folder: &str| {
        let mut s = read_json(&dir.path().join(folder).join("summary.json"));
        let s = s.as_object_mut().unwrap();
        s.remove("timings_seconds");
        s.remove("backend");
        s.clone()
    };
    let (merged, one) = (summary("clearstress-out"), summary("one"));
    let differ: Vec<&String> = one
        .keys()
        .filter(|k| merged.get(*k) != one.get(*k))
        .collect();
    assert!(
        differ.is_empty() && merged.len() == one.len(),
        "summary.json differs in {differ:?}"
    );
    for table in [
        "margins.parquet",
        "default_fund.parquet",
        "stress_losses.parquet",
        "fund_depletion.parquet",
        "waterfall.parquet",
    ] {
        let bytes = |folder: &str| std::fs::read(dir.path().join(folder).join(table)).unwrap();
        assert!(bytes("clearstress-out") == bytes("one"), "{table} differs");
    }
}
