//! The members of a generated book, the contracts it lists and the positions
//! they hold.
//!
//! Members follow a power law in size (a few dealers carry most of the notional,
//! many small accounts carry little), with a business type that sets their
//! behaviour: dealers run two-sided books, each trade hedged in another contract
//! on the same coin, and sell options; funds lean long and buy options; prop
//! traders lean short (basis trades); brokers' clients are mostly long. Some small
//! members are affiliates of a dealer (one default group). The book is matched:
//! every instrument's net open interest is zero ([`match_book`]).

use std::collections::BTreeMap;

use rand::RngExt;

use super::market::OPTION_EXPIRIES;
use super::round::nice_strike;
use crate::input::Date;
use crate::rng::PhiloxRng;
use crate::snapshot::{
    AssetClass, Instrument, InstrumentKind, MarketData, Member, OptionRight, Position, Settlement,
};

/// Quarterly futures listed on the majors (the first alone on other coins).
const FUTURE_EXPIRIES: [&str; 3] = ["2025-03-28", "2025-06-27", "2025-09-26"];
/// Option strikes listed by default, as multiples of spot, before rounding to the grid.
const OPTION_MONEYNESS: [f64; 11] = [0.6, 0.7, 0.8, 0.9, 0.95, 1.0, 1.05, 1.1, 1.2, 1.3, 1.5];
/// The widest strike range a dense listing spans, as multiples of spot: the
/// range the implied-vol surface is quoted over ([`super::market`]).
const DENSE_MONEYNESS: (f64, f64) = (0.5, 2.0);

/// Which option series a generated book lists.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum OptionListing {
    /// The 11 strikes of [`OPTION_MONEYNESS`] per underlying and expiry (352
    /// series on BTC and ETH): the embedded sample's listing.
    #[default]
    Standard,
    /// About this many series in all (calls and puts, coin- and
    /// USDC-settled, over the underlyings with implied vols and the four
    /// expiries): the nearest whole number of strikes per underlying and
    /// expiry, at least one, spaced evenly in log-moneyness over
    /// [`DENSE_MONEYNESS`] (a Deribit-sized book lists some 1,300).
    Series(usize),
}

