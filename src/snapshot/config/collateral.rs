//! The collateral the CCP accepts (`[collateral]` in `ccp.toml`): haircuts,
//! the eligible assets and the limits on what counts (methodology 8 and
//! 17.6, where `book::collateral::eligibility` applies them).

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use super::at;
use crate::input::bounds::{self, Bounds};
use crate::input::InputError;

/// Haircuts and eligibility: a holding counts at its value x (1 - haircut),
/// less what the rules cut from it. Every rule is optional and left out of a
/// written `ccp.toml` while unset, so the files of a book written before the
/// rules existed stay byte for byte the same.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct CollateralConfig {
    /// The assets accepted (`USD` for cash); absent: every asset, each
    /// needing a haircut. A holding of an asset left out counts zero and
    /// needs no haircut.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub eligible: Option<Vec<String>>,
    /// Haircut per collateral asset id (`USD` for cash).
    pub haircuts: BTreeMap<String, f64>,
    /// Per asset id: the most of a member's eligible collateral (after
    /// haircuts) that asset may count for.
    #[serde(skip_serializing_if = "BTreeMap::is_empty")]
    pub member_share: BTreeMap<String, f64>,
    /// The issuer of each stablecoin (asset id -> issuer name), for
    /// `issuer_share`.
    #[serde(skip_serializing_if = "BTreeMap::is_empty")]
    pub issuers: BTreeMap<String, String>,
    /// Per issuer name: the most of the CCP's eligible collateral (all
    /// members, after haircuts) that issuer's assets may count for.
    #[serde(skip_serializing_if = "BTreeMap::is_empty")]
    pub issuer_share: BTreeMap<String, f64>,
    /// Wrong-way collateral: per member id, the assets that count zero for
    /// that member (its own token, or one its group issues).
    #[serde(skip_serializing_if = "BTreeMap::is_empty")]
    pub wrong_way: BTreeMap<String, Vec<String>>,
}

impl Default for CollateralConfig {
    fn default() -> Self {
        Self {
            eligible: None,
            haircuts: BTreeMap::from([("USD".to_string(), 0.0)]),
            member_share: BTreeMap::new(),
            issuers: BTreeMap::new(),
            issuer_share: BTreeMap::new(),
            wrong_way: BTreeMap::new(),
        }
    }
}

/// What an id in the rules names, for the loader to resolve.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RuleId {
    /// `USD` or an asset of `market/assets`.
    Asset,
    /// A member of `members`.
    Member,
}

impl CollateralConfig {
    /// Whether `asset` (`USD` for cash) is accepted at all.
    pub fn is_eligible(&self, asset: &str) -> bool {
        self.eligible
            .as_ref()
            .is_none_or(|list| list.iter().any(|a| a == asset))
    }

    /// Whether `asset` counts zero for member `member_id` as wrong-way collateral.
    pub fn is_wrong_way(&self, member_id: &str, asset: &str) -> bool {
        self.wrong_way
            .get(member_id)
            .is_some_and(|assets| assets.iter().any(|a| a == asset))
    }

    /// Whether any rule beyond the haircuts is configured.
    pub fn has_rules(&self) -> bool {
        self.eligible.is_some()
            || !self.member_share.is_empty()
            || !self.issuer_share.is_empty()
            || !self.wrong_way.is_empty()
    }

    /// Every id the rules name, with its dotted key: what the loader checks
    /// against the snapshot's tables.
    pub fn named_ids(&self) -> Vec<(String, &str, RuleId)> {
        let eligible = self.eligible.iter().flatten().enumerate();
        let mut ids: Vec<(String, &str, RuleId)> = eligible
            .map(|(i, a)| {
                (
                    format!("collateral.eligible[{i}]"),
                    a.as_str(),
                    RuleId::Asset,
                )
            })
            .collect();
        for (table, keys) in [
            ("member_share", self.member_share.keys().collect::<Vec<_>>()),
            ("issuers", self.issuers.keys().collect()),
        ] {
            ids.extend(
                keys.into_iter()
                    .map(|a| (format!("collateral.{table}.{a}"), a.as_str(), RuleId::Asset)),
            );
        }
        for (member, assets) in &self.wrong_way {
            let key = format!("collateral.wrong_way.{member}");
            ids.push((key.clone(), member.as_str(), RuleId::Member));
            ids.extend(
                (assets.iter().enumerate())
                    .map(|(i, a)| (format!("{key}[{i}]"), a.as_str(), RuleId::Asset)),
            );
        }
        ids
    }

    /// Checks what does not need the snapshot's tables: each number in its
    /// range, each eligible asset with a haircut, each capped issuer issuing
    /// some asset.
    pub(super) fn validate(
        &self,
        check: impl Fn(&str, f64, &Bounds) -> Result<(), InputError>,
    ) -> Result<(), InputError> {
        for (asset, &haircut) in &self.haircuts {
            check(
                &format!("collateral.haircuts.{asset}"),
                haircut,
                &bounds::HAIRCUT,
            )?;
        }
        for (table, shares) in [
            ("member_share", &self.member_share),
            ("issuer_share", &self.issuer_share),
        ] {
            for (key, &share) in shares {
                check(
                    &format!("collateral.{table}.{key}"),
                    share,
                    &bounds::CONCENTRATION_SHARE,
                )?;
            }
        }
        for (i, asset) in self.eligible.iter().flatten().enumerate() {
            if !self.haircuts.contains_key(asset) {
                return Err(InputError::invalid(
                    at(&format!("collateral.eligible[{i}]")),
                    format!("`{asset}` is eligible but has no haircut: expected `{asset}` under [collateral.haircuts]"),
                ));
            }
        }
        if let Some(issuer) = self
            .issuer_share
            .keys()
            .find(|i| !self.issuers.values().any(|v| v == *i))
        {
            return Err(InputError::invalid(
                at(&format!("collateral.issuer_share.{issuer}")),
                format!("no asset is issued by `{issuer}`: expected an issuer named in [collateral.issuers]"),
            ));
        }
        Ok(())
    }
}
