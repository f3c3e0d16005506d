//! Reading inputs, whatever they describe: tables (CSV or Parquet) with typed,
//! range-checked cells, calendar dates, the plausible range of every number,
//! and errors that name the file, row and field.
//!
//! This layer sits below everything that reads a file (`snapshot`, `history`)
//! and imports no other module of the crate, so that each of them can build on
//! it without depending on another.

pub mod bounds;
mod date;
mod error;
mod row;
mod table;

pub use date::Date;
pub use error::{InputError, Location};
pub use row::Row;
pub use table::{sha256_hex, Table, TableFormat};
