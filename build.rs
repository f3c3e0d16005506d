//! Records the commit the binary is built from, for `--version` and every
//! manifest: `git describe`-like `<short hash>[-modified]`, or `unknown
//! commit` outside a git checkout (a crate tarball).

use std::process::Command;

fn git(args: &[&str]) -> Option<String> {
    let out = Command::new("git").args(args).output().ok()?;
    out.status
        .success()
        .then(|| String::from_utf8_lossy(&out.stdout).trim().to_string())
}

fn main() {
    let commit = match git(&["rev-parse", "--short=12", "HEAD"]) {
        Some(hash) => {
            let modified = git(&["status", "--porcelain", "--untracked-files=no"])
                .is_some_and(|s| !s.is_empty());
            format!("commit {hash}{}", if modified { "-modified" } else { "" })
        }
        None => "unknown commit".into(),
    };
    println!("cargo:rustc-env=CLEARSTRESS_COMMIT={commit}");
    // A new commit or a checkout changes HEAD, the ref it points to or the
    // index; git says where they are (in a worktree `.git` is a file).
    let head_ref = git(&["rev-parse", "--symbolic-full-name", "HEAD"]);
    for name in ["HEAD", "index", "packed-refs"]
        .into_iter()
        .map(String::from)
        .chain(head_ref)
    {
        if let Some(path) = git(&["rev-parse", "--git-path", &name]) {
            println!("cargo:rerun-if-changed={path}");
        }
    }
    println!("cargo:rerun-if-changed=build.rs");
}
