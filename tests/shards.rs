//! Sharded runs (methodology 18): a run split into N shards by `run --shard
//! I/N` and merged by `clearstress merge` writes the one-machine run's
//! outputs bit for bit, whatever N and the tail layout; a merge refuses
//! parts that are not one run's, naming the part; a shard killed after a
//! checkpoint resumes from it to the same result, and so does a run on one
//! machine; a member whose rank fell outside its window is resolved by a
//! sharded second pass.

#[path = "common/binary.rs"]
mod binary;
mod common;

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use binary::clearstress_in as clearstress;
// binary.rs finds the shipped data through `crate::machine`.
use clearstress::backend::CpuBackend;
use clearstress::engine::{self, MonteCarloPart, PartRun, Pass, RunError, RunLimits};
use clearstress::shard::{file, PartHeader, RunIdentity, Shard};
use clearstress::tail::{MemberTail, Window};
use common::machine;

fn ok(output: Output) -> Output {
    assert!(
        output.status.success(),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    output
}

fn refused(output: Output) -> String {
    assert!(!output.status.success(), "expected a refusal");
    String::from_utf8_lossy(&output.stderr).into_owned()
}

/// The run's flags: CPU, two threads, quiet.
fn run_flags<'a>(book: &'a [&'a str], paths: &'a str) -> Vec<&'a str> {
    let mut args = vec!["run", "--backend", "cpu", "--threads", "2", "--quiet"];
    args.extend(["--paths", paths]);
    args.extend(book);
    args
}

/// Runs every shard of `count` into `parts` and returns the part files.
fn shards(cwd: &Path, run: &[&str], count: u64, parts: &str, env: &[(&str, &str)]) -> Vec<String> {
    std::fs::create_dir_all(cwd.join(parts)).unwrap();
    (0..count)
        .map(|i| {
            let spec = format!("{i}/{count}");
            let mut args = run.to_vec();
            args.extend(["--shard", &spec, "--out", parts]);
            ok(clearstress(cwd, &args, env));
            format!("{parts}/{}", Shard { index: i, count }.file_name(false))
        })
        .collect()
}

fn merge(cwd: &Path, parts: &[String], out: &str) -> Output {
    let mut args = vec![
        "merge",
        "--backend",
        "cpu",
        "--threads",
        "2",
        "--quiet",
        "--out",
        out,
    ];
    args.extend(parts.iter().map(String::as_str));
    clearstress(cwd, &args, &[])
}

/// Every table's bytes, and summary.json without its timings.
fn outputs(dir: &Path) -> Vec<(String, Vec<u8>)> {
    let mut files: Vec<(String, Vec<u8>)> = std::fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|e| e == "parquet"))
        .map(|p| {
            (
                p.file_name().unwrap().to_string_lossy().into_owned(),
                std::fs::read(&p).unwrap(),
            )
        })
        .collect();
    files.sort();
    let summary = std::fs::read_to_string(dir.join("summary.json")).unwrap();
    let mut summary: serde_json::Value = serde_json::from_str(&summary).unwrap();
    summary.as_object_mut().unwrap().remove("timings_seconds");
    files.push(("summary.json".into(), summary.to_string().into_bytes()));
    assert!(files.len() > 10, "{files:?}");
    files
}

fn summary(dir: &Path) -> serde_json::Value {
    serde_json::from_str(&std::fs::read_to_string(dir.join("summary.json")).unwrap()).unwrap()
}

fn small_book(dir: &Path) -> PathBuf {
    let book = dir.join("book");
    ok(clearstress(
        dir,
        &[
            "init",
            "--out",
            "book",
            "--members",
            "9",
            "--assets",
            "5",
            "--options",
            "30",
        ],
        &[],
    ));
    book
}

