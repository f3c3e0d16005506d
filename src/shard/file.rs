//! The partial-state file: one Parquet table of records (README, "Sharded
//! runs"), its header as JSON in the file's key-value metadata under
//! [`HEADER_KEY`], with the format's version and the BLAKE3 digest of the
//! header and every record ([`Checked`]).
//!
//! One row per record, in this order for each tail `t` (the members in
//! snapshot order, then, in a first-pass part, the fund depletion's demand
//! D and depletion X as tails `M` and `M + 1`, and one `depletion` row):
//!
//! | record | window | x | y | z | n | m | p | s0..s3 | q0..q3 | losses, scenarios |
//! |---|---|---|---|---|---|---|---|---|---|---|
//! | `tail` | 0 | | | | scenarios seen | windows | | | | |
//! | `window` | w | lo | hi | floor loss | k | floor scenario | 1 if a floor | | | its kept losses and their scenarios |
//! | `gap` | w | | | | losses above window w | | | sum | sum of squares | |
//! | `depletion` | 0 | | | | exhausted | with uncovered | scenarios | sum of D | | |
//!
//! Sums are [`ExactSum`](crate::tail::ExactSum)s: sum x 2^96 as a 256-bit
//! two's-complement integer in little-endian 64-bit limbs. Empty cells are
//! 0 (empty lists), and a reader refuses anything else there; the checksum
//! covers each record's name, filled cells and kept losses. No loss out of
//! range is ever recorded: a shard stops with the run's error at the first
//! ([`crate::engine::RunError::LossOutOfRange`]), before any checkpoint.

use std::path::Path;
use std::sync::Arc;

use arrow_array::types::{Float64Type, UInt64Type};
use arrow_array::{
    Array, ArrayRef, ArrowPrimitiveType, Float64Array, LargeListArray, PrimitiveArray, RecordBatch,
    StringArray, UInt64Array,
};
use arrow_buffer::OffsetBuffer;
use arrow_schema::{DataType, Field, Schema};
use parquet::arrow::arrow_reader::{ArrowReaderMetadata, ParquetRecordBatchReaderBuilder};
use parquet::arrow::ArrowWriter;
use parquet::basic::{Compression, Encoding};
use parquet::file::metadata::KeyValue;
use parquet::file::properties::WriterProperties;
use parquet::schema::types::ColumnPath;
use serde::{Deserialize, Serialize};

use super::records::{each_row, part_of, Checksum, Row};
use super::{PartHeader, PartialState, ShardError};
use crate::engine::MonteCarloPart;

/// The metadata key the header is stored under.
pub const HEADER_KEY: &str = "clearstress.partial_state";
/// The format, and its version: a reader refuses any other.
pub const FORMAT: &str = "clearstress partial state";
pub const FORMAT_VERSION: u32 = 4;

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
    /// BLAKE3 of this header (with this field empty) and every record
    /// ([`Checksum`]).
    blake3: String,
}

impl Checked {
    /// The header as JSON with its checksum empty: what the checksum starts from.
    fn unsigned_json(&self) -> String {
        let mut unsigned = self.clone();
        unsigned.blake3.clear();
        serde_json::to_string(&unsigned).unwrap_or_default()
    }
}

const SUM_COLUMNS: [&str; 8] = ["s0", "s1", "s2", "s3", "q0", "q1", "q2", "q3"];
/// The kept losses of a window's record, and their scenarios.
const LIST_COLUMNS: [&str; 2] = ["losses", "scenarios"];

/// Records, and kept losses, per Parquet batch at most (a batch ends at the
/// first record past either): what encoding or decoding a part holds in
/// memory beside its tails.
const BATCH_ROWS: usize = 1 << 16;
const BATCH_LOSSES: usize = 1 << 20;

/// The records of one batch, column by column.
#[derive(Default)]
struct Columns {
    record: Vec<&'static str>,
    /// `tail`, `window`, `n`, `m`, `p`, then the sums' limbs.
    unsigned: [Vec<u64>; 5 + SUM_COLUMNS.len()],
    /// `x`, `y`, `z`.
    real: [Vec<f64>; 3],
    /// Each record's kept losses and their scenarios, and where each
    /// record's start (the lists' offsets, from 0).
    losses: Vec<f64>,
    scenarios: Vec<u64>,
    offsets: Vec<i64>,
}

impl Columns {
    fn push(&mut self, r: &Row, losses: &[(f64, u64)]) {
        if self.offsets.is_empty() {
            self.offsets.push(0);
        }
        self.losses.extend(losses.iter().map(|l| l.0));
        self.scenarios.extend(losses.iter().map(|l| l.1));
        self.offsets.push(self.losses.len() as i64);
        self.record.push(r.record);
        let unsigned = [r.tail, r.window, r.n, r.m, r.p];
        for (column, v) in self.unsigned.iter_mut().zip(unsigned.iter().chain(&r.sums)) {
            column.push(*v);
        }
        for (column, v) in self.real.iter_mut().zip([r.x, r.y, r.z]) {
            column.push(v);
        }
    }

