//! The partial-state file: one Parquet table of records (README, "Sharded
//! runs"), its header as JSON in the file's key-value metadata under
//! [`HEADER_KEY`], with the format's version and the SHA-256 of the header
//! and every record ([`Checked`]).
//!
//! One row per record, in this order for each tail `t` (the members in
//! snapshot order, then, in a first-pass part, the fund depletion's demand
//! D and depletion X as tails `M` and `M + 1`, and one `depletion` row):
//!
//! | record | window | x | y | z | n | m | p | s0..s3 | q0..q3 |
//! |---|---|---|---|---|---|---|---|---|---|
//! | `tail` | 0 | | | | scenarios seen | windows | | | |
//! | `window` | w | lo | hi | floor loss | k | floor scenario | 1 if a floor | | |
//! | `gap` | w | | | | losses above window w | | | sum | sum of squares |
//! | `loss` | w | loss | | | scenario | | | | |
//! | `depletion` | 0 | | | | exhausted | with uncovered | scenarios | sum of D | |
//!
//! Sums are [`ExactSum`]s: sum x 2^96 as a 256-bit two's-complement integer in
//! little-endian 64-bit limbs. Empty cells are 0. No loss out of range is
//! ever recorded: a shard stops with the run's error at the first
//! ([`crate::engine::RunError::LossOutOfRange`]), before any checkpoint.

use std::path::Path;
use std::sync::Arc;

use arrow_array::{Array, ArrayRef, Float64Array, RecordBatch, StringArray, UInt64Array};
use arrow_schema::{Field, Schema};
use parquet::arrow::arrow_reader::ParquetRecordBatchReaderBuilder;
use parquet::arrow::ArrowWriter;
use parquet::basic::Compression;
use parquet::file::metadata::KeyValue;
use parquet::file::properties::WriterProperties;
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

use super::{hex, PartHeader, PartialState, ShardError};
use crate::default_management::depletion::DepletionTally;
use crate::engine::MonteCarloPart;
use crate::tail::{ExactSum, Held, MemberTail, Moments, TopK, Window};

/// The metadata key the header is stored under.
pub const HEADER_KEY: &str = "clearstress.partial_state";
/// The format, and its version: a reader refuses any other.
pub const FORMAT: &str = "clearstress partial state";
pub const FORMAT_VERSION: u32 = 1;

/// The header as stored: the part's header with the format and the checksum.
#[derive(Debug, Clone, Serialize, Deserialize)]
struct Checked {
    format: String,
    format_version: u32,
    #[serde(flatten)]
    header: PartHeader,
    /// The part's scenarios and how far it got.
    scenarios_start: u64,
    scenarios_end: u64,
    done: u64,
    /// SHA-256 of this header (with this field empty) and every record.
    sha256: String,
}

#[derive(Debug, Clone, Copy, Default, PartialEq)]
struct Row {
    record: &'static str,
    tail: u64,
    window: u64,
    x: f64,
    y: f64,
    z: f64,
    n: u64,
    m: u64,
    p: u64,
    sums: [u64; 8],
}

const RECORDS: [&str; 5] = ["tail", "window", "gap", "loss", "depletion"];

fn tail_rows(t: u64, tail: &MemberTail, rows: &mut Vec<Row>) {
    let (windows, gaps) = tail.state();
    let row = Row {
        tail: t,
        ..Row::default()
    };
    rows.push(Row {
        record: "tail",
        n: tail.count(),
        m: windows.len() as u64,
        ..row
    });
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
        rows.push(Row {
            record: "window",
            x: window.lo,
            y: window.hi,
            z: floor_loss,
            n: top.k() as u64,
            m: floor_scenario,
            p: u64::from(floor.is_some()),
            ..row
        });
        let (sum, sum_sq) = (gap.sum.limbs(), gap.sum_sq.limbs());
        let mut sums = [0; 8];
        sums[..4].copy_from_slice(&sum);
        sums[4..].copy_from_slice(&sum_sq);
        rows.push(Row {
            record: "gap",
            n: gap.count,
            sums,
            ..row
        });
        rows.extend(items.iter().map(|&(loss, scenario)| Row {
            record: "loss",
            x: loss,
            n: scenario,
            ..row
        }));
    }
}

