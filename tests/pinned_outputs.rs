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

const TABLES: [&str; 4] = [
    "default_fund.parquet",
    "default_fund_scenarios.parquet",
    "margins.parquet",
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
                "e2016faaff7a6223b8aeaa9ea015ed4d4712a57c2f9db9f4de04efc2e30e540a"
            ),
            (
                "default_fund_scenarios.parquet",
                "e6f54363031b0ae4680f89b238ec09d6cbef008d0cfc0bf6d1fc1ef5efa833ff"
            ),
            (
                "margins.parquet",
                "4e8c9b5e95a9f1467cf0a880448a9a26c10e7d7ba916fe6fd370ff3cfbb2e5d6"
            ),
            (
                "stress_losses.parquet",
                "e4ff42ddf053772d1caf6a6b37d9d4007f51cec20fbdc6c5049bc4549e8b9e32"
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
        "bb9fec3b483d3fc96948b7e53fb08688d53e3e4442e7fa6694e1d14487d99e03",
        "init's files changed:\n{listing}"
    );
    clearstress(d, &[&RUN[..], &["out", "--book", "book"]].concat());
    assert_eq!(
        table_hashes(&d.join("out")),
        pinned(&[
            (
                "default_fund.parquet",
                "7406fbd6168c10943c98eaf246dc3a83f38fa3dcd224fba08237252da1d66dcc"
            ),
            (
                "default_fund_scenarios.parquet",
                "1c5b974d50f0da557757ff0ce1e38c7a9a563706a82a57fd4777d07ebcecf73a"
            ),
            (
                "margins.parquet",
                "986c590d08bdbcad914e7da1e2866ceed167e9595fb40f0d7d4443e086e97f0e"
            ),
            (
                "stress_losses.parquet",
                "5dc67350c6ee88658263089501068143bed11d01fec2fd56d3391c715abace4a"
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
        "8646bd48c0982cec0c7db03c9d79b25051f973346edb3e86ddac8e4673876251",
        "init's files changed:\n{listing}"
    );
}
