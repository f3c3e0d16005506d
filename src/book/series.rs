//! The compiled book's option series and their revaluation in a batch of
//! scenarios: one Black-76 evaluation per underlying, expiry and strike
//! ([`StrikeGroups`]), shared by the calls and puts of that strike and by their
//! coin- and USDC-settled listings (methodology, "Option revaluation").
//!
//! A strike's call and put come from one evaluation through put-call parity,
//! C - P = D (F - K): the one out of the money (the call where F < K, else the
//! put) is priced by Black-76, the other is it plus or minus D (F - K). Pricing
//! the out-of-the-money side keeps the small value exact and puts the parity's
//! rounding (a few ulps of D (F + K)) on the large one, so both agree with
//! Black-76 priced directly to within about 1e-15 of F + K, far inside the
//! 1e-12 the revaluation promises (tested over the whole input range in
//! `tests/revaluation.rs`). Series differing only in settlement share the
//! value: only their premium's currency differs. The device kernels'
//! `option_pnl` (kernels/revalue.wgsl, kernels/revalue.cu) mirrors
//! [`GroupLanes::values`] and [`SeriesLanes::pnl`] in f32, one strike group
//! and scenario per invocation.

use crate::lanes::elementary::ln;
use crate::lanes::{overlapping_starts, Lanes, Mask};
use crate::pricing::black76::black76_given_log_moneyness;
use crate::snapshot::{OptionRight, Settlement};

/// Distinct option series, structure of arrays: each series' own terms (its
/// right, settlement and value today) and the strike group that holds the
/// rest (underlying, strike, forward, vol, time and discount at the horizon).
#[derive(Debug, Clone, Default, PartialEq)]
pub struct OptionSeries {
    pub right: Vec<OptionRight>,
    pub settlement: Vec<Settlement>,
    /// Black-76 value per unit at the valuation date.
    pub value0: Vec<f64>,
    /// The strike group each series is valued in.
    pub group: Vec<usize>,
    /// One Black-76 evaluation each, shared by the series of one underlying,
    /// expiry and strike.
    pub groups: StrikeGroups,
}

/// The series of one underlying, expiry and strike, structure of arrays: the
/// same forward, strike, implied vol (the surface is sticky strike), time and
/// discount, so one Black-76 evaluation values all of them.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct StrikeGroups {
    pub underlying: Vec<usize>,
    pub strike: Vec<f64>,
    /// Spot of the underlying.
    pub spot: Vec<f64>,
    /// exp(basis tau1): the horizon forward is spot R carry1.
    pub carry1: Vec<f64>,
    /// sqrt(tau1), tau1 the years to expiry at the horizon: taken once here
    /// rather than in every scenario.
    pub root_tau1: Vec<f64>,
    /// Implied vol from the surface (sticky strike).
    pub vol: Vec<f64>,
    /// ln(S0 carry1 / K): ln(F1/K) in a scenario is this plus ln R.
    pub log_moneyness1: Vec<f64>,
    /// exp(-r tau1).
    pub discount1: Vec<f64>,
    /// The series valued in each group, ascending.
    pub series: Vec<Vec<usize>>,
}

impl StrikeGroups {
    pub fn len(&self) -> usize {
        self.strike.len()
    }

    pub fn is_empty(&self) -> bool {
        self.strike.is_empty()
    }

    /// Whether group `g`'s column holds its call (else its put): the right
    /// out of the money at the horizon forward with the underlying unmoved,
    /// so that the column is mostly the small out-of-the-money value and the
    /// parity's linear term lands on the in-the-money holdings, which are
    /// mostly linear already ([`super::ParityFold`]).
    pub fn column_is_call(&self, g: usize) -> bool {
        self.log_moneyness1[g] < 0.0
    }

    /// Group `g`'s column among its call and put values.
    #[inline(always)]
    fn column_lanes<const N: usize>(&self, g: usize, values: &StrikeValues<N>) -> Lanes<N> {
        if self.column_is_call(g) {
            values.call
        } else {
            values.put
        }
    }

    /// Group `g`'s parameters in each of `N` lanes.
    #[inline(always)]
    fn lanes<const N: usize>(&self, g: usize) -> GroupLanes<N> {
        GroupLanes {
            spot: Lanes::splat(self.spot[g]),
            carry1: Lanes::splat(self.carry1[g]),
            strike: Lanes::splat(self.strike[g]),
            vol: Lanes::splat(self.vol[g]),
            log_moneyness1: Lanes::splat(self.log_moneyness1[g]),
            root_tau1: Lanes::splat(self.root_tau1[g]),
            discount1: Lanes::splat(self.discount1[g]),
        }
    }
}

impl OptionSeries {
    pub fn len(&self) -> usize {
        self.group.len()
    }

