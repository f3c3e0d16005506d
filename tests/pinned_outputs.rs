//! The outputs pinned, byte for byte: the embedded sample's and a 1,000-member
//! book's result tables at 20,000 paths, and the files `init` writes. A
//! refactoring (issue 12's restructure) must leave every hash here unchanged;
//! a deliberate change of the model or of a format changes them, and its
//! commit says so and updates them.
//!
//! The tables hold only numbers and names (no timings), and every number is a
//! pure function of the inputs and the seed, whatever the thread count (tested
//! in tests/determinism.rs), so the hashes are the same on any machine with the
//! same libm.

use std::path::Path;
use std::process::Command;

use clearstress::input::sha256_hex;

fn clearstress(cwd: &Path, args: &[&str]) {
    let o = Command::new(env!("CARGO_BIN_EXE_clearstress"))
        .current_dir(cwd)
        .args(args)
        .output()
        .expect("the binary runs");
    assert!(
        o.status.success(),
        "{args:?}: {}",
        String::from_utf8_lossy(&o.stderr)
    );
}

/// SHA-256 of each file below `dir`, by `/`-separated relative path, sorted.
fn hashes(dir: &Path) -> Vec<(String, String)> {
    fn walk(root: &Path, dir: &Path, out: &mut Vec<(String, String)>) {
        for entry in std::fs::read_dir(dir).unwrap() {
            let path = entry.unwrap().path();
            if path.is_dir() {
                walk(root, &path, out);
            } else {
                let name = path
                    .strip_prefix(root)
                    .unwrap()
                    .to_string_lossy()
                    .replace('\\', "/");
                out.push((name, sha256_hex(&std::fs::read(&path).unwrap())));
            }
        }
    }
    let mut out = Vec::new();
    walk(dir, dir, &mut out);
    out.sort();
    out
}

const TABLES: [&str; 5] = [
    "default_fund.parquet",
    "default_fund_scenarios.parquet",
    "margins.parquet",
    "stress_groups.parquet",
    "stress_losses.parquet",
];

fn table_hashes(out: &Path) -> Vec<(String, String)> {
    hashes(out)
        .into_iter()
        .filter(|(name, _)| TABLES.contains(&name.as_str()))
        .collect()
}

fn pinned(pairs: &[(&str, &str)]) -> Vec<(String, String)> {
    pairs
        .iter()
        .map(|(a, b)| (a.to_string(), b.to_string()))
        .collect()
}

const RUN: [&str; 7] = [
    "run",
    "--backend",
    "cpu",
    "--paths",
    "20000",
    "--quiet",
    "--out",
];

#[test]
fn the_embedded_samples_result_tables_are_pinned() {
    let dir = tempfile::tempdir().unwrap();
    clearstress(dir.path(), &[&RUN[..], &["out"]].concat());
    assert_eq!(
        table_hashes(&dir.path().join("out")),
        pinned(&[
            (
                "default_fund.parquet",
                "b5a372c236d47931c848a7eb292213b131ab2ebcada2529cd503b3dca8ef10c4"
            ),
            (
                "default_fund_scenarios.parquet",
                "37a74edc27077dac86f952e5f286a02f4fc2f6c321d97cc844fc477397566844"
            ),
            (
                "margins.parquet",
                "61a12cf88f2f6ce7586b0346e9c6ebb7c45807568d411c6562fbd7c7787a5e53"
            ),
            (
                "stress_groups.parquet",
                "58fecc2227cedea0cbc121902bebccb1cc663161239bc630b4720441d329d3d7"
            ),
            (
                "stress_losses.parquet",
                "92c03feaa487b7c31c7252a54038ae1c55ad0d0c5afd18d918ed4b2c1effca39"
            ),
        ])
    );
}

#[test]
fn a_thousand_member_books_files_and_result_tables_are_pinned() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    clearstress(
        d,
        &[
            "init",
            "--out",
            "book",
            "--members",
            "1000",
            "--assets",
            "50",
            "--options",
            "5000",
        ],
    );
    // All of init's files (tables, ccp.toml, stress scenarios, manifest) in one hash.
    let listing: String = hashes(&d.join("book"))
        .iter()
        .map(|(name, hash)| format!("{hash}  ./{name}\n"))
        .collect();
    assert_eq!(
        sha256_hex(listing.as_bytes()),
        "9e81c51d8b92605556a82fb23a1b26ed5f415081a5ba4313002d423406cde90d",
        "init's files changed:\n{listing}"
    );
    clearstress(d, &[&RUN[..], &["out", "--book", "book"]].concat());
    assert_eq!(
        table_hashes(&d.join("out")),
        pinned(&[
            (
                "default_fund.parquet",
                "9d2f5f385eae1a1504bac7ce3e49a552bf72a8802acecd737f57847ddb977c53"
            ),
            (
                "default_fund_scenarios.parquet",
                "f9783085c531f41e48c7690ad3567a73ebe2c64618d986706124f3ce86e53d3e"
            ),
            (
                "margins.parquet",
                "a647ccdaff7e3abb7ba583344fba9200f2c0860fc414fa733dd9b712c6f6d1ce"
            ),
            (
                "stress_groups.parquet",
                "514c2f2a4114de7e1e3cba7ebfd83e398564dfefe6761dda61d70379c1523035"
            ),
            (
                "stress_losses.parquet",
                "d6e3e4f5887b0c093b10040aa55e83cc48a9ac678bb91b96a7fb589a28f977ad"
            ),
        ])
    );
}

#[test]
fn the_default_init_books_files_are_pinned() {
    let dir = tempfile::tempdir().unwrap();
    clearstress(dir.path(), &["init", "--out", "book"]);
    let listing: String = hashes(&dir.path().join("book"))
        .iter()
        .map(|(name, hash)| format!("{hash}  ./{name}\n"))
        .collect();
    assert_eq!(
        sha256_hex(listing.as_bytes()),
        "9f6cda00760de9468b6441fc1002b49c51ae84e4ca4d2c6ed57df5badf081bfe",
        "init's files changed:\n{listing}"
    );
}
