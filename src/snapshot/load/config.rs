//! Reading `ccp.toml`.

use crate::input::{Date, InputError, Location};
use crate::snapshot::CcpConfig;

/// Parses `ccp.toml` and validates it ([`CcpConfig::validate`]), naming the
/// file `name` in errors; returns it with its valuation date.
pub(super) fn parse_config(name: &str, text: &str) -> Result<(CcpConfig, Date), InputError> {
    let config: CcpConfig = toml::from_str(text).map_err(|e| {
        InputError::invalid(
            Location::file(name),
            format!("not a valid configuration: {e}"),
        )
    })?;
    let in_file = |e: InputError| e.in_file(name);
    config.validate().map_err(in_file)?;
    let valuation_date = config.valuation_date().map_err(in_file)?;
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
                "[liquidity.resources]\nUSD = -1\n",
                "field `liquidity.resources.USD`: expected an amount in units of the asset in [0, 1e15], found -1",
            ),
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
