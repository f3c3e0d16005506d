//! `clearstress validate`: load a snapshot folder and say what it holds.

use std::path::PathBuf;

use clap::Args;

use super::args::load_book;
use super::CliError;
use crate::report::plural;
use crate::snapshot;

#[derive(Debug, Args)]
pub struct ValidateArgs {
    /// Snapshot folder to check.
    #[arg(long, value_name = "DIR")]
    pub book: PathBuf,
}

pub fn validate(args: &ValidateArgs) -> Result<(), CliError> {
    let snapshot = load_book(&args.book)?;
    println!(
        "{}: valid snapshot: {}, {}, {}, {}, {}, {}",
        args.book.display(),
        plural(snapshot.members.len(), "member", "members"),
        plural(snapshot.instruments.len(), "instrument", "instruments"),
        plural(snapshot.positions.len(), "position", "positions"),
        plural(
            snapshot.collateral.len(),
            "collateral holding",
            "collateral holdings"
        ),
        plural(snapshot.market.assets.len(), "asset", "assets"),
        plural(snapshot.stress.len(), "stress scenario", "stress scenarios"),
    );
    let oi = snapshot::net_open_interest(&snapshot);
    match oi.largest() {
        None => println!(
            "net open interest: 0 on all {} instruments",
            snapshot.instruments.len()
        ),
        Some((i, net)) => println!(
            "warning: net open interest is not zero on {} of {} instruments (a matched book has \
             every long facing a short); largest: {} at {net} contracts",
            oi.unbalanced(),
            snapshot.instruments.len(),
            snapshot.instruments[i].id
        ),
    }
    Ok(())
}
