//! Deterministic synthetic clearing houses on the real market.
//!
//! Members follow a power law in size (a few dealers carry most of the notional,
//! many small accounts carry little), with a business type that sets their
//! behaviour: dealers run two-sided, nearly hedged books and sell options; funds
//! are directional and buy options; prop traders are mixed; brokers' clients are
//! mostly long. Some small members are affiliates of a dealer (one default group).
//! Collateral is a random multiple of gross notional in a mix by type (funds post
//! BTC and ETH against long books: wrong-way risk), so some members are short of
//! margin. Every draw comes from one Philox stream of the seed.

use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::path::{Path, PathBuf};

use rand::RngExt;

use super::{IMPLIED_VOL_CSV, REAL_ASSETS_CSV, REAL_CORRELATION_CSV};
use crate::rng::PhiloxRng;
use crate::snapshot::{self, bounds, CcpConfig, Date, InputError, Location, Snapshot, Table};

/// The shape of a generated book.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SampleSpec {
    pub members: usize,
    /// Total assets: the real ten first (or fewer), then synthetic ones.
    pub assets: usize,
    /// Option positions across all members.
    pub options: usize,
    pub seed: u64,
}

impl Default for SampleSpec {
    /// The embedded sample: 64 members, the 10 real assets and 4 synthetic ones,
    /// 400 option positions.
    fn default() -> Self {
        Self {
            members: 64,
            assets: 14,
            options: 400,
            seed: 20_250_220,
        }
    }
}

/// A generated snapshot as the files `clearstress init` writes.
#[derive(Debug, Clone)]
pub struct SampleFiles {
    /// (logical table name, CSV text), e.g. ("market/assets", "asset,class,...").
    pub tables: Vec<(String, String)>,
    pub config: CcpConfig,
}

impl SampleFiles {
    /// Loads the files through the same validation as a user's snapshot.
    pub fn load(&self, origin: &str) -> Result<Snapshot, InputError> {
        let tables: Vec<(&str, &str)> = self
            .tables
            .iter()
            .map(|(n, t)| (n.as_str(), t.as_str()))
            .collect();
        let config = toml::to_string(&self.config).map_err(|e| {
            InputError::invalid(
                Location::file("embedded:ccp.toml"),
                format!("cannot serialise the sample config: {e}"),
            )
        })?;
        snapshot::from_csv_texts(&tables, &config, origin)
    }

    /// Writes the tables, `ccp.toml` and the built-in stress scenarios (under
    /// `scenarios/`, which the written config points to) into `dir`.
    pub fn write(&self, dir: &Path) -> Result<Vec<PathBuf>, InputError> {
        let mut written = Vec::new();
        let mut put = |relative: &str, text: &str| -> Result<(), InputError> {
            let path = dir.join(relative);
            if let Some(parent) = path.parent() {
                std::fs::create_dir_all(parent)
                    .map_err(|e| InputError::io(parent.display().to_string(), e))?;
            }
            std::fs::write(&path, text)
                .map_err(|e| InputError::io(path.display().to_string(), e))?;
            written.push(path);
            Ok(())
        };
        for (name, text) in &self.tables {
            put(&format!("{name}.csv"), text)?;
        }
        for (name, text) in super::STRESS_SCENARIOS {
            put(&format!("scenarios/{name}"), text)?;
        }
        let mut config = self.config.clone();
        config.scenario.stress = vec!["scenarios".to_string()];
        let text = toml::to_string(&config).map_err(|e| {
            InputError::invalid(
                Location::file(dir.join("ccp.toml").display().to_string()),
                e.to_string(),
            )
        })?;
        put("ccp.toml", &text)?;
        Ok(written)
    }
}

