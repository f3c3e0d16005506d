//! Checking a destination and locking it: what may be replaced (an absent
//! path, an empty folder, or an earlier clearstress output of the same kind
//! whose files are unchanged), the advisory lock that keeps one writer at a
//! time, and [`Claim`], the two together as the first steps of every write.

use std::fs::{File, OpenOptions};
use std::path::{Component, Path, PathBuf};

use serde_json::Value;

use super::staging::clean_stale;
use super::{io_error, Expected, OutputError, MANIFEST, TOOL};
use crate::input::sha256_hex;

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
pub(super) struct DestinationLock {
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
pub(super) enum Destination {
    Absent,
    /// An empty folder, or an earlier output of the same kind.
    Replaceable,
}

/// Decides whether `target` may be replaced by the output `expected`.
fn check_destination(target: &Path, expected: Expected) -> Result<Destination, OutputError> {
    let shown = || target.display().to_string();
    let metadata = match std::fs::symlink_metadata(target) {
        Ok(m) => m,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(Destination::Absent),
        Err(e) => return Err(io_error(target)(e)),
    };
    if metadata.file_type().is_symlink() {
        return Err(OutputError::Symlink { path: shown() });
    }
    let kind = match expected {
        Expected::Folder(kind) => kind,
        Expected::File(marker) => {
            if !metadata.is_file() {
                return Err(OutputError::NotOurs {
                    path: shown(),
                    expected: "file",
                });
            }
            let bytes = std::fs::read(target).map_err(io_error(target))?;
            return if marker.recognises(&bytes) {
                Ok(Destination::Replaceable)
            } else {
                Err(OutputError::NotOurs {
                    path: shown(),
                    expected: marker.describe(),
                })
            };
        }
    };
    if !metadata.is_dir() {
        return Err(OutputError::NotOurs {
            path: shown(),
            expected: "folder",
        });
    }
    let Some(manifest) = our_manifest(target) else {
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
    let found = manifest_kind(&manifest);
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

/// The `manifest.json` of `dir` if `dir` is a clearstress output folder.
pub(super) fn our_manifest(dir: &Path) -> Option<Value> {
    let bytes = std::fs::read(dir.join(MANIFEST)).ok()?;
    let manifest: Value = serde_json::from_slice(&bytes).ok()?;
    (manifest["tool"] == TOOL).then_some(manifest)
}

/// The kind of output a clearstress manifest records.
pub(super) fn manifest_kind(manifest: &Value) -> &str {
    // Manifests before output kinds were recorded came from `run` alone.
    manifest["kind"].as_str().unwrap_or("run")
}

/// Every entry below `dir` that is not a folder, as `/`-separated relative
/// paths, sorted. Links and special files count as files: they are not ours.
pub(crate) fn files_below(dir: &Path) -> Result<Vec<String>, OutputError> {
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

/// A destination checked and locked for one writer: the first steps of
/// writing a folder or a file alike.
#[derive(Debug)]
pub(super) struct Claim {
    pub(super) parent: PathBuf,
    pub(super) name: String,
    /// The destination as its parent folder and name, so that `.` and `..`
    /// are renamed as the folders they stand for.
    pub(super) resolved: PathBuf,
    pub(super) destination: Destination,
    pub(super) lock: DestinationLock,
}

impl Claim {
    /// Locks `target`, clears the debris of dead writers, and checks that it
    /// may receive the output `expected`.
    pub(super) fn take(target: &Path, expected: Expected) -> Result<Self, OutputError> {
        let (parent, name) = split_target(target)?;
        std::fs::create_dir_all(&parent).map_err(io_error(&parent))?;
        let lock = DestinationLock::acquire(&parent, &name, target)?;
        let resolved = parent.join(&name);
        clean_stale(&parent, &name, &resolved)?;
        let destination = check_destination(&resolved, expected).map_err(|e| e.shown_as(target))?;
        Ok(Self {
            parent,
            name,
            resolved,
            destination,
            lock,
        })
    }
}
