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

use std::fs::{File, OpenOptions};
use std::io::Write as _;
use std::path::{Component, Path, PathBuf};

use serde_json::{json, Map, Value};

use crate::input::sha256_hex;

/// Name of the marker file that identifies a staging folder as clearstress's.
const STAGING_MARKER: &str = "clearstress-staging";
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

/// The points between the steps of writing an output, where a test may kill
/// the process (`CLEARSTRESS_FAULT=kill:<name>`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Step {
    /// The destination is checked and locked, the staging folder made.
    Staged,
    /// Every output file is written and fsynced.
    Synced,
    /// Two-rename path only: the earlier output is moved aside.
    MovedAside,
    /// The new output is at the destination; the earlier one still in staging.
    Swapped,
}

impl Step {
    pub const ALL: [Step; 4] = [Step::Staged, Step::Synced, Step::MovedAside, Step::Swapped];

    pub fn name(self) -> &'static str {
        match self {
            Self::Staged => "staged",
            Self::Synced => "synced",
            Self::MovedAside => "moved-aside",
            Self::Swapped => "swapped",
        }
    }
}

/// Fault injection for the tests: the value of `CLEARSTRESS_FAULT`.
fn fault_requested(what: &str) -> bool {
    std::env::var("CLEARSTRESS_FAULT")
        .map(|v| v.split(',').any(|f| f.trim() == what))
        .unwrap_or(false)
}

fn reach(step: Step) {
    if fault_requested(&format!("kill:{}", step.name())) {
        // Like a kill: no unwinding, no destructors, nothing cleaned up (and,
        // unlike abort(), no core file left in the test's folder).
        std::process::exit(137);
    }
}

/// `target`'s parent folder and file name, refusing paths that name no
/// replaceable entry (`/`, `..`).
fn split_target(target: &Path) -> Result<(PathBuf, String), OutputError> {
    let no_name = || OutputError::NoName {
        path: target.display().to_string(),
    };
    let (parent, name) = match target.components().next_back() {
        Some(Component::Normal(name)) => (target.parent().map(Path::to_path_buf), name.to_owned()),
        // `.` and `..` are judged as the folder they are, where it exists.
        Some(Component::CurDir | Component::ParentDir) => {
            let resolved = std::fs::canonicalize(target).map_err(io_error(target))?;
            let name = resolved.file_name().ok_or_else(no_name)?.to_owned();
            (resolved.parent().map(Path::to_path_buf), name)
        }
        _ => return Err(no_name()),
    };
    let current = std::env::current_dir().and_then(std::fs::canonicalize);
    if let (Ok(current), Ok(resolved)) = (current, std::fs::canonicalize(target)) {
        if current == resolved {
            return Err(OutputError::CurrentFolder {
                path: target.display().to_string(),
            });
        }
    }
    let parent = parent
        .filter(|p| !p.as_os_str().is_empty())
        .unwrap_or_else(|| PathBuf::from("."));
    Ok((parent, name.to_string_lossy().into_owned()))
}

/// An advisory lock on a destination, held until drop: `.<name>.lock` beside
/// it, removed on release.
#[derive(Debug)]
struct DestinationLock {
    path: PathBuf,
    file: File,
}

impl DestinationLock {
    fn acquire(parent: &Path, name: &str, target: &Path) -> Result<Self, OutputError> {
        let path = parent.join(format!(".{name}.lock"));
        loop {
            let file = OpenOptions::new()
                .create(true)
                .truncate(false)
                .write(true)
                .open(&path)
                .map_err(io_error(&path))?;
            match file.try_lock() {
                Ok(()) => {}
                Err(std::fs::TryLockError::WouldBlock) => {
                    return Err(OutputError::Busy {
                        path: target.display().to_string(),
                        lock: path.display().to_string(),
                    })
                }
                Err(std::fs::TryLockError::Error(e)) => return Err(io_error(&path)(e)),
            }
            // The previous holder removes the file as it lets go: a lock taken on
            // a file no longer at `path` guards nothing, so take it again.
            if same_file(&file, &path) {
                return Ok(Self { path, file });
            }
        }
    }
}

#[cfg(unix)]
fn same_file(file: &File, path: &Path) -> bool {
    use std::os::unix::fs::MetadataExt;
    match (file.metadata(), std::fs::metadata(path)) {
        (Ok(a), Ok(b)) => a.dev() == b.dev() && a.ino() == b.ino(),
        _ => false,
    }
}

#[cfg(not(unix))]
fn same_file(_: &File, path: &Path) -> bool {
    path.exists()
}

