//! Writing a stress scenario file, in the format the loader reads
//! (scenarios/README.md), with comments a user who edits it can follow.

use super::{MarketData, StressScenario};
use crate::input::bounds::{PRICE_SHOCK, VOL_SHOCK};

/// A stress scenario file holding `scenario`, whose shocks are per asset of
/// `market`, headed by `title` (a comment line).
pub fn stress_scenario_toml(title: &str, scenario: &StressScenario, market: &MarketData) -> String {
    let quote = |s: &str| toml::Value::String(s.to_string()).to_string();
    let mut out = format!(
        "# {title}\n\
         # A clearstress stress scenario (format: scenarios/README.md); `run --scenarios FILE` reads it.\n\
         name = {}\nkind = {}\ndescription = {}\nsource = {}\n\n\
         # Relative price move per asset: new price = price x (1 + shock), {}.\n[shocks]\n",
        quote(&scenario.name),
        quote(&scenario.kind),
        quote(&scenario.description),
        quote(&scenario.source),
        PRICE_SHOCK.expected()
    );
    for (asset, shock) in market.assets.iter().zip(&scenario.price_shocks) {
        out.push_str(&format!("{} = {shock:?}\n", asset.id));
    }
    out.push_str(&format!(
        "\n# Relative implied-vol move per underlying: new vol = vol x (1 + shock), {}.\n[vol_shocks]\n",
        VOL_SHOCK.expected()
    ));
    for (asset, shock) in market.assets.iter().zip(&scenario.vol_shocks) {
        out.push_str(&format!("{} = {shock:?}\n", asset.id));
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::snapshot::parse_stress_scenario;

    /// What is written reads back as the same scenario, and ends with a newline.
    #[test]
    fn a_written_scenario_reads_back_unchanged() {
        let sample = crate::sample::embedded().unwrap();
        let mut scenario = sample.stress[0].clone();
        scenario.name = "a \"quoted\" name".into();
        let text = stress_scenario_toml("test", &scenario, &sample.market);
        assert!(text.ends_with('\n') && text.starts_with("# test\n"));
        let back = parse_stress_scenario("test.toml", &text, &sample.market).unwrap();
        assert_eq!(back.name, scenario.name);
        assert_eq!(back.price_shocks, scenario.price_shocks);
        assert_eq!(back.vol_shocks, scenario.vol_shocks);
    }
}
