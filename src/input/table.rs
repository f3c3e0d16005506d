//! One input table (a snapshot's, a price history's), read from CSV or Parquet
//! through arrow.
//!
//! CSV is read with every column as text, so that parsing numbers and dates is
//! ours and each failure can name its row and field; Parquet columns keep their
//! types (text, floating point, integer, boolean, date32). Either way the table is
//! held as one arrow array per column, and [`Row`] reads a cell with a typed
//! accessor whose error says where the value was, what was expected and what was
//! found.

use std::fmt;
use std::fs::File;
use std::path::Path;
use std::sync::Arc;

use arrow_array::cast::AsArray;
use arrow_array::types::{Date32Type, Float64Type, Int64Type};
use arrow_array::{
    Array, ArrayRef, ArrowPrimitiveType, BooleanArray, Date32Array, Float64Array, Int64Array,
    PrimitiveArray, RecordBatch, RecordBatchReader, StringArray,
};
use arrow_schema::{ArrowError, DataType, Field, Schema};
use parquet::arrow::arrow_reader::ParquetRecordBatchReaderBuilder;
use parquet::file::reader::{ChunkReader, Length};
use sha2::{Digest, Sha256};

use super::row::Cell;
use super::{InputError, Location, Row};

/// The file format of a table.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum TableFormat {
    Csv,
    Parquet,
}

impl TableFormat {
    /// The file extension, without the dot.
    pub fn extension(self) -> &'static str {
        match self {
            Self::Csv => "csv",
            Self::Parquet => "parquet",
        }
    }

    /// The format a path's extension names, if any.
    pub fn of_path(path: &Path) -> Option<Self> {
        match path.extension()?.to_str()? {
            "csv" => Some(Self::Csv),
            "parquet" => Some(Self::Parquet),
            _ => None,
        }
    }
}

/// One column, normalised to the few types the accessors read.
#[derive(Debug, Clone)]
pub(super) enum Column {
    Text(StringArray),
    Float(Float64Array),
    Int(Int64Array),
    Bool(BooleanArray),
    Date(Date32Array),
}

impl Column {
    pub(super) fn cell(&self, index: usize) -> Cell<'_> {
        if self.is_null(index) {
            return Cell::Empty;
        }
        match self {
            Self::Text(a) => match a.value(index).trim() {
                "" => Cell::Empty,
                text => Cell::Text(text),
            },
            Self::Float(a) => Cell::Float(a.value(index)),
            Self::Int(a) => Cell::Int(a.value(index)),
            Self::Bool(a) => Cell::Bool(a.value(index)),
            Self::Date(a) => Cell::Date(a.value(index)),
        }
    }

    fn is_null(&self, index: usize) -> bool {
        match self {
            Self::Text(a) => a.is_null(index),
            Self::Float(a) => a.is_null(index),
            Self::Int(a) => a.is_null(index),
            Self::Bool(a) => a.is_null(index),
            Self::Date(a) => a.is_null(index),
        }
    }
}

/// A table: its name as displayed in errors (a path, or
/// `embedded:<name>`), its format, and one arrow array per column.
#[derive(Debug, Clone)]
pub struct Table {
    name: String,
    format: TableFormat,
    sha256: String,
    column_names: Vec<String>,
    columns: Vec<Column>,
    len: usize,
}

impl Table {
    /// Reads a `.csv` or `.parquet` file, choosing the format by extension.
    pub fn read(path: &Path) -> Result<Self, InputError> {
        let name = path.display().to_string();
        match TableFormat::of_path(path) {
            Some(TableFormat::Csv) => {
                let bytes = std::fs::read(path).map_err(|e| InputError::io(&name, e))?;
                Self::from_csv_bytes(name, &bytes)
            }
            Some(TableFormat::Parquet) => Self::read_parquet(name, path),
            None => Err(InputError::invalid(
                Location::file(name),
                "expected a table file ending in .csv or .parquet",
            )),
        }
    }