impl Drop for DestinationLock {
    fn drop(&mut self) {
        // Removed while still held, so that no other process locks a file that
        // is about to disappear (see `acquire`).
        let _ = std::fs::remove_file(&self.path);
        let _ = self.file.unlock();
    }
}

/// The state of a destination before writing.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Destination {
    Absent,
    /// An empty folder, or an earlier output of the same kind.
    Replaceable,
}

/// Decides whether `target` may be replaced by an output of `kind`.
fn check_destination(target: &Path, kind: OutputKind) -> Result<Destination, OutputError> {
    let shown = || target.display().to_string();
    let metadata = match std::fs::symlink_metadata(target) {
        Ok(m) => m,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(Destination::Absent),
        Err(e) => return Err(io_error(target)(e)),
    };
    if metadata.file_type().is_symlink() {
        return Err(OutputError::Symlink { path: shown() });
    }
    let is_file_kind = kind == OutputKind::WorstWindow;
    if is_file_kind {
        if !metadata.is_file() {
            return Err(OutputError::NotOurs {
                path: shown(),
                expected: "file",
            });
        }
        let text = std::fs::read(target).map_err(io_error(target))?;
        return if text.starts_with(file_marker(kind).as_bytes()) {
            Ok(Destination::Replaceable)
        } else {
            Err(OutputError::NotOurs {
                path: shown(),
                expected: "scenario file written by clearstress worst-window",
            })
        };
    }
    if !metadata.is_dir() {
        return Err(OutputError::NotOurs {
            path: shown(),
            expected: "folder",
        });
    }
    let manifest_path = target.join(MANIFEST);
    let manifest: Option<Value> = std::fs::read(&manifest_path)
        .ok()
        .and_then(|bytes| serde_json::from_slice(&bytes).ok());
    let Some(manifest) = manifest.filter(|m| m["tool"] == TOOL) else {
        // Not ours unless empty: name one entry, without walking what may be
        // a large tree of the user's.
        let mut entries = std::fs::read_dir(target).map_err(io_error(target))?;
        return match entries.next() {
            None => Ok(Destination::Replaceable),
            Some(entry) => Err(OutputError::Foreign {
                path: shown(),
                file: entry
                    .map_err(io_error(target))?
                    .file_name()
                    .to_string_lossy()
                    .into_owned(),
            }),
        };
    };
    let files = files_below(target)?;
    // Manifests before output kinds were recorded came from `run` alone.
    let found = manifest["kind"].as_str().unwrap_or("run");
    if found != kind.name() {
        return Err(OutputError::OtherKind {
            path: shown(),
            found: found.to_string(),
            expected: kind.name(),
        });
    }
    let listed: Vec<(&str, &str)> = manifest["outputs"]
        .as_array()
        .map(|outputs| {
            outputs
                .iter()
                .filter_map(|o| Some((o["file"].as_str()?, o["sha256"].as_str()?)))
                .collect()
        })
        .unwrap_or_default();
    for file in files.iter().filter(|f| *f != MANIFEST) {
        let Some((_, sha256)) = listed.iter().find(|(name, _)| name == file) else {
            return Err(OutputError::Foreign {
                path: shown(),
                file: file.clone(),
            });
        };
        let path = target.join(file);
        let bytes = std::fs::read(&path).map_err(io_error(&path))?;
        if sha256_hex(&bytes) != *sha256 {
            return Err(OutputError::Changed {
                path: shown(),
                file: file.clone(),
            });
        }
    }
    Ok(Destination::Replaceable)
}

/// Every entry below `dir` that is not a folder, as `/`-separated relative
/// paths, sorted. Links and special files count as files: they are not ours.
fn files_below(dir: &Path) -> Result<Vec<String>, OutputError> {
    fn walk(dir: &Path, prefix: &str, out: &mut Vec<String>) -> Result<(), OutputError> {
        for entry in std::fs::read_dir(dir).map_err(io_error(dir))? {
            let entry = entry.map_err(io_error(dir))?;
            let name = entry.file_name().to_string_lossy().into_owned();
            let relative = format!("{prefix}{name}");
            let file_type = entry.file_type().map_err(io_error(&entry.path()))?;
            if file_type.is_dir() {
                walk(&entry.path(), &format!("{relative}/"), out)?;
            } else {
                out.push(relative);
            }
        }
        Ok(())
    }
    let mut out = Vec::new();
    walk(dir, "", &mut out)?;
    out.sort();
    Ok(out)
}

