//! How a device cuts a wide book's run into chunks, on wgpu (lavapipe where
//! there is no GPU): at 10^4 members, most of them without positions, a run
//! takes a handful of chunks and gives the CPU's margins. Without an adapter
//! the tests skip with a message on stderr (see tests/wgpu_parity.rs).

mod common;

use clearstress::backend::device::{ChunkDevice, Chunking, DeviceBackend};
use clearstress::backend::{Backend, BackendError, CpuBackend, WgpuBackend};
use clearstress::book::CompiledBook;
use clearstress::engine::{self, RunLimits, Streamer};
use clearstress::sample::{self, SampleSpec};
use clearstress::snapshot::{CollateralAsset, Snapshot};
use clearstress::tail::{TailMeasure, TailPlan};

const MEMBERS: usize = 10_000;
/// Members with positions: one in ten. The others hold only USD collateral,
/// so their loss is a constant (zero) in every scenario.
const STREAMED_EVERY: usize = 10;
const PATHS: u64 = 20_000;

fn wgpu(test: &str) -> Option<WgpuBackend> {
    common::device_backend(common::Need::WgpuAdapter, test, WgpuBackend::new())
}

fn wide_book() -> Snapshot {
    let mut s = sample::generate(&SampleSpec {
        members: MEMBERS,
        assets: 8,
        options: 60,
        listing: Default::default(),
        seed: 19,
    })
    .and_then(|files| files.load("10^4-member book"))
    .expect("generated book loads");
    s.positions.retain(|p| p.member % STREAMED_EVERY == 0);
    s.collateral
        .retain(|c| c.member % STREAMED_EVERY == 0 || c.asset == CollateralAsset::Usd);
    s.config.scenario.paths = PATHS;
    s
}

/// Every member's VaR and ES as a run on `backend` computes them (the
/// engine's tail plan, passes and block size) on a plan prepared beforehand.
fn measures<B: Backend>(
    backend: &B,
    plan: &B::Plan,
    s: &Snapshot,
    members: usize,
) -> Vec<Vec<TailMeasure>> {
    let confidences = engine::confidences(s);
    let limits = RunLimits::default();
    let paths = s.config.scenario.paths;
    let tail_plan =
        TailPlan::for_confidences(paths, &confidences, members, limits.tail_memory_bytes).unwrap();
    let streamer = Streamer {
        backend,
        plan,
        block: backend.block_size(plan, s.config.scenario.block_size as u64),
        limits,
    };
    let (tails, _) = streamer.tails(&tail_plan, members, None, &|_| {}).unwrap();
    streamer
        .measures(
            tails,
            &confidences,
            tail_plan.k(),
            streamer.second_pass(paths),
        )
        .unwrap()
        .0
}

fn bits(m: &[TailMeasure]) -> Vec<u64> {
    m.iter()
        .flat_map(|x| [x.var.to_bits(), x.es.to_bits()])
        .collect()
}

/// The bound on the chunks. While a streamed member's exact window of the
/// top k (k = 201 here) has no floor, every loss comes back: the first two
/// chunks (submitted before the first comes back) take no more scenarios
/// than the window must admit before it sets one (its buffer of k + k/4 +
/// 16, in whole tiles: 320). Each later one is sized by the rate the widest
/// member admitted in the chunk before last (with a 25% margin), up to the
/// 1,677 candidates a member's region holds on lavapipe (whose 128 MiB
/// bindings hold 2^24): about k c / n of a chunk of c scenarios after n, so
/// 20,000 paths take 8 chunks (measured). The bound allows for an overflow
/// (a chunk drawn again in halves) and more. Before members without
/// positions were handled on the host they admitted every scenario (their
/// loss equals their floor), so every chunk held 838 scenarios (2^23
/// candidates over 10^4 members): 30 chunks measured.
const MOST_CHUNKS: u64 = 12;
/// The bound on the candidates read back, per streamed member: 3,008
/// measured (the ideal streaming top-k admits k (1 + ln(N / k)) = 1,125).
/// When the first two chunks took the 1,677 scenarios a region holds,
/// 4,273.
const MOST_CANDIDATES_A_MEMBER: u64 = 3_300;