impl OptionListing {
    /// The strikes per underlying and expiry as multiples of spot, before
    /// rounding to the grid, given `quoted` underlyings with implied vols.
    fn moneyness(self, quoted: usize) -> Vec<f64> {
        match self {
            Self::Standard => OPTION_MONEYNESS.to_vec(),
            Self::Series(series) => {
                let per_strike = 4 * quoted.max(1) * OPTION_EXPIRIES.len();
                let strikes = ((series as f64 / per_strike as f64).round() as usize).max(1);
                let (lo, hi) = (DENSE_MONEYNESS.0.ln(), DENSE_MONEYNESS.1.ln());
                if strikes == 1 {
                    return vec![1.0];
                }
                (0..strikes)
                    .map(|i| (lo + (hi - lo) * i as f64 / (strikes - 1) as f64).exp())
                    .collect()
            }
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum MemberType {
    Dealer,
    Fund,
    Prop,
    Broker,
}

/// The members of a generated book, ranked by size, largest first.
pub(super) struct Members {
    /// Ids, names and default groups; contributions are zero until the default
    /// fund is sized.
    pub(super) members: Vec<Member>,
    pub(super) kinds: Vec<MemberType>,
    /// Gross notional each member trades, USD.
    pub(super) size_usd: Vec<f64>,
}

/// `count` members: a sixteenth dealers (at least one), three sixteenths funds
/// (at least one), five sixteenths prop traders, the rest brokers, in that
/// order of rank; rank r trades 3 bn x r^-1.1 USD, give or take 30% (one draw
/// each). Every fourth broker is an affiliate of a dealer, in its group.
pub(super) fn members(count: usize, rng: &mut PhiloxRng) -> Members {
    let dealers = (count / 16).max(1);
    let funds = (count * 3 / 16).max(1);
    let props = count * 5 / 16;
    let mut out = Members {
        members: Vec::with_capacity(count),
        kinds: Vec::with_capacity(count),
        size_usd: Vec::with_capacity(count),
    };
    for r in 0..count {
        let kind = match r {
            r if r < dealers => MemberType::Dealer,
            r if r < dealers + funds => MemberType::Fund,
            r if r < dealers + funds + props => MemberType::Prop,
            _ => MemberType::Broker,
        };
        let id = format!("CM{:04}", r + 1);
        let size = 3.0e9 * ((r + 1) as f64).powf(-1.1) * rng.random_range(0.7..1.3);
        let (label, business) = match kind {
            MemberType::Dealer => ("Dealer", "Securities"),
            MemberType::Fund => ("Fund", "Capital"),
            MemberType::Prop => ("Prop", "Trading"),
            MemberType::Broker => ("Broker", "Markets"),
        };
        let affiliate_of = (kind == MemberType::Broker && r % 4 == 0).then(|| r % dealers);
        let (name, group) = match affiliate_of {
            Some(d) => (
                format!("Dealer {:02} Affiliate {:04}", d + 1, r + 1),
                format!("G-CM{:04}", d + 1),
            ),
            None => (
                format!("{label} {:04} {business}", r + 1),
                format!("G-{id}"),
            ),
        };
        out.members.push(Member {
            id,
            name,
            group,
            df_contribution: 0.0,
            capital: None,
            liquid_resources: None,
        });
        out.kinds.push(kind);
        out.size_usd.push(size);
    }
    out
}

/// Perpetuals and futures on every crypto asset (stablecoins list none): a
/// USD-margined perpetual and front future sized to about 1,000 USD a contract
/// (a power of ten of coins), and on BTC and ETH the two later quarterlies and
/// coin-margined (inverse) perpetuals and futures of 100 USD (BTC) or 10 USD
/// (ETH) face, as Deribit lists them, and a USDT-margined perpetual, as
/// Binance, OKX and Bybit list theirs (methodology 6.8).
pub(super) fn linear_instruments(market: &MarketData) -> Vec<Instrument> {
    let mut out = Vec::new();
    let usdt = market
        .assets
        .iter()
        .position(|a| a.id == "USDT" && a.class == AssetClass::Stablecoin);
    for (underlying, a) in market.assets.iter().enumerate() {
        if a.class == AssetClass::Stablecoin {
            continue;
        }
        let size = 10f64.powf((1000.0 / a.spot).log10().round());
        let majors = a.id == "BTC" || a.id == "ETH";
        let face = if a.id == "BTC" { 100.0 } else { 10.0 };
        let mut add = |id: String, settlement, contract_size, kind, stablecoin| {
            out.push(Instrument {
                id,
                underlying,
                settlement,
                contract_size,
                kind,
                stablecoin,
            });
        };
        let perpetual = InstrumentKind::Perpetual;
        add(
            format!("{}-PERP", a.id),
            Settlement::Linear,
            size,
            perpetual,
            None,
        );
        if majors {
            let id = format!("{}-USD-INV-PERP", a.id);
            add(id, Settlement::Inverse, face, perpetual, None);
            if let Some(u) = usdt {
                let id = format!("{}-USDT-PERP", a.id);
                add(id, Settlement::Linear, size, perpetual, Some(u));
            }
        }
        let listed = if majors { FUTURE_EXPIRIES.len() } else { 1 };
        for expiry in &FUTURE_EXPIRIES[..listed] {
            let tag = expiry.replace('-', "");
            let kind = InstrumentKind::Future {
                expiry: Date::parse(expiry).expect("a valid constant date"),
            };
            add(
                format!("{}-FUT-{tag}", a.id),
                Settlement::Linear,
                size,
                kind,
                None,
            );
            if majors {
                let id = format!("{}-USD-INV-{tag}", a.id);
                add(id, Settlement::Inverse, face, kind, None);
            }
        }
    }
    out
}

/// Calls and puts on every underlying with implied vols, at each of
/// [`OPTION_EXPIRIES`] and the strikes of `listing` (on the venue's strike
/// grid), each coin-settled on one coin and USDC-settled on a tenth of one, as
/// Deribit lists them.
pub(super) fn option_instruments(market: &MarketData, listing: OptionListing) -> Vec<Instrument> {
    let quoted = (0..market.assets.len())
        .filter(|&a| market.vol_surface.has_quotes(a))
        .count();
    let moneyness = listing.moneyness(quoted);
    let mut out = Vec::new();
    for (underlying, a) in market.assets.iter().enumerate() {
        if !market.vol_surface.has_quotes(underlying) {
            continue;
        }
        for expiry in OPTION_EXPIRIES {
            let tag = expiry.replace('-', "");
            let expiry = Date::parse(expiry).expect("a valid constant date");
            let mut strikes: Vec<f64> = moneyness
                .iter()
                .map(|m| nice_strike(a.spot * m, a.spot))
                .collect();
            // A dense listing can round two strikes to one on the grid: listed once.
            strikes.dedup();
            for strike in strikes {
                for (right, letter) in [(OptionRight::Call, "C"), (OptionRight::Put, "P")] {
                    for (settlement, suffix, contract_size) in [
                        (Settlement::Inverse, "", 1.0),
                        (Settlement::Linear, "-USDC", 0.1),
                    ] {
                        out.push(Instrument {
                            id: format!("{}-{tag}-{strike}-{letter}{suffix}", a.id),
                            underlying,
                            settlement,
                            contract_size,
                            kind: InstrumentKind::Option {
                                expiry,
                                strike,
                                right,
                            },
                            stablecoin: None,
                        });
                    }
                }
            }
        }
    }
    out
}

/// Positions in whole contracts, merged per (member, instrument), keyed so.
type Book = BTreeMap<(usize, usize), f64>;

/// The members' positions: their own flow in the linear instruments (the first
/// `linear` of `instruments`), `options` option trades, then the liquidity
/// providers' side that matches the book; in (member, instrument) order,
/// positions netted to zero left out.
pub(super) fn positions(
    members: &Members,
    instruments: &[Instrument],
    linear: usize,
    options: usize,
    market: &MarketData,
    rng: &mut PhiloxRng,
) -> Vec<Position> {
    let mut book = Book::new();
    linear_flow(&mut book, members, &instruments[..linear], market, rng);
    if options > 0 && linear < instruments.len() {
        option_flow(
            &mut book,
            members,
            instruments,
            linear,
            options,
            market,
            rng,
        );
    }
    let liquidity: Vec<f64> = members
        .kinds
        .iter()
        .zip(&members.size_usd)
        .map(|(kind, size)| match kind {
            MemberType::Dealer | MemberType::Prop => size.sqrt(),
            _ => 0.0,
        })
        .collect();
    match_book(&mut book, &liquidity, instruments.len(), rng);
    book.into_iter()
        .filter(|&(_, quantity)| quantity != 0.0)
        .map(|((member, instrument), quantity)| Position {
            member,
            instrument,
            quantity,
        })
        .collect()
}

/// Each member's trades in `linear` (perpetuals and futures, drawn by the
/// underlying's weight: BTC 6, ETH 3.5, synthetic 0.4, others 1), splitting
/// its size over a number of trades set by its type; a dealer hedges each trade
/// in another contract on the same coin (a calendar or basis spread), leaving
/// a small net.
fn linear_flow(
    book: &mut Book,
    members: &Members,
    linear: &[Instrument],
    market: &MarketData,
    rng: &mut PhiloxRng,
) {
    let weights: Vec<f64> = linear
        .iter()
        .map(|i| {
            let a = &market.assets[i.underlying];
            match a.id.as_str() {
                "BTC" => 6.0,
                "ETH" => 3.5,
                _ if a.synthetic => 0.4,
                _ => 1.0,
            }
        })
        .collect();
    let total_weight: f64 = weights.iter().sum();
    for (r, (&kind, &size)) in members.kinds.iter().zip(&members.size_usd).enumerate() {
        let count = match kind {
            MemberType::Dealer => 12 + linear.len().min(40) / 2,
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
            let pick = pick_weighted(rng, &weights, total_weight);
            let inst = &linear[pick];
            let notional = size / count as f64 * rng.random_range(0.3..1.7);
            let sign = if rng.random_bool(long_bias) {
                1.0
            } else {
                -1.0
            };
            let per_contract = inst.usd_per_contract(market);
            let contracts = (notional / per_contract).round().max(1.0);
            *book.entry((r, pick)).or_insert(0.0) += sign * contracts;
            let hedges: Vec<usize> = (0..linear.len())
                .filter(|&h| h != pick && linear[h].underlying == inst.underlying)
                .collect();
            if kind == MemberType::Dealer && !hedges.is_empty() {
                let h = hedges[rng.random_range(0..hedges.len())];
                let ratio =
                    per_contract / linear[h].usd_per_contract(market) * rng.random_range(0.9..1.1);
                let hedge_contracts = (contracts * ratio).round().max(1.0);
                *book.entry((r, h)).or_insert(0.0) -= sign * hedge_contracts;
            }
        }
    }
}

/// `trades` option trades on the options (`instruments[first..]`), each by a
/// member drawn by the square root of its size, of about 2% of its size, short
/// most often for dealers and least for brokers' clients.
fn option_flow(
    book: &mut Book,
    members: &Members,
    instruments: &[Instrument],
    first: usize,
    trades: usize,
    market: &MarketData,
    rng: &mut PhiloxRng,
) {
    let member_weight: Vec<f64> = members.size_usd.iter().map(|s| s.sqrt()).collect();
    let total_member_weight: f64 = member_weight.iter().sum();
    for _ in 0..trades {
        let r = pick_weighted(rng, &member_weight, total_member_weight);
        let pick = rng.random_range(first..instruments.len());
        let inst = &instruments[pick];
        let short_bias = match members.kinds[r] {
            MemberType::Dealer => 0.65,
            MemberType::Fund => 0.3,
            MemberType::Prop => 0.5,
            MemberType::Broker => 0.15,
        };
        let notional = members.size_usd[r] * 0.02 * rng.random_range(0.2..1.8);
        let spot = market.assets[inst.underlying].spot;
        let contracts = (notional / (inst.contract_size * spot)).round().max(1.0);
        let sign = if rng.random_bool(short_bias) {
            -1.0
        } else {
            1.0
        };
        *book.entry((r, pick)).or_insert(0.0) += sign * contracts;
    }
}

/// An index drawn with probability proportional to `weights` (summing to `total`).
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

/// The liquidity providers (dealers and prop trading firms, the market makers
/// of crypto venues) take the other side of whatever the rest of the book
/// leaves open, so that every instrument's net open interest is zero: each
/// instrument's net goes to up to four of them, drawn by `weight` (the square
/// root of size, so the largest dealer does not take every net) and split pro
/// rata to it in whole contracts, the remainder to the largest. Quantities are
/// whole numbers far below 2^53, so the sums are exact.
fn match_book(book: &mut Book, weight: &[f64], instruments: usize, rng: &mut PhiloxRng) {
    let mut net = vec![0.0; instruments];
    for (&(_, i), &q) in book.iter() {
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
            *book.entry((d, i)).or_insert(0.0) += q;
            left -= q;
        }
        let largest = *takers
            .iter()
            .max_by(|a, b| weight[**a].total_cmp(&weight[**b]))
            .expect("at least one dealer");
        *book.entry((largest, i)).or_insert(0.0) += left;
    }
}
