//! An up-front estimate of a Monte Carlo run's time and memory, so that a run
//! far beyond the machine is refused before it starts, with what it would
//! take, instead of being found out hours (or an allocation failure) later.
//!
//! The time is a lower bound: it counts only the revaluation (each member's
//! loss as a product over the book's assets, and one Black-76 price per
//! option series and scenario) at throughputs measured on this project's
//! development VM, and leaves out the pilot, a second narrowing pass, loading
//! and writing. So a refused run would certainly have taken longer than the
//! limit; an accepted one may still take longer than the estimate.
//!
//! Measured (2026-11-29, release build, CPU backend, 2-core VM with a load
//! average of ~1.7 from other builds), `summary.json`'s `monte_carlo` time:
//! - `init --members 1000 --assets 50 --options 0 --seed 1`, `run --paths
//!   400000 --backend cpu`: 1.36 s on 2 threads for 4e5 x 1000 x 50 = 2e10
//!   member-asset products: 7.3e9 a thread-second (benches/RESULTS.md's idle
//!   10^6-path figure, 3.15 s, gives 7.9e9);
//! - the same with `--options 5000` (352 option instruments), `--paths
//!   100000`: 1.91 s, of which 0.34 s is the linear part at the rate above:
//!   (1.91 - 0.34) s x 2 / (1e5 x 352) = 8.9e-8 s, 1.1e7 series prices a
//!   thread-second.

use std::fmt;

/// Member-asset loss products one CPU thread forms a second (measured, above).
pub const CPU_PRODUCTS_PER_THREAD_SECOND: f64 = 7.3e9;
/// Option series one CPU thread prices a second (measured, above).
pub const CPU_SERIES_PER_THREAD_SECOND: f64 = 1.1e7;
/// No GPU has been measured with this project yet: these are ceilings, not
/// measurements. 10^14 multiply-adds a second is above any single GPU's f32
/// peak (an H100/H200 is rated at ~6.7e13 FP32 FLOP/s, i.e. ~3.4e13
/// multiply-adds), and 10^11 Black-76 prices a second allows ~1,000 cycles
/// per price across ~10^5 lanes at 1 GHz: a GPU run refused on them cannot
/// finish in time on any one GPU.
pub const GPU_PRODUCTS_PER_SECOND: f64 = 1e14;
pub const GPU_SERIES_PER_SECOND: f64 = 1e11;
/// The longest run accepted without being asked to shrink: a day.
pub const MAX_SECONDS: f64 = 24.0 * 3600.0;

/// What a command will ask of the engine.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Workload {
    /// Scenarios of one engine run.
    pub paths: u64,
    pub members: usize,
    pub assets: usize,
    /// Distinct option instruments held (an upper bound on the series priced).
    pub option_series: usize,
    /// Engine runs the command makes (models compared, margin dates, ...).
    pub runs: u64,
    /// Expected peak bytes of the members' tails ([`crate::tail::TailPlan`]).
    pub tail_bytes: u64,
}

/// Where the work runs.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Compute {
    /// The CPU backend on this many threads (more than the machine's cores
    /// do not add speed, so the estimate counts at most that many).
    Cpu { threads: usize, cores: usize },
    /// A GPU backend.
    Gpu,
}

impl Compute {
    /// The CPU backend on `threads` threads of this machine.
    pub fn cpu(threads: usize) -> Self {
        Self::Cpu {
            threads,
            cores: std::thread::available_parallelism().map_or(1, |n| n.get()),
        }
    }
}

/// The machine's memory, when it can be read.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Machine {
    pub memory_bytes: Option<u64>,
}

impl Machine {
    /// This machine: `MemTotal` of /proc/meminfo (unknown elsewhere, and then
    /// memory is not checked).
    pub fn this() -> Self {
        let memory_bytes = std::fs::read_to_string("/proc/meminfo")
            .ok()
            .and_then(|text| mem_total_bytes(&text));
        Self { memory_bytes }
    }
}

fn mem_total_bytes(meminfo: &str) -> Option<u64> {
    let line = meminfo.lines().find(|l| l.starts_with("MemTotal:"))?;
    let kib: u64 = line.split_whitespace().nth(1)?.parse().ok()?;
    kib.checked_mul(1024)
}

/// The estimate of a workload.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Estimate {
    /// A lower bound on the time, in seconds.
    pub seconds: f64,
    /// Peak bytes: the tails and the compiled book.
    pub memory_bytes: u64,
}

/// Why a run is refused before it starts.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum TooBig {
    #[error(
        "this run would take at least {} on {compute}: {} scenarios x {} members x {} assets \
         and {} option series{}, at {}; the limit is {}. It would take {advice}",
        duration(*seconds), paths, members, assets, series,
        runs_text(*runs), rate_text(*compute), duration(MAX_SECONDS)
    )]
    Time {
        seconds: f64,
        paths: u64,
        members: usize,
        assets: usize,
        series: usize,
        runs: u64,
        compute: Compute,
        advice: String,
    },
    #[error(
        "this run needs about {} MiB (the members' tails and the book) and the machine has \
         {} MiB: lower --memory-limit-mib (the tails then take a longer pilot or more passes, \
         not more memory)",
        needed >> 20, available >> 20
    )]
    Memory { needed: u64, available: u64 },
}

