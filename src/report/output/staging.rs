//! Staging and putting an output in place: the staging folder beside the
//! destination, the fsyncs that make its files durable, the swap into place
//! (one exchange, or two renames where the file system has no exchange), the
//! clean-up of the staging folders dead writers left, and the fault injection
//! (`CLEARSTRESS_FAULT`) by which the tests kill a writer between two steps.

use std::fs::File;
use std::path::{Path, PathBuf};

use super::{io_error, OutputError, OutputKind, TOOL};

/// Name of the marker file that identifies a staging folder as clearstress's.
pub(super) const STAGING_MARKER: &str = "clearstress-staging";

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
pub(super) fn fault_requested(what: &str) -> bool {
    std::env::var("CLEARSTRESS_FAULT")
        .map(|v| v.split(',').any(|f| f.trim() == what))
        .unwrap_or(false)
}

pub(super) fn reach(step: Step) {
    fault_point(step.name());
}

/// Ends the process at `point` if `CLEARSTRESS_FAULT=kill:<point>` asks to:
/// a step of writing an output, or another point a test kills a run at
/// (`checkpoint-<n>`: a sharded run after writing its n-th checkpoint).
pub fn fault_point(point: &str) {
    if fault_requested(&format!("kill:{point}")) {
        // Like a kill: no unwinding, no destructors, nothing cleaned up (and,
        // unlike abort(), no core file left in the test's folder).
        std::process::exit(137);
    }
}

/// A staging folder `.<name>.partial-<pid>` beside the destination, holding the
/// marker file and `new/`, the output being written.
#[derive(Debug)]
pub(super) struct Staging {
    dir: PathBuf,
}

impl Staging {
    pub(super) fn create(parent: &Path, name: &str, kind: OutputKind) -> Result<Self, OutputError> {
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

    pub(super) fn new_path(&self) -> PathBuf {
        self.dir.join("new")
    }

    pub(super) fn old_path(&self) -> PathBuf {
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
pub(super) fn clean_stale(parent: &Path, name: &str, target: &Path) -> Result<(), OutputError> {
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

/// How an earlier output is replaced.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Swap {
    /// One atomic exchange where the file system has it, else [`Swap::TwoRenames`].
    Exchange,
    /// Move the earlier output aside, then the new one in.
    TwoRenames,
}

/// Atomically swaps two paths where the file system can (Linux's
/// `renameat2(RENAME_EXCHANGE)`); `Ok(false)` where it cannot.
#[cfg(target_os = "linux")]
pub(super) fn exchange(a: &Path, b: &Path) -> std::io::Result<bool> {
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
pub(super) fn exchange(_: &Path, _: &Path) -> std::io::Result<bool> {
    Ok(false)
}

/// fsyncs every file and folder below `dir`, and `dir` itself.
pub(super) fn sync_tree(dir: &Path) -> Result<(), OutputError> {
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

pub(super) fn sync_parent(target: &Path) -> Result<(), OutputError> {
    let parent = target
        .parent()
        .filter(|p| !p.as_os_str().is_empty())
        .unwrap_or(Path::new("."));
    sync_dir(parent)
}
