//! The partial-state file's records ([`super::file`]): a part's tails and
//! depletion as rows in the file's order (a window's kept losses with its
//! row), the rows back into the part, and the checksum over them.

use std::ops::Range;

use crate::default_management::depletion::DepletionTally;
use crate::engine::MonteCarloPart;
use crate::tail::{ExactSum, Held, MemberTail, Moments, TopK, Window};

#[derive(Debug, Clone, Copy, Default, PartialEq)]
pub(super) struct Row {
    pub record: &'static str,
    pub tail: u64,
    pub window: u64,
    pub x: f64,
    pub y: f64,
    pub z: f64,
    pub n: u64,
    pub m: u64,
    pub p: u64,
    pub sums: [u64; 8],
}

impl Row {
    /// Every cell but the record's name, as bits, in column order: `tail`,
    /// `window`, `x`, `y`, `z`, `n`, `m`, `p`, `s0..s3`, `q0..q3`.
    pub fn all_cells(&self) -> [u64; 16] {
        let mut cells = [0; 16];
        cells[..8].copy_from_slice(&[
            self.tail,
            self.window,
            self.x.to_bits(),
            self.y.to_bits(),
            self.z.to_bits(),
            self.n,
            self.m,
            self.p,
        ]);
        cells[8..].copy_from_slice(&self.sums);
        cells
    }

    /// Which of [`Self::all_cells`] the record's kind fills (the module's
    /// table), bit i for cell i; the others must be 0.
    pub fn filled(&self) -> u16 {
        const TAIL: u16 = 1;
        const WINDOW: u16 = 1 << 1;
        const X: u16 = 1 << 2;
        const Y: u16 = 1 << 3;
        const Z: u16 = 1 << 4;
        const N: u16 = 1 << 5;
        const M: u16 = 1 << 6;
        const P: u16 = 1 << 7;
        const S: u16 = 0xf << 8;
        const Q: u16 = 0xf << 12;
        match self.record {
            "tail" => TAIL | N | M,
            "window" => TAIL | WINDOW | X | Y | Z | N | M | P,
            "gap" => TAIL | WINDOW | N | S | Q,
            _ => N | M | P | S,
        }
    }
}

/// Where records go, each with its kept losses (a window's; none for others).
type Emit<'a> = &'a mut dyn FnMut(Row, &[(f64, u64)]);

/// The records of one tail; a window's kept losses go with its record.
fn tail_rows(t: u64, tail: &MemberTail, emit: Emit) {
    let (windows, gaps) = tail.state();
    let row = Row {
        tail: t,
        ..Row::default()
    };
    emit(
        Row {
            record: "tail",
            n: tail.count(),
            m: windows.len() as u64,
            ..row
        },
        &[],
    );
    for (w, (window, gap)) in windows.iter().zip(gaps).enumerate() {
        let row = Row {
            window: w as u64,
            ..row
        };
        // Shards refuse the layouts that count ([`crate::engine::RunError::ShardNarrowing`]).
        let Held::Losses(top) = &window.held else {
            unreachable!("a shard's windows keep their losses")
        };
        let (items, floor) = top.state();
        let (floor_loss, floor_scenario) = floor.unwrap_or_default();
        let bounds = Row {
            record: "window",
            x: window.lo,
            y: window.hi,
            z: floor_loss,
            n: top.k() as u64,
            m: floor_scenario,
            p: u64::from(floor.is_some()),
            ..row
        };
        emit(bounds, items);
        let (sum, sum_sq) = (gap.sum.limbs(), gap.sum_sq.limbs());
        let mut sums = [0; 8];
        sums[..4].copy_from_slice(&sum);
        sums[4..].copy_from_slice(&sum_sq);
        let gap = Row {
            record: "gap",
            n: gap.count,
            sums,
            ..row
        };
        emit(gap, &[]);
    }
}

/// Every record of `part`, in the file's order.
pub(super) fn each_row(part: &MonteCarloPart, emit: Emit) {
    for (t, tail) in part.tails.iter().enumerate() {
        tail_rows(t as u64, tail, emit);
    }
    if let Some(d) = &part.depletion {
        let m = part.tails.len() as u64;
        tail_rows(m, &d.demand, emit);
        tail_rows(m + 1, &d.depletion, emit);
        let mut sums = [0; 8];
        sums[..4].copy_from_slice(&d.sum.limbs());
        let depletion = Row {
            record: "depletion",
            n: d.exhausted,
            m: d.with_uncovered,
            p: d.seen,
            sums,
            ..Row::default()
        };
        emit(depletion, &[]);
    }
}

