//! What the worst-window search prints, and the scenario file it writes.

use std::fmt::Write;

use crate::analysis::worst_window::WorstWindows;
use crate::report::money;
use crate::snapshot::{stress_scenario_toml, MarketData};

pub fn terminal(w: &WorstWindows) -> String {
    let mut out = String::new();
    let n = w.cover;
    let _ = writeln!(
        out,
        "worst distinct {}-day windows of {} for this book ({} searched), by Cover-{n}: the \
         uncovered loss (loss beyond collateral after haircuts) of the {n} largest affiliate groups",
        w.days, w.history, w.searched
    );
    let _ = writeln!(
        out,
        "\n{:<32} {:>16} {:>16}  groups",
        "window",
        format!("Cover-{n}"),
        "all members"
    );
    for loss in &w.worst {
        let groups: Vec<String> = loss
            .groups
            .iter()
            .map(|(g, x)| format!("{g} ({})", money(*x)))
            .collect();
        let _ = writeln!(
            out,
            "{:<32} {:>16} {:>16}  {}",
            loss.window.scenario.name,
            money(loss.cover_n),
            money(loss.uncovered_total),
            groups.join(" + ")
        );
    }
    out
}

/// The worst window as a stress scenario file (`run --scenarios` takes it).
pub fn scenario_file(w: &WorstWindows, market: &MarketData) -> Option<String> {
    let worst = w.worst.first()?;
    let title = format!(
        "The worst {}-day window of {} for this book",
        w.days, w.history
    );
    Some(stress_scenario_toml(&title, &worst.window.scenario, market))
}
