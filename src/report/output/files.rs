//! Single output files: one file ([`OutputFile`], a stress scenario) or
//! several written as one output ([`OutputFiles`], a report and its PQD
//! table), each recognised as clearstress's by a [`FileMarker`] in its text,
//! since a lone file has no manifest beside it.

use std::fs::File;
use std::io::Write as _;
use std::path::{Path, PathBuf};

use super::destination::{manifest_kind, our_manifest, Claim};
use super::staging::{reach, sync_parent, Staging, Step};
use super::{file_marker, io_error, Expected, OutputError, OutputKind};

/// How far into an HTML file its generator is looked for: the `<meta>` comes
/// right after the charset, and a large file of the user's is not read whole.
const HTML_HEAD_BYTES: usize = 1024;

/// The start of the `<meta>` that names clearstress as an HTML file's
/// generator; the version follows.
const HTML_GENERATOR_PREFIX: &str = "<meta name=\"generator\" content=\"clearstress ";

/// The `<meta>` by which clearstress knows an HTML file as its own: what
/// [`FileMarker::HtmlGenerator`] looks for, to put in the file's head.
pub fn html_generator() -> String {
    format!("{HTML_GENERATOR_PREFIX}{}\">", env!("CARGO_PKG_VERSION"))
}

/// How clearstress recognises a single file as its own output.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FileMarker {
    /// The file begins with [`file_marker`]`(kind)`'s line (a scenario's
    /// TOML, a PQD table's CSV: a `#` comment to their readers).
    FirstLine(OutputKind),
    /// An HTML file whose head holds [`html_generator`]'s `<meta>`.
    HtmlGenerator,
    /// A Parquet file whose metadata holds a sharded run's part header
    /// ([`crate::shard::file::HEADER_KEY`]).
    PartialState,
}

impl FileMarker {
    pub(super) fn recognises(self, bytes: &[u8]) -> bool {
        match self {
            Self::FirstLine(kind) => bytes.starts_with(file_marker(kind).as_bytes()),
            Self::HtmlGenerator => {
                let head = &bytes[..bytes.len().min(HTML_HEAD_BYTES)];
                head.windows(HTML_GENERATOR_PREFIX.len())
                    .any(|w| w == HTML_GENERATOR_PREFIX.as_bytes())
            }
            Self::PartialState => {
                // Parquet ends with its footer, the footer's length and `PAR1`:
                // the header's key is looked for in the footer only.
                let key = crate::shard::file::HEADER_KEY.as_bytes();
                let footer = (bytes.len().checked_sub(8))
                    .filter(|_| bytes.starts_with(b"PAR1") && bytes.ends_with(b"PAR1"))
                    .and_then(|end| {
                        let length = u32::from_le_bytes(bytes[end..end + 4].try_into().ok()?);
                        bytes.get(end.checked_sub(length as usize)?..end)
                    });
                footer.is_some_and(|f| f.windows(key.len()).any(|w| w == key))
            }
        }
    }

    /// What a file must be to be replaced, for the refusal's message.
    pub(super) fn describe(self) -> &'static str {
        match self {
            Self::FirstLine(OutputKind::WorstWindow) => {
                "scenario file written by clearstress worst-window"
            }
            Self::FirstLine(OutputKind::Report) => "PQD table written by clearstress report",
            Self::FirstLine(_) => "file written by clearstress",
            Self::HtmlGenerator => "report written by clearstress report",
            Self::PartialState => {
                "partial-state file written by clearstress run (a checkpoint or a shard's part)"
            }
        }
    }
}

/// One file checked and locked for writing.
#[derive(Debug)]
struct ClaimedFile {
    marker: FileMarker,
    claim: Claim,
}

/// Files written as one output: each destination is checked (absent, or a
/// file its marker recognises) and locked at [`OutputFiles::prepare`],
/// before any work; [`OutputFiles::write`] stages and fsyncs every file, then
/// renames them into place one by one, in the order given. The renames are
/// not one step: the caller orders the files so that the last one names the
/// others (a report records its PQD table's SHA-256), and a pair a crash
/// left between two renames shows the mismatch instead of looking complete.
#[derive(Debug)]
pub struct OutputFiles {
    kind: OutputKind,
    files: Vec<ClaimedFile>,
}

