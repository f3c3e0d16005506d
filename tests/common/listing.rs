//! What is in a folder, for the tests that check an output left nothing
//! else behind (no lock, no staging). Included with `#[path]`.

use std::path::Path;

/// The names directly in `dir`, sorted.
pub fn entries(dir: &Path) -> Vec<String> {
    let mut names: Vec<String> = std::fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    names.sort();
    names
}
