//! Sharded runs (methodology 18): which scenarios a shard runs, the
//! partial-state file it writes ([`file`]), and the checks a merge makes of
//! a set of parts before folding them together ([`crate::engine::merge`]).
//!
//! Shard I of N (0-based) runs scenarios `[floor(I P / N), floor((I + 1) P /
//! N))` of a run of P: the ranges tile `0..P` whatever P and N.

pub mod file;
mod records;

use std::ops::Range;

use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

use crate::engine::MonteCarloPart;
use crate::input::sha256_hex;
use crate::snapshot::Snapshot;
use file::PartSummary;

/// Most shards a run may be split into.
pub const MAX_SHARDS: u64 = 1_000_000;

/// Shard `index` of `count`, 0-based.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct Shard {
    pub index: u64,
    pub count: u64,
}

/// Where a scheduler puts a job array's index: (variable, what sets it).
const INDEX_VARIABLES: [(&str, &str); 3] = [
    ("SLURM_ARRAY_TASK_ID", "Slurm"),
    ("JOB_COMPLETION_INDEX", "a Kubernetes indexed Job"),
    ("AWS_BATCH_JOB_ARRAY_INDEX", "AWS Batch"),
];

impl Shard {
    /// The scenarios of a run of `paths` this shard runs.
    pub fn scenarios(&self, paths: u64) -> Range<u64> {
        let at = |i: u64| (u128::from(paths) * u128::from(i) / u128::from(self.count)) as u64;
        at(self.index)..at(self.index + 1)
    }

    /// `--shard`'s value: `I/N` (0-based I), `auto` (index and count from
    /// Slurm's job array variables) or `auto/N` (index from the scheduler's
    /// variable, [`INDEX_VARIABLES`]), reading variables through `env`.
    pub fn parse(spec: &str, env: &dyn Fn(&str) -> Option<String>) -> Result<Self, ShardError> {
        let bad = |why: String| ShardError::Spec {
            spec: spec.to_string(),
            why,
        };
        let (index, count) = spec.split_once('/').unwrap_or((spec, ""));
        let count = match (index, count) {
            ("auto", "") => env_number(env, "SLURM_ARRAY_TASK_COUNT")?.ok_or_else(|| {
                bad(
                    "SLURM_ARRAY_TASK_COUNT is not set: outside a Slurm job array give the \
                     count, as `auto/N`"
                        .into(),
                )
            })?,
            (_, count) => count
                .trim()
                .parse()
                .map_err(|_| bad(format!("`{count}` is not a whole number of shards")))?,
        };
        let index = match index {
            "auto" => env_index(env)?,
            index => index
                .trim()
                .parse()
                .map_err(|_| bad(format!("`{index}` is not a whole-number shard index")))?,
        };
        if !(1..=MAX_SHARDS).contains(&count) {
            return Err(bad(format!("the count must be in 1..={MAX_SHARDS}")));
        }
        if index >= count {
            return Err(bad(format!(
                "shard {index} of {count}: indices run from 0 to {} (0-based)",
                count - 1
            )));
        }
        Ok(Self { index, count })
    }

    /// The part file's name: `part-I-of-N.parquet` (`second-pass-...` for a
    /// second pass), zero-padded so that names sort by index.
    pub fn file_name(&self, second_pass: bool) -> String {
        let pass = if second_pass { "second-pass" } else { "part" };
        format!("{pass}-{:06}-of-{:06}.parquet", self.index, self.count)
    }
}

fn env_number(env: &dyn Fn(&str) -> Option<String>, var: &str) -> Result<Option<u64>, ShardError> {
    env(var)
        .map(|value| {
            value.trim().parse().map_err(|_| ShardError::Environment {
                var: var.to_string(),
                value,
            })
        })
        .transpose()
}

