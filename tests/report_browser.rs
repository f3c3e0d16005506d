//! The HTML report in a real browser: Debian's chromium renders the report of
//! a run of the embedded sample, with margin through history from a small
//! `procyclicality` study (its line chart), headless, as a screenshot and as
//! a printed PDF. The render must succeed, the PDF must hold a page per section or
//! more (the print stylesheet breaks the page before each), and the
//! screenshot must show a page of text and tables, not a blank one. Without
//! chromium the test skips, saying so, unless CI=true promises it
//! (tests/common/machine.rs; `.ci/run` installs it).

#[path = "common/binary.rs"]
mod binary;
#[path = "common/machine.rs"]
mod machine;

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use binary::clearstress;
use machine::Need;

/// Sections of the report, each on its own printed page at least:
/// provenance, the model, initial margin, stress scenarios, default fund,
/// default management, margin through history, PQD table.
const SECTIONS: usize = 8;

/// chromium, or why not.
fn chromium() -> Result<PathBuf, String> {
    let found = Command::new("chromium").arg("--version").output();
    match found {
        Ok(o) if o.status.success() => Ok(PathBuf::from("chromium")),
        Ok(o) => Err(format!(
            "chromium --version failed: {}",
            String::from_utf8_lossy(&o.stderr)
        )),
        Err(e) => Err(format!("no chromium on PATH: {e}")),
    }
}

/// Renders `html` headless with `flag` (`--screenshot=...`, `--print-to-pdf=...`).
fn render(browser: &Path, html: &Path, flag: String, profile: &Path) -> Output {
    Command::new(browser)
        .args([
            "--headless",
            "--no-sandbox",
            "--disable-gpu",
            "--no-pdf-header-footer",
            "--window-size=1200,1600",
        ])
        .arg(format!("--user-data-dir={}", profile.display()))
        .arg(flag)
        .arg(format!("file://{}", html.display()))
        .output()
        .expect("chromium runs")
}

/// The pages of a PDF: its page objects (`/Type /Page`, not `/Pages`).
fn pdf_pages(pdf: &[u8]) -> usize {
    let needle = b"/Type";
    let mut pages = 0;
    for (at, _) in pdf
        .windows(needle.len())
        .enumerate()
        .filter(|(_, w)| w == needle)
    {
        let rest = &pdf[at + needle.len()..];
        let rest = &rest[rest.iter().take_while(|b| b.is_ascii_whitespace()).count()..];
        if rest.starts_with(b"/Page") && !rest.starts_with(b"/Pages") {
            pages += 1;
        }
    }
    pages
}

/// Width, height and the share of pixels that are not (near) white.
fn ink(png_bytes: &[u8]) -> (u32, u32, f64) {
    let decoder = png::Decoder::new(std::io::Cursor::new(png_bytes));
    let mut reader = decoder.read_info().expect("a PNG");
    let mut pixels = vec![0; reader.output_buffer_size().expect("a frame size")];
    let info = reader.next_frame(&mut pixels).expect("a frame");
    let channels = info.color_type.samples();
    let frame = &pixels[..info.line_size * info.height as usize];
    let inked = frame
        .chunks_exact(channels)
        .filter(|p| p.iter().take(3).any(|&c| c < 200))
        .count();
    let total = (info.width * info.height) as f64;
    (info.width, info.height, inked as f64 / total)
}

#[test]
fn the_report_renders_in_a_real_browser_as_pages_of_text_and_tables() {
    let browser = match chromium() {
        Ok(b) => b,
        Err(why) => return machine::missing(Need::Browser, "report in a browser", &why),
    };
    let dir = tempfile::tempdir().unwrap();
    let (run, report) = (dir.path().join("run"), dir.path().join("report"));
    let ran = clearstress(&[
        "run",
        "--paths",
        "2000",
        "--backend",
        "cpu",
        "--quiet",
        "--out",
        run.to_str().unwrap(),
    ]);
    assert!(
        ran.status.success(),
        "{}",
        String::from_utf8_lossy(&ran.stderr)
    );
    // Seven margin dates of an `init --assets 10` book at 1,000 paths.
    let (book, apc) = (dir.path().join("book"), dir.path().join("apc"));
    let history = machine::daily_closes();
    for args in [
        vec!["init", "--out", book.to_str().unwrap(), "--assets", "10"],
        vec![
            "procyclicality",
            "--history",
            history.to_str().unwrap(),
            "--book",
            book.to_str().unwrap(),
            "--from",
            "2022-04-01",
            "--to",
            "2022-07-01",
            "--every",
            "14",
            "--paths",
            "1000",
            "--backend",
            "cpu",
            "--quiet",
            "--out",
            apc.to_str().unwrap(),
        ],
    ] {
        let o = clearstress(&args);
        assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    }
    let reported = clearstress(&[
        "report",
        run.to_str().unwrap(),
        "--history-run",
        apc.to_str().unwrap(),
        "--quiet",
        "--out",
        report.to_str().unwrap(),
    ]);
    assert!(
        reported.status.success(),
        "{}",
        String::from_utf8_lossy(&reported.stderr)
    );
    let html = report.join("report.html");
    let (shot, pdf) = (dir.path().join("shot.png"), dir.path().join("report.pdf"));
    let profile = dir.path().join("profile");

    let o = render(
        &browser,
        &html,
        format!("--screenshot={}", shot.display()),
        &profile,
    );
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    let (width, height, inked) = ink(&std::fs::read(&shot).expect("a screenshot"));
    assert_eq!((width, height), (1200, 1600));
    // Text, rules and table borders, on a white page: measured 3-10%.
    assert!(
        (0.01..0.5).contains(&inked),
        "{:.1}% of the screenshot is inked: blank or unstyled",
        100.0 * inked
    );

    let o = render(
        &browser,
        &html,
        format!("--print-to-pdf={}", pdf.display()),
        &profile,
    );
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    let pages = pdf_pages(&std::fs::read(&pdf).expect("a PDF"));
    assert!(
        pages >= SECTIONS,
        "{pages} printed pages for {SECTIONS} sections"
    );
    eprintln!(
        "report in chromium: {pages} A4 pages; {:.1}% of a 1200x1600 screenshot inked",
        100.0 * inked
    );
}