    /// Reads CSV from memory. The first line names the columns; every column is
    /// read as text. Blank lines at the end are ignored.
    pub fn from_csv_bytes(name: impl Into<String>, bytes: &[u8]) -> Result<Self, InputError> {
        let name = name.into();
        let sha256 = sha256_hex(bytes);
        let text = bytes.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(bytes);
        // Trailing blank lines (possibly with spaces or \r) would read as rows of
        // one empty field; cut them, keeping one line end.
        let end = text
            .iter()
            .rposition(|b| !b.is_ascii_whitespace())
            .map_or(0, |i| i + 1);
        if end == 0 {
            return Err(InputError::invalid(
                Location::file(name),
                "the file is empty: expected a header line naming the columns",
            ));
        }
        let mut text = text[..end].to_vec();
        text.push(b'\n');

        let csv_error = |e: ArrowError| {
            let message = match e {
                ArrowError::CsvError(m) => m,
                other => other.to_string(),
            };
            InputError::invalid(
                Location::file(name.clone()),
                format!("not valid CSV: {message}"),
            )
        };
        let format = arrow_csv::reader::Format::default().with_header(true);
        let (inferred, _) = format
            .infer_schema(text.as_slice(), Some(0))
            .map_err(csv_error)?;
        let column_names: Vec<String> = inferred
            .fields()
            .iter()
            .map(|f| f.name().trim().to_string())
            .collect();
        check_column_names(&name, &column_names)?;
        let schema = Arc::new(Schema::new(
            column_names
                .iter()
                .map(|c| Field::new(c, DataType::Utf8, true))
                .collect::<Vec<_>>(),
        ));
        let reader = arrow_csv::ReaderBuilder::new(schema)
            .with_header(true)
            .build(text.as_slice())
            .map_err(csv_error)?;
        let batches = reader
            .collect::<Result<Vec<RecordBatch>, _>>()
            .map_err(csv_error)?;
        let columns = (0..column_names.len())
            .map(|i| {
                let chunks: Vec<&ArrayRef> = batches.iter().map(|b| b.column(i)).collect();
                Column::Text(concat_text(&chunks))
            })
            .collect();
        Ok(Self::assemble(
            name,
            TableFormat::Csv,
            sha256,
            column_names,
            columns,
        ))
    }

    fn read_parquet(name: String, path: &Path) -> Result<Self, InputError> {
        let file = File::open(path).map_err(|e| InputError::io(&name, e))?;
        let parquet_error = |e: &dyn fmt::Display| {
            InputError::invalid(
                Location::file(name.clone()),
                format!("not a readable Parquet file: {e}"),
            )
        };
        // Read the whole file once: the same bytes are hashed and decoded.
        let len = usize::try_from(file.len()).map_err(|e| parquet_error(&e))?;
        let bytes = file.get_bytes(0, len).map_err(|e| parquet_error(&e))?;
        let sha256 = sha256_hex(&bytes);
        let reader = ParquetRecordBatchReaderBuilder::try_new(bytes)
            .and_then(|builder| builder.build())
            .map_err(|e| parquet_error(&e))?;
        let schema = reader.schema();
        let batches = reader
            .collect::<Result<Vec<RecordBatch>, _>>()
            .map_err(|e| parquet_error(&e))?;
        let column_names: Vec<String> = schema
            .fields()
            .iter()
            .map(|f| f.name().trim().to_string())
            .collect();
        check_column_names(&name, &column_names)?;
        let mut columns = Vec::with_capacity(column_names.len());
        for (i, field) in schema.fields().iter().enumerate() {
            let chunks: Vec<&ArrayRef> = batches.iter().map(|b| b.column(i)).collect();
            let unsupported = || {
                InputError::invalid(
                    Location::file(name.clone()).field(field.name()),
                    format!(
                        "column of Parquet type {}: expected text (Utf8), a number (Float64, Float32, Int64, \
                         Int32), a boolean or a date (Date32)",
                        field.data_type()
                    ),
                )
            };
            let text = match field.data_type() {
                DataType::Utf8 | DataType::LargeUtf8 | DataType::Utf8View | DataType::Null => true,
                // Categorical text, as pandas writes it.
                DataType::Dictionary(_, values) => {
                    matches!(values.as_ref(), DataType::Utf8 | DataType::LargeUtf8)
                }
                _ => false,
            };
            let column = match field.data_type() {
                _ if text => Column::Text(concat_text(
                    &cast_all(&chunks, &DataType::Utf8).map_err(|_| unsupported())?,
                )),
                DataType::Float64 | DataType::Float32 => {
                    Column::Float(concat_primitive::<Float64Type>(
                        &cast_all(&chunks, &DataType::Float64).map_err(|_| unsupported())?,
                    ))
                }
                DataType::Int64 | DataType::Int32 => Column::Int(concat_primitive::<Int64Type>(
                    &cast_all(&chunks, &DataType::Int64).map_err(|_| unsupported())?,
                )),
                DataType::Boolean => Column::Bool(
                    chunks
                        .iter()
                        .flat_map(|c| c.as_boolean().iter())
                        .collect::<BooleanArray>(),
                ),
                DataType::Date32 => Column::Date(concat_primitive::<Date32Type>(&chunks)),
                _ => return Err(unsupported()),
            };
            columns.push(column);
        }
        Ok(Self::assemble(
            name,
            TableFormat::Parquet,
            sha256,
            column_names,
            columns,
        ))
    }

