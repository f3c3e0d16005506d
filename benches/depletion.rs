//! What streaming the Monte Carlo fund depletion (methodology 9.9) adds to
//! the Monte Carlo stage: the engine's first pass over the same scenarios,
//! with and without it, alternated so that both see the same machine load,
//! on the benchmark's books (`clearstress init --members 1000 --assets 50`,
//! linear and with 5,000 option positions), in alternating order. Each
//! figure is the fastest of `ROUNDS` passes: the least disturbed by other
//! work on the machine.
//!
//! Run: `cargo bench --bench depletion`. Figures go to benches/RESULTS.md.

use std::time::{Duration, Instant};

use clearstress::backend::{Backend, CpuBackend};
use clearstress::book::CompiledBook;
use clearstress::default_fund::Groups;
use clearstress::default_management::depletion::{DepletionInput, DepletionStream};
use clearstress::engine::{self, RunLimits, Streamer};
use clearstress::sample::{generate, SampleSpec};
use clearstress::tail::{var_rank, MemberTail};

const ROUNDS: usize = 7;

fn main() {
    let backend = CpuBackend::new(None).expect("a thread pool");
    for (label, options, scenarios) in [("linear", 0, 262_144), ("options", 5_000, 65_536)] {
        let spec = SampleSpec {
            members: 1000,
            assets: 50,
            options,
            listing: Default::default(),
            seed: 1,
        };
        let s = generate(&spec)
            .and_then(|f| f.load("bench"))
            .expect("the benchmark book generates");
        let book = CompiledBook::compile(&s).expect("compiles");
        let model = engine::scenario_model(&s, &book).expect("a valid model");
        let plan = backend.prepare(&book, &model).expect("prepared");
        let streamer = Streamer {
            backend: &backend,
            plan: &plan,
            block: backend.block_size(&plan, s.config.scenario.block_size.max(1) as u64),
            limits: RunLimits::default(),
        };
        let confidences = engine::confidences(&s);
        let k = var_rank(scenarios, confidences[0]) as usize;
        let groups = Groups::of(&s.members);
        let input = DepletionInput {
            collateral: book.collateral_value.clone(),
            group_of: groups.of.clone(),
            groups: groups.names.len(),
            cover: s.config.default_fund.cover,
            resources: s.members.iter().map(|m| m.df_contribution).sum(),
            scenarios,
            confidences: confidences.clone(),
        };
        let pass = |with: bool| {
            let mut tails: Vec<MemberTail> =
                (0..book.members).map(|_| MemberTail::exact(k)).collect();
            let mut stream = DepletionStream::new(input.clone());
            let started = Instant::now();
            let depletion = with.then_some(&mut stream);
            streamer
                .pass(0..scenarios, &mut tails, depletion, &|_| {})
                .expect("streamed");
            let elapsed = started.elapsed();
            (elapsed, stream.finish().with_uncovered)
        };
        let (mut without, mut with) = (Duration::MAX, Duration::MAX);
        let mut uncovered = 0;
        // Each round runs both, in alternating order.
        for round in 0..ROUNDS {
            for streams in [round % 2 == 0, round % 2 == 1] {
                let (t, u) = pass(streams);
                if streams {
                    (with, uncovered) = (with.min(t), u);
                } else {
                    without = without.min(t);
                }
            }
        }
        println!(
            "{label}: {scenarios} scenarios x {} members, {uncovered} scenarios with a loss beyond \
             collateral: first pass {:.3} s without the depletion, {:.3} s with it ({:+.1}%), \
             fastest of {ROUNDS}",
            book.members,
            without.as_secs_f64(),
            with.as_secs_f64(),
            100.0 * (with.as_secs_f64() / without.as_secs_f64() - 1.0)
        );
    }
}