/// The sample and a small `init` book, with exact windows (20,000 paths)
/// and windows a pilot placed (200,000): merging 1, 2, 3 or 5 shards, each
/// computing the pilot or reading it from a plan, gives every table and the
/// summary (timings aside) of the one-machine run.
#[test]
fn merged_shards_write_the_one_machine_outputs_bit_for_bit() {
    let dir = tempfile::tempdir().unwrap();
    let cwd = dir.path();
    small_book(cwd);
    let books: [(&str, &[&str]); 2] = [("sample", &[]), ("init", &["--book", "book"])];
    for (name, book) in books {
        for (paths, piloted) in [("20000", false), ("200000", true)] {
            let run = run_flags(book, paths);
            let one = format!("one-{name}-{paths}");
            let mut args = run.clone();
            args.extend(["--out", &one]);
            ok(clearstress(cwd, &args, &[]));
            let pilot = summary(&cwd.join(&one))["tail_pilot_scenarios"]
                .as_u64()
                .unwrap();
            assert_eq!(pilot > 0, piloted, "{name} at {paths} paths: pilot {pilot}");
            // The last: shards that read the windows from a plan.
            for (count, planned) in [(1, false), (2, false), (3, false), (5, false), (3, true)] {
                let case = format!("{name}-{paths}-{count}-{planned}");
                let mut run = run.clone();
                let plan = format!("plan-{case}");
                let plan_file = format!("{plan}/plan.parquet");
                if planned {
                    std::fs::create_dir(cwd.join(&plan)).unwrap();
                    let mut args = run.clone();
                    args.extend(["--shard", "plan", "--out", &plan]);
                    ok(clearstress(cwd, &args, &[]));
                    run.extend(["--plan", &plan_file]);
                }
                let parts = shards(cwd, &run, count, &format!("parts-{case}"), &[]);
                let merged = format!("merged-{case}");
                ok(merge(cwd, &parts, &merged));
                assert!(
                    outputs(&cwd.join(&one)) == outputs(&cwd.join(&merged)),
                    "{case}: the merge differs from the one-machine run"
                );
            }
        }
    }
}

/// A merge names the part it refuses and why: a plan, another seed, another
/// book's files, another memory limit (which places the windows), a missing
/// or duplicated shard, a damaged file.
#[test]
fn a_merge_refuses_parts_of_another_run_naming_the_part() {
    let dir = tempfile::tempdir().unwrap();
    let cwd = dir.path();
    small_book(cwd);
    copy_dir(&cwd.join("book"), &cwd.join("book2"));
    let book: &[&str] = &["--book", "book"];
    let run = run_flags(book, "20000");
    let parts = shards(cwd, &run, 2, "parts", &[]);
    let other = |extra: &[&str], folder: &str| -> String {
        let mut args = run.clone();
        args.extend(extra);
        shards(cwd, &args, 2, folder, &[]).remove(1)
    };
    let corrupted = "parts-corrupted.parquet";
    let mut bytes = std::fs::read(cwd.join(&parts[1])).unwrap();
    let middle = bytes.len() / 2;
    bytes[middle] ^= 0x5a;
    std::fs::write(cwd.join(corrupted), bytes).unwrap();
    let seed = other(&["--seed", "7"], "seed");
    let memory = other(&["--memory-limit-mib", "100"], "memory");
    let book2 = shards(
        cwd,
        &run_flags(&["--book", "book2"], "20000"),
        2,
        "book2-parts",
        &[],
    )
    .remove(1);
    std::fs::create_dir(cwd.join("plan")).unwrap();
    let mut args = run.clone();
    args.extend(["--shard", "plan", "--out", "plan"]);
    ok(clearstress(cwd, &args, &[]));
    let plan = "plan/plan.parquet".to_string();
    let cases: [(&str, Vec<String>, &str, &[&str]); 7] = [
        (
            "a plan",
            vec![parts[0].clone(), parts[1].clone(), plan.clone()],
            &plan,
            &["a plan, not a part"],
        ),
        (
            "another seed",
            vec![parts[0].clone(), seed.clone()],
            &seed,
            &["the seed"],
        ),
        (
            "another book",
            vec![parts[0].clone(), book2.clone()],
            &book2,
            &["input file"],
        ),
        (
            "another plan",
            vec![parts[0].clone(), memory.clone()],
            &memory,
            &["--memory-limit-mib"],
        ),
        (
            "a missing shard",
            vec![parts[0].clone()],
            "",
            &["lack shard(s) 1 of 2"],
        ),
        (
            "a duplicated shard",
            vec![parts[0].clone(), parts[1].clone(), parts[1].clone()],
            &parts[1],
            &["given twice"],
        ),
        (
            "a damaged part",
            vec![parts[0].clone(), corrupted.to_string()],
            corrupted,
            &["part parts-corrupted.parquet"],
        ),
    ];
    for (what, given, named, says) in cases {
        let err = refused(merge(cwd, &given, "out"));
        assert!(err.contains(named), "{what}: {err}");
        for s in says {
            assert!(err.contains(s), "{what}: {err}");
        }
        assert!(
            !cwd.join("out").exists(),
            "{what}: a refused merge writes nothing"
        );
    }
    ok(merge(cwd, &parts, "out"));
}

