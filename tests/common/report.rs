//! What the report tests share: the sample run they report on, and the
//! report's HTML and PQD CSV read back as rows of text. Included with
//! `#[path]` beside `binary.rs`.

// Each test crate uses the part it needs.
#![allow(dead_code)]

use std::path::{Path, PathBuf};

use serde_json::Value;

use crate::binary::clearstress;

pub fn text(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).into_owned()
}

pub fn json(path: &Path) -> Value {
    serde_json::from_slice(&std::fs::read(path).unwrap()).unwrap()
}

/// A quiet 2,000-path CPU run of the embedded sample into `dir/run`.
pub fn sample_run(dir: &Path) -> PathBuf {
    sample_run_into(&dir.join("run"), &[])
}

/// [`sample_run`] into `out`, with `extra` flags.
pub fn sample_run_into(out: &Path, extra: &[&str]) -> PathBuf {
    let mut args = vec!["run", "--backend", "cpu", "--paths", "2000", "--quiet"];
    args.extend(extra);
    args.extend(["--out", out.to_str().unwrap()]);
    let o = clearstress(&args);
    assert!(o.status.success(), "{}", text(&o.stderr));
    out.to_path_buf()
}

pub fn unescape(cell: &str) -> String {
    cell.replace("&lt;", "<")
        .replace("&gt;", ">")
        .replace("&quot;", "\"")
        .replace("&#39;", "'")
        .replace("&amp;", "&")
}

/// The rows of the HTML's PQD table, each as its cells' text.
pub fn html_pqd_rows(html: &str) -> Vec<Vec<String>> {
    html_rows(html, "<table class=\"pqd\">")
}

/// The rows of the first table from `marker` on, each as its cells' text
/// (numeric cells included).
pub fn html_rows(html: &str, marker: &str) -> Vec<Vec<String>> {
    let start = html.find(marker).unwrap_or_else(|| panic!("no {marker}"));
    let table = &html[start..start + html[start..].find("</table>").unwrap()];
    let body = &table[table.find("<tbody>").unwrap()..];
    body.split("<tr")
        .skip(1)
        .map(|row| {
            row.split("<td")
                .skip(1)
                .map(|cell| {
                    let inner = &cell[cell.find('>').unwrap() + 1..cell.find("</td>").unwrap()];
                    unescape(inner)
                })
                .collect()
        })
        .collect()
}

/// A CSV line's fields, quotes undone.
fn csv_fields(line: &str) -> Vec<String> {
    let mut fields = vec![String::new()];
    let mut quoted = false;
    let mut chars = line.chars().peekable();
    while let Some(c) = chars.next() {
        match (c, quoted) {
            ('"', true) if chars.peek() == Some(&'"') => {
                chars.next();
                fields.last_mut().unwrap().push('"');
            }
            ('"', _) => quoted = !quoted,
            (',', false) => fields.push(String::new()),
            _ => fields.last_mut().unwrap().push(c),
        }
    }
    fields
}

/// The PQD table at `csv`, written with the report `html`: its marker line,
/// its header, and its SHA-256 the one the report names; its rows, each as
/// its fields.
pub fn pqd_csv_rows(csv: &Path, html: &str) -> Vec<Vec<String>> {
    let bytes = std::fs::read(csv).unwrap();
    let sha256 = clearstress::input::sha256_hex(&bytes);
    assert!(
        html.contains(&format!(
            "<meta name=\"clearstress-pqd-csv-sha256\" content=\"{sha256}\">"
        )),
        "the report does not name {}'s SHA-256 {sha256}",
        csv.display()
    );
    let text = text(&bytes);
    let mut lines = text.lines();
    assert_eq!(lines.next(), Some("# Written by clearstress report"));
    assert_eq!(lines.next(), Some("field_id,description,value,unit"));
    lines.map(csv_fields).collect()
}