impl fmt::Display for Compute {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Compute::Cpu { threads: 1, .. } => write!(f, "the CPU, one thread"),
            Compute::Cpu { threads, cores } if threads > cores => {
                write!(f, "the CPU, {threads} threads on {cores} cores")
            }
            Compute::Cpu { threads, .. } => write!(f, "the CPU, {threads} threads"),
            Compute::Gpu => write!(f, "a GPU"),
        }
    }
}

fn rate_text(compute: Compute) -> String {
    match compute {
        Compute::Cpu { .. } => format!(
            "{:.1e} member-asset products and {:.1e} option prices a thread-second, as measured",
            CPU_PRODUCTS_PER_THREAD_SECOND, CPU_SERIES_PER_THREAD_SECOND
        ),
        Compute::Gpu => format!(
            "{:.0e} products and {:.0e} option prices a second, above any one GPU's peak",
            GPU_PRODUCTS_PER_SECOND, GPU_SERIES_PER_SECOND
        ),
    }
}

fn runs_text(runs: u64) -> String {
    if runs > 1 {
        format!(", {runs} runs")
    } else {
        String::new()
    }
}

/// `seconds` in the largest unit that keeps it readable.
fn duration(seconds: f64) -> String {
    if seconds >= 2.0 * 86_400.0 {
        format!("{:.0} days", seconds / 86_400.0)
    } else if seconds >= 2.0 * 3600.0 {
        format!("{:.0} hours", seconds / 3600.0)
    } else if seconds >= 120.0 {
        format!("{:.0} minutes", seconds / 60.0)
    } else {
        format!("{seconds:.1} s")
    }
}

impl Workload {
    /// `runs` engine runs of `snapshot`, its tails laid out within `limits`
    /// (a plan that does not fit is the engine's error to report: counted as
    /// no tail memory here).
    pub fn of_runs(
        snapshot: &crate::snapshot::Snapshot,
        runs: u64,
        limits: crate::engine::RunLimits,
    ) -> Self {
        let paths = snapshot.config.scenario.paths;
        let members = snapshot.members.len();
        let option_series = snapshot
            .positions
            .iter()
            .filter(|p| {
                matches!(
                    snapshot.instruments[p.instrument].kind,
                    crate::snapshot::InstrumentKind::Option { .. }
                )
            })
            .map(|p| p.instrument)
            .collect::<std::collections::BTreeSet<_>>()
            .len();
        let tail_bytes = crate::tail::TailPlan::for_confidences(
            paths,
            &crate::engine::confidences(snapshot),
            members,
            limits.tail_memory_bytes,
        )
        .map_or(0, |plan| plan.expected_bytes);
        Self {
            paths,
            members,
            assets: snapshot.market.assets.len(),
            option_series,
            runs,
            tail_bytes,
        }
    }

    /// Seconds one scenario of one run takes at least on `compute`.
    fn seconds_per_path(&self, compute: Compute) -> f64 {
        let products = self.members as f64 * self.assets as f64;
        let series = self.option_series as f64;
        match compute {
            Compute::Cpu { threads, cores } => {
                let threads = threads.min(cores).max(1) as f64;
                (products / CPU_PRODUCTS_PER_THREAD_SECOND + series / CPU_SERIES_PER_THREAD_SECOND)
                    / threads
            }
            Compute::Gpu => products / GPU_PRODUCTS_PER_SECOND + series / GPU_SERIES_PER_SECOND,
        }
    }

    pub fn estimate(&self, compute: Compute) -> Estimate {
        let seconds = self.seconds_per_path(compute) * self.paths as f64 * self.runs.max(1) as f64;
        let book_bytes = (self.members as u64)
            .saturating_mul((self.assets + self.option_series) as u64)
            .saturating_mul(8);
        Estimate {
            seconds,
            memory_bytes: self.tail_bytes.saturating_add(book_bytes),
        }
    }

    /// The estimate, or why the run should not start: more memory than
    /// `machine` has, or more than [`MAX_SECONDS`] on `compute`.
    pub fn check(&self, compute: Compute, machine: Machine) -> Result<Estimate, TooBig> {
        let estimate = self.estimate(compute);
        if let Some(available) = machine.memory_bytes {
            if estimate.memory_bytes > available {
                return Err(TooBig::Memory {
                    needed: estimate.memory_bytes,
                    available,
                });
            }
        }
        if estimate.seconds > MAX_SECONDS {
            return Err(TooBig::Time {
                seconds: estimate.seconds,
                paths: self.paths,
                members: self.members,
                assets: self.assets,
                series: self.option_series,
                runs: self.runs,
                compute,
                advice: self.advice(compute),
            });
        }
        Ok(estimate)
    }

