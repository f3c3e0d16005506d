//! Writing a snapshot back out as a folder of CSV tables and `ccp.toml`, such
//! that [`load`](super::load) reads back an equal snapshot.
//!
//! Numbers are written with Rust's `{}` formatting, the shortest text that parses
//! back to the same `f64`, so nothing is lost on the way round.

use std::borrow::Cow;
use std::path::{Path, PathBuf};

use super::config_notes::{config_note, section_note};
use super::load::{columns, CONFIG_FILE};
use super::{
    AssetClass, CcpConfig, CollateralAsset, InstrumentKind, Member, OptionRight, Settlement,
    Snapshot,
};
use crate::input::{sha256_hex, InputError, Location};

/// Writes `snapshot` into `dir` (created if needed) as a complete snapshot:
/// the CSV tables of [`SNAPSHOT_FILES`](super::SNAPSHOT_FILES), `ccp.toml`, and,
/// when the configuration names stress scenario files, a copy of each under
/// `scenarios/` (numbered so that they are read back in the same order), to
/// which the written configuration points. Returns the paths written.
pub fn write_snapshot(snapshot: &Snapshot, dir: &Path) -> Result<Vec<PathBuf>, InputError> {
    let mut files: Vec<SnapshotFile<'_>> = snapshot_csv_tables(snapshot)?
        .into_iter()
        .map(|(name, text)| (format!("{name}.csv"), Cow::Owned(text.into_bytes())))
        .collect();
    let mut config = snapshot.config.clone();
    if !config.scenario.stress.is_empty() {
        files.extend(stress_files(snapshot)?);
        config.scenario.stress = vec![STRESS_FOLDER.to_string()];
    }
    let config = config_text(&config).map_err(|e| {
        InputError::invalid(
            Location::file(dir.join(CONFIG_FILE).display().to_string()),
            format!("cannot write the configuration as TOML: {e}"),
        )
    })?;
    files.push((CONFIG_FILE.to_string(), Cow::Owned(config.into_bytes())));

    let mut written = Vec::with_capacity(files.len());
    for (relative, bytes) in files {
        let path = relative
            .split('/')
            .fold(dir.to_path_buf(), |path, part| path.join(part));
        if let Some(parent) = path.parent() {
            std::fs::create_dir_all(parent)
                .map_err(|e| InputError::io(parent.display().to_string(), e))?;
        }
        std::fs::write(&path, bytes).map_err(|e| InputError::io(path.display().to_string(), e))?;
        written.push(path);
    }
    Ok(written)
}

/// The first lines of a written `ccp.toml`.
const CONFIG_HEADER: &str = "\
# clearstress: the clearing house's configuration for this snapshot.
# Each key's meaning and range is in the comment above it; a value outside its
# range is refused, with the key, when the snapshot is read. The models and
# conventions are in docs/methodology.md.

";

/// `config` as the text of `ccp.toml`, a file a user edits: TOML whose every
/// section and key has a comment above it saying what it means and, for a
/// number, its range (from [`crate::input::bounds`], the ranges the loader checks), ending
/// with a newline. The TOML itself is serde's, so it reads back equal.
fn config_text(config: &CcpConfig) -> Result<String, toml::ser::Error> {
    let plain = toml::to_string(config)?;
    let mut out = String::from(CONFIG_HEADER);
    let mut section = String::new();
    for line in plain.lines() {
        let note = match line.strip_prefix('[').and_then(|l| l.strip_suffix(']')) {
            Some(header) => {
                section = header.to_string();
                section_note(&section)
            }
            None => line
                .split_once(" = ")
                .and_then(|(key, _)| config_note(&section, key)),
        };
        if let Some(note) = note {
            for note_line in note.lines() {
                out.push_str("# ");
                out.push_str(note_line);
                out.push('\n');
            }
        }
        out.push_str(line);
        out.push('\n');
    }
    Ok(out)
}

/// A file of a written snapshot: its `/`-separated path in the folder, and bytes.
type SnapshotFile<'a> = (String, Cow<'a, [u8]>);

/// The folder of a written snapshot that holds its stress scenario files.
const STRESS_FOLDER: &str = "scenarios";

