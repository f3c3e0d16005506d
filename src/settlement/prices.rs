//! The end-of-day prices a settlement marks to: an assets table (the schema of
//! `market/assets.csv`) with a date, a snapshot folder (its market, at its
//! valuation date), or a daily-close history (the schema of
//! `data/daily_close_usd.csv`) and a date in it.
//!
//! Every underlying of a held instrument must have a price; each problem is
//! an error naming the file, row and field. Any other asset without one
//! (collateral included) keeps the book's price, and the summary lists it.

use std::collections::HashMap;
use std::path::Path;

use crate::history::PriceHistory;
use crate::input::{Date, InputError, Location, Table};
use crate::snapshot::{self, Asset, MarketData, Snapshot, VolSurface};

/// The market at the end of the settlement period.
#[derive(Debug, Clone)]
pub struct EndOfDay {
    pub date: Date,
    /// The book's market with each priced asset's end-of-day row: its spot
    /// and, from an assets table or a snapshot folder, its funding rate,
    /// basis, volatility and depth (from a snapshot folder also its vol
    /// surface); an asset without a new price keeps the book's row.
    pub market: MarketData,
    /// The file or folder the prices were read from.
    pub source: String,
    /// Per asset of the book's market: whether the prices gave it a price.
    pub repriced: Vec<bool>,
}

/// Reads the end-of-day prices at `path` for `book`: a folder is a snapshot
/// (its valuation date is the date; `date`, if given, must agree), a table
/// with a `spot` column an assets table (`date` required), a table with a
/// `date` column a daily-close history (the row of `date` is read).
pub fn read_end_of_day(
    path: &Path,
    date: Option<Date>,
    book: &Snapshot,
) -> Result<EndOfDay, InputError> {
    let name = path.display().to_string();
    if path.is_dir() {
        let next = snapshot::load(path)?;
        if let Some(d) = date.filter(|d| *d != next.valuation_date) {
            return Err(InputError::invalid(
                Location::file(path.join(snapshot::CONFIG_FILE).display().to_string())
                    .field("valuation_date"),
                format!(
                    "the snapshot is dated {}, but --date asks for {d}: expected them to agree \
                     (leave --date out to settle to the snapshot's date)",
                    next.valuation_date
                ),
            ));
        }
        let assets_file = next
            .sources
            .iter()
            .find(|s| {
                let name = s.name.replace('\\', "/");
                name.ends_with("market/assets.csv") || name.ends_with("market/assets.parquet")
            })
            .map_or(name.clone(), |s| s.name.clone());
        let mut end = from_assets(&assets_file, &next.market.assets, next.valuation_date, book)?;
        end.market.vol_surface = merged_surface(book, &next.market);
        end.source = name;
        return Ok(end);
    }
    let table = Table::read(path)?;
    if table.has_column("spot") {
        let date = date.ok_or_else(|| {
            InputError::invalid(
                Location::file(&name),
                "an assets table carries no date: give the date its prices are for (--date)",
            )
        })?;
        let assets = snapshot::assets_table(&table)?;
        return from_assets(&name, &assets, date, book);
    }
    if table.has_column("date") {
        let history = PriceHistory::from_table(&table)?;
        let date = date.ok_or_else(|| {
            InputError::invalid(
                Location::file(&name).field("date"),
                "a history holds many days: give the date to settle to (--date)",
            )
        })?;
        return from_history(&name, &history, date, book);
    }
    Err(InputError::invalid(
        Location::file(name),
        format!(
            "expected end-of-day prices: an assets table (the columns of market/assets.csv, with \
             `spot`), a daily-close history (a `date` column and one column per asset) or a \
             snapshot folder; found the columns {}",
            table.column_names().join(", ")
        ),
    ))
}

/// Every asset the book needs a price for, with what needs it (for errors):
/// the underlyings of held instruments and the stablecoins they settle in. Collateral in an asset without a new
/// price keeps the book's price ([`EndOfDay::repriced`] says which).
fn needed(book: &Snapshot) -> Vec<(usize, String)> {
    // The loader keeps the positions in their table's order, one per row.
    let positions_file = book.sources.iter().map(|s| s.name.as_str()).find(|name| {
        let name = name.replace('\\', "/");
        name.ends_with("/positions.csv") || name.ends_with("/positions.parquet")
    });
    let mut out: Vec<(usize, String)> = Vec::new();
    let mut seen = vec![false; book.market.assets.len()];
    for (row, p) in book.positions.iter().enumerate() {
        let i = &book.instruments[p.instrument];
        for a in i.priced_on() {
            if !std::mem::replace(&mut seen[a], true) {
                let at = positions_file
                    .map_or(String::new(), |file| format!(" at {file}, row {}", row + 1));
                out.push((
                    a,
                    format!(
                        "{} of instrument `{}`, held by member `{}`{at}",
                        i.role_of(a),
                        i.id,
                        book.members[p.member].id
                    ),
                ));
            }
        }
    }
    out
}