/// A part written by another version, or with another plan, is refused by
/// its header; a header altered after writing fails the checksum (one that
/// names another run is refused as such before the records are read).
#[test]
fn a_part_of_another_version_or_plan_is_refused_and_a_changed_header_fails_its_checksum() {
    let dir = tempfile::tempdir().unwrap();
    let cwd = dir.path();
    let run = run_flags(&[], "20000");
    let parts = shards(cwd, &run, 2, "parts", &[]);
    let read = |p: &str| file::read(&cwd.join(p)).unwrap();
    let (first, second) = (read(&parts[0]), read(&parts[1]));
    let rewrite = |name: &str, header: PartHeader| -> String {
        let bytes = file::encode(&header, &second.part).unwrap();
        std::fs::write(cwd.join(name), bytes).unwrap();
        name.to_string()
    };
    let mut older = second.header.clone();
    older.run.clearstress_version = "0.0.1 (0000000)".into();
    let older = rewrite("older.parquet", older);
    let mut replanned = second.header.clone();
    replanned.plan_sha256 = first.header.plan_sha256.replace(|c| c != '0', "0");
    let replanned = rewrite("replanned.parquet", replanned);
    for (given, says) in [(older, "the clearstress version"), (replanned, "the plan")] {
        let err = refused(merge(cwd, &[parts[0].clone(), given.clone()], "out"));
        assert!(err.contains(&given) && err.contains(says), "{err}");
    }
    // The command line, changed in the stored header's text (the part's
    // identity unchanged), no longer matches the checksum.
    let mut bytes = std::fs::read(cwd.join(&parts[1])).unwrap();
    let threads = br#""--threads","2""#;
    let at = find(&bytes, threads).expect("the header holds the arguments");
    bytes[at + threads.len() - 2] = b'3';
    std::fs::write(cwd.join("edited.parquet"), bytes).unwrap();
    let err = refused(merge(
        cwd,
        &[parts[0].clone(), "edited.parquet".into()],
        "out",
    ));
    assert!(
        err.contains("edited.parquet") && err.contains("checksum"),
        "{err}"
    );
}

fn find(haystack: &[u8], needle: &[u8]) -> Option<usize> {
    haystack.windows(needle.len()).position(|w| w == needle)
}

fn copy_dir(from: &Path, to: &Path) {
    std::fs::create_dir_all(to).unwrap();
    for entry in std::fs::read_dir(from).unwrap() {
        let path = entry.unwrap().path();
        if path.is_file() {
            std::fs::copy(&path, to.join(path.file_name().unwrap())).unwrap();
        } else {
            copy_dir(&path, &to.join(path.file_name().unwrap()));
        }
    }
}