    pub fn is_empty(&self) -> bool {
        self.group.is_empty()
    }

    /// Series `j`'s underlying asset.
    pub fn underlying(&self, j: usize) -> usize {
        self.groups.underlying[self.group[j]]
    }

    /// Series `j`'s strike.
    pub fn strike(&self, j: usize) -> f64 {
        self.groups.strike[self.group[j]]
    }

    /// Series `j`'s forward at the horizon given its underlying's return:
    /// spot R carry1.
    pub fn forward1(&self, j: usize, ret: f64) -> f64 {
        let g = self.group[j];
        self.groups.spot[g] * (1.0 + ret) * self.groups.carry1[g]
    }

    /// Appends a series valued in the group of its underlying, expiry
    /// (`expiry_key`) and strike, opened here if it is the first.
    pub(super) fn push(&mut self, series: NewSeries, expiry_key: i32, groups_of: &mut GroupIndex) {
        let j = self.len();
        let key = (series.underlying, series.strike.to_bits(), expiry_key);
        let groups = &mut self.groups;
        let g = *groups_of.entry(key).or_insert_with(|| {
            groups.underlying.push(series.underlying);
            groups.strike.push(series.strike);
            groups.spot.push(series.spot);
            groups.carry1.push(series.carry1);
            groups.root_tau1.push(series.tau1.sqrt());
            groups.vol.push(series.vol);
            groups.log_moneyness1.push(series.log_moneyness1);
            groups.discount1.push(series.discount1);
            groups.series.push(Vec::new());
            groups.len() - 1
        });
        groups.series[g].push(j);
        self.group.push(g);
        self.right.push(series.right);
        self.settlement.push(series.settlement);
        self.value0.push(series.value0);
    }

    /// USD P&L per unit of series `j` given its underlying's return and vol factor.
    #[inline]
    pub fn pnl(&self, j: usize, ret: f64, vol_factor: f64) -> f64 {
        let ret = Lanes([ret]);
        let strike = self.groups.lanes::<1>(self.group[j]).values(
            ret,
            ln_relative(ret),
            Lanes([vol_factor]),
        );
        self.lanes::<1>(j).pnl(&strike).0[0]
    }

    /// Series `j`'s own terms in each of `N` lanes.
    #[inline(always)]
    fn lanes<const N: usize>(&self, j: usize) -> SeriesLanes<N> {
        SeriesLanes {
            call: Mask::splat(self.right[j] == OptionRight::Call),
            inverse: Mask::splat(self.settlement[j] == Settlement::Inverse),
            value0: Lanes::splat(self.value0[j]),
        }
    }

    /// Strike group `g`'s column ([`StrikeGroups::column_is_call`]) per unit
    /// given its underlying's return and vol factor.
    #[inline]
    pub fn column(&self, g: usize, ret: f64, vol_factor: f64) -> f64 {
        let ret = Lanes([ret]);
        let strike = self
            .groups
            .lanes::<1>(g)
            .values(ret, ln_relative(ret), Lanes([vol_factor]));
        self.groups.column_lanes(g, &strike).0[0]
    }

    /// Each strike group's column in a batch of scenarios (returns and vol
    /// factors `scenarios x assets` each), group-major: group `g` in
    /// scenario `s` at `out[g * scenarios + s]`, each bit for bit what
    /// [`Self::column`] gives. Scenarios rather than groups share the `N`
    /// lanes: one strike's moneyness varies little from scenario to
    /// scenario, so its lanes mostly take the same branch of N(x).
    #[inline(always)]
    pub fn columns<const N: usize>(
        &self,
        assets: usize,
        returns: &[f64],
        vol_factors: &[f64],
        out: &mut [f64],
    ) {
        let scenarios = returns.len() / assets.max(1);
        if scenarios < N {
            return self.columns::<1>(assets, returns, vol_factors, out);
        }
        self.each_group::<N>(assets, returns, vol_factors, |g, start, strike| {
            let at = g * scenarios + start;
            out[at..at + N].copy_from_slice(&self.groups.column_lanes(g, strike).0);
        });
    }

