//! Deterministic synthetic clearing houses on the real market.
//!
//! Members follow a power law in size (a few dealers carry most of the notional,
//! many small accounts carry little), with a business type that sets their
//! behaviour: dealers run two-sided books, each trade hedged in another contract
//! on the same coin, and sell options; funds lean long and buy options; prop
//! traders lean short (basis trades); brokers' clients are mostly long. Some small
//! members are affiliates of a dealer (one default group).
//!
//! The book is what a clearing house holds: matched, every instrument's net open
//! interest zero (the liquidity providers take the other side of what the flow
//! leaves open, [`match_book`]); collateral, in a mix by type (funds post BTC and
//! ETH against long books: wrong-way risk), sized from each member's margin under
//! the configured model, with headroom, but for a few members left short (the
//! day's margin calls); and a default fund sized to the book's own Cover-n on
//! the stress scenarios. Margins and stress losses are measured with the library
//! itself ([`super::sizing`]). Every draw comes from one Philox stream of the seed.

use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::path::{Path, PathBuf};

use rand::RngExt;

use super::sizing;
use super::{IMPLIED_VOL_CSV, REAL_ASSETS_CSV, REAL_CORRELATION_CSV};
use crate::default_fund::{self, DefaultFundInput};
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
/// Prefunded resources (members' contributions and the CCP's skin in the
/// game) above the book's own Cover-2 requirement.
const FUND_MARGIN: f64 = 0.10;
/// The CCP's skin in the game as a share of the prefunded resources.
const SKIN_SHARE: f64 = 0.05;
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
    // Members: sizes, types and default groups (names and contributions are
    // written once the fund is sized, below).
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
    let mut size_usd = Vec::with_capacity(m_count);
    let mut names = Vec::with_capacity(m_count);
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
        size_usd.push(size);
        names.push(name);
        group.push(g);
    }

    // Positions, merged per (member, instrument), in whole contracts.
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
        // Brokers' clients are mostly long and funds lean long; prop traders
        // lean short (cash-and-carry: long spot away from the CCP, short
        // futures on it), so that the flow leaves the market makers a modest net.
        let long_bias = match kind {
            MemberType::Dealer => 0.5,
            MemberType::Fund => 0.6,
            MemberType::Prop => 0.35,
            MemberType::Broker => 0.75,
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
            // A dealer hedges each trade in another contract on the same
            // coin (a calendar or basis spread), leaving a small net.
            let hedges: Vec<usize> = (0..linear_count)
                .filter(|&h| h != pick && instruments[h].asset == inst.asset)
                .collect();
            if kind == MemberType::Dealer && !hedges.is_empty() {
                let h = hedges[rng.random_range(0..hedges.len())];
                let hedge = &instruments[h];
                let hedge_per_contract = if hedge.inverse {
                    hedge.size
                } else {
                    hedge.size * assets[hedge.asset].spot
                };
                let ratio = per_contract / hedge_per_contract * rng.random_range(0.9..1.1);
                let hedge_contracts = (contracts * ratio).round().max(1.0);
                *positions.entry((r, h)).or_insert(0.0) -= sign * hedge_contracts;
            }
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
    let liquidity: Vec<f64> = (0..m_count)
        .map(|r| match member_type(r) {
            MemberType::Dealer | MemberType::Prop => size_usd[r].sqrt(),
            _ => 0.0,
        })
        .collect();
    match_book(&mut positions, &liquidity, instruments.len(), &mut rng);
    positions.retain(|_, q| *q != 0.0);
    let mut positions_csv = String::from("member_id,instrument_id,quantity\n");
    let mut held: Vec<Vec<(usize, f64)>> = vec![Vec::new(); m_count];
    for (&(r, i), &q) in &positions {
        held[r].push((i, q));
        let _ = writeln!(positions_csv, "CM{:04},{},{q}", r + 1, instruments[i].id);
    }

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
    config.scenario.jumps = Some(snapshot::JumpConfig {
        intensity_per_year: 3.0,
        mean_sigmas: -2.5,
        stdev_sigmas: 1.5,
    });

    // Collateral: sized from each member's margin as the configured model
    // measures it (sizing.rs), with headroom, in a mix by member type (funds
    // post BTC and ETH against long books: wrong-way risk, which the margin of
    // the book and its collateral together includes). A few members are left
    // short on purpose: the day's margin calls.
    let coins: Vec<&str> = ["USDT", "USDC", "BTC", "ETH"]
        .into_iter()
        .filter(|id| assets.iter().any(|a| a.id == *id))
        .collect();
    let instrument_ids: Vec<String> = instruments.iter().map(|i| i.id.clone()).collect();
    let units = sizing::UnitLosses::revalue(
        m_count,
        &tables,
        &inst_csv,
        &instrument_ids,
        &coins,
        &config,
    )?;
    let coin_unit = |id: &str| {
        coins.iter().position(|c| *c == id).map(|k| {
            (
                instruments.len() + k,
                assets.iter().position(|a| a.id == id),
            )
        })
    };
    // Margin calls fall on clients, not on the dealers; a partial
    // Fisher-Yates shuffle picks them without repeats.
    let mut callable: Vec<usize> = (dealers..m_count).collect();
    let calls = margin_calls(m_count).min(callable.len());
    let mut short = vec![false; m_count];
    for k in 0..calls {
        let j = rng.random_range(k..callable.len());
        callable.swap(k, j);
        short[callable[k]] = true;
    }
    let headroom: Vec<f64> = (0..m_count)
        .map(|r| {
            if short[r] {
                rng.random_range(0.75..0.95)
            } else {
                rng.random_range(1.3..2.2)
            }
        })
        .collect();
    let haircut_of = |id: &str| config.collateral.haircuts.get(id).copied().unwrap_or(0.0);
    let sized = sizing::per_member(m_count, |r| {
        let mix: &[(&str, f64)] = match member_type(r) {
            MemberType::Dealer => &[("USD", 0.5), ("USDC", 0.3), ("BTC", 0.2)],
            MemberType::Fund => &[("BTC", 0.5), ("ETH", 0.2), ("USDT", 0.3)],
            MemberType::Prop => &[("USDT", 0.6), ("BTC", 0.4)],
            MemberType::Broker => &[("USDT", 0.7), ("USD", 0.3)],
        };
        // Per USD of collateral value: coins held and value after haircuts.
        struct CoinLeg<'a> {
            unit: usize,
            asset: usize,
            id: &'a str,
            share: f64,
        }
        let mut per_usd: Vec<CoinLeg> = Vec::new();
        let mut cash_share = 0.0;
        let mut after_haircut = 0.0;
        for &(id, share) in mix {
            match coin_unit(id) {
                Some((unit, Some(a))) => {
                    per_usd.push(CoinLeg {
                        unit,
                        asset: a,
                        id,
                        share,
                    });
                    after_haircut += share * (1.0 - haircut_of(id));
                }
                _ => {
                    cash_share += share;
                    after_haircut += share * (1.0 - haircut_of("USD"));
                }
            }
        }
        let book = units.losses(&held[r]);
        let with = |value: f64| -> Vec<f64> {
            let coins: Vec<(usize, f64)> = per_usd
                .iter()
                .map(|c| (c.unit, value * c.share / assets[c.asset].spot))
                .collect();
            let extra = units.losses(&coins);
            book.iter().zip(extra).map(|(b, e)| b + e).collect()
        };
        // A fixed point of value = headroom x margin(book + collateral) /
        // haircut factor: coin collateral's own fall raises the margin a
        // little, so a few rounds settle it.
        let mut margin = units.margin(&book);
        let mut value = headroom[r] * margin / after_haircut;
        for _ in 0..4 {
            let next = units.margin(&with(value));
            let settled = (next - margin).abs() <= 1e-3 * margin;
            margin = next;
            value = headroom[r] * margin / after_haircut;
            if settled {
                break;
            }
        }
        let mut holdings: Vec<(usize, f64)> = Vec::new();
        let mut lines = Vec::new();
        let mut collateral_value = 0.0;
        for leg in &per_usd {
            let spot = assets[leg.asset].spot;
            let amount = ceil_sig(value * leg.share / spot, 3);
            if amount > 0.0 {
                holdings.push((leg.unit, amount));
                lines.push(format!("CM{:04},{},{amount}", r + 1, leg.id));
                collateral_value += amount * spot * (1.0 - haircut_of(leg.id));
            }
        }
        let cash = ceil_sig(value * cash_share, 3);
        if cash > 0.0 {
            lines.push(format!("CM{:04},USD,{cash}", r + 1));
            collateral_value += cash * (1.0 - haircut_of("USD"));
        }
        let mut all = held[r].clone();
        all.extend(&holdings);
        // The margin of the last round stands for the rounded-up collateral's
        // (within a few parts in a thousand): it only weighs the allocation.
        (lines, collateral_value, margin, units.stress_losses(&all))
    });
    let mut collateral_csv = String::from("member_id,asset,amount\n");
    for (lines, ..) in &sized {
        for line in lines {
            collateral_csv.push_str(line);
            collateral_csv.push('\n');
        }
    }
    let collateral_value: Vec<f64> = sized.iter().map(|s| s.1).collect();
    let initial_margin: Vec<f64> = sized.iter().map(|s| s.2).collect();
    let stress_losses: Vec<Vec<f64>> = sized.into_iter().map(|s| s.3).collect();

    // The default fund: the book's own Cover-n requirement on the stress
    // scenarios (the engine's default_fund::size on the same losses), plus a
    // tenth; the CCP's skin in the game is a twentieth of that, the members'
    // contributions the rest, split by the configured allocation rule in whole
    // thousands of USD that add up to that rest.
    let mut group_names: Vec<String> = Vec::new();
    let mut group_index: BTreeMap<&str, usize> = BTreeMap::new();
    let group_of: Vec<usize> = group
        .iter()
        .map(|g| {
            *group_index.entry(g.as_str()).or_insert_with(|| {
                group_names.push(g.clone());
                group_names.len() - 1
            })
        })
        .collect();
    let losses = units.stress_block(&stress_losses);
    let contributions = vec![0.0; m_count];
    let fund = default_fund::size(&DefaultFundInput {
        losses: &losses,
        collateral: &collateral_value,
        group_of: &group_of,
        group_names: &group_names,
        initial_margin: &initial_margin,
        contributions: &contributions,
        cover: config.default_fund.cover,
        skin_in_the_game: 0.0,
        allocation: config.default_fund.allocation,
    });
    let resources = fund.requirement.amount * (1.0 + FUND_MARGIN);
    let skin = round_sig(resources * SKIN_SHARE, 2);
    config.default_fund.skin_in_the_game = skin;
    let shares: Vec<f64> = fund.allocation.iter().map(|a| a.share).collect();
    let thousands = whole_shares(&shares, ((resources - skin) / 1000.0).round());
    let mut members_csv = String::from("member_id,name,group,df_contribution\n");
    for r in 0..m_count {
        let contribution = thousands[r] * 1000.0;
        let _ = writeln!(
            members_csv,
            "CM{:04},{},{},{contribution}",
            r + 1,
            names[r],
            group[r]
        );
    }
    tables.push(("instruments".to_string(), inst_csv));
    tables.push(("members".to_string(), members_csv));
    tables.push(("positions".to_string(), positions_csv));
    tables.push(("collateral".to_string(), collateral_csv));
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
    if spot > 20_000.0 {
        ((x / 1000.0).round() * 1000.0).max(1000.0)
    } else if spot > 1000.0 {
        ((x / 50.0).round() * 50.0).max(50.0)
    } else {
        round_sig(x, 3)
    }
}