fn rows_of(part: &MonteCarloPart) -> Vec<Row> {
    let mut rows = Vec::new();
    for (t, tail) in part.tails.iter().enumerate() {
        tail_rows(t as u64, tail, &mut rows);
    }
    if let Some(d) = &part.depletion {
        let m = part.tails.len() as u64;
        tail_rows(m, &d.demand, &mut rows);
        tail_rows(m + 1, &d.depletion, &mut rows);
        let mut sums = [0; 8];
        sums[..4].copy_from_slice(&d.sum.limbs());
        rows.push(Row {
            record: "depletion",
            n: d.exhausted,
            m: d.with_uncovered,
            p: d.seen,
            sums,
            ..Row::default()
        });
    }
    rows
}

/// SHA-256 of the header's JSON (checksum empty) and every record's values.
fn checksum(header: &Checked, rows: &[Row]) -> String {
    let mut unsigned = header.clone();
    unsigned.sha256.clear();
    let mut hash = Sha256::new();
    hash.update(
        serde_json::to_string(&unsigned)
            .unwrap_or_default()
            .as_bytes(),
    );
    for r in rows {
        hash.update(r.record.as_bytes());
        hash.update([0]);
        for v in [
            r.tail,
            r.window,
            r.x.to_bits(),
            r.y.to_bits(),
            r.z.to_bits(),
            r.n,
            r.m,
            r.p,
        ]
        .iter()
        .chain(&r.sums)
        {
            hash.update(v.to_le_bytes());
        }
    }
    hex(&hash.finalize())
}

const SUM_COLUMNS: [&str; 8] = ["s0", "s1", "s2", "s3", "q0", "q1", "q2", "q3"];

/// The part's file contents: Parquet bytes.
pub fn encode(
    header: &PartHeader,
    part: &MonteCarloPart,
) -> Result<Vec<u8>, parquet::errors::ParquetError> {
    let rows = rows_of(part);
    let mut header = Checked {
        format: FORMAT.into(),
        format_version: FORMAT_VERSION,
        header: header.clone(),
        scenarios_start: part.scenarios.start,
        scenarios_end: part.scenarios.end,
        done: part.done,
        sha256: String::new(),
    };
    header.sha256 = checksum(&header, &rows);
    let unsigned = |f: fn(&Row) -> u64| -> ArrayRef {
        Arc::new(UInt64Array::from_iter_values(rows.iter().map(f)))
    };
    let real = |f: fn(&Row) -> f64| -> ArrayRef {
        Arc::new(Float64Array::from_iter_values(rows.iter().map(f)))
    };
    let mut columns: Vec<(&str, ArrayRef)> = vec![
        (
            "record",
            Arc::new(StringArray::from_iter_values(rows.iter().map(|r| r.record))),
        ),
        ("tail", unsigned(|r| r.tail)),
        ("window", unsigned(|r| r.window)),
        ("x", real(|r| r.x)),
        ("y", real(|r| r.y)),
        ("z", real(|r| r.z)),
        ("n", unsigned(|r| r.n)),
        ("m", unsigned(|r| r.m)),
        ("p", unsigned(|r| r.p)),
    ];
    for (i, name) in SUM_COLUMNS.iter().enumerate() {
        let values = rows.iter().map(|r| r.sums[i]);
        columns.push((name, Arc::new(UInt64Array::from_iter_values(values))));
    }
    let fields: Vec<Field> = (columns.iter())
        .map(|(name, a)| Field::new(*name, a.data_type().clone(), false))
        .collect();
    let arrays = columns.into_iter().map(|(_, a)| a).collect();
    let batch = RecordBatch::try_new(Arc::new(Schema::new(fields)), arrays)?;
    let json = serde_json::to_string(&header).unwrap_or_default();
    let props = WriterProperties::builder()
        .set_compression(Compression::SNAPPY)
        .set_key_value_metadata(Some(vec![KeyValue::new(HEADER_KEY.into(), json)]))
        .build();
    let mut writer = ArrowWriter::try_new(Vec::new(), batch.schema(), Some(props))?;
    writer.write(&batch)?;
    writer.into_inner()
}

