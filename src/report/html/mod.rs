//! `clearstress report`: one self-contained HTML file a regulator or a risk
//! committee can read offline and print, and the PQD-style table as
//! `pqd.csv`, both rendered from a run folder's outputs (`manifest.json` and
//! `summary.json`, checked against the manifest's hashes first: one source of
//! truth, nothing recomputed).
//!
//! Inline CSS (with an A4 print stylesheet, a page per section), charts as
//! inline SVG ([`svg`]), no script and no external resource. One file per
//! section: [`provenance`] (what was run and how to reproduce it), [`model`], [`margin`],
//! [`collateral`] (with `--haircuts`, the calibrated schedule: [`haircuts_folder`]),
//! [`stress`], [`default_fund`], [`default_management`], [`backtesting`] (with `--backtest`, from a
//! backtest folder checked as the run folder is: [`backtest_folder`]),
//! [`margin_history`] (with `--history-run`, from a procyclicality folder
//! checked the same way: [`history_folder`]), [`clearing_day`] (with
//! `--settlement`, from `settle` folders: [`settlement_folder`]), [`pqd`].

mod backtest_folder;
mod backtesting;
mod checked_folder;
mod clearing_day;
mod collateral;
mod default_fund;
mod default_management;
mod haircuts_folder;
mod history_folder;
mod margin;
mod margin_history;
pub mod model;
pub mod pqd;
mod provenance;
mod run_folder;
mod run_tables;
mod settlement_folder;
mod stress;
pub mod svg;

use std::path::{Path, PathBuf};

use serde_json::{json, Map, Value};

pub use backtest_folder::BacktestFolder;
pub use haircuts_folder::HaircutsFolder;
pub use history_folder::HistoryFolder;
pub use run_folder::{RunFolder, RunFolderError};
pub use settlement_folder::SettlementFolders;

use super::output::{html_generator, FileMarker, OutputFiles};
use super::{money, write_text, OutputDir, OutputError, OutputKind, ReportError};
use crate::input::sha256_hex;

/// The report's file names inside its output folder.
pub const HTML_FILE: &str = "report.html";
pub const PQD_FILE: &str = "pqd.csv";

/// What follows the stem of a report file for its PQD table beside it:
/// `q3.html` has `q3.pqd.csv`.
const PQD_SUFFIX: &str = ".pqd.csv";

/// `text` with HTML's special characters escaped.
pub fn escape(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            _ => out.push(c),
        }
    }
    out
}

/// A whole number with thousands separators.
pub fn count(n: u64) -> String {
    money(n as f64)
}

/// A probability as a percentage, without the sign: 0.99 -> "99", 0.995 -> "99.5".
pub fn percent(p: f64) -> String {
    let rounded = (p * 1e6).round() / 1e4;
    format!("{rounded}")
}

/// A two-cell row: a label and an amount with its unit.
fn amount_row(label: &str, amount: f64, unit: &str) -> Vec<String> {
    vec![escape(label), format!("{} {}", money(amount), escape(unit))]
}

/// A table: header cells, then rows of cells already escaped; cells whose
/// header is in `numeric` are right-aligned.
fn table(headers: &[&str], numeric: &[&str], rows: &[Vec<String>]) -> String {
    let class = |h: &str| {
        if numeric.contains(&h) {
            " class=\"num\""
        } else {
            ""
        }
    };
    let mut out = String::from("<table><thead><tr>");
    for h in headers {
        out.push_str(&format!("<th{}>{}</th>", class(h), escape(h)));
    }
    out.push_str("</tr></thead><tbody>");
    for row in rows {
        out.push_str("<tr>");
        for (h, cell) in headers.iter().zip(row) {
            out.push_str(&format!("<td{}>{cell}</td>", class(h)));
        }
        out.push_str("</tr>");
    }
    out.push_str("</tbody></table>");
    out
}

