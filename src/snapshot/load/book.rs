//! The book's tables: members, instruments, positions and collateral, their
//! ids resolved through the shared [`IdIndex`] and each member's gross
//! notional and collateral value held within [`MAX_NOTIONAL_USD`].

use std::collections::HashMap;

use super::ids::IdIndex;
use super::{check_expiry, columns, empty_table_error, SnapshotTables};
use crate::input::bounds::{self, Number, MAX_NOTIONAL_USD};
use crate::input::{Date, InputError, Location, Row, Table};
use crate::snapshot::{
    AssetClass, CcpConfig, CollateralAsset, CollateralHolding, Instrument, InstrumentKind,
    MarketData, Member, OptionRight, Position, Settlement, DAYS_PER_YEAR,
};

/// The members, and the index through which positions and collateral name them.
pub(super) fn read_members(table: &Table) -> Result<(Vec<Member>, IdIndex<'_>), InputError> {
    table.require_columns(&columns::MEMBERS)?;
    let mut ids = IdIndex::new(table, "member_id", "member", "a member_id");
    let mut members = Vec::with_capacity(table.len());
    for row in table.rows() {
        let id = ids.add(&row)?;
        members.push(Member {
            id: id.to_string(),
            name: row.opt_str("name")?.unwrap_or_default().to_string(),
            group: row.opt_str("group")?.unwrap_or(id).to_string(),
            df_contribution: row.f64_in("df_contribution", &bounds::DF_CONTRIBUTION)?,
            capital: optional_amount(table, &row, "capital")?,
            liquid_resources: optional_amount(table, &row, "liquid_resources")?,
        });
    }
    if members.is_empty() {
        return Err(empty_table_error(table, "members"));
    }
    Ok((members, ids))
}

/// An optional column of USD amounts in [`bounds::CAPITAL`]: absent, or an
/// empty cell, states none.
fn optional_amount(table: &Table, row: &Row, column: &str) -> Result<Option<f64>, InputError> {
    if !table.has_column(column) {
        return Ok(None);
    }
    row.opt_f64(column)?
        .map(|_| row.f64_in(column, &bounds::CAPITAL))
        .transpose()
}

#[derive(Debug, Clone, Copy)]
enum Kind {
    Perpetual,
    Future,
    Option,
}

/// The instruments, and the index through which positions name them.
/// `assets` indexes `market`'s assets.
pub(super) fn read_instruments<'t>(
    tables: &'t SnapshotTables,
    assets: &IdIndex<'_>,
    market: &MarketData,
    valuation_date: Date,
) -> Result<(Vec<Instrument>, IdIndex<'t>), InputError> {
    let table = &tables.instruments;
    table.require_columns(&columns::INSTRUMENTS)?;
    let mut ids = IdIndex::new(table, "instrument_id", "instrument", "an instrument_id");
    let mut instruments = Vec::with_capacity(table.len());
    for row in table.rows() {
        let id = ids.add(&row)?;
        let kind = row.choice(
            "kind",
            &[
                ("perpetual", Kind::Perpetual),
                ("future", Kind::Future),
                ("option", Kind::Option),
            ],
        )?;
        let underlying_id = row.str("underlying")?;
        let underlying = assets.resolve(&row, "underlying")?;
        let settlement = row.choice(
            "settlement",
            &[
                ("linear", Settlement::Linear),
                ("inverse", Settlement::Inverse),
            ],
        )?;
        let stablecoin =
            settlement_stablecoin(table, &row, settlement, kind, underlying, assets, market)?;
        let contract_size = row.f64_in("contract_size", &bounds::CONTRACT_SIZE)?;
        let expiry = |what: &str| -> Result<Date, InputError> {
            let expiry = row.opt_date("expiry")?.ok_or_else(|| {
                row.error(
                    "expiry",
                    format!("expected an expiry date YYYY-MM-DD for {what}, found an empty field"),
                )
            })?;
            check_expiry(&row, expiry, valuation_date)
        };
        let kind = match kind {
            Kind::Perpetual => {
                row.require_empty("expiry", "a perpetual has no expiry")?;
                row.require_empty("strike", "only options have a strike")?;
                row.require_empty("option_type", "only options have an option type")?;
                InstrumentKind::Perpetual
            }
            Kind::Future => {
                let expiry = expiry("a future")?;
                row.require_empty("strike", "only options have a strike")?;
                row.require_empty("option_type", "only options have an option type")?;
                InstrumentKind::Future { expiry }
            }
            Kind::Option => {
                let expiry = expiry("an option")?;
                let strike = row.f64_in("strike", &bounds::PRICE)?;
                let right = row.choice(
                    "option_type",
                    &[("call", OptionRight::Call), ("put", OptionRight::Put)],
                )?;
                if !market.vol_surface.has_quotes(underlying) {
                    return Err(row.error(
                        "underlying",
                        format!(
                            "an option on `{underlying_id}` needs implied vols, but {} has no quotes for \
                             `{underlying_id}`",
                            tables.vol_surface.name()
                        ),
                    ));
                }
                InstrumentKind::Option {
                    expiry,
                    strike,
                    right,
                }
            }
        };
        instruments.push(Instrument {
            id: id.to_string(),
            underlying,
            settlement,
            contract_size,
            kind,
            stablecoin,
        });
    }
    Ok((instruments, ids))
}

