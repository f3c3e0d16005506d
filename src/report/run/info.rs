//! The run itself: what ran, on what, how long it took.

use std::fmt::Write as _;

use serde_json::{json, Map, Value};

use super::{RunView, Section};
use crate::engine::RunInfo;
use crate::input::bounds::Significant;
use crate::snapshot::{Innovations, ScenarioConfig};

/// The scenario model a configuration draws from, for a reader.
pub fn scenario_model_name(scenario: &ScenarioConfig) -> String {
    if scenario.historical.is_some() {
        return "filtered historical simulation".into();
    }
    let innovations = match scenario.innovations {
        Innovations::Gaussian => "Gaussian".to_string(),
        Innovations::StudentT => format!("Student-t (nu = {})", scenario.dof),
        Innovations::Nig => format!("NIG (shape {})", Significant(scenario.nig_shape)),
    };
    match &scenario.jumps {
        Some(j) => format!(
            "{innovations} with {} jumps a year",
            Significant(j.intensity_per_year)
        ),
        None => innovations,
    }
}

pub fn timings_json(info: &RunInfo) -> Value {
    let t = &info.timings;
    json!({
        "compile": t.compile.as_secs_f64(),
        "monte_carlo": t.monte_carlo.as_secs_f64(),
        "statistics": t.statistics.as_secs_f64(),
        "stress": t.stress.as_secs_f64(),
        "distribution": t.distribution.as_secs_f64(),
        "reverse_stress": t.reverse_stress.as_secs_f64(),
        "total": t.total.as_secs_f64(),
        "scenarios_per_second": info.scenarios as f64 / t.monte_carlo.as_secs_f64().max(1e-9),
    })
}

impl Section for RunInfo {
    fn summary(&self, run: RunView, into: &mut Map<String, Value>) {
        let s = run.snapshot;
        for (key, value) in [
            ("clearstress_version", json!(crate::VERSION)),
            ("valuation_date", json!(s.valuation_date.to_string())),
            ("currency", json!("USD")),
            ("backend", json!(self.backend)),
            (
                "scenario_model",
                json!(scenario_model_name(&s.config.scenario)),
            ),
            ("seed", json!(s.config.scenario.seed)),
            ("scenarios", json!(self.scenarios)),
            ("members", json!(s.members.len())),
            ("assets", json!(s.market.assets.len())),
            ("positions", json!(s.positions.len())),
            ("option_series", json!(self.option_series)),
            ("tail_pilot_scenarios", json!(self.tail_pilot)),
            ("tail_passes", json!(self.tail_passes)),
            ("timings_seconds", timings_json(self)),
        ] {
            into.insert(key.into(), value);
        }
        if let Some(p) = &self.pipeline {
            into.insert(
                "device_pipeline".into(),
                json!({
                    "chunks": p.submitted,
                    "chunks_redrawn_in_halves": p.overflowed,
                    "tail_candidates_read_back": p.candidates,
                    "losses_summed_in_gaps_on_device": p.summed_in_gaps,
                    "host_seconds": {
                        "submitting": p.submitting.as_secs_f64(),
                        "waiting_and_reading_back": p.collecting.as_secs_f64(),
                        "pushing_into_tails": p.pushing.as_secs_f64(),
                    },
                }),
            );
        }
    }

    fn terminal(&self, run: RunView, out: &mut String) {
        let s = run.snapshot;
        let seconds = self.timings.monte_carlo.as_secs_f64();
        let _ = writeln!(
            out,
            "clearstress {}: {} members, {} assets, {} positions ({} option series), valuation date {}, amounts in USD",
            crate::VERSION,
            s.members.len(),
            s.market.assets.len(),
            s.positions.len(),
            self.option_series,
            s.valuation_date
        );
        let _ = writeln!(
            out,
            "{} scenarios of {} (seed {}) on {} in {seconds:.2} s ({:.0} scenarios/s)",
            self.scenarios,
            scenario_model_name(&s.config.scenario),
            s.config.scenario.seed,
            self.backend,
            self.scenarios as f64 / seconds.max(1e-9),
        );
    }
}