/// The BLAKE3 digest of the header's JSON (checksum empty) and, for every
/// record, its name, its filled cells and, for a window, its kept losses'
/// bits then their scenarios, each value as 8 little-endian bytes: the digest
/// of the concatenation, however it is fed. The lists are hashed straight
/// from the columns they are written from or read into.
pub(super) struct Checksum {
    hash: blake3::Hasher,
    buffer: Vec<u8>,
}

impl Checksum {
    const BUFFER: usize = 1 << 16;

    /// Starting from the header as JSON, its checksum empty.
    pub fn new(unsigned_header: &str) -> Self {
        let mut hash = blake3::Hasher::new();
        hash.update(unsigned_header.as_bytes());
        Self {
            hash,
            buffer: Vec::with_capacity(Self::BUFFER + 256),
        }
    }

    /// A record, with its window's kept losses and their scenarios (empty
    /// for other records).
    pub fn add(&mut self, r: &Row, losses: &[f64], scenarios: &[u64]) {
        self.buffer.extend_from_slice(r.record.as_bytes());
        self.buffer.push(0);
        let filled = r.filled();
        for (i, v) in r.all_cells().iter().enumerate() {
            if filled & (1 << i) != 0 {
                self.buffer.extend_from_slice(&v.to_le_bytes());
            }
        }
        if losses.is_empty() && scenarios.is_empty() {
            if self.buffer.len() >= Self::BUFFER {
                self.spill();
            }
            return;
        }
        self.spill();
        self.words(bytemuck::cast_slice(losses));
        self.words(scenarios);
    }

    /// 64-bit words as little-endian bytes, in one call where they already
    /// are (BLAKE3 hashes a long input's chunks in parallel lanes).
    fn words(&mut self, words: &[u64]) {
        if cfg!(target_endian = "little") {
            self.hash.update(bytemuck::cast_slice(words));
        } else {
            for w in words {
                self.hash.update(&w.to_le_bytes());
            }
        }
    }

    fn spill(&mut self) {
        self.hash.update(&self.buffer);
        self.buffer.clear();
    }

    pub fn finish(mut self) -> String {
        self.spill();
        self.hash.finalize().to_hex().to_string()
    }
}

/// The part the rows describe, or `None` if they are not in the order
/// [`super::file::encode`] writes them or describe no reachable state:
/// streamed scenarios `scenarios.start..done` of `scenarios`.
pub(super) fn part_of(
    scenarios: Range<u64>,
    done: u64,
    rows: &mut dyn Iterator<Item = (Row, Vec<(f64, u64)>)>,
) -> Option<MonteCarloPart> {
    let mut rows = rows.peekable();
    let mut tails = Vec::new();
    while let Some((row, _)) = rows.next_if(|(r, _)| r.record == "tail") {
        if row.tail != tails.len() as u64 {
            return None;
        }
        let mut windows = Vec::new();
        let mut gaps = Vec::new();
        for w in 0..row.m {
            let of_window = |r: &Row, kind| r.record == kind && r.window == w && r.tail == row.tail;
            let (bounds, items) = rows.next().filter(|(r, _)| of_window(r, "window"))?;
            let (gap, _) = rows.next().filter(|(r, _)| of_window(r, "gap"))?;
            let floor = (bounds.p == 1).then_some((bounds.z, bounds.m));
            let top = TopK::from_state(usize::try_from(bounds.n).ok()?, items, floor)?;
            windows.push(Window {
                lo: bounds.x,
                hi: bounds.y,
                held: Held::Losses(top),
            });
            let limbs = |at: usize| std::array::from_fn(|i| gap.sums[at + i]);
            gaps.push(Moments {
                count: gap.n,
                sum: ExactSum::from_limbs(limbs(0)),
                sum_sq: ExactSum::from_limbs(limbs(4)),
            });
        }
        tails.push(MemberTail::from_state(windows, gaps, row.n)?);
    }
    let depletion = match rows.next() {
        None => None,
        Some((row, _)) if row.record == "depletion" && tails.len() >= 2 => {
            let depletion = tails.pop()?;
            let demand = tails.pop()?;
            Some(DepletionTally {
                demand,
                depletion,
                exhausted: row.n,
                with_uncovered: row.m,
                sum: ExactSum::from_limbs(std::array::from_fn(|i| row.sums[i])),
                seen: row.p,
            })
        }
        Some(_) => return None,
    };
    if rows.next().is_some() || done < scenarios.start || done > scenarios.end {
        return None;
    }
    Some(MonteCarloPart {
        scenarios,
        done,
        tails,
        depletion,
    })
}
