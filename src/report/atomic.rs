//! An output folder that appears whole or not at all.
//!
//! Files are written into a hidden sibling folder; [`AtomicDir::commit`] renames
//! it into place. A run that fails or is killed leaves only the hidden
//! `.<name>.partial-<pid>` folder (removed on drop when the process unwinds), never
//! a folder at the output path that looks complete.

use std::path::{Path, PathBuf};

#[derive(Debug)]
pub struct AtomicDir {
    target: PathBuf,
    staging: PathBuf,
    committed: bool,
}

impl AtomicDir {
    pub fn create(target: &Path) -> std::io::Result<Self> {
        let name = target
            .file_name()
            .map_or_else(|| "out".into(), |n| n.to_string_lossy().into_owned());
        let parent = target
            .parent()
            .filter(|p| !p.as_os_str().is_empty())
            .unwrap_or(Path::new("."));
        std::fs::create_dir_all(parent)?;
        let staging = parent.join(format!(".{name}.partial-{}", std::process::id()));
        if staging.exists() {
            std::fs::remove_dir_all(&staging)?;
        }
        std::fs::create_dir(&staging)?;
        Ok(Self {
            target: target.to_path_buf(),
            staging,
            committed: false,
        })
    }

    /// Where to write the files before the commit.
    pub fn path(&self) -> &Path {
        &self.staging
    }

    /// Moves the staged folder to the target, replacing a previous output there.
    pub fn commit(mut self) -> std::io::Result<PathBuf> {
        if self.target.exists() {
            let old = self.staging.with_file_name(format!(
                ".{}.old-{}",
                self.target
                    .file_name()
                    .map_or_else(|| "out".into(), |n| n.to_string_lossy().into_owned()),
                std::process::id()
            ));
            std::fs::rename(&self.target, &old)?;
            std::fs::rename(&self.staging, &self.target)?;
            std::fs::remove_dir_all(&old)?;
        } else {
            std::fs::rename(&self.staging, &self.target)?;
        }
        self.committed = true;
        Ok(self.target.clone())
    }
}

impl Drop for AtomicDir {
    fn drop(&mut self) {
        if !self.committed {
            let _ = std::fs::remove_dir_all(&self.staging);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn nothing_appears_until_commit_and_an_abandoned_run_leaves_nothing() {
        let dir = tempfile::tempdir().unwrap();
        let target = dir.path().join("out");
        {
            let staged = AtomicDir::create(&target).unwrap();
            std::fs::write(staged.path().join("summary.json"), "{}").unwrap();
            assert!(!target.exists());
        }
        assert!(!target.exists());
        assert_eq!(std::fs::read_dir(dir.path()).unwrap().count(), 0);
    }

    #[test]
    fn commit_replaces_a_previous_output_whole() {
        let dir = tempfile::tempdir().unwrap();
        let target = dir.path().join("out");
        std::fs::create_dir(&target).unwrap();
        std::fs::write(target.join("stale.parquet"), "old").unwrap();
        let staged = AtomicDir::create(&target).unwrap();
        std::fs::write(staged.path().join("summary.json"), "{}").unwrap();
        staged.commit().unwrap();
        assert!(target.join("summary.json").exists());
        assert!(!target.join("stale.parquet").exists());
        assert_eq!(std::fs::read_dir(dir.path()).unwrap().count(), 1);
    }
}