const STYLE: &str = "
body { font-family: sans-serif; font-size: 10.5pt; color: #111; max-width: 60em; margin: 2em auto; padding: 0 1em; }
h1 { font-size: 18pt; margin-bottom: 0.2em; }
h2 { font-size: 14pt; border-bottom: 1px solid #444; padding-bottom: 0.2em; margin-top: 2em; }
table { border-collapse: collapse; margin: 0.8em 0; width: 100%; }
th, td { border: 1px solid #999; padding: 0.25em 0.5em; text-align: left; vertical-align: top; }
th { background: #eee; }
td.num, th.num { text-align: right; font-variant-numeric: tabular-nums; white-space: nowrap; }
tr.not-computed td { color: #555; font-style: italic; }
p.warning { border-left: 4px solid #b00; padding-left: 0.6em; }
code { font-size: 9pt; word-break: break-all; }
figure { margin: 1em 0; page-break-inside: avoid; break-inside: avoid; }
figcaption { font-size: 9pt; color: #333; }
@media print {
  @page { size: A4; margin: 15mm; }
  body { max-width: none; margin: 0; padding: 0; font-size: 9.5pt; }
  section { break-before: page; page-break-before: always; }
  section:first-of-type, section.not-given { break-before: auto; page-break-before: auto; }
  tr, figure { break-inside: avoid; page-break-inside: avoid; }
}
";

/// A report rendered: the HTML document and the PQD table as CSV, written
/// together. The HTML names the CSV's SHA-256, so that a pair of files that
/// do not belong together can be told.
#[derive(Debug, Clone)]
pub struct Rendered {
    pub html: String,
    pub pqd_csv: String,
}

/// The folders a report reads beside its run folder, each checked against
/// its manifest when opened: a backtest (`--backtest`), a procyclicality
/// study (`--history-run`), settlements (`--settlement`) and a haircut
/// calibration (`--haircuts`).
#[derive(Debug, Clone, Copy, Default)]
pub struct Companions<'a> {
    pub backtest: Option<&'a BacktestFolder>,
    pub history: Option<&'a HistoryFolder>,
    pub settlement: Option<&'a SettlementFolders>,
    pub haircuts: Option<&'a HaircutsFolder>,
}

/// The whole report (with a backtesting section, margin through history and
/// the clearing day from the companion folders given) and its PQD table.
pub fn render(run: &RunFolder, with: &Companions) -> Rendered {
    let s = &run.summary;
    let rows = pqd::rows(run, with);
    let pqd_csv = pqd::csv(&rows);
    let pqd_sha256 = sha256_hex(pqd_csv.as_bytes());
    let mut out = format!(
        "<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">{}\
         <meta name=\"clearstress-pqd-csv-sha256\" content=\"{pqd_sha256}\">",
        html_generator()
    );
    out.push_str(&format!(
        "<title>clearstress report: {} margin and default fund, {}</title><style>{STYLE}</style></head><body>",
        escape(&s.currency),
        escape(&s.valuation_date)
    ));
    out.push_str(&format!(
        "<header><h1>Initial margin and default fund report</h1><p>Valuation date {}; {} members, \
         {} positions; amounts in {}. Every number is read from the run's outputs in <code>{}</code>.</p></header>",
        escape(&s.valuation_date),
        count(s.members),
        count(s.positions),
        escape(&s.currency),
        escape(&run.dir.display().to_string())
    ));
    out.push_str(&provenance::section(run));
    out.push_str(&model::section(run));
    out.push_str(&margin::section(run));
    out.push_str(&collateral::section(run, with.haircuts));
    out.push_str(&stress::section(run));
    out.push_str(&default_fund::section(run));
    out.push_str(&default_management::section(run));
    if let Some(bt) = with.backtest {
        out.push_str(&backtesting::section(bt));
    }
    out.push_str(
        &with
            .history
            .map_or_else(margin_history::not_given, margin_history::section),
    );
    out.push_str(&clearing_day::section(
        with.settlement.unwrap_or(&SettlementFolders::default()),
    ));
    out.push_str(&pqd::section(&rows, &pqd_sha256));
    out.push_str("</body></html>\n");
    Rendered { html: out, pqd_csv }
}

/// Writes `report.html` and `pqd.csv` for `run` (and its companions) into
/// `dir`: the one rendering both `clearstress report` and `run --report` use.
pub fn write_files(dir: &Path, run: &RunFolder, with: &Companions) -> Result<(), ReportError> {
    let rendered = render(run, with);
    write_text(&dir.join(HTML_FILE), &rendered.html)?;
    write_text(&dir.join(PQD_FILE), &rendered.pqd_csv)
}

/// Where `clearstress report` writes, checked and locked before the run
/// folder is read.
#[derive(Debug)]
pub enum ReportOutput {
    /// A folder: `report.html`, `pqd.csv` and a `manifest.json` naming the
    /// folders read, swapped into place whole.
    Folder(OutputDir),
    /// A report file (`--out NAME.html`) and its PQD table beside it,
    /// `NAME.pqd.csv`: the CSV is renamed into place first, the HTML last.
    Files {
        html: PathBuf,
        pqd: PathBuf,
        files: OutputFiles,
    },
}

impl ReportOutput {
    /// `out` as the user gave it: a path ending in `.html` names the report
    /// file itself; anything else names a folder.
    pub fn prepare(out: &Path) -> Result<Self, OutputError> {
        let is_html = out
            .extension()
            .is_some_and(|e| e.eq_ignore_ascii_case("html"));
        if !is_html {
            return Ok(Self::Folder(OutputDir::prepare(out, OutputKind::Report)?));
        }
        let stem = out.file_stem().unwrap_or_default().to_string_lossy();
        let pqd = out.with_file_name(format!("{stem}{PQD_SUFFIX}"));
        // The HTML last: it names the CSV's SHA-256, so a crash between the
        // two renames leaves the new CSV beside an HTML that names another,
        // never a pair that looks complete (methodology, 13a).
        let files = OutputFiles::prepare(
            &[
                (&pqd, FileMarker::FirstLine(OutputKind::Report)),
                (out, FileMarker::HtmlGenerator),
            ],
            OutputKind::Report,
        )?;
        Ok(Self::Files {
            html: out.to_path_buf(),
            pqd,
            files,
        })
    }
}

/// Where a report went: the folder or the HTML file as the user named it,
/// and its two files.
#[derive(Debug, Clone)]
pub struct WrittenReport {
    pub location: PathBuf,
    pub html: PathBuf,
    pub pqd: PathBuf,
}

/// Writes the report for `run` (and its companions) to `out` and puts it in
/// place; a folder also gets a `manifest.json` naming the folders read with
/// their manifests' SHA-256 (`command_line` among them).
pub fn write_report(
    out: ReportOutput,
    run: &RunFolder,
    with: &Companions,
    command_line: &[String],
) -> Result<WrittenReport, ReportError> {
    let out = match out {
        ReportOutput::Folder(out) => out,
        ReportOutput::Files { html, pqd, files } => {
            let rendered = render(run, with);
            files.write(&[&rendered.pqd_csv, &rendered.html])?;
            return Ok(WrittenReport {
                location: html.clone(),
                html,
                pqd,
            });
        }
    };
    write_files(&out.path(), run, with)?;
    let (backtest, history) = (with.backtest, with.history);
    let settlement = with.settlement.map(|s| {
        let day = s.day.iter().map(|d| (&d.dir, &d.manifest_sha256));
        let replay = s.replay.iter().map(|r| (&r.dir, &r.manifest_sha256));
        day.chain(replay)
            .map(|(dir, sha256)| json!({"folder": dir.display().to_string(), "manifest_sha256": sha256}))
            .collect::<Vec<_>>()
    });
    let fields = json!({
        "command_line": command_line,
        "run": run.dir.display().to_string(),
        "run_manifest_sha256": run.manifest_sha256,
        "backtest": backtest.map(|b| b.dir.display().to_string()),
        "backtest_manifest_sha256": backtest.map(|b| b.manifest_sha256.clone()),
        "history_run": history.map(|h| h.dir.display().to_string()),
        "history_run_manifest_sha256": history.map(|h| h.manifest_sha256.clone()),
        "settlement": settlement.unwrap_or_default(),
        "haircuts": with.haircuts.map(|h| h.dir.display().to_string()),
        "haircuts_manifest_sha256": with.haircuts.map(|h| h.manifest_sha256.clone()),
    });
    let fields: Map<String, Value> = super::object(fields);
    let folder = out.commit(fields)?;
    Ok(WrittenReport {
        html: folder.join(HTML_FILE),
        pqd: folder.join(PQD_FILE),
        location: folder,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn escaping_covers_markup_and_attributes() {
        assert_eq!(
            escape(r#"<a href="x">&'"#),
            "&lt;a href=&quot;x&quot;&gt;&amp;&#39;"
        );
    }

    #[test]
    fn percentages_keep_the_digits_they_have() {
        assert_eq!(percent(0.99), "99");
        assert_eq!(percent(0.995), "99.5");
        assert_eq!(percent(0.9999), "99.99");
    }

    #[test]
    fn counts_group_thousands() {
        assert_eq!(count(20_000), "20,000");
        assert_eq!(count(7), "7");
    }
}
