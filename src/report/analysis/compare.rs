//! What the model comparison prints and writes.
//!
//! | file | one row per | columns |
//! |---|---|---|
//! | `margins_by_model.parquet` | member | member_id, then one column per model (e.g. gaussian, student_t_4, nig_0.7, fhs, configured, apc_buffer_25) |

use std::fmt::Write;
use std::path::Path;

use crate::analysis::compare::Comparison;
use crate::report::{confidence_label, money, OutputTable, ReportError};
use crate::snapshot::{MarginMeasure, Snapshot};

/// Members listed in the terminal, by the first model's margin.
const LISTED: usize = 10;

pub fn write(dir: &Path, c: &Comparison, snapshot: &Snapshot) -> Result<(), ReportError> {
    let mut table = OutputTable::default().text(
        "member_id",
        snapshot.members.iter().map(|m| m.id.clone()).collect(),
    );
    for model in &c.models {
        table = table.number(&model.name, model.margins.clone());
    }
    table.write_parquet(&dir.join("margins_by_model.parquet"))
}

pub fn terminal(c: &Comparison, snapshot: &Snapshot) -> String {
    let mut out = String::new();
    let risk = &snapshot.config.risk;
    for (name, why) in &c.not_computed {
        let _ = writeln!(out, "{name}: not computed: {why}");
    }
    let _ = writeln!(
        out,
        "initial margin (USD) by scenario model, {} paths, seed {}, {} {}% (members by the first model's margin):\n",
        snapshot.config.scenario.paths,
        snapshot.config.scenario.seed,
        match risk.margin_measure {
            MarginMeasure::ValueAtRisk => "VaR",
            MarginMeasure::ExpectedShortfall => "ES",
        },
        confidence_label(risk.margin_confidence).replace('_', ".")
    );
    let _ = write!(out, "{:<10}", "member");
    for m in &c.models {
        let _ = write!(out, " {:>24}", m.name);
    }
    let _ = writeln!(out);
    let Some(first) = c.models.first() else {
        return out;
    };
    let mut order: Vec<usize> = (0..snapshot.members.len()).collect();
    order.sort_by(|&a, &b| {
        first.margins[b]
            .total_cmp(&first.margins[a])
            .then(a.cmp(&b))
    });
    for &m in order.iter().take(LISTED) {
        let _ = write!(out, "{:<10}", snapshot.members[m].id);
        for model in &c.models {
            let _ = write!(out, " {:>24}", money(model.margins[m]));
        }
        let _ = writeln!(out);
    }
    let _ = write!(out, "{:<10}", "total");
    for model in &c.models {
        let _ = write!(out, " {:>24}", money(model.margins.iter().sum()));
    }
    let _ = writeln!(out);
    out
}
