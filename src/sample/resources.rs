//! A generated book's prefunded resources: each member's collateral, sized
//! from its margin, and the default fund, sized from the book's own Cover-n.
//! Margins and stress losses are measured with the library itself
//! ([`super::sizing`]); methodology section 14a states the rules.

use std::collections::BTreeMap;

use rand::RngExt;

use super::book::MemberType;
use super::round::{ceil_sig, round_sig};
use super::sizing::UnitLosses;
use crate::default_fund::{self, DefaultFundInput};
use crate::rng::PhiloxRng;
use crate::snapshot::{CollateralAsset, CollateralHolding, Snapshot};

/// Prefunded resources (members' contributions and the CCP's skin in the
/// game) above the book's own Cover-n requirement.
const FUND_MARGIN: f64 = 0.10;
/// The CCP's skin in the game as a share of the prefunded resources.
const SKIN_SHARE: f64 = 0.05;
/// The coins members post besides USD cash, in the order the unit book holds
/// them (those the market lacks are posted as cash instead).
pub(super) const COLLATERAL_COINS: [&str; 4] = ["USDT", "USDC", "BTC", "ETH"];

/// What sizing the collateral measured, per member, for sizing the fund.
pub(super) struct Collateral {
    /// Every member's holdings, member by member, coins before cash.
    pub(super) holdings: Vec<CollateralHolding>,
    /// Value after haircuts, USD.
    pub(super) value: Vec<f64>,
    pub(super) initial_margin: Vec<f64>,
    /// Losses of book and collateral together in each stress scenario.
    pub(super) stress_losses: Vec<Vec<f64>>,
}

/// Collateral in a mix by member type (funds post BTC and ETH against long
/// books: wrong-way risk, which the margin of the book and its collateral
/// together includes) worth, after haircuts, 1.3 to 2.2 times the margin of
/// book and collateral; a few clients (never dealers) are left at 0.75 to
/// 0.95 times: the day's margin calls. Amounts are rounded up to three
/// significant figures. `book` holds members, positions, market and config;
/// its collateral is ignored.
pub(super) fn collateral(
    book: &Snapshot,
    kinds: &[MemberType],
    units: &UnitLosses,
    rng: &mut PhiloxRng,
) -> Collateral {
    let members = book.members.len();
    let mut held: Vec<Vec<(usize, f64)>> = vec![Vec::new(); members];
    for p in &book.positions {
        held[p.member].push((p.instrument, p.quantity));
    }
    let headroom = headroom(kinds, rng);
    let sized = super::sizing::per_member(members, |r| {
        member_collateral(book, r, kinds[r], &held[r], headroom[r], units)
    });
    let mut out = Collateral {
        holdings: Vec::new(),
        value: Vec::with_capacity(members),
        initial_margin: Vec::with_capacity(members),
        stress_losses: Vec::with_capacity(members),
    };
    for (holdings, value, margin, stress) in sized {
        out.holdings.extend(holdings);
        out.value.push(value);
        out.initial_margin.push(margin);
        out.stress_losses.push(stress);
    }
    out
}

/// Each member's collateral value over its margin: about 3 in 64 clients,
/// picked without repeats by a partial Fisher-Yates shuffle, short of it.
fn headroom(kinds: &[MemberType], rng: &mut PhiloxRng) -> Vec<f64> {
    let mut callable: Vec<usize> = (0..kinds.len())
        .filter(|&r| kinds[r] != MemberType::Dealer)
        .collect();
    let calls = margin_calls(kinds.len()).min(callable.len());
    let mut short = vec![false; kinds.len()];
    for k in 0..calls {
        let j = rng.random_range(k..callable.len());
        callable.swap(k, j);
        short[callable[k]] = true;
    }
    short
        .iter()
        .map(|&short| {
            if short {
                rng.random_range(0.75..0.95)
            } else {
                rng.random_range(1.3..2.2)
            }
        })
        .collect()
}

/// Members left short of margin on purpose: 3 in 64, at least one.
fn margin_calls(members: usize) -> usize {
    ((members * 3 + 32) / 64).max(1)
}

/// One coin of a member's collateral mix: its unit in the unit book, its
/// asset, and its share of the collateral's value.
struct CoinLeg {
    unit: usize,
    asset: usize,
    share: f64,
}