/// The liquidity providers (dealers and prop trading firms, the market makers
/// of crypto venues) take the other side of whatever the rest of the book
/// leaves open, so that every instrument's net open interest is zero: each
/// instrument's net goes to up to four of them, drawn by `weight` (the square
/// root of size, so the largest dealer does not take every net) and split pro
/// rata to it in whole contracts, the remainder to the largest. Quantities are
/// whole numbers far below 2^53, so the sums are exact.
fn match_book(
    positions: &mut BTreeMap<(usize, usize), f64>,
    weight: &[f64],
    instruments: usize,
    rng: &mut PhiloxRng,
) {
    let mut net = vec![0.0; instruments];
    for (&(_, i), &q) in positions.iter() {
        net[i] += q;
    }
    let total: f64 = weight.iter().sum();
    for (i, &open) in net.iter().enumerate() {
        if open == 0.0 {
            continue;
        }
        let mut takers: Vec<usize> = Vec::new();
        for _ in 0..4 {
            let d = pick_weighted(rng, weight, total);
            if !takers.contains(&d) {
                takers.push(d);
            }
        }
        let taken: f64 = takers.iter().map(|&d| weight[d]).sum();
        let mut left = -open;
        for &d in &takers {
            let q = (-open * weight[d] / taken).trunc();
            *positions.entry((d, i)).or_insert(0.0) += q;
            left -= q;
        }
        let largest = *takers
            .iter()
            .max_by(|a, b| weight[**a].total_cmp(&weight[**b]))
            .expect("at least one dealer");
        *positions.entry((largest, i)).or_insert(0.0) += left;
    }
}

