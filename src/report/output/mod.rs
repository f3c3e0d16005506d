//! Output folders and files that clearstress owns, replaces in one step, and
//! never confuses with anything of the user's.
//!
//! The rules (README, "Where results go"):
//! - A destination is written only if it does not exist, is an empty folder, or
//!   is an earlier clearstress output of the same kind whose files are all still
//!   as clearstress wrote them (its `manifest.json` lists each with its SHA-256).
//!   Anything else is refused, before any work is done.
//! - One writer at a time: the destination is locked (`.<name>.lock` beside it,
//!   an advisory `flock`); a second writer is refused at once.
//! - Files are staged in `.<name>.partial-<pid>/new` beside the destination,
//!   fsynced, and swapped into place in one step (`renameat2(RENAME_EXCHANGE)`
//!   where the file system has it; elsewhere the earlier output is moved aside
//!   first, and a crash between the two renames is repaired by the next writer,
//!   which moves it back). A run killed at any point leaves either the earlier
//!   output or the new one at the destination, never a partial one, and the
//!   next writer removes the staging folders of dead runs (recognised by the
//!   marker file in them, never by name alone).
//!
//! `CLEARSTRESS_FAULT=kill:<step>` ends the process at one of [`Step`]'s
//! points (and `no-exchange` forces the two-rename path): the tests kill real
//! runs between every two steps with it.
//!
//! This file is the public face: the kinds of output, the errors, and
//! [`OutputDir`], which runs the steps in order; `files` does the same for
//! single files ([`OutputFile`]) and files written together ([`OutputFiles`]).
//! `destination` checks and locks a destination (the first steps, shared by
//! folders and files); `staging` holds the staging folder, the fsyncs, the
//! swap into place, the clean-up of dead writers and the fault injection.

mod destination;
mod files;
mod staging;
#[cfg(test)]
mod tests;

use std::path::{Path, PathBuf};

use serde_json::{json, Map, Value};

use crate::input::sha256_hex;
pub(crate) use destination::files_below;
use destination::{Claim, Destination, DestinationLock};
pub use files::{html_generator, FileMarker, OutputFile, OutputFiles};
use staging::{exchange, fault_requested, reach, sync_parent, sync_tree, Staging, Swap};
pub use staging::{fault_point, Step};

const MANIFEST: &str = "manifest.json";
const TOOL: &str = "clearstress";

/// What an output folder holds; an output is only ever replaced by one of its
/// own kind.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum OutputKind {
    /// `clearstress run`: margins, stress losses, default fund.
    Run,
    /// `clearstress init`: a snapshot folder.
    Init,
    /// `clearstress calibrate`: a calibrated snapshot folder and its report.
    Calibrate,
    /// `clearstress compare`: margins by scenario model.
    Compare,
    /// `clearstress procyclicality`: margin through history.
    Procyclicality,
    /// `clearstress worst-window --out`: one stress scenario file.
    WorstWindow,
    /// `clearstress backtest`: margins against realised losses.
    Backtest,
    /// `clearstress report`: a run's HTML report and PQD table.
    Report,
    /// `clearstress settle`: a day's variation margin, netting and calls.
    Settle,
    /// `clearstress haircuts`: a calibrated haircut schedule.
    Haircuts,
    /// `clearstress run --shard`: a part's partial state; also the checkpoint
    /// of a `run` or a shard.
    Shard,
}

impl OutputKind {
    pub fn name(self) -> &'static str {
        match self {
            Self::Run => "run",
            Self::Init => "init",
            Self::Calibrate => "calibrate",
            Self::Compare => "compare",
            Self::Procyclicality => "procyclicality",
            Self::WorstWindow => "worst-window",
            Self::Backtest => "backtest",
            Self::Report => "report",
            Self::Settle => "settle",
            Self::Haircuts => "haircuts",
            Self::Shard => "shard",
        }
    }
}

