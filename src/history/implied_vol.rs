//! Implied-volatility index levels through time: what moves the options'
//! vols in a backtest's realised move (methodology, 12b).
//!
//! The schema is the price history's ([`super`]): a `date` column
//! (YYYY-MM-DD, strictly increasing) and one column per asset, headed by the
//! asset's id as in `market/assets.csv`, CSV or Parquet, an empty cell for no
//! level that day. A level is an annualised implied volatility in **vol
//! points** (percent: 56.76 is 56.76%), as Deribit publishes DVOL, in (0,
//! 1000] (the range of the surface's implied vols, (0, 10], in points).
//! Only ratios of levels are used, so the unit matters for that range check
//! alone. `data/implied_vol_index.csv` is Deribit's BTC DVOL under the
//! column `BTC` (data/SOURCES.md).
//!
//! Anything else is an error naming the file, row and field.

use std::path::Path;

use super::{Quantity, Wide};
use crate::input::{Date, InputError, Table};

/// The highest level accepted, in vol points.
pub const MAX_LEVEL: f64 = 1000.0;

/// Implied-vol index levels, dates x assets.
#[derive(Debug, Clone, PartialEq)]
pub struct ImpliedVolIndex {
    levels: Wide,
}

impl ImpliedVolIndex {
    /// Reads an index file (CSV or Parquet, by extension).
    pub fn load(path: &Path) -> Result<Self, InputError> {
        Self::from_table(&Table::read(path)?)
    }

    pub fn from_table(table: &Table) -> Result<Self, InputError> {
        let levels = Wide::read(
            table,
            &Quantity {
                columns: "implied-vol index levels",
                value: "an implied-vol index level in vol points (annualised %, 56.76 for \
                        56.76%), in (0, 1000]",
                valid: |x| x > 0.0 && x <= MAX_LEVEL,
            },
        )?;
        Ok(Self { levels })
    }

    /// Where it was read from, for reports and errors.
    pub fn source(&self) -> &str {
        &self.levels.source
    }

    /// The column headers: asset ids.
    pub fn assets(&self) -> &[String] {
        &self.levels.assets
    }

    /// Column `a`'s level on `date`, if the file has one.
    pub fn level(&self, date: Date, a: usize) -> Option<f64> {
        let d = self.levels.dates.binary_search(&date).ok()?;
        self.levels.value(d, a)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn index(csv: &str) -> Result<ImpliedVolIndex, InputError> {
        ImpliedVolIndex::from_table(&Table::from_csv_bytes("vols.csv", csv.as_bytes())?)
    }

    #[test]
    fn levels_are_read_by_date_and_asset() {
        let i = index("date,BTC,ETH\n2024-01-01,50,\n2024-01-03,55.5,70\n").unwrap();
        let day = |s| Date::parse(s).unwrap();
        assert_eq!(i.assets(), ["BTC", "ETH"]);
        let (btc, eth) = (0, 1);
        assert_eq!(i.level(day("2024-01-01"), btc), Some(50.0));
        assert_eq!(i.level(day("2024-01-03"), btc), Some(55.5));
        assert_eq!(i.level(day("2024-01-01"), eth), None);
        assert_eq!(i.level(day("2024-01-02"), btc), None);
    }

    #[test]
    fn bad_levels_are_named_by_row_and_field() {
        for (csv, place, what) in [
            (
                "date,BTC\n2024-01-01,50\n2024-01-02,0\n",
                "row 2, field `BTC`",
                "(0, 1000]",
            ),
            (
                "date,BTC\n2024-01-01,50\n2024-01-02,-3\n",
                "row 2, field `BTC`",
                "vol points",
            ),
            (
                "date,BTC\n2024-01-01,1000.5\n2024-01-02,3\n",
                "row 1, field `BTC`",
                "(0, 1000]",
            ),
            (
                "date,BTC\n2024-01-01,50\n2024-01-02,inf\n",
                "row 2, field `BTC`",
                "",
            ),
            (
                "date,BTC\n2024-01-01,50\n2024-01-02,x\n",
                "row 2, field `BTC`",
                "",
            ),
            (
                "date,BTC\n2024-01-02,50\n2024-01-01,3\n",
                "row 2, field `date`",
                "increasing",
            ),
            (
                "date\n2024-01-01\n2024-01-02\n",
                "vols.csv",
                "implied-vol index levels",
            ),
        ] {
            let message = index(csv).unwrap_err().to_string();
            assert!(message.contains(place), "{csv:?}: {message}");
            assert!(message.contains(what), "{csv:?}: {message}");
        }
    }

    #[test]
    fn the_shipped_index_is_btc_dvol() {
        let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("data/implied_vol_index.csv");
        let i = ImpliedVolIndex::load(&path).unwrap();
        assert_eq!(i.assets(), ["BTC"]);
        // FTX: DVOL 114.72 on 2022-11-09 (data/btc_dvol_daily.csv).
        let day = Date::parse("2022-11-09").unwrap();
        assert_eq!(i.level(day, 0), Some(114.72));
    }
}
