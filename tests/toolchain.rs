//! The Rust version Cargo.toml promises is the one the locked dependencies
//! need: not lower (a user on it could not build) and not higher (it would
//! turn away toolchains that can).

use std::process::Command;

/// "1.90" or "1.90.0" as (major, minor, patch).
fn version(text: &str) -> (u32, u32, u32) {
    let mut parts = text.split('.').map(|p| p.parse::<u32>().expect(text));
    (
        parts.next().expect(text),
        parts.next().unwrap_or(0),
        parts.next().unwrap_or(0),
    )
}

fn cargo(args: &[&str]) -> String {
    let o = Command::new(env!("CARGO"))
        .args(args)
        .current_dir(env!("CARGO_MANIFEST_DIR"))
        .output()
        .expect("cargo runs");
    assert!(
        o.status.success(),
        "cargo {args:?}: {}",
        String::from_utf8_lossy(&o.stderr)
    );
    String::from_utf8(o.stdout).expect("utf-8")
}

#[test]
fn rust_version_is_the_highest_any_locked_dependency_needs() {
    let host = cargo(&["-vV"])
        .lines()
        .find_map(|l| l.strip_prefix("host: ").map(str::to_string))
        .expect("cargo -vV names the host");
    // The host's packages: built already, so their sources are here and
    // the lookup needs no network.
    let text = cargo(&[
        "metadata",
        "--format-version",
        "1",
        "--locked",
        "--offline",
        "--filter-platform",
        &host,
    ]);
    let metadata: serde_json::Value = serde_json::from_str(&text).expect("metadata is JSON");
    let packages = metadata["packages"].as_array().expect("packages");
    let ours = packages
        .iter()
        .find(|p| p["name"] == env!("CARGO_PKG_NAME"))
        .expect("this package");
    let declared = version(ours["rust_version"].as_str().expect("rust-version is set"));
    let (needed, by) = packages
        .iter()
        .filter(|p| p["name"] != env!("CARGO_PKG_NAME"))
        .filter_map(|p| Some((version(p["rust_version"].as_str()?), p["name"].as_str()?)))
        .max()
        .expect("some dependency declares a rust-version");
    assert!(packages.len() > 50, "{} packages", packages.len());
    assert_eq!(
        declared, needed,
        "Cargo.toml says rust-version {declared:?}; {by} needs {needed:?}"
    );
}
