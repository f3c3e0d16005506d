//! An output folder of one clearstress command read back for the report:
//! its manifest names clearstress, the command and this version, and every
//! output it lists has the SHA-256 it records. Run, backtest, procyclicality
//! and settle folders are all opened through it.

use std::path::Path;

use serde::Deserialize;
use serde_json::Value;

use super::run_folder::{OutputEntry, RunFolderError, MANIFEST};
use crate::input::{sha256_hex, Table};
use crate::report::output::files_below;

/// An output folder of one clearstress command, checked: its manifest names
/// clearstress, the command and this version, lists `main`, and every output
/// it lists has the SHA-256 it records.
pub(super) struct CheckedFolder {
    pub manifest_bytes: Vec<u8>,
    pub main_bytes: Vec<u8>,
    /// Every output the manifest lists, with the SHA-256 it records.
    pub outputs: Vec<OutputEntry>,
}

/// The part of a manifest every command writes.
#[derive(Deserialize)]
struct Outputs {
    version: String,
    outputs: Vec<OutputEntry>,
}

impl CheckedFolder {
    pub fn open(
        dir: &Path,
        kind: &'static str,
        main: &'static str,
    ) -> Result<Self, RunFolderError> {
        let manifest_path = dir.join(MANIFEST);
        let manifest_bytes = read(dir, kind, &manifest_path, MANIFEST)?;
        let shown = manifest_path.display().to_string();
        let raw: Value = parse(&manifest_path, &manifest_bytes)?;
        let (tool, found) = (
            raw["tool"].as_str().unwrap_or("an unknown tool"),
            raw["kind"].as_str().unwrap_or("run"),
        );
        if tool != "clearstress" || found != kind {
            return Err(RunFolderError::NotARun {
                path: shown,
                tool: tool.to_string(),
                kind: found.to_string(),
                expected: kind,
            });
        }
        let manifest: Outputs = parse(&manifest_path, &manifest_bytes)?;
        let ours = env!("CARGO_PKG_VERSION");
        if manifest.version != ours {
            return Err(RunFolderError::OtherVersion {
                path: shown,
                found: manifest.version,
                ours,
            });
        }
        let main_path = dir.join(main);
        let main_bytes = read(dir, kind, &main_path, main)?;
        if !manifest.outputs.iter().any(|o| o.file == main) {
            return Err(RunFolderError::Unlisted {
                path: main_path.display().to_string(),
                manifest: shown,
            });
        }
        for output in &manifest.outputs {
            let path = dir.join(&output.file);
            let bytes = std::fs::read(&path).map_err(|source| RunFolderError::Io {
                path: path.display().to_string(),
                source,
            })?;
            if sha256_hex(&bytes) != output.sha256 {
                return Err(RunFolderError::Changed {
                    path: path.display().to_string(),
                    manifest: shown,
                });
            }
        }
        // Every file is listed: a file clearstress did not write (a report.html
        // put there by hand) is refused, not shown as the run's.
        let listed =
            |file: &String| file == MANIFEST || manifest.outputs.iter().any(|o| &o.file == file);
        if let Some(extra) = files_below(dir)?.into_iter().find(|f| !listed(f)) {
            return Err(RunFolderError::Extra {
                path: dir.join(extra).display().to_string(),
                manifest: shown,
            });
        }
        Ok(Self {
            manifest_bytes,
            main_bytes,
            outputs: manifest.outputs,
        })
    }
}

impl CheckedFolder {
    /// The table `file` in `dir`, which the manifest must list, decoded from
    /// the bytes whose SHA-256 is checked against the manifest's (again: the
    /// file may have changed since [`Self::open`]).
    pub fn table(&self, dir: &Path, file: &str) -> Result<Table, RunFolderError> {
        let path = dir.join(file);
        let manifest = dir.join(MANIFEST).display().to_string();
        let Some(entry) = self.outputs.iter().find(|o| o.file == file) else {
            return Err(RunFolderError::Unlisted {
                path: path.display().to_string(),
                manifest,
            });
        };
        let table = Table::read(&path)?;
        if table.sha256() != entry.sha256 {
            return Err(RunFolderError::Changed {
                path: path.display().to_string(),
                manifest,
            });
        }
        Ok(table)
    }
}

fn read(
    dir: &Path,
    kind: &'static str,
    path: &Path,
    file: &'static str,
) -> Result<Vec<u8>, RunFolderError> {
    std::fs::read(path).map_err(|source| match source.kind() {
        std::io::ErrorKind::NotFound => RunFolderError::Missing {
            kind,
            dir: dir.display().to_string(),
            file,
        },
        _ => RunFolderError::Io {
            path: path.display().to_string(),
            source,
        },
    })
}

pub(super) fn parse<T: serde::de::DeserializeOwned>(
    path: &Path,
    bytes: &[u8],
) -> Result<T, RunFolderError> {
    serde_json::from_slice(bytes).map_err(|source| RunFolderError::Json {
        path: path.display().to_string(),
        source,
    })
}
