//! Small in-memory snapshots for the specification tests.
#![allow(dead_code)]

pub mod backtest;
pub mod depletion;
pub mod host_kernels;
pub mod machine;
pub mod parity;

pub use machine::Need;

use clearstress::backend::{Backend, BackendError};

/// The device backend `probe` opened, for a test that needs it (`need`):
/// `None` after a visible skip when the device is unavailable (a failure where
/// the machine is promised it: see [`machine`]); any other error, such as a
/// kernel that does not compile, fails the test.
pub fn device_backend<B: Backend>(
    need: Need,
    test: &str,
    probe: Result<B, BackendError>,
) -> Option<B> {
    match probe {
        Ok(backend) => {
            eprintln!("{test} on {}", backend.describe());
            Some(backend)
        }
        Err(e @ BackendError::Unavailable { .. }) => {
            machine::missing(need, test, &e.to_string());
            None
        }
        Err(e) => panic!("{test}: {e}"),
    }
}

use clearstress::input::Date;
use clearstress::snapshot::{
    Asset, AssetClass, CcpConfig, CollateralAsset, CollateralHolding, Innovations, Instrument,
    InstrumentKind, MarketData, Member, OptionRight, Position, RateCurve, Settlement, Snapshot,
    StressScenario, VolQuote, VolSurface,
};

pub fn date(s: &str) -> Date {
    Date::parse(s).unwrap()
}

pub fn asset(id: &str, spot: f64, volatility: f64) -> Asset {
    Asset {
        id: id.into(),
        class: if id.starts_with("USD") {
            AssetClass::Stablecoin
        } else {
            AssetClass::Crypto
        },
        spot,
        volatility,
        funding_rate_8h: 0.0,
        basis: 0.0,
        adv_usd: 1e9,
        synthetic: false,
        source: "test".into(),
    }
}

pub fn member(id: &str, group: &str) -> Member {
    Member {
        id: id.into(),
        name: format!("member {id}"),
        group: group.into(),
        df_contribution: 0.0,
        capital: None,
        liquid_resources: None,
    }
}

/// A snapshot with the given assets (correlation `corr`, row-major) and no
/// positions; Gaussian innovations, one step, a 2-day horizon, no vol shock.
pub fn market_snapshot(assets: Vec<Asset>, corr: Vec<f64>, members: Vec<Member>) -> Snapshot {
    let n = assets.len();
    assert_eq!(corr.len(), n * n);
    let today = date("2025-02-20");
    let mut config: CcpConfig = toml::from_str("valuation_date = \"2025-02-20\"").unwrap();
    config.scenario.innovations = Innovations::Gaussian;
    config.scenario.vol_shock.vol_of_vol = 0.0;
    config.collateral.haircuts.insert("USD".into(), 0.0);
    let quotes: Vec<VolQuote> = (0..n)
        .flat_map(|a| {
            let spot = assets[a].spot;
            [0.5, 1.0, 2.0].into_iter().map(move |m| VolQuote {
                underlying: a,
                expiry: today.add_days(90),
                strike: spot * m,
                vol: 0.6,
            })
        })
        .collect();
    Snapshot {
        valuation_date: today,
        members,
        instruments: Vec::new(),
        positions: Vec::new(),
        collateral: Vec::new(),
        market: MarketData {
            vol_surface: VolSurface::from_quotes(n, &quotes),
            assets,
            correlation: corr,
            rates: RateCurve::flat(0.04),
        },
        config,
        stress: Vec::new(),
        history: None,
        sources: Vec::new(),
    }
}

pub fn add_instrument(
    s: &mut Snapshot,
    id: &str,
    underlying: usize,
    settlement: Settlement,
    size: f64,
    kind: InstrumentKind,
) -> usize {
    s.instruments.push(Instrument {
        id: id.into(),
        underlying,
        settlement,
        contract_size: size,
        kind,
        stablecoin: None,
    });
    s.instruments.len() - 1
}

