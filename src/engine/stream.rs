//! Streaming a run's scenarios through a backend, in blocks, into the
//! members' exact tails: the pilot that places the tail windows, the passes
//! that narrow a window to the rank it must hold, and the second pass for a
//! member whose rank fell outside its window (see [`crate::tail`]).

use std::ops::Range;

use rayon::prelude::*;

use super::{RunError, RunLimits};
use crate::backend::Backend;
use crate::default_management::depletion::DepletionStream;
use crate::tail::{MemberTail, TailMeasure, TailMemoryError, TailPlan, TopK};

/// Streams a run's scenarios through a backend, in blocks, into member tails.
pub struct Streamer<'a, B: Backend> {
    pub backend: &'a B,
    pub plan: &'a B::Plan,
    /// Scenarios per block.
    pub block: u64,
    pub limits: RunLimits,
}

impl<B: Backend> Streamer<'_, B> {
    /// Streams scenarios `range` into `tails` (and the losses beyond
    /// collateral into `depletion`), telling `progress` each block's size.
    pub fn pass(
        &self,
        range: Range<u64>,
        tails: &mut [MemberTail],
        mut depletion: Option<&mut DepletionStream>,
        progress: &dyn Fn(u64),
    ) -> Result<(), RunError> {
        let mut start = range.start;
        while start < range.end {
            let end = (start + self.block).min(range.end);
            let exceedances = depletion.as_deref_mut().map(DepletionStream::exceedances);
            self.backend
                .accumulate(self.plan, start..end, tails, exceedances)?;
            if let Some(depletion) = depletion.as_deref_mut() {
                depletion.absorb(start..end);
            }
            progress(end - start);
            start = end;
        }
        Ok(())
    }

    /// Every member's VaR and ES at `confidences` from its streamed `tails`,
    /// and the passes over the scenarios that took (1, or 2 where some member's
    /// windows missed a rank: `second_pass` fills the exact windows of `k` it
    /// is given for those members, see [`Streamer::second_pass`]).
    pub fn measures(
        &self,
        tails: Vec<MemberTail>,
        confidences: &[f64],
        k: usize,
        second_pass: impl FnOnce(Vec<MemberTail>) -> Result<Vec<MemberTail>, RunError>,
    ) -> Result<(Vec<Vec<TailMeasure>>, u32), RunError> {
        let paths = tails.first().map_or(0, MemberTail::count);
        self.resolve(
            tails,
            paths,
            k,
            |t| t.measures(paths, confidences),
            second_pass,
        )
    }

    /// The second pass of a run over scenarios `0..paths`: streams them into
    /// the exact windows `again` holds for the members whose ranks fell
    /// outside their windows.
    pub fn second_pass(
        &self,
        paths: u64,
    ) -> impl FnOnce(Vec<MemberTail>) -> Result<Vec<MemberTail>, RunError> + '_ {
        move |mut again| {
            self.pass(0..paths, &mut again, None, &|_| {})?;
            Ok(again)
        }
    }

    /// Exact windows of `k` for the members `unresolved` marks and nothing for
    /// the others: the tails a second pass over scenarios `0..paths` streams,
    /// refused where they exceed the tail memory.
    pub fn second_pass_tails(
        &self,
        unresolved: &[bool],
        k: usize,
        paths: u64,
    ) -> Result<Vec<MemberTail>, RunError> {
        let members = unresolved.iter().filter(|&&u| u).count();
        let needed = members as u64 * TopK::capacity(k) as u64 * 16;
        if needed > self.limits.tail_memory_bytes {
            return Err(TailMemoryError {
                scenarios: paths,
                members,
                needed_mib: needed.div_ceil(1 << 20),
                limit_mib: self.limits.tail_memory_bytes >> 20,
            }
            .into());
        }
        Ok(unresolved
            .iter()
            .map(|&u| match u {
                true => MemberTail::exact(k),
                false => MemberTail::ignore(),
            })
            .collect())
    }

    /// `query` on each member's tail over scenarios `0..paths`; members whose
    /// windows missed a rank (see [`crate::tail`]) get exact windows of `k`,
    /// which `second_pass` fills ([`MemberTail::ignore`] for the others).
    /// Also returns the passes taken (1 or 2).
    fn resolve<T: Send>(
        &self,
        mut tails: Vec<MemberTail>,
        paths: u64,
        k: usize,
        query: impl Fn(&mut MemberTail) -> Option<T> + Sync,
        second_pass: impl FnOnce(Vec<MemberTail>) -> Result<Vec<MemberTail>, RunError>,
    ) -> Result<(Vec<T>, u32), RunError> {
        let mut answers: Vec<Option<T>> = tails.par_iter_mut().map(&query).collect();
        drop(tails);
        let unresolved: Vec<bool> = answers.iter().map(Option::is_none).collect();
        let mut passes = 1;
        if unresolved.contains(&true) {
            let again = self.second_pass_tails(&unresolved, k, paths)?;
            let mut again = second_pass(again)?;
            for (m, t) in answers.iter_mut().zip(&mut again) {
                if m.is_none() {
                    *m = query(t);
                }
            }
            passes = 2;
        }
        let answers = answers
            .into_iter()
            .map(|m| m.ok_or(RunError::Unresolved { k }))
            .collect::<Result<_, _>>()?;
        Ok((answers, passes))
    }

    /// Streams scenarios `0..tail_plan.scenarios` into member tails laid out by
    /// `tail_plan`, and runs them again while some window only counted its
    /// losses, narrowing each rank to the bin it fell in (see [`TailPlan`]).
    /// The first pass over them also streams `depletion`. Returns the tails
    /// and the passes taken.
    pub fn tails(
        &self,
        tail_plan: &TailPlan,
        members: usize,
        depletion: Option<&mut DepletionStream>,
        progress: &dyn Fn(u64),
    ) -> Result<(Vec<MemberTail>, u32), RunError> {
        let n = tail_plan.scenarios;
        let mut tails = self.first_tails(tail_plan, members, n)?;
        self.pass(0..n, &mut tails, depletion, progress)?;
        let mut passes = 1;
        if let Some((capacity, bins)) = tail_plan.narrowing() {
            while tails.iter().any(MemberTail::is_counting) {
                tails = tails
                    .into_iter()
                    .map(|t| t.narrowed(&tail_plan.ranks, tail_plan.k(), capacity, bins))
                    .collect();
                self.pass(0..n, &mut tails, None, &|_| {})?;
                passes += 1;
            }
        }
        Ok((tails, passes))
    }

    /// The member tails a run over `tail_plan.scenarios` starts with: exact
    /// windows, or windows placed by a pilot over the first scenarios, whose
    /// own tails are laid out the same way (see [`TailPlan`]), with room for
    /// the losses of the `streamed` scenarios they will be given.
    pub fn first_tails(
        &self,
        tail_plan: &TailPlan,
        members: usize,
        streamed: u64,
    ) -> Result<Vec<MemberTail>, RunError> {
        let pilot = tail_plan.pilot();
        if pilot == 0 {
            return Ok((0..members)
                .map(|_| MemberTail::exact(tail_plan.k()))
                .collect());
        }
        let pilot_plan = tail_plan.pilot_plan(members, self.limits.tail_memory_bytes)?;
        let (pilot_tails, _) = self.tails(&pilot_plan, members, None, &|_| {})?;
        let (pilot_losses, _) = self.resolve(
            pilot_tails,
            pilot,
            pilot_plan.k(),
            |t| t.losses_at(&pilot_plan.ranks),
            self.second_pass(pilot),
        )?;
        Ok(pilot_losses
            .iter()
            .map(|losses| {
                let loss = |r| losses[pilot_plan.ranks.partition_point(|&x| x < r)];
                tail_plan.windows_from_pilot(loss, streamed)
            })
            .collect())
    }
}
