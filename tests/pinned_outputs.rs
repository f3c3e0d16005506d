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
                "007860bb1d00bb541f9f59422ed28e72fb4275dd1f2179b3e75373381b3b8b8f"
            ),
            (
                "default_fund_scenarios.parquet",
                "59026ed6d3714e86700324ee4ed98edc4cd9c38ed80512568fd8811ea2403d6c"
            ),
            (
                "margins.parquet",
                "6edf84a4a49577fef1f1a5d11a3ea3d16057e1dfbaf1fbeb98febe70ba933d26"
            ),
            (
                "stress_groups.parquet",
                "45963ebf6e6a76cabf11a52fbd8bde3a8ba0826b10d528fab751c3bae9ef7fba"
            ),
            (
                "stress_losses.parquet",
                "b6dd2f99ce49cb2712d0f35e2433248d48d144c0b6c7590a0707dab3d2e69244"
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
                "65f814ff3426e68618c7576fb1b7acf25d6bb7e2b913226ad999b80c46c58aab"
            ),
            (
                "default_fund_scenarios.parquet",
                "34a111ce48d5939d7042a32b716488715246665206f7000e6a07a5d1da3dbe19"
            ),
            (
                "margins.parquet",
                "48f2269547f7405eb580e1084553a3b646168ffb29d1f52c1cbe0405cac69e1f"
            ),
            (
                "stress_groups.parquet",
                "95686e7c4c6e59e7ebd556ffe0907a352d2d13c11be84ab7051f60a03d679402"
            ),
            (
                "stress_losses.parquet",
                "dc10d032c70120e6114bd98dd36be5257b860fc461c489bea48ee7e483bc2e68"
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
