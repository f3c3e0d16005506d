//! Contagion: the survivors who pay for a default may default in turn.
//!
//! Each member may state its `capital` (members.csv, USD). A default walked
//! through the waterfall (9.4) charges every survivor its lost default fund
//! contribution and its assessment; a survivor whose charges reach its
//! capital cannot bear them and defaults, with its affiliate group, in the
//! next round, which walks the waterfall again with every defaulter so far:
//!
//! ```text
//! D_0     = the scenario's Cover-n groups
//! charge_k(m) = fund_loss_k(m) + assessment_k(m)       (the waterfall of D_k)
//! D_{k+1} = D_k + groups of { m not in D_k : capital(m) stated, charge_k(m) > 0, charge_k(m) >= capital(m) }
//! ```
//!
//! until a round adds no group (at most one round per group). A member
//! without a stated capital is taken to bear any charge (it never defaults by
//! contagion); gains haircutting and auto-deleveraging take gains, not
//! capital, so they do not count. The rounds, the cascade and the last
//! round's waterfall are reported (methodology 9.8).

use super::waterfall::Waterfall;

/// The cascade of one scenario's default.
#[derive(Debug, Clone, PartialEq)]
pub struct Contagion {
    /// The groups that default in each round: round 0 is the initial
    /// default, each later one the groups whose members' capital the round
    /// before exhausted.
    pub rounds: Vec<Vec<usize>>,
    /// The waterfall of the last round: every group that defaulted.
    pub waterfall: Waterfall,
}

impl Contagion {
    /// Groups that defaulted by contagion, beyond the initial default.
    pub fn contagious(&self) -> usize {
        self.rounds.iter().skip(1).map(Vec::len).sum()
    }
}

/// The cascade from `initial` groups' default: `walk(defaulting)` walks the
/// scenario's waterfall for a member-indexed set of defaulters. `capital[m]`
/// is member m's stated capital, if any.
pub fn cascade(
    initial: &[usize],
    group_of: &[usize],
    capital: &[Option<f64>],
    mut walk: impl FnMut(&[bool]) -> Waterfall,
) -> Contagion {
    let groups = group_of.iter().copied().max().map_or(0, |g| g + 1);
    let mut defaulted = vec![false; groups];
    for &g in initial {
        defaulted[g] = true;
    }
    let mut rounds = vec![initial.to_vec()];
    loop {
        let defaulting: Vec<bool> = group_of.iter().map(|&g| defaulted[g]).collect();
        let waterfall = walk(&defaulting);
        let charges = &waterfall.survivors;
        let mut next: Vec<usize> = (0..group_of.len())
            .filter(|&m| !defaulting[m])
            .filter(|&m| {
                let charge = charges.fund_loss[m] + charges.assessment[m];
                capital[m].is_some_and(|c| charge > 0.0 && charge >= c)
            })
            .map(|m| group_of[m])
            .collect();
        next.sort_unstable();
        next.dedup();
        if next.is_empty() {
            return Contagion { rounds, waterfall };
        }
        for &g in &next {
            defaulted[g] = true;
        }
        rounds.push(next);
    }
}