/// The optional `settlement_asset` field: the stablecoin a linear future or
/// perpetual is margined in. Empty (or no such column) means USD for a
/// linear contract and the underlying coin for an inverse one; `USD`, or an
/// inverse contract's own coin, says the same.
fn settlement_stablecoin(
    table: &Table,
    row: &Row,
    settlement: Settlement,
    kind: Kind,
    underlying: usize,
    assets: &IdIndex<'_>,
    market: &MarketData,
) -> Result<Option<usize>, InputError> {
    const FIELD: &str = "settlement_asset";
    if !table.has_column(FIELD) {
        return Ok(None);
    }
    let Some(id) = row.opt_str(FIELD)? else {
        return Ok(None);
    };
    let coin = &market.assets[underlying].id;
    let a = if id == "USD" {
        None
    } else {
        Some(assets.resolve(row, FIELD)?)
    };
    match (settlement, a) {
        (Settlement::Linear, None) => Ok(None),
        (Settlement::Inverse, Some(a)) if a == underlying => Ok(None),
        (Settlement::Inverse, _) => Err(row.error(
            FIELD,
            format!("an inverse contract settles in its underlying `{coin}`: found `{id}`"),
        )),
        (Settlement::Linear, Some(a)) if market.assets[a].class != AssetClass::Stablecoin => {
            Err(row.error(
                FIELD,
                format!(
                    "a linear contract settles in USD or a stablecoin: `{id}` is not a stablecoin \
                     (its class in market/assets)"
                ),
            ))
        }
        (Settlement::Linear, Some(a)) if a == underlying => Err(row.error(
            FIELD,
            format!("a contract on `{coin}` cannot settle in `{coin}` itself: expected USD or another stablecoin"),
        )),
        (Settlement::Linear, Some(_)) if matches!(kind, Kind::Option) => Err(row.error(
            FIELD,
            format!(
                "an option settles in USD (`linear`) or its coin (`inverse`): a {id}-settled option is not \
                 supported (methodology 15)"
            ),
        )),
        (Settlement::Linear, stablecoin) => Ok(stablecoin),
    }
}

/// The USD notional of one contract: a bound on what it can lose or gain per unit
/// of relative price move. Spot, or the forward or strike where larger (a
/// forward at a negative basis is below spot, so the bound takes exp(|basis| T));
/// the USD face for inverse futures and perpetuals, whose USD value moves by at
/// most face x exp(|basis| T) per unit move.
fn contract_notional(instrument: &Instrument, market: &MarketData, valuation_date: Date) -> f64 {
    let asset = &market.assets[instrument.underlying];
    let growth = |expiry: Date| {
        let years = f64::from(valuation_date.days_until(expiry)) / DAYS_PER_YEAR;
        (asset.basis.abs() * years).exp()
    };
    let m = instrument.contract_size;
    match (instrument.settlement, instrument.kind) {
        (Settlement::Inverse, InstrumentKind::Perpetual) => m,
        (Settlement::Inverse, InstrumentKind::Future { expiry }) => m * growth(expiry),
        (Settlement::Linear, InstrumentKind::Perpetual) => m * asset.spot,
        (Settlement::Linear, InstrumentKind::Future { expiry }) => m * asset.spot * growth(expiry),
        (_, InstrumentKind::Option { expiry, strike, .. }) => {
            m * (asset.spot * growth(expiry)).max(strike)
        }
    }
}

/// Adds `amount` to `total` if the sum stays within [`MAX_NOTIONAL_USD`]; else
/// the error at `field` of `row` says whose `what` it was.
fn add_within_limit(
    row: &Row<'_>,
    field: &str,
    total: &mut f64,
    amount: f64,
    whose: &str,
    what: &str,
) -> Result<(), InputError> {
    let sum = *total + amount;
    if sum > MAX_NOTIONAL_USD {
        return Err(row.error(
            field,
            format!(
                "{whose} {what} reaches {} USD with this row ({} USD): expected at most {} USD",
                Number(sum),
                Number(amount),
                Number(MAX_NOTIONAL_USD)
            ),
        ));
    }
    *total = sum;
    Ok(())
}

