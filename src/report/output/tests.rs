//! The output layer's tests: what appears when, what is refused, and how
//! dead writers' debris is cleared.

use super::staging::STAGING_MARKER;
use super::*;

fn manifest_of(dir: &Path) -> Value {
    serde_json::from_slice(&std::fs::read(dir.join(MANIFEST)).unwrap()).unwrap()
}

fn write_output(target: &Path, kind: OutputKind, files: &[(&str, &str)]) -> PathBuf {
    let out = OutputDir::prepare(target, kind).unwrap();
    for (name, text) in files {
        let path = out.path().join(name);
        std::fs::create_dir_all(path.parent().unwrap()).unwrap();
        std::fs::write(path, text).unwrap();
    }
    out.commit(Map::new()).unwrap()
}

#[test]
fn nothing_appears_until_commit_and_an_abandoned_output_leaves_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let target = dir.path().join("out");
    {
        let out = OutputDir::prepare(&target, OutputKind::Run).unwrap();
        std::fs::write(out.path().join("summary.json"), "{}").unwrap();
        assert!(!target.exists());
    }
    assert!(!target.exists());
    assert_eq!(std::fs::read_dir(dir.path()).unwrap().count(), 0);
}

#[test]
fn a_commit_lists_every_file_with_its_hash_in_the_manifest() {
    let dir = tempfile::tempdir().unwrap();
    let target = dir.path().join("out");
    write_output(
        &target,
        OutputKind::Calibrate,
        &[("ccp.toml", "x = 1\n"), ("market/assets.csv", "asset\n")],
    );
    let manifest = manifest_of(&target);
    assert_eq!(manifest["tool"], "clearstress");
    assert_eq!(manifest["kind"], "calibrate");
    assert_eq!(
        manifest["outputs"],
        json!([
            {"file": "ccp.toml", "sha256": sha256_hex(b"x = 1\n")},
            {"file": "market/assets.csv", "sha256": sha256_hex(b"asset\n")},
        ])
    );
    // Nothing but the output remains beside it: no staging, no lock.
    assert_eq!(std::fs::read_dir(dir.path()).unwrap().count(), 1);
}

#[test]
fn an_earlier_output_of_the_same_kind_is_replaced_whole() {
    let dir = tempfile::tempdir().unwrap();
    let target = dir.path().join("out");
    write_output(&target, OutputKind::Run, &[("stale.parquet", "old")]);
    write_output(&target, OutputKind::Run, &[("summary.json", "{}")]);
    assert!(target.join("summary.json").exists());
    assert!(!target.join("stale.parquet").exists());
    assert_eq!(std::fs::read_dir(dir.path()).unwrap().count(), 1);
}

#[test]
fn the_two_rename_swap_gives_the_same_result() {
    // The path taken where RENAME_EXCHANGE is missing (e.g. NFS).
    let dir = tempfile::tempdir().unwrap();
    let target = dir.path().join("out");
    write_output(&target, OutputKind::Run, &[("a", "1")]);
    let out = OutputDir::prepare(&target, OutputKind::Run).unwrap();
    std::fs::write(out.path().join("b"), "2").unwrap();
    out.commit_with(Map::new(), Swap::TwoRenames).unwrap();
    assert!(target.join("b").exists() && !target.join("a").exists());
    assert_eq!(std::fs::read_dir(dir.path()).unwrap().count(), 1);
}

