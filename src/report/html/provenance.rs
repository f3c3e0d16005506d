//! What was run and how to reproduce it: version, command line, backend,
//! timings, the SHA-256 of every input and of every output read, from the
//! run's `manifest.json` and `summary.json` (the model, seed and paths are
//! the model section's).

use super::run_folder::RunFolder;
use super::{count, escape, table, HTML_FILE, PQD_FILE};

/// A file's row: its name and SHA-256.
fn hashed(name: &str, sha256: &str) -> Vec<String> {
    vec![escape(name), format!("<code>{}</code>", escape(sha256))]
}

pub fn section(run: &RunFolder) -> String {
    let (m, s) = (&run.manifest, &run.summary);
    let command = m
        .command_line
        .iter()
        .map(|a| escape(a))
        .collect::<Vec<_>>()
        .join(" ");
    let facts = [
        ("clearstress version", escape(&s.clearstress_version)),
        ("command line", format!("<code>{command}</code>")),
        ("valuation date", escape(&s.valuation_date)),
        ("random numbers", escape(&m.rng)),
        ("backend", escape(&m.backend)),
        ("threads", count(m.threads)),
        (
            "time: Monte Carlo / total",
            format!(
                "{:.2} s / {:.2} s ({} scenarios a second)",
                s.timings_seconds.monte_carlo,
                s.timings_seconds.total,
                count(s.timings_seconds.scenarios_per_second.round() as u64)
            ),
        ),
    ];
    let facts: Vec<Vec<String>> = facts.into_iter().map(|(k, v)| vec![escape(k), v]).collect();
    let inputs: Vec<Vec<String>> = m
        .inputs
        .iter()
        .map(|i| hashed(&i.name, &i.sha256))
        .collect();
    // The outputs the numbers are read from, not the report's own files: a
    // report written by `run --report` is listed in the manifest it cannot
    // hash itself into, so it shows these rather than the manifest's SHA-256.
    let outputs: Vec<Vec<String>> = m
        .outputs
        .iter()
        .filter(|o| o.file != HTML_FILE && o.file != PQD_FILE)
        .map(|o| hashed(&o.file, &o.sha256))
        .collect();
    format!(
        "<section id=\"provenance\"><h2>What was run and how to reproduce it</h2>\
         <p>The same command on the same inputs (identified by their SHA-256) with the same seed and \
         paths (under The model) reproduces these numbers on any backend (methodology, \
         \"Numerical reproducibility\").</p>\
         {}<h3>Inputs</h3>{}<h3>Outputs read</h3><p>The run's outputs with the SHA-256 \
         <code>manifest.json</code> records, each checked before this report was rendered.</p>{}</section>",
        table(&["item", "value"], &[], &facts),
        table(&["input", "SHA-256"], &[], &inputs),
        table(&["output", "SHA-256"], &[], &outputs)
    )
}