/// `--shard` takes its index and count from the schedulers' job array
/// variables, and refuses a bad or missing one, saying what it expected.
#[test]
fn shard_indices_come_from_the_flag_or_the_scheduler() {
    let dir = tempfile::tempdir().unwrap();
    let cwd = dir.path();
    std::fs::create_dir(cwd.join("parts")).unwrap();
    let run = run_flags(&[], "2000");
    /// `--shard`'s value, the scheduler's variables, the part named or the refusal.
    type Case<'a> = (&'a str, &'a [(&'a str, &'a str)], Result<&'a str, &'a str>);
    let cases: [Case; 7] = [
        (
            "auto",
            &[
                ("SLURM_ARRAY_TASK_ID", "4"),
                ("SLURM_ARRAY_TASK_MIN", "3"),
                ("SLURM_ARRAY_TASK_COUNT", "2"),
            ],
            Ok("part-000001-of-000002"),
        ),
        (
            "auto/3",
            &[("JOB_COMPLETION_INDEX", "2")],
            Ok("part-000002-of-000003"),
        ),
        (
            "auto/4",
            &[("AWS_BATCH_JOB_ARRAY_INDEX", "0")],
            Ok("part-000000-of-000004"),
        ),
        (
            "auto",
            &[("JOB_COMPLETION_INDEX", "2")],
            Err("SLURM_ARRAY_TASK_COUNT is not set"),
        ),
        ("auto/3", &[], Err("no job array index in the environment")),
        (
            "auto/3",
            &[("JOB_COMPLETION_INDEX", "two")],
            Err("$JOB_COMPLETION_INDEX is `two`"),
        ),
        ("3/3", &[], Err("indices run from 0 to 2")),
    ];
    for (spec, env, expected) in cases {
        let mut args = run.clone();
        args.extend(["--shard", spec, "--out", "parts"]);
        let mut command = Command::new(env!("CARGO_BIN_EXE_clearstress"));
        for var in [
            "SLURM_ARRAY_TASK_ID",
            "SLURM_ARRAY_TASK_MIN",
            "SLURM_ARRAY_TASK_COUNT",
            "JOB_COMPLETION_INDEX",
            "AWS_BATCH_JOB_ARRAY_INDEX",
        ] {
            command.env_remove(var);
        }
        let output = command
            .current_dir(cwd)
            .args(&args)
            .envs(env.iter().copied())
            .output()
            .unwrap();
        match expected {
            Ok(name) => {
                let out = String::from_utf8_lossy(&ok(output).stdout).into_owned();
                assert!(out.contains(name), "{spec} {env:?}: {out}");
            }
            Err(says) => {
                let err = refused(output);
                assert!(err.contains(says), "{spec} {env:?}: {err}");
            }
        }
    }
}

/// A 200,000-path run that checkpoints every 4 blocks of 4,096 scenarios.
fn checkpointed_run() -> Vec<&'static str> {
    let mut run = run_flags(&[], "200000");
    run.extend(["--block-size", "4096", "--checkpoint-blocks", "4"]);
    run
}

/// Runs `args` killed (as kill -9 would) right after its `n`-th checkpoint.
fn killed_after_checkpoint(cwd: &Path, args: &[&str], n: u32) {
    let fault = format!("kill:checkpoint-{n}");
    let killed = clearstress(cwd, args, &[("CLEARSTRESS_FAULT", &fault)]);
    assert_eq!(killed.status.code(), Some(137));
}

/// The refusal to resume `args`'s checkpoint with another seed, which says so.
fn refused_with_another_seed(cwd: &Path, args: &[&str]) -> String {
    let mut reseeded = args.to_vec();
    reseeded.extend(["--seed", "99"]);
    let err = refused(clearstress(cwd, &reseeded, &[]));
    assert!(
        err.contains("cannot resume") && err.contains("the seed"),
        "{err}"
    );
    err
}