    fn assemble(
        name: String,
        format: TableFormat,
        sha256: String,
        column_names: Vec<String>,
        columns: Vec<Column>,
    ) -> Self {
        let len = columns.first().map_or(0, |c| match c {
            Column::Text(a) => a.len(),
            Column::Float(a) => a.len(),
            Column::Int(a) => a.len(),
            Column::Bool(a) => a.len(),
            Column::Date(a) => a.len(),
        });
        Self {
            name,
            format,
            sha256,
            column_names,
            columns,
            len,
        }
    }

    /// The file's path as displayed in errors, or `embedded:<name>`.
    pub fn name(&self) -> &str {
        &self.name
    }

    pub fn format(&self) -> TableFormat {
        self.format
    }

    /// SHA-256 of the bytes the table was read from, lowercase hex.
    pub fn sha256(&self) -> &str {
        &self.sha256
    }

    pub fn column_names(&self) -> &[String] {
        &self.column_names
    }

    pub fn has_column(&self, column: &str) -> bool {
        self.column_names.iter().any(|c| c == column)
    }

    /// Number of data rows (the header is not counted).
    pub fn len(&self) -> usize {
        self.len
    }

    pub fn is_empty(&self) -> bool {
        self.len == 0
    }

    /// Checks that every column in `required` is present, naming the first one
    /// missing and the columns found.
    pub fn require_columns(&self, required: &[&str]) -> Result<(), InputError> {
        match required.iter().find(|c| !self.has_column(c)) {
            None => Ok(()),
            Some(missing) => Err(InputError::invalid(
                Location::file(&self.name).field(*missing),
                format!(
                    "missing column `{missing}`: expected the columns {}; found {}",
                    required.join(", "),
                    self.columns_found()
                ),
            )),
        }
    }

    /// The row at 0-based `index`, if there is one.
    pub fn row(&self, index: usize) -> Option<Row<'_>> {
        (index < self.len).then(|| Row::new(self, index))
    }

    pub fn rows(&self) -> impl ExactSizeIterator<Item = Row<'_>> + '_ {
        (0..self.len).map(move |index| Row::new(self, index))
    }

    /// The column named `field`; its absence is an error naming the columns found.
    pub(super) fn column(&self, field: &str) -> Result<&Column, InputError> {
        match self.column_names.iter().position(|c| c == field) {
            Some(i) => Ok(&self.columns[i]),
            None => Err(InputError::invalid(
                Location::file(&self.name).field(field),
                format!("missing column `{field}`; found {}", self.columns_found()),
            )),
        }
    }

    fn columns_found(&self) -> String {
        if self.column_names.is_empty() {
            "no columns".to_string()
        } else {
            self.column_names.join(", ")
        }
    }
}

fn check_column_names(file: &str, names: &[String]) -> Result<(), InputError> {
    for (i, name) in names.iter().enumerate() {
        if name.is_empty() {
            return Err(InputError::invalid(
                Location::file(file),
                format!(
                    "column {} of the header has no name; found {}",
                    i + 1,
                    names.join(", ")
                ),
            ));
        }
        if names[..i].contains(name) {
            return Err(InputError::invalid(
                Location::file(file).field(name),
                format!(
                    "column `{name}` appears twice in the header; found {}",
                    names.join(", ")
                ),
            ));
        }
    }
    Ok(())
}

fn cast_all(chunks: &[&ArrayRef], to: &DataType) -> Result<Vec<ArrayRef>, ArrowError> {
    chunks.iter().map(|c| arrow_cast::cast(c, to)).collect()
}