/// The end market from the rows of an assets table (row r is `assets[r - 1]`).
fn from_assets(
    name: &str,
    assets: &[Asset],
    date: Date,
    book: &Snapshot,
) -> Result<EndOfDay, InputError> {
    let mut market = book.market.clone();
    let mut repriced = vec![false; market.assets.len()];
    for (row, asset) in assets.iter().enumerate() {
        let Some(a) = market.asset_index(&asset.id) else {
            return Err(InputError::invalid(
                Location::file(name).row(row + 1).field("asset"),
                format!(
                    "unknown asset `{}`: expected one of the book's assets ({})",
                    asset.id,
                    ids(&market)
                ),
            ));
        };
        market.assets[a] = Asset {
            source: format!("{name}, row {}", row + 1),
            ..asset.clone()
        };
        repriced[a] = true;
    }
    for (a, why) in needed(book) {
        if !repriced[a] {
            return Err(InputError::invalid(
                Location::file(name).field("asset"),
                format!(
                    "no row for asset `{}`, {why}: expected a price for every asset a held instrument is valued on",
                    market.assets[a].id
                ),
            ));
        }
    }
    Ok(EndOfDay {
        date,
        market,
        source: name.to_string(),
        repriced,
    })
}

/// The end market from one day of a history: each priced asset's spot.
fn from_history(
    name: &str,
    history: &PriceHistory,
    date: Date,
    book: &Snapshot,
) -> Result<EndOfDay, InputError> {
    let Ok(d) = history.dates.binary_search(&date) else {
        let (first, last) = (history.dates[0], history.dates[history.dates.len() - 1]);
        return Err(InputError::invalid(
            Location::file(name).field("date"),
            format!("no row for {date}: expected a date with prices (the file runs from {first} to {last})"),
        ));
    };
    let mut market = book.market.clone();
    let mut repriced = vec![false; market.assets.len()];
    let needed: HashMap<usize, String> = needed(book).into_iter().collect();
    for (a, asset) in market.assets.iter_mut().enumerate() {
        let close = history.asset_index(&asset.id).map(|h| history.close(d, h));
        match (close, needed.get(&a)) {
            (Some(Some(price)), _) => {
                asset.spot = price;
                asset.source = format!("{name}, row {}", d + 1);
                repriced[a] = true;
            }
            (None, Some(why)) => {
                return Err(InputError::invalid(
                    Location::file(name).field(&asset.id),
                    format!(
                        "no column for asset `{}`, {why}: expected its closes",
                        asset.id
                    ),
                ))
            }
            (Some(None), Some(why)) => {
                return Err(InputError::invalid(
                    Location::file(name).row(d + 1).field(&asset.id),
                    format!(
                        "no price for `{}` on {date}, {why}: expected a close",
                        asset.id
                    ),
                ))
            }
            (_, None) => {}
        }
    }
    Ok(EndOfDay {
        date,
        market,
        source: name.to_string(),
        repriced,
    })
}

/// The next snapshot's vol surface on the book's asset indices; an
/// underlying it quotes nothing for keeps the book's quotes.
fn merged_surface(book: &Snapshot, next: &MarketData) -> VolSurface {
    let market = &book.market;
    let mut quotes = Vec::new();
    let mut quoted = vec![false; market.assets.len()];
    for mut q in next.vol_surface.quotes() {
        if let Some(a) = market.asset_index(&next.assets[q.underlying].id) {
            q.underlying = a;
            quoted[a] = true;
            quotes.push(q);
        }
    }
    quotes.extend(
        market
            .vol_surface
            .quotes()
            .into_iter()
            .filter(|q| !quoted[q.underlying]),
    );
    VolSurface::from_quotes(market.assets.len(), &quotes)
}

fn ids(market: &MarketData) -> String {
    let ids: Vec<&str> = market.assets.iter().map(|a| a.id.as_str()).collect();
    ids.join(", ")
}
