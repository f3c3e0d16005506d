//! The clearing day: every position marked to market from the book's date to
//! the end-of-day prices, the variation margin (VM) each member pays or
//! receives, netted per member and settlement asset into one payment with the
//! CCP, and the margin call once initial margin is sized again at the new
//! prices (docs/methodology.md, section 17).
//!
//! VM is signed from the member's side: positive, the member receives it;
//! negative, it pays. On a matched book (every long facing a short) the VM of
//! each instrument sums to zero over the members, so the CCP pays out exactly
//! what it collects in every settlement asset.

mod calls;
mod marks;
mod prices;
mod replay;

pub use calls::{margin_calls, moved_book, CallAsset, MarginCall, MarginCalls};
pub use marks::{funding, funding_periods, mark, SettlementAsset};
pub use prices::{read_end_of_day, EndOfDay};
pub use replay::{replay_im_calls, replay_vm, Replay, ReplayDay};

use crate::book::BookError;
use crate::engine::RunError;
use crate::input::{Date, InputError};
use crate::snapshot::Snapshot;

#[derive(Debug, thiserror::Error)]
pub enum SettlementError {
    #[error(transparent)]
    Input(#[from] InputError),
    #[error(transparent)]
    Book(#[from] BookError),
    #[error(transparent)]
    Run(#[from] RunError),
    #[error("the prices are for {end}, before the book's valuation date {start}: expected a date on or after it")]
    EndBeforeStart { start: Date, end: Date },
}

/// One position's variation margin, in its settlement asset.
#[derive(Debug, Clone, PartialEq)]
pub struct PositionVm {
    /// Index into the book's members and instruments.
    pub member: usize,
    pub instrument: usize,
    pub asset: SettlementAsset,
    /// Contracts (negative: short).
    pub quantity: f64,
    /// One contract's mark at the start and at the end ([`mark`]).
    pub mark_start: f64,
    pub mark_end: f64,
    /// quantity x (mark_end - mark_start).
    pub price_change: f64,
    /// Funding credited over the period (negative: paid; [`funding`]).
    pub funding: f64,
    /// price_change + funding: positive, the member receives it.
    pub vm: f64,
    /// `vm` at the end price of the settlement asset, USD.
    pub vm_usd: f64,
}

/// One member's obligations in one settlement asset: gross, position by
/// position, and net, the one payment.
#[derive(Debug, Clone, PartialEq)]
pub struct MemberNet {
    pub member: usize,
    pub asset: SettlementAsset,
    pub positions: usize,
    /// Sum of |VM| over the member's positions settling in the asset.
    pub gross: f64,
    /// Sum of VM: positive, the CCP pays the member; negative, the member pays.
    pub net: f64,
    /// `net` at the asset's end price, USD.
    pub net_usd: f64,
}

/// Who pays one net amount: the CCP is the counterparty of every member.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Direction {
    MemberPays,
    MemberReceives,
}

impl Direction {
    pub fn name(self) -> &'static str {
        match self {
            Self::MemberPays => "pays",
            Self::MemberReceives => "receives",
        }
    }
}

/// One payment between a member and the CCP.
#[derive(Debug, Clone, PartialEq)]
pub struct Payment {
    pub member: usize,
    pub asset: SettlementAsset,
    pub direction: Direction,
    /// Units of the asset, positive.
    pub amount: f64,
    pub amount_usd: f64,
}

/// Gross against net obligations in one settlement asset (or, in USD, all).
#[derive(Debug, Clone, PartialEq)]
pub struct Netting {
    /// Sum over members and positions of |VM|.
    pub gross: f64,
    /// Sum over members of |net|: what is paid.
    pub net: f64,
    /// Sum over members of VM: zero on a matched book; otherwise what the
    /// CCP pays (positive) or keeps from its own account.
    pub imbalance: f64,
    /// 1 - net / gross; `None` when nothing is owed.
    pub efficiency: Option<f64>,
}

impl Netting {
    fn of(values: impl Iterator<Item = (f64, f64)>) -> Self {
        let (mut gross, mut net, mut imbalance) = (0.0, 0.0, 0.0);
        for (g, n) in values {
            gross += g;
            net += n.abs();
            imbalance += n;
        }
        Self {
            gross,
            net,
            imbalance,
            efficiency: (gross > 0.0).then(|| 1.0 - net / gross),
        }
    }
}

/// The settlement of one period.
#[derive(Debug, Clone, PartialEq)]
pub struct DaySettlement {
    /// The book's valuation date and the prices' date.
    pub start: Date,
    pub end: Date,
    pub days: u32,
    /// 8-hour funding periods from start to end.
    pub funding_periods: f64,
    /// In the book's position order.
    pub positions: Vec<PositionVm>,
    /// By member, then settlement asset (USD first, then coins in market order).
    pub nets: Vec<MemberNet>,
    /// The nets that move money, in the same order.
    pub payments: Vec<Payment>,
    /// Per settlement asset, in units of it.
    pub by_asset: Vec<(SettlementAsset, Netting)>,
    /// All assets together, USD at the end prices.
    pub total_usd: Netting,
}

impl DaySettlement {
    /// USD members pay the CCP: the sum of their payments, all assets.
    pub fn members_pay_usd(&self) -> f64 {
        self.payments_usd(Direction::MemberPays)
    }