/// The first line of every single-file output of `kind`, by which a later
/// writer knows the file as clearstress's.
pub fn file_marker(kind: OutputKind) -> String {
    format!("# Written by clearstress {}", kind.name())
}

/// A staging folder `.<name>.partial-<pid>` beside the destination, holding the
/// marker file and `new/`, the output being written.
#[derive(Debug)]
struct Staging {
    dir: PathBuf,
}

impl Staging {
    fn create(parent: &Path, name: &str, kind: OutputKind) -> Result<Self, OutputError> {
        let dir = parent.join(format!(".{name}.partial-{}", std::process::id()));
        std::fs::create_dir(&dir).map_err(io_error(&dir))?;
        let staging = Self { dir };
        let marker = staging.dir.join(STAGING_MARKER);
        std::fs::write(
            &marker,
            format!("{TOOL} {} output being written\n", kind.name()),
        )
        .map_err(io_error(&marker))?;
        let new = staging.new_path();
        std::fs::create_dir(&new).map_err(io_error(&new))?;
        Ok(staging)
    }

    fn new_path(&self) -> PathBuf {
        self.dir.join("new")
    }

    fn old_path(&self) -> PathBuf {
        self.dir.join("old")
    }
}

impl Drop for Staging {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}

/// Removes the staging folders of earlier writers of `name` (dead: we hold
/// the lock they would hold), first moving back an earlier output that a
/// two-rename swap had moved aside when it died.
fn clean_stale(parent: &Path, name: &str, target: &Path) -> Result<(), OutputError> {
    let prefix = format!(".{name}.partial-");
    let entries = std::fs::read_dir(parent).map_err(io_error(parent))?;
    for entry in entries.flatten() {
        let file_name = entry.file_name().to_string_lossy().into_owned();
        let Some(pid) = file_name.strip_prefix(&prefix) else {
            continue;
        };
        if !pid.chars().all(|c| c.is_ascii_digit()) || pid.is_empty() {
            continue;
        }
        let dir = entry.path();
        let is_ours = dir.join(STAGING_MARKER).is_file()
            || std::fs::read_dir(&dir).is_ok_and(|mut d| d.next().is_none());
        if !is_ours || !entry.file_type().is_ok_and(|t| t.is_dir()) {
            continue;
        }
        let old = dir.join("old");
        if old.exists() && std::fs::symlink_metadata(target).is_err() {
            std::fs::rename(&old, target).map_err(io_error(target))?;
        }
        std::fs::remove_dir_all(&dir).map_err(io_error(&dir))?;
    }
    Ok(())
}

/// A destination checked and locked for one writer: the first steps of
/// writing a folder or a file alike.
#[derive(Debug)]
struct Claim {
    parent: PathBuf,
    name: String,
    /// The destination as its parent folder and name, so that `.` and `..`
    /// are renamed as the folders they stand for.
    resolved: PathBuf,
    destination: Destination,
    lock: DestinationLock,
}

impl Claim {
    /// Locks `target`, clears the debris of dead writers, and checks that it
    /// may receive an output of `kind`.
    fn take(target: &Path, kind: OutputKind) -> Result<Self, OutputError> {
        let (parent, name) = split_target(target)?;
        std::fs::create_dir_all(&parent).map_err(io_error(&parent))?;
        let lock = DestinationLock::acquire(&parent, &name, target)?;
        let resolved = parent.join(&name);
        clean_stale(&parent, &name, &resolved)?;
        let destination = check_destination(&resolved, kind).map_err(|e| e.shown_as(target))?;
        Ok(Self {
            parent,
            name,
            resolved,
            destination,
            lock,
        })
    }
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
        let claim = Claim::take(target, kind)?;
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