/// A shard killed right after a checkpoint (as kill -9 would) leaves a part
/// the merge refuses as unfinished; the same command continues from the
/// checkpoint to the part an uninterrupted shard writes, and a changed input
/// refuses to resume, saying what changed.
#[test]
fn a_killed_shard_resumes_from_its_checkpoint_to_the_same_part() {
    let dir = tempfile::tempdir().unwrap();
    let cwd = dir.path();
    let run = checkpointed_run();
    let whole = shards(cwd, &run, 2, "whole", &[]);
    std::fs::create_dir(cwd.join("parts")).unwrap();
    let mut args = run.clone();
    args.extend(["--shard", "0/2", "--out", "parts"]);
    killed_after_checkpoint(cwd, &args, 2);
    let part = "parts/part-000000-of-000002.parquet";
    let err = refused(merge(cwd, &[part.into(), whole[1].clone()], "out"));
    assert!(
        err.contains(part) && err.contains("a checkpoint at scenario"),
        "{err}"
    );
    refused_with_another_seed(cwd, &args);
    ok(clearstress(cwd, &args, &[]));
    let resumed = file::read(&cwd.join(part)).unwrap();
    let uninterrupted = file::read(&cwd.join(&whole[0])).unwrap();
    assert_eq!(resumed.header.run, uninterrupted.header.run);
    assert_eq!(resumed.header.plan_sha256, uninterrupted.header.plan_sha256);
    for (a, b) in resumed.part.tails.iter().zip(&uninterrupted.part.tails) {
        assert_eq!(a.sorted(), b.sorted());
        assert_eq!(a.state().1, b.state().1, "the gaps' exact sums");
    }
    let one = {
        let mut args = run_flags(&[], "200000");
        args.extend(["--out", "one"]);
        ok(clearstress(cwd, &args, &[]));
        outputs(&cwd.join("one"))
    };
    ok(merge(cwd, &[part.into(), whole[1].clone()], "merged"));
    assert!(
        one == outputs(&cwd.join("merged")),
        "the resumed shard's merge differs"
    );
}

/// A run on one machine killed right after a checkpoint (as kill -9 would)
/// leaves its checkpoint beside the output folder and no output; a changed
/// input refuses to resume, saying what changed; the same command continues
/// from the checkpoint to the uninterrupted run's outputs, bit for bit, and
/// removes the checkpoint.
#[test]
fn a_killed_run_resumes_from_its_checkpoint_to_the_same_outputs() {
    let dir = tempfile::tempdir().unwrap();
    let cwd = dir.path();
    let run = checkpointed_run();
    let mut whole = run.clone();
    whole.extend(["--out", "whole"]);
    ok(clearstress(cwd, &whole, &[]));
    assert!(
        !cwd.join(".whole.checkpoint.parquet").exists(),
        "a finished run leaves no checkpoint"
    );
    let mut args = run.clone();
    args.extend(["--out", "out"]);
    killed_after_checkpoint(cwd, &args, 2);
    let checkpoint = cwd.join(".out.checkpoint.parquet");
    let state = file::read(&checkpoint).unwrap();
    assert_eq!(state.part.done, 2 * 4 * 4096, "two checkpoints of 4 blocks");
    assert!(!cwd.join("out").exists(), "nothing that looks complete");
    let err = refused_with_another_seed(cwd, &args);
    assert!(err.contains(".out.checkpoint"), "{err}");
    ok(clearstress(cwd, &args, &[]));
    assert!(
        !checkpoint.exists(),
        "the checkpoint is removed once the outputs are written"
    );
    assert!(
        outputs(&cwd.join("whole")) == outputs(&cwd.join("out")),
        "the resumed run's outputs differ from the uninterrupted run's"
    );
    // By the clock (the default, every 5 minutes): a checkpoint after the
    // first block past the interval, resumed to the same outputs.
    let mut timed = run_flags(&[], "200000");
    timed.extend(["--block-size", "4096", "--checkpoint-minutes", "0.00001"]);
    timed.extend(["--out", "timed"]);
    killed_after_checkpoint(cwd, &timed, 1);
    let state = file::read(&cwd.join(".timed.checkpoint.parquet")).unwrap();
    assert!(state.part.done > 0 && state.part.done < 200_000);
    ok(clearstress(cwd, &timed, &[]));
    assert!(outputs(&cwd.join("whole")) == outputs(&cwd.join("timed")));
}