fn concat_text<A: AsRef<dyn Array>>(chunks: &[A]) -> StringArray {
    match chunks {
        [one] => one.as_ref().as_string::<i32>().clone(),
        _ => chunks
            .iter()
            .flat_map(|c| c.as_ref().as_string::<i32>().iter())
            .collect(),
    }
}

fn concat_primitive<T: ArrowPrimitiveType>(chunks: &[impl AsRef<dyn Array>]) -> PrimitiveArray<T> {
    match chunks {
        [one] => one.as_ref().as_primitive::<T>().clone(),
        _ => chunks
            .iter()
            .flat_map(|c| c.as_ref().as_primitive::<T>().iter())
            .collect(),
    }
}

/// Lowercase hex SHA-256 of `bytes`.
pub fn sha256_hex(bytes: &[u8]) -> String {
    use std::fmt::Write as _;
    let digest = Sha256::digest(bytes);
    let mut hex = String::with_capacity(2 * digest.len());
    for byte in digest.iter() {
        let _ = write!(hex, "{byte:02x}");
    }
    hex
}

#[cfg(test)]
pub(super) mod tests {
    use super::*;
    use crate::input::Date;

    /// The table `t.csv` holding `csv`, which must be valid.
    pub(in crate::input) fn table(csv: &str) -> Table {
        Table::from_csv_bytes("t.csv", csv.as_bytes()).unwrap()
    }

    /// The error `result` must be, as displayed.
    pub(in crate::input) fn message(result: Result<impl fmt::Debug, InputError>) -> String {
        result.unwrap_err().to_string()
    }

    #[test]
    fn reads_every_column_as_text_and_numbers_on_demand() {
        let t = table("id,x,when,flag\nA,1.5,2025-02-20,true\nB, -2 ,,FALSE\n");
        assert_eq!(t.len(), 2);
        assert_eq!(t.column_names(), ["id", "x", "when", "flag"]);
        let rows: Vec<Row> = t.rows().collect();
        assert_eq!(rows[0].str("id").unwrap(), "A");
        assert_eq!(rows[0].f64("x").unwrap(), 1.5);
        assert_eq!(rows[1].f64("x").unwrap(), -2.0);
        assert_eq!(
            rows[0].date("when").unwrap(),
            Date::parse("2025-02-20").unwrap()
        );
        assert_eq!(rows[1].opt_date("when").unwrap(), None);
        assert!(rows[0].bool("flag").unwrap());
        assert!(!rows[1].bool("flag").unwrap());
    }

    #[test]
    fn a_missing_column_lists_the_columns_found() {
        let t = table("a,b\n1,2\n");
        let err = message(t.row(0).unwrap().f64("c"));
        assert_eq!(err, "t.csv, field `c`: missing column `c`; found a, b");
        let err = message(t.require_columns(&["a", "c"]));
        assert!(
            err.contains("missing column `c`: expected the columns a, c; found a, b"),
            "{err}"
        );
    }

    #[test]
    fn blank_lines_at_the_end_are_ignored_and_short_rows_are_not() {
        let t = table("a,b\r\n1,2\r\n\r\n  \n\n");
        assert_eq!(t.len(), 1);
        let err = message(Table::from_csv_bytes("t.csv", b"a,b\n1,2\n3\n"));
        assert!(
            err.starts_with("t.csv: not valid CSV: incorrect number of fields for line 3"),
            "{err}"
        );
        let err = message(Table::from_csv_bytes("t.csv", b"a,b\n1,2,3\n"));
        assert!(err.contains("line 2"), "{err}");
    }

    #[test]
    fn an_empty_file_or_a_bad_header_is_an_error() {
        assert!(message(Table::from_csv_bytes("t.csv", b" \n")).contains("the file is empty"));
        assert!(message(Table::from_csv_bytes("t.csv", b"a,a\n1,2\n")).contains("appears twice"));
        let header_only = table("a,b\n");
        assert!(header_only.is_empty());
    }

    #[test]
    fn quoted_fields_and_a_byte_order_mark_are_read() {
        let t = table("\u{feff}name,x\n\"Smith, \"\"Jr\"\"\",3\n");
        assert_eq!(t.row(0).unwrap().str("name").unwrap(), "Smith, \"Jr\"");
    }

    #[test]
    fn sha256_is_lowercase_hex() {
        assert_eq!(
            sha256_hex(b"abc"),
            "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"
        );
        assert_eq!(table("a\n1\n").sha256(), sha256_hex(b"a\n1\n"));
    }
}
