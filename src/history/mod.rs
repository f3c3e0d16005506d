//! Daily price history: the input of calibration, filtered historical
//! simulation and the historical stress search.
//!
//! The schema is "wide": a `date` column (YYYY-MM-DD, strictly increasing) and
//! one column of daily closes in USD per asset, CSV or Parquet, as
//! `data/daily_close_usd.csv`. An empty cell means no price that day (an asset
//! not yet listed, or a hole in the source). Handling, reported by
//! [`PriceHistory::gaps`]:
//! - a return is formed only between consecutive calendar days that both have
//!   a price, so a hole costs the returns on either side of it and never turns
//!   a multi-day move into a one-day one;
//! - dates missing from the file altogether are holes for every asset.
//!
//! Anything else is an error naming the file, row and field: an unparsable or
//! repeated or out-of-order date, a price that is not a number, not finite or
//! not positive.

pub mod implied_vol;

use std::path::Path;

use crate::input::{bounds, Date, InputError, Location, Table};

/// Calendar days filtered historical simulation may look back: the range of
/// `ccp.toml`'s `scenario.historical.lookback_days` ([`bounds::LOOKBACK_DAYS`]).
pub const FHS_LOOKBACK_DAYS: std::ops::RangeInclusive<u32> =
    bounds::MIN_LOOKBACK_DAYS..=bounds::MAX_LOOKBACK_DAYS;
pub const FHS_LOOKBACK_DAYS_TEXT: &str = "30..=36500 calendar days";

/// Daily closes, dates x assets.
#[derive(Debug, Clone, PartialEq)]
pub struct PriceHistory {
    /// Where it was read from, for reports and errors.
    pub source: String,
    pub dates: Vec<Date>,
    pub assets: Vec<String>,
    /// Date-major: `closes[d * assets + a]`, NaN where there is no price.
    closes: Vec<f64>,
}

/// Log returns between consecutive calendar days, dates x assets, NaN where
/// either day has no price.
#[derive(Debug, Clone, PartialEq)]
pub struct Returns {
    /// The day each return ends on.
    pub dates: Vec<Date>,
    pub assets: Vec<String>,
    /// Date-major: `values[t * assets + a]`.
    pub values: Vec<f64>,
}

/// A stretch of days without a price for an asset (or for all, `asset: None`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Gap {
    pub asset: Option<String>,
    /// The last day with a price before the gap, and the first after it.
    pub from: Date,
    pub to: Date,
}

/// What a wide table's cells hold, for its checks and their messages.
pub(crate) struct Quantity {
    /// What each asset's column holds, plural ("closes").
    pub columns: &'static str,
    /// What one cell must be ("a positive close in USD").
    pub value: &'static str,
    pub valid: fn(f64) -> bool,
}

/// A wide daily table as read: a `date` column (strictly increasing, at
/// least two rows) and one column per asset, NaN for an empty cell.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Wide {
    /// Where it was read from, for reports and errors.
    pub source: String,
    pub dates: Vec<Date>,
    pub assets: Vec<String>,
    /// Date-major: `values[d * assets + a]`.
    pub values: Vec<f64>,
}

impl Wide {
    pub fn read(table: &Table, quantity: &Quantity) -> Result<Self, InputError> {
        table.require_columns(&["date"])?;
        let assets: Vec<String> = table
            .column_names()
            .iter()
            .filter(|c| c.as_str() != "date")
            .cloned()
            .collect();
        if assets.is_empty() {
            return Err(InputError::invalid(
                Location::file(table.name()),
                format!(
                    "no asset columns: expected `date` and one column of {} per asset",
                    quantity.columns
                ),
            ));
        }
        let mut dates: Vec<Date> = Vec::with_capacity(table.len());
        let mut values = Vec::with_capacity(table.len() * assets.len());
        for row in table.rows() {
            let date = row.date("date")?;
            if let Some(&last) = dates.last() {
                if date <= last {
                    return Err(row.error(
                        "date",
                        format!(
                            "{date} comes after {last}: dates must be strictly increasing \
                             (one row per day)"
                        ),
                    ));
                }
            }
            dates.push(date);
            for asset in &assets {
                let value = match row.opt_f64(asset)? {
                    None => f64::NAN,
                    Some(x) if (quantity.valid)(x) => x,
                    Some(x) => {
                        return Err(
                            row.error(asset, format!("expected {}, found {x}", quantity.value))
                        )
                    }
                };
                values.push(value);
            }
        }
        if dates.len() < 2 {
            return Err(InputError::invalid(
                Location::file(table.name()),
                format!("{} dated rows: a history needs at least two", dates.len()),
            ));
        }
        Ok(Self {
            source: table.name().to_string(),
            dates,
            assets,
            values,
        })
    }

