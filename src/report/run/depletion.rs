//! `fund_depletion.parquet`: how deep the Cover-n defaults of the run's
//! Monte Carlo scenarios cut into the prefunded resources, one row per
//! confidence ([`crate::default_management::depletion`]).

use serde_json::{json, Map, Value};

use super::{RunView, Section};
use crate::default_management::depletion::{FundDepletion, MonteCarloDepletion};
use crate::report::{money, OutputTable};

impl Section for Option<MonteCarloDepletion> {
    fn tables(&self, _run: RunView) -> Vec<(&'static str, OutputTable)> {
        let Some(MonteCarloDepletion::Computed(d)) = self else {
            return Vec::new();
        };
        let rows = d.demand.len();
        let of = |f: fn(&crate::tail::TailMeasure) -> f64, m: &[crate::tail::TailMeasure]| {
            m.iter().map(f).collect::<Vec<f64>>()
        };
        let table = OutputTable::default()
            .number("confidence", of(|x| x.confidence, &d.demand))
            .count("scenarios", vec![d.scenarios; rows])
            .count("cover", vec![d.cover as u64; rows])
            .number("resources", vec![d.resources; rows])
            .count("exhausted", vec![d.exhausted; rows])
            .number(
                "probability_of_exhaustion",
                vec![d.probability_of_exhaustion; rows],
            )
            .number("probability_stderr", vec![d.probability_std_error; rows])
            .number("demand_var", of(|x| x.var, &d.demand))
            .number("demand_es", of(|x| x.es, &d.demand))
            .number("demand_es_stderr", of(|x| x.es_std_error, &d.demand))
            .number("depletion_var", of(|x| x.var, &d.depletion))
            .number("depletion_es", of(|x| x.es, &d.depletion))
            .number("depletion_es_stderr", of(|x| x.es_std_error, &d.depletion));
        vec![("fund_depletion.parquet", table)]
    }

    fn summary(&self, _run: RunView, into: &mut Map<String, Value>) {
        let value = match self {
            None => return,
            Some(MonteCarloDepletion::Skipped(t)) => json!({
                "computed": false,
                "reason": "its exact tails would take more than a quarter of --memory-limit-mib",
                "needed_mib": t.needed_bytes.div_ceil(1 << 20),
                "limit_mib": t.limit_bytes >> 20,
            }),
            Some(MonteCarloDepletion::Computed(d)) => computed_json(d),
        };
        into.insert("fund_depletion".into(), value);
    }

    fn terminal(&self, _run: RunView, out: &mut String) {
        let line = match self {
            None => return,
            Some(MonteCarloDepletion::Skipped(t)) => format!(
                "Fund depletion: not computed, its exact tails need {} MiB, more than a quarter \
                 of --memory-limit-mib\n",
                t.needed_bytes.div_ceil(1 << 20)
            ),
            Some(MonteCarloDepletion::Computed(d)) => {
                let Some(es) = d.depletion.last() else {
                    return;
                };
                let exhausted = match d.exhausted {
                    0 => format!(
                        "in none of them (largest demand {})",
                        money(d.worst.map_or(0.0, |w| w.0))
                    ),
                    n => format!(
                        "in {} (p = {:.4}% +- {:.4}%)",
                        money(n as f64),
                        100.0 * d.probability_of_exhaustion,
                        100.0 * d.probability_std_error
                    ),
                };
                format!(
                    "Fund depletion: the Cover-{} defaults of each of the {} Monte Carlo scenarios \
                     exhaust the prefunded resources ({}) {exhausted}; ES {}% of the depletion {} \
                     (fund_depletion.parquet)\n",
                    d.cover,
                    money(d.scenarios as f64),
                    money(d.resources),
                    (es.confidence * 1e4).round() / 100.0,
                    money(es.es),
                )
            }
        };
        out.push_str(&line);
    }
}

fn computed_json(d: &FundDepletion) -> Value {
    json!({
        "computed": true,
        "scenarios": d.scenarios,
        "cover": d.cover,
        "resources": d.resources,
        "exhausted": d.exhausted,
        "probability_of_exhaustion": d.probability_of_exhaustion,
        "probability_stderr": d.probability_std_error,
        "scenarios_with_uncovered_loss": d.with_uncovered,
        "mean_demand": d.mean_demand,
        "worst": d.worst.map(|(demand, scenario)| json!({"demand": demand, "scenario": scenario})),
        "measures": d.demand.iter().zip(&d.depletion).map(|(x, y)| json!({
            "confidence": x.confidence,
            "demand_var": x.var,
            "demand_es": x.es,
            "demand_es_stderr": x.es_std_error,
            "depletion_var": y.var,
            "depletion_es": y.es,
            "depletion_es_stderr": y.es_std_error,
        })).collect::<Vec<_>>(),
    })
}
