//! Reading one cell of a [`Table`] as the type its field needs.
//!
//! Every accessor of [`Row`] trims text, and its error names the file, the
//! 1-based data row and the field, what was expected and what was found: "t.csv,
//! row 2, field `x`: expected a finite number, found `abc`".

use std::fmt;

use super::bounds::{Bounds, Number};
use super::{Date, InputError, Location, Table};

/// One cell's value as stored, before it is read as the type a field needs.
#[derive(Debug, Clone, Copy)]
pub(super) enum Cell<'a> {
    /// A null, or text that is empty after trimming.
    Empty,
    /// Text, trimmed.
    Text(&'a str),
    Float(f64),
    Int(i64),
    Bool(bool),
    /// Days since 1970-01-01, as Parquet's date32 stores them.
    Date(i32),
}

/// How a cell reads in an error message: "an empty field", "`abc`".
impl fmt::Display for Cell<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Empty => write!(f, "an empty field"),
            Self::Text(text) => write!(f, "`{text}`"),
            Self::Float(x) => write!(f, "`{}`", Number(*x)),
            Self::Int(i) => write!(f, "`{i}`"),
            Self::Bool(b) => write!(f, "`{b}`"),
            Self::Date(days) => match Date::checked_from_days_since_epoch(*days) {
                Some(date) => write!(f, "`{date}`"),
                None => write!(f, "{days} days from 1970-01-01"),
            },
        }
    }
}

/// A view of one row of a [`Table`], with typed accessors by column name. Every
/// accessor trims text, and its error names the file, the 1-based data row and the
/// field, what was expected and what was found.
#[derive(Debug, Clone, Copy)]
pub struct Row<'a> {
    table: &'a Table,
    index: usize,
}

impl<'a> Row<'a> {
    /// The row at 0-based `index` of `table`, which the caller has checked exists.
    pub(super) fn new(table: &'a Table, index: usize) -> Self {
        Self { table, index }
    }
}

impl<'a> Row<'a> {
    pub fn table(&self) -> &'a Table {
        self.table
    }

    /// 1-based data row number (the header is not counted).
    pub fn number(&self) -> usize {
        self.index + 1
    }

    /// This row's location, at `field`.
    pub fn location(&self, field: &str) -> Location {
        Location::file(self.table.name())
            .row(self.number())
            .field(field)
    }

    /// An error at `field` of this row.
    pub fn error(&self, field: &str, message: impl Into<String>) -> InputError {
        InputError::invalid(self.location(field), message)
    }

    fn cell(&self, field: &str) -> Result<Cell<'a>, InputError> {
        Ok(self.table.column(field)?.cell(self.index))
    }

    fn expected(&self, field: &str, expected: &str, found: Cell<'_>) -> InputError {
        self.error(field, format!("expected {expected}, found {found}"))
    }

    /// Non-empty text.
    pub fn str(&self, field: &str) -> Result<&'a str, InputError> {
        self.opt_str(field)?
            .ok_or_else(|| self.expected(field, "a value", Cell::Empty))
    }

    /// Text; `None` for an empty field or a null.
    pub fn opt_str(&self, field: &str) -> Result<Option<&'a str>, InputError> {
        match self.cell(field)? {
            Cell::Empty => Ok(None),
            Cell::Text(text) => Ok(Some(text)),
            other => Err(self.expected(field, "text", other)),
        }
    }

    /// A finite number.
    pub fn f64(&self, field: &str) -> Result<f64, InputError> {
        let cell = self.cell(field)?;
        match number(cell) {
            Some(x) if x.is_finite() => Ok(x),
            _ => Err(self.expected(field, "a finite number", cell)),
        }
    }

    /// A finite number; `None` for an empty field or a null.
    pub fn opt_f64(&self, field: &str) -> Result<Option<f64>, InputError> {
        match self.cell(field)? {
            Cell::Empty => Ok(None),
            _ => self.f64(field).map(Some),
        }
    }

    /// A number within `bounds`; the error names the range and what was found.
    pub fn f64_in(&self, field: &str, bounds: &Bounds) -> Result<f64, InputError> {
        let cell = self.cell(field)?;
        match number(cell) {
            Some(x) if bounds.contains(x) => Ok(x),
            _ => Err(self.expected(field, &bounds.expected(), cell)),
        }
    }

    /// A date, `YYYY-MM-DD` as text or a Parquet date32.
    pub fn date(&self, field: &str) -> Result<Date, InputError> {
        self.opt_date(field)?
            .ok_or_else(|| self.expected(field, DATE_EXPECTED, Cell::Empty))
    }

    /// A date; `None` for an empty field or a null.
    pub fn opt_date(&self, field: &str) -> Result<Option<Date>, InputError> {
        match self.cell(field)? {
            Cell::Empty => Ok(None),
            Cell::Date(days) => match Date::checked_from_days_since_epoch(days) {
                Some(date) => Ok(Some(date)),
                None => Err(self.expected(field, DATE_EXPECTED, Cell::Date(days))),
            },
            Cell::Text(text) => match Date::parse(text) {
                Some(d) => Ok(Some(d)),
                None => Err(self.expected(field, DATE_EXPECTED, Cell::Text(text))),
            },
            other => Err(self.expected(field, DATE_EXPECTED, other)),
        }
    }

    /// `true` or `false` (any case), or a Parquet boolean.
    pub fn bool(&self, field: &str) -> Result<bool, InputError> {
        match self.cell(field)? {
            Cell::Bool(b) => Ok(b),
            Cell::Text(text) if text.eq_ignore_ascii_case("true") => Ok(true),
            Cell::Text(text) if text.eq_ignore_ascii_case("false") => Ok(false),
            other => Err(self.expected(field, "true or false", other)),
        }
    }

    /// One of a fixed set of words, mapped to its value.
    pub fn choice<T: Copy>(&self, field: &str, options: &[(&str, T)]) -> Result<T, InputError> {
        match self.opt_choice(field, options)? {
            Some(value) => Ok(value),
            None => Err(self.expected(field, &one_of(options), Cell::Empty)),
        }
    }

    /// One of a fixed set of words; `None` for an empty field or a null.
    pub fn opt_choice<T: Copy>(
        &self,
        field: &str,
        options: &[(&str, T)],
    ) -> Result<Option<T>, InputError> {
        let cell = self.cell(field)?;
        match cell {
            Cell::Empty => Ok(None),
            Cell::Text(text) => match options.iter().find(|(word, _)| *word == text) {
                Some((_, value)) => Ok(Some(*value)),
                None => Err(self.expected(field, &one_of(options), cell)),
            },
            other => Err(self.expected(field, &one_of(options), other)),
        }
    }

    /// Checks that `field` is empty; `why` says why it must be ("a perpetual has
    /// no expiry").
    pub fn require_empty(&self, field: &str, why: &str) -> Result<(), InputError> {
        match self.cell(field)? {
            Cell::Empty => Ok(()),
            other => Err(self.expected(field, &format!("an empty field ({why})"), other)),
        }
    }
}