#[test]
fn ten_thousand_members_take_a_few_chunks_and_get_the_cpus_margins() {
    let Some(gpu) = wgpu("chunking at 10^4 members") else {
        return;
    };
    let s = wide_book();
    let book = CompiledBook::compile(&s).unwrap();
    let model = engine::scenario_model(&s, &book).unwrap();
    let plan = gpu.prepare(&book, &model).unwrap();
    let chunks = gpu.chunks(&plan);
    let streamed = MEMBERS.div_ceil(STREAMED_EVERY);
    assert_eq!(chunks.fixed_members(), MEMBERS - streamed);
    let started = std::time::Instant::now();
    let device = measures(&gpu, &plan, &s, book.members);
    eprintln!("wgpu: {:?}", started.elapsed());
    let counts = chunks.stats();
    eprintln!(
        "{MEMBERS} members ({streamed} streamed), {PATHS} paths: {counts:?}, geometry {:?}",
        chunks.geometry
    );
    assert!(
        counts.submitted <= MOST_CHUNKS,
        "{counts:?}, geometry {:?}",
        chunks.geometry
    );
    assert!(
        counts.candidates <= MOST_CANDIDATES_A_MEMBER * streamed as u64,
        "{counts:?}"
    );

    let cpu = CpuBackend::new(None).unwrap();
    let started = std::time::Instant::now();
    let reference = measures(&cpu, &cpu.prepare(&book, &model).unwrap(), &s, book.members);
    eprintln!("cpu: {:?}", started.elapsed());
    // Members without positions: the CPU's margins bit for bit. The others
    // within the stated f32 tolerance (tests/common/parity.rs).
    let scales = common::parity::largest_scales(&s, PATHS);
    for (m, (d, c)) in device.iter().zip(&reference).enumerate() {
        if m % STREAMED_EVERY != 0 {
            assert_eq!(bits(d), bits(c), "member {m}");
            assert_eq!(d, c, "member {m}");
            continue;
        }
        let bound = common::parity::LOSS_TOLERANCE * scales[m];
        for (x, y) in d.iter().zip(c) {
            assert!((x.var - y.var).abs() <= bound, "member {m}: {x:?} vs {y:?}");
            assert!((x.es - y.es).abs() <= bound, "member {m}: {x:?} vs {y:?}");
        }
    }

    // Small chunks, one accumulate call each (so that a fixed member's tail
    // is continued across calls), and regions of 48 candidates a member,
    // fewer than the 64 scenarios of the smallest chunk, so that chunks
    // overflow while the tails have no floors and are drawn again in halves:
    // the same margins bit for bit.
    let small = gpu.with_chunking(Chunking {
        scenarios: 4_096,
        candidates: 48 * MEMBERS as u32,
        ..Chunking::default()
    });
    let plan = small.prepare(&book, &model).unwrap();
    let chunked = measures(&small, &plan, &s, book.members);
    let counts = small.chunks(&plan).stats();
    eprintln!("small chunks: {counts:?}");
    assert!(counts.submitted >= PATHS / 4_096 && counts.overflowed > 0);
    for (m, (a, b)) in device.iter().zip(&chunked).enumerate() {
        assert_eq!(bits(a), bits(b), "member {m}");
    }
}

#[test]
fn a_book_without_members_or_beyond_one_launch_is_a_device_error() {
    let Some(gpu) = wgpu("launch shapes") else {
        return;
    };
    let mut s = wide_book();
    s.config.scenario.paths = 1_000;
    let model_book = CompiledBook::compile(&s).unwrap();
    let model = engine::scenario_model(&s, &model_book).unwrap();
    let most = u64::from(gpu.adapter().limits.max_compute_workgroups_per_dimension) * 64;
    for members in [0, most as usize + 1] {
        let mut book = model_book.clone();
        book.members = members;
        book.weights = vec![0.0; book.assets * members];
        book.constant = vec![0.0; members];
        book.collateral_value = vec![0.0; members];
        book.gross_notional = vec![0.0; members];
        book.member_options.offsets = vec![0; members + 1];
        book.member_options.series.clear();
        book.member_options.weight.clear();
        match gpu.prepare(&book, &model) {
            Err(BackendError::Device { message, .. }) => {
                eprintln!("{members} members: {message}");
                assert!(
                    message.contains("no members") || message.contains(&most.to_string()),
                    "{message}"
                );
            }
            Err(e) => panic!("{members} members: {e}"),
            Ok(_) => panic!("{members} members: prepared"),
        }
    }
}
