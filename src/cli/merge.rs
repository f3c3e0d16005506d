//! Sharded runs: `clearstress run --shard I/N` (one part of a run, resumed
//! from its checkpoint after a kill) and `clearstress merge` (the run's
//! outputs from its parts, as `run` writes them on one machine).

use std::path::{Path, PathBuf};

use clap::{Args, Parser};
use rayon::prelude::*;

use super::args::DeviceArgs;
use super::backend::{with_backend, Selected};
use super::run::{snapshot_of, RunArgs};
use super::{progress, Cli, CliError, Command};
use crate::engine::{self, MonteCarloPart, PartRun, Parts, Pass, RunError, RunLimits};
use crate::report::{self, FileMarker, OutputFiles, OutputKind, RunContext, RunReport};
use crate::shard::{self, file, PartHeader, RunIdentity, Shard, ShardError};
use crate::snapshot::Snapshot;
use crate::tail::MemberTail;

#[derive(Debug, Args)]
pub struct MergeArgs {
    /// The part files `run --shard` wrote: every shard's of the first pass,
    /// and of the second pass where a merge asked for one.
    #[arg(required = true, num_args = 1.., value_name = "PARTS")]
    pub parts: Vec<PathBuf>,
    /// Output folder, as `run`'s: new, empty, or an earlier unchanged `run`
    /// or `merge` output, which is replaced in one step.
    #[arg(long, default_value = "clearstress-out")]
    pub out: PathBuf,
    /// Where the stress scenarios and the loss distribution are revalued.
    #[command(flatten)]
    pub device: DeviceArgs,
    /// Print only the output's location.
    #[arg(long)]
    pub quiet: bool,
}

/// `run --shard`: streams the shard's scenarios into its part, checkpointing
/// into the part file itself as `--checkpoint-minutes` (or
/// `--checkpoint-blocks`) says, and resumes from a checkpoint of the same
/// run found there.
pub fn run_shard(args: &RunArgs, spec: &str, command_line: Vec<String>) -> Result<(), CliError> {
    let planning = spec.trim() == "plan";
    let shard = match planning {
        true => Shard { index: 0, count: 1 },
        false => Shard::parse(spec, &|var| std::env::var(var).ok())?,
    };
    let snapshot = snapshot_of(args)?;
    let scenarios = shard.scenarios(snapshot.config.scenario.paths);
    let second = !args.second_pass.is_empty();
    let target = match planning {
        true => args.out.join(PLAN_FILE),
        false => args.out.join(shard.file_name(second)),
    };
    let pass = match second {
        true => Pass::Second(member_indices(&snapshot, &args.second_pass)?),
        false => Pass::First,
    };
    let header = PartHeader {
        shard,
        second_pass: args.second_pass.clone(),
        plan: planning,
        run: RunIdentity::of(&snapshot, args.compute.memory_limit_mib),
        arguments: command_line.into_iter().skip(1).collect(),
        plan_sha256: String::new(),
    };
    // The destination is checked before any work, as every output's is.
    drop(claim(&target)?);
    let backend = Selected::choose(&args.compute)?;
    let limits = args.compute.limits();
    if planning {
        let plan = with_backend!(&backend, |b| engine::plan_part(b, &snapshot, limits)?);
        println!("{}", write_part(&target, &header, &plan)?.display());
        return Ok(());
    }
    let resume = checkpoint_of(&target, &header)?;
    if resume.as_ref().is_some_and(|p| p.done == p.scenarios.end) {
        println!("{} (finished earlier)", target.display());
        return Ok(());
    }
    let windows = match (&args.plan, &resume, second) {
        (Some(plan), None, false) => Some(plan_windows(plan, &header)?),
        _ => None,
    };
    backend.check_workload(&snapshot, 1, &args.compute)?;
    let from = resume.as_ref().map_or(scenarios.start, |p| p.done);
    let bar = progress::scenarios(scenarios.end - from, "shard", args.compute.quiet);
    let progress = |n| bar.inc(n);
    let mut checkpoint = checkpoints(&target, &header);
    let run = PartRun {
        scenarios,
        pass,
        resume,
        windows,
        checkpoints: args.checkpoints(),
    };
    let part = with_backend!(&backend, |b| engine::run_part(
        b,
        &snapshot,
        limits,
        run,
        &mut checkpoint,
        &progress
    )?);
    bar.finish_and_clear();
    println!("{}", write_part(&target, &header, &part)?.display());
    Ok(())
}