    /// Column `a`'s value on day `d`, `None` for an empty cell.
    pub fn value(&self, d: usize, a: usize) -> Option<f64> {
        let x = self.values[d * self.assets.len() + a];
        (!x.is_nan()).then_some(x)
    }
}

impl PriceHistory {
    /// Reads a history file (CSV or Parquet, by extension).
    pub fn load(path: &Path) -> Result<Self, InputError> {
        Self::from_table(&Table::read(path)?)
    }

    pub fn from_table(table: &Table) -> Result<Self, InputError> {
        let wide = Wide::read(
            table,
            &Quantity {
                columns: "closes",
                value: "a positive close in USD",
                valid: |p| p.is_finite() && p > 0.0,
            },
        )?;
        Ok(Self {
            source: wide.source,
            dates: wide.dates,
            assets: wide.assets,
            closes: wide.values,
        })
    }

    pub fn close(&self, d: usize, a: usize) -> Option<f64> {
        let x = self.closes[d * self.assets.len() + a];
        (!x.is_nan()).then_some(x)
    }

    pub fn asset_index(&self, asset: &str) -> Option<usize> {
        self.assets.iter().position(|a| a == asset)
    }

    /// The history as it stood at the close of `last`: its days up to and
    /// including `last`, nothing after. An analysis that sizes a margin at a
    /// past date reads this copy, so it cannot see a later price.
    pub fn up_to(&self, last: Date) -> PriceHistory {
        let days = self.dates.partition_point(|&d| d <= last);
        PriceHistory {
            source: self.source.clone(),
            dates: self.dates[..days].to_vec(),
            assets: self.assets.clone(),
            closes: self.closes[..days * self.assets.len()].to_vec(),
        }
    }

    /// Log returns between consecutive calendar days.
    pub fn returns(&self) -> Returns {
        let n = self.assets.len();
        let mut dates = Vec::with_capacity(self.dates.len());
        let mut values = Vec::with_capacity(self.dates.len() * n);
        for d in 1..self.dates.len() {
            let consecutive =
                self.dates[d].days_since_epoch() == self.dates[d - 1].days_since_epoch() + 1;
            dates.push(self.dates[d]);
            for a in 0..n {
                values.push(
                    match (consecutive, self.close(d - 1, a), self.close(d, a)) {
                        (true, Some(p0), Some(p1)) => (p1 / p0).ln(),
                        _ => f64::NAN,
                    },
                );
            }
        }
        Returns {
            dates,
            assets: self.assets.clone(),
            values,
        }
    }

    /// Holes inside each asset's history (before its first price it is simply
    /// not listed), and calendar days missing from the file.
    pub fn gaps(&self) -> Vec<Gap> {
        let mut gaps = Vec::new();
        for d in 1..self.dates.len() {
            if self.dates[d].days_since_epoch() != self.dates[d - 1].days_since_epoch() + 1 {
                gaps.push(Gap {
                    asset: None,
                    from: self.dates[d - 1],
                    to: self.dates[d],
                });
            }
        }
        for (a, asset) in self.assets.iter().enumerate() {
            let mut last: Option<usize> = None;
            for d in 0..self.dates.len() {
                if self.close(d, a).is_some() {
                    if let Some(l) = last {
                        if d > l + 1 {
                            gaps.push(Gap {
                                asset: Some(asset.clone()),
                                from: self.dates[l],
                                to: self.dates[d],
                            });
                        }
                    }
                    last = Some(d);
                }
            }
        }
        gaps
    }
}

impl Returns {
    pub fn len(&self) -> usize {
        self.dates.len()
    }

    pub fn is_empty(&self) -> bool {
        self.dates.is_empty()
    }

    pub fn get(&self, t: usize, a: usize) -> f64 {
        self.values[t * self.assets.len() + a]
    }

    /// Asset `a`'s returns, in date order, skipping days without one.
    pub fn series(&self, a: usize) -> Vec<f64> {
        (0..self.len())
            .map(|t| self.get(t, a))
            .filter(|x| !x.is_nan())
            .collect()
    }

    /// The days (indices) on which every asset in `assets` has a return.
    pub fn complete_days(&self, assets: &[usize]) -> Vec<usize> {
        (0..self.len())
            .filter(|&t| assets.iter().all(|&a| !self.get(t, a).is_nan()))
            .collect()
    }