/// The job array index the scheduler set; Slurm's counted from the array's
/// first index (`SLURM_ARRAY_TASK_MIN`), so that `--array=1-8` works too.
fn env_index(env: &dyn Fn(&str) -> Option<String>) -> Result<u64, ShardError> {
    for (var, _) in INDEX_VARIABLES {
        if let Some(index) = env_number(env, var)? {
            let first = match var {
                "SLURM_ARRAY_TASK_ID" => env_number(env, "SLURM_ARRAY_TASK_MIN")?.unwrap_or(0),
                _ => 0,
            };
            return index.checked_sub(first).ok_or(ShardError::Environment {
                var: var.to_string(),
                value: format!("{index} (below SLURM_ARRAY_TASK_MIN = {first})"),
            });
        }
    }
    Err(ShardError::NoIndex)
}

/// Why a shard or a merge refused.
#[derive(Debug, thiserror::Error)]
pub enum ShardError {
    #[error("--shard {spec}: {why} (expected I/N with 0 <= I < N, auto, auto/N or plan)")]
    Spec { spec: String, why: String },
    #[error("--shard auto: ${var} is `{value}`, not a whole-number index or count")]
    Environment { var: String, value: String },
    #[error(
        "--shard auto: no job array index in the environment (SLURM_ARRAY_TASK_ID, \
         JOB_COMPLETION_INDEX or AWS_BATCH_JOB_ARRAY_INDEX): give the index, as `--shard I/N`"
    )]
    NoIndex,
    #[error("part {path}: {why}")]
    Unreadable { path: String, why: String },
    #[error("part {path}: cannot encode it as Parquet: {why}")]
    Encode { path: String, why: String },
    #[error(
        "part {path}: its checksum does not match its content (BLAKE3 {found}, recorded \
         {recorded}): the file is damaged; run its shard again"
    )]
    Checksum {
        path: String,
        found: String,
        recorded: String,
    },
    #[error(
        "part {path}: {what} differs from part {first}'s: parts of one run only can be merged"
    )]
    Differs {
        path: String,
        first: String,
        what: String,
    },
    #[error("part {path}: shard {index} of {count} is given twice (also {other})")]
    Duplicate {
        path: String,
        other: String,
        index: u64,
        count: u64,
    },
    #[error("the {pass} parts lack shard(s) {missing} of {count}: run them and merge again")]
    Missing {
        pass: &'static str,
        missing: String,
        count: u64,
    },
    #[error(
        "part {path}: a checkpoint at scenario {done} of its scenarios {start}..{end}, not a \
         finished part: run its shard again to finish it"
    )]
    Unfinished {
        path: String,
        done: u64,
        start: u64,
        end: u64,
    },
    #[error("part {path}: {what} changed while the merge read the parts")]
    Changed { path: String, what: String },
    #[error("plan {path}: {why}")]
    Plan { path: String, why: String },
    #[error("no first-pass parts among those given (only second-pass ones)")]
    NoFirstPass,
    #[error(
        "{path}: cannot resume: {what} changed since the checkpoint was written; remove it to \
         start afresh"
    )]
    Resume { path: String, what: String },
}

/// What a part records of the run it belongs to: a merge refuses parts
/// whose records differ (but for the shard, its scenarios and the pass), and
/// a resumed shard a checkpoint whose inputs differ from its own.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct RunIdentity {
    /// The clearstress version and commit that wrote the part.
    pub clearstress_version: String,
    /// Every input file (snapshot tables, ccp.toml, history) with its SHA-256.
    pub inputs: Vec<(String, String)>,
    /// SHA-256 of ccp.toml's settings after the command line's overrides
    /// (seed, paths, horizon, confidence, block size, FHS), as JSON.
    pub config_sha256: String,
    /// SHA-256 of the stress scenarios (names, origins and shocks).
    pub stress_sha256: String,
    pub seed: u64,
    pub paths: u64,
    /// The tail memory the run planned its windows within (`--memory-limit-mib`).
    pub memory_limit_mib: u64,
}

