//! `liquidity_stress.parquet`: per stress scenario and settlement currency,
//! the cash the CCP needs when the Cover-n groups default, what it can pay
//! with, and the shortfall ([`crate::default_management::liquidity`]).

use serde_json::{json, Map, Value};

use super::{RunView, Section};
use crate::default_management::LiquidityStress;
use crate::report::{money, OutputTable};

impl Section for Option<LiquidityStress> {
    fn tables(&self, run: RunView) -> Vec<(&'static str, OutputTable)> {
        let Some(l) = self else {
            return Vec::new();
        };
        let (market, stress) = (&run.snapshot.market, &run.snapshot.stress);
        let groups = &run.result.stress.groups.names;
        let mut table = Rows::default();
        for (s, row) in l.scenarios.iter().enumerate() {
            let defaulting: Vec<&str> = l.defaulting[s]
                .iter()
                .map(|&g| groups[g].as_str())
                .collect();
            for (c, need) in l.currencies.iter().zip(row) {
                table.scenario.push(stress[s].name.clone());
                table.defaulting.push(defaulting.join(" + "));
                table.currency.push(c.name(market).to_string());
                table.need.push(need.need);
                table.collateral.push(need.defaulters_collateral);
                table.resources.push(need.ccp_resources);
                table.shortfall.push(need.shortfall);
            }
        }
        let table = OutputTable::default()
            .text("scenario", table.scenario)
            .text("defaulting_groups", table.defaulting)
            .text("currency", table.currency)
            .number("need", table.need)
            .number("defaulters_collateral", table.collateral)
            .number("ccp_resources", table.resources)
            .number("shortfall", table.shortfall);
        vec![("liquidity_stress.parquet", table)]
    }

    fn summary(&self, run: RunView, into: &mut Map<String, Value>) {
        let Some(l) = self else {
            return;
        };
        let market = &run.snapshot.market;
        let worst: Vec<Value> = l
            .currencies
            .iter()
            .zip(l.worst())
            .enumerate()
            .map(|(c, (currency, (s, shortfall)))| {
                json!({
                    "currency": currency.name(market),
                    "largest_need": l.scenarios.iter().map(|row| row[c].need).fold(0.0, f64::max),
                    "largest_shortfall": shortfall,
                    "scenario": (shortfall > 0.0).then(|| run.snapshot.stress[s].name.clone()),
                })
            })
            .collect();
        into.insert("liquidity_stress".into(), json!({ "currencies": worst }));
    }

    fn terminal(&self, run: RunView, out: &mut String) {
        let Some(l) = self
            .as_ref()
            .filter(|l| !l.currencies.is_empty() && !l.scenarios.is_empty())
        else {
            return;
        };
        let short: Vec<String> = l
            .currencies
            .iter()
            .zip(l.worst())
            .filter(|(_, (_, shortfall))| *shortfall > 0.0)
            .map(|(c, (s, shortfall))| {
                format!(
                    "{} {} in `{}`",
                    c.name(&run.snapshot.market),
                    money(shortfall),
                    run.snapshot.stress[s].name
                )
            })
            .collect();
        out.push_str(&if short.is_empty() {
            format!(
                "Liquidity stress: the defaulters' collateral and the CCP's liquid resources pay \
                 every settlement currency ({}) in every stress scenario\n",
                l.currencies
                    .iter()
                    .map(|c| c.name(&run.snapshot.market))
                    .collect::<Vec<_>>()
                    .join(", ")
            )
        } else {
            format!(
                "Liquidity stress: largest shortfall by settlement currency: {} \
                 (liquidity_stress.parquet)\n",
                short.join("; ")
            )
        });
    }
}

/// The table's columns, filled row by row.
#[derive(Default)]
struct Rows {
    scenario: Vec<String>,
    defaulting: Vec<String>,
    currency: Vec<String>,
    need: Vec<f64>,
    collateral: Vec<f64>,
    resources: Vec<f64>,
    shortfall: Vec<f64>,
}
