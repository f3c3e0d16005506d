//! `loss_distribution.parquet`: the histogram of the largest margin's losses
//! that the report charts against its VaR and ES
//! ([`crate::margin::distribution`]).

use serde_json::{json, Map, Value};

use super::{RunView, Section};
use crate::margin::distribution::LossDistribution;
use crate::report::OutputTable;

impl Section for Option<LossDistribution> {
    fn tables(&self, run: RunView) -> Vec<(&'static str, OutputTable)> {
        let Some(d) = self else {
            return Vec::new();
        };
        let id = &run.snapshot.members[d.member].id;
        let table = OutputTable::default()
            .text("member_id", vec![id.clone(); d.bins.len()])
            .number("loss_from", d.bins.iter().map(|b| b.from).collect())
            .number("loss_to", d.bins.iter().map(|b| b.to).collect())
            .count("scenarios", d.bins.iter().map(|b| b.count).collect());
        vec![("loss_distribution.parquet", table)]
    }

    /// The histogram again, with the member's VaR and ES at the margin
    /// confidence (from all the run's scenarios), for the report's chart.
    fn summary(&self, run: RunView, into: &mut Map<String, Value>) {
        let Some(d) = self else {
            return;
        };
        let margin = &run.result.margin;
        let at = margin.members[d.member].at(margin.rule.confidence);
        into.insert(
            "loss_distribution".into(),
            json!({
                "member_id": run.snapshot.members[d.member].id,
                "sample_scenarios": d.scenarios,
                "confidence": margin.rule.confidence,
                "var": at.map(|x| x.var),
                "es": at.map(|x| x.es),
                "bins": d.bins.iter().map(|b| json!({
                    "from": b.from,
                    "to": b.to,
                    "scenarios": b.count,
                })).collect::<Vec<_>>(),
            }),
        );
    }

    /// The chart is the report's; the terminal summary stays short.
    fn terminal(&self, _run: RunView, _out: &mut String) {}
}
