//! Writing a column table to Parquet through arrow.

use std::path::Path;
use std::sync::Arc;

use arrow_array::{ArrayRef, BooleanArray, Float64Array, RecordBatch, StringArray, UInt64Array};
use arrow_schema::{DataType, Field, Schema};
use parquet::arrow::ArrowWriter;
use parquet::basic::Compression;
use parquet::file::properties::WriterProperties;

use super::ReportError;

/// One column of an output table.
#[derive(Debug, Clone, PartialEq)]
pub enum Column {
    Text(Vec<String>),
    Number(Vec<f64>),
    Count(Vec<u64>),
    Flag(Vec<bool>),
    /// Nullable: `None` where the value does not apply (never a NaN).
    OptionalNumber(Vec<Option<f64>>),
    /// Nullable: `None` where the count does not apply.
    OptionalCount(Vec<Option<u64>>),
}

/// An output table: named columns of equal length.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct OutputTable {
    pub columns: Vec<(String, Column)>,
}

impl OutputTable {
    pub fn text(mut self, name: &str, values: Vec<String>) -> Self {
        self.columns.push((name.to_string(), Column::Text(values)));
        self
    }

    pub fn number(mut self, name: &str, values: Vec<f64>) -> Self {
        self.columns
            .push((name.to_string(), Column::Number(values)));
        self
    }

    pub fn count(mut self, name: &str, values: Vec<u64>) -> Self {
        self.columns.push((name.to_string(), Column::Count(values)));
        self
    }

    pub fn flag(mut self, name: &str, values: Vec<bool>) -> Self {
        self.columns.push((name.to_string(), Column::Flag(values)));
        self
    }

    pub fn optional_number(mut self, name: &str, values: Vec<Option<f64>>) -> Self {
        self.columns
            .push((name.to_string(), Column::OptionalNumber(values)));
        self
    }

    pub fn optional_count(mut self, name: &str, values: Vec<Option<u64>>) -> Self {
        self.columns
            .push((name.to_string(), Column::OptionalCount(values)));
        self
    }

    pub fn to_record_batch(&self) -> Result<RecordBatch, arrow_schema::ArrowError> {
        let fields: Vec<Field> = self
            .columns
            .iter()
            .map(|(name, column)| {
                let (ty, nullable) = match column {
                    Column::Text(_) => (DataType::Utf8, false),
                    Column::Number(_) => (DataType::Float64, false),
                    Column::Count(_) => (DataType::UInt64, false),
                    Column::Flag(_) => (DataType::Boolean, false),
                    Column::OptionalNumber(_) => (DataType::Float64, true),
                    Column::OptionalCount(_) => (DataType::UInt64, true),
                };
                Field::new(name, ty, nullable)
            })
            .collect();
        let arrays: Vec<ArrayRef> = self
            .columns
            .iter()
            .map(|(_, column)| -> ArrayRef {
                match column {
                    Column::Text(v) => Arc::new(StringArray::from(v.clone())),
                    Column::Number(v) => Arc::new(Float64Array::from(v.clone())),
                    Column::Count(v) => Arc::new(UInt64Array::from(v.clone())),
                    Column::Flag(v) => Arc::new(BooleanArray::from(v.clone())),
                    Column::OptionalNumber(v) => Arc::new(Float64Array::from(v.clone())),
                    Column::OptionalCount(v) => Arc::new(UInt64Array::from(v.clone())),
                }
            })
            .collect();
        RecordBatch::try_new(Arc::new(Schema::new(fields)), arrays)
    }

    /// Writes the table as a Snappy-compressed Parquet file; a NaN or an
    /// infinity anywhere is refused, naming its column and row.
    pub fn write_parquet(&self, path: &Path) -> Result<(), ReportError> {
        for (name, column) in &self.columns {
            // (row, value) of every number the column holds.
            let values: Vec<(usize, f64)> = match column {
                Column::Number(v) => v.iter().copied().enumerate().collect(),
                Column::OptionalNumber(v) => v
                    .iter()
                    .enumerate()
                    .filter_map(|(row, x)| Some((row, (*x)?)))
                    .collect(),
                _ => Vec::new(),
            };
            if let Some(&(row, value)) = values.iter().find(|(_, x)| !x.is_finite()) {
                return Err(ReportError::NonFinite {
                    path: path.display().to_string(),
                    column: name.clone(),
                    row,
                    value,
                });
            }
        }
        self.write_parquet_unchecked(path)
            .map_err(|source| ReportError::Parquet {
                path: path.display().to_string(),
                source,
            })
    }

    fn write_parquet_unchecked(&self, path: &Path) -> Result<(), parquet::errors::ParquetError> {
        let batch = self.to_record_batch()?;
        let file = std::fs::File::create(path)?;
        let props = WriterProperties::builder()
            .set_compression(Compression::SNAPPY)
            .build();
        let mut writer = ArrowWriter::try_new(file, batch.schema(), Some(props))?;
        writer.write(&batch)?;
        writer.close()?;
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_non_finite_number_is_refused_naming_column_and_row_and_nothing_is_written() {
        let dir = tempfile::tempdir().unwrap();
        for bad in [f64::NAN, f64::INFINITY, f64::NEG_INFINITY] {
            let path = dir.path().join("t.parquet");
            let table = OutputTable::default()
                .text("member_id", vec!["A".into(), "B".into()])
                .number("initial_margin", vec![1.0, bad]);
            let err = table.write_parquet(&path).unwrap_err().to_string();
            assert!(
                err.contains("column `initial_margin` row 1")
                    && err.contains("not a finite number"),
                "{err}"
            );
            assert!(!path.exists());
        }
    }
}
