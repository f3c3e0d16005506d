//! Everything a user reads: the run's outputs (Parquet tables, `summary.json`,
//! the manifest, the terminal summary: [`run`]), each analysis's outputs and
//! terminal view, written into output folders through the one safe writer
//! ([`OutputDir`]).

mod analysis;
pub mod html;
mod output;
mod parquet;
mod run;

use std::path::Path;

use serde_json::Value;

pub use analysis::{
    backtest, calibration, compare, haircuts, margin_history, settlement, worst_window,
};
pub use output::{
    fault_point, FileMarker, OutputDir, OutputError, OutputFile, OutputFiles, OutputKind, Step,
};
pub use parquet::{Column, OutputTable};
pub use run::{
    inputs_json, scenario_model_name, summary_json, tables, terminal_summary, write_outputs,
    RunContext, RunReport,
};

#[derive(Debug, thiserror::Error)]
pub enum ReportError {
    #[error("{path}: {source}")]
    Io {
        path: String,
        #[source]
        source: std::io::Error,
    },
    #[error("{path}: cannot write Parquet: {source}")]
    Parquet {
        path: String,
        #[source]
        source: ::parquet::errors::ParquetError,
    },
    #[error("{path}: column `{column}` row {row} is {value}, not a finite number; no result is written with one")]
    NonFinite {
        path: String,
        column: String,
        row: usize,
        value: f64,
    },
    #[error(transparent)]
    Output(#[from] OutputError),
    #[error(transparent)]
    RunFolder(#[from] html::RunFolderError),
}

/// Column-name form of a confidence: 0.99 -> "99", 0.995 -> "99_5".
pub fn confidence_label(confidence: f64) -> String {
    let percent = (confidence * 1e4).round() / 100.0;
    format!("{percent}").replace('.', "_")
}

/// A JSON object's fields (empty for anything else).
pub fn object(value: Value) -> serde_json::Map<String, Value> {
    match value {
        Value::Object(map) => map,
        _ => serde_json::Map::new(),
    }
}

/// Writes `value` as pretty JSON with a final newline.
pub fn write_json(path: &Path, value: &Value) -> Result<(), ReportError> {
    write_text(
        path,
        &(serde_json::to_string_pretty(value).unwrap_or_default() + "\n"),
    )
}

/// Writes `text` to `path` (inside an output's staging folder).
pub fn write_text(path: &Path, text: &str) -> Result<(), ReportError> {
    std::fs::write(path, text).map_err(|source| ReportError::Io {
        path: path.display().to_string(),
        source,
    })
}

/// "1 member", "3 members".
pub fn plural(n: usize, one: &str, many: &str) -> String {
    format!("{n} {}", if n == 1 { one } else { many })
}

/// USD with thousands separators, no cents.
pub fn money(x: f64) -> String {
    let negative = x < 0.0;
    let digits = format!("{:.0}", x.abs());
    let mut out = String::new();
    for (i, c) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i) % 3 == 0 {
            out.push(',');
        }
        out.push(c);
    }
    if negative && digits != "0" {
        format!("-{out}")
    } else {
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn confidence_labels_are_column_safe() {
        assert_eq!(confidence_label(0.99), "99");
        assert_eq!(confidence_label(0.995), "99_5");
        assert_eq!(confidence_label(0.975), "97_5");
    }

    #[test]
    fn money_groups_thousands() {
        assert_eq!(money(1_234_567.4), "1,234,567");
        assert_eq!(money(-999.6), "-1,000");
        assert_eq!(money(0.2), "0");
    }
}