/// The number a cell holds, if it holds one (NaN and infinities included: the
/// caller's range refuses them).
fn number(cell: Cell<'_>) -> Option<f64> {
    match cell {
        Cell::Text(text) => text.parse::<f64>().ok(),
        Cell::Float(x) => Some(x),
        // Ids and quantities beyond 2^53 lose precision; no range here reaches that far.
        Cell::Int(i) => Some(i as f64),
        Cell::Empty | Cell::Bool(_) | Cell::Date(_) => None,
    }
}

/// What a date field takes, for error messages.
const DATE_EXPECTED: &str = "a date YYYY-MM-DD between 1900-01-01 and 9999-12-31";

fn one_of<T>(options: &[(&str, T)]) -> String {
    let words: Vec<&str> = options.iter().map(|(w, _)| *w).collect();
    match words.as_slice() {
        [] => "nothing".to_string(),
        [one] => format!("`{one}`"),
        [init @ .., last] => format!("`{}` or `{last}`", init.join("`, `")),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::input::table::tests::{message, table};

    #[test]
    fn a_bad_number_names_file_row_field_and_what_was_found() {
        let t = table("id,x\nA,1\nB,abc\n");
        let err = message(t.rows().map(|r| r.f64("x")).collect::<Result<Vec<_>, _>>());
        assert_eq!(
            err,
            "t.csv, row 2, field `x`: expected a finite number, found `abc`"
        );
    }

    #[test]
    fn nan_and_infinity_are_not_numbers() {
        for text in ["NaN", "nan", "inf", "-inf", "infinity"] {
            let t = table(&format!("x\n{text}\n"));
            let err = message(t.rows().next().unwrap().f64("x"));
            assert!(
                err.contains(&format!("expected a finite number, found `{text}`")),
                "{err}"
            );
        }
    }

    #[test]
    fn ranges_say_what_was_expected() {
        use crate::input::bounds::{HAIRCUT, VOLATILITY};
        let t = table("x,y,z\n-1,,1e308\n");
        let row = t.row(0).unwrap();
        assert_eq!(
            message(row.f64_in("x", &VOLATILITY)),
            "t.csv, row 1, field `x`: expected an annualised volatility in (0, 10], found `-1`"
        );
        assert!(message(row.f64_in("y", &HAIRCUT))
            .ends_with("expected a haircut in [0, 1), found an empty field"));
        assert!(message(row.f64_in("z", &VOLATILITY)).ends_with("found `1e308`"));
        assert_eq!(row.f64("z").unwrap(), 1e308, "finite, if absurd");
        assert_eq!(row.opt_f64("y").unwrap(), None);
        assert_eq!(row.opt_str("y").unwrap(), None);
        assert!(message(row.str("y")).ends_with("expected a value, found an empty field"));
    }

    #[test]
    fn dates_are_four_digit_years_in_range() {
        let t = table("d\n2025-02-30\n99999999-01-01\n1899-12-31\n 2025-03-28 \n");
        let rows: Vec<Row> = t.rows().collect();
        for row in &rows[..3] {
            let err = message(row.date("d"));
            assert!(
                err.contains("expected a date YYYY-MM-DD between 1900-01-01 and 9999-12-31"),
                "{err}"
            );
        }
        assert_eq!(rows[3].date("d").unwrap().to_string(), "2025-03-28");
        assert!(DATE_EXPECTED.ends_with(&format!("between {} and {}", Date::MIN, Date::MAX)));
        assert_eq!(
            Cell::Date(i32::MAX).to_string(),
            format!("{} days from 1970-01-01", i32::MAX)
        );
    }

    #[test]
    fn choices_list_the_words_allowed() {
        let t = table("kind\nswap\n");
        let err = message(
            t.row(0)
                .unwrap()
                .choice("kind", &[("perpetual", 0), ("future", 1), ("option", 2)]),
        );
        assert!(
            err.ends_with("expected `perpetual`, `future` or `option`, found `swap`"),
            "{err}"
        );
    }
}
