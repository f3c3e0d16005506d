//! End-of-day prices for `settle` in the tests: a book's assets table with
//! its spots moved. Included with `#[path]`.

// Each test crate uses the part it needs.
#![allow(dead_code)]

use std::fs;
use std::path::Path;

/// The assets table `book` holds with every spot multiplied by
/// 1 + 0.03 (i mod 5 - 2) (i: the row), dropping the rows `drop` names.
pub fn moved_assets(book: &Path, drop: &[&str]) -> String {
    let assets = fs::read_to_string(book.join("market/assets.csv")).unwrap();
    let mut lines = assets.lines();
    let mut out = format!("{}\n", lines.next().unwrap());
    for (i, line) in lines.enumerate() {
        let mut cells: Vec<String> = line.split(',').map(str::to_string).collect();
        if drop.contains(&cells[0].as_str()) {
            continue;
        }
        let spot: f64 = cells[2].parse().unwrap();
        cells[2] = format!("{}", spot * (1.0 + 0.03 * ((i % 5) as f64 - 2.0)));
        out.push_str(&cells.join(","));
        out.push('\n');
    }
    out
}
