//! What was run and how to reproduce it: version, command line, the SHA-256
//! of every input, seed, paths, model, backend and timings, from the run's
//! `manifest.json` and `summary.json`.

use serde_json::Value;

use super::run_folder::RunFolder;
use super::{count, escape, table};

/// `value`'s leaves as (dotted path, JSON text) rows, in key order.
fn leaves(prefix: &str, value: &Value, out: &mut Vec<Vec<String>>) {
    match value {
        Value::Object(map) => {
            for (key, v) in map {
                let path = if prefix.is_empty() {
                    key.clone()
                } else {
                    format!("{prefix}.{key}")
                };
                leaves(&path, v, out);
            }
        }
        Value::String(text) => out.push(vec![escape(prefix), escape(text)]),
        other => out.push(vec![escape(prefix), escape(&other.to_string())]),
    }
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
        ("scenario model", escape(&s.scenario_model)),
        ("Monte Carlo scenarios (paths)", count(m.paths)),
        ("seed", m.seed.to_string()),
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
        (
            "run manifest SHA-256",
            format!("<code>{}</code>", escape(&run.manifest_sha256)),
        ),
    ];
    let facts: Vec<Vec<String>> = facts.into_iter().map(|(k, v)| vec![escape(k), v]).collect();
    let inputs: Vec<Vec<String>> = m
        .inputs
        .iter()
        .map(|i| {
            vec![
                escape(&i.name),
                format!("<code>{}</code>", escape(&i.sha256)),
            ]
        })
        .collect();
    let mut config = Vec::new();
    leaves("", &m.config, &mut config);
    format!(
        "<section id=\"provenance\"><h2>What was run and how to reproduce it</h2>\
         <p>The same command on the same inputs (identified by their SHA-256) with the same seed and \
         paths reproduces these numbers on any backend (methodology, \"Numerical reproducibility\").</p>\
         {}<h3>Inputs</h3>{}<h3>The model and its parameters</h3>\
         <p>The run's configuration as <code>manifest.json</code> records it (methodology, sections 4 \
         to 9).</p>{}</section>",
        table(&["item", "value"], &[], &facts),
        table(&["input", "SHA-256"], &[], &inputs),
        table(&["parameter", "value"], &[], &config)
    )
}