/// Member `r`'s collateral, sized to `headroom` x its margin: (holdings,
/// value after haircuts, margin, stress losses of book and collateral).
fn member_collateral(
    book: &Snapshot,
    r: usize,
    kind: MemberType,
    held: &[(usize, f64)],
    headroom: f64,
    units: &UnitLosses,
) -> (Vec<CollateralHolding>, f64, f64, Vec<f64>) {
    let mix: &[(&str, f64)] = match kind {
        MemberType::Dealer => &[("USD", 0.5), ("USDC", 0.3), ("BTC", 0.2)],
        MemberType::Fund => &[("BTC", 0.5), ("ETH", 0.2), ("USDT", 0.3)],
        MemberType::Prop => &[("USDT", 0.6), ("BTC", 0.4)],
        MemberType::Broker => &[("USDT", 0.7), ("USD", 0.3)],
    };
    let assets = &book.market.assets;
    let haircuts = &book.config.collateral.haircuts;
    let haircut_of = |id: &str| haircuts.get(id).copied().unwrap_or(0.0);
    // Per USD of collateral value: coins held and value after haircuts.
    let coins = collateral_coins(book);
    let mut legs: Vec<CoinLeg> = Vec::new();
    let mut cash_share = 0.0;
    let mut after_haircut = 0.0;
    for &(id, share) in mix {
        match coins.iter().position(|&a| assets[a].id == id) {
            Some(k) => {
                legs.push(CoinLeg {
                    unit: book.instruments.len() + k,
                    asset: coins[k],
                    share,
                });
                after_haircut += share * (1.0 - haircut_of(id));
            }
            None => {
                cash_share += share;
                after_haircut += share * (1.0 - haircut_of("USD"));
            }
        }
    }
    let losses = units.losses(held);
    let with = |value: f64| -> Vec<f64> {
        let coins: Vec<(usize, f64)> = legs
            .iter()
            .map(|c| (c.unit, value * c.share / assets[c.asset].spot))
            .collect();
        let extra = units.losses(&coins);
        losses.iter().zip(extra).map(|(b, e)| b + e).collect()
    };
    // A fixed point of value = headroom x margin(book + collateral) / haircut
    // factor: coin collateral's own fall raises the margin a little, so a few
    // rounds settle it.
    let mut margin = units.margin(&losses);
    let mut value = headroom * margin / after_haircut;
    for _ in 0..4 {
        let next = units.margin(&with(value));
        let settled = (next - margin).abs() <= 1e-3 * margin;
        margin = next;
        value = headroom * margin / after_haircut;
        if settled {
            break;
        }
    }
    let mut all = held.to_vec();
    let mut holdings = Vec::new();
    let mut collateral_value = 0.0;
    for leg in &legs {
        let spot = assets[leg.asset].spot;
        let amount = ceil_sig(value * leg.share / spot, 3);
        if amount > 0.0 {
            all.push((leg.unit, amount));
            holdings.push(CollateralHolding {
                member: r,
                asset: CollateralAsset::Asset(leg.asset),
                amount,
            });
            collateral_value += amount * spot * (1.0 - haircut_of(&assets[leg.asset].id));
        }
    }
    let cash = ceil_sig(value * cash_share, 3);
    if cash > 0.0 {
        holdings.push(CollateralHolding {
            member: r,
            asset: CollateralAsset::Usd,
            amount: cash,
        });
        collateral_value += cash * (1.0 - haircut_of("USD"));
    }
    // The margin of the last round stands for the rounded-up collateral's
    // (within a few parts in a thousand): it only weighs the allocation.
    (
        holdings,
        collateral_value,
        margin,
        units.stress_losses(&all),
    )
}

/// The assets of [`COLLATERAL_COINS`] the market holds, by index, in that order.
pub(super) fn collateral_coins(book: &Snapshot) -> Vec<usize> {
    COLLATERAL_COINS
        .iter()
        .filter_map(|id| book.market.asset_index(id))
        .collect()
}

/// The default fund: the book's own Cover-n requirement on the stress
/// scenarios (the engine's `default_fund::size` on the same losses), plus a
/// tenth; the CCP's skin in the game is a twentieth of that (two significant
/// figures), the members' contributions the rest, split by the configured
/// allocation rule in whole thousands of USD that add up to that rest. Sets
/// `book`'s contributions and skin in the game.
pub(super) fn default_fund(book: &mut Snapshot, collateral: &Collateral, units: &UnitLosses) {
    let mut group_names: Vec<String> = Vec::new();
    let mut group_index: BTreeMap<&str, usize> = BTreeMap::new();
    let group_of: Vec<usize> = book
        .members
        .iter()
        .map(|m| {
            *group_index.entry(m.group.as_str()).or_insert_with(|| {
                group_names.push(m.group.clone());
                group_names.len() - 1
            })
        })
        .collect();
    let config = &book.config.default_fund;
    let losses = units.stress_block(&collateral.stress_losses);
    let fund = default_fund::size(&DefaultFundInput {
        losses: &losses,
        collateral: &collateral.value,
        group_of: &group_of,
        group_names: &group_names,
        initial_margin: &collateral.initial_margin,
        contributions: &vec![0.0; book.members.len()],
        cover: config.cover,
        allocation: config.allocation,
    });
    let resources = fund.requirement.amount * (1.0 + FUND_MARGIN);
    let skin = round_sig(resources * SKIN_SHARE, 2);
    let shares: Vec<f64> = fund.allocation.iter().map(|a| a.share).collect();
    let thousands = whole_shares(&shares, ((resources - skin) / 1000.0).round());
    for (member, thousands) in book.members.iter_mut().zip(thousands) {
        member.df_contribution = thousands * 1000.0;
    }
    book.config.default_fund.skin_in_the_game = skin;
    // The fund and the skin in the game are held in cash: the CCP's liquid
    // resources for the liquidity stress (methodology 9.7).
    let cash = book.members.iter().map(|m| m.df_contribution).sum::<f64>() + skin;
    book.config.liquidity.resources = BTreeMap::from([("USD".to_string(), cash)]);
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
}
