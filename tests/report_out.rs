//! `clearstress report --out NAME.html`: the report written to exactly that
//! file and its PQD table beside it as `NAME.pqd.csv`, the CSV renamed into
//! place first and the HTML, which names the CSV's SHA-256, last. An earlier
//! clearstress report there is replaced; a file that is not one (recognised
//! by the HTML's generator `<meta>` and the CSV's marker line) is refused
//! naming it, as is a folder that does not exist or is a clearstress output
//! (whose manifest the files would break), and nothing is written.

use std::path::{Path, PathBuf};
use std::process::Output;

#[path = "common/binary.rs"]
mod binary;
#[path = "common/listing.rs"]
mod listing;
#[path = "common/machine.rs"]
mod machine;
#[path = "common/report.rs"]
mod report_files;

use binary::clearstress;
use listing::entries;
use report_files::{html_pqd_rows, pqd_csv_rows, sample_run, sample_run_into, text};

fn report_to(run: &Path, out: &Path, extra: &[&str]) -> Output {
    let mut args = vec![
        "report",
        run.to_str().unwrap(),
        "--out",
        out.to_str().unwrap(),
    ];
    args.extend(extra);
    clearstress(&args)
}

/// `o` failed (status 1) naming `path` and saying `says` on stderr.
fn assert_refused(o: &Output, path: &Path, says: &str) {
    let stderr = text(&o.stderr);
    assert_eq!(o.status.code(), Some(1), "{stderr}");
    assert!(stderr.contains(path.to_str().unwrap()), "{stderr}");
    assert!(stderr.contains(says), "{says}: {stderr}");
}

/// The report at `html` and its PQD table: the HTML carries the generator
/// `<meta>`, names the run folder, and holds the CSV's rows.
fn assert_report_pair(html: &Path, pqd: &Path, run: &Path) {
    let page = std::fs::read_to_string(html).unwrap();
    assert!(page.contains(&format!(
        "<meta name=\"generator\" content=\"clearstress {}\">",
        env!("CARGO_PKG_VERSION")
    )));
    assert!(page.contains(&format!("<code>{}</code>", run.display())));
    assert_eq!(pqd_csv_rows(pqd, &page), html_pqd_rows(&page));
}

#[test]
fn an_html_path_gets_the_report_there_and_its_pqd_table_beside_it() {
    let dir = tempfile::tempdir().unwrap();
    let run = sample_run(dir.path());
    let html = dir.path().join("q3.html");
    let pqd = dir.path().join("q3.pqd.csv");
    let o = report_to(&run, &html, &[]);
    assert!(o.status.success(), "{}", text(&o.stderr));
    assert_eq!(
        text(&o.stdout),
        format!("report: {}\nPQD table: {}\n", html.display(), pqd.display())
    );
    assert_report_pair(&html, &pqd, &run);
    // The two files and nothing else: no manifest, lock or staging left.
    assert_eq!(entries(dir.path()), ["q3.html", "q3.pqd.csv", "run"]);

    // --quiet prints the report's path; `.HTML` is an HTML path too.
    let upper = dir.path().join("Q4.HTML");
    let o = report_to(&run, &upper, &["--quiet"]);
    assert!(o.status.success(), "{}", text(&o.stderr));
    assert_eq!(text(&o.stdout).trim(), upper.to_str().unwrap());
    assert_report_pair(&upper, &dir.path().join("Q4.pqd.csv"), &run);
}

#[test]
fn an_earlier_report_at_the_path_is_replaced_with_its_table() {
    let dir = tempfile::tempdir().unwrap();
    let first = sample_run(dir.path());
    let second: PathBuf = sample_run_into(&dir.path().join("second"), &["--seed", "7"]);
    let html = dir.path().join("q3.html");
    let pqd = dir.path().join("q3.pqd.csv");
    assert!(report_to(&first, &html, &[]).status.success());
    let earlier = std::fs::read(&pqd).unwrap();

    let o = report_to(&second, &html, &[]);
    assert!(o.status.success(), "{}", text(&o.stderr));
    assert_report_pair(&html, &pqd, &second);
    assert_ne!(
        std::fs::read(&pqd).unwrap(),
        earlier,
        "the table was not replaced"
    );
    assert_eq!(
        entries(dir.path()),
        ["q3.html", "q3.pqd.csv", "run", "second"]
    );
}

#[test]
fn a_file_at_the_path_that_is_not_a_report_is_refused_untouched() {
    let dir = tempfile::tempdir().unwrap();
    let run = sample_run(dir.path());
    let html = dir.path().join("notes.html");
    let mine = "<!DOCTYPE html><html><head><title>my notes</title></head></html>\n";
    std::fs::write(&html, mine).unwrap();
    let o = report_to(&run, &html, &[]);
    assert_refused(&o, &html, "is not a report written by clearstress report");
    assert_eq!(std::fs::read_to_string(&html).unwrap(), mine);
    assert_eq!(entries(dir.path()), ["notes.html", "run"]);
}

#[test]
fn a_pqd_table_beside_it_that_is_not_ours_is_refused_untouched() {
    let dir = tempfile::tempdir().unwrap();
    let run = sample_run(dir.path());
    let html = dir.path().join("q3.html");
    let pqd = dir.path().join("q3.pqd.csv");
    // Even beside an earlier report of ours: the table is the user's now.
    assert!(report_to(&run, &html, &[]).status.success());
    let report_before = std::fs::read(&html).unwrap();
    let mine = "field_id,description,value,unit\n4.1,edited by hand,1,USD\n";
    std::fs::write(&pqd, mine).unwrap();
    let o = report_to(&run, &html, &[]);
    assert_refused(&o, &pqd, "is not a PQD table written by clearstress report");
    assert_eq!(std::fs::read_to_string(&pqd).unwrap(), mine);
    assert_eq!(std::fs::read(&html).unwrap(), report_before);
    assert_eq!(entries(dir.path()), ["q3.html", "q3.pqd.csv", "run"]);
}

#[test]
fn a_folder_that_does_not_exist_is_refused_and_not_made() {
    let dir = tempfile::tempdir().unwrap();
    let run = sample_run(dir.path());
    let missing = dir.path().join("reports");
    let html = missing.join("q3.html");
    let o = report_to(&run, &html, &[]);
    assert_refused(&o, &html, "does not exist");
    assert!(text(&o.stderr).contains(missing.to_str().unwrap()));
    assert!(!missing.exists());
    assert_eq!(entries(dir.path()), ["run"]);
}

#[test]
fn a_path_inside_a_clearstress_output_folder_is_refused_leaving_it_whole() {
    let dir = tempfile::tempdir().unwrap();
    let run = sample_run(dir.path());
    let before = entries(&run);
    let html = run.join("q3.html");
    let o = report_to(&run, &html, &[]);
    assert_refused(
        &o,
        &html,
        "a clearstress run output, whose manifest.json would no longer match",
    );
    assert_eq!(entries(&run), before);
    // The run folder still checks out: a report of it into a folder works.
    let o = report_to(&run, &dir.path().join("report"), &["--quiet"]);
    assert!(o.status.success(), "{}", text(&o.stderr));
}