/// The positions, each member's gross notional held within
/// [`MAX_NOTIONAL_USD`]. `member_ids` and `instrument_ids` index `members` and
/// `instruments`.
pub(super) fn read_positions(
    table: &Table,
    (members, member_ids): (&[Member], &IdIndex<'_>),
    (instruments, instrument_ids): (&[Instrument], &IdIndex<'_>),
    market: &MarketData,
    valuation_date: Date,
) -> Result<Vec<Position>, InputError> {
    table.require_columns(&columns::POSITIONS)?;
    let mut first_row: HashMap<(usize, usize), usize> = HashMap::new();
    let mut gross = vec![0.0; members.len()];
    let mut positions = Vec::with_capacity(table.len());
    for row in table.rows() {
        let member = member_ids.resolve(&row, "member_id")?;
        let instrument = instrument_ids.resolve(&row, "instrument_id")?;
        let quantity = row.f64_in("quantity", &bounds::QUANTITY)?;
        if let Some(first) = first_row.insert((member, instrument), row.number()) {
            return Err(row.error(
                "instrument_id",
                format!(
                    "duplicate position of member `{}` in `{}`: already on row {first}",
                    members[member].id, instruments[instrument].id
                ),
            ));
        }
        let per_contract = contract_notional(&instruments[instrument], market, valuation_date);
        let notional = quantity.abs() * per_contract;
        if notional > MAX_NOTIONAL_USD {
            return Err(row.error(
                "quantity",
                format!(
                    "expected a position notional of at most {} USD, found {} contracts of `{}` x {} USD \
                     = {} USD",
                    Number(MAX_NOTIONAL_USD),
                    Number(quantity),
                    instruments[instrument].id,
                    Number(per_contract),
                    Number(notional)
                ),
            ));
        }
        add_within_limit(
            &row,
            "quantity",
            &mut gross[member],
            notional,
            &format!("member `{}`'s", members[member].id),
            "gross notional",
        )?;
        positions.push(Position {
            member,
            instrument,
            quantity,
        });
    }
    if positions.is_empty() {
        return Err(InputError::invalid(
            Location::file(table.name()),
            "no positions: the book is empty, expected at least one position to stress",
        ));
    }
    Ok(positions)
}

/// The collateral, each member's holdings worth at most [`MAX_NOTIONAL_USD`];
/// every eligible asset posted must have a haircut in `config` (read from
/// `config_name`).
pub(super) fn read_collateral(
    table: &Table,
    (members, member_ids): (&[Member], &IdIndex<'_>),
    (market, asset_ids): (&MarketData, &IdIndex<'_>),
    config: &CcpConfig,
    config_name: &str,
) -> Result<Vec<CollateralHolding>, InputError> {
    table.require_columns(&columns::COLLATERAL)?;
    let mut first_row: HashMap<(usize, CollateralAsset), usize> = HashMap::new();
    let mut value = vec![0.0; members.len()];
    let mut holdings = Vec::with_capacity(table.len());
    for row in table.rows() {
        let member = member_ids.resolve(&row, "member_id")?;
        let id = row.str("asset")?;
        let asset = match id {
            "USD" => CollateralAsset::Usd,
            _ => CollateralAsset::Asset(asset_ids.get(id).ok_or_else(|| {
                row.error(
                    "asset",
                    format!(
                        "unknown collateral asset `{id}`: expected `USD` or {}",
                        asset_ids.expected()
                    ),
                )
            })?),
        };
        let rules = &config.collateral;
        if rules.is_eligible(id) && !rules.haircuts.contains_key(id) {
            return Err(row.error(
                "asset",
                format!(
                    "no haircut for `{id}`: expected `{id}` under [collateral.haircuts] in {config_name}, \
                     or an `eligible` list under [collateral] that leaves it out"
                ),
            ));
        }
        if let Some(first) = first_row.insert((member, asset), row.number()) {
            return Err(row.error(
                "asset",
                format!(
                    "duplicate collateral of member `{}` in `{id}`: already on row {first} (one row per member \
                     and asset)",
                    members[member].id
                ),
            ));
        }
        let amount = row.f64_in("amount", &bounds::COLLATERAL_AMOUNT)?;
        let price = match asset {
            CollateralAsset::Usd => 1.0,
            CollateralAsset::Asset(a) => market.assets[a].spot,
        };
        add_within_limit(
            &row,
            "amount",
            &mut value[member],
            amount * price,
            &format!("member `{}`'s", members[member].id),
            "collateral value",
        )?;
        holdings.push(CollateralHolding {
            member,
            asset,
            amount,
        });
    }
    Ok(holdings)
}
