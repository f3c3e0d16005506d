//! `clearstress init`: the sample clearing house, or a larger synthetic one,
//! as editable files.

use std::path::PathBuf;

use clap::Args;

use super::args::{whole, ASSETS, MEMBERS, OPTIONS, OPTION_SERIES};
use super::CliError;
use crate::report;
use crate::sample::{self, OptionListing, SampleSpec};

#[derive(Debug, Args)]
pub struct InitArgs {
    /// Snapshot folder to write: new, empty, or an earlier unchanged `init`
    /// output.
    #[arg(long, value_name = "DIR")]
    pub out: PathBuf,
    /// Clearing members, 2..=100000.
    #[arg(long, default_value_t = SampleSpec::default().members, allow_negative_numbers = true, value_parser = whole::<usize>(MEMBERS))]
    pub members: usize,
    /// Assets, 2..=1000: the ten real ones first, then synthetic altcoins
    /// (which have no price history: keep 10 or fewer for `worst-window`,
    /// `run --fhs` and `procyclicality`).
    #[arg(long, default_value_t = SampleSpec::default().assets, allow_negative_numbers = true, value_parser = whole::<usize>(ASSETS))]
    pub assets: usize,
    /// Option positions across all members, 0..=100000.
    #[arg(long, default_value_t = SampleSpec::default().options, allow_negative_numbers = true, value_parser = whole::<usize>(OPTIONS))]
    pub options: usize,
    /// Option series listed, about (calls and puts, coin- and USDC-settled,
    /// on BTC and ETH at four expiries: the nearest whole number of strikes
    /// per expiry), 4..=20000; without it, 11 strikes per expiry (352 series).
    /// Deribit lists some 1,300.
    #[arg(long, allow_negative_numbers = true, value_parser = whole::<usize>(OPTION_SERIES))]
    pub option_series: Option<usize>,
    /// Seed of the generated book, any 64-bit unsigned number: the same seed
    /// writes the same files.
    #[arg(long, default_value_t = SampleSpec::default().seed)]
    pub seed: u64,
}

pub fn init(args: &InitArgs) -> Result<(), CliError> {
    let out = report::OutputDir::prepare(&args.out, report::OutputKind::Init)?;
    let spec = SampleSpec {
        members: args.members,
        assets: args.assets,
        options: args.options,
        listing: args
            .option_series
            .map_or(OptionListing::Standard, OptionListing::Series),
        seed: args.seed,
    };
    let files = sample::generate(&spec)?;
    // Validate before writing: what init writes, run accepts.
    let snapshot = files.load("init")?;
    let written = files.write(&out.path())?;
    let mut recorded = serde_json::json!({
        "members": args.members,
        "assets": args.assets,
        "options": args.options,
        "seed": args.seed,
    });
    if let Some(series) = args.option_series {
        recorded["option_series"] = series.into();
    }
    out.commit(report::object(recorded))?;
    println!(
        "{}: wrote {} files: {} members, {} assets, {} instruments, {} positions",
        args.out.display(),
        written.len(),
        snapshot.members.len(),
        snapshot.market.assets.len(),
        snapshot.instruments.len(),
        snapshot.positions.len()
    );
    Ok(())
}
