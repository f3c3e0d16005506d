//! The clearing house's end-of-day snapshot: members, instruments, positions,
//! collateral, market data and the CCP's configuration, as read from a folder of
//! CSV or Parquet tables and a TOML file.
//!
//! Everything here is validated on the way in ([`load`]): identifiers are resolved to
//! indices, numbers are finite and in range, and each problem is reported with the
//! file, row and field it came from. Later stages can then rely on the invariants.

mod config;
mod config_notes;
mod load;
mod market;
mod open_interest;
mod scenario_file;
mod write;

use crate::input::Date;

pub use config::{
    AfterAssessments, AllocationRule, CcpConfig, CloseOutConfig, CollateralConfig,
    DefaultFundConfig, HalfSpreadConfig, HistoricalConfig, Innovations, JumpConfig,
    LiquidityConfig, MarginMeasure, RiskConfig, RuleId, ScenarioConfig, VolShockConfig,
    WaterfallConfig,
};
pub use load::{
    assets_table, from_csv_texts, load, load_stress_scenarios, parse_stress_scenario, read_history,
    CONFIG_FILE, SNAPSHOT_FILES,
};
pub use market::{Asset, AssetClass, MarketData, RateCurve, VolQuote, VolSurface, DAYS_PER_YEAR};
pub use open_interest::{net_open_interest, NetOpenInterest};
pub use scenario_file::stress_scenario_toml;
pub use write::{csv_text, snapshot_csv_tables, write_snapshot};

/// One clearing member.
#[derive(Debug, Clone, PartialEq)]
pub struct Member {
    pub id: String,
    pub name: String,
    /// Affiliate group: members of one group are assumed to default together.
    pub group: String,
    /// Current prefunded default-fund contribution, USD.
    pub df_contribution: f64,
    /// Capital that can bear default fund losses and assessments, USD
    /// (`members.capital`, optional): the contagion stress (methodology 9.8).
    pub capital: Option<f64>,
    /// Cash that can meet an assessment at once, USD
    /// (`members.liquid_resources`, optional): the contagion stress.
    pub liquid_resources: Option<f64>,
}

/// The asset a contract's variation margin is paid in: a linear contract in
/// USD or in the stablecoin it is margined in, an inverse (coin-margined) one
/// in its underlying coin, as settlement (`clearstress settle`) and the
/// liquidity stress (methodology 9.7) count them.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum SettlementAsset {
    Usd,
    /// A token of the market: an inverse contract's coin or a linear
    /// contract's stablecoin. Index into [`MarketData::assets`].
    Coin(usize),
}

impl SettlementAsset {
    pub fn of(instrument: &Instrument) -> Self {
        match (instrument.settlement, instrument.stablecoin) {
            (Settlement::Linear, None) => Self::Usd,
            (Settlement::Linear, Some(stablecoin)) => Self::Coin(stablecoin),
            (Settlement::Inverse, _) => Self::Coin(instrument.underlying),
        }
    }

    /// `USD`, or the coin's asset id.
    pub fn name(self, market: &MarketData) -> &str {
        match self {
            Self::Usd => "USD",
            Self::Coin(a) => &market.assets[a].id,
        }
    }

    /// USD per unit at `market`'s prices.
    pub fn usd_price(self, market: &MarketData) -> f64 {
        match self {
            Self::Usd => 1.0,
            Self::Coin(a) => market.assets[a].spot,
        }
    }
}

/// How a contract's profit and loss is settled.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Settlement {
    /// USD-margined: P&L in USD, contract size in units of the underlying.
    Linear,
    /// Coin-margined: P&L in units of the underlying; for futures and perpetuals the
    /// contract size is a USD face value, for options a number of coins.
    Inverse,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum OptionRight {
    Call,
    Put,
}

#[derive(Debug, Clone, Copy, PartialEq)]
pub enum InstrumentKind {
    Perpetual,
    Future {
        expiry: Date,
    },
    Option {
        expiry: Date,
        strike: f64,
        right: OptionRight,
    },
}

