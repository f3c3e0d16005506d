//! The PQD-style disclosure table (CPMI-IOSCO public quantitative
//! disclosures, CPMI paper 125): one row per field the run can fill, read
//! from its outputs, and a "not computed" row, with the reason, for each field
//! it cannot. Ids are the standard's where its numbering could be checked
//! (4.4.3, 4.4.7); a letter after a disclosure's id (4.3a, 4.3b) splits it
//! into the parts the run reports where the standard's sub-field numbers could
//! not be. The mapping and its sources are in docs/methodology.md,
//! "13a. Report: the PQD table".

use std::fmt::Write as _;

use super::backtest_folder::{BacktestFolder, MARGIN_BASIS};
use super::haircuts_folder::HaircutsFolder;
use super::run_folder::RunFolder;
use super::settlement_folder::{Opened, Replay};
use super::Companions;
use super::{count, escape, percent};
use crate::report::output::file_marker;
use crate::report::{money, OutputKind};

/// A PQD field's value: filled from the run's outputs, or not computed.
#[derive(Debug, Clone, PartialEq)]
pub enum PqdValue {
    Filled { value: String, unit: &'static str },
    NotComputed { reason: &'static str },
}

#[derive(Debug, Clone, PartialEq)]
pub struct PqdRow {
    pub id: String,
    pub description: String,
    pub value: PqdValue,
}

impl PqdRow {
    /// The value and unit columns as written (a "not computed" row gives its
    /// reason as the unit column's text).
    pub fn cells(&self) -> (String, String) {
        match &self.value {
            PqdValue::Filled { value, unit } => (value.clone(), (*unit).to_string()),
            PqdValue::NotComputed { reason } => ("not computed".into(), (*reason).to_string()),
        }
    }
}

fn filled(id: &str, description: &str, value: String, unit: &'static str) -> PqdRow {
    PqdRow {
        id: id.to_string(),
        description: description.to_string(),
        value: PqdValue::Filled { value, unit },
    }
}

fn not_computed(id: &str, description: &str, reason: &'static str) -> PqdRow {
    PqdRow {
        id: id.to_string(),
        description: description.to_string(),
        value: PqdValue::NotComputed { reason },
    }
}

/// PQD 6.5 from a backtest's pooled row of the kind the margin is sized on:
/// observations, exceptions and achieved coverage over the period (6.5a-c)
/// and the largest exception, the peak margin breach (6.5.4).
fn backtesting(backtest: Option<&BacktestFolder>) -> Vec<PqdRow> {
    let Some(bt) = backtest else {
        return vec![not_computed(
            "6.5",
            "Backtesting results",
            "no backtest given (clearstress backtest measures it; report --backtest reads it)",
        )];
    };
    let Some(row) = bt.margin_basis() else {
        return vec![not_computed(
            "6.5",
            "Backtesting results",
            "the backtest has no pooled member_with_collateral row",
        )];
    };
    let of = |what: &str| {
        format!(
            "Backtesting, model {}, {MARGIN_BASIS} pooled, {}: {what}",
            bt.model(),
            bt.period()
        )
    };
    let a = &row.all_days;
    vec![
        filled("6.5a", &of("observations"), count(a.observations), "days"),
        filled("6.5b", &of("exceptions"), count(a.exceptions), "exceptions"),
        match a.coverage {
            Some(c) => filled("6.5c", &of("achieved coverage"), percent(c), "%"),
            None => not_computed("6.5c", &of("achieved coverage"), "no day observed"),
        },
        match a.largest_exception {
            Some(x) => filled(
                "6.5.4",
                &of("peak margin breach, the largest loss above margin"),
                money(x),
                "USD",
            ),
            None => not_computed(
                "6.5.4",
                &of("peak margin breach, the largest loss above margin"),
                "no exception over the period",
            ),
        },
    ]
}

/// A letter for the `i`th part of a split field: a, b, ..., z, then aa, ab, ...
fn part(i: usize) -> String {
    let letter = |k: usize| char::from(b'a' + (k % 26) as u8);
    if i < 26 {
        letter(i).to_string()
    } else {
        format!("{}{}", letter(i / 26 - 1), letter(i))
    }
}

/// PQD 5.1 from `manifest.json`'s `config.collateral.haircuts`: each asset
/// eligible as initial margin (on `config.collateral.eligible` when there is
/// one) with its haircut, in id order (5.1a, 5.1b,
/// ...); 5.2 is not computed; 5.3 from a haircut calibration, if given.
fn collateral(run: &RunFolder, calibrated: Option<&HaircutsFolder>) -> Vec<PqdRow> {
    let mut rows = Vec::new();
    let collateral = &run.manifest.config["collateral"];
    let haircuts = collateral["haircuts"].as_object();
    // An `eligible` list leaves out the assets not on it, haircut or not.
    let eligible = |asset: &str| {
        collateral["eligible"]
            .as_array()
            .is_none_or(|list| list.iter().any(|a| a.as_str() == Some(asset)))
    };
    let eligible_haircuts = haircuts.into_iter().flatten().filter(|(a, _)| eligible(a));
    for (i, (asset, haircut)) in eligible_haircuts.enumerate() {
        let id = &format!("5.1{}", part(i));
        let description = format!("Asset eligible as initial margin, and its haircut: {asset}");
        rows.push(match haircut.as_f64() {
            Some(h) => filled(id, &description, percent(h), "% haircut"),
            None => not_computed(id, &description, "manifest.json records no number"),
        });
    }
    if rows.is_empty() {
        rows.push(not_computed(
            "5.1",
            "Assets eligible as initial margin, and their haircuts",
            "manifest.json records no config.collateral.haircuts",
        ));
    }
    rows.extend([not_computed(
        "5.2",
        "Assets eligible for default fund contributions, and their haircuts",
        "not modelled: contributions are USD amounts in the book",
    )]);
    rows.push(haircut_test(calibrated));
    rows
}

/// PQD 5.3 from a `haircuts` folder: how many configured haircuts are below
/// the engine's calibrated schedule, and which (methodology, 17.7).
fn haircut_test(haircuts: Option<&HaircutsFolder>) -> PqdRow {
    const WHAT: &str = "Results of testing of haircuts";
    let Some(h) = haircuts else {
        return not_computed(
            "5.3",
            WHAT,
            "no clearstress haircuts folder given (report --haircuts)",
        );
    };
    let s = &h.summary;
    let below = &s.configured_below_schedule;
    let description =
        format!(
        "{WHAT}: configured haircuts below the engine's calibrated schedule ({} {}% over {} days, \
         floored at {}..{}), of {} assets: {}",
        s.measure.to_uppercase(),
        percent(s.confidence),
        s.horizon_days,
        s.stress_period[0],
        s.stress_period[1],
        s.schedule.len(),
        if below.is_empty() { "none".to_string() } else { below.join(", ") }
    );
    filled("5.3", &description, count(below.len() as u64), "assets")
}

/// PQD 6.2 split by type, from `summary.json`'s `margin.collateral_by_asset`:
/// each asset's collateral held after haircuts and as it counts under the
/// eligibility rules, summed over members (6.2a, 6.2b, ... after the total
/// 6.2, which they sum to).
fn collateral_held(run: &RunFolder) -> Vec<PqdRow> {
    run.summary
        .margin
        .collateral_by_asset
        .iter()
        .enumerate()
        .map(|(i, c)| {
            let haircut = match c.haircut {
                Some(h) => format!("after its {}% haircut", percent(h)),
                None => "ineligible, with no haircut".to_string(),
            };
            let counted = c.counted.unwrap_or(c.after_haircut);
            let cut = match c.after_haircut - counted {
                cut if cut > 0.0 => {
                    format!(", {} USD of it cut by the eligibility rules", money(cut))
                }
                _ => String::new(),
            };
            filled(
                &format!("6.2{}", part(i)),
                &format!(
                    "Initial margin held by type: {}, {haircut}{cut} (market value {} USD)",
                    c.asset,
                    money(c.market_value)
                ),
                money(counted),
                "USD",
            )
        })
        .collect()
}

/// PQD 4.4's stress loss of the requirement's Cover-n default with the
/// defaulters' close-out cost added (methodology 9.5), lettered after the
/// sub-field of that cover (4.4.3 for Cover-1, 4.4.7 for Cover-2).
fn with_close_out(run: &RunFolder) -> PqdRow {
    let s = &run.summary;
    let cover = &s.close_out.cover_groups;
    let (id, who) = match s.default_fund.cover {
        1 => ("4.4.3a", "one participant and its affiliates"),
        _ => ("4.4.7a", "two participants and their affiliates"),
    };
    filled(
        id,
        &format!(
            "Stress loss in excess of initial margin from the default of {who}, with the cost of \
             closing out their positions, on the valuation date (scenario: {})",
            cover.scenario
        ),
        money(cover.uncovered_with_close_out),
        "USD",
    )
}

/// PQD 7: the CCP's qualifying liquid resources by asset from
/// `manifest.json`'s `config.liquidity.resources` (7.1a, 7.1b, ...), and per
/// settlement currency the largest liquidity need and shortfall of the
/// liquidity stress (7.3a, 7.3b, ..., two per currency); the rest of 7 is not
/// modelled.
fn liquidity(run: &RunFolder) -> Vec<PqdRow> {
    let mut rows = Vec::new();
    let resources = run.manifest.config["liquidity"]["resources"].as_object();
    for (i, (asset, units)) in resources.into_iter().flatten().enumerate() {
        let id = &format!("7.1{}", part(i));
        let description = format!("Qualifying liquid resources held by the CCP: {asset}");
        rows.push(match units.as_f64() {
            Some(v) if asset == "USD" => filled(id, &description, money(v), "USD"),
            Some(v) => filled(id, &description, format!("{v}"), "units of the asset"),
            None => not_computed(id, &description, "manifest.json records no number"),
        });
    }
    if rows.is_empty() {
        rows.push(not_computed(
            "7.1",
            "Qualifying liquid resources held by the CCP",
            "none configured: ccp.toml has no [liquidity.resources]",
        ));
    }
    let stress = &run.summary.liquidity_stress.currencies;
    for (i, c) in stress.iter().enumerate() {
        let of = format!(
            "Liquidity stress, settlement currency {}, the default of each stress scenario's \
             Cover-{} groups",
            c.currency, run.summary.default_fund.cover
        );
        let shortfall = match &c.scenario {
            Some(scenario) => format!("{of}: largest shortfall (scenario: {scenario})"),
            None => format!("{of}: largest shortfall"),
        };
        rows.push(filled(
            &format!("7.3{}", part(2 * i)),
            &format!("{of}: largest need"),
            money(c.largest_need),
            "USD",
        ));
        rows.push(filled(
            &format!("7.3{}", part(2 * i + 1)),
            &shortfall,
            money(c.largest_shortfall),
            "USD",
        ));
    }
    rows.push(not_computed(
        "7.x",
        "Liquidity risk: the other fields (sources of liquidity by type, committed arrangements)",
        "not modelled by clearstress",
    ));
    rows
}

/// PQD 6.6 to 6.8 from a `settle --replay` folder: the current book's
/// variation margin over the history's days (methodology, 17.5).
fn variation_margin(replay: Option<&Opened<Replay>>) -> Vec<PqdRow> {
    const AVERAGE: &str =
        "Average total variation margin paid to the CCP by participants each business day";
    const MAXIMUM: &str =
        "Maximum total variation margin paid to the CCP on any given business day";
    const IM_CALL: &str = "Maximum aggregate initial margin call on any given business day";
    let Some(replay) = replay else {
        const WHY: &str = "no settle --replay folder given (report --settlement)";
        return vec![
            not_computed("6.6", AVERAGE, WHY),
            not_computed("6.7", MAXIMUM, WHY),
            not_computed("6.8", IM_CALL, WHY),
        ];
    };
    let r = &replay.read;
    let of = |what: &str| {
        format!(
            "{what} (the current book replayed over {}..{} of {}, {} days)",
            r.from, r.to, r.history, r.days_replayed
        )
    };
    let on_day = |id: &str, what: &str, amount: Option<f64>, date: &Option<String>, why| match (
        amount, date,
    ) {
        (Some(x), Some(date)) => filled(id, &format!("{}, on {date}", of(what)), money(x), "USD"),
        _ => not_computed(id, &of(what), why),
    };
    vec![
        filled("6.6", &of(AVERAGE), money(r.average_vm_paid_usd), "USD"),
        on_day(
            "6.7",
            MAXIMUM,
            r.max_vm_paid_usd,
            &r.max_vm_paid_date,
            "no day replayed",
        ),
        on_day(
            "6.8",
            IM_CALL,
            r.max_im_call_usd,
            &r.max_im_call_date,
            "not sized: the replay ran with settle --no-margin",
        ),
    ]
}

/// Every PQD row of a run (6.5 from a backtest, 6.6 to 6.8 from a
/// settlement replay, when given), in field order.
pub fn rows(run: &RunFolder, with: &Companions) -> Vec<PqdRow> {
    let s = &run.summary;
    let df = &s.default_fund;
    let risk = &run.manifest.config["risk"];
    let mpor = risk["margin_period_days"].as_f64();
    let lookback = run.manifest.config["scenario"]["historical"]["lookback_days"].as_f64();
    let mut rows = vec![
        not_computed(
            "4.1",
            "Total value of default resources (prefunded and committed)",
            "committed resources (assessments) are not modelled: the prefunded ones are 4.3a-b",
        ),
        filled(
            "4.3a",
            "Prefunded default resources: members' default fund contributions held",
            money(df.current_total),
            "USD",
        ),
        filled(
            "4.3b",
            "Prefunded default resources: the CCP's own resources in the waterfall (skin in the game)",
            money(df.skin_in_the_game),
            "USD",
        ),
        filled(
            "4.4.3",
            &format!(
                "Stress loss in excess of initial margin from the default of one participant and \
                 its affiliates (Cover-1), on the valuation date, not the peak day of twelve \
                 months (scenario: {})",
                df.cover1.scenario
            ),
            money(df.cover1.amount),
            "USD",
        ),
        filled(
            "4.4.7",
            &format!(
                "Stress loss in excess of initial margin from the default of two participants and \
                 their affiliates (Cover-2), on the valuation date, not the peak day of twelve \
                 months (scenario: {})",
                df.cover2.scenario
            ),
            money(df.cover2.amount),
            "USD",
        ),
        with_close_out(run),
    ];
    rows.extend(collateral(run, with.haircuts));
    rows.extend([
        filled(
            "6.1",
            "Initial margin required, all members",
            money(s.margin.total_initial_margin),
            "USD",
        ),
        filled(
            "6.2",
            "Initial margin held: collateral after haircuts, all members",
            money(s.margin.total_collateral),
            "USD",
        ),
    ]);
    rows.extend(collateral_held(run));
    rows.push(filled(
        "6.4a",
        "Initial margin model",
        format!("{} ({})", s.scenario_model, s.margin.measure),
        "",
    ));
    rows.push(filled(
        "6.4b",
        "Confidence level",
        percent(s.margin.confidence),
        "%",
    ));
    rows.push(match mpor {
        Some(days) => filled("6.4c", "Margin period of risk", format!("{days}"), "days"),
        None => not_computed(
            "6.4c",
            "Margin period of risk",
            "manifest.json records no risk.margin_period_days",
        ),
    });
    rows.push(match lookback {
        Some(days) => filled(
            "6.4d",
            "Look-back period (filtered historical simulation)",
            count(days as u64),
            "days",
        ),
        None => not_computed(
            "6.4d",
            "Look-back period",
            "the run's model is parametric (no --fhs): it read no price history",
        ),
    });
    rows.extend([filled(
        "6.4e",
        "Monte Carlo scenarios",
        count(s.scenarios),
        "scenarios",
    )]);
    rows.extend(backtesting(with.backtest));
    rows.extend(variation_margin(
        with.settlement.and_then(|s| s.replay.as_ref()),
    ));
    rows.extend(liquidity(run));
    rows
}

/// The rows as CSV: the marker line by which a later report knows the file
/// as clearstress's (a `#` comment to CSV readers that take one), then
/// `field_id,description,value,unit`, fields quoted where they hold a comma
/// or a quote.
pub fn csv(rows: &[PqdRow]) -> String {
    let quote = |field: &str| {
        if field.contains([',', '"', '\n']) {
            format!("\"{}\"", field.replace('"', "\"\""))
        } else {
            field.to_string()
        }
    };
    let mut out = format!(
        "{}\nfield_id,description,value,unit\n",
        file_marker(OutputKind::Report)
    );
    for row in rows {
        let (value, unit) = row.cells();
        let _ = writeln!(
            out,
            "{},{},{},{}",
            quote(&row.id),
            quote(&row.description),
            quote(&value),
            quote(&unit)
        );
    }
    out
}

/// The rows as an HTML section, naming the SHA-256 of the CSV written with
/// them.
pub fn section(rows: &[PqdRow], csv_sha256: &str) -> String {
    let mut out = format!(
        "<section id=\"pqd\"><h2>Public quantitative disclosures (PQD-style)</h2>\
         <p>Fields of the CPMI-IOSCO public quantitative disclosures this run fills, read from its \
         outputs; the fields it cannot fill are listed as <em>not computed</em> with the reason. \
         The same rows are written as CSV beside this report (<code>pqd.csv</code>, or \
         <code>NAME.pqd.csv</code> beside <code>NAME.html</code>), whose SHA-256 is \
         <code class=\"pqd-sha256\">{csv_sha256}</code>.</p>\
         <table class=\"pqd\"><thead><tr><th>field id</th><th>description</th><th>value</th>\
         <th>unit</th></tr></thead><tbody>",
    );
    for row in rows {
        let (value, unit) = row.cells();
        let class = match row.value {
            PqdValue::Filled { .. } => "",
            PqdValue::NotComputed { .. } => " class=\"not-computed\"",
        };
        let _ = write!(
            out,
            "<tr{class}><td>{}</td><td>{}</td><td class=\"num\">{}</td><td>{}</td></tr>",
            escape(&row.id),
            escape(&row.description),
            escape(&value),
            escape(&unit)
        );
    }
    out.push_str("</tbody></table></section>");
    out
}

#[cfg(test)]
mod tests {
    use super::part;

    #[test]
    fn split_fields_are_lettered_a_to_z_then_aa() {
        let letters: Vec<String> = [0, 1, 25, 26, 27, 51, 52].map(part).into();
        assert_eq!(letters, ["a", "b", "z", "aa", "ab", "az", "ba"]);
    }
}