pub fn hold(s: &mut Snapshot, member: usize, instrument: usize, quantity: f64) {
    s.positions.push(Position {
        member,
        instrument,
        quantity,
    });
}

pub fn post(s: &mut Snapshot, member: usize, asset: Option<usize>, amount: f64) {
    let asset = asset.map_or(CollateralAsset::Usd, CollateralAsset::Asset);
    s.collateral.push(CollateralHolding {
        member,
        asset,
        amount,
    });
}

/// Two crypto assets and a stablecoin, three members, every kind of contract,
/// collateral in cash, BTC and USDT: a book that exercises every revaluation path.
pub fn mixed_book() -> Snapshot {
    let mut btc = asset("BTC", 97_600.0, 0.5);
    btc.funding_rate_8h = 0.0001;
    btc.basis = 0.1;
    let mut eth = asset("ETH", 2_700.0, 0.7);
    eth.funding_rate_8h = -0.00005;
    eth.basis = 0.08;
    let usdt = asset("USDT", 1.0, 0.01);
    let corr = vec![1.0, 0.8, 0.1, 0.8, 1.0, 0.1, 0.1, 0.1, 1.0];
    let members = vec![member("A", "G1"), member("B", "G1"), member("C", "C")];
    let mut s = market_snapshot(vec![btc, eth, usdt], corr, members);
    s.config.collateral.haircuts.insert("BTC".into(), 0.15);
    s.config.collateral.haircuts.insert("USDT".into(), 0.05);
    s.config.scenario.vol_shock.vol_of_vol = 1.2;
    let e1 = date("2025-03-28");
    let e0 = date("2025-02-21"); // expires inside a 2-day horizon
    let lp = add_instrument(
        &mut s,
        "BTC-PERP",
        0,
        Settlement::Linear,
        0.01,
        InstrumentKind::Perpetual,
    );
    let ip = add_instrument(
        &mut s,
        "BTC-INV-PERP",
        0,
        Settlement::Inverse,
        100.0,
        InstrumentKind::Perpetual,
    );
    let lf = add_instrument(
        &mut s,
        "ETH-FUT",
        1,
        Settlement::Linear,
        0.1,
        InstrumentKind::Future { expiry: e1 },
    );
    let inf = add_instrument(
        &mut s,
        "BTC-INV-FUT",
        0,
        Settlement::Inverse,
        100.0,
        InstrumentKind::Future { expiry: e1 },
    );
    let short = add_instrument(
        &mut s,
        "ETH-FUT-0221",
        1,
        Settlement::Linear,
        0.1,
        InstrumentKind::Future { expiry: e0 },
    );
    let call = add_instrument(
        &mut s,
        "BTC-C-100k",
        0,
        Settlement::Inverse,
        1.0,
        InstrumentKind::Option {
            expiry: e1,
            strike: 100_000.0,
            right: OptionRight::Call,
        },
    );
    let put = add_instrument(
        &mut s,
        "ETH-P-2500",
        1,
        Settlement::Linear,
        1.0,
        InstrumentKind::Option {
            expiry: e1,
            strike: 2_500.0,
            right: OptionRight::Put,
        },
    );
    let wing = add_instrument(
        &mut s,
        "BTC-P-60k",
        0,
        Settlement::Linear,
        0.1,
        InstrumentKind::Option {
            expiry: e0,
            strike: 60_000.0,
            right: OptionRight::Put,
        },
    );
    // USDT-margined, as most venues list their linear contracts.
    let up = add_instrument(
        &mut s,
        "BTC-USDT-PERP",
        0,
        Settlement::Linear,
        0.001,
        InstrumentKind::Perpetual,
    );
    s.instruments[up].stablecoin = Some(2);
    let uf = add_instrument(
        &mut s,
        "ETH-USDT-FUT",
        1,
        Settlement::Linear,
        0.01,
        InstrumentKind::Future { expiry: e1 },
    );
    s.instruments[uf].stablecoin = Some(2);
    hold(&mut s, 0, lp, 120.0);
    hold(&mut s, 0, ip, -500.0);
    hold(&mut s, 0, uf, -900.0);
    hold(&mut s, 2, up, 4_000.0);
    hold(&mut s, 0, call, -3.0);
    hold(&mut s, 1, lf, 40.0);
    hold(&mut s, 1, put, 25.0);
    hold(&mut s, 1, inf, 300.0);
    hold(&mut s, 2, short, -70.0);
    hold(&mut s, 2, wing, 50.0);
    hold(&mut s, 2, call, 3.0);
    post(&mut s, 0, None, 40_000.0);
    post(&mut s, 0, Some(0), 0.3);
    post(&mut s, 1, Some(2), 25_000.0);
    post(&mut s, 2, Some(0), 0.5);
    s
}