#[derive(Debug, thiserror::Error)]
pub enum OutputError {
    #[error("output {path}: names no folder clearstress can write (the root, `.` inside nothing, or `..`); give a new folder's path")]
    NoName { path: String },
    #[error("output {path}: is the current folder, which clearstress would replace under you; give a new folder's path (e.g. a subfolder)")]
    CurrentFolder { path: String },
    #[error("output {path}: is a symbolic link; clearstress replaces only what it wrote: give the path it points to, or a new one")]
    Symlink { path: String },
    #[error("output {path}: exists and is not a {expected}; clearstress never replaces it: give a new path")]
    NotOurs {
        path: String,
        expected: &'static str,
    },
    #[error("output {path}: holds `{file}`, which clearstress did not write there; refusing to replace the folder: give a new or empty folder, or remove it yourself")]
    Foreign { path: String, file: String },
    #[error("output {path}: `{file}` changed since clearstress wrote it; refusing to replace the folder: give a new path, or remove it yourself")]
    Changed { path: String, file: String },
    #[error("output {path}: holds a clearstress {found} output, not a {expected} output; give another path")]
    OtherKind {
        path: String,
        found: String,
        expected: &'static str,
    },
    #[error("output {path}: another clearstress process is writing it (it holds {lock}); wait for it to finish or give another path")]
    Busy { path: String, lock: String },
    #[error("output {path}: its folder {parent} does not exist; create it first, or give a path in an existing folder")]
    NoParent { path: String, parent: String },
    #[error("output {path}: is inside {folder}, a clearstress {kind} output, whose manifest.json would no longer match its files; give a path outside it")]
    InsideOutput {
        path: String,
        folder: String,
        kind: String,
    },
    #[error("output {path}: {source}")]
    Io {
        path: String,
        #[source]
        source: std::io::Error,
    },
}

impl OutputError {
    /// The same error naming the destination as the user gave it.
    fn shown_as(self, target: &Path) -> Self {
        let shown = target.display().to_string();
        match self {
            Self::Symlink { .. } => Self::Symlink { path: shown },
            Self::NotOurs { expected, .. } => Self::NotOurs {
                path: shown,
                expected,
            },
            Self::Foreign { file, .. } => Self::Foreign { path: shown, file },
            Self::Changed { file, .. } => Self::Changed { path: shown, file },
            Self::OtherKind {
                found, expected, ..
            } => Self::OtherKind {
                path: shown,
                found,
                expected,
            },
            other => other,
        }
    }
}

fn io_error(path: &Path) -> impl FnOnce(std::io::Error) -> OutputError + '_ {
    move |source| OutputError::Io {
        path: path.display().to_string(),
        source,
    }
}

/// The first line of every single-file output of `kind`, by which a later
/// writer knows the file as clearstress's.
pub fn file_marker(kind: OutputKind) -> String {
    format!("# Written by clearstress {}", kind.name())
}

/// What a destination must be, if it exists, to be replaced.
#[derive(Debug, Clone, Copy)]
enum Expected {
    /// An output folder of this kind.
    Folder(OutputKind),
    /// A single file that this marker recognises as clearstress's.
    File(FileMarker),
}

/// An output folder being written: created by [`OutputDir::prepare`] before
/// any work, filled under [`OutputDir::path`], put in place by
/// [`OutputDir::commit`]. Dropped uncommitted, it leaves the destination as it
/// was.
#[derive(Debug)]
pub struct OutputDir {
    /// The destination as the user gave it.
    shown: PathBuf,
    /// The destination as its parent folder and name.
    target: PathBuf,
    kind: OutputKind,
    destination: Destination,
    // Field order is drop order: the staging folder goes before the lock.
    staging: Staging,
    _lock: DestinationLock,
}

