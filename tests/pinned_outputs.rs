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
                "6d561ab3b2f1a242aa09c9a0bb053e68bb03252e8bd7d52b17a7cb3afbb15945"
            ),
            (
                "default_fund_scenarios.parquet",
                "75bb92bf872f5ba978caab3a117dad877062948bef75c3eb8ada2c6614527868"
            ),
            (
                "margins.parquet",
                "91149fb20732c505fed9105e5c33f1c83cfde1b74293902a9f528c136996fcfb"
            ),
            (
                "stress_groups.parquet",
                "2a9c5701e965423edb51a9d4708d8b70d46330fe6cdf75919ff59dbdd85831de"
            ),
            (
                "stress_losses.parquet",
                "22c9b78d31bc4f96f26952e85804bbf1f7a093dcb7b40b3d446735c8ab871395"
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
        "72779d505b3fba2d9a449febb04dc99f6d86bd1e88f6fd9cd75bbdd733822e87",
        "init's files changed:\n{listing}"
    );
    clearstress(d, &[&RUN[..], &["out", "--book", "book"]].concat());
    assert_eq!(
        table_hashes(&d.join("out")),
        pinned(&[
            (
                "default_fund.parquet",
                "73199f52912de848ba90f7b5888ba7346e70b7096b7f15499d4459aa6ac1df55"
            ),
            (
                "default_fund_scenarios.parquet",
                "15d89104c9100d1462f59c9b4a2074699eba4d3bf5bee15456b10e9864022e07"
            ),
            (
                "margins.parquet",
                "42bcee3f59a26819e3ca1ce7264d06705e5ad93df425bb29a6c6993fb7c31571"
            ),
            (
                "stress_groups.parquet",
                "7a64ddb0181cf1682e9ca81591cf24074413f5f8a3e3f2b2e483b9ef316343a4"
            ),
            (
                "stress_losses.parquet",
                "021b43e12fc68bc73f32efb375cc8727c4569736a0aa264cf5af30bf9707b057"
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
        "cdc9191004f7d5e0b345d9c21e5f1e9309b7afda33f38bebd4733d9e45a67eda",
        "init's files changed:\n{listing}"
    );
}