    /// Each strike group's call and put values in `N` scenarios at a time of a
    /// batch of at least `N` (returns and vol factors `scenarios x assets`
    /// each), handed to `emit` with the group and the first scenario; the
    /// last `N` overlap the ones before where `N` does not divide the batch.
    #[inline(always)]
    fn each_group<const N: usize>(
        &self,
        assets: usize,
        returns: &[f64],
        vol_factors: &[f64],
        mut emit: impl FnMut(usize, usize, &StrikeValues<N>),
    ) {
        let scenarios = returns.len() / assets.max(1);
        // Each underlying's returns, ln R and vol factors, scenario after
        // scenario, so that a group's lanes load adjacent values.
        let mut underlyings = self.groups.underlying.clone();
        underlyings.sort_unstable();
        underlyings.dedup();
        let mut slot = vec![0; assets];
        let n = scenarios;
        let mut by_underlying = vec![0.0; 3 * n * underlyings.len()];
        for (k, (&a, columns)) in underlyings
            .iter()
            .zip(by_underlying.chunks_exact_mut(3 * n))
            .enumerate()
        {
            slot[a] = k;
            let (ret, rest) = columns.split_at_mut(n);
            let (ln_r, vol) = rest.split_at_mut(n);
            for s in 0..n {
                ret[s] = returns[s * assets + a];
                vol[s] = vol_factors[s * assets + a];
            }
            for start in overlapping_starts(n, N) {
                let lanes = start..start + N;
                let r = Lanes::<N>(ret[lanes.clone()].try_into().expect("N lanes"));
                ln_r[lanes].copy_from_slice(&ln_relative(r).0);
            }
        }
        let groups = &self.groups;
        for (g, &a) in groups.underlying.iter().enumerate() {
            let group = groups.lanes::<N>(g);
            let columns = &by_underlying[3 * n * slot[a]..3 * n * (slot[a] + 1)];
            for start in overlapping_starts(scenarios, N) {
                let at = |k: usize| {
                    let first = k * n + start;
                    Lanes::<N>(columns[first..first + N].try_into().expect("N lanes"))
                };
                emit(g, start, &group.values(at(0), at(1), at(2)));
            }
        }
    }
}

/// A series to append: its terms, and those of its strike group.
pub(super) struct NewSeries {
    pub underlying: usize,
    pub right: OptionRight,
    pub settlement: Settlement,
    pub strike: f64,
    pub spot: f64,
    pub carry1: f64,
    pub tau1: f64,
    pub vol: f64,
    pub log_moneyness1: f64,
    pub discount1: f64,
    pub value0: f64,
}

/// Strike groups by (underlying, strike bits, expiry).
pub(super) type GroupIndex = std::collections::HashMap<(usize, u64, i32), usize>;

/// ln R = ln(1 + return), which every option on the asset shares.
#[inline(always)]
fn ln_relative<const N: usize>(ret: Lanes<N>) -> Lanes<N> {
    ln(1.0 + ret)
}

/// One strike group's parameters, for its values in `N` scenarios at once.
struct GroupLanes<const N: usize> {
    spot: Lanes<N>,
    carry1: Lanes<N>,
    strike: Lanes<N>,
    vol: Lanes<N>,
    log_moneyness1: Lanes<N>,
    root_tau1: Lanes<N>,
    discount1: Lanes<N>,
}

/// A strike's call and put values per unit in `N` scenarios, and R.
struct StrikeValues<const N: usize> {
    relative: Lanes<N>,
    call: Lanes<N>,
    put: Lanes<N>,
}

impl<const N: usize> GroupLanes<N> {
    /// The call and put values given the underlying's return, its
    /// [`ln_relative`] and vol factor in each lane: Black-76 on the
    /// out-of-the-money side, parity for the other.
    #[inline(always)]
    fn values(
        &self,
        ret: Lanes<N>,
        ln_relative: Lanes<N>,
        vol_factor: Lanes<N>,
    ) -> StrikeValues<N> {
        let relative = 1.0 + ret;
        let forward = self.spot * relative * self.carry1;
        let call_out = forward.lt(self.strike);
        // The product's order is black76's: (vol x factor) x sqrt(tau1).
        let out_of_the_money = black76_given_log_moneyness(
            call_out,
            forward,
            self.strike,
            self.log_moneyness1 + ln_relative,
            self.vol * vol_factor * self.root_tau1,
            self.discount1,
        );
        // C - P = D (F - K); at expiry both sides are the discounted
        // intrinsic values to the bit (0 + x, and -(D (F - K)) = D (K - F)).
        let parity = self.discount1 * (forward - self.strike);
        StrikeValues {
            relative,
            call: call_out.select(out_of_the_money, out_of_the_money + parity),
            put: call_out.select(out_of_the_money - parity, out_of_the_money),
        }
    }
}

/// One series' own terms: its right, its settlement and its value today.
struct SeriesLanes<const N: usize> {
    call: Mask<N>,
    inverse: Mask<N>,
    value0: Lanes<N>,
}

impl<const N: usize> SeriesLanes<N> {
    /// The P&L per unit: the value at the horizon less today's, whose premium
    /// a coin-settled (inverse) series paid in coin, now worth R times as much.
    #[inline(always)]
    fn pnl(&self, strike: &StrikeValues<N>) -> Lanes<N> {
        let v1 = self.call.select(strike.call, strike.put);
        self.inverse
            .select(v1 - self.value0 * strike.relative, v1 - self.value0)
    }
}
