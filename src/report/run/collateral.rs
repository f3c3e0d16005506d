//! `collateral_eligibility.parquet`: per posted holding, its value after
//! haircut, what each eligibility rule cut from it and what counts
//! ([`crate::book::collateral::eligibility`], methodology 17.6).

use serde_json::{json, Map, Value};

use super::{RunView, Section};
use crate::book::collateral::eligibility::RULES;
use crate::book::collateral::{self, CountedCollateral, Cuts};
use crate::report::{money, plural, OutputTable};

impl CountedCollateral {
    /// Per rule: the total it cut and the number of members it cut from.
    fn rule_totals(&self, run: RunView) -> [(f64, usize); 4] {
        std::array::from_fn(|k| {
            let cut = |c: &Cuts| c.by_rule()[k];
            let total = self.holdings.iter().map(|h| cut(&h.cuts)).sum();
            (total, self.members_cut(run, cut))
        })
    }

    /// The number of members `cut` is positive for on some holding.
    fn members_cut(&self, run: RunView, cut: impl Fn(&Cuts) -> f64) -> usize {
        let mut members: Vec<usize> = (run.snapshot.collateral.iter())
            .zip(&self.holdings)
            .filter(|(_, h)| cut(&h.cuts) > 0.0)
            .map(|(c, _)| c.member)
            .collect();
        members.sort_unstable();
        members.dedup();
        members.len()
    }
}

impl Section for CountedCollateral {
    fn tables(&self, run: RunView) -> Vec<(&'static str, OutputTable)> {
        let snapshot = run.snapshot;
        let (held, h) = (&snapshot.collateral, &self.holdings);
        let member = |m: usize| &snapshot.members[m];
        let mut table = OutputTable::default()
            .text(
                "member_id",
                held.iter().map(|c| member(c.member).id.clone()).collect(),
            )
            .text(
                "group",
                held.iter()
                    .map(|c| member(c.member).group.clone())
                    .collect(),
            )
            .text(
                "asset",
                held.iter()
                    .map(|c| collateral::asset_id(snapshot, c).to_string())
                    .collect(),
            )
            .number("amount", held.iter().map(|c| c.amount).collect())
            .number("market_value", h.iter().map(|x| x.market_value).collect())
            .optional_number("haircut", h.iter().map(|x| x.haircut).collect())
            .number(
                "after_haircut",
                h.iter().map(|x| x.after_haircut()).collect(),
            );
        for (k, name) in RULES.iter().enumerate() {
            table = table.number(
                &format!("cut_{name}"),
                h.iter().map(|x| x.cuts.by_rule()[k]).collect(),
            );
        }
        let table = table.number("counted", h.iter().map(|x| x.counted).collect());
        vec![("collateral_eligibility.parquet", table)]
    }

    fn summary(&self, run: RunView, into: &mut Map<String, Value>) {
        let totals = self.rule_totals(run);
        let mut cut = Map::new();
        let mut members = Map::new();
        for (name, (total, affected)) in RULES.iter().zip(totals) {
            cut.insert(name.to_string(), json!(total));
            members.insert(name.to_string(), json!(affected));
        }
        into.insert(
            "collateral_eligibility".into(),
            json!({
                "rules": run.snapshot.config.collateral.has_rules(),
                "after_haircut": self.holdings.iter().map(|h| h.after_haircut()).sum::<f64>(),
                "counted": self.holdings.iter().map(|h| h.counted).sum::<f64>(),
                "cut": cut,
                "members_cut": members,
                "members_affected": self.members_cut(run, Cuts::total),
            }),
        );
    }

    fn terminal(&self, run: RunView, out: &mut String) {
        let totals = self.rule_totals(run);
        let cuts: Vec<String> = RULES
            .iter()
            .zip(totals)
            .filter(|(_, (total, _))| *total > 0.0)
            .map(|(name, (total, affected))| {
                format!(
                    "{} {} ({})",
                    name.replace('_', " "),
                    money(total),
                    plural(affected, "member", "members")
                )
            })
            .collect();
        if cuts.is_empty() {
            return;
        }
        let after: f64 = self.holdings.iter().map(|h| h.after_haircut()).sum();
        let cut: f64 = totals.iter().map(|t| t.0).sum();
        out.push_str(&format!(
            "Collateral eligibility: {} of {} after haircuts does not count: {} \
             (collateral_eligibility.parquet)\n",
            money(cut),
            money(after),
            cuts.join("; ")
        ));
    }
}