/// The stress scenario files `snapshot` was read with, as (path under `dir`,
/// bytes): each file is read again and must still be the one loaded (its
/// SHA-256 is in `snapshot.sources`).
fn stress_files(snapshot: &Snapshot) -> Result<Vec<SnapshotFile<'static>>, InputError> {
    let width = snapshot.stress.len().to_string().len().max(3);
    let mut files = Vec::with_capacity(snapshot.stress.len());
    for (i, scenario) in snapshot.stress.iter().enumerate() {
        let origin = Path::new(&scenario.origin);
        let bytes =
            std::fs::read(origin).map_err(|e| InputError::io(scenario.origin.clone(), e))?;
        let loaded = snapshot
            .sources
            .iter()
            .find(|s| s.name == scenario.origin)
            .map(|s| s.sha256.as_str());
        if loaded != Some(sha256_hex(&bytes).as_str()) {
            return Err(InputError::invalid(
                Location::file(scenario.origin.clone()),
                "the stress scenario file changed after the snapshot was read; run again",
            ));
        }
        let name = origin.file_name().map_or_else(
            || format!("{}.toml", scenario.name),
            |n| n.to_string_lossy().into_owned(),
        );
        files.push((
            format!("{STRESS_FOLDER}/{i:0width$}-{name}"),
            Cow::Owned(bytes),
        ));
    }
    Ok(files)
}

/// The snapshot's tables as (logical name, CSV text), in
/// [`SNAPSHOT_FILES`](super::SNAPSHOT_FILES) order.
pub fn snapshot_csv_tables(snapshot: &Snapshot) -> Result<Vec<(&'static str, String)>, InputError> {
    let market = &snapshot.market;
    let asset_id = |index: usize| -> Result<&str, InputError> {
        market
            .assets
            .get(index)
            .map(|a| a.id.as_str())
            .ok_or_else(|| dangling("asset", index))
    };
    let member_id = |index: usize| -> Result<&str, InputError> {
        snapshot
            .members
            .get(index)
            .map(|m| m.id.as_str())
            .ok_or_else(|| dangling("member", index))
    };

    // `capital` and `liquid_resources` are optional: each written only when
    // some member states one, so that a book without them is written as
    // before.
    type Amount = fn(&Member) -> Option<f64>;
    let optional: Vec<(&str, Amount)> = [
        ("capital", (|m: &Member| m.capital) as Amount),
        ("liquid_resources", |m: &Member| m.liquid_resources),
    ]
    .into_iter()
    .filter(|(_, of)| snapshot.members.iter().any(|m| of(m).is_some()))
    .collect();
    let member_columns: Vec<&str> = columns::MEMBERS
        .iter()
        .copied()
        .chain(optional.iter().map(|(name, _)| *name))
        .collect();
    let members = snapshot
        .members
        .iter()
        .map(|m| {
            let mut row = vec![
                m.id.clone(),
                m.name.clone(),
                m.group.clone(),
                m.df_contribution.to_string(),
            ];
            row.extend(
                optional
                    .iter()
                    .map(|(_, of)| of(m).map_or(String::new(), |x| x.to_string())),
            );
            row
        })
        .collect::<Vec<_>>();

    // `settlement_asset` is optional too: written only for a book with a
    // stablecoin-margined contract.
    let stablecoin_settled = snapshot.instruments.iter().any(|i| i.stablecoin.is_some());
    let instrument_columns: Vec<&str> = columns::INSTRUMENTS
        .iter()
        .copied()
        .chain(stablecoin_settled.then_some("settlement_asset"))
        .collect();
    let mut instruments = Vec::with_capacity(snapshot.instruments.len());
    for i in &snapshot.instruments {
        let (kind, expiry, strike, right) = match i.kind {
            InstrumentKind::Perpetual => ("perpetual", String::new(), String::new(), ""),
            InstrumentKind::Future { expiry } => ("future", expiry.to_string(), String::new(), ""),
            InstrumentKind::Option {
                expiry,
                strike,
                right,
            } => (
                "option",
                expiry.to_string(),
                strike.to_string(),
                match right {
                    OptionRight::Call => "call",
                    OptionRight::Put => "put",
                },
            ),
        };
        let settlement = match i.settlement {
            Settlement::Linear => "linear",
            Settlement::Inverse => "inverse",
        };
        let mut row = vec![
            i.id.clone(),
            kind.to_string(),
            asset_id(i.underlying)?.to_string(),
            settlement.to_string(),
            i.contract_size.to_string(),
            expiry,
            strike,
            right.to_string(),
        ];
        if stablecoin_settled {
            let stablecoin = i.stablecoin.map(asset_id).transpose()?;
            row.push(stablecoin.unwrap_or_default().to_string());
        }
        instruments.push(row);
    }

    let mut positions = Vec::with_capacity(snapshot.positions.len());
    for p in &snapshot.positions {
        let instrument = snapshot
            .instruments
            .get(p.instrument)
            .ok_or_else(|| dangling("instrument", p.instrument))?;
        positions.push(vec![
            member_id(p.member)?.to_string(),
            instrument.id.clone(),
            p.quantity.to_string(),
        ]);
    }

    let mut collateral = Vec::with_capacity(snapshot.collateral.len());
    for c in &snapshot.collateral {
        let asset = match c.asset {
            CollateralAsset::Usd => "USD",
            CollateralAsset::Asset(index) => asset_id(index)?,
        };
        collateral.push(vec![
            member_id(c.member)?.to_string(),
            asset.to_string(),
            c.amount.to_string(),
        ]);
    }

    let assets = market
        .assets
        .iter()
        .map(|a| {
            let class = match a.class {
                AssetClass::Crypto => "crypto",
                AssetClass::Stablecoin => "stablecoin",
            };
            vec![
                a.id.clone(),
                class.to_string(),
                a.spot.to_string(),
                a.volatility.to_string(),
                a.funding_rate_8h.to_string(),
                a.basis.to_string(),
                a.adv_usd.to_string(),
                a.synthetic.to_string(),
                a.source.clone(),
            ]
        })
        .collect::<Vec<_>>();

    let n = market.assets.len();
    if market.correlation.len() != n * n {
        return Err(InputError::invalid(
            Location::file("snapshot"),
            format!(
                "expected a {n}x{n} correlation matrix, found {} entries",
                market.correlation.len()
            ),
        ));
    }
    let ids: Vec<&str> = market.assets.iter().map(|a| a.id.as_str()).collect();
    let correlation_header: Vec<&str> = std::iter::once("asset")
        .chain(ids.iter().copied())
        .collect();
    let correlation = market
        .assets
        .iter()
        .enumerate()
        .map(|(i, a)| {
            std::iter::once(a.id.clone())
                .chain(
                    market.correlation[i * n..(i + 1) * n]
                        .iter()
                        .map(|c| c.to_string()),
                )
                .collect()
        })
        .collect::<Vec<Vec<String>>>();

    let mut vol_surface = Vec::new();
    for q in market.vol_surface.quotes() {
        vol_surface.push(vec![
            asset_id(q.underlying)?.to_string(),
            q.expiry.to_string(),
            strike_text(q.strike),
            q.vol.to_string(),
        ]);
    }

    let rates = market
        .rates
        .points()
        .iter()
        .map(|(tenor, rate)| vec![tenor.to_string(), rate.to_string()])
        .collect::<Vec<_>>();

    Ok(vec![
        ("members", csv_text(&member_columns, &members)),
        ("instruments", csv_text(&instrument_columns, &instruments)),
        ("positions", csv_text(&columns::POSITIONS, &positions)),
        ("collateral", csv_text(&columns::COLLATERAL, &collateral)),
        ("market/assets", csv_text(&columns::ASSETS, &assets)),
        (
            "market/correlation",
            csv_text(&correlation_header, &correlation),
        ),
        (
            "market/vol_surface",
            csv_text(&columns::VOL_SURFACE, &vol_surface),
        ),
        ("market/rates", csv_text(&columns::RATES, &rates)),
    ])
}

