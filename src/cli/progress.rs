//! Progress on the terminal: a bar over the scenarios a command draws, or a
//! spinner for work that is not counted in scenarios. Hidden with --quiet or
//! when stderr is not a terminal.

use std::io::IsTerminal;
use std::time::Duration;

use indicatif::{HumanCount, ProgressBar, ProgressState, ProgressStyle};

fn shown(quiet: bool) -> bool {
    !quiet && std::io::stderr().is_terminal()
}

/// A bar over `total` scenarios, labelled `what`.
pub fn scenarios(total: u64, what: &str, quiet: bool) -> ProgressBar {
    if !shown(quiet) {
        return ProgressBar::hidden();
    }
    let bar = ProgressBar::new(total);
    if let Ok(style) = ProgressStyle::with_template(
        "{spinner} {msg} {human_pos}/{human_len} scenarios [{bar:40}] {rate} eta {eta}",
    ) {
        // Whole scenarios per second, grouped: indicatif's {per_sec} prints
        // four decimals.
        let rate = |state: &ProgressState, w: &mut dyn std::fmt::Write| {
            let _ = write!(w, "{}/s", HumanCount(state.per_sec() as u64));
        };
        bar.set_style(style.with_key("rate", rate).progress_chars("=> "));
    }
    bar.set_message(what.to_string());
    bar
}

/// A spinner saying `what` is under way.
pub fn spinner(what: &str, quiet: bool) -> ProgressBar {
    if !shown(quiet) {
        return ProgressBar::hidden();
    }
    let bar = ProgressBar::new_spinner();
    if let Ok(style) = ProgressStyle::with_template("{spinner} {msg} {elapsed}") {
        bar.set_style(style);
    }
    bar.set_message(what.to_string());
    bar.enable_steady_tick(Duration::from_millis(120));
    bar
}
