//! Reading stress scenario files: each a TOML file of relative price and
//! implied-vol moves, resolved against the market's assets.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use serde::Deserialize;

use super::read_utf8;
use crate::input::bounds::{self, Bounds};
use crate::input::{sha256_hex, InputError, Location};
use crate::snapshot::{AssetClass, InputSource, MarketData, StressScenario};

/// Reads stress scenarios: each path is a `.toml` file or a folder, whose
/// `*.toml` files below it are read in path order. Shocks are resolved against
/// `market`'s assets.
pub fn load_stress_scenarios(
    paths: &[PathBuf],
    market: &MarketData,
) -> Result<Vec<StressScenario>, InputError> {
    Ok(read_stress_scenarios(paths, market)?
        .into_iter()
        .map(|(scenario, _)| scenario)
        .collect())
}

pub(super) fn read_stress_scenarios(
    paths: &[PathBuf],
    market: &MarketData,
) -> Result<Vec<(StressScenario, InputSource)>, InputError> {
    let mut files = Vec::new();
    for path in paths {
        let shown = path.display().to_string();
        let metadata = std::fs::metadata(path).map_err(|e| InputError::io(&shown, e))?;
        if metadata.is_dir() {
            let mut below = Vec::new();
            toml_files_below(path, 0, &mut below)?;
            if below.is_empty() {
                return Err(InputError::invalid(
                    Location::file(shown),
                    "expected stress scenario files (*.toml) in this folder, found none",
                ));
            }
            below.sort();
            files.extend(below);
        } else if path.extension().is_some_and(|e| e == "toml") {
            files.push(path.clone());
        } else {
            return Err(InputError::invalid(
                Location::file(shown),
                "expected a stress scenario file ending in .toml, or a folder of them",
            ));
        }
    }
    let mut scenarios: Vec<(StressScenario, InputSource)> = Vec::with_capacity(files.len());
    for file in files {
        let origin = file.display().to_string();
        let text = read_utf8(&file)?;
        let scenario = parse_stress_scenario(&origin, &text, market)?;
        if let Some((first, _)) = scenarios.iter().find(|(s, _)| s.name == scenario.name) {
            return Err(InputError::invalid(
                Location::file(&origin).field("name"),
                format!(
                    "duplicate stress scenario name `{}`: already used by {}",
                    scenario.name, first.origin
                ),
            ));
        }
        scenarios.push((
            scenario,
            InputSource {
                name: origin,
                sha256: sha256_hex(text.as_bytes()),
            },
        ));
    }
    Ok(scenarios)
}

/// Folder depth beyond which the search for scenario files stops: a guard
/// against symbolic-link cycles.
const MAX_SCENARIO_DEPTH: usize = 32;

fn toml_files_below(dir: &Path, depth: usize, out: &mut Vec<PathBuf>) -> Result<(), InputError> {
    let shown = || dir.display().to_string();
    if depth > MAX_SCENARIO_DEPTH {
        return Err(InputError::invalid(
            Location::file(shown()),
            format!(
                "expected at most {MAX_SCENARIO_DEPTH} levels of scenario folders (a link cycle?)"
            ),
        ));
    }
    for entry in std::fs::read_dir(dir).map_err(|e| InputError::io(shown(), e))? {
        let path = entry.map_err(|e| InputError::io(shown(), e))?.path();
        if path.is_dir() {
            toml_files_below(&path, depth + 1, out)?;
        } else if path.extension().is_some_and(|e| e == "toml") {
            out.push(path);
        }
    }
    Ok(())
}

/// A stress scenario file as written.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct ScenarioFile {
    name: String,
    kind: String,
    #[serde(default)]
    description: String,
    #[serde(default)]
    source: String,
    /// The historical window the moves were measured over: documentation only.
    #[serde(default)]
    #[allow(dead_code)]
    window: Option<String>,
    /// Relative price move per asset.
    #[serde(default)]
    shocks: BTreeMap<String, f64>,
    /// Relative implied-vol move per asset.
    #[serde(default)]
    vol_shocks: BTreeMap<String, f64>,
    #[serde(default)]
    unlisted: Unlisted,
}

/// Moves for the market's assets the file does not name.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct Unlisted {
    crypto: Option<f64>,
    stablecoin: Option<f64>,
    vol: Option<f64>,
}