    /// Whether the batch is full.
    fn full(&self) -> bool {
        self.record.len() >= BATCH_ROWS || self.losses.len() >= BATCH_LOSSES
    }

    /// The batch, in the file's column order; the columns left empty.
    fn take(&mut self, schema: &Arc<Schema>) -> Result<RecordBatch, arrow_schema::ArrowError> {
        let record = Arc::new(StringArray::from_iter_values(self.record.drain(..))) as ArrayRef;
        let unsigned =
            |v: &mut Vec<u64>| Arc::new(UInt64Array::from(std::mem::take(v))) as ArrayRef;
        let real = |v: &mut Vec<f64>| Arc::new(Float64Array::from(std::mem::take(v))) as ArrayRef;
        let [tail, window, n, m, p, sums @ ..] = &mut self.unsigned;
        let [x, y, z] = &mut self.real;
        let mut arrays = vec![
            record,
            unsigned(tail),
            unsigned(window),
            real(x),
            real(y),
            real(z),
            unsigned(n),
            unsigned(m),
            unsigned(p),
        ];
        arrays.extend(sums.iter_mut().map(unsigned));
        let offsets = OffsetBuffer::new(std::mem::take(&mut self.offsets).into());
        let list = |item: DataType, values: ArrayRef| -> ArrayRef {
            let item = Arc::new(Field::new("item", item, false));
            Arc::new(LargeListArray::new(item, offsets.clone(), values, None))
        };
        arrays.push(list(DataType::Float64, real(&mut self.losses)));
        arrays.push(list(DataType::UInt64, unsigned(&mut self.scenarios)));
        RecordBatch::try_new(Arc::clone(schema), arrays)
    }
}

/// The file's columns: `record`, `tail`, `window`, `x`, `y`, `z`, `n`, `m`,
/// `p`, the sums' limbs, then the lists `losses` and `scenarios`.
fn schema() -> Arc<Schema> {
    let unsigned = |name: &str| Field::new(name, DataType::UInt64, false);
    let real = |name: &str| Field::new(name, DataType::Float64, false);
    let mut fields = vec![
        Field::new("record", DataType::Utf8, false),
        unsigned("tail"),
        unsigned("window"),
        real("x"),
        real("y"),
        real("z"),
        unsigned("n"),
        unsigned("m"),
        unsigned("p"),
    ];
    fields.extend(SUM_COLUMNS.iter().map(|name| unsigned(name)));
    for (name, item) in LIST_COLUMNS
        .iter()
        .zip([DataType::Float64, DataType::UInt64])
    {
        let item = Arc::new(Field::new("item", item, false));
        fields.push(Field::new(*name, DataType::LargeList(item), false));
    }
    Arc::new(Schema::new(fields))
}

/// The part's file contents: Parquet bytes, written a batch ([`BATCH_ROWS`]
/// records or [`BATCH_LOSSES`] kept losses) at a time as the checksum is
/// computed over them.
pub fn encode(
    header: &PartHeader,
    part: &MonteCarloPart,
) -> Result<Vec<u8>, parquet::errors::ParquetError> {
    let mut header = Checked {
        format: FORMAT.into(),
        format_version: FORMAT_VERSION,
        header: header.clone(),
        scenarios_start: part.scenarios.start,
        scenarios_end: part.scenarios.end,
        done: part.done,
        blake3: String::new(),
    };
    let schema = schema();
    // Interning every loss and scenario in a dictionary cost more than the
    // rest of a checkpoint: integers are delta-coded (the empty cells, runs
    // of one tail and window, and the scenarios to a few bytes), the losses
    // plain; dictionaries only for the record's name and the rarely filled
    // reals.
    let mut props = WriterProperties::builder()
        .set_compression(Compression::SNAPPY)
        .set_dictionary_enabled(false);
    for column in ["record", "y", "z"] {
        props = props.set_column_dictionary_enabled(ColumnPath::from(column), true);
    }
    let integers = ["tail", "window", "n", "m", "p"].iter().chain(&SUM_COLUMNS);
    for column in integers {
        props = props.set_column_encoding(ColumnPath::from(*column), Encoding::DELTA_BINARY_PACKED);
    }
    let scenarios = ColumnPath::new(vec!["scenarios".into(), "list".into(), "item".into()]);
    props = props.set_column_encoding(scenarios, Encoding::DELTA_BINARY_PACKED);
    let props = props.build();
    let mut writer = ArrowWriter::try_new(Vec::new(), Arc::clone(&schema), Some(props))?;
    let mut checksum = Checksum::new(&header.unsigned_json());
    let mut columns = Columns::default();
    let mut failed = None;
    each_row(part, &mut |row, losses| {
        let from = columns.losses.len();
        columns.push(&row, losses);
        checksum.add(&row, &columns.losses[from..], &columns.scenarios[from..]);
        if columns.full() && failed.is_none() {
            // A row group a batch: the writer holds one batch's encoding.
            let written = columns.take(&schema).map_err(Into::into);
            failed = (written.and_then(|batch| writer.write(&batch)))
                .and_then(|()| writer.flush())
                .err();
        }
    });
    if let Some(e) = failed {
        return Err(e);
    }
    if !columns.record.is_empty() {
        writer.write(&columns.take(&schema)?)?;
    }
    header.blake3 = checksum.finish();
    let json = serde_json::to_string(&header).unwrap_or_default();
    writer.append_key_value_metadata(KeyValue::new(HEADER_KEY.into(), json));
    writer.into_inner()
}