fn dangling(what: &str, index: usize) -> InputError {
    InputError::invalid(
        Location::file("snapshot"),
        format!("refers to {what} index {index}, which does not exist"),
    )
}

/// CSV text (RFC 4180): the header line, then one line per row, each ended by
/// `\n`; a field holding a comma, a quote or a line break (`\n` or `\r`) is
/// quoted, its quotes doubled, so it reads back as one field with the same text.
pub fn csv_text(header: &[&str], rows: &[Vec<String>]) -> String {
    let mut out = String::new();
    let mut line = |fields: &mut dyn Iterator<Item = &str>| {
        for (i, field) in fields.enumerate() {
            if i > 0 {
                out.push(',');
            }
            out.push_str(&csv_field(field));
        }
        out.push('\n');
    };
    line(&mut header.iter().copied());
    for row in rows {
        line(&mut row.iter().map(String::as_str));
    }
    out
}

fn csv_field(field: &str) -> Cow<'_, str> {
    if field.contains([',', '"', '\n', '\r']) {
        Cow::Owned(format!("\"{}\"", field.replace('"', "\"\"")))
    } else {
        Cow::Borrowed(field)
    }
}

/// The text of a vol-surface strike. The surface keeps ln K, and `strike` is
/// exp(ln K), which can be an ulp or two off the strike that was read. Of the
/// floats near it whose log is the same as its own, write the one with the
/// shortest text: in practice the strike as it was read, so the reloaded surface
/// holds the same ln K.
fn strike_text(strike: f64) -> String {
    /// How many floats either side to look at: the spread of exp(ln K) around K
    /// grows with |ln K|, a few ulps for any strike a market lists.
    const SEARCH_ULPS: u64 = 64;
    let mut best = strike.to_string();
    if !(strike.is_finite() && strike > 0.0) {
        return best;
    }
    let ln_k = strike.ln();
    let bits = strike.to_bits();
    for offset in 1..=SEARCH_ULPS {
        for candidate in [bits.checked_add(offset), bits.checked_sub(offset)]
            .into_iter()
            .flatten()
        {
            let c = f64::from_bits(candidate);
            if c.is_finite() && c > 0.0 && c.ln() == ln_k {
                let text = c.to_string();
                if text.len() < best.len() {
                    best = text;
                }
            }
        }
    }
    best
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::input::bounds;

    #[test]
    fn fields_with_commas_quotes_or_line_breaks_are_quoted() {
        let text = csv_text(
            &["a", "b"],
            &[
                vec!["x,y".into(), "say \"hi\"".into()],
                vec!["1".into(), "".into()],
            ],
        );
        assert_eq!(text, "a,b\n\"x,y\",\"say \"\"hi\"\"\"\n1,\n");
    }

    #[test]
    fn a_carriage_return_is_quoted_like_a_line_feed() {
        let text = csv_text(
            &["a", "b"],
            &[
                vec!["x\ry".into(), "\r\n".into()],
                vec!["\"\r".into(), "z".into()],
            ],
        );
        assert_eq!(text, "a,b\n\"x\ry\",\"\r\n\"\n\"\"\"\r\",z\n");
    }

    /// Text that needs quoting, written by the writer, reads back through the
    /// loader as the same text, field for field. (Not leading or trailing
    /// spaces: the loader trims every field.)
    #[test]
    fn awkward_text_round_trips_through_the_loader() {
        let tables = [
            ("members", "member_id,name,group,df_contribution\nCM1,a,,0\nCM2,b,,0\n"),
            (
                "instruments",
                "instrument_id,kind,underlying,settlement,contract_size,expiry,strike,option_type\n\
                 BTC-PERP,perpetual,BTC,linear,0.01,,,\n",
            ),
            ("positions", "member_id,instrument_id,quantity\nCM1,BTC-PERP,1\nCM2,BTC-PERP,-1\n"),
            ("collateral", "member_id,asset,amount\n"),
            (
                "market/assets",
                "asset,class,spot,volatility,funding_rate_8h,basis,adv_usd,synthetic,source\n\
                 BTC,crypto,97600.1,0.3,0.0001,0.1,5e10,false,x\n",
            ),
            ("market/correlation", "asset,BTC\nBTC,1\n"),
            ("market/vol_surface", "underlying,expiry,strike,implied_vol\n"),
            ("market/rates", "tenor_days,rate\n30,0.0433\n"),
        ];
        let config = "valuation_date = \"2025-02-20\"\n";
        let mut snapshot = super::super::from_csv_texts(&tables, config, "test").unwrap();
        let awkward = [
            "comma, inside",
            "a \"quoted\" word",
            "line\nfeed",
            "carriage\rreturn",
            "both\r\nends\r\n",
            "\"",
        ];
        snapshot.members[0].name = awkward[..3].join("|");
        snapshot.members[1].name = awkward[3..].join("|");
        snapshot.members[1].group = awkward.concat();
        snapshot.market.assets[0].source = awkward.join(",");
        let written = snapshot_csv_tables(&snapshot).unwrap();
        let texts: Vec<(&str, &str)> = written.iter().map(|(n, t)| (*n, t.as_str())).collect();
        let back = super::super::from_csv_texts(&texts, config, "test").unwrap();
        assert_eq!(back.members, snapshot.members);
        assert_eq!(back.market.assets, snapshot.market.assets);
    }

    /// A USDT-margined contract's `settlement_asset` is written, and reads
    /// back; a book without one is written without the column.
    #[test]
    fn a_settlement_stablecoin_round_trips_through_the_loader() {
        let tables = [
            ("members", "member_id,name,group,df_contribution\nCM1,a,,0\nCM2,b,,0\n"),
            (
                "instruments",
                "instrument_id,kind,underlying,settlement,contract_size,expiry,strike,option_type,settlement_asset\n\
                 BTC-USDT,perpetual,BTC,linear,0.001,,,,USDT\n\
                 BTC-PERP,perpetual,BTC,linear,0.01,,,,USD\n\
                 BTC-INV,perpetual,BTC,inverse,100,,,,BTC\n",
            ),
            ("positions", "member_id,instrument_id,quantity\nCM1,BTC-USDT,1\nCM2,BTC-USDT,-1\n"),
            ("collateral", "member_id,asset,amount\n"),
            (
                "market/assets",
                "asset,class,spot,volatility,funding_rate_8h,basis,adv_usd,synthetic,source\n\
                 BTC,crypto,97600.1,0.3,0.0001,0.1,5e10,false,x\n\
                 USDT,stablecoin,0.9998,0.01,0,0,1e11,false,x\n",
            ),
            ("market/correlation", "asset,BTC,USDT\nBTC,1,0.1\nUSDT,0.1,1\n"),
            ("market/vol_surface", "underlying,expiry,strike,implied_vol\n"),
            ("market/rates", "tenor_days,rate\n30,0.0433\n"),
        ];
        let config = "valuation_date = \"2025-02-20\"\n";
        let mut snapshot = super::super::from_csv_texts(&tables, config, "test").unwrap();
        let settles: Vec<Option<usize>> =
            snapshot.instruments.iter().map(|i| i.stablecoin).collect();
        assert_eq!(settles, [Some(1), None, None]);
        let written = snapshot_csv_tables(&snapshot).unwrap();
        let texts: Vec<(&str, &str)> = written.iter().map(|(n, t)| (*n, t.as_str())).collect();
        let back = super::super::from_csv_texts(&texts, config, "test").unwrap();
        assert_eq!(back.instruments, snapshot.instruments);

        snapshot.instruments[0].stablecoin = None;
        let written = snapshot_csv_tables(&snapshot).unwrap();
        let instruments = &written.iter().find(|t| t.0 == "instruments").unwrap().1;
        assert!(!instruments.contains("settlement_asset"), "{instruments}");
    }

    /// Every key and section a user may edit carries a comment above it; the
    /// text ends with a newline and reads back as the same configuration.
    #[test]
    fn the_written_configuration_explains_every_key_and_reads_back() {
        let mut config: CcpConfig = toml::from_str("valuation_date = \"2025-02-20\"").unwrap();
        config.scenario.jumps = Some(super::super::JumpConfig {
            intensity_per_year: 3.0,
            mean_sigmas: -2.5,
            stdev_sigmas: 1.5,
        });
        config.scenario.historical = Some(super::super::HistoricalConfig {
            history: "history.csv".into(),
            ..Default::default()
        });
        config.scenario.stress = vec!["scenarios".into()];
        config.collateral.haircuts.insert("BTC".into(), 0.15);
        config.liquidity.resources.insert("USD".into(), 1e8);
        config.close_out.horizon_days = Some(5.0);
        config
            .close_out
            .half_spread_by_asset
            .insert("BTC".into(), 0.0001);
        let text = config_text(&config).unwrap();
        assert!(text.ends_with("\n"), "{text}");
        assert_eq!(toml::from_str::<CcpConfig>(&text).unwrap(), config);
        let lines: Vec<&str> = text.lines().collect();
        let mut section = "";
        for (i, line) in lines.iter().enumerate() {
            if line.is_empty() || line.starts_with('#') {
                continue;
            }
            if line.starts_with('[') {
                section = line;
            }
            let explained = i > 0 && lines[i - 1].starts_with("# ");
            assert!(
                explained
                    || [
                        "[collateral.haircuts]",
                        "[close_out.half_spread_by_asset]",
                        "[liquidity.resources]",
                    ]
                    .contains(&section)
                        && !line.starts_with('['),
                "no comment above `{line}`:\n{text}"
            );
        }
        assert!(
            text.contains(&format!("in {}", bounds::CONFIDENCE)),
            "{text}"
        );
    }

    #[test]
    fn a_strike_written_from_its_log_reads_back_to_the_same_log() {
        for strike in [100_000.0, 0.9995, 2650.0, 1.0e-4, 123_456.789, 0.35] {
            let through_log = f64::ln(strike).exp();
            let text = strike_text(through_log);
            let back: f64 = text.parse().unwrap();
            assert_eq!(
                back.ln(),
                f64::ln(strike),
                "{strike} -> {through_log} -> {text}"
            );
            assert_eq!(text, strike.to_string());
        }
    }
}