/// Shards given a plan stream into the plan's windows, not a pilot's of
/// their own: windows unlike the pilot's are the ones the part holds.
#[test]
fn a_shard_streams_into_the_windows_its_plan_gives() {
    let mut s = clearstress::sample::embedded().unwrap();
    s.config.scenario.paths = 200_000;
    let cpu = CpuBackend::new(Some(2)).unwrap();
    let limits = RunLimits::default();
    let planned = engine::plan_part(&cpu, &s, limits).unwrap();
    let exact: Vec<MemberTail> = (planned.tails.iter())
        .map(|_| MemberTail::exact(3000))
        .collect();
    assert!(!exact[0].same_windows(&planned.tails[0]));
    for (windows, like) in [(None, &planned.tails), (Some(exact.clone()), &exact)] {
        let run = PartRun {
            scenarios: Shard { index: 1, count: 4 }.scenarios(200_000),
            pass: Pass::First,
            resume: None,
            windows,
            checkpoints: engine::Checkpoints::Never,
        };
        let part = engine::run_part(&cpu, &s, limits, run, &mut |_| Ok(()), &|_| {}).unwrap();
        assert!(part.tails.iter().zip(like).all(|(a, b)| a.same_windows(b)));
        assert_eq!(part.tails[0].count(), 50_000);
    }
}

/// Member 0's first-pass windows are placed far above its losses, in every
/// shard alike: the merge names it and the second pass to run; that pass,
/// sharded otherwise, completes the merge to the one-machine result.
#[test]
fn a_member_outside_its_window_is_resolved_by_a_sharded_second_pass() {
    let mut s = clearstress::sample::embedded().unwrap();
    s.config.scenario.paths = 200_000;
    let cpu = CpuBackend::new(Some(2)).unwrap();
    let limits = RunLimits::default();
    let part = |scenarios, pass| {
        let run = PartRun {
            scenarios,
            pass,
            resume: None,
            windows: None,
            checkpoints: engine::Checkpoints::Never,
        };
        engine::run_part(&cpu, &s, limits, run, &mut |_| Ok(()), &|_| {}).unwrap()
    };
    let prepared = common::prepare(&s, Some(2));
    let streamer = engine::Streamer {
        backend: &prepared.backend,
        plan: &prepared.plan,
        block: 4096,
        limits,
    };
    let first: Vec<MonteCarloPart> = (0..3)
        .map(|i| {
            let range = Shard { index: i, count: 3 }.scenarios(200_000);
            let mut p = part(range.clone(), Pass::First);
            let k = 4096;
            let mut above = vec![MemberTail::new(vec![Window::keeping(1e15, 1e16, k, 0)])];
            streamer.pass(range, &mut above, None, &|_| {}).unwrap();
            p.tails[0] = above.remove(0);
            p
        })
        .collect();
    let parts = |p: Vec<MonteCarloPart>| -> engine::Parts { Box::new(p.into_iter().map(Ok)) };
    let err = engine::merge(&cpu, &s, limits, parts(first.clone()), None).unwrap_err();
    let RunError::SecondPassNeeded {
        members,
        given: None,
    } = &err
    else {
        panic!("{err}");
    };
    assert_eq!(members, &[s.members[0].id.clone()]);
    assert!(
        err.to_string()
            .contains(&format!("--second-pass {}", s.members[0].id)),
        "{err}"
    );
    let second: Vec<MonteCarloPart> = (0..2)
        .map(|i| {
            part(
                Shard { index: i, count: 2 }.scenarios(200_000),
                Pass::Second(vec![0]),
            )
        })
        .collect();
    let merged = engine::merge(&cpu, &s, limits, parts(first), Some(parts(second))).unwrap();
    let one = engine::run(&cpu, &s, limits, &|_| {}).unwrap();
    assert_eq!(merged.margin.members, one.margin.members);
    assert_eq!(merged.fund_depletion, one.fund_depletion);
    assert_eq!(merged.default_fund, one.default_fund);
    assert_eq!(merged.run.tail_passes, 2);
    // Parts' identities are what a merge compares.
    assert_eq!(RunIdentity::of(&s, 640), RunIdentity::of(&s.clone(), 640));
}
