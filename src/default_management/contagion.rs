//! Contagion: the survivors who pay for a default may default in turn.
//!
//! Each member may state its `capital` and its `liquid_resources`
//! (members.csv, USD). A default walked through the waterfall (9.4) charges
//! every survivor its lost default fund contribution and its assessment. A
//! survivor whose charges reach its capital cannot bear them (insolvent), and
//! one whose assessment, a cash call due at once (its contribution was
//! prefunded), exceeds its liquid resources cannot pay it (illiquid): either
//! defaults, with its affiliate group, in the next round, which walks the
//! waterfall again with every defaulter so far:
//!
//! ```text
//! D_0     = the defaulting groups (a scenario's Cover-n, or a configured set)
//! charge_k(m) = fund_loss_k(m) + assessment_k(m)       (the waterfall of D_k)
//! insolvent_k(m) = capital(m) stated and charge_k(m) > 0 and charge_k(m) >= capital(m)
//! illiquid_k(m)  = liquid(m) stated and assessment_k(m) > liquid(m)
//! D_{k+1} = D_k + groups of { m not in D_k : insolvent_k(m) or illiquid_k(m) }
//! ```
//!
//! until a round adds no group (at most one round per group). A member that
//! states neither is taken to bear any charge (it never defaults by
//! contagion); gains haircutting and auto-deleveraging take gains, not
//! capital or cash the member must find, so they do not count. The rounds, the cascade and the last
//! round's waterfall are reported (methodology 9.8).

use super::waterfall::Waterfall;

/// What a member can bear before it defaults (members.csv), each optional.
#[derive(Debug, Clone, Copy, Default, PartialEq)]
pub struct Capacity {
    /// Against its default fund loss and assessment.
    pub capital: Option<f64>,
    /// Against its assessment, a cash call.
    pub liquid_resources: Option<f64>,
}

impl Capacity {
    pub fn is_stated(&self) -> bool {
        self.capital.is_some() || self.liquid_resources.is_some()
    }
}

/// Why a group defaulted by contagion: some member's charges reached its
/// capital, some member's assessment exceeded its liquid resources, or both.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Trigger {
    Capital,
    Liquidity,
    Both,
}

impl Trigger {
    pub fn name(self) -> &'static str {
        match self {
            Self::Capital => "capital",
            Self::Liquidity => "liquidity",
            Self::Both => "capital and liquidity",
        }
    }

    fn of(insolvent: bool, illiquid: bool) -> Option<Self> {
        match (insolvent, illiquid) {
            (true, true) => Some(Self::Both),
            (true, false) => Some(Self::Capital),
            (false, true) => Some(Self::Liquidity),
            (false, false) => None,
        }
    }

    fn and(self, other: Self) -> Self {
        if self == other {
            self
        } else {
            Self::Both
        }
    }
}

/// The cascade of one scenario's default.
#[derive(Debug, Clone, PartialEq)]
pub struct Contagion {
    /// The groups that default in each round: round 0 is the initial
    /// default, each later one the groups whose members the round before
    /// made insolvent or illiquid.
    pub rounds: Vec<Vec<usize>>,
    /// Why each group of rounds 1.. defaulted, aligned with `rounds[1..]`.
    pub triggers: Vec<Vec<Trigger>>,
    /// The waterfall of the last round: every group that defaulted.
    pub waterfall: Waterfall,
}

impl Contagion {
    /// Groups that defaulted by contagion, beyond the initial default.
    pub fn contagious(&self) -> usize {
        self.rounds.iter().skip(1).map(Vec::len).sum()
    }

    /// Why group `g` defaulted in round `k`: `None` for the initial default
    /// (round 0) or a group not in that round.
    pub fn trigger(&self, k: usize, g: usize) -> Option<Trigger> {
        let at = self.rounds.get(k)?.iter().position(|&x| x == g)?;
        self.triggers.get(k.checked_sub(1)?)?.get(at).copied()
    }
}

/// The cascade from `initial` groups' default: `walk(defaulting)` walks the
/// scenario's waterfall for a member-indexed set of defaulters. `capacity[m]`
/// is what member m states it can bear.
pub fn cascade(
    initial: &[usize],
    group_of: &[usize],
    capacity: &[Capacity],
    mut walk: impl FnMut(&[bool]) -> Waterfall,
) -> Contagion {
    let groups = group_of.iter().copied().max().map_or(0, |g| g + 1);
    let mut defaulted = vec![false; groups];
    for &g in initial {
        defaulted[g] = true;
    }
    let (mut rounds, mut triggers) = (vec![initial.to_vec()], Vec::new());
    loop {
        let defaulting: Vec<bool> = group_of.iter().map(|&g| defaulted[g]).collect();
        let waterfall = walk(&defaulting);
        let charges = &waterfall.survivors;
        // (group, trigger) of every member that cannot bear its charges.
        let mut failing: Vec<(usize, Trigger)> = (0..group_of.len())
            .filter(|&m| !defaulting[m])
            .filter_map(|m| {
                let (assessment, charge) = (
                    charges.assessment[m],
                    charges.fund_loss[m] + charges.assessment[m],
                );
                let c = capacity[m];
                let insolvent = c.capital.is_some_and(|c| charge > 0.0 && charge >= c);
                let illiquid = c.liquid_resources.is_some_and(|l| assessment > l);
                Some((group_of[m], Trigger::of(insolvent, illiquid)?))
            })
            .collect();
        if failing.is_empty() {
            return Contagion {
                rounds,
                triggers,
                waterfall,
            };
        }
        failing.sort_unstable_by_key(|&(g, _)| g);
        let mut next: Vec<(usize, Trigger)> = Vec::new();
        for (g, t) in failing {
            match next.last_mut() {
                Some(last) if last.0 == g => last.1 = last.1.and(t),
                _ => next.push((g, t)),
            }
        }
        for &(g, _) in &next {
            defaulted[g] = true;
        }
        rounds.push(next.iter().map(|x| x.0).collect());
        triggers.push(next.iter().map(|x| x.1).collect());
    }
}