/// The file `run --shard plan` writes in its --out.
const PLAN_FILE: &str = "plan.parquet";

/// The windows of the plan at `path`, refused unless it is a plan of this run.
fn plan_windows(path: &Path, header: &PartHeader) -> Result<Vec<MemberTail>, CliError> {
    let plan = file::read(path)?;
    let refused = |why: String| ShardError::Plan {
        path: path.display().to_string(),
        why,
    };
    if !plan.header.plan {
        return Err(refused("a part, not a plan (`run --shard plan` writes plans)".into()).into());
    }
    if let Some(what) = plan.header.run.difference(&header.run) {
        return Err(refused(format!("{what} differs from this shard's")).into());
    }
    Ok(plan.part.tails)
}

/// The members `ids` name, as indices.
fn member_indices(snapshot: &Snapshot, ids: &[String]) -> Result<Vec<usize>, CliError> {
    ids.iter()
        .map(|id| {
            snapshot
                .members
                .iter()
                .position(|m| &m.id == id)
                .ok_or_else(|| {
                    CliError::Usage(format!("--second-pass: no member `{id}` in the book"))
                })
        })
        .collect()
}

/// What hands each checkpoint to [`write_part`] at `target`; a fault
/// point follows the n-th (`CLEARSTRESS_FAULT=kill:checkpoint-<n>`).
pub(super) fn checkpoints<'a>(
    target: &'a Path,
    header: &'a PartHeader,
) -> impl FnMut(&MonteCarloPart) -> Result<(), RunError> + 'a {
    let mut written = 0;
    move |part| {
        write_part(target, header, part).map_err(|e| RunError::Checkpoint(e.to_string()))?;
        written += 1;
        report::fault_point(&format!("checkpoint-{written}"));
        Ok(())
    }
}

/// The checkpoint of this shard at `target` to resume from: `None` if there
/// is none; refused if it is another run's, another shard's or damaged.
pub(super) fn checkpoint_of(
    target: &Path,
    header: &PartHeader,
) -> Result<Option<MonteCarloPart>, CliError> {
    if !target.exists() {
        return Ok(None);
    }
    let found = file::read(target)?;
    let resume_error = |what: String| ShardError::Resume {
        path: target.display().to_string(),
        what,
    };
    if let Some(what) = found.header.run.difference(&header.run) {
        return Err(resume_error(what).into());
    }
    if found.header.shard != header.shard || found.header.second_pass != header.second_pass {
        return Err(resume_error("the shard or its pass".into()).into());
    }
    Ok(Some(found.part))
}

/// Writes `part` to `target` in one step (staged, fsynced, renamed).
fn write_part(
    target: &Path,
    header: &PartHeader,
    part: &MonteCarloPart,
) -> Result<PathBuf, CliError> {
    let header = PartHeader {
        plan_sha256: shard::plan_sha256(part),
        ..header.clone()
    };
    let bytes = file::encode(&header, part).map_err(|e| ShardError::Encode {
        path: target.display().to_string(),
        why: e.to_string(),
    })?;
    Ok(claim(target)?.write_bytes(&[&bytes])?.remove(0))
}

/// `target`, checked to be a new file or a part clearstress wrote, and
/// locked for writing.
pub(super) fn claim(target: &Path) -> Result<OutputFiles, CliError> {
    Ok(OutputFiles::prepare(
        &[(target, FileMarker::PartialState)],
        OutputKind::Shard,
    )?)
}