/// A snapshot compiled, modelled and prepared on the CPU backend.
pub struct Prepared {
    pub book: clearstress::book::CompiledBook,
    pub model: clearstress::scenario::ScenarioModel,
    pub backend: clearstress::backend::CpuBackend,
    pub plan: clearstress::backend::cpu::CpuPlan,
}

pub fn prepare(s: &Snapshot, threads: Option<usize>) -> Prepared {
    use clearstress::backend::Backend;
    let book = clearstress::book::CompiledBook::compile(s).unwrap();
    let model = clearstress::scenario::ScenarioModel::new(
        &s.market,
        &s.config.risk,
        &s.config.scenario,
        book.vol_assets.clone(),
    )
    .unwrap();
    let backend = clearstress::backend::CpuBackend::new(threads).unwrap();
    let plan = backend.prepare(&book, &model).unwrap();
    Prepared {
        book,
        model,
        backend,
        plan,
    }
}

/// A small book on three shipped assets at their 2025-02-20 closes (BTC,
/// ETH, USDT, the sample's correlation): member A long 10 BTC of linear
/// perpetual, member B short 200 ETH; Gaussian Monte Carlo over 2 days with
/// `paths` paths, no stress scenarios, no history attached.
pub fn real_asset_book(paths: u64) -> Snapshot {
    let assets = vec![
        asset("BTC", 97_600.0, 0.5),
        asset("ETH", 2_700.0, 0.7),
        asset("USDT", 1.0, 0.01),
    ];
    let corr = vec![1.0, 0.8, 0.1, 0.8, 1.0, 0.1, 0.1, 0.1, 1.0];
    let mut s = market_snapshot(assets, corr, vec![member("A", "A"), member("B", "B")]);
    let perpetual = InstrumentKind::Perpetual;
    let btc = add_instrument(&mut s, "BTC-PERP", 0, Settlement::Linear, 1.0, perpetual);
    let eth = add_instrument(&mut s, "ETH-PERP", 1, Settlement::Linear, 1.0, perpetual);
    hold(&mut s, 0, btc, 10.0);
    hold(&mut s, 1, eth, -200.0);
    s.config.scenario.paths = paths;
    s
}

/// Two snapshots hold the same book: members, instruments, positions,
/// collateral and market equal, number for number, on the same date.
pub fn assert_same_book(a: &Snapshot, b: &Snapshot) {
    assert_eq!(a.valuation_date, b.valuation_date);
    assert_eq!(a.members, b.members);
    assert_eq!(a.instruments, b.instruments);
    assert_eq!(a.positions, b.positions);
    assert_eq!(a.collateral, b.collateral);
    assert_eq!(a.market, b.market);
}

/// A hypothetical stress scenario moving each asset's price and implied vol
/// by the given relative shocks.
pub fn stress_scenario(name: &str, price_shocks: Vec<f64>, vol_shocks: Vec<f64>) -> StressScenario {
    StressScenario {
        name: name.into(),
        kind: "hypothetical".into(),
        description: String::new(),
        source: String::new(),
        origin: format!("{name}.toml"),
        price_shocks,
        vol_shocks,
    }
}