/// Each destination that is not clearstress's own, and the error it gets.
#[test]
fn destinations_that_are_not_ours_are_refused_untouched() {
    type Setup = fn(&Path);
    let cases: [(&str, Setup, &str); 7] = [
        (
            "a user's file",
            |t| std::fs::write(t, "notes").unwrap(),
            "exists and is not a folder",
        ),
        (
            "a user's folder",
            |t| {
                std::fs::create_dir(t).unwrap();
                std::fs::write(t.join("positions.csv"), "x").unwrap();
            },
            "holds `positions.csv`, which clearstress did not write",
        ),
        (
            "a folder with a foreign manifest",
            |t| {
                std::fs::create_dir(t).unwrap();
                std::fs::write(t.join(MANIFEST), r#"{"tool": "other"}"#).unwrap();
            },
            "holds `manifest.json`, which clearstress did not write",
        ),
        (
            "an output of another kind",
            |t| write_output_static(t, OutputKind::Compare),
            "holds a clearstress compare output, not a run output",
        ),
        (
            "an output with a file added",
            |t| {
                write_output_static(t, OutputKind::Run);
                std::fs::write(t.join("mine.txt"), "keep").unwrap();
            },
            "holds `mine.txt`, which clearstress did not write",
        ),
        (
            "an output with a file changed",
            |t| {
                write_output_static(t, OutputKind::Run);
                std::fs::write(t.join("summary.json"), "edited").unwrap();
            },
            "`summary.json` changed since clearstress wrote it",
        ),
        (
            "a symbolic link",
            |t| {
                let real = t.with_file_name("real");
                write_output_static(&real, OutputKind::Run);
                std::os::unix::fs::symlink(&real, t).unwrap();
            },
            "is a symbolic link",
        ),
    ];
    for (case, setup, says) in cases {
        let dir = tempfile::tempdir().unwrap();
        let target = dir.path().join("out");
        setup(&target);
        let before = snapshot_tree(dir.path());
        let err = OutputDir::prepare(&target, OutputKind::Run)
            .expect_err(case)
            .to_string();
        assert!(err.contains(says), "{case}: `{says}` not in: {err}");
        assert_eq!(
            snapshot_tree(dir.path()),
            before,
            "{case}: something changed"
        );
    }
}

fn write_output_static(target: &Path, kind: OutputKind) {
    write_output(target, kind, &[("summary.json", "{}")]);
}

/// Every path and file content below `dir`.
fn snapshot_tree(dir: &Path) -> Vec<(String, Vec<u8>)> {
    let mut out: Vec<(String, Vec<u8>)> = files_below(dir)
        .unwrap()
        .into_iter()
        .map(|f| {
            let bytes = std::fs::read(dir.join(&f)).unwrap_or_default();
            (f, bytes)
        })
        .collect();
    out.sort();
    out
}

#[test]
fn paths_that_name_no_folder_are_refused() {
    for path in ["/", "/.."] {
        let err = OutputDir::prepare(Path::new(path), OutputKind::Run).unwrap_err();
        assert!(err.to_string().contains("names no folder"), "{path}: {err}");
    }
}

#[test]
fn an_empty_folder_is_filled() {
    let dir = tempfile::tempdir().unwrap();
    let target = dir.path().join("out");
    std::fs::create_dir(&target).unwrap();
    write_output(&target, OutputKind::Init, &[("ccp.toml", "")]);
    assert!(target.join("ccp.toml").exists());
}

#[test]
fn a_second_writer_is_refused_at_once_and_may_write_after_the_first() {
    let dir = tempfile::tempdir().unwrap();
    let target = dir.path().join("out");
    let first = OutputDir::prepare(&target, OutputKind::Run).unwrap();
    let err = OutputDir::prepare(&target, OutputKind::Run).unwrap_err();
    assert!(
        matches!(err, OutputError::Busy { .. }),
        "expected busy, got {err}"
    );
    drop(first);
    write_output(&target, OutputKind::Run, &[("summary.json", "{}")]);
}

#[test]
fn stale_staging_of_dead_writers_is_removed_and_user_folders_kept() {
    let dir = tempfile::tempdir().unwrap();
    let target = dir.path().join("out");
    // A dead writer's staging (marker present), an empty one (killed right
    // after mkdir), and a user's folder that merely looks alike.
    let dead = dir.path().join(".out.partial-999999");
    std::fs::create_dir_all(dead.join("new")).unwrap();
    std::fs::write(dead.join(STAGING_MARKER), "").unwrap();
    std::fs::create_dir(dir.path().join(".out.partial-999998")).unwrap();
    let users = dir.path().join(".out.partial-12");
    std::fs::create_dir(&users).unwrap();
    std::fs::write(users.join("thesis.tex"), "keep").unwrap();
    write_output(&target, OutputKind::Run, &[("summary.json", "{}")]);
    let mut left: Vec<String> = std::fs::read_dir(dir.path())
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    left.sort();
    assert_eq!(left, [".out.partial-12", "out"]);
}

#[test]
fn an_output_moved_aside_by_a_dead_writer_is_moved_back() {
    let dir = tempfile::tempdir().unwrap();
    let target = dir.path().join("out");
    write_output(&target, OutputKind::Run, &[("summary.json", "{\"old\":1}")]);
    // A two-rename swap that died between its renames.
    let dead = dir.path().join(".out.partial-999999");
    std::fs::create_dir_all(dead.join("new")).unwrap();
    std::fs::write(dead.join(STAGING_MARKER), "").unwrap();
    std::fs::rename(&target, dead.join("old")).unwrap();
    let out = OutputDir::prepare(&target, OutputKind::Run).unwrap();
    assert_eq!(
        std::fs::read_to_string(target.join("summary.json")).unwrap(),
        "{\"old\":1}"
    );
    drop(out);
}

#[test]
fn single_files_replace_only_their_own_kind() {
    let dir = tempfile::tempdir().unwrap();
    let target = dir.path().join("worst.toml");
    let kind = OutputKind::WorstWindow;
    let write = |target: &Path| OutputFile::prepare(target, kind)?.write("name = \"w\"\n");
    write(&target).unwrap();
    write(&target).unwrap();
    assert_eq!(
        std::fs::read_to_string(&target).unwrap(),
        format!("{}\nname = \"w\"\n", file_marker(kind))
    );
    let users = dir.path().join("mine.toml");
    std::fs::write(&users, "name = \"mine\"\n").unwrap();
    let err = write(&users).unwrap_err();
    assert!(err
        .to_string()
        .contains("not a scenario file written by clearstress"));
    assert_eq!(
        std::fs::read_to_string(&users).unwrap(),
        "name = \"mine\"\n"
    );
    let mut left: Vec<String> = std::fs::read_dir(dir.path())
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    left.sort();
    assert_eq!(left, ["mine.toml", "worst.toml"]);
}

#[test]
fn an_html_file_is_ours_by_the_generator_meta_in_its_head_only() {
    let ours = format!("<!DOCTYPE html><html><head>{}</head>", html_generator());
    assert!(FileMarker::HtmlGenerator.recognises(ours.as_bytes()));
    let foreign = "<!DOCTYPE html><html><head><meta name=\"generator\" content=\"hugo\">";
    assert!(!FileMarker::HtmlGenerator.recognises(foreign.as_bytes()));
    // Quoted deep in a page of the user's (a page about clearstress, say), it
    // does not make the page ours.
    let quoted = format!(
        "<html><body>{}{}</body>",
        " ".repeat(2048),
        html_generator()
    );
    assert!(!FileMarker::HtmlGenerator.recognises(quoted.as_bytes()));
}

#[test]
fn files_written_together_go_into_place_in_order_and_leave_nothing_beside() {
    let dir = tempfile::tempdir().unwrap();
    let (csv, html) = (dir.path().join("q.pqd.csv"), dir.path().join("q.html"));
    let files = [
        (csv.as_path(), FileMarker::FirstLine(OutputKind::Report)),
        (html.as_path(), FileMarker::HtmlGenerator),
    ];
    let marked_csv = format!("{}\na,b\n", file_marker(OutputKind::Report));
    let marked_html = format!("<html><head>{}</head></html>", html_generator());
    let written = OutputFiles::prepare(&files, OutputKind::Report)
        .unwrap()
        .write(&[&marked_csv, &marked_html])
        .unwrap();
    assert_eq!(written, [csv.clone(), html.clone()]);
    assert_eq!(std::fs::read_to_string(&csv).unwrap(), marked_csv);
    assert_eq!(std::fs::read_to_string(&html).unwrap(), marked_html);
    // Nothing but the two remains beside them: no staging, no lock.
    assert_eq!(std::fs::read_dir(dir.path()).unwrap().count(), 2);
    // A second writer while the first holds them is refused at once.
    let first = OutputFiles::prepare(&files, OutputKind::Report).unwrap();
    let err = OutputFiles::prepare(&files, OutputKind::Report).unwrap_err();
    assert!(
        err.to_string().contains("another clearstress process"),
        "{err}"
    );
    drop(first);
}