    fn commit_with(self, fields: Map<String, Value>, swap: Swap) -> Result<PathBuf, OutputError> {
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
        std::fs::write(&path, text + "\n").map_err(io_error(&path))?;
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

/// How an earlier output is replaced.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Swap {
    /// One atomic exchange where the file system has it, else [`Swap::TwoRenames`].
    Exchange,
    /// Move the earlier output aside, then the new one in.
    TwoRenames,
}

/// Atomically swaps two paths where the file system can (Linux's
/// `renameat2(RENAME_EXCHANGE)`); `Ok(false)` where it cannot.
#[cfg(target_os = "linux")]
fn exchange(a: &Path, b: &Path) -> std::io::Result<bool> {
    use rustix::fs::{renameat_with, RenameFlags, CWD};
    match renameat_with(CWD, a, CWD, b, RenameFlags::EXCHANGE) {
        Ok(()) => Ok(true),
        Err(e)
            if e == rustix::io::Errno::INVAL
                || e == rustix::io::Errno::NOSYS
                || e == rustix::io::Errno::OPNOTSUPP =>
        {
            Ok(false)
        }
        Err(e) => Err(e.into()),
    }
}

#[cfg(not(target_os = "linux"))]
fn exchange(_: &Path, _: &Path) -> std::io::Result<bool> {
    Ok(false)
}

/// fsyncs every file and folder below `dir`, and `dir` itself.
fn sync_tree(dir: &Path) -> Result<(), OutputError> {
    for entry in std::fs::read_dir(dir).map_err(io_error(dir))? {
        let path = entry.map_err(io_error(dir))?.path();
        if path.is_dir() {
            sync_tree(&path)?;
        } else {
            File::open(&path)
                .and_then(|f| f.sync_all())
                .map_err(io_error(&path))?;
        }
    }
    sync_dir(dir)
}

fn sync_dir(dir: &Path) -> Result<(), OutputError> {
    // Folders are fsynced through a read-only handle on Unix; Windows cannot
    // open them this way and makes renames durable itself.
    if cfg!(unix) {
        File::open(dir)
            .and_then(|f| f.sync_all())
            .map_err(io_error(dir))?;
    }
    Ok(())
}

fn sync_parent(target: &Path) -> Result<(), OutputError> {
    let parent = target
        .parent()
        .filter(|p| !p.as_os_str().is_empty())
        .unwrap_or(Path::new("."));
    sync_dir(parent)
}

/// A single output file (a stress scenario) written the same way: a file
/// that is not an earlier clearstress output of the same kind (which begins
/// with [`file_marker`]) is refused at [`OutputFile::prepare`], before any
/// work; the destination is locked until the file is renamed into place.
#[derive(Debug)]
pub struct OutputFile {
    target: PathBuf,
    kind: OutputKind,
    parent: PathBuf,
    name: String,
    _lock: DestinationLock,
}

impl OutputFile {
    pub fn prepare(target: &Path, kind: OutputKind) -> Result<Self, OutputError> {
        let claim = Claim::take(target, kind)?;
        Ok(Self {
            target: claim.resolved,
            kind,
            parent: claim.parent,
            name: claim.name,
            _lock: claim.lock,
        })
    }