/// `clearstress merge`: the run's outputs from its parts.
pub fn merge(args: &MergeArgs, command_line: Vec<String>) -> Result<(), CliError> {
    let out = report::OutputDir::prepare(&args.out, OutputKind::Run)?;
    let parts = args
        .parts
        .iter()
        .map(|p| Ok((p.display().to_string(), file::read_header(p)?)))
        .collect::<Result<Vec<_>, ShardError>>()?;
    let input = shard::merge_input(parts)?;
    let header = &input.header;
    let run_args = match Cli::try_parse_from(
        std::iter::once("clearstress".to_string()).chain(header.arguments.iter().cloned()),
    ) {
        Ok(Cli {
            command: Command::Run(run),
        }) => run,
        _ => {
            return Err(CliError::Usage(format!(
                "the parts record a command line that is not a `run`: {}",
                header.arguments.join(" ")
            )))
        }
    };
    let snapshot = snapshot_of(&run_args)?;
    let memory_limit_mib = header.run.memory_limit_mib;
    if let Some(what) = header
        .run
        .difference(&RunIdentity::of(&snapshot, memory_limit_mib))
    {
        return Err(CliError::Usage(format!(
            "the inputs changed since the shards ran: {what} differs (the merge reads them as the \
             shards did: clearstress {})",
            header.arguments.join(" ")
        )));
    }
    let backend = Selected::choose_device(&args.device, args.quiet)?;
    let limits = RunLimits {
        tail_memory_bytes: memory_limit_mib << 20,
    };
    let threads = backend.threads();
    // Parts are read (decoded, checked) as many at once as there are threads,
    // and folded in order: a merge holds that many parts beside its tails.
    let pool = rayon::ThreadPoolBuilder::new()
        .num_threads(threads)
        .build()
        .map_err(|e| CliError::Usage(format!("--threads: {e}")))?;
    let run = &header.run;
    let pool = &pool;
    let parts = |paths: Vec<String>| -> Parts {
        let batches: Vec<Vec<String>> = paths.chunks(threads.max(1)).map(<[_]>::to_vec).collect();
        Box::new(batches.into_iter().flat_map(move |batch| {
            pool.install(|| {
                (batch.par_iter())
                    .map(|p| shard::read_part(p, run).map_err(|e| RunError::Part(e.to_string())))
                    .collect::<Vec<_>>()
            })
        }))
    };
    let merged = with_backend!(&backend, |b| engine::merge(
        b,
        &snapshot,
        limits,
        parts(input.first.clone()),
        input.second.clone().map(parts)
    ));
    let result = merged.map_err(|e| match e {
        RunError::SecondPassNeeded { .. } => CliError::Usage(format!(
            "{e}\nfor each shard I of N: clearstress {} --shard I/N --second-pass {}",
            without_shard_flags(&header.arguments).join(" "),
            second_pass_members(&e)
        )),
        e => e.into(),
    })?;
    let context = RunContext {
        command_line,
        threads,
        report: RunReport::None,
    };
    let out = report::write_outputs(out, &snapshot, &result, &context)?;
    if args.quiet {
        println!("{}", out.display());
    } else {
        print!("{}", report::terminal_summary(&snapshot, &result));
        println!("\nresults: {}", out.display());
    }
    Ok(())
}

fn second_pass_members(e: &RunError) -> String {
    match e {
        RunError::SecondPassNeeded { members, .. } => members.join(","),
        _ => String::new(),
    }
}

/// A shard's arguments without the flags that name the shard and its pass.
fn without_shard_flags(arguments: &[String]) -> Vec<String> {
    let mut kept = Vec::new();
    let mut skip = false;
    for a in arguments {
        if std::mem::take(&mut skip) {
            continue;
        }
        match a.as_str() {
            "--shard" | "--second-pass" => skip = true,
            a if a.starts_with("--shard=") || a.starts_with("--second-pass=") => {}
            _ => kept.push(a.clone()),
        }
    }
    kept
}
