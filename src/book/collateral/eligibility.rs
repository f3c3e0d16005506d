//! Which collateral counts (docs/methodology.md, 17.6): each holding's value
//! after its haircut, `V`, split into what the eligibility rules of
//! `[collateral]` cut and what counts against the member's margin.
//!
//! The rules apply in this order, each to what the ones before it left:
//!
//! 1. **Ineligible**: an asset outside `eligible` counts zero.
//! 2. **Wrong-way**: an asset `wrong_way` names for the holding's member (its
//!    own token) counts zero.
//! 3. **Member share**: with `E_m` member m's eligible collateral (the sum of
//!    its holdings left by 1 and 2), its holdings of asset a count at most
//!    `s_a E_m` together (`member_share`); an excess is cut from them pro rata.
//! 4. **Issuer share**: with `E = sum_m E_m` the CCP's eligible collateral,
//!    the assets of issuer i (`issuers`) count at most `s_i E` over all
//!    members together (`issuer_share`); an excess `X_i` is cut from every
//!    holding of them pro rata to what it counts after 3:
//!    `cut_h = X_i v_h / sum_h v_h`.
//!
//! Both limits are shares of the eligible collateral before any
//! concentration cut, so neither needs iterating to a fixed point and a
//! member's cut does not depend on the order of its holdings. Sources: EMIR
//! RTS 153/2013 Art. 42 (concentration limits per issuer, type of asset and
//! clearing member) and Annex I (eligible collateral, none issued by the
//! clearing member or its group); CPMI-IOSCO PFMI Principle 5 (collateral).

use std::collections::BTreeMap;

use crate::snapshot::CollateralConfig;

/// One holding as the rules see it.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Held<'a> {
    /// Index of the member, for its eligible total.
    pub member: usize,
    /// Its id, which `wrong_way` names.
    pub member_id: &'a str,
    /// The asset's id (`USD` for cash).
    pub asset: &'a str,
    /// Market value x (1 - haircut), USD.
    pub after_haircut: f64,
}

/// What each rule cut from a holding's value after haircut, USD.
#[derive(Debug, Clone, Copy, Default, PartialEq)]
pub struct Cuts {
    pub ineligible: f64,
    pub wrong_way: f64,
    pub member_share: f64,
    pub issuer_share: f64,
}

/// The rules in the order they apply, as the outputs name their cuts.
pub const RULES: [&str; 4] = ["ineligible", "wrong_way", "member_share", "issuer_share"];

impl Cuts {
    /// Each rule's cut, in the order of [`RULES`].
    pub fn by_rule(&self) -> [f64; 4] {
        [
            self.ineligible,
            self.wrong_way,
            self.member_share,
            self.issuer_share,
        ]
    }

    pub fn total(&self) -> f64 {
        self.by_rule().iter().sum()
    }
}

/// A holding's value after haircut, split: `after_haircut = cuts.total() +
/// counted` (to rounding).
#[derive(Debug, Clone, Copy, Default, PartialEq)]
pub struct Counted {
    pub cuts: Cuts,
    pub counted: f64,
}

/// Each holding of `held`, in order, cut by `rules` in the order of the
/// module's formula. Without rules every holding counts its whole
/// `after_haircut`, bit for bit: no arithmetic touches a value no rule cuts.
pub fn apply(rules: &CollateralConfig, held: &[Held]) -> Vec<Counted> {
    let mut out: Vec<Counted> = held
        .iter()
        .map(|h| {
            let v = h.after_haircut;
            let mut cuts = Cuts::default();
            if !rules.is_eligible(h.asset) {
                cuts.ineligible = v;
            } else if rules.is_wrong_way(h.member_id, h.asset) {
                cuts.wrong_way = v;
            } else {
                return Counted { cuts, counted: v };
            }
            Counted { cuts, counted: 0.0 }
        })
        .collect();
    if rules.member_share.is_empty() && rules.issuer_share.is_empty() {
        return out;
    }
    let members = held.iter().map(|h| h.member + 1).max().unwrap_or(0);
    let mut eligible = vec![0.0; members];
    for (h, c) in held.iter().zip(&out) {
        eligible[h.member] += c.counted;
    }
    let ccp_eligible: f64 = eligible.iter().sum();

    // 3. The member's holdings of each capped asset, summed.
    let share_of = |h: &Held| rules.member_share.get(h.asset).copied();
    let mut by_member_asset: BTreeMap<(usize, &str), f64> = BTreeMap::new();
    for (h, c) in held.iter().zip(&out) {
        if share_of(h).is_some() {
            *by_member_asset.entry((h.member, h.asset)).or_default() += c.counted;
        }
    }
    for (h, c) in held.iter().zip(out.iter_mut()) {
        if let Some(share) = share_of(h) {
            let cap = share * eligible[h.member];
            let total = by_member_asset[&(h.member, h.asset)];
            if total > cap {
                let kept = c.counted * (cap / total);
                c.cuts.member_share = c.counted - kept;
                c.counted = kept;
            }
        }
    }

    // 4. Each capped issuer's assets over all members, summed.
    let issuer_of = |h: &Held| {
        let issuer = rules.issuers.get(h.asset)?;
        Some((issuer.as_str(), *rules.issuer_share.get(issuer)?))
    };
    let mut by_issuer: BTreeMap<&str, f64> = BTreeMap::new();
    for (h, c) in held.iter().zip(&out) {
        if let Some((issuer, _)) = issuer_of(h) {
            *by_issuer.entry(issuer).or_default() += c.counted;
        }
    }
    for (h, c) in held.iter().zip(out.iter_mut()) {
        if let Some((issuer, share)) = issuer_of(h) {
            let cap = share * ccp_eligible;
            let total = by_issuer[issuer];
            if total > cap {
                let kept = c.counted * (cap / total);
                c.cuts.issuer_share = c.counted - kept;
                c.counted = kept;
            }
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn held<'a>(member: usize, asset: &'a str, after_haircut: f64) -> Held<'a> {
        Held {
            member,
            member_id: ["A", "B"][member],
            asset,
            after_haircut,
        }
    }

    /// A member whose whole eligible collateral is one capped asset keeps
    /// the cap's share of it; one with nothing eligible, or holding nothing
    /// of a capped issuer, is cut nothing (no 0/0).
    #[test]
    fn caps_on_a_single_asset_and_on_empty_totals() {
        let rules = CollateralConfig {
            eligible: Some(vec!["BTC".into(), "USDT".into()]),
            member_share: [("BTC".to_string(), 0.4)].into(),
            issuers: [("USDT".to_string(), "Tether".to_string())].into(),
            issuer_share: [("Tether".to_string(), 0.5)].into(),
            ..CollateralConfig::default()
        };
        let out = apply(
            &rules,
            &[
                held(0, "BTC", 1000.0),
                held(1, "DOGE", 50.0),
                held(1, "USDT", 0.0),
            ],
        );
        assert_eq!(out[0].counted, 400.0);
        assert_eq!(out[0].cuts.member_share, 600.0);
        assert_eq!(out[1].cuts.ineligible, 50.0);
        assert_eq!(out[2], Counted::default());
        assert!(out.iter().all(|c| c.counted.is_finite()));
    }
}