    /// Writes `body` after the file's marker line, fsyncs it beside the
    /// destination and renames it into place.
    pub fn write(self, body: &str) -> Result<PathBuf, OutputError> {
        let staging = Staging::create(&self.parent, &self.name, self.kind)?;
        let path = staging.new_path().join(&self.name);
        let mut file = File::create(&path).map_err(io_error(&path))?;
        writeln!(file, "{}", file_marker(self.kind))
            .and_then(|()| file.write_all(body.as_bytes()))
            .and_then(|()| file.sync_all())
            .map_err(io_error(&path))?;
        reach(Step::Synced);
        std::fs::rename(&path, &self.target).map_err(io_error(&self.target))?;
        sync_parent(&self.target)?;
        Ok(self.target.clone())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn manifest_of(dir: &Path) -> Value {
        serde_json::from_slice(&std::fs::read(dir.join(MANIFEST)).unwrap()).unwrap()
    }

    fn write_output(target: &Path, kind: OutputKind, files: &[(&str, &str)]) -> PathBuf {
        let out = OutputDir::prepare(target, kind).unwrap();
        for (name, text) in files {
            let path = out.path().join(name);
            std::fs::create_dir_all(path.parent().unwrap()).unwrap();
            std::fs::write(path, text).unwrap();
        }
        out.commit(Map::new()).unwrap()
    }

    #[test]
    fn nothing_appears_until_commit_and_an_abandoned_output_leaves_nothing() {
        let dir = tempfile::tempdir().unwrap();
        let target = dir.path().join("out");
        {
            let out = OutputDir::prepare(&target, OutputKind::Run).unwrap();
            std::fs::write(out.path().join("summary.json"), "{}").unwrap();
            assert!(!target.exists());
        }
        assert!(!target.exists());
        assert_eq!(std::fs::read_dir(dir.path()).unwrap().count(), 0);
    }

    #[test]
    fn a_commit_lists_every_file_with_its_hash_in_the_manifest() {
        let dir = tempfile::tempdir().unwrap();
        let target = dir.path().join("out");
        write_output(
            &target,
            OutputKind::Calibrate,
            &[("ccp.toml", "x = 1\n"), ("market/assets.csv", "asset\n")],
        );
        let manifest = manifest_of(&target);
        assert_eq!(manifest["tool"], "clearstress");
        assert_eq!(manifest["kind"], "calibrate");
        assert_eq!(
            manifest["outputs"],
            json!([
                {"file": "ccp.toml", "sha256": sha256_hex(b"x = 1\n")},
                {"file": "market/assets.csv", "sha256": sha256_hex(b"asset\n")},
            ])
        );
        // Nothing but the output remains beside it: no staging, no lock.
        assert_eq!(std::fs::read_dir(dir.path()).unwrap().count(), 1);
    }

    #[test]
    fn an_earlier_output_of_the_same_kind_is_replaced_whole() {
        let dir = tempfile::tempdir().unwrap();
        let target = dir.path().join("out");
        write_output(&target, OutputKind::Run, &[("stale.parquet", "old")]);
        write_output(&target, OutputKind::Run, &[("summary.json", "{}")]);
        assert!(target.join("summary.json").exists());
        assert!(!target.join("stale.parquet").exists());
        assert_eq!(std::fs::read_dir(dir.path()).unwrap().count(), 1);
    }

    #[test]
    fn the_two_rename_swap_gives_the_same_result() {
        // The path taken where RENAME_EXCHANGE is missing (e.g. NFS).
        let dir = tempfile::tempdir().unwrap();
        let target = dir.path().join("out");
        write_output(&target, OutputKind::Run, &[("a", "1")]);
        let out = OutputDir::prepare(&target, OutputKind::Run).unwrap();
        std::fs::write(out.path().join("b"), "2").unwrap();
        out.commit_with(Map::new(), Swap::TwoRenames).unwrap();
        assert!(target.join("b").exists() && !target.join("a").exists());
        assert_eq!(std::fs::read_dir(dir.path()).unwrap().count(), 1);
    }

    /// Each destination that is not clearstress's own, and the error it gets.
    #[test]
    fn destinations_that_are_not_ours_are_refused_untouched() {
        type Setup = fn(&Path);
        let cases: [(&str, Setup, &str); 7] = [
            (
                "a user's file",
                |t| std::fs::write(t, "notes").unwrap(),
                "exists and is not a folder",
            ),
            (
                "a user's folder",
                |t| {
                    std::fs::create_dir(t).unwrap();
                    std::fs::write(t.join("positions.csv"), "x").unwrap();
                },
                "holds `positions.csv`, which clearstress did not write",
            ),
            (
                "a folder with a foreign manifest",
                |t| {
                    std::fs::create_dir(t).unwrap();
                    std::fs::write(t.join(MANIFEST), r#"{"tool": "other"}"#).unwrap();
                },
                "holds `manifest.json`, which clearstress did not write",
            ),
            (
                "an output of another kind",
                |t| write_output_static(t, OutputKind::Compare),
                "holds a clearstress compare output, not a run output",
            ),
            (
                "an output with a file added",
                |t| {
                    write_output_static(t, OutputKind::Run);
                    std::fs::write(t.join("mine.txt"), "keep").unwrap();
                },
                "holds `mine.txt`, which clearstress did not write",
            ),
            (
                "an output with a file changed",
                |t| {
                    write_output_static(t, OutputKind::Run);
                    std::fs::write(t.join("summary.json"), "edited").unwrap();
                },
                "`summary.json` changed since clearstress wrote it",
            ),
            (
                "a symbolic link",
                |t| {
                    let real = t.with_file_name("real");
                    write_output_static(&real, OutputKind::Run);
                    std::os::unix::fs::symlink(&real, t).unwrap();
                },
                "is a symbolic link",
            ),
        ];
        for (case, setup, says) in cases {
            let dir = tempfile::tempdir().unwrap();
            let target = dir.path().join("out");
            setup(&target);
            let before = snapshot_tree(dir.path());
            let err = OutputDir::prepare(&target, OutputKind::Run)
                .expect_err(case)
                .to_string();
            assert!(err.contains(says), "{case}: `{says}` not in: {err}");
            assert_eq!(
                snapshot_tree(dir.path()),
                before,
                "{case}: something changed"
            );
        }
    }

    fn write_output_static(target: &Path, kind: OutputKind) {
        write_output(target, kind, &[("summary.json", "{}")]);
    }

    /// Every path and file content below `dir`.
    fn snapshot_tree(dir: &Path) -> Vec<(String, Vec<u8>)> {
        let mut out: Vec<(String, Vec<u8>)> = files_below(dir)
            .unwrap()
            .into_iter()
            .map(|f| {
                let bytes = std::fs::read(dir.join(&f)).unwrap_or_default();
                (f, bytes)
            })
            .collect();
        out.sort();
        out
    }

    #[test]
    fn paths_that_name_no_folder_are_refused() {
        for path in ["/", "/.."] {
            let err = OutputDir::prepare(Path::new(path), OutputKind::Run).unwrap_err();
            assert!(err.to_string().contains("names no folder"), "{path}: {err}");
        }
    }

    #[test]
    fn an_empty_folder_is_filled() {
        let dir = tempfile::tempdir().unwrap();
        let target = dir.path().join("out");
        std::fs::create_dir(&target).unwrap();
        write_output(&target, OutputKind::Init, &[("ccp.toml", "")]);
        assert!(target.join("ccp.toml").exists());
    }

    #[test]
    fn a_second_writer_is_refused_at_once_and_may_write_after_the_first() {
        let dir = tempfile::tempdir().unwrap();
        let target = dir.path().join("out");
        let first = OutputDir::prepare(&target, OutputKind::Run).unwrap();
        let err = OutputDir::prepare(&target, OutputKind::Run).unwrap_err();
        assert!(
            matches!(err, OutputError::Busy { .. }),
            "expected busy, got {err}"
        );
        drop(first);
        write_output(&target, OutputKind::Run, &[("summary.json", "{}")]);
    }

    #[test]
    fn stale_staging_of_dead_writers_is_removed_and_user_folders_kept() {
        let dir = tempfile::tempdir().unwrap();
        let target = dir.path().join("out");
        // A dead writer's staging (marker present), an empty one (killed right
        // after mkdir), and a user's folder that merely looks alike.
        let dead = dir.path().join(".out.partial-999999");
        std::fs::create_dir_all(dead.join("new")).unwrap();
        std::fs::write(dead.join(STAGING_MARKER), "").unwrap();
        std::fs::create_dir(dir.path().join(".out.partial-999998")).unwrap();
        let users = dir.path().join(".out.partial-12");
        std::fs::create_dir(&users).unwrap();
        std::fs::write(users.join("thesis.tex"), "keep").unwrap();
        write_output(&target, OutputKind::Run, &[("summary.json", "{}")]);
        let mut left: Vec<String> = std::fs::read_dir(dir.path())
            .unwrap()
            .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
            .collect();
        left.sort();
        assert_eq!(left, [".out.partial-12", "out"]);
    }

    #[test]
    fn an_output_moved_aside_by_a_dead_writer_is_moved_back() {
        let dir = tempfile::tempdir().unwrap();
        let target = dir.path().join("out");
        write_output(&target, OutputKind::Run, &[("summary.json", "{\"old\":1}")]);
        // A two-rename swap that died between its renames.
        let dead = dir.path().join(".out.partial-999999");
        std::fs::create_dir_all(dead.join("new")).unwrap();
        std::fs::write(dead.join(STAGING_MARKER), "").unwrap();
        std::fs::rename(&target, dead.join("old")).unwrap();
        let out = OutputDir::prepare(&target, OutputKind::Run).unwrap();
        assert_eq!(
            std::fs::read_to_string(target.join("summary.json")).unwrap(),
            "{\"old\":1}"
        );
        drop(out);
    }

    #[test]
    fn single_files_replace_only_their_own_kind() {
        let dir = tempfile::tempdir().unwrap();
        let target = dir.path().join("worst.toml");
        let kind = OutputKind::WorstWindow;
        let write = |target: &Path| OutputFile::prepare(target, kind)?.write("name = \"w\"\n");
        write(&target).unwrap();
        write(&target).unwrap();
        assert_eq!(
            std::fs::read_to_string(&target).unwrap(),
            format!("{}\nname = \"w\"\n", file_marker(kind))
        );
        let users = dir.path().join("mine.toml");
        std::fs::write(&users, "name = \"mine\"\n").unwrap();
        let err = write(&users).unwrap_err();
        assert!(err
            .to_string()
            .contains("not a scenario file written by clearstress"));
        assert_eq!(
            std::fs::read_to_string(&users).unwrap(),
            "name = \"mine\"\n"
        );
        let mut left: Vec<String> = std::fs::read_dir(dir.path())
            .unwrap()
            .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
            .collect();
        left.sort();
        assert_eq!(left, ["mine.toml", "worst.toml"]);
    }
}
