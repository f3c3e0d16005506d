//! The generated test portfolios of EMIR RTS 153/2013 Art. 49 (methodology,
//! section 12b): simple positions and strategies, built from the snapshot's
//! own instruments and prices so that any book has them, backtested beside
//! (or instead of) the members' current positions.
//!
//! Every leg is sized to [`LEG_NOTIONAL_USD`] of notional at the snapshot's
//! spot ([`Instrument::usd_per_contract`]), so that portfolios on assets of
//! very different prices and contract sizes are comparable. The set:
//!
//! | strategy | id | legs |
//! |---|---|---|
//! | long, short | `test:long:I`, `test:short:I` | the asset's first term, long or short |
//! | calendar | `test:calendar:N/F` | long the nearer term N, short the next F |
//! | cross-asset | `test:cross_asset:A/B` | long A's first term, short B's |
//! | straddle | `test:straddle:C+P` | long a call and a put at the strike nearest spot |
//! | risk reversal | `test:risk_reversal:C/P` | long the nearest OTM call, short the nearest OTM put |
//! | short wing | `test:short_wing:O` | short the farthest OTM put, and the farthest OTM call |
//!
//! An asset's *terms* are its perpetuals and futures of one settlement, the
//! perpetual first, then futures by expiry; its *first term* is that of the
//! USD-margined (linear) terms, else of the coin-margined ones. Calendars pair
//! each two consecutive terms of one settlement. Cross-asset spreads pair each
//! two of the [`CROSS_ASSETS`] assets with the largest gross notional of the
//! members' positions (ties: the market's order), the larger long. Options
//! come from the asset's nearest expiry that outlives the MPOR, among the
//! series with an implied vol on the surface, USD-settled where it lists
//! any, else coin-settled; "OTM" is against the snapshot's spot. Where the
//! book lacks what a strategy needs, the strategy is skipped with the reason
//! ([`TestSet::skipped`]): no instrument is invented.

use super::day_loop::PortfolioKind;
use crate::input::Date;
use crate::snapshot::{
    Instrument, InstrumentKind, Member, OptionRight, Position, Settlement, Snapshot,
};

/// USD notional of every leg at the snapshot's spot.
pub const LEG_NOTIONAL_USD: f64 = 1_000_000.0;

/// The assets whose pairs make the cross-asset spreads (3 pairs at most).
pub const CROSS_ASSETS: usize = 3;

/// One position of a test portfolio.
#[derive(Debug, Clone, PartialEq)]
pub struct Leg {
    /// Index into the snapshot's instruments.
    pub instrument: usize,
    /// Its id.
    pub instrument_id: String,
    /// Contracts, negative short: `±LEG_NOTIONAL_USD / usd_per_contract`.
    pub quantity: f64,
}

/// Legs as (instrument, +1 long or -1 short), before sizing.
type Signed = Vec<(usize, f64)>;

/// One generated portfolio.
#[derive(Debug, Clone, PartialEq)]
pub struct TestPortfolio {
    /// `test:<strategy>:<legs>` (module docs).
    pub id: String,
    pub legs: Vec<Leg>,
}

impl TestPortfolio {
    /// A single position is a unit test, several legs a portfolio test (ESMA
    /// asks for both).
    pub fn kind(&self) -> PortfolioKind {
        if self.legs.len() == 1 {
            PortfolioKind::TestUnit
        } else {
            PortfolioKind::TestPortfolio
        }
    }
}

/// A strategy the book could not make, and why.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Skipped {
    /// `<strategy>:<asset>`, or `cross_asset` for the pairs.
    pub strategy: String,
    pub reason: String,
}

/// The generated portfolios of a snapshot, and what was skipped.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct TestSet {
    pub portfolios: Vec<TestPortfolio>,
    pub skipped: Vec<Skipped>,
}

