//! The worked examples run as written: `examples/overnight.sh` with the built
//! binary, and what it leaves behind is what examples/README.md says it is.

use std::path::Path;
use std::process::Command;

#[path = "common/parquet.rs"]
mod parquet_columns;

use arrow_array::RecordBatch;
use parquet_columns::{floats, read_parquet, strings};

fn read_json(path: &Path) -> serde_json::Value {
    let bytes = std::fs::read(path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    serde_json::from_slice(&bytes).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

fn positive(value: &serde_json::Value, what: &str) -> f64 {
    let x = value
        .as_f64()
        .unwrap_or_else(|| panic!("{what} is not a number: {value}"));
    assert!(x.is_finite() && x > 0.0, "{what} = {x}");
    x
}

#[test]
fn the_overnight_workflow_runs_and_leaves_what_it_says() {
    let dir = tempfile::tempdir().unwrap();
    let work = dir.path().join("night");
    let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("examples/overnight.sh");
    let o = Command::new("bash")
        .arg(&script)
        .arg(env!("CARGO_BIN_EXE_clearstress"))
        .arg(&work)
        .output()
        .expect("bash runs");
    let (stdout, stderr) = (
        String::from_utf8_lossy(&o.stdout),
        String::from_utf8_lossy(&o.stderr),
    );
    assert!(o.status.success(), "{stdout}\n{stderr}");
    assert!(!stderr.contains("panicked"), "{stderr}");

    // Every step's output, where the closing list says it is.
    for file in [
        "book/ccp.toml",
        "book/positions.csv",
        "calibrated/ccp.toml",
        "calibrated/calibration.json",
        "calibrated/market/assets.csv",
        "worst-window.toml",
        "compare/margins_by_model.parquet",
        "compare/manifest.json",
    ] {
        assert!(work.join(file).is_file(), "{file} missing");
    }
    // Each run's manifest names its files, with their hashes: all there.
    for run in ["run", "run-with-worst-window"] {
        let manifest = read_json(&work.join(run).join("manifest.json"));
        let outputs = manifest["outputs"].as_array().unwrap();
        assert!(outputs.len() >= 5, "{run}: {outputs:?}");
        for output in outputs {
            let path = output["file"].as_str().unwrap();
            assert!(work.join(run).join(path).is_file(), "{run}/{path} missing");
        }
        assert!(stdout.contains(&format!("  {run}/")), "{stdout}");
    }
    assert!(stdout.contains("== where the results are"), "{stdout}");
    assert!(stdout.contains("valid snapshot: 64 members"), "{stdout}");

    // The calibration was written into the market the runs used.
    let calibration = read_json(&work.join("calibrated/calibration.json"));
    assert_eq!(calibration["assets"].as_array().unwrap().len(), 10);

    // The first run's numbers: positive, finite, and the run the script asked for.
    let summary = read_json(&work.join("run/summary.json"));
    assert_eq!(summary["members"], 64);
    assert_eq!(summary["scenarios"], 20_000);
    assert!(summary["backend"].as_str().unwrap().starts_with("cpu"));
    let margin = positive(
        &summary["margin"]["total_initial_margin"],
        "total initial margin",
    );
    positive(&summary["margin"]["total_collateral"], "total collateral");
    positive(
        &summary["default_fund"]["requirement"],
        "Cover-2 requirement",
    );
    positive(&summary["default_fund"]["cover2"]["amount"], "Cover-2");
    for m in summary["largest_members"].as_array().unwrap() {
        positive(&m["initial_margin"], "a member's initial margin");
    }

    // The worst window is a stress scenario file that names itself ...
    let scenario = std::fs::read_to_string(work.join("worst-window.toml")).unwrap();
    assert!(scenario.starts_with("# Written by clearstress worst-window"));
    let name = scenario
        .lines()
        .find_map(|l| l.strip_prefix("name = \""))
        .and_then(|l| l.strip_suffix('"'))
        .expect("the scenario has a name")
        .to_string();
    assert!(name.ends_with("(5 days)"), "{name}");
    assert!(stdout.contains(&name), "{stdout}");

    // ... which the second run sized the default fund on, beside the shipped
    // scenarios, and the first did not.
    let first = read_parquet(&work.join("run/stress_losses.parquet"));
    let second = read_parquet(&work.join("run-with-worst-window/stress_losses.parquet"));
    let (first_names, second_names) = (strings(&first, "scenario"), strings(&second, "scenario"));
    assert!(!first_names.contains(&name), "{name} in the first run");
    assert_eq!(
        second_names.iter().filter(|s| **s == name).count(),
        64,
        "one row per member for {name}"
    );
    let distinct = |names: &[String]| {
        let mut n = names.to_vec();
        n.sort();
        n.dedup();
        n.len()
    };
    assert_eq!(distinct(&second_names), distinct(&first_names) + 1);
    let losses = floats(&second, "loss");
    assert!(losses.iter().all(|x| x.is_finite()));
    let worst: f64 = second_names
        .iter()
        .zip(&losses)
        .filter(|(s, _)| **s == name)
        .map(|(_, loss)| loss.abs())
        .sum();
    assert!(worst > 0.0, "the worst window moves the book");
    let fund = read_parquet(&work.join("run-with-worst-window/default_fund_scenarios.parquet"));
    assert!(strings(&fund, "scenario").contains(&name));
    // The same seed and paths: the margins do not depend on the stress scenarios.
    let again = read_json(&work.join("run-with-worst-window/summary.json"));
    assert_eq!(
        again["margin"]["total_initial_margin"].as_f64(),
        Some(margin)
    );

    // The comparison: one row per member, every margin finite and positive.
    let compare = read_parquet(&work.join("compare/margins_by_model.parquet"));
    assert_eq!(compare.iter().map(RecordBatch::num_rows).sum::<usize>(), 64);
    let schema = compare[0].schema();
    let models: Vec<&str> = schema
        .fields()
        .iter()
        .map(|f| f.name().as_str())
        .filter(|n| *n != "member_id")
        .collect();
    for model in ["gaussian", "fhs", "configured", "apc_buffer_25"] {
        assert!(models.contains(&model), "{model} not in {models:?}");
    }
    for model in models {
        assert!(
            floats(&compare, model)
                .iter()
                .all(|x| x.is_finite() && *x >= 0.0),
            "{model}"
        );
    }
}

/// `examples/slurm/`'s scripts, run as a job array's tasks would run them
/// (the `#SBATCH` lines are comments to bash; Slurm sets the array's
/// variables), then the merge: the folder a run on one machine writes.
#[test]
fn the_slurm_example_shards_and_merges_to_the_one_machine_run() {
    let dir = tempfile::tempdir().unwrap();
    let examples = Path::new(env!("CARGO_MANIFEST_DIR")).join("examples/slurm");
    let binary = env!("CARGO_BIN_EXE_clearstress");
    let script = |name: &str, env: &[(&str, &str)]| {
        let o = Command::new("bash")
            .arg(examples.join(name))
            .current_dir(dir.path())
            .env("CLEARSTRESS", binary)
            .env("PATHS", "20000")
            .env("SLURM_CPUS_PER_TASK", "2")
            .envs(env.iter().copied())
            .output()
            .expect("bash runs");
        assert!(
            o.status.success(),
            "{name}: {}",
            String::from_utf8_lossy(&o.stderr)
        );
    };
    // As submit.sh with USE_PLAN=1 runs them: the plan, then the array.
    script("shard.sbatch", &[("SHARD", "plan"), ("PARTS", "plan")]);
    for task in ["4", "5", "6"] {
        let array = [
            ("SLURM_ARRAY_TASK_ID", task),
            ("SLURM_ARRAY_TASK_MIN", "4"),
            ("SLURM_ARRAY_TASK_COUNT", "3"),
            ("PLAN", "plan/plan.parquet"),
        ];
        script("shard.sbatch", &array);
    }
    script("merge.sbatch", &[]);
    let one = Command::new(binary)
        .current_dir(dir.path())
        .args([
            "run",
            "--paths",
            "20000",
            "--seed",
            "20250220",
            "--threads",
            "2",
            "--quiet",
            "--out",
            "one",
        ])
        .output()
        .unwrap();
    assert!(one.status.success());
    let summary = |folder: &str| {
        let mut s = read_json(&dir.path().join(folder).join("summary.json"));
        s.as_object_mut().unwrap().remove("timings_seconds");
        s
    };
    assert_eq!(summary("clearstress-out"), summary("one"));
    for table in [
        "margins.parquet",
        "fund_depletion.parquet",
        "default_fund.parquet",
    ] {
        let bytes = |folder: &str| std::fs::read(dir.path().join(folder).join(table)).unwrap();
        assert!(bytes("clearstress-out") == bytes("one"), "{table} differs");
    }
}