/// A part file's header and how far its part got, read from the file's
/// footer alone (its records are checked by [`read`]).
#[derive(Debug, Clone, PartialEq)]
pub struct PartSummary {
    pub header: PartHeader,
    pub scenarios: std::ops::Range<u64>,
    pub done: u64,
}

/// Reads a part file's header, refusing another format or version.
pub fn read_header(path: &Path) -> Result<PartSummary, ShardError> {
    let (_, _, header) = open(path)?;
    Ok(PartSummary {
        header: header.header,
        scenarios: header.scenarios_start..header.scenarios_end,
        done: header.done,
    })
}

/// The part file, its Parquet metadata and its header, checked for format
/// and version.
fn open(path: &Path) -> Result<(std::fs::File, ArrowReaderMetadata, Checked), ShardError> {
    let unreadable = |why: String| ShardError::Unreadable {
        path: path.display().to_string(),
        why,
    };
    let file = std::fs::File::open(path).map_err(|e| unreadable(e.to_string()))?;
    let metadata = ArrowReaderMetadata::load(&file, Default::default())
        .map_err(|e| unreadable(format!("not a readable Parquet file: {e}")))?;
    let json = (metadata.metadata().file_metadata().key_value_metadata())
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
    Ok((file, metadata, header))
}

/// The file's record batches, one per row group: a reader's batch of a
/// given number of rows would span row groups, and the encoder bounds its
/// row groups by their kept losses as well as their records.
fn batches(
    file: std::fs::File,
    metadata: ArrowReaderMetadata,
) -> impl Iterator<Item = Result<RecordBatch, String>> {
    let groups = metadata.metadata().num_row_groups();
    (0..groups).flat_map(move |g| {
        let rows = metadata.metadata().row_group(g).num_rows();
        let reader = file
            .try_clone()
            .map_err(|e| e.to_string())
            .and_then(|file| {
                ParquetRecordBatchReaderBuilder::new_with_metadata(file, metadata.clone())
                    .with_row_groups(vec![g])
                    // The encoder's row groups hold at most BATCH_ROWS records: a
                    // larger count in a damaged file sizes no allocation.
                    .with_batch_size(
                        usize::try_from(rows).map_or(BATCH_ROWS, |r| r.clamp(1, BATCH_ROWS)),
                    )
                    .build()
                    .map_err(damaged)
            });
        let batches: Box<dyn Iterator<Item = Result<RecordBatch, String>>> = match reader {
            Ok(reader) => Box::new(reader.map(|b| b.map_err(damaged))),
            Err(e) => Box::new(std::iter::once(Err(e))),
        };
        batches
    })
}

fn damaged(e: impl std::fmt::Display) -> String {
    format!("a damaged table: {e}")
}

/// Reads and checks a part file: its format, version and checksum.
pub fn read(path: &Path) -> Result<PartialState, ShardError> {
    let shown = path.display().to_string();
    let unreadable = |why: String| ShardError::Unreadable {
        path: shown.clone(),
        why,
    };
    let (file, metadata, header) = open(path)?;
    let mut rows = Rows {
        batches: Box::new(batches(file, metadata)),
        batch: Vec::new().into_iter(),
        checksum: Checksum::new(&header.unsigned_json()),
        failed: None,
    };
    let scenarios = header.scenarios_start..header.scenarios_end;
    let part = part_of(scenarios, header.done, &mut rows);
    // A damaged file is named as such even where its records stopped making
    // sense first: the checksum covers every record.
    rows.by_ref().for_each(drop);
    if let Some(why) = rows.failed {
        return Err(unreadable(why));
    }
    let found = rows.checksum.finish();
    if found != header.blake3 {
        return Err(ShardError::Checksum {
            path: shown,
            found,
            recorded: header.blake3,
        });
    }
    let part = part.ok_or_else(|| {
        unreadable("records out of order or inconsistent (not written by clearstress)".into())
    })?;
    Ok(PartialState {
        header: header.header,
        part,
    })
}