#[derive(Debug, Clone)]
struct RealAsset {
    id: String,
    stablecoin: bool,
    spot: f64,
    vol: f64,
    funding: f64,
    basis: f64,
    source: String,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum MemberType {
    Dealer,
    Fund,
    Prop,
    Broker,
}

const VALUATION_DATE: &str = "2025-02-20";
const FUTURE_EXPIRIES: [&str; 3] = ["2025-03-28", "2025-06-27", "2025-09-26"];
const OPTION_EXPIRIES: [&str; 4] = ["2025-02-28", "2025-03-28", "2025-06-27", "2025-09-26"];
const OPTION_MONEYNESS: [f64; 11] = [0.6, 0.7, 0.8, 0.9, 0.95, 1.0, 1.05, 1.1, 1.2, 1.3, 1.5];

/// Generates a book of the given shape on the embedded real market.
pub fn generate(spec: &SampleSpec) -> Result<SampleFiles, InputError> {
    if spec.members < 2 || spec.assets < 2 {
        return Err(InputError::invalid(
            Location::file("init"),
            format!(
                "a book needs at least 2 members and 2 assets, asked for {} and {}",
                spec.members, spec.assets
            ),
        ));
    }
    let real = real_assets()?;
    let real_corr = real_correlation(&real)?;
    let mut rng = PhiloxRng::new(spec.seed);
    let today = Date::parse(VALUATION_DATE).expect("a valid constant date");

    // Assets: real ones first, keeping the stablecoins, then synthetic altcoins
    // loaded on a BTC/ETH/SOL market factor so the correlation stays PSD.
    let crypto_real: Vec<usize> = (0..real.len()).filter(|&i| !real[i].stablecoin).collect();
    let stable_real: Vec<usize> = (0..real.len()).filter(|&i| real[i].stablecoin).collect();
    let real_take = spec.assets.min(real.len());
    let mut chosen: Vec<usize> = crypto_real
        .iter()
        .copied()
        .take(real_take.saturating_sub(stable_real.len().min(real_take / 2)))
        .collect();
    chosen.extend(stable_real.iter().copied().take(real_take - chosen.len()));
    chosen.sort_unstable();
    let synthetic = spec.assets - chosen.len();
    let n = spec.assets;
    let factor: Vec<(usize, f64)> = [("BTC", 0.5), ("ETH", 0.3), ("SOL", 0.2)]
        .iter()
        .filter_map(|(id, w)| {
            chosen
                .iter()
                .position(|&c| real[c].id == *id)
                .map(|i| (i, *w))
        })
        .collect();
    let mut corr = vec![0.0; n * n];
    for (i, &ri) in chosen.iter().enumerate() {
        for (j, &rj) in chosen.iter().enumerate() {
            corr[i * n + j] = real_corr[ri * real.len() + rj];
        }
    }
    // Factor f = sum w_i x_i over chosen real assets: cov(f, x_j) and var(f).
    let cov_f: Vec<f64> = (0..chosen.len())
        .map(|j| factor.iter().map(|&(i, w)| w * corr[i * n + j]).sum())
        .collect();
    let var_f: f64 = factor
        .iter()
        .map(|&(i, w)| w * cov_f[i])
        .sum::<f64>()
        .max(1e-12);
    let loadings: Vec<f64> = (0..synthetic)
        .map(|_| rng.random_range(0.45..0.85))
        .collect();
    for (k, &a) in loadings.iter().enumerate() {
        let i = chosen.len() + k;
        for j in 0..chosen.len() {
            let c = if factor.is_empty() {
                0.0
            } else {
                a * cov_f[j] / var_f.sqrt()
            };
            corr[i * n + j] = c;
            corr[j * n + i] = c;
        }
        for (l, &b) in loadings.iter().enumerate() {
            corr[i * n + chosen.len() + l] = if l == k { 1.0 } else { a * b };
        }
    }
    // z_k = a_k f / sd(f) + sqrt(1 - a_k^2) e_k: the joint matrix is a covariance by
    // construction, so PSD.
    struct GenAsset {
        id: String,
        stablecoin: bool,
        spot: f64,
        vol: f64,
        funding: f64,
        basis: f64,
        synthetic: bool,
        source: String,
    }
    let btc = real.iter().find(|a| a.id == "BTC");
    let mut assets: Vec<GenAsset> = chosen
        .iter()
        .map(|&r| {
            let a = &real[r];
            GenAsset {
                id: a.id.clone(),
                stablecoin: a.stablecoin,
                spot: a.spot,
                vol: a.vol,
                funding: a.funding,
                basis: a.basis,
                synthetic: false,
                source: a.source.clone(),
            }
        })
        .collect();
    for (k, loading) in loadings.iter().enumerate() {
        let spot = round_sig(10f64.powf(rng.random_range(-1.5..2.5)), 4);
        assets.push(GenAsset {
            id: format!("SYN{:02}", k + 1),
            stablecoin: false,
            spot,
            vol: round_sig(rng.random_range(0.6..1.3), 3),
            funding: btc.map_or(0.0001, |b| b.funding),
            basis: btc.map_or(0.1, |b| b.basis),
            synthetic: true,
            source: format!("synthetic (clearstress init seed {}): altcoin-range vol; factor loading {:.3} on BTC/ETH/SOL", spec.seed, loading),
        });
    }

    let mut tables = Vec::new();
    let mut csv =
        String::from("asset,class,spot,volatility,funding_rate_8h,basis,synthetic,source\n");
    for a in &assets {
        let class = if a.stablecoin { "stablecoin" } else { "crypto" };
        let _ = writeln!(
            csv,
            "{},{class},{},{},{},{},{},{}",
            a.id,
            a.spot,
            a.vol,
            a.funding,
            a.basis,
            a.synthetic,
            quote(&a.source)
        );
    }
    tables.push(("market/assets".to_string(), csv));
    let mut csv = String::from("asset");
    for a in &assets {
        let _ = write!(csv, ",{}", a.id);
    }
    csv.push('\n');
    for (i, a) in assets.iter().enumerate() {
        csv.push_str(&a.id);
        for j in 0..n {
            let _ = write!(csv, ",{}", round_dp(corr[i * n + j], 6));
        }
        csv.push('\n');
    }
    tables.push(("market/correlation".to_string(), csv));

    // Implied vols for the option underlyings present (BTC, ETH).
    let smiles = implied_vol_params()?;
    let mut csv = String::from("underlying,expiry,strike,implied_vol\n");
    let option_assets: Vec<usize> = (0..assets.len())
        .filter(|&i| smiles.contains_key(assets[i].id.as_str()))
        .collect();
    for &i in &option_assets {
        let p = smiles[assets[i].id.as_str()];
        for expiry in OPTION_EXPIRIES {
            let e = Date::parse(expiry).expect("a valid constant date");
            let t = f64::from(today.days_until(e)) / 365.0;
            let forward = assets[i].spot * (assets[i].basis * t).exp();
            for step in 0..=15 {
                let k = 0.5 + 0.1 * f64::from(step);
                let strike = nice_strike(forward * k, assets[i].spot);
                let x = (strike / forward).ln();
                let vol =
                    p.atm * (1.0 + p.skew * x + p.curvature * x * x) * (1.0 + p.term_slope * t);
                let _ = writeln!(
                    csv,
                    "{},{expiry},{strike},{}",
                    assets[i].id,
                    round_dp(vol, 4)
                );
            }
        }
    }
    tables.push(("market/vol_surface".to_string(), dedup_lines(csv)));
    tables.push((
        "market/rates".to_string(),
        "tenor_days,rate\n30,0.0433\n90,0.0431\n180,0.0425\n365,0.0415\n".to_string(),
    ));

    // Instruments.
    struct Inst {
        id: String,
        asset: usize,
        inverse: bool,
        size: f64,
        option: bool,
    }
    let mut instruments: Vec<Inst> = Vec::new();
    let mut inst_csv = String::from(
        "instrument_id,kind,underlying,settlement,contract_size,expiry,strike,option_type\n",
    );
    let add = |instruments: &mut Vec<Inst>,
               csv: &mut String,
               inst: Inst,
               kind: &str,
               expiry: &str,
               strike: &str,
               right: &str| {
        let settlement = if inst.inverse { "inverse" } else { "linear" };
        let _ = writeln!(
            csv,
            "{},{kind},{},{settlement},{},{expiry},{strike},{right}",
            inst.id, assets[inst.asset].id, inst.size
        );
        instruments.push(inst);
    };
    for (i, a) in assets.iter().enumerate() {
        if a.stablecoin {
            continue;
        }
        let size = 10f64.powf((1000.0 / a.spot).log10().round());
        add(
            &mut instruments,
            &mut inst_csv,
            Inst {
                id: format!("{}-PERP", a.id),
                asset: i,
                inverse: false,
                size,
                option: false,
            },
            "perpetual",
            "",
            "",
            "",
        );
        let majors = a.id == "BTC" || a.id == "ETH";
        if majors {
            let face = if a.id == "BTC" { 100.0 } else { 10.0 };
            add(
                &mut instruments,
                &mut inst_csv,
                Inst {
                    id: format!("{}-USD-INV-PERP", a.id),
                    asset: i,
                    inverse: true,
                    size: face,
                    option: false,
                },
                "perpetual",
                "",
                "",
                "",
            );
        }
        for (e, expiry) in FUTURE_EXPIRIES.iter().enumerate() {
            if !majors && e > 0 {
                break;
            }
            let tag = expiry.replace('-', "");
            add(
                &mut instruments,
                &mut inst_csv,
                Inst {
                    id: format!("{}-FUT-{tag}", a.id),
                    asset: i,
                    inverse: false,
                    size,
                    option: false,
                },
                "future",
                expiry,
                "",
                "",
            );
            if majors {
                let face = if a.id == "BTC" { 100.0 } else { 10.0 };
                add(
                    &mut instruments,
                    &mut inst_csv,
                    Inst {
                        id: format!("{}-USD-INV-{tag}", a.id),
                        asset: i,
                        inverse: true,
                        size: face,
                        option: false,
                    },
                    "future",
                    expiry,
                    "",
                    "",
                );
            }
        }
    }
    let linear_count = instruments.len();
    if spec.options > 0 {
        for &i in &option_assets {
            for expiry in OPTION_EXPIRIES {
                let tag = expiry.replace('-', "");
                for m in OPTION_MONEYNESS {
                    let strike = nice_strike(assets[i].spot * m, assets[i].spot);
                    for (right, letter) in [("call", "C"), ("put", "P")] {
                        for inverse in [true, false] {
                            let suffix = if inverse { "" } else { "-USDC" };
                            let id = format!("{}-{tag}-{strike}-{letter}{suffix}", assets[i].id);
                            let size = if inverse { 1.0 } else { 0.1 };
                            add(
                                &mut instruments,
                                &mut inst_csv,
                                Inst {
                                    id,
                                    asset: i,
                                    inverse,
                                    size,
                                    option: true,
                                },
                                "option",
                                expiry,
                                &strike.to_string(),
                                right,
                            );
                        }
                    }
                }
            }
        }
    }
    tables.push(("instruments".to_string(), inst_csv));

    // Members.
    let m_count = spec.members;
    let dealers = (m_count / 16).max(1);
    let funds = (m_count * 3 / 16).max(1);
    let props = m_count * 5 / 16;
    let member_type = |r: usize| match r {
        r if r < dealers => MemberType::Dealer,
        r if r < dealers + funds => MemberType::Fund,
        r if r < dealers + funds + props => MemberType::Prop,
        _ => MemberType::Broker,
    };
    let mut members_csv = String::from("member_id,name,group,df_contribution\n");
    let mut size_usd = Vec::with_capacity(m_count);
    let mut group = Vec::with_capacity(m_count);
    for r in 0..m_count {
        let id = format!("CM{:04}", r + 1);
        let size = 3.0e9 * ((r + 1) as f64).powf(-1.1) * rng.random_range(0.7..1.3);
        let (label, kind) = match member_type(r) {
            MemberType::Dealer => ("Dealer", "Securities"),
            MemberType::Fund => ("Fund", "Capital"),
            MemberType::Prop => ("Prop", "Trading"),
            MemberType::Broker => ("Broker", "Markets"),
        };
        // Every fourth broker is an affiliate of a dealer.
        let affiliate_of =
            (member_type(r) == MemberType::Broker && r % 4 == 0).then(|| r % dealers);
        let (name, g) = match affiliate_of {
            Some(d) => (
                format!("Dealer {:02} Affiliate {:04}", d + 1, r + 1),
                format!("G-CM{:04}", d + 1),
            ),
            None => (format!("{label} {:04} {kind}", r + 1), format!("G-{id}")),
        };
        let contribution = round_dp(size * 0.004 * rng.random_range(0.5..1.5), 0);
        let _ = writeln!(members_csv, "{id},{name},{g},{contribution}");
        size_usd.push(size);
        group.push(g);
    }
    tables.push(("members".to_string(), members_csv));

    // Positions, merged per (member, instrument).
    let mut positions: BTreeMap<(usize, usize), f64> = BTreeMap::new();
    let weight_of = |a: &GenAsset| match a.id.as_str() {
        "BTC" => 6.0,
        "ETH" => 3.5,
        _ if a.synthetic => 0.4,
        _ => 1.0,
    };
    let linear_weights: Vec<f64> = instruments[..linear_count]
        .iter()
        .map(|i| weight_of(&assets[i.asset]))
        .collect();
    let total_weight: f64 = linear_weights.iter().sum();
    for (r, &size) in size_usd.iter().enumerate() {
        let kind = member_type(r);
        let count = match kind {
            MemberType::Dealer => 12 + linear_count.min(40) / 2,
            MemberType::Fund => rng.random_range(3..9),
            MemberType::Prop => rng.random_range(2..7),
            MemberType::Broker => rng.random_range(1..4),
        };
        let long_bias = match kind {
            MemberType::Dealer => 0.5,
            MemberType::Fund => 0.75,
            MemberType::Prop => 0.5,
            MemberType::Broker => 0.85,
        };
        for _ in 0..count {
            let pick = pick_weighted(&mut rng, &linear_weights, total_weight);
            let inst = &instruments[pick];
            let notional = size / count as f64 * rng.random_range(0.3..1.7);
            let sign = if rng.random_bool(long_bias) {
                1.0
            } else {
                -1.0
            };
            let per_contract = if inst.inverse {
                inst.size
            } else {
                inst.size * assets[inst.asset].spot
            };
            let contracts = (notional / per_contract).round().max(1.0);
            *positions.entry((r, pick)).or_insert(0.0) += sign * contracts;
        }
    }
    if spec.options > 0 && linear_count < instruments.len() {
        let option_range = linear_count..instruments.len();
        let member_weight: Vec<f64> = size_usd.iter().map(|s| s.sqrt()).collect();
        let total_member_weight: f64 = member_weight.iter().sum();
        for _ in 0..spec.options {
            let r = pick_weighted(&mut rng, &member_weight, total_member_weight);
            let pick = rng.random_range(option_range.clone());
            let inst = &instruments[pick];
            let short_bias = match member_type(r) {
                MemberType::Dealer => 0.65,
                MemberType::Fund => 0.3,
                MemberType::Prop => 0.5,
                MemberType::Broker => 0.15,
            };
            let notional = size_usd[r] * 0.02 * rng.random_range(0.2..1.8);
            let contracts = (notional / (inst.size * assets[inst.asset].spot))
                .round()
                .max(1.0);
            let sign = if rng.random_bool(short_bias) {
                -1.0
            } else {
                1.0
            };
            *positions.entry((r, pick)).or_insert(0.0) += sign * contracts;
        }
    }
    let mut positions_csv = String::from("member_id,instrument_id,quantity\n");
    let mut gross = vec![0.0; m_count];
    for (&(r, i), &q) in &positions {
        if q == 0.0 {
            continue;
        }
        let inst = &instruments[i];
        let per_contract = if inst.inverse && !inst.option {
            inst.size
        } else {
            inst.size * assets[inst.asset].spot
        };
        gross[r] += q.abs() * per_contract;
        let _ = writeln!(positions_csv, "CM{:04},{},{q}", r + 1, inst.id);
    }
    tables.push(("positions".to_string(), positions_csv));

    // Collateral: a multiple of gross notional, in a mix by member type.
    let mut collateral_csv = String::from("member_id,asset,amount\n");
    let has = |id: &str| assets.iter().position(|a| a.id == id);
    for (r, &member_gross) in gross.iter().enumerate() {
        let value = member_gross * rng.random_range(0.04..0.22);
        let mix: &[(&str, f64)] = match member_type(r) {
            MemberType::Dealer => &[("USD", 0.5), ("USDC", 0.3), ("BTC", 0.2)],
            MemberType::Fund => &[("BTC", 0.5), ("ETH", 0.2), ("USDT", 0.3)],
            MemberType::Prop => &[("USDT", 0.6), ("BTC", 0.4)],
            MemberType::Broker => &[("USDT", 0.7), ("USD", 0.3)],
        };
        let mut cash = 0.0;
        for &(id, share) in mix {
            match (id, has(id)) {
                ("USD", _) => cash += value * share,
                (_, Some(a)) => {
                    let amount = round_sig(value * share / assets[a].spot, 6);
                    let _ = writeln!(collateral_csv, "CM{:04},{id},{amount}", r + 1);
                }
                (_, None) => cash += value * share,
            }
        }
        if cash > 0.0 {
            let _ = writeln!(collateral_csv, "CM{:04},USD,{}", r + 1, round_dp(cash, 0));
        }
    }
    tables.push(("collateral".to_string(), collateral_csv));

    let mut config = CcpConfig {
        valuation_date: VALUATION_DATE.to_string(),
        risk: Default::default(),
        scenario: Default::default(),
        collateral: Default::default(),
        default_fund: Default::default(),
    };
    for (id, haircut) in [
        ("USD", 0.0),
        ("USDT", 0.05),
        ("USDC", 0.03),
        ("BTC", 0.15),
        ("ETH", 0.20),
    ] {
        config.collateral.haircuts.insert(id.to_string(), haircut);
    }
    config.default_fund.skin_in_the_game = round_dp(size_usd.iter().sum::<f64>() * 0.0005, -5);
    config.scenario.jumps = Some(snapshot::JumpConfig {
        intensity_per_year: 3.0,
        mean_sigmas: -2.5,
        stdev_sigmas: 1.5,
    });
    Ok(SampleFiles { tables, config })
}

fn real_assets() -> Result<Vec<RealAsset>, InputError> {
    let table = Table::from_csv_bytes(
        "embedded:src/sample/market/assets.csv",
        REAL_ASSETS_CSV.as_bytes(),
    )?;
    table
        .rows()
        .map(|row| {
            Ok(RealAsset {
                id: row.str("asset")?.to_string(),
                stablecoin: row.str("class")? == "stablecoin",
                spot: row.f64_in("spot", &bounds::PRICE)?,
                vol: row.f64_in("volatility", &bounds::VOLATILITY)?,
                funding: row.f64_in("funding_rate_8h", &bounds::FUNDING_RATE_8H)?,
                basis: row.f64_in("basis", &bounds::BASIS)?,
                source: row.opt_str("source")?.unwrap_or_default().to_string(),
            })
        })
        .collect()
}

fn real_correlation(real: &[RealAsset]) -> Result<Vec<f64>, InputError> {
    let table = Table::from_csv_bytes(
        "embedded:src/sample/market/correlation.csv",
        REAL_CORRELATION_CSV.as_bytes(),
    )?;
    let n = real.len();
    let mut corr = vec![0.0; n * n];
    for (i, row) in table.rows().enumerate() {
        for (j, a) in real.iter().enumerate() {
            if i < n {
                corr[i * n + j] = row.f64_in(&a.id, &bounds::CORRELATION)?;
            }
        }
    }
    Ok(corr)
}

#[derive(Debug, Clone, Copy)]
struct SmileParams {
    atm: f64,
    skew: f64,
    curvature: f64,
    term_slope: f64,
}

fn implied_vol_params() -> Result<BTreeMap<String, SmileParams>, InputError> {
    let table = Table::from_csv_bytes(
        "embedded:src/sample/market/implied_vol.csv",
        IMPLIED_VOL_CSV.as_bytes(),
    )?;
    table
        .rows()
        .map(|row| {
            Ok((
                row.str("underlying")?.to_string(),
                SmileParams {
                    atm: row.f64_in("atm_vol", &bounds::IMPLIED_VOL)?,
                    skew: row.f64("skew")?,
                    curvature: row.f64("curvature")?,
                    term_slope: row.f64("term_slope")?,
                },
            ))
        })
        .collect()
}

fn pick_weighted(rng: &mut PhiloxRng, weights: &[f64], total: f64) -> usize {
    let mut x = rng.random_range(0.0..total);
    for (i, w) in weights.iter().enumerate() {
        if x < *w {
            return i;
        }
        x -= w;
    }
    weights.len() - 1
}

/// A strike on the grid a venue would list: 1,000s for BTC-sized prices, 50s for
/// ETH-sized, 3 significant digits otherwise.
fn nice_strike(x: f64, spot: f64) -> f64 {
    let step = if spot > 20_000.0 {
        1000.0
    } else if spot > 1000.0 {
        50.0
    } else {
        10f64.powf(x.log10().floor() - 2.0)
    };
    ((x / step).round() * step).max(step)
}

fn round_sig(x: f64, digits: i32) -> f64 {
    if x == 0.0 {
        return 0.0;
    }
    let scale = 10f64.powi(digits - 1 - x.abs().log10().floor() as i32);
    (x * scale).round() / scale
}

fn round_dp(x: f64, places: i32) -> f64 {
    let scale = 10f64.powi(places);
    (x * scale).round() / scale
}

fn quote(field: &str) -> String {
    if field.contains([',', '"', '\n']) {
        format!("\"{}\"", field.replace('"', "\"\""))
    } else {
        field.to_string()
    }
}

/// Drops repeated lines (strikes that round to the same grid point).
fn dedup_lines(csv: String) -> String {
    let mut seen = std::collections::HashSet::new();
    let mut out = String::with_capacity(csv.len());
    for line in csv.lines() {
        if seen.insert(line.to_string()) {
            out.push_str(line);
            out.push('\n');
        }
    }
    out
}
