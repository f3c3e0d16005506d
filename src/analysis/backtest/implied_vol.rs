//! Options' implied vols in the backtest's realised move (methodology, 12b):
//! moved by the history's implied-vol index where one is given, held
//! otherwise.
//!
//! From the close of t to the close of t + MPOR, every implied vol of an
//! underlying `a` with an index column is multiplied by
//! `index_a(t + MPOR) / index_a(t)`: the engine's vol factor (the vol shock
//! `index ratio - 1` of a stress scenario, `stress_block`), which scales the
//! whole surface of `a` proportionally, each option read at its own strike
//! (methodology 4.4 and 6.1). Underlyings without a column keep their vols.

use super::Gap;
use crate::analysis::AnalysisError;
use crate::history::implied_vol::ImpliedVolIndex;
use crate::input::Date;
use crate::snapshot::{MarketData, StressScenario};

/// Which option underlyings had their vols moved by the index, and which
/// kept them.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ImpliedVols {
    /// Asset ids whose vols moved with the index, in market order.
    pub moved: Vec<String>,
    /// Option underlyings without an index column (all of them without an
    /// index): their vols are held.
    pub held: Vec<String>,
}

/// The index columns of a book's option underlyings.
pub(super) struct VolMoves<'a> {
    index: Option<&'a ImpliedVolIndex>,
    /// (market asset, index column).
    columns: Vec<(usize, usize)>,
    ids: Vec<String>,
    pub(super) report: ImpliedVols,
}

impl<'a> VolMoves<'a> {
    /// `vol_assets`: the market assets the book's options depend on. Every
    /// column of `index` must be an asset of `market`: a column that is not
    /// (a header such as `btc_dvol`) would otherwise move nothing, silently.
    pub(super) fn new(
        index: Option<&'a ImpliedVolIndex>,
        market: &MarketData,
        vol_assets: &[usize],
    ) -> Result<Self, AnalysisError> {
        let ids: Vec<String> = market.assets.iter().map(|a| a.id.clone()).collect();
        if let Some(index) = index {
            if let Some(column) = index.assets().iter().find(|c| !ids.contains(c)) {
                return Err(AnalysisError::ImpliedVolColumn {
                    file: index.source().to_string(),
                    column: column.clone(),
                    assets: ids.join(", "),
                });
            }
        }
        let mut columns = Vec::new();
        let mut report = ImpliedVols::default();
        for &a in vol_assets {
            match index.and_then(|i| i.assets().iter().position(|c| *c == ids[a])) {
                Some(c) => {
                    columns.push((a, c));
                    report.moved.push(ids[a].clone());
                }
                None => report.held.push(ids[a].clone()),
            }
        }
        Ok(Self {
            index,
            columns,
            ids,
            report,
        })
    }

    /// Sets `scenario`'s vol shocks to the index's move from `date` to `end`,
    /// or says why the day is a gap: a level missing at either end for an
    /// underlying with a column (never bridged to a neighbouring level).
    pub(super) fn apply(
        &self,
        date: Date,
        end: Date,
        scenario: &mut StressScenario,
    ) -> Result<(), Gap> {
        let Some(index) = self.index else {
            return Ok(());
        };
        for &(a, c) in &self.columns {
            let level = |at: Date| {
                index.level(at, c).ok_or_else(|| Gap {
                    date,
                    reason: format!(
                        "no implied-vol index level for {} on {at} in {}",
                        self.ids[a],
                        index.source()
                    ),
                })
            };
            let start = level(date)?;
            scenario.vol_shocks[a] = level(end)? / start - 1.0;
        }
        Ok(())
    }
}