impl RunIdentity {
    pub fn of(snapshot: &Snapshot, memory_limit_mib: u64) -> Self {
        let config = serde_json::to_string(&snapshot.config).unwrap_or_default();
        let mut stress = Sha256::new();
        for s in &snapshot.stress {
            stress.update(format!("{}\0{}\0", s.name, s.origin).as_bytes());
            for x in s.price_shocks.iter().chain(&s.vol_shocks) {
                stress.update(x.to_bits().to_le_bytes());
            }
        }
        Self {
            clearstress_version: crate::VERSION.to_string(),
            inputs: (snapshot.sources.iter())
                .map(|s| (s.name.clone(), s.sha256.clone()))
                .collect(),
            config_sha256: sha256_hex(config.as_bytes()),
            stress_sha256: hex(&stress.finalize()),
            seed: snapshot.config.scenario.seed,
            paths: snapshot.config.scenario.paths,
            memory_limit_mib,
        }
    }

    /// What differs from `other`, for a refusal: `None` if nothing.
    pub fn difference(&self, other: &RunIdentity) -> Option<String> {
        if self.clearstress_version != other.clearstress_version {
            return Some(format!(
                "the clearstress version ({} against {})",
                self.clearstress_version, other.clearstress_version
            ));
        }
        if self.seed != other.seed {
            return Some(format!("the seed ({} against {})", self.seed, other.seed));
        }
        if self.paths != other.paths {
            return Some(format!(
                "the paths ({} against {})",
                self.paths, other.paths
            ));
        }
        if self.inputs != other.inputs {
            let changed = (self.inputs.iter())
                .find(|i| !other.inputs.contains(i))
                .or_else(|| other.inputs.iter().find(|i| !self.inputs.contains(i)));
            return Some(match changed {
                Some((name, _)) => format!("the input file {name} (its SHA-256)"),
                None => "the order of the input files".into(),
            });
        }
        if self.config_sha256 != other.config_sha256 {
            return Some("ccp.toml's settings or the flags that change them".into());
        }
        if self.stress_sha256 != other.stress_sha256 {
            return Some("the stress scenarios".into());
        }
        if self.memory_limit_mib != other.memory_limit_mib {
            return Some(format!(
                "--memory-limit-mib ({} against {}), which places the tail windows",
                self.memory_limit_mib, other.memory_limit_mib
            ));
        }
        None
    }
}

/// A part's header: what the partial-state file records beside its tails.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct PartHeader {
    pub shard: Shard,
    /// The members (ids) a second-pass part holds exact tails of; empty for
    /// a first-pass part.
    pub second_pass: Vec<String>,
    /// A plan (`run --shard plan`): the windows only, over no scenario.
    pub plan: bool,
    pub run: RunIdentity,
    /// The `run` command line's arguments, which the merge reads the same
    /// inputs with.
    pub arguments: Vec<String>,
    /// SHA-256 of every member's window bounds: the pilot's placement, which
    /// every part of one pass shares.
    pub plan_sha256: String,
}

/// A part of a run as its file holds it.
#[derive(Debug, Clone, PartialEq)]
pub struct PartialState {
    pub header: PartHeader,
    pub part: MonteCarloPart,
}

/// Lowercase hex of a digest.
fn hex(digest: &[u8]) -> String {
    digest.iter().map(|b| format!("{b:02x}")).collect()
}

/// SHA-256 of the tails' window bounds and kinds, in member order.
pub fn plan_sha256(part: &MonteCarloPart) -> String {
    let mut hash = Sha256::new();
    for tail in &part.tails {
        let (windows, _) = tail.state();
        hash.update((windows.len() as u64).to_le_bytes());
        for w in windows {
            hash.update(w.lo.to_bits().to_le_bytes());
            hash.update(w.hi.to_bits().to_le_bytes());
        }
    }
    hex(&hash.finalize())
}