    /// What would bring the run within the limit.
    fn advice(&self, compute: Compute) -> String {
        let per_path = self.seconds_per_path(compute) * self.runs.max(1) as f64;
        let paths = (MAX_SECONDS / per_path).floor();
        let mut ways = vec![if paths >= 1000.0 {
            format!("--paths {} or fewer", round_down(paths as u64))
        } else {
            "a smaller book (fewer members, assets or option series)".to_string()
        }];
        if let Compute::Cpu { threads, cores } = compute {
            let wanted =
                (self.estimate(compute).seconds / MAX_SECONDS * threads.min(cores) as f64).ceil();
            if threads < cores {
                ways.push(format!("more threads (--threads {cores})"));
            }
            ways.push(format!(
                "a GPU (--backend cuda or wgpu), or a machine with {wanted:.0}+ cores"
            ));
        }
        ways.join(", or ")
    }
}

/// `n` rounded down to two significant figures, as a flag value a user would type.
fn round_down(n: u64) -> u64 {
    let mut scale = 1;
    while n / scale >= 100 {
        scale *= 10;
    }
    n / scale * scale
}

#[cfg(test)]
mod tests {
    use super::*;

    fn big_book(paths: u64) -> Workload {
        Workload {
            paths,
            members: 1000,
            assets: 50,
            option_series: 0,
            runs: 1,
            tail_bytes: 100 << 20,
        }
    }

    const TWO_CORES: Compute = Compute::Cpu {
        threads: 2,
        cores: 2,
    };

    #[test]
    fn the_measured_run_is_estimated_at_its_measured_time() {
        // 4e5 paths of the 1000 x 50 book took 1.36 s of Monte Carlo on 2 threads.
        let e = big_book(400_000).estimate(TWO_CORES);
        assert!((e.seconds - 1.36).abs() < 0.01, "{}", e.seconds);
        // 1e5 paths with 352 option series took 1.91 s.
        let options = Workload {
            option_series: 352,
            ..big_book(100_000)
        };
        let e = options.estimate(TWO_CORES);
        assert!((e.seconds - 1.91).abs() < 0.05, "{}", e.seconds);
    }

    #[test]
    fn threads_beyond_the_cores_do_not_count() {
        let w = big_book(1_000_000);
        let on = |threads| w.estimate(Compute::Cpu { threads, cores: 2 }).seconds;
        assert_eq!(on(2), on(1024));
        assert!((on(1) - 2.0 * on(2)).abs() < 1e-9);
    }

    #[test]
    fn a_run_of_days_is_refused_with_what_it_would_take() {
        // 10^11 paths: 5e15 products, ~95 hours on 2 threads.
        let err = big_book(100_000_000_000)
            .check(TWO_CORES, Machine { memory_bytes: None })
            .unwrap_err();
        let text = err.to_string();
        assert!(matches!(err, TooBig::Time { .. }), "{text}");
        assert!(text.contains("at least 4 days"), "{text}");
        assert!(text.contains("--paths 25000000000 or fewer"), "{text}");
        assert!(text.contains("a GPU"), "{text}");
        assert!(text.contains("a machine with 8+ cores"), "{text}");
        // The advised paths do fit.
        assert!(big_book(25_000_000_000)
            .check(TWO_CORES, Machine { memory_bytes: None })
            .is_ok());
        assert!(big_book(26_000_000_000)
            .check(TWO_CORES, Machine { memory_bytes: None })
            .is_err());
    }

    #[test]
    fn a_gpu_accepts_what_no_cpu_finishes_in_a_day() {
        let w = big_book(100_000_000_000);
        assert!(w
            .check(Compute::Gpu, Machine { memory_bytes: None })
            .is_ok());
        let more_runs = Workload { runs: 10_000, ..w };
        let err = more_runs
            .check(Compute::Gpu, Machine { memory_bytes: None })
            .unwrap_err();
        assert!(err.to_string().contains("10000 runs"), "{err}");
    }

    #[test]
    fn memory_beyond_the_machine_is_refused_before_time() {
        let w = Workload {
            tail_bytes: 64 << 30,
            ..big_book(1_000_000)
        };
        let err = w
            .check(
                TWO_CORES,
                Machine {
                    memory_bytes: Some(24 << 30),
                },
            )
            .unwrap_err();
        assert!(
            err.to_string().contains("the machine has 24576 MiB"),
            "{err}"
        );
        assert!(err.to_string().contains("--memory-limit-mib"), "{err}");
        assert!(w.check(TWO_CORES, Machine { memory_bytes: None }).is_ok());
    }

    #[test]
    fn meminfo_is_read_in_kib() {
        let text = "MemTotal:       24522420 kB\nMemFree:  1 kB\n";
        assert_eq!(mem_total_bytes(text), Some(24_522_420 * 1024));
        assert_eq!(mem_total_bytes("nothing"), None);
    }

    #[test]
    fn advised_paths_read_as_typed() {
        assert_eq!(round_down(918_345_678), 910_000_000);
        assert_eq!(round_down(99), 99);
        assert_eq!(round_down(1234), 1200);
    }
}
