//! The `clearstress` binary run from a test: by its arguments, or by a
//! command line with `{dir}` and `{history}` (the shipped daily closes)
//! filled in. Included with `#[path]` beside `machine.rs`.

// Each test crate uses the part it needs.
#![allow(dead_code)]

use std::ffi::OsStr;
use std::path::Path;
use std::process::{Command, Output};

pub fn clearstress<S: AsRef<OsStr>>(args: &[S]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_clearstress"))
        .args(args)
        .output()
        .expect("the binary runs")
}

/// `clearstress` run in `cwd`, with `env` added to its environment.
pub fn clearstress_in(cwd: &Path, args: &[&str], env: &[(&str, &str)]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_clearstress"))
        .current_dir(cwd)
        .args(args)
        .envs(env.iter().copied())
        .output()
        .expect("the binary runs")
}

/// `clearstress` with `line` split at spaces ({dir} and {history} filled in).
pub fn clearstress_line(dir: &Path, line: &str) -> Output {
    let history = crate::machine::daily_closes();
    let args: Vec<String> = line
        .split_whitespace()
        .map(|a| {
            a.replace("{dir}", dir.to_str().unwrap())
                .replace("{history}", history.to_str().unwrap())
        })
        .collect();
    clearstress(&args)
}