/// `total` whole units split pro rata to `shares` (which sum to 1): each
/// share's whole part, then one more unit to each of the largest remainders
/// (ties to the lower index) until the parts add up to `total` exactly.
/// Rounding each part on its own would drift by up to half a unit per member.
fn whole_shares(shares: &[f64], total: f64) -> Vec<f64> {
    let raw: Vec<f64> = shares.iter().map(|s| s * total).collect();
    let mut parts: Vec<f64> = raw.iter().map(|x| x.floor()).collect();
    let left = (total - parts.iter().sum::<f64>()).max(0.0) as usize;
    let mut order: Vec<usize> = (0..raw.len()).collect();
    order.sort_by(|&a, &b| {
        (raw[b] - parts[b])
            .total_cmp(&(raw[a] - parts[a]))
            .then(a.cmp(&b))
    });
    for &i in order.iter().take(left) {
        parts[i] += 1.0;
    }
    parts
}

/// Members left short of margin on purpose: 3 in 64, at least one.
fn margin_calls(members: usize) -> usize {
    ((members * 3 + 32) / 64).max(1)
}

/// `x` to `digits` significant figures. The division by a power of ten above
/// one (or multiplication by one) keeps the result the nearest double to the
/// decimal, which prints as written: 6100000, not 6099999.999999999.
fn round_sig(x: f64, digits: i32) -> f64 {
    if x == 0.0 {
        return 0.0;
    }
    round_dp(x, digits - 1 - x.abs().log10().floor() as i32)
}

