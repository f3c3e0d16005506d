//! Parquet outputs read back column by column, for the tests that check what
//! a command wrote. Included with `#[path]`.

// Each test crate uses the part it needs.
#![allow(dead_code)]

use std::path::Path;

use arrow_array::{Array, Float64Array, RecordBatch, StringArray, UInt64Array};
use parquet::arrow::arrow_reader::ParquetRecordBatchReaderBuilder;

pub fn read_parquet(path: &Path) -> Vec<RecordBatch> {
    let file = std::fs::File::open(path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    ParquetRecordBatchReaderBuilder::try_new(file)
        .unwrap()
        .build()
        .unwrap()
        .map(|batch| batch.unwrap())
        .collect()
}

/// Every value of a column of array type `A`, as `value` reads it.
pub fn column<A: Array + 'static, T>(
    batches: &[RecordBatch],
    name: &str,
    value: impl Fn(&A, usize) -> T,
) -> Vec<T> {
    batches
        .iter()
        .flat_map(|batch| {
            let array = batch
                .column_by_name(name)
                .unwrap_or_else(|| panic!("no column `{name}`"))
                .as_any()
                .downcast_ref::<A>()
                .unwrap_or_else(|| {
                    panic!("column `{name}` is not a {}", std::any::type_name::<A>())
                });
            (0..array.len())
                .map(|i| value(array, i))
                .collect::<Vec<_>>()
        })
        .collect()
}

pub fn strings(batches: &[RecordBatch], name: &str) -> Vec<String> {
    column(batches, name, |a: &StringArray, i| a.value(i).to_string())
}

pub fn floats(batches: &[RecordBatch], name: &str) -> Vec<f64> {
    column(batches, name, |a: &Float64Array, i| a.value(i))
}

pub fn counts(batches: &[RecordBatch], name: &str) -> Vec<u64> {
    column(batches, name, |a: &UInt64Array, i| a.value(i))
}

/// The column names, in order.
pub fn column_names(batches: &[RecordBatch]) -> Vec<String> {
    batches[0]
        .schema()
        .fields()
        .iter()
        .map(|f| f.name().clone())
        .collect()
}