/// Reads and checks a part file: its format, version and checksum.
pub fn read(path: &Path) -> Result<PartialState, ShardError> {
    let shown = path.display().to_string();
    let unreadable = |why: String| ShardError::Unreadable {
        path: shown.clone(),
        why,
    };
    let file = std::fs::File::open(path).map_err(|e| unreadable(e.to_string()))?;
    let builder = ParquetRecordBatchReaderBuilder::try_new(file)
        .map_err(|e| unreadable(format!("not a readable Parquet file: {e}")))?;
    let json = (builder.metadata().file_metadata().key_value_metadata())
        .and_then(|kv| kv.iter().find(|kv| kv.key == HEADER_KEY))
        .and_then(|kv| kv.value.clone())
        .ok_or_else(|| unreadable("not a clearstress partial-state file (no header)".into()))?;
    let header: Checked =
        serde_json::from_str(&json).map_err(|e| unreadable(format!("a damaged header: {e}")))?;
    if header.format != FORMAT || header.format_version != FORMAT_VERSION {
        return Err(unreadable(format!(
            "format `{}` version {}, where this clearstress reads `{FORMAT}` version {FORMAT_VERSION}",
            header.format, header.format_version
        )));
    }
    let reader = builder.build().map_err(|e| unreadable(e.to_string()))?;
    let mut rows = Vec::new();
    for batch in reader {
        let batch = batch.map_err(|e| unreadable(format!("a damaged table: {e}")))?;
        decode_batch(&batch, &mut rows).map_err(unreadable)?;
    }
    let found = checksum(&header, &rows);
    if found != header.sha256 {
        return Err(ShardError::Checksum {
            path: shown,
            found,
            recorded: header.sha256,
        });
    }
    let part = part_of(&header, &rows).ok_or_else(|| {
        unreadable("records out of order or inconsistent (not written by clearstress)".into())
    })?;
    Ok(PartialState {
        header: header.header,
        part,
    })
}

fn decode_batch(batch: &RecordBatch, rows: &mut Vec<Row>) -> Result<(), String> {
    let column = |name: &str| {
        batch
            .column_by_name(name)
            .ok_or_else(|| format!("no column `{name}`"))
    };
    let unsigned = |name: &str| -> Result<&UInt64Array, String> {
        column(name)?
            .as_any()
            .downcast_ref::<UInt64Array>()
            .ok_or_else(|| format!("column `{name}` is not UInt64"))
    };
    let real = |name: &str| -> Result<&Float64Array, String> {
        column(name)?
            .as_any()
            .downcast_ref::<Float64Array>()
            .ok_or_else(|| format!("column `{name}` is not Float64"))
    };
    let record = column("record")?
        .as_any()
        .downcast_ref::<StringArray>()
        .ok_or("column `record` is not Utf8")?;
    let (tail, window, n, m, p) = (
        unsigned("tail")?,
        unsigned("window")?,
        unsigned("n")?,
        unsigned("m")?,
        unsigned("p")?,
    );
    let (x, y, z) = (real("x")?, real("y")?, real("z")?);
    let sums = SUM_COLUMNS
        .iter()
        .map(|name| unsigned(name))
        .collect::<Result<Vec<_>, _>>()?;
    for i in 0..batch.num_rows() {
        let name = record.value(i);
        let record = RECORDS
            .iter()
            .find(|r| **r == name)
            .ok_or_else(|| format!("unknown record `{name}` in row {}", rows.len()))?;
        rows.push(Row {
            record,
            tail: tail.value(i),
            window: window.value(i),
            x: x.value(i),
            y: y.value(i),
            z: z.value(i),
            n: n.value(i),
            m: m.value(i),
            p: p.value(i),
            sums: std::array::from_fn(|s| sums[s].value(i)),
        });
    }
    Ok(())
}

/// The part the rows describe, or `None` if they are not in the order
/// [`encode`] writes them or describe no reachable state.
fn part_of(header: &Checked, rows: &[Row]) -> Option<MonteCarloPart> {
    let mut rows = rows.iter().peekable();
    let mut tails = Vec::new();
    while let Some(row) = rows.next_if(|r| r.record == "tail") {
        if row.tail != tails.len() as u64 {
            return None;
        }
        let mut windows = Vec::new();
        let mut gaps = Vec::new();
        for w in 0..row.m {
            let bounds = rows
                .next()
                .filter(|r| r.record == "window" && r.window == w)?;
            let gap = rows.next().filter(|r| r.record == "gap" && r.window == w)?;
            let mut items = Vec::new();
            while let Some(loss) = rows.next_if(|r| r.record == "loss") {
                (loss.window == w && loss.tail == row.tail).then_some(())?;
                items.push((loss.x, loss.n));
            }
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
        Some(row) if row.record == "depletion" && tails.len() >= 2 => {
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
    if rows.next().is_some()
        || header.done < header.scenarios_start
        || header.done > header.scenarios_end
    {
        return None;
    }
    Some(MonteCarloPart {
        scenarios: header.scenarios_start..header.scenarios_end,
        done: header.done,
        tails,
        depletion,
    })
}