/// A part file's records, a batch at a time, each added to the checksum as
/// it is decoded; the first error ends them and is kept.
struct Rows {
    batches: Box<dyn Iterator<Item = Result<RecordBatch, String>>>,
    batch: std::vec::IntoIter<(Row, Vec<(f64, u64)>)>,
    checksum: Checksum,
    failed: Option<String>,
}

impl Iterator for Rows {
    type Item = (Row, Vec<(f64, u64)>);

    fn next(&mut self) -> Option<Self::Item> {
        loop {
            if let Some(row) = self.batch.next() {
                return Some(row);
            }
            if self.failed.is_some() {
                return None;
            }
            let mut rows = Vec::new();
            let decoded = (self.batches.next()?)
                .and_then(|batch| decode_batch(&batch, &mut rows, &mut self.checksum));
            self.failed = decoded.err();
            self.batch = rows.into_iter();
        }
    }
}

/// The values of a column (or a list's items) of primitive type `T`.
fn values<'a, T: ArrowPrimitiveType>(
    array: &'a dyn Array,
    name: &str,
) -> Result<&'a [T::Native], String> {
    let typed = array.as_any().downcast_ref::<PrimitiveArray<T>>();
    let typed = typed.ok_or_else(|| format!("column `{name}` does not hold {}", T::DATA_TYPE))?;
    Ok(typed.values())
}

/// The records of `batch`, checked for stray cells and added to `checksum`,
/// appended to `rows`; the batch's rows up to the first bad one.
fn decode_batch(
    batch: &RecordBatch,
    rows: &mut Vec<(Row, Vec<(f64, u64)>)>,
    checksum: &mut Checksum,
) -> Result<(), String> {
    let column = |name: &str| {
        let column = batch
            .column_by_name(name)
            .ok_or_else(|| format!("no column `{name}`"))?;
        match column.null_count() {
            0 => Ok(column),
            _ => Err(format!("column `{name}` has empty (null) cells")),
        }
    };
    let unsigned = |name: &str| values::<UInt64Type>(column(name)?, name);
    let real = |name: &str| values::<Float64Type>(column(name)?, name);
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
    let mut sums: [&[u64]; 8] = [&[]; 8];
    for (sum, name) in sums.iter_mut().zip(SUM_COLUMNS) {
        *sum = unsigned(name)?;
    }
    let list = |name: &str| -> Result<&LargeListArray, String> {
        column(name)?
            .as_any()
            .downcast_ref::<LargeListArray>()
            .ok_or_else(|| format!("column `{name}` is not a large list"))
    };
    let (losses, scenarios) = (list("losses")?, list("scenarios")?);
    if losses.value_offsets() != scenarios.value_offsets() {
        return Err("the lists of losses and of their scenarios differ in length".into());
    }
    let offsets = losses.value_offsets();
    let loss = values::<Float64Type>(losses.values(), "losses")?;
    let scenario = values::<UInt64Type>(scenarios.values(), "scenarios")?;
    rows.reserve(batch.num_rows());
    for i in 0..batch.num_rows() {
        let record = match record.value(i) {
            "window" => "window",
            "gap" => "gap",
            "tail" => "tail",
            "depletion" => "depletion",
            name => return Err(format!("unknown record `{name}`")),
        };
        let held = usize::try_from(offsets[i])
            .ok()
            .zip(usize::try_from(offsets[i + 1]).ok());
        let held = held
            .and_then(|(a, b)| Some((loss.get(a..b)?, scenario.get(a..b)?)))
            .ok_or("list offsets out of range")?;
        let row = Row {
            record,
            tail: tail[i],
            window: window[i],
            x: x[i],
            y: y[i],
            z: z[i],
            n: n[i],
            m: m[i],
            p: p[i],
            sums: std::array::from_fn(|s| sums[s][i]),
        };
        let filled = row.filled();
        let stray =
            (row.all_cells().iter().enumerate()).any(|(i, &v)| filled & (1 << i) == 0 && v != 0);
        if stray || !(held.0.is_empty() || row.record == "window") {
            return Err(format!(
                "a `{}` record fills a cell its kind leaves empty",
                row.record
            ));
        }
        checksum.add(&row, held.0, held.1);
        rows.push((
            row,
            held.0.iter().copied().zip(held.1.iter().copied()).collect(),
        ));
    }
    Ok(())
}