impl TestSet {
    /// The set for `snapshot`'s instruments and market, options outliving
    /// `mpor_days` (module docs). Per asset in the market's order: long,
    /// short, calendars, straddle, risk reversal, short wings; then the
    /// cross-asset spreads.
    pub fn generate(snapshot: &Snapshot, mpor_days: u32) -> Self {
        let mut set = Self::default();
        let mut firsts = Vec::new();
        for (a, asset) in snapshot.market.assets.iter().enumerate() {
            let terms = [Settlement::Linear, Settlement::Inverse].map(|s| terms(snapshot, a, s));
            let Some(&first) = terms.iter().find_map(|t| t.first()) else {
                set.skip(
                    format!("long_short:{}", asset.id),
                    "the book lists no perpetual or future on it".into(),
                );
                set.options(snapshot, a, mpor_days);
                continue;
            };
            firsts.push((a, first));
            for (name, sign) in [("long", 1.0), ("short", -1.0)] {
                set.add(snapshot, format!("{name}:{{}}"), &[(first, sign)]);
            }
            let mut calendars = 0;
            for pair in terms.iter().flat_map(|t| t.windows(2)) {
                set.add(
                    snapshot,
                    "calendar:{}/{}".into(),
                    &[(pair[0], 1.0), (pair[1], -1.0)],
                );
                calendars += 1;
            }
            if calendars == 0 {
                set.skip(
                    format!("calendar:{}", asset.id),
                    format!(
                        "one term only in each settlement ({})",
                        snapshot.instruments[first].id
                    ),
                );
            }
            set.options(snapshot, a, mpor_days);
        }
        set.cross_asset(snapshot, firsts);
        set
    }

    /// `snapshot` with one synthetic member per portfolio after its own
    /// members (`with_members`) or instead of them: each in an affiliate group
    /// of its own (never summed with anyone), without collateral or
    /// default-fund contribution, holding the portfolio's legs. The engine
    /// sizes each member on its own book, so one run margins all of them.
    pub fn book(&self, snapshot: &Snapshot, with_members: bool) -> Snapshot {
        let mut s = snapshot.clone();
        if !with_members {
            s.members.clear();
            s.positions.clear();
            s.collateral.clear();
        }
        for p in &self.portfolios {
            let member = s.members.len();
            s.members.push(Member {
                id: p.id.clone(),
                name: p.id.clone(),
                group: p.id.clone(),
                df_contribution: 0.0,
                capital: None,
                liquid_resources: None,
            });
            s.positions.extend(p.legs.iter().map(|leg| Position {
                member,
                instrument: leg.instrument,
                quantity: leg.quantity,
            }));
        }
        s
    }

    /// Adds a portfolio of `legs` (instrument, +1 long or -1 short) sized to
    /// [`LEG_NOTIONAL_USD`] each, its id `test:` and `pattern` with each `{}`
    /// replaced by a leg's instrument id in turn.
    fn add(&mut self, snapshot: &Snapshot, pattern: String, legs: &[(usize, f64)]) {
        let mut id = format!("test:{pattern}");
        for &(i, _) in legs {
            id = id.replacen("{}", &snapshot.instruments[i].id, 1);
        }
        let legs = legs
            .iter()
            .map(|&(instrument, sign)| {
                let i = &snapshot.instruments[instrument];
                Leg {
                    instrument,
                    instrument_id: i.id.clone(),
                    quantity: sign * LEG_NOTIONAL_USD / i.usd_per_contract(&snapshot.market),
                }
            })
            .collect();
        self.portfolios.push(TestPortfolio { id, legs });
    }

    fn skip(&mut self, strategy: String, reason: String) {
        self.skipped.push(Skipped { strategy, reason });
    }

    /// Straddle, risk reversal and short wings on asset `a`'s options.
    fn options(&mut self, snapshot: &Snapshot, a: usize, mpor_days: u32) {
        let asset = &snapshot.market.assets[a];
        let series = option_series(snapshot, a, mpor_days);
        if series.is_empty() {
            self.skip(
                format!("options:{}", asset.id),
                format!(
                    "the book lists no option on it expiring after {} (the MPOR) with an \
                     implied vol on the surface",
                    snapshot.valuation_date.add_days(mpor_days as i32)
                ),
            );
            return;
        }
        let spot = asset.spot;
        let of = |right| {
            series
                .iter()
                .filter(move |o| o.right == right)
                .map(|o| (o.strike, o.instrument))
        };
        let pick = |right, above: bool, farthest: bool| {
            let otm = of(right).filter(|&(k, _)| if above { k > spot } else { k < spot });
            // Nearest OTM: the strike closest to spot; farthest: the other end.
            let key = |&(k, _): &(f64, usize)| if above == farthest { -k } else { k };
            otm.min_by(|x, y| key(x).total_cmp(&key(y))).map(|(_, i)| i)
        };
        let atm = of(OptionRight::Call)
            .filter_map(|(k, c)| {
                let put = of(OptionRight::Put).find(|&(kp, _)| kp == k)?.1;
                Some(((k / spot).ln().abs(), c, put))
            })
            .min_by(|x, y| x.0.total_cmp(&y.0));
        let strategies: [(&str, Option<Signed>, &str); 4] = [
            (
                "straddle:{}+{}",
                atm.map(|(_, c, p)| vec![(c, 1.0), (p, 1.0)]),
                "no strike lists both a call and a put",
            ),
            (
                "risk_reversal:{}/{}",
                pick(OptionRight::Call, true, false)
                    .zip(pick(OptionRight::Put, false, false))
                    .map(|(c, p)| vec![(c, 1.0), (p, -1.0)]),
                "it needs a call above spot and a put below",
            ),
            (
                "short_wing:{}",
                pick(OptionRight::Put, false, true).map(|p| vec![(p, -1.0)]),
                "no put below spot",
            ),
            (
                "short_wing:{}",
                pick(OptionRight::Call, true, true).map(|c| vec![(c, -1.0)]),
                "no call above spot",
            ),
        ];
        let expiry = series[0].expiry;
        for (pattern, legs, why) in strategies {
            match legs {
                Some(legs) => self.add(snapshot, pattern.into(), &legs),
                None => {
                    let name = pattern.split(':').next().unwrap_or(pattern);
                    self.skip(format!("{name}:{}", asset.id), format!("{why} at {expiry}"));
                }
            }
        }
    }