/// A cleared contract.
#[derive(Debug, Clone, PartialEq)]
pub struct Instrument {
    pub id: String,
    /// Index into [`MarketData::assets`].
    pub underlying: usize,
    pub settlement: Settlement,
    /// Linear: underlying units per contract. Inverse futures and perpetuals: USD
    /// face value per contract. Options: underlying units per contract.
    pub contract_size: f64,
    pub kind: InstrumentKind,
    /// The stablecoin a linear future or perpetual is quoted, margined and
    /// settled in (USDT-margined, as most venues list them), an index into
    /// [`MarketData::assets`]; `None` for USD and always for inverse contracts
    /// and options (`instruments.settlement_asset`, methodology 6.1).
    pub stablecoin: Option<usize>,
}

impl Instrument {
    /// USD notional of one contract at `market`'s spot: an inverse perpetual's
    /// or future's USD face value; otherwise (linear contracts, and options of
    /// either settlement, whose size is in coins) its coins at spot.
    pub fn usd_per_contract(&self, market: &MarketData) -> f64 {
        let coins = self.contract_size * market.assets[self.underlying].spot;
        match (self.settlement, self.kind) {
            (_, InstrumentKind::Option { .. }) | (Settlement::Linear, _) => coins,
            (Settlement::Inverse, _) => self.contract_size,
        }
    }

    /// The assets whose prices value the contract: its underlying, then the
    /// stablecoin it settles in, if any.
    pub fn priced_on(&self) -> impl Iterator<Item = usize> {
        std::iter::once(self.underlying).chain(self.stablecoin)
    }

    /// What asset `a` is to the contract, for messages: `"the underlying"`
    /// or `"the settlement stablecoin"`.
    pub fn role_of(&self, a: usize) -> &'static str {
        if a == self.underlying {
            "the underlying"
        } else {
            "the settlement stablecoin"
        }
    }

    /// USD per unit of the currency the contract is quoted in, at `market`'s
    /// prices: its stablecoin's price for a stablecoin-margined contract, else
    /// 1 (linear contracts are quoted in USD, and so are inverse ones).
    pub fn quote_usd(&self, market: &MarketData) -> f64 {
        self.stablecoin.map_or(1.0, |u| market.assets[u].spot)
    }

    /// Calendar days from `valuation_date` to the expiry (0 for a perpetual).
    pub fn days_to_expiry(&self, valuation_date: Date) -> f64 {
        match self.kind {
            InstrumentKind::Perpetual => 0.0,
            InstrumentKind::Future { expiry } | InstrumentKind::Option { expiry, .. } => {
                f64::from(valuation_date.days_until(expiry))
            }
        }
    }
}

/// A member's net holding of one instrument, in contracts (negative = short).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Position {
    pub member: usize,
    pub instrument: usize,
    pub quantity: f64,
}

/// What a member posted as collateral.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum CollateralAsset {
    /// US dollars in cash: no price risk.
    Usd,
    /// Units of a market asset (index into [`MarketData::assets`]).
    Asset(usize),
}

#[derive(Debug, Clone, Copy, PartialEq)]
pub struct CollateralHolding {
    pub member: usize,
    pub asset: CollateralAsset,
    /// Units of the asset (USD for cash), before haircut.
    pub amount: f64,
}

/// A deterministic stress scenario: relative moves of prices and implied vols.
#[derive(Debug, Clone, PartialEq)]
pub struct StressScenario {
    pub name: String,
    pub kind: String,
    pub description: String,
    pub source: String,
    /// Where it was read from (a path, or `embedded:<name>`).
    pub origin: String,
    /// Per asset of the market: new price = old price x (1 + shock).
    pub price_shocks: Vec<f64>,
    /// Per asset of the market: new implied vol = old vol x (1 + shock).
    pub vol_shocks: Vec<f64>,
}

/// Where an input came from, for the run manifest.
#[derive(Debug, Clone, PartialEq)]
pub struct InputSource {
    /// The file's path, or `embedded:<name>` for the built-in sample.
    pub name: String,
    /// SHA-256 of the bytes read, hex.
    pub sha256: String,
}

/// A validated snapshot, ready to compile into a book.
#[derive(Debug, Clone)]
pub struct Snapshot {
    /// `config.valuation_date`, parsed.
    pub valuation_date: Date,
    pub members: Vec<Member>,
    pub instruments: Vec<Instrument>,
    pub positions: Vec<Position>,
    pub collateral: Vec<CollateralHolding>,
    pub market: MarketData,
    pub config: CcpConfig,
    pub stress: Vec<StressScenario>,
    /// The price history `config.scenario.historical` names, loaded.
    pub history: Option<crate::history::PriceHistory>,
    pub sources: Vec<InputSource>,
}