/// The parts of one pass (their paths), in shard order, after checking from
/// their headers that they are finished, of one run and plan, and cover
/// every shard of their count once.
fn one_pass(
    parts: Vec<(String, PartSummary)>,
    pass: &'static str,
) -> Result<Vec<String>, ShardError> {
    let Some((first_path, first)) = parts.first().cloned() else {
        return Ok(Vec::new());
    };
    let count = first.header.shard.count;
    let mut slots: Vec<Option<String>> = vec![None; count as usize];
    for (path, state) in parts {
        let h = &state.header;
        let differs = |what: String| ShardError::Differs {
            path: path.clone(),
            first: first_path.clone(),
            what,
        };
        if h.plan {
            return Err(ShardError::Plan {
                path,
                why: "a plan, not a part: give it to the shards with --plan".into(),
            });
        }
        if let Some(what) = first.header.run.difference(&h.run) {
            return Err(differs(what));
        }
        if h.shard.count != count {
            return Err(differs(format!(
                "the shard count ({} against {count})",
                h.shard.count
            )));
        }
        if h.plan_sha256 != first.header.plan_sha256 || h.second_pass != first.header.second_pass {
            return Err(differs(
                "the plan (the tail windows the pilot placed)".into(),
            ));
        }
        if state.done != state.scenarios.end {
            return Err(ShardError::Unfinished {
                path,
                done: state.done,
                start: state.scenarios.start,
                end: state.scenarios.end,
            });
        }
        match &slots[h.shard.index as usize] {
            Some(other) => {
                return Err(ShardError::Duplicate {
                    other: other.clone(),
                    path,
                    index: h.shard.index,
                    count,
                })
            }
            None => slots[h.shard.index as usize] = Some(path),
        }
    }
    let missing: Vec<String> = (slots.iter().enumerate())
        .filter(|(_, s)| s.is_none())
        .map(|(i, _)| i.to_string())
        .collect();
    if !missing.is_empty() {
        return Err(ShardError::Missing {
            pass,
            missing: missing.join(", "),
            count,
        });
    }
    Ok(slots.into_iter().flatten().collect())
}

/// The parts a merge was given, checked from their headers and sorted (their
/// paths): the first pass's, and the second pass's if any, with the header
/// they share. The merge reads each in turn ([`file::read`]).
pub struct MergeInput {
    pub header: PartHeader,
    pub first: Vec<String>,
    pub second: Option<Vec<String>>,
}

/// The part at `path`, read whole and checked to be a finished part of the
/// run `run` (as its header said when the merge began).
pub fn read_part(path: &str, run: &RunIdentity) -> Result<MonteCarloPart, ShardError> {
    let state = file::read(std::path::Path::new(path))?;
    if let Some(what) = state.header.run.difference(run) {
        return Err(ShardError::Changed {
            path: path.to_string(),
            what,
        });
    }
    let part = state.part;
    if part.done != part.scenarios.end {
        return Err(ShardError::Unfinished {
            path: path.to_string(),
            done: part.done,
            start: part.scenarios.start,
            end: part.scenarios.end,
        });
    }
    Ok(part)
}

/// Checks `parts` (path, header) as a merge needs them.
pub fn merge_input(parts: Vec<(String, PartSummary)>) -> Result<MergeInput, ShardError> {
    let (second, first): (Vec<_>, Vec<_>) = parts
        .into_iter()
        .partition(|(_, s)| !s.header.second_pass.is_empty());
    let (first_path, header) = match first.first() {
        Some((path, state)) => (path.clone(), state.header.clone()),
        None => return Err(ShardError::NoFirstPass),
    };
    if let Some((path, state)) = second.first() {
        if let Some(what) = header.run.difference(&state.header.run) {
            return Err(ShardError::Differs {
                path: path.clone(),
                first: first_path,
                what,
            });
        }
    }
    let second = (!second.is_empty())
        .then(|| one_pass(second, "second-pass"))
        .transpose()?;
    Ok(MergeInput {
        header,
        first: one_pass(first, "first-pass")?,
        second,
    })
}

#[cfg(test)]
mod tests;
