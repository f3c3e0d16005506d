//! Margin calls after the day's move (docs/methodology.md, 17.4): each
//! member's variation margin to pay, plus its initial-margin shortfall when
//! the engine sizes initial margin again on the book moved to the end of the
//! day, and which of its posted holdings would meet the call on its own.

use super::{DaySettlement, Direction, EndOfDay, SettlementError};
use crate::backend::Backend;
use crate::book::collateral;
use crate::engine::Runner;
use crate::input::Date;
use crate::snapshot::{InstrumentKind, Snapshot, VolSurface};

/// One member's call, USD.
#[derive(Debug, Clone, PartialEq)]
pub struct MarginCall {
    pub member: usize,
    /// What the member's payments to the CCP are worth, all settlement assets.
    pub vm_pays: f64,
    /// What the CCP's payments to the member are worth (not set against
    /// `vm_pays`: each asset settles on its own).
    pub vm_receives: f64,
    /// Initial margin sized on the moved book.
    pub initial_margin: f64,
    /// Posted collateral after haircuts and the eligibility rules at the
    /// end prices.
    pub collateral: f64,
    /// max(initial_margin - collateral, 0).
    pub im_shortfall: f64,
    /// vm_pays + im_shortfall.
    pub call: f64,
}

/// One posted holding against its member's call.
#[derive(Debug, Clone, PartialEq)]
pub struct CallAsset {
    pub member: usize,
    /// The asset's id (`USD` for cash).
    pub asset: String,
    pub amount: f64,
    /// At the end prices, USD.
    pub market_value: f64,
    /// `None`: an ineligible asset without a haircut.
    pub haircut: Option<f64>,
    pub after_haircut: f64,
    /// What counts after the eligibility rules (methodology 17.6).
    pub counted: f64,
    /// The member has a call and this holding alone, as it counts, meets it.
    pub covers_call: bool,
}

#[derive(Debug, Clone, PartialEq)]
pub struct MarginCalls {
    /// Scenarios of the margin run on the moved book.
    pub paths: u64,
    /// One per member, in member order.
    pub calls: Vec<MarginCall>,
    /// One per posted holding, in the book's collateral order.
    pub assets: Vec<CallAsset>,
}

impl MarginCalls {
    /// Sum of every member's call, USD.
    pub fn total(&self) -> f64 {
        self.calls.iter().map(|c| c.call).sum()
    }

    /// Sum of the initial-margin shortfalls, USD: the aggregate IM call.
    pub fn total_im_shortfall(&self) -> f64 {
        self.calls.iter().map(|c| c.im_shortfall).sum()
    }
}

/// The book as it stands at the end of the day: the end market, dated the
/// end date, without the contracts that expired before it (and their
/// positions) or the vol quotes of expiries before it.
pub fn moved_book(book: &Snapshot, end: &EndOfDay) -> Snapshot {
    let expired = |expiry: Date| expiry < end.date;
    let mut moved = book.clone();
    moved.valuation_date = end.date;
    moved.config.valuation_date = end.date.to_string();
    moved.market = end.market.clone();
    let quotes: Vec<_> = end
        .market
        .vol_surface
        .quotes()
        .into_iter()
        .filter(|q| !expired(q.expiry))
        .collect();
    moved.market.vol_surface = VolSurface::from_quotes(moved.market.assets.len(), &quotes);
    let mut new_index = vec![None; book.instruments.len()];
    moved.instruments.clear();
    for (i, instrument) in book.instruments.iter().enumerate() {
        let gone = match instrument.kind {
            InstrumentKind::Perpetual => false,
            InstrumentKind::Future { expiry } | InstrumentKind::Option { expiry, .. } => {
                expired(expiry)
            }
        };
        if !gone {
            new_index[i] = Some(moved.instruments.len());
            moved.instruments.push(instrument.clone());
        }
    }
    moved.positions = book
        .positions
        .iter()
        .filter_map(|p| {
            let instrument = new_index[p.instrument]?;
            Some(crate::snapshot::Position { instrument, ..*p })
        })
        .collect();
    moved
}

/// Each member's margin call: `day`'s variation margin to pay plus the
/// initial-margin shortfall of a margin run on [`moved_book`].
pub fn margin_calls<B: Backend>(
    runner: &Runner<'_, B>,
    book: &Snapshot,
    end: &EndOfDay,
    day: &DaySettlement,
) -> Result<MarginCalls, SettlementError> {
    let moved = moved_book(book, end);
    let run = runner.run(&moved)?;
    let mut calls: Vec<MarginCall> = run
        .margin
        .members
        .iter()
        .enumerate()
        .map(|(member, m)| {
            let im_shortfall = (m.initial_margin - m.collateral).max(0.0);
            MarginCall {
                member,
                vm_pays: 0.0,
                vm_receives: 0.0,
                initial_margin: m.initial_margin,
                collateral: m.collateral,
                im_shortfall,
                call: im_shortfall,
            }
        })
        .collect();
    for p in &day.payments {
        let c = &mut calls[p.member];
        match p.direction {
            Direction::MemberPays => {
                c.vm_pays += p.amount_usd;
                c.call += p.amount_usd;
            }
            Direction::MemberReceives => c.vm_receives += p.amount_usd,
        }
    }
    let mut assets = Vec::with_capacity(moved.collateral.len());
    let counted = collateral::counted(&moved)?;
    for (holding, valued) in moved.collateral.iter().zip(&counted.holdings) {
        let call = calls[holding.member].call;
        assets.push(CallAsset {
            member: holding.member,
            asset: collateral::asset_id(&moved, holding).to_string(),
            amount: holding.amount,
            market_value: valued.market_value,
            haircut: valued.haircut,
            after_haircut: valued.after_haircut(),
            counted: valued.counted,
            covers_call: call > 0.0 && valued.counted >= call,
        });
    }
    Ok(MarginCalls {
        paths: moved.config.scenario.paths,
        calls,
        assets,
    })
}