    /// Each pair of the [`CROSS_ASSETS`] assets with the largest members'
    /// gross notional, `firsts` being (asset, first term) per asset.
    fn cross_asset(&mut self, snapshot: &Snapshot, mut firsts: Vec<(usize, usize)>) {
        let mut notional = vec![0.0; snapshot.market.assets.len()];
        for p in &snapshot.positions {
            let i = &snapshot.instruments[p.instrument];
            notional[i.underlying] += (p.quantity * i.usd_per_contract(&snapshot.market)).abs();
        }
        // Stable: ties keep the market's order.
        firsts.sort_by(|x, y| notional[y.0].total_cmp(&notional[x.0]));
        firsts.truncate(CROSS_ASSETS);
        if firsts.len() < 2 {
            self.skip(
                "cross_asset".into(),
                "fewer than two assets have a perpetual or future".into(),
            );
        }
        for (k, &(_, long)) in firsts.iter().enumerate() {
            for &(_, short) in &firsts[k + 1..] {
                self.add(
                    snapshot,
                    "cross_asset:{}/{}".into(),
                    &[(long, 1.0), (short, -1.0)],
                );
            }
        }
    }
}

/// Asset `a`'s perpetuals and futures settled in `settlement`: perpetuals
/// first, then futures by expiry (ties: the snapshot's order).
fn terms(snapshot: &Snapshot, a: usize, settlement: Settlement) -> Vec<usize> {
    let mut out: Vec<(Option<Date>, usize)> = snapshot
        .instruments
        .iter()
        .enumerate()
        .filter(|(_, i)| i.underlying == a && i.settlement == settlement)
        .filter_map(|(k, i)| match i.kind {
            InstrumentKind::Perpetual => Some((None, k)),
            InstrumentKind::Future { expiry } => Some((Some(expiry), k)),
            InstrumentKind::Option { .. } => None,
        })
        .collect();
    out.sort();
    out.into_iter().map(|(_, k)| k).collect()
}

/// One option series of the expiry the strategies use.
struct OptionSeries {
    instrument: usize,
    expiry: Date,
    strike: f64,
    right: OptionRight,
}

/// Asset `a`'s options of one settlement (USD-settled where any qualify) at
/// its nearest expiry after the MPOR, with an implied vol on the surface.
fn option_series(snapshot: &Snapshot, a: usize, mpor_days: u32) -> Vec<OptionSeries> {
    let after = snapshot.valuation_date.add_days(mpor_days as i32);
    let of = |settlement| -> Vec<OptionSeries> {
        snapshot
            .instruments
            .iter()
            .enumerate()
            .filter(|(_, i)| i.underlying == a && i.settlement == settlement)
            .filter_map(|(k, i): (usize, &Instrument)| match i.kind {
                InstrumentKind::Option {
                    expiry,
                    strike,
                    right,
                } if expiry > after
                    && snapshot
                        .market
                        .vol_surface
                        .vol(a, strike, expiry, snapshot.valuation_date)
                        .is_some() =>
                {
                    Some(OptionSeries {
                        instrument: k,
                        expiry,
                        strike,
                        right,
                    })
                }
                _ => None,
            })
            .collect()
    };
    let mut series = of(Settlement::Linear);
    if series.is_empty() {
        series = of(Settlement::Inverse);
    }
    let Some(nearest) = series.iter().map(|o| o.expiry).min() else {
        return series;
    };
    series.retain(|o| o.expiry == nearest);
    series
}
