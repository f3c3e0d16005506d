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
                "92ea292385ec8a91e7ff3c8cded6dedf1692bd73ba04fec769b9034dc2e3b706"
            ),
            (
                "default_fund_scenarios.parquet",
                "b44cc51ce60883ebfe65188957c87cbcf5b959760035fa857af79ee5ec83e09a"
            ),
            (
                "margins.parquet",
                "197cbf32c3f66b7423c14f107881b0fe39ed77a5509f4c0e16a60c1c35fdf873"
            ),
            (
                "stress_losses.parquet",
                "e36c859d1f868e4d60182b4cd30cbe9a8cdf4264b0425b2b876138c1869a349b"
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
                "0af76c8f235dbf3e3dad2fac2069119e8a3dee4e29b2ac4adc46b80278f9317d"
            ),
            (
                "default_fund_scenarios.parquet",
                "516c9eec4e1103c1a93921dd3dabaf455d7df6614a43b8a6a40e1e3787ae0a18"
            ),
            (
                "margins.parquet",
                "b7f7c7eb3106b817d91cca2e26696cb67c595828198a2d9025d4a068d465731a"
            ),
            (
                "stress_losses.parquet",
                "4bf3a2190f68786e6775d01f2ab372688ea70cefd233871458ecbd1f22bafd1c"
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