    /// USD the CCP pays members.
    pub fn members_receive_usd(&self) -> f64 {
        self.payments_usd(Direction::MemberReceives)
    }

    fn payments_usd(&self, direction: Direction) -> f64 {
        self.payments
            .iter()
            .filter(|p| p.direction == direction)
            .map(|p| p.amount_usd)
            .sum()
    }
}

/// Marks every position of `book` from its valuation date to `end` and nets
/// the variation margin per member and settlement asset.
pub fn settle(book: &Snapshot, end: &EndOfDay) -> Result<DaySettlement, SettlementError> {
    let start = book.valuation_date;
    if end.date < start {
        return Err(SettlementError::EndBeforeStart {
            start,
            end: end.date,
        });
    }
    let days = start.days_until(end.date) as u32;
    let periods = funding_periods(days);
    let mut positions = Vec::with_capacity(book.positions.len());
    for p in &book.positions {
        let instrument = &book.instruments[p.instrument];
        let asset = SettlementAsset::of(instrument);
        let mark_start = mark(instrument, &book.market, start)?;
        let mark_end = mark(instrument, &end.market, end.date)?;
        let price_change = p.quantity * (mark_end - mark_start);
        let funding = funding(instrument, p.quantity, &book.market, periods);
        let vm = price_change + funding;
        positions.push(PositionVm {
            member: p.member,
            instrument: p.instrument,
            asset,
            quantity: p.quantity,
            mark_start,
            mark_end,
            price_change,
            funding,
            vm,
            vm_usd: vm * asset.usd_price(&end.market),
        });
    }
    let nets = net(&positions, &end.market);
    let payments = nets
        .iter()
        .filter(|n| n.net != 0.0)
        .map(|n| Payment {
            member: n.member,
            asset: n.asset,
            direction: if n.net < 0.0 {
                Direction::MemberPays
            } else {
                Direction::MemberReceives
            },
            amount: n.net.abs(),
            amount_usd: n.net_usd.abs(),
        })
        .collect();
    let mut assets: Vec<SettlementAsset> = nets.iter().map(|n| n.asset).collect();
    assets.sort();
    assets.dedup();
    let by_asset = assets
        .into_iter()
        .map(|a| {
            let of_asset = nets.iter().filter(|n| n.asset == a);
            (a, Netting::of(of_asset.map(|n| (n.gross, n.net))))
        })
        .collect();
    let total_usd = Netting::of(nets.iter().map(|n| {
        let price = n.asset.usd_price(&end.market);
        (n.gross * price, n.net_usd)
    }));
    Ok(DaySettlement {
        start,
        end: end.date,
        days,
        funding_periods: periods,
        positions,
        nets,
        payments,
        by_asset,
        total_usd,
    })
}

/// The multilateral net of each member in each settlement asset.
fn net(positions: &[PositionVm], end: &crate::snapshot::MarketData) -> Vec<MemberNet> {
    let mut keyed: Vec<(usize, SettlementAsset, f64)> = positions
        .iter()
        .map(|p| (p.member, p.asset, p.vm))
        .collect();
    // Stable: within a (member, asset) the book's position order is kept, so
    // the sums are the same whatever the platform.
    keyed.sort_by_key(|a| (a.0, a.1));
    let mut nets: Vec<MemberNet> = Vec::new();
    for (member, asset, vm) in keyed {
        match nets.last_mut() {
            Some(n) if n.member == member && n.asset == asset => {
                n.positions += 1;
                n.gross += vm.abs();
                n.net += vm;
            }
            _ => nets.push(MemberNet {
                member,
                asset,
                positions: 1,
                gross: vm.abs(),
                net: vm,
                net_usd: 0.0,
            }),
        }
    }
    for n in &mut nets {
        n.net_usd = n.net * n.asset.usd_price(end);
    }
    nets
}