/// Parses one stress scenario and resolves it against `market`: every asset
/// gets its own price and vol shock if the file names it, else the `unlisted`
/// one for its class (vol: `unlisted.vol`, default 0). Shocks for assets not in
/// the market are checked and ignored. `origin` names the file in errors.
pub fn parse_stress_scenario(
    origin: &str,
    text: &str,
    market: &MarketData,
) -> Result<StressScenario, InputError> {
    let at = |field: &str| Location::file(origin).field(field);
    let file: ScenarioFile = toml::from_str(text).map_err(|e| {
        InputError::invalid(
            Location::file(origin),
            format!("not a valid stress scenario: {e}"),
        )
    })?;
    if file.name.trim().is_empty() {
        return Err(InputError::invalid(
            at("name"),
            "expected a scenario name, found an empty string",
        ));
    }
    if !matches!(file.kind.as_str(), "historical" | "hypothetical") {
        return Err(InputError::invalid(
            at("kind"),
            format!(
                "expected `historical` or `hypothetical`, found `{}`",
                file.kind
            ),
        ));
    }
    let check = |field: String, shock: f64, bounds: &Bounds| {
        bounds
            .check(shock)
            .map(drop)
            .map_err(|message| InputError::invalid(at(&field), message))
    };
    for (asset, &shock) in &file.shocks {
        check(format!("shocks.{asset}"), shock, &bounds::PRICE_SHOCK)?;
    }
    for (asset, &shock) in &file.vol_shocks {
        check(format!("vol_shocks.{asset}"), shock, &bounds::VOL_SHOCK)?;
    }
    for (key, shock, bounds) in [
        ("crypto", file.unlisted.crypto, &bounds::PRICE_SHOCK),
        ("stablecoin", file.unlisted.stablecoin, &bounds::PRICE_SHOCK),
        ("vol", file.unlisted.vol, &bounds::VOL_SHOCK),
    ] {
        if let Some(shock) = shock {
            check(format!("unlisted.{key}"), shock, bounds)?;
        }
    }

    let mut price_shocks = Vec::with_capacity(market.assets.len());
    let mut vol_shocks = Vec::with_capacity(market.assets.len());
    for asset in &market.assets {
        let price = match file.shocks.get(&asset.id) {
            Some(&shock) => shock,
            None => {
                let (key, unlisted) = match asset.class {
                    AssetClass::Crypto => ("crypto", file.unlisted.crypto),
                    AssetClass::Stablecoin => ("stablecoin", file.unlisted.stablecoin),
                };
                unlisted.ok_or_else(|| {
                    InputError::invalid(
                        at(&format!("unlisted.{key}")),
                        format!(
                            "no price shock for asset `{}`: expected `{}` under [shocks] or `{key}` under [unlisted]",
                            asset.id, asset.id
                        ),
                    )
                })?
            }
        };
        price_shocks.push(price);
        vol_shocks.push(
            file.vol_shocks
                .get(&asset.id)
                .copied()
                .or(file.unlisted.vol)
                .unwrap_or(0.0),
        );
    }
    Ok(StressScenario {
        name: file.name,
        kind: file.kind,
        description: file.description,
        source: file.source,
        origin: origin.to_string(),
        price_shocks,
        vol_shocks,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::snapshot::{Asset, RateCurve, VolSurface};

    fn market() -> MarketData {
        let asset = |id: &str, class| Asset {
            id: id.into(),
            class,
            spot: 1.0,
            volatility: 0.5,
            funding_rate_8h: 0.0,
            basis: 0.0,
            adv_usd: 1e9,
            synthetic: false,
            source: String::new(),
        };
        MarketData {
            assets: vec![
                asset("BTC", AssetClass::Crypto),
                asset("ETH", AssetClass::Crypto),
                asset("USDT", AssetClass::Stablecoin),
            ],
            correlation: vec![1.0, 0.0, 0.0, 0.0, 1.0, 0.0, 0.0, 0.0, 1.0],
            vol_surface: VolSurface::default(),
            rates: RateCurve::flat(0.0),
        }
    }

    #[test]
    fn a_scenario_resolves_named_and_unlisted_assets() {
        let text =
            "name = \"crash\"\nkind = \"hypothetical\"\ndescription = \"d\"\nsource = \"s\"\n\
                    window = \"w\"\n[shocks]\nBTC = -0.3\nDOGE = -0.9\n[vol_shocks]\nBTC = 0.8\n\
                    [unlisted]\ncrypto = -0.4\nstablecoin = 0.0\nvol = 0.5\n";
        let s = parse_stress_scenario("crash.toml", text, &market()).unwrap();
        assert_eq!(s.price_shocks, [-0.3, -0.4, 0.0]);
        assert_eq!(s.vol_shocks, [0.8, 0.5, 0.5]);
        assert_eq!(s.origin, "crash.toml");
    }

    #[test]
    fn a_scenario_without_a_shock_for_an_asset_names_the_missing_key() {
        let text = "name = \"x\"\nkind = \"historical\"\n[shocks]\nBTC = -0.3\n[unlisted]\ncrypto = -0.4\n";
        let err = parse_stress_scenario("x.toml", text, &market())
            .unwrap_err()
            .to_string();
        assert!(
            err.starts_with("x.toml, field `unlisted.stablecoin`: no price shock for asset `USDT`"),
            "{err}"
        );
    }

    #[test]
    fn a_shock_of_minus_one_or_an_unknown_key_is_rejected() {
        let text = "name = \"x\"\nkind = \"historical\"\n[shocks]\nBTC = -1.0\n";
        let err = parse_stress_scenario("x.toml", text, &market())
            .unwrap_err()
            .to_string();
        assert!(
            err.starts_with("x.toml, field `shocks.BTC`: expected a relative price move in (-1, 1000], found -1"),
            "{err}"
        );
        let text = "name = \"x\"\nkind = \"historical\"\nseverity = 3\n";
        let err = parse_stress_scenario("x.toml", text, &market())
            .unwrap_err()
            .to_string();
        assert!(err.contains("severity"), "{err}");
        let text = "name = \"x\"\nkind = \"guess\"\n";
        let err = parse_stress_scenario("x.toml", text, &market())
            .unwrap_err()
            .to_string();
        assert!(
            err.contains("field `kind`: expected `historical` or `hypothetical`, found `guess`"),
            "{err}"
        );
    }
}