impl OutputDir {
    /// Checks that `target` may receive an output of `kind`, locks it, clears
    /// the debris of dead writers and makes the staging folder.
    pub fn prepare(target: &Path, kind: OutputKind) -> Result<Self, OutputError> {
        let claim = Claim::take(target, Expected::Folder(kind))?;
        let staging = Staging::create(&claim.parent, &claim.name, kind)?;
        reach(Step::Staged);
        Ok(Self {
            shown: target.to_path_buf(),
            target: claim.resolved,
            kind,
            destination: claim.destination,
            staging,
            _lock: claim.lock,
        })
    }

    /// A hidden file beside the destination, `.NAME{suffix}`: outside the
    /// folder the commit replaces, and never taken for an output.
    pub fn beside(&self, suffix: &str) -> PathBuf {
        let name = self
            .target
            .file_name()
            .unwrap_or_default()
            .to_string_lossy();
        self.target.with_file_name(format!(".{name}{suffix}"))
    }

    /// Where to write the output's files before the commit.
    pub fn path(&self) -> PathBuf {
        self.staging.new_path()
    }

    /// Writes `manifest.json` (the fields given, plus the tool, kind, version
    /// and every file with its SHA-256), makes every file durable, and puts the
    /// output in place in one step. Returns the destination.
    pub fn commit(self, fields: Map<String, Value>) -> Result<PathBuf, OutputError> {
        let swap = if fault_requested("no-exchange") {
            Swap::TwoRenames
        } else {
            Swap::Exchange
        };
        self.commit_with(fields, swap)
    }

    /// The destination as the user gave it: how the output names itself
    /// (a report rendered inside the staging folder names this, not the
    /// staging path).
    pub fn shown(&self) -> &Path {
        &self.shown
    }

    /// Writes `manifest.json` for the files staged so far, as
    /// [`OutputDir::commit`] will (which writes it again over every file):
    /// lets a reader check the staged output before more is added to it
    /// (`run --report` renders the report from the staged run outputs).
    pub fn write_manifest(&self, fields: Map<String, Value>) -> Result<(), OutputError> {
        let new = self.path();
        let files = files_below(&new)?;
        let mut outputs = Vec::with_capacity(files.len());
        for file in files.iter().filter(|f| *f != MANIFEST) {
            let path = new.join(file);
            let bytes = std::fs::read(&path).map_err(io_error(&path))?;
            outputs.push(json!({"file": file, "sha256": sha256_hex(&bytes)}));
        }
        let mut manifest = Map::new();
        manifest.insert("tool".into(), TOOL.into());
        manifest.insert("kind".into(), self.kind.name().into());
        manifest.insert("version".into(), env!("CARGO_PKG_VERSION").into());
        manifest.extend(fields);
        manifest.insert("outputs".into(), Value::Array(outputs));
        let path = new.join(MANIFEST);
        let text = serde_json::to_string_pretty(&Value::Object(manifest)).unwrap_or_default();
        std::fs::write(&path, text + "\n").map_err(io_error(&path))
    }

    fn commit_with(self, fields: Map<String, Value>, swap: Swap) -> Result<PathBuf, OutputError> {
        self.write_manifest(fields)?;
        let new = self.path();
        sync_tree(&new)?;
        reach(Step::Synced);
        self.swap_into_place(swap)?;
        Ok(self.shown.clone())
    }

    fn swap_into_place(&self, swap: Swap) -> Result<(), OutputError> {
        let new = self.path();
        let target = &self.target;
        match self.destination {
            // rename(2) onto a missing path or an empty folder is one step.
            Destination::Absent => std::fs::rename(&new, target).map_err(io_error(target))?,
            Destination::Replaceable => {
                let exchanged =
                    swap == Swap::Exchange && exchange(&new, target).map_err(io_error(target))?;
                if !exchanged {
                    let old = self.staging.old_path();
                    std::fs::rename(target, &old).map_err(io_error(target))?;
                    reach(Step::MovedAside);
                    std::fs::rename(&new, target).map_err(io_error(target))?;
                }
            }
        }
        sync_parent(target)?;
        reach(Step::Swapped);
        Ok(())
    }
}