    /// The days (indices) from `from` to `to` inclusive.
    pub fn between(&self, from: Date, to: Date) -> std::ops::Range<usize> {
        let start = self.dates.partition_point(|&d| d < from);
        let end = self.dates.partition_point(|&d| d <= to);
        start..end
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn history(csv: &str) -> Result<PriceHistory, InputError> {
        PriceHistory::from_table(&Table::from_csv_bytes("history.csv", csv.as_bytes())?)
    }

    #[test]
    fn returns_are_log_price_relatives_between_consecutive_days_only() {
        let h = history(
            "date,BTC,ETH\n2024-01-01,100,10\n2024-01-02,110,\n2024-01-03,99,12\n2024-01-05,100,12\n",
        )
        .unwrap();
        let r = h.returns();
        assert_eq!(r.len(), 3);
        assert!((r.get(0, 0) - (110.0f64 / 100.0).ln()).abs() < 1e-15);
        assert!((r.get(1, 0) - (99.0f64 / 110.0).ln()).abs() < 1e-15);
        // ETH has no price on the 2nd; nobody has a return across the missing 4th.
        assert!(r.get(0, 1).is_nan() && r.get(1, 1).is_nan());
        assert!(r.get(2, 0).is_nan() && r.get(2, 1).is_nan());
        assert_eq!(r.series(0).len(), 2);
        assert_eq!(r.complete_days(&[0, 1]), Vec::<usize>::new());
        let gaps = h.gaps();
        assert!(gaps.contains(&Gap {
            asset: None,
            from: Date::parse("2024-01-03").unwrap(),
            to: Date::parse("2024-01-05").unwrap(),
        }));
        assert!(gaps.contains(&Gap {
            asset: Some("ETH".into()),
            from: Date::parse("2024-01-01").unwrap(),
            to: Date::parse("2024-01-03").unwrap(),
        }));
    }

    #[test]
    fn bad_histories_are_named_by_row_and_field() {
        let cases = [
            (
                "date,BTC\n2024-01-02,1\n2024-01-02,2\n",
                "row 2, field `date`",
                "strictly increasing",
            ),
            (
                "date,BTC\n2024-01-02,1\n2024-01-01,2\n",
                "row 2, field `date`",
                "strictly increasing",
            ),
            (
                "date,BTC\n2024-01-01,1\n2024-01-02,-5\n",
                "row 2, field `BTC`",
                "positive close",
            ),
            (
                "date,BTC\n2024-01-01,1\n2024-01-02,0\n",
                "row 2, field `BTC`",
                "positive close",
            ),
            (
                "date,BTC\n2024-01-01,1\n2024-13-02,3\n",
                "row 2, field `date`",
                "",
            ),
            (
                "date,BTC\n2024-01-01,1\n2024-01-02,abc\n",
                "row 2, field `BTC`",
                "",
            ),
            (
                "date\n2024-01-01\n2024-01-02\n",
                "history.csv",
                "no asset columns",
            ),
            ("date,BTC\n2024-01-01,1\n", "history.csv", "at least two"),
        ];
        for (csv, place, what) in cases {
            let message = history(csv).unwrap_err().to_string();
            assert!(message.contains(place), "{csv:?}: {message}");
            assert!(message.contains(what), "{csv:?}: {message}");
        }
    }

    #[test]
    fn the_shipped_history_loads_with_its_ten_assets() {
        let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("data/daily_close_usd.csv");
        let h = PriceHistory::load(&path).unwrap();
        assert_eq!(h.assets.len(), 10);
        assert_eq!(h.dates[0], Date::parse("2017-11-09").unwrap());
        let r = h.returns();
        let btc = h.asset_index("BTC").unwrap();
        // BTC on 2020-03-12 (Black Thursday): -37.2% close to close (stress_episodes.csv).
        let t = r
            .dates
            .iter()
            .position(|&d| d == Date::parse("2020-03-12").unwrap())
            .unwrap();
        assert!(
            (r.get(t, btc).exp_m1() + 0.3717).abs() < 5e-4,
            "{}",
            r.get(t, btc).exp_m1()
        );
    }

    #[test]
    fn the_lookback_text_states_the_range() {
        let (low, high) = (FHS_LOOKBACK_DAYS.start(), FHS_LOOKBACK_DAYS.end());
        assert_eq!(
            FHS_LOOKBACK_DAYS_TEXT,
            format!("{low}..={high} calendar days")
        );
    }
}