impl OutputFiles {
    /// Checks and locks each of `files`. A folder that does not exist is
    /// refused rather than made, so that a mistyped path writes nothing; so
    /// is a clearstress output folder, whose manifest a file added or
    /// replaced in it would no longer match.
    pub fn prepare(files: &[(&Path, FileMarker)], kind: OutputKind) -> Result<Self, OutputError> {
        // The last file is the one the others go with (a report after its
        // table), so a refused folder is named with it.
        for &(target, _) in files.iter().rev() {
            let parent = target
                .parent()
                .filter(|p| !p.as_os_str().is_empty())
                .unwrap_or(Path::new("."));
            let path = target.display().to_string();
            if !parent.is_dir() {
                return Err(OutputError::NoParent {
                    path,
                    parent: parent.display().to_string(),
                });
            }
            if let Some(manifest) = our_manifest(parent) {
                return Err(OutputError::InsideOutput {
                    path,
                    folder: parent.display().to_string(),
                    kind: manifest_kind(&manifest).to_string(),
                });
            }
        }
        let mut claimed = Vec::with_capacity(files.len());
        for &(target, marker) in files {
            let claim = Claim::take(target, Expected::File(marker))?;
            claimed.push(ClaimedFile { marker, claim });
        }
        Ok(Self {
            kind,
            files: claimed,
        })
    }

    /// Writes `texts[i]`, which carries its marker, to the `i`th file: all
    /// staged and fsynced beside the first (the files share its folder, so
    /// that each rename stays on one file system), then renamed into place in
    /// order. Returns the destinations.
    pub fn write(self, texts: &[&str]) -> Result<Vec<PathBuf>, OutputError> {
        let bodies: Vec<&[u8]> = texts.iter().map(|t| t.as_bytes()).collect();
        self.write_bytes(&bodies)
    }

    /// [`OutputFiles::write`] of bytes (a binary file such as a part's
    /// Parquet), each carrying its marker.
    pub fn write_bytes(self, texts: &[&[u8]]) -> Result<Vec<PathBuf>, OutputError> {
        debug_assert_eq!(texts.len(), self.files.len(), "a text per file");
        let Some(first) = self.files.first() else {
            return Ok(Vec::new());
        };
        let staging = Staging::create(&first.claim.parent, &first.claim.name, self.kind)?;
        let mut staged = Vec::with_capacity(self.files.len());
        for (file, text) in self.files.iter().zip(texts) {
            // A file written without its marker could never be replaced.
            debug_assert!(file.marker.recognises(text), "{:?}", file.marker);
            let path = staging.new_path().join(&file.claim.name);
            write_synced(&path, text)?;
            staged.push(path);
        }
        reach(Step::Synced);
        for (file, path) in self.files.iter().zip(&staged) {
            let target = &file.claim.resolved;
            std::fs::rename(path, target).map_err(io_error(target))?;
            sync_parent(target)?;
        }
        Ok(self
            .files
            .iter()
            .map(|f| f.claim.resolved.clone())
            .collect())
    }
}

/// A single output file (a stress scenario): [`OutputFiles`] of one file
/// whose marker is its kind's first line.
#[derive(Debug)]
pub struct OutputFile(OutputFiles);

impl OutputFile {
    pub fn prepare(target: &Path, kind: OutputKind) -> Result<Self, OutputError> {
        let claim = Claim::take(target, Expected::File(FileMarker::FirstLine(kind)))?;
        Ok(Self(OutputFiles {
            kind,
            files: vec![ClaimedFile {
                marker: FileMarker::FirstLine(kind),
                claim,
            }],
        }))
    }

    /// Writes `body` after the file's marker line, fsyncs it beside the
    /// destination and renames it into place.
    pub fn write(self, body: &str) -> Result<PathBuf, OutputError> {
        let text = format!("{}\n{body}", file_marker(self.0.kind));
        let mut written = self.0.write(&[&text])?;
        Ok(written.remove(0))
    }
}

fn write_synced(path: &Path, text: &[u8]) -> Result<(), OutputError> {
    File::create(path)
        .and_then(|mut file| file.write_all(text).and_then(|()| file.sync_all()))
        .map_err(io_error(path))
}