/// `x` rounded to `places` decimals (negative: to tens, hundreds, ...).
fn round_dp(x: f64, places: i32) -> f64 {
    if places >= 0 {
        let scale = 10f64.powi(places);
        (x * scale).round() / scale
    } else {
        let step = 10f64.powi(-places);
        (x / step).round() * step
    }
}

/// `x` rounded up to `digits` significant figures, as [`round_sig`].
fn ceil_sig(x: f64, digits: i32) -> f64 {
    if x <= 0.0 {
        return 0.0;
    }
    let places = digits - 1 - x.log10().floor() as i32;
    if places >= 0 {
        let scale = 10f64.powi(places);
        (x * scale).ceil() / scale
    } else {
        ceil_to(x, 10f64.powi(-places))
    }
}

/// `x` rounded up to a multiple of `step` (a whole number).
fn ceil_to(x: f64, step: f64) -> f64 {
    (x / step).ceil() * step
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn whole_shares_add_up_to_the_total_and_follow_the_shares() {
        let shares = [0.5, 0.3333, 0.1667, 0.0];
        let parts = whole_shares(&shares, 1001.0);
        assert_eq!(parts.iter().sum::<f64>(), 1001.0);
        // Floors 500, 333, 166; the two units left go to the largest remainders.
        assert_eq!(parts, vec![500.0, 334.0, 167.0, 0.0]);
        // Many tiny shares: rounding each alone would give 0 for all.
        let tiny = vec![1.0 / 3000.0; 3000];
        let parts = whole_shares(&tiny, 1000.0);
        assert_eq!(parts.iter().sum::<f64>(), 1000.0);
        assert!(parts.iter().all(|&p| p == 0.0 || p == 1.0));
    }

    #[test]
    fn round_numbers_print_as_written() {
        assert_eq!(round_dp(6_099_999.999_999_999, -5).to_string(), "6100000");
        assert_eq!(round_sig(9_123_456.0, 2).to_string(), "9100000");
        assert_eq!(ceil_sig(12_345_678.0, 3).to_string(), "12400000");
        assert_eq!(ceil_sig(0.012_341, 3).to_string(), "0.0124");
        assert_eq!(nice_strike(1.234_56, 1.2).to_string(), "1.23");
    }
}
