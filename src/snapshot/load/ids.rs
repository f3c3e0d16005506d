//! The one place where the ids of a table (assets, members, instruments) become
//! indices: each table's reader records its ids as it reads them, refusing a
//! repeat, and every table that refers to them resolves through the same
//! index, so an unknown id reads the same wherever it is met.

use std::collections::HashMap;

use crate::input::{InputError, Row, Table};

/// The ids of one table, each mapped to the 0-based index of its row (which is
/// also the index of the item read from it), borrowed from the table.
pub(super) struct IdIndex<'t> {
    /// The column holding the id: "asset", "member_id".
    field: &'static str,
    /// What an id names, as an error says it: "asset", "member".
    what: &'static str,
    /// What an unknown id should have been: "an asset of market/assets.csv".
    expected: String,
    index: HashMap<&'t str, usize>,
}

impl<'t> IdIndex<'t> {
    /// An empty index of `table`'s ids in column `field`. `what` names what
    /// an id stands for ("member"); `one` is how an error asks for one of them
    /// ("a member_id"), to which " of <table>" is added.
    pub(super) fn new(table: &Table, field: &'static str, what: &'static str, one: &str) -> Self {
        Self {
            field,
            what,
            expected: format!("{one} of {}", table.name()),
            index: HashMap::with_capacity(table.len()),
        }
    }

    /// Reads the id of `row`, the next row of the table, and records it; an id
    /// seen before is an error at this row that names the first one.
    pub(super) fn add(&mut self, row: &Row<'t>) -> Result<&'t str, InputError> {
        let id = row.str(self.field)?;
        if let Some(first) = self.index.insert(id, row.number() - 1) {
            return Err(row.error(
                self.field,
                format!(
                    "duplicate {} `{id}`: already on row {}",
                    self.field,
                    first + 1
                ),
            ));
        }
        Ok(id)
    }

    /// How many ids the table holds.
    pub(super) fn len(&self) -> usize {
        self.index.len()
    }

    /// The index of `id`, if the table has it.
    pub(super) fn get(&self, id: &str) -> Option<usize> {
        self.index.get(id).copied()
    }

    /// What an id should have been, for an error: "an asset of market/assets.csv".
    pub(super) fn expected(&self) -> &str {
        &self.expected
    }

    /// The index of the id in `field` of `row`; an unknown id is an error
    /// naming the table it should be in.
    pub(super) fn resolve(&self, row: &Row<'_>, field: &str) -> Result<usize, InputError> {
        let id = row.str(field)?;
        self.get(id).ok_or_else(|| {
            row.error(
                field,
                format!("unknown {} `{id}`: expected {}", self.what, self.expected),
            )
        })
    }
}
