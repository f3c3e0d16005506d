//! Reading `ccp.toml`.

use crate::input::bounds::{self, Bounds};
use crate::input::{Date, InputError, Location};
use crate::snapshot::{CcpConfig, Innovations};

/// Parses `ccp.toml` and checks every value the TOML types do not: the valuation
/// date, and every number against its range in [`bounds`]. Errors name the file
/// and the dotted key.
pub(super) fn parse_config(name: &str, text: &str) -> Result<(CcpConfig, Date), InputError> {
    let config: CcpConfig = toml::from_str(text).map_err(|e| {
        InputError::invalid(
            Location::file(name),
            format!("not a valid configuration: {e}"),
        )
    })?;
    let check = |key: &str, value: f64, bounds: &Bounds| {
        bounds
            .check(value)
            .map(drop)
            .map_err(|message| InputError::invalid(Location::file(name).field(key), message))
    };

    let valuation_date = Date::parse(&config.valuation_date).ok_or_else(|| {
        InputError::invalid(
            Location::file(name).field("valuation_date"),
            format!(
                "expected a date YYYY-MM-DD between 1900-01-01 and 9999-12-31, found `{}`",
                config.valuation_date
            ),
        )
    })?;

    let risk = &config.risk;
    check(
        "risk.margin_period_days",
        risk.margin_period_days,
        &bounds::MARGIN_PERIOD_DAYS,
    )?;
    check("risk.steps", f64::from(risk.steps), &bounds::STEPS)?;
    for (list, values) in [
        ("risk.var_confidence", &risk.var_confidence),
        ("risk.es_confidence", &risk.es_confidence),
    ] {
        for (i, &c) in values.iter().enumerate() {
            check(&format!("{list}[{i}]"), c, &bounds::CONFIDENCE)?;
        }
    }
    check(
        "risk.margin_confidence",
        risk.margin_confidence,
        &bounds::CONFIDENCE,
    )?;

    let scenario = &config.scenario;
    // u64 to f64 rounds only beyond 2^53, far outside the range.
    check("scenario.paths", scenario.paths as f64, &bounds::PATHS)?;
    match scenario.innovations {
        Innovations::StudentT => check("scenario.dof", f64::from(scenario.dof), &bounds::DOF)?,
        Innovations::Nig => check("scenario.nig_shape", scenario.nig_shape, &bounds::NIG_SHAPE)?,
        Innovations::Gaussian => {}
    }
    if let Some(jumps) = &scenario.jumps {
        check(
            "scenario.jumps.intensity_per_year",
            jumps.intensity_per_year,
            &bounds::JUMP_INTENSITY,
        )?;
        check(
            "scenario.jumps.mean_sigmas",
            jumps.mean_sigmas,
            &bounds::JUMP_MEAN,
        )?;
        check(
            "scenario.jumps.stdev_sigmas",
            jumps.stdev_sigmas,
            &bounds::JUMP_STDEV,
        )?;
    }
    check(
        "scenario.vol_shock.vol_of_vol",
        scenario.vol_shock.vol_of_vol,
        &bounds::VOL_OF_VOL,
    )?;
    check(
        "scenario.vol_shock.spot_vol_correlation",
        scenario.vol_shock.spot_vol_correlation,
        &bounds::SPOT_VOL_CORRELATION,
    )?;
    check(
        "scenario.block_size",
        scenario.block_size as f64,
        &bounds::BLOCK_SIZE,
    )?;
    if let Some(historical) = &scenario.historical {
        check(
            "scenario.historical.lookback_days",
            f64::from(historical.lookback_days),
            &bounds::LOOKBACK_DAYS,
        )?;
        check(
            "scenario.historical.lambda",
            historical.lambda,
            &bounds::EWMA_LAMBDA,
        )?;
    }

    for (asset, &haircut) in &config.collateral.haircuts {
        check(
            &format!("collateral.haircuts.{asset}"),
            haircut,
            &bounds::HAIRCUT,
        )?;
    }

    let fund = &config.default_fund;
    check("default_fund.cover", fund.cover as f64, &bounds::COVER)?;
    check(
        "default_fund.skin_in_the_game",
        fund.skin_in_the_game,
        &bounds::SKIN_IN_THE_GAME,
    )?;
    Ok((config, valuation_date))
}

#[cfg(test)]
mod tests {
    use super::*;

    const CONFIG: &str = "valuation_date = \"2025-02-20\"\n";

    #[test]
    fn a_minimal_config_takes_the_defaults() {
        let (config, date) = parse_config("ccp.toml", CONFIG).unwrap();
        assert_eq!(date, Date::parse("2025-02-20").unwrap());
        assert_eq!(config.risk, Default::default());
    }

    #[test]
    fn config_errors_name_the_dotted_field_and_the_value() {
        let cases = [
            ("valuation_date = \"2025-02-30\"\n", "ccp.toml, field `valuation_date`: expected a date YYYY-MM-DD"),
            (
                "[risk]\nmargin_period_days = 2\nsteps = 1\nvar_confidence = [0.99, 1.5]\nes_confidence = [0.99]\n\
                 margin_measure = \"expected-shortfall\"\nmargin_confidence = 0.99\n",
                "field `risk.var_confidence[1]`: expected a confidence level in (0.5, 1), found 1.5",
            ),
            (
                "[risk]\nmargin_period_days = 0\nsteps = 1\nvar_confidence = []\nes_confidence = []\n\
                 margin_measure = \"value-at-risk\"\nmargin_confidence = 0.99\n",
                "field `risk.margin_period_days`: expected a number of days in (0, 365], found 0",
            ),
            ("[collateral.haircuts]\nBTC = 1.0\n", "field `collateral.haircuts.BTC`: expected a haircut in [0, 1)"),
            (
                "[default_fund]\ncover = 0\nskin_in_the_game = 0\nallocation = \"initial-margin\"\n",
                "field `default_fund.cover`: expected a whole number of member groups in [1, 10], found 0",
            ),
        ];
        for (extra, expected) in cases {
            let text = if extra.starts_with("valuation_date") {
                extra.to_string()
            } else {
                format!("{CONFIG}{extra}")
            };
            let err = parse_config("ccp.toml", &text).unwrap_err().to_string();
            assert!(
                err.contains(expected),
                "{err}\nexpected to contain: {expected}"
            );
        }
    }

    #[test]
    fn a_toml_error_names_the_file_and_the_line() {
        let err = parse_config("ccp.toml", "valuation_date = \"2025-02-20\"\ncolour = 1\n")
            .unwrap_err()
            .to_string();
        assert!(
            err.starts_with("ccp.toml: not a valid configuration:"),
            "{err}"
        );
        assert!(err.contains("line 2") && err.contains("colour"), "{err}");
    }
}
